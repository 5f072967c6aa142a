// The volume's pure parts (issue 11; no cornerstone3D, no DOM): the plugin's answer of
// GET {api}dicom/studies/{uid}/series/{uid}/volume read into types (decodeVolumeInfo), the plan of the volume
// to build — refused with the plugin's reasons when it is not reconstructable, refused when a tilt needs a
// correction the answer does not give, decimated in-plane (2×2, 3×3 … averaged) when the full volume does not
// fit the cache budget, refused when even the coarsest allowed one does not (planVolume) — and the voxel
// arithmetic: a slice copied into the volume with the gantry-tilt shear correction (slice k's pixel (i, j) goes
// to (i + k·columnsPerSlice + columnsOffset, j + k·rowsPerSlice + rowsOffset, k), fractional shifts
// interpolated bilinearly), decimated on the way (placeSlice); a slice that nothing moves is written rescaled
// straight into its place (rescaledRange, writeRescaled). Everything is plain data in, plain data out.

import type { Series } from './api';
import { stackImages } from './viewer-model';
import { arrayOf, bool, DecodeError, isRecord, list, num, object, str, strings, type JsonObject } from './decode';

export type Vec3 = [number, number, number];

export interface VolumeGeometry {
  /** Patient position (mm) of voxel (0, 0, 0). */
  origin: Vec3;
  rowCosines: Vec3;
  columnCosines: Vec3;
  normal: Vec3;
  /** x (between columns), y (between rows), z (between slices), mm. */
  spacing: Vec3;
  /** columns, rows, slices (the tilt-corrected, widened volume when a correction is given). */
  dimensions: Vec3;
}

export interface TiltCorrection {
  columnsPerSlice: number;
  rowsPerSlice: number;
  columnsOffset: number;
  rowsOffset: number;
}

export interface PlaneView {
  labels: { left: string; right: string; top: string; bottom: string };
  right: Vec3 | null;
  down: Vec3 | null;
}

export interface VolumeInfo {
  reconstructable: boolean;
  reasons: string[];
  plane: string;
  tilt: { degrees: number; tilted: boolean; correctable: boolean; correction: TiltCorrection | null };
  geometry: VolumeGeometry | null;
  bytes: { int16: number; float32: number } | null;
  planes: { axial: PlaneView | null; sagittal: PlaneView | null; coronal: PlaneView | null };
  /** The order to build the volume in: Orthanc instance id and 0-based frame. */
  slices: Array<{ instanceId: string; frame: number }>;
}

function vec3(v: unknown, path: string): Vec3 {
  const a = list(v).map(num);
  if (a.length !== 3 || a.some((x) => x === null)) throw new DecodeError(path, '3 numbers');
  return a as Vec3;
}

function vec3OrNull(v: unknown): Vec3 | null {
  const a = list(v).map(num);
  return a.length === 3 && a.every((x) => x !== null) ? (a as Vec3) : null;
}

function planeView(v: unknown): PlaneView | null {
  if (!isRecord(v)) return null;
  const l = isRecord(v.labels) ? v.labels : {};
  return { labels: { left: str(l.left), right: str(l.right), top: str(l.top), bottom: str(l.bottom) }, right: vec3OrNull(v.right), down: vec3OrNull(v.down) };
}

function correction(v: unknown): TiltCorrection | null {
  if (!isRecord(v)) return null;
  const c = [num(v.columnsPerSlice), num(v.rowsPerSlice), num(v.columnsOffset), num(v.rowsOffset)];
  if (c.some((x) => x === null)) return null;
  const [columnsPerSlice, rowsPerSlice, columnsOffset, rowsOffset] = c as number[];
  return { columnsPerSlice: columnsPerSlice!, rowsPerSlice: rowsPerSlice!, columnsOffset: columnsOffset!, rowsOffset: rowsOffset! };
}

