/*
 * buf.h - growable byte buffer with a hard maximum size.
 *
 * Contract:
 *  - An rr_buf is always NUL-terminated after a successful append (the NUL is
 *    not counted in len), so ptr can be used as a C string when the content
 *    holds no NUL byte.
 *  - Growth never exceeds `max` bytes of content: an append that would go
 *    past it fails with RR_EFULL and leaves the buffer unchanged.
 *  - The buffer owns ptr; rr_buf_dispose() frees it and accepts a zeroed or
 *    already disposed buffer. rr_buf_detach() hands ownership to the caller.
 *  - Not thread-safe: one owner at a time.
 */
#ifndef RR_UTIL_BUF_H
#define RR_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "errors.h"

typedef struct rr_buf {
  char *ptr;
  size_t len;
  size_t cap;
  size_t max;
} rr_buf;

/* Initialise an empty buffer whose content may grow to at most `max` bytes. */
void rr_buf_init(rr_buf *buf, size_t max);
/* Free the storage; the buffer may be re-initialised afterwards. */
void rr_buf_dispose(rr_buf *buf);
/* Forget the content, keep the storage. */
void rr_buf_clear(rr_buf *buf);

int rr_buf_append(rr_buf *buf, const void *data, size_t len);
int rr_buf_puts(rr_buf *buf, const char *s);
int rr_buf_putc(rr_buf *buf, char c);
/* printf-style append, bounded by the buffer's maximum. */
int rr_buf_printf(rr_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int rr_buf_vprintf(rr_buf *buf, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Take the content (NUL-terminated, malloc'd; caller frees with free()). An
 * empty buffer yields an empty string. The buffer is left empty. */
int rr_buf_detach(char **out, rr_buf *buf);

#endif
