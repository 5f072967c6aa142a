/*
 * test_select.c - which images of a study go to a model: the skip rules,
 * even spreading, geometric order, radiographs, multi-frame instances and
 * the per-request cap.
 */
#include "common.h"
#include "ai/select.h"
#include "util/errors.h"

#define CT "1.2.840.10008.5.1.4.1.1.2"
#define ENHANCED_CT "1.2.840.10008.5.1.4.1.1.2.1"
#define CR "1.2.840.10008.5.1.4.1.1.1"
#define DX "1.2.840.10008.5.1.4.1.1.1.1"
#define BREAST_TOMO "1.2.840.10008.5.1.4.1.1.13.1.3"

static void make_inst(rr_instance_rec *r, const char *series_id, int index, const char *sop_class, int number,
                      double z, int64_t frames)
{
  memset(r, 0, sizeof(*r));
  snprintf(r->orthanc_id, sizeof(r->orthanc_id), "%s-i%03d", series_id, index);
  snprintf(r->series_orthanc_id, sizeof(r->series_orthanc_id), "%s", series_id);
  snprintf(r->sop_instance_uid, sizeof(r->sop_instance_uid), "1.2.3.%d", 1000 + index);
  snprintf(r->sop_class_uid, sizeof(r->sop_class_uid), "%s", sop_class);
  r->has_instance_number = number >= 0;
  r->instance_number = number;
  r->number_of_frames = frames;
  if (z == z) { /* not NaN: with geometry */
    snprintf(r->image_position, sizeof(r->image_position), "-100\\-100\\%g", z);
    snprintf(r->image_orientation, sizeof(r->image_orientation), "1\\0\\0\\0\\1\\0");
  }
}

/* A series of n slices whose storage order and instance numbers run against
 * their position (z = -2 * k for storage index k). */
static void make_ct(rr_series_detail *sd, rr_instance_rec *recs, const char *id, size_t n)
{
  size_t k;

  memset(sd, 0, sizeof(*sd));
  snprintf(sd->series.orthanc_id, sizeof(sd->series.orthanc_id), "%s", id);
  snprintf(sd->series.modality, sizeof(sd->series.modality), "CT");
  snprintf(sd->series.series_description, sizeof(sd->series.series_description), "LOW DOSE CHEST");
  for (k = 0; k < n; k++)
    make_inst(&recs[k], id, (int)k, CT, (int)k + 1, -2.0 * (double)k, 1);
  sd->instances = recs;
  sd->instance_count = n;
}

static rr_selection *select_ok(const rr_series_detail *s, size_t n, const rr_select_extra *const *extras,
                               uint32_t per_series, uint32_t max_images)
{
  rr_select_options o = {per_series, max_images};
  rr_selection *sel = NULL;
  char err[256] = "";

  ck_assert_msg(rr_select_images(&sel, s, n, extras, &o, err, sizeof(err)) == 0, "select: %s", err);
  ck_assert_ptr_nonnull(sel);
  return sel;
}

