// "Save to archive" and SR loading (issue 10), the pure part: no cornerstone, no DOM. The viewer-sr.ts
// runtime turns the plugin's stored annotations (GET /api/dicom/studies/{uid}/annotations, the wire format
// of the contract: world points in LPS mm under data.points, values under data.stats) into
// cornerstone annotations with the cachedStats @cornerstonejs/adapters reads when it writes a DICOM SR
// TID 1500; and it maps an SR's referenced SOP Instance UID + frame back to the viewer's imageIds.

import type { Series, StudyDetail } from './api';
import { MEASURE_TOOLS } from './viewer-measure-model';
import { stackImages } from './viewer-model';

/** SR SOP classes that can hold a TID 1500 measurement report (Enhanced, Comprehensive, Comprehensive 3D). */
export const SR_MEASUREMENT_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.88.22',
  '1.2.840.10008.5.1.4.1.1.88.33',
  '1.2.840.10008.5.1.4.1.1.88.34',
]);

/** The series description of the reports the viewer writes. */
export const SR_SERIES_DESCRIPTION = 'Reading Room measurements';

/** The tools the adapters can write into TID 1500 (the tool list). */
export const SR_TOOLS: ReadonlySet<string> = new Set<string>(MEASURE_TOOLS);

export type Vec3 = [number, number, number];

/** A stored annotation as the plugin answers it (the fields this module reads). */
export interface StoredAnnotation {
  annotationUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  frame: number;
  tool: string;
  label: string;
  data: Record<string, unknown>;
  author?: string;
}

