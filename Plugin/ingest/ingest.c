#include "ingest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/instance_item.h"
#include "ingest/raw_text.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"
#include "util/strmap.h"
#include "util/worker.h"

#define CURSOR_KEY "ingest.cursor"
#define LIST_PAGE 500
#define MAX_SERIES_IN_MAP 10000000
#define MAX_BACKOFF_MS 30000u
#define COALESCE_MS 100u

typedef struct pending_delete {
  rr_level level;
  char id[RR_OID_SIZE];
} pending_delete;

/* Text values decoded from the raw bytes (raw_text.h) of the last few
 * series, keyed by a fingerprint of what Orthanc gave for them: instances of
 * one series arrive one batch after another, and reading (0008,0005) makes
 * Orthanc parse the file. A re-sent instance that changes Orthanc's values
 * changes the fingerprint and is read again. */
#define TEXT_MEMO_SIZE 4

typedef struct text_memo {
  uint64_t fingerprint; /* 0 = empty */
  rr_raw_text texts;
} text_memo;

struct rr_ingest {
  rr_store *store;
  rr_rest_source src;
  rr_ingest_options opts;

  text_memo memo[TEXT_MEMO_SIZE]; /* used by the reading thread only (the worker, or a test's steps) */
  unsigned memo_next;

  rr_workers worker;    /* one thread; its stop flag is under lock */

  pthread_mutex_t lock; /* guards everything below */
  pthread_cond_t cond;
  int notified;
  int changes_seen;     /* this node's Orthanc logged changes since the worker last told the leader */
  int reconcile_pending;
  int resync_pending;
  int was_standby;      /* another node held the ingestion lease at some point */
  pending_delete *deletes;
  size_t delete_head, delete_count;
  rr_ingest_status status;
};

/* ------------------------------------------------------------ utilities */

/* Orthanc identifiers are hex groups joined by '-': accept only URI-safe
 * characters, so an identifier can never change the URI it is put in. */
static bool valid_orthanc_id(const char *id)
{
  size_t i, len = strlen(id);

  if (len == 0 || len >= RR_OID_SIZE)
    return false;
  for (i = 0; i < len; i++)
    if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
          id[i] == '-'))
      return false;
  return true;
}

static bool stopping(rr_ingest *ing)
{
  int s;

  pthread_mutex_lock(&ing->lock);
  s = rr_workers_stopping(&ing->worker);
  pthread_mutex_unlock(&ing->lock);
  return s != 0;
}

static void record_error(rr_ingest *ing, const char *what, const char *detail)
{
  pthread_mutex_lock(&ing->lock);
  snprintf(ing->status.last_error, sizeof(ing->status.last_error), "%s: %s", what, detail);
  ing->status.last_error_at = rr_clock_unix_s();
  ing->status.errors++;
  pthread_mutex_unlock(&ing->lock);
  rr_log_warning("ingestion: %s: %s", what, detail);
}

