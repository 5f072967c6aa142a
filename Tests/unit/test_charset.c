/*
 * test_charset.c - dicom/charset: every character set of PS3.3 C.12.1.1.2,
 * with and without code extensions, from the examples of PS3.5 annexes H,
 * I, J and K (the bytes of the standard's character-set test files) and
 * bytes built here; malformed escape sequences; output at its limit.
 */
#include <stdint.h>

#include "common.h"
#include "dicom/charset.h"
#include "util/errors.h"

#define CS(s) (s), strlen(s)
#define V(s) (const unsigned char *)(s), sizeof(s) - 1

static char out[1024];

static int dec(const char *cs, const char *v, size_t vlen, rr_charset_vr vr)
{
  size_t n = 99;
  int e = rr_charset_decode(out, sizeof(out), &n, cs, cs ? strlen(cs) : 0, (const unsigned char *)v, vlen, vr);
  if (e == 0)
    ck_assert_uint_eq(n, strlen(out));
  else
    ck_assert_str_eq(out, "");
  return e;
}

#define DEC_OK(cs, lit, vr, expected)                                \
  do {                                                               \
    ck_assert_int_eq(dec((cs), (lit), sizeof(lit) - 1, (vr)), 0);    \
    ck_assert_str_eq(out, (expected));                               \
  } while (0)

#define DEC_FAIL(cs, lit, vr, code) ck_assert_int_eq(dec((cs), (lit), sizeof(lit) - 1, (vr)), (code))

/* PS3.5 H.3.1: Japanese, value 1 empty, ISO 2022 IR 87 (chrH31.dcm). */
START_TEST(annex_h_ir87)
{
  DEC_OK("\\ISO 2022 IR 87",
         "Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B", RR_CHARSET_PN,
         "Yamada^Tarou=山田^太郎=やまだ^たろう");
  /* chrJapMulti.dcm, and the same with value 1 written out (chrJapMultiExplicitIR6.dcm) */
  DEC_OK("\\ISO 2022 IR 87", "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B ", RR_CHARSET_PN, "やまだ^たろう");
  DEC_OK("ISO 2022 IR 6\\ISO 2022 IR 87", "\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B ", RR_CHARSET_PN, "やまだ^たろう");
  /* a single ISO 2022 term is code extensions too */
  DEC_OK("ISO 2022 IR 87", "\x1b$B;3ED\x1b(B", RR_CHARSET_STRING, "山田");
}
END_TEST

/* PS3.5 H.3.2: half-width katakana in G1, kanji in G0, ESC ( J back to
 * JIS X 0201 Romaji (chrH32.dcm) - what Orthanc 1.10.1 gets wrong. */
START_TEST(annex_h_ir13_ir87)
{
  DEC_OK("ISO 2022 IR 13\\ISO 2022 IR 87",
         "\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J",
         RR_CHARSET_PN, "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう");
  /* ISO_IR 13 alone: JIS X 0201, no escape sequences */
  DEC_OK("ISO_IR 13", "\xd4\xcf\xc0\xde^\xc0\xdb\xb3", RR_CHARSET_PN, "ﾔﾏﾀﾞ^ﾀﾛｳ");
  /* 0xE0 is no JIS X 0201 character */
  DEC_FAIL("ISO_IR 13", "\xe0", RR_CHARSET_PN, RR_EINVAL);
  /* JIS X 0212 (ISO 2022 IR 159): 0x3021 is U+4E02 */
  DEC_OK("\\ISO 2022 IR 87\\ISO 2022 IR 159", "A\x1b$(D\x30\x21\x1b(B", RR_CHARSET_STRING, "A丂");
}
END_TEST

/* PS3.5 I.2: Korean, KS X 1001 in G1 (chrI2.dcm, chrKoreanMulti.dcm). */
START_TEST(annex_i_korean)
{
  DEC_OK("\\ISO 2022 IR 149",
         "Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf", RR_CHARSET_PN,
         "Hong^Gildong=洪^吉洞=홍^길동");
  DEC_OK("\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\xc8\xf1\xc1\xdf\x1b(B ", RR_CHARSET_PN, "김희중");
  /* a lone lead byte */
  DEC_FAIL("\\ISO 2022 IR 149", "\x1b$)C\xb1", RR_CHARSET_PN, RR_EINVAL);
}
END_TEST

/* PS3.5 J: UTF-8 and GB18030 (chrX1.dcm, chrX2.dcm); K: GB 2312 with code
 * extensions and GBK. */
