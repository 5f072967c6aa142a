#include "reply.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"

static bool hsts;

void rr_reply_set_hsts(bool on)
{
  hsts = on;
}

void rr_reply_security_headers(OrthancPluginContext *ctx, OrthancPluginRestOutput *out)
{
  if (hsts)
    OrthancPluginSetHttpHeader(ctx, out, "Strict-Transport-Security", RR_HSTS_VALUE);
}

void rr_reply_json(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, json_object *obj)
{
  size_t len = 0;
  const char *text;

  if (obj == NULL) {
    rr_reply_failure(ctx, out, RR_ENOMEM, "API", "out of memory while building an answer");
    return;
  }
  if ((text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len)) == NULL) {
    rr_reply_failure(ctx, out, RR_ENOMEM, "API", "out of memory while writing an answer");
    return;
  }
  OrthancPluginSetHttpHeader(ctx, out, "Cache-Control", "no-store");
  OrthancPluginSetHttpHeader(ctx, out, "X-Content-Type-Options", "nosniff");
  rr_reply_security_headers(ctx, out);
  if (status == 200) {
    OrthancPluginAnswerBuffer(ctx, out, text, (uint32_t)len, "application/json");
  } else {
    OrthancPluginSetHttpHeader(ctx, out, "Content-Type", "application/json");
    OrthancPluginSendHttpStatus(ctx, out, (uint16_t)status, text, (uint32_t)len);
  }
}

void rr_reply_built(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, json_object *obj, int built)
{
  if (built < 0)
    rr_reply_failure(ctx, out, built, "API", "out of memory while building an answer");
  else
    rr_reply_json(ctx, out, status, obj);
}

void rr_reply_error(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, rr_api_error e, const char *message)
{
  const rr_api_error_info *info = rr_api_error_info_of(e);
  json_object *root, *err;
  int jerr = 0;

  if (info == NULL)
    info = rr_api_error_info_of(RR_API_INTERNAL);
  if (info->log) {
    rr_log_error("%s", message ? message : info->code);
    message = info->message;
  }
  root = json_object_new_object();
  err = json_object_new_object();
  rr_json_set(err, "code", json_object_new_string(info->code), &jerr);
  rr_json_set(err, "message", rr_json_string(message), &jerr);
  rr_json_set(root, "error", err, &jerr);
  if (jerr < 0) /* no memory for the body: the status alone (never back to rr_reply_failure) */
    OrthancPluginSendHttpStatusCode(ctx, out, (uint16_t)info->status);
  else
    rr_reply_json(ctx, out, info->status, root);
  json_object_put(root);
}

void rr_reply_failure(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int code, const char *where,
                      const char *message)
{
  rr_api_error e = rr_api_error_of(code);
  const rr_api_error_info *info = rr_api_error_info_of(e);
  char line[1024];

  if (info->log) {
    snprintf(line, sizeof(line), "%s: %s", where ? where : "API", message ? message : "");
    rr_reply_error(ctx, out, e, line);
    return;
  }
  rr_reply_error(ctx, out, e, message);
}

void rr_reply_method_not_allowed(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, const char *allowed)
{
  OrthancPluginSendMethodNotAllowed(ctx, out, allowed);
}

bool rr_reply_require_method(OrthancPluginContext *ctx, OrthancPluginRestOutput *out,
                             const OrthancPluginHttpRequest *req, OrthancPluginHttpMethod method, const char *allowed)
{
  if (req->method == method)
    return true;
  rr_reply_method_not_allowed(ctx, out, allowed);
  return false;
}

const char *rr_reply_request_header(const OrthancPluginHttpRequest *req, const char *name)
{
  uint32_t i;

  for (i = 0; i < req->headersCount; i++)
    if (rr_str_ieq(req->headersKeys[i], name))
      return req->headersValues[i];
  return NULL;
}

json_object *rr_reply_parse_body(OrthancPluginContext *ctx, OrthancPluginRestOutput *out,
                                  const OrthancPluginHttpRequest *req, size_t max_body, int allow_empty)
{
  json_tokener *tok;
  json_object *obj = NULL;
  char msg[128];

  if (req->bodySize == 0 && allow_empty)
    return json_object_new_object();
  if (req->bodySize == 0 || req->bodySize > max_body) {
    snprintf(msg, sizeof(msg), "the body must be a JSON object of at most %zu KiB", max_body / 1024);
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, msg);
    return NULL;
  }
  tok = json_tokener_new();
  if (tok != NULL)
    obj = json_tokener_parse_ex(tok, req->body, (int)req->bodySize);
  if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(obj, json_type_object)) {
    json_object_put(obj);
    obj = NULL;
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "the body is not a JSON object");
  }
  json_tokener_free(tok);
  return obj;
}
