/*
 * test_dicom_params.c - rendering parameters from Orthanc's /instances/{id}/tags
 * JSON. orthanc_tags_fixtures.h holds Orthanc 1.10.1's verbatim answers for
 * gdcm-CR-MONO1-10-chest.dcm, OT-PAL-8-face.dcm and mlut_18.dcm; the other
 * fixtures are written by hand in the same format (the segmented palette
 * ones after gdcm-US-ALOKA-16.dcm, read with dcmdump, and PS3.3 C.7.9.2).
 */
#include <math.h>

#include "common.h"
#include "image/dicom_params.h"
#include "image/render.h"
#include "util/errors.h"
#include "util/str.h"
#include "orthanc_tags_fixtures.h"

/* Palette data of OT-PAL-8-face.dcm (0028,1201-1203), 200 16-bit entries. */
static const uint16_t face_red[200] = {
  0, 0, 0, 0, 0, 768, 10240, 19712, 0, 0, 0, 0, 0, 768, 10240, 19712,
  0, 0, 0, 0, 0, 768, 10240, 19712, 0, 0, 0, 0, 0, 768, 10240, 19712,
  0, 0, 0, 0, 0, 768, 10240, 19712, 0, 0, 0, 5120, 14336, 23552, 33280, 42496,
  0, 0, 0, 5120, 14336, 23552, 33280, 42496, 0, 0, 0, 5120, 14336, 23552, 33280, 42496,
  0, 0, 0, 5120, 14336, 23552, 33280, 42496, 0, 0, 0, 5120, 14336, 23552, 33280, 42496,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 0, 9216, 18688, 27904, 37376, 46592, 56064, 65280,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 0, 9216, 18688, 27904, 37376, 46592, 56064, 65280,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280,
  22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280, 22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280,
  22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280, 22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280,
  45824, 55040, 64512, 65280, 65280, 65280, 65280, 65280, 45824, 55040, 64512, 65280, 65280, 65280, 65280, 65280,
  45824, 55040, 64512, 65280, 65280, 65280, 65280, 65280, 45824, 55040, 64512, 65280, 65280, 65280, 65280, 65280,
  45824, 55040, 64512, 65280, 65280, 65280, 65280, 65280};
static const uint16_t face_green[200] = {
  34560, 43776, 53248, 62464, 65280, 65280, 65280, 65280, 28928, 38144, 47616, 56832, 65280, 65280, 65280, 65280,
  23296, 32512, 41984, 51200, 60416, 65280, 65280, 65280, 17664, 26880, 36352, 45568, 54784, 64256, 65280, 65280,
  12032, 21248, 30720, 39936, 49152, 58624, 65280, 65280, 22784, 32000, 41728, 50944, 60160, 65280, 65280, 65280,
  17152, 26624, 36096, 45312, 54528, 63744, 65280, 65280, 11520, 20992, 30464, 39680, 48896, 58112, 65280, 65280,
  5888, 15360, 24832, 34048, 43264, 52480, 61952, 65280, 256, 9728, 19200, 28416, 37632, 46848, 56320, 65280,
  11264, 20480, 29952, 39168, 48640, 57856, 65280, 65280, 5632, 14848, 24320, 33536, 43008, 52224, 61696, 65280,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 0, 3584, 13056, 22272, 31744, 40960, 50432, 59648,
  0, 0, 7424, 16640, 26112, 35328, 44800, 54016, 0, 8960, 18432, 27648, 36864, 46080, 55552, 65024,
  0, 3328, 12800, 22016, 31232, 40448, 49920, 59392, 0, 0, 7168, 16384, 25600, 34816, 44288, 53760,
  0, 0, 1536, 10752, 19968, 29184, 38656, 48128, 0, 0, 0, 5120, 14336, 23552, 33280, 42496,
  0, 0, 6656, 16128, 25344, 34560, 44032, 53248, 0, 0, 1024, 10496, 19712, 28928, 38400, 47616,
  0, 0, 0, 4864, 14080, 23296, 32768, 41984, 0, 0, 0, 0, 8448, 17664, 27136, 36352,
  0, 0, 0, 0, 2816, 12032, 21504, 30720};
static const uint16_t face_blue[200] = {
  0, 0, 0, 0, 0, 0, 0, 7168, 0, 0, 0, 0, 8192, 17408, 27136, 36352,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 28928, 38144, 47872, 57088, 65280, 65280, 65280, 65280,
  58112, 65280, 65280, 65280, 65280, 65280, 65280, 65280, 0, 0, 0, 0, 0, 0, 0, 7168,
  0, 0, 0, 0, 8192, 17408, 27136, 36352, 0, 9216, 18688, 27904, 37376, 46592, 56064, 65280,
  28928, 38144, 47872, 57088, 65280, 65280, 65280, 65280, 58112, 65280, 65280, 65280, 65280, 65280, 65280, 65280,
  0, 0, 0, 0, 0, 0, 0, 7168, 0, 0, 0, 0, 8192, 17408, 27136, 36352,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 28928, 38144, 47872, 57088, 65280, 65280, 65280, 65280,
  58112, 65280, 65280, 65280, 65280, 65280, 65280, 65280, 0, 0, 0, 0, 0, 0, 0, 7168,
  0, 0, 0, 0, 8192, 17408, 27136, 36352, 0, 9216, 18688, 27904, 37376, 46592, 56064, 65280,
  28928, 38144, 47872, 57088, 65280, 65280, 65280, 65280, 58112, 65280, 65280, 65280, 65280, 65280, 65280, 65280,
  0, 0, 0, 0, 0, 0, 0, 7168, 0, 0, 0, 0, 8192, 17408, 27136, 36352,
  0, 9216, 18688, 27904, 37376, 46592, 56064, 65280, 28928, 38144, 47872, 57088, 65280, 65280, 65280, 65280,
  58112, 65280, 65280, 65280, 65280, 65280, 65280, 65280};

