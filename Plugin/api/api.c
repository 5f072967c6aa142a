#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/args.h"
#include "api/auth_api.h"
#include "api/ai_api.h"
#include "api/priors_api.h"
#include "api/annotations_api.h"
#include "api/templates_api.h"
#include "api/capture_api.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/reports_api.h"
#include "api/route.h"
#include "api/transcode_api.h"
#include "api/sr_api.h"
#include "api/volume_api.h"
#include "api/report_outputs_api.h"
#include "api/backup_api.h"
#include "api/query.h"
#include "dicom/display_order.h"
#include "image/orthanc_frame.h"
#include "store/store_reports.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"

static OrthancPluginContext *api_ctx;
static const rr_api_deps *api_deps;

#define CTX api_ctx
#define ERR_SIZE 256

/* Answer 405 unless the request uses `method` (GET or POST: the only
 * methods of these routes); true when it may go on. */
static bool require_method(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req,
                           OrthancPluginHttpMethod method)
{
  return rr_reply_require_method(CTX, out, req, method, method == OrthancPluginHttpMethod_Post ? "POST" : "GET");
}

/* A store failure: 404 for a study that is not there; any other failure is
 * the store's (503 unavailable, logged). */
static void send_store_error(OrthancPluginRestOutput *out, int error, const char *err)
{
  if (error == RR_ENOTFOUND)
    rr_reply_error(CTX, out, RR_API_NOT_FOUND, "no such study");
  else
    rr_reply_failure(CTX, out, RR_ESTORE, "store", err);
}

/* ------------------------------------------------------------- JSON shapes */

/* The study's report (its latest): reportStatus (state or null), reportId
 * (string or null), reportCritical (critical and acknowledged by no one).
 * A physician sees final reports only: anything else reads as none. */
static void report_columns(json_object *o, const rr_study_rec *s, int *jerr)
{
  static const char *const finals[] = {"final", "appended", "corrected"};
  rr_identity id;
  char rid[24];
  bool shown = s->report_state[0] != '\0' && s->report_id > 0;
  size_t i;

  if (shown && api_deps->auth != NULL && rr_api_caller(&id, true) == 0 && id.role == RR_ROLE_PHYSICIAN) {
    for (i = 0; i < 3 && strcmp(s->report_state, finals[i]) != 0; i++)
      ;
    shown = i < 3;
  }
  snprintf(rid, sizeof(rid), "%lld", (long long)s->report_id);
  rr_json_set_opt(o, "reportStatus", shown, json_object_new_string(s->report_state), jerr);
  rr_json_set_opt(o, "reportId", shown, json_object_new_string(rid), jerr);
  rr_json_set(o, "reportCritical", json_object_new_boolean(shown && s->report_critical), jerr);
}

static json_object *study_json(const rr_study_rec *s)
{
  int jerr = 0;
  json_object *o = json_object_new_object();
  char when[21];

  rr_json_set_str(o, "studyInstanceUid", s->study_uid, &jerr);
  rr_json_set_str(o, "orthancId", s->orthanc_id, &jerr);
  rr_json_set_str(o, "patientName", s->patient_name, &jerr);
  rr_json_set_str(o, "patientId", s->patient_id, &jerr);
  rr_json_set_str(o, "patientBirthDate", s->patient_birth_date, &jerr);
  rr_json_set_str(o, "patientSex", s->patient_sex, &jerr);
  rr_json_set_str(o, "studyDate", s->study_date, &jerr);
  rr_json_set_str(o, "studyTime", s->study_time, &jerr);
  rr_json_set_str(o, "studyDescription", s->study_description, &jerr);
  rr_json_set_str(o, "accessionNumber", s->accession_number, &jerr);
  rr_json_set_str(o, "referringPhysicianName", s->referring_physician, &jerr);
  rr_json_set_str(o, "institutionName", s->institution_name, &jerr);
  rr_json_set(o, "modalities", rr_json_split_values(s->modalities), &jerr);
  rr_json_set(o, "seriesCount", json_object_new_int64(s->series_count), &jerr);
  rr_json_set(o, "instanceCount", json_object_new_int64(s->instance_count), &jerr);
  rr_time_iso8601(when, (time_t)s->received_at);
  rr_json_set_str(o, "receivedAt", when, &jerr);
  rr_time_iso8601(when, (time_t)s->updated_at);
  rr_json_set_str(o, "updatedAt", when, &jerr);
  /* the latest analysis' status and the latest completed one's review; null = none */
  rr_json_set_opt(o, "aiStatus", s->ai_status[0], json_object_new_string(s->ai_status), &jerr);
  rr_json_set_opt(o, "reviewStatus", s->review_status[0], json_object_new_string(s->review_status), &jerr);
  report_columns(o, s, &jerr);
  return rr_json_done(o, jerr);
}

