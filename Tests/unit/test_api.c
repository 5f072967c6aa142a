/* The API's pure parts: the error table (api/failure.h). */
#include "api/failure.h"
#include "common.h"
#include "util/errors.h"

START_TEST(error_table_is_complete_and_unique)
{
  int i, j;

  for (i = 0; i < RR_API_ERROR_COUNT; i++) {
    const rr_api_error_info *a = rr_api_error_info_of((rr_api_error)i);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(a->code);
    ck_assert_ptr_nonnull(a->meaning);
    ck_assert_msg(a->status >= 400 && a->status <= 599, "%s: status %d", a->code, a->status);
    /* a logged fault answers a generic sentence; only server faults are logged */
    ck_assert_msg(a->log == (a->message != NULL), "%s: message iff logged", a->code);
    ck_assert_msg(!a->log || a->status >= 500, "%s: only server faults are logged", a->code);
    for (j = 0; j < i; j++)
      ck_assert_str_ne(a->code, rr_api_error_info_of((rr_api_error)j)->code);
  }
  ck_assert_ptr_null(rr_api_error_info_of(RR_API_ERROR_COUNT));
  ck_assert_ptr_null(rr_api_error_info_of((rr_api_error)-1));
}
END_TEST

static void expect(int code, const char *wire, int status)
{
  const rr_api_error_info *e = rr_api_error_info_of(rr_api_error_of(code));
  ck_assert_str_eq(e->code, wire);
  ck_assert_int_eq(e->status, status);
}

/* What the routes sent before the table existed (the wire names the
 * integration tests and clients rely on). */
START_TEST(domain_codes_map_to_their_answers)
{
  expect(RR_EINVAL, "invalid_argument", 400);
  expect(RR_ELOCKED, "locked", 403);
  expect(RR_ENOTFOUND, "not_found", 404);
  expect(RR_ECONFLICT, "conflict", 409);
  expect(RR_EEXISTS, "already_exists", 409);
  expect(RR_EUNSUPPORTED, "unsupported", 415);
  expect(RR_EFULL, "too_large", 429);
  expect(RR_ENOMEM, "out_of_memory", 500);
  expect(RR_ESTOPPED, "stopping", 500);
  expect(RR_ERROR, "internal", 500);
  expect(-1000, "internal", 500);
  expect(RR_EUPSTREAM, "upstream_error", 502);
  expect(RR_ESTORE, "unavailable", 503);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("api");
  TCase *tc = tcase_create("errors");
  tcase_add_test(tc, error_table_is_complete_and_unique);
  tcase_add_test(tc, domain_codes_map_to_their_answers);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
