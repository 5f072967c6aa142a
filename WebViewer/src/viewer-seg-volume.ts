// A DICOM SEG as a labelmap volume over a series' volume (issue 11, "a SEG shown as a labelmap in the MPR planes
// and as a surface or overlay in 3D"): the pure part. Input: the SEG's model and Pixel Data (viewer-seg.ts) and
// the grid of the volume the viewer built (viewer-volume.ts's plan: dimensions, spacing, origin, direction —
// decimated in-plane or widened by a gantry-tilt correction). Output: one label per voxel (0 = none, else the
// Referenced Segment Number) on exactly that grid, each SEG pixel placed by its WORLD position (the frame's Image
// Position (Patient), orientation and pixel spacing), never by slice index, so a decimated or shear-corrected
// volume gets its labels where the anatomy is. Also the label transfer functions (colour and opacity per label)
// the view gives the labelmap's volume actor, and what cannot be shown, with the reason. No DOM, no cornerstone
// (viewer-seg-volume-view.ts renders).

import type { Series } from './api';
import type { Segment, SegModel } from './viewer-seg';
import type { Vec3 } from './viewer-volume-model';

/** The volume's voxel grid: voxel (i, j, k) is at origin + i·sx·row + j·sy·column + k·sz·normal. */
export interface LabelGrid {
  dimensions: Vec3;
  spacing: Vec3;
  origin: Vec3;
  /** Row cosines, column cosines, normal (row-major 3×3, as VolumePlan.direction). */
  direction: number[];
}

/** Where a SEG frame's pixels are: pixel (c, r) at position + c·columnSpacing·row + r·rowSpacing·column. */
export interface FramePlacement {
  index: number;
  segment: number;
  position: Vec3;
  row: Vec3;
  column: Vec3;
  /** Between rows, between columns (DICOM Pixel Spacing order), mm. */
  pixelSpacing: [number, number];
}

/** Labels are one byte: segment numbers above this cannot be shown in the volume. */
export const MAX_LABEL = 255;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
const axis = (d: number[], n: number): Vec3 => [d[3 * n]!, d[3 * n + 1]!, d[3 * n + 2]!];

/** The (fractional) voxel index of a patient point (mm) in the grid. */
export function worldToIndex(grid: LabelGrid, p: ArrayLike<number>): Vec3 {
  const d: Vec3 = [p[0]! - grid.origin[0], p[1]! - grid.origin[1], p[2]! - grid.origin[2]];
  return [dot(d, axis(grid.direction, 0)) / grid.spacing[0], dot(d, axis(grid.direction, 1)) / grid.spacing[1], dot(d, axis(grid.direction, 2)) / grid.spacing[2]];
}

/**
 * The labelmap slice (0-based k along the normal) a frame lies on, or null when it is outside the volume or not
 * in a slice plane (more than half a slice spacing away from the nearest one).
 */
export function frameSliceIndex(grid: LabelGrid, position: ArrayLike<number>): number | null {
  const k = worldToIndex(grid, position)[2];
  const nearest = Math.round(k);
  if (nearest < 0 || nearest >= grid.dimensions[2] || Math.abs(k - nearest) > 0.5) return null;
  return nearest;
}

/**
 * Where each frame of the model lies: its own functional groups first, else the referenced image's position and
 * orientation (from the study) and the volume geometry's pixel spacing (`fallbackSpacing`: between rows, between
 * columns) for frames the size of the source images. Frames that cannot be placed are left out.
 */
export function framePlacements(model: SegModel, series: Series, fallbackSpacing: [number, number] | null): FramePlacement[] {
  const bySop = new Map(series.instances.map((i) => [i.sopInstanceUid, i]));
  const out: FramePlacement[] = [];
  for (const f of model.frames) {
    const inst = f.sopInstanceUid ? bySop.get(f.sopInstanceUid) : undefined;
    const position = f.position ?? inst?.imagePositionPatient ?? null;
    const iop = f.orientation ?? inst?.imageOrientationPatient ?? null;
    const spacing = f.pixelSpacing ?? fallbackSpacing;
    if (!position || !iop || iop.length !== 6 || !spacing) continue;
    out.push({ index: f.index, segment: f.segment, position: [position[0], position[1], position[2]], row: [iop[0]!, iop[1]!, iop[2]!], column: [iop[3]!, iop[4]!, iop[5]!], pixelSpacing: spacing });
  }
  return out;
}

