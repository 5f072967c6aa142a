/*
 * backup_queue.c - the off-site backup worker (contract in backup_queue.h).
 */
#include "backup/backup_queue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/backup_crypto.h"
#include "backup/backup_object.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"
#include "util/worker.h"

#define ERR_SIZE 512
#define MARKERS 256 /* day markers remembered as written, per process */

struct rr_backup_queue {
  rr_store *store;
  rr_backup_queue_options o;
  char target_name[RR_BACKUP_TARGET_SIZE];
  char claimer[RR_BACKUP_CLAIMER_SIZE - 8];

  pthread_mutex_t lock; /* guards everything below and the workers' stop flag */
  pthread_cond_t wake;
  unsigned poked;
  rr_workers workers;
  char markers[MARKERS][RR_BACKUP_OBJECT_KEY_SIZE];
  unsigned marker_next;
  int64_t copied, bytes;
  char last_error[RR_BACKUP_ERROR_SIZE];
  int64_t last_error_at;
};

int rr_backup_queue_new(rr_backup_queue **out, rr_store *store, const rr_backup_queue_options *opts)
{
  rr_backup_queue *q;

  *out = NULL;
  if (store == NULL || opts == NULL || opts->make_target == NULL || opts->target_name == NULL ||
      opts->target_name[0] == '\0')
    return RR_EINVAL;
  if ((q = calloc(1, sizeof(*q))) == NULL)
    return RR_ENOMEM;
  q->store = store;
  q->o = *opts;
  rr_str_copy(q->target_name, sizeof(q->target_name), opts->target_name);
  q->o.target_name = q->target_name;
  if (q->o.max_attempts == 0)
    q->o.max_attempts = RR_BACKUP_DEFAULT_ATTEMPTS;
  if (q->o.workers == 0)
    q->o.workers = 1;
  if (q->o.workers > RR_WORKERS_MAX)
    q->o.workers = RR_WORKERS_MAX;
  if (q->o.lease_ms <= 0)
    q->o.lease_ms = RR_BACKUP_DEFAULT_LEASE_MS;
  if (q->o.idle_ms == 0)
    q->o.idle_ms = 1000;
  if (opts->claimer != NULL && opts->claimer[0] != '\0')
    rr_str_copy(q->claimer, sizeof(q->claimer), opts->claimer);
  else if (gethostname(q->claimer, sizeof(q->claimer) - 1) != 0 || q->claimer[0] == '\0')
    rr_str_copy(q->claimer, sizeof(q->claimer), "reading-room");
  q->claimer[sizeof(q->claimer) - 1] = '\0';
  q->o.claimer = q->claimer;
  if (rr_clock_cond_init(&q->wake) < 0) {
    rr_backup_key_wipe(q->o.key, sizeof(q->o.key));
    free(q);
    return RR_ERROR;
  }
  pthread_mutex_init(&q->lock, NULL);
  rr_workers_init(&q->workers, &q->lock, &q->wake);
  *out = q;
  return 0;
}

rr_store *rr_backup_queue_store(rr_backup_queue *q)
{
  return q->store;
}

const char *rr_backup_queue_target_name(const rr_backup_queue *q)
{
  return q->target_name;
}

static void poke(rr_backup_queue *q)
{
  pthread_mutex_lock(&q->lock);
  q->poked++;
  pthread_cond_broadcast(&q->wake);
  pthread_mutex_unlock(&q->lock);
}

int rr_backup_queue_enqueue_items(rr_backup_queue *q, const rr_ingest_item *items, size_t count, char *err,
                                  size_t errsize)
{
  char key[RR_BACKUP_OBJECT_KEY_SIZE], day[11];
  int64_t now = rr_clock_unix_ms();
  bool created, any = false;
  rr_backup_new n;
  size_t i;
  int error;

  rr_backup_day_of(day, now);
  for (i = 0; i < count; i++) {
    const rr_ingest_item *it = &items[i];
    if (rr_backup_object_key(key, sizeof(key), it->study.study_uid, it->instance.sop_instance_uid) < 0) {
      rr_log_warning("backup: instance %s has no valid study or SOP instance UID; not copied",
                     it->instance.orthanc_id);
      continue;
    }
    n = (rr_backup_new){q->target_name, key, "instance", it->instance.orthanc_id, it->study.study_uid,
                        it->instance.sop_instance_uid, day};
    if ((error = rr_store_backup_enqueue(q->store, &created, &n, now, err, errsize)) < 0)
      return error;
    any = any || created;
  }
  if (any)
    poke(q);
  return 0;
}

