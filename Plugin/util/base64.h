/*
 * base64.h - standard base64 (RFC 4648 section 4, alphabet "A-Za-z0-9+/",
 * '=' padding, no line breaks), as Gemini's inline_data and OpenAI's
 * data: URLs expect.
 *
 * Contract: both functions append to `out` (an initialised rr_buf whose
 * maximum bounds the result). On failure the buffer keeps its previous
 * content. Pure and thread-safe (one owner per buffer).
 */
#ifndef RR_UTIL_BASE64_H
#define RR_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Value (0..63) of one character of the standard alphabet, or of the
 * URL-safe one ("-" and "_" for 62 and 63, RFC 4648 section 5) when `url`;
 * -1 for any other character, "=" included. */
int rr_base64_digit(char c, bool url);

/* Length of the encoding of `len` bytes (without NUL), or 0 when it would
 * overflow size_t. */
size_t rr_base64_encoded_len(size_t len);

/* Append the base64 encoding of data[0..len) to out. RR_EFULL when the
 * result would pass out's maximum, RR_ENOMEM. data may be NULL when len is 0. */
int rr_base64_encode(rr_buf *out, const void *data, size_t len);

/* Append the bytes encoded by text[0..len) to out. Padding is required
 * (len a multiple of 4); whitespace and other characters are refused with
 * RR_EINVAL, as is a final group with non-zero unused bits. */
int rr_base64_decode(rr_buf *out, const char *text, size_t len);

#endif
