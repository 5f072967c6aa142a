// The worklist's report state (issue 12): the "Report" column (each study's report state, a critical flag
// while the critical result is not acknowledged) and the "Report" filter (one of unreported, my drafts,
// preliminary, final, critical: the API's `report=` argument). Shown to those who write reports (the
// "report" capability). Text only.
import type { Study } from './api';
import { hIn } from './dom';
import { stateLabel } from './physician-wire';

/** The filter's choices, in the API's words (GET {api}dicom/studies?report=…). */
export const REPORT_FILTERS = [
  { id: 'unreported', label: 'Unreported', title: 'No report yet, or a draft' },
  { id: 'mine', label: 'My drafts', title: 'Drafts you started' },
  { id: 'preliminary', label: 'Preliminary', title: 'Signed as preliminary' },
  { id: 'final', label: 'Final', title: 'Final, amended or corrected' },
  { id: 'critical', label: 'Critical', title: 'Critical result not yet acknowledged' },
] as const;
export type ReportFilter = (typeof REPORT_FILTERS)[number]['id'];

/** The filter of a hash parameter ('' when absent or unknown). */
export function parseReportFilter(value: string | null): ReportFilter | '' {
  const v = (value ?? '').trim().toLowerCase();
  return REPORT_FILTERS.some((f) => f.id === v) ? (v as ReportFilter) : '';
}

/** The badge of a report state ("Draft", "Final"…); data-report for styles and tests. */
export function reportBadge(doc: Document, state: string): HTMLSpanElement {
  return hIn(doc, 'span', { class: 'report-badge', attrs: { 'data-report': state }, text: stateLabel(state) });
}

/** The critical flag (not yet acknowledged). */
export function criticalFlag(doc: Document, title = 'Critical result not yet acknowledged'): HTMLSpanElement {
  return hIn(doc, 'span', { class: 'critical-flag', attrs: { 'data-critical': 'true', title }, text: 'Critical' });
}

/** The column's cell: the badge (none without a report) and the critical flag. */
export function reportCell(doc: Document, s: Pick<Study, 'reportStatus' | 'reportCritical'>): DocumentFragment {
  const frag = doc.createDocumentFragment();
  // the flag first: it is what must not be missed when the cell is narrow
  if (s.reportCritical) frag.appendChild(criticalFlag(doc));
  if (s.reportStatus) frag.appendChild(reportBadge(doc, s.reportStatus));
  return frag;
}

/** The cell's tooltip. */
export function reportTitle(s: Pick<Study, 'reportStatus' | 'reportCritical'>): string {
  const state = s.reportStatus ? `Report: ${stateLabel(s.reportStatus)}` : 'No report';
  return s.reportCritical ? `${state} · critical result not yet acknowledged` : state;
}
