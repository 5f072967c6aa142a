// System page (route "#/system", administrators): health of the plugin (store, ingestion, audit writer) with
// "Re-synchronise", storage (Orthanc's disk use, free space, growth per day: system-storage.ts), and the AI
// provider's state, queue and today's usage, (with reports) the report turnaround by modality
// (system-turnaround.ts), and the off-site backup (queue, dead letters, restore: system-backup.ts). Refreshed
// every 10 s while shown.
//
// Everything from the API is untrusted: text goes through textContent (dom helpers) only.
import { ApiError, type Api } from './api';
import { getAiStatus, type AiStatusInfo } from './ai-api';
import { groupDigits } from './ai-format';
import { openFormDialog } from './dialog';
import { hIn, type Child } from './dom';
import { formatInstantSeconds } from './format';
import type { Page } from './router';
import { getHealth, getIngest, healthProblems, requestResync, type AuditWriterState, type Health, type IngestState } from './system-api';
import { messageOf, statusNote } from './failure';
import { getStorage, renderStorage, storageBadge, type StorageReport } from './system-storage';
import { getTurnaround, renderTurnaround, type TurnaroundRow } from './system-turnaround';
import { BackupCard } from './system-backup';

/** Refresh interval of the page. */
export const SYSTEM_REFRESH_MS = 10_000;
/** Refresh interval while a re-synchronisation that was asked for has not finished. */
export const RESYNC_POLL_MS = 1_500;
/** A refresh that gets no answer within this long is shown as failed (the next one is scheduled as usual). */
export const REFRESH_TIMEOUT_MS = 20_000;
/** Stop the faster refresh after this long (the outcome then stays "still running"). */
const RESYNC_POLL_LIMIT_MS = 120_000;

// ---- formatting -----------------------------------------------------------------

/** 12345 -> "12,345"; null -> "—". */
export function formatCount(n: number | null): string {
  return n === null ? '—' : groupDigits(n);
}

/** Estimated cost with 4 decimals ("0.0017"); null -> "—". The currency is the one of the configured prices. */
export function formatCost4(cost: number | null): string {
  return cost === null ? '—' : cost.toFixed(4);
}

