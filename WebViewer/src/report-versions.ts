// The signed report, read-only: state badge, signature line, PDF of the prevailing version, the content of the
// prevailing original or correction with its addenda in order (above it, so that no reader misses them), the critical result's communication, every
// version with its own PDF, and the outputs in the archive (Encapsulated PDF, SR, key object selection) with
// their state. Text only; PDF links point below the API root (the server's "pdf" member when it sent one).
import { hIn } from './dom';
import { formatInstant } from './format';
import { renderReadOnly } from './report-form';
import { isSignedFinal, pdfUrl, stateLabel, type Report, type ReportOutput, type ReportVersion } from './report-api';

export function stateBadge(doc: Document, state: string): HTMLElement {
  return hIn(doc, 'span', { class: 'report-state-badge', attrs: { 'data-state': state }, text: stateLabel(state) });
}

/** "Signed by Jane Doe (jdoe) on 2026-12-04 10:20" ('' when unsigned). */
export function signatureLine(v: Pick<ReportVersion, 'signedBy' | 'signedByName' | 'signedAt' | 'status'>): string {
  if (!v.signedBy) return '';
  const who = v.signedByName && v.signedByName !== v.signedBy ? `${v.signedByName} (${v.signedBy})` : v.signedBy;
  const what = v.status === 'preliminary' ? 'Preliminary, signed' : 'Signed';
  return `${what} by ${who}${v.signedAt ? ` on ${formatInstant(v.signedAt)}` : ''}`;
}

/** The PDF of a version: the server's link (its path kept below our origin) or the documented route. */
export function versionPdfHref(apiRoot: string, r: Pick<Report, 'reportId'>, v: Pick<ReportVersion, 'version' | 'pdf' | 'signedBy'>): string | null {
  if (!v.signedBy && !v.pdf) return null;
  if (v.pdf && v.pdf.startsWith('/') && !v.pdf.startsWith('//')) return v.pdf;
  return pdfUrl(apiRoot, r.reportId, v.version);
}

/** The version whose fields readers see: the latest final original or correction (else the latest signed one). */
export function contentVersion(r: Report): ReportVersion | null {
  const signed = r.versions.filter((v) => v.status === 'final' && v.kind !== 'addendum');
  return signed[signed.length - 1] ?? r.versions.filter((v) => v.signedBy)[0] ?? r.versions[r.versions.length - 1] ?? null;
}

/** The addenda signed after the content version, in order. */
export function addendaOf(r: Report): ReportVersion[] {
  return r.versions.filter((v) => v.kind === 'addendum' && v.status === 'final');
}

const KIND_LABEL: Record<string, string> = { original: 'Report', addendum: 'Addendum', correction: 'Correction' };
const OUTPUT_LABEL: Record<string, string> = { pdf: 'Encapsulated PDF', sr: 'Structured report (SR)', kos: 'Key images (KOS)' };
const OUTPUT_STATE: Record<string, string> = { queued: 'Queued', running: 'Sending…', done: 'In the archive', failed: 'Failed' };

/** One line per output: "v2 Encapsulated PDF — In the archive". */
export function outputText(o: ReportOutput): { what: string; state: string } {
  const state = OUTPUT_STATE[o.state] ?? o.state;
  return {
    what: `v${o.version} ${OUTPUT_LABEL[o.kind] ?? o.kind}`,
    state: o.state === 'failed' && o.lastError ? `${state} (${o.attempts} attempts): ${o.lastError}` : o.state === 'queued' && o.attempts > 0 ? `${state} (retry ${o.attempts})` : state,
  };
}

export function renderVersions(doc: Document, apiRoot: string, r: Report): HTMLElement {
  const rows = r.versions.map((v) => {
    const href = versionPdfHref(apiRoot, r, v);
    return hIn(
      doc,
      'li',
      { class: 'report-version', attrs: { 'data-version': v.version, 'data-status': v.status } },
      hIn(doc, 'span', { class: 'version-name', text: `v${v.version} ${KIND_LABEL[v.kind] ?? v.kind}` }),
      hIn(doc, 'span', { class: 'version-status', text: v.status }),
      hIn(doc, 'span', { class: 'small muted version-sign', text: signatureLine(v) || `${v.author}${v.updatedAt ? ` · ${formatInstant(v.updatedAt)}` : ''}` }),
      href ? hIn(doc, 'a', { class: 'btn-link version-pdf', attrs: { href, target: '_blank', rel: 'noopener' }, text: 'PDF' }) : null,
    );
  });
  return hIn(doc, 'section', { class: 'report-versions', attrs: { 'aria-label': 'Versions' } }, hIn(doc, 'h3', { class: 'report-subtitle', text: 'Versions' }), hIn(doc, 'ul', { class: 'version-list' }, ...rows));
}

