// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError, CSRF_HEADER } from '../src/api';
import { analyzeErrorNotice, mountAiPanel, providerLine, type AiPanel } from '../src/ai-panel';
import { parseAiStatus } from '../src/ai-api';
import { NOT_A_DIAGNOSIS } from '../src/ai-view';
import { FakeServer, json, type Call } from './fake-server';
import { XSS, analysisBody } from './ai-fixtures';

const UID = '1.2.3';
let panel: AiPanel | null = null;

afterEach(() => {
  panel?.destroy();
  panel = null;
  document.body.replaceChildren();
});

function mount(server: FakeServer): HTMLElement {
  const api = new Api('/api/', server.fetch);
  api.setHooks({ csrfToken: () => 'csrf-1' });
  panel = mountAiPanel({ api, studyInstanceUid: UID, doc: document, pollMs: 5 });
  document.body.appendChild(panel.el);
  return panel.el;
}

const $ = <T extends Element = HTMLElement>(root: ParentNode, sel: string): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};
const analyzeButton = (root: HTMLElement): HTMLButtonElement => $<HTMLButtonElement>(root, '[data-action="ai-analyze"]');
const list = (...items: Record<string, unknown>[]) => () => json(200, { analyses: items });

describe('AI panel: starting and following an analysis', () => {
  it('Analyze with AI -> queued -> running (Cancel shown, button disabled) -> completed result', async () => {
    let serverStatus = 'queued';
    const server = new FakeServer()
      .on('GET ai/status', () => json(200, { provider: { configured: true, name: 'openai', model: 'stand-in', cloud: false, reachable: true, lastError: '' }, queue: { depth: 0, running: 0, concurrency: 2 } }))
      .on(`GET ai/studies/${UID}/analyses`, list())
      .on(`POST ai/analyze/${UID}`, () => json(202, { id: 'a1', status: 'queued', href: '/api/ai/analysis/a1' }))
      .on('GET ai/analysis/a1', () => json(200, analysisBody({ status: serverStatus })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('.ai-detail')?.textContent).toContain('No AI analysis of this study yet.'));
    await vi.waitFor(() => expect(root.querySelector('.ai-provider')?.textContent).toBe('openai · stand-in'));
    expect(analyzeButton(root).disabled).toBe(false);

    analyzeButton(root).click();
    await vi.waitFor(() => expect(root.querySelector('.ai-status[data-status="queued"]')).not.toBeNull());
    const post = server.callsTo(`POST ai/analyze/${UID}`)[0] as Call;
    expect(post.body).toEqual({});
    expect(post.headers[CSRF_HEADER]).toBe('csrf-1');
    expect(analyzeButton(root).disabled).toBe(true);
    serverStatus = 'running';
    await vi.waitFor(() => expect(root.querySelector('.ai-status[data-status="running"] [data-action="ai-cancel"]')).not.toBeNull());
    expect(analyzeButton(root).disabled).toBe(true);
    serverStatus = 'completed';

    await vi.waitFor(() => expect(root.querySelectorAll('tr.finding-row').length).toBe(3));
    expect(root.querySelector('.ai-notice')?.textContent).toBe(NOT_A_DIAGNOSIS);
    expect(root.querySelector('.ai-status')).toBeNull();
    expect(analyzeButton(root).disabled).toBe(false);
    expect(root.querySelector('button.ai-run[aria-current="true"] .ai-badge')?.textContent).toBe('Completed');
    const polls = server.callsTo('GET ai/analysis/a1').length;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.callsTo('GET ai/analysis/a1').length).toBe(polls); // polling stopped
  });

  it('503: shows the server\'s explanation of what to configure', async () => {
    const message = 'AI analysis is not configured: set ReadingRoom.AI.Provider …, then restart Orthanc';
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list())
      .on('GET ai/status', () => json(200, { provider: { configured: false } }))
      .on(`POST ai/analyze/${UID}`, () => json(503, { error: { code: 'not_configured', message } }));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('.ai-provider')?.textContent).toBe('No AI provider is configured on this server.'));
    analyzeButton(root).click();
    await vi.waitFor(() => expect(root.querySelector('.ai-message[data-kind="error"]')).not.toBeNull());
    const alert = $(root, '.ai-message[data-kind="error"]');
    expect(alert.getAttribute('role')).toBe('alert');
    expect(alert.textContent).toContain('AI analysis is not available');
    expect(alert.textContent).toContain(message);
    expect(analyzeButton(root).disabled).toBe(false);
  });

  it('an analysis already in progress (200, existing) is shown instead', async () => {
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list(analysisBody({ id: 'old', status: 'failed', error: 'boom' })))
      .on('GET ai/analysis/old', () => json(200, analysisBody({ id: 'old', status: 'failed', error: 'boom' })))
      .on(`POST ai/analyze/${UID}`, () => json(200, { id: 'run', status: 'running', href: '/api/ai/analysis/run', existing: true }))
      .on('GET ai/analysis/run', () => json(200, analysisBody({ id: 'run', status: 'running' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('.ai-status[data-status="failed"]')).not.toBeNull());
    expect(root.querySelector('.ai-error-text')?.textContent).toBe('boom');
    analyzeButton(root).click();
    await vi.waitFor(() => expect(root.querySelector('.ai-status[data-status="running"]')).not.toBeNull());
    expect(server.callsTo(`POST ai/analyze/${UID}`)[0]?.body).toEqual({}); // never force: it would bypass the server's de-duplication
    expect(root.querySelector('.ai-message[data-kind="info"]')?.textContent).toContain('already in progress');
    expect(root.querySelectorAll('button.ai-run').length).toBe(2);
    expect(root.querySelector('button.ai-run[aria-current="true"]')?.getAttribute('data-analysis-id')).toBe('run');
  });

  it('Cancel stops the analysis and the polling', async () => {
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list(analysisBody({ status: 'running' })))
      .on('GET ai/analysis/a1', () => json(200, analysisBody({ status: 'running' })))
      .on('POST ai/analysis/a1/cancel', () => json(200, analysisBody({ status: 'cancelled', error: 'cancelled by rad.one' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('[data-action="ai-cancel"]')).not.toBeNull());
    $<HTMLButtonElement>(root, '[data-action="ai-cancel"]').click();
    await vi.waitFor(() => expect(root.querySelector('.ai-status[data-status="cancelled"]')).not.toBeNull());
    expect(root.querySelector('.ai-error-text')?.textContent).toBe('cancelled by rad.one');
    expect(server.callsTo('POST ai/analysis/a1/cancel')[0]?.headers[CSRF_HEADER]).toBe('csrf-1');
    const polls = server.callsTo('GET ai/analysis/a1').length;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.callsTo('GET ai/analysis/a1').length).toBe(polls);
    expect(analyzeButton(root).disabled).toBe(false);
  });

  it('Cancel of an analysis that had finished (409) says so and shows its result', async () => {
    let finished = false;
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list(analysisBody({ status: 'running' })))
      .on('GET ai/analysis/a1', () => json(200, analysisBody({ status: finished ? 'completed' : 'running' })))
      .on('POST ai/analysis/a1/cancel', () => {
        finished = true;
        return json(409, { error: 'the analysis has already finished' });
      });
    panel = null;
    const api = new Api('/api/', server.fetch);
    panel = mountAiPanel({ api, studyInstanceUid: UID, doc: document, pollMs: 60_000 });
    const root = panel.el;
    document.body.appendChild(root);
    await vi.waitFor(() => expect(root.querySelector('[data-action="ai-cancel"]')).not.toBeNull());
    $<HTMLButtonElement>(root, '[data-action="ai-cancel"]').click();
    await vi.waitFor(() => expect(root.querySelectorAll('tr.finding-row').length).toBe(3));
    expect(root.querySelector('.ai-message[data-kind="error"]')?.textContent).toContain('already finished');
  });

  it('every failure state shows its message, no review form', async () => {
    for (const status of ['invalid', 'blocked', 'safety', 'truncated', 'refused', 'failed']) {
      const body = analysisBody({ id: `x-${status}`, status, error: `why ${status}`, findings: [], summary: '', rawText: status === 'invalid' ? '{"bad":' : '' });
      const server = new FakeServer().on(`GET ai/studies/${UID}/analyses`, list(body)).on(`GET ai/analysis/x-${status}`, () => json(200, body));
      const root = mount(server);
      await vi.waitFor(() => expect(root.querySelector(`.ai-status[data-status="${status}"]`)).not.toBeNull());
      expect(root.querySelector('.ai-error-text')?.textContent).toBe(`why ${status}`);
      expect(root.querySelector('.ai-review-form')).toBeNull();
      expect(root.querySelector('.ai-no-findings')).toBeNull();
      expect(root.textContent).not.toContain('reported no findings');
      if (status === 'invalid') expect(root.querySelector('.ai-raw-text')?.textContent).toBe('{"bad":');
      panel?.destroy();
      root.remove();
    }
  });
});