START_TEST(skip_reasons)
{
  static const struct {
    const char *sop;
    rr_skip_reason want;
  } cases[] = {
    {CT, RR_SKIP_NONE}, {ENHANCED_CT, RR_SKIP_NONE}, {CR, RR_SKIP_NONE}, {DX, RR_SKIP_NONE},
    {"1.2.840.10008.5.1.4.1.1.4", RR_SKIP_NONE},          /* MR */
    {"1.2.840.10008.5.1.4.1.1.12.1", RR_SKIP_NONE},       /* XA */
    {"1.2.840.10008.5.1.4.1.1.128", RR_SKIP_NONE},        /* PET */
    {"1.2.840.10008.5.1.4.1.1.77.1.4", RR_SKIP_NONE},     /* VL photographic */
    {BREAST_TOMO, RR_SKIP_NONE},
    {"1.2.840.10008.5.1.4.1.1.88.11", RR_SKIP_NOT_IMAGE}, /* basic text SR */
    {"1.2.840.10008.5.1.4.1.1.88.67", RR_SKIP_NOT_IMAGE}, /* dose SR */
    {"1.2.840.10008.5.1.4.1.1.88.59", RR_SKIP_NOT_IMAGE}, /* KO */
    {"1.2.840.10008.5.1.4.1.1.104.1", RR_SKIP_NOT_IMAGE}, /* encapsulated PDF */
    {"1.2.840.10008.5.1.4.1.1.66.4", RR_SKIP_NOT_IMAGE},  /* SEG */
    {"1.2.840.10008.5.1.4.1.1.66", RR_SKIP_NOT_IMAGE},    /* raw data */
    {"1.2.840.10008.5.1.4.1.1.481.3", RR_SKIP_NOT_IMAGE}, /* RT structure set */
    {"1.2.840.10008.5.1.4.1.1.481.1", RR_SKIP_NOT_IMAGE}, /* RT image */
    {"1.2.840.10008.5.1.4.1.1.9.1.1", RR_SKIP_NOT_IMAGE}, /* 12-lead ECG */
    {"1.2.840.10008.5.1.4.1.1.11.1", RR_SKIP_NOT_IMAGE},  /* GSPS */
    {"1.2.840.10008.5.1.4.1.1.30", RR_SKIP_NOT_IMAGE},    /* parametric map */
    {"1.2.840.10008.5.1.4.1.1.4.2", RR_SKIP_NOT_IMAGE},   /* MR spectroscopy */
    {"1.2.840.10008.5.1.4.1.1.91.1", RR_SKIP_NOT_IMAGE},  /* microscopy annotations */
    {"1.2.840.10008.5.1.4.38.1", RR_SKIP_NOT_IMAGE},      /* hanging protocol */
    {"1.3.12.2.1107.5.9.1", RR_SKIP_NOT_IMAGE},           /* private (Siemens CSA non-image) */
    {"", RR_SKIP_NOT_IMAGE},
    {"1.2.840.10008.5.1.4.1.1.7", RR_SKIP_SECONDARY_CAPTURE},
    {"1.2.840.10008.5.1.4.1.1.7.4", RR_SKIP_SECONDARY_CAPTURE},
  };
  rr_instance_rec r;
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    make_inst(&r, "s", 0, cases[i].sop, 1, 0, 1);
    ck_assert_msg(rr_select_skip_reason(&r, NULL, NULL) == cases[i].want, "%s: %s", cases[i].sop,
                  rr_skip_reason_name(rr_select_skip_reason(&r, NULL, NULL)));
  }
  ck_assert_int_eq(rr_select_skip_reason(NULL, NULL, NULL), RR_SKIP_NOT_IMAGE);
}
END_TEST

START_TEST(skip_by_image_type_and_flags)
{
  rr_instance_rec r;
  rr_select_extra ex;

  make_inst(&r, "s", 0, CT, 1, 0, 1);
  memset(&ex, 0, sizeof(ex));
  ex.image_type = "ORIGINAL\\PRIMARY\\AXIAL";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, "Chest 1.0"), RR_SKIP_NONE);
  ex.image_type = "ORIGINAL\\PRIMARY\\LOCALIZER";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_LOCALIZER);
  ex.image_type = "ORIGINAL\\PRIMARY\\ localizer ";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_LOCALIZER);
  ex.image_type = "ORIGINAL\\PRIMARY\\TOPOGRAM";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_LOCALIZER);
  ex.image_type = "ORIGINAL\\PRIMARY";
  ex.is_localizer = true;
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_LOCALIZER);
  ex.is_localizer = false;
  ex.image_type = "DERIVED\\SECONDARY\\AXIAL";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_SECONDARY);
  ex.image_type = "DERIVED\\PRIMARY\\AXIAL\\CT_SOM5 SPI";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_NONE);
  ex.image_type = "DERIVED\\SECONDARY\\SCREEN SAVE";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_DOSE_SCREEN);
  ex.image_type = "DERIVED\\SECONDARY\\OTHER\\CT_SOM5 DOSE";
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_DOSE_SCREEN);
  ex.image_type = NULL;
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, "Dose Report"), RR_SKIP_DOSE_SCREEN);
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, "PATIENT PROTOCOL"), RR_SKIP_DOSE_SCREEN);
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, "LOW DOSE CHEST"), RR_SKIP_NONE);
  ex.burned_in = true;
  ck_assert_int_eq(rr_select_skip_reason(&r, &ex, NULL), RR_SKIP_BURNED_IN);
  ck_assert_str_eq(rr_skip_reason_name(RR_SKIP_BURNED_IN), "burned_in_annotation");
  ck_assert_str_eq(rr_skip_reason_name(RR_SKIP_LOCALIZER), "localizer");
  ck_assert_str_eq(rr_skip_reason_name((rr_skip_reason)99), "unknown");
}
END_TEST

