/*
 * store_mongo.c - the MongoDB backend's open and close: the options, the
 * client pool, the ping at open, the collections and indexes (created at
 * open, idempotent: several nodes may start at once), the `schema`
 * document, and the helpers every concern file shares
 * (store_mongo_internal.h).
 *
 * The schema document is { key: "schema", version: N } in the collection
 * `meta` (unique on key; CongoDB takes no string _id); it is raised with $max (never lowered), and a database whose
 * version is newer than this build knows is refused.
 * Errors never quote the URI: mongo-c-driver's messages name hosts, not
 * credentials, and the URI is only ever given to the driver.
 */
#include "store_mongo.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"

#define SCHEMA_VERSION 1
#define MAX_POOL 100

int rr_store_mongo_latest_schema(void)
{
  return SCHEMA_VERSION;
}

/* ------------------------------------------------------------ helpers */

mongoc_client_t *rr_mongo_pop(rr_mongo_store *s)
{
  return mongoc_client_pool_pop(s->pool);
}

void rr_mongo_push(rr_mongo_store *s, mongoc_client_t *c)
{
  if (c != NULL)
    mongoc_client_pool_push(s->pool, c);
}

mongoc_collection_t *rr_mongo_collection(rr_mongo_store *s, mongoc_client_t *c, const char *name)
{
  return mongoc_client_get_collection(c, s->database, name);
}

/* A duplicate key: 11000 (server), 11001 (old servers), 12582 (mongos). */
static bool is_duplicate(const bson_error_t *e)
{
  return e != NULL && (e->code == 11000 || e->code == 11001 || e->code == 12582);
}

int rr_mongo_fail(char *err, size_t errsize, const bson_error_t *e, const char *what)
{
  char msg[256];
  size_t i, n;

  n = rr_str_copy(msg, sizeof(msg), e != NULL && e->message[0] ? e->message : "failed");
  for (i = 0; i < n; i++)
    if (msg[i] == '\n' || msg[i] == '\r')
      msg[i] = ' ';
  if (is_duplicate(e)) {
    /* the server's message quotes the duplicate key's value: not logged */
    return rr_fail(err, errsize, RR_EEXISTS, "mongodb: %s: a document with that key exists already", what);
  }
  return rr_fail(err, errsize, RR_ESTORE, "mongodb: %s: %s", what, msg);
}

int rr_mongo_write(rr_mongo_store *s, rr_mongo_write_counts *out, const char *coll, rr_mongo_write_kind kind,
                   const bson_t *filter, const bson_t *upd, bool upsert, const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *collection = rr_mongo_collection(s, c, coll);
  bson_t *opts = upsert && (kind == RR_MONGO_UPDATE_ONE || kind == RR_MONGO_UPDATE_MANY)
                   ? BCON_NEW("upsert", BCON_BOOL(true)) : NULL;
  bson_t reply = BSON_INITIALIZER;
  bson_error_t e;
  bool ok = false;
  int error;

  switch (kind) {
  case RR_MONGO_UPDATE_ONE:
    ok = mongoc_collection_update_one(collection, filter, upd, opts, &reply, &e);
    break;
  case RR_MONGO_UPDATE_MANY:
    ok = mongoc_collection_update_many(collection, filter, upd, opts, &reply, &e);
    break;
  case RR_MONGO_DELETE_ONE:
    ok = mongoc_collection_delete_one(collection, filter, NULL, &reply, &e);
    break;
  case RR_MONGO_DELETE_MANY:
    ok = mongoc_collection_delete_many(collection, filter, NULL, &reply, &e);
    break;
  }
  error = ok ? 0 : rr_mongo_fail(err, errsize, &e, what);
  if (out != NULL) {
    out->matched = ok ? rr_mongo_int(&reply, "matchedCount") : 0;
    out->upserted = ok ? rr_mongo_int(&reply, "upsertedCount") : 0;
    out->deleted = ok ? rr_mongo_int(&reply, "deletedCount") : 0;
  }
  bson_destroy(&reply);
  bson_destroy(opts);
  mongoc_collection_destroy(collection);
  rr_mongo_push(s, c);
  return error;
}

