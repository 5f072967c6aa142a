import { describe, expect, it } from 'vitest';
import { CONSTANTS } from '@cornerstonejs/core';
import { anteriorCamera, CT_PRESETS, defaultPreset, gradientOpacityMatters, initialShading, MR_PRESETS, presetById, presetsFor, sampleDistanceMultiplier, SAMPLES_PER_RAY } from '../src/viewer-3d-model';

describe('3D presets', () => {
  it('names only presets cornerstone has', () => {
    const names = new Set(CONSTANTS.VIEWPORT_PRESETS.map((p: { name: string }) => p.name));
    for (const p of [...CT_PRESETS, ...MR_PRESETS]) expect(names.has(p.preset), p.preset).toBe(true);
  });
  it('offers the issue presets', () => {
    expect(CT_PRESETS.map((p) => p.label)).toEqual(['CT bone', 'CT soft tissue', 'CT lung', 'CT angio', 'CT MIP']);
    expect(MR_PRESETS.map((p) => p.label)).toEqual(['MR default', 'MR MIP', 'MR angio']);
  });
  it('starts with the modality default', () => {
    expect(defaultPreset('CT').preset).toBe('CT-Bone');
    expect(defaultPreset(' mr ').preset).toBe('MR-Default');
    expect(defaultPreset(undefined).preset).toBe('CT-Bone');
    expect(presetsFor('MR')).toHaveLength(8);
    expect(new Set(presetsFor('CT').map((p) => p.id)).size).toBe(8);
  });
  it('finds by id, falls back to the default', () => {
    expect(presetById('CT', 'ct-lung').preset).toBe('CT-Lung');
    expect(presetById('MR', 'nope').preset).toBe('MR-Default');
  });
});

describe('3D sample distance', () => {
  it('aims at about 300 samples through the 134-slice CT instead of cornerstone\'s ~800', () => {
    const dims = [512, 512, 134];
    const spacing = [0.7, 0.7, 2.5];
    const m = sampleDistanceMultiplier(dims, spacing);
    const base = (0.7 + 0.7 + 2.5) / 6;
    const diagonal = Math.hypot(512 * 0.7, 512 * 0.7, 134 * 2.5);
    expect(diagonal / base).toBeGreaterThan(750); // cornerstone's default
    expect(Math.abs(diagonal / (base * m) - SAMPLES_PER_RAY)).toBeLessThan(5);
  });
  it('never samples finer than cornerstone\'s default, and is 1 for nonsense', () => {
    expect(sampleDistanceMultiplier([16, 16, 4], [1, 1, 1])).toBe(1);
    expect(sampleDistanceMultiplier([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(sampleDistanceMultiplier([512, 512, 100], [0, 0, 0])).toBe(1);
  });
  it('keeps a gradient opacity only where it shapes the preset', () => {
    const byName = new Map(CONSTANTS.VIEWPORT_PRESETS.map((p: { name: string; gradientOpacity: string }) => [p.name, p.gradientOpacity]));
    expect(gradientOpacityMatters(byName.get('CT-Bone'))).toBe(false);
    expect(gradientOpacityMatters('4 0 1 255 1')).toBe(false);
    expect(gradientOpacityMatters('4 0 0 255 1')).toBe(true);
    expect(gradientOpacityMatters(undefined)).toBe(false);
  });
});

describe('anteriorCamera', () => {
  it('looks at the patient from the front (−y in LPS), head up, the patient\'s right on the viewer\'s left', () => {
    const c = anteriorCamera([10, 20, 30], 500);
    expect(c.focalPoint).toEqual([10, 20, 30]);
    expect(c.position).toEqual([10, -480, 30]);
    expect(c.viewPlaneNormal).toEqual([0, -1, 0]);
    expect(c.viewUp).toEqual([0, 0, 1]);
    // the screen's right is viewUp × normal (vtk): +x in LPS = the patient's left, so the right is on the viewer's left
    const [ux, uy, uz] = c.viewUp;
    const [nx, ny, nz] = c.viewPlaneNormal;
    expect([uy * nz - uz * ny, uz * nx - ux * nz, ux * ny - uy * nx].map((v) => v + 0)).toEqual([1, 0, 0]);
  });
  it('keeps a usable distance when the camera had none', () => {
    expect(anteriorCamera([0, 0, 0], 0).position).toEqual([0, -1, 0]);
    expect(anteriorCamera([0, 0, 0], Number.NaN).position).toEqual([0, -1, 0]);
  });
});

describe('3D shading at the start', () => {
  it('is on with a GPU and off under software WebGL', () => {
    expect(initialShading(false)).toBe(true);
    expect(initialShading(true)).toBe(false);
  });
});
