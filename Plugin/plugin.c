/*
 * plugin.c - the Orthanc entry points. Reads the ReadingRoom configuration,
 * hands each module its options (store, ingestion, access control, AI,
 * API, web app), wires Orthanc's callbacks to them (the HTTP filter, the
 * change callback, metrics) and starts/stops the worker threads. What the
 * modules do lives in the modules; here are only the adapters from the
 * Orthanc SDK's callbacks and the log lines of start-up.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <orthanc/OrthancCPlugin.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ai/http_client.h"
#include "ai/jobs.h"
#include "ai/provider.h"
#include "api/ai_api.h"
#include "api/api.h"
#include "api/report_outputs_api.h"
#include "api/reply.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/challenge.h"
#include "auth/filter.h"
#include "auth/matrix.h"
#include "config.h"
#include "ingest/ingest.h"
#include "report/report_access.h"
#include "report/report_compose.h"
#include "report/report_outputs.h"
#include "backup/backup_setup.h"
#include "api/backup_api.h"
#include "report/template.h"
#include "storage/storage.h"
#include "store/store_pg.h"
#ifdef RR_HAVE_MONGODB
#include "store/store_mongo.h"
#endif
#include "store/store_sqlite.h"
#include "util/embedded.h"
#include "util/log.h"
#include "util/str.h"
#include "web/web.h"

#ifndef RR_VERSION
#define RR_VERSION "0.0.0"
#endif

#define PLUGIN_NAME "reading-room"
#define MAX_PENDING_DELETIONS 100000

static OrthancPluginContext *plugin_ctx;
static rr_config plugin_config;
static rr_store *plugin_store;
static rr_ingest *plugin_ingest;
static rr_api_deps plugin_api;
/* Where the off-site backup goes, for admin/backup (no credentials: a user:password@ in the URL is dropped). */
static char backup_endpoint[512];
static char backup_bucket[600];

static void set_backup_location(const rr_config *c)
{
  bool s3 = strcmp(c->backup_target, "cloudinary") != 0;
  const char *url = s3 ? c->backup_s3_endpoint : c->backup_cl_api_base;
  const char *scheme = strstr(url, "://");
  const char *host = scheme != NULL ? scheme + 3 : url;
  const char *at = strchr(host, '@');
  const char *slash = strchr(host, '/');

  if (at != NULL && (slash == NULL || at < slash))
    snprintf(backup_endpoint, sizeof(backup_endpoint), "%.*s%s", (int)(host - url), url, at + 1);
  else
    rr_str_copy(backup_endpoint, sizeof(backup_endpoint), url);
  if (s3)
    snprintf(backup_bucket, sizeof(backup_bucket), "%s%s%s", c->backup_s3_bucket, c->backup_s3_prefix[0] ? "/" : "",
             c->backup_s3_prefix);
  else
    snprintf(backup_bucket, sizeof(backup_bucket), "%s/%s", c->backup_cl_cloud_name, c->backup_cl_folder);
}

static rr_audit *plugin_audit;
static rr_auth *plugin_auth;
static rr_matrix *plugin_matrix;
static rr_filter *plugin_filter;
static rr_ai_jobs *plugin_ai;
static rr_storage *plugin_storage;
static rr_templates *plugin_templates; /* report templates: templates_api and reports_api share it */
static rr_report_composer *plugin_composer; /* a report version as its outputs need it */
static rr_report_access *plugin_report_access; /* the physicians' study check */
static rr_report_outputs *plugin_outputs;      /* signed reports back into the archive */
static rr_backup_queue *plugin_backup;         /* off-site backup; NULL when off */
static bool plugin_curl_ready;

#define AUDIT_QUEUE 65536
#define ADMIN_PASSWORD_ENV "READING_ROOM_ADMIN_PASSWORD"

static const char *method_name(OrthancPluginHttpMethod m)
{
  switch (m) {
  case OrthancPluginHttpMethod_Get: return "GET";
  case OrthancPluginHttpMethod_Post: return "POST";
  case OrthancPluginHttpMethod_Put: return "PUT";
  case OrthancPluginHttpMethod_Delete: return "DELETE";
  default: return "OTHER";
  }
}

