// Loading order and progress of one viewport's series (issue 10: "the shown slice first, then outwards,
// the rest of the series prefetched with a visible progress per viewport"). The viewport loads its shown
// image itself (setStack); then SeriesPrefetch fetches the others into cornerstone's cache nearest first
// (±1, ±2, … from the shown one: outwardOrder), MAX_IN_FLIGHT at a time, and re-centres when the user
// scrolls. Changing series (or leaving) cancels it: queued images are dropped, the few in flight finish.
//
// Our own bounded queue rather than cornerstone's stackPrefetch utility: that one shares one global
// request pool among all viewports (disabling it in one viewport clears the others' prefetch), reports no
// progress, and knows nothing of the budget; here each viewport owns its queue, counts what is cached,
// and prefetches only what the budget leaves (viewer-cache.ts prefetchLimit): a series larger than the
// budget is kept as a window around the shown image (images that leave the window are evicted first, the
// shown one never), so a 1,000-image series scrolls to its end without the tab running out of memory.
//
// Progress: a thin bar at the bottom of the viewport cell and "n/N cached" at its top right (ProgressView); hooks on
// the viewport element (contract with the benchmark, ../notes): data-rr-cached (images of its series in
// cornerstone's cache) and data-rr-total (images of its series); equal when the series is fully cached.

import { prefetchLimit, type CacheKeeper } from './viewer-cache';

/** Images fetched at once per viewport (the browser allows 6 connections per host; keep one for scrolling). */
export const MAX_IN_FLIGHT = 4;

/**
 * Decode web workers for the DICOM image loader (its maxWebWorkers) on a machine with `cores` logical cores:
 * one per core, at least 1, at most 4. They decode the compressed syntaxes (uncompressed little-endian frames are
 * decoded in the page, viewer-inpage-decode.ts). A series load waits on decoding (each image's request is
 * followed by its decode before the next one is issued), so on 2 cores one worker (the former half-the-cores
 * rule) serialised every decode; 2 cut the prefetch of the 134-image CT by about a tenth when every syntax went
 * to the workers (bench/README.md, "Viewer").
 */
export function decodeWorkers(cores: number | undefined): number {
  const n = Number.isFinite(cores) && (cores as number) > 0 ? Math.floor(cores as number) : 2;
  return Math.max(1, Math.min(4, n));
}

/** Indexes 0..total-1 from `center` outwards: center, +1, −1, +2, −2, …; the first `limit` only. */
export function outwardOrder(center: number, total: number, limit = total): number[] {
  const out: number[] = [];
  if (total <= 0 || limit <= 0) return out;
  const c = Math.min(total - 1, Math.max(0, Math.trunc(center)));
  out.push(c);
  for (let d = 1; out.length < Math.min(limit, total); d++) {
    if (c + d < total) out.push(c + d);
    if (out.length < limit && c - d >= 0) out.push(c - d);
    if (c + d >= total && c - d < 0) break;
  }
  return out;
}

/** What the prefetch needs of cornerstone (imageLoader.loadAndCacheImage, cache.isLoaded). */
export interface Loader {
  load(imageId: string): Promise<{ sizeInBytes?: number }>;
  isLoaded(imageId: string): boolean;
  evict(imageId: string): void;
}

/** The thin progress bar and "n/N cached" of one viewport cell; attributes on the viewport element. */
export class ProgressView {
  readonly element: HTMLDivElement;
  private readonly bar: HTMLDivElement;
  private readonly label: HTMLDivElement;

  constructor(private readonly viewport: HTMLElement) {
    this.bar = document.createElement('div');
    this.bar.className = 'viewer-progress-bar';
    this.label = document.createElement('div');
    this.label.className = 'viewer-progress-label';
    this.element = document.createElement('div');
    this.element.className = 'viewer-progress';
    this.element.setAttribute('role', 'progressbar');
    this.element.setAttribute('aria-label', 'Images cached');
    this.element.hidden = true;
    this.element.append(this.bar, this.label);
  }

  set(cached: number, total: number): void {
    this.viewport.setAttribute('data-rr-cached', String(cached));
    this.viewport.setAttribute('data-rr-total', String(total));
    this.element.hidden = total < 2;
    this.element.classList.toggle('complete', cached >= total);
    this.element.setAttribute('aria-valuemin', '0');
    this.element.setAttribute('aria-valuemax', String(total));
    this.element.setAttribute('aria-valuenow', String(cached));
    this.bar.style.transform = `scaleX(${total > 0 ? Math.min(1, cached / total).toFixed(3) : 0})`;
    this.label.textContent = `${cached}/${total} cached`;
  }

