/*
 * api/route.h - the one dispatch of the plugin's REST routes: every route
 * under the API root is registered through rr_api_route, which first
 * answers a request the HTTP filter let through only to be challenged
 * (rr_filter_take_challenge, auth/filter.h) with 401 and
 * `WWW-Authenticate: Basic realm="Orthanc Reading Room"`, and otherwise
 * runs the route.
 *
 * The SDK's REST callback carries no user data, so the dispatch uses a
 * fixed table of RR_API_ROUTE_SLOTS trampolines; rr_api_route returns
 * RR_EFULL when it is full. Call from OrthancPluginInitialize only (not
 * thread-safe; routes are registered there); the dispatch itself is
 * thread-safe (the table is read-only afterwards). Routes are registered
 * with the NoLock variant.
 */
#ifndef RR_API_ROUTE_H
#define RR_API_ROUTE_H

#include <orthanc/OrthancCPlugin.h>

#define RR_API_ROUTE_SLOTS 64
#define RR_API_REALM "Orthanc Reading Room"

int rr_api_route(OrthancPluginContext *ctx, const char *regex, OrthancPluginRestCallback cb);

#endif
