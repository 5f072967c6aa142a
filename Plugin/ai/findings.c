/*
 * findings.c - validation, serialisation and schemas of the AI findings.
 */
#include "util/json.h"
#include "ai/findings.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"

static const char *const CATEGORY_NAMES[] = {"abnormality", "normal_variant", "artifact", "incidental",
                                             "technical",   "lesion",         "fracture", "hemorrhage",
                                             "device"};
static const char *const CONFIDENCE_NAMES[] = {"low", "medium", "high"};
static const char *const SEVERITY_NAMES[] = {"normal", "mild", "moderate", "severe", "critical"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *rr_finding_category_name(rr_finding_category c)
{
  return (unsigned)c < COUNT(CATEGORY_NAMES) ? CATEGORY_NAMES[c] : NULL;
}

const char *rr_finding_confidence_name(rr_finding_confidence c)
{
  return (unsigned)c < COUNT(CONFIDENCE_NAMES) ? CONFIDENCE_NAMES[c] : NULL;
}

rr_finding_confidence rr_findings_confidence_band(double score)
{
  if (!(score >= 0.4))
    return RR_CONFIDENCE_LOW;
  return score < 0.7 ? RR_CONFIDENCE_MEDIUM : RR_CONFIDENCE_HIGH;
}

const char *rr_finding_severity_name(rr_finding_severity s)
{
  return (unsigned)s < COUNT(SEVERITY_NAMES) ? SEVERITY_NAMES[s] : NULL;
}

/* ------------------------------------------------------------ problems */

static void problem(rr_findings_problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(rr_findings_problems *p, const char *fmt, ...)
{
  va_list ap;

  if (p->count < RR_FINDINGS_PROBLEMS_MAX) {
    va_start(ap, fmt);
    vsnprintf(p->items[p->count], RR_FINDINGS_PROBLEM_SIZE, fmt, ap);
    va_end(ap);
    /* never leave half a UTF-8 sequence at the end of a truncated line */
    p->items[p->count][rr_utf8_valid_prefix(p->items[p->count], strlen(p->items[p->count]))] = '\0';
    p->count++;
  }
  p->total++;
}

/* A short, printable, valid UTF-8 quotation of a value for a message. */
static void quote(char out[64], const char *s, size_t len)
{
  size_t n = rr_utf8_valid_prefix(s, len), i;
  bool cut = n < len;

  if (n > 40) {
    n = rr_str_copyn(out, 41, s, n);
    cut = true;
  } else {
    n = rr_str_copyn(out, 64, s, n);
  }
  for (i = 0; i < n; i++)
    if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
      out[i] = ' ';
  if (cut)
    memcpy(out + n, "...", 4);
}

static const char *type_name(json_object *v)
{
  switch (json_object_get_type(v)) {
  case json_type_null:
    return "null";
  case json_type_boolean:
    return "a boolean";
  case json_type_double:
  case json_type_int:
    return "a number";
  case json_type_object:
    return "an object";
  case json_type_array:
    return "an array";
  case json_type_string:
    return "a string";
  }
  return "an unknown value";
}

int rr_findings_problems_join(char *out, size_t size, const rr_findings_problems *problems)
{
  size_t i, used = 0;
  int n;

  if (out == NULL || size == 0 || problems == NULL)
    return RR_EINVAL;
  out[0] = '\0';
  for (i = 0; i <= problems->count; i++) {
    if (i < problems->count)
      n = snprintf(out + used, size - used, "- %s\n", problems->items[i]);
    else if (problems->total > problems->count)
      n = snprintf(out + used, size - used, "- ... and %zu more\n", problems->total - problems->count);
    else
      break;
    if (n < 0 || (size_t)n >= size - used) {
      out[rr_utf8_valid_prefix(out, strlen(out))] = '\0';
      return RR_EFULL;
    }
    used += (size_t)n;
  }
  return 0;
}

/* ------------------------------------------------------------ parsing */

static const char *find3(const char *b, const char *e, const char *needle)
{
  for (; b + 3 <= e; b++)
    if (b[0] == needle[0] && b[1] == needle[1] && b[2] == needle[2])
      return b;
  return NULL;
}

static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Narrow [*b, *e) to the JSON inside a Markdown code fence, if any. */
static void strip_fence(const char **b, const char **e)
{
  const char *s = *b, *end = *e, *fence, *close;

  while (s < end && is_space(*s))
    s++;
  while (end > s && is_space(end[-1]))
    end--;
  fence = (s < end && *s != '{') ? find3(s, end, "```") : NULL;
  if (fence != NULL) {
    s = fence + 3;
    while (s < end && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
      s++; /* the info string: json, JSON */
    close = find3(s, end, "```");
    if (close != NULL)
      end = close;
    while (s < end && is_space(*s))
      s++;
    while (end > s && is_space(end[-1]))
      end--;
  }
  *b = s;
  *e = end;
}

static char *dup_n(const char *s, size_t n)
{
  char *p = malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* Check a string value; copy it into *dst when dst is not NULL. Returns 0
 * (valid or problem recorded) or RR_ENOMEM. */
static int take_string(char **dst, rr_findings_problems *p, const char *path, json_object *v, size_t minlen,
                       size_t maxlen)
{
  const char *s;
  size_t len;

  if (!json_object_is_type(v, json_type_string)) {
    problem(p, "%s: expected a string, found %s", path, type_name(v));
    return 0;
  }
  s = json_object_get_string(v);
  len = (size_t)json_object_get_string_len(v);
  if (rr_utf8_valid_prefix(s, len) != len) {
    problem(p, "%s: is not valid UTF-8", path);
    return 0;
  }
  if (strlen(s) != len) {
    problem(p, "%s: contains a NUL character", path);
    return 0;
  }
  if (len < minlen) {
    problem(p, "%s: must not be empty", path);
    return 0;
  }
  if (len > maxlen) {
    problem(p, "%s: is %zu bytes long, the limit is %zu", path, len, maxlen);
    return 0;
  }
  if (dst != NULL && (*dst = dup_n(s, len)) == NULL)
    return RR_ENOMEM;
  return 0;
}

/* Check an enum value; store its index in *dst. */
static void take_enum(int *dst, rr_findings_problems *p, const char *path, json_object *v,
                      const char *const *names, size_t count)
{
  char q[64], list[128] = "";
  const char *s;
  size_t i, len;

  if (!json_object_is_type(v, json_type_string)) {
    problem(p, "%s: expected a string, found %s", path, type_name(v));
    return;
  }
  s = json_object_get_string(v);
  len = (size_t)json_object_get_string_len(v);
  for (i = 0; i < count; i++) {
    if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0) {
      *dst = (int)i;
      return;
    }
  }
  for (i = 0; i < count; i++) {
    size_t used = strlen(list);
    snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", names[i]);
  }
  quote(q, s, len);
  problem(p, "%s: '%s' is not one of %s", path, q, list);
}

/* Report keys of obj that are not in `allowed`. */
static void unknown_keys(rr_findings_problems *p, const char *prefix, json_object *obj, const char *const *allowed,
                         size_t count)
{
  char q[64], list[160] = "";
  size_t i, used;
  bool known;

  for (i = 0; i < count; i++) {
    used = strlen(list);
    snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", allowed[i]);
  }
  json_object_object_foreach(obj, key, val) {
    (void)val;
    known = false;
    for (i = 0; i < count && !known; i++)
      known = strcmp(key, allowed[i]) == 0;
    if (!known) {
      quote(q, key, strlen(key));
      problem(p, "%s%s%s: unknown key (allowed: %s)", prefix, *prefix ? "." : "", q, list);
    }
  }
}

/* The overall confidence: a band in any letter case, or a score in [0, 1]
 * mapped to its band (findings.h says why). */
static void take_ai_confidence(rr_findings *f, rr_findings_problems *p, json_object *v)
{
  char q[64];
  const char *s;
  size_t i, len;
  double d;

  if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
    d = json_object_get_double(v);
    if (!isfinite(d) || d < 0.0 || d > 1.0) {
      problem(p, "ai_confidence: %g is not between 0 and 1", d);
      return;
    }
    f->ai_confidence = rr_findings_confidence_band(d);
    f->has_ai_confidence_score = true;
    f->ai_confidence_score = d;
    return;
  }
  if (!json_object_is_type(v, json_type_string)) {
    problem(p, "ai_confidence: expected one of low, medium, high, found %s", type_name(v));
    return;
  }
  s = json_object_get_string(v);
  len = (size_t)json_object_get_string_len(v);
  for (i = 0; i < COUNT(CONFIDENCE_NAMES); i++) {
    if (strlen(CONFIDENCE_NAMES[i]) == len && strncasecmp(CONFIDENCE_NAMES[i], s, len) == 0 &&
        strlen(s) == len) {
      f->ai_confidence = (rr_finding_confidence)i;
      return;
    }
  }
  quote(q, s, len);
  problem(p, "ai_confidence: '%s' is not one of low, medium, high", q);
}

static const char *const TOP_KEYS[] = {"summary", "findings", "recommendations", "ai_confidence"};
static const char *const FINDING_KEYS[] = {"category", "description", "location", "confidence", "severity"};

/* Find key in obj into *v (a JSON null is a NULL object); false when the
 * key is missing, recorded as a problem. */
static bool get_key(json_object **v, rr_findings_problems *p, const char *prefix, json_object *obj,
                    const char *key)
{
  *v = NULL;
  if (!json_object_object_get_ex(obj, key, v)) {
    problem(p, "%s%s%s: is missing", prefix, *prefix ? "." : "", key);
    return false;
  }
  return true;
}

static int take_finding(rr_finding *f, rr_findings_problems *p, size_t index, json_object *obj)
{
  char prefix[32], path[64];
  json_object *v;
  int rc, e;

  snprintf(prefix, sizeof(prefix), "findings[%zu]", index);
  if (!json_object_is_type(obj, json_type_object)) {
    problem(p, "%s: expected an object, found %s", prefix, type_name(obj));
    return 0;
  }
  unknown_keys(p, prefix, obj, FINDING_KEYS, COUNT(FINDING_KEYS));
  if (get_key(&v, p, prefix, obj, "category")) {
    snprintf(path, sizeof(path), "%s.category", prefix);
    e = 0;
    take_enum(&e, p, path, v, CATEGORY_NAMES, COUNT(CATEGORY_NAMES));
    f->category = (rr_finding_category)e;
  }
  if (get_key(&v, p, prefix, obj, "description")) {
    snprintf(path, sizeof(path), "%s.description", prefix);
    if ((rc = take_string(&f->description, p, path, v, 1, RR_FINDING_DESCRIPTION_MAX)) != 0)
      return rc;
  }
  if (get_key(&v, p, prefix, obj, "location")) {
    snprintf(path, sizeof(path), "%s.location", prefix);
    if ((rc = take_string(&f->location, p, path, v, 0, RR_FINDING_LOCATION_MAX)) != 0)
      return rc;
  }
  if (get_key(&v, p, prefix, obj, "confidence")) {
    snprintf(path, sizeof(path), "%s.confidence", prefix);
    e = 0;
    take_enum(&e, p, path, v, CONFIDENCE_NAMES, COUNT(CONFIDENCE_NAMES));
    f->confidence = (rr_finding_confidence)e;
  }
  if (get_key(&v, p, prefix, obj, "severity")) {
    snprintf(path, sizeof(path), "%s.severity", prefix);
    e = 0;
    take_enum(&e, p, path, v, SEVERITY_NAMES, COUNT(SEVERITY_NAMES));
    f->severity = (rr_finding_severity)e;
  }
  return 0;
}

static int take_document(rr_findings *f, rr_findings_problems *p, json_object *root)
{
  json_object *v;
  size_t i, n;
  char path[48];
  int rc;

  unknown_keys(p, "", root, TOP_KEYS, COUNT(TOP_KEYS));
  if (get_key(&v, p, "", root, "summary") &&
      (rc = take_string(&f->summary, p, "summary", v, 1, RR_FINDINGS_SUMMARY_MAX)) != 0)
    return rc;

  if (get_key(&v, p, "", root, "findings")) {
    if (!json_object_is_type(v, json_type_array)) {
      problem(p, "findings: expected an array, found %s", type_name(v));
    } else if ((n = json_object_array_length(v)) > RR_FINDINGS_MAX) {
      problem(p, "findings: has %zu items, the limit is %d", n, RR_FINDINGS_MAX);
    } else if (n > 0) {
      if ((f->findings = calloc(n, sizeof(*f->findings))) == NULL)
        return RR_ENOMEM;
      f->finding_count = n;
      for (i = 0; i < n; i++)
        if ((rc = take_finding(&f->findings[i], p, i, json_object_array_get_idx(v, i))) != 0)
          return rc;
    }
  }

  if (get_key(&v, p, "", root, "recommendations")) {
    if (!json_object_is_type(v, json_type_array)) {
      problem(p, "recommendations: expected an array, found %s", type_name(v));
    } else if ((n = json_object_array_length(v)) > RR_FINDINGS_RECOMMENDATIONS_MAX) {
      problem(p, "recommendations: has %zu items, the limit is %d", n, RR_FINDINGS_RECOMMENDATIONS_MAX);
    } else if (n > 0) {
      if ((f->recommendations = calloc(n, sizeof(*f->recommendations))) == NULL)
        return RR_ENOMEM;
      f->recommendation_count = n;
      for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "recommendations[%zu]", i);
        if ((rc = take_string(&f->recommendations[i], p, path, json_object_array_get_idx(v, i), 1,
                              RR_FINDINGS_RECOMMENDATION_MAX)) != 0)
          return rc;
      }
    }
  }

  if (get_key(&v, p, "", root, "ai_confidence"))
    take_ai_confidence(f, p, v);
  return 0;
}

