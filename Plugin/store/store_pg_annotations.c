/*
 * store_pg_annotations.c - the PostgreSQL backend's annotations concern:
 * the viewer's measurements of a study with their versions, and key images
 * (contract in store_annotations.h; tables in
 * Resources/postgresql/004_annotations.sql). Behaves as
 * store_sqlite_annotations.c: a change reads the stored row FOR UPDATE in
 * one transaction, so two writers naming the same version cannot both win
 * (the second sees the first's version: RR_ESTALE).
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define ANNOTATION_COLUMNS \
  "study_uid, annotation_uid, series_uid, sop_uid, frame, tool, label, data_json, author, created_at, updated_at," \
  " version"

static const char SQL_CURRENT[] = "SELECT " ANNOTATION_COLUMNS " FROM annotations"
                                  " WHERE study_uid=$1 AND annotation_uid=$2 FOR UPDATE";
static const char SQL_INSERT[] = "INSERT INTO annotations(study_uid, annotation_uid, series_uid, sop_uid, frame, tool,"
                                 " label, data_json, author, created_at, updated_at, version)"
                                 " VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,1)"
                                 " ON CONFLICT (study_uid, annotation_uid) DO NOTHING"
                                 " RETURNING " ANNOTATION_COLUMNS;
static const char SQL_UPDATE[] = "UPDATE annotations SET label=$3, data_json=$4, updated_at=$5, version=version+1"
                                 " WHERE study_uid=$1 AND annotation_uid=$2 RETURNING " ANNOTATION_COLUMNS;
static const char SQL_DELETE[] = "DELETE FROM annotations WHERE study_uid=$1 AND annotation_uid=$2";
static const char SQL_LIST[] = "SELECT " ANNOTATION_COLUMNS " FROM annotations WHERE study_uid=$1"
                               " ORDER BY created_at, annotation_uid LIMIT 10000";
static const char SQL_KEY_MARK[] = "INSERT INTO key_images(study_uid, sop_uid, frame, series_uid, author, created_at)"
                                   " VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT (study_uid, sop_uid, frame) DO NOTHING";
static const char SQL_KEY_UNMARK[] = "DELETE FROM key_images WHERE study_uid=$1 AND sop_uid=$2 AND frame=$3";
static const char SQL_KEY_LIST[] = "SELECT study_uid, sop_uid, frame, series_uid, author, created_at FROM key_images"
                                   " WHERE study_uid=$1 ORDER BY created_at, sop_uid, frame LIMIT 10000";

static int read_annotation(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_annotation *a = elem;

  (void)ctx;
  rr_pg_copy(a->study_uid, sizeof(a->study_uid), r, row, 0);
  rr_pg_copy(a->annotation_uid, sizeof(a->annotation_uid), r, row, 1);
  rr_pg_copy(a->series_uid, sizeof(a->series_uid), r, row, 2);
  rr_pg_copy(a->sop_uid, sizeof(a->sop_uid), r, row, 3);
  a->frame = rr_pg_int(r, row, 4);
  rr_pg_copy(a->tool, sizeof(a->tool), r, row, 5);
  rr_pg_copy(a->label, sizeof(a->label), r, row, 6);
  rr_pg_copy(a->author, sizeof(a->author), r, row, 8);
  a->created_at = rr_pg_int(r, row, 9);
  a->updated_at = rr_pg_int(r, row, 10);
  a->version = rr_pg_int(r, row, 11);
  return (a->data_json = rr_pg_strdup(r, row, 7)) == NULL ? RR_ENOMEM : 0;
}

/* Whether a change of `cur` by `author` naming `expected` (0: any) may go
 * ahead; the refusals of store_annotations.h otherwise. */
static int may_change(const rr_annotation *cur, const char *author, int64_t expected, char *err, size_t errsize)
{
  if (strcmp(cur->author, author) != 0)
    return rr_fail(err, errsize, RR_EDENIED, "only its author may change this annotation");
  if (expected > 0 && expected != cur->version)
    return rr_fail(err, errsize, RR_ESTALE, "the annotation has changed since version %lld (now %lld)",
                   (long long)expected, (long long)cur->version);
  return 0;
}

