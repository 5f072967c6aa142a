/*
 * clock.c - monotonic and wall clocks, monotonic timed waits. See clock.h.
 */
#include "util/clock.h"

#include <errno.h>

#include "util/errors.h"

static int64_t ms_of(clockid_t id)
{
  struct timespec ts;

  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rr_clock_mono_ms(void) { return ms_of(CLOCK_MONOTONIC); }
int64_t rr_clock_unix_ms(void) { return ms_of(CLOCK_REALTIME); }
int64_t rr_clock_unix_s(void) { return (int64_t)time(NULL); }

int rr_clock_cond_init(pthread_cond_t *cond)
{
  pthread_condattr_t attr;
  int rc;

  if (pthread_condattr_init(&attr) != 0)
    return RR_ERROR;
  rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(cond, &attr) == 0 ? 0 : RR_ERROR;
  pthread_condattr_destroy(&attr);
  return rc;
}

void rr_clock_deadline(struct timespec *out, int64_t ms)
{
  if (ms < 0)
    ms = 0;
  clock_gettime(CLOCK_MONOTONIC, out);
  out->tv_sec += (time_t)(ms / 1000);
  out->tv_nsec += (long)(ms % 1000) * 1000000L;
  if (out->tv_nsec >= 1000000000L) {
    out->tv_sec++;
    out->tv_nsec -= 1000000000L;
  }
}

bool rr_clock_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, const struct timespec *deadline)
{
  return pthread_cond_timedwait(cond, lock, deadline) == ETIMEDOUT;
}
