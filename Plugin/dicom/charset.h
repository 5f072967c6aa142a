/*
 * charset.h - decode the raw bytes of a DICOM text value into UTF-8, for
 * every character set of PS3.3 C.12.1.1.2, with or without code extensions.
 *
 * Single character sets (no code extensions): ISO_IR 6 (read as Latin-1, as
 * pydicom does, so that stray 8-bit bytes are not lost), ISO_IR 100, 101,
 * 109, 110, 144, 127, 126, 138, 148, 203, 166, 13 (JIS X 0201: Romaji and
 * half-width katakana), ISO_IR 192 (UTF-8, validated), GB18030 and GBK.
 *
 * Code extensions (PS3.5 6.1.2.5): every ISO 2022 term (ISO 2022 IR 6, 100,
 * 101, 109, 110, 144, 127, 126, 138, 148, 203, 13, 166, 87, 159, 149, 58),
 * and any (0008,0005) with more than one value. Value 1 of (0008,0005)
 * (empty = ISO 2022 IR 6) gives the initial G0/G1 designations; escape
 * sequences (ESC ( B, ESC ( J, ESC ) I, ESC - A/B/C/D/L/G/F/H/M/b/T,
 * ESC $ B, ESC $ ( D, ESC $ ) C, ESC $ ) A) switch G0 or G1; the initial
 * designations come back at every CR, LF, FF and TAB, at each `\` between
 * values, and for PN at each `^` and `=` (delimiters are recognised only
 * while G0 is a one-byte set, since a JIS X 0208 byte pair may contain 0x5C).
 * Every escape sequence the standard defines is accepted wherever it occurs,
 * even when (0008,0005) does not list its term (as DCMTK and pydicom do).
 * JIS X 0201 Romaji in G0 is read as ASCII (0x5C is the value delimiter).
 * A value 1 of ISO_IR 192, GB18030 or GBK decodes the whole value with that
 * set (those sets take no code extensions; further values are ignored).
 * Trailing spaces and NUL padding are removed before decoding.
 *
 * Decoding uses glibc's iconv (UTF-8 output). No Orthanc dependency; pure
 * function of its inputs; thread-safe; no allocation beyond iconv's own.
 */
#ifndef RR_DICOM_CHARSET_H
#define RR_DICOM_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

/* How a value is split into parts at whose start the initial character sets
 * come back. */
typedef enum rr_charset_vr {
  RR_CHARSET_TEXT = 0,  /* ST, LT, UT: one value; `\` is a character */
  RR_CHARSET_STRING,    /* SH, LO, CS, UC...: `\` separates values */
  RR_CHARSET_PN         /* PN: `\` separates values, `^` components, `=` groups */
} rr_charset_vr;

/* Worst-case growth: one input byte never gives more than 3 bytes of UTF-8
 * (two-byte sets give at most 4 bytes per pair). A buffer of
 * RR_CHARSET_OUT_MAX(len) bytes always suffices for a value of len bytes. */
#define RR_CHARSET_OUT_MAX(len) ((len) * 3 + 1)

/* Decode value[0..valuelen) into out (outsize bytes, NUL-terminated on
 * success; *outlen, when not NULL, gets the length without the NUL).
 * charset is the raw value of (0008,0005) (charsetlen bytes, backslash-
 * separated, spaces around terms ignored; NULL or empty = default
 * repertoire). value may be NULL when valuelen is 0.
 * Returns 0; RR_EINVAL for an unknown defined term, an unknown or truncated
 * escape sequence, a byte invalid in the active character set, or an
 * embedded NUL; RR_EFULL when out is too small; RR_EUNSUPPORTED when iconv
 * lacks a converter. On failure out holds "" (when outsize > 0). */
int rr_charset_decode(char *out, size_t outsize, size_t *outlen, const char *charset, size_t charsetlen,
                      const unsigned char *value, size_t valuelen, rr_charset_vr vr);

/* True when (0008,0005) uses code extensions: it has more than one value or
 * names an ISO 2022 term (the cases Orthanc 1.10.1 can get wrong). */
bool rr_charset_has_extensions(const char *charset, size_t charsetlen);

#endif
