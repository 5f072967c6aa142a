#include "str.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

size_t rr_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
  const unsigned char *u = (const unsigned char *)s;
  uint32_t c;
  size_t n, i;

  if (u[0] < 0x80) {
    *cp = u[0];
    return 1;
  } else if ((u[0] & 0xE0) == 0xC0) {
    n = 2;
    c = u[0] & 0x1F;
  } else if ((u[0] & 0xF0) == 0xE0) {
    n = 3;
    c = u[0] & 0x0F;
  } else if ((u[0] & 0xF8) == 0xF0) {
    n = 4;
    c = u[0] & 0x07;
  } else {
    goto invalid;
  }
  if (n > len)
    goto invalid;
  for (i = 1; i < n; i++) {
    if ((u[i] & 0xC0) != 0x80)
      goto invalid;
    c = (c << 6) | (u[i] & 0x3F);
  }
  /* reject overlong forms, surrogates and out-of-range values */
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
      c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    goto invalid;
  *cp = c;
  return n;

invalid:
  *cp = 0xFFFD;
  return 1;
}

size_t rr_utf8_encode(char out[4], uint32_t cp)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

size_t rr_utf8_valid_prefix(const char *s, size_t len)
{
  size_t i = 0, n;
  uint32_t cp;

  while (i < len) {
    n = rr_utf8_decode(s + i, len - i, &cp);
    if (cp == 0xFFFD && n == 1 && (unsigned char)s[i] >= 0x80)
      break;
    i += n;
  }
  return i;
}

size_t rr_str_copyn(char *dst, size_t dstsize, const char *src, size_t srclen)
{
  size_t n;

  if (dstsize == 0)
    return 0;
  if (src == NULL)
    srclen = 0;
  n = srclen < dstsize - 1 ? srclen : dstsize - 1;
  if (n < srclen) {
    /* do not cut a multi-byte sequence: back up to a lead byte */
    while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
      n--;
  }
  if (n > 0)
    memcpy(dst, src, n);
  dst[n] = '\0';
  return n;
}

size_t rr_str_copy(char *dst, size_t dstsize, const char *src)
{
  return rr_str_copyn(dst, dstsize, src, src ? strlen(src) : 0);
}

size_t rr_str_copy_trim(char *dst, size_t dstsize, const char *src)
{
  size_t len;

  if (src == NULL)
    return rr_str_copyn(dst, dstsize, "", 0);
  while (*src == ' ')
    src++;
  len = strlen(src);
  while (len > 0 && (src[len - 1] == ' ' || src[len - 1] == '\0'))
    len--;
  return rr_str_copyn(dst, dstsize, src, len);
}

bool rr_orthanc_id_valid(const char *s)
{
  size_t i, len;

  if (s == NULL || (len = strlen(s)) == 0 || len > 63)
    return false;
  for (i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || s[i] == '-'))
      return false;
  return true;
}

bool rr_uid_valid(const char *s)
{
  size_t i, len;
  bool prev_dot = true;

  if (s == NULL)
    return false;
  len = strlen(s);
  if (len == 0 || len > 64)
    return false;
  for (i = 0; i < len; i++) {
    if (s[i] == '.') {
      if (prev_dot)
        return false;
      prev_dot = true;
    } else if (s[i] >= '0' && s[i] <= '9') {
      prev_dot = false;
    } else {
      return false;
    }
  }
  return !prev_dot;
}

static int days_in_month(int year, int month)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

  return month == 2 && leap ? 29 : days[month - 1];
}

bool rr_date_valid(const char *d)
{
  int i, year, month, day;

  if (d == NULL || strlen(d) != 8)
    return false;
  for (i = 0; i < 8; i++)
    if (d[i] < '0' || d[i] > '9')
      return false;
  year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
  month = (d[4] - '0') * 10 + (d[5] - '0');
  day = (d[6] - '0') * 10 + (d[7] - '0');
  if (year < 1 || month < 1 || month > 12 || day < 1)
    return false;
  return day <= days_in_month(year, month);
}

int rr_date_parse(char out[9], const char *in)
{
  char tmp[9];
  size_t len;

  out[0] = '\0';
  if (in == NULL)
    return RR_EINVAL;
  len = strlen(in);
  if (len == 8) {
    memcpy(tmp, in, 8);
  } else if (len == 10 && in[4] == '-' && in[7] == '-') {
    memcpy(tmp, in, 4);
    memcpy(tmp + 4, in + 5, 2);
    memcpy(tmp + 6, in + 8, 2);
  } else {
    return RR_EINVAL;
  }
  tmp[8] = '\0';
  if (!rr_date_valid(tmp))
    return RR_EINVAL;
  memcpy(out, tmp, 9);
  return 0;
}

