/*
 * embedded.h - files compiled into the library (Resources/ and the web app).
 *
 * The tables are generated at build time by Resources/cmake/Embed.cmake; the
 * data lives in read-only memory for the life of the process and is never
 * freed. Each file's data is followed by a NUL byte that `size` does not
 * count, so text resources can be used as C strings.
 */
#ifndef RR_UTIL_EMBEDDED_H
#define RR_UTIL_EMBEDDED_H

#include <stddef.h>

typedef struct rr_embedded_file {
  const char *path;           /* relative path, '/' separated */
  const unsigned char *data;
  size_t size;
  const char *etag;           /* quoted strong ETag from the content hash */
} rr_embedded_file;

/* Resources/ files: default configuration, SQL migrations. */
extern const rr_embedded_file rr_resources_files[];
extern const size_t rr_resources_count;
/* The built web app (WebViewer/dist); empty when built without it. */
extern const rr_embedded_file rr_webapp_files[];
extern const size_t rr_webapp_count;

/* Find a file by exact path; NULL if absent. */
const rr_embedded_file *rr_embedded_find(const rr_embedded_file *table, size_t count, const char *path);

#endif
