/*
 * backup_queue.h - the off-site backup worker: copies every stored instance
 * (report objects included: the plugin stores them in Orthanc as instances
 * of the report's study, so they arrive here the same way) to the backup
 * target, sealed, from the durable queue in the store (store_backup.h).
 *
 * Enqueueing: rr_backup_queue_enqueue_items() is given each batch of
 * instances the ingestion worker read from Orthanc's change log, BEFORE the
 * batch and its cursor are stored (ingest.h's before_store hook): a process
 * killed in between reads the batch again and enqueues it again, which the
 * store ignores (one item per target and object key). Orthanc's own
 * callbacks never wait on the queue. Instances stored before backup was
 * enabled are enqueued by a full re-synchronisation of ingestion.
 *
 * Copying: `workers` threads, each with its own target (made by
 * make_target), claim items in arrival order with a lease (LeaseSeconds: a
 * killed node's claims come back when it ends), read the file from Orthanc
 * (GET /instances/{id}/file through the rest source), seal it
 * (backup_object.h: AES-256-GCM, aad = the object's name), put it under
 * studies/<StudyUID>/<SOPUID>.rrb, put the day marker days/<day>/<StudyUID>
 * once per (day, study) and process, and mark the item done with the file's
 * SHA-256 and size. A failed try is retried with back-off (2^n s, at most
 * 10 min) until max_attempts, then the item is a dead letter an
 * administrator re-drives (rr_backup_queue_redrive). At least once: a copy
 * redone after a crash puts the same object under the same name.
 *
 * Threads: the worker threads only make REST calls; every function here may
 * be called from any thread and only takes a short lock or runs store calls
 * (enqueue_items from the ingestion worker). Ownership: store borrowed (must
 * outlive the queue); options copied (the key too; wiped at free).
 * rr_backup_queue_free stops and frees (accepts NULL).
 */
#ifndef RR_BACKUP_BACKUP_QUEUE_H
#define RR_BACKUP_BACKUP_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup/backup_restore.h"
#include "backup/backup_target.h"
#include "store/store.h"
#include "util/orthanc_rest.h"

typedef struct rr_backup_queue rr_backup_queue;

/* Make one target for one worker thread (*out freed by the queue). */
typedef int (*rr_backup_make_target_fn)(void *ctx, rr_backup_target **out, char *err, size_t errsize);

#define RR_BACKUP_DEFAULT_ATTEMPTS 10
#define RR_BACKUP_DEFAULT_LEASE_MS (15 * 60 * 1000)
#define RR_BACKUP_MAX_OBJECT_BYTES ((size_t)2 * 1024 * 1024 * 1024 - 4096)

typedef struct rr_backup_queue_options {
  const char *target_name;      /* "s3" or "cloudinary": the items' target */
  uint8_t key[32];              /* the sealing key */
  unsigned max_attempts;        /* 0: RR_BACKUP_DEFAULT_ATTEMPTS */
  unsigned workers;             /* 1..RR_WORKERS_MAX (0: 1) */
  int64_t lease_ms;             /* 0: RR_BACKUP_DEFAULT_LEASE_MS */
  const char *claimer;          /* this node's name (NULL: the host name); workers add "/<n>" */
  unsigned idle_ms;             /* sleep when nothing is due (0: 1000) */
  rr_backup_make_target_fn make_target;
  void *make_target_ctx;
  rr_rest_source source;        /* reads /instances/{id}/file (get_raw) */
  rr_rest_poster poster;        /* restore: POST /instances */
} rr_backup_queue_options;

/* What the admin route and health show (counts from the store). */
typedef struct rr_backup_status {
  bool running;
  char target[16];
  unsigned workers;
  rr_backup_counts counts;
  int64_t copied_since_start;
  int64_t bytes_since_start; /* plain bytes */
  char last_error[RR_BACKUP_ERROR_SIZE]; /* this process's last failed try, "" */
  int64_t last_error_at;                 /* unix ms */
} rr_backup_status;

/* RR_EINVAL (no store, no target name, no make_target), RR_ENOMEM, RR_ERROR. */
int rr_backup_queue_new(rr_backup_queue **out, rr_store *store, const rr_backup_queue_options *opts);
/* Start the worker threads. 0, or RR_ERROR (logged). Idempotent. */
int rr_backup_queue_start(rr_backup_queue *q);
/* Finish the tries in hand, join the threads. Idempotent. */
void rr_backup_queue_stop(rr_backup_queue *q);
void rr_backup_queue_free(rr_backup_queue *q);

/* Enqueue one item per instance (kind "instance", day = today UTC) and wake
 * a worker. Items without valid UIDs are skipped (logged). 0 or the store's
 * error (the caller retries the batch). */
int rr_backup_queue_enqueue_items(rr_backup_queue *q, const rr_ingest_item *items, size_t count, char *err,
                                  size_t errsize);
/* ingest.h's before_store hook: ctx is the queue. */
int rr_backup_queue_before_store(void *ctx, const rr_ingest_item *items, size_t count, char *err, size_t errsize);

/* Re-drive the dead letter `id` (0: every one) and wake the workers. */
int rr_backup_queue_redrive(rr_backup_queue *q, int64_t *count, int64_t id, char *err, size_t errsize);

/* Restore (backup_restore.h) with a new target of this queue and its key,
 * into the Orthanc of the poster. Synchronous (an admin route's thread). */
int rr_backup_queue_restore(rr_backup_queue *q, rr_backup_restore_result **out, const rr_backup_restore_request *req,
                            char *err, size_t errsize);

int rr_backup_queue_status(rr_backup_queue *q, rr_backup_status *out, char *err, size_t errsize);
rr_store *rr_backup_queue_store(rr_backup_queue *q);
const char *rr_backup_queue_target_name(const rr_backup_queue *q);

/* Run one item synchronously as worker `index` with `target` (tests): *ran
 * says whether an item was due. */
int rr_backup_queue_run_one(rr_backup_queue *q, rr_backup_target *target, unsigned index, bool *ran);

#endif
