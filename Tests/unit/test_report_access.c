/*
 * What physicians see (report/report_access.h): the scope option, the PN a
 * display name stands for, and the role matrix's study check against a real
 * store: a study with a final report (by StudyInstanceUID, by the study's
 * Orthanc id, and by an instance's Orthanc id resolved through a stand-in of
 * Orthanc's REST API), a study with a preliminary one, and the "referring"
 * scope.
 */
#include "common.h"

#include "report/report_access.h"
#include "store/store_reports.h"
#include "util/errors.h"
#include "util/sha256.h"

#define E (fx.err), sizeof(fx.err)
#define INSTANCE_ID "0a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d-0a1b2c3d"

static int rest_calls;

/* Orthanc's /instances/{id}/study for one known instance of study "s-b". */
static int fake_get_json(void *ctx, json_object **out, const char *uri, char *err, size_t errsize)
{
  (void)ctx;
  rest_calls++;
  if (strcmp(uri, "/instances/" INSTANCE_ID "/study") == 0) {
    *out = json_tokener_parse("{\"ID\": \"s-b\", \"MainDicomTags\": {}}");
    return 0;
  }
  *out = NULL;
  return rr_fail(err, errsize, RR_ENOTFOUND, "no such resource");
}

static void sign(int64_t id, const char *status)
{
  static const unsigned char pdf[] = "%PDF-1.5 test";
  char sha[65];
  rr_report *r = NULL;
  rr_report_expect e;
  rr_report_signature s;

  ck_assert_int_eq(rr_store_report_get(fx.store, &r, id, E), 0);
  e.version = r->versions[r->version_count - 1].version;
  e.revision = r->versions[r->version_count - 1].revision;
  rr_report_free(r);
  ck_assert_int_eq(rr_sha256_hex(sha, pdf, sizeof(pdf)), 0);
  memset(&s, 0, sizeof(s));
  s.signed_by = "rad";
  s.signed_at = 20000;
  s.pdf = pdf;
  s.pdf_size = sizeof(pdf);
  s.pdf_sha256 = sha;
  ck_assert_msg(rr_store_report_sign(fx.store, NULL, id, &e, status, &s, E) == 0, "sign: %s", fx.err);
}

static int64_t report(const char *study_uid)
{
  int64_t id = 0;

  ck_assert_int_eq(rr_store_report_create(fx.store, &id, study_uid, "generic", "{\"id\":\"generic\",\"sections\":[]}",
                                          "rad", 10000, E),
                   0);
  return id;
}

START_TEST(scope_names)
{
  rr_physician_scope s = RR_PHYSICIAN_SCOPE_REFERRING;

  ck_assert_int_eq(rr_physician_scope_parse(&s, "all"), 0);
  ck_assert_int_eq(s, RR_PHYSICIAN_SCOPE_ALL);
  ck_assert_int_eq(rr_physician_scope_parse(&s, "referring"), 0);
  ck_assert_int_eq(s, RR_PHYSICIAN_SCOPE_REFERRING);
  ck_assert_int_eq(rr_physician_scope_parse(&s, "Referring"), RR_EINVAL);
  ck_assert_int_eq(rr_physician_scope_parse(&s, ""), RR_EINVAL);
  ck_assert_int_eq(rr_physician_scope_parse(&s, NULL), RR_EINVAL);
}
END_TEST

