#include "config.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ------------------------------------------------------------ the options */

/* What a step of the table does: read an option of the merged section into
 * a field of rr_config (checking its range), or check what was read so far
 * (OPT_CHECK). The steps run in table order and the first problem ends the
 * parse, so a check sits after the options it reads. */
typedef enum opt_type {
  OPT_BOOL,   /* bool; `dflt` when the defaults lack it */
  OPT_UINT,   /* unsigned in [min, max] (max: the `max_field` unsigned when max_is_field) */
  OPT_INT,    /* int in [min, max], read as OPT_UINT */
  OPT_DOUBLE, /* double in [min, max] */
  OPT_STRING, /* char[size], shorter than size */
  OPT_PATH,   /* OPT_STRING, then resolved against Orthanc's configuration directory unless "" */
  OPT_WORDS,  /* array of strings into rows of `size` bytes, count at `count_field`, folded to upper/lower case */
  OPT_CHECK   /* check(): cross-option rules and computed defaults */
} opt_type;

typedef struct parse_env {
  json_object *all; /* Orthanc's whole configuration */
  const char *config_dir;
} parse_env;

typedef int (*check_fn)(rr_config *c, const parse_env *env, char *err, size_t errsize);

typedef struct option {
  opt_type type;
  const char *path; /* under ReadingRoom, dotted ("Store.SQLite.Path"); the name in messages */
  size_t offset;    /* of the field in rr_config */
  size_t size;      /* OPT_STRING/OPT_PATH: the field's size; OPT_WORDS: one row's size */
  double min, max;
  bool max_is_field;
  size_t max_field;   /* OPT_UINT with max_is_field: offset of the unsigned bounding it */
  size_t count_field; /* OPT_WORDS: offset of the unsigned count */
  bool dflt;          /* OPT_BOOL */
  bool upper;         /* OPT_WORDS: fold to upper case (else lower case) */
  check_fn check;     /* OPT_CHECK */
} option;

/* offsetof(rr_config, f), refused at compile time unless f has type T */
#define FIELD_OF(f, T) (offsetof(rr_config, f) + 0 * sizeof(char[_Generic(((rr_config *)0)->f, T: 1, default: -1)]))
#define FIELD_SIZE(f) sizeof(((rr_config *)0)->f)

#define BOOL(p, f, d) {.type = OPT_BOOL, .path = p, .offset = FIELD_OF(f, bool), .dflt = d}
#define UINT(p, f, lo, hi) {.type = OPT_UINT, .path = p, .offset = FIELD_OF(f, unsigned), .min = lo, .max = hi}
#define UINT_UPTO(p, f, lo, bound)                                                                           \
  {.type = OPT_UINT, .path = p, .offset = FIELD_OF(f, unsigned), .min = lo, .max_is_field = true,            \
   .max_field = FIELD_OF(bound, unsigned)}
#define INT(p, f, lo, hi) {.type = OPT_INT, .path = p, .offset = FIELD_OF(f, int), .min = lo, .max = hi}
#define DOUBLE(p, f, lo, hi) {.type = OPT_DOUBLE, .path = p, .offset = FIELD_OF(f, double), .min = lo, .max = hi}
#define STRING(p, f) {.type = OPT_STRING, .path = p, .offset = FIELD_OF(f, char *), .size = FIELD_SIZE(f)}
#define PATH(p, f) {.type = OPT_PATH, .path = p, .offset = FIELD_OF(f, char *), .size = FIELD_SIZE(f)}
#define WORDS(p, f, count, up)                                                                               \
  {.type = OPT_WORDS, .path = p, .offset = offsetof(rr_config, f), .size = FIELD_SIZE(f[0]),                 \
   .count_field = FIELD_OF(count, unsigned), .upper = up}
#define CHECK(fn) {.type = OPT_CHECK, .check = fn}

