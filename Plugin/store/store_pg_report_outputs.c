/*
 * store_pg_report_outputs.c - the PostgreSQL backend's report outputs
 * concern: the durable queue of report objects for the archive, shared by
 * every node on the database (contract in store_report_outputs.h; table in
 * Resources/postgresql/007_report_outputs.sql). Behaves as
 * store_sqlite_report_outputs.c. A claim is one transaction: an advisory
 * lock on the claimer's name (one running job per claimer, even when two
 * threads share a name), then one UPDATE of the next due job picked with
 * FOR UPDATE SKIP LOCKED, so claimers on any number of nodes never take the
 * same job and never wait for each other's rows. done, fail and retry read
 * the job FOR UPDATE and write it back in the same transaction.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_internal.h"
#include "util/errors.h"
#include "util/str.h"

#define COLUMNS                                                                                               \
  "report_id, version, kind, state, attempts, last_error, claimed_by, orthanc_id, sop_instance_uid,"        \
  " next_attempt_at, created_at, updated_at, done_at"
#define KIND_ORDER "CASE kind WHEN 'pdf' THEN 0 WHEN 'sr' THEN 1 ELSE 2 END"

static const char INTERRUPTED[] = "the try was interrupted (the process stopped) and no attempts are left";

static const char SQL_ENQUEUE[] = "INSERT INTO report_outputs(report_id, version, kind, next_attempt_at, created_at,"
                                  " updated_at) VALUES($1, $2, $3, $4, $4, $4)"
                                  " ON CONFLICT (report_id, version, kind) DO NOTHING";
static const char SQL_CLAIMER_LOCK[] = "SELECT pg_advisory_xact_lock(hashtext('rr_report_outputs:' || $1::text))";
static const char SQL_HOLDS[] = "SELECT 1 FROM report_outputs WHERE state='running' AND claimed_by=$1 LIMIT 1";
static const char SQL_CLAIM[] =
  "WITH next AS (SELECT report_id, version, kind FROM report_outputs"
  " WHERE state='queued' AND next_attempt_at<=$2"
  " ORDER BY created_at, report_id, version, " KIND_ORDER " LIMIT 1 FOR UPDATE SKIP LOCKED)"
  " UPDATE report_outputs o SET state='running', claimed_by=$1, attempts=o.attempts+1, updated_at=$2"
  " FROM next WHERE o.report_id=next.report_id AND o.version=next.version AND o.kind=next.kind"
  " RETURNING o.report_id, o.version, o.kind, o.state, o.attempts, o.last_error, o.claimed_by, o.orthanc_id,"
  " o.sop_instance_uid, o.next_attempt_at, o.created_at, o.updated_at, o.done_at";
static const char SQL_JOB[] = "SELECT " COLUMNS " FROM report_outputs WHERE report_id=$1 AND version=$2 AND kind=$3"
                              " FOR UPDATE";
static const char SQL_WRITE[] = "UPDATE report_outputs SET state=$4, last_error=$5, orthanc_id=$6,"
                                " sop_instance_uid=$7, next_attempt_at=$8, updated_at=$9, done_at=$10, attempts=$11"
                                " WHERE report_id=$1 AND version=$2 AND kind=$3";
#define REQUEUE_WHERE " WHERE state='running' AND (($1::text IS NOT NULL AND claimed_by=$1::text) OR updated_at<$4)"
static const char SQL_REQUEUE_FAIL[] = "UPDATE report_outputs SET state='failed', last_error=$5, updated_at=$3"
                                       REQUEUE_WHERE " AND attempts>=$2";
static const char SQL_REQUEUE[] = "UPDATE report_outputs SET state='queued', next_attempt_at=$3, updated_at=$3"
                                  REQUEUE_WHERE " AND attempts<$2";
static const char SQL_LIST[] = "SELECT " COLUMNS " FROM report_outputs WHERE report_id=$1"
                               " ORDER BY version, " KIND_ORDER;
static const char SQL_COUNTS[] = "SELECT COUNT(*) FILTER (WHERE state='queued'), COUNT(*) FILTER (WHERE state='running'),"
                                 " COUNT(*) FILTER (WHERE state='done'), COUNT(*) FILTER (WHERE state='failed'),"
                                 " COALESCE(MIN(created_at) FILTER (WHERE state IN ('queued','running')), 0)"
                                 " FROM report_outputs";

static bool kind_valid(const char *kind)
{
  return kind != NULL && (strcmp(kind, "pdf") == 0 || strcmp(kind, "sr") == 0 || strcmp(kind, "kos") == 0);
}

static int read_job(void *elem, const PGresult *r, int row, void *ctx)
{
  rr_report_output *o = elem;

  (void)ctx;
  memset(o, 0, sizeof(*o));
  o->report_id = rr_pg_int(r, row, 0);
  o->version = rr_pg_int(r, row, 1);
  rr_pg_copy(o->kind, sizeof(o->kind), r, row, 2);
  rr_pg_copy(o->state, sizeof(o->state), r, row, 3);
  o->attempts = rr_pg_int(r, row, 4);
  rr_pg_copy(o->last_error, sizeof(o->last_error), r, row, 5);
  rr_pg_copy(o->claimed_by, sizeof(o->claimed_by), r, row, 6);
  rr_pg_copy(o->orthanc_id, sizeof(o->orthanc_id), r, row, 7);
  rr_pg_copy(o->sop_instance_uid, sizeof(o->sop_instance_uid), r, row, 8);
  o->next_attempt_at = rr_pg_int(r, row, 9);
  o->created_at = rr_pg_int(r, row, 10);
  o->updated_at = rr_pg_int(r, row, 11);
  o->done_at = rr_pg_int(r, row, 12);
  return 0;
}

/* rr_pg_query's failure as this module's: RR_ECONFLICT passes through (the
 * transaction runs again), anything else gets its sentence. */
