// Reports on the wire (issue 12, /work/notes contract; README "Reports"): the report object with its versions
// and outputs, templates, macros, and the calls of the report tab. The readers check the shape that the tab
// relies on (a report needs its id, study, state and etag; a template its sections and fields) and give
// neutral values to the rest. Every string is untrusted: the tab puts it into the DOM as text only.
import type { Api } from './api';
import { DecodeError, arrayOf, bool, fields, id, isRecord, list, num, object, optArrayOf, requiredStr, str, strOrNull, type JsonObject } from './decode';

export const REPORT_STATES = ['draft', 'preliminary', 'final', 'appended', 'corrected', 'cancelled', 'entered-in-error'] as const;
export type ReportState = (typeof REPORT_STATES)[number];
export const FIELD_TYPES = ['text', 'longtext', 'number', 'date', 'choice', 'multichoice'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
/** What an empty field does at signing: nothing, a warning, or it blocks the signature. */
export type Completion = 'none' | 'warn' | 'block';

/** A field's value: text, longtext, date ("YYYY-MM-DD") and choice are strings, number a number, multichoice a list. */
export type FieldValue = string | number | string[] | null;
export type FieldValues = Record<string, FieldValue>;

export interface FieldOption {
  value: string;
  label: string;
}

export interface TemplateField {
  id: string;
  label: string;
  type: FieldType;
  options: FieldOption[];
  unit: string;
  min: number | null;
  max: number | null;
  default: FieldValue;
  required: Completion;
  placeholder: string;
}

export interface TemplateSection {
  id: string;
  title: string;
  code: string;
  meaning: string;
  fields: TemplateField[];
}

export interface Template {
  id: string;
  title: string;
  revision: number;
  builtin: boolean;
  retired: boolean;
  sections: TemplateSection[];
}

export interface AiFindingRef {
  analysisId: string;
  index: number;
}
export interface MeasurementRef {
  annotationUid: string;
}
export interface KeyImageRef {
  sopInstanceUid: string;
  frame: number;
}
export interface Inserts {
  aiFindings: AiFindingRef[];
  measurements: MeasurementRef[];
  keyImages: KeyImageRef[];
}

export type VersionKind = 'original' | 'addendum' | 'correction';

export interface ReportVersion {
  version: number;
  kind: string;
  status: string;
  fields: FieldValues;
  inserts: Inserts;
  text: string | null;
  author: string;
  updatedBy: string;
  createdAt: string | null;
  updatedAt: string | null;
  revision: number;
  signedBy: string | null;
  signedByName: string | null;
  signedAt: string | null;
  pdfSha256: string | null;
  /** "<api>/reports/12/pdf?version=1" as the server wrote it (null: no PDF, e.g. a draft). */
  pdf: string | null;
}

export interface ReportOutput {
  version: number;
  kind: string;
  state: string;
  attempts: number;
  lastError: string;
  orthancId: string;
  sopInstanceUid: string;
  updatedAt: string | null;
}

export interface CriticalCommunication {
  recipient: string;
  method: string;
  communicatedAt: string | null;
  recordedBy: string;
}

export interface Report {
  reportId: string;
  studyInstanceUid: string;
  state: string;
  stateReason: string | null;
  template: Template | null;
  critical: boolean;
  criticalCommunication: CriticalCommunication | null;
  acknowledgements: { username: string; at: string | null }[];
  createdBy: string;
  createdAt: string | null;
  updatedAt: string | null;
  prevailingVersion: number | null;
  /** The If-Match value of the next draft save or signature ("\"3.5\""). */
  etag: string;
  /** Oldest first. */
  versions: ReportVersion[];
  outputs: ReportOutput[];
}

export interface TemplateList {
  data: Template[];
  suggested: string | null;
}

export interface Macro {
  name: string;
  text: string;
  updatedAt: string | null;
}

// ---- readers ------------------------------------------------------------------------------

const intOr = (v: unknown, dflt: number): number => {
  const n = num(v);
  return n !== null && Number.isInteger(n) ? n : dflt;
};

function readOption(v: unknown): FieldOption | null {
  if (typeof v === 'string') return { value: v, label: v };
  if (typeof v === 'number') return { value: String(v), label: String(v) };
  if (isRecord(v)) {
    const value = str(v.value) || str(v.id) || str(v.code);
    if (value) return { value, label: str(v.label) || str(v.meaning) || value };
  }
  return null;
}

/** A field's value as the tab keeps it: the type decides (a mistyped value becomes the empty value). */
export function readFieldValue(type: FieldType, v: unknown): FieldValue {
  switch (type) {
    case 'number':
      return num(v) ?? (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null);
    case 'multichoice':
      return list(v).filter((x): x is string => typeof x === 'string');
    default:
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
  }
}

function readField(v: unknown, path: string): TemplateField {
  const r = object(v, path);
  const fieldId = requiredStr(r.id, `${path}.id`);
  const type = (FIELD_TYPES as readonly string[]).includes(str(r.type)) ? (str(r.type) as FieldType) : 'text';
  const required = str(r.required);
  return {
    id: fieldId,
    label: str(r.label) || fieldId,
    type,
    options: list(r.options).map(readOption).filter((o): o is FieldOption => o !== null),
    unit: str(r.unit),
    min: num(r.min),
    max: num(r.max),
    default: r.default === undefined || r.default === null ? null : readFieldValue(type, r.default),
    required: required === 'warn' || required === 'block' ? required : 'none',
    placeholder: str(r.placeholder),
  };
}

function readSection(v: unknown, path: string): TemplateSection {
  const r = object(v, path);
  return {
    id: str(r.id),
    title: str(r.title),
    code: str(r.code),
    meaning: str(r.meaning),
    fields: arrayOf(r.fields, `${path}.fields`, readField),
  };
}

/** A template: "id" and "sections" (each with "fields") are required. */
export function readTemplate(v: unknown, path = 'template'): Template {
  const r = object(v, path);
  return {
    id: requiredStr(r.id, `${path}.id`),
    title: str(r.title) || str(r.id),
    revision: intOr(r.revision, 0),
    builtin: r.builtin === true,
    retired: r.retired === true,
    sections: arrayOf(r.sections, `${path}.sections`, readSection),
  };
}

/** The inserts of a version; malformed items are dropped (never invented). */
export function readInserts(v: unknown): Inserts {
  const r = fields(v);
  return {
    aiFindings: list(r.aiFindings)
      .filter(isRecord)
      .map((x) => ({ analysisId: str(x.analysisId), index: intOr(x.index, -1) }))
      .filter((x) => x.analysisId !== '' && x.index >= 0),
    measurements: list(r.measurements)
      .filter(isRecord)
      .map((x) => ({ annotationUid: str(x.annotationUid) }))
      .filter((x) => x.annotationUid !== ''),
    keyImages: list(r.keyImages)
      .filter(isRecord)
      .map((x) => ({ sopInstanceUid: str(x.sopInstanceUid), frame: intOr(x.frame, 1) }))
      .filter((x) => x.sopInstanceUid !== ''),
  };
}

export const emptyInserts = (): Inserts => ({ aiFindings: [], measurements: [], keyImages: [] });

function readVersion(v: unknown, path: string): ReportVersion {
  const r = object(v, path);
  const version = num(r.version);
  if (version === null) throw new DecodeError(`${path}.version`, 'a number');
  const values: FieldValues = {};
  for (const [k, x] of Object.entries(fields(r.fields))) {
    if (typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)) || x === null) values[k] = x;
    else if (Array.isArray(x)) values[k] = x.filter((s): s is string => typeof s === 'string');
  }
  return {
    version,
    kind: str(r.kind) || 'original',
    status: str(r.status),
    fields: values,
    inserts: readInserts(r.inserts),
    text: strOrNull(r.text),
    author: str(r.author),
    updatedBy: str(r.updatedBy),
    createdAt: strOrNull(r.createdAt),
    updatedAt: strOrNull(r.updatedAt),
    revision: intOr(r.revision, 0),
    signedBy: strOrNull(r.signedBy),
    signedByName: strOrNull(r.signedByName),
    signedAt: strOrNull(r.signedAt),
    pdfSha256: strOrNull(r.pdfSha256),
    pdf: strOrNull(r.pdf),
  };
}