START_TEST(annex_j_k_chinese)
{
  DEC_OK("ISO_IR 192", "Wang^XiaoDong=\xe7\x8e\x8b^\xe5\xb0\x8f\xe6\x9d\xb1= ", RR_CHARSET_PN, "Wang^XiaoDong=王^小東=");
  DEC_OK("GB18030", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", RR_CHARSET_PN, "Wang^XiaoDong=王^小东=");
  DEC_OK("GBK", "Wang^XiaoDong=\xcd\xf5^\xd0\xa1\xb6\xab=", RR_CHARSET_PN, "Wang^XiaoDong=王^小东=");
  DEC_OK("\\ISO 2022 IR 58", "Zhang^XiaoDong=\x1b$)A\xd5\xc5^\x1b$)A\xd0\xa1\xb6\xab=", RR_CHARSET_PN,
         "Zhang^XiaoDong=张^小东=");
  /* GB18030 four-byte sequence: U+20AC is 0xA2E3, U+00E9 is 0xA8A6 */
  DEC_OK("GB18030", "\xa2\xe3\xa8\xa6", RR_CHARSET_STRING, "€é");
  /* invalid UTF-8 is refused, not passed on */
  DEC_FAIL("ISO_IR 192", "ab\xc3", RR_CHARSET_STRING, RR_EINVAL);
  DEC_FAIL("ISO_IR 192", "\xff\xfe", RR_CHARSET_STRING, RR_EINVAL);
  /* ISO_IR 192 takes no code extensions: further values are ignored */
  DEC_OK("ISO_IR 192\\ISO 2022 IR 87", "\xc3\xa9", RR_CHARSET_STRING, "é");
}
END_TEST

/* Every one-byte set, alone and as an ISO 2022 G1 set by escape sequence. */
START_TEST(single_byte_sets)
{
  static const struct {
    const char *term, *term2022, *esc;
    const char byte[2];
    const char *expected;
  } sets[] = {
      {"ISO_IR 100", "ISO 2022 IR 100", "\x1b-A", "\xe9", "é"}, {"ISO_IR 101", "ISO 2022 IR 101", "\x1b-B", "\xb1", "ą"},
      {"ISO_IR 109", "ISO 2022 IR 109", "\x1b-C", "\xfd", "ŭ"}, {"ISO_IR 110", "ISO 2022 IR 110", "\x1b-D", "\xf1", "ņ"},
      {"ISO_IR 144", "ISO 2022 IR 144", "\x1b-L", "\xd0", "а"}, {"ISO_IR 127", "ISO 2022 IR 127", "\x1b-G", "\xc7", "ا"},
      {"ISO_IR 126", "ISO 2022 IR 126", "\x1b-F", "\xe1", "α"}, {"ISO_IR 138", "ISO 2022 IR 138", "\x1b-H", "\xf9", "ש"},
      {"ISO_IR 148", "ISO 2022 IR 148", "\x1b-M", "\xfd", "ı"}, {"ISO_IR 203", "ISO 2022 IR 203", "\x1b-b", "\xa4", "€"},
      {"ISO_IR 166", "ISO 2022 IR 166", "\x1b-T", "\xa1", "ก"},
  };
  char v[16], cs[64], want[32];
  size_t i;

  for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
    /* alone */
    snprintf(v, sizeof(v), "A%cB", sets[i].byte[0]);
    snprintf(want, sizeof(want), "A%sB", sets[i].expected);
    ck_assert_int_eq(dec(sets[i].term, v, strlen(v), RR_CHARSET_STRING), 0);
    ck_assert_str_eq(out, want);
    /* the ISO 2022 term designates G1 from the start */
    ck_assert_int_eq(dec(sets[i].term2022, v, strlen(v), RR_CHARSET_STRING), 0);
    ck_assert_str_eq(out, want);
    /* an escape sequence switches G1 within the value (PS3.5 6.1.2.5.3) */
    snprintf(cs, sizeof(cs), "ISO 2022 IR 6\\%s", sets[i].term2022);
    snprintf(v, sizeof(v), "A%s%cB", sets[i].esc, sets[i].byte[0]);
    ck_assert_int_eq(dec(cs, v, strlen(v), RR_CHARSET_STRING), 0);
    ck_assert_str_eq(out, want);
  }
  /* the single-set standard's files: chrRuss, chrArab, chrFren */
  DEC_OK("ISO_IR 144", "\xbb\xee\xda" "ce\xdc\xd1" "yp\xd3", RR_CHARSET_PN, "Люкceмбypг");
  DEC_OK("ISO_IR 127", "\xe2\xc8\xc7\xe6\xea^\xe4\xe6\xd2\xc7\xd1 ", RR_CHARSET_PN, "قباني^لنزار");
  DEC_OK("ISO_IR 100", "Buc^J\xe9r\xf4me", RR_CHARSET_PN, "Buc^Jérôme");
  /* several one-byte sets in one value: Latin-1 then Greek then Latin-1 again
   * at the next component (the initial G1 comes back at `^`) */
  DEC_OK("ISO 2022 IR 100\\ISO 2022 IR 126", "Ren\xe9\x1b-F\xe1^Ren\xe9", RR_CHARSET_PN, "Renéα^René");
  /* a code point ISO 8859-3 leaves undefined */
  DEC_FAIL("ISO_IR 109", "\xa5", RR_CHARSET_STRING, RR_EINVAL);
  /* no (0008,0005), ISO_IR 6: ASCII, stray 8-bit bytes read as Latin-1 */
  DEC_OK(NULL, "Doe^John", RR_CHARSET_PN, "Doe^John");
  DEC_OK("", "Doe^J\xf6hn", RR_CHARSET_PN, "Doe^Jöhn");
  DEC_OK("ISO_IR 6", "Doe^J\xf6hn", RR_CHARSET_PN, "Doe^Jöhn");
}
END_TEST

