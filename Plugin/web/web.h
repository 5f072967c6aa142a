/*
 * web.h - serves the web app under the configured root (default
 * "/reading-room/"): the files embedded at build time, or, for development,
 * the files of a directory (ReadingRoom.WebAppDirectory).
 *
 * Answers carry the MIME type of the file's extension, a strong ETag
 * (If-None-Match gives 304), long-lived immutable caching for the hashed
 * files under assets/, "no-cache" for everything else (index.html), and
 * security headers (Content-Security-Policy, nosniff, no framing).
 * rr_web_register must be called from OrthancPluginInitialize; `config` must
 * outlive the plugin.
 */
#ifndef RR_WEB_WEB_H
#define RR_WEB_WEB_H

#include <orthanc/OrthancCPlugin.h>

#include "config.h"

int rr_web_register(OrthancPluginContext *ctx, const rr_config *config);

/* MIME type for a path, from its extension (pure). */
const char *rr_web_mime_type(const char *path);
/* Whether a request path is acceptable: relative, no "..", no "//", no
 * backslash, no control characters (pure). */
int rr_web_path_ok(const char *path);

#endif
