/*
 * store_mongo_annotations.c - the MongoDB backend's annotations concern:
 * the viewer's measurements of a study with their versions (collection
 * `annotations`), and key images (`key_images`); contract in
 * store_annotations.h. Behaves as store_sqlite_annotations.c.
 *
 * Without transactions, a change is optimistic: read the stored annotation,
 * check author, version and image, then write with a filter naming the
 * version read ({study_uid, annotation_uid, version}); when another writer
 * came first the filter matches nothing and the change starts again from
 * the read, so two writers naming the same version cannot both win (the
 * second sees the first's version: RR_ESTALE). A new annotation is an upsert
 * with $setOnInsert (unique index on study and uid): of two creators one
 * creates it and the other changes it (or is refused) as put says.
 */
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define ANNOTATIONS "annotations"
#define KEYS "key_images"
#define MAX_TRIES 1000

static int read_annotation(void *elem, const bson_t *doc, void *ctx)
{
  rr_annotation *a = elem;

  (void)ctx;
  rr_mongo_copy(a->study_uid, sizeof(a->study_uid), doc, "study_uid");
  rr_mongo_copy(a->annotation_uid, sizeof(a->annotation_uid), doc, "annotation_uid");
  rr_mongo_copy(a->series_uid, sizeof(a->series_uid), doc, "series_uid");
  rr_mongo_copy(a->sop_uid, sizeof(a->sop_uid), doc, "sop_uid");
  a->frame = rr_mongo_int(doc, "frame");
  rr_mongo_copy(a->tool, sizeof(a->tool), doc, "tool");
  rr_mongo_copy(a->label, sizeof(a->label), doc, "label");
  rr_mongo_copy(a->author, sizeof(a->author), doc, "author");
  a->created_at = rr_mongo_int(doc, "created_at");
  a->updated_at = rr_mongo_int(doc, "updated_at");
  a->version = rr_mongo_int(doc, "version");
  return (a->data_json = rr_mongo_strdup(doc, "data_json")) == NULL ? RR_ENOMEM : 0;
}

/* The stored annotation into *cur (zeroed; the caller disposes it);
 * RR_ENOTFOUND without a sentence when there is none. */
static int current(rr_mongo_store *s, rr_annotation *cur, const char *study_uid, const char *uid, char *err,
                   size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid), "annotation_uid", BCON_UTF8(uid));
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  rr_annotation_list *list = rr_store_list_new(&rr_annotation_list_kind);
  int error;

  memset(cur, 0, sizeof(*cur));
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, &rr_annotation_list_kind, 1, ANNOTATIONS, filter, opts, read_annotation, NULL,
                               "reading an annotation", err, errsize);
  if (error == 0 && list->count == 0)
    error = RR_ENOTFOUND;
  else if (error == 0) {
    *cur = list->items[0];
    list->count = 0;
  }
  rr_annotation_list_free(list);
  bson_destroy(filter);
  bson_destroy(opts);
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

/* One write; *n receives the documents it matched, upserted or deleted. */
typedef enum write_kind { WRITE_UPDATE, WRITE_UPSERT, WRITE_DELETE } write_kind;

static int write_one(rr_mongo_store *s, int64_t *n, const char *name, write_kind kind, const bson_t *filter,
                     const bson_t *upd, const char *what, char *err, size_t errsize)
{
  rr_mongo_write_counts w;
  int error = rr_mongo_write(s, &w, name, kind == WRITE_DELETE ? RR_MONGO_DELETE_ONE : RR_MONGO_UPDATE_ONE, filter, upd,
                             kind == WRITE_UPSERT, what, err, errsize);

  *n = kind == WRITE_DELETE ? w.deleted : kind == WRITE_UPSERT ? w.upserted : w.matched;
  return error;
}

/* Create a; *n 1 when it was created, 0 when another writer did first. */
static int create(rr_mongo_store *s, int64_t *n, const rr_annotation *a, int64_t now, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(a->study_uid), "annotation_uid", BCON_UTF8(a->annotation_uid));
  bson_t *upd = BCON_NEW("$setOnInsert", "{", "study_uid", BCON_UTF8(a->study_uid), "annotation_uid",
                         BCON_UTF8(a->annotation_uid), "series_uid", BCON_UTF8(a->series_uid), "sop_uid",
                         BCON_UTF8(a->sop_uid), "frame", BCON_INT64(a->frame), "tool", BCON_UTF8(a->tool), "label",
                         BCON_UTF8(a->label), "data_json", BCON_UTF8(a->data_json ? a->data_json : "{}"), "author",
                         BCON_UTF8(a->author), "created_at", BCON_INT64(now), "updated_at", BCON_INT64(now),
                         "version", BCON_INT64(1), "}");
  int error = write_one(s, n, ANNOTATIONS, WRITE_UPSERT, filter, upd, "writing an annotation", err, errsize);

  if (error == RR_EEXISTS) { /* created at the same moment by another writer */
    *n = 0;
    error = 0;
  }
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* Change cur's label and data if it is still at cur->version; *n 0 when
 * another writer changed it first. */
