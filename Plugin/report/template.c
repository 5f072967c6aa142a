/*
 * template.c - report templates: the built-ins embedded from
 * Resources/reports/templates/, the store's rows over them, validation,
 * field checks, defaults, rendering and the choice of a template for a
 * study (contract in template.h).
 *
 * The registry keeps only borrowed pointers to the embedded text and the
 * store: each call parses what it needs (templates are a few KB), so
 * threads share no json-c object.
 */
#include "template.h"

#include <ctype.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store.h"
#include "store/store_report_templates.h"
#include "util/buf.h"
#include "util/embedded.h"
#include "util/errors.h"
#include "util/json.h"
#include "util/str.h"

#define MAX_SECTIONS 40
#define MAX_FIELDS 100     /* per section */
#define MAX_ALL_FIELDS 400 /* per template */
#define MAX_OPTIONS 100
#define MAX_MATCH 32
#define LABEL_MAX 200
#define TEXT_MAX (64 * 1024) /* bytes of one field's value */

static const char *const builtin_paths[] = {
  "reports/templates/ct-chest.json",  "reports/templates/ct-abdomen-pelvis.json",
  "reports/templates/ct-head.json",   "reports/templates/mr-brain.json",
  "reports/templates/chest-xray.json", "reports/templates/generic.json",
};
#define BUILTIN_COUNT (sizeof(builtin_paths) / sizeof(builtin_paths[0]))

typedef struct builtin {
  char id[RR_TEMPLATE_ID_SIZE];
  const char *json; /* embedded, NUL-terminated */
  size_t len;
  int64_t revision;
} builtin;

struct rr_templates {
  rr_store *store; /* borrowed; may be NULL (built-ins only) */
  builtin builtins[BUILTIN_COUNT];
};

/* What an id stands for now: the store's row over the built-in. */
typedef struct resolved {
  json_object *tpl; /* owned: the template body */
  int64_t revision;
  bool builtin, modified, retired;
  bool stored; /* the store has a row of this id */
  char updated_by[RR_USERNAME_SIZE];
  int64_t updated_at;
} resolved;

/* Keys the registry adds to what it answers: accepted in input, not stored. */
static const char *const volatile_keys[] = {"revision", "builtin", "modified", "retired", "updatedBy", "updatedAt"};

/* ------------------------------------------------------------------ parsing */

static int parse_json(json_object **out, const char *text, size_t len, const char *what, char *err, size_t errsize)
{
  json_tokener *tok;
  json_object *root;
  enum json_tokener_error jerr;

  *out = NULL;
  if (text == NULL || len == 0)
    return rr_fail(err, errsize, RR_EINVAL, "%s is empty", what);
  if (len > RR_REPORT_TEMPLATE_JSON_MAX * 2 || len > 0x7fffffff)
    return rr_fail(err, errsize, RR_EINVAL, "%s is too long (%zu bytes)", what, len);
  if ((tok = json_tokener_new()) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  root = json_tokener_parse_ex(tok, text, (int)len);
  jerr = json_tokener_get_error(tok);
  if (jerr != json_tokener_success || root == NULL || json_tokener_get_parse_end(tok) != len) {
    json_object_put(root);
    json_tokener_free(tok);
    return rr_fail(err, errsize, RR_EINVAL, "%s is not valid JSON%s", what,
                   jerr == json_tokener_continue ? " (it ends before the value is complete)" : "");
  }
  json_tokener_free(tok);
  if (!json_object_is_type(root, json_type_object)) {
    json_object_put(root);
    return rr_fail(err, errsize, RR_EINVAL, "%s must be a JSON object", what);
  }
  *out = root;
  return 0;
}

static bool id_valid(const char *s)
{
  size_t n = 0;

  if (s == NULL)
    return false;
  for (; s[n] != '\0'; n++)
    if (!(isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' || s[n] == '-'))
      return false;
  return n >= 1 && n <= 64;
}

static const char *type_of(json_object *o, const char *key)
{
  json_object *v = NULL;
  return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                                                          : "";
}

static json_object *member(json_object *o, const char *key)
{
  json_object *v = NULL;
  return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool is_null(json_object *v)
{
  return v == NULL || json_object_is_type(v, json_type_null);
}

/* ------------------------------------------------------------ field values */

static bool blank(const char *s)
{
  for (; *s != '\0'; s++)
    if (!isspace((unsigned char)*s))
      return false;
  return true;
}

/* Whether a value counts as empty: absent, null, a blank string, []. */
static bool value_empty(json_object *v)
{
  if (is_null(v))
    return true;
  if (json_object_is_type(v, json_type_string))
    return blank(json_object_get_string(v));
  if (json_object_is_type(v, json_type_array))
    return json_object_array_length(v) == 0;
  return false;
}

static bool option_of(json_object *field, const char *s)
{
  json_object *opts = member(field, "options");
  size_t n = opts && json_object_is_type(opts, json_type_array) ? json_object_array_length(opts) : 0;

  for (size_t i = 0; i < n; i++)
    if (strcmp(json_object_get_string(json_object_array_get_idx(opts, i)), s) == 0)
      return true;
  return false;
}

static bool number_of(json_object *v, double *out)
{
  if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
    return false;
  *out = json_object_get_double(v);
  return isfinite(*out);
}

static bool iso_date_valid(const char *s)
{
  char ymd[9];

  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  return rr_date_parse(ymd, s) == 0;
}

static int check_number(json_object *field, json_object *v, const char *id, char *err, size_t errsize)
{
  double d, lim;
  json_object *m;

  if (!number_of(v, &d))
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" must be a number", id);
  if ((m = member(field, "min")) != NULL && number_of(m, &lim) && d < lim)
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" is below its minimum (%g)", id, lim);
  if ((m = member(field, "max")) != NULL && number_of(m, &lim) && d > lim)
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" is above its maximum (%g)", id, lim);
  return 0;
}

static int check_multichoice(json_object *field, json_object *v, const char *id, char *err, size_t errsize)
{
  size_t n, i, j;

  if (!json_object_is_type(v, json_type_array))
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" must be an array of its options", id);
  n = json_object_array_length(v);
  for (i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(v, i);
    if (!json_object_is_type(e, json_type_string) || !option_of(field, json_object_get_string(e)))
      return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" holds a value that is not one of its options", id);
    for (j = 0; j < i; j++)
      if (strcmp(json_object_get_string(json_object_array_get_idx(v, j)), json_object_get_string(e)) == 0)
        return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" holds an option twice", id);
  }
  return 0;
}

