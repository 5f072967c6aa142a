/*
 * api/args.h - the arguments of a route, read one way on every route:
 *
 * - Path segments ({StudyInstanceUID}, {id}) arrive decoded once by
 *   Orthanc's HTTP server and are never decoded again (a second decoding
 *   would let "%252F" become '/' after the role matrix has matched the
 *   path). A study identifier is checked by rr_args_study_uid_ok.
 * - Query arguments arrive undecoded (Orthanc 1.10.1) and are decoded with
 *   rr_url_decode (util/str.h) by rr_args_query.
 *
 * Pure functions of their inputs; thread-safe; nothing allocated.
 */
#ifndef RR_API_ARGS_H
#define RR_API_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <orthanc/OrthancCPlugin.h>

/* A study identifier in a route: 1 to 64 characters in components
 * separated by single dots (none empty), each made of digits as in a
 * conformant UID or of letters and digits, because real archives hold
 * non-conformant UIDs (hex digests such as a SHA-256, vendor prefixes) that
 * must open and be analysed. Anything else ('-', '_', spaces, quotes, ';',
 * '%', '+', '/', control bytes) is refused. The same rule for the study,
 * frame and AI routes. */
bool rr_args_study_uid_ok(const char *uid);

/* The query argument `key`, URL-decoded into buf: buf, "" when absent, NULL
 * when the decoded value does not fit in `size` bytes. */
const char *rr_args_query(const OrthancPluginHttpRequest *req, const char *key, char *buf, size_t size);

#endif
