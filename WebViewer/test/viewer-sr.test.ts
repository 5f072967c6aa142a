import { describe, expect, it } from 'vitest';
import type { Series, StudyDetail } from '../src/api';
import {
  dicomDateTime,
  imageIndex,
  imageKey,
  nextSeriesNumber,
  personName,
  planReport,
  sameGeometry,
  savedMessage,
  srSeriesOf,
  statsFor,
  toCornerstone,
  type StoredAnnotation,
  type Vec3,
} from '../src/viewer-sr-model';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = 'http://o/';

function series(uid: string, sopClassUid: string, n: number, frames = 1, number: number | null = 1, modality = 'CT'): Series {
  return {
    seriesInstanceUid: uid,
    orthancId: `o-${uid}`,
    seriesNumber: number,
    modality,
    seriesDescription: 'd',
    bodyPartExamined: '',
    instanceCount: n,
    instances: Array.from({ length: n }, (_, i) => ({
      sopInstanceUid: `${uid}.${i}`,
      orthancId: `${uid}-i${i}`,
      sopClassUid,
      instanceNumber: i + 1,
      numberOfFrames: frames,
      imagePositionPatient: [0, 0, i] as [number, number, number],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    })),
  };
}

const study = (...s: Series[]): StudyDetail => ({ studyInstanceUid: '9.9', series: s }) as unknown as StudyDetail;

function stored(over: Partial<StoredAnnotation> & { data?: Record<string, unknown> }): StoredAnnotation {
  return {
    annotationUid: 'u1',
    seriesInstanceUid: '1.1',
    sopInstanceUid: '1.1.0',
    frame: 1,
    tool: 'Length',
    label: 'lesion',
    data: { points: [[0, 0, 0], [30, 40, 0]], unitSource: 'PixelSpacing', stats: { length: 50, unit: 'mm', areaUnit: 'mm²', valueUnit: 'HU', unitSource: 'PixelSpacing' } },
    ...over,
  };
}

describe('SR measurement reports: images and series', () => {
  it('maps SOP Instance UID + 1-based frame to the viewer imageIds, multi-frame included', () => {
    const idx = imageIndex(study(series('1.1', CT, 2), series('1.2', '1.2.840.10008.5.1.4.1.1.4.1', 1, 3)), ROOT);
    expect(idx.get(imageKey('1.1.0', 1))).toBe('wadouri:http://o/instances/1.1-i0/file');
    expect(idx.get(imageKey('1.2.0', 1))).toBe('wadouri:http://o/instances/1.2-i0/file?frame=1');
    expect(idx.get(imageKey('1.2.0', 3))).toBe('wadouri:http://o/instances/1.2-i0/file?frame=3');
    expect(idx.has(imageKey('1.2.0', 4))).toBe(false);
    expect(idx.has(imageKey('1.1.0', 0))).toBe(false);
  });

  it('finds the SR series that may hold TID 1500 and numbers a new one after every series', () => {
    const sr = series('1.3', '1.2.840.10008.5.1.4.1.1.88.33', 1, 1, 9001, 'SR');
    const basic = series('1.4', '1.2.840.10008.5.1.4.1.1.88.11', 1, 1, 2, 'SR'); // Basic Text: no measurements
    const s = study(series('1.1', CT, 2, 1, 3), sr, basic);
    expect(srSeriesOf(s).map((x) => x.seriesInstanceUid)).toEqual(['1.3']);
    expect(nextSeriesNumber(s)).toBe(9002);
    expect(nextSeriesNumber(study(series('1.1', CT, 1, 1, 3), series('1.5', CT, 1, 1, null)))).toBe(9001);
  });
});