static int change(rr_mongo_store *s, int64_t *n, const rr_annotation *cur, const rr_annotation *a, int64_t now,
                  char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(a->study_uid), "annotation_uid", BCON_UTF8(a->annotation_uid),
                            "version", BCON_INT64(cur->version));
  bson_t *upd = BCON_NEW("$set", "{", "label", BCON_UTF8(a->label), "data_json",
                         BCON_UTF8(a->data_json ? a->data_json : "{}"), "updated_at", BCON_INT64(now), "}", "$inc",
                         "{", "version", BCON_INT64(1), "}");
  int error = write_one(s, n, ANNOTATIONS, WRITE_UPDATE, filter, upd, "writing an annotation", err, errsize);

  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* One attempt of put: *done false when another writer came between the
 * read and the write (try again). */
static int put_once(rr_mongo_store *s, bool *done, bool *created, const rr_annotation *a, int64_t expected,
                    int64_t now, char *err, size_t errsize)
{
  rr_annotation cur;
  int64_t n = 0;
  int error = current(s, &cur, a->study_uid, a->annotation_uid, err, errsize);

  *done = false;
  *created = false;
  if (error == RR_ENOTFOUND) {
    if (expected > 0)
      return rr_fail(err, errsize, RR_ESTALE, "no such annotation to change (version %lld named)",
                     (long long)expected);
    if ((error = create(s, &n, a, now, err, errsize)) == 0)
      *done = *created = n > 0;
    return error;
  }
  if (error == 0 && (error = may_change(&cur, a->author, expected, err, errsize)) == 0 &&
      (strcmp(cur.series_uid, a->series_uid) != 0 || strcmp(cur.sop_uid, a->sop_uid) != 0 || cur.frame != a->frame ||
       strcmp(cur.tool, a->tool) != 0))
    error = rr_fail(err, errsize, RR_ECONFLICT, "an annotation's image and tool cannot change");
  if (error == 0 && (error = change(s, &n, &cur, a, now, err, errsize)) == 0)
    *done = n > 0;
  rr_annotation_dispose(&cur);
  return error;
}

static int mongo_annotation_put(void *impl, rr_annotation *out, bool *created, const rr_annotation *a,
                                int64_t expected, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bool done = false, made = false;
  int error = 0, i;

  for (i = 0; error == 0 && !done && i < MAX_TRIES; i++)
    error = put_once(s, &done, &made, a, expected, now, err, errsize);
  if (error == 0 && !done)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: the annotation kept changing; try again");
  if (error == 0 && created != NULL)
    *created = made;
  if (error == 0 && out != NULL && (error = current(s, out, a->study_uid, a->annotation_uid, err, errsize)) ==
                                     RR_ENOTFOUND) /* removed at once by its author elsewhere */
    error = rr_fail(err, errsize, RR_ESTALE, "the annotation was removed meanwhile");
  return error;
}

static int mongo_annotation_remove(void *impl, const char *study_uid, const char *uid, const char *author,
                                   int64_t expected, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  rr_annotation cur;
  bson_t *filter;
  int64_t n = 0;
  int error = 0, i;

  for (i = 0; error == 0 && n == 0 && i < MAX_TRIES; i++) {
    if ((error = current(s, &cur, study_uid, uid, err, errsize)) == RR_ENOTFOUND)
      return rr_fail(err, errsize, RR_ENOTFOUND, "no such annotation");
    if (error == 0 && (error = may_change(&cur, author, expected, err, errsize)) == 0) {
      filter = BCON_NEW("study_uid", BCON_UTF8(study_uid), "annotation_uid", BCON_UTF8(uid), "version",
                        BCON_INT64(cur.version));
      error = write_one(s, &n, ANNOTATIONS, WRITE_DELETE, filter, NULL, "deleting an annotation", err, errsize);
      bson_destroy(filter);
    }
    rr_annotation_dispose(&cur);
  }
  if (error == 0 && n == 0)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: the annotation kept changing; try again");
  return error;
}

