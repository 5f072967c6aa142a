// Rendering of AI analyses: status, findings, provenance, review history, list of a study's analyses.
// Every string of an analysis comes from the server or the model: text nodes / attributes only.
import { isInProgress, type Analysis, type Finding, type Review } from './ai-api';
import {
  categoryLabel,
  confidenceLabel,
  findingOrder,
  formatAiConfidence,
  formatModel,
  provenanceParts,
  reviewLabel,
  severityLabel,
  severityRank,
  statusKind,
  statusLabel,
  statusMessage,
  statusTitle,
  verdictLabel,
} from './ai-format';
import { latestReview, verdictSummary } from './ai-review';
import { hIn } from './dom';
import { formatInstant, formatInstantSeconds } from './format';

export const NOT_A_DIAGNOSIS = 'AI output — not a diagnosis; must be reviewed by a radiologist';

/** Small status badge ("Completed", "Failed"…). */
export function statusBadge(doc: Document, status: string): HTMLSpanElement {
  return hIn(doc, 'span', { class: 'ai-badge', attrs: { 'data-kind': statusKind(status), 'data-status': status }, text: statusLabel(status) });
}

/** Small review badge ("Pending review", "Confirmed"…; short: "Pending"). */
export function reviewBadge(doc: Document, reviewStatus: string, short = false): HTMLSpanElement {
  return hIn(doc, 'span', { class: 'review-badge', attrs: { 'data-review': reviewStatus, title: reviewLabel(reviewStatus) }, text: reviewLabel(reviewStatus, short) });
}

/** Severity as a coloured badge with 4 pips (normal: none … critical: all), plus its name. */
export function severityBadge(doc: Document, severity: string): HTMLSpanElement {
  const rank = severityRank(severity);
  const pips = hIn(doc, 'span', { class: 'sev-pips', attrs: { 'aria-hidden': 'true' } });
  for (let i = 1; i <= 4; i++) pips.appendChild(hIn(doc, 'span', { class: `sev-pip${rank >= i ? ' on' : ''}` }));
  return hIn(
    doc,
    'span',
    { class: 'severity-badge', attrs: { 'data-severity': severity, title: `Severity: ${severityLabel(severity)}` } },
    pips,
    hIn(doc, 'span', { class: 'sev-label', text: severityLabel(severity) }),
  );
}

/** Adds review controls to the findings table (see ai-review-form.ts): a row under each finding. */
export interface FindingDecorator {
  /** Verdict buttons of a finding. */
  controls(index: number): Node;
  /** The editor of a finding's description (hidden until "Edit"). */
  editor(index: number): Node;
  /** Called with each finding's row, to mark its verdict. */
  row?(index: number, tr: HTMLTableRowElement): void;
}

/** The images a finding names (ai-images.ts) and how to show one; the row and its "Image n" buttons show them. */
export interface FindingImages {
  /** The image numbers (1-based, in the order sent) finding `index` names; [] for none. */
  numbers(f: Finding, index: number): number[];
  /** Shows image n (the button clicked, or the row's first image button, gets the feedback). */
  show(n: number, button: HTMLElement): void;
}

const FINDING_COLUMNS = 6;

/** "Image 3" buttons of a finding, in its location cell. */
function findingImageButtons(doc: Document, numbers: readonly number[], images: FindingImages): HTMLElement[] {
  return numbers.map((n) => {
    const b: HTMLButtonElement = hIn(doc, 'button', {
      class: 'finding-image btn-link',
      attrs: { type: 'button', 'data-rr-ai-image': n, title: `Show image ${n} in the viewer` },
      text: `Image ${n}`,
      on: { click: () => images.show(n, b) },
    });
    return b;
  });
}

/**
 * The findings, most severe first (ai-format.ts findingOrder), each row colour-coded by severity (the badge says
 * it in words too). data-index and the "#" column keep the model's numbering, which the review uses. With
 * `images`, a finding that names images gets "Image n" buttons, and a click on its row shows the first.
 */