function readOutput(v: unknown): ReportOutput {
  const r = fields(v);
  return {
    version: intOr(r.version, 0),
    kind: str(r.kind),
    state: str(r.state),
    attempts: intOr(r.attempts, 0),
    lastError: str(r.lastError),
    orthancId: str(r.orthancId),
    sopInstanceUid: str(r.sopInstanceUid),
    updatedAt: strOrNull(r.updatedAt),
  };
}

/** A report object: reportId (digits), studyInstanceUid, state, etag and versions are required. */
export function readReport(v: unknown, path = 'report'): Report {
  const r = object(v, path);
  const reportId = id(r.reportId);
  if (!/^\d+$/.test(reportId)) throw new DecodeError(`${path}.reportId`, 'a string of digits');
  const comm = isRecord(r.criticalCommunication) ? r.criticalCommunication : null;
  return {
    reportId,
    studyInstanceUid: requiredStr(r.studyInstanceUid, `${path}.studyInstanceUid`),
    state: requiredStr(r.state, `${path}.state`),
    stateReason: strOrNull(r.stateReason),
    template: isRecord(r.template) ? readTemplate(r.template, `${path}.template`) : null,
    critical: bool(r.critical) === true,
    criticalCommunication: comm
      ? { recipient: str(comm.recipient), method: str(comm.method), communicatedAt: strOrNull(comm.communicatedAt), recordedBy: str(comm.recordedBy) }
      : null,
    acknowledgements: list(r.acknowledgements)
      .filter(isRecord)
      .map((a) => ({ username: str(a.username), at: strOrNull(a.at) })),
    createdBy: str(r.createdBy),
    createdAt: strOrNull(r.createdAt),
    updatedAt: strOrNull(r.updatedAt),
    prevailingVersion: num(r.prevailingVersion),
    etag: requiredStr(r.etag, `${path}.etag`),
    versions: arrayOf(r.versions, `${path}.versions`, readVersion).sort((a, b) => a.version - b.version),
    outputs: optArrayOf(r.outputs, `${path}.outputs`, (x) => readOutput(x)),
  };
}

