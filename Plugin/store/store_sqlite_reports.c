/*
 * store_sqlite_reports.c - the SQLite backend's reports concern: the
 * lifecycle of a report (create, drafts, signatures, addenda and
 * corrections, cancel, entered in error, acknowledgements) and its reads
 * (contract in store_reports.h; tables and the triggers that freeze signed
 * versions in Resources/sqlite/007_reports.sql). The lists, the timeline
 * and the macros are in store_sqlite_report_reads.c.
 *
 * Every write is one transaction on the writer connection (rr_sqlite_begin)
 * that first reads the report's head (its state and latest version) and
 * refuses, before it changes anything, what the state machine does not
 * allow; the triggers stay the last word on signed versions.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report_rules.h"
#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

/* ------------------------------------------------------------ helpers */

int rr_sqlite_run(sqlite3 *db, const char *sql, const char *types, ...)
{
  sqlite3_stmt *st = NULL;
  va_list ap;
  const char *s;
  const void *p;
  size_t n;
  int i, rc;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return RR_ESTORE;
  va_start(ap, types);
  for (i = 0; types[i] != '\0'; i++) {
    switch (types[i]) {
    case 't':
      rr_sqlite_bind_text(st, i + 1, va_arg(ap, const char *));
      break;
    case 'n':
      if ((s = va_arg(ap, const char *)) == NULL)
        sqlite3_bind_null(st, i + 1);
      else
        rr_sqlite_bind_text(st, i + 1, s);
      break;
    case 'i':
      sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
      break;
    case 'b':
      p = va_arg(ap, const void *);
      n = va_arg(ap, size_t);
      sqlite3_bind_blob64(st, i + 1, p, n, SQLITE_STATIC);
      break;
    }
  }
  va_end(ap);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : RR_ESTORE;
}

/* RR_ESTORE from rr_sqlite_run with SQLite's sentence about `what`. */
static int run_fail(int error, sqlite3 *db, const char *what, char *err, size_t errsize)
{
  return error < 0 ? rr_sqlite_fail(err, errsize, db, what) : 0;
}

/* A malloc'd copy of a text column (NULL column: NULL when null_ok, else ""). */
static int column_dup(char **out, sqlite3_stmt *st, int col, bool null_ok)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

  *out = NULL;
  if (t == NULL && null_ok)
    return 0;
  if ((*out = malloc(n + 1)) == NULL)
    return RR_ENOMEM;
  if (n > 0)
    memcpy(*out, t, n);
  (*out)[n] = '\0';
  return 0;
}

/* ------------------------------------------------------------ reading */

#define VERSION_COLUMNS \
  "report_id, version, kind, version_status, fields_json, inserts_json, text, author, updated_by, created_at," \
  " updated_at, revision, signed_by, signed_at, pdf_sha256"

static int read_version(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_report_version *v = elem;

  (void)ctx;
  v->report_id = sqlite3_column_int64(st, 0);
  v->version = sqlite3_column_int64(st, 1);
  rr_sqlite_column_copy(v->kind, sizeof(v->kind), st, 2);
  rr_sqlite_column_copy(v->status, sizeof(v->status), st, 3);
  rr_sqlite_column_copy(v->author, sizeof(v->author), st, 7);
  rr_sqlite_column_copy(v->updated_by, sizeof(v->updated_by), st, 8);
  v->created_at = sqlite3_column_int64(st, 9);
  v->updated_at = sqlite3_column_int64(st, 10);
  v->revision = sqlite3_column_int64(st, 11);
  rr_sqlite_column_copy(v->signed_by, sizeof(v->signed_by), st, 12);
  v->signed_at = sqlite3_column_int64(st, 13);
  rr_sqlite_column_copy(v->pdf_sha256, sizeof(v->pdf_sha256), st, 14);
  if (column_dup(&v->fields_json, st, 4, false) < 0 || column_dup(&v->inserts_json, st, 5, false) < 0 ||
      column_dup(&v->text, st, 6, true) < 0)
    return RR_ENOMEM;
  return 0;
}

