/*
 * image/orthanc_frame.h - one frame of a stored instance as a PNG, or as its
 * modality values (image/modality_values.h), through the Orthanc SDK: the
 * file is read from Orthanc, decoded by Orthanc's decoders (and
 * orthanc-gdcm's: every transfer syntax they support, multi-frame
 * included), the rendering parameters come from the instance's tags
 * (image/dicom_params.h, LUT data read through /content), then
 * image/render.h and image/png_encode.h do the rest (for the values:
 * image/modality_values.h).
 *
 * Uses Orthanc's REST API from the calling thread: call it from REST
 * handlers or the plugin's own threads, never from Orthanc's OnChange or
 * OnStoredInstance callbacks. Thread-safe.
 */
#ifndef RR_IMAGE_ORTHANC_FRAME_H
#define RR_IMAGE_ORTHANC_FRAME_H

#include <orthanc/OrthancCPlugin.h>
#include <stdbool.h>
#include <stdint.h>

#include "image/modality_values.h"
#include "image/render.h"
#include "util/buf.h"

typedef struct rr_frame_request {
  uint32_t frame;        /* 0-based */
  bool has_window;       /* explicit window (modality units) */
  double center, width;
  const char *preset;    /* "lung", "mediastinum", "bone", "brain", "abdomen" or NULL */
  uint32_t max_side;     /* 0 = 1024; at most 2048 */
} rr_frame_request;

/* Append the PNG to *png; *info (may be NULL) says which window was used.
 * RR_ENOTFOUND: no such instance or frame; RR_EINVAL: not an image Orthanc
 * can decode, or a pixel format the renderer does not take; RR_EUPSTREAM:
 * Orthanc failed. */
int rr_orthanc_frame_png(rr_buf *png, rr_render_info *info, OrthancPluginContext *ctx, const char *instance_id,
                         const rr_frame_request *req, char *err, size_t errsize);

/* What rr_orthanc_frame_values wrote. The window is the file's first
 * WindowCenter/Width (has_window false without one). */
typedef struct rr_frame_values_info {
  uint32_t columns, rows;
  rr_values_info values;
  bool has_window;
  double window_center, window_width;
} rr_frame_values_info;

/* Append frame `frame` (0-based) of the instance as modality values to
 * *values (columns * rows of them, int16 or float32, little-endian) and
 * describe them in *info. Errors as rr_orthanc_frame_png; RR_EINVAL also
 * for a colour frame. */
int rr_orthanc_frame_values(rr_buf *values, rr_frame_values_info *info, OrthancPluginContext *ctx,
                            const char *instance_id, uint32_t frame, char *err, size_t errsize);

#endif
