#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rr_buf_init(rr_buf *buf, size_t max)
{
  buf->ptr = NULL;
  buf->len = 0;
  buf->cap = 0;
  buf->max = max;
}

void rr_buf_dispose(rr_buf *buf)
{
  if (buf == NULL)
    return;
  free(buf->ptr);
  buf->ptr = NULL;
  buf->len = 0;
  buf->cap = 0;
}

void rr_buf_clear(rr_buf *buf)
{
  buf->len = 0;
  if (buf->ptr != NULL)
    buf->ptr[0] = '\0';
}

static int buf_reserve(rr_buf *buf, size_t extra)
{
  size_t need, cap;
  char *p;

  if (extra > buf->max || buf->len > buf->max - extra)
    return RR_EFULL;
  need = buf->len + extra + 1;
  if (need <= buf->cap)
    return 0;
  cap = buf->cap ? buf->cap : 64;
  while (cap < need)
    cap = (cap > ((size_t)-1) / 2) ? need : cap * 2;
  if (cap > buf->max + 1)
    cap = buf->max + 1;
  p = realloc(buf->ptr, cap);
  if (p == NULL)
    return RR_ENOMEM;
  buf->ptr = p;
  buf->cap = cap;
  return 0;
}

int rr_buf_append(rr_buf *buf, const void *data, size_t len)
{
  int error;

  if ((error = buf_reserve(buf, len)) < 0)
    return error;
  if (len > 0)
    memcpy(buf->ptr + buf->len, data, len);
  buf->len += len;
  buf->ptr[buf->len] = '\0';
  return 0;
}

int rr_buf_puts(rr_buf *buf, const char *s)
{
  return rr_buf_append(buf, s, strlen(s));
}

int rr_buf_putc(rr_buf *buf, char c)
{
  return rr_buf_append(buf, &c, 1);
}

int rr_buf_vprintf(rr_buf *buf, const char *fmt, va_list ap)
{
  va_list copy;
  int n, error;

  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0)
    return RR_EINVAL;
  if ((error = buf_reserve(buf, (size_t)n)) < 0)
    return error;
  vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
  buf->len += (size_t)n;
  return 0;
}

int rr_buf_printf(rr_buf *buf, const char *fmt, ...)
{
  va_list ap;
  int error;

  va_start(ap, fmt);
  error = rr_buf_vprintf(buf, fmt, ap);
  va_end(ap);
  return error;
}

int rr_buf_detach(char **out, rr_buf *buf)
{
  int error;

  *out = NULL;
  if (buf->ptr == NULL && (error = buf_reserve(buf, 0)) < 0)
    return error;
  if (buf->len == 0)
    buf->ptr[0] = '\0';
  *out = buf->ptr;
  buf->ptr = NULL;
  buf->len = 0;
  buf->cap = 0;
  return 0;
}
