// A series as a cornerstone3D volume (issue 11), built only when the plugin says it can be
// (GET {api}dicom/studies/{uid}/series/{uid}/volume, README "Volumes") and only from the plugin's `slices` in
// that order, never from file order. The volume is a local cornerstone volume filled here, slice by slice, from
// the decoded images (modality values: rescale applied), in the plugin's geometry: the gantry-tilt shear
// corrected when the plugin gives `tilt.correction` (viewer-volume-model.ts placeSlice), decimated in-plane when
// the full volume does not fit the cache budget, refused (with the plugin's reasons, or the sizes) otherwise.
// Enhanced multi-frame instances come as one slice per frame (`frame` in `slices`). A slice whose image is already
// in cornerstone's image cache (the 2D stack's prefetch) is taken from there, its stored values rescaled straight
// into the volume; the others come from the plugin's values route (viewer-volume-values.ts: the frame decoded by
// Orthanc, rescaled, raw int16/float32: no DICOM parsing or decoding in the browser), read by the values worker
// from the moment the slices to read are known (its requests go on while the page draws), copied straight into
// the volume when no tilt correction or decimation moves them. The plugin's answer for the series is asked for
// ahead by prefetchVolumeInfo (once its image is shown), which also starts the values worker, and kept while the
// series has the same instances.
// When the plugin cannot give a slice, that slice and the rest are read through cornerstone's
// image loader (loadAndCacheImage, wadouri ?frame=N, at interaction priority), which the cache budget evicts
// like any 2D image (the plan keeps the volume within 80 % of it).
//
// Contract (used by viewer-mpr*.ts and by the 3D views, viewer-3d*.ts):
//   loadSeriesVolume(opts) → {ok: true, volumeId, info, plan, frameOfReferenceUid, window, total, fill} or
//                            {ok: false, reasons, info}   (never throws for a refused series; rejects only on
//                            a network or API error — ApiError — or when aborted). Progressive: the volume is
//                            created once the plan is made and ONE slice is read (the shown one, or a cached
//                            one near it; float32 voxels where the GPU has no 16-bit textures and float32
//                            costs no resolution (viewer-volume-model.ts planVoxels), else int16 unless that slice
//                            needs float); the other voxels hold that slice's minimum until fill(progress,
//                            signal), called once the views are mounted,
//                            reads the cached slices then the others from the shown one outwards
//                            (viewer-volume-order.ts), marking each uploaded frame (vtkOpenGLTexture
//                            .setUpdatedFrame; under software WebGL the texture's creation uploads only the
//                            slices read by then, viewer-volume-order.ts uploadReadSlices) and redrawing the
//                            views now and then. fill resolves
//                            {state: 'ready'} | {state: 'float'} (a slice int16 cannot hold: never written;
//                            build again with opts.float) | {state: 'failed', reason} | {state: 'aborted'}.
//   prefetchVolumeInfo(api, studyInstanceUid, series): asks the plugin's answer ahead and starts the values worker
//                            (warmValuesWorker), so that a layout chosen next waits for neither (never throws).
//   buildVolumeAhead(opts) → {state: 'built', volume} (a complete volume from cornerstone's image cache, built
//                            before a layout asks for it: its fill() only redraws) | {state: 'not-cached'} |
//                            {state: 'refused', reason}; never evicts an image for it (see the function).
//   freeSeriesVolume(volumeId): removes the volume and its slice images from cornerstone's cache; the GPU
//   textures go with the viewports that showed it (destroy them first: viewer-volume-layout.ts does).

