#include "store_fixture.h"

#include <libpq-fe.h>

#include "common.h"
#include "store/store_pg.h"
#ifdef RR_HAVE_MONGODB
#include <mongoc/mongoc.h>

#include "store/store_mongo.h"
#endif
#include "util/errors.h"
#include "util/str.h"

/* ---------------------------------------------------------- the backends */

static int open_sqlite(rr_store **out, const char *dir, char *err, size_t errsize)
{
  char path[4200];
  rr_sqlite_options opts;

  snprintf(path, sizeof(path), "%s/sub/dir/test.db", dir);
  opts.path = path;
  opts.reader_count = 3;
  opts.busy_timeout_ms = 5000;
  return rr_store_sqlite_open(out, &opts, err, errsize);
}

/* ---- postgresql: a fresh schema per test directory on the server that
 * RR_TEST_PG_CONNINFO names (Tests/run-all.sh starts one) */

const char *rr_fx_pg_conninfo(void)
{
  const char *c = getenv("RR_TEST_PG_CONNINFO");
  return c != NULL && c[0] != '\0' ? c : NULL;
}

/* The schema of test directory dir: "rr_t_" and the hex of its last name. */
void rr_fx_pg_schema_name(char *out, size_t size, const char *dir)
{
  const char *base = strrchr(dir, '/');
  size_t n = rr_str_copy(out, size, "rr_t_");

  for (base = base ? base + 1 : dir; *base && n + 3 < size; base++)
    n += (size_t)snprintf(out + n, size - n, "%02x", (unsigned char)*base);
}

/* Create (or drop) the schema on an administrative connection. */
static int pg_admin(bool create, const char *schema, char *err, size_t errsize)
{
  PGconn *pg = PQconnectdb(rr_fx_pg_conninfo());
  PGresult *r = NULL;
  char sql[256];
  int error = 0;

  if (create)
    snprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS %s", schema);
  else
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
  if (PQstatus(pg) != CONNECTION_OK)
    error = rr_fail(err, errsize, RR_ESTORE, "cannot connect to RR_TEST_PG_CONNINFO: %s", PQerrorMessage(pg));
  else {
    PQclear(PQexec(pg, "SET client_min_messages = warning"));
    if (PQresultStatus(r = PQexec(pg, sql)) != PGRES_COMMAND_OK)
      error = rr_fail(err, errsize, RR_ESTORE, "%s: %s", sql, PQresultErrorMessage(r));
  }
  PQclear(r);
  PQfinish(pg);
  return error;
}

int rr_fx_pg_schema_conninfo(char *out, size_t size, const char *dir, char *err, size_t errsize)
{
  const char *base = rr_fx_pg_conninfo();
  char schema[128];
  int error;

  if (base == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "RR_TEST_PG_CONNINFO is not set");
  rr_fx_pg_schema_name(schema, sizeof(schema), dir);
  if ((error = pg_admin(true, schema, err, errsize)) < 0)
    return error;
  if (strncmp(base, "postgres", 8) == 0) /* a URI */
    snprintf(out, size, "%s%coptions=-c%%20search_path%%3D%s", base, strchr(base, '?') ? '&' : '?', schema);
  else
    snprintf(out, size, "%s options='-c search_path=%s'", base, schema);
  return 0;
}

void rr_fx_pg_drop_schema(const char *dir)
{
  char schema[128];

  if (rr_fx_pg_conninfo() == NULL)
    return;
  rr_fx_pg_schema_name(schema, sizeof(schema), dir);
  pg_admin(false, schema, NULL, 0);
}