/* One version (with its PDF when `pdf`) into *v (disposed by the caller on
 * failure); RR_ENOTFOUND without a sentence when there is none. */
static int load_version(sqlite3 *db, rr_report_version *v, int64_t id, int64_t version, bool pdf, char *err,
                        size_t errsize)
{
  sqlite3_stmt *st = NULL;
  const void *blob;
  int rc, error = 0;

  memset(v, 0, sizeof(*v));
  if (sqlite3_prepare_v2(db, pdf ? "SELECT " VERSION_COLUMNS ", pdf FROM report_versions WHERE report_id=?1 AND version=?2"
                                 : "SELECT " VERSION_COLUMNS " FROM report_versions WHERE report_id=?1 AND version=?2",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report version");
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, version);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    error = RR_ENOTFOUND;
  } else if (rc != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, db, "read report version");
  } else if (read_version(v, st, NULL) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  } else if (pdf && (blob = sqlite3_column_blob(st, 15)) != NULL) {
    v->pdf_size = (size_t)sqlite3_column_bytes(st, 15);
    if ((v->pdf = malloc(v->pdf_size)) == NULL)
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    else
      memcpy(v->pdf, blob, v->pdf_size);
  }
  sqlite3_finalize(st);
  return error;
}

static int read_ack(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_report_ack *a = elem;

  (void)ctx;
  rr_sqlite_column_copy(a->username, sizeof(a->username), st, 0);
  a->at = sqlite3_column_int64(st, 1);
  return 0;
}

#define REPORT_COLUMNS \
  "id, study_uid, template_id, template_json, state, state_reason, state_by, critical, critical_json," \
  " created_by, created_at, updated_at, prevailing_version"

static int read_report_row(rr_report *r, sqlite3_stmt *st)
{
  r->id = sqlite3_column_int64(st, 0);
  rr_sqlite_column_copy(r->study_uid, sizeof(r->study_uid), st, 1);
  rr_sqlite_column_copy(r->template_id, sizeof(r->template_id), st, 2);
  rr_sqlite_column_copy(r->state, sizeof(r->state), st, 4);
  rr_sqlite_column_copy(r->state_by, sizeof(r->state_by), st, 6);
  r->critical = sqlite3_column_int(st, 7) != 0;
  rr_sqlite_column_copy(r->created_by, sizeof(r->created_by), st, 9);
  r->created_at = sqlite3_column_int64(st, 10);
  r->updated_at = sqlite3_column_int64(st, 11);
  r->prevailing_version = sqlite3_column_int64(st, 12);
  if (column_dup(&r->template_json, st, 3, false) < 0 || column_dup(&r->state_reason, st, 5, true) < 0 ||
      column_dup(&r->critical_json, st, 8, true) < 0)
    return RR_ENOMEM;
  return 0;
}

/* The rows of `sql` (?1 = the report id) appended to the list `kind` of r. */
static int load_rows(sqlite3 *db, rr_report *r, const rr_store_list_kind *kind, const char *sql,
                     rr_sqlite_row_reader read, const char *what, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int error;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, what);
  sqlite3_bind_int64(st, 1, r->id);
  if ((error = rr_sqlite_step_rows(st, kind, r, 4, read, NULL)) < 0)
    error = rr_sqlite_rows_fail(error, err, errsize, db, what);
  sqlite3_finalize(st);
  return error;
}

/* Report `id` with its versions and acknowledgements into *r (zeroed; the
 * caller disposes it); RR_ENOTFOUND with a sentence. */