import { cache, Enums, getRenderingCapabilities, imageLoader, metaData, utilities, volumeLoader, type Types } from '@cornerstonejs/core';
import type { Api, Series } from './api';
import { loadableStack } from './viewer-prefetch-glue';
import type { WindowLevel } from './viewer-model';
import { decodeVolumeInfo, placeSlice, planVolume, planVoxels, rescaledRange, writeRescaled, type Vec3, type VolumeInfo, type VolumePlan } from './viewer-volume-model';
import { softwareWebGL } from './viewer-stack-rendering';
import { fillOrder, linearTextureFilters, sliceIndexAt, uploadReadSlices, voxelType } from './viewer-volume-order';
import { fetchSliceValues, startValuesStream, warmValuesWorker, type ValuesStream } from './viewer-volume-values';

export interface LoadVolumeOptions {
  api: Api;
  studyInstanceUid: string;
  series: Series;
  orthancRoot: string;
  /** Called as slices are read (done of total). */
  signal?: AbortSignal;
  /** The patient point the reading starts from (the 2D view's centre); the middle slice when null. */
  from?: Vec3 | null;
  /** The window to show (the 2D view's); else the first slice's. */
  window?: WindowLevel | null;
  /** Float voxels from the start (the rebuild after a slice int16 cannot hold). */
  float?: boolean;
  /** fill() gives the page's thread back (a task boundary) after every PACED_MS of copying cached slices (a
   *  volume built ahead, while the user reads the 2D images). */
  paced?: boolean;
}

/** How filling a volume ended: complete; to be built again as float; a slice unusable; left. */
export type FillOutcome = { state: 'ready' } | { state: 'float' } | { state: 'failed'; reason: string } | { state: 'aborted' };

export type VolumeLoad =
  | {
      ok: true;
      volumeId: string;
      info: VolumeInfo;
      plan: VolumePlan;
      frameOfReferenceUid: string;
      /** The window to start with (the 2D view's, else the first slice's); once filled the middle image's
       *  (its file's, else the volume's range) unless the 2D view's was given. */
      window: WindowLevel;
      /** Slices in the volume. */
      total: number;
      /** Reads the other slices into the volume (call once, after mounting its views), re-rendering them
       *  at most every 200 ms and at the end; progress(done, total). Never rejects. */
      fill(progress: (done: number, total: number) => void, signal: AbortSignal): Promise<FillOutcome>;
    }
  | { ok: false; reasons: string[]; info: VolumeInfo | null };

/** A volume that could be built (loadSeriesVolume's answer when ok). */
export type LoadedVolume = Extract<VolumeLoad, { ok: true }>;

/**
 * Timing (issue 11's benchmark, the Performance panel): marks "rr-vol-enter" when a volume layout is chosen
 * (volumeStart) and measures named "rr-vol-…" from it (volumeMeasure), read with
 * performance.getEntriesByType('measure'). Never throws.
 */
export function volumeStart(): void {
  try {
    performance.clearMarks('rr-vol-enter');
    performance.clearMeasures();
    performance.mark('rr-vol-enter');
  } catch {
    /* no performance timeline */
  }
}
export function volumeMeasure(name: string): void {
  try {
    if (performance.getEntriesByName('rr-vol-enter', 'mark').length) performance.measure(`rr-vol-${name}`, 'rr-vol-enter');
  } catch {
    /* no performance timeline */
  }
}

/** Whether cornerstone uploads int16 volumes as 16-bit textures (EXT_texture_norm16 with linear filtering), as
 *  its own getCanUseNorm16Texture (not exported) decides; false when unknown. */
function norm16Textures(): boolean {
  try {
    const c = getRenderingCapabilities();
    return c.norm16 === true && c.norm16Linear === true;
  } catch {
    return false;
  }
}

/** The longest stretch a paced fill (LoadVolumeOptions.paced) keeps the page's thread. */
const PACED_MS = 30;

/** Slices read at once (the decode workers are few; more only queue). */
const CONCURRENCY = 6;

let counter = 0;

/** The plugin's answer for a series (ApiError on failure). */
export function fetchVolumeInfo(api: Api, studyInstanceUid: string, seriesInstanceUid: string, signal?: AbortSignal): Promise<VolumeInfo> {
  return api.getJson(`dicom/studies/${encodeURIComponent(studyInstanceUid)}/series/${encodeURIComponent(seriesInstanceUid)}/volume`, decodeVolumeInfo, signal);
}

