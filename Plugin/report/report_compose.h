/*
 * report_compose.h - one version of a report as its outputs need it
 * (report_doc.h): the study and patient from the store (and the StudyID
 * from Orthanc), the template snapshot's sections filled with the
 * version's fields (template.h), the inserted reviewed AI findings, the
 * inserted measurements (a "Measurements" section), the key images
 * (rendered to PNG with image/orthanc_frame.h when asked), the addenda
 * signed so far, the critical-result communication and the signature.
 *
 * The same module checks a version's inserts against the study (what a
 * draft may hold) and is the loader the outputs worker calls
 * (rr_report_compose_load, the rr_report_outputs_load_fn of
 * report_outputs.h).
 *
 * Inserts (JSON, the wire contract):
 *   {"aiFindings": [{"analysisId": "<32 hex>", "index": 0}],
 *    "measurements": [{"annotationUid": "..."}],
 *    "keyImages": [{"sopInstanceUid": "...", "frame": 1}]}
 * An AI finding may be inserted only from an analysis of the same study
 * whose latest review is "confirmed" or "modified", and not a finding that
 * review rejected; its text is the reviewed one (an edit replaces the
 * model's description).
 *
 * Thread-safe: a composer is read-only after rr_report_composer_new; the
 * store, the templates and the Orthanc context are borrowed and must outlive
 * it. Uses Orthanc's REST API: call from REST handlers or the plugin's own
 * threads, never from Orthanc's OnChange/OnStoredInstance callbacks.
 */
#ifndef RR_REPORT_REPORT_COMPOSE_H
#define RR_REPORT_REPORT_COMPOSE_H

#include <json-c/json.h>
#include <orthanc/OrthancCPlugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_doc.h"
#include "report/template.h"
#include "store/store.h"
#include "store/store_reports.h"

#define RR_REPORT_INSERTS_MAX 100 /* of each kind */

typedef struct rr_report_composer rr_report_composer;

/* institution: ReadingRoom.Reports.Institution ("" = each study's
 * InstitutionName); copied. ctx may be NULL (unit tests): no StudyID and no
 * key image pictures then. */
int rr_report_composer_new(rr_report_composer **out, rr_store *store, rr_templates *templates,
                           OrthancPluginContext *ctx, const char *institution);
void rr_report_composer_free(rr_report_composer *c);

/* What a version is composed from: its number, kind, fields, inserts and
 * text (an addendum's text, a correction's reason), and the signature it
 * has or is about to get. Strings are borrowed. */
typedef struct rr_report_compose_in {
  int64_t version;
  const char *kind;        /* "original" | "addendum" | "correction" */
  const char *status;      /* "preliminary" | "final" */
  const char *fields_json;
  const char *inserts_json;
  const char *text;        /* NULL when none */
  const char *signed_by;
  int64_t signed_at;       /* ms */
  const char *critical_json; /* the communication ({"recipient","method","communicatedAt"}); NULL = the report's */
  bool images;             /* render the key images to PNG (the PDF needs them; the DICOM outputs do not) */
} rr_report_compose_in;

/* *out: the doc (rr_report_doc_free). RR_ENOTFOUND when the study is gone
 * from the store; RR_ECONFLICT when an inserted AI finding is no longer
 * reviewed; RR_EINVAL for inserts that do not hold; RR_ESTORE. */
int rr_report_compose(rr_report_doc **out, rr_report_composer *c, const rr_report *r,
                      const rr_report_compose_in *in, char *err, size_t errsize);

/* Check inserts sent for a draft of the study `study_uid`: the shape of the
 * wire contract, at most RR_REPORT_INSERTS_MAX of each kind, every AI
 * finding reviewed (RR_ECONFLICT otherwise: the API's "not_reviewed"), every
 * measurement an annotation of the study and every key image an instance
 * of the study with such a frame (RR_EINVAL otherwise). *out receives the
 * normalised inserts object (owned; json_object_put). */
int rr_report_compose_check_inserts(json_object **out, rr_report_composer *c, const char *study_uid,
                                    json_object *inserts, char *err, size_t errsize);

/* The outputs worker's loader (rr_report_outputs_load_fn): ctx is the
 * composer. The signed version `version` of report `report_id` as a doc
 * (without key image pictures) and the PDF bytes stored at its signing
 * (malloc'd, the caller frees them). RR_ENOTFOUND when the version does not
 * exist or was never signed. */
int rr_report_compose_load(void *ctx, rr_report_doc **out_doc, unsigned char **out_pdf, size_t *out_pdf_size,
                           int64_t report_id, int64_t version, char *err, size_t errsize);

/* The display name of a user ("" when unknown) into out. */
void rr_report_compose_display_name(char *out, size_t size, rr_report_composer *c, const char *username);

#endif
