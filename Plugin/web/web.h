/*
 * web.h - serves the web app under the configured root (default
 * "/reading-room/"): the files embedded at build time, or, for development,
 * the files of a directory (ReadingRoom.WebAppDirectory).
 *
 * Answers carry the MIME type of the file's extension, a strong ETag
 * (If-None-Match gives 304), long-lived immutable caching for the hashed
 * files under assets/, "no-cache" for everything else (index.html), and
 * security headers (Content-Security-Policy, nosniff, no framing; HSTS when
 * Orthanc serves HTTPS).
 * rr_web_register must be called from OrthancPluginInitialize; it copies
 * the options.
 */
#ifndef RR_WEB_WEB_H
#define RR_WEB_WEB_H

#include <orthanc/OrthancCPlugin.h>
#include <stdbool.h>

#include "config.h"
#include "util/buf.h"

typedef struct rr_web_options {
  const char *web_root;         /* "/reading-room/": starts and ends with '/', < RR_ROOT_SIZE */
  const char *webapp_directory; /* "" or NULL: the embedded app; else a directory (development) */
  bool hsts;                    /* Orthanc serves HTTPS: send Strict-Transport-Security */
} rr_web_options;

/* RR_EFULL when a root or directory does not fit. */
int rr_web_register(OrthancPluginContext *ctx, const rr_web_options *opts);

/* The script that adds the Reading Room's buttons to Orthanc Explorer
 * (plugin.c hands it to OrthancPluginExtendOrthancExplorer, which only the
 * plugin's entry file can call): every READING_ROOM_WEB_ROOT in `js`
 * (NUL-terminated) becomes ".." + root (relative to
 * /app/explorer.html). Pure; out is initialised here (release with
 * rr_buf_dispose, also on failure). */
int rr_web_explorer_script(rr_buf *out, const char *js, const char *root);

/* MIME type for a path, from its extension (pure). */
const char *rr_web_mime_type(const char *path);
/* Whether a request path is acceptable: relative, no "..", no "//", no
 * backslash, no control characters (pure). */
int rr_web_path_ok(const char *path);

#endif
