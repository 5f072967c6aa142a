/*
 * store_sqlite_report_outputs.c - the SQLite backend's report outputs
 * concern: the durable queue of report objects for the archive (contract in
 * store_report_outputs.h; table in Resources/sqlite/009). Claims, results
 * and failures each run in one immediate transaction on the writer
 * connection, so two claimers never take the same job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS                                                                                               \
  "report_id, version, kind, state, attempts, last_error, claimed_by, orthanc_id, sop_instance_uid,"        \
  " next_attempt_at, created_at, updated_at, done_at"
#define KIND_ORDER "CASE kind WHEN 'pdf' THEN 0 WHEN 'sr' THEN 1 ELSE 2 END"

static const char INTERRUPTED[] = "the try was interrupted (the process stopped) and no attempts are left";

static bool kind_valid(const char *kind)
{
  return kind != NULL && (strcmp(kind, "pdf") == 0 || strcmp(kind, "sr") == 0 || strcmp(kind, "kos") == 0);
}

static void read_job(rr_report_output *o, sqlite3_stmt *st)
{
  memset(o, 0, sizeof(*o));
  o->report_id = sqlite3_column_int64(st, 0);
  o->version = sqlite3_column_int64(st, 1);
  rr_sqlite_column_copy(o->kind, sizeof(o->kind), st, 2);
  rr_sqlite_column_copy(o->state, sizeof(o->state), st, 3);
  o->attempts = sqlite3_column_int64(st, 4);
  rr_sqlite_column_copy(o->last_error, sizeof(o->last_error), st, 5);
  rr_sqlite_column_copy(o->claimed_by, sizeof(o->claimed_by), st, 6);
  rr_sqlite_column_copy(o->orthanc_id, sizeof(o->orthanc_id), st, 7);
  rr_sqlite_column_copy(o->sop_instance_uid, sizeof(o->sop_instance_uid), st, 8);
  o->next_attempt_at = sqlite3_column_int64(st, 9);
  o->created_at = sqlite3_column_int64(st, 10);
  o->updated_at = sqlite3_column_int64(st, 11);
  o->done_at = sqlite3_column_int64(st, 12);
}

/* The job (report, version, kind) read on `db` (inside the caller's
 * transaction); RR_ENOTFOUND with a sentence when there is none. */
static int get_job(sqlite3 *db, rr_report_output *o, int64_t report_id, int64_t version, const char *kind, char *err,
                   size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM report_outputs WHERE report_id=?1 AND version=?2 AND kind=?3",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report output");
  sqlite3_bind_int64(st, 1, report_id);
  sqlite3_bind_int64(st, 2, version);
  rr_sqlite_bind_text(st, 3, kind);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    read_job(o, st);
  else if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no %s output of report %lld version %lld", kind,
                    (long long)report_id, (long long)version);
  else
    error = rr_sqlite_fail(err, errsize, db, "read report output");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_enqueue(void *impl, bool *created, int64_t report_id, int64_t version, const char *kind,
                          int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (created != NULL)
    *created = false;
  if (!kind_valid(kind) || report_id < 1 || version < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a report output needs a report id, a version and a kind (pdf, sr, kos)");
  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db,
                         "INSERT OR IGNORE INTO report_outputs(report_id, version, kind, next_attempt_at, created_at,"
                         " updated_at) VALUES(?1, ?2, ?3, ?4, ?4, ?4)",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, s->writer.db, "prepare report output enqueue");
    goto out;
  }
  sqlite3_bind_int64(st, 1, report_id);
  sqlite3_bind_int64(st, 2, version);
  rr_sqlite_bind_text(st, 3, kind);
  sqlite3_bind_int64(st, 4, now);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, s->writer.db, "enqueue report output");
  else if (created != NULL)
    *created = sqlite3_changes(s->writer.db) > 0;
