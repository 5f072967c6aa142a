#include "auth_api.h"

#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "api/args.h"
#include "api/caller.h"
#include "api/reply.h"
#include "api/route.h"
#include "audit/chain.h"
#include "auth/filter.h"
#include "auth/token.h"
#include "util/errors.h"
#include "util/str.h"

#define MAX_BODY 16384
#define ERR_SIZE 256

static OrthancPluginContext *ctx;
static const rr_api_deps *deps;

/* -------------------------------------------------------------- helpers */

/* The caller the HTTP filter decided (never a second authentication). */
static int identify(rr_identity *id)
{
  return rr_api_caller(id, true);
}

static json_object *parse_body(const OrthancPluginHttpRequest *req, OrthancPluginRestOutput *out)
{
  return rr_reply_parse_body(ctx, out, req, MAX_BODY, 0);
}

static const char *member(json_object *o, const char *key, int *bad)
{
  return rr_json_member_str(o, key, bad);
}

/* Two required string members a and b of a request body into *va and *vb
 * (pointing into body). Replies 400 'give "a" and "b" as strings' and
 * returns false when either is missing or not a string. */
static bool required_pair(const char **va, const char **vb, json_object *body, const char *a, const char *b,
                          OrthancPluginRestOutput *out)
{
  char msg[128];
  int bad = 0;

  *va = member(body, a, &bad);
  *vb = member(body, b, &bad);
  if (bad || *va == NULL || *vb == NULL) {
    snprintf(msg, sizeof(msg), "give \"%s\" and \"%s\" as strings", a, b);
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, msg);
    return false;
  }
  return true;
}

static json_object *user_json(const rr_user_rec *u, int full)
{
  int jerr = 0;
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "username", u->username, &jerr);
  rr_json_set_str(o, "displayName", u->display_name, &jerr);
  rr_json_set_str(o, "role", u->role, &jerr);
  if (full) {
    rr_json_set(o, "enabled", json_object_new_boolean(u->enabled), &jerr);
    rr_json_add_time(o, "createdAt", u->created_at, &jerr);
    rr_json_add_time(o, "lastLoginAt", u->last_login_at, &jerr);
    rr_json_add_time(o, "lockedUntil", u->locked_until > (int64_t)time(NULL) ? u->locked_until : 0, &jerr);
  }
  return rr_json_done(o, jerr);
}

/* Whether the browser reached us over HTTPS: Orthanc serves it ("SslEnabled"), or a TLS reverse proxy says
 * so with "X-Forwarded-Proto: https" (a client that sends it over plain HTTP only gets cookies its browser
 * will not send back). */
static bool over_https(const OrthancPluginHttpRequest *req)
{
  const char *proto = req != NULL ? rr_reply_request_header(req, "x-forwarded-proto") : NULL;

  return deps->options.secure_cookies || (proto != NULL && rr_str_ieq(proto, "https"));
}

static void set_session_cookies(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const char *token,
                                const char *csrf, int64_t max_age)
{
  char cookie[RR_TOKEN_MAX_BYTES + 256];
  const char *secure = over_https(req) ? "; Secure" : "";

  snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%" PRId64 "%s", RR_SESSION_COOKIE,
           token, max_age, secure);
  OrthancPluginSetHttpHeader(ctx, out, "Set-Cookie", cookie);
  snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; SameSite=Strict; Max-Age=%" PRId64 "%s", RR_CSRF_COOKIE, csrf,
           max_age, secure);
  OrthancPluginSetHttpHeader(ctx, out, "Set-Cookie", cookie);
}

/* What a role may use, from the role matrix (the web app shows no more): the
 * "capabilities" member of the session and auth/me answers. */
static json_object *capabilities_json(unsigned role, int *jerr)
{
  const char *names[RR_CAPABILITY_COUNT];
  json_object *caps = json_object_new_array();
  size_t i, n = rr_matrix_capabilities(names, deps->matrix, role);

  for (i = 0; i < n; i++)
    rr_json_append(caps, json_object_new_string(names[i]), jerr);
  return caps;
}

