// SEGs over a volume layout (issue 11): in the MPR planes (and the 3D four-up's planes) each SEG of the study that
// references the volume's series is shown as a cornerstone3D volume labelmap segmentation: a labelmap volume
// derived from the series' volume (same grid: viewer-seg-volume.ts places each SEG pixel by its world position,
// so a decimated or shear-corrected volume is labelled where the anatomy is), added to the planes as a Labelmap
// representation (ray-cast: outline and fill; cornerstone 5.14's slice rendering misplaced it in the coronal
// plane) with a colour LUT of the segments' Recommended Display CIELab colours; it moves, turns and slabs with
// the planes. A hidden segment is taken out of the labelmap volume's data (the built labels are kept). In the 3D view the same labelmap volume is a second volume actor with a label transfer
// function (each segment its colour, nearest-neighbour, label 0 transparent, unshaded): a coloured overlay.
// A panel below the planes gives the 2D viewer's controls per SEG: "Show", opacity, one toggle per segment with
// its colour, and says which segments cannot be shown and why. The SEGs are read after the planes are drawn
// (nothing waits for them); leaving removes the labelmap volumes from the cache (the viewports go with the layout).
// Hooks for tests: the panel .viewer-seg-volume-panel[data-rr-seg-volume-state="loading|shown|none"], one
// section[data-rr-seg-series] per SEG with inputs data-rr-seg-show, data-rr-seg-opacity, data-rr-segment="<n>",
// li.viewer-seg-problem lines for segments that cannot be shown; data-rr-seg-volume-on on each viewport element
// that shows a labelmap ("1" when a segment is drawn, "0" when all are hidden). Labels reach the DOM as text only.

import { cache, volumeLoader, type RenderingEngine, type Types } from '@cornerstonejs/core';
import { Enums as ToolEnums, segmentation } from '@cornerstonejs/tools';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import { frameMask, pixelDataOf, segModel, segSeries, type SegModel } from './viewer-seg';
import { buildLabelmap, framePlacements, labelTransferFunctions, MAX_LABEL, type LabelGrid } from './viewer-seg-volume';
import type { LoadedVolume } from './viewer-volume-layout';

/** As the 2D overlays: at most this many SEG series per study, each file at most this big. */
const MAX_SEGS = 8;
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface SegVolumeOptions {
  study: StudyDetail;
  series: Series;
  orthancRoot: string;
  engine: RenderingEngine;
  volume: LoadedVolume;
  /** The viewports to label (planes, and a VOLUME_3D one when `threeD` says so). */
  viewportIds: readonly string[];
  /** VOLUME_3D viewports among them (the label volume as an actor there; a labelmap representation elsewhere). */
  threeD?: ReadonlySet<string>;
  /** Where the panel goes (appended). */
  host: HTMLElement;
}

export interface SegVolumes {
  readonly element: HTMLElement;
  /** Resolves when the study's SEGs are read and shown (never rejects). */
  readonly ready: Promise<void>;
  destroy(): void;
}

interface Shown {
  series: Series;
  model: SegModel;
  volumeId: string;
  show: boolean;
  opacity: number;
  visible: Set<number>;
  /** The labels as built (all segments) and the visible set last written into the labelmap volume. */
  labels: Uint8Array;
  written: string;
  /** The 3D actor's sample distance was made coarser (once). */
  coarse?: boolean;
}

interface TfProperty {
  getRGBTransferFunction(i: number): { removeAllPoints(): void; addRGBPoint(x: number, r: number, g: number, b: number): void } | null;
  getScalarOpacity(i: number): { removeAllPoints(): void; addPoint(x: number, y: number): void } | null;
  setInterpolationTypeToNearest(): void;
  setShade(on: boolean): void;
  setUseGradientOpacity?(i: number, on: boolean): void;
}

let counter = 0;
const LABELMAP = ToolEnums.SegmentationRepresentations.Labelmap;

