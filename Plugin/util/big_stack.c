#include "util/big_stack.h"

#include <pthread.h>

#include "util/errors.h"

typedef struct call {
  void (*fn)(void *arg);
  void *arg;
} call;

static void *trampoline(void *p)
{
  call *c = p;

  c->fn(c->arg);
  return NULL;
}

int rr_big_stack_run(void (*fn)(void *arg), void *arg, size_t stack_bytes)
{
  pthread_attr_t attr;
  pthread_t t;
  call c = {fn, arg};
  int rc;

  if (fn == NULL)
    return RR_EINVAL;
  if (pthread_attr_init(&attr) != 0)
    return RR_ENOMEM;
  rc = pthread_attr_setstacksize(&attr, stack_bytes != 0 ? stack_bytes : RR_BIG_STACK_BYTES);
  if (rc == 0)
    rc = pthread_create(&t, &attr, trampoline, &c);
  pthread_attr_destroy(&attr);
  if (rc != 0)
    return RR_ENOMEM;
  pthread_join(t, NULL);
  return 0;
}
