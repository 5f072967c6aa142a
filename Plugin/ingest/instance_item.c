#include "instance_item.h"

#include <string.h>

#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define TAG(dst, obj, key) rr_str_copy_trim((dst), sizeof(dst), rr_json_str((obj), (key)))

static void parse_int(bool *has, int64_t *out, const char *s)
{
  double d;

  *has = false;
  *out = 0;
  if (rr_parse_double(&d, s) == 0 && d >= -2147483648.0 && d <= 2147483647.0) {
    *has = true;
    *out = (int64_t)d;
  }
}

int rr_ingest_build_item(rr_ingest_item *out, json_object *instance, json_object *metadata, json_object *series,
                         json_object *study)
{
  json_object *tags, *ptags;
  bool has;
  int64_t frames;

  memset(out, 0, sizeof(*out));
  if (instance == NULL || series == NULL || study == NULL)
    return RR_EINVAL;

  /* study and patient */
  TAG(out->study.orthanc_id, study, "ID");
  TAG(out->study.patient_orthanc_id, study, "ParentPatient");
  tags = rr_json_obj(study, "MainDicomTags");
  ptags = rr_json_obj(study, "PatientMainDicomTags");
  TAG(out->study.study_uid, tags, "StudyInstanceUID");
  TAG(out->study.study_date, tags, "StudyDate");
  TAG(out->study.study_time, tags, "StudyTime");
  TAG(out->study.study_description, tags, "StudyDescription");
  TAG(out->study.accession_number, tags, "AccessionNumber");
  TAG(out->study.referring_physician, tags, "ReferringPhysicianName");
  TAG(out->study.institution_name, tags, "InstitutionName");
  TAG(out->study.patient_name, ptags, "PatientName");
  TAG(out->study.patient_id, ptags, "PatientID");
  TAG(out->study.patient_birth_date, ptags, "PatientBirthDate");
  TAG(out->study.patient_sex, ptags, "PatientSex");
  if (!rr_date_valid(out->study.study_date))
    out->study.study_date[0] = '\0';
  if (!rr_date_valid(out->study.patient_birth_date))
    out->study.patient_birth_date[0] = '\0';

  /* series */
  TAG(out->series.orthanc_id, series, "ID");
  TAG(out->series.study_orthanc_id, series, "ParentStudy");
  tags = rr_json_obj(series, "MainDicomTags");
  TAG(out->series.series_uid, tags, "SeriesInstanceUID");
  TAG(out->series.modality, tags, "Modality");
  TAG(out->series.series_description, tags, "SeriesDescription");
  TAG(out->series.body_part, tags, "BodyPartExamined");
  parse_int(&out->series.has_series_number, &out->series.series_number, rr_json_str(tags, "SeriesNumber"));

  /* instance */
  TAG(out->instance.orthanc_id, instance, "ID");
  TAG(out->instance.series_orthanc_id, instance, "ParentSeries");
  tags = rr_json_obj(instance, "MainDicomTags");
  TAG(out->instance.sop_instance_uid, tags, "SOPInstanceUID");
  parse_int(&out->instance.has_instance_number, &out->instance.instance_number, rr_json_str(tags, "InstanceNumber"));
  parse_int(&has, &frames, rr_json_str(tags, "NumberOfFrames"));
  out->instance.number_of_frames = has && frames > 0 ? frames : 1;
  TAG(out->instance.image_position, tags, "ImagePositionPatient");
  TAG(out->instance.image_orientation, tags, "ImageOrientationPatient");
  TAG(out->instance.sop_class_uid, metadata, "SopClassUid");
  TAG(out->instance.transfer_syntax, metadata, "TransferSyntax");

  if (out->study.orthanc_id[0] == '\0' || out->series.orthanc_id[0] == '\0' || out->instance.orthanc_id[0] == '\0' ||
      out->study.study_uid[0] == '\0' || out->series.series_uid[0] == '\0' || out->instance.sop_instance_uid[0] == '\0')
    return RR_EINVAL;
  if (strcmp(out->instance.series_orthanc_id, out->series.orthanc_id) != 0 ||
      strcmp(out->series.study_orthanc_id, out->study.orthanc_id) != 0)
    return RR_EINVAL;
  return 0;
}
