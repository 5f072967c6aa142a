/*
 * store_sqlite_audit.c - the SQLite backend's audit concern: appending to the
 * hash chain under the write lock, and filtered pages of it.
 */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"

/* ------------------------------------------------------------------ audit */

static const char CHAIN_START[] = "0000000000000000000000000000000000000000000000000000000000000000";

#define AUDIT_COLUMNS "seq, at_ms, username, role, source, action, resource, outcome, detail, prev_hash, hash"

static int read_audit(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_audit_rec *r = elem;

  (void)ctx;
  r->seq = sqlite3_column_int64(st, 0);
  r->at_ms = sqlite3_column_int64(st, 1);
  rr_sqlite_column_copy(r->username, sizeof(r->username), st, 2);
  rr_sqlite_column_copy(r->role, sizeof(r->role), st, 3);
  rr_sqlite_column_copy(r->source, sizeof(r->source), st, 4);
  rr_sqlite_column_copy(r->action, sizeof(r->action), st, 5);
  rr_sqlite_column_copy(r->resource, sizeof(r->resource), st, 6);
  rr_sqlite_column_copy(r->outcome, sizeof(r->outcome), st, 7);
  rr_sqlite_column_copy(r->detail, sizeof(r->detail), st, 8);
  rr_sqlite_column_copy(r->prev_hash, sizeof(r->prev_hash), st, 9);
  rr_sqlite_column_copy(r->hash, sizeof(r->hash), st, 10);
  return 0;
}

static int sqlite_audit_append(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int rc, error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  db = s->writer.db;
  if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare audit tail");
    goto out;
  }
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    rec->seq = sqlite3_column_int64(st, 0) + 1;
    rr_sqlite_column_copy(rec->prev_hash, sizeof(rec->prev_hash), st, 1);
  } else if (rc == SQLITE_DONE) {
    rec->seq = 1;
    rr_str_copy(rec->prev_hash, sizeof(rec->prev_hash), CHAIN_START);
  } else {
    error = rr_sqlite_fail(err, errsize, db, "audit tail");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if ((error = hash(rec->hash, rec->prev_hash, rec)) < 0) {
    error = rr_fail(err, errsize, error, "cannot hash the audit record");
    goto out;
  }
  if (sqlite3_prepare_v2(db, "INSERT INTO audit(" AUDIT_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)", -1, &st,
                         NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare audit");
    goto out;
  }
  sqlite3_bind_int64(st, 1, rec->seq);
  sqlite3_bind_int64(st, 2, rec->at_ms);
  rr_sqlite_bind_text(st, 3, rec->username);
  rr_sqlite_bind_text(st, 4, rec->role);
  rr_sqlite_bind_text(st, 5, rec->source);
  rr_sqlite_bind_text(st, 6, rec->action);
  rr_sqlite_bind_text(st, 7, rec->resource);
  rr_sqlite_bind_text(st, 8, rec->outcome);
  rr_sqlite_bind_text(st, 9, rec->detail);
  rr_sqlite_bind_text(st, 10, rec->prev_hash);
  rr_sqlite_bind_text(st, 11, rec->hash);
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, db, "append audit");
    goto out;
  }
out:
  sqlite3_finalize(st);
  error = rr_sqlite_end(s, error, err, errsize);
  return error;
}

static int sqlite_audit_query(void *impl, rr_audit_list **out, const rr_audit_filter *f, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_audit_list *list = NULL;
  rr_buf sql;
  int error = 0, n = 0;
  uint32_t limit = f->limit < 1 ? 1 : (f->limit > 1000 ? 1000 : f->limit);

  *out = NULL;
  rr_buf_init(&sql, 4096);
  if ((list = rr_store_list_new(&rr_audit_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  /* every filter is always present and bound; an empty one matches all */
  if (rr_buf_printf(&sql,
                    "SELECT " AUDIT_COLUMNS " FROM audit WHERE (?1='' OR username=?1) AND (?2='' OR action=?2)"
                    " AND (?3='' OR resource=?3) AND (?4=0 OR at_ms>=?4) AND (?5=0 OR at_ms<=?5) AND seq>?6"
                    " AND (?7=0 OR seq<?7) ORDER BY seq %s LIMIT %u",
                    f->descending ? "DESC" : "ASC", limit) < 0 ||
      sqlite3_prepare_v2(c->db, sql.ptr, (int)sql.len, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare audit query");
    goto out;
  }
  rr_sqlite_bind_text(st, ++n, f->username);
  rr_sqlite_bind_text(st, ++n, f->action);
  rr_sqlite_bind_text(st, ++n, f->resource);
  sqlite3_bind_int64(st, ++n, f->from_ms);
  sqlite3_bind_int64(st, ++n, f->to_ms);
  sqlite3_bind_int64(st, ++n, f->after_seq);
  sqlite3_bind_int64(st, ++n, f->before_seq);
  if ((error = rr_sqlite_step_rows(st, &rr_audit_list_kind, list, limit, read_audit, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "audit query");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_buf_dispose(&sql);
  rr_audit_list_free(list);
  return error;
}

const rr_store_audit_ops rr_sqlite_audit_ops = {
  .append = sqlite_audit_append,
  .query = sqlite_audit_query,
};
