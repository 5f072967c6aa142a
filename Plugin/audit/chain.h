/*
 * audit/chain.h - the tamper-evident audit trail: each record carries the
 * SHA-256 of the previous record's hash and of its own fields, so editing,
 * inserting or deleting a record breaks the chain from there on.
 *
 * Hash input (version 1): "rr-audit-v1\n", the previous hash, then seq and
 * at_ms as decimal, then username, role, source, action, resource, outcome
 * and detail each as "<byte length>:<bytes>\n" (length-prefixed, so no field
 * can spill into the next). Pure and thread-safe.
 */
#ifndef RR_AUDIT_CHAIN_H
#define RR_AUDIT_CHAIN_H

#include <stdbool.h>

#include "store/store.h"

/* rr_audit_hash_fn for rr_store_audit_append. */
int rr_audit_hash(char out[RR_HASH_HEX_SIZE], const char *prev_hash, const rr_audit_rec *rec);

typedef struct rr_audit_verification {
  bool intact;
  int64_t records;        /* records checked */
  int64_t first_broken;   /* seq of the first record that does not fit (0 if intact) */
  char reason[256];       /* what did not fit, "" if intact */
} rr_audit_verification;

/* Walk the whole trail in order and check every link. Returns 0 when the
 * walk completed (whatever it found: see out->intact), or a store error. */
int rr_audit_verify(rr_audit_verification *out, rr_store *store, char *err, size_t errsize);

#endif
