/*
 * store_mongo_identity.c - the MongoDB backend's identity concern: users
 * (collection `users`) and revoked tokens (`revoked_tokens`), as the SQLite
 * backend (store_sqlite_identity.c) does.
 *
 * A user document keeps the name as given (`username`) and lower-cased
 * (`name_lower`, unique index): names are compared case-insensitively. A
 * create is an upsert on name_lower with $setOnInsert, so that an existing
 * name is reported as RR_EEXISTS even by a server that does not enforce
 * unique indexes (the CongoDB test server); on MongoDB the unique index
 * also settles two creates racing each other (duplicate key → RR_EEXISTS).
 * A revoked token is one document per token hash (unique), its expiry the
 * later of the revocations. Nothing is cached: every node reads the store.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "store_mongo_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define USERS "users"
#define TOKENS "revoked_tokens"

/* name lower-cased (ASCII letters; other bytes as they are) */
static void lower_name(char out[RR_USERNAME_SIZE], const char *name)
{
  size_t i;

  for (i = 0; name[i] != '\0' && i + 1 < RR_USERNAME_SIZE; i++)
    out[i] = (char)tolower((unsigned char)name[i]);
  out[i] = '\0';
}

static int read_user(void *elem, const bson_t *doc, void *ctx)
{
  rr_user_rec *u = elem;

  (void)ctx;
  memset(u, 0, sizeof(*u));
  rr_mongo_copy(u->username, sizeof(u->username), doc, "username");
  rr_mongo_copy(u->display_name, sizeof(u->display_name), doc, "display_name");
  rr_mongo_copy(u->role, sizeof(u->role), doc, "role");
  rr_mongo_copy(u->password_hash, sizeof(u->password_hash), doc, "password_hash");
  u->enabled = rr_mongo_bool(doc, "enabled");
  u->created_at = rr_mongo_int(doc, "created_at");
  u->updated_at = rr_mongo_int(doc, "updated_at");
  u->password_changed_at = rr_mongo_int(doc, "password_changed_at");
  u->last_login_at = rr_mongo_int(doc, "last_login_at");
  u->failed_logins = rr_mongo_int(doc, "failed_logins");
  u->locked_until = rr_mongo_int(doc, "locked_until");
  u->token_generation = rr_mongo_int(doc, "token_generation");
  return 0;
}

/* The fields user_update writes (all but username and created_at). */
static void append_mutable(bson_t *b, const rr_user_rec *u)
{
  BSON_APPEND_UTF8(b, "display_name", u->display_name);
  BSON_APPEND_UTF8(b, "role", u->role);
  BSON_APPEND_UTF8(b, "password_hash", u->password_hash);
  BSON_APPEND_BOOL(b, "enabled", u->enabled);
  BSON_APPEND_INT64(b, "updated_at", u->updated_at);
  BSON_APPEND_INT64(b, "password_changed_at", u->password_changed_at);
  BSON_APPEND_INT64(b, "last_login_at", u->last_login_at);
  BSON_APPEND_INT64(b, "failed_logins", u->failed_logins);
  BSON_APPEND_INT64(b, "locked_until", u->locked_until);
  BSON_APPEND_INT64(b, "token_generation", u->token_generation);
}

static int mongo_user_create(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  char lower[RR_USERNAME_SIZE];
  bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  bson_error_t e;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  int error = 0;

  if (u->username[0] == '\0' || u->role[0] == '\0' || u->password_hash[0] == '\0') {
    bson_destroy(opts);
    return rr_fail(err, errsize, RR_EINVAL, "a user needs a name, a role and a password hash");
  }
  lower_name(lower, u->username);
  BSON_APPEND_UTF8(&filter, "name_lower", lower);
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$setOnInsert", &set);
  BSON_APPEND_UTF8(&set, "username", u->username);
  BSON_APPEND_INT64(&set, "created_at", u->created_at);
  append_mutable(&set, u);
  bson_append_document_end(&update, &set);
  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, USERS);
  if (!mongoc_collection_update_one(coll, &filter, &update, opts, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "create user");
  else if (rr_mongo_int(&reply, "upsertedCount") == 0)
    error = RR_EEXISTS;
  if (error == RR_EEXISTS)
    error = rr_fail(err, errsize, RR_EEXISTS, "a user with this name exists already");
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(&reply);
  bson_destroy(&filter);
  bson_destroy(&update);
  bson_destroy(opts);
  return error;
}

