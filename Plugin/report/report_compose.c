#include "report/report_compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/orthanc_frame.h"
#include "store/store_ai.h"
#include "store/store_annotations.h"
#include "store/store_identity.h"
#include "store/store_index.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/orthanc_rest.h"
#include "util/str.h"

#define KEY_IMAGE_SIDE 512
#define KEY_IMAGE_PNG_MAX (16u * 1024u * 1024u)

struct rr_report_composer {
  rr_store *store;
  rr_templates *templates;
  OrthancPluginContext *ctx;
  rr_rest_source rest;
  char institution[RR_LO_SIZE];
};

int rr_report_composer_new(rr_report_composer **out, rr_store *store, rr_templates *templates,
                           OrthancPluginContext *ctx, const char *institution)
{
  rr_report_composer *c;

  *out = NULL;
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return RR_ENOMEM;
  c->store = store;
  c->templates = templates;
  c->ctx = ctx;
  if (ctx != NULL)
    c->rest = rr_rest_source_orthanc(ctx);
  rr_str_copy(c->institution, sizeof(c->institution), institution ? institution : "");
  *out = c;
  return 0;
}

void rr_report_composer_free(rr_report_composer *c)
{
  free(c);
}

static int set(char **slot, const char *s)
{
  return rr_report_doc_set(slot, s ? s : "", s ? strlen(s) : 0);
}

void rr_report_compose_display_name(char *out, size_t size, rr_report_composer *c, const char *username)
{
  rr_user_rec u;

  out[0] = '\0';
  if (username == NULL || username[0] == '\0')
    return;
  if (rr_store_user_get(c->store, &u, username, NULL, 0) == 0) {
    rr_str_copy(out, size, u.display_name[0] ? u.display_name : username);
    memset(&u, 0, sizeof(u));
  } else {
    rr_str_copy(out, size, username);
  }
}

static void date_of(char out[11], int64_t unix_s)
{
  time_t t = (time_t)unix_s;
  struct tm tm;

  if (unix_s <= 0 || gmtime_r(&t, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
    rr_str_copy(out, 11, "?");
}

/* ------------------------------------------------------------ AI findings */

/* The reviewed text of finding `index` of analysis `aid` (of the study) and
 * its reference sentence (both malloc'd). RR_ECONFLICT when the analysis'
 * latest review is not confirmed/modified or rejected this finding. */
static int finding_of(char **text, char **ref, rr_report_composer *c, const char *study_uid, const char *aid,
                      int64_t index, char *err, size_t errsize)
{
  rr_ai_analysis a;
  rr_ai_review_list *reviews = NULL;
  json_object *f = NULL, *list, *item, *fb, *e;
  const rr_ai_review *last = NULL;
  char when[11], line[RR_AI_ID_SIZE + RR_USERNAME_SIZE + 200];
  const char *desc, *loc;
  size_t i;
  int error;

  *text = *ref = NULL;
  if ((error = rr_store_ai_get(c->store, &a, aid, err, errsize)) < 0)
    return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ECONFLICT, "AI analysis %s does not exist", aid) : error;
  if (strcmp(a.study_uid, study_uid) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "AI analysis %s is not of this study", aid);
    goto out;
  }
  if (strcmp(a.review_status, "confirmed") != 0 && strcmp(a.review_status, "modified") != 0) {
    error = rr_fail(err, errsize, RR_ECONFLICT,
                    "AI analysis %s has not been reviewed (confirmed or modified): its findings cannot be inserted", aid);
    goto out;
  }
  f = json_tokener_parse(a.findings_json ? a.findings_json : "");
  list = rr_json_obj(f, "findings");
  if (index < 0 || !json_object_is_type(list, json_type_array) || (size_t)index >= json_object_array_length(list)) {
    error = rr_fail(err, errsize, RR_EINVAL, "AI analysis %s has no finding %lld", aid, (long long)index);
    goto out;
  }
  item = json_object_array_get_idx(list, (size_t)index);
  desc = rr_json_str(item, "description");
  loc = rr_json_str(item, "location");
  if ((error = rr_store_ai_review_history(c->store, &reviews, aid, err, errsize)) < 0)
    goto out;
  for (i = 0; i < reviews->count; i++)
    if (last == NULL || reviews->items[i].seq > last->seq)
      last = &reviews->items[i];
  fb = last != NULL ? json_tokener_parse(last->feedback_json ? last->feedback_json : "[]") : NULL;
  for (i = 0; fb != NULL && json_object_is_type(fb, json_type_array) && i < json_object_array_length(fb); i++) {
    e = json_object_array_get_idx(fb, i);
    if (json_object_get_int64(rr_json_obj(e, "index")) != index)
      continue;
    if (strcmp(rr_json_str(e, "verdict"), "rejected") == 0) {
      json_object_put(fb);
      error = rr_fail(err, errsize, RR_ECONFLICT, "finding %lld of AI analysis %s was rejected by its review",
                      (long long)index, aid);
      goto out;
    }
    if (strcmp(rr_json_str(e, "verdict"), "edited") == 0) {
      desc = NULL; /* the edited text replaces the model's */
      error = set(text, rr_json_str(e, "text"));
    }
  }
  if (desc != NULL) {
    char *joined;
    size_t n = strlen(desc) + strlen(loc) + 8;
    if ((joined = malloc(n)) != NULL) {
      snprintf(joined, n, loc[0] ? "%s (%s)" : "%s", desc, loc);
      error = set(text, joined);
      free(joined);
    } else {
      error = RR_ENOMEM;
    }
  }
  json_object_put(fb);
  date_of(when, a.reviewed_at);
  snprintf(line, sizeof(line), "AI analysis %s, reviewed by %s on %s", aid, a.reviewed_by, when);
  if (error == 0)
    error = set(ref, line);
out:
  if (error < 0) {
    free(*text);
    free(*ref);
    *text = *ref = NULL;
  }
  json_object_put(f);
  rr_ai_review_list_free(reviews);
  rr_ai_analysis_dispose(&a);
  return error;
}

