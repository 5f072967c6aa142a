/*
 * backup_s3.c - the S3-compatible target (contract in backup_s3.h): URLs,
 * SigV4 through libcurl, ListObjectsV2 parsing, error sentences.
 */
#include "backup_s3.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "../util/errors.h"
#include "../util/sha256.h"
#include "../util/str.h"
#include "backup_http.h"

#define LIST_ANSWER_MAX (16 * 1024 * 1024)
#define ERROR_ANSWER_MAX (64 * 1024)
#define LIST_PAGES_MAX 100000

typedef struct s3_target {
  rr_backup_target base;
  CURL *curl;
  char *base_url; /* "http://h:p/bucket" (path style) or "http://bucket.h:p" */
  bool path_style;
  char *prefix;
  char *sigv4; /* "aws:amz:<region>:s3" */
  char *access_key_id;
  char *secret;
  char *ca_bundle;
  int timeout_seconds;
} s3_target;

int rr_backup_s3_uri_encode(rr_buf *out, const char *s, bool keep_slash)
{
  return rr_backup_http_uri_encode(out, s, keep_slash);
}

/* Append the text of s[0..len) with XML's entities decoded. */
static int xml_text(rr_buf *out, const char *s, size_t len)
{
  size_t i = 0;
  int rc = 0;

  while (i < len && rc == 0) {
    const char *semi;
    size_t n;
    if (s[i] != '&') {
      rc = rr_buf_putc(out, s[i++]);
      continue;
    }
    semi = memchr(s + i, ';', len - i);
    if (semi == NULL)
      return RR_EINVAL;
    n = (size_t)(semi - (s + i)) + 1;
    if (n == 5 && memcmp(s + i, "&amp;", 5) == 0)
      rc = rr_buf_putc(out, '&');
    else if (n == 4 && memcmp(s + i, "&lt;", 4) == 0)
      rc = rr_buf_putc(out, '<');
    else if (n == 4 && memcmp(s + i, "&gt;", 4) == 0)
      rc = rr_buf_putc(out, '>');
    else if (n == 6 && memcmp(s + i, "&quot;", 6) == 0)
      rc = rr_buf_putc(out, '"');
    else if (n == 6 && memcmp(s + i, "&apos;", 6) == 0)
      rc = rr_buf_putc(out, '\'');
    else if (n >= 4 && s[i + 1] == '#') {
      bool hexa = s[i + 2] == 'x' || s[i + 2] == 'X';
      size_t j = i + (hexa ? 3 : 2);
      unsigned long cp = 0;
      char u[4];
      if (j >= i + n - 1)
        return RR_EINVAL;
      for (; j < i + n - 1; j++) {
        int d = hexa ? rr_hex_value(s[j]) : (s[j] >= '0' && s[j] <= '9' ? s[j] - '0' : -1);
        if (d < 0 || cp > 0x10FFFF)
          return RR_EINVAL;
        cp = cp * (hexa ? 16 : 10) + (unsigned long)d;
      }
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return RR_EINVAL;
      rc = rr_buf_append(out, u, rr_utf8_encode(u, (uint32_t)cp));
    } else {
      return RR_EINVAL;
    }
    i += n;
  }
  return rc;
}

/* Find <tag>...</tag> within [s, end); sets the content span. */
static bool xml_find(const char **content, size_t *len, const char *s, const char *end, const char *tag)
{
  char open[64], close[64];
  size_t ol = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
  size_t cl = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
  const char *p = s, *q;

  for (; p + ol <= end; p++) {
    if (memcmp(p, open, ol) != 0)
      continue;
    for (q = p + ol; q + cl <= end; q++) {
      if (memcmp(q, close, cl) == 0) {
        *content = p + ol;
        *len = (size_t)(q - (p + ol));
        return true;
      }
    }
    return false;
  }
  return false;
}

static const char *mem_find(const char *s, const char *end, const char *needle)
{
  size_t nl = strlen(needle);
  for (; s + nl <= end; s++)
    if (memcmp(s, needle, nl) == 0)
      return s;
  return NULL;
}

