// Reports as the referring physicians' portal reads them (issue 12, wire contract in README "REST API",
// section Reports): the rows of GET {api}reports, the report object of GET {api}reports/{id}, and the pure
// decisions of the portal (list order, the prevailing final version, what a field's value reads as, the
// state's name for a physician). No DOM: tested by Vitest (test/physician.test.ts).
// Every string is untrusted (DICOM and user text): callers show it as text only.
import { arrayOf, bool, fields, id, isRecord, list, num, object, str, strOrNull, strings, type JsonObject } from './decode';

/** One row of GET {api}reports. */
export interface ReportRow {
  reportId: string;
  studyInstanceUid: string;
  state: string;
  templateId: string;
  /** Flagged as containing a critical finding. */
  critical: boolean;
  /** Acknowledged by the caller (physicians: by them). */
  acknowledged: boolean;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  studyDate: string;
  studyDescription: string;
  accessionNumber: string;
  referringPhysicianName: string;
  modalities: string[];
  signedBy: string;
  /** The signer's display name when the server sends it ('' otherwise). */
  signedByName: string;
  signedAt: string | null;
  updatedAt: string | null;
}

export interface ReportList {
  data: ReportRow[];
  total: number;
}

export interface TemplateField {
  id: string;
  label: string;
  type: string;
  unit: string;
  options: string[];
}

export interface TemplateSection {
  id: string;
  title: string;
  fields: TemplateField[];
}

export interface ReportTemplate {
  id: string;
  title: string;
  sections: TemplateSection[];
}

/** An AI finding inserted into a report (reviewed; the server fills in its text). */
export interface AiInsert {
  analysisId: string;
  index: number | null;
  text: string;
  severity: string;
  location: string;
}

export interface MeasurementInsert {
  annotationUid: string;
  text: string;
}

export interface KeyImageInsert {
  sopInstanceUid: string;
  frame: number;
  caption: string;
}

export interface ReportVersion {
  version: number;
  kind: string;
  status: string;
  fields: JsonObject;
  aiFindings: AiInsert[];
  measurements: MeasurementInsert[];
  keyImages: KeyImageInsert[];
  /** Addendum text or correction reason. */
  text: string;
  author: string;
  signedBy: string;
  signedByName: string;
  signedAt: string | null;
  pdf: string | null;
}

export interface CriticalCommunication {
  recipient: string;
  method: string;
  communicatedAt: string | null;
  recordedBy: string;
}

export interface Acknowledgement {
  username: string;
  at: string | null;
}

export interface Report {
  reportId: string;
  studyInstanceUid: string;
  state: string;
  stateReason: string;
  template: ReportTemplate;
  critical: boolean;
  criticalCommunication: CriticalCommunication | null;
  acknowledgements: Acknowledgement[];
  prevailingVersion: number | null;
  versions: ReportVersion[];
}

// ---- decoders --------------------------------------------------------------------------------

export function decodeReportRow(v: unknown, path = 'row'): ReportRow {
  const r = object(v, path);
  return {
    reportId: id(r.reportId),
    studyInstanceUid: str(r.studyInstanceUid),
    state: str(r.state),
    templateId: str(r.templateId),
    critical: bool(r.critical) === true,
    acknowledged: bool(r.acknowledged) === true,
    patientName: str(r.patientName),
    patientId: str(r.patientId),
    patientBirthDate: str(r.patientBirthDate),
    studyDate: str(r.studyDate),
    studyDescription: str(r.studyDescription),
    accessionNumber: str(r.accessionNumber),
    referringPhysicianName: str(r.referringPhysicianName),
    modalities: strings(r.modalities),
    signedBy: str(r.signedBy),
    signedByName: str(r.signedByName),
    signedAt: strOrNull(r.signedAt),
    updatedAt: strOrNull(r.updatedAt),
  };
}

/** GET {api}reports: "data" must be an array (DecodeError otherwise). */
export function decodeReportList(body: JsonObject | null): ReportList {
  const r = fields(body);
  const data = arrayOf(r.data, 'data', decodeReportRow);
  return { data, total: num(r.total) ?? data.length };
}

function decodeTemplate(v: unknown): ReportTemplate {
  const t = fields(v);
  return {
    id: str(t.id),
    title: str(t.title),
    sections: list(t.sections)
      .filter(isRecord)
      .map((s) => ({
        id: str(s.id),
        title: str(s.title),
        fields: list(s.fields)
          .filter(isRecord)
          .map((f) => ({ id: str(f.id), label: str(f.label), type: str(f.type), unit: str(f.unit), options: optionLabels(f.options) })),
      })),
  };
}

/** Options may be strings or {value,label} objects. */
function optionLabels(v: unknown): string[] {
  return list(v)
    .map((o) => (typeof o === 'string' ? o : isRecord(o) ? str(o.label) || str(o.value) : ''))
    .filter(Boolean);
}

