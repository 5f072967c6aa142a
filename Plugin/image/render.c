#include "render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

#define IMAGE_MAX_BYTES ((size_t)1 << 31)

/* ------------------------------------------------------------------ image */

int rr_image_new(rr_image **out, uint32_t width, uint32_t height, unsigned channels, char *err, size_t errsize)
{
  rr_image *img = NULL;
  size_t pitch, bytes;
  int error = 0;

  *out = NULL;
  if (width == 0 || height == 0 || (channels != 1 && channels != 3)) {
    error = rr_fail(err, errsize, RR_EINVAL, "An image needs a non-zero size and 1 or 3 channels (got %ux%u, %u).",
                    width, height, channels);
    goto out;
  }
  pitch = (size_t)width * channels;
  if (pitch > IMAGE_MAX_BYTES / height) {
    error = rr_fail(err, errsize, RR_EFULL, "An image of %ux%u with %u channels is larger than 2 GiB.", width,
                    height, channels);
    goto out;
  }
  bytes = pitch * height;
  if ((img = calloc(1, sizeof(*img))) == NULL || (img->pixels = calloc(bytes, 1)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory for an image of %zu bytes.", bytes);
    goto out;
  }
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->pitch = pitch;
  *out = img;
  img = NULL;
out:
  rr_image_free(img);
  return error;
}

void rr_image_free(rr_image *img)
{
  if (img == NULL)
    return;
  free(img->pixels);
  free(img);
}

/* ------------------------------------------------------------- parameters */

void rr_render_params_init(rr_render_params *params)
{
  memset(params, 0, sizeof(*params));
  params->photometric = RR_PHOTO_MONOCHROME2;
  params->rescale_slope = 1.0;
  params->rescale_intercept = 0.0;
  params->voi_function = RR_VOI_LINEAR;
  params->max_side = RR_RENDER_DEFAULT_MAX_SIDE;
}

int rr_lut_init(rr_lut *lut, uint32_t desc_entries, int32_t first_mapped, unsigned bits, const uint16_t *data,
                size_t count, char *err, size_t errsize)
{
  uint32_t entries = desc_entries == 0 ? 65536u : desc_entries, i;
  uint16_t top = 0;

  memset(lut, 0, sizeof(*lut));
  if (entries > 65536u)
    return rr_fail(err, errsize, RR_EINVAL, "A LUT descriptor gives %u entries; at most 65536 are allowed.", entries);
  if (bits < 8 || bits > 16)
    return rr_fail(err, errsize, RR_EINVAL, "A LUT descriptor gives %u bits per entry; 8 to 16 are allowed.", bits);
  if (data == NULL || count < entries)
    return rr_fail(err, errsize, RR_EINVAL, "A LUT descriptor announces %u entries but its data holds %zu.", entries,
                   data == NULL ? (size_t)0 : count);
  for (i = 0; i < entries; i++)
    if (data[i] > top)
      top = data[i];
  if (bits == 8 && top > 255)
    bits = 16; /* 8-bit descriptor, 16-bit data: trust the data */
  if (bits < 16 && top > (1u << bits) - 1)
    return rr_fail(err, errsize, RR_EINVAL, "A LUT value (%u) does not fit in the %u bits of its descriptor.",
                   (unsigned)top, bits);
  lut->entries = entries;
  lut->first_mapped = first_mapped;
  lut->bits = bits;
  lut->data = data;
  return 0;
}

uint16_t rr_lut_lookup(const rr_lut *lut, double x)
{
  double idx = floor(x + 0.5) - (double)lut->first_mapped;

  if (!(idx > 0)) /* also NaN */
    return lut->data[0];
  if (idx >= (double)(lut->entries - 1))
    return lut->data[lut->entries - 1];
  return lut->data[(uint32_t)idx];
}

static uint8_t lut_to8(const rr_lut *lut, uint16_t v)
{
  uint32_t max = (lut->bits >= 16) ? 65535u : (1u << lut->bits) - 1u;

  return (uint8_t)(((uint32_t)v * 255u + max / 2u) / max);
}

int rr_photometric_parse(rr_photometric *out, const char *text)
{
  char s[32];

  rr_str_copy_trim(s, sizeof(s), text);
  if (strcmp(s, "MONOCHROME2") == 0)
    *out = RR_PHOTO_MONOCHROME2;
  else if (strcmp(s, "MONOCHROME1") == 0)
    *out = RR_PHOTO_MONOCHROME1;
  else if (strcmp(s, "RGB") == 0 || strcmp(s, "YBR_FULL") == 0 || strcmp(s, "YBR_FULL_422") == 0 ||
           strcmp(s, "YBR_PARTIAL_420") == 0 || strcmp(s, "YBR_PARTIAL_422") == 0 || strcmp(s, "YBR_ICT") == 0 ||
           strcmp(s, "YBR_RCT") == 0)
    *out = RR_PHOTO_RGB;
  else if (strcmp(s, "PALETTE COLOR") == 0)
    *out = RR_PHOTO_PALETTE;
  else
    return RR_EINVAL;
  return 0;
}

int rr_voi_function_parse(rr_voi_function *out, const char *text)
{
  char s[32];

  rr_str_copy_trim(s, sizeof(s), text);
  if (s[0] == '\0' || strcmp(s, "LINEAR") == 0)
    *out = RR_VOI_LINEAR;
  else if (strcmp(s, "LINEAR_EXACT") == 0)
    *out = RR_VOI_LINEAR_EXACT;
  else if (strcmp(s, "SIGMOID") == 0)
    *out = RR_VOI_SIGMOID;
  else
    return RR_EINVAL;
  return 0;
}

static const struct {
  const char *modality, *name;
  double center, width;
} voi_presets[] = {
  {"CT", "lung", -600, 1500}, {"CT", "mediastinum", 50, 350}, {"CT", "bone", 400, 1800},
  {"CT", "brain", 40, 80},    {"CT", "abdomen", 60, 400},
};

int rr_voi_preset(double *center, double *width, const char *modality, const char *name)
{
  size_t i;

  if (modality == NULL || name == NULL)
    return RR_ENOTFOUND;
  for (i = 0; i < sizeof(voi_presets) / sizeof(voi_presets[0]); i++) {
    if (rr_str_ieq(modality, voi_presets[i].modality) && rr_str_ieq(name, voi_presets[i].name)) {
      *center = voi_presets[i].center;
      *width = voi_presets[i].width;
      return 0;
    }
  }
  return RR_ENOTFOUND;
}

double rr_voi_apply(rr_voi_function fn, double c, double w, double x)
{
  const double ymin = 0.0, ymax = 255.0;

  switch (fn) {
  case RR_VOI_LINEAR_EXACT:
    if (x <= c - w / 2)
      return ymin;
    if (x > c + w / 2)
      return ymax;
    return ((x - c) / w + 0.5) * (ymax - ymin) + ymin;
  case RR_VOI_SIGMOID:
    return (ymax - ymin) / (1.0 + exp(-4.0 * (x - c) / w)) + ymin;
  case RR_VOI_LINEAR:
  default:
    if (x <= c - 0.5 - (w - 1) / 2)
      return ymin;
    if (x > c - 0.5 + (w - 1) / 2)
      return ymax;
    if (w <= 1) /* only reached with w == 1 at the edge */
      return ymax;
    return ((x - (c - 0.5)) / (w - 1) + 0.5) * (ymax - ymin) + ymin;
  }
}

static bool window_usable(rr_voi_function fn, double c, double w)
{
  if (!isfinite(c) || !isfinite(w))
    return false;
  return fn == RR_VOI_LINEAR ? w >= 1.0 : w > 0.0;
}

static uint8_t to_u8(double v)
{
  if (!(v > 0.0))
    return 0;
  if (v >= 255.0)
    return 255;
  return (uint8_t)(v + 0.5);
}

/* ------------------------------------------------------------ downscaling */

void rr_image_fit_size(uint32_t *out_width, uint32_t *out_height, uint32_t width, uint32_t height,
                       uint32_t max_side)
{
  uint32_t longest = width > height ? width : height;
  uint64_t other;

  if (max_side == 0)
    max_side = RR_RENDER_DEFAULT_MAX_SIDE;
  if (max_side > RR_RENDER_LIMIT_MAX_SIDE)
    max_side = RR_RENDER_LIMIT_MAX_SIDE;
  *out_width = width;
  *out_height = height;
  if (longest <= max_side)
    return;
  if (width >= height) {
    other = ((uint64_t)height * max_side * 2 + longest) / ((uint64_t)longest * 2); /* rounded */
    *out_width = max_side;
    *out_height = other < 1 ? 1 : (uint32_t)other;
  } else {
    other = ((uint64_t)width * max_side * 2 + longest) / ((uint64_t)longest * 2);
    *out_height = max_side;
    *out_width = other < 1 ? 1 : (uint32_t)other;
  }
}

/* Output index d of an axis of `dst` pixels covers source units
 * [d * src, (d + 1) * src) where one source pixel is `dst` units wide: exact
 * integer footprints for any ratio. */
static void footprint(uint32_t *first, uint32_t *end, uint64_t d, uint64_t src, uint64_t dst)
{
  uint64_t left = d * src, right = (d + 1) * src;

  *first = (uint32_t)(left / dst);
  *end = (uint32_t)((right + dst - 1) / dst);
}

static double coverage(uint64_t i, uint64_t d, uint64_t src, uint64_t dst)
{
  uint64_t left = d * src, right = (d + 1) * src;
  uint64_t lo = i * dst > left ? i * dst : left;
  uint64_t hi = (i + 1) * dst < right ? (i + 1) * dst : right;

  return hi > lo ? (double)(hi - lo) / (double)src : 0.0;
}

/* The horizontal footprints of the dw output columns, computed once per
 * image: column dx reads source pixels first[dx] .. first[dx] + count[dx] - 1
 * with weights weight[offset[dx] ...]. */
typedef struct taps {
  uint32_t *first, *count;
  size_t *offset;
  double *weight;
} taps;

static void taps_free(taps *t)
{
  free(t->first);
  free(t->count);
  free(t->offset);
  free(t->weight);
}

static int taps_init(taps *t, uint32_t sw, uint32_t dw)
{
  uint32_t dx, i, first, end;
  size_t total = 0, k = 0;

  memset(t, 0, sizeof(*t));
  for (dx = 0; dx < dw; dx++) {
    footprint(&first, &end, dx, sw, dw);
    total += (end < sw ? end : sw) - first;
  }
  t->first = malloc(dw * sizeof(*t->first));
  t->count = malloc(dw * sizeof(*t->count));
  t->offset = malloc(dw * sizeof(*t->offset));
  t->weight = malloc((total ? total : 1) * sizeof(*t->weight));
  if (t->first == NULL || t->count == NULL || t->offset == NULL || t->weight == NULL)
    return RR_ENOMEM;
  for (dx = 0; dx < dw; dx++) {
    footprint(&first, &end, dx, sw, dw);
    t->first[dx] = first;
    t->offset[dx] = k;
    for (i = first; i < end && i < sw; i++)
      t->weight[k++] = coverage(i, dx, sw, dw);
    t->count[dx] = (uint32_t)(k - t->offset[dx]);
  }
  return 0;
}

/* Average one source row horizontally into hrow (dw * channels values). */
static void reduce_row(double *hrow, const uint8_t *row, const taps *t, uint32_t dw, unsigned ch)
{
  uint32_t dx, j;
  unsigned c;

  for (dx = 0; dx < dw; dx++) {
    double acc[3] = {0, 0, 0};
    const uint8_t *src = row + (size_t)t->first[dx] * ch;
    const double *w = t->weight + t->offset[dx];
    for (j = 0; j < t->count[dx]; j++)
      for (c = 0; c < ch; c++)
        acc[c] += w[j] * src[(size_t)j * ch + c];
    for (c = 0; c < ch; c++)
      hrow[(size_t)dx * ch + c] = acc[c];
  }
}

int rr_image_downscale(rr_image **out, const rr_image *in, uint32_t max_side, char *err, size_t errsize)
{
  rr_image *img = NULL;
  double *hrow = NULL, *acc = NULL;
  uint32_t dw, dh, dy, i, first, end, reduced = UINT32_MAX;
  taps t;
  size_t n, k;
  int error;

  *out = NULL;
  memset(&t, 0, sizeof(t));
  rr_image_fit_size(&dw, &dh, in->width, in->height, max_side);
  if ((error = rr_image_new(&img, dw, dh, in->channels, err, errsize)) < 0)
    goto out;
  if (dw == in->width && dh == in->height) {
    for (i = 0; i < dh; i++)
      memcpy(img->pixels + (size_t)i * img->pitch, in->pixels + (size_t)i * in->pitch, img->pitch);
    goto done;
  }
  n = (size_t)dw * in->channels;
  hrow = malloc(n * sizeof(*hrow));
  acc = malloc(n * sizeof(*acc));
  if (hrow == NULL || acc == NULL || taps_init(&t, in->width, dw) < 0) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory while downscaling an image.");
    goto out;
  }
  for (dy = 0; dy < dh; dy++) {
    for (k = 0; k < n; k++)
      acc[k] = 0.0;
    footprint(&first, &end, dy, in->height, dh);
    for (i = first; i < end && i < in->height; i++) {
      double w = coverage(i, dy, in->height, dh);
      if (i != reduced) { /* a row shared by two output rows is reduced once */
        reduce_row(hrow, in->pixels + (size_t)i * in->pitch, &t, dw, in->channels);
        reduced = i;
      }
      for (k = 0; k < n; k++)
        acc[k] += w * hrow[k];
    }
    for (k = 0; k < n; k++)
      img->pixels[(size_t)dy * img->pitch + k] = to_u8(acc[k]);
  }
done:
  *out = img;
  img = NULL;
out:
  taps_free(&t);
  free(hrow);
  free(acc);
  rr_image_free(img);
  return error;
}

