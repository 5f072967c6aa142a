/*
 * report_dicom.h - the DICOM objects of one signed report version, as the
 * JSON bodies of Orthanc's POST /tools/create-dicom:
 *
 *   rr_report_dicom_pdf  Encapsulated PDF (Modality DOC): the PDF bytes
 *                        signed, ConceptNameCodeSequence LOINC 18748-4, the
 *                        key images in SourceInstanceSequence;
 *   rr_report_dicom_sr   Enhanced SR following TID 2000 (Basic Diagnostic
 *                        Imaging Report): container 18748-4, one LOINC
 *                        section container per section with TEXT items
 *                        (CID 7002: 121071 Finding, 121073 Impression ...),
 *                        AI-assisted findings marked, key image references,
 *                        addenda, CompletionFlag COMPLETE, VerificationFlag
 *                        VERIFIED with the verifying observer (final) or
 *                        UNVERIFIED with PreliminaryFlag PRELIMINARY,
 *                        PredecessorDocumentsSequence for addenda and
 *                        corrections;
 *   rr_report_dicom_kos  Key Object Selection (TID 2010, "Of Interest"
 *                        113000) of the key images; RR_EINVAL without any.
 *
 * The character-set trap (NOTES): the bodies never use "Parent". They carry
 * the patient and study tags themselves with SpecificCharacterSet
 * "ISO_IR 192" and "Force": true, so Orthanc files the object in the same
 * study (same Patient ID and Study Instance UID) and keeps every script.
 *
 * UIDs are deterministic, so that a retry never duplicates an object: the
 * SOP Instance UID of (report, version, kind) and the Series Instance UID of
 * (report, kind) are "2.25." followed by the decimal value of the first 128
 * bits of SHA-256 over the site's root (a secret of the installation, see
 * report_outputs.h), the Study Instance UID, the report id, the version
 * (SOP only) and the kind. At most 44 characters.
 *
 * Times written (ContentDate/Time, VerificationDateTime ...) are doc->signed_at
 * in UTC (TimezoneOffsetFromUTC "+0000"): the same doc gives the same body.
 * Text from the doc is untrusted: values are cut to their VR's length (at a
 * character boundary), backslashes and control characters are dropped from
 * single-line values, line breaks become CR LF in texts.
 *
 * Ownership: *out is a new json-c object the caller releases with
 * json_object_put. The doc and the PDF are borrowed. Pure and thread-safe.
 * Errors: RR_EINVAL (no study UID, no signature time, an empty PDF, a KOS
 * without key images; err says which), RR_ENOMEM, RR_ERROR (hashing).
 */
#ifndef RR_REPORT_REPORT_DICOM_H
#define RR_REPORT_REPORT_DICOM_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_doc.h"

#define RR_REPORT_DICOM_UID_SIZE 65

#define RR_SOP_CLASS_ENCAPSULATED_PDF "1.2.840.10008.5.1.4.1.1.104.1"
#define RR_SOP_CLASS_ENHANCED_SR "1.2.840.10008.5.1.4.1.1.88.22"
#define RR_SOP_CLASS_KOS "1.2.840.10008.5.1.4.1.1.88.59"

/* The kinds of output, as the queue names them. */
typedef enum rr_report_dicom_kind { RR_REPORT_DICOM_PDF, RR_REPORT_DICOM_SR, RR_REPORT_DICOM_KOS } rr_report_dicom_kind;

/* "pdf", "sr", "kos"; and back (-1 for another name). */
const char *rr_report_dicom_kind_name(rr_report_dicom_kind kind);
int rr_report_dicom_kind_parse(const char *name);
/* The SOP Class UID of a kind. */
const char *rr_report_dicom_sop_class(rr_report_dicom_kind kind);

typedef struct rr_report_dicom_options {
  const char *uid_root;     /* the site's root for the UIDs; required, non-empty */
  const char *manufacturer; /* NULL: "Orthanc Reading Room" */
  const char *software_version; /* NULL: none written */
} rr_report_dicom_options;

/* The UIDs of (report, version, kind) of the study: out_series may be NULL.
 * RR_EINVAL without a root or study UID, RR_ERROR when hashing fails. */
int rr_report_dicom_uids(char out_sop[RR_REPORT_DICOM_UID_SIZE], char out_series[RR_REPORT_DICOM_UID_SIZE],
                         const char *uid_root, const char *study_uid, int64_t report_id, int64_t version,
                         rr_report_dicom_kind kind);

int rr_report_dicom_pdf(json_object **out, const rr_report_doc *doc, const unsigned char *pdf, size_t pdf_size,
                        const rr_report_dicom_options *opt, char *err, size_t errsize);
int rr_report_dicom_sr(json_object **out, const rr_report_doc *doc, const rr_report_dicom_options *opt, char *err,
                       size_t errsize);
int rr_report_dicom_kos(json_object **out, const rr_report_doc *doc, const rr_report_dicom_options *opt, char *err,
                        size_t errsize);

/* One of the three by kind (pdf and pdf_size only for RR_REPORT_DICOM_PDF). */
int rr_report_dicom_build(json_object **out, rr_report_dicom_kind kind, const rr_report_doc *doc,
                          const unsigned char *pdf, size_t pdf_size, const rr_report_dicom_options *opt, char *err,
                          size_t errsize);

#endif
