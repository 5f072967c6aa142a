#include "api/volume_api.h"

#include <stdio.h>
#include <string.h>

#include "api/args.h"
#include "api/reply.h"
#include "api/route.h"
#include "dicom/display_order.h"
#include "dicom/volume_check.h"
#include "dicom/volume_tags.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/orthanc_rest.h"
#include "util/str.h"

#define ERR_SIZE 256

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

static json_object *vec(const double *v, size_t n, int *jerr)
{
  json_object *a = json_object_new_array();
  size_t i;

  for (i = 0; i < n; i++)
    rr_json_append(a, json_object_new_double(v[i]), jerr);
  return a;
}

static json_object *tilt_json(const rr_vol_result *r)
{
  int jerr = 0;
  const rr_vol_tilt *t = &r->tilt;
  json_object *o = json_object_new_object(), *c;

  rr_json_set(o, "degrees",
              json_object_new_double(t->tilted ? t->from_positions : t->has_tag ? t->from_tag : 0.0), &jerr);
  rr_json_set_opt(o, "fromTag", t->has_tag, json_object_new_double(t->from_tag), &jerr);
  /* without a common geometry the positions say nothing */
  rr_json_set_opt(o, "fromPositions", r->has_geometry, json_object_new_double(t->from_positions), &jerr);
  rr_json_set(o, "tilted", json_object_new_boolean(t->tilted), &jerr);
  rr_json_set_opt(o, "uniform", r->has_geometry, json_object_new_boolean(t->uniform), &jerr);
  rr_json_set(o, "correctable", json_object_new_boolean(t->correctable), &jerr);
  if (t->correctable) {
    c = json_object_new_object();
    rr_json_set(c, "columnsPerSlice", json_object_new_double(t->shift_columns), &jerr);
    rr_json_set(c, "rowsPerSlice", json_object_new_double(t->shift_rows), &jerr);
    rr_json_set(c, "columnsOffset", json_object_new_double(t->offset_columns), &jerr);
    rr_json_set(c, "rowsOffset", json_object_new_double(t->offset_rows), &jerr);
    rr_json_set(c, "mmAlongRowsPerSlice", json_object_new_double(t->step_row_mm), &jerr);
    rr_json_set(c, "mmAlongColumnsPerSlice", json_object_new_double(t->step_column_mm), &jerr);
    rr_json_set(o, "correction", c, &jerr);
  } else {
    rr_json_set_null(o, "correction", &jerr);
  }
  return rr_json_done(o, jerr);
}

static json_object *planes_json(const rr_vol_result *r)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *p, *l;
  size_t i;

  for (i = 0; i < 3; i++) {
    const rr_vol_view *v = &r->views[i];
    p = json_object_new_object();
    l = json_object_new_object();
    rr_json_set_str(p, "axis", v->axis, &jerr);
    rr_json_set(p, "right", vec(v->right, 3, &jerr), &jerr);
    rr_json_set(p, "down", vec(v->down, 3, &jerr), &jerr);
    rr_json_set(p, "obliqueDegrees", json_object_new_double(v->oblique_degrees), &jerr);
    rr_json_set_str(l, "left", v->label_left, &jerr);
    rr_json_set_str(l, "right", v->label_right, &jerr);
    rr_json_set_str(l, "top", v->label_top, &jerr);
    rr_json_set_str(l, "bottom", v->label_bottom, &jerr);
    rr_json_set(p, "labels", l, &jerr);
    rr_json_set(o, v->name, p, &jerr);
  }
  return rr_json_done(o, jerr);
}

static json_object *geometry_json(const rr_vol_result *r)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *d = json_object_new_array();
  size_t i;

  rr_json_set(o, "origin", vec(r->origin, 3, &jerr), &jerr);
  rr_json_set(o, "rowCosines", vec(r->row, 3, &jerr), &jerr);
  rr_json_set(o, "columnCosines", vec(r->column, 3, &jerr), &jerr);
  rr_json_set(o, "normal", vec(r->normal, 3, &jerr), &jerr);
  rr_json_set(o, "spacing", vec(r->spacing, 3, &jerr), &jerr);
  for (i = 0; i < 3; i++)
    rr_json_append(d, json_object_new_int64(r->dimensions[i]), &jerr);
  rr_json_set(o, "dimensions", d, &jerr);
  return rr_json_done(o, jerr);
}

