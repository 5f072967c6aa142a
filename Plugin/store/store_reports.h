/*
 * store_reports.h - the reports concern of the store: radiology reports,
 * their versions, critical-result acknowledgements, the reading timeline
 * of each study (turnaround) and each user's macros.
 *
 * A report belongs to one study and keeps, at its creation, a copy of its
 * template (`template_json`): later edits or the retirement of the
 * template never change a report. A study has at most one open report
 * (any state but "cancelled" and "entered-in-error").
 *
 * Versions (1-based, never removed):
 *   kind    "original" | "addendum" | "correction"
 *   status  "draft"       the working copy: its fields change, `revision`
 *                         + 1 per save (optimistic concurrency: a writer
 *                         names the version and revision it changed and
 *                         loses with RR_ESTALE when another save came first)
 *           "preliminary" | "final"   signed: frozen for ever, with the
 *                         signer, the time and the PDF bytes and SHA-256
 *                         rendered at signing (evidence: never regenerated).
 *                         The backend itself refuses any change to a signed
 *                         version (SQLite: triggers), not only this API.
 *           "cancelled"   the draft of a report cancelled before final
 * At most one draft exists, and only as the latest version. Saving a draft
 * when the latest version is preliminary adds a new draft version. The
 * prevailing version is the latest final one (original, addendum or
 * correction).
 *
 * Report state (derived and stored with the report, for the worklist):
 *   "draft"        no signed version yet
 *   "preliminary"  the latest signed version is preliminary, no final one
 *   "final"        a final original, no addendum or correction after it
 *   "appended"     the prevailing version is an addendum
 *   "corrected"    the prevailing version is a correction
 *   "cancelled"    cancelled before any final version (with a reason)
 *   "entered-in-error"  set by an administrator, with a reason, any time
 * Transitions refused with RR_ECONFLICT (nothing changed): a draft save or
 * a sign on a final/appended/corrected/cancelled/entered-in-error report;
 * an addendum or correction before a final version or after cancel/error;
 * cancel after a final version; anything on an entered-in-error report.
 *
 * Times are unix milliseconds. Strings from users and DICOM are stored as
 * given (bound, never spliced into SQL). See store.h for the contract all
 * operations share (return codes, err, thread safety, ownership).
 */
#ifndef RR_STORE_REPORTS_H
#define RR_STORE_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

#define RR_REPORT_STATE_SIZE 24
#define RR_REPORT_TEMPLATE_ID_SIZE 65 /* 1..64 of [A-Za-z0-9._-] */
#define RR_REPORT_JSON_MAX (512 * 1024) /* fields, inserts, template snapshot: bytes */
#define RR_REPORT_TEXT_MAX (64 * 1024)  /* addendum text, reasons */
#define RR_REPORT_PDF_MAX (64 * 1024 * 1024)
#define RR_MACRO_NAME_SIZE 65 /* 1..64 bytes of UTF-8, no control characters */
#define RR_MACRO_TEXT_MAX (16 * 1024)

typedef struct rr_report_version {
  int64_t report_id;
  int64_t version;
  char kind[16];   /* "original" | "addendum" | "correction" */
  char status[16]; /* "draft" | "preliminary" | "final" | "cancelled" */
  char *fields_json;  /* owned: {"<field id>": value, ...} ("{}" when empty) */
  char *inserts_json; /* owned: {"aiFindings": [...], "measurements": [...], "keyImages": [...]} or "{}" */
  char *text;         /* owned: an addendum's text or a correction's reason; NULL otherwise */
  char author[RR_USERNAME_SIZE];     /* who created the version */
  char updated_by[RR_USERNAME_SIZE]; /* who saved it last */
  int64_t created_at, updated_at;
  int64_t revision; /* 1 when created, + 1 per draft save, + 1 when signed or
                       cancelled (so that an expectation taken before is stale) */
  char signed_by[RR_USERNAME_SIZE]; /* "" unless signed */
  int64_t signed_at;                /* 0 unless signed */
  char pdf_sha256[RR_HASH_HEX_SIZE]; /* "" unless signed */
  unsigned char *pdf; /* owned; only from rr_store_report_pdf, else NULL */
  size_t pdf_size;
} rr_report_version;

/* Release what a version owns and zero it; accepts NULL. */
void rr_report_version_dispose(rr_report_version *v);