out:
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* Inside the claim's transaction: does `claimer` hold a running job? */
static int holds_job(sqlite3 *db, bool *holds, const char *claimer, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc;

  if (sqlite3_prepare_v2(db, "SELECT 1 FROM report_outputs WHERE state='running' AND claimed_by=?1 LIMIT 1", -1, &st,
                         NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare claimer check");
  rr_sqlite_bind_text(st, 1, claimer);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return rr_sqlite_fail(err, errsize, db, "check claimer");
  *holds = rc == SQLITE_ROW;
  return 0;
}

static int next_due(sqlite3 *db, rr_report_output *o, int64_t now, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db,
                         "SELECT " COLUMNS " FROM report_outputs WHERE state='queued' AND next_attempt_at<=?1"
                         " ORDER BY created_at, report_id, version, " KIND_ORDER " LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report output claim");
  sqlite3_bind_int64(st, 1, now);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    read_job(o, st);
  else if (rc == SQLITE_DONE)
    error = RR_ENOTFOUND;
  else
    error = rr_sqlite_fail(err, errsize, db, "claim report output");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_claim(void *impl, rr_report_output *out, const char *claimer, int64_t now, char *err,
                        size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3_stmt *st = NULL;
  bool holds = false;
  int error;

  memset(out, 0, sizeof(*out));
  if (claimer == NULL || claimer[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a claim needs the claimer's name");
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = holds_job(s->writer.db, &holds, claimer, err, errsize)) < 0)
    goto out;
  if (holds) {
    error = rr_fail(err, errsize, RR_ECONFLICT, "this claimer holds a running report output already");
    goto out;
  }
  if ((error = next_due(s->writer.db, out, now, err, errsize)) < 0)
    goto out;
  if (sqlite3_prepare_v2(s->writer.db,
                         "UPDATE report_outputs SET state='running', claimed_by=?4, attempts=attempts+1, updated_at=?5"
                         " WHERE report_id=?1 AND version=?2 AND kind=?3",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, s->writer.db, "prepare report output claim");
    goto out;
  }
  sqlite3_bind_int64(st, 1, out->report_id);
  sqlite3_bind_int64(st, 2, out->version);
  rr_sqlite_bind_text(st, 3, out->kind);
  rr_sqlite_bind_text(st, 4, claimer);
  sqlite3_bind_int64(st, 5, now);
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, s->writer.db, "claim report output");
    goto out;
  }
  rr_str_copy(out->state, sizeof(out->state), "running");
  rr_str_copy(out->claimed_by, sizeof(out->claimed_by), claimer);
  out->attempts++;
  out->updated_at = now;
out:
  sqlite3_finalize(st);
  if (error == RR_ENOTFOUND) {
    rr_sqlite_end(s, 0, NULL, 0); /* nothing written */
    return RR_ENOTFOUND;
  }
  return rr_sqlite_end(s, error, err, errsize);
}

/* Inside a transaction: the job must exist and be running. */
static int running_job(sqlite3 *db, rr_report_output *o, int64_t report_id, int64_t version, const char *kind,
                       char *err, size_t errsize)
{
  int error = get_job(db, o, report_id, version, kind, err, errsize);

  if (error == 0 && strcmp(o->state, "running") != 0)
    error = rr_fail(err, errsize, RR_ECONFLICT, "the %s output of report %lld version %lld is %s, not running", kind,
                    (long long)report_id, (long long)version, o->state);
  return error;
}

/* Write the state fields of o back. */
static int write_state(sqlite3 *db, const rr_report_output *o, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (sqlite3_prepare_v2(db,
                         "UPDATE report_outputs SET state=?4, last_error=?5, orthanc_id=?6, sop_instance_uid=?7,"
                         " next_attempt_at=?8, updated_at=?9, done_at=?10, attempts=?11"
                         " WHERE report_id=?1 AND version=?2 AND kind=?3",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report output update");
  sqlite3_bind_int64(st, 1, o->report_id);
  sqlite3_bind_int64(st, 2, o->version);
  rr_sqlite_bind_text(st, 3, o->kind);
  rr_sqlite_bind_text(st, 4, o->state);
  rr_sqlite_bind_text(st, 5, o->last_error);
  rr_sqlite_bind_text(st, 6, o->orthanc_id);
  rr_sqlite_bind_text(st, 7, o->sop_instance_uid);
  sqlite3_bind_int64(st, 8, o->next_attempt_at);
  sqlite3_bind_int64(st, 9, o->updated_at);
  sqlite3_bind_int64(st, 10, o->done_at);
  sqlite3_bind_int64(st, 11, o->attempts);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, db, "update report output");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_done(void *impl, int64_t report_id, int64_t version, const char *kind, const char *orthanc_id,
                       const char *sop_instance_uid, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_report_output o;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = running_job(s->writer.db, &o, report_id, version, kind, err, errsize)) == 0) {
    rr_str_copy(o.state, sizeof(o.state), "done");
    o.last_error[0] = '\0';
    rr_str_copy(o.orthanc_id, sizeof(o.orthanc_id), orthanc_id);
    rr_str_copy(o.sop_instance_uid, sizeof(o.sop_instance_uid), sop_instance_uid);
    o.updated_at = now;
    o.done_at = now;
    error = write_state(s->writer.db, &o, err, errsize);
  }
  return rr_sqlite_end(s, error, err, errsize);
}

/* 2^attempts seconds, at most the maximum back-off. */
static int64_t backoff_ms(int64_t attempts)
{
  return attempts >= 10 ? RR_REPORT_OUTPUT_MAX_BACKOFF_MS
                        : ((int64_t)1000 << attempts) > RR_REPORT_OUTPUT_MAX_BACKOFF_MS ? RR_REPORT_OUTPUT_MAX_BACKOFF_MS
                                                                                      : (int64_t)1000 << attempts;
}

