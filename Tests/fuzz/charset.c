/*
 * charset.c - fuzz target: decoding DICOM text values in any character set
 * (rr_charset_decode, dicom/charset.h), the bytes of names and descriptions
 * that come from files (ISO 2022 escape sequences, two-byte sets, GB18030).
 *
 * Input: byte 0 chooses the VR kind (text, string, person name), byte 1 the
 * length n of the (0008,0005) value (n % 64), then n bytes of it, then the
 * value's bytes.
 *
 * Properties: a successful decode is valid UTF-8 without NUL, its length is
 * reported exactly and stays within RR_CHARSET_OUT_MAX; a buffer of that
 * size never answers RR_EFULL; a smaller buffer either succeeds with the
 * same text or answers RR_EFULL, and never writes past its end (ASan);
 * failures leave "" behind; rr_charset_has_extensions never crashes.
 */
#include "fuzz.h"
#include "dicom/charset.h"
#include "util/errors.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  rr_charset_vr vr;
  size_t n, vlen, outlen = 0, small_len = 0, cap;
  const char *charset;
  const unsigned char *value;
  char *out, *small;
  int rc, rc_small;

  if (size < 2)
    return 0;
  vr = (rr_charset_vr)(data[0] % 3);
  n = data[1] % 64;
  if (n > size - 2)
    n = size - 2;
  charset = (const char *)data + 2;
  value = data + 2 + n;
  vlen = size - 2 - n;

  (void)rr_charset_has_extensions(charset, n);

  cap = RR_CHARSET_OUT_MAX(vlen);
  out = malloc(cap);
  RR_FUZZ_ASSERT(out != NULL);
  rc = rr_charset_decode(out, cap, &outlen, charset, n, vlen ? value : NULL, vlen, vr);
  RR_FUZZ_ASSERT(rc != RR_EFULL);
  if (rc == 0) {
    RR_FUZZ_ASSERT(outlen < cap);
    RR_FUZZ_ASSERT(strlen(out) == outlen);
    RR_FUZZ_ASSERT(rr_utf8_valid_prefix(out, outlen) == outlen);
  } else {
    RR_FUZZ_ASSERT(out[0] == '\0');
  }

  /* A tight buffer: exactly what the text needs, or one byte short. */
  small = malloc(outlen + 1);
  RR_FUZZ_ASSERT(small != NULL);
  rc_small = rr_charset_decode(small, outlen + 1, &small_len, charset, n, vlen ? value : NULL, vlen, vr);
  if (rc == 0) {
    RR_FUZZ_ASSERT(rc_small == 0 && small_len == outlen && memcmp(small, out, outlen + 1) == 0);
    if (outlen > 0) {
      rc_small = rr_charset_decode(small, outlen, &small_len, charset, n, value, vlen, vr);
      RR_FUZZ_ASSERT(rc_small == RR_EFULL && small[0] == '\0');
    }
  }
  free(small);
  free(out);
  return 0;
}
