import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import { DecodeError } from '../src/decode';
import {
  decodeVolumeInfo,
  MAX_DECIMATION,
  nearestImageIndex,
  placeSlice,
  rescaledRange,
  writeRescaled,
  planVolume,
  planVoxels,
  sliceShift,
  VOLUME_SHARE,
  type VolumeInfo,
} from '../src/viewer-volume-model';

const MB = 1024 * 1024;

/** The plugin's answer for the 134-slice CT (README "Volumes"), 3 slices kept. */
function answer(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reconstructable: true,
    reasons: [],
    plane: 'axial',
    tilt: { degrees: 0, fromTag: 0, fromPositions: 0, tilted: false, uniform: true, correctable: false, correction: null },
    geometry: { origin: [-275, -178.1, 85.91], rowCosines: [1, 0, 0], columnCosines: [0, 1, 0], normal: [0, 0, 1], spacing: [1.07421875, 1.07421875, 3], dimensions: [512, 512, 3] },
    bytes: { int16: 512 * 512 * 3 * 2, float32: 512 * 512 * 3 * 4 },
    planes: { axial: { axis: 'normal', right: [1, 0, 0], down: [0, 1, 0], labels: { left: 'R', right: 'L', top: 'A', bottom: 'P' } }, sagittal: null, coronal: null },
    slices: [{ instanceId: 'a', frame: 0 }, { instanceId: 'b', frame: 0 }, { instanceId: 'c', frame: 0 }],
    ...over,
  };
}

describe('decodeVolumeInfo', () => {
  it('reads the answer, slices in their order', () => {
    const v = decodeVolumeInfo(answer());
    expect(v.reconstructable).toBe(true);
    expect(v.geometry?.dimensions).toEqual([512, 512, 3]);
    expect(v.slices.map((s) => s.instanceId)).toEqual(['a', 'b', 'c']);
    expect(v.planes.axial?.labels).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(v.tilt.correction).toBeNull();
  });
  it('reads a tilt correction and a null geometry', () => {
    const v = decodeVolumeInfo(answer({
      reconstructable: false, reasons: ['3 slices missing'], geometry: null,
      tilt: { degrees: 15, tilted: true, correctable: true, correction: { columnsPerSlice: 0, rowsPerSlice: 0.75, columnsOffset: 0, rowsOffset: 0, mmAlongRowsPerSlice: 0, mmAlongColumnsPerSlice: 0.8 } },
    }));
    expect(v.geometry).toBeNull();
    expect(v.reasons).toEqual(['3 slices missing']);
    expect(v.tilt.correction).toEqual({ columnsPerSlice: 0, rowsPerSlice: 0.75, columnsOffset: 0, rowsOffset: 0 });
  });
  it('refuses a malformed answer', () => {
    expect(() => decodeVolumeInfo(answer({ slices: [{ instanceId: 'a', frame: -1 }] }))).toThrow(DecodeError);
    expect(() => decodeVolumeInfo(answer({ slices: 'x' }))).toThrow(DecodeError);
    expect(() => decodeVolumeInfo(answer({ geometry: { origin: [0, 0] } }))).toThrow(DecodeError);
    expect(() => decodeVolumeInfo(null)).toThrow(DecodeError);
  });
});

describe('planVoxels', () => {
  const info = (): VolumeInfo => decodeVolumeInfo(answer({}));
  const full16 = 512 * 512 * 3 * 2;
  it('float32 from the start without 16-bit textures when it costs no resolution', () => {
    const r = planVoxels(info(), 1024 * MB, { float: false, norm16: false });
    expect(r.ok && r.float).toBe(true);
    expect(r.ok && r.plan.bytes).toBe(full16 * 2);
    expect(r.ok && r.plan.decimation).toBe(1);
  });
  it('int16 with 16-bit textures, and where float32 would need a coarser volume', () => {
    const a = planVoxels(info(), 1024 * MB, { float: false, norm16: true });
    expect(a.ok && a.float).toBe(false);
    expect(a.ok && a.plan.bytes).toBe(full16);
    // int16 fits at full resolution, float32 would not: int16 kept
    const b = planVoxels(info(), (full16 / VOLUME_SHARE) * 1.5, { float: false, norm16: false });
    expect(b.ok && b.float).toBe(false);
    expect(b.ok && b.plan.decimation).toBe(1);
  });
  it('float32 when asked, coarser if it must; refusals as planVolume', () => {
    const r = planVoxels(info(), (full16 / VOLUME_SHARE) * 1.5, { float: true, norm16: true });
    expect(r.ok && r.float).toBe(true);
    expect(r.ok && r.plan.decimation).toBe(2);
    expect(planVoxels(info(), 64 * 1024, { float: false, norm16: false }).ok).toBe(false);
  });
});

