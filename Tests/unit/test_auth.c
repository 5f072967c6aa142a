/* auth/auth.c: login, lock-out, how a request proves who it is (Bearer,
 * session cookie, Basic), logout, CSRF tokens, the first password file. */
#include <sys/stat.h>

#include "auth_fixture.h"
#include "util/buf.h"
#include "util/clock.h"

static int authenticate(rr_identity *id, const char *authorization, const char *cookie)
{
  rr_credentials c = {authorization, cookie, "10.0.0.1"};
  char reason[160] = "";

  return rr_auth_authenticate(fx_auth, id, &c, reason, sizeof(reason));
}

START_TEST(login_and_the_three_ways_to_authenticate)
{
  char bearer[4096], cookie[4096], csrf[65], basic[256];
  rr_identity id;
  rr_buf b64;

  fx_login("rad", bearer, sizeof(bearer), cookie, sizeof(cookie), csrf);
  ck_assert_int_eq(authenticate(&id, bearer, NULL), 0);
  ck_assert_str_eq(id.username, "rad");
  ck_assert_str_eq(id.role_name, "radiologist");
  ck_assert_uint_eq(id.role, RR_ROLE_RADIOLOGIST);
  ck_assert_int_eq(id.method, RR_AUTH_BEARER);
  ck_assert_uint_eq(strlen(id.jti) > 0, 1);
  ck_assert_int_eq(authenticate(&id, NULL, cookie), 0);
  ck_assert_int_eq(id.method, RR_AUTH_COOKIE);
  ck_assert_str_eq(id.username, "rad");

  rr_buf_init(&b64, 1024);
  ck_assert_int_eq(rr_base64_encode(&b64, "rad:" FX_PASSWORD, strlen("rad:" FX_PASSWORD)), 0);
  snprintf(basic, sizeof(basic), "Basic %.*s", (int)b64.len, b64.ptr);
  rr_buf_dispose(&b64);
  ck_assert_int_eq(authenticate(&id, basic, NULL), 0);
  ck_assert_int_eq(id.method, RR_AUTH_BASIC);
  ck_assert_str_eq(id.jti, "");

  /* nothing offered, or a cookie without the session */
  ck_assert_int_eq(authenticate(&id, NULL, NULL), RR_ENOTFOUND);
  ck_assert_int_eq(authenticate(&id, NULL, "theme=dark"), RR_ENOTFOUND);
  /* offered but not holding */
  ck_assert_int_eq(authenticate(&id, "Bearer not.a.token", NULL), RR_EINVAL);
  ck_assert_int_eq(authenticate(&id, "Digest x", NULL), RR_EINVAL);
  bearer[strlen(bearer) - 2] ^= 1; /* tampered signature */
  ck_assert_int_eq(authenticate(&id, bearer, NULL), RR_EINVAL);
}
END_TEST

START_TEST(wrong_passwords_and_unknown_users_get_one_answer)
{
  rr_login_result r;
  char e1[256] = "", e2[256] = "";

  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "rad", "Wrong-Password-123", "10.0.0.2", e1, sizeof(e1)), RR_EINVAL);
  rr_login_result_dispose(&r);
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "nobody", "Wrong-Password-123", "10.0.0.3", e2, sizeof(e2)), RR_EINVAL);
  rr_login_result_dispose(&r);
  ck_assert_str_eq(e1, e2);
  ck_assert_ptr_null(strstr(e1, "Wrong"));
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, NULL, FX_PASSWORD, NULL, NULL, 0), RR_EINVAL);
  rr_login_result_dispose(&r);
}
END_TEST

START_TEST(the_account_locks_after_too_many_failures)
{
  rr_login_result r;
  char err[256] = "";
  unsigned i;

  for (i = 0; i < FX_MAX_FAILURES; i++) {
    ck_assert_int_eq(rr_auth_login(fx_auth, &r, "rad", "Wrong-Password-123", "10.0.0.4", err, sizeof(err)), RR_EINVAL);
    rr_login_result_dispose(&r);
  }
  /* now even the right password is refused, from any address */
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "rad", FX_PASSWORD, "10.0.0.5", err, sizeof(err)), RR_ELOCKED);
  rr_login_result_dispose(&r);
  ck_assert_ptr_nonnull(strstr(err, "too many"));
  /* other accounts are not locked */
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "admin", FX_PASSWORD, "10.0.0.5", err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(r.token);
  rr_login_result_dispose(&r);
  /* unknown names lock the same way (the answer never tells whether a user exists) */
  for (i = 0; i < FX_MAX_FAILURES; i++) {
    ck_assert_int_eq(rr_auth_login(fx_auth, &r, "ghost", "Wrong-Password-123", "10.0.0.6", err, sizeof(err)), RR_EINVAL);
    rr_login_result_dispose(&r);
  }
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "ghost", "Wrong-Password-123", "10.0.0.7", err, sizeof(err)), RR_ELOCKED);
  rr_login_result_dispose(&r);
}
END_TEST

