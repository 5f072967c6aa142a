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

import { ApiError, type Api } from './api';

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
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    range = [min, max];
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

/** GET the values of frame `frame` (0-based) of an instance; null: read it another way (see the contract). */
export async function fetchSliceValues(api: Api, instanceId: string, frame: number, signal?: AbortSignal): Promise<SliceValues | null> {
  let response: Response;
  let body: ArrayBuffer;
  try {
    response = await fetch(`${api.root}dicom/instances/${encodeURIComponent(instanceId)}/frames/${frame}/values`, {
      headers: { ...api.headersFor('GET', false), Accept: 'application/octet-stream' },
      credentials: 'same-origin',
      ...(signal ? { signal } : {}),
    });
    body = await response.arrayBuffer();
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', `Network error: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (response.status === 403 && body.byteLength === 0) throw await api.empty403();
  if (!response.ok) return null;
  return parseSliceValues(response.headers, body);
}
