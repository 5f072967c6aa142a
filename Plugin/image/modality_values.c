#include "image/modality_values.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"

/* The stored value at column x of `row` (a row of frame format `fmt`). */
static int32_t stored_at(const uint8_t *row, rr_pixel_format fmt, uint32_t x)
{
  switch (fmt) {
  case RR_PIXEL_GRAY8: return row[x];
  case RR_PIXEL_SGRAY16: {
    int16_t v;
    memcpy(&v, row + 2 * (size_t)x, 2);
    return v;
  }
  default: {
    uint16_t v;
    memcpy(&v, row + 2 * (size_t)x, 2);
    return v;
  }
  }
}

static double value_of(const rr_render_params *p, double slope, int32_t s)
{
  if (p->modality_lut != NULL)
    return (double)rr_lut_lookup(p->modality_lut, (double)s);
  return (double)s * slope + p->rescale_intercept;
}

static void put_le16(uint8_t *dst, int16_t v)
{
  uint16_t u = (uint16_t)v;

  dst[0] = (uint8_t)(u & 0xff);
  dst[1] = (uint8_t)(u >> 8);
}

static void put_le32f(uint8_t *dst, float v)
{
  uint32_t u;

  memcpy(&u, &v, 4);
  dst[0] = (uint8_t)(u & 0xff);
  dst[1] = (uint8_t)((u >> 8) & 0xff);
  dst[2] = (uint8_t)((u >> 16) & 0xff);
  dst[3] = (uint8_t)(u >> 24);
}

const char *rr_values_type_name(rr_values_type type)
{
  return type == RR_VALUES_INT16 ? "int16" : "float32";
}

int rr_modality_values(rr_buf *out, rr_values_info *info, const rr_frame *frame, const rr_render_params *params,
                       char *err, size_t errsize)
{
  const uint8_t *base = frame->pixels;
  double slope = params->rescale_slope == 0.0 ? 1.0 : params->rescale_slope;
  size_t bpp, width_bytes;
  int32_t smin = INT32_MAX, smax = INT32_MIN, s;
  double vmin, vmax, v;
  bool whole;
  uint8_t *row_out = NULL;
  uint32_t x, y;
  int error = 0;

  if (frame->format != RR_PIXEL_GRAY8 && frame->format != RR_PIXEL_GRAY16 && frame->format != RR_PIXEL_SGRAY16)
    return rr_fail(err, errsize, RR_EINVAL, "a colour image has no modality values");
  if (frame->width == 0 || frame->height == 0 || base == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "an empty frame");
  bpp = frame->format == RR_PIXEL_GRAY8 ? 1 : 2;
  if (frame->pitch < (size_t)frame->width * bpp)
    return rr_fail(err, errsize, RR_EINVAL, "the frame's rows overlap");
  if (params->modality_lut != NULL && (params->modality_lut->entries == 0 || params->modality_lut->data == NULL))
    return rr_fail(err, errsize, RR_EINVAL, "an empty Modality LUT");
  /* the stored range, then the values' range: decides the type of the whole frame */
  for (y = 0; y < frame->height; y++) {
    const uint8_t *row = base + (size_t)y * frame->pitch;
    for (x = 0; x < frame->width; x++) {
      s = stored_at(row, frame->format, x);
      if (s < smin)
        smin = s;
      if (s > smax)
        smax = s;
    }
  }
  if (params->modality_lut != NULL) {
    vmin = INFINITY;
    vmax = -INFINITY;
    for (s = smin; s <= smax; s++) {
      v = (double)rr_lut_lookup(params->modality_lut, (double)s);
      vmin = v < vmin ? v : vmin;
      vmax = v > vmax ? v : vmax;
    }
    whole = true;
  } else {
    double a = (double)smin * slope + params->rescale_intercept, b = (double)smax * slope + params->rescale_intercept;
    vmin = a < b ? a : b;
    vmax = a < b ? b : a;
    whole = floor(slope) == slope && floor(params->rescale_intercept) == params->rescale_intercept;
  }
  if (!isfinite(vmin) || !isfinite(vmax))
    return rr_fail(err, errsize, RR_EINVAL, "the rescale gives values that are not numbers");
  info->type = whole && vmin >= -32768.0 && vmax <= 32767.0 ? RR_VALUES_INT16 : RR_VALUES_FLOAT32;
  info->min = vmin;
  info->max = vmax;
  width_bytes = (size_t)frame->width * (info->type == RR_VALUES_INT16 ? 2 : 4);
  if ((row_out = malloc(width_bytes)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  for (y = 0; y < frame->height; y++) {
    const uint8_t *row = base + (size_t)y * frame->pitch;
    for (x = 0; x < frame->width; x++) {
      v = value_of(params, slope, stored_at(row, frame->format, x));
      if (info->type == RR_VALUES_INT16)
        put_le16(row_out + 2 * (size_t)x, (int16_t)v);
      else
        put_le32f(row_out + 4 * (size_t)x, (float)v);
    }
    if ((error = rr_buf_append(out, row_out, width_bytes)) < 0) {
      error = rr_fail(err, errsize, error, "the values do not fit the answer's limit");
      goto out;
    }
  }
out:
  free(row_out);
  return error;
}
