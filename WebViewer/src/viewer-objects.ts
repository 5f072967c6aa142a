// The study's other objects (issue 10, "shown for what they are"): what kind of object a series holds
// (from its first instance's SOP Class UID, then its modality), the line shown for what the viewer cannot
// display, and a DICOM SR's content tree as readable lines for any template. No DOM here (the view is
// viewer-objects-view.ts); the SR input is Orthanc's GET /instances/{id}/tags?short JSON: tags keyed
// "gggg,eeee", strings as strings, sequences as arrays of such objects, binary or long values as null.
// Every string stays a string: the view puts it into the DOM as text.

import type { Series, StudyDetail } from './api';
import { isImageInstance } from './viewer-model';

export type SeriesKind = 'image' | 'sr' | 'pdf' | 'seg' | 'rtstruct' | 'rt' | 'waveform' | 'video' | 'other';

export interface KindInfo {
  kind: SeriesKind;
  /** What it is, for people: "structured report", "ECG waveform", "raw data". */
  label: string;
}

const SOP = '1.2.840.10008.5.1.4.1.1.';
/** Video transfer syntaxes (MPEG-2, MPEG-4, HEVC): the images are a film the stack viewport cannot decode. */
const VIDEO_TS = /^1\.2\.840\.10008\.1\.2\.4\.(10[0-9]|11[0-9])$/;

const WAVEFORMS: Record<string, string> = {
  '9.1.1': 'ECG waveform',
  '9.1.2': 'ECG waveform',
  '9.1.3': 'ECG waveform',
  '9.2.1': 'haemodynamic waveform',
  '9.3.1': 'cardiac electrophysiology waveform',
  '9.4.1': 'audio waveform',
  '9.4.2': 'audio waveform',
  '9.5.1': 'arterial pulse waveform',
  '9.6.1': 'respiratory waveform',
  '9.6.2': 'respiratory waveform',
  '9.7.1': 'EEG waveform',
  '9.7.2': 'EEG waveform',
  '9.7.3': 'EMG waveform',
  '9.7.4': 'EOG waveform',
  '9.8.1': 'body position waveform',
};

const RT: Record<string, string> = {
  '481.2': 'RT dose',
  '481.4': 'RT beams treatment record',
  '481.5': 'RT plan',
  '481.6': 'RT brachy treatment record',
  '481.7': 'RT treatment summary record',
  '481.8': 'RT ion plan',
  '481.9': 'RT ion beams treatment record',
};

/** The kind of one SOP class (and transfer syntax); modality is the fallback for an unknown class. */
export function classifyInstance(sopClassUid: string, modality: string, transferSyntaxUid = ''): KindInfo {
  const tail = sopClassUid.startsWith(SOP) ? sopClassUid.slice(SOP.length) : '';
  if (tail.startsWith('88.')) return { kind: 'sr', label: tail === '88.59' ? 'key object selection' : 'structured report' };
  if (tail === '104.1') return { kind: 'pdf', label: 'PDF document' };
  if (tail.startsWith('104.')) return { kind: 'other', label: tail === '104.2' ? 'CDA document' : 'encapsulated 3D model' };
  if (tail === '66.4' || tail === '66.7') return { kind: 'seg', label: 'segmentation' };
  if (tail === '481.3') return { kind: 'rtstruct', label: 'RT structure set' };
  if (tail === '481.1') return { kind: 'image', label: 'RT image' };
  if (RT[tail]) return { kind: 'rt', label: RT[tail]! };
  if (tail.startsWith('9.')) return { kind: 'waveform', label: WAVEFORMS[tail] ?? 'waveform' };
  if (tail === '66') return { kind: 'other', label: 'raw data' };
  if (tail.startsWith('66.')) return { kind: 'other', label: tail === '66.1' || tail === '66.3' ? 'spatial registration' : 'fiducials or surface' };
  if (tail.startsWith('11.')) return { kind: 'other', label: 'presentation state' };
  if (tail.startsWith('68.')) return { kind: 'other', label: 'surface model' };
  if (/^77\.1\.\d\.1$/.test(tail) || VIDEO_TS.test(transferSyntaxUid)) return { kind: 'video', label: 'video' };
  if (sopClassUid && !isImageInstance({ sopClassUid })) return { kind: 'other', label: 'non-image object' };
  if (!sopClassUid) {
    // no SOP class known (older index): the modality decides
    const m = modality.toUpperCase();
    if (m === 'SR') return { kind: 'sr', label: 'structured report' };
    if (m === 'DOC') return { kind: 'pdf', label: 'PDF document' };
    if (m === 'SEG') return { kind: 'seg', label: 'segmentation' };
    if (m === 'RTSTRUCT') return { kind: 'rtstruct', label: 'RT structure set' };
    if (m === 'ECG' || m === 'HD' || m === 'EPS') return { kind: 'waveform', label: m === 'ECG' ? 'ECG waveform' : 'waveform' };
  }
  return { kind: 'image', label: 'image' };
}