/* ----------------------------------------------------------- measurements */

static void add_number(rr_buf *b, const char *name, json_object *stats, const char *key, const char *unit)
{
  json_object *v = rr_json_obj(stats, key);
  char tmp[96];

  if (v == NULL || !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
    return;
  snprintf(tmp, sizeof(tmp), "%s%s%s%.1f%s%s", b->len ? ", " : "", name, name[0] ? " " : "", json_object_get_double(v),
           unit[0] && strcmp(unit, "°") != 0 ? " " : "", unit);
  rr_buf_append(b, tmp, strlen(tmp));
}

/* The value of a measurement as a sentence from the viewer's stored data
 * (WireData.stats: length, angle, axes, area, mean/SD/min/max, value with
 * their units), e.g. "length 12.3 mm". *out malloc'd. */
static int measurement_text(char **out, const rr_annotation *an)
{
  json_object *data = json_tokener_parse(an->data_json ? an->data_json : ""), *stats = rr_json_obj(data, "stats");
  const char *unit = rr_json_str(stats, "unit"), *area = rr_json_str(stats, "areaUnit"),
             *value = rr_json_str(stats, "valueUnit");
  rr_buf b;
  int error;

  rr_buf_init(&b, 4096);
  add_number(&b, "length", stats, "length", unit);
  add_number(&b, "angle", stats, "angle", "°");
  add_number(&b, "long axis", stats, "longAxis", unit);
  add_number(&b, "short axis", stats, "shortAxis", unit);
  add_number(&b, "area", stats, "area", area);
  add_number(&b, "mean", stats, "mean", value);
  add_number(&b, "SD", stats, "sd", value);
  add_number(&b, "min", stats, "min", value);
  add_number(&b, "max", stats, "max", value);
  add_number(&b, "value", stats, "value", value);
  if (b.len == 0 && rr_json_str(data, "text")[0] != '\0')
    rr_buf_append(&b, rr_json_str(data, "text"), strlen(rr_json_str(data, "text")));
  if (b.len == 0)
    rr_buf_append(&b, an->tool, strlen(an->tool));
  *out = NULL;
  error = rr_report_doc_set(out, b.ptr ? b.ptr : "", b.len);
  rr_buf_dispose(&b);
  json_object_put(data);
  return error;
}

static const rr_annotation *annotation_find(const rr_annotation_list *l, const char *uid)
{
  size_t i;

  for (i = 0; l != NULL && i < l->count; i++)
    if (strcmp(l->items[i].annotation_uid, uid) == 0)
      return &l->items[i];
  return NULL;
}

/* The instance of the study with this SOP Instance UID, and its series. */
static const rr_instance_rec *instance_find(const rr_study_detail *d, const char *sop, const rr_series_rec **series)
{
  size_t i, j;

  for (i = 0; d != NULL && i < d->series_count; i++)
    for (j = 0; j < d->series[i].instance_count; j++)
      if (strcmp(d->series[i].instances[j].sop_instance_uid, sop) == 0) {
        *series = &d->series[i].series;
        return &d->series[i].instances[j];
      }
  return NULL;
}

/* --------------------------------------------------------------- inserts */

static bool array_member(json_object **arr, json_object *o, const char *key, char *err, size_t errsize, int *error)
{
  *arr = rr_json_obj(o, key);
  if (*arr == NULL || json_object_is_type(*arr, json_type_null)) {
    *arr = NULL;
    return true;
  }
  if (!json_object_is_type(*arr, json_type_array) || json_object_array_length(*arr) > RR_REPORT_INSERTS_MAX) {
    *error = rr_fail(err, errsize, RR_EINVAL, "inserts.%s must be an array of at most %d items", key,
                     RR_REPORT_INSERTS_MAX);
    return false;
  }
  return true;
}

static int check_findings(json_object *res, rr_report_composer *c, const char *study_uid, json_object *arr, char *err,
                          size_t errsize)
{
  int jerr = 0, error;
  json_object *out = json_object_new_array(), *e, *o, *v;
  const char *aid;
  char *text, *ref;
  size_t i;

  for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    e = json_object_array_get_idx(arr, i);
    aid = rr_json_str(e, "analysisId");
    v = rr_json_obj(e, "index");
    if (strlen(aid) != RR_AI_ID_SIZE - 1 || strspn(aid, "0123456789abcdef") != RR_AI_ID_SIZE - 1 ||
        !json_object_is_type(v, json_type_int)) {
      json_object_put(out);
      return rr_fail(err, errsize, RR_EINVAL, "inserts.aiFindings[%zu] must be {\"analysisId\": 32 hex digits, \"index\"}", i);
    }
    if ((error = finding_of(&text, &ref, c, study_uid, aid, json_object_get_int64(v), err, errsize)) < 0) {
      json_object_put(out);
      return error;
    }
    free(text);
    free(ref);
    o = json_object_new_object();
    rr_json_set_str(o, "analysisId", aid, &jerr);
    rr_json_set(o, "index", json_object_new_int64(json_object_get_int64(v)), &jerr);
    rr_json_append(out, o, &jerr);
  }
  rr_json_set(res, "aiFindings", out, &jerr);
  return jerr < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
}

