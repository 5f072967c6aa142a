/*
 * store_report_outputs.h - the report outputs concern of the store: the
 * durable queue of the DICOM objects each signed report version puts back
 * into the archive (report/report_outputs.h runs it).
 *
 * One job per (report id, version, kind), kind "pdf", "sr" or "kos". States:
 *
 *   queued --claim--> running --done--> done
 *                       |  \--fail--> queued again after a back-off
 *                       |              (2^attempts s, at most 10 min), or
 *                       |              failed once `max_attempts` are used
 *                       \--requeue (start-up: a stopped or killed process;
 *                          or a try older than any try lasts)--> queued
 *   failed --retry (administrator)--> queued, attempts 0
 *
 * `attempts` counts the tries started (claim adds one), so a job whose try
 * kills the process is not retried forever: requeue ends it failed once its
 * attempts are used up. Times are unix milliseconds.
 *
 * rr_store_report_outputs_ops is the table a backend fills (see store.h for
 * the contract every operation shares). Lists are released with their
 * *_free.
 */
#ifndef RR_STORE_REPORT_OUTPUTS_H
#define RR_STORE_REPORT_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

#define RR_REPORT_OUTPUT_KIND_SIZE 8
#define RR_REPORT_OUTPUT_STATE_SIZE 12
#define RR_REPORT_OUTPUT_ERROR_SIZE 512
#define RR_REPORT_OUTPUT_CLAIMER_SIZE 128
#define RR_REPORT_OUTPUT_MAX_BACKOFF_MS (10 * 60 * 1000)

typedef struct rr_report_output {
  int64_t report_id;
  int64_t version;
  char kind[RR_REPORT_OUTPUT_KIND_SIZE];   /* "pdf", "sr", "kos" */
  char state[RR_REPORT_OUTPUT_STATE_SIZE]; /* "queued", "running", "done", "failed" */
  int64_t attempts;
  char last_error[RR_REPORT_OUTPUT_ERROR_SIZE];   /* "" when none */
  char claimed_by[RR_REPORT_OUTPUT_CLAIMER_SIZE]; /* the claimer of the last try, "" */
  char orthanc_id[RR_OID_SIZE];                   /* when done */
  char sop_instance_uid[RR_UID_SIZE];             /* when done */
  int64_t next_attempt_at; /* a queued job waits until then */
  int64_t created_at;      /* enqueued */
  int64_t updated_at;      /* last change of state */
  int64_t done_at;         /* 0 until done */
} rr_report_output;

typedef struct rr_report_output_list {
  rr_report_output *items;
  size_t count;
} rr_report_output_list;
void rr_report_output_list_free(rr_report_output_list *list);

typedef struct rr_report_output_counts {
  int64_t queued, running, done, failed;
  int64_t oldest_waiting_at; /* created_at of the oldest queued or running job, 0 */
} rr_report_output_counts;

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_report_outputs_ops {
  int (*enqueue)(void *impl, bool *created, int64_t report_id, int64_t version, const char *kind, int64_t now,
                 char *err, size_t errsize);
  int (*claim)(void *impl, rr_report_output *out, const char *claimer, int64_t now, char *err, size_t errsize);
  int (*done)(void *impl, int64_t report_id, int64_t version, const char *kind, const char *orthanc_id,
              const char *sop_instance_uid, int64_t now, char *err, size_t errsize);
  int (*fail)(void *impl, rr_report_output *out, int64_t report_id, int64_t version, const char *kind,
              const char *error, int64_t max_attempts, int64_t now, char *err, size_t errsize);
  int (*requeue)(void *impl, int64_t *requeued, int64_t *failed, const char *claimer, int64_t stale_before,
                 int64_t max_attempts, int64_t now, char *err, size_t errsize);
  int (*list)(void *impl, rr_report_output_list **out, int64_t report_id, char *err, size_t errsize);
  int (*retry)(void *impl, int64_t report_id, int64_t version, const char *kind, int64_t now, char *err,
               size_t errsize);
  int (*counts)(void *impl, rr_report_output_counts *out, char *err, size_t errsize);
} rr_store_report_outputs_ops;

/*
 * enqueue: a queued job (attempts 0, due now) unless one exists for (report,
 * version, kind) already, whatever its state (*created, may be NULL, says
 * which); RR_EINVAL for a kind other than pdf, sr, kos or ids below 1.
 * claim: the due queued job (next_attempt_at <= now) enqueued first becomes
 * running for `claimer` (attempts + 1) in one step, so two claimers never
 * take the same; a claimer holds one job at a time: RR_ECONFLICT while a job
 * it claimed is running. RR_ENOTFOUND when no job is due.
 * done: the running job ends done with the object's Orthanc id and SOP
 * Instance UID. fail: the running job records `error`; it is queued again
 * after 2^attempts seconds (at most RR_REPORT_OUTPUT_MAX_BACKOFF_MS), or
 * ends failed when attempts >= max_attempts; *out (may be NULL) receives
 * the job. done and fail: RR_ENOTFOUND for an unknown job, RR_ECONFLICT when
 * it is not running.
 * requeue: the running jobs claimed by `claimer` (start-up: this node's
 * process stopped or was killed; NULL: none by name) and those whose try
 * started before `stale_before` (a node that died or was renamed; 0: none,
 * INT64_MAX: every running job) go back to queued, due now, or end failed
 * when their attempts are used up; *requeued and *failed (may be NULL)
 * count them.
 * list: the report's jobs by version, then pdf, sr, kos.
 * retry: a failed job is queued again, due now, attempts 0 (its last error
 * kept until the next try); RR_ENOTFOUND, RR_ECONFLICT when not failed.
 * counts: jobs by state.
 */
int rr_store_report_output_enqueue(rr_store *s, bool *created, int64_t report_id, int64_t version, const char *kind,
                                   int64_t now, char *err, size_t errsize);
int rr_store_report_output_claim(rr_store *s, rr_report_output *out, const char *claimer, int64_t now, char *err,
                                 size_t errsize);
int rr_store_report_output_done(rr_store *s, int64_t report_id, int64_t version, const char *kind,
                                const char *orthanc_id, const char *sop_instance_uid, int64_t now, char *err,
                                size_t errsize);
int rr_store_report_output_fail(rr_store *s, rr_report_output *out, int64_t report_id, int64_t version,
                                const char *kind, const char *error, int64_t max_attempts, int64_t now, char *err,
                                size_t errsize);
int rr_store_report_output_requeue(rr_store *s, int64_t *requeued, int64_t *failed, const char *claimer,
                                   int64_t stale_before, int64_t max_attempts, int64_t now, char *err,
                                   size_t errsize);
int rr_store_report_output_list(rr_store *s, rr_report_output_list **out, int64_t report_id, char *err,
                                size_t errsize);
int rr_store_report_output_retry(rr_store *s, int64_t report_id, int64_t version, const char *kind, int64_t now,
                                 char *err, size_t errsize);
int rr_store_report_output_counts(rr_store *s, rr_report_output_counts *out, char *err, size_t errsize);

#endif