/* The automatic log-off figures of a session answer: "expiresInSeconds"
 * (the token's remaining life, so that a browser with a wrong clock still
 * knows when its idle time ends), "idleTimeoutSeconds", "maxSessionSeconds"
 * (0: none) and "sessionEndsAt" (null: never). */
static void add_session_limits(json_object *o, const rr_identity *id, int64_t expires_at, int64_t ends_at, int *jerr)
{
  int64_t idle = 0, max_session = 0, id_ends = 0, left = expires_at - (int64_t)time(NULL);

  rr_auth_session_limits(deps->auth, id, &idle, &max_session, &id_ends);
  if (id != NULL)
    ends_at = id_ends;
  rr_json_set(o, "expiresInSeconds", json_object_new_int64(expires_at > 0 ? (left > 0 ? left : 0) : 0), jerr);
  rr_json_set(o, "idleTimeoutSeconds", json_object_new_int64(idle), jerr);
  rr_json_set(o, "maxSessionSeconds", json_object_new_int64(max_session), jerr);
  if (ends_at > 0 && ends_at < INT64_MAX)
    rr_json_add_time(o, "sessionEndsAt", ends_at, jerr);
  else
    rr_json_set_null(o, "sessionEndsAt", jerr);
}

static void send_session(OrthancPluginRestOutput *out, const OrthancPluginHttpRequest *req, const rr_login_result *r)
{
  unsigned role = 0;
  int jerr = 0;
  json_object *o = json_object_new_object();
  int64_t max_age = r->expires_at - (int64_t)time(NULL);

  rr_json_set_str(o, "token", r->token, &jerr);
  rr_json_add_time(o, "expiresAt", r->expires_at, &jerr);
  rr_json_set_str(o, "csrfToken", r->csrf, &jerr);
  rr_json_set(o, "user", user_json(&r->user, 0), &jerr);
  if (rr_role_parse(&role, r->user.role) < 0)
    role = 0; /* an unknown role may use nothing */
  rr_json_set(o, "capabilities", capabilities_json(role, &jerr), &jerr);
  add_session_limits(o, NULL, r->expires_at, r->session_ends_at, &jerr);
  set_session_cookies(out, req, r->token, r->csrf, max_age > 0 ? max_age : 0);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
}

static void send_failure(OrthancPluginRestOutput *out, int error, const char *err)
{
  rr_reply_failure(ctx, out, error, "auth API", err);
}

static void send_ok(OrthancPluginRestOutput *out)
{
  json_object *o = json_object_new_object();

  rr_reply_json(ctx, out, 200, o);
  json_object_put(o);
}

/* The caller; answers 403 itself when there is none. Roles are not checked
 * here: the role matrix decided before the route ran. */
#define REQUIRE_IDENTITY(id)                                                                  \
  do {                                                                                        \
    if (identify(&(id)) < 0) {                                                           \
      rr_reply_error(ctx, out, RR_API_FORBIDDEN, "log in first");                         \
      return OrthancPluginErrorCode_Success;                                                  \
    }                                                                                         \
  } while (0)

/* ------------------------------------------------------------ sessions */

