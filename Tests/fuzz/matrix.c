/*
 * matrix.c - fuzz target: the access decision of every request (the role
 * matrix, auth/matrix.h) on a method and a URI path, for any set of roles,
 * with the default roots and with other roots.
 *
 * Input: byte 0 = the caller's role bits (low 5 bits) and the roots (bit 5);
 * byte 1 = the method (GET, HEAD, POST, PUT, DELETE, or an odd one); the
 * rest = the path, NUL bytes included (rr_matrix_check_len).
 *
 * Properties: a decision always has a reason; no role at all, an unknown
 * method, a path with a NUL byte, a "." or ".." segment, an encoded '/',
 * '\', '.' or NUL, or not starting with '/' is denied; the NUL-terminated
 * path decides like the explicit length; HEAD decides like GET; the
 * physician's study step never turns a denial into an allowance; an allowance
 * names its rule, or is an administrator's on a path no rule knows.
 */
#include "auth/matrix.h"
#include "fuzz.h"

static rr_matrix *matrices[2];

static int answer_yes(void *ctx, const char *id, const char *caller)
{
  (void)ctx;
  (void)caller;
  RR_FUZZ_ASSERT(id != NULL);
  return 1;
}

static bool has_dot_segment(const char *p, size_t n)
{
  size_t i = 0, start;

  while (i < n) {
    while (i < n && p[i] == '/')
      i++;
    start = i;
    while (i < n && p[i] != '/')
      i++;
    if ((i - start == 1 && p[start] == '.') || (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
      return true;
  }
  return false;
}

static bool has_encoded_separator(const char *p, size_t n)
{
  size_t i;

  for (i = 0; i + 2 < n; i++)
    if (p[i] == '%') {
      char a = p[i + 1], b = (char)(p[i + 2] | 0x20);
      if ((a == '2' && (b == 'f' || b == 'e')) || (a == '5' && b == 'c') || (a == '0' && b == '0'))
        return true;
    }
  return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "get", "OPTIONS"};
  rr_matrix_decision d, d2;
  const rr_matrix *m;
  const char *method, *path;
  unsigned roles;
  size_t n;
  char *s, err[256];

  if (matrices[0] == NULL) {
    if (rr_matrix_new(&matrices[0], NULL, NULL, err, sizeof(err)) < 0 ||
        rr_matrix_new(&matrices[1], "/pacs/rr-api/", "/ui/", err, sizeof(err)) < 0)
      abort();
    rr_matrix_set_study_check(matrices[0], answer_yes, NULL);
  }
  if (size < 2)
    return 0;
  roles = data[0] & 0x1f;
  m = matrices[(data[0] >> 5) & 1];
  method = methods[data[1] & 7];
  path = (const char *)data + 2;
  n = size - 2;

  RR_FUZZ_ASSERT(rr_matrix_check_len(&d, m, method, path, n, roles) == 0);
  RR_FUZZ_ASSERT(d.reason != NULL);
  if (d.allow) {
    RR_FUZZ_ASSERT(roles != 0 && (data[1] & 7) <= 4);
    RR_FUZZ_ASSERT(n > 0 && path[0] == '/' && memchr(path, '\0', n) == NULL);
    RR_FUZZ_ASSERT(!has_dot_segment(path, n) && !has_encoded_separator(path, n));
    /* a rule allowed it, or (administrators only) no rule knows the path
     * and Orthanc gives its own answer */
    RR_FUZZ_ASSERT((d.rule >= 0 && (size_t)d.rule < rr_matrix_rule_count()) ||
                   (d.rule == RR_MATRIX_ADMIN_UNKNOWN_PATH && (roles & RR_ROLE_ADMIN) != 0));
  }
  s = rr_fuzz_string((const uint8_t *)path, n);
  if (memchr(path, '\0', n) == NULL) {
    RR_FUZZ_ASSERT(rr_matrix_check(&d2, m, method, s, roles) == 0);
    RR_FUZZ_ASSERT(d2.allow == d.allow && d2.rule == d.rule && d2.flags == d.flags);
  }
  if (strcmp(method, "HEAD") == 0) {
    RR_FUZZ_ASSERT(rr_matrix_check_len(&d2, m, "GET", path, n, roles) == 0);
    RR_FUZZ_ASSERT(d2.allow == d.allow && d2.rule == d.rule);
  }
  d2 = d;
  (void)rr_matrix_check_study(&d2, m, "1.2.3");
  RR_FUZZ_ASSERT(d.allow || !d2.allow);
  free(s);
  return 0;
}