/* Whether value v (may be NULL) suits the field; the empty value always does. */
static int check_value(json_object *field, json_object *v, char *err, size_t errsize)
{
  const char *id = type_of(field, "id"), *type = type_of(field, "type"), *s;

  if (is_null(v) || (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) == 0))
    return 0;
  if (strcmp(type, "number") == 0)
    return check_number(field, v, id, err, errsize);
  if (strcmp(type, "multichoice") == 0)
    return check_multichoice(field, v, id, err, errsize);
  if (!json_object_is_type(v, json_type_string))
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" must be a string", id);
  s = json_object_get_string(v);
  if (json_object_get_string_len(v) > TEXT_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" is longer than %d bytes", id, TEXT_MAX);
  if (strcmp(type, "date") == 0 && !iso_date_valid(s))
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" must be a date YYYY-MM-DD", id);
  if (strcmp(type, "choice") == 0 && !option_of(field, s))
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" holds a value that is not one of its options", id);
  if (strcmp(type, "text") == 0 && strpbrk(s, "\r\n") != NULL)
    return rr_fail(err, errsize, RR_EINVAL, "field \"%s\" is a single line of text", id);
  return 0;
}

/* --------------------------------------------------------------- validation */

static bool key_in(const char *key, const char *const *keys, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(key, keys[i]) == 0)
      return true;
  return false;
}

/* Every key of o is one of keys; else RR_EINVAL naming it and `where`. */
static int known_keys(json_object *o, const char *const *keys, size_t n, const char *where, char *err, size_t errsize)
{
  json_object_object_foreach(o, key, val) {
    (void)val;
    if (!key_in(key, keys, n))
      return rr_fail(err, errsize, RR_EINVAL, "%s: unknown member \"%.64s\"", where, key);
  }
  return 0;
}

/* An optional (required: mandatory) string member of at most max bytes. */
static int opt_string(json_object *o, const char *key, bool required, size_t max, const char *where, char *err,
                      size_t errsize)
{
  json_object *v = member(o, key);

  if (v == NULL)
    return required ? rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" is missing", where, key) : 0;
  if (!json_object_is_type(v, json_type_string))
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" must be a string", where, key);
  if ((size_t)json_object_get_string_len(v) > max)
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" is longer than %zu bytes", where, key, max);
  if (required && blank(json_object_get_string(v)))
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" is empty", where, key);
  return 0;
}

/* An array member of 0..max non-empty, unique strings of at most LABEL_MAX bytes. */
static int string_array(json_object *o, const char *key, size_t max, const char *where, char *err, size_t errsize)
{
  json_object *v = member(o, key);
  size_t n, i, j;

  if (v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > max)
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" must be an array of at most %zu strings", where, key, max);
  for (i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(v, i);
    if (!json_object_is_type(e, json_type_string) || blank(json_object_get_string(e)) ||
        json_object_get_string_len(e) > LABEL_MAX)
      return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" must hold non-empty strings of at most %d bytes", where,
                     key, LABEL_MAX);
    for (j = 0; j < i; j++)
      if (strcmp(json_object_get_string(json_object_array_get_idx(v, j)), json_object_get_string(e)) == 0)
        return rr_fail(err, errsize, RR_EINVAL, "%s: \"%s\" holds \"%.64s\" twice", where, key,
                       json_object_get_string(e));
  }
  return 0;
}

static const char *const field_keys[] = {"id",      "label",    "type",        "options", "unit", "min",
                                         "max",     "default",  "required",    "placeholder", "help"};
static const char *const field_types[] = {"text", "longtext", "number", "date", "choice", "multichoice"};
static const char *const required_values[] = {"none", "warn", "block"};

/* The type-specific members of a field: options, unit, min, max. */
static int validate_field_type(json_object *f, const char *type, const char *where, char *err, size_t errsize)
{
  bool choice = strcmp(type, "choice") == 0 || strcmp(type, "multichoice") == 0;
  bool number = strcmp(type, "number") == 0;
  json_object *opts = member(f, "options"), *mn = member(f, "min"), *mx = member(f, "max");
  double a = 0, b = 0;
  int error;

  if (choice && (opts == NULL || !json_object_is_type(opts, json_type_array) || json_object_array_length(opts) == 0))
    return rr_fail(err, errsize, RR_EINVAL, "%s: a %s field needs \"options\"", where, type);
  if (!choice && opts != NULL)
    return rr_fail(err, errsize, RR_EINVAL, "%s: only choice and multichoice fields have \"options\"", where);
  if ((error = string_array(f, "options", MAX_OPTIONS, where, err, errsize)) < 0)
    return error;
  if (!number && (member(f, "unit") != NULL || mn != NULL || mx != NULL))
    return rr_fail(err, errsize, RR_EINVAL, "%s: only number fields have \"unit\", \"min\" and \"max\"", where);
  if ((error = opt_string(f, "unit", false, 32, where, err, errsize)) < 0)
    return error;
  if ((mn != NULL && !number_of(mn, &a)) || (mx != NULL && !number_of(mx, &b)))
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"min\" and \"max\" must be numbers", where);
  if (mn != NULL && mx != NULL && a > b)
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"min\" is greater than \"max\"", where);
  return 0;
}

