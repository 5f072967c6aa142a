/*
 * store_mongo_report_templates.c - the MongoDB backend's report templates
 * concern (collection `report_templates`, unique on `id`): administrators'
 * templates with a revision each, as store_sqlite_report_templates.c.
 * create is an upsert with $setOnInsert (RR_EEXISTS for a used id even
 * where unique indexes are not enforced); update is a findAndModify
 * conditional on the expected revision, so of two writers naming one
 * revision only the first wins (the other gets RR_ESTALE).
 */
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define TEMPLATES "report_templates"

static int read_template(void *elem, const bson_t *doc, void *ctx)
{
  rr_report_template_rec *t = elem;

  (void)ctx;
  rr_mongo_copy(t->id, sizeof(t->id), doc, "id");
  t->revision = rr_mongo_int(doc, "revision");
  t->retired = rr_mongo_bool(doc, "retired");
  rr_mongo_copy(t->updated_by, sizeof(t->updated_by), doc, "updated_by");
  t->updated_at = rr_mongo_int(doc, "updated_at");
  return (t->json = rr_mongo_strdup(doc, "json")) == NULL ? RR_ENOMEM : 0;
}

/* Templates matching filter (sorted by id) into a new list. */
static int find(rr_mongo_store *s, rr_report_template_list **out, const bson_t *filter, char *err, size_t errsize)
{
  bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(1), "}", "limit", BCON_INT64(10000));
  rr_report_template_list *list = rr_store_list_new(&rr_report_template_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, &rr_report_template_list_kind, 16, TEMPLATES, filter, opts, read_template,
                               NULL, "reading report templates", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_store_list_free(&rr_report_template_list_kind, list);
  bson_destroy(opts);
  return error;
}

static int mongo_template_get(void *impl, rr_report_template_rec *out, const char *id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("id", BCON_UTF8(id ? id : ""));
  rr_report_template_list *list = NULL;
  int error = find(impl, &list, filter, err, errsize);

  memset(out, 0, sizeof(*out));
  if (error == 0 && list->count == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such report template");
  else if (error == 0) {
    *out = list->items[0];
    list->count = 0;
  }
  rr_store_list_free(&rr_report_template_list_kind, list);
  bson_destroy(filter);
  return error;
}

static int mongo_template_list(void *impl, rr_report_template_list **out, char *err, size_t errsize)
{
  bson_t filter = BSON_INITIALIZER;
  int error = find(impl, out, &filter, err, errsize);

  bson_destroy(&filter);
  return error;
}

static int mongo_template_create(void *impl, const rr_report_template_rec *rec, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter, *upd, *opts;
  bson_t reply = BSON_INITIALIZER;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_error_t e;
  int error;

  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  if (rec->revision < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a template's revision is at least 1");
  filter = BCON_NEW("id", BCON_UTF8(rec->id));
  upd = BCON_NEW("$setOnInsert", "{", "id", BCON_UTF8(rec->id), "json", BCON_UTF8(rec->json), "revision",
                 BCON_INT64(rec->revision), "retired", BCON_BOOL(rec->retired), "updated_by",
                 BCON_UTF8(rec->updated_by), "updated_at", BCON_INT64(rec->updated_at), "}");
  opts = BCON_NEW("upsert", BCON_BOOL(true));
  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, TEMPLATES);
  if (!mongoc_collection_update_one(coll, filter, upd, opts, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "creating a report template");
  else if (rr_mongo_int(&reply, "upsertedCount") == 0)
    error = RR_EEXISTS;
  if (error == RR_EEXISTS)
    error = rr_fail(err, errsize, RR_EEXISTS, "a report template with this id exists already");
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(&reply);
  bson_destroy(filter);
  bson_destroy(upd);
  bson_destroy(opts);
  return error;
}

/* The document of a findAndModify reply into *out; *found false when the
 * filter matched none. */
static int take_value(rr_report_template_rec *out, bool *found, const bson_t *reply, char *err, size_t errsize)
{
  bson_iter_t it;
  bson_t value;
  const uint8_t *data;
  uint32_t len;

  *found = false;
  if (!bson_iter_init_find(&it, reply, "value") || !BSON_ITER_HOLDS_DOCUMENT(&it))
    return 0;
  bson_iter_document(&it, &len, &data);
  if (!bson_init_static(&value, data, len))
    return 0;
  *found = true;
  if (read_template(out, &value, NULL) < 0) {
    rr_report_template_rec_dispose(out);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  return 0;
}

static int mongo_template_update(void *impl, rr_report_template_rec *out, const rr_report_template_rec *rec,
                                 int64_t expected, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *query, *upd;
  bson_t reply = BSON_INITIALIZER;
  rr_report_template_rec stored;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_error_t e;
  bool found = false;
  int error;

  if (out != NULL)
    memset(out, 0, sizeof(*out));
  memset(&stored, 0, sizeof(stored));
  if ((error = rr_report_template_rec_check(rec, err, errsize)) < 0)
    return error;
  query = BCON_NEW("id", BCON_UTF8(rec->id), "revision", BCON_INT64(expected));
  upd = BCON_NEW("$set", "{", "json", BCON_UTF8(rec->json), "retired", BCON_BOOL(rec->retired), "updated_by",
                 BCON_UTF8(rec->updated_by), "updated_at", BCON_INT64(rec->updated_at), "}", "$inc", "{", "revision",
                 BCON_INT64(1), "}");
  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, TEMPLATES);
  if (!mongoc_collection_find_and_modify(coll, query, NULL, upd, NULL, false, false, true, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "updating a report template");
  else
    error = take_value(&stored, &found, &reply, err, errsize);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(&reply);
  bson_destroy(query);
  bson_destroy(upd);
  if (error == 0 && !found) {
    /* nothing changed: tell a missing template from another revision */
    if ((error = mongo_template_get(s, &stored, rec->id, err, errsize)) == 0)
      error = rr_fail(err, errsize, RR_ESTALE, "the template is at revision %lld, not %lld",
                      (long long)stored.revision, (long long)expected);
  }
  if (error == 0 && out != NULL)
    *out = stored;
  else
    rr_report_template_rec_dispose(&stored);
  return error;
}

int rr_mongo_report_templates_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  return rr_mongo_index(s, TEMPLATES, "report_templates_id", BCON_NEW("id", BCON_INT32(1)), true, NULL, err, errsize);
}

const rr_store_report_templates_ops rr_mongo_report_templates_ops = {
  .get = mongo_template_get,
  .list = mongo_template_list,
  .create = mongo_template_create,
  .update = mongo_template_update,
};