/** The plugin's answers asked for ahead (prefetchVolumeInfo), by series: kept while the series has the same
 *  instances, at most INFO_KEEP_MS, for the last INFO_KEPT series; a failed one is forgotten. */
const infoAhead = new Map<string, { key: string; at: number; info: Promise<VolumeInfo> }>();
const INFO_KEEP_MS = 5 * 60_000;
const INFO_KEPT = 8;

function volumeInfoFor(api: Api, studyInstanceUid: string, series: Series): Promise<VolumeInfo> {
  const uid = series.seriesInstanceUid;
  const key = `${studyInstanceUid}/${series.instances.length}`;
  const now = Date.now();
  const hit = infoAhead.get(uid);
  if (hit && hit.key === key && now - hit.at < INFO_KEEP_MS) return hit.info;
  const info = fetchVolumeInfo(api, studyInstanceUid, uid);
  infoAhead.delete(uid);
  infoAhead.set(uid, { key, at: now, info });
  while (infoAhead.size > INFO_KEPT) infoAhead.delete(infoAhead.keys().next().value!);
  info.catch(() => {
    if (infoAhead.get(uid)?.info === info) infoAhead.delete(uid);
  });
  return info;
}

/** Asks the plugin ahead whether (and how) `series` can be a volume, and starts the values worker, so that
 *  choosing MPR or 3D waits for neither (one small request; call once the series' first image is shown). Never
 *  throws. */
export function prefetchVolumeInfo(api: Api, studyInstanceUid: string, series: Series): void {
  volumeInfoFor(api, studyInstanceUid, series).catch(() => undefined);
  warmValuesWorker();
}

