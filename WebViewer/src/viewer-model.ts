// The viewer's pure parts (no cornerstone3D, no DOM), shared by the study page and the lazily loaded viewer:
// which series can be stacked, their cornerstone image IDs in the API's display order, thumbnails, the
// window presets of the number keys, the overlay's text, orientation markers, cine rates, the scale bar, the
// layouts (which series fills which viewport, the layout remembered per user) and the keyboard shortcut table
// (the "?" overlay; the README's table must equal it). Everything here is plain data in, plain data out;
// DICOM strings stay strings (the caller puts them into the DOM as text).

import type { Instance, Series, StudyDetail } from './api';
import { formatDateTime, formatPersonName } from './format';

export interface WindowLevel {
  center: number;
  width: number;
}

export interface Preset {
  /** The key that applies it ("0"–"6"). */
  key: string;
  name: string;
  /** null: the file's own window (what the image carried when it was loaded). */
  window: WindowLevel | null;
}

/**
 * Number-key presets (CT values in Hounsfield units). Bone is 1800/400, the same as the plugin's "bone"
 * preset of the PNG route (Plugin/image/render.c), so the two rendering paths agree.
 */
export const PRESETS: readonly Preset[] = [
  { key: '0', name: 'Default', window: null },
  { key: '1', name: 'Soft tissue', window: { center: 40, width: 400 } },
  { key: '2', name: 'Lung', window: { center: -600, width: 1500 } },
  { key: '3', name: 'Bone', window: { center: 400, width: 1800 } },
  { key: '4', name: 'Brain', window: { center: 40, width: 80 } },
  { key: '5', name: 'Abdomen', window: { center: 50, width: 350 } },
  { key: '6', name: 'Liver', window: { center: 30, width: 150 } },
];

export function presetForKey(key: string): Preset | null {
  return PRESETS.find((p) => p.key === key) ?? null;
}

/** DICOM's linear VOI (PS3.3 C.11.2.1.2.1) as cornerstone's voiRange: toLowHighRange(1500, -600) = -1350…149. */
export function voiRange(w: WindowLevel): { lower: number; upper: number } {
  const lower = w.center - 0.5 - (w.width - 1) / 2;
  const upper = w.center - 0.5 + (w.width - 1) / 2;
  return { lower, upper };
}

/** The inverse of voiRange. */
export function windowOf(range: { lower: number; upper: number }): WindowLevel {
  const width = range.upper - range.lower + 1;
  return { center: (range.upper + range.lower) / 2 + 0.5, width };
}

// SOP classes that are not images a stack viewport can show: SR, encapsulated documents, presentation
// states, waveforms, raw data, registrations, segmentations, surface/mesh, RT objects other than RT Image.
const NON_IMAGE_PREFIXES = [
  '1.2.840.10008.5.1.4.1.1.88.',
  '1.2.840.10008.5.1.4.1.1.104.',
  '1.2.840.10008.5.1.4.1.1.11.',
  '1.2.840.10008.5.1.4.1.1.9.',
  '1.2.840.10008.5.1.4.1.1.66',
  '1.2.840.10008.5.1.4.1.1.68.',
  '1.2.840.10008.5.1.4.1.1.481.2',
  '1.2.840.10008.5.1.4.1.1.481.3',
  '1.2.840.10008.5.1.4.1.1.481.4',
  '1.2.840.10008.5.1.4.1.1.481.5',
  '1.2.840.10008.5.1.4.1.1.481.6',
  '1.2.840.10008.5.1.4.1.1.481.7',
  '1.2.840.10008.5.1.4.1.1.481.8',
  '1.2.840.10008.5.1.4.1.1.481.9',
  '1.2.840.10008.5.1.4.34.',
];

/** Whether an instance is an image (an unknown or empty SOP class counts as one: the loader decides). */
export function isImageInstance(instance: Pick<Instance, 'sopClassUid'>): boolean {
  const uid = instance.sopClassUid;
  return !NON_IMAGE_PREFIXES.some((p) => uid.startsWith(p));
}

export function imageInstances(series: Series): Instance[] {
  return series.instances.filter(isImageInstance);
}

/** The first series (in the API's order) with at least one image, or null. */
export function firstImageSeries(study: Pick<StudyDetail, 'series'>): Series | null {
  return study.series.find((s) => imageInstances(s).length > 0) ?? null;
}

