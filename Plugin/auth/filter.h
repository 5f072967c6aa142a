/*
 * auth/filter.h - the decision for every HTTP request Orthanc receives (its
 * own REST API, Orthanc Explorer, other plugins, this plugin's API and web
 * app): who is asking (auth.h), whether the role matrix allows it
 * (matrix.h), CSRF protection for cookie sessions, and what goes to the
 * audit trail.
 *
 * CSRF: a state-changing request (POST, PUT, DELETE) authenticated by the
 * session cookie must carry the session's CSRF token in X-CSRF-Token, or an
 * Origin header naming this server (what browsers send for same-origin
 * requests such as Orthanc Explorer's); the cookie itself is SameSite=Strict.
 * Bearer and Basic requests need neither (a browser never adds them on its
 * own).
 *
 * The decision is the only one per request: the route handlers that run
 * after it on the same thread take the identity it allowed
 * (rr_filter_current_identity, read through api/caller.h) instead of
 * authenticating again, so the role matrix is the only policy.
 *
 * Challenges (HTTP Basic clients that send credentials only after a 401
 * with WWW-Authenticate, such as httplib2, .NET HttpClient, Java's
 * Authenticator, curl --anyauth): Orthanc 1.10.1's filter can only allow or
 * answer 403. So a request under the plugin's API root that the filter would
 * refuse for want of credentials (none, or a stale session cookie) or for
 * wrong HTTP Basic credentials is refused with `challenge` set: the caller
 * (plugin.c) lets it through to the routes,
 * when it does not come from the web app (rr_filter_from_web_app) and
 * its path cannot leave the API root (plain characters, no dot segments).
 * The API root must belong to the plugin alone: its catch-all route takes
 * every path there, so no other handler can run for a challenged request.
 * The route dispatch (api/route.h) then answers 401 with a Basic challenge
 * instead of running the route (rr_filter_take_challenge). Wrong Basic
 * credentials are audited ("auth.refused") as before; the identity stays
 * unset, so rr_filter_current_identity() is NULL for such a request.
 *
 * Independent of the Orthanc SDK: plugin.c adapts Orthanc's filter callback
 * to it, and Tests/unit/test_filter.c tests it alone. Thread-safe: called
 * concurrently by Orthanc's HTTP threads. The auth, matrix and audit objects
 * are borrowed.
 */
#ifndef RR_AUTH_FILTER_H
#define RR_AUTH_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/matrix.h"

typedef struct rr_filter rr_filter;

typedef struct rr_filter_request {
  const char *method;  /* "GET", "POST", ... */
  const char *uri;     /* path, without the query string */
  const char *source;  /* client address */
  const char *authorization, *cookie, *csrf, *origin, *host; /* headers, NULL when absent */
  const char *requested_with; /* X-Requested-With (the web app sends it): never challenged */
  const char *sec_fetch_mode; /* Sec-Fetch-Mode (browsers send it) */
  const char *wado_study;     /* the studyUID query argument (WADO-URI, "/wado"), NULL when absent */
} rr_filter_request;

typedef struct rr_filter_result {
  bool allow;            /* access granted */
  bool challenge;        /* refused (allow false), but Orthanc must let it through to the
                          * route dispatch, which answers 401 + challenge */
  rr_identity identity;   /* role RR_ROLE_ANONYMOUS when no credentials */
  char reason[160];       /* why a request is refused */
} rr_filter_result;

/* api_root: the plugin's API root (its routes audit themselves). */
int rr_filter_new(rr_filter **out, rr_auth *auth, rr_matrix *matrix, rr_audit *audit, const char *api_root);
void rr_filter_free(rr_filter *filter);

/* The client address of the request being handled by the calling thread:
 * Orthanc runs its filter and then the route in the same HTTP thread, and
 * the SDK 1.10.1 gives the address to the filter only. "" outside a
 * request. */
const char *rr_filter_current_source(void);

/* The identity of the request being handled by the calling thread, as the
 * last rr_filter_decide on this thread allowed it (role RR_ROLE_ANONYMOUS
 * for a public route called without credentials), so that route handlers
 * never authenticate a request a second time. NULL when the thread has not
 * decided a request, or refused the last one: every decision first forgets
 * the previous request's identity. A REST call that does not come through
 * Orthanc's HTTP server (another plugin calling Orthanc's API internally)
 * sees whatever the filter decided for the HTTP request its thread serves,
 * or NULL. The pointer is valid on the calling thread until its next
 * decision. */
const rr_identity *rr_filter_current_identity(void);

/* Whether a request comes from a browser's script or page resources (the
 * web app and any other page): it carries X-Requested-With (the web app's
 * fetches send it), a Sec-Fetch-Mode other than "navigate" (what browsers
 * send with every fetch, XHR, image or script request), or one of the web
 * app's cookies (rr_session, rr_csrf; still there when the session has
 * ended). Such requests are never challenged: a Basic challenge makes
 * browsers show their own login dialog. Any argument may be NULL. */
bool rr_filter_from_web_app(const char *requested_with, const char *cookie, const char *sec_fetch_mode);

/* True when the filter let the calling thread's current request through
 * only to be challenged (see above); clears the mark, so a later call on
 * the thread that did not come through the filter is never mistaken for
 * it. */
bool rr_filter_take_challenge(void);

/* Decide; never fails (an internal error is a refusal). Remembers the
 * request's client address for rr_filter_current_source() and, when it is
 * allowed, its identity for rr_filter_current_identity(). */
void rr_filter_decide(rr_filter *filter, rr_filter_result *out, const rr_filter_request *req);

#endif
