/*
 * report_dicom.c - create-dicom bodies for a report version (contract in
 * report_dicom.h).
 */
#include "report/report_dicom.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define DEFAULT_MANUFACTURER "Orthanc Reading Room"
#define REPORT_CODE "18748-4"
#define REPORT_MEANING "Diagnostic imaging report"
#define TEXT_MAX (1024 * 1024) /* bytes of one UT value we write */
#define PDF_MAX ((size_t)512 * 1024 * 1024)

/* VR lengths (bytes of UTF-8: the safe reading of "characters") */
#define LO_MAX 64
#define SH_MAX 16
#define PN_MAX 192 /* three component groups of 64 */
#define ST_MAX 1024

static const char *const KIND_NAMES[] = {"pdf", "sr", "kos"};

const char *rr_report_dicom_kind_name(rr_report_dicom_kind kind)
{
  return (unsigned)kind < 3 ? KIND_NAMES[kind] : "";
}

int rr_report_dicom_kind_parse(const char *name)
{
  int i;

  for (i = 0; name != NULL && i < 3; i++)
    if (strcmp(name, KIND_NAMES[i]) == 0)
      return i;
  return -1;
}

const char *rr_report_dicom_sop_class(rr_report_dicom_kind kind)
{
  switch (kind) {
  case RR_REPORT_DICOM_PDF:
    return RR_SOP_CLASS_ENCAPSULATED_PDF;
  case RR_REPORT_DICOM_SR:
    return RR_SOP_CLASS_ENHANCED_SR;
  default:
    return RR_SOP_CLASS_KOS;
  }
}

/* ------------------------------------------------------------------ UIDs */

/* "2.25." and the decimal value of the 16 big-endian bytes of v. */
static void uid_from_bytes(char out[RR_REPORT_DICOM_UID_SIZE], const unsigned char v[16])
{
  uint32_t limb[4];
  char digits[48];
  size_t n = 0, i;
  bool zero;

  for (i = 0; i < 4; i++)
    limb[i] = (uint32_t)v[4 * i] << 24 | (uint32_t)v[4 * i + 1] << 16 | (uint32_t)v[4 * i + 2] << 8 | v[4 * i + 3];
  do { /* divide the 128-bit number by 10, collecting remainders */
    uint64_t rem = 0;
    zero = true;
    for (i = 0; i < 4; i++) {
      uint64_t cur = rem << 32 | limb[i];
      limb[i] = (uint32_t)(cur / 10);
      rem = cur % 10;
      if (limb[i] != 0)
        zero = false;
    }
    digits[n++] = (char)('0' + rem);
  } while (!zero);
  memcpy(out, "2.25.", 5);
  for (i = 0; i < n; i++)
    out[5 + i] = digits[n - 1 - i];
  out[5 + n] = '\0';
}

static int hashed_uid(char out[RR_REPORT_DICOM_UID_SIZE], const char *text)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  if (EVP_Digest(text, strlen(text), digest, &n, EVP_sha256(), NULL) != 1 || n != 32)
    return RR_ERROR;
  uid_from_bytes(out, digest);
  return 0;
}

int rr_report_dicom_uids(char out_sop[RR_REPORT_DICOM_UID_SIZE], char out_series[RR_REPORT_DICOM_UID_SIZE],
                         const char *uid_root, const char *study_uid, int64_t report_id, int64_t version,
                         rr_report_dicom_kind kind)
{
  char text[512];
  int error;

  if (uid_root == NULL || uid_root[0] == '\0' || study_uid == NULL || study_uid[0] == '\0')
    return RR_EINVAL;
  snprintf(text, sizeof(text), "rr-report-sop|%s|%s|%lld|%lld|%s", uid_root, study_uid, (long long)report_id,
           (long long)version, rr_report_dicom_kind_name(kind));
  if ((error = hashed_uid(out_sop, text)) < 0)
    return error;
  if (out_series == NULL)
    return 0;
  snprintf(text, sizeof(text), "rr-report-series|%s|%s|%lld|%s", uid_root, study_uid, (long long)report_id,
           rr_report_dicom_kind_name(kind));
  return hashed_uid(out_series, text);
}

/* ----------------------------------------------------------- text values */

/* A single-line value (LO, SH, PN, CS, ST): valid UTF-8 only, control
 * characters and backslashes dropped, at most `max` bytes. */
