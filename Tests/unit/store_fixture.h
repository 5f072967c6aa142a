/*
 * store_fixture.h - what the store conformance suite shares: the backends
 * this build has, the state of the running test, and the worklist data and
 * queries the index and AI suites use.
 *
 * The suite is split by concern like the store (test_store_index.c,
 * test_store_identity.c, test_store_audit.c, test_store_ai.c); each file
 * runs its tests once per backend listed in store_fixture.c. A new backend
 * is one entry there; it may implement the concerns one at a time (a suite
 * whose concern the backend lacks is reported and skipped for it).
 * RR_TEST_STORE=<name> runs one backend only. Single-threaded test code.
 */
#ifndef RR_TEST_STORE_FIXTURE_H
#define RR_TEST_STORE_FIXTURE_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

typedef struct rr_fx_backend {
  const char *name;
  /* open (or reopen) the backend's store kept in `dir` */
  int (*open)(rr_store **out, const char *dir, char *err, size_t errsize);
  /* NULL, or release what open made outside `dir` (a database schema) */
  void (*cleanup)(const char *dir);
  /* NULL when the backend can run here, else why not (it is then SKIPPED,
   * never counted as passed) */
  const char *(*unavailable)(void);
} rr_fx_backend;

extern const rr_fx_backend rr_fx_backends[];
extern const size_t rr_fx_backend_count;

/* Open the backend called `name` (NULL: the first one, sqlite) in `dir`. */
rr_store *rr_fx_open_named(const char *name, const char *dir);

/* The PostgreSQL backend's test server: the conninfo of env
 * RR_TEST_PG_CONNINFO (NULL when unset), and the one for the fresh schema
 * that belongs to test directory `dir` (created when missing; dropped by
 * rr_fx_pg_drop_schema). Tests/lib/pg-cluster.sh starts such a server. */
const char *rr_fx_pg_conninfo(void);
int rr_fx_pg_schema_conninfo(char *out, size_t size, const char *dir, char *err, size_t errsize);
void rr_fx_pg_drop_schema(const char *dir);
/* That schema's name ("rr_t_" and hex); the backend's stores opened by
 * rr_fx_open_named also use it as their connections' application_name, so
 * that a test kills only its own connections (test programs run in
 * parallel on one server). */
void rr_fx_pg_schema_name(char *out, size_t size, const char *dir);

/* The MongoDB backend's test server (built with -DENABLE_MONGODB=ON):
 * READING_ROOM_TEST_MONGODB_URI (a real MongoDB) wins over
 * RR_TEST_MONGODB_URI (the CongoDB test server Tests/lib/congodb.sh starts);
 * NULL when neither is set. Each test directory gets a fresh database. */
const char *rr_fx_mongo_uri(void);
/* Is the MongoDB test server CongoDB (no real MongoDB named)? */
bool rr_fx_mongo_is_congodb(void);
/* When the running backend is mongodb on CongoDB, which does not support
 * `feature` (e.g. "unique indexes"): print the SKIPPED line Tests/run-all.sh
 * counts and return true (the test then returns without asserting);
 * else false. */
bool rr_fx_skip_unless(const char *feature);

/* The running test: a fresh store in a fresh directory (rr_fx_setup and
 * rr_fx_teardown are the checked fixture of every conformance TCase). */
typedef struct rr_fx {
  const rr_fx_backend *backend;
  rr_store *store;
  char dir[4096];
  char err[512];
} rr_fx;
extern rr_fx fx;

void rr_fx_setup(void);
void rr_fx_teardown(void);
/* Close the store and open it again from the same directory. */
void rr_fx_reopen(void);
/* A store named "stub" without any concern table (caller frees it). */
rr_store *rr_fx_stub(void);

/* The main() of a conformance file: one TCase of `tests` (with rr_fx_setup
 * and rr_fx_teardown), run once per backend that implements `concern`
 * ("index", "identity", "audit", "ai"), or only the one RR_TEST_STORE names.
 * Returns the process exit status. */
int rr_fx_run(const char *concern, const TTest *const *tests, size_t count);
/* Does the running backend implement the concern ("index", "identity",
 * "audit", "ai")? */
bool rr_fx_has(const rr_store *s, const char *concern);

/* ---- worklist data ---- */

typedef struct rr_fx_spec {
  const char *study, *patient, *uid, *name, *pid, *date, *desc, *acc, *series, *modality;
  int series_number; /* -1: none */
  const char *instance;
  int number;
  const char *position;
} rr_fx_spec;

/* One ingested instance as ingestion would build it from a spec. */
rr_ingest_item rr_fx_item(const rr_fx_spec *s);
/* Apply items as one batch (asserts success). */
void rr_fx_apply(const rr_ingest_item *items, size_t n, int64_t now);
/* Five studies, six series, seven instances (see store_fixture.c). */
void rr_fx_load_worklist(void);

/* A worklist query with the API's defaults (50 rows, newest study date
 * first) and the filter fields given, already normalised the way
 * api/query.c normalises them (folded upper-case words, GLOB patterns). */
#define RR_FX_QUERY(...) \
  ((rr_worklist_query){.sort = RR_SORT_STUDY_DATE, .descending = true, .limit = 50, __VA_ARGS__})

/* The page for q (asserts success and that every row has an identifier). */
rr_study_list *rr_fx_page(const rr_worklist_query *q);
/* Orthanc IDs of the rows for q, joined by ','; asserts total == count. */
const char *rr_fx_ids(rr_worklist_query q);

#endif
