import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError } from '../src/api';
import { parseSliceValues, startValuesStream, type ValuesWorker } from '../src/viewer-volume-values';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name.toLowerCase()] ?? null });

describe('parseSliceValues', () => {
  it('reads int16 values with their range and the file window', () => {
    const body = new Int16Array([-1024, 0, 40, 3071, 5, 6]).buffer;
    const s = parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-columns': '3', 'x-rr-rows': '2', 'x-rr-range': '-1024 3071', 'x-rr-window': '40 400' }), body);
    expect(s).not.toBeNull();
    expect(s!.values).toBeInstanceOf(Int16Array);
    expect(Array.from(s!.values)).toEqual([-1024, 0, 40, 3071, 5, 6]);
    expect([s!.columns, s!.rows, s!.min, s!.max, s!.integral]).toEqual([3, 2, -1024, 3071, true]);
    expect(s!.window).toEqual({ center: 40, width: 400 });
  });

  it('reads float32 values, computes a missing range, ignores a bad window', () => {
    const body = new Float32Array([0.5, -2.25]).buffer;
    const s = parseSliceValues(headers({ 'x-rr-values': 'float32', 'x-rr-columns': '2', 'x-rr-rows': '1', 'x-rr-window': '40 0' }), body);
    expect(s!.values).toBeInstanceOf(Float32Array);
    expect([s!.min, s!.max, s!.integral]).toEqual([-2.25, 0.5, false]);
    expect(s!.window).toBeNull();
  });

  it('refuses an answer that is not one: unknown type, wrong size, missing dimensions', () => {
    const body = new Int16Array(6).buffer;
    expect(parseSliceValues(headers({ 'x-rr-values': 'int32', 'x-rr-columns': '3', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-columns': '4', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'float32', 'x-rr-columns': '3', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({ 'x-rr-values': 'int16', 'x-rr-rows': '2' }), body)).toBeNull();
    expect(parseSliceValues(headers({}), body)).toBeNull();
  });
});

/** A stand-in for the values worker: records what the page posts, delivers what a test says. */
class FakeWorker implements ValuesWorker {
  posted: Record<string, unknown>[] = [];
  private listeners = { message: new Set<(e: MessageEvent | Event) => void>(), error: new Set<(e: MessageEvent | Event) => void>() };
  postMessage(m: unknown): void {
    this.posted.push(m as Record<string, unknown>);
  }
  addEventListener(type: 'message' | 'error', l: (e: MessageEvent | Event) => void): void {
    this.listeners[type].add(l);
  }
  removeEventListener(type: 'message' | 'error', l: (e: MessageEvent | Event) => void): void {
    this.listeners[type].delete(l);
  }
  count(): number {
    return this.listeners.message.size + this.listeners.error.size;
  }
  deliver(data: unknown): void {
    for (const l of [...this.listeners.message]) l({ data } as MessageEvent);
  }
  fail(): void {
    for (const l of [...this.listeners.error]) l(new Event('error'));
  }
}

const sliceHeaders = { 'x-rr-values': 'int16', 'x-rr-columns': '2', 'x-rr-rows': '1', 'x-rr-range': '-5 7' };
const sliceBody = (): ArrayBuffer => new Int16Array([-5, 7]).buffer;
const slices = [
  { k: 4, instanceId: 'i4', frame: 0 },
  { k: 3, instanceId: 'i3', frame: 0 },
  { k: 5, instanceId: 'i5', frame: 2 },
];

describe('startValuesStream (the values worker)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('posts one job: the absolute API root, the slices in order, the concurrency', () => {
    const w = new FakeWorker();
    const s = startValuesStream(new Api('http://host/api/'), slices, { concurrency: 6, worker: w });
    expect(s).not.toBeNull();
    const job = w.posted[0]!;
    expect(job.type).toBe('fetch');
    expect(job.base).toBe('http://host/api/');
    expect(job.concurrency).toBe(6);
    expect(job.slices).toEqual([
      { k: 4, path: 'dicom/instances/i4/frames/0/values' },
      { k: 3, path: 'dicom/instances/i3/frames/0/values' },
      { k: 5, path: 'dicom/instances/i5/frames/2/values' },
    ]);
    expect((job.headers as Record<string, string>).Accept).toBe('application/octet-stream');
    s!.cancel();
  });

  it('gives each slice once, whether it arrived before or after take; ignores other jobs', async () => {
    const w = new FakeWorker();
    const s = startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2, worker: w })!;
    const id = w.posted[0]!.id;
    w.deliver({ type: 'slice', id, k: 3, status: 200, headers: sliceHeaders, body: sliceBody() });
    const early = await s.take(3);
    expect(Array.from(early!.values)).toEqual([-5, 7]);
    expect([early!.min, early!.max]).toEqual([-5, 7]);
    const later = s.take(4)!;
    w.deliver({ type: 'slice', id: (id as number) + 100, k: 4, status: 200, headers: sliceHeaders, body: new Int16Array([1, 1]).buffer });
    w.deliver({ type: 'slice', id, k: 4, status: 200, headers: sliceHeaders, body: sliceBody() });
    expect(Array.from((await later)!.values)).toEqual([-5, 7]);
    expect(s.take(3)).toBeNull(); // taken already
    expect(s.take(9)).toBeNull(); // not in the stream
    s.cancel();
    expect(w.count()).toBe(0);
    expect(w.posted.at(-1)).toEqual({ type: 'cancel', id });
  });

  it('says what fetchSliceValues says: null for an answer that is not a slice, errors for a network failure and an ended session', async () => {
    const w = new FakeWorker();
    const s = startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2, worker: w })!;
    const id = w.posted[0]!.id;
    w.deliver({ type: 'slice', id, k: 4, status: 404, headers: {}, body: new ArrayBuffer(3) });
    w.deliver({ type: 'error', id, k: 3, message: 'Failed to fetch' });
    w.deliver({ type: 'slice', id, k: 5, status: 403, headers: {}, body: new ArrayBuffer(0) });
    expect(await s.take(4)).toBeNull();
    await expect(s.take(3)).rejects.toMatchObject({ status: 0, message: 'Network error: Failed to fetch' });
    await expect(s.take(5)).rejects.toBeInstanceOf(ApiError);
    s.cancel();
  });

  it('when aborted, stops the worker\'s job and rejects what is waited for', async () => {
    const w = new FakeWorker();
    const abort = new AbortController();
    const s = startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2, worker: w, signal: abort.signal })!;
    const waiting = s.take(4)!;
    abort.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(w.posted.at(-1)).toMatchObject({ type: 'cancel' });
    await expect(s.take(3)).rejects.toMatchObject({ name: 'AbortError' });
    expect(w.count()).toBe(0);
  });

  it('reads on the main thread what is waited for when the worker fails or the stream is cancelled', async () => {
    const urls: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url);
      return new Response(sliceBody(), { status: 200, headers: sliceHeaders });
    });
    const w = new FakeWorker();
    const api = new Api('http://host/api/');
    const s = startValuesStream(api, slices, { concurrency: 2, worker: w })!;
    const a = s.take(4)!;
    w.fail();
    expect(Array.from((await a)!.values)).toEqual([-5, 7]);
    expect(urls).toEqual(['http://host/api/dicom/instances/i4/frames/0/values']);
    const s2 = startValuesStream(api, slices, { concurrency: 2, worker: w })!;
    const b = s2.take(5)!;
    s2.cancel();
    expect((await b)!.columns).toBe(2);
    expect(urls.at(-1)).toBe('http://host/api/dicom/instances/i5/frames/2/values');
    expect((await s2.take(3))!.rows).toBe(1); // after cancel: read on the main thread
  });

  it('reads on the main thread what is waited for once the worker stopped its job', async () => {
    vi.stubGlobal('fetch', async () => new Response(null, { status: 404 }));
    const w = new FakeWorker();
    const s = startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2, worker: w })!;
    const id = w.posted[0]!.id;
    const waiting = s.take(3)!;
    w.deliver({ type: 'slice', id, k: 4, status: 404, headers: {}, body: new ArrayBuffer(0) });
    w.deliver({ type: 'stopped', id });
    expect(await s.take(4)).toBeNull();
    expect(await waiting).toBeNull(); // read on the main thread: 404 there too
    s.cancel();
  });

  it('is null without a worker or without slices', () => {
    expect(startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2, worker: null })).toBeNull();
    expect(startValuesStream(new Api('http://host/api/'), [], { concurrency: 2, worker: new FakeWorker() })).toBeNull();
  });
});

describe('warmValuesWorker', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('starts the page\'s one values worker ahead; the first stream posts its job to that worker', async () => {
    const made: FakeWorker[] = [];
    vi.stubGlobal(
      'Worker',
      class extends FakeWorker {
        constructor() {
          super();
          made.push(this);
        }
      },
    );
    vi.resetModules();
    const values = await import('../src/viewer-volume-values');
    values.warmValuesWorker();
    values.warmValuesWorker();
    expect(made).toHaveLength(1);
    expect(made[0]!.posted).toEqual([]); // started, nothing asked yet
    const s = values.startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2 });
    expect(s).not.toBeNull();
    expect(made).toHaveLength(1);
    expect(made[0]!.posted[0]!.type).toBe('fetch');
    s!.cancel();
  });

  it('never throws where no worker can be started; streams are then null (read on the main thread)', async () => {
    vi.stubGlobal(
      'Worker',
      class {
        constructor() {
          throw new Error('no workers here');
        }
      },
    );
    vi.resetModules();
    const values = await import('../src/viewer-volume-values');
    expect(() => values.warmValuesWorker()).not.toThrow();
    expect(values.startValuesStream(new Api('http://host/api/'), slices, { concurrency: 2 })).toBeNull();
  });
});
