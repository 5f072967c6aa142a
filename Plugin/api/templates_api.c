/*
 * templates_api.c - the report templates routes (contract in
 * templates_api.h): arguments and answers only; the registry
 * (report/template.h) validates and keeps the templates.
 */
#include "templates_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "store/store_report_templates.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/str.h"

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

#define ERR_SIZE 512
#define WHERE "report templates"

static void audit(const rr_identity *id, const char *action, const char *template_id, const char *answer)
{
  char detail[64] = "";
  json_object *o = json_tokener_parse(answer), *rev = NULL;

  if (o != NULL && json_object_object_get_ex(o, "revision", &rev))
    snprintf(detail, sizeof(detail), "revision %lld", (long long)json_object_get_int64(rev));
  json_object_put(o);
  if (deps->audit != NULL)
    rr_audit_log(deps->audit, id->username, id->role_name, "", action, template_id, "success", detail);
}

/* Answer a registry's JSON text with `status` (and its revision as ETag). */
static void answer_text(OrthancPluginRestOutput *out, int status, const char *text, bool etag)
{
  json_object *o = json_tokener_parse(text), *rev = NULL;
  char tag[32];

  if (o == NULL) {
    rr_reply_failure(ctx, out, RR_ENOMEM, WHERE, "out of memory");
    return;
  }
  if (etag && json_object_object_get_ex(o, "revision", &rev)) {
    snprintf(tag, sizeof(tag), "\"%lld\"", (long long)json_object_get_int64(rev));
    OrthancPluginSetHttpHeader(ctx, out, "ETag", tag);
  }
  rr_reply_json(ctx, out, status, o);
  json_object_put(o);
}

/* A template id in the path: answers 404 itself and returns false when it
 * cannot be one (no template has such an id). */
static bool id_ok(OrthancPluginRestOutput *out, const char *id)
{
  size_t n = strlen(id);

  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
          c == '-'))
      n = 0;
  }
  if (n == 0 || n > 64) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such template");
    return false;
  }
  return true;
}

/* The template id that suits a study: body parts and descriptions of its
 * series with the study's. Answers itself and returns false on failure. */
static bool suggest(char *out_id, size_t size, OrthancPluginRestOutput *out, const char *study_uid)
{
  rr_study_detail *d = NULL;
  char err[ERR_SIZE] = "";
  int error;

  if (!rr_args_study_uid_ok(study_uid)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "studyInstanceUid must be a StudyInstanceUID (at most 64 characters: digits, dots, letters)");
    return false;
  }
  if ((error = rr_store_get_study(deps->store, &d, study_uid, err, sizeof(err))) < 0) {
    if (error == RR_ENOTFOUND)
      rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such study");
    else
      rr_reply_failure(ctx, out, error, WHERE, err);
    return false;
  }
  error = rr_templates_choose_study(out_id, size, deps->templates, d);
  rr_study_detail_free(d);
  if (error < 0) {
    rr_reply_failure(ctx, out, error, WHERE, "the templates could not be read");
    return false;
  }
  return true;
}

static void list_templates(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  char all[16], uid[128], chosen[RR_TEMPLATE_ID_SIZE] = "", err[ERR_SIZE] = "", *text = NULL;
  const char *a = rr_args_query(req, "all", all, sizeof(all)), *u = rr_args_query(req, "studyInstanceUid", uid, sizeof(uid));
  json_object *o = NULL;
  int error, jerr = 0;

  if (a == NULL || (a[0] != '\0' && strcmp(a, "true") != 0 && strcmp(a, "false") != 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "all must be true or false");
    return;
  }
  if (u == NULL) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "studyInstanceUid is too long");
    return;
  }
  if (u[0] != '\0' && !suggest(chosen, sizeof(chosen), out, u))
    return;
  if ((error = rr_templates_list(&text, deps->templates, strcmp(a, "true") == 0, err, sizeof(err))) < 0) {
    rr_reply_failure(ctx, out, error, WHERE, err);
    return;
  }
  if ((o = json_tokener_parse(text)) == NULL)
    jerr = RR_ENOMEM;
  rr_json_set_opt(o, "suggested", chosen[0] != '\0', json_object_new_string(chosen), &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  free(text);
}

static void create_template(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_identity *id)
{
  char err[ERR_SIZE] = "", *text = NULL, tid[RR_TEMPLATE_ID_SIZE] = "";
  json_object *o;
  int error;

  error = rr_templates_create(&text, deps->templates, req->body, req->bodySize, id->username, rr_clock_unix_ms(), err,
                              sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, WHERE, err);
    return;
  }
  if ((o = json_tokener_parse(text)) != NULL)
    rr_str_copy(tid, sizeof(tid), rr_json_str(o, "id"));
  json_object_put(o);
  audit(id, "template.create", tid, text);
  answer_text(out, 201, text, true);
  free(text);
}

