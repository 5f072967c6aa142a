/*
 * store_sqlite_ai.c - the SQLite backend's AI concern: analyses (the job
 * queue and its results), reviews and their history, usage counts.
 */
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_internal.h"
#include "util/errors.h"
#include "util/str.h"

/* ------------------------------------------------------------ AI analyses */

#define AI_COLUMNS \
  "id, study_uid, orthanc_study_id, provider, model_requested, model_version, status, requested_by, requested_at," \
  " started_at, finished_at, attempts, summary, findings_json, ai_confidence, images_json, prompt_version," \
  " schema_version, prompt_tokens, completion_tokens, latency_ms, cost, error, raw_text, review_status, reviewed_by," \
  " reviewed_at, radiologist_notes, ai_confidence_band"

static char *column_dup(sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;
  char *p = malloc(n + 1);

  if (p != NULL) {
    if (n > 0)
      memcpy(p, t, n);
    p[n] = '\0';
  }
  return p;
}

static int read_ai(rr_ai_analysis *a, sqlite3_stmt *st)
{
  memset(a, 0, sizeof(*a));
  rr_sqlite_column_copy(a->id, sizeof(a->id), st, 0);
  rr_sqlite_column_copy(a->study_uid, sizeof(a->study_uid), st, 1);
  rr_sqlite_column_copy(a->orthanc_study_id, sizeof(a->orthanc_study_id), st, 2);
  rr_sqlite_column_copy(a->provider, sizeof(a->provider), st, 3);
  rr_sqlite_column_copy(a->model_requested, sizeof(a->model_requested), st, 4);
  rr_sqlite_column_copy(a->model_version, sizeof(a->model_version), st, 5);
  rr_sqlite_column_copy(a->status, sizeof(a->status), st, 6);
  rr_sqlite_column_copy(a->requested_by, sizeof(a->requested_by), st, 7);
  a->requested_at = sqlite3_column_int64(st, 8);
  a->started_at = sqlite3_column_int64(st, 9);
  a->finished_at = sqlite3_column_int64(st, 10);
  a->attempts = sqlite3_column_int64(st, 11);
  a->summary = column_dup(st, 12);
  a->findings_json = column_dup(st, 13);
  a->has_ai_confidence_score = sqlite3_column_type(st, 14) != SQLITE_NULL;
  a->ai_confidence_score = sqlite3_column_double(st, 14);
  a->images_json = column_dup(st, 15);
  rr_sqlite_column_copy(a->prompt_version, sizeof(a->prompt_version), st, 16);
  rr_sqlite_column_copy(a->schema_version, sizeof(a->schema_version), st, 17);
  a->prompt_tokens = sqlite3_column_int64(st, 18);
  a->completion_tokens = sqlite3_column_int64(st, 19);
  a->latency_ms = sqlite3_column_int64(st, 20);
  a->cost = sqlite3_column_double(st, 21);
  a->error = column_dup(st, 22);
  a->raw_text = column_dup(st, 23);
  rr_sqlite_column_copy(a->review_status, sizeof(a->review_status), st, 24);
  rr_sqlite_column_copy(a->reviewed_by, sizeof(a->reviewed_by), st, 25);
  a->reviewed_at = sqlite3_column_int64(st, 26);
  a->radiologist_notes = column_dup(st, 27);
  rr_sqlite_column_copy(a->ai_confidence, sizeof(a->ai_confidence), st, 28);
  if (!a->summary || !a->findings_json || !a->images_json || !a->error || !a->raw_text || !a->radiologist_notes) {
    rr_ai_analysis_dispose(a);
    return RR_ENOMEM;
  }
  return 0;
}

