/*
 * prompt.h - the instructions and the study context sent to a model.
 *
 * Only whitelisted, normalised facts leave the hospital, never free text:
 *   - modality: the study's modality codes that are DICOM defined terms
 *     (CT, MR, CR, ...); anything else is dropped;
 *   - body part: BodyPartExamined values that are DICOM defined terms
 *     (CHEST, ABDOMEN, HEAD, ...) from the series; others are dropped;
 *   - age band: ten-year bands ("40-49 years", "under 1 year", "90 years or
 *     older") computed from the birth date and the study date, which
 *     themselves never leave;
 *   - sex: male, female, other, or nothing;
 *   - study description: reduced to the words of a fixed radiology
 *     vocabulary (anatomy, procedure, contrast, laterality) in upper case;
 *     every other word - names, numbers, markup, instructions - is dropped,
 *     and the result is quoted as data the model must not follow.
 * Names, IDs, accession numbers, dates, institutions and physicians are
 * never read by this module.
 *
 * Ownership: rr_ai_prompt_build() returns two malloc'd strings the caller
 * frees with free(). Thread-safety: pure.
 */
#ifndef RR_AI_PROMPT_H
#define RR_AI_PROMPT_H

#include <stddef.h>

#include "store/records.h"
#include "util/errors.h"

/* Version of the instructions and context rules, stored with each result. */
#define RR_AI_PROMPT_VERSION "prompt-3"

typedef struct rr_ai_context {
  const rr_study_rec *study;     /* required: modalities, sex, dates, description */
  const char *const *body_parts; /* BodyPartExamined of the series, may be NULL */
  size_t body_part_count;
  size_t image_count;            /* images that follow the prompt */
  size_t series_count;           /* series they come from */
} rr_ai_context;

/* The normalised facts, as they go into the prompt ("" when unknown). */
typedef struct rr_ai_facts {
  char modalities[64];   /* "CT" or "CT, PT" */
  char body_parts[128];  /* "CHEST, ABDOMEN" */
  char age_band[32];
  char sex[16];
  char description[128]; /* vocabulary words only */
} rr_ai_facts;

void rr_ai_facts_from_context(rr_ai_facts *out, const rr_ai_context *ctx);

/* The system instructions and the user text for one analysis. A repair
 * (problems != NULL) adds what was wrong with the previous answer; the
 * answer itself is not echoed back. Returns 0, RR_EINVAL or RR_ENOMEM. */
int rr_ai_prompt_build(char **system_out, char **user_out, const rr_ai_context *ctx, const char *problems,
                       char *err, size_t errsize);

#endif
