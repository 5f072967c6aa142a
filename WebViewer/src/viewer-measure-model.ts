// The measurement tools' pure parts (no cornerstone3D, no DOM): which tools exist, their keys, which spacing a
// measurement uses (Pixel Spacing; Imager Pixel Spacing for projection radiographs, saying so; pixels, saying
// so, when neither exists), the maths (lengths, angles, bidirectional axes, areas, and the statistics of the
// pixels inside an ROI in the modality's units — HU for CT after the rescale) and the text shown for a value.
//
// Coordinates here are image pixel coordinates as cornerstone's worldToImageCoords gives them: [x, y] with
// x along a row (column index) and y down the columns (row index), the centre of pixel (i, j) at
// (i + 0.5, j + 0.5). Physical positions are x·columnSpacing, y·rowSpacing (DICOM Pixel Spacing is "row
// spacing\column spacing": the first value is the distance between rows, i.e. along y).

export const MEASURE_TOOLS = [
  'Length',
  'Angle',
  'CobbAngle',
  'Bidirectional',
  'EllipticalROI',
  'RectangleROI',
  'CircleROI',
  'PlanarFreehandROI',
  'Probe',
  'ArrowAnnotate',
] as const;
export type MeasureTool = (typeof MEASURE_TOOLS)[number];

export function isMeasureTool(name: unknown): name is MeasureTool {
  return typeof name === 'string' && (MEASURE_TOOLS as readonly string[]).includes(name);
}

export interface ToolInfo {
  tool: MeasureTool;
  /** The key that selects it (lower case; the README writes it upper case), with Shift when `shift`. */
  key: string;
  shift?: boolean;
  /** Toolbar label and the tool's name in the panel. */
  label: string;
  title: string;
}

/** The tools in toolbar order with their keys (none clashes with viewer-model.ts SHORTCUTS). */
export const TOOL_INFO: readonly ToolInfo[] = [
  { tool: 'Length', key: 'd', label: 'Length', title: 'Length (distance) on the left button (D)' },
  { tool: 'Angle', key: 'a', label: 'Angle', title: 'Angle of three points (A)' },
  { tool: 'CobbAngle', key: 'c', label: 'Cobb', title: 'Cobb angle between two lines (C)' },
  { tool: 'Bidirectional', key: 'b', label: 'Bidir.', title: 'Bidirectional: long and short axis (B)' },
  { tool: 'EllipticalROI', key: 'e', label: 'Ellipse', title: 'Elliptical ROI: mean, SD, min, max, area (E)' },
  { tool: 'RectangleROI', key: 'x', label: 'Rect.', title: 'Rectangle ROI: mean, SD, min, max, area (X)' },
  { tool: 'CircleROI', key: 'o', label: 'Circle', title: 'Circle ROI: mean, SD, min, max, area (O)' },
  { tool: 'PlanarFreehandROI', key: 'u', label: 'Freehand', title: 'Freehand ROI: mean, SD, min, max, area (U)' },
  { tool: 'Probe', key: 'p', label: 'Probe', title: 'Probe: the pixel value at a point (P)' },
  { tool: 'ArrowAnnotate', key: 'n', label: 'Arrow', title: 'Arrow with a text note (N)' },
];

/** The tool of a key event's `key` ("d" or "D": Length; a tool marked `shift` only with Shift), or null. */
export function toolForKey(key: string): MeasureTool | null {
  const shifted = TOOL_INFO.find((t) => t.shift && key === t.key.toUpperCase());
  if (shifted) return shifted.tool;
  return TOOL_INFO.find((t) => !t.shift && t.key === key.toLowerCase())?.tool ?? null;
}

export function toolLabel(tool: string): string {
  const names: Record<MeasureTool, string> = {
    Length: 'Length',
    Angle: 'Angle',
    CobbAngle: 'Cobb angle',
    Bidirectional: 'Bidirectional',
    EllipticalROI: 'Ellipse ROI',
    RectangleROI: 'Rectangle ROI',
    CircleROI: 'Circle ROI',
    PlanarFreehandROI: 'Freehand ROI',
    Probe: 'Probe',
    ArrowAnnotate: 'Arrow',
  };
  return isMeasureTool(tool) ? names[tool] : tool;
}

// ---- units ----

export type UnitSource = 'PixelSpacing' | 'ImagerPixelSpacing' | 'pixels';