function geometry(v: unknown): VolumeGeometry | null {
  if (!isRecord(v)) return null;
  const g: VolumeGeometry = {
    origin: vec3(v.origin, 'geometry.origin'),
    rowCosines: vec3(v.rowCosines, 'geometry.rowCosines'),
    columnCosines: vec3(v.columnCosines, 'geometry.columnCosines'),
    normal: vec3(v.normal, 'geometry.normal'),
    spacing: vec3(v.spacing, 'geometry.spacing'),
    dimensions: vec3(v.dimensions, 'geometry.dimensions'),
  };
  if (!g.dimensions.every((d) => Number.isInteger(d) && d > 0) || !g.spacing.every((s) => s > 0)) {
    throw new DecodeError('geometry', 'positive dimensions and spacing');
  }
  return g;
}

/** The plugin's answer, checked (DecodeError when its shape is wrong). */
export function decodeVolumeInfo(body: JsonObject | null): VolumeInfo {
  const r = object(body, 'volume');
  const tilt = isRecord(r.tilt) ? r.tilt : {};
  const planes = isRecord(r.planes) ? r.planes : {};
  const bytes = isRecord(r.bytes) ? { int16: num(r.bytes.int16) ?? 0, float32: num(r.bytes.float32) ?? 0 } : null;
  return {
    reconstructable: bool(r.reconstructable) === true,
    reasons: strings(r.reasons),
    plane: str(r.plane),
    tilt: { degrees: num(tilt.degrees) ?? 0, tilted: bool(tilt.tilted) === true, correctable: bool(tilt.correctable) === true, correction: correction(tilt.correction) },
    geometry: geometry(r.geometry),
    bytes,
    planes: { axial: planeView(planes.axial), sagittal: planeView(planes.sagittal), coronal: planeView(planes.coronal) },
    slices: arrayOf(r.slices, 'slices', (s, p) => {
      const o = object(s, p);
      const frame = num(o.frame);
      if (typeof o.instanceId !== 'string' || frame === null || !Number.isInteger(frame) || frame < 0) throw new DecodeError(p, 'instanceId and frame');
      return { instanceId: o.instanceId, frame };
    }),
  };
}

/** Share of the cache budget a volume may take (the rest stays for the 2D stacks' images). */
export const VOLUME_SHARE = 0.8;
/** The coarsest in-plane decimation tried before refusing (4: a 512² slice becomes 128²). */
export const MAX_DECIMATION = 4;

export interface VolumePlan {
  /** In-plane decimation factor (1: full resolution). */
  decimation: number;
  /** The volume to build: decimated dimensions and spacing, the geometry's origin and cosines. */
  dimensions: Vec3;
  spacing: Vec3;
  origin: Vec3;
  /** Row cosines, column cosines, normal (cornerstone's `direction`, row-major 3×3). */
  direction: number[];
  /** Bytes of the volume at `bytesPerVoxel` (2: int16, 4: float32), the size checked against the budget. */
  bytes: number;
  /** null when the series needs no shear correction. */
  correction: TiltCorrection | null;
}

export type PlanResult = { ok: true; plan: VolumePlan } | { ok: false; reasons: string[] };

const MB = 1024 * 1024;
const mb = (bytes: number): string => `${Math.ceil(bytes / MB)} MB`;

/**
 * What to build from the plugin's answer and the cache budget (bytes): refused with the plugin's reasons when
 * not reconstructable; refused when tilted without a correction; decimated in-plane until the int16 volume takes
 * at most VOLUME_SHARE of the budget (at `bytesPerVoxel`); refused with the sizes when even MAX_DECIMATION does not fit.
 */
