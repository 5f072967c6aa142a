/*
 * store_sqlite_report_reads.c - the SQLite backend's reports concern, its
 * reads and small writes besides the lifecycle (store_sqlite_reports.c):
 * the reports list with its study fields, has_final, the reading timeline
 * (opened, timeline) and each user's macros; and rr_pn_match, the SQL
 * function that compares person names the way a referring physician is
 * found (contract in store_reports.h; the rules, shared with the other
 * backends, in report_rules.h; tables in Resources/sqlite/007).
 */
#include <stdlib.h>
#include <string.h>

#include "report_rules.h"
#include "store_sqlite_internal.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"
#include "util/textnorm.h"

/* ------------------------------------------------------------ rr_pn_match */

/* The SQL function rr_pn_match(stored, query): 1 or 0 as rr_pn_match of
 * report_rules.h says (the rules are there, shared by every backend). */
static void pn_match_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *stored = (const char *)sqlite3_value_text(argv[0]);
  const char *query = (const char *)sqlite3_value_text(argv[1]);
  rr_pn_query pq;
  bool match = false;

  (void)argc;
  if (stored == NULL || query == NULL) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  if (rr_pn_query_init(&pq, query) == 0)
    match = rr_pn_match(&pq, stored);
  rr_pn_query_dispose(&pq);
  sqlite3_result_int(ctx, match);
}

int rr_sqlite_register_functions(sqlite3 *db)
{
  return sqlite3_create_function_v2(db, "rr_pn_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, pn_match_fn,
                                    NULL, NULL, NULL) == SQLITE_OK
           ? 0
           : RR_ESTORE;
}

int rr_sqlite_lookup_int(sqlite3 *db, int64_t *out, const char *sql, const char *param, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  *out = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare lookup");
  if (param != NULL)
    rr_sqlite_bind_text(st, 1, param);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *out = sqlite3_column_int64(st, 0);
  else if (rc != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, db, "lookup");
  sqlite3_finalize(st);
  return error;
}

/* ------------------------------------------------------------ the list */

/* The study row of a report: the most recently updated one with its UID. */
#define REPORT_FROM \
  " FROM reports r LEFT JOIN studies s ON s.id=(SELECT x.id FROM studies x WHERE x.study_uid=r.study_uid" \
  " ORDER BY x.updated_at DESC, x.id DESC LIMIT 1)"

/* " FROM ... WHERE ..." of the query into sql (parameters after ?1). */
static int list_where(rr_buf *sql, rr_sqlite_params *p, const rr_report_query *q, rr_buf *folded)
{
  size_t i;
  int error;

  if ((error = rr_buf_puts(sql, REPORT_FROM " WHERE 1")) < 0)
    return error;
  if (q->state_count > 0) {
    if ((error = rr_buf_puts(sql, " AND r.state IN (")) < 0)
      return error;
    for (i = 0; i < q->state_count; i++)
      if ((i > 0 && (error = rr_buf_putc(sql, ',')) < 0) ||
          (error = rr_sqlite_param_add(p, sql, q->states[i], strlen(q->states[i]))) < 0)
        return error;
    if ((error = rr_buf_putc(sql, ')')) < 0)
      return error;
  }
  if (q->patient_id[0] != '\0' && ((error = rr_buf_puts(sql, " AND s.patient_id=")) < 0 ||
                                   (error = rr_sqlite_param_add(p, sql, q->patient_id, strlen(q->patient_id))) < 0))
    return error;
  if (q->referring[0] != '\0' &&
      ((error = rr_buf_puts(sql, " AND rr_pn_match(s.referring_physician, ")) < 0 ||
       (error = rr_sqlite_param_add(p, sql, q->referring, strlen(q->referring))) < 0 ||
       (error = rr_buf_putc(sql, ')')) < 0))
    return error;
  if (q->text[0] != '\0') {
    if ((error = rr_text_fold(folded, q->text, strlen(q->text), false)) < 0)
      return error;
    if ((error = rr_sqlite_where_words(sql, p, "s.id", "T", folded->ptr ? folded->ptr : "")) < 0)
      return error;
  }
  return 0;
}

