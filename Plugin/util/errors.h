/*
 * errors.h - error codes shared by every module.
 *
 * Functions return 0 on success and one of these negative values on failure.
 * RR_ENOTFOUND is a normal outcome for look-ups, not a fault. The HTTP
 * answer of each code is in api/failure.c.
 */
#ifndef RR_UTIL_ERRORS_H
#define RR_UTIL_ERRORS_H

enum {
  RR_OK = 0,
  RR_ERROR = -1,     /* unspecified failure, see the message where one is given */
  RR_ENOMEM = -2,    /* allocation failed */
  RR_EINVAL = -3,    /* invalid argument or input */
  RR_ENOTFOUND = -4, /* the requested thing does not exist */
  RR_EFULL = -5,     /* a bounded buffer or queue is full */
  RR_ESTORE = -6,    /* the store failed (I/O, corruption, busy too long) */
  RR_EUPSTREAM = -7, /* Orthanc or another service answered with an error */
  RR_ESTOPPED = -8,  /* the component is stopping */
  RR_EEXISTS = -9,   /* the thing to create exists already */
  RR_ELOCKED = -10,  /* refused for a while (too many failed attempts) */
  RR_ECONFLICT = -11, /* the thing is not in a state that allows this */
  RR_EUNSUPPORTED = -12, /* valid input this build cannot handle (an image it cannot decode) */
  RR_EDENIED = -13,  /* the thing belongs to someone else (another user's annotation) */
  RR_ESTALE = -14    /* the version named is not the current one (a change came first) */
};

#include <stddef.h>

/* Write a printf-style sentence into err (when err is not NULL and errsize
 * is not 0; truncated to fit) and return `code`: the one way modules report
 * a failure with its reason. */
int rr_fail(char *err, size_t errsize, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