describe('SR measurement reports: values the adapters write', () => {
  it('takes the stored values, with units the DICOM units know', () => {
    expect(statsFor('Length', { length: 12.5, unit: 'mm', unitSource: 'PixelSpacing' }, [])).toEqual({ length: 12.5, unit: 'mm' });
    expect(statsFor('Bidirectional', { longAxis: 20, shortAxis: 10, unit: 'mm' }, [])).toEqual({ length: 20, width: 10, unit: 'mm' });
    expect(statsFor('EllipticalROI', { area: 100, mean: -800, sd: 12, min: -900, max: -700, areaUnit: 'mm²', valueUnit: 'HU' }, [])).toEqual({
      area: 100, areaUnit: 'mm2', mean: -800, stdDev: 12, min: -900, max: -700, modalityUnit: 'HU',
    });
    expect(statsFor('Angle', { angle: 45 }, [])).toEqual({ angle: 45 });
    expect(statsFor('Probe', { value: 3 }, [])).toEqual({});
  });

  it('computes lengths and angles from the world points (mm) when the values are missing, never in pixels', () => {
    const p: Vec3[] = [[0, 0, 0], [30, 40, 0], [0, 0, 0], [0, 10, 0]];
    expect(statsFor('Length', null, p.slice(0, 2)).length).toBeCloseTo(50, 9);
    expect(statsFor('Length', { unitSource: 'pixels' }, p.slice(0, 2)).length).toBeUndefined();
    expect(statsFor('Angle', null, [[10, 0, 0], [0, 0, 0], [0, 10, 0]]).angle).toBeCloseTo(90, 9);
    // Cobb: the acute angle between the two lines
    expect(statsFor('CobbAngle', null, [[0, 0, 0], [10, 0, 0], [0, 5, 0], [-10, 15, 0]]).angle).toBeCloseTo(45, 9);
    const bi = statsFor('Bidirectional', null, [[0, 0, 0], [0, 8, 0], [-2, 4, 0], [2, 4, 0]]);
    expect(bi.length).toBeCloseTo(8, 9);
    expect(bi.width).toBeCloseTo(4, 9);
    const circle = statsFor('CircleROI', { area: 78.5 }, [[0, 0, 0], [3, 4, 0]]);
    expect(circle.radius).toBeCloseTo(5, 9);
  });
});