START_TEST(pn_of_display_names)
{
  static const struct {
    const char *name, *pn;
  } cases[] = {
    {"Jane Doe", "Doe^Jane"},          {"Doe, Jane", "Doe^Jane"},     {"  Mary Ann Smith ", "Smith^Mary"},
    {"DOE^JANE", "DOE^JANE"},          {"Doe", "Doe"},                {"", ""},
    {"   ", ""},                       {"Müller, Renée", "Müller^Renée"},
  };
  char out[RR_PN_SIZE];
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    rr_report_access_pn_of(out, sizeof(out), cases[i].name);
    ck_assert_msg(strcmp(out, cases[i].pn) == 0, "'%s' -> '%s', want '%s'", cases[i].name, out, cases[i].pn);
  }
  rr_report_access_pn_of(out, sizeof(out), NULL);
  ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(study_check_final_reports_only)
{
  rr_rest_source rest = {NULL, fake_get_json, NULL};
  rr_report_access *a = NULL;
  int64_t b, a_id;
  bool may;

  rr_fx_load_worklist();
  ck_assert_int_eq(rr_report_access_new(&a, fx.store, rest, RR_PHYSICIAN_SCOPE_ALL), 0);
  /* no report: nothing */
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.2", "John Referrer"), 0);
  b = report("1.2.3.2");
  a_id = report("1.2.3.1");
  sign(a_id, "preliminary");
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.2", "John Referrer"), 0); /* a draft */
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.1", "John Referrer"), 0); /* preliminary */
  sign(b, "final");
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.2", "John Referrer"), 1);
  ck_assert_int_eq(rr_report_access_study_check(a, "s-b", "John Referrer"), 1); /* the study's Orthanc id */
  /* an instance: resolved through Orthanc once, then remembered */
  rest_calls = 0;
  ck_assert_int_eq(rr_report_access_study_check(a, INSTANCE_ID, "John Referrer"), 1);
  ck_assert_int_eq(rest_calls, 1);
  ck_assert_int_eq(rr_report_access_study_check(a, INSTANCE_ID, "John Referrer"), 1);
  ck_assert_int_eq(rest_calls, 1);
  /* an unknown id of the same shape, and nothing at all */
  ck_assert_int_eq(rr_report_access_study_check(a, "ffffffff-ffffffff-ffffffff-ffffffff-ffffffff", ""), 0);
  ck_assert_int_eq(rr_report_access_study_check(a, "", "x"), 0);
  ck_assert_int_eq(rr_report_access_study_check(NULL, "1.2.3.2", "x"), 0);
  ck_assert_int_eq(rr_report_access_physician_may_read(&may, a, "1.2.3.2", "Anyone", E), 0);
  ck_assert(may);
  rr_report_access_free(a);

  /* "referring": the fixture's studies name no referring physician */
  ck_assert_int_eq(rr_report_access_new(&a, fx.store, rest, RR_PHYSICIAN_SCOPE_REFERRING), 0);
  ck_assert_int_eq(rr_report_access_scope(a), RR_PHYSICIAN_SCOPE_REFERRING);
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.2", "John Referrer"), 0);
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.2", ""), 0);
  ck_assert_int_eq(rr_report_access_physician_may_read(&may, a, "1.2.3.2", "John Referrer", E), 0);
  ck_assert(!may);
  {
    /* a study that names its referring physician */
    rr_fx_spec spec = {"s-r", "p-r", "1.2.3.9", "DOE^JANE", "PID-9", "20240101", "CT Chest", "ACC9", "se-r1", "CT", 1,
                       "i-r1", 1, NULL};
    rr_ingest_item item = rr_fx_item(&spec);
    snprintf(item.study.referring_physician, sizeof(item.study.referring_physician), "%s", "REFERRER^JOHN^^DR");
    rr_fx_apply(&item, 1, 30000);
    sign(report("1.2.3.9"), "final");
  }
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.9", "John Referrer"), 1);
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.9", "Referrer, John"), 1);
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.9", "Jane Other"), 0);
  ck_assert_int_eq(rr_report_access_study_check(a, "1.2.3.9", ""), 0);
  rr_report_access_free(a);
  rr_report_access_free(NULL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_access");
  TCase *tc = tcase_create("report_access");

  fx.backend = &rr_fx_backends[0]; /* SQLite: the physicians' check needs a real store */
  tcase_add_checked_fixture(tc, rr_fx_setup, rr_fx_teardown);
  tcase_add_test(tc, scope_names);
  tcase_add_test(tc, pn_of_display_names);
  tcase_add_test(tc, study_check_final_reports_only);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
