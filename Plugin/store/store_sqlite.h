/*
 * store_sqlite.h - the embedded SQLite backend of the store (store.h).
 *
 * One database file in WAL mode. One writer connection (serialised by a
 * mutex) and a small pool of reader connections, so readers never wait for
 * the ingestion writer. Schema migrations embedded from Resources/sqlite/ are
 * applied at open, each in its own transaction; a database whose schema is
 * newer than this build is refused. All SQL uses bound parameters.
 * It implements every concern of the store, one file each (see
 * store_sqlite_internal.h for the files and what they share).
 */
#ifndef RR_STORE_SQLITE_H
#define RR_STORE_SQLITE_H

#include <stddef.h>

#include "store.h"

typedef struct rr_sqlite_options {
  const char *path;           /* database file; created if missing */
  unsigned reader_count;      /* reader connections, 1..64 */
  int busy_timeout_ms;        /* how long a connection waits for a lock */
} rr_sqlite_options;

/* Open (and migrate) the database. On success *out is a store to release
 * with rr_store_free(). */
int rr_store_sqlite_open(rr_store **out, const rr_sqlite_options *opts, char *err, size_t errsize);

/* The schema version this build knows. */
int rr_store_sqlite_latest_schema(void);

#endif
