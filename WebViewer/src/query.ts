// Worklist filter state <-> URL hash <-> API query.
import type { SortKey, SortOrder, StudyQuery } from './api';
import { isoDay } from './format';
import { parseReportFilter, type ReportFilter } from './worklist-report';

export const PAGE_SIZES = [25, 50, 100] as const;
export type PageSize = (typeof PAGE_SIZES)[number];

export const MODALITIES = [
  'CT', 'MR', 'CR', 'DX', 'US', 'MG', 'NM', 'PT', 'XA', 'RF', 'OT', 'SR', 'SEG', 'RTSTRUCT', 'ECG', 'DOC',
] as const;

export const SORT_KEYS: readonly SortKey[] = ['studyDate', 'patientName', 'receivedAt'];

/**
 * AI filter chips of the worklist. Each chip stands for the analysis statuses (of the study's latest analysis)
 * it sends in the aiStatus argument; "none" is the API's word for "no analysis". The final failure states are
 * one chip: a radiologist looks for "AI did not give a result", whatever the reason.
 */
export const AI_FILTERS = [
  { id: 'none', label: 'None', statuses: ['none'] },
  { id: 'active', label: 'In progress', statuses: ['queued', 'running'] },
  { id: 'completed', label: 'Completed', statuses: ['completed'] },
  { id: 'failed', label: 'Failed', statuses: ['failed', 'invalid', 'blocked', 'safety', 'truncated', 'refused'] },
  { id: 'cancelled', label: 'Cancelled', statuses: ['cancelled'] },
] as const;
export type AiFilter = (typeof AI_FILTERS)[number]['id'];

/** Review filter chips: review status of the study's latest completed analysis (sent as reviewStatus). */
export const REVIEW_FILTERS = [
  { id: 'pending', label: 'Pending' },
  { id: 'confirmed', label: 'Confirmed' },
  { id: 'modified', label: 'Modified' },
  { id: 'rejected', label: 'Rejected' },
] as const;
export type ReviewFilter = (typeof REVIEW_FILTERS)[number]['id'];

export interface WorklistState {
  q: string;
  patientName: string;
  patientId: string;
  accession: string;
  modalities: string[];
  /** YYYY-MM-DD or "" */
  dateFrom: string;
  /** YYYY-MM-DD or "" */
  dateTo: string;
  /** AI filter chips that are on (none: no AI filter). */
  ai: AiFilter[];
  /** Review filter chips that are on. */
  review: ReviewFilter[];
  /** Report filter (worklist-report.ts; absent or '': none). */
  report?: ReportFilter | '';
  sort: SortKey;
  order: SortOrder;
  /** 1-based */
  page: number;
  pageSize: PageSize;
}

export const DEFAULT_STATE: Readonly<WorklistState> = Object.freeze({
  q: '',
  patientName: '',
  patientId: '',
  accession: '',
  modalities: [],
  dateFrom: '',
  dateTo: '',
  ai: [],
  review: [],
  sort: 'studyDate',
  order: 'desc',
  page: 1,
  pageSize: 50,
});

export function defaultState(): WorklistState {
  return { ...DEFAULT_STATE, modalities: [], ai: [], review: [] };
}

/** Natural order when a column is first sorted: newest first for dates, A→Z for names. */
export function defaultOrder(sort: SortKey): SortOrder {
  return sort === 'patientName' ? 'asc' : 'desc';
}

// Hash parameter names (short, stable: they end up in bookmarks).
const P = {
  q: 'q',
  patientName: 'name',
  patientId: 'pid',
  accession: 'acc',
  modalities: 'mod',
  dateFrom: 'from',
  dateTo: 'to',
  ai: 'ai',
  review: 'review',
  report: 'report',
  sort: 'sort',
  order: 'order',
  page: 'page',
  pageSize: 'size',
} as const;

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const MODALITY_RE = /^[A-Z0-9_]{1,16}$/;

