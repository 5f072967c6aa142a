/*
 * test_store_mongo.c - the MongoDB backend's own machinery (store_mongo.c):
 * options, the ping at open, collections and indexes created at open
 * (idempotent, several nodes at once), the schema document (a newer one
 * refused), error mapping (duplicate key -> RR_EEXISTS), never the URI's
 * password in errors, the sequences and the field readers. The concerns
 * are checked by the conformance suites (test_store_*.c) through
 * store_fixture.c. Needs READING_ROOM_TEST_MONGODB_URI (a real MongoDB) or
 * RR_TEST_MONGODB_URI (CongoDB, Tests/lib/congodb.sh); without either the
 * suite is reported SKIPPED and counts nothing. Built with
 * -DENABLE_MONGODB=ON only.
 */
#include <pthread.h>

#include "common.h"
#include "store/store_mongo.h"
#include "store/store_mongo_internal.h"
#include "store_fixture.h"
#include "util/errors.h"

static char dir[4096];
static char db[96];

static void setup(void)
{
  const char *base;

  rr_test_tmpdir(dir, sizeof(dir));
  base = strrchr(dir, '/');
  snprintf(db, sizeof(db), "rr_m_%s", base + 1);
  for (char *p = db; *p; p++)
    if (*p == '-' || *p == '.')
      *p = '_';
}

static void drop(void)
{
  mongoc_client_t *c = mongoc_client_new(rr_fx_mongo_uri());
  mongoc_database_t *d;

  if (c == NULL)
    return;
  d = mongoc_client_get_database(c, db);
  mongoc_database_drop(d, NULL);
  mongoc_database_destroy(d);
  mongoc_client_destroy(c);
}

static void teardown(void)
{
  drop();
  rr_test_rmdir(dir);
}

static rr_mongo_options options(void)
{
  rr_mongo_options o = {0};
  o.uri = rr_fx_mongo_uri();
  o.database = db;
  o.pool_size = 4;
  return o;
}

static rr_store *open_store(void)
{
  rr_mongo_options o = options();
  rr_store *s = NULL;
  char err[512] = "";

  ck_assert_msg(rr_store_mongo_open(&s, &o, err, sizeof(err)) == 0, "open: %s", err);
  ck_assert_str_eq(s->name, "mongodb");
  return s;
}

static void *open_one(void *arg)
{
  rr_mongo_options o = options();
  rr_store *s = NULL;
  char err[512] = "";
  intptr_t rc = rr_store_mongo_open(&s, &o, err, sizeof(err));

  (void)arg;
  if (rc != 0)
    fprintf(stderr, "open: %s\n", err);
  rr_store_free(s);
  return (void *)rc;
}

START_TEST(several_nodes_open_a_fresh_database_at_once)
{
  pthread_t t[4];
  void *rc;
  rr_store *s;
  int version = -1, i;
  char err[512] = "";

  for (i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, open_one, NULL), 0);
  for (i = 0; i < 4; i++) {
    ck_assert_int_eq(pthread_join(t[i], &rc), 0);
    ck_assert_int_eq((intptr_t)rc, 0);
  }
  s = open_store();
  ck_assert_int_eq(rr_mongo_schema_version(s->impl, &version, err, sizeof(err)), 0);
  ck_assert_int_eq(version, rr_store_mongo_latest_schema());
  rr_store_free(s);
}
END_TEST

static void set_schema(rr_store *s, int version)
{
  rr_mongo_store *m = s->impl;
  mongoc_client_t *c = rr_mongo_pop(m);
  mongoc_collection_t *coll = rr_mongo_collection(m, c, "meta");
  bson_t *q = BCON_NEW("key", BCON_UTF8("schema"));
  bson_t *u = BCON_NEW("$set", "{", "version", BCON_INT32(version), "}");
  bson_error_t e;

  ck_assert_msg(mongoc_collection_update_one(coll, q, u, NULL, NULL, &e), "%s", e.message);
  bson_destroy(q);
  bson_destroy(u);
  mongoc_collection_destroy(coll);
  rr_mongo_push(m, c);
}

START_TEST(a_newer_schema_is_refused)
{
  rr_mongo_options o = options();
  rr_store *s = open_store(), *again = NULL;
  char err[512] = "";

  set_schema(s, rr_store_mongo_latest_schema() + 1);
  rr_store_free(s);
  ck_assert_int_eq(rr_store_mongo_open(&again, &o, err, sizeof(err)), RR_ESTORE);
  ck_assert_ptr_null(again);
  ck_assert_msg(strstr(err, "newer than this plugin knows") != NULL, "%s", err);
}
END_TEST

