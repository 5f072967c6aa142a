/*
 * test_store_pg_reports.c - what the PostgreSQL backend's reports concern
 * guarantees beyond the conformance suite (test_store_reports.c, which runs
 * on both backends): the database itself refuses, through libpq with raw
 * SQL as any client would send it, to change a signed or cancelled version,
 * to delete or truncate versions or reports, to store a "signed" version
 * without its signature and a second open report of a study (the SQLite
 * equivalent is in test_store_reports.c); and writers on two store handles
 * (two nodes) at once: one draft save, one signature and one creation win,
 * the others are refused. Also the referring-physician filter with names
 * that need quoting in an array literal, reads after dropped connections,
 * and reads that leave the store's write fault as it was. Needs RR_TEST_PG_CONNINFO (see
 * Tests/lib/pg-cluster.sh); without it the suite is reported SKIPPED and
 * counts nothing.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <time.h>

#include "common.h"
#include "store_fixture.h"
#include "util/errors.h"
#include "util/sha256.h"
#include "util/str.h"

#define TEMPLATE "{\"id\":\"ct-chest\",\"sections\":[]}"
#define E (fx.err), sizeof(fx.err)

static const unsigned char pdf_a[] = "%PDF-1.5 signed \x00\x01\xff";

static rr_report_signature signature(const char *by, int64_t at)
{
  static char hex[65];
  rr_report_signature s;

  ck_assert_int_eq(rr_sha256_hex(hex, pdf_a, sizeof(pdf_a)), 0);
  memset(&s, 0, sizeof(s));
  s.signed_by = by;
  s.signed_at = at;
  s.pdf = pdf_a;
  s.pdf_size = sizeof(pdf_a);
  s.pdf_sha256 = hex;
  return s;
}

static int64_t create_on(rr_store *st, const char *study)
{
  int64_t id = 0;

  ck_assert_msg(rr_store_report_create(st, &id, study, "ct-chest", TEMPLATE, "rad", 10000, E) == 0, "create: %s",
                fx.err);
  return id;
}

static rr_report_expect expect_of(int64_t id)
{
  rr_report *r = NULL;
  rr_report_expect e;

  ck_assert_msg(rr_store_report_get(fx.store, &r, id, E) == 0, "get: %s", fx.err);
  e.version = r->versions[r->version_count - 1].version;
  e.revision = r->versions[r->version_count - 1].revision;
  rr_report_free(r);
  return e;
}

static int sign(int64_t id, const char *status, int64_t at)
{
  rr_report_expect e = expect_of(id);
  rr_report_signature s = signature("rad", at);

  return rr_store_report_sign(fx.store, NULL, id, &e, status, &s, E);
}

static void quiet(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

/* A raw connection to the test's schema, as another client would open it. */
static PGconn *raw_connect(void)
{
  char conninfo[4096], err[512] = "";
  PGconn *pg;

  ck_assert_msg(rr_fx_pg_schema_conninfo(conninfo, sizeof(conninfo), fx.dir, err, sizeof(err)) == 0, "%s", err);
  pg = PQconnectdb(conninfo);
  ck_assert_msg(PQstatus(pg) == CONNECTION_OK, "connect: %s", PQerrorMessage(pg));
  PQsetNoticeProcessor(pg, quiet, NULL);
  return pg;
}

/* Run sql; true when the server accepted it. *message: its error text. */
static bool raw_exec(PGconn *pg, const char *sql, char *message, size_t size)
{
  PGresult *r = PQexec(pg, sql);
  ExecStatusType st = PQresultStatus(r);
  bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

  rr_str_copy(message, size, ok ? "" : PQresultErrorMessage(r));
  PQclear(r);
  return ok;
}

