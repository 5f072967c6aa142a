// The view operations' arithmetic shared by both 2D pipelines (viewer-stack-view.ts): the CPU pipeline's fit
// scale, the SIGMOID table it is given, which image axis a screen mirror is after a rotation, and orientation markers from canvas-to-world
// points. The pipelines themselves are compared in Tests/browser/viewer.test.mjs.
import { describe, expect, it } from 'vitest';
import { fitScale, markersFromPoints, screenFlipAxis, sigmoidLut, voiLutFunctionName } from '../src/viewer-stack-view';
import { orientationMarkers, type Vec3 } from '../src/viewer-model';

describe('fit scale (cornerstone CPU getImageFitScale, rotation 0)', () => {
  it('fits a square image by the shorter side of the canvas', () => {
    expect(fitScale(811, 489, { columns: 512, rows: 512, rowPixelSpacing: 0.7, columnPixelSpacing: 0.7 })).toBeCloseTo(489 / 512, 12);
    expect(fitScale(400, 900, { columns: 512, rows: 512 })).toBeCloseTo(400 / 512, 12);
  });

  it('fits a wide image by its width', () => {
    expect(fitScale(1000, 1000, { columns: 2000, rows: 500 })).toBeCloseTo(0.5, 12);
  });

  it('stretches the axis with the larger pixel spacing', () => {
    // rows 2 mm apart, columns 1 mm: the image is drawn twice as tall per pixel, so 256 rows need 512 px
    expect(fitScale(1000, 512, { columns: 256, rows: 256, rowPixelSpacing: 2, columnPixelSpacing: 1 })).toBeCloseTo(1, 12);
    expect(fitScale(512, 1000, { columns: 256, rows: 256, rowPixelSpacing: 1, columnPixelSpacing: 2 })).toBeCloseTo(1, 12);
  });

  it('treats a missing or zero spacing as 1', () => {
    expect(fitScale(500, 500, { columns: 250, rows: 250, rowPixelSpacing: 0, columnPixelSpacing: 0 })).toBeCloseTo(2, 12);
  });
});

describe('screen mirror under rotation', () => {
  it('is the same image axis at 0° and 180°, the other at 90° and 270°', () => {
    expect([0, 180, 360, -180].map((r) => screenFlipAxis('h', r))).toEqual(['h', 'h', 'h', 'h']);
    expect([90, 270, -90, 450].map((r) => screenFlipAxis('h', r))).toEqual(['v', 'v', 'v', 'v']);
    expect([0, 90, 180, 270].map((r) => screenFlipAxis('v', r))).toEqual(['v', 'h', 'v', 'h']);
  });

  it('mirrors the screen: image-space flip then clockwise rotation equals rotation then screen flip', () => {
    // 2D check of the CPU pipeline's order (calculateTransform: rotate, then the image's flips)
    const rot = (q: number, [x, y]: [number, number]): [number, number] => {
      let p: [number, number] = [x, y];
      for (let i = 0; i < q; i++) p = [-p[1], p[0]]; // clockwise on a y-down screen
      return p;
    };
    const flip = (axis: 'h' | 'v', [x, y]: [number, number]): [number, number] => (axis === 'h' ? [-x, y] : [x, -y]);
    for (const q of [0, 1, 2, 3]) {
      for (const screen of ['h', 'v'] as const) {
        for (const p of [[3, 1], [-2, 5]] as Array<[number, number]>) {
          const cpu = rot(q, flip(screenFlipAxis(screen, q * 90), p));
          const wanted = flip(screen, rot(q, p));
          expect(cpu.map((v) => v + 0), `${screen} at ${q * 90}°`).toEqual(wanted.map((v) => v + 0));
        }
      }
    }
  });
});

