#include "orthanc_rest.h"

#include <orthanc/OrthancCPlugin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* GET uri from Orthanc into buf (freed by the caller with the SDK on 0):
 * RR_ENOTFOUND for an unknown resource, RR_EUPSTREAM for any other error. */
static int orthanc_get(void *ctx, OrthancPluginMemoryBuffer *buf, const char *uri, char *err, size_t errsize)
{
  OrthancPluginErrorCode code = OrthancPluginRestApiGet((OrthancPluginContext *)ctx, buf, uri);

  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem)
    return RR_ENOTFOUND;
  if (code != OrthancPluginErrorCode_Success) {
    if (err && errsize)
      snprintf(err, errsize, "Orthanc answered error %d to GET %.80s", (int)code, uri);
    return RR_EUPSTREAM;
  }
  return 0;
}

static int orthanc_get_json(void *ctx, json_object **out, const char *uri, char *err, size_t errsize)
{
  OrthancPluginMemoryBuffer buf = {0};
  json_tokener *tok;
  json_object *obj;
  int error;

  *out = NULL;
  if ((error = orthanc_get(ctx, &buf, uri, err, errsize)) < 0)
    return error;
  tok = json_tokener_new();
  obj = tok ? json_tokener_parse_ex(tok, buf.data, (int)buf.size) : NULL;
  if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(obj);
    obj = NULL;
  }
  json_tokener_free(tok);
  OrthancPluginFreeMemoryBuffer((OrthancPluginContext *)ctx, &buf);
  if (obj == NULL) {
    if (err && errsize)
      snprintf(err, errsize, "Orthanc's answer to GET %.80s is not JSON", uri);
    return RR_EUPSTREAM;
  }
  *out = obj;
  return 0;
}

static int orthanc_get_raw(void *ctx, char **out, size_t *outlen, const char *uri, size_t max, char *err,
                           size_t errsize)
{
  OrthancPluginMemoryBuffer buf = {0};
  int error;

  *out = NULL;
  *outlen = 0;
  if ((error = orthanc_get(ctx, &buf, uri, err, errsize)) < 0)
    return error;
  if (buf.size > max)
    error = RR_EFULL;
  else if ((*out = malloc(buf.size + 1)) == NULL)
    error = RR_ENOMEM;
  else {
    if (buf.size > 0)
      memcpy(*out, buf.data, buf.size);
    (*out)[buf.size] = '\0';
    *outlen = buf.size;
  }
  OrthancPluginFreeMemoryBuffer((OrthancPluginContext *)ctx, &buf);
  return error;
}

rr_rest_source rr_rest_source_orthanc(struct _OrthancPluginContext_t *ctx)
{
  rr_rest_source src = {ctx, orthanc_get_json, orthanc_get_raw};
  return src;
}

static int orthanc_post_json(void *ctx, json_object **out, const char *uri, const void *body, size_t len, char *err,
                             size_t errsize)
{
  OrthancPluginMemoryBuffer buf = {0};
  OrthancPluginErrorCode code;
  json_tokener *tok;
  json_object *obj = NULL;

  *out = NULL;
  if (len > UINT32_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "the body for POST %.80s is too large", uri);
  code = OrthancPluginRestApiPost((OrthancPluginContext *)ctx, &buf, uri, body, (uint32_t)len);
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem)
    return rr_fail(err, errsize, RR_ENOTFOUND, "Orthanc has no %.80s", uri);
  if (code == OrthancPluginErrorCode_BadRequest || code == OrthancPluginErrorCode_ParameterOutOfRange ||
      code == OrthancPluginErrorCode_BadFileFormat)
    return rr_fail(err, errsize, RR_EINVAL, "Orthanc refused POST %.80s: %s", uri,
                   OrthancPluginGetErrorDescription((OrthancPluginContext *)ctx, code));
  if (code != OrthancPluginErrorCode_Success)
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc answered error %d to POST %.80s: %s", (int)code, uri,
                   OrthancPluginGetErrorDescription((OrthancPluginContext *)ctx, code));
  tok = json_tokener_new();
  if (tok != NULL && buf.size > 0 && buf.size < INT32_MAX)
    obj = json_tokener_parse_ex(tok, buf.data, (int)buf.size);
  if (obj != NULL && json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(obj);
    obj = NULL;
  }
  json_tokener_free(tok);
  OrthancPluginFreeMemoryBuffer((OrthancPluginContext *)ctx, &buf);
  if (obj == NULL)
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc's answer to POST %.80s is not JSON", uri);
  *out = obj;
  return 0;
}

rr_rest_poster rr_rest_poster_orthanc(struct _OrthancPluginContext_t *ctx)
{
  rr_rest_poster p = {ctx, orthanc_post_json};
  return p;
}
