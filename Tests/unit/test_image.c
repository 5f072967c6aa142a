#include <math.h>
#include <png.h>

#include "common.h"
#include "image/modality_values.h"
#include "image/png_encode.h"
#include "image/render.h"
#include "util/base64.h"

/* Render a w x h frame of `fmt` with params; returns the image (owned). */
static rr_image *render(const void *pixels, rr_pixel_format fmt, uint32_t w, uint32_t h, const rr_render_params *p,
                        rr_render_info *info)
{
  size_t bpp = fmt == RR_PIXEL_GRAY8 ? 1 : fmt == RR_PIXEL_RGB24 ? 3 : 2;
  rr_frame f = {fmt, w, h, w * bpp, pixels};
  rr_image *img = NULL;
  char err[256] = "";

  ck_assert_msg(rr_render_frame(&img, info, &f, p, err, sizeof(err)) == 0, "render: %s", err);
  ck_assert_ptr_nonnull(img);
  return img;
}

/* One row of signed 16-bit values rendered with p: returns the output byte of value i. */
static void render_row_s16(uint8_t *out, const int16_t *v, uint32_t n, const rr_render_params *p,
                           rr_render_info *info)
{
  rr_image *img = render(v, RR_PIXEL_SGRAY16, n, 1, p, info);
  ck_assert_uint_eq(img->width, n);
  ck_assert_uint_eq(img->channels, 1);
  memcpy(out, img->pixels, n);
  rr_image_free(img);
}

START_TEST(voi_linear_standard_formula)
{
  int16_t v[5] = {-1000, 0, 40, 80, 1000};
  uint8_t o[5];
  rr_render_params p;
  rr_render_info info;
  double x;

  rr_render_params_init(&p);
  p.has_window = true;
  p.window_center = 40;
  p.window_width = 80;
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_FILE);
  ck_assert_int_eq(info.voi_function, RR_VOI_LINEAR);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[2], 129); /* ((40 - 39.5) / 79 + 0.5) * 255 = 129.11 */
  ck_assert_int_le(abs((int)o[2] - 128), 1);
  ck_assert_uint_eq(o[4], 255);
  /* 0 <= c - 0.5 - (w - 1) / 2 = 0 -> ymin; 80 > 79 -> ymax */
  ck_assert_uint_eq(o[1], 0);
  ck_assert_uint_eq(o[3], 255);
  /* the formula itself at every integer of the ramp */
  for (x = 0.5; x < 79; x += 1.0) {
    double want = ((x - 39.5) / 79.0 + 0.5) * 255.0;
    ck_assert_double_eq_tol(rr_voi_apply(RR_VOI_LINEAR, 40, 80, x), want, 1e-9);
  }
  ck_assert_double_eq(rr_voi_apply(RR_VOI_LINEAR, 40, 80, 0.0), 0.0);
  ck_assert_double_eq(rr_voi_apply(RR_VOI_LINEAR, 40, 80, 79.5), 255.0);
}
END_TEST

START_TEST(voi_linear_exact_and_sigmoid)
{
  int16_t v[5] = {-1000, 0, 40, 60, 1000};
  uint8_t o[5];
  rr_render_params p;
  rr_render_info info;

  rr_render_params_init(&p);
  p.has_window = true;
  p.window_center = 40;
  p.window_width = 80;
  ck_assert_int_eq(rr_voi_function_parse(&p.voi_function, " LINEAR_EXACT "), 0);
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_int_eq(info.voi_function, RR_VOI_LINEAR_EXACT);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[1], 0);   /* 0 <= c - w/2 */
  ck_assert_uint_eq(o[2], 128); /* 0.5 * 255 = 127.5 */
  ck_assert_uint_eq(o[3], 191); /* (20/80 + 0.5) * 255 = 191.25 */
  ck_assert_uint_eq(o[4], 255);
  ck_assert_double_eq_tol(rr_voi_apply(RR_VOI_LINEAR_EXACT, 40, 80, 80), 255.0, 1e-9);

  ck_assert_int_eq(rr_voi_function_parse(&p.voi_function, "SIGMOID"), 0);
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[1], (uint8_t)lround(255.0 / (1.0 + exp(-4.0 * (0 - 40) / 80.0)))); /* 30.5 -> 30 or 31 */
  ck_assert_uint_eq(o[2], 128);
  ck_assert_uint_eq(o[3], (uint8_t)lround(255.0 / (1.0 + exp(-4.0 * 20 / 80.0))));
  ck_assert_uint_eq(o[4], 255);
  ck_assert_double_eq_tol(rr_voi_apply(RR_VOI_SIGMOID, 40, 80, 40), 127.5, 1e-9);

  ck_assert_int_eq(rr_voi_function_parse(&p.voi_function, NULL), 0);
  ck_assert_int_eq(p.voi_function, RR_VOI_LINEAR);
  ck_assert_int_eq(rr_voi_function_parse(&p.voi_function, "LOG"), RR_EINVAL);
}
END_TEST