static const char *header_of(uint32_t count, const char *const *keys, const char *const *values, const char *name)
{
  uint32_t i;

  for (i = 0; i < count; i++)
    if (strcmp(keys[i], name) == 0) /* Orthanc gives header names in lower case */
      return values[i];
  return NULL;
}

/* Every HTTP request Orthanc receives passes here first (concurrently). */
static int32_t on_http_request(OrthancPluginHttpMethod method, const char *uri, const char *ip, uint32_t headers_count,
                               const char *const *keys, const char *const *values, uint32_t get_count,
                               const char *const *get_keys, const char *const *get_values)
{
  rr_filter_request req;
  rr_filter_result res;
  uint32_t i;

  req.wado_study = NULL;
  for (i = 0; i < get_count; i++)
    if (strcmp(uri, "/wado") == 0 && strcmp(get_keys[i], "studyUID") == 0)
      req.wado_study = get_values[i];
  req.method = method_name(method);
  req.uri = uri;
  req.source = ip ? ip : "";
  req.authorization = header_of(headers_count, keys, values, "authorization");
  req.cookie = header_of(headers_count, keys, values, "cookie");
  req.csrf = header_of(headers_count, keys, values, RR_CSRF_HEADER);
  req.origin = header_of(headers_count, keys, values, "origin");
  req.host = header_of(headers_count, keys, values, "host");
  req.requested_with = header_of(headers_count, keys, values, "x-requested-with");
  req.sec_fetch_mode = header_of(headers_count, keys, values, "sec-fetch-mode");
  rr_filter_decide(plugin_filter, &res, &req);
  /* a challenge goes on to the route dispatch, which answers 401 (api/route.h) */
  return res.allow || res.challenge ? 1 : 0;
}

/* Write the generated first password where only the Orthanc user can read
 * it (never into the log). */
static void hand_over_password(const char *password)
{
  char path[RR_PATH_SIZE + 64] = "";

  if (rr_auth_write_initial_password(path, sizeof(path), plugin_config.files_base, password) < 0)
    rr_log_error("cannot write %s: log in with the password in ReadingRoom.Auth.AdminPassword or %s instead",
                 path[0] ? path : "initial-admin-password", ADMIN_PASSWORD_ENV);
  else
    rr_log_warning("access control: created the administrator 'admin'; its generated password is in %s (readable by "
                   "the Orthanc user only). Log in, change it, then delete that file.", path);
}

