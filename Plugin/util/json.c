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

void rr_json_add_time(json_object *o, const char *key, int64_t t)
{
  char when[21];

  if (t <= 0) {
    json_object_object_add(o, key, NULL);
    return;
  }
  rr_time_iso8601(when, (time_t)t);
  json_object_object_add(o, key, json_object_new_string(when));
}