export interface Labelmap {
  /** One label per voxel, i fastest then j then k (cornerstone's scalar order). */
  data: Uint8Array;
  /** Voxels labelled per segment number (the last frame wins where segments overlap). */
  voxels: Map<number, number>;
  /** Segments that cannot be shown, with the reason (as "<number> <label>: reason" lines for the UI). */
  problems: Array<{ segment: number; reason: string }>;
}

/**
 * Builds the labelmap on `grid`: each set pixel of each placed frame goes to the voxel nearest its world
 * position (pixels outside the grid are dropped). `mask(index)` gives frame `index`'s mask (rows × columns, 1 =
 * set: viewer-seg.ts frameMask). Segments numbered above MAX_LABEL, without a placed frame, or with no voxel
 * inside the volume are listed in `problems`.
 */
export function buildLabelmap(
  grid: LabelGrid,
  model: Pick<SegModel, 'rows' | 'columns' | 'segments' | 'frames'>,
  placements: readonly FramePlacement[],
  mask: (index: number) => Uint8Array,
): Labelmap {
  const [W, H, D] = grid.dimensions;
  const data = new Uint8Array(W * H * D);
  const voxels = new Map<number, number>();
  const { rows, columns } = model;
  for (const p of placements) {
    if (p.segment < 1 || p.segment > MAX_LABEL) continue;
    const m = mask(p.index);
    // the index is linear in (c, r): start and steps per column and per row
    const i0 = worldToIndex(grid, p.position);
    const step = (dir: Vec3, mm: number): Vec3 => {
      const q = worldToIndex(grid, [p.position[0] + dir[0] * mm, p.position[1] + dir[1] * mm, p.position[2] + dir[2] * mm]);
      return [q[0] - i0[0], q[1] - i0[1], q[2] - i0[2]];
    };
    const dc = step(p.row, p.pixelSpacing[1]);
    const dr = step(p.column, p.pixelSpacing[0]);
    for (let r = 0; r < rows; r++) {
      const base = r * columns;
      for (let c = 0; c < columns; c++) {
        if (!m[base + c]) continue;
        const i = Math.round(i0[0] + c * dc[0] + r * dr[0]);
        const j = Math.round(i0[1] + c * dc[1] + r * dr[1]);
        const k = Math.round(i0[2] + c * dc[2] + r * dr[2]);
        if (i < 0 || j < 0 || k < 0 || i >= W || j >= H || k >= D) continue;
        const v = (k * H + j) * W + i;
        const old = data[v]!;
        if (old === p.segment) continue;
        if (old) voxels.set(old, (voxels.get(old) ?? 1) - 1);
        data[v] = p.segment;
        voxels.set(p.segment, (voxels.get(p.segment) ?? 0) + 1);
      }
    }
  }
  const placed = new Set(placements.map((p) => p.segment));
  const problems: Labelmap['problems'] = [];
  for (const s of model.segments) {
    if (s.number > MAX_LABEL) problems.push({ segment: s.number, reason: `segment numbers above ${MAX_LABEL} cannot be shown in the volume` });
    else if (!placed.has(s.number)) problems.push({ segment: s.number, reason: 'its frames have no position in the volume' });
    else if (!voxels.get(s.number)) problems.push({ segment: s.number, reason: 'it lies outside the volume' });
  }
  return { data, voxels, problems };
}

/** A point of a piecewise-linear transfer function: value, then r, g, b (0..1) or opacity. */
export type TfPoint = [number, ...number[]];

/**
 * The labelmap actor's transfer functions: each label a flat step of its colour, opacity `opacity` when its
 * segment is visible (`visible` holds the visible numbers) and 0 otherwise; label 0 transparent. Steps are
 * ±0.45 wide around the label so that sampling the function into a texture keeps exact colours.
 */
export function labelTransferFunctions(segments: readonly Segment[], visible: ReadonlySet<number>, opacity: number): { colour: TfPoint[]; opacity: TfPoint[] } {
  const colour: TfPoint[] = [[0, 0, 0, 0]];
  const alpha: TfPoint[] = [[0, 0], [0.5, 0]];
  const sorted = [...segments].filter((s) => s.number >= 1 && s.number <= MAX_LABEL).sort((a, b) => a.number - b.number);
  for (const s of sorted) {
    const rgb = s.color.map((c) => c / 255);
    const a = visible.has(s.number) ? Math.max(0, Math.min(1, opacity)) : 0;
    colour.push([s.number - 0.45, ...rgb], [s.number + 0.45, ...rgb]);
    alpha.push([s.number - 0.45, a], [s.number + 0.45, a], [s.number + 0.5, 0]);
  }
  return { colour, opacity: alpha };
}
