/*
 * api/sr_api.h - storing a measurement report (DICOM SR, TID 1500) the
 * viewer's "Save to archive" made, into the study it measures (README,
 * "REST API"):
 *
 *   POST {root}dicom/studies/{StudyInstanceUID}/measurement-reports
 *        body application/dicom (Part 10, at most RR_SR_MAX_BYTES)
 *        201 {"orthancId", "sopInstanceUid", "seriesInstanceUid"}
 *        400 invalid_argument: empty, too large, not Part 10, not a file
 *            Orthanc can read, not an SR SOP class, another study or
 *            patient, a missing UID; 404 unknown study; 409 conflict: an
 *            instance with this SOP Instance UID is in the archive already;
 *            502 upstream_error: Orthanc refused to store it.
 *
 * Checks before storing, never after: the file is parsed by Orthanc itself
 * (OrthancPluginDicomBufferToJson: DCMTK, the parser that will store it;
 * nothing is written) and the rules of dicom/sr_check.h are applied to its
 * answer; only then is it stored through Orthanc's REST POST /instances.
 * Storing first and deleting on a mismatch was rejected: a rejected file
 * would still reach the change log (ingestion, backups, other plugins'
 * OnStoredInstance), and a file carrying the SOP Instance UID of an instance
 * already stored elsewhere answers "AlreadyStored", so deleting "the new
 * instance" would delete someone else's. A C parser of our own was rejected
 * too: a second DICOM parser is a second attack surface, and it could
 * disagree with the one that stores the file.
 *
 * Who may call it (administrators and radiologists) is the role matrix's
 * decision (auth/matrix.c). Stored reports are audited as
 * `measurements.archive` (resource the study UID, detail the new SOP
 * Instance UID; no patient data).
 *
 * Register from OrthancPluginInitialize; handlers run concurrently (NoLock
 * routes); `deps` must outlive the plugin.
 */
#ifndef RR_API_SR_API_H
#define RR_API_SR_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* `root` is the API root as a regex prefix (api.c's rr_root_regex). */
int rr_sr_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
