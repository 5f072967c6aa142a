/*
 * store.h - the Reading Room store: an interface (a table of functions and an
 * opaque handle) that every backend implements with the same contract. The
 * conformance suite in Tests/unit/test_store.c checks that contract through
 * this header only, and runs against every backend built.
 *
 * Contract shared by all operations:
 *  - Return 0 on success or a negative RR_E* code; RR_ENOTFOUND when the
 *    named thing does not exist. When `err` is given (may be NULL) a human
 *    sentence without patient data is written into it on failure.
 *  - Thread-safe: any number of threads may call any operation at once. The
 *    backend does its own locking; calls do not hold locks across calls.
 *  - Writes are idempotent: applying the same batch twice leaves the same
 *    state (received_at keeps its first value).
 *  - Output objects are allocated by the store and released by their *_free
 *    function, which accepts NULL. Inputs are borrowed for the call only.
 *  - Identifiers: studies, series and instances are keyed by their Orthanc
 *    identifiers; a StudyInstanceUID may in rare cases map to several Orthanc
 *    studies (same UID, different patients): get_study returns the newest.
 */
#ifndef RR_STORE_STORE_H
#define RR_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

/* A page of worklist rows. */
typedef struct rr_study_list {
  rr_study_rec *items;
  size_t count;
  int64_t total; /* rows matching the filters, ignoring limit/offset */
} rr_study_list;
void rr_study_list_free(rr_study_list *list);

typedef struct rr_series_detail {
  rr_series_rec series;
  rr_instance_rec *instances; /* in storage order; see api/sort.h for display order */
  size_t instance_count;
} rr_series_detail;

typedef struct rr_study_detail {
  rr_study_rec study;
  rr_series_detail *series; /* sorted by series number (no number last), then UID */
  size_t series_count;
} rr_study_detail;
void rr_study_detail_free(rr_study_detail *detail);

/* Orthanc identifier and instance count of a series: reconciliation input. */
typedef struct rr_series_count {
  char orthanc_id[RR_OID_SIZE];
  int64_t instance_count;
} rr_series_count;

typedef struct rr_series_count_list {
  rr_series_count *items;
  size_t count;
} rr_series_count_list;
void rr_series_count_list_free(rr_series_count_list *list);

typedef struct rr_id_list {
  char (*ids)[RR_OID_SIZE];
  size_t count;
} rr_id_list;
void rr_id_list_free(rr_id_list *list);

typedef struct rr_store_stats {
  int64_t studies;
  int64_t series;
  int64_t instances;
} rr_store_stats;

typedef struct rr_user_list {
  rr_user_rec *items;
  size_t count;
} rr_user_list;
void rr_user_list_free(rr_user_list *list);

typedef struct rr_audit_list {
  rr_audit_rec *items;
  size_t count;
} rr_audit_list;
void rr_audit_list_free(rr_audit_list *list);

/* Computes an audit record's hash from the previous record's hash and the
 * record's own fields (see audit/chain.h). Called by audit_append while the
 * store holds its write lock: must be pure and quick. */
typedef int (*rr_audit_hash_fn)(char out[RR_HASH_HEX_SIZE], const char *prev_hash, const rr_audit_rec *rec);

typedef struct rr_ai_list {
  rr_ai_analysis *items;
  size_t count;
} rr_ai_list;
void rr_ai_analysis_dispose(rr_ai_analysis *a);
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

/* A batch of ingested instances applied at once, with the ingestion cursor
 * saved in the same step (atomically where the backend supports it, else
 * after the items). Each item upserts its study, series and instance;
 * counts and modalities of the touched studies and series are recomputed. */
typedef struct rr_ingest_batch {
  const rr_ingest_item *items;
  size_t count;
  const char *cursor_key;   /* NULL: no cursor */
  const char *cursor_value;
  int64_t now;              /* unix seconds used for received/updated */
} rr_ingest_batch;