int64_t rr_days_from_civil(int64_t y, int64_t m, int64_t d)
{
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* n decimal digits at s as a number, or -1. */
static int digits_value(const char *s, int n)
{
  int i, v = 0;

  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int rr_time_parse_ms(int64_t *out, const char *s)
{
  char date[9];
  int h = 0, mi = 0, sec = 0, ms = 0, scale = 100;
  const char *p;

  *out = 0;
  if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
    return RR_EINVAL;
  memcpy(date, s, 4);
  memcpy(date + 4, s + 5, 2);
  memcpy(date + 6, s + 8, 2);
  date[8] = '\0';
  if (!rr_date_valid(date))
    return RR_EINVAL;
  p = s + 10;
  if (*p != '\0') {
    /* "THH:MM:SS" first (nothing is read past the string's end) */
    if (strlen(p) < 9 || p[0] != 'T' || p[3] != ':' || p[6] != ':' || (h = digits_value(p + 1, 2)) < 0 ||
        (mi = digits_value(p + 4, 2)) < 0 || (sec = digits_value(p + 7, 2)) < 0 || h > 23 || mi > 59 || sec > 60)
      return RR_EINVAL;
    p += 9;
    if (*p == '.') {
      if (p[1] < '0' || p[1] > '9')
        return RR_EINVAL;
      for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
        ms += (*p - '0') * scale; /* digits past milliseconds add 0 */
    }
    if (strcmp(p, "Z") != 0 && *p != '\0')
      return RR_EINVAL;
  }
  *out = (rr_days_from_civil(digits_value(date, 4), digits_value(date + 4, 2), digits_value(date + 6, 2)) * 86400 +
          h * 3600 + mi * 60 + sec) * 1000 + ms;
  return 0;
}

int rr_parse_i64(int64_t *out, const char *s, int64_t min, int64_t max)
{
  char *end = NULL;
  long long v;

  if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '+')
    return RR_EINVAL;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return RR_EINVAL;
  if (v < min || v > max)
    return RR_EINVAL;
  *out = (int64_t)v;
  return 0;
}

int rr_parse_double(double *out, const char *s)
{
  char *end = NULL;
  double v;

  if (s == NULL)
    return RR_EINVAL;
  while (*s == ' ')
    s++;
  if (*s == '\0')
    return RR_EINVAL;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || !isfinite(v))
    return RR_EINVAL;
  while (*end == ' ')
    end++;
  if (*end != '\0')
    return RR_EINVAL;
  *out = v;
  return 0;
}

int rr_parse_ds_array(double *out, size_t n, const char *s)
{
  char item[64];
  size_t i = 0, len;
  const char *p = s, *sep;

  if (s == NULL || *s == '\0')
    return RR_EINVAL;
  for (;;) {
    sep = strchr(p, '\\');
    len = sep ? (size_t)(sep - p) : strlen(p);
    if (i >= n || len >= sizeof(item))
      return RR_EINVAL;
    memcpy(item, p, len);
    item[len] = '\0';
    if (rr_parse_double(&out[i], item) < 0)
      return RR_EINVAL;
    i++;
    if (sep == NULL)
      break;
    p = sep + 1;
  }
  return i == n ? 0 : RR_EINVAL;
}

void rr_time_iso8601(char out[21], time_t t)
{
  struct tm tm;

  gmtime_r(&t, &tm);
  if (strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    out[0] = '\0';
}

bool rr_str_ieq(const char *a, const char *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  while (*a && *b) {
    if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
      return false;
    a++;
    b++;
  }
  return *a == *b;
}

bool rr_str_starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool rr_str_ends_with(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);

  return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int rr_root_regex(char *out, size_t size, const char *root)
{
  size_t i, j = 0, len = strlen(root);

  if (len > 0 && root[len - 1] == '/')
    len--;
  for (i = 0; i < len; i++) {
    if (root[i] == '.') {
      if (j + 2 >= size)
        return RR_EFULL;
      out[j++] = '\\';
    } else if (j + 1 >= size) {
      return RR_EFULL;
    }
    out[j++] = root[i];
  }
  if (size == 0)
    return RR_EFULL;
  out[j] = '\0';
  return 0;
}

int rr_hex_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int rr_url_decode(char *out, size_t size, const char *in)
{
  size_t j = 0;
  int hi, lo;

  if (size == 0)
    return RR_EFULL;
  for (; *in; in++) {
    char c = *in;
    if (c == '+') {
      c = ' ';
    } else if (c == '%' && (hi = rr_hex_value(in[1])) >= 0 && (lo = rr_hex_value(in[2])) >= 0) {
      c = (char)(hi * 16 + lo);
      in += 2;
    }
    if (j + 1 >= size)
      return RR_EFULL;
    out[j++] = c;
  }
  out[j] = '\0';
  return 0;
}

void rr_hex_encode(char *out, const unsigned char *in, size_t n)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}
