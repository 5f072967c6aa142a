/*
 * The storage figures: daily samples kept in the store (one per UTC day,
 * the last 31), the growth per day, and the free-space warning thresholds
 * over a real file system (statvfs of the test's folder).
 */
#include "storage/storage.h"

#include "common.h"
#include "util/errors.h"

static char dir[4096];
static rr_store *store;
static char err[512];

#define DAY 86400LL
#define T0 1764806400LL /* 2025-12-04 00:00:00 UTC */

static void setup(void)
{
  rr_test_tmpdir(dir, sizeof(dir));
  store = rr_test_store_open(dir);
}

static void teardown(void)
{
  rr_store_free(store);
  rr_test_rmdir(dir);
}

static int no_statistics(void *ctx, json_object **out, const char *uri, char *e, size_t esize)
{
  (void)ctx;
  (void)out;
  (void)uri;
  return rr_fail(e, esize, RR_EUPSTREAM, "no Orthanc here");
}

START_TEST(one_sample_per_day_the_last_of_the_day)
{
  rr_storage_day days[RR_STORAGE_DAYS];
  size_t n;

  ck_assert_int_eq(rr_storage_days(store, days, &n, err, sizeof(err)), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(rr_storage_record(store, T0 + 10, 1000, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_storage_record(store, T0 + 3600, 1500, err, sizeof(err)), 0); /* same day: replaces */
  ck_assert_int_eq(rr_storage_record(store, T0 + DAY + 5, 4000, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_storage_record(store, T0 + 5, 9, err, sizeof(err)), 0); /* clock back: ignored */
  ck_assert_int_eq(rr_storage_days(store, days, &n, err, sizeof(err)), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(days[0].date, "2025-12-04");
  ck_assert_int_eq(days[0].disk_bytes, 1500);
  ck_assert_str_eq(days[1].date, "2025-12-05");
  ck_assert_int_eq(days[1].disk_bytes, 4000);
  ck_assert(rr_storage_growth_per_day(days, n) == 2500.0);
}
END_TEST

START_TEST(the_last_31_days_are_kept_and_gaps_count_as_days)
{
  rr_storage_day days[RR_STORAGE_DAYS];
  size_t n;
  int i;

  for (i = 0; i < 40; i++)
    ck_assert_int_eq(rr_storage_record(store, T0 + i * DAY, 1000LL * i, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_storage_days(store, days, &n, err, sizeof(err)), 0);
  ck_assert_uint_eq(n, RR_STORAGE_DAYS);
  ck_assert_int_eq(days[0].disk_bytes, 9000);
  ck_assert_int_eq(days[n - 1].disk_bytes, 39000);
  ck_assert(rr_storage_growth_per_day(days, n) == 1000.0);
  /* a gap of 10 days and a year boundary */
  ck_assert(rr_storage_growth_per_day((rr_storage_day[]){{"2025-12-27", 0}, {"2026-01-06", 5000}}, 2) == 500.0);
  ck_assert(rr_storage_growth_per_day(days, 1) == 0.0);
}
END_TEST

START_TEST(thresholds_warn_below_the_free_space)
{
  rr_storage *s = NULL;
  rr_storage_volumes v;
  rr_storage_report r;
  rr_storage_options o = {dir, dir, 0, 0};
  rr_rest_source src = {NULL, no_statistics, NULL};

  ck_assert_int_eq(rr_storage_new(&s, &o, store, src), 0);
  rr_storage_volumes_get(s, &v);
  ck_assert(v.storage.known && v.index.known && v.same_file_system);
  ck_assert(v.storage.total_bytes >= v.storage.free_bytes && v.storage.total_bytes > 0);
  ck_assert_str_eq(v.warning, "");
  rr_storage_free(s);

  o.warn_free_percent = 99; /* surely less free than that... unless empty: then use the gigabytes */
  o.warn_free_gb = 1000000;
  ck_assert_int_eq(rr_storage_new(&s, &o, store, src), 0);
  rr_storage_volumes_get(s, &v);
  ck_assert_msg(strstr(v.warning, "Orthanc's storage folder has") != NULL, "%s", v.warning);
  ck_assert(strstr(v.warning, "index") == NULL); /* one file system: said once */
  rr_storage_report_get(s, &r);
  ck_assert_str_eq(r.error, "no Orthanc here");
  ck_assert(!r.has_disk_size);
  rr_storage_free(s);

  o.storage_dir = "/nonexistent/folder";
  ck_assert_int_eq(rr_storage_new(&s, &o, store, src), 0);
  rr_storage_volumes_get(s, &v);
  ck_assert(!v.storage.known);
  ck_assert(strstr(v.storage.error, "No such file") != NULL);
  rr_storage_free(s);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("storage");
  TCase *tc = tcase_create("storage");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, one_sample_per_day_the_last_of_the_day);
  tcase_add_test(tc, the_last_31_days_are_kept_and_gaps_count_as_days);
  tcase_add_test(tc, thresholds_warn_below_the_free_space);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
