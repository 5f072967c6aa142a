#include "filter.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/clock.h"
#include "util/errors.h"
#include "util/str.h"

#define SEEN_SIZE 4096          /* power of two */
#define SEEN_SECONDS 600        /* audit a user's access to a study once per 10 minutes */

typedef struct seen_slot {
  char key[160];
  int64_t at;
} seen_slot;

/* What the filter decided for the request the thread is handling: Orthanc
 * runs the filter and then the route in the same HTTP thread. Reset at the
 * start of every decision, so nothing of an earlier request survives. */
static _Thread_local char current_source[64];
static _Thread_local rr_identity current_identity;
static _Thread_local bool current_allowed;
static _Thread_local bool current_challenge;

bool rr_filter_take_challenge(void)
{
  bool c = current_challenge;

  current_challenge = false;
  return c;
}

const char *rr_filter_current_source(void)
{
  return current_source;
}

const rr_identity *rr_filter_current_identity(void)
{
  return current_allowed ? &current_identity : NULL;
}

struct rr_filter {
  rr_auth *auth;
  rr_matrix *matrix;
  rr_audit *audit;
  char api_root[128];
  pthread_mutex_t lock;
  seen_slot *seen;
};

int rr_filter_new(rr_filter **out, rr_auth *auth, rr_matrix *matrix, rr_audit *audit, const char *api_root)
{
  rr_filter *f;

  *out = NULL;
  if ((f = calloc(1, sizeof(*f))) == NULL || (f->seen = calloc(SEEN_SIZE, sizeof(seen_slot))) == NULL) {
    free(f);
    return RR_ENOMEM;
  }
  f->auth = auth;
  f->matrix = matrix;
  f->audit = audit;
  rr_str_copy(f->api_root, sizeof(f->api_root), api_root);
  pthread_mutex_init(&f->lock, NULL);
  *out = f;
  return 0;
}

void rr_filter_free(rr_filter *f)
{
  if (f == NULL)
    return;
  pthread_mutex_destroy(&f->lock);
  free(f->seen);
  free(f);
}

static bool state_changing(const char *method)
{
  return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0;
}

/* Origin "http://host[:port]" or "https://..." naming the Host header. */
static bool same_origin(const char *origin, const char *host)
{
  const char *p;

  if (origin == NULL || host == NULL || *host == '\0')
    return false;
  if (strncmp(origin, "http://", 7) == 0)
    p = origin + 7;
  else if (strncmp(origin, "https://", 8) == 0)
    p = origin + 8;
  else
    return false;
  return strcmp(p, host) == 0;
}

/* The identifier a study-related path is about: "/studies/{id}/..." etc.;
 * WADO-URI names its study in the query string (wado_study). */
static void resource_of(char *out, size_t size, const char *uri, const char *wado_study)
{
  static const char *const prefixes[] = {"/studies/", "/series/", "/instances/", "/patients/", "/dicom-web/studies/"};
  size_t i, len;

  out[0] = '\0';
  if (strcmp(uri, "/wado") == 0) {
    rr_str_copy(out, size, wado_study ? wado_study : "");
    return;
  }
  for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
    size_t n = strlen(prefixes[i]);
    if (strncmp(uri, prefixes[i], n) == 0) {
      len = strcspn(uri + n, "/");
      rr_str_copyn(out, size, uri + n, len);
      return;
    }
  }
  /* the plugin's own study routes name the StudyInstanceUID, its instance
   * routes (rendered frames, transcoded files) the instance's Orthanc id,
   * which the study check resolves to its study */
  for (i = 0; i < 2; i++) {
    const char *marker = i == 0 ? "/dicom/studies/" : "/dicom/instances/";
    const char *at = strstr(uri, marker);

    if (at != NULL) {
      at += strlen(marker);
      rr_str_copyn(out, size, at, strcspn(at, "/"));
      return;
    }
  }
}

/* True the first time in SEEN_SECONDS this user touches this resource. */
static bool first_access(rr_filter *f, const char *user, const char *resource)
{
  char key[160];
  uint64_t h = 1469598103934665603ULL;
  const char *p;
  seen_slot *s;
  int64_t now = rr_clock_unix_s();
  bool first;

  snprintf(key, sizeof(key), "%s|%s", user, resource);
  for (p = key; *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  pthread_mutex_lock(&f->lock);
  s = &f->seen[h & (SEEN_SIZE - 1)];
  first = strcmp(s->key, key) != 0 || now - s->at >= SEEN_SECONDS;
  if (first) {
    rr_str_copy(s->key, sizeof(s->key), key);
    s->at = now;
  }
  pthread_mutex_unlock(&f->lock);
  return first;
}

static void refuse(rr_filter *f, rr_filter_result *out, const rr_filter_request *req, const char *action,
                   const char *reason)
{
  out->allow = false;
  rr_str_copy(out->reason, sizeof(out->reason), reason);
  rr_audit_log(f->audit, out->identity.username, out->identity.role_name, req->source, action, req->uri, "denied",
               reason);
}

/* A request that may be answered with a challenge instead of a refusal: HTTP
 * Basic accepted at all, not from the web app, under the API root (where only the plugin's routes
 * answer: its catch-all route takes every path there), and with a path that
 * Orthanc cannot turn into one outside the root (no dot segments, no empty
 * segments, no escapes). */
static bool challengeable(const rr_filter *f, const rr_filter_request *req)
{
  const char *p;

  if (!rr_auth_basic_allowed(f->auth) || rr_filter_from_web_app(req->requested_with, req->cookie, req->sec_fetch_mode) ||
      !rr_str_starts_with(req->uri, f->api_root))
    return false;
  for (p = req->uri; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
          c == '.' || c == '/'))
      return false;
    if (c == '/' && (p[1] == '/' || p[1] == '.'))
      return false;
  }
  return true;
}

