/*
 * api.h - the Reading Room REST API under the configured root (default
 * "/api/"): worklist, study details and rendered images (api.c); sessions,
 * users and the audit trail (auth_api.c, with access control on); AI
 * analyses (ai_api.c); health and ingestion administration (api.c). See
 * README.md ("REST API") for every route, argument and answer, and
 * api/failure.h for every error answer.
 *
 * Access is decided before a route runs, by the HTTP filter and the role
 * matrix (auth/filter.h); routes ask only who calls (api/caller.h).
 *
 * rr_api_register must be called from OrthancPluginInitialize (routes can
 * only be registered there). Every route is registered through the one
 * dispatch of api/route.h (which answers the filter's HTTP Basic
 * challenges), with the NoLock variant:
 * handlers run concurrently and share only the objects of `deps` (store,
 * ingestion, auth, audit, AI jobs), which are thread-safe. `deps` and
 * everything it points to must outlive the plugin (until
 * OrthancPluginFinalize).
 */
#ifndef RR_API_API_H
#define RR_API_API_H

#include <orthanc/OrthancCPlugin.h>

#include "ai/jobs.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/matrix.h"
#include "config.h" /* RR_ROOT_SIZE */
#include "ingest/ingest.h"
#include "report/template.h"
#include "report/report_outputs.h"
#include "storage/storage.h"
#include "store/store.h"

/* What the routes need of the configuration; strings are borrowed and must
 * outlive the plugin, like the deps. */
typedef struct rr_api_options {
  const char *api_root;                 /* "/api/": starts and ends with '/', < RR_ROOT_SIZE */
  unsigned worklist_default_page_size;  /* GET dicom/studies without limit */
  unsigned worklist_max_page_size;
  const char *store_backend;            /* named by /health */
  bool secure_cookies;                  /* Orthanc serves HTTPS: session cookies are Secure */
  bool ai_cloud;                        /* the AI provider is off-site (ai/status) */
  bool ai_auto_enable;                  /* automatic analysis of stable studies (ai/status) */
  unsigned viewer_cache_mb;             /* the viewer's image cache budget (auth/me "viewer") */
  const char *backup_endpoint;          /* admin/backup "endpoint": S3 endpoint or Cloudinary API base (no secrets) */
  const char *backup_bucket;            /* admin/backup "bucket": S3 bucket/prefix or Cloudinary cloud/folder */
} rr_api_options;

typedef struct rr_api_deps {
  rr_api_options options;
  rr_store *store;
  rr_ingest *ingest;
  rr_auth *auth;      /* NULL when access control is off */
  rr_matrix *matrix;  /* NULL when access control is off */
  rr_audit *audit;    /* NULL when access control is off */
  const char *version;
  rr_ai_jobs *ai;     /* never NULL: without a provider it refuses analyses */
  rr_storage *storage; /* NULL: no storage figures (health and admin/storage) */
  rr_templates *templates; /* report templates (report/template.h), never NULL when registered */
  /* reports (api/reports_api.h) */
  struct rr_report_composer *report_composer;
  struct rr_report_access *report_access; /* NULL: access control off */
  rr_report_outputs *report_outputs; /* signed versions go to the archive through it (enqueue, retry) */
  struct rr_backup_queue *backup;    /* off-site backup (api/backup_api.h); NULL when off */
} rr_api_deps;

int rr_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps);

/* Prometheus gauges of the storage (reading_room_storage_*), from Orthanc's
 * metrics refresh callback; nothing before rr_api_register or without
 * deps->storage. Reads Orthanc's /statistics. */
void rr_api_refresh_storage_metrics(void);

#endif
