#include <string.h>
#include <json-c/json.h>

#include "auth/matrix.h"
#include "common.h"
#include "util/errors.h"

#define A RR_ROLE_ADMIN
#define R RR_ROLE_RADIOLOGIST
#define T RR_ROLE_TECHNICIAN
#define P RR_ROLE_PHYSICIAN
#define N RR_ROLE_ANONYMOUS
#define USERS RR_ROLE_USERS
#define ALL RR_ROLE_EVERYONE
#define NONE 0u

static const unsigned single_roles[] = {A, R, T, P, N};

static rr_matrix *matrix;

static void setup(void)
{
  char err[256] = "";
  ck_assert_msg(rr_matrix_new(&matrix, NULL, NULL, err, sizeof(err)) == 0, "rr_matrix_new: %s", err);
}

static void teardown(void)
{
  rr_matrix_free(matrix);
  matrix = NULL;
}

/* Check that exactly the roles in `allowed` may call (method, path). */
static void expect_roles(const rr_matrix *m, const char *method, const char *path, unsigned allowed)
{
  size_t i;

  for (i = 0; i < sizeof(single_roles) / sizeof(single_roles[0]); i++) {
    rr_matrix_decision d;
    bool want = (allowed & single_roles[i]) != 0;
    ck_assert_int_eq(rr_matrix_check(&d, m, method, path, single_roles[i]), 0);
    ck_assert_ptr_nonnull(d.reason);
    ck_assert_msg(d.allow == want, "%s %s as %s: expected %s, got %s (rule %d: %s)", method, path,
                  rr_role_name(single_roles[i]), want ? "allow" : "deny", d.allow ? "allow" : "deny", d.rule, d.reason);
    if (d.allow && d.rule != RR_MATRIX_ADMIN_UNKNOWN_PATH)
      ck_assert_int_ge(d.rule, 0);
    if (d.rule == RR_MATRIX_ADMIN_UNKNOWN_PATH)
      ck_assert(d.allow && single_roles[i] == RR_ROLE_ADMIN);
  }
}

/* --------------------------------------------------------------- roles */

START_TEST(role_names)
{
  unsigned r = 99;
  ck_assert_int_eq(rr_role_parse(&r, "admin"), 0);
  ck_assert_uint_eq(r, A);
  ck_assert_int_eq(rr_role_parse(&r, "radiologist"), 0);
  ck_assert_uint_eq(r, R);
  ck_assert_int_eq(rr_role_parse(&r, "technician"), 0);
  ck_assert_uint_eq(r, T);
  ck_assert_int_eq(rr_role_parse(&r, "physician"), 0);
  ck_assert_uint_eq(r, P);
  ck_assert_int_eq(rr_role_parse(&r, "anonymous"), RR_EINVAL); /* not a user's role */
  ck_assert_int_eq(rr_role_parse(&r, "Admin"), RR_EINVAL);
  ck_assert_int_eq(rr_role_parse(&r, ""), RR_EINVAL);
  ck_assert_int_eq(rr_role_parse(&r, NULL), RR_EINVAL);
  ck_assert_uint_eq(r, 0);
  ck_assert_str_eq(rr_role_name(A), "admin");
  ck_assert_str_eq(rr_role_name(R), "radiologist");
  ck_assert_str_eq(rr_role_name(T), "technician");
  ck_assert_str_eq(rr_role_name(P), "physician");
  ck_assert_str_eq(rr_role_name(N), "anonymous");
  ck_assert_str_eq(rr_role_name(0), "unknown");
  ck_assert_str_eq(rr_role_name(A | R), "unknown");
  ck_assert_str_eq(rr_role_name(32), "unknown");
}
END_TEST

/* ---------------------------------------------------------------- roots */

START_TEST(bad_roots)
{
  static const char *bad[] = {"api/", "/api", "/", "//", "/a//b/", "/a/../", "/./", "/a%2F/", "/a{x}/", "/a*/", "/a?/",
                              "/a\\b/", "/a b\t/"};
  char big[300], err[256];
  rr_matrix *m = NULL;
  size_t i;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err[0] = '\0';
    ck_assert_msg(rr_matrix_new(&m, bad[i], NULL, err, sizeof(err)) == RR_EINVAL, "API root '%s' accepted", bad[i]);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(err, "root") != NULL, "error '%s'", err);
    ck_assert_int_eq(rr_matrix_new(&m, NULL, bad[i], err, sizeof(err)), RR_EINVAL);
  }
  ck_assert_int_eq(rr_matrix_new(&m, "/same/", "/same/", err, sizeof(err)), RR_EINVAL);
  ck_assert(strstr(err, "differ") != NULL);
  memset(big, 'a', sizeof(big));
  big[0] = '/';
  big[sizeof(big) - 2] = '/';
  big[sizeof(big) - 1] = '\0';
  ck_assert_int_eq(rr_matrix_new(&m, big, NULL, err, sizeof(err)), RR_EINVAL);
  rr_matrix_free(NULL);
}
END_TEST