int rr_backup_s3_parse_list(rr_backup_keys *keys, bool *truncated, rr_buf *token, const char *xml, size_t len,
                            char *err, size_t errsize)
{
  const char *end = xml + len, *p, *c;
  size_t cl;
  rr_buf key;
  int rc = 0;

  *truncated = false;
  if (mem_find(xml, end, "<ListBucketResult") == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the object store's list answer is not a ListBucketResult");
  rr_buf_init(&key, 4096);
  for (p = xml; rc == 0 && (p = mem_find(p, end, "<Contents>")) != NULL;) {
    const char *stop = mem_find(p, end, "</Contents>");
    if (stop == NULL) {
      rc = RR_EINVAL;
      break;
    }
    if (!xml_find(&c, &cl, p, stop, "Key")) {
      rc = RR_EINVAL;
      break;
    }
    rr_buf_clear(&key);
    rc = xml_text(&key, c, cl);
    if (rc == 0)
      rc = rr_backup_keys_add(keys, key.ptr != NULL ? key.ptr : "", key.len);
    p = stop;
  }
  rr_buf_dispose(&key);
  if (rc != 0)
    return rr_fail(err, errsize, rc == RR_ENOMEM ? rc : RR_EINVAL, "the object store's list answer is malformed");
  if (xml_find(&c, &cl, xml, end, "IsTruncated") && cl == 4 && memcmp(c, "true", 4) == 0) {
    *truncated = true;
    rr_buf_clear(token);
    if (!xml_find(&c, &cl, xml, end, "NextContinuationToken") || cl == 0 || xml_text(token, c, cl) != 0)
      return rr_fail(err, errsize, RR_EINVAL, "the object store's list answer is truncated without a continuation token");
  }
  return 0;
}

void rr_backup_s3_error_sentence(char *out, size_t size, const char *xml, size_t len)
{
  const char *end = xml + len, *c, *m;
  size_t cl = 0, ml = 0;
  rr_buf b;

  out[0] = '\0';
  if (xml == NULL || len == 0)
    return;
  rr_buf_init(&b, 600);
  if (xml_find(&c, &cl, xml, end, "Code") && cl > 0 && xml_text(&b, c, cl > 100 ? 100 : cl) == 0) {
    if (xml_find(&m, &ml, xml, end, "Message") && ml > 0) {
      rr_buf_puts(&b, ": ");
      if (xml_text(&b, m, ml > 400 ? 400 : ml) != 0)
        rr_buf_puts(&b, "?");
    }
  }
  if (b.ptr != NULL) {
    size_t i;
    for (i = 0; i < b.len; i++)
      if ((unsigned char)b.ptr[i] < 0x20)
        b.ptr[i] = ' ';
    rr_str_copy(out, size, b.ptr);
  }
  rr_buf_dispose(&b);
}

/* A failed answer as a sentence (status, then the service's code and message). */
static int answer_error(const rr_backup_http_response *r, const char *what, char *err, size_t errsize)
{
  char why[512];

  rr_backup_s3_error_sentence(why, sizeof(why), r->body.ptr, r->body.len);
  if (r->status == 403 && why[0] == '\0')
    rr_str_copy(why, sizeof(why), "access denied: check AccessKeyId, the secret and the bucket's policy");
  return rr_fail(err, errsize, RR_EUPSTREAM, "S3 %s answered HTTP %ld%s%s%s", what, r->status,
                 why[0] != '\0' ? " (" : "", why, why[0] != '\0' ? ")" : "");
}

static int object_url(rr_buf *url, const s3_target *s, const char *key)
{
  int rc = rr_buf_puts(url, s->base_url);
  if (rc == 0)
    rc = rr_buf_putc(url, '/');
  if (rc == 0)
    rc = rr_backup_s3_uri_encode(url, s->prefix, true);
  if (rc == 0)
    rc = rr_backup_s3_uri_encode(url, key, true);
  return rc;
}

/* One signed request: method on url, body, SHA-256 of the body in the header. */
static int s3_send(s3_target *s, rr_backup_http_response *resp, const char *method, const char *url, const void *body,
                   size_t len, size_t max_response, char *err, size_t errsize)
{
  char hash[65], hash_header[100];
  const char *headers[2];
  rr_backup_http_request req;
  int rc;

  if ((rc = rr_sha256_hex(hash, body != NULL ? body : "", len)) != 0)
    return rr_fail(err, errsize, rc, "could not hash the request body");
  snprintf(hash_header, sizeof(hash_header), "x-amz-content-sha256: %s", hash);
  headers[0] = hash_header;
  headers[1] = "Content-Type: application/octet-stream";
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.header_count = body != NULL ? 2 : 1;
  req.body = body;
  req.body_len = len;
  req.sigv4 = s->sigv4;
  req.user = s->access_key_id;
  req.password = s->secret;
  req.ca_bundle = s->ca_bundle;
  req.timeout_seconds = s->timeout_seconds;
  req.max_response = max_response;
  rc = rr_backup_http_send(s->curl, resp, &req, err, errsize);
  if (rc != 0) {
    /* prefix the operation; the sentence holds no URL */
    char why[400];
    rr_str_copy(why, sizeof(why), err != NULL ? err : "");
    return rr_fail(err, errsize, rc, "S3 %s: %s", method, why);
  }
  return 0;
}

/* One signed request on the object `key`; *resp is initialised in every
 * case (dispose it). */
static int object_send(s3_target *s, rr_backup_http_response *resp, const char *method, const char *key,
                       const void *body, size_t len, size_t max_response, char *err, size_t errsize)
{
  rr_buf url;
  int rc;

  memset(resp, 0, sizeof(*resp));
  rr_buf_init(&url, 8192);
  if ((rc = object_url(&url, s, key)) != 0)
    rc = rr_fail(err, errsize, rc, "the object URL is too long");
  else
    rc = s3_send(s, resp, method, url.ptr, body, len, max_response, err, errsize);
  rr_buf_dispose(&url);
  return rc;
}

static int s3_put(rr_backup_target *t, const char *key, const void *data, size_t len, char *err, size_t errsize)
{
  rr_backup_http_response r;
  int rc = object_send((s3_target *)t, &r, "PUT", key, data != NULL ? data : "", len, ERROR_ANSWER_MAX, err, errsize);

  if (rc == 0 && (r.status < 200 || r.status > 299))
    rc = answer_error(&r, "PUT", err, errsize);
  rr_backup_http_response_dispose(&r);
  return rc;
}

static int s3_get(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize)
{
  rr_backup_http_response r;
  int rc = object_send((s3_target *)t, &r, "GET", key, NULL, 0, out->max - out->len > 0 ? out->max - out->len : 1, err,
                       errsize);

  if (rc == 0 && r.status == 404)
    rc = rr_fail(err, errsize, RR_ENOTFOUND, "the object store has no such object");
  else if (rc == 0 && r.status != 200)
    rc = answer_error(&r, "GET", err, errsize);
  else if (rc == 0 && (rc = rr_buf_append(out, r.body.ptr != NULL ? r.body.ptr : "", r.body.len)) != 0)
    rc = rr_fail(err, errsize, rc, "the object is larger than the buffer allows");
  rr_backup_http_response_dispose(&r);
  return rc;
}

static int s3_exists(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize)
{
  rr_backup_http_response r;
  int rc = object_send((s3_target *)t, &r, "HEAD", key, NULL, 0, ERROR_ANSWER_MAX, err, errsize);

  if (rc == 0 && r.status == 200)
    *out = true;
  else if (rc == 0 && r.status == 404)
    *out = false;
  else if (rc == 0)
    rc = answer_error(&r, "HEAD", err, errsize);
  rr_backup_http_response_dispose(&r);
  return rc;
}

/* The list URL with its query already in SigV4's canonical form (names
 * sorted, values encoded): libcurl 7.88 signs the query as it is sent. */
static int list_url(rr_buf *url, const s3_target *s, const char *prefix, const rr_buf *token)
{
  int rc = rr_buf_puts(url, s->base_url);
  if (rc == 0)
    rc = rr_buf_puts(url, s->path_style ? "?" : "/?");
  if (rc == 0 && token->len > 0) {
    rc = rr_buf_puts(url, "continuation-token=");
    if (rc == 0)
      rc = rr_backup_s3_uri_encode(url, token->ptr, false);
    if (rc == 0)
      rc = rr_buf_putc(url, '&');
  }
  if (rc == 0)
    rc = rr_buf_puts(url, "list-type=2&prefix=");
  if (rc == 0)
    rc = rr_backup_s3_uri_encode(url, s->prefix, false);
  if (rc == 0)
    rc = rr_backup_s3_uri_encode(url, prefix, false);
  return rc;
}

static int s3_list(rr_backup_target *t, rr_backup_keys *keys, const char *prefix, char *err, size_t errsize)
{
  s3_target *s = (s3_target *)t;
  rr_backup_keys *page = NULL;
  rr_buf url, token;
  size_t pages = 0, plen = strlen(s->prefix), i;
  bool more = true;
  int rc = 0;

  rr_buf_init(&url, 16384);
  rr_buf_init(&token, 4096);
  while (rc == 0 && more) {
    rr_backup_http_response r;
    if (++pages > LIST_PAGES_MAX) {
      rc = rr_fail(err, errsize, RR_EUPSTREAM, "S3 list: more than %d pages", LIST_PAGES_MAX);
      break;
    }
    rr_buf_clear(&url);
    if ((rc = list_url(&url, s, prefix, &token)) != 0) {
      rc = rr_fail(err, errsize, rc, "the list URL is too long");
      break;
    }
    if ((rc = s3_send(s, &r, "GET", url.ptr, NULL, 0, LIST_ANSWER_MAX, err, errsize)) != 0) {
      rr_backup_http_response_dispose(&r);
      break;
    }
    if (r.status != 200) {
      rc = answer_error(&r, "list", err, errsize);
    } else if ((rc = rr_backup_keys_new(&page)) == 0) {
      rc = rr_backup_s3_parse_list(page, &more, &token, r.body.ptr, r.body.len, err, errsize);
      for (i = 0; rc == 0 && i < page->count; i++)
        if (strncmp(page->items[i], s->prefix, plen) == 0)
          rc = rr_backup_keys_add(keys, page->items[i] + plen, strlen(page->items[i] + plen));
      rr_backup_keys_free(page);
      page = NULL;
    }
    rr_backup_http_response_dispose(&r);
  }
  rr_buf_dispose(&url);
  rr_buf_dispose(&token);
  return rc;
}

static void s3_free(rr_backup_target *t)
{
  s3_target *s = (s3_target *)t;

  if (s->curl != NULL)
    curl_easy_cleanup(s->curl);
  if (s->secret != NULL) {
    OPENSSL_cleanse(s->secret, strlen(s->secret));
    free(s->secret);
  }
  free(s->base_url);
  free(s->prefix);
  free(s->sigv4);
  free(s->access_key_id);
  free(s->ca_bundle);
  free(s);
}

static const rr_backup_target_ops s3_ops = {"s3", s3_put, s3_get, s3_list, s3_exists, s3_free};

static char *dup_or_empty(const char *s)
{
  return strdup(s != NULL ? s : "");
}

static bool bucket_valid(const char *b, bool virtual_host)
{
  size_t n = strlen(b), i;
  if (n < 3 || n > 63)
    return false;
  for (i = 0; i < n; i++) {
    char c = b[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          (!virtual_host && (c == '_' || (c >= 'A' && c <= 'Z')))))
      return false;
  }
  return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

/* Parse the endpoint and build base_url; 0 or RR_EINVAL with a sentence. */
static int build_base(s3_target *s, const rr_backup_s3_options *o, char *err, size_t errsize)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
  char buf[1024];
  int rc = RR_EINVAL, n;

  if (u == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (curl_url_set(u, CURLUPART_URL, o->endpoint, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.Endpoint is not a URL such as https://s3.eu-west-1.amazonaws.com");
    goto out;
  }
  curl_url_get(u, CURLUPART_PORT, &port, 0);
  curl_url_get(u, CURLUPART_PATH, &path, 0);
  curl_url_get(u, CURLUPART_QUERY, &query, 0);
  if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) || (path != NULL && strcmp(path, "/") != 0 &&
                                                                         path[0] != '\0') || query != NULL) {
    rr_fail(err, errsize, RR_EINVAL,
            "ReadingRoom.Backup.S3.Endpoint must be http(s)://host[:port] without a path or query");
    goto out;
  }
  if (s->path_style)
    n = snprintf(buf, sizeof(buf), "%s://%s%s%s/%s", scheme, host, port ? ":" : "", port ? port : "", o->bucket);
  else
    n = snprintf(buf, sizeof(buf), "%s://%s.%s%s%s", scheme, o->bucket, host, port ? ":" : "", port ? port : "");
  if (n < 0 || (size_t)n >= sizeof(buf)) {
    rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.Endpoint is too long");
    goto out;
  }
  if ((s->base_url = strdup(buf)) == NULL) {
    rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    rc = RR_ENOMEM;
    goto out;
  }
  rc = 0;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_free(path);
  curl_free(query);
  curl_url_cleanup(u);
  return rc;
}

