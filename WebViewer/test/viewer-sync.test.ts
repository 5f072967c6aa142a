// Linked scrolling and reference lines: the geometry, against values computed by hand.
import { describe, expect, it } from 'vitest';
import {
  clipToRectangle,
  linkedIndex,
  linkOffset,
  nearestIndex,
  normalOf,
  parallel,
  planeCorners,
  referenceLine,
  stackTolerance,
  toImage,
  type ImagePlane,
  type Vec3,
} from '../src/viewer-sync-model';

const AXIAL = [1, 0, 0, 0, 1, 0];
const CORONAL = [1, 0, 0, 0, 0, -1];
const close = (a: readonly number[], b: readonly number[], digits = 6): void => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, digits));

describe('normals', () => {
  it('row × column, unit length; null when malformed', () => {
    close(normalOf(AXIAL)!, [0, 0, 1]);
    close(normalOf(CORONAL)!, [0, 1, 0]);
    close(normalOf([2, 0, 0, 0, 2, 0])!, [0, 0, 1]);
    expect(normalOf([1, 0, 0])).toBeNull();
    expect(normalOf([1, 0, 0, 1, 0, 0])).toBeNull();
    expect(normalOf(null)).toBeNull();
  });
  it('parallel within a few degrees, either direction', () => {
    expect(parallel([0, 0, 1], [0, 0, -1])).toBe(true);
    const tilt = (deg: number): Vec3 => [0, Math.sin((deg * Math.PI) / 180), Math.cos((deg * Math.PI) / 180)];
    expect(parallel([0, 0, 1], tilt(4))).toBe(true);
    expect(parallel([0, 0, 1], tilt(6))).toBe(false);
    expect(parallel([0, 0, 1], [0, 1, 0])).toBe(false);
  });
});

describe('linked scrolling by position', () => {
  // the browser test's data: 30 axial slices 312, 304, … 80 and every second of them
  const full = Array.from({ length: 30 }, (_, i) => 312 - 8 * i);
  const half = full.filter((_, i) => i % 2 === 0);
  it('goes to the nearest slice at the same position within one frame of reference', () => {
    expect(linkedIndex(full[20]!, half)).toBe(10);
    expect(linkedIndex(full[21]!, half)).toBe(10); // 144: 8 mm from 152 and from 136, the first wins
    expect(linkedIndex(full[22]!, full)).toBe(22);
    expect(nearestIndex([null, 5, 1], 2)).toBe(2);
    expect(nearestIndex([null], 2)).toBeNull();
  });
  it('stays put outside the other stack (beyond half its spacing)', () => {
    const tol = stackTolerance(half);
    expect(tol).toBeCloseTo(8);
    expect(linkedIndex(400, half, { maxDistance: tol })).toBeNull();
    expect(linkedIndex(84, half, { maxDistance: tol })).toBe(14);
  });
  it('keeps the offset taken when linking a prior (align, then link)', () => {
    // the prior's slices lie 20 mm lower (another frame of reference); the user aligned slice 10 with its slice 14
    const prior = full.map((z) => z - 20);
    const offset = linkOffset(full[10]!, prior[14]!);
    expect(offset).toBe(-52); // 180 − 232
    expect(linkedIndex(full[10]!, prior, { offset })).toBe(14);
    expect(linkedIndex(full[13]!, prior, { offset })).toBe(17); // three slices on in both
    // a stack whose normal points the other way: positions negated
    const reversed = full.map((z) => -z);
    const o2 = linkOffset(full[5]!, reversed[5]!, true);
    expect(o2).toBe(0);
    expect(linkedIndex(full[9]!, reversed, { offset: o2, flip: true })).toBe(9);
  });
});

describe('reference lines', () => {
  // a 512 × 512 axial slice at z = 200 (0.646 mm pixels) and the coronal localizer of the browser test
  const axial = (z: number): ImagePlane => ({
    origin: [-173.1767578125, -294.1767578125, z],
    rowDir: [1, 0, 0],
    colDir: [0, 1, 0],
    rows: 512,
    columns: 512,
    rowSpacing: 0.646484375,
    columnSpacing: 0.646484375,
  });
  const coronal: ImagePlane = { ...axial(0), origin: [-173.1767578125, -150, 330], colDir: [0, 0, -1] };

  it('corners and image coordinates', () => {
    const c = planeCorners(axial(0));
    const side = 511 * 0.646484375;
    close(c[2]!, [-173.1767578125 + side, -294.1767578125 + side, 0]);
    close(toImage(axial(0), c[2]!), [511, 511]);
  });
  it('an axial slice on a coronal image is the row at its height, across the whole image', () => {
    const line = referenceLine(axial(200), coronal)!;
    expect(line).not.toBeNull();
    const [a, b] = line.map((p) => toImage(coronal, p));
    const row = (330 - 200) / 0.646484375;
    expect(a![1]).toBeCloseTo(row, 6);
    expect(b![1]).toBeCloseTo(row, 6);
    // the coronal plane (y = −150) crosses the axial rectangle from its left to its right edge
    expect(Math.min(a![0], b![0])).toBeCloseTo(0, 6);
    expect(Math.max(a![0], b![0])).toBeCloseTo(511, 6);
  });
  it('the coronal image on an axial slice is the column line y = −150', () => {
    const [a, b] = referenceLine(coronal, axial(200))!.map((p) => toImage(axial(200), p));
    const row = (-150 - -294.1767578125) / 0.646484375;
    expect(a![1]).toBeCloseTo(row, 6);
    expect(b![1]).toBeCloseTo(row, 6);
  });
  it('none between parallel planes, nor where the images do not meet', () => {
    expect(referenceLine(axial(200), axial(100))).toBeNull();
    expect(referenceLine(axial(400), coronal)).toBeNull(); // above the localizer
    expect(referenceLine(axial(-100), coronal)).toBeNull(); // below it (330 − 511 × 0.646 ≈ −0.3)
  });
  it('clips a segment to the rectangle; null outside', () => {
    const p = axial(0);
    const at = (x: number, y: number): Vec3 => [p.origin[0] + x * p.columnSpacing, p.origin[1] + y * p.rowSpacing, 0];
    const [a, b] = clipToRectangle(p, at(-100, 100), at(1000, 100))!.map((q) => toImage(p, q));
    close(a!, [-0.5, 100]);
    close(b!, [511.5, 100]);
    expect(clipToRectangle(p, at(-100, -10), at(1000, -10))).toBeNull();
  });
});
