// Annotations on the wire: cornerstone annotation ↔ wire format (viewer-annotations-wire.ts), the save queue
// with retry, back-off, coalescing and localStorage (viewer-annotations-queue.ts), and the REST client's
// requests and outcomes (viewer-annotations-api.ts).
import { describe, expect, it } from 'vitest';
import { AnnotationsClient } from '../src/viewer-annotations-api';
import { loadPending, pendingKey, SaveQueue, type Op, type Outcome } from '../src/viewer-annotations-queue';
import { fromWire, readStudyAnnotations, sameAnnotation, toWire, type CsAnnotation, type WireBody } from '../src/viewer-annotations-wire';
import type { Measurement } from '../src/viewer-measure-model';

const WHERE = { seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4', frame: 2 };
const STATS: Measurement = { length: 42.5, unit: 'mm', areaUnit: 'mm²', valueUnit: 'HU', unitSource: 'PixelSpacing' };

function length(uid = 'abc-1'): CsAnnotation {
  return {
    annotationUID: uid,
    metadata: { toolName: 'Length', referencedImageId: 'wadouri:http://x/instances/o1/file?frame=2', FrameOfReferenceUID: '1.9', viewPlaneNormal: [0, 0, -1], viewUp: [0, -1, 0] },
    data: { handles: { points: [[1, 2, 3], [4.5, 6, 3]], textBox: { hasMoved: true, worldPosition: [9, 9, 3] } }, label: 'aorta', cachedStats: { x: { length: 1 } } },
  };
}

describe('wire format', () => {
  it('keeps SOP + frame, world points, frame of reference, camera, values and units; not the imageId', () => {
    const w = toWire(length(), WHERE, STATS)!;
    expect(w).toEqual({
      annotationUid: 'abc-1',
      ...WHERE,
      tool: 'Length',
      label: 'aorta',
      data: {
        points: [[1, 2, 3], [4.5, 6, 3]],
        frameOfReferenceUID: '1.9',
        viewPlaneNormal: [0, 0, -1],
        viewUp: [0, -1, 0],
        unitSource: 'PixelSpacing',
        stats: STATS,
        textBox: [9, 9, 3],
      },
    });
    expect(JSON.stringify(w)).not.toContain('wadouri');
  });

  it('reads back into an annotation cornerstone accepts, on the given imageId, locked when asked', () => {
    const w = toWire(length(), WHERE, STATS)!;
    const cs = fromWire(w, 'wadouri:other', true);
    expect(cs.annotationUID).toBe('abc-1');
    expect(cs.isLocked).toBe(true);
    expect(cs.metadata).toEqual({ toolName: 'Length', referencedImageId: 'wadouri:other', FrameOfReferenceUID: '1.9', viewPlaneNormal: [0, 0, -1], viewUp: [0, -1, 0] });
    expect(cs.data.handles?.points).toEqual([[1, 2, 3], [4.5, 6, 3]]);
    expect(cs.data.label).toBe('aorta');
    expect(cs.data.cachedStats).toEqual({});
    // and out again: the same body
    const again = toWire(cs, WHERE, STATS)!;
    expect(again).toEqual(w);
    expect(sameAnnotation(again, w)).toBe(true);
  });

  it('round-trips through the server JSON (arrow text, freehand contour, SR source)', () => {
    const arrow: CsAnnotation = { annotationUID: 'u2', metadata: { toolName: 'ArrowAnnotate', FrameOfReferenceUID: '1.9' }, data: { handles: { points: [[0, 0, 0], [1, 1, 0]] }, text: 'look here' } };
    const free: CsAnnotation = {
      annotationUID: 'u3',
      metadata: { toolName: 'PlanarFreehandROI' },
      data: { handles: { points: [] }, contour: { polyline: [[0, 0, 0], [5, 0, 0], [5, 5, 0]], closed: true }, label: '', rrSource: 'sr' },
    };
    const stored = [toWire(arrow, WHERE, null)!, toWire(free, WHERE, null)!].map((b, i) => ({ ...b, author: 'rad1', createdAt: '2026-12-04T10:00:00Z', updatedAt: '2026-12-04T10:00:00Z', version: i + 1 }));
    expect(stored[0]!.label).toBe('look here');
    const read = readStudyAnnotations(JSON.parse(JSON.stringify({ data: stored, keyImages: [{ sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3', frame: 1, author: 'rad1', createdAt: 'x' }] })));
    expect(read.data).toEqual(stored);
    expect(read.skipped).toBe(0);
    expect(read.keyImages).toHaveLength(1);
    const back = fromWire(read.data[1]!, 'id', false);
    expect(back.data.contour).toEqual({ polyline: [[0, 0, 0], [5, 0, 0], [5, 5, 0]], closed: true });
    expect(back.data.rrSource).toBe('sr');
    expect(fromWire(read.data[0]!, 'id', false).data.text).toBe('look here');
  });

  it('refuses what the server would: bad UIDs, unknown tools, no points; cuts long labels', () => {
    expect(toWire({ ...length('bad uid!') }, WHERE, null)).toBeNull();
    expect(toWire({ ...length(), metadata: { toolName: 'Crosshairs' } }, WHERE, null)).toBeNull();
    expect(toWire({ ...length(), data: { handles: { points: [] } } }, WHERE, null)).toBeNull();
    const long = toWire({ ...length(), data: { ...length().data, label: 'x'.repeat(300) } }, WHERE, null)!;
    expect(long.label).toHaveLength(256);
  });

  it('skips stored entries it cannot show, and rejects an answer without data', () => {
    const ok = { ...toWire(length(), WHERE, null)!, author: 'a', createdAt: '', updatedAt: '', version: 3 };
    const r = readStudyAnnotations({ data: [ok, { ...ok, tool: 'Crosshairs' }, { ...ok, frame: 0 }, 'junk'] });
    expect(r.data.map((a) => a.version)).toEqual([3]);
    expect(r.skipped).toBe(3);
    expect(r.keyImages).toEqual([]);
    expect(() => readStudyAnnotations({ error: 'x' })).toThrow(/data/);
  });

  it('a moved point or a new label is a change; new values alone are not', () => {
    const a = toWire(length(), WHERE, STATS)!;
    const moved = toWire({ ...length(), data: { ...length().data, handles: { points: [[1, 2, 3], [5, 6, 3]] } } }, WHERE, STATS)!;
    const relabelled = toWire({ ...length(), data: { ...length().data, label: 'x' } }, WHERE, STATS)!;
    const restat = toWire(length(), WHERE, { ...STATS, length: 1 })!;
    expect(sameAnnotation(a, moved)).toBe(false);
    expect(sameAnnotation(a, relabelled)).toBe(false);
    expect(sameAnnotation(a, restat)).toBe(true);
    expect(sameAnnotation(null, null)).toBe(true);
    expect(sameAnnotation(a, null)).toBe(false);
  });
});

// ---- the save queue ----

class MemStorage {
  map = new Map<string, string>();
  getItem(k: string): string | null {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.map.set(k, v);
  }
  removeItem(k: string): void {
    this.map.delete(k);
  }
}

function body(uid: string, label = ''): WireBody {
  return { annotationUid: uid, ...WHERE, tool: 'Length', label, data: { points: [[0, 0, 0]], frameOfReferenceUID: '', viewPlaneNormal: null, viewUp: null, unitSource: 'pixels', stats: null } };
}

/** A queue whose transport answers from a script and whose timers run when told. */
function rig(answers: Outcome[], initial: Op[] = []) {
  const sent: Op[] = [];
  const states: string[] = [];
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const conflicts: string[] = [];
  const refused: string[] = [];
  const storage = new MemStorage();
  let release: (() => void) | null = null;
  let hold = false;
  const q = new SaveQueue(
    {
      send: async (op) => {
        sent.push(op);
        if (hold) await new Promise<void>((r) => (release = r));
        return answers.shift() ?? { ok: true };
      },
      storage,
      key: 'k',
      delays: [100, 200, 400],
      onState: (s) => states.push(s),
      onConflict: (_op, m) => conflicts.push(m),
      onRefused: (_op, m) => refused.push(m),
      setTimer: (fn, ms) => timers.push({ fn, ms }),
      clearTimer: () => {},
    },
    initial,
  );
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { q, sent, states, timers, conflicts, refused, storage, settle, holdNext: () => (hold = true), release: () => { hold = false; release?.(); } };
}

describe('save queue', () => {
  it('sends in order and reports Saving… then Saved; storage is emptied', async () => {
    const r = rig([]);
    r.q.push({ kind: 'put', uid: 'a', body: body('a') });
    r.q.push({ kind: 'mark', sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3', frame: 1 });
    expect(r.q.state()).toBe('saving');
    expect(JSON.parse(r.storage.getItem('k')!)).toHaveLength(2);
    await r.settle();
    await r.settle();
    expect(r.sent.map((o) => o.kind)).toEqual(['put', 'mark']);
    expect(r.q.state()).toBe('saved');
    expect(r.states.at(-1)).toBe('saved');
    expect(r.storage.getItem('k')).toBeNull();
  });

  it('retries a failed request with back-off, keeping it (and later ones) in storage', async () => {
    const r = rig([
      { ok: false, retry: true, message: 'Network error' },
      { ok: false, retry: true, message: 'HTTP 503' },
    ]);
    r.q.push({ kind: 'put', uid: 'a', body: body('a') });
    await r.settle();
    expect(r.q.state()).toBe('retrying');
    expect(r.timers.map((t) => t.ms)).toEqual([100]);
    r.q.push({ kind: 'delete', uid: 'b' });
    expect(r.sent).toHaveLength(1); // waits for the back-off, order kept
    expect(loadPending(r.storage, 'k').map((o) => o.kind)).toEqual(['put', 'delete']);
    r.timers[0]!.fn();
    await r.settle();
    expect(r.timers.map((t) => t.ms)).toEqual([100, 200]);
    r.timers[1]!.fn();
    await r.settle();
    await r.settle();
    expect(r.sent.map((o) => o.kind)).toEqual(['put', 'put', 'put', 'delete']);
    expect(r.q.state()).toBe('saved');
    expect(r.states).toContain('retrying');
  });

  it('a newer PUT of the same annotation replaces one waiting, not the one on the wire', async () => {
    const r = rig([]);
    r.holdNext();
    r.q.push({ kind: 'put', uid: 'a', body: body('a', 'one') });
    r.q.push({ kind: 'put', uid: 'a', body: body('a', 'two') });
    r.q.push({ kind: 'put', uid: 'a', body: body('a', 'three') });
    expect(r.q.pending().map((o) => (o.kind === 'put' ? o.body.label : ''))).toEqual(['one', 'three']);
    r.release();
    await r.settle();
    await r.settle();
    expect(r.sent.map((o) => (o.kind === 'put' ? o.body.label : ''))).toEqual(['one', 'three']);
  });

  it('conflicts and refusals are dropped and reported; the rest goes on', async () => {
    const r = rig([
      { ok: false, conflict: true, message: 'HTTP 412' },
      { ok: false, retry: false, message: 'label: too long' },
    ]);
    r.q.push({ kind: 'put', uid: 'a', body: body('a') });
    r.q.push({ kind: 'put', uid: 'b', body: body('b') });
    r.q.push({ kind: 'put', uid: 'c', body: body('c') });
    for (let i = 0; i < 4; i++) await r.settle();
    expect(r.conflicts).toEqual(['HTTP 412']);
    expect(r.refused).toEqual(['label: too long']);
    expect(r.sent).toHaveLength(3);
    expect(r.q.state()).toBe('saved');
  });

  it('operations kept from an earlier page are replayed first, in order', async () => {
    const storage = new MemStorage();
    const key = pendingKey('rad 1', '1.2.3');
    expect(key).toBe('rr.annotations.pending.rad%201.1.2.3');
    storage.setItem(key, JSON.stringify([{ kind: 'put', uid: 'a', body: body('a') }, { kind: 'bogus' }, { kind: 'unmark', sopInstanceUid: 's', frame: 1 }]));
    const pending = loadPending(storage, key);
    expect(pending.map((o) => o.kind)).toEqual(['put', 'unmark']);
    const r = rig([], pending);
    r.q.push({ kind: 'delete', uid: 'a' });
    for (let i = 0; i < 4; i++) await r.settle();
    expect(r.sent.map((o) => o.kind)).toEqual(['put', 'unmark', 'delete']);
    expect(loadPending({ getItem: () => '{not json' }, key)).toEqual([]);
  });

  it('stop() keeps what is pending for the next time', async () => {
    const r = rig([{ ok: false, retry: true, message: 'down' }]);
    r.q.push({ kind: 'put', uid: 'a', body: body('a') });
    await r.settle();
    r.q.stop();
    r.q.push({ kind: 'put', uid: 'b', body: body('b') });
    expect(loadPending(r.storage, 'k').map((o) => (o.kind === 'put' ? o.uid : ''))).toEqual(['a']);
  });
});

// ---- the REST client ----

describe('annotations client', () => {
  const api = { root: '/api/', headersFor: (m: string, b: boolean) => ({ 'X-Requested-With': 'XMLHttpRequest', ...(b ? { 'Content-Type': 'application/json' } : {}), ...(m !== 'GET' ? { 'X-CSRF-Token': 't' } : {}) }) };
  const answer = (status: number, json?: unknown) => new Response(json === undefined ? null : JSON.stringify(json), { status });

  it('sends the documented requests, with If-Match once a version is known', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    const replies = [
      answer(200, { data: [{ ...body('a'), author: 'me', createdAt: '', updatedAt: '', version: 4 }], keyImages: [] }),
      answer(200, { ...body('a'), author: 'me', createdAt: '', updatedAt: '', version: 5 }),
      answer(204),
      answer(201, {}),
      answer(404, { error: { code: 'not_found', message: 'not marked' } }),
    ];
    const c = new AnnotationsClient(api, '1.2.840.9', async (url, init) => {
      calls.push({ url, init: init ?? {} });
      return replies.shift()!;
    });
    const loaded = await c.load();
    expect(loaded.data).toHaveLength(1);
    expect(await c.send({ kind: 'put', uid: 'a', body: body('a', 'x') })).toEqual({ ok: true });
    expect(c.versions.get('a')).toBe(5);
    expect(await c.send({ kind: 'delete', uid: 'a' })).toEqual({ ok: true });
    expect(await c.send({ kind: 'mark', sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3', frame: 3 })).toEqual({ ok: true });
    expect(await c.send({ kind: 'unmark', sopInstanceUid: '1.2.3.4', frame: 3 })).toEqual({ ok: true }); // 404: already so
    expect(calls.map((x) => `${x.init.method ?? 'GET'} ${x.url}`)).toEqual([
      'GET /api/dicom/studies/1.2.840.9/annotations',
      'PUT /api/dicom/studies/1.2.840.9/annotations/a',
      'DELETE /api/dicom/studies/1.2.840.9/annotations/a',
      'PUT /api/dicom/studies/1.2.840.9/key-images/1.2.3.4/frames/3',
      'DELETE /api/dicom/studies/1.2.840.9/key-images/1.2.3.4/frames/3',
    ]);
    expect((calls[1]!.init.headers as Record<string, string>)['If-Match']).toBe('"4"');
    expect((calls[1]!.init.headers as Record<string, string>)['X-CSRF-Token']).toBe('t');
    expect(JSON.parse(calls[1]!.init.body as string).label).toBe('x');
    expect(JSON.parse(calls[3]!.init.body as string)).toEqual({ seriesInstanceUid: '1.2.3' });
  });

  it('maps answers to retry, conflict or refusal', async () => {
    const one = async (res: Response | Error) =>
      new AnnotationsClient(api, 's', async () => {
        if (res instanceof Error) throw res;
        return res;
      }).send({ kind: 'put', uid: 'a', body: body('a') });
    expect(await one(new TypeError('Failed to fetch'))).toMatchObject({ ok: false, retry: true });
    expect(await one(answer(503, { error: { message: 'busy' } }))).toEqual({ ok: false, retry: true, message: 'busy' });
    expect(await one(answer(403))).toMatchObject({ ok: false, retry: true }); // session ended: kept
    expect(await one(answer(412, { error: { message: 'stale' } }))).toEqual({ ok: false, conflict: true, message: 'stale' });
    expect(await one(answer(409, { error: 'cannot move' }))).toEqual({ ok: false, conflict: true, message: 'cannot move' });
    expect(await one(answer(403, { error: { message: 'not the author' } }))).toEqual({ ok: false, retry: false, message: 'not the author' });
    expect(await one(answer(400, { error: { message: 'label: too long' } }))).toEqual({ ok: false, retry: false, message: 'label: too long' });
  });
});

describe('size', () => {
  it('coordinates are kept to 1 µm and a huge freehand contour is thinned under the 64 KiB limit', () => {
    const polyline = Array.from({ length: 5000 }, (_, i) => [Math.cos(i / 800) * 100.123456789, Math.sin(i / 800) * 100.987654321, -12.3456789]);
    const w = toWire({ annotationUID: 'f', metadata: { toolName: 'PlanarFreehandROI' }, data: { handles: { points: [] }, contour: { polyline, closed: true } } }, WHERE, null)!;
    expect(new TextEncoder().encode(JSON.stringify(w.data)).length).toBeLessThan(64 * 1024);
    expect(w.data.contour!.polyline.length).toBeGreaterThan(500);
    expect(w.data.contour!.polyline[0]).toEqual([100.123, 0, -12.346]);
  });
});
