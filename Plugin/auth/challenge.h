/*
 * auth/challenge.h - HTTP authentication with a challenge on every route,
 * where Orthanc offers it: Orthanc 1.12.9 added an authentication callback
 * (OrthancPluginRegisterHttpAuthentication) that runs before its routes and
 * filters and may answer 401, which Orthanc sends with a
 * `WWW-Authenticate: Basic` challenge. This plugin is built against the
 * 1.10.1 SDK, so the service is invoked with our own copy of the newer
 * header's declarations (challenge.c), only after checking the running
 * Orthanc's version (OrthancPluginCheckVersionAdvanced(ctx, 1, 12, 9)).
 *
 * The callback authenticates only (the SDK gives it no HTTP method, so it
 * cannot apply the role matrix); the HTTP filter (auth/filter.h) still makes
 * the one access decision afterwards:
 * - valid credentials (Basic, Bearer, session cookie): granted;
 * - Authorization header that does not hold: audited "auth.refused" as the
 *   filter does, then 401 (challenge), or 403 for the web app
 *   (rr_filter_from_web_app: a challenge pops the browser's own dialog);
 * - no credentials (or only a stale session cookie): granted for the web
 *   app and for paths anonymous callers may use (login, the web app's
 *   shell: the filter then decides), otherwise 401 (challenge).
 * With Auth.AllowBasic false nothing is challenged (bad credentials 403,
 * none granted for the filter to refuse). On Orthanc 1.10.1 nothing is
 * registered: the filter and the route
 * dispatch (api/route.h) challenge on the plugin's own routes only.
 *
 * Verified only with a fake OrthancPluginContext (Tests/unit/test_challenge.c):
 * no Orthanc 1.12.9 runs on the development machines.
 *
 * One registration per process (the SDK callback carries no user data):
 * rr_challenge_register keeps the borrowed auth, matrix and audit objects,
 * which must outlive the plugin; rr_challenge_reset forgets them (tests,
 * finalisation). The callback is thread-safe.
 */
#ifndef RR_AUTH_CHALLENGE_H
#define RR_AUTH_CHALLENGE_H

#include <stdbool.h>
#include <stdint.h>

#include <orthanc/OrthancCPlugin.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "auth/matrix.h"

/* What the callback answers: the values of OrthancPluginHttpAuthenticationStatus
 * (Orthanc SDK 1.12.9). */
typedef enum rr_challenge_status {
  RR_CHALLENGE_GRANTED = 0,
  RR_CHALLENGE_UNAUTHORIZED = 1, /* 401 with a challenge */
  RR_CHALLENGE_FORBIDDEN = 2     /* 403 */
} rr_challenge_status;

/* Register the authentication callback when the running Orthanc is 1.12.9
 * or newer: *registered says whether it was. RR_ERROR when Orthanc refused
 * the service (another plugin registered one first): the filter then works
 * alone, as on 1.10.1. */
int rr_challenge_register(bool *registered, OrthancPluginContext *ctx, rr_auth *auth, rr_matrix *matrix,
                          rr_audit *audit);
void rr_challenge_reset(void);

/* The decision of the callback for one request (headers' keys in lower
 * case, as Orthanc gives them), without the SDK: tested alone. */
rr_challenge_status rr_challenge_decide(rr_auth *auth, rr_matrix *matrix, rr_audit *audit, const char *uri,
                                        const char *ip, uint32_t headers_count, const char *const *keys,
                                        const char *const *values);

#endif
