/*
 * api/backup_api.c - the administrators' routes of the off-site backup
 * (contract in backup_api.h).
 */
#include "api/backup_api.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "backup/backup_queue.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define ERR_SIZE 512
#define MAX_BODY 1024
#define DEAD_LETTERS 100

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

static bool configured(OrthancPluginRestOutput *out)
{
  if (deps->backup != NULL)
    return true;
  rr_reply_error(ctx, out, RR_API_NOT_CONFIGURED, "off-site backup is not enabled (ReadingRoom.Backup.Enabled)");
  return false;
}

static void audit(const char *action, const char *target, int rc, const char *detail)
{
  rr_identity who;

  if (deps->audit != NULL && rr_api_caller(&who, true) == 0)
    rr_audit_log(deps->audit, who.username, who.role_name, "", action, target, rc == 0 ? "success" : "failure",
                 detail);
}

static json_object *item_json(const rr_backup_item *it)
{
  json_object *o = json_object_new_object();
  int jerr = 0;

  rr_json_set(o, "id", json_object_new_int64(it->id), &jerr);
  rr_json_set_str(o, "objectKey", it->object_key, &jerr);
  rr_json_set_str(o, "kind", it->kind, &jerr);
  rr_json_set_str(o, "studyInstanceUid", it->study_uid, &jerr);
  rr_json_set_str(o, "sopInstanceUid", it->sop_uid, &jerr);
  rr_json_set_str(o, "orthancId", it->orthanc_id, &jerr);
  rr_json_set_str(o, "day", it->day, &jerr);
  rr_json_set_str(o, "state", it->state, &jerr);
  rr_json_set(o, "attempts", json_object_new_int64(it->attempts), &jerr);
  rr_json_set_str(o, "lastError", it->last_error, &jerr);
  rr_json_add_time(o, "updatedAt", it->updated_at / 1000, &jerr);
  return rr_json_done(o, jerr);
}

/* The status object (without dead letters); NULL on failure (err). */
static json_object *status_json(int *rc, char *err, size_t errsize)
{
  rr_backup_status st;
  json_object *o;
  int64_t now = rr_clock_unix_ms();
  int jerr = 0;

  if ((*rc = rr_backup_queue_status(deps->backup, &st, err, errsize)) < 0)
    return NULL;
  o = json_object_new_object();
  rr_json_set(o, "enabled", json_object_new_boolean(1), &jerr);
  rr_json_set_str(o, "target", st.target, &jerr);
  rr_json_set_str(o, "endpoint", deps->options.backup_endpoint != NULL ? deps->options.backup_endpoint : "", &jerr);
  rr_json_set_str(o, "bucket", deps->options.backup_bucket != NULL ? deps->options.backup_bucket : "", &jerr);
  rr_json_set(o, "running", json_object_new_boolean(st.running), &jerr);
  rr_json_set(o, "workers", json_object_new_int64(st.workers), &jerr);
  rr_json_set(o, "queued", json_object_new_int64(st.counts.queued), &jerr);
  rr_json_set(o, "inProgress", json_object_new_int64(st.counts.running), &jerr);
  rr_json_set(o, "done", json_object_new_int64(st.counts.done), &jerr);
  rr_json_set(o, "failed", json_object_new_int64(st.counts.failed), &jerr);
  rr_json_set(o, "oldestWaitingSeconds",
              json_object_new_int64(st.counts.oldest_waiting_at > 0 ? (now - st.counts.oldest_waiting_at) / 1000 : 0),
              &jerr);
  rr_json_set(o, "copiedLastHour", json_object_new_int64(st.counts.done_last_hour), &jerr);
  rr_json_add_time(o, "lastCopiedAt", st.counts.last_done_at / 1000, &jerr);
  rr_json_set_str(o, "lastError", st.last_error[0] ? st.last_error : st.counts.last_error, &jerr);
  rr_json_add_time(o, "lastErrorAt", (st.last_error[0] ? st.last_error_at : st.counts.last_error_at) / 1000, &jerr);
  rr_json_set(o, "copiedSinceStart", json_object_new_int64(st.copied_since_start), &jerr);
  rr_json_set(o, "bytesSinceStart", json_object_new_int64(st.bytes_since_start), &jerr);
  return rr_json_done(o, jerr);
}

