// The viewer's loading arithmetic: outward order, cache budget, eviction order, the transfer syntax table.
import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import { budgetBytes, CacheKeeper, DEFAULT_CACHE_MB, evictionOrder, fetchCacheMegabytes, prefetchLimit, type ImageCache } from '../src/viewer-cache';
import { outwardOrder } from '../src/viewer-prefetch';
import { BROWSER_SYNTAXES, decodableStack, forcedSyntaxes, needsTranscoding, TRANSCODED_SYNTAXES } from '../src/viewer-prefetch-syntax';
import { stackImages } from '../src/viewer-model';

const MB = 1024 * 1024;

describe('outwardOrder', () => {
  it('starts at the shown image and alternates outwards', () => {
    expect(outwardOrder(5, 11)).toEqual([5, 6, 4, 7, 3, 8, 2, 9, 1, 10, 0]);
  });
  it('runs on one side when the other is exhausted', () => {
    expect(outwardOrder(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(outwardOrder(4, 5)).toEqual([4, 3, 2, 1, 0]);
    expect(outwardOrder(1, 6)).toEqual([1, 2, 0, 3, 4, 5]);
  });
  it('stops at the limit, nearest first, and handles edge cases', () => {
    expect(outwardOrder(500, 1000, 5)).toEqual([500, 501, 499, 502, 498]);
    expect(outwardOrder(999, 1000, 3)).toEqual([999, 998, 997]);
    expect(outwardOrder(0, 0)).toEqual([]);
    expect(outwardOrder(3, 10, 0)).toEqual([]);
    expect(outwardOrder(42, 3)).toEqual([2, 1, 0]); // centre clamped
    const all = outwardOrder(123, 1000);
    expect(new Set(all).size).toBe(1000);
  });
});

describe('cache budget', () => {
  it('turns the configured megabytes into bytes within the bounds', () => {
    expect(budgetBytes(1024)).toBe(1024 * MB);
    expect(budgetBytes(undefined)).toBe(DEFAULT_CACHE_MB * MB);
    expect(budgetBytes('512')).toBe(DEFAULT_CACHE_MB * MB);
    expect(budgetBytes(Number.NaN)).toBe(DEFAULT_CACHE_MB * MB);
    expect(budgetBytes(1)).toBe(64 * MB);
    expect(budgetBytes(1e9)).toBe(16384 * MB);
  });
  it('prefetches what fits in 90 % of the budget after the other shown series', () => {
    expect(prefetchLimit({ budget: 128 * MB, imageBytes: 128 * 1024, otherShownBytes: 0, total: 1000 })).toBe(921);
    expect(prefetchLimit({ budget: 1024 * MB, imageBytes: 512 * 1024, otherShownBytes: 0, total: 134 })).toBe(134);
    expect(prefetchLimit({ budget: 128 * MB, imageBytes: 128 * 1024, otherShownBytes: 64 * MB, total: 1000 })).toBe(409);
    expect(prefetchLimit({ budget: 64 * MB, imageBytes: 100 * MB, otherShownBytes: 0, total: 10 })).toBe(1); // the shown one
    expect(prefetchLimit({ budget: 64 * MB, imageBytes: 0, otherShownBytes: 0, total: 10 })).toBe(10); // size unknown
  });
  it('evicts series no viewport shows, the longest unseen first', () => {
    expect(
      evictionOrder([
        { key: 'a', shown: false, lastShown: 30 },
        { key: 'b', shown: true, lastShown: 10 },
        { key: 'c', shown: false, lastShown: 20 },
      ]),
    ).toEqual(['c', 'a']);
  });
  it('reads the budget from auth/me, the default otherwise', async () => {
    const answer = (status: number, body: unknown) => (async () => new Response(JSON.stringify(body), { status })) as unknown as typeof fetch;
    expect(await fetchCacheMegabytes('/api/', answer(200, { viewer: { cacheMegabytes: 256 } }))).toBe(256);
    expect(await fetchCacheMegabytes('/api/', answer(200, { user: {} }))).toBe(DEFAULT_CACHE_MB);
    expect(await fetchCacheMegabytes('/api/', answer(404, {}))).toBe(DEFAULT_CACHE_MB);
    const failing = (async () => {
      throw new Error('offline');
    }) as unknown as typeof fetch;
    expect(await fetchCacheMegabytes('/api/', failing)).toBe(DEFAULT_CACHE_MB);
  });
});

/** A cache of fixed-size images for CacheKeeper. */
function fakeCache(imageBytes: number, max: number): ImageCache & { ids: Set<string> } {
  const ids = new Set<string>();
  let maxSize = max;
  return {
    ids,
    isLoaded: (id) => ids.has(id),
    getCacheSize: () => ids.size * imageBytes,
    getMaxCacheSize: () => maxSize,
    setMaxCacheSize: (b) => void (maxSize = b),
    removeImageLoadObject: (id) => void ids.delete(id),
  };
}

describe('CacheKeeper', () => {
  it('evicts older unshown series before a shown one, never a shown one', () => {
    let t = 0;
    const cache = fakeCache(1, 10);
    const keeper = new CacheKeeper(cache, () => ++t);
    const series = (p: string) => Array.from({ length: 4 }, (_, i) => `${p}${i}`);
    keeper.show('vp0', 'A', series('A'));
    series('A').forEach((id) => cache.ids.add(id));
    keeper.show('vp0', 'B', series('B')); // A no longer shown
    series('B').forEach((id) => cache.ids.add(id));
    keeper.show('vp1', 'C', series('C'));
    series('C').slice(0, 2).forEach((id) => cache.ids.add(id));
    // 10 cached of 10: 4 more needed → A (unshown) goes, B and C stay
    expect(keeper.makeRoom(4)).toBe(4);
    expect([...cache.ids].sort()).toEqual([...series('B'), 'C0', 'C1'].sort());
    // nothing unshown left: shown series are kept even if the room is not there
    expect(keeper.makeRoom(100)).toBe(0);
    expect(cache.ids.size).toBe(6);
    keeper.setImageBytes('B', 1);
    expect(keeper.otherShownBytes('C')).toBe(4);
  });
});

describe('transfer syntax table', () => {
  const ct = [
    '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5',
    '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.55',
    '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81',
    '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91',
  ];
  it('covers every syntax of ts_ct_matrix, deflate and the 12-bit JPEG processes transcoded', () => {
    const transcoded = ct.filter((ts) => needsTranscoding(ts));
    expect(transcoded).toEqual(['1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.55']);
    for (const ts of ct) expect(BROWSER_SYNTAXES.has(ts) !== TRANSCODED_SYNTAXES.has(ts)).toBe(true);
  });
  it('transcodes unknown compressions, leaves an unknown syntax to the file, obeys the forced list', () => {
    expect(needsTranscoding('1.2.840.10008.1.2.4.100')).toBe(true); // MPEG2: no browser decoder
    expect(needsTranscoding('')).toBe(false);
    expect(needsTranscoding('1.2.840.10008.1.2.4.80', new Set(['1.2.840.10008.1.2.4.80']))).toBe(true);
    expect([...forcedSyntaxes(' 1.2.840.10008.1.2.4.80 ,bad value,1.2.3,')]).toEqual(['1.2.840.10008.1.2.4.80', '1.2.3']);
    expect(forcedSyntaxes(null).size).toBe(0);
  });
  it('points the images of those instances at the transcoding route, frames kept', () => {
    const series = {
      seriesInstanceUid: '1.2', orthancId: 's', seriesNumber: 1, modality: 'CT', seriesDescription: '', bodyPartExamined: '', instanceCount: 2,
      instances: [
        { sopInstanceUid: '1.2.1', orthancId: 'aa', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: 1, numberOfFrames: 1, imagePositionPatient: null, imageOrientationPatient: null, transferSyntaxUid: '1.2.840.10008.1.2.1' },
        { sopInstanceUid: '1.2.2', orthancId: 'bb', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', instanceNumber: 2, numberOfFrames: 2, imagePositionPatient: null, imageOrientationPatient: null, transferSyntaxUid: '1.2.840.10008.1.2.4.51' },
      ],
    } as unknown as Series;
    const stack = decodableStack(stackImages(series, 'http://h/'), series, 'http://h/api/');
    expect(stack.map((i) => i.imageId)).toEqual([
      'wadouri:http://h/instances/aa/file',
      'wadouri:http://h/api/dicom/instances/bb/transcoded?frame=1',
      'wadouri:http://h/api/dicom/instances/bb/transcoded?frame=2',
    ]);
  });
});
