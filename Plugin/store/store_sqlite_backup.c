/*
 * store_sqlite_backup.c - the SQLite backend's backup concern: the durable
 * off-site backup queue and its catalogue (contract in store_backup.h;
 * table in Resources/sqlite/010_backup.sql). Claims, results, failures and
 * re-drives each run in one immediate transaction on the writer connection,
 * so two claimers never hold the same item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS                                                                                              \
  "id, target, object_key, kind, orthanc_id, study_uid, sop_uid, day, state, attempts, last_error,"        \
  " claimed_by, sha256, size, next_attempt_at, lease_until, created_at, updated_at, done_at"

static const char INTERRUPTED[] = "the try was interrupted (the process stopped or hung) and no attempts are left";

static void read_item(rr_backup_item *o, sqlite3_stmt *st)
{
  memset(o, 0, sizeof(*o));
  o->id = sqlite3_column_int64(st, 0);
  rr_sqlite_column_copy(o->target, sizeof(o->target), st, 1);
  rr_sqlite_column_copy(o->object_key, sizeof(o->object_key), st, 2);
  rr_sqlite_column_copy(o->kind, sizeof(o->kind), st, 3);
  rr_sqlite_column_copy(o->orthanc_id, sizeof(o->orthanc_id), st, 4);
  rr_sqlite_column_copy(o->study_uid, sizeof(o->study_uid), st, 5);
  rr_sqlite_column_copy(o->sop_uid, sizeof(o->sop_uid), st, 6);
  rr_sqlite_column_copy(o->day, sizeof(o->day), st, 7);
  rr_sqlite_column_copy(o->state, sizeof(o->state), st, 8);
  o->attempts = sqlite3_column_int64(st, 9);
  rr_sqlite_column_copy(o->last_error, sizeof(o->last_error), st, 10);
  rr_sqlite_column_copy(o->claimed_by, sizeof(o->claimed_by), st, 11);
  rr_sqlite_column_copy(o->sha256, sizeof(o->sha256), st, 12);
  o->size = sqlite3_column_int64(st, 13);
  o->next_attempt_at = sqlite3_column_int64(st, 14);
  o->lease_until = sqlite3_column_int64(st, 15);
  o->created_at = sqlite3_column_int64(st, 16);
  o->updated_at = sqlite3_column_int64(st, 17);
  o->done_at = sqlite3_column_int64(st, 18);
}

static int read_item_row(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  read_item(elem, st);
  return 0;
}

/* One item by id on db; RR_ENOTFOUND with a sentence. */
static int get_item(sqlite3 *db, rr_backup_item *o, int64_t id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db, "SELECT " COLUMNS " FROM backup_items WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare backup item");
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    read_item(o, st);
  else if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no backup item %lld", (long long)id);
  else
    error = rr_sqlite_fail(err, errsize, db, "read backup item");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_enqueue(void *impl, bool *created, const rr_backup_new *n, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int error = 0;

  pthread_mutex_lock(&s->write_lock);
  if (rr_sqlite_run(s->writer.db,
                    "INSERT OR IGNORE INTO backup_items(target, object_key, kind, orthanc_id, study_uid, sop_uid, day,"
                    " next_attempt_at, created_at, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)",
                    "tttttttii", n->target, n->object_key, n->kind, n->orthanc_id, n->study_uid, n->sop_uid, n->day,
                    now, now) < 0)
    error = rr_sqlite_fail(err, errsize, s->writer.db, "enqueue backup item");
  else if (created != NULL)
    *created = sqlite3_changes(s->writer.db) > 0;
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

/* Inside the claim's transaction: the next claimable item of `target`. */
static int next_claimable(sqlite3 *db, rr_backup_item *o, const char *target, const char *claimer, int64_t now,
                          char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db,
                         "SELECT " COLUMNS " FROM backup_items WHERE target=?1 AND"
                         " ((state='queued' AND next_attempt_at<=?2) OR"
                         " (state='running' AND (lease_until<?2 OR claimed_by=?3)))"
                         " ORDER BY id LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare backup claim");
  rr_sqlite_bind_text(st, 1, target);
  sqlite3_bind_int64(st, 2, now);
  rr_sqlite_bind_text(st, 3, claimer);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    read_item(o, st);
  else if (rc == SQLITE_DONE)
    error = RR_ENOTFOUND;
  else
    error = rr_sqlite_fail(err, errsize, db, "claim backup item");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_claim(void *impl, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
                        int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  /* expired leases (or this claimer's own, left by its previous process)
   * without attempts left: dead letters */
  if (rr_sqlite_run(db,
                    "UPDATE backup_items SET state='failed', last_error=?1, updated_at=?2 WHERE target=?3 AND"
                    " state='running' AND (lease_until<?2 OR claimed_by=?5) AND attempts>=?4",
                    "titit", INTERRUPTED, now, target, max_attempts, claimer) < 0) {
    error = rr_sqlite_fail(err, errsize, db, "end interrupted backup items");
    goto out;
  }
  if ((error = next_claimable(db, out, target, claimer, now, err, errsize)) < 0)
    goto out;
  if (rr_sqlite_run(db,
                    "UPDATE backup_items SET state='running', claimed_by=?2, attempts=attempts+1, lease_until=?3,"
                    " updated_at=?4 WHERE id=?1",
                    "itii", out->id, claimer, now + lease_ms, now) < 0) {
    error = rr_sqlite_fail(err, errsize, db, "claim backup item");
    goto out;
  }
  rr_str_copy(out->state, sizeof(out->state), "running");
  rr_str_copy(out->claimed_by, sizeof(out->claimed_by), claimer);
  out->attempts++;
  out->lease_until = now + lease_ms;
  out->updated_at = now;
out:
  if (error == RR_ENOTFOUND) {
    error = rr_sqlite_end(s, 0, err, errsize); /* the dead letters stay */
    memset(out, 0, sizeof(*out));
    return error < 0 ? error : RR_ENOTFOUND;
  }
  return rr_sqlite_end(s, error, err, errsize);
}

/* Inside a transaction: the item must be running for `claimer`. */
static int held_item(sqlite3 *db, rr_backup_item *o, int64_t id, const char *claimer, char *err, size_t errsize)
{
  int error = get_item(db, o, id, err, errsize);

  if (error == 0 && (strcmp(o->state, "running") != 0 || strcmp(o->claimed_by, claimer) != 0))
    error = rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s%s, not held by this claimer", (long long)id,
                    o->state, strcmp(o->state, "running") == 0 ? " by another claimer" : "");
  return error;
}

