// The study page's image viewer (issue 10): a series panel with the plugin's thumbnails and a grid of
// cornerstone3D stack viewports (layouts 1×1, 1×2, 2×1, 2×2; viewer-viewport.ts is one viewport) showing raw
// DICOM from Orthanc (wadouri image IDs, viewer-model.ts). One viewport is active (highlighted when there are
// several; a click selects it): keys and the toolbar act on it, and a series clicked in the panel loads into
// it; a series dragged onto a viewport loads there. The layout is remembered per signed-in user (localStorage,
// viewer-model.ts layoutKey) and restored on the next study. Toolbar: layouts, fit, magnifier (cornerstone's
// MagnifyTool on the left button while on), invert, flips, rotate, reset (as their keys), "?" (the shortcut
// list, rendered from viewer-model.ts SHORTCUTS).
//
// Loaded only by the study page, with a dynamic import() (study.ts): cornerstone3D (≈1 MB gzipped, decode
// workers, WASM codecs) never reaches the worklist. Contract: mountViewer() fills `slot` and returns
// destroy(), which removes the listeners, destroys the rendering engine and the tool group and purges
// cornerstone's image cache (../shared/NOTES.md: OHIF issue 6010). DICOM strings reach the DOM as text only.
// Hooks for tests: see viewer-viewport.ts; the grid carries data-rr-layout, layout buttons data-rr-layout too.

import { Enums, getWebWorkerManager, init as coreInit, type RenderingEngine, type Types } from '@cornerstonejs/core';
import { decodeImageFrame, init as loaderInit } from '@cornerstonejs/dicom-image-loader';
import { registerPart10Loader } from './viewer-part10-glue';
import {
  addTool,
  Enums as ToolEnums,
  init as toolsInit,
  MagnifyTool,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import type { Api, Series, StudyDetail } from './api';
import { h } from './dom';
import { draftUser } from './drafts';
import {
  clampFps,
  fillViewports,
  LAYOUTS,
  loadLayout,
  MAX_FPS,
  MIN_FPS,
  nextLayout,
  nextViewport,
  saveLayout,
  seriesLabel,
  SHORTCUTS,
  shortcutText,
  stackImages,
  thumbnailUrl,
  viewportCount,
  type Layout,
} from './viewer-model';
import { objectDetail, whereInStudy } from './viewer-objects';
import { applyCacheBudget, releaseImages } from './viewer-prefetch-glue';
import { objectPanel } from './viewer-objects-view';
import { createSr } from './viewer-sr';
import { createMeasure } from './viewer-measure';
import { createTagPanel } from './viewer-tags-panel';
import { createPane, type Pane } from './viewer-viewport';
import { createShowImage } from './viewer-goto';
import { createPriors } from './viewer-priors';
import { createSync } from './viewer-sync';
import { createCapture, paneCaptureSource } from './viewer-capture';
import { createSegOverlays } from './viewer-seg-view';
import { createRtOverlays } from './viewer-rt-view';
import { modeName } from './viewer-mode';
import { applyStackState, createVolumeSwitch, stackViewState } from './viewer-volume-layout';
import { mprLayout } from './viewer-mpr';
import { threeDLayout } from './viewer-3d';
import { createRenderingEngine } from './viewer-stack-rendering';
import { watchVoiLutFunction } from './viewer-stack-view';
import { decodeWorkers } from './viewer-prefetch';
import { decodeUncompressedInPage, type DecodeFrame, type ExecuteTask } from './viewer-inpage-decode';

export interface ViewerOptions {
  study: StudyDetail;
  /** The app's API root ("/api/"), for thumbnails. */
  apiRoot: string;
  /** Orthanc's REST root (absolute URL ending in "/"), for the wadouri image IDs. */
  orthancRoot: string;
  /** The app's API client (the session's CSRF token): captures, and what the viewer writes. */
  api: Api;
  /**
   * Tools that write (measurements, key images, "Save to archive") are shown and bound only when true: the
   * "annotate" capability (viewer-mode.ts). Default false: the basic viewer of referring physicians.
   */
  canAnnotate?: boolean;
  /** The AI button and panel only when true (the "ai" capability). Default false. */
  canAi?: boolean;
}

export interface Viewer {
  destroy(): void;
  /** Shows an image of the study in the active viewport (contract in viewer-goto.ts; frame 1-based). */
  showImage(sopInstanceUid: string, frame: number): Promise<boolean>;
}

/** The magnifier: 3× the pixels under the cursor in a 200-px loupe (style.css makes it round). */
const MAGNIFY = { magnifySize: 3, magnifyWidth: 200, magnifyHeight: 200 };
/** The status line of a viewport without a series (every series of the study is shown elsewhere). */
const EMPTY_HINT = 'Click a series in the panel or drag it here';
/** The dataTransfer type of a series dragged from the panel. */
const DRAG_TYPE = 'application/x-rr-series';

let initialised: Promise<void> | null = null;

/** cornerstone3D, its DICOM loader and its tools, once per page load. */
function initCornerstone(): Promise<void> {
  initialised ??= (async () => {
    coreInit();
    loaderInit({ maxWebWorkers: decodeWorkers(navigator.hardwareConcurrency) });
    decodeUncompressedInPage(getWebWorkerManager() as unknown as { executeTask: ExecuteTask }, decodeImageFrame as DecodeFrame);
    registerPart10Loader();
    toolsInit();
    for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, MagnifyTool]) addTool(tool);
    watchVoiLutFunction();
    window.addEventListener('unhandledrejection', quietAbortedImageRequest);
  })();
  return initialised;
}