static json_object *line(const char *s, size_t max)
{
  char out[PN_MAX + ST_MAX + 8];
  size_t len = s ? strlen(s) : 0, i = 0, n = 0, step;
  uint32_t cp;

  if (max > sizeof(out) - 1)
    max = sizeof(out) - 1;
  while (i < len) {
    step = rr_utf8_decode(s + i, len - i, &cp);
    if (cp == 0xFFFD && step == 1) {
      i++; /* an invalid byte (a real U+FFFD takes three) */
      continue;
    }
    if (cp < 0x20 || cp == 0x7F || cp == '\\') {
      i += step;
      continue;
    }
    if (n + step > max)
      break;
    memcpy(out + n, s + i, step);
    n += step;
    i += step;
  }
  out[n] = '\0';
  return json_object_new_string_len(out, (int)n);
}

/* A text value (UT): line breaks as CR LF, tabs kept, other control
 * characters dropped, at most TEXT_MAX bytes; NULL when out of memory. */
static json_object *text(const char *s)
{
  rr_buf b;
  json_object *o = NULL;
  size_t i, len = s ? strlen(s) : 0;
  int error = 0;

  rr_buf_init(&b, TEXT_MAX);
  for (i = 0; i < len && error == 0; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r')
      continue;
    if (c == '\n')
      error = rr_buf_puts(&b, "\r\n");
    else if (c >= 0x20 || c == '\t')
      error = rr_buf_putc(&b, (char)c);
  }
  if (error == 0 || error == RR_EFULL) /* RR_EFULL: keep what fits */
    o = json_object_new_string_len(b.ptr ? b.ptr : "", (int)rr_utf8_valid_prefix(b.ptr ? b.ptr : "", b.len));
  rr_buf_dispose(&b);
  return o;
}

/* A display name ("Jane Doe") as a DICOM person name ("Doe^Jane"); a name
 * with "^" or "=" already is one. */
static json_object *person_name(const char *name)
{
  char pn[PN_MAX + 1];
  const char *space;

  if (name == NULL || name[0] == '\0' || strchr(name, '^') != NULL || strchr(name, '=') != NULL)
    return line(name, PN_MAX);
  space = strrchr(name, ' ');
  if (space == NULL || space[1] == '\0' || space == name)
    return line(name, 64);
  snprintf(pn, sizeof(pn), "%.64s^%.*s", space + 1, (int)((space - name) > 64 ? 64 : (space - name)), name);
  return line(pn, PN_MAX);
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

/* DA, TM and DT of unix milliseconds, in UTC. */
typedef struct moment {
  char da[9], tm[7], dt[16];
} moment;

static void moment_of(moment *m, int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tmv;

  memset(&tmv, 0, sizeof(tmv));
  gmtime_r(&t, &tmv);
  strftime(m->da, sizeof(m->da), "%Y%m%d", &tmv);
  strftime(m->tm, sizeof(m->tm), "%H%M%S", &tmv);
  strftime(m->dt, sizeof(m->dt), "%Y%m%d%H%M%S", &tmv);
}

static json_object *valid_date(const char *s)
{
  return json_object_new_string(s != NULL && rr_date_valid(s) ? s : "");
}

/* A TM value as stored ("101010", "101010.123"), else "". */
static json_object *valid_time(const char *s)
{
  size_t i, len = s ? strlen(s) : 0;

  for (i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
      return json_object_new_string("");
  return json_object_new_string(len >= 2 && len <= 16 ? s : "");
}

/* ------------------------------------------------------------ JSON parts */

static json_object *code(const char *value, const char *scheme, const char *meaning, int *jerr)
{
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "CodeValue", value, jerr);
  rr_json_set_str(o, "CodingSchemeDesignator", scheme, jerr);
  rr_json_set(o, "CodeMeaning", line(meaning, LO_MAX), jerr);
  return o;
}

static json_object *code_seq(const char *value, const char *scheme, const char *meaning, int *jerr)
{
  json_object *a = json_object_new_array();

  rr_json_append(a, code(value, scheme, meaning, jerr), jerr);
  return a;
}

static json_object *item(const char *relationship, const char *value_type, int *jerr)
{
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "RelationshipType", relationship, jerr);
  rr_json_set_str(o, "ValueType", value_type, jerr);
  return o;
}

static json_object *text_item(const char *value, const char *scheme, const char *meaning, const char *s, int *jerr)
{
  json_object *o = item("CONTAINS", "TEXT", jerr);

  rr_json_set(o, "ConceptNameCodeSequence", code_seq(value, scheme, meaning, jerr), jerr);
  rr_json_set(o, "TextValue", text(s), jerr);
  return o;
}

