// @vitest-environment happy-dom
// One viewport's prefetch with a fake loader: nearest first, bounded, re-centred, cancelled on a series
// change, its progress hooks (data-rr-cached / data-rr-total, "n/N cached"), the budget window.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CacheKeeper, type ImageCache } from '../src/viewer-cache';
import { decodeWorkers, MAX_IN_FLIGHT, ProgressView, SeriesPrefetch, setPrefetchPaused, type Loader } from '../src/viewer-prefetch';

const MB = 1024 * 1024;

/** A loader whose loads finish when the test says; a cache of fixed-size images. */
function fakes(imageBytes: number, budget: number) {
  const loaded = new Set<string>();
  const pending: Array<{ id: string; done: () => void }> = [];
  const requested: string[] = [];
  const loader: Loader = {
    load: (id) => {
      if (loaded.has(id)) return Promise.resolve({ sizeInBytes: imageBytes });
      requested.push(id);
      return new Promise((resolve) => pending.push({ id, done: () => (loaded.add(id), resolve({ sizeInBytes: imageBytes })) }));
    },
    isLoaded: (id) => loaded.has(id),
    evict: (id) => void loaded.delete(id),
  };
  let max = budget;
  const cache: ImageCache = {
    isLoaded: (id) => loaded.has(id),
    getCacheSize: () => loaded.size * imageBytes,
    getMaxCacheSize: () => max,
    setMaxCacheSize: (b) => void (max = b),
    removeImageLoadObject: (id) => void loaded.delete(id),
  };
  /** Finishes every pending load (and the ones they start) until none is left, or `rounds` rounds. */
  const settle = async (rounds = Infinity): Promise<void> => {
    for (let r = 0; r < rounds && pending.length > 0; r++) {
      for (const p of pending.splice(0)) p.done();
      await new Promise((res) => setTimeout(res, 0));
    }
  };
  return { loaded, pending, requested, loader, cache, settle };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('SeriesPrefetch', () => {
  it('fetches the others nearest first, a few at a time, and counts them', async () => {
    const f = fakes(1, 1e9);
    f.loaded.add('a5'); // the shown image, loaded by the viewport
    const element = document.createElement('div');
    const view = new ProgressView(element);
    const p = new SeriesPrefetch('vp0', f.loader, new CacheKeeper(f.cache), view);
    await p.start('A', ids('a', 11), 5);
    expect(f.pending.length).toBe(MAX_IN_FLIGHT);
    expect(f.requested).toEqual(['a6', 'a4', 'a7', 'a3']);
    await f.settle();
    expect(f.requested).toEqual(['a6', 'a4', 'a7', 'a3', 'a8', 'a2', 'a9', 'a1', 'a10', 'a0']);
    await new Promise((res) => setTimeout(res, 150)); // the throttled recount
    expect(element.getAttribute('data-rr-cached')).toBe('11');
    expect(element.getAttribute('data-rr-total')).toBe('11');
    expect(view.element.textContent).toBe('11/11 cached');
    expect(view.element.classList.contains('complete')).toBe(true);
  });

  it('shows progress as a scale of the bar, not an animated width (no redraw at every frame)', () => {
    const element = document.createElement('div');
    const view = new ProgressView(element);
    const bar = view.element.querySelector<HTMLElement>('.viewer-progress-bar')!;
    view.set(67, 134);
    expect(bar.style.transform).toBe('scaleX(0.500)');
    expect(bar.style.width).toBe('');
    view.set(134, 134);
    expect(bar.style.transform).toBe('scaleX(1.000)');
    view.set(0, 0);
    expect(bar.style.transform).toBe('scaleX(0)');
    const css = readFileSync(join(__dirname, '..', 'src', 'style.css'), 'utf8');
    const rule = css.match(/\.viewer-progress-bar \{[^}]*\}/)?.[0] ?? '';
    expect(rule).toContain('transform: scaleX(0)');
    expect(rule).not.toMatch(/transition|animation/);
  });

  it('paused (a volume layout shown), issues nothing new; resumed, goes on from the shown image', async () => {
    const f = fakes(1, 1e9);
    f.loaded.add('a0');
    const p = new SeriesPrefetch('vp0', f.loader, new CacheKeeper(f.cache), new ProgressView(document.createElement('div')));
    try {
      await p.start('A', ids('a', 20), 0);
      expect(f.requested.length).toBe(MAX_IN_FLIGHT);
      setPrefetchPaused(true);
      await f.settle(); // the ones in flight finish; no new ones
      expect(f.requested).toEqual(['a1', 'a2', 'a3', 'a4']);
      setPrefetchPaused(false);
      expect(f.requested.slice(4)).toEqual(['a5', 'a6', 'a7', 'a8']);
      await f.settle();
      expect(f.requested.length).toBe(19);
      expect(new Set(f.requested).size).toBe(19);
    } finally {
      setPrefetchPaused(false);
      p.destroy();
    }
  });

  it('re-centres on scrolling and drops the old queue on a series change', async () => {
    const f = fakes(1, 1e9);
    f.loaded.add('a0');
    const p = new SeriesPrefetch('vp0', f.loader, new CacheKeeper(f.cache), new ProgressView(document.createElement('div')));
    await p.start('A', ids('a', 100), 0);
    expect(f.requested).toEqual(['a1', 'a2', 'a3', 'a4']);
    p.recenter(50);
    await f.settle(1);
    expect(f.requested.slice(4, 8)).toEqual(['a50', 'a51', 'a49', 'a52']);
    // another series: nothing more of A is asked for
    f.loaded.add('b0');
    await p.start('B', ids('b', 3), 0);
    await f.settle();
    expect(f.requested.filter((id) => id.startsWith('a')).length).toBe(8);
    expect(f.requested.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
  });

  it('keeps a series larger than the budget as a window around the shown image', async () => {
    const f = fakes(MB, 10 * MB); // 90 % of 10 MB: 9 images
    f.loaded.add('a0');
    const element = document.createElement('div');
    const p = new SeriesPrefetch('vp0', f.loader, new CacheKeeper(f.cache), new ProgressView(element));
    await p.start('A', ids('a', 100), 0);
    await f.settle();
    expect([...f.loaded].sort()).toEqual(ids('a', 9).sort());
    p.recenter(99);
    f.loaded.add('a99'); // the viewport shows it
    await f.settle();
    expect([...f.loaded].sort()).toEqual(['a91', 'a92', 'a93', 'a94', 'a95', 'a96', 'a97', 'a98', 'a99']);
    await new Promise((res) => setTimeout(res, 150));
    expect(element.getAttribute('data-rr-cached')).toBe('9');
    expect(element.getAttribute('data-rr-total')).toBe('100');
  });

  it('evicts a series no longer shown before prefetching the shown one', async () => {
    const f = fakes(MB, 10 * MB);
    const keeper = new CacheKeeper(f.cache);
    const p = new SeriesPrefetch('vp0', f.loader, keeper, new ProgressView(document.createElement('div')));
    f.loaded.add('a0');
    await p.start('A', ids('a', 9), 0);
    await f.settle();
    expect(f.loaded.size).toBe(9);
    f.loaded.add('b0');
    await p.start('B', ids('b', 9), 0); // A is no longer shown: it makes room
    await f.settle();
    expect([...f.loaded].filter((id) => id.startsWith('a'))).toEqual([]);
    expect([...f.loaded].filter((id) => id.startsWith('b')).length).toBe(9);
  });
});

describe('decodeWorkers', () => {
  it('one decode worker per core (2 on the 2-core machine, not 1), at least 1, at most 4', () => {
    expect(decodeWorkers(2)).toBe(2);
    expect(decodeWorkers(1)).toBe(1);
    expect(decodeWorkers(3)).toBe(3);
    expect(decodeWorkers(16)).toBe(4);
    expect(decodeWorkers(undefined)).toBe(2);
    expect(decodeWorkers(0)).toBe(2);
    expect(decodeWorkers(Number.NaN)).toBe(2);
  });
});