/* `key`: the n DS numbers of `value`, or null when they are not n valid
 * numbers (no geometry). */
static void set_ds(json_object *o, const char *key, const char *value, size_t n, int *jerr)
{
  double v[6];
  json_object *arr;
  size_t i;

  if (n > 6 || rr_parse_ds_array(v, n, value) < 0) {
    rr_json_set_null(o, key, jerr);
    return;
  }
  arr = json_object_new_array();
  for (i = 0; i < n; i++)
    rr_json_append(arr, json_object_new_double(v[i]), jerr);
  rr_json_set(o, key, arr, jerr);
}

static json_object *instance_json(const rr_instance_rec *i)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "sopInstanceUid", i->sop_instance_uid, &jerr);
  rr_json_set_str(o, "orthancId", i->orthanc_id, &jerr);
  rr_json_set_str(o, "sopClassUid", i->sop_class_uid, &jerr);
  rr_json_set_opt(o, "instanceNumber", i->has_instance_number, json_object_new_int64(i->instance_number), &jerr);
  rr_json_set(o, "numberOfFrames", json_object_new_int64(i->number_of_frames), &jerr);
  set_ds(o, "imagePositionPatient", i->image_position, 3, &jerr);
  set_ds(o, "imageOrientationPatient", i->image_orientation, 6, &jerr);
  rr_json_set_str(o, "transferSyntaxUid", i->transfer_syntax, &jerr);
  return rr_json_done(o, jerr);
}

static json_object *series_json(rr_series_detail *sd)
{
  int jerr = 0;
  json_object *o = json_object_new_object(), *arr = json_object_new_array();
  const rr_series_rec *s = &sd->series;
  size_t i;

  rr_json_set_str(o, "seriesInstanceUid", s->series_uid, &jerr);
  rr_json_set_str(o, "orthancId", s->orthanc_id, &jerr);
  rr_json_set_opt(o, "seriesNumber", s->has_series_number, json_object_new_int64(s->series_number), &jerr);
  rr_json_set_str(o, "modality", s->modality, &jerr);
  rr_json_set_str(o, "seriesDescription", s->series_description, &jerr);
  rr_json_set_str(o, "bodyPartExamined", s->body_part, &jerr);
  rr_json_set(o, "instanceCount", json_object_new_int64(s->instance_count), &jerr);
  rr_dicom_display_order(sd->instances, sd->instance_count);
  for (i = 0; i < sd->instance_count; i++)
    rr_json_append(arr, instance_json(&sd->instances[i]), &jerr);
  rr_json_set(o, "instances", arr, &jerr);
  return rr_json_done(o, jerr);
}

/* ---------------------------------------------------------------- handlers */

static OrthancPluginErrorCode on_studies(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_worklist_query q;
  rr_study_list *list = NULL;
  json_object *root, *data;
  char err[ERR_SIZE] = "";
  size_t i;
  int error;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  if (rr_query_parse(&q, req->getKeys, req->getValues, req->getCount, api_deps->options.worklist_default_page_size,
                     api_deps->options.worklist_max_page_size, err, sizeof(err)) < 0) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, err);
    return OrthancPluginErrorCode_Success;
  }
  {
    rr_identity id; /* report=mine: the caller's drafts; a physician's critical: not acknowledged by them */
    if (rr_api_caller(&id, api_deps->auth != NULL) == 0) {
      rr_str_copy(q.report_user, sizeof(q.report_user), id.username);
      if (api_deps->auth != NULL && id.role == RR_ROLE_PHYSICIAN)
        rr_str_copy(q.report_ack_user, sizeof(q.report_ack_user), id.username);
    }
  }
  if ((error = rr_store_query_worklist(api_deps->store, &list, &q, err, sizeof(err))) < 0) {
    send_store_error(out, error == RR_ENOTFOUND ? RR_ESTORE : error, err);
    return OrthancPluginErrorCode_Success;
  }
  root = json_object_new_object();
  data = json_object_new_array_ext((int)list->count);
  for (i = 0; i < list->count; i++)
    rr_json_append(data, study_json(&list->items[i]), &jerr);
  rr_json_set(root, "data", data, &jerr);
  rr_json_set(root, "total", json_object_new_int64(list->total), &jerr);
  rr_json_set(root, "limit", json_object_new_int64(q.limit), &jerr);
  rr_json_set(root, "offset", json_object_new_int64(q.offset), &jerr);
  rr_reply_built(CTX, out, 200, root, jerr);
  json_object_put(root);
  rr_study_list_free(list);
  return OrthancPluginErrorCode_Success;
}

