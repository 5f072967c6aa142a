/*
 * store_pg_backup.c - the PostgreSQL backend's backup concern: the durable
 * off-site backup queue and its catalogue (contract in store_backup.h;
 * table in Resources/postgresql/008_backup.sql), behaving as SQLite's.
 * A claim is one UPDATE of the first claimable row taken FOR UPDATE SKIP
 * LOCKED (several nodes claim at once, never the same item); results and
 * failures are single UPDATEs guarded by state and claimer, so a claimer
 * whose lease was lost changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS                                                                                              \
  "id, target, object_key, kind, orthanc_id, study_uid, sop_uid, day, state, attempts, last_error,"        \
  " claimed_by, sha256, size, next_attempt_at, lease_until, created_at, updated_at, done_at"

static const char INTERRUPTED[] = "the try was interrupted (the process stopped or hung) and no attempts are left";

static int read_item(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_backup_item *o = elem;

  (void)ctx;
  memset(o, 0, sizeof(*o));
  o->id = rr_pg_int(r, row, 0);
  rr_pg_copy(o->target, sizeof(o->target), r, row, 1);
  rr_pg_copy(o->object_key, sizeof(o->object_key), r, row, 2);
  rr_pg_copy(o->kind, sizeof(o->kind), r, row, 3);
  rr_pg_copy(o->orthanc_id, sizeof(o->orthanc_id), r, row, 4);
  rr_pg_copy(o->study_uid, sizeof(o->study_uid), r, row, 5);
  rr_pg_copy(o->sop_uid, sizeof(o->sop_uid), r, row, 6);
  rr_pg_copy(o->day, sizeof(o->day), r, row, 7);
  rr_pg_copy(o->state, sizeof(o->state), r, row, 8);
  o->attempts = rr_pg_int(r, row, 9);
  rr_pg_copy(o->last_error, sizeof(o->last_error), r, row, 10);
  rr_pg_copy(o->claimed_by, sizeof(o->claimed_by), r, row, 11);
  rr_pg_copy(o->sha256, sizeof(o->sha256), r, row, 12);
  o->size = rr_pg_int(r, row, 13);
  o->next_attempt_at = rr_pg_int(r, row, 14);
  o->lease_until = rr_pg_int(r, row, 15);
  o->created_at = rr_pg_int(r, row, 16);
  o->updated_at = rr_pg_int(r, row, 17);
  o->done_at = rr_pg_int(r, row, 18);
  return 0;
}

static const char SQL_ENQUEUE[] =
  "INSERT INTO backup_items (target, object_key, kind, orthanc_id, study_uid, sop_uid, day, next_attempt_at,"
  " created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8) ON CONFLICT (target, object_key)"
  " DO NOTHING RETURNING id";

static int pg_enqueue(void *impl, bool *created, const rr_backup_new *n, int64_t now, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "enqueue backup item", err, errsize, SQL_ENQUEUE, "ttttttti", n->target,
                        n->object_key, n->kind, n->orthanc_id, n->study_uid, n->sop_uid, n->day, now);

  if (error == 0 && created != NULL)
    *created = PQntuples(r) > 0;
  PQclear(r);
  return error;
}

static const char SQL_GET[] = "SELECT " COLUMNS " FROM backup_items WHERE id = $1";

/* One item by id; RR_ENOTFOUND with a sentence. */
static int get_item(rr_pg_store *s, rr_backup_item *o, int64_t id, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(s, &r, "read backup item", err, errsize, SQL_GET, "i", id);

  if (error == 0 && PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no backup item %lld", (long long)id);
  else if (error == 0)
    read_item(o, r, 0, NULL);
  PQclear(r);
  return error;
}

static const char SQL_EXPIRED[] =
  "UPDATE backup_items SET state = 'failed', last_error = $1, updated_at = $2 WHERE target = $3 AND"
  " state = 'running' AND (lease_until < $2 OR claimed_by = $5) AND attempts >= $4";
static const char SQL_CLAIM[] =
  "UPDATE backup_items SET state = 'running', claimed_by = $2, attempts = attempts + 1, lease_until = $3,"
  " updated_at = $4 WHERE id = (SELECT id FROM backup_items WHERE target = $1 AND"
  " ((state = 'queued' AND next_attempt_at <= $4) OR"
  " (state = 'running' AND (lease_until < $4 OR claimed_by = $2)))"
  " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " COLUMNS;

typedef struct claim_ctx {
  rr_backup_item *out;
  const char *target, *claimer;
  int64_t lease_ms, max_attempts, now;
  bool found;
} claim_ctx;

static int claim_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  claim_ctx *x = ctx;
  PGresult *r = NULL;
  int error;

  x->found = false;
  if ((error = rr_pg_query(c, NULL, SQL_EXPIRED, "titit", INTERRUPTED, x->now, x->target, x->max_attempts,
                           x->claimer)) == 0 &&
      (error = rr_pg_query(c, &r, SQL_CLAIM, "ttii", x->target, x->claimer, x->now + x->lease_ms, x->now)) == 0 &&
      PQntuples(r) > 0) {
    read_item(x->out, r, 0, NULL);
    x->found = true;
  }
  PQclear(r);
  if (error < 0 && error != RR_ECONFLICT)
    return rr_pg_fail(err, errsize, error, c, "claim backup item");
  return error;
}