static int open_pg(rr_store **out, const char *dir, char *err, size_t errsize)
{
  char conninfo[4096], named[4096 + 160], schema[128];
  rr_pg_options opts = {0};
  int error;

  if ((error = rr_fx_pg_schema_conninfo(conninfo, sizeof(conninfo), dir, err, errsize)) < 0)
    return error;
  /* its connections carry the schema's name, so that a test that kills
   * connections (a restart, a network cut) kills only its own while the
   * other test programs run beside it (ctest -j) */
  rr_fx_pg_schema_name(schema, sizeof(schema), dir);
  if (strncmp(conninfo, "postgres", 8) == 0)
    snprintf(named, sizeof(named), "%s&application_name=%s", conninfo, schema);
  else
    snprintf(named, sizeof(named), "%s application_name=%s", conninfo, schema);
  opts.conninfo = named;
  opts.pool_size = 3;
  opts.connect_timeout_s = 10;
  return rr_store_pg_open(out, &opts, err, errsize);
}

static const char *pg_unavailable(void)
{
  return rr_fx_pg_conninfo() ? NULL : "RR_TEST_PG_CONNINFO is not set (Tests/run-all.sh starts a server)";
}

/* ---- mongodb: a fresh database per test directory on the server that
 * READING_ROOM_TEST_MONGODB_URI (a real MongoDB) or else
 * RR_TEST_MONGODB_URI (CongoDB, started by Tests/run-all.sh) names */

const char *rr_fx_mongo_uri(void)
{
  const char *u = getenv("READING_ROOM_TEST_MONGODB_URI");

  if (u == NULL || u[0] == '\0')
    u = getenv("RR_TEST_MONGODB_URI");
  return u != NULL && u[0] != '\0' ? u : NULL;
}

bool rr_fx_mongo_is_congodb(void)
{
  const char *real = getenv("READING_ROOM_TEST_MONGODB_URI");
  return rr_fx_mongo_uri() != NULL && (real == NULL || real[0] == '\0');
}

bool rr_fx_skip_unless(const char *feature)
{
  if (strcmp(fx.backend->name, "mongodb") != 0 || !rr_fx_mongo_is_congodb())
    return false;
  /* Tests/run-all.sh counts these lines as skipped, never as passed */
  printf("store backend mongodb: SKIPPED (%s): the CongoDB test server does not support %s; "
         "verifiable only against a real MongoDB (READING_ROOM_TEST_MONGODB_URI)\n",
         tcase_name(), feature);
  fflush(stdout);
  return true;
}

#ifdef RR_HAVE_MONGODB
/* The database of test directory dir: "rr_t_" and its last name's
 * letters and digits. */
static void mongo_db_name(char *out, size_t size, const char *dir)
{
  const char *base = strrchr(dir, '/');
  size_t n = rr_str_copy(out, size, "rr_t_");

  for (base = base ? base + 1 : dir; *base && n + 1 < size && n < 60; base++)
    if ((*base >= 'a' && *base <= 'z') || (*base >= 'A' && *base <= 'Z') || (*base >= '0' && *base <= '9'))
      out[n++] = *base;
  out[n] = '\0';
}

static int open_mongo(rr_store **out, const char *dir, char *err, size_t errsize)
{
  char db[96];
  rr_mongo_options opts = {0};

  mongo_db_name(db, sizeof(db), dir);
  opts.uri = rr_fx_mongo_uri();
  opts.database = db;
  opts.pool_size = 3;
  return rr_store_mongo_open(out, &opts, err, errsize);
}

static void drop_mongo(const char *dir)
{
  char db[96];
  mongoc_client_t *c;
  mongoc_database_t *d;

  if (rr_fx_mongo_uri() == NULL || (c = mongoc_client_new(rr_fx_mongo_uri())) == NULL)
    return;
  mongo_db_name(db, sizeof(db), dir);
  d = mongoc_client_get_database(c, db);
  mongoc_database_drop(d, NULL);
  mongoc_database_destroy(d);
  mongoc_client_destroy(c);
}

static const char *mongo_unavailable(void)
{
  return rr_fx_mongo_uri() ? NULL
                           : "neither READING_ROOM_TEST_MONGODB_URI nor RR_TEST_MONGODB_URI is set "
                             "(Tests/run-all.sh starts a CongoDB server)";
}
#endif