static int sqlite_done(void *impl, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now,
                       char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_backup_item o;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = held_item(s->writer.db, &o, id, claimer, err, errsize)) == 0 &&
      rr_sqlite_run(s->writer.db,
                    "UPDATE backup_items SET state='done', last_error='', sha256=?2, size=?3, updated_at=?4, done_at=?4,"
                    " lease_until=0 WHERE id=?1",
                    "itii", id, sha256, size, now) < 0)
    error = rr_sqlite_fail(err, errsize, s->writer.db, "mark backup item done");
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_fail(void *impl, rr_backup_item *out, int64_t id, const char *claimer, const char *error_text,
                       int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_backup_item o;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = held_item(s->writer.db, &o, id, claimer, err, errsize)) == 0) {
    bool last = o.attempts >= max_attempts;
    rr_str_copy(o.state, sizeof(o.state), last ? "failed" : "queued");
    rr_str_copy(o.last_error, sizeof(o.last_error), error_text && error_text[0] ? error_text : "failed");
    o.next_attempt_at = last ? now : now + rr_backup_backoff_ms(o.attempts);
    o.lease_until = 0;
    o.updated_at = now;
    if (rr_sqlite_run(s->writer.db,
                      "UPDATE backup_items SET state=?2, last_error=?3, next_attempt_at=?4, lease_until=0,"
                      " updated_at=?5 WHERE id=?1",
                      "ittii", id, o.state, o.last_error, o.next_attempt_at, now) < 0)
      error = rr_sqlite_fail(err, errsize, s->writer.db, "record backup failure");
  }
  error = rr_sqlite_end(s, error, err, errsize);
  if (error == 0 && out != NULL)
    *out = o;
  return error;
}