/** Local "HH:MM:SS". */
export function formatClock(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const yesNo = (v: boolean | null, yes: string, no: string): string => (v === null ? '—' : v ? yes : no);

// ---- rendering ------------------------------------------------------------------

/** <div class="fact" data-field=…><dt>label</dt><dd>value</dd></div>. */
function fact(doc: Document, field: string, label: string, ...value: Child[]): HTMLDivElement {
  return hIn(doc, 'div', { class: 'fact', attrs: { 'data-field': field } }, hIn(doc, 'dt', { text: label }), hIn(doc, 'dd', {}, ...value));
}

function facts(doc: Document, label: string, ...items: HTMLElement[]): HTMLDListElement {
  return hIn(doc, 'dl', { class: 'facts sys-facts', attrs: { 'aria-label': label } }, ...items);
}

function subtitle(doc: Document, text: string): HTMLHeadingElement {
  return hIn(doc, 'h3', { class: 'sys-subtitle', text });
}

/** An error box: "<title> (HTTP n): <message>" (message as text). */
export function renderError(doc: Document, title: string, err: unknown): HTMLElement {
  return hIn(
    doc,
    'div',
    { class: 'sys-message error', attrs: { role: 'alert', 'data-kind': 'error' } },
    hIn(doc, 'strong', { text: `${title}${statusNote(err)}: ` }),
    hIn(doc, 'span', { class: 'error-message', text: messageOf(err) }),
  );
}

/** Outcome of a re-synchronisation asked for on this page. */
export interface ResyncOutcome {
  /** requested: the server accepted it; running: reconciling; done: finished; timeout: stopped watching. */
  phase: 'requested' | 'running' | 'done' | 'timeout';
  requestedAt: Date;
  /** Reconciliations counted before the request (null: unknown). */
  baseline: number | null;
  /** Seen reconciling since the request. */
  sawRunning: boolean;
  finishedAt: Date | null;
  /** The ingestion's last error when it finished ('' when none). */
  error: string;
}

export function renderResyncOutcome(doc: Document, o: ResyncOutcome): HTMLElement {
  let text: string;
  let kind: 'info' | 'ok' | 'error' = 'info';
  switch (o.phase) {
    case 'requested':
      text = `Re-synchronisation requested at ${formatClock(o.requestedAt)}: accepted by the server, waiting for it to start…`;
      break;
    case 'running':
      text = `Re-synchronisation running (requested at ${formatClock(o.requestedAt)})…`;
      break;
    case 'done':
      kind = o.error ? 'error' : 'ok';
      text = `Re-synchronisation finished at ${formatClock(o.finishedAt ?? o.requestedAt)}${o.error ? ` with an error: ${o.error}` : '.'}`;
      break;
    case 'timeout':
      text = `Re-synchronisation requested at ${formatClock(o.requestedAt)} has not finished yet; the page keeps refreshing every ${SYSTEM_REFRESH_MS / 1000} s.`;
      break;
  }
  return hIn(doc, 'div', { class: 'sys-message resync-outcome', attrs: { role: 'status', 'data-kind': kind, 'data-phase': o.phase }, text });
}

export interface HealthCardOptions {
  onResync(): void;
  /** A re-synchronisation request is being sent. */
  resyncBusy?: boolean;
  resync?: ResyncOutcome | null;
}

/** "Last error: …" under a group of facts. */
function lastErrorLine(doc: Document, field: string, text: string): HTMLElement {
  return hIn(doc, 'p', { class: 'sys-last-error', attrs: { 'data-field': field } }, hIn(doc, 'strong', { text: 'Last error: ' }), hIn(doc, 'span', { class: 'error-message', text }));
}

/** The health section's content (without its error / loading states). */
export function renderHealth(doc: Document, h: Health, opts: HealthCardOptions): HTMLElement[] {
  const out: HTMLElement[] = [];
  const problems = healthProblems(h);
  if (h.httpStatus === 503) {
    out.push(
      hIn(
        doc,
        'div',
        { class: 'sys-message error', attrs: { role: 'alert', 'data-kind': 'error', 'data-unavailable': 'store' } },
        hIn(doc, 'strong', { text: 'Store unavailable (HTTP 503)' }),
        hIn(doc, 'span', { class: 'error-message', text: h.store.error ? `: ${h.store.error}` : ': the worklist cannot be read or written.' }),
      ),
    );
  }
  const listed = h.httpStatus === 503 ? problems.filter((p) => !p.startsWith('The store is')) : problems;
  if (listed.length > 0) {
    out.push(hIn(doc, 'ul', { class: 'health-problems', attrs: { 'aria-label': 'Problems' } }, ...listed.map((p) => hIn(doc, 'li', { text: p }))));
  }

  // the server answers schemaVersion 0 when it could not read it
  const schema = h.store.schemaVersion === null || (h.store.schemaVersion === 0 && h.store.status !== 'ok') ? '—' : String(h.store.schemaVersion);
  out.push(
    facts(
      doc,
      'Plugin and store',
      fact(doc, 'version', 'Plugin version', h.version || '—'),
      fact(doc, 'accessControl', 'Access control', yesNo(h.accessControl, 'On', 'Off')),
      fact(doc, 'backend', 'Store backend', h.store.backend || '—'),
      fact(doc, 'storeStatus', 'Store status', hIn(doc, 'span', { class: 'sys-state', attrs: { 'data-ok': String(h.store.status === 'ok') }, text: h.store.status || '—' })),
      fact(doc, 'schemaVersion', 'Schema version', schema),
      fact(doc, 'studies', 'Studies', formatCount(h.store.studies)),
      fact(doc, 'series', 'Series', formatCount(h.store.series)),
      fact(doc, 'instances', 'Instances', formatCount(h.store.instances)),
    ),
  );

  out.push(...renderIngest(doc, h.ingest, opts));
  if (h.audit) out.push(...renderAuditWriter(doc, h.audit));
  return out;
}

/** The ingestion part of the health section: its facts and the re-synchronise button. */
function renderIngest(doc: Document, i: IngestState | null, opts: HealthCardOptions): HTMLElement[] {
  const out: HTMLElement[] = [];
  const resyncBtn = hIn(doc, 'button', {
    class: 'btn',
    attrs: { type: 'button', 'data-action': 'resync', disabled: opts.resyncBusy === true },
    text: opts.resyncBusy ? 'Re-synchronising…' : 'Re-synchronise',
    on: { click: () => opts.onResync() },
  });
  out.push(hIn(doc, 'div', { class: 'sys-subhead' }, subtitle(doc, 'Ingestion'), resyncBtn));
  if (opts.resync) out.push(renderResyncOutcome(doc, opts.resync));
  if (!i) {
    out.push(hIn(doc, 'p', { class: 'muted sys-none', text: 'The server did not report the ingestion state.' }));
  } else {
    const cursor = i.cursor === null ? '—' : i.lastSeq === null ? formatCount(i.cursor) : `${formatCount(i.cursor)} of ${formatCount(i.lastSeq)}`;
    out.push(
      facts(
        doc,
        'Ingestion',
        fact(doc, 'worker', 'Worker', hIn(doc, 'span', { class: 'sys-state', attrs: { 'data-ok': i.running === null ? null : String(i.running) }, text: yesNo(i.running, 'Running', 'Stopped') })),
        fact(doc, 'reconciling', 'Reconciling', yesNo(i.reconciling, 'Yes', 'No')),
        fact(doc, 'leader', 'Change log', yesNo(i.leader, 'This node follows the change log', 'Another node does')),
        fact(doc, 'backlog', 'Backlog (changes)', formatCount(i.backlog)),
        fact(doc, 'cursor', 'Cursor / last change', cursor),
        fact(doc, 'instancesIngested', 'Instances ingested', formatCount(i.instancesIngested)),
        fact(doc, 'deletionsApplied', 'Deletions applied', formatCount(i.deletionsApplied)),
        fact(doc, 'reconciliations', 'Reconciliations', formatCount(i.reconciliations)),
        fact(doc, 'errors', 'Errors', formatCount(i.errors)),
        fact(doc, 'lastSuccessAt', 'Last success', i.lastSuccessAt ? formatInstantSeconds(i.lastSuccessAt) : '—'),
        fact(doc, 'lastErrorAt', 'Last error at', i.lastErrorAt ? formatInstantSeconds(i.lastErrorAt) : '—'),
      ),
    );
    if (i.lastError) out.push(lastErrorLine(doc, 'ingestLastError', i.lastError));
  }
  return out;
}

/** The audit writer part of the health section. */
function renderAuditWriter(doc: Document, a: AuditWriterState): HTMLElement[] {
  const out: HTMLElement[] = [];
  out.push(subtitle(doc, 'Audit trail writer'));
  out.push(
    facts(
      doc,
      'Audit trail writer',
      fact(doc, 'auditWritten', 'Records written', formatCount(a.written)),
      fact(doc, 'auditQueued', 'Queued', formatCount(a.queued)),
      fact(doc, 'auditDropped', 'Dropped', formatCount(a.dropped)),
      fact(doc, 'auditFailures', 'Write failures', formatCount(a.failures)),
      ...(a.anchor ? [fact(doc, 'auditAnchor', 'Anchored head', a.anchor.records === null ? '—' : `#${groupDigits(a.anchor.records)}`)] : []),
    ),
  );
  if (a.lastError) out.push(lastErrorLine(doc, 'auditLastError', a.lastError));
  return out;
}

/** Badge of the overall status: data-status "ok" | "degraded" | other (text as received). */
export function healthBadge(doc: Document, h: Health | null): HTMLElement {
  const status = h ? h.status : 'unknown';
  const text = h ? (h.httpStatus === 503 && h.status === 'degraded' ? 'degraded · store unavailable' : h.status) : 'unknown';
  return hIn(doc, 'span', { class: 'health-badge', attrs: { 'data-status': status }, text });
}

export interface AiCardOptions {
  onCheck(): void;
  /** A "check now" is running. */
  checking?: boolean;
}

const COUNT_LABELS: readonly (readonly [string, string])[] = [
  ['queued', 'Queued'],
  ['running', 'Running'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
  ['other', 'Other end states'],
];

/** "reachable" | "unreachable" | "unknown" (null: not asked yet) | "off" (not configured). */
export function reachabilityKind(s: AiStatusInfo): 'reachable' | 'unreachable' | 'unknown' | 'off' {
  if (!s.provider.configured) return 'off';
  if (s.provider.reachable === null) return 'unknown';
  return s.provider.reachable ? 'reachable' : 'unreachable';
}

const REACHABILITY_TEXT: Record<ReturnType<typeof reachabilityKind>, string> = {
  reachable: 'Reachable',
  unreachable: 'Unreachable',
  unknown: 'Not checked yet',
  off: 'Not configured',
};

export function aiBadge(doc: Document, s: AiStatusInfo | null): HTMLElement {
  const kind = s ? reachabilityKind(s) : 'unknown';
  return hIn(doc, 'span', { class: 'health-badge ai-reach-badge', attrs: { 'data-reachable': kind }, text: s ? REACHABILITY_TEXT[kind] : 'unknown' });
}

/** The provider part of the AI section: not configured, or where it is, whether it answers, its last error. */
function renderAiProvider(doc: Document, s: AiStatusInfo, opts: AiCardOptions): HTMLElement[] {
  const out: HTMLElement[] = [];
  const p = s.provider;
  if (!p.configured) {
    out.push(
      hIn(
        doc,
        'div',
        { class: 'sys-message ai-not-configured', attrs: { 'data-kind': 'info' } },
        hIn(doc, 'strong', { text: 'AI analysis is not configured.' }),
        hIn(
          doc,
          'span',
          {},
          ' Set ',
          hIn(doc, 'code', { text: 'ReadingRoom.AI.Provider' }),
          ' in Orthanc\u2019s configuration (',
          hIn(doc, 'code', { text: '"openai"' }),
          ' for an OpenAI-compatible server inside the hospital such as vLLM or Ollama, or ',
          hIn(doc, 'code', { text: '"gemini"' }),
          '), with ',
          hIn(doc, 'code', { text: 'AI.BaseUrl' }),
          ', ',
          hIn(doc, 'code', { text: 'AI.Model' }),
          ' and the key, then restart Orthanc.',
        ),
      ),
    );
  } else {
    if (p.cloud) {
      out.push(
        hIn(
          doc,
          'div',
          { class: 'sys-message cloud-warning', attrs: { role: 'note', 'data-kind': 'warn' } },
          hIn(doc, 'strong', { text: 'Cloud provider: images leave the hospital.' }),
          hIn(doc, 'span', {
            text: ' Every analysis sends rendered images of the study to this provider. Use it only for research, demonstration or de-identified data under your institution\u2019s agreements.',
          }),
        ),
      );
    }
    const kind = reachabilityKind(s);
    const check = hIn(doc, 'button', {
      class: 'btn btn-small',
      attrs: { type: 'button', 'data-action': 'ai-check', disabled: opts.checking === true },
      text: opts.checking ? 'Checking…' : 'Check now',
      on: { click: () => opts.onCheck() },
    });
    out.push(
      facts(
        doc,
        'AI provider',
        fact(doc, 'provider', 'Provider', p.name || '—'),
        fact(doc, 'model', 'Model', p.model || '—'),
        fact(doc, 'location', 'Location', p.cloud ? 'Cloud (outside the hospital)' : 'Inside the hospital'),
        fact(doc, 'reachable', 'Reachability', hIn(doc, 'span', { class: 'sys-state', attrs: { 'data-reachable': kind }, text: REACHABILITY_TEXT[kind] }), ' ', check),
      ),
    );
    if (p.lastError) out.push(lastErrorLine(doc, 'aiLastError', p.lastError));
  }
  return out;
}

/** The AI section's content (without its error / loading states). */
export function renderAiStatus(doc: Document, s: AiStatusInfo, opts: AiCardOptions): HTMLElement[] {
  const out: HTMLElement[] = renderAiProvider(doc, s, opts);
  out.push(subtitle(doc, 'Queue'));
  out.push(
    facts(
      doc,
      'Queue',
      fact(doc, 'queueDepth', 'Waiting', formatCount(s.queue.depth)),
      fact(doc, 'queueRunning', 'Running', formatCount(s.queue.running)),
      fact(doc, 'concurrency', 'Concurrency', formatCount(s.queue.concurrency)),
    ),
  );

  out.push(subtitle(doc, 'Analyses by state (all time)'));
  const known = new Set(COUNT_LABELS.map(([k]) => k));
  const extra = Object.keys(s.counts).filter((k) => !known.has(k)).sort();
  out.push(
    facts(
      doc,
      'Analyses by state',
      ...COUNT_LABELS.map(([k, label]) => fact(doc, `count-${k}`, label, formatCount(s.counts[k] ?? null))),
      ...extra.map((k) => fact(doc, `count-${k}`, k, formatCount(s.counts[k] ?? null))),
    ),
  );

  out.push(subtitle(doc, 'Today'));
  out.push(
    facts(
      doc,
      'Usage today',
      fact(doc, 'todayAnalyses', 'Analyses', formatCount(s.today.analyses)),
      fact(doc, 'tokensIn', 'Tokens in', formatCount(s.today.promptTokens)),
      fact(doc, 'tokensOut', 'Tokens out', formatCount(s.today.completionTokens)),
      fact(doc, 'imagesSent', 'Images sent', formatCount(s.today.imagesSent)),
      fact(doc, 'cost', 'Estimated cost', formatCost4(s.today.cost)),
    ),
  );
  out.push(hIn(doc, 'p', { class: 'muted small sys-note', text: 'The cost is estimated from the configured prices per million tokens (AI.PricePerMillionInputTokens / OutputTokens). Every image sent is also in the audit trail (ai.image.sent).' }));
  out.push(subtitle(doc, 'Automatic analysis'));
  out.push(
    facts(
      doc,
      'Automatic analysis of stable studies',
      fact(doc, 'autoEnabled', 'AI.AutoAnalyze', s.automatic.enabled ? 'On' : 'Off'),
      fact(doc, 'autoQueued', 'Queued since start', formatCount(s.automatic.queuedSinceStart)),
      fact(doc, 'autoDropped', 'Dropped (queue full)', formatCount(s.automatic.droppedSinceStart)),
    ),
  );
  return out;
}

// ---- the page -------------------------------------------------------------------

export interface SystemOptions {
  api: Api;
  doc?: Document;
  /** Refresh interval (default 10 s). */
  refreshMs?: number;
  /** Refresh interval while a re-synchronisation runs (default 1.5 s). */
  resyncPollMs?: number;
  now?: () => Date;
  /** The "Report turnaround" card (servers with reports); default false. */
  turnaround?: boolean;
}

interface Section<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
}

/** Re-renders a card; a focused button (Re-synchronise, Check now) keeps the focus in its new copy. */
function renderCard(doc: Document, head: HTMLElement, body: HTMLElement, title: string, badge: HTMLElement[], content: HTMLElement[]): void {
  const active = doc.activeElement;
  const action = active instanceof HTMLElement && body.contains(active) ? active.dataset.action : undefined;
  head.replaceChildren(hIn(doc, 'h2', { class: 'sys-title', text: title }), ...badge);
  body.replaceChildren(...content);
  if (action) body.querySelector<HTMLElement>(`[data-action="${action}"]`)?.focus();
}

/** A card's content: its error (the last answer kept below it), `extra`, then the answer or "Loading…". */
function cardContent<T>(doc: Document, s: Section<T>, what: string, extra: HTMLElement[], render: (data: T) => HTMLElement[]): HTMLElement[] {
  const parts: HTMLElement[] = [];
  if (s.error) parts.push(renderError(doc, s.data ? `Could not refresh ${what} (showing the last answer)` : `Could not load ${what}`, s.error));
  parts.push(...extra);
  if (s.data) parts.push(...render(s.data));
  else if (s.loading) parts.push(hIn(doc, 'div', { class: 'state sys-loading' }, hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), `Loading ${what}…`));
  return parts;
}