/* Turnaround: the first time a radiologist opens a study (the store keeps
 * the first time only). A failure costs the figure, never the answer. */
static void mark_opened(const char *study_uid)
{
  rr_identity id;
  char err[ERR_SIZE] = "";

  if (api_deps->auth == NULL || rr_api_caller(&id, true) < 0 || id.role != RR_ROLE_RADIOLOGIST)
    return;
  if (rr_store_report_opened(api_deps->store, study_uid, rr_clock_unix_ms(), err, sizeof(err)) < 0)
    rr_log_warning("reports: the opening of a study was not recorded: %s", err);
}

static OrthancPluginErrorCode on_study(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_study_detail *d = NULL;
  json_object *root, *arr;
  char err[ERR_SIZE] = "";
  const char *uid = req->groupsCount > 0 ? req->groups[0] : "";
  size_t i;
  int error;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  if (!rr_args_study_uid_ok(uid)) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT,
                       "the study identifier must be a StudyInstanceUID (at most 64 characters: digits, dots, letters, '-', '_')");
    return OrthancPluginErrorCode_Success;
  }
  if ((error = rr_store_get_study(api_deps->store, &d, uid, err, sizeof(err))) < 0) {
    send_store_error(out, error, err);
    return OrthancPluginErrorCode_Success;
  }
  mark_opened(uid);
  root = study_json(&d->study);
  arr = json_object_new_array_ext((int)d->series_count);
  for (i = 0; i < d->series_count; i++)
    rr_json_append(arr, series_json(&d->series[i]), &jerr);
  rr_json_set(root, "series", arr, &jerr);
  rr_reply_built(CTX, out, 200, root, jerr);
  json_object_put(root);
  rr_study_detail_free(d);
  return OrthancPluginErrorCode_Success;
}

static json_object *ingest_json(void)
{
  int jerr = 0;
  rr_ingest_status st;
  json_object *o = json_object_new_object();
  char when[21];

  rr_ingest_refresh(api_deps->ingest);
  rr_ingest_get_status(api_deps->ingest, &st);
  rr_json_set(o, "running", json_object_new_boolean(st.running), &jerr);
  rr_json_set(o, "reconciling", json_object_new_boolean(st.reconciling), &jerr);
  rr_json_set(o, "cursor", json_object_new_int64(st.cursor), &jerr);
  rr_json_set(o, "lastSeq", json_object_new_int64(st.last_seq), &jerr);
  rr_json_set(o, "backlog", json_object_new_int64(st.backlog), &jerr);
  rr_json_set(o, "instancesIngested", json_object_new_int64(st.instances_ingested), &jerr);
  rr_json_set(o, "deletionsApplied", json_object_new_int64(st.deletions_applied), &jerr);
  rr_json_set(o, "reconciliations", json_object_new_int64(st.reconciliations), &jerr);
  rr_json_set(o, "leader", json_object_new_boolean(st.leader), &jerr);
  rr_json_set(o, "errors", json_object_new_int64(st.errors), &jerr);
  rr_json_set_opt(o, "lastError", st.last_error[0], rr_json_string(st.last_error), &jerr);
  if (st.last_error_at > 0) {
    rr_time_iso8601(when, (time_t)st.last_error_at);
    rr_json_set_str(o, "lastErrorAt", when, &jerr);
  } else {
    rr_json_set_null(o, "lastErrorAt", &jerr);
  }
  if (st.last_success_at > 0) {
    rr_time_iso8601(when, (time_t)st.last_success_at);
    rr_json_set_str(o, "lastSuccessAt", when, &jerr);
  } else {
    rr_json_set_null(o, "lastSuccessAt", &jerr);
  }
  return rr_json_done(o, jerr);
}

/* ---------------------------------------------------------------- storage */

/* with_paths: the folders' paths are for administrators (admin/storage);
 * /api/health, open to every signed-in user, leaves them out. */
