// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, type StudyDetail } from '../src/api';
import { readReport } from '../src/report-api';
import { createSidePanel } from '../src/report-side';
import { alreadySaved, comparisonField, comparisonText, isUntouched, mountReportTab, type ReportTab } from '../src/report-tab';
import { FakeServer, json, studyBody, type Call } from './fake-server';
import { XSS, finalReportBody, reportBody, templateBody, versionBody } from './report-fixtures';

class MemStorage {
  m = new Map<string, string>();
  getItem = (k: string): string | null => this.m.get(k) ?? null;
  setItem = (k: string, v: string): void => void this.m.set(k, v);
  removeItem = (k: string): void => void this.m.delete(k);
}

const UID = '1.2.3';
const study: StudyDetail = { ...studyBody(), series: [] };
let tab: ReportTab | null = null;

afterEach(() => {
  tab?.destroy();
  tab = null;
  document.body.replaceChildren();
});

/** The study's other routes the tab reads (no analyses, no annotations, one prior). */
function baseServer(): FakeServer {
  return new FakeServer()
    .on(`GET ai/studies/${UID}/analyses`, () => json(200, { analyses: [] }))
    .on(`GET dicom/studies/${UID}/annotations`, () => json(200, { data: [], keyImages: [] }))
    .on(`GET dicom/studies/${UID}/priors`, () => json(200, { data: [{ studyInstanceUid: '9.8', studyDate: '20250102', modalities: ['CT'], studyDescription: 'CT CHEST' }] }))
    .on('GET reports/macros', () => json(200, { data: [{ name: 'normal', text: 'No acute findings.' }] }));
}

function mount(server: FakeServer, extra: Partial<Parameters<typeof mountReportTab>[0]> = {}): HTMLElement {
  const api = new Api('/api/', server.fetch);
  api.setHooks({ csrfToken: () => 'csrf' });
  tab = mountReportTab({ api, study, apiRoot: '/api/', user: 'rad', doc: document, storage: new MemStorage(), debounceMs: 5, outputsPollMs: 60_000, ...extra });
  document.body.appendChild(tab.el);
  return tab.el;
}

const $ = <T extends Element = HTMLElement>(root: ParentNode, sel: string): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};
const type = (el: HTMLInputElement | HTMLTextAreaElement, text: string): void => {
  el.value = text;
  el.dispatchEvent(new Event('input', { bubbles: true }));
};
const submitDialog = (): void => {
  $<HTMLFormElement>(document, 'dialog form').dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
};