static int pg_claim(void *impl, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
                    int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  claim_ctx x = {out, target, claimer, lease_ms, max_attempts, now, false};
  int error = rr_pg_tx(impl, claim_tx, &x, err, errsize);

  if (error == 0 && !x.found) {
    memset(out, 0, sizeof(*out));
    return RR_ENOTFOUND;
  }
  return error;
}

/* After a guarded UPDATE changed nothing: RR_ENOTFOUND or RR_ECONFLICT. */
static int not_held(rr_pg_store *s, int64_t id, char *err, size_t errsize)
{
  rr_backup_item o;
  int error = get_item(s, &o, id, err, errsize);

  if (error < 0)
    return error;
  return rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s%s, not held by this claimer", (long long)id,
                 o.state, strcmp(o.state, "running") == 0 ? " by another claimer" : "");
}

static const char SQL_DONE[] =
  "UPDATE backup_items SET state = 'done', last_error = '', sha256 = $3, size = $4, updated_at = $5,"
  " done_at = $5, lease_until = 0 WHERE id = $1 AND state = 'running' AND claimed_by = $2 RETURNING id";

static int pg_done(void *impl, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now,
                   char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "mark backup item done", err, errsize, SQL_DONE, "ittii", id, claimer, sha256, size,
                        now);

  if (error == 0 && PQntuples(r) == 0)
    error = not_held(impl, id, err, errsize);
  PQclear(r);
  return error;
}

/* The back-off is rr_backup_backoff_ms's: 2^attempts s, at most 10 min. */
static const char SQL_FAIL[] =
  "UPDATE backup_items SET state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END, last_error = $4,"
  " next_attempt_at = CASE WHEN attempts >= $3 THEN $5 ELSE $5 + LEAST(600000, 1000 * (1::bigint <<"
  " LEAST(attempts, 10)::int)) END, lease_until = 0, updated_at = $5"
  " WHERE id = $1 AND state = 'running' AND claimed_by = $2 RETURNING " COLUMNS;

static int pg_fail_item(void *impl, rr_backup_item *out, int64_t id, const char *claimer, const char *error_text,
                        int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "record backup failure", err, errsize, SQL_FAIL, "ititi", id, claimer,
                        max_attempts, error_text && error_text[0] ? error_text : "failed", now);

  if (error == 0 && PQntuples(r) == 0)
    error = not_held(impl, id, err, errsize);
  else if (error == 0 && out != NULL)
    read_item(out, r, 0, NULL);
  PQclear(r);
  return error;
}

