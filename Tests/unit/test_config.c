#include "common.h"
#include "config.h"
#include "util/embedded.h"
#include "util/errors.h"

static const char *defaults(void)
{
  const rr_embedded_file *f = rr_embedded_find(rr_resources_files, rr_resources_count, "DefaultConfiguration.json");
  ck_assert_ptr_nonnull(f);
  return (const char *)f->data;
}

static int parse(rr_config *c, const char *json, char *err, size_t errsize)
{
  return rr_config_parse(c, json, strlen(json), defaults(), "/etc/orthanc", err, errsize);
}

static void expect_error(const char *json, const char *fragment)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(parse(&c, json, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, fragment) != NULL, "error '%s' lacks '%s'", err, fragment);
}

START_TEST(defaults_without_section)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(parse(&c, "{\"StorageDirectory\": \"/var/lib/orthanc/db\"}", err, sizeof(err)), 0);
  ck_assert(c.enable);
  ck_assert_str_eq(c.web_root, "/reading-room/");
  ck_assert_str_eq(c.api_root, "/api/");
  ck_assert_str_eq(c.store_backend, "sqlite");
  ck_assert_str_eq(c.sqlite_path, "/var/lib/orthanc/db/reading-room.db");
  ck_assert_uint_eq(c.worklist_default_page_size, 50);
  ck_assert_uint_eq(c.worklist_max_page_size, 500);
  ck_assert_uint_eq(c.ingest_batch_size, 100);
  ck_assert(c.ingest_reconcile_at_startup);
  ck_assert_str_eq(c.webapp_directory, "");
  ck_assert(c.orthanc_describe_errors);
  ck_assert_int_eq(parse(&c, "{\"HttpDescribeErrors\": false}", err, sizeof(err)), 0);
  ck_assert(!c.orthanc_describe_errors);
}
END_TEST

START_TEST(overlay_and_relative_paths)
{
  rr_config c;
  char err[512] = "";
  const char *json = "{\"IndexDirectory\": \"idx\", \"StorageDirectory\": \"st\", \"ReadingRoom\": {"
                     "\"Enable\": false, \"WebRoot\": \"/rr/\", \"ApiRoot\": \"/rr-api/\","
                     "\"Store\": {\"SQLite\": {\"ReaderConnections\": 8}},"
                     "\"Worklist\": {\"MaxPageSize\": 200.0}, \"WebAppDirectory\": \"web\"}}";
  ck_assert_int_eq(parse(&c, json, err, sizeof(err)), 0);
  ck_assert(!c.enable);
  ck_assert_str_eq(c.web_root, "/rr/");
  ck_assert_str_eq(c.api_root, "/rr-api/");
  ck_assert_uint_eq(c.sqlite_readers, 8);
  ck_assert_int_eq(c.sqlite_busy_timeout_ms, 5000); /* sibling default kept */
  ck_assert_uint_eq(c.worklist_max_page_size, 200);
  ck_assert_str_eq(c.sqlite_path, "/etc/orthanc/idx/reading-room.db");
  ck_assert_str_eq(c.webapp_directory, "/etc/orthanc/web");
}
END_TEST

START_TEST(explicit_database_path)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(parse(&c, "{\"ReadingRoom\": {\"Store\": {\"SQLite\": {\"Path\": \"/data/rr.db\"}}}}", err, sizeof(err)), 0);
  ck_assert_str_eq(c.sqlite_path, "/data/rr.db");
}
END_TEST

START_TEST(invalid_configurations_name_the_key)
{
  expect_error("{\"ReadingRoom\": {\"WebRoot\": \"reading\"}}", "ReadingRoom.WebRoot: must start and end with '/'");
  expect_error("{\"ReadingRoom\": {\"WebRoot\": \"/\"}}", "ReadingRoom.WebRoot");
  expect_error("{\"ReadingRoom\": {\"ApiRoot\": \"/a pi/\"}}", "ReadingRoom.ApiRoot: only letters");
  expect_error("{\"ReadingRoom\": {\"ApiRoot\": \"/x//y/\"}}", "empty path segment");
  expect_error("{\"ReadingRoom\": {\"WebRoot\": \"/api/web/\"}}", "must not contain each other");
  expect_error("{\"ReadingRoom\": {\"Enabel\": true}}", "ReadingRoom.Enabel: unknown option");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"SQLite\": {\"Pth\": \"x\"}}}}", "ReadingRoom.Store.SQLite.Pth: unknown option");
  expect_error("{\"ReadingRoom\": {\"Enable\": \"yes\"}}", "ReadingRoom.Enable: must be a boolean, not a string");
  expect_error("{\"ReadingRoom\": {\"Store\": 3}}", "ReadingRoom.Store: must be an object");
  expect_error("{\"ReadingRoom\": {\"Worklist\": {\"MaxPageSize\": 0}}}", "ReadingRoom.Worklist.MaxPageSize: must be between 1 and 10000");
  expect_error("{\"ReadingRoom\": {\"Worklist\": {\"DefaultPageSize\": 600}}}", "ReadingRoom.Worklist.DefaultPageSize");
  expect_error("{\"ReadingRoom\": {\"Worklist\": {\"MaxPageSize\": 2.5}}}", "must be an integer");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"Backend\": \"postgres\"}}}", "ReadingRoom.Store.Backend: must be \"sqlite\" or \"mongodb\"");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"Backend\": \"mongodb\"}}}", "ReadingRoom.Store.MongoDB.Uri: required");
  expect_error("{\"ReadingRoom\": [1]}", "ReadingRoom: must be an object");
  expect_error("[1,2]", "not a JSON object");
  expect_error("{\"ReadingRoom\": {", "not a JSON object");
}
END_TEST

