import { describe, expect, it } from 'vitest';
import type { Instance, Series } from '../src/api';
import {
  cineFrameRate,
  cineNext,
  clampFps,
  DEFAULT_FPS,
  firstImageSeries,
  isImageInstance,
  markersFromCamera,
  navigate,
  orientationLabel,
  orientationMarkers,
  orthancRoot,
  overlayLines,
  PRESETS,
  presetForKey,
  scaleBar,
  scaleSpacing,
  pngUrl,
  seriesLabel,
  slicePosition,
  stackCount,
  stackImages,
  thumbnailUrl,
  voiRange,
  windowOf,
} from '../src/viewer-model';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SR = '1.2.840.10008.5.1.4.1.1.88.22';
const PDF = '1.2.840.10008.5.1.4.1.1.104.1';

function inst(orthancId: string, sopClassUid = CT, numberOfFrames = 1): Instance {
  return {
    sopInstanceUid: `1.2.3.${orthancId}`,
    orthancId,
    sopClassUid,
    instanceNumber: null,
    numberOfFrames,
    imagePositionPatient: null,
    imageOrientationPatient: null,
    transferSyntaxUid: '1.2.840.10008.1.2',
  };
}

function series(uid: string, instances: Instance[], extra: Partial<Series> = {}): Series {
  return {
    seriesInstanceUid: uid,
    orthancId: `o-${uid}`,
    seriesNumber: 2,
    modality: 'CT',
    seriesDescription: 'Abdomen',
    bodyPartExamined: '',
    instanceCount: instances.length,
    instances,
    ...extra,
  };
}

const ROOT = 'http://host:8042/';

describe('stackImages', () => {
  it('keeps the API display order, one wadouri ID per single-frame instance', () => {
    const s = series('1', [inst('c'), inst('a'), inst('b')]);
    expect(stackImages(s, ROOT).map((i) => i.imageId)).toEqual([
      'wadouri:http://host:8042/instances/c/file',
      'wadouri:http://host:8042/instances/a/file',
      'wadouri:http://host:8042/instances/b/file',
    ]);
  });

  it('expands multi-frame instances into frames (1-based frame= for the loader, 0-based frame for the PNG route)', () => {
    const s = series('1', [inst('m', CT, 3), inst('x')]);
    const images = stackImages(s, 'http://host/orthanc');
    expect(images.map((i) => i.imageId)).toEqual([
      'wadouri:http://host/orthanc/instances/m/file?frame=1',
      'wadouri:http://host/orthanc/instances/m/file?frame=2',
      'wadouri:http://host/orthanc/instances/m/file?frame=3',
      'wadouri:http://host/orthanc/instances/x/file',
    ]);
    expect(images.map((i) => i.frame)).toEqual([0, 1, 2, 0]);
    expect(stackCount(s)).toBe(4);
  });

  it('leaves out SR, PDF and other non-image objects', () => {
    const s = series('1', [inst('sr', SR), inst('img'), inst('pdf', PDF)]);
    expect(stackImages(s, ROOT).map((i) => i.orthancId)).toEqual(['img']);
    expect(isImageInstance({ sopClassUid: '' })).toBe(true);
    expect(isImageInstance({ sopClassUid: '1.2.840.10008.5.1.4.1.1.481.1' })).toBe(true); // RT Image
    expect(isImageInstance({ sopClassUid: '1.2.840.10008.5.1.4.1.1.481.3' })).toBe(false); // RT Structure Set
  });

  it('encodes the Orthanc ID into the path', () => {
    expect(stackImages(series('1', [inst('a/b?c')]), ROOT)[0]!.imageId).toBe('wadouri:http://host:8042/instances/a%2Fb%3Fc/file');
  });
});

describe('firstImageSeries', () => {
  it('is the first series in the API order that has an image', () => {
    const study = { series: [series('sr', [inst('1', SR)]), series('ct', [inst('2')]), series('ct2', [inst('3')])] };
    expect(firstImageSeries(study)?.seriesInstanceUid).toBe('ct');
    expect(firstImageSeries({ series: [series('sr', [inst('1', SR)])] })).toBeNull();
    expect(firstImageSeries({ series: [] })).toBeNull();
  });
});

