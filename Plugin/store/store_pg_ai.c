/*
 * store_pg_ai.c - the PostgreSQL backend's AI concern: analyses (the job
 * queue and its results), reviews and their history, usage counts, as the
 * SQLite backend (store_sqlite_ai.c) does.
 *
 * Several nodes share one queue: a claim takes the oldest queued analysis
 * with FOR UPDATE SKIP LOCKED and marks it running in the same statement,
 * so each analysis is claimed exactly once whichever node asks. Each
 * study's AI state (study_ai, read by the worklist) is kept by a trigger of
 * 003_ai.sql in the transaction of every write. Writes run in rr_pg_tx so
 * that a deadlock or serialization failure is retried.
 */
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define AI_COLUMNS \
  "id, study_uid, orthanc_study_id, provider, model_requested, model_version, status, requested_by, requested_at," \
  " started_at, finished_at, attempts, summary, findings_json, ai_confidence, images_json, prompt_version," \
  " schema_version, prompt_tokens, completion_tokens, latency_ms, cost, error, raw_text, review_status, reviewed_by," \
  " reviewed_at, radiologist_notes, ai_confidence_band"

/* $1..$29 in AI_COLUMNS order ($15, the optional score, as text or NULL) */
#define AI_TYPES "ttttttttiiiittntttiiidttttitt"

static int read_ai(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_ai_analysis *a = elem;

  (void)ctx;
  memset(a, 0, sizeof(*a));
  rr_pg_copy(a->id, sizeof(a->id), r, row, 0);
  rr_pg_copy(a->study_uid, sizeof(a->study_uid), r, row, 1);
  rr_pg_copy(a->orthanc_study_id, sizeof(a->orthanc_study_id), r, row, 2);
  rr_pg_copy(a->provider, sizeof(a->provider), r, row, 3);
  rr_pg_copy(a->model_requested, sizeof(a->model_requested), r, row, 4);
  rr_pg_copy(a->model_version, sizeof(a->model_version), r, row, 5);
  rr_pg_copy(a->status, sizeof(a->status), r, row, 6);
  rr_pg_copy(a->requested_by, sizeof(a->requested_by), r, row, 7);
  a->requested_at = rr_pg_int(r, row, 8);
  a->started_at = rr_pg_int(r, row, 9);
  a->finished_at = rr_pg_int(r, row, 10);
  a->attempts = rr_pg_int(r, row, 11);
  a->summary = rr_pg_strdup(r, row, 12);
  a->findings_json = rr_pg_strdup(r, row, 13);
  a->has_ai_confidence_score = !rr_pg_null(r, row, 14);
  a->ai_confidence_score = rr_pg_double(r, row, 14);
  a->images_json = rr_pg_strdup(r, row, 15);
  rr_pg_copy(a->prompt_version, sizeof(a->prompt_version), r, row, 16);
  rr_pg_copy(a->schema_version, sizeof(a->schema_version), r, row, 17);
  a->prompt_tokens = rr_pg_int(r, row, 18);
  a->completion_tokens = rr_pg_int(r, row, 19);
  a->latency_ms = rr_pg_int(r, row, 20);
  a->cost = rr_pg_double(r, row, 21);
  a->error = rr_pg_strdup(r, row, 22);
  a->raw_text = rr_pg_strdup(r, row, 23);
  rr_pg_copy(a->review_status, sizeof(a->review_status), r, row, 24);
  rr_pg_copy(a->reviewed_by, sizeof(a->reviewed_by), r, row, 25);
  a->reviewed_at = rr_pg_int(r, row, 26);
  a->radiologist_notes = rr_pg_strdup(r, row, 27);
  rr_pg_copy(a->ai_confidence, sizeof(a->ai_confidence), r, row, 28);
  if (!a->summary || !a->findings_json || !a->images_json || !a->error || !a->raw_text || !a->radiologist_notes) {
    rr_ai_analysis_dispose(a);
    return RR_ENOMEM;
  }
  return 0;
}

typedef struct write_ctx {
  const char *sql;
  const rr_ai_analysis *a;
  int64_t rows; /* rows the statement returned */
} write_ctx;