START_TEST(rescale_slope_intercept)
{
  /* CT stored as unsigned with intercept -1024: stored 1064 = 40 HU */
  uint16_t v[4] = {0, 1064, 2024, 3000};
  rr_render_params p;
  rr_image *img;

  rr_render_params_init(&p);
  p.rescale_intercept = -1024;
  p.has_window = true;
  p.window_center = 40;
  p.window_width = 80;
  img = render(v, RR_PIXEL_GRAY16, 4, 1, &p, NULL);
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[1], 129);
  ck_assert_uint_eq(img->pixels[2], 255);
  rr_image_free(img);

  /* slope 2, intercept -100: stored 70 -> 40 */
  p.rescale_slope = 2;
  p.rescale_intercept = -100;
  v[0] = 70;
  v[1] = 20; /* -60 */
  img = render(v, RR_PIXEL_GRAY16, 2, 1, &p, NULL);
  ck_assert_uint_eq(img->pixels[0], 129);
  ck_assert_uint_eq(img->pixels[1], 0);
  rr_image_free(img);
}
END_TEST

START_TEST(monochrome1_inverted_after_voi)
{
  uint8_t v[3] = {0, 100, 255};
  rr_render_params p;
  rr_image *img;

  rr_render_params_init(&p);
  ck_assert_int_eq(rr_photometric_parse(&p.photometric, "MONOCHROME1 "), 0);
  ck_assert_int_eq(p.photometric, RR_PHOTO_MONOCHROME1);
  p.has_window = true;
  p.window_center = 100;
  p.window_width = 101; /* 100 -> exactly the middle: 127.5 + 0.5 / 100 * 255 */
  img = render(v, RR_PIXEL_GRAY8, 3, 1, &p, NULL);
  ck_assert_uint_eq(img->pixels[0], 255);
  ck_assert_uint_eq(img->pixels[1], 255 - 129);
  ck_assert_uint_eq(img->pixels[2], 0);
  rr_image_free(img);
}
END_TEST

START_TEST(signed_16_bit_input)
{
  int16_t v[4] = {-32768, -1, 0, 32767};
  uint8_t o[4];
  rr_render_params p;
  rr_render_info info;

  rr_render_params_init(&p);
  p.has_window = true;
  p.window_center = 0;
  p.window_width = 3; /* LINEAR: x <= -1.5 -> 0, x > 0.5 -> 255, else ((x + 0.5) / 2 + 0.5) * 255 */
  render_row_s16(o, v, 4, &p, &info);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[1], 64);
  ck_assert_uint_eq(o[2], 191);
  ck_assert_uint_eq(o[3], 255);
}
END_TEST

