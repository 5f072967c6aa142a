// One slice of a volume as modality values, read from the plugin (issue 11): GET {api}dicom/instances/{id}/frames/{n}/values
// answers the frame decoded by Orthanc with its rescale (or Modality LUT) applied, as raw little-endian int16 or
// float32 values row after row, and says in its headers which type (X-RR-Values), the size (X-RR-Columns,
// X-RR-Rows), the values' range (X-RR-Range: "min max") and the file's window (X-RR-Window: "center width").
// The browser parses no DICOM and decodes nothing for it: the volume's slices arrive ready to copy.
//
// Contract: fetchSliceValues(api, instanceId, frame, signal) resolves the slice, or null when the plugin cannot
// give it (an older plugin without the route, a colour or undecodable frame, an answer of the wrong size: the
// caller reads that slice through cornerstone's image loader instead, which says why it cannot be used); rejects
// with AbortError when aborted, with ApiError for an ended session (an empty 403) or a network failure.
// parseSliceValues(headers, body) is the pure part (unit-tested).
// startValuesStream(api, slices, {concurrency, signal}) reads many slices in a dedicated worker
// (viewer-volume-values.worker.ts), whose requests go on while the page's main thread is busy drawing; its
// take(k) gives each slice with fetchSliceValues' outcomes. Call cancel() once done with it (it frees the
// answers not taken and the worker's listeners). The page has one values worker, started on first use or ahead by
// warmValuesWorker() (never throws): started only when a stream begins, its module was fetched and compiled while
// the page's thread built the views, and its first request left about 1.2 s after the click.

import { ApiError, type Api } from './api';
import { rescaledRange } from './viewer-volume-model';

export interface SliceValues {
  values: Int16Array | Float32Array;
  columns: number;
  rows: number;
  /** Every value a whole number (int16 answers). */
  integral: boolean;
  min: number;
  max: number;
  window: { center: number; width: number } | null;
}

interface HeaderSource {
  get(name: string): string | null;
}

function pair(text: string | null): [number, number] | null {
  if (!text) return null;
  const parts = text.trim().split(/\s+/).map(Number);
  return parts.length === 2 && parts.every((x) => Number.isFinite(x)) ? [parts[0]!, parts[1]!] : null;
}

/** The slice an answer of the values route describes; null when the answer is not one. */
export function parseSliceValues(headers: HeaderSource, body: ArrayBuffer): SliceValues | null {
  const type = headers.get('x-rr-values');
  const columns = Number(headers.get('x-rr-columns'));
  const rows = Number(headers.get('x-rr-rows'));
  if ((type !== 'int16' && type !== 'float32') || !(columns > 0) || !(rows > 0) || !Number.isInteger(columns) || !Number.isInteger(rows)) return null;
  const bytes = type === 'int16' ? 2 : 4;
  if (body.byteLength !== columns * rows * bytes) return null;
  const values = type === 'int16' ? new Int16Array(body) : new Float32Array(body);
  let range = pair(headers.get('x-rr-range'));
  if (!range) {
    const r = rescaledRange(values, 1, 0);
    range = [r.min, r.max];
  }
  const w = pair(headers.get('x-rr-window'));
  return {
    values,
    columns,
    rows,
    integral: type === 'int16',
    min: range[0],
    max: range[1],
    window: w && w[1] > 0 ? { center: w[0], width: w[1] } : null,
  };
}

/** The values route of frame `frame` of an instance, below the API root. */
function valuesPath(instanceId: string, frame: number): string {
  return `dicom/instances/${encodeURIComponent(instanceId)}/frames/${frame}/values`;
}

/** The request headers of the values route. */
function valuesHeaders(api: Api): Record<string, string> {
  return { ...api.headersFor('GET', false), Accept: 'application/octet-stream' };
}

function networkError(message: string): ApiError {
  return new ApiError(0, 'network', `Network error: ${message}`);
}

/** An answer of the values route as fetchSliceValues resolves it: ApiError for an ended session (an empty 403),
 *  null for any other answer that is not 2xx or not a slice. */
async function sliceOfAnswer(api: Api, status: number, headers: HeaderSource, body: ArrayBuffer): Promise<SliceValues | null> {
  if (status === 403 && body.byteLength === 0) throw await api.empty403();
  if (status < 200 || status > 299) return null;
  return parseSliceValues(headers, body);
}

/** GET the values of frame `frame` (0-based) of an instance; null: read it another way (see the contract). */
export async function fetchSliceValues(api: Api, instanceId: string, frame: number, signal?: AbortSignal): Promise<SliceValues | null> {
  let response: Response;
  let body: ArrayBuffer;
  try {
    response = await fetch(`${api.root}${valuesPath(instanceId, frame)}`, {
      headers: valuesHeaders(api),
      credentials: 'same-origin',
      ...(signal ? { signal } : {}),
    });
    body = await response.arrayBuffer();
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw networkError(err instanceof Error ? err.message : String(err));
  }
  return sliceOfAnswer(api, response.status, response.headers, body);
}

/** What startValuesStream needs of a worker (a fake one in the unit tests). */
export interface ValuesWorker {
  postMessage(message: unknown): void;
  addEventListener(type: 'message' | 'error', listener: (e: MessageEvent | Event) => void): void;
  removeEventListener(type: 'message' | 'error', listener: (e: MessageEvent | Event) => void): void;
}

