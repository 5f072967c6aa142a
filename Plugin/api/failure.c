#include "api/failure.h"

#include "util/errors.h"

static const rr_api_error_info table[RR_API_ERROR_COUNT] = {
  [RR_API_INVALID_ARGUMENT] = {"invalid_argument", 400, false, NULL,
                               "a malformed request: argument, identifier, body or filter"},
  [RR_API_INVALID_CREDENTIALS] = {"invalid_credentials", 403, false, NULL,
                                  "login: wrong user name or password (one answer for both)"},
  [RR_API_FORBIDDEN] = {"forbidden", 403, false, NULL, "a route that needs a signed-in user was called without one"},
  [RR_API_LOCKED] = {"locked", 403, false, NULL, "login: too many failures for this account or address"},
  [RR_API_NOT_FOUND] = {"not_found", 404, false, NULL, "no such study, image, analysis, user or route"},
  [RR_API_CONFLICT] = {"conflict", 409, false, NULL,
                       "the thing is not in a state that allows this (an analysis that has finished)"},
  [RR_API_ALREADY_EXISTS] = {"already_exists", 409, false, NULL, "the thing to create exists already (a user name)"},
  [RR_API_UNSUPPORTED] = {"unsupported", 415, false, NULL, "an image this build cannot decode or render"},
  [RR_API_TOO_LARGE] = {"too_large", 413, false, NULL, "a bounded list or queue is full (413: Orthanc 1.10.1 cannot answer 429)"},
  [RR_API_INTERNAL] = {"internal", 500, true, "internal error; see Orthanc's log", "a fault of the plugin"},
  [RR_API_OUT_OF_MEMORY] = {"out_of_memory", 500, true, "internal error; see Orthanc's log", "the plugin ran out of memory"},
  [RR_API_STOPPING] = {"stopping", 500, true, "internal error; see Orthanc's log", "the plugin is stopping"},
  [RR_API_UPSTREAM_ERROR] = {"upstream_error", 502, true, "Orthanc or another service failed; see Orthanc's log",
                             "Orthanc or another service answered with an error: an image could not be read"},
  [RR_API_UNAVAILABLE] = {"unavailable", 503, true, "the Reading Room store is unavailable; see Orthanc's log",
                          "the Reading Room store failed (I/O, busy too long)"},
  [RR_API_NOT_CONFIGURED] = {"not_configured", 503, false, NULL,
                             "AI: no provider is configured (the message says what to set)"},
  [RR_API_QUEUE_FULL] = {"queue_full", 503, false, NULL, "AI: too many analyses are waiting; with Retry-After"},
  [RR_API_NOT_AUTHOR] = {"not_author", 403, false, NULL, "only the author may change or delete this (a measurement)"},
  [RR_API_VERSION_MISMATCH] = {"version_mismatch", 412, false, NULL,
                               "If-Match names a version that is not the current one: reload, then change"},
  [RR_API_WRONG_PASSWORD] = {"wrong_password", 403, false, NULL,
                             "signing a report: the password given is not the signer's (audited; counts toward "
                             "the account's lock-out like a failed login)"},
  [RR_API_INCOMPLETE] = {"incomplete", 422, false, NULL,
                         "signing a report: required fields are empty (their ids in the error's `fields`), or a "
                         "critical result has no recorded communication"},
  /* 412, not 428: Orthanc 1.10.1's HTTP layer knows no 428 (the answer fails) */
  [RR_API_PRECONDITION_REQUIRED] = {"precondition_required", 412, false, NULL,
                                    "a change of a report's draft or a signature without If-Match: send the "
                                    "version you read (its ETag)"},
  [RR_API_NOT_REVIEWED] = {"not_reviewed", 409, false, NULL,
                           "a report may insert AI findings only from an analysis whose latest review is "
                           "confirmed or modified (and not a finding it rejected)"},
};

const rr_api_error_info *rr_api_error_info_of(rr_api_error e)
{
  return (unsigned)e < RR_API_ERROR_COUNT ? &table[e] : NULL;
}

rr_api_error rr_api_error_of(int code)
{
  switch (code) {
  case RR_EINVAL: return RR_API_INVALID_ARGUMENT;
  case RR_ENOTFOUND: return RR_API_NOT_FOUND;
  case RR_ECONFLICT: return RR_API_CONFLICT;
  case RR_EEXISTS: return RR_API_ALREADY_EXISTS;
  case RR_ELOCKED: return RR_API_LOCKED;
  case RR_EFULL: return RR_API_TOO_LARGE;
  case RR_EUNSUPPORTED: return RR_API_UNSUPPORTED;
  case RR_ESTORE: return RR_API_UNAVAILABLE;
  case RR_EUPSTREAM: return RR_API_UPSTREAM_ERROR;
  case RR_ENOMEM: return RR_API_OUT_OF_MEMORY;
  case RR_ESTOPPED: return RR_API_STOPPING;
  case RR_EDENIED: return RR_API_NOT_AUTHOR;
  case RR_ESTALE: return RR_API_VERSION_MISMATCH;
  default: return RR_API_INTERNAL;
  }
}