/* The value at a dotted path under `root`, or NULL. */
static json_object *find(json_object *root, const char *path)
{
  char key[64];
  const char *dot;
  json_object *o = root;
  size_t len;

  for (;;) {
    dot = strchr(path, '.');
    len = dot ? (size_t)(dot - path) : strlen(path);
    if (len >= sizeof(key))
      return NULL;
    memcpy(key, path, len);
    key[len] = '\0';
    if (!json_object_object_get_ex(o, key, &o) || o == NULL)
      return NULL;
    if (dot == NULL)
      return o;
    path = dot + 1;
  }
}

static int get_uint(unsigned *out, json_object *o, const char *name, long long min, long long max, char *err,
                    size_t errsize)
{
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

static int get_string(char *out, size_t size, json_object *o, const char *name, char *err, size_t errsize)
{
  const char *s;

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: missing from the defaults", name);
  s = json_object_get_string(o);
  if (strlen(s) >= size)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: too long (at most %zu characters)", name, size - 1);
  rr_str_copy(out, size, s);
  return 0;
}

static int get_double(double *out, json_object *o, const char *name, double min, double max, char *err, size_t errsize)
{
  double v;

  if (o == NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: missing from the defaults", name);
  v = json_object_get_double(o);
  if (!(v >= min && v <= max))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".%s: must be between %g and %g (got %g)", name, min, max, v);
  *out = v;
  return 0;
}

/* An array of short strings into rows of `width` bytes; `upper` folds ASCII
 * to upper case (modalities), otherwise to lower case (description words). */
static int get_words(char *rows, size_t width, unsigned *count, json_object *arr, const char *name, bool upper,
                     char *err, size_t errsize)
{
  json_object *item;
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

/* A path option as written (in `field`) made absolute against `dir`, in place. */
static int resolve_in_place(char *field, size_t size, const char *dir, const char *name, char *err, size_t errsize)
{
  char tmp[RR_PATH_SIZE];

  rr_str_copy(tmp, sizeof(tmp), field);
  return resolve_path(field, size, dir, tmp, name, err, errsize);
}

/* ----------------------------------------------------------------- checks */

static int check_roots(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  int error;

  (void)env;
  if ((error = check_root(c->web_root, "WebRoot", err, errsize)) < 0 ||
      (error = check_root(c->api_root, "ApiRoot", err, errsize)) < 0)
    return error;
  if (rr_str_starts_with(c->web_root, c->api_root) || rr_str_starts_with(c->api_root, c->web_root))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".WebRoot and " SECTION ".ApiRoot must not contain each other (\"%s\", \"%s\")",
                   c->web_root, c->api_root);
  return 0;
}

static int check_backend(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->store_backend, "sqlite") != 0 && strcmp(c->store_backend, "postgresql") != 0 &&
      strcmp(c->store_backend, "mongodb") != 0)
    return rr_fail(err, errsize, RR_EINVAL,
                   SECTION ".Store.Backend: must be \"sqlite\", \"postgresql\" or \"mongodb\" (got \"%s\")", c->store_backend);
  return 0;
}

/* Store.PostgreSQL: a connection string when chosen, a known sslmode, an
 * environment variable name (the password itself never in the file). */
static int check_postgresql(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  static const char *const modes[] = {"", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  size_t i;

  (void)env;
  for (i = 0; i < sizeof(modes) / sizeof(modes[0]) && strcmp(c->pg_sslmode, modes[i]) != 0; i++)
    ;
  if (i == sizeof(modes) / sizeof(modes[0]))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.PostgreSQL.SslMode: must be \"\", \"disable\", \"allow\", "
                   "\"prefer\", \"require\", \"verify-ca\" or \"verify-full\" (got \"%s\")", c->pg_sslmode);
  for (i = 0; c->pg_password_env[i] != '\0'; i++) {
    char ch = c->pg_password_env[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' || (i > 0 && ch >= '0' && ch <= '9')))
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.PostgreSQL.PasswordEnvironmentVariable: not a variable name "
                     "(letters, digits and _; put the password itself in that variable)");
  }
  if (strcmp(c->store_backend, "postgresql") == 0 && c->pg_conninfo[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.PostgreSQL.ConnectionString: required when Store.Backend is "
                   "\"postgresql\" (e.g. \"host=db.example.org dbname=readingroom user=orthanc\")");
  return 0;
}

/* The base path of the plugin's own files (rr_config.files_base). */
static int resolve_files_base(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->store_backend, "postgresql") != 0) {
    rr_str_copy(c->files_base, sizeof(c->files_base), c->sqlite_path);
    return 0;
  }
  return resolve_path(c->files_base, sizeof(c->files_base), c->orthanc_storage_dir, "reading-room", "StorageDirectory",
                      err, errsize);
}

