/*
 * template.h - report templates: the built-in ones (JSON files embedded
 * from Resources/reports/templates/), those an administrator adds or edits
 * (kept in the store, store_report_templates.h), which one suits a study,
 * and the checks of a report's fields against a template.
 *
 * A template is a JSON object (README "Report templates"):
 *   {"id": "ct-chest", "title": "CT Chest", "revision": 1,
 *    "builtin": true, "retired": false,
 *    "match": {"modalities": ["CT"], "bodyParts": ["CHEST"], "keywords": ["chest", "thorax", "lung"]},
 *    "sections": [{"id": "findings", "title": "Findings", "code": "59776-5", "meaning": "Findings",
 *                  "fields": [{"id": "lungs", "label": "Lungs", "type": "longtext",
 *                              "default": "Clear.", "required": "warn"}, ...]}, ...]}
 * Field types: "text", "longtext", "number" (with "unit", optional "min",
 * "max"), "date", "choice" and "multichoice" (with "options": [strings]).
 * "required": "none" | "warn" | "block" (block: signing is refused while
 * the field is empty). Field and section ids: 1..64 of [A-Za-z0-9._-],
 * unique within the template (section ids among sections, field ids among
 * all the template's fields: a section and its field may share an id, as
 * "comparison" does). Other members: "placeholder" and "help" (fields),
 * "description" (template); unknown members are refused. Every built-in
 * has a longtext field "comparison" (the report tab fills it with priors).
 * Answers add "builtin" (a shipped id), "modified" (a built-in whose
 * stored version differs from the shipped one), "retired", "revision", "updatedBy", "updatedAt"
 * (null for an unchanged built-in); input may carry them (ignored). Field values in a report's fields object:
 * string (text, longtext, date "YYYY-MM-DD", choice: one of the options),
 * number, array of options (multichoice), or null/absent = empty.
 *
 * A value counts as empty when absent, null, a blank string or [];
 * "" is accepted as the empty value for every type.
 *
 * Thread-safe: a registry may be used by any number of threads.
 * Returned strings are malloc'd and owned by the caller (free()).
 */
#ifndef RR_REPORT_TEMPLATE_H
#define RR_REPORT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report_doc.h"

typedef struct rr_store rr_store;
typedef struct rr_templates rr_templates;

/* The built-in chosen when no other template suits a study; it cannot be
 * retired (rr_templates_set_retired: RR_ECONFLICT), only changed. */
#define RR_TEMPLATE_FALLBACK "generic"


/* A registry over the embedded built-ins and the store's templates (the
 * store's row of an id overrides the built-in of that id). The store is
 * borrowed and must outlive the registry. RR_EINVAL when a built-in does
 * not validate (a build fault, said in err). */
int rr_templates_new(rr_templates **out, rr_store *store, char *err, size_t errsize);
void rr_templates_free(rr_templates *t);

/* *out: the template's JSON (with "builtin", "retired", "revision");
 * *retired (may be NULL) whether it is retired. RR_ENOTFOUND when unknown. */
int rr_templates_get(char **out, bool *retired, rr_templates *t, const char *id, char *err, size_t errsize);

/* *out: {"data": [template, ...]} by title; retired ones only when
 * include_retired. */
int rr_templates_list(char **out, rr_templates *t, bool include_retired, char *err, size_t errsize);

/* The id of the active template that suits a study best (out of out_size
 * bytes): modality and body part first, then keywords in the description,
 * else "generic". `modalities` is backslash-separated. Never fails on bad
 * input (empty strings are allowed); returns 0 or RR_ESTORE. */
int rr_templates_choose(char *out, size_t out_size, rr_templates *t, const char *modalities, const char *body_part,
                        const char *description);

/* rr_templates_choose for a study as the store knows it: its modalities,
 * the body parts of its series, its description and those of its series. */
typedef struct rr_study_detail rr_study_detail;
int rr_templates_choose_study(char *out, size_t out_size, rr_templates *t, const rr_study_detail *study);

/* Validate a template given by an administrator (structure, ids, types,
 * options, sizes); RR_EINVAL with the reason in err. */
int rr_template_validate(const char *template_json, size_t len, char *err, size_t errsize);

/* Check a report's fields object (NULL or "" = {}) against a template (snapshot): every key
 * names a field, every value has the field's type (choice among options,
 * number within min/max, date a real YYYY-MM-DD). RR_EINVAL with the first
 * problem (field id, not the value) in err. */
int rr_template_check_fields(const char *template_json, const char *fields_json, char *err, size_t errsize);

/* Administrators' writes (`by` the user name, `now` unix ms; *out the
 * template as rr_templates_get answers it). Need a store (RR_ESTORE else).
 * create: a new id (RR_EEXISTS when it is a built-in's or a stored one's),
 *   revision 1; RR_EINVAL with the reason when it does not validate.
 * update: replaces the template of `id` (the body's id must be `id`) when
 *   its revision is expected_revision, else RR_ESTALE; revision + 1. A
 *   built-in's first change stores an override (its revision + 1).
 * set_retired: retires or restores (revision + 1; nothing changes when it
 *   is so already). RR_ENOTFOUND when no such template; RR_ECONFLICT when
 *   retiring RR_TEMPLATE_FALLBACK. */
int rr_templates_create(char **out, rr_templates *t, const char *json, size_t len, const char *by, int64_t now,
                        char *err, size_t errsize);
int rr_templates_update(char **out, rr_templates *t, const char *id, const char *json, size_t len,
                        int64_t expected_revision, const char *by, int64_t now, char *err, size_t errsize);
int rr_templates_set_retired(char **out, rr_templates *t, const char *id, bool retired, const char *by, int64_t now,
                             char *err, size_t errsize);
/* Back to the built-in `id` as shipped (its retired state kept; revision
 * + 1; nothing changes when it is so already). RR_ECONFLICT for a template
 * that is not a built-in, RR_ENOTFOUND for an unknown id. */
int rr_templates_reset(char **out, rr_templates *t, const char *id, const char *by, int64_t now, char *err,
                       size_t errsize);

/* The empty fields of required "block" and "warn" fields, as JSON arrays
 * of {"id", "label", "section"}: *out_block and *out_warn (both owned;
 * "[]" when none). */
int rr_template_missing(char **out_block, char **out_warn, const char *template_json, const char *fields_json,
                        char *err, size_t errsize);

/* The fields object a new report starts with: each field's default. */
int rr_template_defaults(char **out, const char *template_json, char *err, size_t errsize);

/* Fill doc->sections (and doc->title, doc->template_id) from a template
 * snapshot and a fields object: sections in template order, each with its
 * LOINC code, meaning and title and its non-empty fields rendered as text
 * (numbers with their unit, multichoice joined with ", "). Sections without
 * any value are left out. Replaces what doc held there. */
int rr_template_render(rr_report_doc *doc, const char *template_json, const char *fields_json, char *err,
                       size_t errsize);

#endif
