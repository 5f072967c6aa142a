// The volume of the active viewport's series, built before MPR or 3D is chosen (issue 11: a volume layout ready
// soon after the click). Once every image of the series is in cornerstone's cache (the 2D prefetch's), the page
// builds its volume in idle time from those images (viewer-volume.ts buildVolumeAhead: no request, nothing
// evicted); choosing a volume layout for that series then takes it (take) and only mounts and draws its views.
// One series at a time: a volume built for another series, or for a series whose instances changed, is freed
// before anything else is built, and so is the one kept when the viewer goes (destroy). Nothing is built while a
// volume layout is being entered or shown (pause): the layout owns the volume it took, and freeing it is its job.
//
// Contract (viewer-volume-layout.ts):
//   createVolumeAhead(deps) → VolumeAhead
//   consider(): a series was shown, an image cached, a layout left: builds the active series' volume in idle
//     time when none is built or being built for it ('not-cached' outcomes are tried again on the next call;
//     'refused' ones are not, until the series or its instance count changes).
//   take(series): the volume built (or being built) for `series`, which the caller then owns; null when none
//     (a volume kept for another series is freed).
//   pause(on): while on, nothing is built (a build under way goes on and is kept).
//   destroy(): frees what is kept; nothing is built after.

import type { Series } from './api';
import type { AheadOutcome, LoadedVolume } from './viewer-volume';

export interface AheadDeps {
  /** The active viewport's series (null: none shown). */
  current(): Series | null;
  /** Builds `series`' volume from the cached images (buildVolumeAhead). */
  build(series: Series, signal: AbortSignal): Promise<AheadOutcome>;
  /** Frees a volume (freeSeriesVolume). */
  free(volumeId: string): void;
  /** Runs `fn` once the page is idle; returns a cancel. */
  idle(fn: () => void): () => void;
  /** Called when a volume built ahead is kept or freed (the count of cached volumes changed). */
  changed(): void;
}

export interface VolumeAhead {
  consider(): void;
  take(series: Series): Promise<LoadedVolume | null>;
  pause(on: boolean): void;
  destroy(): void;
}

interface Entry {
  key: string;
  abort: AbortController;
  outcome: Promise<AheadOutcome>;
  settled: AheadOutcome | null;
}

const keyOf = (s: Series): string => `${s.seriesInstanceUid}/${s.instances.length}`;

export function createVolumeAhead(deps: AheadDeps): VolumeAhead {
  let entry: Entry | null = null;
  let cancelIdle: (() => void) | null = null;
  let paused = false;
  let destroyed = false;

  const unschedule = (): void => {
    cancelIdle?.();
    cancelIdle = null;
  };
  /** Forgets the entry; what it built (or builds) is freed. */
  const drop = (): void => {
    unschedule();
    const e = entry;
    entry = null;
    if (!e) return;
    e.abort.abort();
    void e.outcome.then((o) => {
      if (o.state === 'built') {
        deps.free(o.volume.volumeId);
        deps.changed();
      }
    });
  };
  const start = (): void => {
    cancelIdle = null;
    if (paused || destroyed || entry) return;
    const series = deps.current();
    if (!series) return;
    const abort = new AbortController();
    const outcome = deps.build(series, abort.signal).catch((err: unknown): AheadOutcome => ({ state: 'refused', reason: String(err) }));
    const e: Entry = { key: keyOf(series), abort, outcome, settled: null };
    entry = e;
    void e.outcome.then((o) => {
      e.settled = o;
      if (o.state !== 'built') return;
      // dropped (or taken) while it was built: drop() and take() free or own it
      if (entry === e && !e.abort.signal.aborted) deps.changed();
    });
  };

  return {
    consider: () => {
      if (paused || destroyed) return;
      const series = deps.current();
      if (!series) {
        drop();
        return;
      }
      if (entry && entry.key !== keyOf(series)) drop();
      if (entry?.settled?.state === 'not-cached') entry = null; // nothing was built: try again
      if (entry || cancelIdle) return;
      cancelIdle = deps.idle(start);
    },
    take: async (series) => {
      unschedule();
      const e = entry;
      if (!e) return null;
      if (e.key !== keyOf(series)) {
        drop();
        return null;
      }
      entry = null; // the caller's from here (or nothing, when the build gives none)
      const o = await e.outcome;
      if (o.state !== 'built') return null;
      if (e.abort.signal.aborted || destroyed) {
        deps.free(o.volume.volumeId);
        return null;
      }
      return o.volume;
    },
    pause: (on) => {
      paused = on;
      if (on) unschedule();
    },
    destroy: () => {
      destroyed = true;
      drop();
    },
  };
}
