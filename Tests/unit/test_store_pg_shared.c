/*
 * test_store_pg_shared.c - the PostgreSQL backend's annotations, report
 * templates and report outputs used by several nodes at once: several
 * store handles (one per node, each with its pool) on one schema, written
 * from several threads. Report outputs are a durable queue: every job is
 * claimed exactly once whichever node's worker asks; annotation versions
 * and template revisions are compare-and-set across nodes (one writer
 * wins, the other gets RR_ESTALE). The single-handle behaviour is the
 * conformance suites' (test_store_annotations.c, ...). Needs
 * RR_TEST_PG_CONNINFO (Tests/lib/pg-cluster.sh); without it the suite is
 * reported SKIPPED and counts nothing.
 */
#include <pthread.h>

#include "common.h"
#include "store/store_pg.h"
#include "store_fixture.h"
#include "util/errors.h"
#include "util/str.h"

#define NODES 4
#define WORKERS_PER_NODE 2
#define REPORTS 60
#define KINDS 3

static const char *const kinds[KINDS] = {"pdf", "sr", "kos"};
static char dir[4096];
static char conninfo[4096];
static rr_store *nodes[NODES];

static void setup(void)
{
  char err[512] = "";
  rr_pg_options o = {0};
  int i;

  rr_test_tmpdir(dir, sizeof(dir));
  ck_assert_msg(rr_fx_pg_schema_conninfo(conninfo, sizeof(conninfo), dir, err, sizeof(err)) == 0, "%s", err);
  o.conninfo = conninfo;
  o.pool_size = WORKERS_PER_NODE;
  o.connect_timeout_s = 5;
  for (i = 0; i < NODES; i++)
    ck_assert_msg(rr_store_pg_open(&nodes[i], &o, err, sizeof(err)) == 0, "node %d: %s", i, err);
}

static void teardown(void)
{
  int i;

  for (i = 0; i < NODES; i++) {
    rr_store_free(nodes[i]);
    nodes[i] = NULL;
  }
  rr_fx_pg_drop_schema(dir);
  rr_test_rmdir(dir);
}

/* ---------------------------------------------------------------- report outputs */

typedef struct worker {
  rr_store *store;
  char name[32];
  int claims, failures;
  char err[512];
} worker;

static int claimed[REPORTS + 1][KINDS];
static pthread_barrier_t start_line;

static int kind_index(const char *kind)
{
  int k;

  for (k = 0; k < KINDS; k++)
    if (strcmp(kinds[k], kind) == 0)
      return k;
  return -1;
}

static void *work(void *arg)
{
  worker *w = arg;
  rr_report_output o;
  int rc, k;

  pthread_barrier_wait(&start_line);
  for (;;) {
    rc = rr_store_report_output_claim(w->store, &o, w->name, 1000, w->err, sizeof(w->err));
    if (rc == RR_ENOTFOUND)
      break;
    if (rc < 0 || (k = kind_index(o.kind)) < 0 || o.report_id < 1 || o.report_id > REPORTS) {
      w->failures++;
      break;
    }
    __atomic_add_fetch(&claimed[o.report_id][k], 1, __ATOMIC_RELAXED);
    w->claims++;
    if (rr_store_report_output_done(w->store, o.report_id, o.version, o.kind, "oid", "1.2.3", 1001, w->err,
                                    sizeof(w->err)) < 0) {
      w->failures++;
      break;
    }
  }
  return NULL;
}