START_TEST(configured_roots)
{
  rr_matrix *m = NULL;
  char err[256] = "";

  ck_assert_msg(rr_matrix_new(&m, "/rr-api/", "/viewer/app/", err, sizeof(err)) == 0, "%s", err);
  expect_roles(m, "POST", "/rr-api/auth/login", ALL);
  expect_roles(m, "GET", "/rr-api/dicom/studies", USERS);
  expect_roles(m, "GET", "/rr-api/users/7", A);
  expect_roles(m, "GET", "/viewer/app", ALL);
  expect_roles(m, "GET", "/viewer/app/index.html", ALL);
  expect_roles(m, "GET", "/viewer/app/assets/index-1.js", ALL);
  /* the default roots mean nothing now */
  expect_roles(m, "POST", "/api/auth/login", A); /* not the API under these roots: a path no rule knows */
  expect_roles(m, "GET", "/reading-room/index.html", A);
  expect_roles(m, "GET", "/viewer", A);
  expect_roles(m, "GET", "/viewer/index.html", A);
  /* Orthanc's routes do not depend on the roots */
  expect_roles(m, "GET", "/system", A);
  rr_matrix_free(m);
}
END_TEST

/* ---------------------------------------------------------- the matrix */

typedef struct {
  const char *method;
  const char *path;
  unsigned allowed; /* exactly these roles */
} route_case;

