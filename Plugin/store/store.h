/*
 * store.h - the Reading Room store: a handle and, per concern, a
 * table of functions that each backend implements with the same contract
 * (the way libgit2 splits its odb, refdb and config backends). Callers
 * include this header and use the rr_store_* functions; the concerns are:
 *
 *   store_index.h     studies, series, instances, worklist, ingestion cursor
 *   store_identity.h  users and revoked tokens
 *   store_audit.h     the hash-chained audit trail
 *   store_ai.h        AI analyses and their reviews
 *   store_annotations.h  the viewer's measurements and key images
 *   store_report_templates.h  administrators' report templates
 *   store_report_outputs.h  the queue of report objects for the archive
 *   store_backup.h    the off-site backup queue and its catalogue
 *   store_reports.h   radiology reports, their versions and signatures,
 *                     critical-result acknowledgements, the reading
 *                     timeline (turnaround) and each user's macros
 *   store_cluster.h   several nodes on one store: leases and signals (a
 *                     backend without it is one node: every lease is held,
 *                     signals stay in the process)
 *
 * A backend may implement some concerns only: a NULL table means "not
 * implemented", and every function of that concern then fails with
 * RR_ESTORE and a sentence naming the backend and the concern (its outputs
 * are left as they were). A table that is given has every entry set.
 * The conformance suite checks the contract through these headers only,
 * concern by concern (Tests/unit/test_store_index.c, _identity.c, _audit.c,
 * _ai.c), against every backend listed in Tests/unit/store_fixture.c.
 *
 * Contract shared by all operations:
 *  - Return 0 on success or a negative RR_E* code; RR_ENOTFOUND when the
 *    named thing does not exist. When `err` is given (may be NULL) a human
 *    sentence without patient data is written into it on failure.
 *  - Thread-safe: any number of threads may call any operation at once. The
 *    backend does its own locking; calls do not hold locks across calls.
 *  - Output objects are allocated by the store and released by their *_free
 *    function, which accepts NULL. Inputs are borrowed for the call only.
 */
#ifndef RR_STORE_STORE_H
#define RR_STORE_STORE_H

#include "records.h"
#include "store_ai.h"
#include "store_annotations.h"
#include "store_audit.h"
#include "store_cluster.h"
#include "store_backup.h"
#include "store_identity.h"
#include "store_index.h"
#include "store_report_templates.h"
#include "store_report_outputs.h"
#include "store_reports.h"

/* A store as a backend builds it (calloc'd; rr_store_free releases it). The
 * backend owns `impl`, closed by `close` (may be NULL). New concerns
 * (reports and templates, output and backup queues) add one
 * table pointer each here; backends that do not fill it stay valid. */
struct rr_store {
  const char *name; /* the backend: "sqlite", "postgresql", "mongodb" */
  void (*close)(void *impl);
  void *impl;
  const rr_store_index_ops *index;
  const rr_store_identity_ops *identity;
  const rr_store_audit_ops *audit;
  const rr_store_ai_ops *ai;
  const rr_store_annotations_ops *annotations;
  const rr_store_report_templates_ops *report_templates;
  const rr_store_report_outputs_ops *report_outputs;
  const rr_store_reports_ops *reports; /* reports, versions, acknowledgements, timeline, macros */
  const rr_store_cluster_ops *cluster; /* leases and signals between nodes; NULL: one node */
  /* this handle's signal subscribers (store.c; guarded by a lock of its own) */
  struct rr_store_subscriber {
    char channel[64];
    rr_store_signal_fn fn;
    void *arg;
  } subscribers[RR_STORE_MAX_SUBSCRIBERS];
  size_t subscriber_count;
  const rr_store_backup_ops *backup;   /* the off-site backup queue */
};

/* Close and free a store; accepts NULL. */
void rr_store_free(rr_store *store);

#endif
