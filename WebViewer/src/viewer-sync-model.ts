// Linked scrolling and reference lines (issue 10): the pure geometry. Positions are in the patient's
// coordinate system (LPS, mm) of one Frame of Reference. No DOM, no cornerstone: tested by Vitest
// (test/viewer-sync.test.ts); viewer-sync.ts applies it to the viewports.
//
// - Linked scrolling: a slice's position is Image Position (Patient) projected on the slice normal
//   (row × column of Image Orientation (Patient)); the other viewport goes to its slice nearest the same
//   position. Series of one Frame of Reference share positions (offset 0). A prior has its own Frame of
//   Reference: its positions are not comparable, so it is linked only on request, with the offset between
//   the two shown slices taken at that moment ("align, then link", as PACS do).
// - Reference lines: the intersection of the active image's rectangle with the plane of another image of the
//   same Frame of Reference, clipped to that image's rectangle; none when the planes are (nearly) parallel.

export type Vec3 = readonly [number, number, number];

/** An image's plane: its first pixel's centre, unit row and column directions, size in pixels, spacing. */
export interface ImagePlane {
  origin: Vec3;
  /** Direction of increasing column index (along a row): the first three values of Image Orientation (Patient). */
  rowDir: Vec3;
  /** Direction of increasing row index (down a column): the last three values. */
  colDir: Vec3;
  rows: number;
  columns: number;
  /** mm between columns (Pixel Spacing [1]). */
  columnSpacing: number;
  /** mm between rows (Pixel Spacing [0]). */
  rowSpacing: number;
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: Vec3, k: number): Vec3 => [a[0] * k, a[1] * k, a[2] * k];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

/** The unit normal (row × column) of six Image Orientation (Patient) values; null when malformed. */
export function normalOf(iop: readonly number[] | null | undefined): Vec3 | null {
  if (!iop || iop.length !== 6 || !iop.every(Number.isFinite)) return null;
  const n = cross([iop[0]!, iop[1]!, iop[2]!], [iop[3]!, iop[4]!, iop[5]!]);
  const len = Math.hypot(...n);
  return len < 1e-6 ? null : scale(n, 1 / len);
}

/** Whether two normals are parallel within `degrees` (either direction). */
export function parallel(a: Vec3, b: Vec3, degrees = 5): boolean {
  return Math.abs(dot(a, b)) >= Math.cos((degrees * Math.PI) / 180);
}

