// The volume layouts' switch (issue 11): the toolbar buttons of the layouts that show the active viewport's
// series as a volume ("MPR", viewer-mpr.ts; "3D four-up", viewer-3d*.ts), and the change between them and the
// 2D grid. Choosing one loads the series' volume (viewer-volume.ts) while the 2D grid stays; when the plugin
// refuses it (or it does not fit the budget) the 2D stack stays and a message says why, with the reasons;
// otherwise the grid is hidden and the layout mounts in its own area with the 2D view's series, window and
// position (the shown slice: its Image Position (Patient); the planes start through the middle of it). Leaving (a 2D layout button, another series, the
// study) destroys the layout's viewports (their GPU textures), frees the volume and its slice images, and shows
// the 2D grid again at the layout's window and position (host.restore). Once every image of the active
// viewport's series is cached, its volume is built ahead in idle time, 1 s after the last image and the user's
// last input (viewer-volume-ahead.ts; one series at a time, never evicting an image, freed when the series
// changes or the viewer goes): choosing a layout for that series then only mounts and draws.
//
// Contract for a volume layout (VolumeLayoutDef): mount(ctx) fills ctx.area with its viewports on ctx.engine
// (ids from ctx.idPrefix), starts at ctx.from, and returns a view whose destroy() removes its viewports and
// tool groups (not the volume: this module frees it after). Hooks for tests: the area carries
// data-rr-volume-layout (the mounted layout's id), data-rr-volume-state (loading while the volume is read —
// the views are mounted and drawn with the slices read so far as soon as one is — shown once it is complete),
// data-rr-volume-progress ("done/total" slices read), data-rr-volumes (the volumes in cornerstone's cache, one
// built ahead included) and
// data-rr-volume-decimation (1: full resolution; 2: every 2×2 pixels averaged to fit the budget…); the
// message element .viewer-volume-message carries data-rr-volume-refused="1" when a volume was refused.

import { cache, Enums, eventTarget, type RenderingEngine, type Types } from '@cornerstonejs/core';
import type { Api, Series, StudyDetail } from './api';
import { h } from './dom';
import { voiRange, windowOf, type WindowLevel } from './viewer-model';
import { nearestImageIndex, sliceAt, type Vec3, type VolumeInfo } from './viewer-volume-model';
import { setPrefetchPaused } from './viewer-prefetch';
import { buildVolumeAhead, freeSeriesVolume, loadSeriesVolume, prefetchVolumeInfo, volumeMeasure, volumeStart, type LoadedVolume, type VolumeLoad } from './viewer-volume';
import { createVolumeAhead } from './viewer-volume-ahead';

/** What is kept when switching between 2D and a volume layout. */
export interface ViewState {
  series: Series;
  window: WindowLevel | null;
  /** The patient point (mm) at the centre of the view, null when unknown. */
  point: Vec3 | null;
}

export type { LoadedVolume };

export interface VolumeLayoutContext {
  engine: RenderingEngine;
  /** The element to fill (emptied; sized like the 2D grid). */
  area: HTMLElement;
  study: StudyDetail;
  api: Api;
  apiRoot: string;
  orthancRoot: string;
  canAnnotate: boolean;
  volume: LoadedVolume;
  from: ViewState;
  /** A prefix unique to this mount for viewport and tool group ids. */
  idPrefix: string;
}

export interface VolumeLayoutView {
  /** The series, window and centre point to keep when leaving. */
  state(): ViewState;
  /** A key for the layout (the viewer's keys come first); true when handled. */
  key(k: KeyboardEvent): boolean;
  /** Called once the volume is complete, before the layout says "shown" (a view held until then draws). */
  filled?(): void;
  destroy(): void;
}

export interface VolumeLayoutDef {
  id: string;
  label: string;
  title: string;
  mount(ctx: VolumeLayoutContext): Promise<VolumeLayoutView>;
}

/** What the viewer gives the switch (viewer.ts). */
export interface VolumeHost {
  engine(): RenderingEngine | null;
  /** The 2D grid (hidden while a volume layout is shown). */
  grid: HTMLElement;
  study: StudyDetail;
  api: Api;
  apiRoot: string;
  orthancRoot: string;
  canAnnotate: boolean;
  /** The active viewport's series, window and centre point; null when it shows no image. */
  current(): ViewState | null;
  /** Back in 2D: show `state` in the active viewport (series, nearest image to the point, window). */
  restore(state: ViewState): Promise<void>;
  /** Called once the grid is shown or hidden (the engine resizes). */
  resized(): void;
}

