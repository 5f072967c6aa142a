#include "json.h"

#include "errors.h"

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