/** mm per pixel between rows (along y) and between columns (along x), and where they come from. */
export interface Spacing {
  row: number;
  col: number;
  source: UnitSource;
}

const usable = (v: readonly number[] | null | undefined): v is readonly number[] =>
  !!v && v.length >= 2 && v.slice(0, 2).every((n) => Number.isFinite(n) && n > 0);

/**
 * The spacing measurements use: Pixel Spacing (0028,0030) — in the patient; else Imager Pixel Spacing
 * (0018,1164) — at the detector, the case of projection radiographs (CR, DX, MG, …) without a calibration;
 * else 1 (values in pixels).
 */
export function spacingOf(tags: { pixelSpacing?: readonly number[] | null; imagerPixelSpacing?: readonly number[] | null }): Spacing {
  if (usable(tags.pixelSpacing)) return { row: tags.pixelSpacing[0]!, col: tags.pixelSpacing[1]!, source: 'PixelSpacing' };
  if (usable(tags.imagerPixelSpacing)) return { row: tags.imagerPixelSpacing[0]!, col: tags.imagerPixelSpacing[1]!, source: 'ImagerPixelSpacing' };
  return { row: 1, col: 1, source: 'pixels' };
}

export function lengthUnit(s: Pick<Spacing, 'source'>): string {
  return s.source === 'pixels' ? 'px' : 'mm';
}

export function areaUnit(s: Pick<Spacing, 'source'>): string {
  return s.source === 'pixels' ? 'px²' : 'mm²';
}

/** The note a value carries when it is not in the patient's mm. */
export function unitNote(source: UnitSource): string {
  if (source === 'ImagerPixelSpacing') return 'at the detector (Imager Pixel Spacing)';
  if (source === 'pixels') return 'in pixels (no pixel spacing)';
  return '';
}

/** The unit of pixel values: HU for CT (after Rescale Slope/Intercept), none otherwise. */
export function valueUnit(modality: string): string {
  return modality.toUpperCase() === 'CT' ? 'HU' : '';
}

// ---- geometry ----

export type Pt = readonly [number, number];

/** Where an image lies in the patient (cornerstone's imagePlaneModule; missing parts as the stack viewport defaults them). */
export interface ImagePlane {
  imagePositionPatient?: readonly number[] | null;
  /** Direction of a row (x on screen) and of a column (y). */
  rowCosines?: readonly number[] | null;
  columnCosines?: readonly number[] | null;
  /** mm between rows (along y) and between columns (along x), as the viewport placed the image. */
  rowPixelSpacing?: number | null;
  columnPixelSpacing?: number | null;
}

/**
 * Image coordinates of a world point (LPS mm) on an image: x along a row in columns, y down a column in rows,
 * the centre of pixel (i, j) at (i + 0.5, j + 0.5). (cornerstone's worldToImageCoords divides x by the row
 * spacing, which is wrong for non-square pixels.)
 */
export function worldToImage(p: readonly number[], plane: ImagePlane): Pt {
  const o = plane.imagePositionPatient?.length === 3 ? plane.imagePositionPatient : [0, 0, 0];
  const r = plane.rowCosines?.length === 3 ? plane.rowCosines : [1, 0, 0];
  const c = plane.columnCosines?.length === 3 ? plane.columnCosines : [0, 1, 0];
  const sx = plane.columnPixelSpacing && plane.columnPixelSpacing > 0 ? plane.columnPixelSpacing : 1;
  const sy = plane.rowPixelSpacing && plane.rowPixelSpacing > 0 ? plane.rowPixelSpacing : 1;
  const d = [p[0]! - o[0]!, p[1]! - o[1]!, p[2]! - o[2]!];
  return [(d[0]! * r[0]! + d[1]! * r[1]! + d[2]! * r[2]!) / sx + 0.5, (d[0]! * c[0]! + d[1]! * c[1]! + d[2]! * c[2]!) / sy + 0.5];
}

const phys = (p: Pt, s: Spacing): Pt => [p[0] * s.col, p[1] * s.row];

export function distance(a: Pt, b: Pt, s: Spacing): number {
  const [ax, ay] = phys(a, s);
  const [bx, by] = phys(b, s);
  return Math.hypot(bx - ax, by - ay);
}

