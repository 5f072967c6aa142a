/*
 * store_pg.h - the PostgreSQL backend of the store (store.h): the scale-out
 * store that several Orthanc nodes share.
 *
 * libpq only, every statement with bound parameters (prepared once per
 * connection, see store_pg_internal.h); a pool of connections, each
 * re-established when the server dropped it. Versioned schema migrations
 * embedded from Resources/postgresql/ are applied at open, each in its own
 * transaction under one advisory lock, so that several nodes starting at
 * once apply each migration exactly once; a database whose schema is newer
 * than this build is refused. Writes that PostgreSQL refuses as a
 * serialization failure or deadlock (SQLSTATE 40001, 40P01) are retried a
 * few times with a short back-off before they fail with RR_ESTORE.
 * It implements every concern of the store, one file each
 * (store_pg_internal.h lists them).
 */
#ifndef RR_STORE_PG_H
#define RR_STORE_PG_H

#include <stddef.h>

#include "store.h"

typedef struct rr_pg_options {
  const char *conninfo;     /* libpq key=value string or postgresql:// URI (required) */
  const char *password;     /* NULL or "": libpq's own (conninfo, PGPASSWORD, PGPASSFILE) */
  const char *sslmode;      /* NULL or "": as conninfo says; else disable|allow|prefer|require|verify-ca|verify-full */
  const char *sslrootcert;  /* NULL or "": libpq's default */
  unsigned pool_size;       /* connections, 1..64 */
  int connect_timeout_s;    /* 1..600 */
} rr_pg_options;

/* Connect, migrate and return a store to release with rr_store_free().
 * Fails with a sentence naming what failed (never the password). */
int rr_store_pg_open(rr_store **out, const rr_pg_options *opts, char *err, size_t errsize);

/* The schema version this build knows. */
int rr_store_pg_latest_schema(void);

#endif
