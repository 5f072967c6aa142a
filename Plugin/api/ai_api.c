#include "api/ai_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai/findings.h"
#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "store/ai_state.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define MAX_BODY (64 * 1024)
#define NOTES_MAX 8000
#define EDIT_MAX RR_FINDING_DESCRIPTION_MAX

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;
static rr_ai_jobs *jobs;
static char api_root[RR_ROOT_SIZE];

/* Who calls (the identity the HTTP filter decided; the open identity with
 * access control off). The role matrix has already allowed the request:
 * radiologists and administrators only. Answers 403 itself when there is no
 * signed-in caller. */
static int caller(rr_identity *id, OrthancPluginRestOutput *out)
{
  if (rr_api_caller(id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return -1;
  }
  return 0;
}

static void audit(const rr_identity *id, const char *action, const char *resource, const char *outcome,
                  const char *detail)
{
  if (deps->audit != NULL)
    rr_audit_log(deps->audit, id->username, id->role_name, "", action, resource, outcome, detail);
}

static void send_failure(OrthancPluginRestOutput *out, int error, const char *err)
{
  rr_reply_failure(ctx, out, error, "AI API", err);
}

static bool id_valid(const char *id)
{
  size_t i;

  for (i = 0; id[i] != '\0'; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
      return false;
  return i == RR_AI_ID_SIZE - 1;
}

/* A stored JSON text as an object, or a fallback when empty/invalid. */
static json_object *parsed(const char *text, json_type want)
{
  json_object *o = text && text[0] ? json_tokener_parse(text) : NULL;

  if (o != NULL && !json_object_is_type(o, want)) {
    json_object_put(o);
    o = NULL;
  }
  if (o == NULL)
    o = want == json_type_array ? json_object_new_array() : json_object_new_object();
  return o;
}

static json_object *review_json(const rr_ai_review *r)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_add_time(o, "at", r->at, &jerr);
  rr_json_set(o, "reviewer", rr_json_string(r->reviewer), &jerr);
  rr_json_set(o, "reviewStatus", rr_json_string(r->review_status), &jerr);
  rr_json_set(o, "notes", rr_json_string(r->notes), &jerr);
  rr_json_set(o, "findings", parsed(r->feedback_json, json_type_array), &jerr);
  return rr_json_done(o, jerr);
}

/* The member `key` of the stored findings f, [] when absent (a stored null
 * stays null). */
static void set_list(json_object *o, json_object *f, const char *key, int *jerr)
{
  json_object *v;

  if (!json_object_object_get_ex(f, key, &v))
    rr_json_set(o, key, json_object_new_array(), jerr);
  else if (v == NULL)
    rr_json_set_null(o, key, jerr);
  else
    rr_json_set(o, key, json_object_get(v), jerr);
}

/* The analysis; `full` adds the raw answer and the review history (lists
 * leave them out: a raw answer may weigh 256 KiB). */
static json_object *analysis_json(const rr_ai_analysis *a, const rr_ai_review_list *reviews, bool full)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *f = parsed(a->findings_json, json_type_object), *usage;
  char href[RR_ROOT_SIZE + 64];
  size_t i;

  rr_json_set(o, "id", json_object_new_string(a->id), &jerr);
  snprintf(href, sizeof(href), "%sai/analysis/%s", api_root, a->id);
  rr_json_set(o, "href", json_object_new_string(href), &jerr);
  rr_json_set(o, "studyInstanceUid", rr_json_string(a->study_uid), &jerr);
  rr_json_set(o, "orthancStudyId", rr_json_string(a->orthanc_study_id), &jerr);
  rr_json_set(o, "provider", rr_json_string(a->provider), &jerr);
  rr_json_set(o, "modelRequested", rr_json_string(a->model_requested), &jerr);
  rr_json_set(o, "modelVersion", rr_json_string(a->model_version), &jerr);
  rr_json_set(o, "status", rr_json_string(a->status), &jerr);
  rr_json_set(o, "requestedBy", rr_json_string(a->requested_by), &jerr);
  rr_json_add_time(o, "requestedAt", a->requested_at, &jerr);
  rr_json_add_time(o, "startedAt", a->started_at, &jerr);
  rr_json_add_time(o, "finishedAt", a->finished_at, &jerr);
  rr_json_set(o, "attempts", json_object_new_int64(a->attempts), &jerr);
  rr_json_set(o, "summary", rr_json_string(a->summary), &jerr);
  set_list(o, f, "findings", &jerr);
  set_list(o, f, "recommendations", &jerr);
  rr_json_set_opt(o, "aiConfidence", a->ai_confidence[0] != '\0', json_object_new_string(a->ai_confidence), &jerr);
  rr_json_set_opt(o, "aiConfidenceScore", a->has_ai_confidence_score, json_object_new_double(a->ai_confidence_score),
                  &jerr);
  rr_json_set(o, "images", parsed(a->images_json, json_type_array), &jerr);
  rr_json_set(o, "promptVersion", rr_json_string(a->prompt_version), &jerr);
  rr_json_set(o, "schemaVersion", rr_json_string(a->schema_version), &jerr);
  usage = json_object_new_object();
  rr_json_set(usage, "promptTokens", json_object_new_int64(a->prompt_tokens), &jerr);
  rr_json_set(usage, "completionTokens", json_object_new_int64(a->completion_tokens), &jerr);
  rr_json_set(o, "usage", usage, &jerr);
  rr_json_set(o, "latencyMs", json_object_new_int64(a->latency_ms), &jerr);
  rr_json_set(o, "cost", json_object_new_double(a->cost), &jerr);
  rr_json_set(o, "error", rr_json_string(a->error), &jerr);
  if (full)
    rr_json_set(o, "rawText", rr_json_string(a->raw_text), &jerr);
  rr_json_set(o, "reviewStatus", rr_json_string(a->review_status), &jerr);
  rr_json_set(o, "reviewedBy", rr_json_string(a->reviewed_by), &jerr);
  rr_json_add_time(o, "reviewedAt", a->reviewed_at, &jerr);
  rr_json_set(o, "radiologistNotes", rr_json_string(a->radiologist_notes), &jerr);
  if (full && reviews != NULL) {
    json_object *arr = json_object_new_array();
    for (i = 0; i < reviews->count; i++)
      rr_json_append(arr, review_json(&reviews->items[i]), &jerr);
    rr_json_set(o, "reviews", arr, &jerr);
  }
  json_object_put(f);
  return rr_json_done(o, jerr);
}

