/*
 * ai_api.h - the AI routes under the API root (see README.md, "REST API"):
 *
 *   POST {root}ai/analyze/{StudyInstanceUID}      202 {id,status,href}; 200 with
 *                                                 "existing": true when one is queued
 *                                                 or running; body {} or {"force":true}
 *   GET  {root}ai/analysis/{id}                   the analysis with its review history
 *   POST {root}ai/analysis/{id}/cancel            200 the analysis; 409 when finished
 *   PUT  {root}ai/analysis/{id}/review            the reviewer is the caller
 *   GET  {root}ai/studies/{StudyInstanceUID}/analyses
 *   GET  {root}ai/status[?check=true]             provider, queue, counts, usage today
 *
 * Who may call them (radiologists and administrators) is the role matrix's
 * decision (auth/matrix.c), made by the HTTP filter; the handlers take the
 * caller from api/caller.h for the audit trail and the reviewer's name.
 * Study identifiers follow api/args.h's one rule.
 *
 * The same figures go to Orthanc's metrics (/tools/metrics-prometheus)
 * through rr_ai_api_refresh_metrics().
 *
 * Registration must happen in OrthancPluginInitialize; handlers run
 * concurrently (NoLock routes); `deps` and `jobs` must outlive the plugin.
 */
#ifndef RR_API_AI_API_H
#define RR_API_AI_API_H

#include <orthanc/OrthancCPlugin.h>

#include "ai/jobs.h"
#include "api/api.h"

void rr_ai_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, rr_ai_jobs *jobs, const char *root);

/* Publish the AI figures as Orthanc metrics (reading_room_ai_*). */
void rr_ai_api_refresh_metrics(void);

#endif
