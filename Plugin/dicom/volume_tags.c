/*
 * volume_tags.c - see volume_tags.h.
 */
#include "dicom/volume_tags.h"

#include <stdlib.h>
#include <string.h>

#include "dicom/value.h"
#include "util/errors.h"
#include "util/str.h"

/* The string value of `tag` in `o`, NULL when absent or not text. */
static const char *text(json_object *o, const char *tag)
{
  json_object *v;

  if (o == NULL || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, tag, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* Item `index` of sequence `tag` in `o`; NULL. */
static json_object *item(json_object *o, const char *tag, size_t index)
{
  json_object *v, *it;

  if (o == NULL || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, tag, &v) ||
      !json_object_is_type(v, json_type_array) || index >= json_object_array_length(v))
    return NULL;
  it = json_object_array_get_idx(v, index);
  return json_object_is_type(it, json_type_object) ? it : NULL;
}

/* `tag` inside the first item of macro sequence `macro`: the frame's item
 * first, then the shared one; NULL. */
static const char *grouped(json_object *frame, json_object *shared, const char *macro, const char *tag)
{
  const char *v = text(item(frame, macro, 0), tag);

  return v != NULL ? v : text(item(shared, macro, 0), tag);
}

static const char *first_of(const char *a, const char *b)
{
  return a != NULL ? a : b;
}

static bool has_localizer(const char *type)
{
  return type != NULL && strstr(type, "LOCALIZER") != NULL;
}

/* One slice from the top-level tags, then the groups (NULL for a
 * single-frame instance). */
static void read_slice(rr_vol_slice *s, json_object *tags, json_object *frame, json_object *shared, bool own_position)
{
  const char *v;
  int64_t n;

  if (own_position) {
    v = first_of(grouped(frame, shared, "0020,9113", "0020,0032"), text(tags, "0020,0032"));
    s->has_position = rr_parse_ds_array(s->position, 3, v) == 0;
  }
  v = first_of(grouped(frame, shared, "0020,9116", "0020,0037"), text(tags, "0020,0037"));
  s->has_orientation = rr_parse_ds_array(s->orientation, 6, v) == 0;
  v = first_of(grouped(frame, shared, "0028,9110", "0028,0030"), text(tags, "0028,0030"));
  s->has_spacing = rr_parse_ds_array(s->spacing, 2, v) == 0 && s->spacing[0] > 0 && s->spacing[1] > 0;
  v = first_of(grouped(frame, shared, "0028,9110", "0018,0050"), text(tags, "0018,0050"));
  s->has_thickness = rr_dicom_first_double(&s->thickness, v) == 0;
  v = first_of(grouped(frame, shared, "0018,9321", "0018,1120"), text(tags, "0018,1120"));
  s->has_tilt = rr_dicom_first_double(&s->tilt, v) == 0;
  if (rr_dicom_first_i64(&n, text(tags, "0028,0010"), 0, UINT16_MAX) == 0)
    s->rows = (uint32_t)n;
  if (rr_dicom_first_i64(&n, text(tags, "0028,0011"), 0, UINT16_MAX) == 0)
    s->columns = (uint32_t)n;
  rr_str_copy_trim(s->frame_of_reference, sizeof(s->frame_of_reference), first_of(text(tags, "0020,0052"), ""));
  s->localizer = has_localizer(text(tags, "0008,0008")) ||
                 has_localizer(grouped(frame, shared, "0018,9329", "0008,9007")) ||
                 has_localizer(grouped(frame, shared, "0018,9226", "0008,9007"));
}

static int grow(rr_vol_slice_list *l, size_t more, char *err, size_t errsize)
{
  rr_vol_slice *p;
  size_t cap;

  if (more > RR_VOL_MAX_SLICES - l->count)
    return rr_fail(err, errsize, RR_EINVAL, "more than %d slices", RR_VOL_MAX_SLICES);
  if (l->count + more <= l->cap)
    return 0;
  cap = l->cap * 2 > l->count + more ? l->cap * 2 : l->count + more;
  if ((p = realloc(l->items, cap * sizeof(*p))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  l->items = p;
  l->cap = cap;
  return 0;
}

int rr_vol_tags_read(rr_vol_slice_list *l, const char *instance_id, json_object *tags, char *err, size_t errsize)
{
  json_object *shared = item(tags, "5200,9229", 0);
  int64_t frames = 1;
  size_t f;
  int rc;

  if (text(tags, "0028,0008") != NULL && rr_dicom_first_i64(&frames, text(tags, "0028,0008"), 1, RR_VOL_MAX_SLICES) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "NumberOfFrames is not a number between 1 and %d", RR_VOL_MAX_SLICES);
  if ((rc = grow(l, (size_t)frames, err, errsize)) < 0)
    return rc;
  for (f = 0; f < (size_t)frames; f++) {
    rr_vol_slice *s = &l->items[l->count++];
    json_object *frame = item(tags, "5200,9230", f);
    memset(s, 0, sizeof(*s));
    rr_str_copy(s->instance_id, sizeof(s->instance_id), instance_id);
    s->frame = (uint32_t)f;
    /* a multi-frame instance's frames have no position of their own
     * unless its functional groups give one */
    read_slice(s, tags, frame, shared, frames == 1 || frame != NULL);
  }
  return 0;
}

void rr_vol_slice_list_dispose(rr_vol_slice_list *l)
{
  if (l == NULL)
    return;
  free(l->items);
  memset(l, 0, sizeof(*l));
}
