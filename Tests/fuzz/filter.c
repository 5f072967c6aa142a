/*
 * filter.c - fuzz target: the decision Orthanc's HTTP filter asks of the
 * plugin for every request (rr_filter_decide, auth/filter.h): credentials
 * from the Authorization header (Bearer, Basic) or the session cookie,
 * CSRF and Origin checks, then the role matrix on method + URI.
 *
 * Set-up once per process: a SQLite store in a temporary folder (removed at
 * exit), HS256 keys from a fixed secret (so that seeds can carry valid
 * tokens: see corpus/filter), the administrator "admin" and a radiologist
 * "rad"; no audit writer. Lock-outs last a day, so that failed Basic
 * logins (an Argon2 verification each) stop costing time after the first
 * few.
 *
 * Input: fields separated by '\n': method, URI, Authorization, Cookie,
 * X-CSRF-Token, Origin, Host (a missing field is an absent header).
 *
 * Properties: an allowed request carries one role bit; the same request
 * decided again gets the same answer (caches change nothing); without
 * credentials it is anonymous and the matrix allows anonymous callers.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/filter.h"
#include "auth/matrix.h"
#include "fuzz.h"
#include "store/store_sqlite.h"
#include "util/str.h"

#define SECRET_HEX "72656164696e672d726f6f6d2d66757a7a2d7365637265742d30313233343536"
#define PASSWORD "Correct-Horse-Battery-9"

static char dir[64] = "/tmp/rr-fuzz-filter-XXXXXX";
static rr_store *store;
static rr_auth *auth;
static rr_matrix *matrix;
static rr_filter *filter;

static void cleanup(void)
{
  char cmd[128];

  rr_filter_free(filter);
  rr_matrix_free(matrix);
  rr_auth_free(auth);
  rr_store_free(store);
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
}

static void set_up(void)
{
  char path[128], secret[128], err[512] = "", generated[64];
  rr_sqlite_options so = {path, 2, 5000};
  rr_auth_options o;
  rr_login_result r;
  rr_identity admin;
  bool created = false;
  FILE *f;

  if (mkdtemp(dir) == NULL)
    abort();
  atexit(cleanup);
  snprintf(path, sizeof(path), "%s/rr.db", dir);
  snprintf(secret, sizeof(secret), "%s/jwt.key", dir);
  if ((f = fopen(secret, "w")) == NULL || fputs(SECRET_HEX "\n", f) < 0 || fclose(f) != 0 || chmod(secret, 0600) != 0)
    abort();
  memset(&o, 0, sizeof(o));
  o.algorithm = "HS256";
  o.secret_file = secret;
  o.private_key_file = o.public_key_file = "";
  o.issuer = "orthanc-reading-room";
  o.audience = "reading-room";
  o.token_lifetime = 600;
  o.allow_basic = true;
  o.password_min_length = 12;
  o.lockout_max_failures = 3;
  o.lockout_max_per_address = 5;
  o.lockout_seconds = 86400;
  if (rr_store_sqlite_open(&store, &so, err, sizeof(err)) < 0 || rr_auth_new(&auth, &o, store, NULL, err, sizeof(err)) < 0 ||
      rr_auth_bootstrap(auth, &created, generated, sizeof(generated), PASSWORD, err, sizeof(err)) < 0 ||
      rr_auth_login(auth, &r, "admin", PASSWORD, "127.0.0.1", err, sizeof(err)) < 0) {
    fprintf(stderr, "filter set-up: %s\n", err);
    abort();
  }
  memset(&admin, 0, sizeof(admin));
  rr_str_copy(admin.username, sizeof(admin.username), "admin");
  rr_str_copy(admin.role_name, sizeof(admin.role_name), "admin");
  admin.role = RR_ROLE_ADMIN;
  rr_login_result_dispose(&r);
  if (rr_auth_user_create(auth, &admin, "rad", "Dr Rad", "radiologist", PASSWORD, err, sizeof(err)) < 0 ||
      rr_matrix_new(&matrix, NULL, NULL, err, sizeof(err)) < 0 || rr_filter_new(&filter, auth, matrix, NULL, "/api/") < 0) {
    fprintf(stderr, "filter set-up: %s\n", err);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *s = rr_fuzz_string(data, size), *field[7] = {NULL}, *p = s;
  rr_filter_request req;
  rr_filter_result a, b;
  rr_matrix_decision d;
  size_t i;

  if (filter == NULL)
    set_up();
  for (i = 0; i < 7 && p != NULL; i++) {
    field[i] = p;
    if ((p = strchr(p, '\n')) != NULL)
      *p++ = '\0';
  }
  memset(&req, 0, sizeof(req));
  req.method = field[0] != NULL ? field[0] : "GET";
  req.uri = field[1] != NULL ? field[1] : "/";
  req.source = "127.0.0.1";
  req.authorization = field[2];
  req.cookie = field[3];
  req.csrf = field[4];
  req.origin = field[5];
  req.host = field[6];
  rr_filter_decide(filter, &a, &req);
  rr_filter_decide(filter, &b, &req);
  RR_FUZZ_ASSERT(a.allow == b.allow);
  if (a.allow) {
    RR_FUZZ_ASSERT(a.identity.role != 0 && (a.identity.role & (a.identity.role - 1)) == 0);
    RR_FUZZ_ASSERT(strcmp(a.identity.username, b.identity.username) == 0);
    if (req.authorization == NULL && req.cookie == NULL) {
      RR_FUZZ_ASSERT(a.identity.role == RR_ROLE_ANONYMOUS);
      RR_FUZZ_ASSERT(rr_matrix_check(&d, matrix, req.method, req.uri, RR_ROLE_ANONYMOUS) == 0 && d.allow);
    }
  }
  free(s);
  return 0;
}
