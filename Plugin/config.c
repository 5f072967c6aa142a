#include "config.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

#define SECTION "ReadingRoom"

static const char *type_name(json_type t)
{
  switch (t) {
  case json_type_null: return "null";
  case json_type_boolean: return "a boolean";
  case json_type_double: return "a number";
  case json_type_int: return "an integer";
  case json_type_object: return "an object";
  case json_type_array: return "an array";
  case json_type_string: return "a string";
  }
  return "unknown";
}

/* Overlay `user` onto `base` (both objects), checking keys and types. */
static int overlay(json_object *base, json_object *user, const char *path, char *err, size_t errsize)
{
  json_object_iter it;
  char sub[256];
  json_object *target;
  json_type bt, ut;
  int error;

  json_object_object_foreachC(user, it)
  {
    snprintf(sub, sizeof(sub), "%s.%s", path, it.key);
    if (!json_object_object_get_ex(base, it.key, &target))
      return rr_fail(err, errsize, RR_EINVAL, "%s: unknown option (check the spelling; see orthanc.json.example)", sub);
    bt = json_object_get_type(target);
    ut = json_object_get_type(it.val);
    if (bt == json_type_object) {
      if (ut != json_type_object)
        return rr_fail(err, errsize, RR_EINVAL, "%s: must be an object, not %s", sub, type_name(ut));
      if ((error = overlay(target, it.val, sub, err, errsize)) < 0)
        return error;
      continue;
    }
    if (bt == json_type_double && ut == json_type_int) {
      json_object_object_add(base, it.key, json_object_new_double((double)json_object_get_int64(it.val)));
      continue;
    }
    if (bt != ut && !(bt == json_type_int && ut == json_type_double))
      return rr_fail(err, errsize, RR_EINVAL, "%s: must be %s, not %s", sub, type_name(bt), type_name(ut));
    if (bt == json_type_int && ut == json_type_double) {
      double d = json_object_get_double(it.val);
      if (d != (double)(long long)d)
        return rr_fail(err, errsize, RR_EINVAL, "%s: must be an integer", sub);
    }
    json_object_object_add(base, it.key, json_object_get(it.val));
  }
  return 0;
}

static json_object *get_path(json_object *root, const char *a, const char *b, const char *c)
{
  json_object *o = root;

  if (a && !json_object_object_get_ex(o, a, &o))
    return NULL;
  if (b && !json_object_object_get_ex(o, b, &o))
    return NULL;
  if (c && !json_object_object_get_ex(o, c, &o))
    return NULL;
  return o;
}

static int get_uint(unsigned *out, json_object *root, const char *name, const char *a, const char *b, const char *c,
                    long long min, long long max, char *err, size_t errsize)
{
  json_object *o = get_path(root, a, b, c);
  long long v;

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: missing from the defaults", name);
  v = (long long)json_object_get_double(o);
  if (json_object_get_type(o) == json_type_int)
    v = json_object_get_int64(o);
  if (v < min || v > max)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: must be between %lld and %lld (got %lld)", name, min, max, v);
  *out = (unsigned)v;
  return 0;
}

static int get_string(char *out, size_t size, json_object *root, const char *name, const char *a, const char *b,
                      const char *c, char *err, size_t errsize)
{
  json_object *o = get_path(root, a, b, c);
  const char *s;

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: missing from the defaults", name);
  s = json_object_get_string(o);
  if (strlen(s) >= size)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: too long (at most %zu characters)", name, size - 1);
  rr_str_copy(out, size, s);
  return 0;
}

static int get_double(double *out, json_object *root, const char *name, const char *a, const char *b, double min,
                      double max, char *err, size_t errsize)
{
  json_object *o = get_path(root, a, b, NULL);
  double v;

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: missing from the defaults", name);
  v = json_object_get_double(o);
  if (!(v >= min && v <= max))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: must be between %g and %g (got %g)", name, min, max, v);
  *out = v;
  return 0;
}

static bool get_bool(json_object *root, const char *a, const char *b, const char *c, bool dflt)
{
  json_object *o = get_path(root, a, b, c);
  return o ? json_object_get_boolean(o) : dflt;
}

/* An array of short strings into rows of `width` bytes; `upper` folds ASCII
 * to upper case (modalities), otherwise to lower case (description words). */
