/*
 * test_report_dicom.c - the create-dicom bodies of report_dicom.h: their
 * shape (no "Parent", UTF-8 and Force, the study's own tags), deterministic
 * and valid UIDs, non-Latin text kept, TID 2000 content, the verification
 * and predecessor attributes, the KOS, and refused input.
 */
#include "common.h"

#include "report/report_dicom.h"
#include "report_doc_fixture.h"
#include "util/base64.h"
#include "util/json.h"
#include "util/errors.h"
#include "util/str.h"

#define STUDY "1.2.826.0.1.3680043.8.498.1"
#define PDF_BYTES "%PDF-1.4\n% test\n%%EOF\n"

static const rr_fx_doc_image IMAGES[] = {
  {"1.2.826.0.1.3680043.8.498.2", "1.2.826.0.1.3680043.8.498.3"},
  {"1.2.826.0.1.3680043.8.498.2", "1.2.826.0.1.3680043.8.498.4"},
  {"1.2.826.0.1.3680043.8.498.5", "1.2.826.0.1.3680043.8.498.6"},
};
static const rr_report_dicom_options OPT = {"site-secret-1", NULL, "1.0"};

static json_object *tags_of(json_object *body)
{
  json_object *t = rr_json_obj(body, "Tags");
  ck_assert_ptr_nonnull(t);
  return t;
}

/* The concept name's code value of a content item or document. */
static const char *concept_of(json_object *o)
{
  json_object *seq = rr_json_obj(o, "ConceptNameCodeSequence");
  return seq ? rr_json_str(json_object_array_get_idx(seq, 0), "CodeValue") : "";
}

/* The first item of `content` with value type vt and concept code (any
 * concept when NULL). */
static json_object *find_item(json_object *content, const char *vt, const char *code)
{
  size_t i;
  for (i = 0; content && i < json_object_array_length(content); i++) {
    json_object *it = json_object_array_get_idx(content, i);
    if (strcmp(rr_json_str(it, "ValueType"), vt) == 0 && (code == NULL || strcmp(concept_of(it), code) == 0))
      return it;
  }
  return NULL;
}

START_TEST(uids_deterministic_and_valid)
{
  char a[RR_REPORT_DICOM_UID_SIZE], b[RR_REPORT_DICOM_UID_SIZE], s1[RR_REPORT_DICOM_UID_SIZE],
      s2[RR_REPORT_DICOM_UID_SIZE];
  int kind;
  int64_t v;

  for (kind = 0; kind < 3; kind++)
    for (v = 1; v < 50; v++) {
      ck_assert_int_eq(rr_report_dicom_uids(a, s1, "root", STUDY, 7, v, (rr_report_dicom_kind)kind), 0);
      ck_assert_int_eq(rr_report_dicom_uids(b, s2, "root", STUDY, 7, v, (rr_report_dicom_kind)kind), 0);
      ck_assert_str_eq(a, b);
      ck_assert_str_eq(s1, s2);
      ck_assert_msg(rr_uid_valid(a) && strlen(a) <= 64 && strncmp(a, "2.25.", 5) == 0 && a[5] != '0', "%s", a);
      ck_assert_msg(rr_uid_valid(s1) && strlen(s1) <= 64, "%s", s1);
    }
  /* every input changes the SOP UID; the series depends on report and kind only */
  ck_assert_int_eq(rr_report_dicom_uids(a, s1, "root", STUDY, 7, 1, RR_REPORT_DICOM_SR), 0);
  ck_assert_int_eq(rr_report_dicom_uids(b, s2, "root", STUDY, 7, 2, RR_REPORT_DICOM_SR), 0);
  ck_assert_str_ne(a, b);
  ck_assert_str_eq(s1, s2);
  ck_assert_int_eq(rr_report_dicom_uids(b, s2, "root", STUDY, 7, 1, RR_REPORT_DICOM_PDF), 0);
  ck_assert_str_ne(a, b);
  ck_assert_str_ne(s1, s2);
  ck_assert_int_eq(rr_report_dicom_uids(b, s2, "root", STUDY, 8, 1, RR_REPORT_DICOM_SR), 0);
  ck_assert_str_ne(a, b);
  ck_assert_str_ne(s1, s2);
  ck_assert_int_eq(rr_report_dicom_uids(b, s2, "other-site", STUDY, 7, 1, RR_REPORT_DICOM_SR), 0);
  ck_assert_str_ne(a, b);
  ck_assert_int_eq(rr_report_dicom_uids(b, NULL, "root", STUDY ".9", 7, 1, RR_REPORT_DICOM_SR), 0);
  ck_assert_str_ne(a, b);
  ck_assert_int_eq(rr_report_dicom_uids(b, NULL, "", STUDY, 7, 1, RR_REPORT_DICOM_SR), RR_EINVAL);
  ck_assert_int_eq(rr_report_dicom_uids(b, NULL, "root", NULL, 7, 1, RR_REPORT_DICOM_SR), RR_EINVAL);
}
END_TEST

