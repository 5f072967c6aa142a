// The "MPR" layout (issue 11): axial, sagittal and coronal ORTHOGRAPHIC viewports (viewer-mpr-plane.ts) of the
// active series' volume (viewer-volume.ts), mounted by the volume switch (viewer-volume-layout.ts).
// - crosshairs (cornerstone's CrosshairsTool on the left button): a click or a drag moves the point the three
//   planes go through; dragging a line turns the other planes about it (oblique MPR); its slab handles set the
//   slab thickness. The "W/L" button gives the left button to window/level instead (per plane).
// - each plane: its own W/L (left button in W/L mode, keys 0–6 presets), zoom (right button, Ctrl+wheel), pan
//   (middle button), scroll through the plane (wheel, ↑↓).
// - slab: Slice, MIP, MinIP or Average over a thickness in mm, on the three planes.
// - starts at the 2D view's window and position (the planes through the point at the centre of its image) and
//   gives back the active plane's window and the crosshairs' point when leaving.
// Hooks for tests: the toolbar's buttons carry data-rr-mpr-tool (crosshairs | wl | reset), the slab select
// data-rr-mpr-slab, the thickness input data-rr-mpr-slab-mm; see viewer-mpr-plane.ts for the viewports.

import { setVolumesForViewports, type Types } from '@cornerstonejs/core';
import {
  addTool,
  CrosshairsTool,
  Enums as ToolEnums,
  LengthTool,
  PanTool,
  StackScrollTool,
  ToolGroupManager,
  WindowLevelTool,
  ZoomTool,
} from '@cornerstonejs/tools';
import { h } from './dom';
import { presetForKey, voiRange, type WindowLevel } from './viewer-model';
import { cameraThrough, DEFAULT_SLAB_MM, insideVolume, mprStartPoint, PLANE_NAMES, SLAB_MODES, slabModeOf, slabThickness, type PlaneName } from './viewer-mpr-model';
import { createPlane, type MprPlane } from './viewer-mpr-plane';
import { attachSegVolumes } from './viewer-seg-volume-view';
import type { VolumeLayoutContext, VolumeLayoutDef, VolumeLayoutView, ViewState } from './viewer-volume-layout';
import type { Vec3 } from './viewer-volume-model';
import { volumeMeasure } from './viewer-volume';

const COLOURS: Readonly<Record<PlaneName, string>> = { axial: 'rgb(255, 80, 80)', sagittal: 'rgb(255, 216, 102)', coronal: 'rgb(77, 163, 255)' };

let toolsAdded = false;
function addTools(): void {
  if (toolsAdded) return;
  for (const t of [CrosshairsTool, LengthTool]) {
    try {
      addTool(t);
    } catch {
      /* added by another module (viewer-measure.ts adds LengthTool) */
    }
  }
  toolsAdded = true;
}

const v3 = (p: ArrayLike<number>): Vec3 => [p[0]!, p[1]!, p[2]!];

/** Moves every plane so that it passes through `point` (the crosshairs follow the cameras). */
function centreOn(planes: readonly MprPlane[], point: Vec3): void {
  for (const p of planes) {
    const vp = p.viewport();
    if (!vp) continue;
    const cam = vp.getCamera();
    if (!cam.focalPoint || !cam.position || !cam.viewPlaneNormal) continue;
    const moved = cameraThrough({ focalPoint: v3(cam.focalPoint), position: v3(cam.position), viewPlaneNormal: v3(cam.viewPlaneNormal) }, point);
    vp.setCamera({ focalPoint: moved.focalPoint as Types.Point3, position: moved.position as Types.Point3 });
  }
}

/** What another volume layout adds to the three planes (the 3D four-up: its 3D cell, a 2×2 grid class). */
export interface MprExtra {
  /** Cells appended to the planes' grid, after the three planes. */
  cells: HTMLElement[];
  /** A class for the grid (default: three planes side by side). */
  gridClass?: string;
  /**
   * Called once the planes show the volume, before their first resize and render: the 3D four-up enables its
   * 3D viewport here, since enabling a viewport resizes the engine, after which the planes' slabs are set again
   * (else the acquisition plane draws flat grey).
   */
  ready?: () => Promise<void>;
  /** VOLUME_3D viewports (enabled by `ready`) that show the study's SEGs too (viewer-seg-volume-view.ts). */
  segViewports3d?: string[];
}

