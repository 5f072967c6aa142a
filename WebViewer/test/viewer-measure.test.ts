// Measurement maths, unit selection and texts (viewer-measure-model.ts) against values computed here
// independently (brute force, closed forms), and undo/redo (viewer-measure-history.ts).
import { describe, expect, it } from 'vitest';
import { History } from '../src/viewer-measure-history';
import {
  angleAt,
  cobbAngle,
  distance,
  insidePolygon,
  measure,
  measurementLines,
  polygonArea,
  regionArea,
  regionStats,
  spacingOf,
  TOOL_INFO,
  toolForKey,
  worldToImage,
  type Pt,
  type Spacing,
} from '../src/viewer-measure-model';
import { SHORTCUTS } from '../src/viewer-model';
import type { WireBody } from '../src/viewer-annotations-wire';

const CT: Spacing = { row: 0.8, col: 0.7, source: 'PixelSpacing' };
const PX: Spacing = { row: 1, col: 1, source: 'pixels' };

describe('unit selection', () => {
  it('uses Pixel Spacing (row\\column), else Imager Pixel Spacing, else pixels', () => {
    expect(spacingOf({ pixelSpacing: [0.8, 0.7], imagerPixelSpacing: [0.2, 0.2] })).toEqual({ row: 0.8, col: 0.7, source: 'PixelSpacing' });
    expect(spacingOf({ pixelSpacing: null, imagerPixelSpacing: [0.15, 0.16] })).toEqual({ row: 0.15, col: 0.16, source: 'ImagerPixelSpacing' });
    expect(spacingOf({ pixelSpacing: [0, 0.7], imagerPixelSpacing: [0.15, 0.16] }).source).toBe('ImagerPixelSpacing');
    expect(spacingOf({ pixelSpacing: [NaN, 1] })).toEqual({ row: 1, col: 1, source: 'pixels' });
    expect(spacingOf({})).toEqual({ row: 1, col: 1, source: 'pixels' });
  });

  it('says when a value is at the detector or in pixels', () => {
    const imager = measure({ tool: 'Length', points: [[0, 0], [100, 0]] }, { row: 0.2, col: 0.1, source: 'ImagerPixelSpacing' }, 'DX', null);
    expect(imager.length).toBeCloseTo(10, 10);
    expect(measurementLines('Length', imager)).toEqual(['10.0 mm', 'at the detector (Imager Pixel Spacing)']);
    const px = measure({ tool: 'Length', points: [[0, 0], [3, 4]] }, PX, 'OT', null);
    expect(measurementLines('Length', px)).toEqual(['5.0 px', 'in pixels (no pixel spacing)']);
    const mm = measure({ tool: 'Length', points: [[0, 0], [3, 4]] }, CT, 'CT', null);
    expect(measurementLines('Length', mm)).toEqual([`${Math.hypot(3 * 0.7, 4 * 0.8).toFixed(1)} mm`]);
  });
});

describe('lengths and angles', () => {
  it('a length is the physical distance with anisotropic spacing', () => {
    // 100 pixels along a row (x) and 50 down a column (y)
    expect(distance([10, 20], [110, 20], CT)).toBeCloseTo(70, 10);
    expect(distance([10, 20], [10, 70], CT)).toBeCloseTo(40, 10);
    expect(distance([0, 0], [30, 40], CT)).toBeCloseTo(Math.sqrt(21 * 21 + 32 * 32), 10);
  });

  it('angles are measured in physical space', () => {
    expect(angleAt([10, 0], [0, 0], [0, 10], PX)).toBeCloseTo(90, 10);
    expect(angleAt([10, 0], [0, 0], [10, 10], PX)).toBeCloseTo(45, 10);
    // with spacing 0.7 × 0.8 the pixel diagonal is not at 45°
    expect(angleAt([10, 0], [0, 0], [10, 10], CT)).toBeCloseTo((Math.atan2(8, 7) * 180) / Math.PI, 10);
    expect(angleAt([1, 0], [0, 0], [-1, 0], PX)).toBeCloseTo(180, 10);
  });

  it('a Cobb angle ignores the direction the lines were drawn in', () => {
    const a1: Pt = [0, 0];
    const a2: Pt = [10, 0];
    const deg = 30;
    const b: Pt = [10 * Math.cos((deg * Math.PI) / 180), 10 * Math.sin((deg * Math.PI) / 180)];
    expect(cobbAngle(a1, a2, [0, 0], b, PX)).toBeCloseTo(30, 9);
    expect(cobbAngle(a1, a2, b, [0, 0], PX)).toBeCloseTo(30, 9);
  });

  it('bidirectional gives both axes', () => {
    const m = measure({ tool: 'Bidirectional', points: [[0, 0], [100, 0], [50, -10], [50, 10]] }, CT, 'CT', null);
    expect(m.longAxis).toBeCloseTo(70, 10);
    expect(m.shortAxis).toBeCloseTo(16, 10);
    expect(measurementLines('Bidirectional', m)).toEqual(['L 70.0 mm × W 16.0 mm']);
  });
});