export const decodeReport = (body: JsonObject | null): Report => readReport(body, 'answer');

export function decodeReportList(body: JsonObject | null): Report[] {
  return arrayOf(object(body, 'answer').data, 'data', (v, p) => readReport(v, p));
}

export function decodeTemplateList(body: JsonObject | null): TemplateList {
  const r = object(body, 'answer');
  return { data: arrayOf(r.data, 'data', (v, p) => readTemplate(v, p)), suggested: strOrNull(r.suggested) };
}

export function decodeMacros(body: JsonObject | null): Macro[] {
  return arrayOf(object(body, 'answer').data, 'data', (v) => {
    const r = fields(v);
    return { name: str(r.name), text: str(r.text), updatedAt: strOrNull(r.updatedAt) };
  })
    .filter((m) => m.name !== '')
    .sort((a, b) => a.name.localeCompare(b.name));
}

// ---- what the tab derives from a report ------------------------------------------------------

/** The report the study page opens: the newest that is neither cancelled nor entered in error (list newest first). */
export function openReportOf(reports: readonly Report[]): Report | null {
  return reports.find((r) => r.state !== 'cancelled' && r.state !== 'entered-in-error') ?? null;
}

/** The latest version (the one a draft save or a signature acts on). */
export function latestVersion(r: Report): ReportVersion | null {
  return r.versions[r.versions.length - 1] ?? null;
}

/** The version readers see: the prevailing one, else the latest. */
export function prevailingVersion(r: Report): ReportVersion | null {
  if (r.prevailingVersion !== null) {
    const v = r.versions.find((x) => x.version === r.prevailingVersion);
    if (v) return v;
  }
  return latestVersion(r);
}

/** True while the radiologist writes (draft, or preliminary: a preliminary report is still edited and signed final). */
export function isEditable(r: Report): boolean {
  return r.state === 'draft' || r.state === 'preliminary';
}

/** Signed final (final, appended, corrected): addenda and corrections are possible. */
export function isSignedFinal(r: Report): boolean {
  return r.state === 'final' || r.state === 'appended' || r.state === 'corrected';
}