static int validate_field(json_object *f, const char *section_id, char *err, size_t errsize)
{
  char where[160];
  const char *id = type_of(f, "id"), *type, *req;
  int error;

  if (!json_object_is_type(f, json_type_object))
    return rr_fail(err, errsize, RR_EINVAL, "section \"%s\": every field must be an object", section_id);
  if (!id_valid(id))
    return rr_fail(err, errsize, RR_EINVAL,
                   "section \"%s\": a field's \"id\" must be 1 to 64 of letters, digits, '.', '_' and '-'", section_id);
  snprintf(where, sizeof(where), "field \"%s\"", id);
  if ((error = known_keys(f, field_keys, sizeof(field_keys) / sizeof(field_keys[0]), where, err, errsize)) < 0 ||
      (error = opt_string(f, "label", true, LABEL_MAX, where, err, errsize)) < 0 ||
      (error = opt_string(f, "placeholder", false, 500, where, err, errsize)) < 0 ||
      (error = opt_string(f, "help", false, 2000, where, err, errsize)) < 0 ||
      (error = opt_string(f, "type", true, 16, where, err, errsize)) < 0 ||
      (error = opt_string(f, "required", false, 16, where, err, errsize)) < 0)
    return error;
  type = type_of(f, "type");
  if (!key_in(type, field_types, sizeof(field_types) / sizeof(field_types[0])))
    return rr_fail(err, errsize, RR_EINVAL,
                   "%s: \"type\" must be text, longtext, number, date, choice or multichoice", where);
  req = type_of(f, "required");
  if (member(f, "required") != NULL && !key_in(req, required_values, 3))
    return rr_fail(err, errsize, RR_EINVAL, "%s: \"required\" must be none, warn or block", where);
  if ((error = validate_field_type(f, type, where, err, errsize)) < 0)
    return error;
  if ((error = check_value(f, member(f, "default"), err, errsize)) < 0)
    return rr_fail(err, errsize, error, "%s: its \"default\" does not suit its type", where);
  return 0;
}

/* True when the id is among the first n ids of the fields seen so far. */
static bool seen(const char **ids, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(ids[i], id) == 0)
      return true;
  return false;
}

static const char *const section_keys[] = {"id", "title", "code", "meaning", "fields"};

/* Sections and their fields: ids unique (sections among sections, fields
 * among all the template's fields). */
static int validate_sections(json_object *sections, char *err, size_t errsize)
{
  const char *sids[MAX_SECTIONS], *fids[MAX_ALL_FIELDS];
  size_t ns, nf = 0, i, j, count;
  char where[100];
  int error;

  if (sections == NULL || !json_object_is_type(sections, json_type_array) ||
      (ns = json_object_array_length(sections)) == 0 || ns > MAX_SECTIONS)
    return rr_fail(err, errsize, RR_EINVAL, "\"sections\" must be an array of 1 to %d sections", MAX_SECTIONS);
  for (i = 0; i < ns; i++) {
    json_object *s = json_object_array_get_idx(sections, i), *fields;
    const char *sid = type_of(s, "id");
    if (!json_object_is_type(s, json_type_object) || !id_valid(sid))
      return rr_fail(err, errsize, RR_EINVAL,
                     "section %zu: \"id\" must be 1 to 64 of letters, digits, '.', '_' and '-'", i + 1);
    if (seen(sids, i, sid))
      return rr_fail(err, errsize, RR_EINVAL, "section id \"%s\" is used twice", sid);
    sids[i] = sid;
    snprintf(where, sizeof(where), "section \"%s\"", sid);
    if ((error = known_keys(s, section_keys, 5, where, err, errsize)) < 0 ||
        (error = opt_string(s, "title", true, LABEL_MAX, where, err, errsize)) < 0 ||
        (error = opt_string(s, "code", false, 32, where, err, errsize)) < 0 ||
        (error = opt_string(s, "meaning", false, LABEL_MAX, where, err, errsize)) < 0)
      return error;
    fields = member(s, "fields");
    if (fields == NULL || !json_object_is_type(fields, json_type_array) ||
        (count = json_object_array_length(fields)) > MAX_FIELDS)
      return rr_fail(err, errsize, RR_EINVAL, "%s: \"fields\" must be an array of at most %d fields", where,
                     MAX_FIELDS);
    for (j = 0; j < count; j++) {
      json_object *f = json_object_array_get_idx(fields, j);
      if ((error = validate_field(f, sid, err, errsize)) < 0)
        return error;
      if (seen(fids, nf, type_of(f, "id")))
        return rr_fail(err, errsize, RR_EINVAL, "field id \"%s\" is used twice", type_of(f, "id"));
      if (nf == MAX_ALL_FIELDS)
        return rr_fail(err, errsize, RR_EINVAL, "a template has at most %d fields", MAX_ALL_FIELDS);
      fids[nf++] = type_of(f, "id");
    }
  }
  return 0;
}

static const char *const top_keys[] = {"id",       "title",   "description", "match",     "sections",  "revision",
                                       "builtin",  "modified", "retired",    "updatedBy", "updatedAt"};
static const char *const match_keys[] = {"modalities", "bodyParts", "keywords"};

static int validate_object(json_object *root, char *err, size_t errsize)
{
  json_object *match = member(root, "match");
  int error;

  if ((error = known_keys(root, top_keys, sizeof(top_keys) / sizeof(top_keys[0]), "template", err, errsize)) < 0)
    return error;
  if (!id_valid(type_of(root, "id")))
    return rr_fail(err, errsize, RR_EINVAL, "template: \"id\" must be 1 to 64 of letters, digits, '.', '_' and '-'");
  if ((error = opt_string(root, "title", true, LABEL_MAX, "template", err, errsize)) < 0 ||
      (error = opt_string(root, "description", false, 2000, "template", err, errsize)) < 0)
    return error;
  if (match != NULL) {
    if (!json_object_is_type(match, json_type_object))
      return rr_fail(err, errsize, RR_EINVAL, "template: \"match\" must be an object");
    if ((error = known_keys(match, match_keys, 3, "match", err, errsize)) < 0 ||
        (error = string_array(match, "modalities", MAX_MATCH, "match", err, errsize)) < 0 ||
        (error = string_array(match, "bodyParts", MAX_MATCH, "match", err, errsize)) < 0 ||
        (error = string_array(match, "keywords", MAX_MATCH, "match", err, errsize)) < 0)
      return error;
  }
  return validate_sections(member(root, "sections"), err, errsize);
}

