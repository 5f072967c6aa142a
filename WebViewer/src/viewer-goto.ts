// Viewer navigation: show one image of the study (SOP Instance UID and frame) in the active viewport. Other
// parts of the app call it through the mounted viewer (viewer.ts returns `showImage` from mountViewer; the
// study page hands it to the AI panel, whose thumbnails and findings name the images sent to the model).
//
// Contract (issue 10, /work/notes/issue10-contracts.md "Viewer navigation"):
//   showImage(sopInstanceUid, frame): Promise<boolean>
//   - frame is 1-based, like DICOM's frame numbers and the annotation wire format (1 for a single-frame
//     instance); 0 or anything below 1 is taken as 1, so a caller holding a 0-based frame of a single-frame
//     image (the AI analysis' "images") cannot miss it. The AI panel converts its 0-based frames (+1).
//   - The series holding the image is loaded into the active viewport when it does not show it already, then
//     the viewport scrolls to the image (data-rr-image-index becomes its index in the stack, display order).
//   - Resolves false, changing nothing, when the study has no such image (unknown SOP Instance UID, a frame
//     past the instance's frames, an instance that is not an image) or the viewer cannot show images (no
//     image series, cornerstone failed to start, destroyed). Never rejects.
// The lookup (locateImage) is pure; createShowImage() binds it to the viewer's state through callbacks, so
// viewer.ts only hands over what it has (active series, load, the active viewport).

import type { Series, StudyDetail } from './api';
import { stackImages } from './viewer-model';

/** Where an image is: its series and its index in that series' stack (display order, frames expanded). */
export interface ImageLocation {
  series: Series;
  index: number;
  orthancId: string;
  /** 0-based frame within the instance (the stack's and Orthanc's rendered-frame numbering). */
  frame0: number;
}

/** A 1-based frame number as the contract takes it (below 1 → 1; non-integers rounded down); NaN → null. */
export function frameNumber(frame: number): number | null {
  if (typeof frame !== 'number' || Number.isNaN(frame)) return null;
  if (frame === Infinity) return null;
  return Math.max(1, Math.floor(frame));
}

/**
 * Finds an image of the study by SOP Instance UID and 1-based frame; null when the study has none. The index is
 * the image's position in the stack the viewer builds for its series (viewer-model.ts stackImages), so it is
 * what data-rr-image-index shows once the viewport has scrolled there.
 */
export function locateImage(study: Pick<StudyDetail, 'series'>, sopInstanceUid: string, frame: number, orthancRoot = '/'): ImageLocation | null {
  const f = frameNumber(frame);
  if (f === null || typeof sopInstanceUid !== 'string' || sopInstanceUid === '') return null;
  for (const series of study.series) {
    if (!series.instances.some((i) => i.sopInstanceUid === sopInstanceUid)) continue;
    const stack = stackImages(series, orthancRoot);
    const index = stack.findIndex((img) => img.sopInstanceUid === sopInstanceUid && img.frame === f - 1);
    if (index < 0) return null; // the instance is here but is no image, or has no such frame
    return { series, index, orthancId: stack[index]!.orthancId, frame0: f - 1 };
  }
  return null;
}

/** What showImage needs of the viewer (viewer.ts): all of it read at call time. */
export interface ShowImageHost {
  study: Pick<StudyDetail, 'series'>;
  orthancRoot: string;
  /** Whether the viewer can show images now (rendering engine up, an active viewport). */
  ready(): boolean;
  /** The series the active viewport shows, or null. */
  shownSeries(): Series | null;
  /** Loads a series into the active viewport (resolves once its first image is set). */
  load(series: Series): Promise<void>;
  /** The active viewport (cornerstone's stack viewport), or null. */
  viewport(): unknown;
  /** Called once the image is shown (focus the viewport, close panels over it…). */
  shown?(location: ImageLocation): void;
}

interface StackViewportLike {
  setImageIdIndex(index: number): Promise<unknown>;
  getCurrentImageIdIndex(): number;
}

function isStackViewport(vp: unknown): vp is StackViewportLike {
  const v = vp as Partial<StackViewportLike> | null;
  return !!v && typeof v.setImageIdIndex === 'function' && typeof v.getCurrentImageIdIndex === 'function';
}

/** The showImage of the contract above, bound to a viewer. */
export function createShowImage(host: ShowImageHost): (sopInstanceUid: string, frame: number) => Promise<boolean> {
  return async (sopInstanceUid: string, frame: number): Promise<boolean> => {
    try {
      const at = locateImage(host.study, sopInstanceUid, frame, host.orthancRoot);
      if (!at || !host.ready()) return false;
      if (host.shownSeries()?.seriesInstanceUid !== at.series.seriesInstanceUid) await host.load(at.series);
      if (host.shownSeries()?.seriesInstanceUid !== at.series.seriesInstanceUid) return false; // another load won
      const vp = host.viewport();
      if (!isStackViewport(vp)) return false;
      if (vp.getCurrentImageIdIndex() !== at.index) await vp.setImageIdIndex(at.index);
      host.shown?.(at);
      return true;
    } catch {
      return false; // the image could not be loaded: the viewport says why
    }
  };
}
