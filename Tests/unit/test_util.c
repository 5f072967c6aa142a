#include <stdint.h>
#include <string.h>

#include "common.h"
#include "util/big_stack.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"
#include "util/strmap.h"
#include "util/textnorm.h"

static void fold_eq(const char *in, bool pattern, const char *expected)
{
  rr_buf b;
  rr_buf_init(&b, 4096);
  ck_assert_int_eq(rr_text_fold(&b, in, strlen(in), pattern), 0);
  ck_assert_str_eq(b.ptr, expected);
  rr_buf_dispose(&b);
}

START_TEST(buf_grows_to_max_and_no_further)
{
  rr_buf b;
  char *s = NULL;
  rr_buf_init(&b, 10);
  ck_assert_int_eq(rr_buf_puts(&b, "12345"), 0);
  ck_assert_int_eq(rr_buf_printf(&b, "%d", 6789), 0);
  ck_assert_str_eq(b.ptr, "123456789");
  ck_assert_int_eq(rr_buf_puts(&b, "ab"), RR_EFULL);
  ck_assert_str_eq(b.ptr, "123456789"); /* unchanged on failure */
  ck_assert_int_eq(rr_buf_putc(&b, 'x'), 0);
  ck_assert_int_eq(b.len, 10);
  ck_assert_int_eq(rr_buf_detach(&s, &b), 0);
  ck_assert_str_eq(s, "123456789x");
  ck_assert_ptr_null(b.ptr);
  free(s);
  rr_buf_dispose(&b);
  rr_buf_dispose(NULL);
}
END_TEST

