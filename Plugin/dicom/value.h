/*
 * value.h - reading DICOM element values as the tags give them: text,
 * backslash-separated when the element has several values ("40\\400"),
 * padded with spaces.
 *
 * Inputs: value strings may be NULL (no value). Outputs: caller buffers with
 * their size; a string written is NUL-terminated (when the size is > 0) and
 * never cut inside a UTF-8 sequence. Pure and thread-safe; no allocation.
 */
#ifndef RR_DICOM_VALUE_H
#define RR_DICOM_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy value `index` (0-based) of a backslash-separated DICOM value s,
 * trimmed, into dst (at most 127 bytes of it are looked at). Returns false
 * (dst untouched) when s is NULL or has no such value. */
bool rr_dicom_value_at(char *dst, size_t dstsize, const char *s, size_t index);

/* The first value of a DS/IS element (WindowCenter "40\\400" gives 40),
 * a finite number. 0, or RR_EINVAL when s is NULL, the first value is empty
 * or is not a number (*out is then unspecified). */
int rr_dicom_first_double(double *out, const char *s);

/* The first value of an IS/US/SS element as a whole number in [min, max].
 * 0, or RR_EINVAL when s is NULL, the first value is empty, not a whole
 * number or out of range (*out untouched). */
int rr_dicom_first_i64(int64_t *out, const char *s, int64_t min, int64_t max);

#endif
