// "Capture" (issue 10, "Roles"): the active viewport saved as a PNG. By default the image only, the pixels of
// cornerstone's canvas as shown (window, zoom, pan, flips, segmentation overlays drawn by cornerstone) and
// nothing else: the overlay texts (patient name, study date, series…) are HTML over the canvas, so they are not
// in it and no patient data is burned in. "With overlays" (the checkbox, Shift+S or Shift+click) also draws
// those texts, the orientation markers and the scale bar onto the PNG where they are shown.
//
// Segmentation overlays and RT contours (viewer-seg-view.ts, viewer-rt-view.ts layers) are part of the image
// and are always drawn.
// Every capture is recorded first: POST {api}dicom/studies/{StudyInstanceUID}/captures with the SOP Instance
// UID, the 1-based frame and burnedIn (README "Viewport captures"); the file is saved only after the server
// answered 204 (the audit record is in its store). A refusal or a failure saves nothing and says why in the
// message line (role="alert"). DICOM strings are read from the DOM's text and drawn as text; no innerHTML.
// Hooks for tests: the button carries data-rr-tool="capture", the checkbox data-rr-capture-overlays, the
// message line .viewer-capture-msg (data-rr-capture = "saved" | "failed" | "busy").

import type { Api, Series, StudyDetail } from './api';
import { h } from './dom';

/** One text of the overlay as drawn on the PNG (canvas pixels; x, y: top left of the text). */
export interface OverlayText {
  text: string;
  x: number;
  y: number;
  font: string;
  color: string;
}

/** One filled rectangle of the overlay (the scale bar), in canvas pixels. */
export interface OverlayBox {
  x: number;
  y: number;
  width: number;
  height: number;
  color: string;
}

/** What the capture names in its audit record and in the file name. */
export interface CaptureImage {
  studyInstanceUid: string;
  sopInstanceUid: string;
  /** 1-based frame (1 for a single-frame instance). */
  frame: number;
  /** For the file name: the series number (null when none) and the 1-based image index in the series. */
  seriesNumber: number | null;
  imageIndex: number;
}

/** The body of the audit request (the contract's members, nothing else). */
export function captureBody(image: CaptureImage, burnedIn: boolean): { sopInstanceUid: string; frame: number; burnedIn: boolean } {
  return { sopInstanceUid: image.sopInstanceUid, frame: image.frame, burnedIn };
}

/** The API path of the audit request, relative to the API root. */
export function capturePath(studyInstanceUid: string): string {
  return `dicom/studies/${encodeURIComponent(studyInstanceUid)}/captures`;
}

/**
 * The file's name: series and image numbers, "-overlays" when texts are burned in; no patient data (names,
 * IDs, dates and UIDs stay out of file names, which end up in download folders and mail attachments).
 */
export function captureFileName(image: Pick<CaptureImage, 'seriesNumber' | 'imageIndex'>, burnedIn: boolean): string {
  const series = image.seriesNumber === null ? 'x' : String(Math.trunc(image.seriesNumber));
  return `capture-series${series}-image${Math.max(1, Math.trunc(image.imageIndex))}${burnedIn ? '-overlays' : ''}.png`;
}

/** A CSS font shorthand's size scaled by `scale` (the canvas' pixels per CSS pixel). */
export function scaleFont(style: { fontStyle: string; fontWeight: string; fontSize: string; fontFamily: string }, scale: number): string {
  const px = Number.parseFloat(style.fontSize) || 12;
  return `${style.fontStyle} ${style.fontWeight} ${Math.round(px * scale * 10) / 10}px ${style.fontFamily}`;
}

/**
 * The texts and the scale bar of an overlay as shown over `canvas`, in the canvas' pixels. Only visible,
 * non-empty leaf texts count; each is placed where the browser laid it out (a Range's box, so right-aligned
 * and centred texts land where they are seen).
 */
