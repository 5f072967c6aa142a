// SEG labelmaps over a volume, the pure part (viewer-seg-volume.ts): frame position → labelmap slice, pixels placed
// by world position on full, decimated and shear-widened grids, what cannot be shown, label colours.
import { describe, expect, it } from 'vitest';
import type { Instance, Series } from '../src/api';
import type { SegModel } from '../src/viewer-seg';
import { buildLabelmap, framePlacements, frameSliceIndex, labelTransferFunctions, worldToIndex, type FramePlacement, type LabelGrid } from '../src/viewer-seg-volume';

const axial: number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];
/** 8×6 voxels, 5 slices, 1 mm in-plane, 3 mm slices, starting at (-10, 20, 100). */
const grid: LabelGrid = { dimensions: [8, 6, 5], spacing: [1, 1, 3], origin: [-10, 20, 100], direction: axial };

const model = (rows: number, columns: number, frames: Array<{ segment: number }>): Pick<SegModel, 'rows' | 'columns' | 'segments' | 'frames'> => ({
  rows,
  columns,
  segments: [
    { number: 1, label: 'Lesion', color: [255, 0, 0] },
    { number: 2, label: 'Oedema', color: [0, 128, 255] },
  ],
  frames: frames.map((f, index) => ({ index, segment: f.segment, sopInstanceUid: null, frame: 1, position: null, orientation: null, pixelSpacing: null })),
});
const place = (index: number, segment: number, z: number, x = -10, y = 20, spacing: [number, number] = [1, 1]): FramePlacement => ({
  index,
  segment,
  position: [x, y, z],
  row: [1, 0, 0],
  column: [0, 1, 0],
  pixelSpacing: spacing,
});
const at = (data: Uint8Array, g: LabelGrid, i: number, j: number, k: number): number => data[(k * g.dimensions[1] + j) * g.dimensions[0] + i]!;