START_TEST(signed_versions_are_frozen_in_the_database)
{
  static const char *const refused[] = {
    "UPDATE report_versions SET fields_json='{\"tampered\":1}' WHERE version=1",
    "UPDATE report_versions SET version_status='draft' WHERE version=1",
    "UPDATE report_versions SET pdf='\\x00'::bytea WHERE version=1",
    "UPDATE report_versions SET signed_by='mallory' WHERE version=2",
    "UPDATE report_versions SET revision=revision",
    "DELETE FROM report_versions WHERE version=1",
    "DELETE FROM report_versions",
    "DELETE FROM reports",
    "TRUNCATE report_versions",
    "TRUNCATE reports CASCADE",
    "TRUNCATE report_versions, reports, report_acks",
  };
  rr_report_version v;
  rr_report *r = NULL;
  PGconn *pg;
  char msg[512];
  int64_t id, cancelled;
  size_t i;

  rr_fx_load_worklist();
  id = create_on(fx.store, "1.2.3.1");
  {
    rr_report_expect e = expect_of(id);
    ck_assert_int_eq(rr_store_report_save_draft(fx.store, NULL, id, &e, "{\"impression\":\"normal\"}", NULL, -1, "rad",
                                                11000, E),
                     0);
  }
  ck_assert_int_eq(sign(id, "preliminary", 12000), 0);
  ck_assert_int_eq(sign(id, "final", 13000), 0);
  cancelled = create_on(fx.store, "1.2.3.2");
  ck_assert_int_eq(rr_store_report_cancel(fx.store, cancelled, "rad", "ordered twice", 14000, E), 0);

  pg = raw_connect();
  for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    ck_assert_msg(!raw_exec(pg, refused[i], msg, sizeof(msg)), "raw SQL was accepted: %s", refused[i]);
    ck_assert_msg(strstr(msg, "never") != NULL, "%s: %s", refused[i], msg);
  }
  /* the cancelled draft is frozen too */
  ck_assert(!raw_exec(pg, "UPDATE report_versions SET fields_json='{}' WHERE version_status='cancelled'", msg,
                      sizeof(msg)));
  ck_assert_ptr_nonnull(strstr(msg, "never"));
  /* a "signed" version without signature, hash or PDF */
  ck_assert(!raw_exec(pg,
                      "INSERT INTO report_versions(report_id, version, kind, version_status, author, updated_by,"
                      " created_at, updated_at) VALUES(1, 9, 'original', 'final', 'x', 'x', 1, 1)",
                      msg, sizeof(msg)));
  ck_assert_ptr_nonnull(strstr(msg, "report_versions_signed"));
  ck_assert(!raw_exec(pg,
                      "INSERT INTO report_versions(report_id, version, kind, version_status, author, updated_by,"
                      " created_at, updated_at, signed_by, signed_at, pdf_sha256, pdf) VALUES(1, 9, 'original',"
                      " 'final', 'x', 'x', 1, 1, 'x', 1, 'abc', '\\x00'::bytea)",
                      msg, sizeof(msg)));
  /* a second open report of the study */
  ck_assert(!raw_exec(pg,
                      "INSERT INTO reports(study_uid, template_id, template_json, state, created_by, created_at,"
                      " updated_at) VALUES('1.2.3.1', 't', '{}', 'draft', 'x', 1, 1)",
                      msg, sizeof(msg)));
  ck_assert_ptr_nonnull(strstr(msg, "reports_open"));
  /* an unknown state */
  ck_assert(!raw_exec(pg, "UPDATE reports SET state='signed'", msg, sizeof(msg)));
  /* a draft may still change (the triggers refuse only what they must) */
  {
    int64_t draft = create_on(fx.store, "1.2.3.3");
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE report_versions SET fields_json='{\"raw\":1}' WHERE report_id=%lld",
             (long long)draft);
    ck_assert_msg(raw_exec(pg, sql, msg, sizeof(msg)), "%s", msg);
  }
  PQfinish(pg);

  /* nothing changed */
  ck_assert_int_eq(rr_store_report_get(fx.store, &r, id, E), 0);
  ck_assert_uint_eq(r->version_count, 2);
  ck_assert_str_eq(r->state, "final");
  ck_assert_str_eq(r->versions[0].fields_json, "{\"impression\":\"normal\"}");
  ck_assert_str_eq(r->versions[0].status, "preliminary");
  ck_assert_str_eq(r->versions[1].signed_by, "rad");
  rr_report_free(r);
  ck_assert_int_eq(rr_store_report_pdf(fx.store, &v, id, 1, E), 0);
  ck_assert_uint_eq(v.pdf_size, sizeof(pdf_a));
  ck_assert_int_eq(memcmp(v.pdf, pdf_a, sizeof(pdf_a)), 0);
  rr_report_version_dispose(&v);
  ck_assert_int_eq(rr_store_report_get(fx.store, &r, cancelled, E), 0);
  ck_assert_str_eq(r->versions[0].status, "cancelled");
  rr_report_free(r);
}
END_TEST