/**
 * cornerstone's DICOM image loader rejects with the XMLHttpRequest itself when an image request fails
 * or is aborted (a reload or a study closed while images load), and keeps promise forks of its own
 * that nobody awaits: each aborted request then surfaced as an "Uncaught (in promise) XMLHttpRequest".
 * The viewer handles the loads it awaits (the viewport says which image cannot be shown); these
 * leftovers are logged at debug level instead of as page errors. Any other rejection is left alone.
 */
function quietAbortedImageRequest(e: PromiseRejectionEvent): void {
  if (typeof XMLHttpRequest !== 'undefined' && e.reason instanceof XMLHttpRequest) {
    e.preventDefault();
    console.debug(`image request ended without an image (HTTP ${e.reason.status}): ${e.reason.responseURL}`);
  }
}

/**
 * Starts what the first image waits for before a study page asks for it: cornerstone's set-up (its rendering
 * capability probe alone creates a WebGL context, about 0.4 s of the page's main thread with software WebGL).
 * study.ts calls it through preloadViewer() as soon as a study page is opened by its address.
 */
export function warmUp(): void {
  void initCornerstone();
}

let counter = 0;

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(target.tagName);
}

function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // storage disabled
  }
}

/** The "?" overlay: every shortcut from the one table (viewer-model.ts SHORTCUTS), as text. */
function shortcutOverlay(): HTMLDivElement {
  const rows = SHORTCUTS.map((s) => {
    const t = shortcutText(s);
    return h('tr', {}, h('th', { text: t.keys, attrs: { scope: 'row' } }), h('td', { text: t.action }));
  });
  return h(
    'div',
    { class: 'viewer-shortcuts', attrs: { role: 'dialog', 'aria-label': 'Keyboard shortcuts', hidden: '' } },
    h('div', { class: 'viewer-shortcuts-title', text: 'Keyboard and mouse (? or Esc closes)' }),
    h('table', {}, h('tbody', {}, ...rows)),
  );
}

