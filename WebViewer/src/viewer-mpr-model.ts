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

/** The camera moved along its normal so that its plane passes through `point` (focal point and position). */
export function cameraThrough(cam: CameraLike, point: Vec3): { focalPoint: Vec3; position: Vec3 } {
  const n = cam.viewPlaneNormal;
  const len = Math.hypot(n[0], n[1], n[2]) || 1;
  const d = dot([point[0] - cam.focalPoint[0], point[1] - cam.focalPoint[1], point[2] - cam.focalPoint[2]], n) / (len * len);
  const move = (p: Vec3): Vec3 => [p[0] + d * n[0], p[1] + d * n[1], p[2] + d * n[2]];
  return { focalPoint: move(cam.focalPoint), position: move(cam.position) };
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
