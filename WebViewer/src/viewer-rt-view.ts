// RT Structure Set contours on the viewports (viewer-rt.ts reads the structure set): each RTSTRUCT series of
// the study is read once after the viewer starts; a viewport showing an image that holds contours gets a
// canvas layer where they are drawn read-only as lines in their ROI's colour (closed contours closed, points
// as small crosses), each point placed with cornerstone's world-to-canvas transform, so zoom, pan, flips and
// rotation follow. A panel (with the SEG panel, top right of the images) lists the ROIs of the structure sets
// on the active viewport's series: "Show" and one toggle per ROI with its colour. Structure sets whose
// contours lie on no image of the study keep the objects panel's line.
// Hooks for tests: canvas.viewer-rt-layer (data-rr-rt-drawn = contours drawn on the last render), the panel
// .viewer-rt-panel, one section[data-rr-rt-series] per structure set, inputs data-rr-rt-show and
// data-rr-roi="<number>". Names reach the DOM as text only.

import type { RenderingEngine, Types } from '@cornerstonejs/core';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import { rtModel, rtStructSeries, type RtModel } from './viewer-rt';
import type { SegPane } from './viewer-seg-view';

const MAX_SETS = 8;

export interface RtOverlaysOptions {
  study: StudyDetail;
  orthancRoot: string;
  panes: () => SegPane[];
  active: () => SegPane | null;
  engine: () => RenderingEngine | null;
}

export interface RtOverlays {
  readonly element: HTMLElement;
  load(): Promise<void>;
  rendered(target: EventTarget | null): void;
  refresh(): void;
  /** The image series a structure set is drawn on, when it could be read and lies on one. */
  referencedSeries(rt: Series): Series | null;
  destroy(): void;
}

interface LoadedSet {
  series: Series;
  model: RtModel;
  show: boolean;
  visible: Set<number>;
  section: HTMLElement;
}

