/*
 * test_charset_ingest.c - ingest/raw_text: which instances the plugin decodes
 * itself, which values replace Orthanc's, and what is left to Orthanc (with a
 * stand-in for Orthanc's /instances/{id}/content/{tag} route).
 */
#include <stdlib.h>

#include "common.h"
#include "ingest/raw_text.h"
#include "util/errors.h"
#include "util/str.h"

typedef struct fake_value {
  const char *tag;
  const char *bytes;
  size_t len;
  int error; /* returned instead of the bytes when not 0 */
} fake_value;

static fake_value *fake_values;
static size_t fake_count;
static int fake_calls;

static int fake_raw(void *ctx, char **out, size_t *outlen, const char *uri, size_t max, char *err, size_t errsize)
{
  const char *tag = strrchr(uri, '/') + 1;
  size_t i;

  (void)ctx;
  fake_calls++;
  *out = NULL;
  *outlen = 0;
  ck_assert(strncmp(uri, "/instances/abc-123/content/", 27) == 0);
  for (i = 0; i < fake_count; i++) {
    if (strcmp(fake_values[i].tag, tag) != 0)
      continue;
    if (fake_values[i].error)
      return rr_fail(err, errsize, fake_values[i].error, "stand-in error for %s", tag);
    if (fake_values[i].len > max)
      return RR_EFULL;
    *out = malloc(fake_values[i].len + 1);
    memcpy(*out, fake_values[i].bytes, fake_values[i].len);
    (*out)[fake_values[i].len] = '\0';
    *outlen = fake_values[i].len;
    return 0;
  }
  return RR_ENOTFOUND;
}

#define VAL(t, s) {(t), (s), sizeof(s) - 1, 0}

static const rr_rest_source SRC = {NULL, NULL, fake_raw};

static void orthanc_item(rr_ingest_item *item)
{
  memset(item, 0, sizeof(*item));
  rr_str_copy(item->study.patient_name, sizeof(item->study.patient_name), "as Orthanc decoded it");
  rr_str_copy(item->study.patient_id, sizeof(item->study.patient_id), "H32EXAMPLE");
  rr_str_copy(item->study.study_description, sizeof(item->study.study_description), "Orthanc's description");
}

