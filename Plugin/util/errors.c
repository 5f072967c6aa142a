#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

int rr_fail(char *err, size_t errsize, int code, const char *fmt, ...)
{
  va_list ap;

  if (err != NULL && errsize > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errsize, fmt, ap);
    va_end(ap);
  }
  return code;
}
