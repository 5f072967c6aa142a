// Worklist columns and rows: what each column shows of a study, and one row rendered as text only.
import type { SortKey, Study } from './api';
import { reviewBadge, statusBadge } from './ai-view';
import { append, hIn, type Child } from './dom';
import { formatBirthSex, formatCounts, formatDateTime, formatInstant, formatPersonName } from './format';
import { reportCell, reportTitle } from './worklist-report';

export interface Column {
  id: string;
  label: string;
  sort?: SortKey;
  /** Cell content (plain text or nodes built with textContent). */
  cell(doc: Document, study: Study): Child;
  /** Tooltip text for truncated cells. */
  title?(study: Study): string;
}

export const BASE_COLUMNS: readonly Column[] = [
  {
    id: 'patientName',
    label: 'Patient name',
    sort: 'patientName',
    cell: (_d, s) => formatPersonName(s.patientName),
    title: (s) => formatPersonName(s.patientName),
  },
  { id: 'patientId', label: 'Patient ID', cell: (_d, s) => s.patientId, title: (s) => s.patientId },
  { id: 'birth', label: 'Birth / Sex', cell: (_d, s) => formatBirthSex(s.patientBirthDate, s.patientSex) },
  { id: 'studyDate', label: 'Study date', sort: 'studyDate', cell: (_d, s) => formatDateTime(s.studyDate, s.studyTime) },
  {
    id: 'modalities',
    label: 'Mod.',
    cell: (doc, s) => {
      const frag = doc.createDocumentFragment();
      for (const m of s.modalities ?? []) append(frag, hIn(doc, 'span', { class: 'mod', attrs: { 'data-mod': m }, text: m }));
      return frag;
    },
    title: (s) => (s.modalities ?? []).join(', '),
  },
  { id: 'description', label: 'Description', cell: (_d, s) => s.studyDescription, title: (s) => s.studyDescription },
  { id: 'accession', label: 'Accession', cell: (_d, s) => s.accessionNumber, title: (s) => s.accessionNumber },
  { id: 'counts', label: 'Ser / Img', cell: (_d, s) => formatCounts(s.seriesCount, s.instanceCount) },
  { id: 'received', label: 'Received', sort: 'receivedAt', cell: (_d, s) => formatInstant(s.receivedAt) },
];

/** State of the study's latest AI analysis and the review of its latest completed one (shown with the "ai" capability). */
export const AI_COLUMNS: readonly Column[] = [
  {
    id: 'ai',
    label: 'AI',
    cell: (doc, s) => (s.aiStatus ? statusBadge(doc, s.aiStatus) : null),
    title: (s) => (s.aiStatus ? `AI analysis: ${s.aiStatus}` : 'No AI analysis'),
  },
  {
    id: 'review',
    label: 'Review',
    cell: (doc, s) => (s.reviewStatus ? reviewBadge(doc, s.reviewStatus, true) : null),
    title: (s) => (s.reviewStatus ? `Review: ${s.reviewStatus}` : ''),
  },
];

/** Every column (what renderStudyRow shows by default). */
export const COLUMNS: readonly Column[] = [...BASE_COLUMNS, ...AI_COLUMNS];

/** The study's report state and critical flag (shown with the "report" capability, worklist-report.ts). */
export const REPORT_COLUMN: Column = { id: 'report', label: 'Report', cell: (doc, s) => reportCell(doc, s), title: (s) => reportTitle(s) };

/** The columns shown: the AI ones only to those who may use AI, the report one to those who write reports. */
export function columnsFor(showAi: boolean, showReport = false): readonly Column[] {
  const base = showAi ? COLUMNS : BASE_COLUMNS;
  return showReport ? [...base, REPORT_COLUMN] : base;
}

/** One worklist row. Every DICOM value goes through textContent / setAttribute only. */
export function renderStudyRow(doc: Document, study: Study, columns: readonly Column[] = COLUMNS): HTMLTableRowElement {
  const tr = hIn(doc, 'tr', {
    class: 'study-row',
    attrs: { tabindex: -1, 'data-uid': study.studyInstanceUid, 'aria-selected': 'false' },
  });
  for (const col of columns) {
    const title = col.title?.(study);
    tr.appendChild(hIn(doc, 'td', { class: `c-${col.id}`, attrs: { title: title || null } }, col.cell(doc, study)));
  }
  return tr;
}