#define S(tag, name, value) "\"" tag "\": {\"Name\": \"" name "\", \"Type\": \"String\", \"Value\": \"" value "\"}"
#define N(tag, name, type) "\"" tag "\": {\"Name\": \"" name "\", \"Type\": \"" type "\", \"Value\": null}"

/* ---- a fetch callback serving fixed buffers by path, counting calls ---- */

typedef struct blob {
  const char *path;
  const uint8_t *data;
  size_t size;
} blob;

typedef struct fetcher {
  blob blobs[4];
  size_t count;
  int calls;
  char last_path[128];
  int fail_with; /* when not 0, every call fails with it */
  bool any_descriptor; /* serve the "desc" blob for 0028-1101..1103 */
} fetcher;

static int fetch_cb(void *ctx, uint8_t **data, size_t *size, const char *path, char *err, size_t errsize)
{
  fetcher *f = ctx;
  size_t i;

  f->calls++;
  snprintf(f->last_path, sizeof(f->last_path), "%s", path);
  if (f->fail_with != 0)
    return rr_fail(err, errsize, f->fail_with, "fetch %s failed", path);
  if (f->any_descriptor && rr_str_starts_with(path, "0028-110"))
    path = "desc";
  for (i = 0; i < f->count; i++) {
    if (strcmp(f->blobs[i].path, path) == 0) {
      *data = malloc(f->blobs[i].size ? f->blobs[i].size : 1);
      ck_assert_ptr_nonnull(*data);
      memcpy(*data, f->blobs[i].data, f->blobs[i].size);
      *size = f->blobs[i].size;
      return 0;
    }
  }
  return rr_fail(err, errsize, RR_ENOTFOUND, "no %s", path);
}

static void words_le(uint8_t *out, const uint16_t *w, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = (uint8_t)(w[i] & 0xff);
    out[2 * i + 1] = (uint8_t)(w[i] >> 8);
  }
}

static rr_dicom_params *parse_ok(const char *json, uint32_t frame, fetcher *f)
{
  rr_dicom_params *p = NULL;
  char err[256] = "";
  int rc = rr_dicom_params_from_json(&p, json, strlen(json), frame, f ? fetch_cb : NULL, f, err, sizeof(err));

  ck_assert_msg(rc == 0, "parse: %d %s", rc, err);
  ck_assert_ptr_nonnull(p);
  return p;
}

static int parse_fail(const char *json, fetcher *f, char *err, size_t errsize)
{
  rr_dicom_params *p = (rr_dicom_params *)1;
  int rc = rr_dicom_params_from_json(&p, json, strlen(json), 0, f ? fetch_cb : NULL, f, err, errsize);

  ck_assert_int_ne(rc, 0);
  ck_assert_ptr_null(p);
  return rc;
}

START_TEST(real_cr_monochrome1)
{
  rr_dicom_params *p = parse_ok(ORTHANC_CR_MONO1, 0, NULL);
  uint16_t px[3] = {0, 550, 1062}; /* 1062 >= 550 - 0.5 + 1023 / 2: top of the window */
  rr_frame fr = {RR_PIXEL_GRAY16, 3, 1, 6, px};
  rr_image *img = NULL;
  rr_render_info info;
  char err[256] = "";

  ck_assert_int_eq(p->render.photometric, RR_PHOTO_MONOCHROME1);
  ck_assert_str_eq(p->modality, "CR");
  ck_assert_str_eq(p->render.modality, "CR");
  ck_assert_uint_eq(p->rows, 440);
  ck_assert_uint_eq(p->columns, 440);
  ck_assert_uint_eq(p->bits_allocated, 16);
  ck_assert_uint_eq(p->bits_stored, 10);
  ck_assert(!p->pixel_signed);
  ck_assert_uint_eq(p->samples_per_pixel, 1);
  ck_assert_uint_eq(p->number_of_frames, 1);
  ck_assert(p->render.has_window);
  ck_assert_double_eq(p->render.window_center, 550);
  ck_assert_double_eq(p->render.window_width, 1024);
  ck_assert_double_eq(p->render.rescale_slope, 1);
  ck_assert_double_eq(p->render.rescale_intercept, 0);
  ck_assert_ptr_null(p->render.modality_lut);
  ck_assert_ptr_null(p->render.voi_lut);
  ck_assert(!p->render.has_padding);
  /* end to end: MONOCHROME1 is inverted after the window */
  ck_assert_int_eq(rr_render_frame(&img, &info, &fr, &p->render, err, sizeof(err)), 0);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_FILE);
  ck_assert_uint_eq(img->pixels[0], 255);
  ck_assert_uint_eq(img->pixels[2], 0);
  ck_assert_int_le(abs((int)img->pixels[1] - 127), 1);
  rr_image_free(img);
  rr_dicom_params_free(p);
  rr_dicom_params_free(NULL);
}
END_TEST