START_TEST(ir13_ir87_decoded_by_the_plugin)
{
  fake_value v[] = {
      VAL("0008-0005", "ISO 2022 IR 13\\ISO 2022 IR 87 "),
      VAL("0010-0010", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J"),
      VAL("0010-0020", "H32EXAMPLE"),
      VAL("0008-103e", "\x1b$BF,It\x1b(J MRI "),
  };
  rr_raw_text t;
  rr_ingest_item item;
  char err[256] = "";

  fake_values = v;
  fake_count = 4;
  fake_calls = 0;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", err, sizeof(err)), 0);
  ck_assert(t.used);
  ck_assert_str_eq(t.charset, "ISO 2022 IR 13\\ISO 2022 IR 87 ");
  ck_assert_uint_eq(t.decoded, 3);
  ck_assert_uint_eq(t.kept, 0);
  ck_assert_int_eq(fake_calls, 1 + RR_RAW_TEXT_FIELDS);
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  ck_assert_str_eq(item.study.patient_name, "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
  ck_assert_str_eq(item.study.patient_id, "H32EXAMPLE");
  ck_assert_str_eq(item.series.series_description, "頭部 MRI");
  /* absent in the file: Orthanc's value (here a stand-in) stays */
  ck_assert_str_eq(item.study.study_description, "Orthanc's description");
}
END_TEST

START_TEST(single_sets_left_to_orthanc)
{
  fake_value v[] = {VAL("0008-0005", "ISO_IR 100"), VAL("0010-0010", "Buc^J\xe9r\xf4me")};
  rr_raw_text t;
  rr_ingest_item item;
  rr_rest_source no_raw = {NULL, NULL, NULL};

  fake_values = v;
  fake_count = 2;
  fake_calls = 0;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", NULL, 0), 0);
  ck_assert(!t.used);
  ck_assert_int_eq(fake_calls, 1); /* one small call, no more */
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  ck_assert_str_eq(item.study.patient_name, "as Orthanc decoded it");
  /* no (0008,0005) at all */
  fake_count = 0;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", NULL, 0), 0);
  ck_assert(!t.used);
  /* a source without raw reads */
  ck_assert_int_eq(rr_raw_text_read(&t, &no_raw, "abc-123", NULL, 0), 0);
  ck_assert(!t.used);
}
END_TEST

START_TEST(malformed_values_keep_orthancs)
{
  char longv[RR_RAW_TEXT_MAX_VALUE + 2];
  fake_value v[] = {
      VAL("0008-0005", "\\ISO 2022 IR 87"),
      VAL("0010-0010", "Yamada^\x1b$B;3E"), /* a kanji cut in half */
      {"0008-1030", longv, sizeof(longv), 0}, /* over the maximum */
      {"0008-0050", NULL, 0, RR_EUPSTREAM},
      VAL("0008-0080", "\x1b$B;3ED\x1b(B Hospital"),
  };
  rr_raw_text t;
  rr_ingest_item item;
  char err[256] = "";

  memset(longv, 'A', sizeof(longv));
  fake_values = v;
  fake_count = 5;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", err, sizeof(err)), 0);
  ck_assert(t.used);
  ck_assert_uint_eq(t.kept, 3);
  ck_assert_uint_eq(t.decoded, 1);
  ck_assert_ptr_null(strstr(err, "Yamada")); /* no patient data in the reason */
  ck_assert_str_ne(err, "");
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  ck_assert_str_eq(item.study.patient_name, "as Orthanc decoded it");
  ck_assert_str_eq(item.study.study_description, "Orthanc's description");
  ck_assert_str_eq(item.study.institution_name, "山田 Hospital");
  /* Orthanc failing on (0008,0005) itself is the caller's to log */
  v[0].error = RR_EUPSTREAM;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", err, sizeof(err)), RR_EUPSTREAM);
  ck_assert(!t.used);
}
END_TEST

/* ISO_IR 203 is a single set Orthanc 1.10.1 does not know: decoded here. */
START_TEST(sets_orthanc_does_not_know)
{
  fake_value v[] = {VAL("0008-0005", "ISO_IR 203 "), VAL("0010-0010", "\xbcuvre^Zo\xeb \xa4")};
  rr_raw_text t;
  rr_ingest_item item;

  fake_values = v;
  fake_count = 2;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", NULL, 0), 0);
  ck_assert(t.used);
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  ck_assert_str_eq(item.study.patient_name, "Œuvre^Zoë €");
  /* an unknown term: the decoder refuses it, Orthanc's value stays */
  v[0] = (fake_value)VAL("0008-0005", "ISO_IR 999");
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", NULL, 0), 0);
  ck_assert(t.used);
  ck_assert_uint_eq(t.kept, 1);
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  ck_assert_str_eq(item.study.patient_name, "as Orthanc decoded it");
}
END_TEST

/* Same Orthanc values and series: same fingerprint; any change: another. */
START_TEST(fingerprints)
{
  rr_ingest_item a, b;

  orthanc_item(&a);
  rr_str_copy(a.series.orthanc_id, sizeof(a.series.orthanc_id), "s1");
  b = a;
  ck_assert(rr_raw_text_fingerprint(&a) == rr_raw_text_fingerprint(&b));
  ck_assert(rr_raw_text_fingerprint(&a) != 0);
  rr_str_copy(b.study.patient_name, sizeof(b.study.patient_name), "as Orthanc decoded it, corrected");
  ck_assert(rr_raw_text_fingerprint(&a) != rr_raw_text_fingerprint(&b));
  b = a;
  rr_str_copy(b.series.orthanc_id, sizeof(b.series.orthanc_id), "s2");
  ck_assert(rr_raw_text_fingerprint(&a) != rr_raw_text_fingerprint(&b));
  b = a; /* moving text between fields changes it too */
  rr_str_copy(b.study.patient_id, sizeof(b.study.patient_id), "");
  rr_str_copy(b.study.study_description, sizeof(b.study.study_description), "H32EXAMPLEOrthanc's description");
  ck_assert(rr_raw_text_fingerprint(&a) != rr_raw_text_fingerprint(&b));
}
END_TEST

/* A decoded value longer than the store's field is cut at a character
 * boundary, like every other value (util/str.h). */
START_TEST(long_values_cut_at_a_character)
{
  char name[300];
  fake_value v[] = {VAL("0008-0005", "\\ISO 2022 IR 87"), {"0010-0010", name, 0, 0}};
  rr_raw_text t;
  rr_ingest_item item;
  size_t i, n = 0;

  memcpy(name, "\x1b$B", 3);
  for (i = 3; i + 1 < sizeof(name); i += 2) {
    name[i] = ';';
    name[i + 1] = '3';
  }
  v[1].len = i;
  fake_values = v;
  fake_count = 2;
  ck_assert_int_eq(rr_raw_text_read(&t, &SRC, "abc-123", NULL, 0), 0);
  orthanc_item(&item);
  rr_raw_text_apply(&item, &t);
  n = strlen(item.study.patient_name);
  ck_assert_uint_lt(n, RR_PN_SIZE);
  ck_assert_uint_eq(n % 3, 0);
  ck_assert(memcmp(item.study.patient_name + n - 3, "山", 3) == 0);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("charset_ingest");
  TCase *tc = tcase_create("raw_text");
  tcase_add_test(tc, ir13_ir87_decoded_by_the_plugin);
  tcase_add_test(tc, single_sets_left_to_orthanc);
  tcase_add_test(tc, malformed_values_keep_orthancs);
  tcase_add_test(tc, long_values_cut_at_a_character);
  tcase_add_test(tc, sets_orthanc_does_not_know);
  tcase_add_test(tc, fingerprints);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
