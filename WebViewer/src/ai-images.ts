// The images an AI analysis sent to the model (the analysis' "images": SOP Instance UID and 0-based frame, in
// the order sent), as thumbnails that show the image in the viewer, and the images a finding names.
//
// The images are numbered from 1 in the order they were sent (the prompt sends them in that order). A finding
// "names" an image when its location or description says "image 3", "images 2 and 5", "images 4-6", "img 3"
// or "image #3"; only numbers of images that were sent count. The thumbnails are the plugin's rendered frames
// (README "Rendered images": /api/dicom/instances/{orthancId}/frames/{n}/png?size=…), found through the study
// detail (GET /api/dicom/studies/{uid}: every instance's Orthanc ID); an image no longer in the study is
// listed without a thumbnail and cannot be shown. Strings from the model or the server reach the DOM as text.
import type { AnalysisImage, Finding } from './ai-api';
import type { StudyDetail } from './api';
import { hIn } from './dom';
import { pngUrl } from './viewer-model';

/** Size in px of the thumbnails of the images sent. */
export const SENT_THUMB_SIZE = 96;
/** The most image numbers one finding may name (a range "images 1-999" is cut there). */
const MAX_REFS = 16;

export interface SentImage {
  /** 1-based number in the order sent. */
  n: number;
  sopInstanceUid: string;
  /** 0-based, as the analysis stores it. */
  frame: number;
  /** Orthanc's ID of the instance, or null when the study does not hold it (any more). */
  orthancId: string | null;
  /** "#2 CT · Chest 1 mm" of the series holding it ("" when unknown). */
  seriesText: string;
  /** Whether the instance has several frames (the caption then names the frame). */
  multiFrame: boolean;
}

/** The analysis' images in the order sent, with where the study holds them. */
export function sentImages(images: readonly AnalysisImage[], study: Pick<StudyDetail, 'series'> | null): SentImage[] {
  const where = new Map<string, { orthancId: string; seriesText: string; multiFrame: boolean }>();
  for (const s of study?.series ?? []) {
    const seriesText = [s.seriesNumber === null ? '' : `#${s.seriesNumber}`, s.modality, s.seriesDescription].filter(Boolean).join(' · ');
    for (const i of s.instances) where.set(i.sopInstanceUid, { orthancId: i.orthancId, seriesText, multiFrame: i.numberOfFrames > 1 });
  }
  return images.map((img, k) => {
    const at = where.get(img.sopInstanceUid);
    return {
      n: k + 1,
      sopInstanceUid: img.sopInstanceUid,
      frame: img.frame,
      orthancId: at?.orthancId ?? null,
      seriesText: at?.seriesText ?? '',
      multiFrame: at?.multiFrame ?? img.frame > 0,
    };
  });
}

// "image 3", "images 2, 4 and 5", "images 4-6", "img. 3", "image #3", "image no. 3"
const REF = /\b(?:images?|imgs?\.?)\s*(?:#|no\.?\s*|number\s*)?(\d{1,4})((?:\s*(?:,|and|&|-|–|to)\s*#?\d{1,4})*)/gi;

/** The image numbers (1..count, ascending, unique) a finding's location or description names. */
export function findingImageNumbers(f: Pick<Finding, 'location' | 'description'>, count: number): number[] {
  const out = new Set<number>();
  const add = (n: number): void => {
    if (Number.isInteger(n) && n >= 1 && n <= count && out.size < MAX_REFS) out.add(n);
  };
  for (const text of [f.location, f.description]) {
    for (const m of (text ?? '').matchAll(REF)) {
      let prev = Number(m[1]);
      add(prev);
      for (const part of (m[2] ?? '').matchAll(/(,|and|&|-|–|to)\s*#?(\d{1,4})/gi)) {
        const n = Number(part[2]);
        if (['-', '–', 'to'].includes(part[1]!.toLowerCase()) && n > prev) {
          for (let k = prev + 1; k <= Math.min(n, prev + MAX_REFS); k++) add(k);
        } else add(n);
        prev = n;
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** "Image 3" / "Image 3 · frame 5" (frames 1-based for people). */
export function sentImageLabel(img: Pick<SentImage, 'n' | 'frame' | 'multiFrame'>): string {
  return img.multiFrame ? `Image ${img.n} · frame ${img.frame + 1}` : `Image ${img.n}`;
}

/** Shows an image sent (resolves false when the viewer could not). */
export type ShowSentImage = (img: SentImage) => Promise<boolean>;

/**
 * The thumbnails of the images sent, each a button that shows its image in the viewer (disabled without a
 * viewer or when the study does not hold the image). Hooks: data-rr-ai-image (its number), data-sop-instance-uid,
 * data-frame (0-based).
 */
export function renderSentImages(doc: Document, images: readonly SentImage[], apiRoot: string | null, show: ShowSentImage | null): HTMLElement {
  if (images.length === 0) return hIn(doc, 'p', { class: 'muted ai-images-none', text: 'No image was sent.' });
  return hIn(
    doc,
    'ol',
    { class: 'ai-images', attrs: { 'aria-label': 'Images sent to the model' } },
    ...images.map((img) => {
      const label = sentImageLabel(img);
      const usable = img.orthancId !== null && show !== null;
      const thumb =
        img.orthancId !== null && apiRoot !== null
          ? hIn(doc, 'img', { class: 'ai-image-thumb', attrs: { src: pngUrl(apiRoot, img.orthancId, img.frame, { size: SENT_THUMB_SIZE }), alt: '', loading: 'lazy', width: '64', height: '64' } })
          : hIn(doc, 'span', { class: 'ai-image-thumb none', text: '—' });
      const button = hIn(
        doc,
        'button',
        {
          class: 'ai-image',
          attrs: {
            type: 'button',
            'data-rr-ai-image': img.n,
            'data-sop-instance-uid': img.sopInstanceUid,
            'data-frame': img.frame,
            disabled: !usable,
            title: img.orthancId === null ? `${label}: no longer in this study` : show ? `${label}: show it in the viewer` : label,
          },
          on: { click: () => void showWithFeedback(button, img, show) },
        },
        thumb,
        hIn(doc, 'span', { class: 'ai-image-label', text: label }),
        img.seriesText ? hIn(doc, 'span', { class: 'ai-image-series muted', text: img.seriesText }) : null,
      );
      return hIn(doc, 'li', {}, button);
    }),
  );
}

/** Calls show() and marks the button while it works and when the viewer could not show the image. */
export async function showWithFeedback(button: HTMLElement, img: SentImage, show: ShowSentImage | null): Promise<boolean> {
  if (!show) return false;
  button.setAttribute('aria-busy', 'true');
  let ok = false;
  try {
    ok = await show(img);
  } catch {
    ok = false;
  }
  button.removeAttribute('aria-busy');
  if (ok) button.removeAttribute('data-rr-failed');
  else {
    button.setAttribute('data-rr-failed', '');
    button.title = `${sentImageLabel(img)}: the viewer could not show this image`;
  }
  return ok;
}
