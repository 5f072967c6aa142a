/*
 * wire.h - request bodies and response parsing for the AI providers, with
 * no HTTP: Gemini generateContent and OpenAI-compatible chat completions
 * (OpenAI, vLLM, Ollama's /v1, llama.cpp server). Also the retry decision
 * and backoff for a failed call.
 *
 * Both builders put the findings schema of findings.h in the request and
 * never put credentials in the body: the API key travels in a header
 * (x-goog-api-key or Authorization: Bearer), set by the HTTP client.
 *
 * Ownership: the builders return a malloc'd body the caller frees with
 * free(). The parsers fill a caller-owned rr_ai_result whose text the caller
 * releases with rr_ai_result_dispose() (accepts a zeroed or disposed one).
 *
 * Thread-safety: every function is pure and may be called from any thread.
 */
#ifndef RR_AI_WIRE_H
#define RR_AI_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/errors.h"

/* Gemini refuses requests of 20 MB or more; base64 adds a third. */
#define RR_AI_REQUEST_MAX (20 * 1000 * 1000)
/* The largest answer text kept from a response. */
#define RR_AI_TEXT_MAX (1024 * 1024)

typedef struct rr_ai_image {
  const unsigned char *data; /* the encoded image (PNG), borrowed */
  size_t size;
  const char *mime_type; /* NULL: "image/png" */
} rr_ai_image;

typedef struct rr_ai_request {
  const char *model;         /* OpenAI-compatible only (Gemini: in the URL) */
  const char *system_prompt; /* may be NULL */
  const char *user_prompt;   /* required */
  const rr_ai_image *images; /* image_count images, sent after the prompt */
  size_t image_count;
  double temperature;     /* 0..2 */
  int max_output_tokens;  /* > 0 */
  const char *safety_threshold; /* Gemini only; NULL: "BLOCK_ONLY_HIGH" */
} rr_ai_request;

/* Body of POST {base}/v1beta/models/{model}:generateContent. Images go as
 * inline_data with raw base64 data. Returns 0 with *out (and its length in
 * *outlen), RR_EINVAL (a missing prompt, a bad value), RR_EFULL (the body
 * would reach RR_AI_REQUEST_MAX) or RR_ENOMEM. */
int rr_ai_gemini_request(char **out, size_t *outlen, const rr_ai_request *req, char *err, size_t errsize);

/* Body of POST {base}/v1/chat/completions. Images go as image_url parts
 * holding data: URLs; response_format asks for the strict findings schema. */
int rr_ai_openai_request(char **out, size_t *outlen, const rr_ai_request *req, char *err, size_t errsize);

typedef enum rr_ai_outcome {
  RR_AI_OK = 0,    /* text holds the answer */
  RR_AI_BLOCKED,   /* the prompt was blocked (Gemini promptFeedback.blockReason) */
  RR_AI_SAFETY,    /* the answer was stopped by a safety or content filter */
  RR_AI_TRUNCATED, /* the token limit was reached; text holds the partial answer */
  RR_AI_REFUSED,   /* the model refused (OpenAI message.refusal); text holds why */
  RR_AI_ERROR      /* an error answer or an unreadable body */
} rr_ai_outcome;

typedef struct rr_ai_result {
  rr_ai_outcome outcome;
  int http_status;
  char *text;               /* owned, NULL when there is none */
  char model_version[128];  /* modelVersion / model, "" when absent */
  char finish_reason[64];   /* the provider's word (STOP, length, ...) or the block reason */
  char error_status[64];    /* Gemini status / OpenAI type, "" when none */
  char message[512];        /* the provider's error message, "" when none */
  int64_t prompt_tokens;    /* -1 when not reported */
  int64_t output_tokens;
  int64_t total_tokens;
  int64_t retry_after_ms;   /* delay asked for in the body (RetryInfo), -1 when none */
  bool quota_per_day;       /* a daily quota is exhausted: no retry before tomorrow */
  bool retryable;           /* from the HTTP status and body; see rr_ai_retry_decide() */
} rr_ai_result;

/* Interpret a provider's answer to one call. http_status is the HTTP status
 * (0 when no answer came, e.g. a connection failure); body may be NULL.
 * Returns 0 when outcome is RR_AI_OK; RR_EUPSTREAM for every other outcome,
 * with a sentence in err (result filled, text kept where useful); RR_ENOMEM.
 * The result is always safe to dispose afterwards. */
int rr_ai_gemini_parse(rr_ai_result *result, int http_status, const char *body, size_t len, char *err,
                       size_t errsize);
int rr_ai_openai_parse(rr_ai_result *result, int http_status, const char *body, size_t len, char *err,
                       size_t errsize);

void rr_ai_result_dispose(rr_ai_result *result);

const char *rr_ai_outcome_name(rr_ai_outcome outcome);

/* Whether an HTTP status is worth retrying: 0 (no answer), 408, 429, 500,
 * 502, 503, 504. 400, 401, 403, 404 and the rest are not. */
bool rr_ai_status_retryable(int http_status);

/* Parse a Retry-After header value given in seconds ("30"); an HTTP date
 * or anything else gives -1. Returns milliseconds or -1. */
int64_t rr_ai_retry_after_ms(const char *header);

typedef struct rr_ai_backoff {
  int64_t base_ms;      /* first delay, e.g. 1000 */
  int64_t max_ms;       /* cap of the exponential delay, e.g. 60000 */
  int64_t max_wait_ms;  /* a server asking for longer than this: give up */
  unsigned max_attempts; /* attempts in all, including the first */
} rr_ai_backoff;

/* Exponential backoff with jitter for attempt n (1 after the first failure):
 * d = min(max_ms, base_ms * 2^(n-1)), result in [d/2, d) for random01 in
 * [0, 1) (values outside are clamped). */
int64_t rr_ai_backoff_ms(const rr_ai_backoff *policy, unsigned attempt, double random01);

/* Decide whether to try again after attempt `attempt` (1-based) failed with
 * `result` (parsed by one of the parsers; its http_status is used) and the
 * Retry-After header value (may be NULL). Returns true with *delay_ms set
 * when a retry is due: the delay is Retry-After, else the body's
 * retryDelay, else rr_ai_backoff_ms(). False when the status or body says
 * not to (quota_per_day included), attempts are used up, or the server asks
 * to wait longer than max_wait_ms. */
bool rr_ai_retry_decide(int64_t *delay_ms, const rr_ai_backoff *policy, const rr_ai_result *result,
                        const char *retry_after, unsigned attempt, double random01);

#endif
