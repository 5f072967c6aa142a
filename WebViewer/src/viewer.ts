// The study page's image viewer (issue 10, first slice): a series panel with the plugin's thumbnails and one
// cornerstone3D stack viewport showing raw DICOM from Orthanc (wadouri image IDs, viewer-model.ts), with
// scrolling (wheel, keys, scrollbar), window/level, presets, pan, zoom, invert, flips, rotation, reset,
// background prefetch, cine (Space, a frames-per-second control) and a text overlay with orientation markers
// and a scale bar in mm.
//
// Loaded only by the study page, with a dynamic import() (study.ts): cornerstone3D (≈1 MB gzipped, decode
// workers, WASM codecs) never reaches the worklist. Contract: mountViewer() fills `slot` and returns
// destroy(), which removes the listeners, destroys the rendering engine and the tool group and purges
// cornerstone's image cache (../shared/NOTES.md: OHIF issue 6010). DICOM strings reach the DOM as text only.
// The element carries data-rr-image-index (0-based index of the image last rendered), data-rr-renders (count
// of renders), data-rr-series-uid and data-rr-cine ("playing" while cine runs) for tests and automation; the
// scale bar carries data-rr-mm (the length it stands for).

import {
  cache,
  Enums,
  init as coreInit,
  metaData,
  RenderingEngine,
  type Types,
} from '@cornerstonejs/core';
import { init as loaderInit } from '@cornerstonejs/dicom-image-loader';
import {
  addTool,
  Enums as ToolEnums,
  init as toolsInit,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  utilities as toolUtilities,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import {
  cineFrameRate,
  cineNext,
  clampFps,
  firstImageSeries,
  markersFromCamera,
  MAX_FPS,
  MIN_FPS,
  navigate,
  overlayLines,
  presetForKey,
  scaleBar,
  scaleSpacing,
  seriesLabel,
  stackImages,
  thumbnailUrl,
  voiRange,
  windowOf,
  type StackImage,
  type WindowLevel,
} from './viewer-model';

export interface ViewerOptions {
  study: StudyDetail;
  /** The app's API root ("/api/"), for thumbnails. */
  apiRoot: string;
  /** Orthanc's REST root (absolute URL ending in "/"), for the wadouri image IDs. */
  orthancRoot: string;
}

export interface Viewer {
  destroy(): void;
}

let initialised: Promise<void> | null = null;

/** cornerstone3D, its DICOM loader and its tools, once per page load. */
function initCornerstone(): Promise<void> {
  initialised ??= (async () => {
    coreInit();
    loaderInit({ maxWebWorkers: Math.max(1, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2))) });
    toolsInit();
    for (const tool of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) addTool(tool);
  })();
  return initialised;
}

let counter = 0;

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(target.tagName);
}