int rr_findings_parse(rr_findings **out, rr_findings_problems *problems, const char *text, size_t len,
                      char *err, size_t errsize)
{
  rr_findings_problems local;
  rr_findings_problems *p = problems != NULL ? problems : &local;
  json_tokener *tok = NULL;
  json_object *root = NULL;
  rr_findings *f = NULL;
  const char *b, *e;
  size_t valid;
  enum json_tokener_error jerr;
  int rc = 0;

  *out = NULL;
  memset(p, 0, sizeof(*p));
  if (text == NULL) {
    text = "";
    len = 0;
  }
  b = text;
  e = text + len;
  if (len > RR_FINDINGS_TEXT_MAX) {
    problem(p, "the answer is %zu bytes long, the limit is %d", len, RR_FINDINGS_TEXT_MAX);
    goto done;
  }
  if (len > 0)
    strip_fence(&b, &e);
  if (b == e) {
    problem(p, "the answer is empty, a JSON object was expected");
    goto done;
  }
  if ((valid = rr_utf8_valid_prefix(b, (size_t)(e - b))) != (size_t)(e - b)) {
    problem(p, "the answer is not valid UTF-8 (byte %zu)", valid);
    goto done;
  }
  if ((tok = json_tokener_new()) == NULL) {
    rc = RR_ENOMEM;
    goto done;
  }
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  root = json_tokener_parse_ex(tok, b, (int)(e - b));
  jerr = json_tokener_get_error(tok);
  if (jerr == json_tokener_continue) {
    problem(p, "the answer is not valid JSON: it ends before the value is complete");
    goto done;
  }
  if (jerr != json_tokener_success || root == NULL) {
    problem(p, "the answer is not valid JSON: %s at byte %zu", json_tokener_error_desc(jerr),
            json_tokener_get_parse_end(tok));
    goto done;
  }
  if (json_tokener_get_parse_end(tok) != (size_t)(e - b)) {
    problem(p, "the answer is not valid JSON: text follows the value at byte %zu", json_tokener_get_parse_end(tok));
    goto done;
  }
  if (!json_object_is_type(root, json_type_object)) {
    problem(p, "the answer must be a JSON object, found %s", type_name(root));
    goto done;
  }
  if ((f = calloc(1, sizeof(*f))) == NULL) {
    rc = RR_ENOMEM;
    goto done;
  }
  rc = take_document(f, p, root);

done:
  json_object_put(root);
  if (tok != NULL)
    json_tokener_free(tok);
  if (rc == RR_ENOMEM) {
    rr_findings_free(f);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory while reading the findings");
  }
  if (p->total > 0) {
    rr_findings_free(f);
    if (p->total > 1)
      return rr_fail(err, errsize, RR_EINVAL, "%s (and %zu more problems)", p->items[0], p->total - 1);
    return rr_fail(err, errsize, RR_EINVAL, "%s", p->items[0]);
  }
  *out = f;
  return 0;
}

