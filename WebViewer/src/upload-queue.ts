// Upload queue: POSTs DICOM files one by one (a few at a time) to Orthanc's /instances, with progress.
// Lives as long as the session, so that navigating away from the upload page does not stop it.
import { CSRF_HEADER } from './api';
import { fields, str } from './decode';

export type UploadStatus = 'queued' | 'uploading' | 'stored' | 'duplicate' | 'failed' | 'cancelled';

export interface UploadItem {
  readonly id: number;
  readonly file: Blob;
  /** File name with its folder path when picked as a folder (untrusted: text only). */
  readonly name: string;
  readonly size: number;
  status: UploadStatus;
  loaded: number;
  message: string;
}

export interface SendResult {
  status: number;
  body: string;
}

/** Sends one file; onProgress(loaded bytes). Rejects only when aborted (status 0 means a network error). */
export type Sender = (file: Blob, onProgress: (loaded: number) => void, signal: AbortSignal) => Promise<SendResult>;

export interface UploadSummary {
  total: number;
  queued: number;
  uploading: number;
  stored: number;
  duplicate: number;
  failed: number;
  cancelled: number;
  bytesTotal: number;
  bytesDone: number;
}

/** Orthanc's error sentence ({"Message","Details"} with HttpDescribeErrors), else "". */
function orthancMessage(json: unknown): string {
  const r = fields(json);
  const details = str(r.Details);
  const message = str(r.Message);
  return details && message && details !== message ? `${message}: ${details}` : details || message;
}

/** Maps an answer of POST /instances to a final status and message. 403 with empty body is handled by the queue. */
export function interpretUpload(res: SendResult): { status: UploadStatus; message: string } {
  let json: unknown = null;
  try {
    json = res.body.trim() ? (JSON.parse(res.body) as unknown) : null;
  } catch {
    json = null;
  }
  if (res.status === 0) return { status: 'failed', message: 'Network error' };
  if (res.status >= 200 && res.status < 300) {
    const items = Array.isArray(json) ? json : [json];
    const statuses = items.map((x) => str(fields(x).Status));
    if (statuses.length > 0 && statuses.every((s) => s === 'AlreadyStored')) return { status: 'duplicate', message: 'Already stored' };
    if (statuses.some((s) => s !== '' && s !== 'Success' && s !== 'AlreadyStored')) {
      return { status: 'failed', message: statuses.find((s) => s !== 'Success' && s !== 'AlreadyStored') ?? 'Failed' };
    }
    return { status: 'stored', message: items.length > 1 ? `Stored (${items.length} instances)` : 'Stored' };
  }
  const detail = orthancMessage(json);
  if (res.status === 400) return { status: 'failed', message: `Not a valid DICOM file${detail ? ` (${detail})` : ''}` };
  if (res.status === 403) return { status: 'failed', message: 'Not allowed' };
  if (res.status === 413) return { status: 'failed', message: 'File too large for the server' };
  return { status: 'failed', message: `HTTP ${res.status}${detail ? `: ${detail}` : ''}` };
}

/** Files not worth sending: hidden files and OS litter picked up with a folder. */
export function skipFile(name: string): boolean {
  const base = name.split('/').pop() ?? name;
  return base.startsWith('.') || /^(thumbs\.db|desktop\.ini)$/i.test(base);
}

export interface UploadQueueOptions {
  concurrency?: number;
  /** 403 with an empty body: resolves true when the session is over (the rest of the queue is cancelled). */
  onEmpty403?(): Promise<boolean>;
}

export class UploadQueue {
  private readonly send: Sender;
  private readonly concurrency: number;
  private readonly onEmpty403: (() => Promise<boolean>) | undefined;
  private list: UploadItem[] = [];
  private readonly inflight = new Map<number, AbortController>();
  private nextId = 1;
  private readonly listeners = new Set<(changed: UploadItem | null) => void>();

  constructor(send: Sender, opts: UploadQueueOptions = {}) {
    this.send = send;
    this.concurrency = Math.max(1, opts.concurrency ?? 2);
    this.onEmpty403 = opts.onEmpty403;
  }

  get items(): readonly UploadItem[] {
    return this.list;
  }

  get running(): boolean {
    return this.list.some((i) => i.status === 'queued' || i.status === 'uploading');
  }

