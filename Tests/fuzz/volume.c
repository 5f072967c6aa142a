/*
 * volume.c - fuzz target: a series' tags as Orthanc's
 * /series/{id}/instances-tags?short answers them (an object of instances,
 * each an object of "gggg,eeee" tags, sequences as arrays) through
 * rr_vol_tags_read (dicom/volume_tags.h) and rr_vol_check
 * (dicom/volume_check.h).
 *
 * Properties: a refused instance leaves a message; the check never fails
 * on what was read; reconstructable exactly when there is no reason; the
 * build order is a permutation of the slices; a geometry has finite,
 * positive spacing and unit cosines; a correctable tilt has offsets that
 * keep every index >= 0; labels are at most three letters.
 */
#include <math.h>

#include "dicom/volume_check.h"
#include "dicom/volume_tags.h"
#include "fuzz.h"

static void check_result(const rr_vol_result *r, size_t count)
{
  unsigned char *seen = calloc(count, 1);
  size_t i;

  if (seen == NULL)
    abort();
  RR_FUZZ_ASSERT(r->reconstructable == (r->reason_count == 0));
  RR_FUZZ_ASSERT(r->order_count == count);
  for (i = 0; i < count; i++) {
    RR_FUZZ_ASSERT(r->order[i] < count && !seen[r->order[i]]);
    seen[r->order[i]] = 1;
  }
  free(seen);
  for (i = 0; i < r->reason_count; i++)
    RR_FUZZ_ASSERT(r->reasons[i][0] != '\0');
  if (!r->has_geometry)
    return;
  RR_FUZZ_ASSERT(r->plane != NULL && r->dimensions[2] == count);
  RR_FUZZ_ASSERT(fabs(r->normal[0] * r->normal[0] + r->normal[1] * r->normal[1] + r->normal[2] * r->normal[2] - 1) < 1e-6);
  RR_FUZZ_ASSERT(isfinite(r->spacing[0]) && r->spacing[0] > 0 && isfinite(r->spacing[1]) && r->spacing[1] > 0);
  for (i = 0; i < 3; i++)
    RR_FUZZ_ASSERT(strlen(r->views[i].label_left) <= 3 && strlen(r->views[i].label_top) <= 3);
  if (r->tilt.correctable)
    RR_FUZZ_ASSERT(r->tilt.offset_columns >= 0 && r->tilt.offset_rows >= 0 &&
                   r->tilt.offset_columns + r->tilt.shift_columns * (double)(count - 1) >= -1e-6 &&
                   r->tilt.offset_rows + r->tilt.shift_rows * (double)(count - 1) >= -1e-6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = rr_fuzz_string(data, size), err[256];
  json_object *all = json_tokener_parse(text);
  rr_vol_slice_list list = {0};
  rr_vol_result *r = NULL;

  if (json_object_is_type(all, json_type_object)) {
    json_object_object_foreach(all, id, tags) {
      err[0] = '\0';
      if (rr_vol_tags_read(&list, id, tags, err, sizeof(err)) < 0)
        RR_FUZZ_ASSERT(err[0] != '\0');
    }
  }
  if (list.count > 0) {
    RR_FUZZ_ASSERT(rr_vol_check(&r, list.items, list.count) == 0 && r != NULL);
    check_result(r, list.count);
  }
  rr_vol_result_free(r);
  rr_vol_slice_list_dispose(&list);
  json_object_put(all);
  free(text);
  return 0;
}
