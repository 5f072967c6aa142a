// The wadouri image loader of the viewer (issue 10: stack viewing from Orthanc's raw DICOM, the whole series cached
// sooner): cornerstone's loader, with the DICOM header parsed without the pixel data.
//
// cornerstone's own wadouri loader reads each file into its metadata store (NATURALIZED) with dcmjs' asynchronous
// reader, pixel data included: the reader copies the frame out of the file, the loader takes it back from the
// store, and the store keeps a copy until the image is evicted. For a single-frame file of an uncompressed
// little-endian syntax (most CT and MR in Orthanc) this loader gives the reader only the bytes before the Pixel
// Data element (the header: everything the metadata providers and the viewer read), takes the frame as a view of
// the file's bytes, and creates the image with cornerstone's createImage (its scaling, min/max and image object
// unchanged; the decode runs in the page, viewer-inpage-decode.ts). Everything else (multi-frame instances,
// encapsulated or big-endian pixel data, a file without Pixel Data, anything the split cannot place) goes to
// cornerstone's loader with the bytes already read, so nothing is fetched twice.

import dicomParser from 'dicom-parser';
import { IN_PAGE_SYNTAXES } from './viewer-inpage-decode';

/** Where a Part 10 file's top-level Pixel Data is: its header ends at `headerEnd` (the Pixel Data element's tag). */
export interface PixelDataSplit {
  transferSyntax: string;
  /** Bytes before the Pixel Data element: the header given to the metadata reader. */
  headerEnd: number;
  /** The pixel data's value: offset and length in the file. */
  pixelOffset: number;
  pixelLength: number;
}

const PIXEL_DATA = 'x7fe00010';
const NUMBER_OF_FRAMES = 'x00280008';

/**
 * The split of a single-frame Part 10 file of an IN_PAGE_SYNTAXES syntax with a defined-length top-level Pixel
 * Data, or null (any other file, or one the parser cannot read: the caller then uses cornerstone's loader).
 */
export function pixelDataSplit(bytes: Uint8Array): PixelDataSplit | null {
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, { untilTag: PIXEL_DATA });
  } catch {
    return null;
  }
  const transferSyntax = dataSet.string('x00020010')?.trim() ?? '';
  if (!IN_PAGE_SYNTAXES.has(transferSyntax)) return null;
  const frames = dataSet.elements[NUMBER_OF_FRAMES] ? Number(dataSet.string(NUMBER_OF_FRAMES)) : 1;
  if (!(frames === 1 || Number.isNaN(frames))) return null;
  const pixel = dataSet.elements[PIXEL_DATA];
  if (!pixel || pixel.hadUndefinedLength || pixel.length <= 0) return null;
  if (pixel.dataOffset + pixel.length > bytes.length) return null;
  // the element's header: tag (4) + length (4) implicit; tag (4) + VR (2) + reserved (2) + length (4) explicit (OB/OW)
  const headerEnd = pixel.dataOffset - (transferSyntax === '1.2.840.10008.1.2' ? 8 : 12);
  if (headerEnd < 132 || bytes[headerEnd] !== 0xe0 || bytes[headerEnd + 1] !== 0x7f || bytes[headerEnd + 2] !== 0x10 || bytes[headerEnd + 3] !== 0x00) {
    return null;
  }
  return { transferSyntax, headerEnd, pixelOffset: pixel.dataOffset, pixelLength: pixel.length };
}

/** What the loader needs of cornerstone (its request, metadata store, createImage and own loader). */
export interface Part10Deps {
  /** Reads the file (the DICOM loader's xhrRequest: its headers, events and errors). */
  request(url: string, imageId: string): Promise<ArrayBuffer>;
  /** Reads a Part 10 buffer into the metadata store under `baseImageId` (addDicomPart10Instance). */
  addPart10(baseImageId: string, part10: ArrayBuffer): Promise<unknown>;
  /** The stored metadata of `imageId` (metaData.get NATURALIZED), or undefined. */
  naturalized(imageId: string): unknown;
  /** cornerstone's createImage. */
  createImage(imageId: string, pixelData: Uint8Array, transferSyntax: string, options: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** cornerstone's own loader (loadImageFromNaturalizedMetadata), used once the file is in the store. */
  fallback(imageId: string, options: Record<string, unknown>): { promise: Promise<unknown> };
  /** The image quality status of a full-resolution image (Enums.ImageQualityStatus.FULL_RESOLUTION). */
  fullResolution: number;
  /** The DICOM loader's own image ID parse (wadouri.parseImageId): scheme, file URL, frame when one is named. */
  parseImageId(imageId: string): { scheme: string; url: string; frame?: number };
}

/** The image loader function for the wadouri scheme (registerImageLoader('wadouri', …)). */
export function part10Loader(deps: Part10Deps): (imageId: string, options?: Record<string, unknown>) => { promise: Promise<unknown> } {
  return (imageId, options = {}) => {
    const { scheme, url, frame } = deps.parseImageId(imageId);
    // a frame of a multi-frame instance: cornerstone's loader as it is (it keeps the file for the other frames).
    // A single-frame file is read again when its image is loaded again (the store may hold only its header).
    if (frame !== undefined) return deps.fallback(imageId, options);
    const promise = (async () => {
      const start = Date.now();
      const buffer = await deps.request(url, imageId);
      const split = pixelDataSplit(new Uint8Array(buffer));
      const baseImageId = `${scheme}:${url}`;
      if (split === null) {
        await deps.addPart10(baseImageId, buffer);
        return deps.fallback(imageId, options).promise;
      }
      await deps.addPart10(baseImageId, buffer.slice(0, split.headerEnd));
      const loadEnd = Date.now();
      const { loader: _loader, ...createOptions } = options;
      const image = await deps.createImage(imageId, new Uint8Array(buffer, split.pixelOffset, split.pixelLength), split.transferSyntax, createOptions);
      image.imageQualityStatus = deps.fullResolution;
      image.data = deps.naturalized(imageId);
      image.loadTimeInMS = loadEnd - start;
      image.totalTimeInMS = Date.now() - start;
      return image;
    })();
    return { promise };
  };
}