/* One write of an analysis bound as $1..$29. */
static int write_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  write_ctx *w = arg;
  const rr_ai_analysis *a = w->a;
  char score[32];
  PGresult *r = NULL;
  int error;

  w->rows = 0;
  if (a->has_ai_confidence_score)
    snprintf(score, sizeof(score), "%.17g", a->ai_confidence_score);
  error = rr_pg_query(c, &r, w->sql, AI_TYPES, a->id, a->study_uid, a->orthanc_study_id, a->provider,
                      a->model_requested, a->model_version, a->status, a->requested_by, a->requested_at,
                      a->started_at, a->finished_at, a->attempts, a->summary, a->findings_json,
                      a->has_ai_confidence_score ? score : (const char *)NULL,
                      a->images_json ? a->images_json : "[]", a->prompt_version, a->schema_version, a->prompt_tokens,
                      a->completion_tokens, a->latency_ms, a->cost, a->error, a->raw_text,
                      a->review_status[0] ? a->review_status : "pending", a->reviewed_by, a->reviewed_at,
                      a->radiologist_notes, a->ai_confidence);
  if (error == RR_EEXISTS)
    return rr_fail(err, errsize, RR_EEXISTS, "an analysis with this id exists already");
  if (error < 0)
    return rr_pg_fail(err, errsize, error, c, "write analysis");
  w->rows = PQntuples(r);
  PQclear(r);
  return 0;
}