/* A signature's password check (rr_auth_verify_password) is a login's
 * without a token: right, wrong, and counted toward the same lock-out. */
START_TEST(a_signature_checks_the_password_like_a_login)
{
  rr_login_result r;
  char err[256] = "";
  unsigned i;

  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", FX_PASSWORD, "10.0.0.4", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", NULL, "10.0.0.4", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "nobody", FX_PASSWORD, "10.0.0.4", err, sizeof(err)), RR_EINVAL);
  /* a right one in between clears the failures, as a login does */
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", "Wrong-Password-123", "10.0.0.4", err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", FX_PASSWORD, "10.0.0.4", err, sizeof(err)), 0);
  for (i = 0; i + 1 < FX_MAX_FAILURES; i++)
    ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", "Wrong-Password-123", "10.0.0.4", err, sizeof(err)),
                     RR_EINVAL);
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", FX_PASSWORD, "10.0.0.4", err, sizeof(err)), 0);
  for (i = 0; i < FX_MAX_FAILURES; i++)
    ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", "Wrong-Password-123", "10.0.0.4", err, sizeof(err)),
                     RR_EINVAL);
  /* locked now: signatures and logins alike */
  ck_assert_int_eq(rr_auth_verify_password(fx_auth, "rad", FX_PASSWORD, "10.0.0.5", err, sizeof(err)), RR_ELOCKED);
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "rad", FX_PASSWORD, "10.0.0.5", err, sizeof(err)), RR_ELOCKED);
  rr_login_result_dispose(&r);
}
END_TEST

START_TEST(logout_refresh_and_disabled_users)
{
  char bearer[4096], header[4096], err[256] = "";
  rr_identity id;
  rr_login_result r;

  fx_login("rad", bearer, sizeof(bearer), NULL, 0, NULL);
  ck_assert_int_eq(authenticate(&id, bearer, NULL), 0);
  ck_assert_int_eq(rr_auth_refresh(fx_auth, &r, &id, err, sizeof(err)), 0);
  snprintf(header, sizeof(header), "Bearer %s", r.token);
  rr_login_result_dispose(&r);
  ck_assert_int_eq(authenticate(&id, bearer, NULL), RR_EINVAL); /* the refreshed token is revoked */
  ck_assert_int_eq(authenticate(&id, header, NULL), 0);
  ck_assert_int_eq(rr_auth_logout(fx_auth, &id, err, sizeof(err)), 0);
  ck_assert_int_eq(authenticate(&id, header, NULL), RR_EINVAL);

  fx_login("rad", bearer, sizeof(bearer), NULL, 0, NULL);
  ck_assert_int_eq(rr_auth_user_update(fx_auth, &fx_admin, "rad", NULL, NULL, 0, err, sizeof(err)), 0);
  ck_assert_int_eq(authenticate(&id, bearer, NULL), RR_EINVAL);
  ck_assert_int_eq(rr_auth_login(fx_auth, &r, "rad", FX_PASSWORD, "10.0.0.8", err, sizeof(err)), RR_EINVAL);
  rr_login_result_dispose(&r);
}
END_TEST

/* Two rr_auth on one store stand for two nodes: a logout or a disabled user
 * on one is refused by the other at once, although the other had the token
 * and the user in its caches (store_cluster.h signals; without them the
 * token stayed valid there until it expired, the user for 10 s). */