describe('orientation markers from canvas-to-world points', () => {
  const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
  const c: Vec3 = [10, -20, 30];

  it('an axial image as stored: A on top, R on the left', () => {
    // row direction +x (patient left), column direction +y (posterior), 0.7 mm a screen pixel
    expect(markersFromPoints(c, add(c, [0.7, 0, 0]), add(c, [0, 0.7, 0]))).toEqual({ top: 'A', bottom: 'P', left: 'R', right: 'L' });
  });

  it('agrees with the markers from Image Orientation (Patient) and the view transform', () => {
    const iop = [1, 0, 0, 0, 0, -1]; // coronal
    const right: Vec3 = [0, 0, 1]; // after a clockwise quarter turn the old top (head) is on the right
    const down: Vec3 = [1, 0, 0];
    expect(markersFromPoints(c, add(c, right), add(c, down))).toEqual(orientationMarkers(iop, { rotation: 90 }));
    expect(markersFromPoints(c, add(c, [-1, 0, 0]), add(c, [0, 0, -1]))).toEqual(orientationMarkers(iop, { flipHorizontal: true }));
  });

  it('refuses points that do not span a plane', () => {
    expect(markersFromPoints(c, c, add(c, [0, 1, 0]))).toBeNull();
    expect(markersFromPoints(c, add(c, [Number.NaN, 0, 0]), add(c, [0, 1, 0]))).toBeNull();
  });
});

describe('SIGMOID VOI LUT for the CPU pipeline', () => {
  // what cornerstone 5.14's CPU pipeline does with a VOI LUT (getVOILut.js, generateNonLinearVOILUT), restated
  const drawn = (t: { firstValueMapped: number; lut: number[] }, v: number): number => {
    const shift = Math.max(...t.lut).toString(2).length - 8;
    const last = t.firstValueMapped + t.lut.length - 1;
    if (v < t.firstValueMapped) return t.lut[0]! >> shift;
    if (v >= last) return t.lut[t.lut.length - 1]! >> shift;
    return t.lut[v - t.firstValueMapped]! >> shift;
  };
  // PS3.3 C.11.2.1.3.1 for an 8-bit output, computed directly
  const sigmoid = (v: number, ww: number, wc: number): number => 255 / (1 + Math.exp((-4 * (v - wc)) / ww));

  it('draws the DICOM sigmoid within a grey level over the whole range', () => {
    for (const [lo, hi, ww, wc] of [[0, 4095, 1000, 2000], [-1024, 3071, 400, 40], [0, 1023, 50, 1000], [0, 255, 600, -100]]) {
      const t = sigmoidLut(lo!, hi!, ww!, wc!)!;
      expect(t.lut.length).toBe(hi! - lo! + 2);
      for (let v = lo!; v <= hi!; v += 7) expect(Math.abs(drawn(t, v) - sigmoid(v, ww!, wc!)), `v ${v}`).toBeLessThanOrEqual(1);
      expect(drawn(t, hi!)).toBeLessThan(256);
    }
  });

  it('keeps the 8-bit shift when the whole range is dark (the sentinel entry)', () => {
    const t = sigmoidLut(0, 100, 10, 5000)!; // every value far below the centre
    expect(drawn(t, 50)).toBe(0);
    expect(t.lut[t.lut.length - 1]).toBe(65535);
  });

  it('gives the centre half grey and a quarter width above it 1/(1+e^-1) of white', () => {
    const t = sigmoidLut(0, 4095, 1000, 2000)!;
    expect(drawn(t, 2000)).toBe(128);
    expect(drawn(t, 2250)).toBe(Math.floor((65535 / (1 + Math.exp(-1))) / 256));
  });

  it('refuses a range or window it cannot tabulate', () => {
    expect(sigmoidLut(0.5, 10, 100, 5)).toBeNull();
    expect(sigmoidLut(10, 0, 100, 5)).toBeNull();
    expect(sigmoidLut(0, 10, 0, 5)).toBeNull();
    expect(sigmoidLut(0, 10, 100, Number.NaN)).toBeNull();
    expect(sigmoidLut(-70000, 70000, 100, 5)).toBeNull();
  });
});

describe('VOI LUT Function names from cornerstone metadata', () => {
  it('takes the whole value from a string (wadouri) or the first of a list (DICOM JSON)', () => {
    expect(voiLutFunctionName('SIGMOID')).toBe('SIGMOID');
    expect(voiLutFunctionName(' linear_exact ')).toBe('LINEAR_EXACT');
    expect(voiLutFunctionName(['SIGMOID', 'LINEAR'])).toBe('SIGMOID');
  });

  it('gives null without a usable value', () => {
    for (const v of [undefined, null, '', '  ', [], [7], 42, {}]) expect(voiLutFunctionName(v), String(v)).toBeNull();
  });
});
