#include "orthanc_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/dicom_params.h"
#include "image/modality_values.h"
#include "image/png_encode.h"
#include "util/errors.h"
#include "util/str.h"

typedef struct fetch_ctx {
  OrthancPluginContext *ctx;
  const char *instance_id;
} fetch_ctx;

/* GET a URI of Orthanc's REST API as raw bytes (malloc'd copy). */
static int get_raw(OrthancPluginContext *ctx, uint8_t **data, size_t *size, const char *uri, char *err, size_t errsize)
{
  OrthancPluginMemoryBuffer buf = {0};
  OrthancPluginErrorCode code = OrthancPluginRestApiGet(ctx, &buf, uri);

  *data = NULL;
  *size = 0;
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem)
    return rr_fail(err, errsize, RR_ENOTFOUND, "not found in Orthanc");
  if (code != OrthancPluginErrorCode_Success)
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc answered error %d", (int)code);
  *data = malloc(buf.size ? buf.size : 1);
  if (*data == NULL) {
    OrthancPluginFreeMemoryBuffer(ctx, &buf);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  if (buf.size > 0)
    memcpy(*data, buf.data, buf.size);
  *size = buf.size;
  OrthancPluginFreeMemoryBuffer(ctx, &buf);
  return 0;
}

static int fetch_content(void *c, uint8_t **data, size_t *size, const char *path, char *err, size_t errsize)
{
  fetch_ctx *f = c;
  char uri[256];
  size_t i;

  for (i = 0; path[i]; i++)
    if (!((path[i] >= '0' && path[i] <= '9') || (path[i] >= 'a' && path[i] <= 'f') ||
          (path[i] >= 'A' && path[i] <= 'F') || path[i] == '-' || path[i] == '/'))
      return rr_fail(err, errsize, RR_EINVAL, "bad tag path");
  if (snprintf(uri, sizeof(uri), "/instances/%s/content/%s", f->instance_id, path) >= (int)sizeof(uri))
    return rr_fail(err, errsize, RR_EINVAL, "tag path too long");
  return get_raw(f->ctx, data, size, uri, err, errsize);
}

/* Tags as Orthanc's /instances/{id}/tags gives them (full format, private
 * and unknown tags, binary values null, long strings "TooLong"). */
#define TAGS_FLAGS                                                                                            \
  ((OrthancPluginDicomToJsonFlags)(OrthancPluginDicomToJsonFlags_IncludeBinary |                             \
                                   OrthancPluginDicomToJsonFlags_IncludePrivateTags |                        \
                                   OrthancPluginDicomToJsonFlags_IncludeUnknownTags |                        \
                                   OrthancPluginDicomToJsonFlags_ConvertBinaryToNull))
#define TAGS_MAX_STRING 256

/* Read instance `instance_id` into *file and parse it into *dicom (the
 * caller frees both, also on error). */