export function createRtOverlays(opts: RtOverlaysOptions): RtOverlays {
  const { study } = opts;
  const base = opts.orthancRoot.endsWith('/') ? opts.orthancRoot : `${opts.orthancRoot}/`;
  const panel = h('div', { class: 'viewer-rt-panel', attrs: { hidden: '', 'aria-label': 'RT structure sets' } });
  const sets: LoadedSet[] = [];
  const layers = new Map<HTMLElement, HTMLCanvasElement>();
  let loading: Promise<void> | null = null;
  let destroyed = false;

  const paneOf = (target: EventTarget | null): SegPane | null =>
    opts.panes().find((p) => p.element === target || (target instanceof Node && p.element.contains(target))) ?? null;

  const paint = (pane: SegPane): void => {
    const series = pane.series();
    const applies = series ? sets.filter((s) => s.model.referencedSeriesUid === series.seriesInstanceUid) : [];
    let layer = layers.get(pane.element);
    if (applies.length === 0) {
      if (layer) layer.hidden = true;
      return;
    }
    if (!layer || !layer.isConnected) {
      layer = h('canvas', { class: 'viewer-rt-layer', attrs: { 'aria-hidden': 'true' } });
      pane.cell.insertBefore(layer, pane.element.nextSibling);
      layers.set(pane.element, layer);
    }
    const canvas = pane.element.querySelector('canvas');
    const vp = opts.engine()?.getViewport(pane.viewportId) as Types.IStackViewport | undefined;
    const shown = pane.currentImage();
    const inst = shown && series ? series.instances.find((i) => i.orthancId === shown.orthancId) : undefined;
    if (!canvas || !vp || !inst) {
      layer.hidden = true;
      return;
    }
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
    ctx.clearRect(0, 0, w, hgt);
    ctx.lineWidth = Math.max(1.5, 2 * dpr);
    ctx.lineJoin = 'round';
    let drawn = 0;
    for (const set of applies) {
      if (!set.show) continue;
      const colors = new Map(set.model.rois.map((r) => [r.number, r.color]));
      for (const c of set.model.contours) {
        if (c.sopInstanceUid !== inst.sopInstanceUid || !set.visible.has(c.roi)) continue;
        const pts = c.points.map((p) => vp.worldToCanvas(p as Types.Point3)).map(([x, y]) => [x * dpr, y * dpr] as const);
        const color = colors.get(c.roi) ?? [255, 255, 0];
        ctx.strokeStyle = `rgb(${color.join(',')})`;
        ctx.beginPath();
        if (c.type === 'POINT' || pts.length === 1) {
          for (const [x, y] of pts) {
            ctx.moveTo(x - 4 * dpr, y);
            ctx.lineTo(x + 4 * dpr, y);
            ctx.moveTo(x, y - 4 * dpr);
            ctx.lineTo(x, y + 4 * dpr);
          }
        } else {
          pts.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
          if (c.type === 'CLOSED_PLANAR') ctx.closePath();
        }
        ctx.stroke();
        drawn++;
      }
    }
    layer.setAttribute('data-rr-rt-drawn', String(drawn));
  };

  const paintAll = (): void => {
    for (const p of opts.panes()) paint(p);
  };

  const refresh = (): void => {
    const uid = opts.active()?.series()?.seriesInstanceUid ?? null;
    let any = false;
    for (const s of sets) {
      const on = uid !== null && s.model.referencedSeriesUid === uid;
      s.section.hidden = !on;
      any ||= on;
    }
    panel.hidden = !any;
  };

  const sectionOf = (set: LoadedSet): HTMLElement => {
    const show = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-rt-show': '' } });
    show.addEventListener('change', () => {
      set.show = show.checked;
      paintAll();
    });
    const withContours = new Set(set.model.contours.map((c) => c.roi));
    const items = set.model.rois
      .filter((r) => withContours.has(r.number))
      .map((r) => {
        const box = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-roi': String(r.number) } });
        box.addEventListener('change', () => {
          if (box.checked) set.visible.add(r.number);
          else set.visible.delete(r.number);
          paintAll();
        });
        const swatch = h('span', { class: 'viewer-seg-swatch' });
        swatch.style.backgroundColor = `rgb(${r.color.join(',')})`;
        return h('li', {}, h('label', {}, box, swatch, h('span', { text: `${r.number} ${r.name}` })));
      });
    const title = [set.series.seriesNumber === null ? '' : `#${set.series.seriesNumber}`, set.series.seriesDescription || 'Structure set'].filter(Boolean).join(' ');
    const note = set.model.unplaced > 0 ? h('div', { class: 'muted', text: `${set.model.unplaced} contours lie on images not in this study` }) : null;
    return h(
      'section',
      { class: 'viewer-seg', attrs: { 'data-rr-rt-series': set.series.seriesInstanceUid, hidden: '' } },
      h('div', { class: 'viewer-seg-title', text: `RTSTRUCT ${title}` }),
      h('div', { class: 'viewer-seg-controls' }, h('label', {}, show, h('span', { text: ' Show' }))),
      h('ul', { class: 'viewer-seg-list' }, ...items),
      note,
    );
  };

  const readOne = async (series: Series): Promise<void> => {
    const inst = series.instances[0];
    if (!inst) return;
    const res = await fetch(`${base}instances/${encodeURIComponent(inst.orthancId)}/tags?short&ignore-length=3006-0050`, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`its tags: HTTP ${res.status}`);
    const model = rtModel((await res.json()) as unknown, study);
    if (model.referencedSeriesUid === null) return; // on no image of the study: the objects panel's line
    const set: LoadedSet = { series, model, show: true, visible: new Set(model.rois.map((r) => r.number)), section: panel };
    set.section = sectionOf(set);
    sets.push(set);
    panel.appendChild(set.section);
  };

  return {
    element: panel,
    load(): Promise<void> {
      loading ??= (async () => {
        for (const s of rtStructSeries(study).slice(0, MAX_SETS)) {
          if (destroyed) return;
          try {
            await readOne(s);
          } catch {
            /* not drawn: the objects panel says what the series holds */
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
      if (pane && sets.length > 0) queueMicrotask(() => paint(pane));
    },
    refresh(): void {
      refresh();
      paintAll();
    },
    referencedSeries(rt: Series): Series | null {
      const uid = sets.find((s) => s.series === rt)?.model.referencedSeriesUid;
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