static int check_measurements(json_object *res, rr_report_composer *c, const char *study_uid, json_object *arr,
                              char *err, size_t errsize)
{
  int jerr = 0, error = 0;
  json_object *out = json_object_new_array(), *o;
  rr_annotation_list *list = NULL;
  const char *uid;
  size_t i;

  if (arr != NULL && json_object_array_length(arr) > 0 &&
      (error = rr_store_annotation_list(c->store, &list, study_uid, err, errsize)) < 0) {
    json_object_put(out);
    return error;
  }
  for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    uid = rr_json_str(json_object_array_get_idx(arr, i), "annotationUid");
    if (annotation_find(list, uid) == NULL) {
      error = rr_fail(err, errsize, RR_EINVAL, "inserts.measurements[%zu]: the study has no measurement '%.64s'", i, uid);
      break;
    }
    o = json_object_new_object();
    rr_json_set_str(o, "annotationUid", uid, &jerr);
    rr_json_append(out, o, &jerr);
  }
  rr_annotation_list_free(list);
  if (error < 0) {
    json_object_put(out);
    return error;
  }
  rr_json_set(res, "measurements", out, &jerr);
  return jerr < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
}

static int check_key_images(json_object *res, rr_report_composer *c, const char *study_uid, json_object *arr,
                            char *err, size_t errsize)
{
  int jerr = 0, error = 0;
  json_object *out = json_object_new_array(), *e, *o, *fr;
  rr_study_detail *d = NULL;
  const rr_instance_rec *inst;
  const rr_series_rec *series;
  int64_t frame;
  size_t i;

  if (arr != NULL && json_object_array_length(arr) > 0 &&
      (error = rr_store_get_study(c->store, &d, study_uid, err, errsize)) < 0) {
    json_object_put(out);
    return error;
  }
  for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
    e = json_object_array_get_idx(arr, i);
    fr = rr_json_obj(e, "frame");
    frame = fr == NULL ? 1 : json_object_is_type(fr, json_type_int) ? json_object_get_int64(fr) : 0;
    inst = instance_find(d, rr_json_str(e, "sopInstanceUid"), &series);
    if (inst == NULL || frame < 1 || frame > (inst->number_of_frames > 0 ? inst->number_of_frames : 1)) {
      error = rr_fail(err, errsize, RR_EINVAL, "inserts.keyImages[%zu]: the study has no such image (sopInstanceUid, frame 1-based)", i);
      break;
    }
    o = json_object_new_object();
    rr_json_set_str(o, "sopInstanceUid", inst->sop_instance_uid, &jerr);
    rr_json_set(o, "frame", json_object_new_int64(frame), &jerr);
    rr_json_append(out, o, &jerr);
  }
  rr_study_detail_free(d);
  if (error < 0) {
    json_object_put(out);
    return error;
  }
  rr_json_set(res, "keyImages", out, &jerr);
  return jerr < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
}

