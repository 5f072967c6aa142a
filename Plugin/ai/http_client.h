/*
 * http_client.h - the HTTP client the AI providers use: one JSON POST over
 * libcurl, and the same with retries driven by wire.h's retry decision.
 *
 * Contract:
 *  - rr_ai_http_global_init() must be called once, before any other thread
 *    uses the client (the plugin's initialisation), and
 *    rr_ai_http_global_cleanup() once at the end, after the last call.
 *  - A request is sent with TLS verification on (peer and host), no
 *    redirects followed (a 3xx is returned as it is), HTTP/1.1, no signals,
 *    only http and https, "Content-Type: application/json" and "Accept:
 *    application/json" added by the client. Credentials travel in the
 *    caller's headers (e.g. "x-goog-api-key: ..." or "Authorization: Bearer
 *    ..."), never in the URL.
 *  - Error sentences never contain header values nor the URL: the keys they
 *    may hold stay out of logs.
 *  - The response body is capped: a larger answer aborts the transfer.
 *
 * Ownership: the caller owns the request and everything it points to (only
 * borrowed during the call). The call fills the caller's rr_ai_http_response
 * (its previous content is not freed); the caller releases it with
 * rr_ai_http_response_dispose() after any return (accepts NULL and a zeroed
 * or disposed response).
 *
 * Thread-safety: after rr_ai_http_global_init(), the posting functions may
 * be called from any number of threads at once (one curl handle per call).
 */
#ifndef RR_AI_HTTP_CLIENT_H
#define RR_AI_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ai/wire.h"
#include "util/buf.h"
#include "util/errors.h"

#define RR_AI_HTTP_RESPONSE_MAX (8 * 1024 * 1024) /* default body cap */
#define RR_AI_HTTP_CONNECT_TIMEOUT_MS 10000       /* default connect timeout */
#define RR_AI_HTTP_TIMEOUT_MS 180000              /* default total timeout */
#define RR_AI_HTTP_HEADERS_MAX 16                 /* caller headers per request */

/* Set up libcurl for the process (curl_global_init). Not thread-safe: call
 * once, first. Returns 0 or RR_ERROR. */
int rr_ai_http_global_init(void);
/* Release libcurl's global state. Not thread-safe: call once, last. */
void rr_ai_http_global_cleanup(void);

typedef struct rr_ai_http_request {
  const char *url;             /* http:// or https://, required, no key in it */
  const char *const *headers;  /* header_count "Name: value" lines (no CR/LF) */
  size_t header_count;         /* at most RR_AI_HTTP_HEADERS_MAX */
  const char *body;            /* the JSON body, body_len bytes (NULL: empty) */
  size_t body_len;
  long connect_timeout_ms;     /* 0: RR_AI_HTTP_CONNECT_TIMEOUT_MS */
  long timeout_ms;             /* whole transfer; 0: RR_AI_HTTP_TIMEOUT_MS */
  size_t max_response;         /* body cap in bytes; 0: RR_AI_HTTP_RESPONSE_MAX */
  const char *ca_file;         /* PEM bundle to trust; NULL: the system's */
  const atomic_int *cancel;    /* may be NULL; non-zero aborts (RR_ESTOPPED) */
  bool get;                    /* send a GET without body instead of the POST */
} rr_ai_http_request;

/* Why no answer came. */
typedef enum rr_ai_http_failure {
  RR_AI_HTTP_ANSWERED = 0, /* an HTTP answer arrived (any status) */
  RR_AI_HTTP_TIMEOUT,      /* the connect or total timeout expired */
  RR_AI_HTTP_CONNECT,      /* the host could not be resolved or reached (refused) */
  RR_AI_HTTP_CONNECTION,   /* the connection broke (reset, closed without answer) */
  RR_AI_HTTP_TLS,          /* TLS handshake or certificate verification failed */
  RR_AI_HTTP_TOO_LARGE,    /* the body passed the cap */
  RR_AI_HTTP_CANCELLED,    /* the cancel flag was raised */
  RR_AI_HTTP_OTHER         /* anything else (bad URL, out of memory, ...) */
} rr_ai_http_failure;

typedef struct rr_ai_http_response {
  int status;                   /* HTTP status of a complete answer; 0 when none */
  rr_buf body;                  /* the answer's body (empty when status is 0) */
  char retry_after[32];         /* the Retry-After header value, "" when absent */
  int64_t retry_after_ms;       /* the same in ms (seconds form only), -1 otherwise */
  rr_ai_http_failure failure;   /* RR_AI_HTTP_ANSWERED when status is not 0 */
} rr_ai_http_response;

void rr_ai_http_response_dispose(rr_ai_http_response *response);

/* A short stable name for a failure, e.g. "timeout". Never NULL. */
const char *rr_ai_http_failure_name(rr_ai_http_failure failure);

/* POST req->body to req->url once. Returns 0 when an HTTP answer arrived,
 * whatever its status (the caller parses it; a 3xx is not followed);
 * RR_EUPSTREAM when none did (status 0; err says "timed out", "could not
 * connect", "connection failed" or "TLS"); RR_EFULL when the body passed
 * the cap; RR_ESTOPPED when cancelled; RR_EINVAL for a bad request (no URL,
 * a header with CR/LF, too many headers); RR_ENOMEM. */
int rr_ai_http_post(rr_ai_http_response *out, const rr_ai_http_request *req, char *err, size_t errsize);

/* A provider's parser (rr_ai_gemini_parse, rr_ai_openai_parse): lets the
 * retry loop see the body's retryDelay and daily-quota verdict. */
typedef int (*rr_ai_http_parse_fn)(rr_ai_result *result, int http_status, const char *body, size_t len,
                                   char *err, size_t errsize);

typedef struct rr_ai_http_retry {
  rr_ai_backoff policy;       /* attempts, backoff, longest single wait */
  int64_t max_total_wait_ms;  /* sum of all waits; 0: no bound beyond policy */
  rr_ai_http_parse_fn parse;  /* NULL: decide from the status and Retry-After */
  double (*random01)(void);   /* jitter source in [0, 1); NULL: internal */
} rr_ai_http_retry;

/* rr_ai_http_post() repeated while rr_ai_retry_decide() says so (statuses
 * 0, 408, 429, 500, 502, 503, 504), waiting Retry-After, else the body's
 * retryDelay (when retry->parse is given), else the backoff. Stops when the
 * attempts are used up, a wait would pass policy.max_wait_ms or the total
 * max_total_wait_ms, or the answer is not retryable. req->cancel is checked
 * before every attempt and every 20 ms of a wait.
 *
 * *attempts (may be NULL) receives the number of requests sent. Returns 0
 * with the last answer in *out (which may still be a 429 or 503: the caller
 * parses it); RR_EUPSTREAM when the last attempt got no answer; RR_EFULL
 * (never retried); RR_ESTOPPED when cancelled; RR_EINVAL; RR_ENOMEM. */
int rr_ai_http_post_with_retries(rr_ai_http_response *out, unsigned *attempts, const rr_ai_http_request *req,
                                 const rr_ai_http_retry *retry, char *err, size_t errsize);

#endif