export function overlayShapes(overlay: HTMLElement, canvas: HTMLCanvasElement): { texts: OverlayText[]; boxes: OverlayBox[] } {
  const doc = overlay.ownerDocument;
  const win = doc.defaultView;
  const frame = canvas.getBoundingClientRect();
  const texts: OverlayText[] = [];
  const boxes: OverlayBox[] = [];
  if (!win || frame.width <= 0 || frame.height <= 0) return { texts, boxes };
  const sx = canvas.width / frame.width;
  const sy = canvas.height / frame.height;
  const visible = (el: Element): boolean => {
    for (let e: Element | null = el; e && e !== overlay.parentElement; e = e.parentElement) {
      if (e.hasAttribute('hidden')) return false;
      const cs = win.getComputedStyle(e);
      if (cs.display === 'none' || cs.visibility === 'hidden') return false;
    }
    return true;
  };
  for (const el of Array.from(overlay.querySelectorAll<HTMLElement>('*'))) {
    if (!visible(el)) continue;
    const cs = win.getComputedStyle(el);
    if (el.classList.contains('ov-scale-bar')) {
      // the bar as styled: its bottom border and its left and right ends (a bracket)
      const r = el.getBoundingClientRect();
      const color = cs.borderBottomColor || '#fff';
      const t = Math.max(1, Number.parseFloat(cs.borderBottomWidth) || 1);
      const x = (r.left - frame.left) * sx;
      const y = (r.top - frame.top) * sy;
      boxes.push({ x, y: y + (r.height - t) * sy, width: r.width * sx, height: t * sy, color });
      boxes.push({ x, y, width: t * sx, height: r.height * sy, color });
      boxes.push({ x: x + (r.width - t) * sx, y, width: t * sx, height: r.height * sy, color });
      continue;
    }
    const text = Array.from(el.childNodes)
      .filter((n) => n.nodeType === 3)
      .map((n) => n.textContent ?? '')
      .join('')
      .trim();
    if (!text) continue;
    const range = doc.createRange();
    range.selectNodeContents(el);
    const r = range.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) continue;
    texts.push({ text, x: (r.left - frame.left) * sx, y: (r.top - frame.top) * sy, font: scaleFont(cs, sy), color: cs.color || '#fff' });
  }
  return { texts, boxes };
}

/**
 * A copy of `canvas` (its pixels as shown) with the layers painted over it (SEG overlays: no patient data),
 * and the overlay's texts drawn on it when `overlay` is given.
 */
export function composeCapture(canvas: HTMLCanvasElement, overlay: HTMLElement | null, layers: readonly HTMLCanvasElement[] = []): HTMLCanvasElement {
  const out = canvas.ownerDocument.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw the capture (no 2D canvas)');
  ctx.drawImage(canvas, 0, 0);
  for (const layer of layers) if (layer.width > 0 && layer.height > 0) ctx.drawImage(layer, 0, 0, out.width, out.height);
  if (!overlay) return out;
  const { texts, boxes } = overlayShapes(overlay, canvas);
  for (const b of boxes) {
    ctx.fillStyle = b.color;
    ctx.fillRect(b.x, b.y, b.width, b.height);
  }
  ctx.textBaseline = 'top';
  ctx.lineJoin = 'round';
  for (const t of texts) {
    ctx.font = t.font;
    // a dark outline keeps the text readable on bright pixels, as the shadow does on screen
    ctx.strokeStyle = 'rgba(0,0,0,0.85)';
    ctx.lineWidth = Math.max(2, canvas.width / 400);
    ctx.strokeText(t.text, t.x, t.y);
    ctx.fillStyle = t.color;
    ctx.fillText(t.text, t.x, t.y);
  }
  return out;
}

function toBlob(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the PNG could not be encoded'))), 'image/png');
  });
}