void rr_findings_free(rr_findings *f)
{
  size_t i;

  if (f == NULL)
    return;
  free(f->summary);
  for (i = 0; i < f->finding_count; i++) {
    free(f->findings[i].description);
    free(f->findings[i].location);
  }
  free(f->findings);
  for (i = 0; i < f->recommendation_count; i++)
    free(f->recommendations[i]);
  free(f->recommendations);
  free(f);
}

/* ------------------------------------------------------- serialisation */

/* Add val under key; takes ownership of val in every case. */
int rr_findings_to_json(json_object **out, const rr_findings *f, char *err, size_t errsize)
{
  json_object *root = NULL, *arr = NULL, *item = NULL;
  const char *cat, *conf, *sev, *overall;
  size_t i;
  int rc = RR_ENOMEM;

  *out = NULL;
  if (f == NULL || f->summary == NULL || (f->finding_count > 0 && f->findings == NULL) ||
      (f->recommendation_count > 0 && f->recommendations == NULL))
    return rr_fail(err, errsize, RR_EINVAL, "the findings are incomplete");
  for (i = 0; i < f->finding_count; i++) {
    if (rr_finding_category_name(f->findings[i].category) == NULL ||
        rr_finding_confidence_name(f->findings[i].confidence) == NULL ||
        rr_finding_severity_name(f->findings[i].severity) == NULL || f->findings[i].description == NULL)
      return rr_fail(err, errsize, RR_EINVAL, "finding %zu has a value out of range or no description", i);
  }
  for (i = 0; i < f->recommendation_count; i++)
    if (f->recommendations[i] == NULL)
      return rr_fail(err, errsize, RR_EINVAL, "recommendation %zu is missing", i);
  if ((overall = rr_finding_confidence_name(f->ai_confidence)) == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "the overall confidence is out of range");

  if ((root = json_object_new_object()) == NULL)
    goto fail;
  if (rr_json_add(root, "summary", json_object_new_string(f->summary)) != 0)
    goto fail;
  if ((arr = json_object_new_array()) == NULL || rr_json_add(root, "findings", arr) != 0)
    goto fail;
  for (i = 0; i < f->finding_count; i++) {
    const rr_finding *x = &f->findings[i];
    cat = rr_finding_category_name(x->category);
    conf = rr_finding_confidence_name(x->confidence);
    sev = rr_finding_severity_name(x->severity);
    if ((item = json_object_new_object()) == NULL || rr_json_push(arr, item) != 0)
      goto fail;
    if (rr_json_add(item, "category", json_object_new_string(cat)) != 0 ||
        rr_json_add(item, "description", json_object_new_string(x->description)) != 0 ||
        rr_json_add(item, "location", json_object_new_string(x->location != NULL ? x->location : "")) != 0 ||
        rr_json_add(item, "confidence", json_object_new_string(conf)) != 0 ||
        rr_json_add(item, "severity", json_object_new_string(sev)) != 0)
      goto fail;
  }
  if ((arr = json_object_new_array()) == NULL || rr_json_add(root, "recommendations", arr) != 0)
    goto fail;
  for (i = 0; i < f->recommendation_count; i++)
    if (rr_json_push(arr, json_object_new_string(f->recommendations[i])) != 0)
      goto fail;
  if (rr_json_add(root, "ai_confidence", json_object_new_string(overall)) != 0)
    goto fail;
  *out = root;
  return 0;

fail:
  json_object_put(root);
  return rr_fail(err, errsize, rc, "out of memory while writing the findings");
}

