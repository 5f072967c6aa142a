/*
 * api/capture_api.h - the audit record of a viewport captured as a PNG by
 * the web app's viewer (issue 10, "Capture"):
 *
 *   POST {root}/dicom/studies/{StudyInstanceUID}/captures
 *   body {"sopInstanceUid": "...", "frame": n (1-based), "burnedIn": bool}
 *
 * The PNG itself is made and saved by the browser; the plugin records who
 * captured which image of which study and whether the overlay texts (patient
 * data) were drawn into it: audit action "viewer.capture", resource the
 * Study Instance UID, detail "sop=<SOP Instance UID> frame=<n>
 * burnedIn=<true|false>" (identifiers only, no patient data). It answers
 * 204 only once that record is in the store (rr_audit_flush), so the web
 * app saves the file only after the capture is on the audit trail; 503
 * "unavailable" when the record could not be written in time (the store
 * fails or the queue dropped it). 400 names the body member at fault; 404
 * for an unknown study, or an image (SOP Instance UID and frame) the study
 * does not hold. Without access control (no audit trail) it only checks and
 * answers 204.
 *
 * Who may call it is the role matrix's decision (the roles with the "study"
 * capability; a physician only for the studies the study check allows).
 * Register once from OrthancPluginInitialize; `deps` is borrowed and must
 * outlive the plugin. Handlers are thread-safe (the store and the audit
 * writer are).
 */
#ifndef RR_API_CAPTURE_API_H
#define RR_API_CAPTURE_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* `root` is the API root as a regex prefix (rr_root_regex); RR_EFULL when the
 * route table is full. */
int rr_capture_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
