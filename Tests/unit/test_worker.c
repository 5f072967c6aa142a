/*
 * util/worker: N threads started with their index, the stop flag seen
 * under the owner's lock, the on_stop hook called under that lock, every
 * thread joined, start and stop idempotent.
 */
#include <errno.h>
#include <pthread.h>

#include "common.h"
#include "util/errors.h"
#include "util/worker.h"

typedef struct owner {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  rr_workers workers;
  unsigned started[RR_WORKERS_MAX]; /* runs per index */
  unsigned running, finished;
  int hook_calls, hook_saw_lock_held, hook_saw_stop;
} owner;

static void run(void *arg, unsigned index)
{
  owner *o = arg;

  pthread_mutex_lock(&o->lock);
  o->started[index]++;
  o->running++;
  pthread_cond_broadcast(&o->wake);
  while (!rr_workers_stopping(&o->workers))
    pthread_cond_wait(&o->wake, &o->lock);
  o->running--;
  o->finished++;
  pthread_mutex_unlock(&o->lock);
}

static void on_stop(void *arg)
{
  owner *o = arg;

  o->hook_calls++;
  o->hook_saw_lock_held = pthread_mutex_trylock(&o->lock) == EBUSY;
  o->hook_saw_stop = rr_workers_stopping(&o->workers);
}

static void owner_init(owner *o)
{
  memset(o, 0, sizeof(*o));
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->wake, NULL);
  rr_workers_init(&o->workers, &o->lock, &o->wake);
}

static void wait_running(owner *o, unsigned n)
{
  pthread_mutex_lock(&o->lock);
  while (o->running < n)
    pthread_cond_wait(&o->wake, &o->lock);
  pthread_mutex_unlock(&o->lock);
}

START_TEST(starts_n_threads_and_joins_them_all)
{
  owner o;
  unsigned i;

  owner_init(&o);
  ck_assert(!rr_workers_running(&o.workers));
  ck_assert_int_eq(rr_workers_start(&o.workers, 3, run, &o), 0);
  ck_assert_uint_eq(o.workers.count, 3);
  ck_assert(rr_workers_running(&o.workers));
  wait_running(&o, 3);
  /* a second start while they run changes nothing */
  ck_assert_int_eq(rr_workers_start(&o.workers, 5, run, &o), 0);
  ck_assert_uint_eq(o.workers.count, 3);

  rr_workers_stop(&o.workers, on_stop, &o);
  ck_assert(!rr_workers_running(&o.workers));
  ck_assert_uint_eq(o.finished, 3); /* joined: every thread has left run() */
  ck_assert_uint_eq(o.running, 0);
  for (i = 0; i < 3; i++)
    ck_assert_uint_eq(o.started[i], 1);
  ck_assert_uint_eq(o.started[3], 0);
  ck_assert_int_eq(o.hook_calls, 1);
  ck_assert(o.hook_saw_lock_held);
  ck_assert(o.hook_saw_stop);
  /* the flag stays set until the next start */
  ck_assert(rr_workers_stopping(&o.workers));

  /* stop again: nothing happens, the hook is not called */
  rr_workers_stop(&o.workers, on_stop, &o);
  ck_assert_int_eq(o.hook_calls, 1);

  /* a restart clears the flag before its threads run */
  ck_assert_int_eq(rr_workers_start(&o.workers, 1, run, &o), 0);
  wait_running(&o, 1);
  pthread_mutex_lock(&o.lock);
  ck_assert(!rr_workers_stopping(&o.workers));
  pthread_mutex_unlock(&o.lock);
  ck_assert_uint_eq(o.started[0], 2);
  rr_workers_stop(&o.workers, NULL, NULL);
  ck_assert_uint_eq(o.finished, 4);
  pthread_cond_destroy(&o.wake);
  pthread_mutex_destroy(&o.lock);
}
END_TEST

START_TEST(bad_counts_and_stop_without_start)
{
  owner o;

  owner_init(&o);
  ck_assert_int_eq(rr_workers_start(&o.workers, 0, run, &o), RR_EINVAL);
  ck_assert_int_eq(rr_workers_start(&o.workers, RR_WORKERS_MAX + 1, run, &o), RR_EINVAL);
  ck_assert_int_eq(rr_workers_start(&o.workers, 1, NULL, &o), RR_EINVAL);
  ck_assert(!rr_workers_running(&o.workers));
  rr_workers_stop(&o.workers, on_stop, &o);
  rr_workers_stop(NULL, on_stop, &o);
  ck_assert_int_eq(o.hook_calls, 0);
  ck_assert(!rr_workers_stopping(&o.workers));

  ck_assert_int_eq(rr_workers_start(&o.workers, RR_WORKERS_MAX, run, &o), 0);
  ck_assert_uint_eq(o.workers.count, RR_WORKERS_MAX);
  wait_running(&o, RR_WORKERS_MAX);
  rr_workers_stop(&o.workers, NULL, NULL);
  ck_assert_uint_eq(o.finished, RR_WORKERS_MAX);
  pthread_cond_destroy(&o.wake);
  pthread_mutex_destroy(&o.lock);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("worker");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, starts_n_threads_and_joins_them_all);
  tcase_add_test(tc, bad_counts_and_stop_without_start);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
