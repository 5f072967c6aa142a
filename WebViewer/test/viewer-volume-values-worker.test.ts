import { afterAll, describe, expect, it, vi } from 'vitest';

// The values worker's module run in a stand-in worker scope: `self` with postMessage and onmessage.
const posts: { message: Record<string, unknown>; transfer: unknown[] | undefined }[] = [];
const scope: { postMessage(m: unknown, t?: unknown[]): void; onmessage: ((e: MessageEvent) => void) | null } = {
  postMessage: (m, t) => posts.push({ message: m as Record<string, unknown>, transfer: t }),
  onmessage: null,
};
const hadSelf = 'self' in globalThis;
const oldSelf = (globalThis as { self?: unknown }).self;
(globalThis as { self?: unknown }).self = scope;
await import('../src/viewer-volume-values.worker');

afterAll(() => {
  if (hadSelf) (globalThis as { self?: unknown }).self = oldSelf;
  else delete (globalThis as { self?: unknown }).self;
  vi.unstubAllGlobals();
});

const send = (data: unknown): void => scope.onmessage!({ data } as MessageEvent);
const until = async (ok: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 2));
};

describe('viewer-volume-values.worker', () => {
  it('reads the slices in order, a few at a time, and hands each answer over with its body transferred', async () => {
    posts.length = 0;
    let inFlight = 0;
    let most = 0;
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      urls.push(String(url));
      expect(init.credentials).toBe('same-origin');
      expect((init.headers as Record<string, string>).Accept).toBe('application/octet-stream');
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return new Response(new Int16Array([1, 2]).buffer, { status: 200, headers: { 'X-RR-Values': 'int16', 'X-RR-Columns': '2', 'X-RR-Rows': '1', 'X-Other': 'no' } });
    });
    const slices = Array.from({ length: 7 }, (_, i) => ({ k: 10 - i, path: `dicom/instances/i%20${i}/frames/${i % 2}/values` }));
    send({ type: 'fetch', id: 1, base: 'http://host/api/', headers: { Accept: 'application/octet-stream' }, slices, concurrency: 3 });
    await until(() => posts.length === 7);
    expect(urls[0]).toBe('http://host/api/dicom/instances/i%200/frames/0/values');
    expect(urls.length).toBe(7);
    expect(most).toBe(3);
    expect(posts.map((p) => p.message.k as number).sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    const first = posts.find((p) => p.message.k === 10)!;
    expect(first.message).toMatchObject({ type: 'slice', id: 1, status: 200, headers: { 'x-rr-values': 'int16', 'x-rr-columns': '2', 'x-rr-rows': '1' } });
    expect(first.message.headers).not.toHaveProperty('x-other');
    expect(first.transfer).toEqual([first.message.body]);
  });

  it('stops its job after an answer that is not a slice, and says so after that answer', async () => {
    posts.length = 0;
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      urls.push(String(url));
      const bad = url.pathname.includes('/bad/');
      await new Promise((r, reject) => {
        const t = setTimeout(r, bad ? 1 : 30);
        init.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
      return new Response(new ArrayBuffer(bad ? 0 : 4), { status: bad ? 404 : 200 });
    });
    const slices = ['ok', 'bad', 'x1', 'x2', 'x3', 'x4'].map((id, k) => ({ k, path: `dicom/instances/${id}/frames/0/values` }));
    send({ type: 'fetch', id: 7, base: 'http://host/api/', headers: {}, slices, concurrency: 2 });
    await until(() => posts.some((p) => p.message.type === 'stopped'));
    await new Promise((r) => setTimeout(r, 60));
    expect(posts.map((p) => p.message.type)).toEqual(['slice', 'stopped']);
    expect(posts[0]!.message).toMatchObject({ k: 1, status: 404 });
    expect(urls.length).toBe(2); // the two first; the one in flight aborted, no more asked
  });

  it('reports a failed request and stops; stops a cancelled job', async () => {
    posts.length = 0;
    let calls = 0;
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      calls++;
      if (String(url).includes('/down/')) throw new TypeError('Failed to fetch');
      await new Promise((r, reject) => {
        const t = setTimeout(r, 20);
        init.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
      return new Response(new ArrayBuffer(4), { status: 200 });
    });
    send({ type: 'fetch', id: 2, base: 'http://host/api/', headers: {}, slices: [{ k: 0, path: 'dicom/instances/down/frames/0/values' }, { k: 1, path: 'dicom/instances/a/frames/0/values' }], concurrency: 1 });
    await until(() => posts.length === 2);
    await new Promise((r) => setTimeout(r, 40));
    expect(posts.map((p) => p.message)).toEqual([{ type: 'error', id: 2, k: 0, message: 'Failed to fetch' }, { type: 'stopped', id: 2 }]);
    expect(calls).toBe(1);
    posts.length = 0;
    calls = 0;
    send({ type: 'fetch', id: 3, base: 'http://host/api/', headers: {}, slices: [0, 1, 2, 3].map((k) => ({ k, path: `dicom/instances/s${k}/frames/0/values` })), concurrency: 1 });
    send({ type: 'cancel', id: 3 });
    await new Promise((r) => setTimeout(r, 60));
    expect(posts).toEqual([]);
    expect(calls).toBe(1);
  });
});