static int q_fail(int error, rr_pg_conn *c, const char *what, char *err, size_t errsize)
{
  return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, what);
}

static int pg_enqueue(void *impl, bool *created, int64_t report_id, int64_t version, const char *kind, int64_t now,
                      char *err, size_t errsize)
{
  PGresult *r = NULL;
  const char *n;
  int error;

  if (created != NULL)
    *created = false;
  if (!kind_valid(kind) || report_id < 1 || version < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a report output needs a report id, a version and a kind (pdf, sr, kos)");
  error = rr_pg_run(impl, &r, "enqueueing a report output", err, errsize, SQL_ENQUEUE, "iiti", report_id, version,
                    kind, now);
  if (error == 0 && created != NULL) {
    n = PQcmdTuples(r);
    *created = n[0] != '\0' && strtoll(n, NULL, 10) > 0;
  }
  PQclear(r);
  return error;
}

/* What a transaction of this file works on. `refused` carries the
 * contract's RR_ECONFLICT out of rr_pg_tx (which would retry it). */
typedef struct job_ctx {
  const char *claimer, *kind, *orthanc_id, *sop_uid, *error_text;
  int64_t report_id, version, max_attempts, stale_before, now;
  rr_report_output job;
  int64_t requeued, failed;
  int refused;
} job_ctx;

static int refuse(job_ctx *x, char *err, size_t errsize, const char *want)
{
  x->refused = RR_ECONFLICT;
  return rr_fail(err, errsize, RR_EINVAL, "the %s output of report %lld version %lld is %s, not %s", x->kind,
                 (long long)x->report_id, (long long)x->version, x->job.state, want);
}

static int claim_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  job_ctx *x = ctx;
  PGresult *r = NULL;
  int error;

  x->refused = 0;
  memset(&x->job, 0, sizeof(x->job));
  if ((error = rr_pg_query(c, NULL, SQL_CLAIMER_LOCK, "t", x->claimer)) < 0 ||
      (error = rr_pg_query(c, &r, SQL_HOLDS, "t", x->claimer)) < 0)
    return q_fail(error, c, "checking the claimer", err, errsize);
  if (PQntuples(r) > 0) {
    PQclear(r);
    x->refused = RR_ECONFLICT;
    return rr_fail(err, errsize, RR_EINVAL, "this claimer holds a running report output already");
  }
  PQclear(r);
  r = NULL;
  if ((error = rr_pg_query(c, &r, SQL_CLAIM, "ti", x->claimer, x->now)) < 0)
    return q_fail(error, c, "claiming a report output", err, errsize);
  error = PQntuples(r) == 0 ? RR_ENOTFOUND : read_job(&x->job, r, 0, NULL);
  PQclear(r);
  return error;
}