/* Check the options that need no parsing; the secret is resolved here. */
static int check_options(const rr_backup_s3_options *o, const char **secret, char *err, size_t errsize)
{
  if (o == NULL || o->endpoint == NULL || o->endpoint[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.Endpoint is required");
  if (o->bucket == NULL || !bucket_valid(o->bucket, !o->path_style))
    return rr_fail(err, errsize, RR_EINVAL,
                   "ReadingRoom.Backup.S3.Bucket must be a bucket name of 3 to 63 lowercase letters, digits, '-' or "
                   "'.' (set PathStyle for other names)");
  if (o->access_key_id == NULL || o->access_key_id[0] == '\0' || strpbrk(o->access_key_id, ":/\r\n ") != NULL)
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.AccessKeyId is required");
  *secret = o->secret_access_key;
  if ((*secret == NULL || (*secret)[0] == '\0') && o->secret_access_key_env != NULL &&
      o->secret_access_key_env[0] != '\0') {
    *secret = getenv(o->secret_access_key_env);
    if (*secret == NULL || (*secret)[0] == '\0')
      return rr_fail(err, errsize, RR_EINVAL,
                     "the environment variable %s named by ReadingRoom.Backup.S3.SecretAccessKeyEnvironmentVariable "
                     "is not set",
                     o->secret_access_key_env);
  }
  if (*secret == NULL || (*secret)[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL,
                   "ReadingRoom.Backup.S3 needs SecretAccessKey or SecretAccessKeyEnvironmentVariable");
  if (o->region != NULL && (strlen(o->region) > 60 || strpbrk(o->region, ":/\r\n ") != NULL))
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.Region is not a region name");
  if (o->prefix != NULL && o->prefix[0] != '\0' &&
      (strlen(o->prefix) > 200 || strspn(o->prefix, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/") !=
                                      strlen(o->prefix) || o->prefix[0] == '/'))
    return rr_fail(err, errsize, RR_EINVAL,
                   "ReadingRoom.Backup.S3.Prefix may hold A-Z a-z 0-9 . _ - / only and must not start with '/'");
  if (o->timeout_seconds < 0 || o->timeout_seconds > 86400)
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.S3.TimeoutSeconds must be 0 to 86400");
  return 0;
}

int rr_backup_s3_new(rr_backup_target **out, const rr_backup_s3_options *o, char *err, size_t errsize)
{
  const char *secret = NULL;
  char sigv4[100];
  s3_target *s;
  int rc;

  *out = NULL;
  if ((rc = check_options(o, &secret, err, errsize)) != 0)
    return rc;
  if ((rc = rr_backup_http_global_init(err, errsize)) != 0)
    return rc;
  if ((s = calloc(1, sizeof(*s))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  s->base.ops = &s3_ops;
  s->path_style = o->path_style;
  s->timeout_seconds = o->timeout_seconds > 0 ? o->timeout_seconds : 60;
  snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", o->region != NULL && o->region[0] != '\0' ? o->region : "us-east-1");
  if ((rc = build_base(s, o, err, errsize)) != 0) {
    s3_free(&s->base);
    return rc;
  }
  s->prefix = dup_or_empty(o->prefix);
  s->sigv4 = strdup(sigv4);
  s->access_key_id = strdup(o->access_key_id);
  s->secret = strdup(secret);
  s->ca_bundle = o->ca_bundle != NULL && o->ca_bundle[0] != '\0' ? strdup(o->ca_bundle) : NULL;
  s->curl = curl_easy_init();
  if (s->prefix == NULL || s->sigv4 == NULL || s->access_key_id == NULL || s->secret == NULL || s->curl == NULL ||
      (o->ca_bundle != NULL && o->ca_bundle[0] != '\0' && s->ca_bundle == NULL)) {
    s3_free(&s->base);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  *out = &s->base;
  return 0;
}
