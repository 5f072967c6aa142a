/*
 * orthanc_rest.h - read Orthanc's REST API from the plugin's own threads.
 *
 * rr_rest_source is a small interface (function + context) so that modules
 * that read Orthanc (ingestion) can be unit-tested with a stand-in. The
 * production source calls OrthancPluginRestApiGet; it must not be used from
 * Orthanc's OnStoredInstance/OnChange callbacks (deadlock risk), only from
 * the plugin's worker threads and REST handlers.
 *
 * get_json: *out receives a new json-c object the caller releases with
 * json_object_put(). Returns 0, RR_ENOTFOUND (unknown resource), or
 * RR_EUPSTREAM with a sentence in err.
 *
 * get_raw (may be NULL in stand-ins: the caller then does without): the
 * answer's bytes, at most max of them. *out receives a malloc'd copy (plus a
 * NUL not counted in *outlen) the caller frees. Returns 0, RR_ENOTFOUND,
 * RR_EFULL (longer than max; *out is NULL), RR_ENOMEM or RR_EUPSTREAM.
 */
#ifndef RR_UTIL_ORTHANC_REST_H
#define RR_UTIL_ORTHANC_REST_H

#include <json-c/json.h>
#include <stddef.h>

typedef struct rr_rest_source {
  void *ctx;
  int (*get_json)(void *ctx, json_object **out, const char *uri, char *err, size_t errsize);
  int (*get_raw)(void *ctx, char **out, size_t *outlen, const char *uri, size_t max, char *err, size_t errsize);
} rr_rest_source;

struct _OrthancPluginContext_t;

/* A source reading the running Orthanc's REST API through the plugin SDK. */
rr_rest_source rr_rest_source_orthanc(struct _OrthancPluginContext_t *ctx);

/*
 * rr_rest_poster: POST a body to Orthanc's REST API and read its JSON answer
 * (report outputs: /tools/create-dicom), from the plugin's own threads only,
 * like rr_rest_source. post_json: *out receives a new json-c object (NULL on
 * failure); returns 0, RR_ENOTFOUND, RR_EINVAL (Orthanc refused the body as
 * a bad request) or RR_EUPSTREAM with a sentence in err.
 */
typedef struct rr_rest_poster {
  void *ctx;
  int (*post_json)(void *ctx, json_object **out, const char *uri, const void *body, size_t len, char *err,
                   size_t errsize);
} rr_rest_poster;

/* A poster to the running Orthanc through the plugin SDK. */
rr_rest_poster rr_rest_poster_orthanc(struct _OrthancPluginContext_t *ctx);

#endif
