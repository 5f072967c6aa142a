#include "audit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/anchor.h"
#include "audit/chain.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"
#include "util/worker.h"

#define MAX_BACKOFF_MS 5000
#define STOP_GRACE_MS 5000
#define ANCHOR_EVERY 256 /* records appended between anchor writes at most */

struct rr_audit {
  rr_store *store;
  rr_workers writer;    /* one thread; its stop flag is under lock */
  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t wake;  /* the writer: records queued, or stop */
  pthread_cond_t idle;  /* flush: the queue emptied */
  rr_audit_rec *ring;
  size_t capacity, head, count;
  rr_audit_stats stats;
  /* the head anchor (anchor.h); anchor_path "" = none. `anchor` and the
   * stats' anchor fields are guarded by `lock`; only the writer thread (and
   * rr_audit_set_anchor before it starts) writes the file */
  char anchor_path[4096];
  rr_audit_anchor anchor;
  rr_audit_anchor pending; /* appended, not yet written to the file */
  unsigned since_anchor;
};

/* Writer thread, without the lock: move the anchor to `pending` (after the
 * record it names is in the store), unless a tampering was seen. */
static void write_anchor(rr_audit *a)
{
  char err[256] = "";
  rr_audit_anchor next;
  int error;

  pthread_mutex_lock(&a->lock);
  next = a->pending;
  if (a->anchor_path[0] == '\0' || a->stats.anchor_problem[0] != '\0' || next.seq <= a->anchor.seq) {
    pthread_mutex_unlock(&a->lock);
    return;
  }
  pthread_mutex_unlock(&a->lock);
  error = rr_audit_anchor_write(a->anchor_path, &next, err, sizeof(err));
  pthread_mutex_lock(&a->lock);
  if (error == 0) {
    a->anchor = next;
    a->stats.anchor_seq = next.seq;
    rr_str_copy(a->stats.anchor_hash, sizeof(a->stats.anchor_hash), next.hash);
    a->stats.anchor_error[0] = '\0';
    a->since_anchor = 0;
  } else {
    if (a->stats.anchor_error[0] == '\0')
      rr_log_error("audit: %s", err);
    rr_str_copy(a->stats.anchor_error, sizeof(a->stats.anchor_error), err);
  }
  pthread_mutex_unlock(&a->lock);
}

/* Writer thread, lock held: `rec` was appended. A sequence at or below the
 * anchor means the newest records were deleted under the running plugin:
 * the anchor then stays where it is, as evidence. */
static void note_appended(rr_audit *a, const rr_audit_rec *rec)
{
  if (a->anchor_path[0] == '\0' || a->stats.anchor_problem[0] != '\0')
    return;
  if (rec->seq <= a->anchor.seq) {
    snprintf(a->stats.anchor_problem, sizeof(a->stats.anchor_problem),
             "head missing: %" PRId64 " records deleted after #%" PRId64 " (the anchor is at #%" PRId64 ")",
             a->anchor.seq - (rec->seq - 1), rec->seq - 1, a->anchor.seq);
    rr_log_error("audit: the trail's head does not match its anchor: %s", a->stats.anchor_problem);
    return;
  }
  a->pending.seq = rec->seq;
  rr_str_copy(a->pending.hash, sizeof(a->pending.hash), rec->hash);
  a->since_anchor++;
}

