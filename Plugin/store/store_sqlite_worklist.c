/*
 * store_sqlite_worklist.c - the SQLite backend's worklist reads: the
 * worklist page (WHERE clause built from the validated query, bound
 * parameters only) and one study with its series and instances; and the
 * WHERE-clause helpers the reports list shares (rr_sqlite_param_add,
 * rr_sqlite_where_words, rr_sqlite_prepare_params). Each row carries the
 * study's report state from study_report (Resources/sqlite/007). The
 * report, AI-state and modality conditions are worklist_filter.h's, shared
 * with the PostgreSQL backend.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"
#include "worklist_filter.h"

/* ---------------------------------------------------------------- queries */

/* The parameter that holds rr_worklist_query.report_ack_user ("" in a
 * study's detail): past the WHERE clause's (RR_SQLITE_MAX_PARAMS), bound
 * only where a statement has it. */
#define ACK_USER_PARAM "99"
#define ACK_USER_INDEX 99
/* The report r is critical for the user ?99 (x: its study_report row). */
#define CRITICAL_FOR_USER \
  "(r.critical=1 AND r.state NOT IN " RR_WFILTER_ENDED_STATES_SQL " AND NOT EXISTS(SELECT 1 FROM report_acks a" \
  " WHERE a.report_id=r.id AND a.username=?" ACK_USER_PARAM "))"

#define STUDY_COLUMNS \
  "s.orthanc_id, s.patient_orthanc_id, s.study_uid, s.patient_name, s.patient_id, s.patient_birth_date," \
  " s.patient_sex, s.study_date, s.study_time, s.study_description, s.accession_number," \
  " s.referring_physician, s.institution_name, s.modalities, s.series_count, s.instance_count," \
  " s.received_at, s.updated_at," \
  " COALESCE((SELECT x.ai_status FROM study_ai x WHERE x.study_uid=s.study_uid),'')," \
  " COALESCE((SELECT x.review_status FROM study_ai x WHERE x.study_uid=s.study_uid),'')," \
  " COALESCE((SELECT x.state FROM study_report x WHERE x.study_uid=s.study_uid),'')," \
  " COALESCE((SELECT x.report_id FROM study_report x WHERE x.study_uid=s.study_uid),0)," \
  " COALESCE((SELECT CASE WHEN ?" ACK_USER_PARAM "='' THEN x.critical ELSE " CRITICAL_FOR_USER " END" \
  " FROM study_report x LEFT JOIN reports r ON r.id=x.report_id WHERE x.study_uid=s.study_uid),0)," \
  " COALESCE((SELECT x.author FROM study_report x WHERE x.study_uid=s.study_uid),'')"
#define STUDY_COLUMN_COUNT 24 /* the column after them */

static void read_study(rr_study_rec *r, sqlite3_stmt *st)
{
  rr_sqlite_column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
  rr_sqlite_column_copy(r->patient_orthanc_id, sizeof(r->patient_orthanc_id), st, 1);
  rr_sqlite_column_copy(r->study_uid, sizeof(r->study_uid), st, 2);
  rr_sqlite_column_copy(r->patient_name, sizeof(r->patient_name), st, 3);
  rr_sqlite_column_copy(r->patient_id, sizeof(r->patient_id), st, 4);
  rr_sqlite_column_copy(r->patient_birth_date, sizeof(r->patient_birth_date), st, 5);
  rr_sqlite_column_copy(r->patient_sex, sizeof(r->patient_sex), st, 6);
  rr_sqlite_column_copy(r->study_date, sizeof(r->study_date), st, 7);
  rr_sqlite_column_copy(r->study_time, sizeof(r->study_time), st, 8);
  rr_sqlite_column_copy(r->study_description, sizeof(r->study_description), st, 9);
  rr_sqlite_column_copy(r->accession_number, sizeof(r->accession_number), st, 10);
  rr_sqlite_column_copy(r->referring_physician, sizeof(r->referring_physician), st, 11);
  rr_sqlite_column_copy(r->institution_name, sizeof(r->institution_name), st, 12);
  rr_sqlite_column_copy(r->modalities, sizeof(r->modalities), st, 13);
  r->series_count = sqlite3_column_int64(st, 14);
  r->instance_count = sqlite3_column_int64(st, 15);
  r->received_at = sqlite3_column_int64(st, 16);
  r->updated_at = sqlite3_column_int64(st, 17);
  rr_sqlite_column_copy(r->ai_status, sizeof(r->ai_status), st, 18);
  rr_sqlite_column_copy(r->review_status, sizeof(r->review_status), st, 19);
  rr_sqlite_column_copy(r->report_state, sizeof(r->report_state), st, 20);
  r->report_id = sqlite3_column_int64(st, 21);
  r->report_critical = sqlite3_column_int(st, 22) != 0;
  rr_sqlite_column_copy(r->report_author, sizeof(r->report_author), st, 23);
}