static json_object *volume_json(const rr_storage_volume *v, int with_paths)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  if (with_paths)
    rr_json_set_str(o, "path", v->path, &jerr);
  rr_json_set_opt(o, "totalBytes", v->known, json_object_new_int64((int64_t)v->total_bytes), &jerr);
  rr_json_set_opt(o, "freeBytes", v->known, json_object_new_int64((int64_t)v->free_bytes), &jerr);
  rr_json_set_opt(o, "freePercent", v->known, json_object_new_double(v->free_percent), &jerr);
  rr_json_set_opt(o, "error", v->error[0], rr_json_string(v->error), &jerr);
  return rr_json_done(o, jerr);
}

/* {"status": "ok" | "low", "warning", "storageFolder", "indexFolder", "sameFileSystem"} */
static json_object *volumes_json(const rr_storage_volumes *v, int with_paths)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "status", v->warning[0] ? "low" : "ok", &jerr);
  rr_json_set_opt(o, "warning", v->warning[0], rr_json_string(v->warning), &jerr);
  rr_json_set(o, "storageFolder", volume_json(&v->storage, with_paths), &jerr);
  rr_json_set(o, "indexFolder", volume_json(&v->index, with_paths), &jerr);
  rr_json_set(o, "sameFileSystem", json_object_new_boolean(v->same_file_system), &jerr);
  return rr_json_done(o, jerr);
}

