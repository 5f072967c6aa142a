#include <string.h>

#include "common.h"
#include "dicom/sr_check.h"
#include "util/errors.h"

#define STUDY "1.2.826.0.1.3680043.8.498.1"
#define COMPREHENSIVE "1.2.840.10008.5.1.4.1.1.88.33"

/* Orthanc's short DICOM-as-JSON of an SR (what OrthancPluginDicomBufferToJson answers). */
static json_object *sr_tags(const char *sop_class, const char *study, const char *patient)
{
  char text[1024];

  snprintf(text, sizeof(text),
           "{\"0008,0016\": \"%s\", \"0008,0018\": \"1.2.3.4.5\", \"0020,000e\": \"1.2.3.4\","
           " \"0020,000d\": \"%s\", \"0010,0020\": \"%s\","
           " \"0040,a504\": [{\"0008,0105\": \"DCMR\", \"0040,db00\": \"1500\"}]}",
           sop_class, study, patient);
  return json_tokener_parse(text);
}

START_TEST(part10_preamble)
{
  unsigned char b[140];

  memset(b, 0, sizeof(b));
  ck_assert(!rr_sr_is_part10(b, sizeof(b)));
  memcpy(b + 128, "DICM", 4);
  ck_assert(rr_sr_is_part10(b, sizeof(b)));
  ck_assert(rr_sr_is_part10(b, 132));
  ck_assert(!rr_sr_is_part10(b, 131)); /* cut inside the magic */
  ck_assert(!rr_sr_is_part10(NULL, 0));
  ck_assert(!rr_sr_is_part10("{\"not\": \"dicom\"}", 16));
}
END_TEST

START_TEST(sr_classes)
{
  ck_assert_str_eq(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.88.11"), "Basic Text SR");
  ck_assert_str_eq(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.88.22"), "Enhanced SR");
  ck_assert_str_eq(rr_sr_class_name(COMPREHENSIVE), "Comprehensive SR");
  ck_assert_str_eq(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.88.34"), "Comprehensive 3D SR");
  ck_assert_ptr_null(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.2"));    /* CT */
  ck_assert_ptr_null(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.88.59")); /* Key Object Selection */
  ck_assert_ptr_null(rr_sr_class_name("1.2.840.10008.5.1.4.1.1.88.3"));  /* a prefix of one */
  ck_assert_ptr_null(rr_sr_class_name(NULL));
}
END_TEST

START_TEST(facts_read)
{
  rr_sr_facts f;
  char err[256] = "";
  json_object *t = sr_tags(COMPREHENSIVE, STUDY, "PAT-1 ");

  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), 0);
  ck_assert_str_eq(f.sop_class_uid, COMPREHENSIVE);
  ck_assert_str_eq(f.sop_instance_uid, "1.2.3.4.5");
  ck_assert_str_eq(f.series_instance_uid, "1.2.3.4");
  ck_assert_str_eq(f.study_instance_uid, STUDY);
  ck_assert_str_eq(f.patient_id, "PAT-1"); /* padding trimmed */
  ck_assert_str_eq(f.template_id, "1500");
  ck_assert_int_eq(rr_sr_check(&f, STUDY, "PAT-1", err, sizeof(err)), 0);
  json_object_put(t);

  /* upper-case hex in the keys, no template, no Patient ID */
  t = json_tokener_parse("{\"0008,0016\": \"" COMPREHENSIVE "\", \"0008,0018\": \"1.2\", \"0020,000E\": \"1.3\","
                         " \"0020,000D\": \"" STUDY "\"}");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), 0);
  ck_assert_str_eq(f.series_instance_uid, "1.3");
  ck_assert_str_eq(f.template_id, "");
  ck_assert_str_eq(f.patient_id, "");
  ck_assert_int_eq(rr_sr_check(&f, STUDY, "", err, sizeof(err)), 0);
  json_object_put(t);
}
END_TEST

START_TEST(facts_refused)
{
  rr_sr_facts f;
  char err[256] = "";
  json_object *t;

  ck_assert_int_eq(rr_sr_facts_read(&f, NULL, err, sizeof(err)), RR_EINVAL);
  t = json_tokener_parse("{\"0008,0016\": \"" COMPREHENSIVE "\", \"0020,000e\": \"1.3\", \"0020,000d\": \"1.4\"}");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "SOP Instance UID"));
  json_object_put(t);
  /* not a UID: letters, too long, empty, not a string */
  t = json_tokener_parse("{\"0008,0016\": \"" COMPREHENSIVE "\", \"0008,0018\": \"1.2.x\", \"0020,000e\": \"1.3\","
                         " \"0020,000d\": \"1.4\"}");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), RR_EINVAL);
  json_object_put(t);
  t = json_tokener_parse("{\"0008,0016\": \"" COMPREHENSIVE "\", \"0008,0018\": \"1.2\", \"0020,000e\": \"1.3\","
                         " \"0020,000d\": \"1.22222222222222222222222222222222222222222222222222222222222222222\"}");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "Study Instance UID"));
  json_object_put(t);
  t = json_tokener_parse("{\"0008,0016\": [], \"0008,0018\": \"1.2\", \"0020,000e\": \"1.3\", \"0020,000d\": \"1.4\"}");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "SOP Class UID"));
  json_object_put(t);
}
END_TEST

START_TEST(rules)
{
  rr_sr_facts f;
  char err[256] = "";
  json_object *t = sr_tags("1.2.840.10008.5.1.4.1.1.2", STUDY, "PAT-1");

  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_sr_check(&f, STUDY, "PAT-1", err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "not a Structured Report"));
  json_object_put(t);

  t = sr_tags(COMPREHENSIVE, "1.2.3.999", "PAT-1");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_sr_check(&f, STUDY, "PAT-1", err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "another study"));
  ck_assert_ptr_null(strstr(err, "1.2.3.999")); /* no values in messages */
  json_object_put(t);

  t = sr_tags(COMPREHENSIVE, STUDY, "SOMEONE-ELSE");
  ck_assert_int_eq(rr_sr_facts_read(&f, t, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_sr_check(&f, STUDY, "PAT-1", err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "Patient ID"));
  ck_assert_ptr_null(strstr(err, "SOMEONE"));
  json_object_put(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("sr_check");
  TCase *tc = tcase_create("sr_check");
  tcase_add_test(tc, part10_preamble);
  tcase_add_test(tc, sr_classes);
  tcase_add_test(tc, facts_read);
  tcase_add_test(tc, facts_refused);
  tcase_add_test(tc, rules);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
