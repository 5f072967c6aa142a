#include "json.h"

#include <string.h>
#include <time.h>

#include "errors.h"
#include "str.h"

int rr_json_add(json_object *obj, const char *key, json_object *val)
{
  if (val == NULL)
    return RR_ENOMEM;
  if (json_object_object_add(obj, key, val) != 0) {
    json_object_put(val);
    return RR_ENOMEM;
  }
  return 0;
}

int rr_json_push(json_object *arr, json_object *val)
{
  if (val == NULL)
    return RR_ENOMEM;
  if (json_object_array_add(arr, val) != 0) {
    json_object_put(val);
    return RR_ENOMEM;
  }
  return 0;
}

json_object *rr_json_string(const char *s)
{
  size_t len;

  if (s == NULL)
    s = "";
  len = strlen(s);
  return json_object_new_string_len(s, (int)rr_utf8_valid_prefix(s, len));
}

const char *rr_json_member_str(json_object *o, const char *key, int *bad)
{
  json_object *v;

  if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
    return NULL;
  if (!json_object_is_type(v, json_type_string)) {
    *bad = 1;
    return NULL;
  }
  return json_object_get_string(v);
}

void rr_json_add_time(json_object *o, const char *key, int64_t t, int *status)
{
  char when[21];

  if (t <= 0) {
    rr_json_set_null(o, key, status);
    return;
  }
  rr_time_iso8601(when, (time_t)t);
  rr_json_set(o, key, json_object_new_string(when), status);
}

static void record(int *status, int error)
{
  if (error < 0 && *status == 0)
    *status = error;
}

void rr_json_set(json_object *obj, const char *key, json_object *val, int *status)
{
  if (obj == NULL) {
    json_object_put(val);
    record(status, RR_ENOMEM);
    return;
  }
  record(status, rr_json_add(obj, key, val));
}

void rr_json_set_str(json_object *obj, const char *key, const char *s, int *status)
{
  rr_json_set(obj, key, rr_json_string(s), status);
}

void rr_json_set_null(json_object *obj, const char *key, int *status)
{
  if (obj == NULL || json_object_object_add(obj, key, NULL) != 0)
    record(status, RR_ENOMEM);
}

void rr_json_set_opt(json_object *obj, const char *key, bool present, json_object *val, int *status)
{
  if (present) {
    rr_json_set(obj, key, val, status);
  } else {
    json_object_put(val);
    rr_json_set_null(obj, key, status);
  }
}

void rr_json_append(json_object *arr, json_object *val, int *status)
{
  if (arr == NULL) {
    json_object_put(val);
    record(status, RR_ENOMEM);
    return;
  }
  record(status, rr_json_push(arr, val));
}

json_object *rr_json_done(json_object *obj, int status)
{
  if (status == 0 && obj != NULL)
    return obj;
  json_object_put(obj);
  return NULL;
}

const char *rr_json_str(json_object *obj, const char *key)
{
  json_object *v;

  if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
    return "";
  return json_object_get_string(v);
}

json_object *rr_json_obj(json_object *obj, const char *key)
{
  json_object *v;

  if (obj == NULL || !json_object_object_get_ex(obj, key, &v))
    return NULL;
  return v;
}

json_object *rr_json_split_values(const char *value)
{
  int jerr = 0;
  json_object *arr = json_object_new_array();
  const char *p = value;
  size_t len;

  while (*p) {
    len = strcspn(p, "\\");
    if (len > 0)
      rr_json_append(arr, json_object_new_string_len(p, (int)len), &jerr);
    p += len;
    if (*p)
      p++;
  }
  return rr_json_done(arr, jerr);
}
