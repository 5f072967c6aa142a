// Client of the plugin's annotation and key-image routes (README "Annotations and key images"):
//   GET    dicom/studies/{study}/annotations                       → {data: [...], keyImages: [...]}
//   PUT    dicom/studies/{study}/annotations/{uid}  (If-Match: "<version>" when known) → 201/200 annotation
//   DELETE dicom/studies/{study}/annotations/{uid}                   → 204 (404: already gone)
//   PUT    dicom/studies/{study}/key-images/{sop}/frames/{n} {seriesInstanceUid} → 201/200
//   DELETE dicom/studies/{study}/key-images/{sop}/frames/{n}             → 204 (404: not marked)
// Requests carry the app's headers (CSRF token, X-Requested-With) from api.ts. send() turns an operation of the
// save queue into its request and the answer into the queue's Outcome; it remembers each annotation's version.

import { ApiError, type Api } from './api';
import type { Op, Outcome } from './viewer-annotations-queue';
import { readAnnotation, readStudyAnnotations, type StudyAnnotations } from './viewer-annotations-wire';

/** How long one request may take before it counts as failed (and is retried). */
export const TIMEOUT_MS = 20_000;

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export class AnnotationsClient {
  private readonly api: Pick<Api, 'root' | 'headersFor'>;
  private readonly study: string;
  private readonly fetchFn: FetchFn;
  /** The server's version of each annotation this client knows (sent as If-Match). */
  readonly versions = new Map<string, number>();

  constructor(api: Pick<Api, 'root' | 'headersFor'>, studyInstanceUid: string, fetchFn: FetchFn = (i, init) => fetch(i, init)) {
    this.api = api;
    this.study = studyInstanceUid;
    this.fetchFn = fetchFn;
  }

  private url(tail: string): string {
    return `${this.api.root}dicom/studies/${encodeURIComponent(this.study)}/${tail}`;
  }

  private async call(method: string, tail: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; json: unknown; text: string }> {
    // a request that hangs (a proxy, a stalled connection) would hold the queue: given up after TIMEOUT_MS
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.url(tail), {
        method,
        headers: { ...this.api.headersFor(method, body !== undefined), ...extra },
        credentials: 'same-origin',
        signal: abort.signal,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      text = await res.text();
    } finally {
      clearTimeout(timer);
    }
    let json: unknown = null;
    try {
      json = text.trim() ? (JSON.parse(text) as unknown) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text };
  }

  /** The study's annotations and key images; rejects with ApiError. Records the versions. */
  async load(): Promise<StudyAnnotations> {
    let r;
    try {
      r = await this.call('GET', 'annotations');
    } catch (err) {
      throw new ApiError(0, 'network', `Network error: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (r.status < 200 || r.status > 299) throw new ApiError(r.status, 'http', errorMessage(r.status, r.json));
    const out = readStudyAnnotations(r.json);
    this.versions.clear();
    for (const a of out.data) this.versions.set(a.annotationUid, a.version);
    return out;
  }

  /** Sends one operation of the save queue. */
  async send(op: Op): Promise<Outcome> {
    let r;
    try {
      r = await this.request(op);
    } catch (err) {
      return { ok: false, retry: true, message: `Network error: ${err instanceof Error ? err.message : String(err)}` };
    }
    const { status, json, text } = r;
    if (status >= 200 && status < 300) {
      if (op.kind === 'put') {
        const stored = readAnnotation(json);
        if (stored) this.versions.set(op.uid, stored.version);
        else this.versions.delete(op.uid);
      } else if (op.kind === 'delete') this.versions.delete(op.uid);
      return { ok: true };
    }
    if (status === 404 && (op.kind === 'delete' || op.kind === 'unmark')) {
      if (op.kind === 'delete') this.versions.delete(op.uid);
      return { ok: true }; // already gone: what was asked for
    }
    const message = errorMessage(status, json);
    if (status === 409 || status === 412) return { ok: false, conflict: true, message };
    // an empty 401/403 is a session that ended: kept until the user is signed in again
    if (status === 0 || status === 401 || status === 408 || status === 429 || status >= 500 || (status === 403 && text.trim() === '')) {
      return { ok: false, retry: true, message };
    }
    return { ok: false, retry: false, message };
  }

  private request(op: Op): Promise<{ status: number; json: unknown; text: string }> {
    switch (op.kind) {
      case 'put': {
        const v = this.versions.get(op.uid);
        return this.call('PUT', `annotations/${encodeURIComponent(op.uid)}`, op.body, v !== undefined ? { 'If-Match': `"${v}"` } : {});
      }
      case 'delete':
        return this.call('DELETE', `annotations/${encodeURIComponent(op.uid)}`);
      case 'mark':
        return this.call('PUT', `key-images/${encodeURIComponent(op.sopInstanceUid)}/frames/${op.frame}`, { seriesInstanceUid: op.seriesInstanceUid });
      case 'unmark':
        return this.call('DELETE', `key-images/${encodeURIComponent(op.sopInstanceUid)}/frames/${op.frame}`);
    }
  }
}

/** The sentence of an error answer ({"error": {"message"}} or {"error": "…"}), else "HTTP n". */
export function errorMessage(status: number, body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const e = (body as { error?: unknown }).error;
    if (typeof e === 'string' && e) return e;
    if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  }
  if (status === 0) return 'No connection to the server';
  return `HTTP ${status}`;
}