START_TEST(kind_names)
{
  ck_assert_str_eq(rr_report_dicom_kind_name(RR_REPORT_DICOM_PDF), "pdf");
  ck_assert_str_eq(rr_report_dicom_kind_name(RR_REPORT_DICOM_SR), "sr");
  ck_assert_str_eq(rr_report_dicom_kind_name(RR_REPORT_DICOM_KOS), "kos");
  ck_assert_int_eq(rr_report_dicom_kind_parse("kos"), RR_REPORT_DICOM_KOS);
  ck_assert_int_eq(rr_report_dicom_kind_parse("KOS"), -1);
  ck_assert_int_eq(rr_report_dicom_kind_parse(NULL), -1);
}
END_TEST

/* What every body shares: no Parent, Force, UTF-8, the study's own tags,
 * the deterministic UIDs, names in every script as given. */
static void check_common(json_object *body, rr_report_dicom_kind kind, const rr_report_doc *doc)
{
  json_object *t = tags_of(body);
  char sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE];

  ck_assert_ptr_null(rr_json_obj(body, "Parent"));
  ck_assert(json_object_get_boolean(rr_json_obj(body, "Force")));
  ck_assert_str_eq(rr_json_str(t, "SpecificCharacterSet"), "ISO_IR 192");
  ck_assert_str_eq(rr_json_str(t, "StudyInstanceUID"), STUDY);
  ck_assert_str_eq(rr_json_str(t, "PatientID"), "PID-7");
  ck_assert_str_eq(rr_json_str(t, "PatientName"), "Yamada^Tarou=山田^太郎=やまだ^たろう");
  ck_assert_str_eq(rr_json_str(t, "ReferringPhysicianName"), "Иванов^Иван");
  ck_assert_str_eq(rr_json_str(t, "InstitutionName"), "Πανεπιστημιακό Νοσοκομείο");
  ck_assert_str_eq(rr_json_str(t, "SOPClassUID"), rr_report_dicom_sop_class(kind));
  ck_assert_int_eq(rr_report_dicom_uids(sop, series, OPT.uid_root, STUDY, doc->report_id, doc->version, kind), 0);
  ck_assert_str_eq(rr_json_str(t, "SOPInstanceUID"), sop);
  ck_assert_str_eq(rr_json_str(t, "SeriesInstanceUID"), series);
  ck_assert_str_eq(rr_json_str(t, "InstanceNumber"), "1");
  ck_assert_str_eq(rr_json_str(t, "ContentDate"), "20251204");
  ck_assert_str_eq(rr_json_str(t, "ContentTime"), "101000");
  ck_assert_str_eq(rr_json_str(t, "PatientBirthDate"), "19600412");
}

