/*
 * store_backup.h - the backup concern of the store: the durable queue of
 * objects (stored instances and report objects) copied off-site, and the
 * catalogue of those that were copied (backup/backup_queue.h runs it).
 *
 * One item per (target, object key); the key is the object's name in the
 * object store ("studies/<StudyInstanceUID>/<SOPInstanceUID>.rrb"). States:
 *
 *   queued --claim--> running --done--> done (sha256, size kept)
 *              ^         |  \--fail--> queued again after a back-off
 *              |         |              (2^attempts s, at most 10 min), or
 *              |         |              failed (dead letter) once
 *              |         |              `max_attempts` are used
 *              |         \--lease expires (the claimer was killed or hangs)
 *              \------------ claimable again (or failed when no attempts
 *                            are left)
 *   failed --redrive (administrator)--> queued, attempts 0
 *
 * A claim holds the item until `lease_until`; a claimer that outlives its
 * lease may lose the item to another claimer (done and fail then answer
 * RR_ECONFLICT): copies are at least once and idempotent (same key, same
 * content). `attempts` counts the tries started (claim adds one). Times are
 * unix milliseconds; `day` is the UTC date ("YYYY-MM-DD") the object was
 * enqueued, the day marker of the object store.
 *
 * rr_store_backup_ops is the table a backend fills (see store.h for the
 * contract every operation shares). Lists are released with their *_free.
 */
#ifndef RR_STORE_BACKUP_H
#define RR_STORE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

#define RR_BACKUP_TARGET_SIZE 16
#define RR_BACKUP_OBJECT_KEY_SIZE 512
#define RR_BACKUP_ITEM_KIND_SIZE 12
#define RR_BACKUP_STATE_SIZE 12
#define RR_BACKUP_DAY_SIZE 11
#define RR_BACKUP_SHA256_SIZE 65
#define RR_BACKUP_ERROR_SIZE 512
#define RR_BACKUP_CLAIMER_SIZE 128
#define RR_BACKUP_MAX_BACKOFF_MS (10 * 60 * 1000)
#define RR_BACKUP_LIST_MAX 1000

/* What enqueue records (every field required; kind "instance" or "report"). */
typedef struct rr_backup_new {
  const char *target;     /* "s3", "cloudinary" */
  const char *object_key; /* studies/<StudyUID>/<SOPUID>.rrb */
  const char *kind;       /* "instance" (any stored instance) or "report" (a report object) */
  const char *orthanc_id; /* the instance in Orthanc */
  const char *study_uid;
  const char *sop_uid;
  const char *day; /* YYYY-MM-DD (UTC) */
} rr_backup_new;

typedef struct rr_backup_item {
  int64_t id; /* arrival order */
  char target[RR_BACKUP_TARGET_SIZE];
  char object_key[RR_BACKUP_OBJECT_KEY_SIZE];
  char kind[RR_BACKUP_ITEM_KIND_SIZE];
  char orthanc_id[RR_OID_SIZE];
  char study_uid[RR_UID_SIZE];
  char sop_uid[RR_UID_SIZE];
  char day[RR_BACKUP_DAY_SIZE];
  char state[RR_BACKUP_STATE_SIZE]; /* "queued", "running", "done", "failed" */
  int64_t attempts;
  char last_error[RR_BACKUP_ERROR_SIZE];   /* "" when none */
  char claimed_by[RR_BACKUP_CLAIMER_SIZE]; /* the claimer of the last try, "" */
  char sha256[RR_BACKUP_SHA256_SIZE];      /* of the plain object, lowercase hex, when done */
  int64_t size;                            /* of the plain object, when done */
  int64_t next_attempt_at;                 /* a queued item waits until then */
  int64_t lease_until;                     /* a running item is held until then */
  int64_t created_at, updated_at, done_at; /* done_at 0 until done */
} rr_backup_item;

typedef struct rr_backup_item_list {
  rr_backup_item *items;
  size_t count;
} rr_backup_item_list;
void rr_backup_item_list_free(rr_backup_item_list *list);

typedef struct rr_backup_counts {
  int64_t queued, running, done, failed;
  int64_t oldest_waiting_at; /* created_at of the oldest queued or running item, 0 */
  int64_t last_done_at;      /* 0 when nothing was copied */
  int64_t done_last_hour;    /* items done in the hour before `now` */
  char last_error[RR_BACKUP_ERROR_SIZE]; /* of the item that failed last, "" */
  int64_t last_error_at;
} rr_backup_counts;

