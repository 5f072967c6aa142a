/*
 * report_fhir.c - FHIR R4 DiagnosticReport of a report (contract in
 * report_fhir.h).
 */
#include "report/report_fhir.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define CONCLUSION_MAX (256 * 1024)

const char *rr_report_fhir_status(const char *state)
{
  static const char *const map[][2] = {
    {"draft", "partial"},         {"preliminary", "preliminary"}, {"final", "final"},
    {"appended", "appended"},     {"corrected", "corrected"},     {"cancelled", "cancelled"},
    {"entered-in-error", "entered-in-error"},
  };
  size_t i;

  for (i = 0; state != NULL && i < sizeof(map) / sizeof(map[0]); i++)
    if (strcmp(state, map[i][0]) == 0)
      return map[i][1];
  return NULL;
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static json_object *coding(const char *system, const char *code, const char *display, int *jerr)
{
  json_object *o = json_object_new_object();

  rr_json_set_str(o, "system", system, jerr);
  rr_json_set_str(o, "code", code, jerr);
  rr_json_set_str(o, "display", display, jerr);
  return o;
}

static json_object *concept(json_object *c, const char *text, int *jerr)
{
  json_object *o = json_object_new_object(), *a = json_object_new_array();

  rr_json_append(a, c, jerr);
  rr_json_set(o, "coding", a, jerr);
  if (text != NULL && text[0] != '\0')
    rr_json_set_str(o, "text", text, jerr);
  return o;
}

/* A DICOM person name ("Family^Given=...") shown as "Given Family" (its
 * first component group). */
static void display_name(char *out, size_t size, const char *pn)
{
  char first[256], *caret;
  const char *eq = strchr(or_empty(pn), '=');

  rr_str_copyn(first, sizeof(first), or_empty(pn), eq ? (size_t)(eq - pn) : strlen(or_empty(pn)));
  if (first[0] == '\0' && eq != NULL) /* only the ideographic group */
    rr_str_copy(first, sizeof(first), eq + 1);
  if ((caret = strchr(first, '^')) == NULL) {
    rr_str_copy(out, size, first);
    return;
  }
  *caret = '\0';
  snprintf(out, size, "%.*s%s%s", 200, caret + 1, caret[1] ? " " : "", first);
  for (caret = out; *caret; caret++)
    if (*caret == '^' || *caret == '=')
      *caret = ' ';
}

/* The study's date and time as a FHIR dateTime (see the header); "" when
 * the study has no valid date. */
static void effective(char out[40], const char *da, const char *tm)
{
  struct tm t;
  time_t when;
  long off, h, m;
  int64_t wall;
  size_t len = strlen(or_empty(tm));

  out[0] = '\0';
  if (da == NULL || !rr_date_valid(da))
    return;
  if (len < 4 || tm[0] < '0' || tm[0] > '9') {
    snprintf(out, 40, "%.4s-%.2s-%.2s", da, da + 4, da + 6);
    return;
  }
  memset(&t, 0, sizeof(t));
  t.tm_year = atoi((char[5]){da[0], da[1], da[2], da[3], 0}) - 1900;
  t.tm_mon = atoi((char[3]){da[4], da[5], 0}) - 1;
  t.tm_mday = atoi((char[3]){da[6], da[7], 0});
  t.tm_hour = atoi((char[3]){tm[0], tm[1], 0});
  t.tm_min = atoi((char[3]){tm[2], tm[3], 0});
  t.tm_sec = len >= 6 ? atoi((char[3]){tm[4], tm[5], 0}) : 0;
  t.tm_isdst = -1;
  /* the offset: the wall-clock time read as UTC minus the moment it is here */
  wall = rr_days_from_civil(t.tm_year + 1900, t.tm_mon + 1, t.tm_mday) * 86400 + t.tm_hour * 3600 + t.tm_min * 60 +
         t.tm_sec;
  when = mktime(&t);
  off = when == (time_t)-1 ? 0 : (long)(wall - (int64_t)when);
  h = labs(off) / 3600;
  m = labs(off) % 3600 / 60;
  snprintf(out, 40, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%c%02ld:%02ld", da, da + 4, da + 6, tm, tm + 2,
           len >= 6 ? tm + 4 : "00", off < 0 ? '-' : '+', h % 24, m);
}

static void instant(char out[32], int64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tmv;

  memset(&tmv, 0, sizeof(tmv));
  gmtime_r(&t, &tmv);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

/* The Impressions section's items, one per line ("label: text"). */
static int conclusion(char **out, const rr_report_doc *doc)
{
  rr_buf b;
  size_t i, j;
  int error = 0;

  *out = NULL;
  rr_buf_init(&b, CONCLUSION_MAX);
  for (i = 0; i < doc->section_count && error == 0; i++) {
    const rr_report_doc_section *s = &doc->sections[i];
    if (s->code == NULL || strcmp(s->code, "19005-8") != 0)
      continue;
    for (j = 0; j < s->item_count && error == 0; j++) {
      if (b.len > 0)
        error = rr_buf_putc(&b, '\n');
      if (error == 0 && s->items[j].label && s->items[j].label[0])
        error = rr_buf_printf(&b, "%s: ", s->items[j].label);
      if (error == 0)
        error = rr_buf_puts(&b, or_empty(s->items[j].text));
    }
  }
  if (error == 0 && b.len > 0)
    error = rr_buf_detach(out, &b);
  rr_buf_dispose(&b);
  return error;
}

static json_object *presented_form(const rr_report_doc *doc, const char *url, const unsigned char *pdf, size_t size,
                                   int *jerr)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  json_object *a = json_object_new_array(), *o = json_object_new_object();
  rr_buf b;
  char when[32], title[512];

  rr_json_set_str(o, "contentType", "application/pdf", jerr);
  if (url != NULL && url[0] != '\0')
    rr_json_set_str(o, "url", url, jerr);
  rr_json_set(o, "size", json_object_new_int64((int64_t)size), jerr);
  rr_buf_init(&b, 64);
  if (EVP_Digest(pdf, size, digest, &n, EVP_sha1(), NULL) == 1 && n == 20 && rr_base64_encode(&b, digest, n) == 0)
    rr_json_set_str(o, "hash", b.ptr, jerr);
  else
    *jerr = *jerr ? *jerr : RR_ERROR;
  rr_buf_dispose(&b);
  snprintf(title, sizeof(title), "%s (version %lld)", doc->title && doc->title[0] ? doc->title : "Report",
           (long long)doc->version);
  rr_json_set_str(o, "title", title, jerr);
  if (doc->signed_at > 0) {
    instant(when, doc->signed_at);
    rr_json_set_str(o, "creation", when, jerr);
  }
  rr_json_append(a, o, jerr);
  return a;
}

static json_object *subject(const rr_report_doc *doc, int *jerr)
{
  json_object *o = json_object_new_object(), *id = json_object_new_object();
  char name[512];

  rr_json_set_str(id, "value", or_empty(doc->patient_id), jerr);
  rr_json_set(o, "identifier", id, jerr);
  display_name(name, sizeof(name), doc->patient_name);
  if (name[0] != '\0')
    rr_json_set_str(o, "display", name, jerr);
  return o;
}

static json_object *imaging_study(const rr_report_doc *doc, int *jerr)
{
  json_object *a = json_object_new_array(), *o = json_object_new_object(), *id = json_object_new_object();
  char uid[80];

  snprintf(uid, sizeof(uid), "urn:oid:%s", doc->study_uid);
  rr_json_set_str(id, "system", "urn:dicom:uid", jerr);
  rr_json_set_str(id, "value", uid, jerr);
  rr_json_set(o, "identifier", id, jerr);
  if (doc->study_description && doc->study_description[0])
    rr_json_set_str(o, "display", doc->study_description, jerr);
  rr_json_append(a, o, jerr);
  return a;
}

int rr_report_fhir(json_object **out, const rr_report_doc *doc, const char *state, int64_t issued_ms,
                   const char *pdf_url, const unsigned char *pdf, size_t pdf_size, char *err, size_t errsize)
{
  const char *status = rr_report_fhir_status(state);
  json_object *o, *a, *who;
  char id[32], when[40], *concl = NULL;
  int jerr = 0;

  *out = NULL;
  if (status == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "unknown report state '%.40s'", or_empty(state));
  if (doc == NULL || doc->study_uid == NULL || doc->study_uid[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "the report has no study");
  if (conclusion(&concl, doc) < 0)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  o = json_object_new_object();
  rr_json_set_str(o, "resourceType", "DiagnosticReport", &jerr);
  snprintf(id, sizeof(id), "%lld", (long long)doc->report_id);
  rr_json_set_str(o, "id", id, &jerr);
  rr_json_set_str(o, "status", status, &jerr);
  a = json_object_new_array();
  rr_json_append(a, concept(coding("http://terminology.hl7.org/CodeSystem/v2-0074", "RAD", "Radiology", &jerr), NULL,
                            &jerr), &jerr);
  rr_json_set(o, "category", a, &jerr);
  rr_json_set(o, "code", concept(coding("http://loinc.org", "18748-4", "Diagnostic imaging study", &jerr),
                                 doc->title, &jerr), &jerr);
  rr_json_set(o, "subject", subject(doc, &jerr), &jerr);
  effective(when, doc->study_date, doc->study_time);
  if (when[0] != '\0')
    rr_json_set_str(o, "effectiveDateTime", when, &jerr);
  if (issued_ms > 0) {
    instant(when, issued_ms);
    rr_json_set_str(o, "issued", when, &jerr);
  }
  if (doc->signed_by_name != NULL || doc->signed_by != NULL) {
    a = json_object_new_array();
    who = json_object_new_object();
    rr_json_set_str(who, "display", doc->signed_by_name && doc->signed_by_name[0] ? doc->signed_by_name
                                                                                  : doc->signed_by, &jerr);
    rr_json_append(a, who, &jerr);
    rr_json_set(o, "resultsInterpreter", a, &jerr);
  }
  rr_json_set(o, "imagingStudy", imaging_study(doc, &jerr), &jerr);
  if (concl != NULL)
    rr_json_set_str(o, "conclusion", concl, &jerr);
  free(concl);
  if (pdf != NULL && pdf_size > 0)
    rr_json_set(o, "presentedForm", presented_form(doc, pdf_url, pdf, pdf_size, &jerr), &jerr);
  if ((*out = rr_json_done(o, jerr)) == NULL)
    return rr_fail(err, errsize, jerr == RR_ERROR ? RR_ERROR : RR_ENOMEM, "cannot build the DiagnosticReport");
  return 0;
}
