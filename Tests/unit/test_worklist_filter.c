/*
 * store/worklist_filter: the report filter's validation and states, state
 * lists split into named states and "no analysis", and the SQL conditions
 * the SQLite and PostgreSQL backends share (values always bound through the
 * backend's binder, never in the text). The conditions' results are
 * checked on every backend by the conformance suite (test_store_ai.c,
 * test_store_reports.c, test_store_index.c).
 */
#include "common.h"
#include "store/records.h"
#include "store/worklist_filter.h"
#include "util/buf.h"
#include "util/errors.h"

/* A binder that numbers parameters $1, $2, ... and keeps their values. */
typedef struct binder {
  char values[8][64];
  size_t count;
} binder;

static int bind(void *params, rr_buf *out, const char *value, size_t len)
{
  binder *kept = params;

  if (kept->count >= 8 || len >= sizeof(kept->values[0]))
    return RR_EFULL;
  memcpy(kept->values[kept->count], value, len);
  kept->values[kept->count][len] = '\0';
  kept->count++;
  return rr_buf_printf(out, "$%zu", kept->count);
}

/* Each SQL test's binder, dialect (PostgreSQL's: both optional table sets,
 * boolean columns), query and output. */
static binder b;
static rr_wfilter_sql d;
static rr_worklist_query q;
static rr_buf sql;

static void setup(void)
{
  memset(&b, 0, sizeof(b));
  d = (rr_wfilter_sql){bind, &b, true, true, false};
  memset(&q, 0, sizeof(q));
  rr_buf_init(&sql, 4096);
}

static void teardown(void)
{
  rr_buf_dispose(&sql);
}

START_TEST(report_filter_values)
{
  static const struct {
    const char *name;
    rr_wfilter_report f;
  } known[] = {{"", RR_WFILTER_REPORT_ANY},
               {"unreported", RR_WFILTER_REPORT_UNREPORTED},
               {"mine", RR_WFILTER_REPORT_MINE},
               {"preliminary", RR_WFILTER_REPORT_PRELIMINARY},
               {"final", RR_WFILTER_REPORT_FINAL},
               {"critical", RR_WFILTER_REPORT_CRITICAL}};
  rr_wfilter_report f;
  char err[256];
  size_t i;

  for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
    memset(&q, 0, sizeof(q));
    snprintf(q.report, sizeof(q.report), "%s", known[i].name);
    snprintf(q.report_user, sizeof(q.report_user), "doc");
    ck_assert_int_eq(rr_wfilter_report_parse(&f, &q, err, sizeof(err)), 0);
    ck_assert_int_eq(f, known[i].f);
  }
  snprintf(q.report, sizeof(q.report), "Final");
  f = RR_WFILTER_REPORT_FINAL;
  ck_assert_int_eq(rr_wfilter_report_parse(&f, &q, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(f, RR_WFILTER_REPORT_ANY);
  ck_assert_str_eq(err, "the report filter is one of unreported, mine, preliminary, final, critical");
  memset(&q, 0, sizeof(q));
  snprintf(q.report, sizeof(q.report), "mine");
  ck_assert_int_eq(rr_wfilter_report_parse(&f, &q, err, sizeof(err)), RR_EINVAL);
  ck_assert_str_eq(err, "the report filter 'mine' needs the user");
}
END_TEST

START_TEST(report_states)
{
  const char *const *s;

  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_UNREPORTED), 4);
  ck_assert_str_eq(s[0], "preliminary");
  ck_assert_str_eq(s[3], "corrected");
  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_PRELIMINARY), 1);
  ck_assert_str_eq(s[0], "preliminary");
  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_FINAL), 3);
  ck_assert_str_eq(s[0], "final");
  ck_assert_str_eq(s[1], "appended");
  ck_assert_str_eq(s[2], "corrected");
  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_MINE), 1);
  ck_assert_str_eq(s[0], "draft");
  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_CRITICAL), 0);
  ck_assert_ptr_null(s);
  ck_assert_uint_eq(rr_wfilter_report_states(&s, RR_WFILTER_REPORT_ANY), 0);
}
END_TEST

START_TEST(state_lists_split)
{
  const char values[3][RR_STATE_SIZE] = {"completed", "", "failed"};
  rr_wfilter_states st;

  rr_wfilter_states_split(&st, values, 3);
  ck_assert(st.none);
  ck_assert_uint_eq(st.named_count, 2);
  ck_assert_str_eq(st.named[0], "completed");
  ck_assert_str_eq(st.named[1], "failed");
  rr_wfilter_states_split(&st, values, 1);
  ck_assert(!st.none);
  ck_assert_uint_eq(st.named_count, 1);
  rr_wfilter_states_split(&st, values, 0);
  ck_assert(!st.none);
  ck_assert_uint_eq(st.named_count, 0);
}
END_TEST

START_TEST(state_conditions)
{
  const char values[2][RR_STATE_SIZE] = {"completed", ""};
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "ai_status", values, 0), 0);
  ck_assert_uint_eq(sql.len, 0);
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "ai_status", values, 2), 0);
  ck_assert_str_eq(sql.ptr, " AND (s.study_uid IN (SELECT study_uid FROM study_ai WHERE ai_status IN ($1)) OR"
                            " s.study_uid NOT IN (SELECT study_uid FROM study_ai WHERE ai_status <> ''))");
  ck_assert_str_eq(b.values[0], "completed");
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "review_status", values + 1, 1), 0);
  ck_assert_str_eq(sql.ptr, " AND (s.study_uid NOT IN (SELECT study_uid FROM study_ai WHERE review_status <> ''))");
  /* without the AI tables no study has an analysis */
  d.has_study_ai = false;
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "ai_status", values, 1), 0);
  ck_assert_str_eq(sql.ptr, " AND FALSE");
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "ai_status", values, 2), 0);
  ck_assert_str_eq(sql.ptr, "");
}
END_TEST

