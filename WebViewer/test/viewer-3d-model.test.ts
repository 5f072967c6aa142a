import { describe, expect, it } from 'vitest';
import { CONSTANTS } from '@cornerstonejs/core';
import { CT_PRESETS, defaultPreset, gradientOpacityMatters, MR_PRESETS, presetById, presetsFor, sampleDistanceMultiplier, SAMPLES_PER_RAY } from '../src/viewer-3d-model';

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
