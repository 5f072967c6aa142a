import { describe, expect, it } from 'vitest';
import { cameraThrough, EDGE_MARGIN_MM, insideVolume, mprStartPoint, obliqueDegrees, planeLine, planeLocation, slabModeOf, slabText, slabThickness } from '../src/viewer-mpr-model';
import { markersFromCamera } from '../src/viewer-model';
import { sliceAt } from '../src/viewer-volume-model';

describe('MPR planes', () => {
  it('moves a camera along its normal through a point, keeping it in the plane', () => {
    const cam = { focalPoint: [0, 0, 10] as [number, number, number], position: [0, 0, 510] as [number, number, number], viewPlaneNormal: [0, 0, -1] as [number, number, number] };
    expect(cameraThrough(cam, [50, -20, 40])).toEqual({ focalPoint: [0, 0, 40], position: [0, 0, 540] });
    const sag = { focalPoint: [1, 2, 3] as [number, number, number], position: [-499, 2, 3] as [number, number, number], viewPlaneNormal: [1, 0, 0] as [number, number, number] };
    expect(cameraThrough(sag, [-7, 100, 100])).toEqual({ focalPoint: [-7, 2, 3], position: [-507, 2, 3] });
  });
  it('keeps a point inside the volume, EDGE_MARGIN_MM from its outermost voxel centres, along each axis', () => {
    // 512 × 512 × 134, 0.7 mm pixels, 2.5 mm slices, z from -300 up (an axial CT)
    const box = { origin: [-180, -180, -300] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], dimensions: [512, 512, 134] as [number, number, number], spacing: [0.7, 0.7, 2.5] as [number, number, number] };
    const lastZ = -300 + 133 * 2.5;
    // on the first slice (the 2D view's first image): moved 0.05 mm up, x and y unchanged
    const first = insideVolume([10, -20, -300], box);
    expect(first[0]).toBe(10);
    expect(first[1]).toBe(-20);
    expect(first[2]).toBeCloseTo(-300 + EDGE_MARGIN_MM, 9);
    // a hair outside (rounding) and far outside: the same
    expect(insideVolume([10, -20, -300.000001], box)[2]).toBeCloseTo(-300 + EDGE_MARGIN_MM, 9);
    expect(insideVolume([10, -20, lastZ + 40], box)[2]).toBeCloseTo(lastZ - EDGE_MARGIN_MM, 9);
    // inside: unchanged, exactly
    expect(insideVolume([10, -20, -200.3], box)).toEqual([10, -20, -200.3]);
    // x and y clamped too
    expect(insideVolume([-500, 500, -200], box)).toEqual([-180 + EDGE_MARGIN_MM, -180 + 511 * 0.7 - EDGE_MARGIN_MM, -200].map((v) => expect.closeTo(v, 9)));
    // a sagittal acquisition (rows along y, columns along -z, slices along x): its first slice is x = origin x
    const sag = { origin: [-60, -120, 90] as [number, number, number], direction: [0, 1, 0, 0, 0, -1, 1, 0, 0], dimensions: [256, 256, 120] as [number, number, number], spacing: [1, 1, 1.2] as [number, number, number] };
    const s = insideVolume([-60, 0, 0], sag);
    expect(s[0]).toBeCloseTo(-60 + EDGE_MARGIN_MM, 9);
    expect(s[1]).toBe(0);
    expect(s[2]).toBeCloseTo(0, 9);
    // a single slice: kept on it
    expect(insideVolume([0, 0, 7], { ...box, origin: [-180, -180, 5] as [number, number, number], dimensions: [512, 512, 1] as [number, number, number] })[2]).toBe(5);
  });
  it("starts the planes on the 2D view's slice, through the volume's centre in-plane, inside the volume", () => {
    const box = { origin: [-180, -180, -300] as [number, number, number], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], dimensions: [512, 512, 134] as [number, number, number], spacing: [0.7, 0.7, 2.5] as [number, number, number] };
    const cx = -180 + 511 * 0.35;
    const p = mprStartPoint([10, -20, -200], box);
    [cx, cx, -200].forEach((v, k) => expect(p[k]).toBeCloseTo(v, 9));
    // a point beyond the last slice: on it (just inside), in the middle
    const o = mprStartPoint([0, 0, 100], box);
    [cx, cx, -300 + 133 * 2.5 - EDGE_MARGIN_MM].forEach((v, k) => expect(o[k]).toBeCloseTo(v, 9));
    // the first slice (the 2D view's first image): just inside it
    expect(mprStartPoint([0, 0, -300], box)[2]).toBeCloseTo(-300 + EDGE_MARGIN_MM, 9);
    // no point: the centre
    [cx, cx, -300 + 133 * 1.25].forEach((v, k) => expect(mprStartPoint(null, box)[k]).toBeCloseTo(v, 9));
    // a sagittal acquisition: slices along x, the point's x kept, y and z at the centre
    const sag = { origin: [-60, -120, 90] as [number, number, number], direction: [0, 1, 0, 0, 0, -1, 1, 0, 0], dimensions: [256, 256, 120] as [number, number, number], spacing: [1, 1, 1.2] as [number, number, number] };
    const s = mprStartPoint([5, 300, -300], sag);
    [5, -120 + 127.5, 90 - 127.5].forEach((v, k) => expect(s[k]).toBeCloseTo(v, 9));
  });
  it('the plane line, its location and obliquity', () => {
    expect(planeLocation([1, 2, 3], [0, 0, -1])).toBe(3);
    expect(planeLocation([1, 2, 3], [1, 0, 0])).toBe(1);
    expect(planeLine('sagittal', 66, 512, [1, 0, 0])).toBe('Sagittal 67/512');
    const n: [number, number, number] = [Math.cos(0.2), Math.sin(0.2), 0];
    expect(obliqueDegrees(n)).toBeCloseTo(11.46, 1);
    expect(planeLine('axial', 0, 10, n)).toBe('Axial 1/10 · oblique 11.5°');
  });
  it('labels of the three cornerstone planes (README screen conventions)', () => {
    expect(markersFromCamera([0, -1, 0], [0, 0, -1])).toEqual({ top: 'A', bottom: 'P', left: 'R', right: 'L' });
    expect(markersFromCamera([0, 0, 1], [1, 0, 0])).toEqual({ top: 'H', bottom: 'F', left: 'A', right: 'P' });
    expect(markersFromCamera([0, 0, 1], [0, -1, 0])).toEqual({ top: 'H', bottom: 'F', left: 'R', right: 'L' });
  });
  it('slab modes and thickness', () => {
    expect(slabModeOf('mip')).toBe('mip');
    expect(slabModeOf('<img>')).toBe('none');
    expect(slabThickness('12.34')).toBe(12.3);
    expect(slabThickness('x')).toBe(10);
    expect(slabThickness(0)).toBe(0.5);
    expect(slabThickness(1e6)).toBe(200);
    expect(slabText('minip', 5)).toBe('MinIP 5.0 mm');
    expect(slabText('none', 5)).toBe('');
  });
  it('the slice of the volume nearest a point (MPR measurements are stored under it)', () => {
    const info = {
      geometry: { origin: [0, 0, 100] as [number, number, number], rowCosines: [1, 0, 0] as [number, number, number], columnCosines: [0, 1, 0] as [number, number, number], normal: [0, 0, 1] as [number, number, number], spacing: [1, 1, 3] as [number, number, number], dimensions: [4, 4, 3] as [number, number, number] },
      slices: [{ instanceId: 'a', frame: 0 }, { instanceId: 'b', frame: 0 }, { instanceId: 'c', frame: 2 }],
    };
    expect(sliceAt(info, [9, 9, 104])).toEqual({ instanceId: 'b', frame: 0 });
    expect(sliceAt(info, [0, 0, 1000])).toEqual({ instanceId: 'c', frame: 2 });
    expect(sliceAt(info, [0, 0, -5])).toEqual({ instanceId: 'a', frame: 0 });
    expect(sliceAt({ geometry: null, slices: [] }, [0, 0, 0])).toBeNull();
  });
});
