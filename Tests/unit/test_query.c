#include <stdarg.h>

#include "api/query.h"
#include "common.h"
#include "util/errors.h"

static int parse_args(rr_worklist_query *q, char *err, size_t errsize, size_t n, ...)
{
  const char *keys[16], *values[16];
  va_list ap;
  size_t i;

  va_start(ap, n);
  for (i = 0; i < n; i++) {
    keys[i] = va_arg(ap, const char *);
    values[i] = va_arg(ap, const char *);
  }
  va_end(ap);
  return rr_query_parse(q, keys, values, n, 50, 500, err, errsize);
}

static void expect_bad(const char *key, const char *value, const char *fragment)
{
  rr_worklist_query q;
  char err[256] = "";
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, key, value), RR_EINVAL);
  ck_assert_msg(strstr(err, fragment) != NULL, "error '%s' lacks '%s'", err, fragment);
}

START_TEST(ai_and_review_states)
{
  rr_worklist_query q;
  char err[256] = "";

  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 2, "aiStatus", "completed,none", "reviewStatus", "pending"), 0);
  ck_assert_uint_eq(q.ai_status_count, 2);
  ck_assert_str_eq(q.ai_statuses[0], "completed");
  ck_assert_str_eq(q.ai_statuses[1], ""); /* none */
  ck_assert_uint_eq(q.review_status_count, 1);
  ck_assert_str_eq(q.review_statuses[0], "pending");
  expect_bad("aiStatus", "done", "not one of none, queued");
  expect_bad("reviewStatus", "completed", "not one of none, pending");
  expect_bad("aiStatus", "queued,queued,queued,queued,queued,queued,queued,queued,queued,queued,queued,queued,queued",
             "too many");
}
END_TEST

START_TEST(defaults)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 0), 0);
  ck_assert_uint_eq(q.limit, 50);
  ck_assert_uint_eq(q.offset, 0);
  ck_assert_int_eq(q.sort, RR_SORT_STUDY_DATE);
  ck_assert(q.descending);
  ck_assert_int_eq(q.patient_name.mode, RR_MATCH_NONE);
}
END_TEST

START_TEST(text_filters_are_folded)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 3, "patientName", "müller^Re*", "description", "Thorax abd",
                              "q", "Smith  John"), 0);
  ck_assert_int_eq(q.patient_name.mode, RR_MATCH_GLOB);
  ck_assert_str_eq(q.patient_name.value, "MULLER RE*");
  ck_assert_int_eq(q.description.mode, RR_MATCH_WORDS);
  ck_assert_str_eq(q.description.value, "THORAX ABD");
  ck_assert_int_eq(q.text.mode, RR_MATCH_WORDS);
  ck_assert_str_eq(q.text.value, "SMITH JOHN");
  /* q has no wildcards: a * is just punctuation */
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "q", "smi*"), 0);
  ck_assert_int_eq(q.text.mode, RR_MATCH_WORDS);
  ck_assert_str_eq(q.text.value, "SMI");
  /* only stars: no filter */
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "patientName", "**"), 0);
  ck_assert_int_eq(q.patient_name.mode, RR_MATCH_NONE);
}
END_TEST

START_TEST(identifier_filters)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 2, "patientId", " AB-12 ", "accessionNumber", "A[1]*"), 0);
  ck_assert_int_eq(q.patient_id.mode, RR_MATCH_EXACT);
  ck_assert_str_eq(q.patient_id.value, "AB-12");
  ck_assert_int_eq(q.accession.mode, RR_MATCH_GLOB);
  ck_assert_str_eq(q.accession.value, "A[[]1]*");
}
END_TEST

START_TEST(modalities_and_dates)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 3, "modality", "ct,Mr", "modality", "PT",
                              "studyDateFrom", "2023-01-31"), 0);
  ck_assert_uint_eq(q.modality_count, 3);
  ck_assert_str_eq(q.modalities[1], "MR");
  ck_assert_str_eq(q.date_from, "20230131");
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "studyDate", "20230101-20231231"), 0);
  ck_assert_str_eq(q.date_from, "20230101");
  ck_assert_str_eq(q.date_to, "20231231");
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "studyDate", "-20231231"), 0);
  ck_assert_str_eq(q.date_from, "");
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "studyDate", "2023-05-06"), 0);
  ck_assert_str_eq(q.date_to, "20230506");
}
END_TEST