START_TEST(palette_color_8_and_16_bit)
{
  uint16_t red8[4] = {10, 20, 30, 255}, green8[4] = {0, 0, 0, 0}, blue8[4] = {255, 128, 64, 0};
  uint16_t red16[3] = {0, 32768, 65535}, green16[3] = {65535, 0, 257}, blue16[3] = {256, 512, 1024};
  rr_lut lr, lg, lb;
  uint8_t v[5] = {0, 100, 101, 103, 200};
  uint16_t w[4] = {5, 1000, 1001, 1002};
  rr_render_params p;
  rr_image *img;
  char err[256] = "";

  rr_render_params_init(&p);
  ck_assert_int_eq(rr_photometric_parse(&p.photometric, "PALETTE COLOR"), 0);
  /* 8-bit entries, first mapped 100: below -> entry 0, above -> last entry */
  ck_assert_int_eq(rr_lut_init(&lr, 4, 100, 8, red8, 4, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_lut_init(&lg, 4, 100, 8, green8, 4, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_lut_init(&lb, 4, 100, 8, blue8, 4, err, sizeof(err)), 0);
  p.palette[0] = &lr;
  p.palette[1] = &lg;
  p.palette[2] = &lb;
  img = render(v, RR_PIXEL_GRAY8, 5, 1, &p, NULL);
  ck_assert_uint_eq(img->channels, 3);
  {
    const uint8_t want[15] = {10, 0, 255, 10, 0, 255, 20, 0, 128, 255, 0, 0, 255, 0, 0};
    ck_assert_mem_eq(img->pixels, want, 15);
  }
  rr_image_free(img);

  /* 16-bit entries (descriptor 3\1000\16), 16-bit pixels */
  ck_assert_int_eq(rr_lut_init(&lr, 3, 1000, 16, red16, 3, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_lut_init(&lg, 3, 1000, 16, green16, 3, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_lut_init(&lb, 3, 1000, 16, blue16, 3, err, sizeof(err)), 0);
  img = render(w, RR_PIXEL_GRAY16, 4, 1, &p, NULL);
  {
    const uint8_t want[12] = {0, 255, 1, 0, 255, 1, 128, 0, 2, 255, 1, 4};
    ck_assert_mem_eq(img->pixels, want, 12);
  }
  rr_image_free(img);

  /* an 8-bit descriptor with 16-bit data is read as 16-bit */
  ck_assert_int_eq(rr_lut_init(&lr, 3, 0, 8, red16, 3, err, sizeof(err)), 0);
  ck_assert_uint_eq(lr.bits, 16);
  /* errors: short data, bad bits, value wider than the descriptor */
  ck_assert_int_eq(rr_lut_init(&lr, 4, 0, 16, red16, 3, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_lut_init(&lr, 3, 0, 7, red16, 3, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_lut_init(&lr, 3, 0, 12, red16, 3, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "12 bits"));
  /* missing LUT */
  {
    rr_frame f = {RR_PIXEL_GRAY8, 5, 1, 5, v};
    p.palette[2] = NULL;
    ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
    ck_assert_ptr_null(img);
  }
}
END_TEST

START_TEST(modality_lut_sequence)
{
  /* 12-bit modality LUT over stored 0..3 (first mapped 0), replacing rescale */
  uint16_t data[4] = {0, 1000, 2000, 4095};
  uint16_t v[5] = {0, 1, 2, 3, 9};
  rr_lut lut;
  rr_render_params p;
  rr_render_info info;
  rr_image *img;
  char err[256] = "";

  ck_assert_int_eq(rr_lut_init(&lut, 4, 0, 12, data, 4, err, sizeof(err)), 0);
  rr_render_params_init(&p);
  p.modality_lut = &lut;
  p.rescale_slope = 100; /* ignored */
  p.has_window = true;
  p.window_center = 2048;
  p.window_width = 4096; /* LINEAR_EXACT would be x / 4096 * 255 */
  p.voi_function = RR_VOI_LINEAR_EXACT;
  img = render(v, RR_PIXEL_GRAY16, 5, 1, &p, &info);
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[1], 62);  /* 1000 / 4096 * 255 = 62.26 */
  ck_assert_uint_eq(img->pixels[2], 125); /* 124.51 */
  ck_assert_uint_eq(img->pixels[3], 255); /* 254.94 */
  ck_assert_uint_eq(img->pixels[4], 255); /* beyond the table: last entry */
  rr_image_free(img);

  /* without a window: min/max of the modality values (0..4095) */
  p.has_window = false;
  p.voi_function = RR_VOI_LINEAR;
  img = render(v, RR_PIXEL_GRAY16, 4, 1, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_MINMAX);
  ck_assert_double_eq(info.width, 4095);
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[1], 62);
  ck_assert_uint_eq(img->pixels[3], 255);
  rr_image_free(img);
}
END_TEST

START_TEST(voi_lut_sequence)
{
  /* 16-bit VOI LUT from modality value -10 (first mapped), 3 entries */
  uint16_t data[3] = {0, 32768, 65535};
  int16_t v[5] = {-100, -10, -9, -8, 50};
  uint8_t o[5];
  rr_lut lut;
  rr_render_params p;
  rr_render_info info;
  char err[256] = "";

  ck_assert_int_eq(rr_lut_init(&lut, 3, -10, 16, data, 3, err, sizeof(err)), 0);
  rr_render_params_init(&p);
  p.voi_lut = &lut;
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_LUT);
  ck_assert_uint_eq(o[0], 0);
  ck_assert_uint_eq(o[1], 0);
  ck_assert_uint_eq(o[2], 128);
  ck_assert_uint_eq(o[3], 255);
  ck_assert_uint_eq(o[4], 255);
  /* a window in the file wins over the LUT */
  p.has_window = true;
  p.window_center = 0;
  p.window_width = 1000;
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_FILE);
  /* a window of width 0 in the file is ignored: back to the LUT */
  p.window_width = 0;
  render_row_s16(o, v, 5, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_LUT);
}
END_TEST

START_TEST(presets_by_name_and_override)
{
  double c = 0, w = 0;
  int16_t v[3] = {-1350, -600, 150};
  uint8_t o[3];
  rr_render_params p;
  rr_render_info info;
  rr_image *img = NULL;
  rr_frame f = {RR_PIXEL_SGRAY16, 3, 1, 6, v};
  char err[256] = "";

  ck_assert_int_eq(rr_voi_preset(&c, &w, "CT", "lung"), 0);
  ck_assert(c == -600 && w == 1500);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "ct", "Mediastinum"), 0);
  ck_assert(c == 50 && w == 350);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "CT", "bone"), 0);
  ck_assert(c == 400 && w == 1800);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "CT", "brain"), 0);
  ck_assert(c == 40 && w == 80);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "CT", "abdomen"), 0);
  ck_assert(c == 60 && w == 400);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "MR", "lung"), RR_ENOTFOUND);
  ck_assert_int_eq(rr_voi_preset(&c, &w, "CT", "liver"), RR_ENOTFOUND);
  ck_assert_int_eq(rr_voi_preset(&c, &w, NULL, "lung"), RR_ENOTFOUND);

  rr_render_params_init(&p);
  p.modality = "CT";
  p.preset = "lung";
  p.has_window = true; /* the preset wins over the file */
  p.window_center = 40;
  p.window_width = 80;
  render_row_s16(o, v, 3, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_PRESET);
  ck_assert_uint_eq(o[0], 0);   /* -1350 = the low end cornerstone reports */
  ck_assert_uint_eq(o[1], 128); /* (0.5 / 1499 + 0.5) * 255 = 127.59 */
  ck_assert_uint_eq(o[2], 255);

  p.has_override = true; /* the override wins over the preset */
  p.override_center = 40;
  p.override_width = 80;
  render_row_s16(o, v, 3, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_OVERRIDE);
  ck_assert_uint_eq(o[1], 0);
  p.override_width = 0.5;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(img);

  p.has_override = false;
  p.preset = "liver";
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "liver"));
}
END_TEST

