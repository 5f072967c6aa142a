/*
 * json.h - json-c helpers for building answers: add a member or an array
 * element and take ownership of the value in every case (released when it
 * cannot be added). Pure and thread-safe.
 */
#ifndef RR_UTIL_JSON_H
#define RR_UTIL_JSON_H

#include <json-c/json.h>

/* RR_ENOMEM when val is NULL (a failed json_object_new_*) or cannot be added. */
int rr_json_add(json_object *obj, const char *key, json_object *val);
int rr_json_push(json_object *arr, json_object *val);

#endif
