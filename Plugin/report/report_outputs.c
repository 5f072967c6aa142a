/*
 * report_outputs.c - the archive worker of signed reports (contract in
 * report_outputs.h).
 */
#include "report/report_outputs.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report_dicom.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/worker.h"

#define UID_ROOT_KEY "reports.uid-root"
#define ROOT_SIZE 65
#define ERR_SIZE 512
/* A try running longer than this was abandoned (its node died or was
 * renamed): the worker takes it back, at start and every STALE_CHECK_MS. A
 * try is one create-dicom call on the same machine: seconds at most. */
#define STALE_MS (30 * 60 * 1000)
#define STALE_CHECK_MS (5 * 60 * 1000)

struct rr_report_outputs {
  rr_store *store;
  rr_report_outputs_load_fn loader;
  void *loader_ctx;
  rr_report_outputs_options o;
  char claimer[RR_REPORT_OUTPUT_CLAIMER_SIZE];
  char software_version[64];

  pthread_mutex_t lock; /* guards uid_root, wake-ups and the workers' stop flag */
  pthread_cond_t wake;
  bool poked;           /* work was queued since the worker last looked */
  char uid_root[ROOT_SIZE];
  rr_workers workers;
};

int rr_report_outputs_new(rr_report_outputs **out, rr_store *store, rr_report_outputs_load_fn loader,
                          void *loader_ctx, const rr_report_outputs_options *opts)
{
  rr_report_outputs *w;

  *out = NULL;
  if (store == NULL || opts == NULL)
    return RR_EINVAL;
  if ((w = calloc(1, sizeof(*w))) == NULL)
    return RR_ENOMEM;
  w->store = store;
  w->loader = loader;
  w->loader_ctx = loader_ctx;
  w->o = *opts;
  if (w->o.max_attempts == 0)
    w->o.max_attempts = RR_REPORT_OUTPUTS_DEFAULT_ATTEMPTS;
  if (w->o.idle_ms == 0)
    w->o.idle_ms = 1000;
  if (opts->claimer != NULL && opts->claimer[0] != '\0')
    rr_str_copy(w->claimer, sizeof(w->claimer), opts->claimer);
  else if (gethostname(w->claimer, sizeof(w->claimer) - 1) != 0 || w->claimer[0] == '\0')
    rr_str_copy(w->claimer, sizeof(w->claimer), "reading-room");
  w->claimer[sizeof(w->claimer) - 1] = '\0';
  w->o.claimer = w->claimer;
  rr_str_copy(w->software_version, sizeof(w->software_version), opts->software_version);
  w->o.software_version = w->software_version[0] ? w->software_version : NULL;
  if (opts->uid_root != NULL)
    rr_str_copy(w->uid_root, sizeof(w->uid_root), opts->uid_root);
  w->o.uid_root = NULL;
  if (rr_clock_cond_init(&w->wake) < 0) {
    free(w);
    return RR_ERROR;
  }
  pthread_mutex_init(&w->lock, NULL);
  rr_workers_init(&w->workers, &w->lock, &w->wake);
  *out = w;
  return 0;
}

/* The UID root: the option, else the store's, else a new random one
 * stored (and read back, so that a concurrent first writer wins). */
static int ensure_uid_root(rr_report_outputs *w, char *err, size_t errsize)
{
  unsigned char bytes[16];
  char root[ROOT_SIZE], hex[33];
  int rc;

  pthread_mutex_lock(&w->lock);
  rc = w->uid_root[0] != '\0';
  pthread_mutex_unlock(&w->lock);
  if (rc)
    return 0;
  rc = rr_store_kv_get(w->store, root, sizeof(root), UID_ROOT_KEY, err, errsize);
  if (rc == RR_ENOTFOUND || (rc == 0 && root[0] == '\0')) {
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
      return rr_fail(err, errsize, RR_ERROR, "no random bytes for the site's UID root");
    rr_hex_encode(hex, bytes, sizeof(bytes));
    if ((rc = rr_store_kv_set(w->store, UID_ROOT_KEY, hex, err, errsize)) < 0 ||
        (rc = rr_store_kv_get(w->store, root, sizeof(root), UID_ROOT_KEY, err, errsize)) < 0)
      return rc;
  } else if (rc < 0) {
    return rc;
  }
  pthread_mutex_lock(&w->lock);
  if (w->uid_root[0] == '\0')
    rr_str_copy(w->uid_root, sizeof(w->uid_root), root);
  pthread_mutex_unlock(&w->lock);
  return 0;
}

