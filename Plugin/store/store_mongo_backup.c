/*
 * store_mongo_backup.c - the MongoDB backend's backup concern (collection
 * `backup_items`): the durable off-site backup queue and its catalogue
 * (contract in store_backup.h; store_backup.c checks the inputs), behaving
 * as store_sqlite_backup.c.
 *
 * An item's id (its arrival order) comes from the `counters` sequence; one
 * item per (target, object key): enqueue is an upsert with $setOnInsert, so
 * a second enqueue of a key creates nothing, even where unique indexes are
 * not enforced. A claim is one findAndModify of the claimable item with the
 * smallest id (atomic on one document: several nodes claim at once, never
 * the same item); done is one update guarded by state and claimer, and fail
 * one guarded also by the attempts it read (it starts again when another
 * writer came first), so a claimer whose lease was lost changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define ITEMS "backup_items"
#define MAX_TRIES 1000

static const char INTERRUPTED[] = "the try was interrupted (the process stopped or hung) and no attempts are left";

static int read_item(void *elem, const bson_t *doc, void *ctx)
{
  rr_backup_item *o = elem;

  (void)ctx;
  memset(o, 0, sizeof(*o));
  o->id = rr_mongo_int(doc, "id");
  rr_mongo_copy(o->target, sizeof(o->target), doc, "target");
  rr_mongo_copy(o->object_key, sizeof(o->object_key), doc, "object_key");
  rr_mongo_copy(o->kind, sizeof(o->kind), doc, "kind");
  rr_mongo_copy(o->orthanc_id, sizeof(o->orthanc_id), doc, "orthanc_id");
  rr_mongo_copy(o->study_uid, sizeof(o->study_uid), doc, "study_uid");
  rr_mongo_copy(o->sop_uid, sizeof(o->sop_uid), doc, "sop_uid");
  rr_mongo_copy(o->day, sizeof(o->day), doc, "day");
  rr_mongo_copy(o->state, sizeof(o->state), doc, "state");
  o->attempts = rr_mongo_int(doc, "attempts");
  rr_mongo_copy(o->last_error, sizeof(o->last_error), doc, "last_error");
  rr_mongo_copy(o->claimed_by, sizeof(o->claimed_by), doc, "claimed_by");
  rr_mongo_copy(o->sha256, sizeof(o->sha256), doc, "sha256");
  o->size = rr_mongo_int(doc, "size");
  o->next_attempt_at = rr_mongo_int(doc, "next_attempt_at");
  o->lease_until = rr_mongo_int(doc, "lease_until");
  o->created_at = rr_mongo_int(doc, "created_at");
  o->updated_at = rr_mongo_int(doc, "updated_at");
  o->done_at = rr_mongo_int(doc, "done_at");
  return 0;
}

/* One update_one / update_many; *n the documents matched (or, upsert,
 * upserted). */
static int put_doc(rr_mongo_store *s, int64_t *n, bool many, const bson_t *filter, const bson_t *upd, bool upsert,
                   const char *what, char *err, size_t errsize)
{
  rr_mongo_write_counts w;
  int error = rr_mongo_write(s, &w, ITEMS, many ? RR_MONGO_UPDATE_MANY : RR_MONGO_UPDATE_ONE, filter, upd, upsert,
                             what, err, errsize);

  *n = upsert ? w.upserted : w.matched;
  return error;
}