static int sqlite_fail(void *impl, rr_report_output *out, int64_t report_id, int64_t version, const char *kind,
                       const char *error_text, int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_report_output o;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = running_job(s->writer.db, &o, report_id, version, kind, err, errsize)) == 0) {
    bool last = o.attempts >= max_attempts;
    rr_str_copy(o.state, sizeof(o.state), last ? "failed" : "queued");
    rr_str_copy(o.last_error, sizeof(o.last_error), error_text && error_text[0] ? error_text : "failed");
    o.next_attempt_at = last ? now : now + backoff_ms(o.attempts);
    o.updated_at = now;
    error = write_state(s->writer.db, &o, err, errsize);
  }
  error = rr_sqlite_end(s, error, err, errsize);
  if (error == 0 && out != NULL)
    *out = o;
  return error;
}

/* Run one requeue statement (?1 claimer or NULL, ?2 max, ?3 now, ?4 the
 * interruption's sentence, ?5 stale_before). */
static int requeue_step(sqlite3 *db, const char *sql, int64_t *count, const char *claimer, int64_t stale_before,
                        int64_t max, int64_t now, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report output requeue");
  if (claimer != NULL)
    rr_sqlite_bind_text(st, 1, claimer);
  sqlite3_bind_int64(st, 2, max);
  sqlite3_bind_int64(st, 3, now);
  sqlite3_bind_text(st, 4, INTERRUPTED, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, stale_before);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, db, "requeue report outputs");
  else if (count != NULL)
    *count = sqlite3_changes(db);
  sqlite3_finalize(st);
  return error;
}

#define REQUEUE_WHERE " WHERE state='running' AND ((?1 IS NOT NULL AND claimed_by=?1) OR updated_at<?5)"

static int sqlite_requeue(void *impl, int64_t *requeued, int64_t *failed, const char *claimer, int64_t stale_before,
                          int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int error;

  if (requeued != NULL)
    *requeued = 0;
  if (failed != NULL)
    *failed = 0;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  error = requeue_step(s->writer.db,
                       "UPDATE report_outputs SET state='failed', last_error=?4, updated_at=?3" REQUEUE_WHERE
                       " AND attempts>=?2",
                       failed, claimer, stale_before, max_attempts, now, err, errsize);
  if (error == 0)
    error = requeue_step(s->writer.db,
                         "UPDATE report_outputs SET state='queued', next_attempt_at=?3, updated_at=?3" REQUEUE_WHERE
                         " AND attempts<?2",
                         requeued, claimer, stale_before, max_attempts, now, err, errsize);
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_list(void *impl, rr_report_output_list **out, int64_t report_id, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  rr_report_output_list *list = calloc(1, sizeof(*list));
  sqlite3_stmt *st = NULL;
  size_t cap = 0;
  int rc, error = 0;

  *out = NULL;
  if (list == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db,
                         "SELECT " COLUMNS " FROM report_outputs WHERE report_id=?1 ORDER BY version, " KIND_ORDER,
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare report outputs");
    goto out;
  }
  sqlite3_bind_int64(st, 1, report_id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (rr_store_grow((void **)&list->items, &cap, list->count, sizeof(*list->items), 4) < 0) {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
      goto out;
    }
    read_job(&list->items[list->count++], st);
  }
  if (rc != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, c->db, "read report outputs");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_report_output_list_free(list);
  return error;
}

static int sqlite_retry(void *impl, int64_t report_id, int64_t version, const char *kind, int64_t now, char *err,
                        size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_report_output o;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = get_job(s->writer.db, &o, report_id, version, kind, err, errsize)) == 0) {
    if (strcmp(o.state, "failed") != 0) {
      error = rr_fail(err, errsize, RR_ECONFLICT, "the %s output of report %lld version %lld is %s, not failed", kind,
                      (long long)report_id, (long long)version, o.state);
    } else {
      rr_str_copy(o.state, sizeof(o.state), "queued");
      o.attempts = 0;
      o.next_attempt_at = now;
      o.updated_at = now;
      error = write_state(s->writer.db, &o, err, errsize);
    }
  }
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_counts(void *impl, rr_report_output_counts *out, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int error = 0;

  memset(out, 0, sizeof(*out));
  if (sqlite3_prepare_v2(c->db,
                         "SELECT COALESCE(SUM(state='queued'),0), COALESCE(SUM(state='running'),0),"
                         " COALESCE(SUM(state='done'),0), COALESCE(SUM(state='failed'),0),"
                         " COALESCE(MIN(CASE WHEN state IN ('queued','running') THEN created_at END),0)"
                         " FROM report_outputs",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare report output counts");
  } else if (sqlite3_step(st) != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, c->db, "count report outputs");
  } else {
    out->queued = sqlite3_column_int64(st, 0);
    out->running = sqlite3_column_int64(st, 1);
    out->done = sqlite3_column_int64(st, 2);
    out->failed = sqlite3_column_int64(st, 3);
    out->oldest_waiting_at = sqlite3_column_int64(st, 4);
  }
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  return error;
}

const rr_store_report_outputs_ops rr_sqlite_report_outputs_ops = {
  sqlite_enqueue, sqlite_claim, sqlite_done, sqlite_fail, sqlite_requeue, sqlite_list, sqlite_retry, sqlite_counts,
};
