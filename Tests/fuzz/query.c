/*
 * query.c - fuzz target: a worklist query string as Orthanc hands it to the
 * plugin ("key=value&key=value", undecoded) through rr_query_parse (the
 * worklist's argument validation, api/query.h), rr_args_query and
 * rr_url_decode (decoding once, util/str.h), and the study UID rule of the
 * routes (rr_args_study_uid_ok).
 *
 * Properties: rr_query_parse accepts or refuses with a sentence; a decoded
 * value is never longer than its encoded form; a UID the rule accepts is 1
 * to 64 bytes without '/', '%' or a space.
 */
#include "api/args.h"
#include "api/query.h"
#include "fuzz.h"
#include "util/str.h"

#define MAX_ARGS 32

static void check_decode(const char *in)
{
  char small[16], big[1024];
  size_t n = strlen(in);

  if (rr_url_decode(big, sizeof(big), in) == 0)
    RR_FUZZ_ASSERT(strlen(big) <= n);
  (void)rr_url_decode(small, sizeof(small), in);
}

static void check_uid(const char *s)
{
  if (rr_args_study_uid_ok(s)) {
    size_t n = strlen(s);
    RR_FUZZ_ASSERT(n >= 1 && n <= 64);
    RR_FUZZ_ASSERT(strpbrk(s, "/% +") == NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = rr_fuzz_string(data, size), *p, *amp, *eq, err[256], buf[RR_QUERY_MAX_ARG_BYTES + 1];
  const char *keys[MAX_ARGS], *values[MAX_ARGS];
  uint32_t n = 0, i;
  rr_worklist_query q;
  OrthancPluginHttpRequest req;
  int rc;

  check_uid(s);
  for (p = s; p != NULL && n < MAX_ARGS; p = amp) {
    if ((amp = strchr(p, '&')) != NULL)
      *amp++ = '\0';
    eq = strchr(p, '=');
    if (eq != NULL)
      *eq++ = '\0';
    keys[n] = p;
    values[n] = eq != NULL ? eq : "";
    n++;
  }
  err[0] = '\0';
  memset(&q, 0, sizeof(q));
  rc = rr_query_parse(&q, keys, values, n, 50, 500, err, sizeof(err));
  RR_FUZZ_ASSERT(rc == 0 || err[0] != '\0');
  if (rc == 0)
    RR_FUZZ_ASSERT(q.limit >= 1 && q.limit <= 500);

  memset(&req, 0, sizeof(req));
  req.method = OrthancPluginHttpMethod_Get;
  req.getCount = n;
  req.getKeys = keys;
  req.getValues = values;
  for (i = 0; i < n; i++) {
    const char *v = rr_args_query(&req, keys[i], buf, sizeof(buf));
    if (v != NULL)
      RR_FUZZ_ASSERT(strlen(v) < sizeof(buf));
    check_decode(keys[i]);
    check_decode(values[i]);
  }
  free(s);
  return 0;
}
