#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "ai/http_client.h"
#include "ai/wire.h"
#include "common.h"
#include "util/errors.h"

/* ------------------------------------------------- stand-in HTTP server */

/* What the server does with one connection, after reading its request. */
typedef enum step_kind {
  STEP_ANSWER, /* send data, then close */
  STEP_CLOSE,  /* close without answering (reset) */
  STEP_DRIP    /* send data one byte every 200 ms */
} step_kind;

typedef struct step {
  step_kind kind;
  const char *data;
} step;

typedef struct server {
  int fd;
  int port;
  pthread_t thread;
  const step *steps;
  size_t nsteps;
  atomic_int connections;
  atomic_int stop;
  char request[16384]; /* the first request, NUL-terminated */
  size_t request_len;
} server;

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Case-insensitive strstr (strcasestr is a GNU extension). */
static char *ci_find(const char *hay, const char *needle)
{
  size_t n = strlen(needle);

  for (; *hay != '\0'; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return (char *)hay;
  return NULL;
}

/* Read one request: headers, then Content-Length bytes of body. */
static size_t read_request(int fd, char *buf, size_t size)
{
  size_t len = 0, need = 0;
  char *end, *cl;
  ssize_t n;

  while (len + 1 < size) {
    n = recv(fd, buf + len, size - 1 - len, 0);
    if (n <= 0)
      break;
    len += (size_t)n;
    buf[len] = '\0';
    if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
      cl = ci_find(buf, "\r\nContent-Length:");
      need = (size_t)(end + 4 - buf) + (cl != NULL && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
      if (len >= need)
        break;
    }
  }
  buf[len] = '\0';
  return len;
}

static void send_all(int fd, const char *data, size_t len)
{
  ssize_t n;

  while (len > 0 && (n = send(fd, data, len, MSG_NOSIGNAL)) > 0) {
    data += n;
    len -= (size_t)n;
  }
}

static void *serve(void *arg)
{
  server *s = arg;
  struct pollfd p;
  struct timeval tv = {5, 0};
  struct linger lg = {1, 0};
  char scratch[16384];
  size_t i, j, len;
  int c;

  for (i = 0; i < s->nsteps && !atomic_load(&s->stop); i++) {
    p.fd = s->fd;
    p.events = POLLIN;
    p.revents = 0;
    while (!atomic_load(&s->stop) && poll(&p, 1, 50) == 0)
      ;
    if (atomic_load(&s->stop) || (c = accept(s->fd, NULL, NULL)) < 0)
      break;
    atomic_fetch_add(&s->connections, 1);
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (i == 0) {
      s->request_len = read_request(c, s->request, sizeof(s->request));
    } else {
      read_request(c, scratch, sizeof(scratch));
    }
    switch (s->steps[i].kind) {
    case STEP_ANSWER:
      send_all(c, s->steps[i].data, strlen(s->steps[i].data));
      shutdown(c, SHUT_WR);
      break;
    case STEP_CLOSE:
      setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      break;
    case STEP_DRIP:
      len = strlen(s->steps[i].data);
      for (j = 0; j < len && !atomic_load(&s->stop); j++) {
        if (send(c, s->steps[i].data + j, 1, MSG_NOSIGNAL) != 1)
          break;
        sleep_ms(200);
      }
      break;
    }
    close(c);
  }
  return NULL;
}

static void server_start(server *s, const step *steps, size_t nsteps)
{
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);

  memset(s, 0, sizeof(*s));
  s->steps = steps;
  s->nsteps = nsteps;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(s->fd, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(s->fd, 8), 0);
  ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
  atomic_store(&s->stop, 1);
  pthread_join(s->thread, NULL);
  close(s->fd);
}

