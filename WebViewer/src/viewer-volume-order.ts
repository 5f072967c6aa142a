// Progressive volume filling (issue 11): which slice of a volume is read when, and which voxel type the volume
// takes before all its slices are read. Pure functions (no DOM, no cornerstone): viewer-volume.ts uses them.
//
// fillOrder(total, start, cached): every slice index once — the cached ones first (ordered from `start`
//   outwards), then the others from `start` outwards (start, start+1, start-1, start+2, …).
// sliceIndexAt(info, point): the plugin slice index nearest a patient point along the volume normal; null
//   without geometry or a point.
// voxelType(known): 'int16' when every value known so far is a whole number within int16, else 'float32'.
// uploadReadSlices(texture, read): cornerstone's volume texture uploads, when created, only the slices marked in
//   `read` (the others when they are read); see the function.
// linearTextureFilters(texture): the texture's filters set as the volume views draw it, before its first drawing,
//   so that the drawing does not mark (and upload) the whole volume a second time; see the function.

import type { Vec3, VolumeInfo } from './viewer-volume-model';
import { fitsInt16 } from './viewer-volume-model';

/** Indices 0…total-1 from `start` outwards (the later side first on a tie). */
function outwards(total: number, start: number): number[] {
  const s = Math.min(total - 1, Math.max(0, Math.round(start)));
  const out: number[] = [];
  if (total <= 0) return out;
  out.push(s);
  for (let d = 1; out.length < total; d++) {
    if (s + d < total) out.push(s + d);
    if (s - d >= 0) out.push(s - d);
  }
  return out;
}

/** The order slices are read in: cached ones first, then the rest, each part from `start` outwards. */
export function fillOrder(total: number, start: number, cached: (k: number) => boolean): number[] {
  const all = outwards(total, start);
  return [...all.filter((k) => cached(k)), ...all.filter((k) => !cached(k))];
}

/** The plugin slice index nearest `point` along the volume's normal (clamped), null when unknown. */
export function sliceIndexAt(info: Pick<VolumeInfo, 'geometry' | 'slices'>, point: Vec3 | null | undefined): number | null {
  const g = info.geometry;
  if (!g || !point || info.slices.length === 0 || !(g.spacing[2] > 0)) return null;
  const d = [point[0] - g.origin[0], point[1] - g.origin[1], point[2] - g.origin[2]];
  const along = d[0]! * g.normal[0] + d[1]! * g.normal[1] + d[2]! * g.normal[2];
  if (!Number.isFinite(along)) return null;
  return Math.min(info.slices.length - 1, Math.max(0, Math.round(along / g.spacing[2])));
}

/** The voxel type for values known so far: int16 only for whole numbers that fit it. */
export function voxelType(known: { integral: boolean; min: number; max: number }): 'int16' | 'float32' {
  return known.integral && fitsInt16(known.min, known.max) ? 'int16' : 'float32';
}

/**
 * cornerstone's volume texture (vtkStreamingOpenGLTexture) marks every slice for upload when it is created (the
 * volume's first drawing) or created again, and uploads each marked slice: at the first drawing of a volume being
 * filled that is the whole volume (under software WebGL 134 float32 slices, about 0.55 s of the page's thread and
 * as much of the GPU process's), although only the slices read so far hold data, and each of the others is uploaded
 * again once read. Its list of marks (getUpdatedFrames, the texture's own array: its object is frozen) gets one
 * accessor per slice here that keeps a slice marked only once `read[k]` is set: the others are uploaded when
 * viewer-volume.ts's fill() reads them (setUpdatedFrame after read[k] = 1). Until then the texture holds zeros
 * there (a new texture is zero-filled), not the neutral value of the volume's buffer: a plane shows value 0 where
 * its slices are not read yet. Nothing when the texture has no such list, or one already marked (another
 * cornerstone version, a texture already drawn: every slice is uploaded as before).
 */
export function uploadReadSlices(texture: unknown, read: Uint8Array): void {
  const tex = texture as { getUpdatedFrames?: () => unknown } | undefined;
  const marks = typeof tex?.getUpdatedFrames === 'function' ? tex.getUpdatedFrames() : null;
  if (!Array.isArray(marks) || marks.length > 0) return;
  const state: (boolean | null)[] = new Array<boolean | null>(read.length).fill(null);
  for (let k = 0; k < read.length; k++)
    Object.defineProperty(marks, k, {
      enumerable: true,
      configurable: true,
      get: () => state[k],
      set: (v: boolean | null) => {
        state[k] = v && !read[k] ? null : v;
      },
    });
}

/** vtk.js's Filter.LINEAR (Rendering/OpenGL/Texture/Constants). */
const VTK_FILTER_LINEAR = 1;

/**
 * vtk.js's volume mapper sets the scalar texture's minification and magnification filters (to LINEAR for the
 * linear interpolation the volume views use) on each drawing, after uploading the marked slices; on a texture
 * still at its default (NEAREST) that setter calls modified(), which cornerstone's volume texture turns into
 * "every slice marked": the next view's drawing uploads the whole volume again (134 float32 slices, 0.1–0.15 s of
 * texture upload under software WebGL at every volume's first drawing). Set before that drawing (after
 * uploadReadSlices, whose accessors then keep only the slices read marked), the setters change nothing later.
 * Nothing on a texture without these setters (another cornerstone or vtk.js version).
 */
export function linearTextureFilters(texture: unknown): void {
  const tex = texture as { setMinificationFilter?: (f: number) => unknown; setMagnificationFilter?: (f: number) => unknown } | undefined;
  if (typeof tex?.setMinificationFilter !== 'function' || typeof tex.setMagnificationFilter !== 'function') return;
  tex.setMinificationFilter(VTK_FILTER_LINEAR);
  tex.setMagnificationFilter(VTK_FILTER_LINEAR);
}
