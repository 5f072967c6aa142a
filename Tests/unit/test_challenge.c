/* auth/challenge.c with a fake OrthancPluginContext (issue 14): the HTTP
 * authentication callback of Orthanc >= 1.12.9 is registered only when the
 * running Orthanc says it is 1.12.9 or newer, through service 1021 with the
 * newer SDK's parameter struct; the captured callback then answers 401 (a
 * challenge), 403 or granted for no, good and bad Basic and Bearer
 * credentials. No Orthanc 1.12.9 runs here: this is the only check of that
 * path. */
#include "auth/challenge.h"
#include "auth_fixture.h"
#include "store/store.h"
#include "util/str.h"

/* what the newer SDK hands to the service (OrthancCPlugin.h of 1.12.9) */
typedef OrthancPluginErrorCode (*auth_cb)(int32_t *status, OrthancPluginMemoryBuffer *payload,
                                          OrthancPluginMemoryBuffer *redirection, const char *uri, const char *ip,
                                          uint32_t headers_count, const char *const *keys, const char *const *values,
                                          uint32_t get_count, const char *const *get_keys,
                                          const char *const *get_values);
typedef struct {
  auth_cb callback;
} auth_params;

static rr_matrix *matrix;
static int invoked_service = -1;
static auth_cb captured;
static OrthancPluginErrorCode service_answer = OrthancPluginErrorCode_Success;

static OrthancPluginErrorCode fake_invoke(OrthancPluginContext *ctx, _OrthancPluginService service,
                                          const void *params)
{
  (void)ctx;
  invoked_service = (int)service;
  captured = ((const auth_params *)params)->callback;
  return service_answer;
}

static OrthancPluginContext fake(const char *version)
{
  OrthancPluginContext c;

  memset(&c, 0, sizeof(c));
  c.orthancVersion = version;
  c.InvokeService = fake_invoke;
  return c;
}

