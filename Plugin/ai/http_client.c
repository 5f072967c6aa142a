/*
 * http_client.c - the AI providers' HTTP client on libcurl. See http_client.h.
 */
#include "ai/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/clock.h"
#include "util/str.h"

#define SLEEP_SLICE_MS 20

int rr_ai_http_global_init(void)
{
  return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : RR_ERROR;
}

void rr_ai_http_global_cleanup(void)
{
  curl_global_cleanup();
}

void rr_ai_http_response_dispose(rr_ai_http_response *response)
{
  if (response == NULL)
    return;
  rr_buf_dispose(&response->body);
  response->status = 0;
  response->retry_after[0] = '\0';
  response->retry_after_ms = -1;
  response->failure = RR_AI_HTTP_ANSWERED;
}

const char *rr_ai_http_failure_name(rr_ai_http_failure failure)
{
  switch (failure) {
  case RR_AI_HTTP_ANSWERED:
    return "answered";
  case RR_AI_HTTP_TIMEOUT:
    return "timeout";
  case RR_AI_HTTP_CONNECT:
    return "connect";
  case RR_AI_HTTP_CONNECTION:
    return "connection";
  case RR_AI_HTTP_TLS:
    return "tls";
  case RR_AI_HTTP_TOO_LARGE:
    return "too_large";
  case RR_AI_HTTP_CANCELLED:
    return "cancelled";
  case RR_AI_HTTP_OTHER:
    break;
  }
  return "other";
}

/* State shared with curl's callbacks during one transfer. */
typedef struct transfer {
  rr_ai_http_response *out;
  const atomic_int *cancel;
  int write_rc; /* the rr_buf_append failure that stopped the transfer, 0 */
} transfer;

static bool cancelled(const atomic_int *cancel)
{
  return cancel != NULL && atomic_load(cancel) != 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
  transfer *t = user;
  size_t n = size * nmemb;
  int rc;

  if (n == 0)
    return 0;
  if ((rc = rr_buf_append(&t->out->body, data, n)) != 0) {
    t->write_rc = rc;
    return 0; /* aborts with CURLE_WRITE_ERROR */
  }
  return n;
}

/* Called once per header line, without NUL, ending in CRLF. Only
 * Retry-After is kept; a new status line (e.g. after "100 Continue") starts
 * over. */
static size_t on_header(char *data, size_t size, size_t nitems, void *user)
{
  static const char NAME[] = "retry-after:";
  transfer *t = user;
  size_t n = size * nitems, i = sizeof(NAME) - 1, end;

  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
    t->out->retry_after[0] = '\0';
    t->out->retry_after_ms = -1;
    return n;
  }
  if (n < i || strncasecmp(data, NAME, i) != 0)
    return n;
  while (i < n && (data[i] == ' ' || data[i] == '\t'))
    i++;
  end = n;
  while (end > i && (data[end - 1] == '\r' || data[end - 1] == '\n' || data[end - 1] == ' ' ||
                     data[end - 1] == '\t'))
    end--;
  rr_str_copyn(t->out->retry_after, sizeof(t->out->retry_after), data + i, end - i);
  t->out->retry_after_ms = rr_ai_retry_after_ms(t->out->retry_after);
  return n;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
  transfer *t = user;

  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return cancelled(t->cancel) ? 1 : 0;
}