START_TEST(sorting)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "sort", "patientName"), 0);
  ck_assert_int_eq(q.sort, RR_SORT_PATIENT_NAME);
  ck_assert(!q.descending);
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 2, "sort", "receivedAt", "order", "asc"), 0);
  ck_assert_int_eq(q.sort, RR_SORT_RECEIVED_AT);
  ck_assert(!q.descending);
}
END_TEST

START_TEST(bad_arguments)
{
  expect_bad("studyDateFrom", "20231301", "is not a date");
  expect_bad("studyDateTo", "2023-02-30", "is not a date");
  expect_bad("studyDate", "2023-2024", "is not a date");
  expect_bad("limit", "-1", "between 1 and 500");
  expect_bad("limit", "0", "between 1 and 500");
  expect_bad("limit", "100000", "between 1 and 500");
  expect_bad("limit", "abc", "between 1 and 500");
  expect_bad("offset", "-5", "between 0 and");
  expect_bad("offset", "99999999999", "between 0 and");
  expect_bad("sort", "bogus", "argument 'sort'");
  expect_bad("order", "sideways", "argument 'order'");
  expect_bad("modality", "C T;", "only letters");
  expect_bad("whatever", "1", "unknown argument 'whatever'");
  expect_bad("q", "a b c d e f g h i", "more than 8 words");
  expect_bad("patientName", "\xff\xfe", "not valid UTF-8");
  {
    char big[400];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    expect_bad("patientName", big, "too long");
  }
  {
    rr_worklist_query q;
    char err[256] = "";
    ck_assert_int_eq(parse_args(&q, err, sizeof(err), 2, "studyDateFrom", "20240101", "studyDateTo", "20230101"), RR_EINVAL);
    ck_assert(strstr(err, "is after") != NULL);
  }
}
END_TEST

START_TEST(arguments_are_url_decoded)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 3, "patientName", "M%C3%BCller+re%6Eee", "order", "%61sc",
                              "patientId", "50%"), 0);
  ck_assert_str_eq(q.patient_name.value, "MULLER RENEE");
  ck_assert(!q.descending);
  ck_assert_str_eq(q.patient_id.value, "50%"); /* a lone % stays */
  expect_bad("patientName", "%FF%FE", "not valid UTF-8");
}
END_TEST

START_TEST(sql_text_is_just_text)
{
  rr_worklist_query q;
  char err[256];
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "patientId", "1' OR '1'='1"), 0);
  ck_assert_int_eq(q.patient_id.mode, RR_MATCH_EXACT);
  ck_assert_str_eq(q.patient_id.value, "1' OR '1'='1");
}
END_TEST

/* A query's filters as one line, e.g. "name WORDS 'MULLER' mod CT". */
static const char *describe(const rr_worklist_query *q)
{
  static const char *const modes[] = {"NONE", "EXACT", "GLOB", "WORDS"};
  const rr_match *m[] = {&q->patient_name, &q->description, &q->text, &q->patient_id, &q->accession};
  const char *names[] = {"name", "desc", "text", "pid", "acc"};
  static char out[1024];
  size_t i, n = 0;

#define PUT(...) (n += (size_t)snprintf(out + n, n < sizeof(out) ? sizeof(out) - n : 0, __VA_ARGS__))
  out[0] = '\0';
  for (i = 0; i < 5; i++)
    if (m[i]->mode != RR_MATCH_NONE)
      PUT("%s%s %s '%s'", n ? " " : "", names[i], modes[m[i]->mode], m[i]->value);
  for (i = 0; i < q->modality_count; i++)
    PUT("%smod %s", n ? " " : "", q->modalities[i]);
  if (q->date_from[0] || q->date_to[0])
    PUT("%sdates '%s'-'%s'", n ? " " : "", q->date_from, q->date_to);
  for (i = 0; i < q->ai_status_count; i++)
    PUT("%sai '%s'", n ? " " : "", q->ai_statuses[i]);
  for (i = 0; i < q->review_status_count; i++)
    PUT("%srev '%s'", n ? " " : "", q->review_statuses[i]);
#undef PUT
  return out;
}

/* The arguments whose normalised form the store suite (test_store_index.c,
 * test_store_ai.c) queries with: each row here and the store's answer to
 * that form together make one assertion of the former end-to-end suite. */