static int get_words(char *rows, size_t width, unsigned *count, json_object *root, const char *name, const char *a,
                     const char *b, const char *c, bool upper, char *err, size_t errsize)
{
  json_object *arr = get_path(root, a, b, c), *item;
  size_t i, j, n;
  const char *v;

  *count = 0;
  if (arr == NULL || !json_object_is_type(arr, json_type_array))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: must be an array of strings", name);
  n = json_object_array_length(arr);
  if (n > RR_AI_AUTO_RULES_MAX)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: at most %d entries", name, RR_AI_AUTO_RULES_MAX);
  for (i = 0; i < n; i++) {
    item = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(item, json_type_string))
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s[%zu]: must be a string", name, i);
    v = json_object_get_string(item);
    if (v[0] == '\0' || strlen(v) >= width)
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s[%zu]: must have 1 to %zu characters", name, i, width - 1);
    for (j = 0; v[j] != '\0'; j++) {
      char ch = v[j];
      if (upper && ch >= 'a' && ch <= 'z')
        ch = (char)(ch - 'a' + 'A');
      else if (!upper && ch >= 'A' && ch <= 'Z')
        ch = (char)(ch - 'A' + 'a');
      rows[i * width + j] = ch;
    }
    rows[i * width + j] = '\0';
  }
  *count = (unsigned)n;
  return 0;
}

static int check_root(const char *root, const char *name, char *err, size_t errsize)
{
  size_t i, len = strlen(root);

  if (len < 3 || root[0] != '/' || root[len - 1] != '/')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: must start and end with '/' and name a path, like \"/reading-room/\" (got \"%s\")",
                name, root);
  for (i = 0; i < len; i++) {
    char ch = root[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '/' ||
          ch == '-' || ch == '_' || ch == '.'))
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: only letters, digits, '-', '_', '.' and '/' are allowed (got \"%s\")", name, root);
    if (ch == '/' && i + 1 < len && root[i + 1] == '/')
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: empty path segment in \"%s\"", name, root);
  }
  return 0;
}

static int resolve_path(char *out, size_t size, const char *dir, const char *path, const char *name, char *err, size_t errsize)
{
  int n;

  if (path[0] == '/' || dir == NULL || dir[0] == '\0')
    n = snprintf(out, size, "%s", path);
  else
    n = snprintf(out, size, "%s/%s", dir, path);
  if (n < 0 || (size_t)n >= size)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: path too long", name);
  return 0;
}

#define GEMINI_BASE_URL "https://generativelanguage.googleapis.com"