/* -------------------------------------------------------------- rendering */

/* Stored values of a gray frame span [domain_min, domain_min + domain_size). */
static void frame_domain(int32_t *domain_min, uint32_t *domain_size, rr_pixel_format fmt)
{
  switch (fmt) {
  case RR_PIXEL_GRAY8: *domain_min = 0; *domain_size = 256; break;
  case RR_PIXEL_SGRAY16: *domain_min = -32768; *domain_size = 65536; break;
  default: *domain_min = 0; *domain_size = 65536; break;
  }
}

/* Index (value - domain_min) of the stored value at x in row y. */
static uint32_t frame_index(const rr_frame *f, uint32_t x, uint32_t y)
{
  const uint8_t *row = (const uint8_t *)f->pixels + (size_t)y * f->pitch;

  switch (f->format) {
  case RR_PIXEL_GRAY8: return row[x];
  case RR_PIXEL_SGRAY16: return (uint32_t)((int32_t)((const int16_t *)(const void *)row)[x] + 32768);
  default: return ((const uint16_t *)(const void *)row)[x];
  }
}

static double modality_value(const rr_render_params *p, int32_t stored)
{
  double slope = p->rescale_slope == 0.0 ? 1.0 : p->rescale_slope;

  if (p->modality_lut != NULL)
    return (double)rr_lut_lookup(p->modality_lut, (double)stored);
  return (double)stored * slope + p->rescale_intercept;
}

