// Storage on the System page (administrators): Orthanc's disk use, the free space of its storage and index
// folders, the growth per day over the last 30 days (a sparkline and a table) and the warning threshold.
//   GET admin/storage   {status "ok"|"low", warning, storageFolder {path,totalBytes,freeBytes,freePercent,error},
//                        indexFolder {…}, sameFileSystem, orthancDiskBytes, orthancUncompressedBytes, orthancInstances,
//                        warnFreePercent, warnFreeGigabytes, days [{date, diskBytes}] (oldest first), error}
//
// Everything from the API is untrusted: text goes through textContent (dom helpers) only; the sparkline is a row
// of plain elements whose only style is a computed numeric height.
import type { Api } from './api';
import { bool, fields, isRecord, list, num, str } from './decode';
import { hIn } from './dom';

export interface FolderSpace {
  path: string;
  totalBytes: number | null;
  freeBytes: number | null;
  freePercent: number | null;
  error: string;
}

export interface StorageVolumes {
  /** "ok" | "low" (other values shown as received). */
  status: string;
  warning: string;
  storageFolder: FolderSpace;
  indexFolder: FolderSpace;
  sameFileSystem: boolean;
}

export interface StorageDay {
  date: string;
  diskBytes: number;
}

export interface StorageReport extends StorageVolumes {
  orthancDiskBytes: number | null;
  orthancUncompressedBytes: number | null;
  orthancInstances: number | null;
  warnFreePercent: number | null;
  warnFreeGigabytes: number | null;
  days: StorageDay[];
  error: string;
}

function parseFolder(v: unknown): FolderSpace {
  const r = fields(v);
  return { path: str(r.path), totalBytes: num(r.totalBytes), freeBytes: num(r.freeBytes), freePercent: num(r.freePercent), error: str(r.error) };
}

/** The "storage" object of health (and the first part of admin/storage). */
export function parseVolumes(v: unknown): StorageVolumes {
  const r = fields(v);
  return {
    status: str(r.status),
    warning: str(r.warning),
    storageFolder: parseFolder(r.storageFolder),
    indexFolder: parseFolder(r.indexFolder),
    sameFileSystem: bool(r.sameFileSystem) === true,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseStorage(body: unknown): StorageReport {
  const r = fields(body);
  const days = list(r.days)
    .filter(isRecord)
    .map((d) => ({ date: str(d.date), diskBytes: num(d.diskBytes) }))
    .filter((d): d is StorageDay => DATE.test(d.date) && d.diskBytes !== null);
  return {
    ...parseVolumes(body),
    orthancDiskBytes: num(r.orthancDiskBytes),
    orthancUncompressedBytes: num(r.orthancUncompressedBytes),
    orthancInstances: num(r.orthancInstances),
    warnFreePercent: num(r.warnFreePercent),
    warnFreeGigabytes: num(r.warnFreeGigabytes),
    days,
    error: str(r.error),
  };
}

export function getStorage(api: Api, signal?: AbortSignal): Promise<StorageReport> {
  return api.getJson('admin/storage', parseStorage, signal);
}

// ---- formatting -----------------------------------------------------------------

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** Decimal units as disks are sold and `df -H` shows them: 1536 -> "1.5 kB", 2.5e9 -> "2.5 GB"; null -> "—". */
export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const sign = n < 0 ? '−' : '';
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = u === 0 ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0;
  return `${sign}${v.toFixed(digits)} ${UNITS[u]}`;
}

/** "+1.20 GB/day", "−3.0 MB/day", "0 B/day"; null -> "—". */
export function formatGrowth(bytesPerDay: number | null): string {
  if (bytesPerDay === null) return '—';
  if (bytesPerDay === 0) return '0 B/day';
  return `${bytesPerDay > 0 ? '+' : ''}${formatBytes(bytesPerDay)}/day`;
}

/** "812 GB free of 1.00 TB (81.2 %)"; "—" when unknown; the error when there is one. */
export function formatFolderSpace(f: FolderSpace): string {
  if (f.error) return f.error;
  if (f.freeBytes === null || f.totalBytes === null) return '—';
  const pct = f.freePercent ?? (f.totalBytes > 0 ? (f.freeBytes / f.totalBytes) * 100 : 0);
  return `${formatBytes(f.freeBytes)} free of ${formatBytes(f.totalBytes)} (${pct.toFixed(1)} %)`;
}

/** "below 10 % or 50 GB free", "below 10 % free", "off". */
export function formatThreshold(percent: number | null, gigabytes: number | null): string {
  const parts: string[] = [];
  if (percent) parts.push(`${percent} %`);
  if (gigabytes) parts.push(`${gigabytes} GB`);
  return parts.length ? `below ${parts.join(' or ')} free` : 'off';
}

function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
}

export interface GrowthRow {
  date: string;
  diskBytes: number;
  /** Bytes per day since the previous sample (spread over a gap of several days); null for the first. */
  growth: number | null;
}

/** One row per sample with its growth per day since the previous one (days missing in between are spread). */
export function growthRows(days: StorageDay[]): GrowthRow[] {
  return days.map((d, i) => {
    const prev = i > 0 ? days[i - 1] : undefined;
    if (!prev) return { date: d.date, diskBytes: d.diskBytes, growth: null };
    const span = dayNumber(d.date) - dayNumber(prev.date);
    return { date: d.date, diskBytes: d.diskBytes, growth: span > 0 ? (d.diskBytes - prev.diskBytes) / span : null };
  });
}

