#include "priors_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "util/errors.h"
#include "util/str.h"

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

#define ERR_SIZE 256

/* The distinct non-empty Body Part Examined values of a study's series, in
 * series order; an empty array when the study went away meanwhile. */
static json_object *body_parts_json(const char *study_uid, int *failed)
{
  int jerr = 0;
  rr_study_detail *d = NULL;
  json_object *arr = json_object_new_array();
  char err[ERR_SIZE] = "";
  size_t i, j;
  int error;

  error = rr_store_get_study(deps->store, &d, study_uid, err, sizeof(err));
  if (error < 0) {
    if (error != RR_ENOTFOUND)
      *failed = error;
    return rr_json_done(arr, jerr);
  }
  for (i = 0; i < d->series_count; i++) {
    const char *part = d->series[i].series.body_part;
    int seen = part[0] == '\0';
    for (j = 0; j < i && !seen; j++)
      seen = strcmp(d->series[j].series.body_part, part) == 0;
    if (!seen)
      rr_json_append(arr, json_object_new_string(part), &jerr);
  }
  rr_study_detail_free(d);
  return rr_json_done(arr, jerr);
}

static json_object *prior_json(const rr_study_rec *s, int *failed)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "studyInstanceUid", s->study_uid, &jerr);
  rr_json_set_str(o, "studyDate", s->study_date, &jerr);
  rr_json_set_str(o, "studyTime", s->study_time, &jerr);
  rr_json_set_str(o, "studyDescription", s->study_description, &jerr);
  rr_json_set(o, "modalities", rr_json_split_values(s->modalities), &jerr);
  rr_json_set(o, "bodyParts", body_parts_json(s->study_uid, failed), &jerr);
  rr_json_set(o, "seriesCount", json_object_new_int64(s->series_count), &jerr);
  rr_json_set(o, "instanceCount", json_object_new_int64(s->instance_count), &jerr);
  {
    /* the study's report (a physician is shown only priors with a final one) */
    char rid[24];
    bool has = s->report_state[0] != '\0' && s->report_id > 0;
    snprintf(rid, sizeof(rid), "%lld", (long long)s->report_id);
    rr_json_set_opt(o, "reportStatus", has, json_object_new_string(s->report_state), &jerr);
    rr_json_set_opt(o, "reportId", has, json_object_new_string(rid), &jerr);
    rr_json_set(o, "reportCritical", json_object_new_boolean(has && s->report_critical), &jerr);
  }
  return rr_json_done(o, jerr);
}

bool rr_priors_visible(const rr_matrix *m, const char *api_root, unsigned role, const char *study_uid)
{
  return rr_priors_visible_as(m, api_root, role, "", study_uid);
}

bool rr_priors_visible_as(const rr_matrix *m, const char *api_root, unsigned role, const char *caller_name,
                          const char *study_uid)
{
  rr_matrix_decision dec;
  char path[RR_ROOT_SIZE + RR_UID_SIZE + 32];
  int n;

  if (m == NULL)
    return true;
  n = snprintf(path, sizeof(path), "%sdicom/studies/%s", api_root, study_uid);
  if (n < 0 || (size_t)n >= sizeof(path))
    return false;
  if (rr_matrix_check(&dec, m, "GET", path, role) < 0 || !dec.allow)
    return false;
  if (rr_matrix_check_study_as(&dec, m, study_uid, caller_name) < 0)
    return false;
  return dec.allow;
}

/* Whether the caller may see `study_uid` (always with access control off). */
static bool may_see(const rr_identity *id, const char *study_uid)
{
  return deps->auth == NULL ||
         rr_priors_visible_as(deps->matrix, deps->options.api_root, id->role, id->display_name, study_uid);
}

/* The same Patient ID's other studies of the store, newest first. */
static OrthancPluginErrorCode on_priors(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  int jerr = 0, failed = 0, error;
  rr_identity id;
  rr_study_detail *d = NULL;
  rr_study_list *list = NULL;
  rr_worklist_query *q = NULL;
  json_object *root = NULL, *data;
  char err[ERR_SIZE] = "";
  const char *uid = req->groupsCount > 0 ? req->groups[0] : "";
  size_t i;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (!rr_args_study_uid_ok(uid)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the study identifier must be a StudyInstanceUID (at most 64 characters: digits, dots, letters)");
    return OrthancPluginErrorCode_Success;
  }
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if ((error = rr_store_get_study(deps->store, &d, uid, err, sizeof(err))) < 0) {
    if (error == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study");
    else
      rr_reply_failure(ctx, out, RR_ESTORE, "priors", err);
    return OrthancPluginErrorCode_Success;
  }
  data = json_object_new_array();
  root = json_object_new_object();
  rr_json_set(root, "data", data, &jerr);
  if (d->study.patient_id[0] != '\0') {
    if ((q = calloc(1, sizeof(*q))) == NULL) {
      error = RR_ENOMEM;
      goto out;
    }
    q->patient_id.mode = RR_MATCH_EXACT;
    rr_str_copy(q->patient_id.value, sizeof(q->patient_id.value), d->study.patient_id);
    q->sort = RR_SORT_STUDY_DATE; /* date, then time: newest first */
    q->descending = true;
    q->limit = RR_PRIORS_MAX + 1; /* the study itself is among them */
    if ((error = rr_store_query_worklist(deps->store, &list, q, err, sizeof(err))) < 0)
      goto out;
    for (i = 0; i < list->count && json_object_array_length(data) < RR_PRIORS_MAX; i++) {
      const rr_study_rec *s = &list->items[i];
      if (strcmp(s->study_uid, d->study.study_uid) == 0 || !may_see(&id, s->study_uid))
        continue;
      rr_json_append(data, prior_json(s, &failed), &jerr);
    }
    if (failed < 0) {
      error = failed;
      rr_str_copy(err, sizeof(err), "reading a prior study");
      goto out;
    }
  }
  rr_reply_built(ctx, out, 200, root, jerr);
out:
  if (error < 0)
    rr_reply_failure(ctx, out, error == RR_ENOMEM ? RR_ENOMEM : RR_ESTORE, "priors", err);
  json_object_put(root);
  rr_study_list_free(list);
  free(q);
  rr_study_detail_free(d);
  return OrthancPluginErrorCode_Success;
}

int rr_priors_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[RR_ROOT_SIZE * 2 + 64];

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/dicom/studies/([^/]+)/priors", root);
  return rr_api_route(context, regex, on_priors);
}