/* Check the caller's headers and build the list curl sends. */
static int build_headers(struct curl_slist **out, const rr_ai_http_request *req, char *err, size_t errsize)
{
  static const char *const FIXED[] = {"Content-Type: application/json", "Accept: application/json",
                                      "Expect:"};
  struct curl_slist *list = NULL, *next;
  const char *h;
  size_t i;
  int rc = 0;

  *out = NULL;
  if (req->header_count > RR_AI_HTTP_HEADERS_MAX || (req->header_count > 0 && req->headers == NULL)) {
    rc = rr_fail(err, errsize, RR_EINVAL, "too many HTTP headers for the AI provider (at most %d)",
                 RR_AI_HTTP_HEADERS_MAX);
    goto done;
  }
  for (i = 0; i < req->header_count; i++) {
    h = req->headers[i];
    /* The value may be a key: the sentence names the header's position only. */
    if (h == NULL || strchr(h, ':') == NULL || h[0] == ':' || strpbrk(h, "\r\n") != NULL) {
      rc = rr_fail(err, errsize, RR_EINVAL, "HTTP header %zu for the AI provider is not a single 'Name: value' line",
                   i + 1);
      goto done;
    }
  }
  for (i = 0; i < sizeof(FIXED) / sizeof(FIXED[0]) + req->header_count; i++) {
    h = i < sizeof(FIXED) / sizeof(FIXED[0]) ? FIXED[i] : req->headers[i - sizeof(FIXED) / sizeof(FIXED[0])];
    if ((next = curl_slist_append(list, h)) == NULL) {
      rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory while preparing the AI request");
      goto done;
    }
    list = next;
  }
  *out = list;
  list = NULL;
done:
  curl_slist_free_all(list);
  return rc;
}

static rr_ai_http_failure classify(CURLcode code)
{
  switch (code) {
  case CURLE_OPERATION_TIMEDOUT:
    return RR_AI_HTTP_TIMEOUT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return RR_AI_HTTP_CONNECT;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return RR_AI_HTTP_CONNECTION;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_USE_SSL_FAILED:
    return RR_AI_HTTP_TLS;
  case CURLE_FILESIZE_EXCEEDED:
    return RR_AI_HTTP_TOO_LARGE;
  case CURLE_ABORTED_BY_CALLBACK:
    return RR_AI_HTTP_CANCELLED;
  default:
    return RR_AI_HTTP_OTHER;
  }
}

/* Turn a failed transfer into the return code and the sentence. curl's
 * error buffer names the host, port and reason, never a header value. */
static int transfer_failed(rr_ai_http_response *out, CURLcode code, int write_rc, const char *detail, char *err,
                           size_t errsize)
{
  const char *why = detail[0] != '\0' ? detail : curl_easy_strerror(code);

  out->failure = classify(code);
  if (code == CURLE_WRITE_ERROR && write_rc != 0)
    out->failure = write_rc == RR_EFULL ? RR_AI_HTTP_TOO_LARGE : RR_AI_HTTP_OTHER;
  out->status = 0;
  rr_buf_clear(&out->body);
  switch (out->failure) {
  case RR_AI_HTTP_TIMEOUT:
    return rr_fail(err, errsize, RR_EUPSTREAM, "the AI provider request timed out (%s)", why);
  case RR_AI_HTTP_CONNECT:
    return rr_fail(err, errsize, RR_EUPSTREAM, "could not connect to the AI provider (%s)", why);
  case RR_AI_HTTP_CONNECTION:
    return rr_fail(err, errsize, RR_EUPSTREAM, "the connection to the AI provider failed (%s)", why);
  case RR_AI_HTTP_TLS:
    return rr_fail(err, errsize, RR_EUPSTREAM, "TLS with the AI provider failed (%s)", why);
  case RR_AI_HTTP_TOO_LARGE:
    return rr_fail(err, errsize, RR_EFULL, "the AI provider's answer is larger than %zu bytes", out->body.max);
  case RR_AI_HTTP_CANCELLED:
    return rr_fail(err, errsize, RR_ESTOPPED, "the AI request was cancelled");
  case RR_AI_HTTP_ANSWERED:
  case RR_AI_HTTP_OTHER:
    break;
  }
  if (code == CURLE_OUT_OF_MEMORY || write_rc == RR_ENOMEM)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory during the AI request");
  if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL)
    return rr_fail(err, errsize, RR_EINVAL, "the AI provider's URL is not a valid http(s) URL (%s)",
                   curl_easy_strerror(code));
  return rr_fail(err, errsize, RR_EUPSTREAM, "the AI request failed (%s)", why);
}

