/*
 * Store conformance, identity concern (store/store_identity.h): users and
 * revoked tokens. Run against every backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"
#include "util/errors.h"
#include "util/str.h"

static rr_user_rec user(const char *name, const char *role)
{
  rr_user_rec u;
  memset(&u, 0, sizeof(u));
  rr_str_copy(u.username, sizeof(u.username), name);
  rr_str_copy(u.role, sizeof(u.role), role);
  rr_str_copy(u.password_hash, sizeof(u.password_hash), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
  u.enabled = true;
  u.created_at = u.updated_at = u.password_changed_at = 1000;
  return u;
}

START_TEST(users)
{
  rr_user_rec u = user("Alice", "radiologist"), got;
  rr_user_list *list = NULL;
  int64_t n = -1;
  ck_assert_int_eq(rr_store_user_count(fx.store, &n, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(n, 0);
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), 0);
  u = user("alice", "admin");
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), RR_EEXISTS); /* names ignore case */
  u = user("bob'; DROP TABLE users; --", "technician");
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_user_get(fx.store, &got, "ALICE", fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(got.username, "Alice");
  ck_assert_str_eq(got.role, "radiologist");
  ck_assert(got.enabled);
  got.enabled = false;
  rr_str_copy(got.role, sizeof(got.role), "physician");
  got.failed_logins = 3;
  got.locked_until = 5000;
  got.token_generation = 7;
  got.updated_at = 2000;
  ck_assert_int_eq(rr_store_user_update(fx.store, &got, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_user_get(fx.store, &got, "alice", fx.err, sizeof(fx.err)), 0);
  ck_assert(!got.enabled);
  ck_assert_str_eq(got.role, "physician");
  ck_assert_int_eq(got.failed_logins, 3);
  ck_assert_int_eq(got.locked_until, 5000);
  ck_assert_int_eq(got.token_generation, 7);
  ck_assert_int_eq(got.created_at, 1000);
  ck_assert_int_eq(rr_store_user_get(fx.store, &got, "carol", fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  u = user("carol", "admin");
  ck_assert_int_eq(rr_store_user_update(fx.store, &u, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_user_list(fx.store, &list, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 2);
  ck_assert_str_eq(list->items[0].username, "Alice");
  rr_user_list_free(list);
  ck_assert_int_eq(rr_store_user_count(fx.store, &n, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(n, 2);
  u = user("", "admin");
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), RR_EINVAL);
}
END_TEST

START_TEST(revoked_tokens)
{
  bool revoked = true;
  ck_assert_int_eq(rr_store_token_is_revoked(fx.store, &revoked, "aa", fx.err, sizeof(fx.err)), 0);
  ck_assert(!revoked);
  ck_assert_int_eq(rr_store_token_revoke(fx.store, "aa", 100, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_token_revoke(fx.store, "aa", 100, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_token_revoke(fx.store, "bb", 300, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_token_is_revoked(fx.store, &revoked, "aa", fx.err, sizeof(fx.err)), 0);
  ck_assert(revoked);
  ck_assert_int_eq(rr_store_token_purge(fx.store, 200, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_token_is_revoked(fx.store, &revoked, "aa", fx.err, sizeof(fx.err)), 0);
  ck_assert(!revoked); /* expired anyway: no longer kept */
  ck_assert_int_eq(rr_store_token_is_revoked(fx.store, &revoked, "bb", fx.err, sizeof(fx.err)), 0);
  ck_assert(revoked);
}
END_TEST

/* A backend without the identity concern: each function fails with a sentence. */
START_TEST(identity_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_user_rec u = user("alice", "admin");
  rr_user_list *list = NULL;
  int64_t n;
  bool revoked;

  ck_assert_int_eq(rr_store_user_create(stub, &u, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement users and tokens");
  ck_assert_int_eq(rr_store_user_get(stub, &u, "alice", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_user_update(stub, &u, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_user_list(stub, &list, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(list);
  ck_assert_int_eq(rr_store_user_count(stub, &n, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_token_revoke(stub, "aa", 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_token_is_revoked(stub, &revoked, "aa", fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_token_purge(stub, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement users and tokens");
  rr_store_free(stub);
}
END_TEST

/* Another handle of the same store (another node) sees a revoked token, a
 * disabled user and a new token generation at once: nothing is cached. */
START_TEST(identity_changes_seen_by_another_handle)
{
  rr_store *other = rr_fx_open_named(fx.backend->name, fx.dir);
  rr_user_rec u = user("carol", "radiologist"), got;
  bool revoked = true;

  ck_assert_ptr_nonnull(other);
  ck_assert_int_eq(rr_store_user_create(fx.store, &u, fx.err, sizeof(fx.err)), 0);
  /* the other node reads the user and the token first (a cache would keep these) */
  ck_assert_int_eq(rr_store_user_get(other, &got, "carol", fx.err, sizeof(fx.err)), 0);
  ck_assert(got.enabled);
  ck_assert_int_eq(rr_store_token_is_revoked(other, &revoked, "cafe01", fx.err, sizeof(fx.err)), 0);
  ck_assert(!revoked);
  /* this node revokes the token and disables the user */
  ck_assert_int_eq(rr_store_token_revoke(fx.store, "cafe01", 9000, fx.err, sizeof(fx.err)), 0);
  u.enabled = false;
  u.token_generation = 7;
  u.updated_at = 2000;
  ck_assert_int_eq(rr_store_user_update(fx.store, &u, fx.err, sizeof(fx.err)), 0);
  /* the other node sees both on its next read */
  ck_assert_int_eq(rr_store_token_is_revoked(other, &revoked, "cafe01", fx.err, sizeof(fx.err)), 0);
  ck_assert(revoked);
  ck_assert_int_eq(rr_store_user_get(other, &got, "CAROL", fx.err, sizeof(fx.err)), 0);
  ck_assert(!got.enabled);
  ck_assert_int_eq(got.token_generation, 7);
  /* and the other way round: the other node enables her again */
  got.enabled = true;
  ck_assert_int_eq(rr_store_user_update(other, &got, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_user_get(fx.store, &u, "carol", fx.err, sizeof(fx.err)), 0);
  ck_assert(u.enabled);
  rr_store_free(other);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {users, revoked_tokens, identity_missing, identity_changes_seen_by_another_handle};

  return rr_fx_run("identity", tests, sizeof(tests) / sizeof(tests[0]));
}