static int pg_claim(void *impl, rr_report_output *out, const char *claimer, int64_t now, char *err, size_t errsize)
{
  job_ctx x;
  int error;

  memset(out, 0, sizeof(*out));
  if (claimer == NULL || claimer[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "a claim needs the claimer's name");
  memset(&x, 0, sizeof(x));
  x.claimer = claimer;
  x.now = now;
  error = rr_pg_tx(impl, claim_tx, &x, err, errsize);
  if (error < 0 && x.refused != 0)
    return x.refused;
  if (error == 0)
    *out = x.job;
  return error;
}

/* Inside a transaction: the job (locked), which must exist and be running. */
static int running_job(rr_pg_conn *c, job_ctx *x, const char *want, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error;

  x->refused = 0;
  if ((error = rr_pg_query(c, &r, SQL_JOB, "iit", x->report_id, x->version, x->kind)) < 0)
    return q_fail(error, c, "reading a report output", err, errsize);
  if (PQntuples(r) == 0)
    error = rr_fail(err, errsize, RR_ENOTFOUND, "no %s output of report %lld version %lld", x->kind,
                    (long long)x->report_id, (long long)x->version);
  else
    read_job(&x->job, r, 0, NULL);
  PQclear(r);
  if (error == 0 && strcmp(x->job.state, want) != 0)
    error = refuse(x, err, errsize, want);
  return error;
}

/* Write the state fields of x->job back. */
static int write_state(rr_pg_conn *c, const rr_report_output *o, char *err, size_t errsize)
{
  int error = rr_pg_query(c, NULL, SQL_WRITE, "iitttttiiii", o->report_id, o->version, o->kind, o->state,
                          o->last_error, o->orthanc_id, o->sop_instance_uid, o->next_attempt_at, o->updated_at,
                          o->done_at, o->attempts);

  return error < 0 ? q_fail(error, c, "updating a report output", err, errsize) : 0;
}

static int done_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  job_ctx *x = ctx;
  rr_report_output *o = &x->job;
  int error = running_job(c, x, "running", err, errsize);

  if (error < 0)
    return error;
  rr_str_copy(o->state, sizeof(o->state), "done");
  o->last_error[0] = '\0';
  rr_str_copy(o->orthanc_id, sizeof(o->orthanc_id), x->orthanc_id ? x->orthanc_id : "");
  rr_str_copy(o->sop_instance_uid, sizeof(o->sop_instance_uid), x->sop_uid ? x->sop_uid : "");
  o->updated_at = x->now;
  o->done_at = x->now;
  return write_state(c, o, err, errsize);
}

/* 2^attempts seconds, at most the maximum back-off. */
static int64_t backoff_ms(int64_t attempts)
{
  if (attempts >= 10 || ((int64_t)1000 << attempts) > RR_REPORT_OUTPUT_MAX_BACKOFF_MS)
    return RR_REPORT_OUTPUT_MAX_BACKOFF_MS;
  return (int64_t)1000 << attempts;
}

static int fail_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  job_ctx *x = ctx;
  rr_report_output *o = &x->job;
  int error = running_job(c, x, "running", err, errsize);
  bool last;

  if (error < 0)
    return error;
  last = o->attempts >= x->max_attempts;
  rr_str_copy(o->state, sizeof(o->state), last ? "failed" : "queued");
  rr_str_copy(o->last_error, sizeof(o->last_error),
              x->error_text && x->error_text[0] ? x->error_text : "failed");
  o->next_attempt_at = last ? x->now : x->now + backoff_ms(o->attempts);
  o->updated_at = x->now;
  return write_state(c, o, err, errsize);
}

static int retry_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  job_ctx *x = ctx;
  rr_report_output *o = &x->job;
  int error = running_job(c, x, "failed", err, errsize);

  if (error < 0)
    return error;
  rr_str_copy(o->state, sizeof(o->state), "queued");
  o->attempts = 0;
  o->next_attempt_at = x->now;
  o->updated_at = x->now;
  return write_state(c, o, err, errsize);
}

/* Run one of the transactions above on the job (report, version, kind). */
static int job_run(void *impl, job_ctx *x, rr_pg_tx_fn fn, int64_t report_id, int64_t version, const char *kind,
                   int64_t now, char *err, size_t errsize)
{
  int error;

  x->report_id = report_id;
  x->version = version;
  x->kind = kind != NULL ? kind : "";
  x->now = now;
  error = rr_pg_tx(impl, fn, x, err, errsize);
  return error < 0 && x->refused != 0 ? x->refused : error;
}