typedef struct rr_report_ack {
  char username[RR_USERNAME_SIZE];
  int64_t at;
} rr_report_ack;

typedef struct rr_report {
  int64_t id; /* assigned by the store, > 0 */
  char study_uid[RR_UID_SIZE];
  char template_id[RR_REPORT_TEMPLATE_ID_SIZE];
  char *template_json; /* owned: the template as it was when the report was created */
  char state[RR_REPORT_STATE_SIZE];
  char *state_reason; /* owned: why cancelled / entered in error; NULL otherwise */
  char state_by[RR_USERNAME_SIZE]; /* who cancelled it / entered it in error; "" otherwise */
  bool critical;      /* flagged as containing a critical finding */
  char *critical_json; /* owned: the communication recorded at final signing:
                          {"recipient", "method", "communicatedAt" (ms), "recordedBy"}; NULL before */
  char created_by[RR_USERNAME_SIZE];
  int64_t created_at, updated_at;
  int64_t prevailing_version; /* latest final version; 0 = none */
  rr_report_version *versions; /* oldest first; pdf not loaded */
  size_t version_count;
  rr_report_ack *acks; /* critical-result acknowledgements, oldest first */
  size_t ack_count;
} rr_report;

void rr_report_free(rr_report *r);

typedef struct rr_report_list {
  rr_report *items; /* each as rr_store_report_get gives it */
  size_t count;
} rr_report_list;
void rr_report_list_free(rr_report_list *list);

/* One row of the reports list (physicians' home, searches): the report,
 * its study's identification and its prevailing (else latest) signature. */
typedef struct rr_report_row {
  int64_t id;
  char study_uid[RR_UID_SIZE];
  char state[RR_REPORT_STATE_SIZE];
  char template_id[RR_REPORT_TEMPLATE_ID_SIZE];
  bool critical;
  bool acknowledged; /* by the query's username */
  char patient_name[RR_PN_SIZE];
  char patient_id[RR_LO_SIZE];
  char patient_birth_date[RR_DA_SIZE];
  char study_date[RR_DA_SIZE];
  char study_description[RR_LO_SIZE];
  char accession_number[RR_LO_SIZE];
  char referring_physician[RR_PN_SIZE];
  char modalities[RR_MODS_SIZE];
  char signed_by[RR_USERNAME_SIZE];
  int64_t signed_at;
  int64_t updated_at;
} rr_report_row;

typedef struct rr_report_row_list {
  rr_report_row *items;
  size_t count;
  int64_t total; /* rows matching the query, before offset/limit */
} rr_report_row_list;
void rr_report_row_list_free(rr_report_row_list *list);

typedef struct rr_report_query {
  /* states to include ("final", "appended", ...); none = every state */
  char states[8][RR_REPORT_STATE_SIZE];
  size_t state_count;
  char text[RR_QUERY_VALUE_SIZE]; /* "" or words matched (each) against patient name, id,
                                     accession, description, case- and accent-insensitively
                                     (the worklist's free-text words, as typed: the store
                                     folds them; referring physician and institution too) */
  char patient_id[RR_LO_SIZE];    /* "" or exact: the patient's history */
  char referring[RR_PN_SIZE];     /* "" or only studies whose referring physician matches
                                     this PN (family^given, case-insensitive, empty components ignored) */
  char username[RR_USERNAME_SIZE]; /* for `acknowledged`; critical rows not acknowledged by
                                      this user come first */
  size_t offset, limit; /* limit 0 = 50; at most 500 */
} rr_report_query;

typedef struct rr_macro {
  char name[RR_MACRO_NAME_SIZE];
  char *text; /* owned */
  int64_t updated_at;
} rr_macro;

typedef struct rr_macro_list {
  rr_macro *items; /* by name */
  size_t count;
} rr_macro_list;
void rr_macro_list_free(rr_macro_list *list);

/* A study's reading timeline (turnaround): received = the study's first
 * ingestion; opened = first opened by a radiologist; preliminary and final
 * = first such signature. 0 = not yet. */
typedef struct rr_report_timeline {
  char study_uid[RR_UID_SIZE];
  char modality[RR_CS_SIZE]; /* the study's first modality that is not SR/KO/PR/DOC/SEG/RTSTRUCT/OT */
  int64_t received_at, opened_at, preliminary_at, final_at;
} rr_report_timeline;

