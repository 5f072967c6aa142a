/*
 * provider.h - one configured AI provider: Gemini generateContent or an
 * OpenAI-compatible chat completions server. Joins wire.h (bodies and
 * answers) and http_client.h (transport with retries): URL and credential
 * headers, one analysis call, a reachability probe.
 *
 * URLs: Gemini  {base}/{version}/models/{model}:generateContent, key in
 *               "x-goog-api-key";
 *       OpenAI  {base}/v1/chat/completions, key (optional) in
 *               "Authorization: Bearer".
 * The key never goes into a URL, a log line or an error sentence.
 *
 * Ownership: rr_ai_provider_new() copies everything it is given; free with
 * rr_ai_provider_free() (NULL accepted). Results: see wire.h.
 * Thread-safety: after creation, every function may be called from any
 * number of threads at once (http_client.h's global init must have run).
 */
#ifndef RR_AI_PROVIDER_H
#define RR_AI_PROVIDER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ai/wire.h"
#include "util/errors.h"

typedef struct rr_ai_provider_config {
  const char *kind;        /* "gemini" or "openai" */
  const char *base_url;    /* scheme://host[:port][/prefix], no trailing '/' */
  const char *api_version; /* Gemini: "v1beta" */
  const char *model;
  const char *api_key;     /* "" or NULL: none (Gemini requires one) */
  const char *ca_file;     /* "" or NULL: the system's trust store */
  long connect_timeout_ms;
  long timeout_ms;
  size_t max_response;     /* bytes */
  unsigned max_attempts;   /* 1..10 */
  int64_t max_retry_wait_ms;
  double temperature;
  int max_output_tokens;
} rr_ai_provider_config;

typedef struct rr_ai_provider rr_ai_provider;

int rr_ai_provider_new(rr_ai_provider **out, const rr_ai_provider_config *cfg, char *err, size_t errsize);
void rr_ai_provider_free(rr_ai_provider *p);

const char *rr_ai_provider_kind(const rr_ai_provider *p);
const char *rr_ai_provider_model(const rr_ai_provider *p);

/* The generate URL (no secret in it), for tests and the status route. */
const char *rr_ai_provider_url(const rr_ai_provider *p);

/* One analysis call, with retries on transient failures. Fills *result
 * (dispose it after any return) and *attempts (requests sent).
 * Returns 0 when the outcome is RR_AI_OK (text holds the answer);
 * RR_EUPSTREAM with a sentence in err for any other outcome or no answer
 * (result->outcome says which; RR_AI_ERROR with http_status 0 when no
 * answer came); RR_ESTOPPED when cancelled; RR_EFULL when the request or
 * the answer is too large; RR_EINVAL; RR_ENOMEM. */
int rr_ai_provider_generate(rr_ai_result *result, unsigned *attempts, rr_ai_provider *p, const char *system_prompt,
                            const char *user_prompt, const rr_ai_image *images, size_t image_count,
                            const atomic_int *cancel, char *err, size_t errsize);

/* Ask the provider whether the model is there (Gemini: GET the model;
 * OpenAI: GET /v1/models) with a short timeout. 0 when it answered 2xx,
 * RR_EUPSTREAM with the reason otherwise. */
int rr_ai_provider_probe(rr_ai_provider *p, char *err, size_t errsize);

#endif
