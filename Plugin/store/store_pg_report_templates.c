/*
 * store_pg_report_templates.c - the PostgreSQL backend's report templates
 * concern (contract in store_report_templates.h; table in
 * Resources/postgresql/005_report_templates.sql). Behaves as
 * store_sqlite_report_templates.c; an update is one compare-and-set
 * statement (WHERE revision = the expected one), so of two writers naming
 * the same revision exactly one wins and the other gets RR_ESTALE.
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS "id, json, revision, retired, updated_by, updated_at"

static const char SQL_GET[] = "SELECT " COLUMNS " FROM report_templates WHERE id=$1";
static const char SQL_LIST[] = "SELECT " COLUMNS " FROM report_templates ORDER BY id LIMIT 10000";
static const char SQL_CREATE[] = "INSERT INTO report_templates(" COLUMNS ") VALUES($1,$2,$3,$4,$5,$6)";
static const char SQL_UPDATE[] = "UPDATE report_templates SET json=$2, retired=$3, updated_by=$4, updated_at=$5,"
                                 " revision=revision+1 WHERE id=$1 AND revision=$6 RETURNING " COLUMNS;
static const char SQL_REVISION[] = "SELECT revision FROM report_templates WHERE id=$1";

static int read_template(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_template_rec *t = elem;

  (void)ctx;
  rr_pg_copy(t->id, sizeof(t->id), r, row, 0);
  t->revision = rr_pg_int(r, row, 2);
  t->retired = rr_pg_bool(r, row, 3);
  rr_pg_copy(t->updated_by, sizeof(t->updated_by), r, row, 4);
  t->updated_at = rr_pg_int(r, row, 5);
  return (t->json = rr_pg_strdup(r, row, 1)) == NULL ? RR_ENOMEM : 0;
}

/* The first row of r into *out (zeroed first); RR_ENOTFOUND with a
 * sentence when r has none. */
static int take_row(rr_report_template_rec *out, const PGresult *r, char *err, size_t errsize)
{
  memset(out, 0, sizeof(*out));
  if (PQntuples(r) == 0)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such report template");
  if (read_template(out, r, 0, NULL) < 0) {
    rr_report_template_rec_dispose(out);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  return 0;
}

static int pg_template_get(void *impl, rr_report_template_rec *out, const char *id, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "reading a report template", err, errsize, SQL_GET, "t", id)) < 0)
    return error;
  error = take_row(out, r, err, errsize);
  PQclear(r);
  return error;
}

static int pg_template_list(void *impl, rr_report_template_list **out, char *err, size_t errsize)
{
  PGresult *r = NULL;
  void *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "reading report templates", err, errsize, SQL_LIST, "")) < 0)
    return error;
  if ((list = rr_store_list_new(&rr_report_template_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_report_template_list_kind, list, (size_t)PQntuples(r), read_template, NULL) < 0) {
    rr_store_list_free(&rr_report_template_list_kind, list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

static int pg_template_create(void *impl, const rr_report_template_rec *rec, char *err, size_t errsize)
{
  int error;

  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  if (rec->revision < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a template's revision is at least 1");
  error = rr_pg_run(impl, NULL, "creating a report template", err, errsize, SQL_CREATE, "ttiBti", rec->id, rec->json,
                    rec->revision, rec->retired ? 1 : 0, rec->updated_by, rec->updated_at);
  if (error == RR_EEXISTS)
    error = rr_fail(err, errsize, RR_EEXISTS, "a report template with this id exists already");
  return error;
}

static int pg_template_update(void *impl, rr_report_template_rec *out, const rr_report_template_rec *rec,
                              int64_t expected, char *err, size_t errsize)
{
  rr_report_template_rec stored;
  PGresult *r = NULL;
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  if ((error = rr_pg_run(impl, &r, "updating a report template", err, errsize, SQL_UPDATE, "ttBtii", rec->id,
                         rec->json, rec->retired ? 1 : 0, rec->updated_by, rec->updated_at, expected)) < 0)
    return error;
  if (PQntuples(r) == 0) {
    /* nothing changed: tell a missing row from another revision */
    PQclear(r);
    r = NULL;
    if ((error = rr_pg_run(impl, &r, "reading a report template", err, errsize, SQL_REVISION, "t", rec->id)) < 0)
      return error;
    error = PQntuples(r) == 0 ? rr_fail(err, errsize, RR_ENOTFOUND, "no such report template")
                              : rr_fail(err, errsize, RR_ESTALE, "the template is at revision %lld, not %lld",
                                        (long long)rr_pg_int(r, 0, 0), (long long)expected);
    PQclear(r);
    return error;
  }
  error = take_row(&stored, r, err, errsize);
  PQclear(r);
  if (error == 0 && out != NULL)
    *out = stored;
  else
    rr_report_template_rec_dispose(&stored);
  return error;
}

const rr_store_report_templates_ops rr_pg_report_templates_ops = {
  .get = pg_template_get,
  .list = pg_template_list,
  .create = pg_template_create,
  .update = pg_template_update,
};
