/*
 * worklist_filter.h - what the worklist's report, AI-state, review-state and
 * modality filters of rr_worklist_query mean, once for every store backend:
 *
 * - the report filter's validation (the API's error messages) and the
 *   report states (study_report.state) each value stands for;
 * - a state list split into named states and "no analysis" ("");
 * - the SQL conditions of these filters (and of the date range, and the
 *   page's ORDER BY) that the SQLite and PostgreSQL backends share (the same SQL text runs on both: booleans as plain
 *   conditions, integer parameters as CAST(... AS BIGINT)). Every value is
 *   a parameter bound through the backend's own binder (rr_wfilter_sql);
 *   the conditions name the study row `s` (study_uid, id, mod_mask) and the
 *   tables study_ai, study_report, reports, report_acks and study_terms.
 *
 * The MongoDB backend builds its filter documents from the same parsed
 * filter and state lists. Pure functions, no allocation besides the
 * caller's buffers; any thread.
 */
#ifndef RR_STORE_WORKLIST_FILTER_H
#define RR_STORE_WORKLIST_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "records.h"
#include "util/buf.h"

typedef enum rr_wfilter_report {
  RR_WFILTER_REPORT_ANY = 0,   /* "" */
  RR_WFILTER_REPORT_UNREPORTED, /* no report in a reported state */
  RR_WFILTER_REPORT_MINE,       /* a draft created by report_user */
  RR_WFILTER_REPORT_PRELIMINARY,
  RR_WFILTER_REPORT_FINAL,   /* final, appended or corrected */
  RR_WFILTER_REPORT_CRITICAL /* report_critical (see rr_study_rec) */
} rr_wfilter_report;

/* The report filter of q into *out. RR_EINVAL (message in err) for a value
 * other than "", unreported, mine, preliminary, final, critical, or "mine"
 * without report_user; *out is then ANY. */
int rr_wfilter_report_parse(rr_wfilter_report *out, const rr_worklist_query *q, char *err, size_t errsize);

/* The report states a filter stands for into *states (static strings),
 * returning their count: PRELIMINARY and FINAL the states matched, MINE
 * "draft" (with the author), UNREPORTED the states a study must have none
 * of ("reported" states); 0 for ANY and CRITICAL. */
size_t rr_wfilter_report_states(const char *const **states, rr_wfilter_report f);

/* The report states in which a report no longer counts as critical. */
#define RR_WFILTER_ENDED_STATES_SQL "('cancelled','entered-in-error')"

/* A state list of rr_worklist_query (ai_statuses, review_statuses) split:
 * the named states (pointers into the query) and whether "" ("no
 * analysis") is among them. At most RR_QUERY_MAX_STATES values are read. */
typedef struct rr_wfilter_states {
  const char *named[RR_QUERY_MAX_STATES];
  size_t named_count;
  bool none;
} rr_wfilter_states;

void rr_wfilter_states_split(rr_wfilter_states *out, const char (*values)[RR_STATE_SIZE], size_t count);

/* ------------------------------------------------------------------ SQL */

/* A backend's parameter binder: keeps a copy of value[0..len) and appends
 * its placeholder to sql. 0 or a negative RR_E* code (RR_EFULL when the
 * statement has no parameter left). */
typedef int (*rr_wfilter_param_fn)(void *params, rr_buf *sql, const char *value, size_t len);

typedef struct rr_wfilter_sql {
  rr_wfilter_param_fn param;
  void *params;
  bool has_study_ai; /* false: no AI concern tables (no study has an analysis) */
  bool has_reports;  /* false: no report tables (every study is unreported) */
  /* booleans are integer columns 0/1 (SQLite): a flag is tested as
   * "flag = 1", the form its partial indexes are declared with */
  bool int_booleans;
} rr_wfilter_sql;

/* " AND (...)" for the states of `column` (ai_status or review_status of
 * study_ai); nothing when count is 0. */
int rr_wfilter_sql_states(rr_buf *sql, const rr_wfilter_sql *d, const char *column, const char (*values)[RR_STATE_SIZE],
                          size_t count);

/* " AND ..." for the report filter f of q (already parsed); nothing for
 * ANY. */
int rr_wfilter_sql_report(rr_buf *sql, const rr_wfilter_sql *d, rr_wfilter_report f, const rr_worklist_query *q);

/* " AND (...)" for q's modalities: the study's modality mask for those
 * with a bit (modality_mask.h), the 'M' search terms for the others;
 * nothing without modalities. */
int rr_wfilter_sql_modalities(rr_buf *sql, const rr_wfilter_sql *d, const rr_worklist_query *q);

/* " AND ..." for q's study date range (date_to excludes undated studies);
 * nothing when both ends are open. */
int rr_wfilter_sql_dates(rr_buf *sql, const rr_wfilter_sql *d, const rr_worklist_query *q);

/* The ORDER BY list of q's sort key and direction, the row id last so that
 * pages never overlap (no parameters). */
int rr_wfilter_sql_order(rr_buf *order, const rr_worklist_query *q);

#endif
