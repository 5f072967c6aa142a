/*
 * store_sqlite_identity.c - the SQLite backend's identity concern: users and
 * revoked tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

/* ----------------------------------------------------------------- users */

#define USER_COLUMNS \
  "username, display_name, role, password_hash, enabled, created_at, updated_at, password_changed_at," \
  " last_login_at, failed_logins, locked_until, token_generation"

static void read_user(rr_user_rec *u, sqlite3_stmt *st)
{
  memset(u, 0, sizeof(*u));
  rr_sqlite_column_copy(u->username, sizeof(u->username), st, 0);
  rr_sqlite_column_copy(u->display_name, sizeof(u->display_name), st, 1);
  rr_sqlite_column_copy(u->role, sizeof(u->role), st, 2);
  rr_sqlite_column_copy(u->password_hash, sizeof(u->password_hash), st, 3);
  u->enabled = sqlite3_column_int(st, 4) != 0;
  u->created_at = sqlite3_column_int64(st, 5);
  u->updated_at = sqlite3_column_int64(st, 6);
  u->password_changed_at = sqlite3_column_int64(st, 7);
  u->last_login_at = sqlite3_column_int64(st, 8);
  u->failed_logins = sqlite3_column_int64(st, 9);
  u->locked_until = sqlite3_column_int64(st, 10);
  u->token_generation = sqlite3_column_int64(st, 11);
}

/* Bind the user's fields as ?1..?12 in USER_COLUMNS order. */
static void bind_user(sqlite3_stmt *st, const void *arg)
{
  const rr_user_rec *u = arg;

  rr_sqlite_bind_text(st, 1, u->username);
  rr_sqlite_bind_text(st, 2, u->display_name);
  rr_sqlite_bind_text(st, 3, u->role);
  rr_sqlite_bind_text(st, 4, u->password_hash);
  sqlite3_bind_int(st, 5, u->enabled ? 1 : 0);
  sqlite3_bind_int64(st, 6, u->created_at);
  sqlite3_bind_int64(st, 7, u->updated_at);
  sqlite3_bind_int64(st, 8, u->password_changed_at);
  sqlite3_bind_int64(st, 9, u->last_login_at);
  sqlite3_bind_int64(st, 10, u->failed_logins);
  sqlite3_bind_int64(st, 11, u->locked_until);
  sqlite3_bind_int64(st, 12, u->token_generation);
}

/* Run one write statement with the user bound. */
static int write_user(rr_sqlite_store *s, const char *sql, const rr_user_rec *u, int64_t *changes, char *err, size_t errsize)
{
  return rr_sqlite_write_row(s, &(rr_sqlite_sql){sql, bind_user, u, "prepare user", "write user"},
                             "a user with this name exists already", changes, err, errsize);
}

static int sqlite_user_create(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  int64_t changes = 0;

  if (u->username[0] == '\0' || u->role[0] == '\0' || u->password_hash[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a user needs a name, a role and a password hash");
  return write_user(impl, "INSERT INTO users(" USER_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", u, &changes,
                    err, errsize);
}

static int sqlite_user_update(void *impl, const rr_user_rec *u, char *err, size_t errsize)
{
  int64_t changes = 0;
  int error;

  error = write_user(impl,
                     "UPDATE users SET display_name=?2, role=?3, password_hash=?4, enabled=?5, updated_at=?7,"
                     " password_changed_at=?8, last_login_at=?9, failed_logins=?10, locked_until=?11,"
                     " token_generation=?12 WHERE username=?1",
                     u, &changes, err, errsize);
  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such user");
  return error;
}

static int read_user_row(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  read_user(elem, st);
  return 0;
}

static int sqlite_user_get(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize)
{
  int error = rr_sqlite_read_row(impl,
                                 &(rr_sqlite_sql){"SELECT " USER_COLUMNS " FROM users WHERE username=?1",
                                                  rr_sqlite_bind_text1, username, "prepare user", "read user"},
                                 read_user_row, out, NULL, err, errsize);

  return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ENOTFOUND, "no such user") : error;
}

static int sqlite_user_list(void *impl, rr_user_list **out, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_user_list_kind, 16,
                                  "SELECT " USER_COLUMNS " FROM users ORDER BY username COLLATE NOCASE", NULL,
                                  read_user_row, "users", err, errsize);

  *out = list;
  return error;
}

/* A count: the first column of the first row of `sql`, with ?1 bound to
 * text_param when it is given. */
static int read_count(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  *(int64_t *)elem = sqlite3_column_int64(st, 0);
  return 0;
}

static int read_int64(rr_sqlite_store *s, int64_t *out, const char *sql, const char *text_param, char *err, size_t errsize)
{
  return rr_sqlite_read_row(s, &(rr_sqlite_sql){sql, text_param ? rr_sqlite_bind_text1 : NULL, text_param, "prepare", "read"},
                            read_count, out, NULL, err, errsize);
}

static int sqlite_user_count(void *impl, int64_t *out, char *err, size_t errsize)
{
  return read_int64(impl, out, "SELECT count(*) FROM users", NULL, err, errsize);
}

/* ---------------------------------------------------------- revoked tokens */

typedef struct revoke_arg {
  const char *token_hash;
  int64_t expires_at;
} revoke_arg;

static void bind_revoke(sqlite3_stmt *st, const void *arg)
{
  const revoke_arg *r = arg;

  rr_sqlite_bind_text(st, 1, r->token_hash);
  sqlite3_bind_int64(st, 2, r->expires_at);
}

static int sqlite_token_revoke(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize)
{
  revoke_arg arg = {token_hash, expires_at};

  return rr_sqlite_write_row(impl,
                             &(rr_sqlite_sql){"INSERT INTO revoked_tokens(token_hash, expires_at) VALUES(?1, ?2)"
                                              " ON CONFLICT(token_hash) DO UPDATE SET expires_at=max(expires_at, excluded.expires_at)",
                                              bind_revoke, &arg, "prepare revoke", "revoke"},
                             NULL, NULL, err, errsize);
}

static int sqlite_token_is_revoked(void *impl, bool *out, const char *token_hash, char *err, size_t errsize)
{
  int64_t n = 0;
  int error = read_int64(impl, &n, "SELECT count(*) FROM revoked_tokens WHERE token_hash=?1", token_hash, err, errsize);

  *out = error == 0 && n > 0;
  return error;
}

static int sqlite_token_purge(void *impl, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int error;

  pthread_mutex_lock(&s->write_lock);
  error = rr_sqlite_run_ids(s->writer.db, "DELETE FROM revoked_tokens WHERE expires_at<?1", now, 0, err, errsize);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

const rr_store_identity_ops rr_sqlite_identity_ops = {
  .user_create = sqlite_user_create,
  .user_get = sqlite_user_get,
  .user_update = sqlite_user_update,
  .user_list = sqlite_user_list,
  .user_count = sqlite_user_count,
  .token_revoke = sqlite_token_revoke,
  .token_is_revoked = sqlite_token_is_revoked,
  .token_purge = sqlite_token_purge,
};