export function renderFindingsTable(doc: Document, findings: readonly Finding[], decorator?: FindingDecorator, images?: FindingImages): HTMLElement {
  if (findings.length === 0) {
    return hIn(doc, 'p', { class: 'ai-no-findings', text: 'The model reported no findings.' });
  }
  const th = (text: string, cls: string): HTMLTableCellElement => hIn(doc, 'th', { class: cls, attrs: { scope: 'col' }, text });
  const head = hIn(
    doc,
    'tr',
    {},
    th('#', 'c-idx'),
    th('Severity', 'c-sev'),
    th('Category', 'c-cat'),
    th('Description', 'c-desc'),
    th('Location', 'c-loc'),
    th('Confidence', 'c-conf'),
  );
  const body = hIn(doc, 'tbody');
  for (const i of findingOrder(findings)) {
    const f = findings[i]!;
    const refs = images ? images.numbers(f, i) : [];
    const refButtons = images && refs.length ? findingImageButtons(doc, refs, images) : [];
    const tr = hIn(
      doc,
      'tr',
      { class: `finding-row${refs.length ? ' has-image' : ''}`, attrs: { 'data-index': i, 'data-severity': f.severity, 'data-rr-image': refs[0] ?? null } },
      hIn(doc, 'td', { class: 'c-idx', text: String(i + 1) }),
      // severity first: the table is in severity order
      hIn(doc, 'td', { class: 'c-sev' }, severityBadge(doc, f.severity)),
      hIn(doc, 'td', { class: 'c-cat', text: categoryLabel(f.category) }),
      hIn(doc, 'td', { class: 'c-desc' }, hIn(doc, 'span', { class: 'finding-text', text: f.description })),
      refButtons.length
        ? hIn(doc, 'td', { class: 'c-loc' }, hIn(doc, 'span', { class: 'finding-loc', text: f.location }), hIn(doc, 'span', { class: 'finding-images' }, ...refButtons))
        : hIn(doc, 'td', { class: 'c-loc', text: f.location }),
      hIn(doc, 'td', { class: 'c-conf' }, hIn(doc, 'span', { class: 'conf-badge', attrs: { 'data-confidence': f.confidence }, text: confidenceLabel(f.confidence) })),
    );
    body.appendChild(tr);
    const first = refButtons[0];
    if (images && first) {
      tr.title = `Click to show image ${refs[0]} in the viewer`;
      tr.addEventListener('click', (e) => {
        if (e.target instanceof Element && e.target.closest('button, a, textarea, input')) return;
        images.show(refs[0]!, first);
      });
    }
    if (decorator) {
      tr.classList.add('has-review');
      body.appendChild(
        hIn(
          doc,
          'tr',
          { class: 'finding-review', attrs: { 'data-index': i } },
          hIn(doc, 'td', { class: 'c-idx' }),
          hIn(doc, 'td', { class: 'c-review', attrs: { colspan: FINDING_COLUMNS - 1 } }, decorator.controls(i), decorator.editor(i)),
        ),
      );
      decorator.row?.(i, tr);
    }
  }
  return hIn(doc, 'div', { class: 'findings-scroll' }, hIn(doc, 'table', { class: 'findings' }, hIn(doc, 'thead', {}, head), body));
}

