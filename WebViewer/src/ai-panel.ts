// "AI analysis" panel of the study page (shown with the "ai" capability, capabilities.ts): start an analysis,
// follow it (polling, cancel), show its result or why there is none, review it, switch between the study's
// earlier analyses.
import { ApiError, isSessionEnded, type Api, type StudyDetail } from './api';
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
import { findingImageNumbers, renderSentImages, sentImages, showWithFeedback, type SentImage } from './ai-images';
import { pollAnalysis, POLL_INTERVAL_MS } from './ai-poll';
import { createReviewForm } from './ai-review-form';
import { renderAnalysesList, renderHistory, renderProvenance, renderResult, renderReviewNotice, renderStatusBlock, requestLine, type ResultImages } from './ai-view';
import { hIn } from './dom';
import { errorAlert, messageOf, retryButton } from './failure';

export interface AiPanelOptions {
  api: Api;
  studyInstanceUid: string;
  doc?: Document;
  /** Poll interval of an analysis in progress (default 1.5 s). */
  pollMs?: number;
  /** The study detail: where the images sent to the model are (their Orthanc IDs, for the thumbnails). */
  study?: Pick<StudyDetail, 'series'> | null;
  /** The app's API root ("/api/"), for the thumbnails (the plugin's rendered frames); without it, no thumbnails. */
  apiRoot?: string;
  /**
   * The viewer's navigation (viewer-goto.ts: frame 1-based): a thumbnail of an image sent, or a finding that
   * names one, shows it in the active viewport. Without it the thumbnails only list the images.
   */
  showImage?: (sopInstanceUid: string, frame: number) => Promise<boolean>;
}

export interface AiPanel {
  el: HTMLElement;
  /** "Analyze with AI": in the panel until the page puts it elsewhere (the study page: top right of the viewer). */
  analyzeButton: HTMLButtonElement;
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
  /** The thumbnails of the images sent and the images findings name (ai-images.ts). */
  images: (a: Analysis) => ResultImages;
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
  return present([renderReviewNotice(doc, a), renderResult(doc, a, form.decorator, o.images(a)), renderProvenance(doc, a), meta, form.el, renderHistory(doc, a.reviews)]);
}

/** A line instead of the analysis (loading, none yet). */
function emptyState(doc: Document, text: string, spinner: boolean): HTMLElement {
  return hIn(doc, 'div', { class: 'ai-empty' }, spinner ? hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }) : null, hIn(doc, 'span', { text }));
}

/** A failed load instead of the analysis, with Retry. */
function errorState(doc: Document, title: string, err: unknown, retry: () => void): HTMLElement {
  return hIn(doc, 'div', { class: 'ai-empty' }, errorAlert(doc, title, err), retryButton(doc, retry));
}

// The panel's state and its transitions (select an analysis, follow it, analyze, cancel, review); what it
// renders is in the functions above and in ai-view / ai-review-form. One method per step.
class AiPanelController {
  private readonly doc: Document;
  private readonly api: Api;
  private readonly uid: string;
  private readonly pollMs: number;
  private readonly study: Pick<StudyDetail, 'series'> | null;
  private readonly apiRoot: string | null;
  private readonly showImage: ((sopInstanceUid: string, frame: number) => Promise<boolean>) | null;
  private analyses: Analysis[] = [];
  private selectedId: string | null = null;
  private current: Analysis | null = null;
  private currentSig = '';
  private notice: Notice = null;
  private starting = false;
  private cancelling = false;
  private destroyed = false;
  private pollProblem = '';
  private readonly life = new AbortController();
  private selection: AbortController | null = null;
  readonly el: HTMLElement;
  readonly analyzeButton: HTMLButtonElement;
  private readonly provider: HTMLElement;
  private readonly noticeArea: HTMLElement;
  private readonly runs: HTMLElement;
  private readonly detail: HTMLElement;

  constructor(opts: AiPanelOptions) {
    this.doc = opts.doc ?? document;
    this.api = opts.api;
    this.uid = opts.studyInstanceUid;
    this.pollMs = opts.pollMs ?? POLL_INTERVAL_MS;
    this.study = opts.study ?? null;
    this.apiRoot = opts.apiRoot ?? null;
    this.showImage = opts.showImage ?? null;
    this.analyzeButton = hIn(this.doc, 'button', {
      class: 'btn btn-primary',
      attrs: { type: 'button', 'data-action': 'ai-analyze' },
      text: 'Analyze with AI',
      on: { click: () => void this.analyze() },
    });
    this.provider = hIn(this.doc, 'p', { class: 'ai-provider small muted', attrs: { hidden: true } });
    this.noticeArea = hIn(this.doc, 'div', { class: 'ai-notice-area' });
    this.runs = hIn(this.doc, 'div', { class: 'ai-runs-area' });
    this.detail = hIn(this.doc, 'div', { class: 'ai-detail' });
    this.el = hIn(
      this.doc,
      'section',
      { class: 'ai-panel', attrs: { 'aria-label': 'AI analysis', 'data-rr-ai': '' } },
      hIn(this.doc, 'h2', { class: 'panel-title', text: 'AI analysis' }),
      hIn(this.doc, 'div', { class: 'ai-panel-body' }, hIn(this.doc, 'div', { class: 'ai-actions' }, this.analyzeButton), this.provider, this.noticeArea, this.runs, this.detail),
    );
  }