START_TEST(min_max_fallback)
{
  uint16_t v[4] = {100, 200, 300, 0};
  rr_render_params p;
  rr_render_info info;
  rr_image *img;

  rr_render_params_init(&p);
  p.rescale_slope = -1; /* min/max in modality units: -300 .. 0 */
  p.has_padding = true;
  p.padding_value = 0; /* ignored for the range ... */
  img = render(v, RR_PIXEL_GRAY16, 3, 1, &p, &info);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_MINMAX);
  ck_assert_double_eq(info.center, -200);
  ck_assert_double_eq(info.width, 200);
  ck_assert_uint_eq(img->pixels[0], 255); /* -100 = max */
  ck_assert_uint_eq(img->pixels[1], 128);
  ck_assert_uint_eq(img->pixels[2], 0);
  rr_image_free(img);

  img = render(v, RR_PIXEL_GRAY16, 4, 1, &p, &info); /* ... even when present */
  ck_assert_double_eq(info.width, 200);
  ck_assert_uint_eq(img->pixels[3], 255); /* 0 > max: clipped */
  rr_image_free(img);

  /* a uniform frame renders black without dividing by zero */
  v[0] = v[1] = v[2] = 7;
  img = render(v, RR_PIXEL_GRAY16, 3, 1, &p, &info);
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[2], 0);
  rr_image_free(img);
}
END_TEST

START_TEST(rgb_passthrough_and_mismatch)
{
  uint8_t rgb[2 * 2 * 3 + 6]; /* pitch 9: 3 bytes of padding per row */
  rr_render_params p;
  rr_image *img = NULL;
  rr_frame f = {RR_PIXEL_RGB24, 2, 2, 9, rgb};
  char err[256] = "";
  size_t i;

  for (i = 0; i < sizeof(rgb); i++)
    rgb[i] = (uint8_t)i;
  rr_render_params_init(&p);
  ck_assert_int_eq(rr_photometric_parse(&p.photometric, "YBR_FULL"), 0);
  ck_assert_int_eq(p.photometric, RR_PHOTO_RGB);
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->channels, 3);
  ck_assert_mem_eq(img->pixels, rgb, 6);
  ck_assert_mem_eq(img->pixels + 6, rgb + 9, 6);
  rr_image_free(img);
  img = NULL;

  p.photometric = RR_PHOTO_MONOCHROME2;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(img);
  f.pitch = 5;
  p.photometric = RR_PHOTO_RGB;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_photometric_parse(&p.photometric, "HSV"), RR_EINVAL);
}
END_TEST

