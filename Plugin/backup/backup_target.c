/*
 * backup_target.c - the target interface's dispatch, key lists and key rules
 * (contract in backup_target.h).
 */
#include "backup_target.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../util/errors.h"

static int cmp_keys(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int rr_backup_keys_new(rr_backup_keys **out)
{
  *out = calloc(1, sizeof(**out));
  return *out == NULL ? RR_ENOMEM : 0;
}

int rr_backup_keys_add(rr_backup_keys *k, const char *key, size_t len)
{
  char *copy;

  if (k->count == k->cap) {
    size_t cap = k->cap == 0 ? 64 : k->cap * 2;
    char **items = realloc(k->items, cap * sizeof(*items));
    if (items == NULL)
      return RR_ENOMEM;
    k->items = items;
    k->cap = cap;
  }
  if ((copy = malloc(len + 1)) == NULL)
    return RR_ENOMEM;
  memcpy(copy, key, len);
  copy[len] = '\0';
  k->items[k->count++] = copy;
  return 0;
}

void rr_backup_keys_sort(rr_backup_keys *k)
{
  if (k != NULL && k->count > 1)
    qsort(k->items, k->count, sizeof(*k->items), cmp_keys);
}

void rr_backup_keys_free(rr_backup_keys *k)
{
  size_t i;

  if (k == NULL)
    return;
  for (i = 0; i < k->count; i++)
    free(k->items[i]);
  free(k->items);
  free(k);
}

/* [A-Za-z0-9._-] segments separated by single '/', none "." or "..", no
 * leading or trailing '/'. */
bool rr_backup_key_valid(const char *key)
{
  size_t i, seg = 0, len;

  if (key == NULL || (len = strlen(key)) == 0 || len > RR_BACKUP_KEY_MAX)
    return false;
  for (i = 0; i <= len; i++) {
    char c = key[i];
    if (c == '/' || c == '\0') {
      if (i == seg)
        return false; /* empty segment */
      if ((i - seg == 1 && key[seg] == '.') || (i - seg == 2 && key[seg] == '.' && key[seg + 1] == '.'))
        return false;
      seg = i + 1;
      continue;
    }
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  }
  return true;
}

const char *rr_backup_target_name(const rr_backup_target *t)
{
  return t != NULL && t->ops != NULL ? t->ops->name : "";
}

static int check(rr_backup_target *t, const char *key, char *err, size_t errsize)
{
  if (t == NULL || t->ops == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no backup target");
  if (key != NULL && !rr_backup_key_valid(key))
    return rr_fail(err, errsize, RR_EINVAL,
                   "a backup object key must be 1 to %d characters of A-Z a-z 0-9 . _ - in '/'-separated parts",
                   RR_BACKUP_KEY_MAX);
  return 0;
}

int rr_backup_target_put(rr_backup_target *t, const char *key, const void *data, size_t len, char *err,
                         size_t errsize)
{
  int rc = check(t, key != NULL ? key : "", err, errsize);
  if (rc != 0)
    return rc;
  if (data == NULL && len > 0)
    return rr_fail(err, errsize, RR_EINVAL, "no data to store");
  return t->ops->put(t, key, data, len, err, errsize);
}

int rr_backup_target_get(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize)
{
  int rc = check(t, key != NULL ? key : "", err, errsize);
  if (rc != 0)
    return rc;
  if (out == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no buffer for the object");
  return t->ops->get(t, out, key, err, errsize);
}

int rr_backup_target_list(rr_backup_target *t, rr_backup_keys **keys, const char *prefix, char *err, size_t errsize)
{
  rr_backup_keys *k = NULL;
  int rc = check(t, NULL, err, errsize);

  *keys = NULL;
  if (rc != 0)
    return rc;
  if (prefix == NULL)
    prefix = "";
  if (strlen(prefix) > RR_BACKUP_KEY_MAX || strspn(prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                           "0123456789._-/") != strlen(prefix))
    return rr_fail(err, errsize, RR_EINVAL, "a backup list prefix uses the characters of object keys only");
  if ((rc = rr_backup_keys_new(&k)) != 0)
    return rr_fail(err, errsize, rc, "out of memory");
  rc = t->ops->list(t, k, prefix, err, errsize);
  if (rc != 0) {
    rr_backup_keys_free(k);
    return rc;
  }
  rr_backup_keys_sort(k);
  *keys = k;
  return 0;
}

int rr_backup_target_exists(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize)
{
  int rc = check(t, key != NULL ? key : "", err, errsize);
  *out = false;
  if (rc != 0)
    return rc;
  return t->ops->exists(t, out, key, err, errsize);
}

void rr_backup_target_free(rr_backup_target *t)
{
  if (t != NULL && t->ops != NULL && t->ops->free != NULL)
    t->ops->free(t);
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
  /* curl_global_init counts its calls: harmless beside the AI client's */
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int rr_backup_http_global_init(char *err, size_t errsize)
{
  curl_version_info_data *v;

  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK)
    return rr_fail(err, errsize, RR_ERROR, "libcurl could not be initialised: %s", curl_easy_strerror(global_rc));
  v = curl_version_info(CURLVERSION_NOW);
  if (v == NULL || v->version_num < 0x075500)
    return rr_fail(err, errsize, RR_EUNSUPPORTED, "backup needs libcurl 7.85 or newer (AWS Signature V4, protocol lists)");
  return 0;
}