static void write_queue(void *arg, unsigned index)
{
  rr_audit *a = arg;
  rr_audit_rec rec;
  char err[256];
  struct timespec ts;
  int backoff = 0, error;
  int64_t stop_deadline = 0;

  (void)index;
  pthread_mutex_lock(&a->lock);
  for (;;) {
    while (a->count == 0 && !rr_workers_stopping(&a->writer))
      pthread_cond_wait(&a->wake, &a->lock);
    if (a->count == 0)
      break; /* stopping, nothing left */
    if (rr_workers_stopping(&a->writer) && stop_deadline == 0)
      stop_deadline = rr_clock_mono_ms() + STOP_GRACE_MS;
    if (stop_deadline != 0 && rr_clock_mono_ms() > stop_deadline)
      break; /* the store does not come back: give up on what is left */
    rec = a->ring[a->head];
    pthread_mutex_unlock(&a->lock);

    err[0] = '\0';
    error = rr_store_audit_append(a->store, &rec, rr_audit_hash, err, sizeof(err));

    pthread_mutex_lock(&a->lock);
    if (error == 0) {
      note_appended(a, &rec);
      /* anchored before the queue counts as empty, so that a flush
       * returns with the anchor current */
      if (a->count == 1 || a->since_anchor >= ANCHOR_EVERY) {
        pthread_mutex_unlock(&a->lock);
        write_anchor(a);
        pthread_mutex_lock(&a->lock);
      }
      a->head = (a->head + 1) % a->capacity;
      a->count--;
      a->stats.written++;
      a->stats.last_error[0] = '\0';
      backoff = 0;
      if (a->count == 0)
        pthread_cond_broadcast(&a->idle);
      continue;
    }
    a->stats.failures++;
    if (a->since_anchor > 0) {
      pthread_mutex_unlock(&a->lock);
      write_anchor(a);
      pthread_mutex_lock(&a->lock);
    }
    rr_str_copy(a->stats.last_error, sizeof(a->stats.last_error), err);
    rr_log_warning("audit: cannot write to the store (%s); retrying", err);
    backoff = backoff == 0 ? 50 : (backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2);
    rr_clock_deadline(&ts, backoff);
    while (!rr_workers_stopping(&a->writer) && !rr_clock_cond_wait_until(&a->wake, &a->lock, &ts))
      ;
  }
  if (a->count > 0) {
    a->stats.dropped += (int64_t)a->count;
    rr_log_error("audit: %zu records could not be written before stopping", a->count);
    a->count = 0;
  }
  pthread_cond_broadcast(&a->idle);
  pthread_mutex_unlock(&a->lock);
}

int rr_audit_new(rr_audit **out, rr_store *store, size_t queue_capacity)
{
  rr_audit *a;
  int wake_made = 0, error = RR_ENOMEM;

  *out = NULL;
  if (store == NULL || queue_capacity == 0)
    return RR_EINVAL;
  if ((a = calloc(1, sizeof(*a))) == NULL)
    return RR_ENOMEM;
  if ((a->ring = calloc(queue_capacity, sizeof(*a->ring))) == NULL)
    goto fail;
  error = RR_ERROR;
  if (rr_clock_cond_init(&a->wake) < 0)
    goto fail;
  wake_made = 1;
  if (rr_clock_cond_init(&a->idle) < 0)
    goto fail;
  a->store = store;
  a->capacity = queue_capacity;
  pthread_mutex_init(&a->lock, NULL);
  rr_workers_init(&a->writer, &a->lock, &a->wake);
  *out = a;
  return 0;
fail:
  if (wake_made)
    pthread_cond_destroy(&a->wake);
  free(a->ring);
  free(a);
  return error;
}

int rr_audit_start(rr_audit *a)
{
  return rr_workers_start(&a->writer, 1, write_queue, a);
}

void rr_audit_stop(rr_audit *a)
{
  if (a != NULL)
    rr_workers_stop(&a->writer, NULL, NULL);
}

void rr_audit_free(rr_audit *a)
{
  if (a == NULL)
    return;
  rr_audit_stop(a);
  pthread_mutex_destroy(&a->lock);
  pthread_cond_destroy(&a->wake);
  pthread_cond_destroy(&a->idle);
  free(a->ring);
  free(a);
}

void rr_audit_log(rr_audit *a, const char *username, const char *role, const char *source, const char *action,
                  const char *resource, const char *outcome, const char *detail)
{
  rr_audit_rec *r;

  if (a == NULL)
    return;
  pthread_mutex_lock(&a->lock);
  if (a->count == a->capacity) {
    a->stats.dropped++;
    pthread_mutex_unlock(&a->lock);
    return;
  }
  r = &a->ring[(a->head + a->count) % a->capacity];
  memset(r, 0, sizeof(*r));
  r->at_ms = rr_clock_unix_ms();
  rr_str_copy(r->username, sizeof(r->username), username);
  rr_str_copy(r->role, sizeof(r->role), role);
  rr_str_copy(r->source, sizeof(r->source), source);
  rr_str_copy(r->action, sizeof(r->action), action);
  rr_str_copy(r->resource, sizeof(r->resource), resource);
  rr_str_copy(r->outcome, sizeof(r->outcome), outcome);
  rr_str_copy(r->detail, sizeof(r->detail), detail);
  a->count++;
  pthread_cond_signal(&a->wake);
  pthread_mutex_unlock(&a->lock);
}

