/*
 * worker.h - a module's worker threads: start N, signal stop, join them.
 *
 * The audit writer, the ingestion worker and the AI job pool share one
 * shape: threads loop under their owner's lock, sleep on the owner's
 * condition variable, and leave when the stop flag is set. rr_workers holds
 * the threads and that flag; the lock and the condition variable stay the
 * owner's (they guard the owner's state too) and are borrowed.
 *
 *   rr_workers_init(&w, &owner->lock, &owner->wake);
 *   rr_workers_start(&w, n, run, owner);   run(owner, 0..n-1) in n threads
 *   ... in run(), under owner->lock: while (!rr_workers_stopping(&w)) ...
 *   rr_workers_stop(&w, on_stop, owner);   flag, on_stop, broadcast, join
 *
 * Semantics (those the three owners had):
 *  - start does nothing and returns 0 while threads run; it clears the stop
 *    flag (under the lock) before the first thread starts. It returns 0 when
 *    at least one thread started (w->count says how many: a caller asking
 *    for several may log a shortfall), RR_EINVAL for n outside
 *    1..RR_WORKERS_MAX, RR_ERROR when no thread could be started.
 *  - stop does nothing when no thread runs. Otherwise, under the lock, it
 *    sets the flag, calls on_stop(arg) when given (e.g. to cancel running
 *    jobs) and broadcasts the condition variable; then, without the lock,
 *    joins every thread. The flag stays set until the next start, so work
 *    run synchronously afterwards (tests) sees "stopping".
 *
 * Threads: start and stop are called by the owner's start/stop path, never
 * concurrently with each other; rr_workers_stopping with the owner's lock
 * held, from any thread. rr_workers owns no memory: nothing to free once
 * stopped. The lock and condition variable must outlive the threads.
 */
#ifndef RR_UTIL_WORKER_H
#define RR_UTIL_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#define RR_WORKERS_MAX 16

typedef void (*rr_worker_fn)(void *arg, unsigned index);

typedef struct rr_workers rr_workers;

typedef struct rr_worker_start {
  rr_workers *w;
  unsigned index;
} rr_worker_start;

struct rr_workers {
  pthread_mutex_t *lock; /* borrowed: the owner's lock, guards `stop` */
  pthread_cond_t *wake;  /* borrowed: broadcast at stop */
  bool stop;
  unsigned count;        /* threads started and not joined yet */
  rr_worker_fn fn;
  void *arg;
  pthread_t threads[RR_WORKERS_MAX];
  rr_worker_start starts[RR_WORKERS_MAX];
};

void rr_workers_init(rr_workers *w, pthread_mutex_t *lock, pthread_cond_t *wake);
int rr_workers_start(rr_workers *w, unsigned n, rr_worker_fn fn, void *arg);
void rr_workers_stop(rr_workers *w, void (*on_stop)(void *arg), void *arg);
/* With the owner's lock held. */
bool rr_workers_stopping(const rr_workers *w);
/* Whether threads run (for the owner's start/stop path). */
bool rr_workers_running(const rr_workers *w);

#endif
