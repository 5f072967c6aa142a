/*
 * image/modality_values.h - a decoded grayscale frame as modality values
 * (the Modality LUT step of render.h's pipeline, without VOI and without
 * 8 bits): what the viewer builds MPR and 3D volumes from (README.md,
 * "Volumes"; api.c's .../frames/{n}/values).
 *
 * stored value -> Modality LUT Sequence (when params->modality_lut is set:
 * rr_lut_lookup of render.h: inputs outside the table take its end entries) else
 * value * RescaleSlope + RescaleIntercept (a slope of 0 taken as 1).
 *
 * The type of the output is chosen from the whole frame: RR_VALUES_INT16
 * when every value is a whole number in -32768..32767 (integer slope and
 * intercept, or a table whose entries fit), otherwise RR_VALUES_FLOAT32.
 * Values are written row after row (width * height of them, the frame's
 * pitch resolved), little-endian whatever the host, so the browser reads
 * them with an Int16Array / Float32Array on any little-endian machine.
 *
 * Only grayscale frames (RR_PIXEL_GRAY8, GRAY16, SGRAY16); RGB and palette
 * colour are RR_EINVAL (a colour image is not a volume). Pixel Padding is
 * not treated specially: a padding value is a value like any other here.
 *
 * Ownership: frame and params are borrowed; the values are appended to
 * *out (its maximum applies: RR_EFULL). Pure and thread-safe.
 */
#ifndef RR_IMAGE_MODALITY_VALUES_H
#define RR_IMAGE_MODALITY_VALUES_H

#include "image/render.h"
#include "util/buf.h"

typedef enum rr_values_type {
  RR_VALUES_INT16 = 0,
  RR_VALUES_FLOAT32 = 1
} rr_values_type;

typedef struct rr_values_info {
  rr_values_type type;
  double min, max; /* of the values written */
} rr_values_info;

/* Append the modality values of `frame` to *out and describe them in
 * *info. RR_EINVAL: not a grayscale frame, or an empty one; RR_EFULL /
 * RR_ENOMEM from the buffer. */
int rr_modality_values(rr_buf *out, rr_values_info *info, const rr_frame *frame, const rr_render_params *params,
                       char *err, size_t errsize);

/* The name of a type as the route's header gives it: "int16", "float32". */
const char *rr_values_type_name(rr_values_type type);

#endif