/** A section after an answer: the new data (a null answer keeps the old), or the error beside the old data. */
function settle<T>(s: Section<T>, r: PromiseSettledResult<T | null>): void {
  s.loading = false;
  if (r.status === 'fulfilled') {
    if (r.value) s.data = r.value;
    s.error = null;
  } else {
    s.error = r.reason;
  }
}

/**
 * GET health and (withAi) GET ai/status at once. After REFRESH_TIMEOUT_MS both are aborted and a failure
 * reads "No answer from the server…". Resolves null when ctrl was aborted by someone else (a newer refresh).
 */
async function fetchStatus(
  api: Api,
  ctrl: AbortController,
  withAi: boolean,
): Promise<[PromiseSettledResult<Health>, PromiseSettledResult<AiStatusInfo | null>, PromiseSettledResult<StorageReport>] | null> {
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, REFRESH_TIMEOUT_MS);
  const [h, a, st] = await Promise.allSettled([
    getHealth(api, ctrl.signal),
    withAi ? getAiStatus(api, ctrl.signal) : Promise.resolve(null),
    getStorage(api, ctrl.signal),
  ]);
  clearTimeout(timeout);
  if (ctrl.signal.aborted && !timedOut) return null;
  const noAnswer = new ApiError(0, 'timeout', `No answer from the server within ${REFRESH_TIMEOUT_MS / 1000} s.`);
  const late = <T>(r: PromiseSettledResult<T>): PromiseSettledResult<T> => (timedOut && r.status === 'rejected' ? { status: 'rejected', reason: noAnswer } : r);
  return [late(h), late(a), late(st)];
}

