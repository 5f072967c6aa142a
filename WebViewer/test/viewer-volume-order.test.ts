import { describe, expect, it } from 'vitest';
import { fillOrder, linearTextureFilters, sliceIndexAt, uploadReadSlices, voxelType } from '../src/viewer-volume-order';
import type { VolumeInfo } from '../src/viewer-volume-model';

const geometry = {
  origin: [0, 0, -100],
  rowCosines: [1, 0, 0],
  columnCosines: [0, 1, 0],
  normal: [0, 0, 1],
  spacing: [0.5, 0.5, 2],
  dimensions: [512, 512, 10],
} as unknown as NonNullable<VolumeInfo['geometry']>;
const slices = Array.from({ length: 10 }, (_, i) => ({ instanceId: `i${i}`, frame: 0 }));

describe('fillOrder', () => {
  it('reads from the start slice outwards, every slice once', () => {
    expect(fillOrder(7, 3, () => false)).toEqual([3, 4, 2, 5, 1, 6, 0]);
    expect(fillOrder(4, 0, () => false)).toEqual([0, 1, 2, 3]);
    expect(fillOrder(4, 3, () => false)).toEqual([3, 2, 1, 0]);
  });
  it('takes the cached slices first, each part from the start outwards', () => {
    const cached = new Set([0, 5, 6]);
    expect(fillOrder(7, 3, (k) => cached.has(k))).toEqual([5, 6, 0, 3, 4, 2, 1]);
  });
  it('clamps the start and handles an empty volume', () => {
    expect(fillOrder(3, 99, () => false)).toEqual([2, 1, 0]);
    expect(fillOrder(3, -5, () => false)).toEqual([0, 1, 2]);
    expect(fillOrder(0, 0, () => false)).toEqual([]);
  });
});

describe('sliceIndexAt', () => {
  it('finds the slice nearest a point along the normal', () => {
    expect(sliceIndexAt({ geometry, slices }, [10, 20, -100])).toBe(0);
    expect(sliceIndexAt({ geometry, slices }, [0, 0, -93.2])).toBe(3);
    expect(sliceIndexAt({ geometry, slices }, [0, 0, 500])).toBe(9);
    expect(sliceIndexAt({ geometry, slices }, [0, 0, -500])).toBe(0);
  });
  it('is null without a point or geometry', () => {
    expect(sliceIndexAt({ geometry, slices }, null)).toBeNull();
    expect(sliceIndexAt({ geometry: null, slices }, [0, 0, 0])).toBeNull();
    expect(sliceIndexAt({ geometry, slices: [] }, [0, 0, 0])).toBeNull();
  });
});

describe('voxelType', () => {
  it('is int16 for whole numbers within its range only', () => {
    expect(voxelType({ integral: true, min: -1024, max: 3071 })).toBe('int16');
    expect(voxelType({ integral: true, min: -32768, max: 32767 })).toBe('int16');
    expect(voxelType({ integral: true, min: 0, max: 65535 })).toBe('float32');
    expect(voxelType({ integral: false, min: 0, max: 1 })).toBe('float32');
  });
});

describe('uploadReadSlices', () => {
  // a stand-in for cornerstone's vtkStreamingOpenGLTexture: its marks array, modified() marking every slice
  const texture = (slices: number) => {
    const marks: (boolean | null)[] = [];
    return {
      marks,
      getUpdatedFrames: () => marks,
      modified: () => {
        for (let k = 0; k < slices; k++) marks[k] = true;
      },
      setUpdatedFrame: (k: number) => {
        marks[k] = true;
      },
      uploaded: () => marks.flatMap((m, k) => (m ? [k] : [])),
    };
  };
  it('keeps only the slices read marked when the texture marks them all', () => {
    const t = texture(6);
    const read = new Uint8Array(6);
    read[2] = 1;
    uploadReadSlices(t, read);
    t.modified();
    expect(t.uploaded()).toEqual([2]);
    expect(t.marks.length).toBe(6);
    expect(t.marks.some((m) => m)).toBe(true);
    t.marks[2] = null; // uploaded
    read[4] = 1;
    t.setUpdatedFrame(4);
    t.setUpdatedFrame(5); // not read: stays unmarked
    expect(t.uploaded()).toEqual([4]);
    t.marks[4] = null;
    t.modified(); // created again: every slice read so far
    expect(t.uploaded()).toEqual([2, 4]);
  });
  it('leaves a texture without the list, or one already marked, alone', () => {
    expect(() => uploadReadSlices(undefined, new Uint8Array(3))).not.toThrow();
    expect(() => uploadReadSlices({}, new Uint8Array(3))).not.toThrow();
    const t = texture(3);
    t.modified();
    uploadReadSlices(t, new Uint8Array(3));
    expect(t.uploaded()).toEqual([0, 1, 2]);
  });
});

describe('linearTextureFilters', () => {
  // a stand-in texture whose filter setters, as vtk.js macro setters, call modified() only on a change, and whose
  // modified() marks every slice (cornerstone's vtkStreamingOpenGLTexture)
  const texture = (slices: number) => {
    const marks: (boolean | null)[] = [];
    const filters = { min: 0, mag: 0 }; // NEAREST, vtk.js's default
    const t = {
      marks,
      modifiedCalls: 0,
      getUpdatedFrames: () => marks,
      modified: () => {
        t.modifiedCalls++;
        for (let k = 0; k < slices; k++) marks[k] = true;
      },
      setMinificationFilter: (f: number) => {
        if (filters.min !== f) {
          filters.min = f;
          t.modified();
        }
      },
      setMagnificationFilter: (f: number) => {
        if (filters.mag !== f) {
          filters.mag = f;
          t.modified();
        }
      },
      filters,
    };
    return t;
  };
  it('sets both filters to LINEAR before the first drawing: the mapper\'s setters then mark nothing again', () => {
    const t = texture(4);
    const read = new Uint8Array(4);
    read[1] = 1;
    uploadReadSlices(t, read);
    linearTextureFilters(t);
    expect(t.filters).toEqual({ min: 1, mag: 1 });
    expect(t.marks.flatMap((m, k) => (m ? [k] : []))).toEqual([1]); // only the slice read, as uploadReadSlices keeps
    for (let k = 0; k < 4; k++) t.marks[k] = null; // the first drawing uploaded the marked slices
    const calls = t.modifiedCalls;
    t.setMinificationFilter(1); // what vtk.js's volume mapper does on each drawing
    t.setMagnificationFilter(1);
    expect(t.modifiedCalls).toBe(calls);
    expect(t.marks.some((m) => m)).toBe(false);
  });
  it('leaves a texture without the setters alone', () => {
    expect(() => linearTextureFilters(undefined)).not.toThrow();
    expect(() => linearTextureFilters({ setMinificationFilter: () => undefined })).not.toThrow();
  });
});