/* ------------------------------------------------------------ two nodes */

typedef struct writer {
  rr_store *store;
  int64_t id;
  rr_report_expect expect;
  const char *fields; /* save; NULL: sign final */
  int result;
  int64_t created; /* create (id == 0) */
  char err[512];
  pthread_barrier_t *start;
} writer;

static void *write_once(void *arg)
{
  writer *w = arg;
  rr_report_signature s = signature("rad", 20000);

  pthread_barrier_wait(w->start);
  if (w->id == 0)
    w->result = rr_store_report_create(w->store, &w->created, "1.2.3.4", "ct-chest", TEMPLATE, "rad", 10000, w->err,
                                       sizeof(w->err));
  else if (w->fields != NULL)
    w->result = rr_store_report_save_draft(w->store, NULL, w->id, &w->expect, w->fields, NULL, -1, "rad", 20000,
                                           w->err, sizeof(w->err));
  else
    w->result = rr_store_report_sign(w->store, NULL, w->id, &w->expect, "final", &s, w->err, sizeof(w->err));
  return NULL;
}

/* Runs a and b at once (each on its own store handle). */
static void race(writer *a, writer *b)
{
  pthread_barrier_t start;
  pthread_t t1, t2;

  pthread_barrier_init(&start, NULL, 2);
  a->start = b->start = &start;
  ck_assert_int_eq(pthread_create(&t1, NULL, write_once, a), 0);
  ck_assert_int_eq(pthread_create(&t2, NULL, write_once, b), 0);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  pthread_barrier_destroy(&start);
}

START_TEST(two_nodes_one_winner)
{
  rr_store *other = NULL;
  rr_report *r = NULL;
  int round;

  rr_fx_load_worklist();
  other = rr_fx_open_named("postgresql", fx.dir); /* the same schema: a second node */
  for (round = 0; round < 5; round++) {
    int64_t id = create_on(round % 2 ? other : fx.store, "1.2.3.1");
    writer a = {fx.store, id, {1, 1}, "{\"by\":\"a\"}", 1, 0, "", NULL};
    writer b = {other, id, {1, 1}, "{\"by\":\"b\"}", 1, 0, "", NULL};

    /* two saves of revision 1 */
    race(&a, &b);
    ck_assert_msg((a.result == 0 && b.result == RR_ESTALE) || (a.result == RR_ESTALE && b.result == 0),
                  "saves: %d (%s) and %d (%s)", a.result, a.err, b.result, b.err);
    ck_assert_int_eq(rr_store_report_get(other, &r, id, E), 0);
    ck_assert_int_eq(r->versions[0].revision, 2);
    ck_assert_str_eq(r->versions[0].fields_json, a.result == 0 ? a.fields : b.fields);
    rr_report_free(r);

    /* two final signatures of revision 2 */
    a.expect.revision = b.expect.revision = 2;
    a.fields = b.fields = NULL;
    race(&a, &b);
    /* the loser finds the report final (refused) or its revision stale */
    ck_assert_msg((a.result == 0 && (b.result == RR_ESTALE || b.result == RR_ECONFLICT)) ||
                    ((a.result == RR_ESTALE || a.result == RR_ECONFLICT) && b.result == 0),
                  "signatures: %d (%s) and %d (%s)", a.result, a.err, b.result, b.err);
    ck_assert_int_eq(rr_store_report_get(fx.store, &r, id, E), 0);
    ck_assert_str_eq(r->state, "final");
    ck_assert_uint_eq(r->version_count, 1);
    ck_assert_int_eq(r->versions[0].revision, 3);
    rr_report_free(r);
    ck_assert_int_eq(rr_store_report_entered_in_error(other, id, "admin", "next round", 30000, E), 0);

    /* two creations on one study: one report, the other names it */
    a.id = b.id = 0;
    race(&a, &b);
    ck_assert_msg((a.result == 0 && b.result == RR_EEXISTS) || (a.result == RR_EEXISTS && b.result == 0),
                  "creations: %d (%s) and %d (%s)", a.result, a.err, b.result, b.err);
    {
      char name[64];
      writer *lost = a.result == 0 ? &b : &a;
      snprintf(name, sizeof(name), "open report (%lld)", (long long)(a.result == 0 ? a.created : b.created));
      ck_assert_msg(strstr(lost->err, name) != NULL, "%s", lost->err);
    }
    ck_assert_int_eq(rr_store_report_entered_in_error(fx.store, a.result == 0 ? a.created : b.created, "admin",
                                                      "next round", 30000, E),
                     0);
  }
  rr_store_free(other);
}
END_TEST