/** `p`, or an AbortError as soon as `signal` is aborted (p itself goes on: it may be shared). */
function unlessAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DOMException('aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** An image's stored values and the rescale that makes them modality values (values·slope + intercept). */
interface Decoded {
  raw: ArrayLike<number>;
  slope: number;
  intercept: number;
  columns: number;
  rows: number;
  integral: boolean;
  window: WindowLevel | null;
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array];

/** An image's values and their rescale (Rescale Slope/Intercept, none when the loader already applied it). */
function modalityValues(image: Types.IImage): Decoded | string {
  if (image.color || (image.numberOfComponents ?? 1) > 1) return 'colour images cannot be reconstructed as a volume';
  const raw = image.getPixelData() as ArrayLike<number>;
  const scaled = image.preScale?.scaled === true;
  const slope = scaled ? 1 : image.slope ?? 1;
  const intercept = scaled ? 0 : image.intercept ?? 0;
  const integerArray = INTEGER_ARRAYS.some((T) => raw instanceof T);
  const integral = integerArray && Number.isInteger(slope) && Number.isInteger(intercept);
  const wc = Array.isArray(image.windowCenter) ? image.windowCenter[0] : image.windowCenter;
  const ww = Array.isArray(image.windowWidth) ? image.windowWidth[0] : image.windowWidth;
  const window = typeof wc === 'number' && typeof ww === 'number' && ww > 0 ? { center: wc, width: ww } : null;
  return { raw, slope, intercept, columns: image.columns, rows: image.rows, integral, window };
}

/** The image IDs of the plugin's slices, in its order (null: a slice the viewer has no image for). */
function sliceImageIds(info: VolumeInfo, series: Series, orthancRoot: string): string[] | null {
  const byKey = new Map<string, string>();
  for (const img of loadableStack(series, orthancRoot)) byKey.set(`${img.orthancId}/${img.frame}`, img.imageId);
  const ids: string[] = [];
  for (const s of info.slices) {
    const id = byKey.get(`${s.instanceId}/${s.frame}`);
    if (!id) return null;
    ids.push(id);
  }
  return ids;
}

function frameOfReference(imageId: string): string {
  try {
    const plane = metaData.get('imagePlaneModule', imageId) as { frameOfReferenceUID?: string } | undefined;
    return plane?.frameOfReferenceUID ?? '';
  } catch {
    return '';
  }
}

/** A slice read for the volume: its modality values' range, and how to write it into its place. */
interface Placed {
  min: number;
  max: number;
  integral: boolean;
  window: WindowLevel | null;
  /** Writes the slice into `target`, its slice of the volume (the plan's grid; int16: rounded to whole units). */
  write(target: Int16Array | Float32Array): void;
}

/** Where a volume's slices come from: the plugin's values route, and cornerstone's images for the others. */
interface SliceSource {
  api: Api;
  info: VolumeInfo;
  imageIds: string[];
  signal?: AbortSignal;
  /** false once the plugin could not give a slice: the rest are read through cornerstone (one reason, one way). */
  useValues: boolean;
  /** The slices not in the image cache when reading began, read by the values worker (null: none, or no worker). */
  stream: ValuesStream | null;
}

/** A slice as the plan's grid takes it: written as it is (rescaled) at full resolution without a tilt correction,
 *  else placed (tilt shear, decimation) with its own minimum (air for CT) where a shifted slice does not reach. */
function place(d: Decoded & { min?: number; max?: number }, plan: VolumePlan, k: number): Placed {
  const [W, H] = plan.dimensions;
  const { raw, slope, intercept, integral, window } = d;
  if (plan.decimation === 1 && !plan.correction && d.columns === W && d.rows === H) {
    const range = d.min !== undefined && d.max !== undefined ? { min: d.min, max: d.max } : rescaledRange(raw, slope, intercept);
    return { ...range, integral, window, write: (target) => writeRescaled(target, raw, slope, intercept, integral) };
  }
  let values: ArrayLike<number> = raw;
  if (slope !== 1 || intercept !== 0) {
    const f = new Float32Array(raw.length);
    writeRescaled(f, raw, slope, intercept, true);
    values = f;
  }
  let fill = Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! < fill) fill = values[i]!;
  const out = new Float32Array(W * H);
  const range = placeSlice(out, { pixels: values, columns: d.columns, rows: d.rows }, plan, k, fill);
  return { ...range, integral, window, write: (target) => writeRescaled(target, out, 1, 0, false) };
}

/** Reads slice k and places it in the plan's grid; a string when it cannot be used. An image already in
 *  cornerstone's cache (the 2D stack's prefetch) is taken from there; the others come from the plugin's values
 *  route (no DICOM parsing or decoding in the browser), or through cornerstone's image loader when the plugin
 *  cannot give them. */
async function readSlice(src: SliceSource, plan: VolumePlan, k: number): Promise<Placed | string> {
  const imageId = src.imageIds[k]!;
  const streamed = src.useValues ? src.stream?.take(k) ?? null : null;
  if (streamed || (src.useValues && !cache.getImageLoadObject(imageId))) {
    const slice = src.info.slices[k]!;
    const got = await (streamed ?? fetchSliceValues(src.api, slice.instanceId, slice.frame, src.signal));
    if (got) return place({ ...got, raw: got.values, slope: 1, intercept: 0 }, plan, k);
    src.useValues = false;
    src.stream?.cancel();
  }
  const image = await imageLoader.loadAndCacheImage(imageId, { priority: -5, requestType: 'interaction' } as never);
  const d = modalityValues(image);
  if (typeof d === 'string') return d;
  return place(d, plan, k);
}

/** Writes a placed slice into slice k of the volume's buffer. */
function writeSlice(data: Int16Array | Float32Array, sliceLength: number, k: number, placed: Placed): void {
  placed.write(data.subarray(k * sliceLength, (k + 1) * sliceLength));
}