/** The first non-empty string among a record's keys. */
function firstText(r: JsonObject, ...keys: string[]): string {
  for (const k of keys) {
    const v = r[k];
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return '';
}

function decodeInserts(v: unknown): Pick<ReportVersion, 'aiFindings' | 'measurements' | 'keyImages'> {
  const r = fields(v);
  return {
    aiFindings: list(r.aiFindings)
      .filter(isRecord)
      .map((f) => ({
        analysisId: str(f.analysisId),
        index: num(f.index),
        text: firstText(f, 'text', 'finding', 'description', 'label', 'title'),
        severity: str(f.severity),
        location: firstText(f, 'location', 'region'),
      })),
    measurements: list(r.measurements)
      .filter(isRecord)
      .map((m) => ({ annotationUid: str(m.annotationUid), text: firstText(m, 'text', 'label', 'value', 'description') })),
    keyImages: list(r.keyImages)
      .filter(isRecord)
      .map((k) => ({ sopInstanceUid: str(k.sopInstanceUid), frame: num(k.frame) ?? 1, caption: firstText(k, 'caption', 'label', 'text', 'description') })),
  };
}

function decodeVersion(v: unknown, path: string): ReportVersion {
  const r = object(v, path);
  return {
    version: num(r.version) ?? 0,
    kind: str(r.kind) || 'original',
    status: str(r.status),
    fields: fields(r.fields),
    ...decodeInserts(r.inserts),
    text: str(r.text),
    author: str(r.author),
    signedBy: str(r.signedBy),
    signedByName: str(r.signedByName),
    signedAt: strOrNull(r.signedAt),
    pdf: strOrNull(r.pdf),
  };
}

/** GET {api}reports/{id} (and the answer of every write on a report). */
export function decodeReport(body: JsonObject | null): Report {
  const r = fields(body);
  const comm = isRecord(r.criticalCommunication) ? r.criticalCommunication : null;
  return {
    reportId: id(r.reportId),
    studyInstanceUid: str(r.studyInstanceUid),
    state: str(r.state),
    stateReason: str(r.stateReason),
    template: decodeTemplate(r.template),
    critical: bool(r.critical) === true,
    criticalCommunication: comm
      ? { recipient: str(comm.recipient), method: str(comm.method), communicatedAt: strOrNull(comm.communicatedAt), recordedBy: str(comm.recordedBy) }
      : null,
    acknowledgements: list(r.acknowledgements)
      .filter(isRecord)
      .map((a) => ({ username: str(a.username), at: strOrNull(a.at) })),
    prevailingVersion: num(r.prevailingVersion),
    versions: arrayOf(r.versions ?? [], 'versions', decodeVersion),
  };
}

// ---- the portal's decisions ---------------------------------------------------------------------

/** The states a physician may see: a report with a signed final version. */
export const FINAL_STATES = ['final', 'appended', 'corrected'] as const;

/** The state as a referring physician reads it ("Amended" for a final report with an addendum). */
export function stateLabel(state: string): string {
  switch (state) {
    case 'final':
      return 'Final';
    case 'appended':
      return 'Amended';
    case 'corrected':
      return 'Corrected';
    case 'preliminary':
      return 'Preliminary';
    case 'draft':
      return 'Draft';
    case 'cancelled':
      return 'Cancelled';
    case 'entered-in-error':
      return 'Entered in error';
    default:
      return state;
  }
}

/** Critical and not yet acknowledged by the caller: on top, flagged. */
export function needsAcknowledgement(row: Pick<ReportRow, 'critical' | 'acknowledged'>): boolean {
  return row.critical && !row.acknowledged;
}

function timeOf(iso: string | null): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/**
 * The physicians' order (the server's, kept if a page is re-sorted here): critical reports not yet
 * acknowledged first, then newest signature first, then highest report id. A new array.
 */
export function orderRows(rows: readonly ReportRow[]): ReportRow[] {
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => {
      const c = Number(needsAcknowledgement(b.row)) - Number(needsAcknowledgement(a.row));
      if (c) return c;
      const t = timeOf(b.row.signedAt ?? b.row.updatedAt) - timeOf(a.row.signedAt ?? a.row.updatedAt);
      if (t) return t;
      const n = Number(b.row.reportId) - Number(a.row.reportId);
      return Number.isFinite(n) && n ? n : a.i - b.i;
    })
    .map((x) => x.row);
}

/** A signed final version (original, addendum or correction). */
export function isSignedFinal(v: ReportVersion): boolean {
  return v.status === 'final' && v.signedAt !== null;
}

/**
 * What a reader is shown: the content version (the latest signed final original or correction: its fields
 * are the report), the addenda signed after the original (oldest first), the corrections (oldest first) and
 * the first signature. null when there is no signed final version.
 */
export interface PrevailingView {
  content: ReportVersion;
  original: ReportVersion;
  addenda: ReportVersion[];
  corrections: ReportVersion[];
}

