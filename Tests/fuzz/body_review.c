/*
 * body_review.c - fuzz target: the body of PUT ai/analysis/{id}/review
 * (reviewStatus, radiologistNotes, per-finding verdicts) through the route's
 * own steps before anything is stored: rr_reply_parse_body, review_fields,
 * feedback_of (against an analysis of N findings) and verdicts_fit_status;
 * and stored_finding_count over the same text as a stored findings JSON.
 *
 * The first byte gives N (0..RR_FINDINGS_MAX), the rest is the body. The
 * route's steps are static: this file includes api/ai_api.c and points its
 * context at one that accepts every call (errors are "answered" to nobody).
 *
 * Properties: accepted feedback has at most N entries, each index below N
 * and given once, each verdict one of the three words.
 */
#include "../../Plugin/api/ai_api.c"

#include "fuzz.h"

static void check_feedback(json_object *feedback, size_t n)
{
  bool seen[RR_FINDINGS_MAX] = {false};
  size_t i, len = json_object_array_length(feedback);

  RR_FUZZ_ASSERT(len <= n);
  for (i = 0; i < len; i++) {
    json_object *item = json_object_array_get_idx(feedback, i);
    int64_t index = json_object_get_int64(json_object_object_get(item, "index"));
    const char *verdict = json_object_get_string(json_object_object_get(item, "verdict"));
    RR_FUZZ_ASSERT(index >= 0 && (size_t)index < n && !seen[index]);
    seen[index] = true;
    RR_FUZZ_ASSERT(verdict != NULL && (strcmp(verdict, "accepted") == 0 || strcmp(verdict, "rejected") == 0 ||
                                       strcmp(verdict, "edited") == 0));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  OrthancPluginHttpRequest req;
  json_object *body, *v, *feedback = NULL;
  const char *status, *notes;
  char err[512] = "", *text;
  size_t n;

  if (size < 1)
    return 0;
  ctx = rr_fuzz_context();
  n = data[0] % (RR_FINDINGS_MAX + 1);
  text = rr_fuzz_string(data + 1, size - 1);
  RR_FUZZ_ASSERT(stored_finding_count(text) <= RR_FINDINGS_MAX);
  free(text);

  memset(&req, 0, sizeof(req));
  req.method = OrthancPluginHttpMethod_Put;
  req.body = data + 1;
  req.bodySize = (uint32_t)(size - 1);
  if ((body = rr_reply_parse_body(ctx, NULL, &req, MAX_BODY, 0)) == NULL)
    return 0;
  if (review_fields(&status, &notes, body, NULL)) {
    RR_FUZZ_ASSERT(strcmp(status, "confirmed") == 0 || strcmp(status, "rejected") == 0 ||
                   strcmp(status, "modified") == 0);
    RR_FUZZ_ASSERT(notes == NULL || strlen(notes) <= NOTES_MAX);
    if (json_object_object_get_ex(body, "findings", &v) && !json_object_is_type(v, json_type_null)) {
      if (feedback_of(&feedback, v, n, err, sizeof(err)) == 0)
        check_feedback(feedback, n);
      else
        RR_FUZZ_ASSERT(feedback == NULL && err[0] != '\0');
    }
    (void)verdicts_fit_status(feedback, status, NULL);
  }
  json_object_put(feedback);
  json_object_put(body);
  return 0;
}
