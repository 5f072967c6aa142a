/*
 * store_mongo_audit.c - the MongoDB backend's audit concern: appending to the
 * hash chain (collection `audit`) and filtered pages of it, as the SQLite
 * backend (store_sqlite_audit.c) does.
 *
 * Several nodes append to one chain, and MongoDB has no lock to take. The
 * chain's head is one document in `audit_head` ({chain: "audit", seq, hash,
 * last}); an append reads it, computes the next record, and moves the head
 * with an update conditional on the seq it read ({chain, seq: old} →
 * {seq: old+1, hash, last: record}). A single-document update is atomic, so
 * of two appenders that read the same head one wins and the other reads the
 * head again and retries: the chain never forks. The winner then writes the
 * record into `audit` (an upsert on seq, unique index). Should it die in
 * between, the head still holds the record (`last`): the next append first
 * writes the head's record if `audit` lacks it, so the chain has no gap.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define AUDIT "audit"
#define HEAD "audit_head"
#define MAX_TRIES 10000

static const char CHAIN_START[] = "0000000000000000000000000000000000000000000000000000000000000000";

static int read_audit(void *elem, const bson_t *doc, void *ctx)
{
  rr_audit_rec *a = elem;

  (void)ctx;
  a->seq = rr_mongo_int(doc, "seq");
  a->at_ms = rr_mongo_int(doc, "at_ms");
  rr_mongo_copy(a->username, sizeof(a->username), doc, "username");
  rr_mongo_copy(a->role, sizeof(a->role), doc, "role");
  rr_mongo_copy(a->source, sizeof(a->source), doc, "source");
  rr_mongo_copy(a->action, sizeof(a->action), doc, "action");
  rr_mongo_copy(a->resource, sizeof(a->resource), doc, "resource");
  rr_mongo_copy(a->outcome, sizeof(a->outcome), doc, "outcome");
  rr_mongo_copy(a->detail, sizeof(a->detail), doc, "detail");
  rr_mongo_copy(a->prev_hash, sizeof(a->prev_hash), doc, "prev_hash");
  rr_mongo_copy(a->hash, sizeof(a->hash), doc, "hash");
  return 0;
}

static void append_record(bson_t *b, const rr_audit_rec *a)
{
  BSON_APPEND_INT64(b, "seq", a->seq);
  BSON_APPEND_INT64(b, "at_ms", a->at_ms);
  BSON_APPEND_UTF8(b, "username", a->username);
  BSON_APPEND_UTF8(b, "role", a->role);
  BSON_APPEND_UTF8(b, "source", a->source);
  BSON_APPEND_UTF8(b, "action", a->action);
  BSON_APPEND_UTF8(b, "resource", a->resource);
  BSON_APPEND_UTF8(b, "outcome", a->outcome);
  BSON_APPEND_UTF8(b, "detail", a->detail);
  BSON_APPEND_UTF8(b, "prev_hash", a->prev_hash);
  BSON_APPEND_UTF8(b, "hash", a->hash);
}

/* Create the head (seq 0, the chain-start hash) unless it exists. */
static int ensure_head(mongoc_collection_t *head, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("chain", BCON_UTF8("audit"));
  bson_t *update = BCON_NEW("$setOnInsert", "{", "seq", BCON_INT64(0), "hash", BCON_UTF8(CHAIN_START), "}");
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  bson_error_t e;
  int error = 0;

  if (!mongoc_collection_update_one(head, filter, update, opts, NULL, &e) &&
      (error = rr_mongo_fail(err, errsize, &e, "audit chain head")) == RR_EEXISTS)
    error = 0; /* created at the same moment by another node */
  bson_destroy(filter);
  bson_destroy(update);
  bson_destroy(opts);
  return error;
}

/* Write record `rec` (a BSON document with its seq) into `audit` unless it
 * is there already. */
static int put_record(mongoc_collection_t *audit, int64_t seq, const bson_t *rec, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("seq", BCON_INT64(seq));
  bson_t update = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  bson_error_t e;
  int error = 0;

  BSON_APPEND_DOCUMENT(&update, "$setOnInsert", rec);
  if (!mongoc_collection_update_one(audit, filter, &update, opts, NULL, &e) &&
      (error = rr_mongo_fail(err, errsize, &e, "append audit")) == RR_EEXISTS)
    error = 0; /* written at the same moment by another appender */
  bson_destroy(filter);
  bson_destroy(&update);
  bson_destroy(opts);
  return error;
}

/* Read the head: its seq and hash, and finish its record if `audit` lacks
 * it. *found is false when there is no head yet. */
static int read_head(mongoc_collection_t *head, mongoc_collection_t *audit, bool *found, int64_t *seq,
                     char hash[RR_HASH_HEX_SIZE], char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("chain", BCON_UTF8("audit"));
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(head, filter, NULL, NULL);
  const bson_t *doc;
  bson_iter_t it;
  bson_t last;
  bson_error_t e;
  int error = 0;

  *found = false;
  if (mongoc_cursor_next(cur, &doc)) {
    *found = true;
    *seq = rr_mongo_int(doc, "seq");
    rr_mongo_copy(hash, RR_HASH_HEX_SIZE, doc, "hash");
    if (*seq > 0 && bson_iter_init_find(&it, doc, "last") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
      const uint8_t *data;
      uint32_t len;

      bson_iter_document(&it, &len, &data);
      if (bson_init_static(&last, data, len))
        error = put_record(audit, *seq, &last, err, errsize);
    }
  } else if (mongoc_cursor_error(cur, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "audit chain head");
  }
  mongoc_cursor_destroy(cur);
  bson_destroy(filter);
  return error;
}

