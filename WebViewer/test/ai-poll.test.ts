import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Analysis } from '../src/ai-api';
import { pollAnalysis } from '../src/ai-poll';
import { analysis } from './ai-fixtures';

describe('polling an analysis', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('polls every interval and stops on the first final state', async () => {
    const answers = ['queued', 'running', 'running', 'completed', 'completed'].map((status) => analysis({ status }));
    const fetchOnce = vi.fn(async () => answers.shift() as Analysis);
    const seen: string[] = [];
    const done = pollAnalysis(fetchOnce, { intervalMs: 1500, onUpdate: (a) => seen.push(a.status) });

    await vi.advanceTimersByTimeAsync(1499);
    expect(fetchOnce).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fetchOnce).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1500 * 3);
    const final = await done;
    expect(final?.status).toBe('completed');
    expect(seen).toEqual(['queued', 'running', 'running', 'completed']);
    await vi.advanceTimersByTimeAsync(1500 * 10);
    expect(fetchOnce).toHaveBeenCalledTimes(4); // nothing after the final state
  });

  for (const status of ['failed', 'invalid', 'blocked', 'safety', 'truncated', 'refused', 'cancelled']) {
    it(`stops on ${status}`, async () => {
      const fetchOnce = vi.fn(async () => analysis({ status }));
      const done = pollAnalysis(fetchOnce, { intervalMs: 100, onUpdate: () => undefined });
      await vi.advanceTimersByTimeAsync(1000);
      expect((await done)?.status).toBe(status);
      expect(fetchOnce).toHaveBeenCalledTimes(1);
    });
  }

  it('stops when aborted, without another request', async () => {
    const fetchOnce = vi.fn(async () => analysis({ status: 'running' }));
    const ctrl = new AbortController();
    const done = pollAnalysis(fetchOnce, { intervalMs: 100, signal: ctrl.signal, onUpdate: () => undefined });
    await vi.advanceTimersByTimeAsync(250);
    expect(fetchOnce).toHaveBeenCalledTimes(2);
    ctrl.abort();
    expect(await done).toBeNull();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetchOnce).toHaveBeenCalledTimes(2);
  });

  it('retries failures with a growing delay while onError says so, stops when it does not', async () => {
    let calls = 0;
    const fetchOnce = vi.fn(async () => {
      calls += 1;
      if (calls <= 2) throw new Error('offline');
      return analysis({ status: 'completed' });
    });
    const errors: unknown[] = [];
    const done = pollAnalysis(fetchOnce, { intervalMs: 100, onUpdate: () => undefined, onError: (e) => (errors.push(e), true) });
    await vi.advanceTimersByTimeAsync(100); // 1st: fails
    await vi.advanceTimersByTimeAsync(199);
    expect(fetchOnce).toHaveBeenCalledTimes(1); // waits 200 after a failure
    await vi.advanceTimersByTimeAsync(1); // 2nd: fails
    await vi.advanceTimersByTimeAsync(400); // 3rd: completed
    expect((await done)?.status).toBe('completed');
    expect(errors).toHaveLength(2);

    const failing = vi.fn(async () => {
      throw new Error('gone');
    });
    const stopped = pollAnalysis(failing, { intervalMs: 100, onUpdate: () => undefined });
    await vi.advanceTimersByTimeAsync(1000);
    expect(await stopped).toBeNull();
    expect(failing).toHaveBeenCalledTimes(1);
  });
});
