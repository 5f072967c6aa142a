/* auth/auth.c: login, lock-out, how a request proves who it is (Bearer,
 * session cookie, Basic), logout, CSRF tokens, the first password file. */
#include <sys/stat.h>

#include "auth_fixture.h"
#include "util/buf.h"

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
  tcase_add_test(tc, logout_refresh_and_disabled_users);
  tcase_add_test(tc, csrf_tokens_belong_to_their_session);
  tcase_add_test(tc, the_first_password_file_is_private);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
