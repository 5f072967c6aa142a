/*
 * test_volume_check.c - dicom/volume_check.h and dicom/volume_tags.h: every
 * reason a series is refused, gantry tilt from the tag and from the
 * positions (uniform: correctable with the right angle and shifts; not
 * uniform or too steep: refused), the acquisition plane and the labels of
 * the reformatted planes for axial, sagittal, coronal and oblique stacks,
 * and slices read from Orthanc's tags (enhanced multi-frame functional
 * groups with shared defaults).
 */
#include <math.h>
#include <string.h>

#include "common.h"
#include "dicom/volume_check.h"
#include "dicom/volume_tags.h"
#include "util/errors.h"

#define N 10
#define PI 3.14159265358979323846

static const double AXIAL[6] = {1, 0, 0, 0, 1, 0};
static const double SAGITTAL[6] = {0, 1, 0, 0, 0, -1};
static const double CORONAL[6] = {1, 0, 0, 0, 0, -1};

/* A stack of n slices 2 mm apart along the normal of `iop`, 0.5 mm pixels,
 * 256x256, one frame of reference; slice i is written at index
 * perm(i) so that the input is out of order. */
static void stack(rr_vol_slice *s, size_t n, const double iop[6])
{
  double normal[3] = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                      iop[0] * iop[4] - iop[1] * iop[3]};
  size_t i, k;

  memset(s, 0, n * sizeof(*s));
  for (i = 0; i < n; i++) {
    rr_vol_slice *x = &s[(i * 7) % n]; /* n = 10: a permutation */
    snprintf(x->instance_id, sizeof(x->instance_id), "inst-%02zu", i);
    for (k = 0; k < 3; k++)
      x->position[k] = -100.0 + 2.0 * (double)i * normal[k];
    memcpy(x->orientation, iop, sizeof(x->orientation));
    x->spacing[0] = x->spacing[1] = 0.5;
    x->has_position = x->has_orientation = x->has_spacing = true;
    x->rows = x->columns = 256;
    strcpy(x->frame_of_reference, "1.2.3.4");
  }
}

static rr_vol_result *check(const rr_vol_slice *s, size_t n)
{
  rr_vol_result *r = NULL;

  ck_assert_int_eq(rr_vol_check(&r, s, n), 0);
  ck_assert_ptr_nonnull(r);
  return r;
}

/* The result has exactly one reason and it contains `text`. */
static void expect_reason(const rr_vol_slice *s, size_t n, const char *text)
{
  rr_vol_result *r = check(s, n);

  ck_assert_msg(!r->reconstructable, "refused: %s", text);
  ck_assert_msg(r->reason_count == 1, "one reason for %s, got %zu (%s)", text, r->reason_count,
                r->reason_count ? r->reasons[0] : "");
  ck_assert_msg(strstr(r->reasons[0], text) != NULL, "'%s' in '%s'", text, r->reasons[0]);
  rr_vol_result_free(r);
}

static const rr_vol_view *view(const rr_vol_result *r, const char *name)
{
  size_t i;

  for (i = 0; i < 3; i++)
    if (strcmp(r->views[i].name, name) == 0)
      return &r->views[i];
  ck_abort_msg("no view %s", name);
  return NULL;
}

static void expect_labels(const rr_vol_result *r, const char *name, const char *right, const char *left, const char *top,
                          const char *bottom)
{
  const rr_vol_view *v = view(r, name);

  ck_assert_str_eq(v->label_right, right);
  ck_assert_str_eq(v->label_left, left);
  ck_assert_str_eq(v->label_top, top);
  ck_assert_str_eq(v->label_bottom, bottom);
}

