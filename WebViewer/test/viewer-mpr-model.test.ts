import { describe, expect, it } from 'vitest';
import { cameraThrough, obliqueDegrees, planeLine, planeLocation, slabModeOf, slabText, slabThickness } from '../src/viewer-mpr-model';
import { markersFromCamera } from '../src/viewer-model';
import { sliceAt } from '../src/viewer-volume-model';

describe('MPR planes', () => {
  it('moves a camera along its normal through a point, keeping it in the plane', () => {
    const cam = { focalPoint: [0, 0, 10] as [number, number, number], position: [0, 0, 510] as [number, number, number], viewPlaneNormal: [0, 0, -1] as [number, number, number] };
    expect(cameraThrough(cam, [50, -20, 40])).toEqual({ focalPoint: [0, 0, 40], position: [0, 0, 540] });
    const sag = { focalPoint: [1, 2, 3] as [number, number, number], position: [-499, 2, 3] as [number, number, number], viewPlaneNormal: [1, 0, 0] as [number, number, number] };
    expect(cameraThrough(sag, [-7, 100, 100])).toEqual({ focalPoint: [-7, 2, 3], position: [-507, 2, 3] });
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
