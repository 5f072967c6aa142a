/*
 * test_store_pg.c - the PostgreSQL backend's own machinery (store_pg.c):
 * connection string, migrations (several nodes starting at once, a newer
 * schema refused), the pool's reconnection, the prepared-statement cache,
 * transaction retries, SQLSTATE mapping and the column readers. The
 * concerns themselves are checked by the conformance suites
 * (test_store_*.c) through store_fixture.c. Needs RR_TEST_PG_CONNINFO (a
 * server, see Tests/lib/pg-cluster.sh); without it the suite is reported
 * SKIPPED and counts nothing.
 */
#include <pthread.h>
#include <time.h>

#include "common.h"
#include "store/store_pg.h"
#include "store/store_pg_internal.h"
#include "store_fixture.h"
#include "util/errors.h"

static char dir[4096];
static char conninfo[4096];

static void setup(void)
{
  char err[512] = "";

  rr_test_tmpdir(dir, sizeof(dir));
  ck_assert_msg(rr_fx_pg_schema_conninfo(conninfo, sizeof(conninfo), dir, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
  rr_fx_pg_drop_schema(dir);
  rr_test_rmdir(dir);
}

static rr_pg_options options(void)
{
  rr_pg_options o = {0};
  o.conninfo = conninfo;
  o.pool_size = 4;
  o.connect_timeout_s = 5;
  return o;
}

static rr_store *open_store(void)
{
  rr_pg_options o = options();
  rr_store *s = NULL;
  char err[512] = "";

  ck_assert_msg(rr_store_pg_open(&s, &o, err, sizeof(err)) == 0, "open: %s", err);
  ck_assert_str_eq(s->name, "postgresql");
  return s;
}

static int64_t scalar(rr_store *st, const char *sql)
{
  PGresult *r = NULL;
  char err[512] = "";
  int64_t v;

  ck_assert_msg(rr_pg_run(st->impl, &r, "test", err, sizeof(err), sql, "") == 0, "%s: %s", sql, err);
  v = rr_pg_int(r, 0, 0);
  PQclear(r);
  return v;
}

/* ---------------------------------------------------------------- migrations */

#define NODES 8

typedef struct node {
  rr_store *store;
  int rc;
  char err[512];
} node;

static pthread_barrier_t start_line;

static void *node_open(void *arg)
{
  node *n = arg;
  rr_pg_options o = options();

  pthread_barrier_wait(&start_line);
  n->rc = rr_store_pg_open(&n->store, &o, n->err, sizeof(n->err));
  return NULL;
}

START_TEST(several_nodes_migrate_a_fresh_schema_at_once)
{
  static const char count_sql[] = "SELECT COUNT(*) FROM rr_schema_version";
  static const char max_sql[] = "SELECT MAX(version) FROM rr_schema_version";
  pthread_t t[NODES];
  node nodes[NODES];
  int i;

  ck_assert_int_gt(rr_store_pg_latest_schema(), 0);
  memset(nodes, 0, sizeof(nodes));
  pthread_barrier_init(&start_line, NULL, NODES);
  for (i = 0; i < NODES; i++)
    ck_assert_int_eq(pthread_create(&t[i], NULL, node_open, &nodes[i]), 0);
  for (i = 0; i < NODES; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&start_line);
  for (i = 0; i < NODES; i++)
    ck_assert_msg(nodes[i].rc == 0, "node %d: %s", i, nodes[i].err);
  /* every migration recorded exactly once (version is the primary key, and
   * a migration run twice would have failed on its CREATE TABLE) */
  ck_assert_int_eq(scalar(nodes[0].store, max_sql), rr_store_pg_latest_schema());
  ck_assert_int_le(scalar(nodes[0].store, count_sql), rr_store_pg_latest_schema());
  ck_assert_int_gt(scalar(nodes[0].store, count_sql), 0);
  for (i = 0; i < NODES; i++)
    rr_store_free(nodes[i].store);
}
END_TEST

START_TEST(reopening_applies_nothing_twice)
{
  rr_store *s = open_store();
  int64_t before = scalar(s, "SELECT COUNT(*) FROM rr_schema_version");

  rr_store_free(s);
  s = open_store();
  ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM rr_schema_version"), before);
  rr_store_free(s);
}
END_TEST

START_TEST(a_newer_schema_is_refused)
{
  static const char bump_sql[] = "INSERT INTO rr_schema_version (version, applied_at) VALUES ($1, 0)";
  rr_store *s = open_store();
  rr_pg_options o = options();
  char err[512] = "";

  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "bump", err, sizeof(err), bump_sql, "i",
                             (int64_t)rr_store_pg_latest_schema() + 1), 0);
  rr_store_free(s);
  s = NULL;
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_ESTORE);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(err, "newer than this plugin knows") != NULL, "%s", err);
}
END_TEST

