// The viewer's measurements, annotations and key images on cornerstone3D (viewer.ts mounts it):
// - the tools of viewer-measure-model.ts TOOL_INFO in the toolbar and on their keys: a selected tool takes the
//   left button instead of W/L; Esc (or the W/L button) gives it back. Values (drawn beside each annotation and
//   listed) are computed here from the image's Pixel Spacing / Imager Pixel Spacing / pixels and pixel data
//   (viewer-measure-model.ts), not taken from cornerstone's cachedStats.
// - the panel (viewer-measure-panel.ts): every annotation in cornerstone's annotation state, jump, relabel,
//   delete; undo/redo (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y) of the user's own add/move/relabel/delete.
// - persistence: on open, GET the study's annotations (viewer-annotations-api.ts) and add them on their image
//   (SOP Instance UID + frame → imageId), others' locked; every own change is saved through the save queue
//   (viewer-annotations-queue.ts: ordered, retried with back-off, kept in localStorage per user + study).
// - key images: K marks/unmarks the active viewport's image; a star on a viewport showing one.
// Without `canAnnotate` the annotations are shown read-only and no tool that writes is offered or bound.

import { cache, eventTarget, metaData, type RenderingEngine, type Types } from '@cornerstonejs/core';
import {
  addTool,
  AngleTool,
  annotation as csAnnotation,
  ArrowAnnotateTool,
  BidirectionalTool,
  CircleROITool,
  CobbAngleTool,
  EllipticalROITool,
  Enums as ToolEnums,
  LengthTool,
  PlanarFreehandROITool,
  ProbeTool,
  RectangleROITool,
  WindowLevelTool,
  type ToolGroupManager,
} from '@cornerstonejs/tools';
import type { Api, Series, StudyDetail } from './api';
import { h } from './dom';
import { AnnotationsClient } from './viewer-annotations-api';
import { loadPending, pendingKey, SaveQueue, type Op } from './viewer-annotations-queue';
import { fromWire, sameAnnotation, toWire, type CsAnnotation, type KeyImage, type WireBody } from './viewer-annotations-wire';
import { History } from './viewer-measure-history';
import {
  isMeasureTool,
  measure,
  measurementLines,
  measurementSummary,
  spacingOf,
  TOOL_INFO,
  toolForKey,
  toolLabel,
  worldToImage,
  type ImagePlane,
  type Measurement,
  type MeasureTool,
  type Pt,
} from './viewer-measure-model';
import { createMeasurePanel, type KeyRow, type PanelRow } from './viewer-measure-panel';
import { stackImages, type StackImage } from './viewer-model';
import type { Pane } from './viewer-viewport';

type ToolGroup = NonNullable<ReturnType<typeof ToolGroupManager.createToolGroup>>;

const CS_TOOLS = [LengthTool, AngleTool, CobbAngleTool, BidirectionalTool, EllipticalROITool, RectangleROITool, CircleROITool, PlanarFreehandROITool, ProbeTool, ArrowAnnotateTool];
/** Quiet time after the last change of an annotation before it is recorded and saved. */
const COMMIT_MS = 400;

let registered = false;

/** Adds the measurement tools to cornerstone (once per page, after tools' init). */
export function registerMeasureTools(): void {
  if (registered) return;
  registered = true;
  for (const t of CS_TOOLS) addTool(t);
}

export interface MeasureContext {
  study: StudyDetail;
  orthancRoot: string;
  api: Pick<Api, 'root' | 'headersFor'> | null;
  canAnnotate: boolean;
  user: string | null;
  engine(): RenderingEngine | null;
  panes(): Pane[];
  activePane(): Pane | null;
  /** viewer-goto.ts showImage: shows an image (frame 1-based) in the active viewport. */
  showImage(sopInstanceUid: string, frame: number): Promise<boolean>;
  /** A measurement tool takes the left button: the viewer turns its magnifier off. */
  onPrimaryTaken(): void;
  /** The viewer's layout changed size (the panel opened or closed). */
  resized(): void;
  /** An annotation drawn in a volume plane (MPR): the stack image it is stored under (viewer-volume-layout.ts). */
  volumeImage?(a: CsAnnotation): { orthancId: string; frame: number } | null;
}

