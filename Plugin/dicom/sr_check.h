/*
 * dicom/sr_check.h - what the plugin checks before it stores a DICOM
 * Structured Report a client sends (api/sr_api.c, "Save to archive" of the
 * viewer): a Part 10 file, an SR SOP class, the study and patient it claims.
 *
 * The file itself is parsed by Orthanc (DCMTK, through the SDK's
 * OrthancPluginDicomBufferToJson, which stores nothing); this module reads
 * the answer, Orthanc's "short" DICOM-as-JSON (keys "gggg,eeee", values
 * strings, sequences arrays of objects), so the rules are unit-testable
 * without Orthanc and without a DICOM parser of our own.
 *
 * Pure and thread-safe; no allocation. Messages in err name the attribute
 * and never hold its value (no patient data).
 */
#ifndef RR_DICOM_SR_CHECK_H
#define RR_DICOM_SR_CHECK_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest SR the plugin accepts (a measurement report of a study is a
 * few hundred KiB at most). */
#define RR_SR_MAX_BYTES (16u * 1024u * 1024u)

#define RR_SR_UID_SIZE 65 /* 64 characters */

typedef struct rr_sr_facts {
  char sop_class_uid[RR_SR_UID_SIZE];
  char sop_instance_uid[RR_SR_UID_SIZE];
  char series_instance_uid[RR_SR_UID_SIZE];
  char study_instance_uid[RR_SR_UID_SIZE];
  char patient_id[RR_SR_UID_SIZE]; /* LO: at most 64 characters; "" when absent */
  char template_id[17];            /* ContentTemplateSequence's TemplateIdentifier; "" when none */
} rr_sr_facts;

/* true when `bytes` start with a Part 10 preamble: 128 bytes, then "DICM". */
bool rr_sr_is_part10(const void *bytes, size_t len);

/* The name of an SR SOP class the route accepts (Basic Text, Enhanced,
 * Comprehensive, Comprehensive 3D SR); NULL for any other class. */
const char *rr_sr_class_name(const char *sop_class_uid);

/* Read the facts from Orthanc's short DICOM-as-JSON of the file. 0, or
 * RR_EINVAL with a sentence when SOP Class, SOP Instance, Series or Study
 * Instance UID is missing or not a valid UID (digits and dots, ≤ 64). */
int rr_sr_facts_read(rr_sr_facts *out, json_object *tags, char *err, size_t errsize);

/* The route's rules: an SR SOP class, the Study Instance UID equal to
 * `study_uid` (the path's) and the Patient ID equal to `patient_id` (the
 * study's in Orthanc; Orthanc would otherwise file the object under another
 * patient with a second study of the same UID). 0, or RR_EINVAL with a
 * sentence saying which rule failed. */
int rr_sr_check(const rr_sr_facts *f, const char *study_uid, const char *patient_id, char *err, size_t errsize);

#endif