/* ---------------------------------------------------------------- connecting */

START_TEST(connection_failures_never_show_the_password)
{
  rr_pg_options o = {0};
  rr_store *s = NULL;
  char err[512] = "";

  /* port 1 on loopback: nothing listens there */
  o.conninfo = "host=127.0.0.1 port=1 user=nobody dbname=none";
  o.password = "S3cr3t-Pa55word";
  o.pool_size = 1;
  o.connect_timeout_s = 2;
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_ESTORE);
  ck_assert_ptr_null(s);
  ck_assert_msg(strstr(err, "cannot connect") != NULL, "%s", err);
  ck_assert_ptr_null(strstr(err, "S3cr3t"));
}
END_TEST

START_TEST(options_are_checked)
{
  rr_pg_options o = options();
  rr_store *s = NULL;
  char err[512] = "";

  o.sslmode = "sometimes";
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "sslmode") != NULL, "%s", err);
  o = options();
  o.pool_size = 0;
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  o = options();
  o.conninfo = "host=127.0.0.1 nonsense_key=1";
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "not valid") != NULL, "%s", err);
  o = options();
  o.conninfo = "";
  ck_assert_int_eq(rr_store_pg_open(&s, &o, err, sizeof(err)), RR_EINVAL);
}
END_TEST

START_TEST(password_and_tls_options_reach_libpq)
{
  rr_pg_options o = options();
  rr_store *s = NULL;
  rr_pg_store *ps;
  char err[512] = "";

  o.password = "it's\\secret";
  o.sslmode = "disable";
  o.sslrootcert = "/etc/ssl/certs/ca-certificates.crt";
  ck_assert_msg(rr_store_pg_open(&s, &o, err, sizeof(err)) == 0, "%s", err);
  ps = s->impl;
  ck_assert_ptr_nonnull(strstr(ps->conninfo, "password='it\\'s\\\\secret'"));
  ck_assert_ptr_nonnull(strstr(ps->conninfo, "sslmode='disable'"));
  ck_assert_ptr_nonnull(strstr(ps->conninfo, "sslrootcert='/etc/ssl/certs/ca-certificates.crt'"));
  ck_assert_ptr_nonnull(strstr(ps->conninfo, "connect_timeout='5'"));
  ck_assert_ptr_nonnull(strstr(ps->conninfo, "application_name='orthanc-reading-room'"));
  rr_store_free(s);
}
END_TEST

START_TEST(dropped_connections_are_reestablished)
{
  static const char kill_sql[] = "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE application_name = 'rr-test-victim'";
  rr_store *killer = open_store(), *s = NULL;
  rr_pg_options o = options();
  rr_pg_store *ps;
  rr_pg_conn *c[4];
  char err[512] = "", victim[4200];
  int i;

  /* a store whose connections are named, so that only they are killed */
  snprintf(victim, sizeof(victim), "%s application_name=rr-test-victim", conninfo);
  o.conninfo = victim;
  ck_assert_msg(rr_store_pg_open(&s, &o, err, sizeof(err)) == 0, "%s", err);
  ps = s->impl;
  /* open every pooled connection of s */
  for (i = 0; i < 4; i++)
    ck_assert_msg(rr_pg_acquire(ps, &c[i], err, sizeof(err)) == 0, "%s", err);
  for (i = 0; i < 4; i++)
    rr_pg_release(ps, c[i]);
  ck_assert_int_ge(scalar(killer, kill_sql), 4); /* the pool, and the node lease's connection (store_pg_cluster.c) */
  for (i = 0; i < 8; i++)
    ck_assert_int_eq(scalar(s, "SELECT 41 + 1"), 42);
  rr_store_free(killer);
  rr_store_free(s);
}
END_TEST

/* ---------------------------------------------------------------- statements */

