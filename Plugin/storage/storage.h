/*
 * storage/storage.h - what Orthanc's storage looks like to an administrator
 * (the original design's "monitor storage usage"): Orthanc's disk use
 * (GET /statistics TotalDiskSize), the free space of the file systems of its
 * storage and index folders (statvfs), a warning below the configured
 * thresholds, and one sample of the disk use per day kept in the store
 * (key-value "storage.daily", the last RR_STORAGE_DAYS days), from which the
 * growth per day is computed.
 *
 * A background thread (rr_storage_start/stop, started with Orthanc's
 * OrthancStarted event) takes a sample at start and every hour; the day's
 * sample is the last one of the day. rr_storage_report also samples.
 * rr_storage_volumes only calls statvfs (no REST, no store): cheap enough for
 * every health check.
 *
 * Threads: every function may be called from any thread (REST handlers, the
 * metrics callback), except start/stop (the plugin's start/stop path). The
 * store and the REST source are borrowed and must outlive the object; the
 * REST source must not be used from Orthanc's OnChange/OnStored callbacks,
 * and rr_storage_report uses it.
 */
#ifndef RR_STORAGE_STORAGE_H
#define RR_STORAGE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/orthanc_rest.h"

#define RR_STORAGE_DAYS 31 /* samples kept: 30 days of growth */
#define RR_STORAGE_PATH_SIZE 4096

typedef struct rr_storage rr_storage;

typedef struct rr_storage_options {
  const char *storage_dir;     /* Orthanc's StorageDirectory, resolved (copied) */
  const char *index_dir;       /* Orthanc's IndexDirectory, resolved (copied) */
  unsigned warn_free_percent;  /* 0 = off */
  unsigned warn_free_gb;       /* 0 = off; 1 GB = 10^9 bytes */
} rr_storage_options;

typedef struct rr_storage_volume {
  char path[RR_STORAGE_PATH_SIZE];
  bool known;                  /* statvfs succeeded */
  uint64_t total_bytes;        /* size of the file system */
  uint64_t free_bytes;         /* available to Orthanc (not root's reserve) */
  double free_percent;         /* free_bytes / total_bytes * 100 */
  char error[160];             /* why not known, "" otherwise */
} rr_storage_volume;

typedef struct rr_storage_volumes {
  rr_storage_volume storage, index;
  bool same_file_system;       /* both folders are on one file system */
  char warning[320];           /* below a threshold: a sentence; "" when fine */
} rr_storage_volumes;

typedef struct rr_storage_day {
  char date[11];               /* YYYY-MM-DD, UTC */
  int64_t disk_bytes;          /* Orthanc's TotalDiskSize at the day's last sample */
} rr_storage_day;

typedef struct rr_storage_report {
  rr_storage_volumes volumes;
  bool has_disk_size;
  int64_t disk_bytes;          /* Orthanc's TotalDiskSize now */
  int64_t uncompressed_bytes;  /* TotalUncompressedSize */
  int64_t instances;           /* CountInstances */
  rr_storage_day days[RR_STORAGE_DAYS]; /* oldest first */
  size_t day_count;
  unsigned warn_free_percent, warn_free_gb;
  char error[256];             /* reading Orthanc's statistics failed, "" otherwise */
} rr_storage_report;

int rr_storage_new(rr_storage **out, const rr_storage_options *opts, rr_store *store, rr_rest_source source);
/* Stops the thread, frees; accepts NULL. */
void rr_storage_free(rr_storage *s);
int rr_storage_start(rr_storage *s);
void rr_storage_stop(rr_storage *s);

/* Free space of the two folders and the threshold warning. */
void rr_storage_volumes_get(rr_storage *s, rr_storage_volumes *out);

/* Everything (reads Orthanc's /statistics and records today's sample). An
 * Orthanc or store failure is reported in out->error, not returned: the
 * volumes are still useful. */
void rr_storage_report_get(rr_storage *s, rr_storage_report *out);

/* Record one sample (TotalDiskSize) for the UTC day of `now` in the list
 * kept under "storage.daily" (pure over the store; for the thread and the
 * tests). Returns 0 or a store error. */
int rr_storage_record(rr_store *store, int64_t now_unix, int64_t disk_bytes, char *err, size_t errsize);
/* Average growth in bytes per day from the first to the last sample (0 with
 * fewer than two samples); gaps between days are allowed. */
double rr_storage_growth_per_day(const rr_storage_day *days, size_t count);
/* The kept samples, oldest first. */
int rr_storage_days(rr_store *store, rr_storage_day *out, size_t *count, char *err, size_t errsize);

#endif
