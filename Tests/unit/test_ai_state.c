/*
 * store/ai_state: names and parsing of the AI analysis states, which are
 * final, and that every name fits the store's record field.
 */
#include "common.h"
#include "store/ai_state.h"
#include "store/records.h"
#include "util/errors.h"

START_TEST(names_round_trip)
{
  rr_ai_analysis a;
  rr_ai_state s;
  unsigned i;

  for (i = 0; i < RR_AI_STATE_COUNT; i++) {
    const char *name = rr_ai_state_name((rr_ai_state)i);
    ck_assert_str_ne(name, "");
    ck_assert_uint_lt(strlen(name), RR_AI_STATE_NAME_SIZE);
    ck_assert_uint_lt(strlen(name), sizeof(a.status));
    ck_assert_int_eq(rr_ai_state_parse(&s, name), 0);
    ck_assert_int_eq(s, (rr_ai_state)i);
    ck_assert(rr_ai_state_is(name, (rr_ai_state)i));
  }
  ck_assert_str_eq(rr_ai_state_name(RR_AI_STATE_QUEUED), "queued");
  ck_assert_str_eq(rr_ai_state_name(RR_AI_STATE_CANCELLED), "cancelled");
  ck_assert_str_eq(rr_ai_state_name(RR_AI_STATE_COUNT), "");
  ck_assert_str_eq(rr_ai_state_name((rr_ai_state)-1), "");
}
END_TEST

START_TEST(unknown_names_are_refused)
{
  rr_ai_state s = RR_AI_STATE_FAILED;

  ck_assert_int_eq(rr_ai_state_parse(&s, "none"), RR_EINVAL); /* the API's "no analysis", not a state */
  ck_assert_int_eq(rr_ai_state_parse(&s, "Queued"), RR_EINVAL);
  ck_assert_int_eq(rr_ai_state_parse(&s, ""), RR_EINVAL);
  ck_assert_int_eq(rr_ai_state_parse(&s, NULL), RR_EINVAL);
  ck_assert_int_eq(s, RR_AI_STATE_FAILED);
  ck_assert(!rr_ai_state_is(NULL, RR_AI_STATE_QUEUED));
  ck_assert(!rr_ai_state_is("queued", RR_AI_STATE_RUNNING));
  ck_assert(!rr_ai_state_is("queued", RR_AI_STATE_COUNT));
}
END_TEST

START_TEST(only_queued_and_running_are_in_progress)
{
  unsigned i;

  for (i = 0; i < RR_AI_STATE_COUNT; i++)
    ck_assert_int_eq(rr_ai_state_is_final((rr_ai_state)i), i != RR_AI_STATE_QUEUED && i != RR_AI_STATE_RUNNING);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ai_state");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, names_round_trip);
  tcase_add_test(tc, unknown_names_are_refused);
  tcase_add_test(tc, only_queued_and_running_are_in_progress);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