int rr_sqlite_param_add(rr_sqlite_params *p, rr_buf *sql, const char *value, size_t len)
{
  char *copy;

  if (p->count >= RR_SQLITE_MAX_PARAMS)
    return RR_EFULL;
  copy = malloc(len + 1);
  if (copy == NULL)
    return RR_ENOMEM;
  memcpy(copy, value, len);
  copy[len] = '\0';
  p->values[p->count++] = copy;
  return rr_buf_printf(sql, "?%zu", p->count);
}

void rr_sqlite_params_free(rr_sqlite_params *p)
{
  size_t i;

  for (i = 0; i < p->count; i++)
    free(p->values[i]);
  p->count = 0;
}

int rr_sqlite_where_words(rr_buf *sql, rr_sqlite_params *p, const char *id_column, const char *kind,
                          const char *words)
{
  const char *w;
  size_t pos = 0, wl, n = 0;
  char upper[RR_QUERY_VALUE_SIZE + 2];
  int error = 0;

  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(words, &pos, &w, &wl)) {
    if (wl > RR_QUERY_VALUE_SIZE - 1)
      return RR_EINVAL;
    memcpy(upper, w, wl);
    upper[wl] = '\xFF'; /* never in UTF-8: every string starting with w sorts below */
    upper[wl + 1] = '\0';
    if ((error = rr_buf_printf(sql, " AND %s IN (SELECT study_id FROM study_terms WHERE kind='%s' AND term>=",
                               id_column, kind)) < 0 ||
        (error = rr_sqlite_param_add(p, sql, w, wl)) < 0 ||
        (error = rr_buf_puts(sql, " AND term<")) < 0 ||
        (error = rr_sqlite_param_add(p, sql, upper, wl + 1)) < 0 ||
        (error = rr_buf_putc(sql, ')')) < 0)
      return error;
    n++;
  }
  return error;
}

static int where_match(rr_buf *sql, rr_sqlite_params *p, const rr_match *m, const char *column, const char *kind)
{
  int error = 0;

  switch (m->mode) {
  case RR_MATCH_NONE:
    return 0;
  case RR_MATCH_EXACT:
    if ((error = rr_buf_printf(sql, " AND %s=", column)) < 0)
      return error;
    return rr_sqlite_param_add(p, sql, m->value, strlen(m->value));
  case RR_MATCH_GLOB:
    if ((error = rr_buf_printf(sql, " AND %s GLOB ", column)) < 0)
      return error;
    return rr_sqlite_param_add(p, sql, m->value, strlen(m->value));
  case RR_MATCH_WORDS:
    return rr_sqlite_where_words(sql, p, "s.id", kind, m->value);
  }
  return RR_EINVAL;
}

static int sqlite_param(void *params, rr_buf *sql, const char *value, size_t len)
{
  return rr_sqlite_param_add(params, sql, value, len);
}

