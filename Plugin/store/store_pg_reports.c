/*
 * store_pg_reports.c - the PostgreSQL backend's reports concern: the
 * lifecycle of a report (create, drafts, signatures, addenda and
 * corrections, cancel, entered in error, acknowledgements) and its reads,
 * as the SQLite backend (store_sqlite_reports.c) does (contract in
 * store_reports.h; tables, trigger functions and CHECK constraints that
 * freeze signed versions in Resources/postgresql/006_reports.sql). The
 * lists, has_final, the timeline and the macros are in
 * store_pg_report_reads.c.
 *
 * Every write is one transaction (rr_pg_tx) that first locks the report's
 * row (SELECT ... FOR UPDATE), so that writers of one report, on any node,
 * take turns: the second of two saves of the same revision then reads the
 * first one's revision and loses with RR_ESTALE. It refuses what the state
 * machine does not allow before it changes anything; the database's
 * trigger functions stay the last word on signed versions. Transactions
 * are repeatable (rr_pg_tx may run them again after a serialization
 * failure): each resets its outputs first.
 */
#include <stdlib.h>
#include <string.h>

#include "report_rules.h"
#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

/* ------------------------------------------------------------ helpers */

/* What a transaction returns when the state machine refuses the change:
 * rr_pg_tx would run a transaction that returned RR_ECONFLICT again (its
 * code for a serialization failure), so the refusal travels as RR_EDENIED
 * (never otherwise returned here) and run_tx gives the caller RR_ECONFLICT. */
#define REFUSED RR_EDENIED

static int run_tx(void *impl, rr_pg_tx_fn fn, void *ctx, char *err, size_t errsize)
{
  int error = rr_pg_tx(impl, fn, ctx, err, errsize);

  return error == REFUSED ? RR_ECONFLICT : error;
}

/* A failed statement: RR_ECONFLICT stays (rr_pg_tx runs the transaction
 * again), anything else becomes a sentence about `what`. */
static int q_fail(int error, const rr_pg_conn *c, const char *what, char *err, size_t errsize)
{
  return error == RR_ECONFLICT ? RR_ECONFLICT : rr_pg_fail(err, errsize, error, c, what);
}

/* A malloc'd copy of a text column (NULL column: NULL when null_ok, else ""). */
static int column_dup(char **out, const PGresult *r, int row, int col, bool null_ok)
{
  *out = NULL;
  if (rr_pg_null(r, row, col) && null_ok)
    return 0;
  return (*out = rr_pg_strdup(r, row, col)) == NULL ? RR_ENOMEM : 0;
}

/* ------------------------------------------------------------ reading */

#define VERSION_COLUMNS \
  "report_id, version, kind, version_status, fields_json, inserts_json, text, author, updated_by, created_at," \
  " updated_at, revision, signed_by, signed_at, pdf_sha256"

static int read_version(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_version *v = elem;

  (void)ctx;
  v->report_id = rr_pg_int(r, row, 0);
  v->version = rr_pg_int(r, row, 1);
  rr_pg_copy(v->kind, sizeof(v->kind), r, row, 2);
  rr_pg_copy(v->status, sizeof(v->status), r, row, 3);
  rr_pg_copy(v->author, sizeof(v->author), r, row, 7);
  rr_pg_copy(v->updated_by, sizeof(v->updated_by), r, row, 8);
  v->created_at = rr_pg_int(r, row, 9);
  v->updated_at = rr_pg_int(r, row, 10);
  v->revision = rr_pg_int(r, row, 11);
  rr_pg_copy(v->signed_by, sizeof(v->signed_by), r, row, 12);
  v->signed_at = rr_pg_int(r, row, 13);
  rr_pg_copy(v->pdf_sha256, sizeof(v->pdf_sha256), r, row, 14);
  if (column_dup(&v->fields_json, r, row, 4, false) < 0 || column_dup(&v->inserts_json, r, row, 5, false) < 0 ||
      column_dup(&v->text, r, row, 6, true) < 0)
    return RR_ENOMEM;
  return 0;
}

/* One version (with its PDF when `pdf`) into *v (disposed by the caller on
 * failure); RR_ENOTFOUND without a sentence when there is none. */