START_TEST(an_older_schema_is_raised)
{
  rr_store *s = open_store();
  int version = -1;
  char err[512] = "";

  set_schema(s, 0);
  rr_store_free(s);
  s = open_store();
  ck_assert_int_eq(rr_mongo_schema_version(s->impl, &version, err, sizeof(err)), 0);
  ck_assert_int_eq(version, rr_store_mongo_latest_schema());
  rr_store_free(s);
}
END_TEST

START_TEST(connection_failures_never_show_the_password)
{
  rr_mongo_options o = options();
  rr_store *s = NULL;
  char err[512] = "";

  /* nothing listens on port 1 */
  o.uri = "mongodb://reader:S3cretPassw0rd@127.0.0.1:1/?serverSelectionTimeoutMS=300&connectTimeoutMS=300";
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_ESTORE);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(err, "mongodb: cannot reach the server") != NULL, "%s", err);
  ck_assert_msg(strstr(err, "S3cret") == NULL, "%s", err);
  o.uri = "mongodb://reader:S3cretPassw0rd@127.0.0.1:1/?badoption=%zz";
  err[0] = '\0';
  ck_assert_int_lt(rr_store_mongo_open(&s, &o, err, sizeof(err)), 0);
  ck_assert_msg(strstr(err, "S3cret") == NULL, "%s", err);
  o.uri = "http://reader:S3cretPassw0rd@example.org/";
  err[0] = '\0';
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "the URI is not valid") != NULL, "%s", err);
  ck_assert_msg(strstr(err, "S3cret") == NULL, "%s", err);
}
END_TEST

START_TEST(options_are_checked)
{
  rr_mongo_options o = options();
  rr_store *s = NULL;
  char err[512] = "";

  o.pool_size = 0;
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "pool size") != NULL, "%s", err);
  o.pool_size = 101;
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  o = options();
  o.database = "a.b";
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "database name") != NULL, "%s", err);
  o.database = "";
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  o = options();
  o.uri = "";
  ck_assert_int_eq(rr_store_mongo_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(s);
}
END_TEST

typedef struct seq_arg {
  rr_store *s;
  int64_t got[50];
} seq_arg;

static void *take_ids(void *arg)
{
  seq_arg *a = arg;
  char err[512] = "";
  int i;

  for (i = 0; i < 50; i++)
    if (rr_mongo_next_id(a->s->impl, &a->got[i], "test", err, sizeof(err)) != 0)
      a->got[i] = -1;
  return NULL;
}

START_TEST(sequences_give_each_value_once)
{
  rr_store *s = open_store();
  seq_arg a[3];
  pthread_t t[3];
  char seen[151] = {0};
  int i, j;

  for (i = 0; i < 3; i++) {
    a[i].s = s;
    ck_assert_int_eq(pthread_create(&t[i], NULL, take_ids, &a[i]), 0);
  }
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(pthread_join(t[i], NULL), 0);
  for (i = 0; i < 3; i++)
    for (j = 0; j < 50; j++) {
      ck_assert_int_ge(a[i].got[j], 1);
      ck_assert_int_le(a[i].got[j], 150);
      ck_assert_int_eq(seen[a[i].got[j]], 0);
      seen[a[i].got[j]] = 1;
    }
  rr_store_free(s);
}
END_TEST

