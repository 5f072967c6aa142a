/*
 * api/backup_api.h - the administrators' routes of the off-site backup
 * (README, "Off-site backup"):
 *
 *   GET  {root}admin/backup
 *        200 {"enabled", "target", "running", "workers", "queued", "running",
 *        "done", "failed", "oldestWaitingSeconds", "copiedLastHour",
 *        "lastCopiedAt", "lastError", "lastErrorAt", "copiedSinceStart",
 *        "bytesSinceStart", "deadLetters": [item]} (the first 100 dead
 *        letters; item: {"id", "objectKey", "kind", "studyInstanceUid",
 *        "sopInstanceUid", "orthancId", "day", "state", "attempts",
 *        "lastError", "updatedAt"}); {"enabled": false} when off.
 *   POST {root}admin/backup/{id}/redrive   one dead letter queued again
 *   POST {root}admin/backup/redrive        every dead letter queued again
 *        200 {"redriven": n}; 404 not_found; 409 conflict (not failed);
 *        503 not_configured when backup is off.
 *   POST {root}admin/backup/restore
 *        body {"studyInstanceUid": "..."} or {"since": "YYYY-MM-DD"}
 *        200 {"complete", "studies", "objects", "restored", "alreadyStored",
 *        "refused", "failed", "bytes", "errors": [{"objectKey", "message"}]}
 *        (complete: nothing refused or failed); 400 invalid_argument; 502
 *        upstream_error when the object store cannot be listed; 503
 *        not_configured when backup is off.
 *
 * Only administrators reach them (the role matrix gives every admin route to them).
 * Re-drives and restores are audited (backup.redrive, backup.restore).
 * Thread-safe like every route; a restore runs in the request's thread.
 */
#ifndef RR_API_BACKUP_API_H
#define RR_API_BACKUP_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* Prometheus gauges (reading_room_backup_queued, _running, _failed, _done,
 * _oldest_waiting_seconds, _copied_last_hour), from Orthanc's metrics
 * refresh callback; nothing before registration or with backup off. */
void rr_backup_api_refresh_metrics(void);

/* The "backup" member of /api/health (NULL when backup is off); *degraded
 * set while dead letters exist (a failed try that will be retried is not
 * degraded: the backlog and lastError show it). */
json_object *rr_backup_api_health(bool *degraded);

int rr_backup_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