/** A volume's slices being read by the values worker (startValuesStream). */
export interface ValuesStream {
  /** Slice k as fetchSliceValues gives it (same outcomes); null when k is not in this stream or was taken. */
  take(k: number): Promise<SliceValues | null> | null;
  /** Stops the requests; the slices still waited for and later takes are read on the main thread, or, with
   *  `aborted`, those waited for reject with AbortError. */
  cancel(aborted?: boolean): void;
}

let sharedWorker: ValuesWorker | null | undefined;
let jobs = 0;

/** The page's values worker, created on first use; null when the page cannot start one. */
function valuesWorker(): ValuesWorker | null {
  if (sharedWorker !== undefined) return sharedWorker;
  try {
    sharedWorker = new Worker(new URL('./viewer-volume-values.worker.ts', import.meta.url), { type: 'module', name: 'rr-volume-values' });
  } catch {
    sharedWorker = null;
  }
  return sharedWorker;
}

/** Starts the page's values worker ahead of its first job (its module is fetched and compiled then, not when
 *  a volume layout is chosen, while the page's thread is busy building the views). Never throws. */
export function warmValuesWorker(): void {
  valuesWorker();
}

type Arrival = { type: 'slice'; k: number; status: number; headers: Record<string, string>; body: ArrayBuffer } | { type: 'error'; k: number; message: string };

/**
 * Starts reading `slices` (in that order, `concurrency` at a time) in the values worker, so that the requests go
 * on while the page's main thread draws; take(k) resolves slice k like fetchSliceValues(api, …) would: the slice,
 * null when the plugin cannot give it, ApiError for an ended session or a network failure, AbortError once
 * `signal` is aborted. An answer is kept until taken (take each slice once). Null when there is no worker (the
 * caller reads on the main thread). Should the worker fail, every slice not yet arrived is read on the main
 * thread.
 */
export function startValuesStream(
  api: Api,
  slices: readonly { k: number; instanceId: string; frame: number }[],
  opts: { concurrency: number; signal?: AbortSignal; worker?: ValuesWorker | null },
): ValuesStream | null {
  const worker = opts.worker !== undefined ? opts.worker : valuesWorker();
  if (!worker || slices.length === 0) return null;
  const id = ++jobs;
  const byK = new Map(slices.map((s) => [s.k, s]));
  const taken = new Set<number>();
  const arrived = new Map<number, Arrival>();
  const waiting = new Map<number, { resolve: (v: SliceValues | null) => void; reject: (e: unknown) => void }>();
  let broken = false;
  let done = false;
  const settle = async (a: Arrival): Promise<SliceValues | null> => {
    if (a.type === 'error') throw networkError(a.message);
    return sliceOfAnswer(api, a.status, { get: (name) => a.headers[name.toLowerCase()] ?? null }, a.body);
  };
  const onMainThread = (k: number): Promise<SliceValues | null> => {
    const s = byK.get(k)!;
    return fetchSliceValues(api, s.instanceId, s.frame, opts.signal);
  };
  /** The slices still waited for, read on the main thread instead (the worker failed, or the stream stopped). */
  const readWaitingHere = (): void => {
    for (const [k, w] of waiting) onMainThread(k).then(w.resolve, w.reject);
    waiting.clear();
  };
  const onMessage = (e: MessageEvent | Event): void => {
    const m = (e as MessageEvent).data as (Arrival & { id?: number }) | { type: 'stopped'; id?: number; k?: undefined } | null;
    if (done || !m || m.id !== id) return;
    if (m.type === 'stopped') {
      // the worker asks for no more after an answer that is not a slice: what is still waited for is read here
      broken = true;
      readWaitingHere();
      return;
    }
    if (!byK.has(m.k)) return;
    const w = waiting.get(m.k);
    if (w) {
      waiting.delete(m.k);
      settle(m).then(w.resolve, w.reject);
    } else arrived.set(m.k, m);
  };
  const onError = (): void => {
    if (done) return;
    broken = true;
    readWaitingHere();
  };
  const stop = (): void => {
    if (done) return;
    done = true;
    worker.postMessage({ type: 'cancel', id });
    worker.removeEventListener('message', onMessage);
    worker.removeEventListener('error', onError);
    arrived.clear();
  };
  worker.addEventListener('message', onMessage);
  worker.addEventListener('error', onError);
  opts.signal?.addEventListener(
    'abort',
    () => {
      stop();
      for (const w of waiting.values()) w.reject(new DOMException('aborted', 'AbortError'));
      waiting.clear();
    },
    { once: true },
  );
  worker.postMessage({
    type: 'fetch',
    id,
    base: new URL(api.root, globalThis.location?.href ?? 'http://localhost/').href,
    headers: valuesHeaders(api),
    slices: slices.map((s) => ({ k: s.k, path: valuesPath(s.instanceId, s.frame) })),
    concurrency: opts.concurrency,
  });
  return {
    take: (k) => {
      if (!byK.has(k) || taken.has(k)) return null;
      taken.add(k);
      if (opts.signal?.aborted) return Promise.reject(new DOMException('aborted', 'AbortError'));
      const a = arrived.get(k);
      if (a) {
        arrived.delete(k);
        return settle(a);
      }
      if (broken || done) return onMainThread(k);
      return new Promise<SliceValues | null>((resolve, reject) => waiting.set(k, { resolve, reject }));
    },
    cancel: (aborted = false) => {
      stop();
      if (!aborted) readWaitingHere();
      for (const w of waiting.values()) w.reject(new DOMException('aborted', 'AbortError'));
      waiting.clear();
    },
  };
}
