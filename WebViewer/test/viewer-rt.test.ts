// RT Structure Set contours, the pure part (viewer-rt.ts): ROIs with their display colours, contours placed on
// the study's image whose plane holds them (by reference, else by plane), the rest counted.
import { describe, expect, it } from 'vitest';
import type { Instance, Series } from '../src/api';
import { rtModel, rtStructSeries } from '../src/viewer-rt';

function ct(sop: string, z: number): Instance {
  return { sopInstanceUid: sop, orthancId: `o-${sop}`, sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: null, numberOfFrames: 1, imagePositionPatient: [-100, -100, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0], transferSyntaxUid: '1.2.840.10008.1.2' };
}
function series(uid: string, modality: string, instances: Instance[]): Series {
  return { seriesInstanceUid: uid, orthancId: `s-${uid}`, seriesNumber: 2, modality, seriesDescription: '', bodyPartExamined: '', instanceCount: instances.length, instances };
}
const rtInstance: Instance = { ...ct('9.9', 0), sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3', imagePositionPatient: null, imageOrientationPatient: null };
const study = { series: [series('1.1', 'CT', [ct('1.1.1', 0), ct('1.1.2', 3)]), series('1.2', 'RTSTRUCT', [rtInstance])] };

const contour = (z: number, ref?: string, type = 'CLOSED_PLANAR') => ({
  '3006,0042': type,
  '3006,0050': `0\\0\\${z}\\10\\0\\${z}\\10\\10\\${z}`,
  ...(ref ? { '3006,0016': [{ '0008,1155': ref }] } : {}),
});
const tags = {
  '3006,0020': [
    { '3006,0022': '1', '3006,0026': 'BODY' },
    { '3006,0022': '2', '3006,0026': '<i>Heart</i>' },
  ],
  '3006,0039': [
    { '3006,0084': '1', '3006,002a': '154\\155\\100', '3006,0040': [contour(3, '1.1.2'), contour(0), contour(7.5)] },
    { '3006,0084': '2', '3006,0040': [contour(3, '7.7.7', 'POINT'), { '3006,0042': 'CLOSED_PLANAR', '3006,0050': null }] },
  ],
};

describe('RT structure set model', () => {
  it('places contours on the image whose plane holds them and counts the rest', () => {
    const m = rtModel(tags, study);
    expect(m.rois).toEqual([
      { number: 1, name: 'BODY', color: [154, 155, 100] },
      { number: 2, name: '<i>Heart</i>', color: [80, 200, 255] },
    ]);
    expect(m.contours.map((c) => [c.roi, c.type, c.sopInstanceUid])).toEqual([
      [1, 'CLOSED_PLANAR', '1.1.2'],
      [1, 'CLOSED_PLANAR', '1.1.1'],
      [2, 'POINT', '1.1.2'],
    ]);
    expect(m.contours[0]!.points).toEqual([[0, 0, 3], [10, 0, 3], [10, 10, 3]]);
    expect(m.unplaced).toBe(2); // z = 7.5 lies on no slice; no Contour Data
    expect(m.referencedSeriesUid).toBe('1.1');
    expect(rtStructSeries(study).map((s) => s.seriesInstanceUid)).toEqual(['1.2']);
  });

  it('a contour whose referenced image is not on its plane is placed by its plane', () => {
    const m = rtModel({ '3006,0039': [{ '3006,0084': '1', '3006,0040': [contour(0, '1.1.2')] }] }, study);
    expect(m.contours[0]!.sopInstanceUid).toBe('1.1.1');
  });

  it('no images of the study: nothing placed', () => {
    const m = rtModel(tags, { series: [study.series[1]!] });
    expect(m.contours).toEqual([]);
    expect(m.referencedSeriesUid).toBeNull();
    expect(rtModel(null, study)).toEqual({ rois: [], contours: [], referencedSeriesUid: null, unplaced: 0 });
  });
});