/* The initial sets come back at delimiters (PS3.5 6.1.2.5.3), so a file
 * that forgets to switch back still decodes as the standard says. */
START_TEST(resets_at_delimiters)
{
  /* multi-valued LO: `\` resets G1 to value 1's set (none here) */
  DEC_OK("\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\\AB", RR_CHARSET_STRING, "김\\AB");
  DEC_FAIL("\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\\\xb1\xe8", RR_CHARSET_STRING, RR_EINVAL);
  /* in a text value `\` is a character and does not reset */
  DEC_OK("\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\\\xb1\xe8", RR_CHARSET_TEXT, "김\\김");
  /* CR LF resets in every VR */
  DEC_FAIL("\\ISO 2022 IR 149", "\x1b$)C\xb1\xe8\r\n\xb1\xe8", RR_CHARSET_TEXT, RR_EINVAL);
  /* `^` and `=` reset only in PN */
  DEC_OK("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1^\xe1", RR_CHARSET_PN, "α^á");
  DEC_OK("ISO 2022 IR 100\\ISO 2022 IR 126", "\x1b-F\xe1^\xe1", RR_CHARSET_STRING, "α^α");
  /* a 0x5C inside a JIS X 0208 pair is no delimiter: 0x3C5C is U+5C3A */
  DEC_OK("\\ISO 2022 IR 87", "\x1b$B\x3c\x5c\x1b(B\\A", RR_CHARSET_PN, "尺\\A");
  /* space stays a space between two-byte characters */
  DEC_OK("\\ISO 2022 IR 87", "\x1b$B;3 ED\x1b(B", RR_CHARSET_STRING, "山 田");
}
END_TEST

START_TEST(malformed_input)
{
  /* unknown or truncated escape sequences */
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b$", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b$(", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b$)Z", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b-Z", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1b(Z", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\x1bxyz", RR_CHARSET_PN, RR_EINVAL);
  /* a two-byte character cut in half, or with a control byte inside */
  DEC_FAIL("\\ISO 2022 IR 87", "\x1b$B;", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "\x1b$B;\x01", RR_CHARSET_PN, RR_EINVAL);
  /* a pair JIS X 0208 does not define */
  DEC_FAIL("\\ISO 2022 IR 87", "\x1b$B\x7e\x7e", RR_CHARSET_PN, RR_EINVAL);
  /* an 8-bit byte with nothing designated in G1 */
  DEC_FAIL("\\ISO 2022 IR 87", "A\xe9", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("ISO 2022 IR 6", "A\xe9", RR_CHARSET_PN, RR_EINVAL);
  /* unknown defined terms */
  DEC_FAIL("ISO_IR 999", "A", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("ISO 2022 IR 6\\KLINGON", "A", RR_CHARSET_PN, RR_EINVAL);
  /* an embedded NUL (trailing NUL padding is fine) */
  DEC_FAIL("ISO_IR 100", "A\0B", RR_CHARSET_PN, RR_EINVAL);
  DEC_FAIL("\\ISO 2022 IR 87", "A\0B", RR_CHARSET_PN, RR_EINVAL);
  DEC_OK("ISO_IR 100", "AB\0", RR_CHARSET_PN, "AB");
  /* spaces around terms and trailing padding of (0008,0005) are ignored */
  DEC_OK(" ISO 2022 IR 13 \\ISO 2022 IR 87 \0", "\xb1", RR_CHARSET_PN, "ｱ");
  /* empty values */
  DEC_OK("\\ISO 2022 IR 87", "", RR_CHARSET_PN, "");
  DEC_OK("\\ISO 2022 IR 87", "   ", RR_CHARSET_PN, "");
  ck_assert_int_eq(rr_charset_decode(out, sizeof(out), NULL, "ISO_IR 100", 10, NULL, 0, RR_CHARSET_PN), 0);
  ck_assert_int_eq(rr_charset_decode(out, sizeof(out), NULL, "ISO_IR 100", 10, NULL, 3, RR_CHARSET_PN), RR_EINVAL);
  ck_assert_int_eq(rr_charset_decode(NULL, 0, NULL, "ISO_IR 100", 10, V("A"), RR_CHARSET_PN), RR_EINVAL);
}
END_TEST

/* The output has a hard maximum: exactly enough succeeds, one byte less
 * fails with RR_EFULL and an empty string, on both paths. */
START_TEST(output_at_its_limit)
{
  static const struct {
    const char *cs, *v, *expected;
  } cases[] = {
      {"ISO_IR 100", "Ren\xe9", "René"},
      {"\\ISO 2022 IR 87", "\x1b$B;3ED\x1b(B", "山田"},
      {"ISO 2022 IR 13\\ISO 2022 IR 87", "\xd4\xcf", "ﾔﾏ"},
      {"\\ISO 2022 IR 149", "A\x1b$)C\xb1\xe8", "A김"},
      {"ISO_IR 192", "\xe7\x8e\x8b", "王"},
  };
  char small[32];
  size_t i, need, n;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    need = strlen(cases[i].expected) + 1;
    ck_assert_int_eq(rr_charset_decode(small, need, &n, CS(cases[i].cs), (const unsigned char *)cases[i].v,
                                       strlen(cases[i].v), RR_CHARSET_PN),
                     0);
    ck_assert_str_eq(small, cases[i].expected);
    ck_assert_uint_eq(n, need - 1);
    memset(small, 'x', sizeof(small));
    ck_assert_int_eq(rr_charset_decode(small, need - 1, &n, CS(cases[i].cs), (const unsigned char *)cases[i].v,
                                       strlen(cases[i].v), RR_CHARSET_PN),
                     RR_EFULL);
    ck_assert_str_eq(small, "");
    ck_assert_uint_eq(n, 0);
  }
}
END_TEST