static const route_case cases[] = {
  /* public */
  {"GET", "/", ALL},
  {"GET", "/favicon.ico", ALL},
  {"POST", "/", NONE},
  {"GET", "/reading-room", ALL},
  {"GET", "/reading-room/", ALL},
  {"GET", "/reading-room/index.html", ALL},
  {"GET", "/reading-room/assets/index-BT0K21nA.js", ALL},
  {"GET", "/reading-room/assets/favicon-BmqOExze.svg", ALL},
  {"POST", "/reading-room/index.html", NONE},
  {"GET", "/reading-room/other.html", A}, /* a path no rule knows: administrators only */
  {"POST", "/api/auth/login", ALL},
  {"GET", "/api/auth/login", NONE},
  /* the plugin's API */
  {"POST", "/api/auth/logout", USERS},
  {"POST", "/api/auth/refresh", USERS},
  {"GET", "/api/auth/me", USERS},
  {"PUT", "/api/auth/password", USERS},
  {"GET", "/api/users", A},
  {"POST", "/api/users", A},
  {"PUT", "/api/users/3", A},
  {"DELETE", "/api/users/3", A},
  {"GET", "/api/dicom/studies", USERS},
  {"GET", "/api/dicom/studies/1.2.840.1", USERS},
  {"POST", "/api/dicom/studies", NONE},
  {"DELETE", "/api/dicom/studies/1.2.840.1", NONE},
  {"GET", "/api/dicom/studies/1.2.840.1/extra", A},
  {"GET", "/api/health", USERS},
  {"GET", "/api/admin/ingest", A},
  {"POST", "/api/admin/ingest/resync", A},
  {"GET", "/api/audit", A},
  {"GET", "/api/audit/events", A},
  {"DELETE", "/api/audit/events/1", NONE},
  {"PUT", "/api/audit/events/1", NONE},
  {"POST", "/api/ai/analyses", A | R},
  {"GET", "/api/ai/analyses/9", A | R},
  {"PUT", "/api/ai/analyses/9/review", A | R},
  {"DELETE", "/api/ai/analyses/9", A},
  {"GET", "/api/reports/templates", A | R},
  {"GET", "/api/reports/templates/ct-chest", A | R},
  {"POST", "/api/reports/templates", A},
  {"PUT", "/api/reports/templates/ct-chest", A},
  {"POST", "/api/reports/templates/ct-chest/retire", A},
  {"POST", "/api/reports/templates/ct-chest/restore", A},
  {"GET", "/api/reports", A | R | P},
  {"GET", "/api/reports/5/pdf", A | R | P},
  {"POST", "/api/reports", A | R},
  {"PUT", "/api/reports/5", A | R},
  {"DELETE", "/api/reports/5", A},
  /* reports: the routes before the general rules */
  {"POST", "/api/reports/5/sign", A | R},
  {"PUT", "/api/reports/5/draft", A | R},
  {"POST", "/api/reports/5/acknowledge", A | R | P},
  {"POST", "/api/reports/5/entered-in-error", A},
  {"POST", "/api/reports/5/cancel", A | R},
  {"GET", "/api/reports/macros", A | R},
  {"PUT", "/api/reports/macros/normal%20chest", A | R},
  {"DELETE", "/api/reports/macros/x", A | R},
  {"GET", "/api/dicom/studies/1.2.3/reports", A | R | P},
  {"GET", "/api/admin/reports/turnaround", A},
  {"GET", "/api", A},
  {"GET", "/api/", A},
  {"GET", "/api/unknown", A},
  {"GET", "/api/usersx", A},
  /* Orthanc Explorer, DICOMweb */
  {"GET", "/app/explorer.html", A},
  {"GET", "/app/libs/jquery.min.js", A},
  {"POST", "/app/explorer.html", NONE},
  {"GET", "/ui/app/index.html", A},
  {"POST", "/ui/api/updates", A},
  {"GET", "/plugins/explorer.js", A},
  {"GET", "/dicom-web/studies", A | R},
  {"POST", "/dicom-web/studies", A | T},
  {"POST", "/dicom-web/studies/1.2.3", A | T},
  {"GET", "/dicom-web/series", A | R},
  {"GET", "/dicom-web/instances", A | R},
  {"GET", "/dicom-web/studies/1.2.3", A | R | P},
  {"GET", "/dicom-web/studies/1.2.3/metadata", A | R | P},
  {"GET", "/dicom-web/studies/1.2.3/series/4.5/instances/6.7/frames/1", A | R | P},
  {"GET", "/dicom-web/studies/1.2.3/series/4.5/rendered", A | R | P},
  {"GET", "/dicom-web/servers", A},
  {"POST", "/dicom-web/servers/remote/stow", A},
  {"DELETE", "/dicom-web/servers/remote", A},
  {"GET", "/wado", A | R | P},
  {"POST", "/wado", NONE},
  /* Orthanc: instances */
  {"GET", "/instances", A | R},
  {"POST", "/instances", A | T},
  {"GET", "/instances/0a1b", A | R | T | P},
  {"DELETE", "/instances/0a1b", A},
  {"GET", "/instances/0a1b/file", A | R | P},
  {"GET", "/instances/0a1b/tags", A | R | P},
  {"GET", "/instances/0a1b/simplified-tags", A | R | P},
  {"GET", "/instances/0a1b/header", A | R},
  {"GET", "/instances/0a1b/frames/0/rendered", A | R | P},
  {"GET", "/instances/0a1b/frames/0/raw", A | R | P},
  {"GET", "/instances/0a1b/frames/0/numpy", A | R},
  {"GET", "/instances/0a1b/preview", A | R | P},
  {"GET", "/instances/0a1b/image-uint16", A | R},
  {"GET", "/instances/0a1b/content", A | R},
  {"GET", "/instances/0a1b/content/0008-1140/1/0008-1150", A | R},
  {"GET", "/instances/0a1b/metadata/RemoteAET", A | R},
  {"PUT", "/instances/0a1b/metadata/1024", A},
  {"DELETE", "/instances/0a1b/metadata/1024", A},
  {"POST", "/instances/0a1b/modify", A},
  {"POST", "/instances/0a1b/anonymize", A},
  {"POST", "/instances/0a1b/export", A},
  {"GET", "/instances/0a1b/attachments/dicom/data", A},
  /* Orthanc: series, studies, patients */
  {"GET", "/series", A | R},
  {"GET", "/series/0a1b", A | R | T | P},
  {"GET", "/series/0a1b/ordered-slices", A | R | P},
  {"GET", "/series/0a1b/statistics", A | R | T},
  {"GET", "/series/0a1b/archive", A},
  {"GET", "/studies", A | R | T},
  {"GET", "/studies/0a1b", A | R | T | P},
  {"GET", "/studies/0a1b/series", A | R | T | P},
  {"GET", "/studies/0a1b/instances", A | R | P},
  {"GET", "/studies/0a1b/statistics", A | R | T},
  {"GET", "/studies/0a1b/shared-tags", A | R},
  {"GET", "/studies/0a1b/archive", A},
  {"POST", "/studies/0a1b/archive", A},
  {"GET", "/studies/0a1b/media", A},
  {"DELETE", "/studies/0a1b", A},
  {"POST", "/studies/0a1b/modify", A},
  {"POST", "/studies/0a1b/merge", A},
  {"POST", "/studies/0a1b/split", A},
  {"GET", "/patients", A | R},
  {"GET", "/patients/0a1b", A | R},
  {"GET", "/patients/0a1b/studies", A | R},
  {"PUT", "/patients/0a1b/protected", A},
  {"DELETE", "/patients/0a1b", A},
  /* Orthanc: searches and administration */
  {"POST", "/tools/find", A | R},
  {"POST", "/tools/lookup", A | R},
  {"GET", "/tools/find", NONE},
  {"POST", "/tools/reset", A},
  {"POST", "/tools/shutdown", A},
  {"POST", "/tools/execute-script", A},
  {"POST", "/tools/bulk-delete", A},
  {"PUT", "/tools/log-level", A},
  {"GET", "/tools/metrics-prometheus", A},
  {"GET", "/system", A},
  {"GET", "/statistics", A},
  {"GET", "/changes", A},
  {"DELETE", "/changes", A},
  {"GET", "/exports", A},
  {"GET", "/jobs", A},
  {"POST", "/jobs/12/cancel", A},
  {"GET", "/jobs/12/archive", A},
  {"GET", "/modalities", A},
  {"POST", "/modalities/pacs/store", A},
  {"POST", "/modalities/pacs/move", A},
  {"GET", "/peers", A},
  {"GET", "/plugins", A},
  {"GET", "/plugins/dicom-web", A},
  {"GET", "/queries/1/answers/0/content", A},
  {"GET", "/storage-commitment/1", A},
  /* normalisation that is harmless: "//" collapses, a trailing '/' goes */
  {"GET", "//system", A},
  {"GET", "/system/", A},
  {"GET", "//reading-room//index.html", ALL},
  {"GET", "/studies//0a1b///series", A | R | T | P},
  /* case-sensitive, whole segments */
  {"GET", "/SYSTEM", A},
  {"GET", "/Studies/0a1b", A},
  {"GET", "/Reading-Room/index.html", A},
  {"GET", "/systems", A},
  {"GET", "/studies/0a1b/filex", A},
  /* a literal that is merely encoded does not match (then default deny) */
  {"GET", "/tool%73/reset", A},
  {"GET", "/studies/0a1b%20x", A | R | T | P},
  /* paths no rule knows: administrators only (Orthanc's own answer, e.g.
   * 404; issue 14), every other role refused */
  {"GET", "/nothing", A},
  {"GET", "/stone-webviewer/index.html", A},
  {"GET", "/web-viewer/app/viewer.html", A},
  {"POST", "/tools/labels", A},
  {"GET", "/studies/0a1b/labels", A},
  {"GET", "/instances/0a1b/frames/0/rendered/extra", A},
  /* a known path with a method no rule lists: nobody, admin included */
  {"DELETE", "/tools/reset", NONE},
  {"PUT", "/system", NONE},
};