export function planVolume(info: VolumeInfo, budget: number, bytesPerVoxel: 2 | 4 = 2): PlanResult {
  if (!info.reconstructable) return { ok: false, reasons: info.reasons.length ? info.reasons : ['the series cannot be reconstructed'] };
  const g = info.geometry;
  if (!g) return { ok: false, reasons: ['the series has no common geometry'] };
  if (info.slices.length !== g.dimensions[2]) return { ok: false, reasons: [`${info.slices.length} slices for a volume of ${g.dimensions[2]}`] };
  if (info.tilt.tilted && !info.tilt.correction) {
    // slices sheared along the table with no correction given: never built (it would show sheared)
    return { ok: false, reasons: [`gantry tilt of ${info.tilt.degrees.toFixed(1)} degrees without a correction`] };
  }
  const room = budget * VOLUME_SHARE;
  for (let f = 1; f <= MAX_DECIMATION; f++) {
    const cols = Math.ceil(g.dimensions[0] / f);
    const rows = Math.ceil(g.dimensions[1] / f);
    const bytes = cols * rows * g.dimensions[2] * bytesPerVoxel;
    if (bytes <= room) {
      return {
        ok: true,
        plan: {
          decimation: f,
          dimensions: [cols, rows, g.dimensions[2]],
          spacing: [g.spacing[0] * f, g.spacing[1] * f, g.spacing[2]],
          // the centre of the first f×f block, so that decimated voxels stay where their pixels were
          origin: g.origin.map((o, i) => o + ((f - 1) / 2) * (g.rowCosines[i]! * g.spacing[0] + g.columnCosines[i]! * g.spacing[1])) as Vec3,
          direction: [...g.rowCosines, ...g.columnCosines, ...g.normal],
          bytes,
          correction: info.tilt.correction,
        },
      };
    }
  }
  const full = g.dimensions[0] * g.dimensions[1] * g.dimensions[2] * bytesPerVoxel;
  return { ok: false, reasons: [`the volume (${mb(full)}) does not fit the viewer's cache budget (${mb(budget)}), even at 1/${MAX_DECIMATION} resolution`] };
}

/**
 * The plan of a volume and its voxel type. Float32 when asked (`float`: a slice int16 cannot hold); otherwise
 * float32 from the start when the GPU has no 16-bit textures (`norm16` false: EXT_texture_norm16 missing, as under
 * software WebGL, where cornerstone converts an int16 volume to float32 in the page's thread before each texture
 * upload while a float32 one is uploaded as it is; the texture is float32 either way) and float32 costs no
 * resolution (the same decimation as int16 within the budget); int16 otherwise.
 */
export function planVoxels(info: VolumeInfo, budget: number, opts: { float: boolean; norm16: boolean }): { ok: true; plan: VolumePlan; float: boolean } | { ok: false; reasons: string[] } {
  if (opts.float) {
    const p = planVolume(info, budget, 4);
    return p.ok ? { ok: true, plan: p.plan, float: true } : p;
  }
  const p2 = planVolume(info, budget, 2);
  if (!p2.ok) return p2;
  if (!opts.norm16) {
    const p4 = planVolume(info, budget, 4);
    if (p4.ok && p4.plan.decimation === p2.plan.decimation) return { ok: true, plan: p4.plan, float: true };
  }
  return { ok: true, plan: p2.plan, float: false };
}

/** Where slice k's pixel (0, 0) lands in the full-resolution volume (columns, rows): the shear correction. */
export function sliceShift(c: TiltCorrection | null, k: number): { dx: number; dy: number } {
  if (!c) return { dx: 0, dy: 0 };
  return { dx: k * c.columnsPerSlice + c.columnsOffset, dy: k * c.rowsPerSlice + c.rowsOffset };
}

/** A source slice: modality values (rescale applied), `columns` × `rows`, row after row. */
export interface SliceData {
  pixels: ArrayLike<number>;
  columns: number;
  rows: number;
}

/**
 * Writes slice k into `out` (one slice of the plan's volume, plan.dimensions[0] × [1] voxels): voxel (x, y)
 * takes the mean of the f×f full-resolution block starting at (x·f, y·f), each full-resolution value read at
 * (X − dx, Y − dy) of the source (sliceShift; bilinear between pixels when the shift is fractional) and
 * `fill` outside the source. Returns the range of the written values.
 */