  start(): void {
    this.renderActions();
    void this.loadStatus();
    void this.loadList();
  }

  destroy(): void {
    this.destroyed = true;
    this.life.abort();
    this.selection?.abort();
  }

  // ---- rendering -------------------------------------------------------------
  private renderActions(): void {
    const running = this.analyses.some((a) => isInProgress(a.status));
    this.analyzeButton.disabled = this.starting || running;
    this.analyzeButton.textContent = this.starting ? 'Starting…' : 'Analyze with AI';
    this.analyzeButton.title = running ? 'An analysis of this study is in progress' : '';
  }

  private renderNotice(): void {
    if (!this.notice) this.noticeArea.replaceChildren();
    else {
      this.noticeArea.replaceChildren(
        noticeNode(this.doc, this.notice, () => {
          this.notice = null;
          this.renderNotice();
        }),
      );
    }
  }

  private renderRuns(): void {
    if (this.analyses.length === 0) {
      this.runs.replaceChildren();
      return;
    }
    this.runs.replaceChildren(
      hIn(this.doc, 'h3', { class: 'ai-subtitle', text: `Analyses of this study (${this.analyses.length})` }),
      renderAnalysesList(this.doc, this.analyses, this.selectedId, (id) => void this.select(id)),
    );
  }

  private renderDetail(): void {
    if (!this.current) return;
    const a = this.current;
    this.currentSig = JSON.stringify(a);
    this.detail.replaceChildren(
      ...detailNodes(this.doc, a, { images: (x) => this.resultImages(x), cancelling: this.cancelling, pollProblem: this.pollProblem, onCancel: () => void this.cancel(a.id), review: (payload) => this.review(a.id, payload) }),
    );
  }

  /** The thumbnails of the images sent and the "Image n" links of the findings (ai-images.ts). */
  private resultImages(a: Analysis): ResultImages {
    const images = sentImages(a.images, this.study);
    const show = this.showImage;
    const showSent = show
      ? async (img: SentImage): Promise<boolean> => {
          if (img.orthancId === null) return false;
          const ok = await show(img.sopInstanceUid, img.frame + 1);
          if (ok) this.markShown(img.n);
          return ok;
        }
      : null;
    const sent = renderSentImages(this.doc, images, this.apiRoot, showSent);
    if (!showSent) return { sent };
    return {
      sent,
      findings: {
        numbers: (f) => findingImageNumbers(f, images.length),
        show: (n, button) => {
          const img = images[n - 1];
          if (img) void showWithFeedback(button, img, showSent);
        },
      },
    };
  }

  /** Marks the thumbnail of the image the viewer shows now (aria-current). */
  private markShown(n: number): void {
    for (const b of this.detail.querySelectorAll<HTMLElement>('button.ai-image')) {
      if (b.getAttribute('data-rr-ai-image') === String(n)) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    }
  }

  private detailState(text: string, spinner = false): void {
    this.detail.replaceChildren(emptyState(this.doc, text, spinner));
  }

  private detailError(title: string, err: unknown, retry: () => void): void {
    this.detail.replaceChildren(errorState(this.doc, title, err, retry));
  }

  // ---- state changes ---------------------------------------------------------
  /** Puts a newer copy of an analysis into the list (or at its top when new). */
  private remember(a: Analysis): void {
    const i = this.analyses.findIndex((x) => x.id === a.id);
    if (i >= 0) this.analyses[i] = a;
    else this.analyses = [a, ...this.analyses];
    this.renderRuns();
    this.renderActions();
  }

  private show(a: Analysis): void {
    if (a.id !== this.selectedId) return;
    this.current = a;
    this.remember(a);
    if (JSON.stringify(a) !== this.currentSig) this.renderDetail();
  }

  private readonly stopped = (err: unknown): boolean => this.destroyed || isSessionEnded(err) || (err instanceof DOMException && err.name === 'AbortError');