describe('planVolume', () => {
  const info = (over: Record<string, unknown> = {}): VolumeInfo => decodeVolumeInfo(answer(over));
  it('refuses with the plugin reasons', () => {
    expect(planVolume(info({ reconstructable: false, reasons: ['slice spacing varies between 1.0 and 5.0 mm'] }), 1024 * MB)).toEqual({ ok: false, reasons: ['slice spacing varies between 1.0 and 5.0 mm'] });
  });
  it('refuses a tilted series without a correction (never sheared)', () => {
    const r = planVolume(info({ tilt: { degrees: 15, tilted: true, correctable: false, correction: null } }), 1024 * MB);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons[0]).toMatch(/gantry tilt of 15.0 degrees/);
  });
  it('full resolution when it fits', () => {
    const r = planVolume(info(), 1024 * MB);
    expect(r.ok && r.plan.decimation).toBe(1);
    if (r.ok) {
      expect(r.plan.dimensions).toEqual([512, 512, 3]);
      expect(r.plan.direction).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
      expect(r.plan.bytes).toBe(512 * 512 * 3 * 2);
    }
  });
  it('decimates in-plane to fit the budget, origin at the first block centre', () => {
    const full = 512 * 512 * 3 * 2;
    const r = planVolume(info(), (full / VOLUME_SHARE) * 0.9);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.decimation).toBe(2);
    expect(r.plan.dimensions).toEqual([256, 256, 3]);
    expect(r.plan.spacing).toEqual([2.1484375, 2.1484375, 3]);
    expect(r.plan.origin[0]).toBeCloseTo(-275 + 0.537109375, 6);
    expect(r.plan.origin[1]).toBeCloseTo(-178.1 + 0.537109375, 6);
    expect(r.plan.origin[2]).toBeCloseTo(85.91, 6);
    // float voxels take twice: a coarser plan
    expect(planVolume(info(), (full / VOLUME_SHARE) * 0.4).ok).toBe(true);
    const f = planVolume(info(), (full / VOLUME_SHARE) * 0.4, 4);
    expect(f.ok && f.plan.decimation).toBe(3);
    expect(f.ok && f.plan.dimensions).toEqual([171, 171, 3]);
  });
  it('refuses with the sizes when even the coarsest does not fit', () => {
    const r = planVolume(info(), 64 * 1024);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reasons[0]).toBe(`the volume (2 MB) does not fit the viewer's cache budget (1 MB), even at 1/${MAX_DECIMATION} resolution`);
  });
  it('refuses when the slices do not make the dimensions', () => {
    const r = planVolume(info({ slices: [{ instanceId: 'a', frame: 0 }] }), 1024 * MB);
    expect(r).toEqual({ ok: false, reasons: ['1 slices for a volume of 3'] });
  });
});