static OrthancPluginErrorCode on_storage(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_storage_report *r;
  json_object *o, *days, *d;
  size_t i;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  if (api_deps->storage == NULL || (r = malloc(sizeof(*r))) == NULL) {
    rr_reply_failure(CTX, out, RR_ENOMEM, "storage", "out of memory");
    return OrthancPluginErrorCode_Success;
  }
  rr_storage_report_get(api_deps->storage, r);
  o = volumes_json(&r->volumes, 1);
  rr_json_set_opt(o, "orthancDiskBytes", r->has_disk_size, json_object_new_int64(r->disk_bytes), &jerr);
  rr_json_set_opt(o, "orthancUncompressedBytes", r->has_disk_size, json_object_new_int64(r->uncompressed_bytes), &jerr);
  rr_json_set_opt(o, "orthancInstances", r->has_disk_size, json_object_new_int64(r->instances), &jerr);
  rr_json_set(o, "warnFreePercent", json_object_new_int64(r->warn_free_percent), &jerr);
  rr_json_set(o, "warnFreeGigabytes", json_object_new_int64(r->warn_free_gb), &jerr);
  days = json_object_new_array();
  for (i = 0; i < r->day_count; i++) {
    d = json_object_new_object();
    rr_json_set_str(d, "date", r->days[i].date, &jerr);
    rr_json_set(d, "diskBytes", json_object_new_int64(r->days[i].disk_bytes), &jerr);
    rr_json_append(days, d, &jerr);
  }
  rr_json_set(o, "days", days, &jerr);
  rr_json_set_opt(o, "error", r->error[0], rr_json_string(r->error), &jerr);
  free(r);
  rr_reply_built(CTX, out, 200, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

void rr_api_refresh_storage_metrics(void)
{
  rr_storage_report *r;

  if (api_deps == NULL || api_deps->storage == NULL || (r = malloc(sizeof(*r))) == NULL)
    return;
  rr_storage_report_get(api_deps->storage, r);
  if (r->has_disk_size)
    OrthancPluginSetMetricsValue(CTX, "reading_room_storage_orthanc_disk_bytes", (float)r->disk_bytes,
                                 OrthancPluginMetricsType_Default);
  if (r->volumes.storage.known)
    OrthancPluginSetMetricsValue(CTX, "reading_room_storage_free_bytes", (float)r->volumes.storage.free_bytes,
                                 OrthancPluginMetricsType_Default);
  if (r->volumes.index.known)
    OrthancPluginSetMetricsValue(CTX, "reading_room_storage_index_free_bytes", (float)r->volumes.index.free_bytes,
                                 OrthancPluginMetricsType_Default);
  if (r->day_count >= 2)
    OrthancPluginSetMetricsValue(CTX, "reading_room_storage_growth_bytes_per_day",
                                 (float)rr_storage_growth_per_day(r->days, r->day_count), OrthancPluginMetricsType_Default);
  OrthancPluginSetMetricsValue(CTX, "reading_room_storage_low", r->volumes.warning[0] ? 1 : 0,
                               OrthancPluginMetricsType_Default);
  free(r);
}

static OrthancPluginErrorCode on_health(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  json_object *root, *store, *ingest, *v;
  rr_store_stats stats;
  char err[ERR_SIZE] = "";
  int version = 0, store_ok, writable, healthy;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  store_ok = rr_store_schema_version(api_deps->store, &version, err, sizeof(err)) == 0 &&
             rr_store_get_stats(api_deps->store, &stats, err, sizeof(err)) == 0;
  root = json_object_new_object();
  store = json_object_new_object();
  rr_json_set_str(store, "backend", api_deps->options.store_backend, &jerr);
  /* readable but not writable: "read-only", "full" or "io-error" with the reason */
  writable = store_ok && stats.write_fault_kind[0] == '\0';
  rr_json_set_str(store, "status", !store_ok ? "unavailable" : writable ? "ok" : stats.write_fault_kind, &jerr);
  rr_json_set(store, "schemaVersion", json_object_new_int(version), &jerr);
  if (store_ok) {
    rr_json_set(store, "studies", json_object_new_int64(stats.studies), &jerr);
    rr_json_set(store, "series", json_object_new_int64(stats.series), &jerr);
    rr_json_set(store, "instances", json_object_new_int64(stats.instances), &jerr);
    if (!writable)
      rr_json_set_str(store, "error", stats.write_fault, &jerr);
  } else {
    rr_json_set_str(store, "error", err, &jerr);
  }
  ingest = ingest_json();
  healthy = writable && json_object_get_boolean(json_object_object_get(ingest, "running")) &&
            (v = json_object_object_get(ingest, "lastError")) == NULL;
  if (api_deps->audit != NULL) {
    rr_audit_stats as;
    json_object *a = json_object_new_object();
    rr_audit_get_stats(api_deps->audit, &as);
    rr_json_set(a, "written", json_object_new_int64(as.written), &jerr);
    rr_json_set(a, "queued", json_object_new_int64(as.queued), &jerr);
    rr_json_set(a, "dropped", json_object_new_int64(as.dropped), &jerr);
    rr_json_set(a, "failures", json_object_new_int64(as.failures), &jerr);
    rr_json_set_opt(a, "lastError", as.last_error[0], rr_json_string(as.last_error), &jerr);
    if (as.anchored) {
      /* for external monitoring: records must only grow, and the hash
       * changes only when they do */
      json_object *anchor = json_object_new_object();
      rr_json_set(anchor, "records", json_object_new_int64(as.anchor_seq), &jerr);
      rr_json_set_str(anchor, "headHash", as.anchor_hash, &jerr);
      rr_json_set_opt(anchor, "problem", as.anchor_problem[0], rr_json_string(as.anchor_problem), &jerr);
      rr_json_set_opt(anchor, "error", as.anchor_error[0], rr_json_string(as.anchor_error), &jerr);
      rr_json_set(a, "anchor", anchor, &jerr);
    }
    rr_json_set(root, "audit", a, &jerr);
    healthy = healthy && as.dropped == 0 && as.last_error[0] == '\0' && as.anchor_problem[0] == '\0' &&
              as.anchor_error[0] == '\0';
  }
  if (api_deps->storage != NULL) {
    rr_storage_volumes vol;
    rr_storage_volumes_get(api_deps->storage, &vol);
    rr_json_set(root, "storage", volumes_json(&vol, 0), &jerr);
    healthy = healthy && vol.warning[0] == '\0';
  }
  {
    /* signed reports on their way into the archive; a failed one needs an
     * administrator (re-drive it once the cause is fixed) */
    rr_report_output_counts rc;
    if (rr_store_report_output_counts(api_deps->store, &rc, NULL, 0) == 0) {
      json_object *q = json_object_new_object();
      rr_json_set(q, "queued", json_object_new_int64(rc.queued), &jerr);
      rr_json_set(q, "running", json_object_new_int64(rc.running), &jerr);
      rr_json_set(q, "failed", json_object_new_int64(rc.failed), &jerr);
      rr_json_set(q, "done", json_object_new_int64(rc.done), &jerr);
      rr_json_add_time(q, "oldestWaitingSince", rc.oldest_waiting_at / 1000, &jerr);
      rr_json_set(root, "reportOutputs", q, &jerr);
      healthy = healthy && rc.failed == 0;
    }
  }
  {
    /* the off-site backup: backlog, throughput, last error, dead letters */
    bool degraded = false;
    json_object *b = rr_backup_api_health(&degraded);
    if (b != NULL) {
      rr_json_set(root, "backup", b, &jerr);
      healthy = healthy && !degraded;
    }
  }
  rr_json_set(root, "accessControl", json_object_new_boolean(api_deps->auth != NULL), &jerr);
  rr_json_set_str(root, "status", healthy ? "ok" : "degraded", &jerr);
  rr_json_set_str(root, "version", api_deps->version, &jerr);
  rr_json_set(root, "store", store, &jerr);
  rr_json_set(root, "ingest", ingest, &jerr);
  rr_reply_built(CTX, out, store_ok ? 200 : 503, root, jerr);
  json_object_put(root);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_ingest(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  json_object *o;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  o = ingest_json();
  rr_reply_json(CTX, out, 200, o);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_resync(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  json_object *o;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Post))
    return OrthancPluginErrorCode_Success;
  rr_ingest_request_resync(api_deps->ingest);
  rr_log_info("ingestion: full re-sync requested through the API");
  o = json_object_new_object();
  rr_json_set(o, "accepted", json_object_new_boolean(1), &jerr);
  rr_reply_built(CTX, out, 202, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}


/* ------------------------------------------------------- rendered frames */

#define MAX_PNG (32u * 1024u * 1024u)
/* a frame's modality values: 4096 x 4096 float32 is 64 MiB */
#define MAX_VALUES (128u * 1024u * 1024u)

/* window=C,W  preset=NAME  size=N (64..2048) */
static int frame_args(rr_frame_request *r, const OrthancPluginHttpRequest *req, char *err, size_t errsize)
{
  static char presets[5][16] = {"lung", "mediastinum", "bone", "brain", "abdomen"};
  char key[32], value[64], *comma;
  int64_t size;
  uint32_t i;
  size_t k;

  for (i = 0; i < req->getCount; i++) {
    if (rr_url_decode(key, sizeof(key), req->getKeys[i]) < 0 ||
        rr_url_decode(value, sizeof(value), req->getValues[i] ? req->getValues[i] : "") < 0)
      return rr_fail(err, errsize, RR_EINVAL, "argument too long");
    if (strcmp(key, "window") == 0) {
      comma = strchr(value, ',');
      if (comma == NULL)
        return rr_fail(err, errsize, RR_EINVAL, "argument 'window' is 'center,width'");
      *comma = '\0';
      if (rr_parse_double(&r->center, value) < 0 || rr_parse_double(&r->width, comma + 1) < 0 || !(r->width >= 1))
        return rr_fail(err, errsize, RR_EINVAL, "argument 'window' is 'center,width' with a width of at least 1");
      r->has_window = true;
    } else if (strcmp(key, "preset") == 0) {
      for (k = 0; k < 5; k++)
        if (rr_str_ieq(value, presets[k]))
          break;
      if (k == 5)
        return rr_fail(err, errsize, RR_EINVAL, "argument 'preset' is one of lung, mediastinum, bone, brain, abdomen");
      r->preset = presets[k];
    } else if (strcmp(key, "size") == 0) {
      if (rr_parse_i64(&size, value, 64, 2048) < 0)
        return rr_fail(err, errsize, RR_EINVAL, "argument 'size' must be between 64 and 2048");
      r->max_side = (uint32_t)size;
    } else {
      return rr_fail(err, errsize, RR_EINVAL, "unknown argument '%.32s'", key);
    }
  }
  return 0;
}

/* {orthancId} and {n} of an instance frame route (groups 0 and 1) into
 * *frame; false when malformed (answered 400). */
static bool instance_frame_of(uint32_t *frame, OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req)
{
  int64_t n;

  if (!rr_orthanc_id_valid(req->groups[0])) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, "not an Orthanc instance identifier");
    return false;
  }
  if (rr_parse_i64(&n, req->groups[1], 0, 100000) < 0) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, "the frame number must be between 0 and 100000");
    return false;
  }
  *frame = (uint32_t)n;
  return true;
}