/* Which items list answers: state "" (any), "queued", "running", "done",
 * "failed"; study_uid (NULL/"": any); since_day (NULL/"": any) keeps items
 * whose day >= since_day; after_id pages (items with a larger id); at most
 * `limit` (1..RR_BACKUP_LIST_MAX) in id order. */
typedef struct rr_backup_query {
  const char *target; /* NULL/"": any */
  const char *state;
  const char *study_uid;
  const char *since_day;
  int64_t after_id;
  int64_t limit;
} rr_backup_query;

typedef struct rr_store_backup_ops {
  int (*enqueue)(void *impl, bool *created, const rr_backup_new *item, int64_t now, char *err, size_t errsize);
  int (*claim)(void *impl, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
               int64_t max_attempts, int64_t now, char *err, size_t errsize);
  int (*done)(void *impl, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now, char *err,
              size_t errsize);
  int (*fail)(void *impl, rr_backup_item *out, int64_t id, const char *claimer, const char *error,
              int64_t max_attempts, int64_t now, char *err, size_t errsize);
  int (*redrive)(void *impl, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize);
  int (*get)(void *impl, rr_backup_item *out, int64_t id, char *err, size_t errsize);
  int (*list)(void *impl, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize);
  int (*counts)(void *impl, rr_backup_counts *out, const char *target, int64_t now, char *err, size_t errsize);
} rr_store_backup_ops;

/*
 * enqueue: a queued item (attempts 0, due now) unless one exists for
 * (target, object_key) already, whatever its state (*created, may be NULL,
 * says which); RR_EINVAL when a field is missing, kind is not instance or
 * report, or day is not YYYY-MM-DD.
 * claim: for `target`, the item with the smallest id that is queued and due
 * (next_attempt_at <= now) or running with an expired lease (lease_until <
 * now) or held by `claimer` itself (a claimer holds one item at a time: an
 * item running under its name was left by its previous process, killed or
 * stopped; claimer names are stable across restarts) becomes running for `claimer` until now + lease_ms (attempts + 1), in
 * one step, so two claimers never hold the same item. Such running items
 * with max_attempts used end failed first ("interrupted").
 * RR_ENOTFOUND when nothing is due.
 * done: the running item held by `claimer` ends done with the plain
 * object's SHA-256 (64 hex digits) and size. fail: it records `error` and is
 * queued again after 2^attempts s (at most RR_BACKUP_MAX_BACKOFF_MS) or ends
 * failed when attempts >= max_attempts; *out (may be NULL) receives it.
 * done and fail: RR_ENOTFOUND for an unknown id, RR_ECONFLICT when the item
 * is not running or another claimer holds it (the lease was lost).
 * redrive: the failed item `id` (0: every failed item) is queued, due now,
 * attempts 0 (its last error kept until the next try); *count (may be NULL)
 * counts them; for one id RR_ENOTFOUND, RR_ECONFLICT when it is not failed.
 * get: one item; RR_ENOTFOUND.
 * list: items matching q (see rr_backup_query); RR_EINVAL for a bad limit,
 * state or day. The catalogue of copied objects is list with state "done".
 * counts: items of `target` (NULL/"": all) by state, as of `now`.
 */
int rr_store_backup_enqueue(rr_store *s, bool *created, const rr_backup_new *item, int64_t now, char *err,
                            size_t errsize);
int rr_store_backup_claim(rr_store *s, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
                          int64_t max_attempts, int64_t now, char *err, size_t errsize);
int rr_store_backup_done(rr_store *s, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now,
                         char *err, size_t errsize);
int rr_store_backup_fail(rr_store *s, rr_backup_item *out, int64_t id, const char *claimer, const char *error,
                         int64_t max_attempts, int64_t now, char *err, size_t errsize);
int rr_store_backup_redrive(rr_store *s, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize);
int rr_store_backup_get(rr_store *s, rr_backup_item *out, int64_t id, char *err, size_t errsize);
int rr_store_backup_list(rr_store *s, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize);
int rr_store_backup_counts(rr_store *s, rr_backup_counts *out, const char *target, int64_t now, char *err,
                           size_t errsize);

/* Shared by the backends: validation of enqueue's and list's inputs
 * (RR_EINVAL with a sentence), and the back-off after `attempts` tries. */
int rr_backup_new_check(const rr_backup_new *item, char *err, size_t errsize);
int rr_backup_query_check(const rr_backup_query *q, char *err, size_t errsize);
bool rr_backup_day_valid(const char *day);
int64_t rr_backup_backoff_ms(int64_t attempts);

#endif