static int setup_access_control(void)
{
  rr_auth_options ao;
  char err[512] = "", generated[64] = "";
  const char *password = plugin_config.auth_admin_password;
  bool created = false, challenging = false;

  if (rr_config_check_access(&plugin_config, err, sizeof(err)) < 0) {
    rr_log_error("invalid configuration: %s", err);
    return -1;
  }
  if (!plugin_config.auth_enable) {
    rr_log_warning("access control is OFF (ReadingRoom.Auth.Enable is false): anyone who reaches this Orthanc can use it");
    return 0;
  }
  if (password[0] == '\0' && getenv(ADMIN_PASSWORD_ENV) != NULL)
    password = getenv(ADMIN_PASSWORD_ENV);
  if (rr_audit_new(&plugin_audit, plugin_store, AUDIT_QUEUE) < 0) {
    rr_log_error("cannot start the audit writer");
    return -1;
  }
  {
    char anchor[RR_PATH_SIZE + 16];
    snprintf(anchor, sizeof(anchor), "%s.audit-head", plugin_config.files_base);
    if (rr_audit_set_anchor(plugin_audit, anchor, err, sizeof(err)) < 0) {
      rr_log_error("audit: cannot anchor the trail's head: %s", err);
      return -1;
    }
  }
  if (rr_audit_start(plugin_audit) < 0) {
    rr_log_error("cannot start the audit writer");
    return -1;
  }
  ao.algorithm = plugin_config.auth_algorithm;
  ao.secret_file = plugin_config.auth_secret_file;
  ao.private_key_file = plugin_config.auth_private_key_file;
  ao.public_key_file = plugin_config.auth_public_key_file;
  ao.issuer = plugin_config.auth_issuer;
  ao.audience = plugin_config.auth_audience;
  ao.token_lifetime = plugin_config.auth_token_lifetime;
  ao.idle_timeout = plugin_config.auth_idle_timeout;
  ao.max_session = plugin_config.auth_max_session;
  ao.allow_basic = plugin_config.auth_allow_basic;
  ao.password_min_length = plugin_config.auth_password_min_length;
  ao.lockout_max_failures = plugin_config.auth_lockout_max_failures;
  ao.lockout_max_per_address = plugin_config.auth_lockout_max_per_address;
  ao.lockout_seconds = plugin_config.auth_lockout_seconds;
  if (rr_auth_new(&plugin_auth, &ao, plugin_store, plugin_audit, err, sizeof(err)) < 0 ||
      rr_matrix_new(&plugin_matrix, plugin_config.api_root, plugin_config.web_root, err, sizeof(err)) < 0 ||
      rr_filter_new(&plugin_filter, plugin_auth, plugin_matrix, plugin_audit, plugin_config.api_root) < 0) {
    rr_log_error("access control: %s", err[0] ? err : "out of memory");
    return -1;
  }
  if (rr_auth_bootstrap(plugin_auth, &created, generated, sizeof(generated), password, err, sizeof(err)) < 0) {
    rr_log_error("access control: cannot create the first administrator: %s", err);
    return -1;
  }
  if (created && generated[0] != '\0')
    hand_over_password(generated);
  else if (created)
    rr_log_warning("access control: created the administrator 'admin' with the configured password");
  memset(generated, 0, sizeof(generated));
  OrthancPluginRegisterIncomingHttpRequestFilter2(plugin_ctx, on_http_request);
  if (rr_challenge_register(&challenging, plugin_ctx, plugin_auth, plugin_matrix, plugin_audit) < 0)
    rr_log_warning("access control: Orthanc refused the HTTP authentication callback (another plugin has one): "
                   "HTTP Basic challenges on the plugin's API routes only");
  else if (challenging)
    rr_log_warning("access control: HTTP authentication callback registered (Orthanc >= 1.12.9): every route "
                   "answers 401 with a Basic challenge to requests without valid credentials");
  return 0;
}

/* Reports: the composer (also the outputs worker's loader) and the
 * physicians' study check on the role matrix. */
static int setup_reports(void)
{
  rr_physician_scope scope = RR_PHYSICIAN_SCOPE_ALL;

  if (rr_report_composer_new(&plugin_composer, plugin_store, plugin_templates, plugin_ctx,
                             plugin_config.reports_institution) < 0)
    return -1;
  if (plugin_matrix != NULL) {
    rr_physician_scope_parse(&scope, plugin_config.reports_physician_scope); /* checked by config.c */
    if (rr_report_access_new(&plugin_report_access, plugin_store, rr_rest_source_orthanc(plugin_ctx), scope) < 0)
      return -1;
    rr_matrix_set_study_check(plugin_matrix, rr_report_access_study_check, plugin_report_access);
  }
  return 0;
}

static rr_level level_of(OrthancPluginResourceType type)
{
  switch (type) {
  case OrthancPluginResourceType_Patient: return RR_LEVEL_PATIENT;
  case OrthancPluginResourceType_Study: return RR_LEVEL_STUDY;
  case OrthancPluginResourceType_Series: return RR_LEVEL_SERIES;
  default: return RR_LEVEL_INSTANCE;
  }
}

/* The AI provider and the job pool (refusing analyses when no provider is
 * configured). The key comes from AI.ApiKey or its environment variable. */