START_TEST(readers_and_error_mapping)
{
  bson_t *doc = BCON_NEW("s", BCON_UTF8("Müller"), "i32", BCON_INT32(7), "i64", BCON_INT64(1700000000123),
                         "d", BCON_DOUBLE(2.5), "b", BCON_BOOL(true), "n", BCON_NULL);
  bson_error_t e;
  char small[3], big[32], err[256] = "";
  char *dup;

  rr_mongo_copy(big, sizeof(big), doc, "s");
  ck_assert_str_eq(big, "Müller");
  rr_mongo_copy(small, sizeof(small), doc, "s"); /* "M" + half of "ü": cut before it */
  ck_assert_str_eq(small, "M");
  rr_mongo_copy(big, sizeof(big), doc, "i32");
  ck_assert_str_eq(big, "");
  ck_assert_ptr_nonnull(dup = rr_mongo_strdup(doc, "missing"));
  ck_assert_str_eq(dup, "");
  free(dup);
  ck_assert_int_eq(rr_mongo_int(doc, "i32"), 7);
  ck_assert_int_eq(rr_mongo_int(doc, "i64"), 1700000000123);
  ck_assert_int_eq(rr_mongo_int(doc, "s"), 0);
  ck_assert(rr_mongo_double(doc, "d") == 2.5);
  ck_assert(rr_mongo_bool(doc, "b"));
  ck_assert(!rr_mongo_bool(doc, "n"));
  bson_destroy(doc);

  memset(&e, 0, sizeof(e));
  e.code = 11000;
  snprintf(e.message, sizeof(e.message), "E11000 duplicate key error dup key: { name: \"Smith\" }");
  ck_assert_int_eq(rr_mongo_fail(err, sizeof(err), &e, "adding a user"), RR_EEXISTS);
  ck_assert_msg(strstr(err, "Smith") == NULL, "%s", err); /* the key's value is not repeated */
  e.code = 13;
  snprintf(e.message, sizeof(e.message), "not authorized");
  ck_assert_int_eq(rr_mongo_fail(err, sizeof(err), &e, "reading"), RR_ESTORE);
  ck_assert_str_eq(err, "mongodb: reading: not authorized");
}
END_TEST

/* A real MongoDB enforces unique indexes; the driver's 11000 becomes
 * RR_EEXISTS (CongoDB does not enforce them: skipped there). */
START_TEST(unique_violations_are_rr_eexists)
{
  rr_store *s;
  rr_mongo_store *m;
  mongoc_client_t *c;
  mongoc_collection_t *coll;
  bson_t *d1, *d2;
  bson_error_t e;
  char err[512] = "";

  if (rr_fx_skip_unless("unique indexes"))
    return;
  s = open_store();
  m = s->impl;
  ck_assert_int_eq(rr_mongo_index(m, "t_unique", "t_key", BCON_NEW("key", BCON_INT32(1)), true, NULL, err,
                                  sizeof(err)), 0);
  /* idempotent */
  ck_assert_int_eq(rr_mongo_index(m, "t_unique", "t_key", BCON_NEW("key", BCON_INT32(1)), true, NULL, err,
                                  sizeof(err)), 0);
  c = rr_mongo_pop(m);
  coll = rr_mongo_collection(m, c, "t_unique");
  d1 = BCON_NEW("key", BCON_UTF8("a"));
  d2 = BCON_NEW("key", BCON_UTF8("a"));
  ck_assert(mongoc_collection_insert_one(coll, d1, NULL, NULL, &e));
  ck_assert(!mongoc_collection_insert_one(coll, d2, NULL, NULL, &e));
  ck_assert_int_eq(rr_mongo_fail(err, sizeof(err), &e, "inserting"), RR_EEXISTS);
  bson_destroy(d1);
  bson_destroy(d2);
  mongoc_collection_destroy(coll);
  rr_mongo_push(m, c);
  rr_store_free(s);
}
END_TEST

int main(void)
{
  Suite *s;
  TCase *tc;
  size_t i;

  if (rr_fx_mongo_uri() == NULL) {
    /* Tests/run-all.sh counts this line as skipped, never as passed */
    printf("store backend mongodb: SKIPPED (store_mongo): neither READING_ROOM_TEST_MONGODB_URI nor "
           "RR_TEST_MONGODB_URI is set\n");
    return EXIT_SUCCESS;
  }
  for (i = 0; i < rr_fx_backend_count; i++)
    if (strcmp(rr_fx_backends[i].name, "mongodb") == 0)
      fx.backend = &rr_fx_backends[i];
  printf("store backend mongodb: %s\n", rr_fx_mongo_is_congodb() ? "the CongoDB test server" : "a MongoDB server");
  s = suite_create("store mongodb");
  tc = tcase_create("store_mongo");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, several_nodes_open_a_fresh_database_at_once);
  tcase_add_test(tc, a_newer_schema_is_refused);
  tcase_add_test(tc, an_older_schema_is_raised);
  tcase_add_test(tc, connection_failures_never_show_the_password);
  tcase_add_test(tc, options_are_checked);
  tcase_add_test(tc, sequences_give_each_value_once);
  tcase_add_test(tc, readers_and_error_mapping);
  tcase_add_test(tc, unique_violations_are_rr_eexists);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