#define SETOPT(opt, value)                                                                                       \
  do {                                                                                                         \
    if ((code = curl_easy_setopt(curl, opt, value)) != CURLE_OK) {                                             \
      rc = rr_fail(err, errsize, code == CURLE_OUT_OF_MEMORY ? RR_ENOMEM : RR_ERROR,                          \
                   "could not set up the AI request: %s (%s)", #opt, curl_easy_strerror(code));             \
      goto done;                                                                                               \
    }                                                                                                          \
  } while (0)

/* Set every option of the request `req` on `curl`: the error text goes to
 * `detail` (CURL_ERROR_SIZE), the answer through transfer `t`, `headers`
 * (still the caller's) are sent. */
static int setup_curl(CURL *curl, const rr_ai_http_request *req, struct curl_slist *headers, transfer *t,
                      char *detail, char *err, size_t errsize)
{
  CURLcode code;
  int rc = 0;

  SETOPT(CURLOPT_ERRORBUFFER, detail);
  SETOPT(CURLOPT_URL, req->url);
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SETOPT(CURLOPT_NOSIGNAL, 1L);
  SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
  SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
  if (req->ca_file != NULL && req->ca_file[0] != '\0')
    SETOPT(CURLOPT_CAINFO, req->ca_file);
  SETOPT(CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms > 0 ? req->connect_timeout_ms
                                                                : (long)RR_AI_HTTP_CONNECT_TIMEOUT_MS);
  SETOPT(CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : (long)RR_AI_HTTP_TIMEOUT_MS);
  SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->out->body.max);
  SETOPT(CURLOPT_USERAGENT, "OrthancReadingRoom/" RR_VERSION);
  SETOPT(CURLOPT_HTTPHEADER, headers);
  if (req->get) {
    SETOPT(CURLOPT_HTTPGET, 1L);
  } else {
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
  }
  SETOPT(CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(CURLOPT_WRITEDATA, t);
  SETOPT(CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(CURLOPT_HEADERDATA, t);
  if (req->cancel != NULL) {
    SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(CURLOPT_XFERINFODATA, t);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
  }
done:
  return rc;
}

int rr_ai_http_post(rr_ai_http_response *out, const rr_ai_http_request *req, char *err, size_t errsize)
{
  CURL *curl = NULL;
  struct curl_slist *headers = NULL;
  CURLcode code;
  char detail[CURL_ERROR_SIZE];
  transfer t;
  long status = 0;
  int rc = 0;

  memset(out, 0, sizeof(*out));
  out->retry_after_ms = -1;
  if (req == NULL || req->url == NULL || req->url[0] == '\0' || (req->body == NULL && req->body_len > 0) ||
      req->connect_timeout_ms < 0 || req->timeout_ms < 0) {
    rr_buf_init(&out->body, 0);
    out->failure = RR_AI_HTTP_OTHER;
    return rr_fail(err, errsize, RR_EINVAL, "invalid AI HTTP request (URL, body or timeouts)");
  }
  rr_buf_init(&out->body, req->max_response > 0 ? req->max_response : RR_AI_HTTP_RESPONSE_MAX);
  out->failure = RR_AI_HTTP_OTHER;
  t.out = out;
  t.cancel = req->cancel;
  t.write_rc = 0;
  detail[0] = '\0';

  if (cancelled(req->cancel)) {
    out->failure = RR_AI_HTTP_CANCELLED;
    rc = rr_fail(err, errsize, RR_ESTOPPED, "the AI request was cancelled");
    goto done;
  }
  if ((rc = build_headers(&headers, req, err, errsize)) != 0) {
    goto done;
  }
  if ((curl = curl_easy_init()) == NULL) {
    rc = rr_fail(err, errsize, RR_ENOMEM, "could not create a curl handle for the AI request");
    goto done;
  }
  if ((rc = setup_curl(curl, req, headers, &t, detail, err, errsize)) != 0)
    goto done;

  code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    rc = transfer_failed(out, code, t.write_rc, detail, err, errsize);
    goto done;
  }
  if (curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status < 100 || status > 999) {
    rc = transfer_failed(out, CURLE_WEIRD_SERVER_REPLY, 0, "no HTTP status", err, errsize);
    goto done;
  }
  out->status = (int)status;
  out->failure = RR_AI_HTTP_ANSWERED;
  /* An empty body still yields a valid C string. */
  if (out->body.ptr == NULL && (rc = rr_buf_append(&out->body, "", 0)) != 0) {
    rc = rr_fail(err, errsize, rc, "out of memory while reading the AI answer");
    goto done;
  }
done:
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  return rc;
}

#undef SETOPT

/* Sleep ms milliseconds in slices, watching cancel. 0 or RR_ESTOPPED. */
static int sleep_ms(int64_t ms, const atomic_int *cancel)
{
  int64_t deadline = rr_clock_mono_ms() + ms, left;
  struct timespec ts;

  for (;;) {
    if (cancelled(cancel))
      return RR_ESTOPPED;
    if ((left = deadline - rr_clock_mono_ms()) <= 0)
      return 0;
    if (left > SLEEP_SLICE_MS)
      left = SLEEP_SLICE_MS;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)left * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
}

/* xorshift64*: jitter only, not cryptographic. */
static double next_random(uint64_t *state)
{
  uint64_t x = *state;

  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

int rr_ai_http_post_with_retries(rr_ai_http_response *out, unsigned *attempts, const rr_ai_http_request *req,
                                 const rr_ai_http_retry *retry, char *err, size_t errsize)
{
  rr_ai_result result;
  struct timespec ts;
  char scratch[256];
  uint64_t seed;
  int64_t delay = 0, waited = 0;
  unsigned n = 0;
  double jitter;
  bool again;
  int rc = 0, prc;

  memset(out, 0, sizeof(*out));
  out->retry_after_ms = -1;
  rr_buf_init(&out->body, 0);
  if (req == NULL || retry == NULL) {
    rc = rr_fail(err, errsize, RR_EINVAL, "invalid AI HTTP request (no request or retry policy)");
    goto done;
  }
  clock_gettime(CLOCK_MONOTONIC, &ts);
  seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)&ts;
  if (seed == 0)
    seed = 0x9E3779B97F4A7C15ULL;
  for (;;) {
    if (cancelled(req->cancel)) {
      rc = rr_fail(err, errsize, RR_ESTOPPED, "the AI request was cancelled");
      goto done;
    }
    rr_ai_http_response_dispose(out);
    rc = rr_ai_http_post(out, req, err, errsize);
    n++;
    if (rc != 0 && rc != RR_EUPSTREAM)
      goto done;
    if (retry->parse != NULL) {
      prc = retry->parse(&result, out->status, out->body.ptr, out->body.len, scratch, sizeof(scratch));
      if (prc == RR_ENOMEM) {
        rr_ai_result_dispose(&result);
        rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory while reading the AI answer");
        goto done;
      }
    } else {
      memset(&result, 0, sizeof(result));
      result.http_status = out->status;
      result.retry_after_ms = -1;
      result.prompt_tokens = result.output_tokens = result.total_tokens = -1;
      result.outcome = RR_AI_ERROR;
      result.retryable = rr_ai_status_retryable(out->status);
    }
    jitter = retry->random01 != NULL ? retry->random01() : next_random(&seed);
    again = rr_ai_retry_decide(&delay, &retry->policy, &result, out->retry_after[0] != '\0' ? out->retry_after : NULL,
                               n, jitter);
    rr_ai_result_dispose(&result);
    if (!again || (retry->max_total_wait_ms > 0 && waited + delay > retry->max_total_wait_ms))
      goto done;
    if (sleep_ms(delay, req->cancel) != 0) {
      rc = rr_fail(err, errsize, RR_ESTOPPED, "the AI request was cancelled while waiting to retry");
      goto done;
    }
    waited += delay;
  }
done:
  if (attempts != NULL)
    *attempts = n;
  return rc;
}