static int load_version(rr_pg_conn *c, rr_report_version *v, int64_t id, int64_t version, bool pdf, char *err,
                        size_t errsize)
{
  static const char sql[] = "SELECT " VERSION_COLUMNS " FROM report_versions WHERE report_id=$1 AND version=$2";
  static const char pdf_sql[] = "SELECT " VERSION_COLUMNS ", pdf FROM report_versions WHERE report_id=$1 AND version=$2";
  PGresult *r = NULL;
  void *bytes = NULL;
  int error;

  memset(v, 0, sizeof(*v));
  if ((error = rr_pg_query(c, &r, pdf ? pdf_sql : sql, "ii", id, version)) < 0)
    return q_fail(error, c, "read report version", err, errsize);
  if (PQntuples(r) == 0)
    error = RR_ENOTFOUND;
  else if (read_version(v, r, 0, NULL) < 0 || (pdf && rr_pg_bytea(&bytes, &v->pdf_size, r, 0, 15) < 0))
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  v->pdf = bytes;
  PQclear(r);
  return error;
}

static int read_ack(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_ack *a = elem;

  (void)ctx;
  rr_pg_copy(a->username, sizeof(a->username), r, row, 0);
  a->at = rr_pg_int(r, row, 1);
  return 0;
}

#define REPORT_COLUMNS \
  "id, study_uid, template_id, template_json, state, state_reason, state_by, critical, critical_json," \
  " created_by, created_at, updated_at, prevailing_version"

static int read_report_row(rr_report *rep, const PGresult *r)
{
  rep->id = rr_pg_int(r, 0, 0);
  rr_pg_copy(rep->study_uid, sizeof(rep->study_uid), r, 0, 1);
  rr_pg_copy(rep->template_id, sizeof(rep->template_id), r, 0, 2);
  rr_pg_copy(rep->state, sizeof(rep->state), r, 0, 4);
  rr_pg_copy(rep->state_by, sizeof(rep->state_by), r, 0, 6);
  rep->critical = rr_pg_bool(r, 0, 7);
  rr_pg_copy(rep->created_by, sizeof(rep->created_by), r, 0, 9);
  rep->created_at = rr_pg_int(r, 0, 10);
  rep->updated_at = rr_pg_int(r, 0, 11);
  rep->prevailing_version = rr_pg_int(r, 0, 12);
  if (column_dup(&rep->template_json, r, 0, 3, false) < 0 || column_dup(&rep->state_reason, r, 0, 5, true) < 0 ||
      column_dup(&rep->critical_json, r, 0, 8, true) < 0)
    return RR_ENOMEM;
  return 0;
}

/* Report `id` with its versions and acknowledgements into *rep (zeroed; the
 * caller disposes it); RR_ENOTFOUND with a sentence. */