/* Server-Timing: the plugin's own time since t0 under `name`, for browsers'
 * tools and the benchmarks. */
static void server_timing(OrthancPluginRestOutput *out, const char *name, const struct timespec *t0)
{
  struct timespec t1;
  char timing[64];

  clock_gettime(CLOCK_MONOTONIC, &t1);
  snprintf(timing, sizeof(timing), "%s;dur=%.3f", name,
           (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6);
  OrthancPluginSetHttpHeader(CTX, out, "Server-Timing", timing);
}

static void send_frame(OrthancPluginRestOutput *out, const char *instance_id, const rr_frame_request *r)
{
  rr_buf png;
  char err[ERR_SIZE] = "";
  struct timespec t0;
  int error;

  rr_buf_init(&png, MAX_PNG);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  error = rr_orthanc_frame_png(&png, NULL, CTX, instance_id, r, err, sizeof(err));
  server_timing(out, "render", &t0); /* read, decode, render, encode */
  if (error < 0) {
    /* the renderer's RR_EINVAL: a file it cannot decode; any other failure
     * (reading from Orthanc, memory) is Orthanc's side */
    char where[RR_OID_SIZE + 32];
    snprintf(where, sizeof(where), "rendering instance %s", instance_id);
    rr_reply_failure(CTX, out, error == RR_EINVAL ? RR_EUNSUPPORTED : error == RR_ENOTFOUND ? error : RR_EUPSTREAM,
                         where, err);
  } else {
    OrthancPluginSetHttpHeader(CTX, out, "Cache-Control", "private, no-store");
    OrthancPluginSetHttpHeader(CTX, out, "X-Content-Type-Options", "nosniff");
    rr_reply_security_headers(CTX, out);
    OrthancPluginAnswerBuffer(CTX, out, png.ptr, (uint32_t)png.len, "image/png");
  }
  rr_buf_dispose(&png);
}

static OrthancPluginErrorCode on_instance_frame(OrthancPluginRestOutput *out, const char *url,
                                                const OrthancPluginHttpRequest *req)
{
  rr_frame_request r;
  char err[ERR_SIZE] = "";
  uint32_t frame;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  memset(&r, 0, sizeof(r));
  if (!instance_frame_of(&frame, out, req))
    return OrthancPluginErrorCode_Success;
  r.frame = frame;
  if (frame_args(&r, req, err, sizeof(err)) < 0) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, err);
    return OrthancPluginErrorCode_Success;
  }
  send_frame(out, req->groups[0], &r);
  return OrthancPluginErrorCode_Success;
}

