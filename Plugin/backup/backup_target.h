/*
 * backup_target.h - an off-site object store holding sealed backup objects.
 *
 * A target maps object keys ("studies/<StudyUID>/<SOPUID>.rrb",
 * "days/<YYYY-MM-DD>/<StudyUID>") to byte strings. Implementations:
 * backup_s3.h (S3-compatible: AWS, MinIO, Ceph, Wasabi) and backup_cloudinary.h.
 * Keys are at most RR_BACKUP_KEY_MAX bytes of [A-Za-z0-9._/-] (checked by
 * rr_backup_key_valid, refused with RR_EINVAL by every operation).
 *
 * Contract:
 *  - put: stores data under key, replacing an existing object (idempotent).
 *  - get: appends the object's bytes to out (caller initialises it and sets its
 *    maximum); RR_ENOTFOUND when there is no such object; RR_EFULL when the
 *    object is larger than out's maximum.
 *  - list: *keys receives a new rr_backup_keys (caller frees with
 *    rr_backup_keys_free) with every key starting with prefix (prefix may be
 *    "" for all), following pagination to the end, sorted ascending
 *    (byte order) whatever order the service answered in.
 *  - exists: *out true/false; a failure to ask is an error, not false.
 *  - Errors: RR_EINVAL (bad key/arguments), RR_ENOTFOUND, RR_EUPSTREAM (the
 *    service answered with an error or could not be reached; err holds a
 *    sentence with the HTTP status and the service's error code/message but
 *    never a secret or signature), RR_ENOMEM, RR_EFULL.
 *  - Threads: a target may be used by ONE thread at a time (one per worker;
 *    create one target per worker thread). Different targets are independent.
 *    Creating targets from several threads at once is safe (curl_global_init
 *    is done once under a lock by rr_backup_http_global_init).
 *  - rr_backup_target_free accepts NULL.
 *
 * Implementations fill an rr_backup_target_ops table and embed
 * rr_backup_target as their first member.
 */
#ifndef RR_BACKUP_TARGET_H
#define RR_BACKUP_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"

#define RR_BACKUP_KEY_MAX 512

typedef struct rr_backup_keys {
  char **items; /* each malloc'd, NUL-terminated */
  size_t count;
  size_t cap;
} rr_backup_keys;

int rr_backup_keys_new(rr_backup_keys **out);
int rr_backup_keys_add(rr_backup_keys *k, const char *key, size_t len);
void rr_backup_keys_sort(rr_backup_keys *k);
void rr_backup_keys_free(rr_backup_keys *k);

typedef struct rr_backup_target rr_backup_target; /* thread-safe: one per worker */

typedef struct rr_backup_target_ops {
  const char *name; /* "s3", "cloudinary" */
  int (*put)(rr_backup_target *t, const char *key, const void *data, size_t len, char *err, size_t errsize);
  int (*get)(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize);
  int (*list)(rr_backup_target *t, rr_backup_keys *keys, const char *prefix, char *err, size_t errsize);
  int (*exists)(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize);
  void (*free)(rr_backup_target *t);
} rr_backup_target_ops;

struct rr_backup_target {
  const rr_backup_target_ops *ops;
};

bool rr_backup_key_valid(const char *key);
/* "s3" or "cloudinary". */
const char *rr_backup_target_name(const rr_backup_target *t);

int rr_backup_target_put(rr_backup_target *t, const char *key, const void *data, size_t len, char *err,
                         size_t errsize);
int rr_backup_target_get(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize); /* RR_ENOTFOUND */
int rr_backup_target_list(rr_backup_target *t, rr_backup_keys **keys, const char *prefix, char *err, size_t errsize);
int rr_backup_target_exists(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize);
void rr_backup_target_free(rr_backup_target *t);

/* Process-wide libcurl initialisation, done once (thread-safe, idempotent). */
int rr_backup_http_global_init(char *err, size_t errsize);

#endif
