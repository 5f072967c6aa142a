/*
 * reports_api.h - the report routes under the API root (README.md,
 * "REST API" > "Reports"; the templates' routes are templates_api.h's):
 *
 *   GET  {root}reports[?state=&q=&patientId=&limit=&offset=]   the list
 *   POST {root}reports                       {"studyInstanceUid","templateId"?} -> 201
 *   GET  {root}reports/{id}                  the report, its versions and outputs
 *   PUT  {root}reports/{id}/draft            If-Match required (412 precondition_required: Orthanc 1.10.1 has no 428; stale 412 version_mismatch)
 *   POST {root}reports/{id}/sign             {"password","status","communication"?} + If-Match
 *   POST {root}reports/{id}/addenda          {"password","text"} -> 201
 *   POST {root}reports/{id}/corrections      {"password","fields","reason"} -> 201
 *   POST {root}reports/{id}/cancel           {"reason"}
 *   POST {root}reports/{id}/entered-in-error {"reason"} (administrators)
 *   POST {root}reports/{id}/acknowledge      the caller acknowledges the critical result
 *   GET  {root}reports/{id}/pdf[?version=n]  the PDF kept at signing
 *   GET  {root}reports/{id}/fhir             FHIR R4 DiagnosticReport
 *   GET  {root}reports/macros, PUT|DELETE {root}reports/macros/{name}
 *   GET  {root}dicom/studies/{uid}/reports   the study's reports, newest first
 *   GET  {root}admin/reports/turnaround[?days=30]
 *
 * Who may call which route is the role matrix's decision (auth/matrix.c);
 * the handlers narrow what a physician sees: final, appended and corrected
 * reports only, their final versions only, within the physicians' scope
 * (report/report_access.h). Signing asks the signer's password again
 * (rr_auth_verify_password). Every action is audited ("report.*",
 * "macro.*"), never with field contents.
 *
 * Registration in OrthancPluginInitialize; handlers run concurrently
 * (NoLock); `deps` must outlive the plugin.
 */
#ifndef RR_API_REPORTS_API_H
#define RR_API_REPORTS_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

int rr_reports_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root);

#endif