static int check_physician_scope(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->reports_physician_scope, "all") != 0 && strcmp(c->reports_physician_scope, "referring") != 0)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Reports.PhysicianScope: must be \"all\" or \"referring\" (got \"%s\")",
                   c->reports_physician_scope);
  return 0;
}

/* Store.SQLite.Path as written, or "" for beside Orthanc's index:
 * IndexDirectory, else StorageDirectory, else Orthanc's default. */
static int resolve_database(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  char storage[RR_PATH_SIZE];
  const char *dir = "OrthancStorage";
  json_object *o;
  int error;

  if (c->sqlite_path[0] != '\0')
    return resolve_in_place(c->sqlite_path, sizeof(c->sqlite_path), env->config_dir, "Store.SQLite.Path", err, errsize);
  if (json_object_object_get_ex(env->all, "IndexDirectory", &o) && json_object_is_type(o, json_type_string))
    dir = json_object_get_string(o);
  else if (json_object_object_get_ex(env->all, "StorageDirectory", &o) && json_object_is_type(o, json_type_string))
    dir = json_object_get_string(o);
  if ((error = resolve_path(storage, sizeof(storage), env->config_dir, dir, "Store.SQLite.Path", err, errsize)) < 0)
    return error;
  return resolve_path(c->sqlite_path, sizeof(c->sqlite_path), storage, "reading-room.db", "Store.SQLite.Path", err, errsize);
}

/* Orthanc's StorageDirectory (default "OrthancStorage") and IndexDirectory
 * (default: the storage directory), resolved like Orthanc resolves them,
 * for the System page's free space (Storage.*). */
static int resolve_orthanc_storage(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  const char *storage = "OrthancStorage";
  json_object *o;
  int error;

  if (json_object_object_get_ex(env->all, "StorageDirectory", &o) && json_object_is_type(o, json_type_string))
    storage = json_object_get_string(o);
  if ((error = resolve_path(c->orthanc_storage_dir, sizeof(c->orthanc_storage_dir), env->config_dir, storage,
                            "StorageDirectory", err, errsize)) < 0)
    return error;
  if (json_object_object_get_ex(env->all, "IndexDirectory", &o) && json_object_is_type(o, json_type_string))
    return resolve_path(c->orthanc_index_dir, sizeof(c->orthanc_index_dir), env->config_dir, json_object_get_string(o),
                        "IndexDirectory", err, errsize);
  rr_str_copy(c->orthanc_index_dir, sizeof(c->orthanc_index_dir), c->orthanc_storage_dir);
  return 0;
}

/* "<host name>:<HttpPort>" (Orthanc's default port 8042). */
static int derive_node_name(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  char host[96] = "";
  int64_t port = 8042;
  json_object *o;

  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
    rr_str_copy(host, sizeof(host), "reading-room");
  host[sizeof(host) - 1] = '\0';
  if (json_object_object_get_ex(env->all, "HttpPort", &o) && json_object_is_type(o, json_type_int))
    port = json_object_get_int64(o);
  (void)err;
  (void)errsize;
  snprintf(c->node_name, sizeof(c->node_name), "%s:%lld", host, (long long)port);
  return 0;
}

static int check_mongodb(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->store_backend, "mongodb") == 0 && c->mongodb_uri[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Store.MongoDB.Uri: required when Store.Backend is \"mongodb\"");
  return 0;
}