int rr_report_compose_check_inserts(json_object **out, rr_report_composer *c, const char *study_uid,
                                    json_object *inserts, char *err, size_t errsize)
{
  json_object *res, *findings, *measurements, *images;
  json_object_iter it;
  int error = 0;

  *out = NULL;
  if (!json_object_is_type(inserts, json_type_object))
    return rr_fail(err, errsize, RR_EINVAL, "'inserts' must be an object {aiFindings, measurements, keyImages}");
  json_object_object_foreachC(inserts, it)
  {
    if (strcmp(it.key, "aiFindings") != 0 && strcmp(it.key, "measurements") != 0 && strcmp(it.key, "keyImages") != 0)
      return rr_fail(err, errsize, RR_EINVAL, "inserts: unknown member '%.32s'", it.key);
  }
  if (!array_member(&findings, inserts, "aiFindings", err, errsize, &error) ||
      !array_member(&measurements, inserts, "measurements", err, errsize, &error) ||
      !array_member(&images, inserts, "keyImages", err, errsize, &error))
    return error;
  if ((res = json_object_new_object()) == NULL)
    return RR_ENOMEM;
  if ((error = check_findings(res, c, study_uid, findings, err, errsize)) < 0 ||
      (error = check_measurements(res, c, study_uid, measurements, err, errsize)) < 0 ||
      (error = check_key_images(res, c, study_uid, images, err, errsize)) < 0) {
    json_object_put(res);
    return error;
  }
  *out = res;
  return 0;
}

/* --------------------------------------------------------------- compose */

static int compose_study(rr_report_doc *doc, rr_report_composer *c, const rr_study_rec *s, char *err, size_t errsize)
{
  json_object *o = NULL;
  char uri[RR_OID_SIZE + 16];
  int error = 0;

  if (set(&doc->institution, c->institution[0] ? c->institution : s->institution_name) < 0 ||
      set(&doc->patient_name, s->patient_name) < 0 || set(&doc->patient_id, s->patient_id) < 0 ||
      set(&doc->patient_birth_date, s->patient_birth_date) < 0 || set(&doc->patient_sex, s->patient_sex) < 0 ||
      set(&doc->study_uid, s->study_uid) < 0 || set(&doc->study_orthanc_id, s->orthanc_id) < 0 ||
      set(&doc->study_date, s->study_date) < 0 || set(&doc->study_time, s->study_time) < 0 ||
      set(&doc->study_description, s->study_description) < 0 ||
      set(&doc->accession_number, s->accession_number) < 0 ||
      set(&doc->referring_physician, s->referring_physician) < 0 || set(&doc->modalities, s->modalities) < 0)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  /* StudyID is not kept by the store: Orthanc's main tags have it */
  if (c->rest.get_json != NULL && s->orthanc_id[0] != '\0') {
    snprintf(uri, sizeof(uri), "/studies/%s", s->orthanc_id);
    if (c->rest.get_json(c->rest.ctx, &o, uri, NULL, 0) == 0)
      error = set(&doc->study_id, rr_json_str(rr_json_obj(o, "MainDicomTags"), "StudyID"));
    json_object_put(o);
  }
  if (error == 0 && doc->study_id == NULL)
    error = set(&doc->study_id, "");
  return error < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
}