static int setup_ai(void)
{
  rr_ai_provider_config pc;
  rr_ai_jobs_options jo;
  rr_ai_provider *provider = NULL;
  const char *key = plugin_config.ai_api_key;
  const char *modalities[RR_AI_AUTO_RULES_MAX], *words[RR_AI_AUTO_RULES_MAX];
  char err[512] = "", host[256] = "";
  unsigned i;

  if (rr_ai_http_global_init() < 0) {
    rr_log_error("cannot initialise libcurl");
    return -1;
  }
  plugin_curl_ready = true;
  if (plugin_config.ai_provider[0] != '\0') {
    if (key[0] == '\0' && plugin_config.ai_api_key_env[0] != '\0' && getenv(plugin_config.ai_api_key_env) != NULL)
      key = getenv(plugin_config.ai_api_key_env);
    memset(&pc, 0, sizeof(pc));
    pc.kind = plugin_config.ai_provider;
    pc.base_url = plugin_config.ai_base_url;
    pc.api_version = plugin_config.ai_api_version;
    pc.model = plugin_config.ai_model;
    pc.api_key = key;
    pc.ca_file = plugin_config.ai_ca_file;
    pc.connect_timeout_ms = (long)plugin_config.ai_connect_timeout_s * 1000;
    pc.timeout_ms = (long)plugin_config.ai_timeout_s * 1000;
    pc.max_response = (size_t)plugin_config.ai_max_response_mb * 1024 * 1024;
    pc.max_attempts = plugin_config.ai_max_attempts;
    pc.max_retry_wait_ms = (int64_t)plugin_config.ai_max_retry_wait_s * 1000;
    pc.temperature = plugin_config.ai_temperature;
    pc.max_output_tokens = (int)plugin_config.ai_max_output_tokens;
    if (rr_ai_provider_new(&provider, &pc, err, sizeof(err)) < 0) {
      rr_log_error("invalid configuration: ReadingRoom.AI: %s", err);
      return -1;
    }
    {
      const char *h = strstr(plugin_config.ai_base_url, "://");
      h = h ? h + 3 : plugin_config.ai_base_url;
      rr_str_copyn(host, sizeof(host), h, strcspn(h, "/"));
    }
  }
  memset(&jo, 0, sizeof(jo));
  jo.store = plugin_store;
  jo.audit = plugin_audit;
  jo.ctx = plugin_ctx;
  jo.provider = provider;
  jo.destination = host;
  jo.concurrency = plugin_config.ai_concurrency;
  jo.max_queued = plugin_config.ai_max_queued;
  jo.select.per_series = plugin_config.ai_images_per_series;
  jo.select.max_images = plugin_config.ai_max_images;
  jo.max_side = plugin_config.ai_image_max_side;
  jo.max_request_bytes = (size_t)plugin_config.ai_max_request_mb * 1000 * 1000;
  jo.price_input = plugin_config.ai_price_input;
  jo.price_output = plugin_config.ai_price_output;
  jo.auto_enable = plugin_config.ai_auto_enable;
  for (i = 0; i < plugin_config.ai_auto_modality_count; i++)
    modalities[i] = plugin_config.ai_auto_modalities[i];
  for (i = 0; i < plugin_config.ai_auto_description_count; i++)
    words[i] = plugin_config.ai_auto_descriptions[i];
  jo.auto_modalities = modalities;
  jo.auto_modality_count = plugin_config.ai_auto_modality_count;
  jo.auto_words = words;
  jo.auto_word_count = plugin_config.ai_auto_description_count;
  if (rr_ai_jobs_new(&plugin_ai, &jo, err, sizeof(err)) < 0) {
    rr_log_error("AI: %s", err);
    return -1;
  }
  if (provider != NULL)
    rr_log_warning("AI: provider \"%s\", model \"%s\" at %s (%s), %u parallel analyses%s", plugin_config.ai_provider,
                   plugin_config.ai_model, host, plugin_config.ai_cloud ? "OUTSIDE the hospital: AllowCloud is on" : "on-premises",
                   plugin_config.ai_concurrency, plugin_config.ai_auto_enable ? ", automatic analysis of stable studies" : "");
  else
    rr_log_info("AI: no provider configured (ReadingRoom.AI.Provider): analyses are refused with 503");
  return 0;
}

static void refresh_metrics(void)
{
  rr_ai_api_refresh_metrics();
  rr_api_refresh_storage_metrics();
  rr_report_outputs_api_refresh_metrics();
  rr_backup_api_refresh_metrics();
}