/* Referring physicians whose values need quoting in the array parameter:
 * a double quote and the value separator '\'. */
START_TEST(referring_names_with_quotes_and_backslashes)
{
  rr_fx_spec spec = {"s-q", "p-q", "1.2.3.9", "Doe^Jane", "PID-9", "20240202", "CT Head", "ACC9", "se-q1", "CT", 1,
                     "i-q1", 1, NULL};
  rr_ingest_item item;
  rr_report_row_list *l = NULL;
  rr_report_query q;
  bool has = false;
  int64_t id;

  rr_fx_load_worklist();
  item = rr_fx_item(&spec);
  rr_str_copy(item.study.referring_physician, RR_PN_SIZE, "SMITH^JOHN\\O\"NEIL^PAT");
  rr_fx_apply(&item, 1, 3000);
  id = create_on(fx.store, "1.2.3.9");
  create_on(fx.store, "1.2.3.1");
  ck_assert_int_eq(sign(id, "final", 20000), 0);

  memset(&q, 0, sizeof(q));
  rr_str_copy(q.referring, sizeof(q.referring), "O\"Neil^Pat");
  ck_assert_msg(rr_store_report_list(fx.store, &l, &q, E) == 0, "%s", fx.err);
  ck_assert_uint_eq(l->count, 1);
  ck_assert_int_eq(l->total, 1);
  ck_assert_int_eq(l->items[0].id, id);
  ck_assert_str_eq(l->items[0].referring_physician, "SMITH^JOHN\\O\"NEIL^PAT");
  rr_report_row_list_free(l);
  rr_str_copy(q.referring, sizeof(q.referring), "smith");
  ck_assert_int_eq(rr_store_report_list(fx.store, &l, &q, E), 0);
  ck_assert_uint_eq(l->count, 1);
  rr_report_row_list_free(l);
  rr_str_copy(q.referring, sizeof(q.referring), "neil");
  ck_assert_int_eq(rr_store_report_list(fx.store, &l, &q, E), 0);
  ck_assert_uint_eq(l->count, 0);
  ck_assert_int_eq(l->total, 0);
  rr_report_row_list_free(l);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-q", "o\"neil", E), 0);
  ck_assert(has);
  ck_assert_int_eq(rr_store_report_has_final(fx.store, &has, "s-q", "jones", E), 0);
  ck_assert(!has);
}
END_TEST

/* Reads after the server dropped the store's connections (a restart)
 * work: the pooled connections are re-established. */
