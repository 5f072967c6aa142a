// Which transfer syntaxes the viewer decodes in the browser and which it reads transcoded by the plugin
// (issue 10: "every transfer syntax of ts_ct_matrix renders"). The browser decoder is cornerstone's DICOM
// image loader 5.14 (decodeImageFrameWorker.js: little/big endian, deflate, RLE, JPEG baseline/extended,
// JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K, JPEG XL). An instance whose syntax it lacks is read from the
// plugin's `GET {api}dicom/instances/{id}/transcoded` (Orthanc's transcoding to Explicit VR Little Endian,
// Plugin/api/transcode_api.c) instead of Orthanc's `/instances/{id}/file`: same pixels, same metadata, the
// user sees no difference. The table is the one place that decides; README ("Loading and transfer
// syntaxes") lists it. A browser may also be told to transcode more syntaxes (troubleshooting a decoder):
// localStorage `rr.viewer.transcode` = comma-separated transfer syntax UIDs. Pure functions.

import type { Series } from './api';
import type { StackImage } from './viewer-model';

/** Transfer syntaxes cornerstone's loader decodes in the browser (UID → name). */
export const BROWSER_SYNTAXES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.1.2', 'Implicit VR Little Endian'],
  ['1.2.840.10008.1.2.1', 'Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.2', 'Explicit VR Big Endian'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless'],
  ['1.2.840.10008.1.2.8.1', 'Deflated Image Frame Compression'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless (Process 14)'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless SV1 (Process 14, selection value 1)'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000'],
  ['1.2.840.10008.1.2.4.201', 'HTJ2K Lossless'],
  ['1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL'],
  ['1.2.840.10008.1.2.4.203', 'HTJ2K'],
]);

/**
 * Transfer syntaxes read transcoded by the plugin (UID → name): Deflated Explicit VR Little Endian (the
 * loader's naturalized-metadata path finds no pixel data in the inflated data set: "no pixel data in
 * NATURALIZED", ../shared/NOTES.md); the 12-bit JPEG processes, which the loader
 * hands to its 12-bit baseline decoder (jpeg.js) — ts_ct_matrix's JPEG Extended file comes out 8 grey
 * levels off on average and up to 21 (Tests/browser/viewer-loading.test.mjs, against the plugin's PNG),
 * its retired siblings use the same decoder — and the compressions it has no decoder for at all.
 * Anything neither here nor in BROWSER_SYNTAXES is transcoded too.
 */
export const TRANSCODED_SYNTAXES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)'],
  ['1.2.840.10008.1.2.4.53', 'JPEG Extended (Process 6 & 8, retired)'],
  ['1.2.840.10008.1.2.4.55', 'JPEG Full Progression (Process 10 & 12, retired)'],
  ['1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Lossless'],
  ['1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component'],
]);

/** The localStorage key of the syntaxes a browser is told to transcode as well. */
export const FORCE_KEY = 'rr.viewer.transcode';

/** The UIDs of a FORCE_KEY value ("1.2.3, 1.2.4"): well-formed UIDs only. */
export function forcedSyntaxes(value: string | null | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (value ?? '').split(',')) {
    const uid = part.trim();
    if (/^[0-9]+(\.[0-9]+)*$/.test(uid) && uid.length <= 64) out.add(uid);
  }
  return out;
}

/**
 * Whether an instance of this transfer syntax is read transcoded: when the browser has no decoder for it
 * (not in BROWSER_SYNTAXES, or in TRANSCODED_SYNTAXES) or the browser is told to. An unknown syntax ("")
 * is left to the browser, which reads it from the file's own meta header.
 */
export function needsTranscoding(ts: string, forced: ReadonlySet<string> = new Set()): boolean {
  if (ts === '') return false;
  return forced.has(ts) || TRANSCODED_SYNTAXES.has(ts) || !BROWSER_SYNTAXES.has(ts);
}

/** The image ID of a stack image read through the plugin's transcoding route (frame argument kept). */
export function transcodedImageId(image: StackImage, apiRootUrl: string): string {
  const base = apiRootUrl.endsWith('/') ? apiRootUrl : `${apiRootUrl}/`;
  const query = image.imageId.includes('?') ? image.imageId.slice(image.imageId.indexOf('?')) : '';
  return `wadouri:${base}dicom/instances/${encodeURIComponent(image.orthancId)}/transcoded${query}`;
}

/** The stack with the image IDs of instances the browser cannot decode pointing at the transcoding route. */
export function decodableStack(stack: StackImage[], series: Series, apiRootUrl: string, forced: ReadonlySet<string> = new Set()): StackImage[] {
  const syntaxOf = new Map(series.instances.map((i) => [i.orthancId, i.transferSyntaxUid]));
  return stack.map((image) =>
    needsTranscoding(syntaxOf.get(image.orthancId) ?? '', forced) ? { ...image, imageId: transcodedImageId(image, apiRootUrl) } : image,
  );
}