const char *rr_report_outputs_uid_root(rr_report_outputs *w)
{
  return w != NULL ? w->uid_root : "";
}

/* ---------------------------------------------------------------- one job */

/* An addendum's or correction's SR replaces the latest earlier SR done. */
static void fill_predecessor(rr_report_outputs *w, rr_report_doc *doc)
{
  rr_report_output_list *list = NULL;
  char err[ERR_SIZE], sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE];
  const rr_report_output *best = NULL;
  size_t i;

  if (doc->version <= 1 || (doc->predecessor_sop_uid != NULL && doc->predecessor_sop_uid[0] != '\0'))
    return;
  if (rr_store_report_output_list(w->store, &list, doc->report_id, err, sizeof(err)) < 0)
    return;
  for (i = 0; i < list->count; i++) {
    const rr_report_output *o = &list->items[i];
    if (strcmp(o->kind, "sr") == 0 && strcmp(o->state, "done") == 0 && o->version < doc->version &&
        o->sop_instance_uid[0] != '\0' && (best == NULL || o->version > best->version))
      best = o;
  }
  if (best != NULL && rr_report_dicom_uids(sop, series, w->uid_root, doc->study_uid, doc->report_id, best->version,
                                           RR_REPORT_DICOM_SR) == 0) {
    rr_report_doc_set(&doc->predecessor_sop_uid, best->sop_instance_uid, strlen(best->sop_instance_uid));
    rr_report_doc_set(&doc->predecessor_series_uid, series, strlen(series));
    rr_report_doc_set(&doc->predecessor_sop_class_uid, RR_SOP_CLASS_ENHANCED_SR, strlen(RR_SOP_CLASS_ENHANCED_SR));
  }
  rr_report_output_list_free(list);
}

/* Post one body; *orthanc_id receives the new (or already stored) object's
 * Orthanc identifier. */
