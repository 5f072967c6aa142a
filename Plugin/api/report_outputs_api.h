/*
 * api/report_outputs_api.h - the administrators' view of a report's
 * objects for the archive and their re-drive (README, "Reports in the
 * archive"):
 *
 *   GET  {root}admin/reports/{reportId}/outputs
 *        200 {"data": [output]} (report_outputs.h's JSON; [] for a report
 *        without outputs)
 *   POST {root}admin/reports/{reportId}/outputs/retry
 *        body {"version": n, "kind": "pdf" | "sr" | "kos"}
 *        200 {"data": [output]} with that object queued again (attempts 0);
 *        400 invalid_argument (report id, version or kind); 404 not_found
 *        (no such object); 409 conflict (the object is not failed).
 *
 * Only administrators reach them (the role matrix gives the admin routes to them). A
 * re-drive is audited as `report.outputs.retry` (resource the report id,
 * detail "v<version> <kind>"). Thread-safe like every route.
 */
#ifndef RR_API_REPORT_OUTPUTS_API_H
#define RR_API_REPORT_OUTPUTS_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* Prometheus gauges of the queue (reading_room_report_outputs_queued,
 * _running, _failed, _done, _oldest_waiting_seconds), from Orthanc's metrics
 * refresh callback; nothing before registration. */
void rr_report_outputs_api_refresh_metrics(void);

/* Register the two routes under `root` (a regex prefix, see api.c). */
int rr_report_outputs_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