static int check_auth(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->auth_algorithm, "HS256") != 0 && strcmp(c->auth_algorithm, "RS256") != 0 &&
      strcmp(c->auth_algorithm, "ES256") != 0)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.Algorithm: must be \"HS256\", \"RS256\" or \"ES256\" (got \"%s\")",
                   c->auth_algorithm);
  if (c->auth_issuer[0] == '\0' || c->auth_audience[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.Issuer and " SECTION ".Auth.Audience must not be empty");
  return 0;
}

/* Auth.SecretFile as written, or "" for beside the database. */
static int resolve_secret_file(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  char storage[RR_PATH_SIZE], *slash;

  if (c->auth_secret_file[0] != '\0')
    return resolve_in_place(c->auth_secret_file, sizeof(c->auth_secret_file), env->config_dir, "Auth.SecretFile", err,
                            errsize);
  rr_str_copy(storage, sizeof(storage), c->files_base);
  slash = strrchr(storage, '/');
  if (slash != NULL)
    *slash = '\0';
  else
    rr_str_copy(storage, sizeof(storage), ".");
  return resolve_path(c->auth_secret_file, sizeof(c->auth_secret_file), storage, "reading-room-jwt.key",
                      "Auth.SecretFile", err, errsize);
}

static int check_key_files(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->auth_algorithm, "HS256") != 0 && (c->auth_private_key_file[0] == '\0' || c->auth_public_key_file[0] == '\0'))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Auth.PrivateKeyFile and PublicKeyFile: required with Algorithm %s",
                   c->auth_algorithm);
  return 0;
}

#define GEMINI_BASE_URL "https://generativelanguage.googleapis.com"

/* AI: a known provider with a model and an http(s) base URL (Gemini's by
 * default; trailing '/' and an OpenAI-style "/v1" dropped), and the cloud
 * opt-in when the provider is off-site. */
