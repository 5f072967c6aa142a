// Pure logic of the 3D view (viewer-3d.ts): the volume-rendering presets offered per modality (names of
// cornerstone's CONSTANTS.VIEWPORT_PRESETS, checked by the Vitest test against cornerstone 5.14) and the
// first one shown. No DOM, no cornerstone import.

export interface RenderPreset {
  /** The value of the preset select (stable, used by tests: data-rr-3d-preset). */
  id: string;
  label: string;
  /** The cornerstone preset name (CONSTANTS.VIEWPORT_PRESETS[].name). */
  preset: string;
}

export const CT_PRESETS: readonly RenderPreset[] = [
  { id: 'ct-bone', label: 'CT bone', preset: 'CT-Bone' },
  { id: 'ct-soft-tissue', label: 'CT soft tissue', preset: 'CT-Soft-Tissue' },
  { id: 'ct-lung', label: 'CT lung', preset: 'CT-Lung' },
  { id: 'ct-angio', label: 'CT angio', preset: 'CT-Chest-Vessels' },
  { id: 'ct-mip', label: 'CT MIP', preset: 'CT-MIP' },
];

export const MR_PRESETS: readonly RenderPreset[] = [
  { id: 'mr-default', label: 'MR default', preset: 'MR-Default' },
  { id: 'mr-mip', label: 'MR MIP', preset: 'MR-MIP' },
  { id: 'mr-angio', label: 'MR angio', preset: 'MR-Angio' },
];

/** The presets for a series' modality: CT's for CT (and PT/other), MR's first for MR; both lists always offered. */
export function presetsFor(modality: string | undefined): RenderPreset[] {
  const m = (modality ?? '').trim().toUpperCase();
  return m === 'MR' ? [...MR_PRESETS, ...CT_PRESETS] : [...CT_PRESETS, ...MR_PRESETS];
}

/** The preset shown first: MR default for MR, CT bone otherwise. */
export function defaultPreset(modality: string | undefined): RenderPreset {
  return presetsFor(modality)[0]!;
}

/** A preset by its id among those for the modality; the default when unknown. */
export function presetById(modality: string | undefined, id: string): RenderPreset {
  return presetsFor(modality).find((p) => p.id === id) ?? defaultPreset(modality);
}
