// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, type FetchLike } from '../src/api';
import { parseAiStatus } from '../src/ai-api';
import { startApp } from '../src/app';
import { parseHash } from '../src/router';
import { Session } from '../src/session';
import {
  aiBadge,
  formatCost4,
  formatCount,
  healthBadge,
  mountSystem,
  reachabilityKind,
  renderAiStatus,
  renderHealth,
} from '../src/system';
import { getHealth, healthProblems, parseHealth } from '../src/system-api';
import { FakeServer, json, meBody } from './fake-server';

/** GET /api/health as the plugin answers it (captured from a real run, one instance stored). */
function healthBody(overrides: { ingest?: Record<string, unknown>; store?: Record<string, unknown>; audit?: Record<string, unknown>; [k: string]: unknown } = {}): Record<string, unknown> {
  const { ingest, store, audit, ...rest } = overrides;
  return {
    audit: { written: 3, queued: 0, dropped: 0, failures: 0, lastError: null, ...audit },
    accessControl: true,
    status: 'ok',
    version: '0.1.0',
    store: { backend: 'sqlite', status: 'ok', schemaVersion: 4, studies: 1, series: 1, instances: 1, ...store },
    ingest: {
      running: true,
      reconciling: false,
      cursor: 4,
      lastSeq: 4,
      backlog: 0,
      instancesIngested: 2,
      deletionsApplied: 0,
      reconciliations: 2,
      errors: 0,
      lastError: null,
      lastErrorAt: null,
      lastSuccessAt: '2026-11-25T02:48:47Z',
      ...ingest,
    },
    ...rest,
  };
}

/** GET /api/ai/status. */
function aiBody(provider: Record<string, unknown> = {}, today: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: { configured: true, name: 'openai', model: 'qwen2.5-vl', cloud: false, reachable: null, lastError: '', ...provider },
    queue: { depth: 2, running: 1, concurrency: 2 },
    counts: { queued: 2, running: 1, completed: 1234, failed: 5, other: 3 },
    today: { analyses: 17, promptTokens: 1234567, completionTokens: 8910, cost: 0.00171, imagesSent: 42, ...today },
    automatic: { enabled: true, queuedSinceStart: 5, droppedSinceStart: 0 },
  };
}

const NOT_CONFIGURED = {
  provider: { configured: false, name: '', model: '', cloud: false, reachable: null, lastError: '' },
  queue: { depth: 0, running: 0, concurrency: 2 },
  counts: { queued: 0, running: 0, completed: 0, failed: 0, other: 0 },
  today: { analyses: 0, promptTokens: 0, completionTokens: 0, cost: 0, imagesSent: 0 },
};

const MARKUP = '<img src=x onerror=alert(1)><script>alert(2)</script>';
const FOREIGN = 'img, script, iframe, svg, b, i';

function box(...els: HTMLElement[]): HTMLElement {
  const div = document.createElement('div');
  div.append(...els);
  document.body.replaceChildren(div);
  return div;
}

