// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, errorFromBody, studyQueryString, type Study } from '../src/api';
import { analyzeStudy, getAiStatus, listAnalyses, parseAnalysis, submitReview } from '../src/ai-api';
import { startApp } from '../src/app';
import { aiStatusQuery, defaultState, hasFilters, parseState, serializeState, toApiQuery, worklistHash } from '../src/query';
import { Session } from '../src/session';
import { UploadQueue } from '../src/upload-queue';
import { BASE_COLUMNS, COLUMNS, renderStudyRow } from '../src/worklist';
import { FakeServer, capabilitiesOf, json, meBody, studyBody } from './fake-server';
import { analysisBody } from './ai-fixtures';

const study: Study = studyBody({ aiStatus: 'completed', reviewStatus: 'pending' });

describe('worklist AI / review filters -> hash and API query', () => {
  it('chips map to the API status lists', () => {
    expect(aiStatusQuery([])).toBe('');
    expect(aiStatusQuery(['completed'])).toBe('completed');
    expect(aiStatusQuery(['failed', 'none'])).toBe('none,failed,invalid,blocked,safety,truncated,refused');
    expect(aiStatusQuery(['active', 'cancelled'])).toBe('queued,running,cancelled');
  });

  it('state -> API query -> query string', () => {
    const s = { ...defaultState(), ai: ['completed', 'failed'] as const, review: ['confirmed', 'pending'] as const };
    const state = { ...s, ai: [...s.ai], review: [...s.review] };
    const q = toApiQuery(state);
    expect(q.aiStatus).toBe('completed,failed,invalid,blocked,safety,truncated,refused');
    expect(q.reviewStatus).toBe('pending,confirmed');
    expect(studyQueryString(q)).toBe(
      'aiStatus=completed,failed,invalid,blocked,safety,truncated,refused&reviewStatus=pending,confirmed&sort=studyDate&order=desc&limit=50&offset=0',
    );
    expect(toApiQuery(defaultState())).not.toHaveProperty('aiStatus');
    expect(toApiQuery(defaultState())).not.toHaveProperty('reviewStatus');
    expect(hasFilters(state)).toBe(true);
  });

  it('hash round trip, unknown ids dropped', () => {
    const state = { ...defaultState(), ai: ['none' as const, 'completed' as const], review: ['rejected' as const] };
    expect(serializeState(state)).toBe('ai=none%2Ccompleted&review=rejected');
    expect(worklistHash(state)).toBe('#/?ai=none%2Ccompleted&review=rejected');
    expect(parseState('ai=none%2Ccompleted&review=rejected')).toEqual(state);
    expect(parseState('ai=COMPLETED,evil,<x>,none,none&review=pending,bogus')).toMatchObject({ ai: ['none', 'completed'], review: ['pending'] });
  });
});