static void send_analysis(OrthancPluginRestOutput *out, int status, const char *id)
{
  rr_ai_analysis a;
  rr_ai_review_list *reviews = NULL;
  json_object *o;
  char err[256] = "";
  int rc;

  if ((rc = rr_store_ai_get(deps->store, &a, id, err, sizeof(err))) < 0) {
    send_failure(out, rc, rc == RR_ENOTFOUND ? "no such analysis" : err);
    return;
  }
  if ((rc = rr_store_ai_review_history(deps->store, &reviews, id, err, sizeof(err))) < 0) {
    rr_ai_analysis_dispose(&a);
    send_failure(out, rc, err);
    return;
  }
  o = analysis_json(&a, reviews, true);
  rr_reply_json(ctx, out, status, o);
  json_object_put(o);
  rr_ai_review_list_free(reviews);
  rr_ai_analysis_dispose(&a);
}

/* The Study Instance UID in the route into out; replies 400 and returns
 * false when it is not one. */
static bool study_uid(char out[RR_UID_SIZE], const OrthancPluginHttpRequest *req, OrthancPluginRestOutput *o)
{
  if (!rr_args_study_uid_ok(req->groups[0])) {
    rr_reply_error(ctx, o, RR_API_INVALID_ARGUMENT, "not a Study Instance UID");
    return false;
  }
  rr_str_copy(out, RR_UID_SIZE, req->groups[0]);
  return true;
}