static int load_report_into(rr_pg_conn *c, rr_report *rep, int64_t id, char *err, size_t errsize)
{
  static const char report_sql[] = "SELECT " REPORT_COLUMNS " FROM reports WHERE id=$1";
  static const char versions_sql[] = "SELECT " VERSION_COLUMNS " FROM report_versions WHERE report_id=$1"
                                     " ORDER BY version";
  static const char acks_sql[] = "SELECT username, at FROM report_acks WHERE report_id=$1 ORDER BY at, username";
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_query(c, &r, report_sql, "i", id)) < 0)
    return q_fail(error, c, "read report", err, errsize);
  if (PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report");
  else if (read_report_row(rep, r) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  r = NULL;
  if (error == 0 && (error = rr_pg_query(c, &r, versions_sql, "i", id)) < 0)
    return q_fail(error, c, "read report versions", err, errsize);
  if (error == 0 && rr_pg_rows(r, &rr_report_versions_kind, rep, 4, read_version, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  r = NULL;
  if (error == 0 && (error = rr_pg_query(c, &r, acks_sql, "i", id)) < 0)
    return q_fail(error, c, "read report acknowledgements", err, errsize);
  if (error == 0 && rr_pg_rows(r, &rr_report_acks_kind, rep, 4, read_ack, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

int rr_pg_report_read(rr_pg_store *s, rr_pg_tx_fn fn, void *ctx, char *err, size_t errsize)
{
  static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
  static const char end_sql[] = "COMMIT";
  rr_pg_conn *c = NULL;
  int error = 0, attempt;

  for (attempt = 0; attempt < 2; attempt++) {
    if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
      return error;
    if ((error = rr_pg_query(c, NULL, begin_sql, "")) < 0)
      error = rr_pg_fail(err, errsize, error, c, "begin a read");
    else if ((error = fn(c, ctx, err, errsize)) < 0 && error == RR_ECONFLICT)
      error = rr_fail(err, errsize, RR_ESTORE, "postgresql: a read failed");
    /* COMMIT also ends a transaction that failed (as a rollback) */
    if (!rr_pg_conn_lost(c) && rr_pg_query(c, NULL, end_sql, "") < 0 && error == 0)
      error = rr_pg_fail(err, errsize, RR_ESTORE, c, "end a read");
    /* a pooled connection the server dropped (restart): once more on a new one */
    if (error < 0 && rr_pg_conn_lost(c) && attempt == 0) {
      rr_pg_release(s, c);
      continue;
    }
    rr_pg_release(s, c);
    break;
  }
  return error;
}

typedef struct get_ctx {
  rr_report *report;
  int64_t id;
} get_ctx;

static int get_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  get_ctx *g = arg;

  rr_report_free(g->report);
  if ((g->report = calloc(1, sizeof(*g->report))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  return load_report_into(c, g->report, g->id, err, errsize);
}

static int pg_report_get(void *impl, rr_report **out, int64_t id, char *err, size_t errsize)
{
  get_ctx g = {NULL, id};
  int error = rr_pg_report_read(impl, get_tx, &g, err, errsize);

  *out = NULL;
  if (error < 0) {
    rr_report_free(g.report);
    return error;
  }
  *out = g.report;
  return 0;
}

static int read_id(void *elem, const PGresult *r, int row, void *ctx)
{
  (void)ctx;
  ((rr_report *)elem)->id = rr_pg_int(r, row, 0);
  return 0;
}

typedef struct study_ctx {
  rr_report_list *list;
  const char *study_uid;
} study_ctx;

static int for_study_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char sql[] = "SELECT id FROM reports WHERE study_uid=$1 ORDER BY id DESC LIMIT 1000";
  study_ctx *sc = arg;
  PGresult *r = NULL;
  size_t i;
  int error;

  rr_report_list_free(sc->list);
  if ((sc->list = rr_store_list_new(&rr_report_list_kind)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((error = rr_pg_query(c, &r, sql, "t", sc->study_uid)) < 0)
    return q_fail(error, c, "study reports", err, errsize);
  error = rr_pg_rows(r, &rr_report_list_kind, sc->list, 2, read_id, NULL) < 0
            ? rr_fail(err, errsize, RR_ENOMEM, "out of memory")
            : 0;
  PQclear(r);
  for (i = 0; error == 0 && i < sc->list->count; i++)
    error = load_report_into(c, &sc->list->items[i], sc->list->items[i].id, err, errsize);
  return error;
}

static int pg_report_for_study(void *impl, rr_report_list **out, const char *study_uid, char *err, size_t errsize)
{
  study_ctx sc = {NULL, study_uid ? study_uid : ""};
  int error = rr_pg_report_read(impl, for_study_tx, &sc, err, errsize);

  *out = NULL;
  if (error < 0) {
    rr_report_list_free(sc.list);
    return error;
  }
  *out = sc.list;
  return 0;
}

static int pg_report_open_for_study(void *impl, int64_t *out_id, const char *study_uid, char *err, size_t errsize)
{
  static const char sql[] = "SELECT id FROM reports WHERE study_uid=$1 AND state NOT IN"
                            " ('cancelled', 'entered-in-error')";
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "read open report", err, errsize, sql, "t", study_uid ? study_uid : "");

  if (error == 0)
    *out_id = PQntuples(r) > 0 ? rr_pg_int(r, 0, 0) : 0;
  PQclear(r);
  return error;
}

/* ------------------------------------------------------------ the head */

typedef rr_report_head head;

/* Inside the caller's transaction; `lock`: the report's row stays locked
 * until its end (every write). RR_ENOTFOUND with a sentence. */
static int load_head(rr_pg_conn *c, head *h, int64_t id, bool lock, char *err, size_t errsize)
{
  static const char report_sql[] = "SELECT id, study_uid, state, critical, prevailing_version,"
                                   " critical_json IS NOT NULL FROM reports WHERE id=$1";
  static const char lock_sql[] = "SELECT id, study_uid, state, critical, prevailing_version,"
                                 " critical_json IS NOT NULL FROM reports WHERE id=$1 FOR UPDATE";
  static const char latest_sql[] = "SELECT version, revision, version_status, kind FROM report_versions"
                                   " WHERE report_id=$1 ORDER BY version DESC LIMIT 1";
  PGresult *r = NULL;
  int error;

  memset(h, 0, sizeof(*h));
  if ((error = rr_pg_query(c, &r, lock ? lock_sql : report_sql, "i", id)) < 0)
    return q_fail(error, c, "read report head", err, errsize);
  if (PQntuples(r) == 0) {
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such report");
  }
  h->id = rr_pg_int(r, 0, 0);
  rr_pg_copy(h->study_uid, sizeof(h->study_uid), r, 0, 1);
  rr_pg_copy(h->state, sizeof(h->state), r, 0, 2);
  h->critical = rr_pg_bool(r, 0, 3);
  h->prevailing = rr_pg_int(r, 0, 4);
  h->communicated = rr_pg_bool(r, 0, 5);
  PQclear(r);
  r = NULL;
  if ((error = rr_pg_query(c, &r, latest_sql, "i", id)) < 0)
    return q_fail(error, c, "read report head", err, errsize);
  if (PQntuples(r) == 0) {
    PQclear(r);
    return rr_fail(err, errsize, RR_ESTORE, "report %lld has no version", (long long)id);
  }
  h->latest = rr_pg_int(r, 0, 0);
  h->revision = rr_pg_int(r, 0, 1);
  rr_pg_copy(h->status, sizeof(h->status), r, 0, 2);
  rr_pg_copy(h->kind, sizeof(h->kind), r, 0, 3);
  PQclear(r);
  return 0;
}

/* A refusal of report_rules.c (RR_ECONFLICT) as REFUSED, other errors as they are. */
static int refused(int error)
{
  return error == RR_ECONFLICT ? REFUSED : error;
}

/* ------------------------------------------------------------ create */

typedef struct create_ctx {
  const char *study_uid, *template_id, *template_json, *author;
  int64_t now;
  int64_t id;   /* out */
  int64_t open; /* out: the open report found instead */
} create_ctx;

#define OPEN_REPORT_SQL \
  "SELECT coalesce(max(id), 0) FROM reports WHERE study_uid=$1 AND state NOT IN ('cancelled', 'entered-in-error')"

static int create_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char study_sql[] = "SELECT EXISTS(SELECT 1 FROM studies WHERE study_uid=$1)";
  static const char open_sql[] = OPEN_REPORT_SQL;
  static const char insert_sql[] = "INSERT INTO reports(study_uid, template_id, template_json, state, created_by,"
                                   " created_at, updated_at) VALUES($1, $2, $3, 'draft', $4, $5, $5) RETURNING id";
  static const char version_sql[] = "INSERT INTO report_versions(report_id, version, kind, version_status, author,"
                                    " updated_by, created_at, updated_at) VALUES($1, 1, 'original', 'draft', $2, $2,"
                                    " $3, $3)";
  static const char opened_sql[] = "INSERT INTO study_report(study_uid, opened_at) VALUES($1, $2)"
                                   " ON CONFLICT (study_uid) DO UPDATE SET opened_at=$2 WHERE study_report.opened_at=0";
  create_ctx *a = arg;
  PGresult *r = NULL;
  bool found;
  int error;

  a->id = a->open = 0;
  if ((error = rr_pg_query(c, &r, study_sql, "t", a->study_uid)) < 0)
    return q_fail(error, c, "find the study", err, errsize);
  found = rr_pg_bool(r, 0, 0);
  PQclear(r);
  if (!found)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  /* before the insert: a refused one would use up an id */
  if ((error = rr_pg_query(c, &r, open_sql, "t", a->study_uid)) < 0)
    return q_fail(error, c, "find the open report", err, errsize);
  a->open = rr_pg_int(r, 0, 0);
  PQclear(r);
  if (a->open != 0)
    return RR_EEXISTS;
  if ((error = rr_pg_query(c, &r, insert_sql, "tttti", a->study_uid, a->template_id, a->template_json, a->author,
                           a->now)) < 0)
    return error == RR_EEXISTS ? RR_EEXISTS : q_fail(error, c, "create report", err, errsize);
  a->id = rr_pg_int(r, 0, 0);
  PQclear(r);
  if ((error = rr_pg_query(c, NULL, version_sql, "iti", a->id, a->author, a->now)) < 0)
    return q_fail(error, c, "create report version", err, errsize);
  if ((error = rr_pg_query(c, NULL, opened_sql, "ti", a->study_uid, a->now)) < 0)
    return q_fail(error, c, "record opened", err, errsize);
  return 0;
}

static int pg_report_create(void *impl, int64_t *out_id, const char *study_uid, const char *template_id,
                            const char *template_json, const char *author, int64_t now, char *err, size_t errsize)
{
  static const char open_sql[] = OPEN_REPORT_SQL;
  create_ctx a = {study_uid, template_id, template_json, author, now, 0, 0};
  PGresult *r = NULL;
  int error;

  if ((error = rr_report_check_create(study_uid, template_id, template_json, author, err, errsize)) < 0)
    return error;
  error = run_tx(impl, create_tx, &a, err, errsize);
  if (error == RR_EEXISTS) {
    /* another writer's report won the unique index: name it */
    if (a.open == 0 && rr_pg_run(impl, &r, "find the open report", err, errsize, open_sql, "t", study_uid) == 0)
      a.open = rr_pg_int(r, 0, 0);
    PQclear(r);
    return rr_fail(err, errsize, RR_EEXISTS, "the study already has an open report (%lld)", (long long)a.open);
  }
  if (error == 0)
    *out_id = a.id;
  return error;
}

/* ------------------------------------------------------------ drafts */

/* A new draft version `version` copying version `from`. */
static int copy_version(rr_pg_conn *c, int64_t id, int64_t from, int64_t version, const char *status, const char *by,
                        int64_t now, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO report_versions(report_id, version, kind, version_status, fields_json,"
                            " inserts_json, text, author, updated_by, created_at, updated_at)"
                            " SELECT report_id, $3, kind, $4, fields_json, inserts_json, text, $5, $5, $6, $6"
                            " FROM report_versions WHERE report_id=$1 AND version=$2";
  int error = rr_pg_query(c, NULL, sql, "iiitti", id, from, version, status, by, now);

  return error < 0 ? q_fail(error, c, "copy report version", err, errsize) : 0;
}

typedef struct draft_ctx {
  rr_report_version *out;
  int64_t id;
  const rr_report_expect *expect;
  const char *fields_json, *inserts_json, *by;
  int critical;
  int64_t now;
} draft_ctx;

static int save_draft_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char save_sql[] = "UPDATE report_versions SET fields_json=coalesce($3, fields_json),"
                                 " inserts_json=coalesce($4, inserts_json), updated_by=$5, updated_at=$6,"
                                 " revision=revision+1 WHERE report_id=$1 AND version=$2";
  static const char fill_sql[] = "UPDATE report_versions SET fields_json=coalesce($3, fields_json),"
                                 " inserts_json=coalesce($4, inserts_json) WHERE report_id=$1 AND version=$2";
  static const char report_sql[] = "UPDATE reports SET critical=CASE WHEN $2::bigint >= 0 THEN $2::bigint = 1"
                                   " ELSE critical END, updated_at=$3 WHERE id=$1";
  draft_ctx *d = arg;
  head h;
  int64_t draft;
  int error;

  if (d->out != NULL)
    rr_report_version_dispose(d->out);
  if ((error = load_head(c, &h, d->id, true, err, errsize)) < 0)
    return error;
  if ((error = rr_report_check_editable(&h, "edit", err, errsize)) < 0 ||
      (error = rr_report_check_expect(&h, d->expect, err, errsize)) < 0)
    return refused(error);
  draft = h.latest;
  if (strcmp(h.status, "draft") != 0) { /* preliminary: a new draft copying it */
    if ((error = copy_version(c, d->id, h.latest, ++draft, "draft", d->by, d->now, err, errsize)) < 0)
      return error;
    error = rr_pg_query(c, NULL, fill_sql, "iinn", d->id, draft, d->fields_json, d->inserts_json);
  } else {
    error = rr_pg_query(c, NULL, save_sql, "iinnti", d->id, draft, d->fields_json, d->inserts_json, d->by, d->now);
  }
  if (error < 0)
    return q_fail(error, c, "save draft", err, errsize);
  if ((error = rr_pg_query(c, NULL, report_sql, "iii", d->id, (int64_t)(d->critical > 0 ? 1 : d->critical),
                           d->now)) < 0)
    return q_fail(error, c, "update report", err, errsize);
  if (d->out != NULL && (error = load_version(c, d->out, d->id, draft, false, err, errsize)) == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ESTORE, "the saved draft was not found");
  return error;
}

static int pg_report_save_draft(void *impl, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                                const char *fields_json, const char *inserts_json, int critical, const char *by,
                                int64_t now, char *err, size_t errsize)
{
  draft_ctx d = {out, id, expect, fields_json, inserts_json, by, critical, now};
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if ((error = rr_report_check_draft(fields_json, inserts_json, by, err, errsize)) < 0)
    return error;
  error = run_tx(impl, save_draft_tx, &d, err, errsize);
  if (error < 0 && out != NULL)
    rr_report_version_dispose(out);
  return error;
}

/* ------------------------------------------------------------ signatures */

typedef struct head_ctx {
  int64_t id;
  head h;
} head_ctx;

static int head_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  head_ctx *hc = arg;

  return load_head(c, &hc->h, hc->id, false, err, errsize);
}

static int pg_report_next_version(void *impl, int64_t *out_version, rr_report_expect *out_expect, int64_t id,
                                  char *err, size_t errsize)
{
  head_ctx hc;
  int error;

  memset(&hc, 0, sizeof(hc));
  hc.id = id;
  if ((error = rr_pg_report_read(impl, head_tx, &hc, err, errsize)) < 0)
    return error;
  return rr_report_next_version(out_version, out_expect, &hc.h, err, errsize);
}

/* Freeze version `version` with the signature (the version is a draft). */
static int write_signature(rr_pg_conn *c, int64_t id, int64_t version, const char *status,
                           const rr_report_signature *sig, char *err, size_t errsize)
{
  static const char sql[] = "UPDATE report_versions SET version_status=$3, signed_by=$4, signed_at=$5,"
                            " updated_at=$5, pdf_sha256=$6, pdf=$7, revision=revision+1"
                            " WHERE report_id=$1 AND version=$2";
  int error = rr_pg_query(c, NULL, sql, "iittitb", id, version, status, sig->signed_by, sig->signed_at,
                          sig->pdf_sha256, (const void *)sig->pdf, sig->pdf_size);

  return error < 0 ? q_fail(error, c, "sign report version", err, errsize) : 0;
}

/* The report after a signature of `version` (state, prevailing version,
 * latest signature, communication) and the study's timeline. */
static int record_signature(rr_pg_conn *c, const head *h, int64_t version, const char *state, bool final,
                            const rr_report_signature *sig, char *err, size_t errsize)
{
  static const char report_sql[] = "UPDATE reports SET state=$2, prevailing_version=CASE WHEN $3 THEN $4::bigint"
                                   " ELSE prevailing_version END, signed_by=$5, signed_at=$6, updated_at=$6,"
                                   " critical_json=coalesce($7, critical_json) WHERE id=$1";
  static const char final_sql[] = "INSERT INTO study_report(study_uid, final_at) VALUES($1, $2)"
                                  " ON CONFLICT (study_uid) DO UPDATE SET final_at=$2 WHERE study_report.final_at=0";
  static const char prelim_sql[] = "INSERT INTO study_report(study_uid, preliminary_at) VALUES($1, $2)"
                                   " ON CONFLICT (study_uid) DO UPDATE SET preliminary_at=$2"
                                   " WHERE study_report.preliminary_at=0";
  int error = rr_pg_query(c, NULL, report_sql, "itBitin", h->id, state, final ? 1 : 0, version, sig->signed_by,
                          sig->signed_at, sig->critical_json);

  if (error < 0)
    return q_fail(error, c, "update report", err, errsize);
  if ((error = rr_pg_query(c, NULL, final ? final_sql : prelim_sql, "ti", h->study_uid, sig->signed_at)) < 0)
    return q_fail(error, c, "record the timeline", err, errsize);
  return 0;
}

typedef struct sign_ctx {
  int64_t id;
  const rr_report_expect *expect;
  const char *status;
  bool final;
  const rr_report_signature *sig;
  int64_t version; /* out */
} sign_ctx;

static int sign_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  sign_ctx *a = arg;
  const rr_report_signature *sig = a->sig;
  head h;
  bool copy;
  int error;

  a->version = 0;
  if ((error = load_head(c, &h, a->id, true, err, errsize)) < 0)
    return error;
  if ((error = rr_report_check_editable(&h, "sign", err, errsize)) < 0 ||
      (error = rr_report_check_expect(&h, a->expect, err, errsize)) < 0 ||
      (error = rr_report_plan_sign(&a->version, &copy, &h, a->final, sig, err, errsize)) < 0)
    return refused(error);
  if (copy && /* the latest is preliminary: a new draft copying it */
      (error = copy_version(c, a->id, h.latest, a->version, "draft", sig->signed_by, sig->signed_at, err, errsize)) < 0)
    return error;
  if ((error = write_signature(c, a->id, a->version, a->status, sig, err, errsize)) < 0)
    return error;
  return record_signature(c, &h, a->version, a->final ? "final" : "preliminary", a->final, sig, err, errsize);
}

static int pg_report_sign(void *impl, int64_t *out_version, int64_t id, const rr_report_expect *expect,
                          const char *status, const rr_report_signature *sig, char *err, size_t errsize)
{
  sign_ctx a = {id, expect, status, false, sig, 0};
  int error;

  if ((error = rr_report_check_sign(&a.final, status, sig, err, errsize)) < 0)
    return error;
  if ((error = run_tx(impl, sign_tx, &a, err, errsize)) == 0 && out_version != NULL)
    *out_version = a.version;
  return error;
}

typedef struct add_ctx {
  int64_t id, expected_prevailing;
  const char *kind, *fields_json, *text;
  bool addendum;
  const rr_report_signature *sig;
  int64_t version; /* out */
} add_ctx;

static int add_version_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO report_versions(report_id, version, kind, version_status, fields_json,"
                            " inserts_json, text, author, updated_by, created_at, updated_at)"
                            " SELECT report_id, $3, $4, 'draft', coalesce($5, fields_json), inserts_json,"
                            " $6, $7, $7, $8, $8 FROM report_versions WHERE report_id=$1 AND version=$2";
  add_ctx *a = arg;
  const rr_report_signature *sig = a->sig;
  head h;
  int error;

  a->version = 0;
  if ((error = load_head(c, &h, a->id, true, err, errsize)) < 0)
    return error;
  if ((error = rr_report_plan_add(&a->version, &h, a->kind, a->expected_prevailing, err, errsize)) < 0)
    return refused(error);
  if ((error = rr_pg_query(c, NULL, sql, "iiitntti", a->id, h.prevailing, a->version, a->kind,
                           a->addendum ? NULL : a->fields_json, a->text, sig->signed_by, sig->signed_at)) < 0)
    return q_fail(error, c, "add report version", err, errsize);
  if ((error = write_signature(c, a->id, a->version, "final", sig, err, errsize)) < 0)
    return error;
  return record_signature(c, &h, a->version, a->addendum ? "appended" : "corrected", true, sig, err, errsize);
}

static int pg_report_add_version(void *impl, int64_t *out_version, int64_t id, int64_t expected_prevailing,
                                 const char *kind, const char *fields_json, const char *text,
                                 const rr_report_signature *sig, char *err, size_t errsize)
{
  add_ctx a = {id, expected_prevailing, kind, fields_json, text, false, sig, 0};
  int error;

  if ((error = rr_report_check_add(&a.addendum, kind, fields_json, text, sig, err, errsize)) < 0)
    return error;
  if ((error = run_tx(impl, add_version_tx, &a, err, errsize)) == 0 && out_version != NULL)
    *out_version = a.version;
  return error;
}

/* ------------------------------------------------------------ closing */

typedef struct close_ctx {
  int64_t id;
  const char *state, *by, *reason;
  int64_t now;
} close_ctx;

static int close_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char draft_sql[] = "UPDATE report_versions SET version_status='cancelled', updated_by=$3,"
                                  " updated_at=$4, revision=revision+1 WHERE report_id=$1 AND version=$2";
  static const char report_sql[] = "UPDATE reports SET state=$2, state_reason=$3, state_by=$4, updated_at=$5"
                                   " WHERE id=$1";
  close_ctx *a = arg;
  bool cancel = strcmp(a->state, "cancelled") == 0;
  head h;
  int error;

  if ((error = load_head(c, &h, a->id, true, err, errsize)) < 0)
    return error;
  if ((error = rr_report_check_close_state(&h, cancel, err, errsize)) < 0)
    return refused(error);
  if (cancel && strcmp(h.status, "draft") == 0 &&
      (error = rr_pg_query(c, NULL, draft_sql, "iiti", a->id, h.latest, a->by, a->now)) < 0)
    return q_fail(error, c, "cancel the draft", err, errsize);
  if ((error = rr_pg_query(c, NULL, report_sql, "ittti", a->id, a->state, a->reason, a->by, a->now)) < 0)
    return q_fail(error, c, "update report", err, errsize);
  return 0;
}

static int close_report(void *impl, int64_t id, const char *state, const char *by, const char *reason, int64_t now,
                        char *err, size_t errsize)
{
  close_ctx a = {id, state, by, reason, now};
  int error;

  if ((error = rr_report_check_close(by, reason, err, errsize)) < 0)
    return error;
  return run_tx(impl, close_tx, &a, err, errsize);
}

static int pg_report_cancel(void *impl, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                            size_t errsize)
{
  return close_report(impl, id, "cancelled", by, reason, now, err, errsize);
}

static int pg_report_entered_in_error(void *impl, int64_t id, const char *by, const char *reason, int64_t now,
                                      char *err, size_t errsize)
{
  return close_report(impl, id, "entered-in-error", by, reason, now, err, errsize);
}

typedef struct ack_ctx {
  int64_t id;
  const char *username;
  int64_t now;
} ack_ctx;

static int acknowledge_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO report_acks(report_id, username, at) VALUES($1, $2, $3)"
                            " ON CONFLICT (report_id, username) DO NOTHING";
  ack_ctx *a = arg;
  head h;
  int error;

  if ((error = load_head(c, &h, a->id, true, err, errsize)) < 0)
    return error;
  if ((error = rr_report_check_ack(&h, err, errsize)) < 0)
    return refused(error);
  if ((error = rr_pg_query(c, NULL, sql, "iti", a->id, a->username, a->now)) < 0)
    return q_fail(error, c, "acknowledge", err, errsize);
  return 0;
}

static int pg_report_acknowledge(void *impl, int64_t id, const char *username, int64_t now, char *err,
                                 size_t errsize)
{
  ack_ctx a = {id, username, now};
  int error;

  if ((error = rr_report_check_user("user", username, err, errsize)) < 0)
    return error;
  return run_tx(impl, acknowledge_tx, &a, err, errsize);
}

typedef struct pdf_ctx {
  rr_report_version *out;
  int64_t id, version;
} pdf_ctx;

static int pdf_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  pdf_ctx *p = arg;

  rr_report_version_dispose(p->out);
  return load_version(c, p->out, p->id, p->version, true, err, errsize);
}

static int pg_report_pdf(void *impl, rr_report_version *out, int64_t id, int64_t version, char *err, size_t errsize)
{
  pdf_ctx p = {out, id, version};
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_pg_report_read(impl, pdf_tx, &p, err, errsize);
  return rr_report_pdf_result(error, out, id, version, err, errsize);
}

const rr_store_reports_ops rr_pg_reports_ops = {
  .create = pg_report_create,
  .get = pg_report_get,
  .for_study = pg_report_for_study,
  .open_for_study = pg_report_open_for_study,
  .save_draft = pg_report_save_draft,
  .next_version = pg_report_next_version,
  .sign = pg_report_sign,
  .add_version = pg_report_add_version,
  .cancel = pg_report_cancel,
  .entered_in_error = pg_report_entered_in_error,
  .acknowledge = pg_report_acknowledge,
  .pdf = pg_report_pdf,
  .list = rr_pg_report_list,
  .has_final = rr_pg_report_has_final,
  .opened = rr_pg_report_opened,
  .timeline = rr_pg_report_timeline,
  .macro_list = rr_pg_macro_list,
  .macro_put = rr_pg_macro_put,
  .macro_remove = rr_pg_macro_remove,
};