/** Average growth per day from the first to the last sample; null with fewer than two days. */
export function averageGrowth(days: StorageDay[]): number | null {
  const first = days[0];
  const last = days[days.length - 1];
  if (days.length < 2 || !first || !last) return null;
  const span = dayNumber(last.date) - dayNumber(first.date);
  return span > 0 ? (last.diskBytes - first.diskBytes) / span : null;
}

/** Days until the folder is full at the average growth (null when not growing or unknown). */
export function daysUntilFull(freeBytes: number | null, perDay: number | null): number | null {
  if (freeBytes === null || perDay === null || perDay <= 0) return null;
  return Math.floor(freeBytes / perDay);
}

// ---- rendering ------------------------------------------------------------------

/** Bars of the disk use per day (heights in % of the range, at least 4 % so that every day shows), oldest first. */
export function barHeights(days: StorageDay[]): number[] {
  if (days.length === 0) return [];
  const lo = Math.min(...days.map((d) => d.diskBytes));
  const hi = Math.max(...days.map((d) => d.diskBytes));
  return days.map((d) => (hi === lo ? 50 : Math.round(4 + ((d.diskBytes - lo) / (hi - lo)) * 96)));
}

/** A small bar chart of the days (plain elements with numeric heights: no SVG, no markup from the server). */
function sparkline(doc: Document, days: StorageDay[]): HTMLElement {
  const heights = barHeights(days);
  return hIn(
    doc,
    'div',
    { class: 'storage-sparkline', attrs: { role: 'img', 'aria-label': `Orthanc\u2019s disk use over the last ${days.length} days` } },
    ...days.map((d, i) =>
      hIn(doc, 'span', { class: 'storage-bar', attrs: { title: `${d.date}: ${formatBytes(d.diskBytes)}`, style: `height: ${heights[i] ?? 0}%` } }),
    ),
  );
}

function fact(doc: Document, field: string, label: string, value: string): HTMLElement {
  return hIn(doc, 'div', { class: 'fact', attrs: { 'data-field': field } }, hIn(doc, 'dt', { text: label }), hIn(doc, 'dd', { text: value }));
}

/** The storage card's content. */
export function renderStorage(doc: Document, r: StorageReport): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (r.warning) {
    out.push(
      hIn(doc, 'div', { class: 'sys-message error storage-warning', attrs: { role: 'alert', 'data-kind': 'warn' } }, hIn(doc, 'strong', { text: 'Low disk space: ' }), hIn(doc, 'span', { text: r.warning })),
    );
  }
  if (r.error) out.push(hIn(doc, 'p', { class: 'sys-last-error', attrs: { 'data-field': 'storageError' } }, hIn(doc, 'strong', { text: 'Last error: ' }), hIn(doc, 'span', { class: 'error-message', text: r.error })));
  const avg = averageGrowth(r.days);
  const left = daysUntilFull(r.storageFolder.freeBytes, avg);
  out.push(
    hIn(
      doc,
      'dl',
      { class: 'facts sys-facts', attrs: { 'aria-label': 'Storage' } },
      fact(doc, 'orthancDisk', 'Orthanc\u2019s disk use', `${formatBytes(r.orthancDiskBytes)}${r.orthancInstances !== null ? ` (${r.orthancInstances.toLocaleString('en-US')} ${r.orthancInstances === 1 ? 'instance' : 'instances'})` : ''}`),
      fact(doc, 'storageFree', r.sameFileSystem ? 'Storage and index folders' : 'Storage folder', formatFolderSpace(r.storageFolder)),
      ...(r.sameFileSystem ? [] : [fact(doc, 'indexFree', 'Index folder', formatFolderSpace(r.indexFolder))]),
      fact(doc, 'growth', `Growth (${r.days.length > 1 ? `last ${r.days.length - 1} days` : 'not enough days yet'})`, formatGrowth(avg)),
      fact(doc, 'daysLeft', 'Full in', left === null ? '—' : `about ${left.toLocaleString('en-US')} days at this rate`),
      fact(doc, 'threshold', 'Warning', formatThreshold(r.warnFreePercent, r.warnFreeGigabytes)),
    ),
  );
  out.push(hIn(doc, 'p', { class: 'muted small sys-note', text: `Storage folder: ${r.storageFolder.path || '—'}${r.sameFileSystem ? '' : ` · index folder: ${r.indexFolder.path || '—'}`}` }));
  if (r.days.length > 0) {
    out.push(hIn(doc, 'h3', { class: 'sys-subtitle', text: 'Disk use per day' }));
    const figure = hIn(doc, 'div', { class: 'storage-trend' });
    figure.append(sparkline(doc, r.days));
    out.push(figure);
    const rows = growthRows(r.days).reverse();
    out.push(
      hIn(
        doc,
        'table',
        { class: 'storage-days', attrs: { 'aria-label': 'Disk use per day' } },
        hIn(doc, 'thead', {}, hIn(doc, 'tr', {}, hIn(doc, 'th', { text: 'Day (UTC)' }), hIn(doc, 'th', { text: 'Disk use' }), hIn(doc, 'th', { text: 'Growth' }))),
        hIn(doc, 'tbody', {}, ...rows.map((row) => hIn(doc, 'tr', {}, hIn(doc, 'td', { text: row.date }), hIn(doc, 'td', { text: formatBytes(row.diskBytes) }), hIn(doc, 'td', { text: formatGrowth(row.growth) })))),
      ),
    );
  }
  return out;
}

/** Badge: data-status "ok" | "low". */
export function storageBadge(doc: Document, r: StorageReport | null): HTMLElement {
  const status = r ? r.status || 'unknown' : 'unknown';
  return hIn(doc, 'span', { class: 'health-badge', attrs: { 'data-status': status === 'low' ? 'degraded' : status }, text: status === 'low' ? 'low disk space' : status });
}