export interface Measure {
  /** Toolbar buttons (tools, W/L, panel) and the save state chip. */
  toolbar: HTMLElement[];
  panel: HTMLElement;
  /** Called once the tool group exists: adds the tools, loads the study's annotations. */
  start(tools: ToolGroup): void;
  /** A key for the measurements (tools, K, Esc, Delete, Z); true when handled. */
  key(k: KeyboardEvent): boolean;
  /** The magnifier takes the left button: the selected tool lets go of it. */
  releasePrimary(): void;
  /** The viewer drew a viewport (the key-image star follows the shown image). */
  rendered(): void;
  destroy(): void;
}

interface Located {
  series: Series;
  index: number;
  image: StackImage;
}

/** A length between world points (mm): a Length drawn in a volume plane, whose points are patient coordinates. */
function worldLength(a: CsAnnotation): Measurement | null {
  const [p, q] = a.data.handles?.points ?? [];
  if (!p || !q) return null;
  const length = Math.hypot(q[0]! - p[0]!, q[1]! - p[1]!, q[2]! - p[2]!);
  return { length, unit: 'mm', areaUnit: 'mm²', valueUnit: '', unitSource: 'PixelSpacing' };
}

function localStore(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Numbers of one attribute of an image's file (cornerstone's naturalized metadata), or null. */
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

