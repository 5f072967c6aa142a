#include <stdint.h>

#include "common.h"
#include "dicom/value.h"
#include "util/errors.h"

START_TEST(dicom_values_by_index)
{
  char v[16] = "unchanged";

  ck_assert(rr_dicom_value_at(v, sizeof(v), "ORIGINAL\\PRIMARY\\ AXIAL ", 2));
  ck_assert_str_eq(v, "AXIAL");
  ck_assert(rr_dicom_value_at(v, sizeof(v), "ORIGINAL\\PRIMARY", 0));
  ck_assert_str_eq(v, "ORIGINAL");
  ck_assert(rr_dicom_value_at(v, sizeof(v), "A\\\\C", 1)); /* empty middle value */
  ck_assert_str_eq(v, "");
  ck_assert(!rr_dicom_value_at(v, sizeof(v), "A\\B", 2));
  ck_assert(!rr_dicom_value_at(v, sizeof(v), NULL, 0));
  ck_assert(rr_dicom_value_at(v, sizeof(v), "0123456789ABCDEFGHIJ", 0)); /* truncated to fit */
  ck_assert_str_eq(v, "0123456789ABCDE");
}
END_TEST

START_TEST(first_values_as_numbers)
{
  double d = 0;
  int64_t v = 7;

  ck_assert_int_eq(rr_dicom_first_double(&d, " 40 \\400"), 0);
  ck_assert(d == 40.0);
  ck_assert_int_eq(rr_dicom_first_double(&d, "-1024.5"), 0);
  ck_assert(d == -1024.5);
  ck_assert_int_eq(rr_dicom_first_double(&d, NULL), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_first_double(&d, ""), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_first_double(&d, "\\400"), RR_EINVAL); /* empty first value */
  ck_assert_int_eq(rr_dicom_first_double(&d, "x\\400"), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_first_double(&d, "inf"), RR_EINVAL);

  ck_assert_int_eq(rr_dicom_first_i64(&v, "512 \\1", 0, 65535), 0);
  ck_assert_int_eq(v, 512);
  ck_assert_int_eq(rr_dicom_first_i64(&v, "-2000", -32768, 65535), 0);
  ck_assert_int_eq(v, -2000);
  ck_assert_int_eq(rr_dicom_first_i64(&v, "70000", -32768, 65535), RR_EINVAL);
  ck_assert_int_eq(v, -2000); /* untouched */
  ck_assert_int_eq(rr_dicom_first_i64(&v, "1.5", 0, 10), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_first_i64(&v, NULL, 0, 10), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_first_i64(&v, " ", 0, 10), RR_EINVAL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("dicom_value");
  TCase *tc = tcase_create("values");
  tcase_add_test(tc, dicom_values_by_index);
  tcase_add_test(tc, first_values_as_numbers);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
