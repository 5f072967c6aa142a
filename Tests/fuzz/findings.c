/*
 * findings.c - fuzz target: a model's answer through the AI answer path:
 * the provider's HTTP body (rr_ai_gemini_parse, rr_ai_openai_parse, with
 * the first byte choosing the dialect and the HTTP status) and the answer
 * text through the findings validator (rr_findings_parse, ai/findings.h).
 *
 * Properties: accepted findings respect the schema's limits; their JSON
 * (rr_findings_to_json) is itself accepted and gives the same JSON again
 * (what is stored can always be read back); a refusal names a problem.
 */
#include "ai/findings.h"
#include "ai/wire.h"
#include "fuzz.h"

static void check_findings(const char *text, size_t len)
{
  rr_findings *f = NULL, *g = NULL;
  rr_findings_problems problems;
  json_object *j = NULL, *k = NULL;
  char err[256] = "", joined[1024];
  const char *s1, *s2;
  size_t i;

  if (rr_findings_parse(&f, &problems, text, len, err, sizeof(err)) != 0) {
    RR_FUZZ_ASSERT(f == NULL && problems.count > 0 && err[0] != '\0');
    (void)rr_findings_problems_join(joined, sizeof(joined), &problems);
    return;
  }
  RR_FUZZ_ASSERT(f != NULL && strlen(f->summary) >= 1 && strlen(f->summary) <= RR_FINDINGS_SUMMARY_MAX);
  RR_FUZZ_ASSERT(f->finding_count <= RR_FINDINGS_MAX && f->recommendation_count <= RR_FINDINGS_RECOMMENDATIONS_MAX);
  for (i = 0; i < f->finding_count; i++)
    RR_FUZZ_ASSERT(strlen(f->findings[i].description) <= RR_FINDING_DESCRIPTION_MAX &&
                   strlen(f->findings[i].location) <= RR_FINDING_LOCATION_MAX);
  RR_FUZZ_ASSERT(rr_findings_to_json(&j, f, err, sizeof(err)) == 0);
  s1 = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
  RR_FUZZ_ASSERT(rr_findings_parse(&g, NULL, s1, strlen(s1), err, sizeof(err)) == 0);
  RR_FUZZ_ASSERT(rr_findings_to_json(&k, g, err, sizeof(err)) == 0);
  s2 = json_object_to_json_string_ext(k, JSON_C_TO_STRING_PLAIN);
  RR_FUZZ_ASSERT(strcmp(s1, s2) == 0);
  json_object_put(j);
  json_object_put(k);
  rr_findings_free(f);
  rr_findings_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const int statuses[] = {200, 200, 200, 400, 429, 500, 503, 0};
  rr_ai_result r;
  char err[512];
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  int mode;

  if (size < 1)
    return 0;
  mode = data[0] & 3;
  if (mode == 0 || mode == 1) {
    memset(&r, 0, sizeof(r));
    err[0] = '\0';
    if (mode == 0)
      (void)rr_ai_gemini_parse(&r, statuses[(data[0] >> 2) & 7], body, len, err, sizeof(err));
    else
      (void)rr_ai_openai_parse(&r, statuses[(data[0] >> 2) & 7], body, len, err, sizeof(err));
    if (r.outcome == RR_AI_OK && r.text != NULL)
      check_findings(r.text, strlen(r.text));
    rr_ai_result_dispose(&r);
  } else {
    check_findings(body, len);
  }
  return 0;
}