int rr_template_validate(const char *template_json, size_t len, char *err, size_t errsize)
{
  json_object *root = NULL;
  int error;

  if (len > RR_REPORT_TEMPLATE_JSON_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a template is at most %d bytes", RR_REPORT_TEMPLATE_JSON_MAX);
  if ((error = parse_json(&root, template_json, len, "the template", err, errsize)) < 0)
    return error;
  error = validate_object(root, err, errsize);
  json_object_put(root);
  return error;
}

/* -------------------------------------------------- fields against a template */

/* The field object of `id` in a parsed template, or NULL (and its section). */
static json_object *find_field(json_object *tpl, const char *id, json_object **section)
{
  json_object *sections = member(tpl, "sections");
  size_t ns = sections && json_object_is_type(sections, json_type_array) ? json_object_array_length(sections) : 0;

  for (size_t i = 0; i < ns; i++) {
    json_object *s = json_object_array_get_idx(sections, i), *fields = member(s, "fields");
    size_t nf = fields && json_object_is_type(fields, json_type_array) ? json_object_array_length(fields) : 0;
    for (size_t j = 0; j < nf; j++) {
      json_object *f = json_object_array_get_idx(fields, j);
      if (strcmp(type_of(f, "id"), id) == 0) {
        if (section != NULL)
          *section = s;
        return f;
      }
    }
  }
  return NULL;
}

/* Parse a template snapshot and a fields object (NULL or "" fields: {}). */
static int parse_pair(json_object **tpl, json_object **fields, const char *template_json, const char *fields_json,
                      char *err, size_t errsize)
{
  int error;

  *fields = NULL;
  if ((error = parse_json(tpl, template_json, template_json ? strlen(template_json) : 0, "the template", err,
                          errsize)) < 0)
    return error;
  if (fields_json == NULL || fields_json[0] == '\0')
    *fields = json_object_new_object();
  else if ((error = parse_json(fields, fields_json, strlen(fields_json), "the fields", err, errsize)) < 0) {
    json_object_put(*tpl);
    *tpl = NULL;
    return error;
  }
  if (*fields == NULL) {
    json_object_put(*tpl);
    *tpl = NULL;
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  return 0;
}

int rr_template_check_fields(const char *template_json, const char *fields_json, char *err, size_t errsize)
{
  json_object *tpl = NULL, *fields = NULL;
  int error;

  if ((error = parse_pair(&tpl, &fields, template_json, fields_json, err, errsize)) < 0)
    return error;
  json_object_object_foreach(fields, key, val) {
    json_object *f = find_field(tpl, key, NULL);
    if (f == NULL) {
      error = rr_fail(err, errsize, RR_EINVAL, "the template has no field \"%.64s\"", key);
      break;
    }
    if ((error = check_value(f, val, err, errsize)) < 0)
      break;
  }
  json_object_put(tpl);
  json_object_put(fields);
  return error;
}

/* Call fn(ctx, section, field) for every field of a parsed template in
 * order; stops at and returns the first negative result. */
typedef int (*field_fn)(void *ctx, json_object *section, json_object *field);
static int each_field(json_object *tpl, field_fn fn, void *ctx)
{
  json_object *sections = member(tpl, "sections");
  size_t ns = sections && json_object_is_type(sections, json_type_array) ? json_object_array_length(sections) : 0;
  int error;

  for (size_t i = 0; i < ns; i++) {
    json_object *s = json_object_array_get_idx(sections, i), *fields = member(s, "fields");
    size_t nf = fields && json_object_is_type(fields, json_type_array) ? json_object_array_length(fields) : 0;
    for (size_t j = 0; j < nf; j++)
      if ((error = fn(ctx, s, json_object_array_get_idx(fields, j))) < 0)
        return error;
  }
  return 0;
}

typedef struct missing_ctx {
  json_object *fields, *block, *warn;
} missing_ctx;

static int missing_one(void *ctx, json_object *section, json_object *field)
{
  missing_ctx *m = ctx;
  const char *req = type_of(field, "required");
  json_object *list = strcmp(req, "block") == 0 ? m->block : strcmp(req, "warn") == 0 ? m->warn : NULL, *o;
  int jerr = 0;

  if (list == NULL || !value_empty(member(m->fields, type_of(field, "id"))))
    return 0;
  o = json_object_new_object();
  rr_json_set_str(o, "id", type_of(field, "id"), &jerr);
  rr_json_set_str(o, "label", type_of(field, "label"), &jerr);
  rr_json_set_str(o, "section", type_of(section, "id"), &jerr);
  rr_json_set_str(o, "sectionTitle", type_of(section, "title"), &jerr);
  rr_json_append(list, rr_json_done(o, jerr), &jerr);
  return jerr;
}

static int dup_json(char **out, json_object *o, char *err, size_t errsize)
{
  const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

  if (s == NULL || (*out = strdup(s)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  return 0;
}

int rr_template_missing(char **out_block, char **out_warn, const char *template_json, const char *fields_json,
                        char *err, size_t errsize)
{
  json_object *tpl = NULL;
  missing_ctx m = {NULL, json_object_new_array(), json_object_new_array()};
  int error;

  *out_block = *out_warn = NULL;
  if (m.block == NULL || m.warn == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if ((error = parse_pair(&tpl, &m.fields, template_json, fields_json, err, errsize)) == 0 &&
           (error = each_field(tpl, missing_one, &m)) < 0)
    rr_fail(err, errsize, error, "out of memory");
  if (error == 0 && (error = dup_json(out_block, m.block, err, errsize)) == 0 &&
      (error = dup_json(out_warn, m.warn, err, errsize)) < 0) {
    free(*out_block);
    *out_block = NULL;
  }
  json_object_put(tpl);
  json_object_put(m.fields);
  json_object_put(m.block);
  json_object_put(m.warn);
  return error;
}

static int default_one(void *ctx, json_object *section, json_object *field)
{
  json_object *d = member(field, "default");

  (void)section;
  if (is_null(d))
    return 0;
  return rr_json_add(ctx, type_of(field, "id"), json_object_get(d));
}

int rr_template_defaults(char **out, const char *template_json, char *err, size_t errsize)
{
  json_object *tpl = NULL, *fields = NULL;
  int error;

  *out = NULL;
  if ((error = parse_pair(&tpl, &fields, template_json, NULL, err, errsize)) < 0)
    return error;
  if ((error = each_field(tpl, default_one, fields)) < 0)
    rr_fail(err, errsize, error, "out of memory");
  else
    error = dup_json(out, fields, err, errsize);
  json_object_put(tpl);
  json_object_put(fields);
  return error;
}

/* ---------------------------------------------------------------- rendering */

/* The text of a non-empty value: numbers with the field's unit,
 * multichoice joined with ", ", strings as they are. */
static int value_text(rr_buf *b, json_object *field, json_object *v)
{
  const char *unit = type_of(field, "unit");
  int error = 0;

  if (json_object_is_type(v, json_type_int))
    error = rr_buf_printf(b, "%lld", (long long)json_object_get_int64(v));
  else if (json_object_is_type(v, json_type_double))
    error = rr_buf_printf(b, "%.10g", json_object_get_double(v));
  else if (json_object_is_type(v, json_type_array)) {
    for (size_t i = 0; error == 0 && i < json_object_array_length(v); i++)
      error = rr_buf_printf(b, "%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(v, i)));
    return error;
  } else
    return rr_buf_puts(b, json_object_get_string(v));
  if (error == 0 && unit[0] != '\0')
    error = rr_buf_printf(b, " %s", unit);
  return error;
}

static int set_str(char **slot, const char *s)
{
  return rr_report_doc_set(slot, s, strlen(s));
}

/* One section of the doc from a template section; *used false when none
 * of its fields has a value (nothing allocated then). */
static int render_section(rr_report_doc_section *out, bool *used, json_object *s, json_object *values)
{
  json_object *fields = member(s, "fields");
  size_t nf = fields && json_object_is_type(fields, json_type_array) ? json_object_array_length(fields) : 0;
  rr_buf b;
  int error = 0;

  memset(out, 0, sizeof(*out));
  *used = false;
  for (size_t j = 0; j < nf && error == 0; j++) {
    json_object *f = json_object_array_get_idx(fields, j), *v = member(values, type_of(f, "id"));
    rr_report_doc_item *it;
    if (value_empty(v))
      continue;
    if (out->items == NULL && (out->items = calloc(nf, sizeof(*out->items))) == NULL)
      return RR_ENOMEM;
    it = &out->items[out->item_count++];
    rr_buf_init(&b, TEXT_MAX * 2);
    if ((error = value_text(&b, f, v)) == 0 && (error = set_str(&it->label, type_of(f, "label"))) == 0)
      error = rr_report_doc_set(&it->text, b.ptr ? b.ptr : "", b.len);
    rr_buf_dispose(&b);
  }
  *used = out->item_count > 0;
  if (error == 0 && *used && ((error = set_str(&out->code, type_of(s, "code"))) < 0 ||
                              (error = set_str(&out->meaning, type_of(s, "meaning"))) < 0 ||
                              (error = set_str(&out->title, type_of(s, "title"))) < 0))
    return error;
  return error;
}

int rr_template_render(rr_report_doc *doc, const char *template_json, const char *fields_json, char *err,
                       size_t errsize)
{
  json_object *tpl = NULL, *values = NULL, *sections;
  rr_report_doc_section *out = NULL;
  size_t ns, count = 0;
  bool used;
  int error;

  if ((error = parse_pair(&tpl, &values, template_json, fields_json, err, errsize)) < 0)
    return error;
  sections = member(tpl, "sections");
  ns = sections && json_object_is_type(sections, json_type_array) ? json_object_array_length(sections) : 0;
  if (ns > 0 && (out = calloc(ns, sizeof(*out))) == NULL)
    error = RR_ENOMEM;
  for (size_t i = 0; error == 0 && i < ns; i++) {
    error = render_section(&out[count], &used, json_object_array_get_idx(sections, i), values);
    if (error == 0 && used)
      count++;
    else if (error < 0)
      count++; /* free what it holds */
  }
  if (error == 0 && (error = set_str(&doc->title, type_of(tpl, "title"))) == 0)
    error = set_str(&doc->template_id, type_of(tpl, "id"));
  if (error == 0) {
    rr_report_doc_sections_free(doc->sections, doc->section_count);
    doc->sections = out;
    doc->section_count = count;
    out = NULL;
  } else {
    rr_report_doc_sections_free(out, count);
    error = rr_fail(err, errsize, error, "out of memory");
  }
  json_object_put(tpl);
  json_object_put(values);
  return error;
}

/* ----------------------------------------------------------------- registry */

int rr_templates_new(rr_templates **out, rr_store *store, char *err, size_t errsize)
{
  rr_templates *t;
  json_object *root = NULL;
  int error = 0;

  *out = NULL;
  if ((t = calloc(1, sizeof(*t))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  t->store = store;
  for (size_t i = 0; i < BUILTIN_COUNT && error == 0; i++) {
    const rr_embedded_file *f = rr_embedded_find(rr_resources_files, rr_resources_count, builtin_paths[i]);
    char why[256] = "";
    if (f == NULL) {
      error = rr_fail(err, errsize, RR_EINVAL, "built-in template %s is not embedded", builtin_paths[i]);
      break;
    }
    if ((error = rr_template_validate((const char *)f->data, f->size, why, sizeof(why))) < 0 ||
        (error = parse_json(&root, (const char *)f->data, f->size, "the template", why, sizeof(why))) < 0) {
      rr_fail(err, errsize, RR_EINVAL, "built-in template %s: %s", builtin_paths[i], why);
      break;
    }
    rr_str_copy(t->builtins[i].id, sizeof(t->builtins[i].id), type_of(root, "id"));
    t->builtins[i].json = (const char *)f->data;
    t->builtins[i].len = f->size;
    t->builtins[i].revision = member(root, "revision") ? json_object_get_int64(member(root, "revision")) : 1;
    if (t->builtins[i].revision < 1)
      t->builtins[i].revision = 1;
    json_object_put(root);
    root = NULL;
  }
  if (error < 0) {
    free(t);
    return error;
  }
  *out = t;
  return 0;
}

void rr_templates_free(rr_templates *t)
{
  free(t);
}

static const builtin *find_builtin(const rr_templates *t, const char *id)
{
  for (size_t i = 0; i < BUILTIN_COUNT; i++)
    if (strcmp(t->builtins[i].id, id) == 0)
      return &t->builtins[i];
  return NULL;
}

static void resolved_dispose(resolved *r)
{
  json_object_put(r->tpl);
  memset(r, 0, sizeof(*r));
}

/* A template body as the registry stores it: without the members it adds,
 * serialised plainly (*out owned). */
static int body_text(char **out, json_object *tpl, char *err, size_t errsize)
{
  for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
    json_object_object_del(tpl, volatile_keys[i]);
  return dup_json(out, tpl, err, errsize);
}

/* Whether a stored row's JSON is the built-in b as shipped. */
static bool same_as_shipped(const char *row_json, const builtin *b)
{
  json_object *tpl = NULL;
  char *shipped = NULL;
  bool same = false;

  if (parse_json(&tpl, b->json, b->len, "a built-in template", NULL, 0) == 0 && body_text(&shipped, tpl, NULL, 0) == 0)
    same = strcmp(shipped, row_json) == 0;
  free(shipped);
  json_object_put(tpl);
  return same;
}

/* r from a store row (over the built-in b, may be NULL). */
static int from_row(resolved *r, const rr_report_template_rec *row, const builtin *b, char *err, size_t errsize)
{
  int error = parse_json(&r->tpl, row->json, strlen(row->json), "a stored template", err, errsize);

  if (error < 0)
    return error;
  r->revision = row->revision;
  r->builtin = b != NULL;
  r->modified = b != NULL && !same_as_shipped(row->json, b);
  r->retired = row->retired;
  r->stored = true;
  rr_str_copy(r->updated_by, sizeof(r->updated_by), row->updated_by);
  r->updated_at = row->updated_at;
  return 0;
}

static int from_builtin(resolved *r, const builtin *b, char *err, size_t errsize)
{
  int error = parse_json(&r->tpl, b->json, b->len, "a built-in template", err, errsize);

  r->revision = b->revision;
  r->builtin = true;
  return error;
}

/* What `id` stands for now. RR_ENOTFOUND (with a sentence) when nothing. */
static int resolve(resolved *r, rr_templates *t, const char *id, char *err, size_t errsize)
{
  rr_report_template_rec row;
  const builtin *b;
  int error;

  memset(r, 0, sizeof(*r));
  memset(&row, 0, sizeof(row));
  if (!id_valid(id))
    return rr_fail(err, errsize, RR_ENOTFOUND, "no such template");
  b = find_builtin(t, id);
  if (t->store != NULL) {
    error = rr_store_report_template_get(t->store, &row, id, err, errsize);
    if (error == 0) {
      error = from_row(r, &row, b, err, errsize);
      rr_report_template_rec_dispose(&row);
      return error;
    }
    if (error != RR_ENOTFOUND)
      return error;
  }
  if (b == NULL)
    return rr_fail(err, errsize, RR_ENOTFOUND, "no template \"%s\"", id);
  return from_builtin(r, b, err, errsize);
}

/* The answer's object: id, title, revision, builtin, modified, retired,
 * updatedBy, updatedAt, then the template's other members in order. */
static json_object *present(const resolved *r)
{
  json_object *o = json_object_new_object();
  int jerr = 0;

  rr_json_set(o, "id", json_object_get(member(r->tpl, "id")), &jerr);
  rr_json_set(o, "title", json_object_get(member(r->tpl, "title")), &jerr);
  rr_json_set(o, "revision", json_object_new_int64(r->revision), &jerr);
  rr_json_set(o, "builtin", json_object_new_boolean(r->builtin), &jerr);
  rr_json_set(o, "modified", json_object_new_boolean(r->modified), &jerr);
  rr_json_set(o, "retired", json_object_new_boolean(r->retired), &jerr);
  rr_json_set_opt(o, "updatedBy", r->updated_by[0] != '\0', json_object_new_string(r->updated_by), &jerr);
  rr_json_add_time(o, "updatedAt", r->updated_at / 1000, &jerr); /* ms in the store */
  if (member(r->tpl, "match") == NULL)
    rr_json_set(o, "match", json_object_new_object(), &jerr);
  json_object_object_foreach(r->tpl, key, val) {
    if (strcmp(key, "id") != 0 && strcmp(key, "title") != 0 &&
        !key_in(key, volatile_keys, sizeof(volatile_keys) / sizeof(volatile_keys[0])))
      rr_json_set(o, key, json_object_get(val), &jerr);
  }
  return rr_json_done(o, jerr);
}

int rr_templates_get(char **out, bool *retired, rr_templates *t, const char *id, char *err, size_t errsize)
{
  resolved r;
  json_object *o;
  int error;

  *out = NULL;
  if ((error = resolve(&r, t, id, err, errsize)) < 0)
    return error;
  if ((o = present(&r)) == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else
    error = dup_json(out, o, err, errsize);
  if (error == 0 && retired != NULL)
    *retired = r.retired;
  json_object_put(o);
  resolved_dispose(&r);
  return error;
}

/* Every template as presented (built-ins with their overrides, then the
 * store's own), into the array *out, by title then id. */
static int collect(json_object **out, rr_templates *t, bool include_retired, char *err, size_t errsize);

int rr_templates_list(char **out, rr_templates *t, bool include_retired, char *err, size_t errsize)
{
  json_object *arr = NULL, *o;
  int error, jerr = 0;

  *out = NULL;
  if ((error = collect(&arr, t, include_retired, err, errsize)) < 0)
    return error;
  o = json_object_new_object();
  rr_json_set(o, "data", arr, &jerr);
  if ((o = rr_json_done(o, jerr)) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  error = dup_json(out, o, err, errsize);
  json_object_put(o);
  return error;
}

static int by_title(const void *a, const void *b)
{
  json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
  int c = strcasecmp(type_of(x, "title"), type_of(y, "title"));

  return c != 0 ? c : strcmp(type_of(x, "id"), type_of(y, "id"));
}

static int add_presented(json_object *arr, resolved *r, bool include_retired)
{
  json_object *o;

  if (r->retired && !include_retired)
    return 0;
  if ((o = present(r)) == NULL)
    return RR_ENOMEM;
  return rr_json_push(arr, o);
}

static const rr_report_template_rec *row_of(const rr_report_template_list *rows, const char *id)
{
  for (size_t i = 0; rows != NULL && i < rows->count; i++)
    if (strcmp(rows->items[i].id, id) == 0)
      return &rows->items[i];
  return NULL;
}

static int collect(json_object **out, rr_templates *t, bool include_retired, char *err, size_t errsize)
{
  rr_report_template_list *rows = NULL;
  json_object *arr = json_object_new_array();
  resolved r;
  int error = 0;

  *out = NULL;
  if (arr == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (t->store != NULL && (error = rr_store_report_template_list(t->store, &rows, err, errsize)) < 0)
    goto out;
  for (size_t i = 0; error == 0 && i < BUILTIN_COUNT; i++) {
    const rr_report_template_rec *row = row_of(rows, t->builtins[i].id);
    memset(&r, 0, sizeof(r));
    error = row ? from_row(&r, row, &t->builtins[i], err, errsize) : from_builtin(&r, &t->builtins[i], err, errsize);
    if (error == 0 && (error = add_presented(arr, &r, include_retired)) < 0)
      rr_fail(err, errsize, error, "out of memory");
    resolved_dispose(&r);
  }
  for (size_t i = 0; error == 0 && rows != NULL && i < rows->count; i++) {
    if (find_builtin(t, rows->items[i].id) != NULL)
      continue;
    memset(&r, 0, sizeof(r));
    if ((error = from_row(&r, &rows->items[i], NULL, err, errsize)) == 0 &&
        (error = add_presented(arr, &r, include_retired)) < 0)
      rr_fail(err, errsize, error, "out of memory");
    resolved_dispose(&r);
  }
  if (error == 0)
    json_object_array_sort(arr, by_title);
out:
  rr_report_template_list_free(rows);
  if (error < 0)
    json_object_put(arr);
  else
    *out = arr;
  return error;
}

/* ------------------------------------------------------------------ choice */

/* Whether `word` occurs in text as a whole word (case-insensitive). */
static bool has_word(const char *text, const char *word)
{
  size_t n = strlen(word);

  if (n == 0)
    return false;
  for (const char *p = text; *p != '\0'; p++) {
    if (strncasecmp(p, word, n) != 0)
      continue;
    if ((p == text || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[n]))
      return true;
  }
  return false;
}

/* Whether one of the backslash-separated values of `values` is in the
 * array member `key` of match (case-insensitive, spaces ignored at the ends). */
static bool any_in(json_object *match, const char *key, const char *values)
{
  json_object *arr = member(match, key);
  size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
  char one[128];
  const char *p = values;

  while (p != NULL && *p != '\0') {
    const char *e = strchr(p, '\\');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    while (len > 0 && isspace((unsigned char)*p)) {
      p++;
      len--;
    }
    while (len > 0 && isspace((unsigned char)p[len - 1]))
      len--;
    rr_str_copyn(one, sizeof(one), p, len);
    for (size_t i = 0; one[0] != '\0' && i < n; i++)
      if (strcasecmp(json_object_get_string(json_object_array_get_idx(arr, i)), one) == 0)
        return true;
    p = e ? e + 1 : NULL;
  }
  return false;
}

static bool any_keyword(json_object *match, const char *description, const char *body_part)
{
  json_object *arr = member(match, "keywords");
  size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

  for (size_t i = 0; i < n; i++) {
    const char *w = json_object_get_string(json_object_array_get_idx(arr, i));
    if (has_word(description, w) || has_word(body_part, w))
      return true;
  }
  return false;
}

/* A template's score for a study: 0 when it does not suit it (another
 * modality, or neither body part nor keyword matched); else modality 1,
 * body part 4, keyword 2. */
static int score(json_object *tpl, const char *modalities, const char *body_part, const char *description)
{
  json_object *match = member(tpl, "match"), *mods = member(match, "modalities");
  int s = 0;

  if (mods != NULL && json_object_array_length(mods) > 0) {
    if (!any_in(match, "modalities", modalities))
      return 0;
    s += 1;
  }
  if (any_in(match, "bodyParts", body_part))
    s += 4;
  if (any_keyword(match, description, body_part))
    s += 2;
  return s > 1 ? s : 0;
}

int rr_templates_choose(char *out, size_t out_size, rr_templates *t, const char *modalities, const char *body_part,
                        const char *description)
{
  json_object *arr = NULL;
  const char *best = RR_TEMPLATE_FALLBACK;
  int best_score = 0, error;

  if ((error = collect(&arr, t, false, NULL, 0)) < 0) {
    rr_str_copy(out, out_size, RR_TEMPLATE_FALLBACK);
    return RR_ESTORE;
  }
  for (size_t i = 0; i < json_object_array_length(arr); i++) {
    json_object *tpl = json_object_array_get_idx(arr, i);
    int sc = score(tpl, modalities ? modalities : "", body_part ? body_part : "", description ? description : "");
    if (sc > best_score) {
      best_score = sc;
      best = type_of(tpl, "id");
    }
  }
  rr_str_copy(out, out_size, best);
  json_object_put(arr);
  return 0;
}

int rr_templates_choose_study(char *out, size_t out_size, rr_templates *t, const rr_study_detail *study)
{
  rr_buf parts, words;
  int error;

  rr_buf_init(&parts, 4096);
  rr_buf_init(&words, 16384);
  rr_buf_puts(&parts, "");
  rr_buf_puts(&words, study->study.study_description);
  for (size_t i = 0; i < study->series_count; i++) {
    const rr_series_rec *se = &study->series[i].series;
    if (se->body_part[0] != '\0')
      rr_buf_printf(&parts, "%s%s", parts.len ? "\\" : "", se->body_part); /* a full buffer drops the rest */
    if (se->series_description[0] != '\0')
      rr_buf_printf(&words, " / %s", se->series_description);
  }
  error = rr_templates_choose(out, out_size, t, study->study.modalities, parts.ptr ? parts.ptr : "",
                              words.ptr ? words.ptr : "");
  rr_buf_dispose(&parts);
  rr_buf_dispose(&words);
  return error;
}

/* ------------------------------------------------------------------ writes */

/* A validated template from an administrator, without the members the
 * registry adds (*out owned). */
static int accept_input(json_object **out, const char *json, size_t len, char *err, size_t errsize)
{
  json_object *root = NULL;
  int error;

  *out = NULL;
  if (len > RR_REPORT_TEMPLATE_JSON_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a template is at most %d bytes", RR_REPORT_TEMPLATE_JSON_MAX);
  if ((error = parse_json(&root, json, len, "the template", err, errsize)) < 0)
    return error;
  if ((error = validate_object(root, err, errsize)) < 0) {
    json_object_put(root);
    return error;
  }
  for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
    json_object_object_del(root, volatile_keys[i]);
  *out = root;
  return 0;
}

/* Write the template body tpl for id: update the store's row at
 * `expected` revision, or create the row over a built-in (revision
 * expected + 1). A concurrent first write of a built-in is RR_ESTALE. */
static int write_row(rr_templates *t, const char *id, json_object *tpl, bool retired, int64_t expected,
                     bool has_row, const char *by, int64_t now, char *err, size_t errsize)
{
  rr_report_template_rec rec;
  int error;

  memset(&rec, 0, sizeof(rec));
  rr_str_copy(rec.id, sizeof(rec.id), id);
  rec.json = (char *)json_object_to_json_string_ext(tpl, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (rec.json == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if (strlen(rec.json) > RR_REPORT_TEMPLATE_JSON_MAX)
    return rr_fail(err, errsize, RR_EINVAL, "a template is at most %d bytes", RR_REPORT_TEMPLATE_JSON_MAX);
  rec.retired = retired;
  rr_str_copy(rec.updated_by, sizeof(rec.updated_by), by ? by : "");
  rec.updated_at = now;
  if (has_row)
    return rr_store_report_template_update(t->store, NULL, &rec, expected, err, errsize);
  rec.revision = expected + 1;
  error = rr_store_report_template_create(t->store, &rec, err, errsize);
  if (error == RR_EEXISTS)
    error = rr_fail(err, errsize, RR_ESTALE, "the template was changed by someone else meanwhile");
  return error;
}

static int need_store(rr_templates *t, char *err, size_t errsize)
{
  return t->store == NULL ? rr_fail(err, errsize, RR_ESTORE, "templates cannot be changed without a store") : 0;
}

int rr_templates_create(char **out, rr_templates *t, const char *json, size_t len, const char *by, int64_t now,
                        char *err, size_t errsize)
{
  rr_report_template_rec rec;
  json_object *tpl = NULL;
  const char *id;
  int error;

  *out = NULL;
  if ((error = need_store(t, err, errsize)) < 0 || (error = accept_input(&tpl, json, len, err, errsize)) < 0)
    return error;
  id = type_of(tpl, "id");
  if (find_builtin(t, id) != NULL) {
    error = rr_fail(err, errsize, RR_EEXISTS, "\"%s\" is a built-in template: change it with PUT", id);
    goto out;
  }
  memset(&rec, 0, sizeof(rec));
  rr_str_copy(rec.id, sizeof(rec.id), id);
  rec.json = (char *)json_object_to_json_string_ext(tpl, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  rec.revision = 1;
  rr_str_copy(rec.updated_by, sizeof(rec.updated_by), by ? by : "");
  rec.updated_at = now;
  if (rec.json == NULL)
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  else if ((error = rr_store_report_template_create(t->store, &rec, err, errsize)) == RR_EEXISTS)
    error = rr_fail(err, errsize, RR_EEXISTS, "a template \"%s\" exists already", id);
  if (error == 0)
    error = rr_templates_get(out, NULL, t, id, err, errsize);
out:
  json_object_put(tpl);
  return error;
}

int rr_templates_update(char **out, rr_templates *t, const char *id, const char *json, size_t len,
                        int64_t expected_revision, const char *by, int64_t now, char *err, size_t errsize)
{
  json_object *tpl = NULL;
  resolved cur;
  int error;

  *out = NULL;
  memset(&cur, 0, sizeof(cur));
  if ((error = need_store(t, err, errsize)) < 0 || (error = resolve(&cur, t, id, err, errsize)) < 0 ||
      (error = accept_input(&tpl, json, len, err, errsize)) < 0)
    goto out;
  if (strcmp(type_of(tpl, "id"), id) != 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "the template's id must stay \"%s\"", id);
    goto out;
  }
  if (expected_revision != cur.revision) {
    error = rr_fail(err, errsize, RR_ESTALE, "the template is at revision %lld, not %lld", (long long)cur.revision,
                    (long long)expected_revision);
    goto out;
  }
  if ((error = write_row(t, id, tpl, cur.retired, cur.revision, cur.stored, by, now, err,
                         errsize)) == 0)
    error = rr_templates_get(out, NULL, t, id, err, errsize);
out:
  json_object_put(tpl);
  resolved_dispose(&cur);
  return error;
}

int rr_templates_set_retired(char **out, rr_templates *t, const char *id, bool retired, const char *by, int64_t now,
                             char *err, size_t errsize)
{
  resolved cur;
  int error;

  *out = NULL;
  memset(&cur, 0, sizeof(cur));
  if ((error = need_store(t, err, errsize)) < 0 || (error = resolve(&cur, t, id, err, errsize)) < 0)
    goto out;
  if (retired && strcmp(id, RR_TEMPLATE_FALLBACK) == 0) {
    error = rr_fail(err, errsize, RR_ECONFLICT,
                    "\"%s\" is the template of studies no other template suits: change it, but it cannot be retired",
                    RR_TEMPLATE_FALLBACK);
    goto out;
  }
  if (cur.retired != retired) {
    for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
      json_object_object_del(cur.tpl, volatile_keys[i]);
    if ((error = write_row(t, id, cur.tpl, retired, cur.revision, cur.stored, by, now, err,
                           errsize)) < 0)
      goto out;
  }
  error = rr_templates_get(out, NULL, t, id, err, errsize);
out:
  resolved_dispose(&cur);
  return error;
}

int rr_templates_reset(char **out, rr_templates *t, const char *id, const char *by, int64_t now, char *err,
                       size_t errsize)
{
  const builtin *b;
  json_object *shipped = NULL;
  resolved cur;
  int error;

  *out = NULL;
  memset(&cur, 0, sizeof(cur));
  if ((error = need_store(t, err, errsize)) < 0 || (error = resolve(&cur, t, id, err, errsize)) < 0)
    goto out;
  if ((b = find_builtin(t, id)) == NULL) {
    error = rr_fail(err, errsize, RR_ECONFLICT, "only a built-in template has a shipped version to go back to");
    goto out;
  }
  if (cur.modified) {
    if ((error = parse_json(&shipped, b->json, b->len, "a built-in template", err, errsize)) < 0)
      goto out;
    for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
      json_object_object_del(shipped, volatile_keys[i]);
    if ((error = write_row(t, id, shipped, cur.retired, cur.revision, cur.stored, by, now, err, errsize)) < 0)
      goto out;
  }
  error = rr_templates_get(out, NULL, t, id, err, errsize);
out:
  json_object_put(shipped);
  resolved_dispose(&cur);
  return error;
}