export function placeSlice(out: { length: number; [i: number]: number }, src: SliceData, plan: Pick<VolumePlan, 'decimation' | 'dimensions' | 'correction'>, k: number, fill: number): { min: number; max: number } {
  const f = plan.decimation;
  const [W, H] = plan.dimensions;
  const { dx, dy } = sliceShift(plan.correction, k);
  const ix = Math.floor(dx);
  const iy = Math.floor(dy);
  const fx = dx - ix;
  const fy = dy - iy;
  const integral = Math.abs(fx) < 1e-6 && Math.abs(fy) < 1e-6;
  const { pixels, columns, rows } = src;
  const at = (c: number, r: number): number => (c >= 0 && r >= 0 && c < columns && r < rows ? pixels[r * columns + c]! : fill);
  // the source value that lands at full-resolution volume voxel (X, Y)
  const sample = (X: number, Y: number): number => {
    const sx = X - ix;
    const sy = Y - iy;
    if (integral) return at(sx, sy);
    // volume X receives source x = X − dx: between source columns sx−1 (weight fx) and sx (weight 1−fx)
    const a = at(sx, sy) * (1 - fx) + at(sx - 1, sy) * fx;
    const b = at(sx, sy - 1) * (1 - fx) + at(sx - 1, sy - 1) * fx;
    return a * (1 - fy) + b * fy;
  };
  let min = Infinity;
  let max = -Infinity;
  const n = f * f;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v: number;
      if (f === 1) v = sample(x, y);
      else {
        let sum = 0;
        for (let by = 0; by < f; by++) for (let bx = 0; bx < f; bx++) sum += sample(x * f + bx, y * f + by);
        v = sum / n;
      }
      out[y * W + x] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return { min, max };
}

/** Whether values in [min, max] that are all integers fit an Int16Array voxel. */
export function fitsInt16(min: number, max: number): boolean {
  return min >= -32768 && max <= 32767;
}

/**
 * The index of the stack image (viewer-model.ts stackImages order) nearest to a patient point along the slice
 * normal of the series' first positioned instance; null without geometry.
 */
export function nearestImageIndex(series: Series, point: Vec3): number | null {
  const o = series.instances.find((i) => i.imageOrientationPatient?.length === 6)?.imageOrientationPatient;
  if (!o) return null;
  const [r0, r1, r2, c0, c1, c2] = o as [number, number, number, number, number, number];
  const n = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
  const len = Math.hypot(n[0]!, n[1]!, n[2]!);
  if (!(len > 1e-6)) return null;
  const at = (point[0] * n[0]! + point[1] * n[1]! + point[2] * n[2]!) / len;
  let best: number | null = null;
  let dist = Infinity;
  stackImages(series, '/').forEach((img, i) => {
    if (img.location === null) return;
    const d = Math.abs(img.location - at);
    if (d < dist) {
      dist = d;
      best = i;
    }
  });
  return best;
}

/** The plugin's slice nearest a patient point along the volume's normal (its `slices` order), null without geometry. */
export function sliceAt(info: Pick<VolumeInfo, 'geometry' | 'slices'>, point: Vec3): { instanceId: string; frame: number } | null {
  const g = info.geometry;
  if (!g || info.slices.length === 0) return null;
  const d = [point[0] - g.origin[0], point[1] - g.origin[1], point[2] - g.origin[2]];
  const along = d[0]! * g.normal[0] + d[1]! * g.normal[1] + d[2]! * g.normal[2];
  const k = Math.min(info.slices.length - 1, Math.max(0, Math.round(along / g.spacing[2])));
  return info.slices[k] ?? null;
}

/** The modality values' range of an image's values (one pass over the stored values). */
export function rescaledRange(raw: ArrayLike<number>, slope: number, intercept: number): { min: number; max: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const a = lo * slope + intercept;
  const b = hi * slope + intercept;
  return { min: Math.min(a, b), max: Math.max(a, b) };
}

/** Writes values·slope + intercept into `target` (int16: rounded to whole units unless `integral`). */
export function writeRescaled(target: Int16Array | Float32Array, raw: ArrayLike<number>, slope: number, intercept: number, integral: boolean): void {
  const n = Math.min(target.length, raw.length);
  if (slope === 1 && intercept === 0 && ArrayBuffer.isView(raw) && (target instanceof Float32Array || raw instanceof Int16Array)) {
    target.set(n === raw.length ? (raw as Int16Array | Float32Array) : (raw as Int16Array).subarray(0, n));
    return;
  }
  if (target instanceof Int16Array && !integral) for (let i = 0; i < n; i++) target[i] = Math.round(raw[i]! * slope + intercept);
  else for (let i = 0; i < n; i++) target[i] = raw[i]! * slope + intercept;
}