describe('Report tab: starting and writing', () => {
  it('no report: offers Start report with the suggested template, creates it, shows the form with the comparison pre-filled', async () => {
    let created: Record<string, unknown> | null = null;
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ state: 'cancelled' })] }))
      .on(`GET reports/templates?studyInstanceUid=${UID}`, () => json(200, { data: [templateBody({ id: 'generic', title: 'Generic' }), templateBody(), templateBody({ id: 'old', title: 'Old', retired: true })], suggested: 'ct-chest' }))
      .on('POST reports', (c: Call) => {
        created = c.body as Record<string, unknown>;
        return json(201, reportBody());
      })
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('start'));
    const select = $<HTMLSelectElement>(root, '[data-rr-template]');
    expect([...select.options].map((o) => o.value)).toEqual(['generic', 'ct-chest']);
    expect(select.value).toBe('ct-chest');
    expect(root.textContent).toContain('Suggested for this study: CT chest');
    $<HTMLButtonElement>(root, '[data-action="report-start"]').click();
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    expect(created).toEqual({ studyInstanceUid: UID, templateId: 'ct-chest' });
    await vi.waitFor(() => expect($<HTMLInputElement>(root, '[data-field="comparison"]').value).toBe('2025-01-02 CT: CT CHEST'));
    // the pre-fill is saved like an edit
    await vi.waitFor(() => expect(server.callsTo('PUT reports/12/draft').length).toBe(1));
    expect(server.callsTo('PUT reports/12/draft')[0]?.headers['If-Match']).toBe('"1.1"');
    // still untouched: the template can be changed
    expect(root.querySelector('[data-action="report-change-template"]')).not.toBeNull();
  });

  it('an untouched draft can change its template (cancel + create); once written it cannot', async () => {
    let current = reportBody();
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [current] }))
      .on(`GET reports/templates?studyInstanceUid=${UID}`, () => json(200, { data: [templateBody(), templateBody({ id: 'generic', title: 'Generic', sections: [{ id: 'findings', title: 'Findings', fields: [{ id: 'findings', label: 'Findings', type: 'longtext' }] }] })], suggested: 'ct-chest' }))
      .on('POST reports/12/cancel', () => json(200, reportBody({ state: 'cancelled' })))
      .on('POST reports', (c: Call) => {
        current = reportBody({ reportId: '13', template: templateBody({ id: (c.body as { templateId: string }).templateId, title: 'Generic', sections: [{ id: 'findings', title: 'Findings', fields: [{ id: 'findings', label: 'Findings', type: 'longtext' }] }] }), versions: [versionBody({ fields: {} })] });
        return json(201, current);
      })
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })))
      .on('PUT reports/13/draft', () => json(200, current));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('[data-action="report-change-template"]')).not.toBeNull());
    $<HTMLButtonElement>(root, '[data-action="report-change-template"]').click();
    await vi.waitFor(() => expect(document.querySelector('dialog [data-rr-template]')).not.toBeNull());
    $<HTMLSelectElement>(document, 'dialog [data-rr-template]').value = 'generic';
    submitDialog();
    await vi.waitFor(() => expect(root.querySelector('.report-template-title')?.textContent).toBe('Template: Generic'));
    expect(server.callsTo('POST reports/12/cancel')[0]?.body).toEqual({ reason: 'Template changed before writing' });
    expect(server.callsTo('POST reports')[0]?.body).toEqual({ studyInstanceUid: UID, templateId: 'generic' });
    type($<HTMLTextAreaElement>(root, '[data-field="findings"]'), 'Written.');
    expect(root.querySelector('[data-action="report-change-template"]')).toBeNull();
    expect(root.querySelector('.report-template-line')?.textContent).toContain('kept once the report is written');
  });

  it('typing autosaves with If-Match; the status line follows; reload replays what was not saved', async () => {
    const storage = new MemStorage();
    let fail = true;
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ versions: [versionBody({ fields: { comparison: 'none' } })] })] }))
      .on('PUT reports/12/draft', (c: Call) => (fail ? json(503, { error: { code: 'unavailable', message: 'store busy' } }) : json(200, reportBody({ etag: '"1.2"', versions: [versionBody({ fields: (c.body as { fields: object }).fields })] }))));
    let root = mount(server, { storage });
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    type($<HTMLTextAreaElement>(root, '[data-field="impression"]'), 'Normal CT.');
    await vi.waitFor(() => expect($(root, '.report-save-status').getAttribute('data-save-state')).toBe('retrying'));
    expect($(root, '.report-save-status').textContent).toBe('Not saved — retrying (store busy)');
    expect(root.querySelector('[data-action="report-change-template"]')).toBeNull(); // written: template kept
    expect(JSON.parse(storage.getItem('rr.report.draft.rad.12')!).change.fields.impression).toBe('Normal CT.');

    // "reload": a new tab on the same storage shows the unsent text and sends it
    tab?.destroy();
    document.body.replaceChildren();
    fail = false;
    root = mount(server, { storage });
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    expect($<HTMLTextAreaElement>(root, '[data-field="impression"]').value).toBe('Normal CT.');
    expect(root.querySelector('.report-message')?.textContent).toContain('were restored');
    await vi.waitFor(() => expect($(root, '.report-save-status').getAttribute('data-save-state')).toBe('saved'));
    expect((server.callsTo('PUT reports/12/draft').at(-1)?.body as { fields: Record<string, unknown> }).fields.impression).toBe('Normal CT.');
    expect(storage.getItem('rr.report.draft.rad.12')).toBeNull();
  });

  it('412: the server\'s version is loaded and shown with a clear message; my changes can be applied again', async () => {
    let serverVersion = reportBody({ versions: [versionBody({ fields: { comparison: 'none' } })] });
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [serverVersion] }))
      .on('GET reports/12', () => json(200, serverVersion))
      .on('PUT reports/12/draft', (c: Call) => (c.headers['If-Match'] === '"1.5"' ? json(200, reportBody({ etag: '"1.6"' })) : json(412, { error: { code: 'version_mismatch', message: 'The report was changed' } })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    serverVersion = reportBody({ etag: '"1.5"', versions: [versionBody({ fields: { comparison: 'none', impression: 'Written elsewhere.' } })] });
    type($<HTMLTextAreaElement>(root, '[data-field="impression"]'), 'Mine.');
    await vi.waitFor(() => expect(root.querySelector('.report-message[data-kind="warn"]')?.textContent).toContain('changed elsewhere'));
    expect($<HTMLTextAreaElement>(root, '[data-field="impression"]').value).toBe('Written elsewhere.');
    $<HTMLButtonElement>(root, '[data-action="report-apply-unsent"]').click();
    expect($<HTMLTextAreaElement>(root, '[data-field="impression"]').value).toBe('Mine.');
    await vi.waitFor(() => expect($(root, '.report-save-status').getAttribute('data-save-state')).toBe('saved'));
  });

  it('macros insert at the cursor of the last text field', async () => {
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ versions: [versionBody({ fields: { comparison: 'none' } })] })] }))
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('[data-rr-macros="ready"]')).not.toBeNull());
    const imp = $<HTMLTextAreaElement>(root, '[data-field="impression"]');
    type(imp, 'AB');
    imp.focus();
    imp.setSelectionRange(1, 1);
    const sel = $<HTMLSelectElement>(root, '.macro-select');
    sel.value = 'normal';
    sel.dispatchEvent(new Event('change'));
    $<HTMLButtonElement>(root, '[data-action="macro-insert"]').click();
    expect(imp.value).toBe('ANo acute findings.B');
  });
});

