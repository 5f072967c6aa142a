/*
 * test_report_fhir.c - the FHIR R4 DiagnosticReport of report_fhir.h: every
 * lifecycle state mapped, the expected fields, the PDF's size and SHA-1,
 * names in other scripts kept, refused input.
 */
#include "common.h"

#include <openssl/evp.h>

#include "report/report_fhir.h"
#include "report_doc_fixture.h"
#include "util/base64.h"
#include "util/errors.h"
#include "util/json.h"

#define STUDY "1.2.826.0.1.3680043.8.498.1"
#define PDF "%PDF-1.4\n% fhir test\n%%EOF\n"

START_TEST(status_mapping)
{
  static const char *const pairs[][2] = {
    {"draft", "partial"},     {"preliminary", "preliminary"}, {"final", "final"},
    {"appended", "appended"}, {"corrected", "corrected"},     {"cancelled", "cancelled"},
    {"entered-in-error", "entered-in-error"},
  };
  size_t i;

  for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
    ck_assert_str_eq(rr_report_fhir_status(pairs[i][0]), pairs[i][1]);
  ck_assert_ptr_null(rr_report_fhir_status("amended"));
  ck_assert_ptr_null(rr_report_fhir_status(NULL));
}
END_TEST

START_TEST(diagnostic_report)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID-7", NULL, 0);
  json_object *o = NULL, *v, *form;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  char err[256] = "";
  rr_buf b;

  setenv("TZ", "UTC", 1);
  tzset();
  ck_assert_int_eq(rr_report_fhir(&o, doc, "appended", doc->signed_at, "https://pacs/api/reports/12/pdf",
                                  (const unsigned char *)PDF, strlen(PDF), err, sizeof(err)), 0);
  ck_assert_str_eq(rr_json_str(o, "resourceType"), "DiagnosticReport");
  ck_assert_str_eq(rr_json_str(o, "status"), "appended");
  v = json_object_array_get_idx(rr_json_obj(json_object_array_get_idx(rr_json_obj(o, "category"), 0), "coding"), 0);
  ck_assert_str_eq(rr_json_str(v, "code"), "RAD");
  ck_assert_str_eq(rr_json_str(v, "system"), "http://terminology.hl7.org/CodeSystem/v2-0074");
  v = json_object_array_get_idx(rr_json_obj(rr_json_obj(o, "code"), "coding"), 0);
  ck_assert_str_eq(rr_json_str(v, "system"), "http://loinc.org");
  ck_assert_str_eq(rr_json_str(v, "code"), "18748-4");
  v = rr_json_obj(o, "subject");
  ck_assert_str_eq(rr_json_str(rr_json_obj(v, "identifier"), "value"), "PID-7");
  ck_assert_str_eq(rr_json_str(v, "display"), "Tarou Yamada");
  ck_assert_str_eq(rr_json_str(o, "effectiveDateTime"), "2024-03-01T10:10:10+00:00");
  ck_assert_str_eq(rr_json_str(o, "issued"), "2025-12-04T10:10:00Z");
  v = json_object_array_get_idx(rr_json_obj(o, "resultsInterpreter"), 0);
  ck_assert_str_eq(rr_json_str(v, "display"), "Мария Петрова");
  v = rr_json_obj(json_object_array_get_idx(rr_json_obj(o, "imagingStudy"), 0), "identifier");
  ck_assert_str_eq(rr_json_str(v, "system"), "urn:dicom:uid");
  ck_assert_str_eq(rr_json_str(v, "value"), "urn:oid:" STUDY);
  ck_assert_str_eq(rr_json_str(o, "conclusion"), "Pneumonia. 肺炎の疑い。");
  form = json_object_array_get_idx(rr_json_obj(o, "presentedForm"), 0);
  ck_assert_str_eq(rr_json_str(form, "contentType"), "application/pdf");
  ck_assert_str_eq(rr_json_str(form, "url"), "https://pacs/api/reports/12/pdf");
  ck_assert_int_eq(json_object_get_int64(rr_json_obj(form, "size")), (int64_t)strlen(PDF));
  ck_assert_int_eq(EVP_Digest(PDF, strlen(PDF), digest, &n, EVP_sha1(), NULL), 1);
  rr_buf_init(&b, 64);
  ck_assert_int_eq(rr_base64_encode(&b, digest, n), 0);
  ck_assert_str_eq(rr_json_str(form, "hash"), b.ptr);
  rr_buf_dispose(&b);
  ck_assert_ptr_nonnull(strstr(rr_json_str(form, "title"), "CT Chest"));
  json_object_put(o);

  /* a draft: partial, no PDF, no form; a study without a time: the date */
  rr_report_doc_set(&doc->study_time, "", 0);
  ck_assert_int_eq(rr_report_fhir(&o, doc, "draft", 0, NULL, NULL, 0, err, sizeof(err)), 0);
  ck_assert_str_eq(rr_json_str(o, "status"), "partial");
  ck_assert_ptr_null(rr_json_obj(o, "presentedForm"));
  ck_assert_ptr_null(rr_json_obj(o, "issued"));
  ck_assert_str_eq(rr_json_str(o, "effectiveDateTime"), "2024-03-01");
  json_object_put(o);

  ck_assert_int_eq(rr_report_fhir(&o, doc, "amended", 0, NULL, NULL, 0, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(o);
  ck_assert_ptr_nonnull(strstr(err, "state"));
  rr_report_doc_free(doc);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_fhir");
  TCase *tc = tcase_create("report_fhir");
  tcase_add_test(tc, status_mapping);
  tcase_add_test(tc, diagnostic_report);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