START_TEST(copy_never_cuts_utf8)
{
  char out[6];
  /* "ééé" is 6 bytes: only two characters fit in 5 bytes */
  ck_assert_uint_eq(rr_str_copy(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9"), 4);
  ck_assert_str_eq(out, "\xc3\xa9\xc3\xa9");
  ck_assert_uint_eq(rr_str_copy(out, sizeof(out), NULL), 0);
  ck_assert_str_eq(out, "");
  rr_str_copy_trim(out, sizeof(out), "  AB  ");
  ck_assert_str_eq(out, "AB");
}
END_TEST

START_TEST(utf8_validation)
{
  ck_assert_uint_eq(rr_utf8_valid_prefix("abc", 3), 3);
  ck_assert_uint_eq(rr_utf8_valid_prefix("a\xff" "b", 3), 1);
  ck_assert_uint_eq(rr_utf8_valid_prefix("\xc0\xaf", 2), 0);       /* overlong */
  ck_assert_uint_eq(rr_utf8_valid_prefix("\xed\xa0\x80", 3), 0);   /* surrogate */
  ck_assert_uint_eq(rr_utf8_valid_prefix("\xe5\xb1\xb1", 2), 0);   /* truncated */
  ck_assert_uint_eq(rr_utf8_valid_prefix("\xe5\xb1\xb1", 3), 3);
}
END_TEST

START_TEST(uids_and_dates)
{
  ck_assert(rr_uid_valid("1.2.840.10008.5.1.4.1.1.2"));
  ck_assert(!rr_uid_valid(""));
  ck_assert(!rr_uid_valid("1..2"));
  ck_assert(!rr_uid_valid(".1.2"));
  ck_assert(!rr_uid_valid("1.2."));
  ck_assert(!rr_uid_valid("1.2.a"));
  ck_assert(!rr_uid_valid("1.2;DROP TABLE studies"));
  ck_assert(!rr_uid_valid("1.11111111111111111111111111111111111111111111111111111111111111111"));
  ck_assert(rr_orthanc_id_valid("a8470492-37e5e0bc-b1195931-e1df08b6-6cb92e8b"));
  ck_assert(!rr_orthanc_id_valid(NULL));
  ck_assert(!rr_orthanc_id_valid(""));
  ck_assert(!rr_orthanc_id_valid("A8470492-37e5e0bc")); /* upper case: not Orthanc's */
  ck_assert(!rr_orthanc_id_valid("not-an-id!"));
  ck_assert(!rr_orthanc_id_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")); /* 64 */
  ck_assert(rr_orthanc_id_valid("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")); /* 63 */
  ck_assert(rr_date_valid("20240229"));
  ck_assert(!rr_date_valid("20230229"));
  ck_assert(rr_date_valid("20000229"));
  ck_assert(!rr_date_valid("19000229"));
  ck_assert(!rr_date_valid("20231301"));
  ck_assert(!rr_date_valid("20230100"));
  ck_assert(!rr_date_valid("2023011"));
  {
    char d[9];
    ck_assert_int_eq(rr_date_parse(d, "2023-02-28"), 0);
    ck_assert_str_eq(d, "20230228");
    ck_assert_int_eq(rr_date_parse(d, "2023-02-30"), RR_EINVAL);
    ck_assert_int_eq(rr_date_parse(d, "2023/02/01"), RR_EINVAL);
  }
}
END_TEST

START_TEST(iso8601_times)
{
  static const char *const bad[] = {"", "2024-01-02T", "2024-01-02 03:04:05", "2024-01-02T3:04:05", "2024-01-02T03:4:05",
                                    "2024-01-02T+3:04:05", "2024-01-02T24:00:00", "2024-01-02T03:60:00",
                                    "2024-01-02T03:04:61", "2024-01-02T03:04:05+01:00", "2024-01-02T03:04:05.Z",
                                    "2024-01-02T03:04:05ZZ", "2023-02-29", "2024/01/02", "20240102", "2024-01-02x"};
  int64_t ms;
  size_t i;

  ck_assert_int_eq(rr_time_parse_ms(&ms, "1970-01-01"), 0);
  ck_assert_int_eq(ms, 0);
  ck_assert_int_eq(rr_time_parse_ms(&ms, "2000-02-29"), 0);
  ck_assert_int_eq(ms, 951782400000LL);
  ck_assert_int_eq(rr_time_parse_ms(&ms, "2024-01-02T03:04:05Z"), 0);
  ck_assert_int_eq(ms, 1704164645000LL);
  ck_assert_int_eq(rr_time_parse_ms(&ms, "2024-01-02T03:04:05"), 0);
  ck_assert_int_eq(ms, 1704164645000LL);
  /* what a browser's Date.toISOString() writes */
  ck_assert_int_eq(rr_time_parse_ms(&ms, "2024-01-02T03:04:05.250Z"), 0);
  ck_assert_int_eq(ms, 1704164645250LL);
  ck_assert_int_eq(rr_time_parse_ms(&ms, "2024-01-02T03:04:05.1234567"), 0);
  ck_assert_int_eq(ms, 1704164645123LL);
  ck_assert_int_eq(rr_time_parse_ms(&ms, "1969-12-31T23:59:59Z"), 0);
  ck_assert_int_eq(ms, -1000);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ms = 42;
    ck_assert_msg(rr_time_parse_ms(&ms, bad[i]) == RR_EINVAL, "%s", bad[i]);
    ck_assert_int_eq(ms, 0);
  }
  ck_assert_int_eq(rr_time_parse_ms(&ms, NULL), RR_EINVAL);
}
END_TEST

START_TEST(json_builder_records_the_first_failure)
{
  json_object *o = json_object_new_object(), *arr = json_object_new_array(), *v;
  int jerr = 0;

  rr_json_set(o, "n", json_object_new_int(1), &jerr);
  rr_json_set_str(o, "s", "caf\xc3\xa9\xff", &jerr); /* the invalid tail is dropped */
  rr_json_set_null(o, "none", &jerr);
  rr_json_set_opt(o, "absent", false, json_object_new_int(2), &jerr);
  rr_json_set_opt(o, "present", true, json_object_new_int(3), &jerr);
  rr_json_add_time(o, "never", 0, &jerr);
  rr_json_add_time(o, "at", 86400, &jerr);
  rr_json_append(arr, json_object_new_int(4), &jerr);
  rr_json_set(o, "list", arr, &jerr);
  ck_assert_int_eq(jerr, 0);
  ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                   "{\"n\":1,\"s\":\"caf\u00e9\",\"none\":null,\"absent\":null,\"present\":3,\"never\":null,"
                   "\"at\":\"1970-01-02T00:00:00Z\",\"list\":[4]}");
  /* a failed allocation (NULL) is recorded, later calls go on, the first error stays */
  rr_json_set(o, "lost", NULL, &jerr);
  ck_assert_int_eq(jerr, RR_ENOMEM);
  rr_json_set(o, "after", json_object_new_int(5), &jerr);
  ck_assert(json_object_object_get_ex(o, "after", &v));
  ck_assert(!json_object_object_get_ex(o, "lost", &v));
  jerr = RR_ESTORE;
  rr_json_append(NULL, json_object_new_int(6), &jerr); /* released, not leaked */
  rr_json_set(NULL, "x", json_object_new_int(7), &jerr);
  rr_json_set_null(NULL, "x", &jerr);
  ck_assert_int_eq(jerr, RR_ESTORE);
  ck_assert_ptr_null(rr_json_done(json_object_get(o), RR_ENOMEM)); /* releases its reference */
  ck_assert_ptr_eq(rr_json_done(o, 0), o);
  ck_assert_ptr_null(rr_json_done(NULL, 0));
  json_object_put(o);
}
END_TEST

START_TEST(numbers)
{
  int64_t v;
  double d[6];
  ck_assert_int_eq(rr_parse_i64(&v, "42", 0, 100), 0);
  ck_assert_int_eq(v, 42);
  ck_assert_int_eq(rr_parse_i64(&v, "-1", 0, 100), RR_EINVAL);
  ck_assert_int_eq(rr_parse_i64(&v, "101", 0, 100), RR_EINVAL);
  ck_assert_int_eq(rr_parse_i64(&v, "1e3", 0, 10000), RR_EINVAL);
  ck_assert_int_eq(rr_parse_i64(&v, " 1", 0, 100), RR_EINVAL);
  ck_assert_int_eq(rr_parse_i64(&v, "99999999999999999999999", 0, INT64_MAX), RR_EINVAL);
  ck_assert_int_eq(rr_parse_ds_array(d, 3, "-275\\-178.1\\85.91"), 0);
  ck_assert(d[2] > 85.9 && d[2] < 85.92);
  ck_assert_int_eq(rr_parse_ds_array(d, 3, "1\\2"), RR_EINVAL);
  ck_assert_int_eq(rr_parse_ds_array(d, 3, "1\\2\\3\\4"), RR_EINVAL);
  ck_assert_int_eq(rr_parse_ds_array(d, 3, "1\\x\\3"), RR_EINVAL);
  ck_assert_int_eq(rr_parse_ds_array(d, 3, "1\\nan\\3"), RR_EINVAL);
}
END_TEST

START_TEST(fold_is_case_and_accent_insensitive)
{
  fold_eq("Müller^Renée", false, "MULLER RENEE");
  fold_eq("  o'brien^  Seán ", false, "OBRIEN SEAN");
  fold_eq("Straße", false, "STRASSE");
  fold_eq("Ångström=Łukasz", false, "ANGSTROM LUKASZ");
  fold_eq("Παπαδόπουλος^Γιώργος", false, "ΠΑΠΑΔΟΠΟΥΛΟΣ ΓΙΩΡΓΟΣ");
  fold_eq("Иванов^Пётр", false, "ИВАНОВ ПЕТР");
  fold_eq("Yamada^Tarou=山田^太郎=やまだ^たろう", false, "YAMADA TAROU 山田 太郎 やまだ たろう");
  fold_eq("e\xcc\x81t\xc3\xa9", false, "ETE"); /* combining acute */
  fold_eq("smi*^j?", true, "SMI* J?");
  fold_eq("smi*", false, "SMI");
  fold_eq("^^^", false, "");
  fold_eq("a\xff" "b", false, "AB"); /* invalid byte dropped */
}
END_TEST

START_TEST(glob_escapes_brackets)
{
  rr_buf b;
  rr_buf_init(&b, 100);
  ck_assert_int_eq(rr_text_glob(&b, "A[B]*?"), 0);
  ck_assert_str_eq(b.ptr, "A[[]B]*?");
  rr_buf_dispose(&b);
}
END_TEST

/* 4 MiB of stack frames (more than an HTTP worker thread's stack holds),
 * touched from end to end, run once on the big stack. */
typedef struct deep_call {
  int runs;
  unsigned sum;
} deep_call;

static unsigned deep(unsigned depth)
{
  volatile unsigned char frame[64 * 1024];
  memset((void *)frame, (int)depth, sizeof(frame));
  return depth == 0 ? frame[100] : frame[sizeof(frame) - 1] + deep(depth - 1);
}

static void deep_work(void *arg)
{
  deep_call *c = arg;
  c->runs++;
  c->sum = deep(63); /* 4 MiB of frames */
}

START_TEST(big_stack_runs_once_with_room)
{
  deep_call c = {0, 0};

  ck_assert_int_eq(rr_big_stack_run(deep_work, &c, 0), 0);
  ck_assert_int_eq(c.runs, 1);
  ck_assert_uint_eq(c.sum, 63u * 64u / 2u);
  ck_assert_int_eq(rr_big_stack_run(NULL, &c, 0), RR_EINVAL);
  ck_assert_int_eq(c.runs, 1);
}
END_TEST

START_TEST(words_iterate)
{
  const char *w;
  size_t pos = 0, len, n = 0;
  while (rr_text_next_word("  ABC DE  F", &pos, &w, &len)) {
    n++;
    if (n == 2)
      ck_assert(len == 2 && strncmp(w, "DE", 2) == 0);
  }
  ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(strmap_basics)
{
  rr_strmap *m;
  int64_t v;
  size_t pos = 0, seen = 0;
  const char *k;
  char key[32];
  int i;

  ck_assert_int_eq(rr_strmap_new(&m, 1000), 0);
  for (i = 0; i < 1000; i++) {
    snprintf(key, sizeof(key), "id-%d", i);
    ck_assert_int_eq(rr_strmap_put(m, key, i), 0);
  }
  ck_assert_int_eq(rr_strmap_put(m, "one-too-many", 1), RR_EFULL);
  ck_assert_int_eq(rr_strmap_put(m, "id-5", 55), 0); /* overwrite is fine */
  ck_assert(rr_strmap_get(m, "id-5", &v) && v == 55);
  ck_assert(!rr_strmap_get(m, "id-1000", &v));
  rr_strmap_mark(m, "id-1");
  while (rr_strmap_next(m, &pos, &k, &v))
    seen++;
  ck_assert_uint_eq(seen, 999);
  rr_strmap_free(m);
  rr_strmap_free(NULL);
}
END_TEST

START_TEST(root_regex_escapes_dots)
{
  char out[64];
  ck_assert_int_eq(rr_root_regex(out, sizeof(out), "/reading.room/"), 0);
  ck_assert_str_eq(out, "/reading\\.room");
  ck_assert_int_eq(rr_root_regex(out, 4, "/reading-room/"), RR_EFULL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, buf_grows_to_max_and_no_further);
  tcase_add_test(tc, copy_never_cuts_utf8);
  tcase_add_test(tc, utf8_validation);
  tcase_add_test(tc, iso8601_times);
  tcase_add_test(tc, json_builder_records_the_first_failure);
  tcase_add_test(tc, uids_and_dates);
  tcase_add_test(tc, numbers);
  tcase_add_test(tc, fold_is_case_and_accent_insensitive);
  tcase_add_test(tc, glob_escapes_brackets);
  tcase_add_test(tc, words_iterate);
  tcase_add_test(tc, strmap_basics);
  tcase_add_test(tc, root_regex_escapes_dots);
  tcase_add_test(tc, big_stack_runs_once_with_room);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
