// SEG overlays on the viewports (viewer-seg.ts reads the SEG): each SEG series of the study is read once
// (its first instance's tags and file) after the viewer starts; a viewport showing the series a SEG references
// gets a canvas layer over its image where the segments of the shown image are painted in their colours,
// placed with cornerstone's own geometry (image → world → canvas), so zoom, pan, flips and rotation follow.
// A panel over the top right of the images lists the SEGs of the active viewport's series: "Show" (all on or
// off), an opacity slider and one toggle per segment with its colour. A SEG that cannot be read, or whose images
// are not in the study, is not overlaid: the objects panel keeps its line for it.
// Hooks for tests: the layer is canvas.viewer-seg-layer (data-rr-seg-drawn = frames painted on the last
// render); the panel .viewer-seg-panel, one section[data-rr-seg-series] per SEG, inputs data-rr-seg-show,
// data-rr-seg-opacity and data-rr-segment="<number>". Labels reach the DOM as text only.

import { utilities, type RenderingEngine, type Types } from '@cornerstonejs/core';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import { frameMask, framesOn, pixelDataOf, segModel, segSeries, type SegModel } from './viewer-seg';

/** At most this many SEG series are read per study, each file at most this big. */
const MAX_SEGS = 8;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface SegPane {
  readonly viewportId: string;
  readonly element: HTMLElement;
  readonly cell: HTMLElement;
  series(): Series | null;
  currentImage(): { orthancId: string; frame: number; frames: number } | null;
}

export interface SegOverlaysOptions {
  study: StudyDetail;
  orthancRoot: string;
  panes: () => SegPane[];
  active: () => SegPane | null;
  engine: () => RenderingEngine | null;
}

export interface SegOverlays {
  /** The panel (placed by the viewer over its image area). */
  readonly element: HTMLElement;
  /** Starts reading the study's SEGs (once; after cornerstone is up). */
  load(): Promise<void>;
  /** A viewport element drew an image: repaint its layer. */
  rendered(target: EventTarget | null): void;
  /** The active viewport or its series changed: the panel follows. */
  refresh(): void;
  /** The image series a SEG series is overlaid on, when it is in the study and the SEG could be read. */
  referencedSeries(seg: Series): Series | null;
  destroy(): void;
}

interface LoadedSeg {
  series: Series;
  model: SegModel;
  pixels: Uint8Array;
  masks: Map<number, HTMLCanvasElement>;
  show: boolean;
  opacity: number;
  visible: Set<number>;
  section: HTMLElement;
}

