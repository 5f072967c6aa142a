// A series as a cornerstone3D volume (issue 11), built only when the plugin says it can be
// (GET {api}dicom/studies/{uid}/series/{uid}/volume, README "Volumes") and only from the plugin's `slices` in
// that order, never from file order. The volume is a local cornerstone volume filled here, slice by slice, from
// the decoded images (modality values: rescale applied), in the plugin's geometry: the gantry-tilt shear
// corrected when the plugin gives `tilt.correction` (viewer-volume-model.ts placeSlice), decimated in-plane when
// the full volume does not fit the cache budget, refused (with the plugin's reasons, or the sizes) otherwise.
// Enhanced multi-frame instances come as one slice per frame (`frame` in `slices`), read with the wadouri
// loader's ?frame=N. The source images are read through cornerstone's image cache (loadAndCacheImage), shared
// with the 2D stack's prefetch of the same images: each file is fetched and decoded once, at interaction
// priority; the cache budget evicts them like any 2D image (the plan keeps the volume within 80 % of it).
//
// Contract (used by viewer-mpr*.ts and by the 3D views, viewer-3d*.ts):
//   loadSeriesVolume(opts) → {ok: true, volumeId, info, plan, frameOfReferenceUid, window} or
//                            {ok: false, reasons, info}   (never throws for a refused series; rejects only on
//                            a network or API error — ApiError — or when aborted)
//   freeSeriesVolume(volumeId): removes the volume and its slice images from cornerstone's cache; the GPU
//   textures go with the viewports that showed it (destroy them first: viewer-volume-layout.ts does).

import { cache, imageLoader, metaData, volumeLoader, type Types } from '@cornerstonejs/core';
import type { Api, Series } from './api';
import { loadableStack } from './viewer-prefetch-glue';
import type { WindowLevel } from './viewer-model';
import { decodeVolumeInfo, fitsInt16, placeSlice, planVolume, type VolumeInfo, type VolumePlan } from './viewer-volume-model';

export interface LoadVolumeOptions {
  api: Api;
  studyInstanceUid: string;
  series: Series;
  orthancRoot: string;
  /** Called as slices are read (done of total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export type VolumeLoad =
  | {
      ok: true;
      volumeId: string;
      info: VolumeInfo;
      plan: VolumePlan;
      frameOfReferenceUid: string;
      /** The window of the series' middle image (its file's, else the volume's range). */
      window: WindowLevel;
    }
  | { ok: false; reasons: string[]; info: VolumeInfo | null };

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

/** Slices read at once (the decode workers are few; more only queue). */
const CONCURRENCY = 6;

let counter = 0;

/** The plugin's answer for a series (ApiError on failure). */
export function fetchVolumeInfo(api: Api, studyInstanceUid: string, seriesInstanceUid: string, signal?: AbortSignal): Promise<VolumeInfo> {
  return api.getJson(`dicom/studies/${encodeURIComponent(studyInstanceUid)}/series/${encodeURIComponent(seriesInstanceUid)}/volume`, decodeVolumeInfo, signal);
}

interface Decoded {
  values: ArrayLike<number>;
  columns: number;
  rows: number;
  integral: boolean;
  window: WindowLevel | null;
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array];

/** An image's modality values (Rescale Slope/Intercept applied unless the loader already did). */
function modalityValues(image: Types.IImage): Decoded | string {
  if (image.color || (image.numberOfComponents ?? 1) > 1) return 'colour images cannot be reconstructed as a volume';
  const raw = image.getPixelData() as ArrayLike<number>;
  const slope = image.slope ?? 1;
  const intercept = image.intercept ?? 0;
  const scaled = image.preScale?.scaled === true || (slope === 1 && intercept === 0);
  const integerArray = INTEGER_ARRAYS.some((T) => raw instanceof T);
  let values: ArrayLike<number> = raw;
  if (!scaled) {
    const f = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) f[i] = raw[i]! * slope + intercept;
    values = f;
  }
  const integral = integerArray && (scaled || (Number.isInteger(slope) && Number.isInteger(intercept)));
  const wc = Array.isArray(image.windowCenter) ? image.windowCenter[0] : image.windowCenter;
  const ww = Array.isArray(image.windowWidth) ? image.windowWidth[0] : image.windowWidth;
  const window = typeof wc === 'number' && typeof ww === 'number' && ww > 0 ? { center: wc, width: ww } : null;
  return { values, columns: image.columns, rows: image.rows, integral, window };
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