describe('areas', () => {
  it('polygon (shoelace) and rectangle in mm²', () => {
    expect(polygonArea([[0, 0], [10, 0], [10, 20], [0, 20]], CT)).toBeCloseTo(10 * 0.7 * 20 * 0.8, 10);
    // a triangle, clockwise or not
    expect(polygonArea([[0, 0], [0, 10], [10, 0]], PX)).toBeCloseTo(50, 10);
    const rect = measure({ tool: 'RectangleROI', points: [[0, 0], [10, 0], [0, 20], [10, 20]] }, CT, 'CT', null);
    expect(rect.area).toBeCloseTo(112, 10);
    // corners in any order
    const rect2 = measure({ tool: 'RectangleROI', points: [[10, 20], [0, 0], [10, 0], [0, 20]] }, CT, 'CT', null);
    expect(rect2.area).toBeCloseTo(112, 10);
  });

  it('ellipse and circle areas in physical space', () => {
    // ellipse handles: bottom, top, left, right (semi-axes 20 px along y, 10 px along x)
    const e = measure({ tool: 'EllipticalROI', points: [[50, 70], [50, 30], [40, 50], [60, 50]] }, CT, 'CT', null);
    expect(e.area).toBeCloseTo(Math.PI * (20 * 0.8) * (10 * 0.7), 9);
    const c = measure({ tool: 'CircleROI', points: [[50, 50], [60, 50]] }, CT, 'CT', null);
    expect(c.area).toBeCloseTo(Math.PI * 7 * 7, 9); // radius 10 px × 0.7 mm
    expect(regionArea({ kind: 'circle', center: [0, 0], edge: [3, 4] }, PX)).toBeCloseTo(Math.PI * 25, 10);
  });

  it('point in polygon (even-odd)', () => {
    const sq: Pt[] = [[0, 0], [4, 0], [4, 4], [0, 4]];
    expect(insidePolygon([2, 2], sq)).toBe(true);
    expect(insidePolygon([5, 2], sq)).toBe(false);
  });
});

describe('ROI statistics', () => {
  // a 64×48 image of stored values; CT rescale 1, −1024
  const W = 64;
  const H = 48;
  const stored = new Int16Array(W * H);
  for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) stored[j * W + i] = (i * 37 + j * 101) % 400 + 900;
  const img = { pixels: stored, width: W, height: H, slope: 1, intercept: -1024 };

  /** Brute force over every pixel whose centre passes `inside`: the statistics in HU. */
  const brute = (inside: (x: number, y: number) => boolean) => {
    const v: number[] = [];
    for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) if (inside(i + 0.5, j + 0.5)) v.push(stored[j * W + i]! - 1024);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    return { count: v.length, mean, sd, min: Math.min(...v), max: Math.max(...v) };
  };
  const close = (got: ReturnType<typeof regionStats>, want: ReturnType<typeof brute>) => {
    expect(got).not.toBeNull();
    expect(got!.count).toBe(want.count);
    expect(got!.mean).toBeCloseTo(want.mean, 8);
    expect(got!.sd).toBeCloseTo(want.sd, 6);
    expect(got!.min).toBe(want.min);
    expect(got!.max).toBe(want.max);
  };

  it('rectangle: exactly the pixels inside, rescaled to HU', () => {
    close(regionStats({ kind: 'polygon', points: [[5, 6], [25, 6], [25, 30], [5, 30]] }, PX, img), brute((x, y) => x > 5 && x < 25 && y > 6 && y < 30));
  });

  it('ellipse with anisotropic spacing', () => {
    const r = { kind: 'ellipse' as const, center: [30, 24] as Pt, u: [0, 10] as Pt, v: [15, 0] as Pt };
    close(regionStats(r, CT, img), brute((x, y) => ((x - 30) / 15) ** 2 + ((y - 24) / 10) ** 2 <= 1));
  });

  it('circle: round in mm, not in pixels', () => {
    const r = { kind: 'circle' as const, center: [32, 24] as Pt, edge: [42, 24] as Pt }; // 7 mm
    close(regionStats(r, CT, img), brute((x, y) => Math.hypot((x - 32) * 0.7, (y - 24) * 0.8) <= 7));
  });

  it('freehand polygon', () => {
    const tri: Pt[] = [[2, 2], [40, 5], [10, 40]];
    close(regionStats({ kind: 'polygon', points: tri }, PX, img), brute((x, y) => insidePolygon([x, y], tri)));
  });

  it('an ROI outside the image has no statistics; pre-scaled pixels are not rescaled again', () => {
    expect(regionStats({ kind: 'polygon', points: [[100, 100], [110, 100], [110, 110]] }, PX, img)).toBeNull();
    const hu = Float32Array.from(stored, (v) => v - 1024);
    const a = regionStats({ kind: 'polygon', points: [[5, 6], [25, 6], [25, 30], [5, 30]] }, PX, { pixels: hu, width: W, height: H });
    close(a, brute((x, y) => x > 5 && x < 25 && y > 6 && y < 30));
  });

  it('measure() gives area, mean, SD, min, max in HU for CT, and the probe its pixel', () => {
    const m = measure({ tool: 'RectangleROI', points: [[5, 6], [25, 6], [5, 30], [25, 30]] }, CT, 'CT', img);
    const want = brute((x, y) => x > 5 && x < 25 && y > 6 && y < 30);
    expect(m.mean).toBeCloseTo(want.mean, 8);
    expect(m.valueUnit).toBe('HU');
    const lines = measurementLines('RectangleROI', m);
    expect(lines[0]).toBe(`Area ${(20 * 0.7 * 24 * 0.8).toFixed(1)} mm²`);
    expect(lines[1]).toBe(`Mean ${want.mean.toFixed(1)} HU · SD ${want.sd.toFixed(1)} HU`);
    expect(lines[2]).toBe(`Min ${want.min} HU · Max ${want.max} HU`);
    const probe = measure({ tool: 'Probe', points: [[3.2, 7.9]] }, CT, 'CT', img);
    expect(probe.value).toBe(stored[7 * W + 3]! - 1024);
    expect(measure({ tool: 'Probe', points: [[3, 7]] }, CT, 'MR', img).valueUnit).toBe('');
  });
});