/** A re-synchronisation asked for is still watched: requested or running, for at most RESYNC_POLL_LIMIT_MS. */
function isWatching(resync: ResyncOutcome | null, now: Date): boolean {
  return resync !== null && (resync.phase === 'requested' || resync.phase === 'running') && now.getTime() - resync.requestedAt.getTime() < RESYNC_POLL_LIMIT_MS;
}

/** Follows a re-synchronisation asked for here through a health answer (updates `resync`). */
function trackResync(resync: ResyncOutcome, h: Health, now: Date): void {
  if (!h.ingest || resync.phase === 'done') return;
  const i = h.ingest;
  if (i.reconciling === true) {
    resync.phase = 'running';
    resync.sawRunning = true;
    return;
  }
  const counted = resync.baseline !== null && i.reconciliations !== null && i.reconciliations > resync.baseline;
  if (counted || resync.sawRunning) {
    resync.phase = 'done';
    resync.finishedAt = now;
    resync.error = i.lastError;
  } else if (!isWatching(resync, now)) {
    resync.phase = 'timeout';
  }
}

/** POST admin/ingest/resync, with the count of reconciliations just before (done when it has grown). */
async function startResync(api: Api, last: Health | null, now: () => Date): Promise<ResyncOutcome> {
  let baseline = last?.ingest?.reconciliations ?? null;
  try {
    baseline = (await getIngest(api)).reconciliations ?? baseline;
  } catch {
    // keep the last health answer's count
  }
  const answer = await requestResync(api);
  if (!answer.accepted) throw new Error('The server did not accept the re-synchronisation.');
  return { phase: 'requested', requestedAt: now(), baseline, sawRunning: false, finishedAt: null, error: '' };
}