START_TEST(route_table)
{
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    expect_roles(matrix, cases[i].method, cases[i].path, cases[i].allowed);
}
END_TEST

START_TEST(head_is_get_and_other_methods_are_denied)
{
  static const char *other[] = {"OPTIONS", "PATCH", "TRACE", "CONNECT", "get", "Get", "", "GET ", "HEADX"};
  rr_matrix_decision d;
  size_t i;

  expect_roles(matrix, "HEAD", "/instances/0a1b/file", A | R | P);
  expect_roles(matrix, "HEAD", "/system", A);
  expect_roles(matrix, "HEAD", "/reading-room/index.html", ALL);
  expect_roles(matrix, "HEAD", "/tools/reset", NONE); /* POST-only route */
  for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
    expect_roles(matrix, other[i], "/system", NONE);
    expect_roles(matrix, other[i], "/reading-room/index.html", NONE);
  }
  ck_assert_int_eq(rr_matrix_check(&d, matrix, NULL, "/system", A), 0);
  ck_assert(!d.allow);
  ck_assert(strstr(d.reason, "method") != NULL);
}
END_TEST

START_TEST(traversal_and_malformed_paths)
{
  static const char *bad[] = {
    "/api/../studies",
    "/studies/x/../../tools/reset",
    "/reading-room/../system",
    "/reading-room/assets/../../tools/reset",
    "/reading-room/./index.html",
    "/app/.",
    "/app/..",
    "/..",
    "/system%2F..",
    "/system%2f..",
    "/studies/x%2F..%2F..%2Ftools%2Freset",
    "/reading-room/assets/..%2F..%2Ftools%2Freset",
    "/reading-room/assets/%2e%2e/%2E%2E/tools/reset",
    "/reading-room/assets/.%2e/.%2E/system",
    "/reading-room/assets/%5C..%5C..%5Csystem",
    "/reading-room/assets\\..\\..\\system",
    "/reading-room/index.html%00",
    "/reading-room/index.html%00/../../system",
    "/reading-room/index.html?x=1",
    "/reading-room/index.html#top",
    "/reading-room/assets/a?/../../../tools/reset",
    "/reading-room/index.html\t",
    "/reading-room/index.html\r\nX: y",
    "/reading-room/\x7f",
    "reading-room/index.html",
    "",
    "*",
  };
  static const char nul_path[] = "/reading-room/index.html\0/../../tools/reset";
  rr_matrix_decision d;
  char deep[1024];
  size_t i;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    expect_roles(matrix, "GET", bad[i], NONE);
    expect_roles(matrix, "POST", bad[i], NONE);
    ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", bad[i], A), 0);
    ck_assert_int_eq(d.rule, -1);
  }
  /* a NUL inside the path (rr_matrix_check would only see the prefix) */
  ck_assert_int_eq(rr_matrix_check_len(&d, matrix, "GET", nul_path, sizeof(nul_path) - 1, N), 0);
  ck_assert(!d.allow);
  ck_assert(strstr(d.reason, "NUL") != NULL);
  ck_assert_int_eq(rr_matrix_check_len(&d, matrix, "GET", nul_path, strlen(nul_path), N), 0);
  ck_assert(d.allow); /* the same bytes up to the NUL are fine */
  /* NULL path */
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", NULL, A), 0);
  ck_assert(!d.allow);
  /* too many segments */
  deep[0] = '\0';
  for (i = 0; i < RR_MATRIX_MAX_SEGMENTS; i++)
    strncat(deep, "/a", sizeof(deep) - strlen(deep) - 1);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", deep, A), 0);
  ck_assert(strstr(d.reason, "too many") == NULL); /* 64 is fine (and unknown) */
  strncat(deep, "/a", sizeof(deep) - strlen(deep) - 1);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", deep, A), 0);
  ck_assert(!d.allow);
  ck_assert(strstr(d.reason, "too many") != NULL);
  /* a lone or non-hex '%' is just a character */
  expect_roles(matrix, "GET", "/studies/50%", A | R | T | P);
  expect_roles(matrix, "GET", "/studies/%zz", A | R | T | P);
  /* bad arguments */
  ck_assert_int_eq(rr_matrix_check(NULL, matrix, "GET", "/", A), RR_EINVAL);
  ck_assert_int_eq(rr_matrix_check(&d, NULL, "GET", "/", A), RR_EINVAL);
  ck_assert(!d.allow);
}
END_TEST