/* Runs in Orthanc's single change thread: only signal or enqueue here. */
static OrthancPluginErrorCode on_change(OrthancPluginChangeType type, OrthancPluginResourceType resource, const char *id)
{
  switch (type) {
  case OrthancPluginChangeType_OrthancStarted:
    if (rr_ingest_start(plugin_ingest) < 0)
      rr_log_error("cannot start the ingestion thread");
    if (rr_ai_jobs_start(plugin_ai) < 0)
      rr_log_error("cannot start the AI workers");
    if (rr_storage_start(plugin_storage) < 0)
      rr_log_error("cannot start the storage sampler");
    if (rr_report_outputs_start(plugin_outputs) < 0)
      rr_log_error("cannot start the report outputs worker");
    if (rr_backup_queue_start(plugin_backup) < 0)
      rr_log_error("cannot start the backup workers");
    break;
  case OrthancPluginChangeType_OrthancStopped:
    rr_backup_queue_stop(plugin_backup);
    rr_report_outputs_stop(plugin_outputs);
    rr_storage_stop(plugin_storage);
    rr_ai_jobs_stop(plugin_ai);
    rr_ingest_stop(plugin_ingest);
    break;
  case OrthancPluginChangeType_StableStudy:
    rr_ai_jobs_study_stable(plugin_ai, id);
    rr_ingest_notify(plugin_ingest);
    break;
  case OrthancPluginChangeType_Deleted:
    if (id != NULL && resource != OrthancPluginResourceType_None)
      rr_ingest_deleted(plugin_ingest, level_of(resource), id);
    break;
  default:
    /* every other change is a new entry of the change log to follow */
    rr_ingest_notify(plugin_ingest);
    break;
  }
  return OrthancPluginErrorCode_Success;
}

/* Directory that relative paths of Orthanc's configuration refer to. */
static void config_directory(char *out, size_t size)
{
  char *path = OrthancPluginGetConfigurationPath(plugin_ctx);
  struct stat st;
  char *slash;

  out[0] = '\0';
  if (path == NULL)
    return;
  rr_str_copy(out, size, path);
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    slash = strrchr(out, '/');
    if (slash != NULL)
      *slash = '\0';
    else
      out[0] = '\0';
  }
  OrthancPluginFreeString(plugin_ctx, path);
}

static int read_configuration(void)
{
  const rr_embedded_file *defaults = rr_embedded_find(rr_resources_files, rr_resources_count, "DefaultConfiguration.json");
  char *json, dir[PATH_MAX], err[512] = "";
  int error;

  if (defaults == NULL) {
    rr_log_error("the default configuration is not embedded (build problem)");
    return -1;
  }
  json = OrthancPluginGetConfiguration(plugin_ctx);
  if (json == NULL) {
    rr_log_error("cannot read Orthanc's configuration");
    return -1;
  }
  config_directory(dir, sizeof(dir));
  error = rr_config_parse(&plugin_config, json, strlen(json), (const char *)defaults->data, dir, err, sizeof(err));
  OrthancPluginFreeString(plugin_ctx, json);
  if (error < 0) {
    rr_log_error("invalid configuration: %s", err);
    return -1;
  }
  return 0;
}

/* Create the folders leading to `path` (Orthanc creates its storage
 * directory only after plugins are initialised). */
static int make_parent_dirs(const char *path)
{
  char dir[RR_PATH_SIZE];
  size_t i, len = rr_str_copy(dir, sizeof(dir), path);

  while (len > 0 && dir[len - 1] != '/')
    len--;
  for (i = 1; i < len; i++) {
    if (dir[i] != '/')
      continue;
    dir[i] = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
      return -1;
    dir[i] = '/';
  }
  return 0;
}

/* The PostgreSQL store (Store.PostgreSQL); the password from the named
 * environment variable, never logged. */
