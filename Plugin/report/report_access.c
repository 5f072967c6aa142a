#include "report/report_access.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_reports.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

#define CACHE_SIZE 4096 /* power of two */

typedef struct cache_slot {
  char id[RR_OID_SIZE];    /* an Orthanc series or instance id */
  char study[RR_OID_SIZE]; /* its study's Orthanc id */
} cache_slot;

struct rr_report_access {
  rr_store *store;
  rr_rest_source rest;
  rr_physician_scope scope;
  pthread_mutex_t lock;
  cache_slot *cache;
};

int rr_physician_scope_parse(rr_physician_scope *out, const char *name)
{
  if (name != NULL && strcmp(name, "all") == 0)
    *out = RR_PHYSICIAN_SCOPE_ALL;
  else if (name != NULL && strcmp(name, "referring") == 0)
    *out = RR_PHYSICIAN_SCOPE_REFERRING;
  else
    return RR_EINVAL;
  return 0;
}

int rr_report_access_new(rr_report_access **out, rr_store *store, rr_rest_source rest, rr_physician_scope scope)
{
  rr_report_access *a;

  *out = NULL;
  if ((a = calloc(1, sizeof(*a))) == NULL || (a->cache = calloc(CACHE_SIZE, sizeof(cache_slot))) == NULL) {
    free(a);
    return RR_ENOMEM;
  }
  a->store = store;
  a->rest = rest;
  a->scope = scope;
  pthread_mutex_init(&a->lock, NULL);
  *out = a;
  return 0;
}

void rr_report_access_free(rr_report_access *a)
{
  if (a == NULL)
    return;
  pthread_mutex_destroy(&a->lock);
  free(a->cache);
  free(a);
}

rr_physician_scope rr_report_access_scope(const rr_report_access *a)
{
  return a->scope;
}

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == ',';
}

void rr_report_access_pn_of(char *out, size_t size, const char *name)
{
  const char *words[2][2];
  const char *p = name ? name : "";
  size_t n = 0, len;
  char buf[RR_PN_SIZE];

  out[0] = '\0';
  if (strchr(p, '^') != NULL) { /* a DICOM PN already */
    rr_str_copy(out, size, p);
    return;
  }
  while (*p && n < 2) {
    while (*p && is_space(*p))
      p++;
    if (!*p)
      break;
    words[n][0] = p;
    while (*p && !is_space(*p))
      p++;
    words[n][1] = p;
    n++;
  }
  if (n == 0)
    return;
  if (n == 1) {
    rr_str_copyn(out, size, words[0][0], (size_t)(words[0][1] - words[0][0]));
    return;
  }
  /* "Family, Given" keeps its order; "Given Family" turns round */
  if (strchr(name, ',') != NULL && strchr(name, ',') < words[1][0]) {
    len = (size_t)(words[0][1] - words[0][0]);
    rr_str_copyn(buf, sizeof(buf), words[0][0], len);
    rr_str_copy(buf + strlen(buf), sizeof(buf) - strlen(buf), "^");
    rr_str_copyn(buf + strlen(buf), sizeof(buf) - strlen(buf), words[1][0], (size_t)(words[1][1] - words[1][0]));
  } else {
    /* the last word is the family name */
    const char *last = name + strlen(name), *end;
    while (last > name && is_space(last[-1]))
      last--;
    end = last;
    while (last > name && !is_space(last[-1]))
      last--;
    rr_str_copyn(buf, sizeof(buf), last, (size_t)(end - last));
    rr_str_copy(buf + strlen(buf), sizeof(buf) - strlen(buf), "^");
    rr_str_copyn(buf + strlen(buf), sizeof(buf) - strlen(buf), words[0][0], (size_t)(words[0][1] - words[0][0]));
  }
  rr_str_copy(out, size, buf);
}

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL;

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static bool cache_get(rr_report_access *a, char study[RR_OID_SIZE], const char *id)
{
  cache_slot *c;
  bool hit;

  pthread_mutex_lock(&a->lock);
  c = &a->cache[hash(id) & (CACHE_SIZE - 1)];
  hit = strcmp(c->id, id) == 0;
  if (hit)
    rr_str_copy(study, RR_OID_SIZE, c->study);
  pthread_mutex_unlock(&a->lock);
  return hit;
}

static void cache_put(rr_report_access *a, const char *id, const char *study)
{
  cache_slot *c;

  pthread_mutex_lock(&a->lock);
  c = &a->cache[hash(id) & (CACHE_SIZE - 1)];
  rr_str_copy(c->id, sizeof(c->id), id);
  rr_str_copy(c->study, sizeof(c->study), study);
  pthread_mutex_unlock(&a->lock);
}

/* An Orthanc id (plain hex and dashes, 44 characters) of a series or an
 * instance: its study's Orthanc id through Orthanc. false when it is
 * neither. */
static bool study_of(rr_report_access *a, char study[RR_OID_SIZE], const char *id)
{
  static const char *const levels[] = {"instances", "series"};
  char uri[RR_OID_SIZE + 32], err[256];
  json_object *o = NULL;
  const char *sid;
  size_t i;

  if (strlen(id) != 44 || strspn(id, "0123456789abcdef-") != 44 || a->rest.get_json == NULL)
    return false;
  if (cache_get(a, study, id))
    return true;
  for (i = 0; i < 2; i++) {
    snprintf(uri, sizeof(uri), "/%s/%s/study", levels[i], id);
    if (a->rest.get_json(a->rest.ctx, &o, uri, err, sizeof(err)) == 0) {
      sid = rr_json_str(o, "ID");
      if (sid[0] != '\0') {
        rr_str_copy(study, RR_OID_SIZE, sid);
        cache_put(a, id, study);
        json_object_put(o);
        return true;
      }
      json_object_put(o);
      o = NULL;
    }
  }
  return false;
}

int rr_report_access_physician_may_read(bool *out, rr_report_access *a, const char *study, const char *display_name,
                                        char *err, size_t errsize)
{
  char pn[RR_PN_SIZE] = "";

  *out = false;
  if (a->scope == RR_PHYSICIAN_SCOPE_REFERRING) {
    rr_report_access_pn_of(pn, sizeof(pn), display_name);
    if (pn[0] == '\0')
      return 0; /* a physician without a name is referring nobody */
  }
  return rr_store_report_has_final(a->store, out, study, pn, err, errsize);
}

int rr_report_access_study_check(void *ctx, const char *id, const char *caller_name)
{
  rr_report_access *a = ctx;
  char err[256] = "", study[RR_OID_SIZE];
  bool yes = false;
  int error;

  if (a == NULL || id == NULL || id[0] == '\0')
    return 0;
  if ((error = rr_report_access_physician_may_read(&yes, a, id, caller_name, err, sizeof(err))) < 0) {
    rr_log_error("reports: the physicians' study check failed: %s", err);
    return error;
  }
  if (!yes && study_of(a, study, id) &&
      (error = rr_report_access_physician_may_read(&yes, a, study, caller_name, err, sizeof(err))) < 0) {
    rr_log_error("reports: the physicians' study check failed: %s", err);
    return error;
  }
  return yes ? 1 : 0;
}
