// The viewer's layouts (viewer-model.ts): grid sizes, which series fills which viewport, the layout remembered
// per user in localStorage.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LAYOUT,
  fillViewports,
  layoutKey,
  layoutOf,
  LAYOUTS,
  loadLayout,
  nextLayout,
  nextViewport,
  saveLayout,
  viewportCount,
} from '../src/viewer-model';

/** A Storage stand-in over a Map (the viewer only calls getItem and setItem). */
function memoryStorage(): Storage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (k: string) => map.get(k) ?? null,
    key: (i: number) => [...map.keys()][i] ?? null,
    removeItem: (k: string) => void map.delete(k),
    setItem: (k: string, v: string) => void map.set(k, String(v)),
  };
}

describe('layouts', () => {
  it('are 1×1, 1×2 (side by side), 2×1 (above each other) and 2×2', () => {
    expect(LAYOUTS.map((l) => [l.id, l.rows, l.cols, viewportCount(l)])).toEqual([
      ['1x1', 1, 1, 1],
      ['1x2', 1, 2, 2],
      ['2x1', 2, 1, 2],
      ['2x2', 2, 2, 4],
    ]);
    expect(LAYOUTS.map((l) => l.label)).toEqual(['1×1', '1×2', '2×1', '2×2']);
  });

  it('an unknown or missing id gives 1×1', () => {
    expect(DEFAULT_LAYOUT).toBe('1x1');
    for (const bad of [null, undefined, '', '3x3', '2X2', '<script>']) expect(layoutOf(bad).id).toBe('1x1');
    expect(layoutOf('2x1')).toMatchObject({ rows: 2, cols: 1 });
  });

  it('L cycles through them and W through the viewports', () => {
    expect(['1x1', '1x2', '2x1', '2x2'].map((id) => nextLayout(id as never).id)).toEqual(['1x2', '2x1', '2x2', '1x1']);
    expect([0, 1, 2, 3].map((i) => nextViewport(i, 4))).toEqual([1, 2, 3, 0]);
    expect(nextViewport(0, 1)).toBe(0);
    expect(nextViewport(0, 0)).toBe(0);
  });
});

describe('which series fills which viewport', () => {
  const series = ['s1', 's2', 's3'];

  it('opening a study: the image series in display order, one per viewport', () => {
    expect(fillViewports([], 1, series)).toEqual(['s1']);
    expect(fillViewports([], 2, series)).toEqual(['s1', 's2']);
    expect(fillViewports([], 4, series)).toEqual(['s1', 's2', 's3', null]); // every series shown: the last stays empty
    expect(fillViewports([], 4, [])).toEqual([null, null, null, null]);
  });

  it('a bigger layout keeps what is shown and fills the new viewports with the series not shown yet', () => {
    // the user put s3 into the only viewport: the next ones get s1, then s2
    expect(fillViewports(['s3'], 4, series)).toEqual(['s3', 's1', 's2', null]);
    expect(fillViewports(['s2', null], 2, series)).toEqual(['s2', 's1']);
    // the same series twice (the user loaded it into two viewports) stays twice
    expect(fillViewports(['s1', 's1'], 4, series)).toEqual(['s1', 's1', 's2', 's3']);
  });

  it('a smaller layout keeps the first viewports', () => {
    expect(fillViewports(['s3', 's1', 's2', null], 1, series)).toEqual(['s3']);
    expect(fillViewports(['s2', 's3', 's1', null], 2, series)).toEqual(['s2', 's3']);
  });
});

describe('the layout is remembered per user', () => {
  it('under a key per username, separate users apart; open mode shares one', () => {
    expect(layoutKey('dr.house')).toBe('rr.viewer.layout.dr.house');
    expect(layoutKey('a b/c')).toBe('rr.viewer.layout.a%20b%2Fc');
    expect(layoutKey(null)).toBe('rr.viewer.layout.open');
    const store = memoryStorage();
    saveLayout(store, 'alice', '2x2');
    saveLayout(store, 'bob', '1x2');
    expect(loadLayout(store, 'alice').id).toBe('2x2');
    expect(loadLayout(store, 'bob').id).toBe('1x2');
    expect(loadLayout(store, 'carol').id).toBe('1x1');
    expect(loadLayout(store, null).id).toBe('1x1');
    expect(store.map.get('rr.viewer.layout.alice')).toBe('2x2');
  });

  it('a tampered value, disabled or full storage: 1×1 and no error', () => {
    const store = memoryStorage();
    store.setItem(layoutKey('alice'), '9x9');
    expect(loadLayout(store, 'alice').id).toBe('1x1');
    expect(loadLayout(null, 'alice').id).toBe('1x1');
    const broken = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(loadLayout(broken, 'alice').id).toBe('1x1');
    expect(() => saveLayout(broken, 'alice', '2x2')).not.toThrow();
    expect(() => saveLayout(null, 'alice', '2x2')).not.toThrow();
  });
});
