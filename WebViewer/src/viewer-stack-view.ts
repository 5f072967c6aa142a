// One meaning for the view operations of a 2D stack viewport, whichever pipeline draws it (issue 10):
// cornerstone 5.14's WebGL pipeline, or its CPU pipeline (viewer-stack-rendering.ts chooses it where WebGL
// itself runs on the CPU). The CPU pipeline differs from the WebGL one in these ways, which this module evens out:
//
// - zoom and pan: its getZoom/setZoom are canvas pixels per image pixel, and its setPan takes world
//   coordinates; the viewer's zoom (and WebGL's) is relative to the fitted image, 1 = the whole image fits.
//   viewZoom converts with the fit scale (fitScale: the one cornerstone's CPU reset uses); fitView fits.
// - flips: the CPU pipeline mirrors the image before rotating it; the viewer's H and V keys mirror the screen.
//   After a rotation by 90° or 270° a screen mirror is the image's other axis (screenFlipAxis, flipScreen).
// - reset: its resetCamera keeps the rotation and the camera's flip fields; resetView clears both.
// - orientation: its camera's viewUp ignores flips. screenMarkers reads the screen's right and down directions
//   in patient space from canvasToWorld, exact in both pipelines.
// - the viewport instance itself (adaptCpuStackViewport, applied by viewer-stack-rendering.ts to every CPU
//   stack viewport, the magnifying glass's included): from image to image it keeps showing the user's window
//   but reports each new image's own, and keeps the first image's window when the user has set none (WebGL
//   shows each image's own); it draws a SIGMOID VOI LUT Function linearly (sigmoidLut gives it the table);
//   it throws on a VOI LUT Function set through setProperties; before its first image its camera and
//   world–canvas mappings throw inside cornerstone's tools.
//
// Both pipelines: cornerstone's image loader keeps only the first letter of a wadouri file's VOI LUT Function;
// watchVoiLutFunction gives every loaded image the whole value back.
//
// Contract: every view function takes a stack viewport of either pipeline and leaves a WebGL one to
// cornerstone's own behaviour. The CPU adaptations read cornerstone's CPU state (`_cpuFallbackEnabledElement`)
// and replace instance methods: tied to the pinned @cornerstonejs version (package.json), checked by
// Tests/browser/viewer.test.mjs (the page's choice) and viewer-webgl.test.mjs (WebGL forced), and for SIGMOID
// by viewer-loading.test.mjs in both. Pure helpers (fitScale, screenFlipAxis, markersFromPoints, sigmoidLut,
// voiLutFunctionName) carry the arithmetic and are unit-tested (test/viewer-stack-view.test.ts).

import { Enums, eventTarget, metaData, type Types } from '@cornerstonejs/core';
import { markersOf, type OrientationMarkers, type Vec3 } from './viewer-model';

interface CpuImage {
  columns: number;
  rows: number;
  rowPixelSpacing?: number;
  columnPixelSpacing?: number;
}

interface CpuViewportState {
  scale?: number;
  rotation?: number;
  hflip?: boolean;
  vflip?: boolean;
  voi?: unknown;
}

/** The parts of cornerstone's StackViewport in CPU mode this module uses (not in its public types). */
interface CpuStack {
  useCPURendering?: boolean;
  voiUpdatedWithSetProperties?: boolean;
  voiRange?: Types.VOIRange;
  flipHorizontal?: boolean;
  flipVertical?: boolean;
  setVOI?: (range: Types.VOIRange | undefined, options?: { voiUpdatedWithSetProperties?: boolean }) => void;
  _updateToDisplayImageCPU?: (image: unknown) => void;
  _cpuFallbackEnabledElement?: { canvas?: HTMLCanvasElement; image?: CpuImage; viewport?: CpuViewportState };
}

const cpuOf = (vp: Types.IStackViewport): CpuStack | null => {
  const s = vp as unknown as CpuStack;
  return s.useCPURendering === true ? s : null;
};

/**
 * The scale (canvas pixels per image pixel) at which an image fits the canvas, as cornerstone's CPU reset
 * computes it (getImageFitScale, rotation 0): non-square pixels stretch the axis with the larger spacing.
 */
export function fitScale(canvasWidth: number, canvasHeight: number, image: CpuImage): number {
  const row = image.rowPixelSpacing || 1;
  const col = image.columnPixelSpacing || 1;
  const horizontalRatio = row < col ? col / row : 1;
  const verticalRatio = row < col ? 1 : row / col;
  return Math.min(canvasWidth / image.columns / horizontalRatio, canvasHeight / image.rows / verticalRatio);
}