static int mongo_user_update(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  char lower[RR_USERNAME_SIZE];
  bson_t filter = BSON_INITIALIZER, update = BSON_INITIALIZER, set, reply = BSON_INITIALIZER;
  bson_error_t e;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  int error = 0;

  lower_name(lower, u->username);
  BSON_APPEND_UTF8(&filter, "name_lower", lower);
  BSON_APPEND_DOCUMENT_BEGIN(&update, "$set", &set);
  append_mutable(&set, u);
  bson_append_document_end(&update, &set);
  c = rr_mongo_pop(s);
  coll = rr_mongo_collection(s, c, USERS);
  if (!mongoc_collection_update_one(coll, &filter, &update, NULL, &reply, &e))
    error = rr_mongo_fail(err, errsize, &e, "update user");
  else if (rr_mongo_int(&reply, "matchedCount") == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(&reply);
  bson_destroy(&filter);
  bson_destroy(&update);
  return error;
}

static int mongo_user_get(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  char lower[RR_USERNAME_SIZE];
  bson_t filter = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("limit", BCON_INT64(1));
  rr_user_list *list = NULL;
  int error;

  lower_name(lower, username);
  BSON_APPEND_UTF8(&filter, "name_lower", lower);
  if ((list = rr_store_list_new(&rr_user_list_kind)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_user_list_kind, 1, USERS, &filter, opts, read_user, NULL, "read user",
                               err, errsize);
  if (error == 0 && list->count == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  else if (error == 0)
    *out = list->items[0];
  rr_user_list_free(list);
  bson_destroy(&filter);
  bson_destroy(opts);
  return error;
}

static int mongo_user_list(void *impl, rr_user_list **out, char *err, size_t errsize)
{
  bson_t filter = BSON_INITIALIZER;
  bson_t *opts = BCON_NEW("sort", "{", "name_lower", BCON_INT32(1), "username", BCON_INT32(1), "}");
  rr_user_list *list = NULL;
  int error;

  *out = NULL;
  if ((list = rr_store_list_new(&rr_user_list_kind)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = rr_mongo_find_list(impl, list, &rr_user_list_kind, 16, USERS, &filter, opts, read_user, NULL, "users",
                               err, errsize);
  if (error == 0)
    *out = list;
  else
    rr_user_list_free(list);
  bson_destroy(&filter);
  bson_destroy(opts);
  return error;
}

/* The number of documents of coll matching filter. */
static int count(rr_mongo_store *s, int64_t *out, const char *name, const bson_t *filter, char *err, size_t errsize)
{
  return rr_mongo_count(s, out, name, filter, NULL, "count", err, errsize);
}

static int mongo_user_count(void *impl, int64_t *out, char *err, size_t errsize)
{
  bson_t filter = BSON_INITIALIZER;
  int error = count(impl, out, USERS, &filter, err, errsize);

  bson_destroy(&filter);
  return error;
}

/* ---------------------------------------------------------- revoked tokens */

static int mongo_token_revoke(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter = BCON_NEW("token_hash", BCON_UTF8(token_hash));
  bson_t *update = BCON_NEW("$max", "{", "expires_at", BCON_INT64(expires_at), "}");
  bson_t *opts = BCON_NEW("upsert", BCON_BOOL(true));
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, TOKENS);
  bson_error_t e;
  int error = 0;

  if (!mongoc_collection_update_one(coll, filter, update, opts, NULL, &e)) {
    error = rr_mongo_fail(err, errsize, &e, "revoke");
    if (error == RR_EEXISTS) /* revoked at the same moment by another node */
      error = 0;
  }
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
  bson_destroy(update);
  bson_destroy(opts);
  return error;
}

static int mongo_token_is_revoked(void *impl, bool *out, const char *token_hash, char *err, size_t errsize)
{
  bson_t *filter = BCON_NEW("token_hash", BCON_UTF8(token_hash));
  int64_t n = 0;
  int error = count(impl, &n, TOKENS, filter, err, errsize);

  *out = error == 0 && n > 0;
  bson_destroy(filter);
  return error;
}

static int mongo_token_purge(void *impl, int64_t now, char *err, size_t errsize)
{
  rr_mongo_store *s = impl;
  bson_t *filter = BCON_NEW("expires_at", "{", "$lt", BCON_INT64(now), "}");
  mongoc_client_t *c = rr_mongo_pop(s);
  mongoc_collection_t *coll = rr_mongo_collection(s, c, TOKENS);
  bson_error_t e;
  int error = 0;

  if (!mongoc_collection_delete_many(coll, filter, NULL, NULL, &e))
    error = rr_mongo_fail(err, errsize, &e, "purge revoked tokens");
  mongoc_collection_destroy(coll);
  rr_mongo_push(s, c);
  bson_destroy(filter);
  return error;
}

int rr_mongo_identity_indexes(rr_mongo_store *s, char *err, size_t errsize)
{
  int error;

  if ((error = rr_mongo_index(s, USERS, "users_name", BCON_NEW("name_lower", BCON_INT32(1)), true, NULL, err,
                              errsize)) < 0 ||
      (error = rr_mongo_index(s, TOKENS, "revoked_tokens_hash", BCON_NEW("token_hash", BCON_INT32(1)), true, NULL,
                              err, errsize)) < 0)
    return error;
  return rr_mongo_index(s, TOKENS, "revoked_tokens_expiry", BCON_NEW("expires_at", BCON_INT32(1)), false, NULL, err,
                        errsize);
}

const rr_store_identity_ops rr_mongo_identity_ops = {
  .user_create = mongo_user_create,
  .user_get = mongo_user_get,
  .user_update = mongo_user_update,
  .user_list = mongo_user_list,
  .user_count = mongo_user_count,
  .token_revoke = mongo_token_revoke,
  .token_is_revoked = mongo_token_is_revoked,
  .token_purge = mongo_token_purge,
};