/* GET {root}dicom/instances/{id}/frames/{n}/values: the frame's modality
 * values for the viewer's volumes (image/modality_values.h), as raw
 * little-endian int16 or float32, row after row; the headers say which
 * (X-RR-Values: int16|float32), the size (X-RR-Columns, X-RR-Rows), the
 * values' range (X-RR-Range: "min max") and the file's window
 * (X-RR-Window: "center width", absent without one). */
static OrthancPluginErrorCode on_instance_values(OrthancPluginRestOutput *out, const char *url,
                                                 const OrthancPluginHttpRequest *req)
{
  rr_frame_values_info info;
  rr_buf values;
  char err[ERR_SIZE] = "", text[96];
  struct timespec t0;
  uint32_t frame;
  int error;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  if (!instance_frame_of(&frame, out, req))
    return OrthancPluginErrorCode_Success;
  rr_buf_init(&values, MAX_VALUES);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  error = rr_orthanc_frame_values(&values, &info, CTX, req->groups[0], frame, err, sizeof(err));
  server_timing(out, "values", &t0);
  if (error < 0) {
    char where[RR_OID_SIZE + 32];
    snprintf(where, sizeof(where), "reading instance %s", req->groups[0]);
    rr_reply_failure(CTX, out, error == RR_EINVAL ? RR_EUNSUPPORTED : error == RR_ENOTFOUND ? error : RR_EUPSTREAM,
                     where, err);
  } else {
    OrthancPluginSetHttpHeader(CTX, out, "X-RR-Values", rr_values_type_name(info.values.type));
    snprintf(text, sizeof(text), "%u", (unsigned)info.columns);
    OrthancPluginSetHttpHeader(CTX, out, "X-RR-Columns", text);
    snprintf(text, sizeof(text), "%u", (unsigned)info.rows);
    OrthancPluginSetHttpHeader(CTX, out, "X-RR-Rows", text);
    snprintf(text, sizeof(text), "%.17g %.17g", info.values.min, info.values.max);
    OrthancPluginSetHttpHeader(CTX, out, "X-RR-Range", text);
    if (info.has_window) {
      snprintf(text, sizeof(text), "%.17g %.17g", info.window_center, info.window_width);
      OrthancPluginSetHttpHeader(CTX, out, "X-RR-Window", text);
    }
    OrthancPluginSetHttpHeader(CTX, out, "Cache-Control", "private, no-store");
    OrthancPluginSetHttpHeader(CTX, out, "X-Content-Type-Options", "nosniff");
    rr_reply_security_headers(CTX, out);
    OrthancPluginAnswerBuffer(CTX, out, values.ptr, (uint32_t)values.len, "application/octet-stream");
  }
  rr_buf_dispose(&values);
  return OrthancPluginErrorCode_Success;
}

/* The n-th image of a study in display order (series by number, instances
 * along the slice normal, frames in order): the original design's route. */