typedef struct rr_store_ops {
  const char *name; /* "sqlite", "mongodb" */
  void (*close)(void *impl);
  int (*schema_version)(void *impl, int *out, char *err, size_t errsize);
  int (*apply_batch)(void *impl, const rr_ingest_batch *batch, char *err, size_t errsize);
  int (*delete_resource)(void *impl, rr_level level, const char *orthanc_id, char *err, size_t errsize);
  int (*query_worklist)(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize);
  int (*get_study)(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize);
  int (*kv_get)(void *impl, char *out, size_t outsize, const char *key, char *err, size_t errsize);
  int (*kv_set)(void *impl, const char *key, const char *value, char *err, size_t errsize);
  int (*list_series)(void *impl, rr_series_count_list **out, const char *after_orthanc_id, size_t limit, char *err, size_t errsize);
  int (*list_instances)(void *impl, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize);
  int (*stats)(void *impl, rr_store_stats *out, char *err, size_t errsize);

  int (*user_create)(void *impl, const rr_user_rec *user, char *err, size_t errsize);
  int (*user_get)(void *impl, rr_user_rec *out, const char *username, char *err, size_t errsize);
  int (*user_update)(void *impl, const rr_user_rec *user, char *err, size_t errsize);
  int (*user_list)(void *impl, rr_user_list **out, char *err, size_t errsize);
  int (*user_count)(void *impl, int64_t *out, char *err, size_t errsize);

  int (*token_revoke)(void *impl, const char *token_hash, int64_t expires_at, char *err, size_t errsize);
  int (*token_is_revoked)(void *impl, bool *out, const char *token_hash, char *err, size_t errsize);
  int (*token_purge)(void *impl, int64_t now, char *err, size_t errsize);

  int (*audit_append)(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize);
  int (*audit_query)(void *impl, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize);

  int (*ai_create)(void *impl, const rr_ai_analysis *a, char *err, size_t errsize);
  int (*ai_get)(void *impl, rr_ai_analysis *out, const char *id, char *err, size_t errsize);
  int (*ai_update)(void *impl, const rr_ai_analysis *a, char *err, size_t errsize);
  int (*ai_list_study)(void *impl, rr_ai_list **out, const char *study_uid, char *err, size_t errsize);
  int (*ai_claim_next)(void *impl, rr_ai_analysis *out, int64_t now, char *err, size_t errsize);
  int (*ai_recover)(void *impl, int64_t *requeued, int64_t now, char *err, size_t errsize);
  int (*ai_abandon)(void *impl, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize);
  int (*ai_review_add)(void *impl, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize);
  int (*ai_review_history)(void *impl, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize);
  int (*ai_counts)(void *impl, rr_ai_counts *out, int64_t since, char *err, size_t errsize);
} rr_store_ops;

struct rr_store {
  const rr_store_ops *ops;
  void *impl;
};

/* Close and free a store; accepts NULL. */
void rr_store_free(rr_store *store);

int rr_store_schema_version(rr_store *s, int *out, char *err, size_t errsize);
int rr_store_apply_batch(rr_store *s, const rr_ingest_batch *batch, char *err, size_t errsize);
int rr_store_delete(rr_store *s, rr_level level, const char *orthanc_id, char *err, size_t errsize);
int rr_store_query_worklist(rr_store *s, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize);
int rr_store_get_study(rr_store *s, rr_study_detail **out, const char *study_uid, char *err, size_t errsize);
int rr_store_kv_get(rr_store *s, char *out, size_t outsize, const char *key, char *err, size_t errsize);
int rr_store_kv_set(rr_store *s, const char *key, const char *value, char *err, size_t errsize);
/* Series in Orthanc-identifier order, strictly after `after_orthanc_id`
 * ("" = from the start), at most `limit`. */
int rr_store_list_series(rr_store *s, rr_series_count_list **out, const char *after_orthanc_id, size_t limit, char *err, size_t errsize);
/* Orthanc identifiers of the instances of a series (empty list if unknown). */
int rr_store_list_instances(rr_store *s, rr_id_list **out, const char *series_orthanc_id, char *err, size_t errsize);
int rr_store_get_stats(rr_store *s, rr_store_stats *out, char *err, size_t errsize);

/* Users. user_create fails with RR_EEXISTS when the name is taken (in any
 * letter case); user_get and user_update with RR_ENOTFOUND for an unknown
 * name. user_update writes every field but username and created_at. */
int rr_store_user_create(rr_store *s, const rr_user_rec *user, char *err, size_t errsize);
int rr_store_user_get(rr_store *s, rr_user_rec *out, const char *username, char *err, size_t errsize);
int rr_store_user_update(rr_store *s, const rr_user_rec *user, char *err, size_t errsize);
/* All users, by user name. */
int rr_store_user_list(rr_store *s, rr_user_list **out, char *err, size_t errsize);
int rr_store_user_count(rr_store *s, int64_t *out, char *err, size_t errsize);

/* Revoked tokens (by SHA-256 hex), kept until expires_at; purge drops the
 * ones that expired before `now`. Revoking twice is fine. */
int rr_store_token_revoke(rr_store *s, const char *token_hash, int64_t expires_at, char *err, size_t errsize);
int rr_store_token_is_revoked(rr_store *s, bool *out, const char *token_hash, char *err, size_t errsize);
int rr_store_token_purge(rr_store *s, int64_t now, char *err, size_t errsize);

/* Append an audit record: the store assigns seq, sets prev_hash to the last
 * record's hash ("" chain start: 64 zeros) and hash = hash(prev, rec), all
 * under one lock so that the chain has no fork. *rec is updated. */
int rr_store_audit_append(rr_store *s, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize);
/* Records matching the filter, at most filter->limit (1..1000). */
int rr_store_audit_query(rr_store *s, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize);

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
/* Analyses queued or running end "failed" with `reason` (no provider can
 * run them any more); *count receives how many. */
int rr_store_ai_abandon(rr_store *s, int64_t *count, int64_t now, const char *reason, char *err, size_t errsize);
int rr_store_ai_review_add(rr_store *s, const rr_ai_review *r, const char *notes_for_analysis, char *err, size_t errsize);
int rr_store_ai_review_history(rr_store *s, rr_ai_review_list **out, const char *analysis_id, char *err, size_t errsize);
int rr_store_ai_counts(rr_store *s, rr_ai_counts *out, int64_t since, char *err, size_t errsize);

#endif
