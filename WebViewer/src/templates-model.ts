// Report templates (README "Report templates"): the template as the server sends it, and the pure logic of
// the administrators' editor — a new template's outline, ids from labels, field type changes, moves, the
// checks the server makes (shown before saving), the JSON view's text. No DOM here.
import { DecodeError, arrayOf, bool, fields, isRecord, num, object, requiredStr, str, strOrNull, strings, type JsonObject } from './decode';

export const FIELD_TYPES = ['text', 'longtext', 'number', 'date', 'choice', 'multichoice'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const REQUIRED_LEVELS = ['none', 'warn', 'block'] as const;
export type RequiredLevel = (typeof REQUIRED_LEVELS)[number];

export const FIELD_TYPE_LABELS: Record<FieldType, string> = {
  text: 'Text (one line)',
  longtext: 'Long text',
  number: 'Number',
  date: 'Date',
  choice: 'Single choice',
  multichoice: 'Multiple choice',
};
export const REQUIRED_LABELS: Record<RequiredLevel, string> = {
  none: 'Optional',
  warn: 'Warn when empty',
  block: 'Required to sign',
};

/** The RadReport outline's sections with their LOINC codes (NOTES "Reports"). */
export const SECTION_CODES: readonly { code: string; meaning: string; title: string; id: string }[] = [
  { code: '55752-0', meaning: 'Clinical information', title: 'Clinical information', id: 'clinical' },
  { code: '55111-9', meaning: 'Current imaging procedure description', title: 'Technique', id: 'procedure' },
  { code: '18834-2', meaning: 'Radiology Comparison study (narrative)', title: 'Comparison', id: 'comparison' },
  { code: '59776-5', meaning: 'Procedure Findings', title: 'Findings', id: 'findings' },
  { code: '19005-8', meaning: 'Radiology Imaging study [Impression] (narrative)', title: 'Impression', id: 'impression' },
  { code: '18783-1', meaning: 'Radiology Study recommendation (narrative)', title: 'Recommendations', id: 'recommendations' },
];

export type FieldValue = string | number | string[] | null;

export interface TemplateField {
  id: string;
  label: string;
  type: FieldType;
  options?: string[];
  unit?: string;
  min?: number;
  max?: number;
  default?: FieldValue;
  required?: RequiredLevel;
  placeholder?: string;
  help?: string;
}

export interface TemplateSection {
  id: string;
  title: string;
  code?: string;
  meaning?: string;
  fields: TemplateField[];
}

export interface TemplateMatch {
  modalities?: string[];
  bodyParts?: string[];
  keywords?: string[];
}

/** What an administrator edits. */
export interface TemplateBody {
  id: string;
  title: string;
  description?: string;
  match: TemplateMatch;
  sections: TemplateSection[];
}

/** A template as the server answers it: the body plus the server's bookkeeping. */
export interface ReportTemplate extends TemplateBody {
  revision: number;
  builtin: boolean;
  modified: boolean;
  retired: boolean;
  updatedBy: string | null;
  updatedAt: string | null;
}

const isFieldType = (v: string): v is FieldType => (FIELD_TYPES as readonly string[]).includes(v);
const isRequired = (v: string): v is RequiredLevel => (REQUIRED_LEVELS as readonly string[]).includes(v);

function decodeDefault(v: unknown): FieldValue | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (Array.isArray(v)) return strings(v);
  return null;
}

function decodeField(v: unknown, path: string): TemplateField {
  const r = object(v, path);
  const type = str(r.type);
  if (!isFieldType(type)) throw new DecodeError(`${path}.type`, `one of ${FIELD_TYPES.join(", ")}`);
  const f: TemplateField = { id: requiredStr(r.id, `${path}.id`), label: str(r.label), type };
  if (Array.isArray(r.options)) f.options = strings(r.options);
  if (typeof r.unit === 'string') f.unit = r.unit;
  const min = num(r.min);
  const max = num(r.max);
  if (min !== null) f.min = min;
  if (max !== null) f.max = max;
  const d = decodeDefault(r.default);
  if (d !== undefined && d !== null) f.default = d;
  if (typeof r.required === 'string' && isRequired(r.required)) f.required = r.required;
  if (typeof r.placeholder === 'string') f.placeholder = r.placeholder;
  if (typeof r.help === 'string') f.help = r.help;
  return f;
}

function decodeSection(v: unknown, path: string): TemplateSection {
  const r = object(v, path);
  const s: TemplateSection = { id: requiredStr(r.id, `${path}.id`), title: str(r.title), fields: arrayOf(r.fields, `${path}.fields`, decodeField) };
  if (typeof r.code === 'string') s.code = r.code;
  if (typeof r.meaning === 'string') s.meaning = r.meaning;
  return s;
}

function decodeMatch(v: unknown): TemplateMatch {
  const r = fields(v);
  const m: TemplateMatch = {};
  if (Array.isArray(r.modalities)) m.modalities = strings(r.modalities);
  if (Array.isArray(r.bodyParts)) m.bodyParts = strings(r.bodyParts);
  if (Array.isArray(r.keywords)) m.keywords = strings(r.keywords);
  return m;
}