/** Orthanc's REST root ("http://host:8042/") from the app's API root ("/api/") and the page's URL. */
export function orthancRoot(apiRootUrl: string, pageUrl: string): string {
  return new URL('../', new URL(apiRootUrl, pageUrl)).href;
}

/** One image of a stack: the instance and its frame (0-based), and the cornerstone image ID. */
export interface StackImage {
  imageId: string;
  orthancId: string;
  sopInstanceUid: string;
  frame: number;
  /** Position along the slice normal in mm (slicePosition), null without geometry. */
  location: number | null;
}

/**
 * Where a slice lies along its normal (mm): Image Position (Patient) projected on row × column of Image
 * Orientation (Patient), the quantity the API's display order sorts by. null when either is missing or
 * malformed. For an axial slice this is its z.
 */
export function slicePosition(inst: Pick<Instance, 'imagePositionPatient' | 'imageOrientationPatient'>): number | null {
  const p = inst.imagePositionPatient;
  const o = inst.imageOrientationPatient;
  if (!p || !o || o.length !== 6 || ![...p, ...o].every(Number.isFinite)) return null;
  const [r0, r1, r2, c0, c1, c2] = o as [number, number, number, number, number, number];
  const n = [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0] as const;
  const len = Math.hypot(n[0], n[1], n[2]);
  if (len < 1e-6) return null;
  return (p[0] * n[0] + p[1] * n[1] + p[2] * n[2]) / len;
}

/**
 * The stack of a series in the API's display order: `wadouri:<root>instances/<orthancId>/file`, one per
 * frame (`?frame=N`, 1-based as the wadouri loader expects) for multi-frame instances.
 */
export function stackImages(series: Series, root: string): StackImage[] {
  const base = root.endsWith('/') ? root : `${root}/`;
  const out: StackImage[] = [];
  for (const inst of imageInstances(series)) {
    const location = inst.numberOfFrames > 1 ? null : slicePosition(inst);
    const file = `wadouri:${base}instances/${encodeURIComponent(inst.orthancId)}/file`;
    if (inst.numberOfFrames > 1) {
      for (let f = 0; f < inst.numberOfFrames; f++) {
        out.push({ imageId: `${file}?frame=${f + 1}`, orthancId: inst.orthancId, sopInstanceUid: inst.sopInstanceUid, frame: f, location });
      }
    } else {
      out.push({ imageId: file, orthancId: inst.orthancId, sopInstanceUid: inst.sopInstanceUid, frame: 0, location });
    }
  }
  return out;
}

/** The plugin's PNG of one frame (README "Rendered images"), optionally windowed and sized. */
export function pngUrl(apiRootUrl: string, orthancId: string, frame: number, opts: { size?: number; window?: WindowLevel } = {}): string {
  const root = apiRootUrl.endsWith('/') ? apiRootUrl : `${apiRootUrl}/`;
  const args: string[] = [];
  if (opts.window) args.push(`window=${opts.window.center},${opts.window.width}`);
  if (opts.size !== undefined) args.push(`size=${opts.size}`);
  return `${root}dicom/instances/${encodeURIComponent(orthancId)}/frames/${frame}/png${args.length ? `?${args.join('&')}` : ''}`;
}

/** The thumbnail of a series: its middle image, 64 px. null when the series has no image. */
export function thumbnailUrl(apiRootUrl: string, series: Series): string | null {
  const images = imageInstances(series);
  if (images.length === 0) return null;
  const mid = images[Math.floor(images.length / 2)]!;
  const frame = mid.numberOfFrames > 1 ? Math.floor(mid.numberOfFrames / 2) : 0;
  return pngUrl(apiRootUrl, mid.orthancId, frame, { size: 64 });
}

/** The series panel's lines: "#3 · CT · 134 images" and the description. */
export function seriesLabel(series: Series): { title: string; detail: string } {
  const n = stackCount(series);
  const parts = [series.seriesNumber === null ? '' : `#${series.seriesNumber}`, series.modality, `${n} image${n === 1 ? '' : 's'}`];
  return { title: series.seriesDescription || '(no description)', detail: parts.filter(Boolean).join(' · ') };
}

/** Number of images in the stack of a series (frames of multi-frame instances counted). */
export function stackCount(series: Series): number {
  return imageInstances(series).reduce((n, i) => n + Math.max(1, i.numberOfFrames), 0);
}

