#include <argon2.h>
#include <time.h>

#include "auth/password.h"
#include "common.h"
#include "util/errors.h"
#include "util/str.h"

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

START_TEST(hash_and_verify_round_trip)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], enc2[RR_PASSWORD_ENCODED_SIZE], err[256] = "";

  ck_assert_msg(rr_password_hash(enc, sizeof(enc), "correct horse battery", NULL, err, sizeof(err)) == 0, "%s", err);
  ck_assert(rr_str_starts_with(enc, "$argon2id$v=19$m=19456,t=2,p=1$"));
  ck_assert_int_eq(rr_password_verify(enc, "correct horse battery"), 0);
  /* a fresh salt each time */
  ck_assert_int_eq(rr_password_hash(enc2, sizeof(enc2), "correct horse battery", NULL, err, sizeof(err)), 0);
  ck_assert_str_ne(enc, enc2);
  ck_assert_int_eq(rr_password_verify(enc2, "correct horse battery"), 0);
  /* UTF-8 passwords */
  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "Passwört-日本語", NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_password_verify(enc, "Passwört-日本語"), 0);
  ck_assert_int_eq(rr_password_verify(enc, "Passwort-日本語"), RR_EINVAL);
}
END_TEST

START_TEST(wrong_password_is_refused)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], err[256] = "";

  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "correct horse battery", NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_password_verify(enc, "correct horse batterY"), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify(enc, ""), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify(enc, NULL), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify(NULL, "correct horse battery"), RR_EINVAL);
}
END_TEST

START_TEST(tampered_encoding_is_refused)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], bad[RR_PASSWORD_ENCODED_SIZE + 64], err[256] = "";
  size_t n;
  char *p;

  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "correct horse battery", NULL, err, sizeof(err)), 0);
  n = strlen(enc);
  /* one character of the hash changed */
  snprintf(bad, sizeof(bad), "%s", enc);
  bad[n - 3] = bad[n - 3] == 'A' ? 'B' : 'A';
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  /* one character of the salt changed */
  snprintf(bad, sizeof(bad), "%s", enc);
  p = bad + strlen("$argon2id$v=19$m=19456,t=2,p=1$");
  *p = *p == 'Q' ? 'R' : 'Q';
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  /* parameters changed (t=3): another hash */
  snprintf(bad, sizeof(bad), "%s", enc);
  p = strstr(bad, ",t=2,");
  ck_assert_ptr_nonnull(p);
  p[3] = '3';
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  /* other variant, truncations, garbage, absurd memory */
  snprintf(bad, sizeof(bad), "$argon2i$%s", enc + strlen("$argon2id$"));
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  snprintf(bad, sizeof(bad), "%.*s", (int)(n - 10), enc);
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  snprintf(bad, sizeof(bad), "%s$", enc);
  ck_assert_int_eq(rr_password_verify(bad, "correct horse battery"), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify("", "x"), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify("$argon2id$", "x"), RR_EINVAL);
  ck_assert_int_eq(rr_password_verify("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
                                      "x"),
                   RR_EINVAL);
  ck_assert_int_eq(rr_password_verify("$argon2id$v=19$m=019456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
                                      "x"),
                   RR_EINVAL);
}
END_TEST

START_TEST(needs_rehash_compares_parameters)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], weak[RR_PASSWORD_ENCODED_SIZE], err[256] = "";
  rr_password_params strong = { 32768, 3, 1 }, weaker = { 8192, 2, 1 };
  const unsigned char salt[16] = "0123456789abcdef";

  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "correct horse battery", NULL, err, sizeof(err)), 0);
  ck_assert(!rr_password_needs_rehash(enc, NULL));
  ck_assert(!rr_password_needs_rehash(enc, &rr_password_default_params));
  ck_assert(rr_password_needs_rehash(enc, &strong));

  ck_assert_msg(rr_password_hash(enc, sizeof(enc), "correct horse battery", &strong, err, sizeof(err)) == 0, "%s", err);
  ck_assert(rr_str_starts_with(enc, "$argon2id$v=19$m=32768,t=3,p=1$"));
  ck_assert_int_eq(rr_password_verify(enc, "correct horse battery"), 0);
  ck_assert(!rr_password_needs_rehash(enc, &strong));
  ck_assert(!rr_password_needs_rehash(enc, NULL));

  /* a hash made elsewhere with weaker settings verifies but needs a re-hash */
  ck_assert_int_eq(argon2id_hash_encoded(2, 8192, 1, "pw", 2, salt, sizeof(salt), 32, weak, sizeof(weak)), ARGON2_OK);
  ck_assert_int_eq(rr_password_verify(weak, "pw"), 0);
  ck_assert(rr_password_needs_rehash(weak, NULL));
  ck_assert(!rr_password_needs_rehash(weak, &weaker));
  ck_assert(rr_password_needs_rehash("garbage", NULL));
  ck_assert(rr_password_needs_rehash(NULL, NULL));

  /* hashing refuses weaker or absurd parameters, and a small buffer */
  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "pw", &weaker, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "weaker"));
  strong.memory_kib = 8u * 1024u * 1024u;
  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "pw", &strong, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "exceed"));
  ck_assert_int_eq(rr_password_hash(enc, 40, "pw", NULL, err, sizeof(err)), RR_EFULL);
}
END_TEST

