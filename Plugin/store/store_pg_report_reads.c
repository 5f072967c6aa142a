/*
 * store_pg_report_reads.c - the PostgreSQL backend's reports concern, its
 * reads and small writes besides the lifecycle (store_pg_reports.c): the
 * reports list with its study fields, has_final, the reading timeline
 * (opened, timeline) and each user's macros, as the SQLite backend
 * (store_sqlite_report_reads.c) does (contract in store_reports.h; tables
 * in Resources/postgresql/006_reports.sql).
 *
 * Referring physicians: the SQLite backend compares person names with its
 * SQL function rr_pn_match (folded with util/textnorm.h, component by
 * component). Here the same comparison runs in C (rr_pn_match of
 * report_rules.h, the one both backends use) over the distinct referring physicians of the reported studies,
 * and the query keeps the studies whose value is one of the matching ones
 * (an array parameter): the folding is byte for byte the plugin's, not the
 * server's locale, and paging and counts stay in SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_rules.h"
#include "store_pg_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

/* ------------------------------------------------------------ person names */

#define PN_ARRAY_MAX (64u * 1024u * 1024u)

/* The array literal ("{...}") of the referring physicians in the rows of r
 * (column 0) that match `query`; *count receives how many. */
static int matching_names(rr_buf *out, size_t *count, const PGresult *r, const char *query)
{
  rr_pn_query pq;
  int row, n = PQntuples(r), error;

  *count = 0;
  rr_buf_clear(out);
  if ((error = rr_pn_query_init(&pq, query)) < 0 || (error = rr_buf_putc(out, '{')) < 0)
    goto out;
  for (row = 0; row < n && error == 0; row++) {
    const char *v = PQgetvalue(r, row, 0);
    if (!rr_pn_match(&pq, v))
      continue;
    if (*count > 0)
      error = rr_buf_putc(out, ',');
    if (error == 0 && (error = rr_buf_putc(out, '"')) == 0) {
      for (; error == 0 && *v != '\0'; v++)
        if ((*v != '"' && *v != '\\') || (error = rr_buf_putc(out, '\\')) == 0)
          error = rr_buf_putc(out, *v);
      if (error == 0)
        error = rr_buf_putc(out, '"');
    }
    (*count)++;
  }
  if (error == 0)
    error = rr_buf_putc(out, '}');
out:
  rr_pn_query_dispose(&pq);
  return error;
}

/* ------------------------------------------------------------ the list */

/* The study row of a report: the most recently updated one with its UID. */
#define REPORT_FROM \
  " FROM reports r LEFT JOIN LATERAL (SELECT x.* FROM studies x WHERE x.study_uid=r.study_uid" \
  " ORDER BY x.updated_at DESC, x.id DESC LIMIT 1) s ON true"

/* Append a LIKE literal of one character (escape '\'). */
static int like_char(rr_buf *out, char c)
{
  int error = 0;

  if (c == '%' || c == '_' || c == '\\')
    error = rr_buf_putc(out, '\\');
  return error == 0 ? rr_buf_putc(out, c) : error;
}

/* " AND s.id IN (studies with a free-text term starting with each word)". */
static int where_words(rr_buf *sql, rr_pg_params *p, const char *words)
{
  const char *w;
  size_t pos = 0, wl, n = 0, i;
  rr_buf like;
  int error = 0;

  rr_buf_init(&like, RR_QUERY_VALUE_SIZE * 2 + 2);
  while (error == 0 && n < RR_QUERY_MAX_WORDS && rr_text_next_word(words, &pos, &w, &wl)) {
    rr_buf_clear(&like);
    for (i = 0; i < wl && error == 0; i++)
      error = like_char(&like, w[i]);
    if (error < 0 || (error = rr_buf_putc(&like, '%')) < 0 ||
        (error = rr_buf_puts(sql, " AND s.id IN (SELECT study_id FROM study_terms WHERE kind = 'T' AND term LIKE ")) <
          0 ||
        (error = rr_pg_param_add(p, sql, like.ptr, like.len)) < 0 || (error = rr_buf_putc(sql, ')')) < 0)
      break;
    n++;
  }
  rr_buf_dispose(&like);
  return error;
}