export interface OverlayState {
  index: number; // 0-based
  total: number;
  window: WindowLevel | null;
  /** Slice position (mm, slicePosition) and Slice Thickness (mm) of the shown image, when known. */
  location?: number | null;
  thickness?: number | null;
  /** Zoom relative to the fitted image (1 = fit). */
  zoom?: number | null;
}

const mm = (n: number): string => `${n.toFixed(1)} mm`;

function round(n: number): string {
  return String(Math.round(n));
}

/** The overlay's four text lines (top left: patient, study date; bottom left: series, image, W/L). */
export function overlayLines(study: Pick<StudyDetail, 'patientName' | 'studyDate' | 'studyTime'>, series: Series, state: OverlayState): {
  patient: string;
  date: string;
  series: string;
  image: string;
  window: string;
  position: string;
  zoom: string;
} {
  const loc = state.location ?? null;
  const thk = state.thickness ?? null;
  const position = [loc !== null && Number.isFinite(loc) ? `Loc ${mm(loc)}` : '', thk !== null && Number.isFinite(thk) && thk > 0 ? `Thk ${mm(thk)}` : '']
    .filter(Boolean)
    .join(' · ');
  const zoom = state.zoom != null && Number.isFinite(state.zoom) && state.zoom > 0 ? `Zoom ${Math.round(state.zoom * 100)}%` : '';
  return {
    patient: formatPersonName(study.patientName),
    date: formatDateTime(study.studyDate, study.studyTime),
    series: [series.seriesNumber === null ? '' : `Se ${series.seriesNumber}`, series.seriesDescription].filter(Boolean).join(': '),
    image: state.total > 0 ? `Im ${state.index + 1}/${state.total}` : 'No image',
    window: state.window ? `W ${round(state.window.width)} L ${round(state.window.center)}` : '',
    position,
    zoom,
  };
}

/** The next index after a navigation key, or null when the key does not navigate. */
export function navigate(key: string, index: number, total: number, page = 10): number | null {
  if (total <= 0) return null;
  let next: number;
  switch (key) {
    case 'ArrowDown':
    case 'ArrowRight':
      next = index + 1;
      break;
    case 'ArrowUp':
    case 'ArrowLeft':
      next = index - 1;
      break;
    case 'PageDown':
      next = index + page;
      break;
    case 'PageUp':
      next = index - page;
      break;
    case 'Home':
      next = 0;
      break;
    case 'End':
      next = total - 1;
      break;
    default:
      return null;
  }
  return Math.min(total - 1, Math.max(0, next));
}

export type Vec3 = readonly [number, number, number];

/**
 * A secondary axis enters an orientation label when its share of the direction is at least this (≈ 11.5°
 * off the main axis): nearly orthogonal planes (scanner rounding) keep one letter, real obliques get two or three.
 */
const OBLIQUE_MIN = 0.2;

/**
 * The orientation letters of a direction in the patient's LPS system (DICOM PS3.3 C.7.6.2.1.1): +x L / −x R,
 * +y P / −y A, +z H / −z F, the dominant axis first ("LA" for a direction mostly left and somewhat anterior),
 * up to three letters. "" for a zero or non-finite vector.
 */
export function orientationLabel(v: Vec3): string {
  const len = Math.hypot(v[0], v[1], v[2]);
  if (!Number.isFinite(len) || len < 1e-9) return '';
  const letters: Array<[number, string]> = [
    [v[0] / len, v[0] > 0 ? 'L' : 'R'],
    [v[1] / len, v[1] > 0 ? 'P' : 'A'],
    [v[2] / len, v[2] > 0 ? 'H' : 'F'],
  ];
  return letters
    .map(([c, l]) => [Math.abs(c), l] as [number, string])
    .sort((a, b) => b[0] - a[0])
    .filter(([c], i) => i === 0 || c >= OBLIQUE_MIN)
    .map(([, l]) => l)
    .join('');
}

export interface OrientationMarkers {
  top: string;
  bottom: string;
  left: string;
  right: string;
}

const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];

/** The markers of the four edges from the screen's right and down directions in patient space (LPS). */
export function markersOf(right: Vec3, down: Vec3): OrientationMarkers {
  return { top: orientationLabel(neg(down)), bottom: orientationLabel(down), left: orientationLabel(neg(right)), right: orientationLabel(right) };
}