  clear(): void {
    this.viewport.removeAttribute('data-rr-cached');
    this.viewport.removeAttribute('data-rr-total');
    this.element.hidden = true;
    this.label.textContent = '';
  }
}

/** Every live prefetch (to resume them), and whether they are paused (setPrefetchPaused). */
const live = new Set<SeriesPrefetch>();
let paused = false;

/**
 * Pauses (true) or resumes (false) every viewport's prefetch: a volume layout (MPR, 3D) reads its own slices and
 * hides the 2D viewports, whose prefetch would take the decoding's CPU and the connections from it. Paused, a
 * prefetch issues nothing new (what is in flight finishes); resumed, it plans again from its shown image.
 */
export function setPrefetchPaused(pause: boolean): void {
  if (paused === pause) return;
  paused = pause;
  if (!pause) for (const p of live) p.resume();
}

/** The prefetch of one viewport: one series at a time. */
export class SeriesPrefetch {
  private ids: readonly string[] = [];
  private key: string | null = null;
  private queue: number[] = [];
  private inFlight = 0;
  private generation = 0;
  private center = 0;
  private limit = 0;
  private imageBytes = 0;
  private countTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly viewer: string,
    private readonly loader: Loader,
    private readonly keeper: CacheKeeper,
    private readonly progress: ProgressView,
  ) {
    live.add(this);
  }

  /** After a pause: plan again (what was queued when the pause came is queued again). */
  resume(): void {
    if (this.key !== null) this.plan();
  }

  /** Starts on a series whose image `center` is shown (and loaded); cancels the previous one. */
  async start(key: string, imageIds: readonly string[], center: number): Promise<void> {
    this.cancel();
    const gen = this.generation;
    this.key = key;
    this.ids = imageIds;
    this.center = center;
    this.keeper.show(this.viewer, key, imageIds);
    this.refresh();
    const first = imageIds[center];
    if (first === undefined) return;
    try {
      this.imageBytes = (await this.loader.load(first)).sizeInBytes ?? 0;
    } catch {
      this.imageBytes = 0;
    }
    if (gen !== this.generation) return;
    this.keeper.setImageBytes(key, this.imageBytes);
    this.plan();
  }

  /** The user scrolled to image `center`: nearest first from there (and the window moves with it). */
  recenter(center: number): void {
    if (this.key === null || center === this.center) return;
    this.center = center;
    this.plan();
  }

  /** Drops what is queued (a series change, leaving the viewer); what is in flight finishes. */
  cancel(): void {
    this.generation++;
    this.queue = [];
    this.key = null;
    this.ids = [];
    this.inFlight = 0;
    if (this.countTimer !== null) clearTimeout(this.countTimer);
    this.countTimer = null;
  }

  /** The viewport is gone: cancel and say it shows nothing. */
  destroy(): void {
    live.delete(this);
    this.cancel();
    this.keeper.show(this.viewer, null);
    this.progress.clear();
  }

  /** Recounts the cached images of the series (cache events: added, evicted), at most every 100 ms. */
  refreshSoon(): void {
    if (this.countTimer !== null || this.key === null) return;
    this.countTimer = setTimeout(() => {
      this.countTimer = null;
      this.refresh();
    }, 100);
  }

  private refresh(): void {
    if (this.key === null) return;
    this.progress.set(this.keeper.cachedCount(this.ids), this.ids.length);
  }

  /** The window around the centre that fits the budget; evicts what left it, queues what is missing. */
  private plan(): void {
    const total = this.ids.length;
    const key = this.key;
    if (key === null) return;
    this.limit = prefetchLimit({ budget: this.keeper.budget, imageBytes: this.imageBytes, otherShownBytes: this.keeper.otherShownBytes(key), total });
    const order = outwardOrder(this.center, total, this.limit);
    if (this.limit < total) {
      const keep = new Set(order);
      for (let i = 0; i < total; i++) {
        if (!keep.has(i) && i !== this.center && this.loader.isLoaded(this.ids[i]!)) this.loader.evict(this.ids[i]!);
      }
    }
    this.queue = order.filter((i) => !this.loader.isLoaded(this.ids[i]!));
    const need = this.queue.length * this.imageBytes;
    if (need > 0) this.keeper.makeRoom(need);
    this.refresh();
    this.pump();
  }

  private pump(): void {
    if (paused) return;
    const gen = this.generation;
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const i = this.queue.shift()!;
      const id = this.ids[i]!;
      if (this.loader.isLoaded(id)) continue;
      this.inFlight++;
      this.loader
        .load(id)
        .catch(() => undefined) // an image that fails shows its error when scrolled to
        .then(() => {
          if (gen !== this.generation) return;
          this.inFlight--;
          this.refreshSoon();
          this.pump();
        });
    }
  }
}