/* RR_CHARSET_OUT_MAX is enough for the worst cases: 3 bytes per one-byte
 * character (katakana, Thai, euro sign), long runs across the run buffer. */
START_TEST(worst_case_growth)
{
  unsigned char v[1000];
  static char big[RR_CHARSET_OUT_MAX(1000)];
  size_t n;

  memset(v, 0xb1, sizeof(v));
  ck_assert_int_eq(rr_charset_decode(big, RR_CHARSET_OUT_MAX(sizeof(v)), &n, CS("ISO_IR 13"), v, sizeof(v),
                                     RR_CHARSET_TEXT),
                   0);
  ck_assert_uint_eq(n, 3000);
  memset(v, 0xa4, sizeof(v));
  ck_assert_int_eq(rr_charset_decode(big, RR_CHARSET_OUT_MAX(sizeof(v)), &n, CS("ISO 2022 IR 203"), v, sizeof(v),
                                     RR_CHARSET_TEXT),
                   0);
  ck_assert_uint_eq(n, 3000);
  ck_assert(memcmp(big + 2997, "€", 3) == 0);
  /* 500 kanji: runs longer than the internal run buffer */
  memcpy(v, "\x1b$B", 3);
  for (n = 3; n + 1 < sizeof(v); n += 2) {
    v[n] = ';';
    v[n + 1] = '3';
  }
  ck_assert_int_eq(rr_charset_decode(big, sizeof(big), &n, CS("\\ISO 2022 IR 87"), v, 999, RR_CHARSET_TEXT), 0);
  ck_assert_uint_eq(n, 498 * 3);
}
END_TEST

START_TEST(which_sets_use_code_extensions)
{
  ck_assert(!rr_charset_has_extensions(NULL, 0));
  ck_assert(!rr_charset_has_extensions(CS("")));
  ck_assert(!rr_charset_has_extensions(CS("ISO_IR 100")));
  ck_assert(!rr_charset_has_extensions(CS("ISO_IR 192 ")));
  ck_assert(!rr_charset_has_extensions(CS("GB18030")));
  ck_assert(rr_charset_has_extensions(CS("\\ISO 2022 IR 87")));
  ck_assert(rr_charset_has_extensions(CS("ISO 2022 IR 13\\ISO 2022 IR 87")));
  ck_assert(rr_charset_has_extensions(CS("ISO 2022 IR 100")));
  ck_assert(rr_charset_has_extensions(CS("ISO_IR 100\\ISO_IR 126")));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("charset");
  TCase *tc = tcase_create("decode");
  tcase_add_test(tc, annex_h_ir87);
  tcase_add_test(tc, annex_h_ir13_ir87);
  tcase_add_test(tc, annex_i_korean);
  tcase_add_test(tc, annex_j_k_chinese);
  tcase_add_test(tc, single_byte_sets);
  tcase_add_test(tc, resets_at_delimiters);
  tcase_add_test(tc, malformed_input);
  tcase_add_test(tc, output_at_its_limit);
  tcase_add_test(tc, worst_case_growth);
  tcase_add_test(tc, which_sets_use_code_extensions);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
