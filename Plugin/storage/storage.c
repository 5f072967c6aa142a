#include "storage.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"
#include "util/worker.h"

#define DAILY_KEY "storage.daily"
#define SAMPLE_EVERY_MS (3600 * 1000)
#define KV_SIZE 4096
#define GB 1000000000ull

struct rr_storage {
  rr_store *store;
  rr_rest_source source;
  char storage_dir[RR_STORAGE_PATH_SIZE], index_dir[RR_STORAGE_PATH_SIZE];
  unsigned warn_free_percent, warn_free_gb;
  rr_workers sampler;
  pthread_mutex_t lock; /* guards the sampler's stop flag */
  pthread_cond_t wake;
};

/* ------------------------------------------------------------- the volumes */

static void volume_get(rr_storage_volume *v, const char *path, dev_t *dev)
{
  struct statvfs vfs;
  struct stat st;

  memset(v, 0, sizeof(*v));
  rr_str_copy(v->path, sizeof(v->path), path);
  *dev = 0;
  if (statvfs(path, &vfs) != 0) {
    snprintf(v->error, sizeof(v->error), "cannot read the free space of the folder: %s", strerror(errno));
    return;
  }
  if (stat(path, &st) == 0)
    *dev = st.st_dev;
  v->known = true;
  v->total_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
  v->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
  v->free_percent = v->total_bytes > 0 ? (double)v->free_bytes * 100.0 / (double)v->total_bytes : 0;
}

/* "" when the volume is above both thresholds, else a sentence. */
static void volume_warning(char *out, size_t size, const char *name, const rr_storage_volume *v, unsigned pct,
                           unsigned gb)
{
  out[0] = '\0';
  if (!v->known)
    return;
  if (pct > 0 && v->free_percent < (double)pct)
    snprintf(out, size, "Orthanc's %s folder has %.1f GB free (%.1f %%), below Storage.WarnFreePercent (%u %%)", name,
             (double)v->free_bytes / GB, v->free_percent, pct);
  else if (gb > 0 && v->free_bytes < (uint64_t)gb * GB)
    snprintf(out, size, "Orthanc's %s folder has %.1f GB free, below Storage.WarnFreeGigabytes (%u GB)", name,
             (double)v->free_bytes / GB, gb);
}

void rr_storage_volumes_get(rr_storage *s, rr_storage_volumes *out)
{
  char w1[160], w2[160];
  dev_t d1, d2;

  memset(out, 0, sizeof(*out));
  volume_get(&out->storage, s->storage_dir, &d1);
  volume_get(&out->index, s->index_dir, &d2);
  out->same_file_system = out->storage.known && out->index.known && d1 == d2;
  volume_warning(w1, sizeof(w1), "storage", &out->storage, s->warn_free_percent, s->warn_free_gb);
  if (out->same_file_system)
    w2[0] = '\0';
  else
    volume_warning(w2, sizeof(w2), "index", &out->index, s->warn_free_percent, s->warn_free_gb);
  snprintf(out->warning, sizeof(out->warning), "%s%s%s", w1, w1[0] && w2[0] ? "; " : "", w2);
}

/* ------------------------------------------------------------ daily samples */

