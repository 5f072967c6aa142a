/*
 * A report version as its outputs need it (report/report_compose.h),
 * against a real store: the inserts' checks (AI findings only from a
 * reviewed analysis of the study and not a rejected finding; the study's
 * measurements; its images and frames; the shape), and the doc composed from
 * the study, the template snapshot, the reviewed (edited) finding with its
 * reference, the measurement as a sentence, the key image's UIDs and
 * caption, and the signature. Without an Orthanc context: no pictures.
 */
#include "common.h"

#include "report/report_compose.h"
#include "report/template.h"
#include "store/store_ai.h"
#include "store/store_annotations.h"
#include "store/store_reports.h"
#include "util/errors.h"
#include "util/str.h"

#define E (fx.err), sizeof(fx.err)
#define AID "0123456789abcdef0123456789abcdef"
#define OTHER "fedcba9876543210fedcba9876543210"
#define REVIEWED_AT 1733300000 /* 2024-12-04, unix seconds as ai_api stores them */

static void analysis(const char *id, const char *study)
{
  rr_ai_analysis a;

  memset(&a, 0, sizeof(a));
  rr_str_copy(a.id, sizeof(a.id), id);
  rr_str_copy(a.study_uid, sizeof(a.study_uid), study);
  rr_str_copy(a.provider, sizeof(a.provider), "gemini");
  rr_str_copy(a.status, sizeof(a.status), "completed");
  rr_str_copy(a.requested_by, sizeof(a.requested_by), "rad");
  a.requested_at = 100;
  a.findings_json = (char *)"{\"summary\":\"s\",\"findings\":["
                            "{\"category\":\"incidental\",\"description\":\"Hypodense lesion\",\"location\":\"Liver\","
                            "\"confidence\":\"medium\",\"severity\":\"mild\"},"
                            "{\"category\":\"artifact\",\"description\":\"Streak artifact\",\"location\":\"\","
                            "\"confidence\":\"high\",\"severity\":\"normal\"}],"
                            "\"recommendations\":[],\"ai_confidence\":\"high\"}";
  ck_assert_msg(rr_store_ai_create(fx.store, &a, E) == 0, "%s", fx.err);
}

static void review(const char *id, const char *status, const char *feedback)
{
  rr_ai_review r;

  memset(&r, 0, sizeof(r));
  rr_str_copy(r.analysis_id, sizeof(r.analysis_id), id);
  r.at = REVIEWED_AT;
  rr_str_copy(r.reviewer, sizeof(r.reviewer), "rad");
  rr_str_copy(r.review_status, sizeof(r.review_status), status);
  r.notes = (char *)"";
  r.feedback_json = (char *)feedback;
  ck_assert_msg(rr_store_ai_review_add(fx.store, &r, "", E) == 0, "%s", fx.err);
}

static void measurement(void)
{
  rr_annotation a;

  memset(&a, 0, sizeof(a));
  rr_str_copy(a.study_uid, sizeof(a.study_uid), "1.2.3.1");
  rr_str_copy(a.annotation_uid, sizeof(a.annotation_uid), "m-1");
  rr_str_copy(a.series_uid, sizeof(a.series_uid), "1.2.3.1.1");
  rr_str_copy(a.sop_uid, sizeof(a.sop_uid), "1.2.3.1.102");
  a.frame = 1;
  rr_str_copy(a.tool, sizeof(a.tool), "Length");
  rr_str_copy(a.label, sizeof(a.label), "Nodule RUL");
  rr_str_copy(a.author, sizeof(a.author), "rad");
  a.data_json = (char *)"{\"points\":[[0,0,0],[12.34,0,0]],\"stats\":{\"length\":12.34,\"unit\":\"mm\","
                        "\"areaUnit\":\"mm²\",\"valueUnit\":\"\",\"unitSource\":\"mm\"}}";
  ck_assert_msg(rr_store_annotation_put(fx.store, NULL, NULL, &a, 0, 1000, E) == 0, "%s", fx.err);
}

/* rr_report_compose_check_inserts on a JSON text: its code. */
static int check(rr_report_composer *c, const char *inserts, json_object **out)
{
  json_object *in = json_tokener_parse(inserts), *res = NULL;
  int error;

  ck_assert_ptr_nonnull(in);
  error = rr_report_compose_check_inserts(&res, c, "1.2.3.1", in, E);
  json_object_put(in);
  if (out != NULL)
    *out = res;
  else
    json_object_put(res);
  return error;
}