typedef struct rr_report_timeline_list {
  rr_report_timeline *items;
  size_t count;
} rr_report_timeline_list;
void rr_report_timeline_list_free(rr_report_timeline_list *list);

/* The expected state of the latest version for a draft save or a sign:
 * both must match the store's, else RR_ESTALE. */
typedef struct rr_report_expect {
  int64_t version;
  int64_t revision;
} rr_report_expect;

/* What a signature writes (sign, addendum, correction). */
typedef struct rr_report_signature {
  const char *signed_by;
  int64_t signed_at;
  const unsigned char *pdf; /* the PDF rendered for this version (required) */
  size_t pdf_size;
  const char *pdf_sha256; /* hex of the PDF's SHA-256 */
  const char *critical_json; /* final signing of a critical report: the communication; else NULL */
} rr_report_signature;

/* What a backend implements for this concern (one entry per function
 * below, `impl` first; see store.h): struct rr_store's `reports`. */
typedef struct rr_store_reports_ops {
  int (*create)(void *impl, int64_t *out_id, const char *study_uid, const char *template_id,
                const char *template_json, const char *author, int64_t now, char *err, size_t errsize);
  int (*get)(void *impl, rr_report **out, int64_t id, char *err, size_t errsize);
  int (*for_study)(void *impl, rr_report_list **out, const char *study_uid, char *err, size_t errsize);
  int (*open_for_study)(void *impl, int64_t *out_id, const char *study_uid, char *err, size_t errsize);
  int (*save_draft)(void *impl, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                    const char *fields_json, const char *inserts_json, int critical, const char *by, int64_t now,
                    char *err, size_t errsize);
  int (*next_version)(void *impl, int64_t *out_version, rr_report_expect *out_expect, int64_t id, char *err,
                      size_t errsize);
  int (*sign)(void *impl, int64_t *out_version, int64_t id, const rr_report_expect *expect, const char *status,
              const rr_report_signature *sig, char *err, size_t errsize);
  int (*add_version)(void *impl, int64_t *out_version, int64_t id, int64_t expected_prevailing, const char *kind,
                     const char *fields_json, const char *text, const rr_report_signature *sig, char *err,
                     size_t errsize);
  int (*cancel)(void *impl, int64_t id, const char *by, const char *reason, int64_t now, char *err, size_t errsize);
  int (*entered_in_error)(void *impl, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                          size_t errsize);
  int (*acknowledge)(void *impl, int64_t id, const char *username, int64_t now, char *err, size_t errsize);
  int (*pdf)(void *impl, rr_report_version *out, int64_t id, int64_t version, char *err, size_t errsize);
  int (*list)(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize);
  int (*has_final)(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring, char *err,
                   size_t errsize);
  int (*opened)(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize);
  int (*timeline)(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                  size_t errsize);
  int (*macro_list)(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize);
  int (*macro_put)(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                   size_t errsize);
  int (*macro_remove)(void *impl, const char *username, const char *name, char *err, size_t errsize);
} rr_store_reports_ops;

/* ------------------------------------------------------------ reports
 *
 * create: a report for the study with version 1 (original, draft, fields
 *   and inserts "{}", revision 1); *out_id receives its id. RR_EEXISTS when
 *   the study has an open report (nothing created; the sentence ends with
 *   its id in brackets, open_for_study gives it); RR_ENOTFOUND when the
 *   store has no such study. Also records the study's opened_at when unset.
 * get: the report with its versions (no PDF bytes) and acknowledgements.
 * for_study: the study's reports (every state), newest first.
 * open_for_study: the id of the study's open report, 0 when none.
 * save_draft: writes fields/inserts (each NULL = unchanged) and, when
 *   critical >= 0, the critical flag, to the draft (latest version; when the
 *   latest is preliminary, a new draft version copying it first). `expect`
 *   names the latest version as the caller saw it. *out (may be NULL;
 *   dispose it) receives the draft as stored.
 * sign: freezes the draft as `status` ("preliminary" | "final") with the
 *   signature; when the latest version is preliminary and no draft exists,
 *   a final sign adds a new version copying it. `expect` as for save_draft.
 *   Updates the state and, on the first preliminary/final, the timeline.
 *   *out_version (may be NULL) receives the signed version's number.
 *   A final sign of a critical report without sig->critical_json (and none
 *   recorded before) is RR_EINVAL: the communication must be recorded.
 * next_version: the number the next signed version of the report will
 *   have (for rendering the PDF before signing) and the expected values.
 * add_version: a signed final version of kind "addendum" (text = the
 *   addendum; fields copied from the prevailing version) or "correction"
 *   (fields given, text = the reason). `expected_prevailing` must be the
 *   prevailing version (RR_ESTALE otherwise).
 * cancel: state cancelled with the reason; the draft becomes "cancelled".
 *   cancel and entered_in_error record `by` in rr_report.state_by; a reason
 *   is required (1..RR_REPORT_TEXT_MAX bytes, else RR_EINVAL).
 * entered_in_error: state entered-in-error with the reason (any state).
 * acknowledge: records that `username` acknowledged the critical result
 *   (RR_ECONFLICT when the report is not critical; idempotent: the first
 *   time is kept).
 * pdf: *out (dispose it) receives the version with its PDF bytes;
 *   RR_ENOTFOUND when the version does not exist or was never signed.
 * list: rows for the query (see rr_report_query); unknown states are
 *   RR_EINVAL. A report whose study is no longer in the index keeps its row
 *   (study fields "").
 * has_final: *out = true when the study (StudyInstanceUID or Orthanc id)
 *   has a report in state final, appended or corrected; when `referring` is
 *   not "" only if the study's referring physician also matches it.
 */