START_TEST(axial_stack)
{
  rr_vol_slice s[N];
  rr_vol_result *r;
  size_t i;

  stack(s, N, AXIAL);
  r = check(s, N);
  ck_assert(r->reconstructable);
  ck_assert_uint_eq(r->reason_count, 0);
  ck_assert(r->has_geometry);
  ck_assert_str_eq(r->plane, "axial");
  ck_assert_uint_eq(r->order_count, N);
  for (i = 0; i < N; i++) { /* sorted along the normal, whatever the input order */
    char want[16];
    snprintf(want, sizeof(want), "inst-%02zu", i);
    ck_assert_str_eq(s[r->order[i]].instance_id, want);
  }
  ck_assert_double_eq_tol(r->origin[2], -100.0, 1e-9);
  ck_assert_double_eq_tol(r->spacing[0], 0.5, 1e-9);
  ck_assert_double_eq_tol(r->spacing[1], 0.5, 1e-9);
  ck_assert_double_eq_tol(r->spacing[2], 2.0, 1e-9);
  ck_assert_uint_eq(r->dimensions[0], 256);
  ck_assert_uint_eq(r->dimensions[1], 256);
  ck_assert_uint_eq(r->dimensions[2], N);
  ck_assert_uint_eq(r->bytes_int16, 256u * 256u * N * 2u);
  ck_assert_uint_eq(r->bytes_float32, 256u * 256u * N * 4u);
  ck_assert_double_eq_tol(r->normal[2], 1.0, 1e-12);
  ck_assert(!r->tilt.tilted && !r->tilt.has_tag && !r->tilt.correctable);
  ck_assert_double_eq_tol(r->tilt.from_positions, 0, 1e-9);
  expect_labels(r, "axial", "L", "R", "A", "P");
  expect_labels(r, "sagittal", "P", "A", "H", "F");
  expect_labels(r, "coronal", "L", "R", "H", "F");
  ck_assert_str_eq(view(r, "axial")->axis, "normal");
  ck_assert_str_eq(view(r, "sagittal")->axis, "row");
  ck_assert_str_eq(view(r, "coronal")->axis, "column");
  rr_vol_result_free(r);
}
END_TEST

START_TEST(every_reason)
{
  rr_vol_slice s[N];
  size_t i;

  stack(s, 2, AXIAL);
  expect_reason(s, 2, "fewer than 3 slices (2)");

  stack(s, N, AXIAL);
  s[3].rows = 512;
  expect_reason(s, N, "rows/columns differ (256x256 and 512x256)");

  stack(s, N, AXIAL);
  strcpy(s[4].frame_of_reference, "1.2.3.5");
  expect_reason(s, N, "2 frames of reference");

  stack(s, N, AXIAL);
  s[4].orientation[0] = 0.99;
  s[4].orientation[1] = 0.141;
  expect_reason(s, N, "orientations differ");

  stack(s, N, AXIAL);
  s[2].has_position = false;
  expect_reason(s, N, "1 slice without a position or orientation");

  stack(s, N, AXIAL);
  s[5].localizer = true;
  expect_reason(s, N, "a localizer among the slices");

  stack(s, N, AXIAL);
  for (i = 0; i < N; i++)
    s[i].has_spacing = false;
  expect_reason(s, N, "no pixel spacing");

  stack(s, N, AXIAL);
  s[6].spacing[1] = 0.7;
  expect_reason(s, N, "pixel spacing differs");

  /* two slices at the same position (a duplicate, or two stacks) */
  stack(s, N, AXIAL);
  for (i = 0; i < N; i++)
    if (strcmp(s[i].instance_id, "inst-05") == 0)
      s[i].position[2] = -100.0 + 2.0 * 4;
  expect_reason(s, N, "two slices at the same position");

  /* 3 slices missing: the stack with inst-02, -03 and -07 left out */
  {
    rr_vol_slice kept[N];
    size_t n = 0;
    stack(s, N, AXIAL);
    for (i = 0; i < N; i++)
      if (strcmp(s[i].instance_id, "inst-02") != 0 && strcmp(s[i].instance_id, "inst-03") != 0 &&
          strcmp(s[i].instance_id, "inst-07") != 0)
        kept[n++] = s[i];
    expect_reason(kept, n, "3 slices missing");
  }

  /* irregular: gaps of 1 and 5 mm */
  stack(s, N, AXIAL);
  for (i = 0; i < N; i++) {
    int k = atoi(s[i].instance_id + 5);
    s[i].position[2] = -100.0 + (k % 2 ? 1.0 : 0.0) + 6.0 * (k / 2);
  }
  expect_reason(s, N, "slice spacing varies between 1.0 and 5.0 mm");
}
END_TEST

