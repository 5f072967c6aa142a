// What the report takes from the study (its "inserts"): reviewed AI findings (only of an analysis whose latest
// review is confirmed or modified, in the reviewed wording, labelled AI-assisted with the analysis reference;
// findings of an unreviewed analysis are listed disabled, "review first"), the study's measurements and its key
// images. Each is inserted or removed with one click; the inserted ones are listed in the report pane. The
// model part (candidates, toggling) is pure; renderInserts draws it with text only.
import type { Analysis } from './ai-api';
import type { StudyDetail } from './api';
import { hIn } from './dom';
import { formatInstant } from './format';
import type { AiFindingRef, Inserts, KeyImageRef, MeasurementRef } from './report-api';
import type { KeyImage, WireAnnotation } from './viewer-annotations-wire';
import { measurementSummary, toolLabel } from './viewer-measure-model';

export type InsertKind = keyof Inserts;
export type InsertRef = AiFindingRef | MeasurementRef | KeyImageRef;

export interface Candidate {
  kind: InsertKind;
  key: string;
  ref: InsertRef;
  title: string;
  detail: string;
  /** Why it cannot be inserted (null: it can). */
  disabledReason: string | null;
  /** The image it is on (shown in the viewer on click). */
  image: { sopInstanceUid: string; frame: number } | null;
}

/** A stable key of an insert ("ai:<analysis>:<index>", "m:<uid>", "k:<sop>:<frame>"). */
export function insertKey(kind: InsertKind, ref: InsertRef): string {
  if (kind === 'aiFindings') {
    const r = ref as AiFindingRef;
    return `ai:${r.analysisId}:${r.index}`;
  }
  if (kind === 'measurements') return `m:${(ref as MeasurementRef).annotationUid}`;
  const k = ref as KeyImageRef;
  return `k:${k.sopInstanceUid}:${k.frame}`;
}

export function hasInsert(inserts: Inserts, kind: InsertKind, ref: InsertRef): boolean {
  const key = insertKey(kind, ref);
  return (inserts[kind] as InsertRef[]).some((r) => insertKey(kind, r) === key);
}

/** A copy of `inserts` with `ref` added (at the end) when absent, removed when present. */
export function toggleInsert(inserts: Inserts, kind: InsertKind, ref: InsertRef): Inserts {
  const key = insertKey(kind, ref);
  const items = inserts[kind] as InsertRef[];
  const next = items.some((r) => insertKey(kind, r) === key) ? items.filter((r) => insertKey(kind, r) !== key) : [...items, ref];
  return { ...inserts, [kind]: next } as Inserts;
}

/** "Series 3 · image 45" (frame when multi-frame) of an image of the study; the UID's tail when unknown. */
export function imageLabel(study: Pick<StudyDetail, 'series'> | null, sop: string, frame: number): string {
  for (const s of study?.series ?? []) {
    const i = s.instances.find((x) => x.sopInstanceUid === sop);
    if (!i) continue;
    const series = `Series ${s.seriesNumber ?? '?'}${s.seriesDescription ? ` ${s.seriesDescription}` : ''}`;
    const image = `image ${i.instanceNumber ?? '?'}${i.numberOfFrames > 1 ? `, frame ${frame}` : ''}`;
    return `${series} · ${image}`;
  }
  return `Image …${sop.slice(-12)}${frame > 1 ? `, frame ${frame}` : ''}`;
}

/** The short reference of an analysis shown with its findings ("AI analysis 3f2a9c1b · 2026-12-04 10:20"). */
export function analysisRef(a: Pick<Analysis, 'id' | 'finishedAt' | 'requestedAt'>): string {
  const when = formatInstant(a.finishedAt ?? a.requestedAt);
  return `AI analysis ${a.id.slice(0, 8)}${when ? ` · ${when}` : ''}`;
}

const REVIEWED = ['confirmed', 'modified'];