START_TEST(no_role_no_access)
{
  size_t i;
  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    rr_matrix_decision d;
    ck_assert_int_eq(rr_matrix_check(&d, matrix, cases[i].method, cases[i].path, 0), 0);
    ck_assert(!d.allow);
  }
}
END_TEST

/* ------------------------------------------------ physician and studies */

START_TEST(physician_images_need_the_study_check)
{
  static const char *image_routes[] = {
    "/instances/0a1b/file", "/instances/0a1b/frames/0/rendered", "/instances/0a1b/preview", "/instances/0a1b/tags",
    "/series/0a1b/ordered-slices", "/studies/0a1b", "/studies/0a1b/instances", "/dicom-web/studies/1.2/series/3/instances/4/frames/1",
    "/wado", "/api/dicom/studies/1.2.3", "/api/dicom/studies/1.2.3/reports",
  };
  rr_matrix_decision d;
  size_t i;

  for (i = 0; i < sizeof(image_routes) / sizeof(image_routes[0]); i++) {
    ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", image_routes[i], P), 0);
    ck_assert_msg(d.allow && (d.flags & RR_RULE_STUDY_IMAGES) && (d.flags & RR_RULE_AUDIT_STUDY), "%s", image_routes[i]);
    /* other roles of the rule are not restricted */
    ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", image_routes[i], R), 0);
    ck_assert_msg(d.allow && !(d.flags & RR_RULE_STUDY_IMAGES) && (d.flags & RR_RULE_AUDIT_STUDY), "%s", image_routes[i]);
    ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", image_routes[i], R | P), 0);
    ck_assert(d.allow && !(d.flags & RR_RULE_STUDY_IMAGES));
    ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", image_routes[i], A | P), 0);
    ck_assert(d.allow && !(d.flags & RR_RULE_STUDY_IMAGES));
  }
  /* every rule granting physicians a route of Orthanc or DICOMweb carries
   * the flag (only the plugin's worklist list, health, auth and reports,
   * which filter by themselves, do not) */
  for (i = 0; i < rr_matrix_rule_count(); i++) {
    const rr_matrix_rule *rule = rr_matrix_rule_at(i);
    if ((rule->roles & P) == 0 || (rule->roles & N) != 0 || strncmp(rule->pattern, "{api}", 5) == 0)
      continue;
    ck_assert_msg(rule->flags & RR_RULE_STUDY_IMAGES, "rule %zu (%s) grants physicians without the study check", i, rule->pattern);
  }
}
END_TEST

static int hook_calls;

static int hook(void *ctx, const char *id, const char *caller)
{
  ck_assert_ptr_nonnull(caller);
  hook_calls++;
  ck_assert_ptr_eq(ctx, &hook_calls);
  if (strcmp(id, "broken") == 0)
    return RR_ESTORE;
  return strcmp(id, "final") == 0 ? 1 : 0;
}

START_TEST(study_check_hook)
{
  rr_matrix_decision d;

  /* default hook: no reports yet, so no images for physicians */
  ck_assert_int_eq(rr_matrix_no_final_report(NULL, "x", ""), 0);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "final"), 0);
  ck_assert(!d.allow);
  ck_assert(strstr(d.reason, "final report") != NULL);

  rr_matrix_set_study_check(matrix, hook, &hook_calls);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "final"), 0);
  ck_assert(d.allow);
  ck_assert_uint_eq(d.flags, RR_RULE_AUDIT_STUDY);
  ck_assert_int_eq(hook_calls, 1);

  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "draft"), 0);
  ck_assert(!d.allow);
  ck_assert_int_ge(d.rule, 0);

  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "broken"), RR_ESTORE);
  ck_assert(!d.allow);

  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, ""), 0);
  ck_assert(!d.allow);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, NULL), 0);
  ck_assert(!d.allow);
  ck_assert_int_eq(hook_calls, 3);

  /* radiologists and denials are left alone, without asking */
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", R), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "draft"), 0);
  ck_assert(d.allow);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/system", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "final"), 0);
  ck_assert(!d.allow);
  ck_assert_int_eq(hook_calls, 3);

  rr_matrix_set_study_check(matrix, NULL, NULL);
  ck_assert_int_eq(rr_matrix_check(&d, matrix, "GET", "/instances/0a1b/file", P), 0);
  ck_assert_int_eq(rr_matrix_check_study(&d, matrix, "final"), 0);
  ck_assert(!d.allow);
  ck_assert_int_eq(hook_calls, 3);
  ck_assert_int_eq(rr_matrix_check_study(NULL, matrix, "final"), RR_EINVAL);
}
END_TEST