static int check_ai(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  size_t i, len;

  (void)env;
  if (c->ai_provider[0] == '\0') {
    if (c->ai_auto_enable)
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.AutoAnalyze.Enable: needs an AI provider (AI.Provider)");
    return 0;
  }
  if (strcmp(c->ai_provider, "gemini") != 0 && strcmp(c->ai_provider, "openai") != 0)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Provider: must be \"\" (off), \"gemini\" or \"openai\" (got \"%s\")",
                   c->ai_provider);
  if (c->ai_model[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Model: must name the model");
  if (c->ai_base_url[0] == '\0') {
    if (strcmp(c->ai_provider, "openai") == 0)
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: required with the \"openai\" provider (the server's address, "
                     "e.g. \"http://gpu-server:8000\" for vLLM or \"http://localhost:11434\" for Ollama)");
    rr_str_copy(c->ai_base_url, sizeof(c->ai_base_url), GEMINI_BASE_URL);
  }
  if (!rr_str_starts_with(c->ai_base_url, "http://") && !rr_str_starts_with(c->ai_base_url, "https://"))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: must start with http:// or https://");
  if (strchr(c->ai_base_url, '?') != NULL || strchr(c->ai_base_url, '#') != NULL || strchr(c->ai_base_url, '@') != NULL)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.BaseUrl: must not carry a query, a fragment or credentials "
                   "(put the key in AI.ApiKey)");
  len = strlen(c->ai_base_url);
  while (len > 0 && c->ai_base_url[len - 1] == '/')
    c->ai_base_url[--len] = '\0';
  if (strcmp(c->ai_provider, "openai") == 0 && len >= 3 && strcmp(c->ai_base_url + len - 3, "/v1") == 0)
    c->ai_base_url[len - 3] = '\0'; /* the client adds /v1/chat/completions */
  if (strcmp(c->ai_provider, "gemini") == 0 && c->ai_api_version[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.ApiVersion: must not be empty (\"v1beta\")");
  for (i = 0; c->ai_model[i] != '\0'; i++) {
    char ch = c->ai_model[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
          ch == '.' || ch == ':' || ch == '/'))
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.Model: only letters, digits and - _ . : / are allowed");
  }
  for (i = 0; c->ai_api_version[i] != '\0'; i++) {
    char ch = c->ai_api_version[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
      return rr_fail(err, errsize, RR_EINVAL, SECTION ".AI.ApiVersion: only lower-case letters and digits are allowed");
  }
  c->ai_cloud = strcmp(c->ai_provider, "gemini") == 0 || !rr_config_url_is_local(c->ai_base_url);
  if (c->ai_cloud && !c->ai_allow_cloud)
    return rr_fail(err, errsize, RR_EINVAL,
                   SECTION ".AI: the provider at %s is outside the hospital and would receive patient images; cloud "
                   "providers' terms forbid clinical use. Set AI.AllowCloud to true to accept this, or use an "
                   "on-premises OpenAI-compatible server (Provider \"openai\" with a local BaseUrl)",
                   strcmp(c->ai_provider, "gemini") == 0 ? "Google (Gemini)" : "the configured BaseUrl");
  return 0;
}

/* Backup: a known target, and when enabled a key source and the target's
 * required settings (the key itself is read and checked at start-up). */
static int check_backup(rr_config *c, const parse_env *env, char *err, size_t errsize)
{
  (void)env;
  if (strcmp(c->backup_target, "s3") != 0 && strcmp(c->backup_target, "cloudinary") != 0)
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Backup.Target: must be \"s3\" or \"cloudinary\" (got \"%s\")",
                   c->backup_target);
  if (!c->backup_enabled)
    return 0;
  if (c->backup_key[0] == '\0' && c->backup_key_file[0] == '\0' &&
      (c->backup_key_env[0] == '\0' || getenv(c->backup_key_env) == NULL || getenv(c->backup_key_env)[0] == '\0'))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Backup: objects are encrypted before they leave: give Backup.KeyFile "
                   "(32 random bytes, e.g. openssl rand -base64 32 > backup.key; chmod 600), Backup.Key, or the "
                   "variable named by Backup.KeyEnvironmentVariable");
  if (strcmp(c->backup_target, "s3") == 0 &&
      (c->backup_s3_endpoint[0] == '\0' || c->backup_s3_bucket[0] == '\0' || c->backup_s3_region[0] == '\0' ||
       c->backup_s3_access_key_id[0] == '\0'))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Backup.S3: Endpoint, Region, Bucket and AccessKeyId are required "
                   "with the \"s3\" target");
  if (strcmp(c->backup_target, "s3") == 0 && !rr_str_starts_with(c->backup_s3_endpoint, "http://") &&
      !rr_str_starts_with(c->backup_s3_endpoint, "https://"))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Backup.S3.Endpoint: must start with http:// or https://");
  if (strcmp(c->backup_target, "cloudinary") == 0 &&
      (c->backup_cl_cloud_name[0] == '\0' || c->backup_cl_api_key[0] == '\0'))
    return rr_fail(err, errsize, RR_EINVAL, SECTION ".Backup.Cloudinary: CloudName and ApiKey are required with the "
                   "\"cloudinary\" target");
  return 0;
}

/* Every option of the defaults (Resources/DefaultConfiguration.json), in
 * the order they are read and checked. */