int rr_mongo_find_one(rr_mongo_store *s, bson_t **out, const char *coll, const bson_t *filter, const bson_t *opts,
                      const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_t *o = opts != NULL ? bson_copy(opts) : bson_new();
  mongoc_cursor_t *cur;
  const bson_t *doc;
  bson_error_t e;
  int error = 0;

  *out = NULL;
  if (!bson_has_field(o, "limit"))
    BSON_APPEND_INT64(o, "limit", 1);
  cur = mongoc_collection_find_with_opts(col, filter, o, NULL);
  if (mongoc_cursor_next(cur, &doc))
    error = (*out = bson_copy(doc)) == NULL ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : 0;
  else if (mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, what);
  mongoc_cursor_destroy(cur);
  bson_destroy(o);
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

int rr_mongo_count(rr_mongo_store *s, int64_t *out, const char *coll, const bson_t *filter, const bson_t *opts,
                   const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_error_t e;
  int64_t n = mongoc_collection_count_documents(col, filter, opts, NULL, NULL, &e);

  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  *out = n < 0 ? 0 : n;
  return n < 0 ? rr_mongo_fail(err, errsize, &e, what) : 0;
}

int rr_mongo_index(rr_mongo_store *s, const char *coll, const char *name, bson_t *keys, bool unique,
                   const bson_t *partial, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_database_t *db = mongoc_client_get_database(c, s->database);
  bson_t cmd = BSON_INITIALIZER, indexes, one, reply;
  bson_error_t e;
  char what[160];
  int error = 0;

  BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
  BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
  BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &one);
  BSON_APPEND_DOCUMENT(&one, "key", keys);
  BSON_APPEND_UTF8(&one, "name", name);
  if (unique)
    BSON_APPEND_BOOL(&one, "unique", true);
  if (partial != NULL)
    BSON_APPEND_DOCUMENT(&one, "partialFilterExpression", partial);
  bson_append_document_end(&indexes, &one);
  bson_append_array_end(&cmd, &indexes);
  if (!mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply, &e)) {
    snprintf(what, sizeof(what), "creating index %s on %s", name, coll);
    error = rr_mongo_fail(err, errsize, &e, what);
  }
  bson_destroy(&reply);
  bson_destroy(&cmd);
  bson_destroy(keys);
  mongoc_database_destroy(db);
  rr_mongo_push(s, c);
  return error;
}

/* findAndModify(query, update, upsert, new) on coll and the int64 field
 * `field` of the document it returns. An upsert that races another one on
 * a unique key is retried once (the second finds the first's document). */
static int upsert_number(rr_mongo_store *s, int64_t *out, const char *coll, const bson_t *query,
                         const bson_t *update, const char *field, const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  bson_t reply;
  bson_iter_t it, v;
  bson_error_t e;
  int error = 0, attempt;

  *out = 0;
  for (attempt = 0; attempt < 2; attempt++) {
    error = 0;
    if (!mongoc_collection_find_and_modify(col, query, NULL, update, NULL, false, true, true, &reply, &e))
      error = rr_mongo_fail(err, errsize, &e, what);
    else if (bson_iter_init_find(&it, &reply, "value") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
             bson_iter_recurse(&it, &v) && bson_iter_find(&v, field))
      *out = bson_iter_as_int64(&v);
    bson_destroy(&reply);
    if (error != RR_EEXISTS)
      break;
  }
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

/* Sequences: { name, seq } in `counters` (unique on name; CongoDB takes
 * no string _id). */
int rr_mongo_next_id(rr_mongo_store *s, int64_t *out, const char *name, char *err, size_t errsize)
{
  bson_t *query = BCON_NEW("name", BCON_UTF8(name));
  bson_t *update = BCON_NEW("$inc", "{", "seq", BCON_INT64(1), "}");
  int error = upsert_number(s, out, "counters", query, update, "seq", "taking the next identifier", err, errsize);

  if (error == 0 && *out <= 0)
    error = rr_fail(err, errsize, RR_ESTORE, "mongodb: taking the next identifier: no value returned");
  bson_destroy(query);
  bson_destroy(update);
  return error;
}

void rr_mongo_user_key(char *out, size_t size, const char *username)
{
  size_t i;

  rr_str_copy(out, size, username ? username : "");
  for (i = 0; i < size && out[i] != '\0'; i++)
    if (out[i] >= 'A' && out[i] <= 'Z')
      out[i] = (char)(out[i] - 'A' + 'a');
}

void rr_mongo_copy(char *dst, size_t size, const bson_t *doc, const char *field)
{
  bson_iter_t it;
  const char *v;
  uint32_t len;
  size_t n;

  if (size == 0)
    return;
  dst[0] = '\0';
  if (!bson_iter_init_find(&it, doc, field) || !BSON_ITER_HOLDS_UTF8(&it))
    return;
  v = bson_iter_utf8(&it, &len);
  n = len < size - 1 ? len : size - 1;
  if (n < len) /* do not cut a UTF-8 character */
    while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
      n--;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

char *rr_mongo_strdup(const bson_t *doc, const char *field)
{
  bson_iter_t it;
  const char *v = "";
  uint32_t len = 0;
  char *out;

  if (bson_iter_init_find(&it, doc, field) && BSON_ITER_HOLDS_UTF8(&it))
    v = bson_iter_utf8(&it, &len);
  if ((out = malloc((size_t)len + 1)) == NULL)
    return NULL;
  memcpy(out, v, len);
  out[len] = '\0';
  return out;
}

int64_t rr_mongo_int(const bson_t *doc, const char *field)
{
  bson_iter_t it;

  if (!bson_iter_init_find(&it, doc, field))
    return 0;
  if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_DOUBLE(&it))
    return bson_iter_as_int64(&it);
  return 0;
}

double rr_mongo_double(const bson_t *doc, const char *field)
{
  bson_iter_t it;

  if (!bson_iter_init_find(&it, doc, field))
    return 0;
  if (BSON_ITER_HOLDS_DOUBLE(&it))
    return bson_iter_double(&it);
  if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it))
    return (double)bson_iter_as_int64(&it);
  return 0;
}