START_TEST(spread_even_first_last)
{
  uint32_t o[16];
  size_t i;

  ck_assert_uint_eq(rr_select_spread(o, 8, 100), 8);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[7], 99);
  for (i = 1; i < 8; i++) {
    ck_assert_uint_gt(o[i], o[i - 1]);
    ck_assert_int_le(abs((int)(o[i] - o[i - 1]) - 14), 1);
  }
  ck_assert_uint_eq(rr_select_spread(o, 8, 5), 5);
  for (i = 0; i < 5; i++)
    ck_assert_uint_eq(o[i], i);
  ck_assert_uint_eq(rr_select_spread(o, 8, 9), 8); /* step just above 1: all distinct */
  for (i = 1; i < 8; i++)
    ck_assert_uint_gt(o[i], o[i - 1]);
  ck_assert_uint_eq(o[7], 8);
  ck_assert_uint_eq(rr_select_spread(o, 1, 10), 1);
  ck_assert_uint_eq(o[0], 4);
  ck_assert_uint_eq(rr_select_spread(o, 2, 10), 2);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[1], 9);
  ck_assert_uint_eq(rr_select_spread(o, 3, 11), 3);
  ck_assert_uint_eq(o[1], 5);
  ck_assert_uint_eq(rr_select_spread(o, 0, 10), 0);
  ck_assert_uint_eq(rr_select_spread(o, 4, 0), 0);
}
END_TEST

START_TEST(series_in_geometric_order_without_localizers)
{
  static rr_instance_rec recs[31];
  rr_select_extra ex[31];
  const rr_select_extra *extras[1] = {ex};
  rr_series_detail sd;
  rr_selection *sel;
  size_t i;

  make_ct(&sd, recs, "ct", 31);
  memset(ex, 0, sizeof(ex));
  /* storage index 30 is a localizer (no geometry along the stack) */
  ex[30].image_type = "ORIGINAL\\PRIMARY\\LOCALIZER";
  ex[5].burned_in = true;
  sel = select_ok(&sd, 1, extras, 0, 0);
  ck_assert_uint_eq(sel->count, RR_SELECT_DEFAULT_PER_SERIES);
  ck_assert_uint_eq(sel->skipped[RR_SKIP_LOCALIZER], 1);
  ck_assert_uint_eq(sel->skipped[RR_SKIP_BURNED_IN], 1);
  ck_assert_uint_eq(sel->capped, 0);
  /* kept: storage 0..29 without 5; display order is ascending z, i.e.
   * storage 29 (z = -58) first and storage 0 (z = 0) last */
  ck_assert_str_eq(sel->items[0].orthanc_id, "ct-i029");
  ck_assert_str_eq(sel->items[7].orthanc_id, "ct-i000");
  ck_assert_str_eq(sel->items[0].sop_instance_uid, "1.2.3.1029");
  ck_assert_str_eq(sel->items[0].series_orthanc_id, "ct");
  for (i = 0; i < sel->count; i++) {
    ck_assert_uint_eq(sel->items[i].frame, 0);
    ck_assert_str_ne(sel->items[i].orthanc_id, "ct-i030");
    ck_assert_str_ne(sel->items[i].orthanc_id, "ct-i005");
    if (i > 0) /* z ascends: storage index descends */
      ck_assert_int_lt(strcmp(sel->items[i].orthanc_id, sel->items[i - 1].orthanc_id), 0);
  }
  rr_selection_free(sel);

  /* fewer slices than N: all of them */
  make_ct(&sd, recs, "ct", 5);
  sel = select_ok(&sd, 1, NULL, 8, 0);
  ck_assert_uint_eq(sel->count, 5);
  ck_assert_str_eq(sel->items[0].orthanc_id, "ct-i004");
  rr_selection_free(sel);
  /* N configurable */
  make_ct(&sd, recs, "ct", 30);
  sel = select_ok(&sd, 1, NULL, 3, 0);
  ck_assert_uint_eq(sel->count, 3);
  ck_assert_str_eq(sel->items[0].orthanc_id, "ct-i029");
  ck_assert_str_eq(sel->items[2].orthanc_id, "ct-i000");
  rr_selection_free(sel);
}
END_TEST

