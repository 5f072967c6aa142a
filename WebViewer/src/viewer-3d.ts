// The "3D four-up" layout (issue 11): the MPR layout's three planes (viewer-mpr.ts mountMpr) plus a VOLUME_3D
// view of the same volume (volume rendering) in a 2×2 grid, mounted by the volume switch (viewer-volume-layout.ts).
// 3D view: presets per modality (viewer-3d-model.ts: CT bone, soft tissue, lung, angio, MIP; MR default, MIP,
// angio), rotate (trackball, left button), zoom (right button), pan (middle button), reset, a shading toggle.
// Leaving destroys the 3D viewport (its GPU textures) and its tool group, then the planes; the switch frees the
// volume after.
// While the volume is read: with a GPU the 3D view is drawn from the first slice on and redrawn now and then
// (viewer-volume.ts); under software WebGL (viewer-stack-rendering.ts softwareWebGL) each ray cast takes
// seconds of CPU, which the slices' reading and texture uploads then wait for (the four-up was ready 18.9 s
// after the click against 5.9 s for MPR), and a partial volume's rendering shows a slab that is not the
// anatomy: there the volume is hidden (its actor not visible: the view draws its background only) and a line
// says the view is drawn once all slices are read; the switch calls filled() when they are.
// Shading: on at the start with a GPU; under software WebGL off at the start (viewer-3d-model.ts initialShading:
// a shaded ray cast there takes several times longer, and every rotation step waits for one), the toggle's title
// says so and turns it on.
// Hooks for tests, on the 3D viewport element: data-rr-3d-viewport, data-rr-renders (renders so far),
// data-rr-3d-preset (the cornerstone preset shown), data-rr-3d-shade ("on" | "off"), data-rr-3d-sample-multiplier (cornerstone's
// sample distance multiplier, viewer-3d-model.ts sampleDistanceMultiplier), data-rr-3d-held (present while the
// volume is hidden until it is complete); the preset select carries
// data-rr-3d-preset-select, the buttons data-rr-3d-tool (reset | shade).

import { CONSTANTS, Enums, setVolumesForViewports, type RenderingEngine, type Types } from '@cornerstonejs/core';
import { addTool, Enums as ToolEnums, PanTool, ToolGroupManager, TrackballRotateTool, ZoomTool } from '@cornerstonejs/tools';
import { h } from './dom';
import {
  anteriorCamera,
  defaultPreset,
  gradientOpacityMatters,
  initialShading,
  presetById,
  presetsFor,
  sampleDistanceMultiplier,
  type RenderPreset,
} from './viewer-3d-model';
import { mountMpr } from './viewer-mpr';
import { softwareWebGL } from './viewer-stack-rendering';
import { volumeMeasure } from './viewer-volume';
import type { VolumeLayoutContext, VolumeLayoutDef, VolumeLayoutView } from './viewer-volume-layout';

let toolsAdded = false;
function addTools(): void {
  if (toolsAdded) return;
  for (const t of [TrackballRotateTool, PanTool, ZoomTool]) {
    try {
      addTool(t);
    } catch {
      /* added by another module */
    }
  }
  toolsAdded = true;
}

interface VolumePropertyLike {
  setShade(on: boolean): void;
  getShade(): boolean;
  setUseGradientOpacity?(component: number, on: boolean): void;
}

/** The volume actor's property (shading), null before the volume is set. */
function volumeProperty(vp: Types.IVolumeViewport): VolumePropertyLike | null {
  const actor = vp.getActors()[0]?.actor as unknown as { getProperty?: () => VolumePropertyLike } | undefined;
  return actor?.getProperty?.() ?? null;
}

/** Sets the 3D viewport's sample distance (cornerstone's multiplier of half the mean spacing) without rendering. */
function setSampleMultiplier(vp: Types.IVolumeViewport, multiplier: number): void {
  for (const entry of vp.getActors()) {
    const mapper = (entry.actor as unknown as { getMapper?: () => unknown }).getMapper?.() as
      | { getInputData?: () => { getSpacing(): number[] } | null; setSampleDistance?: (d: number) => void }
      | undefined;
    const data = mapper?.getInputData?.();
    if (!data || !mapper?.setSampleDistance) continue;
    const [sx = 1, sy = 1, sz = 1] = data.getSpacing();
    mapper.setSampleDistance(((sx + sy + sz) / 6) * multiplier);
  }
}

