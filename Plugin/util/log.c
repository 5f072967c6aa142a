#include "log.h"

#include <orthanc/OrthancCPlugin.h>
#include <stdarg.h>
#include <stdio.h>

static OrthancPluginContext *log_ctx;

void rr_log_set_context(struct _OrthancPluginContext_t *ctx)
{
  log_ctx = ctx;
}

__attribute__((format(printf, 2, 0))) static void emit(int level, const char *fmt, va_list ap)
{
  char msg[1024];
  int n = snprintf(msg, sizeof(msg), "Reading Room: ");

  vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
  if (log_ctx == NULL) {
    fprintf(stderr, "%s\n", msg);
    return;
  }
  switch (level) {
  case 0: OrthancPluginLogInfo(log_ctx, msg); break;
  case 1: OrthancPluginLogWarning(log_ctx, msg); break;
  default: OrthancPluginLogError(log_ctx, msg); break;
  }
}

#define DEFINE_LOG(name, level)      \
  void name(const char *fmt, ...)    \
  {                                  \
    va_list ap;                      \
    va_start(ap, fmt);               \
    emit(level, fmt, ap);            \
    va_end(ap);                      \
  }

DEFINE_LOG(rr_log_info, 0)
DEFINE_LOG(rr_log_warning, 1)
DEFINE_LOG(rr_log_error, 2)