/** The angle at `vertex` between the rays to a and c, in degrees (0…180), in physical space. */
export function angleAt(a: Pt, vertex: Pt, c: Pt, s: Spacing): number {
  const [ax, ay] = phys(a, s);
  const [vx, vy] = phys(vertex, s);
  const [cx, cy] = phys(c, s);
  return angleBetween([ax - vx, ay - vy], [cx - vx, cy - vy]);
}

function angleBetween(u: Pt, v: Pt): number {
  const nu = Math.hypot(u[0], u[1]);
  const nv = Math.hypot(v[0], v[1]);
  if (nu === 0 || nv === 0) return NaN;
  const cos = Math.min(1, Math.max(-1, (u[0] * v[0] + u[1] * v[1]) / (nu * nv)));
  return (Math.acos(cos) * 180) / Math.PI;
}

/** The Cobb angle: the angle between two lines (a1→a2, b1→b2), 0…90°, as the lines' directions do not matter. */
export function cobbAngle(a1: Pt, a2: Pt, b1: Pt, b2: Pt, s: Spacing): number {
  const [p, q, r, t] = [phys(a1, s), phys(a2, s), phys(b1, s), phys(b2, s)];
  const deg = angleBetween([q[0] - p[0], q[1] - p[1]], [t[0] - r[0], t[1] - r[1]]);
  return deg > 90 ? 180 - deg : deg;
}

/** Area of a simple polygon (shoelace) in physical units². */
export function polygonArea(points: readonly Pt[], s: Spacing): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    sum += x1 * y2 - x2 * y1;
  }
  return (Math.abs(sum) / 2) * s.row * s.col;
}

/** Area of an ellipse of semi-axes a and b. */
export function ellipseArea(a: number, b: number): number {
  return Math.PI * a * b;
}