/* The WHERE clause of q; `report` is q's report filter, parsed. */
static int build_where(rr_buf *sql, rr_sqlite_params *p, const rr_worklist_query *q, rr_wfilter_report report)
{
  rr_wfilter_sql d = {sqlite_param, p, true, true, true};
  int error;

  if ((error = rr_buf_puts(sql, " WHERE 1")) < 0 ||
      (error = where_match(sql, p, &q->patient_name, "s.patient_name_norm", "N")) < 0 ||
      (error = where_match(sql, p, &q->description, "s.description_norm", "D")) < 0 ||
      (error = where_match(sql, p, &q->text, "", "T")) < 0 ||
      (error = where_match(sql, p, &q->patient_id, "s.patient_id", "")) < 0 ||
      (error = where_match(sql, p, &q->accession, "s.accession_number", "")) < 0 ||
      (error = rr_wfilter_sql_modalities(sql, &d, q)) < 0 ||
      (error = rr_wfilter_sql_states(sql, &d, "ai_status", q->ai_statuses, q->ai_status_count)) < 0 ||
      (error = rr_wfilter_sql_states(sql, &d, "review_status", q->review_statuses, q->review_status_count)) < 0 ||
      (error = rr_wfilter_sql_report(sql, &d, report, q)) < 0)
    return error;
  return rr_wfilter_sql_dates(sql, &d, q);
}

int rr_sqlite_prepare_params(sqlite3 *db, sqlite3_stmt **st, const rr_buf *sql, const rr_sqlite_params *p)
{
  size_t i;

  if (sqlite3_prepare_v2(db, sql->ptr, (int)sql->len, st, NULL) != SQLITE_OK)
    return RR_ESTORE;
  for (i = 0; i < p->count; i++)
    sqlite3_bind_text(*st, (int)i + 1, p->values[i], -1, SQLITE_STATIC);
  return 0;
}

/* ?99 (the user of report_critical) in a statement that has it. */
static void bind_ack_user(sqlite3_stmt *st, const char *user)
{
  if (sqlite3_bind_parameter_count(st) >= ACK_USER_INDEX)
    rr_sqlite_bind_text(st, ACK_USER_INDEX, user);
}

static int count_matches(sqlite3 *db, int64_t *total, const char *hint, const rr_buf *where, const rr_sqlite_params *p,
                         char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  rr_buf sql;
  int error = 0;

  rr_buf_init(&sql, 32768);
  if (rr_buf_printf(&sql, "SELECT count(*) FROM studies s%s%s", hint, where->ptr) < 0 ||
      rr_sqlite_prepare_params(db, &st, &sql, p) < 0) {
    error = rr_sqlite_fail(err, errsize, db, "prepare count");
    goto out;
  }
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, db, "count");
    goto out;
  }
  *total = sqlite3_column_int64(st, 0);
out:
  sqlite3_finalize(st);
  rr_buf_dispose(&sql);
  return error;
}

/* A worklist row; with term filters the page's first row also brings the
 * number of matches (column STUDY_COLUMN_COUNT). */
typedef struct page_ctx {
  rr_study_list *list;
  int filtered, have_total;
} page_ctx;

static int read_page_row(void *elem, sqlite3_stmt *st, void *ctx)
{
  page_ctx *page = ctx;

  if (page->filtered && !page->have_total) {
    page->list->total = sqlite3_column_int64(st, STUDY_COLUMN_COUNT);
    page->have_total = 1;
  }
  read_study(elem, st);
  return 0;
}