describe('SEG labelmap', () => {
  it('maps a frame position to its labelmap slice, by world position', () => {
    expect(frameSliceIndex(grid, [-10, 20, 100])).toBe(0);
    expect(frameSliceIndex(grid, [0, 25, 109])).toBe(3);
    expect(frameSliceIndex(grid, [0, 25, 111])).toBe(4); // nearest slice within half a spacing
    expect(frameSliceIndex(grid, [0, 25, 115])).toBeNull(); // beyond the last slice
    expect(frameSliceIndex(grid, [0, 25, 98])).toBeNull();
    // a sagittal volume: the slice axis is x
    const sag: LabelGrid = { dimensions: [4, 4, 10], spacing: [1, 1, 2], origin: [50, 0, 0], direction: [0, 1, 0, 0, 0, -1, 1, 0, 0] };
    expect(frameSliceIndex(sag, [56, 3, -2])).toBe(3);
    expect(worldToIndex(sag, [56, 3, -2])).toEqual([3, 2, 3]);
  });

  it('labels the voxels under each frame pixel with its segment number', () => {
    const mask = new Uint8Array(6 * 8);
    mask[2 * 8 + 3] = 1; // row 2, column 3
    mask[5 * 8 + 7] = 1;
    const m = model(6, 8, [{ segment: 1 }, { segment: 2 }]);
    const lm = buildLabelmap(grid, m, [place(0, 1, 106), place(1, 2, 112)], () => mask);
    expect(at(lm.data, grid, 3, 2, 2)).toBe(1);
    expect(at(lm.data, grid, 7, 5, 2)).toBe(1);
    expect(at(lm.data, grid, 3, 2, 4)).toBe(2);
    expect(lm.data.reduce((a, b) => a + (b ? 1 : 0), 0)).toBe(4);
    expect(lm.voxels.get(1)).toBe(2);
    expect(lm.problems).toEqual([]);
  });

  it('places pixels on a decimated grid by position, not by index', () => {
    // the viewer halved the in-plane resolution: voxel centres at the centre of each 2×2 block
    const half: LabelGrid = { dimensions: [4, 3, 5], spacing: [2, 2, 3], origin: [-9.5, 20.5, 100], direction: axial };
    const mask = new Uint8Array(6 * 8);
    mask[4 * 8 + 6] = 1; // world (-4, 24): voxel (3.25, 1.75) → (3, 2)
    const lm = buildLabelmap(half, model(6, 8, [{ segment: 1 }]), [place(0, 1, 103)], () => mask);
    expect(at(lm.data, half, 3, 2, 1)).toBe(1);
    expect(lm.voxels.get(1)).toBe(1);
  });

  it('places pixels of a tilted acquisition on the shear-widened grid by position', () => {
    // slice k of the acquisition is shifted by 2 mm per slice along y; the corrected grid is 4 voxels taller
    const wide: LabelGrid = { dimensions: [8, 10, 5], spacing: [1, 1, 3], origin: [-10, 20, 100], direction: axial };
    const mask = new Uint8Array(6 * 8);
    mask[0] = 1;
    const frames = [0, 1, 2].map((k) => place(k, 1, 100 + 3 * k, -10, 20 + 2 * k));
    const lm = buildLabelmap(wide, model(6, 8, [{ segment: 1 }, { segment: 1 }, { segment: 1 }]), frames, () => mask);
    expect(at(lm.data, wide, 0, 0, 0)).toBe(1);
    expect(at(lm.data, wide, 0, 2, 1)).toBe(1);
    expect(at(lm.data, wide, 0, 4, 2)).toBe(1);
    expect(at(lm.data, wide, 0, 2, 2)).toBe(0);
  });

  it('says which segments cannot be shown and why', () => {
    const mask = new Uint8Array(6 * 8).fill(1);
    const m = model(6, 8, [{ segment: 1 }]);
    m.segments.push({ number: 300, label: 'Too many', color: [1, 2, 3] });
    const lm = buildLabelmap(grid, m, [place(0, 1, 500)], () => mask);
    expect(lm.problems).toEqual([
      { segment: 1, reason: 'it lies outside the volume' },
      { segment: 2, reason: 'its frames have no position in the volume' },
      { segment: 300, reason: 'segment numbers above 255 cannot be shown in the volume' },
    ]);
  });

  it('overlapping segments: the last frame wins and the counts follow', () => {
    const mask = new Uint8Array(6 * 8);
    mask[0] = 1;
    const lm = buildLabelmap(grid, model(6, 8, [{ segment: 1 }, { segment: 2 }]), [place(0, 1, 100), place(1, 2, 100)], () => mask);
    expect(at(lm.data, grid, 0, 0, 0)).toBe(2);
    expect(lm.voxels.get(1)).toBe(0);
    expect(lm.voxels.get(2)).toBe(1);
  });

  it('takes a frame geometry from the SEG, else from its referenced image and the volume spacing', () => {
    const inst: Instance = { sopInstanceUid: '1.2.3', orthancId: 'o', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: 1, numberOfFrames: 1, imagePositionPatient: [1, 2, 3], imageOrientationPatient: [1, 0, 0, 0, 1, 0], transferSyntaxUid: '' };
    const series: Series = { seriesInstanceUid: '1.2', orthancId: 's', seriesNumber: 1, modality: 'CT', seriesDescription: '', bodyPartExamined: '', instanceCount: 1, instances: [inst] };
    const m: SegModel = {
      rows: 2,
      columns: 2,
      bitsAllocated: 1,
      referencedSeriesUid: '1.2',
      segments: [],
      frames: [
        { index: 0, segment: 1, sopInstanceUid: '1.2.3', frame: 1, position: null, orientation: null, pixelSpacing: null },
        { index: 1, segment: 2, sopInstanceUid: null, frame: 1, position: [4, 5, 6], orientation: [0, 1, 0, 0, 0, -1], pixelSpacing: [0.5, 0.7] },
        { index: 2, segment: 2, sopInstanceUid: null, frame: 1, position: null, orientation: null, pixelSpacing: null },
      ],
    };
    expect(framePlacements(m, series, [0.8, 0.9])).toEqual([
      { index: 0, segment: 1, position: [1, 2, 3], row: [1, 0, 0], column: [0, 1, 0], pixelSpacing: [0.8, 0.9] },
      { index: 1, segment: 2, position: [4, 5, 6], row: [0, 1, 0], column: [0, 0, -1], pixelSpacing: [0.5, 0.7] },
    ]);
  });

  it('colours each label with its segment colour, hidden segments and label 0 transparent', () => {
    const segments = [
      { number: 1, label: 'Lesion', color: [255, 0, 0] as [number, number, number] },
      { number: 2, label: 'Oedema', color: [0, 128, 255] as [number, number, number] },
    ];
    const tf = labelTransferFunctions(segments, new Set([2]), 0.6);
    const opacityAt = (x: number): number => {
      const pts = tf.opacity;
      for (let i = 1; i < pts.length; i++) {
        const [x0, a0] = pts[i - 1]!;
        const [x1, a1] = pts[i]!;
        if (x >= x0 && x <= x1) return x1 === x0 ? a1! : a0! + ((a1! - a0!) * (x - x0)) / (x1 - x0);
      }
      return 0;
    };
    expect(opacityAt(0)).toBe(0);
    expect(opacityAt(1)).toBe(0);
    expect(opacityAt(2)).toBeCloseTo(0.6);
    expect(tf.colour).toContainEqual([1.45, 1, 0, 0]);
    expect(tf.colour).toContainEqual([1.55, 0, 128 / 255, 1]);
    const xs = tf.opacity.map((p) => p[0]);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs); // a valid piecewise function
  });
});