static int mongo_enqueue(void *impl, bool *created, const rr_backup_new *n, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter, *upd;
  int64_t id = 0, made = 0;
  int error;

  if (created != NULL)
    *created = false;
  if ((error = rr_mongo_next_id(s, &id, ITEMS, err, errsize)) < 0)
    return error;
  filter = BCON_NEW("target", BCON_UTF8(n->target), "object_key", BCON_UTF8(n->object_key));
  upd = BCON_NEW("$setOnInsert", "{", "id", BCON_INT64(id), "target", BCON_UTF8(n->target), "object_key",
                 BCON_UTF8(n->object_key), "kind", BCON_UTF8(n->kind), "orthanc_id", BCON_UTF8(n->orthanc_id),
                 "study_uid", BCON_UTF8(n->study_uid), "sop_uid", BCON_UTF8(n->sop_uid), "day", BCON_UTF8(n->day),
                 "state", BCON_UTF8("queued"), "attempts", BCON_INT64(0), "last_error", BCON_UTF8(""), "claimed_by",
                 BCON_UTF8(""), "sha256", BCON_UTF8(""), "size", BCON_INT64(0), "next_attempt_at", BCON_INT64(now),
                 "lease_until", BCON_INT64(0), "created_at", BCON_INT64(now), "updated_at", BCON_INT64(now),
                 "done_at", BCON_INT64(0), "}");
  error = put_doc(s, &made, false, filter, upd, true, "enqueue backup item", err, errsize);
  if (error == RR_EEXISTS) /* enqueued at the same moment by another node */
    error = 0, made = 0;
  if (error == 0 && created != NULL)
    *created = made > 0;
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* The items matching filter, sorted by id, at most limit, into a new list. */
static int find(rr_mongo_store *s, rr_backup_item_list **out, const bson_t *filter, int64_t limit, char *err,
                size_t errsize)
{
  bson_t *opts = BCON_NEW("sort", "{", "id", BCON_INT32(1), "}", "limit", BCON_INT64(limit));
  rr_backup_item_list *list = rr_store_list_new(&rr_backup_item_list_kind);
  int error;

  *out = NULL;
  if (list == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(s, list, &rr_backup_item_list_kind, 16, ITEMS, filter, opts, read_item, NULL,
                               "list backup items", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_backup_item_list_free(list);
  bson_destroy(opts);
  return error;
}

/* One item by id; RR_ENOTFOUND with a sentence. */
static int get_item(rr_mongo_store *s, rr_backup_item *o, int64_t id, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("id", BCON_INT64(id));
  rr_backup_item_list *list = NULL;
  int error = find(s, &list, filter, 1, err, errsize);

  if (error == 0 && list->count == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no backup item %lld", (long long)id);
  else if (error == 0)
    *o = list->items[0];
  rr_backup_item_list_free(list);
  bson_destroy(filter);
  return error;
}

/* The running items of target that claim takes over: lease expired, or
 * held by `claimer` itself (its previous process). */
static bson_t *taken_over(const char *target, const char *claimer, int64_t now, int64_t max_attempts)
{
  return BCON_NEW("target", BCON_UTF8(target), "state", BCON_UTF8("running"), "attempts", "{", "$gte",
                  BCON_INT64(max_attempts), "}", "$or", "[", "{", "lease_until", "{", "$lt", BCON_INT64(now), "}",
                  "}", "{", "claimed_by", BCON_UTF8(claimer), "}", "]");
}

static int mongo_claim(void *impl, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
                       int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *worn = taken_over(target, claimer, now, max_attempts);
  bson_t *end = BCON_NEW("$set", "{", "state", BCON_UTF8("failed"), "last_error", BCON_UTF8(INTERRUPTED),
                         "updated_at", BCON_INT64(now), "}");
  bson_t *query = BCON_NEW("target", BCON_UTF8(target), "$or", "[", "{", "state", BCON_UTF8("queued"),
                           "next_attempt_at", "{", "$lte", BCON_INT64(now), "}", "}", "{", "state",
                           BCON_UTF8("running"), "lease_until", "{", "$lt", BCON_INT64(now), "}", "}", "{", "state",
                           BCON_UTF8("running"), "claimed_by", BCON_UTF8(claimer), "}", "]");
  bson_t *sort = BCON_NEW("id", BCON_INT32(1));
  bson_t *upd = BCON_NEW("$set", "{", "state", BCON_UTF8("running"), "claimed_by", BCON_UTF8(claimer), "lease_until",
                         BCON_INT64(now + lease_ms), "updated_at", BCON_INT64(now), "}", "$inc", "{", "attempts",
                         BCON_INT64(1), "}");
  bson_t reply = BSON_INITIALIZER, value;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_iter_t it;
  bson_error_t e;
  int64_t n;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = put_doc(s, &n, true, worn, end, false, "claim backup item", err, errsize)) == 0) {
    c = rr_mongo_pop(s);
    coll = rr_mongo_collection(s, c, ITEMS);
    error = RR_ENOTFOUND;
    if (!mongoc_collection_find_and_modify(coll, query, sort, upd, NULL, false, false, true, &reply, &e))
      error = rr_mongo_fail(err, errsize, &e, "claim backup item");
    else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      const uint8_t *data;
      uint32_t len;

      bson_iter_document(&it, &len, &data);
      if (bson_init_static(&value, data, len))
        error = read_item(out, &value, NULL);
    }
    mongoc_collection_destroy(coll);
    rr_mongo_push(s, c);
  }
  bson_destroy(&reply);
  bson_destroy(worn);
  bson_destroy(end);
  bson_destroy(query);
  bson_destroy(sort);
  bson_destroy(upd);
  return error;
}

/* After a guarded update changed nothing: RR_ENOTFOUND or RR_ECONFLICT. */
static int not_held(rr_mongo_store *s, int64_t id, char *err, size_t errsize)
{
  rr_backup_item o;
  int error = get_item(s, &o, id, err, errsize);

  if (error < 0)
    return error;
  return rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s%s, not held by this claimer", (long long)id,
                 o.state, strcmp(o.state, "running") == 0 ? " by another claimer" : "");
}

