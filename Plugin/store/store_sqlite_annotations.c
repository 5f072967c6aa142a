/*
 * store_sqlite_annotations.c - the SQLite backend's annotations concern:
 * the viewer's measurements of a study with their versions, and key images
 * (contract in store_annotations.h; tables in Resources/sqlite/006).
 */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define ANNOTATION_COLUMNS \
  "study_uid, annotation_uid, series_uid, sop_uid, frame, tool, label, data_json, author, created_at, updated_at," \
  " version"

static int read_annotation(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_annotation *a = elem;
  const unsigned char *t;
  size_t n;

  (void)ctx;
  rr_sqlite_column_copy(a->study_uid, sizeof(a->study_uid), st, 0);
  rr_sqlite_column_copy(a->annotation_uid, sizeof(a->annotation_uid), st, 1);
  rr_sqlite_column_copy(a->series_uid, sizeof(a->series_uid), st, 2);
  rr_sqlite_column_copy(a->sop_uid, sizeof(a->sop_uid), st, 3);
  a->frame = sqlite3_column_int64(st, 4);
  rr_sqlite_column_copy(a->tool, sizeof(a->tool), st, 5);
  rr_sqlite_column_copy(a->label, sizeof(a->label), st, 6);
  rr_sqlite_column_copy(a->author, sizeof(a->author), st, 8);
  a->created_at = sqlite3_column_int64(st, 9);
  a->updated_at = sqlite3_column_int64(st, 10);
  a->version = sqlite3_column_int64(st, 11);
  t = sqlite3_column_text(st, 7);
  n = t ? (size_t)sqlite3_column_bytes(st, 7) : 0;
  if ((a->data_json = malloc(n + 1)) == NULL)
    return RR_ENOMEM;
  if (n > 0)
    memcpy(a->data_json, t, n);
  a->data_json[n] = '\0';
  return 0;
}

/* The stored annotation (study, uid) read on the writer connection inside
 * the caller's transaction into *cur (disposed by the caller);
 * RR_ENOTFOUND without a sentence when there is none. */