static void day_of(char out[11], int64_t unix_s)
{
  time_t t = (time_t)unix_s;
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

/* "YYYY-MM-DD bytes\n" lines; malformed lines are skipped. */
static size_t parse_days(rr_storage_day *out, size_t max, const char *text)
{
  const char *p = text;
  size_t n = 0;
  long long bytes;
  char date[11];

  while (*p && n < max) {
    if (sscanf(p, "%10s %lld", date, &bytes) == 2 && strlen(date) == 10 && bytes >= 0) {
      rr_str_copy(out[n].date, sizeof(out[n].date), date);
      out[n].disk_bytes = bytes;
      n++;
    }
    p += strcspn(p, "\n");
    if (*p)
      p++;
  }
  return n;
}

int rr_storage_days(rr_store *store, rr_storage_day *out, size_t *count, char *err, size_t errsize)
{
  char text[KV_SIZE];
  int error;

  *count = 0;
  error = rr_store_kv_get(store, text, sizeof(text), DAILY_KEY, err, errsize);
  if (error == RR_ENOTFOUND)
    return 0;
  if (error < 0)
    return error;
  *count = parse_days(out, RR_STORAGE_DAYS, text);
  return 0;
}

int rr_storage_record(rr_store *store, int64_t now_unix, int64_t disk_bytes, char *err, size_t errsize)
{
  rr_storage_day days[RR_STORAGE_DAYS + 1];
  char today[11], text[KV_SIZE];
  size_t n = 0, i, first, used = 0;
  int error;

  if ((error = rr_storage_days(store, days, &n, err, errsize)) < 0)
    return error;
  day_of(today, now_unix);
  if (n > 0 && strcmp(days[n - 1].date, today) == 0) {
    if (days[n - 1].disk_bytes == disk_bytes)
      return 0; /* nothing new: no write */
    days[n - 1].disk_bytes = disk_bytes;
  } else if (n == 0 || strcmp(days[n - 1].date, today) < 0) {
    rr_str_copy(days[n].date, sizeof(days[n].date), today);
    days[n++].disk_bytes = disk_bytes;
  } else {
    return 0; /* the clock went back: keep what is there */
  }
  first = n > RR_STORAGE_DAYS ? n - RR_STORAGE_DAYS : 0;
  text[0] = '\0';
  for (i = first; i < n; i++)
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%s %" PRId64 "\n", days[i].date, days[i].disk_bytes);
  return rr_store_kv_set(store, DAILY_KEY, text, err, errsize);
}

/* Days since 1970-01-01 of a YYYY-MM-DD date (0 when it does not parse). */
static long day_number(const char *date)
{
  int y, m, d;

  if (sscanf(date, "%d-%d-%d", &y, &m, &d) != 3)
    return 0;
  return (long)rr_days_from_civil(y, m, d);
}

double rr_storage_growth_per_day(const rr_storage_day *days, size_t count)
{
  long span;

  if (count < 2)
    return 0;
  span = day_number(days[count - 1].date) - day_number(days[0].date);
  return span > 0 ? (double)(days[count - 1].disk_bytes - days[0].disk_bytes) / (double)span : 0;
}

/* ------------------------------------------------------------------ report */

static int64_t json_i64(json_object *o, const char *key)
{
  json_object *v;

  return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

/* Orthanc's statistics; then today's sample. */
static int read_statistics(rr_storage *s, rr_storage_report *out, char *err, size_t errsize)
{
  json_object *stats = NULL;
  int error;

  if ((error = s->source.get_json(s->source.ctx, &stats, "/statistics", err, errsize)) < 0)
    return error;
  out->has_disk_size = true;
  /* Orthanc 1.10 answers sizes as strings in the *MB fields and as numbers
   * (or numeric strings) in TotalDiskSize: json-c converts both */
  out->disk_bytes = json_i64(stats, "TotalDiskSize");
  out->uncompressed_bytes = json_i64(stats, "TotalUncompressedSize");
  out->instances = json_i64(stats, "CountInstances");
  json_object_put(stats);
  return rr_storage_record(s->store, rr_clock_unix_ms() / 1000, out->disk_bytes, err, errsize);
}

void rr_storage_report_get(rr_storage *s, rr_storage_report *out)
{
  char err[256] = "";

  memset(out, 0, sizeof(*out));
  rr_storage_volumes_get(s, &out->volumes);
  out->warn_free_percent = s->warn_free_percent;
  out->warn_free_gb = s->warn_free_gb;
  if (read_statistics(s, out, err, sizeof(err)) < 0)
    rr_str_copy(out->error, sizeof(out->error), err);
  if (rr_storage_days(s->store, out->days, &out->day_count, err, sizeof(err)) < 0 && out->error[0] == '\0')
    rr_str_copy(out->error, sizeof(out->error), err);
}

/* ------------------------------------------------------------------ thread */

static void sample_loop(void *arg, unsigned index)
{
  rr_storage *s = arg;
  rr_storage_report r;
  struct timespec ts;

  (void)index;
  pthread_mutex_lock(&s->lock);
  while (!rr_workers_stopping(&s->sampler)) {
    pthread_mutex_unlock(&s->lock);
    memset(&r, 0, sizeof(r));
    {
      char err[256] = "";
      if (read_statistics(s, &r, err, sizeof(err)) < 0)
        rr_log_warning("storage: cannot record today's disk use: %s", err);
    }
    pthread_mutex_lock(&s->lock);
    rr_clock_deadline(&ts, SAMPLE_EVERY_MS);
    while (!rr_workers_stopping(&s->sampler) && !rr_clock_cond_wait_until(&s->wake, &s->lock, &ts))
      ;
  }
  pthread_mutex_unlock(&s->lock);
}

int rr_storage_new(rr_storage **out, const rr_storage_options *opts, rr_store *store, rr_rest_source source)
{
  rr_storage *s;

  *out = NULL;
  if ((s = calloc(1, sizeof(*s))) == NULL)
    return RR_ENOMEM;
  if (rr_clock_cond_init(&s->wake) < 0) {
    free(s);
    return RR_ERROR;
  }
  pthread_mutex_init(&s->lock, NULL);
  rr_workers_init(&s->sampler, &s->lock, &s->wake);
  s->store = store;
  s->source = source;
  rr_str_copy(s->storage_dir, sizeof(s->storage_dir), opts->storage_dir);
  rr_str_copy(s->index_dir, sizeof(s->index_dir), opts->index_dir);
  s->warn_free_percent = opts->warn_free_percent;
  s->warn_free_gb = opts->warn_free_gb;
  *out = s;
  return 0;
}

int rr_storage_start(rr_storage *s)
{
  return rr_workers_start(&s->sampler, 1, sample_loop, s);
}

void rr_storage_stop(rr_storage *s)
{
  if (s != NULL)
    rr_workers_stop(&s->sampler, NULL, NULL);
}

void rr_storage_free(rr_storage *s)
{
  if (s == NULL)
    return;
  rr_storage_stop(s);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  free(s);
}