function saveBlob(doc: Document, blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = doc.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  doc.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The viewport to capture, as the viewer knows it at the moment of the click. */
export interface CaptureSource {
  /** cornerstone's canvas of the viewport (null: nothing shown). */
  canvas: HTMLCanvasElement | null;
  /** The viewport's HTML overlay (texts, markers, scale bar). */
  overlay: HTMLElement | null;
  /** Canvas layers drawn over the image (SEG overlays, RT contours), each covering the canvas. */
  layers?: HTMLCanvasElement[];
  image: CaptureImage | null;
}

export interface CaptureControl {
  /** Toolbar items: the button and the "with overlays" checkbox. */
  readonly elements: HTMLElement[];
  /** The message line (success or why nothing was saved). */
  readonly message: HTMLElement;
  /** Records and saves a capture of the active viewport; with overlays when asked or the box is ticked. */
  run(withOverlays?: boolean): Promise<boolean>;
  destroy(): void;
}

/** The Capture button, its option and message, acting on what `source()` gives at each click. */
export function createCapture(api: Api, source: () => CaptureSource): CaptureControl {
  const button = h('button', {
    class: 'viewer-tool',
    text: 'Capture',
    attrs: { type: 'button', title: 'Save the image as PNG, without patient data (S); Shift+S or Shift+click: with the overlay texts', 'data-rr-tool': 'capture' },
  });
  const box = h('input', { attrs: { type: 'checkbox', 'data-rr-capture-overlays': '' } });
  const option = h(
    'label',
    { class: 'viewer-capture-option muted', attrs: { title: 'Draw the overlay texts (patient name, study data) into the PNG' } },
    box,
    h('span', { text: ' with overlays (patient data)' }),
  );
  const message = h('span', { class: 'viewer-capture-msg', attrs: { role: 'alert' } });
  let busy = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const say = (state: 'saved' | 'failed' | 'busy', text: string): void => {
    if (timer !== null) clearTimeout(timer);
    message.textContent = text;
    message.setAttribute('data-rr-capture', state);
    if (state === 'saved') timer = setTimeout(() => (message.textContent = ''), 8000);
  };

  const run = async (withOverlays?: boolean): Promise<boolean> => {
    if (busy) return false;
    const burnedIn = withOverlays ?? box.checked;
    const src = source();
    if (!src.canvas || !src.image || src.canvas.width === 0) {
      say('failed', 'Nothing to capture: the active viewport shows no image.');
      return false;
    }
    busy = true;
    button.disabled = true;
    say('busy', 'Recording the capture…');
    try {
      // the pixels as they are at the click, before waiting for the server
      const png = await toBlob(composeCapture(src.canvas, burnedIn ? src.overlay : null, src.layers ?? []));
      try {
        await api.request('POST', capturePath(src.image.studyInstanceUid), { body: captureBody(src.image, burnedIn), allowEmpty: true });
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        say('failed', `Not saved: the capture could not be recorded in the audit trail (${why}).`);
        return false;
      }
      const name = captureFileName(src.image, burnedIn);
      saveBlob(button.ownerDocument, png, name);
      say('saved', burnedIn ? `Saved ${name} (with overlay texts: it shows patient data).` : `Saved ${name} (image only).`);
      return true;
    } catch (err) {
      say('failed', `Not saved: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    } finally {
      busy = false;
      button.disabled = false;
    }
  };

  const onClick = (e: MouseEvent): void => {
    void run(e.shiftKey ? true : undefined);
  };
  button.addEventListener('click', onClick);
  return {
    elements: [button, option],
    message,
    run,
    destroy(): void {
      button.removeEventListener('click', onClick);
      if (timer !== null) clearTimeout(timer);
    },
  };
}

/** What a viewer pane offers (viewer-viewport.ts Pane, structurally). */
export interface CapturePane {
  readonly element: HTMLElement;
  readonly cell: HTMLElement;
  series(): Series | null;
  currentImage(): { orthancId: string; frame: number; frames: number } | null;
}

/** The capture source of a pane: its canvas, its overlay and the image it shows (SOP UID from the study). */
export function paneCaptureSource(pane: CapturePane | null, study: StudyDetail): CaptureSource {
  const canvas = pane?.element.querySelector('canvas') ?? null;
  const overlay = pane?.cell.querySelector<HTMLElement>('.viewer-overlay') ?? null;
  const shown = pane?.currentImage() ?? null;
  const series = pane?.series() ?? null;
  const instance = shown && series ? series.instances.find((i) => i.orthancId === shown.orthancId) : undefined;
  const index = Number(pane?.element.getAttribute('data-rr-image-index') ?? '0');
  const image: CaptureImage | null =
    shown && series && instance
      ? {
          studyInstanceUid: study.studyInstanceUid,
          sopInstanceUid: instance.sopInstanceUid,
          frame: shown.frame + 1,
          seriesNumber: series.seriesNumber,
          imageIndex: (Number.isFinite(index) ? index : 0) + 1,
        }
      : null;
  const layers = pane ? Array.from(pane.cell.querySelectorAll<HTMLCanvasElement>('canvas.viewer-seg-layer:not([hidden]), canvas.viewer-rt-layer:not([hidden])')) : [];
  return { canvas, overlay, layers, image };
}
