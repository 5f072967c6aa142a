// Priors (issue 10): the pure part. The answer of GET {api}dicom/studies/{uid}/priors read into Prior records,
// the text of a prior in the viewer's list, and the choice of the prior's series that best matches the series
// of the current viewport (hanging a prior beside the current study: same modality first, then the closest
// description, then the same body part). No DOM, no cornerstone: tested by Vitest (test/viewer-priors.test.ts).
// Every string is untrusted DICOM text: callers show it as text only.

import type { Series } from './api';
import { arrayOf, fields, num, str, strOrNull, strings, type JsonObject } from './decode';
import { formatDate, formatModalities } from './format';
import { imageInstances } from './viewer-model';

/** One prior as the plugin lists it (README "GET /api/dicom/studies/{StudyInstanceUID}/priors"). */
export interface Prior {
  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  modalities: string[];
  bodyParts: string[];
  seriesCount: number;
  instanceCount: number;
  /** null until reports exist (a later issue). */
  reportStatus: string | null;
}

/** The answer of the priors route: `data` must be an array (DecodeError otherwise); odd fields get neutral values. */
export function decodePriors(body: JsonObject | null): Prior[] {
  return arrayOf(fields(body).data, 'data', (v) => {
    const r = fields(v);
    return {
      studyInstanceUid: str(r.studyInstanceUid),
      studyDate: str(r.studyDate),
      studyTime: str(r.studyTime),
      studyDescription: str(r.studyDescription),
      modalities: strings(r.modalities),
      bodyParts: strings(r.bodyParts),
      seriesCount: num(r.seriesCount) ?? 0,
      instanceCount: num(r.instanceCount) ?? 0,
      reportStatus: strOrNull(r.reportStatus),
    };
  }).filter((p) => p.studyInstanceUid !== '');
}

/** The lines of a prior in the list: "2023-01-01 · CT, MR", the description, and the report status when known. */
export function priorText(p: Prior): { title: string; detail: string; report: string } {
  const date = formatDate(p.studyDate) || 'No date';
  const mods = formatModalities(p.modalities);
  return {
    title: [date, mods].filter(Boolean).join(' · '),
    detail: p.studyDescription || '(no description)',
    report: p.reportStatus ? `Report: ${p.reportStatus}` : '',
  };
}

/** Words of a description, folded (case, accents) and split on anything that is not a letter or digit. */
export function descriptionWords(text: string): string[] {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** Similarity of two descriptions, 0 … 1: shared words over all words (Jaccard); 1 for two equal texts. */
export function descriptionSimilarity(a: string, b: string): number {
  const wa = new Set(descriptionWords(a));
  const wb = new Set(descriptionWords(b));
  if (wa.size === 0 && wb.size === 0) return a.trim() === b.trim() ? 1 : 0;
  let shared = 0;
  for (const w of wa) if (wb.has(w)) shared++;
  return shared / (wa.size + wb.size - shared);
}

/** What the match looks at of a series. */
export type MatchSeries = Pick<Series, 'modality' | 'seriesDescription' | 'bodyPartExamined'>;

/**
 * How well `candidate` matches `current` (higher is better): the same modality outweighs everything, then
 * the closeness of the descriptions (0 … 1), then the same body part. Only series with images are candidates.
 */
export function matchScore(current: MatchSeries, candidate: MatchSeries): number {
  const same = (a: string, b: string): boolean => a.trim() !== '' && a.trim().toUpperCase() === b.trim().toUpperCase();
  return (
    (same(current.modality, candidate.modality) ? 100 : 0) +
    10 * descriptionSimilarity(current.seriesDescription, candidate.seriesDescription) +
    (same(current.bodyPartExamined, candidate.bodyPartExamined) ? 5 : 0)
  );
}

/**
 * The prior's series to show beside `current`: the image series with the best matchScore; on a tie the one
 * with more images, then the first in the API's order. Without a current series, the prior's first image
 * series. null when the prior has no image series.
 */
export function bestMatchingSeries(current: MatchSeries | null, candidates: readonly Series[]): Series | null {
  let best: Series | null = null;
  let bestScore = -1;
  let bestCount = -1;
  for (const s of candidates) {
    const count = imageInstances(s).length;
    if (count === 0) continue;
    const score = current ? matchScore(current, s) : 0;
    if (score > bestScore + 1e-9 || (Math.abs(score - bestScore) <= 1e-9 && count > bestCount)) {
      best = s;
      bestScore = score;
      bestCount = count;
    }
  }
  return best;
}