export interface VolumeSwitch {
  /** The layouts' toolbar buttons (data-rr-volume-layout, aria-pressed). */
  readonly buttons: HTMLButtonElement[];
  /** The volume layouts' area (insert beside the grid). */
  readonly area: HTMLElement;
  /** The refusal/progress message (insert in the viewer's bar or over the grid). */
  readonly message: HTMLElement;
  /** The id of the shown volume layout, or null in 2D. */
  shown(): string | null;
  /** Shows a layout; resolves (true) once its volume is complete, false when refused, failed or left. */
  enter(layoutId: string): Promise<boolean>;
  /** Back to 2D (nothing when in 2D). */
  leave(): Promise<void>;
  /** Asks the plugin ahead whether the active viewport's series can be a volume (viewer-volume.ts
   *  prefetchVolumeInfo), so that choosing a layout does not wait for it; call once a series' image is shown. */
  prepare(): void;
  key(k: KeyboardEvent): boolean;
  /**
   * The stack image an annotation drawn in a volume plane belongs to (MPR measurements are stored under it,
   * with their world coordinates, like the 2D ones: viewer-measure.ts): the volume's slice nearest its first
   * point, for annotations in the frame of reference of a volume shown in this study; null otherwise.
   */
  imageOf(a: { metadata?: { FrameOfReferenceUID?: unknown }; data?: { handles?: { points?: unknown } } }): { orthancId: string; frame: number } | null;
  destroy(): void;
}

let mounts = 0;

/** The building ahead is considered again at most this often while images arrive in the cache. */
const AHEAD_DEBOUNCE_MS = 500;

/** The building ahead starts no sooner than this after it was asked for (a layout just left, the last image
 *  cached) and after the user's last input (a key, the wheel, a click or a drag: scrolling, windowing), so that
 *  its longer steps (the volume's creation, 0.1–0.3 s) do not take the page's thread from what the user does. */
const AHEAD_DELAY_MS = 1000;

/** When the user last gave input to the page (performance.now()). */
let lastInput = -Infinity;
const INPUT_EVENTS = ['keydown', 'wheel', 'pointerdown', 'pointermove'] as const;
const onInput = (e: Event): void => {
  if (e.type !== 'pointermove' || (e as PointerEvent).buttons !== 0) lastInput = performance.now();
};

/** Runs `fn` once AHEAD_DELAY_MS have passed since now and since the last input, when the page is idle (within
 *  2 s more at most); returns a cancel. */
function whenIdle(fn: () => void): () => void {
  let id: number | null = null;
  let t: ReturnType<typeof setTimeout> | null = null;
  const since = performance.now();
  const check = (): void => {
    const wait = Math.max(since, lastInput) + AHEAD_DELAY_MS - performance.now();
    if (wait > 0) {
      t = setTimeout(check, wait);
      return;
    }
    t = null;
    if (typeof requestIdleCallback === 'function') id = requestIdleCallback(() => fn(), { timeout: 2000 });
    else fn();
  };
  t = setTimeout(check, AHEAD_DELAY_MS);
  return () => {
    if (t !== null) clearTimeout(t);
    if (id !== null) cancelIdleCallback(id);
  };
}