/** "Requested by X · 2026-11-24 10:00 · finished 10:01" */
export function requestLine(a: Analysis): string {
  const progress = isInProgress(a.status);
  return [
    a.requestedBy ? `Requested by ${a.requestedBy}` : 'Requested',
    formatInstant(a.requestedAt),
    !progress && a.finishedAt ? `finished ${formatInstant(a.finishedAt)}` : a.startedAt ? `started ${formatInstant(a.startedAt)}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

export interface StatusBlockOptions {
  /** Cancel button (in progress only); omitted: no button. */
  onCancel?(): void;
  cancelling?: boolean;
}

/**
 * The state of an analysis that is not a completed result: in progress (with Cancel) or a final failure
 * (its own title and message, the error text, and the raw answer when kept). null for completed.
 */
export function renderStatusBlock(doc: Document, a: Analysis, opts: StatusBlockOptions = {}): HTMLElement | null {
  if (a.status === 'completed') return null;
  const kind = statusKind(a.status);
  const progress = isInProgress(a.status);
  const block = hIn(doc, 'div', {
    class: 'ai-status',
    attrs: { 'data-kind': kind, 'data-status': a.status, role: progress ? 'status' : 'alert', 'aria-live': progress ? 'polite' : null },
  });
  block.appendChild(
    hIn(
      doc,
      'div',
      { class: 'ai-status-head' },
      progress ? hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }) : null,
      hIn(doc, 'strong', { class: 'ai-status-title', text: statusTitle(a.status) }),
      progress && opts.onCancel
        ? hIn(doc, 'button', {
            class: 'btn',
            attrs: { type: 'button', 'data-action': 'ai-cancel', disabled: opts.cancelling === true },
            text: opts.cancelling ? 'Cancelling…' : 'Cancel',
            on: { click: () => opts.onCancel?.() },
          })
        : null,
    ),
  );
  block.appendChild(hIn(doc, 'p', { class: 'ai-status-message', text: statusMessage(a.status) }));
  if (a.error.trim()) {
    block.appendChild(hIn(doc, 'p', { class: 'ai-error' }, hIn(doc, 'span', { class: 'muted', text: 'Reason: ' }), hIn(doc, 'span', { class: 'ai-error-text', text: a.error })));
  }
  if (a.rawText) {
    block.appendChild(
      hIn(
        doc,
        'details',
        { class: 'ai-raw' },
        hIn(doc, 'summary', { text: 'The model’s raw answer (not validated)' }),
        hIn(doc, 'pre', { class: 'ai-raw-text', text: a.rawText }),
      ),
    );
  }
  return block;
}

/** The notice while a result awaits review, or who reviewed it. */
export function renderReviewNotice(doc: Document, a: Analysis): HTMLElement | null {
  if (a.status !== 'completed') return null;
  if (a.reviewStatus === 'pending') {
    return hIn(doc, 'div', { class: 'ai-notice', attrs: { role: 'note', 'data-review': 'pending' } }, hIn(doc, 'strong', { text: NOT_A_DIAGNOSIS }));
  }
  return hIn(
    doc,
    'div',
    { class: 'ai-reviewed', attrs: { 'data-review': a.reviewStatus } },
    reviewBadge(doc, a.reviewStatus),
    hIn(doc, 'span', { text: [a.reviewedBy ? ` by ${a.reviewedBy}` : '', a.reviewedAt ? ` · ${formatInstant(a.reviewedAt)}` : ''].join('') }),
  );
}

/** What the study page adds to a result: the images a finding names, and the thumbnails of the images sent. */
export interface ResultImages {
  findings?: FindingImages;
  /** The images sent (ai-images.ts renderSentImages), shown under the findings. */
  sent?: HTMLElement;
}

/** Summary, findings, recommendations, AI confidence and the provenance line of a completed analysis. */
export function renderResult(doc: Document, a: Analysis, decorator?: FindingDecorator, images: ResultImages = {}): HTMLElement {
  const confidence = formatAiConfidence(a.aiConfidence, a.aiConfidenceScore);
  return hIn(
    doc,
    'div',
    { class: 'ai-result' },
    hIn(doc, 'h3', { class: 'ai-subtitle', text: 'Summary' }),
    hIn(doc, 'p', { class: 'ai-summary', text: a.summary || '—' }),
    hIn(doc, 'h3', { class: 'ai-subtitle', text: `Findings (${a.findings.length})` }),
    renderFindingsTable(doc, a.findings, decorator, images.findings),
    images.sent ? hIn(doc, 'h3', { class: 'ai-subtitle', text: `Images sent to the model (${a.images.length})` }) : null,
    images.sent ?? null,
    hIn(doc, 'h3', { class: 'ai-subtitle', text: 'Recommendations' }),
    a.recommendations.length
      ? hIn(doc, 'ul', { class: 'ai-recommendations' }, ...a.recommendations.map((r) => hIn(doc, 'li', { text: r })))
      : hIn(doc, 'p', { class: 'muted', text: 'None.' }),
    hIn(
      doc,
      'p',
      { class: 'ai-confidence' },
      hIn(doc, 'span', { class: 'muted', text: 'AI confidence: ' }),
      hIn(doc, 'strong', { class: 'conf-badge', attrs: { 'data-confidence': a.aiConfidence ?? '' }, text: confidence || 'not given' }),
    ),
  );
}

/** The small provenance line (model, provider, images sent, latency, tokens, cost…). */
export function renderProvenance(doc: Document, a: Analysis): HTMLElement {
  return hIn(doc, 'p', { class: 'ai-provenance small muted', attrs: { 'data-analysis-id': a.id } }, provenanceParts(a).join(' · '));
}

/** Review history, newest first: who, when, decision, per-finding verdicts, notes. */
export function renderHistory(doc: Document, reviews: readonly Review[] | null): HTMLElement {
  const section = hIn(doc, 'section', { class: 'ai-history', attrs: { 'aria-label': 'Review history' } }, hIn(doc, 'h3', { class: 'ai-subtitle', text: 'Review history' }));
  if (!reviews || reviews.length === 0) {
    section.appendChild(hIn(doc, 'p', { class: 'muted', text: 'Not reviewed yet.' }));
    return section;
  }
  const ordered = [...reviews].sort((a, b) => (Date.parse(b.at) || 0) - (Date.parse(a.at) || 0));
  const latest = latestReview(reviews);
  section.appendChild(
    hIn(
      doc,
      'ol',
      { class: 'history-list' },
      ...ordered.map((r) => {
        const counts = verdictSummary(r);
        const edits = r.findings.filter((f) => f.verdict === 'edited' && f.text);
        return hIn(
          doc,
          'li',
          { class: `history-entry${r === latest ? ' latest' : ''}`, attrs: { 'data-review': r.reviewStatus } },
          hIn(
            doc,
            'div',
            { class: 'history-head' },
            reviewBadge(doc, r.reviewStatus),
            hIn(doc, 'span', { class: 'history-reviewer', text: r.reviewer || 'unknown reviewer' }),
            hIn(doc, 'span', { class: 'history-at muted', attrs: { title: r.at || null }, text: formatInstant(r.at) }),
          ),
          counts ? hIn(doc, 'div', { class: 'history-verdicts small muted', text: counts }) : null,
          edits.length
            ? hIn(
                doc,
                'ul',
                { class: 'history-edits small' },
                ...edits.map((e) => hIn(doc, 'li', {}, hIn(doc, 'span', { class: 'muted', text: `#${e.index + 1} ${verdictLabel(e.verdict)}: ` }), hIn(doc, 'span', { text: e.text }))),
              )
            : null,
          r.notes ? hIn(doc, 'p', { class: 'history-notes', text: r.notes }) : null,
        );
      }),
    ),
  );
  return section;
}

/** The study's analyses (newest first) as buttons; the selected one is marked aria-current. */
export function renderAnalysesList(doc: Document, analyses: readonly Analysis[], selectedId: string | null, onSelect: (id: string) => void): HTMLElement {
  return hIn(
    doc,
    'ol',
    { class: 'ai-runs', attrs: { 'aria-label': 'Analyses of this study' } },
    ...analyses.map((a) =>
      hIn(
        doc,
        'li',
        {},
        hIn(
          doc,
          'button',
          {
            class: 'ai-run',
            attrs: { type: 'button', 'data-analysis-id': a.id, 'aria-current': a.id === selectedId ? 'true' : null },
            on: { click: () => onSelect(a.id) },
          },
          hIn(doc, 'span', { class: 'ai-run-at', text: formatInstantSeconds(a.requestedAt) || a.id }),
          statusBadge(doc, a.status),
          a.status === 'completed' ? reviewBadge(doc, a.reviewStatus) : null,
          hIn(doc, 'span', { class: 'ai-run-model muted', text: formatModel(a) }),
        ),
      ),
    ),
  );
}
