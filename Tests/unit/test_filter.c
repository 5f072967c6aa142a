/* auth/filter.c, alone (no Orthanc): decisions from credentials and the
 * role matrix, CSRF for cookie sessions, the identity handed to the routes
 * (rr_filter_current_identity, api/caller.h) and that it never outlives its
 * request. */
#include <pthread.h>

#include "api/caller.h"
#include "auth/filter.h"
#include "auth_fixture.h"
#include "store/store.h"
#include "util/str.h"

static rr_matrix *matrix;
static rr_filter *filter;

static void setup(void)
{
  char err[256] = "";

  fx_setup();
  ck_assert_msg(rr_matrix_new(&matrix, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(rr_filter_new(&filter, fx_auth, matrix, fx_audit, "/api/"), 0);
}

static void teardown(void)
{
  rr_filter_free(filter);
  filter = NULL;
  rr_matrix_free(matrix);
  matrix = NULL;
  fx_teardown();
}

typedef struct {
  const char *authorization, *cookie, *csrf, *origin;
} creds;

static bool decide(rr_filter_result *res, const char *method, const char *uri, creds c)
{
  rr_filter_request req;

  memset(&req, 0, sizeof(req));
  req.method = method;
  req.uri = uri;
  req.source = "192.0.2.7";
  req.authorization = c.authorization;
  req.cookie = c.cookie;
  req.csrf = c.csrf;
  req.origin = c.origin;
  req.host = "pacs.example:8042";
  rr_filter_decide(filter, res, &req);
  return res->allow;
}

START_TEST(decisions_follow_the_matrix)
{
  char rad[4096], admin[4096];
  rr_filter_result res;

  fx_login("rad", rad, sizeof(rad), NULL, 0, NULL);
  fx_login("admin", admin, sizeof(admin), NULL, 0, NULL);
  ck_assert(decide(&res, "GET", "/system", (creds){admin, NULL, NULL, NULL}));
  ck_assert_str_eq(res.identity.username, "admin");
  ck_assert(!decide(&res, "GET", "/system", (creds){rad, NULL, NULL, NULL}));
  ck_assert_str_eq(res.identity.username, "rad");
  ck_assert(res.reason[0] != '\0');
  ck_assert(decide(&res, "GET", "/api/dicom/studies", (creds){rad, NULL, NULL, NULL}));
  ck_assert(decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){rad, NULL, NULL, NULL})); /* Bearer: no CSRF */
  ck_assert(!decide(&res, "GET", "/api/users", (creds){rad, NULL, NULL, NULL}));
  /* without credentials: public routes only, as anonymous */
  ck_assert(decide(&res, "POST", "/api/auth/login", (creds){0}));
  ck_assert_uint_eq(res.identity.role, RR_ROLE_ANONYMOUS);
  ck_assert(decide(&res, "GET", "/reading-room/index.html", (creds){0}));
  ck_assert(!decide(&res, "GET", "/api/dicom/studies", (creds){0}));
  /* credentials that do not hold are refused even on public routes */
  ck_assert(!decide(&res, "GET", "/reading-room/index.html", (creds){"Bearer not.a.token", NULL, NULL, NULL}));
  ck_assert_str_eq(res.identity.username, "");
  /* a stale session cookie counts as none: the login page still opens */
  ck_assert(decide(&res, "GET", "/reading-room/index.html", (creds){NULL, RR_SESSION_COOKIE "=stale.token.here", NULL, NULL}));
  ck_assert_uint_eq(res.identity.role, RR_ROLE_ANONYMOUS);
  ck_assert(!decide(&res, "GET", "/api/dicom/studies", (creds){NULL, RR_SESSION_COOKIE "=stale.token.here", NULL, NULL}));
  ck_assert_str_eq(rr_filter_current_source(), "192.0.2.7");
}
END_TEST

START_TEST(physicians_see_images_of_reported_studies_only)
{
  char doc[4096], err[256] = "";
  rr_filter_result res;

  ck_assert_msg(rr_auth_user_create(fx_auth, &fx_admin, "doc", "Dr Doc", "physician", FX_PASSWORD, err, sizeof(err)) == 0,
                "%s", err);
  fx_login("doc", doc, sizeof(doc), NULL, 0, NULL);
  ck_assert(decide(&res, "GET", "/api/dicom/studies", (creds){doc, NULL, NULL, NULL}));
  /* no study has a final report until reports exist */
  ck_assert(!decide(&res, "GET", "/instances/abc/file", (creds){doc, NULL, NULL, NULL}));
  ck_assert_ptr_nonnull(strstr(res.reason, "final report"));
  ck_assert(!decide(&res, "GET", "/api/dicom/studies/1.2.3/frames/0", (creds){doc, NULL, NULL, NULL}));
  ck_assert(!decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){doc, NULL, NULL, NULL}));
}
END_TEST

