/*
 * store_index.h - the index concern of the store: studies, series and
 * instances as ingestion writes them and the worklist reads them, the
 * key-value pairs (ingestion cursor), reconciliation listings and counts.
 *
 * rr_store_index_ops is the table a backend fills (see store.h for the
 * contract every operation shares); the rr_store_* functions below are what
 * callers use. Identifiers: studies, series and instances are keyed by their
 * Orthanc identifiers; a StudyInstanceUID may in rare cases map to several
 * Orthanc studies (same UID, different patients): get_study returns the newest.
 * Writes are idempotent: applying the same batch twice leaves the same state
 * (received_at keeps its first value).
 */
#ifndef RR_STORE_INDEX_H
#define RR_STORE_INDEX_H

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
  rr_instance_rec *instances; /* in storage order; see dicom/display_order.h for display order */
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
  /* Whether the store can be written, as far as the backend can tell
   * without writing: "" when it can, else "read-only" (file or file system
   * not writable), "full" (no space left) or "io-error" (the last write
   * failed with an I/O error); `write_fault` says why, in a sentence. A
   * fault found by a failed write lasts until a write succeeds. */
  char write_fault_kind[16];
  char write_fault[256];
} rr_store_stats;

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

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_index_ops {
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
} rr_store_index_ops;

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

#endif