static int current(sqlite3 *db, rr_annotation *cur, const char *study_uid, const char *uid, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  memset(cur, 0, sizeof(*cur));
  if (sqlite3_prepare_v2(db, "SELECT " ANNOTATION_COLUMNS " FROM annotations WHERE study_uid=?1 AND annotation_uid=?2",
                         -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare annotation");
  rr_sqlite_bind_text(st, 1, study_uid);
  rr_sqlite_bind_text(st, 2, uid);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    error = read_annotation(cur, st, NULL) < 0 ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
  else if (rc == SQLITE_DONE)
    error = RR_ENOTFOUND;
  else
    error = rr_sqlite_fail(err, errsize, db, "read annotation");
  sqlite3_finalize(st);
  return error;
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

static int run_put(sqlite3 *db, const rr_annotation *a, bool insert, int64_t now, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int error = 0;
  const char *sql = insert ? "INSERT INTO annotations(study_uid, annotation_uid, series_uid, sop_uid, frame, tool,"
                             " label, data_json, author, created_at, updated_at, version)"
                             " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10,1)"
                           : "UPDATE annotations SET label=?7, data_json=?8, updated_at=?10, version=version+1"
                             " WHERE study_uid=?1 AND annotation_uid=?2";

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare annotation write");
  rr_sqlite_bind_text(st, 1, a->study_uid);
  rr_sqlite_bind_text(st, 2, a->annotation_uid);
  if (insert) {
    rr_sqlite_bind_text(st, 3, a->series_uid);
    rr_sqlite_bind_text(st, 4, a->sop_uid);
    sqlite3_bind_int64(st, 5, a->frame);
    rr_sqlite_bind_text(st, 6, a->tool);
    rr_sqlite_bind_text(st, 9, a->author);
  }
  rr_sqlite_bind_text(st, 7, a->label);
  rr_sqlite_bind_text(st, 8, a->data_json ? a->data_json : "{}");
  sqlite3_bind_int64(st, 10, now);
  if (sqlite3_step(st) != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, db, "write annotation");
  sqlite3_finalize(st);
  return error;
}

static int sqlite_annotation_put(void *impl, rr_annotation *out, bool *created, const rr_annotation *a,
                                 int64_t expected, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_annotation cur;
  bool insert = false;
  int error;

  memset(&cur, 0, sizeof(cur));
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  error = current(s->writer.db, &cur, a->study_uid, a->annotation_uid, err, errsize);
  if (error == RR_ENOTFOUND) {
    insert = true;
    error = expected > 0 ? rr_fail(err, errsize, RR_ESTALE, "no such annotation to change (version %lld named)",
                                   (long long)expected)
                         : 0;
  } else if (error == 0 && (error = may_change(&cur, a->author, expected, err, errsize)) == 0) {
    if (strcmp(cur.series_uid, a->series_uid) != 0 || strcmp(cur.sop_uid, a->sop_uid) != 0 ||
        cur.frame != a->frame || strcmp(cur.tool, a->tool) != 0)
      error = rr_fail(err, errsize, RR_ECONFLICT, "an annotation's image and tool cannot change");
  }
  if (error == 0)
    error = run_put(s->writer.db, a, insert, now, err, errsize);
  rr_annotation_dispose(&cur);
  if (error == 0 && out != NULL)
    error = current(s->writer.db, out, a->study_uid, a->annotation_uid, err, errsize);
  error = rr_sqlite_end(s, error, err, errsize);
  if (error < 0 && out != NULL)
    rr_annotation_dispose(out);
  if (error == 0 && created != NULL)
    *created = insert;
  return error;
}

static int sqlite_annotation_remove(void *impl, const char *study_uid, const char *uid, const char *author,
                                    int64_t expected, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_annotation cur;
  sqlite3_stmt *st = NULL;
  int error;

  memset(&cur, 0, sizeof(cur));
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  error = current(s->writer.db, &cur, study_uid, uid, err, errsize);
  if (error == RR_ENOTFOUND)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such annotation");
  if (error == 0)
    error = may_change(&cur, author, expected, err, errsize);
  if (error == 0) {
    if (sqlite3_prepare_v2(s->writer.db, "DELETE FROM annotations WHERE study_uid=?1 AND annotation_uid=?2", -1, &st,
                           NULL) != SQLITE_OK) {
      error = rr_sqlite_fail(err, errsize, s->writer.db, "prepare annotation delete");
    } else {
      rr_sqlite_bind_text(st, 1, study_uid);
      rr_sqlite_bind_text(st, 2, uid);
      if (sqlite3_step(st) != SQLITE_DONE)
        error = rr_sqlite_fail(err, errsize, s->writer.db, "delete annotation");
    }
  }
  sqlite3_finalize(st);
  rr_annotation_dispose(&cur);
  return rr_sqlite_end(s, error, err, errsize);
}

static int sqlite_annotation_list(void *impl, rr_annotation_list **out, const char *study_uid, char *err,
                                  size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_annotation_list_kind, 8,
                                  "SELECT " ANNOTATION_COLUMNS " FROM annotations WHERE study_uid=?1"
                                  " ORDER BY created_at, annotation_uid LIMIT 10000",
                                  study_uid, read_annotation, "annotations", err, errsize);

  *out = list;
  return error;
}

/* ------------------------------------------------------------ key images */

static void bind_key(sqlite3_stmt *st, const void *arg)
{
  const struct {
    const rr_key_image *k;
    int64_t now;
  } *p = arg;

  rr_sqlite_bind_text(st, 1, p->k->study_uid);
  rr_sqlite_bind_text(st, 2, p->k->sop_uid);
  sqlite3_bind_int64(st, 3, p->k->frame);
  rr_sqlite_bind_text(st, 4, p->k->series_uid);
  rr_sqlite_bind_text(st, 5, p->k->author);
  sqlite3_bind_int64(st, 6, p->now);
}

static int sqlite_key_mark(void *impl, bool *created, const rr_key_image *k, int64_t now, char *err, size_t errsize)
{
  struct {
    const rr_key_image *k;
    int64_t now;
  } arg = {k, now};
  int64_t changes = 0;
  int error = rr_sqlite_write_row(impl,
                                  &(rr_sqlite_sql){"INSERT OR IGNORE INTO key_images(study_uid, sop_uid, frame,"
                                                   " series_uid, author, created_at) VALUES(?1,?2,?3,?4,?5,?6)",
                                                   bind_key, &arg, "prepare key image", "mark key image"},
                                  NULL, &changes, err, errsize);

  if (error == 0 && created != NULL)
    *created = changes > 0;
  return error;
}

static void bind_key_id(sqlite3_stmt *st, const void *arg)
{
  const rr_key_image *k = arg;

  rr_sqlite_bind_text(st, 1, k->study_uid);
  rr_sqlite_bind_text(st, 2, k->sop_uid);
  sqlite3_bind_int64(st, 3, k->frame);
}

static int sqlite_key_unmark(void *impl, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                             size_t errsize)
{
  rr_key_image k;
  int64_t changes = 0;
  int error;

  memset(&k, 0, sizeof(k));
  rr_str_copy(k.study_uid, sizeof(k.study_uid), study_uid);
  rr_str_copy(k.sop_uid, sizeof(k.sop_uid), sop_uid);
  k.frame = frame;
  error = rr_sqlite_write_row(impl,
                              &(rr_sqlite_sql){"DELETE FROM key_images WHERE study_uid=?1 AND sop_uid=?2 AND frame=?3",
                                               bind_key_id, &k, "prepare key image", "unmark key image"},
                              NULL, &changes, err, errsize);
  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "this image is not a key image");
  return error;
}

static int read_key(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_key_image *k = elem;

  (void)ctx;
  rr_sqlite_column_copy(k->study_uid, sizeof(k->study_uid), st, 0);
  rr_sqlite_column_copy(k->sop_uid, sizeof(k->sop_uid), st, 1);
  k->frame = sqlite3_column_int64(st, 2);
  rr_sqlite_column_copy(k->series_uid, sizeof(k->series_uid), st, 3);
  rr_sqlite_column_copy(k->author, sizeof(k->author), st, 4);
  k->created_at = sqlite3_column_int64(st, 5);
  return 0;
}

static int sqlite_key_list(void *impl, rr_key_image_list **out, const char *study_uid, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_key_image_list_kind, 8,
                                  "SELECT study_uid, sop_uid, frame, series_uid, author, created_at FROM key_images"
                                  " WHERE study_uid=?1 ORDER BY created_at, sop_uid, frame LIMIT 10000",
                                  study_uid, read_key, "key images", err, errsize);

  *out = list;
  return error;
}

const rr_store_annotations_ops rr_sqlite_annotations_ops = {
  .put = sqlite_annotation_put,
  .remove = sqlite_annotation_remove,
  .list = sqlite_annotation_list,
  .key_mark = sqlite_key_mark,
  .key_unmark = sqlite_key_unmark,
  .key_list = sqlite_key_list,
};
