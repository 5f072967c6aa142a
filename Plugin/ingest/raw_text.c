/*
 * ingest/raw_text.c - see raw_text.h.
 */
#include "ingest/raw_text.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dicom/charset.h"
#include "util/errors.h"
#include "util/str.h"

typedef struct field {
  const char *tag; /* as Orthanc's /content/ route spells it */
  rr_charset_vr vr;
  size_t offset; /* of the char[] in rr_ingest_item */
  size_t size;
} field;

static const field FIELDS[RR_RAW_TEXT_FIELDS] = {
    {"0010-0010", RR_CHARSET_PN, offsetof(rr_ingest_item, study.patient_name), RR_PN_SIZE},
    {"0010-0020", RR_CHARSET_STRING, offsetof(rr_ingest_item, study.patient_id), RR_LO_SIZE},
    {"0008-1030", RR_CHARSET_STRING, offsetof(rr_ingest_item, study.study_description), RR_LO_SIZE},
    {"0008-0050", RR_CHARSET_STRING, offsetof(rr_ingest_item, study.accession_number), RR_LO_SIZE},
    {"0008-0090", RR_CHARSET_PN, offsetof(rr_ingest_item, study.referring_physician), RR_PN_SIZE},
    {"0008-0080", RR_CHARSET_STRING, offsetof(rr_ingest_item, study.institution_name), RR_LO_SIZE},
    {"0008-103e", RR_CHARSET_STRING, offsetof(rr_ingest_item, series.series_description), RR_LO_SIZE},
};

/* The single character sets Orthanc 1.10.1 decodes right (measured with the
 * integration test charset-files.test.mjs); any other (0008,0005) - code
 * extensions, several values, ISO_IR 203, which Orthanc 1.10.1 does not
 * know - is decoded here. */
static const char *const ORTHANC_DECODES[] = {
    "ISO_IR 6",   "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127",
    "ISO_IR 126", "ISO_IR 138", "ISO_IR 148", "ISO_IR 13",  "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK",
};

static bool decode_here(const char *cs, size_t len)
{
  size_t i, n;

  if (memchr(cs, '\0', len) != NULL) /* not a defined term */
    return false;
  if (rr_charset_has_extensions(cs, len))
    return true;
  while (len > 0 && cs[len - 1] == ' ')
    len--;
  while (len > 0 && cs[0] == ' ') {
    cs++;
    len--;
  }
  if (len == 0)
    return false;
  for (i = 0; i < sizeof(ORTHANC_DECODES) / sizeof(ORTHANC_DECODES[0]); i++) {
    n = strlen(ORTHANC_DECODES[i]);
    if (n == len && memcmp(ORTHANC_DECODES[i], cs, n) == 0)
      return false;
  }
  return true;
}

static int get_raw(const rr_rest_source *src, char **out, size_t *len, const char *id, const char *tag, size_t max,
                   char *err, size_t errsize)
{
  char uri[160];
  int n = snprintf(uri, sizeof(uri), "/instances/%s/content/%s", id, tag);

  if (n < 0 || (size_t)n >= sizeof(uri))
    return RR_EINVAL;
  return src->get_raw(src->ctx, out, len, uri, max, err, errsize);
}

/* Decode one field into t; a value that cannot be decoded is kept. */
static int read_field(rr_raw_text *t, size_t i, const rr_rest_source *src, const char *id, char *dec,
                      size_t decsize, char *err, size_t errsize)
{
  char *raw = NULL;
  size_t len = 0;
  int error;

  error = get_raw(src, &raw, &len, id, FIELDS[i].tag, RR_RAW_TEXT_MAX_VALUE, err, errsize);
  if (error == RR_ENOTFOUND)
    return 0; /* no such element: Orthanc has nothing either */
  if (error == RR_ENOMEM)
    return error;
  if (error < 0) { /* too long, or Orthanc could not answer (err says so) */
    t->kept++;
    if (error == RR_EFULL)
      rr_fail(err, errsize, error, "(%.4s,%.4s) is longer than %d bytes", FIELDS[i].tag, FIELDS[i].tag + 5,
              RR_RAW_TEXT_MAX_VALUE);
    return 0;
  }
  error = rr_charset_decode(dec, decsize, NULL, t->charset, strlen(t->charset), (const unsigned char *)raw, len,
                            FIELDS[i].vr);
  free(raw);
  if (error < 0) {
    t->kept++;
    rr_fail(err, errsize, error, "(%.4s,%.4s) is not valid in its character set", FIELDS[i].tag,
            FIELDS[i].tag + 5);
    return 0;
  }
  rr_str_copy_trim(t->value[i], sizeof(t->value[i]), dec);
  t->have[i] = true;
  t->decoded++;
  return 0;
}

int rr_raw_text_read(rr_raw_text *out, const rr_rest_source *src, const char *instance_id, char *err,
                     size_t errsize)
{
  char *cs = NULL, *dec = NULL;
  size_t cslen = 0, i;
  int error;

  memset(out, 0, sizeof(*out));
  if (src == NULL || src->get_raw == NULL)
    return 0;
  error = get_raw(src, &cs, &cslen, instance_id, "0008-0005", RR_RAW_TEXT_CHARSET_SIZE - 1, err, errsize);
  if (error == RR_ENOTFOUND || error == RR_EFULL)
    return 0; /* no (0008,0005) (the default repertoire) or not one of the standard's */
  if (error < 0)
    return error;
  if (!decode_here(cs, cslen))
    goto out;
  rr_str_copyn(out->charset, sizeof(out->charset), cs, cslen);
  out->used = true;
  if ((dec = malloc(RR_CHARSET_OUT_MAX(RR_RAW_TEXT_MAX_VALUE))) == NULL) {
    error = RR_ENOMEM;
    goto out;
  }
  for (i = 0; i < RR_RAW_TEXT_FIELDS && error == 0; i++)
    error = read_field(out, i, src, instance_id, dec, RR_CHARSET_OUT_MAX(RR_RAW_TEXT_MAX_VALUE), err, errsize);
out:
  free(cs);
  free(dec);
  return error;
}

static uint64_t fnv(uint64_t h, const char *s)
{
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  h ^= 0xff; /* a separator no UTF-8 string contains */
  return h * 1099511628211ull;
}

uint64_t rr_raw_text_fingerprint(const rr_ingest_item *item)
{
  uint64_t h = fnv(14695981039346656037ull, item->series.orthanc_id);
  size_t i;

  for (i = 0; i < RR_RAW_TEXT_FIELDS; i++)
    h = fnv(h, (const char *)item + FIELDS[i].offset);
  return h != 0 ? h : 1;
}

void rr_raw_text_apply(rr_ingest_item *item, const rr_raw_text *t)
{
  size_t i;

  if (!t->used)
    return;
  for (i = 0; i < RR_RAW_TEXT_FIELDS; i++)
    if (t->have[i])
      rr_str_copy((char *)item + FIELDS[i].offset, FIELDS[i].size, t->value[i]);
}
