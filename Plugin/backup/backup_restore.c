/*
 * backup_restore.c - re-import from the object store (contract in
 * backup_restore.h).
 */
#include "backup/backup_restore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup_object.h"
#include "store/store_backup.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define ERR_SIZE 512
#define MAX_OBJECT ((size_t)2 * 1024 * 1024 * 1024)

static void note(rr_backup_restore_result *r, const char *key, const char *message)
{
  rr_backup_restore_error *e;

  if (r->error_count >= RR_RESTORE_MAX_ERRORS)
    return;
  e = &r->errors[r->error_count++];
  rr_str_copy(e->object_key, sizeof(e->object_key), key);
  rr_str_copy(e->message, sizeof(e->message), message);
}

/* One object: get, open (verify), POST. Its outcome goes into r. */
static void restore_object(rr_backup_restore_result *r, rr_backup_target *t, const uint8_t key[32],
                           rr_rest_poster poster, const char *object_key)
{
  char err[ERR_SIZE] = "", sha[65];
  json_object *answer = NULL;
  rr_buf sealed, plain;
  int rc;

  r->objects++;
  rr_buf_init(&sealed, MAX_OBJECT);
  rr_buf_init(&plain, MAX_OBJECT);
  if ((rc = rr_backup_target_get(t, &sealed, object_key, err, sizeof(err))) < 0) {
    r->failed++;
    note(r, object_key, err);
    goto out;
  }
  if ((rc = rr_backup_object_open(&plain, sha, key, object_key, sealed.ptr, sealed.len, err, sizeof(err))) < 0) {
    r->refused++;
    note(r, object_key, err);
    rr_log_warning("backup restore: %s refused: %s", object_key, err);
    goto out;
  }
  if ((rc = poster.post_json(poster.ctx, &answer, "/instances", plain.ptr, plain.len, err, sizeof(err))) < 0) {
    r->failed++;
    note(r, object_key, err);
    goto out;
  }
  r->restored++;
  r->bytes += (int64_t)plain.len;
  if (strcmp(rr_json_str(answer, "Status"), "AlreadyStored") == 0)
    r->already++;
out:
  json_object_put(answer);
  rr_buf_dispose(&sealed);
  rr_buf_dispose(&plain);
}

static int restore_study(rr_backup_restore_result *r, rr_backup_target *t, const uint8_t key[32],
                         rr_rest_poster poster, const char *study_uid, char *err, size_t errsize)
{
  char prefix[RR_BACKUP_KEY_MAX];
  rr_backup_keys *keys = NULL;
  size_t i;
  int error;

  if (!rr_uid_valid(study_uid))
    return rr_fail(err, errsize, RR_EINVAL, "not a Study Instance UID");
  snprintf(prefix, sizeof(prefix), "studies/%s/", study_uid);
  if ((error = rr_backup_target_list(t, &keys, prefix, err, errsize)) < 0)
    return error;
  r->studies++;
  for (i = 0; i < keys->count; i++)
    if (rr_str_ends_with(keys->items[i], ".rrb"))
      restore_object(r, t, key, poster, keys->items[i]);
  rr_backup_keys_free(keys);
  return 0;
}

/* The studies of the day markers of since_day and later, each once. */
static int restore_since(rr_backup_restore_result *r, rr_backup_target *t, const uint8_t key[32],
                         rr_rest_poster poster, const char *since_day, char *err, size_t errsize)
{
  rr_backup_keys *days = NULL, *studies = NULL;
  const char *study;
  size_t i, j;
  bool seen;
  int error;

  if (!rr_backup_day_valid(since_day))
    return rr_fail(err, errsize, RR_EINVAL, "the date must be YYYY-MM-DD");
  if ((error = rr_backup_target_list(t, &days, "days/", err, errsize)) < 0)
    return error;
  if ((error = rr_backup_keys_new(&studies)) < 0)
    goto out;
  for (i = 0; i < days->count; i++) {
    const char *k = days->items[i] + 5; /* "<day>/<study>" */
    if (strlen(k) < 12 || k[10] != '/' || strncmp(k, since_day, 10) < 0)
      continue;
    study = k + 11;
    for (j = 0, seen = false; j < studies->count && !seen; j++)
      seen = strcmp(studies->items[j], study) == 0;
    if (!seen && (error = rr_backup_keys_add(studies, study, strlen(study))) < 0)
      goto out;
  }
  for (i = 0; i < studies->count; i++)
    if ((error = restore_study(r, t, key, poster, studies->items[i], err, errsize)) < 0 && error != RR_EINVAL)
      goto out;
  error = 0;
out:
  if (error == RR_ENOMEM)
    rr_fail(err, errsize, error, "out of memory");
  rr_backup_keys_free(days);
  rr_backup_keys_free(studies);
  return error;
}

int rr_backup_restore(rr_backup_restore_result **out, rr_backup_target *target, const uint8_t key[32],
                      rr_rest_poster poster, const rr_backup_restore_request *req, char *err, size_t errsize)
{
  rr_backup_restore_result *r;
  bool by_study = req->study_uid != NULL && req->study_uid[0] != '\0';
  bool by_day = req->since_day != NULL && req->since_day[0] != '\0';
  int error;

  *out = NULL;
  if (by_study == by_day)
    return rr_fail(err, errsize, RR_EINVAL, "give either a study (studyInstanceUid) or a date (since), not both");
  if (poster.post_json == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no way to store instances into Orthanc");
  if ((r = calloc(1, sizeof(*r))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = by_study ? restore_study(r, target, key, poster, req->study_uid, err, errsize)
                   : restore_since(r, target, key, poster, req->since_day, err, errsize);
  if (error < 0) {
    free(r);
    return error;
  }
  *out = r;
  return 0;
}

void rr_backup_restore_result_free(rr_backup_restore_result *r)
{
  free(r);
}
