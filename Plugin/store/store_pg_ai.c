/*
 * store_pg_ai.c - the PostgreSQL backend's AI concern: analyses (the job
 * queue and its results), reviews and their history, usage counts, as the
 * SQLite backend (store_sqlite_ai.c) does.
 *
 * Several nodes run AI workers on one queue: a claim takes the oldest queued
 * analysis with FOR UPDATE SKIP LOCKED, so each is claimed by exactly one
 * node, and records the claiming node (its id and lease, store_pg_cluster.c).
 * recover, called when a node starts (before its workers claim anything),
 * requeues only the running analyses of nodes that are gone and its own,
 * never those another live node is running. sweep, called periodically by
 * every living node's AI worker (ai/jobs.c), requeues only those of nodes
 * that are gone (never its own: its workers are running them), so a killed
 * node's analysis is taken over while the others keep running; it first
 * makes sure this node still holds its own lease (taken again after a lost
 * connection), so that the others do not take it for gone; claim_next does
 * the same before each claim. A node whose claim was requeued while its
 * lease was lost sees so before it writes (ai/jobs.c) and drops its result.
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

/* Run a write with the analysis as $1..$29 in AI_COLUMNS order. */
static int write_ai(rr_pg_store *s, PGresult **out, const char *sql, const rr_ai_analysis *a, char *err, size_t errsize)
{
  char confidence[64] = "";
  int error;

  if (a->has_ai_confidence_score)
    snprintf(confidence, sizeof(confidence), "%.17g", a->ai_confidence_score);
  error = rr_pg_run(s, out, "write analysis", err, errsize, sql, "tttttttt" "iiii" "tt" "n" "ttt" "iii" "d" "tttt" "i" "tt", a->id, a->study_uid,
                    a->orthanc_study_id, a->provider, a->model_requested, a->model_version, a->status, a->requested_by,
                    a->requested_at, a->started_at, a->finished_at, a->attempts, a->summary, a->findings_json,
                    a->has_ai_confidence_score ? confidence : NULL, a->images_json ? a->images_json : "[]",
                    a->prompt_version, a->schema_version, a->prompt_tokens, a->completion_tokens, a->latency_ms, a->cost,
                    a->error, a->raw_text, a->review_status[0] ? a->review_status : "pending", a->reviewed_by,
                    a->reviewed_at, a->radiologist_notes, a->ai_confidence);
  return error == RR_EEXISTS ? rr_fail(err, errsize, RR_EEXISTS, "an analysis with this id exists already") : error;
}