const field = (root: ParentNode, name: string): string => root.querySelector(`[data-field="${name}"] dd`)?.textContent ?? '<missing>';
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('System page: health rendering', () => {
  it('ok: badge, version, store, counts, ingestion; no problems listed', () => {
    const h = parseHealth(healthBody());
    const root = box(healthBadge(document, h), ...renderHealth(document, h, { onResync: () => undefined }));
    const badge = root.querySelector('.health-badge');
    expect(badge?.textContent).toBe('ok');
    expect(badge?.getAttribute('data-status')).toBe('ok');
    expect(field(root, 'version')).toBe('0.1.0');
    expect(field(root, 'backend')).toBe('sqlite');
    expect(field(root, 'storeStatus')).toBe('ok');
    expect(field(root, 'schemaVersion')).toBe('4');
    expect(field(root, 'studies')).toBe('1');
    expect(field(root, 'series')).toBe('1');
    expect(field(root, 'instances')).toBe('1');
    expect(field(root, 'worker')).toBe('Running');
    expect(field(root, 'reconciling')).toBe('No');
    expect(field(root, 'backlog')).toBe('0');
    expect(field(root, 'cursor')).toBe('4 of 4');
    expect(field(root, 'lastSuccessAt')).toBe('2026-11-25 02:48:47'); // TZ=UTC
    expect(field(root, 'lastErrorAt')).toBe('—');
    expect(field(root, 'auditWritten')).toBe('3');
    expect(root.querySelector('.health-problems')).toBeNull();
    expect(root.querySelector('[data-field="ingestLastError"]')).toBeNull();
    expect(root.querySelector('[data-action="resync"]')?.textContent).toBe('Re-synchronise');
    expect(healthProblems(h)).toEqual([]);
  });

  it('large counts are grouped', () => {
    const h = parseHealth(healthBody({ store: { studies: 12345, series: 234567, instances: 34567890 } }));
    const root = box(...renderHealth(document, h, { onResync: () => undefined }));
    expect(field(root, 'instances')).toBe('34,567,890');
    expect(formatCount(null)).toBe('—');
  });

  it('degraded with the last error: red badge, the reason, the error as text', () => {
    const h = parseHealth(
      healthBody({
        status: 'degraded',
        ingest: { lastError: `GET /changes: HTTP 500 ${MARKUP}`, lastErrorAt: '2026-11-25T03:00:00Z', errors: 7, backlog: 120, lastSeq: 130, cursor: 10 },
      }),
    );
    const root = box(healthBadge(document, h), ...renderHealth(document, h, { onResync: () => undefined }));
    expect(root.querySelector('.health-badge')?.getAttribute('data-status')).toBe('degraded');
    expect(root.querySelector('.health-badge')?.textContent).toBe('degraded');
    expect(root.querySelector('[data-field="ingestLastError"] .error-message')?.textContent).toBe(`GET /changes: HTTP 500 ${MARKUP}`);
    expect(root.querySelector('.health-problems')?.textContent).toContain("Ingestion's last step failed");
    expect(field(root, 'errors')).toBe('7');
    expect(field(root, 'backlog')).toBe('120');
    expect(field(root, 'cursor')).toBe('10 of 130');
    expect(field(root, 'lastErrorAt')).toBe('2026-11-25 03:00:00');
    expect(root.querySelectorAll(FOREIGN)).toHaveLength(0);
  });

  it('degraded: worker stopped, audit records dropped', () => {
    const h = parseHealth(healthBody({ status: 'degraded', ingest: { running: false }, audit: { dropped: 3, lastError: 'disk full' } }));
    expect(healthProblems(h)).toEqual([
      'The ingestion worker is not running.',
      '3 audit records were dropped (queue full).',
      'The audit writer failed: disk full',
    ]);
    const root = box(...renderHealth(document, h, { onResync: () => undefined }));
    expect(field(root, 'worker')).toBe('Stopped');
    expect(root.querySelectorAll('.health-problems li')).toHaveLength(3);
  });

  it('survives a partial or odd answer', () => {
    const h = parseHealth({ status: 5, store: 'x', ingest: [] });
    expect(h.status).toBe('unknown');
    expect(h.ingest).toBeNull();
    const root = box(healthBadge(document, h), ...renderHealth(document, h, { onResync: () => undefined }));
    expect(field(root, 'studies')).toBe('—');
    expect(root.textContent).toContain('did not report the ingestion state');
  });
});