START_TEST(rgb48_scaled_to_8_bits)
{
  /* 16-bit RGB (and 16-bit PALETTE COLOR expanded by Orthanc's decoders,
   * gdcm-US-ALOKA-16.dcm): 0 .. 2^bits - 1 onto 0 .. 255, rounded */
  uint16_t rgb[2 * 3 * 2 + 2]; /* 2 x 2, pitch 14 bytes: one padding sample per row */
  rr_render_params p;
  rr_image *img = NULL;
  rr_frame f = {RR_PIXEL_RGB48, 2, 2, 14, rgb};
  char err[256] = "";
  static const uint16_t row0[6] = {0, 257, 0x8080, 0xc8c8, 65534, 65535};
  static const uint16_t row1[6] = {100, 128, 32767, 4095, 4096, 2048};

  memcpy(rgb, row0, sizeof(row0));
  rgb[6] = 1;
  memcpy(rgb + 7, row1, sizeof(row1));
  rgb[13] = 1;
  rr_render_params_init(&p);
  p.photometric = RR_PHOTO_RGB;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->channels, 3);
  ck_assert_uint_eq(img->width, 2);
  /* 16 bits (rgb_bits 0): v * 255 / 65535 rounded, i.e. the high byte of v * 257 */
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[1], 1);
  ck_assert_uint_eq(img->pixels[2], 0x80);
  ck_assert_uint_eq(img->pixels[3], 0xc8);
  ck_assert_uint_eq(img->pixels[4], 255);
  ck_assert_uint_eq(img->pixels[5], 255);
  ck_assert_uint_eq(img->pixels[6], 0);   /* 100 -> 0.39 */
  ck_assert_uint_eq(img->pixels[7], 0);   /* 128 -> 0.498 */
  ck_assert_uint_eq(img->pixels[8], 127); /* 32767 -> 127.498 */
  rr_image_free(img);
  img = NULL;

  /* 12 significant bits: 4095 is white, larger values too */
  p.rgb_bits = 12;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->pixels[9], 255);
  ck_assert_uint_eq(img->pixels[10], 255);
  ck_assert_uint_eq(img->pixels[11], 128); /* 2048 * 255 / 4095 = 127.53 */
  ck_assert_uint_eq(img->pixels[6], 6);    /* 100 * 255 / 4095 = 6.23 */
  rr_image_free(img);
  img = NULL;

  /* downscaled like 8-bit RGB; refused with a grayscale interpretation and when unaligned */
  p.rgb_bits = 0;
  p.max_side = 1;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->width, 1);
  ck_assert_uint_eq(img->height, 1);
  rr_image_free(img);
  img = NULL;
  p.max_side = 0;
  p.photometric = RR_PHOTO_MONOCHROME2;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  p.photometric = RR_PHOTO_RGB;
  f.pitch = 13;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  f.pitch = 10;
  ck_assert_int_eq(rr_render_frame(&img, NULL, &f, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(img);
}
END_TEST

static rr_image *make_image(uint32_t w, uint32_t h, unsigned ch)
{
  rr_image *img = NULL;
  char err[256] = "";

  ck_assert_msg(rr_image_new(&img, w, h, ch, err, sizeof(err)) == 0, "%s", err);
  return img;
}

START_TEST(downscale_checkerboard_halved)
{
  rr_image *in = make_image(4, 4, 1), *out = NULL;
  char err[256] = "";
  uint32_t x, y;

  for (y = 0; y < 4; y++)
    for (x = 0; x < 4; x++)
      in->pixels[y * 4 + x] = ((x + y) % 2) ? 255 : 0;
  ck_assert_int_eq(rr_image_downscale(&out, in, 2, err, sizeof(err)), 0);
  ck_assert_uint_eq(out->width, 2);
  ck_assert_uint_eq(out->height, 2);
  for (x = 0; x < 4; x++)
    ck_assert_int_le(abs((int)out->pixels[x] - 128), 1);
  rr_image_free(out);

  /* non-integer ratio 4 -> 3: every output pixel still averages a half/half mix */
  ck_assert_int_eq(rr_image_downscale(&out, in, 3, err, sizeof(err)), 0);
  ck_assert_uint_eq(out->width, 3);
  ck_assert_uint_eq(out->height, 3);
  /* centre pixel covers [1.333, 2.667)^2: exactly half 0, half 255 */
  ck_assert_int_le(abs((int)out->pixels[4] - 128), 1);
  rr_image_free(out);
  rr_image_free(in);
}
END_TEST

START_TEST(downscale_exact_area_weights)
{
  /* 3 -> 2 columns: out0 = (a + b/2) / 1.5, out1 = (b/2 + c) / 1.5 */
  rr_image *in = make_image(3, 1, 3), *out = NULL;
  const uint8_t px[9] = {0, 30, 90, 150, 60, 90, 30, 240, 90};
  char err[256] = "";

  memcpy(in->pixels, px, 9);
  ck_assert_int_eq(rr_image_downscale(&out, in, 2, err, sizeof(err)), 0);
  ck_assert_uint_eq(out->width, 2);
  ck_assert_uint_eq(out->height, 1);
  ck_assert_uint_eq(out->pixels[0], 50);  /* (0 + 75) / 1.5 */
  ck_assert_uint_eq(out->pixels[1], 40);  /* (30 + 30) / 1.5 */
  ck_assert_uint_eq(out->pixels[2], 90);
  ck_assert_uint_eq(out->pixels[3], 70);  /* (75 + 30) / 1.5 */
  ck_assert_uint_eq(out->pixels[4], 180); /* (30 + 240) / 1.5 */
  ck_assert_uint_eq(out->pixels[5], 90);
  rr_image_free(out);
  rr_image_free(in);
}
END_TEST

START_TEST(downscale_keeps_ratio)
{
  uint32_t w, h;
  rr_image *in = make_image(1000, 10, 1), *out = NULL;
  char err[256] = "";

  memset(in->pixels, 77, 1000 * 10);
  ck_assert_int_eq(rr_image_downscale(&out, in, 100, err, sizeof(err)), 0);
  ck_assert_uint_eq(out->width, 100);
  ck_assert_uint_eq(out->height, 1);
  ck_assert_uint_eq(out->pixels[0], 77);
  ck_assert_uint_eq(out->pixels[99], 77);
  rr_image_free(out);
  rr_image_free(in);

  rr_image_fit_size(&w, &h, 10, 1000, 100);
  ck_assert(w == 1 && h == 100);
  rr_image_fit_size(&w, &h, 4000, 3000, 0); /* 0 = 1024 */
  ck_assert(w == 1024 && h == 768);
  rr_image_fit_size(&w, &h, 8000, 6000, 5000); /* clamped to 2048 */
  ck_assert(w == 2048 && h == 1536);
}
END_TEST

START_TEST(downscale_mammogram_size)
{
  /* 3062 x 2394 16-bit: a horizontal ramp through the whole pipeline */
  const uint32_t W = 3062, H = 2394;
  uint16_t *v = malloc((size_t)W * H * sizeof(*v));
  rr_render_params p;
  rr_render_info info;
  rr_image *img;
  uint32_t x, y;

  ck_assert_ptr_nonnull(v);
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++)
      v[(size_t)y * W + x] = (uint16_t)(x * 4095 / (W - 1));
  rr_render_params_init(&p);
  p.photometric = RR_PHOTO_MONOCHROME1;
  img = render(v, RR_PIXEL_GRAY16, W, H, &p, &info);
  ck_assert_uint_eq(info.source_width, W);
  ck_assert_uint_eq(img->width, 1024);
  ck_assert_uint_eq(img->height, 801); /* 2394 * 1024 / 3062 = 800.6 */
  ck_assert_uint_eq(img->pixels[0], 255);
  ck_assert_uint_eq(img->pixels[1023], 0);
  for (y = 1; y < img->height; y++) /* every row equal, each column non-increasing */
    ck_assert_mem_eq(img->pixels + (size_t)y * img->pitch, img->pixels, 1024);
  for (x = 1; x < 1024; x++)
    ck_assert_uint_le(img->pixels[x], img->pixels[x - 1]);
  rr_image_free(img);
  free(v);
}
END_TEST