export async function mountViewer(slot: HTMLElement, opts: ViewerOptions): Promise<Viewer> {
  const { study } = opts;
  const id = ++counter;
  const engineId = `rr-engine-${id}`;
  const toolGroupId = `rr-tools-${id}`;
  const viewportId = `rr-stack-${id}`;

  const element = h('div', { class: 'viewer-viewport', attrs: { 'data-rr-viewport': '', tabindex: '0' } });
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
  // cine: frames per second (Space plays and pauses)
  const fpsInput = h('input', {
    class: 'viewer-fps',
    attrs: { type: 'number', min: String(MIN_FPS), max: String(MAX_FPS), step: '1', value: '10', 'aria-label': 'Cine frames per second' },
  });
  const cineControl = h('label', { class: 'viewer-cine muted' }, h('span', { text: 'Cine fps ' }), fpsInput);
  const seriesList = h('ul', { class: 'viewer-series', attrs: { 'aria-label': 'Series' } });
  const help = h('div', {
    class: 'viewer-help muted',
    text: 'Wheel/↑↓/PgUp/PgDn scroll · Space cine · left drag W/L · middle drag pan · right drag or Ctrl+wheel zoom · 0–6 presets · I invert · H/V flip · T rotate · R reset',
  });
  const root = h(
    'div',
    { class: 'viewer' },
    seriesList,
    h('div', { class: 'viewer-main' }, h('div', { class: 'viewer-stage' }, element, overlay, scroll), h('div', { class: 'viewer-bar' }, help, cineControl)),
  );
  slot.replaceChildren(root);

  const seriesButtons = new Map<string, HTMLButtonElement>();
  const imageSeries = study.series.filter((s) => stackImages(s, opts.orthancRoot).length > 0);
  for (const s of study.series) {
    const label = seriesLabel(s);
    const thumb = thumbnailUrl(opts.apiRoot, s);
    const button = h(
      'button',
      { class: 'series-item', attrs: { type: 'button', 'data-series-uid': s.seriesInstanceUid, disabled: thumb ? null : '' } },
      thumb
        ? h('img', { class: 'series-thumb', attrs: { src: thumb, alt: '', loading: 'lazy', width: '64', height: '64' } })
        : h('span', { class: 'series-thumb none', text: s.modality || '?' }),
      h('span', { class: 'series-text' }, h('span', { class: 'series-title', text: label.title }), h('span', { class: 'series-detail muted', text: label.detail })),
    );
    seriesButtons.set(s.seriesInstanceUid, button);
    seriesList.appendChild(h('li', {}, button));
  }

  const cleanups: Array<() => void> = [];
  const listen = <K extends keyof HTMLElementEventMap>(
    target: HTMLElement | Document,
    type: K | string,
    fn: (e: Event) => void,
    options?: AddEventListenerOptions,
  ): void => {
    target.addEventListener(type, fn, options);
    cleanups.push(() => target.removeEventListener(type, fn, options));
  };

  let destroyed = false;
  let engine: RenderingEngine | null = null;
  let current: Series | null = null;
  let stack: StackImage[] = [];
  let userInverted = false;
  let renders = 0;

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
  /** The file's own cine rate (Recommended Display Frame Rate, Cine Rate, Frame Time) from the parsed first image. */
  const fileFps = (imageId: string): number =>
    cineFrameRate({
      recommendedDisplayFrameRate: fileNumbers(imageId, 'RecommendedDisplayFrameRate')?.[0] ?? null,
      cineRate: fileNumbers(imageId, 'CineRate')?.[0] ?? null,
      frameTimeMs: fileNumbers(imageId, 'FrameTime')?.[0] ?? null,
    });

  /**
   * Numbers of one attribute of an image's file, from cornerstone's naturalized instance metadata (keyword →
   * value; multi-frame functional groups combined for the frame), or null when absent. Read from the file
   * itself: cornerstone's image plane module fills in defaults (1 mm spacing, an axial orientation).
   */
  const fileNumbers = (imageId: string, keyword: string): number[] | null => {
    let v: unknown;
    try {
      v = (metaData.get('instance', imageId) as Record<string, unknown> | undefined)?.[keyword];
    } catch {
      return null;
    }
    const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : typeof v === 'number' ? [v] : [];
    const out = list.map((x) => Number(x)).filter(Number.isFinite);
    return out.length > 0 ? out : null;
  };

  /** The scale bar for the shown image and zoom: screen px → image px (camera, image data) → mm (spacing). */
  const updateScale = (image: StackImage | undefined): void => {
    const vp = viewport();
    let bar = null;
    if (vp && image && element.hasAttribute('data-rr-image-index') && element.clientHeight > 0) {
      const spacing = scaleSpacing({
        pixelSpacing: fileNumbers(image.imageId, 'PixelSpacing'),
        imagerPixelSpacing: fileNumbers(image.imageId, 'ImagerPixelSpacing'),
      });
      const worldPerImagePx = vp.getImageData()?.spacing?.[0];
      const scale = vp.getCamera().parallelScale;
      if (spacing && worldPerImagePx && worldPerImagePx > 0 && scale && scale > 0) {
        const worldPerScreenPx = (2 * scale) / element.clientHeight;
        bar = scaleBar((worldPerScreenPx / worldPerImagePx) * spacing.mmPerPixel, Math.min(200, element.clientWidth / 3), spacing.imager);
      }
    }
    scaleBox.hidden = bar === null;
    scaleLine.style.width = bar ? `${bar.px.toFixed(1)}px` : '0';
    scaleLabel.textContent = bar ? bar.label : '';
    if (bar) scaleBox.setAttribute('data-rr-mm', String(bar.mm));
    else scaleBox.removeAttribute('data-rr-mm');
  };

  const setStatus = (msg: string): void => {
    ov.status.textContent = msg;
  };

  const viewport = (): Types.IStackViewport | null =>
    (engine?.getViewport(viewportId) as Types.IStackViewport | undefined) ?? null;

  const currentWindow = (): WindowLevel | null => {
    const range = viewport()?.getProperties().voiRange;
    return range ? windowOf(range) : null;
  };

  const updateOverlay = (): void => {
    if (!current) return;
    const vp = viewport();
    const index = vp ? vp.getCurrentImageIdIndex() : 0;
    const image = stack[index];
    const plane = image ? (metaData.get('imagePlaneModule', image.imageId) as { sliceThickness?: number } | undefined) : undefined;
    const lines = overlayLines(study, current, {
      index,
      total: stack.length,
      window: currentWindow(),
      location: image?.location ?? null,
      thickness: plane?.sliceThickness ?? null,
      zoom: vp && element.hasAttribute('data-rr-image-index') ? vp.getZoom() : null,
    });
    ov.patient.textContent = lines.patient;
    ov.date.textContent = lines.date;
    ov.series.textContent = lines.series;
    ov.image.textContent = lines.image;
    ov.window.textContent = lines.window;
    ov.position.textContent = lines.position;
    ov.zoom.textContent = lines.zoom;
    // no markers before an image is drawn, nor for images without Image Orientation (Patient) in the file
    // (cornerstone's metadata may fill in a default orientation)
    const hasOrientation = image ? (fileNumbers(image.imageId, 'ImageOrientationPatient')?.length ?? 0) === 6 : false;
    const cam = vp && element.hasAttribute('data-rr-image-index') && hasOrientation ? vp.getCamera() : null;
    const m = cam?.viewUp && cam.viewPlaneNormal ? markersFromCamera(cam.viewUp, cam.viewPlaneNormal) : null;
    for (const edge of ['top', 'bottom', 'left', 'right'] as const) marker[edge].textContent = m ? m[edge] : '';
    updateScale(image);
  };

  const loadSeries = async (s: Series): Promise<void> => {
    const vp = viewport();
    if (!vp || destroyed) return;
    stopCine();
    current = s;
    stack = stackImages(s, opts.orthancRoot);
    userInverted = false;
    element.setAttribute('data-rr-series-uid', s.seriesInstanceUid);
    scroll.max = String(Math.max(0, stack.length - 1));
    scroll.value = '0';
    scroll.hidden = stack.length < 2;
    element.removeAttribute('data-rr-image-index');
    for (const [uid, b] of seriesButtons) b.classList.toggle('active', uid === s.seriesInstanceUid);
    updateOverlay();
    setStatus('Loading…');
    try {
      await vp.setStack(stack.map((i) => i.imageId), 0);
      if (destroyed) return;
      vp.resetCamera();
      vp.render();
      setStatus('');
      fpsInput.value = String(fileFps(stack[0]!.imageId));
      // the rest of the series is fetched in the background, nearest images first
      toolUtilities.stackPrefetch.enable(element);
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

  const onKey = (e: Event): void => {
    const k = e as KeyboardEvent;
    if (k.ctrlKey || k.metaKey || k.altKey || isTyping(k.target) || !current) return;
    const vp = viewport();
    if (!vp) return;
    const next = navigate(k.key, vp.getCurrentImageIdIndex(), stack.length);
    if (next !== null) {
      k.preventDefault();
      if (next !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(next);
      return;
    }
    if (k.key === ' ') {
      k.preventDefault();
      if (cineTimer !== null) stopCine();
      else startCine();
      return;
    }
    const preset = presetForKey(k.key);
    if (preset) {
      k.preventDefault();
      applyWindow(preset.window);
      return;
    }
    if (k.key === 'i' || k.key === 'I') {
      k.preventDefault();
      userInverted = !userInverted;
      vp.setProperties({ invert: !vp.getProperties().invert });
      vp.render();
    } else if (k.key === 'h' || k.key === 'H' || k.key === 'v' || k.key === 'V') {
      k.preventDefault();
      const cam = vp.getCamera();
      vp.setCamera(k.key.toLowerCase() === 'h' ? { flipHorizontal: !cam.flipHorizontal } : { flipVertical: !cam.flipVertical });
      vp.render();
    } else if (k.key === 't' || k.key === 'T') {
      k.preventDefault();
      vp.setViewPresentation({ rotation: (vp.getRotation() + 90) % 360 });
      vp.render();
    } else if (k.key === 'r' || k.key === 'R') {
      k.preventDefault();
      userInverted = false;
      vp.resetProperties();
      vp.resetCamera();
      vp.render();
      updateOverlay();
    }
  };

  // Ctrl+wheel zooms; it is caught on the stage before cornerstone's wheel listener (stack scroll) sees it.
  const onWheel = (e: Event): void => {
    const w = e as WheelEvent;
    if (!w.ctrlKey) return;
    w.preventDefault();
    w.stopPropagation();
    const vp = viewport();
    if (!vp) return;
    vp.setZoom(vp.getZoom() * (w.deltaY < 0 ? 1.1 : 1 / 1.1));
    vp.render();
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

  const stage = element.parentElement as HTMLElement;
  listen(document, 'keydown', onKey);
  listen(stage, 'wheel', onWheel, { capture: true, passive: false });
  listen(element, 'contextmenu', (e) => e.preventDefault());
  listen(scroll, 'input', () => {
    const vp = viewport();
    const next = Number(scroll.value);
    if (vp && Number.isInteger(next) && next !== vp.getCurrentImageIdIndex()) void vp.setImageIdIndex(next);
  });
  listen(fpsInput, 'change', () => {
    fpsInput.value = String(clampFps(Number(fpsInput.value)));
    if (cineTimer !== null) startCine(); // the new rate at once
  });
  listen(element, Enums.Events.IMAGE_RENDERED, onRendered);
  listen(element, Enums.Events.VOI_MODIFIED, updateOverlay);
  listen(element, Enums.Events.STACK_NEW_IMAGE, updateOverlay);
  listen(element, Enums.Events.CAMERA_MODIFIED, updateOverlay);
  for (const s of study.series) {
    seriesButtons.get(s.seriesInstanceUid)?.addEventListener('click', () => {
      element.focus({ preventScroll: true }); // the keys act on the viewer, not on the button
      void loadSeries(s);
    });
  }

  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    stopCine();
    for (const c of cleanups.splice(0)) c();
    // each step on its own: one failing (nothing to disable, already destroyed) must not skip the others
    const safely = (step: () => void): void => {
      try {
        step();
      } catch {
        /* nothing left to release */
      }
    };
    safely(() => toolUtilities.stackPrefetch.disable(element));
    safely(() => ToolGroupManager.destroyToolGroup(toolGroupId));
    safely(() => engine?.destroy());
    engine = null;
    cache.purgeCache();
  };

  const first = firstImageSeries(study);
  if (imageSeries.length === 0 || !first) {
    setStatus('This study has no image series to display.');
    return { destroy };
  }
  setStatus('Loading viewer…');
  try {
    await initCornerstone();
  } catch (err) {
    setStatus(`The viewer could not start: ${err instanceof Error ? err.message : String(err)}`);
    return { destroy };
  }
  if (destroyed || !element.isConnected) return { destroy };

  engine = new RenderingEngine(engineId);
  engine.enableElement({
    viewportId,
    type: Enums.ViewportType.STACK,
    element,
    defaultOptions: { background: [0, 0, 0] as Types.Point3 },
  });
  const tools = ToolGroupManager.createToolGroup(toolGroupId);
  if (tools) {
    for (const t of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool]) tools.addTool(t.toolName);
    tools.addViewport(viewportId, engineId);
    const { MouseBindings } = ToolEnums;
    tools.setToolActive(WindowLevelTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
    tools.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
    tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
    tools.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  }
  // the viewport follows the slot's size
  const resize = new ResizeObserver(() => engine?.resize(true, true));
  resize.observe(element);
  cleanups.push(() => resize.disconnect());

  await loadSeries(first);
  return { destroy };
}
