/*
 * store_pg_worklist.c - the PostgreSQL backend's worklist reads: the
 * worklist page (WHERE clause built from the validated query, every value a
 * bound parameter) and one study with its series and instances, as the
 * SQLite backend's store_sqlite_worklist.c answers them.
 *
 * Matching: text columns are COLLATE "C" (001_index.sql), so comparisons
 * and sorting are byte order as in SQLite; GLOB patterns (util/textnorm.h:
 * '*', '?', "[[]" for '[') become LIKE patterns, and search words become
 * prefix LIKEs on study_terms, both answered by B-tree indexes; the term
 * rows carry their study's sort keys and modality mask (009_term_keys.sql),
 * so that a word search matching thousands of studies is sorted, paged and
 * counted from one index-only scan of the terms. Each row
 * carries the study's AI and report state when this build's migrations
 * created those tables (rr_pg_store.optional_tables), else "none".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modality_mask.h"
#include "store_pg_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

#define ENDED_STATES "('cancelled','entered-in-error')"
#define STUDY_COLUMN_COUNT 24 /* the column after them */

/* The study columns (read_study's order); with `ack_user` set, the
 * critical flag is "not acknowledged by that user" (a parameter of p). */
static int put_columns(rr_buf *sql, rr_pg_params *p, unsigned tables, const char *ack_user)
{
  int error;

  if ((error = rr_buf_puts(sql,
                           "s.orthanc_id, s.patient_orthanc_id, s.study_uid, s.patient_name, s.patient_id,"
                           " s.patient_birth_date, s.patient_sex, s.study_date, s.study_time, s.study_description,"
                           " s.accession_number, s.referring_physician, s.institution_name, s.modalities,"
                           " s.series_count, s.instance_count, s.received_at, s.updated_at,")) < 0)
    return error;
  if ((tables & RR_PG_HAS_STUDY_AI) != 0)
    error = rr_buf_puts(sql, " COALESCE((SELECT x.ai_status FROM study_ai x WHERE x.study_uid = s.study_uid), ''),"
                             " COALESCE((SELECT x.review_status FROM study_ai x WHERE x.study_uid = s.study_uid), ''),");
  else
    error = rr_buf_puts(sql, " '', '',");
  if (error < 0)
    return error;
  if ((tables & RR_PG_HAS_REPORTS) == 0)
    return rr_buf_puts(sql, " '', 0, 0, ''");
  if ((error = rr_buf_puts(sql, " COALESCE((SELECT x.state FROM study_report x WHERE x.study_uid = s.study_uid), ''),"
                                " COALESCE((SELECT x.report_id FROM study_report x WHERE x.study_uid = s.study_uid), 0),")) < 0)
    return error;
  if (ack_user == NULL || ack_user[0] == '\0')
    error = rr_buf_puts(sql, " COALESCE((SELECT x.critical::int FROM study_report x WHERE x.study_uid = s.study_uid), 0),");
  else if ((error = rr_buf_puts(sql, " COALESCE((SELECT (r.critical::int = 1 AND r.state NOT IN " ENDED_STATES
                                     " AND NOT EXISTS (SELECT 1 FROM report_acks a WHERE a.report_id = r.id"
                                     " AND a.username = ")) == 0 &&
           (error = rr_pg_param_add(p, sql, ack_user, strlen(ack_user))) == 0)
    error = rr_buf_puts(sql, "))::int FROM study_report x LEFT JOIN reports r ON r.id = x.report_id"
                             " WHERE x.study_uid = s.study_uid), 0),");
  if (error < 0)
    return error;
  return rr_buf_puts(sql, " COALESCE((SELECT x.author FROM study_report x WHERE x.study_uid = s.study_uid), '')");
}

