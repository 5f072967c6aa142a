#include "png_encode.h"

#include <png.h>
#include <zlib.h>
#include <setjmp.h>
#include <string.h>

#include "util/errors.h"
#include "util/str.h"

/* State shared with libpng's callbacks. */
typedef struct png_sink {
  rr_buf *out;
  int code;      /* first failure of ours (RR_EFULL, RR_ENOMEM), else 0 */
  char msg[200]; /* libpng's error message */
} png_sink;

static void sink_error(png_structp png, png_const_charp msg)
{
  png_sink *sink = png_get_error_ptr(png);

  if (sink != NULL && sink->msg[0] == '\0')
    rr_str_copy(sink->msg, sizeof(sink->msg), msg);
  png_longjmp(png, 1);
}

static void sink_warning(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

static void sink_write(png_structp png, png_bytep data, size_t len)
{
  png_sink *sink = png_get_io_ptr(png);
  int error = rr_buf_append(sink->out, data, len);

  if (error < 0) {
    sink->code = error;
    png_error(png, error == RR_EFULL ? "the PNG is larger than allowed" : "out of memory");
  }
}

static void sink_flush(png_structp png)
{
  (void)png;
}

/* Everything that may call png_error, without locals that change: a
 * longjmp lands in write_png's setjmp and nothing of ours needs cleanup
 * between the two. */
static void write_rows(png_structp png, png_infop info, const rr_image *img, int compression)
{
  uint32_t y;

  png_set_IHDR(png, info, img->width, img->height, 8, img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (compression == RR_PNG_FAST) {
    png_set_compression_level(png, 1);
    png_set_compression_strategy(png, Z_RLE);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  } else if (compression >= 0) {
    png_set_compression_level(png, compression);
  }
  png_write_info(png, info);
  for (y = 0; y < img->height; y++)
    png_write_row(png, img->pixels + (size_t)y * img->pitch);
  png_write_end(png, info);
}

/* The only setjmp: returns 0, or -1 when libpng jumped back. */
static int write_png(png_structp png, png_infop info, const rr_image *img, int compression)
{
  if (setjmp(png_jmpbuf(png)))
    return -1;
  write_rows(png, info, img, compression);
  return 0;
}

int rr_png_encode(rr_buf *out, const rr_image *img, int compression, char *err, size_t errsize)
{
  png_structp png = NULL;
  png_infop info = NULL;
  png_sink sink;
  size_t old_len = out->len;
  int error = 0;

  memset(&sink, 0, sizeof(sink));
  sink.out = out;
  if (img == NULL || img->pixels == NULL || img->width == 0 || img->height == 0 ||
      (img->channels != 1 && img->channels != 3) || img->pitch < (size_t)img->width * img->channels) {
    error = rr_fail(err, errsize, RR_EINVAL, "The image to encode as PNG is empty or malformed.");
    goto out;
  }
  if ((compression < -1 && compression != RR_PNG_FAST) || compression > 9) {
    error = rr_fail(err, errsize, RR_EINVAL, "PNG compression must be RR_PNG_FAST, -1 or 0..9 (got %d).", compression);
    goto out;
  }
  png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, sink_error, sink_warning);
  if (png == NULL || (info = png_create_info_struct(png)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory for the PNG encoder.");
    goto out;
  }
  png_set_write_fn(png, &sink, sink_write, sink_flush);
  if (write_png(png, info, img, compression) < 0) {
    if (sink.code == RR_EFULL)
      error = rr_fail(err, errsize, RR_EFULL, "The PNG of a %ux%u image is larger than the %zu bytes allowed.",
                      img->width, img->height, out->max);
    else if (sink.code == RR_ENOMEM)
      error = rr_fail(err, errsize, RR_ENOMEM, "Out of memory while encoding a PNG.");
    else
      error = rr_fail(err, errsize, RR_ERROR, "libpng could not encode the image: %s.", sink.msg);
    goto out;
  }
out:
  if (png != NULL)
    png_destroy_write_struct(&png, info != NULL ? &info : NULL);
  if (error < 0) {
    out->len = old_len;
    if (out->ptr != NULL)
      out->ptr[old_len] = '\0';
  }
  return error;
}