/* A new list of `kind` with the documents of the study, sorted. */
static int read_list(rr_mongo_store *s, void **out, const rr_store_list_kind *kind, const char *name,
                     const char *study_uid, bson_t *sort, rr_mongo_doc_reader read, const char *what, char *err,
                     size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid));
  bson_t opts = BSON_INITIALIZER;
  void *list = rr_store_list_new(kind);
  int error;

  *out = NULL;
  BSON_APPEND_DOCUMENT(&opts, "sort", sort);
  BSON_APPEND_INT64(&opts, "limit", 10000);
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, kind, 16, name, filter, &opts, read, NULL, what, err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_store_list_free(kind, list);
  bson_destroy(filter);
  bson_destroy(&opts);
  bson_destroy(sort);
  return error;
}

static int mongo_annotation_list(void *impl, rr_annotation_list **out, const char *study_uid, char *err,
                                 size_t errsize)
{
  void *list = NULL;
  int error = read_list(impl, &list, &rr_annotation_list_kind, ANNOTATIONS, study_uid,
                        BCON_NEW("created_at", BCON_INT32(1), "annotation_uid", BCON_INT32(1)), read_annotation,
                        "reading annotations", err, errsize);

  *out = list;
  return error;
}

/* ------------------------------------------------------------ key images */

static int mongo_key_mark(void *impl, bool *created, const rr_key_image *k, int64_t now, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(k->study_uid), "sop_uid", BCON_UTF8(k->sop_uid), "frame",
                            BCON_INT64(k->frame));
  bson_t *upd = BCON_NEW("$setOnInsert", "{", "study_uid", BCON_UTF8(k->study_uid), "sop_uid", BCON_UTF8(k->sop_uid),
                         "frame", BCON_INT64(k->frame), "series_uid", BCON_UTF8(k->series_uid), "author",
                         BCON_UTF8(k->author), "created_at", BCON_INT64(now), "}");
  int64_t n = 0;
  int error = write_one(impl, &n, KEYS, WRITE_UPSERT, filter, upd, "marking a key image", err, errsize);

  if (error == RR_EEXISTS) /* marked at the same moment by someone else: the first mark is kept */
    error = 0, n = 0;
  if (error == 0 && created != NULL)
    *created = n > 0;
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

static int mongo_key_unmark(void *impl, const char *study_uid, const char *sop_uid, int64_t frame, char *err,
                            size_t errsize)
{
  bson_t *filter = BCON_NEW("study_uid", BCON_UTF8(study_uid), "sop_uid", BCON_UTF8(sop_uid), "frame",
                            BCON_INT64(frame));
  int64_t n = 0;
  int error = write_one(impl, &n, KEYS, WRITE_DELETE, filter, NULL, "unmarking a key image", err, errsize);

  if (error == 0 && n == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "this image is not a key image");
  bson_destroy(filter);
  return error;
}

static int read_key(void *elem, const bson_t *doc, void *ctx)
{
  rr_key_image *k = elem;

  (void)ctx;
  rr_mongo_copy(k->study_uid, sizeof(k->study_uid), doc, "study_uid");
  rr_mongo_copy(k->sop_uid, sizeof(k->sop_uid), doc, "sop_uid");
  k->frame = rr_mongo_int(doc, "frame");
  rr_mongo_copy(k->series_uid, sizeof(k->series_uid), doc, "series_uid");
  rr_mongo_copy(k->author, sizeof(k->author), doc, "author");
  k->created_at = rr_mongo_int(doc, "created_at");
  return 0;
}

static int mongo_key_list(void *impl, rr_key_image_list **out, const char *study_uid, char *err, size_t errsize)
{
  void *list = NULL;
  int error = read_list(impl, &list, &rr_key_image_list_kind, KEYS, study_uid,
                        BCON_NEW("created_at", BCON_INT32(1), "sop_uid", BCON_INT32(1), "frame", BCON_INT32(1)),
                        read_key, "reading key images", err, errsize);

  *out = list;
  return error;
}

int rr_mongo_annotations_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, ANNOTATIONS, "annotations_key",
                              BCON_NEW("study_uid", BCON_INT32(1), "annotation_uid", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, ANNOTATIONS, "annotations_study",
                              BCON_NEW("study_uid", BCON_INT32(1), "created_at", BCON_INT32(1)), false, NULL, err,
                              errsize)) < 0)
    return error;
  return rr_mongo_index(s, KEYS, "key_images_key",
                        BCON_NEW("study_uid", BCON_INT32(1), "sop_uid", BCON_INT32(1), "frame", BCON_INT32(1)), true,
                        NULL, err, errsize);
}

const rr_store_annotations_ops rr_mongo_annotations_ops = {
  .put = mongo_annotation_put,
  .remove = mongo_annotation_remove,
  .list = mongo_annotation_list,
  .key_mark = mongo_key_mark,
  .key_unmark = mongo_key_unmark,
  .key_list = mongo_key_list,
};
