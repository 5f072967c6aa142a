/*
 * render.h - from a decoded DICOM frame to an 8-bit image ready for a model
 * (the pure part of the AI image pipeline; decoding stays with Orthanc).
 *
 * Pipeline, per PS3.3 C.11 and PS3.4 N.2 (grayscale pipeline):
 *   stored value -> Modality LUT (Modality LUT Sequence, else RescaleSlope /
 *   RescaleIntercept) -> VOI (window with VOILUTFunction LINEAR,
 *   LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence, or the modality values'
 *   min/max) -> 8 bits -> inverted for MONOCHROME1
 *   -> area-averaging downscale so that the longest side is <= max_side.
 * PALETTE COLOR frames go through the red/green/blue LUTs; RGB frames (and
 * YBR_* ones, which the decoder already converted to RGB) are copied, 16-bit
 * ones (RGB48) scaled to 8 bits.
 *
 * Window choice, first that applies: explicit override, named preset (CT
 * presets: lung, mediastinum, bone, brain, abdomen), the file's first
 * WindowCenter/WindowWidth, the file's VOI LUT Sequence, min/max.
 *
 * Ownership: rr_frame, rr_lut and rr_render_params borrow their pointers
 * (the caller keeps them alive during the call); every rr_image returned is
 * owned by the caller and freed with rr_image_free (NULL accepted).
 * Thread-safety: every function is pure and reentrant.
 */
#ifndef RR_IMAGE_RENDER_H
#define RR_IMAGE_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RR_RENDER_DEFAULT_MAX_SIDE 1024u
#define RR_RENDER_LIMIT_MAX_SIDE 2048u

/* ------------------------------------------------------------------ input */

typedef enum rr_pixel_format {
  RR_PIXEL_GRAY8 = 0,  /* uint8_t per pixel */
  RR_PIXEL_GRAY16 = 1, /* uint16_t per pixel, host byte order */
  RR_PIXEL_SGRAY16 = 2, /* int16_t per pixel, host byte order */
  RR_PIXEL_RGB24 = 3,  /* 3 x uint8_t per pixel (R, G, B), interleaved */
  RR_PIXEL_RGB48 = 4   /* 3 x uint16_t per pixel (R, G, B), interleaved, host byte order: 16-bit RGB,
                          and 16-bit PALETTE COLOR as Orthanc's decoders expand it */
} rr_pixel_format;

/* A decoded frame (planar configuration already resolved). `pitch` is the
 * distance in bytes between two rows (>= width * bytes per pixel); 16-bit
 * rows must be 2-byte aligned. */
typedef struct rr_frame {
  rr_pixel_format format;
  uint32_t width;
  uint32_t height;
  size_t pitch;
  const void *pixels;
} rr_frame;

typedef enum rr_photometric {
  RR_PHOTO_MONOCHROME2 = 0,
  RR_PHOTO_MONOCHROME1 = 1,
  RR_PHOTO_RGB = 2,    /* also YBR_* already converted to RGB by the decoder (RGB24 or RGB48 frames) */
  RR_PHOTO_PALETTE = 3 /* PALETTE COLOR */
} rr_photometric;

typedef enum rr_voi_function {
  RR_VOI_LINEAR = 0, /* the default when VOILUTFunction is absent */
  RR_VOI_LINEAR_EXACT = 1,
  RR_VOI_SIGMOID = 2
} rr_voi_function;

/* A lookup table from its descriptor (entries, first mapped value, bits per
 * entry) and its data, one uint16_t per entry (the caller unpacks 8-bit
 * entries stored two per word). Build it with rr_lut_init. */
typedef struct rr_lut {
  uint32_t entries;     /* 1..65536 */
  int32_t first_mapped; /* input value mapped to data[0] */
  unsigned bits;        /* 8..16: entries range over 0 .. 2^bits - 1 */
  const uint16_t *data; /* `entries` values, borrowed */
} rr_lut;

typedef struct rr_render_params {
  rr_photometric photometric;

  /* Modality LUT: the sequence wins over rescale when not NULL. A slope of
   * 0 is taken as "absent" (1). */
  const rr_lut *modality_lut;
  double rescale_slope;
  double rescale_intercept;

  /* VOI */
  bool has_override; /* explicit window from the caller */
  double override_center, override_width;
  const char *preset;   /* preset name or NULL; needs `modality` */
  const char *modality; /* e.g. "CT"; may be NULL */
  bool has_window;      /* the file's first WindowCenter / WindowWidth */
  double window_center, window_width;
  rr_voi_function voi_function; /* the file's VOILUTFunction; applies to every window */
  const rr_lut *voi_lut;        /* the file's first VOI LUT Sequence item, or NULL */
  /* Pixel Padding Value (stored value) left out of the min/max fallback. */
  bool has_padding;
  int32_t padding_value;

  /* PALETTE COLOR: red, green, blue */
  const rr_lut *palette[3];

  /* RGB48 frames: significant bits of a sample (1..16; 0 = 16): samples are
   * scaled from 0 .. 2^bits - 1 to 0 .. 255, rounded (larger ones give 255). */
  unsigned rgb_bits;

  /* Output: longest side after downscaling; 0 = 1024, clamped to 2048. */
  uint32_t max_side;
} rr_render_params;

