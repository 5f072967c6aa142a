// "AI analysis" panel of the study page (shown with the "ai" capability, capabilities.ts): start an analysis,
// follow it (polling, cancel), show its result or why there is none, review it, switch between the study's
// earlier analyses.
import { ApiError, isSessionEnded, type Api } from './api';
import {
  analyzeStudy,
  cancelAnalysis,
  getAiStatus,
  getAnalysis,
  isInProgress,
  listAnalyses,
  parseAnalysis,
  submitReview,
  type AiStatusInfo,
  type Analysis,
  type ReviewPayload,
} from './ai-api';
import { reviewLabel } from './ai-format';
import { pollAnalysis, POLL_INTERVAL_MS } from './ai-poll';
import { createReviewForm } from './ai-review-form';
import { renderAnalysesList, renderHistory, renderProvenance, renderResult, renderReviewNotice, renderStatusBlock, requestLine } from './ai-view';
import { hIn } from './dom';
import { errorAlert, messageOf, retryButton } from './failure';

export interface AiPanelOptions {
  api: Api;
  studyInstanceUid: string;
  doc?: Document;
  /** Poll interval of an analysis in progress (default 1.5 s). */
  pollMs?: number;
}

export interface AiPanel {
  el: HTMLElement;
  destroy(): void;
}

type Notice = { kind: 'error' | 'info' | 'ok'; title: string; text: string } | null;

/** Title and text of a failed POST ai/analyze (503: the server says what to configure). */
export function analyzeErrorNotice(err: unknown): { title: string; text: string } {
  const message = messageOf(err);
  if (err instanceof ApiError) {
    if (err.code === 'queue_full' || err.status === 429) return { title: 'The AI queue is full:', text: message };
    if (err.status === 503) return { title: 'AI analysis is not available:', text: message };
    if (err.status === 404) return { title: 'Study not found:', text: message };
    if (err.status === 403) return { title: 'Not allowed:', text: message };
  }
  return { title: 'Could not start the analysis:', text: message };
}

/** One line about the provider from GET ai/status ("" when the server gave nothing useful). */
export function providerLine(s: AiStatusInfo): { text: string; warn: boolean } {
  if (!s.provider.configured) return { text: 'No AI provider is configured on this server.', warn: true };
  const parts = [`${s.provider.name || 'AI provider'}${s.provider.model ? ` · ${s.provider.model}` : ''}`];
  if (s.provider.cloud) parts.push('cloud service: images leave this network');
  if (s.queue.depth > 0 || s.queue.running > 0) parts.push(`queue: ${s.queue.depth} waiting, ${s.queue.running} running`);
  if (s.provider.reachable === false) parts.push(`unreachable${s.provider.lastError ? `: ${s.provider.lastError}` : ''}`);
  return { text: parts.join(' · '), warn: s.provider.reachable === false };
}

/** A notice above the analyses (error, information, confirmation) with its Dismiss button. */
function noticeNode(doc: Document, notice: NonNullable<Notice>, dismiss: () => void): HTMLElement {
  return hIn(
    doc,
    'div',
    { class: 'ai-message', attrs: { 'data-kind': notice.kind, role: notice.kind === 'error' ? 'alert' : 'status' } },
    hIn(doc, 'strong', { text: notice.title }),
    notice.text ? hIn(doc, 'span', { class: 'ai-message-text', text: ` ${notice.text}` }) : null,
    hIn(doc, 'button', { class: 'btn-link ai-message-close', attrs: { type: 'button', 'aria-label': 'Dismiss' }, text: '×', on: { click: dismiss } }),
  );
}

/** The notice of a failed cancel: 409 means it had finished meanwhile. */
function cancelErrorNotice(err: unknown): Notice {
  const finished = err instanceof ApiError && err.status === 409;
  return { kind: 'error', title: finished ? 'The analysis had already finished.' : 'Could not cancel:', text: finished ? '' : messageOf(err) };
}

interface DetailOptions {
  cancelling: boolean;
  /** Why polling is retrying ('' when it is not). */
  pollProblem: string;
  onCancel(): void;
  review(payload: ReviewPayload): Promise<void>;
}

/** The analysis shown: its state (in progress or why there is no result), or the result with its review form. */
function detailNodes(doc: Document, a: Analysis, o: DetailOptions): HTMLElement[] {
  const meta = hIn(doc, 'p', { class: 'ai-meta small muted', text: requestLine(a) });
  const present = (nodes: (HTMLElement | null)[]): HTMLElement[] => nodes.filter((n): n is HTMLElement => n !== null);
  if (a.status !== 'completed') {
    return present([
      renderStatusBlock(doc, a, { onCancel: o.onCancel, cancelling: o.cancelling }),
      o.pollProblem && isInProgress(a.status) ? hIn(doc, 'p', { class: 'small error', attrs: { role: 'status' }, text: o.pollProblem }) : null,
      meta,
      isInProgress(a.status) ? null : renderProvenance(doc, a),
    ]);
  }
  const form = createReviewForm(doc, { analysis: a, submit: o.review });
  return present([renderReviewNotice(doc, a), renderResult(doc, a, form.decorator), renderProvenance(doc, a), meta, form.el, renderHistory(doc, a.reviews)]);
}