START_TEST(never_upscale)
{
  uint8_t v[6] = {1, 2, 3, 4, 5, 6};
  rr_render_params p;
  rr_image *img, *out = NULL;
  char err[256] = "";

  rr_render_params_init(&p);
  p.has_window = true;
  p.window_center = 127.5;
  p.window_width = 255; /* LINEAR_EXACT: the identity on 0..255 */
  p.voi_function = RR_VOI_LINEAR_EXACT;
  p.max_side = 2048;
  img = render(v, RR_PIXEL_GRAY8, 3, 2, &p, NULL);
  ck_assert_uint_eq(img->width, 3);
  ck_assert_uint_eq(img->height, 2);
  ck_assert_mem_eq(img->pixels, v, 6);
  ck_assert_int_eq(rr_image_downscale(&out, img, 1024, err, sizeof(err)), 0);
  ck_assert_uint_eq(out->width, 3);
  ck_assert_uint_eq(out->height, 2);
  ck_assert_mem_eq(out->pixels, v, 6);
  rr_image_free(out);
  rr_image_free(img);
  rr_image_free(NULL);
}
END_TEST

/* Decode a PNG with libpng's simplified API into 8-bit gray or RGB. */
static uint8_t *png_decode(const rr_buf *png, uint32_t *w, uint32_t *h, unsigned ch)
{
  png_image image;
  uint8_t *pixels;

  memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  ck_assert_msg(png_image_begin_read_from_memory(&image, png->ptr, png->len), "%s", image.message);
  *w = image.width;
  *h = image.height;
  image.format = ch == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  pixels = malloc(PNG_IMAGE_SIZE(image));
  ck_assert_ptr_nonnull(pixels);
  ck_assert_msg(png_image_finish_read(&image, NULL, pixels, 0, NULL), "%s", image.message);
  return pixels;
}

START_TEST(png_round_trip)
{
  unsigned ch;

  for (ch = 1; ch <= 3; ch += 2) {
    rr_image *img = make_image(37, 23, ch);
    rr_buf png;
    uint32_t w = 0, h = 0;
    uint8_t *back;
    size_t i;
    char err[256] = "";

    for (i = 0; i < (size_t)37 * 23 * ch; i++)
      img->pixels[i] = (uint8_t)((i * 2654435761u) >> 13);
    rr_buf_init(&png, 1 << 20);
    ck_assert_int_eq(rr_buf_puts(&png, "x"), 0); /* appended after existing content */
    ck_assert_msg(rr_png_encode(&png, img, -1, err, sizeof(err)) == 0, "%s", err);
    ck_assert_mem_eq(png.ptr + 1, "\x89PNG\r\n\x1a\n", 8);
    {
      rr_buf body = {png.ptr + 1, png.len - 1, png.cap - 1, png.max};
      back = png_decode(&body, &w, &h, ch);
    }
    ck_assert_uint_eq(w, 37);
    ck_assert_uint_eq(h, 23);
    ck_assert_mem_eq(back, img->pixels, (size_t)37 * 23 * ch);
    free(back);

    /* the fast setting is lossless too */
    rr_buf_clear(&png);
    ck_assert_msg(rr_png_encode(&png, img, RR_PNG_FAST, err, sizeof(err)) == 0, "%s", err);
    back = png_decode(&png, &w, &h, ch);
    ck_assert_mem_eq(back, img->pixels, (size_t)37 * 23 * ch);
    free(back);
    ck_assert_int_eq(rr_png_encode(&png, img, -3, err, sizeof(err)), RR_EINVAL);

    /* a hard maximum too small: RR_EFULL, buffer unchanged */
    rr_buf_dispose(&png);
    rr_buf_init(&png, 100);
    ck_assert_int_eq(rr_buf_puts(&png, "keep"), 0);
    ck_assert_int_eq(rr_png_encode(&png, img, 9, err, sizeof(err)), RR_EFULL);
    ck_assert_str_eq(png.ptr, "keep");
    ck_assert_int_eq(rr_png_encode(&png, img, 12, err, sizeof(err)), RR_EINVAL);
    rr_buf_dispose(&png);
    rr_image_free(img);
  }
}
END_TEST

START_TEST(base64_digits_of_both_alphabets)
{
  ck_assert_int_eq(rr_base64_digit('A', false), 0);
  ck_assert_int_eq(rr_base64_digit('z', true), 51);
  ck_assert_int_eq(rr_base64_digit('9', false), 61);
  ck_assert_int_eq(rr_base64_digit('+', false), 62);
  ck_assert_int_eq(rr_base64_digit('/', false), 63);
  ck_assert_int_eq(rr_base64_digit('-', true), 62);
  ck_assert_int_eq(rr_base64_digit('_', true), 63);
  ck_assert_int_eq(rr_base64_digit('-', false), -1);
  ck_assert_int_eq(rr_base64_digit('+', true), -1);
  ck_assert_int_eq(rr_base64_digit('=', false), -1);
  ck_assert_int_eq(rr_base64_digit('\xc3', true), -1);
}
END_TEST

