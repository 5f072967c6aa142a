/*
 * store_backup.c - the backup concern's calls (store_backup.h): they check
 * what every backend would check, then call the backend's table; plus the
 * helpers the backends share (validation, back-off).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_list.h"
#include "util/errors.h"

#define CONCERN "the backup queue"

static int not_implemented(const rr_store *s, char *err, size_t errsize)
{
  return rr_fail(err, errsize, RR_ESTORE, "the %s store does not implement %s", s->name ? s->name : "unnamed",
                 CONCERN);
}

#define CALL(op, ...) \
  (s->backup == NULL || s->backup->op == NULL ? not_implemented(s, err, errsize) : s->backup->op(s->impl, __VA_ARGS__))

void rr_backup_item_list_free(rr_backup_item_list *list)
{
  if (list == NULL)
    return;
  free(list->items);
  free(list);
}

const rr_store_list_kind rr_backup_item_list_kind = {sizeof(rr_backup_item_list),
                                                     offsetof(rr_backup_item_list, items),
                                                     offsetof(rr_backup_item_list, count), sizeof(rr_backup_item), NULL};

bool rr_backup_day_valid(const char *day)
{
  int i;

  if (day == NULL || strlen(day) != 10)
    return false;
  for (i = 0; i < 10; i++) {
    if (i == 4 || i == 7) {
      if (day[i] != '-')
        return false;
    } else if (day[i] < '0' || day[i] > '9') {
      return false;
    }
  }
  return true;
}

static bool filled(const char *s, size_t max)
{
  return s != NULL && s[0] != '\0' && strlen(s) < max;
}

int rr_backup_new_check(const rr_backup_new *item, char *err, size_t errsize)
{
  if (item == NULL || !filled(item->target, RR_BACKUP_TARGET_SIZE) ||
      !filled(item->object_key, RR_BACKUP_OBJECT_KEY_SIZE) || !filled(item->orthanc_id, RR_OID_SIZE) ||
      !filled(item->study_uid, RR_UID_SIZE) || !filled(item->sop_uid, RR_UID_SIZE))
    return rr_fail(err, errsize, RR_EINVAL,
                   "a backup item needs a target, an object key, an Orthanc id and the study and SOP instance UIDs");
  if (item->kind == NULL || (strcmp(item->kind, "instance") != 0 && strcmp(item->kind, "report") != 0))
    return rr_fail(err, errsize, RR_EINVAL, "a backup item's kind is instance or report");
  if (!rr_backup_day_valid(item->day))
    return rr_fail(err, errsize, RR_EINVAL, "a backup item's day is YYYY-MM-DD");
  return 0;
}

int rr_backup_query_check(const rr_backup_query *q, char *err, size_t errsize)
{
  static const char *const states[] = {"queued", "running", "done", "failed"};
  size_t i;
  bool ok;

  if (q->limit < 1 || q->limit > RR_BACKUP_LIST_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a backup list's limit is between 1 and %d", RR_BACKUP_LIST_MAX);
  if (q->since_day != NULL && q->since_day[0] != '\0' && !rr_backup_day_valid(q->since_day))
    return rr_fail(err, errsize, RR_EINVAL, "a backup list's date is YYYY-MM-DD");
  if (q->state != NULL && q->state[0] != '\0') {
    ok = false;
    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
      ok = ok || strcmp(q->state, states[i]) == 0;
    if (!ok)
      return rr_fail(err, errsize, RR_EINVAL, "a backup item's state is queued, running, done or failed");
  }
  return 0;
}

int64_t rr_backup_backoff_ms(int64_t attempts)
{
  if (attempts < 0)
    attempts = 0;
  if (attempts >= 10 || ((int64_t)1000 << attempts) > RR_BACKUP_MAX_BACKOFF_MS)
    return RR_BACKUP_MAX_BACKOFF_MS;
  return (int64_t)1000 << attempts;
}

int rr_store_backup_enqueue(rr_store *s, bool *created, const rr_backup_new *item, int64_t now, char *err,
                            size_t errsize)
{
  int error;

  if (created != NULL)
    *created = false;
  if ((error = rr_backup_new_check(item, err, errsize)) < 0)
    return error;
  return CALL(enqueue, created, item, now, err, errsize);
}

int rr_store_backup_claim(rr_store *s, rr_backup_item *out, const char *target, const char *claimer, int64_t lease_ms,
                          int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  memset(out, 0, sizeof(*out));
  if (target == NULL || target[0] == '\0' || claimer == NULL || claimer[0] == '\0' ||
      strlen(claimer) >= RR_BACKUP_CLAIMER_SIZE)
    return rr_fail(err, errsize, RR_EINVAL, "a backup claim needs the target and the claimer's name");
  if (lease_ms < 1 || max_attempts < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a backup claim needs a lease and a number of attempts");
  return CALL(claim, out, target, claimer, lease_ms, max_attempts, now, err, errsize);
}

static bool sha256_valid(const char *h)
{
  size_t i;

  if (h == NULL || strlen(h) != 64)
    return false;
  for (i = 0; i < 64; i++)
    if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
      return false;
  return true;
}

int rr_store_backup_done(rr_store *s, int64_t id, const char *claimer, const char *sha256, int64_t size, int64_t now,
                         char *err, size_t errsize)
{
  if (!sha256_valid(sha256) || size < 0 || claimer == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "a copied backup item needs its claimer, SHA-256 (hex) and size");
  return CALL(done, id, claimer, sha256, size, now, err, errsize);
}

int rr_store_backup_fail(rr_store *s, rr_backup_item *out, int64_t id, const char *claimer, const char *error,
                         int64_t max_attempts, int64_t now, char *err, size_t errsize)
{
  if (claimer == NULL || max_attempts < 1)
    return rr_fail(err, errsize, RR_EINVAL, "a failed backup try needs its claimer and a number of attempts");
  return CALL(fail, out, id, claimer, error, max_attempts, now, err, errsize);
}

int rr_store_backup_redrive(rr_store *s, int64_t *count, int64_t id, int64_t now, char *err, size_t errsize)
{
  if (count != NULL)
    *count = 0;
  if (id < 0)
    return rr_fail(err, errsize, RR_EINVAL, "a backup item id is positive");
  return CALL(redrive, count, id, now, err, errsize);
}

int rr_store_backup_get(rr_store *s, rr_backup_item *out, int64_t id, char *err, size_t errsize)
{
  memset(out, 0, sizeof(*out));
  return CALL(get, out, id, err, errsize);
}

int rr_store_backup_list(rr_store *s, rr_backup_item_list **out, const rr_backup_query *q, char *err, size_t errsize)
{
  int error;

  *out = NULL;
  if ((error = rr_backup_query_check(q, err, errsize)) < 0)
    return error;
  return CALL(list, out, q, err, errsize);
}

int rr_store_backup_counts(rr_store *s, rr_backup_counts *out, const char *target, int64_t now, char *err,
                           size_t errsize)
{
  memset(out, 0, sizeof(*out));
  return CALL(counts, out, target, now, err, errsize);
}
