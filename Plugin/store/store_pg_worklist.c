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
 * rows carry their study's sort keys and modality mask (009_worklist.sql),
 * so that a word search matching thousands of studies is sorted, paged and
 * counted from one index-only scan of the terms; the unfiltered total is
 * the number of studies the same migration's triggers keep. Each row
 * carries the study's AI and report state when this build's migrations
 * created those tables (rr_pg_store.optional_tables), else "none". The
 * report, AI-state and modality conditions are worklist_filter.h's, shared
 * with the SQLite backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"
#include "worklist_filter.h"

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
  else if ((error = rr_buf_puts(sql, " COALESCE((SELECT (r.critical::int = 1 AND r.state NOT IN " RR_WFILTER_ENDED_STATES_SQL
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
 * matching study with the keys its term rows carry (009_worklist.sql). */
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

static int pg_param(void *params, rr_buf *sql, const char *value, size_t len)
{
  return rr_pg_param_add(params, sql, value, len);
}

/* The WHERE clause into sql and the search words' id set into terms ("" =
 * no search words); `report` is q's report filter, parsed. */
static int build_where(rr_buf *sql, rr_buf *terms, rr_pg_params *p, unsigned tables, const rr_worklist_query *q,
                       rr_wfilter_report report)
{
  rr_wfilter_sql d = {pg_param, p, (tables & RR_PG_HAS_STUDY_AI) != 0, (tables & RR_PG_HAS_REPORTS) != 0, false};
  int error;

  if ((error = rr_buf_puts(sql, " WHERE TRUE")) < 0 || (error = rr_buf_puts(terms, "")) < 0 ||
      (error = where_match(sql, terms, p, &q->patient_name, "s.patient_name_norm", "N")) < 0 ||
      (error = where_match(sql, terms, p, &q->description, "s.description_norm", "D")) < 0 ||
      (error = where_match(sql, terms, p, &q->text, "", "T")) < 0 ||
      (error = where_match(sql, terms, p, &q->patient_id, "s.patient_id", "")) < 0 ||
      (error = where_match(sql, terms, p, &q->accession, "s.accession_number", "")) < 0 ||
      (error = rr_wfilter_sql_modalities(sql, &d, q)) < 0 ||
      (error = rr_wfilter_sql_states(sql, &d, "ai_status", q->ai_statuses, q->ai_status_count)) < 0 ||
      (error = rr_wfilter_sql_states(sql, &d, "review_status", q->review_statuses, q->review_status_count)) < 0 ||
      (error = rr_wfilter_sql_report(sql, &d, report, q)) < 0)
    return error;
  return rr_wfilter_sql_dates(sql, &d, q);
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
 * the term rows carry (009_worklist.sql: the sort keys, patient_name_norm
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
static int build_page(page_sql *x, unsigned tables, const rr_worklist_query *q, rr_wfilter_report report)
{
  int error;

  if ((error = build_where(&x->where, &x->terms, &x->p, tables, q, report)) < 0)
    return error;
  x->where_params = x->p.count;
  if ((error = put_columns(&x->columns, &x->p, tables, q->report_ack_user)) < 0 || (error = rr_wfilter_sql_order(&x->order, q)) < 0)
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
  /* without any filter: the number of studies the write triggers keep */
  if (error == 0 && !x->filtered && strcmp(x->where.ptr, " WHERE TRUE") == 0)
    error = rr_buf_puts(&x->count, "SELECT COALESCE(sum(n), 0)::bigint FROM study_count_deltas");
  else if (error == 0)
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
  rr_wfilter_report report;
  int error, attempt;

  *out = NULL;
  if ((error = rr_wfilter_report_parse(&report, q, err, errsize)) < 0)
    return error;
  memset(&x, 0, sizeof(x));
  rr_buf_init(&x.where, 16384);
  rr_buf_init(&x.terms, 16384);
  rr_buf_init(&x.from, 16384);
  rr_buf_init(&x.columns, 8192);
  rr_buf_init(&x.order, 256);
  rr_buf_init(&x.page, 32768);
  rr_buf_init(&x.count, 32768);
  if ((error = build_page(&x, s->optional_tables, q, report)) < 0) {
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
