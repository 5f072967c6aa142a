/*
 * Store conformance, report outputs concern (store/store_report_outputs.h):
 * the durable queue of report objects for the archive. Idempotent enqueue,
 * claims in order and only when due, one job per claimer, each job claimed
 * once by concurrent claimers, back-off and "failed" after N attempts,
 * requeue at start-up, administrator retry, persistence across a reopen.
 * Run against every backend in store_fixture.c.
 */
#include "common.h"
#include "store_fixture.h"

#include <pthread.h>

#include "util/errors.h"
#include "util/str.h"

#define T0 1000000

static void enqueue(int64_t report, int64_t version, const char *kind, int64_t now, bool expect_created)
{
  bool created = !expect_created;
  ck_assert_msg(rr_store_report_output_enqueue(fx.store, &created, report, version, kind, now, fx.err,
                                               sizeof(fx.err)) == 0, "enqueue: %s", fx.err);
  ck_assert_int_eq(created, expect_created);
}

static rr_report_output claim(const char *claimer, int64_t now)
{
  rr_report_output o;
  ck_assert_msg(rr_store_report_output_claim(fx.store, &o, claimer, now, fx.err, sizeof(fx.err)) == 0, "claim: %s",
                fx.err);
  return o;
}

START_TEST(enqueue_is_idempotent_and_listed_in_order)
{
  rr_report_output_list *list = NULL;

  enqueue(5, 1, "kos", T0, true);
  enqueue(5, 1, "pdf", T0, true);
  enqueue(5, 1, "sr", T0, true);
  enqueue(5, 1, "sr", T0 + 5, false);
  enqueue(5, 2, "pdf", T0 + 10, true);
  enqueue(6, 1, "pdf", T0, true);
  ck_assert_int_eq(rr_store_report_output_enqueue(fx.store, NULL, 5, 1, "png", T0, fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_output_enqueue(fx.store, NULL, 0, 1, "sr", T0, fx.err, sizeof(fx.err)), RR_EINVAL);
  ck_assert_int_eq(rr_store_report_output_list(fx.store, &list, 5, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 4);
  ck_assert_str_eq(list->items[0].kind, "pdf");
  ck_assert_str_eq(list->items[1].kind, "sr");
  ck_assert_str_eq(list->items[2].kind, "kos");
  ck_assert_int_eq(list->items[3].version, 2);
  ck_assert_str_eq(list->items[0].state, "queued");
  ck_assert_int_eq(list->items[0].attempts, 0);
  ck_assert_int_eq(list->items[0].created_at, T0);
  ck_assert_int_eq(list->items[0].done_at, 0);
  rr_report_output_list_free(list);
  ck_assert_int_eq(rr_store_report_output_list(fx.store, &list, 99, fx.err, sizeof(fx.err)), 0);
  ck_assert_uint_eq(list->count, 0);
  rr_report_output_list_free(list);
}
END_TEST

START_TEST(claim_in_order_one_per_claimer_then_done)
{
  rr_report_output o;
  rr_report_output_counts c;
  rr_report_output_list *list = NULL;

  ck_assert_int_eq(rr_store_report_output_claim(fx.store, &o, "node-a", T0, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  enqueue(7, 1, "sr", T0, true);
  enqueue(7, 1, "pdf", T0, true);
  enqueue(3, 1, "pdf", T0 + 1, true);
  o = claim("node-a", T0 + 2);
  ck_assert_int_eq(o.report_id, 7);
  ck_assert_str_eq(o.kind, "pdf"); /* same time: pdf before sr */
  ck_assert_str_eq(o.state, "running");
  ck_assert_int_eq(o.attempts, 1);
  ck_assert_str_eq(o.claimed_by, "node-a");
  /* node-a holds one job at a time */
  ck_assert_int_eq(rr_store_report_output_claim(fx.store, &o, "node-a", T0 + 3, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  o = claim("node-b", T0 + 3);
  ck_assert_str_eq(o.kind, "sr");
  ck_assert_int_eq(rr_store_report_output_done(fx.store, 7, 1, "pdf", "aaaa-bbbb", "2.25.1", T0 + 4, fx.err,
                                               sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_report_output_done(fx.store, 7, 1, "pdf", "x", "y", T0 + 4, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  ck_assert_int_eq(rr_store_report_output_done(fx.store, 8, 1, "pdf", "x", "y", T0 + 4, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  o = claim("node-a", T0 + 5);
  ck_assert_int_eq(o.report_id, 3);
  ck_assert_int_eq(rr_store_report_output_counts(fx.store, &c, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.done, 1);
  ck_assert_int_eq(c.running, 2);
  ck_assert_int_eq(c.queued, 0);
  ck_assert_int_eq(c.oldest_waiting_at, T0);
  ck_assert_int_eq(rr_store_report_output_list(fx.store, &list, 7, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(list->items[0].state, "done");
  ck_assert_str_eq(list->items[0].orthanc_id, "aaaa-bbbb");
  ck_assert_str_eq(list->items[0].sop_instance_uid, "2.25.1");
  ck_assert_int_eq(list->items[0].done_at, T0 + 4);
  rr_report_output_list_free(list);
}
END_TEST

START_TEST(fail_backs_off_then_fails_after_max_and_retry)
{
  rr_report_output o, f;
  int64_t now = T0, expect[] = {2000, 4000, 8000};
  int i;

  enqueue(9, 1, "sr", now, true);
  for (i = 0; i < 3; i++) {
    o = claim("w", now);
    ck_assert_int_eq(o.attempts, i + 1);
    ck_assert_int_eq(rr_store_report_output_fail(fx.store, &f, 9, 1, "sr", "Orthanc answered 500", 4, now, fx.err,
                                                 sizeof(fx.err)), 0);
    ck_assert_str_eq(f.state, "queued");
    ck_assert_str_eq(f.last_error, "Orthanc answered 500");
    ck_assert_int_eq(f.next_attempt_at, now + expect[i]);
    /* not due before its back-off */
    ck_assert_int_eq(rr_store_report_output_claim(fx.store, &o, "w", now + expect[i] - 1, fx.err, sizeof(fx.err)),
                     RR_ENOTFOUND);
    now += expect[i];
  }
  o = claim("w", now);
  ck_assert_int_eq(o.attempts, 4);
  ck_assert_int_eq(rr_store_report_output_fail(fx.store, &f, 9, 1, "sr", "still 500", 4, now, fx.err, sizeof(fx.err)),
                   0);
  ck_assert_str_eq(f.state, "failed");
  ck_assert_int_eq(rr_store_report_output_claim(fx.store, &o, "w", now + 3600000, fx.err, sizeof(fx.err)),
                   RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_report_output_fail(fx.store, NULL, 9, 1, "sr", "x", 4, now, fx.err, sizeof(fx.err)),
                   RR_ECONFLICT);
  /* the administrator's re-drive */
  ck_assert_int_eq(rr_store_report_output_retry(fx.store, 9, 1, "pdf", now, fx.err, sizeof(fx.err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_store_report_output_retry(fx.store, 9, 1, "sr", now + 10, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(rr_store_report_output_retry(fx.store, 9, 1, "sr", now + 10, fx.err, sizeof(fx.err)), RR_ECONFLICT);
  o = claim("w", now + 10);
  ck_assert_int_eq(o.attempts, 1);
  ck_assert_str_eq(o.last_error, "still 500");
}
END_TEST

START_TEST(backoff_is_capped_at_ten_minutes)
{
  rr_report_output o, f;
  int64_t now = T0, wait = 0;
  int i;

  enqueue(10, 1, "pdf", now, true);
  for (i = 0; i < 12; i++) {
    o = claim("w", now);
    ck_assert_int_eq(rr_store_report_output_fail(fx.store, &f, 10, 1, "pdf", "down", 100, now, fx.err,
                                                 sizeof(fx.err)), 0);
    wait = f.next_attempt_at - now;
    ck_assert_int_le(wait, RR_REPORT_OUTPUT_MAX_BACKOFF_MS);
    now = f.next_attempt_at;
  }
  ck_assert_int_eq(wait, RR_REPORT_OUTPUT_MAX_BACKOFF_MS);
  ck_assert_int_eq(o.attempts, 12);
}
END_TEST

START_TEST(requeue_running_jobs_at_start)
{
  rr_report_output o;
  int64_t requeued = -1, failed = -1;
  rr_report_output_list *list = NULL;

  enqueue(11, 1, "pdf", T0, true);
  enqueue(11, 1, "sr", T0, true);
  enqueue(11, 1, "kos", T0, true);
  o = claim("node-a", T0);
  o = claim("node-b", T0);
  /* node-a restarts: only its own job goes back */
  ck_assert_int_eq(rr_store_report_output_requeue(fx.store, &requeued, &failed, "node-a", 0, 3, T0 + 1, fx.err,
                                                  sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued, 1);
  ck_assert_int_eq(failed, 0);
  o = claim("node-a", T0 + 2); /* the same job again (pdf, enqueued first) */
  ck_assert_str_eq(o.kind, "pdf");
  ck_assert_int_eq(o.attempts, 2);
  /* a killed process (any claimer), the store reopened */
  rr_fx_reopen();
  /* nothing named, nothing stale: nothing moves */
  ck_assert_int_eq(rr_store_report_output_requeue(fx.store, &requeued, &failed, NULL, T0 - 1, 2, T0 + 3, fx.err,
                                                  sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued + failed, 0);
  /* node-b's try started at T0: stale before T0 + 1 (node-b died or was renamed); node-a's
   * second try (T0 + 2) too with every running job (INT64_MAX) */
  ck_assert_int_eq(rr_store_report_output_requeue(fx.store, &requeued, &failed, NULL, T0 + 1, 2, T0 + 3, fx.err,
                                                  sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued, 1); /* sr: 1 attempt of 2 */
  ck_assert_int_eq(failed, 0);
  ck_assert_int_eq(rr_store_report_output_requeue(fx.store, &requeued, &failed, NULL, INT64_MAX, 2, T0 + 3, fx.err,
                                                  sizeof(fx.err)), 0);
  ck_assert_int_eq(requeued, 0);
  ck_assert_int_eq(failed, 1); /* pdf: its 2 attempts used */
  ck_assert_int_eq(rr_store_report_output_list(fx.store, &list, 11, fx.err, sizeof(fx.err)), 0);
  ck_assert_str_eq(list->items[0].state, "failed");
  ck_assert_ptr_nonnull(strstr(list->items[0].last_error, "interrupted"));
  ck_assert_str_eq(list->items[1].state, "queued");
  ck_assert_str_eq(list->items[2].state, "queued");
  rr_report_output_list_free(list);
}
END_TEST

/* ---- concurrent claimers: every job is taken exactly once ---- */

#define JOBS 120
#define CLAIMERS 4

static int taken[JOBS + 1];
static pthread_mutex_t taken_lock = PTHREAD_MUTEX_INITIALIZER;

static void *claimer_thread(void *arg)
{
  char name[16], err[256];
  rr_report_output o;
  int rc, misses = 0;

  snprintf(name, sizeof(name), "claimer-%d", (int)(intptr_t)arg);
  while (misses < 3) {
    rc = rr_store_report_output_claim(fx.store, &o, name, T0, err, sizeof(err));
    if (rc == RR_ENOTFOUND) {
      misses++;
      continue;
    }
    if (rc < 0)
      return (void *)1;
    pthread_mutex_lock(&taken_lock);
    taken[o.report_id]++;
    pthread_mutex_unlock(&taken_lock);
    if (rr_store_report_output_done(fx.store, o.report_id, o.version, o.kind, "id", "2.25.9", T0, err, sizeof(err)) <
        0)
      return (void *)1;
  }
  return NULL;
}

START_TEST(concurrent_claimers_take_each_job_once)
{
  pthread_t th[CLAIMERS];
  rr_report_output_counts c;
  void *res;
  int i;

  memset(taken, 0, sizeof(taken));
  for (i = 1; i <= JOBS; i++)
    enqueue(i, 1, "sr", T0 - 1000 + i, true);
  for (i = 0; i < CLAIMERS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, claimer_thread, (void *)(intptr_t)i), 0);
  for (i = 0; i < CLAIMERS; i++) {
    ck_assert_int_eq(pthread_join(th[i], &res), 0);
    ck_assert_ptr_null(res);
  }
  for (i = 1; i <= JOBS; i++)
    ck_assert_msg(taken[i] == 1, "job %d taken %d times", i, taken[i]);
  ck_assert_int_eq(rr_store_report_output_counts(fx.store, &c, fx.err, sizeof(fx.err)), 0);
  ck_assert_int_eq(c.done, JOBS);
  ck_assert_int_eq(c.queued + c.running + c.failed, 0);
}
END_TEST

START_TEST(report_outputs_missing)
{
  rr_store *stub = rr_fx_stub();
  rr_report_output_list *list = NULL;
  rr_report_output o;

  ck_assert_int_eq(rr_store_report_output_enqueue(stub, NULL, 1, 1, "sr", 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_str_eq(fx.err, "the stub store does not implement the report outputs queue");
  ck_assert_int_eq(rr_store_report_output_claim(stub, &o, "w", 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_int_eq(rr_store_report_output_list(stub, &list, 1, fx.err, sizeof(fx.err)), RR_ESTORE);
  ck_assert_ptr_null(list);
  rr_store_free(stub);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {enqueue_is_idempotent_and_listed_in_order,
                                claim_in_order_one_per_claimer_then_done,
                                fail_backs_off_then_fails_after_max_and_retry,
                                backoff_is_capped_at_ten_minutes,
                                requeue_running_jobs_at_start,
                                concurrent_claimers_take_each_job_once,
                                report_outputs_missing};

  return rr_fx_run("report_outputs", tests, sizeof(tests) / sizeof(tests[0]));
}