static const option OPTIONS[] = {
  BOOL("Enable", enable, true),
  STRING("WebRoot", web_root),
  STRING("ApiRoot", api_root),
  CHECK(check_roots),
  PATH("WebAppDirectory", webapp_directory),

  STRING("Store.Backend", store_backend),
  CHECK(check_backend),
  STRING("Store.SQLite.Path", sqlite_path),
  UINT("Store.SQLite.ReaderConnections", sqlite_readers, 1, 64),
  INT("Store.SQLite.BusyTimeoutMs", sqlite_busy_timeout_ms, 100, 600000),
  CHECK(resolve_database),
  STRING("Store.MongoDB.Uri", mongodb_uri),
  STRING("Store.MongoDB.Database", mongodb_database),
  UINT("Store.MongoDB.PoolSize", mongodb_pool_size, 1, 100),
  CHECK(check_mongodb),
  STRING("Store.PostgreSQL.ConnectionString", pg_conninfo),
  STRING("Store.PostgreSQL.PasswordEnvironmentVariable", pg_password_env),
  STRING("Store.PostgreSQL.SslMode", pg_sslmode),
  PATH("Store.PostgreSQL.SslRootCertificate", pg_sslrootcert),
  UINT("Store.PostgreSQL.PoolSize", pg_pool_size, 1, 64),
  UINT("Store.PostgreSQL.ConnectTimeoutSeconds", pg_connect_timeout_s, 1, 600),
  CHECK(check_postgresql),

  UINT("Ingest.BatchSize", ingest_batch_size, 1, 1000),
  UINT("Ingest.PollIntervalMs", ingest_poll_interval_ms, 100, 3600000),
  BOOL("Ingest.ReconcileAtStartup", ingest_reconcile_at_startup, true),

  UINT("Storage.WarnFreePercent", storage_warn_free_percent, 0, 99),
  UINT("Storage.WarnFreeGigabytes", storage_warn_free_gb, 0, 1000000),
  CHECK(resolve_orthanc_storage),
  CHECK(resolve_files_base),
  CHECK(derive_node_name),

  UINT("Worklist.MaxPageSize", worklist_max_page_size, 1, 10000),
  UINT_UPTO("Worklist.DefaultPageSize", worklist_default_page_size, 1, worklist_max_page_size),

  UINT("Viewer.CacheMegabytes", viewer_cache_mb, 64, 16384),

  STRING("Reports.Institution", reports_institution),
  STRING("Reports.PhysicianScope", reports_physician_scope),
  CHECK(check_physician_scope),

  BOOL("Auth.Enable", auth_enable, true),
  BOOL("Auth.AllowBasic", auth_allow_basic, true),
  STRING("Auth.AdminPassword", auth_admin_password),
  UINT("Auth.TokenLifetimeSeconds", auth_token_lifetime, 60, 7 * 24 * 3600),
  UINT("Auth.IdleTimeoutSeconds", auth_idle_timeout, 0, 24 * 3600),
  UINT("Auth.MaxSessionSeconds", auth_max_session, 1, 7 * 24 * 3600),
  STRING("Auth.Issuer", auth_issuer),
  STRING("Auth.Audience", auth_audience),
  STRING("Auth.Algorithm", auth_algorithm),
  UINT("Auth.PasswordMinLength", auth_password_min_length, 8, 128),
  UINT("Auth.Lockout.MaxFailures", auth_lockout_max_failures, 1, 100),
  UINT("Auth.Lockout.LockSeconds", auth_lockout_seconds, 1, 86400),
  UINT("Auth.Lockout.MaxFailuresPerAddress", auth_lockout_max_per_address, 1, 10000),
  CHECK(check_auth),
  STRING("Auth.SecretFile", auth_secret_file),
  CHECK(resolve_secret_file),
  PATH("Auth.PrivateKeyFile", auth_private_key_file),
  PATH("Auth.PublicKeyFile", auth_public_key_file),
  CHECK(check_key_files),

  STRING("AI.Provider", ai_provider),
  STRING("AI.BaseUrl", ai_base_url),
  STRING("AI.ApiVersion", ai_api_version),
  STRING("AI.Model", ai_model),
  STRING("AI.ApiKey", ai_api_key),
  STRING("AI.ApiKeyEnvironmentVariable", ai_api_key_env),
  PATH("AI.CaFile", ai_ca_file),
  UINT("AI.Concurrency", ai_concurrency, 1, 16),
  UINT("AI.MaxQueuedAnalyses", ai_max_queued, 1, 100000),
  UINT("AI.ImagesPerSeries", ai_images_per_series, 1, 64),
  UINT("AI.MaxImages", ai_max_images, 1, 256),
  UINT("AI.ImageMaxSide", ai_image_max_side, 128, 2048),
  UINT("AI.MaxRequestMegabytes", ai_max_request_mb, 1, 19),
  DOUBLE("AI.Temperature", ai_temperature, 0, 2),
  UINT("AI.MaxOutputTokens", ai_max_output_tokens, 256, 65536),
  UINT("AI.ConnectTimeoutSeconds", ai_connect_timeout_s, 1, 120),
  UINT("AI.TimeoutSeconds", ai_timeout_s, 1, 3600),
  UINT("AI.MaxAttempts", ai_max_attempts, 1, 10),
  UINT("AI.MaxRetryWaitSeconds", ai_max_retry_wait_s, 0, 3600),
  UINT("AI.MaxResponseMegabytes", ai_max_response_mb, 1, 64),
  DOUBLE("AI.PricePerMillionInputTokens", ai_price_input, 0, 10000),
  DOUBLE("AI.PricePerMillionOutputTokens", ai_price_output, 0, 10000),
  WORDS("AI.AutoAnalyze.Modalities", ai_auto_modalities, ai_auto_modality_count, true),
  WORDS("AI.AutoAnalyze.DescriptionContains", ai_auto_descriptions, ai_auto_description_count, false),
  BOOL("AI.AllowCloud", ai_allow_cloud, false),
  BOOL("AI.AutoAnalyze.Enable", ai_auto_enable, false),
  CHECK(check_ai),

  BOOL("Reports.ArchiveOutputs", reports_archive_outputs, true),
  UINT("Reports.OutputAttempts", reports_output_attempts, 1, 100),

  BOOL("Backup.Enabled", backup_enabled, false),
  STRING("Backup.Target", backup_target),
  STRING("Backup.Key", backup_key),
  PATH("Backup.KeyFile", backup_key_file),
  STRING("Backup.KeyEnvironmentVariable", backup_key_env),
  UINT("Backup.MaxAttempts", backup_max_attempts, 1, 100),
  UINT("Backup.Workers", backup_workers, 1, 16),
  STRING("Backup.S3.Endpoint", backup_s3_endpoint),
  STRING("Backup.S3.Region", backup_s3_region),
  STRING("Backup.S3.Bucket", backup_s3_bucket),
  STRING("Backup.S3.AccessKeyId", backup_s3_access_key_id),
  STRING("Backup.S3.SecretAccessKey", backup_s3_secret),
  STRING("Backup.S3.SecretAccessKeyEnvironmentVariable", backup_s3_secret_env),
  STRING("Backup.S3.Prefix", backup_s3_prefix),
  BOOL("Backup.S3.PathStyle", backup_s3_path_style, true),
  PATH("Backup.S3.CaBundle", backup_s3_ca_bundle),
  UINT("Backup.S3.TimeoutSeconds", backup_s3_timeout_s, 1, 3600),
  STRING("Backup.Cloudinary.ApiBase", backup_cl_api_base),
  STRING("Backup.Cloudinary.CloudName", backup_cl_cloud_name),
  STRING("Backup.Cloudinary.ApiKey", backup_cl_api_key),
  STRING("Backup.Cloudinary.ApiSecret", backup_cl_api_secret),
  STRING("Backup.Cloudinary.ApiSecretEnvironmentVariable", backup_cl_api_secret_env),
  STRING("Backup.Cloudinary.Folder", backup_cl_folder),
  BOOL("Backup.Cloudinary.SignatureSha256", backup_cl_sha256, false),
  UINT("Backup.Cloudinary.TimeoutSeconds", backup_cl_timeout_s, 1, 3600),
  CHECK(check_backup),
};