static const char SQL_REDRIVE[] =
  "UPDATE backup_items SET state = 'queued', attempts = 0, next_attempt_at = $2, updated_at = $2"
  " WHERE state = 'failed' AND ($1 = 0 OR id = $1)";

static int pg_redrive(void *impl, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize)
{
  PGresult *r = NULL;
  rr_backup_item o;
  int error = rr_pg_run(impl, &r, "re-drive backup items", err, errsize, SQL_REDRIVE, "ii", id, now);

  if (error == 0) {
    int64_t n = strtoll(PQcmdTuples(r), NULL, 10);
    if (count != NULL)
      *count = n;
    if (id != 0 && n == 0 && (error = get_item(impl, &o, id, err, errsize)) == 0)
      error = rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s, not failed", (long long)id, o.state);
  }
  PQclear(r);
  return error;
}

static int pg_get(void *impl, rr_backup_item *out, int64_t id, char *err, size_t errsize)
{
  return get_item(impl, out, id, err, errsize);
}

static const char SQL_LIST[] =
  "SELECT " COLUMNS " FROM backup_items WHERE ($1 = '' OR target = $1) AND ($2 = '' OR state = $2)"
  " AND ($3 = '' OR study_uid = $3) AND ($4 = '' OR day >= $4) AND id > $5 ORDER BY id LIMIT $6";

static int pg_list(void *impl, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize)
{
  rr_backup_item_list *list = calloc(1, sizeof(*list));
  PGresult *r = NULL;
  int error;

  if (list == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = rr_pg_run(impl, &r, "list backup items", err, errsize, SQL_LIST, "ttttii", q->target, q->state,
                    q->study_uid, q->since_day, q->after_id, q->limit);
  if (error == 0 && rr_pg_rows(r, &rr_backup_item_list_kind, list, (size_t)PQntuples(r), read_item, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  if (error < 0) {
    rr_backup_item_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static const char SQL_COUNTS[] =
  "SELECT COUNT(*) FILTER (WHERE state = 'queued'), COUNT(*) FILTER (WHERE state = 'running'),"
  " COUNT(*) FILTER (WHERE state = 'done'), COUNT(*) FILTER (WHERE state = 'failed'),"
  " COALESCE(MIN(created_at) FILTER (WHERE state IN ('queued', 'running')), 0), COALESCE(MAX(done_at), 0),"
  " COUNT(*) FILTER (WHERE state = 'done' AND done_at > $2 - 3600000),"
  " (SELECT last_error FROM backup_items WHERE ($1 = '' OR target = $1) AND last_error <> '' AND"
  "   state IN ('queued', 'failed') ORDER BY updated_at DESC, id DESC LIMIT 1),"
  " (SELECT updated_at FROM backup_items WHERE ($1 = '' OR target = $1) AND last_error <> '' AND"
  "   state IN ('queued', 'failed') ORDER BY updated_at DESC, id DESC LIMIT 1)"
  " FROM backup_items WHERE ($1 = '' OR target = $1)";

static int pg_counts(void *impl, rr_backup_counts *out, const char *target, int64_t now, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "count backup items", err, errsize, SQL_COUNTS, "ti", target, now);

  if (error == 0 && PQntuples(r) == 1) {
    out->queued = rr_pg_int(r, 0, 0);
    out->running = rr_pg_int(r, 0, 1);
    out->done = rr_pg_int(r, 0, 2);
    out->failed = rr_pg_int(r, 0, 3);
    out->oldest_waiting_at = rr_pg_int(r, 0, 4);
    out->last_done_at = rr_pg_int(r, 0, 5);
    out->done_last_hour = rr_pg_int(r, 0, 6);
    rr_pg_copy(out->last_error, sizeof(out->last_error), r, 0, 7);
    out->last_error_at = rr_pg_int(r, 0, 8);
  }
  PQclear(r);
  return error;
}

const rr_store_backup_ops rr_pg_backup_ops = {
  pg_enqueue, pg_claim, pg_done, pg_fail_item, pg_redrive, pg_get, pg_list, pg_counts,
};
