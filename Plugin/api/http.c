#include "http.h"

#include <string.h>

#include "util/str.h"

void rr_http_send_json(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, json_object *obj)
{
  size_t len = 0;
  const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

  OrthancPluginSetHttpHeader(ctx, out, "Cache-Control", "no-store");
  OrthancPluginSetHttpHeader(ctx, out, "X-Content-Type-Options", "nosniff");
  if (status == 200) {
    OrthancPluginAnswerBuffer(ctx, out, text, (uint32_t)len, "application/json");
  } else {
    OrthancPluginSetHttpHeader(ctx, out, "Content-Type", "application/json");
    OrthancPluginSendHttpStatus(ctx, out, (uint16_t)status, text, (uint32_t)len);
  }
}

void rr_http_send_error(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, int status, const char *code,
                        const char *message)
{
  json_object *root, *e;

  if (status == 405) {
    rr_http_method_not_allowed(ctx, out, "GET");
    return;
  }
  root = json_object_new_object();
  e = json_object_new_object();
  json_object_object_add(e, "code", json_object_new_string(code));
  json_object_object_add(e, "message", rr_json_string(message));
  json_object_object_add(root, "error", e);
  rr_http_send_json(ctx, out, status, root);
  json_object_put(root);
}

void rr_http_method_not_allowed(OrthancPluginContext *ctx, OrthancPluginRestOutput *out, const char *allowed)
{
  OrthancPluginSendMethodNotAllowed(ctx, out, allowed);
}

const char *rr_http_header(const OrthancPluginHttpRequest *req, const char *name)
{
  uint32_t i;

  for (i = 0; i < req->headersCount; i++)
    if (rr_str_ieq(req->headersKeys[i], name))
      return req->headersValues[i];
  return NULL;
}

json_object *rr_json_string(const char *s)
{
  size_t len;

  if (s == NULL)
    s = "";
  len = strlen(s);
  return json_object_new_string_len(s, (int)rr_utf8_valid_prefix(s, len));
}