int rr_backup_queue_before_store(void *ctx, const rr_ingest_item *items, size_t count, char *err, size_t errsize)
{
  return ctx == NULL ? 0 : rr_backup_queue_enqueue_items(ctx, items, count, err, errsize);
}

int rr_backup_queue_redrive(rr_backup_queue *q, int64_t *count, int64_t id, char *err, size_t errsize)
{
  int error = rr_store_backup_redrive(q->store, count, id, rr_clock_unix_ms(), err, errsize);

  if (error == 0)
    poke(q);
  return error;
}

int rr_backup_queue_restore(rr_backup_queue *q, rr_backup_restore_result **out, const rr_backup_restore_request *req,
                            char *err, size_t errsize)
{
  rr_backup_target *t = NULL;
  int error;

  *out = NULL;
  if ((error = q->o.make_target(q->o.make_target_ctx, &t, err, errsize)) < 0)
    return error;
  error = rr_backup_restore(out, t, q->o.key, q->o.poster, req, err, errsize);
  rr_backup_target_free(t);
  return error;
}

int rr_backup_queue_status(rr_backup_queue *q, rr_backup_status *out, char *err, size_t errsize)
{
  memset(out, 0, sizeof(*out));
  pthread_mutex_lock(&q->lock);
  out->running = rr_workers_running(&q->workers);
  out->workers = q->workers.count;
  out->copied_since_start = q->copied;
  out->bytes_since_start = q->bytes;
  rr_str_copy(out->last_error, sizeof(out->last_error), q->last_error);
  out->last_error_at = q->last_error_at;
  pthread_mutex_unlock(&q->lock);
  rr_str_copy(out->target, sizeof(out->target), q->target_name);
  return rr_store_backup_counts(q->store, &out->counts, q->target_name, rr_clock_unix_ms(), err, errsize);
}

/* ---------------------------------------------------------------- one item */

/* Put the day marker of (day, study) unless this process wrote it already. */
static int put_marker(rr_backup_queue *q, rr_backup_target *t, const rr_backup_item *it, char *err, size_t errsize)
{
  char key[RR_BACKUP_OBJECT_KEY_SIZE];
  unsigned i;
  bool known = false;
  int error;

  if ((error = rr_backup_day_key(key, sizeof(key), it->day, it->study_uid)) < 0)
    return rr_fail(err, errsize, error, "backup item %lld has no valid day", (long long)it->id);
  pthread_mutex_lock(&q->lock);
  for (i = 0; i < MARKERS && !known; i++)
    known = strcmp(q->markers[i], key) == 0;
  pthread_mutex_unlock(&q->lock);
  if (known)
    return 0;
  if ((error = rr_backup_target_put(t, key, "", 0, err, errsize)) < 0)
    return error;
  pthread_mutex_lock(&q->lock);
  rr_str_copy(q->markers[q->marker_next], sizeof(q->markers[0]), key);
  q->marker_next = (q->marker_next + 1) % MARKERS;
  pthread_mutex_unlock(&q->lock);
  return 0;
}

/* Read, seal and put one claimed item; sha256/size on success. */
static int copy_item(rr_backup_queue *q, rr_backup_target *t, const rr_backup_item *it, char sha256[65],
                     int64_t *size, char *err, size_t errsize)
{
  char uri[RR_OID_SIZE + 32], *file = NULL;
  size_t len = 0;
  rr_buf sealed;
  int error;

  rr_buf_init(&sealed, RR_BACKUP_MAX_OBJECT_BYTES + RR_BACKUP_OBJECT_HEADER + RR_BACKUP_SEAL_OVERHEAD);
  if (q->o.source.get_raw == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "no way to read instances from Orthanc");
    goto out;
  }
  snprintf(uri, sizeof(uri), "/instances/%s/file", it->orthanc_id);
  error = q->o.source.get_raw(q->o.source.ctx, &file, &len, uri, RR_BACKUP_MAX_OBJECT_BYTES, err, errsize);
  if (error == RR_ENOTFOUND) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "the instance is no longer in Orthanc (deleted before it was copied)");
    goto out;
  }
  if (error < 0)
    goto out;
  if ((error = rr_backup_object_seal(&sealed, sha256, q->o.key, it->object_key, file, len, err, errsize)) < 0 ||
      (error = rr_backup_target_put(t, it->object_key, sealed.ptr, sealed.len, err, errsize)) < 0 ||
      (error = put_marker(q, t, it, err, errsize)) < 0)
    goto out;
  *size = (int64_t)len;
out:
  free(file);
  rr_buf_dispose(&sealed);
  return error;
}

