/*
 * api.h - the Reading Room REST API under the configured root (default
 * "/api/"): worklist, study details, health and ingestion administration.
 * See README.md ("REST API") for every route, argument and answer.
 *
 * rr_api_register must be called from OrthancPluginInitialize (routes can
 * only be registered there). Routes are registered with the NoLock variant:
 * handlers run concurrently and share only the store and ingest objects,
 * which are thread-safe. `deps` and everything it points to must outlive
 * the plugin (until OrthancPluginFinalize).
 */
#ifndef RR_API_API_H
#define RR_API_API_H

#include <orthanc/OrthancCPlugin.h>

#include "ai/jobs.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/matrix.h"
#include "config.h"
#include "ingest/ingest.h"
#include "store/store.h"

typedef struct rr_api_deps {
  const rr_config *config;
  rr_store *store;
  rr_ingest *ingest;
  rr_auth *auth;      /* NULL when access control is off */
  rr_matrix *matrix;  /* NULL when access control is off */
  rr_audit *audit;    /* NULL when access control is off */
  const char *version;
  rr_ai_jobs *ai;     /* never NULL: without a provider it refuses analyses */
} rr_api_deps;

int rr_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps);

#endif