START_TEST(changes_reach_every_auth_on_the_store_at_once)
{
  char secret[4200], bearer[4096], header[4096], err[256] = "", reason[256] = "";
  rr_auth_options o;
  rr_auth *other = NULL;
  rr_identity id, seen;
  rr_credentials c = {header, NULL, "10.0.0.7"};

  fx_auth_options(&o, secret, sizeof(secret));
  ck_assert_msg(rr_auth_new(&other, &o, fx_store, fx_audit, err, sizeof(err)) == 0, "rr_auth_new: %s", err);

  fx_login("rad", bearer, sizeof(bearer), NULL, 0, NULL);
  rr_str_copy(header, sizeof(header), bearer);
  ck_assert_int_eq(rr_auth_authenticate(other, &seen, &c, reason, sizeof(reason)), 0); /* cached there */
  ck_assert_int_eq(authenticate(&id, bearer, NULL), 0);
  ck_assert_int_eq(rr_auth_logout(fx_auth, &id, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_auth_authenticate(other, &seen, &c, reason, sizeof(reason)), RR_EINVAL);

  fx_login("rad", bearer, sizeof(bearer), NULL, 0, NULL);
  rr_str_copy(header, sizeof(header), bearer);
  ck_assert_int_eq(rr_auth_authenticate(other, &seen, &c, reason, sizeof(reason)), 0);
  ck_assert_int_eq(rr_auth_user_update(fx_auth, &fx_admin, "rad", NULL, NULL, 0, err, sizeof(err)), 0); /* disabled */
  reason[0] = '\0';
  ck_assert_int_eq(rr_auth_authenticate(other, &seen, &c, reason, sizeof(reason)), RR_EINVAL);
  ck_assert_str_eq(reason, "the user is disabled");
  rr_auth_free(other);
}
END_TEST

/* ------------------------------------------------ automatic log-off */

static int64_t fake_now;
static int64_t fake_clock(void)
{
  return fake_now;
}

/* A second rr_auth on the fixture's store with idle 60 s and maximum age
 * 300 s, reading the fake clock (util/clock.h's time is never touched). */
static rr_auth *short_sessions(void)
{
  char secret[4200], err[256] = "";
  rr_auth_options o;
  rr_auth *a = NULL;

  fx_auth_options(&o, secret, sizeof(secret));
  o.token_lifetime = 28800;
  o.idle_timeout = 60;
  o.max_session = 300;
  ck_assert_msg(rr_auth_new(&a, &o, fx_store, fx_audit, err, sizeof(err)) == 0, "rr_auth_new: %s", err);
  rr_auth_set_clock(a, fake_clock);
  ck_assert_int_eq(rr_audit_start(fx_audit), 0);
  fake_now = rr_clock_unix_s() + 5; /* after the fixture's password changes */
  return a;
}

static int auth_at(rr_auth *a, rr_identity *id, const char *token, int64_t t, char *reason, size_t rsize)
{
  char header[4200];
  rr_credentials c = {header, NULL, "10.0.0.9"};

  fake_now = t;
  snprintf(header, sizeof(header), "Bearer %s", token);
  reason[0] = '\0';
  return rr_auth_authenticate(a, id, &c, reason, rsize);
}

/* The number of audit records with this action, outcome and detail. */
static int64_t audited(const char *action, const char *outcome, const char *detail)
{
  rr_audit_filter f;
  rr_audit_list *list = NULL;
  size_t i;
  int64_t count = 0;
  char err[256] = "";

  ck_assert_int_eq(rr_audit_flush(fx_audit, 5000), 0);
  memset(&f, 0, sizeof(f));
  f.limit = 1000;
  ck_assert_msg(rr_store_audit_query(fx_store, &list, &f, err, sizeof(err)) == 0, "%s", err);
  for (i = 0; i < list->count; i++)
    if (strcmp(list->items[i].action, action) == 0 && strcmp(list->items[i].outcome, outcome) == 0 &&
        strcmp(list->items[i].detail, detail) == 0)
      count++;
  rr_audit_list_free(list);
  return count;
}

START_TEST(a_session_without_activity_ends_after_the_idle_time)
{
  rr_auth *a = short_sessions();
  rr_login_result r;
  rr_identity id;
  char err[256] = "", reason[256];
  int64_t t0 = fake_now;

  ck_assert_msg(rr_auth_login(a, &r, "rad", FX_PASSWORD, "10.0.0.9", err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(r.expires_at, t0 + 60);
  ck_assert_int_eq(r.session_ends_at, t0 + 300);
  /* polling (authenticated requests) does not extend it */
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 30, reason, sizeof(reason)), 0);
  ck_assert_int_eq(id.auth_time, t0);
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 59, reason, sizeof(reason)), 0);
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 60, reason, sizeof(reason)), RR_EINVAL);
  ck_assert_msg(strstr(reason, "no activity") != NULL, "%s", reason);
  /* recorded once: later requests find the token revoked */
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 61, reason, sizeof(reason)), RR_EINVAL);
  ck_assert_msg(strstr(reason, "revoked") != NULL, "%s", reason);
  ck_assert_int_eq(audited("logout", "success", "automatic: idle"), 1);
  rr_login_result_dispose(&r);
  rr_auth_free(a);
}
END_TEST

