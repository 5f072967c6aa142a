/*
 * api/priors_api.h - the patient's other studies (priors) under the API
 * root (see README.md, "REST API"):
 *
 *   GET {root}dicom/studies/{StudyInstanceUID}/priors
 *     200 {"data": [{"studyInstanceUid", "studyDate", "studyTime",
 *          "studyDescription", "modalities": [..], "bodyParts": [..],
 *          "seriesCount", "instanceCount", "reportStatus": null}]}
 *
 * The studies of the store with the same Patient ID as the given study
 * (matched exactly; an empty Patient ID has no priors), the study itself
 * left out, newest first (study date, then time), at most RR_PRIORS_MAX.
 * bodyParts are the distinct Body Part Examined values of a prior's series.
 * An unknown study answers 404, a malformed identifier 400.
 *
 * Who may call it is the role matrix's decision (auth/matrix.c), made by
 * the HTTP filter for the study in the path. Each prior is then put to the
 * same matrix as if the caller had asked for that study
 * (GET {root}dicom/studies/{uid} with the study check): a physician sees
 * only the priors the study check allows. With access control off, every
 * prior is listed.
 *
 * Registration must happen in OrthancPluginInitialize; handlers run
 * concurrently (NoLock routes); `deps` must outlive the plugin.
 */
#ifndef RR_API_PRIORS_API_H
#define RR_API_PRIORS_API_H

#include <orthanc/OrthancCPlugin.h>
#include <stdbool.h>

#include "api/api.h"
#include "auth/matrix.h"

#define RR_PRIORS_MAX 100

/* Whether a caller with `role` (RR_ROLE_* bits) may see the study
 * `study_uid` among priors: the role matrix's decision on
 * GET {api_root}dicom/studies/{study_uid}, then the study check
 * (rr_matrix_check_study) where the rule asks for it. true when `m` is NULL
 * (access control off); false for a path that does not fit or a failed
 * check. Pure apart from the study check; thread-safe like the matrix. */
bool rr_priors_visible(const rr_matrix *m, const char *api_root, unsigned role, const char *study_uid);
/* The same for a caller with a display name (the physicians' "referring"
 * scope, report/report_access.h); rr_priors_visible passes "". */
bool rr_priors_visible_as(const rr_matrix *m, const char *api_root, unsigned role, const char *caller_name,
                          const char *study_uid);

/* `root` is the API root as a regex prefix (rr_root_regex). Returns 0 or the
 * error of rr_api_route (RR_EFULL). */
int rr_priors_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