export function prevailingView(report: Pick<Report, 'versions' | 'prevailingVersion'>): PrevailingView | null {
  const finals = report.versions.filter((v) => v.status === 'final').sort((a, b) => a.version - b.version);
  const bodies = finals.filter((v) => v.kind !== 'addendum');
  const content = bodies[bodies.length - 1];
  const original = bodies[0];
  if (!content || !original) return null;
  return {
    content,
    original,
    addenda: finals.filter((v) => v.kind === 'addendum'),
    corrections: finals.filter((v) => v.kind === 'correction'),
  };
}

/** Whether `username` has acknowledged the report's critical result. */
export function acknowledgedBy(report: Pick<Report, 'acknowledgements'>, username: string): boolean {
  return report.acknowledgements.some((a) => a.username === username);
}

/** The text of a field's value as a reader sees it ('' when empty). */
export function fieldText(field: Pick<TemplateField, 'type' | 'unit'>, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((x) => fieldText({ type: 'text', unit: '' }, x)).filter(Boolean).join(', ');
  if (typeof value === 'number') return Number.isFinite(value) ? (field.unit ? `${value} ${field.unit}` : String(value)) : '';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string') {
    const t = value.trim();
    if (t && field.type === 'number' && field.unit && /^-?\d+(\.\d+)?$/.test(t)) return `${t} ${field.unit}`;
    return t ? value.replace(/\s+$/, '') : '';
  }
  if (isRecord(value)) return firstText(value, 'label', 'text', 'value');
  return '';
}

/** The sections of the content version with their non-empty fields; values of unknown fields at the end. */
export interface ShownSection {
  id: string;
  title: string;
  /** label '' when the section's only field is named like the section ("Impression" in "Impression"). */
  items: { id: string; label: string; type: string; text: string }[];
}

export function shownSections(template: ReportTemplate, values: JsonObject): ShownSection[] {
  const known = new Set<string>();
  const out: ShownSection[] = [];
  for (const s of template.sections) {
    const items = s.fields.map((f) => {
      known.add(f.id);
      return { id: f.id, label: f.label || f.id, type: f.type, text: fieldText(f, values[f.id]) };
    });
    const filled = items.filter((i) => i.text !== '');
    const title = s.title || s.id;
    const only = filled.length === 1 && s.fields.length === 1 ? filled[0] : undefined;
    if (only && only.label.trim().toLowerCase() === title.trim().toLowerCase()) only.label = '';
    if (filled.length) out.push({ id: s.id, title, items: filled });
  }
  const rest = Object.keys(values)
    .filter((k) => !known.has(k))
    .map((k) => ({ id: k, label: k, type: 'text', text: fieldText({ type: 'text', unit: '' }, values[k]) }))
    .filter((i) => i.text !== '');
  if (rest.length) out.push({ id: '_other', title: 'Other', items: rest });
  return out;
}

/** Modalities of objects that are not images (reports, key object selections, presentation states…). */
const NON_IMAGE = new Set(['SR', 'DOC', 'KO', 'PR', 'SEG', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'REG', 'OT', 'ECG']);

/** The modalities with the imaging ones first (a report's own PDF and SR put DOC and SR into its study). */
export function imagingFirst(modalities: readonly string[]): string[] {
  const image = modalities.filter((m) => !NON_IMAGE.has(m));
  return [...image, ...modalities.filter((m) => NON_IMAGE.has(m))];
}

/** "a1b2c3d4" of an analysis id (the AI reference shown beside an AI-assisted finding). */
export function shortRef(analysisId: string): string {
  return analysisId.slice(0, 8);
}

// ---- query of the physicians' home --------------------------------------------------------------

export const HOME_PAGE_SIZE = 25;

export interface HomeState {
  q: string;
  /** 1-based */
  page: number;
}

export function parseHomeState(query: string): HomeState {
  const p = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const page = Number(p.get('page'));
  return { q: p.get('q') ?? '', page: Number.isInteger(page) && page >= 1 && page <= 100000 ? page : 1 };
}

export function homeHash(s: HomeState): string {
  const p = new URLSearchParams();
  if (s.q.trim()) p.set('q', s.q);
  if (s.page > 1) p.set('page', String(s.page));
  const qs = p.toString();
  return qs ? `#/reports?${qs}` : '#/reports';
}

/** Query string of GET {api}reports for the home page (finalized reports only; physicians are forced to it anyway). */
export function homeQuery(s: HomeState, pageSize = HOME_PAGE_SIZE): string {
  const p = new URLSearchParams();
  p.set('state', FINAL_STATES.join(','));
  if (s.q.trim()) p.set('q', s.q.trim());
  p.set('limit', String(pageSize));
  p.set('offset', String((s.page - 1) * pageSize));
  return p.toString().replace(/%2C/g, ',');
}

/** Query string of GET {api}reports for a patient's finalized reports (history). */
export function patientQuery(patientId: string, limit = 100): string {
  const p = new URLSearchParams();
  p.set('state', FINAL_STATES.join(','));
  p.set('patientId', patientId);
  p.set('limit', String(limit));
  return p.toString().replace(/%2C/g, ',');
}
