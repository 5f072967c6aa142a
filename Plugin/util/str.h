/*
 * str.h - bounded string helpers, validation of DICOM values, time formatting.
 *
 * Contract: every function writing into a caller buffer takes its size, never
 * writes past it and always NUL-terminates (when size > 0). Copies never cut
 * a UTF-8 sequence in half. Inputs may be NULL where stated ("" is used).
 * All functions are pure and thread-safe.
 */
#ifndef RR_UTIL_STR_H
#define RR_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Copy `srclen` bytes of src (not necessarily NUL-terminated) into dst,
 * truncating at a UTF-8 character boundary. Returns the bytes copied. */
size_t rr_str_copyn(char *dst, size_t dstsize, const char *src, size_t srclen);
/* Same for a NUL-terminated src; NULL copies "". */
size_t rr_str_copy(char *dst, size_t dstsize, const char *src);
/* Copy and trim leading/trailing spaces (DICOM pads values with spaces). */
size_t rr_str_copy_trim(char *dst, size_t dstsize, const char *src);

/* Length of the longest prefix of s[0..len) that is valid UTF-8. */
size_t rr_utf8_valid_prefix(const char *s, size_t len);
/* Decode one code point at s (len bytes available). Returns the number of
 * bytes consumed (>= 1) and stores the code point, or U+FFFD for an invalid
 * sequence (consuming one byte). len must be > 0. */
size_t rr_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp into out (4 bytes room). Returns the length. */
size_t rr_utf8_encode(char out[4], uint32_t cp);

/* A DICOM UID: 1 to 64 characters, digits and dots, not starting or ending
 * with a dot, no empty component. */
bool rr_uid_valid(const char *s);
/* An Orthanc resource identifier (its SHA-1 groups): 1 to 63 characters,
 * lower-case hexadecimal digits and '-'. NULL is not one. */
bool rr_orthanc_id_valid(const char *s);
/* A calendar date YYYYMMDD that exists (leap years included). */
bool rr_date_valid(const char *yyyymmdd);
/* Days since 1970-01-01 of a proleptic Gregorian date (y, m 1-12, d 1-31;
 * not validated: use rr_date_valid first where the date comes from outside). */
int64_t rr_days_from_civil(int64_t y, int64_t m, int64_t d);
/* Accept YYYYMMDD or YYYY-MM-DD, validate, write YYYYMMDD into out[9]. */
int rr_date_parse(char out[9], const char *in);
/* An ISO 8601 date or time in UTC, "YYYY-MM-DD" (midnight) or
 * "YYYY-MM-DDTHH:MM:SS[.fraction][Z]" (what browsers' toISOString writes),
 * as milliseconds since 1970-01-01T00:00:00Z (digits past the millisecond
 * are ignored; second 60 is accepted). RR_EINVAL (and *out 0) for anything
 * else, the empty string and other time zones included. */
int rr_time_parse_ms(int64_t *out, const char *s);

/* Parse a whole decimal integer in [min, max]; no sign other than '-', no
 * spaces, no trailing garbage. */
int rr_parse_i64(int64_t *out, const char *s, int64_t min, int64_t max);
/* Parse a DICOM IS/DS value leniently (surrounding spaces allowed). */
int rr_parse_double(double *out, const char *s);
/* Parse up to `n` backslash-separated DS numbers ("1\2\3"). Returns 0 only
 * when exactly n finite numbers were read. */
int rr_parse_ds_array(double *out, size_t n, const char *s);

/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out[21]. */
void rr_time_iso8601(char out[21], time_t t);

/* ASCII case-insensitive equality. */
bool rr_str_ieq(const char *a, const char *b);
bool rr_str_starts_with(const char *s, const char *prefix);
bool rr_str_ends_with(const char *s, const char *suffix);

/* Value of a hex digit (either case), or -1. */
int rr_hex_value(char c);
/* Write n bytes as 2n lower-case hex digits and a NUL into out (2n+1 bytes). */
void rr_hex_encode(char *out, const unsigned char *in, size_t n);

/* Decode a URL query component: "%XX" and '+' (space). A '%' not followed
 * by two hex digits is kept as it is. Fails with RR_EFULL when out is too
 * small. (Orthanc 1.10.1 hands GET arguments to plugins undecoded.) */
int rr_url_decode(char *out, size_t size, const char *in);

/* Regular expression matching a URL root ("/reading-room/") literally,
 * '.' escaped, without the trailing '/'. Returns RR_EFULL if out is small. */
int rr_root_regex(char *out, size_t size, const char *root);

#endif