/** The cornerstone annotation shape this module builds (what generateReport reads). */
export interface SrAnnotation {
  annotationUID: string;
  isLocked?: boolean;
  isVisible?: boolean;
  highlighted?: boolean;
  invalidated?: boolean;
  metadata: {
    toolName: string;
    referencedImageId: string;
    FrameOfReferenceUID?: string;
    viewPlaneNormal?: number[];
    viewUp?: number[];
  };
  data: {
    handles: { points: number[][]; activeHandleIndex?: number | null; textBox?: { hasMoved: boolean; worldPosition?: number[] }; arrowFirst?: boolean };
    label?: string;
    text?: string;
    contour?: { polyline: number[][]; closed: boolean };
    cachedStats: Record<string, Record<string, number | string | undefined>>;
    rrSource?: string;
    [key: string]: unknown;
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function vec3(v: unknown): Vec3 | null {
  if (!Array.isArray(v) || v.length < 3) return null;
  const out = v.slice(0, 3).map(Number);
  return out.every(Number.isFinite) ? (out as Vec3) : null;
}

function vec3s(v: unknown): Vec3[] {
  if (!Array.isArray(v)) return [];
  return v.map(vec3).filter((p): p is Vec3 => p !== null);
}

/** The key of an image in an SR: SOP Instance UID and 1-based frame. */
export const imageKey = (sopInstanceUid: string, frame: number): string => `${sopInstanceUid}:${frame}`;

/** Every image of the study's image series: "sop:frame" (1-based) → the viewer's imageId (viewer-model.ts stackImages). */
export function imageIndex(study: StudyDetail, orthancRoot: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of study.series) for (const img of stackImages(s, orthancRoot)) out.set(imageKey(img.sopInstanceUid, img.frame + 1), img.imageId);
  return out;
}

/** The study's series that may hold a measurement report (an SR SOP class, or modality SR with no instance list). */
export function srSeriesOf(study: StudyDetail): Series[] {
  return study.series.filter((s) => s.instances.some((i) => SR_MEASUREMENT_CLASSES.has(i.sopClassUid)));
}

/** A series number for a new report: after every number the study uses (at least 9001, out of the scanners' way). */
export function nextSeriesNumber(study: StudyDetail): number {
  let n = 9000;
  for (const s of study.series) if (s.seriesNumber !== null && s.seriesNumber >= n) n = s.seriesNumber;
  return n + 1;
}

const dist = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** The angle between two directions in degrees (0..180). */
function angleBetween(u: Vec3, v: Vec3): number | undefined {
  const nu = Math.hypot(...u);
  const nv = Math.hypot(...v);
  if (nu === 0 || nv === 0) return undefined;
  const c = Math.min(1, Math.max(-1, (u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv)));
  return (Math.acos(c) * 180) / Math.PI;
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A unit as the adapters' DICOM units know it ("mm²" → "mm2"; pixels have no unit). */
function unitOf(v: unknown, fallback: string): string {
  const u = typeof v === 'string' && v ? v : fallback;
  return u.replace('²', '2');
}

/**
 * The values the adapters write for a tool, from the stored stats (B's measurement values) or, for the
 * geometric tools, computed from the world points (LPS mm) when the stats are missing.
 */
export function statsFor(tool: string, stats: Record<string, unknown> | null, points: Vec3[]): Record<string, number | string | undefined> {
  const s = stats ?? {};
  const pixels = s.unitSource === 'pixels';
  const unit = unitOf(s.unit, pixels ? 'px' : 'mm');
  switch (tool) {
    case 'Length':
      return { length: num(s.length) ?? (points.length >= 2 && !pixels ? dist(points[0]!, points[1]!) : undefined), unit };
    case 'Angle':
      return { angle: num(s.angle) ?? (points.length >= 3 ? angleBetween(sub(points[0]!, points[1]!), sub(points[2]!, points[1]!)) : undefined) };
    case 'CobbAngle': {
      const computed = points.length >= 4 ? angleBetween(sub(points[1]!, points[0]!), sub(points[3]!, points[2]!)) : undefined;
      return { angle: num(s.angle) ?? (computed === undefined ? undefined : Math.min(computed, 180 - computed)) };
    }
    case 'Bidirectional': {
      const a = points.length >= 4 && !pixels ? dist(points[0]!, points[1]!) : undefined;
      const b = points.length >= 4 && !pixels ? dist(points[2]!, points[3]!) : undefined;
      return {
        length: num(s.longAxis) ?? (a !== undefined && b !== undefined ? Math.max(a, b) : undefined),
        width: num(s.shortAxis) ?? (a !== undefined && b !== undefined ? Math.min(a, b) : undefined),
        unit,
      };
    }
    case 'EllipticalROI':
    case 'RectangleROI':
    case 'CircleROI':
    case 'PlanarFreehandROI': {
      const out: Record<string, number | string | undefined> = {
        area: num(s.area),
        areaUnit: unitOf(s.areaUnit, pixels ? 'px2' : 'mm2'),
        mean: num(s.mean),
        stdDev: num(s.sd),
        min: num(s.min),
        max: num(s.max),
        modalityUnit: typeof s.valueUnit === 'string' && s.valueUnit ? s.valueUnit : undefined,
      };
      if (tool === 'CircleROI' && points.length >= 2 && !pixels) {
        out.radius = dist(points[0]!, points[1]!);
        out.radiusUnit = unit;
      }
      if (tool === 'PlanarFreehandROI') out.perimeter = undefined;
      return out;
    }
    default:
      return {};
  }
}

/**
 * The cornerstone annotation of a stored one, on `imageId`, with the values the adapters write; null when
 * the tool is not one the adapters write or it has no points.
 */
export function toCornerstone(a: StoredAnnotation, imageId: string): SrAnnotation | null {
  if (!SR_TOOLS.has(a.tool) || !isRecord(a.data)) return null;
  const d = a.data;
  const points = vec3s(d.points);
  const polyline = isRecord(d.contour) ? vec3s(d.contour.polyline) : [];
  if (points.length === 0 && polyline.length === 0) return null;
  if (a.tool === 'PlanarFreehandROI' && polyline.length < 2) return null;
  const stats = statsFor(a.tool, isRecord(d.stats) ? d.stats : null, points);
  const box = vec3(d.textBox);
  const out: SrAnnotation = {
    annotationUID: a.annotationUid,
    metadata: { toolName: a.tool, referencedImageId: imageId },
    data: {
      handles: { points: points.map((p) => [...p]), activeHandleIndex: null, textBox: box ? { hasMoved: true, worldPosition: [...box] } : { hasMoved: false } },
      label: a.tool === 'ArrowAnnotate' ? (typeof d.text === 'string' && d.text ? d.text : a.label) : a.label,
      cachedStats: { [`imageId:${imageId}`]: stats },
    },
  };
  if (typeof d.frameOfReferenceUID === 'string' && d.frameOfReferenceUID) out.metadata.FrameOfReferenceUID = d.frameOfReferenceUID;
  const normal = vec3(d.viewPlaneNormal);
  const up = vec3(d.viewUp);
  if (normal) out.metadata.viewPlaneNormal = normal;
  if (up) out.metadata.viewUp = up;
  if (a.tool === 'ArrowAnnotate') out.data.text = out.data.label ?? '';
  if (polyline.length > 0) out.data.contour = { polyline: polyline.map((p) => [...p]), closed: !(isRecord(d.contour) && d.contour.closed === false) };
  return out;
}

/** What one save puts into the report, and what it leaves out with the reason. */
export interface SavePlan {
  /** imageId → tool → annotations (the adapters' toolState). */
  toolState: Record<string, Record<string, { data: SrAnnotation[] }>>;
  count: number;
  imageIds: string[];
  skipped: Array<{ annotationUid: string; reason: string }>;
}

/** Which stored annotations go into a report: the store's own (not those read from an SR), on images of the study. */
export function planReport(annotations: StoredAnnotation[], index: Map<string, string>): SavePlan {
  const plan: SavePlan = { toolState: {}, count: 0, imageIds: [], skipped: [] };
  for (const a of annotations) {
    if (isRecord(a.data) && typeof a.data.rrSource === 'string') continue; // already in the archive
    const imageId = index.get(imageKey(a.sopInstanceUid, a.frame));
    if (!imageId) {
      plan.skipped.push({ annotationUid: a.annotationUid, reason: 'its image is not an image of this study' });
      continue;
    }
    const cs = toCornerstone(a, imageId);
    if (!cs) {
      plan.skipped.push({ annotationUid: a.annotationUid, reason: SR_TOOLS.has(a.tool) ? 'it has no points' : `${a.tool} cannot be written to TID 1500` });
      continue;
    }
    const byTool = (plan.toolState[imageId] ??= {});
    (byTool[a.tool] ??= { data: [] }).data.push(cs);
    if (!plan.imageIds.includes(imageId)) plan.imageIds.push(imageId);
    plan.count += 1;
  }
  return plan;
}

/**
 * Whether a stored annotation is the same measurement as one read from an SR: same image and tool, and the
 * same distinct points within `tol` mm in any order (the adapters reorder an ellipse's axes and write an
 * angle's vertex twice).
 */
export function sameGeometry(s: StoredAnnotation, sop: string, frame: number, tool: string, points: readonly (readonly number[])[], tol = 0.05): boolean {
  if (s.sopInstanceUid !== sop || s.frame !== frame || s.tool !== tool || !isRecord(s.data)) return false;
  const near = (a: readonly number[], b: readonly number[]): boolean => [0, 1, 2].every((k) => Math.abs(Number(a[k]) - Number(b[k])) <= tol);
  const distinct = (list: readonly (readonly number[])[]): (readonly number[])[] => {
    const out: (readonly number[])[] = [];
    for (const p of list) if (p.length >= 3 && p.slice(0, 3).every((v) => Number.isFinite(Number(v))) && !out.some((q) => near(p, q))) out.push(p);
    return out;
  };
  const mine = distinct(vec3s(s.data.points));
  const theirs = distinct(points);
  if (mine.length === 0 || mine.length !== theirs.length) return false;
  return mine.every((p) => theirs.some((q) => near(p, q))) && theirs.every((q) => mine.some((p) => near(p, q)));
}

/** DICOM DA and TM of a date (local time, as scanners write them). */
export function dicomDateTime(d: Date): { date: string; time: string } {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return { date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`, time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}` };
}

/** A person name (PN) from a display or user name: "Ann Smith" → "Smith^Ann"; one word stays as it is. */
export function personName(name: string): string {
  const words = name.replace(/[\\^=]/g, ' ').trim().split(/\s+/).filter(Boolean);
  if (words.length < 2) return words[0] ?? 'Unknown';
  return `${words[words.length - 1]}^${words.slice(0, -1).join(' ')}`.slice(0, 64);
}

/** The sentence the viewer shows after a save. */
export function savedMessage(count: number, seriesNumber: number, skipped: number): string {
  const what = `${count} measurement${count === 1 ? '' : 's'}`;
  const left = skipped > 0 ? ` (${skipped} left out: not on an image of this study or not writable as TID 1500)` : '';
  return `Saved ${what} to the archive as series ${seriesNumber} "${SR_SERIES_DESCRIPTION}"${left}.`;
}