static int check_frame(const rr_frame *f, const rr_render_params *p, char *err, size_t errsize)
{
  bool rgb = f->format == RR_PIXEL_RGB24 || f->format == RR_PIXEL_RGB48;
  size_t bpp = f->format == RR_PIXEL_GRAY8   ? 1
               : f->format == RR_PIXEL_RGB24 ? 3
               : f->format == RR_PIXEL_RGB48 ? 6
                                             : 2;

  if (f->format > RR_PIXEL_RGB48)
    return rr_fail(err, errsize, RR_EINVAL, "Unknown pixel format %d.", (int)f->format);
  if (f->pixels == NULL || f->width == 0 || f->height == 0)
    return rr_fail(err, errsize, RR_EINVAL, "The frame is empty (%ux%u).", f->width, f->height);
  if (f->pitch < (size_t)f->width * bpp)
    return rr_fail(err, errsize, RR_EINVAL, "The frame's pitch (%zu bytes) is shorter than a row (%zu bytes).",
                   f->pitch, (size_t)f->width * bpp);
  if ((bpp == 2 || bpp == 6) && (f->pitch % 2 != 0 || ((uintptr_t)f->pixels) % 2 != 0))
    return rr_fail(err, errsize, RR_EINVAL, "The rows of a 16-bit frame must be 2-byte aligned.");
  if ((p->photometric == RR_PHOTO_RGB) != rgb)
    return rr_fail(err, errsize, RR_EINVAL, "The photometric interpretation does not match the frame's %s pixels.",
                   rgb ? "RGB" : "grayscale");
  if (p->photometric == RR_PHOTO_PALETTE && (p->palette[0] == NULL || p->palette[1] == NULL || p->palette[2] == NULL))
    return rr_fail(err, errsize, RR_EINVAL, "A PALETTE COLOR frame needs its red, green and blue LUTs.");
  return 0;
}