static void record(rr_backup_queue *q, int error, int64_t size, const char *what)
{
  pthread_mutex_lock(&q->lock);
  if (error == 0) {
    q->copied++;
    q->bytes += size;
  } else {
    rr_str_copy(q->last_error, sizeof(q->last_error), what);
    q->last_error_at = rr_clock_unix_ms();
  }
  pthread_mutex_unlock(&q->lock);
}

int rr_backup_queue_run_one(rr_backup_queue *q, rr_backup_target *target, unsigned index, bool *ran)
{
  char claimer[RR_BACKUP_CLAIMER_SIZE], err[ERR_SIZE] = "", err2[ERR_SIZE] = "", sha[65] = "";
  rr_backup_item it;
  int64_t size = 0;
  int error;

  *ran = false;
  snprintf(claimer, sizeof(claimer), "%s/%u", q->claimer, index + 1);
  error = rr_store_backup_claim(q->store, &it, q->target_name, claimer, q->o.lease_ms, q->o.max_attempts,
                                rr_clock_unix_ms(), err, sizeof(err));
  if (error == RR_ENOTFOUND)
    return 0;
  if (error < 0) {
    rr_log_error("backup: cannot claim from the queue: %s", err);
    return error;
  }
  *ran = true;
  error = copy_item(q, target, &it, sha, &size, err, sizeof(err));
  record(q, error, size, err);
  if (error == 0)
    error = rr_store_backup_done(q->store, it.id, claimer, sha, size, rr_clock_unix_ms(), err2, sizeof(err2));
  else if (rr_store_backup_fail(q->store, &it, it.id, claimer, err, q->o.max_attempts, rr_clock_unix_ms(), err2,
                                sizeof(err2)) == 0)
    rr_log_warning("backup: item %lld (try %lld of %u) failed: %s%s", (long long)it.id, (long long)it.attempts,
                   q->o.max_attempts, err, strcmp(it.state, "failed") == 0 ? " — now a dead letter" : "");
  else
    rr_log_error("backup: item %lld failed (%s) and the failure could not be recorded: %s", (long long)it.id, err,
                 err2);
  if (error == 0 || err2[0] == '\0')
    return 0;
  rr_log_error("backup: item %lld copied but not recorded: %s", (long long)it.id, err2);
  return error;
}

static void work(void *arg, unsigned index)
{
  rr_backup_queue *q = arg;
  rr_backup_target *t = NULL;
  char err[ERR_SIZE] = "";
  struct timespec ts;
  unsigned seen;
  bool ran = false;
  int rc;

  pthread_mutex_lock(&q->lock);
  while (!rr_workers_stopping(&q->workers)) {
    seen = q->poked;
    pthread_mutex_unlock(&q->lock);
    if (t == NULL && (rc = q->o.make_target(q->o.make_target_ctx, &t, err, sizeof(err))) < 0) {
      record(q, rc, 0, err);
      rr_log_error("backup: worker %u cannot reach the %s target: %s", index + 1, q->target_name, err);
      ran = false;
    } else {
      rc = rr_backup_queue_run_one(q, t, index, &ran);
    }
    pthread_mutex_lock(&q->lock);
    if (rc == 0 && ran)
      continue; /* more may be due */
    if (q->poked != seen)
      continue;
    rr_clock_deadline(&ts, rc == 0 ? q->o.idle_ms : 5000);
    rr_clock_cond_wait_until(&q->wake, &q->lock, &ts);
  }
  pthread_mutex_unlock(&q->lock);
  rr_backup_target_free(t);
}

int rr_backup_queue_start(rr_backup_queue *q)
{
  int error;

  if (q == NULL || rr_workers_running(&q->workers))
    return 0;
  if ((error = rr_workers_start(&q->workers, q->o.workers, work, q)) < 0) {
    rr_log_error("backup: cannot start the backup workers");
    return RR_ERROR;
  }
  if (q->workers.count < q->o.workers)
    rr_log_warning("backup: %u of %u workers started", q->workers.count, q->o.workers);
  rr_log_info("backup: %u worker(s) copying to the %s target", q->workers.count, q->target_name);
  return 0;
}

void rr_backup_queue_stop(rr_backup_queue *q)
{
  if (q != NULL)
    rr_workers_stop(&q->workers, NULL, NULL);
}

void rr_backup_queue_free(rr_backup_queue *q)
{
  if (q == NULL)
    return;
  rr_backup_queue_stop(q);
  pthread_cond_destroy(&q->wake);
  pthread_mutex_destroy(&q->lock);
  rr_backup_key_wipe(q->o.key, sizeof(q->o.key));
  free(q);
}
