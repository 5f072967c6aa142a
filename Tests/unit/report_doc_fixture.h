/*
 * report_doc_fixture.h - one signed report version with names in Greek,
 * Cyrillic and Japanese, three sections, an AI-assisted finding, a critical
 * result, an addendum and key images: what test_report_dicom.c,
 * test_report_fhir.c, test_report_outputs.c and the integration test's
 * printer (report_outputs_print.c) build their outputs from.
 * rr_fx_report_doc aborts when out of memory (test code).
 */
#ifndef RR_TEST_REPORT_DOC_FIXTURE_H
#define RR_TEST_REPORT_DOC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_doc.h"

static inline char *rr_fx_dup(const char *s)
{
  char *c = strdup(s ? s : "");
  if (c == NULL)
    abort();
  return c;
}

/* The fixture's key images: (series, SOP instance) pairs; n of them. */
typedef struct rr_fx_doc_image {
  const char *series_uid, *sop_uid;
} rr_fx_doc_image;

static inline rr_report_doc *rr_fx_report_doc(const char *study_uid, const char *patient_id,
                                               const rr_fx_doc_image *images, size_t n)
{
  static const struct {
    const char *code, *meaning, *title, *label, *text;
  } sec[] = {
    {"55752-0", "Clinical information", "Clinical information", "Indication", "Кашель, лихорадка (cough, fever)"},
    {"59776-5", "Findings", "Findings", "Lungs", "Ground-glass opacity, right lower lobe.\nNo effusion."},
    {"19005-8", "Impressions", "Impression", "", "Pneumonia. 肺炎の疑い。"},
  };
  rr_report_doc *d = rr_report_doc_new();
  size_t i;

  if (d == NULL)
    abort();
  d->institution = rr_fx_dup("Πανεπιστημιακό Νοσοκομείο");
  d->patient_name = rr_fx_dup("Yamada^Tarou=山田^太郎=やまだ^たろう");
  d->patient_id = rr_fx_dup(patient_id);
  d->patient_birth_date = rr_fx_dup("19600412");
  d->patient_sex = rr_fx_dup("M");
  d->study_uid = rr_fx_dup(study_uid);
  d->study_orthanc_id = rr_fx_dup("");
  d->study_date = rr_fx_dup("20240301");
  d->study_time = rr_fx_dup("101010");
  d->study_description = rr_fx_dup("CT Thorax");
  d->accession_number = rr_fx_dup("ACC-7");
  d->referring_physician = rr_fx_dup("Иванов^Иван");
  d->modalities = rr_fx_dup("CT");
  d->study_id = rr_fx_dup("1");
  d->report_id = 12;
  d->version = 1;
  d->kind = rr_fx_dup("original");
  d->status = rr_fx_dup("final");
  d->template_id = rr_fx_dup("ct-chest");
  d->title = rr_fx_dup("CT Chest");
  d->section_count = 3;
  if ((d->sections = calloc(3, sizeof(*d->sections))) == NULL)
    abort();
  for (i = 0; i < 3; i++) {
    d->sections[i].code = rr_fx_dup(sec[i].code);
    d->sections[i].meaning = rr_fx_dup(sec[i].meaning);
    d->sections[i].title = rr_fx_dup(sec[i].title);
    d->sections[i].item_count = 1;
    if ((d->sections[i].items = calloc(1, sizeof(rr_report_doc_item))) == NULL)
      abort();
    d->sections[i].items[0].label = rr_fx_dup(sec[i].label);
    d->sections[i].items[0].text = rr_fx_dup(sec[i].text);
  }
  d->finding_count = 1;
  if ((d->findings = calloc(1, sizeof(*d->findings))) == NULL)
    abort();
  d->findings[0].text = rr_fx_dup("Nodule 6 mm, left upper lobe");
  d->findings[0].analysis_ref = rr_fx_dup("AI analysis 0123abcd, reviewed by jdoe on 2026-12-04");
  d->image_count = n;
  if (n > 0 && (d->images = calloc(n, sizeof(*d->images))) == NULL)
    abort();
  for (i = 0; i < n; i++) {
    d->images[i].series_uid = rr_fx_dup(images[i].series_uid);
    d->images[i].sop_uid = rr_fx_dup(images[i].sop_uid);
    d->images[i].sop_class_uid = rr_fx_dup("1.2.840.10008.5.1.4.1.1.2");
    d->images[i].frame = 1;
    d->images[i].caption = rr_fx_dup("Se 2, Im 10");
  }
  d->critical = true;
  d->critical_recipient = rr_fx_dup("Dr Ξανθή Παππά");
  d->critical_method = rr_fx_dup("phone");
  d->critical_at = 1764842400000; /* 2025-12-04T10:00:00Z */
  d->signed_by = rr_fx_dup("jdoe");
  d->signed_by_name = rr_fx_dup("Мария Петрова");
  d->signed_at = 1764843000000;
  return d;
}

#endif