describe('System page: AI rendering', () => {
  const render = (body: unknown): HTMLElement => {
    const s = parseAiStatus(body);
    return box(aiBadge(document, s), ...renderAiStatus(document, s, { onCheck: () => undefined }));
  };

  it('not configured: says so and what to set; no check button, no cloud warning', () => {
    const root = render(NOT_CONFIGURED);
    const note = root.querySelector('.ai-not-configured');
    expect(note?.textContent).toContain('AI analysis is not configured.');
    expect(note?.textContent).toContain('ReadingRoom.AI.Provider');
    expect(note?.textContent).toContain('configuration');
    expect(root.querySelector('[data-action="ai-check"]')).toBeNull();
    expect(root.querySelector('.cloud-warning')).toBeNull();
    expect(root.querySelector('.health-badge')?.getAttribute('data-reachable')).toBe('off');
    expect(field(root, 'concurrency')).toBe('2');
    expect(field(root, 'cost')).toBe('0.0000');
  });

  it('configured on premises: provider, model, queue, counts, today with the cost in 4 decimals', () => {
    const root = render(aiBody());
    expect(root.querySelector('.ai-not-configured')).toBeNull();
    expect(root.querySelector('.cloud-warning')).toBeNull();
    expect(field(root, 'provider')).toBe('openai');
    expect(field(root, 'model')).toBe('qwen2.5-vl');
    expect(field(root, 'location')).toBe('Inside the hospital');
    expect(field(root, 'queueDepth')).toBe('2');
    expect(field(root, 'queueRunning')).toBe('1');
    expect(field(root, 'concurrency')).toBe('2');
    expect(field(root, 'count-completed')).toBe('1,234');
    expect(field(root, 'count-failed')).toBe('5');
    expect(field(root, 'count-other')).toBe('3');
    expect(field(root, 'todayAnalyses')).toBe('17');
    expect(field(root, 'tokensIn')).toBe('1,234,567');
    expect(field(root, 'tokensOut')).toBe('8,910');
    expect(field(root, 'imagesSent')).toBe('42');
    expect(field(root, 'cost')).toBe('0.0017');
    expect(field(root, 'autoEnabled')).toBe('On');
    expect(field(root, 'autoQueued')).toBe('5');
    expect(field(root, 'autoDropped')).toBe('0');
    expect(formatCost4(12.5)).toBe('12.5000');
    expect(formatCost4(null)).toBe('—');
  });

  it('cloud provider: a clear warning that images leave the hospital', () => {
    const root = render(aiBody({ name: 'gemini', model: 'gemini-2.5-flash', cloud: true }));
    const warning = root.querySelector('.cloud-warning');
    expect(warning?.textContent).toContain('Cloud provider: images leave the hospital.');
    expect(field(root, 'location')).toBe('Cloud (outside the hospital)');
  });

  it('reachability null / true / false', () => {
    const cases: [boolean | null, string, string][] = [
      [null, 'unknown', 'Not checked yet'],
      [true, 'reachable', 'Reachable'],
      [false, 'unreachable', 'Unreachable'],
    ];
    for (const [reachable, kind, text] of cases) {
      const root = render(aiBody({ reachable, lastError: reachable === false ? 'could not connect' : '' }));
      expect(root.querySelector('.health-badge')?.getAttribute('data-reachable')).toBe(kind);
      expect(root.querySelector('.health-badge')?.textContent).toBe(text);
      expect(root.querySelector(`[data-field="reachable"] .sys-state`)?.textContent).toBe(text);
      expect(root.querySelector('[data-action="ai-check"]')?.textContent).toBe('Check now');
      expect(root.querySelector('[data-field="aiLastError"]')?.textContent ?? '').toBe(reachable === false ? 'Last error: could not connect' : '');
      expect(reachabilityKind(parseAiStatus(aiBody({ reachable })))).toBe(kind);
    }
  });

  it('provider strings carrying markup are shown as text', () => {
    const root = render(aiBody({ name: MARKUP, model: MARKUP, lastError: MARKUP }, {}));
    expect(field(root, 'provider')).toBe(MARKUP);
    expect(field(root, 'model')).toBe(MARKUP);
    expect(root.querySelector('[data-field="aiLastError"] .error-message')?.textContent).toBe(MARKUP);
    expect(root.querySelectorAll(FOREIGN)).toHaveLength(0);
  });
});

