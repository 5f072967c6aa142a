/*
 * report_rules.h - the rules of the reports concern that every store
 * backend (SQLite, PostgreSQL, MongoDB) applies the same way: the checks
 * of the inputs (user names, texts and their bounds, StudyInstanceUIDs,
 * template ids, signatures, macros, the reports query), the lifecycle's
 * transitions judged against a report's head (its state and latest
 * version), and the person-name comparison by which a referring physician
 * is found (rr_pn_*).
 *
 * Contract:
 * - Every rr_report_check_* returns 0 when the input or transition is
 *   allowed, else a negative RR_E* with a sentence in err (errsize bytes,
 *   err may be NULL): RR_EINVAL for bad input, RR_ECONFLICT for what the
 *   state machine refuses, RR_ESTALE when the caller's view of the report
 *   is not the store's. They read only their arguments (no store, no
 *   allocation, no global state): any thread.
 * - A backend reads the head inside the transaction (or before the
 *   conditional update) that makes the change, then asks these functions
 *   before it changes anything; the storage (triggers, conditions on the
 *   version) stays the last word.
 * - rr_pn_query owns two buffers: rr_pn_query_init then
 *   rr_pn_query_dispose (even after a failed init). One query per thread.
 */
#ifndef RR_REPORT_RULES_H
#define RR_REPORT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_reports.h"
#include "util/buf.h"

/* What a write needs to know of a report: its state and latest version. */
typedef struct rr_report_head {
  int64_t id;
  char study_uid[RR_UID_SIZE];
  char state[RR_REPORT_STATE_SIZE];
  bool critical;
  bool communicated; /* a critical result communication is recorded */
  int64_t prevailing;
  int64_t latest, revision; /* the latest version and its revision */
  char status[16];          /* of the latest version */
  char kind[16];
} rr_report_head;

/* Is state one of a, b, c (b and c may be NULL)? */
bool rr_report_state_is(const char *state, const char *a, const char *b, const char *c);

/* One of the seven report states? */
bool rr_report_state_known(const char *state);

/* ------------------------------------------------------------ inputs */

/* A user name of 1 to RR_USERNAME_SIZE - 1 bytes; `what` names it. */
int rr_report_check_user(const char *what, const char *s, char *err, size_t errsize);

/* A text of at most max bytes of UTF-8; required: not NULL, not empty. */
int rr_report_check_text(const char *what, const char *s, size_t max, bool required, char *err, size_t errsize);

/* create: the study, the template's id and snapshot, the author. */
int rr_report_check_create(const char *study_uid, const char *template_id, const char *template_json,
                           const char *author, char *err, size_t errsize);

/* save_draft: fields and inserts (NULL keeps them) and the editor. */
int rr_report_check_draft(const char *fields_json, const char *inserts_json, const char *by, char *err,
                          size_t errsize);

/* sign: status "preliminary" or "final" (*out_final) and the signature. */
int rr_report_check_sign(bool *out_final, const char *status, const rr_report_signature *sig, char *err,
                         size_t errsize);

/* add_version: kind "addendum" (*out_addendum) or "correction" (which
 * needs its fields), the text (the addendum or the reason), the signature. */
int rr_report_check_add(bool *out_addendum, const char *kind, const char *fields_json, const char *text,
                        const rr_report_signature *sig, char *err, size_t errsize);

/* cancel / entered_in_error: the user and the reason. */
int rr_report_check_close(const char *by, const char *reason, char *err, size_t errsize);

/* macro_put: the user, the name (no control characters), the text. */
int rr_report_check_macro(const char *username, const char *name, const char *text, char *err, size_t errsize);

/* list: known states, at most as many as q->states holds, terminated texts. */
int rr_report_check_query(const rr_report_query *q, char *err, size_t errsize);

/* The page size of a list: q->limit, 0 meaning 50, at most 500. */
size_t rr_report_query_limit(const rr_report_query *q);

/* ------------------------------------------------------------ transitions */

/* The caller's expected version and revision against the latest (RR_EINVAL
 * without one, RR_ESTALE when it is not the latest). */
int rr_report_check_expect(const rr_report_head *h, const rr_report_expect *expect, char *err, size_t errsize);

/* A draft save or a sign (`action`): only before a final version. */
int rr_report_check_editable(const rr_report_head *h, const char *action, char *err, size_t errsize);

/* next_version: never after cancelled / entered in error; the version a
 * signature would freeze and the expectation of the latest (either out
 * may be NULL). */
int rr_report_next_version(int64_t *out_version, rr_report_expect *out_expect, const rr_report_head *h, char *err,
                           size_t errsize);

/* A sign after rr_report_check_editable and rr_report_check_expect: a final
 * signature of a critical result needs its communication; a preliminary
 * version is signed once. *out_version: the version to freeze; *out_copy:
 * it is a new draft copying the latest (preliminary) one first. */
int rr_report_plan_sign(int64_t *out_version, bool *out_copy, const rr_report_head *h, bool final,
                        const rr_report_signature *sig, char *err, size_t errsize);

/* An addendum or correction (`kind`): only of a final report, against the
 * prevailing version the caller saw. *out_version: the new version. */
int rr_report_plan_add(int64_t *out_version, const rr_report_head *h, const char *kind, int64_t expected_prevailing,
                       char *err, size_t errsize);

/* cancel (cancel true) only before a final version; entered in error once. */
int rr_report_check_close_state(const rr_report_head *h, bool cancel, char *err, size_t errsize);

/* An acknowledgement: of a critical result, not of a report entered in error. */
int rr_report_check_ack(const rr_report_head *h, char *err, size_t errsize);

/* The end of a pdf read: `error` is the read's; a version without a PDF
 * (never signed) or no such version is RR_ENOTFOUND with a sentence; on
 * any failure *out is disposed. Returns the final error. */
int rr_report_pdf_result(int error, rr_report_version *out, int64_t id, int64_t version, char *err, size_t errsize);

/* The timeline's modality: the first of a study's modalities
 * ("CT\\SR") that is not a derived object (SR, KO, PR, DOC, SEG,
 * RTSTRUCT, OT); "" when none. */
void rr_report_first_modality(char *out, size_t size, const char *mods);

/* ------------------------------------------------------------ person names */

#define RR_PN_COMPONENTS 5

/* A query PN (its first component group) folded once, matched against
 * many stored ones. */
typedef struct rr_pn_query {
  rr_buf q, scratch;
  size_t qat[RR_PN_COMPONENTS];
  bool any; /* the query has a component at all */
} rr_pn_query;

/* 0, or RR_ENOMEM / the folding's error; dispose in every case. */
int rr_pn_query_init(rr_pn_query *pq, const char *query);
void rr_pn_query_dispose(rr_pn_query *pq);

/* True when a value of the stored PN (several values separated by '\')
 * matches the query's first group, component by component
 * (family^given^middle^prefix^suffix), folded (case and accents ignored),
 * the query's empty components matching anything; false when the query
 * has no component at all (or stored is NULL). */
bool rr_pn_match(rr_pn_query *pq, const char *stored);

#endif