static int pg_ai_create(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO ai_analyses(" AI_COLUMNS ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
                            "$14,$15::double precision,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29)";

  if (a->id[0] == '\0' || a->study_uid[0] == '\0' || a->status[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "an analysis needs an id, a study and a status");
  return write_ai(impl, NULL, sql, a, err, errsize);
}

static int pg_ai_update(void *impl, const rr_ai_analysis *a, char *err, size_t errsize)
{
  /* $2, $8 and $9 (study, requester, request time) are not written */
  static const char sql[] =
    "UPDATE ai_analyses SET orthanc_study_id=$3, provider=$4, model_requested=$5, model_version=$6,"
    " status=$7, started_at=$10, finished_at=$11, attempts=$12, summary=$13, findings_json=$14,"
    " ai_confidence=$15::double precision, images_json=$16, prompt_version=$17, schema_version=$18, prompt_tokens=$19,"
    " completion_tokens=$20, latency_ms=$21, cost=$22, error=$23, raw_text=$24, review_status=$25,"
    " reviewed_by=$26, reviewed_at=$27, radiologist_notes=$28, ai_confidence_band=$29"
    " WHERE id=$1 AND ($2::text, $8::text, $9::bigint) IS NOT NULL RETURNING 1";
  PGresult *r = NULL;
  int error = write_ai(impl, &r, sql, a, err, errsize);

  if (error == 0 && PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  PQclear(r);
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

/* A list of kind from the rows of r (r is cleared). */
static int to_list(void **out, PGresult *r, const rr_store_list_kind *kind, size_t first, rr_pg_row_reader read,
                   char *err, size_t errsize)
{
  void *list = rr_store_list_new(kind);

  *out = NULL;
  if (list == NULL || rr_pg_rows(r, kind, list, first, read, NULL) < 0) {
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
                            " ORDER BY requested_at DESC, ord DESC LIMIT 1000";
  PGresult *r = NULL;
  void *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "analyses", err, errsize, sql, "t", study_uid)) < 0 ||
      (error = to_list(&list, r, &rr_ai_list_kind, 8, read_ai, err, errsize)) < 0)
    return error;
  *out = list;
  return 0;
}

static int pg_ai_claim_next(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize)
{
  static const char sql[] =
    "UPDATE ai_analyses SET status='running', started_at=$1, attempts=attempts+1, claimed_by=$2 WHERE id="
    "(SELECT id FROM ai_analyses WHERE status='queued' ORDER BY requested_at, ord LIMIT 1 FOR UPDATE SKIP LOCKED)"
    " RETURNING " AI_COLUMNS;
  rr_pg_store *s = impl;
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  /* a claim recorded under a lease this node lost would look abandoned to the others' sweeps */
  if ((error = rr_pg_node_keep(s, err, errsize)) < 0 ||
      (error = rr_pg_run(s, &r, "claim", err, errsize, sql, "it", now, rr_pg_node_id(s))) < 0)
    return error;
  if (PQntuples(r) == 0)
    error = RR_ENOTFOUND;
  else if (read_ai(out, r, 0, NULL) < 0)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  PQclear(r);
  return error;
}

/* The nodes with running analyses that are gone: a PostgreSQL text array
 * literal of their ids ("{}" when none), built into `out`. */
static int gone_nodes(rr_pg_store *s, char *out, size_t size, char *err, size_t errsize)
{
  static const char sql[] = "SELECT DISTINCT claimed_by FROM ai_analyses WHERE status='running' LIMIT 256";
  PGresult *r = NULL;
  char id[64];
  size_t len;
  bool alive;
  int error, i;

  if ((error = rr_pg_run(s, &r, "running analyses", err, errsize, sql, "")) < 0)
    return error;
  len = (size_t)snprintf(out, size, "{");
  for (i = 0; i < PQntuples(r) && error == 0; i++) {
    rr_pg_copy(id, sizeof(id), r, i, 0);
    if ((error = rr_pg_node_alive(s, &alive, id, err, errsize)) == 0 && !alive && strspn(id, "0123456789abcdef") == strlen(id) &&
        len + strlen(id) + 2 < size)
      len += (size_t)snprintf(out + len, size - len, "%s\"%s\"", len > 1 ? "," : "", id);
  }
  PQclear(r);
  snprintf(out + len, size - len, "}");
  return error;
}

typedef struct recover_ctx {
  const char *gone, *self; /* self: "" while sweeping (this node's own claims are live) */
  int64_t now, requeued;
} recover_ctx;

/* Requeue (or fail, after 3 attempts) the running analyses claimed by the
 * gone nodes; at start-up (self set) also this node's and unattributed ones. */
static int recover_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char fail_sql[] =
    "UPDATE ai_analyses SET status='failed', finished_at=$1, error='the analysis was interrupted "
    "3 times (Orthanc stopped while it ran); not retried' WHERE status='running' AND attempts>=3"
    " AND (claimed_by = ANY($2::text[]) OR ($3 <> '' AND (claimed_by='' OR claimed_by=$3)))";
  static const char requeue_sql[] =
    "UPDATE ai_analyses SET status='queued', started_at=0, claimed_by='' WHERE status='running'"
    " AND (claimed_by = ANY($1::text[]) OR ($2 <> '' AND (claimed_by='' OR claimed_by=$2))) RETURNING 1";
  recover_ctx *x = arg;
  PGresult *r = NULL;
  int error;

  x->requeued = 0;
  if ((error = rr_pg_query(c, NULL, fail_sql, "itt", x->now, x->gone, x->self)) < 0 ||
      (error = rr_pg_query(c, &r, requeue_sql, "tt", x->gone, x->self)) < 0)
    return rr_pg_fail(err, errsize, error, c, "recover analyses");
  x->requeued = PQntuples(r);
  PQclear(r);
  return 0;
}

static int recover_gone(rr_pg_store *s, int64_t *requeued, int64_t now, const char *self, char *err, size_t errsize)
{
  char gone[256 * 20];
  recover_ctx x = {gone, self, now, 0};
  int error;

  *requeued = 0;
  if ((error = gone_nodes(s, gone, sizeof(gone), err, errsize)) < 0)
    return error;
  if (strcmp(gone, "{}") == 0 && self[0] == '\0')
    return 0; /* sweeping, nobody gone: no write */
  if ((error = rr_pg_tx(s, recover_tx, &x, err, errsize)) < 0)
    return error;
  *requeued = x.requeued;
  return 0;
}

static int pg_ai_recover(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  rr_pg_store *s = impl;

  return recover_gone(s, requeued, now, rr_pg_node_id(s), err, errsize);
}

static int pg_ai_sweep(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize)
{
  rr_pg_store *s = impl;
  int error;

  *requeued = 0;
  if ((error = rr_pg_node_keep(s, err, errsize)) < 0)
    return error; /* not sure of being alive ourselves: judge nobody */
  return recover_gone(s, requeued, now, "", err, errsize);
}

static int pg_ai_abandon(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize)
{
  /* this node stops: what it queued or runs ends; other nodes' running work is theirs */
  static const char sql[] = "UPDATE ai_analyses SET status='failed', finished_at=$1, error=$2"
                            " WHERE status='queued' OR (status='running' AND claimed_by IN ($3, '')) RETURNING 1";
  rr_pg_store *s = impl;
  PGresult *r = NULL;
  int error;

  *count = 0;
  if ((error = rr_pg_run(s, &r, "abandon", err, errsize, sql, "itt", now, reason, rr_pg_node_id(s))) < 0)
    return error;
  *count = PQntuples(r);
  PQclear(r);
  return 0;
}

typedef struct review_ctx {
  const rr_ai_review *r;
  const char *notes;
} review_ctx;

static int review_tx(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char update_sql[] = "UPDATE ai_analyses SET review_status=$2, reviewed_by=$3, reviewed_at=$4,"
                                   " radiologist_notes=$5 WHERE id=$1 RETURNING 1";
  static const char history_sql[] = "INSERT INTO ai_reviews(analysis_id, at, reviewer, review_status, notes, feedback_json)"
                                    " VALUES($1,$2,$3,$4,$5,$6)";
  review_ctx *x = arg;
  const rr_ai_review *r = x->r;
  PGresult *res = NULL;
  int error, found;

  if ((error = rr_pg_query(c, &res, update_sql, "tttit", r->analysis_id, r->review_status, r->reviewer, r->at,
                           x->notes ? x->notes : "")) < 0)
    return rr_pg_fail(err, errsize, error, c, "review");
  found = PQntuples(res);
  PQclear(res);
  if (found == 0)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such analysis");
  if ((error = rr_pg_query(c, NULL, history_sql, "tittt" "t", r->analysis_id, r->at, r->reviewer, r->review_status,
                           r->notes ? r->notes : "", r->feedback_json ? r->feedback_json : "[]")) < 0)
    return rr_pg_fail(err, errsize, error, c, "review history");
  return 0;
}

static int pg_ai_review_add(void *impl, const rr_ai_review *r, const char *notes, char *err, size_t errsize)
{
  review_ctx x = {r, notes};

  return rr_pg_tx(impl, review_tx, &x, err, errsize);
}

static int read_review(void *elem, const PGresult *res, int row, void *ctx)
{
  rr_ai_review *r = elem;

  (void)ctx;
  r->seq = rr_pg_int(res, row, 0);
  rr_pg_copy(r->analysis_id, sizeof(r->analysis_id), res, row, 1);
  r->at = rr_pg_int(res, row, 2);
  rr_pg_copy(r->reviewer, sizeof(r->reviewer), res, row, 3);
  rr_pg_copy(r->review_status, sizeof(r->review_status), res, row, 4);
  r->notes = rr_pg_strdup(res, row, 5);
  r->feedback_json = rr_pg_strdup(res, row, 6);
  return r->notes == NULL || r->feedback_json == NULL ? RR_ENOMEM : 0;
}

static int pg_ai_review_history(void *impl, rr_ai_review_list **out, const char *id, char *err, size_t errsize)
{
  static const char sql[] = "SELECT seq, analysis_id, at, reviewer, review_status, notes, feedback_json"
                            " FROM ai_reviews WHERE analysis_id=$1 ORDER BY seq";
  PGresult *r = NULL;
  void *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "review history", err, errsize, sql, "t", id)) < 0 ||
      (error = to_list(&list, r, &rr_ai_review_list_kind, 8, read_review, err, errsize)) < 0)
    return error;
  *out = list;
  return 0;
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
    " coalesce(sum(rr_json_array_length(images_json)) FILTER (WHERE requested_at>=$1),0) FROM ai_analyses";
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "AI counts", err, errsize, sql, "i", since)) < 0)
    return error;
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
  .sweep = pg_ai_sweep,
  .abandon = pg_ai_abandon,
  .review_add = pg_ai_review_add,
  .review_history = pg_ai_review_history,
  .counts = pg_ai_counts,
};
