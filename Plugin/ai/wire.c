/*
 * wire.c - provider request bodies, response parsing, retry decisions.
 */
#include "util/json.h"
#include "ai/wire.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/findings.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/str.h"

/* ------------------------------------------------------------ requests */

/* Add val under key; takes ownership of val in every case. */
static bool mime_ok(const char *m)
{
  size_t i;

  if (!rr_str_starts_with(m, "image/") || strlen(m) > 64 || m[6] == '\0')
    return false;
  for (i = 6; m[i] != '\0'; i++)
    if (!((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= '0' && m[i] <= '9') || m[i] == '.' || m[i] == '+' ||
          m[i] == '-'))
      return false;
  return true;
}

static const char *image_mime(const rr_ai_image *img)
{
  return img->mime_type != NULL ? img->mime_type : "image/png";
}

/* Common checks, and a size estimate that stops a too large body before it
 * is built. */
static int check_request(const rr_ai_request *req, bool need_model, char *err, size_t errsize)
{
  size_t i, total;

  if (req == NULL || req->user_prompt == NULL || req->user_prompt[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "the request has no user prompt");
  if (need_model && (req->model == NULL || req->model[0] == '\0'))
    return rr_fail(err, errsize, RR_EINVAL, "the request names no model");
  if (!isfinite(req->temperature) || req->temperature < 0.0 || req->temperature > 2.0)
    return rr_fail(err, errsize, RR_EINVAL, "the temperature must be between 0 and 2");
  if (req->max_output_tokens <= 0)
    return rr_fail(err, errsize, RR_EINVAL, "the output token limit must be positive");
  if (req->image_count > 0 && req->images == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the request announces images but has none");
  total = strlen(req->user_prompt) + (req->system_prompt != NULL ? strlen(req->system_prompt) : 0);
  for (i = 0; i < req->image_count; i++) {
    if (req->images[i].data == NULL || req->images[i].size == 0)
      return rr_fail(err, errsize, RR_EINVAL, "image %zu is empty", i);
    if (!mime_ok(image_mime(&req->images[i])))
      return rr_fail(err, errsize, RR_EINVAL, "image %zu has an unusable media type", i);
    if (req->images[i].size > RR_AI_REQUEST_MAX)
      return rr_fail(err, errsize, RR_EFULL, "image %zu is too large for a request", i);
    total += 4 * ((req->images[i].size + 2) / 3) + 64;
    if (total >= RR_AI_REQUEST_MAX)
      return rr_fail(err, errsize, RR_EFULL, "the request would reach %d bytes", RR_AI_REQUEST_MAX);
  }
  return 0;
}

static json_object *text_part(const char *text)
{
  json_object *o = json_object_new_object();
  if (o != NULL && rr_json_add(o, "text", json_object_new_string(text)) != 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

static json_object *number(double v)
{
  char s[32];
  snprintf(s, sizeof(s), "%.4g", v);
  return json_object_new_double_s(v, s);
}

/* Serialise root into a malloc'd body without escaping '/' (base64 has
 * many). */
static int finish_body(char **out, size_t *outlen, json_object *root, char *err, size_t errsize)
{
  const char *s;
  size_t len = 0;

  s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  if (s == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while writing the request");
  if (len >= RR_AI_REQUEST_MAX)
    return rr_fail(err, errsize, RR_EFULL, "the request would reach %d bytes", RR_AI_REQUEST_MAX);
  if ((*out = malloc(len + 1)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while writing the request");
  memcpy(*out, s, len + 1);
  if (outlen != NULL)
    *outlen = len;
  return 0;
}

int rr_ai_gemini_request(char **out, size_t *outlen, const rr_ai_request *req, char *err, size_t errsize)
{
  static const char *const CATEGORIES[] = {"HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
                                           "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT"};
  static const char *const THRESHOLDS[] = {"BLOCK_NONE", "BLOCK_ONLY_HIGH", "BLOCK_MEDIUM_AND_ABOVE",
                                           "BLOCK_LOW_AND_ABOVE", "OFF"};
  json_object *root = NULL, *o, *parts, *arr, *content, *inl, *cfg, *set;
  const char *threshold;
  rr_buf b64;
  size_t i;
  bool known = false;
  int rc;

  *out = NULL;
  rr_buf_init(&b64, RR_AI_REQUEST_MAX);
  if ((rc = check_request(req, false, err, errsize)) != 0)
    return rc;
  threshold = req->safety_threshold != NULL ? req->safety_threshold : "BLOCK_ONLY_HIGH";
  for (i = 0; i < sizeof(THRESHOLDS) / sizeof(THRESHOLDS[0]); i++)
    known = known || strcmp(threshold, THRESHOLDS[i]) == 0;
  if (!known)
    return rr_fail(err, errsize, RR_EINVAL, "unknown Gemini safety threshold");

  if ((root = json_object_new_object()) == NULL)
    goto nomem;
  if (req->system_prompt != NULL && req->system_prompt[0] != '\0') {
    if ((o = json_object_new_object()) == NULL || rr_json_add(root, "system_instruction", o) != 0)
      goto nomem;
    if ((parts = json_object_new_array()) == NULL || rr_json_add(o, "parts", parts) != 0 ||
        rr_json_push(parts, text_part(req->system_prompt)) != 0)
      goto nomem;
  }
  if ((arr = json_object_new_array()) == NULL || rr_json_add(root, "contents", arr) != 0)
    goto nomem;
  if ((content = json_object_new_object()) == NULL || rr_json_push(arr, content) != 0 ||
      rr_json_add(content, "role", json_object_new_string("user")) != 0)
    goto nomem;
  if ((parts = json_object_new_array()) == NULL || rr_json_add(content, "parts", parts) != 0 ||
      rr_json_push(parts, text_part(req->user_prompt)) != 0)
    goto nomem;
  for (i = 0; i < req->image_count; i++) {
    rr_buf_clear(&b64);
    if (rr_base64_encode(&b64, req->images[i].data, req->images[i].size) != 0)
      goto nomem;
    if ((o = json_object_new_object()) == NULL || rr_json_push(parts, o) != 0)
      goto nomem;
    if ((inl = json_object_new_object()) == NULL || rr_json_add(o, "inline_data", inl) != 0 ||
        rr_json_add(inl, "mime_type", json_object_new_string(image_mime(&req->images[i]))) != 0 ||
        rr_json_add(inl, "data", json_object_new_string_len(b64.ptr, (int)b64.len)) != 0)
      goto nomem;
  }
  if ((cfg = json_object_new_object()) == NULL || rr_json_add(root, "generationConfig", cfg) != 0 ||
      rr_json_add(cfg, "temperature", number(req->temperature)) != 0 ||
      rr_json_add(cfg, "maxOutputTokens", json_object_new_int(req->max_output_tokens)) != 0 ||
      rr_json_add(cfg, "responseMimeType", json_object_new_string("application/json")) != 0 ||
      rr_json_add(cfg, "responseSchema", rr_findings_schema_gemini()) != 0)
    goto nomem;
  if ((arr = json_object_new_array()) == NULL || rr_json_add(root, "safetySettings", arr) != 0)
    goto nomem;
  for (i = 0; i < sizeof(CATEGORIES) / sizeof(CATEGORIES[0]); i++) {
    if ((set = json_object_new_object()) == NULL || rr_json_push(arr, set) != 0 ||
        rr_json_add(set, "category", json_object_new_string(CATEGORIES[i])) != 0 ||
        rr_json_add(set, "threshold", json_object_new_string(threshold)) != 0)
      goto nomem;
  }
  rc = finish_body(out, outlen, root, err, errsize);
  json_object_put(root);
  rr_buf_dispose(&b64);
  return rc;

nomem:
  rr_buf_dispose(&b64);
  json_object_put(root);
  return rr_fail(err, errsize, RR_ENOMEM, "out of memory while writing the request");
}

int rr_ai_openai_request(char **out, size_t *outlen, const rr_ai_request *req, char *err, size_t errsize)
{
  json_object *root = NULL, *msgs, *m, *parts, *p, *url, *fmt, *js;
  rr_buf data;
  size_t i;
  int rc;

  *out = NULL;
  rr_buf_init(&data, RR_AI_REQUEST_MAX);
  if ((rc = check_request(req, true, err, errsize)) != 0)
    return rc;

  if ((root = json_object_new_object()) == NULL || rr_json_add(root, "model", json_object_new_string(req->model)) != 0)
    goto nomem;
  if ((msgs = json_object_new_array()) == NULL || rr_json_add(root, "messages", msgs) != 0)
    goto nomem;
  if (req->system_prompt != NULL && req->system_prompt[0] != '\0') {
    if ((m = json_object_new_object()) == NULL || rr_json_push(msgs, m) != 0 ||
        rr_json_add(m, "role", json_object_new_string("system")) != 0 ||
        rr_json_add(m, "content", json_object_new_string(req->system_prompt)) != 0)
      goto nomem;
  }
  if ((m = json_object_new_object()) == NULL || rr_json_push(msgs, m) != 0 ||
      rr_json_add(m, "role", json_object_new_string("user")) != 0)
    goto nomem;
  if ((parts = json_object_new_array()) == NULL || rr_json_add(m, "content", parts) != 0)
    goto nomem;
  if ((p = text_part(req->user_prompt)) == NULL || rr_json_push(parts, p) != 0 ||
      rr_json_add(p, "type", json_object_new_string("text")) != 0)
    goto nomem;
  for (i = 0; i < req->image_count; i++) {
    rr_buf_clear(&data);
    if (rr_buf_printf(&data, "data:%s;base64,", image_mime(&req->images[i])) != 0 ||
        rr_base64_encode(&data, req->images[i].data, req->images[i].size) != 0)
      goto nomem;
    if ((p = json_object_new_object()) == NULL || rr_json_push(parts, p) != 0 ||
        rr_json_add(p, "type", json_object_new_string("image_url")) != 0)
      goto nomem;
    if ((url = json_object_new_object()) == NULL || rr_json_add(p, "image_url", url) != 0 ||
        rr_json_add(url, "url", json_object_new_string_len(data.ptr, (int)data.len)) != 0)
      goto nomem;
  }
  if (rr_json_add(root, "temperature", number(req->temperature)) != 0 ||
      rr_json_add(root, "max_tokens", json_object_new_int(req->max_output_tokens)) != 0)
    goto nomem;
  if ((fmt = json_object_new_object()) == NULL || rr_json_add(root, "response_format", fmt) != 0 ||
      rr_json_add(fmt, "type", json_object_new_string("json_schema")) != 0)
    goto nomem;
  if ((js = json_object_new_object()) == NULL || rr_json_add(fmt, "json_schema", js) != 0 ||
      rr_json_add(js, "name", json_object_new_string("findings")) != 0 ||
      rr_json_add(js, "schema", rr_findings_schema_openai()) != 0 || rr_json_add(js, "strict", json_object_new_boolean(1)) != 0)
    goto nomem;
  rc = finish_body(out, outlen, root, err, errsize);
  json_object_put(root);
  rr_buf_dispose(&data);
  return rc;

nomem:
  json_object_put(root);
  rr_buf_dispose(&data);
  return rr_fail(err, errsize, RR_ENOMEM, "out of memory while writing the request");
}

/* ------------------------------------------------------------ results */

void rr_ai_result_dispose(rr_ai_result *result)
{
  if (result == NULL)
    return;
  free(result->text);
  result->text = NULL;
}

const char *rr_ai_outcome_name(rr_ai_outcome outcome)
{
  switch (outcome) {
  case RR_AI_OK:
    return "ok";
  case RR_AI_BLOCKED:
    return "blocked";
  case RR_AI_SAFETY:
    return "safety";
  case RR_AI_TRUNCATED:
    return "truncated";
  case RR_AI_REFUSED:
    return "refused";
  case RR_AI_ERROR:
    return "error";
  }
  return "unknown";
}

bool rr_ai_status_retryable(int http_status)
{
  switch (http_status) {
  case 0:
  case 408:
  case 429:
  case 500:
  case 502:
  case 503:
  case 504:
    return true;
  default:
    return false;
  }
}

static void result_reset(rr_ai_result *r, int http_status)
{
  memset(r, 0, sizeof(*r));
  r->http_status = http_status;
  r->prompt_tokens = r->output_tokens = r->total_tokens = -1;
  r->retry_after_ms = -1;
  r->outcome = RR_AI_ERROR;
}

/* Copy a string member of obj into a fixed field ("" when absent). */
static void copy_member(char *dst, size_t size, json_object *obj, const char *key)
{
  json_object *v = NULL;

  if (json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
    rr_str_copy(dst, size, json_object_get_string(v));
  else if (v != NULL && (json_object_is_type(v, json_type_int)))
    snprintf(dst, size, "%lld", (long long)json_object_get_int64(v));
}

static int64_t int_member(json_object *obj, const char *key)
{
  json_object *v;

  if (json_object_object_get_ex(obj, key, &v) &&
      (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
    return json_object_get_int64(v);
  return -1;
}

static json_object *member(json_object *obj, const char *key, json_type type)
{
  json_object *v = NULL;

  if (obj != NULL && json_object_is_type(obj, json_type_object) && json_object_object_get_ex(obj, key, &v) &&
      json_object_is_type(v, type))
    return v;
  return NULL;
}

static json_object *parse_body(const char *body, size_t len)
{
  json_tokener *tok;
  json_object *root;

  if (body == NULL || len == 0 || len > (size_t)RR_AI_REQUEST_MAX * 2 || (tok = json_tokener_new()) == NULL)
    return NULL;
  root = json_tokener_parse_ex(tok, body, (int)len);
  if (json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(root);
    root = NULL;
  }
  json_tokener_free(tok);
  return root;
}

/* The final sentence for a non-OK outcome. */
static int upstream(rr_ai_result *r, char *err, size_t errsize, const char *what)
{
  if (r->message[0] != '\0')
    return rr_fail(err, errsize, RR_EUPSTREAM, "%s (HTTP %d): %s", what, r->http_status, r->message);
  return rr_fail(err, errsize, RR_EUPSTREAM, "%s (HTTP %d)", what, r->http_status);
}

static int unreadable(rr_ai_result *r, char *err, size_t errsize)
{
  r->outcome = RR_AI_ERROR;
  r->retryable = rr_ai_status_retryable(r->http_status);
  if (r->http_status == 0)
    return rr_fail(err, errsize, RR_EUPSTREAM, "the AI provider did not answer");
  return upstream(r, err, errsize, "the AI provider's answer is not readable JSON");
}

/* "47s", "1.5s" -> milliseconds; -1 when not a duration. */
static int64_t duration_ms(const char *s)
{
  int64_t ms = 0, frac = 0;
  int digits = 0, fdigits = 0;

  for (; *s >= '0' && *s <= '9' && digits < 9; s++, digits++)
    ms = ms * 10 + (*s - '0');
  if (digits == 0)
    return -1;
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++, fdigits++)
      if (fdigits < 3)
        frac = frac * 10 + (*s - '0');
    for (; fdigits < 3; fdigits++)
      frac *= 10;
  }
  if (strcmp(s, "s") != 0)
    return -1;
  return ms * 1000 + frac;
}

static void google_error(rr_ai_result *r, json_object *e)
{
  json_object *details, *d, *type, *v, *violations;
  size_t i, j;

  copy_member(r->error_status, sizeof(r->error_status), e, "status");
  copy_member(r->message, sizeof(r->message), e, "message");
  details = member(e, "details", json_type_array);
  for (i = 0; details != NULL && i < json_object_array_length(details); i++) {
    d = json_object_array_get_idx(details, i);
    if ((type = member(d, "@type", json_type_string)) == NULL)
      continue;
    if (rr_str_ends_with(json_object_get_string(type), "google.rpc.RetryInfo") &&
        (v = member(d, "retryDelay", json_type_string)) != NULL)
      r->retry_after_ms = duration_ms(json_object_get_string(v));
    if (rr_str_ends_with(json_object_get_string(type), "google.rpc.QuotaFailure") &&
        (violations = member(d, "violations", json_type_array)) != NULL) {
      for (j = 0; j < json_object_array_length(violations); j++) {
        v = member(json_object_array_get_idx(violations, j), "quotaId", json_type_string);
        if (v != NULL && strstr(json_object_get_string(v), "PerDay") != NULL)
          r->quota_per_day = true;
      }
    }
  }
}

static bool status_ok(int s)
{
  return s >= 200 && s < 300;
}

/* Where each dialect puts the model version and the token counts. */
typedef struct usage_keys {
  const char *model, *usage, *prompt, *output, *total;
} usage_keys;

static const usage_keys gemini_keys = {"modelVersion", "usageMetadata", "promptTokenCount", "candidatesTokenCount",
                                       "totalTokenCount"};
static const usage_keys openai_keys = {"model", "usage", "prompt_tokens", "completion_tokens", "total_tokens"};

static void read_usage(rr_ai_result *r, json_object *root, const usage_keys *k)
{
  json_object *usage;

  copy_member(r->model_version, sizeof(r->model_version), root, k->model);
  if ((usage = member(root, k->usage, json_type_object)) != NULL) {
    r->prompt_tokens = int_member(usage, k->prompt);
    r->output_tokens = int_member(usage, k->output);
    r->total_tokens = int_member(usage, k->total);
  }
}

/* An error answer (its fields read already): retried only for transient
 * statuses and never for an exhausted quota. */
static int error_answer(rr_ai_result *r, int http_status, char *err, size_t errsize)
{
  r->outcome = RR_AI_ERROR;
  r->retryable = rr_ai_status_retryable(http_status) && !r->quota_per_day;
  return upstream(r, err, errsize, "the AI provider answered with an error");
}

/* How a finish reason ends an answer. The first rule whose reason matches
 * decides; a NULL reason matches any non-empty one. RR_AI_OK is the normal
 * end: the answer is its text, if it has one. No rule matching is the same. */
typedef struct finish_rule {
  const char *reason;
  rr_ai_outcome outcome;
  const char *message; /* why the answer is not usable */
  bool with_reason;    /* the message names the finish reason */
} finish_rule;

#define GEMINI_STOPPED(reason) {reason, RR_AI_SAFETY, "the AI provider stopped the answer", true}
#define CUT_AT_LIMIT "the AI answer was cut at the output token limit"

static const finish_rule gemini_finish[] = {
    GEMINI_STOPPED("SAFETY"),
    GEMINI_STOPPED("RECITATION"),
    GEMINI_STOPPED("PROHIBITED_CONTENT"),
    GEMINI_STOPPED("SPII"),
    GEMINI_STOPPED("BLOCKLIST"),
    GEMINI_STOPPED("IMAGE_SAFETY"),
    GEMINI_STOPPED("IMAGE_PROHIBITED_CONTENT"),
    {"MAX_TOKENS", RR_AI_TRUNCATED, CUT_AT_LIMIT, false},
    {"STOP", RR_AI_OK, NULL, false},
    {NULL, RR_AI_ERROR, "the AI model stopped early", true},
};

static const finish_rule openai_finish[] = {
    {"length", RR_AI_TRUNCATED, CUT_AT_LIMIT, false},
    {"content_filter", RR_AI_SAFETY, "the AI provider's content filter stopped the answer", false},
};

#undef GEMINI_STOPPED
#undef CUT_AT_LIMIT

/* The outcome of an answer from its finish reason (r->finish_reason) under
 * a dialect's `rules`, and its text (r->text, read already). */
static int finish_answer(rr_ai_result *r, const finish_rule *rules, size_t nrules, char *err, size_t errsize)
{
  size_t i;

  for (i = 0; i < nrules; i++) {
    const finish_rule *f = &rules[i];
    if (f->reason != NULL ? strcmp(r->finish_reason, f->reason) != 0 : r->finish_reason[0] == '\0')
      continue;
    if (f->outcome == RR_AI_OK)
      break;
    r->outcome = f->outcome;
    if (f->with_reason)
      return rr_fail(err, errsize, RR_EUPSTREAM, "%s (%s)", f->message, r->finish_reason);
    return rr_fail(err, errsize, RR_EUPSTREAM, "%s", f->message);
  }
  if (r->text == NULL) {
    r->outcome = RR_AI_ERROR;
    return upstream(r, err, errsize, "the AI provider's answer has no text");
  }
  r->outcome = RR_AI_OK;
  return 0;
}

/* The end of reading an answer's text: `rc` is how appending it to `text`
 * went (RR_ENOMEM, or another error when it is longer than the buffer
 * allows); then the text, if any, moves to r->text. */
static int take_text(rr_ai_result *r, rr_buf *text, int rc, char *err, size_t errsize)
{
  if (rc == RR_ENOMEM)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while reading the AI answer");
  if (rc != 0) {
    r->outcome = RR_AI_ERROR;
    return upstream(r, err, errsize, "the AI provider's answer is too long");
  }
  if (text->len > 0 && rr_buf_detach(&r->text, text) != 0)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while reading the AI answer");
  return 0;
}

/* The error object of a Gemini answer, or NULL; an answer that is an
 * array has it in its first element. */
static json_object *gemini_error(json_object *root)
{
  if (json_object_is_type(root, json_type_array) && json_object_array_length(root) > 0)
    return member(json_object_array_get_idx(root, 0), "error", json_type_object);
  return member(root, "error", json_type_object);
}

/* A Gemini answer without candidates: the prompt was blocked, or an error. */
static int gemini_no_candidates(rr_ai_result *r, json_object *root, char *err, size_t errsize)
{
  json_object *fb = member(root, "promptFeedback", json_type_object);
  json_object *v = member(fb, "blockReason", json_type_string);

  if (v == NULL) {
    r->outcome = RR_AI_ERROR;
    return upstream(r, err, errsize, "the AI provider's answer has no candidates");
  }
  r->outcome = RR_AI_BLOCKED;
  rr_str_copy(r->finish_reason, sizeof(r->finish_reason), json_object_get_string(v));
  copy_member(r->message, sizeof(r->message), fb, "blockReasonMessage");
  return rr_fail(err, errsize, RR_EUPSTREAM, "the AI provider blocked the prompt (%s)", r->finish_reason);
}

/* Append the text parts of Gemini candidate `cand` to `text`, leaving out
 * the model's thoughts. 0, or the error of rr_buf_append. */
static int gemini_text(rr_buf *text, json_object *cand)
{
  json_object *parts = member(member(cand, "content", json_type_object), "parts", json_type_array), *part, *v;
  size_t i;
  int rc;

  for (i = 0; parts != NULL && i < json_object_array_length(parts); i++) {
    part = json_object_array_get_idx(parts, i);
    if ((v = member(part, "thought", json_type_boolean)) != NULL && json_object_get_boolean(v))
      continue;
    if ((v = member(part, "text", json_type_string)) == NULL)
      continue;
    if ((rc = rr_buf_append(text, json_object_get_string(v), (size_t)json_object_get_string_len(v))) != 0)
      return rc;
  }
  return 0;
}

int rr_ai_gemini_parse(rr_ai_result *r, int http_status, const char *body, size_t len, char *err, size_t errsize)
{
  json_object *root, *e, *cands, *cand;
  rr_buf text;
  int rc;

  result_reset(r, http_status);
  rr_buf_init(&text, RR_AI_TEXT_MAX);
  if ((root = parse_body(body, len)) == NULL)
    return unreadable(r, err, errsize);
  e = gemini_error(root);
  if (e != NULL || !status_ok(http_status)) {
    if (e != NULL)
      google_error(r, e);
    rc = error_answer(r, http_status, err, errsize);
    goto done;
  }
  read_usage(r, root, &gemini_keys);
  cands = member(root, "candidates", json_type_array);
  if (cands == NULL || json_object_array_length(cands) == 0) {
    rc = gemini_no_candidates(r, root, err, errsize);
    goto done;
  }
  cand = json_object_array_get_idx(cands, 0);
  copy_member(r->finish_reason, sizeof(r->finish_reason), cand, "finishReason");
  if ((rc = take_text(r, &text, gemini_text(&text, cand), err, errsize)) != 0)
    goto done;
  rc = finish_answer(r, gemini_finish, sizeof(gemini_finish) / sizeof(gemini_finish[0]), err, errsize);

done:
  rr_buf_dispose(&text);
  json_object_put(root);
  return rc;
}

/* Text of an OpenAI message content: a string or an array of text parts. */
static int openai_content(rr_buf *text, json_object *content)
{
  json_object *v;
  size_t i;
  int rc = 0;

  if (json_object_is_type(content, json_type_string))
    return rr_buf_append(text, json_object_get_string(content), (size_t)json_object_get_string_len(content));
  for (i = 0; rc == 0 && json_object_is_type(content, json_type_array) && i < json_object_array_length(content);
       i++)
    if ((v = member(json_object_array_get_idx(content, i), "text", json_type_string)) != NULL)
      rc = rr_buf_append(text, json_object_get_string(v), (size_t)json_object_get_string_len(v));
  return rc;
}

int rr_ai_openai_parse(rr_ai_result *r, int http_status, const char *body, size_t len, char *err, size_t errsize)
{
  json_object *root, *e, *choices, *msg, *v;
  rr_buf text;
  char code[64] = "";
  int rc;

  result_reset(r, http_status);
  rr_buf_init(&text, RR_AI_TEXT_MAX);
  if ((root = parse_body(body, len)) == NULL)
    return unreadable(r, err, errsize);
  e = member(root, "error", json_type_object);
  if (e == NULL && (v = member(root, "object", json_type_string)) != NULL &&
      strcmp(json_object_get_string(v), "error") == 0)
    e = root; /* vLLM's flat error */
  if (e != NULL || member(root, "error", json_type_string) != NULL || !status_ok(http_status)) {
    if (e != NULL) {
      copy_member(r->message, sizeof(r->message), e, "message");
      copy_member(r->error_status, sizeof(r->error_status), e, "type");
      copy_member(code, sizeof(code), e, "code");
    } else {
      copy_member(r->message, sizeof(r->message), root, "error");
    }
    /* OpenAI's 429 "insufficient_quota" is billing, not rate: no retry */
    r->quota_per_day = strcmp(code, "insufficient_quota") == 0;
    rc = error_answer(r, http_status, err, errsize);
    goto done;
  }
  read_usage(r, root, &openai_keys);
  choices = member(root, "choices", json_type_array);
  if (choices == NULL || json_object_array_length(choices) == 0) {
    r->outcome = RR_AI_ERROR;
    rc = upstream(r, err, errsize, "the AI provider's answer has no choices");
    goto done;
  }
  copy_member(r->finish_reason, sizeof(r->finish_reason), json_object_array_get_idx(choices, 0), "finish_reason");
  msg = member(json_object_array_get_idx(choices, 0), "message", json_type_object);
  if ((v = member(msg, "refusal", json_type_string)) != NULL && json_object_get_string_len(v) > 0) {
    r->outcome = RR_AI_REFUSED;
    rr_str_copy(r->message, sizeof(r->message), json_object_get_string(v));
    if ((rc = rr_buf_append(&text, json_object_get_string(v), (size_t)json_object_get_string_len(v))) == 0)
      rc = rr_buf_detach(&r->text, &text);
    if (rc == RR_ENOMEM) {
      rc = rr_fail(err, errsize, RR_ENOMEM, "out of memory while reading the AI answer");
      goto done;
    }
    rc = rr_fail(err, errsize, RR_EUPSTREAM, "the AI model refused: %s", r->message);
    goto done;
  }
  rc = json_object_object_get_ex(msg, "content", &v) ? openai_content(&text, v) : 0;
  if ((rc = take_text(r, &text, rc, err, errsize)) != 0)
    goto done;
  rc = finish_answer(r, openai_finish, sizeof(openai_finish) / sizeof(openai_finish[0]), err, errsize);

done:
  rr_buf_dispose(&text);
  json_object_put(root);
  return rc;
}

/* -------------------------------------------------------------- retries */

int64_t rr_ai_retry_after_ms(const char *header)
{
  int64_t v = 0;
  int digits = 0;

  if (header == NULL)
    return -1;
  while (*header == ' ' || *header == '\t')
    header++;
  for (; *header >= '0' && *header <= '9'; header++) {
    if (++digits > 9)
      return -1;
    v = v * 10 + (*header - '0');
  }
  while (*header == ' ' || *header == '\t')
    header++;
  if (digits == 0 || *header != '\0')
    return -1;
  return v * 1000;
}

int64_t rr_ai_backoff_ms(const rr_ai_backoff *policy, unsigned attempt, double random01)
{
  int64_t d, cap, half;
  unsigned i;

  if (policy == NULL || policy->base_ms <= 0)
    return 0;
  cap = policy->max_ms > 0 ? policy->max_ms : policy->base_ms;
  d = policy->base_ms < cap ? policy->base_ms : cap;
  for (i = 1; i < attempt && d < cap; i++)
    d = d > cap / 2 ? cap : d * 2;
  if (!(random01 >= 0.0)) /* NaN too */
    random01 = 0.0;
  if (random01 >= 1.0)
    random01 = 0.999999;
  half = d / 2;
  return half + (int64_t)(random01 * (double)(d - half));
}

bool rr_ai_retry_decide(int64_t *delay_ms, const rr_ai_backoff *policy, const rr_ai_result *result,
                        const char *retry_after, unsigned attempt, double random01)
{
  int64_t d;

  *delay_ms = 0;
  if (policy == NULL || result == NULL || !result->retryable || result->quota_per_day ||
      attempt >= policy->max_attempts)
    return false;
  if ((d = rr_ai_retry_after_ms(retry_after)) < 0 && (d = result->retry_after_ms) < 0)
    d = rr_ai_backoff_ms(policy, attempt, random01);
  if (policy->max_wait_ms > 0 && d > policy->max_wait_ms)
    return false;
  *delay_ms = d;
  return true;
}
