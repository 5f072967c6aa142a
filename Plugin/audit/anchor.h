/*
 * audit/anchor.h - the audit trail's head kept apart from the chain: the
 * sequence number and hash of the newest record, in a small file of its own
 * (by default beside the store: "<database>.audit-head").
 *
 * Why: the hash chain (chain.h) shows a record edited, inserted or deleted in
 * the middle, but deleting the NEWEST records leaves a shorter chain that is
 * still intact. With the anchor, /api/audit/verify sees that the head moved
 * back ("head missing: N records deleted after #M").
 *
 * Threat model (README "Audit trail"): the anchor detects deletions made by
 * someone who can change the store (SQL access to the database) but does not
 * also rewrite this file. Someone with write access to both (root on the
 * host) can rewrite both consistently; against that, /api/health exports
 * the anchor (records and head hash) so that an external monitor can keep
 * the series and alert when the count goes down or the hash changes without
 * the count growing.
 *
 * File format (one line): "rr-audit-anchor-v1 <seq> <64 hex>\n". Written
 * atomically: a temporary file beside it, fsync, rename over, fsync of the
 * directory. Pure file functions; no shared state, thread-safe.
 */
#ifndef RR_AUDIT_ANCHOR_H
#define RR_AUDIT_ANCHOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct rr_audit_anchor {
  int64_t seq;                  /* newest record anchored (0: empty trail) */
  char hash[RR_HASH_HEX_SIZE];  /* its hash ("" when seq is 0) */
} rr_audit_anchor;

/* Read the anchor at `path`. RR_ENOTFOUND when the file does not exist;
 * RR_EINVAL (with a sentence) when it is not an anchor; RR_ESTORE on I/O. */
int rr_audit_anchor_read(rr_audit_anchor *out, const char *path, char *err, size_t errsize);
/* Replace the anchor at `path` atomically (see above). */
int rr_audit_anchor_write(const char *path, const rr_audit_anchor *anchor, char *err, size_t errsize);

/* The store's newest audit record as an anchor (seq 0 for an empty trail). */
int rr_audit_anchor_of_store(rr_audit_anchor *out, rr_store *store, char *err, size_t errsize);

/* Compare an anchor with the store: true when the store still holds the
 * anchored record with the same hash (records after it are fine). When not,
 * `reason` says what is wrong ("head missing: 3 records deleted after #41").
 * Returns 0, or a store error. */
int rr_audit_anchor_check(bool *ok, char *reason, size_t reasonsize, const rr_audit_anchor *anchor, rr_store *store,
                          char *err, size_t errsize);

#endif