static int read_row(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_report_row *r = elem;

  (void)ctx;
  r->id = sqlite3_column_int64(st, 0);
  rr_sqlite_column_copy(r->study_uid, sizeof(r->study_uid), st, 1);
  rr_sqlite_column_copy(r->state, sizeof(r->state), st, 2);
  rr_sqlite_column_copy(r->template_id, sizeof(r->template_id), st, 3);
  r->critical = sqlite3_column_int(st, 4) != 0;
  r->acknowledged = sqlite3_column_int(st, 5) != 0;
  rr_sqlite_column_copy(r->patient_name, sizeof(r->patient_name), st, 6);
  rr_sqlite_column_copy(r->patient_id, sizeof(r->patient_id), st, 7);
  rr_sqlite_column_copy(r->patient_birth_date, sizeof(r->patient_birth_date), st, 8);
  rr_sqlite_column_copy(r->study_date, sizeof(r->study_date), st, 9);
  rr_sqlite_column_copy(r->study_description, sizeof(r->study_description), st, 10);
  rr_sqlite_column_copy(r->accession_number, sizeof(r->accession_number), st, 11);
  rr_sqlite_column_copy(r->referring_physician, sizeof(r->referring_physician), st, 12);
  rr_sqlite_column_copy(r->modalities, sizeof(r->modalities), st, 13);
  rr_sqlite_column_copy(r->signed_by, sizeof(r->signed_by), st, 14);
  r->signed_at = sqlite3_column_int64(st, 15);
  r->updated_at = sqlite3_column_int64(st, 16);
  return 0;
}

/* The page: critical results the user has not acknowledged first, then the
 * newest signature, then the latest change. The count is a second
 * statement over the same FROM/WHERE (its parameters from ?2 on; ?1, the
 * user, is bound but unused there). */
