// @vitest-environment happy-dom
// The priors list of the viewer (viewer-priors.ts): the route it asks, DICOM strings as text only, the empty
// list and a failure said in words; nothing opens before the viewports are ready.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StudyDetail } from '../src/api';
import { createPriors, type PriorsHost } from '../src/viewer-priors';

const XSS = '<img src=x onerror="window.__xss=1">';

function host(over: Partial<PriorsHost> = {}): PriorsHost {
  const study = { studyInstanceUid: '1.2.3', series: [] } as unknown as StudyDetail;
  return {
    study,
    apiRoot: '/api/',
    orthancRoot: 'http://localhost/',
    ready: () => false,
    panes: () => [],
    active: () => 0,
    layoutId: () => '1x1',
    showLayout: vi.fn(async () => {}),
    load: vi.fn(async () => {}),
    activate: () => {},
    ...over,
  };
}

function answer(status: number, body: unknown): void {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })));
}

afterEach(() => vi.unstubAllGlobals());

describe('priors list', () => {
  it('asks the priors route of the study and lists the priors as text, newest first as given', async () => {
    answer(200, {
      data: [
        { studyInstanceUid: '9.9', studyDate: '20250101', studyDescription: XSS, modalities: ['MR'], bodyParts: [], seriesCount: 1, instanceCount: 3, reportStatus: null },
        { studyInstanceUid: '8.8', studyDate: '20230101', studyDescription: 'CT Thorax', modalities: ['CT', 'MR'], bodyParts: ['CHEST'], seriesCount: 3, instanceCount: 36, reportStatus: 'final' },
      ],
    });
    const h = host();
    const priors = createPriors(h);
    await priors.load();
    expect(vi.mocked(fetch).mock.calls[0]![0]).toBe('/api/dicom/studies/1.2.3/priors');
    expect(priors.element.getAttribute('data-rr-priors')).toBe('ready');
    const items = [...priors.element.querySelectorAll('.prior-item')];
    expect(items.map((b) => b.getAttribute('data-prior-uid'))).toEqual(['9.9', '8.8']);
    expect(items[0]!.textContent).toContain(XSS);
    expect(priors.element.querySelector('img')).toBeNull();
    expect(items[1]!.textContent).toContain('2023-01-01 · CT, MR');
    expect(items[1]!.textContent).toContain('Report: final');
    // the viewports are not ready: a click opens nothing
    (items[1] as HTMLButtonElement).click();
    await Promise.resolve();
    expect(h.showLayout).not.toHaveBeenCalled();
  });

  it('says when the patient has no other studies, and when the list cannot be read', async () => {
    answer(200, { data: [] });
    const empty = createPriors(host());
    await empty.load();
    expect(empty.element.textContent).toContain('No other studies of this patient.');
    answer(404, { error: { code: 'not_found', message: 'no such study' } });
    const failed = createPriors(host());
    await failed.load();
    expect(failed.element.getAttribute('data-rr-priors')).toBe('error');
    expect(failed.element.textContent).toContain('Priors unavailable: no such study');
  });
});
