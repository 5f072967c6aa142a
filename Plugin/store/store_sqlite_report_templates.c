/*
 * store_sqlite_report_templates.c - the SQLite backend's report templates
 * concern (contract in store_report_templates.h; table in
 * Resources/sqlite/008_report_templates.sql).
 */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS "id, json, revision, retired, updated_by, updated_at"

static int read_template(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_report_template_rec *r = elem;
  const unsigned char *t = sqlite3_column_text(st, 1);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, 1) : 0;

  (void)ctx;
  rr_sqlite_column_copy(r->id, sizeof(r->id), st, 0);
  r->revision = sqlite3_column_int64(st, 2);
  r->retired = sqlite3_column_int(st, 3) != 0;
  rr_sqlite_column_copy(r->updated_by, sizeof(r->updated_by), st, 4);
  r->updated_at = sqlite3_column_int64(st, 5);
  if ((r->json = malloc(n + 1)) == NULL)
    return RR_ENOMEM;
  if (n > 0)
    memcpy(r->json, t, n);
  r->json[n] = '\0';
  return 0;
}

static int sqlite_template_get(void *impl, rr_report_template_rec *out, const char *id, char *err, size_t errsize)
{
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_sqlite_read_row(impl,
                             &(rr_sqlite_sql){"SELECT " COLUMNS " FROM report_templates WHERE id=?1",
                                              rr_sqlite_bind_text1, id, "prepare report template",
                                              "read report template"},
                             read_template, out, NULL, err, errsize);
  if (error == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report template");
  if (error < 0)
    rr_report_template_rec_dispose(out);
  return error;
}

static int sqlite_template_list(void *impl, rr_report_template_list **out, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_report_template_list_kind, 8,
                                  "SELECT " COLUMNS " FROM report_templates ORDER BY id LIMIT 10000", NULL,
                                  read_template, "report templates", err, errsize);

  *out = list;
  return error;
}

static void bind_rec(sqlite3_stmt *st, const void *arg)
{
  const rr_report_template_rec *r = arg;

  rr_sqlite_bind_text(st, 1, r->id);
  rr_sqlite_bind_text(st, 2, r->json);
  sqlite3_bind_int64(st, 3, r->revision);
  sqlite3_bind_int(st, 4, r->retired ? 1 : 0);
  rr_sqlite_bind_text(st, 5, r->updated_by);
  sqlite3_bind_int64(st, 6, r->updated_at);
}

static int sqlite_template_create(void *impl, const rr_report_template_rec *rec, char *err, size_t errsize)
{
  int error;

  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  if (rec->revision < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a template's revision is at least 1");
  return rr_sqlite_write_row(impl,
                             &(rr_sqlite_sql){"INSERT INTO report_templates(" COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6)",
                                              bind_rec, rec, "prepare report template", "create report template"},
                             "a report template with this id exists already", NULL, err, errsize);
}

/* The revision of the row `id` on the writer connection (in the caller's
 * transaction); RR_ENOTFOUND with a sentence when none. */
static int revision_of(sqlite3 *db, int64_t *out, const char *id, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(db, "SELECT revision FROM report_templates WHERE id=?1", -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report template");
  rr_sqlite_bind_text(st, 1, id);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_DONE)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report template");
  else
    error = rr_sqlite_fail(err, errsize, db, "read report template");
  sqlite3_finalize(st);
  return error;
}

static int run_update(sqlite3 *db, const rr_report_template_rec *rec, int64_t revision, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int error = 0;

  if (sqlite3_prepare_v2(db,
                         "UPDATE report_templates SET json=?2, revision=?3, retired=?4, updated_by=?5, updated_at=?6"
                         " WHERE id=?1",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare report template update");
  bind_rec(st, rec);
  sqlite3_bind_int64(st, 3, revision);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, db, "update report template");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_template_update(void *impl, rr_report_template_rec *out, const rr_report_template_rec *rec,
                                  int64_t expected, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int64_t current = 0;
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  error = revision_of(s->writer.db, &current, rec->id, err, errsize);
  if (error == 0 && current != expected)
    error = rr_fail(err, errsize, RR_ESTALE, "the template is at revision %lld, not %lld", (long long)current,
                    (long long)expected);
  if (error == 0)
    error = run_update(s->writer.db, rec, current + 1, err, errsize);
  error = rr_sqlite_end(s, error, err, errsize);
  if (error == 0 && out != NULL)
    error = sqlite_template_get(impl, out, rec->id, err, errsize);
  return error;
}

const rr_store_report_templates_ops rr_sqlite_report_templates_ops = {
  .get = sqlite_template_get,
  .list = sqlite_template_list,
  .create = sqlite_template_create,
  .update = sqlite_template_update,
};