function normalizeDay(value: string | null): string {
  if (!value) return '';
  const v = value.trim();
  if (/^\d{8}$/.test(v)) return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}`;
  return DAY_RE.test(v) ? v : '';
}

function parseModalities(value: string | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const m of value.split(',')) {
    const mod = m.trim().toUpperCase();
    if (MODALITY_RE.test(mod) && !out.includes(mod)) out.push(mod);
  }
  return out;
}

/** Known ids of a comma list, in the order of `known`, without duplicates. */
function parseIds<T extends string>(value: string | null, known: readonly { id: T }[]): T[] {
  if (!value) return [];
  const given = value.split(',').map((v) => v.trim().toLowerCase());
  return known.map((k) => k.id).filter((id) => given.includes(id));
}

/** Parses the query part of the worklist hash ("q=..&page=2", with or without leading "?"). */
export function parseState(query: string): WorklistState {
  const p = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const s = defaultState();
  s.q = p.get(P.q) ?? '';
  s.patientName = p.get(P.patientName) ?? '';
  s.patientId = p.get(P.patientId) ?? '';
  s.accession = p.get(P.accession) ?? '';
  s.modalities = parseModalities(p.get(P.modalities));
  s.dateFrom = normalizeDay(p.get(P.dateFrom));
  s.dateTo = normalizeDay(p.get(P.dateTo));
  s.ai = parseIds(p.get(P.ai), AI_FILTERS);
  s.review = parseIds(p.get(P.review), REVIEW_FILTERS);
  const report = parseReportFilter(p.get(P.report));
  if (report) s.report = report;
  const sort = p.get(P.sort);
  if (sort && (SORT_KEYS as readonly string[]).includes(sort)) s.sort = sort as SortKey;
  const order = p.get(P.order);
  s.order = order === 'asc' || order === 'desc' ? order : defaultOrder(s.sort);
  const page = Number(p.get(P.page));
  if (Number.isInteger(page) && page >= 1 && page <= 100000) s.page = page;
  const size = Number(p.get(P.pageSize));
  if ((PAGE_SIZES as readonly number[]).includes(size)) s.pageSize = size as PageSize;
  return s;
}

/** Serializes the state to a query string with default values omitted ("" for the default state). */
export function serializeState(s: WorklistState): string {
  const p = new URLSearchParams();
  const text = (key: string, value: string): void => {
    if (value.trim() !== '') p.set(key, value);
  };
  text(P.q, s.q);
  text(P.patientName, s.patientName);
  text(P.patientId, s.patientId);
  text(P.accession, s.accession);
  if (s.modalities.length) p.set(P.modalities, s.modalities.join(','));
  text(P.dateFrom, s.dateFrom);
  text(P.dateTo, s.dateTo);
  if (s.ai.length) p.set(P.ai, s.ai.join(','));
  if (s.review.length) p.set(P.review, s.review.join(','));
  if (s.report) p.set(P.report, s.report);
  if (s.sort !== DEFAULT_STATE.sort) p.set(P.sort, s.sort);
  if (s.order !== defaultOrder(s.sort)) p.set(P.order, s.order);
  if (s.page !== 1) p.set(P.page, String(s.page));
  if (s.pageSize !== DEFAULT_STATE.pageSize) p.set(P.pageSize, String(s.pageSize));
  return p.toString();
}

/** Worklist route hash for a state: "#/" or "#/?q=..". */
export function worklistHash(s: WorklistState): string {
  const qs = serializeState(s);
  return qs ? `#/?${qs}` : '#/';
}

/** API query (GET /api/dicom/studies) for a state. Empty filters are left out. */
export function toApiQuery(s: WorklistState): StudyQuery {
  const query: StudyQuery = {};
  const set = (key: 'q' | 'patientName' | 'patientId' | 'accessionNumber', value: string): void => {
    const v = value.trim();
    if (v) query[key] = v;
  };
  set('q', s.q);
  set('patientName', s.patientName);
  set('patientId', s.patientId);
  set('accessionNumber', s.accession);
  if (s.modalities.length) query.modality = s.modalities.join(',');
  if (s.dateFrom) query.studyDateFrom = s.dateFrom;
  if (s.dateTo) query.studyDateTo = s.dateTo;
  const aiStatus = aiStatusQuery(s.ai);
  if (aiStatus) query.aiStatus = aiStatus;
  if (s.review.length) query.reviewStatus = REVIEW_FILTERS.map((r) => r.id).filter((id) => s.review.includes(id)).join(',');
  if (s.report) query.report = s.report;
  query.sort = s.sort;
  query.order = s.order;
  query.limit = s.pageSize;
  query.offset = (s.page - 1) * s.pageSize;
  return query;
}

/** The aiStatus argument of the chips that are on ("completed,failed,invalid,…"; "" for none). */
export function aiStatusQuery(filters: readonly AiFilter[]): string {
  return AI_FILTERS.filter((f) => filters.includes(f.id))
    .flatMap((f) => f.statuses)
    .join(',');
}

export type DatePreset = 'today' | '7d' | '30d' | 'all';

export const DATE_PRESETS: readonly { id: DatePreset; label: string }[] = [
  { id: 'today', label: 'Today' },
  { id: '7d', label: '7 days' },
  { id: '30d', label: '30 days' },
  { id: 'all', label: 'All' },
];

/** Date range (YYYY-MM-DD, inclusive, local time) of a preset. */
export function presetRange(preset: DatePreset, now: Date = new Date()): { dateFrom: string; dateTo: string } {
  if (preset === 'all') return { dateFrom: '', dateTo: '' };
  const days = preset === 'today' ? 0 : preset === '7d' ? 6 : 29;
  const from = new Date(now.getFullYear(), now.getMonth(), now.getDate() - days);
  return { dateFrom: isoDay(from), dateTo: isoDay(now) };
}

/** The preset matching the state's date range, if any. */
export function activePreset(s: WorklistState, now: Date = new Date()): DatePreset | null {
  for (const { id } of DATE_PRESETS) {
    const r = presetRange(id, now);
    if (r.dateFrom === s.dateFrom && r.dateTo === s.dateTo) return id;
  }
  return null;
}

/** True when any filter (not sort/page) differs from the default. */
export function hasFilters(s: WorklistState): boolean {
  return Boolean(
    s.q.trim() || s.patientName.trim() || s.patientId.trim() || s.accession.trim() ||
      s.modalities.length || s.dateFrom || s.dateTo || s.ai.length || s.review.length || s.report,
  );
}