describe('worklist AI / review columns', () => {
  it('badges, or nothing without an analysis', () => {
    const row = renderStudyRow(document, study);
    expect(row.querySelectorAll('td').length).toBe(COLUMNS.length);
    expect(row.querySelector('td.c-ai .ai-badge')?.textContent).toBe('Completed');
    expect(row.querySelector('td.c-ai .ai-badge')?.getAttribute('data-kind')).toBe('ok');
    expect(row.querySelector('td.c-review .review-badge')?.textContent).toBe('Pending');
    const none = renderStudyRow(document, { ...study, aiStatus: null, reviewStatus: null });
    expect(none.querySelector('td.c-ai')?.textContent).toBe('');
    expect(none.querySelector('td.c-review')?.textContent).toBe('');
    const plain = renderStudyRow(document, study, BASE_COLUMNS);
    expect(plain.querySelector('td.c-ai')).toBeNull();
    const odd = renderStudyRow(document, { ...study, aiStatus: '<img src=x onerror=alert(1)>', reviewStatus: '<b>x</b>' });
    expect(odd.querySelector('td.c-ai')?.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(odd.querySelectorAll('img, b').length).toBe(0);
  });
});

describe('AI API client', () => {
  it('reads {"error": "sentence"} errors as well as {"error": {code, message}}', () => {
    expect(errorFromBody(503, '', { error: 'Configure ReadingRoom.AI.' })).toMatchObject({ status: 503, code: 'unavailable', message: 'Configure ReadingRoom.AI.' });
    expect(errorFromBody(409, '', { error: 'already finished' })).toMatchObject({ code: 'conflict', message: 'already finished' });
    expect(errorFromBody(404, '', { error: { code: 'not_found', message: 'no study' } })).toMatchObject({ code: 'not_found', message: 'no study' });
  });

  it('paths, bodies and parsing', async () => {
    const server = new FakeServer()
      .on('POST ai/analyze/1.2.3%2Fx', () => json(202, { id: 7, status: 'queued', href: '/api/ai/analysis/7' }))
      .on('GET ai/studies/1.2.3%2Fx/analyses', () => json(200, { analyses: [analysisBody({ id: 'b', reviews: undefined }), { nonsense: true }] }))
      .on('PUT ai/analysis/b/review', () => json(200, analysisBody({ id: 'b' })))
      .on('GET ai/status', () => json(200, { provider: { configured: true, name: 'gemini', reachable: null }, today: { analyses: 3, cost: 0.5 } }));
    const api = new Api('/api/', server.fetch);
    expect(await analyzeStudy(api, '1.2.3/x', true)).toEqual({ id: '7', status: 'queued', href: '/api/ai/analysis/7', existing: false });
    expect(server.calls[0]?.body).toEqual({ force: true });
    const runs = await listAnalyses(api, '1.2.3/x');
    expect(runs.map((r) => r.id)).toEqual(['b']); // items without id are dropped
    expect(runs[0]?.reviews).toBeNull();
    await submitReview(api, 'b', { reviewStatus: 'confirmed', radiologistNotes: '', findings: [] });
    expect(server.callsTo('PUT ai/analysis/b/review')[0]?.body).toEqual({ reviewStatus: 'confirmed', radiologistNotes: '', findings: [] });
    const status = await getAiStatus(api);
    expect(status.provider).toMatchObject({ configured: true, name: 'gemini', reachable: null, cloud: false });
    expect(status.today).toMatchObject({ analyses: 3, cost: 0.5 });
  });

  it('parseAnalysis survives missing and mistyped fields', () => {
    const a = parseAnalysis({ id: 'z', status: 'completed', findings: [null, { description: 5 }], aiConfidence: 7, usage: 'x', reviews: 'no' });
    expect(a.findings).toEqual([
      { category: '', description: '', location: '', confidence: '', severity: '' },
      { category: '', description: '', location: '', confidence: '', severity: '' },
    ]);
    expect(a.aiConfidence).toBe('high'); // a number out of range is clamped to 1, then banded
    expect(a.aiConfidenceScore).toBe(1);
    expect(a.usage).toEqual({ promptTokens: null, completionTokens: null });
    expect(a.reviews).toBeNull();
    expect(a.reviewStatus).toBe('pending');
    expect(parseAnalysis(null).status).toBe('');
  });
});

describe('who sees AI', () => {
  it('roles', async () => {
    const roles = ['admin', 'radiologist', 'technician', 'physician', 'open', 'someone'];
    const caps = await Promise.all(roles.map((role) => capabilitiesOf(role)));
    expect(caps.map((c) => c.includes('ai'))).toEqual([true, true, false, false, true, false]);
  });

  let root: HTMLElement;
  let stop: (() => void) | null = null;
  beforeEach(() => {
    history.replaceState(null, '', '/reading-room/#/');
    root = document.createElement('div');
    document.body.replaceChildren(root);
  });
  afterEach(() => {
    stop?.();
    stop = null;
  });

  function boot(role: string, hash = '#/'): FakeServer {
    history.replaceState(null, '', `/reading-room/${hash}`);
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody({ username: `u-${role}`, role }, new Date(Date.now() + 3600_000), 'c')))
      .on('GET dicom/studies', () => json(200, { data: [study], total: 1, limit: 50, offset: 0 }))
      .on('GET dicom/studies/1.2.3', () => json(200, { ...study, series: [] }))
      .on('GET ai/status', () => json(200, { provider: { configured: true, name: 'openai', model: 'm' } }))
      .on('GET ai/studies/1.2.3/analyses', () => json(200, { analyses: [] }));
    const api = new Api('/api/', server.fetch);
    const session = new Session(api, { doc: { cookie: '' } as unknown as Document });
    stop = startApp(root, { api, session, orthancRoot: '/', uploadQueue: () => new UploadQueue(async () => ({ status: 200, body: '{}' })) });
    return server;
  }

  for (const role of ['radiologist', 'admin']) {
    it(`${role}: AI panel on the study page, AI / Review columns and filters on the worklist`, async () => {
      const server = boot(role, '#/?ai=failed');
      await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
      expect(Array.from(root.querySelectorAll('th')).map((t) => t.textContent)).toContain('AI');
      expect(root.querySelector('td.c-ai .ai-badge')).not.toBeNull();
      expect(root.querySelector('button[data-ai-filter="failed"]')?.getAttribute('aria-pressed')).toBe('true');
      expect(server.callsTo('GET dicom/studies')[0]?.url).toContain('aiStatus=failed,invalid,blocked,safety,truncated,refused');

      root.querySelector<HTMLButtonElement>('button[data-review-filter="pending"]')?.click();
      await vi.waitFor(() => expect(server.callsTo('GET dicom/studies').at(-1)?.url).toContain('reviewStatus=pending'));
      expect(location.hash).toBe('#/?ai=failed&review=pending');

      location.hash = '#/studies/1.2.3';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      await vi.waitFor(() => expect(root.querySelector('[data-rr-ai]')).not.toBeNull());
      await vi.waitFor(() => expect(root.querySelector('[data-rr-ai] .ai-detail')?.textContent).toContain('No AI analysis'));
      expect(root.querySelector('[data-action="ai-analyze"]')?.textContent).toBe('Analyze with AI');
    });
  }

  for (const role of ['physician', 'technician']) {
    it(`${role}: no AI panel, no AI columns or filters, AI filters of a bookmark ignored`, async () => {
      const server = boot(role, '#/?ai=failed&review=pending');
      await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
      expect(root.querySelector('td.c-ai, th.c-ai, [data-ai-filter], [data-review-filter]')).toBeNull();
      expect(server.callsTo('GET dicom/studies')[0]?.url).not.toContain('aiStatus');
      expect(server.callsTo('GET dicom/studies')[0]?.url).not.toContain('reviewStatus');
      location.hash = '#/studies/1.2.3';
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      if (role === 'physician') await vi.waitFor(() => expect(root.querySelector('.study-header')).not.toBeNull());
      await new Promise((r) => setTimeout(r, 20));
      expect(root.querySelector('[data-rr-ai]')).toBeNull();
      expect(server.calls.some((c) => c.url.includes('/ai/'))).toBe(false);
    });
  }
});
