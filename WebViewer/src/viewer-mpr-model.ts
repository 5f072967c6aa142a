// The MPR layout's pure parts (issue 11; no cornerstone3D, no DOM): the three planes, the slab modes and their
// thickness, moving a camera so that its plane passes through a point (the position kept between 2D and MPR),
// where a plane is along its normal, and the overlay's plane line. Plain data in, plain data out.

import type { Vec3 } from './viewer-volume-model';

export type PlaneName = 'axial' | 'sagittal' | 'coronal';
export const PLANE_NAMES: readonly PlaneName[] = ['axial', 'sagittal', 'coronal'];
export const PLANE_TITLES: Readonly<Record<PlaneName, string>> = { axial: 'Axial', sagittal: 'Sagittal', coronal: 'Coronal' };

export type SlabMode = 'none' | 'mip' | 'minip' | 'average';
export const SLAB_MODES: ReadonlyArray<{ id: SlabMode; label: string }> = [
  { id: 'none', label: 'Slice' },
  { id: 'mip', label: 'MIP' },
  { id: 'minip', label: 'MinIP' },
  { id: 'average', label: 'Average' },
];
export const MIN_SLAB_MM = 0.5;
export const MAX_SLAB_MM = 200;
export const DEFAULT_SLAB_MM = 10;

export function slabModeOf(v: string): SlabMode {
  return SLAB_MODES.some((m) => m.id === v) ? (v as SlabMode) : 'none';
}

/** A thickness typed by the user (mm), clamped; the default when it is not a number. */
export function slabThickness(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return DEFAULT_SLAB_MM;
  return Math.min(MAX_SLAB_MM, Math.max(MIN_SLAB_MM, Math.round(n * 10) / 10));
}

/** The overlay's slab text ("MIP 10.0 mm"), '' for a single slice. */
export function slabText(mode: SlabMode, mm: number): string {
  if (mode === 'none') return '';
  const label = SLAB_MODES.find((m) => m.id === mode)!.label;
  return `${label} ${mm.toFixed(1)} mm`;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

export interface CameraLike {
  focalPoint: Vec3;
  position: Vec3;
  viewPlaneNormal: Vec3;
}

/** How many times `n` moves `from` onto the plane through `point` with normal `n` (any length but 0). */
function alongNormal(from: Vec3, n: Vec3, point: Vec3): number {
  const len = Math.hypot(n[0], n[1], n[2]) || 1;
  return dot([point[0] - from[0], point[1] - from[1], point[2] - from[2]], n) / (len * len);
}

/** The camera moved along its normal so that its plane passes through `point` (focal point and position). */
export function cameraThrough(cam: CameraLike, point: Vec3): { focalPoint: Vec3; position: Vec3 } {
  const n = cam.viewPlaneNormal;
  const d = alongNormal(cam.focalPoint, n, point);
  const move = (p: Vec3): Vec3 => [p[0] + d * n[0], p[1] + d * n[1], p[2] + d * n[2]];
  return { focalPoint: move(cam.focalPoint), position: move(cam.position) };
}

/** The volume's box: cornerstone's origin, direction (row cosines, column cosines, normal; row-major 3×3),
 * dimensions and spacing (mm), as in VolumePlan. */
export interface VolumeBox {
  origin: Vec3;
  direction: readonly number[];
  dimensions: Vec3;
  spacing: Vec3;
}

/** How far inside the volume's first and last voxel centres a plane is kept (mm): twice cornerstone's thinnest
 * slab (0.05 mm, ±0.025 mm around the plane). */
export const EDGE_MARGIN_MM = 0.05;

/**
 * `point` moved inside the volume by at least EDGE_MARGIN_MM from its outermost voxel centres, along each of
 * the volume's axes (unchanged when it already is): a plane through a point outside the volume draws flat
 * grey (a start point off the volume, a plane stepped past the last slice, a plane exactly on the edge that
 * rounding puts a hair outside). 0.05 mm inside the first or last slice changes the image by 0.05 mm / slice
 * spacing of the neighbouring slice (interpolated), about 2 % for 2.5 mm slices.
 */
export function insideVolume(point: Vec3, box: VolumeBox): Vec3 {
  const out: Vec3 = [point[0], point[1], point[2]];
  for (let k = 0; k < 3; k++) {
    const axis: Vec3 = [box.direction[k * 3] ?? 0, box.direction[k * 3 + 1] ?? 0, box.direction[k * 3 + 2] ?? 0];
    const spacing = box.spacing[k] ?? 0;
    const last = (box.dimensions[k] ?? 0) - 1;
    if (!(spacing > 0) || !(last >= 0)) continue;
    const t = dot([point[0] - box.origin[0], point[1] - box.origin[1], point[2] - box.origin[2]], axis) / spacing;
    const margin = Math.min(EDGE_MARGIN_MM / spacing, last / 2);
    const clamped = Math.min(last - margin, Math.max(margin, t));
    if (clamped === t) continue;
    const d = (clamped - t) * spacing;
    for (let i = 0; i < 3; i++) out[i] = out[i]! + d * axis[i]!;
  }
  return out;
}

/**
 * Where the three planes start: through the volume's centre, moved along the volume's normal (its slice axis)
 * to `point`'s position (the 2D view's slice), kept inside the volume (insideVolume); the centre without a
 * point. The acquisition plane shows the 2D view's slice, the other two cut through the middle of it.
 */
export function mprStartPoint(point: Vec3 | null, box: VolumeBox): Vec3 {
  const d = box.direction;
  const c: Vec3 = [box.origin[0], box.origin[1], box.origin[2]];
  for (let k = 0; k < 3; k++) {
    const half = (((box.dimensions[k] ?? 1) - 1) * (box.spacing[k] ?? 0)) / 2;
    for (let i = 0; i < 3; i++) c[i] = c[i]! + half * (d[k * 3 + i] ?? 0);
  }
  if (point) {
    const n: Vec3 = [d[6] ?? 0, d[7] ?? 0, d[8] ?? 0];
    const along = alongNormal(c, n, point);
    for (let i = 0; i < 3; i++) c[i] = c[i]! + along * n[i]!;
  }
  return insideVolume(c, box);
}

/**
 * Where the plane is along the patient axis nearest its normal (mm; the overlay's "Loc"): z for an axial plane,
 * x for a sagittal one, y for a coronal one. Oblique planes give the axis their normal is closest to.
 */
export function planeLocation(focalPoint: Vec3, normal: Vec3): number {
  const a = normal.map(Math.abs);
  const axis = a[0]! >= a[1]! && a[0]! >= a[2]! ? 0 : a[1]! >= a[2]! ? 1 : 2;
  return focalPoint[axis]!;
}

/** Angle (degrees) between a plane's normal and the patient axis nearest it: 0 for a true plane. */
export function obliqueDegrees(normal: Vec3): number {
  const len = Math.hypot(normal[0], normal[1], normal[2]);
  if (!(len > 0)) return 0;
  const m = Math.max(...normal.map((c) => Math.abs(c) / len));
  return (Math.acos(Math.min(1, m)) * 180) / Math.PI;
}

/** The plane line of the overlay: "Sagittal 67/512", " · oblique 12.0°" when rotated. */
export function planeLine(plane: PlaneName, index: number, total: number, normal: Vec3 | null): string {
  const base = total > 0 ? `${PLANE_TITLES[plane]} ${index + 1}/${total}` : PLANE_TITLES[plane];
  const deg = normal ? obliqueDegrees(normal) : 0;
  return deg >= 0.5 ? `${base} · oblique ${deg.toFixed(1)}°` : base;
}