START_TEST(spacing_tolerance)
{
  rr_vol_slice s[N];
  rr_vol_result *r;

  /* 0.5 % of the 2 mm gap: within the 1 % tolerance */
  stack(s, N, AXIAL);
  s[0].position[2] += 0.009;
  r = check(s, N);
  ck_assert_msg(r->reconstructable, "%s", r->reason_count ? r->reasons[0] : "");
  rr_vol_result_free(r);
  /* 0.05 mm off: no longer uniform */
  stack(s, N, AXIAL);
  s[0].position[2] += 0.05;
  r = check(s, N);
  ck_assert(!r->reconstructable);
  ck_assert_ptr_nonnull(strstr(r->reasons[0], "slice spacing varies between 1.95 and 2.00 mm"));
  rr_vol_result_free(r);
}
END_TEST

/* Slice positions shifted along the column direction by tan(angle) * z. */
static void tilt_stack(rr_vol_slice *s, double degrees, bool tag, bool uniform)
{
  size_t i;

  stack(s, N, AXIAL);
  for (i = 0; i < N; i++) {
    double z = s[i].position[2] + 100.0;
    s[i].position[1] += tan(degrees * PI / 180.0) * z * (uniform || i != 4 ? 1.0 : 1.5);
    s[i].has_tilt = tag;
    s[i].tilt = tag ? degrees : 0;
  }
}

START_TEST(tilt_uniform)
{
  rr_vol_slice s[N];
  rr_vol_result *r;
  double per_slice = tan(20 * PI / 180) * 2.0; /* mm along the columns per slice */
  int tag;

  for (tag = 0; tag < 2; tag++) {
    tilt_stack(s, 20, tag, true);
    r = check(s, N);
    ck_assert_msg(r->reconstructable, "%s", r->reason_count ? r->reasons[0] : "");
    ck_assert(r->tilt.tilted && r->tilt.uniform && r->tilt.correctable);
    ck_assert(r->tilt.has_tag == (tag != 0));
    if (tag)
      ck_assert_double_eq_tol(r->tilt.from_tag, 20, 1e-9);
    ck_assert_double_eq_tol(r->tilt.from_positions, 20, 1e-6);
    ck_assert_double_eq_tol(r->tilt.step_column_mm, per_slice, 1e-6);
    ck_assert_double_eq_tol(r->tilt.step_row_mm, 0, 1e-9);
    ck_assert_double_eq_tol(r->tilt.shift_rows, per_slice / 0.5, 1e-6);
    ck_assert_double_eq_tol(r->tilt.shift_columns, 0, 1e-9);
    ck_assert_double_eq_tol(r->tilt.offset_rows, 0, 1e-9);
    /* the spacing is along the normal, not along the tilted line */
    ck_assert_double_eq_tol(r->spacing[2], 2.0, 1e-9);
    ck_assert_uint_eq(r->dimensions[0], 256);
    ck_assert_uint_eq(r->dimensions[1], 256 + (uint32_t)ceil(per_slice / 0.5 * (N - 1)));
    ck_assert_str_eq(r->plane, "axial");
    rr_vol_result_free(r);
  }
  /* the other way: negative shifts, offsets make the indexes non-negative */
  tilt_stack(s, -15, true, true);
  r = check(s, N);
  ck_assert(r->tilt.correctable);
  ck_assert_double_eq_tol(r->tilt.from_positions, 15, 1e-6);
  ck_assert(r->tilt.shift_rows < 0);
  ck_assert_double_eq_tol(r->tilt.offset_rows, -r->tilt.shift_rows * (N - 1), 1e-9);
  ck_assert_double_eq_tol(r->origin[1], -100.0 - r->tilt.offset_rows * 0.5, 1e-9);
  rr_vol_result_free(r);
}
END_TEST

