// The "MPR" layout (issue 11): axial, sagittal and coronal ORTHOGRAPHIC viewports of the active series' volume
// (viewer-volume.ts), mounted by the volume switch (viewer-volume-layout.ts).

import { Enums, setVolumesForViewports, type Types } from '@cornerstonejs/core';
import { h } from './dom';
import { voiRange } from './viewer-model';
import type { VolumeLayoutContext, VolumeLayoutDef, VolumeLayoutView, ViewState } from './viewer-volume-layout';

const PLANES = [
  { name: 'axial', orientation: Enums.OrientationAxis.AXIAL },
  { name: 'sagittal', orientation: Enums.OrientationAxis.SAGITTAL },
  { name: 'coronal', orientation: Enums.OrientationAxis.CORONAL },
] as const;

async function mount(ctx: VolumeLayoutContext): Promise<VolumeLayoutView> {
  const { engine, area, volume } = ctx;
  const cells = PLANES.map((p) => {
    const element = h('div', { class: 'viewer-viewport viewer-mpr-viewport', attrs: { 'data-rr-mpr-plane': p.name, tabindex: '0' } });
    const cell = h('div', { class: 'viewer-stage viewer-mpr-cell' }, element);
    return { ...p, element, cell, viewportId: `${ctx.idPrefix}-${p.name}` };
  });
  area.replaceChildren(h('div', { class: 'viewer-mpr-grid' }, ...cells.map((c) => c.cell)));
  for (const c of cells) {
    engine.enableElement({ viewportId: c.viewportId, type: Enums.ViewportType.ORTHOGRAPHIC, element: c.element, defaultOptions: { orientation: c.orientation } });
  }
  const ids = cells.map((c) => c.viewportId);
  await setVolumesForViewports(engine, [{ volumeId: volume.volumeId }], ids);
  const window = ctx.from.window ?? volume.window;
  for (const id of ids) {
    const vp = engine.getViewport(id) as Types.IVolumeViewport;
    vp.setProperties({ voiRange: voiRange(window) });
  }
  engine.renderViewports(ids);
  let window0 = window;
  return {
    state: (): ViewState => ({ series: ctx.from.series, window: window0, point: ctx.from.point }),
    key: () => false,
    destroy: () => {
      for (const id of ids) {
        try {
          engine.disableElement(id);
        } catch {
          /* already gone */
        }
      }
      window0 = window;
    },
  };
}

export const mprLayout: VolumeLayoutDef = { id: 'mpr', label: 'MPR', title: 'Axial, sagittal and coronal planes of the volume', mount };