/** One template of the API; its id and sections are required, the rest reads leniently. */
export function decodeTemplate(v: unknown, path = 'template'): ReportTemplate {
  const r = object(v, path);
  const t: ReportTemplate = {
    id: requiredStr(r.id, `${path}.id`),
    title: str(r.title),
    match: decodeMatch(r.match),
    sections: arrayOf(r.sections, `${path}.sections`, decodeSection),
    revision: num(r.revision) ?? 1,
    builtin: bool(r.builtin) ?? false,
    modified: bool(r.modified) ?? false,
    retired: bool(r.retired) ?? false,
    updatedBy: strOrNull(r.updatedBy),
    updatedAt: strOrNull(r.updatedAt),
  };
  if (typeof r.description === 'string') t.description = r.description;
  return t;
}

export interface TemplateList {
  data: ReportTemplate[];
  suggested: string | null;
}

/** Answer of GET reports/templates: {"data": [template…], "suggested": id|null}. */
export function decodeTemplateList(body: JsonObject | null): TemplateList {
  const r = fields(body);
  return { data: arrayOf(r.data, 'data', decodeTemplate), suggested: strOrNull(r.suggested) };
}

/** The body sent to the server: what an administrator edits, without the server's bookkeeping. */
export function templateBody(t: TemplateBody): TemplateBody {
  const body: TemplateBody = { id: t.id, title: t.title, match: t.match, sections: t.sections };
  if (t.description !== undefined && t.description !== '') body.description = t.description;
  return body;
}

/** A deep copy (the editor changes its draft in place). */
export function cloneBody(t: TemplateBody): TemplateBody {
  return JSON.parse(JSON.stringify(templateBody(t))) as TemplateBody;
}

/** An id from a label: lower case, [a-z0-9_], at most 64 characters ("Right lobe (mL)" -> "right_lobe_ml"). */
export function slugId(label: string, fallback = 'field'): string {
  const s = label
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return s || fallback;
}

/** `base`, or base_2, base_3… — the first not in `taken`. */
export function uniqueId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = `_${i}`;
    const id = base.slice(0, 64 - suffix.length) + suffix;
    if (!used.has(id)) return id;
  }
}

export function allFieldIds(t: TemplateBody): string[] {
  return t.sections.flatMap((s) => s.fields.map((f) => f.id));
}

/** A new template: the RadReport outline, a comparison field (the report tab fills it with priors) and an
 *  impression required to sign. */
export function newTemplate(): TemplateBody {
  const field = (id: string, label: string, required: RequiredLevel = 'none'): TemplateField =>
    required === 'none' ? { id, label, type: 'longtext' } : { id, label, type: 'longtext', required };
  const sectionFields: Record<string, TemplateField[]> = {
    clinical: [field('indication', 'Indication', 'warn')],
    procedure: [field('technique', 'Technique')],
    comparison: [field('comparison', 'Comparison')],
    findings: [field('findings', 'Findings', 'warn')],
    impression: [field('impression', 'Impression', 'block')],
    recommendations: [field('recommendations', 'Recommendations')],
  };
  return {
    id: '',
    title: '',
    match: { modalities: [], bodyParts: [], keywords: [] },
    sections: SECTION_CODES.map((c) => ({ id: c.id, title: c.title, code: c.code, meaning: c.meaning, fields: sectionFields[c.id] ?? [] })),
  };
}

/** A new text field in `section`, with an id unique in the template. */
export function addField(t: TemplateBody, section: TemplateSection, label = 'New field'): TemplateField {
  const f: TemplateField = { id: uniqueId(slugId(label), allFieldIds(t)), label, type: 'text' };
  section.fields.push(f);
  return f;
}

export function addSection(t: TemplateBody, title = 'New section'): TemplateSection {
  const s: TemplateSection = { id: uniqueId(slugId(title, 'section'), t.sections.map((x) => x.id)), title, fields: [] };
  t.sections.push(s);
  return s;
}

/** Change a field's type, dropping what the new type does not have (options, unit, min, max) and a default
 *  that no longer fits. */
export function setFieldType(f: TemplateField, type: FieldType): void {
  const choice = type === 'choice' || type === 'multichoice';
  if (!choice) delete f.options;
  else if (!f.options) f.options = [];
  if (type !== 'number') {
    delete f.unit;
    delete f.min;
    delete f.max;
  }
  if (f.type !== type) delete f.default;
  f.type = type;
}

/** Moves arr[i] by delta (-1 up, +1 down); false when it cannot move. */
export function move<T>(arr: T[], i: number, delta: number): boolean {
  const j = i + delta;
  if (i < 0 || i >= arr.length || j < 0 || j >= arr.length) return false;
  const [x] = arr.splice(i, 1);
  arr.splice(j, 0, x as T);
  return true;
}