/* -------------------------------------------------------------- schemas */

typedef enum { K_STRING, K_NUMBER, K_ARRAY, K_OBJECT } node_kind;

typedef struct schema_prop schema_prop;
typedef struct schema_node {
  node_kind kind;
  const char *description;
  const char *const *enums;
  size_t enum_count;
  int max_items; /* arrays, 0: none */
  const struct schema_node *items;
  const schema_prop *props;
  size_t prop_count;
} schema_node;
struct schema_prop {
  const char *name;
  const schema_node *node;
};

static const schema_node S_CATEGORY = {K_STRING,
                                       "Kind of finding: lesion (focal: mass, nodule, cyst, focal opacity), "
                                       "fracture, hemorrhage, device (line, tube, implant), abnormality (any "
                                       "other pathology), incidental, normal_variant, artifact, technical "
                                       "(image quality).",
                                       CATEGORY_NAMES, COUNT(CATEGORY_NAMES), 0,
                                       NULL, NULL, 0};
static const schema_node S_DESCRIPTION = {K_STRING, "What is seen, at most 2000 bytes.", NULL, 0, 0, NULL, NULL,
                                          0};
static const schema_node S_LOCATION = {K_STRING, "Anatomical location, at most 200 bytes; empty when not applicable.",
                                       NULL, 0, 0, NULL, NULL, 0};