static void read_study(rr_study_rec *r, const PGresult *res, int row)
{
  rr_pg_copy(r->orthanc_id, sizeof(r->orthanc_id), res, row, 0);
  rr_pg_copy(r->patient_orthanc_id, sizeof(r->patient_orthanc_id), res, row, 1);
  rr_pg_copy(r->study_uid, sizeof(r->study_uid), res, row, 2);
  rr_pg_copy(r->patient_name, sizeof(r->patient_name), res, row, 3);
  rr_pg_copy(r->patient_id, sizeof(r->patient_id), res, row, 4);
  rr_pg_copy(r->patient_birth_date, sizeof(r->patient_birth_date), res, row, 5);
  rr_pg_copy(r->patient_sex, sizeof(r->patient_sex), res, row, 6);
  rr_pg_copy(r->study_date, sizeof(r->study_date), res, row, 7);
  rr_pg_copy(r->study_time, sizeof(r->study_time), res, row, 8);
  rr_pg_copy(r->study_description, sizeof(r->study_description), res, row, 9);
  rr_pg_copy(r->accession_number, sizeof(r->accession_number), res, row, 10);
  rr_pg_copy(r->referring_physician, sizeof(r->referring_physician), res, row, 11);
  rr_pg_copy(r->institution_name, sizeof(r->institution_name), res, row, 12);
  rr_pg_copy(r->modalities, sizeof(r->modalities), res, row, 13);
  r->series_count = rr_pg_int(res, row, 14);
  r->instance_count = rr_pg_int(res, row, 15);
  r->received_at = rr_pg_int(res, row, 16);
  r->updated_at = rr_pg_int(res, row, 17);
  rr_pg_copy(r->ai_status, sizeof(r->ai_status), res, row, 18);
  rr_pg_copy(r->review_status, sizeof(r->review_status), res, row, 19);
  rr_pg_copy(r->report_state, sizeof(r->report_state), res, row, 20);
  r->report_id = rr_pg_int(res, row, 21);
  r->report_critical = rr_pg_int(res, row, 22) != 0;
  rr_pg_copy(r->report_author, sizeof(r->report_author), res, row, 23);
}

/* ---------------------------------------------------------------- patterns */

/* Append c to a LIKE pattern, escaped (the default escape is '\'). */
static int like_literal(rr_buf *out, char c)
{
  int error;

  if ((c == '%' || c == '_' || c == '\\') && (error = rr_buf_putc(out, '\\')) < 0)
    return error;
  return rr_buf_putc(out, c);
}

/* The LIKE pattern of a GLOB pattern from rr_text_glob. RR_EINVAL for a
 * character class other than "[x]" (a one-character literal). */
int rr_pg_glob_to_like(rr_buf *out, const char *glob)
{
  int error = 0;

  if (out->ptr == NULL && (error = rr_buf_append(out, "", 0)) < 0)
    return error;
  for (; *glob && error == 0; glob++) {
    if (*glob == '*')
      error = rr_buf_putc(out, '%');
    else if (*glob == '?')
      error = rr_buf_putc(out, '_');
    else if (*glob == '[') {
      if (glob[1] == '\0' || glob[1] == '^' || glob[2] != ']')
        return RR_EINVAL;
      error = like_literal(out, glob[1]);
      glob += 2;
    } else
      error = like_literal(out, *glob);
  }
  return error;
}

/* The studies with a term of `kind` starting with each word (at most
 * RR_QUERY_MAX_WORDS), appended to `terms` as the FROM and WHERE of a scan
 * of study_terms: the first word of the whole query ranges over the term
 * index ("FROM study_terms WHERE kind = 'N' AND term LIKE $1"), every
 * other word is a set of study ids it must be in (" AND study_id IN
 * (SELECT study_id ...)", hashed once). One range scan then yields each
 * matching study with the keys its term rows carry (009_term_keys.sql). */
