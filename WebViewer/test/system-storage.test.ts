// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import {
  averageGrowth,
  daysUntilFull,
  formatBytes,
  formatFolderSpace,
  formatGrowth,
  formatThreshold,
  growthRows,
  parseStorage,
  renderStorage,
  barHeights,
} from '../src/system-storage';
import { healthProblems, parseHealth } from '../src/system-api';

/** GET /api/admin/storage as the plugin answers it (shape of a real run). */
function storageBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    status: 'ok',
    storageFolder: { path: '/var/lib/orthanc/db', totalBytes: 1_000_000_000_000, freeBytes: 812_000_000_000, freePercent: 81.2 },
    indexFolder: { path: '/var/lib/orthanc/db', totalBytes: 1_000_000_000_000, freeBytes: 812_000_000_000, freePercent: 81.2 },
    sameFileSystem: true,
    orthancDiskBytes: 150_000_000_000,
    orthancUncompressedBytes: 160_000_000_000,
    orthancInstances: 123456,
    warnFreePercent: 10,
    warnFreeGigabytes: 0,
    days: [
      { date: '2026-12-01', diskBytes: 147_000_000_000 },
      { date: '2026-12-02', diskBytes: 148_000_000_000 },
      { date: '2026-12-04', diskBytes: 150_000_000_000 },
    ],
    ...over,
  };
}

describe('storage formatting', () => {
  it('formats bytes in decimal units, growth with a sign', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1536)).toBe('1.54 kB');
    expect(formatBytes(2.5e9)).toBe('2.50 GB');
    expect(formatBytes(812e9)).toBe('812 GB');
    expect(formatBytes(1e12)).toBe('1.00 TB');
    expect(formatBytes(null)).toBe('—');
    expect(formatGrowth(1.2e9)).toBe('+1.20 GB/day');
    expect(formatGrowth(-3e6)).toBe('−3.00 MB/day');
    expect(formatGrowth(0)).toBe('0 B/day');
    expect(formatGrowth(null)).toBe('—');
  });

  it('describes a folder\'s free space and the threshold', () => {
    const r = parseStorage(storageBody());
    expect(formatFolderSpace(r.storageFolder)).toBe('812 GB free of 1.00 TB (81.2 %)');
    expect(formatFolderSpace({ path: '/x', totalBytes: null, freeBytes: null, freePercent: null, error: 'cannot read the free space of the folder: No such file or directory' })).toMatch(/No such file/);
    expect(formatThreshold(10, 0)).toBe('below 10 % free');
    expect(formatThreshold(10, 50)).toBe('below 10 % or 50 GB free');
    expect(formatThreshold(0, 0)).toBe('off');
  });

  it('computes growth per day, spreading gaps, and the days left', () => {
    const r = parseStorage(storageBody());
    expect(growthRows(r.days)).toEqual([
      { date: '2026-12-01', diskBytes: 147e9, growth: null },
      { date: '2026-12-02', diskBytes: 148e9, growth: 1e9 },
      { date: '2026-12-04', diskBytes: 150e9, growth: 1e9 }, // two days for 2 GB
    ]);
    expect(averageGrowth(r.days)).toBe(1e9);
    expect(averageGrowth(r.days.slice(0, 1))).toBeNull();
    expect(daysUntilFull(812e9, 1e9)).toBe(812);
    expect(daysUntilFull(812e9, -5)).toBeNull();
    expect(averageGrowth([{ date: '2026-12-31', diskBytes: 0 }, { date: '2027-01-02', diskBytes: 4 }])).toBe(2);
  });

  it('scales the bars of the sparkline to the range, half height when nothing changes', () => {
    const r = parseStorage(storageBody());
    expect(barHeights(r.days)).toEqual([4, 36, 100]);
    expect(barHeights([{ date: '2026-12-01', diskBytes: 5 }, { date: '2026-12-02', diskBytes: 5 }])).toEqual([50, 50]);
    expect(barHeights([])).toEqual([]);
  });

  it('drops malformed days and mistyped fields', () => {
    const r = parseStorage(storageBody({ days: [{ date: '<b>x</b>', diskBytes: 1 }, { date: '2026-12-01', diskBytes: 'lots' }, 7, { date: '2026-12-02', diskBytes: 3 }], orthancDiskBytes: '12' }));
    expect(r.days).toEqual([{ date: '2026-12-02', diskBytes: 3 }]);
    expect(r.orthancDiskBytes).toBeNull();
    expect(parseStorage(null).storageFolder.path).toBe('');
  });
});

