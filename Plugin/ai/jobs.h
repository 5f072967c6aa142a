/*
 * jobs.h - AI analyses as background jobs: a bounded pool of worker threads
 * that takes queued analyses from the store, picks the study's images
 * (ai/select.h), renders them through Orthanc (image/orthanc_frame.h),
 * builds the prompt (ai/prompt.h), calls the provider (ai/provider.h),
 * validates the answer (ai/findings.h, one repair attempt) and stores the
 * result with its provenance.
 *
 * States of an analysis (store/ai_state.h): queued -> running -> completed
 * | invalid | blocked | safety | truncated | refused | failed | cancelled.
 * The queue lives in the store, so jobs survive a restart: at start,
 * analyses left "running" by a stopped or killed process are queued again
 * (or failed after 3 attempts, see store.h); at a clean stop, running jobs
 * are interrupted and queued again for the next start. With several nodes
 * on one store (PostgreSQL), an idle worker of every living node also
 * sweeps every 15 s (rr_store_ai_sweep): the analyses a killed node was
 * running are queued again and run by a survivor within about 20 s.
 * Before its images leave and before it writes the outcome, a worker
 * checks that the store still holds its claim (running, the same attempt):
 * a node whose claim was taken over meanwhile (its lease lost for a while)
 * drops its own result, so that the analysis keeps one.
 *
 * Threads: rr_ai_jobs_start() starts `concurrency` workers; every other
 * function may be called from any thread (REST handlers), including
 * rr_ai_jobs_study_stable() from Orthanc's OnChange thread (it only queues
 * the study and signals, never touching the store or Orthanc). The workers
 * use Orthanc's REST API: start them from OrthancStarted at the earliest.
 *
 * Each image sent is an audit event ("ai.image.sent": study, SOP instance,
 * frame, SHA-256, destination host), written before the request leaves.
 *
 * Ownership: rr_ai_jobs_new() takes ownership of options->provider (may be
 * NULL: AI off, submissions answer RR_ECONFLICT with a sentence saying what
 * to configure); store, audit and context are borrowed and must outlive the
 * jobs. rr_ai_jobs_free() stops the workers and accepts NULL.
 */
#ifndef RR_AI_JOBS_H
#define RR_AI_JOBS_H

#include <orthanc/OrthancCPlugin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ai/provider.h"
#include "ai/select.h"
#include "audit/audit.h"
#include "store/store.h"

typedef struct rr_ai_jobs rr_ai_jobs;

#define RR_AI_AUTO_WORDS_MAX 32

typedef struct rr_ai_jobs_options {
  rr_store *store;
  rr_audit *audit;               /* may be NULL */
  OrthancPluginContext *ctx;     /* NULL only in tests that never run a job */
  rr_ai_provider *provider;      /* owned from now on; NULL = no provider */
  const char *destination;       /* host the images go to, for the audit trail */
  unsigned concurrency;          /* 1..16 */
  unsigned max_queued;           /* queued analyses allowed at once */
  rr_select_options select;
  uint32_t max_side;             /* image size, 128..2048 */
  size_t max_request_bytes;      /* images (base64) per request */
  double price_input;            /* per million prompt tokens */
  double price_output;           /* per million output tokens */
  /* automatic analysis of stable studies (empty lists match everything) */
  bool auto_enable;
  const char *const *auto_modalities; /* upper case */
  size_t auto_modality_count;
  const char *const *auto_words;      /* lower case, matched in the description */
  size_t auto_word_count;
} rr_ai_jobs_options;

int rr_ai_jobs_new(rr_ai_jobs **out, const rr_ai_jobs_options *options, char *err, size_t errsize);
void rr_ai_jobs_free(rr_ai_jobs *jobs);

/* Recover interrupted analyses and start the workers. Without a provider,
 * analyses still queued or running from an earlier configuration end
 * "failed" with a sentence saying why. 0 or RR_ERROR. */
int rr_ai_jobs_start(rr_ai_jobs *jobs);
/* Interrupt running jobs (queued again), join the workers. Idempotent. */
void rr_ai_jobs_stop(rr_ai_jobs *jobs);

bool rr_ai_jobs_configured(const rr_ai_jobs *jobs);

/* Queue an analysis of a study. Unless `force`, an analysis of that study
 * that is queued or running already is returned instead (*existing true).
 * id_out receives the analysis ID. RR_ENOTFOUND: no such study;
 * RR_ECONFLICT: no provider configured (err says what to set); RR_EFULL:
 * the queue is full; RR_ESTORE. */
int rr_ai_jobs_submit(char id_out[RR_AI_ID_SIZE], bool *existing, rr_ai_jobs *jobs, const char *study_uid,
                      const char *requested_by, bool force, char *err, size_t errsize);

/* Cancel an analysis: a queued one ends "cancelled" at once, a running one
 * as soon as its worker notices (its HTTP call is aborted). RR_ENOTFOUND;
 * RR_ECONFLICT when it has finished already. */
int rr_ai_jobs_cancel(rr_ai_jobs *jobs, const char *id, char *err, size_t errsize);

/* Orthanc says a study is stable: analyse it if the rules match. Only
 * queues the Orthanc study ID (bounded; extra ones are dropped and
 * counted). Safe from Orthanc's OnChange callback. */
void rr_ai_jobs_study_stable(rr_ai_jobs *jobs, const char *orthanc_study_id);

typedef struct rr_ai_jobs_stats {
  unsigned concurrency;
  unsigned running;          /* jobs in the workers now */
  int reachable;             /* 1 answered, 0 no answer, -1 not tried yet */
  char last_error[256];      /* the last failed call's reason, "" */
  int64_t auto_submitted;    /* automatic analyses queued since start */
  int64_t auto_dropped;      /* stable studies dropped (queue full) */
} rr_ai_jobs_stats;

void rr_ai_jobs_get_stats(rr_ai_jobs *jobs, rr_ai_jobs_stats *out);

/* Ask the provider whether it is there now; updates `reachable`. */
int rr_ai_jobs_probe(rr_ai_jobs *jobs, char *err, size_t errsize);

/* The provider's kind and model ("" when none). */
const char *rr_ai_jobs_provider_kind(const rr_ai_jobs *jobs);
const char *rr_ai_jobs_model(const rr_ai_jobs *jobs);

#endif
