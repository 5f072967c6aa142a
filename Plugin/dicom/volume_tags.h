/*
 * volume_tags.h - the slices of one instance for the volume check
 * (dicom/volume_check.h), read from its tags as Orthanc's
 * GET /instances/{id}/tags?short (or /series/{id}/instances-tags?short)
 * gives them: an object keyed "gggg,eeee", text values as strings,
 * sequences as arrays of such objects.
 *
 * A single-frame instance gives one slice from its top-level tags. An
 * enhanced multi-frame instance (Per-frame Functional Groups Sequence
 * (5200,9230)) gives one slice per frame: Plane Position (0020,9113),
 * Plane Orientation (0020,9116), Pixel Measures (0028,9110: PixelSpacing,
 * SliceThickness), CT Acquisition Details (0018,9321: GantryDetectorTilt)
 * and the CT/MR Image Frame Type (FrameType, for localizers) of the frame's
 * item, each falling back to the Shared Functional Groups Sequence
 * (5200,9229) and then to the top-level tags. A multi-frame instance
 * without per-frame groups gives one slice per frame without a position
 * (its frames have no position of their own).
 *
 * Ownership: the list owns its items (rr_vol_slice_list_dispose; a zeroed
 * list is empty); tags are borrowed. Pure and thread-safe. Errors:
 * RR_ENOMEM; RR_EINVAL when NumberOfFrames is not a number in 1..100000,
 * or the list would exceed RR_VOL_MAX_SLICES (err says which).
 */
#ifndef RR_DICOM_VOLUME_TAGS_H
#define RR_DICOM_VOLUME_TAGS_H

#include <json-c/json.h>
#include <stddef.h>

#include "dicom/volume_check.h"

#define RR_VOL_MAX_SLICES 100000

typedef struct rr_vol_slice_list {
  rr_vol_slice *items;
  size_t count, cap;
} rr_vol_slice_list;

int rr_vol_tags_read(rr_vol_slice_list *list, const char *instance_id, json_object *tags, char *err, size_t errsize);
void rr_vol_slice_list_dispose(rr_vol_slice_list *list);

#endif