static OrthancPluginErrorCode on_study_frame(OrthancPluginRestOutput *out, const char *url,
                                             const OrthancPluginHttpRequest *req)
{
  rr_frame_request r;
  rr_study_detail *d = NULL;
  char err[ERR_SIZE] = "", instance[RR_OID_SIZE] = "";
  int64_t n, seen = 0;
  size_t i, j;
  int error;

  (void)url;
  if (!require_method(out, req, OrthancPluginHttpMethod_Get))
    return OrthancPluginErrorCode_Success;
  memset(&r, 0, sizeof(r));
  if (!rr_args_study_uid_ok(req->groups[0]) || rr_parse_i64(&n, req->groups[1], 0, 10000000) < 0) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, "a StudyInstanceUID and an image number are expected");
    return OrthancPluginErrorCode_Success;
  }
  if (frame_args(&r, req, err, sizeof(err)) < 0) {
    rr_reply_error(CTX, out, RR_API_INVALID_ARGUMENT, err);
    return OrthancPluginErrorCode_Success;
  }
  if ((error = rr_store_get_study(api_deps->store, &d, req->groups[0], err, sizeof(err))) < 0) {
    send_store_error(out, error, err);
    return OrthancPluginErrorCode_Success;
  }
  for (i = 0; i < d->series_count && instance[0] == '\0'; i++) {
    rr_series_detail *sd = &d->series[i];
    rr_dicom_display_order(sd->instances, sd->instance_count);
    for (j = 0; j < sd->instance_count; j++) {
      int64_t frames = sd->instances[j].number_of_frames > 0 ? sd->instances[j].number_of_frames : 1;
      if (n < seen + frames) {
        rr_str_copy(instance, sizeof(instance), sd->instances[j].orthanc_id);
        r.frame = (uint32_t)(n - seen);
        break;
      }
      seen += frames;
    }
  }
  rr_study_detail_free(d);
  if (instance[0] == '\0') {
    rr_reply_error(CTX, out, RR_API_NOT_FOUND, "the study has fewer images");
    return OrthancPluginErrorCode_Success;
  }
  send_frame(out, instance, &r);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_unknown(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  (void)url;
  (void)req;
  rr_reply_error(CTX, out, RR_API_NOT_FOUND, "no such API route");
  return OrthancPluginErrorCode_Success;
}

int rr_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps)
{
  static const struct {
    const char *suffix;
    OrthancPluginRestCallback cb;
  } routes[] = {
    {"/dicom/studies", on_studies},
    {"/dicom/studies/([^/]+)", on_study},
    {"/dicom/studies/([^/]+)/frames/([0-9]+)", on_study_frame},
    {"/dicom/instances/([^/]+)/frames/([0-9]+)/png", on_instance_frame},
    {"/dicom/instances/([^/]+)/frames/([0-9]+)/values", on_instance_values},
    {"/health", on_health},
    {"/admin/ingest", on_ingest},
    {"/admin/ingest/resync", on_resync},
    {"/admin/storage", on_storage},
  };
  char root[RR_ROOT_SIZE * 2], regex[RR_ROOT_SIZE * 2 + 64];
  size_t i;
  int error;

  api_ctx = ctx;
  api_deps = deps;
  if ((error = rr_root_regex(root, sizeof(root), deps->options.api_root)) < 0)
    return error;
  for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    snprintf(regex, sizeof(regex), "%s%s", root, routes[i].suffix);
    if ((error = rr_api_route(ctx, regex, routes[i].cb)) < 0)
      return error;
  }
  if (deps->auth != NULL)
    rr_auth_api_register(ctx, deps, root);
  rr_ai_api_register(ctx, deps, deps->ai, root);
  if ((error = rr_transcode_api_register(ctx, root)) < 0)
    return error;
  if ((error = rr_priors_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_annotations_api_register(ctx, deps, root)) < 0)
    return error;
  /* before any reports route: "reports/templates" must not be taken for a report id */
  if ((error = rr_templates_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_capture_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_sr_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_volume_api_register(ctx, deps, root)) < 0)
    return error;
  if (deps->templates != NULL && (error = rr_reports_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_report_outputs_api_register(ctx, deps, root)) < 0)
    return error;
  if ((error = rr_backup_api_register(ctx, deps, root)) < 0)
    return error;
  /* last: anything else under the root */
  snprintf(regex, sizeof(regex), "%s/(.*)", root);
  return rr_api_route(ctx, regex, on_unknown);
}