static int pg_ai_create(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO ai_analyses(" AI_COLUMNS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
                            "$14,$15::double precision,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29)";
  write_ctx w = {sql, a, 0};

  if (a->id[0] == '\0' || a->study_uid[0] == '\0' || a->status[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "an analysis needs an id, a study and a status");
  return rr_pg_tx(impl, write_tx, &w, err, errsize);
}

static int pg_ai_update(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  /* $2, $8 and $9 (study, request) are not written; the IS NOT NULL tests keep their types known */
  static const char sql[] =
    "UPDATE ai_analyses SET orthanc_study_id=$3, provider=$4, model_requested=$5, model_version=$6,"
    " status=$7, started_at=$10, finished_at=$11, attempts=$12, summary=$13, findings_json=$14,"
    " ai_confidence=$15::double precision, images_json=$16, prompt_version=$17, schema_version=$18,"
    " prompt_tokens=$19, completion_tokens=$20, latency_ms=$21, cost=$22, error=$23, raw_text=$24,"
    " review_status=$25, reviewed_by=$26, reviewed_at=$27, radiologist_notes=$28, ai_confidence_band=$29"
    " WHERE id=$1 AND ($2::text IS NOT NULL) AND ($8::text IS NOT NULL) AND ($9::bigint IS NOT NULL) RETURNING 1";
  write_ctx w = {sql, a, 0};
  int error = rr_pg_tx(impl, write_tx, &w, err, errsize);

  if (error == 0 && w.rows == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  return error;
}

static int pg_ai_get(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize)
{
  static const char sql[] = "SELECT " AI_COLUMNS " FROM ai_analyses WHERE id=$1";
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "read analysis", err, errsize, sql, "t", id)) < 0)
    return error;
  if (PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  else if (read_ai(out, r, 0, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

/* A list of `kind` from the rows of a one-text-parameter query. */
static int read_list(rr_pg_store *s, void **out, const rr_store_list_kind *kind, const char *sql, const char *param,
                     rr_pg_row_reader read, const char *what, char *err, size_t errsize)
{
  PGresult *r = NULL;
  void *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(s, &r, what, err, errsize, sql, "t", param)) < 0)
    return error;
  if ((list = rr_store_list_new(kind)) == NULL || rr_pg_rows(r, kind, list, 8, read, NULL) < 0) {
    rr_store_list_free(kind, list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

static int pg_ai_list_study(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize)
{
  static const char sql[] = "SELECT " AI_COLUMNS " FROM ai_analyses WHERE study_uid=$1"
                            " ORDER BY requested_at DESC, seq DESC LIMIT 1000";
  void *list = NULL;
  int error = read_list(impl, &list, &rr_ai_list_kind, sql, study_uid, read_ai, "analyses", err, errsize);

  *out = list;
  return error;
}

typedef struct claim_ctx {
  rr_ai_analysis *out;
  int64_t now;
} claim_ctx;

static int claim_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  /* the oldest queued analysis no other node holds, taken in one statement */
  static const char sql[] =
    "UPDATE ai_analyses SET status='running', started_at=$1, attempts=attempts+1 WHERE id="
    "(SELECT id FROM ai_analyses WHERE status='queued' ORDER BY requested_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING " AI_COLUMNS;
  claim_ctx *k = arg;
  PGresult *r = NULL;
  int error;

  rr_ai_analysis_dispose(k->out);
  if ((error = rr_pg_query(c, &r, sql, "i", k->now)) < 0)
    return rr_pg_fail(err, errsize, error, c, "claim");
  if (PQntuples(r) == 0)
    error = RR_ENOTFOUND;
  else if (read_ai(k->out, r, 0, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

static int pg_ai_claim_next(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  claim_ctx k = {out, now};
  int error;

  memset(out, 0, sizeof(*out));
  error = rr_pg_tx(impl, claim_tx, &k, err, errsize);
  if (error < 0)
    rr_ai_analysis_dispose(out);
  return error;
}

typedef struct count_ctx {
  int64_t *count;
  int64_t now;
  const char *reason;
} count_ctx;

static int recover_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char fail_sql[] =
    "UPDATE ai_analyses SET status='failed', finished_at=$1, error='the analysis was interrupted "
    "3 times (Orthanc stopped while it ran); not retried' WHERE status='running' AND attempts>=3";
  static const char requeue_sql[] =
    "UPDATE ai_analyses SET status='queued', started_at=0 WHERE status='running' AND ($1::bigint IS NOT NULL)";
  count_ctx *k = arg;
  PGresult *r = NULL;
  int error;

  *k->count = 0;
  if ((error = rr_pg_query(c, NULL, fail_sql, "i", k->now)) < 0 ||
      (error = rr_pg_query(c, &r, requeue_sql, "i", k->now)) < 0)
    return rr_pg_fail(err, errsize, error, c, "recover analyses");
  *k->count = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

static int pg_ai_recover(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  count_ctx k = {requeued, now, NULL};
  int error = rr_pg_tx(impl, recover_tx, &k, err, errsize);

  if (error < 0)
    *requeued = 0;
  return error;
}

static int abandon_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char sql[] = "UPDATE ai_analyses SET status='failed', finished_at=$1, error=$2"
                            " WHERE status IN ('queued','running')";
  count_ctx *k = arg;
  PGresult *r = NULL;
  int error;

  *k->count = 0;
  if ((error = rr_pg_query(c, &r, sql, "it", k->now, k->reason)) < 0)
    return rr_pg_fail(err, errsize, error, c, "abandon");
  *k->count = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

static int pg_ai_abandon(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  count_ctx k = {count, now, reason};
  int error = rr_pg_tx(impl, abandon_tx, &k, err, errsize);

  if (error < 0)
    *count = 0;
  return error;
}

typedef struct review_ctx {
  const rr_ai_review *r;
  const char *notes;
} review_ctx;

static int review_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char update_sql[] = "UPDATE ai_analyses SET review_status=$2, reviewed_by=$3, reviewed_at=$4,"
                                   " radiologist_notes=$5 WHERE id=$1 RETURNING 1";
  static const char insert_sql[] = "INSERT INTO ai_reviews(analysis_id, at, reviewer, review_status, notes,"
                                   " feedback_json) VALUES($1,$2,$3,$4,$5,$6)";
  review_ctx *k = arg;
  const rr_ai_review *rv = k->r;
  PGresult *r = NULL;
  int error, found;

  if ((error = rr_pg_query(c, &r, update_sql, "tttit", rv->analysis_id, rv->review_status, rv->reviewer, rv->at,
                           k->notes ? k->notes : "")) < 0)
    return rr_pg_fail(err, errsize, error, c, "review");
  found = PQntuples(r) > 0;
  PQclear(r);
  if (!found)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  if ((error = rr_pg_query(c, NULL, insert_sql, "tittt" "t", rv->analysis_id, rv->at, rv->reviewer, rv->review_status,
                           rv->notes, rv->feedback_json ? rv->feedback_json : "[]")) < 0)
    return rr_pg_fail(err, errsize, error, c, "review history");
  return 0;
}

static int pg_ai_review_add(void *impl, const rr_ai_review *r, const char *notes, char *err, size_t errsize)
{
  review_ctx k = {r, notes};

  return rr_pg_tx(impl, review_tx, &k, err, errsize);
}

static int read_review(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_ai_review *rv = elem;

  (void)ctx;
  rv->seq = rr_pg_int(r, row, 0);
  rr_pg_copy(rv->analysis_id, sizeof(rv->analysis_id), r, row, 1);
  rv->at = rr_pg_int(r, row, 2);
  rr_pg_copy(rv->reviewer, sizeof(rv->reviewer), r, row, 3);
  rr_pg_copy(rv->review_status, sizeof(rv->review_status), r, row, 4);
  rv->notes = rr_pg_strdup(r, row, 5);
  rv->feedback_json = rr_pg_strdup(r, row, 6);
  return rv->notes == NULL || rv->feedback_json == NULL ? RR_ENOMEM : 0;
}

static int pg_ai_review_history(void *impl, rr_ai_review_list **out, const char *id, char *err, size_t errsize)
{
  static const char sql[] = "SELECT seq, analysis_id, at, reviewer, review_status, notes, feedback_json"
                            " FROM ai_reviews WHERE analysis_id=$1 ORDER BY seq";
  void *list = NULL;
  int error = read_list(impl, &list, &rr_ai_review_list_kind, sql, id, read_review, "review history", err, errsize);

  *out = list;
  return error;
}

static int pg_ai_counts(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize)
{
  static const char sql[] =
    "SELECT count(*) FILTER (WHERE status='queued'), count(*) FILTER (WHERE status='running'),"
    " count(*) FILTER (WHERE status='completed'), count(*) FILTER (WHERE status='failed'),"
    " count(*) FILTER (WHERE status NOT IN ('queued','running','completed','failed')),"
    " coalesce(sum(prompt_tokens) FILTER (WHERE requested_at>=$1),0),"
    " coalesce(sum(completion_tokens) FILTER (WHERE requested_at>=$1),0),"
    " coalesce(sum(cost) FILTER (WHERE requested_at>=$1),0),"
    " count(*) FILTER (WHERE requested_at>=$1),"
    " coalesce(sum(rr_json_array_count(images_json)) FILTER (WHERE requested_at>=$1),0) FROM ai_analyses";
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "AI counts", err, errsize, sql, "i", since)) < 0)
    return error;
  if (PQntuples(r) == 0) {
    PQclear(r);
    return rr_fail(err, errsize, RR_ESTORE, "postgresql: AI counts: no row");
  }
  out->queued = rr_pg_int(r, 0, 0);
  out->running = rr_pg_int(r, 0, 1);
  out->completed = rr_pg_int(r, 0, 2);
  out->failed = rr_pg_int(r, 0, 3);
  out->other = rr_pg_int(r, 0, 4);
  out->prompt_tokens = rr_pg_int(r, 0, 5);
  out->completion_tokens = rr_pg_int(r, 0, 6);
  out->cost = rr_pg_double(r, 0, 7);
  out->analyses = rr_pg_int(r, 0, 8);
  out->images_sent = rr_pg_int(r, 0, 9);
  PQclear(r);
  return 0;
}

const rr_store_ai_ops rr_pg_ai_ops = {
  .create = pg_ai_create,
  .get = pg_ai_get,
  .update = pg_ai_update,
  .list_study = pg_ai_list_study,
  .claim_next = pg_ai_claim_next,
  .recover = pg_ai_recover,
  .abandon = pg_ai_abandon,
  .review_add = pg_ai_review_add,
  .review_history = pg_ai_review_history,
  .counts = pg_ai_counts,
};