/** Reads every slice into the plan's volume; a string when one cannot be used. */
async function fillVolume(
  imageIds: string[],
  plan: VolumePlan,
  opts: LoadVolumeOptions,
): Promise<{ data: Int16Array | Float32Array; min: number; max: number; window: WindowLevel | null } | string> {
  const [W, H, D] = plan.dimensions;
  const sliceLength = W * H;
  let data: Int16Array | Float32Array = new Int16Array(sliceLength * D);
  const tmp = new Float32Array(sliceLength);
  let min = Infinity;
  let max = -Infinity;
  let window: WindowLevel | null = null;
  let failure: string | null = null;
  let done = 0;
  let next = 0;
  const middle = Math.floor(D / 2);
  volumeMeasure(`cached-${imageIds.filter((id) => cache.getImageLoadObject(id)).length}-of-${D}`);
  const one = async (k: number): Promise<void> => {
    // through the cache: shares the 2D stack's prefetch (the same image IDs) instead of fetching twice
    const image = await imageLoader.loadAndCacheImage(imageIds[k]!, { priority: -5, requestType: 'interaction' } as never);
    if (failure || opts.signal?.aborted) return;
    const d = modalityValues(image);
    if (typeof d === 'string') {
      failure = d;
      return;
    }
    if (k === middle) window = d.window;
    // where a shifted slice does not reach (tilt correction): the slice's own minimum (air for CT)
    let fill = Infinity;
    for (let i = 0; i < d.values.length; i++) if (d.values[i]! < fill) fill = d.values[i]!;
    const range = placeSlice(tmp, { pixels: d.values, columns: d.columns, rows: d.rows }, plan, k, fill);
    min = Math.min(min, range.min);
    max = Math.max(max, range.max);
    // integer sources stay int16 (interpolated or averaged values rounded to whole units); others float
    if (data instanceof Int16Array && (!d.integral || !fitsInt16(range.min, range.max))) {
      data = Float32Array.from(data); // earlier slices kept; later ones as they are
    }
    const target = data.subarray(k * sliceLength, (k + 1) * sliceLength);
    if (target instanceof Int16Array) for (let i = 0; i < sliceLength; i++) target[i] = Math.round(tmp[i]!);
    else target.set(tmp);
    done++;
    opts.onProgress?.(done, D);
  };
  const worker = async (): Promise<void> => {
    while (!failure && !opts.signal?.aborted && next < D) {
      const k = next++;
      await one(k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, D) }, worker));
  if (opts.signal?.aborted) throw new DOMException('aborted', 'AbortError');
  if (failure) return failure;
  return { data, min, max, window };
}

function frameOfReference(imageId: string): string {
  try {
    const plane = metaData.get('imagePlaneModule', imageId) as { frameOfReferenceUID?: string } | undefined;
    return plane?.frameOfReferenceUID ?? '';
  } catch {
    return '';
  }
}

/**
 * Builds the volume of `series` or says why not. The caller shows the 2D stack with the reasons when refused
 * and calls freeSeriesVolume(volumeId) when the volume is no longer shown.
 */
export async function loadSeriesVolume(opts: LoadVolumeOptions): Promise<VolumeLoad> {
  const info = await fetchVolumeInfo(opts.api, opts.studyInstanceUid, opts.series.seriesInstanceUid, opts.signal);
  volumeMeasure('info');
  const budget = cache.getMaxCacheSize();
  const planned = planVolume(info, budget);
  if (!planned.ok) return { ok: false, reasons: planned.reasons, info };
  const imageIds = sliceImageIds(info, opts.series, opts.orthancRoot);
  if (!imageIds) return { ok: false, reasons: ['a slice of the volume is not among the series\' images'], info };
  let plan = planned.plan;
  let filled = await fillVolume(imageIds, plan, opts);
  volumeMeasure('filled');
  if (typeof filled === 'string') return { ok: false, reasons: [filled], info };
  if (filled.data instanceof Float32Array && plan.bytes * 2 > budget * 0.8) {
    // float voxels take twice the planned size: plan again at 4 bytes a voxel (coarser), or refuse
    const again = planVolume(info, budget, 4);
    if (!again.ok) return { ok: false, reasons: again.reasons, info };
    plan = again.plan;
    filled = await fillVolume(imageIds, plan, opts);
    if (typeof filled === 'string') return { ok: false, reasons: [filled], info };
  }
  const frameOfReferenceUid = frameOfReference(imageIds[0]!);
  const window = filled.window ?? { center: (filled.min + filled.max) / 2, width: Math.max(1, filled.max - filled.min) };
  // "derived:": cornerstone reads no image loader for the volume's slice images (setDefaultVolumeVOI)
  const volumeId = `derived:rr-volume-${++counter}-${opts.series.seriesInstanceUid}`;
  const isInt = filled.data instanceof Int16Array;
  const g = info.geometry!;
  const metadata = {
    BitsAllocated: isInt ? 16 : 32,
    BitsStored: isInt ? 16 : 32,
    SamplesPerPixel: 1,
    HighBit: isInt ? 15 : 31,
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
      scalarData: filled.data,
    });
  } catch (err) {
    return { ok: false, reasons: [`the volume could not be built: ${err instanceof Error ? err.message : String(err)}`], info };
  }
  volumeMeasure('created');
  return { ok: true, volumeId, info, plan, frameOfReferenceUid, window };
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