// Builds the controller; its closures share the state (one function on purpose, like viewer.ts).
export function createMeasure(ctx: MeasureContext): Measure {
  const { study } = ctx;
  const byImageId = new Map<string, Located>();
  const bySopFrame = new Map<string, Located>(); // `${sop}:${frame 1-based}`
  const byOrthancFrame = new Map<string, Located>(); // `${orthancId}:${frame 0-based}`
  for (const s of study.series) {
    stackImages(s, ctx.orthancRoot).forEach((image, index) => {
      const loc = { series: s, index, image };
      byImageId.set(image.imageId, loc);
      bySopFrame.set(`${image.sopInstanceUid}:${image.frame + 1}`, loc);
      byOrthancFrame.set(`${image.orthancId}:${image.frame}`, loc);
    });
  }
  /** The image an annotation is stored under: its own, or for one drawn in an MPR plane the volume's slice. */
  const locate = (a: CsAnnotation): Located | undefined => {
    const loc = byImageId.get(a.metadata.referencedImageId ?? '');
    if (loc) return loc;
    const v = ctx.volumeImage?.(a);
    return v ? byOrthancFrame.get(`${v.orthancId}:${v.frame}`) : undefined;
  };
  const whereText = (loc: Located | undefined): string =>
    loc ? `Se ${loc.series.seriesNumber ?? '?'}, Im ${loc.index + 1}` : 'image not in this study';

  /** The last known stored state of each annotation (own and others'), its author and whether it is own. */
  const known = new Map<string, WireBody>();
  const authors = new Map<string, string>();
  const mine = new Set<string>();
  const keyImages = new Map<string, KeyImage>(); // `${sop}:${frame}`
  const values = new Map<string, { key: string; m: Measurement }>();
  const history = new History();
  let tools: ToolGroup | null = null;
  let current: MeasureTool | null = null;
  let applying = false;
  let destroyed = false;
  let client: AnnotationsClient | null = null;
  let queue: SaveQueue | null = null;
  const storage = localStore();
  const storeKey = pendingKey(ctx.user, study.studyInstanceUid);

  const isOwn = (uid: string): boolean => {
    const data = known.get(uid)?.data ?? (csAnnotation.state.getAnnotation(uid) as unknown as CsAnnotation | undefined)?.data;
    if (!ctx.canAnnotate || data?.rrSource !== undefined) return false;
    return mine.has(uid) || ctx.user === null || authors.get(uid) === ctx.user;
  };

  // ---- values ----

  const imagePoints = (a: CsAnnotation, imageId: string): Pt[] => {
    const world = a.metadata.toolName === 'PlanarFreehandROI' && a.data.contour?.polyline?.length ? a.data.contour.polyline : (a.data.handles?.points ?? []);
    const plane = metaData.get('imagePlaneModule', imageId) as ImagePlane | undefined;
    if (!plane) throw new Error('image not loaded');
    return world.map((p) => worldToImage(p, plane));
  };

  /** The values of an annotation from its image (null when the image is not loaded yet: the stored ones then). */
  const measureOf = (a: CsAnnotation): Measurement | null => {
    const uid = a.annotationUID ?? '';
    const imageId = a.metadata.referencedImageId ?? '';
    const loc = byImageId.get(imageId);
    if (!loc && a.metadata.toolName === 'Length' && locate(a)) return worldLength(a); // drawn in an MPR plane
    if (!isMeasureTool(a.metadata.toolName) || !loc) return known.get(uid)?.data.stats ?? null;
    const key = JSON.stringify([imageId, a.data.handles?.points, a.data.contour?.polyline]);
    const cached = values.get(uid);
    if (cached && cached.key === key) return cached.m;
    try {
      const spacing = spacingOf({ pixelSpacing: fileNumbers(imageId, 'PixelSpacing'), imagerPixelSpacing: fileNumbers(imageId, 'ImagerPixelSpacing') });
      const points = imagePoints(a, imageId);
      const image = cache.getImage(imageId) as Types.IImage | undefined;
      let px = null;
      if (image && image.color !== true) {
        const scaled = image.preScale?.scaled === true;
        px = { pixels: image.getPixelData() as ArrayLike<number>, width: image.columns, height: image.rows, ...(scaled ? {} : { slope: image.slope ?? 1, intercept: image.intercept ?? 0 }) };
      }
      const m = measure({ tool: a.metadata.toolName, points }, spacing, loc.series.modality, px);
      if (px || !['Probe', 'EllipticalROI', 'RectangleROI', 'CircleROI', 'PlanarFreehandROI'].includes(a.metadata.toolName)) values.set(uid, { key, m });
      return m;
    } catch {
      return known.get(uid)?.data.stats ?? null; // metadata not loaded yet
    }
  };

  const annotationOfData = (data: unknown): CsAnnotation | undefined =>
    (csAnnotation.state.getAllAnnotations() as unknown as CsAnnotation[]).find((a) => a.data === data);

  const textLines = (data: unknown): string[] | undefined => {
    const a = annotationOfData(data);
    if (!a) return undefined;
    const m = measureOf(a);
    const lines = m ? measurementLines(a.metadata.toolName, m) : [];
    const label = typeof a.data.label === 'string' && a.metadata.toolName !== 'ArrowAnnotate' ? a.data.label : '';
    return label ? [label, ...lines] : lines;
  };

  // ---- annotation state ----

  const measureAnnotations = (): CsAnnotation[] =>
    (csAnnotation.state.getAllAnnotations() as unknown as CsAnnotation[]).filter((a) => isMeasureTool(a.metadata.toolName));

  const serialise = (a: CsAnnotation): WireBody | null => {
    const loc = locate(a);
    if (!loc) return null;
    const where = { seriesInstanceUid: loc.series.seriesInstanceUid, sopInstanceUid: loc.image.sopInstanceUid, frame: loc.image.frame + 1 };
    return toWire(a, where, measureOf(a));
  };

  const renderAll = (): void => {
    const engine = ctx.engine();
    if (!engine) return;
    for (const p of ctx.panes()) {
      try {
        engine.getViewport(p.viewportId)?.render();
      } catch {
        /* not enabled yet */
      }
    }
  };

  /** Puts a stored state into cornerstone's annotation state (null: removes it); no save, no history. */
  const applyState = (uid: string, body: WireBody | null, locked: boolean): void => {
    applying = true;
    try {
      if (csAnnotation.state.getAnnotation(uid)) csAnnotation.state.removeAnnotation(uid);
      values.delete(uid);
      if (body) {
        const loc = bySopFrame.get(`${body.sopInstanceUid}:${body.frame}`);
        if (loc) {
          const cs = fromWire(body, loc.image.imageId, locked);
          const group = body.data.frameOfReferenceUID || ctx.activePane()?.element;
          if (group) {
            csAnnotation.state.addAnnotation(cs as unknown as Parameters<typeof csAnnotation.state.addAnnotation>[0], group);
            if (locked) csAnnotation.locking.setAnnotationLocked(uid, true);
          }
        }
      }
    } finally {
      applying = false;
    }
  };

  // ---- saving ----

  const panel = createMeasurePanel({
    onShow: (uid) => void showAnnotation(uid),
    onShowKey: (id) => {
      const k = keyImages.get(id);
      if (k) void ctx.showImage(k.sopInstanceUid, k.frame);
    },
    onRelabel: (uid, label) => relabel(uid, label),
    onDelete: (uid) => remove(uid),
    onClose: () => setPanel(false),
  });

  const enqueue = (op: Op): void => {
    if (!queue) return;
    queue.push(op);
  };

  /** Records the change of an annotation since its last known state, and saves it. */
  const commit = (uid: string): void => {
    if (destroyed) return;
    const a = csAnnotation.state.getAnnotation(uid) as unknown as CsAnnotation | undefined;
    if (a?.data.rrSource !== undefined) return; // another producer's (the SR import): never saved from here
    const after = a && isMeasureTool(a.metadata.toolName) ? serialise(a) : null;
    const before = known.get(uid) ?? null;
    if (sameAnnotation(before, after)) return;
    if (before && !isOwn(uid)) {
      applyState(uid, before, true); // another user's annotation: back as it was
      return;
    }
    history.record({ uid, before, after });
    historyButtons();
    setKnown(uid, after);
    enqueue(after ? { kind: 'put', uid, body: after } : { kind: 'delete', uid });
    schedulePanel();
  };

  const setKnown = (uid: string, body: WireBody | null): void => {
    if (body) {
      known.set(uid, body);
      mine.add(uid);
    } else known.delete(uid);
  };

  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const drawing = new Set<string>();
  let pointerDown = false;
  const scheduleCommit = (uid: string): void => {
    const t = timers.get(uid);
    if (t) clearTimeout(t);
    timers.set(
      uid,
      setTimeout(() => {
        timers.delete(uid);
        if (pointerDown) scheduleCommit(uid); // a drag in progress: once it ends
        else if (!drawing.has(uid)) commit(uid); // one being drawn: on its completion
      }, COMMIT_MS),
    );
  };
  const flushCommits = (): void => {
    for (const [uid, t] of timers) {
      clearTimeout(t);
      timers.delete(uid);
      if (!drawing.has(uid)) commit(uid);
    }
  };

  const undoRedo = (redo: boolean): void => {
    flushCommits();
    const c = redo ? history.redo() : history.undo();
    historyButtons();
    if (!c) return;
    applyState(c.uid, c.after, false);
    setKnown(c.uid, c.after);
    enqueue(c.after ? { kind: 'put', uid: c.uid, body: c.after } : { kind: 'delete', uid: c.uid });
    renderAll();
    schedulePanel();
  };

  const relabel = (uid: string, label: string): void => {
    const a = csAnnotation.state.getAnnotation(uid) as unknown as CsAnnotation | undefined;
    if (!a || !isOwn(uid)) return;
    a.data.label = label.slice(0, 256);
    if (a.metadata.toolName === 'ArrowAnnotate') a.data.text = a.data.label;
    commit(uid);
    renderAll();
    schedulePanel();
  };

  const remove = (uid: string): void => {
    if (!isOwn(uid) || !csAnnotation.state.getAnnotation(uid)) return;
    csAnnotation.state.removeAnnotation(uid); // the REMOVED event commits it
    renderAll();
  };

  // ---- key images ----

  const currentRef = (): Located | null => {
    const img = ctx.activePane()?.currentImage();
    return img ? (byOrthancFrame.get(`${img.orthancId}:${img.frame}`) ?? null) : null;
  };

  const toggleKeyImage = (): void => {
    const loc = currentRef();
    if (!loc || !ctx.canAnnotate) return;
    const id = `${loc.image.sopInstanceUid}:${loc.image.frame + 1}`;
    if (keyImages.has(id)) {
      keyImages.delete(id);
      enqueue({ kind: 'unmark', sopInstanceUid: loc.image.sopInstanceUid, frame: loc.image.frame + 1 });
    } else {
      keyImages.set(id, { sopInstanceUid: loc.image.sopInstanceUid, seriesInstanceUid: loc.series.seriesInstanceUid, frame: loc.image.frame + 1, author: ctx.user ?? '', createdAt: new Date().toISOString() });
      enqueue({ kind: 'mark', sopInstanceUid: loc.image.sopInstanceUid, seriesInstanceUid: loc.series.seriesInstanceUid, frame: loc.image.frame + 1 });
    }
    updateStars();
    schedulePanel();
  };

  const updateStars = (): void => {
    for (const p of ctx.panes()) {
      let star = p.cell.querySelector<HTMLElement>('.ov-key-image');
      if (!star) {
        star = h('div', { class: 'ov-key-image', text: '★ Key image', attrs: { hidden: '', title: 'Key image (K unmarks it)' } });
        p.cell.appendChild(star);
      }
      const img = p.currentImage();
      const loc = img ? byOrthancFrame.get(`${img.orthancId}:${img.frame}`) : undefined;
      const on = !!loc && keyImages.has(`${loc.image.sopInstanceUid}:${loc.image.frame + 1}`);
      star.hidden = !on;
      if (on) p.element.setAttribute('data-rr-key-image', '');
      else p.element.removeAttribute('data-rr-key-image');
    }
  };

  // ---- navigation ----

  const showAnnotation = async (uid: string): Promise<void> => {
    const a = csAnnotation.state.getAnnotation(uid) as unknown as CsAnnotation | undefined;
    const loc = a ? locate(a) : undefined;
    if (!loc) return;
    await ctx.showImage(loc.image.sopInstanceUid, loc.image.frame + 1);
  };

  // ---- the panel ----

  let panelQueued = false;
  const schedulePanel = (): void => {
    if (panelQueued || destroyed) return;
    panelQueued = true;
    requestAnimationFrame(() => {
      panelQueued = false;
      if (!destroyed) renderPanel();
    });
  };

  const renderPanel = (): void => {
    const rows: Array<PanelRow & { order: [number, number] }> = [];
    for (const a of measureAnnotations()) {
      const uid = a.annotationUID ?? '';
      const loc = locate(a);
      const m = measureOf(a);
      const tool = a.metadata.toolName;
      const own = isOwn(uid);
      const sr = a.data.rrSource !== undefined;
      const author = sr ? 'DICOM SR' : mine.has(uid) ? (ctx.user ?? '') : (authors.get(uid) ?? '');
      rows.push({
        uid,
        tool: toolLabel(tool),
        label: typeof a.data.label === 'string' ? a.data.label : '',
        value: tool === 'ArrowAnnotate' ? '' : m ? measurementSummary(tool, m) : '',
        where: whereText(loc),
        author,
        readOnly: !own,
        why: sr ? 'Loaded from a DICOM SR: read-only' : ctx.canAnnotate ? 'By another user: read-only' : 'Read-only',
        order: [loc ? study.series.indexOf(loc.series) : 1e9, loc?.index ?? 0],
      });
    }
    rows.sort((x, y) => x.order[0] - y.order[0] || x.order[1] - y.order[1]);
    const keys: KeyRow[] = [...keyImages.entries()]
      .map(([id, k]) => ({ id, loc: bySopFrame.get(id), k }))
      .sort((x, y) => (x.loc ? study.series.indexOf(x.loc.series) : 1e9) - (y.loc ? study.series.indexOf(y.loc.series) : 1e9) || (x.loc?.index ?? 0) - (y.loc?.index ?? 0))
      .map(({ id, loc, k }) => ({ id, where: whereText(loc), author: k.author }));
    panel.render(rows, keys);
  };

  // ---- tools and buttons ----

  const toolButtons = new Map<MeasureTool, HTMLButtonElement>();
  const wlButton = h('button', { class: 'viewer-tool', text: 'W/L', attrs: { type: 'button', title: 'Window/level on the left button (Esc)', 'data-rr-tool': 'wl', 'aria-pressed': 'true' } });
  const panelButton = h('button', { class: 'viewer-tool', text: 'Measurements', attrs: { type: 'button', title: 'Measurement panel (Z)', 'data-rr-tool': 'measure-panel', 'aria-pressed': 'false' } });
  const undoButton = h('button', { class: 'viewer-tool', text: 'Undo', attrs: { type: 'button', title: 'Undo (Ctrl+Z)', 'data-rr-tool': 'undo' } });
  const redoButton = h('button', { class: 'viewer-tool', text: 'Redo', attrs: { type: 'button', title: 'Redo (Ctrl+Shift+Z, Ctrl+Y)', 'data-rr-tool': 'redo' } });
  const historyButtons = (): void => {
    undoButton.disabled = !history.canUndo();
    redoButton.disabled = !history.canRedo();
  };
  historyButtons();
  if (ctx.canAnnotate) {
    for (const t of TOOL_INFO) {
      toolButtons.set(t.tool, h('button', { class: 'viewer-tool', text: t.label, attrs: { type: 'button', title: t.title, 'data-rr-tool': t.tool, 'aria-pressed': 'false' } }));
    }
  }

  const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }];
  const setTool = (tool: MeasureTool | null): void => {
    if (!tools || (tool && !ctx.canAnnotate)) return;
    if (tool) ctx.onPrimaryTaken();
    if (current) tools.setToolPassive(current);
    current = tool;
    if (tool) {
      tools.setToolPassive(WindowLevelTool.toolName);
      tools.setToolActive(tool, { bindings: primary });
    } else {
      tools.setToolActive(WindowLevelTool.toolName, { bindings: primary });
    }
    for (const [t, b] of toolButtons) b.setAttribute('aria-pressed', String(t === tool));
    wlButton.setAttribute('aria-pressed', String(tool === null));
  };

  const setPanel = (open: boolean): void => {
    panel.setHidden(!open);
    panelButton.setAttribute('aria-pressed', String(open));
    if (open) renderPanel();
    ctx.resized();
  };

  const cleanups: Array<() => void> = [];
  const listen = (target: EventTarget, type: string, fn: (e: Event) => void, options?: AddEventListenerOptions): void => {
    target.addEventListener(type, fn, options);
    cleanups.push(() => target.removeEventListener(type, fn, options));
  };
  const focusActive = (): void => ctx.activePane()?.element.focus({ preventScroll: true });
  for (const [t, b] of toolButtons) {
    listen(b, 'click', () => {
      setTool(current === t ? null : t);
      focusActive();
    });
  }
  listen(wlButton, 'click', () => {
    setTool(null);
    focusActive();
  });
  // like the viewer's other buttons, these give the keyboard back to the active viewport
  listen(panelButton, 'click', () => {
    setPanel(panel.hidden);
    focusActive();
  });
  listen(undoButton, 'click', () => {
    undoRedo(false);
    focusActive();
  });
  listen(redoButton, 'click', () => {
    undoRedo(true);
    focusActive();
  });

  // Ctrl+Z / Ctrl+Shift+Z / Ctrl+Y (the viewer's own key handler leaves Ctrl combinations alone)
  listen(document, 'keydown', (e) => {
    const k = e as KeyboardEvent;
    if (!(k.ctrlKey || k.metaKey) || k.altKey || isTyping(k.target) || !ctx.canAnnotate) return;
    const key = k.key.toLowerCase();
    if (key === 'z') undoRedo(k.shiftKey);
    else if (key === 'y' && !k.shiftKey) undoRedo(true);
    else return;
    k.preventDefault();
  });
  listen(document, 'pointerdown', () => (pointerDown = true), { capture: true });
  listen(document, 'pointerup', () => {
    pointerDown = false;
    for (const uid of [...timers.keys()]) scheduleCommit(uid);
  }, { capture: true });
  listen(globalThis, 'online', () => queue?.retryNow());
  // a change made just before the page goes (reload, closed tab) is queued, hence kept in localStorage
  listen(globalThis, 'pagehide', () => flushCommits());

  // cornerstone's annotation events (on its global event target)
  const E = ToolEnums.Events;
  const uidOf = (e: Event): string | null => {
    const a = (e as CustomEvent<{ annotation?: CsAnnotation; annotationUID?: string }>).detail?.annotation;
    if (!a || !isMeasureTool(a.metadata?.toolName)) return null;
    return a.annotationUID ?? null;
  };
  listen(eventTarget, E.ANNOTATION_ADDED, (e) => {
    const uid = uidOf(e);
    if (!uid || applying) return;
    if (!known.has(uid)) drawing.add(uid);
    scheduleCommit(uid);
    schedulePanel();
  });
  listen(eventTarget, E.ANNOTATION_COMPLETED, (e) => {
    const uid = uidOf(e);
    if (!uid || applying) return;
    drawing.delete(uid);
    scheduleCommit(uid);
    schedulePanel();
  });
  listen(eventTarget, E.ANNOTATION_MODIFIED, (e) => {
    const uid = uidOf(e);
    if (!uid || applying) return;
    const change = (e as CustomEvent<{ changeType?: string }>).detail?.changeType;
    if (change !== 'StatsUpdated') scheduleCommit(uid);
    schedulePanel();
  });
  listen(eventTarget, E.ANNOTATION_REMOVED, (e) => {
    const uid = uidOf(e);
    if (!uid || applying) return;
    drawing.delete(uid);
    const t = timers.get(uid);
    if (t) clearTimeout(t);
    timers.delete(uid);
    commit(uid);
    schedulePanel();
  });

  // ---- loading ----

  /** The server's annotations and key images, with the pending operations of this user on top. */
  const loadFromServer = async (pending: readonly Op[]): Promise<void> => {
    if (!client) return;
    let loaded;
    try {
      loaded = await client.load();
    } catch (err) {
      panel.notice(`Could not load the saved annotations: ${err instanceof Error ? err.message : String(err)}`);
      loaded = { data: [], keyImages: [], skipped: 0 };
    }
    if (destroyed) return;
    applying = true;
    try {
      // ours are replaced; one being drawn and other producers' (data.rrSource) stay
      for (const a of measureAnnotations()) if (a.annotationUID && a.data.rrSource === undefined && !drawing.has(a.annotationUID)) csAnnotation.state.removeAnnotation(a.annotationUID);
    } finally {
      applying = false;
    }
    known.clear();
    authors.clear();
    keyImages.clear();
    for (const a of loaded.data) {
      known.set(a.annotationUid, a);
      authors.set(a.annotationUid, a.author);
      if (a.author !== ctx.user || ctx.user === null) mine.delete(a.annotationUid);
    }
    for (const k of loaded.keyImages) keyImages.set(`${k.sopInstanceUid}:${k.frame}`, k);
    for (const op of pending) {
      if (op.kind === 'put') {
        known.set(op.uid, op.body);
        mine.add(op.uid);
      } else if (op.kind === 'delete') known.delete(op.uid);
      else if (op.kind === 'mark') keyImages.set(`${op.sopInstanceUid}:${op.frame}`, { ...op, author: ctx.user ?? '', createdAt: '' });
      else keyImages.delete(`${op.sopInstanceUid}:${op.frame}`);
    }
    for (const [uid, body] of known) applyState(uid, body, !isOwn(uid));
    if (loaded.skipped > 0) panel.notice(`${loaded.skipped} saved annotation(s) cannot be shown by this viewer.`);
    renderAll();
    updateStars();
    schedulePanel();
  };

  const refetch = async (message: string): Promise<void> => {
    history.clear();
    historyButtons();
    await loadFromServer(queue?.pending() ?? []);
    panel.notice(message);
  };

  return {
    toolbar: [...toolButtons.values(), ...(ctx.canAnnotate ? [wlButton, undoButton, redoButton] : []), panelButton, ...(ctx.canAnnotate ? [panel.chip] : [])],
    panel: panel.element,
    start(group: ToolGroup): void {
      tools = group;
      registerMeasureTools();
      for (const t of CS_TOOLS) {
        group.addTool(t.toolName);
        // our values and texts; cornerstone's own undo keys (plain z/y) off: ours are Ctrl+Z/Ctrl+Y
        group.setToolConfiguration(t.toolName, { getTextLines: textLines, actions: {} });
        if (ctx.canAnnotate) group.setToolPassive(t.toolName);
        else group.setToolEnabled(t.toolName);
      }
      if (ctx.api) {
        client = new AnnotationsClient(ctx.api, study.studyInstanceUid);
        const c = client;
        const pending = ctx.canAnnotate ? loadPending(storage, storeKey) : [];
        queue = new SaveQueue(
          {
            send: (op) => c.send(op),
            storage,
            key: storeKey,
            onState: (s, detail) => panel.setSaveState(s, detail),
            onConflict: (_op, message) => void refetch(`Changed elsewhere (${message}): the saved version is shown.`),
            onRefused: (_op, message) => panel.notice(`Not saved: ${message}`),
          },
          pending,
        );
        panel.setSaveState(queue.state(), '');
        // what an earlier page left unsaved is replayed once the server's state (and versions) are known
        void loadFromServer(pending).then(() => queue?.retryNow());
      }
    },
    key(k: KeyboardEvent): boolean {
      if (k.key === 'z' || k.key === 'Z') {
        setPanel(panel.hidden);
        return true;
      }
      if (!ctx.canAnnotate) return false;
      if (k.key === 'Escape' && current) {
        setTool(null);
        return true;
      }
      if (k.key === 'k' || k.key === 'K') {
        toggleKeyImage();
        return true;
      }
      if (k.key === 'Delete' || k.key === 'Backspace') {
        const selected = csAnnotation.selection.getAnnotationsSelected() ?? [];
        const own = selected.filter((uid: string) => isOwn(uid));
        for (const uid of own) remove(uid);
        return own.length > 0;
      }
      const t = k.key.length === 1 ? toolForKey(k.key) : null;
      if (t) {
        setTool(current === t ? null : t);
        return true;
      }
      return false;
    },
    releasePrimary(): void {
      if (!tools || !current) return;
      tools.setToolPassive(current);
      current = null;
      for (const b of toolButtons.values()) b.setAttribute('aria-pressed', 'false');
      wlButton.setAttribute('aria-pressed', 'false');
    },
    rendered(): void {
      updateStars();
    },
    destroy(): void {
      if (destroyed) return;
      flushCommits(); // the last change is queued (and kept in storage) before the viewer goes
      destroyed = true;
      queue?.stop();
      for (const c of cleanups.splice(0)) c();
      for (const t of timers.values()) clearTimeout(t);
      applying = true;
      try {
        for (const a of measureAnnotations()) if (a.annotationUID) csAnnotation.state.removeAnnotation(a.annotationUID);
      } finally {
        applying = false;
      }
    },
  };
}