START_TEST(ct_multivalued_window_rescale_function_padding)
{
  static const char json[] = "{"
    S("0008,0060", "Modality", "CT ") ","
    S("0028,0004", "PhotometricInterpretation", "MONOCHROME2 ") ","
    S("0028,0103", "PixelRepresentation", "1") ","
    S("0028,0101", "BitsStored", "12") ","
    S("0028,0120", "PixelPaddingValue", "63536") ","
    S("0028,1050", "WindowCenter", "40\\\\-600") ","
    S("0028,1051", "WindowWidth", " 400\\\\1500") ","
    S("0028,1052", "RescaleIntercept", "-1024 ") ","
    S("0028,1053", "RescaleSlope", "1.5") ","
    S("0028,1056", "VOILUTFunction", "SIGMOID") "}";
  rr_dicom_params *p = parse_ok(json, 0, NULL);

  ck_assert_str_eq(p->modality, "CT");
  ck_assert(p->pixel_signed);
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_MONOCHROME2);
  ck_assert(p->render.has_window);
  ck_assert_double_eq(p->render.window_center, 40);
  ck_assert_double_eq(p->render.window_width, 400);
  ck_assert_double_eq(p->render.rescale_intercept, -1024);
  ck_assert_double_eq(p->render.rescale_slope, 1.5);
  ck_assert_int_eq(p->render.voi_function, RR_VOI_SIGMOID);
  ck_assert(p->render.has_padding);
  ck_assert_int_eq(p->render.padding_value, -2000); /* 63536 read as SS */
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(unusable_values_are_ignored)
{
  static const char json[] = "{"
    S("0028,0004", "PhotometricInterpretation", "MONOCHROME2") ","
    S("0028,0120", "PixelPaddingValue", "-5") ","
    S("0028,1050", "WindowCenter", "abc") ","
    S("0028,1051", "WindowWidth", "400") ","
    S("0028,1053", "RescaleSlope", "0") ","
    S("0028,1056", "VOILUTFunction", "CUBIC") "}";
  rr_dicom_params *p = parse_ok(json, 0, NULL);

  ck_assert(!p->render.has_window);
  ck_assert_double_eq(p->render.rescale_slope, 1);
  ck_assert_int_eq(p->render.voi_function, RR_VOI_LINEAR);
  ck_assert_int_eq(p->render.padding_value, 65531); /* unsigned pixels: -5 read as US */
  rr_dicom_params_free(p);

  /* no photometric interpretation: by samples per pixel */
  p = parse_ok("{" S("0028,0002", "SamplesPerPixel", "3") "}", 0, NULL);
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_RGB);
  ck_assert_ptr_null(p->render.modality);
  rr_dicom_params_free(p);
  p = parse_ok("{}", 0, NULL);
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_MONOCHROME2);
  rr_dicom_params_free(p);
  p = parse_ok("{" S("0028,0004", "PhotometricInterpretation", "YBR_FULL_422") "}", 0, NULL);
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_RGB);
  ck_assert_ptr_null(p->render.palette[0]);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(bad_input_refused)
{
  char err[256];
  rr_dicom_params *p = (rr_dicom_params *)1;

  ck_assert_int_eq(parse_fail("[1, 2]", NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(parse_fail("{\"0028,0004\": ", NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(parse_fail("{" S("0028,0004", "PhotometricInterpretation", "HSV") "}", NULL, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "HSV"));
  ck_assert_int_eq(rr_dicom_params_from_tags(&p, NULL, 0, NULL, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(p);
  ck_assert_int_eq(rr_dicom_params_from_tags(NULL, NULL, 0, NULL, NULL, err, sizeof(err)), RR_EINVAL);
}
END_TEST

/* mlut_18.dcm: signed 12-bit pixels, Modality LUT Sequence 4096\-2048\16
 * whose 8192-byte data Orthanc does not inline. */
static const char MLUT_TEMPLATE[] = "{"
  S("0008,0060", "Modality", "OT") ","
  S("0028,0004", "PhotometricInterpretation", "MONOCHROME2") ","
  S("0028,0100", "BitsAllocated", "16") ","
  S("0028,0101", "BitsStored", "12") ","
  S("0028,0103", "PixelRepresentation", "1") ","
  S("0028,1052", "RescaleIntercept", "-1024") ","
  "\"0028,3000\": {\"Name\": \"ModalityLUTSequence\", \"Type\": \"Sequence\", \"Value\": [{"
  S("0028,3002", "LUTDescriptor", "%s") ","
  S("0028,3003", "LUTExplanation", "") ","
  N("0028,3006", "LUTData", "TooLong") "}]}}";

START_TEST(modality_lut_sequence_fetched)
{
  static const char *const first[2] = {"4096\\\\-2048\\\\16", "4096\\\\63488\\\\16"};
  static uint16_t words[4096];
  static uint8_t bytes[8192];
  fetcher f;
  char json[4096];
  int k, i;

  for (i = 0; i < 4096; i++)
    words[i] = (uint16_t)(i * 16);
  words_le(bytes, words, 4096);
  for (k = 0; k < 2; k++) {
    rr_dicom_params *p;
    memset(&f, 0, sizeof(f));
    f.blobs[0] = (blob){"0028-3000/0/0028-3006", bytes, sizeof(bytes)};
    f.count = 1;
    snprintf(json, sizeof(json), MLUT_TEMPLATE, first[k]);
    p = parse_ok(json, 0, &f);
    ck_assert_int_eq(f.calls, 1);
    ck_assert_str_eq(f.last_path, "0028-3000/0/0028-3006");
    ck_assert_ptr_eq(p->render.modality_lut, &p->luts[0]);
    ck_assert_uint_eq(p->render.modality_lut->entries, 4096);
    ck_assert_int_eq(p->render.modality_lut->first_mapped, -2048);
    ck_assert_uint_eq(p->render.modality_lut->bits, 16);
    ck_assert_uint_eq(p->render.modality_lut->data[0], 0);
    ck_assert_uint_eq(p->render.modality_lut->data[4095], 4095 * 16);
    rr_dicom_params_free(p);
  }
}
END_TEST

START_TEST(modality_lut_errors)
{
  static uint8_t small[100];
  fetcher f;
  char json[4096], err[256];

  /* no callback */
  snprintf(json, sizeof(json), MLUT_TEMPLATE, "4096\\\\-2048\\\\16");
  ck_assert_int_eq(parse_fail(json, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "fetch"));
  /* the callback's error is passed on */
  memset(&f, 0, sizeof(f));
  f.fail_with = RR_EUPSTREAM;
  ck_assert_int_eq(parse_fail(json, &f, err, sizeof(err)), RR_EUPSTREAM);
  ck_assert_ptr_nonnull(strstr(err, "0028-3000/0/0028-3006"));
  /* too little data */
  memset(&f, 0, sizeof(f));
  f.blobs[0] = (blob){"0028-3000/0/0028-3006", small, sizeof(small)};
  f.count = 1;
  ck_assert_int_eq(parse_fail(json, &f, err, sizeof(err)), RR_EINVAL);
  /* malformed descriptors */
  snprintf(json, sizeof(json), MLUT_TEMPLATE, "4096\\\\-2048");
  ck_assert_int_eq(parse_fail(json, &f, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "descriptor"));
  snprintf(json, sizeof(json), MLUT_TEMPLATE, "4096\\\\0\\\\20");
  ck_assert_int_eq(parse_fail(json, &f, err, sizeof(err)), RR_EINVAL);
  snprintf(json, sizeof(json), MLUT_TEMPLATE, "x\\\\0\\\\16");
  ck_assert_int_eq(parse_fail(json, &f, err, sizeof(err)), RR_EINVAL);
}
END_TEST

/* VOI LUT Sequence with its data inline (short US values), 8-bit entries. */
static const char VOI_TEMPLATE[] = "{"
  S("0008,0060", "Modality", "MR") ","
  S("0028,0004", "PhotometricInterpretation", "MONOCHROME2") ","
  S("0028,0103", "PixelRepresentation", "0") ","
  "%s"
  "\"0028,3010\": {\"Name\": \"VOILUTSequence\", \"Type\": \"Sequence\", \"Value\": [{"
  S("0028,3002", "LUTDescriptor", "4\\\\10\\\\8") ","
  S("0028,3006", "LUTData", "0\\\\50\\\\200\\\\255") "}, {"
  S("0028,3002", "LUTDescriptor", "2\\\\0\\\\8") ","
  S("0028,3006", "LUTData", "7\\\\7") "}]}}";

START_TEST(voi_lut_sequence_inline_and_window_precedence)
{
  char json[4096];
  rr_dicom_params *p;
  uint16_t px[6] = {0, 10, 11, 12, 13, 100};
  rr_frame fr = {RR_PIXEL_GRAY16, 6, 1, 12, px};
  rr_image *img = NULL;
  rr_render_info info;
  char err[256] = "";

  snprintf(json, sizeof(json), VOI_TEMPLATE, "");
  p = parse_ok(json, 0, NULL);
  ck_assert(!p->render.has_window);
  ck_assert_ptr_eq(p->render.voi_lut, &p->luts[1]);
  ck_assert_uint_eq(p->render.voi_lut->entries, 4);
  ck_assert_int_eq(p->render.voi_lut->first_mapped, 10);
  ck_assert_uint_eq(p->render.voi_lut->data[2], 200);
  ck_assert_int_eq(rr_render_frame(&img, &info, &fr, &p->render, err, sizeof(err)), 0);
  ck_assert_int_eq(info.voi_source, RR_VOI_FROM_LUT);
  ck_assert_uint_eq(img->pixels[0], 0);
  ck_assert_uint_eq(img->pixels[3], 200);
  ck_assert_uint_eq(img->pixels[5], 255);
  rr_image_free(img);
  rr_dicom_params_free(p);

  /* with a window the LUT is not loaded (and not fetched) */
  snprintf(json, sizeof(json), VOI_TEMPLATE,
           S("0028,1050", "WindowCenter", "100") "," S("0028,1051", "WindowWidth", "50") ",");
  p = parse_ok(json, 0, NULL);
  ck_assert(p->render.has_window);
  ck_assert_ptr_null(p->render.voi_lut);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(voi_lut_first_mapped_sign)
{
  /* signed pixels or a negative intercept: 65036 is -500 */
  static const char json_fmt[] = "{"
    S("0028,0004", "PhotometricInterpretation", "MONOCHROME2") ","
    "%s"
    "\"0028,3010\": {\"Name\": \"VOILUTSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    S("0028,3002", "LUTDescriptor", "2\\\\65036\\\\16") ","
    S("0028,3006", "LUTData", "0\\\\65535") "}]}}";
  char json[2048];
  rr_dicom_params *p;

  snprintf(json, sizeof(json), json_fmt, S("0028,1052", "RescaleIntercept", "-1024") ",");
  p = parse_ok(json, 0, NULL);
  ck_assert_int_eq(p->render.voi_lut->first_mapped, -500);
  rr_dicom_params_free(p);
  snprintf(json, sizeof(json), json_fmt, S("0028,0103", "PixelRepresentation", "0") ",");
  p = parse_ok(json, 0, NULL);
  ck_assert_int_eq(p->render.voi_lut->first_mapped, 65036);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(real_palette_colour)
{
  static uint8_t r[400], g[400], b[400];
  static const uint8_t desc[6] = {200, 0, 0, 0, 16, 0};
  const uint16_t *w[3] = {face_red, face_green, face_blue};
  uint8_t px[4] = {0, 5, 7, 199};
  rr_frame fr = {RR_PIXEL_GRAY8, 4, 1, 4, px};
  rr_image *img = NULL;
  rr_dicom_params *p;
  fetcher f;
  char err[256] = "";
  int i, c;

  words_le(r, face_red, 200);
  words_le(g, face_green, 200);
  words_le(b, face_blue, 200);
  memset(&f, 0, sizeof(f));
  f.blobs[0] = (blob){"0028-1201", r, sizeof(r)};
  f.blobs[1] = (blob){"0028-1202", g, sizeof(g)};
  f.blobs[2] = (blob){"0028-1203", b, sizeof(b)};
  f.blobs[3] = (blob){"desc", desc, sizeof(desc)};
  f.count = 4;
  f.any_descriptor = true;
  /* Orthanc gives the descriptors (xs, implicit VR) and the data as Null */
  p = parse_ok(ORTHANC_OT_PAL_8_FACE, 0, &f);
  ck_assert_int_eq(f.calls, 6);
  ck_assert_str_eq(f.last_path, "0028-1203");
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_PALETTE);
  for (c = 0; c < 3; c++) {
    ck_assert_ptr_nonnull(p->render.palette[c]);
    ck_assert_uint_eq(p->render.palette[c]->entries, 200);
    ck_assert_int_eq(p->render.palette[c]->first_mapped, 0);
    ck_assert_uint_eq(p->render.palette[c]->bits, 16);
    ck_assert_mem_eq(p->render.palette[c]->data, w[c], 400);
  }
  ck_assert_int_eq(rr_render_frame(&img, NULL, &fr, &p->render, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->channels, 3);
  for (i = 0; i < 4; i++)
    for (c = 0; c < 3; c++)
      ck_assert_int_le(abs((int)img->pixels[3 * i + c] - (int)lround(w[c][px[i]] * 255.0 / 65535.0)), 1);
  rr_image_free(img);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(palette_8_bit_packed_and_data_uri)
{
  /* 8-bit entries: one byte per entry from /content; a base64 data URI */
  static const char json[] = "{"
    S("0028,0004", "PhotometricInterpretation", "PALETTE COLOR") ","
    S("0028,1101", "RedPaletteColorLookupTableDescriptor", "4\\\\0\\\\8") ","
    S("0028,1102", "GreenPaletteColorLookupTableDescriptor", "4\\\\0\\\\8") ","
    S("0028,1103", "BluePaletteColorLookupTableDescriptor", "2\\\\0\\\\16") ","
    N("0028,1201", "RedPaletteColorLookupTableData", "Null") ","
    N("0028,1202", "GreenPaletteColorLookupTableData", "TooLong") ","
    "\"0028,1203\": {\"Name\": \"BluePaletteColorLookupTableData\", \"Type\": \"Binary\", "
    "\"Value\": \"data:application/octet-stream;base64,NBL//w==\"}}";
  static const uint8_t red[4] = {1, 2, 3, 4};
  static const uint8_t green[8] = {10, 0, 20, 0, 30, 0, 40, 0};
  rr_dicom_params *p;
  fetcher f;

  memset(&f, 0, sizeof(f));
  f.blobs[0] = (blob){"0028-1201", red, sizeof(red)};
  f.blobs[1] = (blob){"0028-1202", green, sizeof(green)};
  f.count = 2;
  p = parse_ok(json, 0, &f);
  ck_assert_int_eq(f.calls, 2);
  ck_assert_uint_eq(p->render.palette[0]->data[3], 4);
  ck_assert_uint_eq(p->render.palette[1]->data[3], 40);
  ck_assert_uint_eq(p->render.palette[2]->data[0], 0x1234);
  ck_assert_uint_eq(p->render.palette[2]->data[1], 0xffff);
  rr_dicom_params_free(p);
}
END_TEST

/* A PALETTE COLOR header whose three tables are segmented, descriptors
 * "entries\0\bits", data fetched (Orthanc gives OW as Null). */
#define SEGMENTED_PALETTE(desc) "{" \
    S("0028,0004", "PhotometricInterpretation", "PALETTE COLOR") "," \
    S("0028,1101", "RedPaletteColorLookupTableDescriptor", desc) "," \
    S("0028,1102", "GreenPaletteColorLookupTableDescriptor", desc) "," \
    S("0028,1103", "BluePaletteColorLookupTableDescriptor", desc) "," \
    N("0028,1221", "SegmentedRedPaletteColorLookupTableData", "Null") "," \
    N("0028,1222", "SegmentedGreenPaletteColorLookupTableData", "Null") "," \
    N("0028,1223", "SegmentedBluePaletteColorLookupTableData", "Null") "}"

static void segmented_fetcher(fetcher *f, const uint8_t *red, size_t nred, const uint8_t *green, size_t ngreen,
                              const uint8_t *blue, size_t nblue)
{
  memset(f, 0, sizeof(*f));
  f->blobs[0] = (blob){"0028-1221", red, nred};
  f->blobs[1] = (blob){"0028-1222", green, ngreen};
  f->blobs[2] = (blob){"0028-1223", blue, nblue};
  f->count = 3;
}

START_TEST(segmented_palette_expanded)
{
  /* PS3.3 C.7.9.2: discrete, linear (from the previous value, which is not
   * repeated, to y1), indirect (byte offset of the segments to copy, low
   * word first) */
  static const uint16_t red_w[] = {0, 2, 100, 200,  /* discrete: 100 200 */
                                   1, 3, 500,       /* linear: 300 400 500 */
                                   2, 1, 0, 0,      /* indirect: segment at byte 0 again: 100 200 */
                                   0, 1, 7};        /* discrete: 7 */
  static const uint16_t green_w[] = {0, 1, 0, 1, 7, 10}; /* 0, then 1.43 2.86 4.29 5.71 7.14 8.57 10 rounded */
  static const uint16_t blue_w[] = {0, 1, 65535, 1, 3, 65535, 0, 4, 1, 2, 3, 4, 0}; /* trailing pad word */
  static const uint16_t want_red[8] = {100, 200, 300, 400, 500, 100, 200, 7};
  static const uint16_t want_green[8] = {0, 1, 3, 4, 6, 7, 9, 10};
  static const uint16_t want_blue[8] = {65535, 65535, 65535, 65535, 1, 2, 3, 4};
  static uint8_t red[sizeof(red_w)], green[sizeof(green_w)], blue[sizeof(blue_w)];
  uint16_t px[3] = {0, 4, 7};
  rr_frame fr = {RR_PIXEL_GRAY16, 3, 1, 6, px};
  rr_image *img = NULL;
  rr_dicom_params *p;
  fetcher f;
  char err[256] = "";

  words_le(red, red_w, sizeof(red_w) / 2);
  words_le(green, green_w, sizeof(green_w) / 2);
  words_le(blue, blue_w, sizeof(blue_w) / 2);
  segmented_fetcher(&f, red, sizeof(red), green, sizeof(green), blue, sizeof(blue));
  p = parse_ok(SEGMENTED_PALETTE("8\\\\0\\\\16"), 0, &f);
  ck_assert_int_eq(f.calls, 3);
  ck_assert_str_eq(f.last_path, "0028-1223");
  ck_assert_uint_eq(p->render.palette[0]->entries, 8);
  ck_assert_uint_eq(p->render.palette[0]->bits, 16);
  ck_assert_mem_eq(p->render.palette[0]->data, want_red, sizeof(want_red));
  ck_assert_mem_eq(p->render.palette[1]->data, want_green, sizeof(want_green));
  ck_assert_mem_eq(p->render.palette[2]->data, want_blue, sizeof(want_blue));
  ck_assert_int_eq(rr_render_frame(&img, NULL, &fr, &p->render, err, sizeof(err)), 0);
  ck_assert_uint_eq(img->channels, 3);
  ck_assert_uint_eq(img->pixels[0], 0);   /* red 100 / 65535 */
  ck_assert_uint_eq(img->pixels[2], 255); /* blue 65535 */
  ck_assert_uint_eq(img->pixels[3], 2);   /* red 500 */
  ck_assert_uint_eq(img->pixels[6], 0);   /* red 7 */
  rr_image_free(img);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(segmented_palette_8_bit_and_text)
{
  /* 8-bit tables count in bytes (the well-known SPRING... palettes); the
   * indirect offset is then 4 bytes, low word first */
  static const uint8_t red[] = {0, 2, 10, 20, 1, 2, 40, 2, 1, 0, 0, 0, 0};
  static const uint8_t green[] = {0, 6, 1, 2, 3, 4, 5, 6};
  static const uint8_t blue[] = {0, 1, 255, 1, 5, 5};
  static const char text[] = "{"
    S("0028,0004", "PhotometricInterpretation", "PALETTE COLOR") ","
    S("0028,1101", "RedPaletteColorLookupTableDescriptor", "3\\\\0\\\\16") ","
    S("0028,1102", "GreenPaletteColorLookupTableDescriptor", "3\\\\0\\\\16") ","
    S("0028,1103", "BluePaletteColorLookupTableDescriptor", "3\\\\0\\\\16") ","
    S("0028,1221", "SegmentedRedPaletteColorLookupTableData", "0\\\\3\\\\1\\\\2\\\\3") ","
    S("0028,1222", "SegmentedGreenPaletteColorLookupTableData", "0\\\\1\\\\0\\\\1\\\\2\\\\65535") ","
    "\"0028,1223\": {\"Name\": \"SegmentedBluePaletteColorLookupTableData\", \"Type\": \"Binary\", "
    "\"Value\": \"data:application/octet-stream;base64,AAADAAEAAgADAA==\"}}"; /* words 0 3 1 2 3 */
  static const uint8_t want_red[6] = {10, 20, 30, 40, 10, 20};
  rr_dicom_params *p;
  fetcher f;
  int i;

  segmented_fetcher(&f, red, sizeof(red), green, sizeof(green), blue, sizeof(blue));
  p = parse_ok(SEGMENTED_PALETTE("6\\\\0\\\\8"), 0, &f);
  ck_assert_uint_eq(p->render.palette[0]->bits, 8);
  for (i = 0; i < 6; i++) {
    ck_assert_uint_eq(p->render.palette[0]->data[i], want_red[i]);
    ck_assert_uint_eq(p->render.palette[1]->data[i], (unsigned)i + 1);
    ck_assert_uint_eq(p->render.palette[2]->data[i], i == 0 ? 255u : 255u - (255u - 5u) * (unsigned)i / 5u);
  }
  rr_dicom_params_free(p);

  /* segments given as text and as a data URI */
  p = parse_ok(text, 0, NULL);
  ck_assert_uint_eq(p->render.palette[0]->data[2], 3);
  ck_assert_uint_eq(p->render.palette[1]->data[1], 32768);
  ck_assert_uint_eq(p->render.palette[1]->data[2], 65535);
  ck_assert_uint_eq(p->render.palette[2]->data[0], 1);
  ck_assert_uint_eq(p->render.palette[2]->data[2], 3);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(segmented_palette_aloka_and_errors)
{
  /* gdcm-US-ALOKA-16.dcm: descriptors 0\0\16 (65536 entries), segmented
   * data only, too long for Orthanc's JSON; here a full ramp */
  static const char aloka[] = "{"
    S("0008,0060", "Modality", "US") ","
    S("0028,0004", "PhotometricInterpretation", "PALETTE COLOR") ","
    S("0028,0100", "BitsAllocated", "16") ","
    S("0028,0101", "BitsStored", "16") ","
    S("0028,0103", "PixelRepresentation", "0") ","
    S("0028,1101", "RedPaletteColorLookupTableDescriptor", "0\\\\0\\\\16") ","
    S("0028,1102", "GreenPaletteColorLookupTableDescriptor", "0\\\\0\\\\16") ","
    S("0028,1103", "BluePaletteColorLookupTableDescriptor", "0\\\\0\\\\16") ","
    N("0028,1221", "SegmentedRedPaletteColorLookupTableData", "TooLong") ","
    N("0028,1222", "SegmentedGreenPaletteColorLookupTableData", "TooLong") ","
    N("0028,1223", "SegmentedBluePaletteColorLookupTableData", "TooLong") "}";
  static const char none[] = "{"
    S("0028,0004", "PhotometricInterpretation", "PALETTE COLOR") ","
    S("0028,1101", "RedPaletteColorLookupTableDescriptor", "0\\\\0\\\\16") "}";
  static const uint16_t ramp_w[] = {0, 1, 0, 1, 65535, 65535};
  static const uint16_t bad_w[][6] = {
    {1, 2, 5, 0, 1, 0},       /* linear first */
    {0, 1, 0, 0, 9, 1},       /* discrete past the end */
    {0, 1, 0, 3, 1, 1},       /* segment type 3 */
    {0, 1, 0, 2, 1, 0},       /* indirect segment cut short */
    {0, 1, 0, 1, 2, 9},       /* 3 entries of 4 */
  };
  static const uint16_t nested_w[] = {0, 1, 0, 2, 1, 0, 0, 2, 1, 6, 0};
  static uint8_t ramp[sizeof(ramp_w)], bad[12], nested[sizeof(nested_w)];
  rr_dicom_params *p;
  fetcher f;
  char err[256];
  size_t i;
  uint32_t k;

  words_le(ramp, ramp_w, sizeof(ramp_w) / 2);
  segmented_fetcher(&f, ramp, sizeof(ramp), ramp, sizeof(ramp), ramp, sizeof(ramp));
  p = parse_ok(aloka, 0, &f);
  ck_assert_int_eq(f.calls, 3);
  ck_assert_uint_eq(p->render.palette[1]->entries, 65536);
  for (k = 0; k < 65536; k++)
    ck_assert_uint_eq(p->render.palette[1]->data[k], k);
  rr_dicom_params_free(p);

  for (i = 0; i < sizeof(bad_w) / sizeof(bad_w[0]); i++) {
    words_le(bad, bad_w[i], 6);
    segmented_fetcher(&f, bad, sizeof(bad), bad, sizeof(bad), bad, sizeof(bad));
    ck_assert_int_eq(parse_fail(SEGMENTED_PALETTE("4\\\\0\\\\16"), &f, err, sizeof(err)), RR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "red palette"));
  }
  /* an indirect segment may not copy another indirect segment */
  words_le(nested, nested_w, sizeof(nested_w) / 2);
  segmented_fetcher(&f, nested, sizeof(nested), nested, sizeof(nested), nested, sizeof(nested));
  ck_assert_int_eq(parse_fail(SEGMENTED_PALETTE("3\\\\0\\\\16"), &f, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "segment type 2"));

  memset(&f, 0, sizeof(f));
  ck_assert_int_eq(parse_fail(none, &f, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "PALETTE COLOR"));
}
END_TEST

START_TEST(enhanced_functional_groups)
{
  /* window in the Shared, rescale in the Per-frame Functional Groups */
  static const char json[] = "{"
    S("0008,0060", "Modality", "CT") ","
    S("0028,0004", "PhotometricInterpretation", "MONOCHROME2") ","
    S("0028,0008", "NumberOfFrames", "2") ","
    "\"5200,9229\": {\"Name\": \"SharedFunctionalGroupsSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    "\"0028,9132\": {\"Name\": \"FrameVOILUTSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    S("0028,1050", "WindowCenter", "40") "," S("0028,1051", "WindowWidth", "400") "}]}}]},"
    "\"5200,9230\": {\"Name\": \"PerFrameFunctionalGroupsSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    "\"0028,9145\": {\"Name\": \"PixelValueTransformationSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    S("0028,1052", "RescaleIntercept", "-1024") "," S("0028,1053", "RescaleSlope", "1") "}]}}, {"
    "\"0028,9145\": {\"Name\": \"PixelValueTransformationSequence\", \"Type\": \"Sequence\", \"Value\": [{"
    S("0028,1052", "RescaleIntercept", "-1000") "," S("0028,1053", "RescaleSlope", "2") "}]}}]}}";
  rr_dicom_params *p = parse_ok(json, 1, NULL);

  ck_assert_uint_eq(p->number_of_frames, 2);
  ck_assert(p->render.has_window);
  ck_assert_double_eq(p->render.window_center, 40);
  ck_assert_double_eq(p->render.window_width, 400);
  ck_assert_double_eq(p->render.rescale_intercept, -1000);
  ck_assert_double_eq(p->render.rescale_slope, 2);
  rr_dicom_params_free(p);
  p = parse_ok(json, 0, NULL);
  ck_assert_double_eq(p->render.rescale_intercept, -1024);
  rr_dicom_params_free(p);
  p = parse_ok(json, 7, NULL); /* no such frame: defaults */
  ck_assert_double_eq(p->render.rescale_intercept, 0);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(real_orthanc_modality_lut)
{
  static uint16_t words[4096];
  static uint8_t bytes[8192];
  rr_dicom_params *p;
  fetcher f;
  int i;

  for (i = 0; i < 4096; i++)
    words[i] = (uint16_t)(4095 - i);
  words_le(bytes, words, 4096);
  memset(&f, 0, sizeof(f));
  f.blobs[0] = (blob){"0028-3000/0/0028-3006", bytes, sizeof(bytes)};
  f.count = 1;
  p = parse_ok(ORTHANC_MLUT_18, 0, &f);
  ck_assert_int_eq(f.calls, 1);
  ck_assert(p->pixel_signed);
  ck_assert_uint_eq(p->bits_stored, 12);
  ck_assert_int_eq(p->render.photometric, RR_PHOTO_MONOCHROME2);
  ck_assert_ptr_nonnull(p->render.modality_lut);
  ck_assert_uint_eq(p->render.modality_lut->entries, 4096);
  ck_assert_int_eq(p->render.modality_lut->first_mapped, -2048);
  ck_assert_uint_eq(p->render.modality_lut->data[1], 4094);
  rr_dicom_params_free(p);
}
END_TEST

START_TEST(binary_descriptor_errors)
{
  static const uint8_t short_desc[4] = {200, 0, 0, 0};
  fetcher f;
  char err[256];

  memset(&f, 0, sizeof(f));
  f.blobs[0] = (blob){"desc", short_desc, sizeof(short_desc)};
  f.count = 1;
  f.any_descriptor = true;
  ck_assert_int_eq(parse_fail(ORTHANC_OT_PAL_8_FACE, &f, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "not 6"));
  /* without a callback a Null descriptor is a missing one */
  ck_assert_int_eq(parse_fail(ORTHANC_OT_PAL_8_FACE, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "descriptor"));
}
END_TEST

int main(void)
{
  Suite *s = suite_create("dicom_params");
  TCase *gray = tcase_create("grayscale");
  TCase *luts = tcase_create("lookup tables");

  tcase_add_test(gray, real_cr_monochrome1);
  tcase_add_test(gray, ct_multivalued_window_rescale_function_padding);
  tcase_add_test(gray, unusable_values_are_ignored);
  tcase_add_test(gray, bad_input_refused);
  tcase_add_test(gray, enhanced_functional_groups);
  tcase_add_test(luts, modality_lut_sequence_fetched);
  tcase_add_test(luts, modality_lut_errors);
  tcase_add_test(luts, voi_lut_sequence_inline_and_window_precedence);
  tcase_add_test(luts, voi_lut_first_mapped_sign);
  tcase_add_test(luts, real_palette_colour);
  tcase_add_test(luts, palette_8_bit_packed_and_data_uri);
  tcase_add_test(luts, segmented_palette_expanded);
  tcase_add_test(luts, segmented_palette_8_bit_and_text);
  tcase_add_test(luts, segmented_palette_aloka_and_errors);
  tcase_add_test(luts, real_orthanc_modality_lut);
  tcase_add_test(luts, binary_descriptor_errors);
  suite_add_tcase(s, gray);
  suite_add_tcase(s, luts);
  return rr_test_run(s);
}
