/*
 * store_pg_audit.c - the PostgreSQL backend's audit concern: appending to the
 * hash chain and filtered pages of it, as the SQLite backend
 * (store_sqlite_audit.c) does.
 *
 * Several nodes append to one chain: each append runs in a transaction that
 * first takes a transaction-scoped advisory lock of the chain (derived from
 * the schema, so deployments in other schemas do not wait for it), then
 * reads the tail and inserts the next record; the lock is released at
 * COMMIT, so appends from all nodes form one chain without a fork.
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

static const char CHAIN_START[] = "0000000000000000000000000000000000000000000000000000000000000000";

#define AUDIT_COLUMNS "seq, at_ms, username, role, source, action, resource, outcome, detail, prev_hash, hash"

static int read_audit(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_audit_rec *a = elem;

  (void)ctx;
  a->seq = rr_pg_int(r, row, 0);
  a->at_ms = rr_pg_int(r, row, 1);
  rr_pg_copy(a->username, sizeof(a->username), r, row, 2);
  rr_pg_copy(a->role, sizeof(a->role), r, row, 3);
  rr_pg_copy(a->source, sizeof(a->source), r, row, 4);
  rr_pg_copy(a->action, sizeof(a->action), r, row, 5);
  rr_pg_copy(a->resource, sizeof(a->resource), r, row, 6);
  rr_pg_copy(a->outcome, sizeof(a->outcome), r, row, 7);
  rr_pg_copy(a->detail, sizeof(a->detail), r, row, 8);
  rr_pg_copy(a->prev_hash, sizeof(a->prev_hash), r, row, 9);
  rr_pg_copy(a->hash, sizeof(a->hash), r, row, 10);
  return 0;
}

typedef struct append_ctx {
  rr_audit_rec *rec;
  rr_audit_hash_fn hash;
} append_ctx;

static int append_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  /* the chain's lock: one key per schema ("audit chain" hashed with it) */
  static const char lock_sql[] =
    "SELECT pg_advisory_xact_lock(('x' || substr(md5(current_schema() || '/audit-chain'), 1, 16))::bit(64)::bigint)";
  static const char tail_sql[] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1";
  static const char insert_sql[] = "INSERT INTO audit(" AUDIT_COLUMNS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)";
  append_ctx *a = arg;
  rr_audit_rec *rec = a->rec;
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_query(c, NULL, lock_sql, "")) < 0 || (error = rr_pg_query(c, &r, tail_sql, "")) < 0)
    return rr_pg_fail(err, errsize, error, c, "audit tail");
  if (PQntuples(r) > 0) {
    rec->seq = rr_pg_int(r, 0, 0) + 1;
    rr_pg_copy(rec->prev_hash, sizeof(rec->prev_hash), r, 0, 1);
  } else {
    rec->seq = 1;
    rr_str_copy(rec->prev_hash, sizeof(rec->prev_hash), CHAIN_START);
  }
  PQclear(r);
  if ((error = a->hash(rec->hash, rec->prev_hash, rec)) < 0)
    return rr_fail(err, errsize, error, "cannot hash the audit record");
  if ((error = rr_pg_query(c, NULL, insert_sql, "iittttttttt", rec->seq, rec->at_ms, rec->username, rec->role,
                           rec->source, rec->action, rec->resource, rec->outcome, rec->detail, rec->prev_hash,
                           rec->hash)) < 0)
    return rr_pg_fail(err, errsize, error == RR_EEXISTS ? RR_ESTORE : error, c, "append audit");
  return 0;
}

static int pg_audit_append(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  append_ctx a = {rec, hash};

  return rr_pg_tx(impl, append_tx, &a, err, errsize);
}

/* Every filter is always present and bound; an empty one matches all. */
#define AUDIT_QUERY(order)                                                                                \
  "SELECT " AUDIT_COLUMNS " FROM audit WHERE ($1='' OR username=$1) AND ($2='' OR action=$2)"            \
  " AND ($3='' OR resource=$3) AND ($4=0 OR at_ms>=$4) AND ($5=0 OR at_ms<=$5) AND seq>$6"               \
  " AND ($7=0 OR seq<$7) ORDER BY seq " order " LIMIT $8"

static int pg_audit_query(void *impl, rr_audit_list **out, const rr_audit_filter *f, char *err, size_t errsize)
{
  static const char asc_sql[] = AUDIT_QUERY("ASC");
  static const char desc_sql[] = AUDIT_QUERY("DESC");
  uint32_t limit = f->limit < 1 ? 1 : (f->limit > 1000 ? 1000 : f->limit);
  rr_audit_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "audit query", err, errsize, f->descending ? desc_sql : asc_sql, "tttiiiii",
                         f->username, f->action, f->resource, f->from_ms, f->to_ms, f->after_seq, f->before_seq,
                         (int64_t)limit)) < 0)
    return error;
  if ((list = rr_store_list_new(&rr_audit_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_audit_list_kind, list, limit, read_audit, NULL) < 0) {
    rr_audit_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

const rr_store_audit_ops rr_pg_audit_ops = {
  .append = pg_audit_append,
  .query = pg_audit_query,
};