/**
 * The image axis the CPU pipeline must mirror so that the screen mirrors along `screen` ("h": left–right,
 * "v": top–bottom) under a clockwise rotation in degrees: the same axis at 0° and 180°, the other at 90° and 270°.
 */
export function screenFlipAxis(screen: 'h' | 'v', rotation: number): 'h' | 'v' {
  const quarter = ((Math.round(rotation / 90) % 4) + 4) % 4;
  if (quarter % 2 === 0) return screen;
  return screen === 'h' ? 'v' : 'h';
}

/**
 * Orientation markers from three points in patient space: the world position of the viewport's centre, of a
 * point to its right and of a point below it. null when the points do not span a plane.
 */
export function markersFromPoints(centre: Vec3, rightOf: Vec3, below: Vec3): OrientationMarkers | null {
  const right: Vec3 = [rightOf[0] - centre[0], rightOf[1] - centre[1], rightOf[2] - centre[2]];
  const down: Vec3 = [below[0] - centre[0], below[1] - centre[1], below[2] - centre[2]];
  if (![...right, ...down].every(Number.isFinite) || Math.hypot(...right) < 1e-9 || Math.hypot(...down) < 1e-9) return null;
  return markersOf(right, down);
}

function cpuFit(s: CpuStack): number | null {
  const el = s._cpuFallbackEnabledElement;
  if (!el?.canvas || !el.image || !(el.image.columns > 0) || !(el.image.rows > 0)) return null;
  const f = fitScale(el.canvas.width, el.canvas.height, el.image);
  return Number.isFinite(f) && f > 0 ? f : null;
}

/** The zoom relative to the fitted image (1 = the whole image fits), in either pipeline. */
export function viewZoom(vp: Types.IStackViewport): number {
  const s = cpuOf(vp);
  if (!s) return vp.getZoom();
  const fit = cpuFit(s);
  return fit ? vp.getZoom() / fit : vp.getZoom();
}

/** Fit: the whole image in the viewport, centred (zoom 1, no pan); the rotation and the flips stay. */
export function fitView(vp: Types.IStackViewport): void {
  const s = cpuOf(vp);
  if (!s) {
    vp.setPan([0, 0]);
    vp.setZoom(1);
    return;
  }
  // the CPU pipeline's setPan takes world coordinates: reset its camera (scale and translation, and the flips,
  // which are put back; the rotation stays)
  const state = s._cpuFallbackEnabledElement?.viewport;
  const flips = { flipHorizontal: state?.hflip === true, flipVertical: state?.vflip === true };
  vp.resetCamera();
  vp.setCamera(flips);
}

/** Mirrors the screen left–right ("h") or top–bottom ("v"), whatever the rotation. */
export function flipScreen(vp: Types.IStackViewport, screen: 'h' | 'v'): void {
  const s = cpuOf(vp);
  if (!s) {
    const cam = vp.getCamera();
    vp.setCamera(screen === 'h' ? { flipHorizontal: !cam.flipHorizontal } : { flipVertical: !cam.flipVertical });
    return;
  }
  const state = s._cpuFallbackEnabledElement?.viewport;
  const axis = screenFlipAxis(screen, state?.rotation ?? 0);
  vp.setCamera(axis === 'h' ? { flipHorizontal: !state?.hflip } : { flipVertical: !state?.vflip });
}

/** Back to the fitted, centred, unrotated and unmirrored view (the window is resetProperties' concern). */
export function resetView(vp: Types.IStackViewport): void {
  vp.resetCamera();
  if (!cpuOf(vp)) return;
  // cornerstone's CPU reset clears the drawn flips but neither the rotation nor the camera's flip fields
  vp.setViewPresentation({ rotation: 0 });
  vp.setCamera({ flipHorizontal: false, flipVertical: false });
}

/** The orientation markers of what the viewport shows now, from its canvas-to-world mapping (either pipeline). */
export function screenMarkers(vp: Types.IStackViewport, width: number, height: number): OrientationMarkers | null {
  if (!(width > 2) || !(height > 2)) return null;
  const cx = width / 2;
  const cy = height / 2;
  const at = (x: number, y: number): Vec3 | null => {
    const w = vp.canvasToWorld([x, y] as Types.Point2);
    return w && w.length === 3 ? [w[0], w[1], w[2]] : null;
  };
  const c = at(cx, cy);
  const r = at(cx + 1, cy);
  const d = at(cx, cy + 1);
  return c && r && d ? markersFromPoints(c, r, d) : null;
}