export interface ViewTransform {
  /** Clockwise rotation of the image on screen in degrees (a multiple of 90). */
  rotation?: number;
  /** Mirrored left–right / top–bottom on screen, after the rotation. */
  flipHorizontal?: boolean;
  flipVertical?: boolean;
}

/**
 * Orientation markers of an image from its Image Orientation (Patient) (row direction, then column direction)
 * as shown: unrotated, the row direction points right and the column direction down; a clockwise rotation by
 * 90° brings the left edge to the top; flips mirror the screen. null without a usable orientation.
 */
export function orientationMarkers(iop: readonly number[] | null | undefined, view: ViewTransform = {}): OrientationMarkers | null {
  if (!iop || iop.length !== 6 || !iop.every(Number.isFinite)) return null;
  let right: Vec3 = [iop[0]!, iop[1]!, iop[2]!];
  let down: Vec3 = [iop[3]!, iop[4]!, iop[5]!];
  if (Math.hypot(...right) < 1e-6 || Math.hypot(...down) < 1e-6) return null;
  const quarter = ((Math.round((view.rotation ?? 0) / 90) % 4) + 4) % 4;
  for (let i = 0; i < quarter; i++) [right, down] = [neg(down), right]; // clockwise: old top goes right, old right goes down
  if (view.flipHorizontal) right = neg(right);
  if (view.flipVertical) down = neg(down);
  return markersOf(right, down);
}

/**
 * The same from a cornerstone3D camera: viewUp is the screen's up direction, viewPlaneNormal points from the
 * image towards the viewer, so right = viewUp × viewPlaneNormal and down = −viewUp. null for a degenerate camera.
 */
export function markersFromCamera(viewUp: Vec3, viewPlaneNormal: Vec3): OrientationMarkers | null {
  const [u0, u1, u2] = viewUp;
  const [n0, n1, n2] = viewPlaneNormal;
  const right: Vec3 = [u1 * n2 - u2 * n1, u2 * n0 - u0 * n2, u0 * n1 - u1 * n0];
  if (![...right, ...viewUp].every(Number.isFinite) || Math.hypot(...right) < 1e-6) return null;
  return markersOf(right, neg(viewUp));
}

/** Cine frame rate without a rate in the file (frames per second), and the range the control accepts. */
export const DEFAULT_FPS = 10;
export const MIN_FPS = 1;
export const MAX_FPS = 60;

export function clampFps(fps: number): number {
  if (!Number.isFinite(fps)) return DEFAULT_FPS;
  return Math.min(MAX_FPS, Math.max(MIN_FPS, Math.round(fps)));
}

/**
 * The cine rate a series starts with: Recommended Display Frame Rate (0008,2144), else Cine Rate
 * (0018,0040), else Frame Time (0018,1063, ms per frame), else DEFAULT_FPS; kept within MIN_FPS…MAX_FPS.
 */
export function cineFrameRate(tags: { recommendedDisplayFrameRate?: number | null; cineRate?: number | null; frameTimeMs?: number | null }): number {
  const ok = (n: number | null | undefined): n is number => n != null && Number.isFinite(n) && n > 0;
  if (ok(tags.recommendedDisplayFrameRate)) return clampFps(tags.recommendedDisplayFrameRate);
  if (ok(tags.cineRate)) return clampFps(tags.cineRate);
  if (ok(tags.frameTimeMs)) return clampFps(1000 / tags.frameTimeMs);
  return DEFAULT_FPS;
}

/** The next image of a playing cine: one on, back to the first after the last (looping). */
export function cineNext(index: number, total: number): number {
  if (total <= 0) return 0;
  return (index + 1) % total;
}

/** The spacing a scale bar measures with: mm per image pixel horizontally, and where it comes from. */
export interface ScaleSpacing {
  mmPerPixel: number;
  /** true: Imager Pixel Spacing (at the detector, projection radiographs), not Pixel Spacing (in the patient). */
  imager: boolean;
}

const spacingOk = (v: readonly number[] | null | undefined): v is readonly number[] =>
  !!v && v.length >= 2 && v.slice(0, 2).every((n) => Number.isFinite(n) && n > 0);

/**
 * Pixel Spacing (0028,0030), else Imager Pixel Spacing (0018,1164), as "row spacing\column spacing"; the
 * horizontal bar uses the column spacing (the second value). null when neither is usable: no bar.
 */