/* Move the head from `old` to rec (conditional on its seq): *moved false
 * when another appender moved it first. */
static int move_head(mongoc_collection_t *head, bool *moved, int64_t old, const bson_t *rec, const rr_audit_rec *a,
                     char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("chain", BCON_UTF8("audit"), "seq", BCON_INT64(old));
  bson_t update = BSON_INITIALIZER, set, reply = BSON_INITIALIZER;
  bson_error_t e;
  int error = 0;

  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  BSON_APPEND_INT64(&set, "seq", a->seq);
  BSON_APPEND_UTF8(&set, "hash", a->hash);
  BSON_APPEND_DOCUMENT(&set, "last", rec);
  bson_append_document_end(&update, &set);
  if (!mongoc_collection_update_one(head, filter, &update, NULL, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "audit chain head");
  *moved = error == 0 && rr_mongo_int(&reply, "matchedCount") == 1;
  bson_destroy(&reply);
  bson_destroy(&update);
  bson_destroy(filter);
  return error;
}

static void backoff(int attempt)
{
  struct timespec ts = {0, (long)(attempt < 20 ? attempt : 20) * 100000L}; /* up to 2 ms */

  nanosleep(&ts, NULL);
}

static int mongo_audit_append(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *head = rr_mongo_collection(s, c, HEAD), *audit = rr_mongo_collection(s, c, AUDIT);
  bson_t doc = BSON_INITIALIZER;
  bool found, moved = false;
  int64_t seq = 0;
  int error = 0, i;

  for (i = 0; error == 0 && !moved && i < MAX_TRIES; i++) {
    if (i > 0)
      backoff(i);
    if ((error = read_head(head, audit, &found, &seq, rec->prev_hash, err, errsize)) < 0)
      break;
    if (!found) {
      error = ensure_head(head, err, errsize);
      continue;
    }
    if (rec->prev_hash[0] == '\0')
      rr_str_copy(rec->prev_hash, sizeof(rec->prev_hash), CHAIN_START);
    rec->seq = seq + 1;
    if ((error = hash(rec->hash, rec->prev_hash, rec)) < 0) {
      error = rr_fail(err, errsize, error, "cannot hash the audit record");
      break;
    }
    bson_reinit(&doc);
    append_record(&doc, rec);
    error = move_head(head, &moved, seq, &doc, rec, err, errsize);
  }
  if (error == 0 && !moved)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: append audit: the chain head kept changing; try again");
  if (error == 0)
    error = put_record(audit, rec->seq, &doc, err, errsize);
  bson_destroy(&doc);
  mongoc_collection_destroy(head);
  mongoc_collection_destroy(audit);
  rr_mongo_push(s, c);
  return error;
}

static int mongo_audit_query(void *impl, rr_audit_list **out, const rr_audit_filter *f, char *err, size_t errsize)
{
  uint32_t limit = f->limit < 1 ? 1 : (f->limit > 1000 ? 1000 : f->limit);
  bson_t filter = BSON_INITIALIZER, range;
  bson_t *opts = BCON_NEW("sort", "{", "seq", BCON_INT32(f->descending ? -1 : 1), "}", "limit", BCON_INT64(limit));
  rr_audit_list *list = NULL;
  int error;

  *out = NULL;
  if (f->username[0] != '\0')
    BSON_APPEND_UTF8(&filter, "username", f->username);
  if (f->action[0] != '\0')
    BSON_APPEND_UTF8(&filter, "action", f->action);
  if (f->resource[0] != '\0')
    BSON_APPEND_UTF8(&filter, "resource", f->resource);
  if (f->from_ms != 0 || f->to_ms != 0) {
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "at_ms", &range);
    if (f->from_ms != 0)
      BSON_APPEND_INT64(&range, "$gte", f->from_ms);
    if (f->to_ms != 0)
      BSON_APPEND_INT64(&range, "$lte", f->to_ms);
    bson_append_document_end(&filter, &range);
  }
  BSON_APPEND_DOCUMENT_BEGIN(&filter, "seq", &range);
  BSON_APPEND_INT64(&range, "$gt", f->after_seq);
  if (f->before_seq != 0)
    BSON_APPEND_INT64(&range, "$lt", f->before_seq);
  bson_append_document_end(&filter, &range);
  if ((list = rr_store_list_new(&rr_audit_list_kind)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_audit_list_kind, limit, AUDIT, &filter, opts, read_audit, NULL,
                               "audit query", err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_audit_list_free(list);
  bson_destroy(&filter);
  bson_destroy(opts);
  return error;
}

int rr_mongo_audit_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  mongoc_client_t *c;
  mongoc_collection_t *head;
  int error;

  if ((error = rr_mongo_index(s, HEAD, "audit_head_chain", BCON_NEW("chain", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, AUDIT, "audit_seq", BCON_NEW("seq", BCON_INT32(1)), true, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AUDIT, "audit_user", BCON_NEW("username", BCON_INT32(1), "seq", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AUDIT, "audit_action", BCON_NEW("action", BCON_INT32(1), "seq", BCON_INT32(1)), false,
                              NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AUDIT, "audit_resource",
                              BCON_NEW("resource", BCON_INT32(1), "seq", BCON_INT32(1)), false, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, AUDIT, "audit_time", BCON_NEW("at_ms", BCON_INT32(1)), false, NULL, err, errsize)) < 0)
    return error;
  c = rr_mongo_pop(s);
  head = rr_mongo_collection(s, c, HEAD);
  error = ensure_head(head, err, errsize);
  mongoc_collection_destroy(head);
  rr_mongo_push(s, c);
  return error;
}

const rr_store_audit_ops rr_mongo_audit_ops = {
  .append = mongo_audit_append,
  .query = mongo_audit_query,
};