int rr_sqlite_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  rr_buf where, sql, order;
  rr_sqlite_params p = {{0}, 0};
  sqlite3_stmt *st = NULL;
  rr_study_list *list = NULL;
  const char *hint;
  page_ctx page = {NULL, 0, 0};
  rr_wfilter_report report;
  int error = 0, filtered;

  *out = NULL;
  rr_buf_init(&where, 16384);
  rr_buf_init(&sql, 32768);
  rr_buf_init(&order, 256);
  if ((error = rr_wfilter_report_parse(&report, q, err, errsize)) < 0)
    goto out;
  if ((error = build_where(&where, &p, q, report)) < 0) {
    error = rr_fail(err, errsize, error, "query too complex");
    goto out;
  }
  if ((list = rr_store_list_new(&rr_study_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  /* Filters through the search terms yield row ids: then the covering index
   * of sort keys answers without reading rows, whatever statistics say, and
   * the rows are sorted anyway, so the same pass may as well count them. */
  filtered = strstr(where.ptr, "study_terms") != NULL;
  hint = filtered ? " INDEXED BY studies_keys" : "";

  error = rr_wfilter_sql_order(&order, q);
  /* The page's row ids are chosen from the indexes first, then only 'limit'
   * rows are read. With term filters the same pass counts the matches (a
   * window over the filtered rows); otherwise an index walk in sort order
   * stops after the page, and a separate count is cheaper. */
  if (error == 0 && filtered)
    error = rr_buf_printf(&sql,
                          "SELECT " STUDY_COLUMNS ", p.total FROM studies s JOIN (SELECT s.id AS id, count(*) OVER () AS total"
                          " FROM studies s%s%s ORDER BY %s LIMIT %u OFFSET %u) p ON p.id=s.id ORDER BY %s",
                          hint, where.ptr, order.ptr, q->limit, q->offset, order.ptr);
  else if (error == 0)
    error = rr_buf_printf(&sql,
                          "SELECT " STUDY_COLUMNS ", 0 FROM studies s WHERE s.id IN (SELECT s.id FROM studies s%s"
                          " ORDER BY %s LIMIT %u OFFSET %u) ORDER BY %s",
                          where.ptr, order.ptr, q->limit, q->offset, order.ptr);
  if (error < 0 || (error = rr_sqlite_prepare_params(c->db, &st, &sql, &p)) < 0) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare worklist");
    goto out;
  }
  bind_ack_user(st, q->report_ack_user);
  page.list = list;
  page.filtered = filtered;
  if ((error = rr_sqlite_step_rows(st, &rr_study_list_kind, list, q->limit, read_page_row, &page)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "worklist");
    goto out;
  }
  /* an empty page says nothing of the total when it is past the end */
  if (!page.have_total && (!filtered || q->offset > 0) &&
      (error = count_matches(c->db, &list->total, hint, &where, &p, err, errsize)) < 0)
    goto out;
  *out = list;
  list = NULL;

out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_sqlite_params_free(&p);
  rr_buf_dispose(&where);
  rr_buf_dispose(&sql);
  rr_buf_dispose(&order);
  rr_study_list_free(list);
  return error;
}

/* An instance row of the series whose Orthanc identifier is `ctx`. */
static int read_instance(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_instance_rec *r = elem;

  rr_sqlite_column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
  rr_sqlite_column_copy(r->sop_instance_uid, sizeof(r->sop_instance_uid), st, 1);
  rr_sqlite_column_copy(r->sop_class_uid, sizeof(r->sop_class_uid), st, 2);
  rr_sqlite_column_copy(r->transfer_syntax, sizeof(r->transfer_syntax), st, 3);
  r->has_instance_number = sqlite3_column_type(st, 4) != SQLITE_NULL;
  r->instance_number = sqlite3_column_int64(st, 4);
  r->number_of_frames = sqlite3_column_int64(st, 5);
  rr_sqlite_column_copy(r->image_position, sizeof(r->image_position), st, 6);
  rr_sqlite_column_copy(r->image_orientation, sizeof(r->image_orientation), st, 7);
  rr_str_copy(r->series_orthanc_id, RR_OID_SIZE, ctx);
  return 0;
}

/* The instances of a series, room made for as many as it counts. */
static int load_instances(sqlite3 *db, rr_series_detail *sd, int64_t series_id)
{
  sqlite3_stmt *st = NULL;
  size_t first = (size_t)(sd->series.instance_count > 0 ? sd->series.instance_count : 8);
  int error;

  if (sqlite3_prepare_v2(db,
                         "SELECT orthanc_id, sop_instance_uid, sop_class_uid, transfer_syntax, instance_number,"
                         " number_of_frames, image_position, image_orientation FROM instances WHERE series_id=?1"
                         " ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return RR_ESTORE;
  sqlite3_bind_int64(st, 1, series_id);
  error = rr_sqlite_step_rows(st, &rr_series_detail_kind, sd, first, read_instance, sd->series.orthanc_id);
  sqlite3_finalize(st);
  return error;
}

/* The series rows of a study (`study_orthanc_id`), their row ids kept apart
 * in `ids` to load their instances. */
typedef struct series_ctx {
  const char *study_orthanc_id;
  int64_t *ids;
  size_t count, cap;
} series_ctx;

static int read_series(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_series_rec *r = &((rr_series_detail *)elem)->series;
  series_ctx *x = ctx;

  if (rr_store_grow((void **)&x->ids, &x->cap, x->count, sizeof(*x->ids), 8) < 0)
    return RR_ENOMEM;
  rr_sqlite_column_copy(r->orthanc_id, sizeof(r->orthanc_id), st, 0);
  rr_str_copy(r->study_orthanc_id, sizeof(r->study_orthanc_id), x->study_orthanc_id);
  rr_sqlite_column_copy(r->series_uid, sizeof(r->series_uid), st, 1);
  r->has_series_number = sqlite3_column_type(st, 2) != SQLITE_NULL;
  r->series_number = sqlite3_column_int64(st, 2);
  rr_sqlite_column_copy(r->modality, sizeof(r->modality), st, 3);
  rr_sqlite_column_copy(r->series_description, sizeof(r->series_description), st, 4);
  rr_sqlite_column_copy(r->body_part, sizeof(r->body_part), st, 5);
  r->instance_count = sqlite3_column_int64(st, 6);
  x->ids[x->count++] = sqlite3_column_int64(st, 7);
  return 0;
}

int rr_sqlite_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  rr_study_detail *d = NULL;
  series_ctx series = {NULL, NULL, 0, 0};
  int64_t study_id;
  size_t i;
  int rc, error = 0;

  *out = NULL;
  if (sqlite3_prepare_v2(c->db, "SELECT " STUDY_COLUMNS ", s.id FROM studies s WHERE s.study_uid=?1"
                         " ORDER BY s.updated_at DESC, s.id DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare study");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, study_uid);
  bind_ack_user(st, "");
  rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
    goto out;
  } else if (rc != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, c->db, "study");
    goto out;
  }
  if ((d = rr_store_list_new(&rr_study_detail_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  read_study(&d->study, st);
  study_id = sqlite3_column_int64(st, STUDY_COLUMN_COUNT);
  sqlite3_finalize(st);
  st = NULL;

  if (sqlite3_prepare_v2(c->db,
                         "SELECT orthanc_id, series_uid, series_number, modality, series_description, body_part,"
                         " instance_count, id FROM series WHERE study_id=?1"
                         " ORDER BY series_number IS NULL, series_number, series_uid, id",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare series");
    goto out;
  }
  sqlite3_bind_int64(st, 1, study_id);
  series.study_orthanc_id = d->study.orthanc_id;
  if ((error = rr_sqlite_step_rows(st, &rr_study_detail_kind, d, 8, read_series, &series)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "series");
    goto out;
  }
  for (i = 0; i < d->series_count; i++) {
    if ((error = load_instances(c->db, &d->series[i], series.ids[i])) < 0) {
      error = rr_sqlite_rows_fail(error, err, errsize, c->db, "instances");
      goto out;
    }
  }
  *out = d;
  d = NULL;

out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  free(series.ids);
  rr_study_detail_free(d);
  return error;
}

