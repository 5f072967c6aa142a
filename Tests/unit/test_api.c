/* The API's pure parts: the error table (api/failure.h), route arguments
 * (api/args.h). */
#include "api/args.h"
#include "api/failure.h"
#include "api/reply.h"
#include "common.h"
#include "util/errors.h"

/* The error statuses Orthanc's HttpStatus enumeration knows (Orthanc 1.10.1,
 * OrthancFramework/Sources/Enumerations.h): a plugin answering another one
 * (428, 429, ...) makes Orthanc drop the connection instead of answering. */
static bool orthanc_can_send(int status)
{
  static const int known[] = {400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416,
                              417, 422, 423, 424, 426, 500, 501, 502, 503, 504, 505, 506, 507, 509, 510};
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (known[i] == status)
      return true;
  return false;
}

START_TEST(error_table_is_complete_and_unique)
{
  int i, j;

  for (i = 0; i < RR_API_ERROR_COUNT; i++) {
    const rr_api_error_info *a = rr_api_error_info_of((rr_api_error)i);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(a->code);
    ck_assert_ptr_nonnull(a->meaning);
    ck_assert_msg(a->status >= 400 && a->status <= 599, "%s: status %d", a->code, a->status);
    ck_assert_msg(orthanc_can_send(a->status), "%s: Orthanc cannot send status %d", a->code, a->status);
    /* a logged fault answers a generic sentence; only server faults are logged */
    ck_assert_msg(a->log == (a->message != NULL), "%s: message iff logged", a->code);
    ck_assert_msg(!a->log || a->status >= 500, "%s: only server faults are logged", a->code);
    for (j = 0; j < i; j++)
      ck_assert_str_ne(a->code, rr_api_error_info_of((rr_api_error)j)->code);
  }
  ck_assert_ptr_null(rr_api_error_info_of(RR_API_ERROR_COUNT));
  ck_assert_ptr_null(rr_api_error_info_of((rr_api_error)-1));
}
END_TEST

/* A stand-in Orthanc that records the headers an answer sets (reply.c only
 * calls SetHttpHeader and the answer services). */
static char seen_headers[1024];

static OrthancPluginErrorCode record_service(struct _OrthancPluginContext_t *context, _OrthancPluginService service,
                                             const void *params)
{
  (void)context;
  if (service == _OrthancPluginService_SetHttpHeader) {
    const _OrthancPluginSetHttpHeader *h = params;
    size_t n = strlen(seen_headers);
    snprintf(seen_headers + n, sizeof(seen_headers) - n, "%s: %s\n", h->key, h->value);
  }
  return OrthancPluginErrorCode_Success;
}

static const char *answer_headers(bool hsts)
{
  OrthancPluginContext ctx;
  json_object *o = json_object_new_object();

  memset(&ctx, 0, sizeof(ctx));
  ctx.InvokeService = record_service;
  seen_headers[0] = '\0';
  rr_reply_set_hsts(hsts);
  rr_reply_json(&ctx, (OrthancPluginRestOutput *)&ctx, 200, o);
  rr_reply_set_hsts(false);
  json_object_put(o);
  return seen_headers;
}

/* HSTS on every JSON answer when Orthanc serves HTTPS, never otherwise. */
START_TEST(strict_transport_security_follows_https)
{
  ck_assert_ptr_null(strstr(answer_headers(false), "Strict-Transport-Security"));
  ck_assert_ptr_nonnull(strstr(answer_headers(true), "Strict-Transport-Security: " RR_HSTS_VALUE "\n"));
  ck_assert_ptr_nonnull(strstr(seen_headers, "Cache-Control: no-store\n"));
}
END_TEST

static void expect(int code, const char *wire, int status)
{
  const rr_api_error_info *e = rr_api_error_info_of(rr_api_error_of(code));
  ck_assert_str_eq(e->code, wire);
  ck_assert_int_eq(e->status, status);
}

/* What the routes sent before the table existed (the wire names the
 * integration tests and clients rely on). */
START_TEST(domain_codes_map_to_their_answers)
{
  expect(RR_EINVAL, "invalid_argument", 400);
  expect(RR_ELOCKED, "locked", 403);
  expect(RR_ENOTFOUND, "not_found", 404);
  expect(RR_ECONFLICT, "conflict", 409);
  expect(RR_EEXISTS, "already_exists", 409);
  expect(RR_EUNSUPPORTED, "unsupported", 415);
  expect(RR_EFULL, "too_large", 413);
  expect(RR_ENOMEM, "out_of_memory", 500);
  expect(RR_ESTOPPED, "stopping", 500);
  expect(RR_ERROR, "internal", 500);
  expect(-1000, "internal", 500);
  expect(RR_EUPSTREAM, "upstream_error", 502);
  expect(RR_ESTORE, "unavailable", 503);
}
END_TEST

START_TEST(study_uid_rule)
{
  static const char *const good[] = {
    "1.2.840.10008.5.1.4.1.1.2", "1", "0.0",
    /* non-conformant identifiers real archives hold: they open and can be analysed */
    "05fa52f0e599f17b8186ff18fcdf2b5570a52206a75c4d03afebf5c475dc8758", "ACME1.2.3", "1.2.03",
  };
  static const char *const bad[] = {
    "", ".1.2", "1.2.", "1..2", "not-a-uid", "1.2_3", "1.2 3", "1.2;DROP TABLE studies", "1.2' OR '1'='1", "1%2E2", "1+2", "1/2", "1\\2",
    "1.2\n", "11111111111111111111111111111111111111111111111111111111111111111", /* 65 */
  };
  size_t i;

  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    ck_assert_msg(rr_args_study_uid_ok(good[i]), "%s", good[i]);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(!rr_args_study_uid_ok(bad[i]), "%s", bad[i]);
  ck_assert(!rr_args_study_uid_ok(NULL));
  ck_assert(rr_args_study_uid_ok("1111111111111111111111111111111111111111111111111111111111111111")); /* 64 */
}
END_TEST

START_TEST(query_arguments_are_decoded_once)
{
  const char *keys[] = {"user", "from", "empty", "long"};
  const char *values[] = {"dr%2Ehouse+md", "2024-01-02T03%3A04%3A05Z", "", "0123456789"};
  OrthancPluginHttpRequest req;
  char buf[8], big[64];

  memset(&req, 0, sizeof(req));
  req.getCount = 4;
  req.getKeys = keys;
  req.getValues = values;
  ck_assert_str_eq(rr_args_query(&req, "user", big, sizeof(big)), "dr.house md");
  ck_assert_str_eq(rr_args_query(&req, "from", big, sizeof(big)), "2024-01-02T03:04:05Z");
  ck_assert_str_eq(rr_args_query(&req, "empty", big, sizeof(big)), "");
  ck_assert_str_eq(rr_args_query(&req, "absent", big, sizeof(big)), "");
  ck_assert_ptr_null(rr_args_query(&req, "long", buf, sizeof(buf)));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("api");
  TCase *tc = tcase_create("errors");
  tcase_add_test(tc, error_table_is_complete_and_unique);
  tcase_add_test(tc, strict_transport_security_follows_https);
  tcase_add_test(tc, domain_codes_map_to_their_answers);
  suite_add_tcase(s, tc);
  tc = tcase_create("arguments");
  tcase_add_test(tc, study_uid_rule);
  tcase_add_test(tc, query_arguments_are_decoded_once);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