static int mongo_done(void *impl, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now,
                      char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("id", BCON_INT64(id), "state", BCON_UTF8("running"), "claimed_by", BCON_UTF8(claimer));
  bson_t *upd = BCON_NEW("$set", "{", "state", BCON_UTF8("done"), "last_error", BCON_UTF8(""), "sha256",
                         BCON_UTF8(sha256), "size", BCON_INT64(size), "updated_at", BCON_INT64(now), "done_at",
                         BCON_INT64(now), "lease_until", BCON_INT64(0), "}");
  int64_t n = 0;
  int error = put_doc(impl, &n, false, filter, upd, false, "mark backup item done", err, errsize);

  if (error == 0 && n == 0)
    error = not_held(impl, id, err, errsize);
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

/* fail: read the item, then write its next state guarded by what was read
 * (state, claimer, attempts); again when another writer came first. */
static int mongo_fail_item(void *impl, rr_backup_item *out, int64_t id, const char *claimer, const char *error_text,
                           int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  const char *text = error_text && error_text[0] ? error_text : "failed";
  bson_t *filter, *upd;
  rr_backup_item o;
  int64_t n = 0;
  bool last;
  int error = 0, i;

  for (i = 0; error == 0 && n == 0 && i < MAX_TRIES; i++) {
    if ((error = get_item(s, &o, id, err, errsize)) < 0)
      break;
    if (strcmp(o.state, "running") != 0 || strcmp(o.claimed_by, claimer ? claimer : "") != 0)
      return not_held(s, id, err, errsize);
    last = o.attempts >= max_attempts;
    filter = BCON_NEW("id", BCON_INT64(id), "state", BCON_UTF8("running"), "claimed_by", BCON_UTF8(o.claimed_by),
                      "attempts", BCON_INT64(o.attempts));
    rr_str_copy(o.state, sizeof(o.state), last ? "failed" : "queued");
    rr_str_copy(o.last_error, sizeof(o.last_error), text);
    o.next_attempt_at = last ? now : now + rr_backup_backoff_ms(o.attempts);
    o.lease_until = 0;
    o.updated_at = now;
    upd = BCON_NEW("$set", "{", "state", BCON_UTF8(o.state), "last_error", BCON_UTF8(o.last_error),
                   "next_attempt_at", BCON_INT64(o.next_attempt_at), "lease_until", BCON_INT64(0), "updated_at",
                   BCON_INT64(now), "}");
    error = put_doc(s, &n, false, filter, upd, false, "record backup failure", err, errsize);
    bson_destroy(filter);
    bson_destroy(upd);
  }
  if (error == 0 && n == 0)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: the backup item kept changing; try again");
  if (error == 0 && out != NULL)
    *out = o;
  return error;
}

static int mongo_redrive(void *impl, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize)
{
  bson_t *filter = id != 0 ? BCON_NEW("state", BCON_UTF8("failed"), "id", BCON_INT64(id))
                           : BCON_NEW("state", BCON_UTF8("failed"));
  bson_t *upd = BCON_NEW("$set", "{", "state", BCON_UTF8("queued"), "attempts", BCON_INT64(0), "next_attempt_at",
                         BCON_INT64(now), "updated_at", BCON_INT64(now), "}");
  rr_backup_item o;
  int64_t n = 0;
  int error = put_doc(impl, &n, true, filter, upd, false, "re-drive backup items", err, errsize);

  if (error == 0) {
    if (count != NULL)
      *count = n;
    if (id != 0 && n == 0 && (error = get_item(impl, &o, id, err, errsize)) == 0)
      error = rr_fail(err, errsize, RR_ECONFLICT, "backup item %lld is %s, not failed", (long long)id, o.state);
  }
  bson_destroy(filter);
  bson_destroy(upd);
  return error;
}

static int mongo_get(void *impl, rr_backup_item *out, int64_t id, char *err, size_t errsize)
{
  return get_item(impl, out, id, err, errsize);
}

static int mongo_list(void *impl, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize)
{
  bson_t filter = BSON_INITIALIZER;
  int error;

  if (q->target && q->target[0])
    BSON_APPEND_UTF8(&filter, "target", q->target);
  if (q->state && q->state[0])
    BSON_APPEND_UTF8(&filter, "state", q->state);
  if (q->study_uid && q->study_uid[0])
    BSON_APPEND_UTF8(&filter, "study_uid", q->study_uid);
  if (q->since_day && q->since_day[0])
    BCON_APPEND(&filter, "day", "{", "$gte", BCON_UTF8(q->since_day), "}");
  BCON_APPEND(&filter, "id", "{", "$gt", BCON_INT64(q->after_id), "}");
  error = find(impl, out, &filter, q->limit, err, errsize);
  bson_destroy(&filter);
  return error;
}

/* The first document of find(filter ∧ target, sort) into *doc_out (empty
 * on entry: the copy overwrites it; bson_destroy it); *found false when
 * none. Takes filter and sort. */
static int first(mongoc_collection_t *coll, bson_t *doc_out, bool *found, const char *target, bson_t *filter,
                 bson_t *sort, char *err, size_t errsize)
{
  bson_t opts = BSON_INITIALIZER;
  mongoc_cursor_t *cur;
  const bson_t *doc;
  bson_error_t e;
  int error = 0;

  if (target && target[0])
    BSON_APPEND_UTF8(filter, "target", target);
  BSON_APPEND_DOCUMENT(&opts, "sort", sort);
  BSON_APPEND_INT64(&opts, "limit", 1);
  cur = mongoc_collection_find_with_opts(coll, filter, &opts, NULL);
  *found = mongoc_cursor_next(cur, &doc);
  if (*found)
    bson_copy_to(doc, doc_out);
  else if (mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "count backup items");
  mongoc_cursor_destroy(cur);
  bson_destroy(&opts);
  bson_destroy(filter);
  bson_destroy(sort);
  return error;
}

/* The counts by state, and those done in the hour before now. */
static int count_states(mongoc_collection_t *coll, rr_backup_counts *out, const char *target, int64_t now, char *err,
                        size_t errsize)
{
  static const char *const states[] = {"queued", "running", "done", "failed", "done"};
  int64_t *slots[] = {&out->queued, &out->running, &out->done, &out->failed, &out->done_last_hour};
  bson_t *filter;
  bson_error_t e;
  size_t i;
  int error = 0;

  for (i = 0; error == 0 && i < 5; i++) {
    filter = BCON_NEW("state", BCON_UTF8(states[i]));
    if (target && target[0])
      BSON_APPEND_UTF8(filter, "target", target);
    if (i == 4)
      BCON_APPEND(filter, "done_at", "{", "$gt", BCON_INT64(now - 3600000), "}");
    if ((*slots[i] = mongoc_collection_count_documents(coll, filter, NULL, NULL, NULL, &e)) < 0)
      error = rr_mongo_fail(err, errsize, &e, "count backup items");
    bson_destroy(filter);
  }
  return error;
}

static int mongo_counts(void *impl, rr_backup_counts *out, const char *target, int64_t now, char *err,
                        size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, ITEMS);
  bson_t doc = BSON_INITIALIZER;
  bool found;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = count_states(coll, out, target, now, err, errsize)) == 0 &&
      (error = first(coll, &doc, &found, target,
                     BCON_NEW("state", "{", "$in", "[", BCON_UTF8("queued"), BCON_UTF8("running"), "]", "}"),
                     BCON_NEW("created_at", BCON_INT32(1)), err, errsize)) == 0 && found)
    out->oldest_waiting_at = rr_mongo_int(&doc, "created_at");
  bson_destroy(&doc); /* bson_copy_to needs an empty document */
  bson_init(&doc);
  if (error == 0 && (error = first(coll, &doc, &found, target, BCON_NEW("state", BCON_UTF8("done")),
                                   BCON_NEW("done_at", BCON_INT32(-1)), err, errsize)) == 0 && found)
    out->last_done_at = rr_mongo_int(&doc, "done_at");
  bson_destroy(&doc); /* bson_copy_to needs an empty document */
  bson_init(&doc);
  if (error == 0 &&
      (error = first(coll, &doc, &found, target,
                     BCON_NEW("last_error", "{", "$ne", BCON_UTF8(""), "}", "state", "{", "$in", "[",
                              BCON_UTF8("queued"), BCON_UTF8("failed"), "]", "}"),
                     BCON_NEW("updated_at", BCON_INT32(-1), "id", BCON_INT32(-1)), err, errsize)) == 0 && found) {
    rr_mongo_copy(out->last_error, sizeof(out->last_error), &doc, "last_error");
    out->last_error_at = rr_mongo_int(&doc, "updated_at");
  }
  bson_destroy(&doc);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  return error;
}

int rr_mongo_backup_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, ITEMS, "backup_items_key",
                              BCON_NEW("target", BCON_INT32(1), "object_key", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, ITEMS, "backup_items_id", BCON_NEW("id", BCON_INT32(1)), true, NULL, err, errsize)) <
        0 ||
      (error = rr_mongo_index(s, ITEMS, "backup_items_queue",
                              BCON_NEW("target", BCON_INT32(1), "state", BCON_INT32(1), "id", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0)
    return error;
  return rr_mongo_index(s, ITEMS, "backup_items_study", BCON_NEW("study_uid", BCON_INT32(1), "id", BCON_INT32(1)),
                        false, NULL, err, errsize);
}

const rr_store_backup_ops rr_mongo_backup_ops = {
  mongo_enqueue, mongo_claim, mongo_done, mongo_fail_item, mongo_redrive, mongo_get, mongo_list, mongo_counts,
};