START_TEST(encapsulated_pdf)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID-7", IMAGES, 3);
  json_object *body = NULL, *t, *src;
  char err[256] = "";
  const char *content;
  rr_buf b;

  ck_assert_int_eq(rr_report_dicom_pdf(&body, doc, (const unsigned char *)PDF_BYTES, strlen(PDF_BYTES), &OPT, err,
                                       sizeof(err)), 0);
  check_common(body, RR_REPORT_DICOM_PDF, doc);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "Modality"), "DOC");
  ck_assert_str_eq(concept_of(t), "18748-4");
  ck_assert_str_eq(rr_json_str(t, "DocumentTitle"), "CT Chest");
  ck_assert_str_eq(rr_json_str(t, "BurnedInAnnotation"), "YES");
  ck_assert_str_ne(rr_json_str(t, "ConversionType"), "");
  ck_assert_str_ne(rr_json_str(t, "Manufacturer"), "");
  ck_assert_str_eq(rr_json_str(t, "AcquisitionDateTime"), "20251204101000+0000");
  src = rr_json_obj(t, "SourceInstanceSequence");
  ck_assert_int_eq(json_object_array_length(src), 3);
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(src, 2), "ReferencedSOPInstanceUID"), IMAGES[2].sop_uid);
  /* the PDF itself, byte for byte */
  content = rr_json_str(body, "Content");
  ck_assert(rr_str_starts_with(content, "data:application/pdf;base64,"));
  rr_buf_init(&b, 1024);
  ck_assert_int_eq(rr_base64_decode(&b, content + 28, strlen(content + 28)), 0);
  ck_assert_uint_eq(b.len, strlen(PDF_BYTES));
  ck_assert_int_eq(memcmp(b.ptr, PDF_BYTES, b.len), 0);
  rr_buf_dispose(&b);
  json_object_put(body);

  /* not a PDF, no signature: refused with a sentence */
  ck_assert_int_eq(rr_report_dicom_pdf(&body, doc, (const unsigned char *)"hello", 5, &OPT, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_ptr_null(body);
  ck_assert_ptr_nonnull(strstr(err, "PDF"));
  doc->signed_at = 0;
  ck_assert_int_eq(rr_report_dicom_pdf(&body, doc, (const unsigned char *)PDF_BYTES, strlen(PDF_BYTES), &OPT, err,
                                       sizeof(err)), RR_EINVAL);
  rr_report_doc_free(doc);
}
END_TEST

START_TEST(sr_tid2000_final)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID-7", IMAGES, 3);
  json_object *body = NULL, *t, *content, *sec, *it, *obs, *ev;
  char err[256] = "";

  ck_assert_int_eq(rr_report_dicom_sr(&body, doc, &OPT, err, sizeof(err)), 0);
  check_common(body, RR_REPORT_DICOM_SR, doc);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "Modality"), "SR");
  ck_assert_str_eq(rr_json_str(t, "ValueType"), "CONTAINER");
  ck_assert_str_eq(concept_of(t), "18748-4");
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(t, "ContentTemplateSequence"), 0),
                               "TemplateIdentifier"), "2000");
  ck_assert_str_eq(rr_json_str(t, "CompletionFlag"), "COMPLETE");
  ck_assert_str_eq(rr_json_str(t, "VerificationFlag"), "VERIFIED");
  ck_assert_str_eq(rr_json_str(t, "PreliminaryFlag"), "FINAL");
  obs = json_object_array_get_idx(rr_json_obj(t, "VerifyingObserverSequence"), 0);
  ck_assert_str_eq(rr_json_str(obs, "VerifyingObserverName"), "Петрова^Мария");
  ck_assert_str_eq(rr_json_str(obs, "VerifyingOrganization"), "Πανεπιστημιακό Νοσοκομείο");
  ck_assert_str_eq(rr_json_str(obs, "VerificationDateTime"), "20251204101000+0000");
  ck_assert_ptr_null(rr_json_obj(t, "PredecessorDocumentsSequence"));
  /* evidence: two series, three images */
  ev = json_object_array_get_idx(rr_json_obj(t, "CurrentRequestedProcedureEvidenceSequence"), 0);
  ck_assert_str_eq(rr_json_str(ev, "StudyInstanceUID"), STUDY);
  ck_assert_int_eq(json_object_array_length(rr_json_obj(ev, "ReferencedSeriesSequence")), 2);
  content = rr_json_obj(t, "ContentSequence");
  it = find_item(content, "PNAME", "121008");
  ck_assert_ptr_nonnull(it);
  ck_assert_str_eq(rr_json_str(it, "PersonName"), "Петрова^Мария");
  /* sections by LOINC code, items by CID 7002 */
  sec = find_item(content, "CONTAINER", "55752-0");
  ck_assert_ptr_nonnull(sec);
  it = find_item(rr_json_obj(sec, "ContentSequence"), "TEXT", "11329-0");
  ck_assert_str_eq(rr_json_str(it, "TextValue"), "Indication: Кашель, лихорадка (cough, fever)");
  sec = find_item(content, "CONTAINER", "59776-5");
  it = find_item(rr_json_obj(sec, "ContentSequence"), "TEXT", "121071");
  ck_assert_str_eq(rr_json_str(it, "TextValue"), "Lungs: Ground-glass opacity, right lower lobe.\r\nNo effusion.");
  it = json_object_array_get_idx(rr_json_obj(sec, "ContentSequence"), 1);
  ck_assert_str_eq(concept_of(it), "121071");
  ck_assert(rr_str_starts_with(rr_json_str(it, "TextValue"), "AI-assisted: Nodule 6 mm"));
  ck_assert_ptr_nonnull(strstr(rr_json_str(it, "TextValue"), "AI analysis 0123abcd"));
  sec = find_item(content, "CONTAINER", "19005-8");
  it = find_item(rr_json_obj(sec, "ContentSequence"), "TEXT", "121073");
  ck_assert_str_eq(rr_json_str(it, "TextValue"), "Pneumonia. 肺炎の疑い。");
  it = json_object_array_get_idx(rr_json_obj(sec, "ContentSequence"), 1);
  ck_assert_ptr_nonnull(strstr(rr_json_str(it, "TextValue"), "Dr Ξανθή Παππά"));
  sec = find_item(content, "CONTAINER", "121180");
  ck_assert_int_eq(json_object_array_length(rr_json_obj(sec, "ContentSequence")), 3);
  it = json_object_array_get_idx(rr_json_obj(sec, "ContentSequence"), 0);
  ck_assert_str_eq(rr_json_str(it, "ValueType"), "IMAGE");
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(it, "ReferencedSOPSequence"), 0),
                               "ReferencedSOPInstanceUID"), IMAGES[0].sop_uid);
  ck_assert_ptr_null(find_item(content, "CONTAINER", "55107-7")); /* no addenda */
  json_object_put(body);
  rr_report_doc_free(doc);
}
END_TEST