START_TEST(radiographs_take_every_view)
{
  rr_instance_rec cr[3], mg[3];
  rr_series_detail sd[2];
  rr_select_extra ex[3];
  const rr_select_extra *extras[2] = {NULL, ex};
  rr_selection *sel;
  size_t i;
  int k;

  memset(sd, 0, sizeof(sd));
  for (k = 0; k < 3; k++)
    make_inst(&cr[k], "cr", k, k == 2 ? DX : CR, 3 - k, 0.0 / 0.0, 1);
  snprintf(sd[0].series.modality, sizeof(sd[0].series.modality), "CR");
  sd[0].instances = cr;
  sd[0].instance_count = 3;
  /* mammography: two views and a tomosynthesis volume of 50 frames (told by
   * the extra, the record says 1) */
  for (k = 0; k < 3; k++)
    make_inst(&mg[k], "mg", k, k == 2 ? BREAST_TOMO : "1.2.840.10008.5.1.4.1.1.1.2", k + 1, 0.0 / 0.0, 1);
  memset(ex, 0, sizeof(ex));
  ex[0].image_type = "DERIVED\\PRIMARY";
  ex[2].number_of_frames = 50;
  snprintf(sd[1].series.modality, sizeof(sd[1].series.modality), " MG");
  sd[1].instances = mg;
  sd[1].instance_count = 3;

  sel = select_ok(sd, 2, extras, 2, 0); /* N = 2 does not limit single radiographs */
  ck_assert_uint_eq(sel->count, 3 + 2 + 2);
  /* by instance number when there is no geometry */
  ck_assert_str_eq(sel->items[0].orthanc_id, "cr-i002");
  ck_assert_str_eq(sel->items[1].orthanc_id, "cr-i001");
  ck_assert_str_eq(sel->items[2].orthanc_id, "cr-i000");
  ck_assert_str_eq(sel->items[3].orthanc_id, "mg-i000");
  ck_assert_str_eq(sel->items[4].orthanc_id, "mg-i001");
  ck_assert_str_eq(sel->items[5].orthanc_id, "mg-i002");
  ck_assert_uint_eq(sel->items[5].frame, 0);
  ck_assert_str_eq(sel->items[6].orthanc_id, "mg-i002");
  ck_assert_uint_eq(sel->items[6].frame, 49);
  for (i = 0; i < 5; i++)
    ck_assert_uint_eq(sel->items[i].frame, 0);
  rr_selection_free(sel);
}
END_TEST

START_TEST(multiframe_frames_spread)
{
  rr_instance_rec r[3];
  rr_series_detail sd;
  rr_selection *sel;
  size_t i;

  memset(&sd, 0, sizeof(sd));
  snprintf(sd.series.modality, sizeof(sd.series.modality), "CT");
  make_inst(&r[0], "ect", 0, ENHANCED_CT, 1, 0.0 / 0.0, 100);
  sd.instances = r;
  sd.instance_count = 1;
  sel = select_ok(&sd, 1, NULL, 0, 0);
  ck_assert_uint_eq(sel->count, 8);
  ck_assert_uint_eq(sel->items[0].frame, 0);
  ck_assert_uint_eq(sel->items[7].frame, 99);
  for (i = 0; i < 8; i++) {
    ck_assert_str_eq(sel->items[i].orthanc_id, "ect-i000");
    if (i > 0)
      ck_assert_uint_gt(sel->items[i].frame, sel->items[i - 1].frame);
  }
  rr_selection_free(sel);

  /* frames of several instances, one after the other: 10 + 1 + 10 */
  make_inst(&r[0], "us", 0, "1.2.840.10008.5.1.4.1.1.3.1", 1, 0.0 / 0.0, 10);
  make_inst(&r[1], "us", 1, "1.2.840.10008.5.1.4.1.1.6.1", 2, 0.0 / 0.0, 1);
  make_inst(&r[2], "us", 2, "1.2.840.10008.5.1.4.1.1.3.1", 3, 0.0 / 0.0, 10);
  snprintf(sd.series.modality, sizeof(sd.series.modality), "US");
  sd.instance_count = 3;
  sel = select_ok(&sd, 1, NULL, 3, 0);
  ck_assert_uint_eq(sel->count, 3);
  ck_assert_str_eq(sel->items[0].orthanc_id, "us-i000");
  ck_assert_uint_eq(sel->items[0].frame, 0);
  ck_assert_str_eq(sel->items[1].orthanc_id, "us-i001"); /* global frame 10 */
  ck_assert_uint_eq(sel->items[1].frame, 0);
  ck_assert_str_eq(sel->items[2].orthanc_id, "us-i002");
  ck_assert_uint_eq(sel->items[2].frame, 9);
  rr_selection_free(sel);
}
END_TEST

