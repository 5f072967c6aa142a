// Report turnaround on the System page (administrators, issue 12): per modality, over the last `days` days,
// the median and 90th percentile of received → first opened, opened → preliminary, opened → final and
// received → final, humanised ("42 min", "3 h 05 min", "2 d 4 h").
//   GET admin/reports/turnaround?days=30   {"data": [{"modality", "studies", "receivedToOpened": {"median", "p90"},
//                                           "openedToPreliminary", "openedToFinal", "receivedToFinal"}]}
//   (seconds; null when no study has both times)
// Text only.
import type { Api } from './api';
import { arrayOf, fields, num, str, type JsonObject } from './decode';
import { hIn } from './dom';

export const TURNAROUND_DAYS = 30;

export interface Spread {
  median: number | null;
  p90: number | null;
}

export interface TurnaroundRow {
  modality: string;
  studies: number;
  receivedToOpened: Spread;
  openedToPreliminary: Spread;
  openedToFinal: Spread;
  receivedToFinal: Spread;
}

/** The intervals in display order with their column titles. */
export const INTERVALS = [
  { key: 'receivedToOpened', label: 'Received → opened' },
  { key: 'openedToPreliminary', label: 'Opened → preliminary' },
  { key: 'openedToFinal', label: 'Opened → final' },
  { key: 'receivedToFinal', label: 'Received → final' },
] as const;

function spread(v: unknown): Spread {
  const r = fields(v);
  const sec = (x: unknown): number | null => {
    const n = num(x);
    return n !== null && n >= 0 ? n : null;
  };
  return { median: sec(r.median), p90: sec(r.p90) };
}

export function decodeTurnaround(body: JsonObject | null): TurnaroundRow[] {
  return arrayOf(fields(body).data, 'data', (v) => {
    const r = fields(v);
    return {
      modality: str(r.modality),
      studies: num(r.studies) ?? 0,
      receivedToOpened: spread(r.receivedToOpened),
      openedToPreliminary: spread(r.openedToPreliminary),
      openedToFinal: spread(r.openedToFinal),
      receivedToFinal: spread(r.receivedToFinal),
    };
  });
}

export function getTurnaround(api: Api, days = TURNAROUND_DAYS, signal?: AbortSignal): Promise<TurnaroundRow[]> {
  return api.getJson(`admin/reports/turnaround?days=${days}`, decodeTurnaround, signal);
}

/**
 * Seconds as a reader wants them: "—" for none, "45 s" under a minute, "42 min" under an hour,
 * "3 h 05 min" under two days, "2 d 4 h" beyond (rounded to the unit shown).
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  if (s < 48 * 3600) {
    const totalMin = Math.round(s / 60);
    const hh = Math.floor(totalMin / 60);
    const mm = totalMin % 60;
    return `${hh} h ${String(mm).padStart(2, '0')} min`;
  }
  const totalH = Math.round(s / 3600);
  const d = Math.floor(totalH / 24);
  const hh = totalH % 24;
  return hh ? `${d} d ${hh} h` : `${d} d`;
}

/** The card's content: the table, or a line when no study was reported in the period. */
export function renderTurnaround(doc: Document, rows: readonly TurnaroundRow[], days = TURNAROUND_DAYS): HTMLElement[] {
  const intro = hIn(doc, 'p', { class: 'muted', text: `Last ${days} days, by modality: median and 90th percentile (p90).` });
  if (rows.length === 0) return [intro, hIn(doc, 'p', { class: 'state', text: 'No study was received or reported in this period.' })];
  const head = hIn(
    doc,
    'tr',
    {},
    hIn(doc, 'th', { attrs: { scope: 'col' }, text: 'Modality' }),
    hIn(doc, 'th', { class: 'num', attrs: { scope: 'col' }, text: 'Studies' }),
    ...INTERVALS.map((i) => hIn(doc, 'th', { class: 'num', attrs: { scope: 'col', title: `${i.label}: median / p90` }, text: i.label })),
  );
  const body = rows.map((r) =>
    hIn(
      doc,
      'tr',
      { attrs: { 'data-modality': r.modality } },
      hIn(doc, 'td', {}, r.modality ? hIn(doc, 'span', { class: 'mod', attrs: { 'data-mod': r.modality }, text: r.modality }) : '—'),
      hIn(doc, 'td', { class: 'num', text: String(r.studies) }),
      ...INTERVALS.map((i) => {
        const s = r[i.key];
        return hIn(
          doc,
          'td',
          { class: 'num', attrs: { 'data-interval': i.key } },
          hIn(doc, 'span', { class: 'ta-median', text: formatDuration(s.median) }),
          hIn(doc, 'span', { class: 'muted ta-p90', text: ` / ${formatDuration(s.p90)}` }),
        );
      }),
    ),
  );
  return [intro, hIn(doc, 'div', { class: 'table-scroll' }, hIn(doc, 'table', { class: 'turnaround' }, hIn(doc, 'thead', {}, head), hIn(doc, 'tbody', {}, ...body)))];
}