typedef struct put_ctx {
  const rr_annotation *a;
  const char *study_uid, *uid, *author; /* remove */
  int64_t expected, now;
  rr_annotation stored; /* the row written (put) */
  bool created;
  int refused; /* RR_ECONFLICT of the contract (rr_pg_tx would retry it) */
} put_ctx;

/* Read the stored annotation FOR UPDATE into *cur (zeroed; disposed by the
 * caller); RR_ENOTFOUND without a sentence when there is none. */
static int current(rr_pg_conn *c, rr_annotation *cur, const char *study_uid, const char *uid, char *err,
                   size_t errsize)
{
  PGresult *r = NULL;
  int error;

  memset(cur, 0, sizeof(*cur));
  if ((error = rr_pg_query(c, &r, SQL_CURRENT, "tt", study_uid, uid)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "reading an annotation");
  if (PQntuples(r) == 0)
    error = RR_ENOTFOUND;
  else if (read_annotation(cur, r, 0, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

/* The statement's one returned row into x->stored; RR_ECONFLICT (run the
 * transaction again) when there is none: another writer created the
 * annotation between our read and our insert. */
static int take_row(put_ctx *x, rr_pg_conn *c, PGresult *r, int error, char *err, size_t errsize)
{
  if (error < 0) {
    PQclear(r);
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "writing an annotation");
  }
  if (PQntuples(r) == 0)
    error = RR_ECONFLICT;
  else if (read_annotation(&x->stored, r, 0, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

static int put_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  put_ctx *x = ctx;
  const rr_annotation *a = x->a;
  const char *data = a->data_json ? a->data_json : "{}";
  rr_annotation cur;
  PGresult *r = NULL;
  int error;

  rr_annotation_dispose(&x->stored);
  x->created = false;
  x->refused = 0;
  error = current(c, &cur, a->study_uid, a->annotation_uid, err, errsize);
  if (error == RR_ENOTFOUND) {
    if (x->expected > 0)
      return rr_fail(err, errsize, RR_ESTALE, "no such annotation to change (version %lld named)",
                     (long long)x->expected);
    x->created = true;
    error = rr_pg_query(c, &r, SQL_INSERT, "ttttitttti", a->study_uid, a->annotation_uid, a->series_uid, a->sop_uid,
                        a->frame, a->tool, a->label, data, a->author, x->now);
    return take_row(x, c, r, error, err, errsize);
  }
  if (error == 0 && (error = may_change(&cur, a->author, x->expected, err, errsize)) == 0 &&
      (strcmp(cur.series_uid, a->series_uid) != 0 || strcmp(cur.sop_uid, a->sop_uid) != 0 ||
       cur.frame != a->frame || strcmp(cur.tool, a->tool) != 0)) {
    x->refused = RR_ECONFLICT;
    error = rr_fail(err, errsize, RR_EINVAL, "an annotation's image and tool cannot change");
  }
  rr_annotation_dispose(&cur);
  if (error < 0)
    return error;
  error = rr_pg_query(c, &r, SQL_UPDATE, "tttti", a->study_uid, a->annotation_uid, a->label, data, x->now);
  return take_row(x, c, r, error, err, errsize);
}

static int pg_annotation_put(void *impl, rr_annotation *out, bool *created, const rr_annotation *a,
                             int64_t expected, int64_t now, char *err, size_t errsize)
{
  put_ctx x;
  int error;

  memset(&x, 0, sizeof(x));
  x.a = a;
  x.expected = expected;
  x.now = now;
  error = rr_pg_tx(impl, put_tx, &x, err, errsize);
  if (error < 0 && x.refused != 0)
    error = x.refused;
  if (error == 0 && created != NULL)
    *created = x.created;
  if (error == 0 && out != NULL)
    *out = x.stored; /* the caller disposes it */
  else
    rr_annotation_dispose(&x.stored);
  return error;
}

static int remove_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  put_ctx *x = ctx;
  rr_annotation cur;
  int error = current(c, &cur, x->study_uid, x->uid, err, errsize);

  if (error == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such annotation");
  if (error == 0)
    error = may_change(&cur, x->author, x->expected, err, errsize);
  rr_annotation_dispose(&cur);
  if (error == 0 && (error = rr_pg_query(c, NULL, SQL_DELETE, "tt", x->study_uid, x->uid)) < 0 &&
      error != RR_ECONFLICT)
    error = rr_pg_fail(err, errsize, error, c, "deleting an annotation");
  return error;
}

static int pg_annotation_remove(void *impl, const char *study_uid, const char *uid, const char *author,
                                int64_t expected, char *err, size_t errsize)
{
  put_ctx x;

  memset(&x, 0, sizeof(x));
  x.study_uid = study_uid;
  x.uid = uid;
  x.author = author;
  x.expected = expected;
  return rr_pg_tx(impl, remove_tx, &x, err, errsize);
}

/* Run a list query with one text parameter and read its rows into a new
 * list of `kind` (*out; NULL on failure). */
static int read_list(void *impl, void **out, const rr_store_list_kind *kind, const char *sql, const char *study_uid,
                     rr_pg_row_reader read, const char *what, char *err, size_t errsize)
{
  PGresult *r = NULL;
  void *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, what, err, errsize, sql, "t", study_uid)) < 0)
    return error;
  if ((list = rr_store_list_new(kind)) == NULL || rr_pg_rows(r, kind, list, (size_t)PQntuples(r), read, NULL) < 0) {
    rr_store_list_free(kind, list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

static int pg_annotation_list(void *impl, rr_annotation_list **out, const char *study_uid, char *err,
                              size_t errsize)
{
  void *list = NULL;
  int error = read_list(impl, &list, &rr_annotation_list_kind, SQL_LIST, study_uid, read_annotation,
                        "reading annotations", err, errsize);

  *out = list;
  return error;
}

/* ------------------------------------------------------------ key images */

/* The number of rows a statement changed. */
static int64_t changed(const PGresult *r)
{
  const char *n = r != NULL ? PQcmdTuples((PGresult *)r) : "";

  return n[0] != '\0' ? strtoll(n, NULL, 10) : 0;
}

static int pg_key_mark(void *impl, bool *created, const rr_key_image *k, int64_t now, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "marking a key image", err, errsize, SQL_KEY_MARK, "ttitti", k->study_uid,
                        k->sop_uid, k->frame, k->series_uid, k->author, now);

  if (error == 0 && created != NULL)
    *created = changed(r) > 0;
  PQclear(r);
  return error;
}

static int pg_key_unmark(void *impl, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                         size_t errsize)
{
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "unmarking a key image", err, errsize, SQL_KEY_UNMARK, "tti", study_uid, sop_uid,
                        frame);

  if (error == 0 && changed(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "this image is not a key image");
  PQclear(r);
  return error;
}

static int read_key(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_key_image *k = elem;

  (void)ctx;
  rr_pg_copy(k->study_uid, sizeof(k->study_uid), r, row, 0);
  rr_pg_copy(k->sop_uid, sizeof(k->sop_uid), r, row, 1);
  k->frame = rr_pg_int(r, row, 2);
  rr_pg_copy(k->series_uid, sizeof(k->series_uid), r, row, 3);
  rr_pg_copy(k->author, sizeof(k->author), r, row, 4);
  k->created_at = rr_pg_int(r, row, 5);
  return 0;
}

static int pg_key_list(void *impl, rr_key_image_list **out, const char *study_uid, char *err, size_t errsize)
{
  void *list = NULL;
  int error =
    read_list(impl, &list, &rr_key_image_list_kind, SQL_KEY_LIST, study_uid, read_key, "reading key images", err,
              errsize);

  *out = list;
  return error;
}

const rr_store_annotations_ops rr_pg_annotations_ops = {
  .put = pg_annotation_put,
  .remove = pg_annotation_remove,
  .list = pg_annotation_list,
  .key_mark = pg_key_mark,
  .key_unmark = pg_key_unmark,
  .key_list = pg_key_list,
};