/** Throttle of the progressive re-rendering while slices arrive. */
const RENDER_EVERY_MS = 200;
/** …and of the 3D view's. */
const RENDER_3D_EVERY_MS = 5000;
/** The longest time between two redraws while slices arrive: with a GPU, and under software WebGL. */
const RENDER_APART_MS = 1000;
const RENDER_APART_SOFTWARE_MS = 3000;

/**
 * Builds the volume of `series` or says why not. The volume is created as soon as the plan is made and one slice
 * (the shown one, or a cached one near it) is read: the other voxels hold that slice's minimum until
 * `fill()` reads them. The caller mounts the views, then calls fill(); shows the 2D stack with the reasons when
 * refused; and calls freeSeriesVolume(volumeId) when the volume is no longer shown.
 */
export async function loadSeriesVolume(opts: LoadVolumeOptions): Promise<VolumeLoad> {
  const info = await unlessAborted(volumeInfoFor(opts.api, opts.studyInstanceUid, opts.series), opts.signal);
  volumeMeasure('info');
  const budget = cache.getMaxCacheSize();
  const voxels = planVoxels(info, budget, { float: opts.float === true, norm16: norm16Textures() });
  if (!voxels.ok) return { ok: false, reasons: voxels.reasons, info };
  let plan = voxels.plan;
  const imageIds = sliceImageIds(info, opts.series, opts.orthancRoot);
  if (!imageIds) return { ok: false, reasons: ['a slice of the volume is not among the series\' images'], info };
  const D = imageIds.length;
  const isCached = (k: number): boolean => !!cache.getImageLoadObject(imageIds[k]!);
  const start = sliceIndexAt(info, opts.from ?? null) ?? Math.floor(D / 2);
  const order = fillOrder(D, start, isCached);
  volumeMeasure(`cached-${imageIds.filter((id) => cache.getImageLoadObject(id)).length}-of-${D}`);
  // the first slice read decides the voxel type (a later one that does not fit rebuilds the volume as float)
  // the slices not cached yet are read by the values worker from now on, in the order they are needed
  const stream = startValuesStream(
    opts.api,
    order.filter((k) => !isCached(k)).map((k) => ({ k, instanceId: info.slices[k]!.instanceId, frame: info.slices[k]!.frame })),
    { concurrency: CONCURRENCY, ...(opts.signal ? { signal: opts.signal } : {}) },
  );
  let handedOver = false;
  try {
    const first = order[0]!;
    const source: SliceSource = { api: opts.api, info, imageIds, useValues: true, stream, ...(opts.signal ? { signal: opts.signal } : {}) };
    let placed = await readSlice(source, plan, first);
    if (opts.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    if (typeof placed === 'string') return { ok: false, reasons: [placed], info };
    let float = voxels.float || voxelType(placed) === 'float32';
    if (float && !voxels.float) {
      // float voxels take twice the planned size: plan again at 4 bytes a voxel (coarser), or refuse
      const coarser = planVolume(info, budget, 4);
      if (!coarser.ok) return { ok: false, reasons: coarser.reasons, info };
      plan = coarser.plan;
      placed = await readSlice(source, plan, first);
      if (typeof placed === 'string') return { ok: false, reasons: [placed], info };
    }
    const [W, H] = plan.dimensions;
    const sliceLength = W * H;
    const data: Int16Array | Float32Array = float ? new Float32Array(sliceLength * D) : new Int16Array(sliceLength * D);
    data.fill(float ? placed.min : Math.round(placed.min)); // neutral: the first slice's minimum (air for CT)
    writeSlice(data, sliceLength, first, placed);
    const frameOfReferenceUid = frameOfReference(imageIds[0]!);
    const window = opts.window ?? placed.window ?? { center: (placed.min + placed.max) / 2, width: Math.max(1, placed.max - placed.min) };
    // "derived:": cornerstone reads no image loader for the volume's slice images (setDefaultVolumeVOI)
    const volumeId = `derived:rr-volume-${++counter}-${opts.series.seriesInstanceUid}`;
    const g = info.geometry!;
    const metadata = {
      BitsAllocated: float ? 32 : 16,
      BitsStored: float ? 32 : 16,
      SamplesPerPixel: 1,
      HighBit: float ? 31 : 15,
      PhotometricInterpretation: 'MONOCHROME2',
      PixelRepresentation: 1,
      Modality: opts.series.modality,
      SeriesInstanceUID: opts.series.seriesInstanceUid,
      ImageOrientationPatient: [...g.rowCosines, ...g.columnCosines],
      PixelSpacing: [plan.spacing[1], plan.spacing[0]],
      FrameOfReferenceUID: frameOfReferenceUid,
      Columns: plan.dimensions[0],
      Rows: plan.dimensions[1],
      voiLut: [{ windowCenter: window.center, windowWidth: window.width }],
      VOILUTFunction: 'LINEAR',
    };
    try {
      volumeLoader.createLocalVolume(volumeId, {
        metadata: metadata as unknown as Types.Metadata,
        dimensions: plan.dimensions,
        spacing: plan.spacing,
        origin: plan.origin,
        direction: plan.direction as unknown as Types.Mat3,
        scalarData: data,
      });
    } catch (err) {
      return { ok: false, reasons: [`the volume could not be built: ${err instanceof Error ? err.message : String(err)}`], info };
    }
    // slices read so far: under software WebGL cornerstone's texture, when (re)created, uploads these only
    // (uploadReadSlices: each upload there costs the page and the GPU process milliseconds); with a GPU every slice as
    // before, so that a 3D view drawn while the slices arrive shows nothing (the buffer's minimum) where none is read
    const read = new Uint8Array(D);
    read[first] = 1;
    const texture = (cache.getVolume(volumeId) as { vtkOpenGLTexture?: unknown } | undefined)?.vtkOpenGLTexture;
    if (softwareWebGL()) uploadReadSlices(texture, read);
    linearTextureFilters(texture);
    volumeMeasure('created');
    const middle = Math.floor(D / 2);
    const result: LoadedVolume = {
      ok: true,
      volumeId,
      info,
      plan,
      frameOfReferenceUid,
      window,
      total: D,
      fill: async (progress, signal) => {
        let min = placed.min;
        let max = placed.max;
        let middleWindow: WindowLevel | null = first === middle ? placed.window : null;
        let outcome: FillOutcome | null = null;
        let done = 1;
        let next = 1;
        let dirty = true;
        let last3d = performance.now();
        // the 3D view (a ray cast on the CPU under software WebGL, seconds a frame) is redrawn at most every
        // RENDER_3D_EVERY_MS while the slices arrive, and at the end; the planes on every redraw
        const render = (final: boolean): void => {
          dirty = false;
          const now = performance.now();
          const with3d = final || now - last3d >= RENDER_3D_EVERY_MS;
          if (with3d) last3d = now;
          redrawVolumeViews(volumeId, with3d);
        };
        // like cornerstone's streaming volumes (about every 5 % of the frames), a redraw is due after a twentieth
        // of the slices or RENDER_APART_MS, never sooner than RENDER_EVERY_MS; under software WebGL after half of
        // them or RENDER_APART_SOFTWARE_MS: there each redraw of the planes uploads the new slices and reslices the
        // volume on the CPU, and the page waits for it (cornerstone copies each plane to its canvas: about 0.1 s a
        // plane on two cores), CPU the slices' reading needs (with a redraw after each fifth: the volume filled
        // about 10 % later, bench/README.md)
        const software = softwareWebGL();
        const step = Math.max(1, Math.ceil(D / (software ? 2 : 20)));
        const every = software ? RENDER_APART_SOFTWARE_MS : RENDER_APART_MS;
        let renderedAt = 1;
        let lastRender = performance.now();
        const timer = globalThis.setInterval(() => {
          if (!dirty || (done - renderedAt < step && performance.now() - lastRender < every)) return;
          renderedAt = done;
          lastRender = performance.now();
          render(false);
        }, RENDER_EVERY_MS);
        const fillSource: SliceSource = { ...source, signal };
        const stopReading = (): void => stream?.cancel(true);
        signal.addEventListener('abort', stopReading, { once: true });
        const stopped = (): boolean => outcome !== null || signal.aborted || !cache.getVolume(volumeId);
        progress(done, D);
        let ranSince = performance.now();
        const worker = async (): Promise<void> => {
          while (!stopped() && next < D) {
            if (opts.paced && performance.now() - ranSince > PACED_MS) {
              await new Promise((resolve) => setTimeout(resolve, 0));
              ranSince = performance.now();
              continue;
            }
            const k = order[next++]!;
            const got = await readSlice(fillSource, plan, k);
            if (stopped()) return;
            if (typeof got === 'string') {
              outcome = { state: 'failed', reason: got };
              return;
            }
            if (!float && voxelType(got) === 'float32') {
              outcome = { state: 'float' }; // never written as int16: the volume is built again as float
              return;
            }
            writeSlice(data, sliceLength, k, got);
            min = Math.min(min, got.min);
            max = Math.max(max, got.max);
            if (k === middle) middleWindow = got.window;
            read[k] = 1;
            const volume = cache.getVolume(volumeId) as (Types.IImageVolume & { vtkOpenGLTexture?: { setUpdatedFrame(i: number): void } }) | undefined;
            volume?.vtkOpenGLTexture?.setUpdatedFrame(k);
            dirty = true;
            done++;
            progress(done, D);
          }
        };
        try {
          await Promise.all(Array.from({ length: Math.min(CONCURRENCY, D) }, worker));
        } catch (err) {
          if (!stopped()) outcome = { state: 'failed', reason: err instanceof Error ? err.message : String(err) };
        } finally {
          globalThis.clearInterval(timer);
          signal.removeEventListener('abort', stopReading);
          stream?.cancel(true); // the answers not taken (a fill that stopped early)
        }
        if (signal.aborted || !cache.getVolume(volumeId)) return { state: 'aborted' };
        if (outcome) return outcome;
        // as the whole volume built at once did: the middle slice's window, else the volume's range
        if (!opts.window) result.window = middleWindow ?? { center: (min + max) / 2, width: Math.max(1, max - min) };
        render(true);
        volumeMeasure('filled');
        return { state: 'ready' };
      },
    };
    handedOver = true;
    return result;
  } finally {
    if (!handedOver) stream?.cancel(true);
  }
}

/** Redraws the views showing volume `volumeId` after its voxels changed (the 3D views only when `with3d`). */
function redrawVolumeViews(volumeId: string, with3d: boolean): void {
  const volume = cache.getVolume(volumeId) as (Types.IImageVolume & { imageData?: { modified(): void } }) | undefined;
  if (!volume) return;
  try {
    volume.imageData?.modified();
    for (const vp of utilities.getViewportsWithVolumeId(volumeId)) if (with3d || vp.type !== Enums.ViewportType.VOLUME_3D) vp.render();
  } catch {
    /* a viewport going away */
  }
}

/** A volume built ahead (buildVolumeAhead), or why none was. */
export type AheadOutcome =
  | { state: 'built'; volume: LoadedVolume }
  /** Some slice's image is not in cornerstone's cache yet (try again once it is). */
  | { state: 'not-cached' }
  /** Refused by the plugin or the plan, or no room beside what the cache holds (not worth trying again). */
  | { state: 'refused'; reason: string };

/** The share of the cache budget the cache may hold, the volume built ahead included: building it never evicts. */
const AHEAD_SHARE = 0.9;

/**
 * Builds the volume of `opts.series` before it is asked for (viewer-volume-ahead.ts), from cornerstone's image
 * cache only: when the plugin's answer lets it be a volume (asked for ahead by prefetchVolumeInfo), every slice's
 * image is in the cache (the 2D prefetch's), and the volume fits within AHEAD_SHARE of the budget beside what the
 * cache holds, so that nothing is evicted for it. No request but the plugin's answer when not asked for yet. The
 * volume is complete (a slice int16 cannot hold: built as float; the copying paced, LoadVolumeOptions.paced); its
 * fill() only says progress(total, total), redraws its views and resolves ready. The caller owns it
 * (freeSeriesVolume). Rejects only with an AbortError (nothing kept); any other failure gives 'refused'. Does not
 * time itself (volumeMeasure).
 */
export async function buildVolumeAhead(opts: LoadVolumeOptions): Promise<AheadOutcome> {
  try {
    performance.clearMarks('rr-vol-enter'); // the steps here are not a layout's entry (volumeMeasure: nothing)
  } catch {
    /* no performance timeline */
  }
  let info: VolumeInfo;
  try {
    info = await unlessAborted(volumeInfoFor(opts.api, opts.studyInstanceUid, opts.series), opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) throw err;
    return { state: 'refused', reason: `the plugin's answer failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const budget = cache.getMaxCacheSize();
  const voxels = planVoxels(info, budget, { float: false, norm16: norm16Textures() });
  if (!voxels.ok) return { state: 'refused', reason: voxels.reasons.join('; ') };
  const imageIds = sliceImageIds(info, opts.series, opts.orthancRoot);
  if (!imageIds) return { state: 'refused', reason: 'a slice of the volume is not among the series\' images' };
  if (!imageIds.every((id) => cache.isLoaded(id))) return { state: 'not-cached' };
  const [W, H, D] = voxels.plan.dimensions;
  const bytes = W * H * D * (voxels.float ? 4 : 2);
  if (cache.getCacheSize() + bytes > AHEAD_SHARE * budget) return { state: 'refused', reason: 'no room in the cache budget beside the images' };
  for (const float of [voxels.float, true]) {
    let load: VolumeLoad;
    try {
      load = await loadSeriesVolume({ ...opts, float, paced: true });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      return { state: 'refused', reason: err instanceof Error ? err.message : String(err) };
    }
    if (!load.ok) return { state: 'refused', reason: load.reasons.join('; ') };
    const outcome = await load.fill(() => undefined, opts.signal ?? new AbortController().signal);
    if (outcome.state === 'ready' && !opts.signal?.aborted) {
      const { volumeId, total } = load;
      const volume: LoadedVolume = {
        ...load, // the window as the fill left it
        fill: async (progress, signal) => {
          if (signal.aborted || !cache.getVolume(volumeId)) return { state: 'aborted' };
          progress(total, total);
          redrawVolumeViews(volumeId, true);
          volumeMeasure('filled');
          return { state: 'ready' };
        },
      };
      return { state: 'built', volume };
    }
    freeSeriesVolume(load.volumeId);
    if (opts.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    if (outcome.state === 'failed') return { state: 'refused', reason: outcome.reason };
    if (outcome.state !== 'float' || float) break;
  }
  return { state: 'refused', reason: 'the volume could not be read from the cached images' };
}

/** Removes the volume and its slice images from cornerstone's cache (nothing when already gone). */
export function freeSeriesVolume(volumeId: string): void {
  let imageIds: string[] = [];
  try {
    imageIds = [...(cache.getVolume(volumeId)?.imageIds ?? [])];
  } catch {
    /* not there */
  }
  try {
    cache.removeVolumeLoadObject(volumeId);
  } catch {
    /* already gone */
  }
  for (const id of imageIds) {
    try {
      cache.removeImageLoadObject(id, { force: true } as never);
    } catch {
      /* already gone */
    }
  }
}
