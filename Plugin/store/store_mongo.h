/*
 * store_mongo.h - the MongoDB backend of the store (store.h), for sites on
 * the original design's MongoDB (built with -DENABLE_MONGODB=ON).
 *
 * mongo-c-driver through a mongoc_client_pool_t (a mongoc_client_t is not
 * thread-safe): each call pops a client and pushes it back before it
 * returns. The original design's collections where they apply — `studies`
 * (with their series and instances), `aianalyses`, `reports`, `users`,
 * `audit` — and one collection per other concern; indexes for every
 * worklist filter and sort, unique indexes where the contract says
 * "exists already" (RR_EEXISTS from duplicate-key error 11000), atomic job
 * claims with findAndModify. Collections and indexes are created at open
 * (idempotent, several nodes may start at once); a `schema` document
 * records the version, and a newer one is refused.
 * It implements every concern of the store, one file each
 * (store_mongo_internal.h lists them).
 */
#ifndef RR_STORE_MONGO_H
#define RR_STORE_MONGO_H

#include <stddef.h>

#include "store.h"

typedef struct rr_mongo_options {
  const char *uri;       /* mongodb:// or mongodb+srv:// URI (required; TLS, auth, replica set as the URI says) */
  const char *database;  /* database name (required) */
  unsigned pool_size;    /* clients, 1..100 */
} rr_mongo_options;

/* Connect (a ping checks the server answers), create collections and
 * indexes, and return a store to release with rr_store_free(). Fails with a
 * sentence naming what failed (never the URI's password). */
int rr_store_mongo_open(rr_store **out, const rr_mongo_options *opts, char *err, size_t errsize);

/* The schema version this build knows. */
int rr_store_mongo_latest_schema(void);

#endif
