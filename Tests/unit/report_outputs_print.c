/*
 * report_outputs_print.c - prints one create-dicom body of the fixture's
 * report (report_doc_fixture.h) for Tests/integration/report-outputs.test.mjs,
 * which posts it to a real Orthanc:
 *
 *   rr_report_outputs_print KIND STUDY_UID PATIENT_ID PDF_FILE [name=value...]
 *
 * KIND is pdf, sr or kos (or fhir: the FHIR DiagnosticReport). Options:
 * version=N, status=preliminary|final, kind=original|addendum|correction,
 * image=SERIES_UID/SOP_UID (repeatable), predecessor=SERIES_UID/SOP_UID,
 * root=UID_ROOT (default "test-site"). Exit 0 with the JSON on stdout, 2 on
 * a usage error, 1 when the builder fails (its sentence on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_dicom.h"
#include "report/report_fhir.h"
#include "report_doc_fixture.h"

#define MAX_IMAGES 16

static unsigned char *read_file(const char *path, size_t *size)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  long n;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n)) != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf != NULL)
    *size = (size_t)n;
  fclose(f);
  return buf;
}

/* "A/B" into its two halves (a points into a copy the caller keeps). */
static int split(char *pair, char **a, char **b)
{
  char *slash = strchr(pair, '/');

  if (slash == NULL)
    return -1;
  *slash = '\0';
  *a = pair;
  *b = slash + 1;
  return 0;
}

int main(int argc, char **argv)
{
  rr_fx_doc_image images[MAX_IMAGES];
  size_t n = 0, pdf_size = 0;
  rr_report_dicom_options opt = {"test-site", NULL, "test"};
  rr_report_doc *doc;
  unsigned char *pdf;
  json_object *out = NULL;
  char err[512] = "";
  int i, kind, rc;

  if (argc < 5) {
    fprintf(stderr, "usage: %s pdf|sr|kos|fhir STUDY_UID PATIENT_ID PDF_FILE [name=value...]\n", argv[0]);
    return 2;
  }
  for (i = 5; i < argc; i++)
    if (strncmp(argv[i], "image=", 6) == 0 && n < MAX_IMAGES) {
      char *a, *b;
      if (split(argv[i] + 6, &a, &b) < 0)
        return 2;
      images[n].series_uid = a;
      images[n++].sop_uid = b;
    }
  doc = rr_fx_report_doc(argv[2], argv[3], images, n);
  for (i = 5; i < argc; i++) {
    char *v = strchr(argv[i], '=');
    if (v == NULL)
      return 2;
    v++;
    if (strncmp(argv[i], "version=", 8) == 0)
      doc->version = atoll(v);
    else if (strncmp(argv[i], "status=", 7) == 0)
      rr_report_doc_set(&doc->status, v, strlen(v));
    else if (strncmp(argv[i], "kind=", 5) == 0)
      rr_report_doc_set(&doc->kind, v, strlen(v));
    else if (strncmp(argv[i], "root=", 5) == 0)
      opt.uid_root = v;
    else if (strncmp(argv[i], "predecessor=", 12) == 0) {
      char *a, *b;
      if (split(v, &a, &b) < 0)
        return 2;
      rr_report_doc_set(&doc->predecessor_series_uid, a, strlen(a));
      rr_report_doc_set(&doc->predecessor_sop_uid, b, strlen(b));
      rr_report_doc_set(&doc->predecessor_sop_class_uid, RR_SOP_CLASS_ENHANCED_SR, strlen(RR_SOP_CLASS_ENHANCED_SR));
    }
  }
  if ((pdf = read_file(argv[4], &pdf_size)) == NULL) {
    fprintf(stderr, "cannot read %s\n", argv[4]);
    rr_report_doc_free(doc);
    return 2;
  }
  if (strcmp(argv[1], "fhir") == 0)
    rc = rr_report_fhir(&out, doc, "final", doc->signed_at, "http://localhost/api/reports/12/pdf", pdf, pdf_size, err,
                        sizeof(err));
  else if ((kind = rr_report_dicom_kind_parse(argv[1])) < 0)
    rc = -2;
  else
    rc = rr_report_dicom_build(&out, (rr_report_dicom_kind)kind, doc, pdf, pdf_size, &opt, err, sizeof(err));
  if (rc == 0)
    printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  else
    fprintf(stderr, "%s\n", rc == -2 ? "unknown kind" : err);
  json_object_put(out);
  free(pdf);
  rr_report_doc_free(doc);
  return rc == 0 ? 0 : rc == -2 ? 2 : 1;
}
