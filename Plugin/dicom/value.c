/*
 * value.c - see value.h.
 */
#include "dicom/value.h"

#include <math.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

bool rr_dicom_value_at(char *dst, size_t dstsize, const char *s, size_t index)
{
  const char *p = s, *end;
  char tmp[128];
  size_t i;

  if (s == NULL)
    return false;
  for (i = 0; i < index; i++) {
    p = strchr(p, '\\');
    if (p == NULL)
      return false;
    p++;
  }
  end = strchr(p, '\\');
  rr_str_copyn(tmp, sizeof(tmp), p, end ? (size_t)(end - p) : strlen(p));
  rr_str_copy_trim(dst, dstsize, tmp);
  return true;
}

int rr_dicom_first_double(double *out, const char *s)
{
  char c[128];

  if (!rr_dicom_value_at(c, sizeof(c), s, 0) || c[0] == '\0')
    return RR_EINVAL;
  return rr_parse_double(out, c) == 0 && isfinite(*out) ? 0 : RR_EINVAL;
}

int rr_dicom_first_i64(int64_t *out, const char *s, int64_t min, int64_t max)
{
  char c[128];

  if (!rr_dicom_value_at(c, sizeof(c), s, 0) || c[0] == '\0')
    return RR_EINVAL;
  return rr_parse_i64(out, c, min, max) == 0 ? 0 : RR_EINVAL;
}