/* Whether the Cookie header has a cookie named `name`. */
static bool has_cookie(const char *header, const char *name)
{
  size_t n = strlen(name);
  const char *p = header;

  while (p != NULL && *p != '\0') {
    p += strspn(p, " \t;");
    if (strncmp(p, name, n) == 0 && p[n] == '=')
      return true;
    p = strchr(p, ';');
  }
  return false;
}

bool rr_filter_from_web_app(const char *requested_with, const char *cookie, const char *sec_fetch_mode)
{
  return requested_with != NULL || (sec_fetch_mode != NULL && strcmp(sec_fetch_mode, "navigate") != 0) ||
         has_cookie(cookie, RR_SESSION_COOKIE) || has_cookie(cookie, RR_CSRF_COOKIE);
}

static bool is_basic(const char *authorization)
{
  return authorization != NULL && strncasecmp(authorization, "Basic ", 6) == 0;
}

/* Refused, but let through to be answered 401 + challenge by the route. */
static void challenge(rr_filter_result *out)
{
  out->challenge = true;
  current_challenge = true;
}

void rr_filter_decide(rr_filter *f, rr_filter_result *out, const rr_filter_request *req)
{
  rr_credentials cred = {req->authorization, req->cookie, req->source};
  rr_matrix_decision d;
  char reason[160] = "", resource[128];
  int error;

  memset(out, 0, sizeof(*out));
  current_allowed = false;
  current_challenge = false;
  memset(&current_identity, 0, sizeof(current_identity));
  rr_str_copy(current_source, sizeof(current_source), req->source);
  error = rr_auth_authenticate(f->auth, &out->identity, &cred, reason, sizeof(reason));
  if (error == RR_ENOTFOUND || (error < 0 && req->authorization == NULL)) {
    /* No credentials, or only a session cookie that no longer holds (logged
     * out, password changed, expired): anonymous, so that the login page and
     * the login route still work; the browser cannot drop an HttpOnly cookie
     * by itself, and login replaces it. */
    if (error != RR_ENOTFOUND)
      rr_audit_log(f->audit, "", "", req->source, "auth.refused", req->uri, "denied", reason[0] ? reason : "stale session");
    memset(&out->identity, 0, sizeof(out->identity));
    out->identity.role = RR_ROLE_ANONYMOUS;
  } else if (error < 0) {
    /* credentials that do not hold are refused, even on public routes */
    memset(&out->identity, 0, sizeof(out->identity));
    refuse(f, out, req, "auth.refused", reason[0] ? reason : "credentials refused");
    if (is_basic(req->authorization) && challengeable(f, req))
      challenge(out);
    return;
  }

  rr_matrix_check(&d, f->matrix, req->method, req->uri, out->identity.role);
  if (!d.allow) {
    out->allow = false;
    rr_str_copy(out->reason, sizeof(out->reason), d.reason);
    /* anonymous probes of non-public routes are common (browsers, scanners):
     * audit only the refusals of authenticated users */
    if (out->identity.role != RR_ROLE_ANONYMOUS)
      refuse(f, out, req, "access.denied", d.reason);
    else if (challengeable(f, req))
      challenge(out);
    return;
  }
  if (out->identity.method == RR_AUTH_COOKIE && state_changing(req->method) &&
      !rr_auth_csrf_ok(f->auth, &out->identity, req->csrf) && !same_origin(req->origin, req->host)) {
    refuse(f, out, req, "csrf.refused", "a cookie session needs its CSRF token (X-CSRF-Token) or a same-origin request");
    return;
  }
  resource_of(resource, sizeof(resource), req->uri, req->wado_study);
  if ((d.flags & RR_RULE_STUDY_IMAGES) != 0) {
    rr_matrix_check_study_as(&d, f->matrix, resource, out->identity.display_name);
    if (!d.allow) {
      refuse(f, out, req, "access.denied", d.reason);
      return;
    }
  }
  out->allow = true;
  current_identity = out->identity;
  current_allowed = true;
  /* changes through Orthanc's own API (uploads, deletions, modifications);
   * the plugin's API audits its own actions with more detail */
  if (state_changing(req->method) && !rr_str_starts_with(req->uri, f->api_root)) {
    const char *action = strcmp(req->method, "DELETE") == 0 ? "delete"
                         : strcmp(req->uri, "/instances") == 0 || strncmp(req->uri, "/dicom-web/studies", 18) == 0
                             ? "upload"
                             : "change";
    rr_audit_log(f->audit, out->identity.username, out->identity.role_name, req->source, action,
                 resource[0] ? resource : req->uri, "success", req->method);
  }
  if ((d.flags & RR_RULE_AUDIT_STUDY) != 0 && resource[0] != '\0' &&
      first_access(f, out->identity.username, resource))
    rr_audit_log(f->audit, out->identity.username, out->identity.role_name, req->source, "study.access", resource,
                 "success", req->method);
}