START_TEST(reads_reconnect_after_dropped_connections)
{
  rr_report_row_list *l = NULL;
  rr_report_query q;
  rr_report_version v;
  rr_report *r = NULL;
  PGconn *pg;
  char msg[512], schema[128], sql[512];
  int64_t id;

  rr_fx_load_worklist();
  id = create_on(fx.store, "1.2.3.1");
  ck_assert_int_eq(sign(id, "final", 12000), 0);
  pg = raw_connect();
  /* every other connection of this schema's store (the fixture names them
   * after the schema: other test programs may be running on the server) */
  rr_fx_pg_schema_name(schema, sizeof(schema), fx.dir);
  ck_assert_int_gt(snprintf(sql, sizeof(sql),
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                            " AND datname = current_database() AND application_name = '%s'",
                            schema),
                   0);
  ck_assert_msg(raw_exec(pg, sql, msg, sizeof(msg)), "%s", msg);
  PQfinish(pg);
  {
    struct timespec pause = {0, 200000000};
    nanosleep(&pause, NULL);
  }
  ck_assert_msg(rr_store_report_get(fx.store, &r, id, E) == 0, "get: %s", fx.err);
  ck_assert_str_eq(r->state, "final");
  rr_report_free(r);
  ck_assert_msg(rr_store_report_pdf(fx.store, &v, id, 1, E) == 0, "pdf: %s", fx.err);
  rr_report_version_dispose(&v);
  memset(&q, 0, sizeof(q));
  ck_assert_msg(rr_store_report_list(fx.store, &l, &q, E) == 0, "list: %s", fx.err);
  ck_assert_uint_eq(l->count, 1);
  rr_report_row_list_free(l);
}
END_TEST

/* A write fault lasts until a write succeeds: report reads (their own
 * read-only transactions) never clear it. */
START_TEST(reads_keep_the_write_fault)
{
  rr_store_stats st;
  rr_report_row_list *l = NULL;
  rr_report_query q;
  rr_report *r = NULL;
  PGconn *pg;
  char msg[512];
  int64_t id;

  rr_fx_load_worklist();
  id = create_on(fx.store, "1.2.3.1");
  pg = raw_connect();
  ck_assert_msg(raw_exec(pg, "ALTER TABLE report_macros ADD CONSTRAINT no_boom CHECK (text <> 'boom')", msg,
                         sizeof(msg)),
                "%s", msg);
  PQfinish(pg);
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "m", "boom", 100, E), RR_ESTORE);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, E), 0);
  ck_assert_str_eq(st.write_fault_kind, "io-error");
  ck_assert_int_eq(rr_store_report_get(fx.store, &r, id, E), 0);
  rr_report_free(r);
  memset(&q, 0, sizeof(q));
  ck_assert_int_eq(rr_store_report_list(fx.store, &l, &q, E), 0);
  rr_report_row_list_free(l);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, E), 0);
  ck_assert_str_eq(st.write_fault_kind, "io-error");
  ck_assert_int_eq(rr_store_macro_put(fx.store, "rad", "m", "fine", 100, E), 0);
  ck_assert_int_eq(rr_store_get_stats(fx.store, &st, E), 0);
  ck_assert_str_eq(st.write_fault_kind, "");
}
END_TEST

int main(void)
{
  Suite *s;
  TCase *tc;
  size_t i;

  if (rr_fx_pg_conninfo() == NULL) {
    /* Tests/run-all.sh counts this line as skipped, never as passed */
    printf("store backend postgresql: SKIPPED (store_pg_reports): RR_TEST_PG_CONNINFO is not set\n");
    return EXIT_SUCCESS;
  }
  for (i = 0; i < rr_fx_backend_count && strcmp(rr_fx_backends[i].name, "postgresql") != 0; i++)
    ;
  if (i == rr_fx_backend_count) {
    fprintf(stderr, "this build has no postgresql store backend\n");
    return EXIT_FAILURE;
  }
  fx.backend = &rr_fx_backends[i];
  s = suite_create("store postgresql reports");
  tc = tcase_create("store_pg_reports");
  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, rr_fx_setup, rr_fx_teardown);
  tcase_add_test(tc, signed_versions_are_frozen_in_the_database);
  tcase_add_test(tc, two_nodes_one_winner);
  tcase_add_test(tc, referring_names_with_quotes_and_backslashes);
  tcase_add_test(tc, reads_reconnect_after_dropped_connections);
  tcase_add_test(tc, reads_keep_the_write_fault);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
