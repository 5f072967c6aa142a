/*
 * api/report_outputs_api.c - a report's objects for the archive, and their
 * re-drive by an administrator (contract in report_outputs_api.h).
 */
#include "api/report_outputs_api.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "report/report_outputs.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define ERR_SIZE 512
#define MAX_BODY 1024

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

/* The report id of the URL; answers 400 and returns false when it is not one. */
static bool report_id_of(int64_t *id, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  if (req->groupsCount < 1 || rr_parse_i64(id, req->groups[0], 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the report id must be a positive integer");
    return false;
  }
  return true;
}

static void answer_outputs(OrthancPluginRestOutput *out, int64_t report_id)
{
  json_object *arr = NULL, *o;
  char err[ERR_SIZE] = "";
  int rc, jerr = 0;

  if ((rc = rr_report_outputs_json(&arr, deps->store, report_id, err, sizeof(err))) < 0) {
    rr_reply_failure(ctx, out, rc, "report outputs", err);
    return;
  }
  o = json_object_new_object();
  rr_json_set(o, "data", arr, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
}

static OrthancPluginErrorCode on_outputs(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  int64_t id;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (report_id_of(&id, out, req))
    answer_outputs(out, id);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_retry(OrthancPluginRestOutput *out, const char *url,
                                       const OrthancPluginHttpRequest *req)
{
  json_object *body, *v;
  const char *kind;
  char err[ERR_SIZE] = "", detail[64];
  int64_t id, version = 0;
  rr_identity who;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (!report_id_of(&id, out, req) || (body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  kind = rr_json_str(body, "kind");
  if (json_object_object_get_ex(body, "version", &v) && json_object_is_type(v, json_type_int))
    version = json_object_get_int64(v);
  if (version < 1 || (strcmp(kind, "pdf") != 0 && strcmp(kind, "sr") != 0 && strcmp(kind, "kos") != 0)) {
    json_object_put(body);
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT,
                   "the body must be {\"version\": n, \"kind\": \"pdf\" | \"sr\" | \"kos\"}");
    return OrthancPluginErrorCode_Success;
  }
  snprintf(detail, sizeof(detail), "v%lld %s", (long long)version, kind);
  rc = rr_report_outputs_retry(deps->report_outputs, id, version, kind, err, sizeof(err));
  json_object_put(body);
  if (deps->audit != NULL && rr_api_caller(&who, true) == 0) {
    char target[32];
    snprintf(target, sizeof(target), "%lld", (long long)id);
    rr_audit_log(deps->audit, who.username, who.role_name, "", "report.outputs.retry", target,
                 rc == 0 ? "success" : "failure", detail);
  }
  if (rc < 0)
    rr_reply_failure(ctx, out, rc, "report outputs", err);
  else
    answer_outputs(out, id);
  return OrthancPluginErrorCode_Success;
}

void rr_report_outputs_api_refresh_metrics(void)
{
  rr_report_output_counts c;
  int64_t now_s = (int64_t)time(NULL);

  if (ctx == NULL || deps == NULL || rr_store_report_output_counts(deps->store, &c, NULL, 0) < 0)
    return;
  OrthancPluginSetMetricsValue(ctx, "reading_room_report_outputs_queued", (float)c.queued,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_report_outputs_running", (float)c.running,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_report_outputs_failed", (float)c.failed,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_report_outputs_done", (float)c.done, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_report_outputs_oldest_waiting_seconds",
                               c.oldest_waiting_at > 0 ? (float)(now_s - c.oldest_waiting_at / 1000) : 0,
                               OrthancPluginMetricsType_Default);
}

int rr_report_outputs_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[512];
  int error;

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/admin/reports/([0-9]+)/outputs", root);
  if ((error = rr_api_route(context, regex, on_outputs)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/admin/reports/([0-9]+)/outputs/retry", root);
  return rr_api_route(context, regex, on_retry);
}