/* One step of OPTIONS over the merged section `base`. */
static int apply(rr_config *c, const option *opt, json_object *base, const parse_env *env, char *err, size_t errsize)
{
  char *field = (char *)c + opt->offset;
  json_object *o = opt->type == OPT_CHECK ? NULL : find(base, opt->path);
  long long max = (long long)opt->max;
  unsigned u = 0;
  int error;

  switch (opt->type) {
  case OPT_BOOL:
    *(bool *)field = o ? json_object_get_boolean(o) : opt->dflt;
    return 0;
  case OPT_UINT:
  case OPT_INT:
    if (opt->max_is_field)
      max = *(const unsigned *)((const char *)c + opt->max_field);
    if ((error = get_uint(&u, o, opt->path, (long long)opt->min, max, err, errsize)) < 0)
      return error;
    if (opt->type == OPT_INT)
      *(int *)field = (int)u;
    else
      *(unsigned *)field = u;
    return 0;
  case OPT_DOUBLE:
    return get_double((double *)field, o, opt->path, opt->min, opt->max, err, errsize);
  case OPT_STRING:
  case OPT_PATH:
    if ((error = get_string(field, opt->size, o, opt->path, err, errsize)) < 0)
      return error;
    if (opt->type == OPT_PATH && field[0] != '\0')
      return resolve_in_place(field, opt->size, env->config_dir, opt->path, err, errsize);
    return 0;
  case OPT_WORDS:
    return get_words(field, opt->size, (unsigned *)((char *)c + opt->count_field), o, opt->path, opt->upper, err,
                     errsize);
  case OPT_CHECK:
    return opt->check(c, env, err, errsize);
  }
  return rr_fail(err, errsize, RR_EINVAL, "internal error: option type %d", (int)opt->type);
}

