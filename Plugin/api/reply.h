/*
 * api/reply.h - answering plugin REST requests: JSON bodies, JSON errors
 * ({"error":{"code","message"}}, from the table of api/failure.h), and
 * reading the request's headers and JSON body. (Not to be confused with
 * ai/http_client.h, the libcurl client of the AI providers.)
 *
 * All functions take the Orthanc context and output of the current request
 * and must be called once per request, from the request's thread. Messages
 * placed in errors must not contain patient data.
 */
#ifndef RR_API_REPLY_H
#define RR_API_REPLY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <orthanc/OrthancCPlugin.h>

#include "api/failure.h"
#include "util/json.h"

/* Send `obj` as application/json with the given status (the object is not
 * released). A NULL obj (a builder that failed, util/json.h) answers
 * 500 out_of_memory instead. */
void rr_reply_json(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, json_object *obj);

/* HTTP Strict Transport Security on every answer of the API (Orthanc serves
 * HTTPS: "SslEnabled"): set once from OrthancPluginInitialize, before any
 * route runs. rr_reply_security_headers adds it (when on) to an answer that
 * does not go through rr_reply_json. */
#define RR_HSTS_VALUE "max-age=31536000"
void rr_reply_set_hsts(bool on);
void rr_reply_security_headers(OrthancPluginContext *ctx, OrthancPluginRestOutput *out);
/* The same for an answer built with the checked builder: `built` is its
 * status (0, or the first failure, answered as rr_reply_failure does). */
void rr_reply_built(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, json_object *obj, int built);
/* Send {"error":{"code","message"}} with the status and code of `e` (the
 * table in api/failure.h). A logged fault writes `message` to Orthanc's log
 * and answers the table's sentence instead. */
void rr_reply_error(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, rr_api_error e, const char *message);
/* The answer to a failed domain call: `code` (RR_E*) picks the error
 * (rr_api_error_of); `where` prefixes the log line of a logged fault. */
void rr_reply_failure(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int code, const char *where,
                      const char *message);
/* 405 with an Allow header and no body (the SDK allows nothing else). */
void rr_reply_method_not_allowed(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, const char *allowed);
/* true when the request uses `method`; otherwise answers 405 with the Allow
 * header `allowed` (e.g. "GET,POST" for a route that takes both) and
 * returns false. */
bool rr_reply_require_method(OrthancPluginContext *ctx, OrthancPluginRestOutput *out,
                             const OrthancPluginHttpRequest *req, OrthancPluginHttpMethod method, const char *allowed);
/* In a route handler: answer 405 and return from it unless the request
 * uses `method`. */
#define RR_REPLY_REQUIRE_METHOD(ctx, out, req, method, allowed)              \
  do {                                                                      \
    if (!rr_reply_require_method((ctx), (out), (req), (method), (allowed))) \
      return OrthancPluginErrorCode_Success;                                \
  } while (0)

/* Value of a request header (names are compared case-insensitively); NULL. */
const char *rr_reply_request_header(const OrthancPluginHttpRequest *req, const char *name);


/* The request body as a JSON object of at most max_body bytes (the body is
 * not NUL-terminated). An empty body gives an empty object when allow_empty.
 * On failure, answers 400 itself and returns NULL. Release with
 * json_object_put(). */
json_object *rr_reply_parse_body(OrthancPluginContext *ctx, OrthancPluginRestOutput *out,
                                  const OrthancPluginHttpRequest *req, size_t max_body, int allow_empty);



#endif