START_TEST(arguments_the_store_suite_queries_with)
{
  static const struct {
    const char *key, *value, *expect;
  } rows[] = {
    {"accessionNumber", "ACC?", "acc GLOB 'ACC?'"},
    {"accessionNumber", "A[5]", "acc EXACT 'A[5]'"},
    {"aiStatus", "completed", "ai 'completed'"},
    {"aiStatus", "none", "ai ''"},
    {"aiStatus", "none,queued", "ai '' ai 'queued'"},
    {"aiStatus", "queued", "ai 'queued'"},
    {"description", "*brain", "desc GLOB '*BRAIN'"},
    {"description", "changed", "desc WORDS 'CHANGED'"},
    {"description", "thor abd", "desc WORDS 'THOR ABD'"},
    {"description", "thorax", "desc WORDS 'THORAX'"},
    {"modality", "CT,SR", "mod CT mod SR"},
    {"modality", "LEN", "mod LEN"},
    {"modality", "LEN,CR", "mod LEN mod CR"},
    {"modality", "MR", "mod MR"},
    {"modality", "SR", "mod SR"},
    {"modality", "SR,CR", "mod SR mod CR"},
    {"modality", "XA", "mod XA"},
    {"modality", "ZZZ", "mod ZZZ"},
    {"patientId", "PID-*", "pid GLOB 'PID-*'"},
    {"patientId", "PID-2", "pid EXACT 'PID-2'"},
    {"patientId", "X'; DROP TABLE studies;--", "pid EXACT 'X'; DROP TABLE studies;--'"},
    {"patientId", "pid-2", "pid EXACT 'pid-2'"},
    {"patientName", "*ERS*", "name GLOB '*ERS*'"},
    {"patientName", "MÜLLER renee", "name WORDS 'MULLER RENEE'"},
    {"patientName", "muller", "name WORDS 'MULLER'"},
    {"patientName", "ren", "name WORDS 'REN'"},
    {"patientName", "sm?th j*", "name GLOB 'SM?TH J*'"},
    {"patientName", "sm?th", "name GLOB 'SM?TH'"},
    {"patientName", "sm?th*", "name GLOB 'SM?TH*'"},
    {"patientName", "smith j*", "name GLOB 'SMITH J*'"},
    {"patientName", "smith", "name WORDS 'SMITH'"},
    {"patientName", "smith*", "name GLOB 'SMITH*'"},
    {"patientName", "παπαδοπουλος", "name WORDS 'ΠΑΠΑΔΟΠΟΥΛΟΣ'"},
    {"patientName", "山田", "name WORDS '山田'"},
    {"q", "'", ""},
    {"q", "acc1", "text WORDS 'ACC1'"},
    {"q", "house", "text WORDS 'HOUSE'"},
    {"q", "pid 5", "text WORDS 'PID 5'"},
    {"q", "princeton mull", "text WORDS 'PRINCETON MULL'"},
    {"q", "smith", "text WORDS 'SMITH'"},
    {"reviewStatus", "confirmed", "rev 'confirmed'"},
    {"reviewStatus", "none", "rev ''"},
    {"reviewStatus", "pending", "rev 'pending'"},
    {"studyDate", "20230101-20231231", "dates '20230101'-'20231231'"},
    {"studyDateFrom", "20230101", "dates '20230101'-''"},
    {"studyDateTo", "20230115", "dates ''-'20230115'"},
    {"patientName", "nobody", "name WORDS 'NOBODY'"},
  };
  rr_worklist_query q;
  char err[256];
  size_t i;

  for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    ck_assert_msg(parse_args(&q, err, sizeof(err), 1, rows[i].key, rows[i].value) == 0, "%s: %s", rows[i].key, err);
    ck_assert_msg(strcmp(describe(&q), rows[i].expect) == 0, "%s=%s gives \"%s\", not \"%s\"", rows[i].key,
                  rows[i].value, describe(&q), rows[i].expect);
    ck_assert_uint_eq(q.limit, 50);
    ck_assert_int_eq(q.sort, RR_SORT_STUDY_DATE);
    ck_assert(q.descending);
  }
  /* punctuation only: no filter */
  ck_assert_int_eq(parse_args(&q, err, sizeof(err), 1, "q", "'"), 0);
  ck_assert_int_eq(q.text.mode, RR_MATCH_NONE);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("query");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, ai_and_review_states);
  tcase_add_test(tc, text_filters_are_folded);
  tcase_add_test(tc, identifier_filters);
  tcase_add_test(tc, modalities_and_dates);
  tcase_add_test(tc, sorting);
  tcase_add_test(tc, bad_arguments);
  tcase_add_test(tc, arguments_are_url_decoded);
  tcase_add_test(tc, sql_text_is_just_text);
  tcase_add_test(tc, arguments_the_store_suite_queries_with);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
