/*
 * json.h - the json-c helpers of every module: add a member or an array
 * element and take ownership of the value in every case (released when it
 * cannot be added); strings from untrusted text; reading a member. Pure and
 * thread-safe.
 */
#ifndef RR_UTIL_JSON_H
#define RR_UTIL_JSON_H

#include <json-c/json.h>
#include <stdint.h>

/* RR_ENOMEM when val is NULL (a failed json_object_new_*) or cannot be added. */
int rr_json_add(json_object *obj, const char *key, json_object *val);
int rr_json_push(json_object *arr, json_object *val);

/* A json-c string from UTF-8 text (any invalid tail is dropped; NULL is
 * ""). NULL only when out of memory. */
json_object *rr_json_string(const char *s);

/* A member's string, or NULL when absent or null; *bad is set when present
 * but not a string. */
const char *rr_json_member_str(json_object *o, const char *key, int *bad);

/* Add an ISO 8601 UTC time (null for t <= 0). */
void rr_json_add_time(json_object *o, const char *key, int64_t t);

#endif