// Builds the viewer; the closures share its state (panes, active index, layout): one function on purpose.
export async function mountViewer(slot: HTMLElement, opts: ViewerOptions): Promise<Viewer> {
  const { study } = opts;
  const id = ++counter;
  const engineId = `rr-engine-${id}`;
  const toolGroupId = `rr-tools-${id}`;
  const user = draftUser();
  let layout: Layout = loadLayout(localStore(), user);

  const grid = h('div', { class: 'viewer-grid' });
  // cine: frames per second (Space plays and pauses the active viewport)
  const fpsInput = h('input', {
    class: 'viewer-fps',
    attrs: { type: 'number', min: String(MIN_FPS), max: String(MAX_FPS), step: '1', value: '10', 'aria-label': 'Cine frames per second' },
  });
  const cineControl = h('label', { class: 'viewer-cine muted' }, h('span', { text: 'Cine fps ' }), fpsInput);
  const seriesList = h('ul', { class: 'viewer-series', attrs: { 'aria-label': 'Series' } });
  const help = h('div', {
    class: 'viewer-help muted',
    text: 'Wheel/↑↓ scroll · Space cine · drag W/L · 0–6 presets · F fit · R reset · ? all keys',
  });
  const tool = (label: string, title: string, attrs: Record<string, string> = {}): HTMLButtonElement =>
    h('button', { class: 'viewer-tool', text: label, attrs: { type: 'button', title, ...attrs } });
  const layoutButtons = LAYOUTS.map((l) => tool(l.label, `Layout ${l.label}`, { 'data-rr-layout': l.id, 'aria-pressed': 'false' }));
  // the active viewport's view actions, each the same as its key
  const keyButtons = [
    ['Invert', 'Invert (I)', 'i'],
    ['Flip H', 'Flip horizontally (H)', 'h'],
    ['Flip V', 'Flip vertically (V)', 'v'],
    ['Rotate', 'Rotate by 90° clockwise (T)', 't'],
    ['Reset', 'Reset window, invert, pan, zoom, flips, rotation (R)', 'r'],
  ].map(([label, title, key]) => tool(label!, title!, { 'data-rr-tool': key! }));
  const fitButton = tool('Fit', 'Fit the image to the viewport (F)', { 'data-rr-tool': 'fit' });
  const magnifyButton = tool('Magnify', 'Magnifying glass on the left button (M)', { 'data-rr-tool': 'magnify', 'aria-pressed': 'false' });
  const tagsButton = tool('Tags', 'Tag browser of the active image (G)', { 'data-rr-tool': 'tags', 'aria-pressed': 'false' });
  const helpButton = tool('?', 'Keyboard shortcuts (?)', { 'data-rr-tool': 'help', 'aria-pressed': 'false' });
  // the active viewport as PNG, audited (viewer-capture.ts); every role with a viewer
  const capture = createCapture(opts.api, () => paneCaptureSource(activePane(), study));
  // Tools that write (measure, key images, save to archive) go into writeTools, and their keys and mouse
  // bindings are set, only when canWrite: the basic viewer (no "annotate") shows and binds none of them.
  const canWrite = opts.canAnnotate === true;
  const writeTools: HTMLElement[] = [];
  // volume layouts (MPR, 3D): the active viewport's series as a volume, or why not (viewer-volume-layout.ts)
  const volume = createVolumeSwitch(
    {
      engine: () => engine,
      grid,
      study,
      api: opts.api,
      apiRoot: opts.apiRoot,
      orthancRoot: opts.orthancRoot,
      canAnnotate: opts.canAnnotate === true,
      current: () => {
        const p = activePane();
        const s = p?.series();
        const vp = engine && p && s ? (engine.getViewport(p.viewportId) as Types.IStackViewport | undefined) : undefined;
        const shown = p?.currentImage();
        return vp && s && shown ? stackViewState(vp, s, shown) : null;
      },
      restore: async (state) => {
        const p = activePane();
        if (!p || !engine) return;
        if (p.series()?.seriesInstanceUid !== state.series.seriesInstanceUid) await loadInto(p, state.series);
        const vp = engine.getViewport(p.viewportId) as Types.IStackViewport | undefined;
        if (vp && p.series()?.seriesInstanceUid === state.series.seriesInstanceUid) await applyStackState(vp, state).catch(() => undefined);
      },
      resized: () => engine?.resize(true, true),
    },
    [mprLayout, threeDLayout],
  );
  const toolbar = h('div', { class: 'viewer-tools', attrs: { role: 'toolbar', 'aria-label': 'Viewer tools' } }, ...layoutButtons, ...volume.buttons, fitButton, ...keyButtons, magnifyButton, tagsButton, ...capture.elements, ...(canWrite ? writeTools : []), helpButton);
  // "Save to archive" (DICOM SR TID 1500) and the measurements of SRs already in the study (viewer-sr.ts)
  const sr = createSr({ study, apiRoot: opts.apiRoot, orthancRoot: opts.orthancRoot, api: opts.api, canAnnotate: canWrite, user, engine: () => engine });
  toolbar.append(...sr.toolbar);
  // measurements, annotations and key images (viewer-measure.ts): its tools only with canWrite, the panel always
  const measure = createMeasure({
    study,
    orthancRoot: opts.orthancRoot,
    api: opts.api,
    canAnnotate: canWrite,
    user,
    engine: () => engine,
    panes: () => panes,
    activePane: () => activePane(),
    showImage: (sop, frame) => showImage(sop, frame),
    onPrimaryTaken: () => setMagnify(false),
    resized: () => engine?.resize(true, true),
    volumeImage: (a) => volume.imageOf(a), // measurements drawn in MPR planes
  });
  // its own row under the images: the main toolbar keeps its width (and the viewport its height) as before
  const measureBar = h('div', { class: 'viewer-tools viewer-measure-tools', attrs: { role: 'toolbar', 'aria-label': 'Measurement tools' } }, ...measure.toolbar);
  const shortcuts = shortcutOverlay();
  // series that are not image stacks (SR, PDF, waveforms, …) show in a panel over the grid (viewer-objects-view.ts)
  const objects = objectPanel(opts.orthancRoot, (uid) => whereInStudy(study, uid));
  const tagPanel = createTagPanel(opts.orthancRoot, () => setTags(false));
  // SEG overlays on the series they reference (viewer-seg-view.ts), read once cornerstone is up
  const segs = createSegOverlays({ study, orthancRoot: opts.orthancRoot, panes: () => panes, active: () => activePane(), engine: () => engine });
  // RT Structure Set contours on their images (viewer-rt-view.ts), likewise
  const rts = createRtOverlays({ study, orthancRoot: opts.orthancRoot, panes: () => panes, active: () => activePane(), engine: () => engine });
  const root = h(
    'div',
    { class: 'viewer', attrs: { 'data-rr-mode': modeName({ canAnnotate: canWrite, canAi: opts.canAi === true }) } },
    seriesList,
    h('div', { class: 'viewer-main' }, h('div', { class: 'viewer-area' }, grid, volume.area, volume.message, h('div', { class: 'viewer-layer-panels' }, segs.element, rts.element), objects.element, shortcuts, tagPanel.element, measure.panel), measureBar, h('div', { class: 'viewer-bar' }, toolbar, capture.message, help, cineControl, sr.element)),
  );
  slot.replaceChildren(root);

  const seriesButtons = new Map<string, HTMLButtonElement>();
  const seriesByUid = new Map<string, Series>();
  const imageSeries = study.series.filter((s) => stackImages(s, opts.orthancRoot).length > 0);
  for (const s of study.series) {
    seriesByUid.set(s.seriesInstanceUid, s);
    const thumb = thumbnailUrl(opts.apiRoot, s);
    const label = thumb ? seriesLabel(s) : { ...seriesLabel(s), detail: objectDetail(s) };
    const button = h(
      'button',
      {
        class: `series-item${thumb ? '' : ' series-object'}`,
        attrs: { type: 'button', 'data-series-uid': s.seriesInstanceUid, draggable: thumb ? 'true' : null },
      },
      thumb
        ? h('img', { class: 'series-thumb', attrs: { src: thumb, alt: '', loading: 'lazy', width: '64', height: '64', draggable: 'false' } })
        : h('span', { class: 'series-thumb none', text: s.modality || '?' }),
      h('span', { class: 'series-text' }, h('span', { class: 'series-title', text: label.title }), h('span', { class: 'series-detail muted', text: label.detail })),
    );
    seriesButtons.set(s.seriesInstanceUid, button);
    seriesList.appendChild(h('li', {}, button));
  }

  const cleanups: Array<() => void> = [];
  const listen = (target: HTMLElement | Document, type: string, fn: (e: Event) => void, options?: AddEventListenerOptions): void => {
    target.addEventListener(type, fn, options);
    cleanups.push(() => target.removeEventListener(type, fn, options));
  };

  let destroyed = false;
  let engine: RenderingEngine | null = null;
  let tools: ReturnType<typeof ToolGroupManager.createToolGroup> = undefined;
  let panes: Pane[] = [];
  let active = 0;
  let magnify = false;
  const activePane = (): Pane | null => panes[active] ?? null;
  /** Panes applyLayout leaves alone (the prior's viewport while it opens, viewer-priors.ts). */
  const reserved = new Set<number>();
  // linked scrolling and reference lines (viewer-sync.ts); priors beside the study (viewer-priors.ts)
  const sync = createSync(grid, { engine: () => engine, panes: () => panes, active: () => active, orthancRoot: opts.orthancRoot });
  toolbar.append(...sync.buttons);
  const priors = createPriors({
    study,
    apiRoot: opts.apiRoot,
    orthancRoot: opts.orthancRoot,
    ready: () => engine !== null,
    panes: () => panes,
    active: () => active,
    layoutId: () => layout.id,
    showLayout: async (layoutId, reserve) => {
      for (const i of reserve) reserved.add(i);
      try {
        await applyLayout(LAYOUTS.find((l) => l.id === layoutId) ?? layout);
      } finally {
        reserved.clear();
      }
    },
    load: (pane, s, from) => loadInto(pane, s, from),
    activate: (i) => activate(i),
  });
  seriesList.appendChild(priors.element);
  void priors.load();

  /** Marks the active pane and, in the panel, the series it shows. */
  const showActive = (): void => {
    const multi = panes.length > 1;
    for (const p of panes) p.setActive(p.index === active, multi);
    const uid = activePane()?.series()?.seriesInstanceUid;
    for (const [u, b] of seriesButtons) b.classList.toggle('active', u === uid);
    if (!tagPanel.hidden) tagPanel.show(activePane()?.currentImage() ?? null);
    sync.refresh();
    priors.refresh();
    segs.refresh();
    rts.refresh();
  };
  const activate = (i: number): void => {
    if (i === active || !panes[i]) return;
    active = i;
    showActive();
    volume.prepare();
  };
  const loadInto = async (pane: Pane, s: Series, from?: StudyDetail): Promise<void> => {
    const done = pane.load(s, from);
    showActive();
    await done;
    // once the image is shown: whether the series can be a volume, asked ahead of a click on MPR or 3D
    volume.prepare();
  };

  /** Builds the panes of a layout: viewports keep their series, empty ones get the next image series. */
  const applyLayout = async (next: Layout): Promise<void> => {
    layout = next;
    grid.setAttribute('data-rr-layout', next.id);
    grid.style.gridTemplateColumns = `repeat(${next.cols}, minmax(0, 1fr))`;
    grid.style.gridTemplateRows = `repeat(${next.rows}, minmax(0, 1fr))`;
    for (const b of layoutButtons) b.setAttribute('aria-pressed', String(b.getAttribute('data-rr-layout') === next.id));
    const count = viewportCount(next);
    const shown = panes.map((p) => p.series()?.seriesInstanceUid ?? null);
    for (const p of panes.splice(count)) {
      tools?.removeViewports(engineId, p.viewportId);
      p.destroy();
    }
    const fresh: Pane[] = [];
    for (let i = panes.length; i < count; i++) {
      const pane = createPane({ index: i, viewportId: `rr-stack-${id}-${i}`, study, orthancRoot: opts.orthancRoot, fpsInput, isActive: () => active === i });
      grid.appendChild(pane.cell);
      bindPane(pane);
      panes.push(pane);
      fresh.push(pane);
    }
    if (active >= count) active = 0;
    if (engine) {
      for (const p of fresh) {
        p.enable(engine);
        tools?.addViewport(p.viewportId, engineId);
      }
      engine.resize(true, true);
    }
    showActive();
    const want = fillViewports(shown, count, imageSeries.map((s) => s.seriesInstanceUid));
    await Promise.all(
      panes.map((p, i) => {
        const uid = want[i];
        const s = uid ? seriesByUid.get(uid) : undefined;
        if (reserved.has(i)) return Promise.resolve(); // a prior's viewport (viewer-priors.ts) fills itself
        if (!s && engine && !p.series()) p.status(EMPTY_HINT);
        return s && p.series()?.seriesInstanceUid !== uid ? loadInto(p, s) : Promise.resolve();
      }),
    );
  };

  const setLayout = (next: Layout): void => {
    void volume.leave(); // a 2D layout (button or L) ends a volume layout
    saveLayout(localStore(), user, next.id);
    void applyLayout(next);
  };

  const setMagnify = (on: boolean): void => {
    if (on) measure.releasePrimary();
    magnify = on;
    magnifyButton.setAttribute('aria-pressed', String(on));
    if (!tools) return;
    const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }];
    if (on) {
      tools.setToolPassive(WindowLevelTool.toolName);
      tools.setToolActive(MagnifyTool.toolName, { bindings: primary });
    } else {
      tools.setToolPassive(MagnifyTool.toolName);
      tools.setToolActive(WindowLevelTool.toolName, { bindings: primary });
    }
  };

  const setHelp = (on: boolean): void => {
    shortcuts.hidden = !on;
    helpButton.setAttribute('aria-pressed', String(on));
  };

  const setTags = (on: boolean): void => {
    tagPanel.setHidden(!on);
    tagsButton.setAttribute('aria-pressed', String(on));
    if (on) tagPanel.show(activePane()?.currentImage() ?? null);
    engine?.resize(true, true);
  };

  const focusActive = (): void => activePane()?.element.focus({ preventScroll: true });

  // Viewer-wide keys first (help, layout, viewport, magnifier), then the active viewport's.
  const onKey = (e: Event): void => {
    const k = e as KeyboardEvent;
    if (k.ctrlKey || k.metaKey || k.altKey || isTyping(k.target)) return;
    let handled = true;
    if (k.key === '?') setHelp(shortcuts.hidden);
    else if (k.key === 'Escape' && !shortcuts.hidden) setHelp(false);
    else if (k.key === 'Escape' && !tagPanel.hidden) setTags(false);
    else if (!engine) handled = false;
    else if (volume.key(k)) handled = true; // the shown volume layout's keys (viewer-mpr.ts)
    else if (measure.key(k)) handled = true; // tools, K, Z, Esc, Delete (viewer-measure.ts)
    else if (k.key === 'l' || k.key === 'L') setLayout(nextLayout(layout.id));
    else if (k.key === 'w' || k.key === 'W') activate(nextViewport(active, panes.length));
    else if (k.key === 'm' || k.key === 'M') setMagnify(!magnify);
    else if (k.key === 'g' || k.key === 'G') setTags(tagPanel.hidden);
    else if (sync.key(k)) handled = true; // Y, Q, J: linked scrolling, prior link, reference lines
    else if (k.key === 's' || k.key === 'S') void capture.run(k.shiftKey ? true : undefined);
    else handled = activePane()?.key(k) ?? false;
    if (handled) k.preventDefault();
  };

  const bindPane = (pane: Pane): void => {
    // a click (any button) makes the viewport active before the tools see it
    pane.cell.addEventListener('pointerdown', () => activate(pane.index), { capture: true });
    // Ctrl+wheel zooms; it is caught on the cell before cornerstone's wheel listener (stack scroll) sees it.
    pane.cell.addEventListener(
      'wheel',
      (e) => {
        if (!e.ctrlKey) return;
        e.preventDefault();
        e.stopPropagation();
        activate(pane.index);
        pane.zoomBy(e.deltaY < 0 ? 1.1 : 1 / 1.1);
      },
      { capture: true, passive: false },
    );
    pane.cell.addEventListener('dragover', (e) => {
      if (!e.dataTransfer?.types.includes(DRAG_TYPE)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      pane.cell.classList.add('drop-target');
    });
    pane.cell.addEventListener('dragleave', () => pane.cell.classList.remove('drop-target'));
    pane.cell.addEventListener('drop', (e) => {
      pane.cell.classList.remove('drop-target');
      const s = seriesByUid.get(e.dataTransfer?.getData(DRAG_TYPE) ?? '');
      if (!s || !engine) return;
      e.preventDefault();
      objects.hide();
      activate(pane.index);
      pane.element.focus({ preventScroll: true });
      void loadInto(pane, s);
    });
  };

  listen(document, 'keydown', onKey);
  listen(fpsInput, 'change', () => {
    fpsInput.value = String(clampFps(Number(fpsInput.value)));
    activePane()?.restartCine(); // the new rate at once
  });
  for (const b of layoutButtons) {
    listen(b, 'click', () => {
      setLayout(LAYOUTS.find((l) => l.id === b.getAttribute('data-rr-layout')) ?? layout);
      focusActive();
    });
  }
  for (const b of volume.buttons) {
    listen(b, 'click', () => void volume.enter(b.getAttribute('data-rr-volume-layout') ?? ''));
  }
  for (const b of keyButtons) {
    listen(b, 'click', () => {
      activePane()?.key(new KeyboardEvent('keydown', { key: b.getAttribute('data-rr-tool') ?? '' }));
      focusActive();
    });
  }
  listen(fitButton, 'click', () => {
    activePane()?.fit();
    focusActive();
  });
  listen(magnifyButton, 'click', () => {
    setMagnify(!magnify);
    focusActive();
  });
  listen(helpButton, 'click', () => setHelp(shortcuts.hidden));
  listen(tagsButton, 'click', () => setTags(tagPanel.hidden));
  // the tag browser follows the active viewport's image (refetched only when the instance changes)
  listen(
    grid,
    Enums.Events.IMAGE_RENDERED,
    (e) => {
      if (!tagPanel.hidden) tagPanel.show(activePane()?.currentImage() ?? null);
      segs.rendered(e.target);
      rts.rendered(e.target);
      measure.rendered();
    },
    { capture: true },
  );
  for (const s of study.series) {
    const button = seriesButtons.get(s.seriesInstanceUid)!;
    listen(button, 'click', () => {
      if (!imageSeries.includes(s)) {
        // a SEG or structure set drawn on an image series: its panel offers those images
        const target = segs.referencedSeries(s) ?? rts.referencedSeries(s);
        const pane = activePane();
        const open = (): void => {
          objects.hide();
          if (!target || !pane || !engine) return;
          pane.element.focus({ preventScroll: true });
          if (pane.series()?.seriesInstanceUid !== target.seriesInstanceUid) void loadInto(pane, target);
          else showActive();
        };
        const where = target ? ['series', target.seriesNumber === null ? '' : `#${target.seriesNumber}`, target.modality, target.seriesDescription].filter(Boolean).join(' ') : '';
        objects.show(s, target ? { line: `Drawn on the images of ${where}.`, open } : undefined);
        for (const [u, b] of seriesButtons) b.classList.toggle('active', u === s.seriesInstanceUid);
        return;
      }
      objects.hide();
      const pane = activePane();
      if (!pane || !engine) return;
      pane.element.focus({ preventScroll: true }); // the keys act on the viewer, not on the button
      if (volume.shown()) void volume.leave().then(() => loadInto(pane, s)); // back to 2D with the series clicked
      else void loadInto(pane, s);
    });
    listen(button, 'dragstart', (e) => {
      const d = (e as DragEvent).dataTransfer;
      if (!d) return;
      d.setData(DRAG_TYPE, s.seriesInstanceUid);
      d.setData('text/plain', s.seriesDescription || s.seriesInstanceUid);
      d.effectAllowed = 'copy';
    });
  }

  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    for (const c of cleanups.splice(0)) c();
    capture.destroy();
    objects.hide();
    // each step on its own: one failing (nothing to disable, already destroyed) must not skip the others
    const safely = (step: () => void): void => {
      try {
        step();
      } catch {
        /* nothing left to release */
      }
    };
    safely(() => tagPanel.destroy());
    safely(() => sync.destroy());
    safely(() => priors.destroy());
    safely(() => segs.destroy());
    safely(() => rts.destroy());
    safely(() => sr.destroy());
    safely(() => measure.destroy());
    safely(() => volume.destroy()); // its viewports and the volume, before the engine goes
    for (const p of panes.splice(0)) safely(() => p.destroy());
    safely(() => ToolGroupManager.destroyToolGroup(toolGroupId));
    safely(() => engine?.destroy());
    engine = null;
    releaseImages(); // cornerstone's image cache and the loader's data sets (viewer-prefetch-glue.ts)
  };

  // other panels (the AI panel's images and findings) show an image in the active viewport (viewer-goto.ts)
  const showImage = createShowImage({
    study,
    orthancRoot: opts.orthancRoot,
    ready: () => !destroyed && engine !== null && activePane() !== null,
    shownSeries: () => activePane()?.series() ?? null,
    load: async (s) => {
      const pane = activePane();
      if (pane) await loadInto(pane, s);
    },
    viewport: () => (engine && activePane() ? engine.getViewport(activePane()!.viewportId) : null),
    shown: () => {
      objects.hide();
      focusActive();
    },
  });

  // the panes exist (and show their status) before cornerstone is loaded
  await applyLayout(layout);
  const status = (msg: string): void => panes[0]?.status(msg);
  if (imageSeries.length === 0) {
    status('This study has no image series to display.');
    const first = study.series[0];
    if (first) seriesButtons.get(first.seriesInstanceUid)?.click(); // its other objects, shown for what they are
    void sr.start(undefined); // says why an SR's measurements cannot be shown
    return { destroy, showImage };
  }
  status('Loading viewer…');
  try {
    await initCornerstone();
  } catch (err) {
    status(`The viewer could not start: ${err instanceof Error ? err.message : String(err)}`);
    return { destroy, showImage };
  }
  if (destroyed || !grid.isConnected) return { destroy, showImage };
  const stopBudget = await applyCacheBudget(opts.apiRoot, grid); // Viewer.CacheMegabytes (viewer-cache.ts)
  cleanups.push(stopBudget);
  if (destroyed || !grid.isConnected) {
    stopBudget();
    return { destroy, showImage };
  }

  engine = createRenderingEngine(engineId); // stack pipeline: viewer-stack-rendering.ts
  for (const p of panes) p.enable(engine);
  tools = ToolGroupManager.createToolGroup(toolGroupId);
  if (tools) {
    for (const t of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, MagnifyTool]) tools.addTool(t.toolName);
    tools.setToolConfiguration(MagnifyTool.toolName, MAGNIFY);
    for (const p of panes) tools.addViewport(p.viewportId, engineId);
    const { MouseBindings } = ToolEnums;
    tools.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    tools.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    tools.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    measure.start(tools);
    void sr.start(tools);
  }
  // the viewports follow the slot's size
  const resize = new ResizeObserver((entries) => {
    // hidden (a volume layout shown in its place): nothing of the grid to draw, and a resize would redraw the
    // volume layout's views for nothing; it is resized when shown again (its size changes back)
    if (entries.every((e) => e.contentRect.width === 0 && e.contentRect.height === 0)) return;
    engine?.resize(true, true);
  });
  resize.observe(grid);
  cleanups.push(() => resize.disconnect());

  status('');
  await applyLayout(layout); // fills the viewports now that they can draw
  void segs.load().then(() => rts.load());
  return { destroy, showImage };
}
