/*
 * api/templates_api.h - report templates (report/template.h) under the API
 * root (see README.md, "Report templates"):
 *
 *   GET  {root}reports/templates[?all=true][&studyInstanceUid=X]
 *     200 {"data": [template…] (by title; retired ones only with all=true),
 *          "suggested": "<id>"|null} — suggested: the template that suits
 *     the study (its modalities, series body parts and descriptions), null
 *     without studyInstanceUid; 404 unknown study.
 *   POST {root}reports/templates  body: a template → 201 the template
 *     (revision 1); 400 naming the problem; 409 already_exists.
 *   GET  {root}reports/templates/{id} → 200 the template (retired ones
 *     too), ETag "<revision>"; 404.
 *   PUT  {root}reports/templates/{id}  body: the template, If-Match:
 *     "<revision>" (required: 400 without) → 200 (revision + 1);
 *     412 version_mismatch when another change came first; 400; 404.
 *   POST {root}reports/templates/{id}/retire, …/{id}/restore → 200 the
 *     template; 404; 409 for "generic" (the fallback cannot be retired).
 *   POST {root}reports/templates/{id}/reset → 200 the built-in as shipped
 *     (revision + 1); 409 for a template that is not a built-in; 404.
 * A template is {"id", "title", "revision", "builtin", "modified",
 * "retired", "updatedBy", "updatedAt", "match", "sections": […]}.
 * Writes are audited: template.create, template.update, template.retire,
 * template.restore, template.reset (resource: the template id; detail: its revision).
 *
 * Who may call which is the role matrix's decision (auth/matrix.c: reads
 * for administrators and radiologists, writes for administrators). These
 * routes must be registered before any route of {root}reports/{id}, which
 * would take "templates" for a report id. Registration in
 * OrthancPluginInitialize; handlers run concurrently (the registry and the
 * store are thread-safe); `deps` (with deps->templates) outlives the plugin.
 */
#ifndef RR_API_TEMPLATES_API_H
#define RR_API_TEMPLATES_API_H

#include <orthanc/OrthancCPlugin.h>

#include "api/api.h"

int rr_templates_api_register(OrthancPluginContext *context, const rr_api_deps *deps, const char *root);

#endif