/* ------------------------------------------------------- table invariants */

/* Instantiate a table pattern: roots expanded, "{x}" -> "s4mple",
 * "*" -> `tail` (may be ""). */
static void instantiate(char *out, size_t size, const char *pattern, const char *tail)
{
  const char *p = pattern;
  size_t n = 0;

  out[0] = '\0';
  while (*p) {
    const char *piece = NULL;
    size_t len = 1, skip = 1;
    if (strncmp(p, "{api}", 5) == 0) {
      piece = "/api/";
      len = 5;
      skip = 5;
    } else if (strncmp(p, "{web}", 5) == 0) {
      piece = "/reading-room/";
      len = 14;
      skip = 5;
    } else if (*p == '{') {
      piece = "s4mple";
      len = 6;
      skip = (size_t)(strchr(p, '}') - p) + 1;
    } else if (*p == '*') {
      piece = tail;
      len = strlen(tail);
    } else {
      piece = p;
    }
    ck_assert_uint_lt(n + len, size);
    memcpy(out + n, piece, len);
    n += len;
    out[n] = '\0';
    p += skip;
  }
}

START_TEST(table_invariants)
{
  static const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
  size_t i, k, count = rr_matrix_rule_count();

  ck_assert_uint_gt(count, 250);
  ck_assert_ptr_null(rr_matrix_rule_at(count));
  for (i = 0; i < count; i++) {
    const rr_matrix_rule *rule = rr_matrix_rule_at(i);
    char path[512];
    /* the administrator may do whatever anyone may do */
    ck_assert_msg(rule->roles & A, "rule %zu (%s) lacks admin", i, rule->pattern);
    /* deletions are the administrator's, but for the viewer's own work: a
     * radiologist deletes their measurements and unmarks key images (the API
     * lets only an annotation's author delete it), and a radiologist's own
     * report macros */
    if ((rule->methods & RR_METHOD_DELETE) && strstr(rule->pattern, "/annotations/") == NULL &&
        strstr(rule->pattern, "/key-images/") == NULL && strstr(rule->pattern, "/macros/") == NULL)
      ck_assert_msg(rule->roles == A, "rule %zu (%s) lets non-admins delete", i, rule->pattern);
    /* public routes: reads, and the login call */
    if (rule->roles & N)
      ck_assert_msg(rule->methods == RR_METHOD_GET || strcmp(rule->pattern, "{api}auth/login") == 0,
                    "rule %zu (%s) is public and not a read", i, rule->pattern);
    /* every rule is reachable: its own sample is decided by it (first match) */
    for (k = 0; k < 4; k++) {
      rr_matrix_decision d;
      if ((rule->methods & (1u << k)) == 0)
        continue;
      instantiate(path, sizeof(path), rule->pattern, "t4il/more");
      ck_assert_int_eq(rr_matrix_check(&d, matrix, methods[k], path, A), 0);
      ck_assert_msg(d.allow && d.rule == (int)i, "%s %s: decided by rule %d, not %zu", methods[k], path, d.rule, i);
    }
  }
}
END_TEST

START_TEST(anonymous_only_on_public_routes)
{
  static const char *public_patterns[] = {"/", "/favicon.ico", "{web}", "{web}index.html", "{web}assets/*", "{api}auth/login"};
  size_t i, k, n = 0;

  for (i = 0; i < rr_matrix_rule_count(); i++) {
    const rr_matrix_rule *rule = rr_matrix_rule_at(i);
    bool listed = false;
    for (k = 0; k < sizeof(public_patterns) / sizeof(public_patterns[0]); k++)
      listed = listed || strcmp(rule->pattern, public_patterns[k]) == 0;
    ck_assert_msg(((rule->roles & N) != 0) == listed, "rule %zu (%s): anonymous access", i, rule->pattern);
    n += listed;
  }
  ck_assert_uint_eq(n, sizeof(public_patterns) / sizeof(public_patterns[0]));
}
END_TEST

/* ------------------------------------------------------------- coverage */

/* Routes of Orthanc 1.10.1 that `Orthanc --openapi` leaves out when it
 * cannot download their sample answers (no network): 208 documented + these
 * 66 = the 274 routes Orthanc reports. */