static int open_pg_store(void)
{
  rr_pg_options opts;
  const char *password = NULL;
  char err[1024] = "";

  memset(&opts, 0, sizeof(opts));
  if (plugin_config.pg_password_env[0] != '\0' && (password = getenv(plugin_config.pg_password_env)) == NULL) {
    rr_log_error("cannot open the store: ReadingRoom.Store.PostgreSQL.PasswordEnvironmentVariable names %s, which is "
                 "not set in Orthanc's environment", plugin_config.pg_password_env);
    return -1;
  }
  opts.conninfo = plugin_config.pg_conninfo;
  opts.password = password;
  opts.sslmode = plugin_config.pg_sslmode;
  opts.sslrootcert = plugin_config.pg_sslrootcert;
  opts.pool_size = plugin_config.pg_pool_size;
  opts.connect_timeout_s = (int)plugin_config.pg_connect_timeout_s;
  if (rr_store_pg_open(&plugin_store, &opts, err, sizeof(err)) < 0) {
    rr_log_error("cannot open the store: %s", err);
    return -1;
  }
  if (make_parent_dirs(plugin_config.files_base) < 0) {
    rr_log_error("cannot create the folder of %s (StorageDirectory): %s", plugin_config.files_base, strerror(errno));
    return -1;
  }
  rr_log_warning("store: PostgreSQL (schema version %d, %u connections); the plugin's own files under %s",
                 rr_store_pg_latest_schema(), opts.pool_size, plugin_config.files_base);
  return 0;
}

#ifdef RR_HAVE_MONGODB
/* The MongoDB store (Store.MongoDB); the URI (it may hold a password) is
 * never logged. */
static int open_mongo_store(void)
{
  rr_mongo_options opts;
  char err[1024] = "";

  memset(&opts, 0, sizeof(opts));
  opts.uri = plugin_config.mongodb_uri;
  opts.database = plugin_config.mongodb_database;
  opts.pool_size = plugin_config.mongodb_pool_size;
  if (rr_store_mongo_open(&plugin_store, &opts, err, sizeof(err)) < 0) {
    rr_log_error("cannot open the store: %s", err);
    return -1;
  }
  if (make_parent_dirs(plugin_config.files_base) < 0) {
    rr_log_error("cannot create the folder of %s (StorageDirectory): %s", plugin_config.files_base, strerror(errno));
    return -1;
  }
  rr_log_warning("store: MongoDB database %s (schema version %d, %u clients); the plugin's own files under %s",
                 opts.database, rr_store_mongo_latest_schema(), opts.pool_size, plugin_config.files_base);
  return 0;
}
#endif

static int open_store(void)
{
  rr_sqlite_options opts;
  char err[512] = "";

  if (strcmp(plugin_config.store_backend, "postgresql") == 0)
    return open_pg_store();
#ifdef RR_HAVE_MONGODB
  if (strcmp(plugin_config.store_backend, "mongodb") == 0)
    return open_mongo_store();
#endif
  if (strcmp(plugin_config.store_backend, "sqlite") != 0) {
    rr_log_error("invalid configuration: ReadingRoom.Store.Backend: \"%s\" is not built into this plugin "
                 "(this build has \"sqlite\" and \"postgresql\"%s)", plugin_config.store_backend,
#ifdef RR_HAVE_MONGODB
                 ", \"mongodb\""
#else
                 "; \"mongodb\" needs a build with -DENABLE_MONGODB=ON"
#endif
    );
    return -1;
  }
  opts.path = plugin_config.sqlite_path;
  opts.reader_count = plugin_config.sqlite_readers;
  opts.busy_timeout_ms = plugin_config.sqlite_busy_timeout_ms;
  if (rr_store_sqlite_open(&plugin_store, &opts, err, sizeof(err)) < 0) {
    rr_log_error("cannot open the store: %s", err);
    return -1;
  }
  rr_log_warning("store: SQLite database %s (schema version %d)", plugin_config.sqlite_path, rr_store_sqlite_latest_schema());
  return 0;
}

/* Add links to the Reading Room in Orthanc Explorer. */
static void extend_explorer(void)
{
  const rr_embedded_file *js = rr_embedded_find(rr_resources_files, rr_resources_count, "OrthancExplorer.js");
  rr_buf out;

  if (js == NULL)
    return;
  if (rr_web_explorer_script(&out, (const char *)js->data, plugin_config.web_root) == 0)
    OrthancPluginExtendOrthancExplorer(plugin_ctx, out.ptr);
  rr_buf_dispose(&out);
}