static int pg_done(void *impl, int64_t report_id, int64_t version, const char *kind, const char *orthanc_id,
                   const char *sop_instance_uid, int64_t now, char *err, size_t errsize)
{
  job_ctx x;

  memset(&x, 0, sizeof(x));
  x.orthanc_id = orthanc_id;
  x.sop_uid = sop_instance_uid;
  return job_run(impl, &x, done_tx, report_id, version, kind, now, err, errsize);
}

static int pg_fail(void *impl, rr_report_output *out, int64_t report_id, int64_t version, const char *kind,
                   const char *error_text, int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  job_ctx x;
  int error;

  memset(&x, 0, sizeof(x));
  x.error_text = error_text;
  x.max_attempts = max_attempts;
  error = job_run(impl, &x, fail_tx, report_id, version, kind, now, err, errsize);
  if (error == 0 && out != NULL)
    *out = x.job;
  return error;
}

static int pg_retry(void *impl, int64_t report_id, int64_t version, const char *kind, int64_t now, char *err,
                    size_t errsize)
{
  job_ctx x;

  memset(&x, 0, sizeof(x));
  return job_run(impl, &x, retry_tx, report_id, version, kind, now, err, errsize);
}

static int requeue_tx(rr_pg_conn *c, void *ctx, char *err, size_t errsize)
{
  job_ctx *x = ctx;
  PGresult *r = NULL;
  int error;

  x->requeued = x->failed = 0;
  if ((error = rr_pg_query(c, &r, SQL_REQUEUE_FAIL, "niiit", x->claimer, x->max_attempts, x->now, x->stale_before,
                           INTERRUPTED)) < 0)
    return q_fail(error, c, "requeueing report outputs", err, errsize);
  x->failed = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  r = NULL;
  if ((error = rr_pg_query(c, &r, SQL_REQUEUE, "niii", x->claimer, x->max_attempts, x->now, x->stale_before)) < 0)
    return q_fail(error, c, "requeueing report outputs", err, errsize);
  x->requeued = strtoll(PQcmdTuples(r), NULL, 10);
  PQclear(r);
  return 0;
}

static int pg_requeue(void *impl, int64_t *requeued, int64_t *failed, const char *claimer, int64_t stale_before,
                      int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  job_ctx x;
  int error;

  memset(&x, 0, sizeof(x));
  x.claimer = claimer;
  x.stale_before = stale_before;
  x.max_attempts = max_attempts;
  x.now = now;
  error = rr_pg_tx(impl, requeue_tx, &x, err, errsize);
  if (requeued != NULL)
    *requeued = error == 0 ? x.requeued : 0;
  if (failed != NULL)
    *failed = error == 0 ? x.failed : 0;
  return error;
}

static const rr_store_list_kind output_list_kind = {
  sizeof(rr_report_output_list), offsetof(rr_report_output_list, items), offsetof(rr_report_output_list, count),
  sizeof(rr_report_output), NULL,
};

static int pg_list(void *impl, rr_report_output_list **out, int64_t report_id, char *err, size_t errsize)
{
  PGresult *r = NULL;
  rr_report_output_list *list = NULL;
  int error;

  *out = NULL;
  if ((error = rr_pg_run(impl, &r, "reading report outputs", err, errsize, SQL_LIST, "i", report_id)) < 0)
    return error;
  if ((list = rr_store_list_new(&output_list_kind)) == NULL ||
      rr_pg_rows(r, &output_list_kind, list, (size_t)PQntuples(r), read_job, NULL) < 0) {
    rr_report_output_list_free(list);
    PQclear(r);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  PQclear(r);
  *out = list;
  return 0;
}

static int pg_counts(void *impl, rr_report_output_counts *out, char *err, size_t errsize)
{
  PGresult *r = NULL;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = rr_pg_run(impl, &r, "counting report outputs", err, errsize, SQL_COUNTS, "")) < 0)
    return error;
  out->queued = rr_pg_int(r, 0, 0);
  out->running = rr_pg_int(r, 0, 1);
  out->done = rr_pg_int(r, 0, 2);
  out->failed = rr_pg_int(r, 0, 3);
  out->oldest_waiting_at = rr_pg_int(r, 0, 4);
  PQclear(r);
  return 0;
}

const rr_store_report_outputs_ops rr_pg_report_outputs_ops = {
  pg_enqueue, pg_claim, pg_done, pg_fail, pg_requeue, pg_list, pg_retry, pg_counts,
};
