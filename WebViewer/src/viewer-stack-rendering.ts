// Which pipeline the 2D stack viewports draw with (issue 10): cornerstone3D's WebGL one (vtk.js) or its
// CPU one (canvas 2D, cornerstone's "CPU fallback"). With a real GPU, WebGL is faster and is always used.
// When WebGL itself runs on the CPU (SwiftShader, llvmpipe: no GPU, remote desktops, VMs, headless
// browsers), the CPU pipeline is chosen: it draws more frames while scrolling and shows the first image
// sooner (bench/README.md, "Viewer"), because cornerstone's WebGL pipeline renders each frame off screen and
// copies it to the viewport's canvas, which under software WebGL costs more than drawing it on the CPU.
// cornerstone 5.14's CPU pipeline differs from its WebGL one in zoom units, flips after rotation, reset,
// the window from image to image, SIGMOID windows and calls before the first image; viewer-stack-view.ts
// evens these out (adaptCpuStackViewport, applied here to every stack viewport of the engine), and
// Tests/browser/viewer.test.mjs runs with the page's choice and again with WebGL forced
// (viewer-webgl.test.mjs). MPR and 3D (volume viewports) are never affected: they exist only in WebGL, and
// are constructed with cornerstone's global CPU switch off (applyStackRendering).
//
// Contract: stackRendering() decides once per page (memoised): the override in localStorage
// (STACK_RENDERING_KEY = "cpu" or "gpu", for comparisons: bench/viewer.mjs VIEWER_CPU) if set, else
// chooseStackRendering's automatic choice. createRenderingEngine(id), viewer.ts's one engine, puts that choice
// into effect (cornerstone's switch is global: see applyStackRendering). The viewport element says which
// pipeline it got in data-rr-rendering. softwareWebGL() says whether WebGL runs on the CPU (the same probe,
// once per page). Pure helpers (isSoftwareRenderer, chooseStackRendering) carry the
// logic and are unit-tested.

import { Enums, getConfiguration, getShouldUseCPURendering, RenderingEngine, setUseCPURendering, type Types } from '@cornerstonejs/core';
import { adaptCpuStackViewport } from './viewer-stack-view';

export type StackRendering = 'cpu' | 'gpu';

/** localStorage key overriding the choice ("cpu" or "gpu"); anything else is ignored. */
export const STACK_RENDERING_KEY = 'rr.stackRendering';

const SOFTWARE = /swiftshader|llvmpipe|softpipe|software ?rasterizer|software renderer|microsoft basic render/i;

/** True when a WebGL renderer string (UNMASKED_RENDERER_WEBGL or RENDERER) names a software rasterizer. */
export function isSoftwareRenderer(renderer: string | null | undefined): boolean {
  return typeof renderer === 'string' && SOFTWARE.test(renderer);
}

/** Whether software WebGL selects the CPU pipeline by itself (see the header). */
export const AUTO_CPU_ON_SOFTWARE = true;

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
let renderer: string | null | undefined;

/** webglRenderer(), probed once per page. */
function pageRenderer(): string | null {
  if (renderer === undefined) renderer = webglRenderer();
  return renderer;
}

/** The pipeline of this page's stack viewports (decided on the first call). */
export function stackRendering(): StackRendering {
  // the WebGL probe (a context created and lost) only when its answer is used
  decided ??= chooseStackRendering(AUTO_CPU_ON_SOFTWARE ? pageRenderer() : null, storedOverride());
  return decided;
}

/**
 * Whether this page's WebGL runs on the CPU (isSoftwareRenderer of its renderer string; probed once). The 3D
 * view (viewer-3d.ts) then waits for the whole volume instead of ray casting each partial one.
 */
export function softwareWebGL(): boolean {
  return isSoftwareRenderer(pageRenderer());
}

const patched = new WeakSet<RenderingEngine>();

/**
 * new RenderingEngine(id) with applyStackRendering applied. With "gpu" the engine is constructed with the CPU
 * setting off: it creates its pool of WebGL contexts at once (cornerstone's default, seven). With "cpu" it is
 * constructed with the setting on, so that the pool waits for the first volume viewport (MPR, 3D): the 2D
 * viewports need no WebGL context, and under software WebGL each one costs 0.1–0.6 s of the page's main
 * thread before the first image (cornerstone's ContextPool engine creates the pool on demand in
 * enableVTKjsDrivenViewport); and the pool has one context (cornerstone's webGlContextCount, a page-wide
 * setting read when the pool is made), the only one volume viewports use.
 */
export function createRenderingEngine(id: string): RenderingEngine {
  if (stackRendering() === 'cpu') {
    setUseCPURendering(true, false);
    // cornerstone puts every volume viewport into the pool's first context (stack viewports are spread over
    // the pool, but these draw on the CPU): the other six would only cost their creation
    const rendering = getConfiguration().rendering;
    if (rendering) rendering.webGlContextCount = 1;
  }
  const engine = new RenderingEngine(id);
  applyStackRendering(engine);
  return engine;
}

/** What applyStackRendering patches: cornerstone's engine implementation (or the engine itself). */
interface ViewportEnabler {
  enableElement(input: Types.PublicViewportInput): void;
  getViewport(id: string): unknown;
}

/**
 * Applies stackRendering() to a new rendering engine (call once, right after constructing it). With "gpu"
 * nothing changes. With "cpu": cornerstone decides the pipeline of stack viewports from its global setting,
 * both when one is constructed and on every render (StackViewport.useCustomRenderingPipeline reads it), so
 * the setting is turned on for the page (without touching existing viewports). The engine's enableElement
 * is wrapped: every other viewport type (MPR, 3D: WebGL only, cornerstone refuses to construct them while the
 * setting is on) is constructed with it off, and they render through WebGL whatever the setting; every stack
 * viewport is adapted to behave as a WebGL one (viewer-stack-view.ts, adaptCpuStackViewport). The wrapper is
 * put on cornerstone 5.14's engine implementation (`_implementation`, what its tools get from
 * getEnabledElement: the magnifying glass enables its own stack viewport through it), else on the engine.
 * createRenderingEngine constructs the engine (its WebGL context pool then waits for the first volume viewport).
 */
export function applyStackRendering(engine: RenderingEngine): StackRendering {
  const mode = stackRendering();
  if (mode === 'gpu' || patched.has(engine)) return mode;
  patched.add(engine);
  const target = ((engine as unknown as { _implementation?: ViewportEnabler })._implementation ?? engine) as ViewportEnabler;
  const enable = target.enableElement.bind(target);
  target.enableElement = (input: Types.PublicViewportInput): void => {
    if (input.type === Enums.ViewportType.STACK) {
      enable(input);
      const vp = target.getViewport(input.viewportId);
      if (vp) adaptCpuStackViewport(vp as Types.IStackViewport);
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
