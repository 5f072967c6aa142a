/*
 * store/store_list.c: the one list behind the store's lists (growth, push,
 * free with per-element disposal).
 */
#include "common.h"
#include "store/store_list.h"
#include "util/errors.h"

START_TEST(push_grows_and_counts)
{
  rr_user_list *l = rr_store_list_new(&rr_user_list_kind);
  size_t cap = 0, i;
  rr_user_rec *u;

  ck_assert_ptr_nonnull(l);
  ck_assert_ptr_null(l->items);
  for (i = 0; i < 5; i++) {
    u = rr_store_list_push(&rr_user_list_kind, l, &cap, 2);
    ck_assert_ptr_nonnull(u);
    ck_assert_str_eq(u->username, ""); /* zeroed */
    snprintf(u->username, sizeof(u->username), "u%zu", i);
  }
  ck_assert_uint_eq(l->count, 5);
  ck_assert_uint_eq(cap, 8); /* 2, 4, 8 */
  ck_assert_str_eq(l->items[4].username, "u4");
  rr_user_list_free(l);
}
END_TEST

START_TEST(reserve_keeps_the_count)
{
  rr_id_list *l = rr_store_list_new(&rr_id_list_kind);
  size_t cap = 0;

  ck_assert_int_eq(rr_store_list_reserve(&rr_id_list_kind, l, &cap, 0), 0);
  ck_assert_ptr_null(l->ids);
  ck_assert_int_eq(rr_store_list_reserve(&rr_id_list_kind, l, &cap, 10), 0);
  ck_assert_ptr_nonnull(l->ids); /* an empty answer still has an array */
  ck_assert_uint_eq(cap, 10);
  ck_assert_uint_eq(l->count, 0);
  ck_assert_ptr_nonnull(rr_store_list_push(&rr_id_list_kind, l, &cap, 10));
  ck_assert_uint_eq(cap, 10);
  rr_id_list_free(l);
}
END_TEST

START_TEST(free_disposes_what_elements_own)
{
  rr_ai_review_list *reviews = rr_store_list_new(&rr_ai_review_list_kind);
  rr_study_detail *d = rr_store_list_new(&rr_study_detail_kind);
  rr_ai_review *r;
  rr_series_detail *sd;
  size_t cap = 0, icap = 0;

  r = rr_store_list_push(&rr_ai_review_list_kind, reviews, &cap, 1);
  r->notes = strdup("notes");
  r->feedback_json = strdup("[]");
  ck_assert_ptr_nonnull(rr_store_list_push(&rr_ai_review_list_kind, reviews, &cap, 1)); /* partly read: NULLs */
  rr_ai_review_list_free(reviews); /* both released (the sanitizer build would see a leak) */

  cap = 0;
  sd = rr_store_list_push(&rr_study_detail_kind, d, &cap, 4);
  ck_assert_ptr_nonnull(rr_store_list_push(&rr_series_detail_kind, sd, &icap, 3));
  ck_assert_uint_eq(d->series[0].instance_count, 1);
  rr_study_detail_free(d);

  rr_ai_list_free(NULL);
  rr_store_list_free(&rr_audit_list_kind, NULL);
}
END_TEST

START_TEST(grow_doubles_from_first)
{
  int *items = NULL;
  size_t cap = 0;

  ck_assert_int_eq(rr_store_grow((void **)&items, &cap, 0, sizeof(int), 0), 0);
  ck_assert_uint_eq(cap, 1); /* at least one */
  ck_assert_int_eq(rr_store_grow((void **)&items, &cap, 0, sizeof(int), 8), 0);
  ck_assert_uint_eq(cap, 1); /* room already */
  ck_assert_int_eq(rr_store_grow((void **)&items, &cap, 1, sizeof(int), 8), 0);
  ck_assert_uint_eq(cap, 2);
  free(items);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("store lists");
  TCase *tc = tcase_create("lists");
  tcase_add_test(tc, push_grows_and_counts);
  tcase_add_test(tc, reserve_keeps_the_count);
  tcase_add_test(tc, free_disposes_what_elements_own);
  tcase_add_test(tc, grow_doubles_from_first);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
