#include "common.h"

#include <unistd.h>
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
  ck_assert_uint_eq(c.viewer_cache_mb, 1024);
  ck_assert_uint_eq(c.ingest_batch_size, 100);
  ck_assert(c.ingest_reconcile_at_startup);
  ck_assert_str_eq(c.webapp_directory, "");
  ck_assert(c.orthanc_describe_errors);
  ck_assert_int_eq(parse(&c, "{\"HttpDescribeErrors\": false}", err, sizeof(err)), 0);
  ck_assert(!c.orthanc_describe_errors);
}
END_TEST

/* The node's name (the claimer of its queued work) tells two Orthancs on
 * one host apart by their HTTP port. */
START_TEST(node_name_is_host_and_http_port)
{
  rr_config c;
  char err[512] = "", host[96] = "", want[160];

  ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
  ck_assert_int_eq(parse(&c, "{\"HttpPort\": 8043}", err, sizeof(err)), 0);
  snprintf(want, sizeof(want), "%s:8043", host);
  ck_assert_str_eq(c.node_name, want);
  ck_assert_int_eq(parse(&c, "{}", err, sizeof(err)), 0);
  snprintf(want, sizeof(want), "%s:8042", host);
  ck_assert_str_eq(c.node_name, want);
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

START_TEST(postgresql_options)
{
  rr_config c;
  char err[512] = "";

  /* defaults: SQLite, whose database path is also the base of the plugin's files */
  ck_assert_int_eq(parse(&c, "{\"StorageDirectory\": \"/var/lib/orthanc/db\"}", err, sizeof(err)), 0);
  ck_assert_str_eq(c.store_backend, "sqlite");
  ck_assert_str_eq(c.files_base, c.sqlite_path);
  ck_assert_uint_eq(c.pg_pool_size, 8);
  ck_assert_uint_eq(c.pg_connect_timeout_s, 10);
  ck_assert_str_eq(c.pg_sslmode, "");
  /* PostgreSQL: the files go to the StorageDirectory that the nodes share, and
   * the JWT secret with them */
  ck_assert_int_eq(parse(&c,
                         "{\"StorageDirectory\": \"/srv/shared/orthanc\", \"IndexDirectory\": \"/var/local/idx\","
                         " \"ReadingRoom\": {\"Store\": {\"Backend\": \"postgresql\", \"PostgreSQL\": {"
                         "\"ConnectionString\": \"host=db dbname=rr user=orthanc\", \"PasswordEnvironmentVariable\": \"RR_PG_PW\","
                         " \"SslMode\": \"verify-full\", \"SslRootCertificate\": \"pg-ca.crt\", \"PoolSize\": 16,"
                         " \"ConnectTimeoutSeconds\": 3}}}}",
                         err, sizeof(err)),
                   0);
  ck_assert_str_eq(c.store_backend, "postgresql");
  ck_assert_str_eq(c.pg_conninfo, "host=db dbname=rr user=orthanc");
  ck_assert_str_eq(c.pg_password_env, "RR_PG_PW");
  ck_assert_str_eq(c.pg_sslmode, "verify-full");
  ck_assert_str_eq(c.pg_sslrootcert, "/etc/orthanc/pg-ca.crt");
  ck_assert_uint_eq(c.pg_pool_size, 16);
  ck_assert_uint_eq(c.pg_connect_timeout_s, 3);
  ck_assert_str_eq(c.files_base, "/srv/shared/orthanc/reading-room");
  ck_assert_str_eq(c.auth_secret_file, "/srv/shared/orthanc/reading-room-jwt.key");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"Backend\": \"postgresql\"}}}",
               "ReadingRoom.Store.PostgreSQL.ConnectionString: required when Store.Backend is \"postgresql\"");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"PostgreSQL\": {\"SslMode\": \"on\"}}}}",
               "ReadingRoom.Store.PostgreSQL.SslMode: must be");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"PostgreSQL\": {\"PasswordEnvironmentVariable\": \"s3cret pw\"}}}}",
               "ReadingRoom.Store.PostgreSQL.PasswordEnvironmentVariable: not a variable name");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"PostgreSQL\": {\"PoolSize\": 0}}}}",
               "ReadingRoom.Store.PostgreSQL.PoolSize: must be between 1 and 64");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"PostgreSQL\": {\"ConnectTimeoutSeconds\": 601}}}}",
               "ReadingRoom.Store.PostgreSQL.ConnectTimeoutSeconds: must be between 1 and 600");
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
  expect_error("{\"ReadingRoom\": {\"Viewer\": {\"CacheMegabytes\": 32}}}", "ReadingRoom.Viewer.CacheMegabytes: must be between 64 and 16384");
  expect_error("{\"ReadingRoom\": {\"Viewer\": {\"CacheMegabytes\": 20000}}}", "ReadingRoom.Viewer.CacheMegabytes");
  expect_error("{\"ReadingRoom\": {\"Store\": {\"Backend\": \"postgres\"}}}", "ReadingRoom.Store.Backend: must be \"sqlite\", \"postgresql\" or \"mongodb\"");
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

