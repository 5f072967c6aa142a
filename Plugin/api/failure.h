/*
 * api/failure.h - the one table of the API's error answers: every
 * {"error": {"code", "message"}} the plugin sends has its wire code, HTTP
 * status and meaning here, and every RR_E* code of the domain maps to one
 * of them. README's list of error codes is printed from this table
 * (Resources/tools/error_table.c) and checked against it by a test.
 *
 * Entries marked `log` are server faults: the route writes the domain's
 * sentence to Orthanc's log and answers the entry's generic sentence
 * instead (the domain's may name paths or SQL). The others answer the
 * domain's sentence, which never holds patient data.
 *
 * Pure data: no Orthanc, thread-safe, nothing to free.
 */
#ifndef RR_API_FAILURE_H
#define RR_API_FAILURE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rr_api_error {
  RR_API_INVALID_ARGUMENT = 0,
  RR_API_INVALID_CREDENTIALS,
  RR_API_FORBIDDEN,
  RR_API_LOCKED,
  RR_API_NOT_FOUND,
  RR_API_CONFLICT,
  RR_API_ALREADY_EXISTS,
  RR_API_UNSUPPORTED,
  RR_API_TOO_LARGE,
  RR_API_INTERNAL,
  RR_API_OUT_OF_MEMORY,
  RR_API_STOPPING,
  RR_API_UPSTREAM_ERROR,
  RR_API_UNAVAILABLE,
  RR_API_NOT_CONFIGURED,
  RR_API_QUEUE_FULL,
  RR_API_NOT_AUTHOR,
  RR_API_VERSION_MISMATCH,
  RR_API_WRONG_PASSWORD,
  RR_API_INCOMPLETE,
  RR_API_PRECONDITION_REQUIRED,
  RR_API_NOT_REVIEWED,
  RR_API_ERROR_COUNT
} rr_api_error;

typedef struct rr_api_error_info {
  const char *code;    /* the wire identifier, e.g. "not_found" */
  int status;          /* HTTP status */
  bool log;            /* a server fault: log the sentence, answer `message` */
  const char *message; /* the public sentence of a logged fault; NULL otherwise */
  const char *meaning; /* for README's list */
} rr_api_error_info;

/* The entry of `e`; NULL when out of range. */
const rr_api_error_info *rr_api_error_info_of(rr_api_error e);

/* The answer to a domain failure (RR_E* from util/errors.h); unknown codes
 * and RR_ERROR are RR_API_INTERNAL. */
rr_api_error rr_api_error_of(int code);

#endif