static int where_words(rr_buf *terms, rr_pg_params *p, const char *kind, const char *words)
{
  const char *w;
  size_t pos = 0, wl, n = 0, i;
  rr_buf like;
  int error = 0;

  rr_buf_init(&like, RR_QUERY_VALUE_SIZE * 2 + 2);
  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(words, &pos, &w, &wl)) {
    bool first = terms->len == 0;

    rr_buf_clear(&like);
    for (i = 0; i < wl && error == 0; i++)
      error = like_literal(&like, w[i]);
    if (error < 0 || (error = rr_buf_putc(&like, '%')) < 0 ||
        (error = rr_buf_printf(terms, "%s study_terms WHERE kind = '%s' AND term LIKE ",
                               first ? "FROM" : " AND study_id IN (SELECT study_id FROM", kind)) < 0 ||
        (error = rr_pg_param_add(p, terms, like.ptr, like.len)) < 0 || (!first && (error = rr_buf_putc(terms, ')')) < 0))
      break;
    n++;
  }
  rr_buf_dispose(&like);
  return error;
}

static int where_match(rr_buf *sql, rr_buf *terms, rr_pg_params *p, const rr_match *m, const char *column,
                       const char *kind)
{
  rr_buf like;
  int error;

  switch (m->mode) {
  case RR_MATCH_NONE:
    return 0;
  case RR_MATCH_EXACT:
    if ((error = rr_buf_printf(sql, " AND %s = ", column)) < 0)
      return error;
    return rr_pg_param_add(p, sql, m->value, strlen(m->value));
  case RR_MATCH_GLOB:
    rr_buf_init(&like, RR_QUERY_VALUE_SIZE * 2);
    if ((error = rr_pg_glob_to_like(&like, m->value)) == 0 && (error = rr_buf_printf(sql, " AND %s LIKE ", column)) == 0)
      error = rr_pg_param_add(p, sql, like.ptr, like.len);
    rr_buf_dispose(&like);
    return error;
  case RR_MATCH_WORDS:
    return where_words(terms, p, kind, m->value);
  }
  return RR_EINVAL;
}

