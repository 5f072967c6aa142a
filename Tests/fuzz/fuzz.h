/*
 * fuzz.h - what the libFuzzer targets of Tests/fuzz share: the input as a
 * NUL-terminated string, splitting it into fields, and an Orthanc context
 * whose every service succeeds (for code that answers an error through the
 * SDK, e.g. rr_reply_error; nothing is sent anywhere).
 *
 * Each target is one LLVMFuzzerTestOneInput over pure functions of the
 * plugin (no Orthanc, no store, no network). A target must not leak, and
 * every check it makes beyond "does not crash" ends in abort() so that
 * libFuzzer reports the input.
 */
#ifndef RR_FUZZ_H
#define RR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <orthanc/OrthancCPlugin.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd copy of data[0..size) with a NUL after it (the data may hold
 * NUL bytes of its own: C-string consumers then see a prefix). */
static inline char *rr_fuzz_string(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);

  if (s == NULL)
    abort();
  if (size > 0)
    memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* A property of the code under test does not hold: report the input. */
#define RR_FUZZ_ASSERT(cond)                                                  \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                \
    }                                                                         \
  } while (0)

static inline OrthancPluginErrorCode rr_fuzz_invoke(struct _OrthancPluginContext_t *context,
                                                    _OrthancPluginService service, const void *params)
{
  (void)context;
  (void)service;
  (void)params;
  return OrthancPluginErrorCode_Success;
}

/* An Orthanc context that accepts every call and does nothing. */
static inline OrthancPluginContext *rr_fuzz_context(void)
{
  static OrthancPluginContext c = {NULL, "1.10.1", NULL, rr_fuzz_invoke};
  return &c;
}

#endif
