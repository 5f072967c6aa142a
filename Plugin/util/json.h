/*
 * json.h - the json-c helpers of every module: add a member or an array
 * element and take ownership of the value in every case (released when it
 * cannot be added); strings from untrusted text; reading a member. Pure and
 * thread-safe.
 */
#ifndef RR_UTIL_JSON_H
#define RR_UTIL_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* RR_ENOMEM when val is NULL (a failed json_object_new_*) or cannot be added. */
int rr_json_add(json_object *obj, const char *key, json_object *val);
int rr_json_push(json_object *arr, json_object *val);

/*
 * A checked builder for answers: each call takes ownership of `val` and, when
 * it cannot be added (a NULL value from a failed json_object_new_*, a NULL
 * object or array, a failed add), releases it and records RR_ENOMEM in
 * *status unless an earlier failure is recorded there already. Later calls
 * still run, so a function builds its whole answer and checks once:
 *   int jerr = 0;
 *   rr_json_set(o, "id", json_object_new_string(id), &jerr);
 *   return rr_json_done(o, jerr);
 * A JSON null is explicit: rr_json_set_null, or rr_json_set_opt with
 * present false.
 */
void rr_json_set(json_object *obj, const char *key, json_object *val, int *status);
void rr_json_set_null(json_object *obj, const char *key, int *status);
/* rr_json_set with rr_json_string(s). */
void rr_json_set_str(json_object *obj, const char *key, const char *s, int *status);
/* val when `present`, else null (val, when not NULL, is released). */
void rr_json_set_opt(json_object *obj, const char *key, bool present, json_object *val, int *status);
void rr_json_append(json_object *arr, json_object *val, int *status);
/* obj when status is 0; otherwise obj is released and NULL returned. */
json_object *rr_json_done(json_object *obj, int status);

/* A json-c string from UTF-8 text (any invalid tail is dropped; NULL is
 * ""). NULL only when out of memory. */
json_object *rr_json_string(const char *s);

/* A member's string, or NULL when absent or null; *bad is set when present
 * but not a string. */
const char *rr_json_member_str(json_object *o, const char *key, int *bad);

/* Readers that never fail: a member's string ("" when obj is NULL, or the
 * member is absent or not a string); a member of any type (NULL when
 * absent). The results are borrowed from obj. */
const char *rr_json_str(json_object *obj, const char *key);
json_object *rr_json_obj(json_object *obj, const char *key);

/* A backslash-separated DICOM value ("CT\\MR") as a JSON array of its
 * non-empty parts; NULL when out of memory. */
json_object *rr_json_split_values(const char *value);

/* Add an ISO 8601 UTC time (null for t <= 0), checked like rr_json_set. */
void rr_json_add_time(json_object *o, const char *key, int64_t t, int *status);

#endif
