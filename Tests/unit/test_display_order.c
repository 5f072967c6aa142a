#include "common.h"
#include "dicom/display_order.h"
#include "util/str.h"

static rr_instance_rec inst(const char *uid, int number, const char *pos, const char *ori)
{
  rr_instance_rec r;
  memset(&r, 0, sizeof(r));
  rr_str_copy(r.sop_instance_uid, sizeof(r.sop_instance_uid), uid);
  if (number >= 0) {
    r.has_instance_number = true;
    r.instance_number = number;
  }
  rr_str_copy(r.image_position, sizeof(r.image_position), pos);
  rr_str_copy(r.image_orientation, sizeof(r.image_orientation), ori);
  return r;
}

#define AXIAL "1\\0\\0\\0\\1\\0"

START_TEST(axial_by_position_not_number)
{
  rr_instance_rec v[4] = {
    inst("1.4", 1, "0\\0\\30", AXIAL), inst("1.1", 2, "0\\0\\-10", AXIAL),
    inst("1.3", 3, "0\\0\\20.5", AXIAL), inst("1.2", 4, "0\\0\\0", AXIAL)};
  ck_assert_int_eq(rr_dicom_display_order(v, 4), 0);
  ck_assert_str_eq(v[0].sop_instance_uid, "1.1");
  ck_assert_str_eq(v[1].sop_instance_uid, "1.2");
  ck_assert_str_eq(v[2].sop_instance_uid, "1.3");
  ck_assert_str_eq(v[3].sop_instance_uid, "1.4");
}
END_TEST

START_TEST(sagittal_uses_the_normal)
{
  /* sagittal: rows along y, columns along -z: the normal (row x column) is -x */
  const char *sag = "0\\1\\0\\0\\0\\-1";
  rr_instance_rec v[3] = {inst("c", 1, "5\\100\\100", sag), inst("a", 2, "-5\\0\\0", sag), inst("b", 3, "0\\-50\\7", sag)};
  ck_assert_int_eq(rr_dicom_display_order(v, 3), 0);
  ck_assert_str_eq(v[0].sop_instance_uid, "c");
  ck_assert_str_eq(v[1].sop_instance_uid, "b");
  ck_assert_str_eq(v[2].sop_instance_uid, "a");
}
END_TEST

START_TEST(without_geometry_by_number_then_uid)
{
  rr_instance_rec v[5] = {inst("z", -1, "", ""), inst("b", 10, "", ""), inst("a", 2, "", ""),
                          inst("c", 2, "", ""), inst("y", -1, "", "")};
  ck_assert_int_eq(rr_dicom_display_order(v, 5), 0);
  ck_assert_str_eq(v[0].sop_instance_uid, "a");
  ck_assert_str_eq(v[1].sop_instance_uid, "c");
  ck_assert_str_eq(v[2].sop_instance_uid, "b");
  ck_assert_str_eq(v[3].sop_instance_uid, "y");
  ck_assert_str_eq(v[4].sop_instance_uid, "z");
}
END_TEST

START_TEST(geometry_first_and_bad_values_tolerated)
{
  rr_instance_rec v[4] = {inst("nogeo", 1, "", ""), inst("bad", 2, "1\\x\\3", AXIAL),
                          inst("hi", 3, "0\\0\\5", AXIAL), inst("lo", 4, "0\\0\\1", AXIAL)};
  ck_assert_int_eq(rr_dicom_display_order(v, 4), 0);
  ck_assert_str_eq(v[0].sop_instance_uid, "lo");
  ck_assert_str_eq(v[1].sop_instance_uid, "hi");
  ck_assert_str_eq(v[2].sop_instance_uid, "nogeo");
  ck_assert_str_eq(v[3].sop_instance_uid, "bad");
  ck_assert_int_eq(rr_dicom_display_order(v, 0), 0);
  ck_assert_int_eq(rr_dicom_display_order(v, 1), 0);
}
END_TEST

START_TEST(degenerate_orientation_falls_back)
{
  rr_instance_rec v[2] = {inst("b", 2, "0\\0\\1", "1\\0\\0\\1\\0\\0"), inst("a", 1, "0\\0\\9", "1\\0\\0\\1\\0\\0")};
  ck_assert_int_eq(rr_dicom_display_order(v, 2), 0);
  ck_assert_str_eq(v[0].sop_instance_uid, "a");
}
END_TEST

int main(void)
{
  Suite *s = suite_create("display_order");
  TCase *tc = tcase_create("display order");
  tcase_add_test(tc, axial_by_position_not_number);
  tcase_add_test(tc, sagittal_uses_the_normal);
  tcase_add_test(tc, without_geometry_by_number_then_uid);
  tcase_add_test(tc, geometry_first_and_bad_values_tolerated);
  tcase_add_test(tc, degenerate_orientation_falls_back);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