int rr_store_report_create(rr_store *s, int64_t *out_id, const char *study_uid, const char *template_id,
                           const char *template_json, const char *author, int64_t now, char *err, size_t errsize);
int rr_store_report_get(rr_store *s, rr_report **out, int64_t id, char *err, size_t errsize);
int rr_store_report_for_study(rr_store *s, rr_report_list **out, const char *study_uid, char *err, size_t errsize);
int rr_store_report_open_for_study(rr_store *s, int64_t *out_id, const char *study_uid, char *err, size_t errsize);
int rr_store_report_save_draft(rr_store *s, rr_report_version *out, int64_t id, const rr_report_expect *expect,
                               const char *fields_json, const char *inserts_json, int critical, const char *by,
                               int64_t now, char *err, size_t errsize);
int rr_store_report_next_version(rr_store *s, int64_t *out_version, rr_report_expect *out_expect, int64_t id,
                                 char *err, size_t errsize);
int rr_store_report_sign(rr_store *s, int64_t *out_version, int64_t id, const rr_report_expect *expect,
                         const char *status, const rr_report_signature *sig, char *err, size_t errsize);
int rr_store_report_add_version(rr_store *s, int64_t *out_version, int64_t id, int64_t expected_prevailing,
                                const char *kind, const char *fields_json, const char *text,
                                const rr_report_signature *sig, char *err, size_t errsize);
int rr_store_report_cancel(rr_store *s, int64_t id, const char *by, const char *reason, int64_t now, char *err,
                           size_t errsize);
int rr_store_report_entered_in_error(rr_store *s, int64_t id, const char *by, const char *reason, int64_t now,
                                     char *err, size_t errsize);
int rr_store_report_acknowledge(rr_store *s, int64_t id, const char *username, int64_t now, char *err,
                                size_t errsize);
int rr_store_report_pdf(rr_store *s, rr_report_version *out, int64_t id, int64_t version, char *err,
                        size_t errsize);
int rr_store_report_list(rr_store *s, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize);
int rr_store_report_has_final(rr_store *s, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                              char *err, size_t errsize);

/* ------------------------------------------------------------ timeline
 * opened: records the first opening of a study by a radiologist (later
 * calls keep the first time; RR_ENOTFOUND for an unknown study).
 * timeline: the timelines of studies received in [since, until) (ms).
 */
int rr_store_report_opened(rr_store *s, const char *study_uid, int64_t now, char *err, size_t errsize);
int rr_store_report_timeline(rr_store *s, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                             size_t errsize);

/* ------------------------------------------------------------ macros
 * Per user, by name (names compare exactly). put creates or replaces;
 * remove: RR_ENOTFOUND when absent. At most 500 macros per user (RR_EFULL).
 */
int rr_store_macro_list(rr_store *s, rr_macro_list **out, const char *username, char *err, size_t errsize);
int rr_store_macro_put(rr_store *s, const char *username, const char *name, const char *text, int64_t now, char *err,
                       size_t errsize);
int rr_store_macro_remove(rr_store *s, const char *username, const char *name, char *err, size_t errsize);

#endif