START_TEST(tilt_refused)
{
  rr_vol_slice s[N];
  rr_vol_result *r;

  tilt_stack(s, 20, true, false);
  expect_reason(s, N, "non-uniform gantry tilt");
  tilt_stack(s, 50, false, true);
  expect_reason(s, N, "gantry tilt of 50.0 degrees (at most 45 can be corrected)");
  /* the tag says tilted, the positions lie on the normal: the orientation
   * carries the tilt, nothing to correct */
  stack(s, N, AXIAL);
  s[0].has_tilt = true;
  s[0].tilt = 12;
  r = check(s, N);
  ck_assert(r->reconstructable);
  ck_assert(r->tilt.has_tag && !r->tilt.tilted && !r->tilt.correctable);
  ck_assert_double_eq_tol(r->tilt.from_tag, 12, 1e-9);
  rr_vol_result_free(r);
}
END_TEST

START_TEST(sagittal_and_coronal)
{
  rr_vol_slice s[N];
  rr_vol_result *r;

  stack(s, N, SAGITTAL);
  r = check(s, N);
  ck_assert(r->reconstructable);
  ck_assert_str_eq(r->plane, "sagittal");
  /* true axial and coronal planes from a sagittal acquisition */
  expect_labels(r, "axial", "L", "R", "A", "P");
  expect_labels(r, "sagittal", "P", "A", "H", "F");
  expect_labels(r, "coronal", "L", "R", "H", "F");
  ck_assert_str_eq(view(r, "sagittal")->axis, "normal");
  ck_assert_str_eq(view(r, "axial")->axis, "column");
  ck_assert_str_eq(view(r, "coronal")->axis, "row");
  ck_assert_double_eq_tol(fabs(r->normal[0]), 1.0, 1e-12);
  ck_assert_double_eq_tol(r->spacing[2], 2.0, 1e-9);
  rr_vol_result_free(r);

  stack(s, N, CORONAL);
  r = check(s, N);
  ck_assert(r->reconstructable);
  ck_assert_str_eq(r->plane, "coronal");
  expect_labels(r, "axial", "L", "R", "A", "P");
  expect_labels(r, "sagittal", "P", "A", "H", "F");
  expect_labels(r, "coronal", "L", "R", "H", "F");
  ck_assert_str_eq(view(r, "coronal")->axis, "normal");
  rr_vol_result_free(r);
}
END_TEST

START_TEST(oblique)
{
  rr_vol_slice s[N];
  rr_vol_result *r;
  double a = 10 * PI / 180, iop[6] = {1, 0, 0, 0, cos(a), -sin(a)};

  stack(s, N, iop);
  r = check(s, N);
  ck_assert(r->reconstructable);
  ck_assert_str_eq(r->plane, "oblique");
  ck_assert_str_eq(r->nearest_plane, "axial");
  ck_assert_double_eq_tol(r->oblique_degrees, 10, 1e-6);
  ck_assert_double_eq_tol(view(r, "axial")->oblique_degrees, 10, 1e-6);
  /* the volume-aligned axial plane: down is posterior tilted towards the feet */
  expect_labels(r, "axial", "L", "R", "AH", "PF");
  ck_assert(!r->tilt.tilted); /* oblique, not sheared */
  rr_vol_result_free(r);
}
END_TEST

START_TEST(direction_labels)
{
  char l[4];
  double v1[3] = {0.2, -0.9, 0.3}, v0[3] = {0, 0, 0}, v2[3] = {-1, 0, 0}, v3[3] = {0, 0, 0.0005};

  rr_vol_direction_label(l, v1);
  ck_assert_str_eq(l, "AHL");
  rr_vol_direction_label(l, v2);
  ck_assert_str_eq(l, "R");
  rr_vol_direction_label(l, v0);
  ck_assert_str_eq(l, "");
  rr_vol_direction_label(l, v3);
  ck_assert_str_eq(l, "");
}
END_TEST