/** The page: top bar (last update, Refresh) and the health and AI cards (head and body of each). */
function systemLayout(doc: Document, topbar: HTMLElement[], health: HTMLElement[], ai: HTMLElement[], storage: HTMLElement[], turnaround: HTMLElement[] | null = null, backup: HTMLElement | null = null): HTMLElement {
  return hIn(
    doc,
    'div',
    { class: 'page admin-page system-page' },
    hIn(doc, 'header', { class: 'topbar' }, hIn(doc, 'h1', { class: 'page-title', text: 'System' }), hIn(doc, 'div', { class: 'topbar-right' }, ...topbar)),
    hIn(
      doc,
      'div',
      { class: 'sys-scroll' },
      hIn(
        doc,
        'div',
        { class: 'sys-grid' },
        hIn(doc, 'section', { class: 'sys-card', attrs: { 'data-section': 'health', 'aria-label': 'Health' } }, ...health),
        hIn(doc, 'section', { class: 'sys-card', attrs: { 'data-section': 'storage', 'aria-label': 'Storage' } }, ...storage),
        hIn(doc, 'section', { class: 'sys-card', attrs: { 'data-section': 'ai', 'aria-label': 'AI analysis' } }, ...ai),
        turnaround ? hIn(doc, 'section', { class: 'sys-card sys-wide', attrs: { 'data-section': 'turnaround', 'aria-label': 'Report turnaround' } }, ...turnaround) : null,
        backup,
      ),
    ),
  );
}