  private follow(id: string, signal: AbortSignal): void {
    void pollAnalysis((s) => getAnalysis(this.api, id, s), {
      intervalMs: this.pollMs,
      signal,
      onUpdate: (a) => {
        const hadProblem = this.pollProblem !== '';
        this.pollProblem = '';
        if (hadProblem) this.currentSig = '';
        this.show(a);
      },
      onError: (err) => {
        if (this.stopped(err) || (err instanceof ApiError && (err.status === 404 || err.status === 403))) return false;
        this.pollProblem = `Lost contact with the server (${messageOf(err)}); retrying…`;
        if (this.current?.id === id) this.renderDetail();
        return true;
      },
    });
  }

  private async select(id: string): Promise<void> {
    this.selection?.abort();
    const ctrl = new AbortController();
    this.selection = ctrl;
    this.selectedId = id;
    this.current = null;
    this.currentSig = '';
    this.cancelling = false;
    this.pollProblem = '';
    this.renderRuns();
    this.detailState('Loading the analysis…', true);
    try {
      const a = await getAnalysis(this.api, id, ctrl.signal);
      if (ctrl.signal.aborted) return;
      this.show(a);
      if (isInProgress(a.status)) this.follow(id, ctrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted || this.stopped(err)) return;
      this.detailError('Could not load the analysis', err, () => void this.select(id));
    }
  }

  private async loadList(): Promise<void> {
    this.detailState('Loading AI analyses…', true);
    try {
      this.analyses = await listAnalyses(this.api, this.uid, this.life.signal);
    } catch (err) {
      if (this.stopped(err)) return;
      this.detailError('Could not load the AI analyses', err, () => void this.loadList());
      return;
    }
    if (this.destroyed) return;
    this.renderRuns();
    this.renderActions();
    const newest = this.analyses[0];
    if (newest) await this.select(newest.id);
    else this.detailState('No AI analysis of this study yet.');
  }

  private async loadStatus(): Promise<void> {
    try {
      const s = await getAiStatus(this.api, this.life.signal);
      if (this.destroyed) return;
      const line = providerLine(s);
      this.provider.textContent = line.text;
      this.provider.classList.toggle('warn', line.warn);
      this.provider.hidden = line.text === '';
    } catch {
      this.provider.hidden = true; // optional information: the analyze answer says the same when it matters
    }
  }

  private async analyze(): Promise<void> {
    if (this.starting) return;
    this.starting = true;
    this.notice = null;
    this.renderNotice();
    this.renderActions();
    try {
      // never "force": the server then starts a second analysis even while one is queued or running; without
      // it, such a one (started elsewhere meanwhile) is answered as "existing" and shown
      const answer = await analyzeStudy(this.api, this.uid);
      if (this.destroyed) return;
      this.notice = answer.existing
        ? { kind: 'info', title: 'An analysis of this study is already in progress:', text: 'showing it.' }
        : null;
      if (!this.analyses.some((a) => a.id === answer.id)) {
        this.remember(parseAnalysis({ id: answer.id, status: answer.status, studyInstanceUid: this.uid, requestedAt: new Date().toISOString() }));
      }
      this.starting = false;
      this.renderNotice();
      this.renderActions();
      await this.select(answer.id);
    } catch (err) {
      if (this.stopped(err)) return;
      this.notice = { kind: 'error', ...analyzeErrorNotice(err) };
      this.renderNotice();
    } finally {
      this.starting = false;
      if (!this.destroyed) this.renderActions();
    }
  }

  private async cancel(id: string): Promise<void> {
    if (this.cancelling) return;
    this.cancelling = true;
    this.renderDetail();
    try {
      const a = await cancelAnalysis(this.api, id);
      this.cancelling = false;
      if (a.id === '' || a.id !== id) await this.select(id);
      else {
        this.selection?.abort(); // stop polling: the answer is final
        this.show(a);
        this.currentSig = '';
        this.renderDetail();
      }
    } catch (err) {
      this.cancelling = false;
      if (this.stopped(err)) return;
      this.notice = cancelErrorNotice(err);
      this.renderNotice();
      await this.select(id);
    }
  }

  private async review(id: string, payload: ReviewPayload): Promise<void> {
    const a = await submitReview(this.api, id, payload);
    if (this.destroyed) return;
    this.notice = { kind: 'ok', title: `Review saved: ${reviewLabel(payload.reviewStatus)}.`, text: '' };
    this.renderNotice();
    if (this.selectedId === id) {
      this.currentSig = '';
      this.show(a.id ? a : { ...a, id });
    } else this.remember(a);
  }
}

export function mountAiPanel(opts: AiPanelOptions): AiPanel {
  const panel = new AiPanelController(opts);
  panel.start();
  return { el: panel.el, analyzeButton: panel.analyzeButton, destroy: () => panel.destroy() };
}
