#include "challenge.h"

#include <string.h>

#include "auth/filter.h"
#include "util/errors.h"
#include "util/str.h"

/*
 * Our own declarations of the Orthanc SDK 1.12.9 service, mirroring
 * OrthancServer/Plugins/Include/orthanc/OrthancCPlugin.h of Orthanc 1.12.9
 * (_OrthancPluginService_RegisterHttpAuthentication = 1021,
 * OrthancPluginHttpAuthenticationStatus, the OrthancPluginHttpAuthentication
 * callback type and its parameter struct _OrthancPluginHttpAuthentication).
 * The 1.10.1 header we build against has none of them.
 */
#define RR_SERVICE_REGISTER_HTTP_AUTHENTICATION 1021

typedef OrthancPluginErrorCode (*rr_orthanc_http_authentication)(
    int32_t *status, /* OrthancPluginHttpAuthenticationStatus, out */
    OrthancPluginMemoryBuffer *custom_payload, OrthancPluginMemoryBuffer *redirection, const char *uri,
    const char *ip, uint32_t headers_count, const char *const *headers_keys, const char *const *headers_values,
    uint32_t get_count, const char *const *get_keys, const char *const *get_values);

typedef struct {
  rr_orthanc_http_authentication callback;
} rr_orthanc_http_authentication_params;

static rr_auth *ch_auth;
static rr_matrix *ch_matrix;
static rr_audit *ch_audit;

static const char *header(uint32_t count, const char *const *keys, const char *const *values, const char *name)
{
  uint32_t i;

  for (i = 0; i < count; i++)
    if (keys[i] != NULL && rr_str_ieq(keys[i], name))
      return values[i];
  return NULL;
}

/* Whether an anonymous caller may use the path with some method (the filter
 * decides the method afterwards). */
static bool anonymous_path(rr_matrix *matrix, const char *uri)
{
  static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
  rr_matrix_decision d;
  size_t i;

  for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
    if (rr_matrix_check(&d, matrix, methods[i], uri, RR_ROLE_ANONYMOUS) == 0 && d.allow)
      return true;
  return false;
}

rr_challenge_status rr_challenge_decide(rr_auth *auth, rr_matrix *matrix, rr_audit *audit, const char *uri,
                                        const char *ip, uint32_t headers_count, const char *const *keys,
                                        const char *const *values)
{
  rr_credentials cred;
  rr_identity id;
  char reason[160] = "";
  bool web_app, basic;
  int error;

  cred.authorization = header(headers_count, keys, values, "authorization");
  cred.cookie = header(headers_count, keys, values, "cookie");
  /* without HTTP Basic (Auth.AllowBasic false) nothing is challenged */
  basic = rr_auth_basic_allowed(auth);
  web_app = rr_filter_from_web_app(header(headers_count, keys, values, "x-requested-with"), cred.cookie,
                                   header(headers_count, keys, values, "sec-fetch-mode"));
  cred.source = ip != NULL ? ip : "";
  error = rr_auth_authenticate(auth, &id, &cred, reason, sizeof(reason));
  if (error == 0)
    return RR_CHALLENGE_GRANTED;
  if (error != RR_ENOTFOUND && cred.authorization != NULL) {
    /* credentials that do not hold: audited as the filter does */
    rr_audit_log(audit, "", "", cred.source, "auth.refused", uri, "denied",
                 reason[0] ? reason : "credentials refused");
    return web_app || !basic ? RR_CHALLENGE_FORBIDDEN : RR_CHALLENGE_UNAUTHORIZED;
  }
  /* none, or a stale session cookie: the filter treats it as anonymous (and
   * refuses with 403 where the matrix says so) */
  if (web_app || !basic || anonymous_path(matrix, uri))
    return RR_CHALLENGE_GRANTED;
  return RR_CHALLENGE_UNAUTHORIZED;
}

static OrthancPluginErrorCode on_authenticate(int32_t *status, OrthancPluginMemoryBuffer *custom_payload,
                                              OrthancPluginMemoryBuffer *redirection, const char *uri, const char *ip,
                                              uint32_t headers_count, const char *const *headers_keys,
                                              const char *const *headers_values, uint32_t get_count,
                                              const char *const *get_keys, const char *const *get_values)
{
  (void)custom_payload;
  (void)redirection;
  (void)get_count;
  (void)get_keys;
  (void)get_values;
  if (ch_auth == NULL || ch_matrix == NULL) {
    *status = RR_CHALLENGE_FORBIDDEN;
    return OrthancPluginErrorCode_Success;
  }
  *status = (int32_t)rr_challenge_decide(ch_auth, ch_matrix, ch_audit, uri != NULL ? uri : "", ip, headers_count,
                                         headers_keys, headers_values);
  return OrthancPluginErrorCode_Success;
}

int rr_challenge_register(bool *registered, OrthancPluginContext *ctx, rr_auth *auth, rr_matrix *matrix,
                          rr_audit *audit)
{
  rr_orthanc_http_authentication_params params;

  *registered = false;
  if (!OrthancPluginCheckVersionAdvanced(ctx, 1, 12, 9))
    return 0;
  ch_auth = auth;
  ch_matrix = matrix;
  ch_audit = audit;
  params.callback = on_authenticate;
  if (ctx->InvokeService(ctx, (_OrthancPluginService)RR_SERVICE_REGISTER_HTTP_AUTHENTICATION, &params) !=
      OrthancPluginErrorCode_Success) {
    rr_challenge_reset();
    return RR_ERROR;
  }
  *registered = true;
  return 0;
}

void rr_challenge_reset(void)
{
  ch_auth = NULL;
  ch_matrix = NULL;
  ch_audit = NULL;
}