START_TEST(bad_input)
{
  rr_vol_result *r = (rr_vol_result *)1;
  rr_vol_slice s[1];

  memset(s, 0, sizeof(s));
  ck_assert_int_eq(rr_vol_check(&r, s, 0), RR_EINVAL);
  ck_assert_ptr_null(r);
  rr_vol_result_free(NULL);
  rr_vol_slice_list_dispose(NULL);
}
END_TEST

/* ------------------------------------------------------------ from tags */

START_TEST(tags_single_frame)
{
  rr_vol_slice_list l = {0};
  char err[128] = "";
  json_object *t = json_tokener_parse(
      "{\"0020,0032\": \"-10\\\\-20.5\\\\30\", \"0020,0037\": \"1\\\\0\\\\0\\\\0\\\\1\\\\0\","
      " \"0028,0030\": \"0.7\\\\0.6\", \"0028,0010\": \"512\", \"0028,0011\": \"256\","
      " \"0020,0052\": \"1.2.3 \", \"0018,1120\": \"-15.5\", \"0018,0050\": \"3\","
      " \"0008,0008\": \"ORIGINAL\\\\PRIMARY\\\\AXIAL\"}");

  ck_assert_int_eq(rr_vol_tags_read(&l, "abc", t, err, sizeof(err)), 0);
  ck_assert_uint_eq(l.count, 1);
  ck_assert_str_eq(l.items[0].instance_id, "abc");
  ck_assert(l.items[0].has_position && l.items[0].has_orientation && l.items[0].has_spacing);
  ck_assert_double_eq(l.items[0].position[1], -20.5);
  ck_assert_double_eq(l.items[0].spacing[0], 0.7);
  ck_assert_uint_eq(l.items[0].rows, 512);
  ck_assert_uint_eq(l.items[0].columns, 256);
  ck_assert_str_eq(l.items[0].frame_of_reference, "1.2.3");
  ck_assert(l.items[0].has_tilt);
  ck_assert_double_eq(l.items[0].tilt, -15.5);
  ck_assert_double_eq(l.items[0].thickness, 3);
  ck_assert(!l.items[0].localizer);
  json_object_put(t);
  t = json_tokener_parse("{\"0008,0008\": \"ORIGINAL\\\\PRIMARY\\\\LOCALIZER\", \"0028,0030\": null}");
  ck_assert_int_eq(rr_vol_tags_read(&l, "def", t, err, sizeof(err)), 0);
  ck_assert_uint_eq(l.count, 2);
  ck_assert(l.items[1].localizer);
  ck_assert(!l.items[1].has_position && !l.items[1].has_spacing);
  json_object_put(t);
  rr_vol_slice_list_dispose(&l);
  ck_assert_uint_eq(l.count, 0);
}
END_TEST

/* An enhanced multi-frame: orientation, pixel measures and tilt shared,
 * positions per frame, frame 2 overriding the pixel spacing. */