// The page's state: both cards' last answers, the polling (visible tab only, faster while a
// re-synchronisation runs), "Check now" and the re-synchronise dialog; one method per step, what it renders
// is in the functions above.
class SystemPage {
  readonly el: HTMLElement;
  private readonly doc: Document;
  private readonly api: Api;
  private readonly refreshMs: number;
  private readonly resyncPollMs: number;
  private readonly now: () => Date;
  private readonly health: Section<Health> = { data: null, error: null, loading: true };
  private readonly ai: Section<AiStatusInfo> = { data: null, error: null, loading: true };
  private readonly storage: Section<StorageReport> = { data: null, error: null, loading: true };
  private readonly turnaround: Section<TurnaroundRow[]> = { data: null, error: null, loading: true };
  private readonly turnaroundOn: boolean;
  private readonly taHead: HTMLElement;
  private readonly taBody: HTMLElement;
  /** The off-site backup card (system-backup.ts): its own request on the page's schedule. */
  private readonly backup: BackupCard;
  /** Sequence of the AI answer shown. */
  private aiSeq = 0;
  private checking = false;
  private checkError: unknown = null;
  private resyncBusy = false;
  private resync: ResyncOutcome | null = null;
  private destroyed = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: AbortController | null = null;
  private checkCtrl: AbortController | null = null;
  /** The timer fired while the tab was hidden: refresh when it is shown again. */
  private stale = false;
  private readonly updated: HTMLElement;
  private readonly refreshBtn: HTMLButtonElement;
  private readonly healthHead: HTMLElement;
  private readonly healthBody: HTMLElement;
  private readonly aiHead: HTMLElement;
  private readonly aiBody: HTMLElement;
  private readonly storageHead: HTMLElement;
  private readonly storageBody: HTMLElement;
  private readonly onVisibility = (): void => {
    if (!this.doc.hidden && this.stale && !this.destroyed) void this.refresh();
  };