/** Lines of a textarea as a list (trimmed, empty lines dropped). */
export function linesOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma- or backslash-separated list ("CT, MR") as a list. */
export function listOf(text: string): string[] {
  return text
    .split(/[,\\]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The default a field's input stands for: undefined when empty; a number for number fields (NaN text is
 *  kept as text, so the check below reports it); lines for multichoice. */
export function defaultFromText(f: TemplateField, text: string): FieldValue | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (f.type === 'number') {
    const n = Number(t);
    return Number.isFinite(n) ? n : t;
  }
  if (f.type === 'multichoice') return linesOf(text);
  return f.type === 'longtext' ? text : t;
}

export function defaultToText(f: TemplateField): string {
  const d = f.default;
  if (d === undefined || d === null) return '';
  return Array.isArray(d) ? d.join('\n') : String(d);
}

const ID_RE = /^[A-Za-z0-9._-]{1,64}$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function realDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

function defaultProblem(f: TemplateField): string | null {
  const d = f.default;
  if (d === undefined || d === null || d === '') return null;
  const where = `Field "${f.label || f.id}"`;
  switch (f.type) {
    case 'number':
      if (typeof d !== 'number') return `${where}: the default must be a number.`;
      if ((f.min !== undefined && d < f.min) || (f.max !== undefined && d > f.max)) return `${where}: the default is outside min–max.`;
      return null;
    case 'date':
      return typeof d === 'string' && realDate(d) ? null : `${where}: the default must be a date YYYY-MM-DD.`;
    case 'choice':
      return typeof d === 'string' && (f.options ?? []).includes(d) ? null : `${where}: the default must be one of the options.`;
    case 'multichoice':
      return Array.isArray(d) && d.every((x) => (f.options ?? []).includes(x)) && new Set(d).size === d.length
        ? null
        : `${where}: the default must be some of the options, each once.`;
    case 'text':
      return typeof d === 'string' && !/[\r\n]/.test(d) ? null : `${where}: the default of a one-line field has no line breaks.`;
    default:
      return null;
  }
}

function fieldProblems(f: TemplateField): string[] {
  const out: string[] = [];
  const name = `Field "${f.label || f.id || '?'}"`;
  if (!ID_RE.test(f.id)) out.push(`${name}: its id must be 1 to 64 of letters, digits, ".", "_" and "-".`);
  if (f.label.trim() === '') out.push(`Field "${f.id}": it needs a label.`);
  if ((f.type === 'choice' || f.type === 'multichoice') && (f.options ?? []).length === 0) out.push(`${name}: a choice needs options.`);
  if (f.options && new Set(f.options).size !== f.options.length) out.push(`${name}: an option is listed twice.`);
  if (f.min !== undefined && f.max !== undefined && f.min > f.max) out.push(`${name}: min is greater than max.`);
  const d = defaultProblem(f);
  if (d) out.push(d);
  return out;
}

/** The problems the server would refuse the template for (the same rules, in sentences); [] when none. */
export function templateProblems(t: TemplateBody): string[] {
  const out: string[] = [];
  if (!ID_RE.test(t.id)) out.push('The template id must be 1 to 64 of letters, digits, ".", "_" and "-".');
  if (t.title.trim() === '') out.push('The template needs a title.');
  if (t.sections.length === 0) out.push('The template needs at least one section.');
  const sectionIds = new Set<string>();
  const fieldIds = new Set<string>();
  for (const s of t.sections) {
    if (!ID_RE.test(s.id)) out.push(`Section "${s.title || s.id}": its id must be 1 to 64 of letters, digits, ".", "_" and "-".`);
    if (sectionIds.has(s.id)) out.push(`Section id "${s.id}" is used twice.`);
    sectionIds.add(s.id);
    if (s.title.trim() === '') out.push(`Section "${s.id}": it needs a title.`);
    for (const f of s.fields) {
      out.push(...fieldProblems(f));
      if (fieldIds.has(f.id)) out.push(`Field id "${f.id}" is used twice.`);
      fieldIds.add(f.id);
    }
  }
  return out;
}

/** The JSON view's text of a template body. */
export function toJsonText(t: TemplateBody): string {
  return JSON.stringify(templateBody(t), null, 2);
}

/** The JSON view's text back as a template body (for the form) and the object as typed (what is sent, so
 *  the server judges every member), or the reason it is not one. */
export function fromJsonText(text: string): { body: TemplateBody; raw: JsonObject } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    return { error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!isRecord(value)) return { error: 'The template must be a JSON object.' };
  try {
    const t = decodeTemplate({ revision: 1, ...value });
    return { body: templateBody(t), raw: value };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** A one-line summary of a template's state for the list: built-in / modified / custom, retired. */
export function templateOrigin(t: Pick<ReportTemplate, 'builtin' | 'modified'>): string {
  if (t.builtin) return t.modified ? 'Built-in, modified' : 'Built-in';
  return 'Custom';
}

export function fieldCount(t: TemplateBody): number {
  return t.sections.reduce((n, s) => n + s.fields.length, 0);
}
