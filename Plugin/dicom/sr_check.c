#include "dicom/sr_check.h"

#include <string.h>

#include "util/errors.h"
#include "util/str.h"

static const struct {
  const char *uid;
  const char *name;
} sr_classes[] = {
  {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR"},
  {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR"},
  {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR"},
  {"1.2.840.10008.5.1.4.1.1.88.34", "Comprehensive 3D SR"},
};

bool rr_sr_is_part10(const void *bytes, size_t len)
{
  return bytes != NULL && len >= 132 && memcmp((const char *)bytes + 128, "DICM", 4) == 0;
}

const char *rr_sr_class_name(const char *sop_class_uid)
{
  size_t i;

  for (i = 0; sop_class_uid != NULL && i < sizeof(sr_classes) / sizeof(sr_classes[0]); i++)
    if (strcmp(sop_class_uid, sr_classes[i].uid) == 0)
      return sr_classes[i].name;
  return NULL;
}

/* A member of Orthanc's short JSON by tag; the key's hex digits in either
 * case ("0040,a504" and "0040,A504"). */
static json_object *tag_get(json_object *tags, const char *lower, const char *upper)
{
  json_object *v = NULL;

  if (!json_object_is_type(tags, json_type_object))
    return NULL;
  if (json_object_object_get_ex(tags, lower, &v) || json_object_object_get_ex(tags, upper, &v))
    return v;
  return NULL;
}

/* The value of a string element, trimmed into dst; "" when absent, null or
 * not a string. false when it does not fit. */
static bool tag_string(char *dst, size_t dstsize, json_object *tags, const char *lower, const char *upper)
{
  json_object *v = tag_get(tags, lower, upper);
  const char *s;
  size_t len;

  dst[0] = '\0';
  if (v == NULL || !json_object_is_type(v, json_type_string))
    return true;
  s = json_object_get_string(v);
  len = strlen(s);
  while (len > 0 && s[len - 1] == ' ')
    len--;
  while (len > 0 && *s == ' ') {
    s++;
    len--;
  }
  if (len >= dstsize)
    return false;
  rr_str_copyn(dst, dstsize, s, len);
  return true;
}

static bool uid_ok(const char *s)
{
  size_t i;

  if (s[0] == '\0')
    return false;
  for (i = 0; s[i] != '\0'; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
      return false;
  return i <= 64;
}

int rr_sr_facts_read(rr_sr_facts *out, json_object *tags, char *err, size_t errsize)
{
  static const struct {
    const char *tag;
    const char *name;
    size_t offset;
  } uids[] = {
    {"0008,0016", "SOP Class UID", offsetof(rr_sr_facts, sop_class_uid)},
    {"0008,0018", "SOP Instance UID", offsetof(rr_sr_facts, sop_instance_uid)},
    {"0020,000e", "Series Instance UID", offsetof(rr_sr_facts, series_instance_uid)},
    {"0020,000d", "Study Instance UID", offsetof(rr_sr_facts, study_instance_uid)},
  };
  json_object *seq, *item;
  char upper[10];
  size_t i, k;

  memset(out, 0, sizeof(*out));
  if (!json_object_is_type(tags, json_type_object))
    return rr_fail(err, errsize, RR_EINVAL, "the file has no readable data set");
  for (i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
    char *dst = (char *)out + uids[i].offset;
    rr_str_copy(upper, sizeof(upper), uids[i].tag);
    for (k = 0; upper[k] != '\0'; k++)
      if (upper[k] >= 'a' && upper[k] <= 'f')
        upper[k] = (char)(upper[k] - 'a' + 'A');
    if (!tag_string(dst, RR_SR_UID_SIZE, tags, uids[i].tag, upper) || !uid_ok(dst))
      return rr_fail(err, errsize, RR_EINVAL, "the file's %s (%s) is missing or not a valid UID", uids[i].name,
                     uids[i].tag);
  }
  if (!tag_string(out->patient_id, sizeof(out->patient_id), tags, "0010,0020", "0010,0020"))
    return rr_fail(err, errsize, RR_EINVAL, "the file's Patient ID (0010,0020) is longer than 64 characters");
  /* Content Template Sequence > Template Identifier (optional) */
  seq = tag_get(tags, "0040,a504", "0040,A504");
  if (seq != NULL && json_object_is_type(seq, json_type_array) && json_object_array_length(seq) > 0) {
    item = json_object_array_get_idx(seq, 0);
    if (!tag_string(out->template_id, sizeof(out->template_id), item, "0040,db00", "0040,DB00"))
      out->template_id[0] = '\0';
  }
  return 0;
}

int rr_sr_check(const rr_sr_facts *f, const char *study_uid, const char *patient_id, char *err, size_t errsize)
{
  if (rr_sr_class_name(f->sop_class_uid) == NULL)
    return rr_fail(err, errsize, RR_EINVAL,
                   "the file is not a Structured Report: its SOP Class UID is %.64s, expected Basic Text, "
                   "Enhanced, Comprehensive or Comprehensive 3D SR",
                   f->sop_class_uid);
  if (strcmp(f->study_instance_uid, study_uid) != 0)
    return rr_fail(err, errsize, RR_EINVAL,
                   "the file belongs to another study: its Study Instance UID differs from the one in the path");
  if (strcmp(f->patient_id, patient_id != NULL ? patient_id : "") != 0)
    return rr_fail(err, errsize, RR_EINVAL,
                   "the file's Patient ID (0010,0020) differs from the study's: Orthanc would file it under "
                   "another patient");
  return 0;
}