/** A line instead of the analysis (loading, none yet). */
function emptyState(doc: Document, text: string, spinner: boolean): HTMLElement {
  return hIn(doc, 'div', { class: 'ai-empty' }, spinner ? hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }) : null, hIn(doc, 'span', { text }));
}

/** A failed load instead of the analysis, with Retry. */
function errorState(doc: Document, title: string, err: unknown, retry: () => void): HTMLElement {
  return hIn(doc, 'div', { class: 'ai-empty' }, errorAlert(doc, title, err), retryButton(doc, retry));
}

// Over ~80 lines (about 250) on purpose for now: the panel is one state machine (the analysis shown, its
// polling, cancel, review, the study's earlier analyses) whose handlers share that state through this
// closure; what it renders is apart (noticeNode, detailNodes, emptyState, errorState, and ai-view, ai-poll,
// ai-review, ai-review-form, ai-format).
// Next step: one object per state with its own render and handlers.
export function mountAiPanel(opts: AiPanelOptions): AiPanel {
  const doc = opts.doc ?? document;
  const { api, studyInstanceUid: uid } = opts;
  const pollMs = opts.pollMs ?? POLL_INTERVAL_MS;

  let analyses: Analysis[] = [];
  let selectedId: string | null = null;
  let current: Analysis | null = null;
  let currentSig = '';
  let notice: Notice = null;
  let starting = false;
  let cancelling = false;
  let destroyed = false;
  let pollProblem = '';
  const life = new AbortController();
  let selection: AbortController | null = null;

  // ---- layout --------------------------------------------------------------
  const analyzeBtn = hIn(doc, 'button', {
    class: 'btn btn-primary',
    attrs: { type: 'button', 'data-action': 'ai-analyze' },
    text: 'Analyze with AI',
    on: { click: () => void analyze() },
  });
  const provider = hIn(doc, 'p', { class: 'ai-provider small muted', attrs: { hidden: true } });
  const noticeArea = hIn(doc, 'div', { class: 'ai-notice-area' });
  const runs = hIn(doc, 'div', { class: 'ai-runs-area' });
  const detail = hIn(doc, 'div', { class: 'ai-detail' });
  const el = hIn(
    doc,
    'section',
    { class: 'ai-panel', attrs: { 'aria-label': 'AI analysis', 'data-rr-ai': '' } },
    hIn(doc, 'h2', { class: 'panel-title', text: 'AI analysis' }),
    hIn(doc, 'div', { class: 'ai-panel-body' }, hIn(doc, 'div', { class: 'ai-actions' }, analyzeBtn), provider, noticeArea, runs, detail),
  );

  // ---- rendering -------------------------------------------------------------
  function renderActions(): void {
    const running = analyses.some((a) => isInProgress(a.status));
    analyzeBtn.disabled = starting || running;
    analyzeBtn.textContent = starting ? 'Starting…' : 'Analyze with AI';
    analyzeBtn.title = running ? 'An analysis of this study is in progress' : '';
  }

  function renderNotice(): void {
    if (!notice) noticeArea.replaceChildren();
    else {
      noticeArea.replaceChildren(
        noticeNode(doc, notice, () => {
          notice = null;
          renderNotice();
        }),
      );
    }
  }

  function renderRuns(): void {
    if (analyses.length === 0) {
      runs.replaceChildren();
      return;
    }
    runs.replaceChildren(
      hIn(doc, 'h3', { class: 'ai-subtitle', text: `Analyses of this study (${analyses.length})` }),
      renderAnalysesList(doc, analyses, selectedId, (id) => void select(id)),
    );
  }

  function renderDetail(): void {
    if (!current) return;
    const a = current;
    currentSig = JSON.stringify(a);
    detail.replaceChildren(
      ...detailNodes(doc, a, { cancelling, pollProblem, onCancel: () => void cancel(a.id), review: (payload) => review(a.id, payload) }),
    );
  }

  const detailState = (text: string, spinner = false): void => detail.replaceChildren(emptyState(doc, text, spinner));
  const detailError = (title: string, err: unknown, retry: () => void): void => detail.replaceChildren(errorState(doc, title, err, retry));

  // ---- state changes ---------------------------------------------------------
  /** Puts a newer copy of an analysis into the list (or at its top when new). */
  function remember(a: Analysis): void {
    const i = analyses.findIndex((x) => x.id === a.id);
    if (i >= 0) analyses[i] = a;
    else analyses = [a, ...analyses];
    renderRuns();
    renderActions();
  }

  function show(a: Analysis): void {
    if (a.id !== selectedId) return;
    current = a;
    remember(a);
    if (JSON.stringify(a) !== currentSig) renderDetail();
  }

  const stopped = (err: unknown): boolean => destroyed || isSessionEnded(err) || (err instanceof DOMException && err.name === 'AbortError');

  function follow(id: string, signal: AbortSignal): void {
    void pollAnalysis((s) => getAnalysis(api, id, s), {
      intervalMs: pollMs,
      signal,
      onUpdate: (a) => {
        const hadProblem = pollProblem !== '';
        pollProblem = '';
        if (hadProblem) currentSig = '';
        show(a);
      },
      onError: (err) => {
        if (stopped(err) || (err instanceof ApiError && (err.status === 404 || err.status === 403))) return false;
        pollProblem = `Lost contact with the server (${messageOf(err)}); retrying…`;
        if (current?.id === id) renderDetail();
        return true;
      },
    });
  }

  async function select(id: string): Promise<void> {
    selection?.abort();
    const ctrl = new AbortController();
    selection = ctrl;
    selectedId = id;
    current = null;
    currentSig = '';
    cancelling = false;
    pollProblem = '';
    renderRuns();
    detailState('Loading the analysis…', true);
    try {
      const a = await getAnalysis(api, id, ctrl.signal);
      if (ctrl.signal.aborted) return;
      show(a);
      if (isInProgress(a.status)) follow(id, ctrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted || stopped(err)) return;
      detailError('Could not load the analysis', err, () => void select(id));
    }
  }

  async function loadList(): Promise<void> {
    detailState('Loading AI analyses…', true);
    try {
      analyses = await listAnalyses(api, uid, life.signal);
    } catch (err) {
      if (stopped(err)) return;
      detailError('Could not load the AI analyses', err, () => void loadList());
      return;
    }
    if (destroyed) return;
    renderRuns();
    renderActions();
    const newest = analyses[0];
    if (newest) await select(newest.id);
    else detailState('No AI analysis of this study yet.');
  }

  async function loadStatus(): Promise<void> {
    try {
      const s = await getAiStatus(api, life.signal);
      if (destroyed) return;
      const line = providerLine(s);
      provider.textContent = line.text;
      provider.classList.toggle('warn', line.warn);
      provider.hidden = line.text === '';
    } catch {
      provider.hidden = true; // optional information: the analyze answer says the same when it matters
    }
  }

  async function analyze(): Promise<void> {
    if (starting) return;
    starting = true;
    notice = null;
    renderNotice();
    renderActions();
    try {
      // never "force": the server then starts a second analysis even while one is queued or running; without
      // it, such a one (started elsewhere meanwhile) is answered as "existing" and shown
      const answer = await analyzeStudy(api, uid);
      if (destroyed) return;
      notice = answer.existing
        ? { kind: 'info', title: 'An analysis of this study is already in progress:', text: 'showing it.' }
        : null;
      if (!analyses.some((a) => a.id === answer.id)) {
        remember(parseAnalysis({ id: answer.id, status: answer.status, studyInstanceUid: uid, requestedAt: new Date().toISOString() }));
      }
      starting = false;
      renderNotice();
      renderActions();
      await select(answer.id);
    } catch (err) {
      if (stopped(err)) return;
      notice = { kind: 'error', ...analyzeErrorNotice(err) };
      renderNotice();
    } finally {
      starting = false;
      if (!destroyed) renderActions();
    }
  }

  async function cancel(id: string): Promise<void> {
    if (cancelling) return;
    cancelling = true;
    renderDetail();
    try {
      const a = await cancelAnalysis(api, id);
      cancelling = false;
      if (a.id === '' || a.id !== id) await select(id);
      else {
        selection?.abort(); // stop polling: the answer is final
        show(a);
        currentSig = '';
        renderDetail();
      }
    } catch (err) {
      cancelling = false;
      if (stopped(err)) return;
      notice = cancelErrorNotice(err);
      renderNotice();
      await select(id);
    }
  }

  async function review(id: string, payload: ReviewPayload): Promise<void> {
    const a = await submitReview(api, id, payload);
    if (destroyed) return;
    notice = { kind: 'ok', title: `Review saved: ${reviewLabel(payload.reviewStatus)}.`, text: '' };
    renderNotice();
    if (selectedId === id) {
      currentSig = '';
      show(a.id ? a : { ...a, id });
    } else remember(a);
  }

  renderActions();
  void loadStatus();
  void loadList();

  return {
    el,
    destroy(): void {
      destroyed = true;
      life.abort();
      selection?.abort();
    },
  };
}
