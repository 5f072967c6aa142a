// RT Structure Set contours (issue 10, "RT Structure Set contours on their images where feasible"): the pure
// part. Input: the structure set's tags as Orthanc's GET /instances/{id}/tags?short&ignore-length=3006-0050
// answers them (Contour Data, the points, is long: Orthanc leaves it out without ignore-length). Output: the
// ROIs (number, name, ROI Display Color) and their planar contours in patient coordinates (mm), each placed on
// the image of the study whose plane contains it: its Contour Image Sequence's SOP Instance UID when the
// study holds it, else the instance whose plane (Image Position and Orientation (Patient)) all its points lie
// in (within half a millimetre). Contours on no image of the study are counted, not drawn. No DOM here.

import type { Instance, StudyDetail } from './api';
import { segSeries } from './viewer-seg';

type Dataset = Record<string, unknown>;

export interface Roi {
  number: number;
  name: string;
  color: [number, number, number];
}

export interface RtContour {
  roi: number;
  /** CLOSED_PLANAR, OPEN_PLANAR, OPEN_NONPLANAR or POINT. */
  type: string;
  /** Points in patient coordinates (LPS, mm). */
  points: Array<[number, number, number]>;
  /** The image it is drawn on, or null when no image of the study holds its plane. */
  sopInstanceUid: string | null;
}

export interface RtModel {
  rois: Roi[];
  contours: RtContour[];
  /** The image series the first placed contour lies on, or null. */
  referencedSeriesUid: string | null;
  /** Contours not placed on any image of the study. */
  unplaced: number;
}

/** Contours drawn per structure set at most (a body outline on 300 slices is 300 contours). */
export const MAX_CONTOURS = 20000;
const PALETTE: Array<[number, number, number]> = [
  [255, 80, 80],
  [80, 200, 255],
  [255, 210, 0],
  [120, 230, 80],
  [230, 90, 230],
];

function isObj(v: unknown): v is Dataset {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function seq(d: Dataset | undefined, tag: string): Dataset[] {
  const v = d?.[tag];
  return Array.isArray(v) ? v.filter(isObj) : [];
}
function str(d: Dataset | undefined, tag: string): string {
  const v = d?.[tag];
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}
function nums(d: Dataset | undefined, tag: string): number[] {
  const s = str(d, tag);
  return s ? s.split('\\').map(Number) : [];
}

/** Distance (mm) of a point from an instance's plane; Infinity without geometry. */
function planeDistance(inst: Instance, p: readonly number[]): number {
  const o = inst.imageOrientationPatient;
  const ipp = inst.imagePositionPatient;
  if (!o || o.length !== 6 || !ipp) return Infinity;
  const n = [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!];
  const len = Math.hypot(n[0]!, n[1]!, n[2]!) || 1;
  return Math.abs(((p[0]! - ipp[0]) * n[0]! + (p[1]! - ipp[1]) * n[1]! + (p[2]! - ipp[2]) * n[2]!) / len);
}

/** The study's single-frame image instances, with their series UID. */
function images(study: Pick<StudyDetail, 'series'>): Array<{ inst: Instance; series: string }> {
  const skip = new Set(segSeries(study));
  const out: Array<{ inst: Instance; series: string }> = [];
  for (const s of study.series) {
    if (skip.has(s)) continue;
    for (const inst of s.instances) if (inst.imagePositionPatient && inst.imageOrientationPatient) out.push({ inst, series: s.seriesInstanceUid });
  }
  return out;
}

/** ROIs and contours of a structure set's tags (?short with Contour Data). */
export function rtModel(tags: unknown, study: Pick<StudyDetail, 'series'>): RtModel {
  const root: Dataset = isObj(tags) ? tags : {};
  const colors = new Map<number, [number, number, number]>();
  const roiContours = seq(root, '3006,0039');
  for (const rc of roiContours) {
    const c = nums(rc, '3006,002a');
    if (c.length === 3 && c.every((v) => Number.isFinite(v))) colors.set(Number(str(rc, '3006,0084')), [c[0]!, c[1]!, c[2]!]);
  }
  const rois: Roi[] = seq(root, '3006,0020').map((r, i) => {
    const number = Number(str(r, '3006,0022')) || i + 1;
    return { number, name: str(r, '3006,0026') || `ROI ${number}`, color: colors.get(number) ?? PALETTE[i % PALETTE.length]! };
  });
  const all = images(study);
  const bySop = new Map(all.map((x) => [x.inst.sopInstanceUid, x]));
  const contours: RtContour[] = [];
  let unplaced = 0;
  let referencedSeriesUid: string | null = null;
  for (const rc of roiContours) {
    const roi = Number(str(rc, '3006,0084'));
    for (const c of seq(rc, '3006,0040')) {
      const v = nums(c, '3006,0050');
      if (v.length < 3 || v.length % 3 !== 0 || v.some((x) => !Number.isFinite(x))) {
        unplaced++;
        continue;
      }
      const points: Array<[number, number, number]> = [];
      for (let i = 0; i < v.length; i += 3) points.push([v[i]!, v[i + 1]!, v[i + 2]!]);
      const ref = str(seq(c, '3006,0016')[0], '0008,1155');
      const onPlane = (x: { inst: Instance }): boolean => points.every((p) => planeDistance(x.inst, p) < 0.5);
      const hit = (ref && bySop.has(ref) && onPlane(bySop.get(ref)!) ? bySop.get(ref) : undefined) ?? all.find(onPlane);
      if (!hit || contours.length >= MAX_CONTOURS) {
        unplaced++;
        continue;
      }
      referencedSeriesUid ??= hit.series;
      contours.push({ roi, type: str(c, '3006,0042') || 'CLOSED_PLANAR', points, sopInstanceUid: hit.inst.sopInstanceUid });
    }
  }
  return { rois, contours, referencedSeriesUid, unplaced };
}

/** RT Structure Set series of a study. */
export function rtStructSeries(study: Pick<StudyDetail, 'series'>): StudyDetail['series'] {
  return study.series.filter((s) => s.instances.some((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.481.3'));
}