describe('System page: mounted', () => {
  let server: FakeServer;
  let destroy: (() => void) | null = null;
  const STORAGE = {
    status: 'ok',
    storageFolder: { path: '/var/lib/orthanc/db', totalBytes: 100e9, freeBytes: 40e9, freePercent: 40 },
    indexFolder: { path: '/var/lib/orthanc/db', totalBytes: 100e9, freeBytes: 40e9, freePercent: 40 },
    sameFileSystem: true,
    orthancDiskBytes: 1.2e9,
    orthancInstances: 42,
    warnFreePercent: 10,
    warnFreeGigabytes: 0,
    days: [{ date: '2026-12-02', diskBytes: 1.0e9 }, { date: '2026-12-03', diskBytes: 1.1e9 }, { date: '2026-12-04', diskBytes: 1.2e9 }],
  };

  beforeEach(() => {
    document.body.replaceChildren();
    server = new FakeServer()
      .on('GET health', () => json(200, healthBody()))
      .on('GET ai/status', () => json(200, NOT_CONFIGURED))
      .on('GET admin/storage', () => json(200, STORAGE))
      .on('GET admin/backup', () => json(200, { enabled: false }));
  });
  afterEach(() => {
    destroy?.();
    destroy = null;
    vi.useRealTimers();
    for (const d of Array.from(document.querySelectorAll('dialog'))) d.remove();
  });

  /** server.fetch, rejecting with an AbortError when the request's signal aborts (as fetch does). */
  const abortableFetch: FetchLike = (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init?.signal;
      signal?.addEventListener('abort', () => reject(new DOMException('The operation was aborted.', 'AbortError')), { once: true });
      server.fetch(url, init).then(resolve, reject);
    });

  function mount(opts: { refreshMs?: number; resyncPollMs?: number } = {}): HTMLElement {
    const api = new Api('/api/', abortableFetch, { csrfToken: () => 'csrf-1' });
    const page = mountSystem({ api, ...opts });
    destroy = () => page.destroy();
    document.body.appendChild(page.el);
    return page.el;
  }

  it('shows the storage card: disk use, free space, growth per day', async () => {
    const el = mount();
    const card = el.querySelector('[data-section="storage"]')!;
    await vi.waitFor(() => expect(field(card, 'orthancDisk')).toBe('1.20 GB (42 instances)'));
    expect(field(card, 'storageFree')).toBe('40.0 GB free of 100 GB (40.0 %)');
    expect(field(card, 'growth')).toBe('+100 MB/day');
    expect(card.querySelector('.health-badge')?.textContent).toBe('ok');
    expect(card.querySelectorAll('table.storage-days tbody tr')).toHaveLength(3);
  });

  it('shows health and AI once loaded', async () => {
    const el = mount();
    expect(el.querySelector('.page-title')?.textContent).toBe('System');
    await vi.waitFor(() => expect(el.querySelector('[data-section="health"] .health-badge')?.textContent).toBe('ok'));
    await vi.waitFor(() => expect(el.querySelector('.ai-not-configured')).not.toBeNull());
    expect(el.querySelector('.updated')?.textContent).toMatch(/^Updated \d\d:\d\d:\d\d$/);
    expect(document.title).toBe('System · Reading Room');
  });

  it('a 503 of /api/health (store unavailable) is shown as such; the AI section still works', async () => {
    server.on('GET health', () =>
      json(503, healthBody({ status: 'degraded', store: { status: 'unavailable', schemaVersion: 0, studies: undefined, series: undefined, instances: undefined, error: 'database is locked' } })),
    );
    server.on('GET ai/status', () => json(200, aiBody()));
    const el = mount();
    await vi.waitFor(() => expect(el.querySelector('[data-unavailable="store"]')).not.toBeNull());
    const health = el.querySelector('[data-section="health"]')!;
    expect(health.querySelector('[data-unavailable="store"]')?.textContent).toBe('Store unavailable (HTTP 503): database is locked');
    expect(health.querySelector('.health-badge')?.getAttribute('data-status')).toBe('degraded');
    expect(field(health, 'storeStatus')).toBe('unavailable');
    expect(field(health, 'schemaVersion')).toBe('—');
    expect(field(health, 'studies')).toBe('—');
    await vi.waitFor(() => expect(field(el, 'provider')).toBe('openai'));
  });

  it('getHealth: a 503 with an error object still rejects with its message', async () => {
    server.on('GET health', () => json(503, { error: { code: 'unavailable', message: 'starting up' } }));
    await expect(getHealth(new Api('/api/', server.fetch))).rejects.toMatchObject({ status: 503, message: 'starting up' });
  });

  it('API errors show their message as text (markup included), for each section', async () => {
    server.on('GET health', () => json(500, { error: { code: 'internal', message: `boom ${MARKUP}` } }));
    server.on('GET ai/status', () => json(403, { error: { code: 'forbidden', message: `no ${MARKUP}` } }));
    const el = mount();
    await vi.waitFor(() => expect(el.querySelectorAll('.sys-message.error')).toHaveLength(2));
    const [h, a] = Array.from(el.querySelectorAll('.sys-message.error'));
    expect(h?.textContent).toBe(`Could not load the health (HTTP 500): boom ${MARKUP}`);
    expect(a?.textContent).toBe(`Could not load the AI status (HTTP 403): no ${MARKUP}`);
    expect(el.querySelectorAll(FOREIGN)).toHaveLength(0);
    expect(el.querySelector('.updated')?.textContent).toMatch(/^Partly updated/);
  });

  it('a failed refresh keeps the last answer and says so', async () => {
    let fail = false;
    server.on('GET health', () => (fail ? json(500, { error: { code: 'x', message: 'store busy' } }) : json(200, healthBody())));
    const el = mount();
    await vi.waitFor(() => expect(field(el, 'studies')).toBe('1'));
    fail = true;
    el.querySelector<HTMLButtonElement>('[data-action="refresh"]')!.click();
    await vi.waitFor(() => expect(el.querySelector('[data-section="health"] .sys-message.error')?.textContent).toContain('store busy'));
    expect(el.querySelector('[data-section="health"] .sys-message.error')?.textContent).toContain('showing the last answer');
    expect(field(el, 'studies')).toBe('1');
  });

  it('refreshes every 10 s, and stops when destroyed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const el = mount();
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(1);
    expect(server.callsTo('GET ai/status')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(server.callsTo('GET health')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(2);
    expect(server.callsTo('GET ai/status')).toHaveLength(2);
    // the Refresh button reloads at once and restarts the interval
    el.querySelector<HTMLButtonElement>('[data-action="refresh"]')!.click();
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(3);
    destroy?.();
    destroy = null;
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a refresh without an answer is shown as failed after 20 s, and the polling goes on', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let hang = true;
    server.on('GET health', () => (hang ? new Promise<Response>(() => undefined) : json(200, healthBody())));
    const el = mount();
    await settle();
    expect(el.querySelector('[data-section="health"] .sys-loading')).not.toBeNull();
    await vi.advanceTimersByTimeAsync(20_000);
    await settle();
    expect(el.querySelector('[data-section="health"] .sys-message.error')?.textContent).toBe('Could not load the health: No answer from the server within 20 s.');
    expect(el.querySelector('.ai-not-configured')).not.toBeNull(); // the AI answer arrived
    hang = false;
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(2);
    expect(el.querySelector('[data-section="health"] .health-badge')?.textContent).toBe('ok');
    expect(el.querySelector('[data-section="health"] .sys-message.error')).toBeNull();
  });

  it('a focused button keeps the focus across a refresh', async () => {
    const el = mount();
    await vi.waitFor(() => expect(el.querySelector('[data-action="resync"]')).not.toBeNull());
    const old = el.querySelector<HTMLButtonElement>('[data-action="resync"]')!;
    old.focus();
    el.querySelector<HTMLButtonElement>('[data-action="refresh"]')!.click();
    await vi.waitFor(() => expect(el.querySelector('[data-action="resync"]')).not.toBe(old));
    expect((document.activeElement as HTMLElement | null)?.dataset.action).toBe('resync');
  });

  it('does not poll while the tab is hidden; refreshes when it is shown again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let hidden = false;
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    try {
      mount();
      await settle();
      expect(server.callsTo('GET health')).toHaveLength(1);
      hidden = true;
      await vi.advanceTimersByTimeAsync(60_000);
      await settle();
      expect(server.callsTo('GET health')).toHaveLength(1);
      hidden = false;
      document.dispatchEvent(new Event('visibilitychange'));
      await settle();
      expect(server.callsTo('GET health')).toHaveLength(2);
    } finally {
      delete (document as unknown as { hidden?: boolean }).hidden;
    }
  });

  it('"Check now" asks the provider (?check=true) and shows the answer', async () => {
    server.on('GET ai/status', () => json(200, aiBody({ reachable: null })));
    server.on('GET ai/status?check=true', () => json(200, aiBody({ reachable: false, lastError: 'could not connect to gpu-server:8000' })));
    const el = mount();
    await vi.waitFor(() => expect(el.querySelector('[data-action="ai-check"]')).not.toBeNull());
    expect(el.querySelector('.ai-reach-badge')?.textContent).toBe('Not checked yet');
    el.querySelector<HTMLButtonElement>('[data-action="ai-check"]')!.click();
    expect(el.querySelector<HTMLButtonElement>('[data-action="ai-check"]')?.textContent).toBe('Checking…');
    await vi.waitFor(() => expect(el.querySelector('.ai-reach-badge')?.textContent).toBe('Unreachable'));
    expect(server.callsTo('GET ai/status').map((c) => c.url)).toContain('/api/ai/status?check=true');
    expect(el.querySelector('[data-field="aiLastError"]')?.textContent).toBe('Last error: could not connect to gpu-server:8000');
    expect(el.querySelector<HTMLButtonElement>('[data-action="ai-check"]')?.disabled).toBe(false);
  });

  it('re-synchronise: a confirmation first; cancel sends nothing; confirm posts, then the outcome is followed to the end', async () => {
    let phase = 0; // 0: before, 1: reconciling, 2: finished
    server.on('GET health', () =>
      json(200, healthBody({ ingest: { reconciling: phase === 1, reconciliations: phase === 2 ? 3 : 2, instancesIngested: phase === 2 ? 3 : 2 } })),
    );
    server.on('GET admin/ingest', () => json(200, { ...(healthBody().ingest as object), reconciliations: 2 }));
    server.on('POST admin/ingest/resync', () => {
      phase = 1;
      return json(202, { accepted: true });
    });
    const el = mount({ resyncPollMs: 20 });
    await vi.waitFor(() => expect(el.querySelector('[data-action="resync"]')).not.toBeNull());

    el.querySelector<HTMLButtonElement>('[data-action="resync"]')!.click();
    let dialog = document.querySelector('dialog.dialog');
    expect(dialog?.querySelector('.dialog-title')?.textContent).toBe('Re-synchronise the worklist?');
    expect(dialog?.querySelector('.dialog-text')?.textContent).toContain('re-reads every instance');
    Array.from(dialog!.querySelectorAll('button')).find((b) => b.textContent === 'Cancel')!.click();
    expect(document.querySelector('dialog.dialog')).toBeNull();
    expect(server.callsTo('POST admin/ingest/resync')).toHaveLength(0);

    el.querySelector<HTMLButtonElement>('[data-action="resync"]')!.click();
    dialog = document.querySelector('dialog.dialog');
    dialog!.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
    await vi.waitFor(() => expect(document.querySelector('dialog.dialog')).toBeNull());
    const post = server.callsTo('POST admin/ingest/resync');
    expect(post).toHaveLength(1);
    expect(post[0]?.headers['X-CSRF-Token']).toBe('csrf-1');
    const order = server.calls.map((c) => `${c.method} ${c.url}`);
    expect(order.indexOf('GET /api/admin/ingest')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('GET /api/admin/ingest')).toBeLessThan(order.indexOf('POST /api/admin/ingest/resync'));
    await vi.waitFor(() => expect(el.querySelector('.resync-outcome')?.getAttribute('data-phase')).toBe('running'));
    expect(el.querySelector('.resync-outcome')?.textContent).toMatch(/^Re-synchronisation running/);
    expect(field(el, 'reconciling')).toBe('Yes');
    phase = 2;
    await vi.waitFor(() => expect(el.querySelector('.resync-outcome')?.getAttribute('data-phase')).toBe('done'));
    expect(el.querySelector('.resync-outcome')?.textContent).toMatch(/^Re-synchronisation finished at \d\d:\d\d:\d\d\.$/);
    expect(el.querySelector('.resync-outcome')?.getAttribute('data-kind')).toBe('ok');
    expect(field(el, 'reconciliations')).toBe('3');
  });

  it('re-synchronise refused: the dialog stays open with the server\'s message as text', async () => {
    server.on('POST admin/ingest/resync', () => json(500, { error: { code: 'internal', message: `cannot ${MARKUP}` } }));
    const el = mount();
    await vi.waitFor(() => expect(el.querySelector('[data-action="resync"]')).not.toBeNull());
    el.querySelector<HTMLButtonElement>('[data-action="resync"]')!.click();
    const dialog = document.querySelector('dialog.dialog')!;
    dialog.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
    await vi.waitFor(() => expect(dialog.querySelector<HTMLElement>('.dialog-error')?.hidden).toBe(false));
    expect(dialog.querySelector('.dialog-error')?.textContent).toBe(`cannot ${MARKUP}`);
    expect(dialog.querySelectorAll(FOREIGN)).toHaveLength(0);
    expect(document.querySelector('dialog.dialog')).not.toBeNull();
    expect(el.querySelector('.resync-outcome')).toBeNull();
    expect(el.querySelector<HTMLButtonElement>('[data-action="resync"]')?.disabled).toBe(false);
  });
});