  constructor(opts: SystemOptions) {
    const doc = opts.doc ?? document;
    this.doc = doc;
    this.api = opts.api;
    this.refreshMs = opts.refreshMs ?? SYSTEM_REFRESH_MS;
    this.resyncPollMs = opts.resyncPollMs ?? RESYNC_POLL_MS;
    this.now = opts.now ?? ((): Date => new Date());
    this.updated = hIn(doc, 'span', { class: 'updated' });
    this.refreshBtn = hIn(doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': 'refresh' }, text: 'Refresh', on: { click: () => void this.refresh() } });
    this.healthHead = hIn(doc, 'div', { class: 'sys-card-head' });
    this.healthBody = hIn(doc, 'div', { class: 'sys-card-body' });
    this.aiHead = hIn(doc, 'div', { class: 'sys-card-head' });
    this.aiBody = hIn(doc, 'div', { class: 'sys-card-body' });
    this.storageHead = hIn(doc, 'div', { class: 'sys-card-head' });
    this.storageBody = hIn(doc, 'div', { class: 'sys-card-body' });
    this.turnaroundOn = opts.turnaround === true;
    this.taHead = hIn(doc, 'div', { class: 'sys-card-head' });
    this.taBody = hIn(doc, 'div', { class: 'sys-card-body' });
    this.backup = new BackupCard(doc, opts.api);
    doc.addEventListener('visibilitychange', this.onVisibility);
    this.el = systemLayout(
      doc,
      [this.updated, this.refreshBtn],
      [this.healthHead, this.healthBody],
      [this.aiHead, this.aiBody],
      [this.storageHead, this.storageBody],
      this.turnaroundOn ? [this.taHead, this.taBody] : null,
      this.backup.el,
    );
  }

  start(): void {
    this.renderHealthCard();
    this.renderAiCard();
    this.renderStorageCard();
    if (this.turnaroundOn) this.renderTurnaroundCard();
    this.doc.title = 'System · Reading Room';
    void this.refresh();
  }

  destroy(): void {
    this.destroyed = true;
    this.clearTimer();
    this.inflight?.abort();
    this.checkCtrl?.abort();
    this.backup.destroy();
    this.doc.removeEventListener('visibilitychange', this.onVisibility);
  }

  private renderHealthCard(): void {
    const badge = this.health.data ? [healthBadge(this.doc, this.health.data)] : [];
    const content = cardContent(this.doc, this.health, 'the health', [], (data) => renderHealth(this.doc, data, { onResync: () => this.openResync(), resyncBusy: this.resyncBusy, resync: this.resync }));
    renderCard(this.doc, this.healthHead, this.healthBody, 'Health', badge, content);
  }

  private renderAiCard(): void {
    const badge = this.ai.data ? [aiBadge(this.doc, this.ai.data)] : [];
    const checkFailure = this.checkError ? [renderError(this.doc, 'Could not check the provider', this.checkError)] : [];
    const content = cardContent(this.doc, this.ai, 'the AI status', checkFailure, (data) => renderAiStatus(this.doc, data, { onCheck: () => void this.checkNow(), checking: this.checking }));
    renderCard(this.doc, this.aiHead, this.aiBody, 'AI analysis', badge, content);
  }

  private renderStorageCard(): void {
    const badge = this.storage.data ? [storageBadge(this.doc, this.storage.data)] : [];
    const content = cardContent(this.doc, this.storage, 'the storage', [], (data) => renderStorage(this.doc, data));
    renderCard(this.doc, this.storageHead, this.storageBody, 'Storage', badge, content);
  }

  private renderTurnaroundCard(): void {
    const content = cardContent(this.doc, this.turnaround, 'the report turnaround', [], (rows) => renderTurnaround(this.doc, rows));
    renderCard(this.doc, this.taHead, this.taBody, 'Report turnaround', [], content);
  }

  /** The turnaround beside the other cards (its own request: a failure here leaves them alone). */
  private async refreshTurnaround(signal: AbortSignal): Promise<void> {
    const [r] = await Promise.allSettled([getTurnaround(this.api, undefined, signal)]);
    if (this.destroyed || signal.aborted) return;
    settle(this.turnaround, r);
    this.renderTurnaroundCard();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private watchingResync(): boolean {
    return isWatching(this.resync, this.now());
  }

  private schedule(): void {
    this.clearTimer();
    if (this.destroyed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.doc.hidden) {
        this.stale = true; // no polling while the tab is in the background
        return;
      }
      void this.refresh();
    }, this.watchingResync() ? this.resyncPollMs : this.refreshMs);
  }

