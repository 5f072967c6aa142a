/*
 * display_order.c - see display_order.h.
 */
#include "dicom/display_order.h"

#include <stdlib.h>
#include <string.h>

#include "dicom/geometry.h"
#include "util/errors.h"

typedef struct sort_key {
  int has_position;
  double position;
  int has_number;
  int64_t number;
  const char *uid;
  size_t index;
} sort_key;

static int compare(const void *pa, const void *pb)
{
  const sort_key *a = pa, *b = pb;
  int c;

  if (a->has_position != b->has_position)
    return a->has_position ? -1 : 1;
  if (a->has_position && a->position != b->position)
    return a->position < b->position ? -1 : 1;
  if (a->has_number != b->has_number)
    return a->has_number ? -1 : 1;
  if (a->has_number && a->number != b->number)
    return a->number < b->number ? -1 : 1;
  c = strcmp(a->uid, b->uid);
  if (c != 0)
    return c;
  return a->index < b->index ? -1 : (a->index > b->index);
}

int rr_dicom_display_order(rr_instance_rec *items, size_t count)
{
  sort_key *keys = NULL;
  rr_instance_rec *sorted = NULL;
  double normal[3];
  int has_normal = 0, error = 0;
  size_t i;

  if (count < 2)
    return 0;
  keys = calloc(count, sizeof(*keys));
  sorted = malloc(count * sizeof(*sorted));
  if (keys == NULL || sorted == NULL) {
    error = RR_ENOMEM;
    goto out;
  }
  for (i = 0; i < count && !has_normal; i++)
    has_normal = rr_dicom_slice_normal(normal, items[i].image_orientation) == 0;
  for (i = 0; i < count; i++) {
    keys[i].index = i;
    keys[i].uid = items[i].sop_instance_uid;
    keys[i].has_number = items[i].has_instance_number;
    keys[i].number = items[i].instance_number;
    if (has_normal && rr_dicom_position_along(&keys[i].position, normal, items[i].image_position) == 0)
      keys[i].has_position = 1;
  }
  qsort(keys, count, sizeof(*keys), compare);
  for (i = 0; i < count; i++)
    sorted[i] = items[keys[i].index];
  memcpy(items, sorted, count * sizeof(*items));
out:
  free(keys);
  free(sorted);
  return error;
}