START_TEST(total_cap_shared_between_series)
{
  static rr_instance_rec a[30], b[30], c[30];
  rr_series_detail sd[3];
  rr_selection *sel;
  size_t i, na = 0, nb = 0, nc = 0;

  make_ct(&sd[0], a, "a", 30);
  make_ct(&sd[1], b, "b", 30);
  make_ct(&sd[2], c, "c", 30);
  sel = select_ok(sd, 3, NULL, 8, 10);
  ck_assert_uint_eq(sel->count, 10);
  ck_assert_uint_eq(sel->capped, 24 - 10);
  for (i = 0; i < sel->count; i++) {
    na += sel->items[i].orthanc_id[0] == 'a';
    nb += sel->items[i].orthanc_id[0] == 'b';
    nc += sel->items[i].orthanc_id[0] == 'c';
  }
  ck_assert_uint_eq(na, 4);
  ck_assert_uint_eq(nb, 3);
  ck_assert_uint_eq(nc, 3);
  /* series order kept; each series keeps its ends */
  ck_assert_str_eq(sel->items[0].orthanc_id, "a-i029");
  ck_assert_str_eq(sel->items[3].orthanc_id, "a-i000");
  ck_assert_str_eq(sel->items[4].orthanc_id, "b-i029");
  ck_assert_str_eq(sel->items[9].orthanc_id, "c-i000");
  rr_selection_free(sel);

  /* fewer slots than series: the first series, one middle image each */
  sel = select_ok(sd, 3, NULL, 8, 2);
  ck_assert_uint_eq(sel->count, 2);
  ck_assert_uint_eq(sel->items[0].orthanc_id[0], 'a');
  ck_assert_uint_eq(sel->items[1].orthanc_id[0], 'b');
  rr_selection_free(sel);
}
END_TEST

START_TEST(non_image_series_and_bad_arguments)
{
  rr_instance_rec r[2];
  rr_series_detail sd[2];
  rr_selection *sel = NULL;
  char err[256];

  memset(sd, 0, sizeof(sd));
  make_inst(&r[0], "sr", 0, "1.2.840.10008.5.1.4.1.1.88.22", 1, 0.0 / 0.0, 1);
  make_inst(&r[1], "sc", 1, "1.2.840.10008.5.1.4.1.1.7", 1, 0.0 / 0.0, 1);
  sd[0].instances = &r[0];
  sd[0].instance_count = 1;
  sd[1].instances = &r[1];
  sd[1].instance_count = 1;
  sel = select_ok(sd, 2, NULL, 0, 0);
  ck_assert_uint_eq(sel->count, 0);
  ck_assert_uint_eq(sel->skipped[RR_SKIP_NOT_IMAGE], 1);
  ck_assert_uint_eq(sel->skipped[RR_SKIP_SECONDARY_CAPTURE], 1);
  rr_selection_free(sel);
  rr_selection_free(NULL);

  ck_assert_int_eq(rr_select_images(&sel, NULL, 0, NULL, NULL, err, sizeof(err)), 0);
  ck_assert_uint_eq(sel->count, 0);
  rr_selection_free(sel);
  sel = (rr_selection *)1;
  ck_assert_int_eq(rr_select_images(&sel, NULL, 2, NULL, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(sel);
  sd[0].instances = NULL;
  ck_assert_int_eq(rr_select_images(&sel, sd, 2, NULL, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_select_images(NULL, sd, 2, NULL, NULL, err, sizeof(err)), RR_EINVAL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("select");
  TCase *rules = tcase_create("rules");
  TCase *choice = tcase_create("choice");

  tcase_add_test(rules, skip_reasons);
  tcase_add_test(rules, skip_by_image_type_and_flags);
  tcase_add_test(choice, spread_even_first_last);
  tcase_add_test(choice, series_in_geometric_order_without_localizers);
  tcase_add_test(choice, radiographs_take_every_view);
  tcase_add_test(choice, multiframe_frames_spread);
  tcase_add_test(choice, total_cap_shared_between_series);
  tcase_add_test(choice, non_image_series_and_bad_arguments);
  suite_add_tcase(s, rules);
  suite_add_tcase(s, choice);
  return rr_test_run(s);
}
