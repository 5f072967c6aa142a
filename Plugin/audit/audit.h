/*
 * audit/audit.h - the audit trail's writer: records are queued without
 * blocking (from Orthanc's HTTP threads and the plugin's own) and appended to
 * the store's hash chain by one background thread.
 *
 * Never blocks a caller and never fails it: when the queue is full the
 * record is dropped and counted; when the store fails, the writer keeps the
 * records queued, retries with back-off and counts the failures. Both counts
 * are reported by rr_audit_get_stats (and by /api/health).
 * Records must not contain passwords or tokens; fields longer than the
 * record's are cut at a UTF-8 boundary.
 * Thread-safe. The store is borrowed and must outlive the writer.
 */
#ifndef RR_AUDIT_AUDIT_H
#define RR_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/chain.h"

#include "store/store.h"

typedef struct rr_audit rr_audit;

typedef struct rr_audit_stats {
  int64_t written;      /* records appended to the store */
  int64_t dropped;      /* records lost because the queue was full */
  int64_t failures;     /* failed store writes (retried) */
  int64_t queued;       /* records waiting now */
  char last_error[256]; /* last store failure, "" once a write succeeds */
  /* the head anchor (audit/anchor.h), when rr_audit_set_anchor was called */
  bool anchored;            /* an anchor file is kept */
  int64_t anchor_seq;       /* records the anchor vouches for (seq of the newest) */
  char anchor_hash[RR_HASH_HEX_SIZE]; /* its hash, "" for an empty trail */
  char anchor_problem[256]; /* the store's head does not match the anchor (tampering), "" if fine */
  char anchor_error[256];   /* the anchor file cannot be written, "" if fine */
} rr_audit_stats;

int rr_audit_new(rr_audit **out, rr_store *store, size_t queue_capacity);
/* Stops the writer (after writing what is queued, or giving up after 5 s)
 * and frees; accepts NULL. */
void rr_audit_free(rr_audit *audit);
/* Keep the trail's head anchored in the file `path` (audit/anchor.h); call
 * before rr_audit_start. A missing file is created from the store's newest
 * record (first start, or the file was removed: logged as a warning). When
 * the store's head no longer matches the file (records deleted while the
 * plugin was stopped), the problem is kept in the stats and the file is left
 * as it is, as evidence (move it aside to start a new anchor). Fails only
 * when the store cannot be read or the file cannot be written. */
int rr_audit_set_anchor(rr_audit *audit, const char *path, char *err, size_t errsize);
int rr_audit_start(rr_audit *audit);
void rr_audit_stop(rr_audit *audit);

/* Queue one record stamped with the current time. Any text may be NULL. */
void rr_audit_log(rr_audit *audit, const char *username, const char *role, const char *source, const char *action,
                  const char *resource, const char *outcome, const char *detail);

void rr_audit_get_stats(rr_audit *audit, rr_audit_stats *out);
/* Wait until the queue is empty or timeout_ms passed; RR_EFULL on timeout. */
int rr_audit_flush(rr_audit *audit, int timeout_ms);

/* After rr_audit_verify found the chain intact: compare its head with the
 * anchor (nothing to do without one). When the newest records are gone, or
 * the trail was rewritten from the anchored record, out->intact becomes false
 * with the reason ("head missing: 3 records deleted after #41"). Call after
 * rr_audit_flush, so that the anchor is current. */
int rr_audit_check_head(rr_audit *audit, rr_audit_verification *v, rr_store *store, char *err, size_t errsize);

#endif