static json_object *container(const char *relationship, const char *value, const char *scheme, const char *meaning,
                              json_object *content, int *jerr)
{
  json_object *o = relationship ? item(relationship, "CONTAINER", jerr) : json_object_new_object();

  rr_json_set(o, "ConceptNameCodeSequence", code_seq(value, scheme, meaning, jerr), jerr);
  rr_json_set_str(o, "ContinuityOfContent", "SEPARATE", jerr);
  rr_json_set(o, "ContentSequence", content, jerr);
  return o;
}

static json_object *sop_ref(const char *sop_class, const char *sop_uid, int64_t frame, int *jerr)
{
  json_object *o = json_object_new_object();
  char num[24];

  rr_json_set_str(o, "ReferencedSOPClassUID", sop_class, jerr);
  rr_json_set_str(o, "ReferencedSOPInstanceUID", sop_uid, jerr);
  if (frame > 1) {
    snprintf(num, sizeof(num), "%lld", (long long)frame);
    rr_json_set_str(o, "ReferencedFrameNumber", num, jerr);
  }
  return o;
}

static const char *image_class(const rr_report_doc_image *im)
{
  return im->sop_class_uid && im->sop_class_uid[0] ? im->sop_class_uid : "1.2.840.10008.5.1.4.1.1.2";
}

/* A key image as an IMAGE content item. */
static json_object *image_item(const rr_report_doc_image *im, int *jerr)
{
  json_object *o = item("CONTAINS", "IMAGE", jerr), *refs = json_object_new_array();

  rr_json_append(refs, sop_ref(image_class(im), or_empty(im->sop_uid), im->frame, jerr), jerr);
  rr_json_set(o, "ReferencedSOPSequence", refs, jerr);
  return o;
}

/* The Hierarchical SOP Instance Reference Macro of the key images (one
 * study, one item per series, images in doc order; a frame is not part of
 * it, so an image marked at two frames is listed once). */
static json_object *evidence(const rr_report_doc *doc, int *jerr)
{
  json_object *study = json_object_new_object(), *series = json_object_new_array(), *seq = json_object_new_array();
  size_t i, j;

  for (i = 0; i < doc->image_count; i++) {
    const rr_report_doc_image *im = &doc->images[i];
    json_object *sops = NULL, *ser;
    bool seen = false;
    for (j = 0; j < i && !seen; j++)
      seen = strcmp(or_empty(doc->images[j].sop_uid), or_empty(im->sop_uid)) == 0;
    if (seen)
      continue;
    for (j = 0; j < (size_t)json_object_array_length(series) && sops == NULL; j++) {
      ser = json_object_array_get_idx(series, j);
      if (strcmp(rr_json_str(ser, "SeriesInstanceUID"), or_empty(im->series_uid)) == 0)
        sops = rr_json_obj(ser, "ReferencedSOPSequence");
    }
    if (sops == NULL) {
      ser = json_object_new_object();
      sops = json_object_new_array();
      rr_json_set_str(ser, "SeriesInstanceUID", or_empty(im->series_uid), jerr);
      rr_json_set(ser, "ReferencedSOPSequence", sops, jerr);
      rr_json_append(series, ser, jerr);
    }
    rr_json_append(sops, sop_ref(image_class(im), or_empty(im->sop_uid), 0, jerr), jerr);
  }
  rr_json_set_str(study, "StudyInstanceUID", or_empty(doc->study_uid), jerr);
  rr_json_set(study, "ReferencedSeriesSequence", series, jerr);
  rr_json_append(seq, study, jerr);
  return seq;
}

/* ------------------------------------------------------ the common tags */

typedef struct series_info {
  const char *modality, *description;
  int number;
} series_info;

static const series_info SERIES[] = {
  {"DOC", "Report (PDF)", 9901},
  {"SR", "Report (structured)", 9902},
  {"KO", "Key images", 9903},
};