static int get_json(rr_ingest *ing, json_object **out, char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int get_json(rr_ingest *ing, json_object **out, char *err, size_t errsize, const char *fmt, ...)
{
  char uri[256];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(uri, sizeof(uri), fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(uri))
    return RR_EINVAL;
  return ing->src.get_json(ing->src.ctx, out, uri, err, errsize);
}

/* ------------------------------------------------------ reading instances */

typedef struct parent_cache {
  char series_id[RR_OID_SIZE];
  json_object *series;
  char study_id[RR_OID_SIZE];
  json_object *study;
} parent_cache;

static void cache_dispose(parent_cache *c)
{
  json_object_put(c->series);
  json_object_put(c->study);
  memset(c, 0, sizeof(*c));
}

static int cached_get(rr_ingest *ing, json_object **slot, char *slot_id, const char *kind, const char *id, char *err,
                      size_t errsize)
{
  int error;

  if (*slot != NULL && strcmp(slot_id, id) == 0)
    return 0;
  json_object_put(*slot);
  *slot = NULL;
  slot_id[0] = '\0';
  if (!valid_orthanc_id(id))
    return RR_EINVAL;
  if ((error = get_json(ing, slot, err, errsize, "/%s/%s", kind, id)) < 0)
    return error;
  rr_str_copy(slot_id, RR_OID_SIZE, id);
  return 0;
}

/* Text values the plugin decodes itself where Orthanc's decoding is wrong
 * (raw_text.h), read once per series and Orthanc values (text_memo).
 * Failures leave Orthanc's values and are logged without patient data
 * (identifiers and the character set only). */
static const rr_raw_text *texts_for(rr_ingest *ing, const rr_ingest_item *item, const char *instance_id)
{
  uint64_t fp = rr_raw_text_fingerprint(item);
  text_memo *m;
  char why[256] = "";
  size_t i;
  int error;

  for (i = 0; i < TEXT_MEMO_SIZE; i++)
    if (ing->memo[i].fingerprint == fp)
      return &ing->memo[i].texts;
  m = &ing->memo[ing->memo_next];
  ing->memo_next = (ing->memo_next + 1) % TEXT_MEMO_SIZE;
  error = rr_raw_text_read(&m->texts, &ing->src, instance_id, why, sizeof(why));
  if (error < 0) {
    memset(&m->texts, 0, sizeof(m->texts));
    rr_log_warning("ingestion: instance %s: text values left as Orthanc decoded them (%s)", instance_id,
                   why[0] ? why : "raw values unreadable");
    m->fingerprint = 0; /* try again with the next instance */
    return &m->texts;
  }
  if (m->texts.kept > 0)
    rr_log_warning("ingestion: instance %s: %u text value(s) in character set '%.64s' left as Orthanc decoded them "
                   "(%s)",
                   instance_id, m->texts.kept, m->texts.charset, why);
  m->fingerprint = fp;
  return &m->texts;
}

/* Read one instance and its parents. RR_ENOTFOUND when it vanished. */
static int fetch_item(rr_ingest *ing, rr_ingest_item *item, const char *instance_id, parent_cache *cache, char *err,
                      size_t errsize)
{
  json_object *inst = NULL, *meta = NULL;
  int error;

  if (!valid_orthanc_id(instance_id))
    return RR_EINVAL;
  if ((error = get_json(ing, &inst, err, errsize, "/instances/%s", instance_id)) < 0)
    goto out;
  if ((error = get_json(ing, &meta, err, errsize, "/instances/%s/metadata?expand", instance_id)) < 0 &&
      error != RR_ENOTFOUND)
    goto out;
  if ((error = cached_get(ing, &cache->series, cache->series_id, "series", rr_json_str(inst, "ParentSeries"), err,
                          errsize)) < 0)
    goto out;
  if ((error = cached_get(ing, &cache->study, cache->study_id, "studies", rr_json_str(cache->series, "ParentStudy"),
                          err, errsize)) < 0)
    goto out;
  if ((error = rr_ingest_build_item(item, inst, meta, cache->series, cache->study)) == 0)
    rr_raw_text_apply(item, texts_for(ing, item, instance_id));
out:
  json_object_put(inst);
  json_object_put(meta);
  return error;
}

/* Read and store the given instances (with an optional cursor). Instances
 * that vanished or cannot be indexed are skipped (and logged). */
static int ingest_ids(rr_ingest *ing, const char *const *ids, size_t count, const char *cursor)
{
  rr_ingest_item *items = NULL;
  rr_ingest_batch batch;
  parent_cache cache;
  char err[256] = "";
  size_t i, n = 0;
  int error = 0;

  memset(&cache, 0, sizeof(cache));
  if (count > 0 && (items = calloc(count, sizeof(*items))) == NULL)
    return RR_ENOMEM;
  for (i = 0; i < count; i++) {
    error = fetch_item(ing, &items[n], ids[i], &cache, err, sizeof(err));
    if (error == 0) {
      n++;
    } else if (error == RR_ENOTFOUND) {
      error = 0; /* deleted since: nothing to index */
    } else if (error == RR_EINVAL) {
      rr_log_warning("ingestion: instance %s cannot be indexed (missing identifiers), skipped", ids[i]);
      error = 0;
    } else {
      record_error(ing, "reading Orthanc", err);
      goto out;
    }
  }
  memset(&batch, 0, sizeof(batch));
  batch.items = items;
  batch.count = n;
  batch.cursor_key = cursor ? CURSOR_KEY : NULL;
  batch.cursor_value = cursor;
  batch.now = rr_clock_unix_s();
  if (ing->opts.before_store != NULL && n > 0 &&
      (error = ing->opts.before_store(ing->opts.before_store_ctx, items, n, err, sizeof(err))) < 0) {
    record_error(ing, "queueing backups", err);
    goto out;
  }
  if ((error = rr_store_apply_batch(ing->store, &batch, err, sizeof(err))) < 0) {
    record_error(ing, "writing the store", err);
    goto out;
  }
  pthread_mutex_lock(&ing->lock);
  ing->status.instances_ingested += (int64_t)n;
  ing->status.last_success_at = batch.now;
  ing->status.last_error[0] = '\0';
  pthread_mutex_unlock(&ing->lock);
out:
  cache_dispose(&cache);
  free(items);
  return error;
}

/* --------------------------------------------------------------- deletions */

static int apply_deletions(rr_ingest *ing)
{
  pending_delete d;
  char err[256] = "";
  int error;

  for (;;) {
    pthread_mutex_lock(&ing->lock);
    if (ing->delete_count == 0) {
      pthread_mutex_unlock(&ing->lock);
      return 0;
    }
    d = ing->deletes[ing->delete_head];
    pthread_mutex_unlock(&ing->lock);

    error = rr_store_delete(ing->store, d.level, d.id, err, sizeof(err));
    if (error < 0 && error != RR_ENOTFOUND) {
      record_error(ing, "deleting from the store", err);
      return error; /* kept in the queue: retried on the next step */
    }
    pthread_mutex_lock(&ing->lock);
    ing->delete_head = (ing->delete_head + 1) % ing->opts.max_pending_deletions;
    ing->delete_count--;
    if (error == 0)
      ing->status.deletions_applied++;
    pthread_mutex_unlock(&ing->lock);
  }
}

/* ---------------------------------------------------------- reconciliation */

static int id_array(json_object *arr, const char ***out, size_t *count)
{
  size_t i, n;

  *out = NULL;
  *count = 0;
  if (arr == NULL || !json_object_is_type(arr, json_type_array))
    return 0;
  n = json_object_array_length(arr);
  if (n == 0)
    return 0;
  if ((*out = calloc(n, sizeof(char *))) == NULL)
    return RR_ENOMEM;
  for (i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(arr, i);
    if (json_object_is_type(v, json_type_string))
      (*out)[(*count)++] = json_object_get_string(v);
  }
  return 0;
}

static int ingest_in_batches(rr_ingest *ing, const char *const *ids, size_t count)
{
  size_t i, n;
  int error = 0;

  for (i = 0; i < count && error == 0; i += n) {
    if (stopping(ing))
      return RR_ESTOPPED;
    n = count - i < ing->opts.batch_size ? count - i : ing->opts.batch_size;
    error = ingest_ids(ing, ids + i, n, NULL);
  }
  return error;
}

/* Make one series of the store equal to Orthanc's. */
static int reconcile_series(rr_ingest *ing, const char *series_id, bool full)
{
  json_object *series = NULL;
  const char **orthanc_ids = NULL, **missing = NULL;
  rr_id_list *stored = NULL;
  rr_strmap *in_orthanc = NULL;
  size_t count = 0, i, nmissing = 0;
  char err[256] = "";
  int error;

  if (!valid_orthanc_id(series_id))
    return 0;
  error = get_json(ing, &series, err, sizeof(err), "/series/%s", series_id);
  if (error == RR_ENOTFOUND) {
    error = rr_store_delete(ing->store, RR_LEVEL_SERIES, series_id, err, sizeof(err));
    return error == RR_ENOTFOUND ? 0 : error;
  }
  if (error < 0) {
    record_error(ing, "reading Orthanc", err);
    return error;
  }
  if ((error = id_array(rr_json_obj(series, "Instances"), &orthanc_ids, &count)) < 0 ||
      (error = rr_strmap_new(&in_orthanc, count + 1)) < 0)
    goto out;
  for (i = 0; i < count; i++)
    if ((error = rr_strmap_put(in_orthanc, orthanc_ids[i], 0)) < 0)
      goto out;
  if ((error = rr_store_list_instances(ing->store, &stored, series_id, err, sizeof(err))) < 0) {
    record_error(ing, "reading the store", err);
    goto out;
  }
  for (i = 0; i < stored->count; i++) {
    if (rr_strmap_get(in_orthanc, stored->ids[i], NULL)) {
      rr_strmap_mark(in_orthanc, stored->ids[i]);
      continue;
    }
    error = rr_store_delete(ing->store, RR_LEVEL_INSTANCE, stored->ids[i], err, sizeof(err));
    if (error < 0 && error != RR_ENOTFOUND) {
      record_error(ing, "deleting from the store", err);
      goto out;
    }
  }
  if (full) {
    error = ingest_in_batches(ing, orthanc_ids, count);
  } else {
    const char *key;
    int64_t v;
    size_t pos = 0;

    if (count > 0 && (missing = calloc(count, sizeof(char *))) == NULL) {
      error = RR_ENOMEM;
      goto out;
    }
    while (rr_strmap_next(in_orthanc, &pos, &key, &v))
      missing[nmissing++] = key;
    error = ingest_in_batches(ing, missing, nmissing);
  }
out:
  free(missing);
  free(orthanc_ids);
  rr_strmap_free(in_orthanc);
  rr_id_list_free(stored);
  json_object_put(series);
  return error;
}

/* Put every series Orthanc has into `orthanc_series`, with its instance
 * count, reading Orthanc's list page by page. */
static int list_orthanc_series(rr_ingest *ing, rr_strmap *orthanc_series)
{
  json_object *list = NULL;
  char err[256] = "";
  size_t since = 0, i, n;
  int error;

  for (;;) {
    if (stopping(ing)) {
      error = RR_ESTOPPED;
      goto out;
    }
    if ((error = get_json(ing, &list, err, sizeof(err), "/series?expand&since=%zu&limit=%d", since, LIST_PAGE)) < 0) {
      record_error(ing, "listing Orthanc's series", err);
      goto out;
    }
    n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
    for (i = 0; i < n; i++) {
      json_object *s = json_object_array_get_idx(list, i), *inst = rr_json_obj(s, "Instances");
      size_t ninst = inst && json_object_is_type(inst, json_type_array) ? json_object_array_length(inst) : 0;
      if ((error = rr_strmap_put(orthanc_series, rr_json_str(s, "ID"), (int64_t)ninst)) < 0)
        goto out;
    }
    json_object_put(list);
    list = NULL;
    if (n < LIST_PAGE)
      break;
    since += n;
  }
out:
  json_object_put(list);
  return error;
}

/* Go through every series the store has, page by page: drop those Orthanc
 * no longer has, repair those whose instance count differs (all of them when
 * `full`), and mark in `orthanc_series` the ones seen. */
static int reconcile_stored_series(rr_ingest *ing, rr_strmap *orthanc_series, bool full)
{
  rr_series_count_list *page = NULL;
  char err[256] = "", after[RR_OID_SIZE] = "";
  size_t i, n;
  int64_t count;
  int error;

  for (;;) {
    if ((error = rr_store_list_series(ing->store, &page, after, LIST_PAGE, err, sizeof(err))) < 0) {
      record_error(ing, "reading the store", err);
      goto out;
    }
    for (i = 0; i < page->count; i++) {
      const rr_series_count *sc = &page->items[i];
      if (stopping(ing)) {
        error = RR_ESTOPPED;
        goto out;
      }
      if (!rr_strmap_get(orthanc_series, sc->orthanc_id, &count)) {
        error = rr_store_delete(ing->store, RR_LEVEL_SERIES, sc->orthanc_id, err, sizeof(err));
        if (error < 0 && error != RR_ENOTFOUND) {
          record_error(ing, "deleting from the store", err);
          goto out;
        }
        error = 0;
        continue;
      }
      rr_strmap_mark(orthanc_series, sc->orthanc_id);
      if ((full || count != sc->instance_count) && (error = reconcile_series(ing, sc->orthanc_id, full)) < 0)
        goto out;
    }
    n = page->count;
    if (n > 0)
      rr_str_copy(after, sizeof(after), page->items[n - 1].orthanc_id);
    rr_series_count_list_free(page);
    page = NULL;
    if (n < LIST_PAGE)
      break;
  }
out:
  rr_series_count_list_free(page);
  return error;
}

int rr_ingest_reconcile(rr_ingest *ing, bool full)
{
  rr_strmap *orthanc_series = NULL;
  size_t pos = 0;
  const char *key;
  int64_t count;
  int error;

  pthread_mutex_lock(&ing->lock);
  ing->status.reconciling = true;
  pthread_mutex_unlock(&ing->lock);
  rr_log_info("ingestion: reconciling the worklist with Orthanc (%s)", full ? "full re-sync" : "series and counts");

  if ((error = rr_strmap_new(&orthanc_series, MAX_SERIES_IN_MAP)) < 0 ||
      (error = list_orthanc_series(ing, orthanc_series)) < 0 ||
      (error = reconcile_stored_series(ing, orthanc_series, full)) < 0)
    goto out;
  /* series Orthanc has and the store does not */
  while (rr_strmap_next(orthanc_series, &pos, &key, &count))
    if ((error = reconcile_series(ing, key, full)) < 0)
      goto out;

out:
  rr_strmap_free(orthanc_series);
  pthread_mutex_lock(&ing->lock);
  ing->status.reconciling = false;
  if (error == 0)
    ing->status.reconciliations++;
  pthread_mutex_unlock(&ing->lock);
  if (error == 0)
    rr_log_info("ingestion: reconciliation done");
  return error;
}

/* -------------------------------------------------------- the change log */

static int read_cursor(rr_ingest *ing, int64_t *cursor)
{
  char value[32], err[256] = "";
  int error = rr_store_kv_get(ing->store, value, sizeof(value), CURSOR_KEY, err, sizeof(err));

  *cursor = 0;
  if (error == RR_ENOTFOUND)
    return 0;
  if (error < 0) {
    record_error(ing, "reading the cursor", err);
    return error;
  }
  if (rr_parse_i64(cursor, value, 0, INT64_MAX) < 0)
    *cursor = 0;
  return 0;
}

static int log_end(rr_ingest *ing, int64_t *last)
{
  json_object *obj = NULL;
  json_object *v;
  char err[256] = "";
  int error = get_json(ing, &obj, err, sizeof(err), "/changes?last");

  *last = 0;
  if (error < 0)
    return error;
  if ((v = rr_json_obj(obj, "Last")) != NULL)
    *last = json_object_get_int64(v);
  json_object_put(obj);
  return 0;
}

static int follow_changes(rr_ingest *ing, bool *more)
{
  json_object *obj = NULL, *changes, *done;
  const char **ids = NULL;
  char err[256] = "", cursor_text[32];
  int64_t cursor, seq, max_seq, last;
  size_t i, n, nids = 0;
  int error;

  *more = false;
  if ((error = read_cursor(ing, &cursor)) < 0)
    return error;
  if ((error = get_json(ing, &obj, err, sizeof(err), "/changes?since=%" PRId64 "&limit=%u", cursor,
                        ing->opts.batch_size)) < 0) {
    record_error(ing, "reading Orthanc's change log", err);
    return error;
  }
  changes = rr_json_obj(obj, "Changes");
  n = changes && json_object_is_type(changes, json_type_array) ? json_object_array_length(changes) : 0;
  done = rr_json_obj(obj, "Done");
  max_seq = cursor;
  if (n > 0 && (ids = calloc(n, sizeof(char *))) == NULL) {
    error = RR_ENOMEM;
    goto out;
  }
  for (i = 0; i < n; i++) {
    json_object *c = json_object_array_get_idx(changes, i), *s = rr_json_obj(c, "Seq");
    seq = s ? json_object_get_int64(s) : 0;
    if (seq > max_seq)
      max_seq = seq;
    if (strcmp(rr_json_str(c, "ChangeType"), "NewInstance") == 0)
      ids[nids++] = rr_json_str(c, "ID");
  }
  if (n == 0) {
    /* an Orthanc database that was replaced restarts its sequence */
    if (log_end(ing, &last) == 0 && last < cursor) {
      rr_log_warning("ingestion: Orthanc's change log restarted (cursor %" PRId64 ", log end %" PRId64
                     "): re-reading it and reconciling", cursor, last);
      pthread_mutex_lock(&ing->lock);
      ing->reconcile_pending = 1;
      pthread_mutex_unlock(&ing->lock);
      error = rr_store_kv_set(ing->store, CURSOR_KEY, "0", err, sizeof(err));
      *more = true;
      goto out;
    }
  } else {
    snprintf(cursor_text, sizeof(cursor_text), "%" PRId64, max_seq);
    if ((error = ingest_ids(ing, ids, nids, cursor_text)) < 0)
      goto out;
  }
  *more = done != NULL && !json_object_get_boolean(done) && n > 0;
  last = max_seq;
  if (*more)
    log_end(ing, &last);
  pthread_mutex_lock(&ing->lock);
  ing->status.cursor = max_seq;
  if (last > ing->status.last_seq || !*more)
    ing->status.last_seq = last > max_seq ? last : max_seq;
  pthread_mutex_unlock(&ing->lock);
out:
  free(ids);
  json_object_put(obj);
  return error;
}

/* Take or keep the ingestion lease (store_cluster.h; always held on a
 * one-node store). A node that takes it over from another reconciles: the
 * one before may have died with deletions it never applied. */
static int take_lease(rr_ingest *ing, bool *leader)
{
  char err[256] = "";
  int error;

  if ((error = rr_store_lease_try(ing->store, leader, RR_INGEST_LEASE, err, sizeof(err))) < 0) {
    record_error(ing, "taking the ingestion lease", err);
    return error;
  }
  pthread_mutex_lock(&ing->lock);
  if (*leader && !ing->status.leader) {
    if (ing->was_standby) {
      ing->reconcile_pending = 1;
      rr_log_warning("ingestion: this node now follows Orthanc's change log (took the lease over)");
    }
  } else if (!*leader && !ing->was_standby) {
    rr_log_info("ingestion: another node follows Orthanc's change log; this one stands by");
  }
  if (!*leader)
    ing->was_standby = 1;
  ing->status.leader = *leader;
  pthread_mutex_unlock(&ing->lock);
  return 0;
}

int rr_ingest_step(rr_ingest *ing, bool *more)
{
  int error, reconcile, resync;
  bool leader = false;

  *more = false;
  /* every node applies its own deletions; only the lease's holder follows the log */
  if ((error = apply_deletions(ing)) < 0 || (error = take_lease(ing, &leader)) < 0)
    return error;
  if (leader && ((error = follow_changes(ing, more)) < 0 || *more))
    return error;
  /* the change log is read up to its end: now repair what it cannot tell
   * (on any node: one restarting after it died with deletions it never
   * applied repairs them itself, leader or not) */
  pthread_mutex_lock(&ing->lock);
  reconcile = ing->reconcile_pending;
  resync = ing->resync_pending;
  ing->reconcile_pending = 0;
  ing->resync_pending = 0;
  pthread_mutex_unlock(&ing->lock);
  if (reconcile || resync) {
    error = rr_ingest_reconcile(ing, resync != 0);
    if (error < 0) {
      pthread_mutex_lock(&ing->lock);
      ing->reconcile_pending |= reconcile;
      ing->resync_pending |= resync;
      pthread_mutex_unlock(&ing->lock);
    }
  }
  return error;
}

/* ------------------------------------------------------------- the thread */

/* Sleep up to `ms`; wake early on stop, and on a notification when asked. */
static void wait_ms(rr_ingest *ing, unsigned ms, bool wake_on_notify)
{
  struct timespec ts;

  rr_clock_deadline(&ts, ms);
  pthread_mutex_lock(&ing->lock);
  while (!rr_workers_stopping(&ing->worker) && !(wake_on_notify && ing->notified)) {
    if (rr_clock_cond_wait_until(&ing->cond, &ing->lock, &ts))
      break;
  }
  pthread_mutex_unlock(&ing->lock);
}

/* A node that does not follow the change log tells the one that does when
 * its own Orthanc logged changes (OnChange fires only on the node where an
 * instance was stored): without it the leader would find them only at its
 * next poll, Ingest.PollIntervalMs later. In the worker, never in Orthanc's
 * callback: the signal is a round trip to the store. At most once per step. */
static void tell_leader(rr_ingest *ing)
{
  char err[256] = "";
  bool tell;

  pthread_mutex_lock(&ing->lock);
  tell = ing->changes_seen && !ing->status.leader;
  ing->changes_seen = 0;
  pthread_mutex_unlock(&ing->lock);
  if (tell && rr_store_signal(ing->store, RR_INGEST_CHANNEL, "changes", err, sizeof(err)) < 0)
    rr_log_warning("ingestion: cannot tell the node that follows the change log about new changes: %s", err);
}

/* Signals on RR_INGEST_CHANNEL (store_cluster.h: on the store's listener
 * thread): another node's Orthanc logged changes, or "*" (signals may have
 * been missed): wake the worker. Never blocks. */
static void on_ingest_signal(void *arg, const char *channel, const char *payload)
{
  rr_ingest *ing = arg;

  (void)channel;
  (void)payload;
  pthread_mutex_lock(&ing->lock);
  ing->notified = 1;
  pthread_cond_signal(&ing->cond);
  pthread_mutex_unlock(&ing->lock);
}

static void follow(void *arg, unsigned index)
{
  rr_ingest *ing = arg;
  unsigned backoff = 0;
  bool more;
  int error;

  (void)index;
  rr_log_info("ingestion: worker started");
  while (!stopping(ing)) {
    pthread_mutex_lock(&ing->lock);
    ing->notified = 0;
    pthread_mutex_unlock(&ing->lock);
    error = rr_ingest_step(ing, &more);
    tell_leader(ing);
    if (error == RR_ESTOPPED)
      break;
    if (error < 0) {
      /* Orthanc or the store failed: retry later, whatever arrives meanwhile */
      backoff = backoff == 0 ? 250 : (backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2);
      wait_ms(ing, backoff, false);
      continue;
    }
    backoff = 0;
    if (!more) {
      wait_ms(ing, ing->opts.poll_interval_ms, true);
      /* instances come in bursts (a C-STORE association): let a burst gather
       * so that one batch reads each series and study once */
      wait_ms(ing, COALESCE_MS, false);
    }
  }
  rr_log_info("ingestion: worker stopped");
}

int rr_ingest_new(rr_ingest **out, rr_store *store, rr_rest_source source, const rr_ingest_options *opts)
{
  rr_ingest *ing;
  char err[256] = "";

  *out = NULL;
  if (store == NULL || source.get_json == NULL || opts == NULL || opts->batch_size == 0 ||
      opts->max_pending_deletions == 0)
    return RR_EINVAL;
  if ((ing = calloc(1, sizeof(*ing))) == NULL)
    return RR_ENOMEM;
  ing->deletes = calloc(opts->max_pending_deletions, sizeof(*ing->deletes));
  if (ing->deletes == NULL) {
    free(ing);
    return RR_ENOMEM;
  }
  ing->store = store;
  ing->src = source;
  ing->opts = *opts;
  ing->reconcile_pending = opts->reconcile_at_startup;
  if (rr_clock_cond_init(&ing->cond) < 0) {
    free(ing->deletes);
    free(ing);
    return RR_ERROR;
  }
  pthread_mutex_init(&ing->lock, NULL);
  rr_workers_init(&ing->worker, &ing->lock, &ing->cond);
  if (rr_store_subscribe(store, RR_INGEST_CHANNEL, on_ingest_signal, ing, err, sizeof(err)) < 0) {
    rr_log_error("ingestion: cannot subscribe to the other nodes' changes: %s", err);
    rr_ingest_free(ing);
    return RR_ERROR;
  }
  *out = ing;
  return 0;
}

int rr_ingest_start(rr_ingest *ing)
{
  int error;

  if (rr_workers_running(&ing->worker))
    return 0;
  pthread_mutex_lock(&ing->lock);
  ing->status.running = true;
  pthread_mutex_unlock(&ing->lock);
  if ((error = rr_workers_start(&ing->worker, 1, follow, ing)) < 0) {
    pthread_mutex_lock(&ing->lock);
    ing->status.running = false;
    pthread_mutex_unlock(&ing->lock);
  }
  return error;
}

void rr_ingest_stop(rr_ingest *ing)
{
  if (ing == NULL || !rr_workers_running(&ing->worker))
    return;
  rr_workers_stop(&ing->worker, NULL, NULL);
  pthread_mutex_lock(&ing->lock);
  ing->status.running = false;
  pthread_mutex_unlock(&ing->lock);
}

void rr_ingest_free(rr_ingest *ing)
{
  if (ing == NULL)
    return;
  rr_ingest_stop(ing);
  rr_store_unsubscribe(ing->store, on_ingest_signal, ing);
  pthread_mutex_destroy(&ing->lock);
  pthread_cond_destroy(&ing->cond);
  free(ing->deletes);
  free(ing);
}

void rr_ingest_notify(rr_ingest *ing)
{
  pthread_mutex_lock(&ing->lock);
  ing->notified = 1;
  ing->changes_seen = 1;
  pthread_cond_signal(&ing->cond);
  pthread_mutex_unlock(&ing->lock);
}

void rr_ingest_deleted(rr_ingest *ing, rr_level level, const char *orthanc_id)
{
  size_t slot;

  pthread_mutex_lock(&ing->lock);
  if (ing->delete_count == ing->opts.max_pending_deletions) {
    /* too many at once: the reconciliation will find them */
    ing->reconcile_pending = 1;
  } else {
    slot = (ing->delete_head + ing->delete_count) % ing->opts.max_pending_deletions;
    ing->deletes[slot].level = level;
    rr_str_copy(ing->deletes[slot].id, RR_OID_SIZE, orthanc_id);
    ing->delete_count++;
  }
  ing->notified = 1;
  pthread_cond_signal(&ing->cond);
  pthread_mutex_unlock(&ing->lock);
}

void rr_ingest_request_resync(rr_ingest *ing)
{
  pthread_mutex_lock(&ing->lock);
  ing->resync_pending = 1;
  ing->notified = 1;
  pthread_cond_signal(&ing->cond);
  pthread_mutex_unlock(&ing->lock);
}

void rr_ingest_get_status(rr_ingest *ing, rr_ingest_status *out)
{
  pthread_mutex_lock(&ing->lock);
  *out = ing->status;
  if (ing->resync_pending || ing->reconcile_pending)
    out->reconciling = true;
  out->backlog = out->last_seq > out->cursor ? out->last_seq - out->cursor : 0;
  if (ing->delete_count > 0)
    out->backlog += (int64_t)ing->delete_count;
  pthread_mutex_unlock(&ing->lock);
}

int rr_ingest_refresh(rr_ingest *ing)
{
  int64_t last;
  int error = log_end(ing, &last);

  if (error < 0)
    return error;
  pthread_mutex_lock(&ing->lock);
  ing->status.last_seq = last;
  pthread_mutex_unlock(&ing->lock);
  return 0;
}