describe('Report tab: inserting and signing', () => {
  it('inserts a reviewed finding and a key image; unreviewed findings are disabled', async () => {
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ versions: [versionBody({ fields: { comparison: 'none' } })] })] }))
      .on(`GET ai/studies/${UID}/analyses`, () => json(200, { analyses: [{ id: 'b'.repeat(32), status: 'completed', reviewStatus: 'pending', findings: [{ description: 'Unreviewed' }] }, { id: 'a'.repeat(32), status: 'completed', reviewStatus: 'confirmed', findings: [{ description: 'Nodule' }] }] }))
      .on(`GET ai/analysis/${'a'.repeat(32)}`, () => json(200, { id: 'a'.repeat(32), status: 'completed', reviewStatus: 'confirmed', findings: [{ description: 'Nodule', location: 'RUL' }], reviews: [{ reviewStatus: 'confirmed', findings: [] }] }))
      .on(`GET dicom/studies/${UID}/annotations`, () => json(200, { data: [], keyImages: [{ sopInstanceUid: '1.2.3.4.1', seriesInstanceUid: 's', frame: 1 }] }))
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelectorAll('[data-group="aiFindings"] .insert-item').length).toBe(2));
    const items = [...root.querySelectorAll<HTMLElement>('[data-group="aiFindings"] .insert-item')];
    expect(items.map((i) => [i.querySelector('.insert-title')?.textContent, i.querySelector('button')?.disabled])).toEqual([['Unreviewed', true], ['Nodule', false]]);
    items[1]!.querySelector('button')!.click();
    $<HTMLButtonElement>(root, '[data-group="keyImages"] button[data-action="insert-add"]').click();
    expect([...root.querySelectorAll('.inserted .insert-title')].map((e) => e.textContent)).toEqual(['Nodule', 'Key image: Image …1.2.3.4.1']);
    await vi.waitFor(() => expect(server.callsTo('PUT reports/12/draft').length).toBeGreaterThan(0));
    const last = server.callsTo('PUT reports/12/draft').at(-1)!.body as { inserts: unknown };
    expect(last.inserts).toEqual({ aiFindings: [{ analysisId: 'a'.repeat(32), index: 0 }], measurements: [], keyImages: [{ sopInstanceUid: '1.2.3.4.1', frame: 1 }] });
    $<HTMLButtonElement>(root, '.inserted button[data-action="insert-remove"]').click();
    expect(root.querySelectorAll('.inserted .insert-item').length).toBe(1);
  });

  it('sign: required fields first; wrong password shown; critical final asks the communication; 422 highlights; then the signed view', async () => {
    let signs = 0;
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ versions: [versionBody({ fields: { comparison: 'none', findings: 'Clear.' } })] })] }))
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })))
      .on('POST reports/12/sign', (c: Call) => {
        signs++;
        const b = c.body as { password: string; communication?: unknown };
        if (b.password !== 'right') return json(403, { error: { code: 'wrong_password', message: 'Wrong password' } });
        if (signs === 2) return json(422, { error: { code: 'incomplete', message: 'Required: Indication', fields: ['indication'] } });
        return json(200, finalReportBody({ critical: true, criticalCommunication: { recipient: 'Dr X', method: 'phone', communicatedAt: '2026-12-04T10:04:00Z', recordedBy: 'rad' } }));
      });
    const root = mount(server);
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    $<HTMLButtonElement>(root, '[data-action="report-sign"]').click();
    expect(document.querySelector('dialog')).toBeNull(); // impression (block) is empty
    expect(root.querySelector('[data-field-id="impression"]')?.classList.contains('field-missing')).toBe(true);
    expect(root.querySelector('.report-message')?.textContent).toContain('Fill the required fields before signing: Impression');

    type($<HTMLTextAreaElement>(root, '[data-field="impression"]'), 'Nodule.');
    const crit = $<HTMLInputElement>(root, '[data-action="report-critical"]');
    crit.checked = true;
    crit.dispatchEvent(new Event('change'));
    $<HTMLButtonElement>(root, '[data-action="report-sign"]').click();
    const dlg = $(document, 'dialog');
    expect(dlg.querySelector('.sign-warning')?.textContent).toContain('Indication'); // warn-level field empty
    expect(dlg.querySelector<HTMLInputElement>('[data-sign-status="preliminary"]')?.disabled).toBe(false);
    expect(dlg.querySelector<HTMLElement>('.sign-communication')?.hidden).toBe(false);
    $<HTMLInputElement>(dlg, '[data-sign="recipient"]').value = 'Dr X';
    $<HTMLInputElement>(dlg, '[data-sign="password"]').value = 'wrong';
    submitDialog();
    await vi.waitFor(() => expect(dlg.querySelector('.dialog-error')?.textContent).toMatch(/^Wrong password: the report was not signed/));
    const first = server.callsTo('POST reports/12/sign')[0]!;
    expect(first.headers['If-Match']).toBe('"1.2"'); // after the flush of the typing
    expect(first.body).toMatchObject({ password: 'wrong', status: 'final', communication: { recipient: 'Dr X', method: 'phone' } });
    expect($<HTMLInputElement>(dlg, '[data-sign="password"]').value).toBe(''); // never kept

    $<HTMLInputElement>(dlg, '[data-sign="password"]').value = 'right';
    submitDialog();
    await vi.waitFor(() => expect(document.querySelector('dialog')).toBeNull());
    expect(root.querySelector('[data-field-id="indication"]')?.classList.contains('field-missing')).toBe(true);
    expect(root.querySelector('.report-message')?.textContent).toContain('Required: Indication');

    $<HTMLButtonElement>(root, '[data-action="report-sign"]').click();
    $<HTMLInputElement>(document, 'dialog [data-sign="recipient"]').value = 'Dr X';
    $<HTMLInputElement>(document, 'dialog [data-sign="password"]').value = 'right';
    submitDialog();
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('signed'));
    expect($(root, '.report-state-badge').textContent).toBe('Final');
    expect($<HTMLAnchorElement>(root, '[data-action="report-pdf"]').getAttribute('href')).toBe('/api/reports/12/pdf');
    expect($<HTMLAnchorElement>(root, '.version-pdf').getAttribute('href')).toBe('/api/reports/12/pdf?version=1');
    expect($(root, '.report-critical').textContent).toContain('Communicated to Dr X by phone');
    expect([...root.querySelectorAll('.report-output')].map((o) => o.textContent)).toEqual(['v1 Encapsulated PDF' + 'In the archive', 'v1 Structured report (SR)' + 'Failed (5 attempts): Orthanc said 500']);
    expect($(root, '.report-signature').textContent).toMatch(/^Signed by Dr Rad \(rad\) on /);
    expect(root.querySelector('[data-action="report-addendum"]')).not.toBeNull();
  });

  it('signed: addendum with password; Next opens the next unreported study of the worklist filter', async () => {
    const navigated: string[] = [];
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [finalReportBody()] }))
      .on('POST reports/12/addenda', () =>
        json(201, finalReportBody({ state: 'appended', prevailingVersion: 2, versions: [versionBody({ status: 'final', signedBy: 'rad', fields: { findings: 'F.' } }), versionBody({ version: 2, kind: 'addendum', status: 'final', text: `Addendum ${XSS}`, signedBy: 'rad' })] })),
      )
      .on('GET dicom/studies', () => json(200, { data: [studyBody({ studyInstanceUid: UID }), studyBody({ studyInstanceUid: '7.7' })], total: 2 }));
    const root = mount(server, { navigate: (h) => navigated.push(h), worklistHash: () => '#/?mod=CT&page=2' });
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('signed'));
    $<HTMLButtonElement>(root, '[data-action="report-addendum"]').click();
    $<HTMLTextAreaElement>(document, 'dialog [data-sign="addendum"]').value = `Addendum ${XSS}`;
    $<HTMLInputElement>(document, 'dialog [data-sign="password"]').value = 'pw';
    submitDialog();
    await vi.waitFor(() => expect(root.querySelector('.report-addendum .addendum-text')?.textContent).toBe(`Addendum ${XSS}`));
    expect(server.callsTo('POST reports/12/addenda')[0]?.body).toEqual({ password: 'pw', text: `Addendum ${XSS}` });
    expect(root.querySelector('img')).toBeNull();
    expect($(root, '.report-state-badge').textContent).toBe('Final · addendum');
    $<HTMLButtonElement>(root, '[data-action="report-next"]').click();
    await vi.waitFor(() => expect(navigated).toEqual(['#/studies/7.7']));
    expect(server.callsTo('GET dicom/studies')[0]?.url).toMatch(/modality=CT.*report=unreported|report=unreported.*modality=CT/);
  });
});

