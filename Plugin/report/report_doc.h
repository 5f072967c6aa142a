/*
 * report_doc.h - one signed (or about to be signed) version of a report, as
 * every output of it needs it: the PDF (report_pdf.h), the DICOM objects
 * put back into the study (report_dicom.h: Encapsulated PDF, TID 2000 SR,
 * Key Object Selection) and the FHIR DiagnosticReport (report_fhir.h).
 *
 * The composer (report_compose.h) fills it from the store, the report's
 * template snapshot and Orthanc; the outputs only read it. Every string is
 * UTF-8, NUL-terminated, untrusted (from DICOM or from users: the outputs
 * escape or bind it), and owned by the doc; rr_report_doc_free releases the
 * doc and everything in it. Times are unix milliseconds (0 = unknown).
 * Not thread-safe: one thread builds it, then any number may read it.
 */
#ifndef RR_REPORT_REPORT_DOC_H
#define RR_REPORT_REPORT_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One field of a section, its value already rendered as text by the
 * composer (choices joined with ", ", numbers with their unit, dates as
 * YYYY-MM-DD). Empty values are left out of the doc. */
typedef struct rr_report_doc_item {
  char *label; /* the template's field label, e.g. "Lungs" */
  char *text;  /* the value; may hold line breaks ("\n") */
} rr_report_doc_item;

/* One section of the template: LOINC code (e.g. "59776-5" Findings), the
 * title shown, its non-empty items in template order. */
typedef struct rr_report_doc_section {
  char *code;    /* LOINC section code, "" when the template has none */
  char *meaning; /* LOINC code meaning, e.g. "Findings" */
  char *title;   /* the title shown */
  rr_report_doc_item *items;
  size_t item_count;
} rr_report_doc_section;

/* A reviewed AI finding inserted into the report (confirmed or modified
 * only): always shown as "AI-assisted", with the analysis reference. */
typedef struct rr_report_doc_finding {
  char *text;         /* the finding as it stands after review */
  char *analysis_ref; /* e.g. "AI analysis 12, reviewed by jdoe on 2026-12-04" */
} rr_report_doc_finding;

/* A key image: its UIDs (for the KOS and the SR's references) and, for the
 * PDF, a rendered PNG (may be NULL: the PDF then lists it without a picture). */
typedef struct rr_report_doc_image {
  char *series_uid;
  char *sop_uid;
  char *sop_class_uid;
  int64_t frame; /* 1-based */
  char *caption; /* e.g. "Se 3, Im 45" */
  unsigned char *png;
  size_t png_size;
} rr_report_doc_image;

/* A signed addendum of this report, oldest first (shown after the body). */
typedef struct rr_report_doc_addendum {
  int64_t version;
  char *text;
  char *signed_by_name;
  int64_t signed_at;
} rr_report_doc_addendum;

typedef struct rr_report_doc {
  /* the site */
  char *institution; /* ReadingRoom.Reports.Institution, else the study's InstitutionName */

  /* the patient and the study (from the plugin's store and Orthanc) */
  char *patient_name; /* DICOM PN as stored, e.g. "Doe^John" or with "=" groups */
  char *patient_id;
  char *patient_birth_date; /* DICOM DA "YYYYMMDD" or "" */
  char *patient_sex;        /* "M", "F", "O" or "" */
  char *study_uid;
  char *study_orthanc_id;
  char *study_date; /* DA */
  char *study_time; /* TM */
  char *study_description;
  char *accession_number;
  char *referring_physician; /* PN */
  char *modalities;          /* "CT\\SR" as stored */
  char *study_id;            /* (0020,0010) or "" */

  /* the report and this version */
  int64_t report_id;
  int64_t version;   /* 1-based, the version these outputs are of */
  char *kind;        /* "original", "addendum" or "correction" */
  char *status;      /* "preliminary" or "final" (what was signed) */
  char *template_id;
  char *title;       /* the template's title, e.g. "CT Chest" */
  rr_report_doc_section *sections;
  size_t section_count;
  rr_report_doc_finding *findings;
  size_t finding_count;
  rr_report_doc_image *images;
  size_t image_count;
  rr_report_doc_addendum *addenda; /* the report's signed addenda up to this version */
  size_t addendum_count;
  char *correction_reason; /* a correction's reason, else NULL */

  /* critical result and its communication (NULL strings when not critical) */
  bool critical;
  char *critical_recipient; /* who was told */
  char *critical_method;    /* "phone", "in person", ... */
  int64_t critical_at;

  /* the signature */
  char *signed_by;      /* user name */
  char *signed_by_name; /* display name, else the user name */
  int64_t signed_at;
  /* An addendum version shows the body of the prevailing original or
   * correction: who signed that body and when (the PDF's signature block;
   * this version's own signer is then in addenda[]). NULL/0 when the body is
   * this version's own (original, correction). Added by report_pdf. */
  char *body_signed_by_name;
  int64_t body_signed_at;

  /* the SR this version replaces (addendum, correction): PredecessorDocumentsSequence */
  char *predecessor_series_uid; /* NULL when none */
  char *predecessor_sop_uid;
  char *predecessor_sop_class_uid;
} rr_report_doc;

/* A zeroed doc (every pointer NULL) or NULL when out of memory. */
rr_report_doc *rr_report_doc_new(void);
/* Release the doc and everything it owns; accepts NULL. */
void rr_report_doc_free(rr_report_doc *doc);
/* Release an array of `count` sections and everything in them; accepts NULL. */
void rr_report_doc_sections_free(rr_report_doc_section *sections, size_t count);
/* Replace *slot with a copy of the first `len` bytes of s (not necessarily
 * NUL-terminated; NULL s gives ""). Returns 0 or RR_ENOMEM (*slot kept). */
int rr_report_doc_set(char **slot, const char *s, size_t len);

#endif