/* POST {root}ai/analyze/{StudyInstanceUID} */
static OrthancPluginErrorCode on_analyze(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  json_object *body, *v, *o;
  char uid[RR_UID_SIZE], aid[RR_AI_ID_SIZE], err[1024] = "", href[RR_ROOT_SIZE + 64];
  bool force = false, existing = false;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if (!study_uid(uid, req, out))
    return OrthancPluginErrorCode_Success;
  if ((body = rr_reply_parse_body(ctx, out, req, 4096, 1)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (json_object_object_get_ex(body, "force", &v)) {
    if (!json_object_is_type(v, json_type_boolean)) {
      json_object_put(body);
      rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'force' must be true or false");
      return OrthancPluginErrorCode_Success;
    }
    force = json_object_get_boolean(v);
  }
  json_object_put(body);
  rc = rr_ai_jobs_submit(aid, &existing, jobs, uid, id.username, force, err, sizeof(err));
  if (rc == RR_ECONFLICT && !rr_ai_jobs_configured(jobs)) {
    rr_reply_error(ctx, out, RR_API_NOT_CONFIGURED, err);
    return OrthancPluginErrorCode_Success;
  }
  if (rc == RR_EFULL) {
    OrthancPluginSetHttpHeader(ctx, out, "Retry-After", "60");
    rr_reply_error(ctx, out, RR_API_QUEUE_FULL, err);
    return OrthancPluginErrorCode_Success;
  }
  if (rc < 0) {
    send_failure(out, rc, err);
    return OrthancPluginErrorCode_Success;
  }
  if (!existing)
    audit(&id, "ai.analyze", uid, "success", aid);
  o = json_object_new_object();
  rr_json_set(o, "id", json_object_new_string(aid), &jerr);
  rr_json_set(o, "status", json_object_new_string(existing ? "existing" : rr_ai_state_name(RR_AI_STATE_QUEUED)), &jerr);
  snprintf(href, sizeof(href), "%sai/analysis/%s", api_root, aid);
  rr_json_set(o, "href", json_object_new_string(href), &jerr);
  if (existing) {
    rr_ai_analysis a;
    if (rr_store_ai_get(deps->store, &a, aid, err, sizeof(err)) == 0) {
      rr_json_set(o, "status", json_object_new_string(a.status), &jerr);
      rr_ai_analysis_dispose(&a);
    }
    rr_json_set(o, "existing", json_object_new_boolean(1), &jerr);
  }
  OrthancPluginSetHttpHeader(ctx, out, "Location", href);
  rr_reply_built(ctx, out, existing ? 200 : 202, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

static bool analysis_id(char out[RR_AI_ID_SIZE], const OrthancPluginHttpRequest *req, OrthancPluginRestOutput *o)
{
  if (strlen(req->groups[0]) != RR_AI_ID_SIZE - 1 || !id_valid(req->groups[0])) {
    rr_reply_error(ctx, o, RR_API_NOT_FOUND, "no such analysis");
    return false;
  }
  rr_str_copy(out, RR_AI_ID_SIZE, req->groups[0]);
  return true;
}

/* GET {root}ai/analysis/{id} */
static OrthancPluginErrorCode on_analysis(OrthancPluginRestOutput *out, const char *url,
                                          const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  char aid[RR_AI_ID_SIZE];

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0 || !analysis_id(aid, req, out))
    return OrthancPluginErrorCode_Success;
  send_analysis(out, 200, aid);
  return OrthancPluginErrorCode_Success;
}

/* POST {root}ai/analysis/{id}/cancel */
static OrthancPluginErrorCode on_cancel(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  char aid[RR_AI_ID_SIZE], err[256] = "";
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (caller(&id, out) < 0 || !analysis_id(aid, req, out))
    return OrthancPluginErrorCode_Success;
  if (!rr_ai_jobs_configured(jobs)) {
    rr_reply_error(ctx, out, RR_API_CONFLICT, "no AI provider is configured, so nothing runs");
    return OrthancPluginErrorCode_Success;
  }
  if ((rc = rr_ai_jobs_cancel(jobs, aid, err, sizeof(err))) < 0) {
    send_failure(out, rc, err);
    return OrthancPluginErrorCode_Success;
  }
  audit(&id, "ai.cancel", aid, "success", "");
  send_analysis(out, 200, aid);
  return OrthancPluginErrorCode_Success;
}

static const char *const verdicts[] = {"accepted", "rejected", "edited"};

/* Check the per-finding feedback against the analysis' findings and build
 * the stored form [{index, verdict, text?}]. */
static int feedback_of(json_object **out, json_object *list, size_t finding_count, char *err, size_t errsize)
{
  int jerr = 0;
  json_object *res = json_object_new_array(), *item, *v, *o;
  bool seen[RR_FINDINGS_MAX] = {false};
  size_t i, n, k;
  int64_t index;
  const char *verdict, *text;
  int bad = 0;

  *out = NULL;
  if (!json_object_is_type(list, json_type_array)) {
    json_object_put(res);
    return rr_fail(err, errsize, RR_EINVAL, "'findings' must be an array of {index, verdict, text}");
  }
  n = json_object_array_length(list);
  if (n > finding_count) {
    json_object_put(res);
    return rr_fail(err, errsize, RR_EINVAL, "'findings' has %zu entries but the analysis has %zu findings", n,
                   finding_count);
  }
  for (i = 0; i < n; i++) {
    item = json_object_array_get_idx(list, i);
    if (!json_object_is_type(item, json_type_object) || !json_object_object_get_ex(item, "index", &v) ||
        !json_object_is_type(v, json_type_int)) {
      json_object_put(res);
      return rr_fail(err, errsize, RR_EINVAL, "findings[%zu]: 'index' (a whole number) is required", i);
    }
    index = json_object_get_int64(v);
    if (index < 0 || (size_t)index >= finding_count || seen[index]) {
      json_object_put(res);
      return rr_fail(err, errsize, RR_EINVAL, "findings[%zu]: index %lld is %s", i, (long long)index,
                     index >= 0 && (size_t)index < finding_count ? "given twice" : "not a finding of the analysis");
    }
    seen[index] = true;
    verdict = rr_json_member_str(item, "verdict", &bad);
    for (k = 0; verdict != NULL && k < 3; k++)
      if (strcmp(verdict, verdicts[k]) == 0)
        break;
    if (verdict == NULL || k == 3) {
      json_object_put(res);
      return rr_fail(err, errsize, RR_EINVAL, "findings[%zu]: 'verdict' must be accepted, rejected or edited", i);
    }
    text = rr_json_member_str(item, "text", &bad);
    if (bad || (k == 2 && (text == NULL || text[0] == '\0'))) {
      json_object_put(res);
      return rr_fail(err, errsize, RR_EINVAL, "findings[%zu]: an edited finding needs its new 'text'", i);
    }
    if (text != NULL && (strlen(text) > EDIT_MAX || rr_utf8_valid_prefix(text, strlen(text)) != strlen(text))) {
      json_object_put(res);
      return rr_fail(err, errsize, RR_EINVAL, "findings[%zu]: 'text' must be UTF-8 of at most %d bytes", i, EDIT_MAX);
    }
    o = json_object_new_object();
    rr_json_set(o, "index", json_object_new_int64(index), &jerr);
    rr_json_set(o, "verdict", json_object_new_string(verdicts[k]), &jerr);
    if (k == 2)
      rr_json_set(o, "text", json_object_new_string(text), &jerr);
    rr_json_append(res, o, &jerr);
  }
  if (jerr < 0) {
    json_object_put(res);
    return rr_fail(err, errsize, jerr, "out of memory");
  }
  *out = res;
  return 0;
}

/* The review's own fields of a PUT .../review body: *status one of
 * confirmed, rejected, modified; *notes NULL or UTF-8 of at most NOTES_MAX
 * bytes (both point into body). No reviewer may be sent: it is the caller.
 * Replies 400 and returns false when a field is wrong. */
static bool review_fields(const char **status, const char **notes, json_object *body, OrthancPluginRestOutput *out)
{
  static const char *const statuses[] = {"confirmed", "rejected", "modified"};
  json_object *v;
  size_t k;
  int bad = 0;

  if (json_object_object_get_ex(body, "reviewedBy", &v) || json_object_object_get_ex(body, "reviewer", &v)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                       "the reviewer is the logged-in user; do not send 'reviewedBy'");
    return false;
  }
  *status = rr_json_member_str(body, "reviewStatus", &bad);
  for (k = 0; *status != NULL && k < 3; k++)
    if (strcmp(*status, statuses[k]) == 0)
      break;
  if (*status == NULL || k == 3) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'reviewStatus' must be confirmed, rejected or modified");
    return false;
  }
  *notes = rr_json_member_str(body, "radiologistNotes", &bad);
  if (bad || (*notes != NULL && (strlen(*notes) > NOTES_MAX || rr_utf8_valid_prefix(*notes, strlen(*notes)) != strlen(*notes)))) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'radiologistNotes' must be UTF-8 text of at most 8000 bytes");
    return false;
  }
  return true;
}

