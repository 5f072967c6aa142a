/*
 * backup_restore.h - re-import backed-up instances into an Orthanc, from the
 * object store alone (the Reading Room's store may be lost): a study
 * (every object under studies/<StudyUID>/) or everything since a day (the
 * studies named by the day markers days/<YYYY-MM-DD>/<StudyUID> of that day
 * and later). Each object is opened with the key (backup_object.h: the
 * envelope's tag, the object's name as aad, the file's length and SHA-256)
 * and only then POSTed to Orthanc's /instances; an object that does not
 * open (tampered, another key, renamed) is refused with the reason and
 * nothing of it is imported. Importing an instance Orthanc has already is
 * harmless (Orthanc answers AlreadyStored).
 *
 * Synchronous: runs in the caller's thread (an admin REST route; never
 * Orthanc's callbacks) and makes one target request and one Orthanc POST
 * per object. Ownership: target and poster borrowed for the call; *out
 * released with rr_backup_restore_result_free (accepts NULL).
 */
#ifndef RR_BACKUP_BACKUP_RESTORE_H
#define RR_BACKUP_BACKUP_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "backup/backup_target.h"
#include "util/orthanc_rest.h"

#define RR_RESTORE_MAX_ERRORS 100
#define RR_RESTORE_ERROR_SIZE 384

typedef struct rr_backup_restore_error {
  char object_key[RR_BACKUP_KEY_MAX + 1];
  char message[RR_RESTORE_ERROR_SIZE];
} rr_backup_restore_error;

typedef struct rr_backup_restore_result {
  int64_t studies;   /* studies looked at */
  int64_t objects;   /* objects found */
  int64_t restored;  /* POSTed and accepted by Orthanc (new or already there) */
  int64_t already;   /* of those, Orthanc had already */
  int64_t refused;   /* did not open or verify: nothing imported */
  int64_t failed;    /* could not be read from the target or stored by Orthanc */
  int64_t bytes;     /* of the restored DICOM files */
  rr_backup_restore_error errors[RR_RESTORE_MAX_ERRORS]; /* the first ones */
  size_t error_count;
} rr_backup_restore_result;

typedef struct rr_backup_restore_request {
  const char *study_uid; /* one study, or NULL */
  const char *since_day; /* YYYY-MM-DD: every study with a day marker that day or later, or NULL */
} rr_backup_restore_request;

/* Restore per request (exactly one of study_uid and since_day). Returns 0
 * when the objects were gone through (the result says how each went; an
 * unknown study is 0 objects), RR_EINVAL for a bad request (err says why),
 * or the target's error when the object store cannot be listed. */
int rr_backup_restore(rr_backup_restore_result **out, rr_backup_target *target, const uint8_t key[32],
                      rr_rest_poster poster, const rr_backup_restore_request *req, char *err, size_t errsize);
void rr_backup_restore_result_free(rr_backup_restore_result *r);

#endif