static OrthancPluginErrorCode on_status(OrthancPluginRestOutput *out, const char *url,
                                        const OrthancPluginHttpRequest *req)
{
  rr_backup_query q = {.state = "failed", .limit = DEAD_LETTERS};
  rr_backup_item_list *dead = NULL;
  json_object *o, *arr;
  char err[ERR_SIZE] = "";
  int rc, jerr = 0;
  size_t i;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (deps->backup == NULL) {
    o = json_object_new_object();
    rr_json_set(o, "enabled", json_object_new_boolean(0), &jerr);
    rr_reply_built(ctx, out, 200, o, jerr);
    json_object_put(o);
    return OrthancPluginErrorCode_Success;
  }
  q.target = rr_backup_queue_target_name(deps->backup);
  if ((o = status_json(&rc, err, sizeof(err))) == NULL ||
      (rc = rr_store_backup_list(deps->store, &dead, &q, err, sizeof(err))) < 0) {
    json_object_put(o);
    rr_reply_failure(ctx, out, rc < 0 ? rc : RR_ENOMEM, "backup status", err);
    return OrthancPluginErrorCode_Success;
  }
  arr = json_object_new_array();
  for (i = 0; i < dead->count && arr != NULL; i++)
    if (rr_json_push(arr, item_json(&dead->items[i])) < 0)
      jerr = RR_ENOMEM;
  rr_json_set(o, "deadLetters", arr, &jerr);
  rr_backup_item_list_free(dead);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

static void redrive(OrthancPluginRestOutput *out, int64_t id)
{
  char err[ERR_SIZE] = "", target[32];
  int64_t count = 0;
  json_object *o;
  int rc, jerr = 0;

  rc = rr_backup_queue_redrive(deps->backup, &count, id, err, sizeof(err));
  snprintf(target, sizeof(target), id == 0 ? "all" : "%lld", (long long)id);
  audit("backup.redrive", target, rc, "");
  if (rc < 0) {
    rr_reply_failure(ctx, out, rc, "backup re-drive", err);
    return;
  }
  o = json_object_new_object();
  rr_json_set(o, "redriven", json_object_new_int64(count), &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
}

static OrthancPluginErrorCode on_redrive_one(OrthancPluginRestOutput *out, const char *url,
                                             const OrthancPluginHttpRequest *req)
{
  int64_t id;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (!configured(out))
    return OrthancPluginErrorCode_Success;
  if (req->groupsCount < 1 || rr_parse_i64(&id, req->groups[0], 1, INT64_MAX) < 0) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the backup item id must be a positive integer");
    return OrthancPluginErrorCode_Success;
  }
  redrive(out, id);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_redrive_all(OrthancPluginRestOutput *out, const char *url,
                                             const OrthancPluginHttpRequest *req)
{
  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (configured(out))
    redrive(out, 0);
  return OrthancPluginErrorCode_Success;
}

static json_object *restore_json(const rr_backup_restore_result *r)
{
  json_object *o = json_object_new_object(), *arr = json_object_new_array(), *e;
  int jerr = 0;
  size_t i;

  rr_json_set(o, "complete", json_object_new_boolean(r->refused == 0 && r->failed == 0), &jerr);
  rr_json_set(o, "studies", json_object_new_int64(r->studies), &jerr);
  rr_json_set(o, "objects", json_object_new_int64(r->objects), &jerr);
  rr_json_set(o, "restored", json_object_new_int64(r->restored), &jerr);
  rr_json_set(o, "alreadyStored", json_object_new_int64(r->already), &jerr);
  rr_json_set(o, "refused", json_object_new_int64(r->refused), &jerr);
  rr_json_set(o, "failed", json_object_new_int64(r->failed), &jerr);
  rr_json_set(o, "bytes", json_object_new_int64(r->bytes), &jerr);
  for (i = 0; i < r->error_count && arr != NULL; i++) {
    e = json_object_new_object();
    rr_json_set_str(e, "objectKey", r->errors[i].object_key, &jerr);
    rr_json_set_str(e, "message", r->errors[i].message, &jerr);
    if (rr_json_push(arr, e) < 0)
      jerr = RR_ENOMEM;
  }
  rr_json_set(o, "errors", arr, &jerr);
  return rr_json_done(o, jerr);
}

static OrthancPluginErrorCode on_restore(OrthancPluginRestOutput *out, const char *url,
                                         const OrthancPluginHttpRequest *req)
{
  rr_backup_restore_result *r = NULL;
  rr_backup_restore_request rq;
  char err[ERR_SIZE] = "", detail[160];
  json_object *body, *o;
  int rc;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if (!configured(out) || (body = rr_reply_parse_body(ctx, out, req, MAX_BODY, 0)) == NULL)
    return OrthancPluginErrorCode_Success;
  rq.study_uid = rr_json_str(body, "studyInstanceUid");
  rq.since_day = rr_json_str(body, "since");
  snprintf(detail, sizeof(detail), "%s%s", rq.study_uid[0] ? "study " : "since ",
           rq.study_uid[0] ? rq.study_uid : rq.since_day);
  rc = rr_backup_queue_restore(deps->backup, &r, &rq, err, sizeof(err));
  audit("backup.restore", rq.study_uid[0] ? "study" : "since", rc, detail);
  json_object_put(body);
  if (rc < 0) {
    rr_reply_failure(ctx, out, rc, "backup restore", err);
    return OrthancPluginErrorCode_Success;
  }
  o = restore_json(r);
  rr_backup_restore_result_free(r);
  rr_reply_json(ctx, out, 200, o);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

void rr_backup_api_refresh_metrics(void)
{
  rr_backup_status st;
  int64_t now = rr_clock_unix_ms();

  if (ctx == NULL || deps == NULL || deps->backup == NULL || rr_backup_queue_status(deps->backup, &st, NULL, 0) < 0)
    return;
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_queued", (float)st.counts.queued,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_running", (float)st.counts.running,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_failed", (float)st.counts.failed,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_done", (float)st.counts.done, OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_copied_last_hour", (float)st.counts.done_last_hour,
                               OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(ctx, "reading_room_backup_oldest_waiting_seconds",
                               st.counts.oldest_waiting_at > 0 ? (float)((now - st.counts.oldest_waiting_at) / 1000)
                                                               : 0,
                               OrthancPluginMetricsType_Default);
}

json_object *rr_backup_api_health(bool *degraded)
{
  char err[ERR_SIZE] = "";
  json_object *o;
  int rc;

  *degraded = false;
  if (deps == NULL || deps->backup == NULL)
    return NULL;
  if ((o = status_json(&rc, err, sizeof(err))) == NULL)
    return NULL;
  *degraded = json_object_get_int64(json_object_object_get(o, "failed")) > 0;
  return o;
}

int rr_backup_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  char regex[512];
  int error;

  ctx = context;
  deps = d;
  snprintf(regex, sizeof(regex), "%s/admin/backup", root);
  if ((error = rr_api_route(context, regex, on_status)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/admin/backup/redrive", root);
  if ((error = rr_api_route(context, regex, on_redrive_all)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/admin/backup/([0-9]+)/redrive", root);
  if ((error = rr_api_route(context, regex, on_redrive_one)) < 0)
    return error;
  snprintf(regex, sizeof(regex), "%s/admin/backup/restore", root);
  return rr_api_route(context, regex, on_restore);
}
