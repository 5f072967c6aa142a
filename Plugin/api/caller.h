/*
 * api/caller.h - who is calling a route, for ownership and the audit trail:
 * the identity the HTTP filter decided for this request
 * (rr_filter_current_identity, auth/filter.h). Routes never authenticate a
 * request again and never check roles: the role matrix (auth/matrix.c),
 * applied by the filter before the route runs, is the only policy.
 *
 * Call from the request's thread (Orthanc runs the filter, then the route,
 * in the same HTTP thread). Allocates nothing; thread-safe.
 */
#ifndef RR_API_CALLER_H
#define RR_API_CALLER_H

#include <stdbool.h>

#include "auth/auth.h"

/* With access control off (access_control false) everyone is the open
 * identity: user name "anonymous", role 0, as before logins existed.
 * Otherwise the signed-in user the filter allowed; RR_ENOTFOUND (and *out
 * zeroed) when there is none: an anonymous caller, or a call that did not
 * come through the filter on this thread. */
int rr_api_caller(rr_identity *out, bool access_control);

#endif