START_TEST(ai_defaults_off_and_parsed_options)
{
  rr_config c;
  char err[512] = "";

  ck_assert_int_eq(parse(&c, "{}", err, sizeof(err)), 0);
  ck_assert_str_eq(c.ai_provider, "");
  ck_assert_str_eq(c.ai_model, "gemini-2.5-flash");
  ck_assert_uint_eq(c.ai_concurrency, 2);
  ck_assert_uint_eq(c.ai_images_per_series, 8);
  ck_assert_uint_eq(c.ai_image_max_side, 1024);
  ck_assert(!c.ai_allow_cloud);

  ck_assert_int_eq(parse(&c, "{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\", \"BaseUrl\": \"http://gpu-01:8000/v1/\","
                             " \"Model\": \"qwen2.5-vl\", \"Temperature\": 0, \"PricePerMillionInputTokens\": 1,"
                             " \"AutoAnalyze\": {\"Enable\": true, \"Modalities\": [\"ct\", \"CR\"],"
                             " \"DescriptionContains\": [\"Chest\"]}}}}", err, sizeof(err)), 0);
  ck_assert_str_eq(c.ai_base_url, "http://gpu-01:8000"); /* trailing /v1/ dropped: the client adds it */
  ck_assert(!c.ai_cloud);
  ck_assert(c.ai_temperature == 0.0);
  ck_assert(c.ai_price_input == 1.0);
  ck_assert_uint_eq(c.ai_auto_modality_count, 2);
  ck_assert_str_eq(c.ai_auto_modalities[0], "CT");
  ck_assert_str_eq(c.ai_auto_descriptions[0], "chest");

  ck_assert_int_eq(parse(&c, "{\"ReadingRoom\": {\"AI\": {\"Provider\": \"gemini\", \"AllowCloud\": true}}}", err,
                         sizeof(err)), 0);
  ck_assert_str_eq(c.ai_base_url, "https://generativelanguage.googleapis.com");
  ck_assert(c.ai_cloud);
}
END_TEST

START_TEST(ai_invalid_options_and_cloud_opt_in)
{
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"claude\"}}}", "ReadingRoom.AI.Provider: must be");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"gemini\"}}}", "AI.AllowCloud");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\", \"BaseUrl\": \"https://api.openai.com\"}}}",
               "AI.AllowCloud");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\"}}}", "ReadingRoom.AI.BaseUrl: required");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\", \"BaseUrl\": \"ftp://x\"}}}", "http:// or https://");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\", \"BaseUrl\": \"http://h/?key=1\"}}}", "query");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Provider\": \"openai\", \"BaseUrl\": \"http://h\", \"Model\": \"a b\"}}}",
               "ReadingRoom.AI.Model");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Concurrency\": 0}}}", "ReadingRoom.AI.Concurrency: must be between 1 and 16");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"ImageMaxSide\": 4096}}}", "ReadingRoom.AI.ImageMaxSide");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"Temperature\": 3}}}", "ReadingRoom.AI.Temperature");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"AutoAnalyze\": {\"Enable\": true}}}}", "needs an AI provider");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"AutoAnalyze\": {\"Modalities\": [1]}}}}", "AI.AutoAnalyze.Modalities[0]");
  expect_error("{\"ReadingRoom\": {\"AI\": {\"ApiKey\": 5}}}", "ReadingRoom.AI.ApiKey: must be a string");
}
END_TEST

START_TEST(ai_local_urls)
{
  static const char *const local[] = {"http://localhost:11434", "http://127.0.0.1:8000", "http://10.1.2.3",
                                      "https://172.20.0.5:443/v1", "http://192.168.1.10", "http://gpu-server:8000",
                                      "http://llm.hospital.local", "http://[::1]:8000", "http://[fd00::5]/",
                                      "http://ai.radiology.internal/v1", "http://169.254.1.1"};
  static const char *const cloud[] = {"https://api.openai.com", "https://generativelanguage.googleapis.com",
                                      "http://8.8.8.8", "http://172.32.0.1", "http://192.169.0.1", "http://[2001:db8::1]",
                                      "http://user@localhost", "ftp://localhost", "http://256.1.1.1", "",
                                      "http://localhost.evil.com", "http://10.0.0.1.nip.io"};
  size_t i;

  for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
    ck_assert_msg(rr_config_url_is_local(local[i]), "%s should be local", local[i]);
  for (i = 0; i < sizeof(cloud) / sizeof(cloud[0]); i++)
    ck_assert_msg(!rr_config_url_is_local(cloud[i]), "%s should be cloud", cloud[i]);
  ck_assert(!rr_config_url_is_local(NULL));
}
END_TEST

START_TEST(every_default_is_read)
{
  rr_config c;
  char err[512] = "";
  ck_assert_int_eq(rr_config_parse(&c, "{}", 2, "{\"Enable\": true, \"Store\": {\"Unread\": 1}}", "", err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_msg(strstr(err, "ReadingRoom.Store.Unread, which config.c does not read") != NULL, "error '%s'", err);
  ck_assert_int_eq(rr_config_parse(&c, "{}", 2, "[1]", "", err, sizeof(err)), RR_EINVAL); /* no crash either */
  ck_assert_str_eq(err, "the embedded default configuration is not a JSON object");
}
END_TEST

int main(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("parse");
  tcase_add_test(tc, defaults_without_section);
  tcase_add_test(tc, node_name_is_host_and_http_port);
  tcase_add_test(tc, overlay_and_relative_paths);
  tcase_add_test(tc, explicit_database_path);
  tcase_add_test(tc, postgresql_options);
  tcase_add_test(tc, invalid_configurations_name_the_key);
  tcase_add_test(tc, access_control_options);
  tcase_add_test(tc, access_control_must_be_effective);
  tcase_add_test(tc, body_need_not_be_nul_terminated);
  tcase_add_test(tc, ai_defaults_off_and_parsed_options);
  tcase_add_test(tc, ai_invalid_options_and_cloud_opt_in);
  tcase_add_test(tc, ai_local_urls);
  tcase_add_test(tc, every_default_is_read);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
