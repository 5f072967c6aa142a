// One plane of the MPR layout (viewer-mpr.ts): an ORTHOGRAPHIC cornerstone viewport of the volume with the 2D
// viewer's overlay (patient, date, series, plane and slice, location, slab, zoom, W/L; orientation markers from
// the camera, so they follow rotation of the planes). DICOM strings reach the DOM as text only.
// Hooks for tests, on the viewport element: data-rr-mpr-plane (axial | sagittal | coronal), data-rr-slice-index
// and data-rr-slices (cornerstone's slice index and count along the plane's normal), data-rr-camera (JSON
// {focalPoint, viewUp, viewPlaneNormal, parallelScale, width, height}: CSS pixels of the canvas), data-rr-renders
// (renders so far), data-rr-window ("W L"), data-rr-slab ("mip 10").

import { Enums, type RenderingEngine, type Types } from '@cornerstonejs/core';
import type { Series, StudyDetail } from './api';
import { h } from './dom';
import { markersFromCamera, overlayLines, windowOf, type WindowLevel } from './viewer-model';
import { planeLine, planeLocation, PLANE_TITLES, slabText, type PlaneName, type SlabMode } from './viewer-mpr-model';
import type { Vec3 } from './viewer-volume-model';
import { volumeMeasure } from './viewer-volume';

export interface MprPlane {
  readonly name: PlaneName;
  readonly viewportId: string;
  readonly cell: HTMLDivElement;
  readonly element: HTMLDivElement;
  viewport(): Types.IVolumeViewport | null;
  /** The plane's window now. */
  window(): WindowLevel | null;
  setSlab(mode: SlabMode, mm: number): void;
  update(): void;
  setActive(active: boolean): void;
  destroy(): void;
}

const ORIENTATION: Readonly<Record<PlaneName, Enums.OrientationAxis>> = {
  axial: Enums.OrientationAxis.AXIAL,
  sagittal: Enums.OrientationAxis.SAGITTAL,
  coronal: Enums.OrientationAxis.CORONAL,
};

const v3 = (p: ArrayLike<number>): Vec3 => [p[0]!, p[1]!, p[2]!];

export function createPlane(opts: { name: PlaneName; viewportId: string; engine: RenderingEngine; study: StudyDetail; series: Series }): MprPlane {
  const { name, viewportId, engine } = opts;
  const element = h('div', { class: 'viewer-viewport viewer-mpr-viewport', attrs: { 'data-rr-mpr-plane': name, tabindex: '0', 'aria-label': `${PLANE_TITLES[name]} plane` } });
  const text = (cls: string): HTMLDivElement => h('div', { class: `ov ${cls}` });
  const ov = { patient: text('ov-patient'), date: text('ov-date'), series: text('ov-series'), image: text('ov-image'), position: text('ov-position'), slab: text('ov-slab'), zoom: text('ov-zoom'), window: text('ov-window') };
  const marker = { top: text('ov-orient ov-orient-top'), bottom: text('ov-orient ov-orient-bottom'), left: text('ov-orient ov-orient-left'), right: text('ov-orient ov-orient-right') };
  const overlay = h(
    'div',
    { class: 'viewer-overlay' },
    h('div', { class: 'ov-tl' }, ov.patient, ov.date),
    h('div', { class: 'ov-bl' }, ov.series, ov.image, ov.position, ov.slab),
    h('div', { class: 'ov-br' }, ov.zoom, ov.window),
    marker.top,
    marker.bottom,
    marker.left,
    marker.right,
  );
  const cell = h('div', { class: 'viewer-stage viewer-mpr-cell', attrs: { 'data-rr-mpr-cell': name } }, element, overlay);
  let renders = 0;
  let slab: { mode: SlabMode; mm: number } = { mode: 'none', mm: 0 };

  const viewport = (): Types.IVolumeViewport | null => {
    try {
      return (engine.getViewport(viewportId) as Types.IVolumeViewport | undefined) ?? null;
    } catch {
      return null;
    }
  };
  const windowNow = (): WindowLevel | null => {
    const range = viewport()?.getProperties()?.voiRange;
    return range ? windowOf(range) : null;
  };

  const update = (): void => {
    const vp = viewport();
    if (!vp) return;
    const cam = vp.getCamera();
    const index = vp.getSliceIndex();
    const total = (vp as unknown as { getNumberOfSlices?: () => number }).getNumberOfSlices?.() ?? 0;
    const normal = cam.viewPlaneNormal ? v3(cam.viewPlaneNormal) : null;
    const focal = cam.focalPoint ? v3(cam.focalPoint) : null;
    const w = windowNow();
    const lines = overlayLines(opts.study, opts.series, { index, total, window: w, location: focal && normal ? planeLocation(focal, normal) : null, zoom: vp.getZoom() });
    ov.patient.textContent = lines.patient;
    ov.date.textContent = lines.date;
    ov.series.textContent = lines.series;
    ov.image.textContent = planeLine(name, index, total, normal);
    ov.position.textContent = lines.position;
    ov.slab.textContent = slabText(slab.mode, slab.mm);
    ov.zoom.textContent = lines.zoom;
    ov.window.textContent = lines.window;
    const m = cam.viewUp && cam.viewPlaneNormal ? markersFromCamera(v3(cam.viewUp), v3(cam.viewPlaneNormal)) : null;
    for (const edge of ['top', 'bottom', 'left', 'right'] as const) marker[edge].textContent = m ? m[edge] : '';
    element.setAttribute('data-rr-slice-index', String(index));
    element.setAttribute('data-rr-slices', String(total));
    if (w) element.setAttribute('data-rr-window', `${Math.round(w.width)} ${Math.round(w.center)}`);
    element.setAttribute('data-rr-slab', slab.mode === 'none' ? 'none' : `${slab.mode} ${slab.mm}`);
    const canvas = vp.canvas;
    element.setAttribute(
      'data-rr-camera',
      JSON.stringify({ focalPoint: focal, viewUp: cam.viewUp ? v3(cam.viewUp) : null, viewPlaneNormal: normal, parallelScale: cam.parallelScale, width: canvas.clientWidth, height: canvas.clientHeight }),
    );
  };

  const onRendered = (): void => {
    if (renders === 0) volumeMeasure(`${name}-first-render`);
    renders++;
    element.setAttribute('data-rr-renders', String(renders));
    update();
  };
  element.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);

  engine.enableElement({ viewportId, type: Enums.ViewportType.ORTHOGRAPHIC, element, defaultOptions: { orientation: ORIENTATION[name], background: [0, 0, 0] as Types.Point3 } });

  return {
    name,
    viewportId,
    cell,
    element,
    viewport,
    window: windowNow,
    setSlab: (mode, mm) => {
      slab = { mode, mm };
      const vp = viewport();
      if (!vp) return;
      const blend = { none: Enums.BlendModes.COMPOSITE, mip: Enums.BlendModes.MAXIMUM_INTENSITY_BLEND, minip: Enums.BlendModes.MINIMUM_INTENSITY_BLEND, average: Enums.BlendModes.AVERAGE_INTENSITY_BLEND }[mode];
      vp.setBlendMode(blend);
      if (mode === 'none') vp.resetSlabThickness();
      else vp.setSlabThickness(mm);
      vp.render();
    },
    update,
    setActive: (active) => cell.classList.toggle('active', active),
    destroy: () => {
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
      try {
        engine.disableElement(viewportId);
      } catch {
        /* already gone */
      }
    },
  };
}