/* How many findings a stored analysis's findings JSON lists, at most
 * RR_FINDINGS_MAX (stored findings were validated; never trust the store
 * blindly). 0 when the text is not a findings object. */
static size_t stored_finding_count(const char *findings_json)
{
  json_object *f = parsed(findings_json, json_type_object), *list;
  size_t n = 0;

  if (json_object_object_get_ex(f, "findings", &list) && json_object_is_type(list, json_type_array))
    n = json_object_array_length(list);
  if (n > RR_FINDINGS_MAX)
    n = RR_FINDINGS_MAX;
  json_object_put(f);
  return n;
}

/* Rejecting or editing a finding changes the reading: "confirmed" would
 * say the AI was right as it stood. Replies 400 and returns false when a
 * confirmed review's feedback (NULL = none) has a verdict other than
 * accepted. */
static bool verdicts_fit_status(json_object *feedback, const char *status, OrthancPluginRestOutput *out)
{
  size_t k;

  if (feedback == NULL || strcmp(status, "confirmed") != 0)
    return true;
  for (k = 0; k < json_object_array_length(feedback); k++) {
    const char *verdict = json_object_get_string(
        json_object_object_get(json_object_array_get_idx(feedback, k), "verdict"));
    if (strcmp(verdict, "accepted") != 0) {
      rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                         "a review that rejects or edits findings is 'modified' (or 'rejected'), not 'confirmed'");
      return false;
    }
  }
  return true;
}

