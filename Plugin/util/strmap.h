/*
 * strmap.h - a hash map from short strings (Orthanc identifiers) to int64.
 *
 * Keys are copied (at most 63 bytes). Growth is bounded by `max_entries`
 * given at creation; an insert beyond it fails with RR_EFULL. Not
 * thread-safe. rr_strmap_free accepts NULL.
 */
#ifndef RR_UTIL_STRMAP_H
#define RR_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rr_strmap rr_strmap;

int rr_strmap_new(rr_strmap **out, size_t max_entries);
void rr_strmap_free(rr_strmap *map);
/* Insert or overwrite. */
int rr_strmap_put(rr_strmap *map, const char *key, int64_t value);
/* Returns true and stores the value when the key is present. */
bool rr_strmap_get(const rr_strmap *map, const char *key, int64_t *value);
/* Mark a key as visited; visited keys are skipped by rr_strmap_next. */
void rr_strmap_mark(rr_strmap *map, const char *key);
/* Iterate: *pos starts at 0; returns false at the end. Skips marked keys. */
bool rr_strmap_next(const rr_strmap *map, size_t *pos, const char **key, int64_t *value);
size_t rr_strmap_count(const rr_strmap *map);

#endif