bool rr_mongo_bool(const bson_t *doc, const char *field)
{
  bson_iter_t it;

  if (!bson_iter_init_find(&it, doc, field))
    return false;
  if (BSON_ITER_HOLDS_BOOL(&it))
    return bson_iter_bool(&it);
  if (BSON_ITER_HOLDS_INT32(&it) || BSON_ITER_HOLDS_INT64(&it))
    return bson_iter_as_int64(&it) != 0;
  return false;
}

int rr_mongo_find_list(rr_mongo_store *s, void *list, const rr_store_list_kind *kind, size_t first, const char *coll,
                       const bson_t *filter, const bson_t *opts, rr_mongo_doc_reader read, void *ctx,
                       const char *what, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *col = rr_mongo_collection(s, c, coll);
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(col, filter, opts, NULL);
  const bson_t *doc;
  bson_error_t e;
  void *elem;
  size_t cap;
  int error = 0;

  /* the array holds at least its count: a safe capacity to grow from */
  memcpy(&cap, (char *)list + kind->count_at, sizeof(cap));
  while (error == 0 && mongoc_cursor_next(cur, &doc)) {
    if ((elem = rr_store_list_push(kind, list, &cap, first)) == NULL)
      error = rr_fail(err, errsize, RR_ENOMEM, "mongodb: %s: out of memory", what);
    else if ((error = read(elem, doc, ctx)) < 0)
      rr_fail(err, errsize, error, "mongodb: %s: cannot read a document", what);
  }
  if (error == 0 && mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, what);
  mongoc_cursor_destroy(cur);
  mongoc_collection_destroy(col);
  rr_mongo_push(s, c);
  return error;
}

/* ------------------------------------------------------------ open / close */

static void mongo_close(void *impl)
{
  rr_mongo_store *s = impl;

  if (s == NULL)
    return;
  if (s->pool != NULL)
    mongoc_client_pool_destroy(s->pool);
  mongoc_uri_destroy(s->uri);
  free(s);
}

/* The driver's own messages go to Orthanc's log: warnings and worse only
 * (its debug lines, e.g. every failed server check, would flood it). */
static void log_driver(mongoc_log_level_t level, const char *domain, const char *message, void *arg)
{
  (void)arg;
  if (level == MONGOC_LOG_LEVEL_ERROR || level == MONGOC_LOG_LEVEL_CRITICAL)
    rr_log_error("mongodb driver (%s): %s", domain ? domain : "", message ? message : "");
  else if (level == MONGOC_LOG_LEVEL_WARNING)
    rr_log_warning("mongodb driver (%s): %s", domain ? domain : "", message ? message : "");
}

static void init_driver(void)
{
  mongoc_init();
  mongoc_log_set_handler(log_driver, NULL);
}

