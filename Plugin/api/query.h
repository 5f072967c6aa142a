/*
 * query.h - parse and validate the worklist's HTTP query arguments into an
 * rr_worklist_query (see store/records.h and the README's API section).
 *
 * Keys and values are URL-decoded here ("%XX", '+'), since Orthanc 1.10.1
 * passes them to plugins as they came. Pure and thread-safe. Unknown arguments, values that are not UTF-8 or too
 * long, impossible dates, out-of-range numbers and unknown sort keys are
 * refused with RR_EINVAL and a sentence naming the argument.
 */
#ifndef RR_API_QUERY_H
#define RR_API_QUERY_H

#include <stddef.h>

#include "store/records.h"

#define RR_QUERY_MAX_OFFSET 1000000u
#define RR_QUERY_MAX_ARG_BYTES 256

int rr_query_parse(rr_worklist_query *out, const char *const *keys, const char *const *values, size_t count,
                   unsigned default_limit, unsigned max_limit, char *err, size_t errsize);

#endif
