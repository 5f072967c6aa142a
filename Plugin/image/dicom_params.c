/*
 * dicom_params.c - see dicom_params.h.
 */
#include "image/dicom_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/value.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/str.h"

enum { SLOT_MODALITY = 0, SLOT_VOI = 1, SLOT_RED = 2 };

#define LUT_MAX_ENTRIES 65536u
#define DATA_URI_PREFIX "data:application/octet-stream;base64,"

/* ------------------------------------------------------------ JSON access */

/* The element `tag` of `obj` (an item object), or NULL. */
static json_object *element(json_object *obj, const char *tag)
{
  json_object *el = NULL;

  if (obj == NULL || !json_object_is_type(obj, json_type_object))
    return NULL;
  if (!json_object_object_get_ex(obj, tag, &el) || !json_object_is_type(el, json_type_object))
    return NULL;
  return el;
}

static const char *element_type(json_object *el)
{
  json_object *t = NULL;

  if (el == NULL || !json_object_object_get_ex(el, "Type", &t) || !json_object_is_type(t, json_type_string))
    return "";
  return json_object_get_string(t);
}

/* The string value of `tag` ("String" type only), or NULL. */
static const char *tag_string(json_object *obj, const char *tag)
{
  json_object *el = element(obj, tag), *v = NULL;

  if (el == NULL || strcmp(element_type(el), "String") != 0)
    return NULL;
  if (!json_object_object_get_ex(el, "Value", &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* Item `index` of the sequence `tag`, or NULL. */
static json_object *seq_item(json_object *obj, const char *tag, size_t index)
{
  json_object *el = element(obj, tag), *v = NULL, *item;

  if (el == NULL || strcmp(element_type(el), "Sequence") != 0)
    return NULL;
  if (!json_object_object_get_ex(el, "Value", &v) || !json_object_is_type(v, json_type_array))
    return NULL;
  if (index >= json_object_array_length(v))
    return NULL;
  item = json_object_array_get_idx(v, index);
  return item != NULL && json_object_is_type(item, json_type_object) ? item : NULL;
}

/* A tag looked up at the top level, then in the Shared Functional Groups,
 * then in item `frame` of the Per-frame Functional Groups, inside the
 * functional group macro `group`. */
static const char *tag_string_fg(json_object *tags, const char *group, const char *tag, uint32_t frame)
{
  const char *s = tag_string(tags, tag);
  json_object *fg;

  if (s != NULL)
    return s;
  fg = seq_item(tags, "5200,9229", 0);
  s = tag_string(seq_item(fg, group, 0), tag);
  if (s != NULL)
    return s;
  fg = seq_item(tags, "5200,9230", frame);
  return tag_string(seq_item(fg, group, 0), tag);
}

/* ------------------------------------------------------------------ LUTs */

/* Map a first-mapped value read as US or SS to the wanted signedness. */
static int32_t first_mapped_value(int64_t v, bool want_signed)
{
  if (want_signed && v > 32767)
    return (int32_t)(v - 65536);
  if (!want_signed && v < 0)
    return (int32_t)(v + 65536);
  return (int32_t)v;
}

/* Raw bytes into `entries` 16-bit values (see the header). */
static int words_from_bytes(uint16_t *data, uint32_t entries, unsigned bits, const uint8_t *raw, size_t size,
                            const char *what, char *err, size_t errsize)
{
  uint32_t i;

  if (bits <= 8 && (size == entries || (entries % 2 == 1 && size == (size_t)entries + 1))) {
    for (i = 0; i < entries; i++)
      data[i] = raw[i];
    return 0;
  }
  if (size / 2 < entries)
    return rr_fail(err, errsize, RR_EINVAL, "%s: %zu bytes of data for %u entries", what, size, (unsigned)entries);
  for (i = 0; i < entries; i++)
    data[i] = (uint16_t)(raw[2 * (size_t)i] | (raw[2 * (size_t)i + 1] << 8));
  return 0;
}

/* Segmented palette data (PS3.3 C.7.9.2) is read as units: bytes for
 * 8-bit tables, little-endian words for 16-bit ones (as pydicom and GDCM
 * read it). */
static size_t units_from_bytes(uint16_t *units, unsigned bits, const uint8_t *raw, size_t size)
{
  size_t i, n = bits <= 8 ? size : size / 2;

  for (i = 0; i < n; i++)
    units[i] = bits <= 8 ? raw[i] : (uint16_t)(raw[2 * i] | (raw[2 * i + 1] << 8));
  return n;
}

/* Expand at most `max_segments` segments (all when 0) of seg[pos..n) onto
 * out[*k..entries). Discrete segments copy their values; linear ones join
 * the previous value to y1 in `length` steps, the previous value not
 * repeated (C.7.9.2.2); indirect ones (only when `indirect`) expand again
 * the segments found at a byte offset from the start of the data, which
 * must not be indirect themselves (C.7.9.2.3). Values past `entries` are
 * dropped; a trailing odd unit (padding) is ignored. */
static int expand_segments(uint16_t *out, uint32_t *k, uint32_t entries, const uint16_t *seg, size_t n, size_t pos,
                           size_t max_segments, bool indirect, unsigned unit_bytes, const char *what, char *err,
                           size_t errsize)
{
  size_t done = 0;

  while (pos + 1 < n && (max_segments == 0 || done < max_segments)) {
    uint16_t op = seg[pos], len = seg[pos + 1];
    uint32_t i;

    if (op == 0) {
      if (pos + 2 + len > n)
        return rr_fail(err, errsize, RR_EINVAL, "%s: a discrete segment runs past the end of the data", what);
      for (i = 0; i < len && *k < entries; i++)
        out[(*k)++] = seg[pos + 2 + i];
      pos += 2 + (size_t)len;
    } else if (op == 1) {
      double y0, y1;
      if (*k == 0)
        return rr_fail(err, errsize, RR_EINVAL, "%s: a linear segment cannot come first", what);
      if (pos + 2 >= n)
        return rr_fail(err, errsize, RR_EINVAL, "%s: a linear segment runs past the end of the data", what);
      y0 = out[*k - 1];
      y1 = seg[pos + 2];
      for (i = 1; i <= len && *k < entries; i++)
        out[(*k)++] = (uint16_t)floor(y0 + (y1 - y0) * (double)i / (double)len + 0.5);
      pos += 3;
    } else if (op == 2 && indirect) {
      size_t words = 4 / unit_bytes, at;
      uint32_t offset;
      if (*k == 0)
        return rr_fail(err, errsize, RR_EINVAL, "%s: an indirect segment cannot come first", what);
      if (pos + 2 + words > n)
        return rr_fail(err, errsize, RR_EINVAL, "%s: an indirect segment runs past the end of the data", what);
      if (unit_bytes == 1)
        offset = (uint32_t)seg[pos + 2] | (uint32_t)seg[pos + 3] << 8 | (uint32_t)seg[pos + 4] << 16 |
                 (uint32_t)seg[pos + 5] << 24;
      else
        offset = (uint32_t)seg[pos + 2] | (uint32_t)seg[pos + 3] << 16;
      at = offset / unit_bytes;
      if (offset % unit_bytes != 0 || at >= pos)
        return rr_fail(err, errsize, RR_EINVAL, "%s: an indirect segment points to offset %u", what, offset);
      if (len > 0) {
        int rc = expand_segments(out, k, entries, seg, pos, at, len, false, unit_bytes, what, err, errsize);
        if (rc != 0)
          return rc;
      }
      pos += 2 + words;
    } else {
      return rr_fail(err, errsize, RR_EINVAL, "%s: segment type %u is not allowed here", what, (unsigned)op);
    }
    done++;
  }
  if (max_segments != 0 && done < max_segments)
    return rr_fail(err, errsize, RR_EINVAL, "%s: an indirect segment copies more segments than there are", what);
  return 0;
}

/* Read descriptor `desc_tag` of `item` into v (entries, first mapped value,
 * bits) and check it: as text, else (US/SS read as OW, e.g. xs in implicit
 * VR) as three little-endian words fetched from `desc_path`. */
static int lut_descriptor(int64_t v[3], json_object *item, const char *desc_tag, const char *desc_path,
                          rr_dicom_fetch_fn fetch, void *fetch_ctx, const char *what, char *err, size_t errsize)
{
  const char *desc = tag_string(item, desc_tag);
  char c[64];
  size_t i;

  if (desc == NULL && element(item, desc_tag) != NULL && fetch != NULL) {
    uint8_t *raw = NULL;
    size_t rawsize = 0;
    int rc = fetch(fetch_ctx, &raw, &rawsize, desc_path, err, errsize);
    if (rc == 0 && (raw == NULL || rawsize != 6))
      rc = rr_fail(err, errsize, RR_EINVAL, "%s: descriptor %s has %zu bytes, not 6", what, desc_tag, rawsize);
    if (rc == 0)
      for (i = 0; i < 3; i++)
        v[i] = raw[2 * i] | (raw[2 * i + 1] << 8);
    free(raw);
    if (rc != 0)
      return rc;
  } else {
    for (i = 0; i < 3; i++) {
      if (!rr_dicom_value_at(c, sizeof(c), desc, i) || rr_parse_i64(&v[i], c, -32768, 65535) != 0)
        return rr_fail(err, errsize, RR_EINVAL, "%s: missing or malformed descriptor (%s)", what, desc_tag);
    }
  }
  if (v[0] < 0 || v[2] < 8 || v[2] > 16)
    return rr_fail(err, errsize, RR_EINVAL, "%s: descriptor %s has %lld entries, %lld bits", what, desc_tag,
                   (long long)v[0], (long long)v[2]);
  return 0;
}

/* Parse LUT data `data_tag` given as numbers in text `s`: the table itself
 * into `data` (`entries` words), or, if `segmented`, its segment words into
 * a new *seg of *nseg words (the caller frees *seg, also on error). */
static int lut_from_text(uint16_t *data, uint16_t **seg, size_t *nseg, const char *s, uint32_t entries,
                         bool segmented, const char *data_tag, const char *what, char *err, size_t errsize)
{
  size_t count = segmented ? 1 : entries, i;
  char c[64];

  if (segmented) {
    const char *q;
    for (q = s; (q = strchr(q, '\\')) != NULL; q++)
      count++;
    if ((*seg = calloc(count, sizeof(**seg))) == NULL)
      return rr_fail(err, errsize, RR_ENOMEM, "%s: out of memory", what);
  }
  for (i = 0; i < count; i++) {
    int64_t x;
    if (!rr_dicom_value_at(c, sizeof(c), s, i) || rr_parse_i64(&x, c, -32768, 65535) != 0)
      return rr_fail(err, errsize, RR_EINVAL, "%s: data %s has fewer than %u numbers", what, data_tag,
                     (unsigned)count);
    (segmented ? *seg : data)[i] = (uint16_t)(x < 0 ? x + 65536 : x);
  }
  *nseg = segmented ? count : 0;
  return 0;
}

/* The bytes of LUT data element `el` (`data_tag`, of JSON type `type`):
 * decoded from its base64 data URI into `dec`, else fetched from `path` into
 * *raw. *bytes points into `dec` or *raw, which the caller disposes/frees. */
static int lut_data_bytes(const uint8_t **bytes, size_t *nbytes, rr_buf *dec, uint8_t **raw, json_object *el,
                          const char *type, const char *data_tag, const char *path, rr_dicom_fetch_fn fetch,
                          void *fetch_ctx, const char *what, char *err, size_t errsize)
{
  size_t rawsize = 0;
  int rc;

  if ((strcmp(type, "Binary") == 0 || strcmp(type, "String") == 0) &&
      (el != NULL && json_object_object_get_ex(el, "Value", NULL))) {
    json_object *jv = NULL;
    const char *s;
    json_object_object_get_ex(el, "Value", &jv);
    s = jv != NULL && json_object_is_type(jv, json_type_string) ? json_object_get_string(jv) : "";
    if (!rr_str_starts_with(s, DATA_URI_PREFIX) ||
        rr_base64_decode(dec, s + strlen(DATA_URI_PREFIX), strlen(s) - strlen(DATA_URI_PREFIX)) != 0)
      return rr_fail(err, errsize, RR_EINVAL, "%s: data %s is not a base64 data URI", what, data_tag);
    *bytes = (const uint8_t *)dec->ptr;
    *nbytes = dec->len;
    return 0;
  }
  if (fetch == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "%s: data %s is not in the tags and no fetch callback was given", what,
                   data_tag);
  rc = fetch(fetch_ctx, raw, &rawsize, path, err, errsize);
  if (rc != 0)
    return rc;
  if (*raw == NULL && rawsize > 0)
    return rr_fail(err, errsize, RR_EINVAL, "%s: fetch of %s returned no buffer", what, path);
  *bytes = *raw;
  *nbytes = rawsize;
  return 0;
}

/* Expand the `nseg` segment words `seg` (units of `bits` bits) into the
 * `entries` words of `data`; they must give exactly that many. */
static int lut_expand(uint16_t *data, uint32_t entries, const uint16_t *seg, size_t nseg, int64_t bits,
                      const char *what, char *err, size_t errsize)
{
  uint32_t k = 0;
  int rc = expand_segments(data, &k, entries, seg, nseg, 0, 0, true, bits <= 8 ? 1u : 2u, what, err, errsize);

  if (rc != 0)
    return rc;
  if (k != entries)
    return rr_fail(err, errsize, RR_EINVAL, "%s: the segments give %u entries, the descriptor %u", what, (unsigned)k,
                   (unsigned)entries);
  return 0;
}

/* Load the LUT (descriptor `desc_tag`, data `data_tag`) of `item` into
 * slot `slot`. `path` is the Orthanc /content path of the data element. */
static int load_lut(rr_dicom_params *p, int slot, json_object *item, const char *desc_tag, const char *data_tag,
                    const char *desc_path, const char *path, bool signed_first, bool segmented,
                    rr_dicom_fetch_fn fetch, void *fetch_ctx, const char *what, char *err, size_t errsize)
{
  json_object *el = element(item, data_tag);
  const char *text = tag_string(item, data_tag);
  int64_t v[3];
  uint32_t entries;
  uint16_t *data = NULL, *seg = NULL;
  uint8_t *raw = NULL;
  size_t nseg = 0;
  rr_buf dec;
  int rc;

  /* segmented data may be longer than the table it expands to */
  rr_buf_init(&dec, (segmented ? 8 : 2) * (size_t)LUT_MAX_ENTRIES + 16);
  rc = lut_descriptor(v, item, desc_tag, desc_path, fetch, fetch_ctx, what, err, errsize);
  if (rc != 0)
    goto done;
  entries = v[0] == 0 ? LUT_MAX_ENTRIES : (uint32_t)v[0];
  data = calloc(entries, sizeof(*data));
  if (data == NULL) {
    rc = rr_fail(err, errsize, RR_ENOMEM, "%s: out of memory", what);
    goto done;
  }

  if (strcmp(element_type(el), "String") == 0 && text != NULL && !rr_str_starts_with(text, "data:")) {
    /* numbers as text: the table itself, or its segments */
    rc = lut_from_text(data, &seg, &nseg, text, entries, segmented, data_tag, what, err, errsize);
  } else {
    const uint8_t *bytes = NULL;
    size_t nbytes = 0;
    rc = lut_data_bytes(&bytes, &nbytes, &dec, &raw, el, element_type(el), data_tag, path, fetch, fetch_ctx, what,
                        err, errsize);
    if (rc == 0 && !segmented) {
      rc = words_from_bytes(data, entries, (unsigned)v[2], bytes, nbytes, what, err, errsize);
    } else if (rc == 0) {
      if ((seg = calloc(nbytes ? nbytes : 1, sizeof(*seg))) == NULL)
        rc = rr_fail(err, errsize, RR_ENOMEM, "%s: out of memory", what);
      else
        nseg = units_from_bytes(seg, (unsigned)v[2], bytes, nbytes);
    }
  }
  if (rc == 0 && segmented)
    rc = lut_expand(data, entries, seg, nseg, v[2], what, err, errsize);
  if (rc != 0)
    goto done;

  rc = rr_lut_init(&p->luts[slot], (uint32_t)v[0], first_mapped_value(v[1], signed_first), (unsigned)v[2], data,
                   entries, err, errsize);
  if (rc != 0)
    goto done;
  p->lut_data[slot] = data;
  data = NULL;

done:
  free(data);
  free(seg);
  free(raw);
  rr_buf_dispose(&dec);
  return rc;
}

/* ------------------------------------------------------------------ API */

static unsigned uint_tag(json_object *tags, const char *tag, unsigned dflt, int64_t max)
{
  int64_t v;

  return rr_dicom_first_i64(&v, tag_string(tags, tag), 0, max) == 0 ? (unsigned)v : dflt;
}

/* The image pixel attributes, modality and pixel padding value of `tags`
 * into p and its render parameters; the photometric interpretation is set. */
static void image_attributes(rr_dicom_params *p, json_object *tags)
{
  rr_render_params *r = &p->render;

  p->samples_per_pixel = uint_tag(tags, "0028,0002", 1, 4);
  p->rows = uint_tag(tags, "0028,0010", 0, 65535);
  p->columns = uint_tag(tags, "0028,0011", 0, 65535);
  p->number_of_frames = uint_tag(tags, "0028,0008", 1, INT32_MAX);
  if (p->number_of_frames == 0)
    p->number_of_frames = 1;
  p->bits_allocated = uint_tag(tags, "0028,0100", 0, 64);
  p->bits_stored = uint_tag(tags, "0028,0101", 0, 64);
  p->pixel_signed = uint_tag(tags, "0028,0103", 0, 1) == 1;
  rr_str_copy_trim(p->modality, sizeof(p->modality), tag_string(tags, "0008,0060"));
  r->modality = p->modality[0] ? p->modality : NULL;
}

/* Pixel Padding Value: a stored value, US or SS. */
static void pixel_padding(rr_render_params *r, json_object *tags, bool pixel_signed)
{
  int64_t iv;

  if (rr_dicom_first_i64(&iv, tag_string(tags, "0028,0120"), -32768, 65535) == 0) {
    r->has_padding = true;
    r->padding_value = first_mapped_value(iv, pixel_signed);
  }
}

/* Modality LUT (sequence, else rescale) of a monochrome image for `frame`;
 * *negative_modality tells whether its output can be negative. */
static int modality_params(rr_dicom_params *p, bool *negative_modality, json_object *tags, uint32_t frame,
                           rr_dicom_fetch_fn fetch, void *fetch_ctx, char *err, size_t errsize)
{
  rr_render_params *r = &p->render;
  json_object *item = seq_item(tags, "0028,3000", 0);
  double d;

  *negative_modality = false;
  if (item != NULL) {
    int rc = load_lut(p, SLOT_MODALITY, item, "0028,3002", "0028,3006", "0028-3000/0/0028-3002",
                      "0028-3000/0/0028-3006", p->pixel_signed, false, fetch, fetch_ctx, "Modality LUT Sequence", err,
                      errsize);
    if (rc != 0)
      return rc;
    r->modality_lut = &p->luts[SLOT_MODALITY];
    *negative_modality = p->luts[SLOT_MODALITY].first_mapped < 0;
  }
  if (rr_dicom_first_double(&d, tag_string_fg(tags, "0028,9145", "0028,1053", frame)) == 0 && d != 0)
    r->rescale_slope = d;
  if (rr_dicom_first_double(&d, tag_string_fg(tags, "0028,9145", "0028,1052", frame)) == 0)
    r->rescale_intercept = d;
  if (r->modality_lut == NULL && (r->rescale_intercept < 0 || r->rescale_slope < 0 || p->pixel_signed))
    *negative_modality = true;
  return 0;
}

/* VOI of a monochrome image for `frame`: window and function, else the VOI
 * LUT (its first mapped value signed when the modality output can be). */
static int voi_params(rr_dicom_params *p, json_object *tags, uint32_t frame, bool negative_modality,
                      rr_dicom_fetch_fn fetch, void *fetch_ctx, char *err, size_t errsize)
{
  rr_render_params *r = &p->render;
  json_object *item;
  const char *s;
  double c, w;

  if (rr_dicom_first_double(&c, tag_string_fg(tags, "0028,9132", "0028,1050", frame)) == 0 &&
      rr_dicom_first_double(&w, tag_string_fg(tags, "0028,9132", "0028,1051", frame)) == 0) {
    r->has_window = true;
    r->window_center = c;
    r->window_width = w;
  }
  s = tag_string_fg(tags, "0028,9132", "0028,1056", frame);
  if (s != NULL) {
    char fn[64];
    rr_dicom_value_at(fn, sizeof(fn), s, 0);
    if (rr_voi_function_parse(&r->voi_function, fn) != 0)
      r->voi_function = RR_VOI_LINEAR;
  }
  item = seq_item(tags, "0028,3010", 0);
  if (item != NULL && !(r->has_window && r->window_width > 0)) {
    int rc = load_lut(p, SLOT_VOI, item, "0028,3002", "0028,3006", "0028-3010/0/0028-3002", "0028-3010/0/0028-3006",
                      negative_modality, false, fetch, fetch_ctx, "VOI LUT Sequence", err, errsize);
    if (rc != 0)
      return rc;
    r->voi_lut = &p->luts[SLOT_VOI];
  }
  return 0;
}

/* The red, green and blue tables of a PALETTE COLOR image: each the table
 * itself, else its segmented form (PS3.3 C.7.9.2). */
static int palette_params(rr_dicom_params *p, json_object *tags, rr_dicom_fetch_fn fetch, void *fetch_ctx, char *err,
                          size_t errsize)
{
  static const char *const desc[3] = {"0028,1101", "0028,1102", "0028,1103"};
  static const char *const data[3] = {"0028,1201", "0028,1202", "0028,1203"};
  static const char *const path[3] = {"0028-1201", "0028-1202", "0028-1203"};
  static const char *const desc_path[3] = {"0028-1101", "0028-1102", "0028-1103"};
  static const char *const seg[3] = {"0028,1221", "0028,1222", "0028,1223"};
  static const char *const seg_path[3] = {"0028-1221", "0028-1222", "0028-1223"};
  static const char *const name[3] = {"red palette", "green palette", "blue palette"};
  int i, rc;

  for (i = 0; i < 3; i++) {
    bool segmented = element(tags, data[i]) == NULL && element(tags, seg[i]) != NULL;
    if (element(tags, data[i]) == NULL && !segmented)
      return rr_fail(err, errsize, RR_EINVAL, "PALETTE COLOR without %s data (%s)", name[i], data[i]);
    rc = load_lut(p, SLOT_RED + i, tags, desc[i], segmented ? seg[i] : data[i], desc_path[i],
                  segmented ? seg_path[i] : path[i], p->pixel_signed, segmented, fetch, fetch_ctx, name[i], err,
                  errsize);
    if (rc != 0)
      return rc;
    p->render.palette[i] = &p->luts[SLOT_RED + i];
  }
  return 0;
}

int rr_dicom_params_from_tags(rr_dicom_params **out, json_object *tags, uint32_t frame, rr_dicom_fetch_fn fetch,
                              void *fetch_ctx, char *err, size_t errsize)
{
  rr_dicom_params *p = NULL;
  rr_render_params *r;
  const char *s;
  int rc = 0;

  if (out == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no output");
  *out = NULL;
  if (tags == NULL || !json_object_is_type(tags, json_type_object))
    return rr_fail(err, errsize, RR_EINVAL, "the tags are not a JSON object");
  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  r = &p->render;
  rr_render_params_init(r);
  image_attributes(p, tags);

  s = tag_string(tags, "0028,0004");
  if (s == NULL || s[0] == '\0') {
    r->photometric = p->samples_per_pixel == 3 ? RR_PHOTO_RGB : RR_PHOTO_MONOCHROME2;
  } else if (rr_photometric_parse(&r->photometric, s) != 0) {
    rc = rr_fail(err, errsize, RR_EINVAL, "unsupported PhotometricInterpretation '%.64s'", s);
    goto fail;
  }
  pixel_padding(r, tags, p->pixel_signed);

  if (r->photometric == RR_PHOTO_MONOCHROME1 || r->photometric == RR_PHOTO_MONOCHROME2) {
    bool negative_modality;
    rc = modality_params(p, &negative_modality, tags, frame, fetch, fetch_ctx, err, errsize);
    if (rc == 0)
      rc = voi_params(p, tags, frame, negative_modality, fetch, fetch_ctx, err, errsize);
  } else if (r->photometric == RR_PHOTO_PALETTE) {
    rc = palette_params(p, tags, fetch, fetch_ctx, err, errsize);
  }
  if (rc != 0)
    goto fail;

  *out = p;
  return 0;

fail:
  rr_dicom_params_free(p);
  return rc;
}

int rr_dicom_params_from_json(rr_dicom_params **out, const char *json, size_t len, uint32_t frame,
                              rr_dicom_fetch_fn fetch, void *fetch_ctx, char *err, size_t errsize)
{
  json_tokener *tok = NULL;
  json_object *obj = NULL;
  int rc;

  if (out == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no output");
  *out = NULL;
  if (json == NULL || len > INT32_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "no JSON text");
  tok = json_tokener_new();
  if (tok == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  obj = json_tokener_parse_ex(tok, json, (int)len);
  if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
    rc = rr_fail(err, errsize, RR_EINVAL, "the tags are not valid JSON: %s",
                 json_tokener_error_desc(json_tokener_get_error(tok)));
    goto done;
  }
  rc = rr_dicom_params_from_tags(out, obj, frame, fetch, fetch_ctx, err, errsize);

done:
  json_object_put(obj);
  json_tokener_free(tok);
  return rc;
}

void rr_dicom_params_free(rr_dicom_params *params)
{
  int i;

  if (params == NULL)
    return;
  for (i = 0; i < RR_DICOM_LUT_SLOTS; i++)
    free(params->lut_data[i]);
  free(params);
}