/* Choose the VOI; sets info's source, function, center, width. */
static int choose_voi(rr_render_info *info, const rr_frame *f, const rr_render_params *p, char *err, size_t errsize)
{
  int32_t dmin;
  uint32_t dsize, x, y, v;
  uint8_t *present = NULL;
  double mn = 0.0, mx = 0.0;
  bool any = false;
  int error = 0;

  info->voi_function = p->voi_function;
  if (p->has_override) {
    if (!window_usable(p->voi_function, p->override_center, p->override_width)) {
      error = rr_fail(err, errsize, RR_EINVAL, "The window width %g cannot be used with this VOI LUT function.",
                      p->override_width);
      goto out;
    }
    info->voi_source = RR_VOI_FROM_OVERRIDE;
    info->center = p->override_center;
    info->width = p->override_width;
    goto out;
  }
  if (p->preset != NULL && p->preset[0] != '\0') {
    if (rr_voi_preset(&info->center, &info->width, p->modality, p->preset) < 0) {
      error = rr_fail(err, errsize, RR_EINVAL, "There is no window preset \"%.40s\" for modality \"%.16s\".", p->preset,
                      p->modality ? p->modality : "");
      goto out;
    }
    info->voi_source = RR_VOI_FROM_PRESET;
    if (!window_usable(p->voi_function, info->center, info->width))
      info->voi_function = RR_VOI_LINEAR;
    goto out;
  }
  if (p->has_window && window_usable(p->voi_function, p->window_center, p->window_width)) {
    info->voi_source = RR_VOI_FROM_FILE;
    info->center = p->window_center;
    info->width = p->window_width;
    goto out;
  }
  if (p->voi_lut != NULL) {
    info->voi_source = RR_VOI_FROM_LUT;
    info->center = info->width = 0.0;
    goto out;
  }
  frame_domain(&dmin, &dsize, f->format);
  if ((present = calloc(dsize, 1)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory while computing the frame's value range.");
    goto out;
  }
  for (y = 0; y < f->height; y++)
    for (x = 0; x < f->width; x++)
      present[frame_index(f, x, y)] = 1;
  if (p->has_padding && p->padding_value >= dmin && (int64_t)p->padding_value < (int64_t)dmin + dsize)
    present[p->padding_value - dmin] = 0;
  for (v = 0; v < dsize; v++) {
    double m;
    if (!present[v])
      continue;
    m = modality_value(p, (int32_t)v + dmin);
    if (!any || m < mn)
      mn = m;
    if (!any || m > mx)
      mx = m;
    any = true;
  }
  info->voi_source = RR_VOI_FROM_MINMAX;
  info->voi_function = RR_VOI_LINEAR_EXACT;
  info->center = (mn + mx) / 2;
  info->width = mx - mn;
out:
  free(present);
  return error;
}

static int render_gray(rr_image **out, rr_render_info *info, const rr_frame *f, const rr_render_params *p, char *err,
                       size_t errsize)
{
  rr_image *img = NULL;
  uint8_t *table = NULL;
  int32_t dmin;
  uint32_t dsize, v, x, y;
  int error;

  if ((error = choose_voi(info, f, p, err, errsize)) < 0)
    goto out;
  frame_domain(&dmin, &dsize, f->format);
  if ((table = malloc(dsize)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory for a rendering table.");
    goto out;
  }
  for (v = 0; v < dsize; v++) {
    double m = modality_value(p, (int32_t)v + dmin);
    uint8_t o;
    if (info->voi_source == RR_VOI_FROM_LUT)
      o = lut_to8(p->voi_lut, rr_lut_lookup(p->voi_lut, m));
    else if (info->width <= 0.0) /* min/max of a uniform frame */
      o = 0;
    else
      o = to_u8(rr_voi_apply(info->voi_function, info->center, info->width, m));
    table[v] = p->photometric == RR_PHOTO_MONOCHROME1 ? (uint8_t)(255 - o) : o;
  }
  if ((error = rr_image_new(&img, f->width, f->height, 1, err, errsize)) < 0)
    goto out;
  for (y = 0; y < f->height; y++)
    for (x = 0; x < f->width; x++)
      img->pixels[(size_t)y * img->pitch + x] = table[frame_index(f, x, y)];
  *out = img;
  img = NULL;
out:
  free(table);
  rr_image_free(img);
  return error;
}

static int render_palette(rr_image **out, const rr_frame *f, const rr_render_params *p, char *err, size_t errsize)
{
  rr_image *img = NULL;
  uint8_t *table = NULL;
  int32_t dmin;
  uint32_t dsize, v, x, y;
  unsigned c;
  int error;

  frame_domain(&dmin, &dsize, f->format);
  if ((table = malloc((size_t)dsize * 3)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory for a palette table.");
    goto out;
  }
  for (v = 0; v < dsize; v++)
    for (c = 0; c < 3; c++)
      table[(size_t)v * 3 + c] = lut_to8(p->palette[c], rr_lut_lookup(p->palette[c], (double)((int32_t)v + dmin)));
  if ((error = rr_image_new(&img, f->width, f->height, 3, err, errsize)) < 0)
    goto out;
  for (y = 0; y < f->height; y++)
    for (x = 0; x < f->width; x++)
      memcpy(img->pixels + (size_t)y * img->pitch + (size_t)x * 3, table + (size_t)frame_index(f, x, y) * 3, 3);
  *out = img;
  img = NULL;
out:
  free(table);
  rr_image_free(img);
  return error;
}

static int render_rgb(rr_image **out, const rr_frame *f, unsigned bits, char *err, size_t errsize)
{
  rr_image *img = NULL;
  uint32_t y, max = bits == 0 || bits >= 16 ? 65535u : (1u << bits) - 1u;
  size_t x;
  int error;

  if ((error = rr_image_new(&img, f->width, f->height, 3, err, errsize)) < 0)
    return error;
  for (y = 0; y < f->height; y++) {
    const uint8_t *row = (const uint8_t *)f->pixels + (size_t)y * f->pitch;
    uint8_t *o = img->pixels + (size_t)y * img->pitch;
    if (f->format == RR_PIXEL_RGB24) {
      memcpy(o, row, img->pitch);
      continue;
    }
    for (x = 0; x < img->pitch; x++) {
      uint32_t v = ((const uint16_t *)(const void *)row)[x];
      o[x] = v >= max ? 255 : (uint8_t)((v * 255u + max / 2u) / max);
    }
  }
  *out = img;
  return 0;
}

int rr_render_frame(rr_image **out, rr_render_info *info, const rr_frame *frame, const rr_render_params *params,
                    char *err, size_t errsize)
{
  rr_render_info local;
  rr_image *full = NULL;
  uint32_t dw, dh;
  int error;

  *out = NULL;
  if (info == NULL)
    info = &local;
  memset(info, 0, sizeof(*info));
  if ((error = check_frame(frame, params, err, errsize)) < 0)
    goto out;
  info->source_width = frame->width;
  info->source_height = frame->height;
  if (params->photometric == RR_PHOTO_RGB)
    error = render_rgb(&full, frame, params->rgb_bits, err, errsize);
  else if (params->photometric == RR_PHOTO_PALETTE)
    error = render_palette(&full, frame, params, err, errsize);
  else
    error = render_gray(&full, info, frame, params, err, errsize);
  if (error < 0)
    goto out;
  rr_image_fit_size(&dw, &dh, full->width, full->height, params->max_side);
  if (dw == full->width && dh == full->height) {
    *out = full;
    full = NULL;
  } else {
    error = rr_image_downscale(out, full, params->max_side, err, errsize);
  }
out:
  rr_image_free(full);
  return error;
}