/* Every backend this build has; a new one is one line here. */
const rr_fx_backend rr_fx_backends[] = {
  {"sqlite", open_sqlite, NULL, NULL},
  {"postgresql", open_pg, rr_fx_pg_drop_schema, pg_unavailable},
#ifdef RR_HAVE_MONGODB
  {"mongodb", open_mongo, drop_mongo, mongo_unavailable},
#endif
};
const size_t rr_fx_backend_count = sizeof(rr_fx_backends) / sizeof(rr_fx_backends[0]);

static const rr_fx_backend *find_backend(const char *name)
{
  size_t i;

  if (name == NULL || name[0] == '\0')
    return &rr_fx_backends[0];
  for (i = 0; i < rr_fx_backend_count; i++)
    if (strcmp(rr_fx_backends[i].name, name) == 0)
      return &rr_fx_backends[i];
  ck_abort_msg("unknown RR_TEST_STORE backend '%s'", name);
  return NULL;
}

static rr_store *open_backend(const rr_fx_backend *b, const char *dir)
{
  rr_store *store = NULL;
  char err[512] = "";

  ck_assert_msg(b->open(&store, dir, err, sizeof(err)) == 0, "open %s: %s", b->name, err);
  return store;
}

rr_store *rr_fx_open_named(const char *name, const char *dir)
{
  return open_backend(find_backend(name), dir);
}

/* ------------------------------------------------------ the running test */

rr_fx fx;

void rr_fx_setup(void)
{
  rr_test_tmpdir(fx.dir, sizeof(fx.dir));
  fx.store = open_backend(fx.backend, fx.dir);
  fx.err[0] = '\0';
}

void rr_fx_teardown(void)
{
  rr_store_free(fx.store);
  fx.store = NULL;
  if (fx.backend->cleanup != NULL)
    fx.backend->cleanup(fx.dir);
  rr_test_rmdir(fx.dir);
}

void rr_fx_reopen(void)
{
  rr_store_free(fx.store);
  fx.store = open_backend(fx.backend, fx.dir);
}

rr_store *rr_fx_stub(void)
{
  rr_store *stub = calloc(1, sizeof(*stub));

  ck_assert_ptr_nonnull(stub);
  stub->name = "stub";
  return stub;
}

bool rr_fx_has(const rr_store *s, const char *concern)
{
  if (strcmp(concern, "index") == 0)
    return s->index != NULL;
  if (strcmp(concern, "identity") == 0)
    return s->identity != NULL;
  if (strcmp(concern, "audit") == 0)
    return s->audit != NULL;
  if (strcmp(concern, "ai") == 0)
    return s->ai != NULL;
  if (strcmp(concern, "annotations") == 0)
    return s->annotations != NULL;
  if (strcmp(concern, "report_templates") == 0)
    return s->report_templates != NULL;
  if (strcmp(concern, "report_outputs") == 0)
    return s->report_outputs != NULL;
  if (strcmp(concern, "backup") == 0)
    return s->backup != NULL;
  if (strcmp(concern, "reports") == 0)
    return s->reports != NULL;
  if (strcmp(concern, "cluster") == 0)
    return true; /* every store has it: without a table it is one node (store_cluster.h) */
  fprintf(stderr, "unknown store concern '%s'\n", concern);
  return false;
}

/* Does backend b implement the concern? Opened once in a scratch directory,
 * outside any test (no ck_assert here); a backend that does not open is
 * run anyway, so that the suite's set-up reports why. */
static bool backend_has(const rr_fx_backend *b, const char *concern)
{
  const char *base = getenv("TMPDIR");
  char dir[4096], err[512] = "";
  rr_store *s = NULL;
  bool has = true;

  snprintf(dir, sizeof(dir), "%s/rr-unit-XXXXXX", base && *base ? base : "/tmp");
  if (mkdtemp(dir) == NULL)
    return true;
  if (b->open(&s, dir, err, sizeof(err)) == 0)
    has = rr_fx_has(s, concern);
  rr_store_free(s);
  if (b->cleanup != NULL)
    b->cleanup(dir);
  rr_test_rmdir(dir);
  return has;
}