describe('tool keys', () => {
  it('one key per tool, none taken by another shortcut of the viewer', () => {
    const keys = TOOL_INFO.map((t) => t.key);
    // the viewer's other keys (K: key images, Z: the panel; S: capture, Q/Y/J: priors and sync)
    const taken = ['i', 'h', 'v', 't', 'f', 'r', 'm', 'w', 'l', 'g', 'k', 'z', 's', 'q', 'y', 'j'];
    for (const k of keys) expect(taken).not.toContain(k);
    expect(new Set(TOOL_INFO.map((t) => `${t.shift ? 'Shift+' : ''}${t.key}`)).size).toBe(keys.length);
    expect(toolForKey('a')).toBe('Angle');
    expect(toolForKey('C')).toBe('CobbAngle');
    expect(toolForKey('d')).toBe('Length');
    expect(toolForKey('D')).toBe('Length');
    expect(toolForKey('s')).toBeNull();
    for (const t of TOOL_INFO) expect(toolForKey(t.shift ? t.key.toUpperCase() : t.key)).toBe(t.tool);
    const row = SHORTCUTS.find((s) => s.keys.includes('`D`'))!;
    for (const t of TOOL_INFO) expect(row.keys).toContain(`${t.shift ? 'Shift+' : ''}\`${t.key.toUpperCase()}\``);
  });
});

describe('undo/redo history', () => {
  const body = (uid: string, label: string): WireBody => ({
    annotationUid: uid,
    seriesInstanceUid: '1.2',
    sopInstanceUid: '1.2.3',
    frame: 1,
    tool: 'Length',
    label,
    data: { points: [[0, 0, 0], [1, 0, 0]], frameOfReferenceUID: '', viewPlaneNormal: null, viewUp: null, unitSource: 'pixels', stats: null },
  });

  it('undoes and redoes add, relabel and delete in order; a new change clears redo', () => {
    const h = new History();
    const a = body('a', '');
    const a2 = body('a', 'lesion');
    h.record({ uid: 'a', before: null, after: a });
    h.record({ uid: 'a', before: a, after: a2 });
    h.record({ uid: 'a', before: a2, after: null });
    expect(h.undo()).toEqual({ uid: 'a', before: null, after: a2 }); // the delete undone: back
    expect(h.undo()).toEqual({ uid: 'a', before: a2, after: a });
    expect(h.redo()).toEqual({ uid: 'a', before: a, after: a2 });
    expect(h.canRedo()).toBe(true);
    h.record({ uid: 'b', before: null, after: body('b', '') });
    expect(h.canRedo()).toBe(false);
    expect(h.redo()).toBeNull();
    h.clear();
    expect(h.undo()).toBeNull();
  });
});

describe('world to image coordinates', () => {
  it('uses the column spacing along a row and the row spacing down a column (non-square pixels, oblique plane)', () => {
    const c = Math.SQRT1_2;
    const plane = { imagePositionPatient: [10, 20, 30], rowCosines: [c, c, 0], columnCosines: [0, 0, -1], rowPixelSpacing: 0.8, columnPixelSpacing: 0.5 };
    // the centre of pixel (4, 7): 4 columns along the row (0.5 mm each), 7 rows down (0.8 mm each)
    const world = [10 + 4 * 0.5 * c, 20 + 4 * 0.5 * c, 30 - 7 * 0.8];
    const [x, y] = worldToImage(world, plane);
    expect(x).toBeCloseTo(4.5, 10);
    expect(y).toBeCloseTo(7.5, 10);
    // without geometry: the stack viewport's defaults (origin 0, axes x/y, 1 mm)
    expect(worldToImage([3, 4, 0], {})).toEqual([3.5, 4.5]);
  });
});