START_TEST(access_control_options)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(parse(&c, "{\"IndexDirectory\": \"/var/lib/orthanc/db\"}", err, sizeof(err)), 0);
  ck_assert(c.auth_enable);
  ck_assert_str_eq(c.auth_algorithm, "HS256");
  ck_assert_str_eq(c.auth_secret_file, "/var/lib/orthanc/db/reading-room-jwt.key");
  ck_assert_uint_eq(c.auth_token_lifetime, 28800);
  ck_assert_uint_eq(c.auth_lockout_max_failures, 5);
  ck_assert(c.auth_allow_basic);
  ck_assert_int_eq(parse(&c, "{\"ReadingRoom\": {\"Auth\": {\"Algorithm\": \"RS256\", \"PrivateKeyFile\": \"k.pem\","
                             " \"PublicKeyFile\": \"/keys/p.pem\", \"Lockout\": {\"LockSeconds\": 60}}}}", err, sizeof(err)), 0);
  ck_assert_str_eq(c.auth_private_key_file, "/etc/orthanc/k.pem");
  ck_assert_str_eq(c.auth_public_key_file, "/keys/p.pem");
  ck_assert_uint_eq(c.auth_lockout_seconds, 60);
  ck_assert_uint_eq(c.auth_lockout_max_failures, 5);
  expect_error("{\"ReadingRoom\": {\"Auth\": {\"Algorithm\": \"none\"}}}", "ReadingRoom.Auth.Algorithm: must be");
  expect_error("{\"ReadingRoom\": {\"Auth\": {\"Algorithm\": \"ES256\"}}}", "PrivateKeyFile and PublicKeyFile: required");
  expect_error("{\"ReadingRoom\": {\"Auth\": {\"TokenLifetimeSeconds\": 5}}}", "ReadingRoom.Auth.TokenLifetimeSeconds");
  expect_error("{\"ReadingRoom\": {\"Auth\": {\"Issuer\": \"\"}}}", "must not be empty");
}
END_TEST

static int access_check(const char *json)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(parse(&c, json, err, sizeof(err)), 0);
  return rr_config_check_access(&c, err, sizeof(err));
}

START_TEST(access_control_must_be_effective)
{
  ck_assert_int_eq(access_check("{}"), 0);
  ck_assert_int_eq(access_check("{\"RemoteAccessAllowed\": true, \"AuthenticationEnabled\": false}"), 0);
  ck_assert_int_eq(access_check("{\"AuthenticationEnabled\": true}"), RR_EINVAL);
  ck_assert_int_eq(access_check("{\"RemoteAccessAllowed\": true}"), RR_EINVAL); /* Orthanc would turn its own on */
  ck_assert_int_eq(access_check("{\"RemoteAccessAllowed\": true, \"AuthenticationEnabled\": false,"
                          " \"ReadingRoom\": {\"Auth\": {\"Enable\": false}}}"), RR_EINVAL);
  ck_assert_int_eq(access_check("{\"ReadingRoom\": {\"Auth\": {\"Enable\": false}}}"), 0); /* local only */
  ck_assert_int_eq(access_check("{\"AuthenticationEnabled\": true, \"ReadingRoom\": {\"Enable\": false}}"), 0);
}
END_TEST

START_TEST(body_need_not_be_nul_terminated)
{
  rr_config c;
  char err[512] = "";
  const char json[] = "{\"ReadingRoom\": {\"Enable\": false}}GARBAGE";
  ck_assert_int_eq(rr_config_parse(&c, json, strlen(json) - 7, defaults(), "", err, sizeof(err)), 0);
  ck_assert(!c.enable);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, defaults_without_section);
  tcase_add_test(tc, overlay_and_relative_paths);
  tcase_add_test(tc, explicit_database_path);
  tcase_add_test(tc, invalid_configurations_name_the_key);
  tcase_add_test(tc, access_control_options);
  tcase_add_test(tc, access_control_must_be_effective);
  tcase_add_test(tc, body_need_not_be_nul_terminated);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
