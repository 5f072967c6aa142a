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
  tcase_add_test(tc, body_need_not_be_nul_terminated);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