/** The kind of a series: that of its first instance (a series holds one kind of object). */
export function seriesKind(series: Pick<Series, 'instances' | 'modality'>): KindInfo {
  const first = series.instances[0];
  return classifyInstance(first?.sopClassUid ?? '', series.modality, first?.transferSyntaxUid ?? '');
}

/** The panel's second line of a series that is not an image stack: "#5 · SR · structured report · 1 instance". */
export function objectDetail(series: Pick<Series, 'instances' | 'modality' | 'seriesNumber' | 'instanceCount'>): string {
  const n = series.instances.length || series.instanceCount;
  const parts = [series.seriesNumber === null ? '' : `#${series.seriesNumber}`, series.modality, seriesKind(series).label, `${n} instance${n === 1 ? '' : 's'}`];
  return parts.filter(Boolean).join(' · ');
}

/** The line for a series the viewer cannot display. */
export function cannotShowLine(series: Pick<Series, 'instances' | 'modality' | 'instanceCount'>): string {
  const n = series.instances.length || series.instanceCount;
  const what = seriesKind(series).label;
  const article = what === 'raw data' ? '' : /^[aeiouAEIOU]|^(ECG|EEG|EMG|EOG|RT)\b/.test(what) ? 'an ' : 'a ';
  return `This series holds ${article}${what} (${n} instance${n === 1 ? '' : 's'}): the viewer cannot display it.`;
}

// ------------------------------------------------------------------ SR

type Dataset = Record<string, unknown>;

export interface SrLine {
  /** Nesting depth (0 = the document's top-level items). */
  depth: number;
  /** A CONTAINER's concept name, shown as a heading. */
  heading: boolean;
  /** Concept name ("Finding", "Length"); empty when the item has none. */
  label: string;
  /** The value as text ("12.5 mm", "2024-03-01", "Doe, John"); empty for a heading. */
  value: string;
  /** Relationship to its parent when it is not the plain CONTAINS (e.g. "HAS OBS CONTEXT"). */
  relation: string;
  /** The SOP Instance UID an IMAGE, COMPOSITE or WAVEFORM item references (for whereInStudy). */
  reference?: string;
}

export interface SrDocument {
  title: string;
  completion: string;
  verification: string;
  /** "2024-03-01 10:22:00" from Content Date/Time. */
  contentDateTime: string;
  /** Verifying observers (name, organisation, time) and authors. */
  observers: string[];
  lines: SrLine[];
  /** True when the tree was cut at MAX_SR_LINES or MAX_SR_DEPTH. */
  truncated: boolean;
}

export const MAX_SR_LINES = 5000;
export const MAX_SR_DEPTH = 40;

function str(d: Dataset | undefined, tag: string): string {
  const v = d?.[tag];
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  return '';
}

function seq(d: Dataset | undefined, tag: string): Dataset[] {
  const v = d?.[tag];
  return Array.isArray(v) ? v.filter((x): x is Dataset => typeof x === 'object' && x !== null && !Array.isArray(x)) : [];
}

/** A code's meaning, else its value and scheme. */
function codeText(c: Dataset | undefined): string {
  if (!c) return '';
  const meaning = str(c, '0008,0104');
  if (meaning) return meaning;
  const value = str(c, '0008,0100') || str(c, '0008,0119') || str(c, '0008,0120');
  const scheme = str(c, '0008,0102');
  return value ? (scheme ? `${value} (${scheme})` : value) : '';
}

export function formatDate(da: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(da);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : da;
}

export function formatTime(tm: string): string {
  const m = /^(\d{2})(\d{2})?(\d{2})?(\.\d+)?$/.exec(tm);
  if (!m) return tm;
  return [m[1], m[2] ?? '00', m[3] ?? '00'].join(':');
}

export function formatDateTime(dt: string): string {
  const m = /^(\d{8})(\d{2,6}(?:\.\d+)?)?([+-]\d{4})?$/.exec(dt);
  if (!m) return dt;
  return [formatDate(m[1]!), m[2] ? formatTime(m[2]) : '', m[3] ?? ''].filter(Boolean).join(' ');
}