async function readSeg(base: string, series: Series, study: StudyDetail): Promise<{ model: SegModel; pixels: Uint8Array } | null> {
  const inst = series.instances[0];
  if (!inst) return null;
  const url = (suffix: string): string => `${base}instances/${encodeURIComponent(inst.orthancId)}/${suffix}`;
  const tagsRes = await fetch(url('tags?short'), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!tagsRes.ok) throw new Error(`its tags: HTTP ${tagsRes.status}`);
  const model = segModel((await tagsRes.json()) as unknown, study, inst.transferSyntaxUid);
  const fileRes = await fetch(url('file'), { credentials: 'same-origin' });
  if (!fileRes.ok) throw new Error(`its file: HTTP ${fileRes.status}`);
  const bytes = new Uint8Array(await fileRes.arrayBuffer());
  if (bytes.length > MAX_FILE_BYTES) throw new Error('its file is too big to overlay');
  return { model, pixels: pixelDataOf(bytes) };
}

/** Starts reading the study's SEGs for the volume's series and shows them on the viewports as they come. */
// One function: its closures share the shown SEGs, the panel and the destroyed flag.
export function attachSegVolumes(opts: SegVolumeOptions): SegVolumes {
  const { engine, volume } = opts;
  const base = opts.orthancRoot.endsWith('/') ? opts.orthancRoot : `${opts.orthancRoot}/`;
  const panel = h('div', { class: 'viewer-seg-panel viewer-seg-volume-panel', attrs: { 'aria-label': 'Segmentations in the volume', 'data-rr-seg-volume-state': 'loading', hidden: '' } });
  opts.host.appendChild(panel);
  const shown: Shown[] = [];
  let destroyed = false;
  const grid: LabelGrid = { dimensions: volume.plan.dimensions, spacing: volume.plan.spacing, origin: volume.plan.origin, direction: volume.plan.direction };
  const g = volume.info.geometry;
  const fallbackSpacing: [number, number] | null = g ? [g.spacing[1], g.spacing[0]] : null;

  const viewport = (id: string): Types.IVolumeViewport | null => {
    try {
      return (engine.getViewport(id) as Types.IVolumeViewport | undefined) ?? null;
    } catch {
      return null;
    }
  };

  const style = (s: Shown, actor: unknown, threeD: boolean): void => {
    const prop = (actor as { getProperty?: () => TfProperty } | null)?.getProperty?.();
    if (!prop) return;
    const tf = labelTransferFunctions(s.model.segments, s.show ? s.visible : new Set(), s.opacity);
    const colour = prop.getRGBTransferFunction(0);
    const alpha = prop.getScalarOpacity(0);
    colour?.removeAllPoints();
    for (const [x, r, gr, b] of tf.colour) colour?.addRGBPoint(x, r!, gr!, b!);
    alpha?.removeAllPoints();
    for (const [x, a] of tf.opacity) alpha?.addPoint(x, a!);
    prop.setInterpolationTypeToNearest();
    prop.setUseGradientOpacity?.(0, false);
    if (threeD) {
      prop.setShade(false);
      // the label volume is ray-cast beside the image volume: at twice the image's sample distance (labels are
      // blocks of voxels), which halves its share of a 3D render on software WebGL
      const mapper = (actor as { getMapper?: () => { getSampleDistance?: () => number; setSampleDistance?: (d: number) => void } | null }).getMapper?.();
      const d = mapper?.getSampleDistance?.();
      if (d && !s.coarse) {
        mapper?.setSampleDistance?.(d * 2);
        s.coarse = true;
      }
    }
  };

  /**
   * The labelmap volume holds the visible segments only (a hidden one's voxels are 0): cornerstone 5.14 does not
   * hide a segment's outline in a ray-cast labelmap, so the data is the one switch that holds in every plane.
   */
  const writeLabels = (s: Shown): void => {
    const key = [...s.visible].sort((a, b) => a - b).join(',');
    if (key === s.written) return;
    const all = s.model.segments.every((seg) => s.visible.has(seg.number) || !s.labels.includes(seg.number));
    let data = s.labels;
    if (!all) {
      data = new Uint8Array(s.labels.length);
      for (let i = 0; i < data.length; i++) {
        const v = s.labels[i]!;
        if (v && s.visible.has(v)) data[i] = v;
      }
    }
    cache.getVolume(s.volumeId)?.voxelManager?.setCompleteScalarDataArray?.(data);
    s.written = key;
    segmentation.triggerSegmentationEvents.triggerSegmentationDataModified(s.volumeId);
  };

  /** A plane's labelmap representation (cornerstone's segmentation state): shown, fill and outline opacity. */
  const stylePlane = (s: Shown, id: string): void => {
    const specifier = { segmentationId: s.volumeId, type: LABELMAP };
    segmentation.config.visibility.setSegmentationRepresentationVisibility(id, specifier, s.show);
    const outline = Math.min(1, s.opacity * 2);
    segmentation.config.style.setStyle({ viewportId: id, ...specifier }, { fillAlpha: s.opacity, fillAlphaInactive: s.opacity, renderOutline: s.opacity > 0, outlineOpacity: outline, outlineOpacityInactive: outline });
  };

  const restyle = (): void => {
    for (const s of shown) writeLabels(s);
    for (const id of opts.viewportIds) {
      const vp = viewport(id);
      if (!vp) continue;
      const threeD = opts.threeD?.has(id) ?? false;
      let on = false;
      for (const s of shown) {
        if (threeD) {
          const entry = vp.getActor(s.volumeId);
          if (!entry) continue;
          style(s, entry.actor, true);
        } else {
          try {
            stylePlane(s, id);
          } catch {
            continue; // not represented on this viewport
          }
        }
        on ||= s.show && s.opacity > 0 && s.visible.size > 0;
      }
      vp.element.setAttribute('data-rr-seg-volume-on', on ? '1' : '0');
      vp.render();
    }
  };

  const sectionOf = (s: Shown, problems: Array<{ segment: number; reason: string }>): HTMLElement => {
    const show = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-seg-show': '' } });
    const opacity = h('input', { attrs: { type: 'range', min: '0', max: '100', step: '5', value: String(Math.round(s.opacity * 100)), 'data-rr-seg-opacity': '', 'aria-label': 'Opacity' } });
    show.addEventListener('change', () => {
      s.show = show.checked;
      restyle();
    });
    opacity.addEventListener('input', () => {
      s.opacity = Number(opacity.value) / 100;
      restyle();
    });
    const bad = new Map(problems.map((p) => [p.segment, p.reason]));
    const items = s.model.segments.map((seg) => {
      const swatch = h('span', { class: 'viewer-seg-swatch' });
      swatch.style.backgroundColor = `rgb(${seg.color.join(',')})`;
      const reason = bad.get(seg.number);
      if (reason) return h('li', { class: 'viewer-seg-problem', attrs: { 'data-rr-segment-problem': String(seg.number) } }, swatch, h('span', { text: `${seg.number} ${seg.label}: cannot be shown (${reason})` }));
      const box = h('input', { attrs: { type: 'checkbox', checked: '', 'data-rr-segment': String(seg.number) } });
      box.addEventListener('change', () => {
        if (box.checked) s.visible.add(seg.number);
        else s.visible.delete(seg.number);
        restyle();
      });
      return h('li', {}, h('label', {}, box, swatch, h('span', { text: `${seg.number} ${seg.label}` })));
    });
    const title = [s.series.seriesNumber === null ? '' : `#${s.series.seriesNumber}`, s.series.seriesDescription || 'Segmentation'].filter(Boolean).join(' ');
    return h(
      'section',
      { class: 'viewer-seg', attrs: { 'data-rr-seg-series': s.series.seriesInstanceUid } },
      h('div', { class: 'viewer-seg-title', text: `SEG ${title}` }),
      h('div', { class: 'viewer-seg-controls' }, h('label', {}, show, h('span', { text: ' Show' })), h('label', {}, h('span', { text: 'Opacity ' }), opacity)),
      h('ul', { class: 'viewer-seg-list' }, ...items),
    );
  };

  /** One SEG: read, labelmap built on the volume's grid, added to the viewports. */
  const showOne = async (series: Series): Promise<void> => {
    const read = await readSeg(base, series, opts.study);
    if (!read || destroyed || read.model.referencedSeriesUid !== opts.series.seriesInstanceUid) return;
    const { model, pixels } = read;
    const placements = framePlacements(model, opts.series, fallbackSpacing);
    const labels = buildLabelmap(grid, model, placements, (i) => frameMask(pixels, model, i));
    const s: Shown = { series, model, volumeId: `derived:rr-seg-labelmap-${++counter}`, show: true, opacity: 0.5, visible: new Set(model.segments.map((x) => x.number).filter((n) => labels.voxels.get(n))), labels: labels.data, written: '' };
    s.written = [...s.visible].sort((a, b) => a - b).join(','); // the volume below is filled with all of them
    const section = sectionOf(s, labels.problems);
    panel.appendChild(section);
    if (s.visible.size === 0 || destroyed) return;
    // cornerstone's labelmap volume on the image volume's grid (its geometry and slice images), then the labels
    const labelVolume = volumeLoader.createAndCacheDerivedLabelmapVolume(volume.volumeId, { volumeId: s.volumeId });
    if (!labelVolume.voxelManager?.setCompleteScalarDataArray) throw new Error('the labelmap volume could not be filled');
    labelVolume.voxelManager.setCompleteScalarDataArray(labels.data);
    const lut: Types.ColorLUT = [[0, 0, 0, 0]];
    for (const seg of model.segments) if (seg.number >= 1 && seg.number <= MAX_LABEL) lut[seg.number] = [...seg.color, 255];
    for (let i = 1; i < lut.length; i++) lut[i] ??= [0, 0, 0, 0];
    const segments = Object.fromEntries(model.segments.filter((x) => x.number >= 1 && x.number <= MAX_LABEL).map((x) => [x.number, { segmentIndex: x.number, label: x.label }]));
    segmentation.addSegmentations([{ segmentationId: s.volumeId, representation: { type: LABELMAP, data: { volumeId: s.volumeId } }, config: { label: series.seriesDescription || 'SEG', segments } }]);
    shown.push(s);
    const planes = opts.viewportIds.filter((id) => !opts.threeD?.has(id) && viewport(id));
    await segmentation.addLabelmapRepresentationToViewportMap(Object.fromEntries(planes.map((id) => [id, [{ segmentationId: s.volumeId, type: LABELMAP, config: { colorLUTOrIndex: lut } }]])));
    for (const id of opts.viewportIds) {
      const vp = viewport(id);
      if (!vp || !opts.threeD?.has(id)) continue;
      // actorUID: found again by getActor(volumeId); visibility: cornerstone hides an actor added without it
      await vp.addVolumes([{ volumeId: s.volumeId, actorUID: s.volumeId, visibility: true, callback: ({ volumeActor }) => style(s, volumeActor, opts.threeD?.has(id) ?? false) }]);
      if (destroyed) return;
    }
  };

  const ready = (async () => {
    const candidates = segSeries(opts.study).slice(0, MAX_SEGS);
    for (const series of candidates) {
      if (destroyed) return;
      try {
        await showOne(series);
      } catch (err) {
        if (destroyed) return;
        // a SEG of this series' images that cannot be read: said, not hidden
        const title = series.seriesDescription || series.seriesInstanceUid;
        panel.appendChild(h('section', { class: 'viewer-seg', attrs: { 'data-rr-seg-series': series.seriesInstanceUid } }, h('div', { class: 'viewer-seg-problem', text: `SEG ${title} cannot be shown: ${err instanceof Error ? err.message : String(err)}` })));
      }
    }
    if (destroyed) return;
    panel.hidden = panel.childElementCount === 0;
    panel.setAttribute('data-rr-seg-volume-state', shown.length > 0 ? 'shown' : 'none');
    restyle();
  })();

  return {
    element: panel,
    ready,
    destroy(): void {
      destroyed = true;
      panel.remove();
      for (const s of shown.splice(0)) {
        try {
          segmentation.removeSegmentation(s.volumeId); // its representations on the planes too
        } catch {
          /* already gone */
        }
        let imageIds: string[] = [];
        try {
          imageIds = [...(cache.getVolume(s.volumeId)?.imageIds ?? [])];
          cache.removeVolumeLoadObject(s.volumeId);
        } catch {
          /* already gone */
        }
        for (const id of imageIds) {
          try {
            cache.removeImageLoadObject(id, { force: true } as never);
          } catch {
            /* already gone */
          }
        }
      }
    },
  };
}
