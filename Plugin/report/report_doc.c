#include "report/report_doc.h"

#include <stdlib.h>
#include <string.h>

#include "util/errors.h"

rr_report_doc *rr_report_doc_new(void)
{
  return calloc(1, sizeof(rr_report_doc));
}

int rr_report_doc_set(char **slot, const char *s, size_t len)
{
  char *copy;

  if (slot == NULL)
    return RR_EINVAL;
  if (s == NULL)
    len = 0;
  copy = malloc(len + 1);
  if (copy == NULL)
    return RR_ENOMEM;
  if (len > 0)
    memcpy(copy, s, len);
  copy[len] = '\0';
  free(*slot);
  *slot = copy;
  return 0;
}

void rr_report_doc_sections_free(rr_report_doc_section *sections, size_t count)
{
  for (size_t i = 0; i < count; i++) {
    for (size_t j = 0; j < sections[i].item_count; j++) {
      free(sections[i].items[j].label);
      free(sections[i].items[j].text);
    }
    free(sections[i].items);
    free(sections[i].code);
    free(sections[i].meaning);
    free(sections[i].title);
  }
  free(sections);
}

static void free_lists(rr_report_doc *d)
{
  rr_report_doc_sections_free(d->sections, d->section_count);
  for (size_t i = 0; i < d->finding_count; i++) {
    free(d->findings[i].text);
    free(d->findings[i].analysis_ref);
  }
  free(d->findings);
  for (size_t i = 0; i < d->image_count; i++) {
    free(d->images[i].series_uid);
    free(d->images[i].sop_uid);
    free(d->images[i].sop_class_uid);
    free(d->images[i].caption);
    free(d->images[i].png);
  }
  free(d->images);
  for (size_t i = 0; i < d->addendum_count; i++) {
    free(d->addenda[i].text);
    free(d->addenda[i].signed_by_name);
  }
  free(d->addenda);
}

void rr_report_doc_free(rr_report_doc *d)
{
  if (d == NULL)
    return;
  free_lists(d);
  char **strings[] = {&d->institution, &d->patient_name, &d->patient_id, &d->patient_birth_date,
                      &d->patient_sex, &d->study_uid, &d->study_orthanc_id, &d->study_date,
                      &d->study_time, &d->study_description, &d->accession_number, &d->referring_physician,
                      &d->modalities, &d->study_id, &d->kind, &d->status, &d->template_id, &d->title,
                      &d->correction_reason, &d->critical_recipient, &d->critical_method, &d->signed_by,
                      &d->signed_by_name, &d->body_signed_by_name, &d->predecessor_series_uid, &d->predecessor_sop_uid,
                      &d->predecessor_sop_class_uid};
  for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
    free(*strings[i]);
  free(d);
}
