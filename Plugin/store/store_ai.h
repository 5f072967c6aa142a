/*
 * store_ai.h - the AI concern of the store: analyses (the job queue of
 * ai/jobs.c and its results) and their review history.
 *
 * rr_store_ai_ops is the table a backend fills (see store.h for the contract
 * every operation shares); the rr_store_* functions below are what callers
 * use. Analyses and reviews read from the store own their long texts
 * (records.h): release them with rr_ai_analysis_dispose and the lists' *_free.
 */
#ifndef RR_STORE_AI_H
#define RR_STORE_AI_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

/* Release the long texts of an analysis and zero it; accepts NULL. */
void rr_ai_analysis_dispose(rr_ai_analysis *a);

typedef struct rr_ai_list {
  rr_ai_analysis *items;
  size_t count;
} rr_ai_list;
void rr_ai_list_free(rr_ai_list *list);

typedef struct rr_ai_review_list {
  rr_ai_review *items;
  size_t count;
} rr_ai_review_list;
void rr_ai_review_list_free(rr_ai_review_list *list);

/* Counts for /api/ai/status: analyses by status (all of them), and the
 * analyses requested since `since` with their usage (images sent counted
 * from each analysis' images). */
typedef struct rr_ai_counts {
  int64_t queued, running, completed, failed, other;
  int64_t analyses, images_sent;
  int64_t prompt_tokens, completion_tokens;
  double cost;
} rr_ai_counts;

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_ai_ops {
  int (*create)(void *impl, const rr_ai_analysis *a, char *err, size_t errsize);
  int (*get)(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize);
  int (*update)(void *impl, const rr_ai_analysis *a, char *err, size_t errsize);
  int (*list_study)(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize);
  int (*claim_next)(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize);
  int (*recover)(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize);
  int (*abandon)(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize);
  int (*review_add)(void *impl, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize);
  int (*review_history)(void *impl, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize);
  int (*counts)(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize);
  /* NULL for a backend without other nodes (rr_store_ai_sweep then requeues nothing) */
  int (*sweep)(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize);
} rr_store_ai_ops;

/* AI analyses. create: RR_EEXISTS for a used id. get/update: RR_ENOTFOUND
 * for an unknown id; update writes every field but id, study and request.
 * list_study: the study's analyses, newest first. claim_next: the oldest
 * "queued" analysis becomes "running" (started_at = now, attempts + 1) in one
 * step, so that two workers never take the same; RR_ENOTFOUND when none
 * waits. recover (at start-up): analyses left "running" by a stopped process
 * go back to "queued" while they have had fewer than 3 attempts, else end
 * "failed" with an error saying so. review_add appends to the history and
 * sets the analysis' review fields (status, reviewer, time, notes). */
int rr_store_ai_create(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize);
int rr_store_ai_get(rr_store *s, rr_ai_analysis *out, const char *id, char *err, size_t errsize);
int rr_store_ai_update(rr_store *s, const rr_ai_analysis *a, char *err, size_t errsize);
int rr_store_ai_list_study(rr_store *s, rr_ai_list **out, const char *study_uid, char *err, size_t errsize);
int rr_store_ai_claim_next(rr_store *s, rr_ai_analysis *out, int64_t now, char *err, size_t errsize);
int rr_store_ai_recover(rr_store *s, int64_t *requeued, int64_t now, char *err, size_t errsize);
/* While running (every living node, periodically): the analyses left
 * "running" by other nodes that are gone (their node lease is free) go back
 * to "queued", or end "failed" after 3 attempts, as recover does. Never this
 * node's own running analyses, nor a live node's. A backend without other
 * nodes (SQLite; MongoDB, which has no cluster concern) requeues nothing:
 * its running analyses are this living process'. */
int rr_store_ai_sweep(rr_store *s, int64_t *requeued, int64_t now, char *err, size_t errsize);
/* Analyses queued or running end "failed" with `reason` (no provider can
 * run them any more); *count receives how many. */
int rr_store_ai_abandon(rr_store *s, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize);
int rr_store_ai_review_add(rr_store *s, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize);
int rr_store_ai_review_history(rr_store *s, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize);
int rr_store_ai_counts(rr_store *s, rr_ai_counts *out, int64_t since, char *err, size_t errsize);

#endif
