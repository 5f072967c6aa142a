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

const char *rr_error_name(int code)
{
  switch (code) {
  case RR_OK: return "ok";
  case RR_ENOMEM: return "out_of_memory";
  case RR_EINVAL: return "invalid_argument";
  case RR_ENOTFOUND: return "not_found";
  case RR_EFULL: return "too_large";
  case RR_ESTORE: return "store_error";
  case RR_EUPSTREAM: return "upstream_error";
  case RR_ESTOPPED: return "stopping";
  case RR_EEXISTS: return "already_exists";
  case RR_ELOCKED: return "locked";
  case RR_ECONFLICT: return "conflict";
  default: return "internal";
  }
}