/* Where the window came from (rr_render_info.voi_source). */
typedef enum rr_voi_source {
  RR_VOI_NONE = 0, /* colour image: no VOI */
  RR_VOI_FROM_OVERRIDE,
  RR_VOI_FROM_PRESET,
  RR_VOI_FROM_FILE,
  RR_VOI_FROM_LUT,
  RR_VOI_FROM_MINMAX
} rr_voi_source;

/* What rendering did, for provenance. center/width are in modality units
 * (meaningless for RR_VOI_FROM_LUT and RR_VOI_NONE). */
typedef struct rr_render_info {
  rr_voi_source voi_source;
  rr_voi_function voi_function;
  double center, width;
  uint32_t source_width, source_height;
} rr_render_info;

/* ----------------------------------------------------------------- output */

/* An 8-bit image: channels 1 (gray) or 3 (RGB interleaved), rows packed
 * (pitch == width * channels). */
typedef struct rr_image {
  uint32_t width;
  uint32_t height;
  unsigned channels;
  size_t pitch;
  uint8_t *pixels; /* owned */
} rr_image;

/* A zero-filled image. RR_EINVAL for a zero size or channels other than 1
 * or 3, RR_EFULL when it would pass 2^31 bytes, RR_ENOMEM. */
int rr_image_new(rr_image **out, uint32_t width, uint32_t height, unsigned channels, char *err,
                 size_t errsize);
void rr_image_free(rr_image *img);

/* ------------------------------------------------------------------ API */

/* Default parameters: MONOCHROME2, slope 1, intercept 0, LINEAR, no window,
 * max_side 1024. */
void rr_render_params_init(rr_render_params *params);

/* The entry of `lut` for input x (rounded to the nearest whole value),
 * inputs outside the table taking its first or last entry. */
uint16_t rr_lut_lookup(const rr_lut *lut, double x);

/* Build a LUT from its descriptor: desc_entries 0 means 65536; bits must be
 * 8..16; `count` data values must be at least the entries (extra ones are
 * ignored). Values above 2^bits - 1 are refused, except 8-bit descriptors
 * whose data is all 16-bit (a common encoder error), which are taken as
 * 16 bits. */
int rr_lut_init(rr_lut *lut, uint32_t desc_entries, int32_t first_mapped, unsigned bits, const uint16_t *data,
                size_t count, char *err, size_t errsize);

/* Parse PhotometricInterpretation (surrounding spaces ignored): MONOCHROME1,
 * MONOCHROME2, RGB, YBR_FULL, YBR_FULL_422, YBR_PARTIAL_420, YBR_ICT, YBR_RCT
 * (all RGB after decoding), PALETTE COLOR. RR_EINVAL for others. */
int rr_photometric_parse(rr_photometric *out, const char *text);

/* Parse VOILUTFunction; NULL or "" gives LINEAR. RR_EINVAL for others. */
int rr_voi_function_parse(rr_voi_function *out, const char *text);

/* Window of a named preset for a modality (case-insensitive). CT: lung
 * -600/1500, mediastinum 50/350, bone 400/1800, brain 40/80, abdomen 60/400.
 * RR_ENOTFOUND for an unknown name or a modality without presets. */
int rr_voi_preset(double *center, double *width, const char *modality, const char *name);

/* Apply a window to one modality value with the PS3.3 C.11.2.1.2 formula
 * of `fn`, output range 0..255 (not rounded). Width must be >= 1 for
 * LINEAR and > 0 otherwise (the caller checks; rr_render_frame does). */
double rr_voi_apply(rr_voi_function fn, double center, double width, double x);

/* Size after fitting width x height into max_side (0 = 1024, clamped to
 * 2048), keeping the aspect ratio, never upscaling; sides are at least 1. */
void rr_image_fit_size(uint32_t *out_width, uint32_t *out_height, uint32_t width, uint32_t height,
                       uint32_t max_side);

/* Downscale `in` to fit max_side by area averaging (each output pixel is
 * the mean of the exact source footprint, fractional pixels weighted by
 * their coverage). A copy when it already fits. */
int rr_image_downscale(rr_image **out, const rr_image *in, uint32_t max_side, char *err, size_t errsize);

/* Render a frame: see the pipeline above. info may be NULL. A window from
 * the file with an unusable width (< 1 for LINEAR, <= 0 otherwise, not
 * finite) is ignored; the same in an override is RR_EINVAL. RR_EINVAL also
 * for a frame/parameter mismatch (an RGB frame with MONOCHROME2, a gray
 * frame with RGB, PALETTE COLOR without its three LUTs), an unknown preset,
 * a bad frame (zero size, short pitch, unaligned 16-bit rows); RR_ENOMEM. */
int rr_render_frame(rr_image **out, rr_render_info *info, const rr_frame *frame, const rr_render_params *params,
                    char *err, size_t errsize);

#endif