static int ping(rr_mongo_store *s, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  bson_t *cmd = BCON_NEW("ping", BCON_INT32(1));
  bson_t reply;
  bson_error_t e;
  int error = 0;

  if (!mongoc_client_command_simple(c, "admin", cmd, NULL, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "cannot reach the server");
  bson_destroy(&reply);
  bson_destroy(cmd);
  rr_mongo_push(s, c);
  return error;
}

/* Raise the schema document to ours ($max: never lowered) and refuse a
 * newer one. The unique indexes on meta.key and counters.name come first
 * so that nodes starting at once make one document each. */
static int check_schema(rr_mongo_store *s, char *err, size_t errsize)
{
  bson_t *query, *update;
  int64_t version = 0;
  int error;

  if ((error = rr_mongo_index(s, "meta", "meta_key", BCON_NEW("key", BCON_INT32(1)), true, NULL, err, errsize)) < 0 ||
      (error = rr_mongo_index(s, "counters", "counters_name", BCON_NEW("name", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0)
    return error;
  query = BCON_NEW("key", BCON_UTF8("schema"));
  update = BCON_NEW("$max", "{", "version", BCON_INT32(SCHEMA_VERSION), "}");
  error = upsert_number(s, &version, "meta", query, update, "version", "recording the schema version", err, errsize);
  if (error == 0 && version > SCHEMA_VERSION)
    error = rr_fail(err, errsize, RR_ESTORE,
                    "mongodb: database schema version %lld is newer than this plugin knows (%d): "
                    "use a newer plugin or another database",
                    (long long)version, SCHEMA_VERSION);
  bson_destroy(query);
  bson_destroy(update);
  return error;
}

int rr_mongo_schema_version(rr_mongo_store *s, int *out, char *err, size_t errsize)
{
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, "meta");
  bson_t *query = BCON_NEW("key", BCON_UTF8("schema"));
  mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, query, NULL, NULL);
  const bson_t *doc;
  bson_error_t e;
  int error = 0;

  *out = 0;
  if (mongoc_cursor_next(cur, &doc))
    *out = (int)rr_mongo_int(doc, "version");
  else if (mongoc_cursor_error(cur, &e))
    error = rr_mongo_fail(err, errsize, &e, "reading the schema version");
  mongoc_cursor_destroy(cur);
  bson_destroy(query);
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  return error;
}

static int check_options(const rr_mongo_options *o, char *err, size_t errsize)
{
  size_t i;

  if (o == NULL || o->uri == NULL || o->uri[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "mongodb: no URI");
  if (o->database == NULL || o->database[0] == '\0' || strlen(o->database) >= 64)
    return rr_fail(err, errsize, RR_EINVAL, "mongodb: the database name must have 1 to 63 characters");
  for (i = 0; o->database[i]; i++)
    if (strchr("/\\. \"$*<>:|?", o->database[i]) != NULL)
      return rr_fail(err, errsize, RR_EINVAL, "mongodb: the database name must not contain /\\. \"$*<>:|?");
  if (o->pool_size < 1 || o->pool_size > MAX_POOL)
    return rr_fail(err, errsize, RR_EINVAL, "mongodb: the pool size must be between 1 and %d", MAX_POOL);
  return 0;
}

/* The URI parsed; a parse error names the problem, never the URI (it may
 * hold a password). */
static int parse_uri(rr_mongo_store *s, const char *uri, char *err, size_t errsize)
{
  bson_error_t e;

  memset(&e, 0, sizeof(e));
  if ((s->uri = mongoc_uri_new_with_error(uri, &e)) != NULL)
    return 0;
  /* the driver's message may quote the URI: keep only what precedes it */
  return rr_fail(err, errsize, RR_EINVAL, "mongodb: the URI is not valid (expected mongodb://host[:port]/… or "
                 "mongodb+srv://…)");
}

static int create_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index_setup(s, err, errsize)) < 0 ||
      (error = rr_mongo_identity_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_audit_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_ai_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_annotations_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_report_templates_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_report_outputs_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_backup_indexes(s, err, errsize)) < 0 ||
      (error = rr_mongo_reports_indexes(s, err, errsize)) < 0)
    return error;
  return 0;
}

int rr_store_mongo_open(rr_store **out, const rr_mongo_options *opts, char *err, size_t errsize)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  rr_mongo_store *s = NULL;
  rr_store *store = NULL;
  bson_error_t e;
  int error = 0;

  *out = NULL;
  if ((error = check_options(opts, err, errsize)) < 0)
    return error;
  pthread_once(&once, init_driver);
  if ((s = calloc(1, sizeof(*s))) == NULL || (store = calloc(1, sizeof(*store))) == NULL) {
    free(s);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  rr_str_copy(s->database, sizeof(s->database), opts->database);
  store->name = "mongodb";
  store->close = mongo_close;
  store->impl = s;
  store->index = &rr_mongo_index_ops;
  store->identity = &rr_mongo_identity_ops;
  store->audit = &rr_mongo_audit_ops;
  store->ai = &rr_mongo_ai_ops;
  store->annotations = &rr_mongo_annotations_ops;
  store->report_templates = &rr_mongo_report_templates_ops;
  store->report_outputs = &rr_mongo_report_outputs_ops;
  store->reports = &rr_mongo_reports_ops;
  store->cluster = NULL;          /* one node: leases held, signals in process */
  store->backup = &rr_mongo_backup_ops;

  if ((error = parse_uri(s, opts->uri, err, errsize)) < 0)
    goto out;
  if (!mongoc_uri_set_option_as_utf8(s->uri, MONGOC_URI_APPNAME, "orthanc-reading-room") ||
      (s->pool = mongoc_client_pool_new_with_error(s->uri, &e)) == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "mongodb: cannot create the client pool: %s", e.message);
    goto out;
  }
  mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_max_size(s->pool, opts->pool_size);
  if ((error = ping(s, err, errsize)) < 0 || (error = check_schema(s, err, errsize)) < 0 ||
      (error = create_indexes(s, err, errsize)) < 0)
    goto out;
  *out = store;
  store = NULL;
out:
  rr_store_free(store);
  return error;
}