/* " FROM ... WHERE ..." of the query into sql; `names` is the array literal
 * of the matching referring physicians (q->referring set), else NULL. */
static int list_where(rr_buf *sql, rr_pg_params *p, const rr_report_query *q, const rr_buf *names, rr_buf *folded)
{
  size_t i;
  int error;

  if ((error = rr_buf_puts(sql, REPORT_FROM " WHERE true")) < 0)
    return error;
  if (q->state_count > 0) {
    if ((error = rr_buf_puts(sql, " AND r.state IN (")) < 0)
      return error;
    for (i = 0; i < q->state_count; i++)
      if ((i > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
          (error = rr_pg_param_add(p, sql, q->states[i], strlen(q->states[i]))) < 0)
        return error;
    if ((error = rr_buf_putc(sql, ')')) < 0)
      return error;
  }
  if (q->patient_id[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.patient_id=")) < 0 ||
                                   (error = rr_pg_param_add(p, sql, q->patient_id, strlen(q->patient_id))) < 0))
    return error;
  if (names != NULL && ((error = rr_buf_puts(sql, " AND s.referring_physician = ANY(")) < 0 ||
                        (error = rr_pg_param_add(p, sql, names->ptr, names->len)) < 0 ||
                        (error = rr_buf_puts(sql, "::text[])")) < 0))
    return error;
  if (q->text[0] != '\0') {
    if ((error = rr_text_fold(folded, q->text, strlen(q->text), false)) < 0)
      return error;
    if ((error = where_words(sql, p, folded->ptr ? folded->ptr : "")) < 0)
      return error;
  }
  return 0;
}

static int read_row(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_row *x = elem;

  (void)ctx;
  x->id = rr_pg_int(r, row, 0);
  rr_pg_copy(x->study_uid, sizeof(x->study_uid), r, row, 1);
  rr_pg_copy(x->state, sizeof(x->state), r, row, 2);
  rr_pg_copy(x->template_id, sizeof(x->template_id), r, row, 3);
  x->critical = rr_pg_bool(r, row, 4);
  x->acknowledged = rr_pg_bool(r, row, 5);
  rr_pg_copy(x->patient_name, sizeof(x->patient_name), r, row, 6);
  rr_pg_copy(x->patient_id, sizeof(x->patient_id), r, row, 7);
  rr_pg_copy(x->patient_birth_date, sizeof(x->patient_birth_date), r, row, 8);
  rr_pg_copy(x->study_date, sizeof(x->study_date), r, row, 9);
  rr_pg_copy(x->study_description, sizeof(x->study_description), r, row, 10);
  rr_pg_copy(x->accession_number, sizeof(x->accession_number), r, row, 11);
  rr_pg_copy(x->referring_physician, sizeof(x->referring_physician), r, row, 12);
  rr_pg_copy(x->modalities, sizeof(x->modalities), r, row, 13);
  rr_pg_copy(x->signed_by, sizeof(x->signed_by), r, row, 14);
  x->signed_at = rr_pg_int(r, row, 15);
  x->updated_at = rr_pg_int(r, row, 16);
  return 0;
}

/* The referring physicians of reported studies matching q->referring, as
 * an array literal into names (inside the caller's transaction); at most
 * the first 200000 distinct ones are looked at. */
static int referring_names(rr_pg_conn *c, rr_buf *names, const char *referring, char *err, size_t errsize)
{
  static const char sql[] = "SELECT DISTINCT s.referring_physician FROM studies s WHERE s.referring_physician <> ''"
                            " AND s.study_uid IN (SELECT study_uid FROM reports) LIMIT 200000";
  PGresult *r = NULL;
  size_t count;
  int error;

  if ((error = rr_pg_query(c, &r, sql, "")) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "referring physicians");
  error = matching_names(names, &count, r, referring);
  PQclear(r);
  return error < 0 ? rr_fail(err, errsize, error, "too many referring physicians match") : 0;
}

typedef struct list_ctx {
  const rr_report_query *q;
  rr_report_row_list *list; /* out */
} list_ctx;

/* The page and its count on one snapshot. */
static int list_run(rr_pg_conn *c, list_ctx *l, const rr_buf *sql, const rr_buf *count_sql, rr_pg_params *p,
                    size_t where_params, size_t limit, char *err, size_t errsize)
{
  rr_pg_params count_params = *p; /* the WHERE's parameters only (borrowed) */
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_query_params(c, &r, sql, p)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "reports list");
  error = rr_pg_rows(r, &rr_report_row_list_kind, l->list, limit < 16 ? limit : 16, read_row, NULL);
  PQclear(r);
  r = NULL;
  if (error < 0)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  count_params.count = where_params;
  if ((error = rr_pg_query_params(c, &r, count_sql, &count_params)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "count reports");
  l->list->total = rr_pg_int(r, 0, 0);
  PQclear(r);
  return 0;
}

/* Builds the statements (the referring physicians first, which needs the
 * database) and runs them: critical results the user has not acknowledged
 * first, then the newest signature, then the latest change. */
static int list_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  list_ctx *l = arg;
  const rr_report_query *q = l->q;
  rr_pg_params p = {{0}, 0};
  rr_buf sql, count_sql, where, folded, names;
  size_t limit = rr_report_query_limit(q), where_params;
  int error;

  rr_report_row_list_free(l->list);
  l->list = NULL;
  rr_buf_init(&sql, 65536);
  rr_buf_init(&count_sql, 65536);
  rr_buf_init(&where, 32768);
  rr_buf_init(&folded, RR_QUERY_VALUE_SIZE * 4);
  rr_buf_init(&names, PN_ARRAY_MAX);
  if (q->referring[0] != '\0' && (error = referring_names(c, &names, q->referring, err, errsize)) < 0)
    goto out;
  if ((error = list_where(&where, &p, q, q->referring[0] != '\0' ? &names : NULL, &folded)) < 0)
    goto too_complex;
  where_params = p.count;
  if ((error = rr_buf_puts(&sql, "SELECT r.id, r.study_uid, r.state, r.template_id, r.critical,"
                                 " EXISTS(SELECT 1 FROM report_acks a WHERE a.report_id=r.id AND a.username=")) < 0 ||
      (error = rr_pg_param_add(&p, &sql, q->username, strlen(q->username))) < 0 ||
      (error = rr_buf_puts(&sql, "), coalesce(s.patient_name,''), coalesce(s.patient_id,''),"
                                 " coalesce(s.patient_birth_date,''), coalesce(s.study_date,''),"
                                 " coalesce(s.study_description,''), coalesce(s.accession_number,''),"
                                 " coalesce(s.referring_physician,''), coalesce(s.modalities,''), r.signed_by,"
                                 " r.signed_at, r.updated_at")) < 0 ||
      (error = rr_buf_printf(&sql,
                             "%s ORDER BY (r.critical AND NOT EXISTS(SELECT 1 FROM report_acks a"
                             " WHERE a.report_id=r.id AND a.username=$%zu)) DESC, r.signed_at DESC,"
                             " r.updated_at DESC, r.id DESC LIMIT %zu OFFSET %zu",
                             where.ptr, p.count, limit, q->offset)) < 0 ||
      (error = rr_buf_printf(&count_sql, "SELECT count(*)%s", where.ptr)) < 0)
    goto too_complex;
  if ((l->list = rr_store_list_new(&rr_report_row_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  error = list_run(c, l, &sql, &count_sql, &p, where_params, limit, err, errsize);
  goto out;
too_complex:
  error = rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_EINVAL, "reports query too complex");
out:
  rr_pg_params_free(&p);
  rr_buf_dispose(&sql);
  rr_buf_dispose(&count_sql);
  rr_buf_dispose(&where);
  rr_buf_dispose(&folded);
  rr_buf_dispose(&names);
  return error;
}

int rr_pg_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize)
{
  list_ctx l = {q, NULL};
  int error;

  *out = NULL;
  if ((error = rr_report_check_query(q, err, errsize)) < 0)
    return error;
  if ((error = rr_pg_report_read(impl, list_tx, &l, err, errsize)) < 0) {
    rr_report_row_list_free(l.list);
    return error;
  }
  *out = l.list;
  return 0;
}

/* ------------------------------------------------------------ has_final */

int rr_pg_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                           char *err, size_t errsize)
{
  /* the referring physicians of the study's final reports ("" rows count
   * when no physician is asked for) */
  static const char sql[] = "SELECT DISTINCT coalesce(s.referring_physician, '') FROM reports r"
                            " LEFT JOIN studies s ON s.study_uid=r.study_uid"
                            " WHERE r.study_uid IN (SELECT $1::text UNION ALL SELECT study_uid FROM studies"
                            " WHERE orthanc_id=$1) AND r.state IN ('final','appended','corrected')";
  PGresult *r = NULL;
  rr_pn_query pq;
  int row, error;
  bool found = false;

  if (study_uid_or_orthanc_id == NULL || study_uid_or_orthanc_id[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  if ((error = rr_pg_run(impl, &r, "read final report", err, errsize, sql, "t", study_uid_or_orthanc_id)) < 0)
    return error;
  if (referring == NULL || referring[0] == '\0') {
    found = PQntuples(r) > 0;
  } else if ((error = rr_pn_query_init(&pq, referring)) == 0) {
    for (row = 0; row < PQntuples(r) && !found; row++)
      found = !rr_pg_null(r, row, 0) && rr_pn_match(&pq, PQgetvalue(r, row, 0));
    rr_pn_query_dispose(&pq);
  } else {
    rr_pn_query_dispose(&pq);
    error = rr_fail(err, errsize, error, "the referring physician is too long");
  }
  PQclear(r);
  if (error == 0)
    *out = found;
  return error;
}

/* ------------------------------------------------------------ timeline */

typedef struct opened_ctx {
  const char *study_uid;
  int64_t now;
} opened_ctx;

static int opened_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char study_sql[] = "SELECT EXISTS(SELECT 1 FROM studies WHERE study_uid=$1)";
  static const char opened_sql[] = "INSERT INTO study_report(study_uid, opened_at) VALUES($1, $2)"
                                   " ON CONFLICT (study_uid) DO UPDATE SET opened_at=$2 WHERE study_report.opened_at=0";
  opened_ctx *a = arg;
  PGresult *r = NULL;
  bool found;
  int error;

  if ((error = rr_pg_query(c, &r, study_sql, "t", a->study_uid)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "find the study");
  found = rr_pg_bool(r, 0, 0);
  PQclear(r);
  if (!found)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  if ((error = rr_pg_query(c, NULL, opened_sql, "ti", a->study_uid, a->now)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "record opened");
  return 0;
}

int rr_pg_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize)
{
  opened_ctx a = {study_uid, now};

  if (study_uid == NULL || study_uid[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  return rr_pg_tx(impl, opened_tx, &a, err, errsize);
}

static int read_timeline(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_timeline *t = elem;
  char mods[RR_MODS_SIZE * 4];

  (void)ctx;
  rr_pg_copy(t->study_uid, sizeof(t->study_uid), r, row, 0);
  t->received_at = rr_pg_int(r, row, 1) * 1000;
  rr_pg_copy(mods, sizeof(mods), r, row, 2);
  rr_report_first_modality(t->modality, sizeof(t->modality), mods);
  t->opened_at = rr_pg_int(r, row, 3);
  t->preliminary_at = rr_pg_int(r, row, 4);
  t->final_at = rr_pg_int(r, row, 5);
  return 0;
}

/* studies.received_at is in seconds: s*1000 >= since <=> s >= ceil(since/1000). */
static int64_t ceil_seconds(int64_t ms)
{
  return ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000);
}

int rr_pg_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                          size_t errsize)
{
  static const char sql[] = "SELECT s.study_uid, min(s.received_at), string_agg(s.modalities, '\\' ORDER BY s.id),"
                            " coalesce(max(r.opened_at),0), coalesce(max(r.preliminary_at),0),"
                            " coalesce(max(r.final_at),0)"
                            " FROM studies s LEFT JOIN study_report r ON r.study_uid=s.study_uid"
                            " WHERE s.received_at>=$1 AND s.received_at<$2 GROUP BY s.study_uid"
                            " ORDER BY min(s.received_at), s.study_uid LIMIT 200000";
  rr_report_timeline_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "timeline", err, errsize, sql, "ii", ceil_seconds(since), ceil_seconds(until))) <
      0)
    return error;
  if ((list = rr_store_list_new(&rr_report_timeline_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_report_timeline_list_kind, list, 64, read_timeline, NULL) < 0) {
    rr_report_timeline_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

/* ------------------------------------------------------------ macros */

#define MACROS_PER_USER 500

static int read_macro(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_macro *m = elem;

  (void)ctx;
  rr_pg_copy(m->name, sizeof(m->name), r, row, 0);
  m->updated_at = rr_pg_int(r, row, 2);
  return (m->text = rr_pg_strdup(r, row, 1)) == NULL ? RR_ENOMEM : 0;
}

int rr_pg_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize)
{
  static const char sql[] = "SELECT name, text, updated_at FROM report_macros WHERE username=$1"
                            " ORDER BY name LIMIT 500";
  rr_macro_list *list = NULL;
  PGresult *r = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "macros", err, errsize, sql, "t", username ? username : "")) < 0)
    return error;
  if ((list = rr_store_list_new(&rr_macro_list_kind)) == NULL ||
      rr_pg_rows(r, &rr_macro_list_kind, list, 8, read_macro, NULL) < 0) {
    rr_macro_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

typedef struct macro_ctx {
  const char *username, *name, *text;
  int64_t now;
} macro_ctx;

static int macro_put_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  /* one writer of a user's macros at a time (the limit holds on every node) */
  static const char lock_sql[] = "SELECT pg_advisory_xact_lock(('x' || substr(md5(current_schema() || '/macros/'"
                                 " || lower($1)), 1, 16))::bit(64)::bigint)";
  static const char count_sql[] = "SELECT count(*), count(*) FILTER (WHERE name=$2) FROM report_macros"
                                  " WHERE username=$1";
  static const char put_sql[] = "INSERT INTO report_macros(username, name, text, updated_at) VALUES($1, $2, $3, $4)"
                                " ON CONFLICT (username, name) DO UPDATE SET text=excluded.text,"
                                " updated_at=excluded.updated_at";
  macro_ctx *m = arg;
  PGresult *r = NULL;
  int64_t count, exists;
  int error;

  if ((error = rr_pg_query(c, NULL, lock_sql, "t", m->username)) < 0 ||
      (error = rr_pg_query(c, &r, count_sql, "tt", m->username, m->name)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "count macros");
  count = rr_pg_int(r, 0, 0);
  exists = rr_pg_int(r, 0, 1);
  PQclear(r);
  if (!exists && count >= MACROS_PER_USER)
    return rr_fail(err, errsize, RR_EFULL, "a user has at most %d macros", MACROS_PER_USER);
  if ((error = rr_pg_query(c, NULL, put_sql, "ttti", m->username, m->name, m->text, m->now)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, RR_ESTORE, c, "write macro");
  return 0;
}

int rr_pg_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                    size_t errsize)
{
  macro_ctx m = {username, name, text ? text : "", now};
  int error;

  if ((error = rr_report_check_macro(username, name, m.text, err, errsize)) < 0)
    return error;
  return rr_pg_tx(impl, macro_put_tx, &m, err, errsize);
}

int rr_pg_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize)
{
  static const char sql[] = "DELETE FROM report_macros WHERE username=$1 AND name=$2 RETURNING 1";
  PGresult *r = NULL;
  int error = rr_pg_run(impl, &r, "remove macro", err, errsize, sql, "tt", username ? username : "",
                        name ? name : "");

  if (error == 0 && PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such macro");
  PQclear(r);
  return error;
}