export function scaleSpacing(tags: { pixelSpacing?: readonly number[] | null; imagerPixelSpacing?: readonly number[] | null }): ScaleSpacing | null {
  if (spacingOk(tags.pixelSpacing)) return { mmPerPixel: tags.pixelSpacing[1]!, imager: false };
  if (spacingOk(tags.imagerPixelSpacing)) return { mmPerPixel: tags.imagerPixelSpacing[1]!, imager: true };
  return null;
}

export interface ScaleBar {
  /** Length of the bar on screen (CSS pixels) and what it stands for (mm). */
  px: number;
  mm: number;
  label: string;
}

/**
 * The longest "round" length (1, 2 or 5 × 10^k mm) whose bar fits in maxPx screen pixels at mmPerScreenPx
 * mm per screen pixel (which changes with zoom); labelled "N mm", or "N mm (imager)" for Imager Pixel
 * Spacing. null when the bar would be shorter than minPx or the inputs are not usable.
 */
export function scaleBar(mmPerScreenPx: number, maxPx: number, imager = false, minPx = 10): ScaleBar | null {
  if (!Number.isFinite(mmPerScreenPx) || mmPerScreenPx <= 0 || !Number.isFinite(maxPx) || maxPx < minPx) return null;
  const maxMm = maxPx * mmPerScreenPx;
  let exp = Math.floor(Math.log10(maxMm));
  let best = 0;
  for (; best === 0; exp--) {
    for (const m of [5, 2, 1]) {
      const len = m * 10 ** exp;
      if (len <= maxMm * (1 + 1e-9)) {
        best = len;
        break;
      }
    }
  }
  const mmLen = Number(best.toPrecision(6));
  const px = mmLen / mmPerScreenPx;
  if (px < minPx) return null;
  return { px, mm: mmLen, label: `${mmLen} mm${imager ? ' (imager)' : ''}` };
}

// ---- layouts (several stack viewports) ----

export type LayoutId = '1x1' | '1x2' | '2x1' | '2x2';

export interface Layout {
  id: LayoutId;
  rows: number;
  cols: number;
  /** The toolbar's label ("1×2": one row of two viewports). */
  label: string;
}

/** Rows × columns: "1×2" is two viewports side by side, "2×1" two above each other. */
export const LAYOUTS: readonly Layout[] = [
  { id: '1x1', rows: 1, cols: 1, label: '1×1' },
  { id: '1x2', rows: 1, cols: 2, label: '1×2' },
  { id: '2x1', rows: 2, cols: 1, label: '2×1' },
  { id: '2x2', rows: 2, cols: 2, label: '2×2' },
];

export const DEFAULT_LAYOUT: LayoutId = '1x1';

/** The layout of an id; an unknown, empty or missing id gives the default 1×1. */
export function layoutOf(id: string | null | undefined): Layout {
  return LAYOUTS.find((l) => l.id === id) ?? LAYOUTS[0]!;
}

export function viewportCount(layout: Layout): number {
  return layout.rows * layout.cols;
}

/**
 * The series shown by each of `count` viewports (series Instance UIDs, null: empty). Viewports keep what they
 * showed (`shown`, index by index; those beyond `count` are dropped); each empty one gets the next image series
 * in display order (`imageSeries`) not shown in any viewport, and stays empty when every series is shown.
 */
export function fillViewports(shown: readonly (string | null)[], count: number, imageSeries: readonly string[]): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < count; i++) out.push(shown[i] ?? null);
  const used = new Set(out.filter((u): u is string => u !== null));
  const next = imageSeries.filter((u) => !used.has(u));
  return out.map((u) => u ?? next.shift() ?? null);
}

const LAYOUT_KEY = 'rr.viewer.layout';

/** The localStorage key of a user's layout: per signed-in username ("open" mode without accounts shares one). */
export function layoutKey(username: string | null): string {
  return `${LAYOUT_KEY}.${encodeURIComponent(username ?? 'open')}`;
}

/** The user's remembered layout, the default when none is stored, storage is disabled or the value is unknown. */
export function loadLayout(storage: Pick<Storage, 'getItem'> | null, username: string | null): Layout {
  try {
    return layoutOf(storage?.getItem(layoutKey(username)));
  } catch {
    return layoutOf(null);
  }
}

/** Remembers the user's layout (nothing when storage is disabled or full). */
export function saveLayout(storage: Pick<Storage, 'setItem'> | null, username: string | null, id: LayoutId): void {
  try {
    storage?.setItem(layoutKey(username), id);
  } catch {
    /* storage disabled or full: the layout is not remembered */
  }
}