static const char *undocumented[][2] = {
  {"GET", "/changes"}, {"GET", "/instances"}, {"GET", "/instances/{id}"}, {"GET", "/instances/{id}/attachments"},
  {"GET", "/instances/{id}/attachments/{name}"}, {"GET", "/instances/{id}/attachments/{name}/info"},
  {"POST", "/instances/{id}/export"}, {"GET", "/instances/{id}/frames"}, {"GET", "/instances/{id}/header"},
  {"GET", "/instances/{id}/metadata"}, {"GET", "/instances/{id}/module"}, {"GET", "/instances/{id}/patient"},
  {"GET", "/instances/{id}/series"}, {"GET", "/instances/{id}/simplified-tags"}, {"GET", "/instances/{id}/statistics"},
  {"GET", "/instances/{id}/study"}, {"GET", "/instances/{id}/tags"}, {"GET", "/jobs"}, {"GET", "/patients"},
  {"GET", "/patients/{id}"}, {"GET", "/patients/{id}/attachments"}, {"GET", "/patients/{id}/attachments/{name}"},
  {"GET", "/patients/{id}/attachments/{name}/info"}, {"GET", "/patients/{id}/instances"},
  {"GET", "/patients/{id}/instances-tags"}, {"GET", "/patients/{id}/metadata"}, {"GET", "/patients/{id}/module"},
  {"GET", "/patients/{id}/series"}, {"GET", "/patients/{id}/shared-tags"}, {"GET", "/patients/{id}/statistics"},
  {"GET", "/patients/{id}/studies"}, {"GET", "/plugins"}, {"GET", "/plugins/{id}"}, {"GET", "/series"},
  {"GET", "/series/{id}"}, {"GET", "/series/{id}/attachments"}, {"GET", "/series/{id}/attachments/{name}"},
  {"GET", "/series/{id}/attachments/{name}/info"}, {"GET", "/series/{id}/instances"},
  {"GET", "/series/{id}/instances-tags"}, {"GET", "/series/{id}/metadata"}, {"GET", "/series/{id}/module"},
  {"GET", "/series/{id}/ordered-slices"}, {"GET", "/series/{id}/patient"}, {"GET", "/series/{id}/shared-tags"},
  {"GET", "/series/{id}/statistics"}, {"GET", "/series/{id}/study"}, {"GET", "/statistics"}, {"GET", "/studies"},
  {"GET", "/studies/{id}"}, {"GET", "/studies/{id}/attachments"}, {"GET", "/studies/{id}/attachments/{name}"},
  {"GET", "/studies/{id}/attachments/{name}/info"}, {"GET", "/studies/{id}/instances"},
  {"GET", "/studies/{id}/instances-tags"}, {"GET", "/studies/{id}/metadata"}, {"GET", "/studies/{id}/module"},
  {"GET", "/studies/{id}/module-patient"}, {"GET", "/studies/{id}/patient"}, {"GET", "/studies/{id}/series"},
  {"GET", "/studies/{id}/shared-tags"}, {"GET", "/studies/{id}/statistics"}, {"GET", "/system"},
  {"GET", "/tools/metrics-prometheus"}, {"GET", "/tools/now"}, {"GET", "/tools/now-local"},
};

/* "{anything}" -> "{}" */
static void canonical(char *out, size_t size, const char *pattern)
{
  size_t n = 0;
  const char *p;

  for (p = pattern; *p && n + 1 < size; p++) {
    out[n++] = *p;
    if (*p == '{') {
      p = strchr(p, '}');
      ck_assert_ptr_nonnull(p);
      if (n + 1 < size)
        out[n++] = '}';
    }
  }
  out[n] = '\0';
}

/* The route (Orthanc template) is allowed to admin by a rule written for
 * exactly this route: the rule's pattern is the route's template, or the
 * template followed by a "*" segment (Orthanc's raw tag content route). No
 * broader rule (a prefix, a wildcard tree) may be what lets it through. */
static bool covered(const char *method, const char *route, char *why, size_t whysize)
{
  char path[512], want[512], got[512], want_tail[520];
  rr_matrix_decision d;
  const rr_matrix_rule *rule;

  instantiate(path, sizeof(path), route, "");
  ck_assert_int_eq(rr_matrix_check(&d, matrix, method, path, A), 0);
  if (!d.allow) {
    snprintf(why, whysize, "%s %s: denied to admin (%s)", method, route, d.reason);
    return false;
  }
  rule = rr_matrix_rule_at((size_t)d.rule);
  canonical(want, sizeof(want), route);
  canonical(got, sizeof(got), rule->pattern);
  snprintf(want_tail, sizeof(want_tail), "%s/*", want);
  if (strcmp(got, want) != 0 && strcmp(got, want_tail) != 0) {
    snprintf(why, whysize, "%s %s: allowed only through the broader rule %d (%s)", method, route, d.rule, rule->pattern);
    return false;
  }
  return true;
}

/* The web app's sections per role (GET /api/auth/me "capabilities"): the
 * same lists as the app's table before it came from the server
 * (WebViewer/src/roles.ts: ACCESS, canUseAi, showsExplorer). */