describe('Report tab: archive copies', () => {
  it('queued outputs are looked at again until they settle, then no more', async () => {
    let gets = 0;
    const queued = { version: 1, kind: 'pdf', state: 'queued', attempts: 0, lastError: '', orthancId: '', sopInstanceUid: '', updatedAt: null };
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [finalReportBody({ outputs: [queued] })] }))
      .on('GET reports/12', () => {
        gets++;
        return json(200, finalReportBody({ outputs: [{ ...queued, state: gets >= 2 ? 'done' : 'running' }] }));
      });
    const root = mount(server, { outputsPollMs: 5 });
    await vi.waitFor(() => expect(root.querySelector('.report-output')?.getAttribute('data-state')).toBe('done'));
    expect(root.querySelector('.report-output .output-state')?.textContent).toBe('In the archive');
    await new Promise((r) => setTimeout(r, 50));
    expect(gets).toBe(2);
  });
});

describe('Report tab: correction and macros', () => {
  it('Correct: the template form with the final values, a reason and the password; the corrected report shown', async () => {
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [finalReportBody()] }))
      .on('POST reports/12/corrections', (c: Call) => {
        const b = c.body as { password: string };
        if (b.password !== 'pw') return json(403, { error: { code: 'wrong_password', message: 'Wrong password' } });
        return json(201, finalReportBody({ state: 'corrected', prevailingVersion: 2, versions: [versionBody({ status: 'final', signedBy: 'rad' }), versionBody({ version: 2, kind: 'correction', status: 'final', text: 'Wrong side', signedBy: 'rad', fields: { impression: 'Left nodule.' } })] }));
      });
    const root = mount(server);
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('signed'));
    $<HTMLButtonElement>(root, '[data-action="report-correct"]').click();
    const dlg = $(document, 'dialog.report-correction-dialog');
    expect(dlg.querySelectorAll('form').length).toBe(1); // the template's fields inside the dialog's form, not a nested form
    const imp = $<HTMLTextAreaElement>(dlg, '[data-field="impression"]');
    expect(imp.value).toBe('Nodule.');
    imp.value = 'Left nodule.';
    $<HTMLInputElement>(dlg, '[data-sign="reason"]').value = 'Wrong side';
    $<HTMLInputElement>(dlg, '[data-sign="password"]').value = 'bad';
    submitDialog();
    await vi.waitFor(() => expect(dlg.querySelector('.dialog-error')?.textContent).toMatch(/^Wrong password/));
    $<HTMLInputElement>(dlg, '[data-sign="password"]').value = 'pw';
    submitDialog();
    await vi.waitFor(() => expect($(root, '.report-state-badge').textContent).toBe('Final · corrected'));
    const body = server.callsTo('POST reports/12/corrections').at(-1)!.body as { fields: Record<string, unknown>; reason: string };
    expect(body.reason).toBe('Wrong side');
    expect(body.fields.impression).toBe('Left nodule.');
    expect(body.fields.contrast).toBe('iv');
    expect($(root, '.report-correction-reason').textContent).toBe('Corrected: Wrong side');
  });

  it('Save as macro: the selection of the last text field under a name; Delete', async () => {
    let macros = [{ name: 'normal', text: 'No acute findings.' }];
    const server = baseServer()
      .on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ versions: [versionBody({ fields: { comparison: 'none' } })] })] }))
      .on('GET reports/macros', () => json(200, { data: macros }))
      .on('PUT reports/macros/my%20macro', (c: Call) => {
        macros = [...macros, { name: 'my macro', text: (c.body as { text: string }).text }];
        return new Response(null, { status: 204 });
      })
      .on('DELETE reports/macros/my%20macro', () => {
        macros = macros.filter((m) => m.name !== 'my macro');
        return new Response(null, { status: 204 });
      })
      .on('PUT reports/12/draft', () => json(200, reportBody({ etag: '"1.2"' })));
    const root = mount(server);
    await vi.waitFor(() => expect(root.querySelector('[data-rr-macros="ready"]')).not.toBeNull());
    const ind = $<HTMLTextAreaElement>(root, '[data-field="indication"]');
    type(ind, 'Cough. Fever for three days.');
    ind.focus();
    ind.setSelectionRange(7, 28);
    $<HTMLButtonElement>(root, '[data-action="macro-save"]').click();
    const dlg = $(document, 'dialog');
    expect($<HTMLTextAreaElement>(dlg, 'textarea[name="text"]').value).toBe('Fever for three days.');
    $<HTMLInputElement>(dlg, 'input[name="name"]').value = 'my macro';
    submitDialog();
    await vi.waitFor(() => expect(document.querySelector('dialog')).toBeNull());
    expect(server.callsTo('PUT reports/macros/my%20macro')[0]?.body).toEqual({ text: 'Fever for three days.' });
    await vi.waitFor(() => expect($<HTMLSelectElement>(root, '.macro-select').value).toBe('my macro'));
    $<HTMLButtonElement>(root, '[data-action="macro-delete"]').click();
    submitDialog();
    await vi.waitFor(() => expect([...$<HTMLSelectElement>(root, '.macro-select').options].map((o) => o.value)).toEqual(['', 'normal']));
  });
});