START_TEST(sr_preliminary_and_addendum)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID-7", NULL, 0);
  json_object *body = NULL, *t, *pred, *ser, *sec;
  char err[256] = "", sop[RR_REPORT_DICOM_UID_SIZE], series[RR_REPORT_DICOM_UID_SIZE];

  rr_report_doc_set(&doc->status, "preliminary", 11);
  ck_assert_int_eq(rr_report_dicom_sr(&body, doc, &OPT, err, sizeof(err)), 0);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "VerificationFlag"), "UNVERIFIED");
  ck_assert_str_eq(rr_json_str(t, "PreliminaryFlag"), "PRELIMINARY");
  ck_assert_ptr_null(rr_json_obj(t, "VerifyingObserverSequence"));
  ck_assert_ptr_null(rr_json_obj(t, "CurrentRequestedProcedureEvidenceSequence"));
  json_object_put(body);

  /* version 2, an addendum replacing version 1's SR */
  ck_assert_int_eq(rr_report_dicom_uids(sop, series, OPT.uid_root, STUDY, 12, 1, RR_REPORT_DICOM_SR), 0);
  rr_report_doc_set(&doc->status, "final", 5);
  rr_report_doc_set(&doc->kind, "addendum", 8);
  doc->version = 2;
  rr_report_doc_set(&doc->predecessor_series_uid, series, strlen(series));
  rr_report_doc_set(&doc->predecessor_sop_uid, sop, strlen(sop));
  doc->addendum_count = 1;
  doc->addenda = calloc(1, sizeof(*doc->addenda));
  doc->addenda[0].version = 2;
  doc->addenda[0].text = rr_fx_dup("Дополнение: no change");
  doc->addenda[0].signed_by_name = rr_fx_dup("Мария Петрова");
  doc->addenda[0].signed_at = doc->signed_at;
  ck_assert_int_eq(rr_report_dicom_sr(&body, doc, &OPT, err, sizeof(err)), 0);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "InstanceNumber"), "2");
  pred = json_object_array_get_idx(rr_json_obj(t, "PredecessorDocumentsSequence"), 0);
  ck_assert_str_eq(rr_json_str(pred, "StudyInstanceUID"), STUDY);
  ser = json_object_array_get_idx(rr_json_obj(pred, "ReferencedSeriesSequence"), 0);
  ck_assert_str_eq(rr_json_str(ser, "SeriesInstanceUID"), series);
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(ser, "ReferencedSOPSequence"), 0),
                               "ReferencedSOPInstanceUID"), sop);
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(ser, "ReferencedSOPSequence"), 0),
                               "ReferencedSOPClassUID"), RR_SOP_CLASS_ENHANCED_SR);
  ck_assert_str_ne(rr_json_str(t, "SOPInstanceUID"), sop);
  ck_assert_str_eq(rr_json_str(t, "SeriesInstanceUID"), series); /* same report, same series */
  sec = find_item(rr_json_obj(t, "ContentSequence"), "CONTAINER", "55107-7");
  ck_assert_ptr_nonnull(sec);
  ck_assert_ptr_nonnull(strstr(rr_json_str(json_object_array_get_idx(rr_json_obj(sec, "ContentSequence"), 0),
                                           "TextValue"), "Дополнение: no change"));
  json_object_put(body);
  rr_report_doc_free(doc);
}
END_TEST