static int parse_ai(rr_config *out, json_object *base, const char *config_dir, char *err, size_t errsize)
{
  char tmp[RR_PATH_SIZE];
  size_t len;
  int error;

  if ((error = get_string(out->ai_provider, sizeof(out->ai_provider), base, "AI.Provider", "AI", "Provider", NULL, err, errsize)) < 0 ||
      (error = get_string(out->ai_base_url, sizeof(out->ai_base_url), base, "AI.BaseUrl", "AI", "BaseUrl", NULL, err, errsize)) < 0 ||
      (error = get_string(out->ai_api_version, sizeof(out->ai_api_version), base, "AI.ApiVersion", "AI", "ApiVersion", NULL, err, errsize)) < 0 ||
      (error = get_string(out->ai_model, sizeof(out->ai_model), base, "AI.Model", "AI", "Model", NULL, err, errsize)) < 0 ||
      (error = get_string(out->ai_api_key, sizeof(out->ai_api_key), base, "AI.ApiKey", "AI", "ApiKey", NULL, err, errsize)) < 0 ||
      (error = get_string(out->ai_api_key_env, sizeof(out->ai_api_key_env), base, "AI.ApiKeyEnvironmentVariable", "AI",
                          "ApiKeyEnvironmentVariable", NULL, err, errsize)) < 0 ||
      (error = get_string(tmp, sizeof(tmp), base, "AI.CaFile", "AI", "CaFile", NULL, err, errsize)) < 0 ||
      (tmp[0] && (error = resolve_path(out->ai_ca_file, sizeof(out->ai_ca_file), config_dir, tmp, "AI.CaFile", err, errsize)) < 0) ||
      (error = get_uint(&out->ai_concurrency, base, "AI.Concurrency", "AI", "Concurrency", NULL, 1, 16, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_queued, base, "AI.MaxQueuedAnalyses", "AI", "MaxQueuedAnalyses", NULL, 1, 100000, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_images_per_series, base, "AI.ImagesPerSeries", "AI", "ImagesPerSeries", NULL, 1, 64, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_images, base, "AI.MaxImages", "AI", "MaxImages", NULL, 1, 256, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_image_max_side, base, "AI.ImageMaxSide", "AI", "ImageMaxSide", NULL, 128, 2048, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_request_mb, base, "AI.MaxRequestMegabytes", "AI", "MaxRequestMegabytes", NULL, 1, 19, err, errsize)) < 0 ||
      (error = get_double(&out->ai_temperature, base, "AI.Temperature", "AI", "Temperature", 0, 2, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_output_tokens, base, "AI.MaxOutputTokens", "AI", "MaxOutputTokens", NULL, 256, 65536, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_connect_timeout_s, base, "AI.ConnectTimeoutSeconds", "AI", "ConnectTimeoutSeconds", NULL, 1, 120, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_timeout_s, base, "AI.TimeoutSeconds", "AI", "TimeoutSeconds", NULL, 1, 3600, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_attempts, base, "AI.MaxAttempts", "AI", "MaxAttempts", NULL, 1, 10, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_retry_wait_s, base, "AI.MaxRetryWaitSeconds", "AI", "MaxRetryWaitSeconds", NULL, 0, 3600, err, errsize)) < 0 ||
      (error = get_uint(&out->ai_max_response_mb, base, "AI.MaxResponseMegabytes", "AI", "MaxResponseMegabytes", NULL, 1, 64, err, errsize)) < 0 ||
      (error = get_double(&out->ai_price_input, base, "AI.PricePerMillionInputTokens", "AI", "PricePerMillionInputTokens", 0, 10000, err, errsize)) < 0 ||
      (error = get_double(&out->ai_price_output, base, "AI.PricePerMillionOutputTokens", "AI", "PricePerMillionOutputTokens", 0, 10000, err, errsize)) < 0 ||
      (error = get_words(&out->ai_auto_modalities[0][0], sizeof(out->ai_auto_modalities[0]), &out->ai_auto_modality_count, base,
                         "AI.AutoAnalyze.Modalities", "AI", "AutoAnalyze", "Modalities", true, err, errsize)) < 0 ||
      (error = get_words(&out->ai_auto_descriptions[0][0], sizeof(out->ai_auto_descriptions[0]), &out->ai_auto_description_count,
                         base, "AI.AutoAnalyze.DescriptionContains", "AI", "AutoAnalyze", "DescriptionContains", false, err, errsize)) < 0)
    return error;
  out->ai_allow_cloud = get_bool(base, "AI", "AllowCloud", NULL, false);
  out->ai_auto_enable = get_bool(base, "AI", "AutoAnalyze", "Enable", false);

  if (out->ai_provider[0] == '\0') {
    if (out->ai_auto_enable)
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.AutoAnalyze.Enable: needs an AI provider (AI.Provider)");
    return 0;
  }
  if (strcmp(out->ai_provider, "gemini") != 0 && strcmp(out->ai_provider, "openai") != 0)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Provider: must be \"\" (off), \"gemini\" or \"openai\" (got \"%s\")",
                   out->ai_provider);
  if (out->ai_model[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Model: must name the model");
  if (out->ai_base_url[0] == '\0') {
    if (strcmp(out->ai_provider, "openai") == 0)
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: required with the \"openai\" provider (the server's address, "
                     "e.g. \"http://gpu-server:8000\" for vLLM or \"http://localhost:11434\" for Ollama)");
    rr_str_copy(out->ai_base_url, sizeof(out->ai_base_url), GEMINI_BASE_URL);
  }
  if (!rr_str_starts_with(out->ai_base_url, "http://") && !rr_str_starts_with(out->ai_base_url, "https://"))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: must start with http:// or https://");
  if (strchr(out->ai_base_url, '?') != NULL || strchr(out->ai_base_url, '#') != NULL || strchr(out->ai_base_url, '@') != NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: must not carry a query, a fragment or credentials "
                   "(put the key in AI.ApiKey)");
  len = strlen(out->ai_base_url);
  while (len > 0 && out->ai_base_url[len - 1] == '/')
    out->ai_base_url[--len] = '\0';
  if (strcmp(out->ai_provider, "openai") == 0 && len >= 3 && strcmp(out->ai_base_url + len - 3, "/v1") == 0)
    out->ai_base_url[len - 3] = '\0'; /* the client adds /v1/chat/completions */
  if (strcmp(out->ai_provider, "gemini") == 0 && out->ai_api_version[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.ApiVersion: must not be empty (\"v1beta\")");
  {
    size_t i;
    for (i = 0; out->ai_model[i] != '\0'; i++) {
      char ch = out->ai_model[i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '_' || ch == '.' || ch == ':' || ch == '/'))
        return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Model: only letters, digits and - _ . : / are allowed");
    }
    for (i = 0; out->ai_api_version[i] != '\0'; i++) {
      char ch = out->ai_api_version[i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
        return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.ApiVersion: only lower-case letters and digits are allowed");
    }
  }
  out->ai_cloud = strcmp(out->ai_provider, "gemini") == 0 || !rr_config_url_is_local(out->ai_base_url);
  if (out->ai_cloud && !out->ai_allow_cloud)
    return rr_fail(err, errsize, RR_EINVAL,
                   SECTION ".AI: the provider at %s is outside the hospital and would receive patient images; cloud "
                   "providers' terms forbid clinical use. Set AI.AllowCloud to true to accept this, or use an "
                   "on-premises OpenAI-compatible server (Provider \"openai\" with a local BaseUrl)",
                   strcmp(out->ai_provider, "gemini") == 0 ? "Google (Gemini)" : "the configured BaseUrl");
  return 0;
}

static bool host_is_local(const char *host, size_t len)
{
  static const char *const suffixes[] = {".local", ".internal", ".lan", ".home.arpa", ".localhost"};
  unsigned a = 0, b = 0, c = 0, d = 0;
  char h[256];
  size_t i;
  int n = 0;

  if (len == 0 || len >= sizeof(h))
    return false;
  for (i = 0; i < len; i++)
    h[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
  h[len] = '\0';
  if (h[0] == '[') { /* IPv6 literal */
    if (strcmp(h, "[::1]") == 0)
      return true;
    return rr_str_starts_with(h, "[fc") || rr_str_starts_with(h, "[fd") || rr_str_starts_with(h, "[fe8") ||
           rr_str_starts_with(h, "[fe9") || rr_str_starts_with(h, "[fea") || rr_str_starts_with(h, "[feb");
  }
  if (sscanf(h, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &n) == 4 && (size_t)n == len) {
    if (a > 255 || b > 255 || c > 255 || d > 255)
      return false;
    return a == 127 || a == 10 || (a == 172 && b >= 16 && b <= 31) || (a == 192 && b == 168) || (a == 169 && b == 254);
  }
  if (strcmp(h, "localhost") == 0 || strchr(h, '.') == NULL)
    return true;
  for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
    size_t sl = strlen(suffixes[i]);
    if (len > sl && strcmp(h + len - sl, suffixes[i]) == 0)
      return true;
  }
  return false;
}

bool rr_config_url_is_local(const char *url)
{
  const char *p, *end;

  if (url == NULL)
    return false;
  if (rr_str_starts_with(url, "http://"))
    p = url + 7;
  else if (rr_str_starts_with(url, "https://"))
    p = url + 8;
  else
    return false;
  if (*p == '[') {
    end = strchr(p, ']');
    if (end == NULL)
      return false;
    end++;
  } else {
    end = p + strcspn(p, ":/?#@");
    if (*end == '@')
      return false; /* credentials in the URL: refuse to guess */
  }
  return host_is_local(p, (size_t)(end - p));
}

int rr_config_parse(rr_config *out, const char *orthanc_json, size_t len, const char *defaults_json,
                    const char *config_dir, char *err, size_t errsize)
{
  json_tokener *tok = NULL;
  json_object *all = NULL, *base = NULL, *user = NULL, *o;
  char storage[RR_PATH_SIZE], tmp[RR_PATH_SIZE];
  int error = 0;

  memset(out, 0, sizeof(*out));
  base = json_tokener_parse(defaults_json);
  if (base == NULL || !json_object_is_type(base, json_type_object)) {
    error = rr_fail(err, errsize, RR_EINVAL, "the embedded default configuration is not a JSON object");
    goto out;
  }
  tok = json_tokener_new();
  if (tok == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "out of memory");
    goto out;
  }
  all = json_tokener_parse_ex(tok, orthanc_json, (int)len);
  if (all == NULL || json_tokener_get_error(tok) != json_tokener_success ||
      !json_object_is_type(all, json_type_object)) {
    error = rr_fail(err, errsize, RR_EINVAL, "Orthanc's configuration is not a JSON object");
    goto out;
  }
  if (json_object_object_get_ex(all, SECTION, &user)) {
    if (!json_object_is_type(user, json_type_object)) {
      error = rr_fail(err, errsize, RR_EINVAL, SECTION ": must be an object, not %s", type_name(json_object_get_type(user)));
      goto out;
    }
    if ((error = overlay(base, user, SECTION, err, errsize)) < 0)
      goto out;
  }

  o = get_path(base, "Enable", NULL, NULL);
  out->enable = o ? json_object_get_boolean(o) : true;
  if ((error = get_string(out->web_root, sizeof(out->web_root), base, "WebRoot", "WebRoot", NULL, NULL, err, errsize)) < 0 ||
      (error = get_string(out->api_root, sizeof(out->api_root), base, "ApiRoot", "ApiRoot", NULL, NULL, err, errsize)) < 0 ||
      (error = check_root(out->web_root, "WebRoot", err, errsize)) < 0 ||
      (error = check_root(out->api_root, "ApiRoot", err, errsize)) < 0)
    goto out;
  if (rr_str_starts_with(out->web_root, out->api_root) || rr_str_starts_with(out->api_root, out->web_root)) {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".WebRoot and " SECTION ".ApiRoot must not contain each other (\"%s\", \"%s\")",
                 out->web_root, out->api_root);
    goto out;
  }
  if ((error = get_string(tmp, sizeof(tmp), base, "WebAppDirectory", "WebAppDirectory", NULL, NULL, err, errsize)) < 0)
    goto out;
  if (tmp[0] != '\0' &&
      (error = resolve_path(out->webapp_directory, sizeof(out->webapp_directory), config_dir, tmp, "WebAppDirectory", err, errsize)) < 0)
    goto out;

  if ((error = get_string(out->store_backend, sizeof(out->store_backend), base, "Store.Backend", "Store", "Backend", NULL, err, errsize)) < 0)
    goto out;
  if (strcmp(out->store_backend, "sqlite") != 0 && strcmp(out->store_backend, "mongodb") != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.Backend: must be \"sqlite\" or \"mongodb\" (got \"%s\")", out->store_backend);
    goto out;
  }
  if ((error = get_string(tmp, sizeof(tmp), base, "Store.SQLite.Path", "Store", "SQLite", "Path", err, errsize)) < 0 ||
      (error = get_uint(&out->sqlite_readers, base, "Store.SQLite.ReaderConnections", "Store", "SQLite", "ReaderConnections", 1, 64, err, errsize)) < 0)
    goto out;
  {
    unsigned busy;
    if ((error = get_uint(&busy, base, "Store.SQLite.BusyTimeoutMs", "Store", "SQLite", "BusyTimeoutMs", 100, 600000, err, errsize)) < 0)
      goto out;
    out->sqlite_busy_timeout_ms = (int)busy;
  }
  if (tmp[0] == '\0') {
    /* beside Orthanc's index: IndexDirectory, else StorageDirectory, else Orthanc's default */
    const char *dir = "OrthancStorage";
    if (json_object_object_get_ex(all, "IndexDirectory", &o) && json_object_is_type(o, json_type_string))
      dir = json_object_get_string(o);
    else if (json_object_object_get_ex(all, "StorageDirectory", &o) && json_object_is_type(o, json_type_string))
      dir = json_object_get_string(o);
    if ((error = resolve_path(storage, sizeof(storage), config_dir, dir, "Store.SQLite.Path", err, errsize)) < 0 ||
        (error = resolve_path(out->sqlite_path, sizeof(out->sqlite_path), storage, "reading-room.db", "Store.SQLite.Path", err, errsize)) < 0)
      goto out;
  } else if ((error = resolve_path(out->sqlite_path, sizeof(out->sqlite_path), config_dir, tmp, "Store.SQLite.Path", err, errsize)) < 0) {
    goto out;
  }
  if ((error = get_string(out->mongodb_uri, sizeof(out->mongodb_uri), base, "Store.MongoDB.Uri", "Store", "MongoDB", "Uri", err, errsize)) < 0 ||
      (error = get_string(out->mongodb_database, sizeof(out->mongodb_database), base, "Store.MongoDB.Database", "Store", "MongoDB", "Database", err, errsize)) < 0)
    goto out;
  if (strcmp(out->store_backend, "mongodb") == 0 && out->mongodb_uri[0] == '\0') {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.MongoDB.Uri: required when Store.Backend is \"mongodb\"");
    goto out;
  }

  if ((error = get_uint(&out->ingest_batch_size, base, "Ingest.BatchSize", "Ingest", "BatchSize", NULL, 1, 1000, err, errsize)) < 0 ||
      (error = get_uint(&out->ingest_poll_interval_ms, base, "Ingest.PollIntervalMs", "Ingest", "PollIntervalMs", NULL, 100, 3600000, err, errsize)) < 0)
    goto out;
  o = get_path(base, "Ingest", "ReconcileAtStartup", NULL);
  out->ingest_reconcile_at_startup = o ? json_object_get_boolean(o) : true;

  if ((error = get_uint(&out->worklist_max_page_size, base, "Worklist.MaxPageSize", "Worklist", "MaxPageSize", NULL, 1, 10000, err, errsize)) < 0 ||
      (error = get_uint(&out->worklist_default_page_size, base, "Worklist.DefaultPageSize", "Worklist", "DefaultPageSize", NULL, 1,
                        out->worklist_max_page_size, err, errsize)) < 0)
    goto out;

  /* access control */
  o = get_path(base, "Auth", "Enable", NULL);
  out->auth_enable = o ? json_object_get_boolean(o) : true;
  o = get_path(base, "Auth", "AllowBasic", NULL);
  out->auth_allow_basic = o ? json_object_get_boolean(o) : true;
  if ((error = get_string(out->auth_admin_password, sizeof(out->auth_admin_password), base, "Auth.AdminPassword", "Auth",
                          "AdminPassword", NULL, err, errsize)) < 0 ||
      (error = get_uint(&out->auth_token_lifetime, base, "Auth.TokenLifetimeSeconds", "Auth", "TokenLifetimeSeconds", NULL, 60,
                        7 * 24 * 3600, err, errsize)) < 0 ||
      (error = get_string(out->auth_issuer, sizeof(out->auth_issuer), base, "Auth.Issuer", "Auth", "Issuer", NULL, err,
                          errsize)) < 0 ||
      (error = get_string(out->auth_audience, sizeof(out->auth_audience), base, "Auth.Audience", "Auth", "Audience", NULL,
                          err, errsize)) < 0 ||
      (error = get_string(out->auth_algorithm, sizeof(out->auth_algorithm), base, "Auth.Algorithm", "Auth", "Algorithm",
                          NULL, err, errsize)) < 0 ||
      (error = get_uint(&out->auth_password_min_length, base, "Auth.PasswordMinLength", "Auth", "PasswordMinLength", NULL, 8,
                        128, err, errsize)) < 0 ||
      (error = get_uint(&out->auth_lockout_max_failures, base, "Auth.Lockout.MaxFailures", "Auth", "Lockout",
                        "MaxFailures", 1, 100, err, errsize)) < 0 ||
      (error = get_uint(&out->auth_lockout_seconds, base, "Auth.Lockout.LockSeconds", "Auth", "Lockout", "LockSeconds", 1,
                        86400, err, errsize)) < 0 ||
      (error = get_uint(&out->auth_lockout_max_per_address, base, "Auth.Lockout.MaxFailuresPerAddress", "Auth", "Lockout",
                        "MaxFailuresPerAddress", 1, 10000, err, errsize)) < 0)
    goto out;
  if (strcmp(out->auth_algorithm, "HS256") != 0 && strcmp(out->auth_algorithm, "RS256") != 0 &&
      strcmp(out->auth_algorithm, "ES256") != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.Algorithm: must be \"HS256\", \"RS256\" or \"ES256\" (got \"%s\")",
                    out->auth_algorithm);
    goto out;
  }
  if (out->auth_issuer[0] == '\0' || out->auth_audience[0] == '\0') {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.Issuer and " SECTION ".Auth.Audience must not be empty");
    goto out;
  }
  if ((error = get_string(tmp, sizeof(tmp), base, "Auth.SecretFile", "Auth", "SecretFile", NULL, err, errsize)) < 0)
    goto out;
  if (tmp[0] == '\0') {
    /* beside the database */
    char *slash;
    rr_str_copy(storage, sizeof(storage), out->sqlite_path);
    slash = strrchr(storage, '/');
    if (slash != NULL)
      *slash = '\0';
    else
      rr_str_copy(storage, sizeof(storage), ".");
    error = resolve_path(out->auth_secret_file, sizeof(out->auth_secret_file), storage, "reading-room-jwt.key",
                         "Auth.SecretFile", err, errsize);
  } else {
    error = resolve_path(out->auth_secret_file, sizeof(out->auth_secret_file), config_dir, tmp, "Auth.SecretFile", err,
                         errsize);
  }
  if (error < 0)
    goto out;
  if ((error = get_string(tmp, sizeof(tmp), base, "Auth.PrivateKeyFile", "Auth", "PrivateKeyFile", NULL, err, errsize)) < 0 ||
      (tmp[0] && (error = resolve_path(out->auth_private_key_file, sizeof(out->auth_private_key_file), config_dir, tmp,
                                       "Auth.PrivateKeyFile", err, errsize)) < 0) ||
      (error = get_string(tmp, sizeof(tmp), base, "Auth.PublicKeyFile", "Auth", "PublicKeyFile", NULL, err, errsize)) < 0 ||
      (tmp[0] && (error = resolve_path(out->auth_public_key_file, sizeof(out->auth_public_key_file), config_dir, tmp,
                                       "Auth.PublicKeyFile", err, errsize)) < 0))
    goto out;
  if (strcmp(out->auth_algorithm, "HS256") != 0 &&
      (out->auth_private_key_file[0] == '\0' || out->auth_public_key_file[0] == '\0')) {
    error = rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.PrivateKeyFile and PublicKeyFile: required with Algorithm %s",
                    out->auth_algorithm);
    goto out;
  }

  /* AI analysis */
  if ((error = parse_ai(out, base, config_dir, err, errsize)) < 0)
    goto out;

  out->orthanc_describe_errors = true;
  if (json_object_object_get_ex(all, "HttpDescribeErrors", &o) && json_object_is_type(o, json_type_boolean))
    out->orthanc_describe_errors = json_object_get_boolean(o);
  out->orthanc_remote_access = json_object_object_get_ex(all, "RemoteAccessAllowed", &o) && json_object_get_boolean(o);
  out->orthanc_ssl = json_object_object_get_ex(all, "SslEnabled", &o) && json_object_get_boolean(o);
  out->orthanc_authentication = -1;
  if (json_object_object_get_ex(all, "AuthenticationEnabled", &o) && json_object_is_type(o, json_type_boolean))
    out->orthanc_authentication = json_object_get_boolean(o) ? 1 : 0;

out:
  json_tokener_free(tok);
  json_object_put(all);
  json_object_put(base);
  return error;
}

int rr_config_check_access(const rr_config *c, char *err, size_t errsize)
{
  if (!c->enable)
    return 0;
  if (c->auth_enable && c->orthanc_authentication == 1)
    return rr_fail(err, errsize, RR_EINVAL,
                   "\"AuthenticationEnabled\" is true: Orthanc would refuse the Reading Room's tokens before the plugin "
                   "sees them; set \"AuthenticationEnabled\": false (the plugin authenticates every request)");
  if (c->auth_enable && c->orthanc_authentication == -1 && c->orthanc_remote_access)
    return rr_fail(err, errsize, RR_EINVAL,
                   "\"AuthenticationEnabled\" is not set and \"RemoteAccessAllowed\" is true, so Orthanc turns its own "
                   "authentication on and refuses the Reading Room's tokens; set \"AuthenticationEnabled\": false");
  if (!c->auth_enable && c->orthanc_remote_access)
    return rr_fail(err, errsize, RR_EINVAL,
                   SECTION ".Auth.Enable is false while \"RemoteAccessAllowed\" is true: every study would be open to "
                   "the network; turn access control on or keep Orthanc local");
  return 0;
}