/** "Doe^John^^Dr" → "Doe, John Dr" (the alphabetic group only). */
export function formatPersonName(pn: string): string {
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = (pn.split('=')[0] ?? '').split('^').map((s) => s.trim());
  const rest = [prefix, given, middle, suffix].filter(Boolean).join(' ');
  return family && rest ? `${family}, ${rest}` : family || rest;
}

function numValue(item: Dataset): string {
  const mv = seq(item, '0040,a300')[0];
  if (!mv) {
    const q = codeText(seq(item, '0040,a301')[0]);
    return q ? `(no value: ${q})` : '(no value)';
  }
  const n = str(mv, '0040,a30a');
  const unit = seq(mv, '0040,08ea')[0];
  // UCUM's code value is the symbol ("mm", "cm2"); "1" means no unit
  const symbol = unit ? (str(unit, '0008,0102') === 'UCUM' ? str(unit, '0008,0100') : codeText(unit)) : '';
  return symbol && symbol !== '1' ? `${n} ${symbol}` : n;
}

function referenceValue(item: Dataset, what: string): string {
  const ref = seq(item, '0008,1199')[0];
  if (!ref) return `(no ${what} referenced)`;
  const frames = str(ref, '0008,1160');
  const segments = str(ref, '0062,000b');
  const parts = [`${what} ${str(ref, '0008,1155') || '(no UID)'}`];
  if (frames) parts.push(`frame ${frames.replace(/\\/g, ', ')}`);
  if (segments) parts.push(`segment ${segments.replace(/\\/g, ', ')}`);
  return parts.join(', ');
}

function coordValue(item: Dataset, kind: string): string {
  const type = str(item, '0070,0023') || str(item, '0040,a130');
  const data = item['0070,0022'];
  const count = typeof data === 'string' && data ? data.split('\\').length : 0;
  const dims = kind === 'SCOORD3D' ? 3 : 2;
  const points = count ? `, ${Math.floor(count / dims)} point${Math.floor(count / dims) === 1 ? '' : 's'}` : '';
  return `${kind === 'SCOORD3D' ? '3D ' : ''}${type || 'coordinates'}${points}`;
}

/** One content item's value as text. */
export function itemValue(item: Dataset): string {
  const type = str(item, '0040,a040').toUpperCase();
  switch (type) {
    case 'TEXT':
      return str(item, '0040,a160');
    case 'CODE':
      return codeText(seq(item, '0040,a168')[0]);
    case 'NUM':
      return numValue(item);
    case 'DATE':
      return formatDate(str(item, '0040,a121'));
    case 'TIME':
      return formatTime(str(item, '0040,a122'));
    case 'DATETIME':
      return formatDateTime(str(item, '0040,a120'));
    case 'PNAME':
      return formatPersonName(str(item, '0040,a123'));
    case 'UIDREF':
      return str(item, '0040,a124');
    case 'IMAGE':
      return referenceValue(item, 'image');
    case 'COMPOSITE':
      return referenceValue(item, 'object');
    case 'WAVEFORM':
      return referenceValue(item, 'waveform');
    case 'SCOORD':
    case 'SCOORD3D':
      return coordValue(item, type);
    case 'TCOORD':
      return str(item, '0040,a132') ? 'sample positions' : 'time coordinates';
    case 'CONTAINER':
      return '';
    default: {
      const ref = str(item, '0040,db73');
      if (ref) return `see item ${ref.replace(/\\/g, '.')}`;
      return type ? `(${type})` : '';
    }
  }
}

interface Walk {
  lines: SrLine[];
  truncated: boolean;
}

function walk(items: Dataset[], depth: number, out: Walk): void {
  for (const item of items) {
    if (out.lines.length >= MAX_SR_LINES || depth > MAX_SR_DEPTH) {
      out.truncated = true;
      return;
    }
    const type = str(item, '0040,a040').toUpperCase();
    const label = codeText(seq(item, '0040,a043')[0]);
    const rel = str(item, '0040,a010').toUpperCase();
    const heading = type === 'CONTAINER';
    const line: SrLine = { depth, heading, label: label || (heading ? '(untitled section)' : ''), value: itemValue(item), relation: rel === 'CONTAINS' ? '' : rel };
    const reference = type === 'IMAGE' || type === 'COMPOSITE' || type === 'WAVEFORM' ? str(seq(item, '0008,1199')[0], '0008,1155') : '';
    if (reference) line.reference = reference;
    out.lines.push(line);
    walk(seq(item, '0040,a730'), depth + 1, out);
  }
}