static int post_body(rr_report_outputs *w, char orthanc_id[RR_OID_SIZE], json_object *body, const rr_report_doc *doc,
                     char *err, size_t errsize)
{
  const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  json_object *answer = NULL;
  const char *parent;
  int rc;

  if (text == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((rc = w->o.poster.post_json(w->o.poster.ctx, &answer, "/tools/create-dicom", text, strlen(text), err,
                                  errsize)) < 0)
    return rc;
  rr_str_copy(orthanc_id, RR_OID_SIZE, rr_json_str(answer, "ID"));
  parent = rr_json_str(answer, "ParentStudy");
  if (orthanc_id[0] == '\0')
    rc = rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc's answer to create-dicom has no ID");
  else if (doc->study_orthanc_id != NULL && doc->study_orthanc_id[0] != '\0' && parent[0] != '\0' &&
           strcmp(parent, doc->study_orthanc_id) != 0)
    rc = rr_fail(err, errsize, RR_ECONFLICT,
                 "Orthanc filed the object under another study (%.64s): does the study's Patient ID still match?",
                 parent);
  json_object_put(answer);
  return rc;
}

/* Load, build, post. 0 with the object's ids; "" ids for a KOS of a
 * version without key images (nothing to archive). */
static int run_job(rr_report_outputs *w, const rr_report_output *job, char orthanc_id[RR_OID_SIZE],
                   char sop[RR_REPORT_DICOM_UID_SIZE], char *err, size_t errsize)
{
  rr_report_dicom_options opt = {w->uid_root, NULL, w->o.software_version};
  rr_report_doc *doc = NULL;
  unsigned char *pdf = NULL;
  size_t pdf_size = 0;
  json_object *body = NULL;
  int kind = rr_report_dicom_kind_parse(job->kind), rc;

  orthanc_id[0] = sop[0] = '\0';
  if (kind < 0)
    return rr_fail(err, errsize, RR_EINVAL, "unknown output kind");
  if (w->loader == NULL || w->o.poster.post_json == NULL)
    return rr_fail(err, errsize, RR_ECONFLICT, "the report outputs worker has no loader or no Orthanc");
  if ((rc = w->loader(w->loader_ctx, &doc, &pdf, &pdf_size, job->report_id, job->version, err, errsize)) < 0)
    goto out;
  if (doc == NULL) {
    rc = rr_fail(err, errsize, RR_ERROR, "the loader gave no report");
    goto out;
  }
  if (kind == RR_REPORT_DICOM_KOS && doc->image_count == 0)
    goto out; /* the key images went away: nothing to archive */
  if (kind == RR_REPORT_DICOM_SR)
    fill_predecessor(w, doc);
  if ((rc = rr_report_dicom_build(&body, (rr_report_dicom_kind)kind, doc, pdf, pdf_size, &opt, err, errsize)) < 0)
    goto out;
  rr_str_copy(sop, RR_REPORT_DICOM_UID_SIZE, rr_json_str(rr_json_obj(body, "Tags"), "SOPInstanceUID"));
  rc = post_body(w, orthanc_id, body, doc, err, errsize);
out:
  json_object_put(body);
  rr_report_doc_free(doc);
  free(pdf);
  return rc;
}

int rr_report_outputs_run_one(rr_report_outputs *w, bool *ran)
{
  rr_report_output job, after;
  char err[ERR_SIZE] = "", why[ERR_SIZE] = "", oid[RR_OID_SIZE], sop[RR_REPORT_DICOM_UID_SIZE];
  int rc;

  *ran = false;
  if ((rc = ensure_uid_root(w, err, sizeof(err))) < 0) {
    rr_log_error("report outputs: no UID root: %s", err);
    return rc;
  }
  rc = rr_store_report_output_claim(w->store, &job, w->claimer, rr_clock_unix_ms(), err, sizeof(err));
  if (rc == RR_ECONFLICT) {
    /* a job of ours left running (its result could not be recorded): this
     * node runs one job at a time, so it is abandoned; take it back */
    int64_t now = rr_clock_unix_ms();
    rr_log_warning("report outputs: a try of this node was left running; queued again");
    if ((rc = rr_store_report_output_requeue(w->store, NULL, NULL, w->claimer, 0, w->o.max_attempts, now, err,
                                             sizeof(err))) < 0)
      return rc;
    rc = rr_store_report_output_claim(w->store, &job, w->claimer, now, err, sizeof(err));
  }
  if (rc == RR_ENOTFOUND)
    return 0;
  if (rc < 0)
    return rc;
  *ran = true;
  rc = run_job(w, &job, oid, sop, why, sizeof(why));
  if (rc == 0) {
    if ((rc = rr_store_report_output_done(w->store, job.report_id, job.version, job.kind, oid, sop,
                                          rr_clock_unix_ms(), err, sizeof(err))) < 0)
      rr_log_error("report outputs: cannot record a done job: %s", err);
    else
      rr_log_info("report outputs: report %lld version %lld %s archived (%s)", (long long)job.report_id,
                  (long long)job.version, job.kind, oid[0] ? oid : "nothing to archive");
    return rc;
  }
  if ((rc = rr_store_report_output_fail(w->store, &after, job.report_id, job.version, job.kind, why,
                                        w->o.max_attempts, rr_clock_unix_ms(), err, sizeof(err))) < 0) {
    rr_log_error("report outputs: cannot record a failed try: %s", err);
    return rc;
  }
  if (strcmp(after.state, "failed") == 0)
    rr_log_error("report outputs: report %lld version %lld %s failed after %lld tries: %s", (long long)job.report_id,
                 (long long)job.version, job.kind, (long long)after.attempts, after.last_error);
  else
    rr_log_warning("report outputs: report %lld version %lld %s: try %lld failed, retried in %lld s: %s",
                   (long long)job.report_id, (long long)job.version, job.kind, (long long)after.attempts,
                   (long long)((after.next_attempt_at - after.updated_at) / 1000), after.last_error);
  return 0;
}

/* ---------------------------------------------------------------- thread */

/* Tries abandoned by another node (or by this one under an older name). */
static void take_back_stale(rr_report_outputs *w)
{
  char err[ERR_SIZE] = "";
  int64_t requeued = 0, failed = 0, now = rr_clock_unix_ms();

  if (rr_store_report_output_requeue(w->store, &requeued, &failed, NULL, now - STALE_MS, w->o.max_attempts, now, err,
                                     sizeof(err)) < 0)
    rr_log_error("report outputs: cannot take back abandoned jobs: %s", err);
  else if (requeued > 0 || failed > 0)
    rr_log_warning("report outputs: %lld abandoned jobs queued again, %lld ended failed", (long long)requeued,
                   (long long)failed);
}

static void work(void *arg, unsigned index)
{
  rr_report_outputs *w = arg;
  int64_t next_stale_check = rr_clock_mono_ms() + STALE_CHECK_MS;
  struct timespec ts;
  bool ran;
  int rc;

  (void)index;
  pthread_mutex_lock(&w->lock);
  while (!rr_workers_stopping(&w->workers)) {
    w->poked = false;
    pthread_mutex_unlock(&w->lock);
    if (rr_clock_mono_ms() >= next_stale_check) {
      take_back_stale(w);
      next_stale_check = rr_clock_mono_ms() + STALE_CHECK_MS;
    }
    rc = rr_report_outputs_run_one(w, &ran);
    pthread_mutex_lock(&w->lock);
    if (rc == 0 && ran)
      continue; /* more may be due */
    if (w->poked)
      continue;
    rr_clock_deadline(&ts, w->o.idle_ms);
    rr_clock_cond_wait_until(&w->wake, &w->lock, &ts);
  }
  pthread_mutex_unlock(&w->lock);
}

int rr_report_outputs_start(rr_report_outputs *w)
{
  char err[ERR_SIZE] = "";
  int64_t requeued = 0, failed = 0;

  if (w == NULL || rr_workers_running(&w->workers))
    return 0;
  if (w->loader == NULL || w->o.poster.post_json == NULL) {
    rr_log_warning("report outputs: no report loader; signed reports are queued for the archive but not sent");
    return 0;
  }
  if (ensure_uid_root(w, err, sizeof(err)) < 0)
    rr_log_error("report outputs: no UID root: %s", err);
  if (rr_store_report_output_requeue(w->store, &requeued, &failed, w->claimer, rr_clock_unix_ms() - STALE_MS,
                                     w->o.max_attempts, rr_clock_unix_ms(), err, sizeof(err)) < 0)
    rr_log_error("report outputs: cannot requeue interrupted jobs: %s", err);
  else if (requeued > 0 || failed > 0)
    rr_log_warning("report outputs: %lld interrupted jobs queued again, %lld ended failed (no attempts left)",
                   (long long)requeued, (long long)failed);
  if (rr_workers_start(&w->workers, 1, work, w) < 0) {
    rr_log_error("report outputs: cannot start the worker thread");
    return RR_ERROR;
  }
  return 0;
}

void rr_report_outputs_stop(rr_report_outputs *w)
{
  if (w != NULL)
    rr_workers_stop(&w->workers, NULL, NULL);
}

void rr_report_outputs_free(rr_report_outputs *w)
{
  if (w == NULL)
    return;
  rr_report_outputs_stop(w);
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

static void poke(rr_report_outputs *w)
{
  pthread_mutex_lock(&w->lock);
  w->poked = true;
  pthread_cond_broadcast(&w->wake);
  pthread_mutex_unlock(&w->lock);
}

int rr_report_outputs_enqueue(rr_report_outputs *w, int64_t report_id, int64_t version, bool has_key_images)
{
  static const char *const kinds[] = {"pdf", "sr", "kos"};
  char err[ERR_SIZE] = "";
  int64_t now = rr_clock_unix_ms();
  size_t i;
  int rc;

  if (w == NULL || report_id < 1 || version < 1)
    return RR_EINVAL;
  if (!w->o.archive)
    return 0;
  for (i = 0; i < (has_key_images ? 3u : 2u); i++)
    if ((rc = rr_store_report_output_enqueue(w->store, NULL, report_id, version, kinds[i], now, err, sizeof(err))) <
        0) {
      rr_log_error("report outputs: cannot queue report %lld version %lld for the archive: %s", (long long)report_id,
                   (long long)version, err);
      return rc;
    }
  poke(w);
  return 0;
}

int rr_report_outputs_retry(rr_report_outputs *w, int64_t report_id, int64_t version, const char *kind, char *err,
                            size_t errsize)
{
  int rc;

  if (w == NULL || rr_report_dicom_kind_parse(kind) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "the output kind must be pdf, sr or kos");
  if ((rc = rr_store_report_output_retry(w->store, report_id, version, kind, rr_clock_unix_ms(), err, errsize)) < 0)
    return rc;
  poke(w);
  return 0;
}

/* ------------------------------------------------------------------ JSON */

/* ISO 8601 UTC with milliseconds, or null for 0. */
static void set_ms_time(json_object *o, const char *key, int64_t ms, int *jerr)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tmv;
  char when[40], iso[48];

  if (ms <= 0) {
    rr_json_set_null(o, key, jerr);
    return;
  }
  memset(&tmv, 0, sizeof(tmv));
  gmtime_r(&t, &tmv);
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tmv);
  snprintf(iso, sizeof(iso), "%s.%03dZ", when, (int)(ms % 1000));
  rr_json_set_str(o, key, iso, jerr);
}

