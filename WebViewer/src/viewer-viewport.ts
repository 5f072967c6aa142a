// One stack viewport of the viewer (viewer.ts builds one per cell of the layout): its element, text overlay
// (.ov-* classes), orientation markers, scale bar, scrollbar and cine timer, and the actions the keys and the
// toolbar apply to it (presets, invert, flips, rotation, fit, reset). The rendering engine and the tool group
// belong to viewer.ts; a pane enables its element in the engine it is given and disables it in destroy().
// Hooks for tests and automation on the element: data-rr-viewport (the pane's index in the layout),
// data-rr-image-index (0-based index of the image last rendered), data-rr-renders (count of renders),
// data-rr-series-uid, data-rr-study-uid, data-rr-cine ("playing" while cine runs), data-rr-active on the active pane,
// data-rr-cached/data-rr-total (viewer-prefetch.ts); the scale bar carries data-rr-mm. DICOM strings reach the DOM as text only.

import { Enums, metaData, type RenderingEngine, type Types } from '@cornerstonejs/core';
import { stackPipeline } from './viewer-stack-rendering';
import { fitView, flipScreen, resetView, screenMarkers, viewZoom } from './viewer-stack-view';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import { loadableStack, paneLoading } from './viewer-prefetch-glue';
import {
  cineFrameRate,
  cineNext,
  clampFps,
  navigate,
  overlayLines,
  presetForKey,
  scaleBar,
  scaleSpacing,
  voiRange,
  windowOf,
  type ScaleBar,
  type StackImage,
  type WindowLevel,
} from './viewer-model';

/** What a failed image load says: cornerstone rejects with an Error or with {status, request} for HTTP failures. */
export function loadErrorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && typeof (err as { status?: unknown }).status === 'number') {
    const st = (err as { status: number }).status;
    return st === 0 ? 'the request was interrupted' : `the server answered ${st}`;
  }
  return String(err);
}

export interface PaneOptions {
  index: number;
  viewportId: string;
  /** The viewer's study; load() may be given another one (a prior, viewer-priors.ts). */
  study: StudyDetail;
  orthancRoot: string;
  /** The shared "Cine fps" control (read when cine starts; set from the file when the active pane loads). */
  fpsInput: HTMLInputElement;
  /** Whether this pane is the active one (the fps control follows the active pane only). */
  isActive: () => boolean;
}

export interface Pane {
  readonly index: number;
  readonly viewportId: string;
  /** The cell (.viewer-stage) holding element, overlay and scrollbar. */
  readonly cell: HTMLDivElement;
  readonly element: HTMLDivElement;
  series(): Series | null;
  /** The study of the series shown (the viewer's, or the prior load() was given). */
  study(): StudyDetail;
  /** The image shown (instance, frame, the instance's frame count), or null before one is. */
  currentImage(): { orthancId: string; frame: number; frames: number } | null;
  /** The centred status line (loading, errors, the hint of an empty viewport). */
  status(msg: string): void;
  /** Enables the element in the engine (once the engine exists). */
  enable(engine: RenderingEngine): void;
  /** Loads a series of `from` (default: the viewer's study). */
  load(s: Series, from?: StudyDetail): Promise<void>;
  /** Applies a key; true when the key was handled. */
  key(k: KeyboardEvent): boolean;
  zoomBy(factor: number): void;
  fit(): void;
  reset(): void;
  toggleCine(): void;
  restartCine(): void;
  setActive(active: boolean, multi: boolean): void;
  destroy(): void;
}

/** Numbers of one attribute of an image's file from cornerstone's naturalized instance metadata, or null. */
function fileNumbers(imageId: string, keyword: string): number[] | null {
  let v: unknown;
  try {
    v = (metaData.get('instance', imageId) as Record<string, unknown> | undefined)?.[keyword];
  } catch {
    return null;
  }
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : typeof v === 'number' ? [v] : [];
  const out = list.map((x) => Number(x)).filter(Number.isFinite);
  return out.length > 0 ? out : null;
}