static int sqlite_redrive(void *impl, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_backup_item o;
  int error = 0;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if (id != 0 && (error = get_item(s->writer.db, &o, id, err, errsize)) == 0 && strcmp(o.state, "failed") != 0)
    error = rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s, not failed", (long long)id, o.state);
  if (error == 0) {
    if (rr_sqlite_run(s->writer.db,
                      "UPDATE backup_items SET state='queued', attempts=0, next_attempt_at=?2, updated_at=?2"
                      " WHERE state='failed' AND (?1=0 OR id=?1)",
                      "ii", id, now) < 0)
      error = rr_sqlite_fail(err, errsize, s->writer.db, "re-drive backup items");
    else if (count != NULL)
      *count = sqlite3_changes(s->writer.db);
  }
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_get(void *impl, rr_backup_item *out, int64_t id, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  int error = get_item(c->db, out, id, err, errsize);

  rr_sqlite_reader_release(s, c);
  return error;
}


static int sqlite_list(void *impl, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  rr_backup_item_list *list = calloc(1, sizeof(*list));
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (list == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db,
                         "SELECT " COLUMNS " FROM backup_items WHERE (?1='' OR target=?1) AND (?2='' OR state=?2)"
                         " AND (?3='' OR study_uid=?3) AND (?4='' OR day>=?4) AND id>?5 ORDER BY id LIMIT ?6",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare backup list");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, q->target);
  rr_sqlite_bind_text(st, 2, q->state);
  rr_sqlite_bind_text(st, 3, q->study_uid);
  rr_sqlite_bind_text(st, 4, q->since_day);
  sqlite3_bind_int64(st, 5, q->after_id);
  sqlite3_bind_int64(st, 6, q->limit);
  if ((error = rr_sqlite_step_rows(st, &rr_backup_item_list_kind, list, 4, read_item_row, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "read backup items");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_backup_item_list_free(list);
  return error;
}

static int sqlite_counts(void *impl, rr_backup_counts *out, const char *target, int64_t now, char *err,
                         size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(c->db,
                         "SELECT COALESCE(SUM(state='queued'),0), COALESCE(SUM(state='running'),0),"
                         " COALESCE(SUM(state='done'),0), COALESCE(SUM(state='failed'),0),"
                         " COALESCE(MIN(CASE WHEN state IN ('queued','running') THEN created_at END),0),"
                         " COALESCE(MAX(done_at),0), COALESCE(SUM(state='done' AND done_at>?2-3600000),0)"
                         " FROM backup_items WHERE (?1='' OR target=?1)",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare backup counts");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, target);
  sqlite3_bind_int64(st, 2, now);
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, c->db, "count backup items");
    goto out;
  }
  out->queued = sqlite3_column_int64(st, 0);
  out->running = sqlite3_column_int64(st, 1);
  out->done = sqlite3_column_int64(st, 2);
  out->failed = sqlite3_column_int64(st, 3);
  out->oldest_waiting_at = sqlite3_column_int64(st, 4);
  out->last_done_at = sqlite3_column_int64(st, 5);
  out->done_last_hour = sqlite3_column_int64(st, 6);
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT last_error, updated_at FROM backup_items WHERE (?1='' OR target=?1) AND"
                         " last_error<>'' AND state IN ('queued','failed') ORDER BY updated_at DESC, id DESC LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare backup last error");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, target);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rr_sqlite_column_copy(out->last_error, sizeof(out->last_error), st, 0);
    out->last_error_at = sqlite3_column_int64(st, 1);
  } else if (rc != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, c->db, "read backup last error");
  }
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  return error;
}

const rr_store_backup_ops rr_sqlite_backup_ops = {
  sqlite_enqueue, sqlite_claim, sqlite_done, sqlite_fail, sqlite_redrive, sqlite_get, sqlite_list, sqlite_counts,
};