static void bind_ai(sqlite3_stmt *st, const void *arg)
{
  const rr_ai_analysis *a = arg;

  rr_sqlite_bind_text(st, 1, a->id);
  rr_sqlite_bind_text(st, 2, a->study_uid);
  rr_sqlite_bind_text(st, 3, a->orthanc_study_id);
  rr_sqlite_bind_text(st, 4, a->provider);
  rr_sqlite_bind_text(st, 5, a->model_requested);
  rr_sqlite_bind_text(st, 6, a->model_version);
  rr_sqlite_bind_text(st, 7, a->status);
  rr_sqlite_bind_text(st, 8, a->requested_by);
  sqlite3_bind_int64(st, 9, a->requested_at);
  sqlite3_bind_int64(st, 10, a->started_at);
  sqlite3_bind_int64(st, 11, a->finished_at);
  sqlite3_bind_int64(st, 12, a->attempts);
  rr_sqlite_bind_text(st, 13, a->summary);
  rr_sqlite_bind_text(st, 14, a->findings_json);
  if (a->has_ai_confidence_score)
    sqlite3_bind_double(st, 15, a->ai_confidence_score);
  else
    sqlite3_bind_null(st, 15);
  rr_sqlite_bind_text(st, 16, a->images_json ? a->images_json : "[]");
  rr_sqlite_bind_text(st, 17, a->prompt_version);
  rr_sqlite_bind_text(st, 18, a->schema_version);
  sqlite3_bind_int64(st, 19, a->prompt_tokens);
  sqlite3_bind_int64(st, 20, a->completion_tokens);
  sqlite3_bind_int64(st, 21, a->latency_ms);
  sqlite3_bind_double(st, 22, a->cost);
  rr_sqlite_bind_text(st, 23, a->error);
  rr_sqlite_bind_text(st, 24, a->raw_text);
  rr_sqlite_bind_text(st, 25, a->review_status[0] ? a->review_status : "pending");
  rr_sqlite_bind_text(st, 26, a->reviewed_by);
  sqlite3_bind_int64(st, 27, a->reviewed_at);
  rr_sqlite_bind_text(st, 28, a->radiologist_notes);
  rr_sqlite_bind_text(st, 29, a->ai_confidence);
}

static int write_ai(rr_sqlite_store *s, const char *sql, const rr_ai_analysis *a, int64_t *changes, char *err, size_t errsize)
{
  return rr_sqlite_write_row(s, &(rr_sqlite_sql){sql, bind_ai, a, "prepare analysis", "write analysis"},
                             "an analysis with this id exists already", changes, err, errsize);
}