START_TEST(every_output_is_claimed_once_across_nodes)
{
  pthread_t t[NODES * WORKERS_PER_NODE];
  worker w[NODES * WORKERS_PER_NODE];
  rr_report_output_counts counts;
  rr_report_output_list *list = NULL;
  char err[512] = "";
  bool created = false;
  int i, r, k, total = 0;

  memset(claimed, 0, sizeof(claimed));
  /* enqueued from every node in turn, in one order of creation */
  for (r = 1; r <= REPORTS; r++)
    for (k = 0; k < KINDS; k++) {
      ck_assert_msg(rr_store_report_output_enqueue(nodes[(r + k) % NODES], &created, r, 1, kinds[k], r, err,
                                                   sizeof(err)) == 0, "%s", err);
      ck_assert(created);
    }
  memset(w, 0, sizeof(w));
  pthread_barrier_init(&start_line, NULL, NODES * WORKERS_PER_NODE);
  for (i = 0; i < NODES * WORKERS_PER_NODE; i++) {
    w[i].store = nodes[i % NODES];
    snprintf(w[i].name, sizeof(w[i].name), "node%d-w%d", i % NODES, i / NODES);
    ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for (i = 0; i < NODES * WORKERS_PER_NODE; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&start_line);
  for (i = 0; i < NODES * WORKERS_PER_NODE; i++) {
    ck_assert_msg(w[i].failures == 0, "%s: %s", w[i].name, w[i].err);
    total += w[i].claims;
  }
  for (r = 1; r <= REPORTS; r++)
    for (k = 0; k < KINDS; k++)
      ck_assert_msg(claimed[r][k] == 1, "report %d %s claimed %d times", r, kinds[k], claimed[r][k]);
  ck_assert_int_eq(total, REPORTS * KINDS);
  ck_assert_int_eq(rr_store_report_output_counts(nodes[0], &counts, err, sizeof(err)), 0);
  ck_assert_int_eq(counts.done, REPORTS * KINDS);
  ck_assert_int_eq(counts.queued + counts.running + counts.failed, 0);
  /* each job tried once: no claim was lost or doubled */
  ck_assert_int_eq(rr_store_report_output_list(nodes[1], &list, 7, err, sizeof(err)), 0);
  ck_assert_uint_eq(list->count, KINDS);
  for (k = 0; k < KINDS; k++) {
    ck_assert_int_eq(list->items[k].attempts, 1);
    ck_assert_str_eq(list->items[k].state, "done");
  }
  rr_report_output_list_free(list);
}
END_TEST

START_TEST(a_claimer_holds_one_job_across_nodes)
{
  rr_report_output a, b;
  char err[512] = "";
  int64_t requeued = 0, failed = 0;

  ck_assert_int_eq(rr_store_report_output_enqueue(nodes[0], NULL, 1, 1, "pdf", 10, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_report_output_enqueue(nodes[1], NULL, 1, 1, "sr", 11, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_store_report_output_claim(nodes[0], &a, "worker", 20, err, sizeof(err)), 0);
  ck_assert_str_eq(a.kind, "pdf");
  ck_assert_int_eq(rr_store_report_output_claim(nodes[1], &b, "worker", 20, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_output_claim(nodes[2], &b, "other", 20, err, sizeof(err)), 0);
  ck_assert_str_eq(b.kind, "sr");
  ck_assert_int_eq(rr_store_report_output_claim(nodes[3], &b, "third", 20, err, sizeof(err)), RR_ENOTFOUND);
  /* a node that died: its job goes back to the queue from another node */
  ck_assert_int_eq(rr_store_report_output_requeue(nodes[3], &requeued, &failed, "other", 0, 5, 30, err,
                                                  sizeof(err)), 0);
  ck_assert_int_eq(requeued, 1);
  ck_assert_int_eq(failed, 0);
  ck_assert_int_eq(rr_store_report_output_claim(nodes[3], &b, "third", 30, err, sizeof(err)), 0);
  ck_assert_str_eq(b.kind, "sr");
  ck_assert_int_eq(b.attempts, 2);
}
END_TEST

/* ---------------------------------------------------------------- compare-and-set */

typedef struct writer {
  rr_store *store;
  int rc;
  char err[512];
  int which; /* 0 annotation, 1 template */
} writer;

static void *write_one(void *arg)
{
  writer *w = arg;
  rr_annotation a;
  rr_report_template_rec t;

  pthread_barrier_wait(&start_line);
  if (w->which == 0) {
    memset(&a, 0, sizeof(a));
    rr_str_copy(a.study_uid, sizeof(a.study_uid), "1.2.3");
    rr_str_copy(a.annotation_uid, sizeof(a.annotation_uid), "m1");
    rr_str_copy(a.series_uid, sizeof(a.series_uid), "1.2.3.4");
    rr_str_copy(a.sop_uid, sizeof(a.sop_uid), "1.2.3.4.5");
    a.frame = 1;
    rr_str_copy(a.tool, sizeof(a.tool), "Length");
    rr_str_copy(a.label, sizeof(a.label), "changed");
    rr_str_copy(a.author, sizeof(a.author), "alice");
    a.data_json = "{\"v\":2}";
    w->rc = rr_store_annotation_put(w->store, NULL, NULL, &a, 1, 2000, w->err, sizeof(w->err));
  } else {
    memset(&t, 0, sizeof(t));
    rr_str_copy(t.id, sizeof(t.id), "ct-head");
    t.json = "{\"v\":2}";
    rr_str_copy(t.updated_by, sizeof(t.updated_by), "admin");
    t.updated_at = 2000;
    w->rc = rr_store_report_template_update(w->store, NULL, &t, 1, w->err, sizeof(w->err));
  }
  return NULL;
}

/* Run `which` from every node at once; exactly one write wins. */
static void race(int which)
{
  pthread_t t[NODES];
  writer w[NODES];
  int i, won = 0, stale = 0;

  memset(w, 0, sizeof(w));
  pthread_barrier_init(&start_line, NULL, NODES);
  for (i = 0; i < NODES; i++) {
    w[i].store = nodes[i];
    w[i].which = which;
    ck_assert_int_eq(pthread_create(&t[i], NULL, write_one, &w[i]), 0);
  }
  for (i = 0; i < NODES; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&start_line);
  for (i = 0; i < NODES; i++) {
    ck_assert_msg(w[i].rc == 0 || w[i].rc == RR_ESTALE, "node %d: %d %s", i, w[i].rc, w[i].err);
    won += w[i].rc == 0;
    stale += w[i].rc == RR_ESTALE;
  }
  ck_assert_int_eq(won, 1);
  ck_assert_int_eq(stale, NODES - 1);
}

START_TEST(versions_are_compare_and_set_across_nodes)
{
  rr_annotation a, got;
  rr_annotation_list *list = NULL;
  rr_report_template_rec t, row;
  char err[512] = "";

  memset(&a, 0, sizeof(a));
  rr_str_copy(a.study_uid, sizeof(a.study_uid), "1.2.3");
  rr_str_copy(a.annotation_uid, sizeof(a.annotation_uid), "m1");
  rr_str_copy(a.series_uid, sizeof(a.series_uid), "1.2.3.4");
  rr_str_copy(a.sop_uid, sizeof(a.sop_uid), "1.2.3.4.5");
  a.frame = 1;
  rr_str_copy(a.tool, sizeof(a.tool), "Length");
  rr_str_copy(a.author, sizeof(a.author), "alice");
  a.data_json = "{\"v\":1}";
  ck_assert_msg(rr_store_annotation_put(nodes[0], &got, NULL, &a, 0, 1000, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(got.version, 1);
  rr_annotation_dispose(&got);
  race(0);
  ck_assert_int_eq(rr_store_annotation_list(nodes[2], &list, "1.2.3", err, sizeof(err)), 0);
  ck_assert_uint_eq(list->count, 1);
  ck_assert_int_eq(list->items[0].version, 2);
  ck_assert_str_eq(list->items[0].label, "changed");
  rr_annotation_list_free(list);

  memset(&t, 0, sizeof(t));
  rr_str_copy(t.id, sizeof(t.id), "ct-head");
  t.json = "{\"v\":1}";
  t.revision = 1;
  t.updated_at = 1000;
  ck_assert_msg(rr_store_report_template_create(nodes[1], &t, err, sizeof(err)) == 0, "%s", err);
  ck_assert_int_eq(rr_store_report_template_create(nodes[2], &t, err, sizeof(err)), RR_EEXISTS);
  race(1);
  ck_assert_int_eq(rr_store_report_template_get(nodes[3], &row, "ct-head", err, sizeof(err)), 0);
  ck_assert_int_eq(row.revision, 2);
  rr_report_template_rec_dispose(&row);
}
END_TEST

int main(void)
{
  Suite *s;
  TCase *tc;

  if (rr_fx_pg_conninfo() == NULL) {
    /* Tests/run-all.sh counts this line as skipped, never as passed */
    printf("store backend postgresql: SKIPPED (store_pg_shared): RR_TEST_PG_CONNINFO is not set\n");
    return EXIT_SUCCESS;
  }
  s = suite_create("store postgresql shared by several nodes");
  tc = tcase_create("store_pg_shared");
  tcase_set_timeout(tc, 60);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, every_output_is_claimed_once_across_nodes);
  tcase_add_test(tc, a_claimer_holds_one_job_across_nodes);
  tcase_add_test(tc, versions_are_compare_and_set_across_nodes);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
