// The volume built ahead of a click on MPR or 3D (viewer-volume-ahead.ts), with a stand-in builder, idle queue
// and cache: built once per series in idle time, tried again while images are missing, never again once refused,
// handed over once, freed when the series changes, when taken for another series and when the viewer goes;
// nothing built while paused. The browser check is viewer-volume-stream's "built ahead" test.
import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import type { AheadOutcome, LoadedVolume } from '../src/viewer-volume';
import { createVolumeAhead } from '../src/viewer-volume-ahead';

const series = (uid: string, count = 3): Series => ({ seriesInstanceUid: uid, instances: new Array(count).fill({}) }) as unknown as Series;
const built = (id: string): AheadOutcome => ({ state: 'built', volume: { volumeId: id } as unknown as LoadedVolume });
const tick = () => new Promise((r) => setTimeout(r, 0));

/** A stand-in world: the active series, what each build gives, the idle queue, the volumes freed. */
function world(outcomes: (s: Series) => AheadOutcome | Promise<AheadOutcome>) {
  const w = {
    active: series('A') as Series | null,
    idleQueue: [] as (() => void)[],
    builds: [] as string[],
    freed: [] as string[],
    changes: 0,
    signals: [] as AbortSignal[],
  };
  const ahead = createVolumeAhead({
    current: () => w.active,
    build: async (s, signal) => {
      w.builds.push(s.seriesInstanceUid);
      w.signals.push(signal);
      return outcomes(s);
    },
    free: (id) => w.freed.push(id),
    idle: (fn) => {
      w.idleQueue.push(fn);
      return () => {
        w.idleQueue = w.idleQueue.filter((f) => f !== fn);
      };
    },
    changed: () => w.changes++,
  });
  const runIdle = async () => {
    const q = w.idleQueue;
    w.idleQueue = [];
    for (const f of q) f();
    await tick();
  };
  return { w, ahead, runIdle };
}

describe('createVolumeAhead', () => {
  it('builds in idle time, once, and hands the volume over once', async () => {
    const { w, ahead, runIdle } = world((s) => built(`v-${s.seriesInstanceUid}`));
    ahead.consider();
    ahead.consider(); // one build scheduled, not two
    expect(w.builds).toEqual([]);
    await runIdle();
    expect(w.builds).toEqual(['A']);
    expect(w.changes).toBe(1); // the volume held: the layout's count told
    ahead.consider(); // built already: nothing more
    await runIdle();
    expect(w.builds).toEqual(['A']);
    const v = await ahead.take(series('A'));
    expect(v?.volumeId).toBe('v-A');
    expect(await ahead.take(series('A'))).toBeNull(); // handed over once
    expect(w.freed).toEqual([]); // the taker owns it
  });

  it('takes a build under way (waits for it)', async () => {
    let resolve!: (o: AheadOutcome) => void;
    const { ahead, runIdle } = world(() => new Promise((r) => (resolve = r)));
    ahead.consider();
    await runIdle();
    const taken = ahead.take(series('A'));
    resolve(built('v1'));
    expect((await taken)?.volumeId).toBe('v1');
  });

  it('tries again while images are missing; never again once refused, until the series changes', async () => {
    let answer: AheadOutcome = { state: 'not-cached' };
    const { w, ahead, runIdle } = world(() => answer);
    ahead.consider();
    await runIdle();
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A', 'A']);
    answer = { state: 'refused', reason: 'no room' };
    ahead.consider();
    await runIdle();
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A', 'A', 'A']);
    expect(await ahead.take(series('A'))).toBeNull();
    w.active = series('A', 4); // an instance more: the answer may differ
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A', 'A', 'A', 'A']);
  });

  it('frees the volume when the active series changes, and builds the new one', async () => {
    const { w, ahead, runIdle } = world((s) => built(`v-${s.seriesInstanceUid}`));
    ahead.consider();
    await runIdle();
    w.active = series('B');
    ahead.consider();
    await tick();
    expect(w.freed).toEqual(['v-A']);
    expect(w.signals[0]!.aborted).toBe(true);
    await runIdle();
    expect(w.builds).toEqual(['A', 'B']);
    w.active = null; // no series shown: nothing kept
    ahead.consider();
    await tick();
    expect(w.freed).toEqual(['v-A', 'v-B']);
    expect(await ahead.take(series('B'))).toBeNull();
  });

  it('a volume kept for another series is freed when a layout takes one', async () => {
    const { w, ahead, runIdle } = world((s) => built(`v-${s.seriesInstanceUid}`));
    ahead.consider();
    await runIdle();
    expect(await ahead.take(series('B'))).toBeNull();
    await tick();
    expect(w.freed).toEqual(['v-A']);
  });

  it('builds nothing while paused; a build dropped while under way is freed when it ends', async () => {
    let resolve!: (o: AheadOutcome) => void;
    const { w, ahead, runIdle } = world(() => new Promise((r) => (resolve = r)));
    ahead.pause(true);
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual([]);
    ahead.consider();
    ahead.pause(false);
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A']);
    ahead.destroy(); // the viewer goes while the volume is being built
    resolve(built('v1'));
    await tick();
    await tick();
    expect(w.freed).toEqual(['v1']);
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A']); // nothing after destroy
  });

  it('a scheduled build is cancelled by pause and by take', async () => {
    const { w, ahead, runIdle } = world(() => built('v'));
    ahead.consider();
    ahead.pause(true);
    await runIdle();
    expect(w.builds).toEqual([]);
    ahead.pause(false);
    ahead.consider();
    expect(await ahead.take(series('A'))).toBeNull();
    await runIdle();
    expect(w.builds).toEqual([]);
  });

  it('a failed build counts as refused', async () => {
    const { w, ahead, runIdle } = world(() => {
      throw new Error('boom');
    });
    ahead.consider();
    await runIdle();
    ahead.consider();
    await runIdle();
    expect(w.builds).toEqual(['A']);
    expect(await ahead.take(series('A'))).toBeNull();
  });
});