describe('System page in the app', () => {
  let root: HTMLElement;
  let stop: (() => void) | null = null;

  beforeEach(async () => {
    history.replaceState(null, '', '/reading-room/#/system');
    // happy-dom fires hashchange for replaceState (browsers do not): let it pass before the app starts
    await new Promise((r) => setTimeout(r, 20));
    root = document.createElement('div');
    document.body.replaceChildren(root);
  });
  afterEach(() => {
    stop?.();
    stop = null;
    vi.useRealTimers();
  });

  function boot(role: string): FakeServer {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody({ username: `u-${role}`, role }, new Date(Date.now() + 8 * 3600_000), 'c')))
      .on('GET dicom/studies', () => json(200, { data: [], total: 0, limit: 50, offset: 0 }))
      .on('GET health', () => json(200, healthBody()))
      .on('GET ai/status', () => json(200, NOT_CONFIGURED));
    const api = new Api('/api/', server.fetch);
    const session = new Session(api, { doc: { cookie: '' } as unknown as Document });
    stop = startApp(root, { api, session, orthancRoot: '/' });
    return server;
  }

  it('parses the route', () => {
    expect(parseHash('#/system')).toEqual({ name: 'system' });
    expect(parseHash('#/system/')).toEqual({ name: 'system' });
  });

  it('admin: "System" in the navigation; the refresh stops when leaving the page', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = boot('admin');
    for (let i = 0; i < 10 && !root.querySelector('.system-page .health-badge'); i++) await settle();
    expect(root.querySelector('.system-page .health-badge')?.textContent).toBe('ok');
    expect(root.querySelector('a[data-nav="system"]')?.textContent).toBe('System');
    expect(root.querySelector('a[data-nav="system"]')?.getAttribute('href')).toBe('#/system');
    expect(root.querySelector('a[data-nav="system"]')?.getAttribute('aria-current')).toBe('page');
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(2);

    location.hash = '#/';
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await settle();
    expect(root.querySelector('.system-page')).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(server.callsTo('GET health')).toHaveLength(2);
    expect(server.callsTo('GET ai/status')).toHaveLength(2);
  });

  it('radiologist: no "System" entry, the route says not allowed and asks nothing', async () => {
    const server = boot('radiologist');
    await vi.waitFor(() => expect(root.querySelector('.outlet')?.textContent).toContain('not available for your role'));
    expect(root.querySelector('a[data-nav="system"]')).toBeNull();
    expect(server.callsTo('GET health')).toHaveLength(0);
    expect(server.callsTo('GET ai/status')).toHaveLength(0);
  });
});