/* States of study_ai: "" in the list stands for "no analysis". */
static int where_states(rr_buf *sql, rr_pg_params *p, unsigned tables, const char *column,
                        const char (*values)[RR_STATE_SIZE], size_t count)
{
  size_t i, named = 0;
  bool none = false;
  int error;

  if (count == 0)
    return 0;
  for (i = 0; i < count; i++)
    if (values[i][0] == '\0')
      none = true;
    else
      named++;
  if ((tables & RR_PG_HAS_STUDY_AI) == 0) /* no analyses at all */
    return none ? 0 : rr_buf_puts(sql, " AND FALSE");
  if ((error = rr_buf_puts(sql, " AND (")) < 0)
    return error;
  if (named > 0) {
    if ((error = rr_buf_printf(sql, "s.study_uid IN (SELECT study_uid FROM study_ai WHERE %s IN (", column)) < 0)
      return error;
    for (i = 0, named = 0; i < count; i++) {
      if (values[i][0] == '\0')
        continue;
      if ((named++ > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
          (error = rr_pg_param_add(p, sql, values[i], strlen(values[i]))) < 0)
        return error;
    }
    if ((error = rr_buf_puts(sql, "))")) < 0)
      return error;
  }
  if (none && (error = rr_buf_printf(sql, "%ss.study_uid NOT IN (SELECT study_uid FROM study_ai WHERE %s <> '')",
                                     named > 0 ? " OR " : "", column)) < 0)
    return error;
  return rr_buf_putc(sql, ')');
}

/* The report filter (see rr_worklist_query.report), already checked. */
static int where_report(rr_buf *sql, rr_pg_params *p, unsigned tables, const rr_worklist_query *q)
{
  int error;

  if (q->report[0] == '\0')
    return 0;
  if ((tables & RR_PG_HAS_REPORTS) == 0) /* no reports at all: every study is unreported */
    return strcmp(q->report, "unreported") == 0 ? 0 : rr_buf_puts(sql, " AND FALSE");
  if (strcmp(q->report, "unreported") == 0)
    return rr_buf_puts(sql, " AND s.study_uid NOT IN (SELECT study_uid FROM study_report"
                            " WHERE state IN ('preliminary','final','appended','corrected'))");
  if (strcmp(q->report, "preliminary") == 0)
    return rr_buf_puts(sql, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE state = 'preliminary')");
  if (strcmp(q->report, "final") == 0)
    return rr_buf_puts(sql, " AND s.study_uid IN (SELECT study_uid FROM study_report"
                            " WHERE state IN ('final','appended','corrected'))");
  if (strcmp(q->report, "critical") == 0 && q->report_ack_user[0] == '\0')
    return rr_buf_puts(sql, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE critical::int = 1)");
  if (strcmp(q->report, "critical") == 0) {
    if ((error = rr_buf_puts(sql, " AND s.study_uid IN (SELECT r.study_uid FROM reports r WHERE r.critical::int = 1 AND"
                                  " r.state NOT IN " ENDED_STATES " AND r.id IN (SELECT report_id"
                                  " FROM study_report) AND NOT EXISTS (SELECT 1 FROM report_acks a"
                                  " WHERE a.report_id = r.id AND a.username = ")) < 0 ||
        (error = rr_pg_param_add(p, sql, q->report_ack_user, strlen(q->report_ack_user))) < 0)
      return error;
    return rr_buf_puts(sql, "))");
  }
  if ((error = rr_buf_puts(sql, " AND s.study_uid IN (SELECT study_uid FROM study_report WHERE state = 'draft'"
                                " AND author = ")) < 0 ||
      (error = rr_pg_param_add(p, sql, q->report_user, strlen(q->report_user))) < 0)
    return error;
  return rr_buf_putc(sql, ')');
}

/* Modalities: the mask for those with a bit, the 'M' terms for others. */
static int where_modalities(rr_buf *sql, rr_pg_params *p, const rr_worklist_query *q)
{
  int64_t mask = 0, bit;
  size_t i, unknown = 0, n = q->modality_count < RR_QUERY_MAX_MODALITIES ? q->modality_count : RR_QUERY_MAX_MODALITIES;
  char maskbuf[32];
  int error;

  if (n == 0)
    return 0;
  for (i = 0; i < n; i++) {
    bit = rr_modality_bit(q->modalities[i], strlen(q->modalities[i]));
    mask |= bit;
    unknown += bit == 0;
  }
  snprintf(maskbuf, sizeof(maskbuf), "%lld", (long long)mask);
  if ((error = rr_buf_puts(sql, " AND (")) < 0)
    return error;
  if (mask != 0 && ((error = rr_buf_puts(sql, "(s.mod_mask & ")) < 0 ||
                    (error = rr_pg_param_add(p, sql, maskbuf, strlen(maskbuf))) < 0 ||
                    (error = rr_buf_puts(sql, "::bigint) <> 0")) < 0))
    return error;
  if (unknown > 0) {
    if ((error = rr_buf_puts(sql, mask != 0 ? " OR " : "")) < 0 ||
        (error = rr_buf_puts(sql, "s.id IN (SELECT study_id FROM study_terms WHERE kind = 'M' AND term IN (")) < 0)
      return error;
    for (i = 0, unknown = 0; i < n; i++) {
      if (rr_modality_bit(q->modalities[i], strlen(q->modalities[i])) != 0)
        continue;
      if ((unknown++ > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
          (error = rr_pg_param_add(p, sql, q->modalities[i], strlen(q->modalities[i]))) < 0)
        return error;
    }
    if ((error = rr_buf_puts(sql, "))")) < 0)
      return error;
  }
  return rr_buf_putc(sql, ')');
}

/* The WHERE clause into sql and the search words' id set into terms ("" =
 * no search words). */
static int build_where(rr_buf *sql, rr_buf *terms, rr_pg_params *p, unsigned tables, const rr_worklist_query *q)
{
  int error;

  if ((error = rr_buf_puts(sql, " WHERE TRUE")) < 0 || (error = rr_buf_puts(terms, "")) < 0 ||
      (error = where_match(sql, terms, p, &q->patient_name, "s.patient_name_norm", "N")) < 0 ||
      (error = where_match(sql, terms, p, &q->description, "s.description_norm", "D")) < 0 ||
      (error = where_match(sql, terms, p, &q->text, "", "T")) < 0 ||
      (error = where_match(sql, terms, p, &q->patient_id, "s.patient_id", "")) < 0 ||
      (error = where_match(sql, terms, p, &q->accession, "s.accession_number", "")) < 0 ||
      (error = where_modalities(sql, p, q)) < 0 ||
      (error = where_states(sql, p, tables, "ai_status", q->ai_statuses, q->ai_status_count)) < 0 ||
      (error = where_states(sql, p, tables, "review_status", q->review_statuses, q->review_status_count)) < 0 ||
      (error = where_report(sql, p, tables, q)) < 0)
    return error;
  if (q->date_from[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.study_date >= ")) < 0 ||
                                  (error = rr_pg_param_add(p, sql, q->date_from, strlen(q->date_from))) < 0))
    return error;
  if (q->date_to[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.study_date <> '' AND s.study_date <= ")) < 0 ||
                                (error = rr_pg_param_add(p, sql, q->date_to, strlen(q->date_to))) < 0))
    return error;
  return 0;
}

/* The ORDER BY of the page (the row id last, so that pages never overlap). */
static int build_order(rr_buf *order, const rr_worklist_query *q)
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

static int check_report_filter(const rr_worklist_query *q, char *err, size_t errsize)
{
  static const char *const known[] = {"", "unreported", "mine", "preliminary", "final", "critical"};
  size_t i;

  for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strcmp(q->report, known[i]) == 0)
      break;
  if (i == sizeof(known) / sizeof(known[0]))
    return rr_fail(err, errsize, RR_EINVAL, "the report filter is one of unreported, mine, preliminary, final, critical");
  if (strcmp(q->report, "mine") == 0 && q->report_user[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "the report filter 'mine' needs the user");
  return 0;
}

/* ---------------------------------------------------------------- worklist */

/* The statements of one worklist page: `page` (with `columns`) and `count`,
 * whose parameters are the first `where_params` of p. */
typedef struct page_sql {
  rr_buf where, terms, from, columns, order, page, count;
  rr_pg_params p;
  size_t where_params;
  bool filtered;
} page_sql;

static void page_sql_dispose(page_sql *x)
{
  rr_buf_dispose(&x->where);
  rr_buf_dispose(&x->terms);
  rr_buf_dispose(&x->from);
  rr_buf_dispose(&x->columns);
  rr_buf_dispose(&x->order);
  rr_buf_dispose(&x->page);
  rr_buf_dispose(&x->count);
  rr_pg_params_free(&x->p);
}

/* Whether every condition of q other than the search words is on a column
 * the term rows carry (009_term_keys.sql: the sort keys, patient_name_norm
 * and mod_mask; "s.id" stands for study_id): then the words' matches are
 * answered from the term index alone, without reading `studies` per match.
 * Keep in step with build_where. */
static bool keyed_terms_suffice(const rr_worklist_query *q)
{
  return q->description.mode != RR_MATCH_GLOB && q->patient_id.mode == RR_MATCH_NONE &&
         q->accession.mode == RR_MATCH_NONE && q->ai_status_count == 0 && q->review_status_count == 0 &&
         q->report[0] == '\0';
}

/* Search words yield a set of studies: with the other conditions on keyed
 * columns, the set is the term rows themselves (study id and keys, named
 * as in `studies` under the alias s); else their ids joined to `studies`.
 * The rows are sorted anyway, so the same pass counts them (a window over
 * the filtered rows). Without words an index walk in sort order stops
 * after the page, and a separate count is cheaper. Only `limit` rows are
 * read in full. */
static int build_page(page_sql *x, unsigned tables, const rr_worklist_query *q)
{
  int error;

  if ((error = build_where(&x->where, &x->terms, &x->p, tables, q)) < 0)
    return error;
  x->where_params = x->p.count;
  if ((error = put_columns(&x->columns, &x->p, tables, q->report_ack_user)) < 0 || (error = build_order(&x->order, q)) < 0)
    return error;
  x->filtered = x->terms.len > 0;
  if (x->filtered && keyed_terms_suffice(q))
    error = rr_buf_printf(&x->from,
                          "(SELECT DISTINCT study_id AS id, study_date, study_time, received_at, patient_name_norm,"
                          " mod_mask %s) s",
                          x->terms.ptr);
  else if (x->filtered)
    error = rr_buf_printf(&x->from, "(SELECT DISTINCT study_id %s) t JOIN studies s ON s.id = t.study_id", x->terms.ptr);
  else
    error = rr_buf_puts(&x->from, "studies s");
  if (error == 0 && x->filtered)
    error = rr_buf_printf(&x->page,
                          "SELECT %s, p.total FROM studies s JOIN (SELECT s.id AS id, count(*) OVER () AS total"
                          " FROM %s%s ORDER BY %s LIMIT %u OFFSET %u) p ON p.id = s.id ORDER BY %s",
                          x->columns.ptr, x->from.ptr, x->where.ptr, x->order.ptr, q->limit, q->offset, x->order.ptr);
  else if (error == 0)
    error = rr_buf_printf(&x->page,
                          "SELECT %s, 0 FROM studies s WHERE s.id IN (SELECT s.id FROM studies s%s"
                          " ORDER BY %s LIMIT %u OFFSET %u) ORDER BY %s",
                          x->columns.ptr, x->where.ptr, x->order.ptr, q->limit, q->offset, x->order.ptr);
  if (error == 0)
    error = rr_buf_printf(&x->count, "SELECT count(*) FROM %s%s", x->from.ptr, x->where.ptr);
  return error;
}

/* The page and, when the page did not bring it, the total. */
static int run_page(rr_pg_conn *c, rr_study_list *list, const page_sql *x, const rr_worklist_query *q)
{
  PGresult *r = NULL;
  rr_pg_params count_params = x->p;
  int error, n, row;
  size_t cap = 0;
  bool have_total = false;

  if ((error = rr_pg_query_params(c, &r, &x->page, &x->p)) < 0)
    return error;
  n = PQntuples(r);
  if (rr_store_list_reserve(&rr_study_list_kind, list, &cap, (size_t)n) < 0) {
    PQclear(r);
    return RR_ENOMEM;
  }
  for (row = 0; row < n; row++) {
    rr_study_rec *rec = rr_store_list_push(&rr_study_list_kind, list, &cap, (size_t)n);
    if (rec == NULL) {
      PQclear(r);
      return RR_ENOMEM;
    }
    read_study(rec, r, row);
  }
  if (x->filtered && n > 0) {
    list->total = rr_pg_int(r, 0, STUDY_COLUMN_COUNT);
    have_total = true;
  }
  PQclear(r);
  /* an empty page says nothing of the total when it is past the end */
  if (have_total || (x->filtered && q->offset == 0))
    return 0;
  count_params.count = x->where_params;
  if ((error = rr_pg_query_params(c, &r, &x->count, &count_params)) < 0)
    return error;
  list->total = rr_pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

int rr_pg_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  rr_pg_store *s = impl;
  rr_pg_conn *c = NULL;
  rr_study_list *list = NULL;
  page_sql x;
  int error, attempt;

  *out = NULL;
  if ((error = check_report_filter(q, err, errsize)) < 0)
    return error;
  memset(&x, 0, sizeof(x));
  rr_buf_init(&x.where, 16384);
  rr_buf_init(&x.terms, 16384);
  rr_buf_init(&x.from, 16384);
  rr_buf_init(&x.columns, 8192);
  rr_buf_init(&x.order, 256);
  rr_buf_init(&x.page, 32768);
  rr_buf_init(&x.count, 32768);
  if ((error = build_page(&x, s->optional_tables, q)) < 0) {
    error = rr_fail(err, errsize, error == RR_EINVAL ? RR_EINVAL : RR_EFULL, "query too complex");
    goto out;
  }
  for (attempt = 0; attempt < 2; attempt++) {
    rr_study_list_free(list);
    if ((list = rr_store_list_new(&rr_study_list_kind)) == NULL) {
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
      goto out;
    }
    if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
      goto out;
    error = run_page(c, list, &x, q);
    /* a pooled connection the server dropped (restart): once more */
    if (error < 0 && error != RR_ENOMEM && attempt == 0 && rr_pg_conn_lost(c)) {
      rr_pg_release(s, c);
      continue;
    }
    if (error < 0)
      error = error == RR_ENOMEM ? rr_fail(err, errsize, error, "out of memory") : rr_pg_fail(err, errsize, error, c, "worklist");
    rr_pg_release(s, c);
    break;
  }
  if (error == 0) {
    *out = list;
    list = NULL;
  }
out:
  page_sql_dispose(&x);
  rr_study_list_free(list);
  return error;
}

/* ---------------------------------------------------------------- one study */

static int read_instance(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_instance_rec *i = elem;

  rr_pg_copy(i->orthanc_id, sizeof(i->orthanc_id), r, row, 0);
  rr_pg_copy(i->sop_instance_uid, sizeof(i->sop_instance_uid), r, row, 1);
  rr_pg_copy(i->sop_class_uid, sizeof(i->sop_class_uid), r, row, 2);
  rr_pg_copy(i->transfer_syntax, sizeof(i->transfer_syntax), r, row, 3);
  i->has_instance_number = !rr_pg_null(r, row, 4);
  i->instance_number = rr_pg_int(r, row, 4);
  i->number_of_frames = rr_pg_int(r, row, 5);
  rr_pg_copy(i->image_position, sizeof(i->image_position), r, row, 6);
  rr_pg_copy(i->image_orientation, sizeof(i->image_orientation), r, row, 7);
  rr_str_copy(i->series_orthanc_id, RR_OID_SIZE, ctx);
  return 0;
}

static int read_series(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_series_rec *se = &((rr_series_detail *)elem)->series;

  rr_pg_copy(se->orthanc_id, sizeof(se->orthanc_id), r, row, 0);
  rr_str_copy(se->study_orthanc_id, sizeof(se->study_orthanc_id), ctx);
  rr_pg_copy(se->series_uid, sizeof(se->series_uid), r, row, 1);
  se->has_series_number = !rr_pg_null(r, row, 2);
  se->series_number = rr_pg_int(r, row, 2);
  rr_pg_copy(se->modality, sizeof(se->modality), r, row, 3);
  rr_pg_copy(se->series_description, sizeof(se->series_description), r, row, 4);
  rr_pg_copy(se->body_part, sizeof(se->body_part), r, row, 5);
  se->instance_count = rr_pg_int(r, row, 6);
  return 0;
}

/* The series of study `study_id` into d, each with its instances (one
 * statement each, in the caller's snapshot). */
static int load_series(rr_pg_conn *c, rr_study_detail *d, int64_t study_id)
{
  static const char series_sql[] =
    "SELECT orthanc_id, series_uid, series_number, modality, series_description, body_part, instance_count, id"
    " FROM series WHERE study_id = $1 ORDER BY series_number IS NULL, series_number, series_uid, id";
  static const char instances_sql[] =
    "SELECT orthanc_id, sop_instance_uid, sop_class_uid, transfer_syntax, instance_number, number_of_frames,"
    " image_position, image_orientation FROM instances WHERE series_id = $1 ORDER BY id";
  PGresult *r = NULL, *ri = NULL;
  size_t i;
  int error;

  if ((error = rr_pg_query(c, &r, series_sql, "i", study_id)) < 0)
    return error;
  if ((error = rr_pg_rows(r, &rr_study_detail_kind, d, 8, read_series, d->study.orthanc_id)) < 0)
    goto out;
  for (i = 0; i < d->series_count; i++) {
    rr_series_detail *sd = &d->series[i];
    if ((error = rr_pg_query(c, &ri, instances_sql, "i", rr_pg_int(r, (int)i, 7))) < 0)
      goto out;
    error = rr_pg_rows(ri, &rr_series_detail_kind, sd, (size_t)(PQntuples(ri) > 0 ? PQntuples(ri) : 1), read_instance,
                       sd->series.orthanc_id);
    PQclear(ri);
    if (error < 0)
      goto out;
  }
out:
  PQclear(r);
  return error;
}

/* The newest study with the UID, in one read-only snapshot. */
static int read_detail(rr_pg_conn *c, rr_study_detail *d, unsigned tables, const char *study_uid)
{
  static const char begin_sql[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  static const char end_sql[] = "COMMIT";
  rr_buf sql;
  rr_pg_params p = {{0}, 0};
  PGresult *r = NULL;
  int error;

  rr_buf_init(&sql, 16384);
  if ((error = rr_pg_query(c, NULL, begin_sql, "")) < 0)
    goto out;
  if ((error = rr_buf_puts(&sql, "SELECT ")) < 0 || (error = put_columns(&sql, &p, tables, "")) < 0 ||
      (error = rr_buf_puts(&sql, ", s.id FROM studies s WHERE s.study_uid = ")) < 0 ||
      (error = rr_pg_param_add(&p, &sql, study_uid, strlen(study_uid))) < 0 ||
      (error = rr_buf_puts(&sql, " ORDER BY s.updated_at DESC, s.id DESC LIMIT 1")) < 0)
    goto out;
  if ((error = rr_pg_query_params(c, &r, &sql, &p)) < 0)
    goto out;
  if (PQntuples(r) == 0) {
    error = RR_ENOTFOUND;
    goto out;
  }
  read_study(&d->study, r, 0);
  if ((error = load_series(c, d, rr_pg_int(r, 0, STUDY_COLUMN_COUNT))) == 0)
    error = rr_pg_query(c, NULL, end_sql, "");
out:
  PQclear(r);
  rr_pg_params_free(&p);
  rr_buf_dispose(&sql);
  return error; /* rr_pg_release rolls back what is left open */
}

int rr_pg_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  rr_pg_store *s = impl;
  rr_pg_conn *c = NULL;
  rr_study_detail *d = NULL;
  int error, attempt;

  *out = NULL;
  for (attempt = 0; attempt < 2; attempt++) {
    rr_study_detail_free(d);
    if ((d = rr_store_list_new(&rr_study_detail_kind)) == NULL)
      return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
      break;
    error = read_detail(c, d, s->optional_tables, study_uid);
    if (error < 0 && error != RR_ENOMEM && error != RR_ENOTFOUND && attempt == 0 && rr_pg_conn_lost(c)) {
      rr_pg_release(s, c);
      continue;
    }
    if (error == RR_ENOTFOUND)
      rr_fail(err, errsize, error, "no such study");
    else if (error == RR_ENOMEM || error == RR_EFULL)
      error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    else if (error < 0)
      error = rr_pg_fail(err, errsize, error, c, "study");
    rr_pg_release(s, c);
    break;
  }
  if (error == 0) {
    *out = d;
    d = NULL;
  }
  rr_study_detail_free(d);
  return error;
}
