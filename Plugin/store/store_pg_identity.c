/*
 * store_pg_identity.c - the PostgreSQL backend's identity concern: users and
 * revoked tokens, as the SQLite backend (store_sqlite_identity.c) does.
 * Nothing is cached here: a change made by one node is what every other
 * node reads next (auth/ drops its own caches on the cluster's signal).
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

/* ----------------------------------------------------------------- users */

#define USER_COLUMNS \
  "username, display_name, role, password_hash, enabled, created_at, updated_at, password_changed_at," \
  " last_login_at, failed_logins, locked_until, token_generation"

static int read_user(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_user_rec *u = elem;

  (void)ctx;
  memset(u, 0, sizeof(*u));
  rr_pg_copy(u->username, sizeof(u->username), r, row, 0);
  rr_pg_copy(u->display_name, sizeof(u->display_name), r, row, 1);
  rr_pg_copy(u->role, sizeof(u->role), r, row, 2);
  rr_pg_copy(u->password_hash, sizeof(u->password_hash), r, row, 3);
  u->enabled = rr_pg_bool(r, row, 4);
  u->created_at = rr_pg_int(r, row, 5);
  u->updated_at = rr_pg_int(r, row, 6);
  u->password_changed_at = rr_pg_int(r, row, 7);
  u->last_login_at = rr_pg_int(r, row, 8);
  u->failed_logins = rr_pg_int(r, row, 9);
  u->locked_until = rr_pg_int(r, row, 10);
  u->token_generation = rr_pg_int(r, row, 11);
  return 0;
}

/* Run a write with the user as $1..$12 in USER_COLUMNS order. */
static int write_user(rr_pg_store *s, PGresult **out, const char *sql, const rr_user_rec *u, char *err, size_t errsize)
{
  int error = rr_pg_run(s, out, "write user", err, errsize, sql, "ttttBiiiiiii", u->username, u->display_name, u->role,
                        u->password_hash, u->enabled ? 1 : 0, u->created_at, u->updated_at, u->password_changed_at,
                        u->last_login_at, u->failed_logins, u->locked_until, u->token_generation);

  return error == RR_EEXISTS ? rr_fail(err, errsize, RR_EEXISTS, "a user with this name exists already") : error;
}

static int pg_user_create(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO users(" USER_COLUMNS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)";

  if (u->username[0] == '\0' || u->role[0] == '\0' || u->password_hash[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a user needs a name, a role and a password hash");
  return write_user(impl, NULL, sql, u, err, errsize);
}

static int pg_user_update(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  /* $6 (created_at) is not written; "($6::bigint IS NULL)" keeps its type known */
  static const char sql[] = "UPDATE users SET display_name=$2, role=$3, password_hash=$4, enabled=$5, updated_at=$7,"
                            " password_changed_at=$8, last_login_at=$9, failed_logins=$10, locked_until=$11,"
                            " token_generation=$12 WHERE lower(username)=lower($1) AND ($6::bigint IS NOT NULL)"
                            " RETURNING 1";
  PGresult *r = NULL;
  int error = write_user(impl, &r, sql, u, err, errsize);

  if (error == 0 && PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  PQclear(r);
  return error;
}

static int pg_user_get(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE lower(username)=lower($1)";
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_run(impl, &r, "read user", err, errsize, sql, "t", username)) < 0)
    return error;
  if (PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  else
    read_user(out, r, 0, NULL);
  PQclear(r);
  return error;
}

static int pg_user_list(void *impl, rr_user_list **out, char *err, size_t errsize)
{
  static const char sql[] = "SELECT " USER_COLUMNS " FROM users ORDER BY lower(username), username";
  rr_user_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "users", err, errsize, sql, "")) < 0)
    return error;
  if ((list = rr_store_list_new(&rr_user_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_user_list_kind, list, 16, read_user, NULL) < 0) {
    rr_user_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

/* The first column of the first row of sql (one text parameter, may be NULL). */
static int read_int64(rr_pg_store *s, int64_t *out, const char *sql, const char *param, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error = param ? rr_pg_run(s, &r, "count", err, errsize, sql, "t", param)
                    : rr_pg_run(s, &r, "count", err, errsize, sql, "");

  if (error < 0)
    return error;
  *out = PQntuples(r) > 0 ? rr_pg_int(r, 0, 0) : 0;
  PQclear(r);
  return 0;
}

static int pg_user_count(void *impl, int64_t *out, char *err, size_t errsize)
{
  static const char sql[] = "SELECT count(*) FROM users";

  return read_int64(impl, out, sql, NULL, err, errsize);
}

/* ---------------------------------------------------------- revoked tokens */

static int pg_token_revoke(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO revoked_tokens(token_hash, expires_at) VALUES($1, $2)"
                            " ON CONFLICT (token_hash) DO UPDATE SET"
                            " expires_at=greatest(revoked_tokens.expires_at, excluded.expires_at)";

  return rr_pg_run(impl, NULL, "revoke", err, errsize, sql, "ti", token_hash, expires_at);
}

static int pg_token_is_revoked(void *impl, bool *out, const char *token_hash, char *err, size_t errsize)
{
  static const char sql[] = "SELECT count(*) FROM revoked_tokens WHERE token_hash=$1";
  int64_t n = 0;
  int error = read_int64(impl, &n, sql, token_hash, err, errsize);

  *out = error == 0 && n > 0;
  return error;
}

static int pg_token_purge(void *impl, int64_t now, char *err, size_t errsize)
{
  static const char sql[] = "DELETE FROM revoked_tokens WHERE expires_at<$1";

  return rr_pg_run(impl, NULL, "purge revoked tokens", err, errsize, sql, "i", now);
}

const rr_store_identity_ops rr_pg_identity_ops = {
  .user_create = pg_user_create,
  .user_get = pg_user_get,
  .user_update = pg_user_update,
  .user_list = pg_user_list,
  .user_count = pg_user_count,
  .token_revoke = pg_token_revoke,
  .token_is_revoked = pg_token_is_revoked,
  .token_purge = pg_token_purge,
};