/* The checks every body needs, and its UIDs. */
static int check_doc(char sop[RR_REPORT_DICOM_UID_SIZE], char series[RR_REPORT_DICOM_UID_SIZE],
                     const rr_report_doc *doc, const rr_report_dicom_options *opt, rr_report_dicom_kind kind,
                     char *err, size_t errsize)
{
  if (doc == NULL || opt == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "no report or no options");
  if (opt->uid_root == NULL || opt->uid_root[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "no UID root for the report's DICOM objects");
  if (doc->study_uid == NULL || !rr_uid_valid(doc->study_uid))
    return rr_fail(err, errsize, RR_EINVAL, "the report has no valid Study Instance UID");
  if (doc->signed_at <= 0)
    return rr_fail(err, errsize, RR_EINVAL, "the report version is not signed");
  if (doc->version < 1)
    return rr_fail(err, errsize, RR_EINVAL, "the report version must be 1 or more");
  if (rr_report_dicom_uids(sop, series, opt->uid_root, doc->study_uid, doc->report_id, doc->version, kind) < 0)
    return rr_fail(err, errsize, RR_ERROR, "cannot hash the report's UIDs");
  return 0;
}

/* The patient, study, series, instance and equipment tags of every kind.
 * Patient and study values are the study's own (so Orthanc files the object
 * in it); the character set is UTF-8 for all of them. */
static json_object *common_tags(const rr_report_doc *doc, const rr_report_dicom_options *opt,
                                rr_report_dicom_kind kind, const char *sop, const char *series, int *jerr)
{
  json_object *t = json_object_new_object();
  const series_info *si = &SERIES[kind];
  moment m;
  char num[24];

  moment_of(&m, doc->signed_at);
  rr_json_set_str(t, "SpecificCharacterSet", "ISO_IR 192", jerr);
  rr_json_set_str(t, "SOPClassUID", rr_report_dicom_sop_class(kind), jerr);
  rr_json_set_str(t, "SOPInstanceUID", sop, jerr);
  rr_json_set(t, "PatientName", line(doc->patient_name, PN_MAX), jerr);
  rr_json_set(t, "PatientID", line(doc->patient_id, LO_MAX), jerr);
  rr_json_set(t, "PatientBirthDate", valid_date(doc->patient_birth_date), jerr);
  rr_json_set(t, "PatientSex", line(doc->patient_sex && strchr("MFO", doc->patient_sex[0]) && doc->patient_sex[0]
                                        ? doc->patient_sex : "", 1), jerr);
  rr_json_set_str(t, "StudyInstanceUID", doc->study_uid, jerr);
  rr_json_set(t, "StudyDate", valid_date(doc->study_date), jerr);
  rr_json_set(t, "StudyTime", valid_time(doc->study_time), jerr);
  rr_json_set(t, "StudyID", line(doc->study_id, SH_MAX), jerr);
  rr_json_set(t, "AccessionNumber", line(doc->accession_number, SH_MAX), jerr);
  rr_json_set(t, "ReferringPhysicianName", line(doc->referring_physician, PN_MAX), jerr);
  rr_json_set(t, "StudyDescription", line(doc->study_description, LO_MAX), jerr);
  rr_json_set_str(t, "SeriesInstanceUID", series, jerr);
  rr_json_set_str(t, "Modality", si->modality, jerr);
  snprintf(num, sizeof(num), "%d", si->number);
  rr_json_set_str(t, "SeriesNumber", num, jerr);
  rr_json_set_str(t, "SeriesDescription", si->description, jerr);
  snprintf(num, sizeof(num), "%lld", (long long)doc->version);
  rr_json_set_str(t, "InstanceNumber", num, jerr);
  rr_json_set(t, "Manufacturer", line(opt->manufacturer ? opt->manufacturer : DEFAULT_MANUFACTURER, LO_MAX), jerr);
  if (opt->software_version != NULL && opt->software_version[0] != '\0')
    rr_json_set(t, "SoftwareVersions", line(opt->software_version, LO_MAX), jerr);
  if (doc->institution != NULL && doc->institution[0] != '\0')
    rr_json_set(t, "InstitutionName", line(doc->institution, LO_MAX), jerr);
  rr_json_set_str(t, "ContentDate", m.da, jerr);
  rr_json_set_str(t, "ContentTime", m.tm, jerr);
  rr_json_set_str(t, "InstanceCreationDate", m.da, jerr);
  rr_json_set_str(t, "InstanceCreationTime", m.tm, jerr);
  rr_json_set_str(t, "TimezoneOffsetFromUTC", "+0000", jerr);
  return t;
}

/* The body {"Tags", "Force": true} (plus "Content" when given). */
static int body(json_object **out, json_object *tags, json_object *content, int jerr, char *err, size_t errsize)
{
  json_object *o = json_object_new_object();

  rr_json_set(o, "Tags", tags, &jerr);
  if (content != NULL)
    rr_json_set(o, "Content", content, &jerr);
  rr_json_set(o, "Force", json_object_new_boolean(1), &jerr);
  if ((*out = rr_json_done(o, jerr)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  return 0;
}

/* -------------------------------------------------------- Encapsulated PDF */

static json_object *data_url(const unsigned char *pdf, size_t size)
{
  rr_buf b;
  json_object *o = NULL;
  size_t enc = rr_base64_encoded_len(size);

  if (enc == 0 || enc > PDF_MAX)
    return NULL;
  rr_buf_init(&b, enc + 64);
  if (rr_buf_puts(&b, "data:application/pdf;base64,") == 0 && rr_base64_encode(&b, pdf, size) == 0)
    o = json_object_new_string_len(b.ptr, (int)b.len);
  rr_buf_dispose(&b);
  return o;
}

int rr_report_dicom_pdf(json_object **out, const rr_report_doc *doc, const unsigned char *pdf, size_t pdf_size,
                        const rr_report_dicom_options *opt, char *err, size_t errsize)
{
  char sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE], title[ST_MAX];
  json_object *tags, *src, *content;
  moment m;
  size_t i;
  int error, jerr = 0;

  *out = NULL;
  if ((error = check_doc(sop, series, doc, opt, RR_REPORT_DICOM_PDF, err, errsize)) < 0)
    return error;
  if (pdf == NULL || pdf_size < 5 || memcmp(pdf, "%PDF-", 5) != 0)
    return rr_fail(err, errsize, RR_EINVAL, "the report's PDF is empty or not a PDF");
  if ((content = data_url(pdf, pdf_size)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "cannot encode the PDF (%zu bytes)", pdf_size);
  moment_of(&m, doc->signed_at);
  tags = common_tags(doc, opt, RR_REPORT_DICOM_PDF, sop, series, &jerr);
  snprintf(title, sizeof(title), "%s", doc->title && doc->title[0] ? doc->title : REPORT_MEANING);
  rr_json_set(tags, "DocumentTitle", line(title, ST_MAX), &jerr);
  rr_json_set(tags, "ConceptNameCodeSequence", code_seq(REPORT_CODE, "LN", REPORT_MEANING, &jerr), &jerr);
  rr_json_set_str(tags, "ConversionType", "WSD", &jerr);
  rr_json_set_str(tags, "BurnedInAnnotation", "YES", &jerr);
  rr_json_set_str(tags, "MIMETypeOfEncapsulatedDocument", "application/pdf", &jerr);
  snprintf(title, sizeof(title), "%s+0000", m.dt);
  rr_json_set_str(tags, "AcquisitionDateTime", title, &jerr);
  if (doc->image_count > 0) {
    src = json_object_new_array();
    for (i = 0; i < doc->image_count; i++)
      rr_json_append(src, sop_ref(image_class(&doc->images[i]), or_empty(doc->images[i].sop_uid), 0, &jerr), &jerr);
    rr_json_set(tags, "SourceInstanceSequence", src, &jerr);
  }
  return body(out, tags, content, jerr, err, errsize);
}

/* ------------------------------------------------------------- TID 2000 */

/* The CID 7002 concept of a section's items, by its LOINC heading. */
static void item_concept(const char *section_code, const char **value, const char **scheme, const char **meaning)
{
  static const struct {
    const char *section, *value, *scheme, *meaning;
  } map[] = {
    {"55752-0", "11329-0", "LN", "History"},
    {"55111-9", "121065", "DCM", "Procedure Description"},
    {"18834-2", "121069", "DCM", "Previous Finding"},
    {"59776-5", "121071", "DCM", "Finding"},
    {"19005-8", "121073", "DCM", "Impression"},
    {"18783-1", "121075", "DCM", "Recommendation"},
    {"55107-7", "121078", "DCM", "Addendum"},
  };
  size_t i;

  for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
    if (section_code != NULL && strcmp(section_code, map[i].section) == 0) {
      *value = map[i].value;
      *scheme = map[i].scheme;
      *meaning = map[i].meaning;
      return;
    }
  *value = "121071";
  *scheme = "DCM";
  *meaning = "Finding";
}

/* "label: text" (or the text alone). */
static char *labelled(const char *label, const char *s)
{
  size_t a = label ? strlen(label) : 0, b = s ? strlen(s) : 0;
  char *out = malloc(a + b + 3);

  if (out == NULL)
    return NULL;
  if (a > 0)
    snprintf(out, a + b + 3, "%s: %s", label, or_empty(s));
  else
    snprintf(out, b + 1, "%s", or_empty(s));
  return out;
}

static void push_text(json_object *content, const char *section_code, const char *label, const char *s, int *jerr)
{
  const char *value, *scheme, *meaning;
  char *t = labelled(label, s);

  item_concept(section_code, &value, &scheme, &meaning);
  if (t == NULL) {
    *jerr = *jerr ? *jerr : RR_ENOMEM;
    return;
  }
  rr_json_append(content, text_item(value, scheme, meaning, t, jerr), jerr);
  free(t);
}

static void iso_of(char out[32], int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tmv;

  memset(&tmv, 0, sizeof(tmv));
  gmtime_r(&t, &tmv);
  strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tmv);
}

/* The AI-assisted findings, marked as such with their analysis reference. */
static void push_findings(json_object *content, const rr_report_doc *doc, int *jerr)
{
  size_t i;

  for (i = 0; i < doc->finding_count; i++) {
    const rr_report_doc_finding *f = &doc->findings[i];
    size_t n = strlen(or_empty(f->text)) + strlen(or_empty(f->analysis_ref)) + 32;
    char *t = malloc(n);
    if (t == NULL) {
      *jerr = *jerr ? *jerr : RR_ENOMEM;
      return;
    }
    snprintf(t, n, "AI-assisted: %s (%s)", or_empty(f->text), or_empty(f->analysis_ref));
    rr_json_append(content, text_item("121071", "DCM", "Finding", t, jerr), jerr);
    free(t);
  }
}

/* The critical result's communication, as an impression-level text. */
static void push_critical(json_object *content, const rr_report_doc *doc, int *jerr)
{
  char when[32] = "", t[1024];

  if (!doc->critical || doc->critical_recipient == NULL)
    return;
  if (doc->critical_at > 0)
    iso_of(when, doc->critical_at);
  snprintf(t, sizeof(t), "Critical result communicated to %s (%s)%s%s", doc->critical_recipient,
           or_empty(doc->critical_method), when[0] ? " on " : "", when);
  rr_json_append(content, text_item("121073", "DCM", "Impression", t, jerr), jerr);
}

/* One section container per section with items (AI findings join the
 * Findings section, made when the template has none). */
static void push_sections(json_object *root, const rr_report_doc *doc, int *jerr)
{
  bool findings_done = doc->finding_count == 0, critical_done = !doc->critical;
  size_t i, j;

  for (i = 0; i < doc->section_count; i++) {
    const rr_report_doc_section *s = &doc->sections[i];
    /* a section without a code joins the findings (its items keep their labels) */
    const char *code = s->code && s->code[0] ? s->code : "59776-5";
    const char *meaning = s->code && s->code[0] ? (s->meaning && s->meaning[0] ? s->meaning : s->title) : "Findings";
    json_object *content = json_object_new_array();
    for (j = 0; j < s->item_count; j++)
      push_text(content, code, s->items[j].label, s->items[j].text, jerr);
    if (!findings_done && strcmp(code, "59776-5") == 0) {
      push_findings(content, doc, jerr);
      findings_done = true;
    }
    if (!critical_done && strcmp(code, "19005-8") == 0) {
      push_critical(content, doc, jerr);
      critical_done = true;
    }
    if (json_object_array_length(content) == 0) {
      json_object_put(content);
      continue;
    }
    rr_json_append(root, container("CONTAINS", code, "LN", meaning, content, jerr), jerr);
  }
  if (!findings_done || !critical_done) {
    json_object *content = json_object_new_array();
    if (!findings_done)
      push_findings(content, doc, jerr);
    if (!critical_done)
      push_critical(content, doc, jerr);
    rr_json_append(root, container("CONTAINS", "59776-5", "LN", "Findings", content, jerr), jerr);
  }
}

/* Addenda (oldest first) and a correction's reason, in an Addendum section. */
static void push_addenda(json_object *root, const rr_report_doc *doc, int *jerr)
{
  json_object *content;
  char when[32], head[512];
  size_t i;

  if (doc->addendum_count == 0 && (doc->correction_reason == NULL || doc->correction_reason[0] == '\0'))
    return;
  content = json_object_new_array();
  for (i = 0; i < doc->addendum_count; i++) {
    const rr_report_doc_addendum *a = &doc->addenda[i];
    iso_of(when, a->signed_at);
    snprintf(head, sizeof(head), "Addendum (version %lld), signed by %s on %s", (long long)a->version,
             or_empty(a->signed_by_name), when);
    push_text(content, "55107-7", head, a->text, jerr);
  }
  if (doc->correction_reason != NULL && doc->correction_reason[0] != '\0')
    push_text(content, "55107-7", "Reason for correction", doc->correction_reason, jerr);
  rr_json_append(root, container("CONTAINS", "55107-7", "LN", "Addendum", content, jerr), jerr);
}

static void push_images(json_object *root, const rr_report_doc *doc, int *jerr)
{
  json_object *content;
  size_t i;

  if (doc->image_count == 0)
    return;
  content = json_object_new_array();
  for (i = 0; i < doc->image_count; i++)
    rr_json_append(content, image_item(&doc->images[i], jerr), jerr);
  rr_json_append(root, container("CONTAINS", "121180", "DCM", "Key Images", content, jerr), jerr);
}

/* TID 1002 observer context: a person, the signer. */
static void push_observer(json_object *root, const rr_report_doc *doc, int *jerr)
{
  json_object *type = item("HAS OBS CONTEXT", "CODE", jerr), *name = item("HAS OBS CONTEXT", "PNAME", jerr);

  rr_json_set(type, "ConceptNameCodeSequence", code_seq("121005", "DCM", "Observer Type", jerr), jerr);
  rr_json_set(type, "ConceptCodeSequence", code_seq("121006", "DCM", "Person", jerr), jerr);
  rr_json_append(root, type, jerr);
  rr_json_set(name, "ConceptNameCodeSequence", code_seq("121008", "DCM", "Person Observer Name", jerr), jerr);
  rr_json_set(name, "PersonName", person_name(doc->signed_by_name && doc->signed_by_name[0] ? doc->signed_by_name
                                                                                            : doc->signed_by), jerr);
  rr_json_append(root, name, jerr);
}

/* VerificationFlag, the verifying observer, PreliminaryFlag. */
static void set_verification(json_object *tags, const rr_report_doc *doc, const rr_report_dicom_options *opt,
                             int *jerr)
{
  bool final = doc->status == NULL || strcmp(doc->status, "preliminary") != 0;
  json_object *seq, *obs;
  moment m;
  char dt[32];

  rr_json_set_str(tags, "CompletionFlag", "COMPLETE", jerr);
  rr_json_set_str(tags, "PreliminaryFlag", final ? "FINAL" : "PRELIMINARY", jerr);
  rr_json_set_str(tags, "VerificationFlag", final ? "VERIFIED" : "UNVERIFIED", jerr);
  if (!final)
    return;
  moment_of(&m, doc->signed_at);
  snprintf(dt, sizeof(dt), "%s+0000", m.dt);
  seq = json_object_new_array();
  obs = json_object_new_object();
  rr_json_set(obs, "VerifyingObserverName",
              person_name(doc->signed_by_name && doc->signed_by_name[0] ? doc->signed_by_name : doc->signed_by), jerr);
  rr_json_set(obs, "VerifyingObserverIdentificationCodeSequence", json_object_new_array(), jerr);
  rr_json_set(obs, "VerifyingOrganization",
              line(doc->institution && doc->institution[0] ? doc->institution
                                                           : (opt->manufacturer ? opt->manufacturer : DEFAULT_MANUFACTURER),
                   LO_MAX), jerr);
  rr_json_set_str(obs, "VerificationDateTime", dt, jerr);
  rr_json_append(seq, obs, jerr);
  rr_json_set(tags, "VerifyingObserverSequence", seq, jerr);
}

/* PredecessorDocumentsSequence: the SR this version replaces. */
static void set_predecessor(json_object *tags, const rr_report_doc *doc, int *jerr)
{
  json_object *seq, *study, *series_seq, *series, *sops;

  if (doc->predecessor_sop_uid == NULL || doc->predecessor_sop_uid[0] == '\0')
    return;
  seq = json_object_new_array();
  study = json_object_new_object();
  series_seq = json_object_new_array();
  series = json_object_new_object();
  sops = json_object_new_array();
  rr_json_append(sops, sop_ref(doc->predecessor_sop_class_uid && doc->predecessor_sop_class_uid[0]
                                   ? doc->predecessor_sop_class_uid : RR_SOP_CLASS_ENHANCED_SR,
                               doc->predecessor_sop_uid, 0, jerr), jerr);
  rr_json_set_str(series, "SeriesInstanceUID", or_empty(doc->predecessor_series_uid), jerr);
  rr_json_set(series, "ReferencedSOPSequence", sops, jerr);
  rr_json_append(series_seq, series, jerr);
  rr_json_set_str(study, "StudyInstanceUID", doc->study_uid, jerr);
  rr_json_set(study, "ReferencedSeriesSequence", series_seq, jerr);
  rr_json_append(seq, study, jerr);
  rr_json_set(tags, "PredecessorDocumentsSequence", seq, jerr);
}

static json_object *template_seq(const char *id, int *jerr)
{
  json_object *a = json_object_new_array(), *o = json_object_new_object();

  rr_json_set_str(o, "MappingResource", "DCMR", jerr);
  rr_json_set_str(o, "TemplateIdentifier", id, jerr);
  rr_json_append(a, o, jerr);
  return a;
}

int rr_report_dicom_sr(json_object **out, const rr_report_doc *doc, const rr_report_dicom_options *opt, char *err,
                       size_t errsize)
{
  char sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE];
  json_object *tags, *content;
  int error, jerr = 0;

  *out = NULL;
  if ((error = check_doc(sop, series, doc, opt, RR_REPORT_DICOM_SR, err, errsize)) < 0)
    return error;
  tags = common_tags(doc, opt, RR_REPORT_DICOM_SR, sop, series, &jerr);
  rr_json_set_str(tags, "ValueType", "CONTAINER", &jerr);
  rr_json_set(tags, "ConceptNameCodeSequence", code_seq(REPORT_CODE, "LN", REPORT_MEANING, &jerr), &jerr);
  rr_json_set_str(tags, "ContinuityOfContent", "SEPARATE", &jerr);
  rr_json_set(tags, "ContentTemplateSequence", template_seq("2000", &jerr), &jerr);
  set_verification(tags, doc, opt, &jerr);
  set_predecessor(tags, doc, &jerr);
  if (doc->image_count > 0)
    rr_json_set(tags, "CurrentRequestedProcedureEvidenceSequence", evidence(doc, &jerr), &jerr);
  rr_json_set(tags, "PerformedProcedureCodeSequence", json_object_new_array(), &jerr);
  rr_json_set(tags, "ReferencedPerformedProcedureStepSequence", json_object_new_array(), &jerr);
  content = json_object_new_array();
  push_observer(content, doc, &jerr);
  push_sections(content, doc, &jerr);
  push_addenda(content, doc, &jerr);
  push_images(content, doc, &jerr);
  rr_json_set(tags, "ContentSequence", content, &jerr);
  return body(out, tags, NULL, jerr, err, errsize);
}

/* ------------------------------------------------------------- TID 2010 */

int rr_report_dicom_kos(json_object **out, const rr_report_doc *doc, const rr_report_dicom_options *opt, char *err,
                        size_t errsize)
{
  char sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE], when[32], desc[512];
  json_object *tags, *content;
  size_t i;
  int error, jerr = 0;

  *out = NULL;
  if ((error = check_doc(sop, series, doc, opt, RR_REPORT_DICOM_KOS, err, errsize)) < 0)
    return error;
  if (doc->image_count == 0)
    return rr_fail(err, errsize, RR_EINVAL, "the report has no key images");
  tags = common_tags(doc, opt, RR_REPORT_DICOM_KOS, sop, series, &jerr);
  rr_json_set_str(tags, "ValueType", "CONTAINER", &jerr);
  rr_json_set(tags, "ConceptNameCodeSequence", code_seq("113000", "DCM", "Of Interest", &jerr), &jerr);
  rr_json_set_str(tags, "ContinuityOfContent", "SEPARATE", &jerr);
  rr_json_set(tags, "ContentTemplateSequence", template_seq("2010", &jerr), &jerr);
  rr_json_set(tags, "CurrentRequestedProcedureEvidenceSequence", evidence(doc, &jerr), &jerr);
  rr_json_set(tags, "ReferencedPerformedProcedureStepSequence", json_object_new_array(), &jerr);
  content = json_object_new_array();
  push_observer(content, doc, &jerr);
  iso_of(when, doc->signed_at);
  snprintf(desc, sizeof(desc), "Key images of report %lld, version %lld, signed by %s on %s",
           (long long)doc->report_id, (long long)doc->version,
           doc->signed_by_name && doc->signed_by_name[0] ? doc->signed_by_name : or_empty(doc->signed_by), when);
  rr_json_append(content, text_item("113012", "DCM", "Key Object Description", desc, &jerr), &jerr);
  for (i = 0; i < doc->image_count; i++)
    rr_json_append(content, image_item(&doc->images[i], &jerr), &jerr);
  rr_json_set(tags, "ContentSequence", content, &jerr);
  return body(out, tags, NULL, jerr, err, errsize);
}

int rr_report_dicom_build(json_object **out, rr_report_dicom_kind kind, const rr_report_doc *doc,
                          const unsigned char *pdf, size_t pdf_size, const rr_report_dicom_options *opt, char *err,
                          size_t errsize)
{
  switch (kind) {
  case RR_REPORT_DICOM_PDF:
    return rr_report_dicom_pdf(out, doc, pdf, pdf_size, opt, err, errsize);
  case RR_REPORT_DICOM_SR:
    return rr_report_dicom_sr(out, doc, opt, err, errsize);
  case RR_REPORT_DICOM_KOS:
    return rr_report_dicom_kos(out, doc, opt, err, errsize);
  }
  *out = NULL;
  return rr_fail(err, errsize, RR_EINVAL, "unknown output kind");
}
