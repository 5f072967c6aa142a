import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api';
import { readReport, type DraftBody } from '../src/report-api';
import { DraftAutosave, draftKey, failureOutcome, loadStoredDraft, mergeChange, type AutosaveState, type SaveOutcome } from '../src/report-autosave';
import { reportBody } from './report-fixtures';

/** Timers run by hand: `run()` fires the earliest one. */
class Clock {
  private next = 1;
  timers = new Map<number, { fn: () => void; ms: number }>();
  set = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.timers.set(id, { fn, ms });
    return id;
  };
  clear = (h: unknown): void => void this.timers.delete(h as number);
  /** Fires the pending timers; returns their delays. */
  run(): number[] {
    const all = [...this.timers.entries()];
    this.timers.clear();
    for (const [, t] of all) t.fn();
    return all.map(([, t]) => t.ms);
  }
  delays(): number[] {
    return [...this.timers.values()].map((t) => t.ms);
  }
}

class MemStorage {
  m = new Map<string, string>();
  getItem = (k: string): string | null => this.m.get(k) ?? null;
  setItem = (k: string, v: string): void => void this.m.set(k, v);
  removeItem = (k: string): void => void this.m.delete(k);
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

function setup(answers: ((change: DraftBody, etag: string) => SaveOutcome | Promise<SaveOutcome>)[], replay: DraftBody | null = null) {
  const clock = new Clock();
  const storage = new MemStorage();
  const sent: { change: DraftBody; etag: string }[] = [];
  const states: string[] = [];
  const conflicts: DraftBody[] = [];
  let n = 0;
  let etag = 1;
  const saver = new DraftAutosave(
    {
      send: async (change, e) => {
        sent.push({ change, etag: e });
        const a = answers[n++];
        return a ? a(change, e) : { ok: true, report: readReport(reportBody({ etag: `"1.${++etag}"` })) };
      },
      storage,
      key: 'k',
      etag: '"1.1"',
      delays: [100, 200, 400],
      setTimer: clock.set,
      clearTimer: clock.clear,
      onState: (s: AutosaveState, d: string) => states.push(d ? `${s}:${d}` : s),
      onConflict: (u) => conflicts.push(u),
    },
    replay,
  );
  return { clock, storage, sent, states, conflicts, saver };
}

const ok = (etag: string) => (): SaveOutcome => ({ ok: true, report: readReport(reportBody({ etag })) });
const retry = (): SaveOutcome => ({ ok: false, retry: true, message: 'Network error' });

describe('report draft autosave', () => {
  it('debounces edits (~1 s), sends the newest state once with If-Match, then the answer\'s etag', async () => {
    const t = setup([ok('"1.2"'), ok('"1.3"')]);
    t.saver.change({ fields: { a: '1' } });
    t.saver.change({ fields: { a: '12' } });
    expect(t.clock.delays()).toEqual([1000]);
    expect(t.states).toEqual(['pending', 'pending']);
    expect(JSON.parse(t.storage.getItem('k')!).change).toEqual({ fields: { a: '12' } });
    t.clock.run();
    await flush();
    expect(t.sent).toEqual([{ change: { fields: { a: '12' } }, etag: '"1.1"' }]);
    expect(t.saver.state()).toBe('saved');
    expect(t.storage.getItem('k')).toBeNull();
    t.saver.change({ critical: true });
    t.clock.run();
    await flush();
    expect(t.sent[1]).toEqual({ change: { critical: true }, etag: '"1.2"' });
    expect(t.saver.currentEtag()).toBe('"1.3"');
  });

  it('one request at a time: edits during a save wait and go next, merged over what was sent', async () => {
    let release: (v: SaveOutcome) => void = () => undefined;
    const t = setup([() => new Promise<SaveOutcome>((r) => (release = r)), ok('"1.3"')]);
    t.saver.change({ fields: { a: '1' }, critical: false });
    t.clock.run();
    await flush();
    expect(t.sent.length).toBe(1);
    t.saver.change({ fields: { a: '2' } });
    t.clock.run(); // the debounce fires while the first is on the wire: nothing more is sent
    await flush();
    expect(t.sent.length).toBe(1);
    expect(t.saver.unsent()).toEqual({ fields: { a: '2' }, critical: false });
    release({ ok: true, report: readReport(reportBody({ etag: '"1.2"' })) });
    await flush();
    t.clock.run();
    await flush();
    expect(t.sent[1]).toEqual({ change: { fields: { a: '2' } }, etag: '"1.2"' });
    expect(t.saver.state()).toBe('saved');
  });

  it('a lost connection shows "Not saved — retrying" with back-off and keeps the change until it is saved', async () => {
    const t = setup([retry, retry, retry, retry, ok('"1.2"')]);
    t.saver.change({ fields: { a: 'x' } });
    t.clock.run();
    await flush();
    expect(t.saver.state()).toBe('retrying');
    expect(DraftAutosave.label('retrying', 'Network error')).toBe('Not saved — retrying (Network error)');
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      delays.push(...t.clock.delays());
      t.clock.run();
      await flush();
    }
    expect(delays).toEqual([100, 200, 400, 400]);
    expect(t.sent.length).toBe(5);
    expect(t.sent.every((s) => s.change.fields?.a === 'x')).toBe(true);
    expect(t.saver.state()).toBe('saved');
    expect(t.storage.getItem('k')).toBeNull();
    expect(t.states.filter((s) => s.startsWith('retrying')).length).toBeGreaterThan(0);
    expect(t.states.at(-1)).toBe('saved');
  });

  it('retryNow (back online) sends without waiting for the back-off', async () => {
    const t = setup([retry, ok('"1.2"')]);
    t.saver.change({ fields: { a: '1' } });
    t.clock.run();
    await flush();
    expect(t.clock.delays()).toEqual([100]);
    t.saver.retryNow();
    await flush();
    expect(t.sent.length).toBe(2);
    expect(t.clock.delays()).toEqual([]);
    expect(t.saver.state()).toBe('saved');
  });

  it('edits while retrying are sent with the next attempt, not earlier', async () => {
    const t = setup([retry, ok('"1.2"')]);
    t.saver.change({ fields: { a: '1' } });
    t.clock.run();
    await flush();
    t.saver.change({ fields: { a: '2' } });
    expect(t.clock.delays()).toEqual([100]);
    t.clock.run();
    await flush();
    expect(t.sent[1]?.change).toEqual({ fields: { a: '2' } });
  });

  it('412 stops saving and hands over the unsent change (never silently overwritten)', async () => {
    const t = setup([() => ({ ok: false, conflict: true, message: 'stale' })]);
    t.saver.change({ fields: { a: 'mine' } });
    t.clock.run();
    await flush();
    expect(t.saver.state()).toBe('conflict');
    expect(t.conflicts).toEqual([{ fields: { a: 'mine' } }]);
    t.saver.change({ fields: { a: 'more' } });
    expect(t.clock.delays()).toEqual([]);
    expect(t.sent.length).toBe(1);
    expect(JSON.parse(t.storage.getItem('k')!).change).toEqual({ fields: { a: 'mine' } });
  });

  it('a refused save (400) keeps the change and waits for the next edit', async () => {
    const t = setup([() => ({ ok: false, retry: false, message: 'nodule: above 300' }), ok('"1.2"')]);
    t.saver.change({ fields: { n: 999 } });
    t.clock.run();
    await flush();
    expect(t.saver.state()).toBe('refused');
    expect(DraftAutosave.label('refused', 'nodule: above 300')).toBe('Not saved: nodule: above 300');
    expect(t.clock.delays()).toEqual([]);
    t.saver.change({ fields: { n: 9 } });
    t.clock.run();
    await flush();
    expect(t.sent[1]?.change).toEqual({ fields: { n: 9 } });
    expect(t.saver.state()).toBe('saved');
  });

  it('a stored change is replayed at once after a reload', async () => {
    const t = setup([ok('"1.2"')], { fields: { a: 'typed before the reload' } });
    expect(t.clock.delays()).toEqual([0]);
    t.clock.run();
    await flush();
    expect(t.sent[0]).toEqual({ change: { fields: { a: 'typed before the reload' } }, etag: '"1.1"' });
  });

  it('flush sends at once and resolves true when saved, false on conflict', async () => {
    const t = setup([ok('"1.2"'), () => ({ ok: false, conflict: true, message: 'x' })]);
    t.saver.change({ fields: { a: '1' } });
    await expect(t.saver.flush()).resolves.toBe(true);
    expect(t.sent.length).toBe(1);
    await expect(t.saver.flush()).resolves.toBe(true); // nothing waiting
    t.saver.change({ fields: { a: '2' } });
    await expect(t.saver.flush()).resolves.toBe(false);
  });

  it('stored drafts: key per user and report, malformed entries ignored, merge', () => {
    expect(draftKey('jane doe', '12')).toBe('rr.report.draft.jane%20doe.12');
    expect(draftKey(null, '12')).toBe('rr.report.draft.open.12');
    const s = new MemStorage();
    s.setItem('a', '{bad');
    s.setItem('b', JSON.stringify({ etag: 1, change: {} }));
    s.setItem('c', JSON.stringify({ etag: '"1.1"', change: { critical: true }, at: '2026-12-04T10:00:00Z' }));
    expect(loadStoredDraft(s, 'a')).toBeNull();
    expect(loadStoredDraft(s, 'b')).toBeNull();
    expect(loadStoredDraft(s, 'c')).toEqual({ etag: '"1.1"', change: { critical: true }, at: '2026-12-04T10:00:00Z' });
    expect(mergeChange({ fields: { a: 1 }, critical: true }, { fields: { b: 2 } })).toEqual({ fields: { b: 2 }, critical: true });
  });

  it('failures: network/5xx/429/session retry; 409/412 conflict; 400 refused', () => {
    expect(failureOutcome(new ApiError(0, 'network', 'down'))).toMatchObject({ retry: true });
    expect(failureOutcome(new ApiError(503, 'unavailable', 'x'))).toMatchObject({ retry: true });
    expect(failureOutcome(new ApiError(429, 'busy', 'x'))).toMatchObject({ retry: true });
    expect(failureOutcome(new ApiError(403, 'session_ended', 'x'))).toMatchObject({ retry: true });
    expect(failureOutcome(new ApiError(412, 'version_mismatch', 'x'))).toMatchObject({ conflict: true });
    expect(failureOutcome(new ApiError(409, 'conflict', 'x'))).toMatchObject({ conflict: true });
    expect(failureOutcome(new ApiError(400, 'invalid_argument', 'bad'))).toEqual({ ok: false, retry: false, message: 'bad' });
    expect(failureOutcome(new Error('boom'))).toMatchObject({ retry: true });
  });
});
