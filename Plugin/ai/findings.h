/*
 * findings.h - the structured findings an AI model must answer with: their
 * C form, the validation of a model's answer text, the way back to JSON and
 * the response schema in the two dialects the providers understand.
 *
 * The answer is one JSON object with exactly these keys:
 *   summary          string, 1..RR_FINDINGS_SUMMARY_MAX bytes
 *   findings         array of at most RR_FINDINGS_MAX objects, each with
 *                    category     one of rr_finding_category_name()
 *                    description  string, 1..RR_FINDING_DESCRIPTION_MAX bytes
 *                    location     string, 0..RR_FINDING_LOCATION_MAX bytes
 *                    confidence   "low" | "medium" | "high"
 *                    severity     "normal" | "mild" | "moderate" | "severe" | "critical"
 *   recommendations  array of at most RR_FINDINGS_RECOMMENDATIONS_MAX strings
 *                    of 1..RR_FINDINGS_RECOMMENDATION_MAX bytes
 *   ai_confidence    "low" | "medium" | "high" (the original design's bands)
 * Every key is required, no other key is allowed, every string is valid
 * UTF-8 without NUL characters. Lengths are counted in bytes. Enum values
 * must match exactly (the schema sent to the provider lists them), with two
 * unambiguous exceptions for ai_confidence, which models trained on other
 * prompts often write differently:
 *   - any letter case ("High" is high);
 *   - a number in [0, 1] (findings-1 answers, older models) is taken as the
 *     band rr_findings_confidence_band() gives, and kept as the score.
 *
 * Categories (rr_finding_category_name()): the five of findings-1, kept so
 * that stored analyses stay valid -- abnormality (any other pathological
 * finding, e.g. diffuse disease), normal_variant, artifact, incidental,
 * technical (image quality, positioning) -- and four that a radiologist
 * triages on, from the original design and the common critical results:
 *   lesion      a focal abnormality: mass, nodule, cyst, focal opacity
 *   fracture    a fracture or dislocation
 *   hemorrhage  bleeding: intracranial, intra-abdominal, haematoma
 *   device      a line, tube, implant or surgical material (its position)
 *
 * Ownership: rr_findings_parse() hands a new rr_findings to the caller, who
 * releases it with rr_findings_free() (which accepts NULL). The schema and
 * serialisation functions return new json-c objects owned by the caller
 * (json_object_put()).
 *
 * Thread-safety: every function is pure and may be called from any thread.
 */
#ifndef RR_AI_FINDINGS_H
#define RR_AI_FINDINGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/errors.h"

#define RR_FINDINGS_SUMMARY_MAX 4000
#define RR_FINDING_DESCRIPTION_MAX 2000
#define RR_FINDING_LOCATION_MAX 200
#define RR_FINDINGS_MAX 50
#define RR_FINDINGS_RECOMMENDATIONS_MAX 20
#define RR_FINDINGS_RECOMMENDATION_MAX 500
/* The largest answer text rr_findings_parse() looks at. */
#define RR_FINDINGS_TEXT_MAX (1024 * 1024)

/* Version of the schema and of its validation rules, for provenance. */
#define RR_FINDINGS_SCHEMA_VERSION "findings-2"

typedef enum rr_finding_category {
  RR_FINDING_ABNORMALITY = 0,
  RR_FINDING_NORMAL_VARIANT,
  RR_FINDING_ARTIFACT,
  RR_FINDING_INCIDENTAL,
  RR_FINDING_TECHNICAL,
  RR_FINDING_LESION,
  RR_FINDING_FRACTURE,
  RR_FINDING_HEMORRHAGE,
  RR_FINDING_DEVICE,
  RR_FINDING_CATEGORY_COUNT
} rr_finding_category;

typedef enum rr_finding_confidence {
  RR_CONFIDENCE_LOW = 0,
  RR_CONFIDENCE_MEDIUM,
  RR_CONFIDENCE_HIGH,
  RR_CONFIDENCE_COUNT
} rr_finding_confidence;