/**
 * A VOI LUT (cornerstone CPU's `{ firstValueMapped, lut }`) applying DICOM's SIGMOID VOI LUT Function
 * (PS3.3 C.11.2.1.3.1: y = 1 / (1 + exp(−4 (x − WC) / WW))) to integer modality values lo…hi, which the CPU
 * pipeline does not do itself (it draws every window linearly). Entries are 16-bit; the CPU pipeline shifts
 * them by their bit length − 8, so the table ends with one 65535 entry past hi (a value never looked up) to
 * make that shift 8 whatever the window. null for an empty or unusable range or window.
 */
export function sigmoidLut(lo: number, hi: number, windowWidth: number, windowCenter: number): { firstValueMapped: number; lut: number[] } | null {
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo || hi - lo > MAX_LUT_VALUES) return null;
  if (!Number.isFinite(windowWidth) || !(windowWidth > 0) || !Number.isFinite(windowCenter)) return null;
  const lut = new Array<number>(hi - lo + 2);
  for (let v = lo; v <= hi; v++) lut[v - lo] = Math.round(65535 / (1 + Math.exp((-4 * (v - windowCenter)) / windowWidth)));
  lut[hi - lo + 1] = 65535;
  return { firstValueMapped: lo, lut };
}

/** The widest modality value range sigmoidLut builds a table for (a 16-bit image's). */
const MAX_LUT_VALUES = 65536;

interface CpuDrawnImage {
  voiLUTFunction?: string;
  minPixelValue?: number;
  maxPixelValue?: number;
  slope?: number;
  intercept?: number;
  isPreScaled?: boolean;
}

const OURS = Symbol('rr.sigmoidLut');

/** Puts the SIGMOID table for the drawn image and window into the CPU state, or takes ours away. */
function applySigmoid(s: CpuStack): void {
  const el = s._cpuFallbackEnabledElement;
  const state = el?.viewport as (CpuViewportState & { voiLUT?: unknown; voi?: { windowWidth?: number; windowCenter?: number } }) | undefined;
  const image = el?.image as (CpuImage & CpuDrawnImage) | undefined;
  if (!state || !image) return;
  const ours = (state.voiLUT as { [OURS]?: boolean } | undefined)?.[OURS] === true;
  let table: ReturnType<typeof sigmoidLut> = null;
  if (image.voiLUTFunction === 'SIGMOID' && state.voi) {
    const slope = image.isPreScaled ? 1 : (image.slope ?? 1);
    const intercept = image.isPreScaled ? 0 : (image.intercept ?? 0);
    const a = (image.minPixelValue ?? 0) * slope + intercept;
    const b = (image.maxPixelValue ?? 0) * slope + intercept;
    // integer modality values only (the CPU pipeline looks the table up by value)
    if (Number.isInteger(slope) && Number.isInteger(intercept)) table = sigmoidLut(Math.min(a, b), Math.max(a, b), Number(state.voi.windowWidth), Number(state.voi.windowCenter));
  }
  if (table) {
    Object.defineProperty(table, OURS, { value: true });
    state.voiLUT = table;
  } else if (ours) {
    delete state.voiLUT;
  }
}

const adapted = new WeakSet<object>();

/**
 * Makes a CPU stack viewport behave as a WebGL one where the viewer and cornerstone's tools rely on it; does
 * nothing for a WebGL viewport or twice for the same one. Call once, right after the viewport is enabled
 * (viewer-stack-rendering.ts does, for every stack viewport of the engine, the magnifying glass's included):
 * - the window from image to image: the user's stays (shown and reported); without one, each image's own;
 * - SIGMOID VOI LUT Function drawn as such (sigmoidLut), for integer modality values;
 * - a VOI LUT Function set through setProperties (the magnifying glass copies its viewport's properties) is
 *   ignored instead of thrown on: the CPU pipeline draws the file's function itself (above);
 * - before its first image, the camera and world–canvas mappings answer as WebGL's do (a camera, points off
 *   the canvas) instead of throwing inside cornerstone's tools (annotations drawn, the glass dragged).
 */