/* Every leaf of the defaults must be an option of OPTIONS (else it would be
 * accepted and ignored). `prefix` is the dotted path of obj ("" at the top). */
static int check_all_read(json_object *obj, const char *prefix, char *err, size_t errsize)
{
  json_object_iter it;
  char path[256];
  size_t i;
  int error;

  json_object_object_foreachC(obj, it)
  {
    snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "", it.key);
    if (json_object_is_type(it.val, json_type_object)) {
      if ((error = check_all_read(it.val, path, err, errsize)) < 0)
        return error;
      continue;
    }
    for (i = 0; i < sizeof(OPTIONS) / sizeof(OPTIONS[0]); i++)
      if (OPTIONS[i].type != OPT_CHECK && strcmp(OPTIONS[i].path, path) == 0)
        break;
    if (i == sizeof(OPTIONS) / sizeof(OPTIONS[0]))
      return rr_fail(err, errsize, RR_EINVAL, "the default configuration has " SECTION ".%s, which config.c does not read", path);
  }
  return 0;
}

/* What the plugin reads of Orthanc's own options. */
static void read_orthanc_options(rr_config *c, json_object *all)
{
  json_object *o;

  c->orthanc_describe_errors = true;
  if (json_object_object_get_ex(all, "HttpDescribeErrors", &o) && json_object_is_type(o, json_type_boolean))
    c->orthanc_describe_errors = json_object_get_boolean(o);
  c->orthanc_remote_access = json_object_object_get_ex(all, "RemoteAccessAllowed", &o) && json_object_get_boolean(o);
  c->orthanc_ssl = json_object_object_get_ex(all, "SslEnabled", &o) && json_object_get_boolean(o);
  c->orthanc_authentication = -1;
  if (json_object_object_get_ex(all, "AuthenticationEnabled", &o) && json_object_is_type(o, json_type_boolean))
    c->orthanc_authentication = json_object_get_boolean(o) ? 1 : 0;
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
  json_object *all = NULL, *base = NULL, *user = NULL;
  parse_env env;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  base = json_tokener_parse(defaults_json);
  if (base == NULL || !json_object_is_type(base, json_type_object)) {
    error = rr_fail(err, errsize, RR_EINVAL, "the embedded default configuration is not a JSON object");
    goto out;
  }
  if ((error = check_all_read(base, "", err, errsize)) < 0)
    goto out;
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

  env.all = all;
  env.config_dir = config_dir;
  for (i = 0; i < sizeof(OPTIONS) / sizeof(OPTIONS[0]); i++)
    if ((error = apply(out, &OPTIONS[i], base, &env, err, errsize)) < 0)
      goto out;
  read_orthanc_options(out, all);

out:
  if (tok != NULL) /* json-c 0.16 does not accept NULL */
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
