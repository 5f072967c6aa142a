#include "web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/embedded.h"
#include "util/errors.h"
#include "util/str.h"

#define MAX_DISK_FILE (64u * 1024u * 1024u)

static OrthancPluginContext *web_ctx;
static char web_root[RR_ROOT_SIZE];
static char webapp_directory[RR_PATH_SIZE];
static bool web_hsts;

static const char CSP[] =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
  "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
  "object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

const char *rr_web_mime_type(const char *path)
{
  static const struct {
    const char *ext, *mime;
  } types[] = {
    {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
    {".json", "application/json"}, {".map", "application/json"}, {".wasm", "application/wasm"},
    {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"}, {".ico", "image/x-icon"},
    {".woff2", "font/woff2"}, {".woff", "font/woff"}, {".ttf", "font/ttf"}, {".txt", "text/plain; charset=utf-8"},
  };
  size_t i;

  for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
    if (rr_str_ends_with(path, types[i].ext))
      return types[i].mime;
  return "application/octet-stream";
}

int rr_web_path_ok(const char *path)
{
  const char *p;

  if (path[0] == '/' || strstr(path, "//") != NULL || strchr(path, '\\') != NULL)
    return 0;
  for (p = path; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return 0;
  /* no ".." segment */
  for (p = path; p != NULL; p = strchr(p, '/')) {
    if (*p == '/')
      p++;
    if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
      return 0;
  }
  return 1;
}

static void send_not_found(OrthancPluginRestOutput *out)
{
  static const char body[] = "Not found\n";
  OrthancPluginSetHttpHeader(web_ctx, out, "Content-Type", "text/plain; charset=utf-8");
  if (web_hsts)
    OrthancPluginSetHttpHeader(web_ctx, out, "Strict-Transport-Security", "max-age=31536000");
  OrthancPluginSendHttpStatus(web_ctx, out, 404, body, sizeof(body) - 1);
}

static void send_file(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const char *path,
                      const void *data, size_t size, const char *etag)
{
  const char *inm = NULL;
  uint32_t i;

  for (i = 0; i < req->headersCount; i++)
    if (rr_str_ieq(req->headersKeys[i], "if-none-match"))
      inm = req->headersValues[i];
  OrthancPluginSetHttpHeader(web_ctx, out, "ETag", etag);
  OrthancPluginSetHttpHeader(web_ctx, out, "Cache-Control", rr_str_starts_with(path, "assets/")
                                                                ? "public, max-age=31536000, immutable"
                                                                : "no-cache");
  OrthancPluginSetHttpHeader(web_ctx, out, "X-Content-Type-Options", "nosniff");
  OrthancPluginSetHttpHeader(web_ctx, out, "Referrer-Policy", "no-referrer");
  OrthancPluginSetHttpHeader(web_ctx, out, "X-Frame-Options", "DENY");
  if (web_hsts)
    OrthancPluginSetHttpHeader(web_ctx, out, "Strict-Transport-Security", "max-age=31536000");
  if (rr_str_ends_with(path, ".html"))
    OrthancPluginSetHttpHeader(web_ctx, out, "Content-Security-Policy", CSP);
  if (inm != NULL && strstr(inm, etag) != NULL) {
    OrthancPluginSendHttpStatusCode(web_ctx, out, 304);
    return;
  }
  OrthancPluginAnswerBuffer(web_ctx, out, data, (uint32_t)size, rr_web_mime_type(path));
}

/* Development mode: read the file from WebAppDirectory. */
static void serve_from_disk(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const char *path)
{
  char full[RR_PATH_SIZE + 256], etag[64];
  struct stat st;
  rr_buf content;
  FILE *f = NULL;
  char chunk[65536];
  size_t n;

  rr_buf_init(&content, MAX_DISK_FILE);
  if (snprintf(full, sizeof(full), "%s/%s", webapp_directory, path) >= (int)sizeof(full) ||
      stat(full, &st) != 0 || !S_ISREG(st.st_mode) || (f = fopen(full, "rb")) == NULL) {
    send_not_found(out);
    goto out;
  }
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    if (rr_buf_append(&content, chunk, n) < 0) {
      send_not_found(out);
      goto out;
    }
  }
  snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_mtime, (unsigned long long)st.st_size);
  send_file(out, req, path, content.ptr ? content.ptr : "", content.len, etag);
out:
  if (f != NULL)
    fclose(f);
  rr_buf_dispose(&content);
}

static OrthancPluginErrorCode on_asset(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  const char *path = req->groupsCount > 0 ? req->groups[0] : "";
  const rr_embedded_file *f;

  (void)url;
  if (req->method != OrthancPluginHttpMethod_Get) {
    OrthancPluginSendMethodNotAllowed(web_ctx, out, "GET");
    return OrthancPluginErrorCode_Success;
  }
  if (path[0] == '\0')
    path = "index.html";
  if (!rr_web_path_ok(path)) {
    send_not_found(out);
    return OrthancPluginErrorCode_Success;
  }
  if (webapp_directory[0] != '\0') {
    serve_from_disk(out, req, path);
    return OrthancPluginErrorCode_Success;
  }
  f = rr_embedded_find(rr_webapp_files, rr_webapp_count, path);
  if (f == NULL) {
    send_not_found(out);
    return OrthancPluginErrorCode_Success;
  }
  send_file(out, req, path, f->data, f->size, f->etag);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_root_without_slash(OrthancPluginRestOutput *out, const char *url,
                                                    const OrthancPluginHttpRequest *req)
{
  char target[RR_ROOT_SIZE + 16];

  (void)url;
  (void)req;
  /* Orthanc strips the trailing '/' before matching, so "/reading-room" and
   * "/reading-room/" both land here: send the browser to a URL whose base
   * makes the app's relative asset paths resolve. */
  snprintf(target, sizeof(target), "%sindex.html", web_root);
  OrthancPluginRedirect(web_ctx, out, target);
  return OrthancPluginErrorCode_Success;
}

int rr_web_register(OrthancPluginContext *ctx, const rr_web_options *opts)
{
  char root[RR_ROOT_SIZE * 2], regex[RR_ROOT_SIZE * 2 + 32];
  const char *dir = opts->webapp_directory ? opts->webapp_directory : "";
  int error;

  if (strlen(opts->web_root) >= sizeof(web_root) || strlen(dir) >= sizeof(webapp_directory))
    return RR_EFULL;
  web_ctx = ctx;
  web_hsts = opts->hsts;
  rr_str_copy(web_root, sizeof(web_root), opts->web_root);
  rr_str_copy(webapp_directory, sizeof(webapp_directory), dir);
  if ((error = rr_root_regex(root, sizeof(root), web_root)) < 0)
    return error;
  OrthancPluginRegisterRestCallbackNoLock(ctx, root, on_root_without_slash);
  snprintf(regex, sizeof(regex), "%s/(.*)", root);
  OrthancPluginRegisterRestCallbackNoLock(ctx, regex, on_asset);
  return 0;
}

int rr_web_explorer_script(rr_buf *out, const char *js, const char *root)
{
  static const char placeholder[] = "READING_ROOM_WEB_ROOT";
  const char *hit;
  int error;

  rr_buf_init(out, strlen(js) + 4096);
  while ((hit = strstr(js, placeholder)) != NULL) {
    /* the root is '/'-prefixed: make it relative to /app/explorer.html */
    if ((error = rr_buf_append(out, js, (size_t)(hit - js))) < 0 || (error = rr_buf_puts(out, "..")) < 0 ||
        (error = rr_buf_puts(out, root)) < 0)
      return error;
    js = hit + sizeof(placeholder) - 1;
  }
  return rr_buf_puts(out, js);
}
