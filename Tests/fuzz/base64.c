/*
 * base64.c - fuzz target: the decoders of encoded text: base64
 * (rr_base64_decode, util/base64.h; the AI's inline images and Basic
 * credentials' alphabet) and URL query components (rr_url_decode).
 *
 * Properties: decoding then encoding gives the input back (the decoder
 * accepts only canonical base64); encoding any bytes then decoding gives
 * them back; decoded query text is never longer than its encoding.
 */
#include "fuzz.h"
#include "util/base64.h"
#include "util/errors.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  rr_buf a, b;
  char *s, *decoded;

  rr_buf_init(&a, 1 << 20);
  rr_buf_init(&b, 1 << 20);
  if (rr_base64_decode(&a, (const char *)data, size) == 0) {
    RR_FUZZ_ASSERT(a.len <= size / 4 * 3);
    RR_FUZZ_ASSERT(rr_base64_encode(&b, a.ptr, a.len) == 0);
    RR_FUZZ_ASSERT(b.len == size && (size == 0 || memcmp(b.ptr, data, size) == 0));
  }
  rr_buf_dispose(&a);
  rr_buf_dispose(&b);

  rr_buf_init(&a, 1 << 22);
  rr_buf_init(&b, 1 << 22);
  RR_FUZZ_ASSERT(rr_base64_encode(&a, data, size) == 0);
  RR_FUZZ_ASSERT(a.len == rr_base64_encoded_len(size));
  RR_FUZZ_ASSERT(rr_base64_decode(&b, a.ptr, a.len) == 0);
  RR_FUZZ_ASSERT(b.len == size && (size == 0 || memcmp(b.ptr, data, size) == 0));
  rr_buf_dispose(&a);
  rr_buf_dispose(&b);

  s = rr_fuzz_string(data, size);
  decoded = malloc(size + 1);
  RR_FUZZ_ASSERT(decoded != NULL);
  if (rr_url_decode(decoded, size + 1, s) == 0)
    RR_FUZZ_ASSERT(strlen(decoded) <= strlen(s));
  free(decoded);
  free(s);
  return 0;
}
