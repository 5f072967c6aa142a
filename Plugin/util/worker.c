/*
 * worker.c - start, stop and join a module's worker threads. See worker.h.
 */
#include "util/worker.h"

#include <string.h>

#include "util/errors.h"

void rr_workers_init(rr_workers *w, pthread_mutex_t *lock, pthread_cond_t *wake)
{
  memset(w, 0, sizeof(*w));
  w->lock = lock;
  w->wake = wake;
}

static void *trampoline(void *p)
{
  rr_worker_start *s = p;

  s->w->fn(s->w->arg, s->index);
  return NULL;
}

int rr_workers_start(rr_workers *w, unsigned n, rr_worker_fn fn, void *arg)
{
  unsigned i;

  if (w->count > 0)
    return 0;
  if (n == 0 || n > RR_WORKERS_MAX || fn == NULL)
    return RR_EINVAL;
  pthread_mutex_lock(w->lock);
  w->stop = false;
  pthread_mutex_unlock(w->lock);
  w->fn = fn;
  w->arg = arg;
  for (i = 0; i < n; i++) {
    w->starts[i].w = w;
    w->starts[i].index = i;
    if (pthread_create(&w->threads[w->count], NULL, trampoline, &w->starts[i]) != 0)
      break;
    w->count++;
  }
  return w->count > 0 ? 0 : RR_ERROR;
}

void rr_workers_stop(rr_workers *w, void (*on_stop)(void *arg), void *arg)
{
  unsigned i;

  if (w == NULL || w->count == 0)
    return;
  pthread_mutex_lock(w->lock);
  w->stop = true;
  if (on_stop != NULL)
    on_stop(arg);
  pthread_cond_broadcast(w->wake);
  pthread_mutex_unlock(w->lock);
  for (i = 0; i < w->count; i++)
    pthread_join(w->threads[i], NULL);
  w->count = 0;
}

bool rr_workers_stopping(const rr_workers *w) { return w->stop; }

bool rr_workers_running(const rr_workers *w) { return w->count > 0; }