static int sqlite_ai_create(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  int64_t changes = 0;

  if (a->id[0] == '\0' || a->study_uid[0] == '\0' || a->status[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "an analysis needs an id, a study and a status");
  return write_ai(impl, "INSERT INTO ai_analyses(" AI_COLUMNS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,"
                        "?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29)",
                  a, &changes, err, errsize);
}

static int sqlite_ai_update(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  int64_t changes = 0;
  int error;

  error = write_ai(impl,
                   "UPDATE ai_analyses SET orthanc_study_id=?3, provider=?4, model_requested=?5, model_version=?6,"
                   " status=?7, started_at=?10, finished_at=?11, attempts=?12, summary=?13, findings_json=?14,"
                   " ai_confidence=?15, images_json=?16, prompt_version=?17, schema_version=?18, prompt_tokens=?19,"
                   " completion_tokens=?20, latency_ms=?21, cost=?22, error=?23, raw_text=?24, review_status=?25,"
                   " reviewed_by=?26, reviewed_at=?27, radiologist_notes=?28, ai_confidence_band=?29"
                   " WHERE id=?1",
                   a, &changes, err, errsize);
  if (error == 0 && changes == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  return error;
}

static int read_ai_row(void *elem, sqlite3_stmt *st, void *ctx)
{
  (void)ctx;
  return read_ai(elem, st);
}

static int sqlite_ai_get(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_sqlite_read_row(impl,
                             &(rr_sqlite_sql){"SELECT " AI_COLUMNS " FROM ai_analyses WHERE id=?1", rr_sqlite_bind_text1,
                                              id, "prepare analysis", "read analysis"},
                             read_ai_row, out, NULL, err, errsize);
  return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis") : error;
}

static int sqlite_ai_list_study(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_ai_list_kind, 8,
                                  "SELECT " AI_COLUMNS " FROM ai_analyses WHERE study_uid=?1"
                                  " ORDER BY requested_at DESC, rowid DESC LIMIT 1000",
                                  study_uid, read_ai_row, "analyses", err, errsize);

  *out = list;
  return error;
}

static int sqlite_ai_claim_next(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int rc, error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  db = s->writer.db;
  if (sqlite3_prepare_v2(db,
                         "UPDATE ai_analyses SET status='running', started_at=?1, attempts=attempts+1 WHERE id="
                         "(SELECT id FROM ai_analyses WHERE status='queued' ORDER BY requested_at, rowid LIMIT 1)"
                         " RETURNING " AI_COLUMNS,
                         -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare claim");
    goto out;
  }
  sqlite3_bind_int64(st, 1, now);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if ((error = read_ai(out, st)) < 0) {
      error = rr_fail(err, errsize, error, "out of memory");
      goto out;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
      ;
  } else if (rc == SQLITE_DONE) {
    error = RR_ENOTFOUND;
    goto out;
  } else {
    error = rr_sqlite_fail(err, errsize, db, "claim");
    goto out;
  }
out:
  sqlite3_finalize(st);
  error = rr_sqlite_end(s, error, err, errsize);
  if (error < 0)
    rr_ai_analysis_dispose(out);
  return error;
}

static int sqlite_ai_recover(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  int error;

  *requeued = 0;
  pthread_mutex_lock(&s->write_lock);
  error = rr_sqlite_run_ids(s->writer.db,
                  "UPDATE ai_analyses SET status='failed', finished_at=?1, error='the analysis was interrupted "
                  "3 times (Orthanc stopped while it ran); not retried' WHERE status='running' AND attempts>=3",
                  now, 0, err, errsize);
  if (error == 0)
    error = rr_sqlite_run_ids(s->writer.db, "UPDATE ai_analyses SET status='queued', started_at=0 WHERE status='running'",
                    now, 0, err, errsize);
  if (error == 0)
    *requeued = sqlite3_changes(s->writer.db);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

typedef struct abandon_arg {
  int64_t now;
  const char *reason;
} abandon_arg;

static void bind_abandon(sqlite3_stmt *st, const void *arg)
{
  const abandon_arg *a = arg;

  sqlite3_bind_int64(st, 1, a->now);
  rr_sqlite_bind_text(st, 2, a->reason);
}

static int sqlite_ai_abandon(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  abandon_arg arg = {now, reason};

  *count = 0;
  return rr_sqlite_write_row(impl,
                             &(rr_sqlite_sql){"UPDATE ai_analyses SET status='failed', finished_at=?1, error=?2"
                                              " WHERE status IN ('queued','running')",
                                              bind_abandon, &arg, "prepare abandon", "abandon"},
                             NULL, count, err, errsize);
}

static int sqlite_ai_review_add(void *impl, const rr_ai_review *r, const char *notes, char *err, size_t errsize)
{
  rr_sqlite_store *s = impl;
  sqlite3 *db;
  sqlite3_stmt *st = NULL;
  int error;

  if ((error = rr_sqlite_begin(s, err, errsize)) < 0)
    return error;
  db = s->writer.db;
  if (sqlite3_prepare_v2(db, "UPDATE ai_analyses SET review_status=?2, reviewed_by=?3, reviewed_at=?4,"
                         " radiologist_notes=?5 WHERE id=?1", -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare review");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, r->analysis_id);
  rr_sqlite_bind_text(st, 2, r->review_status);
  rr_sqlite_bind_text(st, 3, r->reviewer);
  sqlite3_bind_int64(st, 4, r->at);
  rr_sqlite_bind_text(st, 5, notes ? notes : "");
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, db, "review");
    goto out;
  }
  if (sqlite3_changes(db) == 0) {
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (sqlite3_prepare_v2(db, "INSERT INTO ai_reviews(analysis_id, at, reviewer, review_status, notes, feedback_json)"
                         " VALUES(?1,?2,?3,?4,?5,?6)", -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, db, "prepare review history");
    goto out;
  }
  rr_sqlite_bind_text(st, 1, r->analysis_id);
  sqlite3_bind_int64(st, 2, r->at);
  rr_sqlite_bind_text(st, 3, r->reviewer);
  rr_sqlite_bind_text(st, 4, r->review_status);
  rr_sqlite_bind_text(st, 5, r->notes);
  rr_sqlite_bind_text(st, 6, r->feedback_json ? r->feedback_json : "[]");
  if (sqlite3_step(st) != SQLITE_DONE) {
    error = rr_sqlite_fail(err, errsize, db, "review history");
    goto out;
  }
out:
  sqlite3_finalize(st);
  error = rr_sqlite_end(s, error, err, errsize);
  return error;
}

static int read_review(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_ai_review *r = elem;

  (void)ctx;
  r->seq = sqlite3_column_int64(st, 0);
  rr_sqlite_column_copy(r->analysis_id, sizeof(r->analysis_id), st, 1);
  r->at = sqlite3_column_int64(st, 2);
  rr_sqlite_column_copy(r->reviewer, sizeof(r->reviewer), st, 3);
  rr_sqlite_column_copy(r->review_status, sizeof(r->review_status), st, 4);
  r->notes = column_dup(st, 5);
  r->feedback_json = column_dup(st, 6);
  return r->notes == NULL || r->feedback_json == NULL ? RR_ENOMEM : 0;
}

static int sqlite_ai_review_history(void *impl, rr_ai_review_list **out, const char *id, char *err, size_t errsize)
{
  void *list;
  int error = rr_sqlite_read_list(impl, &list, &rr_ai_review_list_kind, 8,
                                  "SELECT seq, analysis_id, at, reviewer, review_status, notes, feedback_json"
                                  " FROM ai_reviews WHERE analysis_id=?1 ORDER BY seq",
                                  id, read_review, "review history", err, errsize);

  *out = list;
  return error;
}

static int read_counts(void *elem, sqlite3_stmt *st, void *ctx)
{
  rr_ai_counts *out = elem;

  (void)ctx;
  out->queued = sqlite3_column_int64(st, 0);
  out->running = sqlite3_column_int64(st, 1);
  out->completed = sqlite3_column_int64(st, 2);
  out->failed = sqlite3_column_int64(st, 3);
  out->other = sqlite3_column_int64(st, 4);
  out->prompt_tokens = sqlite3_column_int64(st, 5);
  out->completion_tokens = sqlite3_column_int64(st, 6);
  out->cost = sqlite3_column_double(st, 7);
  out->analyses = sqlite3_column_int64(st, 8);
  out->images_sent = sqlite3_column_int64(st, 9);
  return 0;
}

static int sqlite_ai_counts(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  static const char sql[] =
    "SELECT coalesce(sum(status='queued'),0), coalesce(sum(status='running'),0),"
    " coalesce(sum(status='completed'),0), coalesce(sum(status='failed'),0),"
    " coalesce(sum(status NOT IN ('queued','running','completed','failed')),0),"
    " coalesce(sum(CASE WHEN requested_at>=?1 THEN prompt_tokens END),0),"
    " coalesce(sum(CASE WHEN requested_at>=?1 THEN completion_tokens END),0),"
    " coalesce(sum(CASE WHEN requested_at>=?1 THEN cost END),0),"
    " coalesce(sum(requested_at>=?1),0),"
    " coalesce(sum(CASE WHEN requested_at>=?1 AND json_valid(images_json)"
    " THEN json_array_length(images_json) END),0) FROM ai_analyses";
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_sqlite_read_row(impl, &(rr_sqlite_sql){sql, rr_sqlite_bind_int1, &since, "prepare AI counts", "AI counts"},
                             read_counts, out, NULL, err, errsize);
  /* an aggregate always has its row */
  return error == RR_ENOTFOUND ? rr_fail(err, errsize, RR_ESTORE, "sqlite: AI counts: no row") : error;
}

const rr_store_ai_ops rr_sqlite_ai_ops = {
  .create = sqlite_ai_create,
  .get = sqlite_ai_get,
  .update = sqlite_ai_update,
  .list_study = sqlite_ai_list_study,
  .claim_next = sqlite_ai_claim_next,
  .recover = sqlite_ai_recover,
  .abandon = sqlite_ai_abandon,
  .review_add = sqlite_ai_review_add,
  .review_history = sqlite_ai_review_history,
  .counts = sqlite_ai_counts,
};
