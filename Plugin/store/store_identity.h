/*
 * store_identity.h - the identity concern of the store: user accounts and
 * revoked tokens (the access-control layer in auth/ decides with them).
 *
 * rr_store_identity_ops is the table a backend fills (see store.h for the
 * contract every operation shares); the rr_store_* functions below are what
 * callers use.
 */
#ifndef RR_STORE_IDENTITY_H
#define RR_STORE_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

typedef struct rr_user_list {
  rr_user_rec *items;
  size_t count;
} rr_user_list;
void rr_user_list_free(rr_user_list *list);

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_identity_ops {
  int (*user_create)(void *impl, const rr_user_rec *user, char *err, size_t errsize);
  int (*user_get)(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize);
  int (*user_update)(void *impl, const rr_user_rec *user, char *err, size_t errsize);
  int (*user_list)(void *impl, rr_user_list **out, char *err, size_t errsize);
  int (*user_count)(void *impl, int64_t *out, char *err, size_t errsize);
  int (*token_revoke)(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize);
  int (*token_is_revoked)(void *impl, bool *out, const char *token_hash, char *err, size_t errsize);
  int (*token_purge)(void *impl, int64_t now, char *err, size_t errsize);
} rr_store_identity_ops;

/* Users. user_create fails with RR_EEXISTS when the name is taken (in any
 * letter case) and RR_EINVAL without a name, role or password hash; user_get
 * and user_update with RR_ENOTFOUND for an unknown name. user_update writes
 * every field but username and created_at. */
int rr_store_user_create(rr_store *s, const rr_user_rec *user, char *err, size_t errsize);
int rr_store_user_get(rr_store *s, rr_user_rec *out, const char *username, char *err, size_t errsize);
int rr_store_user_update(rr_store *s, const rr_user_rec *user, char *err, size_t errsize);
/* All users, by user name. */
int rr_store_user_list(rr_store *s, rr_user_list **out, char *err, size_t errsize);
int rr_store_user_count(rr_store *s, int64_t *out, char *err, size_t errsize);

/* Revoked tokens (by SHA-256 hex), kept until expires_at; purge drops the
 * ones that expired before `now`. Revoking twice is fine. */
int rr_store_token_revoke(rr_store *s, const char *token_hash, int64_t expires_at, char *err, size_t errsize);
int rr_store_token_is_revoked(rr_store *s, bool *out, const char *token_hash, char *err, size_t errsize);
int rr_store_token_purge(rr_store *s, int64_t now, char *err, size_t errsize);

#endif