  /** Listener gets the item whose progress changed, or null when the list changed. */
  subscribe(listener: (changed: UploadItem | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(changed: UploadItem | null): void {
    for (const l of [...this.listeners]) l(changed);
  }

  /** Queues files; returns the number skipped (hidden files). */
  add(files: readonly { file: Blob; name: string }[]): number {
    let skipped = 0;
    for (const f of files) {
      if (skipFile(f.name)) {
        skipped += 1;
        continue;
      }
      this.list.push({ id: this.nextId++, file: f.file, name: f.name, size: f.file.size, status: 'queued', loaded: 0, message: '' });
    }
    this.emit(null);
    this.pump();
    return skipped;
  }

  summary(): UploadSummary {
    const s: UploadSummary = { total: 0, queued: 0, uploading: 0, stored: 0, duplicate: 0, failed: 0, cancelled: 0, bytesTotal: 0, bytesDone: 0 };
    for (const i of this.list) {
      s.total += 1;
      s[i.status] += 1;
      s.bytesTotal += i.size;
      s.bytesDone += i.status === 'uploading' ? i.loaded : i.status === 'queued' ? 0 : i.size;
    }
    return s;
  }

  /** Stops: aborts the running uploads, the queued ones are cancelled. */
  cancel(message = 'Cancelled'): void {
    for (const i of this.list) {
      if (i.status === 'queued' || i.status === 'uploading') {
        i.status = 'cancelled';
        i.message = message;
      }
    }
    for (const ctrl of this.inflight.values()) ctrl.abort();
    this.inflight.clear();
    this.emit(null);
  }

  /** Queues the failed and cancelled files again. */
  retry(): void {
    for (const i of this.list) {
      if (i.status === 'failed' || i.status === 'cancelled') {
        i.status = 'queued';
        i.loaded = 0;
        i.message = '';
      }
    }
    this.emit(null);
    this.pump();
  }

  /** Forgets the finished files (all of them after cancel()). */
  clearFinished(): void {
    this.list = this.list.filter((i) => i.status === 'queued' || i.status === 'uploading');
    this.emit(null);
  }

  private pump(): void {
    while (this.inflight.size < this.concurrency) {
      const item = this.list.find((i) => i.status === 'queued');
      if (!item) return;
      void this.run(item);
    }
  }

  private async run(item: UploadItem): Promise<void> {
    const ctrl = new AbortController();
    this.inflight.set(item.id, ctrl);
    item.status = 'uploading';
    item.loaded = 0;
    this.emit(item);
    let res: SendResult | null = null;
    try {
      res = await this.send(
        item.file,
        (loaded) => {
          if (item.status !== 'uploading' || ctrl.signal.aborted) return;
          item.loaded = Math.min(loaded, item.size);
          this.emit(item);
        },
        ctrl.signal,
      );
    } catch {
      res = null; // aborted
    }
    this.inflight.delete(item.id);
    if (ctrl.signal.aborted || item.status !== 'uploading') return;
    if (res === null) {
      Object.assign(item, { status: 'failed', message: 'Failed' });
    } else if (res.status === 403 && res.body.trim() === '') {
      const ended = this.onEmpty403 ? await this.onEmpty403() : false;
      if (ended) {
        Object.assign(item, { status: 'failed', message: 'Session ended' });
        this.cancel('Cancelled: session ended');
        return;
      }
      Object.assign(item, { status: 'failed', message: 'Not allowed' });
    } else {
      Object.assign(item, interpretUpload(res));
    }
    if (item.status !== 'uploading') item.loaded = item.size;
    this.emit(null);
    this.pump();
  }
}

/** The real sender: XMLHttpRequest (upload progress events) to `url` with the DICOM content type and CSRF token. */
export function xhrSender(url: string, csrfToken: () => string | null): Sender {
  return (file, onProgress, signal) =>
    new Promise<SendResult>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', url);
      xhr.setRequestHeader('Content-Type', 'application/dicom');
      xhr.setRequestHeader('Accept', 'application/json');
      const token = csrfToken();
      if (token) xhr.setRequestHeader(CSRF_HEADER, token);
      xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded));
      xhr.addEventListener('load', () => resolve({ status: xhr.status, body: xhr.responseText }));
      xhr.addEventListener('error', () => resolve({ status: 0, body: '' }));
      xhr.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
      signal.addEventListener('abort', () => xhr.abort());
      xhr.send(file);
    });
}