START_TEST(kos_of_key_images)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID-7", IMAGES, 3);
  json_object *body = NULL, *t, *content;
  char err[256] = "";

  ck_assert_int_eq(rr_report_dicom_kos(&body, doc, &OPT, err, sizeof(err)), 0);
  check_common(body, RR_REPORT_DICOM_KOS, doc);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "Modality"), "KO");
  ck_assert_str_eq(concept_of(t), "113000");
  ck_assert_str_eq(rr_json_str(json_object_array_get_idx(rr_json_obj(t, "ContentTemplateSequence"), 0),
                               "TemplateIdentifier"), "2010");
  ck_assert_ptr_nonnull(rr_json_obj(t, "CurrentRequestedProcedureEvidenceSequence"));
  content = rr_json_obj(t, "ContentSequence");
  ck_assert_ptr_nonnull(find_item(content, "TEXT", "113012"));
  ck_assert_ptr_nonnull(find_item(content, "IMAGE", NULL));
  ck_assert_ptr_null(rr_json_obj(t, "VerificationFlag"));
  json_object_put(body);
  rr_report_doc_free(doc);

  doc = rr_fx_report_doc(STUDY, "PID-7", NULL, 0);
  ck_assert_int_eq(rr_report_dicom_kos(&body, doc, &OPT, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "key images"));
  rr_report_doc_free(doc);
}
END_TEST

/* Untrusted text: backslashes and control characters never reach a
 * single-line value, lengths are cut at a character, the study UID must be
 * a UID. */
START_TEST(hostile_text)
{
  rr_report_doc *doc = rr_fx_report_doc(STUDY, "PID\\7\x01", NULL, 0);
  json_object *body = NULL, *t;
  char err[256] = "", longname[400];
  const char *v;
  size_t i;

  for (i = 0; i + 2 < 300; i += 2)
    memcpy(longname + i, "é", 2);
  longname[i] = '\0';
  rr_report_doc_set(&doc->institution, longname, strlen(longname));
  rr_report_doc_set(&doc->study_date, "2024-13-45", 10);
  rr_report_doc_set(&doc->sections[1].code, "", 0);
  rr_report_doc_set(&doc->patient_name, "Bad\xff\xfeName^X", strlen("Bad\xff\xfeName^X"));
  ck_assert_int_eq(rr_report_dicom_sr(&body, doc, &OPT, err, sizeof(err)), 0);
  t = tags_of(body);
  ck_assert_str_eq(rr_json_str(t, "PatientID"), "PID7");
  /* an uncoded section's items join a Findings container */
  ck_assert_ptr_nonnull(find_item(rr_json_obj(t, "ContentSequence"), "CONTAINER", "59776-5"));
  v = rr_json_str(t, "InstitutionName");
  ck_assert_uint_le(strlen(v), 64);
  ck_assert_uint_eq(rr_utf8_valid_prefix(v, strlen(v)), strlen(v));
  ck_assert_str_eq(rr_json_str(t, "StudyDate"), "");
  ck_assert_str_eq(rr_json_str(t, "PatientName"), "BadName^X"); /* invalid UTF-8 bytes dropped */
  json_object_put(body);
  rr_report_doc_set(&doc->study_uid, "1.2.x", 5);
  ck_assert_int_eq(rr_report_dicom_sr(&body, doc, &OPT, err, sizeof(err)), RR_EINVAL);
  rr_report_doc_free(doc);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_dicom");
  TCase *tc = tcase_create("report_dicom");
  tcase_add_test(tc, uids_deterministic_and_valid);
  tcase_add_test(tc, kind_names);
  tcase_add_test(tc, encapsulated_pdf);
  tcase_add_test(tc, sr_tid2000_final);
  tcase_add_test(tc, sr_preliminary_and_addendum);
  tcase_add_test(tc, kos_of_key_images);
  tcase_add_test(tc, hostile_text);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