describe('Report tab helpers', () => {
  it('comparison text and field; untouched drafts', () => {
    expect(comparisonText([{ studyInstanceUid: '1', studyDate: '20250102', studyTime: '', studyDescription: 'CT CHEST', modalities: ['CT'], bodyParts: [], seriesCount: 1, instanceCount: 1, reportStatus: null }])).toBe('2025-01-02 CT: CT CHEST');
    const r = readReport(reportBody());
    expect(comparisonField(r.template!)).toBe('comparison');
    const defaults = { findings: 'Lungs: clear.', contrast: 'none', lobes: [], comparison: 'prior' };
    const none = { aiFindings: [], measurements: [], keyImages: [] };
    expect(isUntouched(r, defaults, none, false)).toBe(true);
    expect(isUntouched(r, { ...defaults, impression: 'x' }, none, false)).toBe(false);
    expect(isUntouched(r, defaults, none, true)).toBe(false);
    expect(isUntouched(r, defaults, { ...none, keyImages: [{ sopInstanceUid: '1', frame: 1 }] }, false)).toBe(false);
  });

  it('a preliminary report stays editable, with its signature and PDF, signed final only, and Next beside Sign', async () => {
    const prelim = versionBody({ status: 'preliminary', signedBy: 'rad', signedByName: 'Dr Rad', signedAt: '2026-12-04T10:05:00Z', pdf: '/api/reports/12/pdf?version=1', fields: { comparison: 'none', impression: 'Prelim.' } });
    const server = baseServer().on(`GET dicom/studies/${UID}/reports`, () => json(200, { data: [reportBody({ state: 'preliminary', versions: [prelim] })] }));
    const root = mount(server);
    await vi.waitFor(() => expect(root.getAttribute('data-state')).toBe('draft'));
    expect($(root, '.report-state-badge').textContent).toBe('Preliminary');
    expect($(root, '.report-prelim').textContent).toMatch(/^Preliminary, signed by Dr Rad \(rad\) on .* · PDF$/);
    expect($<HTMLAnchorElement>(root, '.report-prelim a').getAttribute('href')).toBe('/api/reports/12/pdf?version=1');
    expect(root.querySelector('.report-actions-main [data-action="report-next"]')).not.toBeNull();
    $<HTMLButtonElement>(root, '[data-action="report-sign"]').click();
    expect($<HTMLInputElement>(document, 'dialog [data-sign-status="preliminary"]').disabled).toBe(true);
  });

  it('a kept change the server already holds is not offered again', () => {
    const r = readReport(reportBody({ critical: true, versions: [versionBody({ fields: { impression: 'Done.', lobes: ['rul'] } })] }));
    expect(alreadySaved(r, { fields: { impression: 'Done.', lobes: ['rul'], nodule: null } })).toBe(true);
    expect(alreadySaved(r, { fields: { impression: 'Other.' } })).toBe(false);
    expect(alreadySaved(r, { critical: false })).toBe(false);
    expect(alreadySaved(r, { inserts: { aiFindings: [], measurements: [], keyImages: [{ sopInstanceUid: '1', frame: 1 }] } })).toBe(false);
  });

  it('side panel: AI and Report as tabs, the choice remembered', () => {
    const storage = new MemStorage();
    const shown: string[] = [];
    const make = () => createSidePanel(document, [{ id: 'ai', label: 'AI analysis', el: document.createElement('section') }, { id: 'report', label: 'Report', el: document.createElement('section'), onShow: () => shown.push('report') }], storage);
    const p = make();
    expect(p.getAttribute('data-active-tab')).toBe('ai');
    $<HTMLButtonElement>(p, '[data-side-tab="report"]').click();
    expect(p.getAttribute('data-active-tab')).toBe('report');
    expect(shown).toEqual(['report']);
    expect(p.querySelectorAll('.side-tabpanel')[0]?.hasAttribute('hidden')).toBe(true);
    expect(p.querySelector('[data-side-tab="report"]')?.closest('.side-tabpanel')).toBe(p.querySelectorAll('.side-tabpanel')[1]); // the bar on the panel shown
    expect(make().getAttribute('data-active-tab')).toBe('report');
    const single = document.createElement('section');
    expect(createSidePanel(document, [{ id: 'ai', label: 'AI', el: single }])).toBe(single);
  });
});