static int compose_findings(rr_report_doc *doc, rr_report_composer *c, json_object *arr, char *err, size_t errsize)
{
  size_t i, n = arr ? json_object_array_length(arr) : 0;
  json_object *e;
  int error;

  if (n == 0)
    return 0;
  if ((doc->findings = calloc(n, sizeof(*doc->findings))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  for (i = 0; i < n; i++) {
    e = json_object_array_get_idx(arr, i);
    error = finding_of(&doc->findings[i].text, &doc->findings[i].analysis_ref, c, doc->study_uid,
                       rr_json_str(e, "analysisId"), json_object_get_int64(rr_json_obj(e, "index")), err, errsize);
    if (error < 0)
      return error;
    doc->finding_count = i + 1;
  }
  return 0;
}

/* The inserted measurements as one more section (LOINC Findings, titled
 * "Measurements"): each one "label: value". */
static int compose_measurements(rr_report_doc *doc, rr_report_composer *c, json_object *arr, char *err, size_t errsize)
{
  rr_annotation_list *list = NULL;
  rr_report_doc_section *sections, *sec;
  const rr_annotation *an;
  size_t i, n = arr ? json_object_array_length(arr) : 0;
  int error;

  if (n == 0)
    return 0;
  if ((error = rr_store_annotation_list(c->store, &list, doc->study_uid, err, errsize)) < 0)
    return error;
  sections = realloc(doc->sections, (doc->section_count + 1) * sizeof(*sections));
  if (sections == NULL) {
    rr_annotation_list_free(list);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  doc->sections = sections;
  sec = &sections[doc->section_count++];
  memset(sec, 0, sizeof(*sec));
  error = set(&sec->code, "59776-5") < 0 || set(&sec->meaning, "Findings") < 0 || set(&sec->title, "Measurements") < 0
              ? RR_ENOMEM
              : 0;
  if (error == 0 && (sec->items = calloc(n, sizeof(*sec->items))) == NULL)
    error = RR_ENOMEM;
  for (i = 0; error == 0 && i < n; i++) {
    an = annotation_find(list, rr_json_str(json_object_array_get_idx(arr, i), "annotationUid"));
    if (an == NULL)
      continue; /* removed since: a signed report keeps what it had, a new one cannot list it */
    if (set(&sec->items[sec->item_count].label, an->label[0] ? an->label : an->tool) < 0 ||
        measurement_text(&sec->items[sec->item_count].text, an) < 0)
      error = RR_ENOMEM;
    sec->item_count++;
  }
  rr_annotation_list_free(list);
  return error < 0 ? rr_fail(err, errsize, error, "out of memory") : 0;
}

static int compose_image(rr_report_doc_image *im, rr_report_composer *c, const rr_series_rec *series,
                         const rr_instance_rec *inst, int64_t frame, bool render)
{
  rr_frame_request req;
  rr_buf png;
  char caption[96], err[256];

  im->frame = frame;
  if (series->has_series_number && inst->has_instance_number)
    snprintf(caption, sizeof(caption), "Se %lld, Im %lld", (long long)series->series_number,
             (long long)inst->instance_number);
  else
    snprintf(caption, sizeof(caption), "%s", series->modality);
  if (frame > 1)
    snprintf(caption + strlen(caption), sizeof(caption) - strlen(caption), ", frame %lld", (long long)frame);
  if (set(&im->series_uid, series->series_uid) < 0 || set(&im->sop_uid, inst->sop_instance_uid) < 0 ||
      set(&im->sop_class_uid, inst->sop_class_uid) < 0 || set(&im->caption, caption) < 0)
    return RR_ENOMEM;
  if (!render || c->ctx == NULL)
    return 0;
  memset(&req, 0, sizeof(req));
  req.frame = (uint32_t)(frame - 1);
  req.max_side = KEY_IMAGE_SIDE;
  rr_buf_init(&png, KEY_IMAGE_PNG_MAX);
  /* an image that cannot be rendered is listed without its picture */
  if (rr_orthanc_frame_png(&png, NULL, c->ctx, inst->orthanc_id, &req, err, sizeof(err)) == 0 && png.len > 0) {
    im->png = (unsigned char *)png.ptr;
    im->png_size = png.len;
    return 0;
  }
  rr_buf_dispose(&png);
  return 0;
}

static int compose_images(rr_report_doc *doc, rr_report_composer *c, json_object *arr, bool render, char *err,
                          size_t errsize)
{
  rr_study_detail *d = NULL;
  const rr_instance_rec *inst;
  const rr_series_rec *series;
  json_object *e;
  size_t i, n = arr ? json_object_array_length(arr) : 0;
  int error;

  if (n == 0)
    return 0;
  if ((error = rr_store_get_study(c->store, &d, doc->study_uid, err, errsize)) < 0)
    return error;
  if ((doc->images = calloc(n, sizeof(*doc->images))) == NULL) {
    rr_study_detail_free(d);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  for (i = 0; i < n; i++) {
    e = json_object_array_get_idx(arr, i);
    if ((inst = instance_find(d, rr_json_str(e, "sopInstanceUid"), &series)) == NULL)
      continue; /* deleted from the archive since */
    if ((error = compose_image(&doc->images[doc->image_count], c, series, inst,
                               json_object_get_int64(rr_json_obj(e, "frame")) > 0
                                   ? json_object_get_int64(rr_json_obj(e, "frame"))
                                   : 1,
                               render)) < 0)
      break;
    doc->image_count++;
  }
  rr_study_detail_free(d);
  return error < 0 ? rr_fail(err, errsize, error, "out of memory") : 0;
}

/* The report's signed addenda up to `in`'s version, and `in` itself when it
 * is one. */
static int compose_addenda(rr_report_doc *doc, rr_report_composer *c, const rr_report *r,
                           const rr_report_compose_in *in)
{
  char name[128];
  size_t i, n = 0;
  rr_report_doc_addendum *a;

  if ((doc->addenda = calloc(r->version_count + 1, sizeof(*doc->addenda))) == NULL)
    return RR_ENOMEM;
  for (i = 0; i <= r->version_count; i++) {
    const char *text, *by;
    int64_t at, version;
    if (i < r->version_count) {
      const rr_report_version *v = &r->versions[i];
      if (strcmp(v->kind, "addendum") != 0 || strcmp(v->status, "final") != 0 || v->version >= in->version)
        continue;
      text = v->text, by = v->signed_by, at = v->signed_at, version = v->version;
    } else {
      if (strcmp(in->kind, "addendum") != 0)
        continue;
      text = in->text, by = in->signed_by, at = in->signed_at, version = in->version;
    }
    a = &doc->addenda[n++];
    doc->addendum_count = n;
    a->version = version;
    a->signed_at = at;
    rr_report_compose_display_name(name, sizeof(name), c, by);
    if (set(&a->text, text) < 0 || set(&a->signed_by_name, name) < 0)
      return RR_ENOMEM;
  }
  return 0;
}

static int compose_critical(rr_report_doc *doc, const rr_report *r, const rr_report_compose_in *in)
{
  json_object *o;
  int error = 0;

  doc->critical = r->critical;
  if (!r->critical)
    return 0;
  o = json_tokener_parse(in->critical_json ? in->critical_json : r->critical_json ? r->critical_json : "");
  if (o != NULL) {
    if (set(&doc->critical_recipient, rr_json_str(o, "recipient")) < 0 ||
        set(&doc->critical_method, rr_json_str(o, "method")) < 0)
      error = RR_ENOMEM;
    doc->critical_at = json_object_get_int64(rr_json_obj(o, "communicatedAt"));
  }
  json_object_put(o);
  return error;
}

/* An addendum shows the body of the latest final original or correction
 * before it: that body's signer and time (the PDF's signature block). */
static int compose_body_signer(rr_report_doc *doc, rr_report_composer *c, const rr_report *r,
                               const rr_report_compose_in *in)
{
  const rr_report_version *body = NULL;
  char name[128];
  size_t i;

  if (strcmp(in->kind, "addendum") != 0)
    return 0;
  for (i = 0; i < r->version_count; i++) {
    const rr_report_version *v = &r->versions[i];
    if (v->version < in->version && strcmp(v->status, "final") == 0 && strcmp(v->kind, "addendum") != 0)
      body = v;
  }
  if (body == NULL)
    return 0;
  rr_report_compose_display_name(name, sizeof(name), c, body->signed_by);
  doc->body_signed_at = body->signed_at;
  return set(&doc->body_signed_by_name, name);
}

/* The steps in the order of the doc: each fills its part or fails. */
int rr_report_compose(rr_report_doc **out, rr_report_composer *c, const rr_report *r,
                      const rr_report_compose_in *in, char *err, size_t errsize)
{
  rr_report_doc *doc;
  rr_study_detail *d = NULL;
  json_object *inserts = NULL;
  char name[128];
  int error;

  *out = NULL;
  if ((doc = rr_report_doc_new()) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((error = rr_store_get_study(c->store, &d, r->study_uid, err, errsize)) < 0)
    goto out;
  if ((error = compose_study(doc, c, &d->study, err, errsize)) < 0)
    goto out;
  doc->report_id = r->id;
  doc->version = in->version;
  rr_report_compose_display_name(name, sizeof(name), c, in->signed_by);
  if (set(&doc->kind, in->kind) < 0 || set(&doc->status, in->status) < 0 ||
      set(&doc->signed_by, in->signed_by) < 0 || set(&doc->signed_by_name, name) < 0 ||
      (strcmp(in->kind, "correction") == 0 && set(&doc->correction_reason, in->text) < 0)) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  doc->signed_at = in->signed_at;
  if ((error = rr_template_render(doc, r->template_json, in->fields_json ? in->fields_json : "{}", err, errsize)) < 0)
    goto out;
  if (doc->template_id == NULL && set(&doc->template_id, r->template_id) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  inserts = json_tokener_parse(in->inserts_json ? in->inserts_json : "{}");
  if ((error = compose_findings(doc, c, rr_json_obj(inserts, "aiFindings"), err, errsize)) < 0 ||
      (error = compose_measurements(doc, c, rr_json_obj(inserts, "measurements"), err, errsize)) < 0 ||
      (error = compose_images(doc, c, rr_json_obj(inserts, "keyImages"), in->images, err, errsize)) < 0)
    goto out;
  if (compose_addenda(doc, c, r, in) < 0 || compose_body_signer(doc, c, r, in) < 0 || compose_critical(doc, r, in) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  *out = doc;
  doc = NULL;
out:
  json_object_put(inserts);
  rr_study_detail_free(d);
  rr_report_doc_free(doc);
  return error;
}

int rr_report_compose_load(void *ctx, rr_report_doc **out_doc, unsigned char **out_pdf, size_t *out_pdf_size,
                           int64_t report_id, int64_t version, char *err, size_t errsize)
{
  rr_report_composer *c = ctx;
  rr_report *r = NULL;
  rr_report_version v;
  rr_report_compose_in in;
  const rr_report_version *rv = NULL;
  size_t i;
  int error;

  *out_doc = NULL;
  *out_pdf = NULL;
  *out_pdf_size = 0;
  memset(&v, 0, sizeof(v));
  if ((error = rr_store_report_get(c->store, &r, report_id, err, errsize)) < 0)
    return error;
  for (i = 0; i < r->version_count; i++)
    if (r->versions[i].version == version)
      rv = &r->versions[i];
  if (rv == NULL || rv->signed_at == 0) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "report %lld has no signed version %lld", (long long)report_id,
                    (long long)version);
    goto out;
  }
  if ((error = rr_store_report_pdf(c->store, &v, report_id, version, err, errsize)) < 0)
    goto out;
  memset(&in, 0, sizeof(in));
  in.version = rv->version;
  in.kind = rv->kind;
  in.status = rv->status;
  in.fields_json = rv->fields_json;
  in.inserts_json = rv->inserts_json;
  in.text = rv->text;
  in.signed_by = rv->signed_by;
  in.signed_at = rv->signed_at;
  in.images = false;
  if ((error = rr_report_compose(out_doc, c, r, &in, err, errsize)) < 0)
    goto out;
  *out_pdf = v.pdf;
  *out_pdf_size = v.pdf_size;
  v.pdf = NULL;
out:
  rr_report_version_dispose(&v);
  rr_report_free(r);
  return error;
}