static json_object *result_json(const rr_vol_result *r, const rr_vol_slice *s, const char *study, const char *series)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *reasons = json_object_new_array(), *slices, *b, *it;
  size_t i;

  rr_json_set_str(o, "studyInstanceUid", study, &jerr);
  rr_json_set_str(o, "seriesInstanceUid", series, &jerr);
  rr_json_set(o, "reconstructable", json_object_new_boolean(r->reconstructable), &jerr);
  for (i = 0; i < r->reason_count; i++)
    rr_json_append(reasons, json_object_new_string(r->reasons[i]), &jerr);
  rr_json_set(o, "reasons", reasons, &jerr);
  rr_json_set_opt(o, "plane", r->has_geometry, rr_json_string(r->plane), &jerr);
  rr_json_set_opt(o, "nearestPlane", r->has_geometry, rr_json_string(r->nearest_plane), &jerr);
  rr_json_set_opt(o, "obliqueDegrees", r->has_geometry, json_object_new_double(r->oblique_degrees), &jerr);
  rr_json_set(o, "tilt", tilt_json(r), &jerr);
  rr_json_set_opt(o, "geometry", r->has_geometry, r->has_geometry ? geometry_json(r) : NULL, &jerr);
  if (r->has_geometry) {
    b = json_object_new_object();
    rr_json_set(b, "int16", json_object_new_int64((int64_t)r->bytes_int16), &jerr);
    rr_json_set(b, "float32", json_object_new_int64((int64_t)r->bytes_float32), &jerr);
    rr_json_set(o, "bytes", b, &jerr);
  } else {
    rr_json_set_null(o, "bytes", &jerr);
  }
  rr_json_set_opt(o, "planes", r->has_geometry, r->has_geometry ? planes_json(r) : NULL, &jerr);
  slices = json_object_new_array_ext((int)r->order_count);
  for (i = 0; i < r->order_count; i++) {
    it = json_object_new_object();
    rr_json_set_str(it, "instanceId", s[r->order[i]].instance_id, &jerr);
    rr_json_set(it, "frame", json_object_new_int64(s[r->order[i]].frame), &jerr);
    rr_json_append(slices, it, &jerr);
  }
  rr_json_set(o, "slices", slices, &jerr);
  return rr_json_done(o, jerr);
}

/* The series' slices: its instances as the store lists them (display
 * order), each read from Orthanc's tags of the whole series. 0, or the
 * failure (answered). */
static int read_slices(rr_vol_slice_list *list, OrthancPluginRestOutput *out, rr_series_detail *sd)
{
  rr_rest_source src = rr_rest_source_orthanc(ctx);
  json_object *all = NULL, *tags;
  char err[ERR_SIZE] = "", uri[RR_OID_SIZE + 48];
  size_t i;
  int rc;

  snprintf(uri, sizeof(uri), "/series/%s/instances-tags?short", sd->series.orthanc_id);
  if ((rc = src.get_json(src.ctx, &all, uri, err, sizeof(err))) < 0) {
    if (rc == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "the series is no longer in Orthanc");
    else
      rr_reply_failure(ctx, out, RR_EUPSTREAM, "reading the series' tags from Orthanc", err);
    return rc;
  }
  rr_dicom_display_order(sd->instances, sd->instance_count);
  for (i = 0; i < sd->instance_count && rc == 0; i++)
    if (json_object_object_get_ex(all, sd->instances[i].orthanc_id, &tags))
      rc = rr_vol_tags_read(list, sd->instances[i].orthanc_id, tags, err, sizeof(err));
  json_object_put(all);
  if (rc < 0)
    rr_reply_failure(ctx, out, rc == RR_EINVAL ? RR_EUNSUPPORTED : rc, "reading the series' slices", err);
  else if (list->count == 0) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "the series has no instances in Orthanc");
    rc = RR_ENOTFOUND;
  }
  return rc;
}

static OrthancPluginErrorCode on_volume(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_study_detail *d = NULL;
  rr_series_detail *sd = NULL;
  rr_vol_slice_list list = {0};
  rr_vol_result *r = NULL;
  json_object *o;
  char err[ERR_SIZE] = "";
  size_t i;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (req->groupsCount < 2 || !rr_args_study_uid_ok(req->groups[0]) || !rr_args_study_uid_ok(req->groups[1])) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "a StudyInstanceUID and a SeriesInstanceUID are expected (at most 64 characters: digits and dots)");
    return OrthancPluginErrorCode_Success;
  }
  if ((rc = rr_store_get_study(deps->store, &d, req->groups[0], err, sizeof(err))) < 0) {
    if (rc == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study");
    else
      rr_reply_failure(ctx, out, rc, "store", err);
    return OrthancPluginErrorCode_Success;
  }
  for (i = 0; i < d->series_count && sd == NULL; i++)
    if (strcmp(d->series[i].series.series_uid, req->groups[1]) == 0)
      sd = &d->series[i];
  if (sd == NULL || sd->instance_count == 0) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such series in this study");
    goto out;
  }
  if (read_slices(&list, out, sd) < 0)
    goto out;
  if ((rc = rr_vol_check(&r, list.items, list.count)) < 0) {
    rr_reply_failure(ctx, out, rc, "checking the volume", "out of memory");
    goto out;
  }
  o = result_json(r, list.items, req->groups[0], req->groups[1]);
  rr_reply_json(ctx, out, 200, o);
  json_object_put(o);
out:
  rr_vol_result_free(r);
  rr_vol_slice_list_dispose(&list);
  rr_study_detail_free(d);
  return OrthancPluginErrorCode_Success;
}

int rr_volume_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[512];

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/series/([^/]+)/volume", root);
  return rr_api_route(context, regex, on_volume);
}
