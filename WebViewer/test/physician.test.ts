// @vitest-environment happy-dom
// Reports in the web app (issue 12): the physicians' portal (wire parsing, order with critical results first,
// the prevailing version, text only), its routes and start page, the worklist's report column and filter, the
// System page's turnaround durations.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, decodeStudy, studyQueryString } from '../src/api';
import { startApp } from '../src/app';
import { homeHashOf, parseCapabilities } from '../src/capabilities';
import {
  decodeReport,
  decodeReportList,
  fieldText,
  homeHash,
  homeQuery,
  imagingFirst,
  orderRows,
  parseHomeState,
  patientQuery,
  prevailingView,
  shownSections,
  stateLabel,
  type ReportRow,
} from '../src/physician-wire';
import { renderReportRow } from '../src/physician-home';
import { renderHistory } from '../src/physician-report';
import { parseState, serializeState, toApiQuery, worklistHash } from '../src/query';
import { parseHash } from '../src/router';
import { Session } from '../src/session';
import { navFor } from '../src/shell';
import { decodeTurnaround, formatDuration, renderTurnaround } from '../src/system-turnaround';
import { UploadQueue } from '../src/upload-queue';
import { columnsFor, renderStudyRow } from '../src/worklist-columns';
import { parseReportFilter } from '../src/worklist-report';
import { FakeServer, json, meBody, studyBody } from './fake-server';

const XSS = '<img src=x onerror=alert(1)><script>alert(2)</script>';

function row(over: Partial<ReportRow> & { reportId: string }): Record<string, unknown> {
  return {
    studyInstanceUid: `1.2.${over.reportId}`,
    state: 'final',
    templateId: 'ct-chest',
    critical: false,
    acknowledged: false,
    patientName: 'DOE^JANE',
    patientId: 'P1',
    patientBirthDate: '19700131',
    studyDate: '20261201',
    studyDescription: 'CT chest',
    accessionNumber: 'A1',
    referringPhysicianName: 'REF^DOC',
    modalities: ['CT'],
    signedBy: 'rad',
    signedAt: '2026-12-01T10:00:00Z',
    updatedAt: '2026-12-01T10:00:00Z',
    ...over,
  };
}

const template = {
  id: 'ct-chest',
  title: 'CT chest',
  revision: 1,
  sections: [
    { id: 'clinical', title: 'Clinical information', fields: [{ id: 'indication', label: 'Indication', type: 'text' }] },
    {
      id: 'findings',
      title: 'Findings',
      fields: [
        { id: 'lungs', label: 'Lungs', type: 'longtext' },
        { id: 'nodule', label: 'Nodule size', type: 'number', unit: 'mm' },
        { id: 'effusion', label: 'Effusion', type: 'multichoice', options: ['left', 'right'] },
      ],
    },
    { id: 'impression', title: 'Impression', fields: [{ id: 'impression', label: 'Impression', type: 'longtext' }, { id: 'empty', label: 'Empty', type: 'text' }] },
  ],
};

const version = (n: number, kind: string, fields: Record<string, unknown>, text: string | null = null, status = 'final'): Record<string, unknown> => ({
  version: n,
  kind,
  status,
  fields,
  inserts: { aiFindings: [], measurements: [], keyImages: [] },
  text,
  author: 'rad',
  signedBy: 'rad',
  signedByName: 'Rita Radiologist',
  signedAt: `2026-12-0${n}T10:00:00Z`,
  revision: 1,
  pdf: `/api/reports/7/pdf?version=${n}`,
});

function reportBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reportId: '7',
    studyInstanceUid: '1.2.7',
    state: 'final',
    stateReason: null,
    template,
    critical: true,
    criticalCommunication: { recipient: 'Dr Who', method: 'phone', communicatedAt: '2026-12-01T09:55:00Z', recordedBy: 'rad' },
    acknowledgements: [],
    createdBy: 'rad',
    createdAt: '2026-12-01T09:00:00Z',
    updatedAt: '2026-12-01T10:00:00Z',
    prevailingVersion: 1,
    etag: '"1.1"',
    versions: [
      {
        ...version(1, 'original', { indication: 'Cough', lungs: 'Nodule right upper lobe.\nNo effusion.', nodule: 8, effusion: [], impression: XSS, empty: '' }),
        inserts: {
          aiFindings: [{ analysisId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', index: 0, text: 'Pulmonary nodule', severity: 'moderate' }],
          measurements: [{ annotationUid: 'm1', label: 'Nodule 8.1 mm' }],
          keyImages: [{ sopInstanceUid: '9.9', frame: 1 }],
        },
      },
    ],
    outputs: [],
    ...over,
  };
}

describe('wire: report rows and report objects', () => {
  it('reads a list; a malformed answer is refused, odd fields get neutral values', () => {
    const list = decodeReportList({ data: [row({ reportId: '3', critical: true }), { reportId: 4, modalities: 'CT', critical: 'yes' }], total: 9 });
    expect(list.total).toBe(9);
    expect(list.data[0]).toMatchObject({ reportId: '3', critical: true, acknowledged: false, patientId: 'P1', modalities: ['CT'] });
    expect(list.data[1]).toMatchObject({ reportId: '4', critical: false, modalities: [], signedAt: null });
    expect(() => decodeReportList({ data: {} })).toThrow(/data: expected an array/);
    expect(() => decodeReportList({ data: [3] })).toThrow(/data\[0\]: expected an object/);
  });

  it('reads a report: template, versions oldest first, inserts, communication', () => {
    const r = decodeReport(reportBody());
    expect(r.reportId).toBe('7');
    expect(r.critical).toBe(true);
    expect(r.criticalCommunication).toEqual({ recipient: 'Dr Who', method: 'phone', communicatedAt: '2026-12-01T09:55:00Z', recordedBy: 'rad' });
    expect(r.template.sections.map((s) => s.id)).toEqual(['clinical', 'findings', 'impression']);
    expect(r.versions[0]?.aiFindings[0]).toMatchObject({ analysisId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', index: 0, text: 'Pulmonary nodule' });
    expect(r.versions[0]?.measurements[0]?.text).toBe('Nodule 8.1 mm');
    expect(r.versions[0]?.keyImages[0]).toEqual({ sopInstanceUid: '9.9', frame: 1, caption: '' });
  });

  it('imaging modalities first', () => {
    expect(imagingFirst(['DOC', 'CT', 'SR', 'PT'])).toEqual(['CT', 'PT', 'DOC', 'SR']);
  });

  it('state names for a reader', () => {
    expect(['final', 'appended', 'corrected', 'preliminary', 'entered-in-error', 'x'].map(stateLabel)).toEqual(['Final', 'Amended', 'Corrected', 'Preliminary', 'Entered in error', 'x']);
  });
});

describe('order of the physicians list', () => {
  it('critical not acknowledged first, then newest signature, then highest id', () => {
    const rows = decodeReportList({
      data: [
        row({ reportId: '1', signedAt: '2026-12-03T10:00:00Z' }),
        row({ reportId: '2', signedAt: '2026-11-01T10:00:00Z', critical: true }),
        row({ reportId: '3', signedAt: '2026-12-04T10:00:00Z', critical: true, acknowledged: true }),
        row({ reportId: '4', signedAt: '2026-11-20T10:00:00Z', critical: true }),
        row({ reportId: '5', signedAt: '2026-12-03T10:00:00Z' }),
      ],
    }).data;
    expect(orderRows(rows).map((r) => r.reportId)).toEqual(['4', '2', '3', '5', '1']);
    expect(rows.map((r) => r.reportId)).toEqual(['1', '2', '3', '4', '5']); // input untouched
  });
});

describe('the prevailing version', () => {
  it('original alone; addenda in order; a correction replaces the body and keeps the first signature', () => {
    const base = reportBody();
    const v1 = (base.versions as Record<string, unknown>[])[0]!;
    expect(prevailingView(decodeReport(base))?.content.version).toBe(1);
    const appended = decodeReport({
      ...base,
      state: 'appended',
      versions: [v1, version(2, 'addendum', v1.fields as Record<string, unknown>, 'Second look: stable.'), version(3, 'addendum', {}, 'Third.')],
    });
    const va = prevailingView(appended)!;
    expect(va.content.version).toBe(1);
    expect(va.addenda.map((a) => a.text)).toEqual(['Second look: stable.', 'Third.']);
    const corrected = decodeReport({ ...base, state: 'corrected', versions: [v1, version(2, 'correction', { impression: 'Fixed' }, 'Wrong side'), version(3, 'addendum', {}, 'Later', 'draft')] });
    const vc = prevailingView(corrected)!;
    expect(vc.content.version).toBe(2);
    expect(vc.original.version).toBe(1);
    expect(vc.corrections.map((c) => c.text)).toEqual(['Wrong side']);
    expect(vc.addenda).toEqual([]); // a draft addendum is not shown
    expect(prevailingView(decodeReport({ ...base, versions: [version(1, 'original', {}, null, 'draft')] }))).toBeNull();
  });

  it('shows filled fields only, values in words', () => {
    const r = decodeReport(reportBody());
    const s = shownSections(r.template, { ...r.versions[0]!.fields, unknown_field: 'kept' });
    expect(s.map((x) => x.title)).toEqual(['Clinical information', 'Findings', 'Impression', 'Other']);
    expect(s[1]?.items.map((i) => [i.label, i.text])).toEqual([
      ['Lungs', 'Nodule right upper lobe.\nNo effusion.'],
      ['Nodule size', '8 mm'],
    ]);
    // a section's only field named like the section: no repeated label
    const single = shownSections({ id: 't', title: 'T', sections: [{ id: 'imp', title: 'Impression', fields: [{ id: 'i', label: 'impression', type: 'longtext', unit: '', options: [] }] }] }, { i: 'PE' });
    expect(single[0]?.items).toEqual([{ id: 'i', label: '', type: 'longtext', text: 'PE' }]);
    expect(fieldText({ type: 'multichoice', unit: '' }, ['left', 'right'])).toBe('left, right');
    expect(fieldText({ type: 'number', unit: 'mm' }, '4.5')).toBe('4.5 mm');
    expect(fieldText({ type: 'text', unit: '' }, true)).toBe('Yes');
    expect(fieldText({ type: 'choice', unit: '' }, { value: 'a', label: 'Alpha' })).toBe('Alpha');
  });
});

describe('home state and queries', () => {
  it('hash round trip and API query', () => {
    const s = parseHomeState('q=doe%20j&page=3');
    expect(s).toEqual({ q: 'doe j', page: 3 });
    expect(homeHash(s)).toBe('#/reports?q=doe+j&page=3');
    expect(homeHash({ q: ' ', page: 1 })).toBe('#/reports');
    expect(homeQuery(s, 25)).toBe('state=final,appended,corrected&q=doe+j&limit=25&offset=50');
    expect(patientQuery('P 1')).toBe('state=final,appended,corrected&patientId=P+1&limit=100');
    expect(parseHomeState('page=-2')).toEqual({ q: '', page: 1 });
  });

  it('routes, start page and navigation', () => {
    expect(parseHash('#/reports')).toEqual({ name: 'reports', query: '' });
    expect(parseHash('#/reports?q=x')).toEqual({ name: 'reports', query: 'q=x' });
    expect(parseHash('#/reports/12')).toEqual({ name: 'reportView', id: '12' });
    expect(parseHash('#/reports/12x')).toEqual({ name: 'notFound', path: '/reports/12x' });
    const physician = parseCapabilities(['worklist', 'study', 'reports']);
    const radiologist = parseCapabilities(['worklist', 'study', 'ai', 'annotate', 'report', 'reports']);
    expect(homeHashOf(physician)).toBe('#/reports');
    expect(homeHashOf(radiologist)).toBe('#/');
    expect(navFor(physician).map((n) => n.id)).toEqual(['reports']);
    expect(navFor(radiologist).map((n) => n.id)).toEqual(['worklist']);
    expect(navFor(parseCapabilities(['worklist', 'upload', 'users', 'audit', 'system', 'report', 'reports'])).map((n) => n.id)).toEqual(['worklist', 'upload', 'users', 'audit', 'system']);
  });
});

describe('worklist: report filter and column', () => {
  it('the filter goes to the hash and to the API as report=', () => {
    const s = parseState('report=MINE&mod=CT');
    expect(s.report).toBe('mine');
    expect(serializeState(s)).toBe('mod=CT&report=mine');
    expect(worklistHash(s)).toBe('#/?mod=CT&report=mine');
    expect(studyQueryString(toApiQuery(s))).toBe('modality=CT&report=mine&sort=studyDate&order=desc&limit=50&offset=0');
    expect(parseState('report=bogus').report).toBeUndefined();
    expect(toApiQuery(parseState('')).report).toBeUndefined();
    expect(['unreported', 'mine', 'preliminary', 'final', 'critical', 'x'].map(parseReportFilter)).toEqual(['unreported', 'mine', 'preliminary', 'final', 'critical', '']);
  });

  it('the column shows the state and the critical flag, as text', () => {
    expect(columnsFor(false, true).map((c) => c.id)).toContain('report');
    expect(columnsFor(true).map((c) => c.id)).not.toContain('report');
    const study = decodeStudy({ ...studyBody(), reportStatus: 'final', reportId: 12, reportCritical: true });
    expect(study.reportId).toBe('12');
    const tr = renderStudyRow(document, study, columnsFor(false, true));
    const cell = tr.querySelector('td.c-report')!;
    expect(cell.querySelector('.report-badge')?.textContent).toBe('Final');
    expect(cell.querySelector('[data-critical="true"]')?.textContent).toBe('Critical');
    const plain = renderStudyRow(document, decodeStudy(studyBody()), columnsFor(false, true)).querySelector('td.c-report')!;
    expect(plain.textContent).toBe('');
    expect(plain.getAttribute('title')).toBe('No report');
  });
});

describe('turnaround', () => {
  it('humanises durations', () => {
    expect([null, -1, 0, 44.6, 59, 60, 89, 2520, 3599, 3600, 11100, 47 * 3600 + 59 * 60, 48 * 3600, 2 * 86400 + 4 * 3600 + 100].map((s) => formatDuration(s))).toEqual([
      '—', '—', '0 s', '45 s', '59 s', '1 min', '1 min', '42 min', '1 h 00 min', '1 h 00 min', '3 h 05 min', '47 h 59 min', '2 d', '2 d 4 h',
    ]);
  });

  it('reads the answer and renders one row per modality as text', () => {
    const rows = decodeTurnaround({
      data: [
        { modality: 'CT', studies: 12, receivedToOpened: { median: 600, p90: 3600 }, openedToPreliminary: { median: null, p90: null }, openedToFinal: { median: 1800, p90: 7200 }, receivedToFinal: { median: 2400, p90: 90000 } },
        { modality: XSS, studies: 1 },
      ],
    });
    expect(rows[1]?.receivedToFinal).toEqual({ median: null, p90: null });
    const [, wrap] = renderTurnaround(document, rows);
    const ct = wrap!.querySelector('tr[data-modality="CT"]')!;
    expect(Array.from(ct.querySelectorAll('td')).map((td) => td.textContent)).toEqual(['CT', '12', '10 min / 1 h 00 min', '— / —', '30 min / 2 h 00 min', '40 min / 25 h 00 min']);
    expect(wrap!.querySelector('img,script')).toBeNull();
    expect(renderTurnaround(document, [])[1]?.textContent).toMatch(/No study/);
    expect(() => decodeTurnaround({})).toThrow(/data: expected an array/);
  });
});

describe('text only', () => {
  it('a report row and the history show DICOM strings as text', () => {
    const r = decodeReportList({ data: [row({ reportId: '8', patientName: `X^${XSS}`, patientId: XSS, studyDescription: XSS, modalities: [XSS], signedBy: XSS, critical: true })] }).data[0]!;
    const tr = renderReportRow(document, r);
    expect(tr.querySelector('img,script')).toBeNull();
    expect(tr.textContent).toContain('<script>alert(2)</script>');
    expect(tr.getAttribute('data-critical')).toBe('true');
    expect(tr.querySelector('a')?.getAttribute('href')).toBe('#/reports/8');
    const hist = renderHistory([{ studyInstanceUid: '1.9', studyDate: '20250101', studyTime: '', studyDescription: XSS, modalities: ['MR'], bodyParts: [], seriesCount: 1, instanceCount: 1, reportStatus: null }], [r], '99');
    expect(hist.querySelector('img,script')).toBeNull();
    expect(hist.querySelectorAll('tr.history-row')).toHaveLength(2);
    expect(hist.querySelector('a[href="#/reports/8"]')?.textContent).toBe('Read report');
    expect(hist.querySelector('a[href^="#/studies/"]')).toBeNull(); // no images link without the viewer
    const withImages = renderHistory([], [r], '99', true);
    expect(withImages.querySelector('a[href="#/studies/1.2.8"]')?.textContent).toBe('Images');
    expect(renderReportRow(document, { ...r, signedByName: 'Rita Radiologist' }).querySelector('.c-signer')?.textContent).toBe('Rita Radiologist');
  });
});

describe('the portal in the app', () => {
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

  function boot(role: string, capabilities: string[], server: FakeServer): void {
    server.on('GET auth/me', () => json(200, meBody({ username: `u-${role}`, displayName: 'Some One', role }, new Date(Date.now() + 3600_000), 'c', capabilities)));
    const api = new Api('/api/', server.fetch);
    const session = new Session(api, { doc: { cookie: '' } as unknown as Document });
    stop = startApp(root, { api, session, orthancRoot: '/', uploadQueue: () => new UploadQueue(async () => ({ status: 200, body: '{}' })) });
  }
  const go = async (hash: string): Promise<void> => {
    location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await Promise.resolve();
  };

  it('a physician lands on the reports, critical first; the report page acknowledges', async () => {
    let acked = false;
    const server = new FakeServer()
      .on('GET reports', () => json(200, { data: [row({ reportId: '1' }), row({ reportId: '7', critical: !acked, patientName: `CRIT^${XSS}` })], total: 2 }))
      .on('GET reports/7', () => json(200, reportBody({ acknowledgements: acked ? [{ username: 'u-physician', at: '2026-12-02T08:00:00Z' }] : [] })))
      .on('POST reports/7/acknowledge', () => {
        acked = true;
        return json(200, reportBody({ acknowledgements: [{ username: 'u-physician', at: '2026-12-02T08:00:00Z' }] }));
      })
      .on('GET dicom/studies/1.2.7', () => json(200, { ...studyBody({ studyInstanceUid: '1.2.7', patientName: `CRIT^${XSS}` }), series: [{ seriesInstanceUid: 's', orthancId: 'so', seriesNumber: 2, modality: 'CT', seriesDescription: 'Axial', instanceCount: 1, instances: [{ sopInstanceUid: '9.9', orthancId: 'inst-9' }] }] }))
      .on('GET dicom/studies/1.2.7/priors', () => json(200, { data: [] }));
    boot('physician', ['worklist', 'study', 'reports'], server);
    await vi.waitFor(() => expect(root.querySelectorAll('tr.report-row')).toHaveLength(2));
    expect(location.hash).toBe('#/reports');
    const rows = Array.from(root.querySelectorAll<HTMLElement>('tr.report-row'));
    expect(rows.map((r) => r.dataset.reportId)).toEqual(['7', '1']);
    expect(rows[0]?.querySelector('.critical-flag')).not.toBeNull();
    expect(root.querySelector('script,img')).toBeNull();
    expect(server.callsTo('GET reports')[0]?.url).toBe('/api/reports?state=final,appended,corrected&limit=25&offset=0');

    rows[0]?.querySelector('td.c-desc')?.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    expect(location.hash).toBe('#/reports/7');
    await go('#/reports/7');
    await vi.waitFor(() => expect(root.querySelector('.rp-doc')).not.toBeNull());
    const doc = root.querySelector('.rp-doc')!;
    expect(doc.querySelector('[data-field="impression"]')?.textContent).toBe(XSS);
    expect(doc.querySelector('.ai-assisted')?.textContent).toBe('AI-assisted');
    expect(doc.querySelector('.rp-ref')?.textContent).toContain('analysis a1b2c3d4');
    expect(doc.querySelector('.rp-key-img')?.getAttribute('src')).toBe('/api/dicom/instances/inst-9/frames/0/png?size=256');
    expect(doc.querySelector('.rp-signature')?.textContent).toContain('Rita Radiologist');
    expect(root.querySelector('script,img:not(.rp-key-img)')).toBeNull();
    expect(root.querySelector('[data-action="pdf"]')?.getAttribute('href')).toBe('/api/reports/7/pdf');
    expect(root.querySelector('[data-action="view-images"]')?.getAttribute('href')).toBe('#/studies/1.2.7');
    expect(root.querySelector('.rp-comm')?.textContent).toContain('Dr Who by phone');
    root.querySelector<HTMLButtonElement>('[data-action="acknowledge"]')!.click();
    await vi.waitFor(() => expect(root.querySelector('.rp-critical')?.getAttribute('data-acknowledged')).toBe('true'));
    expect(root.querySelector('[data-action="acknowledge"]')).toBeNull();
    expect(server.callsTo('POST reports/7/acknowledge')).toHaveLength(1);
  });

  it('a report entered in error says so above everything, with its reason', async () => {
    const server = new FakeServer()
      .on('GET reports/7', () => json(200, reportBody({ state: 'entered-in-error', stateReason: 'Wrong patient <b>!</b>', critical: false })))
      .on('GET dicom/studies/1.2.7', () => json(404, { error: { code: 'not_found', message: 'no' } }))
      .on('GET dicom/studies/1.2.7/priors', () => json(200, { data: [] }));
    boot('admin', ['worklist', 'study', 'system', 'templates', 'report', 'reports'], server);
    await go('#/reports/7');
    await vi.waitFor(() => expect(root.querySelector('.rp-withdrawn')).not.toBeNull());
    expect(root.querySelector('.rp-withdrawn')?.textContent).toBe('This report was entered in error and is withdrawn: do not use it. Reason: Wrong patient <b>!</b>');
    expect(root.querySelector('.rp-withdrawn b')).toBeNull();
    expect(root.querySelector('.rp-identity')?.textContent).toContain('1.2.7'); // the study could not be read: its UID
    expect(root.querySelector('.rp-doc')).not.toBeNull();
  });

  it('a radiologist gets the report column and filter; the filter reaches the API', async () => {
    const server = new FakeServer().on('GET dicom/studies', () => json(200, { data: [{ ...studyBody(), reportStatus: 'draft', reportId: '3', reportCritical: false }], total: 1, limit: 50, offset: 0 }));
    boot('radiologist', ['worklist', 'study', 'ai', 'annotate', 'report', 'reports'], server);
    await vi.waitFor(() => expect(root.querySelector('tr.study-row td.c-report .report-badge')?.textContent).toBe('Draft'));
    root.querySelector<HTMLButtonElement>('[data-report-filter="critical"]')!.click();
    await vi.waitFor(() => expect(server.calls.at(-1)?.url).toContain('report=critical'));
    expect(location.hash).toContain('report=critical');
    root.querySelector<HTMLButtonElement>('[data-report-filter="mine"]')!.click();
    await vi.waitFor(() => expect(server.calls.at(-1)?.url).toContain('report=mine'));
    expect(root.querySelectorAll('[data-report-filter][aria-pressed="true"]')).toHaveLength(1);
  });
});