/* A study check that lets through one Orthanc instance id and remembers what it was asked. */
static char checked_id[128];

static int allow_inst_1(void *ctx, const char *orthanc_or_uid, const char *caller_name)
{
  (void)ctx;
  (void)caller_name;
  snprintf(checked_id, sizeof(checked_id), "%s", orthanc_or_uid);
  return strcmp(orthanc_or_uid, "inst-1") == 0 ? 1 : 0;
}

/* The plugin's instance routes (rendered frames: the viewer's thumbnails and
 * a report's key images; transcoded files) are checked on the instance's
 * study like Orthanc's /instances/{id}/... routes. */
START_TEST(physicians_instance_routes_are_checked_on_their_study)
{
  char doc[4096], err[256] = "";
  rr_filter_result res;

  ck_assert_msg(rr_auth_user_create(fx_auth, &fx_admin, "doc2", "Dr Doc", "physician", FX_PASSWORD, err, sizeof(err)) == 0,
                "%s", err);
  fx_login("doc2", doc, sizeof(doc), NULL, 0, NULL);
  rr_matrix_set_study_check(matrix, allow_inst_1, NULL);
  checked_id[0] = '\0';
  ck_assert_msg(decide(&res, "GET", "/api/dicom/instances/inst-1/frames/0/png", (creds){doc, NULL, NULL, NULL}), "%s", res.reason);
  ck_assert_str_eq(checked_id, "inst-1");
  ck_assert_msg(decide(&res, "GET", "/api/dicom/instances/inst-1/transcoded", (creds){doc, NULL, NULL, NULL}), "%s", res.reason);
  ck_assert(decide(&res, "GET", "/instances/inst-1/file", (creds){doc, NULL, NULL, NULL}));
  ck_assert(!decide(&res, "GET", "/api/dicom/instances/inst-2/frames/0/png", (creds){doc, NULL, NULL, NULL}));
  ck_assert_str_eq(checked_id, "inst-2");
  rr_matrix_set_study_check(matrix, NULL, NULL);
}
END_TEST

START_TEST(cookie_sessions_need_the_csrf_token_or_the_same_origin)
{
  char bearer[4096], cookie[4096], csrf[65];
  rr_filter_result res;

  fx_login("rad", bearer, sizeof(bearer), cookie, sizeof(cookie), csrf);
  /* reads need nothing more */
  ck_assert(decide(&res, "GET", "/api/dicom/studies", (creds){NULL, cookie, NULL, NULL}));
  ck_assert_int_eq(res.identity.method, RR_AUTH_COOKIE);
  /* changes need the token or a same-origin Origin */
  ck_assert(!decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){NULL, cookie, NULL, NULL}));
  ck_assert_ptr_nonnull(strstr(res.reason, "CSRF"));
  ck_assert(!decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){NULL, cookie, "0000", NULL}));
  ck_assert(!decide(&res, "PUT", "/api/auth/password", (creds){NULL, cookie, NULL, "https://evil.example"}));
  ck_assert(!decide(&res, "PUT", "/api/auth/password", (creds){NULL, cookie, NULL, "http://pacs.example:8043"}));
  ck_assert(!decide(&res, "PUT", "/api/auth/password", (creds){NULL, cookie, NULL, "null"}));
  ck_assert(decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){NULL, cookie, csrf, NULL}));
  ck_assert(decide(&res, "PUT", "/api/auth/password", (creds){NULL, cookie, NULL, "http://pacs.example:8042"}));
  ck_assert(decide(&res, "PUT", "/api/auth/password", (creds){NULL, cookie, NULL, "https://pacs.example:8042"}));
  /* Bearer requests need neither */
  ck_assert(decide(&res, "POST", "/api/ai/analyze/1.2.3", (creds){bearer, NULL, NULL, "https://evil.example"}));
}
END_TEST

static void *identity_on_another_thread(void *arg)
{
  (void)arg;
  return (void *)rr_filter_current_identity();
}

