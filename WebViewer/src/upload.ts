// Upload page (route "#/upload", technicians and admins): pick or drop DICOM files / folders, send them to
// Orthanc (POST /instances) with per-file progress and result, and a summary.
import { h, hIn } from './dom';
import { formatBytes } from './format';
import type { Page } from './router';
import type { UploadItem, UploadQueue, UploadStatus } from './upload-queue';

const STATUS_TEXT: Record<UploadStatus, string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  stored: 'Stored',
  duplicate: 'Already stored',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** Files of an <input type=file> (folder picks keep their relative path). */
export function filesOf(list: FileList | null): { file: File; name: string }[] {
  return Array.from(list ?? []).map((file) => ({ file, name: file.webkitRelativePath || file.name }));
}

type Entry = { isFile: boolean; isDirectory: boolean; name: string; fullPath: string };
type FileEntry = Entry & { file(ok: (f: File) => void, fail: (e: unknown) => void): void };
type DirEntry = Entry & { createReader(): { readEntries(ok: (e: Entry[]) => void, fail: (e: unknown) => void): void } };

async function walk(entry: Entry, out: { file: File; name: string }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileEntry).file(ok, fail));
    out.push({ file, name: entry.fullPath.replace(/^\//, '') || file.name });
  } else if (entry.isDirectory) {
    const reader = (entry as DirEntry).createReader();
    for (;;) {
      const batch = await new Promise<Entry[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}

/** Files of a drop, folders included (walked recursively where the browser exposes entries). */
export async function droppedFiles(dt: DataTransfer): Promise<{ file: File; name: string }[]> {
  const entries: Entry[] = [];
  for (const item of Array.from(dt.items ?? [])) {
    const entry = (item as DataTransferItem & { webkitGetAsEntry?(): Entry | null }).webkitGetAsEntry?.();
    if (entry) entries.push(entry);
  }
  if (entries.length === 0) return filesOf(dt.files);
  const out: { file: File; name: string }[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

/** One file row: name, size, progress, result (name as text only). */
export function renderUploadRow(doc: Document, item: UploadItem): HTMLTableRowElement {
  const progress = hIn(doc, 'progress', { attrs: { max: Math.max(1, item.size), value: item.loaded, 'aria-label': `Progress of ${item.name}` } });
  const result = hIn(doc, 'span', { class: 'upload-status' });
  const row = hIn(
    doc,
    'tr',
    { class: 'upload-row', attrs: { 'data-id': item.id } },
    hIn(doc, 'td', { class: 'c-name', attrs: { title: item.name }, text: item.name }),
    hIn(doc, 'td', { class: 'c-size', text: formatBytes(item.size) }),
    hIn(doc, 'td', { class: 'c-progress' }, progress),
    hIn(doc, 'td', { class: 'c-result' }, result),
  );
  updateUploadRow(row, item);
  return row;
}

export function updateUploadRow(row: HTMLTableRowElement, item: UploadItem): void {
  row.dataset.status = item.status;
  const progress = row.querySelector('progress');
  if (progress) progress.value = item.status === 'queued' ? 0 : item.loaded;
  const result = row.querySelector<HTMLElement>('.upload-status');
  if (result) {
    result.dataset.status = item.status;
    result.textContent = resultText(item);
  }
}

export function resultText(item: UploadItem): string {
  switch (item.status) {
    case 'uploading':
      return `Uploading ${item.size ? Math.floor((item.loaded / item.size) * 100) : 0}%`;
    case 'failed':
      return item.message ? `Failed: ${item.message}` : 'Failed';
    case 'queued':
      return STATUS_TEXT.queued;
    default:
      return item.message || STATUS_TEXT[item.status];
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Arrow into a tray (built with DOM calls, no markup parsing). */
function uploadIcon(doc: Document): SVGSVGElement {
  const svg = doc.createElementNS(SVG_NS, 'svg');
  for (const [k, v] of Object.entries({ class: 'dropzone-icon', viewBox: '0 0 24 24', width: '30', height: '30', 'aria-hidden': 'true', fill: 'none', stroke: 'currentColor', 'stroke-width': '1.8', 'stroke-linecap': 'round', 'stroke-linejoin': 'round' })) {
    svg.setAttribute(k, v);
  }
  for (const d of ['M12 15V4', 'M7 9l5-5 5 5', 'M4 15v4a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-4']) {
    const path = doc.createElementNS(SVG_NS, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

export interface UploadOptions {
  queue: UploadQueue;
}

/** The drop zone with its "Choose files…" / "Choose folder…" buttons; `add` receives what was chosen or dropped. */
function createDropZone(doc: Document, add: (files: { file: File; name: string }[]) => void): HTMLElement {
  const fileInput = h('input', { class: 'visually-hidden', attrs: { type: 'file', multiple: true, 'data-upload': 'files' } });
  const folderInput = h('input', { class: 'visually-hidden', attrs: { type: 'file', multiple: true, webkitdirectory: true, 'data-upload': 'folder' } });
  fileInput.addEventListener('change', () => {
    add(filesOf(fileInput.files));
    fileInput.value = '';
  });
  folderInput.addEventListener('change', () => {
    add(filesOf(folderInput.files));
    folderInput.value = '';
  });

  const drop = h(
    'section',
    { class: 'dropzone', attrs: { 'aria-label': 'Choose DICOM files' } },
    uploadIcon(doc),
    h('strong', { text: 'Drop DICOM files or folders here' }),
    h('span', { class: 'muted', text: 'or' }),
    h(
      'div',
      { class: 'dropzone-buttons' },
      h('label', { class: 'btn btn-primary' }, 'Choose files…', fileInput),
      h('label', { class: 'btn' }, 'Choose folder…', folderInput),
    ),
    h('span', { class: 'muted small', text: 'Each file is sent to Orthanc as it is. Studies appear in the worklist once received.' }),
  );
  let depth = 0;
  drop.addEventListener('dragenter', (e) => {
    e.preventDefault();
    depth += 1;
    drop.classList.add('over');
  });
  drop.addEventListener('dragover', (e) => e.preventDefault());
  drop.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    if (e.dataTransfer) void droppedFiles(e.dataTransfer).then(add);
  });

  return drop;
}

/** "3 of 10 files done · 2 stored · …" (or why nothing is listed). */
function summaryLine(s: ReturnType<UploadQueue['summary']>, skippedNote: string): string {
  if (s.total === 0) return skippedNote || 'No files chosen yet.';
  const done = s.stored + s.duplicate + s.failed + s.cancelled;
  const parts = [`${done} of ${s.total} ${s.total === 1 ? 'file' : 'files'} done`, `${s.stored} stored`, `${s.duplicate} already stored`, `${s.failed} failed`];
  if (s.cancelled) parts.push(`${s.cancelled} cancelled`);
  parts.push(`${formatBytes(s.bytesDone)} of ${formatBytes(s.bytesTotal)}`);
  if (skippedNote) parts.push(skippedNote);
  return parts.join(' · ');
}

/** The files' table (hidden while empty) around its body. */
function uploadsTable(tbody: HTMLElement): HTMLTableElement {
  return h(
    'table',
    { class: 'uploads', attrs: { 'aria-label': 'Files' } },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'c-name', attrs: { scope: 'col' }, text: 'File' }),
        h('th', { class: 'c-size', attrs: { scope: 'col' }, text: 'Size' }),
        h('th', { class: 'c-progress', attrs: { scope: 'col' }, text: 'Progress' }),
        h('th', { class: 'c-result', attrs: { scope: 'col' }, text: 'Result' }),
      ),
    ),
    tbody,
  );
}

// The page follows one UploadQueue (which outlives it) through this closure; the drop zone, the summary
// line and the table are apart (createDropZone, summaryLine, uploadsTable), the queue is upload-queue.ts.
export function mountUpload(opts: UploadOptions): Page {
  const doc = document;
  const { queue } = opts;
  const rows = new Map<number, HTMLTableRowElement>();
  let skippedNote = '';

  const addFiles = (files: { file: File; name: string }[]): void => {
    if (files.length === 0) return;
    const skipped = queue.add(files);
    skippedNote = skipped ? `${skipped} hidden ${skipped === 1 ? 'file' : 'files'} skipped` : '';
    renderSummary();
  };
  const drop = createDropZone(doc, addFiles);

  const total = h('progress', { class: 'total-progress', attrs: { max: 1, value: 0, 'aria-label': 'Total progress' } });
  const summaryText = h('span', { class: 'upload-summary-text' });
  const cancelBtn = h('button', { class: 'btn', attrs: { type: 'button', 'data-action': 'cancel' }, text: 'Cancel', on: { click: () => queue.cancel() } });
  const retryBtn = h('button', { class: 'btn', attrs: { type: 'button', 'data-action': 'retry' }, text: 'Retry failed', on: { click: () => queue.retry() } });
  const clearBtn = h('button', { class: 'btn btn-ghost', attrs: { type: 'button', 'data-action': 'clear' }, text: 'Clear list', on: { click: () => queue.clearFinished() } });
  const worklistLink = h('a', { class: 'btn', attrs: { href: '#/' }, text: 'Open worklist' });
  const summary = h('div', { class: 'upload-summary', attrs: { role: 'status', 'aria-live': 'polite' } }, total, summaryText);

  const tbody = h('tbody');
  const table = uploadsTable(tbody);

  function renderSummary(): void {
    const s = queue.summary();
    total.max = Math.max(1, s.bytesTotal);
    total.value = s.bytesDone;
    summaryText.textContent = summaryLine(s, skippedNote);
    summary.dataset.state = s.total === 0 ? 'empty' : queue.running ? 'running' : s.failed ? 'failed' : 'done';
    cancelBtn.disabled = !queue.running;
    retryBtn.disabled = s.failed + s.cancelled === 0 || queue.running;
    clearBtn.disabled = queue.running || s.total === 0;
    worklistLink.hidden = queue.running || s.stored + s.duplicate === 0;
  }

  function renderAll(): void {
    const seen = new Set<number>();
    const ordered: HTMLTableRowElement[] = [];
    for (const item of queue.items) {
      seen.add(item.id);
      let row = rows.get(item.id);
      if (row) updateUploadRow(row, item);
      else {
        row = renderUploadRow(doc, item);
        rows.set(item.id, row);
      }
      ordered.push(row);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    tbody.replaceChildren(...ordered);
    table.hidden = ordered.length === 0;
    renderSummary();
  }

  const unsubscribe = queue.subscribe((changed) => {
    const row = changed ? rows.get(changed.id) : undefined;
    if (changed && row) {
      updateUploadRow(row, changed);
      renderSummary();
    } else renderAll();
  });

  const el = h(
    'div',
    { class: 'page upload-page' },
    h(
      'header',
      { class: 'topbar' },
      h('h1', { class: 'page-title', text: 'Upload' }),
      h('div', { class: 'topbar-right' }, worklistLink, retryBtn, cancelBtn, clearBtn),
    ),
    h('div', { class: 'upload-body' }, drop, summary, h('div', { class: 'table-scroll' }, table)),
  );
  document.title = 'Upload · Reading Room';
  renderAll();
  return {
    el,
    destroy(): void {
      unsubscribe();
    },
  };
}
