/*
 * api/auth_api.h - the API's routes for sessions, users and the audit trail:
 *   POST {api}auth/login, auth/logout, auth/refresh; GET auth/me;
 *   PUT auth/password; GET/POST users; PUT users/{name};
 *   POST users/{name}/password; GET audit; GET audit/verify.
 * Registered by api.c before its catch-all route, only when access control
 * is on. Role checks are the HTTP filter's (auth/matrix.c): the handlers
 * only take the identity the filter decided (api/caller.h), since they act
 * in that user's name, and never authenticate the request again.
 */
#ifndef RR_API_AUTH_API_H
#define RR_API_AUTH_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

/* Register the routes under root_regex (the API root as a regex, without
 * its trailing '/'). */
void rr_auth_api_register(OrthancPluginContext *ctx, const rr_api_deps *deps, const char *root_regex);

#endif
