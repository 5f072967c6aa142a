// cornerstone3D annotations ↔ the plugin's annotation wire format (README "Annotations and key images";
// /api/dicom/studies/{uid}/annotations). Pure: no cornerstone import, no DOM. An annotation is stored under
// the image it was drawn on as SOP Instance UID + frame (1-based), never by cornerstone's URL-based imageId;
// `data` keeps the world coordinates (LPS mm), the frame of reference and camera, the measured values with
// their units and the tool-specific parts (arrow text, freehand contour). Reading back gives a plain object
// cornerstone's annotation state accepts, on the imageId the caller maps the SOP + frame to.

import { isRecord } from './decode';
import { isMeasureTool, type Measurement, type MeasureTool, type UnitSource } from './viewer-measure-model';

export const MAX_LABEL = 256;
export const MAX_DATA_BYTES = 64 * 1024;
const UID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export type Vec3 = [number, number, number];

/** What the client sends (PUT body). */
export interface WireBody {
  annotationUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  frame: number;
  tool: MeasureTool;
  label: string;
  data: WireData;
}

/** A stored annotation: the body plus the server's members. */
export interface WireAnnotation extends WireBody {
  author: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface WireData {
  points: Vec3[];
  frameOfReferenceUID: string;
  viewPlaneNormal: Vec3 | null;
  viewUp: Vec3 | null;
  unitSource: UnitSource;
  stats: Measurement | null;
  /** Arrow text. */
  text?: string;
  /** Freehand ROI: its polyline (world) and whether it is closed. */
  contour?: { polyline: Vec3[]; closed: boolean };
  /** Where the text box was moved to (world), when the user moved it. */
  textBox?: Vec3;
  /** Set by other producers (the SR import: "sr"); such annotations are read-only here. */
  rrSource?: string;
  [key: string]: unknown;
}

export interface KeyImage {
  sopInstanceUid: string;
  seriesInstanceUid: string;
  frame: number;
  author: string;
  createdAt: string;
}

/** The annotation shape of cornerstone3D's annotation state, as far as this module reads and writes it. */
export interface CsAnnotation {
  annotationUID?: string;
  highlighted?: boolean;
  invalidated?: boolean;
  isLocked?: boolean;
  isVisible?: boolean;
  metadata: {
    toolName: string;
    referencedImageId?: string;
    FrameOfReferenceUID?: string;
    viewPlaneNormal?: number[];
    viewUp?: number[];
    [key: string]: unknown;
  };
  data: {
    handles?: { points?: number[][]; textBox?: { hasMoved?: boolean; worldPosition?: number[]; [k: string]: unknown }; [k: string]: unknown };
    label?: string;
    text?: string;
    contour?: { polyline?: number[][]; closed?: boolean; [k: string]: unknown };
    cachedStats?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export function isAnnotationUid(uid: unknown): uid is string {
  return typeof uid === 'string' && UID_RE.test(uid);
}

/** World coordinates are kept to 1 µm: plenty for a measurement, and a long freehand contour stays small. */
const round = (n: number): number => Math.round(n * 1000) / 1000;

function vec3(v: unknown): Vec3 | null {
  if (!Array.isArray(v) || v.length < 3) return null;
  const out = v.slice(0, 3).map(Number);
  return out.every(Number.isFinite) ? (out.map(round) as Vec3) : null;
}

function vec3s(v: unknown): Vec3[] {
  if (!Array.isArray(v)) return [];
  const out: Vec3[] = [];
  for (const p of v) {
    const q = vec3(p);
    if (q) out.push(q);
  }
  return out;
}

/** Where an annotation's image is in the study. */
export interface ImageRef {
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** 1-based frame (1 for single-frame instances). */
  frame: number;
}

/**
 * The PUT body of a cornerstone annotation drawn on `where`; null when it has no UID the server accepts, is
 * not one of the measurement tools, or has no points. The label is cut to MAX_LABEL characters.
 */
export function toWire(a: CsAnnotation, where: ImageRef, stats: Measurement | null): WireBody | null {
  const tool = a.metadata.toolName;
  if (!isAnnotationUid(a.annotationUID) || !isMeasureTool(tool)) return null;
  const points = vec3s(a.data.handles?.points);
  const polyline = vec3s(a.data.contour?.polyline);
  if (points.length === 0 && polyline.length === 0) return null;
  const data: WireData = {
    points,
    frameOfReferenceUID: typeof a.metadata.FrameOfReferenceUID === 'string' ? a.metadata.FrameOfReferenceUID : '',
    viewPlaneNormal: vec3(a.metadata.viewPlaneNormal),
    viewUp: vec3(a.metadata.viewUp),
    unitSource: stats?.unitSource ?? 'pixels',
    stats,
  };
  // cornerstone's arrow keeps its text as the label; `text` is what other producers (the SR import) may set
  if (tool === 'ArrowAnnotate') data.text = typeof a.data.text === 'string' && a.data.text ? a.data.text : typeof a.data.label === 'string' ? a.data.label : '';
  if (polyline.length > 0) data.contour = { polyline, closed: a.data.contour?.closed !== false };
  // a contour too long for the server's limit keeps every second point until it fits
  while (data.contour && data.contour.polyline.length > 8 && new TextEncoder().encode(JSON.stringify(data)).length > MAX_DATA_BYTES - 1024) {
    data.contour.polyline = data.contour.polyline.filter((_, i) => i % 2 === 0);
  }
  const box = a.data.handles?.textBox;
  const boxAt = box?.hasMoved ? vec3(box.worldPosition) : null;
  if (boxAt) data.textBox = boxAt;
  if (typeof a.data.rrSource === 'string') data.rrSource = a.data.rrSource;
  const label = typeof a.data.label === 'string' ? a.data.label : tool === 'ArrowAnnotate' ? (data.text ?? '') : '';
  return { annotationUid: a.annotationUID, ...where, tool, label: label.slice(0, MAX_LABEL), data };
}

/** The annotation state's object of a stored annotation, on `imageId` (the viewer's ID of its SOP + frame). */
export function fromWire(w: WireBody, imageId: string, locked: boolean): CsAnnotation {
  const d = w.data;
  const data: CsAnnotation['data'] = {
    handles: {
      points: d.points.map((p) => [...p]),
      activeHandleIndex: null,
      textBox: d.textBox
        ? { hasMoved: true, worldPosition: [...d.textBox], worldBoundingBox: undefined }
        : { hasMoved: false, worldPosition: [0, 0, 0], worldBoundingBox: { topLeft: [0, 0, 0], topRight: [0, 0, 0], bottomLeft: [0, 0, 0], bottomRight: [0, 0, 0] } },
    },
    label: w.label || (w.tool === 'ArrowAnnotate' ? (d.text ?? '') : ''),
    cachedStats: {},
  };
  if (w.tool === 'ArrowAnnotate') data.text = d.text ?? w.label;
  if (d.contour) data.contour = { polyline: d.contour.polyline.map((p) => [...p]), closed: d.contour.closed };
  if (d.rrSource !== undefined) data.rrSource = d.rrSource;
  const metadata: CsAnnotation['metadata'] = { toolName: w.tool, referencedImageId: imageId, FrameOfReferenceUID: d.frameOfReferenceUID };
  if (d.viewPlaneNormal) metadata.viewPlaneNormal = [...d.viewPlaneNormal];
  if (d.viewUp) metadata.viewUp = [...d.viewUp];
  return { annotationUID: w.annotationUid, highlighted: false, invalidated: true, isLocked: locked, isVisible: true, metadata, data };
}

/** Whether two bodies describe the same annotation as the user sees it (geometry, label, text; not the values). */
export function sameAnnotation(a: WireBody | null, b: WireBody | null): boolean {
  if (a === null || b === null) return a === b;
  const key = (w: WireBody): string =>
    JSON.stringify([w.annotationUid, w.sopInstanceUid, w.frame, w.tool, w.label, w.data.points, w.data.text ?? '', w.data.contour ?? null, w.data.textBox ?? null]);
  return key(a) === key(b);
}

/** The size of a body's data as the server counts it (serialised JSON, UTF-8 bytes). */
export function dataBytes(w: WireBody): number {
  return new TextEncoder().encode(JSON.stringify(w.data)).length;
}

// ---- reading the server's answers ----

function readData(v: unknown): WireData | null {
  if (!isRecord(v)) return null;
  const points = vec3s(v.points);
  const polyline = isRecord(v.contour) ? vec3s(v.contour.polyline) : [];
  if (points.length === 0 && polyline.length === 0) return null;
  const source: UnitSource = v.unitSource === 'PixelSpacing' || v.unitSource === 'ImagerPixelSpacing' ? v.unitSource : 'pixels';
  const out: WireData = {
    ...v,
    points,
    frameOfReferenceUID: typeof v.frameOfReferenceUID === 'string' ? v.frameOfReferenceUID : '',
    viewPlaneNormal: vec3(v.viewPlaneNormal),
    viewUp: vec3(v.viewUp),
    unitSource: source,
    stats: isRecord(v.stats) ? (v.stats as unknown as Measurement) : null,
  };
  if (polyline.length > 0) out.contour = { polyline, closed: !(isRecord(v.contour) && v.contour.closed === false) };
  else delete out.contour;
  const box = vec3(v.textBox);
  if (box) out.textBox = box;
  else delete out.textBox;
  if (typeof v.text !== 'string') delete out.text;
  if (typeof v.rrSource !== 'string') delete out.rrSource;
  return out;
}

/** One stored annotation, or null when it is not one this viewer can show (unknown tool, no points, bad UIDs). */
export function readAnnotation(v: unknown): WireAnnotation | null {
  if (!isRecord(v)) return null;
  const data = readData(v.data);
  const frame = typeof v.frame === 'number' && Number.isInteger(v.frame) && v.frame >= 1 ? v.frame : null;
  if (!isAnnotationUid(v.annotationUid) || !isMeasureTool(v.tool) || !data || frame === null) return null;
  if (typeof v.sopInstanceUid !== 'string' || typeof v.seriesInstanceUid !== 'string') return null;
  return {
    annotationUid: v.annotationUid,
    seriesInstanceUid: v.seriesInstanceUid,
    sopInstanceUid: v.sopInstanceUid,
    frame,
    tool: v.tool,
    label: typeof v.label === 'string' ? v.label : '',
    data,
    author: typeof v.author === 'string' ? v.author : '',
    createdAt: typeof v.createdAt === 'string' ? v.createdAt : '',
    updatedAt: typeof v.updatedAt === 'string' ? v.updatedAt : '',
    version: typeof v.version === 'number' ? v.version : 1,
  };
}

function readKeyImage(v: unknown): KeyImage | null {
  if (!isRecord(v) || typeof v.sopInstanceUid !== 'string' || v.sopInstanceUid === '') return null;
  return {
    sopInstanceUid: v.sopInstanceUid,
    seriesInstanceUid: typeof v.seriesInstanceUid === 'string' ? v.seriesInstanceUid : '',
    frame: typeof v.frame === 'number' && Number.isInteger(v.frame) && v.frame >= 1 ? v.frame : 1,
    author: typeof v.author === 'string' ? v.author : '',
    createdAt: typeof v.createdAt === 'string' ? v.createdAt : '',
  };
}

export interface StudyAnnotations {
  data: WireAnnotation[];
  keyImages: KeyImage[];
  /** Entries that could not be read (unknown tool, malformed): not shown, counted so the panel can say so. */
  skipped: number;
}

/** The answer of GET …/annotations; throws when it is not an object with a "data" array. */
export function readStudyAnnotations(body: unknown): StudyAnnotations {
  if (!isRecord(body) || !Array.isArray(body.data)) throw new Error('annotations: expected {"data": [...]}');
  const data: WireAnnotation[] = [];
  let skipped = 0;
  for (const v of body.data) {
    const a = readAnnotation(v);
    if (a) data.push(a);
    else skipped++;
  }
  const keyImages: KeyImage[] = [];
  for (const v of Array.isArray(body.keyImages) ? body.keyImages : []) {
    const k = readKeyImage(v);
    if (k) keyImages.push(k);
  }
  return { data, keyImages, skipped };
}
