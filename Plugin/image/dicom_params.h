/*
 * dicom_params.h - rendering parameters (image/render.h) from an instance's
 * tags, as Orthanc answers GET /instances/{id}/tags (the full format, not
 * "?simplify"): an object keyed "gggg,eeee", each value
 * {"Name", "Type", "Value"} where Type is "String" (Value a string; numbers
 * and multi-valued elements are text, "40\\400"), "Sequence" (Value an array
 * of objects of the same shape), "Null" (binary value left out), "TooLong"
 * (value longer than Orthanc's limit) or "Binary" (data URI).
 *
 * Read: PhotometricInterpretation (0028,0004), SamplesPerPixel, Rows,
 * Columns, NumberOfFrames, BitsAllocated, BitsStored, PixelRepresentation
 * (0028,0103), Modality (0008,0060), RescaleSlope/Intercept
 * (0028,1053/1052), Modality LUT Sequence (0028,3000), WindowCenter/Width
 * (0028,1050/1051, first value of a multi-valued element), VOILUTFunction
 * (0028,1056), VOI LUT Sequence (0028,3010, first item; only loaded when the
 * file has no usable window, since a window wins in the renderer), palette
 * descriptors (0028,1101-1103) and data (0028,1201-1203) for PALETTE COLOR,
 * PixelPaddingValue (0028,0120). For enhanced multi-frame objects, rescale
 * (Pixel Value Transformation, 0028,9145) and window (Frame VOI LUT,
 * 0028,9132) missing at the top level are taken from the Shared, then the
 * Per-frame (item `frame`) Functional Groups.
 *
 * The second value of a LUT descriptor (first mapped) is US or SS: it is
 * read as signed when PixelRepresentation is 1 (modality and palette LUTs)
 * and, for a VOI LUT, also when the modality transformation can give
 * negative values (negative intercept or slope, signed modality LUT start).
 *
 * LUT descriptors are text ("200\\0\\16"); one that Orthanc gives as
 * "Null" (US/SS descriptors of implicit VR files, read as binary: measured
 * with Orthanc 1.10.1 on OT-PAL-8-face.dcm) is fetched, 6 bytes, with the
 * path of its element ("0028-1101", "0028-3000/0/0028-3002").
 *
 * LUT data: a "String" value of backslash-separated numbers is used as it
 * is; a "Binary" data URI is decoded; otherwise ("Null", "TooLong") the raw
 * bytes are asked from `fetch` with an Orthanc /content path such as
 * "0028-3000/0/0028-3006" or "0028-1201" (the caller answers with
 * GET /instances/{id}/content/{path}, which Orthanc 1.10.1 answers with the
 * element's bytes, e.g. 8192 for mlut_18's 4096 entries; Orthanc 1.10.1
 * gives OW/OB values as "Null" and values longer than its limit as
 * "TooLong"; short US values come as text). Raw bytes are little-endian 16-bit
 * words, or one byte per entry for 8-bit tables whose byte count equals the
 * entry count. Segmented palettes (0028,1221-1223, PS3.3 C.7.9.2) are
 * expanded to the number of entries of their descriptor: units are bytes for
 * 8-bit tables and 16-bit words otherwise; discrete, linear (joining the
 * previous value to y1, rounded) and indirect segments (byte offset, low
 * word first; they may not copy indirect segments). (Orthanc 1.10.1's
 * decoders already give PALETTE COLOR frames as RGB24 / RGB48, segmented
 * ones included, so the tables serve decoders that give the indices.)
 *
 * Ownership: rr_dicom_params is allocated by rr_dicom_params_from_tags and
 * freed with rr_dicom_params_free (NULL accepted); `render` points into the
 * same allocation (LUTs, modality), so it is valid until that free. The
 * caller may change `render`'s VOI fields (override, preset, max_side).
 * Thread-safety: pure and reentrant (the callback is called from the
 * calling thread only).
 */
#ifndef RR_IMAGE_DICOM_PARAMS_H
#define RR_IMAGE_DICOM_PARAMS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/render.h"

/* Fetch the raw value of the element at `path` (Orthanc /content syntax).
 * On success store a malloc'ed buffer in *data (freed by the caller with
 * free) and its length in *size and return 0; otherwise a negative RR_E*
 * code, with a sentence in err. */
typedef int (*rr_dicom_fetch_fn)(void *ctx, uint8_t **data, size_t *size, const char *path, char *err,
                                 size_t errsize);

#define RR_DICOM_LUT_SLOTS 5 /* modality, VOI, red, green, blue */

typedef struct rr_dicom_params {
  rr_render_params render; /* ready for rr_render_frame */

  /* what the tags said (0 / false when absent) */
  unsigned samples_per_pixel; /* 1 when absent */
  unsigned bits_allocated;
  unsigned bits_stored;
  bool pixel_signed; /* PixelRepresentation 1 */
  uint32_t rows, columns;
  uint32_t number_of_frames; /* 1 when absent */
  char modality[24];

  /* owned storage that `render` points to */
  rr_lut luts[RR_DICOM_LUT_SLOTS];
  uint16_t *lut_data[RR_DICOM_LUT_SLOTS];
} rr_dicom_params;

/* Build the parameters from the tags JSON (an object) for frame `frame`
 * (0-based; only used for Per-frame Functional Groups). fetch may be NULL:
 * then LUT data that the JSON does not carry is RR_EINVAL. Errors:
 * RR_EINVAL (not an object, unknown photometric interpretation, malformed
 * LUT descriptor or data, malformed segmented palette data, PALETTE COLOR
 * without its three tables), whatever fetch returns, RR_ENOMEM. A window or
 * VOILUTFunction that cannot be parsed is ignored (no window / LINEAR). */
int rr_dicom_params_from_tags(rr_dicom_params **out, json_object *tags, uint32_t frame, rr_dicom_fetch_fn fetch,
                              void *fetch_ctx, char *err, size_t errsize);

/* Same from the JSON text (len bytes, not necessarily NUL-terminated). */
int rr_dicom_params_from_json(rr_dicom_params **out, const char *json, size_t len, uint32_t frame,
                              rr_dicom_fetch_fn fetch, void *fetch_ctx, char *err, size_t errsize);

void rr_dicom_params_free(rr_dicom_params *params);

#endif