START_TEST(activity_keeps_a_session_until_its_maximum_age)
{
  rr_auth *a = short_sessions();
  rr_login_result r, next;
  rr_identity id;
  char err[256] = "", reason[256];
  int64_t t0 = fake_now, t;

  ck_assert_msg(rr_auth_login(a, &r, "rad", FX_PASSWORD, "10.0.0.9", err, sizeof(err)) == 0, "%s", err);
  /* a refresh every 50 s (the web app refreshes on user activity) */
  for (t = t0 + 50; t <= t0 + 250; t += 50) {
    ck_assert_msg(auth_at(a, &id, r.token, t, reason, sizeof(reason)) == 0, "at +%lld: %s", (long long)(t - t0), reason);
    ck_assert_int_eq(id.auth_time, t0); /* the login time is kept */
    ck_assert_msg(rr_auth_refresh(a, &next, &id, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(next.expires_at, t + 60 < t0 + 300 ? t + 60 : t0 + 300);
    rr_login_result_dispose(&r);
    r = next;
  }
  ck_assert_int_eq(r.expires_at, t0 + 300); /* the last one is capped */
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 299, reason, sizeof(reason)), 0);
  /* a refresh at the very end cannot make a token */
  fake_now = t0 + 300;
  ck_assert_int_eq(rr_auth_refresh(a, &next, &id, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "maximum length") != NULL, "%s", err);
  rr_login_result_dispose(&next);
  ck_assert_int_eq(auth_at(a, &id, r.token, t0 + 300, reason, sizeof(reason)), RR_EINVAL);
  ck_assert_msg(strstr(reason, "maximum length") != NULL, "%s", reason);
  ck_assert_int_eq(audited("logout", "success", "automatic: max-age"), 1);
  rr_login_result_dispose(&r);
  rr_auth_free(a);
}
END_TEST

START_TEST(csrf_tokens_belong_to_their_session)
{
  char bearer[4096], cookie[4096], csrf[65], other[65];
  rr_identity id;

  fx_login("rad", bearer, sizeof(bearer), cookie, sizeof(cookie), csrf);
  ck_assert_int_eq(authenticate(&id, NULL, cookie), 0);
  ck_assert_uint_eq(strlen(csrf), 64);
  ck_assert(rr_auth_csrf_ok(fx_auth, &id, csrf));
  rr_auth_csrf_for(fx_auth, other, id.jti);
  ck_assert_str_eq(other, csrf);
  ck_assert(!rr_auth_csrf_ok(fx_auth, &id, NULL));
  ck_assert(!rr_auth_csrf_ok(fx_auth, &id, ""));
  other[0] = other[0] == 'a' ? 'b' : 'a';
  ck_assert(!rr_auth_csrf_ok(fx_auth, &id, other));
  /* another session's token does not fit */
  fx_login("admin", bearer, sizeof(bearer), cookie, sizeof(cookie), other);
  ck_assert(!rr_auth_csrf_ok(fx_auth, &id, other));
}
END_TEST

START_TEST(the_first_password_file_is_private)
{
  char beside[4200], path[4300], text[64] = "";
  struct stat st;
  FILE *f;

  snprintf(beside, sizeof(beside), "%s/reading-room.db", fx_dir);
  ck_assert_int_eq(rr_auth_write_initial_password(path, sizeof(path), beside, "Generated-Secret-1"), 0);
  ck_assert_ptr_nonnull(strstr(path, "/initial-admin-password"));
  ck_assert_int_eq(strncmp(path, fx_dir, strlen(fx_dir)), 0);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_ptr_nonnull(f = fopen(path, "r"));
  ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
  fclose(f);
  ck_assert_str_eq(text, "Generated-Secret-1\n");
  /* written anew */
  ck_assert_int_eq(rr_auth_write_initial_password(path, sizeof(path), beside, "Second-Secret-2"), 0);
  ck_assert_int_eq(rr_auth_write_initial_password(path, 10, beside, "x"), RR_EFULL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("auth");
  TCase *tc = tcase_create("auth");
  tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, login_and_the_three_ways_to_authenticate);
  tcase_add_test(tc, wrong_passwords_and_unknown_users_get_one_answer);
  tcase_add_test(tc, the_account_locks_after_too_many_failures);
  tcase_add_test(tc, a_signature_checks_the_password_like_a_login);
  tcase_add_test(tc, logout_refresh_and_disabled_users);
  tcase_add_test(tc, changes_reach_every_auth_on_the_store_at_once);
  tcase_add_test(tc, csrf_tokens_belong_to_their_session);
  tcase_add_test(tc, a_session_without_activity_ends_after_the_idle_time);
  tcase_add_test(tc, activity_keeps_a_session_until_its_maximum_age);
  tcase_add_test(tc, the_first_password_file_is_private);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