static int open_instance(OrthancPluginMemoryBuffer *file, OrthancPluginDicomInstance **dicom,
                         OrthancPluginContext *ctx, const char *instance_id, char *err, size_t errsize)
{
  OrthancPluginErrorCode code = OrthancPluginGetDicomForInstance(ctx, file, instance_id);

  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such instance");
  if (code != OrthancPluginErrorCode_Success)
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc cannot read the file (error %d)", (int)code);
  if ((*dicom = OrthancPluginCreateDicomInstance(ctx, file->data, file->size)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "Orthanc cannot parse this file");
  return 0;
}

/* Describe decoded `image` as `frame` (borrowing its pixels) and adapt the
 * render parameters of `dp` to the pixel format Orthanc decoded to. */
static int frame_from_image(rr_frame *frame, rr_dicom_params *dp, OrthancPluginContext *ctx,
                            const OrthancPluginImage *image, char *err, size_t errsize)
{
  memset(frame, 0, sizeof(*frame));
  frame->width = OrthancPluginGetImageWidth(ctx, image);
  frame->height = OrthancPluginGetImageHeight(ctx, image);
  frame->pitch = OrthancPluginGetImagePitch(ctx, image);
  frame->pixels = OrthancPluginGetImageBuffer(ctx, image);
  switch (OrthancPluginGetImagePixelFormat(ctx, image)) {
  case OrthancPluginPixelFormat_Grayscale8: frame->format = RR_PIXEL_GRAY8; break;
  case OrthancPluginPixelFormat_Grayscale16: frame->format = RR_PIXEL_GRAY16; break;
  case OrthancPluginPixelFormat_SignedGrayscale16: frame->format = RR_PIXEL_SGRAY16; break;
  case OrthancPluginPixelFormat_RGB24:
    frame->format = RR_PIXEL_RGB24;
    /* Orthanc's decoders turn YBR and PALETTE COLOR into RGB */
    dp->render.photometric = RR_PHOTO_RGB;
    break;
  case OrthancPluginPixelFormat_RGB48:
    /* 16-bit RGB, or a PALETTE COLOR frame expanded through 16-bit tables
     * (gdcm-US-ALOKA-16.dcm): white is the tables' or the samples' maximum */
    frame->format = RR_PIXEL_RGB48;
    if (dp->render.photometric == RR_PHOTO_PALETTE && dp->render.palette[0] != NULL)
      dp->render.rgb_bits = dp->render.palette[0]->bits;
    else
      dp->render.rgb_bits = dp->bits_stored >= 9 && dp->bits_stored <= 16 ? dp->bits_stored : 16;
    dp->render.photometric = RR_PHOTO_RGB;
    break;
  default:
    return rr_fail(err, errsize, RR_EINVAL, "pixel format %d is not supported yet",
                   (int)OrthancPluginGetImagePixelFormat(ctx, image));
  }
  return 0;
}

/* The viewer's window override, preset and size limit of `req` into `r`. */
static void apply_request(rr_render_params *r, const rr_frame_request *req)
{
  if (req->has_window) {
    r->has_override = true;
    r->override_center = req->center;
    r->override_width = req->width;
  }
  r->preset = req->preset;
  r->max_side = req->max_side;
}

/* One frame read, parsed and decoded, with the parameters of its tags. */
typedef struct decoded_frame {
  OrthancPluginMemoryBuffer file;
  OrthancPluginDicomInstance *dicom;
  char *json;
  rr_dicom_params *dp;
  OrthancPluginImage *image;
  rr_frame frame;
} decoded_frame;

static void decoded_frame_dispose(OrthancPluginContext *ctx, decoded_frame *d)
{
  if (d->image != NULL)
    OrthancPluginFreeImage(ctx, d->image);
  if (d->json != NULL)
    OrthancPluginFreeString(ctx, d->json);
  if (d->dicom != NULL)
    OrthancPluginFreeDicomInstance(ctx, d->dicom);
  if (d->file.data != NULL)
    OrthancPluginFreeMemoryBuffer(ctx, &d->file);
  rr_dicom_params_free(d->dp);
  memset(d, 0, sizeof(*d));
}

/* Fill the zeroed *d with frame `frame_no` of the instance (the caller
 * disposes of *d, also on error). */
static int decode_frame(decoded_frame *d, OrthancPluginContext *ctx, const char *instance_id, uint32_t frame_no,
                        char *err, size_t errsize)
{
  fetch_ctx fctx = {ctx, instance_id};
  int error;

  if (!rr_orthanc_id_valid(instance_id))
    return rr_fail(err, errsize, RR_EINVAL, "not an Orthanc instance identifier");
  /* the file is read and parsed once, for its tags and its pixels */
  if ((error = open_instance(&d->file, &d->dicom, ctx, instance_id, err, errsize)) < 0)
    return error;
  if ((d->json = OrthancPluginGetInstanceAdvancedJson(ctx, d->dicom, OrthancPluginDicomToJsonFormat_Full, TAGS_FLAGS,
                                                      TAGS_MAX_STRING)) == NULL)
    return rr_fail(err, errsize, RR_EUPSTREAM, "Orthanc cannot read the tags of this file");
  if ((error = rr_dicom_params_from_json(&d->dp, d->json, strlen(d->json), frame_no, fetch_content, &fctx, err,
                                         errsize)) < 0)
    return error;
  if (d->dp->number_of_frames > 0 && frame_no >= d->dp->number_of_frames)
    return rr_fail(err, errsize, RR_ENOTFOUND, "the instance has %u frames", (unsigned)d->dp->number_of_frames);
  if ((d->image = OrthancPluginGetInstanceDecodedFrame(ctx, d->dicom, frame_no)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL,
                   "Orthanc cannot decode this frame (not an image, or a transfer syntax without a decoder)");
  return frame_from_image(&d->frame, d->dp, ctx, d->image, err, errsize);
}

int rr_orthanc_frame_png(rr_buf *png, rr_render_info *info, OrthancPluginContext *ctx, const char *instance_id,
                         const rr_frame_request *req, char *err, size_t errsize)
{
  decoded_frame d;
  rr_image *out = NULL;
  int error;

  memset(&d, 0, sizeof(d));
  if ((error = decode_frame(&d, ctx, instance_id, req->frame, err, errsize)) < 0)
    goto out;
  apply_request(&d.dp->render, req);
  if ((error = rr_render_frame(&out, info, &d.frame, &d.dp->render, err, errsize)) < 0 ||
      (error = rr_png_encode(png, out, RR_PNG_FAST, err, errsize)) < 0)
    goto out;
out:
  rr_image_free(out);
  decoded_frame_dispose(ctx, &d);
  return error;
}

int rr_orthanc_frame_values(rr_buf *values, rr_frame_values_info *info, OrthancPluginContext *ctx,
                            const char *instance_id, uint32_t frame, char *err, size_t errsize)
{
  decoded_frame d;
  int error;

  memset(&d, 0, sizeof(d));
  memset(info, 0, sizeof(*info));
  if ((error = decode_frame(&d, ctx, instance_id, frame, err, errsize)) < 0)
    goto out;
  if ((error = rr_modality_values(values, &info->values, &d.frame, &d.dp->render, err, errsize)) < 0)
    goto out;
  info->columns = d.frame.width;
  info->rows = d.frame.height;
  info->has_window = d.dp->render.has_window && d.dp->render.window_width > 0;
  info->window_center = d.dp->render.window_center;
  info->window_width = d.dp->render.window_width;
out:
  decoded_frame_dispose(ctx, &d);
  return error;
}