START_TEST(base64_known_vectors)
{
  static const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  static const char *coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  rr_buf b;
  size_t i;

  for (i = 0; i < 7; i++) {
    rr_buf_init(&b, 64);
    ck_assert_int_eq(rr_base64_encode(&b, plain[i], strlen(plain[i])), 0);
    ck_assert_str_eq(b.ptr ? b.ptr : "", coded[i]);
    ck_assert_uint_eq(rr_base64_encoded_len(strlen(plain[i])), strlen(coded[i]));
    rr_buf_clear(&b);
    ck_assert_int_eq(rr_base64_decode(&b, coded[i], strlen(coded[i])), 0);
    ck_assert_uint_eq(b.len, strlen(plain[i]));
    ck_assert_str_eq(b.ptr ? b.ptr : "", plain[i]);
    rr_buf_dispose(&b);
  }
  rr_buf_init(&b, 64);
  ck_assert_int_eq(rr_base64_decode(&b, "Zm9", 3), RR_EINVAL);
  ck_assert_int_eq(rr_base64_decode(&b, "Zm 9", 4), RR_EINVAL);
  ck_assert_int_eq(rr_base64_decode(&b, "Z===", 4), RR_EINVAL);
  ck_assert_int_eq(rr_base64_decode(&b, "Zh==", 4), RR_EINVAL); /* unused bits set */
  ck_assert_int_eq(rr_base64_decode(&b, "Zg==Zg==", 8), RR_EINVAL);
  ck_assert_int_eq(rr_base64_decode(&b, "Zm=v", 4), RR_EINVAL);
  ck_assert_uint_eq(b.len, 0);
  rr_buf_dispose(&b);
  /* bounded: 6 bytes -> 8 characters do not fit in 7 */
  rr_buf_init(&b, 7);
  ck_assert_int_eq(rr_base64_encode(&b, "foobar", 6), RR_EFULL);
  ck_assert_uint_eq(b.len, 0);
  rr_buf_dispose(&b);
}
END_TEST

START_TEST(base64_large_round_trip)
{
  size_t n = 100000, i;
  uint8_t *data = malloc(n);
  rr_buf enc, dec;

  ck_assert_ptr_nonnull(data);
  for (i = 0; i < n; i++)
    data[i] = (uint8_t)(i * 7 + (i >> 8));
  rr_buf_init(&enc, 1 << 20);
  rr_buf_init(&dec, 1 << 20);
  ck_assert_int_eq(rr_base64_encode(&enc, data, n), 0);
  ck_assert_uint_eq(enc.len, rr_base64_encoded_len(n));
  ck_assert_int_eq(rr_base64_decode(&dec, enc.ptr, enc.len), 0);
  ck_assert_uint_eq(dec.len, n);
  ck_assert_mem_eq(dec.ptr, data, n);
  rr_buf_dispose(&enc);
  rr_buf_dispose(&dec);
  free(data);
}
END_TEST

/* Little-endian int16 k of a values buffer. */
static int16_t le16_at(const rr_buf *b, size_t k)
{
  const uint8_t *p = (const uint8_t *)b->ptr + 2 * k;
  return (int16_t)(uint16_t)(p[0] | (p[1] << 8));
}

