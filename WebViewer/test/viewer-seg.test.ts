// SEG overlays, the pure part (viewer-seg.ts): segments and colours, frames mapped to the study's images by
// reference or by position, Pixel Data cut from real files of ../shared/dicom (byte-aligned and not), masks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Instance, Series } from '../src/api';
import { dicomLabToRgb, frameMask, framesOn, pixelDataOf, segModel, segSeries } from '../src/viewer-seg';

const data = join(process.env.READING_ROOM_TEST_DATA ?? join(__dirname, '..', '..', '..', 'shared', 'dicom'), 'seg');

function instance(sop: string, z: number, sopClassUid = '1.2.840.10008.5.1.4.1.1.4'): Instance {
  return { sopInstanceUid: sop, orthancId: `o-${sop}`, sopClassUid, instanceNumber: null, numberOfFrames: 1, imagePositionPatient: [0, 0, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0], transferSyntaxUid: '1.2.840.10008.1.2.1' };
}
function series(uid: string, modality: string, instances: Instance[]): Series {
  return { seriesInstanceUid: uid, orthancId: `s-${uid}`, seriesNumber: 1, modality, seriesDescription: '', bodyPartExamined: '', instanceCount: instances.length, instances };
}
const mr = series('1.9.1', 'MR', [instance('1.9.1.1', 0), instance('1.9.1.2', 5)]);
const seg = series('1.9.2', 'SEG', [instance('1.9.2.1', 0, '1.2.840.10008.5.1.4.1.1.66.4')]);
const study = { series: [mr, seg] };

const tags = {
  '0028,0010': '4',
  '0028,0011': '3',
  '0028,0100': '1',
  '0028,0008': '2',
  '0062,0002': [
    { '0062,0004': '1', '0062,0005': 'Lesion', '0062,000d': '34891\\53479\\50167' },
    { '0062,0004': '2', '0062,0005': '<b>Oedema</b>' },
  ],
  '5200,9230': [
    { '0062,000a': [{ '0062,000b': '1' }], '0008,9124': [{ '0008,2112': [{ '0008,1155': '1.9.1.2' }] }] },
    { '0062,000a': [{ '0062,000b': '2' }], '0020,9113': [{ '0020,0032': '0\\0\\0' }] },
  ],
};

describe('SEG model', () => {
  it('reads segments, colours and where each frame lies (reference, else position)', () => {
    const m = segModel(tags, study, '1.2.840.10008.1.2.1');
    expect(m.rows).toBe(4);
    expect(m.columns).toBe(3);
    expect(m.segments.map((s) => [s.number, s.label])).toEqual([[1, 'Lesion'], [2, '<b>Oedema</b>']]);
    const red = m.segments[0]!.color;
    expect(red[0]).toBeGreaterThan(240);
    expect(red[1]).toBeLessThan(20);
    expect(m.frames).toEqual([
      { index: 0, segment: 1, sopInstanceUid: '1.9.1.2', frame: 1, position: null, orientation: null, pixelSpacing: null },
      { index: 1, segment: 2, sopInstanceUid: '1.9.1.1', frame: 1, position: [0, 0, 0], orientation: null, pixelSpacing: null },
    ]);
    expect(m.referencedSeriesUid).toBe('1.9.1');
    expect(framesOn(m, '1.9.1.1', 1).map((f) => f.segment)).toEqual([2]);
    expect(segSeries(study)).toEqual([seg]);
  });

  it('frames whose images are not in the study reference nothing', () => {
    const m = segModel({ ...tags, '5200,9230': [{ '0008,9124': [{ '0008,2112': [{ '0008,1155': '7.7.7' }] }] }] }, study, '');
    expect(m.frames[0]!.sopInstanceUid).toBeNull();
    expect(m.referencedSeriesUid).toBeNull();
  });

  it('refuses what it cannot overlay, saying why', () => {
    expect(() => segModel(tags, study, '1.2.840.10008.1.2.8.1')).toThrow(/transfer syntax/);
    expect(() => segModel({ ...tags, '0028,0100': '16' }, study, '')).toThrow(/16 bits/);
    expect(() => segModel({}, study, '')).toThrow(/rows and columns/);
  });

  it('CIELab white and black', () => {
    expect(dicomLabToRgb([65535, 32896, 32896])).toEqual([255, 255, 255]);
    expect(dicomLabToRgb([0, 32896, 32896])).toEqual([0, 0, 0]);
  });
});

describe('SEG pixels', () => {
  it('masks of bit-packed frames that are not byte-aligned', () => {
    // 4×3 = 12 pixels per frame: frame 1 starts at bit 12 (the middle of byte 1)
    const bits = new Uint8Array([0b0000_0001, 0b0001_0000, 0b0000_0000]);
    expect(Array.from(frameMask(bits, { rows: 4, columns: 3, bitsAllocated: 1 }, 0))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(frameMask(bits, { rows: 4, columns: 3, bitsAllocated: 1 }, 1))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(frameMask(new Uint8Array([0, 3, 0, 0]), { rows: 2, columns: 2, bitsAllocated: 8 }, 0))).toEqual([0, 1, 0, 0]);
  });

  it('cuts the Pixel Data of real files (byte-aligned 512², not aligned 510²)', () => {
    for (const [name, side] of [['liver.dcm', 512], ['liver_nonbyte_aligned.dcm', 510]] as const) {
      const pixels = pixelDataOf(new Uint8Array(readFileSync(join(data, name))));
      const bytes = Math.ceil((side * side * 3) / 8);
      expect(pixels.length - bytes).toBeGreaterThanOrEqual(0);
      expect(pixels.length - bytes).toBeLessThanOrEqual(1);
      const model = { rows: side, columns: side, bitsAllocated: 1 };
      const counts = [0, 1, 2].map((f) => frameMask(pixels, model, f).reduce((a, b) => a + b, 0));
      expect(counts.every((c) => c > 100)).toBe(true);
    }
  });

  it('a file that does not end with its Pixel Data is refused', () => {
    expect(() => pixelDataOf(new Uint8Array(400))).toThrow(/Pixel Data/);
  });
});