START_TEST(the_routes_get_the_identity_of_their_own_request_only)
{
  char rad[4096];
  rr_filter_result res;
  rr_identity id;
  pthread_t t;
  void *seen = (void *)1;

  fx_login("rad", rad, sizeof(rad), NULL, 0, NULL);
  ck_assert(decide(&res, "GET", "/api/dicom/studies", (creds){rad, NULL, NULL, NULL}));
  ck_assert_ptr_nonnull(rr_filter_current_identity());
  ck_assert_str_eq(rr_filter_current_identity()->username, "rad");
  ck_assert_int_eq(rr_api_caller(&id, true), 0);
  ck_assert_str_eq(id.username, "rad");
  ck_assert_uint_eq(id.role, RR_ROLE_RADIOLOGIST);
  ck_assert_str_eq(id.jti, res.identity.jti);

  /* another thread has decided nothing */
  ck_assert_int_eq(pthread_create(&t, NULL, identity_on_another_thread, NULL), 0);
  ck_assert_int_eq(pthread_join(t, &seen), 0);
  ck_assert_ptr_null(seen);

  /* a refused request leaves no identity behind, not even the previous one */
  ck_assert(!decide(&res, "GET", "/system", (creds){rad, NULL, NULL, NULL}));
  ck_assert_ptr_null(rr_filter_current_identity());
  ck_assert_int_eq(rr_api_caller(&id, true), RR_ENOTFOUND);
  ck_assert_str_eq(id.username, "");

  /* an allowed anonymous request: the routes see no signed-in caller */
  ck_assert(decide(&res, "GET", "/api/dicom/studies", (creds){rad, NULL, NULL, NULL}));
  ck_assert(decide(&res, "POST", "/api/auth/login", (creds){0}));
  ck_assert_ptr_nonnull(rr_filter_current_identity());
  ck_assert_uint_eq(rr_filter_current_identity()->role, RR_ROLE_ANONYMOUS);
  ck_assert_int_eq(rr_api_caller(&id, true), RR_ENOTFOUND);

  /* with access control off everyone is the open identity, whatever the thread holds */
  ck_assert_int_eq(rr_api_caller(&id, false), 0);
  ck_assert_str_eq(id.username, "anonymous");
  ck_assert_uint_eq(id.role, 0);
}
END_TEST

static bool decide_from(rr_filter_result *res, const char *method, const char *uri, const char *authorization,
                        const char *requested_with)
{
  rr_filter_request req;

  memset(&req, 0, sizeof(req));
  req.method = method;
  req.uri = uri;
  req.source = "192.0.2.8";
  req.authorization = authorization;
  req.requested_with = requested_with;
  req.host = "pacs.example:8042";
  rr_filter_decide(filter, res, &req);
  return res->allow;
}