/** The findings of the completed analyses as candidates (newest analysis first, as listed). */
export function aiCandidates(analyses: readonly Analysis[]): Candidate[] {
  const out: Candidate[] = [];
  for (const a of analyses) {
    if (a.status !== 'completed' || a.findings.length === 0 || a.reviewStatus === 'rejected') continue;
    const reviewed = REVIEWED.includes(a.reviewStatus);
    const latest = a.reviews && a.reviews.length ? a.reviews[a.reviews.length - 1] : null;
    a.findings.forEach((f, index) => {
      const verdict = latest?.findings.find((x) => x.index === index);
      if (reviewed && verdict?.verdict === 'rejected') return; // the radiologist rejected it
      const text = reviewed && verdict?.verdict === 'edited' && verdict.text ? verdict.text : f.description;
      out.push({
        kind: 'aiFindings',
        key: insertKey('aiFindings', { analysisId: a.id, index }),
        ref: { analysisId: a.id, index },
        title: text || '(no description)',
        detail: [f.location, analysisRef(a)].filter(Boolean).join(' · '),
        disabledReason: reviewed ? null : 'Review the AI analysis first (only confirmed or modified findings can be inserted)',
        image: null,
      });
    });
  }
  return out;
}

export function measurementCandidates(annotations: readonly WireAnnotation[], study: Pick<StudyDetail, 'series'> | null): Candidate[] {
  return annotations.map((m) => ({
    kind: 'measurements' as const,
    key: insertKey('measurements', { annotationUid: m.annotationUid }),
    ref: { annotationUid: m.annotationUid },
    title: [m.label || toolLabel(m.tool), m.data.stats ? measurementSummary(m.tool, m.data.stats) : ''].filter(Boolean).join(': '),
    detail: imageLabel(study, m.sopInstanceUid, m.frame),
    disabledReason: null,
    image: { sopInstanceUid: m.sopInstanceUid, frame: m.frame },
  }));
}

export function keyImageCandidates(keyImages: readonly KeyImage[], study: Pick<StudyDetail, 'series'> | null): Candidate[] {
  return keyImages.map((k) => ({
    kind: 'keyImages' as const,
    key: insertKey('keyImages', { sopInstanceUid: k.sopInstanceUid, frame: k.frame }),
    ref: { sopInstanceUid: k.sopInstanceUid, frame: k.frame },
    title: `Key image: ${imageLabel(study, k.sopInstanceUid, k.frame)}`,
    detail: k.author ? `marked by ${k.author}` : '',
    disabledReason: null,
    image: { sopInstanceUid: k.sopInstanceUid, frame: k.frame },
  }));
}

/** The inserted items in order (findings, measurements, key images), with their candidate when the study still has it. */
export function insertedItems(inserts: Inserts, candidates: readonly Candidate[], study: Pick<StudyDetail, 'series'> | null): Candidate[] {
  const byKey = new Map(candidates.map((c) => [c.key, c]));
  const out: Candidate[] = [];
  for (const kind of ['aiFindings', 'measurements', 'keyImages'] as const) {
    for (const ref of inserts[kind] as InsertRef[]) {
      const key = insertKey(kind, ref);
      const c = byKey.get(key);
      if (c) out.push({ ...c, disabledReason: null });
      else {
        const k = kind === 'keyImages' ? (ref as KeyImageRef) : null;
        out.push({
          kind,
          key,
          ref,
          title: k ? `Key image: ${imageLabel(study, k.sopInstanceUid, k.frame)}` : kind === 'aiFindings' ? `AI finding ${(ref as AiFindingRef).index + 1}` : 'Measurement',
          detail: 'no longer listed in the study',
          disabledReason: null,
          image: k ? { sopInstanceUid: k.sopInstanceUid, frame: k.frame } : null,
        });
      }
    }
  }
  return out;
}

const GROUPS: readonly { kind: InsertKind; title: string; empty: string }[] = [
  { kind: 'aiFindings', title: 'AI findings', empty: 'No AI findings (analyse the study and review the result first).' },
  { kind: 'measurements', title: 'Measurements', empty: 'No measurements in this study.' },
  { kind: 'keyImages', title: 'Key images', empty: 'No key images marked in this study.' },
];