static void setup(void)
{
  char err[256] = "";

  fx_setup();
  ck_assert_msg(rr_matrix_new(&matrix, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
  invoked_service = -1;
  captured = NULL;
  service_answer = OrthancPluginErrorCode_Success;
}

static void teardown(void)
{
  rr_challenge_reset();
  rr_matrix_free(matrix);
  matrix = NULL;
  fx_teardown();
}

/* Call the captured callback as Orthanc would (header keys in lower case). */
static int32_t call(const char *uri, const char *authorization, const char *requested_with)
{
  const char *keys[3], *values[3];
  uint32_t n = 0;
  int32_t status = -1;

  keys[n] = "host";
  values[n++] = "pacs.example:8042";
  if (authorization != NULL) {
    keys[n] = "authorization";
    values[n++] = authorization;
  }
  if (requested_with != NULL) {
    keys[n] = "x-requested-with";
    values[n++] = requested_with;
  }
  ck_assert_ptr_nonnull(captured);
  ck_assert_int_eq(captured(&status, NULL, NULL, uri, "192.0.2.9", n, keys, values, 0, NULL, NULL),
                   OrthancPluginErrorCode_Success);
  return status;
}

START_TEST(nothing_is_registered_on_orthanc_1_10_1)
{
  OrthancPluginContext c = fake("1.10.1");
  bool registered = true;

  ck_assert_int_eq(rr_challenge_register(&registered, &c, fx_auth, matrix, fx_audit), 0);
  ck_assert(!registered);
  ck_assert_int_eq(invoked_service, -1);
  c = fake("1.12.8");
  ck_assert_int_eq(rr_challenge_register(&registered, &c, fx_auth, matrix, fx_audit), 0);
  ck_assert(!registered);
  ck_assert_int_eq(invoked_service, -1);
}
END_TEST

START_TEST(every_route_challenges_on_orthanc_1_12_9)
{
  OrthancPluginContext c = fake("1.12.9");
  bool registered = false;
  char good[256], bad[256], bearer[4096];
  size_t refused;

  ck_assert_int_eq(rr_challenge_register(&registered, &c, fx_auth, matrix, fx_audit), 0);
  ck_assert(registered);
  ck_assert_int_eq(invoked_service, 1021); /* _OrthancPluginService_RegisterHttpAuthentication */
  ck_assert_int_eq(rr_audit_start(fx_audit), 0); /* the fixture's writer is not started */
  fx_basic(good, sizeof(good), "admin", FX_PASSWORD);
  fx_basic(bad, sizeof(bad), "admin", "wrong-password-1");
  fx_login("rad", bearer, sizeof(bearer), NULL, 0, NULL);

  /* no credentials: Orthanc's own routes challenge too, the plugin's as well */
  ck_assert_int_eq(call("/system", NULL, NULL), RR_CHALLENGE_UNAUTHORIZED);
  ck_assert_int_eq(call("/studies", NULL, NULL), RR_CHALLENGE_UNAUTHORIZED);
  ck_assert_int_eq(call("/api/dicom/studies", NULL, NULL), RR_CHALLENGE_UNAUTHORIZED);
  /* ... but not the paths anonymous callers may use (the filter decides) */
  ck_assert_int_eq(call("/api/auth/login", NULL, NULL), RR_CHALLENGE_GRANTED);
  ck_assert_int_eq(call("/reading-room/index.html", NULL, NULL), RR_CHALLENGE_GRANTED);
  /* ... nor the web app (a challenge would pop the browser's dialog): the filter answers 403 */
  ck_assert_int_eq(call("/system", NULL, "XMLHttpRequest"), RR_CHALLENGE_GRANTED);
  {
    const char *keys[] = {"cookie"}, *values[] = {RR_SESSION_COOKIE "=stale.token.here"};
    int32_t status = -1;
    ck_assert_int_eq(captured(&status, NULL, NULL, "/instances/0a/file", "192.0.2.9", 1, keys, values, 0, NULL, NULL),
                     OrthancPluginErrorCode_Success);
    ck_assert_int_eq(status, RR_CHALLENGE_GRANTED); /* a browser with a stale session: the filter answers 403 */
  }
  {
    const char *keys[] = {"sec-fetch-mode"}, *fetch_mode[] = {"cors"}, *navigate[] = {"navigate"};
    int32_t status = -1;
    ck_assert_int_eq(captured(&status, NULL, NULL, "/system", "192.0.2.9", 1, keys, fetch_mode, 0, NULL, NULL),
                     OrthancPluginErrorCode_Success);
    ck_assert_int_eq(status, RR_CHALLENGE_GRANTED); /* a page's fetch: no dialog, the filter answers 403 */
    ck_assert_int_eq(captured(&status, NULL, NULL, "/system", "192.0.2.9", 1, keys, navigate, 0, NULL, NULL),
                     OrthancPluginErrorCode_Success);
    ck_assert_int_eq(status, RR_CHALLENGE_UNAUTHORIZED); /* the address bar: the browser asks for credentials */
  }
  /* good credentials: granted (the filter then applies the role matrix) */
  ck_assert_int_eq(call("/system", good, NULL), RR_CHALLENGE_GRANTED);
  ck_assert_int_eq(call("/studies", bearer, NULL), RR_CHALLENGE_GRANTED);
  /* bad credentials: 401 with a challenge, audited; 403 for the web app */
  refused = fx_audited("auth.refused");
  ck_assert_int_eq(call("/system", bad, NULL), RR_CHALLENGE_UNAUTHORIZED);
  ck_assert_int_eq(call("/api/dicom/studies", "Bearer not.a.token", NULL), RR_CHALLENGE_UNAUTHORIZED);
  ck_assert_int_eq(call("/api/dicom/studies", "Bearer not.a.token", "XMLHttpRequest"), RR_CHALLENGE_FORBIDDEN);
  ck_assert_uint_eq(fx_audited("auth.refused"), refused + 3);

  /* newer versions too */
  invoked_service = -1;
  c = fake("1.13.0");
  ck_assert_int_eq(rr_challenge_register(&registered, &c, fx_auth, matrix, fx_audit), 0);
  ck_assert(registered);
  ck_assert_int_eq(invoked_service, 1021);
}
END_TEST

START_TEST(a_refused_registration_leaves_the_filter_alone)
{
  OrthancPluginContext c = fake("1.12.9");
  bool registered = true;
  int32_t status = -1;

  service_answer = OrthancPluginErrorCode_BadSequenceOfCalls; /* another plugin registered one */
  ck_assert_int_eq(rr_challenge_register(&registered, &c, fx_auth, matrix, fx_audit), RR_ERROR);
  ck_assert(!registered);
  /* a callback called anyway refuses rather than grants */
  ck_assert_int_eq(captured(&status, NULL, NULL, "/system", "192.0.2.9", 0, NULL, NULL, 0, NULL, NULL),
                   OrthancPluginErrorCode_Success);
  ck_assert_int_eq(status, RR_CHALLENGE_FORBIDDEN);
}
END_TEST

/* Auth.AllowBasic false: nothing is challenged (no Basic to send) */
START_TEST(nothing_is_challenged_without_http_basic)
{
  OrthancPluginContext c = fake("1.12.9");
  rr_auth_options o;
  rr_auth *no_basic = NULL;
  char secret[4200], err[256] = "", good[256], bad[256];
  bool registered = false;

  fx_auth_options(&o, secret, sizeof(secret));
  o.allow_basic = false;
  ck_assert_msg(rr_auth_new(&no_basic, &o, fx_store, fx_audit, err, sizeof(err)) == 0, "%s", err);
  ck_assert(!rr_auth_basic_allowed(no_basic));
  ck_assert(rr_auth_basic_allowed(fx_auth));
  ck_assert_int_eq(rr_challenge_register(&registered, &c, no_basic, matrix, fx_audit), 0);
  ck_assert(registered);
  fx_basic(good, sizeof(good), "admin", FX_PASSWORD);
  fx_basic(bad, sizeof(bad), "admin", "wrong-password-1");
  ck_assert_int_eq(call("/system", NULL, NULL), RR_CHALLENGE_GRANTED);  /* the filter answers 403 */
  ck_assert_int_eq(call("/system", good, NULL), RR_CHALLENGE_FORBIDDEN); /* Basic is refused */
  ck_assert_int_eq(call("/system", bad, NULL), RR_CHALLENGE_FORBIDDEN);
  rr_challenge_reset();
  rr_auth_free(no_basic);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("challenge");
  TCase *tc = tcase_create("challenge");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, nothing_is_registered_on_orthanc_1_10_1);
  tcase_add_test(tc, every_route_challenges_on_orthanc_1_12_9);
  tcase_add_test(tc, a_refused_registration_leaves_the_filter_alone);
  tcase_add_test(tc, nothing_is_challenged_without_http_basic);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
