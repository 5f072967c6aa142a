/*
 * ingest.h - keeps the store in step with Orthanc.
 *
 * One worker thread follows Orthanc's change log (GET /changes) from a cursor
 * persisted in the store, reads each new instance with its series and study,
 * and applies them to the store in batches together with the cursor
 * (at-least-once; every write is idempotent). Deletions, which the change
 * log does not record, arrive through rr_ingest_deleted() from Orthanc's
 * OnChange callback and are applied by the same worker; because such events
 * are lost when the process dies, the worker also reconciles the store with
 * Orthanc (series present and instance counts) at start-up and on request.
 *
 * Several nodes on one store (store_cluster.h): only the node holding the
 * store's "ingestion" lease follows the change log; every node applies the
 * deletions its own Orthanc reports (OnChange fires only on the node where a
 * change happened) and reconciles at start-up. A node that takes the lease
 * over from another reconciles too, which repairs the deletions a killed
 * holder never applied. The others try to take the lease at every step
 * (PollIntervalMs), so a dead holder is replaced within that time. A node
 * whose Orthanc logged changes (rr_ingest_notify) while it does not hold
 * the lease signals the holder (store signal RR_INGEST_CHANNEL, sent by its
 * worker), which reads the log at once instead of at its next poll.
 *
 * Threads: rr_ingest_notify, rr_ingest_deleted, rr_ingest_request_resync and
 * rr_ingest_get_status never block on I/O (they take a short internal lock)
 * and may be called from Orthanc's callbacks; rr_ingest_refresh makes a REST
 * call (see below). start/stop are called from the plugin's
 * OrthancStarted/OrthancStopped handling, never concurrently.
 * The ingest object borrows the store and the source; both must outlive it.
 */
#ifndef RR_INGEST_INGEST_H
#define RR_INGEST_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/orthanc_rest.h"

typedef struct rr_ingest rr_ingest;

#define RR_INGEST_LEASE "ingestion" /* the store lease of the node that follows the change log */
#define RR_INGEST_CHANNEL "ingest"  /* store signal: a node's Orthanc logged changes (wakes the lease's holder) */

typedef struct rr_ingest_options {
  unsigned batch_size;        /* changes read per step, 1..1000 */
  unsigned poll_interval_ms;  /* re-read the change log at least this often */
  bool reconcile_at_startup;
  size_t max_pending_deletions; /* beyond this, a reconciliation is scheduled */
  /* Given each batch of instances read before the batch and its cursor are
   * stored (the backup queue's enqueue, backup/backup_queue.h); a failure
   * fails the step, which is retried. NULL: none. Runs in the worker. */
  int (*before_store)(void *ctx, const rr_ingest_item *items, size_t count, char *err, size_t errsize);
  void *before_store_ctx;
} rr_ingest_options;

typedef struct rr_ingest_status {
  bool running;
  bool reconciling;
  bool leader;                /* this node holds the ingestion lease (follows the change log) */
  int64_t cursor;             /* last change sequence applied */
  int64_t last_seq;           /* last sequence in Orthanc's change log */
  int64_t backlog;            /* changes not yet applied (last_seq - cursor) */
  int64_t instances_ingested; /* since start */
  int64_t deletions_applied;  /* since start */
  int64_t reconciliations;    /* completed since start */
  int64_t errors;             /* failed steps since start */
  char last_error[256];       /* "" when the last step succeeded */
  int64_t last_error_at;      /* unix seconds, 0 if never */
  int64_t last_success_at;    /* unix seconds of the last applied batch */
} rr_ingest_status;

int rr_ingest_new(rr_ingest **out, rr_store *store, rr_rest_source source, const rr_ingest_options *opts);
/* Stops the worker if running, then frees; accepts NULL. */
void rr_ingest_free(rr_ingest *ing);

int rr_ingest_start(rr_ingest *ing);
void rr_ingest_stop(rr_ingest *ing);

/* New changes exist in Orthanc's log: wake the worker. */
void rr_ingest_notify(rr_ingest *ing);
/* A resource was deleted in Orthanc. */
void rr_ingest_deleted(rr_ingest *ing, rr_level level, const char *orthanc_id);
/* Schedule a full re-synchronisation (reconcile and re-read every instance). */
void rr_ingest_request_resync(rr_ingest *ing);
/* Copy of the current state; backlog is computed from the last known end
 * of the change log. */
void rr_ingest_get_status(rr_ingest *ing, rr_ingest_status *out);

/* Read where Orthanc's change log ends, so that the status's backlog is
 * current. Makes a REST call: never from Orthanc's OnChange/OnStored
 * callbacks (REST handlers and the plugin's threads are fine). */
int rr_ingest_refresh(rr_ingest *ing);

/* Run one synchronous step (for tests): apply pending deletions, reconcile if
 * asked, read one batch of changes. *more is set when more changes wait. */
int rr_ingest_step(rr_ingest *ing, bool *more);
/* Reconcile synchronously (for tests); full re-reads every instance. */
int rr_ingest_reconcile(rr_ingest *ing, bool full);

#endif