typedef enum rr_finding_severity {
  RR_SEVERITY_NORMAL = 0,
  RR_SEVERITY_MILD,
  RR_SEVERITY_MODERATE,
  RR_SEVERITY_SEVERE,
  RR_SEVERITY_CRITICAL,
  RR_SEVERITY_COUNT
} rr_finding_severity;

typedef struct rr_finding {
  rr_finding_category category;
  char *description; /* owned, never NULL in a parsed value */
  char *location;    /* owned, never NULL (may be "") */
  rr_finding_confidence confidence;
  rr_finding_severity severity;
} rr_finding;

typedef struct rr_findings {
  char *summary; /* owned */
  rr_finding *findings;
  size_t finding_count;
  char **recommendations; /* owned array of owned strings */
  size_t recommendation_count;
  rr_finding_confidence ai_confidence;
  bool has_ai_confidence_score; /* the model answered with a number */
  double ai_confidence_score;   /* that number, in [0, 1] */
} rr_findings;

/* The band of an overall confidence score in [0, 1]: below 0.4 low, below
 * 0.7 medium, else high (the same thresholds as the store's migration of
 * findings-1 analyses, Resources/sqlite/005_ai_confidence_band.sql). */
rr_finding_confidence rr_findings_confidence_band(double score);

/* The wire names of the enums ("abnormality", "medium", "critical", ...);
 * NULL for a value out of range. */
const char *rr_finding_category_name(rr_finding_category c);
const char *rr_finding_confidence_name(rr_finding_confidence c);
const char *rr_finding_severity_name(rr_finding_severity s);

/* Problems found in an answer, worded for a person and for a repair prompt:
 * "findings[2].severity: 'huge' is not one of normal, mild, moderate,
 * severe, critical". The first RR_FINDINGS_PROBLEMS_MAX are kept; `total`
 * counts them all. */
#define RR_FINDINGS_PROBLEMS_MAX 16
#define RR_FINDINGS_PROBLEM_SIZE 256
typedef struct rr_findings_problems {
  size_t count;
  size_t total;
  char items[RR_FINDINGS_PROBLEMS_MAX][RR_FINDINGS_PROBLEM_SIZE];
} rr_findings_problems;

/* Validate a model's answer text (len bytes, need not be NUL-terminated)
 * and build the findings. A surrounding Markdown code fence (```json ...
 * ```) and text around it are ignored.
 *
 * Returns 0 and *out (caller frees with rr_findings_free()); RR_EINVAL when
 * the answer is not acceptable: *out is NULL, `problems` (when not NULL)
 * lists every problem and err holds the first one with the count; RR_ENOMEM.
 * `problems` is reset by every call. */
int rr_findings_parse(rr_findings **out, rr_findings_problems *problems, const char *text, size_t len,
                      char *err, size_t errsize);

/* Join the problems, one "- problem" line each (plus "- ... and N more"),
 * into out. Returns RR_EFULL (out truncated at a character boundary) when
 * out is too small. */
int rr_findings_problems_join(char *out, size_t size, const rr_findings_problems *problems);

void rr_findings_free(rr_findings *f);

/* The findings as a JSON object in the answer's own shape (keys in schema
 * order). Returns 0, RR_EINVAL (an enum out of range, a NULL string) or
 * RR_ENOMEM. */
int rr_findings_to_json(json_object **out, const rr_findings *f, char *err, size_t errsize);

/* The answer schema for Gemini's generationConfig.responseSchema: the
 * OpenAPI 3.0 subset Gemini accepts (upper-case types, properties,
 * required, propertyOrdering, items, enum, maxItems, description; no
 * $schema, no additionalProperties). NULL when out of memory. */
json_object *rr_findings_schema_gemini(void);

/* The answer schema as JSON Schema for OpenAI-compatible
 * response_format {"type":"json_schema", ..., "strict": true}: every
 * object has additionalProperties false and lists all its properties as
 * required. Limits are stated in descriptions (strict mode does not accept
 * every keyword). NULL when out of memory. */
json_object *rr_findings_schema_openai(void);

#endif