static void expect_capabilities(const rr_matrix *m, unsigned role, const char *want)
{
  const char *caps[RR_CAPABILITY_COUNT];
  char got[256] = "";
  size_t i, n = rr_matrix_capabilities(caps, m, role);

  for (i = 0; i < n; i++) {
    strncat(got, i ? "," : "", sizeof(got) - strlen(got) - 1);
    strncat(got, caps[i], sizeof(got) - strlen(got) - 1);
  }
  ck_assert_msg(strcmp(got, want) == 0, "%s: got \"%s\", want \"%s\"", rr_role_name(role), got, want);
}

START_TEST(capabilities_per_role)
{
  rr_matrix *other = NULL;
  char err[256] = "";

  expect_capabilities(matrix, A, "worklist,study,upload,users,audit,system,ai,explorer,annotate,templates,report,reports");
  expect_capabilities(matrix, R, "worklist,study,ai,annotate,report,reports");
  expect_capabilities(matrix, T, "worklist,upload");
  expect_capabilities(matrix, P, "worklist,study,reports");
  expect_capabilities(matrix, N, "");
  expect_capabilities(matrix, NONE, "");
  ck_assert_uint_eq(rr_matrix_capabilities(NULL, NULL, A), 0);
  ck_assert_str_eq(rr_capability_name(0), "worklist");
  ck_assert_str_eq(rr_capability_name(8), "annotate");
  ck_assert_str_eq(rr_capability_name(9), "templates");
  ck_assert_str_eq(rr_capability_name(RR_CAPABILITY_COUNT - 1), "reports");
  ck_assert_ptr_null(rr_capability_name(RR_CAPABILITY_COUNT));
  /* the probes follow the configured API root */
  ck_assert_int_eq(rr_matrix_new(&other, "/rr/api/", "/rr/web/", err, sizeof(err)), 0);
  expect_capabilities(other, A, "worklist,study,upload,users,audit,system,ai,explorer,annotate,templates,report,reports");
  expect_capabilities(other, R, "worklist,study,ai,annotate,report,reports");
  rr_matrix_free(other);
}
END_TEST

START_TEST(orthanc_rest_api_coverage)
{
  static const char *methods[] = {"get", "post", "put", "delete", "head", "patch", "options"};
  const char *file = getenv("RR_OPENAPI_JSON");
  json_object *doc, *paths;
  json_object_iter it;
  size_t n_paths = 0, n_ops = 0, n_ok = 0, i, undoc_ok = 0;
  char why[1024];

  for (i = 0; i < sizeof(undocumented) / sizeof(undocumented[0]); i++) {
    ck_assert_msg(covered(undocumented[i][0], undocumented[i][1], why, sizeof(why)), "%s", why);
    undoc_ok++;
  }
  if (file == NULL || file[0] == '\0') {
    fprintf(stderr, "orthanc_rest_api_coverage: RR_OPENAPI_JSON not set (Orthanc not installed?): "
                    "OpenAPI part skipped; %zu undocumented routes covered\n", undoc_ok);
    return;
  }
  doc = json_object_from_file(file);
  ck_assert_msg(doc != NULL, "cannot read %s", file);
  ck_assert(json_object_object_get_ex(doc, "paths", &paths));
  json_object_object_foreachC(paths, it)
  {
    n_paths++;
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
      char upper[8];
      size_t k;
      if (!json_object_object_get_ex(it.val, methods[i], NULL))
        continue;
      for (k = 0; methods[i][k] && k + 1 < sizeof(upper); k++)
        upper[k] = (char)(methods[i][k] - 'a' + 'A');
      upper[k] = '\0';
      n_ops++;
      if (covered(upper, it.key, why, sizeof(why)))
        n_ok++;
      else
        fprintf(stderr, "not covered: %s\n", why);
    }
  }
  json_object_put(doc);
  fprintf(stderr, "orthanc_rest_api_coverage: %zu/%zu operations of %zu paths in %s, %zu/%zu undocumented routes\n",
          n_ok, n_ops, n_paths, file, undoc_ok, sizeof(undocumented) / sizeof(undocumented[0]));
  ck_assert_uint_ge(n_paths, 100); /* the right file */
  ck_assert_uint_eq(n_ok, n_ops);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("matrix");
  TCase *tc = tcase_create("matrix");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, role_names);
  tcase_add_test(tc, bad_roots);
  tcase_add_test(tc, configured_roots);
  tcase_add_test(tc, route_table);
  tcase_add_test(tc, head_is_get_and_other_methods_are_denied);
  tcase_add_test(tc, traversal_and_malformed_paths);
  tcase_add_test(tc, no_role_no_access);
  tcase_add_test(tc, physician_images_need_the_study_check);
  tcase_add_test(tc, study_check_hook);
  tcase_add_test(tc, table_invariants);
  tcase_add_test(tc, anonymous_only_on_public_routes);
  tcase_add_test(tc, capabilities_per_role);
  tcase_add_test(tc, orthanc_rest_api_coverage);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
