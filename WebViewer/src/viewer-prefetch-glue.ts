// cornerstone3D behind the viewer's loading modules: the cache keeper over cornerstone's cache
// (viewer-cache.ts), the budget applied when the viewer starts, each viewport's prefetch and progress
// (viewer-prefetch.ts) fed by cornerstone's cache events, and the stack of a series with the instances the
// browser cannot decode read transcoded (viewer-prefetch-syntax.ts). viewer.ts and viewer-viewport.ts call
// these few functions only (small hook-in edits).

import { cache, Enums, eventTarget, imageLoader } from '@cornerstonejs/core';
import { Enums as MetadataEnums, utilities as metadataUtilities } from '@cornerstonejs/metadata';
import type { Series } from './api';
import { apiRoot } from './api';
import { budgetBytes, CacheKeeper, fetchCacheMegabytes } from './viewer-cache';
import { ProgressView, SeriesPrefetch } from './viewer-prefetch';
import { decodableStack, FORCE_KEY, forcedSyntaxes } from './viewer-prefetch-syntax';
import { stackImages, type StackImage } from './viewer-model';

let keeper: CacheKeeper | null = null;

/**
 * Evicts an image: its decoded pixels from cornerstone's cache and the file's data set that the DICOM loader
 * keeps in its metadata store (NATURALIZED: the header only for the files viewer-part10-loader.ts reads itself,
 * pixel data included for the others), which the cache budget does not count; loading the image again fetches
 * the file again.
 */
function evictImage(imageId: string): void {
  try {
    cache.removeImageLoadObject(imageId);
  } catch {
    /* already gone */
  }
  metadataUtilities.clearTypedCacheData(MetadataEnums.MetadataModules.NATURALIZED, imageId);
}

function theKeeper(): CacheKeeper {
  keeper ??= new CacheKeeper({
    isLoaded: (id) => cache.isLoaded(id),
    getCacheSize: () => cache.getCacheSize(),
    getMaxCacheSize: () => cache.getMaxCacheSize(),
    setMaxCacheSize: (bytes) => cache.setMaxCacheSize(bytes),
    removeImageLoadObject: evictImage,
  });
  return keeper;
}

/** Leaving the study: every decoded image and every file's data set the loader keeps (OHIF issue 6010). */
export function releaseImages(): void {
  cache.purgeCache();
  metadataUtilities.clearCacheData();
}

function forced(): Set<string> {
  try {
    return forcedSyntaxes(globalThis.localStorage?.getItem(FORCE_KEY));
  } catch {
    return new Set();
  }
}

/** The stack of an image series, instances of syntaxes the browser cannot decode read transcoded. */
export function loadableStack(series: Series, orthancRoot: string): StackImage[] {
  const api = new URL(apiRoot(), location.href).href;
  return decodableStack(stackImages(series, orthancRoot), series, api, forced());
}

/**
 * Applies the configured budget (GET auth/me) to cornerstone's cache; `grid` gets data-rr-cache-max and,
 * on every cache change, data-rr-cache-bytes. Returns the listener's removal.
 */
export async function applyCacheBudget(apiRootUrl: string, grid: HTMLElement): Promise<() => void> {
  const k = theKeeper();
  k.setBudget(budgetBytes(await fetchCacheMegabytes(apiRootUrl)));
  grid.setAttribute('data-rr-cache-max', String(k.budget));
  const update = (): void => grid.setAttribute('data-rr-cache-bytes', String(cache.getCacheSize()));
  update();
  const events = [Enums.Events.IMAGE_CACHE_IMAGE_ADDED, Enums.Events.IMAGE_CACHE_IMAGE_REMOVED, Enums.Events.IMAGE_LOADED];
  for (const e of events) eventTarget.addEventListener(e, update);
  return () => {
    for (const e of events) eventTarget.removeEventListener(e, update);
  };
}

export interface PaneLoading {
  /** The progress bar (append it to the viewport's cell). */
  readonly element: HTMLElement;
  /** The series is shown at image `center`: prefetch the rest outwards (cancels the previous series). */
  start(series: Series, stack: readonly StackImage[], center: number): void;
  recenter(center: number): void;
  /** Cancels the prefetch (a series change starts). */
  stop(): void;
  destroy(): void;
}

/** The loading of one viewport: `viewport` (the .viewer-viewport element) carries data-rr-cached/-total. */
export function paneLoading(viewportId: string, viewport: HTMLElement): PaneLoading {
  const progress = new ProgressView(viewport);
  const prefetch = new SeriesPrefetch(
    viewportId,
    {
      load: (id) => imageLoader.loadAndCacheImage(id),
      isLoaded: (id) => cache.isLoaded(id),
      evict: evictImage,
    },
    theKeeper(),
    progress,
  );
  const onCache = (): void => prefetch.refreshSoon();
  const events = [Enums.Events.IMAGE_CACHE_IMAGE_ADDED, Enums.Events.IMAGE_CACHE_IMAGE_REMOVED, Enums.Events.IMAGE_LOADED];
  for (const e of events) eventTarget.addEventListener(e, onCache);
  return {
    element: progress.element,
    start: (series, stack, center) => void prefetch.start(series.seriesInstanceUid, stack.map((i) => i.imageId), center),
    recenter: (center) => prefetch.recenter(center),
    stop: () => prefetch.cancel(),
    destroy: () => {
      for (const e of events) eventTarget.removeEventListener(e, onCache);
      prefetch.destroy();
    },
  };
}
