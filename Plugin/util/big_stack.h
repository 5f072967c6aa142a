/*
 * big_stack.h - run a function on a thread of its own with a large stack
 * and wait for it.
 *
 * Orthanc's HTTP threads (civetweb workers) have small stacks: decoders and
 * libraries that recurse or keep large frames overflow them (measured here:
 * Orthanc killed by SIGSEGV in libgdcmMSFF while transcoding JPEG-LS, JPEG
 * 2000 and 12-bit JPEG instances for the viewer after a few requests, and in
 * libfontconfig at the first PDF). A route that calls such code runs it
 * through rr_big_stack_run; the calling thread waits (the work would have
 * run on it anyway), so the route's answer is unchanged.
 *
 * Thread-safe; `fn` runs exactly once when 0 is returned, never otherwise.
 */
#ifndef RR_UTIL_BIG_STACK_H
#define RR_UTIL_BIG_STACK_H

#include <stddef.h>

#define RR_BIG_STACK_BYTES (16u * 1024u * 1024u)

/* Run fn(arg) on a new thread whose stack is `stack_bytes` (0 =
 * RR_BIG_STACK_BYTES) and join it. Returns 0 once fn has returned, or
 * RR_ENOMEM when no thread could be started (fn did not run). */
int rr_big_stack_run(void (*fn)(void *arg), void *arg, size_t stack_bytes);

#endif