/** Whether a point lies inside a polygon (even-odd rule). */
export function insidePolygon(p: Pt, poly: readonly Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// ---- regions ----

/** A region in image coordinates: the shapes of the ROI tools. */
export type Region =
  | { kind: 'polygon'; points: readonly Pt[] }
  /** An ellipse given by its centre and two perpendicular semi-axis vectors (image coordinates). */
  | { kind: 'ellipse'; center: Pt; u: Pt; v: Pt }
  /** A circle in physical space: centre and a point on the circle (image coordinates). */
  | { kind: 'circle'; center: Pt; edge: Pt };

/** Bounding box of a region in image coordinates. */
function boundsOf(r: Region, s: Spacing): [number, number, number, number] {
  if (r.kind === 'polygon') {
    const xs = r.points.map((p) => p[0]);
    const ys = r.points.map((p) => p[1]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }
  if (r.kind === 'ellipse') {
    const ex = Math.hypot(r.u[0], r.v[0]);
    const ey = Math.hypot(r.u[1], r.v[1]);
    return [r.center[0] - ex, r.center[1] - ey, r.center[0] + ex, r.center[1] + ey];
  }
  const rad = distance(r.center, r.edge, s);
  return [r.center[0] - rad / s.col, r.center[1] - rad / s.row, r.center[0] + rad / s.col, r.center[1] + rad / s.row];
}

function insideTest(r: Region, s: Spacing): (p: Pt) => boolean {
  if (r.kind === 'polygon') return (p) => insidePolygon(p, r.points);
  if (r.kind === 'ellipse') {
    const uu = r.u[0] * r.u[0] + r.u[1] * r.u[1];
    const vv = r.v[0] * r.v[0] + r.v[1] * r.v[1];
    return (p) => {
      const dx = p[0] - r.center[0];
      const dy = p[1] - r.center[1];
      const a = (dx * r.u[0] + dy * r.u[1]) / uu;
      const b = (dx * r.v[0] + dy * r.v[1]) / vv;
      return uu > 0 && vv > 0 && a * a + b * b <= 1;
    };
  }
  const rad = distance(r.center, r.edge, s);
  return (p) => distance(r.center, p, s) <= rad;
}

/** Area of a region in physical units² (exact for the shape, not a pixel count). */
export function regionArea(r: Region, s: Spacing): number {
  if (r.kind === 'polygon') return polygonArea(r.points, s);
  if (r.kind === 'ellipse') {
    const pu: Pt = [r.u[0] * s.col, r.u[1] * s.row];
    const pv: Pt = [r.v[0] * s.col, r.v[1] * s.row];
    return ellipseArea(Math.hypot(pu[0], pu[1]), Math.hypot(pv[0], pv[1]));
  }
  const rad = distance(r.center, r.edge, s);
  return Math.PI * rad * rad;
}

/** Pixel values of an image: what cornerstone's image gives (getPixelData, columns, rows, rescale). */
export interface PixelSource {
  pixels: ArrayLike<number>;
  width: number;
  height: number;
  /** Applied to each stored value (modality LUT): value·slope + intercept; omit when already applied. */
  slope?: number;
  intercept?: number;
}

export interface RegionStats {
  /** Pixels whose centre lies inside the region. */
  count: number;
  mean: number;
  /** Population standard deviation. */
  sd: number;
  min: number;
  max: number;
}

/** Mean, SD, min and max of the pixels whose centres lie inside the region (in rescaled values); null if none. */
export function regionStats(r: Region, s: Spacing, img: PixelSource): RegionStats | null {
  const [x0, y0, x1, y1] = boundsOf(r, s);
  const inside = insideTest(r, s);
  const slope = img.slope ?? 1;
  const intercept = img.intercept ?? 0;
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  let min = Infinity;
  let max = -Infinity;
  const iMin = Math.max(0, Math.floor(x0));
  const iMax = Math.min(img.width - 1, Math.ceil(x1));
  const jMin = Math.max(0, Math.floor(y0));
  const jMax = Math.min(img.height - 1, Math.ceil(y1));
  for (let j = jMin; j <= jMax; j++) {
    for (let i = iMin; i <= iMax; i++) {
      if (!inside([i + 0.5, j + 0.5])) continue;
      const v = img.pixels[j * img.width + i]! * slope + intercept;
      n++;
      sum += v;
      sumSq += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (n === 0) return null;
  const mean = sum / n;
  return { count: n, mean, sd: Math.sqrt(Math.max(0, sumSq / n - mean * mean)), min, max };
}

/** The value of the pixel under a point (rescaled), null outside the image. */
export function probeValue(p: Pt, img: PixelSource): number | null {
  const i = Math.floor(p[0]);
  const j = Math.floor(p[1]);
  if (i < 0 || j < 0 || i >= img.width || j >= img.height) return null;
  return img.pixels[j * img.width + i]! * (img.slope ?? 1) + (img.intercept ?? 0);
}

// ---- one annotation's values ----

/** What a tool measured; every length in `unit`, areas in `areaUnit`, pixel values in `valueUnit`. */
export interface Measurement {
  length?: number | undefined;
  angle?: number | undefined;
  longAxis?: number | undefined;
  shortAxis?: number | undefined;
  area?: number | undefined;
  mean?: number | undefined;
  sd?: number | undefined;
  min?: number | undefined;
  max?: number | undefined;
  value?: number | undefined;
  unit: string;
  areaUnit: string;
  valueUnit: string;
  unitSource: UnitSource;
}

/** The geometry of one annotation in image coordinates, as the tools keep it. */
export interface ToolGeometry {
  tool: MeasureTool;
  /** handles.points (image coordinates); for the freehand ROI its polyline. */
  points: readonly Pt[];
}

/**
 * The region of an ROI tool from its handle points (cornerstone's order): ellipse top, bottom, left, right;
 * rectangle top-left, top-right, bottom-left, bottom-right; circle centre, edge; freehand the polyline.
 */
export function regionOf(g: ToolGeometry): Region | null {
  const p = g.points;
  switch (g.tool) {
    case 'EllipticalROI': {
      if (p.length < 4) return null;
      const [top, bottom, left, right] = p as [Pt, Pt, Pt, Pt];
      const center: Pt = [(top[0] + bottom[0]) / 2, (top[1] + bottom[1]) / 2];
      return { kind: 'ellipse', center, u: [top[0] - center[0], top[1] - center[1]], v: [right[0] - (left[0] + right[0]) / 2, right[1] - (left[1] + right[1]) / 2] };
    }
    case 'RectangleROI':
      return p.length < 4 ? null : { kind: 'polygon', points: aroundCentre(p.slice(0, 4)) };
    case 'CircleROI':
      return p.length < 2 ? null : { kind: 'circle', center: p[0]!, edge: p[1]! };
    case 'PlanarFreehandROI':
      return p.length < 3 ? null : { kind: 'polygon', points: p };
    default:
      return null;
  }
}

/** Points ordered by their angle around their centroid (the corners of a rectangle in any order → its outline). */
function aroundCentre(points: readonly Pt[]): Pt[] {
  const cx = points.reduce((a, p) => a + p[0], 0) / points.length;
  const cy = points.reduce((a, p) => a + p[1], 0) / points.length;
  return [...points].sort((a, b) => Math.atan2(a[1] - cy, a[0] - cx) - Math.atan2(b[1] - cy, b[0] - cx));
}

const finite = (n: number): number | undefined => (Number.isFinite(n) ? n : undefined);

/** Measures one annotation; `img` (the image's pixels) is needed for ROI statistics and the probe. */
export function measure(g: ToolGeometry, s: Spacing, modality: string, img: PixelSource | null): Measurement {
  const out: Measurement = { unit: lengthUnit(s), areaUnit: areaUnit(s), valueUnit: valueUnit(modality), unitSource: s.source };
  const p = g.points;
  switch (g.tool) {
    case 'Length':
      if (p.length >= 2) out.length = finite(distance(p[0]!, p[1]!, s));
      break;
    case 'Angle':
      if (p.length >= 3) out.angle = finite(angleAt(p[0]!, p[1]!, p[2]!, s));
      break;
    case 'CobbAngle':
      if (p.length >= 4) out.angle = finite(cobbAngle(p[0]!, p[1]!, p[2]!, p[3]!, s));
      break;
    case 'Bidirectional':
      if (p.length >= 4) {
        out.longAxis = finite(distance(p[0]!, p[1]!, s));
        out.shortAxis = finite(distance(p[2]!, p[3]!, s));
      }
      break;
    case 'Probe':
      if (p.length >= 1 && img) {
        const v = probeValue(p[0]!, img);
        if (v !== null) out.value = v;
      }
      break;
    case 'ArrowAnnotate':
      break;
    default: {
      const region = regionOf(g);
      if (!region) break;
      out.area = finite(regionArea(region, s));
      const st = img ? regionStats(region, s, img) : null;
      if (st) Object.assign(out, { mean: st.mean, sd: st.sd, min: st.min, max: st.max });
    }
  }
  return out;
}

// ---- text ----

const fix = (n: number, digits: number): string => (Object.is(Number(n.toFixed(digits)), -0) ? (0).toFixed(digits) : n.toFixed(digits));
const withUnit = (n: number, unit: string, digits = 1): string => (unit ? `${fix(n, digits)} ${unit}` : fix(n, digits));

/**
 * The lines of a measurement (drawn beside the annotation and shown in the panel): "12.3 mm", "Area 123.4 mm²",
 * "Mean 40.1 HU · SD 10.2 HU", "Min … · Max …"; a value not in the patient's mm carries the note of unitNote.
 */
export function measurementLines(tool: string, m: Measurement): string[] {
  const lines: string[] = [];
  if (m.length !== undefined) lines.push(withUnit(m.length, m.unit));
  if (m.angle !== undefined) lines.push(`${fix(m.angle, 1)}°`);
  if (m.longAxis !== undefined && m.shortAxis !== undefined) lines.push(`L ${withUnit(m.longAxis, m.unit)} × W ${withUnit(m.shortAxis, m.unit)}`);
  if (m.area !== undefined) lines.push(`Area ${withUnit(m.area, m.areaUnit)}`);
  if (m.mean !== undefined && m.sd !== undefined) lines.push(`Mean ${withUnit(m.mean, m.valueUnit)} · SD ${withUnit(m.sd, m.valueUnit)}`);
  if (m.min !== undefined && m.max !== undefined) lines.push(`Min ${withUnit(m.min, m.valueUnit, 0)} · Max ${withUnit(m.max, m.valueUnit, 0)}`);
  if (m.value !== undefined) lines.push(withUnit(m.value, m.valueUnit, 0));
  const usesLength = m.length !== undefined || m.longAxis !== undefined || m.area !== undefined;
  const note = unitNote(m.unitSource);
  if (usesLength && note && tool !== 'ArrowAnnotate') lines.push(note);
  return lines;
}

/** The panel's one-line value of a measurement. */
export function measurementSummary(tool: string, m: Measurement): string {
  return measurementLines(tool, m).join(' · ');
}
