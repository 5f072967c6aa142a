// Uncompressed little-endian frames decoded on the page's thread, not in a decode web worker (issue 10: the whole
// series cached sooner).
//
// cornerstone's DICOM image loader sends every frame to one of its decode workers, whatever the transfer syntax:
// the frame's bytes are copied into the worker (structured clone), "decoded", and the result copied back. For
// Implicit and Explicit VR Little Endian (what Orthanc stores for most CT and MR) the decode is no more than a
// typed view of the bytes plus the rescale to modality values and the min/max, so both copies cost more than
// the work, and the two cores the product targets are busy with them while a series is read (bench/README.md,
// "Viewer"). decodeUncompressedInPage makes cornerstone's worker manager run that one task itself, with the
// loader's own function (decodeImageFrame, the code the worker runs), so the image is exactly what the worker
// would have made; every other syntax (JPEG, JPEG-LS, JPEG 2000, RLE, deflate, big endian) still goes to the
// workers, where decoding is real work.

/** The transfer syntaxes decoded in the page: Implicit VR Little Endian, Explicit VR Little Endian. */
export const IN_PAGE_SYNTAXES: ReadonlySet<string> = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

/** The arguments cornerstone's loader gives its decode task (createImage → decodeImageFrame). */
export interface DecodeTaskArgs {
  imageFrame: unknown;
  transferSyntax: string;
  pixelData: unknown;
  decodeConfig: unknown;
  options: unknown;
}

/** The worker manager's executeTask (core's CentralizedWorkerManager). */
export type ExecuteTask = (worker: string, method: string, args?: unknown, options?: unknown) => Promise<unknown>;

/** The loader's decode function (the same the worker runs). */
export type DecodeFrame = (imageFrame: unknown, transferSyntax: string, pixelData: unknown, decodeConfig: unknown, options: unknown) => Promise<unknown>;

function isDecodeTask(worker: string, method: string, args: unknown): args is DecodeTaskArgs {
  return worker === 'dicomImageLoader' && method === 'decodeTask' && typeof args === 'object' && args !== null &&
    typeof (args as { transferSyntax?: unknown }).transferSyntax === 'string';
}

/**
 * executeTask with the decode of IN_PAGE_SYNTAXES done by `decode` on the calling thread; every other task goes
 * to `execute` unchanged. A decode that throws rejects, as the worker's would.
 */
export function inPageExecuteTask(execute: ExecuteTask, decode: DecodeFrame): ExecuteTask {
  return (worker, method, args, options) => {
    if (isDecodeTask(worker, method, args) && IN_PAGE_SYNTAXES.has(args.transferSyntax)) {
      try {
        return decode(args.imageFrame, args.transferSyntax, args.pixelData, args.decodeConfig, args.options);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return execute(worker, method, args, options);
  };
}

/** Makes `manager` (getWebWorkerManager()) decode IN_PAGE_SYNTAXES on the page's thread; once per manager. */
export function decodeUncompressedInPage(manager: { executeTask: ExecuteTask }, decode: DecodeFrame): void {
  const marked = manager as { executeTask: ExecuteTask; rrInPage?: true };
  if (marked.rrInPage) return;
  marked.executeTask = inPageExecuteTask(manager.executeTask.bind(manager), decode);
  marked.rrInPage = true;
}
