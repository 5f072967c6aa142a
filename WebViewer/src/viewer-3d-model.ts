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

/**
 * Samples per ray the 3D view aims at (along the volume's diagonal). cornerstone's default sample distance (the
 * mean spacing / 2) gives ≈ 800 samples through a 512² × 134 CT: tens of seconds a frame with software WebGL;
 * ≈ 300 keeps bone and vessels smooth at about a third of the cost (found on branch wt-3d2).
 */
export const SAMPLES_PER_RAY = 300;

/**
 * cornerstone's sampleDistanceMultiplier for a volume (dimensions in voxels, spacing in mm): at least 1 (never
 * finer than cornerstone's default, the mean spacing / 2), else the diagonal over `samples`.
 */
export function sampleDistanceMultiplier(dimensions: readonly number[], spacing: readonly number[], samples = SAMPLES_PER_RAY): number {
  const [w = 0, h = 0, d = 0] = dimensions;
  const [sx = 0, sy = 0, sz = 0] = spacing;
  const base = (sx + sy + sz) / 6;
  const diagonal = Math.hypot(w * sx, h * sy, d * sz);
  if (!(base > 0) || !(diagonal > 0) || !(samples > 0)) return 1;
  return Math.max(1, Math.round((diagonal / samples / base) * 100) / 100);
}

/**
 * Whether the 3D view starts shaded (lit). With a GPU, yes. Under software WebGL a shaded ray cast costs the
 * gradient at every sample (six more texture reads) and the lighting: 1.7 s a frame against 0.2–0.3 s unshaded
 * for the 134-slice CT in the four-up's 405×232 view on a 2-core machine, and a page composited in software (as
 * Chrome without a GPU) waits for it; so the view starts unshaded there and the toggle turns shading on.
 */
export function initialShading(softwareWebGL: boolean): boolean {
  return !softwareWebGL;
}

/** Whether a preset's gradient opacity shapes anything ("n v o …" with some opacity other than 1): else it only costs. */
export function gradientOpacityMatters(gradientOpacity: string | undefined): boolean {
  if (!gradientOpacity) return false;
  const v = gradientOpacity.trim().split(/\s+/).slice(1).map(Number);
  for (let i = 1; i < v.length; i += 2) if (v[i] !== 1) return true;
  return false;
}

type Vec3 = [number, number, number];

/**
 * The camera of the 3D view's start: the anterior view a radiologist expects (the patient facing the viewer,
 * head up, the patient's right on the viewer's left, as in the coronal plane), looking at `focalPoint` from
 * `distance` mm in front of the patient. Patient coordinates (LPS): anterior is −y, superior +z; the view-plane
 * normal points from the focal point to the camera (cornerstone's coronal camera has the same normal and up).
 */
export function anteriorCamera(focalPoint: readonly number[], distance: number): { focalPoint: Vec3; position: Vec3; viewPlaneNormal: Vec3; viewUp: Vec3 } {
  const [x = 0, y = 0, z = 0] = focalPoint;
  const d = distance > 0 && Number.isFinite(distance) ? distance : 1;
  return { focalPoint: [x, y, z], position: [x, y - d, z], viewPlaneNormal: [0, -1, 0], viewUp: [0, 0, 1] };
}
