// The report templates endpoints of the plugin's API (api/templates_api.h): list, one template, and the
// administrators' writes. Edits name the revision they change (If-Match): a 412 answer means another change
// came first (ApiError status 412, code "version_mismatch").
import type { Api } from './api';
import { decodeTemplate, decodeTemplateList, templateBody, type ReportTemplate, type TemplateBody, type TemplateList } from './templates-model';
import type { JsonObject } from './decode';

const BASE = 'reports/templates';
const one = (id: string): string => `${BASE}/${encodeURIComponent(id)}`;
const decodeOne = (body: JsonObject | null): ReportTemplate => decodeTemplate(body);

/** GET reports/templates (retired ones too with all; the study's suggested template with studyUid). */
export function listTemplates(api: Api, opts: { all?: boolean; studyUid?: string } = {}, signal?: AbortSignal): Promise<TemplateList> {
  const q: string[] = [];
  if (opts.all) q.push('all=true');
  if (opts.studyUid) q.push(`studyInstanceUid=${encodeURIComponent(opts.studyUid)}`);
  return api.getJson(q.length ? `${BASE}?${q.join('&')}` : BASE, decodeTemplateList, signal);
}

export function getTemplate(api: Api, id: string, signal?: AbortSignal): Promise<ReportTemplate> {
  return api.getJson(one(id), decodeOne, signal);
}

/** What is sent: the form's template without the server's bookkeeping, or the JSON view's object as typed. */
export type TemplatePayload = { form: TemplateBody } | { raw: JsonObject };
const payload = (p: TemplatePayload): unknown => ('form' in p ? templateBody(p.form) : p.raw);

/** POST a new template. */
export function createTemplate(api: Api, body: TemplatePayload): Promise<ReportTemplate> {
  return api.decoded('POST', BASE, decodeOne, { body: payload(body) });
}

/** PUT the template `id` over `revision`. */
export function updateTemplate(api: Api, id: string, body: TemplatePayload, revision: number): Promise<ReportTemplate> {
  return api.decoded('PUT', one(id), decodeOne, { body: payload(body), headers: { 'If-Match': `"${revision}"` } });
}

export function setTemplateRetired(api: Api, id: string, retired: boolean): Promise<ReportTemplate> {
  return api.decoded('POST', `${one(id)}/${retired ? 'retire' : 'restore'}`, decodeOne);
}

/** Back to the built-in template as shipped (the administrator's changes are dropped; revision + 1). */
export function resetTemplate(api: Api, id: string): Promise<ReportTemplate> {
  return api.decoded('POST', `${one(id)}/reset`, decodeOne);
}