static const schema_node S_CONFIDENCE = {K_STRING, "Confidence in this finding.", CONFIDENCE_NAMES,
                                         COUNT(CONFIDENCE_NAMES), 0, NULL, NULL, 0};
static const schema_node S_SEVERITY = {K_STRING, "Clinical severity.", SEVERITY_NAMES, COUNT(SEVERITY_NAMES), 0,
                                       NULL, NULL, 0};
static const schema_prop FINDING_PROPS[] = {{"category", &S_CATEGORY},
                                            {"description", &S_DESCRIPTION},
                                            {"location", &S_LOCATION},
                                            {"confidence", &S_CONFIDENCE},
                                            {"severity", &S_SEVERITY}};
static const schema_node S_FINDING = {K_OBJECT, NULL, NULL, 0, 0, NULL, FINDING_PROPS, COUNT(FINDING_PROPS)};
static const schema_node S_FINDINGS = {K_ARRAY, "Individual findings, at most 50.", NULL, 0, RR_FINDINGS_MAX,
                                       &S_FINDING, NULL, 0};
static const schema_node S_SUMMARY = {K_STRING, "Overall impression, at most 4000 bytes.", NULL, 0, 0, NULL, NULL, 0};
static const schema_node S_RECOMMENDATION = {K_STRING, "One recommendation, at most 500 bytes.", NULL, 0, 0, NULL,
                                             NULL, 0};