START_TEST(report_conditions)
{
  snprintf(q.report_user, sizeof(q.report_user), "doc'; --");
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_ANY, &q), 0);
  ck_assert_uint_eq(sql.len, 0);
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_UNREPORTED, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_uid NOT IN (SELECT study_uid FROM study_report WHERE state IN"
                            " ('preliminary','final','appended','corrected'))");
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_FINAL, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE state IN"
                            " ('final','appended','corrected'))");
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_MINE, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE state IN ('draft')"
                            " AND author = $1)");
  ck_assert_str_eq(b.values[0], "doc'; --");
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_CRITICAL, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE critical)");
  rr_buf_clear(&sql);
  d.int_booleans = true; /* SQLite: the form of its partial index */
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_CRITICAL, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE critical = 1)");
  rr_buf_clear(&sql);
  snprintf(q.report_ack_user, sizeof(q.report_ack_user), "rad");
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_CRITICAL, &q), 0);
  ck_assert_ptr_nonnull(strstr(sql.ptr, "r.critical = 1 AND r.state NOT IN ('cancelled','entered-in-error')"));
  ck_assert_ptr_nonnull(strstr(sql.ptr, "a.username = $2))"));
  ck_assert_str_eq(b.values[1], "rad");
  /* without the report tables every study is unreported */
  d.has_reports = false;
  rr_buf_clear(&sql);
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_UNREPORTED, &q), 0);
  ck_assert_str_eq(sql.ptr, "");
  ck_assert_int_eq(rr_wfilter_sql_report(&sql, &d, RR_WFILTER_REPORT_FINAL, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND FALSE");
}
END_TEST

START_TEST(modality_conditions)
{
  ck_assert_int_eq(rr_wfilter_sql_modalities(&sql, &d, &q), 0);
  ck_assert_uint_eq(sql.len, 0);
  snprintf(q.modalities[0], sizeof(q.modalities[0]), "CT");
  snprintf(q.modalities[1], sizeof(q.modalities[1]), "LEN");
  q.modality_count = 2;
  ck_assert_int_eq(rr_wfilter_sql_modalities(&sql, &d, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND ((s.mod_mask & CAST($1 AS BIGINT)) <> 0 OR"
                            " s.id IN (SELECT study_id FROM study_terms WHERE kind = 'M' AND term IN ($2)))");
  ck_assert_str_ne(b.values[0], "0");
  ck_assert_str_eq(b.values[1], "LEN");
  rr_buf_clear(&sql);
  q.modality_count = 1;
  ck_assert_int_eq(rr_wfilter_sql_modalities(&sql, &d, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND ((s.mod_mask & CAST($3 AS BIGINT)) <> 0)");
}
END_TEST

START_TEST(dates_and_order)
{
  ck_assert_int_eq(rr_wfilter_sql_dates(&sql, &d, &q), 0);
  ck_assert_uint_eq(sql.len, 0);
  snprintf(q.date_from, sizeof(q.date_from), "20200101");
  snprintf(q.date_to, sizeof(q.date_to), "20201231");
  ck_assert_int_eq(rr_wfilter_sql_dates(&sql, &d, &q), 0);
  ck_assert_str_eq(sql.ptr, " AND s.study_date >= $1 AND s.study_date <> '' AND s.study_date <= $2");
  ck_assert_str_eq(b.values[1], "20201231");
  rr_buf_clear(&sql);
  q.descending = true;
  ck_assert_int_eq(rr_wfilter_sql_order(&sql, &q), 0);
  ck_assert_str_eq(sql.ptr, "s.study_date DESC, s.study_time DESC, s.id DESC");
  rr_buf_clear(&sql);
  q.sort = RR_SORT_PATIENT_NAME;
  q.descending = false;
  ck_assert_int_eq(rr_wfilter_sql_order(&sql, &q), 0);
  ck_assert_str_eq(sql.ptr, "s.patient_name_norm ASC, s.id ASC");
  rr_buf_clear(&sql);
  q.sort = RR_SORT_RECEIVED_AT;
  ck_assert_int_eq(rr_wfilter_sql_order(&sql, &q), 0);
  ck_assert_str_eq(sql.ptr, "s.received_at ASC, s.id ASC");
}
END_TEST

/* A binder out of parameters fails the condition instead of dropping it. */
START_TEST(binder_errors_are_returned)
{
  const char values[1][RR_STATE_SIZE] = {"completed"};
  b.count = 8;
  ck_assert_int_eq(rr_wfilter_sql_states(&sql, &d, "ai_status", values, 1), RR_EFULL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("worklist_filter");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, report_filter_values);
  tcase_add_test(tc, report_states);
  tcase_add_test(tc, state_lists_split);
  tcase_add_test(tc, state_conditions);
  tcase_add_test(tc, report_conditions);
  tcase_add_test(tc, modality_conditions);
  tcase_add_test(tc, dates_and_order);
  tcase_add_test(tc, binder_errors_are_returned);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
