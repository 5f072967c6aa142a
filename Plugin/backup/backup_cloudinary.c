/*
 * backup_cloudinary.c - the Cloudinary target (contract in
 * backup_cloudinary.h): signed uploads, Admin API look-ups, signed downloads.
 */
#include "backup_cloudinary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../util/errors.h"
#include "../util/json.h"
#include "../util/str.h"
#include "backup_http.h"

#define ANSWER_MAX (16 * 1024 * 1024)
#define LIST_PAGES_MAX 100000

typedef struct cld_target {
  rr_backup_target base;
  CURL *curl;
  char *api_base; /* without trailing '/' */
  char *cloud;
  char *api_key;
  char *secret;
  char *folder; /* "" or "name/" */
  bool sha256;
  char *ca_bundle;
  int timeout_seconds;
} cld_target;

/* Parameters Cloudinary leaves out of the signature. */
static bool unsigned_param(const char *name)
{
  return strcmp(name, "file") == 0 || strcmp(name, "api_key") == 0 || strcmp(name, "resource_type") == 0 ||
         strcmp(name, "cloud_name") == 0 || strcmp(name, "signature") == 0;
}

int rr_backup_cloudinary_sign(char *out, size_t outsize, const char *const *names, const char *const *values,
                              size_t n, const char *api_secret, bool sha256)
{
  size_t order[32], i, j;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  rr_buf text;
  int rc = 0;

  if (n > 32 || out == NULL || outsize < (sha256 ? 65u : 41u) || api_secret == NULL)
    return RR_EINVAL;
  for (i = 0; i < n; i++)
    order[i] = i;
  for (i = 1; i < n; i++) /* insertion sort by name */
    for (j = i; j > 0 && strcmp(names[order[j - 1]], names[order[j]]) > 0; j--) {
      size_t t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  rr_buf_init(&text, 64 * 1024);
  for (i = 0; i < n && rc == 0; i++) {
    const char *name = names[order[i]], *value = values[order[i]];
    if (unsigned_param(name) || value == NULL || value[0] == '\0')
      continue;
    rc = rr_buf_printf(&text, "%s%s=%s", text.len > 0 ? "&" : "", name, value);
  }
  if (rc == 0)
    rc = rr_buf_puts(&text, api_secret);
  if (rc == 0 && EVP_Digest(text.ptr, text.len, md, &mdlen, sha256 ? EVP_sha256() : EVP_sha1(), NULL) != 1)
    rc = RR_ERROR;
  if (rc == 0)
    rr_hex_encode(out, md, mdlen);
  if (text.ptr != NULL)
    OPENSSL_cleanse(text.ptr, text.len);
  rr_buf_dispose(&text);
  return rc;
}

/* A failed answer as a sentence: HTTP status and Cloudinary's error message. */
static int answer_error(const rr_backup_http_response *r, const char *what, char *err, size_t errsize)
{
  json_object *j = NULL, *e;
  const char *msg = NULL;
  char why[300] = "";

  if (r->body.len > 0 && r->body.len < 65536)
    j = json_tokener_parse(r->body.ptr);
  if (j != NULL && (e = rr_json_obj(j, "error")) != NULL)
    msg = rr_json_str(e, "message");
  if (msg != NULL) {
    size_t i;
    rr_str_copy(why, sizeof(why), msg);
    for (i = 0; why[i] != '\0'; i++)
      if ((unsigned char)why[i] < 0x20)
        why[i] = ' ';
  }
  json_object_put(j);
  if (r->status == 401 && why[0] == '\0')
    rr_str_copy(why, sizeof(why), "check ApiKey and the secret");
  return rr_fail(err, errsize, RR_EUPSTREAM, "Cloudinary %s answered HTTP %ld%s%s%s", what, r->status,
                 why[0] != '\0' ? " (" : "", why, why[0] != '\0' ? ")" : "");
}

static int cld_send(cld_target *c, rr_backup_http_response *r, const char *what, const char *method, const char *url,
                    const char *content_type, const void *body, size_t len, bool basic, char *err, size_t errsize)
{
  rr_backup_http_request req;
  const char *headers[1];
  int rc;

  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  if (content_type != NULL) {
    headers[0] = content_type;
    req.headers = headers;
    req.header_count = 1;
  }
  req.body = body;
  req.body_len = len;
  req.basic_auth = basic;
  req.user = c->api_key;
  req.password = c->secret;
  req.ca_bundle = c->ca_bundle;
  req.timeout_seconds = c->timeout_seconds;
  req.max_response = ANSWER_MAX;
  rc = rr_backup_http_send(c->curl, r, &req, err, errsize);
  if (rc != 0) {
    char why[400];
    rr_str_copy(why, sizeof(why), err != NULL ? err : "");
    return rr_fail(err, errsize, rc, "Cloudinary %s: %s", what, why);
  }
  return 0;
}

static bool contains(const void *data, size_t len, const char *needle, size_t nl)
{
  const char *p = data;
  size_t i;

  for (i = 0; i + nl <= len; i++)
    if (p[i] == needle[0] && memcmp(p + i, needle, nl) == 0)
      return true;
  return false;
}

static int multipart_field(rr_buf *b, const char *boundary, const char *name, const char *value)
{
  return rr_buf_printf(b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", boundary, name, value);
}

/* The upload form: signed fields, then the file. */
static int upload_body(rr_buf *b, char *content_type, size_t ctsize, const cld_target *c, const char *public_id,
                       const void *data, size_t len)
{
  const char *names[] = {"overwrite", "public_id", "timestamp", "type", "api_key"};
  const char *values[5];
  char ts[32], sig[65], boundary[40];
  unsigned char rnd[16];
  size_t i;
  int rc;

  snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
  values[0] = "true";
  values[1] = public_id;
  values[2] = ts;
  values[3] = "authenticated";
  values[4] = c->api_key;
  if ((rc = rr_backup_cloudinary_sign(sig, sizeof(sig), names, values, 5, c->secret, c->sha256)) != 0)
    return rc;
  do {
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
      return RR_ERROR;
    memcpy(boundary, "rrb", 3);
    rr_hex_encode(boundary + 3, rnd, sizeof(rnd));
  } while (len >= 35 && contains(data, len, boundary, 35));
  snprintf(content_type, ctsize, "Content-Type: multipart/form-data; boundary=%s", boundary);
  for (i = 0; i < 5 && rc == 0; i++)
    rc = multipart_field(b, boundary, names[i], values[i]);
  if (rc == 0)
    rc = multipart_field(b, boundary, "signature", sig);
  if (rc == 0)
    rc = rr_buf_printf(b,
                       "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"object.rrb\"\r\n"
                       "Content-Type: application/octet-stream\r\n\r\n",
                       boundary);
  if (rc == 0)
    rc = rr_buf_append(b, data, len);
  if (rc == 0)
    rc = rr_buf_printf(b, "\r\n--%s--\r\n", boundary);
  return rc;
}

static int cld_put(rr_backup_target *t, const char *key, const void *data, size_t len, char *err, size_t errsize)
{
  cld_target *c = (cld_target *)t;
  char public_id[RR_BACKUP_KEY_MAX + 256], ct[128];
  rr_backup_http_response r;
  rr_buf url, body;
  int rc;

  snprintf(public_id, sizeof(public_id), "%s%s", c->folder, key);
  rr_buf_init(&url, 4096);
  rr_buf_init(&body, len + 64 * 1024);
  rc = rr_buf_printf(&url, "%s/v1_1/%s/raw/upload", c->api_base, c->cloud);
  if (rc == 0)
    rc = upload_body(&body, ct, sizeof(ct), c, public_id, data != NULL ? data : "", len);
  if (rc != 0) {
    rr_buf_dispose(&url);
    rr_buf_dispose(&body);
    return rr_fail(err, errsize, rc, "could not build the Cloudinary upload");
  }
  rc = cld_send(c, &r, "upload", "POST", url.ptr, ct, body.ptr, body.len, false, err, errsize);
  if (rc == 0 && r.status != 200)
    rc = answer_error(&r, "upload", err, errsize);
  rr_backup_http_response_dispose(&r);
  rr_buf_dispose(&url);
  rr_buf_dispose(&body);
  return rc;
}

static int cld_get(rr_backup_target *t, rr_buf *out, const char *key, char *err, size_t errsize)
{
  cld_target *c = (cld_target *)t;
  const char *names[] = {"public_id", "timestamp", "type"};
  const char *values[3];
  char public_id[RR_BACKUP_KEY_MAX + 256], ts[32], sig[65];
  rr_backup_http_response r;
  rr_buf url;
  int rc;

  snprintf(public_id, sizeof(public_id), "%s%s", c->folder, key);
  snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
  values[0] = public_id;
  values[1] = ts;
  values[2] = "authenticated";
  if ((rc = rr_backup_cloudinary_sign(sig, sizeof(sig), names, values, 3, c->secret, c->sha256)) != 0)
    return rr_fail(err, errsize, rc, "could not sign the Cloudinary download");
  rr_buf_init(&url, 8192);
  rc = rr_buf_printf(&url, "%s/v1_1/%s/raw/download?api_key=%s&public_id=", c->api_base, c->cloud, c->api_key);
  if (rc == 0)
    rc = rr_backup_http_uri_encode(&url, public_id, false);
  if (rc == 0)
    rc = rr_buf_printf(&url, "&signature=%s&timestamp=%s&type=authenticated", sig, ts);
  if (rc != 0) {
    rr_buf_dispose(&url);
    return rr_fail(err, errsize, rc, "the download URL is too long");
  }
  rc = cld_send(c, &r, "download", "GET", url.ptr, NULL, NULL, 0, false, err, errsize);
  if (rc == 0 && r.status == 404)
    rc = rr_fail(err, errsize, RR_ENOTFOUND, "Cloudinary has no such object");
  else if (rc == 0 && r.status != 200)
    rc = answer_error(&r, "download", err, errsize);
  else if (rc == 0 && (rc = rr_buf_append(out, r.body.ptr != NULL ? r.body.ptr : "", r.body.len)) != 0)
    rc = rr_fail(err, errsize, rc, "the object is larger than the buffer allows");
  rr_backup_http_response_dispose(&r);
  rr_buf_dispose(&url);
  return rc;
}

static int cld_exists(rr_backup_target *t, bool *out, const char *key, char *err, size_t errsize)
{
  cld_target *c = (cld_target *)t;
  rr_backup_http_response r;
  rr_buf url;
  int rc;

  rr_buf_init(&url, 8192);
  rc = rr_buf_printf(&url, "%s/v1_1/%s/resources/raw/authenticated/", c->api_base, c->cloud);
  if (rc == 0)
    rc = rr_backup_http_uri_encode(&url, c->folder, true);
  if (rc == 0)
    rc = rr_backup_http_uri_encode(&url, key, true);
  if (rc != 0) {
    rr_buf_dispose(&url);
    return rr_fail(err, errsize, rc, "the resource URL is too long");
  }
  rc = cld_send(c, &r, "resource", "GET", url.ptr, NULL, NULL, 0, true, err, errsize);
  if (rc == 0 && r.status == 200)
    *out = true;
  else if (rc == 0 && r.status == 404)
    *out = false;
  else if (rc == 0)
    rc = answer_error(&r, "resource", err, errsize);
  rr_backup_http_response_dispose(&r);
  rr_buf_dispose(&url);
  return rc;
}

/* One page of the Admin API's resource list: keys appended (folder removed),
 * cursor replaced by next_cursor ("" at the end). */
static int list_page(rr_backup_keys *keys, rr_buf *cursor, const cld_target *c, const rr_backup_http_response *r,
                     char *err, size_t errsize)
{
  json_object *j = json_tokener_parse(r->body.ptr != NULL ? r->body.ptr : "");
  json_object *res = j != NULL ? rr_json_obj(j, "resources") : NULL;
  const char *next;
  size_t flen = strlen(c->folder), i, n;
  int rc = 0;

  if (res == NULL || !json_object_is_type(res, json_type_array)) {
    json_object_put(j);
    return rr_fail(err, errsize, RR_EUPSTREAM, "Cloudinary's resource list is not the expected JSON");
  }
  n = json_object_array_length(res);
  for (i = 0; i < n && rc == 0; i++) {
    const char *pid = rr_json_str(json_object_array_get_idx(res, i), "public_id");
    if (pid != NULL && strncmp(pid, c->folder, flen) == 0)
      rc = rr_backup_keys_add(keys, pid + flen, strlen(pid + flen));
  }
  rr_buf_clear(cursor);
  next = rr_json_str(j, "next_cursor");
  if (rc == 0 && next != NULL)
    rc = rr_buf_puts(cursor, next);
  json_object_put(j);
  return rc == 0 ? 0 : rr_fail(err, errsize, rc, "out of memory while listing");
}

static int cld_list(rr_backup_target *t, rr_backup_keys *keys, const char *prefix, char *err, size_t errsize)
{
  cld_target *c = (cld_target *)t;
  rr_buf url, cursor;
  size_t pages = 0;
  int rc = 0;

  rr_buf_init(&url, 16384);
  rr_buf_init(&cursor, 4096);
  do {
    rr_backup_http_response r;
    if (++pages > LIST_PAGES_MAX) {
      rc = rr_fail(err, errsize, RR_EUPSTREAM, "Cloudinary list: more than %d pages", LIST_PAGES_MAX);
      break;
    }
    rr_buf_clear(&url);
    rc = rr_buf_printf(&url, "%s/v1_1/%s/resources/raw/authenticated?max_results=500", c->api_base, c->cloud);
    if (rc == 0 && cursor.len > 0 && (rc = rr_buf_puts(&url, "&next_cursor=")) == 0)
      rc = rr_backup_http_uri_encode(&url, cursor.ptr, false);
    if (rc == 0 && (rc = rr_buf_puts(&url, "&prefix=")) == 0 && (rc = rr_backup_http_uri_encode(&url, c->folder, false)) == 0)
      rc = rr_backup_http_uri_encode(&url, prefix, false);
    if (rc != 0) {
      rc = rr_fail(err, errsize, rc, "the list URL is too long");
      break;
    }
    if ((rc = cld_send(c, &r, "list", "GET", url.ptr, NULL, NULL, 0, true, err, errsize)) != 0) {
      rr_backup_http_response_dispose(&r);
      break;
    }
    if (r.status != 200)
      rc = answer_error(&r, "list", err, errsize);
    else
      rc = list_page(keys, &cursor, c, &r, err, errsize);
    rr_backup_http_response_dispose(&r);
  } while (rc == 0 && cursor.len > 0);
  rr_buf_dispose(&url);
  rr_buf_dispose(&cursor);
  return rc;
}

static void cld_free(rr_backup_target *t)
{
  cld_target *c = (cld_target *)t;

  if (c->curl != NULL)
    curl_easy_cleanup(c->curl);
  if (c->secret != NULL) {
    OPENSSL_cleanse(c->secret, strlen(c->secret));
    free(c->secret);
  }
  free(c->api_base);
  free(c->cloud);
  free(c->api_key);
  free(c->folder);
  free(c->ca_bundle);
  free(c);
}

static const rr_backup_target_ops cld_ops = {"cloudinary", cld_put, cld_get, cld_list, cld_exists, cld_free};

static bool plain_name(const char *s)
{
  size_t n = s != NULL ? strlen(s) : 0;
  return n > 0 && n <= 200 &&
         strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int check_options(const rr_backup_cloudinary_options *o, const char **secret, char *err, size_t errsize)
{
  const char *base = o != NULL && o->api_base != NULL && o->api_base[0] != '\0' ? o->api_base : "https://api.cloudinary.com";

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no Cloudinary options");
  if (strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0)
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.Cloudinary.ApiBase must start with https:// or http://");
  if (!plain_name(o->cloud_name))
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.Cloudinary.CloudName is required (letters, digits, - and _)");
  if (!plain_name(o->api_key))
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.Cloudinary.ApiKey is required");
  if (o->folder != NULL && o->folder[0] != '\0' &&
      (!rr_backup_key_valid(o->folder) || strlen(o->folder) > 200))
    return rr_fail(err, errsize, RR_EINVAL,
                   "ReadingRoom.Backup.Cloudinary.Folder may hold A-Z a-z 0-9 . _ - / only, without a leading or "
                   "trailing '/'");
  *secret = o->api_secret;
  if ((*secret == NULL || (*secret)[0] == '\0') && o->api_secret_env != NULL && o->api_secret_env[0] != '\0') {
    *secret = getenv(o->api_secret_env);
    if (*secret == NULL || (*secret)[0] == '\0')
      return rr_fail(err, errsize, RR_EINVAL,
                     "the environment variable %s named by ReadingRoom.Backup.Cloudinary.ApiSecretEnvironmentVariable "
                     "is not set",
                     o->api_secret_env);
  }
  if (*secret == NULL || (*secret)[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL,
                   "ReadingRoom.Backup.Cloudinary needs ApiSecret or ApiSecretEnvironmentVariable");
  if (o->timeout_seconds < 0 || o->timeout_seconds > 86400)
    return rr_fail(err, errsize, RR_EINVAL, "ReadingRoom.Backup.Cloudinary.TimeoutSeconds must be 0 to 86400");
  return 0;
}

int rr_backup_cloudinary_new(rr_backup_target **out, const rr_backup_cloudinary_options *o, char *err, size_t errsize)
{
  const char *secret = NULL, *base;
  cld_target *c;
  size_t bl;
  int rc;

  *out = NULL;
  if ((rc = check_options(o, &secret, err, errsize)) != 0)
    return rc;
  if ((rc = rr_backup_http_global_init(err, errsize)) != 0)
    return rc;
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  c->base.ops = &cld_ops;
  c->sha256 = o->signature_sha256;
  c->timeout_seconds = o->timeout_seconds > 0 ? o->timeout_seconds : 60;
  base = o->api_base != NULL && o->api_base[0] != '\0' ? o->api_base : "https://api.cloudinary.com";
  bl = strlen(base);
  while (bl > 0 && base[bl - 1] == '/')
    bl--;
  c->api_base = strndup(base, bl);
  c->cloud = strdup(o->cloud_name);
  c->api_key = strdup(o->api_key);
  c->secret = strdup(secret);
  if (o->folder != NULL && o->folder[0] != '\0') {
    size_t fl = strlen(o->folder);
    if ((c->folder = malloc(fl + 2)) != NULL)
      snprintf(c->folder, fl + 2, "%s/", o->folder);
  } else {
    c->folder = strdup("");
  }
  c->ca_bundle = o->ca_bundle != NULL && o->ca_bundle[0] != '\0' ? strdup(o->ca_bundle) : NULL;
  c->curl = curl_easy_init();
  if (c->api_base == NULL || c->cloud == NULL || c->api_key == NULL || c->secret == NULL || c->folder == NULL ||
      c->curl == NULL || (o->ca_bundle != NULL && o->ca_bundle[0] != '\0' && c->ca_bundle == NULL)) {
    cld_free(&c->base);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  *out = &c->base;
  return 0;
}
