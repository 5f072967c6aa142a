/*
 * store_audit.h - the audit concern of the store: the append-only,
 * hash-chained trail of who did what (audit/ writes and verifies it).
 *
 * rr_store_audit_ops is the table a backend fills (see store.h for the
 * contract every operation shares); the rr_store_* functions below are what
 * callers use.
 */
#ifndef RR_STORE_AUDIT_H
#define RR_STORE_AUDIT_H

#include <stddef.h>

#include "records.h"

typedef struct rr_store rr_store;

typedef struct rr_audit_list {
  rr_audit_rec *items;
  size_t count;
} rr_audit_list;
void rr_audit_list_free(rr_audit_list *list);

/* Computes an audit record's hash from the previous record's hash and the
 * record's own fields (see audit/chain.h). Called by audit_append while the
 * store holds its write lock: must be pure and quick. */
typedef int (*rr_audit_hash_fn)(char out[RR_HASH_HEX_SIZE], const char *prev_hash, const rr_audit_rec *rec);

/* What a backend implements for this concern; `impl` is its handle. */
typedef struct rr_store_audit_ops {
  int (*append)(void *impl, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize);
  int (*query)(void *impl, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize);
} rr_store_audit_ops;

/* Append an audit record: the store assigns seq, sets prev_hash to the last
 * record's hash ("" chain start: 64 zeros) and hash = hash(prev, rec), all
 * under one lock so that the chain has no fork. *rec is updated. */
int rr_store_audit_append(rr_store *s, rr_audit_rec *rec, rr_audit_hash_fn hash, char *err, size_t errsize);
/* Records matching the filter, at most filter->limit (1..1000). */
int rr_store_audit_query(rr_store *s, rr_audit_list **out, const rr_audit_filter *filter, char *err, size_t errsize);

#endif