describe('orthancRoot', () => {
  it('is the parent of the API root, resolved against the page', () => {
    expect(orthancRoot('/api/', 'http://h:8042/reading-room/index.html#/studies/1')).toBe('http://h:8042/');
    expect(orthancRoot('/orthanc/api/', 'https://h/orthanc/reading-room/index.html')).toBe('https://h/orthanc/');
    expect(orthancRoot('../api/', 'http://h/reading-room/index.html')).toBe('http://h/');
  });
});

describe('PNG URLs', () => {
  it('window and size arguments of the plugin route', () => {
    expect(pngUrl('/api/', 'abc', 0)).toBe('/api/dicom/instances/abc/frames/0/png');
    expect(pngUrl('/api', 'abc', 2, { size: 512, window: { center: -600, width: 1500 } })).toBe(
      '/api/dicom/instances/abc/frames/2/png?window=-600,1500&size=512',
    );
  });

  it('thumbnail: middle image of the series (middle frame of a multi-frame instance), 64 px', () => {
    expect(thumbnailUrl('/api/', series('1', [inst('a'), inst('b'), inst('c')]))).toBe('/api/dicom/instances/b/frames/0/png?size=64');
    expect(thumbnailUrl('/api/', series('1', [inst('m', CT, 10)]))).toBe('/api/dicom/instances/m/frames/5/png?size=64');
    expect(thumbnailUrl('/api/', series('1', [inst('s', SR)]))).toBeNull();
  });
});

