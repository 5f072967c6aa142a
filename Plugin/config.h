/*
 * config.h - the plugin's configuration: the "ReadingRoom" section of
 * Orthanc's configuration overlaid on the embedded defaults
 * (Resources/DefaultConfiguration.json).
 *
 * Rules: every key of the user's section must exist in the defaults and have
 * the same JSON type (objects are merged key by key); numbers are checked
 * against their ranges; roots must start and end with '/'. The first problem
 * is reported as one sentence naming the key ("ReadingRoom.WebRoot: ...").
 * Pure and thread-safe; the result owns no memory.
 */
#ifndef RR_CONFIG_H
#define RR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define RR_PATH_SIZE 4096
#define RR_ROOT_SIZE 128

typedef struct rr_config {
  bool enable;
  char web_root[RR_ROOT_SIZE];
  char api_root[RR_ROOT_SIZE];
  char webapp_directory[RR_PATH_SIZE]; /* "" = serve the embedded app */

  char store_backend[16];              /* "sqlite", "postgresql" or "mongodb" */
  char sqlite_path[RR_PATH_SIZE];      /* resolved, never "" after parsing */
  /* where the plugin's own files live (initial password, audit anchor,
   * JWT secret): the SQLite database's path, or with PostgreSQL
   * <StorageDirectory>/reading-room (the folder nodes share); resolved */
  char files_base[RR_PATH_SIZE];
  /* Store.PostgreSQL (store/store_pg.h) */
  char pg_conninfo[2048];              /* libpq key=value string or postgresql:// URI */
  char pg_password_env[128];           /* "" or the variable holding the password */
  char pg_sslmode[16];                 /* "" = as the connection string says */
  char pg_sslrootcert[RR_PATH_SIZE];   /* resolved; "" = libpq's default */
  unsigned pg_pool_size;
  unsigned pg_connect_timeout_s;
  unsigned sqlite_readers;
  int sqlite_busy_timeout_ms;
  char mongodb_uri[1024];
  char mongodb_database[128];
  unsigned mongodb_pool_size;

  unsigned ingest_batch_size;
  unsigned ingest_poll_interval_ms;
  bool ingest_reconcile_at_startup;

  /* the System page's storage figures (ReadingRoom.Storage) */
  unsigned storage_warn_free_percent;  /* degraded below this % free (0 = off) */
  unsigned storage_warn_free_gb;       /* degraded below this many GB free (0 = off) */
  char orthanc_storage_dir[RR_PATH_SIZE]; /* Orthanc's StorageDirectory, resolved */
  char orthanc_index_dir[RR_PATH_SIZE];   /* Orthanc's IndexDirectory, resolved */
  /* this node's name among nodes sharing a store: "<host name>:<HttpPort>"
   * (derived, not an option): the claimer of its queued work, stable across
   * restarts and distinct for two Orthancs on one host */
  char node_name[128];

  unsigned worklist_default_page_size;
  unsigned worklist_max_page_size;

  /* the study viewer's image cache in the browser (ReadingRoom.Viewer) */
  unsigned viewer_cache_mb; /* megabytes of decoded images (cornerstone's cache) */

  /* reports (ReadingRoom.Reports) */
  char reports_institution[256];     /* the reports' header; "" = each study's InstitutionName */
  char reports_physician_scope[16];  /* "all" | "referring" */

  bool auth_enable;
  char auth_admin_password[256];       /* "" = generate at first start */
  unsigned auth_token_lifetime;        /* seconds */
  unsigned auth_idle_timeout;          /* seconds without activity; 0 = no idle log-off */
  unsigned auth_max_session;           /* seconds from login to the forced log-off */
  char auth_issuer[128];
  char auth_audience[128];
  char auth_algorithm[8];              /* "HS256", "RS256", "ES256" */
  char auth_secret_file[RR_PATH_SIZE]; /* resolved; HS256 secret */
  char auth_private_key_file[RR_PATH_SIZE];
  char auth_public_key_file[RR_PATH_SIZE];
  bool auth_allow_basic;
  unsigned auth_password_min_length;
  unsigned auth_lockout_max_failures;
  unsigned auth_lockout_seconds;
  unsigned auth_lockout_max_per_address;

  /* AI analysis (ReadingRoom.AI) */
  char ai_provider[16];                 /* "" (off), "gemini" or "openai" */
  char ai_base_url[512];                /* no trailing '/'; Gemini's default when "" */
  char ai_api_version[16];              /* Gemini: "v1beta" */
  char ai_model[128];
  char ai_api_key[512];                 /* ApiKey as configured ("" = none) */
  char ai_api_key_env[128];             /* environment variable read when ApiKey is "" */
  bool ai_allow_cloud;
  bool ai_cloud;                        /* computed: the provider is off-site */
  char ai_ca_file[RR_PATH_SIZE];        /* resolved; "" = the system's trust store */
  unsigned ai_concurrency;
  unsigned ai_max_queued;
  unsigned ai_images_per_series;
  unsigned ai_max_images;
  unsigned ai_image_max_side;
  unsigned ai_max_request_mb;
  double ai_temperature;
  unsigned ai_max_output_tokens;
  unsigned ai_connect_timeout_s;
  unsigned ai_timeout_s;
  unsigned ai_max_attempts;
  unsigned ai_max_retry_wait_s;
  unsigned ai_max_response_mb;
  double ai_price_input;                /* per million tokens */
  double ai_price_output;
  bool ai_auto_enable;
#define RR_AI_AUTO_RULES_MAX 32
  char ai_auto_modalities[RR_AI_AUTO_RULES_MAX][17];
  unsigned ai_auto_modality_count;
  char ai_auto_descriptions[RR_AI_AUTO_RULES_MAX][65];
  unsigned ai_auto_description_count;

  /* reports */
  bool reports_archive_outputs;         /* signed reports go back into the study as DICOM */
  unsigned reports_output_attempts;     /* tries per object before it ends failed */

  /* off-site backup (ReadingRoom.Backup, backup/backup_queue.h) */
  bool backup_enabled;
  char backup_target[16];               /* "s3" or "cloudinary" */
  char backup_key[128];                 /* base64 of 32 bytes, "" = KeyFile or the variable */
  char backup_key_file[RR_PATH_SIZE];   /* resolved; "" = none */
  char backup_key_env[128];             /* variable holding the base64 key when Key is "" */
  unsigned backup_max_attempts;
  unsigned backup_workers;
  char backup_s3_endpoint[512];
  char backup_s3_region[64];
  char backup_s3_bucket[256];
  char backup_s3_access_key_id[256];
  char backup_s3_secret[256];           /* "" = the variable below */
  char backup_s3_secret_env[128];
  char backup_s3_prefix[256];
  bool backup_s3_path_style;
  char backup_s3_ca_bundle[RR_PATH_SIZE]; /* resolved; "" = the system's */
  unsigned backup_s3_timeout_s;
  char backup_cl_api_base[512];
  char backup_cl_cloud_name[128];
  char backup_cl_api_key[128];
  char backup_cl_api_secret[256];       /* "" = the variable below */
  char backup_cl_api_secret_env[128];
  char backup_cl_folder[256];
  bool backup_cl_sha256;
  unsigned backup_cl_timeout_s;

  /* read from Orthanc's own options */
  bool orthanc_describe_errors;        /* HttpDescribeErrors (default true) */
  bool orthanc_remote_access;          /* RemoteAccessAllowed (default false) */
  int orthanc_authentication;          /* AuthenticationEnabled: 1, 0, -1 when unset */
  bool orthanc_ssl;                    /* SslEnabled (default false) */
} rr_config;

/*
 * Parse Orthanc's whole configuration (JSON text, `len` bytes, not
 * necessarily NUL-terminated) with the defaults (JSON text of the section).
 * `config_dir` is the directory relative paths of Orthanc's configuration
 * are resolved against (may be "" for the current directory).
 * Returns 0, or RR_EINVAL with the reason in err.
 */
int rr_config_parse(rr_config *out, const char *orthanc_json, size_t len, const char *defaults_json,
                    const char *config_dir, char *err, size_t errsize);

/*
 * Refuse combinations that would make access control ineffective or
 * unreachable: access control on while Orthanc's own HTTP authentication is
 * (or defaults to) on, which rejects Bearer tokens before the plugin sees
 * them; access control off while Orthanc accepts remote connections, which
 * leaves every study open to the network. Pure.
 */
int rr_config_check_access(const rr_config *config, char *err, size_t errsize);

/*
 * Whether a provider URL stays inside the hospital: loopback, private
 * (RFC 1918, RFC 4193 fc00::/7, link-local) addresses, "localhost", host
 * names without a dot and names under .local, .internal, .lan, .home.arpa.
 * Anything else, and anything unparsable, counts as cloud. Pure.
 */
bool rr_config_url_is_local(const char *url);

#endif
