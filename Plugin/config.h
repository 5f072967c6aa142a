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

  char store_backend[16];              /* "sqlite" or "mongodb" */
  char sqlite_path[RR_PATH_SIZE];      /* resolved, never "" after parsing */
  unsigned sqlite_readers;
  int sqlite_busy_timeout_ms;
  char mongodb_uri[1024];
  char mongodb_database[128];

  unsigned ingest_batch_size;
  unsigned ingest_poll_interval_ms;
  bool ingest_reconcile_at_startup;

  unsigned worklist_default_page_size;
  unsigned worklist_max_page_size;

  /* read from Orthanc's own options */
  bool orthanc_describe_errors;        /* HttpDescribeErrors (default true) */
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

#endif
