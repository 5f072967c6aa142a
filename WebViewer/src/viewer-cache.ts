// The viewer's image cache budget (issue 10: "a configurable cache budget, older series evicted, nothing
// crashes on a 1,000-image series"). The budget is the ReadingRoom option Viewer.CacheMegabytes, delivered
// in GET {api}auth/me as `viewer.cacheMegabytes` (the default below when the answer lacks it: access
// control off, an older plugin), and applied with cornerstone's cache.setMaxCacheSize. The arithmetic is
// pure (budgetBytes, prefetchLimit, evictionOrder: Vitest); CacheKeeper tracks which series each viewport
// shows and evicts the images of series no viewport shows, the longest unseen first, before a shown
// series is prefetched. A shown series is never evicted for a prefetch: one larger than the budget is
// prefetched around its shown image only (viewer-prefetch.ts keeps that window). Hooks for tests: the
// viewer grid carries data-rr-cache-bytes (cornerstone's cache size) and data-rr-cache-max (the budget).

export const DEFAULT_CACHE_MB = 1024;
export const MIN_CACHE_MB = 64;
export const MAX_CACHE_MB = 16384;
const MB = 1024 * 1024;
/** Share of the budget a series may fill by prefetching (room left for the other viewports' images). */
export const PREFETCH_SHARE = 0.9;

/** The budget in bytes from the configured megabytes (the default when missing or not a number; clamped). */
export function budgetBytes(megabytes: unknown): number {
  const mb = typeof megabytes === 'number' && Number.isFinite(megabytes) ? Math.round(megabytes) : DEFAULT_CACHE_MB;
  return Math.min(MAX_CACHE_MB, Math.max(MIN_CACHE_MB, mb)) * MB;
}

/**
 * How many images of a series may be prefetched: what fits in PREFETCH_SHARE of the budget once the images
 * of the other shown series are counted, at `imageBytes` each; at least 1 (the shown image), at most `total`.
 */
export function prefetchLimit(opts: { budget: number; imageBytes: number; otherShownBytes: number; total: number }): number {
  const { budget, imageBytes, otherShownBytes, total } = opts;
  if (!(imageBytes > 0)) return total;
  const room = budget * PREFETCH_SHARE - Math.max(0, otherShownBytes);
  return Math.max(1, Math.min(total, Math.floor(room / imageBytes)));
}

export interface SeriesUse {
  key: string;
  /** Shown in a viewport now. */
  shown: boolean;
  /** When it was last shown (ms). */
  lastShown: number;
}

/** The series whose images may be evicted, the longest unseen first; shown series never. */
export function evictionOrder(series: readonly SeriesUse[]): string[] {
  return series
    .filter((s) => !s.shown)
    .sort((a, b) => a.lastShown - b.lastShown)
    .map((s) => s.key);
}

/** The configured budget in megabytes from GET {api}auth/me (DEFAULT_CACHE_MB when absent or failing). */
export async function fetchCacheMegabytes(apiRootUrl: string, fetchFn: typeof fetch = fetch): Promise<number> {
  try {
    const res = await fetchFn(`${apiRootUrl.endsWith('/') ? apiRootUrl : `${apiRootUrl}/`}auth/me`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' },
    });
    if (!res.ok) return DEFAULT_CACHE_MB;
    const body: unknown = await res.json();
    const viewer = body && typeof body === 'object' ? (body as Record<string, unknown>).viewer : undefined;
    const mb = viewer && typeof viewer === 'object' ? (viewer as Record<string, unknown>).cacheMegabytes : undefined;
    return typeof mb === 'number' ? mb : DEFAULT_CACHE_MB;
  } catch {
    return DEFAULT_CACHE_MB;
  }
}

/** What CacheKeeper needs of cornerstone's cache (cache from @cornerstonejs/core). */
export interface ImageCache {
  isLoaded(imageId: string): boolean;
  getCacheSize(): number;
  getMaxCacheSize(): number;
  setMaxCacheSize(bytes: number): void;
  removeImageLoadObject(imageId: string): void;
}

interface Entry {
  imageIds: readonly string[];
  viewers: Set<string>;
  lastShown: number;
  imageBytes: number;
}

/** Which series the viewports show and what they hold in the cache. One per mounted viewer. */
export class CacheKeeper {
  private readonly series = new Map<string, Entry>();

  constructor(
    private readonly cache: ImageCache,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get budget(): number {
    return this.cache.getMaxCacheSize();
  }

  setBudget(bytes: number): void {
    this.cache.setMaxCacheSize(bytes);
  }

  /** Viewport `viewer` now shows series `key` (null: nothing); the series it showed before is no longer shown by it. */
  show(viewer: string, key: string | null, imageIds: readonly string[] = []): void {
    const t = this.now();
    for (const e of this.series.values()) {
      if (e.viewers.delete(viewer)) e.lastShown = t;
    }
    if (key === null) return;
    const e = this.series.get(key) ?? { imageIds, viewers: new Set<string>(), lastShown: t, imageBytes: 0 };
    e.imageIds = imageIds;
    e.viewers.add(viewer);
    e.lastShown = t;
    this.series.set(key, e);
  }

  /** The size of one image of series `key` (from its first loaded image). */
  setImageBytes(key: string, bytes: number): void {
    const e = this.series.get(key);
    if (e && bytes > 0) e.imageBytes = bytes;
  }

  /** Bytes held in the cache by the shown series other than `key`. */
  otherShownBytes(key: string): number {
    let sum = 0;
    for (const [k, e] of this.series) {
      if (k === key || e.viewers.size === 0) continue;
      sum += e.imageBytes * this.cachedCount(e.imageIds);
    }
    return sum;
  }

  cachedCount(imageIds: readonly string[]): number {
    let n = 0;
    for (const id of imageIds) if (this.cache.isLoaded(id)) n++;
    return n;
  }

  /**
   * Evicts the images of series no viewport shows, the longest unseen first, until `bytes` fit under the
   * budget (or nothing unshown is left). Returns the number of images evicted.
   */
  makeRoom(bytes: number): number {
    let evicted = 0;
    const uses = [...this.series].map(([key, e]) => ({ key, shown: e.viewers.size > 0, lastShown: e.lastShown }));
    for (const key of evictionOrder(uses)) {
      if (this.cache.getMaxCacheSize() - this.cache.getCacheSize() >= bytes) break;
      const e = this.series.get(key)!;
      for (const id of e.imageIds) {
        if (!this.cache.isLoaded(id)) continue;
        try {
          this.cache.removeImageLoadObject(id);
          evicted++;
        } catch {
          /* already gone */
        }
      }
      this.series.delete(key);
    }
    return evicted;
  }
}