START_TEST(too_long_passwords_are_refused)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], err[256] = "";
  char *big = malloc(RR_PASSWORD_MAX_BYTES + 2);

  ck_assert_ptr_nonnull(big);
  memset(big, 'x', RR_PASSWORD_MAX_BYTES);
  big[RR_PASSWORD_MAX_BYTES] = '\0';
  ck_assert_msg(rr_password_hash(enc, sizeof(enc), big, NULL, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(rr_password_verify(enc, big), 0);
  big[RR_PASSWORD_MAX_BYTES] = 'x';
  big[RR_PASSWORD_MAX_BYTES + 1] = '\0';
  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), big, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_str_eq(enc, "");
  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), NULL, NULL, err, sizeof(err)), RR_EINVAL);
  free(big);
}
END_TEST

static void policy_fails(const char *pw, const char *user, unsigned min, const char *needle)
{
  char err[256] = "";
  ck_assert_int_eq(rr_password_check_policy(pw, user, min, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, needle) != NULL, "'%s' lacks '%s'", err, needle);
  if (pw != NULL && strlen(pw) > 8)
    ck_assert_ptr_null(strstr(err, pw));
}

START_TEST(policy)
{
  char err[256] = "";
  char *big = malloc(RR_PASSWORD_MAX_BYTES + 2);

  ck_assert_int_eq(rr_password_check_policy("long enough pass", "alice", 12, err, sizeof(err)), 0);
  policy_fails("short", "alice", 12, "at least 12 characters");
  policy_fails("", "alice", 12, "enter a password");
  policy_fails(NULL, "alice", 12, "enter a password");
  /* characters, not bytes: 11 characters in 22 bytes are too few, 12 are enough */
  policy_fails("ééééééééééé", NULL, 12, "too short");
  ck_assert_int_eq(rr_password_check_policy("éééééééééééa", NULL, 12, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_password_check_policy("日本語のパスワードです", NULL, 11, err, sizeof(err)), 0);
  policy_fails("日本語のパスワードです", NULL, 12, "too short");
  /* the user name in another case */
  policy_fails("Administrator", "administrator", 8, "user name");
  policy_fails("ADMINISTRATOR", "Administrator", 8, "user name");
  policy_fails("JOSÉ-ÉMILE-ŁUKASZ", "josé-émile-łukasz", 8, "user name");
  policy_fails("ΓΙΏΡΓΟΣ-ΠΑΠΑΣ", "γιώργος-παπας", 8, "user name");
  ck_assert_int_eq(rr_password_check_policy("administrator1", "administrator", 8, err, sizeof(err)), 0);
  /* one character repeated */
  policy_fails("aaaaaaaaaaaa", NULL, 12, "repeated");
  policy_fails("ééééééééééééé", NULL, 12, "repeated");
  ck_assert_int_eq(rr_password_check_policy("aaaaaaaaaaaA", NULL, 12, err, sizeof(err)), 0);
  /* invalid UTF-8 */
  policy_fails("abcdefgh\xff" "ijklmnop", NULL, 12, "UTF-8");
  /* 1024 bytes pass, 1025 do not */
  memset(big, 'a', RR_PASSWORD_MAX_BYTES);
  big[0] = 'b';
  big[RR_PASSWORD_MAX_BYTES] = '\0';
  ck_assert_int_eq(rr_password_check_policy(big, "alice", 12, err, sizeof(err)), 0);
  big[RR_PASSWORD_MAX_BYTES] = 'a';
  big[RR_PASSWORD_MAX_BYTES + 1] = '\0';
  ck_assert_int_eq(rr_password_check_policy(big, "alice", 12, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "1024 bytes"));
  free(big);
}
END_TEST

START_TEST(burn_takes_the_time_of_a_verify)
{
  char enc[RR_PASSWORD_ENCODED_SIZE], err[256] = "";
  struct timespec t0, t1, t2;
  double verify_ms = 1e9, burn_ms = 1e9;
  int i;

  ck_assert_int_eq(rr_password_hash(enc, sizeof(enc), "correct horse battery", NULL, err, sizeof(err)), 0);
  /* the fastest of a few runs each (the machine is shared; the first runs
   * also pay for page faults) */
  for (i = 0; i < 4; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(rr_password_verify(enc, "wrong password"), RR_EINVAL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rr_password_burn("wrong password");
    clock_gettime(CLOCK_MONOTONIC, &t2);
    if (elapsed_ms(&t0, &t1) < verify_ms)
      verify_ms = elapsed_ms(&t0, &t1);
    if (elapsed_ms(&t1, &t2) < burn_ms)
      burn_ms = elapsed_ms(&t1, &t2);
  }
  /* same parameters, so about the same time (loose bounds) */
  ck_assert_msg(burn_ms > verify_ms / 3 && burn_ms < verify_ms * 3, "verify %.1f ms, burn %.1f ms", verify_ms,
                burn_ms);
  rr_password_burn(NULL);
  rr_password_burn("");
}
END_TEST

int main(void)
{
  Suite *s = suite_create("password");
  TCase *tc = tcase_create("password");

  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, hash_and_verify_round_trip);
  tcase_add_test(tc, wrong_password_is_refused);
  tcase_add_test(tc, tampered_encoding_is_refused);
  tcase_add_test(tc, needs_rehash_compares_parameters);
  tcase_add_test(tc, too_long_passwords_are_refused);
  tcase_add_test(tc, policy);
  tcase_add_test(tc, burn_takes_the_time_of_a_verify);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
