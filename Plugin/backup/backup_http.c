/*
 * backup_http.c - one libcurl exchange for the backup targets (contract in
 * backup_http.h).
 */
#include "backup_http.h"

#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "../util/errors.h"
#include "../util/str.h"

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
  rr_backup_http_response *resp = arg;
  size_t len = size * n;

  if (rr_buf_append(&resp->body, data, len) != 0)
    return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
  rr_backup_http_response *resp = arg;
  size_t len = size * n;
  static const char name[] = "content-type:";

  if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
    const char *v = data + sizeof(name) - 1;
    size_t vl = len - (sizeof(name) - 1);
    while (vl > 0 && (*v == ' ' || *v == '\t')) {
      v++;
      vl--;
    }
    while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
      vl--;
    rr_str_copyn(resp->content_type, sizeof(resp->content_type), v, vl);
  }
  return len;
}

static int fail_transfer(CURLcode cc, const rr_backup_http_request *req, const rr_backup_http_response *resp,
                         char *err, size_t errsize)
{
  if (cc == CURLE_WRITE_ERROR && resp->body.len + CURL_MAX_WRITE_SIZE > req->max_response)
    return rr_fail(err, errsize, RR_EFULL, "the %s answer was larger than %zu bytes", req->method,
                   req->max_response);
  if (cc == CURLE_OPERATION_TIMEDOUT)
    return rr_fail(err, errsize, RR_EUPSTREAM, "the %s request timed out after %ld s", req->method,
                   req->timeout_seconds);
  if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST)
    return rr_fail(err, errsize, RR_EUPSTREAM, "the object store could not be reached (%s)", curl_easy_strerror(cc));
  if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_SSL_CACERT_BADFILE)
    return rr_fail(err, errsize, RR_EUPSTREAM,
                   "TLS with the object store failed (%s); check the CA bundle option and the endpoint's certificate",
                   curl_easy_strerror(cc));
  return rr_fail(err, errsize, RR_EUPSTREAM, "the %s request failed: %s", req->method, curl_easy_strerror(cc));
}

/* Configure the handle for req; the header list is returned in *list. */
static int setup(CURL *c, struct curl_slist **list, rr_backup_http_response *resp, const rr_backup_http_request *req)
{
  long timeout = req->timeout_seconds > 0 ? req->timeout_seconds : 60;
  size_t i;
  int bad = 0;

  for (i = 0; i < req->header_count; i++) {
    struct curl_slist *l = curl_slist_append(*list, req->headers[i]);
    if (l == NULL)
      return RR_ENOMEM;
    *list = l;
  }
  bad |= curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 15 ? timeout : 15L) != CURLE_OK;
  if (req->ca_bundle != NULL && req->ca_bundle[0] != '\0')
    bad |= curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_bundle) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, *list) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, resp) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
  bad |= curl_easy_setopt(c, CURLOPT_HEADERDATA, resp) != CURLE_OK;
  if (req->sigv4 != NULL) {
    bad |= curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERNAME, req->user) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, req->password) != CURLE_OK;
  } else if (req->basic_auth) {
    bad |= curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERNAME, req->user) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PASSWORD, req->password) != CURLE_OK;
  }
  if (strcmp(req->method, "HEAD") == 0) {
    bad |= curl_easy_setopt(c, CURLOPT_NOBODY, 1L) != CURLE_OK;
  } else if (strcmp(req->method, "GET") == 0) {
    bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
  } else {
    /* the body in memory (POSTFIELDS), so curl's SigV4 sees the request's
       method and the x-amz-content-sha256 header names the payload's hash */
    bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ? (const char *)req->body : "") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) != CURLE_OK;
    if (strcmp(req->method, "POST") != 0)
      bad |= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method) != CURLE_OK;
  }
  return bad ? RR_ERROR : 0;
}

int rr_backup_http_send(void *curl_easy, rr_backup_http_response *resp, const rr_backup_http_request *req, char *err,
                        size_t errsize)
{
  CURL *c = curl_easy;
  struct curl_slist *list = NULL;
  CURLcode cc;
  int rc;

  memset(resp, 0, sizeof(*resp));
  rr_buf_init(&resp->body, req->max_response > 0 ? req->max_response : 1024 * 1024);
  if (c == NULL || req->method == NULL || req->url == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "an HTTP request needs a handle, a method and a URL");
  curl_easy_reset(c);
  rc = setup(c, &list, resp, req);
  if (rc != 0) {
    curl_slist_free_all(list);
    return rr_fail(err, errsize, rc, "libcurl refused the request's options (backup needs libcurl 7.85 or newer)");
  }
  cc = curl_easy_perform(c);
  if (cc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(list);
  if (cc != CURLE_OK) {
    resp->status = 0;
    return fail_transfer(cc, req, resp, err, errsize);
  }
  return 0;
}

void rr_backup_http_response_dispose(rr_backup_http_response *resp)
{
  if (resp != NULL)
    rr_buf_dispose(&resp->body);
}

static bool unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

int rr_backup_http_uri_encode(rr_buf *out, const char *s, bool keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  int rc = 0;

  for (; *s != '\0' && rc == 0; s++) {
    unsigned char c = (unsigned char)*s;
    if (unreserved(c) || (keep_slash && c == '/')) {
      rc = rr_buf_putc(out, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      rc = rr_buf_append(out, e, 3);
    }
  }
  return rc;
}