int rr_sqlite_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = NULL;
  rr_sqlite_params p = {{0}, 0};
  rr_buf sql, where, folded;
  sqlite3_stmt *st = NULL;
  rr_report_row_list *list = NULL;
  size_t limit = rr_report_query_limit(q);
  int error;

  *out = NULL;
  rr_buf_init(&sql, 32768);
  rr_buf_init(&where, 16384);
  rr_buf_init(&folded, RR_QUERY_VALUE_SIZE * 4);
  if ((error = rr_report_check_query(q, err, errsize)) < 0)
    goto out;
  if ((error = rr_buf_puts(&sql, "SELECT r.id, r.study_uid, r.state, r.template_id, r.critical,"
                                 " EXISTS(SELECT 1 FROM report_acks a WHERE a.report_id=r.id AND a.username=")) < 0 ||
      (error = rr_sqlite_param_add(&p, &sql, q->username, strlen(q->username))) < 0 ||
      (error = rr_buf_puts(&sql, ") AS acked, coalesce(s.patient_name,''), coalesce(s.patient_id,''),"
                                 " coalesce(s.patient_birth_date,''), coalesce(s.study_date,''),"
                                 " coalesce(s.study_description,''), coalesce(s.accession_number,''),"
                                 " coalesce(s.referring_physician,''), coalesce(s.modalities,''), r.signed_by,"
                                 " r.signed_at, r.updated_at")) < 0 ||
      (error = list_where(&where, &p, q, &folded)) < 0 ||
      (error = rr_buf_printf(&sql, "%s ORDER BY (r.critical=1 AND NOT acked) DESC, r.signed_at DESC,"
                                   " r.updated_at DESC, r.id DESC LIMIT %zu OFFSET %zu",
                             where.ptr, limit, q->offset)) < 0) {
    error = rr_fail(err, errsize, error == RR_ENOMEM ? RR_ENOMEM : RR_EINVAL, "reports query too complex");
    goto out;
  }
  if ((list = rr_store_list_new(&rr_report_row_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  c = rr_sqlite_reader_acquire(s);
  if (rr_sqlite_prepare_params(c->db, &st, &sql, &p) < 0) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare reports list");
    goto out;
  }
  if ((error = rr_sqlite_step_rows(st, &rr_report_row_list_kind, list, 16, read_row, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "reports list");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  rr_buf_clear(&sql);
  if (rr_buf_printf(&sql, "SELECT count(*)%s", where.ptr) < 0 || rr_sqlite_prepare_params(c->db, &st, &sql, &p) < 0 ||
      sqlite3_step(st) != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, c->db, "count reports");
    goto out;
  }
  list->total = sqlite3_column_int64(st, 0);
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  if (c != NULL)
    rr_sqlite_reader_release(s, c);
  rr_sqlite_params_free(&p);
  rr_buf_dispose(&sql);
  rr_buf_dispose(&where);
  rr_buf_dispose(&folded);
  rr_report_row_list_free(list);
  return error;
}

/* ------------------------------------------------------------ has_final */

typedef struct final_args {
  const char *study, *referring;
} final_args;

static void bind_final(sqlite3_stmt *st, const void *arg)
{
  const final_args *a = arg;

  rr_sqlite_bind_text(st, 1, a->study);
  rr_sqlite_bind_text(st, 2, a->referring);
}

static int read_bool(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  *(bool *)elem = sqlite3_column_int(st, 0) != 0;
  return 0;
}

int rr_sqlite_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                               char *err, size_t errsize)
{
  final_args a = {study_uid_or_orthanc_id, referring ? referring : ""};
  bool found = false;
  int error;

  if (study_uid_or_orthanc_id == NULL || study_uid_or_orthanc_id[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  error = rr_sqlite_read_row(impl,
                             &(rr_sqlite_sql){"SELECT EXISTS(SELECT 1 FROM reports r WHERE r.study_uid IN"
                                              " (SELECT ?1 UNION ALL SELECT study_uid FROM studies WHERE orthanc_id=?1)"
                                              " AND r.state IN ('final','appended','corrected') AND (?2='' OR EXISTS"
                                              " (SELECT 1 FROM studies s WHERE s.study_uid=r.study_uid AND"
                                              " rr_pn_match(s.referring_physician, ?2))))",
                                              bind_final, &a, "prepare final report", "read final report"},
                             read_bool, &found, NULL, err, errsize);
  if (error == 0)
    *out = found;
  return error;
}

/* ------------------------------------------------------------ timeline */

int rr_sqlite_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int64_t found = 0;
  int error;

  if (study_uid == NULL || study_uid[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a study is required");
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_lookup_int(s->writer.db, &found, "SELECT count(*) FROM studies WHERE study_uid=?1",
                                    study_uid, err, errsize)) == 0 &&
      found == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such study");
  if (error == 0 && rr_sqlite_run(s->writer.db,
                                  "INSERT INTO study_report(study_uid, opened_at) VALUES(?1, ?2)"
                                  " ON CONFLICT(study_uid) DO UPDATE SET opened_at=?2 WHERE opened_at=0",
                                  "ti", study_uid, now) < 0)
    error = rr_sqlite_fail(err, errsize, s->writer.db, "record opened");
  return rr_sqlite_end(s, error, err, errsize);
}

static int read_timeline(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_report_timeline *t = elem;
  char mods[RR_MODS_SIZE * 4];

  (void)ctx;
  rr_sqlite_column_copy(t->study_uid, sizeof(t->study_uid), st, 0);
  t->received_at = sqlite3_column_int64(st, 1) * 1000;
  rr_sqlite_column_copy(mods, sizeof(mods), st, 2);
  rr_report_first_modality(t->modality, sizeof(t->modality), mods);
  t->opened_at = sqlite3_column_int64(st, 3);
  t->preliminary_at = sqlite3_column_int64(st, 4);
  t->final_at = sqlite3_column_int64(st, 5);
  return 0;
}

static void bind_range(sqlite3_stmt *st, const void *arg)
{
  const int64_t *r = arg;

  sqlite3_bind_int64(st, 1, r[0]);
  sqlite3_bind_int64(st, 2, r[1]);
}

/* studies.received_at is in seconds: s*1000 >= since <=> s >= ceil(since/1000). */
static int64_t ceil_seconds(int64_t ms)
{
  return ms >= 0 ? (ms + 999) / 1000 : -((-ms) / 1000);
}

int rr_sqlite_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                              size_t errsize)
{
  rr_sqlite_store *s = impl;
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  rr_report_timeline_list *list = NULL;
  sqlite3_stmt *st = NULL;
  int64_t range[2] = {ceil_seconds(since), ceil_seconds(until)};
  int error = 0;

  *out = NULL;
  if ((list = rr_store_list_new(&rr_report_timeline_list_kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db,
                         "SELECT s.study_uid, min(s.received_at), group_concat(s.modalities, '\\'),"
                         " coalesce(max(r.opened_at),0), coalesce(max(r.preliminary_at),0), coalesce(max(r.final_at),0)"
                         " FROM studies s LEFT JOIN study_report r ON r.study_uid=s.study_uid"
                         " WHERE s.received_at>=?1 AND s.received_at<?2 GROUP BY s.study_uid"
                         " ORDER BY min(s.received_at), s.study_uid LIMIT 200000",
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, "prepare timeline");
    goto out;
  }
  bind_range(st, range);
  if ((error = rr_sqlite_step_rows(st, &rr_report_timeline_list_kind, list, 64, read_timeline, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, "timeline");
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_report_timeline_list_free(list);
  return error;
}

/* ------------------------------------------------------------ macros */

#define MACROS_PER_USER 500

static int read_macro(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_macro *m = elem;
  const unsigned char *t = sqlite3_column_text(st, 1);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, 1) : 0;

  (void)ctx;
  rr_sqlite_column_copy(m->name, sizeof(m->name), st, 0);
  m->updated_at = sqlite3_column_int64(st, 2);
  if ((m->text = malloc(n + 1)) == NULL)
    return RR_ENOMEM;
  if (n > 0)
    memcpy(m->text, t, n);
  m->text[n] = '\0';
  return 0;
}

int rr_sqlite_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize)
{
  void *list = NULL;
  int error = rr_sqlite_read_list(impl, &list, &rr_macro_list_kind, 8,
                                  "SELECT name, text, updated_at FROM report_macros WHERE username=?1"
                                  " ORDER BY name LIMIT 500",
                                  username, read_macro, "macros", err, errsize);

  *out = list;
  return error;
}

int rr_sqlite_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                        size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db = s->writer.db;
  sqlite3_stmt *st = NULL;
  int64_t count = 0, exists = 0;
  int error;

  if ((error = rr_report_check_macro(username, name, text ? text : "", err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(name=?2), 0) FROM report_macros WHERE username=?1", -1,
                         &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare macros");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, username);
  rr_sqlite_bind_text(st, 2, name);
  if (sqlite3_step(st) != SQLITE_ROW) {
    error = rr_sqlite_fail(err, errsize, db, "count macros");
    goto out;
  }
  count = sqlite3_column_int64(st, 0);
  exists = sqlite3_column_int64(st, 1);
  if (!exists && count >= MACROS_PER_USER) {
    error = rr_fail(err, errsize, RR_EFULL, "a user has at most %d macros", MACROS_PER_USER);
    goto out;
  }
  if (rr_sqlite_run(db,
                    "INSERT INTO report_macros(username, name, text, updated_at) VALUES(?1, ?2, ?3, ?4)"
                    " ON CONFLICT(username, name) DO UPDATE SET text=excluded.text, updated_at=excluded.updated_at",
                    "ttti", username, name, text ? text : "", now) < 0)
    error = rr_sqlite_fail(err, errsize, db, "write macro");
out:
  sqlite3_finalize(st);
  return rr_sqlite_end(s, error, err, errsize);
}

typedef struct macro_key {
  const char *username, *name;
} macro_key;

static void bind_macro_key(sqlite3_stmt *st, const void *arg)
{
  const macro_key *k = arg;

  rr_sqlite_bind_text(st, 1, k->username);
  rr_sqlite_bind_text(st, 2, k->name);
}

int rr_sqlite_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize)
{
  macro_key k = {username, name};
  int64_t changes = 0;
  int error = rr_sqlite_write_row(impl,
                                  &(rr_sqlite_sql){"DELETE FROM report_macros WHERE username=?1 AND name=?2",
                                                   bind_macro_key, &k, "prepare macro", "remove macro"},
                                  NULL, &changes, err, errsize);

  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such macro");
  return error;
}