describe('placeSlice (shear correction, decimation)', () => {
  const src = { columns: 3, rows: 2, pixels: [1, 2, 3, 4, 5, 6] };
  it('copies an unshifted slice', () => {
    const out = new Float32Array(6);
    const r = placeSlice(out, src, { decimation: 1, dimensions: [3, 2, 1], correction: null }, 0, -1);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r).toEqual({ min: 1, max: 6 });
  });
  it('slice k pixel (i, j) goes to (i + k·columnsPerSlice + columnsOffset, j + k·rowsPerSlice + rowsOffset)', () => {
    const c = { columnsPerSlice: 1, rowsPerSlice: 0, columnsOffset: 0, rowsOffset: 1 };
    expect(sliceShift(c, 2)).toEqual({ dx: 2, dy: 1 });
    const out = new Float32Array(5 * 3);
    placeSlice(out, src, { decimation: 1, dimensions: [5, 3, 3], correction: c }, 2, 0);
    // rows: 0 filled; 1: 0 0 1 2 3; 2: 0 0 4 5 6
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6]);
  });
  it('interpolates a fractional shift', () => {
    const c = { columnsPerSlice: 0.5, rowsPerSlice: 0, columnsOffset: 0, rowsOffset: 0 };
    const out = new Float32Array(4 * 2);
    placeSlice(out, { columns: 3, rows: 2, pixels: [0, 10, 20, 30, 40, 50] }, { decimation: 1, dimensions: [4, 2, 2], correction: c }, 1, 0);
    // source x = X − 0.5: X=1 → between 0 and 10 = 5
    expect([...out]).toEqual([0, 5, 15, 10, 15, 35, 45, 25]);
  });
  it('a negative shift reads further right, a vertical edge stays vertical in every slice', () => {
    // the edge at source column 2 of every slice; shift −1 column per slice with offset 2: the edge lands at column 4 − k + ...
    const edge = { columns: 6, rows: 3, pixels: [0, 0, 9, 9, 9, 9, 0, 0, 9, 9, 9, 9, 0, 0, 9, 9, 9, 9] };
    const c = { columnsPerSlice: -1, rowsPerSlice: 0, columnsOffset: 2, rowsOffset: 0 };
    for (const k of [0, 1, 2]) {
      const out = new Float32Array(8 * 3);
      placeSlice(out, edge, { decimation: 1, dimensions: [8, 3, 3], correction: c }, k, 0);
      const firstBright = [0, 1, 2].map((y) => [...out.slice(y * 8, y * 8 + 8)].findIndex((v) => v === 9));
      expect(new Set(firstBright).size).toBe(1); // the same column in every row
      expect(firstBright[0]).toBe(2 + 2 - k);
    }
  });
  it('averages f×f blocks when decimated', () => {
    const out = new Float32Array(2);
    placeSlice(out, { columns: 4, rows: 2, pixels: [1, 3, 5, 7, 1, 3, 5, 7] }, { decimation: 2, dimensions: [2, 1, 1], correction: null }, 0, 0);
    expect([...out]).toEqual([2, 6]);
  });
});

describe('nearestImageIndex', () => {
  const inst = (z: number, uid: string) => ({
    orthancId: uid, sopInstanceUid: uid, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: null, numberOfFrames: 1,
    imagePositionPatient: [0, 0, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0],
  });
  const series = { seriesInstanceUid: 's', orthancId: 's', seriesNumber: 1, modality: 'CT', seriesDescription: '', bodyPartExamined: '', instanceCount: 3, instances: [inst(0, 'a'), inst(3, 'b'), inst(6, 'c')] } as unknown as Series;
  it('finds the slice nearest to a point along the normal', () => {
    expect(nearestImageIndex(series, [10, 20, 4])).toBe(1);
    expect(nearestImageIndex(series, [0, 0, 100])).toBe(2);
    expect(nearestImageIndex(series, [0, 0, -5])).toBe(0);
  });
  it('null without orientation', () => {
    expect(nearestImageIndex({ ...series, instances: [] } as Series, [0, 0, 0])).toBeNull();
  });
});

describe('rescaledRange and writeRescaled (a slice written straight into the volume)', () => {
  it('gives the modality values\' range, a negative slope included', () => {
    expect(rescaledRange(new Uint16Array([0, 1024, 3000]), 1, -1024)).toEqual({ min: -1024, max: 1976 });
    expect(rescaledRange(new Int16Array([-5, 7]), -2, 1)).toEqual({ min: -13, max: 11 });
    expect(rescaledRange(new Float32Array([0.5, 1.5]), 1, 0)).toEqual({ min: 0.5, max: 1.5 });
  });
  it('writes the rescaled values into int16 and float32 targets', () => {
    const raw = new Uint16Array([0, 1024, 3000, 4095]);
    const i16 = new Int16Array(4);
    writeRescaled(i16, raw, 1, -1024, true);
    expect([...i16]).toEqual([-1024, 0, 1976, 3071]);
    const f32 = new Float32Array(4);
    writeRescaled(f32, raw, 0.5, 0.25, false);
    expect([...f32]).toEqual([0.25, 512.25, 1500.25, 2047.75]);
  });
  it('rounds into int16 when the values are not whole, and copies when there is nothing to rescale', () => {
    const i16 = new Int16Array(3);
    writeRescaled(i16, new Float32Array([1.4, 1.6, -2.5]), 1, 0, false);
    expect([...i16]).toEqual([1, 2, -2]);
    const src = new Int16Array([7, -8, 9]);
    const copy = new Int16Array(3);
    writeRescaled(copy, src, 1, 0, true);
    expect([...copy]).toEqual([7, -8, 9]);
    const f = new Float32Array(3);
    writeRescaled(f, src, 1, 0, true);
    expect([...f]).toEqual([7, -8, 9]);
  });
  it('writes no more than the target holds', () => {
    const t = new Float32Array(2);
    writeRescaled(t, new Int16Array([1, 2, 3]), 1, 0, true);
    expect([...t]).toEqual([1, 2]);
  });
});
