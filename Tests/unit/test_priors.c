/* Priors (api/priors_api.h): which priors a caller sees, decided by the
 * role matrix and its study check as if the caller had opened each. */
#include "api/priors_api.h"
#include "auth/matrix.h"
#include "common.h"
#include "util/errors.h"

/* A study check that allows one study and fails for another. */
static int check_calls;
static int allow_one(void *ctx, const char *uid, const char *caller)
{
  (void)ctx;
  (void)caller;
  check_calls++;
  if (strcmp(uid, "1.2.666") == 0)
    return RR_ESTORE;
  return strcmp(uid, "1.2.3") == 0 ? 1 : 0;
}

START_TEST(physicians_see_only_what_the_study_check_allows)
{
  rr_matrix *m = NULL;
  char err[256];

  ck_assert_int_eq(rr_matrix_new(&m, "/api/", "/reading-room/", err, sizeof(err)), 0);
  rr_matrix_set_study_check(m, allow_one, NULL);
  check_calls = 0;
  ck_assert(rr_priors_visible(m, "/api/", RR_ROLE_PHYSICIAN, "1.2.3"));
  ck_assert(!rr_priors_visible(m, "/api/", RR_ROLE_PHYSICIAN, "1.2.4"));
  ck_assert(!rr_priors_visible(m, "/api/", RR_ROLE_PHYSICIAN, "1.2.666")); /* the check failed: not shown */
  ck_assert_int_eq(check_calls, 3);
  /* administrators and radiologists are not restricted by the check */
  ck_assert(rr_priors_visible(m, "/api/", RR_ROLE_RADIOLOGIST, "1.2.4"));
  ck_assert(rr_priors_visible(m, "/api/", RR_ROLE_ADMIN, "1.2.4"));
  ck_assert_int_eq(check_calls, 3);
  /* nobody signed in, no role: nothing */
  ck_assert(!rr_priors_visible(m, "/api/", RR_ROLE_ANONYMOUS, "1.2.3"));
  ck_assert(!rr_priors_visible(m, "/api/", 0, "1.2.3"));
  /* the default check (no final report exists yet): physicians see no prior */
  rr_matrix_set_study_check(m, NULL, NULL);
  ck_assert(!rr_priors_visible(m, "/api/", RR_ROLE_PHYSICIAN, "1.2.3"));
  rr_matrix_free(m);
}
END_TEST

START_TEST(other_roots_and_odd_input)
{
  rr_matrix *m = NULL;
  char err[256], uid[RR_ROOT_SIZE + RR_UID_SIZE + 64];

  ck_assert_int_eq(rr_matrix_new(&m, "/rr/api/", "/rr/web/", err, sizeof(err)), 0);
  ck_assert(rr_priors_visible(m, "/rr/api/", RR_ROLE_RADIOLOGIST, "1.2.3"));
  /* a path the matrix refuses (a segment that is not one) is never shown */
  ck_assert(!rr_priors_visible(m, "/rr/api/", RR_ROLE_RADIOLOGIST, "1.2/../x"));
  memset(uid, '1', sizeof(uid) - 1);
  uid[sizeof(uid) - 1] = '\0';
  ck_assert(!rr_priors_visible(m, "/rr/api/", RR_ROLE_RADIOLOGIST, uid)); /* too long for the path */
  rr_matrix_free(m);
  /* access control off: everything */
  ck_assert(rr_priors_visible(NULL, "/api/", 0, "1.2.3"));
}
END_TEST

/* A scope by name: only "Dr Who" is referring. */
static int referring_only(void *ctx, const char *uid, const char *caller)
{
  (void)ctx;
  (void)uid;
  return strcmp(caller, "Dr Who") == 0 ? 1 : 0;
}

START_TEST(the_study_check_knows_the_caller)
{
  rr_matrix *m = NULL;
  char err[256];

  ck_assert_int_eq(rr_matrix_new(&m, "/api/", "/reading-room/", err, sizeof(err)), 0);
  rr_matrix_set_study_check(m, referring_only, NULL);
  ck_assert(rr_priors_visible_as(m, "/api/", RR_ROLE_PHYSICIAN, "Dr Who", "1.2.3"));
  ck_assert(!rr_priors_visible_as(m, "/api/", RR_ROLE_PHYSICIAN, "Dr Other", "1.2.3"));
  ck_assert(!rr_priors_visible(m, "/api/", RR_ROLE_PHYSICIAN, "1.2.3")); /* no name: nobody's */
  rr_matrix_free(m);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("priors");
  TCase *tc = tcase_create("visibility");

  tcase_add_test(tc, physicians_see_only_what_the_study_check_allows);
  tcase_add_test(tc, other_roots_and_odd_input);
  tcase_add_test(tc, the_study_check_knows_the_caller);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