/** The human name of a state. */
export function stateLabel(state: string): string {
  const labels: Record<string, string> = {
    draft: 'Draft',
    preliminary: 'Preliminary',
    final: 'Final',
    appended: 'Final · addendum',
    corrected: 'Final · corrected',
    cancelled: 'Cancelled',
    'entered-in-error': 'Entered in error',
  };
  return labels[state] ?? state;
}

/** The values of a new report of `t` (each field's default, empty otherwise). */
export function templateDefaults(t: Template): FieldValues {
  const out: FieldValues = {};
  for (const s of t.sections) for (const f of s.fields) out[f.id] = f.default ?? (f.type === 'multichoice' ? [] : null);
  return out;
}

// ---- calls --------------------------------------------------------------------------------

const seg = encodeURIComponent;

export const listStudyReports = (api: Api, uid: string, signal?: AbortSignal): Promise<Report[]> =>
  api.getJson(`dicom/studies/${seg(uid)}/reports`, decodeReportList, signal);

export const getReport = (api: Api, reportId: string, signal?: AbortSignal): Promise<Report> =>
  api.getJson(`reports/${seg(reportId)}`, decodeReport, signal);

export function listTemplates(api: Api, uid: string, signal?: AbortSignal): Promise<TemplateList> {
  return api.getJson(`reports/templates?studyInstanceUid=${seg(uid)}`, decodeTemplateList, signal);
}

export function createReport(api: Api, uid: string, templateId: string | null): Promise<Report> {
  return api.decoded('POST', 'reports', decodeReport, { body: templateId ? { studyInstanceUid: uid, templateId } : { studyInstanceUid: uid } });
}

export interface DraftBody {
  fields?: FieldValues;
  inserts?: Inserts;
  critical?: boolean;
}

export function putDraft(api: Api, reportId: string, etag: string, body: DraftBody, signal?: AbortSignal): Promise<Report> {
  return api.decoded('PUT', `reports/${seg(reportId)}/draft`, decodeReport, { body, headers: { 'If-Match': etag }, ...(signal ? { signal } : {}) });
}

export interface SignBody {
  password: string;
  status: 'preliminary' | 'final';
  communication?: { recipient: string; method: string; communicatedAt?: string };
}

export function signReport(api: Api, reportId: string, etag: string, body: SignBody): Promise<Report> {
  return api.decoded('POST', `reports/${seg(reportId)}/sign`, decodeReport, { body, headers: { 'If-Match': etag } });
}

export function addAddendum(api: Api, reportId: string, password: string, text: string): Promise<Report> {
  return api.decoded('POST', `reports/${seg(reportId)}/addenda`, decodeReport, { body: { password, text } });
}

export function addCorrection(api: Api, reportId: string, password: string, values: FieldValues, reason: string): Promise<Report> {
  return api.decoded('POST', `reports/${seg(reportId)}/corrections`, decodeReport, { body: { password, fields: values, reason } });
}

export function cancelReport(api: Api, reportId: string, reason: string): Promise<Report> {
  return api.decoded('POST', `reports/${seg(reportId)}/cancel`, decodeReport, { body: { reason } });
}

export const listMacros = (api: Api, signal?: AbortSignal): Promise<Macro[]> => api.getJson('reports/macros', decodeMacros, signal);

export async function putMacro(api: Api, name: string, text: string): Promise<void> {
  await api.request('PUT', `reports/macros/${seg(name)}`, { body: { text }, allowEmpty: true });
}

export async function deleteMacro(api: Api, name: string): Promise<void> {
  await api.request('DELETE', `reports/macros/${seg(name)}`, { allowEmpty: true });
}

/** The PDF of a report (prevailing version) or of one version, below the API root. */
export function pdfUrl(apiRoot: string, reportId: string, version?: number): string {
  return `${apiRoot}reports/${seg(reportId)}/pdf${version !== undefined ? `?version=${version}` : ''}`;
}

/** "fields" of a 422 incomplete error (the field ids the server lists), [] otherwise. */
export function incompleteFields(body: unknown): string[] {
  const e = isRecord(body) && isRecord(body.error) ? body.error : null;
  return e ? list(e.fields).filter((x): x is string => typeof x === 'string') : [];
}