static Suite *make_suite(const char *concern, const TTest *const *tests, size_t count)
{
  static char name[64];
  Suite *s;
  TCase *tc;
  size_t i;

  snprintf(name, sizeof(name), "store %s (%s)", concern, fx.backend->name);
  s = suite_create(name);
  tc = tcase_create(concern);
  tcase_add_checked_fixture(tc, rr_fx_setup, rr_fx_teardown);
  for (i = 0; i < count; i++)
    tcase_add_test(tc, tests[i]);
  suite_add_tcase(s, tc);
  return s;
}

int rr_fx_run(const char *concern, const TTest *const *tests, size_t count)
{
  const char *only = getenv("RR_TEST_STORE");
  size_t i;
  int status = EXIT_SUCCESS;

  if (only != NULL && only[0] != '\0') {
    for (i = 0; i < rr_fx_backend_count && strcmp(rr_fx_backends[i].name, only) != 0; i++)
      ;
    if (i == rr_fx_backend_count) {
      fprintf(stderr, "unknown RR_TEST_STORE backend '%s'\n", only);
      return EXIT_FAILURE;
    }
  }
  for (i = 0; i < rr_fx_backend_count; i++) {
    fx.backend = &rr_fx_backends[i];
    if (only != NULL && only[0] != '\0' && strcmp(only, fx.backend->name) != 0)
      continue;
    if (fx.backend->unavailable != NULL && fx.backend->unavailable() != NULL) {
      /* Tests/run-all.sh counts these lines as skipped, never as passed */
      printf("store backend %s: SKIPPED (%s): %s\n", fx.backend->name, concern, fx.backend->unavailable());
      continue;
    }
    if (!backend_has(fx.backend, concern)) {
      printf("store backend %s: no %s concern, skipped\n", fx.backend->name, concern);
      continue;
    }
    printf("store backend %s\n", fx.backend->name);
    if (rr_test_run(make_suite(concern, tests, count)) != EXIT_SUCCESS)
      status = EXIT_FAILURE;
  }
  return status;
}

/* --------------------------------------------------------- worklist data */

rr_ingest_item rr_fx_item(const rr_fx_spec *s)
{
  rr_ingest_item it;
  char buf[RR_UID_SIZE];

  memset(&it, 0, sizeof(it));
  rr_str_copy(it.study.orthanc_id, RR_OID_SIZE, s->study);
  rr_str_copy(it.study.patient_orthanc_id, RR_OID_SIZE, s->patient ? s->patient : "p-1");
  rr_str_copy(it.study.study_uid, RR_UID_SIZE, s->uid);
  rr_str_copy(it.study.patient_name, RR_PN_SIZE, s->name ? s->name : "");
  rr_str_copy(it.study.patient_id, RR_LO_SIZE, s->pid ? s->pid : "");
  rr_str_copy(it.study.study_date, RR_DA_SIZE, s->date ? s->date : "");
  rr_str_copy(it.study.study_time, RR_TM_SIZE, "101010");
  rr_str_copy(it.study.study_description, RR_LO_SIZE, s->desc ? s->desc : "");
  rr_str_copy(it.study.accession_number, RR_LO_SIZE, s->acc ? s->acc : "");
  rr_str_copy(it.study.referring_physician, RR_PN_SIZE, "House^Gregory");
  rr_str_copy(it.study.institution_name, RR_LO_SIZE, "Princeton Plainsboro");
  rr_str_copy(it.series.orthanc_id, RR_OID_SIZE, s->series);
  rr_str_copy(it.series.study_orthanc_id, RR_OID_SIZE, s->study);
  snprintf(buf, sizeof(buf), "%s.1", s->uid);
  rr_str_copy(it.series.series_uid, RR_UID_SIZE, buf);
  rr_str_copy(it.series.modality, RR_CS_SIZE, s->modality ? s->modality : "CT");
  it.series.has_series_number = s->series_number >= 0;
  it.series.series_number = s->series_number;
  rr_str_copy(it.instance.orthanc_id, RR_OID_SIZE, s->instance);
  rr_str_copy(it.instance.series_orthanc_id, RR_OID_SIZE, s->series);
  snprintf(buf, sizeof(buf), "%s.%d", s->uid, s->number + 100);
  rr_str_copy(it.instance.sop_instance_uid, RR_UID_SIZE, buf);
  rr_str_copy(it.instance.sop_class_uid, RR_UID_SIZE, "1.2.840.10008.5.1.4.1.1.2");
  it.instance.has_instance_number = true;
  it.instance.instance_number = s->number;
  it.instance.number_of_frames = 1;
  rr_str_copy(it.instance.image_position, RR_DS3_SIZE, s->position ? s->position : "");
  return it;
}