static float le32f_at(const rr_buf *b, size_t k)
{
  const uint8_t *p = (const uint8_t *)b->ptr + 4 * k;
  uint32_t u = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

START_TEST(values_ct_rescale_is_int16)
{
  /* a 3 x 2 CT frame stored unsigned with a pitch wider than its row */
  uint16_t px[2][4] = {{0, 1024, 4095, 9999}, {24, 2048, 1, 9999}};
  rr_frame f = {RR_PIXEL_GRAY16, 3, 2, sizeof(px[0]), px};
  rr_render_params p;
  rr_values_info info;
  rr_buf b;
  char err[256] = "";

  rr_render_params_init(&p);
  p.rescale_slope = 1;
  p.rescale_intercept = -1024;
  rr_buf_init(&b, 1024);
  ck_assert_int_eq(rr_modality_values(&b, &info, &f, &p, err, sizeof(err)), 0);
  ck_assert_int_eq(info.type, RR_VALUES_INT16);
  ck_assert_str_eq(rr_values_type_name(info.type), "int16");
  ck_assert_uint_eq(b.len, 3 * 2 * 2);
  ck_assert_int_eq(le16_at(&b, 0), -1024);
  ck_assert_int_eq(le16_at(&b, 1), 0);
  ck_assert_int_eq(le16_at(&b, 2), 3071);
  ck_assert_int_eq(le16_at(&b, 3), -1000); /* the padding column is not read */
  ck_assert_int_eq(le16_at(&b, 4), 1024);
  ck_assert_int_eq(le16_at(&b, 5), -1023);
  ck_assert_double_eq(info.min, -1024);
  ck_assert_double_eq(info.max, 3071);
  rr_buf_dispose(&b);
}
END_TEST

START_TEST(values_float_when_int16_cannot_hold_them)
{
  uint16_t px[2] = {1, 3};
  int16_t sx[2] = {-32768, 32767};
  rr_frame f = {RR_PIXEL_GRAY16, 2, 1, sizeof(px), px};
  rr_frame sf = {RR_PIXEL_SGRAY16, 2, 1, sizeof(sx), sx};
  rr_render_params p;
  rr_values_info info;
  rr_buf b;
  char err[256] = "";

  /* a fractional slope (PET, MR maps): float32 */
  rr_render_params_init(&p);
  p.rescale_slope = 0.5;
  p.rescale_intercept = 0;
  rr_buf_init(&b, 1024);
  ck_assert_int_eq(rr_modality_values(&b, &info, &f, &p, err, sizeof(err)), 0);
  ck_assert_int_eq(info.type, RR_VALUES_FLOAT32);
  ck_assert_uint_eq(b.len, 8);
  ck_assert_float_eq(le32f_at(&b, 0), 0.5f);
  ck_assert_float_eq(le32f_at(&b, 1), 1.5f);
  /* whole values past int16: float32 too */
  rr_buf_clear(&b);
  p.rescale_slope = 1;
  p.rescale_intercept = -1;
  ck_assert_int_eq(rr_modality_values(&b, &info, &sf, &p, err, sizeof(err)), 0);
  ck_assert_int_eq(info.type, RR_VALUES_FLOAT32);
  ck_assert_float_eq(le32f_at(&b, 0), -32769.0f);
  ck_assert_double_eq(info.min, -32769);
  /* the same signed frame without rescale: exactly int16 */
  rr_buf_clear(&b);
  p.rescale_intercept = 0;
  p.rescale_slope = 0; /* absent: 1 */
  ck_assert_int_eq(rr_modality_values(&b, &info, &sf, &p, err, sizeof(err)), 0);
  ck_assert_int_eq(info.type, RR_VALUES_INT16);
  ck_assert_int_eq(le16_at(&b, 0), -32768);
  ck_assert_int_eq(le16_at(&b, 1), 32767);
  rr_buf_dispose(&b);
}
END_TEST

START_TEST(values_modality_lut_and_refusals)
{
  uint16_t table[4] = {100, 200, 300, 400};
  uint8_t px[4] = {0, 10, 11, 255}; /* below, first, second, above the table */
  uint8_t rgb[3] = {1, 2, 3};
  rr_lut lut;
  rr_frame f = {RR_PIXEL_GRAY8, 4, 1, 4, px};
  rr_frame c = {RR_PIXEL_RGB24, 1, 1, 3, rgb};
  rr_render_params p;
  rr_values_info info;
  rr_buf b;
  char err[256] = "";

  ck_assert_int_eq(rr_lut_init(&lut, 4, 10, 16, table, 4, err, sizeof(err)), 0);
  rr_render_params_init(&p);
  p.modality_lut = &lut;
  p.rescale_slope = 7; /* the table wins */
  rr_buf_init(&b, 1024);
  ck_assert_int_eq(rr_modality_values(&b, &info, &f, &p, err, sizeof(err)), 0);
  ck_assert_int_eq(info.type, RR_VALUES_INT16);
  ck_assert_int_eq(le16_at(&b, 0), 100);
  ck_assert_int_eq(le16_at(&b, 1), 100);
  ck_assert_int_eq(le16_at(&b, 2), 200);
  ck_assert_int_eq(le16_at(&b, 3), 400);
  /* colour and empty frames are refused with a reason */
  ck_assert_int_eq(rr_modality_values(&b, &info, &c, &p, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "colour"));
  f.width = 0;
  ck_assert_int_eq(rr_modality_values(&b, &info, &f, &p, err, sizeof(err)), RR_EINVAL);
  /* the buffer's limit holds */
  rr_buf_dispose(&b);
  rr_buf_init(&b, 4);
  f.width = 4;
  ck_assert_int_eq(rr_modality_values(&b, &info, &f, &p, err, sizeof(err)), RR_EFULL);
  rr_buf_dispose(&b);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("image");
  TCase *voi = tcase_create("grayscale pipeline");
  TCase *color = tcase_create("colour");
  TCase *scale = tcase_create("downscale");
  TCase *enc = tcase_create("encoding");

  tcase_add_test(voi, voi_linear_standard_formula);
  tcase_add_test(voi, voi_linear_exact_and_sigmoid);
  tcase_add_test(voi, rescale_slope_intercept);
  tcase_add_test(voi, monochrome1_inverted_after_voi);
  tcase_add_test(voi, signed_16_bit_input);
  tcase_add_test(voi, modality_lut_sequence);
  tcase_add_test(voi, voi_lut_sequence);
  tcase_add_test(voi, presets_by_name_and_override);
  tcase_add_test(voi, min_max_fallback);
  tcase_add_test(color, palette_color_8_and_16_bit);
  tcase_add_test(color, rgb_passthrough_and_mismatch);
  tcase_add_test(color, rgb48_scaled_to_8_bits);
  tcase_add_test(scale, downscale_checkerboard_halved);
  tcase_add_test(scale, downscale_exact_area_weights);
  tcase_add_test(scale, downscale_keeps_ratio);
  tcase_add_test(scale, downscale_mammogram_size);
  tcase_add_test(scale, never_upscale);
  tcase_add_test(enc, png_round_trip);
  tcase_add_test(enc, base64_known_vectors);
  tcase_add_test(enc, base64_digits_of_both_alphabets);
  tcase_add_test(enc, base64_large_round_trip);
  tcase_add_test(voi, values_ct_rescale_is_int16);
  tcase_add_test(voi, values_float_when_int16_cannot_hold_them);
  tcase_add_test(voi, values_modality_lut_and_refusals);
  suite_add_tcase(s, voi);
  suite_add_tcase(s, color);
  suite_add_tcase(s, scale);
  suite_add_tcase(s, enc);
  return rr_test_run(s);
}