export function adaptCpuStackViewport(vp: Types.IStackViewport): void {
  const s = cpuOf(vp);
  if (!s || adapted.has(s) || typeof s._updateToDisplayImageCPU !== 'function' || typeof s.setVOI !== 'function') return;
  adapted.add(s);
  const cpu = s as CpuStack & {
    setVOILUTFunction?: (...args: unknown[]) => void;
    getCamera: () => Types.ICamera;
    setCamera: (camera: Types.ICamera) => void;
    worldToCanvas: (world: Types.Point3) => Types.Point2;
    canvasToWorld: (canvas: Types.Point2) => Types.Point3;
  };
  const hasImage = (): boolean => cpu._cpuFallbackEnabledElement?.image !== undefined;
  const setVOI = s.setVOI;
  // cornerstone's CPU setVOI ignores this flag (its WebGL setVOI records it): record it, so that the window
  // set by setProperties (presets, the window tool) is known to be the user's
  s.setVOI = function (this: CpuStack, range, options = {}) {
    setVOI.call(this, range, options);
    if (options.voiUpdatedWithSetProperties) this.voiUpdatedWithSetProperties = true;
    applySigmoid(this);
  };
  const update = s._updateToDisplayImageCPU;
  s._updateToDisplayImageCPU = function (this: CpuStack, image: unknown) {
    const state = this._cpuFallbackEnabledElement?.viewport;
    const users = this.voiUpdatedWithSetProperties ? this.voiRange : undefined;
    // without a window of the user's, the new image's default (cornerstone merges the previous window into it)
    if (!users && state) delete state.voi;
    update.call(this, image);
    // with one, it is still drawn (merged) but cornerstone reports the image's default: report the user's
    if (users) this.voiRange = users;
    applySigmoid(this);
  };
  cpu.setVOILUTFunction = () => {};
  const getCamera = cpu.getCamera.bind(cpu);
  cpu.getCamera = () => (hasImage() ? getCamera() : noImageCamera());
  const setCamera = cpu.setCamera.bind(cpu);
  cpu.setCamera = (camera) => {
    if (hasImage()) setCamera(camera);
  };
  const worldToCanvas = cpu.worldToCanvas.bind(cpu);
  cpu.worldToCanvas = (world) => (hasImage() ? worldToCanvas(world) : ([-1e6, -1e6] as Types.Point2));
  const canvasToWorld = cpu.canvasToWorld.bind(cpu);
  cpu.canvasToWorld = (canvas) => (hasImage() ? canvasToWorld(canvas) : ([0, 0, 0] as Types.Point3));
}

/**
 * The VOI LUT Function (0028,1056) as cornerstone's metadata gives it — a string (its wadouri provider) or
 * an array (DICOM JSON) — upper-case, or null when absent or empty.
 */
export function voiLutFunctionName(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'string') return null;
  const name = v.trim().toUpperCase();
  return name === '' ? null : name;
}

let watching = false;

/**
 * cornerstone 5.14's image loader takes the first element of the VOI LUT Function, which its wadouri
 * metadata gives as a string: a SIGMOID file's images say "S", which both pipelines then draw wrongly
 * (WebGL drew the mammogram of ../shared/dicom/mg_mammo white: no window at all). Every loaded image gets
 * the file's whole value back before any viewport shows it: cornerstone announces IMAGE_LOADED from the
 * load's first continuation, before the ones of whoever asked for the image. Call once per page.
 */
export function watchVoiLutFunction(): void {
  if (watching) return;
  watching = true;
  eventTarget.addEventListener(Enums.Events.IMAGE_LOADED, (e: Event) => {
    const image = (e as CustomEvent<{ image?: { imageId?: string; voiLUTFunction?: string } }>).detail?.image;
    if (!image?.imageId) return;
    const name = voiLutFunctionName((metaData.get('voiLutModule', image.imageId) as { voiLUTFunction?: unknown } | undefined)?.voiLUTFunction);
    if (name && image.voiLUTFunction !== name) image.voiLUTFunction = name;
  });
}

/** The camera a CPU stack viewport reports before its first image (WebGL's default orientation); new arrays
 * each time, since cornerstone's tools may change a camera they were given. */
const noImageCamera = (): Types.ICamera => ({
  focalPoint: [0, 0, 0],
  position: [0, 0, 1],
  viewUp: [0, -1, 0],
  viewPlaneNormal: [0, 0, 1],
  parallelProjection: true,
  parallelScale: 1,
});