void rr_audit_get_stats(rr_audit *a, rr_audit_stats *out)
{
  pthread_mutex_lock(&a->lock);
  *out = a->stats;
  out->queued = (int64_t)a->count;
  pthread_mutex_unlock(&a->lock);
}

int rr_audit_flush(rr_audit *a, int timeout_ms)
{
  struct timespec ts;
  int error = 0;

  rr_clock_deadline(&ts, timeout_ms);
  pthread_mutex_lock(&a->lock);
  while (a->count > 0 && error == 0)
    if (rr_clock_cond_wait_until(&a->idle, &a->lock, &ts))
      error = RR_EFULL;
  pthread_mutex_unlock(&a->lock);
  return error;
}

int rr_audit_set_anchor(rr_audit *a, const char *path, char *err, size_t errsize)
{
  rr_audit_anchor file, head;
  char reason[256] = "";
  bool ok = true;
  int error;

  if (rr_str_copy(a->anchor_path, sizeof(a->anchor_path), path) >= sizeof(a->anchor_path)) {
    a->anchor_path[0] = '\0';
    return rr_fail(err, errsize, RR_EINVAL, "the audit anchor's path is too long");
  }
  if ((error = rr_audit_anchor_of_store(&head, a->store, err, errsize)) < 0)
    goto fail;
  error = rr_audit_anchor_read(&file, path, reason, sizeof(reason));
  if (error == RR_ENOTFOUND) {
    if (head.seq > 0)
      rr_log_warning("audit: no anchor file %s: anchoring the trail's head at #%" PRId64
                     " (expected once after an upgrade; otherwise the file was removed)", path, head.seq);
    if ((error = rr_audit_anchor_write(path, &head, err, errsize)) < 0)
      goto fail;
    file = head;
  } else if (error == RR_EINVAL) {
    ok = false; /* reason says so */
  } else if (error < 0) {
    rr_str_copy(err, errsize, reason);
    goto fail;
  } else if ((error = rr_audit_anchor_check(&ok, reason, sizeof(reason), &file, a->store, err, errsize)) < 0) {
    goto fail;
  }
  if (ok && head.seq > file.seq) {
    /* appended, not anchored before the plugin stopped (at most a few) */
    if ((error = rr_audit_anchor_write(path, &head, err, errsize)) < 0)
      goto fail;
    file = head;
  }
  pthread_mutex_lock(&a->lock);
  a->stats.anchored = true;
  if (ok) {
    a->anchor = file;
    a->pending = file;
    a->stats.anchor_seq = file.seq;
    rr_str_copy(a->stats.anchor_hash, sizeof(a->stats.anchor_hash), file.hash);
  } else {
    a->anchor = (error == RR_EINVAL) ? head : file;
    a->stats.anchor_seq = a->anchor.seq;
    rr_str_copy(a->stats.anchor_hash, sizeof(a->stats.anchor_hash), a->anchor.hash);
    rr_str_copy(a->stats.anchor_problem, sizeof(a->stats.anchor_problem), reason);
    rr_log_error("audit: the trail's head does not match its anchor %s: %s", path, reason);
  }
  pthread_mutex_unlock(&a->lock);
  return 0;
fail:
  a->anchor_path[0] = '\0';
  return error;
}

int rr_audit_check_head(rr_audit *a, rr_audit_verification *v, rr_store *store, char *err, size_t errsize)
{
  rr_audit_anchor anchor;
  char problem[256], reason[256] = "";
  bool ok = true, anchored;
  int error;

  if (a == NULL || !v->intact)
    return 0;
  pthread_mutex_lock(&a->lock);
  anchored = a->anchor_path[0] != '\0';
  anchor = a->anchor;
  rr_str_copy(problem, sizeof(problem), a->stats.anchor_problem);
  pthread_mutex_unlock(&a->lock);
  if (!anchored)
    return 0;
  if (problem[0] != '\0') {
    ok = false;
    rr_str_copy(reason, sizeof(reason), problem);
  } else if ((error = rr_audit_anchor_check(&ok, reason, sizeof(reason), &anchor, store, err, errsize)) < 0) {
    return error;
  }
  if (!ok) {
    v->intact = false;
    v->first_broken = anchor.seq;
    rr_str_copy(v->reason, sizeof(v->reason), reason);
  }
  return 0;
}