export function createSegOverlays(opts: SegOverlaysOptions): SegOverlays {
  const { study } = opts;
  const base = opts.orthancRoot.endsWith('/') ? opts.orthancRoot : `${opts.orthancRoot}/`;
  const panel = h('div', { class: 'viewer-seg-panel', attrs: { hidden: '', 'aria-label': 'Segmentations' } });
  const segs: LoadedSeg[] = [];
  const layers = new Map<HTMLElement, HTMLCanvasElement>();
  let loading: Promise<void> | null = null;
  let destroyed = false;

  const paneOf = (target: EventTarget | null): SegPane | null => opts.panes().find((p) => p.element === target || (target instanceof Node && p.element.contains(target))) ?? null;

  const maskCanvas = (seg: LoadedSeg, index: number): HTMLCanvasElement => {
    let c = seg.masks.get(index);
    if (c) return c;
    const { rows, columns } = seg.model;
    const mask = frameMask(seg.pixels, seg.model, index);
    const color = seg.model.segments.find((s) => s.number === seg.model.frames[index]!.segment)?.color ?? [255, 0, 0];
    c = document.createElement('canvas');
    c.width = columns;
    c.height = rows;
    const ctx = c.getContext('2d');
    if (ctx) {
      const img = ctx.createImageData(columns, rows);
      for (let p = 0; p < mask.length; p++) {
        if (!mask[p]) continue;
        img.data[p * 4] = color[0];
        img.data[p * 4 + 1] = color[1];
        img.data[p * 4 + 2] = color[2];
        img.data[p * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
    }
    seg.masks.set(index, c);
    return c;
  };

  const layerOf = (pane: SegPane): HTMLCanvasElement => {
    let layer = layers.get(pane.element);
    if (!layer || !layer.isConnected) {
      layer = h('canvas', { class: 'viewer-seg-layer', attrs: { 'aria-hidden': 'true' } });
      pane.cell.insertBefore(layer, pane.element.nextSibling);
      layers.set(pane.element, layer);
    }
    return layer;
  };

  /** Paints the segments of the pane's current image (nothing when no SEG applies). */
  const paint = (pane: SegPane): void => {
    const series = pane.series();
    const applies = series ? segs.filter((s) => s.model.referencedSeriesUid === series.seriesInstanceUid) : [];
    const existing = layers.get(pane.element);
    if (applies.length === 0) {
      if (existing) existing.hidden = true;
      return;
    }
    const layer = layerOf(pane);
    const canvas = pane.element.querySelector('canvas');
    const vp = opts.engine()?.getViewport(pane.viewportId) as Types.IStackViewport | undefined;
    const shown = pane.currentImage();
    const inst = shown && series ? series.instances.find((i) => i.orthancId === shown.orthancId) : undefined;
    if (!canvas || !vp || !shown || !inst) {
      layer.hidden = true;
      return;
    }
    // the layer covers cornerstone's canvas exactly
    const cellBox = pane.cell.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    Object.assign(layer.style, { left: `${box.left - cellBox.left}px`, top: `${box.top - cellBox.top}px`, width: `${box.width}px`, height: `${box.height}px` });
    const w = Math.round(box.width * dpr);
    const hgt = Math.round(box.height * dpr);
    if (layer.width !== w) layer.width = w;
    if (layer.height !== hgt) layer.height = hgt;
    layer.hidden = false;
    const ctx = layer.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    let drawn = 0;
    for (const seg of applies) {
      if (!seg.show || seg.opacity <= 0) continue;
      const frames = framesOn(seg.model, inst.sopInstanceUid, shown.frame + 1).filter((f) => seg.visible.has(f.segment));
      if (frames.length === 0) continue;
      const { rows, columns } = seg.model;
      let o: number[], x: number[], y: number[];
      try {
        const imageId = vp.getCurrentImageId();
        const at = (c: number, r: number): number[] => vp.worldToCanvas(utilities.imageToWorldCoords(imageId, [c, r]) as Types.Point3) as number[];
        o = at(0, 0);
        x = at(columns, 0);
        y = at(0, rows);
      } catch {
        continue; // the image's geometry is not known yet
      }
      ctx.setTransform(((x[0]! - o[0]!) / columns) * dpr, ((x[1]! - o[1]!) / columns) * dpr, ((y[0]! - o[0]!) / rows) * dpr, ((y[1]! - o[1]!) / rows) * dpr, o[0]! * dpr, o[1]! * dpr);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = seg.opacity;
      for (const f of frames) {
        ctx.drawImage(maskCanvas(seg, f.index), 0, 0);
        drawn++;
      }
    }
    layer.setAttribute('data-rr-seg-drawn', String(drawn));
  };

  const paintAll = (): void => {
    for (const p of opts.panes()) paint(p);
  };

  const refresh = (): void => {
    const uid = opts.active()?.series()?.seriesInstanceUid ?? null;
    let any = false;
    for (const s of segs) {
      const on = uid !== null && s.model.referencedSeriesUid === uid;
      s.section.hidden = !on;
      any ||= on;
    }
    panel.hidden = !any;
  };

  const sectionOf = (seg: LoadedSeg): HTMLElement => {
    const show = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-seg-show': '' } });
    const opacity = h('input', { attrs: { type: 'range', min: '0', max: '100', step: '5', value: String(Math.round(seg.opacity * 100)), 'data-rr-seg-opacity': '', 'aria-label': 'Opacity' } });
    show.addEventListener('change', () => {
      seg.show = show.checked;
      paintAll();
    });
    opacity.addEventListener('input', () => {
      seg.opacity = Number(opacity.value) / 100;
      paintAll();
    });
    const items = seg.model.segments.map((s) => {
      const box = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-segment': String(s.number) } });
      box.addEventListener('change', () => {
        if (box.checked) seg.visible.add(s.number);
        else seg.visible.delete(s.number);
        paintAll();
      });
      const swatch = h('span', { class: 'viewer-seg-swatch' });
      swatch.style.backgroundColor = `rgb(${s.color.join(',')})`;
      return h('li', {}, h('label', {}, box, swatch, h('span', { text: `${s.number} ${s.label}` })));
    });
    const title = [seg.series.seriesNumber === null ? '' : `#${seg.series.seriesNumber}`, seg.series.seriesDescription || 'Segmentation'].filter(Boolean).join(' ');
    return h(
      'section',
      { class: 'viewer-seg', attrs: { 'data-rr-seg-series': seg.series.seriesInstanceUid, hidden: '' } },
      h('div', { class: 'viewer-seg-title', text: `SEG ${title}` }),
      h('div', { class: 'viewer-seg-controls' }, h('label', {}, show, h('span', { text: ' Show' })), h('label', {}, h('span', { text: 'Opacity ' }), opacity)),
      h('ul', { class: 'viewer-seg-list' }, ...items),
    );
  };

  const readOne = async (series: Series): Promise<void> => {
    const inst = series.instances[0];
    if (!inst) return;
    const url = (suffix: string): string => `${base}instances/${encodeURIComponent(inst.orthancId)}/${suffix}`;
    const tagsRes = await fetch(url('tags?short'), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!tagsRes.ok) throw new Error(`its tags: HTTP ${tagsRes.status}`);
    const model = segModel((await tagsRes.json()) as unknown, study, inst.transferSyntaxUid);
    if (model.referencedSeriesUid === null) return; // its images are not in the study: the objects panel's line
    const fileRes = await fetch(url('file'), { credentials: 'same-origin' });
    if (!fileRes.ok) throw new Error(`its file: HTTP ${fileRes.status}`);
    const bytes = new Uint8Array(await fileRes.arrayBuffer());
    if (bytes.length > MAX_FILE_BYTES) throw new Error('its file is too big to overlay');
    const pixels = pixelDataOf(bytes);
    const seg: LoadedSeg = { series, model, pixels, masks: new Map(), show: true, opacity: 0.5, visible: new Set(model.segments.map((x) => x.number)), section: panel };
    const section = sectionOf(seg);
    seg.section = section;
    segs.push(seg);
    panel.appendChild(section);
  };

  return {
    element: panel,
    load(): Promise<void> {
      loading ??= (async () => {
        for (const s of segSeries(study).slice(0, MAX_SEGS)) {
          if (destroyed) return;
          try {
            await readOne(s);
          } catch {
            /* not overlaid: the objects panel says what the series holds */
          }
        }
        if (destroyed) return;
        refresh();
        paintAll();
      })();
      return loading;
    },
    rendered(target: EventTarget | null): void {
      const pane = paneOf(target);
      // after the event's other listeners: the pane marks the image it drew in its own listener
      if (pane && segs.length > 0) queueMicrotask(() => paint(pane));
    },
    refresh(): void {
      refresh();
      paintAll();
    },
    referencedSeries(seg: Series): Series | null {
      const loaded = segs.find((s) => s.series === seg);
      const uid = loaded?.model.referencedSeriesUid;
      return uid ? (study.series.find((s) => s.seriesInstanceUid === uid) ?? null) : null;
    },
    destroy(): void {
      destroyed = true;
      for (const l of layers.values()) l.remove();
      layers.clear();
      panel.replaceChildren();
    },
  };
}
