// Which pipeline the 2D stack viewports draw with (issue 10): cornerstone3D's WebGL one (vtk.js) or its
// CPU one (canvas 2D, cornerstone's "CPU fallback"). With a real GPU, WebGL is faster and is always used.
// When WebGL itself runs on the CPU (SwiftShader, llvmpipe: no GPU, remote desktops, VMs, headless
// browsers), the CPU pipeline draws more frames while scrolling (bench/README.md, "Viewer": 24.6 against
// 18.1 renders/s, next image p95 50 against 84 ms, same run) but cornerstone 5.14's CPU pipeline does not
// behave like its WebGL one in this viewer: the user's window is not kept from image to image, the zoom is
// reported against the image's pixels rather than the fitted view (so the overlay and the scale bar change
// meaning), orientation markers after rotation and flips and the reset view differ
// (Tests/browser/viewer.test.mjs fails four of its checks with it). Until those are handled, the automatic
// choice is off (AUTO_CPU_ON_SOFTWARE): WebGL everywhere, the CPU pipeline only through the override.
// MPR and 3D (volume viewports) are never affected: they exist only in WebGL, and are constructed with
// cornerstone's global CPU switch off (applyStackRendering).
//
// Contract: stackRendering() decides once per page (memoised): the override in localStorage
// (STACK_RENDERING_KEY = "cpu" or "gpu", for comparisons: bench/viewer.mjs VIEWER_CPU) if set, else
// chooseStackRendering's automatic choice. createRenderingEngine(id), viewer.ts's one engine, puts that choice
// into effect (cornerstone's switch is global: see applyStackRendering). The viewport element says which
// pipeline it got in data-rr-rendering. Pure helpers (isSoftwareRenderer, chooseStackRendering) carry the
// logic and are unit-tested.

import { Enums, getShouldUseCPURendering, RenderingEngine, setUseCPURendering, type Types } from '@cornerstonejs/core';

export type StackRendering = 'cpu' | 'gpu';

/** localStorage key overriding the choice ("cpu" or "gpu"); anything else is ignored. */
export const STACK_RENDERING_KEY = 'rr.stackRendering';

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software ?rasterizer|software renderer|microsoft basic render/i;

/** True when a WebGL renderer string (UNMASKED_RENDERER_WEBGL or RENDERER) names a software rasterizer. */
export function isSoftwareRenderer(renderer: string | null | undefined): boolean {
  return typeof renderer === 'string' && SOFTWARE.test(renderer);
}

/** Whether software WebGL selects the CPU pipeline by itself: off, see the header (the differences it has). */
export const AUTO_CPU_ON_SOFTWARE = false;

/**
 * The pipeline for a renderer string and an optional override. The automatic choice (`auto`) is "cpu" only
 * for a software rasterizer; no renderer known (no WebGL) → "gpu" (cornerstone falls back itself).
 */
export function chooseStackRendering(
  renderer: string | null | undefined,
  override: string | null | undefined,
  auto = AUTO_CPU_ON_SOFTWARE,
): StackRendering {
  if (override === 'cpu' || override === 'gpu') return override;
  return auto && isSoftwareRenderer(renderer) ? 'cpu' : 'gpu';
}

/** The page's WebGL renderer string, or null without WebGL. The probe context is released at once. */
export function webglRenderer(): string | null {
  if (typeof document === 'undefined') return null;
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

function storedOverride(): string | null {
  try {
    return globalThis.localStorage?.getItem(STACK_RENDERING_KEY) ?? null;
  } catch {
    return null;
  }
}

let decided: StackRendering | null = null;

/** The pipeline of this page's stack viewports (decided on the first call). */
export function stackRendering(): StackRendering {
  // the WebGL probe (a context created and lost) only when its answer is used
  decided ??= chooseStackRendering(AUTO_CPU_ON_SOFTWARE ? webglRenderer() : null, storedOverride());
  return decided;
}

const patched = new WeakSet<RenderingEngine>();
/** Whether applyStackRendering turned cornerstone's CPU setting on (not cornerstone itself, for lack of WebGL). */
let turnedOn = false;

/** new RenderingEngine(id) with applyStackRendering applied; constructed with the CPU setting off if this module set it. */
export function createRenderingEngine(id: string): RenderingEngine {
  if (turnedOn) setUseCPURendering(false, false);
  let engine: RenderingEngine;
  try {
    engine = new RenderingEngine(id);
  } finally {
    if (turnedOn) setUseCPURendering(true, false);
  }
  applyStackRendering(engine);
  return engine;
}

/**
 * Applies stackRendering() to a new rendering engine (call once, right after constructing it). With "gpu"
 * nothing changes. With "cpu": cornerstone decides the pipeline of stack viewports from its global setting,
 * both when one is constructed and on every render (StackViewport.useCustomRenderingPipeline reads it), so
 * the setting is turned on for the page (without touching existing viewports); this engine's enableElement
 * is wrapped so that every other viewport type (MPR, 3D: WebGL only, cornerstone refuses to construct them
 * while the setting is on) is constructed with it off; they render through WebGL whatever the setting.
 * The engine must have been constructed with the setting off (it then owns its WebGL context pool).
 */
export function applyStackRendering(engine: RenderingEngine): StackRendering {
  const mode = stackRendering();
  if (mode === 'gpu' || patched.has(engine)) return mode;
  patched.add(engine);
  turnedOn = true;
  const enable = engine.enableElement.bind(engine);
  engine.enableElement = (input: Types.PublicViewportInput): void => {
    if (input.type === Enums.ViewportType.STACK) {
      enable(input);
      return;
    }
    setUseCPURendering(false, false);
    try {
      enable(input);
    } finally {
      setUseCPURendering(true, false);
    }
  };
  setUseCPURendering(true, false);
  return mode;
}

/** The pipeline stack viewports draw with now (cornerstone's global setting, see applyStackRendering). */
export function stackPipeline(): StackRendering {
  return getShouldUseCPURendering() ? 'cpu' : 'gpu';
}
