/*
 * util/clock: the monotonic and wall clocks, and timed waits on a
 * condition variable measured on the monotonic clock.
 */
#include <pthread.h>
#include <time.h>

#include "common.h"
#include "util/clock.h"

START_TEST(clocks_read_what_they_say)
{
  int64_t m1 = rr_clock_mono_ms(), m2, wall_s = (int64_t)time(NULL);
  struct timespec nap = {0, 20 * 1000000L};

  nanosleep(&nap, NULL);
  m2 = rr_clock_mono_ms();
  ck_assert_int_ge(m2 - m1, 20);
  ck_assert_int_lt(m2 - m1, 5000);
  ck_assert_int_le(rr_clock_unix_s() - wall_s, 2);
  ck_assert_int_ge(rr_clock_unix_s(), wall_s);
  /* the wall clock in milliseconds is unix time, not time since boot */
  ck_assert_int_le(rr_clock_unix_ms() / 1000 - rr_clock_unix_s(), 1);
  ck_assert_int_ge(rr_clock_unix_ms() / 1000, wall_s);
}
END_TEST

START_TEST(timed_wait_ends_at_its_deadline)
{
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond;
  struct timespec deadline;
  int64_t t0;
  bool timed_out;

  ck_assert_int_eq(rr_clock_cond_init(&cond), 0);
  pthread_mutex_lock(&lock);
  t0 = rr_clock_mono_ms();
  rr_clock_deadline(&deadline, 60);
  do
    timed_out = rr_clock_cond_wait_until(&cond, &lock, &deadline);
  while (!timed_out);
  ck_assert_int_ge(rr_clock_mono_ms() - t0, 59);
  ck_assert_int_lt(rr_clock_mono_ms() - t0, 5000);
  /* a deadline in the past (or a negative delay) times out at once */
  rr_clock_deadline(&deadline, -10);
  ck_assert(rr_clock_cond_wait_until(&cond, &lock, &deadline));
  pthread_mutex_unlock(&lock);
  pthread_cond_destroy(&cond);
}
END_TEST

typedef struct waker {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int flag;
} waker;

static void *wake_soon(void *arg)
{
  waker *w = arg;
  struct timespec nap = {0, 20 * 1000000L};

  nanosleep(&nap, NULL);
  pthread_mutex_lock(&w->lock);
  w->flag = 1;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

START_TEST(timed_wait_wakes_on_a_signal)
{
  waker w;
  pthread_t t;
  struct timespec deadline;
  bool timed_out = false;
  int64_t t0;

  pthread_mutex_init(&w.lock, NULL);
  ck_assert_int_eq(rr_clock_cond_init(&w.cond), 0);
  w.flag = 0;
  t0 = rr_clock_mono_ms();
  rr_clock_deadline(&deadline, 10000);
  pthread_mutex_lock(&w.lock);
  ck_assert_int_eq(pthread_create(&t, NULL, wake_soon, &w), 0);
  while (!w.flag && !timed_out)
    timed_out = rr_clock_cond_wait_until(&w.cond, &w.lock, &deadline);
  pthread_mutex_unlock(&w.lock);
  pthread_join(t, NULL);
  ck_assert(!timed_out);
  ck_assert_int_lt(rr_clock_mono_ms() - t0, 5000);
  pthread_cond_destroy(&w.cond);
  pthread_mutex_destroy(&w.lock);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("clock");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, clocks_read_what_they_say);
  tcase_add_test(tc, timed_wait_ends_at_its_deadline);
  tcase_add_test(tc, timed_wait_wakes_on_a_signal);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