/** The volume actor's visibility (the volume is hidden while held), nothing before the volume is set. */
function setVolumeVisible(vp: Types.IVolumeViewport, visible: boolean): void {
  const actor = vp.getActors()[0]?.actor as unknown as { setVisibility?: (v: boolean) => void } | undefined;
  actor?.setVisibility?.(visible);
}

interface View3d {
  cell: HTMLElement;
  viewportId: string;
  /** After the cell is in the document: the viewport, its volume, preset and tools. */
  start(engine: RenderingEngine, volumeId: string): Promise<void>;
  /** The volume is complete: a held view is drawn. */
  filled(): void;
  destroy(): void;
}

// One function for the 3D cell: its closures share the viewport, the tool group and the listeners.
function create3d(ctx: VolumeLayoutContext): View3d {
  const viewportId = `${ctx.idPrefix}-3d`;
  const toolGroupId = `${ctx.idPrefix}-3d-tools`;
  const modality = ctx.from.series.modality;
  let preset: RenderPreset = defaultPreset(modality);
  const software = softwareWebGL();
  let shade = initialShading(software);
  let renders = 0;
  let engine: RenderingEngine | null = null;
  /** Hidden until the volume is complete (software WebGL, see the header). */
  let held = software;
  /** The camera at the start (reset goes back to it: resetCamera keeps a trackball rotation). */
  let startCamera: Types.ICamera | null = null;
  const element = h('div', { class: 'viewer-viewport viewer-3d-viewport', attrs: { 'data-rr-3d-viewport': '', tabindex: '0', 'aria-label': '3D volume rendering' } });
  const select = h(
    'select',
    { class: 'viewer-3d-preset', attrs: { 'data-rr-3d-preset-select': '', 'aria-label': '3D preset' } },
    ...presetsFor(modality).map((p) => h('option', { text: p.label, attrs: { value: p.id } })),
  );
  select.value = preset.id;
  const tool = (label: string, title: string, id: string): HTMLButtonElement =>
    h('button', { class: 'viewer-tool', text: label, attrs: { type: 'button', title, 'data-rr-3d-tool': id } });
  const resetButton = tool('Reset 3D', 'Rotation, zoom and pan of the 3D view back to the start', 'reset');
  const shadeButton = tool(
    'Shading',
    software
      ? 'Shading (lighting) of the volume rendering on or off: off at the start in this browser (software WebGL, no GPU), where a shaded rendering takes several times longer'
      : 'Shading (lighting) of the volume rendering on or off',
    'shade',
  );
  const bar = h('div', { class: 'viewer-3d-tools' }, select, shadeButton, resetButton);
  const wait = h('div', { class: 'viewer-3d-wait', attrs: { role: 'status' }, text: '3D view: drawn once all slices are read (software WebGL: no GPU in this browser)' });
  wait.hidden = !held;
  if (held) element.setAttribute('data-rr-3d-held', '');
  const cell = h('div', { class: 'viewer-stage viewer-mpr-cell viewer-3d-cell', attrs: { 'data-rr-mpr-cell': '3d' } }, element, wait, bar);

  const viewport = (): Types.IVolumeViewport | null => {
    try {
      return (engine?.getViewport(viewportId) as Types.IVolumeViewport | undefined) ?? null;
    } catch {
      return null;
    }
  };
  const show = (): void => {
    element.setAttribute('data-rr-3d-preset', preset.preset);
    element.setAttribute('data-rr-3d-shade', shade ? 'on' : 'off');
    shadeButton.setAttribute('aria-pressed', String(shade));
  };
  const applyPreset = (): void => {
    const vp = viewport();
    if (!vp) return;
    vp.setProperties({ preset: preset.preset });
    const property = volumeProperty(vp);
    property?.setShade(shade); // a preset sets its own shading: the toggle wins
    // a constant gradient opacity only costs (the gradient at every sample): off unless it shapes the preset
    const named = (CONSTANTS.VIEWPORT_PRESETS as Array<{ name: string; gradientOpacity?: string }>).find((p) => p.name === preset.preset);
    if (!gradientOpacityMatters(named?.gradientOpacity)) property?.setUseGradientOpacity?.(0, false);
    show();
    vp.render();
  };
  const onRendered = (): void => {
    if (renders === 0) volumeMeasure('3d-first-render');
    renders++;
    element.setAttribute('data-rr-renders', String(renders));
  };
  const onPreset = (): void => {
    preset = presetById(modality, select.value);
    applyPreset();
  };
  const onShade = (): void => {
    shade = !shade;
    const vp = viewport();
    if (vp) {
      volumeProperty(vp)?.setShade(shade);
      vp.render();
    }
    show();
  };
  const onReset = (): void => {
    const vp = viewport();
    if (!vp) return;
    if (startCamera) vp.setCamera({ ...startCamera });
    else vp.resetCamera();
    vp.render();
  };
  // about SAMPLES_PER_RAY samples a ray (viewer-3d-model.ts): cornerstone's default is slow on software WebGL
  const samples = sampleDistanceMultiplier(ctx.volume.plan.dimensions, ctx.volume.plan.spacing);
  element.addEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
  select.addEventListener('change', onPreset);
  shadeButton.addEventListener('click', onShade);
  resetButton.addEventListener('click', onReset);

  return {
    cell,
    viewportId,
    start: async (e, volumeId) => {
      engine = e;
      addTools();
      e.enableElement({ viewportId, type: Enums.ViewportType.VOLUME_3D, element, defaultOptions: { background: [0, 0, 0] as Types.Point3 } });
      volumeMeasure('3d-enabled');
      await setVolumesForViewports(e, [{ volumeId }], [viewportId]);
      volumeMeasure('3d-set');
      const tools = ToolGroupManager.createToolGroup(toolGroupId);
      if (tools) {
        for (const t of [TrackballRotateTool, PanTool, ZoomTool]) tools.addTool(t.toolName);
        tools.addViewport(viewportId, e.id);
        const { MouseBindings } = ToolEnums;
        tools.setToolActive(TrackballRotateTool.toolName, { bindings: [{ mouseButton: MouseBindings.Primary }] });
        tools.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
        tools.setToolActive(ZoomTool.toolName, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
      }
      const first = viewport();
      if (first) setSampleMultiplier(first, samples);
      element.setAttribute('data-rr-3d-sample-multiplier', String(samples));
      applyPreset();
      const vp = viewport();
      if (vp) {
        vp.resetCamera();
        const cam = vp.getCamera();
        if (cam.focalPoint && cam.position) {
          const distance = Math.hypot(...cam.position.map((p, i) => p - cam.focalPoint![i]!));
          vp.setCamera(anteriorCamera(cam.focalPoint, distance)); // the anterior view, then fitted again
          vp.resetCamera();
        }
      }
      startCamera = vp ? { ...vp.getCamera() } : null;
      // hidden after the camera is fitted (a hidden actor has no bounds to fit)
      if (vp && held) setVolumeVisible(vp, false);
      e.renderViewports([viewportId]);
    },
    filled: () => {
      if (!held) return;
      held = false;
      wait.hidden = true;
      element.removeAttribute('data-rr-3d-held');
      const vp = viewport();
      if (!vp) return;
      setVolumeVisible(vp, true);
      vp.render();
    },
    destroy: () => {
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, onRendered);
      select.removeEventListener('change', onPreset);
      shadeButton.removeEventListener('click', onShade);
      resetButton.removeEventListener('click', onReset);
      try {
        ToolGroupManager.destroyToolGroup(toolGroupId);
      } catch {
        /* already gone */
      }
      try {
        engine?.disableElement(viewportId); // the viewport and its GPU textures
      } catch {
        /* already gone */
      }
    },
  };
}

async function mountFourUp(ctx: VolumeLayoutContext): Promise<VolumeLayoutView> {
  const view3d = create3d(ctx);
  let planes: Awaited<ReturnType<typeof mountMpr>>;
  try {
    // the 3D viewport is enabled before the planes' first resize (MprExtra.ready): enabling it resizes the
    // engine, which otherwise left the axial plane of an axial CT flat grey (seen in make test)
    planes = await mountMpr(ctx, {
      cells: [view3d.cell],
      gridClass: 'viewer-3d-four',
      ready: () => view3d.start(ctx.engine, ctx.volume.volumeId),
      segViewports3d: [view3d.viewportId],
    });
  } catch (err) {
    view3d.destroy();
    throw err;
  }
  return {
    state: () => planes.state(),
    key: (k) => planes.key(k),
    filled: () => view3d.filled(),
    destroy: () => {
      view3d.destroy();
      planes.destroy();
    },
  };
}

export const threeDLayout: VolumeLayoutDef = {
  id: '3d',
  label: '3D',
  title: '3D four-up: axial, sagittal and coronal planes with a volume rendering (presets, rotate, zoom, pan, shading)',
  mount: mountFourUp,
};