describe('SR measurement reports: stored annotations to cornerstone', () => {
  it('builds the annotation the adapters read: world points, label, values under the imageId', () => {
    const a = toCornerstone(stored({ data: { ...stored({}).data, frameOfReferenceUID: '1.2.9', viewPlaneNormal: [0, 0, 1], textBox: [1, 2, 3] } }), 'wadouri:x');
    expect(a).not.toBeNull();
    expect(a!.annotationUID).toBe('u1');
    expect(a!.metadata).toMatchObject({ toolName: 'Length', referencedImageId: 'wadouri:x', FrameOfReferenceUID: '1.2.9', viewPlaneNormal: [0, 0, 1] });
    expect(a!.data.handles.points).toEqual([[0, 0, 0], [30, 40, 0]]);
    expect(a!.data.handles.textBox).toEqual({ hasMoved: true, worldPosition: [1, 2, 3] });
    expect(a!.data.label).toBe('lesion');
    expect(a!.data.cachedStats['imageId:wadouri:x']).toEqual({ length: 50, unit: 'mm' });
  });

  it('an arrow keeps its text; a freehand ROI its contour; unknown tools and empty geometry give null', () => {
    const arrow = toCornerstone(stored({ tool: 'ArrowAnnotate', label: '', data: { points: [[0, 0, 0], [1, 1, 0]], text: 'look here' } }), 'i');
    expect(arrow!.data.text).toBe('look here');
    expect(arrow!.data.label).toBe('look here');
    const free = toCornerstone(stored({ tool: 'PlanarFreehandROI', data: { points: [], contour: { polyline: [[0, 0, 0], [1, 0, 0], [1, 1, 0]], closed: true } } }), 'i');
    expect(free!.data.contour).toEqual({ polyline: [[0, 0, 0], [1, 0, 0], [1, 1, 0]], closed: true });
    expect(toCornerstone(stored({ tool: 'Crosshairs' }), 'i')).toBeNull();
    expect(toCornerstone(stored({ data: { points: [] } }), 'i')).toBeNull();
    expect(toCornerstone(stored({ data: { points: [[0, 0, 'x']] } }), 'i')).toBeNull();
  });

  it('plans a report: the store\'s own measurements on images of the study, the rest left out with a reason', () => {
    const idx = imageIndex(study(series('1.1', CT, 2)), ROOT);
    const plan = planReport(
      [
        stored({ annotationUid: 'a' }),
        stored({ annotationUid: 'b', tool: 'Angle', data: { points: [[1, 0, 0], [0, 0, 0], [0, 1, 0]] } }),
        stored({ annotationUid: 'c', sopInstanceUid: '7.7.7' }),
        stored({ annotationUid: 'd', data: { ...stored({}).data, rrSource: 'sr' } }),
        stored({ annotationUid: 'e', tool: 'Magic' }),
        stored({ annotationUid: 'f', sopInstanceUid: '1.1.1' }),
      ],
      idx,
    );
    expect(plan.count).toBe(3);
    const first = idx.get(imageKey('1.1.0', 1))!;
    expect(Object.keys(plan.toolState[first]!)).toEqual(['Length', 'Angle']);
    expect(plan.imageIds).toEqual([first, idx.get(imageKey('1.1.1', 1))]);
    expect(plan.skipped).toEqual([
      { annotationUid: 'c', reason: 'its image is not an image of this study' },
      { annotationUid: 'e', reason: 'Magic cannot be written to TID 1500' },
    ]);
  });

  it('recognises a stored measurement read back from an SR (same image, tool, distinct points within 0.05 mm, any order)', () => {
    const s = stored({});
    expect(sameGeometry(s, '1.1.0', 1, 'Length', [[0.01, 0, 0], [30, 39.97, 0]])).toBe(true);
    expect(sameGeometry(s, '1.1.0', 1, 'Length', [[0.2, 0, 0], [30, 40, 0]])).toBe(false);
    expect(sameGeometry(s, '1.1.0', 2, 'Length', [[0, 0, 0], [30, 40, 0]])).toBe(false);
    expect(sameGeometry(s, '1.1.0', 1, 'Angle', [[0, 0, 0], [30, 40, 0]])).toBe(false);
    expect(sameGeometry(s, '1.1.0', 1, 'Length', [[0, 0, 0]])).toBe(false);
    // in another order, or with a point written twice (an angle's vertex)
    expect(sameGeometry(s, '1.1.0', 1, 'Length', [[30, 40, 0], [0, 0, 0]])).toBe(true);
    const angle = stored({ tool: 'Angle', data: { points: [[1, 0, 0], [0, 0, 0], [0, 1, 0]] } });
    expect(sameGeometry(angle, '1.1.0', 1, 'Angle', [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 0]])).toBe(true);
    expect(sameGeometry(angle, '1.1.0', 1, 'Angle', [[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 2, 0]])).toBe(false);
  });
});

describe('SR measurement reports: texts and DICOM values', () => {
  it('says what was saved', () => {
    expect(savedMessage(3, 9001, 0)).toBe('Saved 3 measurements to the archive as series 9001 "Reading Room measurements".');
    expect(savedMessage(1, 9002, 2)).toMatch(/^Saved 1 measurement to the archive as series 9002 .*\(2 left out: /);
  });

  it('writes person names, dates and times as DICOM does', () => {
    expect(personName('Ann Marie Smith')).toBe('Smith^Ann Marie');
    expect(personName('radiologist')).toBe('radiologist');
    expect(personName('  ')).toBe('Unknown');
    expect(personName('a^b\\c=d')).toBe('d^a b c');
    expect(dicomDateTime(new Date(2026, 0, 2, 3, 4, 5))).toEqual({ date: '20260102', time: '030405' });
  });
});