void rr_fx_apply(const rr_ingest_item *items, size_t n, int64_t now)
{
  rr_ingest_batch b = {items, n, NULL, NULL, now};
  ck_assert_msg(rr_store_apply_batch(fx.store, &b, fx.err, sizeof(fx.err)) == 0, "apply: %s", fx.err);
}

void rr_fx_load_worklist(void)
{
  static const rr_fx_spec specs[] = {
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a1", "CT", 2, "i-a1", 1, "0\\0\\1"},
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a1", "CT", 2, "i-a2", 2, "0\\0\\2"},
    {"s-a", "p-a", "1.2.3.1", "Müller^Renée", "PID-1", "20230115", "CT Thorax Abdomen", "ACC1", "se-a0", "SR", -1, "i-a3", 1, NULL},
    {"s-b", "p-b", "1.2.3.2", "SMITH^JOHN", "PID-2", "20240301", "MR Brain", "ACC2", "se-b1", "MR", 1, "i-b1", 1, NULL},
    {"s-c", "p-c", "1.2.3.3", "Smithers^Waylon", "X'; DROP TABLE studies;--", "20221231", "Chest PA", "ACC3", "se-c1", "CR", 1, "i-c1", 1, NULL},
    {"s-d", "p-d", "1.2.3.4", "Yamada^Tarou=山田^太郎", "PID-4", "", "Knee", "", "se-d1", "MR", 3, "i-d1", 1, NULL},
    {"s-e", "p-e", "1.2.3.5", "Παπαδόπουλος^Γιώργος", "PID-5", "20240302", "PET CT", "A[5]", "se-e1", "PT", 1, "i-e1", 1, NULL},
  };
  rr_ingest_item items[7];
  size_t i;
  for (i = 0; i < 7; i++)
    items[i] = rr_fx_item(&specs[i]);
  rr_fx_apply(items, 5, 1000);
  rr_fx_apply(items + 5, 2, 2000);
}

rr_study_list *rr_fx_page(const rr_worklist_query *q)
{
  rr_study_list *list = NULL;
  size_t i;
  ck_assert_msg(rr_store_query_worklist(fx.store, &list, q, fx.err, sizeof(fx.err)) == 0, "query: %s", fx.err);
  for (i = 0; i < list->count; i++)
    ck_assert_str_ne(list->items[i].orthanc_id, "");
  return list;
}

const char *rr_fx_ids(rr_worklist_query q)
{
  static char out[512];
  rr_study_list *l = rr_fx_page(&q);
  size_t i;
  out[0] = '\0';
  for (i = 0; i < l->count; i++) {
    if (i)
      strncat(out, ",", sizeof(out) - strlen(out) - 1);
    strncat(out, l->items[i].orthanc_id, sizeof(out) - strlen(out) - 1);
  }
  ck_assert_int_eq(l->total, (int64_t)l->count);
  rr_study_list_free(l);
  return out;
}
