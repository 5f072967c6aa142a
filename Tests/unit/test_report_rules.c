/*
 * store/report_rules: the reports concern's rules every backend shares
 * (inputs, transitions against a report's head, person names), tested
 * without a store; the conformance suite (test_store_reports.c) proves each
 * backend applies them.
 */
#include "common.h"
#include "store/report_rules.h"
#include "util/errors.h"

static const char sha[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
static const unsigned char pdf[] = "%PDF-1.4";

static rr_report_head head_of(const char *state, const char *status, int64_t latest, int64_t revision)
{
  rr_report_head h;

  memset(&h, 0, sizeof(h));
  h.id = 7;
  snprintf(h.state, sizeof(h.state), "%s", state);
  snprintf(h.status, sizeof(h.status), "%s", status);
  h.latest = latest;
  h.revision = revision;
  h.prevailing = latest;
  return h;
}

START_TEST(inputs_are_checked)
{
  rr_report_signature sig = {"dr", 10, pdf, sizeof(pdf), sha, NULL};
  char err[256];
  bool b;

  ck_assert_int_eq(rr_report_check_create("1.2.3", "ct.chest", "{}", "dr", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_check_create("", "ct.chest", "{}", "dr", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_create("1.2.3", "ct chest", "{}", "dr", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_create("1.2.3", "ct.chest", "", "dr", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_draft("{\"a\":\"\xff\"}", NULL, "dr", err, sizeof(err)), RR_EINVAL);
  ck_assert_str_eq(err, "the fields is not valid UTF-8");
  ck_assert_int_eq(rr_report_check_sign(&b, "final", &sig, err, sizeof(err)), 0);
  ck_assert(b);
  ck_assert_int_eq(rr_report_check_sign(&b, "amended", &sig, err, sizeof(err)), RR_EINVAL);
  sig.pdf_sha256 = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
  ck_assert_int_eq(rr_report_check_sign(&b, "preliminary", &sig, err, sizeof(err)), RR_EINVAL);
  sig.pdf_sha256 = sha;
  ck_assert_int_eq(rr_report_check_add(&b, "addendum", NULL, "more", &sig, err, sizeof(err)), 0);
  ck_assert(b);
  ck_assert_int_eq(rr_report_check_add(&b, "correction", NULL, "why", &sig, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_close("dr", "", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_macro("dr", "norm\x01", "x", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_macro("dr", "normal", "x", err, sizeof(err)), 0);
}
END_TEST

START_TEST(query_is_checked)
{
  rr_report_query q;
  char err[256];

  memset(&q, 0, sizeof(q));
  ck_assert_uint_eq(rr_report_query_limit(&q), 50);
  q.limit = 9000;
  ck_assert_uint_eq(rr_report_query_limit(&q), 500);
  snprintf(q.states[0], sizeof(q.states[0]), "final");
  q.state_count = 1;
  ck_assert_int_eq(rr_report_check_query(&q, err, sizeof(err)), 0);
  snprintf(q.states[0], sizeof(q.states[0]), "signed");
  ck_assert_int_eq(rr_report_check_query(&q, err, sizeof(err)), RR_EINVAL);
  q.state_count = 9;
  ck_assert_int_eq(rr_report_check_query(&q, err, sizeof(err)), RR_EINVAL);
}
END_TEST

START_TEST(transitions_follow_the_state_machine)
{
  rr_report_signature sig = {"dr", 10, pdf, sizeof(pdf), sha, NULL};
  rr_report_head h = head_of("draft", "draft", 1, 3);
  rr_report_expect e = {1, 3}, old = {1, 2};
  int64_t v;
  bool copy;
  char err[256];

  ck_assert_int_eq(rr_report_check_editable(&h, "edit", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_check_expect(&h, &e, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_check_expect(&h, &old, err, sizeof(err)), RR_ESTALE);
  ck_assert_int_eq(rr_report_check_expect(&h, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_plan_sign(&v, &copy, &h, false, &sig, err, sizeof(err)), 0);
  ck_assert(v == 1 && !copy);
  ck_assert_int_eq(rr_report_check_ack(&h, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_plan_add(&v, &h, "addendum", 1, err, sizeof(err)), RR_ECONFLICT);

  h = head_of("preliminary", "preliminary", 1, 4);
  ck_assert_int_eq(rr_report_plan_sign(&v, &copy, &h, false, &sig, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_plan_sign(&v, &copy, &h, true, &sig, err, sizeof(err)), 0);
  ck_assert(v == 2 && copy);
  ck_assert_int_eq(rr_report_next_version(&v, &e, &h, err, sizeof(err)), 0);
  ck_assert(v == 2 && e.version == 1 && e.revision == 4);
  h.critical = true;
  ck_assert_int_eq(rr_report_plan_sign(&v, &copy, &h, true, &sig, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_check_ack(&h, err, sizeof(err)), 0);

  h = head_of("final", "final", 2, 1);
  ck_assert_int_eq(rr_report_check_editable(&h, "sign", err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_check_close_state(&h, true, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_check_close_state(&h, false, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_plan_add(&v, &h, "addendum", 1, err, sizeof(err)), RR_ESTALE);
  ck_assert_int_eq(rr_report_plan_add(&v, &h, "addendum", 2, err, sizeof(err)), 0);
  ck_assert_int_eq(v, 3);

  h = head_of("entered-in-error", "final", 2, 1);
  ck_assert_int_eq(rr_report_check_close_state(&h, false, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_report_next_version(&v, NULL, &h, err, sizeof(err)), RR_ECONFLICT);
}
END_TEST

START_TEST(timeline_modality_skips_derived_objects)
{
  char m[16];

  rr_report_first_modality(m, sizeof(m), "SR\\KO\\MR\\CT");
  ck_assert_str_eq(m, "MR");
  rr_report_first_modality(m, sizeof(m), "SEG\\OT");
  ck_assert_str_eq(m, "");
  rr_report_first_modality(m, sizeof(m), "");
  ck_assert_str_eq(m, "");
}
END_TEST

static bool pn(const char *stored, const char *query)
{
  rr_pn_query pq;
  bool m = false;

  if (rr_pn_query_init(&pq, query) == 0)
    m = rr_pn_match(&pq, stored);
  rr_pn_query_dispose(&pq);
  return m;
}

START_TEST(person_names_match_by_component)
{
  ck_assert(pn("M\xc3\xbcller^Hans", "MULLER"));
  ck_assert(pn("Smith^Ann\\M\xc3\xbcller^Hans^^Dr", "muller^hans"));
  ck_assert(pn("Yamada^Tarou=\xe5\xb1\xb1\xe7\x94\xb0^\xe5\xa4\xaa\xe9\x83\x8e", "yamada"));
  ck_assert(!pn("Smith^Ann", "Smith^Bob"));
  ck_assert(!pn("Smithers^Ann", "Smith"));
  ck_assert(!pn("Smith^Ann", "^^"));
  ck_assert(!pn(NULL, "Smith"));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_rules");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, inputs_are_checked);
  tcase_add_test(tc, query_is_checked);
  tcase_add_test(tc, transitions_follow_the_state_machine);
  tcase_add_test(tc, timeline_modality_skips_derived_objects);
  tcase_add_test(tc, person_names_match_by_component);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
