#include <math.h>

#include "common.h"
#include "dicom/geometry.h"
#include "util/errors.h"

static bool near(double a, double b)
{
  return fabs(a - b) < 1e-9;
}

START_TEST(normals_are_row_cross_column)
{
  double n[3];

  ck_assert_int_eq(rr_dicom_slice_normal(n, "1\\0\\0\\0\\1\\0"), 0); /* axial: +z */
  ck_assert(near(n[0], 0) && near(n[1], 0) && near(n[2], 1));
  ck_assert_int_eq(rr_dicom_slice_normal(n, "0\\1\\0\\0\\0\\-1"), 0); /* sagittal: -x */
  ck_assert(near(n[0], -1) && near(n[1], 0) && near(n[2], 0));
  ck_assert_int_eq(rr_dicom_slice_normal(n, "1\\0\\0\\0\\0\\-1"), 0); /* coronal: +y */
  ck_assert(near(n[0], 0) && near(n[1], 1) && near(n[2], 0));
  /* not quite unit directions (rounded DS text): the normal is normalised */
  ck_assert_int_eq(rr_dicom_slice_normal(n, "2\\0\\0\\0\\3\\0"), 0);
  ck_assert(near(n[2], 1));
}
END_TEST

START_TEST(degenerate_or_malformed_orientations_have_no_normal)
{
  double n[3];

  ck_assert_int_eq(rr_dicom_slice_normal(n, "1\\0\\0\\1\\0\\0"), RR_EINVAL); /* parallel */
  ck_assert_int_eq(rr_dicom_slice_normal(n, "0\\0\\0\\0\\0\\0"), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_slice_normal(n, "1\\0\\0\\0\\1"), RR_EINVAL); /* five values */
  ck_assert_int_eq(rr_dicom_slice_normal(n, "1\\0\\0\\0\\1\\x"), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_slice_normal(n, ""), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_slice_normal(n, NULL), RR_EINVAL);
}
END_TEST

START_TEST(positions_project_on_the_normal)
{
  const double axial[3] = {0, 0, 1}, sagittal[3] = {-1, 0, 0};
  double d = 42;

  ck_assert_int_eq(rr_dicom_position_along(&d, axial, "-125\\-130.5\\85.25"), 0);
  ck_assert(near(d, 85.25));
  ck_assert_int_eq(rr_dicom_position_along(&d, sagittal, "5\\100\\100"), 0);
  ck_assert(near(d, -5));
  ck_assert_int_eq(rr_dicom_position_along(&d, axial, "1\\x\\3"), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_position_along(&d, axial, "1\\2"), RR_EINVAL);
  ck_assert_int_eq(rr_dicom_position_along(&d, axial, NULL), RR_EINVAL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("dicom_geometry");
  TCase *tc = tcase_create("geometry");
  tcase_add_test(tc, normals_are_row_cross_column);
  tcase_add_test(tc, degenerate_or_malformed_orientations_have_no_normal);
  tcase_add_test(tc, positions_project_on_the_normal);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