/* GET, POST {root}reports/templates */
static OrthancPluginErrorCode on_templates(OrthancPluginRestOutput *out, const char *url,
                                           const OrthancPluginHttpRequest *req)
{
  rr_identity id;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Get && req->method != OrthancPluginHttpMethod_Post) {
    rr_reply_method_not_allowed(ctx, out, "GET,POST");
    return OrthancPluginErrorCode_Success;
  }
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if (req->method == OrthancPluginHttpMethod_Get)
    list_templates(out, req);
  else
    create_template(out, req, &id);
  return OrthancPluginErrorCode_Success;
}

/* If-Match: "3", W/"3" or 3 → *revision. Answers 400 itself and returns
 * false when it is absent or names no revision. */
static bool if_match(int64_t *revision, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  const char *v = rr_reply_request_header(req, "If-Match");
  char num[24];
  size_t n;

  if (v == NULL) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "If-Match is required: the revision you changed, e.g. If-Match: \"3\"");
    return false;
  }
  if (strncmp(v, "W/", 2) == 0)
    v += 2;
  if (*v == '"')
    v++;
  n = strcspn(v, "\"");
  if (n == 0 || n >= sizeof(num) || (v[n] == '"' && v[n + 1] != '\0')) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "If-Match must name one revision, e.g. If-Match: \"3\"");
    return false;
  }
  memcpy(num, v, n);
  num[n] = '\0';
  if (rr_parse_i64(revision, num, 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "If-Match must name one revision, e.g. If-Match: \"3\"");
    return false;
  }
  return true;
}

/* GET, PUT {root}reports/templates/{id} */
static OrthancPluginErrorCode on_template(OrthancPluginRestOutput *out, const char *url,
                                          const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  char err[ERR_SIZE] = "", *text = NULL;
  int64_t revision = 0;
  int error;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Get && req->method != OrthancPluginHttpMethod_Put) {
    rr_reply_method_not_allowed(ctx, out, "GET,PUT");
    return OrthancPluginErrorCode_Success;
  }
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if (!id_ok(out, req->groups[0]))
    return OrthancPluginErrorCode_Success;
  if (req->method == OrthancPluginHttpMethod_Get)
    error = rr_templates_get(&text, NULL, deps->templates, req->groups[0], err, sizeof(err));
  else if (!if_match(&revision, out, req))
    return OrthancPluginErrorCode_Success;
  else
    error = rr_templates_update(&text, deps->templates, req->groups[0], req->body, req->bodySize, revision,
                                id.username, rr_clock_unix_ms(), err, sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, WHERE, err);
    return OrthancPluginErrorCode_Success;
  }
  if (req->method == OrthancPluginHttpMethod_Put)
    audit(&id, "template.update", req->groups[0], text);
  answer_text(out, 200, text, true);
  free(text);
  return OrthancPluginErrorCode_Success;
}

/* POST {root}reports/templates/{id}/retire, …/restore and …/reset */
static OrthancPluginErrorCode on_action(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  char err[ERR_SIZE] = "", *text = NULL, action[32];
  const char *verb = req->groups[1];
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (rr_api_caller(&id, deps->auth != NULL) < 0) {
    rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");
    return OrthancPluginErrorCode_Success;
  }
  if (!id_ok(out, req->groups[0]))
    return OrthancPluginErrorCode_Success;
  if (strcmp(verb, "reset") == 0)
    error = rr_templates_reset(&text, deps->templates, req->groups[0], id.username, rr_clock_unix_ms(), err,
                               sizeof(err));
  else
    error = rr_templates_set_retired(&text, deps->templates, req->groups[0], strcmp(verb, "retire") == 0, id.username,
                                     rr_clock_unix_ms(), err, sizeof(err));
  if (error < 0) {
    rr_reply_failure(ctx, out, error, WHERE, err);
    return OrthancPluginErrorCode_Success;
  }
  snprintf(action, sizeof(action), "template.%s", verb);
  audit(&id, action, req->groups[0], text);
  answer_text(out, 200, text, true);
  free(text);
  return OrthancPluginErrorCode_Success;
}

int rr_templates_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[512];
  int error;

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/reports/templates", root);
  if ((error = rr_api_route(context, regex, on_templates)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/reports/templates/([^/]+)", root);
  if ((error = rr_api_route(context, regex, on_template)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/reports/templates/([^/]+)/(retire|restore|reset)", root);
  return rr_api_route(context, regex, on_action);
}
