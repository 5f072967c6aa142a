/*
 * backup_http.h - the one HTTP exchange the backup targets make (libcurl).
 *
 * Contract:
 *  - rr_backup_http_global_init (backup_target.h) must have succeeded first.
 *  - rr_backup_http_send performs one request on the caller's easy handle
 *    (reset first, so connections are reused between calls of one target):
 *    method "GET", "HEAD", "PUT", "POST" or "DELETE"; body sent as is (its
 *    Content-Type among headers); headers are "Name: value" lines.
 *    sigv4: when not NULL, CURLOPT_AWS_SIGV4 with that provider string and
 *    user/password as access key id / secret. basic_auth: HTTP basic with
 *    user/password. TLS peer and host verification always on (ca_bundle
 *    optional), http and https only, no redirects, no signals, the URL path
 *    sent as given (CURLOPT_PATH_AS_IS: the signed path is the sent path).
 *  - Returns 0 when an HTTP answer arrived, whatever its status (resp->status,
 *    resp->body up to max_response bytes, resp->content_type); RR_EUPSTREAM
 *    with a sentence when none did (timeout, refused, TLS, answer larger than
 *    max_response: RR_EFULL), never containing the URL's query, headers or secrets.
 *  - resp is initialised by the call; release with rr_backup_http_response_dispose.
 *  - Threads: one easy handle per thread (the targets' rule).
 */
#ifndef RR_BACKUP_HTTP_H
#define RR_BACKUP_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"

#define RR_BACKUP_HTTP_HEADERS_MAX 12

typedef struct rr_backup_http_request {
  const char *method;
  const char *url;
  const char *const *headers;
  size_t header_count;
  const void *body;
  size_t body_len;
  const char *sigv4;
  const char *user;
  const char *password;
  bool basic_auth;
  const char *ca_bundle;
  long timeout_seconds; /* whole request; connect timeout min(this, 15) */
  size_t max_response;
} rr_backup_http_request;

typedef struct rr_backup_http_response {
  long status;
  rr_buf body;
  char content_type[128];
} rr_backup_http_response;

int rr_backup_http_send(void *curl_easy, rr_backup_http_response *resp, const rr_backup_http_request *req, char *err,
                        size_t errsize);
void rr_backup_http_response_dispose(rr_backup_http_response *resp);
/* Percent-encode s (RFC 3986 unreserved characters kept, '/' kept when
 * keep_slash; uppercase hex as SigV4 requires), appending to out. */
int rr_backup_http_uri_encode(rr_buf *out, const char *s, bool keep_slash);

#endif