/* Issue 14: clients that send Basic credentials only after a 401 challenge */
START_TEST(api_requests_without_credentials_are_challenged_not_web_app_ones)
{
  char good[256], bad[256], rad[4096];
  rr_filter_result res;
  size_t refused;

  ck_assert_int_eq(rr_audit_start(fx_audit), 0); /* the fixture's writer is not started */
  fx_basic(good, sizeof(good), "admin", FX_PASSWORD);
  fx_basic(bad, sizeof(bad), "admin", "wrong-password-1");
  fx_login("rad", rad, sizeof(rad), NULL, 0, NULL);

  /* no credentials on an API route: refused, to be answered 401 by the route dispatch */
  ck_assert(!decide_from(&res, "GET", "/api/dicom/studies", NULL, NULL));
  ck_assert(res.challenge);
  ck_assert(rr_filter_take_challenge());
  ck_assert(!rr_filter_take_challenge()); /* taken once */
  ck_assert_ptr_null(rr_filter_current_identity());
  /* the web app's requests are never challenged (the browser would show its dialog) */
  ck_assert(!decide_from(&res, "GET", "/api/dicom/studies", NULL, "XMLHttpRequest"));
  ck_assert(!res.challenge);
  ck_assert(!rr_filter_take_challenge());
  /* nor a browser holding the web app's cookies, even a stale session (images, cornerstone) */
  {
    rr_filter_request req;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.uri = "/api/dicom/instances/0a/frames/0/png";
    req.source = "192.0.2.8";
    req.cookie = "theme=dark; " RR_SESSION_COOKIE "=stale.token.here";
    rr_filter_decide(filter, &res, &req);
    ck_assert(!res.allow && !res.challenge);
    req.cookie = RR_CSRF_COOKIE "=abc";
    rr_filter_decide(filter, &res, &req);
    ck_assert(!res.allow && !res.challenge);
    req.cookie = "other_rr_session=x; rr_sessionx=y";
    rr_filter_decide(filter, &res, &req);
    ck_assert(!res.allow && res.challenge);
    ck_assert(rr_filter_take_challenge());
  }
  ck_assert(rr_filter_from_web_app("XMLHttpRequest", NULL, NULL));
  ck_assert(!rr_filter_from_web_app(NULL, NULL, NULL));
  ck_assert(!rr_filter_from_web_app(NULL, "", NULL));
  /* a browser's fetch, XHR or image from any page, but not a navigation (address bar) */
  ck_assert(rr_filter_from_web_app(NULL, NULL, "cors"));
  ck_assert(rr_filter_from_web_app(NULL, NULL, "no-cors"));
  ck_assert(rr_filter_from_web_app(NULL, NULL, "same-origin"));
  ck_assert(!rr_filter_from_web_app(NULL, NULL, "navigate"));
  {
    rr_filter_request req;
    memset(&req, 0, sizeof(req));
    req.method = "GET";
    req.uri = "/api/dicom/studies";
    req.source = "192.0.2.8";
    req.sec_fetch_mode = "cors";
    rr_filter_decide(filter, &res, &req);
    ck_assert(!res.allow && !res.challenge);
    req.sec_fetch_mode = "navigate";
    rr_filter_decide(filter, &res, &req);
    ck_assert(!res.allow && res.challenge);
    ck_assert(rr_filter_take_challenge());
  }
  /* Orthanc's own routes cannot be answered by the plugin on 1.10.1: 403 */
  ck_assert(!decide_from(&res, "GET", "/system", NULL, NULL));
  ck_assert(!res.challenge);
  /* paths that might leave the API root are never let through */
  ck_assert(!decide_from(&res, "GET", "/api/../system", NULL, NULL));
  ck_assert(!res.challenge);
  ck_assert(!decide_from(&res, "GET", "/api/%2e%2e/system", NULL, NULL));
  ck_assert(!res.challenge);
  ck_assert(!decide_from(&res, "GET", "/api//system", NULL, NULL));
  ck_assert(!res.challenge);
  /* public routes stay public */
  ck_assert(decide_from(&res, "POST", "/api/auth/login", NULL, NULL));
  ck_assert(!res.challenge);
  /* good Basic credentials: allowed, no challenge */
  ck_assert(decide_from(&res, "GET", "/api/dicom/studies", good, NULL));
  ck_assert(!res.challenge);
  ck_assert(!rr_filter_take_challenge());
  ck_assert_str_eq(res.identity.username, "admin");
  /* wrong Basic credentials: challenged again, and audited as before */
  refused = fx_audited("auth.refused");
  ck_assert(!decide_from(&res, "GET", "/api/dicom/studies", bad, NULL));
  ck_assert(res.challenge);
  ck_assert_ptr_null(rr_filter_current_identity());
  ck_assert_uint_eq(fx_audited("auth.refused"), refused + 1);
  ck_assert(!decide_from(&res, "GET", "/api/dicom/studies", bad, "XMLHttpRequest"));
  ck_assert(!res.challenge);
  /* a bad Bearer token and a role the matrix refuses: 403 as before */
  ck_assert(!decide_from(&res, "GET", "/api/dicom/studies", "Bearer not.a.token", NULL));
  ck_assert(!res.challenge);
  ck_assert(!decide_from(&res, "GET", "/api/users", rad, NULL));
  ck_assert(!res.challenge);
  ck_assert(!rr_filter_take_challenge());
}
END_TEST

/* Auth.AllowBasic false: no Basic challenge either (403 as before) */
START_TEST(no_challenge_without_http_basic)
{
  rr_auth_options o;
  rr_auth *no_basic = NULL;
  rr_filter *f2 = NULL;
  rr_filter_request req;
  rr_filter_result res;
  char secret[4200], err[256] = "";

  fx_auth_options(&o, secret, sizeof(secret));
  o.allow_basic = false;
  ck_assert_msg(rr_auth_new(&no_basic, &o, fx_store, fx_audit, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(rr_filter_new(&f2, no_basic, matrix, fx_audit, "/api/"), 0);
  memset(&req, 0, sizeof(req));
  req.method = "GET";
  req.uri = "/api/dicom/studies";
  req.source = "192.0.2.8";
  rr_filter_decide(f2, &res, &req);
  ck_assert(!res.allow && !res.challenge);
  ck_assert(!rr_filter_take_challenge());
  rr_filter_free(f2);
  rr_auth_free(no_basic);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("filter");
  TCase *tc = tcase_create("filter");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, decisions_follow_the_matrix);
  tcase_add_test(tc, physicians_see_images_of_reported_studies_only);
  tcase_add_test(tc, physicians_instance_routes_are_checked_on_their_study);
  tcase_add_test(tc, cookie_sessions_need_the_csrf_token_or_the_same_origin);
  tcase_add_test(tc, the_routes_get_the_identity_of_their_own_request_only);
  tcase_add_test(tc, api_requests_without_credentials_are_challenged_not_web_app_ones);
  tcase_add_test(tc, no_challenge_without_http_basic);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
