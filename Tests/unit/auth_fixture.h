/*
 * auth_fixture.h - an access-control set-up for the auth and filter unit
 * tests: a store in a temporary directory, an audit writer, rr_auth with
 * HS256 and small lock-out limits, the administrator "admin" and a
 * radiologist "rad", and helpers to log in and build headers.
 */
#ifndef RR_TEST_AUTH_FIXTURE_H
#define RR_TEST_AUTH_FIXTURE_H

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/matrix.h"
#include "common.h"
#include "store/store_audit.h"
#include "util/base64.h"
#include "util/errors.h"
#include "util/str.h"

#define FX_PASSWORD "Correct-Horse-Battery-9"
#define FX_MAX_FAILURES 3u

static char fx_dir[4096];
static rr_store *fx_store;
static rr_audit *fx_audit;
static rr_auth *fx_auth;
static rr_identity fx_admin;

/* The fixture's authentication options (HS256 with the key file in fx_dir,
 * Basic allowed, 600 s tokens, lock-out after FX_MAX_FAILURES): tests that
 * need another rr_auth start from these and change what they test.
 * secret (secretsize bytes) receives the key file's path that o points to. */
static inline void fx_auth_options(rr_auth_options *o, char *secret, size_t secretsize)
{
  snprintf(secret, secretsize, "%s/jwt.key", fx_dir);
  memset(o, 0, sizeof(*o));
  o->algorithm = "HS256";
  o->secret_file = secret;
  o->private_key_file = o->public_key_file = "";
  o->issuer = "orthanc-reading-room";
  o->audience = "reading-room";
  o->token_lifetime = 600;
  o->allow_basic = true;
  o->password_min_length = 12;
  o->lockout_max_failures = FX_MAX_FAILURES;
  o->lockout_max_per_address = 50;
  o->lockout_seconds = 60;
}

/* The number of audit records with this action (after flushing the writer). */
static inline size_t fx_audited(const char *action)
{
  rr_audit_filter f;
  rr_audit_list *l = NULL;
  char err[256] = "";
  size_t n;

  ck_assert_int_eq(rr_audit_flush(fx_audit, 5000), 0);
  memset(&f, 0, sizeof(f));
  rr_str_copy(f.action, sizeof(f.action), action);
  f.limit = 1000;
  ck_assert_msg(rr_store_audit_query(fx_store, &l, &f, err, sizeof(err)) == 0, "%s", err);
  n = l->count;
  rr_audit_list_free(l);
  return n;
}

static inline void fx_setup(void)
{
  char secret[4200], err[512] = "", generated[64] = "";
  rr_auth_options o;
  rr_login_result r;
  bool created = false;

  rr_test_tmpdir(fx_dir, sizeof(fx_dir));
  fx_store = rr_test_store_open(fx_dir);
  ck_assert_int_eq(rr_audit_new(&fx_audit, fx_store, 4096), 0);
  fx_auth_options(&o, secret, sizeof(secret));
  ck_assert_msg(rr_auth_new(&fx_auth, &o, fx_store, fx_audit, err, sizeof(err)) == 0, "rr_auth_new: %s", err);
  ck_assert_msg(rr_auth_bootstrap(fx_auth, &created, generated, sizeof(generated), FX_PASSWORD, err, sizeof(err)) == 0,
                "bootstrap: %s", err);
  ck_assert(created);
  ck_assert_str_eq(generated, "");
  ck_assert_msg(rr_auth_login(fx_auth, &r, "admin", FX_PASSWORD, "127.0.0.1", err, sizeof(err)) == 0, "login: %s", err);
  {
    char header[4096];
    rr_credentials c = {header, NULL, "127.0.0.1"};
    snprintf(header, sizeof(header), "Bearer %s", r.token);
    ck_assert_int_eq(rr_auth_authenticate(fx_auth, &fx_admin, &c, err, sizeof(err)), 0);
  }
  rr_login_result_dispose(&r);
  ck_assert_msg(rr_auth_user_create(fx_auth, &fx_admin, "rad", "Dr Rad", "radiologist", FX_PASSWORD, err, sizeof(err)) == 0,
                "create rad: %s", err);
}

static inline void fx_teardown(void)
{
  rr_auth_free(fx_auth);
  fx_auth = NULL;
  rr_audit_free(fx_audit);
  fx_audit = NULL;
  rr_store_free(fx_store);
  fx_store = NULL;
  rr_test_rmdir(fx_dir);
}

/* Log `user` in; the token goes to header[] as "Bearer <token>" (cookie[]
 * gets "rr_session=<token>" and csrf[] the session's CSRF token when not
 * NULL). */
static inline void fx_login(const char *user, char *header, size_t hsize, char *cookie, size_t csize, char csrf[65])
{
  rr_login_result r;
  char err[256] = "";

  ck_assert_msg(rr_auth_login(fx_auth, &r, user, FX_PASSWORD, "10.0.0.1", err, sizeof(err)) == 0, "login %s: %s", user, err);
  snprintf(header, hsize, "Bearer %s", r.token);
  if (cookie != NULL)
    snprintf(cookie, csize, "theme=dark; %s=%s", RR_SESSION_COOKIE, r.token);
  if (csrf != NULL)
    memcpy(csrf, r.csrf, 65);
  rr_login_result_dispose(&r);
}

/* header[] = "Basic base64(user:password)" */
static inline void fx_basic(char *header, size_t hsize, const char *user, const char *password)
{
  char plain[256];
  rr_buf b64;

  snprintf(plain, sizeof(plain), "%s:%s", user, password);
  rr_buf_init(&b64, 1024);
  ck_assert_int_eq(rr_base64_encode(&b64, plain, strlen(plain)), 0);
  snprintf(header, hsize, "Basic %.*s", (int)b64.len, b64.ptr);
  rr_buf_dispose(&b64);
}

#endif