/**
 * Mounts the three planes into ctx.area (the "MPR" layout; the 3D four-up reuses it with `extra`): the view's
 * destroy() removes the planes, their tool group and the listeners (not what `extra` put in its cells).
 */
// Builds the layout; its closures share the planes and the tool group (one function on purpose).
export async function mountMpr(ctx: VolumeLayoutContext, extra?: MprExtra): Promise<VolumeLayoutView> {
  const { engine, area, volume } = ctx;
  const series = ctx.from.series;
  addTools();
  const planes = PLANE_NAMES.map((name) => createPlane({ name, viewportId: `${ctx.idPrefix}-${name}`, engine, study: ctx.study, series }));
  const ids = planes.map((p) => p.viewportId);
  let active = 0;

  const tool = (label: string, title: string, id: string): HTMLButtonElement =>
    h('button', { class: 'viewer-tool', text: label, attrs: { type: 'button', title, 'data-rr-mpr-tool': id, 'aria-pressed': 'false' } });
  const crossButton = tool('Crosshairs', 'Crosshairs on the left button: move and turn the planes', 'crosshairs');
  const wlButton = tool('W/L', 'Window/level on the left button (per plane)', 'wl');
  // a length in any plane, saved with world coordinates like the 2D measurements (viewer-measure.ts)
  const lengthButton = ctx.canAnnotate ? tool('Length', 'Length on the left button, in any plane (saved with the study)', 'length') : null;
  const resetButton = tool('Reset', 'Planes back through the centre of the volume, window, zoom and slab reset', 'reset');
  const slabSelect = h('select', { class: 'viewer-mpr-slab', attrs: { 'data-rr-mpr-slab': '', 'aria-label': 'Slab mode' } }, ...SLAB_MODES.map((m) => h('option', { text: m.label, attrs: { value: m.id } })));
  const slabInput = h('input', {
    class: 'viewer-fps viewer-mpr-slab-mm',
    attrs: { type: 'number', min: '0.5', max: '200', step: '0.5', value: String(DEFAULT_SLAB_MM), 'data-rr-mpr-slab-mm': '', 'aria-label': 'Slab thickness in mm' },
  });
  const bar = h(
    'div',
    { class: 'viewer-tools viewer-mpr-tools', attrs: { role: 'toolbar', 'aria-label': 'MPR tools' } },
    crossButton,
    wlButton,
    ...(lengthButton ? [lengthButton] : []),
    h('label', { class: 'viewer-cine muted' }, h('span', { text: 'Slab ' }), slabSelect),
    h('label', { class: 'viewer-cine muted' }, slabInput, h('span', { text: ' mm' })),
    resetButton,
  );
  const grid = h('div', { class: `viewer-mpr-grid${extra?.gridClass ? ` ${extra.gridClass}` : ''}` }, ...planes.map((p) => p.cell), ...(extra?.cells ?? []));
  area.replaceChildren(h('div', { class: 'viewer-mpr' }, grid, bar));

  const toolGroupId = `${ctx.idPrefix}-tools`;
  const tools = ToolGroupManager.createToolGroup(toolGroupId);
  const cleanups: Array<() => void> = [];
  const listen = (target: EventTarget, type: string, fn: (e: Event) => void, options?: AddEventListenerOptions): void => {
    target.addEventListener(type, fn, options);
    cleanups.push(() => target.removeEventListener(type, fn, options));
  };

  const destroy = (): void => {
    for (const c of cleanups.splice(0)) c();
    try {
      ToolGroupManager.destroyToolGroup(toolGroupId);
    } catch {
      /* already gone */
    }
    for (const p of planes) p.destroy(); // the viewports and their GPU textures
    area.replaceChildren();
  };

  try {
    await setVolumesForViewports(engine, [{ volumeId: volume.volumeId }], ids);
    volumeMeasure('planes-set');
    const start = ctx.from.window ?? volume.window;
    for (const p of planes) p.viewport()?.setProperties({ voiRange: voiRange(start) });
    // the 2D view's slice, through the middle of it, inside the volume (mprStartPoint)
    if (ctx.from.point) centreOn(planes, mprStartPoint(ctx.from.point, volume.plan));
    if (tools) {
      for (const t of [WindowLevelTool, PanTool, ZoomTool, StackScrollTool, LengthTool]) tools.addTool(t.toolName);
      tools.addTool(CrosshairsTool.toolName, {
        getReferenceLineColor: (viewportId: string) => COLOURS[planes.find((p) => p.viewportId === viewportId)?.name ?? 'axial'],
        getReferenceLineControllable: () => true,
        getReferenceLineDraggableRotatable: () => true,
        getReferenceLineSlabThicknessControlsOn: () => true,
      });
      for (const id of ids) tools.addViewport(id, engine.id);
      const { MouseBindings } = ToolEnums;
      tools.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
      tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
      tools.setToolActive(StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
    }
    await extra?.ready?.();
    volumeMeasure('extra-ready');
  } catch (err) {
    destroy();
    throw err;
  }

  const setPrimary = (mode: 'crosshairs' | 'wl' | 'length'): void => {
    if (!tools) return;
    const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }];
    const byMode = { crosshairs: CrosshairsTool.toolName, wl: WindowLevelTool.toolName, length: LengthTool.toolName };
    for (const [m, name] of Object.entries(byMode)) if (m !== mode) tools.setToolPassive(name); // crosshairs stay drawn
    tools.setToolActive(byMode[mode], { bindings: primary });
    crossButton.setAttribute('aria-pressed', String(mode === 'crosshairs'));
    wlButton.setAttribute('aria-pressed', String(mode === 'wl'));
    lengthButton?.setAttribute('aria-pressed', String(mode === 'length'));
  };
  setPrimary('crosshairs');

  const showActive = (): void => {
    for (const p of planes) p.setActive(p === planes[active]);
  };
  const applySlab = (): void => {
    const mode = slabModeOf(slabSelect.value);
    const mm = slabThickness(slabInput.value);
    slabInput.value = String(mm);
    for (const p of planes) p.setSlab(mode, mm);
  };
  const reset = (): void => {
    slabSelect.value = 'none';
    for (const p of planes) {
      const vp = p.viewport();
      if (!vp) continue;
      vp.resetCamera();
      vp.setProperties({ voiRange: voiRange(volume.window) });
    }
    applySlab();
    try {
      (tools?.getToolInstance(CrosshairsTool.toolName) as { computeToolCenter?: () => void } | undefined)?.computeToolCenter?.();
    } catch {
      /* crosshairs not ready */
    }
    engine.renderViewports(ids);
  };
  const applyWindow = (w: WindowLevel | null): void => {
    const vp = planes[active]?.viewport();
    if (!vp) return;
    vp.setProperties({ voiRange: voiRange(w ?? volume.window) });
    vp.render();
  };

  planes.forEach((p, i) => {
    const activate = (): void => {
      active = i;
      showActive();
    };
    listen(p.cell, 'pointerdown', activate, { capture: true });
    listen(p.element, 'focus', activate); // Tab, or a test's focus()
    // Ctrl+wheel zooms the plane (before the scroll tool sees the wheel)
    listen(
      p.cell,
      'wheel',
      (e) => {
        const w = e as WheelEvent;
        if (!w.ctrlKey) return;
        w.preventDefault();
        w.stopPropagation();
        const vp = p.viewport();
        if (!vp) return;
        vp.setZoom(vp.getZoom() * (w.deltaY < 0 ? 1.1 : 1 / 1.1));
        vp.render();
      },
      { capture: true, passive: false },
    );
  });
  listen(crossButton, 'click', () => setPrimary('crosshairs'));
  listen(wlButton, 'click', () => setPrimary('wl'));
  if (lengthButton) listen(lengthButton, 'click', () => setPrimary('length'));
  listen(resetButton, 'click', reset);
  listen(slabSelect, 'change', applySlab);
  listen(slabInput, 'change', applySlab);
  showActive();
  // After every resize of the engine (the grid's size; the 3D viewport enabled, which resizes it) each plane gets
  // its camera and slab again and is drawn: cornerstone's resize resets a camera to the centre and back, after
  // which the acquisition plane (axial of an axial CT) drew flat grey until its clipping planes were set again
  // (cornerstone 5.14, SwiftShader). A resize asked while a frame is pending is skipped by cornerstone, so the
  // canvases are checked against their displayed size and the refresh repeated on the next frames until they match.
  let frame = 0;
  let retries = 0;
  const sized = (): boolean =>
    planes.every((p) => {
      const c = p.viewport()?.canvas;
      const dpr = window.devicePixelRatio || 1;
      return !c || c.clientWidth === 0 || (c.width === Math.round(c.clientWidth * dpr) && c.height === Math.round(c.clientHeight * dpr));
    });
  const refresh = (): void => {
    const cameras = planes.map((p) => p.viewport()?.getCamera() ?? null);
    engine.resize(true, true);
    planes.forEach((p, i) => {
      const vp = p.viewport();
      const cam = cameras[i];
      if (!vp || !cam?.focalPoint || !cam.position || !cam.viewUp || cam.parallelScale === undefined) return;
      vp.setCamera({ focalPoint: cam.focalPoint, position: cam.position, viewUp: cam.viewUp, parallelScale: cam.parallelScale });
    });
    applySlab();
    engine.renderViewports(ids);
    if (sized()) retries = 0;
    else if (retries++ < 40) schedule();
  };
  const schedule = (): void => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(refresh);
  };
  const observer = new ResizeObserver(schedule);
  observer.observe(grid);
  cleanups.push(() => {
    observer.disconnect();
    cancelAnimationFrame(frame);
  });
  refresh();
  volumeMeasure('planes-rendered');
  // a late resize of the engine (a busy machine: the 3D viewport's first frames, the panel's layout) can
  // still leave the acquisition plane grey without the grid changing size: refresh again a little later
  for (const ms of [300, 1000, 3000]) {
    const timer = window.setTimeout(schedule, ms);
    cleanups.push(() => window.clearTimeout(timer));
  }
  // the study's SEGs of this series as labelmaps, read after the planes are drawn (nothing waits for them)
  const segs3d = extra?.segViewports3d ?? [];
  const segs = attachSegVolumes({ study: ctx.study, series, orthancRoot: ctx.orthancRoot, engine, volume, viewportIds: [...ids, ...segs3d], threeD: new Set(segs3d), host: grid.parentElement! });
  cleanups.push(() => segs.destroy());

  const centre = (): Vec3 | null => {
    const inst = tools?.getToolInstance(CrosshairsTool.toolName) as { toolCenter?: ArrayLike<number> } | undefined;
    if (inst?.toolCenter) return v3(inst.toolCenter);
    const f = planes[0]?.viewport()?.getCamera().focalPoint;
    return f ? v3(f) : null;
  };

  return {
    state: (): ViewState => ({ series, window: planes[active]?.window() ?? ctx.from.window, point: centre() }),
    key: (k) => {
      const preset = presetForKey(k.key);
      if (preset) {
        applyWindow(preset.window);
        return true;
      }
      if (k.key === 'ArrowUp' || k.key === 'ArrowDown') {
        const vp = planes[active]?.viewport();
        if (!vp) return false;
        const cam = vp.getCamera();
        const step = k.key === 'ArrowUp' ? -1 : 1;
        const spacing = Math.min(...volume.plan.spacing);
        const n = cam.viewPlaneNormal ? v3(cam.viewPlaneNormal) : null;
        if (!n || !cam.focalPoint || !cam.position) return false;
        // one slice along the normal, kept inside the volume (insideVolume: no grey plane past the edge); the
        // camera moves along its normal only (cameraThrough), so a pan, across the normal, is left alone
        const f = v3(cam.focalPoint);
        const unit = (step * spacing) / (Math.hypot(n[0], n[1], n[2]) || 1);
        const to: Vec3 = [f[0] + unit * n[0], f[1] + unit * n[1], f[2] + unit * n[2]];
        vp.setCamera(cameraThrough({ focalPoint: f, position: v3(cam.position), viewPlaneNormal: n }, insideVolume(to, volume.plan)));
        vp.render();
        return true;
      }
      if (k.key === 'r' || k.key === 'R') {
        reset();
        return true;
      }
      return false;
    },
    destroy,
  };
}

export const mprLayout: VolumeLayoutDef = { id: 'mpr', label: 'MPR', title: 'Axial, sagittal and coronal planes of the volume (crosshairs, slabs)', mount: (ctx) => mountMpr(ctx) };
