#include "ai/provider.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/http_client.h"
#include "util/str.h"

#define URL_SIZE 1024
#define PROBE_TIMEOUT_MS 5000

struct rr_ai_provider {
  bool gemini;
  char kind[16];
  char model[128];
  char url[URL_SIZE];       /* generate / chat completions */
  char probe_url[URL_SIZE]; /* model metadata / model list */
  char key_header[600];     /* "" when no key */
  char ca_file[4096];
  long connect_timeout_ms, timeout_ms;
  size_t max_response;
  unsigned max_attempts;
  int64_t max_retry_wait_ms;
  double temperature;
  int max_output_tokens;
};

static bool header_safe(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return false;
  return true;
}

int rr_ai_provider_new(rr_ai_provider **out, const rr_ai_provider_config *cfg, char *err, size_t errsize)
{
  rr_ai_provider *p;
  const char *key = cfg->api_key != NULL ? cfg->api_key : "";
  int n, m;

  *out = NULL;
  if (cfg->kind == NULL || cfg->base_url == NULL || cfg->model == NULL || cfg->model[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "AI provider: kind, base URL and model are required");
  if ((p = calloc(1, sizeof(*p))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  p->gemini = strcmp(cfg->kind, "gemini") == 0;
  if (!p->gemini && strcmp(cfg->kind, "openai") != 0) {
    free(p);
    return rr_fail(err, errsize, RR_EINVAL, "AI provider: unknown kind (gemini or openai)");
  }
  if (!header_safe(key)) {
    free(p);
    return rr_fail(err, errsize, RR_EINVAL, "AI provider: the API key holds control characters");
  }
  if (p->gemini && key[0] == '\0') {
    free(p);
    return rr_fail(err, errsize, RR_EINVAL, "AI provider: Gemini needs an API key (ReadingRoom.AI.ApiKey or its "
                                             "environment variable)");
  }
  rr_str_copy(p->kind, sizeof(p->kind), cfg->kind);
  rr_str_copy(p->model, sizeof(p->model), cfg->model);
  if (p->gemini) {
    const char *ver = cfg->api_version != NULL && cfg->api_version[0] ? cfg->api_version : "v1beta";
    n = snprintf(p->url, sizeof(p->url), "%s/%s/models/%s:generateContent", cfg->base_url, ver, cfg->model);
    m = snprintf(p->probe_url, sizeof(p->probe_url), "%s/%s/models/%s", cfg->base_url, ver, cfg->model);
    snprintf(p->key_header, sizeof(p->key_header), "x-goog-api-key: %s", key);
  } else {
    n = snprintf(p->url, sizeof(p->url), "%s/v1/chat/completions", cfg->base_url);
    m = snprintf(p->probe_url, sizeof(p->probe_url), "%s/v1/models", cfg->base_url);
    if (key[0] != '\0')
      snprintf(p->key_header, sizeof(p->key_header), "Authorization: Bearer %s", key);
  }
  if (n < 0 || (size_t)n >= sizeof(p->url) || m < 0 || (size_t)m >= sizeof(p->probe_url) ||
      strlen(key) + 32 >= sizeof(p->key_header)) {
    rr_ai_provider_free(p);
    return rr_fail(err, errsize, RR_EINVAL, "AI provider: base URL, model or key too long");
  }
  if (cfg->ca_file != NULL)
    rr_str_copy(p->ca_file, sizeof(p->ca_file), cfg->ca_file);
  p->connect_timeout_ms = cfg->connect_timeout_ms;
  p->timeout_ms = cfg->timeout_ms;
  p->max_response = cfg->max_response;
  p->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 1;
  p->max_retry_wait_ms = cfg->max_retry_wait_ms;
  p->temperature = cfg->temperature;
  p->max_output_tokens = cfg->max_output_tokens > 0 ? cfg->max_output_tokens : 8192;
  *out = p;
  return 0;
}

void rr_ai_provider_free(rr_ai_provider *p)
{
  if (p == NULL)
    return;
  memset(p->key_header, 0, sizeof(p->key_header));
  free(p);
}

const char *rr_ai_provider_kind(const rr_ai_provider *p) { return p->kind; }
const char *rr_ai_provider_model(const rr_ai_provider *p) { return p->model; }
const char *rr_ai_provider_url(const rr_ai_provider *p) { return p->url; }

static void setup_request(rr_ai_http_request *req, const char **headers, const rr_ai_provider *p)
{
  memset(req, 0, sizeof(*req));
  req->url = p->url;
  req->headers = headers;
  req->header_count = 0;
  if (p->key_header[0] != '\0')
    headers[req->header_count++] = p->key_header;
  req->connect_timeout_ms = p->connect_timeout_ms;
  req->timeout_ms = p->timeout_ms;
  req->max_response = p->max_response;
  req->ca_file = p->ca_file[0] ? p->ca_file : NULL;
}

int rr_ai_provider_generate(rr_ai_result *result, unsigned *attempts, rr_ai_provider *p, const char *system_prompt,
                            const char *user_prompt, const rr_ai_image *images, size_t image_count,
                            const atomic_int *cancel, char *err, size_t errsize)
{
  rr_ai_request wreq;
  rr_ai_http_request req;
  rr_ai_http_retry retry;
  rr_ai_http_response resp;
  const char *headers[2];
  char *body = NULL;
  size_t body_len = 0;
  int rc;

  memset(result, 0, sizeof(*result));
  result->outcome = RR_AI_ERROR;
  result->prompt_tokens = result->output_tokens = result->total_tokens = -1;
  result->retry_after_ms = -1;
  memset(&resp, 0, sizeof(resp));
  if (attempts != NULL)
    *attempts = 0;

  memset(&wreq, 0, sizeof(wreq));
  wreq.model = p->model;
  wreq.system_prompt = system_prompt;
  wreq.user_prompt = user_prompt;
  wreq.images = images;
  wreq.image_count = image_count;
  wreq.temperature = p->temperature;
  wreq.max_output_tokens = p->max_output_tokens;
  rc = p->gemini ? rr_ai_gemini_request(&body, &body_len, &wreq, err, errsize)
                 : rr_ai_openai_request(&body, &body_len, &wreq, err, errsize);
  if (rc < 0)
    goto out;

  setup_request(&req, headers, p);
  req.body = body;
  req.body_len = body_len;
  req.cancel = cancel;
  memset(&retry, 0, sizeof(retry));
  retry.policy.base_ms = 1000;
  retry.policy.max_ms = 30000;
  retry.policy.max_wait_ms = p->max_retry_wait_ms;
  retry.policy.max_attempts = p->max_attempts;
  retry.max_total_wait_ms = p->max_retry_wait_ms;
  retry.parse = p->gemini ? rr_ai_gemini_parse : rr_ai_openai_parse;
  rc = rr_ai_http_post_with_retries(&resp, attempts, &req, &retry, err, errsize);
  if (rc == RR_EUPSTREAM) {
    result->http_status = 0;
    result->retryable = true;
    goto out; /* err says: timed out, could not connect, connection failed, TLS */
  }
  if (rc < 0)
    goto out;
  rc = p->gemini ? rr_ai_gemini_parse(result, resp.status, resp.body.ptr, resp.body.len, err, errsize)
                 : rr_ai_openai_parse(result, resp.status, resp.body.ptr, resp.body.len, err, errsize);
out:
  rr_ai_http_response_dispose(&resp);
  free(body);
  return rc;
}

int rr_ai_provider_probe(rr_ai_provider *p, char *err, size_t errsize)
{
  rr_ai_http_request req;
  rr_ai_http_response resp;
  const char *headers[2];
  int rc;

  setup_request(&req, headers, p);
  req.url = p->probe_url;
  req.get = true;
  req.timeout_ms = PROBE_TIMEOUT_MS;
  if (req.connect_timeout_ms <= 0 || req.connect_timeout_ms > PROBE_TIMEOUT_MS)
    req.connect_timeout_ms = PROBE_TIMEOUT_MS;
  req.max_response = 1024 * 1024;
  rc = rr_ai_http_post(&resp, &req, err, errsize);
  if (rc == 0 && (resp.status < 200 || resp.status > 299))
    rc = rr_fail(err, errsize, RR_EUPSTREAM, "the provider answered HTTP %d%s", resp.status,
                 resp.status == 401 || resp.status == 403 ? " (check the API key)"
                 : resp.status == 404                     ? " (check the model name and base URL)"
                                                          : "");
  else if (rc == RR_EFULL)
    rc = 0; /* it answered, with a big model list */
  rr_ai_http_response_dispose(&resp);
  return rc;
}
