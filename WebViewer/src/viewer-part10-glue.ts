// cornerstone3D behind viewer-part10-loader.ts: the loader registered for the wadouri scheme (in place of the DICOM
// image loader's own, which it falls back to), with cornerstone's request, metadata store and createImage.

import { Enums, metaData, registerImageLoader } from '@cornerstonejs/core';
import { createImage, internal, wadouri } from '@cornerstonejs/dicom-image-loader';
import { Enums as MetadataEnums, utilities as metadataUtilities } from '@cornerstonejs/metadata';
import { part10Loader, type Part10Deps } from './viewer-part10-loader';

/** Registers the loader for `wadouri:` image IDs; call after the DICOM image loader's init. */
export function registerPart10Loader(): void {
  const deps: Part10Deps = {
    request: async (url, imageId) => {
      const r = (await internal.xhrRequest(url, imageId)) as ArrayBuffer | { arrayBuffer: ArrayBuffer };
      return r instanceof ArrayBuffer ? r : r.arrayBuffer;
    },
    addPart10: (baseImageId, part10) => metadataUtilities.addDicomPart10Instance(baseImageId, part10),
    naturalized: (imageId) => metaData.get(MetadataEnums.MetadataModules.NATURALIZED, imageId),
    createImage: (imageId, pixelData, transferSyntax, options) =>
      createImage(imageId, pixelData, transferSyntax, options) as unknown as Promise<Record<string, unknown>>,
    fallback: (imageId, options) => wadouri.loadImageFromNaturalizedMetadata(imageId, options) as { promise: Promise<unknown> },
    fullResolution: Enums.ImageQualityStatus.FULL_RESOLUTION,
    parseImageId: (imageId) => wadouri.parseImageId(imageId),
  };
  registerImageLoader('wadouri', part10Loader(deps) as never);
}