export function renderOutputs(doc: Document, r: Report): HTMLElement | null {
  if (r.outputs.length === 0) return isSignedFinal(r) ? hIn(doc, 'p', { class: 'small muted report-outputs', text: 'Archive copies: not queued yet.' }) : null;
  return hIn(
    doc,
    'section',
    { class: 'report-outputs', attrs: { 'aria-label': 'In the archive' } },
    hIn(doc, 'h3', { class: 'report-subtitle', text: 'In the archive' }),
    hIn(
      doc,
      'ul',
      { class: 'output-list' },
      ...r.outputs.map((o) => {
        const t = outputText(o);
        return hIn(doc, 'li', { class: 'report-output', attrs: { 'data-kind': o.kind, 'data-state': o.state, 'data-version': o.version } }, hIn(doc, 'span', { text: t.what }), hIn(doc, 'span', { class: 'output-state', text: t.state }));
      }),
    ),
  );
}

export function renderCommunication(doc: Document, r: Report): HTMLElement | null {
  if (!r.critical) return null;
  const c = r.criticalCommunication;
  const text = c
    ? `Communicated to ${c.recipient} by ${c.method}${c.communicatedAt ? ` on ${formatInstant(c.communicatedAt)}` : ''}${c.recordedBy ? ` (recorded by ${c.recordedBy})` : ''}`
    : 'Critical finding: communication not recorded yet.';
  const acks = r.acknowledgements.length ? `Acknowledged by ${r.acknowledgements.map((a) => `${a.username}${a.at ? ` (${formatInstant(a.at)})` : ''}`).join(', ')}` : 'Not acknowledged yet.';
  return hIn(doc, 'div', { class: 'report-critical', attrs: { role: 'note' } }, hIn(doc, 'strong', { text: 'Critical result. ' }), hIn(doc, 'span', { text }), hIn(doc, 'div', { class: 'small', text: acks }));
}

export interface SignedViewOptions {
  apiRoot: string;
  report: Report;
  /** The inserted items (report-inserts.ts renderInserts, read-only). */
  inserts: HTMLElement | null;
  actions: HTMLElement | null;
}

/** The read-only report. */
export function renderSigned(doc: Document, o: SignedViewOptions): HTMLElement {
  const r = o.report;
  const content = contentVersion(r);
  const correction = content?.kind === 'correction' ? content : null;
  const head = hIn(
    doc,
    'div',
    { class: 'report-signed-head' },
    stateBadge(doc, r.state),
    r.critical ? hIn(doc, 'span', { class: 'report-critical-badge', text: 'Critical' }) : null,
    hIn(doc, 'span', { class: 'small report-signature', text: content ? signatureLine(content) : '' }),
    isSignedFinal(r) ? hIn(doc, 'a', { class: 'btn btn-small report-pdf', attrs: { href: pdfUrl(o.apiRoot, r.reportId), target: '_blank', rel: 'noopener', 'data-action': 'report-pdf' }, text: 'Open PDF' }) : null,
  );
  const addenda = addendaOf(r).map((v) =>
    hIn(
      doc,
      'section',
      { class: 'report-addendum', attrs: { 'data-version': v.version } },
      hIn(doc, 'h3', { text: `Addendum (v${v.version})` }),
      hIn(doc, 'p', { class: 'addendum-text', text: v.text ?? '' }),
      hIn(doc, 'p', { class: 'small muted', text: signatureLine(v) }),
    ),
  );
  return hIn(
    doc,
    'div',
    { class: 'report-signed', attrs: { 'data-state': r.state } },
    head,
    r.stateReason ? hIn(doc, 'p', { class: 'small muted', text: `Reason: ${r.stateReason}` }) : null,
    correction?.text ? hIn(doc, 'p', { class: 'report-correction-reason', text: `Corrected: ${correction.text}` }) : null,
    o.actions,
    renderCommunication(doc, r),
    // addenda first (in order): a reader must not miss what was added after the report
    ...addenda,
    content && r.template ? renderReadOnly(doc, r.template, content.fields) : null,
    o.inserts,
    renderVersions(doc, o.apiRoot, r),
    renderOutputs(doc, r),
  );
}