static OrthancPluginErrorCode on_login(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  rr_login_result r;
  json_object *body;
  const char *user, *pass;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  if ((body = parse_body(req, out)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (!required_pair(&user, &pass, body, "username", "password", out)) {
    json_object_put(body);
    return OrthancPluginErrorCode_Success;
  }
  error = rr_auth_login(deps->auth, &r, user, pass, rr_filter_current_source(), err, sizeof(err));
  json_object_put(body);
  if (error == RR_EINVAL || error == RR_ELOCKED)
    rr_reply_error(ctx, out, error == RR_ELOCKED ? RR_API_LOCKED : RR_API_INVALID_CREDENTIALS, err);
  else if (error < 0)
    send_failure(out, error, err);
  else
    send_session(out, req, &r);
  rr_login_result_dispose(&r);
  return OrthancPluginErrorCode_Success;
}

/* POST auth/logout; an optional body {"reason": "idle" | "max-age"} says
 * that the web app logged its user off automatically (audited as such). */
static OrthancPluginErrorCode on_logout(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  json_object *body = NULL;
  const char *reason = NULL;
  char detail[32] = "";
  int bad = 0;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  REQUIRE_IDENTITY(id);
  if (req->bodySize > 0) {
    if ((body = parse_body(req, out)) == NULL)
      return OrthancPluginErrorCode_Success;
    reason = member(body, "reason", &bad);
    if (bad || (reason != NULL && strcmp(reason, "idle") != 0 && strcmp(reason, "max-age") != 0)) {
      json_object_put(body);
      rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "\"reason\" is \"idle\" or \"max-age\" when given");
      return OrthancPluginErrorCode_Success;
    }
    if (reason != NULL)
      snprintf(detail, sizeof(detail), "automatic: %s", reason);
    json_object_put(body);
  }
  rr_auth_logout(deps->auth, &id, NULL, 0);
  rr_audit_log(deps->audit, id.username, id.role_name, "", "logout", "", "success", detail);
  set_session_cookies(out, req, "", "", 0);
  send_ok(out);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_refresh(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_login_result r;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  REQUIRE_IDENTITY(id);
  if ((error = rr_auth_refresh(deps->auth, &r, &id, err, sizeof(err))) < 0)
    send_failure(out, error, err);
  else
    send_session(out, req, &r);
  rr_login_result_dispose(&r);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_me(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  json_object *o, *u, *v;
  char csrf[65];

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  REQUIRE_IDENTITY(id);
  o = json_object_new_object();
  u = json_object_new_object();
  rr_json_set_str(u, "username", id.username, &jerr);
  rr_json_set_str(u, "displayName", id.display_name, &jerr);
  rr_json_set_str(u, "role", id.role_name, &jerr);
  rr_json_set(o, "user", u, &jerr);
  rr_json_add_time(o, "expiresAt", id.method == RR_AUTH_BASIC ? 0 : id.expires_at, &jerr);
  if (id.jti[0] != '\0') {
    rr_auth_csrf_for(deps->auth, csrf, id.jti);
    rr_json_set_str(o, "csrfToken", csrf, &jerr);
  } else {
    rr_json_set_null(o, "csrfToken", &jerr);
  }
  rr_json_set(o, "capabilities", capabilities_json(id.role, &jerr), &jerr);
  add_session_limits(o, &id, id.method == RR_AUTH_BASIC ? 0 : id.expires_at, 0, &jerr);
  /* the study viewer's settings (ReadingRoom.Viewer) */
  v = json_object_new_object();
  rr_json_set(v, "cacheMegabytes", json_object_new_int64(deps->options.viewer_cache_mb), &jerr);
  rr_json_set(o, "viewer", v, &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_password(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  json_object *body;
  const char *current, *next;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Put, "PUT");
  REQUIRE_IDENTITY(id);
  if ((body = parse_body(req, out)) == NULL)
    return OrthancPluginErrorCode_Success;
  if (!required_pair(&current, &next, body, "currentPassword", "newPassword", out))
    ; /* it answered 400 */
  else if ((error = rr_auth_change_password(deps->auth, &id, current, next, err, sizeof(err))) < 0)
    send_failure(out, error, err);
  else {
    /* every earlier token of the user stops working: answer with a new
     * session, as login does, so that the caller stays logged in */
    rr_login_result r;
    if (rr_auth_login(deps->auth, &r, id.username, next, rr_filter_current_source(), err, sizeof(err)) == 0)
      send_session(out, req, &r);
    else
      send_ok(out);
    rr_login_result_dispose(&r);
  }
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

/* --------------------------------------------------------------- users */

static OrthancPluginErrorCode on_users(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_user_list *list = NULL;
  rr_user_rec u;
  json_object *body, *o, *arr;
  const char *name, *display, *role, *pass;
  char err[ERR_SIZE] = "";
  size_t i;
  int bad = 0, error;

  (void)url;
  REQUIRE_IDENTITY(id); /* administrators only: the role matrix */
  if (req->method == OrthancPluginHttpMethod_Get) {
    if ((error = rr_store_user_list(deps->store, &list, err, sizeof(err))) < 0) {
      send_failure(out, error, err);
      return OrthancPluginErrorCode_Success;
    }
    o = json_object_new_object();
    arr = json_object_new_array();
    for (i = 0; i < list->count; i++)
      rr_json_append(arr, user_json(&list->items[i], 1), &jerr);
    rr_json_set(o, "data", arr, &jerr);
    rr_reply_built(ctx, out, 200, o, jerr);
    json_object_put(o);
    rr_user_list_free(list);
    return OrthancPluginErrorCode_Success;
  }
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "GET,POST");
  if ((body = parse_body(req, out)) == NULL)
    return OrthancPluginErrorCode_Success;
  name = member(body, "username", &bad);
  display = member(body, "displayName", &bad);
  role = member(body, "role", &bad);
  pass = member(body, "password", &bad);
  if (bad || name == NULL || role == NULL || pass == NULL) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "give \"username\", \"role\" and \"password\" (and optionally \"displayName\") as strings");
  } else if ((error = rr_auth_user_create(deps->auth, &id, name, display, role, pass, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
  } else if ((error = rr_store_user_get(deps->store, &u, name, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
  } else {
    o = user_json(&u, 1);
    rr_reply_built(ctx, out, 201, o, jerr);
    json_object_put(o);
  }
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_user(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  rr_user_rec u;
  json_object *body, *v, *o;
  const char *name = req->groupsCount > 0 ? req->groups[0] : "", *display, *role;
  char err[ERR_SIZE] = "";
  int bad = 0, enabled = -1, error;

  (void)url;
  REQUIRE_IDENTITY(id); /* administrators only: the role matrix */
  if (req->method == OrthancPluginHttpMethod_Get) {
    if ((error = rr_store_user_get(deps->store, &u, name, err, sizeof(err))) < 0) {
      send_failure(out, error, err);
    } else {
      o = user_json(&u, 1);
      rr_reply_json(ctx, out, 200, o);
      json_object_put(o);
    }
    return OrthancPluginErrorCode_Success;
  }
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Put, "GET,PUT");
  if ((body = parse_body(req, out)) == NULL)
    return OrthancPluginErrorCode_Success;
  display = member(body, "displayName", &bad);
  role = member(body, "role", &bad);
  if (json_object_object_get_ex(body, "enabled", &v)) {
    if (json_object_is_type(v, json_type_boolean))
      enabled = json_object_get_boolean(v) ? 1 : 0;
    else
      bad = 1;
  }
  if (bad)
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "\"displayName\" and \"role\" are strings, \"enabled\" a boolean");
  else if ((error = rr_auth_user_update(deps->auth, &id, name, display, role, enabled, err, sizeof(err))) < 0)
    send_failure(out, error, err);
  else if ((error = rr_store_user_get(deps->store, &u, name, err, sizeof(err))) < 0)
    send_failure(out, error, err);
  else {
    o = user_json(&u, 1);
    rr_reply_json(ctx, out, 200, o);
    json_object_put(o);
  }
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_user_password(OrthancPluginRestOutput *out, const char *url,
                                               const OrthancPluginHttpRequest *req)
{
  rr_identity id;
  json_object *body;
  const char *name = req->groupsCount > 0 ? req->groups[0] : "", *pass;
  char err[ERR_SIZE] = "";
  int bad = 0, error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Post, "POST");
  REQUIRE_IDENTITY(id); /* administrators only: the role matrix */
  if ((body = parse_body(req, out)) == NULL)
    return OrthancPluginErrorCode_Success;
  pass = member(body, "password", &bad);
  if (bad || pass == NULL)
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "give \"password\" as a string");
  else if ((error = rr_auth_user_reset_password(deps->auth, &id, name, pass, err, sizeof(err))) < 0)
    send_failure(out, error, err);
  else
    send_ok(out);
  json_object_put(body);
  return OrthancPluginErrorCode_Success;
}

/* --------------------------------------------------------------- audit */

/* The audit filter from GET audit's query (user, action, resource, from,
 * to, before, limit; newest first, 100 by default). Replies 400 and
 * returns false when a parameter is wrong. */
static bool audit_filter_of(rr_audit_filter *f, const OrthancPluginHttpRequest *req, OrthancPluginRestOutput *out)
{
  char a[4][160];
  const char *user, *action, *resource, *from, *to, *before, *limit;
  int64_t v;

  memset(f, 0, sizeof(*f));
  f->descending = true;
  f->limit = 100;
  user = rr_args_query(req, "user", a[0], sizeof(a[0]));
  action = rr_args_query(req, "action", a[1], sizeof(a[1]));
  resource = rr_args_query(req, "resource", a[2], sizeof(a[2]));
  from = rr_args_query(req, "from", a[3], sizeof(a[3]));
  if (user == NULL || action == NULL || resource == NULL || from == NULL || strlen(user) >= sizeof(f->username) ||
      strlen(action) >= sizeof(f->action) || strlen(resource) >= sizeof(f->resource) ||
      (from[0] && rr_time_parse_ms(&f->from_ms, from) < 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "bad filter: user, action, resource, from (ISO 8601 date or time)");
    return false;
  }
  rr_str_copy(f->username, sizeof(f->username), user);
  rr_str_copy(f->action, sizeof(f->action), action);
  rr_str_copy(f->resource, sizeof(f->resource), resource);
  to = rr_args_query(req, "to", a[3], sizeof(a[3]));
  if (to == NULL || (to[0] && rr_time_parse_ms(&f->to_ms, to) < 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "bad 'to' (ISO 8601 date or time)");
    return false;
  }
  before = rr_args_query(req, "before", a[3], sizeof(a[3]));
  if (before == NULL || (before[0] && rr_parse_i64(&f->before_seq, before, 1, INT64_MAX) < 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'before' must be a sequence number");
    return false;
  }
  limit = rr_args_query(req, "limit", a[3], sizeof(a[3]));
  if (limit == NULL || (limit[0] && rr_parse_i64(&v, limit, 1, 1000) < 0)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "'limit' must be between 1 and 1000");
    return false;
  }
  if (limit[0])
    f->limit = (uint32_t)v;
  return true;
}

/* One audit record as a new JSON object (time as ISO 8601 UTC with
 * milliseconds); failures are recorded in *jerr like rr_json_set. */
static json_object *audit_record_json(const rr_audit_rec *x, int *jerr)
{
  time_t secs = (time_t)(x->at_ms / 1000);
  struct tm tm;
  char when[64];
  json_object *r;

  gmtime_r(&secs, &tm);
  snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(x->at_ms % 1000));
  r = json_object_new_object();
  rr_json_set(r, "seq", json_object_new_int64(x->seq), jerr);
  rr_json_set_str(r, "at", when, jerr);
  rr_json_set_str(r, "username", x->username, jerr);
  rr_json_set_str(r, "role", x->role, jerr);
  rr_json_set_str(r, "source", x->source, jerr);
  rr_json_set_str(r, "action", x->action, jerr);
  rr_json_set_str(r, "resource", x->resource, jerr);
  rr_json_set_str(r, "outcome", x->outcome, jerr);
  rr_json_set_str(r, "detail", x->detail, jerr);
  rr_json_set_str(r, "hash", x->hash, jerr);
  return r;
}

static OrthancPluginErrorCode on_audit(OrthancPluginRestOutput *out, const char *url, const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_audit_filter f;
  rr_audit_list *list = NULL;
  json_object *o, *arr;
  char err[ERR_SIZE] = "";
  size_t i;
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  REQUIRE_IDENTITY(id); /* administrators only: the role matrix */
  if (!audit_filter_of(&f, req, out))
    return OrthancPluginErrorCode_Success;
  if ((error = rr_store_audit_query(deps->store, &list, &f, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return OrthancPluginErrorCode_Success;
  }
  o = json_object_new_object();
  arr = json_object_new_array();
  for (i = 0; i < list->count; i++)
    rr_json_append(arr, audit_record_json(&list->items[i], &jerr), &jerr);
  rr_json_set(o, "data", arr, &jerr);
  /* the last item is read only when there is one */
  rr_json_set_opt(o, "nextBefore", list->count == f.limit && list->count > 0,
                  json_object_new_int64(list->count > 0 ? list->items[list->count - 1].seq : 0), &jerr);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  rr_audit_list_free(list);
  return OrthancPluginErrorCode_Success;
}

static OrthancPluginErrorCode on_audit_verify(OrthancPluginRestOutput *out, const char *url,
                                              const OrthancPluginHttpRequest *req)
{
  int jerr = 0;
  rr_identity id;
  rr_audit_verification v;
  rr_audit_stats as;
  json_object *o;
  char err[ERR_SIZE] = "";
  int error;

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  REQUIRE_IDENTITY(id); /* administrators only: the role matrix */
  rr_audit_flush(deps->audit, 2000);
  if ((error = rr_audit_verify(&v, deps->store, err, sizeof(err))) < 0 ||
      (error = rr_audit_check_head(deps->audit, &v, deps->store, err, sizeof(err))) < 0) {
    send_failure(out, error, err);
    return OrthancPluginErrorCode_Success;
  }
  rr_audit_get_stats(deps->audit, &as);
  o = json_object_new_object();
  rr_json_set(o, "intact", json_object_new_boolean(v.intact), &jerr);
  rr_json_set(o, "records", json_object_new_int64(v.records), &jerr);
  if (as.anchored) {
    json_object *anchor = json_object_new_object();
    rr_json_set(anchor, "records", json_object_new_int64(as.anchor_seq), &jerr);
    rr_json_set_str(anchor, "headHash", as.anchor_hash, &jerr);
    rr_json_set(o, "anchor", anchor, &jerr);
  } else {
    rr_json_set_null(o, "anchor", &jerr);
  }
  rr_json_set_opt(o, "firstBroken", !(v.intact), json_object_new_int64(v.first_broken), &jerr);
  rr_json_set_opt(o, "reason", !(v.intact), rr_json_string(v.reason), &jerr);
  rr_audit_log(deps->audit, id.username, id.role_name, "", "audit.verify", "", v.intact ? "success" : "failure",
               v.intact ? "" : v.reason);
  rr_reply_built(ctx, out, 200, o, jerr);
  json_object_put(o);
  return OrthancPluginErrorCode_Success;
}

void rr_auth_api_register(OrthancPluginContext *context, const rr_api_deps *d, const char *root)
{
  static const struct {
    const char *suffix;
    OrthancPluginRestCallback cb;
  } routes[] = {
    {"/auth/login", on_login},       {"/auth/logout", on_logout}, {"/auth/refresh", on_refresh},
    {"/auth/me", on_me},             {"/auth/password", on_password}, {"/users", on_users},
    {"/users/([^/]+)", on_user},     {"/users/([^/]+)/password", on_user_password},
    {"/audit", on_audit},            {"/audit/verify", on_audit_verify},
  };
  char regex[512];
  size_t i;

  ctx = context;
  deps = d;
  for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
    snprintf(regex, sizeof(regex), "%s%s", root, routes[i].suffix);
    rr_api_route(context, regex, routes[i].cb);
  }
}