/* PUT {root}ai/analysis/{id}/review */
static OrthancPluginErrorCode on_review(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_ai_analysis a;
  rr_ai_review r;
  json_object *body = NULL, *v, *feedback = NULL;
  char aid[RR_AI_ID_SIZE], err[512] = "";
  const char *status, *notes;
  size_t finding_count;
  int rc;
  bool have_a = false;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Put, "PUT");
  if (caller(&id, out) < 0 || !analysis_id(aid, req, out))
    return OrthancPluginErrorCode_Success;
  if ((body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (!review_fields(&status, &notes, body, out))
    goto out;
  if ((rc = rr_store_ai_get(deps->store, &a, aid, err, sizeof(err))) < 0) {
    send_failure(out, rc, rc == RR_ENOTFOUND ? "no such analysis" : err);
    goto out;
  }
  have_a = true;
  if (!rr_ai_state_is(a.status, RR_AI_STATE_COMPLETED)) {
    snprintf(err, sizeof(err), "only completed analyses can be reviewed (this one is %s)", a.status);
    rr_reply_error(ctx, out, RR_API_CONFLICT, err);
    goto out;
  }
  finding_count = stored_finding_count(a.findings_json);
  if (json_object_object_get_ex(body, "findings", &v) && !json_object_is_type(v, json_type_null)) {
    if ((rc = feedback_of(&feedback, v, finding_count, err, sizeof(err))) < 0) {
      rr_reply_failure(ctx, out, rc, "AI API", err);
      goto out;
    }
  }
  if (!verdicts_fit_status(feedback, status, out))
    goto out;
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), aid);
  r.at = (int64_t)time(NULL);
  rr_str_copy(r.reviewer, sizeof(r.reviewer), id.username);
  rr_str_copy(r.review_status, sizeof(r.review_status), status);
  r.notes = (char *)(notes ? notes : "");
  r.feedback_json = (char *)(feedback ? json_object_to_json_string_ext(feedback, JSON_C_TO_STRING_PLAIN) : "[]");
  if ((rc = rr_store_ai_review_add(deps->store, &r, notes ? notes : "", err, sizeof(err))) < 0) {
    send_failure(out, rc, err);
    goto out;
  }
  snprintf(err, sizeof(err), "%s, %zu finding verdicts", status, feedback ? json_object_array_length(feedback) : 0);
  audit(&id, "ai.review", aid, "success", err);
  send_analysis(out, 200, aid);