function observers(root: Dataset): string[] {
  const out: string[] = [];
  for (const v of seq(root, '0040,a073')) {
    const who = formatPersonName(str(v, '0040,a075'));
    const org = str(v, '0040,a027');
    const when = formatDateTime(str(v, '0040,a030'));
    out.push(['Verified by', who || '(unnamed)', org ? `(${org})` : '', when ? `on ${when}` : ''].filter(Boolean).join(' '));
  }
  for (const a of seq(root, '0040,a078')) {
    const who = formatPersonName(str(a, '0040,a123')) || str(a, '0040,a027') || str(a, '0040,a088');
    if (who) out.push(`Author: ${who}`);
  }
  return out;
}

/** An SR instance's tags (Orthanc's ?short form) as a document: title, flags, observers and the content lines. */
export function srDocument(tags: unknown): SrDocument {
  const root: Dataset = typeof tags === 'object' && tags !== null && !Array.isArray(tags) ? (tags as Dataset) : {};
  const out: Walk = { lines: [], truncated: false };
  walk(seq(root, '0040,a730'), 0, out);
  const date = str(root, '0008,0023');
  const time = str(root, '0008,0033');
  return {
    title: codeText(seq(root, '0040,a043')[0]) || str(root, '0008,103e') || 'Structured report',
    completion: str(root, '0040,a491'),
    verification: str(root, '0040,a493'),
    contentDateTime: [date ? formatDate(date) : '', time ? formatTime(time) : ''].filter(Boolean).join(' '),
    observers: observers(root),
    lines: out.lines,
    truncated: out.truncated,
  };
}

/** One line as plain text: "Length: 12.5 mm" (a heading is its label). */
export function srLineText(line: SrLine): string {
  if (line.heading) return line.label;
  if (!line.label) return line.value;
  return line.value ? `${line.label}: ${line.value}` : line.label;
}

// ------------------------------------------------------------------ SEG and RT structure sets

/**
 * What a segmentation or RT structure set outlines, one line each, from its tags (?short): SEG segments
 * ("1 Necrosis: Morphologically Altered Structure, Necrosis; automatic") from Segment Sequence (0062,0002),
 * RT ROIs ("1 Heart (ORGAN)") from Structure Set ROI Sequence (3006,0020) and RT ROI Observations (3006,0080).
 */
export function outlineList(kind: SeriesKind, tags: unknown): string[] {
  const root: Dataset = typeof tags === 'object' && tags !== null && !Array.isArray(tags) ? (tags as Dataset) : {};
  if (kind === 'seg') {
    return seq(root, '0062,0002').slice(0, MAX_SR_LINES).map((s) => {
      const what = [codeText(seq(s, '0062,0003')[0]), codeText(seq(s, '0062,000f')[0])].filter(Boolean).join(', ');
      const algorithm = str(s, '0062,0008').toLowerCase();
      const head = [str(s, '0062,0004'), str(s, '0062,0005') || '(no label)'].filter(Boolean).join(' ');
      return `${head}${what ? `: ${what}` : ''}${algorithm ? `; ${algorithm}` : ''}`;
    });
  }
  if (kind === 'rtstruct') {
    const types = new Map<string, string>();
    for (const o of seq(root, '3006,0080')) types.set(str(o, '3006,0084'), str(o, '3006,00a4'));
    return seq(root, '3006,0020').slice(0, MAX_SR_LINES).map((r) => {
      const n = str(r, '3006,0022');
      const type = types.get(n) ?? '';
      return `${[n, str(r, '3006,0026') || '(no name)'].filter(Boolean).join(' ')}${type ? ` (${type})` : ''}`;
    });
  }
  return [];
}

/**
 * Where an instance referenced by an SR is in the study: "series #2 CT chest, image 5 of 30" (image
 * series: the stack position in display order, frames counted) or "series #4 SEG" (other objects); null
 * when the study does not hold it.
 */
export function whereInStudy(study: Pick<StudyDetail, 'series'>, sopInstanceUid: string): string | null {
  for (const s of study.series) {
    const name = ['series', s.seriesNumber === null ? '' : `#${s.seriesNumber}`, s.modality, s.seriesDescription].filter(Boolean).join(' ');
    let position = 0;
    let total = 0;
    let found = false;
    for (const inst of s.instances) {
      const image = isImageInstance(inst);
      if (inst.sopInstanceUid === sopInstanceUid) {
        if (!image) return name;
        found = true;
        position = total + 1;
      }
      if (image) total += Math.max(1, inst.numberOfFrames);
    }
    if (found) return `${name}, image ${position} of ${total}`;
  }
  return null;
}