/** The index of the position nearest `target` (the first on a tie); null when none is a number. */
export function nearestIndex(positions: readonly (number | null)[], target: number): number | null {
  let best: number | null = null;
  let bestDistance = Infinity;
  positions.forEach((p, i) => {
    if (p === null || !Number.isFinite(p)) return;
    const d = Math.abs(p - target);
    if (d < bestDistance - 1e-6) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}

/**
 * The slice of the target stack to show when the source shows the slice at `sourcePosition`: the nearest to
 * sourcePosition + offset (`offset` = target position − source position when the two were linked; 0 within
 * one Frame of Reference). `flip` when the target's normal points the other way (positions negated).
 * null when the target has no position or the nearest is farther than `maxDistance` mm (outside the stack).
 */
export function linkedIndex(
  sourcePosition: number,
  targetPositions: readonly (number | null)[],
  opts: { offset?: number; flip?: boolean; maxDistance?: number } = {},
): number | null {
  const want = (opts.flip ? -sourcePosition : sourcePosition) + (opts.offset ?? 0);
  const i = nearestIndex(targetPositions, want);
  if (i === null) return null;
  const max = opts.maxDistance ?? Infinity;
  return Math.abs(targetPositions[i]! - want) <= max ? i : null;
}

/** The offset to keep when linking two shown slices of unrelated Frames of Reference: target − source. */
export function linkOffset(sourcePosition: number, targetPosition: number, flip = false): number {
  return targetPosition - (flip ? -sourcePosition : sourcePosition);
}

/** Half the spacing of a stack's positions (the distance beyond which a position lies outside it), at least 1 mm. */
export function stackTolerance(positions: readonly (number | null)[]): number {
  const sorted = positions.filter((p): p is number => p !== null && Number.isFinite(p)).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < sorted.length; i++) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return Math.max(1, gap / 2 + 1e-6);
}

/** The corners of an image's rectangle (pixel centres of the four corner pixels), in order around it. */
export function planeCorners(p: ImagePlane): Vec3[] {
  const r = scale(p.rowDir, (p.columns - 1) * p.columnSpacing);
  const c = scale(p.colDir, (p.rows - 1) * p.rowSpacing);
  return [p.origin, add(p.origin, r), add(add(p.origin, r), c), add(p.origin, c)];
}

/** A point's image coordinates (column, row; fractional) in a plane. */
export function toImage(p: ImagePlane, world: Vec3): [number, number] {
  const d = sub(world, p.origin);
  return [dot(d, p.rowDir) / p.columnSpacing, dot(d, p.colDir) / p.rowSpacing];
}

/**
 * The reference line of `source` on `target` (both of one Frame of Reference): the segment where the source
 * image's rectangle meets the target's plane, clipped to the target's rectangle, as two world points.
 * null when the planes are parallel within `degrees`, or when they do not meet inside both rectangles.
 */
export function referenceLine(source: ImagePlane, target: ImagePlane, degrees = 5): [Vec3, Vec3] | null {
  const ns = cross(source.rowDir, source.colDir);
  const nt = cross(target.rowDir, target.colDir);
  const ls = Math.hypot(...ns);
  const lt = Math.hypot(...nt);
  if (ls < 1e-6 || lt < 1e-6) return null;
  if (parallel(scale(ns, 1 / ls), scale(nt, 1 / lt), degrees)) return null;
  // where the source rectangle's edges cross the target plane
  const n = scale(nt, 1 / lt);
  const corners = planeCorners(source);
  const d = corners.map((c) => dot(sub(c, target.origin), n));
  const hits: Vec3[] = [];
  for (let i = 0; i < 4; i++) {
    const a = corners[i]!;
    const b = corners[(i + 1) % 4]!;
    const da = d[i]!;
    const db = d[(i + 1) % 4]!;
    if (da === 0) hits.push(a);
    if ((da < 0 && db > 0) || (da > 0 && db < 0)) hits.push(add(a, scale(sub(b, a), da / (da - db))));
  }
  if (hits.length < 2) return null;
  // the two hits farthest apart (a corner on the plane may be counted twice)
  let p0 = hits[0]!;
  let p1 = hits[1]!;
  let far = -1;
  for (const a of hits) {
    for (const b of hits) {
      const len = Math.hypot(...sub(a, b));
      if (len > far) {
        far = len;
        p0 = a;
        p1 = b;
      }
    }
  }
  if (far < 1e-6) return null;
  return clipToRectangle(target, p0, p1);
}

/** The part of the segment p0–p1 (in the target's plane) inside the target's rectangle (Liang–Barsky); null outside. */
export function clipToRectangle(target: ImagePlane, p0: Vec3, p1: Vec3): [Vec3, Vec3] | null {
  const [x0, y0] = toImage(target, p0);
  const [x1, y1] = toImage(target, p1);
  const dx = x1 - x0;
  const dy = y1 - y0;
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [
    [-dx, x0 - -0.5],
    [dx, target.columns - 0.5 - x0],
    [-dy, y0 - -0.5],
    [dy, target.rows - 0.5 - y0],
  ];
  for (const [p, q] of edges) {
    if (Math.abs(p) < 1e-12) {
      if (q < 0) return null;
      continue;
    }
    const t = q / p;
    if (p < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 > t1) return null;
  }
  const at = (t: number): Vec3 => add(p0, scale(sub(p1, p0), t));
  return [at(t0), at(t1)];
}