static int load_report_into(sqlite3 *db, rr_report *r, int64_t id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db, "SELECT " REPORT_COLUMNS " FROM reports WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report");
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report");
  else if (rc != SQLITE_ROW)
    error = rr_sqlite_fail(err, errsize, db, "read report");
  else if (read_report_row(r, st) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  sqlite3_finalize(st);
  if (error == 0)
    error = load_rows(db, r, &rr_report_versions_kind,
                      "SELECT " VERSION_COLUMNS " FROM report_versions WHERE report_id=?1 ORDER BY version", read_version,
                      "report versions", err, errsize);
  if (error == 0)
    error = load_rows(db, r, &rr_report_acks_kind,
                      "SELECT username, at FROM report_acks WHERE report_id=?1 ORDER BY at, username", read_ack,
                      "report acknowledgements", err, errsize);
  return error;
}

/* A reader connection inside a read transaction (one snapshot for the
 * several statements of a report); released by read_end. */
static rr_sqlite_conn *read_begin(rr_sqlite_store *s, char *err, size_t errsize, int *error)
{
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);

  if ((*error = rr_sqlite_exec(c->db, "BEGIN", err, errsize)) < 0) {
    rr_sqlite_reader_release(s, c);
    return NULL;
  }
  return c;
}

static void read_end(rr_sqlite_store *s, rr_sqlite_conn *c)
{
  rr_sqlite_exec(c->db, "COMMIT", NULL, 0);
  rr_sqlite_reader_release(s, c);
}