START_TEST(statements_are_prepared_once_per_connection)
{
  static const char sql[] = "SELECT $1::bigint + 1";
  static const char mismatch_sql[] = "SELECT $1::bigint";
  rr_store *s = open_store();
  rr_pg_store *ps = s->impl;
  rr_pg_conn *c = NULL;
  PGresult *r = NULL;
  char err[512] = "";
  unsigned before;

  ck_assert_int_eq(rr_pg_acquire(ps, &c, err, sizeof(err)), 0);
  before = c->prepared_count;
  ck_assert_int_eq(rr_pg_query(c, &r, sql, "i", (int64_t)41), 0);
  ck_assert_int_eq(rr_pg_int(r, 0, 0), 42);
  PQclear(r);
  ck_assert_int_eq(rr_pg_query(c, &r, sql, "i", (int64_t)-3), 0);
  ck_assert_int_eq(rr_pg_int(r, 0, 0), -2);
  PQclear(r);
  ck_assert_uint_eq(c->prepared_count, before + 1);
  /* a statement PostgreSQL refuses is not cached, and says why */
  ck_assert_int_eq(rr_pg_query(c, NULL, "SELEC 1", ""), RR_ESTORE);
  ck_assert_str_eq(c->last_state, "42601");
  ck_assert_uint_eq(c->prepared_count, before + 1);
  ck_assert_int_eq(rr_pg_fail(err, sizeof(err), RR_ESTORE, c, "testing"), RR_ESTORE);
  ck_assert_msg(strncmp(err, "postgresql: testing: syntax error", 33) == 0, "%s", err);
  /* parameter letters that do not match the statement are refused before
   * any value is read, and the statement is not kept */
  ck_assert_int_eq(rr_pg_query(c, NULL, mismatch_sql, "ii", (int64_t)1, (int64_t)2), RR_ESTORE);
  ck_assert_msg(strstr(c->last_message, "has 1 parameters, 2 were given") != NULL, "%s", c->last_message);
  ck_assert_int_eq(rr_pg_query(c, NULL, mismatch_sql, "zz", (int64_t)1, (int64_t)2), RR_ESTORE);
  ck_assert_uint_eq(c->prepared_count, before + 1);
  ck_assert_int_eq(rr_pg_query(c, &r, mismatch_sql, "i", (int64_t)7), 0);
  ck_assert_int_eq(rr_pg_int(r, 0, 0), 7);
  PQclear(r);
  rr_pg_release(ps, c);
  rr_store_free(s);
}
END_TEST

START_TEST(parameters_and_readers_round_trip)
{
  static const char sql[] = "SELECT $1::text, $2::text, $3::bigint, $4::float8, $5::boolean, $6::bytea, $7::text IS NULL";
  static const unsigned char blob[] = {0, 1, 2, 0xff, '\'', '\\', 0};
  rr_store *s = open_store();
  PGresult *r = NULL;
  char err[512] = "", small[8];
  void *bytes = NULL;
  size_t len = 0;
  char *dup;

  ck_assert_msg(rr_pg_run(s->impl, &r, "round trip", err, sizeof(err), sql, "ttidBbn", "Müller^Renée", (const char *)NULL,
                          (int64_t)-9007199254740993LL, 0.1, 1, (const void *)blob, sizeof(blob), (const char *)NULL) == 0,
                "%s", err);
  rr_pg_copy(small, sizeof(small), r, 0, 0);
  ck_assert_str_eq(small, "Müller"); /* 7 bytes and the NUL */
  dup = rr_pg_strdup(r, 0, 0);
  ck_assert_str_eq(dup, "Müller^Renée");
  free(dup);
  rr_pg_copy(small, sizeof(small), r, 0, 1);
  ck_assert_str_eq(small, "");
  ck_assert_int_eq(rr_pg_int(r, 0, 2), -9007199254740993LL);
  ck_assert(rr_pg_double(r, 0, 3) == 0.1);
  ck_assert(rr_pg_bool(r, 0, 4));
  ck_assert_int_eq(rr_pg_bytea(&bytes, &len, r, 0, 5), 0);
  ck_assert_uint_eq(len, sizeof(blob));
  ck_assert_mem_eq(bytes, blob, sizeof(blob));
  free(bytes);
  ck_assert(rr_pg_bool(r, 0, 6));
  ck_assert(!rr_pg_null(r, 0, 6));
  PQclear(r);
  /* truncation never cuts a UTF-8 character in two */
  ck_assert_int_eq(rr_pg_run(s->impl, &r, "utf8", err, sizeof(err), "SELECT 'aaaaaé'", ""), 0);
  rr_pg_copy(small, 7, r, 0, 0);
  ck_assert_str_eq(small, "aaaaa");
  PQclear(r);
  rr_store_free(s);
}
END_TEST