/* The archive worker of signed reports. The loader is report_compose's
 * (a signed version and its kept PDF from the store): setup_reports first. */
static int setup_report_outputs(void)
{
  rr_report_outputs_options o;

  memset(&o, 0, sizeof(o));
  o.archive = plugin_config.reports_archive_outputs;
  o.max_attempts = plugin_config.reports_output_attempts;
  o.software_version = RR_VERSION;
  o.claimer = plugin_config.node_name; /* two Orthancs on one host are two claimers */
  o.poster = rr_rest_poster_orthanc(plugin_ctx);
  if (rr_report_outputs_new(&plugin_outputs, plugin_store, rr_report_compose_load, plugin_composer, &o) < 0) {
    rr_log_error("cannot create the report outputs worker");
    return -1;
  }
  return 0;
}

/* Stop the threads and free the modules, users before what they use. */
static void teardown(void)
{
  rr_report_outputs_free(plugin_outputs); /* stops the worker */
  plugin_outputs = NULL;
  rr_ai_jobs_free(plugin_ai); /* stops the AI workers */
  plugin_ai = NULL;
  rr_storage_free(plugin_storage);
  plugin_storage = NULL;
  rr_ingest_free(plugin_ingest); /* stops the worker */
  plugin_ingest = NULL;
  rr_backup_queue_free(plugin_backup); /* after ingestion, which enqueues */
  plugin_backup = NULL;
  rr_challenge_reset();
  rr_filter_free(plugin_filter);
  plugin_filter = NULL;
  rr_matrix_free(plugin_matrix);
  plugin_matrix = NULL;
  rr_auth_free(plugin_auth);
  plugin_auth = NULL;
  rr_audit_free(plugin_audit); /* writes what is queued */
  plugin_audit = NULL;
  rr_report_access_free(plugin_report_access);
  plugin_report_access = NULL;
  rr_report_composer_free(plugin_composer);
  plugin_composer = NULL;
  rr_templates_free(plugin_templates);
  plugin_templates = NULL;
  rr_store_free(plugin_store);
  plugin_store = NULL;
  if (plugin_curl_ready)
    rr_ai_http_global_cleanup();
  plugin_curl_ready = false;
}

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext *ctx)
{
  rr_ingest_options ingest_opts;
  rr_web_options web_opts;

  plugin_ctx = ctx;
  rr_log_set_context(ctx);
  if (!OrthancPluginCheckVersionAdvanced(ctx, 1, 10, 1)) {
    rr_log_error("this plugin needs Orthanc 1.10.1 or newer (running %s)", ctx->orthancVersion);
    return -1;
  }
  OrthancPluginSetDescription(ctx, "Radiology reading workflow: worklist, viewer, AI assistance and reports.");
  if (read_configuration() < 0)
    return -1;
  if (!plugin_config.enable) {
    rr_log_warning("disabled by configuration (ReadingRoom.Enable is false)");
    return 0;
  }
  if (!plugin_config.orthanc_describe_errors)
    rr_log_warning("HttpDescribeErrors is false: the API's error answers will have no JSON body");
  if (open_store() < 0)
    return -1;
  {
    char terr[256] = "";
    if (rr_templates_new(&plugin_templates, plugin_store, terr, sizeof(terr)) < 0) {
      rr_log_error("cannot load the report templates: %s", terr);
      goto fail;
    }
  }

  {
    char berr[512] = "";
    if (rr_backup_setup(&plugin_backup, &plugin_config, plugin_store, rr_rest_source_orthanc(ctx),
                        rr_rest_poster_orthanc(ctx), berr, sizeof(berr)) < 0) {
      rr_log_error("ReadingRoom.Backup: %s", berr);
      goto fail;
    }
  }
  memset(&ingest_opts, 0, sizeof(ingest_opts));
  ingest_opts.before_store = plugin_backup != NULL ? rr_backup_queue_before_store : NULL;
  ingest_opts.before_store_ctx = plugin_backup;
  ingest_opts.batch_size = plugin_config.ingest_batch_size;
  ingest_opts.poll_interval_ms = plugin_config.ingest_poll_interval_ms;
  ingest_opts.reconcile_at_startup = plugin_config.ingest_reconcile_at_startup;
  ingest_opts.max_pending_deletions = MAX_PENDING_DELETIONS;
  if (rr_ingest_new(&plugin_ingest, plugin_store, rr_rest_source_orthanc(ctx), &ingest_opts) < 0) {
    rr_log_error("cannot create the ingestion worker");
    goto fail;
  }

  if (setup_access_control() < 0 || setup_ai() < 0)
    goto fail;
  if (setup_reports() < 0) {
    rr_log_error("cannot set up the reports");
    goto fail;
  }
  if (setup_report_outputs() < 0)
    goto fail;
  {
    rr_storage_options so;
    so.storage_dir = plugin_config.orthanc_storage_dir;
    so.index_dir = plugin_config.orthanc_index_dir;
    so.warn_free_percent = plugin_config.storage_warn_free_percent;
    so.warn_free_gb = plugin_config.storage_warn_free_gb;
    if (rr_storage_new(&plugin_storage, &so, plugin_store, rr_rest_source_orthanc(ctx)) < 0) {
      rr_log_error("cannot create the storage sampler");
      goto fail;
    }
  }

  plugin_api.options.api_root = plugin_config.api_root;
  plugin_api.options.worklist_default_page_size = plugin_config.worklist_default_page_size;
  plugin_api.options.worklist_max_page_size = plugin_config.worklist_max_page_size;
  plugin_api.options.store_backend = plugin_config.store_backend;
  plugin_api.options.secure_cookies = plugin_config.orthanc_ssl;
  plugin_api.options.ai_cloud = plugin_config.ai_cloud;
  plugin_api.options.ai_auto_enable = plugin_config.ai_auto_enable;
  plugin_api.options.viewer_cache_mb = plugin_config.viewer_cache_mb;
  set_backup_location(&plugin_config);
  plugin_api.options.backup_endpoint = backup_endpoint;
  plugin_api.options.backup_bucket = backup_bucket;
  plugin_api.store = plugin_store;
  plugin_api.ingest = plugin_ingest;
  plugin_api.version = RR_VERSION;
  plugin_api.auth = plugin_auth;
  plugin_api.matrix = plugin_matrix;
  plugin_api.audit = plugin_audit;
  plugin_api.ai = plugin_ai;
  plugin_api.storage = plugin_storage;
  plugin_api.templates = plugin_templates;
  plugin_api.report_composer = plugin_composer;
  plugin_api.report_access = plugin_report_access;
  plugin_api.report_outputs = plugin_outputs;
  plugin_api.backup = plugin_backup;
  web_opts.web_root = plugin_config.web_root;
  web_opts.webapp_directory = plugin_config.webapp_directory;
  web_opts.hsts = plugin_config.orthanc_ssl;
  rr_reply_set_hsts(plugin_config.orthanc_ssl);
  if (rr_api_register(ctx, &plugin_api) < 0 || rr_web_register(ctx, &web_opts) < 0) {
    rr_log_error("cannot register the REST routes");
    goto fail;
  }
  OrthancPluginRegisterOnChangeCallback(ctx, on_change);
  OrthancPluginRegisterRefreshMetricsCallback(ctx, refresh_metrics);
  extend_explorer();
  {
    char root_uri[RR_ROOT_SIZE + 16];
    snprintf(root_uri, sizeof(root_uri), "%sindex.html", plugin_config.web_root);
    OrthancPluginSetRootUri(ctx, root_uri); /* the link in Orthanc Explorer's plugin list */
  }
  rr_log_warning("version %s ready: web app at %s, API at %s", RR_VERSION, plugin_config.web_root, plugin_config.api_root);
  return 0;

fail:
  teardown();
  return -1;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize(void)
{
  teardown();
  rr_log_info("finalized");
  rr_log_set_context(NULL);
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetName(void)
{
  return PLUGIN_NAME;
}

ORTHANC_PLUGINS_API const char *OrthancPluginGetVersion(void)
{
  return RR_VERSION;
}