/** The viewport after `active` (key W): 0 → 1 → … → count−1 → 0. */
export function nextViewport(active: number, count: number): number {
  return count > 0 ? (active + 1) % count : 0;
}

// ---- keyboard shortcuts: one table for the "?" overlay and the README (a Vitest compares them) ----

export interface Shortcut {
  /** The input, as the README writes it (Markdown: keys in backticks). */
  keys: string;
  action: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: 'mouse wheel, ↑ ↓ (← →), PgUp PgDn (10 images), Home End, the scrollbar on the right', action: 'previous / next image' },
  { keys: '`Space`', action: 'play / pause cine (rate: the "Cine fps" control)' },
  { keys: 'left drag', action: 'window/level (with the magnifier on: the magnifying glass while held)' },
  { keys: 'middle drag', action: 'pan' },
  { keys: 'right drag, Ctrl+wheel', action: 'zoom' },
  {
    keys: '`1` … `6`',
    action: 'CT presets (W/L): soft tissue 400/40, lung 1500/−600, bone 1800/400 (the plugin\'s `bone` preset), brain 80/40, abdomen 350/50, liver 150/30',
  },
  { keys: '`0`', action: "the file's own window" },
  { keys: '`I`', action: 'invert' },
  { keys: '`H`, `V`', action: 'flip horizontally, vertically' },
  { keys: '`T`', action: 'rotate by 90° clockwise' },
  { keys: '`F`', action: 'fit the image to the viewport (zoom and pan only)' },
  { keys: '`R`', action: 'reset (window, invert, pan, zoom, flips, rotation)' },
  { keys: '`M`', action: 'magnifier on / off (left button held on the image shows it 3×)' },
  { keys: 'click a viewport, `W`', action: 'make it (the next one) the active viewport: keys and toolbar act on it' },
  { keys: 'click or drag a series', action: 'load it into the active viewport (or the one it is dropped on)' },
  { keys: '`L`', action: 'next layout (1×1, 1×2, 2×1, 2×2)' },
  { keys: '`G`', action: "tag browser: every tag of the active viewport's image, sequences expandable, search (`G` or `Esc` closes)" },
  { keys: '`Y`', action: 'linked scrolling on / off: series sharing a frame of reference follow the scrolled one to the slice at the same position (on by default)' },
  { keys: '`Q`', action: 'link / unlink the prior by position: the offset between the slices shown now is kept (align, then link)' },
  { keys: '`J`', action: 'reference lines on / off: the active slice as a line on the other viewports of its frame of reference' },
  { keys: 'click a prior', action: 'open it beside the current study (1×2, the best matching series); its series listed under it; Close prior returns' },
  { keys: '`S`, Shift+`S`', action: 'capture the active viewport as PNG: the image only, no patient data (Shift or "with overlays": the overlay texts too); audited' },
  { keys: '`D`, `A`, `C`, `B`, `E`, `X`, `O`, `U`, `P`, `N`', action: 'measurement tool on the left button: length, angle, Cobb angle, bidirectional, ellipse / rectangle / circle / freehand ROI, probe, arrow with text (the same key again, `Esc` or the W/L button: back to window/level)' },
  { keys: '`K`', action: 'mark / unmark the shown image as a key image (a star on the viewport)' },
  { keys: '`Z`', action: "measurement panel: the study's measurements and key images (click: show it; Label, Delete for your own)" },
  { keys: '`Delete`', action: 'delete the selected measurement (your own)' },
  { keys: 'Ctrl+Z; Ctrl+Shift+Z, Ctrl+Y', action: 'undo; redo (adding, moving, relabelling, deleting your measurements)' },
  { keys: '`?`', action: 'this list of shortcuts (`Esc` closes it)' },
];

/** A shortcut's input as plain text for the overlay (the README's backticks removed). */
export function shortcutText(s: Shortcut): { keys: string; action: string } {
  const plain = (t: string): string => t.replace(/`/g, '');
  return { keys: plain(s.keys), action: plain(s.action) };
}

/** The next layout in LAYOUTS order (key L), wrapping around. */
export function nextLayout(id: LayoutId): Layout {
  const i = LAYOUTS.findIndex((l) => l.id === id);
  return LAYOUTS[(i + 1) % LAYOUTS.length]!;
}