START_TEST(unique_violations_are_rr_eexists)
{
  static const char create_sql[] = "CREATE TABLE t_unique (k TEXT PRIMARY KEY)";
  static const char insert_sql[] = "INSERT INTO t_unique (k) VALUES ($1)";
  rr_store *s = open_store();
  char err[512] = "";

  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "create", err, sizeof(err), create_sql, ""), 0);
  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "insert", err, sizeof(err), insert_sql, "t", "PID-1"), 0);
  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "insert", err, sizeof(err), insert_sql, "t", "PID-1"), RR_EEXISTS);
  /* the message is PostgreSQL's primary one: never the row's values */
  ck_assert_ptr_null(strstr(err, "PID-1"));
  rr_store_free(s);
}
END_TEST

START_TEST(dynamic_parameters)
{
  rr_store *s = open_store();
  rr_pg_conn *c = NULL;
  rr_pg_params p = {0};
  PGresult *r = NULL;
  rr_buf sql;
  char err[512] = "";
  int i;

  rr_buf_init(&sql, 4096);
  rr_buf_puts(&sql, "SELECT ");
  ck_assert_int_eq(rr_pg_param_add(&p, &sql, "12", 2), 0);
  rr_buf_puts(&sql, "::int + ");
  ck_assert_int_eq(rr_pg_param_add(&p, &sql, "30xyz", 2), 0);
  rr_buf_puts(&sql, "::int");
  ck_assert_int_eq(rr_pg_acquire(s->impl, &c, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_pg_query_params(c, &r, &sql, &p), 0);
  ck_assert_int_eq(rr_pg_int(r, 0, 0), 42);
  PQclear(r);
  rr_pg_release(s->impl, c);
  for (i = 2; i < RR_PG_MAX_PARAMS; i++)
    ck_assert_int_eq(rr_pg_param_add(&p, &sql, "x", 1), 0);
  ck_assert_int_eq(rr_pg_param_add(&p, &sql, "x", 1), RR_EFULL);
  rr_pg_params_free(&p);
  ck_assert_uint_eq(p.count, 0);
  rr_buf_dispose(&sql);
  rr_store_free(s);
}
END_TEST

/* ---------------------------------------------------------------- transactions */

typedef struct tx_ctx {
  int calls;
  int conflicts; /* the first `conflicts` calls report a serialization failure */
} tx_ctx;

static int tx_body(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char sql[] = "INSERT INTO t_tx (n) VALUES ($1)";
  tx_ctx *t = arg;
  int error;

  t->calls++;
  if ((error = rr_pg_query(c, NULL, sql, "i", (int64_t)t->calls)) < 0)
    return rr_pg_fail(err, errsize, error, c, "insert");
  return t->calls <= t->conflicts ? RR_ECONFLICT : 0;
}

START_TEST(transactions_retry_conflicts_and_roll_back)
{
  rr_store *s = open_store();
  tx_ctx t = {0, 2};
  char err[512] = "";

  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "create", err, sizeof(err), "CREATE TABLE t_tx (n BIGINT)", ""), 0);
  ck_assert_msg(rr_pg_tx(s->impl, tx_body, &t, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(t.calls, 3);
  /* the two conflicting attempts were rolled back */
  ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM t_tx"), 1);
  ck_assert_int_eq(scalar(s, "SELECT MAX(n) FROM t_tx"), 3);
  t.calls = 0;
  t.conflicts = 100;
  ck_assert_int_eq(rr_pg_tx(s->impl, tx_body, &t, err, sizeof(err)), RR_ESTORE);
  ck_assert_int_eq(t.calls, 5);
  ck_assert_msg(strstr(err, "conflicting") != NULL, "%s", err);
  ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM t_tx"), 1);
  rr_store_free(s);
}
END_TEST

/* A real serialization failure: two SERIALIZABLE transactions that read
 * and write the same rows; rr_pg_tx must get both through. */
typedef struct ser_ctx {
  rr_pg_store *s;
  int rc;
  char err[512];
} ser_ctx;

static int ser_body(rr_pg_conn *c, void *arg, char *err, size_t errsize)
{
  static const char iso_sql[] = "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE";
  static const char read_sql[] = "SELECT COALESCE(SUM(n), 0) FROM t_ser";
  static const char write_sql[] = "INSERT INTO t_ser (n) VALUES ($1)";
  PGresult *r = NULL;
  int error;
  int64_t sum;

  (void)arg;
  if ((error = rr_pg_query(c, NULL, iso_sql, "")) < 0 || (error = rr_pg_query(c, &r, read_sql, "")) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "read");
  sum = rr_pg_int(r, 0, 0);
  PQclear(r);
  nanosleep(&(struct timespec){0, 20000000L}, NULL);
  if ((error = rr_pg_query(c, NULL, write_sql, "i", sum + 1)) < 0)
    return error == RR_ECONFLICT ? error : rr_pg_fail(err, errsize, error, c, "write");
  return 0;
}

static void *ser_thread(void *arg)
{
  ser_ctx *x = arg;
  x->rc = rr_pg_tx(x->s, ser_body, NULL, x->err, sizeof(x->err));
  return NULL;
}

START_TEST(serialization_failures_are_retried)
{
  rr_store *s = open_store();
  ser_ctx x[2];
  pthread_t t[2];
  char err[512] = "";
  int i;

  ck_assert_int_eq(rr_pg_run(s->impl, NULL, "create", err, sizeof(err), "CREATE TABLE t_ser (n BIGINT)", ""), 0);
  for (i = 0; i < 2; i++) {
    memset(&x[i], 0, sizeof(x[i]));
    x[i].s = s->impl;
    pthread_create(&t[i], NULL, ser_thread, &x[i]);
  }
  for (i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  for (i = 0; i < 2; i++)
    ck_assert_msg(x[i].rc == 0, "%s", x[i].err);
  /* serial outcome: 1 then 2 */
  ck_assert_int_eq(scalar(s, "SELECT COUNT(*) FROM t_ser"), 2);
  ck_assert_int_eq(scalar(s, "SELECT SUM(n) FROM t_ser"), 3);
  rr_store_free(s);
}
END_TEST

/* ------------------------------------------------------- search term keys */

/* Term rows whose copied keys differ from their study's (009_worklist.sql). */
static const char stale_terms_sql[] =
  "SELECT COUNT(*) FROM study_terms t JOIN studies s ON s.id = t.study_id WHERE t.study_date <> s.study_date"
  " OR t.study_time <> s.study_time OR t.received_at <> s.received_at"
  " OR t.patient_name_norm <> s.patient_name_norm OR t.mod_mask <> s.mod_mask";

static void apply(rr_store *st, const rr_fx_spec *spec, int64_t now)
{
  rr_ingest_item it = rr_fx_item(spec);
  rr_ingest_batch b = {&it, 1, NULL, NULL, now};
  char err[512] = "";

  ck_assert_msg(rr_store_apply_batch(st, &b, err, sizeof(err)) == 0, "apply: %s", err);
}

static const char *first_match(rr_store *st, const char *words)
{
  static char id[RR_OID_SIZE];
  rr_worklist_query q = {.sort = RR_SORT_STUDY_DATE, .descending = true, .limit = 50};
  rr_study_list *l = NULL;
  char err[512] = "";

  q.patient_name.mode = RR_MATCH_WORDS;
  snprintf(q.patient_name.value, sizeof(q.patient_name.value), "%s", words);
  ck_assert_msg(rr_store_query_worklist(st, &l, &q, err, sizeof(err)) == 0, "%s", err);
  snprintf(id, sizeof(id), "%s", l->count > 0 ? l->items[0].orthanc_id : "");
  rr_study_list_free(l);
  return id;
}

/* Every term row carries its study's sort keys and modality mask, kept by
 * the migration's triggers through inserts and changes of the study. */
START_TEST(search_terms_carry_their_study_keys)
{
  rr_fx_spec a = {"s-a", "p-a", "1.2.3.1", "Muller^Anna", "PID-1", "20200101", "CT Thorax", "ACC1", "se-a1", "CT", 1,
                  "i-a1", 1, NULL};
  rr_fx_spec b = {"s-b", "p-b", "1.2.3.2", "Mullins^Bob", "PID-2", "20210101", "MR Knee", "ACC2", "se-b1", "MR", 1,
                  "i-b1", 1, NULL};
  rr_store *st = open_store();

  apply(st, &a, 1000);
  apply(st, &b, 1000);
  ck_assert_int_gt(scalar(st, "SELECT COUNT(*) FROM study_terms WHERE study_date = '20200101' AND mod_mask <> 0"), 3);
  ck_assert_int_eq(scalar(st, stale_terms_sql), 0);
  ck_assert_str_eq(first_match(st, "MUL"), "s-b");
  a.date = "20220101";
  a.name = "Mullerova^Anna";
  a.series = "se-a2";
  a.modality = "MR";
  a.instance = "i-a2";
  apply(st, &a, 2000);
  ck_assert_int_eq(scalar(st, stale_terms_sql), 0);
  ck_assert_int_eq(scalar(st, "SELECT COUNT(*) FROM study_terms WHERE term = 'MULLEROVA' AND study_date = '20220101'"), 2);
  ck_assert_str_eq(first_match(st, "MUL"), "s-a");
  rr_store_free(st);
}
END_TEST

/* The total of the unfiltered worklist: the number of studies, kept by
 * the write triggers through inserts, re-sent studies and deletions, and
 * folded into one row past 32. */
static int64_t unfiltered_total(rr_store *st)
{
  rr_worklist_query q = {.sort = RR_SORT_STUDY_DATE, .descending = true, .limit = 1};
  rr_study_list *l = NULL;
  char err[512] = "";
  int64_t total;

  ck_assert_msg(rr_store_query_worklist(st, &l, &q, err, sizeof(err)) == 0, "%s", err);
  total = l->total;
  rr_study_list_free(l);
  return total;
}

START_TEST(the_unfiltered_total_is_the_kept_study_count)
{
  rr_fx_spec sp = {"s-0", "p-0", "1.2.3.0", "Doe^Jane", "PID-0", "20200101", "CT", "ACC", "se-0", "CT", 1, "i-0", 1, NULL};
  char study[16], series[16], instance[16], uid[24];
  rr_store *st = open_store();
  char err[512] = "";
  int i;

  ck_assert_int_eq(unfiltered_total(st), 0);
  for (i = 0; i < 200; i++) {
    snprintf(study, sizeof(study), "s-%d", i);
    snprintf(series, sizeof(series), "se-%d", i);
    snprintf(instance, sizeof(instance), "i-%d", i);
    snprintf(uid, sizeof(uid), "1.2.3.%d", i);
    sp.study = study;
    sp.series = series;
    sp.instance = instance;
    sp.uid = uid;
    apply(st, &sp, 1000 + i);
  }
  apply(st, &sp, 5000); /* sent again: no new study */
  ck_assert_int_eq(unfiltered_total(st), 200);
  ck_assert_int_eq(rr_store_delete(st, RR_LEVEL_STUDY, "s-7", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_delete(st, RR_LEVEL_INSTANCE, "i-8", err, sizeof(err)), 0); /* its last instance */
  ck_assert_int_eq(scalar(st, "SELECT COUNT(*) FROM studies"), 198);
  ck_assert_int_eq(unfiltered_total(st), 198);
  /* folded past 32 rows: never one row per insert */
  ck_assert_int_le(scalar(st, "SELECT COUNT(*) FROM study_count_deltas"), 33);
  rr_store_free(st);
}
END_TEST

/* A store of schema 8 (terms without keys) is upgraded in place at start:
 * the same terms, now with their studies' keys, and the searches work. */
START_TEST(a_schema_8_store_is_upgraded_with_its_terms)
{
  static const char *const downgrade[] = {
    "CREATE TABLE old_terms AS SELECT kind, term, study_id FROM study_terms",
    "DROP TABLE study_terms",
    "DROP FUNCTION rr_study_terms_keys()",
    "DROP TRIGGER studies_keys_update ON studies",
    "DROP FUNCTION rr_study_keys_sync()",
    "ALTER TABLE old_terms RENAME TO study_terms",
    "ALTER TABLE study_terms ADD PRIMARY KEY (kind, term, study_id)",
    "ALTER TABLE study_terms ADD FOREIGN KEY (study_id) REFERENCES studies(id) ON DELETE CASCADE",
    "CREATE INDEX study_terms_study ON study_terms(study_id)",
    "DROP TRIGGER studies_count_insert ON studies",
    "DROP TRIGGER studies_count_delete ON studies",
    "DROP TRIGGER studies_count_truncate ON studies",
    "DROP FUNCTION rr_study_count_inserted()",
    "DROP FUNCTION rr_study_count_deleted()",
    "DROP FUNCTION rr_study_count_truncated()",
    "DROP FUNCTION rr_study_count_fold()",
    "DROP TABLE study_count_deltas",
    "DELETE FROM rr_schema_version WHERE version >= 9"};
  rr_fx_spec a = {"s-a", "p-a", "1.2.3.1", "Muller^Anna", "PID-1", "20200101", "CT Thorax", "ACC1", "se-a1", "CT", 1,
                  "i-a1", 1, NULL};
  rr_fx_spec b = {"s-b", "p-b", "1.2.3.2", "Mullins^Bob", "PID-2", "20210101", "MR Knee", "ACC2", "se-b1", "MR", 1,
                  "i-b1", 1, NULL};
  rr_store *st = open_store();
  PGresult *r = NULL;
  char err[512] = "";
  int64_t terms;
  size_t i;

  ck_assert_int_ge(rr_store_pg_latest_schema(), 9);
  apply(st, &a, 1000);
  apply(st, &b, 1000);
  terms = scalar(st, "SELECT COUNT(*) FROM study_terms");
  for (i = 0; i < sizeof(downgrade) / sizeof(downgrade[0]); i++) {
    ck_assert_msg(rr_pg_run(st->impl, &r, "downgrade", err, sizeof(err), downgrade[i], "") == 0, "%s: %s", downgrade[i], err);
    PQclear(r);
    r = NULL;
  }
  ck_assert_int_eq(scalar(st, "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema()"
                              " AND table_name = 'study_terms' AND column_name = 'study_date'"),
                   0);
  rr_store_free(st);
  st = open_store();
  ck_assert_int_eq(scalar(st, "SELECT MAX(version) FROM rr_schema_version"), rr_store_pg_latest_schema());
  ck_assert_int_eq(scalar(st, "SELECT COUNT(*) FROM study_terms"), terms);
  ck_assert_int_eq(scalar(st, stale_terms_sql), 0);
  ck_assert_int_eq(scalar(st, "SELECT COUNT(*) FROM study_terms WHERE study_date = ''"), 0);
  ck_assert_int_eq(scalar(st, "SELECT sum(n) FROM study_count_deltas"), 2);
  ck_assert_str_eq(first_match(st, "MUL"), "s-b");
  b.date = "20190101";
  apply(st, &b, 2000);
  ck_assert_int_eq(scalar(st, stale_terms_sql), 0);
  ck_assert_str_eq(first_match(st, "MUL"), "s-a");
  rr_store_free(st);
}
END_TEST

int main(void)
{
  Suite *s;
  TCase *tc;

  if (rr_fx_pg_conninfo() == NULL) {
    /* Tests/run-all.sh counts this line as skipped, never as passed */
    printf("store backend postgresql: SKIPPED (store_pg): RR_TEST_PG_CONNINFO is not set\n");
    return EXIT_SUCCESS;
  }
  s = suite_create("store postgresql");
  tc = tcase_create("store_pg");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, several_nodes_migrate_a_fresh_schema_at_once);
  tcase_add_test(tc, reopening_applies_nothing_twice);
  tcase_add_test(tc, a_newer_schema_is_refused);
  tcase_add_test(tc, connection_failures_never_show_the_password);
  tcase_add_test(tc, options_are_checked);
  tcase_add_test(tc, password_and_tls_options_reach_libpq);
  tcase_add_test(tc, dropped_connections_are_reestablished);
  tcase_add_test(tc, statements_are_prepared_once_per_connection);
  tcase_add_test(tc, parameters_and_readers_round_trip);
  tcase_add_test(tc, unique_violations_are_rr_eexists);
  tcase_add_test(tc, dynamic_parameters);
  tcase_add_test(tc, transactions_retry_conflicts_and_roll_back);
  tcase_add_test(tc, serialization_failures_are_retried);
  tcase_add_test(tc, search_terms_carry_their_study_keys);
  tcase_add_test(tc, the_unfiltered_total_is_the_kept_study_count);
  tcase_add_test(tc, a_schema_8_store_is_upgraded_with_its_terms);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