export function createVolumeSwitch(host: VolumeHost, layouts: readonly VolumeLayoutDef[]): VolumeSwitch {
  const area = h('div', { class: 'viewer-volume-area', attrs: { hidden: '' } });
  const message = h('div', { class: 'viewer-volume-message', attrs: { role: 'status', hidden: '' } });
  const buttons = layouts.map((l) =>
    h('button', { class: 'viewer-tool', text: l.label, attrs: { type: 'button', title: l.title, 'data-rr-volume-layout': l.id, 'aria-pressed': 'false' } }),
  );
  let view: VolumeLayoutView | null = null;
  let volumeId: string | null = null;
  let shownId: string | null = null;
  let loading: AbortController | null = null;
  /** The shown volume's filling (aborted when it is unmounted). */
  let filling: AbortController | null = null;
  let destroyed = false;
  /** The volumes shown in this study, by frame of reference (their slices: small, kept after the volume goes). */
  const shownVolumes = new Map<string, VolumeInfo>();
  // the volume of the active viewport's series, built ahead once its images are cached (viewer-volume-ahead.ts)
  const ahead = createVolumeAhead({
    current: () => host.current()?.series ?? null,
    build: (series, signal) => buildVolumeAhead({ api: host.api, studyInstanceUid: host.study.studyInstanceUid, series, orthancRoot: host.orthancRoot, signal }),
    free: freeSeriesVolume,
    idle: whenIdle,
    changed: () => count(),
  });
  // …considered again (at most every AHEAD_DEBOUNCE_MS) as images arrive in the cache
  let cacheTimer: ReturnType<typeof setTimeout> | null = null;
  const onImageCached = (): void => {
    if (cacheTimer !== null) return;
    cacheTimer = setTimeout(() => {
      cacheTimer = null;
      ahead.consider();
    }, AHEAD_DEBOUNCE_MS);
  };
  eventTarget.addEventListener(Enums.Events.IMAGE_CACHE_IMAGE_ADDED, onImageCached);
  for (const e of INPUT_EVENTS) window.addEventListener(e, onInput, { capture: true, passive: true });
  // the 2D viewports' prefetch, and the building ahead, are paused while a volume layout is being entered or
  // shown (viewer-prefetch.ts)
  let entering = 0;
  const gate = (): void => {
    const busy = entering > 0 || shownId !== null;
    setPrefetchPaused(busy);
    ahead.pause(busy);
    if (!busy) ahead.consider();
  };

  const say = (text: string, refused = false): void => {
    message.textContent = text;
    message.hidden = text === '';
    if (refused) message.setAttribute('data-rr-volume-refused', '1');
    else message.removeAttribute('data-rr-volume-refused');
  };
  /** Test hook: the volumes in cornerstone's cache (data-rr-volumes on the area), after each change. */
  const count = (): void => {
    try {
      area.setAttribute('data-rr-volumes', String(cache.getVolumes().length));
    } catch {
      /* no cache */
    }
  };
  const press = (): void => {
    for (const b of buttons) b.setAttribute('aria-pressed', String(b.getAttribute('data-rr-volume-layout') === shownId));
  };
  const unmount = (): ViewState | null => {
    const state = view?.state() ?? null;
    try {
      view?.destroy();
    } catch {
      /* already gone */
    }
    view = null;
    filling?.abort();
    filling = null;
    if (volumeId) freeSeriesVolume(volumeId);
    volumeId = null;
    shownId = null;
    area.replaceChildren();
    area.hidden = true;
    area.removeAttribute('data-rr-volume-layout');
    area.removeAttribute('data-rr-volume-state');
    area.removeAttribute('data-rr-volume-decimation');
    area.removeAttribute('data-rr-volume-progress');
    host.grid.hidden = false;
    press();
    count();
    gate();
    return state;
  };

  const leave = async (): Promise<void> => {
    loading?.abort();
    loading = null;
    if (!shownId) return;
    const state = unmount();
    host.resized();
    if (state) await host.restore(state);
  };

  const enter = async (layoutId: string, float = false): Promise<boolean> => {
    entering++;
    gate();
    try {
      return await enterLayout(layoutId, float);
    } finally {
      entering--;
      gate();
    }
  };

  const enterLayout = async (layoutId: string, float = false): Promise<boolean> => {
    const def = layouts.find((l) => l.id === layoutId);
    const engine = host.engine();
    if (!def || !engine || destroyed) return false;
    if (shownId === layoutId && !float) return true; // shown already
    const from = shownId ? view?.state() ?? null : host.current();
    if (!from) {
      say(`${def.label}: show an image series in the active viewport first.`, true);
      return false;
    }
    loading?.abort();
    const abort = new AbortController();
    loading = abort;
    volumeStart();
    say(`${def.label}: building the volume…`);
    let load: VolumeLoad;
    try {
      // the volume built ahead for this series (complete), else built now (from the shown slice outwards)
      const built = float ? null : await ahead.take(from.series);
      if (built) volumeMeasure('ahead');
      load =
        built ??
        (await loadSeriesVolume({
          api: host.api,
          studyInstanceUid: host.study.studyInstanceUid,
          series: from.series,
          orthancRoot: host.orthancRoot,
          signal: abort.signal,
          from: from.point,
          float,
        }));
    } catch (err) {
      if (abort.signal.aborted) return false;
      say(`${def.label} is not available: ${err instanceof Error ? err.message : String(err)}`, true);
      return false;
    }
    if (abort.signal.aborted || destroyed) {
      if (load.ok) freeSeriesVolume(load.volumeId);
      return false;
    }
    loading = null;
    if (!load.ok) {
      say(`${def.label} is not available for this series: ${load.reasons.join('; ')}. The 2D images are shown.`, true);
      return false;
    }
    if (shownId) unmount();
    if (load.frameOfReferenceUid) shownVolumes.set(load.frameOfReferenceUid, load.info);
    volumeId = load.volumeId;
    shownId = def.id;
    count();
    host.grid.hidden = true;
    area.hidden = false;
    area.setAttribute('data-rr-volume-layout', def.id);
    area.setAttribute('data-rr-volume-state', 'loading');
    area.setAttribute('data-rr-volume-decimation', String(load.plan.decimation));
    press();
    // a volume decimated to fit the budget says so (the planes are coarser than the images)
    const f = load.plan.decimation;
    say(f > 1 ? `${def.label}: the volume is shown at 1/${f} of its resolution in each slice to fit the viewer's cache budget (Viewer.CacheMegabytes).` : '');
    try {
      view = await def.mount({
        engine,
        area,
        study: host.study,
        api: host.api,
        apiRoot: host.apiRoot,
        orthancRoot: host.orthancRoot,
        canAnnotate: host.canAnnotate,
        volume: load,
        from,
        idPrefix: `rr-vol-${++mounts}`,
      });
    } catch (err) {
      unmount();
      host.resized();
      say(`${def.label} could not be shown: ${err instanceof Error ? err.message : String(err)}`, true);
      return false;
    }
    if (destroyed || shownId !== def.id) return false;
    volumeMeasure('mounted');
    // the views are drawn with the slices read so far; the others arrive from the shown slice outwards
    const fill = new AbortController();
    filling = fill;
    const decimated = f > 1 ? `the volume is shown at 1/${f} of its resolution in each slice to fit the viewer's cache budget (Viewer.CacheMegabytes).` : '';
    const progress = (done: number, total: number): void => {
      if (fill.signal.aborted) return;
      area.setAttribute('data-rr-volume-progress', `${done}/${total}`);
      if (done < total) say(`${def.label}: reading the volume… ${done}/${total} slices${decimated ? ` (${decimated})` : ''}`);
    };
    const outcome = await load.fill(progress, fill.signal);
    if (fill.signal.aborted || destroyed || shownId !== def.id || volumeId !== load.volumeId) return false;
    filling = null;
    if (outcome.state === 'float' && !float) return enter(def.id, true); // a slice int16 cannot hold: rebuilt as float
    if (outcome.state !== 'ready') {
      const reason = outcome.state === 'failed' ? outcome.reason : 'the volume could not be read';
      unmount();
      host.resized();
      say(`${def.label} is not available for this series: ${reason}. The 2D images are shown.`, true);
      return false;
    }
    say(decimated ? `${def.label}: ${decimated}` : '');
    view?.filled?.();
    volumeMeasure('ready');
    area.setAttribute('data-rr-volume-state', 'shown');
    return true;
  };

  return {
    buttons,
    area,
    message,
    shown: () => shownId,
    enter: (id) => enter(id),
    leave,
    prepare: () => {
      if (destroyed) return;
      const from = host.current();
      if (from) prefetchVolumeInfo(host.api, host.study.studyInstanceUid, from.series);
      ahead.consider();
    },
    key: (k) => (view ? view.key(k) : false),
    imageOf: (a) => {
      const info = shownVolumes.get(typeof a.metadata?.FrameOfReferenceUID === 'string' ? a.metadata.FrameOfReferenceUID : '');
      const points = a.data?.handles?.points;
      const p = Array.isArray(points) && Array.isArray(points[0]) ? (points[0] as number[]) : null;
      const slice = info && p && p.length === 3 ? sliceAt(info, [p[0]!, p[1]!, p[2]!]) : null;
      return slice ? { orthancId: slice.instanceId, frame: slice.frame } : null;
    },
    destroy: () => {
      destroyed = true;
      loading?.abort();
      if (shownId) unmount();
      eventTarget.removeEventListener(Enums.Events.IMAGE_CACHE_IMAGE_ADDED, onImageCached);
      for (const e of INPUT_EVENTS) window.removeEventListener(e, onInput, { capture: true });
      if (cacheTimer !== null) clearTimeout(cacheTimer);
      ahead.destroy();
    },
  };
}