START_TEST(inserts_are_checked_against_the_study)
{
  rr_report_composer *c = NULL;
  json_object *res = NULL;

  rr_fx_load_worklist();
  analysis(AID, "1.2.3.1");
  analysis(OTHER, "1.2.3.2");
  measurement();
  ck_assert_int_eq(rr_report_composer_new(&c, fx.store, NULL, NULL, ""), 0);
  /* not reviewed yet */
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":0}]}", NULL), RR_ECONFLICT);
  review(AID, "modified", "[{\"index\":0,\"verdict\":\"edited\",\"text\":\"Simple hepatic cyst\"},"
                          "{\"index\":1,\"verdict\":\"rejected\"}]");
  review(OTHER, "confirmed", "[]");
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":1}]}", NULL), RR_ECONFLICT);
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":2}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"" OTHER "\",\"index\":0}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"nothex\",\"index\":0}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"aiFindings\":[{\"analysisId\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\",\"index\":0}]}", NULL),
                   RR_ECONFLICT); /* no such analysis */
  ck_assert_int_eq(check(c, "{\"measurements\":[{\"annotationUid\":\"nope\"}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"keyImages\":[{\"sopInstanceUid\":\"1.2.3.1.102\",\"frame\":2}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"keyImages\":[{\"sopInstanceUid\":\"9.9.9\",\"frame\":1}]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"other\":[]}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c, "{\"keyImages\":{}}", NULL), RR_EINVAL);
  ck_assert_int_eq(check(c,
                         "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":0}],"
                         "\"measurements\":[{\"annotationUid\":\"m-1\"}],"
                         "\"keyImages\":[{\"sopInstanceUid\":\"1.2.3.1.102\"}]}",
                         &res),
                   0);
  ck_assert_str_eq(json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN),
                   "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":0}],"
                   "\"measurements\":[{\"annotationUid\":\"m-1\"}],"
                   "\"keyImages\":[{\"sopInstanceUid\":\"1.2.3.1.102\",\"frame\":1}]}");
  json_object_put(res);
  rr_report_composer_free(c);
}
END_TEST

START_TEST(a_version_composed)
{
  rr_report_composer *c = NULL;
  rr_templates *t = NULL;
  rr_report *r = NULL;
  rr_report_doc *doc = NULL;
  rr_report_compose_in in;
  char *tpl = NULL;
  int64_t id = 0;
  size_t i, items = 0;

  rr_fx_load_worklist();
  analysis(AID, "1.2.3.1");
  review(AID, "modified", "[{\"index\":0,\"verdict\":\"edited\",\"text\":\"Simple hepatic cyst\"}]");
  measurement();
  ck_assert_msg(rr_templates_new(&t, fx.store, E) == 0, "%s", fx.err);
  ck_assert_int_eq(rr_templates_get(&tpl, NULL, t, "generic", E), 0);
  ck_assert_int_eq(rr_store_report_create(fx.store, &id, "1.2.3.1", "generic", tpl, "rad", 10000, E), 0);
  ck_assert_int_eq(rr_store_report_get(fx.store, &r, id, E), 0);
  ck_assert_int_eq(rr_report_composer_new(&c, fx.store, t, NULL, "Test Hospital"), 0);
  memset(&in, 0, sizeof(in));
  in.version = 1;
  in.kind = "original";
  in.status = "final";
  in.fields_json = "{\"impression\":\"No acute finding.\"}";
  in.inserts_json = "{\"aiFindings\":[{\"analysisId\":\"" AID "\",\"index\":0}],"
                    "\"measurements\":[{\"annotationUid\":\"m-1\"}],"
                    "\"keyImages\":[{\"sopInstanceUid\":\"1.2.3.1.102\",\"frame\":1}]}";
  in.signed_by = "rad";
  in.signed_at = 20000;
  in.images = true; /* asked, but there is no Orthanc here: listed without a picture */
  ck_assert_msg(rr_report_compose(&doc, c, r, &in, E) == 0, "%s", fx.err);
  ck_assert_str_eq(doc->institution, "Test Hospital");
  ck_assert_str_eq(doc->patient_name, "Müller^Renée");
  ck_assert_str_eq(doc->study_uid, "1.2.3.1");
  ck_assert_int_eq(doc->report_id, id);
  ck_assert_str_eq(doc->status, "final");
  ck_assert_str_eq(doc->signed_by_name, "rad"); /* no such user: the user name */
  ck_assert_uint_eq(doc->finding_count, 1);
  ck_assert_str_eq(doc->findings[0].text, "Simple hepatic cyst");
  ck_assert_str_eq(doc->findings[0].analysis_ref, "AI analysis " AID ", reviewed by rad on 2024-12-04");
  ck_assert_uint_ge(doc->section_count, 2);
  ck_assert_str_eq(doc->sections[doc->section_count - 1].title, "Measurements");
  ck_assert_str_eq(doc->sections[doc->section_count - 1].code, "59776-5");
  ck_assert_str_eq(doc->sections[doc->section_count - 1].items[0].label, "Nodule RUL");
  ck_assert_str_eq(doc->sections[doc->section_count - 1].items[0].text, "length 12.3 mm");
  for (i = 0; i + 1 < doc->section_count; i++)
    items += doc->sections[i].item_count;
  ck_assert_uint_eq(items, 1); /* the impression: empty fields are left out */
  ck_assert_uint_eq(doc->image_count, 1);
  ck_assert_str_eq(doc->images[0].sop_uid, "1.2.3.1.102");
  ck_assert_str_eq(doc->images[0].series_uid, "1.2.3.1.1");
  ck_assert_str_eq(doc->images[0].caption, "Se 2, Im 2");
  ck_assert_ptr_null(doc->images[0].png);
  ck_assert_uint_eq(doc->addendum_count, 0);
  rr_report_doc_free(doc);
  rr_report_free(r);
  free(tpl);
  rr_report_composer_free(c);
  rr_templates_free(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_compose");
  TCase *tc = tcase_create("report_compose");

  fx.backend = &rr_fx_backends[0]; /* SQLite: the composer reads a real store */
  tcase_add_checked_fixture(tc, rr_fx_setup, rr_fx_teardown);
  tcase_add_test(tc, inserts_are_checked_against_the_study);
  tcase_add_test(tc, a_version_composed);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