/* A port with nothing listening on it. */
static int closed_port(void)
{
  struct sockaddr_in a;
  socklen_t alen = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

#define KEY_HEADER "x-goog-api-key: secret-key-123"
#define BODY "{\"contents\":[{\"parts\":[{\"text\":\"hello\"}]}]}"
#define OK_JSON "{\"candidates\":[]}"
#define ANSWER_200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n" OK_JSON

static const char *const HEADERS[] = {KEY_HEADER};

static char url_buf[256];

static rr_ai_http_request request_for(int port)
{
  rr_ai_http_request r;

  snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d/v1beta/models/m:generateContent", port);
  memset(&r, 0, sizeof(r));
  r.url = url_buf;
  r.headers = HEADERS;
  r.header_count = 1;
  r.body = BODY;
  r.body_len = strlen(BODY);
  r.connect_timeout_ms = 2000;
  r.timeout_ms = 5000;
  return r;
}

static rr_ai_http_retry quick_retry(unsigned attempts)
{
  rr_ai_http_retry r;

  memset(&r, 0, sizeof(r));
  r.policy.base_ms = 10;
  r.policy.max_ms = 50;
  r.policy.max_wait_ms = 10000;
  r.policy.max_attempts = attempts;
  return r;
}

static void assert_no_key(const char *err)
{
  ck_assert_msg(strstr(err, "secret") == NULL, "err leaks the key: %s", err);
}

/* ---------------------------------------------------------------- tests */

START_TEST(answer_200_json)
{
  static const step steps[] = {{STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "";

  server_start(&s, steps, 1);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post(&res, &req, err, sizeof(err)) == 0, "post: %s", err);
  ck_assert_int_eq(res.status, 200);
  ck_assert_int_eq(res.failure, RR_AI_HTTP_ANSWERED);
  ck_assert_str_eq(res.body.ptr, OK_JSON);
  ck_assert_uint_eq(res.body.len, strlen(OK_JSON));
  ck_assert_str_eq(res.retry_after, "");
  ck_assert_int_eq(res.retry_after_ms, -1);
  rr_ai_http_response_dispose(&res);
  rr_ai_http_response_dispose(&res);
  rr_ai_http_response_dispose(NULL);
  server_stop(&s);
}
END_TEST

START_TEST(request_is_received_exactly)
{
  static const step steps[] = {{STEP_ANSWER, "HTTP/1.1 204 No Content\r\n\r\n"}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "", *end, *line_end;

  server_start(&s, steps, 1);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post(&res, &req, err, sizeof(err)) == 0, "post: %s", err);
  ck_assert_int_eq(res.status, 204);
  ck_assert_str_eq(res.body.ptr, "");
  rr_ai_http_response_dispose(&res);
  server_stop(&s);

  ck_assert_msg(strncmp(s.request, "POST /v1beta/models/m:generateContent HTTP/1.1\r\n", 48) == 0, "request: %s",
                s.request);
  line_end = strstr(s.request, "\r\n");
  ck_assert_ptr_nonnull(line_end);
  *line_end = '\0';
  ck_assert_ptr_null(strstr(s.request, "secret")); /* no key in the URL */
  *line_end = '\r';
  ck_assert_ptr_nonnull(strstr(s.request, "\r\n" KEY_HEADER "\r\n"));
  ck_assert_ptr_nonnull(strstr(s.request, "\r\nContent-Type: application/json\r\n"));
  ck_assert_ptr_nonnull(strstr(s.request, "\r\nAccept: application/json\r\n"));
  ck_assert_ptr_null(ci_find(s.request, "\r\nExpect:"));
  ck_assert_ptr_nonnull(ci_find(s.request, "\r\nContent-Length: 43\r\n"));
  end = strstr(s.request, "\r\n\r\n");
  ck_assert_ptr_nonnull(end);
  ck_assert_str_eq(end + 4, BODY);
  ck_assert_uint_eq(s.request_len, (size_t)(end + 4 - s.request) + strlen(BODY));
}
END_TEST

START_TEST(retry_after_then_200)
{
  static const step steps[] = {
      {STEP_ANSWER, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 2\r\n\r\n{}"},
      {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";
  int64_t t0, elapsed;

  server_start(&s, steps, 2);
  req = request_for(s.port);
  t0 = now_ms();
  ck_assert_msg(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)) == 0, "post: %s",
                err);
  elapsed = now_ms() - t0;
  ck_assert_int_eq(res.status, 200);
  ck_assert_str_eq(res.body.ptr, OK_JSON);
  ck_assert_uint_eq(attempts, 2);
  ck_assert_int_eq(atomic_load(&s.connections), 2);
  ck_assert_msg(elapsed >= 950 && elapsed < 3000, "elapsed %lld ms", (long long)elapsed);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(retry_after_header_is_captured)
{
  static const step steps[] = {
      {STEP_ANSWER, "HTTP/1.1 503 Service Unavailable\r\nretry-after:  7 \r\nContent-Length: 0\r\n\r\n"}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "";

  server_start(&s, steps, 1);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post(&res, &req, err, sizeof(err)) == 0, "post: %s", err);
  ck_assert_int_eq(res.status, 503);
  ck_assert_str_eq(res.retry_after, "7");
  ck_assert_int_eq(res.retry_after_ms, 7000);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

#define ANSWER_503 "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"

START_TEST(status_503_uses_up_attempts)
{
  static const step steps[] = {{STEP_ANSWER, ANSWER_503}, {STEP_ANSWER, ANSWER_503}, {STEP_ANSWER, ANSWER_503},
                               {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";

  server_start(&s, steps, 4);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)) == 0, "post: %s",
                err);
  ck_assert_int_eq(res.status, 503);
  ck_assert_uint_eq(attempts, 3);
  ck_assert_int_eq(atomic_load(&s.connections), 3);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(not_retryable_status_stops)
{
  static const step steps[] = {{STEP_ANSWER, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"},
                               {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";

  server_start(&s, steps, 2);
  req = request_for(s.port);
  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), 0);
  ck_assert_int_eq(res.status, 400);
  ck_assert_uint_eq(attempts, 1);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(reset_then_200)
{
  static const step steps[] = {{STEP_CLOSE, NULL}, {STEP_ANSWER, ANSWER_200}};
  static const step one[] = {{STEP_CLOSE, NULL}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";

  /* Once: no answer. */
  server_start(&s, one, 1);
  req = request_for(s.port);
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EUPSTREAM);
  ck_assert_int_eq(res.status, 0);
  ck_assert_int_eq(res.failure, RR_AI_HTTP_CONNECTION);
  ck_assert_msg(strstr(err, "connection to the AI provider failed") != NULL, "err: %s", err);
  assert_no_key(err);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);

  /* With retries: the second attempt succeeds. */
  server_start(&s, steps, 2);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)) == 0, "post: %s",
                err);
  ck_assert_int_eq(res.status, 200);
  ck_assert_uint_eq(attempts, 2);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(slow_drip_times_out)
{
  static const step steps[] = {{STEP_DRIP, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" OK_JSON}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "";
  int64_t t0, elapsed;

  server_start(&s, steps, 1);
  req = request_for(s.port);
  req.timeout_ms = 1000;
  t0 = now_ms();
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EUPSTREAM);
  elapsed = now_ms() - t0;
  ck_assert_int_eq(res.status, 0);
  ck_assert_int_eq(res.failure, RR_AI_HTTP_TIMEOUT);
  ck_assert_uint_eq(res.body.len, 0);
  ck_assert_msg(strstr(err, "timed out") != NULL, "err: %s", err);
  assert_no_key(err);
  ck_assert_msg(elapsed >= 900 && elapsed < 3000, "elapsed %lld ms", (long long)elapsed);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

static char *big_answer(bool with_length, size_t body_len)
{
  rr_buf b;
  char *out = NULL;
  size_t i;

  rr_buf_init(&b, body_len + 256);
  if (with_length)
    ck_assert_int_eq(rr_buf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", body_len), 0);
  else
    ck_assert_int_eq(rr_buf_puts(&b, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), 0);
  for (i = 0; i < body_len; i++)
    ck_assert_int_eq(rr_buf_putc(&b, 'x'), 0);
  ck_assert_int_eq(rr_buf_detach(&out, &b), 0);
  return out;
}

START_TEST(body_over_cap_is_refused)
{
  server s;
  step steps[1];
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "", *big;
  int with_length;

  for (with_length = 0; with_length <= 1; with_length++) {
    big = big_answer(with_length, 200000);
    steps[0].kind = STEP_ANSWER;
    steps[0].data = big;
    server_start(&s, steps, 1);
    req = request_for(s.port);
    req.max_response = 65536;
    ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), RR_EFULL);
    ck_assert_uint_eq(attempts, 1);
    ck_assert_int_eq(res.failure, RR_AI_HTTP_TOO_LARGE);
    ck_assert_int_eq(res.status, 0);
    ck_assert_msg(strstr(err, "larger than 65536 bytes") != NULL, "err: %s", err);
    rr_ai_http_response_dispose(&res);
    server_stop(&s);
    free(big);
  }

  /* Exactly at the cap is fine. */
  big = big_answer(true, 1000);
  steps[0].data = big;
  server_start(&s, steps, 1);
  req = request_for(s.port);
  req.max_response = 1000;
  ck_assert_msg(rr_ai_http_post(&res, &req, err, sizeof(err)) == 0, "post: %s", err);
  ck_assert_uint_eq(res.body.len, 1000);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
  free(big);
}
END_TEST

START_TEST(connection_refused)
{
  rr_ai_http_request req = request_for(closed_port());
  rr_ai_http_response res;
  char err[512] = "";

  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EUPSTREAM);
  ck_assert_int_eq(res.status, 0);
  ck_assert_int_eq(res.failure, RR_AI_HTTP_CONNECT);
  ck_assert_str_eq(rr_ai_http_failure_name(res.failure), "connect");
  ck_assert_msg(strstr(err, "could not connect") != NULL, "err: %s", err);
  assert_no_key(err);
  rr_ai_http_response_dispose(&res);
}
END_TEST

START_TEST(redirect_is_not_followed)
{
  static char answer[256];
  static step steps[] = {{STEP_ANSWER, answer}, {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "";

  server_start(&s, steps, 2);
  snprintf(answer, sizeof(answer), "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/elsewhere\r\n"
                                   "Content-Length: 0\r\n\r\n", s.port);
  req = request_for(s.port);
  ck_assert_msg(rr_ai_http_post(&res, &req, err, sizeof(err)) == 0, "post: %s", err);
  ck_assert_int_eq(res.status, 302);
  sleep_ms(100);
  ck_assert_int_eq(atomic_load(&s.connections), 1);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

static atomic_int cancel_flag;

static void *raise_cancel(void *arg)
{
  (void)arg;
  sleep_ms(300);
  atomic_store(&cancel_flag, 1);
  return NULL;
}

START_TEST(cancel_during_retry_wait)
{
  static const step steps[] = {
      {STEP_ANSWER, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n"},
      {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  pthread_t canceller;
  char err[512] = "";
  int64_t t0, elapsed;

  atomic_store(&cancel_flag, 0);
  server_start(&s, steps, 2);
  req = request_for(s.port);
  req.cancel = &cancel_flag;
  t0 = now_ms();
  ck_assert_int_eq(pthread_create(&canceller, NULL, raise_cancel, NULL), 0);
  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), RR_ESTOPPED);
  elapsed = now_ms() - t0;
  pthread_join(canceller, NULL);
  ck_assert_uint_eq(attempts, 1);
  ck_assert_msg(elapsed >= 250 && elapsed < 2500, "elapsed %lld ms", (long long)elapsed);
  ck_assert_msg(strstr(err, "cancelled") != NULL, "err: %s", err);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);

  /* Already raised: no request at all. */
  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), RR_ESTOPPED);
  ck_assert_uint_eq(attempts, 0);
  rr_ai_http_response_dispose(&res);
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_ESTOPPED);
  ck_assert_int_eq(res.failure, RR_AI_HTTP_CANCELLED);
  rr_ai_http_response_dispose(&res);
}
END_TEST

START_TEST(cancel_during_transfer)
{
  static const step steps[] = {{STEP_DRIP, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n" OK_JSON}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  pthread_t canceller;
  char err[512] = "";
  int64_t t0, elapsed;

  atomic_store(&cancel_flag, 0);
  server_start(&s, steps, 1);
  req = request_for(s.port);
  req.cancel = &cancel_flag;
  t0 = now_ms();
  ck_assert_int_eq(pthread_create(&canceller, NULL, raise_cancel, NULL), 0);
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_ESTOPPED);
  elapsed = now_ms() - t0;
  pthread_join(canceller, NULL);
  ck_assert_int_eq(res.status, 0);
  ck_assert_msg(elapsed < 2500, "elapsed %lld ms", (long long)elapsed);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(retry_delay_from_body)
{
  static const step steps[] = {
      {STEP_ANSWER, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 149\r\n\r\n"
                    "{\"error\":{\"code\":503,\"message\":\"busy\",\"status\":\"UNAVAILABLE\",\"details\":[{\"@type\":"
                    "\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":\"0.600s\"}]}}"},
      {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";
  int64_t t0, elapsed;

  ck_assert_uint_eq(strlen(strstr(steps[0].data, "\r\n\r\n") + 4), 149);
  retry.parse = rr_ai_gemini_parse;
  server_start(&s, steps, 2);
  req = request_for(s.port);
  t0 = now_ms();
  ck_assert_msg(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)) == 0, "post: %s",
                err);
  elapsed = now_ms() - t0;
  ck_assert_int_eq(res.status, 200);
  ck_assert_uint_eq(attempts, 2);
  ck_assert_msg(elapsed >= 550 && elapsed < 2500, "elapsed %lld ms", (long long)elapsed);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(total_wait_is_bounded)
{
  static const step steps[] = {
      {STEP_ANSWER, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n"},
      {STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 0;
  char err[512] = "";
  int64_t t0, elapsed;

  retry.max_total_wait_ms = 1000;
  server_start(&s, steps, 2);
  req = request_for(s.port);
  t0 = now_ms();
  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), 0);
  elapsed = now_ms() - t0;
  ck_assert_int_eq(res.status, 429);
  ck_assert_uint_eq(attempts, 1);
  ck_assert_msg(elapsed < 900, "elapsed %lld ms", (long long)elapsed);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);

  /* The same with the single-wait bound of the policy. */
  retry.max_total_wait_ms = 0;
  retry.policy.max_wait_ms = 1500;
  server_start(&s, steps, 2);
  req = request_for(s.port);
  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, &req, &retry, err, sizeof(err)), 0);
  ck_assert_int_eq(res.status, 429);
  ck_assert_uint_eq(attempts, 1);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

START_TEST(bad_requests)
{
  static const char *const bad_header[] = {"x-goog-api-key: secret-key\r\nX-Evil: 1"};
  static const char *const no_colon[] = {"secret-key"};
  rr_ai_http_request req = request_for(closed_port());
  rr_ai_http_response res;
  rr_ai_http_retry retry = quick_retry(3);
  unsigned attempts = 7;
  char err[512] = "";

  req.headers = bad_header;
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  assert_no_key(err);
  ck_assert_ptr_nonnull(strstr(err, "header 1"));
  rr_ai_http_response_dispose(&res);
  req.headers = no_colon;
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  assert_no_key(err);
  rr_ai_http_response_dispose(&res);
  req.headers = HEADERS;
  req.header_count = RR_AI_HTTP_HEADERS_MAX + 1;
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  rr_ai_http_response_dispose(&res);

  req = request_for(closed_port());
  req.url = NULL;
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  rr_ai_http_response_dispose(&res);
  req.url = "ftp://127.0.0.1/x";
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  rr_ai_http_response_dispose(&res);
  req.url = "file:///etc/passwd";
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  rr_ai_http_response_dispose(&res);
  req.url = "http://127.0.0.1:1/x";
  req.timeout_ms = -1;
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EINVAL);
  rr_ai_http_response_dispose(&res);

  ck_assert_int_eq(rr_ai_http_post_with_retries(&res, &attempts, NULL, &retry, err, sizeof(err)), RR_EINVAL);
  ck_assert_uint_eq(attempts, 0);
  rr_ai_http_response_dispose(&res);
}
END_TEST

START_TEST(tls_is_verified)
{
  /* A plain-HTTP server answering a TLS handshake: the handshake fails, no
   * answer is taken. */
  static const step steps[] = {{STEP_ANSWER, ANSWER_200}};
  server s;
  rr_ai_http_request req;
  rr_ai_http_response res;
  char err[512] = "";

  server_start(&s, steps, 1);
  req = request_for(s.port);
  snprintf(url_buf, sizeof(url_buf), "https://127.0.0.1:%d/x", s.port);
  ck_assert_int_eq(rr_ai_http_post(&res, &req, err, sizeof(err)), RR_EUPSTREAM);
  ck_assert_int_eq(res.status, 0);
  assert_no_key(err);
  rr_ai_http_response_dispose(&res);
  server_stop(&s);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("ai_http");
  TCase *tp = tcase_create("post"), *tr = tcase_create("retries");
  int rc;

  signal(SIGPIPE, SIG_IGN);
  if (rr_ai_http_global_init() != 0)
    return EXIT_FAILURE;
  tcase_set_timeout(tp, 30);
  tcase_set_timeout(tr, 30);
  tcase_add_test(tp, answer_200_json);
  tcase_add_test(tp, request_is_received_exactly);
  tcase_add_test(tp, retry_after_header_is_captured);
  tcase_add_test(tp, slow_drip_times_out);
  tcase_add_test(tp, body_over_cap_is_refused);
  tcase_add_test(tp, connection_refused);
  tcase_add_test(tp, redirect_is_not_followed);
  tcase_add_test(tp, cancel_during_transfer);
  tcase_add_test(tp, bad_requests);
  tcase_add_test(tp, tls_is_verified);
  tcase_add_test(tr, retry_after_then_200);
  tcase_add_test(tr, status_503_uses_up_attempts);
  tcase_add_test(tr, not_retryable_status_stops);
  tcase_add_test(tr, reset_then_200);
  tcase_add_test(tr, cancel_during_retry_wait);
  tcase_add_test(tr, retry_delay_from_body);
  tcase_add_test(tr, total_wait_is_bounded);
  suite_add_tcase(s, tp);
  suite_add_tcase(s, tr);
  rc = rr_test_run(s);
  rr_ai_http_global_cleanup();
  return rc;
}