describe('presets', () => {
  it('number keys 0-6, 0 = the file window', () => {
    expect(PRESETS.map((p) => p.key)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(presetForKey('0')?.window).toBeNull();
    expect(presetForKey('1')).toMatchObject({ name: 'Soft tissue', window: { width: 400, center: 40 } });
    expect(presetForKey('2')).toMatchObject({ name: 'Lung', window: { width: 1500, center: -600 } });
    expect(presetForKey('3')).toMatchObject({ name: 'Bone', window: { width: 1800, center: 400 } });
    expect(presetForKey('4')).toMatchObject({ name: 'Brain', window: { width: 80, center: 40 } });
    expect(presetForKey('5')).toMatchObject({ name: 'Abdomen', window: { width: 350, center: 50 } });
    expect(presetForKey('6')).toMatchObject({ name: 'Liver', window: { width: 150, center: 30 } });
    expect(presetForKey('7')).toBeNull();
    expect(presetForKey('a')).toBeNull();
  });

  it('voiRange is the DICOM linear formula (cornerstone toLowHighRange) and windowOf inverts it', () => {
    expect(voiRange({ width: 1500, center: -600 })).toEqual({ lower: -1350, upper: 149 });
    for (const p of PRESETS) {
      if (!p.window) continue;
      const back = windowOf(voiRange(p.window));
      expect(back.center).toBeCloseTo(p.window.center, 9);
      expect(back.width).toBeCloseTo(p.window.width, 9);
    }
  });
});

describe('overlay text', () => {
  const study = { patientName: 'DOE^JANE', studyDate: '20240131', studyTime: '101500' };

  it('patient, date, series, image n/total, W/L', () => {
    const lines = overlayLines(study, series('1', [inst('a')], { seriesNumber: 3, seriesDescription: 'Axial 1mm' }), {
      index: 66,
      total: 134,
      window: { center: 40.4, width: 399.6 },
    });
    expect(lines.patient).toBe('DOE, JANE');
    expect(lines.date).toContain('2024-01-31');
    expect(lines.series).toBe('Se 3: Axial 1mm');
    expect(lines.image).toBe('Im 67/134');
    expect(lines.window).toBe('W 400 L 40');
  });

  it('keeps DICOM strings as they are (the DOM gets them as text)', () => {
    const payload = 'Series"><svg onload=alert("xss-series")>';
    const lines = overlayLines(
      { patientName: 'Xss^Patient<script>alert("x")</script>', studyDate: '', studyTime: '' },
      series('1', [inst('a')], { seriesNumber: null, seriesDescription: payload }),
      { index: 0, total: 1, window: null },
    );
    expect(lines.series).toBe(payload);
    expect(lines.patient).toContain('<script>alert("x")</script>');
    expect(lines.window).toBe('');
    expect(lines.image).toBe('Im 1/1');
  });

  it('series panel label', () => {
    expect(seriesLabel(series('1', [inst('a'), inst('m', CT, 4)], { seriesNumber: 5 }))).toEqual({ title: 'Abdomen', detail: '#5 · CT · 5 images' });
    expect(seriesLabel(series('1', [inst('a')], { seriesNumber: null, seriesDescription: '', modality: '' }))).toEqual({ title: '(no description)', detail: '1 image' });
  });
});

describe('slicePosition', () => {
  it('projects Image Position (Patient) on the slice normal', () => {
    const axial = [1, 0, 0, 0, 1, 0];
    expect(slicePosition({ imagePositionPatient: [-200, -180, -87.5], imageOrientationPatient: axial })).toBeCloseTo(-87.5, 9);
    // sagittal (row = y, column = -z): normal = (0,1,0)×(0,0,-1) = (-1,0,0)
    expect(slicePosition({ imagePositionPatient: [12, 0, 0], imageOrientationPatient: [0, 1, 0, 0, 0, -1] })).toBeCloseTo(-12, 9);
    // coronal (row = x, column = -z): normal = (1,0,0)×(0,0,-1) = (0,1,0)
    expect(slicePosition({ imagePositionPatient: [0, 33, 5], imageOrientationPatient: [1, 0, 0, 0, 0, -1] })).toBeCloseTo(33, 9);
    // oblique, not normalised cosines: divided by |n|
    const c = Math.SQRT1_2;
    expect(slicePosition({ imagePositionPatient: [0, 10, 10], imageOrientationPatient: [1, 0, 0, 0, c, -c] })).toBeCloseTo(20 * c, 9); // n = (0, c, c)
    expect(slicePosition({ imagePositionPatient: [5, 10, -10], imageOrientationPatient: [1, 0, 0, 0, c, -c] })).toBeCloseTo(0, 9);
    expect(slicePosition({ imagePositionPatient: [0, 0, 10], imageOrientationPatient: [2, 0, 0, 0, 2, 0] })).toBeCloseTo(10, 9);
  });

  it('null without geometry', () => {
    expect(slicePosition({ imagePositionPatient: null, imageOrientationPatient: [1, 0, 0, 0, 1, 0] })).toBeNull();
    expect(slicePosition({ imagePositionPatient: [0, 0, 0], imageOrientationPatient: null })).toBeNull();
    expect(slicePosition({ imagePositionPatient: [0, 0, 0], imageOrientationPatient: [1, 0, 0] })).toBeNull();
    expect(slicePosition({ imagePositionPatient: [0, 0, 0], imageOrientationPatient: [1, 0, 0, 1, 0, 0] })).toBeNull();
    expect(slicePosition({ imagePositionPatient: [0, NaN, 0], imageOrientationPatient: [1, 0, 0, 0, 1, 0] })).toBeNull();
  });

  it('is carried by the stack images of single-frame instances', () => {
    const i = { ...inst('a'), imagePositionPatient: [0, 0, -42] as [number, number, number], imageOrientationPatient: [1, 0, 0, 0, 1, 0] };
    expect(stackImages(series('1', [i]), ROOT)[0]!.location).toBeCloseTo(-42, 9);
    expect(stackImages(series('1', [{ ...i, numberOfFrames: 2 }]), ROOT).map((x) => x.location)).toEqual([null, null]);
  });
});

describe('overlay position and zoom', () => {
  const study = { patientName: '', studyDate: '', studyTime: '' };
  const s = series('1', [inst('a')]);
  it('slice location and thickness in mm, zoom in % of the fitted size', () => {
    const l = overlayLines(study, s, { index: 0, total: 1, window: null, location: -87.54, thickness: 1.25, zoom: 1.5 });
    expect(l.position).toBe('Loc -87.5 mm · Thk 1.3 mm');
    expect(l.zoom).toBe('Zoom 150%');
  });
  it('leaves out what is unknown', () => {
    expect(overlayLines(study, s, { index: 0, total: 1, window: null }).position).toBe('');
    expect(overlayLines(study, s, { index: 0, total: 1, window: null, location: 3, thickness: 0 }).position).toBe('Loc 3.0 mm');
    expect(overlayLines(study, s, { index: 0, total: 1, window: null, location: null, thickness: 2 }).position).toBe('Thk 2.0 mm');
    expect(overlayLines(study, s, { index: 0, total: 1, window: null, zoom: NaN }).zoom).toBe('');
  });
});

describe('navigate', () => {
  it('arrows, pages, Home/End, clamped', () => {
    expect(navigate('ArrowDown', 0, 10)).toBe(1);
    expect(navigate('ArrowUp', 0, 10)).toBe(0);
    expect(navigate('ArrowUp', 5, 10)).toBe(4);
    expect(navigate('PageDown', 5, 10)).toBe(9);
    expect(navigate('PageUp', 5, 100)).toBe(0);
    expect(navigate('PageDown', 5, 100)).toBe(15);
    expect(navigate('End', 5, 100)).toBe(99);
    expect(navigate('Home', 5, 100)).toBe(0);
    expect(navigate('x', 5, 100)).toBeNull();
    expect(navigate('ArrowDown', 0, 0)).toBeNull();
  });
});

describe('orientation markers', () => {
  const AXIAL = [1, 0, 0, 0, 1, 0];
  const SAGITTAL = [0, 1, 0, 0, 0, -1];
  const CORONAL = [1, 0, 0, 0, 0, -1];

  it('labels directions in LPS, dominant axis first, obliques with two or three letters', () => {
    expect(orientationLabel([1, 0, 0])).toBe('L');
    expect(orientationLabel([-1, 0, 0])).toBe('R');
    expect(orientationLabel([0, 1, 0])).toBe('P');
    expect(orientationLabel([0, -1, 0])).toBe('A');
    expect(orientationLabel([0, 0, 1])).toBe('H');
    expect(orientationLabel([0, 0, -1])).toBe('F');
    expect(orientationLabel([0.866, -0.5, 0])).toBe('LA');
    expect(orientationLabel([-0.3, 0.9, 0.3])).toBe('PRH');
    expect(orientationLabel([0.999, 0.01, -0.02])).toBe('L'); // scanner rounding stays one letter
    expect(orientationLabel([0, 0, 0])).toBe('');
    expect(orientationLabel([NaN, 0, 1])).toBe('');
  });

  it('axial: patient right on the left of the screen (radiological convention), anterior on top', () => {
    expect(orientationMarkers(AXIAL)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('sagittal and coronal', () => {
    expect(orientationMarkers(SAGITTAL)).toEqual({ left: 'A', right: 'P', top: 'H', bottom: 'F' });
    expect(orientationMarkers(CORONAL)).toEqual({ left: 'R', right: 'L', top: 'H', bottom: 'F' });
  });

  it('an oblique plane gets combined letters', () => {
    const c = Math.cos(Math.PI / 6), s = Math.sin(Math.PI / 6);
    // axial rotated by 30° about the patient's z axis
    expect(orientationMarkers([c, s, 0, -s, c, 0])).toEqual({ left: 'RA', right: 'LP', top: 'AL', bottom: 'PR' });
    // a double oblique
    expect(orientationMarkers([c, 0, -s, 0, 1, 0])).toEqual({ left: 'RH', right: 'LF', top: 'A', bottom: 'P' });
  });

  it('follows rotation and flips', () => {
    // clockwise by 90°: the left edge goes to the top
    expect(orientationMarkers(AXIAL, { rotation: 90 })).toEqual({ top: 'R', right: 'A', bottom: 'L', left: 'P' });
    expect(orientationMarkers(AXIAL, { rotation: 180 })).toEqual({ top: 'P', right: 'R', bottom: 'A', left: 'L' });
    expect(orientationMarkers(AXIAL, { rotation: 270 })).toEqual(orientationMarkers(AXIAL, { rotation: -90 }));
    expect(orientationMarkers(AXIAL, { rotation: 360 })).toEqual(orientationMarkers(AXIAL));
    expect(orientationMarkers(AXIAL, { flipHorizontal: true })).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
    expect(orientationMarkers(AXIAL, { flipVertical: true })).toEqual({ left: 'R', right: 'L', top: 'P', bottom: 'A' });
    expect(orientationMarkers(SAGITTAL, { rotation: 90, flipHorizontal: true })).toEqual({ top: 'A', bottom: 'P', left: 'H', right: 'F' });
  });

  it('no markers without a usable orientation', () => {
    expect(orientationMarkers(null)).toBeNull();
    expect(orientationMarkers([1, 0, 0, 0, 1])).toBeNull();
    expect(orientationMarkers([0, 0, 0, 0, 1, 0])).toBeNull();
    expect(orientationMarkers([1, 0, 0, 0, NaN, 0])).toBeNull();
  });

  it('from a cornerstone3D camera: the stack camera of an axial image gives the same markers', () => {
    // StackViewport: viewUp = −column direction, viewPlaneNormal = column × row
    expect(markersFromCamera([0, -1, 0], [0, 0, -1])).toEqual(orientationMarkers(AXIAL));
    expect(markersFromCamera([0, 0, 1], [1, 0, 0])).toEqual(orientationMarkers(SAGITTAL));
    expect(markersFromCamera([0, 0, 0], [0, 0, 1])).toBeNull();
  });
});

describe('cine', () => {
  it('starts at the file\'s rate: Recommended Display Frame Rate, then Cine Rate, then Frame Time, else 10 fps', () => {
    expect(DEFAULT_FPS).toBe(10);
    expect(cineFrameRate({})).toBe(10);
    expect(cineFrameRate({ recommendedDisplayFrameRate: 25, cineRate: 15, frameTimeMs: 100 })).toBe(25);
    expect(cineFrameRate({ recommendedDisplayFrameRate: null, cineRate: 15, frameTimeMs: 100 })).toBe(15);
    expect(cineFrameRate({ cineRate: 0, frameTimeMs: 33.33 })).toBe(30);
    expect(cineFrameRate({ recommendedDisplayFrameRate: NaN })).toBe(10);
    expect(cineFrameRate({ recommendedDisplayFrameRate: 500 })).toBe(60);
    expect(cineFrameRate({ frameTimeMs: 5000 })).toBe(1);
  });

  it('clamps the control\'s value', () => {
    expect(clampFps(0)).toBe(1);
    expect(clampFps(12.4)).toBe(12);
    expect(clampFps(99)).toBe(60);
    expect(clampFps(NaN)).toBe(10);
  });

  it('loops', () => {
    expect(cineNext(0, 134)).toBe(1);
    expect(cineNext(133, 134)).toBe(0);
    expect(cineNext(0, 1)).toBe(0);
    expect(cineNext(5, 0)).toBe(0);
  });
});

describe('scale bar', () => {
  it('measures with Pixel Spacing, else Imager Pixel Spacing (said so), else none', () => {
    expect(scaleSpacing({ pixelSpacing: [0.5, 0.7], imagerPixelSpacing: [0.2, 0.2] })).toEqual({ mmPerPixel: 0.7, imager: false });
    expect(scaleSpacing({ pixelSpacing: null, imagerPixelSpacing: [0.2, 0.25] })).toEqual({ mmPerPixel: 0.25, imager: true });
    expect(scaleSpacing({ pixelSpacing: [0, 0], imagerPixelSpacing: [0.2, 0.2] })).toEqual({ mmPerPixel: 0.2, imager: true });
    expect(scaleSpacing({})).toBeNull();
    expect(scaleSpacing({ pixelSpacing: [1], imagerPixelSpacing: [NaN, 1] })).toBeNull();
  });

  it('picks the longest 1-2-5 length that fits and its length on screen', () => {
    // the 134-slice CT fitted in 800 px: 512 × 1.07421875 mm over 800 px
    const mmPerPx = (512 * 1.07421875) / 800;
    const bar = scaleBar(mmPerPx, 200)!;
    expect(bar.mm).toBe(100); // 200 px = 137.5 mm
    expect(bar.px).toBeCloseTo(100 / mmPerPx, 9);
    expect(bar.label).toBe('100 mm');
    expect(scaleBar(1, 60)).toMatchObject({ mm: 50, px: 50, label: '50 mm' });
    expect(scaleBar(1, 50)).toMatchObject({ mm: 50, px: 50 });
    expect(scaleBar(1, 49.9)).toMatchObject({ mm: 20, px: 20 });
    expect(scaleBar(0.01, 150)).toMatchObject({ mm: 1, px: 100 });
    expect(scaleBar(0.001, 150)).toMatchObject({ mm: 0.1, px: 100, label: '0.1 mm' });
  });

  it('follows zoom: twice the zoom, half the mm per screen pixel', () => {
    const a = scaleBar(0.5, 200)!;
    const b = scaleBar(0.25, 200)!;
    expect(a).toMatchObject({ mm: 100, px: 200 });
    expect(b).toMatchObject({ mm: 50, px: 200 });
    expect(scaleBar(0.3, 200)).toMatchObject({ mm: 50 });
  });

  it('labels Imager Pixel Spacing; nothing when it would not fit', () => {
    expect(scaleBar(0.2, 200, true)!.label).toBe('20 mm (imager)');
    expect(scaleBar(1, 5)).toBeNull();
    expect(scaleBar(0, 200)).toBeNull();
    expect(scaleBar(Infinity, 200)).toBeNull();
    expect(scaleBar(NaN, 200)).toBeNull();
  });
});