START_TEST(tags_enhanced)
{
  rr_vol_slice_list l = {0};
  rr_vol_result *r;
  char err[128] = "";
  json_object *t = json_tokener_parse(
      "{\"0028,0008\": \"4\", \"0028,0010\": \"64\", \"0028,0011\": \"64\", \"0020,0052\": \"9.8.7\","
      " \"5200,9229\": [{\"0020,9116\": [{\"0020,0037\": \"0\\\\1\\\\0\\\\0\\\\0\\\\-1\"}],"
      "                  \"0028,9110\": [{\"0028,0030\": \"1.5\\\\1.5\", \"0018,0050\": \"1.2\"}],"
      "                  \"0018,9321\": [{\"0018,1120\": \"0\"}]}],"
      " \"5200,9230\": ["
      "   {\"0020,9113\": [{\"0020,0032\": \"-3.6\\\\0\\\\0\"}]},"
      "   {\"0020,9113\": [{\"0020,0032\": \"0\\\\0\\\\0\"}]},"
      "   {\"0020,9113\": [{\"0020,0032\": \"-1.2\\\\0\\\\0\"}], \"0028,9110\": [{\"0028,0030\": \"1\\\\1\"}]},"
      "   {\"0020,9113\": [{\"0020,0032\": \"-2.4\\\\0\\\\0\"}]}]}");

  ck_assert_int_eq(rr_vol_tags_read(&l, "mf", t, err, sizeof(err)), 0);
  ck_assert_uint_eq(l.count, 4);
  ck_assert_uint_eq(l.items[3].frame, 3);
  ck_assert(l.items[0].has_orientation && l.items[3].has_orientation);
  ck_assert_double_eq(l.items[3].orientation[5], -1);
  ck_assert_double_eq(l.items[0].spacing[0], 1.5);
  ck_assert_double_eq(l.items[2].spacing[0], 1); /* the frame's own */
  ck_assert_double_eq(l.items[1].thickness, 1.2);
  ck_assert(l.items[1].has_tilt);
  ck_assert_str_eq(l.items[1].frame_of_reference, "9.8.7");
  r = check(l.items, l.count);
  ck_assert(!r->reconstructable);
  ck_assert_str_eq(r->reasons[0], "pixel spacing differs");
  rr_vol_result_free(r);
  /* the same without the override: a sagittal stack 1.2 mm apart, frames
   * in the order 0, 2, 3, 1... along the normal (-x): 1, 2, 3, 0 */
  l.items[2].spacing[0] = l.items[2].spacing[1] = 1.5;
  r = check(l.items, l.count);
  ck_assert_msg(r->reconstructable, "%s", r->reason_count ? r->reasons[0] : "");
  ck_assert_str_eq(r->plane, "sagittal");
  ck_assert_double_eq_tol(r->spacing[2], 1.2, 1e-9);
  ck_assert_uint_eq(l.items[r->order[0]].frame, 1);
  ck_assert_uint_eq(l.items[r->order[3]].frame, 0);
  rr_vol_result_free(r);
  json_object_put(t);
  rr_vol_slice_list_dispose(&l);
}
END_TEST

START_TEST(tags_multiframe_without_groups)
{
  rr_vol_slice_list l = {0};
  rr_vol_result *r;
  char err[128] = "";
  json_object *t = json_tokener_parse("{\"0028,0008\": \"5\", \"0020,0032\": \"0\\\\0\\\\0\","
                                      " \"0020,0037\": \"1\\\\0\\\\0\\\\0\\\\1\\\\0\"}");

  ck_assert_int_eq(rr_vol_tags_read(&l, "legacy", t, err, sizeof(err)), 0);
  ck_assert_uint_eq(l.count, 5);
  ck_assert(!l.items[0].has_position && l.items[0].has_orientation);
  r = check(l.items, l.count);
  ck_assert(!r->reconstructable);
  ck_assert_str_eq(r->reasons[0], "5 slices without a position or orientation");
  ck_assert(!r->has_geometry);
  rr_vol_result_free(r);
  json_object_put(t);
  t = json_tokener_parse("{\"0028,0008\": \"many\"}");
  ck_assert_int_eq(rr_vol_tags_read(&l, "bad", t, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "NumberOfFrames"));
  ck_assert_uint_eq(l.count, 5);
  json_object_put(t);
  rr_vol_slice_list_dispose(&l);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("volume_check");
  TCase *tc = tcase_create("volume_check");
  tcase_add_test(tc, axial_stack);
  tcase_add_test(tc, every_reason);
  tcase_add_test(tc, spacing_tolerance);
  tcase_add_test(tc, tilt_uniform);
  tcase_add_test(tc, tilt_refused);
  tcase_add_test(tc, sagittal_and_coronal);
  tcase_add_test(tc, oblique);
  tcase_add_test(tc, direction_labels);
  tcase_add_test(tc, bad_input);
  tcase_add_test(tc, tags_single_frame);
  tcase_add_test(tc, tags_enhanced);
  tcase_add_test(tc, tags_multiframe_without_groups);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