static int sqlite_report_get(void *impl, rr_report **out, int64_t id, char *err, size_t errsize)
{
  rr_sqlite_conn *c;
  rr_report *r;
  int error = 0;

  *out = NULL;
  if ((r = calloc(1, sizeof(*r))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((c = read_begin(impl, err, errsize, &error)) != NULL) {
    error = load_report_into(c->db, r, id, err, errsize);
    read_end(impl, c);
  }
  if (error < 0) {
    rr_report_free(r);
    return error;
  }
  *out = r;
  return 0;
}

static int read_id(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  ((rr_report *)elem)->id = sqlite3_column_int64(st, 0);
  return 0;
}

static int sqlite_report_for_study(void *impl, rr_report_list **out, const char *study_uid, char *err,
                                   size_t errsize)
{
  rr_sqlite_conn *c;
  rr_report_list *list;
  sqlite3_stmt *st = NULL;
  size_t i;
  int error = 0;

  *out = NULL;
  if ((list = rr_store_list_new(&rr_report_list_kind)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((c = read_begin(impl, err, errsize, &error)) == NULL)
    goto out;
  if (sqlite3_prepare_v2(c->db, "SELECT id FROM reports WHERE study_uid=?1 ORDER BY id DESC LIMIT 1000", -1, &st,
                         NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare study reports");
  } else {
    rr_sqlite_bind_text(st, 1, study_uid);
    if ((error = rr_sqlite_step_rows(st, &rr_report_list_kind, list, 2, read_id, NULL)) < 0)
      error = rr_sqlite_rows_fail(error, err, errsize, c->db, "study reports");
  }
  sqlite3_finalize(st);
  for (i = 0; error == 0 && i < list->count; i++)
    error = load_report_into(c->db, &list->items[i], list->items[i].id, err, errsize);
  read_end(impl, c);
out:
  if (error < 0) {
    rr_report_list_free(list);
    return error;
  }
  *out = list;
  return 0;
}

static int read_int_elem(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  *(int64_t *)elem = sqlite3_column_int64(st, 0);
  return 0;
}

static int sqlite_report_open_for_study(void *impl, int64_t *out_id, const char *study_uid, char *err,
                                        size_t errsize)
{
  int64_t id = 0;
  int error = rr_sqlite_read_row(impl,
                                 &(rr_sqlite_sql){"SELECT id FROM reports WHERE study_uid=?1 AND state NOT IN"
                                                  " ('cancelled', 'entered-in-error')",
                                                  rr_sqlite_bind_text1, study_uid, "prepare open report",
                                                  "read open report"},
                                 read_int_elem, &id, NULL, err, errsize);

  if (error == RR_ENOTFOUND)
    error = 0;
  if (error == 0)
    *out_id = id;
  return error;
}

/* ------------------------------------------------------------ the head */

typedef rr_report_head head;

/* Inside the caller's transaction; RR_ENOTFOUND with a sentence. */
static int load_head(sqlite3 *db, head *h, int64_t id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  memset(h, 0, sizeof(*h));
  if (sqlite3_prepare_v2(db,
                         "SELECT r.id, r.study_uid, r.state, r.critical, r.prevailing_version, v.version, v.revision,"
                         " v.version_status, v.kind, r.critical_json IS NOT NULL FROM reports r JOIN report_versions v ON v.report_id=r.id"
                         " WHERE r.id=?1 ORDER BY v.version DESC LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report head");
  sqlite3_bind_int64(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    h->id = sqlite3_column_int64(st, 0);
    rr_sqlite_column_copy(h->study_uid, sizeof(h->study_uid), st, 1);
    rr_sqlite_column_copy(h->state, sizeof(h->state), st, 2);
    h->critical = sqlite3_column_int(st, 3) != 0;
    h->prevailing = sqlite3_column_int64(st, 4);
    h->latest = sqlite3_column_int64(st, 5);
    h->revision = sqlite3_column_int64(st, 6);
    rr_sqlite_column_copy(h->status, sizeof(h->status), st, 7);
    rr_sqlite_column_copy(h->kind, sizeof(h->kind), st, 8);
    h->communicated = sqlite3_column_int(st, 9) != 0;
  } else if (rc == SQLITE_DONE) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report");
  } else {
    error = rr_sqlite_fail(err, errsize, db, "read report head");
  }
  sqlite3_finalize(st);
  return error;
}

/* ------------------------------------------------------------ create */

static int sqlite_report_create(void *impl, int64_t *out_id, const char *study_uid, const char *template_id,
                                const char *template_json, const char *author, int64_t now, char *err,
                                size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  int64_t found = 0, id;
  int error;

  if ((error = rr_report_check_create(study_uid, template_id, template_json, author, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_lookup_int(db, &found, "SELECT count(*) FROM studies WHERE study_uid=?1", study_uid, err,
                                    errsize)) == 0 &&
      found == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  if (error == 0 &&
      (error = rr_sqlite_lookup_int(db, &found,
                                    "SELECT coalesce(max(id), 0) FROM reports WHERE study_uid=?1 AND state NOT IN"
                                    " ('cancelled', 'entered-in-error')",
                                    study_uid, err, errsize)) == 0 &&
      found != 0)
    error = rr_fail(err, errsize, RR_EEXISTS, "the study already has an open report (%lld)", (long long)found);
  if (error == 0)
    error = run_fail(rr_sqlite_run(db, "INSERT INTO reports(study_uid, template_id, template_json, state, created_by,"
                                   " created_at, updated_at) VALUES(?1, ?2, ?3, 'draft', ?4, ?5, ?5)",
                                   "tttti", study_uid, template_id, template_json, author, now),
                     db, "create report", err, errsize);
  id = sqlite3_last_insert_rowid(db);
  if (error == 0)
    error = run_fail(rr_sqlite_run(db, "INSERT INTO report_versions(report_id, version, kind, version_status, author, updated_by,"
                                   " created_at, updated_at) VALUES(?1, 1, 'original', 'draft', ?2, ?2, ?3, ?3)",
                                   "iti", id, author, now),
                     db, "create report version", err, errsize);
  if (error == 0)
    error = run_fail(rr_sqlite_run(db, "INSERT INTO study_report(study_uid, opened_at) VALUES(?1, ?2)"
                                   " ON CONFLICT(study_uid) DO UPDATE SET opened_at=?2 WHERE opened_at=0",
                                   "ti", study_uid, now),
                     db, "record opened", err, errsize);
  if ((error = rr_sqlite_end(s, error, err, errsize)) == 0)
    *out_id = id;
  return error;
}

/* ------------------------------------------------------------ drafts */

/* A new draft version `version` copying the latest (`from`). */
static int copy_version(sqlite3 *db, int64_t id, int64_t from, int64_t version, const char *status, const char *by,
                        int64_t now, char *err, size_t errsize)
{
  return run_fail(rr_sqlite_run(db, "INSERT INTO report_versions(report_id, version, kind, version_status, fields_json, inserts_json,"
                                " text, author, updated_by, created_at, updated_at)"
                                " SELECT report_id, ?3, kind, ?4, fields_json, inserts_json, text, ?5, ?5, ?6, ?6"
                                " FROM report_versions WHERE report_id=?1 AND version=?2",
                                "iiitti", id, from, version, status, by, now),
                  db, "copy report version", err, errsize);
}

static int sqlite_report_save_draft(void *impl, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                                    const char *fields_json, const char *inserts_json, int critical, const char *by,
                                    int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  head h;
  int64_t draft;
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if ((error = rr_report_check_draft(fields_json, inserts_json, by, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = load_head(db, &h, id, err, errsize)) < 0 || (error = rr_report_check_editable(&h, "edit", err, errsize)) < 0 ||
      (error = rr_report_check_expect(&h, expect, err, errsize)) < 0)
    goto out;
  draft = h.latest;
  if (strcmp(h.status, "draft") != 0) /* preliminary: a new draft copying it */
    error = copy_version(db, id, h.latest, ++draft, "draft", by, now, err, errsize);
  else
    error = run_fail(rr_sqlite_run(db, "UPDATE report_versions SET fields_json=coalesce(?3, fields_json),"
                                   " inserts_json=coalesce(?4, inserts_json), updated_by=?5, updated_at=?6,"
                                   " revision=revision+1 WHERE report_id=?1 AND version=?2",
                                   "iinnti", id, draft, fields_json, inserts_json, by, now),
                     db, "save draft", err, errsize);
  if (error == 0 && draft != h.latest)
    error = run_fail(rr_sqlite_run(db, "UPDATE report_versions SET fields_json=coalesce(?3, fields_json),"
                                   " inserts_json=coalesce(?4, inserts_json) WHERE report_id=?1 AND version=?2",
                                   "iinn", id, draft, fields_json, inserts_json),
                     db, "save draft", err, errsize);
  if (error == 0)
    error = run_fail(rr_sqlite_run(db, "UPDATE reports SET critical=CASE WHEN ?2 >= 0 THEN ?2 ELSE critical END,"
                                   " updated_at=?3 WHERE id=?1",
                                   "iii", id, (int64_t)(critical > 0 ? 1 : critical), now),
                     db, "update report", err, errsize);
  if (error == 0 && out != NULL && (error = load_version(db, out, id, draft, false, err, errsize)) == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ESTORE, "the saved draft was not found");
out:
  error = rr_sqlite_end(s, error, err, errsize);
  if (error < 0 && out != NULL)
    rr_report_version_dispose(out);
  return error;
}

/* ------------------------------------------------------------ signatures */

static int sqlite_report_next_version(void *impl, int64_t *out_version, rr_report_expect *out_expect, int64_t id,
                                      char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c;
  head h;
  int error = 0;

  if ((c = read_begin(s, err, errsize, &error)) == NULL)
    return error;
  error = load_head(c->db, &h, id, err, errsize);
  read_end(s, c);
  if (error < 0)
    return error;
  return rr_report_next_version(out_version, out_expect, &h, err, errsize);
}

/* Freeze version `version` with the signature (the version is a draft). */
static int write_signature(sqlite3 *db, int64_t id, int64_t version, const char *status,
                           const rr_report_signature *sig, char *err, size_t errsize)
{
  return run_fail(rr_sqlite_run(db, "UPDATE report_versions SET version_status=?3, signed_by=?4, signed_at=?5, updated_at=?5,"
                                " pdf_sha256=?6, pdf=?7, revision=revision+1 WHERE report_id=?1 AND version=?2",
                                "iittitb", id, version, status, sig->signed_by, sig->signed_at, sig->pdf_sha256,
                                (const void *)sig->pdf, sig->pdf_size),
                  db, "sign report version", err, errsize);
}

/* The report after a signature of `version` (state, prevailing version,
 * latest signature, communication) and the study's timeline. */
static int record_signature(sqlite3 *db, const head *h, int64_t version, const char *state, bool final,
                            const rr_report_signature *sig, char *err, size_t errsize)
{
  int error = run_fail(rr_sqlite_run(db, "UPDATE reports SET state=?2, prevailing_version=CASE WHEN ?3 THEN ?4 ELSE"
                                     " prevailing_version END, signed_by=?5, signed_at=?6, updated_at=?6,"
                                     " critical_json=coalesce(?7, critical_json) WHERE id=?1",
                                     "itiitin", h->id, state, (int64_t)final, version, sig->signed_by, sig->signed_at,
                                     sig->critical_json),
                       db, "update report", err, errsize);

  if (error == 0)
    error = run_fail(rr_sqlite_run(db, final ? "INSERT INTO study_report(study_uid, final_at) VALUES(?1, ?2)"
                                           " ON CONFLICT(study_uid) DO UPDATE SET final_at=?2 WHERE final_at=0"
                                         : "INSERT INTO study_report(study_uid, preliminary_at) VALUES(?1, ?2)"
                                           " ON CONFLICT(study_uid) DO UPDATE SET preliminary_at=?2"
                                           " WHERE preliminary_at=0",
                                   "ti", h->study_uid, sig->signed_at),
                     db, "record the timeline", err, errsize);
  return error;
}

static int sqlite_report_sign(void *impl, int64_t *out_version, int64_t id, const rr_report_expect *expect,
                              const char *status, const rr_report_signature *sig, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  bool final, copy;
  int64_t version = 0;
  head h;
  int error;

  if ((error = rr_report_check_sign(&final, status, sig, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = load_head(db, &h, id, err, errsize)) < 0 || (error = rr_report_check_editable(&h, "sign", err, errsize)) < 0 ||
      (error = rr_report_check_expect(&h, expect, err, errsize)) < 0)
    goto out;
  if ((error = rr_report_plan_sign(&version, &copy, &h, final, sig, err, errsize)) < 0)
    goto out;
  if (copy && /* the latest is preliminary: a new draft copying it */
      (error = copy_version(db, id, h.latest, version, "draft", sig->signed_by, sig->signed_at, err, errsize)) < 0)
    goto out;
  if ((error = write_signature(db, id, version, status, sig, err, errsize)) < 0)
    goto out;
  error = record_signature(db, &h, version, final ? "final" : "preliminary", final, sig, err, errsize);
out:
  if ((error = rr_sqlite_end(s, error, err, errsize)) == 0 && out_version != NULL)
    *out_version = version;
  return error;
}

static int sqlite_report_add_version(void *impl, int64_t *out_version, int64_t id, int64_t expected_prevailing,
                                     const char *kind, const char *fields_json, const char *text,
                                     const rr_report_signature *sig, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  bool addendum;
  int64_t version = 0;
  head h;
  int error;

  if ((error = rr_report_check_add(&addendum, kind, fields_json, text, sig, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = load_head(db, &h, id, err, errsize)) < 0 ||
      (error = rr_report_plan_add(&version, &h, kind, expected_prevailing, err, errsize)) < 0)
    goto out;
  if ((error = run_fail(rr_sqlite_run(db, "INSERT INTO report_versions(report_id, version, kind, version_status, fields_json,"
                                      " inserts_json, text, author, updated_by, created_at, updated_at)"
                                      " SELECT report_id, ?3, ?4, 'draft', coalesce(?5, fields_json), inserts_json,"
                                      " ?6, ?7, ?7, ?8, ?8 FROM report_versions WHERE report_id=?1 AND version=?2",
                                      "iiitntti", id, h.prevailing, version, kind, addendum ? NULL : fields_json,
                                      text, sig->signed_by, sig->signed_at),
                        db, "add report version", err, errsize)) < 0 ||
      (error = write_signature(db, id, version, "final", sig, err, errsize)) < 0)
    goto out;
  error = record_signature(db, &h, version, addendum ? "appended" : "corrected", true, sig, err, errsize);
out:
  if ((error = rr_sqlite_end(s, error, err, errsize)) == 0 && out_version != NULL)
    *out_version = version;
  return error;
}

/* ------------------------------------------------------------ closing */

static int close_report(rr_sqlite_store *s, int64_t id, const char *state, const char *by, const char *reason,
                        int64_t now, char *err, size_t errsize)
{
  sqlite3 *db = s->writer.db;
  bool cancel = strcmp(state, "cancelled") == 0;
  head h;
  int error;

  if ((error = rr_report_check_close(by, reason, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = load_head(db, &h, id, err, errsize)) < 0 ||
      (error = rr_report_check_close_state(&h, cancel, err, errsize)) < 0)
    goto out;
  if (cancel && strcmp(h.status, "draft") == 0)
    error = run_fail(rr_sqlite_run(db, "UPDATE report_versions SET version_status='cancelled', updated_by=?3, updated_at=?4, revision=revision+1"
                                   " WHERE report_id=?1 AND version=?2",
                                   "iiti", id, h.latest, by, now),
                     db, "cancel the draft", err, errsize);
  if (error == 0)
    error = run_fail(rr_sqlite_run(db, "UPDATE reports SET state=?2, state_reason=?3, state_by=?4, updated_at=?5 WHERE id=?1",
                                   "ittti", id, state, reason, by, now),
                     db, "update report", err, errsize);
out:
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_report_cancel(void *impl, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                                size_t errsize)
{
  return close_report(impl, id, "cancelled", by, reason, now, err, errsize);
}

static int sqlite_report_entered_in_error(void *impl, int64_t id, const char *by, const char *reason, int64_t now,
                                          char *err, size_t errsize)
{
  return close_report(impl, id, "entered-in-error", by, reason, now, err, errsize);
}

static int sqlite_report_acknowledge(void *impl, int64_t id, const char *username, int64_t now, char *err,
                                     size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  head h;
  int error;

  if ((error = rr_report_check_user("user", username, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = load_head(db, &h, id, err, errsize)) < 0 || (error = rr_report_check_ack(&h, err, errsize)) < 0)
    goto out;
  error = run_fail(rr_sqlite_run(db, "INSERT OR IGNORE INTO report_acks(report_id, username, at) VALUES(?1, ?2, ?3)",
                                 "iti", id, username, now),
                   db, "acknowledge", err, errsize);
out:
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_report_pdf(void *impl, rr_report_version *out, int64_t id, int64_t version, char *err,
                             size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  int error = load_version(c->db, out, id, version, true, err, errsize);

  rr_sqlite_reader_release(s, c);
  return rr_report_pdf_result(error, out, id, version, err, errsize);
}

const rr_store_reports_ops rr_sqlite_reports_ops = {
  .create = sqlite_report_create,
  .get = sqlite_report_get,
  .for_study = sqlite_report_for_study,
  .open_for_study = sqlite_report_open_for_study,
  .save_draft = sqlite_report_save_draft,
  .next_version = sqlite_report_next_version,
  .sign = sqlite_report_sign,
  .add_version = sqlite_report_add_version,
  .cancel = sqlite_report_cancel,
  .entered_in_error = sqlite_report_entered_in_error,
  .acknowledge = sqlite_report_acknowledge,
  .pdf = sqlite_report_pdf,
  .list = rr_sqlite_report_list,
  .has_final = rr_sqlite_report_has_final,
  .opened = rr_sqlite_report_opened,
  .timeline = rr_sqlite_report_timeline,
  .macro_list = rr_sqlite_macro_list,
  .macro_put = rr_sqlite_macro_put,
  .macro_remove = rr_sqlite_macro_remove,
};
