import { describe, expect, it } from 'vitest';
import { CONSTANTS } from '@cornerstonejs/core';
import { CT_PRESETS, defaultPreset, MR_PRESETS, presetById, presetsFor } from '../src/viewer-3d-model';

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