describe('AI panel: review', () => {
  function reviewServer(): { server: FakeServer; puts: unknown[] } {
    const puts: unknown[] = [];
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list(analysisBody({ reviews: undefined }), analysisBody({ id: 'a0', requestedAt: '2026-11-23T10:00:00Z', reviewStatus: 'confirmed' })))
      .on('GET ai/analysis/a1', () => json(200, analysisBody({ findings: [...(analysisBody().findings as unknown[]), { category: 'abnormality', description: XSS, location: XSS, confidence: 'low', severity: 'critical' }] })))
      .on('GET ai/analysis/a0', () => json(200, analysisBody({ id: 'a0', summary: 'Older run', reviewStatus: 'confirmed', reviewedBy: 'rad.two', reviews: [{ at: '2026-11-23T11:00:00Z', reviewer: 'rad.two', reviewStatus: 'confirmed', notes: 'ok', findings: [] }] })))
      .on('PUT ai/analysis/a1/review', (call) => {
        puts.push(call.body);
        const b = call.body as { reviewStatus: string; radiologistNotes: string; findings: unknown[] };
        return json(200, analysisBody({
          reviewStatus: b.reviewStatus,
          reviewedBy: 'rad.one',
          reviewedAt: '2026-11-24T12:00:00Z',
          radiologistNotes: b.radiologistNotes,
          reviews: [{ at: '2026-11-24T12:00:00Z', reviewer: 'rad.one', reviewStatus: b.reviewStatus, notes: b.radiologistNotes, findings: b.findings }],
        }));
      });
    return { server, puts };
  }

  it('reject one finding, notes, Save as modified -> PUT body and history', async () => {
    const { server, puts } = reviewServer();
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelectorAll('tr.finding-row').length).toBe(4));
    // XSS: the model's description is text
    expect(root.querySelector('tr.finding-row[data-index="3"] .finding-text')?.textContent).toBe(XSS);
    expect(root.querySelectorAll('img').length).toBe(0);

    const confirm = $<HTMLButtonElement>(root, '[data-decision="confirmed"]');
    const modified = $<HTMLButtonElement>(root, '[data-decision="modified"]');
    expect(confirm.disabled).toBe(false);
    expect(modified.disabled).toBe(true);

    $<HTMLButtonElement>(root, 'tr.finding-review[data-index="1"] [data-verdict="rejected"]').click();
    expect($(root, 'tr.finding-row[data-index="1"]').dataset.verdict).toBe('rejected');
    expect(confirm.disabled).toBe(true);
    expect(modified.disabled).toBe(false);
    const notes = $<HTMLTextAreaElement>(root, 'textarea.ai-notes');
    notes.value = 'No hernia; nodule confirmed.';
    modified.click();

    await vi.waitFor(() => expect(puts).toHaveLength(1));
    expect(puts[0]).toEqual({
      reviewStatus: 'modified',
      radiologistNotes: 'No hernia; nodule confirmed.',
      findings: [
        { index: 0, verdict: 'accepted' },
        { index: 1, verdict: 'rejected' },
        { index: 2, verdict: 'accepted' },
        { index: 3, verdict: 'accepted' },
      ],
    });
    expect(server.callsTo('PUT ai/analysis/a1/review')[0]?.headers[CSRF_HEADER]).toBe('csrf-1');
    await vi.waitFor(() => expect(root.querySelector('li.history-entry')).not.toBeNull());
    const entry = $(root, 'li.history-entry');
    expect(entry.querySelector('.history-reviewer')?.textContent).toBe('rad.one');
    expect(entry.querySelector('.review-badge')?.textContent).toBe('Modified');
    expect(entry.querySelector('.history-notes')?.textContent).toBe('No hernia; nodule confirmed.');
    expect(root.querySelector('.ai-notice')).toBeNull(); // reviewed: no longer pending
    expect(root.querySelector('.ai-reviewed')?.textContent).toContain('Modified by rad.one');
    expect(root.querySelector('.ai-message[data-kind="ok"]')?.textContent).toContain('Review saved: Modified.');
    // the new form starts from this review
    expect($(root, 'tr.finding-row[data-index="1"]').dataset.verdict).toBe('rejected');
  });

  it('Edit opens the description for editing; the edited text is sent', async () => {
    const { server, puts } = reviewServer();
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelectorAll('tr.finding-row').length).toBe(4));
    const row = $(root, 'tr.finding-row[data-index="0"]');
    const controls = $(root, 'tr.finding-review[data-index="0"]');
    const editor = $(controls, '.finding-editor');
    expect(editor.hidden).toBe(true);
    $<HTMLButtonElement>(controls, '[data-verdict="edited"]').click();
    expect(editor.hidden).toBe(false);
    const input = $<HTMLTextAreaElement>(editor, 'textarea');
    expect(input.value).toBe('Nodule 6 mm');
    expect(row.dataset.verdict).toBe('accepted'); // unchanged text: not an edit yet
    input.value = 'Nodule 8 mm, spiculated';
    input.dispatchEvent(new Event('input'));
    expect(row.dataset.verdict).toBe('edited');
    $<HTMLButtonElement>(root, '[data-decision="modified"]').click();
    await vi.waitFor(() => expect(puts).toHaveLength(1));
    expect((puts[0] as { findings: unknown[] }).findings[0]).toEqual({ index: 0, verdict: 'edited', text: 'Nodule 8 mm, spiculated' });
  });

  it('a refused review (409) shows the server message and keeps the choices', async () => {
    const server = new FakeServer()
      .on(`GET ai/studies/${UID}/analyses`, list(analysisBody()))
      .on('GET ai/analysis/a1', () => json(200, analysisBody()))
      .on('PUT ai/analysis/a1/review', () => json(409, { error: 'the analysis is not completed' }));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelectorAll('tr.finding-row').length).toBe(3));
    $<HTMLButtonElement>(root, 'tr.finding-review[data-index="2"] [data-verdict="rejected"]').click();
    $<HTMLButtonElement>(root, '[data-decision="modified"]').click();
    await vi.waitFor(() => expect($(root, '.ai-review-error').hidden).toBe(false));
    expect($(root, '.ai-review-error').textContent).toBe('the analysis is not completed');
    expect($(root, 'tr.finding-row[data-index="2"]').dataset.verdict).toBe('rejected');
  });

  it('switches to an earlier analysis of the study', async () => {
    const { server } = reviewServer();
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelectorAll('button.ai-run').length).toBe(2));
    $<HTMLButtonElement>(root, 'button.ai-run[data-analysis-id="a0"]').click();
    await vi.waitFor(() => expect(root.querySelector('.ai-summary')?.textContent).toBe('Older run'));
    expect(root.querySelector('button.ai-run[aria-current="true"]')?.getAttribute('data-analysis-id')).toBe('a0');
    expect(root.querySelector('li.history-entry .history-reviewer')?.textContent).toBe('rad.two');
    expect(root.querySelector('.ai-notice')).toBeNull();
  });
});

describe('AI panel: texts', () => {
  it('names why an analysis could not start', () => {
    expect(analyzeErrorNotice(new ApiError(503, 'not_configured', 'set AI.Provider')).title).toBe('AI analysis is not available:');
    expect(analyzeErrorNotice(new ApiError(503, 'queue_full', '1000 analyses are waiting')).title).toBe('The AI queue is full:');
    expect(analyzeErrorNotice(new ApiError(404, 'not_found', 'no such study'))).toEqual({ title: 'Study not found:', text: 'no such study' });
    expect(analyzeErrorNotice(new ApiError(0, 'network', 'Network error: x')).title).toBe('Could not start the analysis:');
  });

  it('provider line', () => {
    expect(providerLine(parseAiStatus({ provider: { configured: false } }))).toEqual({ text: 'No AI provider is configured on this server.', warn: true });
    expect(providerLine(parseAiStatus({ provider: { configured: true, name: 'gemini', model: 'g', cloud: true, reachable: false, lastError: 'timeout' }, queue: { depth: 2, running: 1 } }))).toEqual({
      text: 'gemini · g · cloud service: images leave this network · queue: 2 waiting, 1 running · unreachable: timeout',
      warn: true,
    });
  });
});