out:
  if (have_a)
    rr_ai_analysis_dispose(&a);
  json_object_put(feedback);
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

/* GET {root}ai/studies/{StudyInstanceUID}/analyses */
static OrthancPluginErrorCode on_study_analyses(OrthancPluginRestOutput *out, const char *url,
                                                const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_ai_list *list = NULL;
  json_object *o, *arr;
  char uid[RR_UID_SIZE], err[256] = "";
  size_t i;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  if (!study_uid(uid, req, out))
    return OrthancPluginErrorCode_Success;
  if ((rc = rr_store_ai_list_study(deps->store, &list, uid, err, sizeof(err))) < 0) {
    send_failure(out, rc, err);
    return OrthancPluginErrorCode_Success;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < list->count; i++)
    rr_json_append(arr, analysis_json(&list->items[i], NULL, false), &jerr);
  rr_json_set(o, "analyses", arr, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  rr_ai_list_free(list);
  return OrthancPluginErrorCode_Success;
}

static int64_t start_of_today(void)
{
  time_t now = time(NULL);
  struct tm tm;

  localtime_r(&now, &tm);
  tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  return (int64_t)mktime(&tm);
}

/* One named whole number of GET ai/status. */
typedef struct {
  const char *name;
  int64_t value;
} status_count;

/* A new JSON object with the rows as integer members, in the rows' order;
 * failures are recorded in *jerr like rr_json_set. The caller owns it. */
static json_object *count_object(const status_count *rows, size_t n, int *jerr)
{
  json_object *obj = json_object_new_object();
  size_t i;

  for (i = 0; i < n; i++)
    rr_json_set(obj, rows[i].name, json_object_new_int64(rows[i].value), jerr);
  return obj;
}

/* GET {root}ai/status */
static OrthancPluginErrorCode on_status(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_ai_counts counts;
  rr_ai_jobs_stats st;
  json_object *o, *p, *t;
  char err[512] = "", flag[8];
  const char *check;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (caller(&id, out) < 0)
    return OrthancPluginErrorCode_Success;
  check = rr_args_query(req, "check", flag, sizeof(flag));
  if (check != NULL && strcmp(check, "true") == 0 && rr_ai_jobs_configured(jobs))
    rr_ai_jobs_probe(jobs, err, sizeof(err));
  /* one query: the states count every analysis, the usage those since midnight */
  if ((rc = rr_store_ai_counts(deps->store, &counts, start_of_today(), err, sizeof(err))) < 0) {
    send_failure(out, rc, err);
    return OrthancPluginErrorCode_Success;
  }
  rr_ai_jobs_get_stats(jobs, &st);
  o = json_object_new_object();
  p = json_object_new_object();
  rr_json_set(p, "configured", json_object_new_boolean(rr_ai_jobs_configured(jobs)), &jerr);
  rr_json_set(p, "name", rr_json_string(rr_ai_jobs_provider_kind(jobs)), &jerr);
  rr_json_set(p, "model", rr_json_string(rr_ai_jobs_model(jobs)), &jerr);
  rr_json_set(p, "cloud", json_object_new_boolean(deps->options.ai_cloud), &jerr);
  rr_json_set_opt(p, "reachable", !(st.reachable < 0), json_object_new_boolean(st.reachable), &jerr);
  rr_json_set(p, "lastError", rr_json_string(st.last_error), &jerr);
  rr_json_set(o, "provider", p, &jerr);
  {
    const status_count queue[] = {
        {"depth", counts.queued}, {"running", counts.running}, {"concurrency", st.concurrency}};
    const status_count states[] = {{rr_ai_state_name(RR_AI_STATE_QUEUED), counts.queued},
                                   {rr_ai_state_name(RR_AI_STATE_RUNNING), counts.running},
                                   {rr_ai_state_name(RR_AI_STATE_COMPLETED), counts.completed},
                                   {rr_ai_state_name(RR_AI_STATE_FAILED), counts.failed},
                                   {"other", counts.other}};
    rr_json_set(o, "queue", count_object(queue, sizeof(queue) / sizeof(queue[0]), &jerr), &jerr);
    rr_json_set(o, "counts", count_object(states, sizeof(states) / sizeof(states[0]), &jerr), &jerr);
  }
  t = json_object_new_object();
  rr_json_set(t, "analyses", json_object_new_int64(counts.analyses), &jerr);
  rr_json_set(t, "promptTokens", json_object_new_int64(counts.prompt_tokens), &jerr);
  rr_json_set(t, "completionTokens", json_object_new_int64(counts.completion_tokens), &jerr);
  rr_json_set(t, "cost", json_object_new_double(counts.cost), &jerr);
  rr_json_set(t, "imagesSent", json_object_new_int64(counts.images_sent), &jerr);
  rr_json_set(o, "today", t, &jerr);
  t = json_object_new_object();
  rr_json_set(t, "enabled", json_object_new_boolean(deps->options.ai_auto_enable), &jerr);
  rr_json_set(t, "queuedSinceStart", json_object_new_int64(st.auto_submitted), &jerr);
  rr_json_set(t, "droppedSinceStart", json_object_new_int64(st.auto_dropped), &jerr);
  rr_json_set(o, "automatic", t, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

void rr_ai_api_refresh_metrics(void)
{
  rr_ai_counts counts;
  rr_ai_jobs_stats st;
  char err[256];

  if (ctx == NULL || deps == NULL)
    return;
  if (rr_store_ai_counts(deps->store, &counts, start_of_today(), err, sizeof(err)) < 0)
    return;
  rr_ai_jobs_get_stats(jobs, &st);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_configured", rr_ai_jobs_configured(jobs) ? 1 : 0,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_reachable", (float)st.reachable, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_queue_depth", (float)counts.queued, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_running", (float)counts.running, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_completed", (float)counts.completed, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_failed", (float)counts.failed, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_other", (float)counts.other, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_prompt_tokens_today", (float)counts.prompt_tokens,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_completion_tokens_today", (float)counts.completion_tokens,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_cost_today", (float)counts.cost, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_images_sent_today", (float)counts.images_sent,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_ai_analyses_today", (float)counts.analyses,
                               OrthancPluginMetricsType_Default);
}

void rr_ai_api_register(OrthancPluginContext *context, const rr_api_deps *d, rr_ai_jobs *j, const char *root)
{
  static const struct {
    const char *suffix;
    OrthancPluginRestCallback cb;
  } routes[] = {
    {"/ai/analyze/([^/]+)", on_analyze},
    {"/ai/analysis/([^/]+)", on_analysis},
    {"/ai/analysis/([^/]+)/cancel", on_cancel},
    {"/ai/analysis/([^/]+)/review", on_review},
    {"/ai/studies/([^/]+)/analyses", on_study_analyses},
    {"/ai/status", on_status},
  };
  char regex[512];
  size_t i;

  ctx = context;
  deps = d;
  jobs = j;
  rr_str_copy(api_root, sizeof(api_root), d->options.api_root);
  for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    snprintf(regex, sizeof(regex), "%s%s", root, routes[i].suffix);
    rr_api_route(context, regex, routes[i].cb);
  }
}
