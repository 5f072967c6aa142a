/*
 * text.c - fuzz target: the text parsers every layer uses on untrusted
 * values (util/str.h, util/textnorm.h, dicom/value.h): UTF-8 validation and
 * decoding, DICOM UIDs and dates, ISO 8601 times (the audit's from/to),
 * integers and DS numbers, multi-valued elements, the search folding and
 * glob patterns of the worklist.
 *
 * Properties: decoding UTF-8 consumes 1..4 bytes and re-encodes a valid
 * prefix identically; a parsed date is a valid date; a parsed integer is in
 * its bounds and prints back to its input; folded text is valid UTF-8.
 */
#include <inttypes.h>

#include "dicom/value.h"
#include "fuzz.h"
#include "util/buf.h"
#include "util/str.h"
#include "util/textnorm.h"

static void check_utf8(const char *s, size_t n)
{
  size_t valid = rr_utf8_valid_prefix(s, n), i = 0, k;
  uint32_t cp;
  char enc[4];

  RR_FUZZ_ASSERT(valid <= n);
  while (i < n) {
    k = rr_utf8_decode(s + i, n - i, &cp);
    RR_FUZZ_ASSERT(k >= 1 && k <= 4 && k <= n - i);
    if (i + k <= valid)
      RR_FUZZ_ASSERT(rr_utf8_encode(enc, cp) == k && memcmp(enc, s + i, k) == 0);
    i += k;
  }
}

static void check_numbers(const char *s)
{
  char date[9], back[32], one[65];
  int64_t v, t;
  double d, a[3];

  if (rr_date_parse(date, s) == 0)
    RR_FUZZ_ASSERT(rr_date_valid(date));
  if (rr_uid_valid(s))
    RR_FUZZ_ASSERT(strlen(s) >= 1 && strlen(s) <= 64 && strspn(s, "0123456789.") == strlen(s));
  (void)rr_time_parse_ms(&t, s);
  if (rr_parse_i64(&v, s, -1000000, 1000000) == 0) {
    RR_FUZZ_ASSERT(v >= -1000000 && v <= 1000000);
    snprintf(back, sizeof(back), "%" PRId64, v);
    RR_FUZZ_ASSERT(strcmp(back, s) == 0 || (s[0] == '-' && v == 0) || s[0] == '0' || (s[0] == '-' && s[1] == '0'));
  }
  (void)rr_parse_double(&d, s);
  (void)rr_parse_ds_array(a, 3, s);
  (void)rr_dicom_first_double(&d, s);
  (void)rr_dicom_first_i64(&v, s, 0, INT64_MAX);
  (void)rr_dicom_value_at(one, sizeof(one), s, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = rr_fuzz_string(data, size);
  size_t n = strlen(s);
  rr_buf b;

  check_utf8((const char *)data, size);
  check_numbers(s);
  rr_buf_init(&b, 1 << 20);
  if (rr_text_fold(&b, s, n, false) == 0)
    RR_FUZZ_ASSERT(rr_utf8_valid_prefix(b.ptr ? b.ptr : "", b.len) == b.len);
  rr_buf_clear(&b);
  (void)rr_text_fold(&b, s, n, true);
  rr_buf_clear(&b);
  if (rr_text_has_wildcard(s))
    (void)rr_text_glob(&b, s);
  rr_buf_dispose(&b);
  free(s);
  return 0;
}
