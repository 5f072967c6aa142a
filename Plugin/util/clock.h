/*
 * clock.h - the two clocks the plugin reads, and timed waits that follow
 * the right one.
 *
 *  - Monotonic milliseconds (rr_clock_mono_ms) for intervals, deadlines,
 *    back-offs and latencies: never steps when the wall clock is set.
 *  - Wall-clock unix time (rr_clock_unix_s, rr_clock_unix_ms) for moments
 *    that are stored or shown: record timestamps, "requested at", "last
 *    error at".
 *
 * Timed waits: a condition variable initialised with rr_clock_cond_init()
 * measures pthread_cond_timedwait() deadlines on the monotonic clock, and
 * rr_clock_deadline() makes such a deadline; both go together (a deadline
 * from rr_clock_deadline() given to a condition variable initialised any
 * other way waits for the wrong time). rr_clock_cond_wait_until() returns
 * true when the deadline has passed, false when signalled (or spuriously
 * woken: callers re-check their predicate, as with any condition variable).
 *
 * Threads: every function may be called from any thread. No errors except
 * rr_clock_cond_init(): 0 or RR_ERROR (the condition variable could not be
 * created). Destroy the condition variable with pthread_cond_destroy().
 */
#ifndef RR_UTIL_CLOCK_H
#define RR_UTIL_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

int64_t rr_clock_mono_ms(void);
int64_t rr_clock_unix_s(void);
int64_t rr_clock_unix_ms(void);

int rr_clock_cond_init(pthread_cond_t *cond);
/* The monotonic moment `ms` milliseconds from now (negative: now). */
void rr_clock_deadline(struct timespec *out, int64_t ms);
/* Wait on `cond` (from rr_clock_cond_init, `lock` held) until signalled or
 * `deadline`; true when the deadline has passed. */
bool rr_clock_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *lock, const struct timespec *deadline);

#endif