/** The file's own cine rate (Recommended Display Frame Rate, Cine Rate, Frame Time) from the parsed image. */
function fileFps(imageId: string): number {
  return cineFrameRate({
    recommendedDisplayFrameRate: fileNumbers(imageId, 'RecommendedDisplayFrameRate')?.[0] ?? null,
    cineRate: fileNumbers(imageId, 'CineRate')?.[0] ?? null,
    frameTimeMs: fileNumbers(imageId, 'FrameTime')?.[0] ?? null,
  });
}

// Builds the pane's DOM and its state; the closures below share that state (one function on purpose).
export function createPane(opts: PaneOptions): Pane {
  const { index, viewportId, fpsInput } = opts;
  let study = opts.study;
  const element = h('div', { class: 'viewer-viewport', attrs: { 'data-rr-viewport': String(index), tabindex: '0' } });
  const text = (cls: string): HTMLDivElement => h('div', { class: `ov ${cls}` });
  const ov = {
    patient: text('ov-patient'),
    date: text('ov-date'),
    series: text('ov-series'),
    image: text('ov-image'),
    window: text('ov-window'),
    position: text('ov-position'),
    zoom: text('ov-zoom'),
    status: text('ov-status'),
    cine: text('ov-cine'),
  };
  // orientation markers on the four edges (from the camera: they follow flips and rotation)
  const marker = {
    top: text('ov-orient ov-orient-top'),
    bottom: text('ov-orient ov-orient-bottom'),
    left: text('ov-orient ov-orient-left'),
    right: text('ov-orient ov-orient-right'),
  };
  // scale bar: a line whose length stands for a round number of mm at the current zoom
  const scaleLine = h('div', { class: 'ov-scale-bar' });
  const scaleLabel = h('div', { class: 'ov-scale-label' });
  const scaleBox = h('div', { class: 'ov-scale', attrs: { hidden: '' } }, scaleLine, scaleLabel);
  const overlay = h(
    'div',
    { class: 'viewer-overlay', attrs: { 'aria-live': 'polite' } },
    h('div', { class: 'ov-tl' }, ov.patient, ov.date),
    h('div', { class: 'ov-bl' }, ov.series, ov.image, ov.position),
    h('div', { class: 'ov-br' }, ov.cine, ov.zoom, ov.window),
    h('div', { class: 'ov-c' }, ov.status),
    marker.top,
    marker.bottom,
    marker.left,
    marker.right,
    scaleBox,
  );
  // scrollbar: one step per image of the stack
  const scroll = h('input', {
    class: 'viewer-scroll',
    attrs: { type: 'range', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Image in series', hidden: '' },
  });
  // prefetch outwards from the shown image, its progress bar, data-rr-cached/-total (viewer-prefetch*.ts)
  const loading = paneLoading(viewportId, element);
  const cell = h('div', { class: 'viewer-stage', attrs: { 'data-rr-cell': String(index) } }, element, overlay, scroll, loading.element);

  const cleanups: Array<() => void> = [];
  const listen = (target: HTMLElement, type: string, fn: (e: Event) => void): void => {
    target.addEventListener(type, fn);
    cleanups.push(() => target.removeEventListener(type, fn));
  };

  let engine: RenderingEngine | null = null;
  let destroyed = false;
  let current: Series | null = null;
  let stack: StackImage[] = [];
  let userInverted = false;
  let renders = 0;

  const viewport = (): Types.IStackViewport | null =>
    (engine?.getViewport(viewportId) as Types.IStackViewport | undefined) ?? null;
  const drawn = (): boolean => element.hasAttribute('data-rr-image-index');
  /** The status line while a series' first image is awaited. */
  const LOADING = 'Loading…';
  const setStatus = (msg: string): void => {
    ov.status.textContent = msg;
  };
  /** Clears the status line if it still says LOADING (another message set since stays). */
  const clearLoading = (): void => {
    if (ov.status.textContent === LOADING) setStatus('');
  };

  // cine: one timer; a frame is asked for only when the previous one has been set (no pile-up when slow)
  let cineTimer: ReturnType<typeof setInterval> | null = null;
  let cineBusy = false;
  const stopCine = (): void => {
    if (cineTimer !== null) clearInterval(cineTimer);
    cineTimer = null;
    cineBusy = false;
    element.removeAttribute('data-rr-cine');
    ov.cine.textContent = '';
  };
  const startCine = (): void => {
    stopCine();
    if (stack.length < 2) return;
    const fps = clampFps(Number(fpsInput.value));
    fpsInput.value = String(fps);
    element.setAttribute('data-rr-cine', 'playing');
    ov.cine.textContent = `Cine ${fps} fps`;
    cineTimer = setInterval(() => {
      const vp = viewport();
      if (!vp || cineBusy) return;
      cineBusy = true;
      vp.setImageIdIndex(cineNext(vp.getCurrentImageIdIndex(), stack.length)).then(
        () => (cineBusy = false),
        () => (cineBusy = false),
      );
    }, 1000 / fps);
  };

  /**
   * The scale bar for the shown image and zoom, for a viewport of width × height CSS pixels: screen px →
   * image px (camera, image data) → mm (spacing). Reads only (see updateOverlay).
   */
  const scaleBarOf = (image: StackImage | undefined, width: number, height: number): ScaleBar | null => {
    const vp = viewport();
    if (!vp || !image || !drawn() || !(height > 0)) return null;
    const spacing = scaleSpacing({
      pixelSpacing: fileNumbers(image.imageId, 'PixelSpacing'),
      imagerPixelSpacing: fileNumbers(image.imageId, 'ImagerPixelSpacing'),
    });
    const worldPerImagePx = vp.getImageData()?.spacing?.[0];
    const scale = vp.getCamera().parallelScale;
    if (!spacing || !worldPerImagePx || !(worldPerImagePx > 0) || !scale || !(scale > 0)) return null;
    const worldPerScreenPx = (2 * scale) / height;
    return scaleBar((worldPerScreenPx / worldPerImagePx) * spacing.mmPerPixel, Math.min(200, width / 3), spacing.imager);
  };

  const showScaleBar = (bar: ScaleBar | null): void => {
    scaleBox.hidden = bar === null;
    scaleLine.style.width = bar ? `${bar.px.toFixed(1)}px` : '0';
    scaleLabel.textContent = bar ? bar.label : '';
    if (bar) scaleBox.setAttribute('data-rr-mm', String(bar.mm));
    else scaleBox.removeAttribute('data-rr-mm');
  };

  const currentWindow = (): WindowLevel | null => {
    const range = viewport()?.getProperties().voiRange;
    return range ? windowOf(range) : null;
  };

  // Everything is read (the element's size, the viewport's camera and mappings) before anything is written:
  // a read after a write makes the browser lay the page out again, and this runs at every image drawn.
  const updateOverlay = (): void => {
    if (!current) return;
    const vp = viewport();
    const at = vp ? vp.getCurrentImageIdIndex() : 0;
    const image = stack[at];
    const width = element.clientWidth;
    const height = element.clientHeight;
    const plane = image ? (metaData.get('imagePlaneModule', image.imageId) as { sliceThickness?: number } | undefined) : undefined;
    const lines = overlayLines(study, current, {
      index: at,
      total: stack.length,
      window: currentWindow(),
      location: image?.location ?? null,
      thickness: plane?.sliceThickness ?? null,
      zoom: vp && drawn() ? viewZoom(vp) : null,
    });
    // no markers before an image is drawn, nor for images without Image Orientation (Patient) in the file
    // (cornerstone's metadata may fill in a default orientation)
    const hasOrientation = image ? (fileNumbers(image.imageId, 'ImageOrientationPatient')?.length ?? 0) === 6 : false;
    const m = vp && drawn() && hasOrientation ? screenMarkers(vp, width, height) : null;
    const bar = scaleBarOf(image, width, height);
    ov.patient.textContent = lines.patient;
    ov.date.textContent = lines.date;
    ov.series.textContent = lines.series;
    ov.image.textContent = lines.image;
    ov.window.textContent = lines.window;
    ov.position.textContent = lines.position;
    ov.zoom.textContent = lines.zoom;
    for (const edge of ['top', 'bottom', 'left', 'right'] as const) marker[edge].textContent = m ? m[edge] : '';
    showScaleBar(bar);
  };

  const load = async (s: Series, from?: StudyDetail): Promise<void> => {
    const vp = viewport();
    if (!vp || destroyed) return;
    stopCine();
    current = s;
    study = from ?? opts.study;
    element.setAttribute('data-rr-study-uid', study.studyInstanceUid);
    stack = loadableStack(s, opts.orthancRoot);
    loading.stop(); // the previous series' prefetch
    userInverted = false;
    element.setAttribute('data-rr-series-uid', s.seriesInstanceUid);
    scroll.max = String(Math.max(0, stack.length - 1));
    scroll.value = '0';
    scroll.hidden = stack.length < 2;
    element.removeAttribute('data-rr-image-index');
    updateOverlay();
    setStatus(LOADING);
    try {
      await vp.setStack(
        stack.map((i) => i.imageId),
        0,
      );
      if (destroyed) return;
      vp.resetCamera();
      vp.render();
      clearLoading();
      if (opts.isActive()) fpsInput.value = String(fileFps(stack[0]!.imageId));
      // the rest of the series is fetched in the background, nearest images first
      loading.start(s, stack, 0);
    } catch (err) {
      if (destroyed) return;
      setStatus(`This series cannot be displayed: ${err instanceof Error ? err.message : String(err)}`);
    }
    updateOverlay();
  };

  const applyWindow = (w: WindowLevel | null): void => {
    const vp = viewport();
    if (!vp) return;
    if (w) {
      vp.setProperties({ voiRange: voiRange(w) });
    } else {
      // the file's own window: cornerstone's defaults for the current image, keeping the user's invert
      vp.resetProperties();
      if (userInverted) vp.setProperties({ invert: !vp.getProperties().invert });
    }
    vp.render();
    updateOverlay();
  };

  /** Fit: the whole image in the viewport, centred (zoom 100 %, no pan); window, flips and rotation stay. */
  const fit = (): void => {
    const vp = viewport();
    if (!vp || !current) return;
    fitView(vp);
    vp.render();
    updateOverlay();
  };

  const reset = (): void => {
    const vp = viewport();
    if (!vp || !current) return;
    userInverted = false;
    vp.resetProperties();
    resetView(vp);
    vp.render();
    updateOverlay();
  };

  // Show image `next` of the stack; an image that cannot be loaded or decoded says so in the viewport
  // (a rejection left unhandled would show nothing to the user and only reach the console).
  const showIndex = (vp: Types.IStackViewport, next: number): void => {
    vp.setImageIdIndex(next).then(
      () => {
        if (!destroyed && ov.status.textContent?.startsWith('Image ')) setStatus('');
      },
      (err: unknown) => {
        if (destroyed || vp !== viewport()) return;
        setStatus(`Image ${next + 1} cannot be displayed: ${loadErrorText(err)}`);
      },
    );
  };

  // The keys of one viewport (viewer.ts handles the viewer-wide ones first): one switch on purpose.
  const key = (k: KeyboardEvent): boolean => {
    const vp = viewport();
    if (!vp || !current) return false;
    const next = navigate(k.key, vp.getCurrentImageIdIndex(), stack.length);
    if (next !== null) {
      if (next !== vp.getCurrentImageIdIndex()) showIndex(vp, next);
      return true;
    }
    if (k.key === ' ') {
      toggleCine();
      return true;
    }
    const preset = presetForKey(k.key);
    if (preset) {
      applyWindow(preset.window);
      return true;
    }
    switch (k.key.toLowerCase()) {
      case 'i':
        userInverted = !userInverted;
        vp.setProperties({ invert: !vp.getProperties().invert });
        vp.render();
        return true;
      case 'h':
      case 'v': {
        flipScreen(vp, k.key.toLowerCase() === 'h' ? 'h' : 'v');
        vp.render();
        return true;
      }
      case 't':
        vp.setViewPresentation({ rotation: (vp.getRotation() + 90) % 360 });
        vp.render();
        return true;
      case 'f':
        fit();
        return true;
      case 'r':
        reset();
        return true;
      default:
        return false;
    }
  };

  const toggleCine = (): void => {
    if (cineTimer !== null) stopCine();
    else startCine();
  };

  const onRendered = (): void => {
    const vp = viewport();
    if (!vp) return;
    renders++;
    element.setAttribute('data-rr-image-index', String(vp.getCurrentImageIdIndex()));
    scroll.value = String(vp.getCurrentImageIdIndex());
    element.setAttribute('data-rr-renders', String(renders));
    updateOverlay();
  };

  listen(element, 'contextmenu', (e) => e.preventDefault());
  listen(scroll, 'input', () => {
    const vp = viewport();
    const next = Number(scroll.value);
    if (vp && Number.isInteger(next) && next !== vp.getCurrentImageIdIndex()) showIndex(vp, next);
  });
  listen(element, Enums.Events.IMAGE_RENDERED, onRendered);
  listen(element, Enums.Events.VOI_MODIFIED, updateOverlay);
  listen(element, Enums.Events.STACK_NEW_IMAGE, updateOverlay);
  // an image of the series is shown: "Loading…" goes, even when setStack's promise is still pending (under
  // load cornerstone shows the first image, and the user scrolls on, before it resolves: the status line stayed
  // over the image, and a capture with overlays burned it in)
  // …and the prefetch is re-centred on the image shown
  listen(element, Enums.Events.STACK_NEW_IMAGE, () => {
    clearLoading();
    loading.recenter(viewport()?.getCurrentImageIdIndex() ?? 0);
  });
  listen(element, Enums.Events.CAMERA_MODIFIED, updateOverlay);

  return {
    index,
    viewportId,
    cell,
    element,
    series: () => current,
    study: () => study,
    currentImage: () => {
      const vp = viewport();
      const image = vp && drawn() ? stack[vp.getCurrentImageIdIndex()] : undefined;
      if (!image) return null;
      const frames = stack.filter((i) => i.orthancId === image.orthancId).length;
      return { orthancId: image.orthancId, frame: image.frame, frames };
    },
    status: setStatus,
    enable(e: RenderingEngine): void {
      engine = e;
      // CPU pipeline when WebGL is software-only (viewer-stack-rendering.ts, set on the engine by viewer.ts); data-rr-rendering says which
      e.enableElement({ viewportId, type: Enums.ViewportType.STACK, element, defaultOptions: { background: [0, 0, 0] as Types.Point3 } });
      element.setAttribute('data-rr-rendering', stackPipeline());
    },
    load,
    key,
    zoomBy(factor: number): void {
      const vp = viewport();
      if (!vp) return;
      vp.setZoom(vp.getZoom() * factor);
      vp.render();
    },
    fit,
    reset,
    toggleCine,
    restartCine(): void {
      if (cineTimer !== null) startCine();
    },
    setActive(active: boolean, multi: boolean): void {
      cell.classList.toggle('active', active && multi);
      if (active) element.setAttribute('data-rr-active', '');
      else element.removeAttribute('data-rr-active');
      if (active && stack[0] && cineTimer === null) fpsInput.value = String(fileFps(stack[0].imageId));
    },
    destroy(): void {
      if (destroyed) return;
      destroyed = true;
      stopCine();
      for (const c of cleanups.splice(0)) c();
      loading.destroy();
      try {
        engine?.disableElement(viewportId);
      } catch {
        /* engine already destroyed */
      }
      engine = null;
      cell.remove();
    },
  };
}