export interface InsertsViewOptions {
  inserts: Inserts;
  candidates: readonly Candidate[];
  study: Pick<StudyDetail, 'series'> | null;
  readOnly: boolean;
  /** Why the candidates are not listed ('' when they are; "Loading…", an error). */
  problem?: string;
  onToggle?(kind: InsertKind, ref: InsertRef): void;
  onShow?(image: { sopInstanceUid: string; frame: number }): void;
}

function itemRow(doc: Document, c: Candidate, inserted: boolean, o: InsertsViewOptions): HTMLElement {
  const title = c.image && o.onShow
    ? hIn(doc, 'button', { class: 'btn-link insert-title', attrs: { type: 'button', title: 'Show in the viewer' }, text: c.title, on: { click: () => o.onShow?.(c.image!) } })
    : hIn(doc, 'span', { class: 'insert-title', text: c.title });
  const action = o.readOnly
    ? null
    : hIn(doc, 'button', {
        class: `btn btn-small ${inserted ? 'btn-ghost' : ''}`,
        attrs: { type: 'button', 'data-action': inserted ? 'insert-remove' : 'insert-add', disabled: c.disabledReason !== null, title: c.disabledReason },
        text: inserted ? 'Remove' : c.disabledReason ? 'Review first' : 'Insert',
        on: { click: () => o.onToggle?.(c.kind, c.ref) },
      });
  return hIn(
    doc,
    'li',
    { class: `insert-item${c.disabledReason ? ' is-disabled' : ''}`, attrs: { 'data-insert': c.key, 'data-kind': c.kind } },
    hIn(doc, 'div', { class: 'insert-text' }, c.kind === 'aiFindings' ? hIn(doc, 'span', { class: 'ai-assisted-badge', text: 'AI-assisted' }) : null, title, c.detail ? hIn(doc, 'span', { class: 'insert-detail small muted', text: c.detail }) : null),
    action,
  );
}

/** "In the report" (the inserted items) and, when writing, "Insert from the study" by kind. */
export function renderInserts(doc: Document, o: InsertsViewOptions): HTMLElement {
  const inserted = insertedItems(o.inserts, o.candidates, o.study);
  const list = hIn(doc, 'ul', { class: 'insert-list inserted', attrs: { 'aria-label': 'Inserted in the report' } }, ...inserted.map((c) => itemRow(doc, c, true, o)));
  const wrap = hIn(
    doc,
    'section',
    { class: 'report-inserts', attrs: { 'aria-label': 'Inserted from the study' } },
    hIn(doc, 'h3', { class: 'report-subtitle', text: `In the report from the study (${inserted.length})` }),
    inserted.length ? list : hIn(doc, 'p', { class: 'small muted', text: 'Nothing inserted.' }),
  );
  if (o.readOnly) return wrap;
  const available = (kind: InsertKind): Candidate[] => o.candidates.filter((c) => c.kind === kind && !hasInsert(o.inserts, kind, c.ref));
  const groups = GROUPS.map((g) => {
    const items = available(g.kind);
    return hIn(
      doc,
      'div',
      { class: 'insert-group', attrs: { 'data-group': g.kind } },
      hIn(doc, 'h4', { class: 'insert-group-title', text: g.title }),
      items.length
        ? hIn(doc, 'ul', { class: 'insert-list' }, ...items.map((c) => itemRow(doc, c, false, o)))
        : hIn(doc, 'p', { class: 'small muted', text: o.candidates.some((c) => c.kind === g.kind) ? 'All inserted.' : g.empty }),
    );
  });
  wrap.appendChild(
    hIn(
      doc,
      'details',
      { class: 'insert-from-study', attrs: { open: true } },
      hIn(doc, 'summary', { class: 'report-subtitle', text: 'Insert from the study' }),
      o.problem ? hIn(doc, 'p', { class: 'small muted', attrs: { role: 'status' }, text: o.problem }) : null,
      ...groups,
    ),
  );
  return wrap;
}