describe('storage card', () => {
  it('shows the disk use, free space, growth, warning and a table, as text only', () => {
    const warning = 'Orthanc\'s storage folder has 3.0 GB free (0.3 %), below Storage.WarnFreePercent (10 %) <img src=x onerror=alert(1)>';
    const els = renderStorage(document, parseStorage(storageBody({ status: 'low', warning })));
    const root = document.createElement('div');
    root.append(...els);
    const text = root.textContent ?? '';
    expect(text).toContain('150 GB (123,456 instances)');
    expect(text).toContain('812 GB free of 1.00 TB (81.2 %)');
    expect(text).toContain('+1.00 GB/day');
    expect(text).toContain('about 812 days at this rate');
    expect(text).toContain('below 10 % free');
    expect(root.querySelector('.storage-warning')?.textContent).toContain(warning);
    expect(root.querySelector('img')).toBeNull();
    const rows = [...root.querySelectorAll('table.storage-days tbody tr')].map((tr) => tr.textContent);
    expect(rows[0]).toBe('2026-12-04150 GB+1.00 GB/day'); // newest first
    expect(rows).toHaveLength(3);
    const bars = [...root.querySelectorAll<HTMLElement>('.storage-sparkline .storage-bar')];
    expect(bars.map((b) => b.getAttribute('style'))).toEqual(['height: 4%', 'height: 36%', 'height: 100%']);
    expect(bars[2]?.getAttribute('title')).toBe('2026-12-04: 150 GB');
  });

  it('names the index folder apart when it is on another file system', () => {
    const els = renderStorage(document, parseStorage(storageBody({ sameFileSystem: false, indexFolder: { path: '/ssd/index', totalBytes: 100e9, freeBytes: 20e9, freePercent: 20 } })));
    const root = document.createElement('div');
    root.append(...els);
    expect(root.querySelector('[data-field="indexFree"]')?.textContent).toContain('20.0 GB free of 100 GB (20.0 %)');
  });
});

describe('health problems of this issue', () => {
  it('names a store that cannot be written, a missing audit head and low disk space', () => {
    const h = parseHealth({
      status: 'degraded',
      store: { backend: 'sqlite', status: 'full', error: 'no space left for the store in /data (12 KiB free)' },
      ingest: { running: true, lastError: '' },
      audit: { written: 3, anchor: { records: 44, headHash: 'ab', problem: 'head missing: 3 records deleted after #41 (the anchor is at #44)' } },
      storage: { status: 'low', warning: 'Orthanc\'s storage folder has 1.0 GB free, below Storage.WarnFreeGigabytes (5 GB)' },
    });
    expect(h.audit?.anchor?.records).toBe(44);
    expect(h.storage?.status).toBe('low');
    expect(healthProblems(h)).toEqual([
      'The store is full (ingestion waits): no space left for the store in /data (12 KiB free)',
      'The audit trail\'s newest records are missing (head missing: 3 records deleted after #41 (the anchor is at #44)).',
      'Low disk space: Orthanc\'s storage folder has 1.0 GB free, below Storage.WarnFreeGigabytes (5 GB).',
    ]);
    expect(healthProblems(parseHealth({ status: 'degraded', store: { status: 'read-only', error: 'x' } }))[0]).toBe('The store is read-only (ingestion waits): x');
  });
});