/**
 * A 2D stack viewport's state to keep: its window and a patient point on the shown slice: the Image Position
 * (Patient) of the shown instance when the series has it (the volume layouts use the point's position along
 * the slice normal; in-plane they start at the volume's centre, mprStartPoint), else the camera's focal point.
 * Not the camera first: asked right after the first image on a busy machine, a CPU viewport still reported
 * the camera it has before an image, focal point (0, 0, 0), and the planes opened through the patient origin.
 */
export function stackViewState(vp: Types.IStackViewport, series: Series, shown: { orthancId: string }): ViewState {
  const range = vp.getProperties().voiRange;
  const ipp = series.instances.find((i) => i.orthancId === shown.orthancId)?.imagePositionPatient;
  const fp = vp.getCamera().focalPoint;
  const point: Vec3 | null = ipp ? [ipp[0], ipp[1], ipp[2]] : fp ? [fp[0], fp[1], fp[2]] : null;
  return { series, window: range ? windowOf(range) : null, point };
}

/**
 * Shows a kept state in a 2D stack viewport that shows its series: the nearest image, the window. The window
 * first: set through setProperties it is the user's, which both pipelines keep for the next image, so the
 * nearest image is drawn at it from its first frame (set after, one frame showed the 2D view's old window).
 */
export async function applyStackState(vp: Types.IStackViewport, state: ViewState): Promise<void> {
  const index = state.point ? nearestImageIndex(state.series, state.point) : null;
  if (state.window) vp.setProperties({ voiRange: voiRange(state.window) });
  if (index !== null && index !== vp.getCurrentImageIdIndex()) await vp.setImageIdIndex(index);
  vp.render();
}