  private async refresh(): Promise<void> {
    if (this.destroyed) return;
    this.clearTimer();
    this.stale = false;
    this.inflight?.abort();
    const ctrl = new AbortController();
    this.inflight = ctrl;
    this.refreshBtn.disabled = true;
    // While "Check now" runs, its answer is the newest AI state: do not race it with an older one.
    const withAi = !this.checking;
    const seq = withAi ? ++this.aiSeq : this.aiSeq;
    if (this.turnaroundOn) void this.refreshTurnaround(ctrl.signal);
    void this.backup.refresh();
    const answers = await fetchStatus(this.api, ctrl, withAi);
    if (this.destroyed || !answers) return;
    this.inflight = null;
    const [h, a, st] = answers;
    this.refreshBtn.disabled = false;
    settle(this.health, h);
    settle(this.storage, st);
    this.renderStorageCard();
    if (h.status === 'fulfilled' && this.resync) trackResync(this.resync, h.value, this.now());
    this.renderHealthCard();
    if (withAi && seq === this.aiSeq) {
      settle(this.ai, a);
      this.renderAiCard();
    }
    const failed = h.status === 'rejected' || a.status === 'rejected' || st.status === 'rejected';
    this.updated.textContent = `${failed ? 'Partly updated' : 'Updated'} ${formatClock(this.now())}`;
    this.updated.classList.toggle('error', failed);
    this.schedule();
  }

  private async checkNow(): Promise<void> {
    if (this.checking || this.destroyed) return;
    this.checking = true;
    this.checkError = null;
    const seq = ++this.aiSeq;
    const ctrl = new AbortController();
    this.checkCtrl = ctrl;
    this.renderAiCard();
    try {
      const s = await getAiStatus(this.api, ctrl.signal, true);
      if (this.destroyed || ctrl.signal.aborted) return;
      if (seq === this.aiSeq) {
        this.ai.data = s;
        this.ai.error = null;
        this.ai.loading = false;
      }
    } catch (err) {
      if (this.destroyed || ctrl.signal.aborted) return;
      this.checkError = err;
    } finally {
      if (this.checkCtrl === ctrl) this.checkCtrl = null;
      this.checking = false;
      if (!this.destroyed) this.renderAiCard();
    }
  }

  private openResync(): void {
    if (this.resyncBusy) return;
    openFormDialog(this.doc, {
      title: 'Re-synchronise the worklist?',
      description: [
        'The plugin compares the worklist with Orthanc, removes what Orthanc no longer has and re-reads every instance. ',
        'The worklist stays available meanwhile; on a large archive this takes a while and loads Orthanc.',
      ],
      fields: [],
      submitLabel: 'Re-synchronise',
      pendingLabel: 'Requesting…',
      onSubmit: async () => {
        this.resyncBusy = true;
        this.renderHealthCard();
        try {
          const outcome = await startResync(this.api, this.health.data, this.now);
          if (this.destroyed) return;
          this.resync = outcome;
        } finally {
          this.resyncBusy = false;
          if (!this.destroyed) this.renderHealthCard();
        }
        if (!this.destroyed) void this.refresh();
      },
    });
  }
}

export function mountSystem(opts: SystemOptions): Page {
  const page = new SystemPage(opts);
  page.start();
  return { el: page.el, destroy: () => page.destroy() };
}