static const schema_node S_RECOMMENDATIONS = {K_ARRAY, "Recommended next steps, at most 20.", NULL, 0,
                                              RR_FINDINGS_RECOMMENDATIONS_MAX, &S_RECOMMENDATION, NULL, 0};
static const schema_node S_AI_CONFIDENCE = {K_STRING, "Overall confidence in this reading.", CONFIDENCE_NAMES,
                                            COUNT(CONFIDENCE_NAMES), 0, NULL, NULL, 0};
static const schema_prop TOP_PROPS[] = {{"summary", &S_SUMMARY},
                                        {"findings", &S_FINDINGS},
                                        {"recommendations", &S_RECOMMENDATIONS},
                                        {"ai_confidence", &S_AI_CONFIDENCE}};
static const schema_node S_TOP = {K_OBJECT, NULL, NULL, 0, 0, NULL, TOP_PROPS, COUNT(TOP_PROPS)};

static json_object *emit(const schema_node *n, bool gemini)
{
  static const char *const UPPER[] = {"STRING", "NUMBER", "ARRAY", "OBJECT"};
  static const char *const LOWER[] = {"string", "number", "array", "object"};
  json_object *o = json_object_new_object(), *a, *props, *req, *order;
  size_t i;

  if (o == NULL)
    return NULL;
  if (rr_json_add(o, "type", json_object_new_string((gemini ? UPPER : LOWER)[n->kind])) != 0)
    goto fail;
  if (n->description != NULL && rr_json_add(o, "description", json_object_new_string(n->description)) != 0)
    goto fail;
  if (n->enum_count > 0) {
    if ((a = json_object_new_array()) == NULL || rr_json_add(o, "enum", a) != 0)
      goto fail;
    for (i = 0; i < n->enum_count; i++)
      if (rr_json_push(a, json_object_new_string(n->enums[i])) != 0)
        goto fail;
  }
  if (n->kind == K_ARRAY) {
    if (gemini && n->max_items > 0 && rr_json_add(o, "maxItems", json_object_new_int(n->max_items)) != 0)
      goto fail;
    if (rr_json_add(o, "items", emit(n->items, gemini)) != 0)
      goto fail;
  }
  if (n->kind == K_OBJECT) {
    if ((props = json_object_new_object()) == NULL || rr_json_add(o, "properties", props) != 0)
      goto fail;
    if ((req = json_object_new_array()) == NULL || rr_json_add(o, "required", req) != 0)
      goto fail;
    for (i = 0; i < n->prop_count; i++)
      if (rr_json_add(props, n->props[i].name, emit(n->props[i].node, gemini)) != 0 ||
          rr_json_push(req, json_object_new_string(n->props[i].name)) != 0)
        goto fail;
    if (gemini) {
      if ((order = json_object_new_array()) == NULL || rr_json_add(o, "propertyOrdering", order) != 0)
        goto fail;
      for (i = 0; i < n->prop_count; i++)
        if (rr_json_push(order, json_object_new_string(n->props[i].name)) != 0)
          goto fail;
    } else if (rr_json_add(o, "additionalProperties", json_object_new_boolean(0)) != 0) {
      goto fail;
    }
  }
  return o;

fail:
  json_object_put(o);
  return NULL;
}

json_object *rr_findings_schema_gemini(void)
{
  return emit(&S_TOP, true);
}

json_object *rr_findings_schema_openai(void)
{
  return emit(&S_TOP, false);
}
