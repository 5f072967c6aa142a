/*
 * report_fhir.h - a report version as a FHIR R4 DiagnosticReport (JSON), for
 * GET /api/reports/{id}/fhir:
 *
 *   status        from the report's lifecycle state: draft -> partial,
 *                 preliminary, final, appended, corrected, cancelled,
 *                 entered-in-error (the same words);
 *   category      RAD (HL7 v2-0074); code LOINC 18748-4 with the title;
 *   subject       the patient by identifier (Patient ID), name as display;
 *   effectiveDateTime  the study's date and time (DICOM local time, written
 *                 with this server's UTC offset of that date; the date alone
 *                 when the study has no time);
 *   issued        `issued_ms` (the signature, UTC);
 *   resultsInterpreter  the signer's display name;
 *   imagingStudy  identifier urn:dicom:uid / urn:oid:<StudyInstanceUID>;
 *   conclusion    the Impressions section's text (LOINC 19005-8);
 *   presentedForm the PDF: contentType, url, size, hash (base64 SHA-1, as
 *                 FHIR's Attachment.hash is defined), title, creation
 *                 (only when `pdf` is given).
 *
 * Ownership: *out is a new json-c object (json_object_put). Inputs are
 * borrowed; pdf_url may be NULL (no url). Pure and thread-safe.
 * Errors: RR_EINVAL for an unknown state or a doc without a study UID,
 * RR_ENOMEM, RR_ERROR (hashing); err says which.
 */
#ifndef RR_REPORT_REPORT_FHIR_H
#define RR_REPORT_REPORT_FHIR_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_doc.h"

/* The FHIR DiagnosticReport.status of a lifecycle state, NULL when unknown. */
const char *rr_report_fhir_status(const char *state);

int rr_report_fhir(json_object **out, const rr_report_doc *doc, const char *state, int64_t issued_ms,
                   const char *pdf_url, const unsigned char *pdf, size_t pdf_size, char *err, size_t errsize);

#endif
