/*
 * worklist_filter.c - the worklist's report, state and modality filters
 * shared by the store backends (see worklist_filter.h).
 */
#include "worklist_filter.h"

#include <stdio.h>
#include <string.h>

#include "modality_mask.h"
#include "util/errors.h"

static const char *const report_names[] = {"", "unreported", "mine", "preliminary", "final", "critical"};

int rr_wfilter_report_parse(rr_wfilter_report *out, const rr_worklist_query *q, char *err, size_t errsize)
{
  size_t i;

  *out = RR_WFILTER_REPORT_ANY;
  for (i = 0; i < sizeof(report_names) / sizeof(report_names[0]); i++)
    if (strcmp(q->report, report_names[i]) == 0)
      break;
  if (i == sizeof(report_names) / sizeof(report_names[0]))
    return rr_fail(err, errsize, RR_EINVAL, "the report filter is one of unreported, mine, preliminary, final, critical");
  if (i == RR_WFILTER_REPORT_MINE && q->report_user[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "the report filter 'mine' needs the user");
  *out = (rr_wfilter_report)i;
  return 0;
}

size_t rr_wfilter_report_states(const char *const **states, rr_wfilter_report f)
{
  static const char *const reported[] = {"preliminary", "final", "appended", "corrected"};
  static const char *const draft[] = {"draft"};

  *states = NULL;
  switch (f) {
  case RR_WFILTER_REPORT_UNREPORTED:
    *states = reported;
    return 4;
  case RR_WFILTER_REPORT_PRELIMINARY:
    *states = reported;
    return 1;
  case RR_WFILTER_REPORT_FINAL:
    *states = reported + 1;
    return 3;
  case RR_WFILTER_REPORT_MINE:
    *states = draft;
    return 1;
  case RR_WFILTER_REPORT_ANY:
  case RR_WFILTER_REPORT_CRITICAL:
    break;
  }
  return 0;
}

void rr_wfilter_states_split(rr_wfilter_states *out, const char (*values)[RR_STATE_SIZE], size_t count)
{
  size_t i;

  memset(out, 0, sizeof(*out));
  for (i = 0; i < count && i < RR_QUERY_MAX_STATES; i++)
    if (values[i][0] == '\0')
      out->none = true;
    else
      out->named[out->named_count++] = values[i];
}

/* ------------------------------------------------------------------ SQL */

/* "v1,v2,..." as parameters. */
static int put_params(rr_buf *sql, const rr_wfilter_sql *d, const char *const *values, size_t count)
{
  size_t i;
  int error;

  for (i = 0; i < count; i++)
    if ((i > 0 && (error = rr_buf_putc(sql, ',')) < 0) || (error = d->param(d->params, sql, values[i], strlen(values[i]))) < 0)
      return error;
  return 0;
}

/* "'v1','v2',..." as literals (the static state names only). */
static int put_literals(rr_buf *sql, const char *const *values, size_t count)
{
  size_t i;
  int error;

  for (i = 0; i < count; i++)
    if ((error = rr_buf_printf(sql, "%s'%s'", i > 0 ? "," : "", values[i])) < 0)
      return error;
  return 0;
}

int rr_wfilter_sql_states(rr_buf *sql, const rr_wfilter_sql *d, const char *column, const char (*values)[RR_STATE_SIZE],
                          size_t count)
{
  rr_wfilter_states st;
  int error;

  if (count == 0)
    return 0;
  rr_wfilter_states_split(&st, values, count);
  if (!d->has_study_ai) /* no analyses at all */
    return st.none ? 0 : rr_buf_puts(sql, " AND FALSE");
  if ((error = rr_buf_puts(sql, " AND (")) < 0)
    return error;
  if (st.named_count > 0 &&
      ((error = rr_buf_printf(sql, "s.study_uid IN (SELECT study_uid FROM study_ai WHERE %s IN (", column)) < 0 ||
       (error = put_params(sql, d, st.named, st.named_count)) < 0 || (error = rr_buf_puts(sql, "))")) < 0))
    return error;
  if (st.none && (error = rr_buf_printf(sql, "%ss.study_uid NOT IN (SELECT study_uid FROM study_ai WHERE %s <> '')",
                                        st.named_count > 0 ? " OR " : "", column)) < 0)
    return error;
  return rr_buf_putc(sql, ')');
}

int rr_wfilter_sql_report(rr_buf *sql, const rr_wfilter_sql *d, rr_wfilter_report f, const rr_worklist_query *q)
{
  const char *const *states;
  size_t n = rr_wfilter_report_states(&states, f);
  const char *is_true = d->int_booleans ? " = 1" : "";
  int error;

  if (f == RR_WFILTER_REPORT_ANY)
    return 0;
  if (!d->has_reports) /* no reports at all: every study is unreported */
    return f == RR_WFILTER_REPORT_UNREPORTED ? 0 : rr_buf_puts(sql, " AND FALSE");
  if (f == RR_WFILTER_REPORT_CRITICAL && q->report_ack_user[0] == '\0')
    return rr_buf_printf(sql, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE critical%s)", is_true);
  if (f == RR_WFILTER_REPORT_CRITICAL) {
    if ((error = rr_buf_printf(sql, " AND s.study_uid IN (SELECT r.study_uid FROM reports r WHERE r.critical%s AND"
                                    " r.state NOT IN " RR_WFILTER_ENDED_STATES_SQL " AND r.id IN (SELECT report_id"
                                    " FROM study_report) AND NOT EXISTS (SELECT 1 FROM report_acks a"
                                    " WHERE a.report_id = r.id AND a.username = ",
                               is_true)) < 0 ||
        (error = d->param(d->params, sql, q->report_ack_user, strlen(q->report_ack_user))) < 0)
      return error;
    return rr_buf_puts(sql, "))");
  }
  if ((error = rr_buf_printf(sql, " AND s.study_uid %sIN (SELECT study_uid FROM study_report WHERE state IN (",
                             f == RR_WFILTER_REPORT_UNREPORTED ? "NOT " : "")) < 0 ||
      (error = put_literals(sql, states, n)) < 0 || (error = rr_buf_putc(sql, ')')) < 0)
    return error;
  if (f == RR_WFILTER_REPORT_MINE &&
      ((error = rr_buf_puts(sql, " AND author = ")) < 0 ||
       (error = d->param(d->params, sql, q->report_user, strlen(q->report_user))) < 0))
    return error;
  return rr_buf_putc(sql, ')');
}

int rr_wfilter_sql_modalities(rr_buf *sql, const rr_wfilter_sql *d, const rr_worklist_query *q)
{
  const char *unknown[RR_QUERY_MAX_MODALITIES];
  size_t i, unknown_count = 0, n = q->modality_count < RR_QUERY_MAX_MODALITIES ? q->modality_count : RR_QUERY_MAX_MODALITIES;
  int64_t mask = 0, bit;
  char maskbuf[32];
  int error;

  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    bit = rr_modality_bit(q->modalities[i], strlen(q->modalities[i]));
    mask |= bit;
    if (bit == 0)
      unknown[unknown_count++] = q->modalities[i];
  }
  snprintf(maskbuf, sizeof(maskbuf), "%lld", (long long)mask);
  if ((error = rr_buf_puts(sql, " AND (")) < 0)
    return error;
  if (mask != 0 && ((error = rr_buf_puts(sql, "(s.mod_mask & CAST(")) < 0 ||
                    (error = d->param(d->params, sql, maskbuf, strlen(maskbuf))) < 0 ||
                    (error = rr_buf_puts(sql, " AS BIGINT)) <> 0")) < 0))
    return error;
  if (unknown_count > 0 &&
      ((error = rr_buf_puts(sql, mask != 0 ? " OR " : "")) < 0 ||
       (error = rr_buf_puts(sql, "s.id IN (SELECT study_id FROM study_terms WHERE kind = 'M' AND term IN (")) < 0 ||
       (error = put_params(sql, d, unknown, unknown_count)) < 0 || (error = rr_buf_puts(sql, "))")) < 0))
    return error;
  return rr_buf_putc(sql, ')');
}

int rr_wfilter_sql_dates(rr_buf *sql, const rr_wfilter_sql *d, const rr_worklist_query *q)
{
  int error;

  if (q->date_from[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.study_date >= ")) < 0 ||
                                  (error = d->param(d->params, sql, q->date_from, strlen(q->date_from))) < 0))
    return error;
  if (q->date_to[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.study_date <> '' AND s.study_date <= ")) < 0 ||
                                (error = d->param(d->params, sql, q->date_to, strlen(q->date_to))) < 0))
    return error;
  return 0;
}

int rr_wfilter_sql_order(rr_buf *order, const rr_worklist_query *q)
{
  const char *dir = q->descending ? "DESC" : "ASC";

  switch (q->sort) {
  case RR_SORT_PATIENT_NAME:
    return rr_buf_printf(order, "s.patient_name_norm %s, s.id %s", dir, dir);
  case RR_SORT_RECEIVED_AT:
    return rr_buf_printf(order, "s.received_at %s, s.id %s", dir, dir);
  case RR_SORT_STUDY_DATE:
  default:
    return rr_buf_printf(order, "s.study_date %s, s.study_time %s, s.id %s", dir, dir, dir);
  }
}
