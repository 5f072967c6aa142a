// The 2D stack viewports' pipeline (viewer-stack-rendering.ts): the CPU one where WebGL is software, WebGL
// with a real GPU or without WebGL, the localStorage override first. The browser side (the attribute
// data-rr-rendering, and both pipelines drawing alike) is checked in Tests/browser/viewer.test.mjs and
// viewer-webgl.test.mjs.
import { describe, expect, it } from 'vitest';
import { AUTO_CPU_ON_SOFTWARE, chooseStackRendering, isSoftwareRenderer } from '../src/viewer-stack-rendering';

// renderer strings as browsers report them (UNMASKED_RENDERER_WEBGL)
const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const LLVMPIPE = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const WARP = 'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)';
const GPUS = [
  'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002503) Direct3D11 vs_5_0 ps_5_0, D3D11)',
  'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
  'Apple M1',
  'AMD Radeon Pro 5500M OpenGL Engine',
];

describe('stack rendering pipeline', () => {
  it('recognises software rasterizers', () => {
    for (const r of [SWIFTSHADER, LLVMPIPE, WARP, 'Google SwiftShader']) expect(isSoftwareRenderer(r), r).toBe(true);
  });

  it('does not take a real GPU for software', () => {
    for (const r of GPUS) expect(isSoftwareRenderer(r), r).toBe(false);
    expect(isSoftwareRenderer(null)).toBe(false);
    expect(isSoftwareRenderer('')).toBe(false);
  });

  it('chooses by itself (the CPU pipeline behaves as the WebGL one, viewer-stack-view.ts)', () => {
    expect(AUTO_CPU_ON_SOFTWARE).toBe(true);
    expect(chooseStackRendering(SWIFTSHADER, null)).toBe('cpu');
    for (const r of [...GPUS, null]) expect(chooseStackRendering(r, null)).toBe('gpu');
  });

  it('without the automatic choice, WebGL everywhere', () => {
    for (const r of [SWIFTSHADER, LLVMPIPE, ...GPUS, null]) expect(chooseStackRendering(r, null, false)).toBe('gpu');
  });

  it('the automatic choice takes the CPU pipeline only with software WebGL', () => {
    expect(chooseStackRendering(SWIFTSHADER, null, true)).toBe('cpu');
    expect(chooseStackRendering(LLVMPIPE, undefined, true)).toBe('cpu');
    for (const r of GPUS) expect(chooseStackRendering(r, null, true)).toBe('gpu');
    // no WebGL at all: left to cornerstone (which falls back to CPU itself)
    expect(chooseStackRendering(null, null, true)).toBe('gpu');
  });

  it('follows a valid override and ignores others', () => {
    expect(chooseStackRendering(SWIFTSHADER, 'gpu', true)).toBe('gpu');
    expect(chooseStackRendering(SWIFTSHADER, 'cpu')).toBe('cpu');
    expect(chooseStackRendering(GPUS[0], 'cpu')).toBe('cpu');
    expect(chooseStackRendering(SWIFTSHADER, 'fast', true)).toBe('cpu');
    expect(chooseStackRendering(SWIFTSHADER, 'fast', false)).toBe('gpu');
    expect(chooseStackRendering(GPUS[0], '')).toBe('gpu');
  });
});