static json_object *output_json(const rr_report_output *x, int *jerr)
{
  json_object *o = json_object_new_object();

  rr_json_set(o, "version", json_object_new_int64(x->version), jerr);
  rr_json_set_str(o, "kind", x->kind, jerr);
  rr_json_set_str(o, "state", x->state, jerr);
  rr_json_set(o, "attempts", json_object_new_int64(x->attempts), jerr);
  rr_json_set_opt(o, "lastError", x->last_error[0] != '\0', rr_json_string(x->last_error), jerr);
  rr_json_set_opt(o, "orthancId", x->orthanc_id[0] != '\0', rr_json_string(x->orthanc_id), jerr);
  rr_json_set_opt(o, "sopInstanceUid", x->sop_instance_uid[0] != '\0', rr_json_string(x->sop_instance_uid), jerr);
  rr_json_add_time(o, "updatedAt", x->updated_at / 1000, jerr);
  set_ms_time(o, "queuedAt", x->created_at, jerr);
  set_ms_time(o, "doneAt", x->done_at, jerr);
  return o;
}

int rr_report_outputs_json(json_object **out_array, rr_store *s, int64_t report_id, char *err, size_t errsize)
{
  rr_report_output_list *list = NULL;
  json_object *a;
  size_t i;
  int rc, jerr = 0;

  *out_array = NULL;
  if ((rc = rr_store_report_output_list(s, &list, report_id, err, errsize)) < 0)
    return rc;
  a = json_object_new_array();
  for (i = 0; i < list->count; i++)
    rr_json_append(a, output_json(&list->items[i], &jerr), &jerr);
  rr_report_output_list_free(list);
  if ((*out_array = rr_json_done(a, jerr)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  return 0;
}
