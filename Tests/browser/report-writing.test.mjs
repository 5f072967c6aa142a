// Browser test of the study page's Report tab (issue 12, W1) against the real plugin: one Orthanc, a real CT
// (../shared/dicom ct_chest_lung_30) and a second study for "Next", the stand-in AI provider for a reviewed
// finding, a radiologist logged in once (cookies).
//
// A radiologist opens the study, switches to the Report tab, starts the report with the suggested template,
// types, reloads (the text is kept, also when the reload comes before the autosave), inserts a key image and a reviewed AI finding, signs preliminary (a wrong
// password first: the message), then final, opens the PDF link (application/pdf), adds an addendum and goes to
// the next unreported study with "Next". Screenshots of the draft and of the signed report go to
// RR_SCREENSHOT_DIR (default /tmp).
//
// Needs a plugin with the reports routes (GET /api/reports/templates; POST /api/reports; ...): with an older
// build `before` stops with "PENDING: the reports routes are not in this plugin build".
//
// Run: cd Tests && npm ci && node --test browser/report-writing.test.mjs
// Optional: READING_ROOM_WEBAPP_DIR serves a freshly built WebViewer/dist instead of the embedded app.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dcmdumpTags, dicomFilesOf, startOrthanc, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { startAiProvider } from '../lib/ai-provider.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const API_KEY = 'test-ai-key';
const RAD = { username: 'rad.report', password: 'Rad-Report-Password-2026!', role: 'radiologist', displayName: 'Dr Report Writer' };
const IMPRESSION = 'Small nodule in the right upper lobe, <b>not bold</b>. Follow-up CT in 6 months.';

describe('Reading Room report writing (browser)', { timeout: 300_000 }, () => {
  let provider;
  let orthanc;
  let browser;
  let page;
  const studies = {};
  const dialogs = [];
  const pageErrors = [];
  let keyImage;

  /** Uploads the files of a test-data folder (the first `count`); resolves with the StudyInstanceUID. */
  async function upload(folder, count) {
    const files = (await dicomFilesOf(folder)).slice(0, count);
    for (const f of files) {
      const up = await uploadFile(orthanc, f);
      assert.equal(up.status, 200, `POST /instances: HTTP ${up.status} ${up.text}`);
    }
    const uid = (await dcmdumpTags(files[0], ['StudyInstanceUID'])).StudyInstanceUID;
    await waitFor(async () => (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(uid)}`)).instanceCount >= files.length, 30_000, 200, `study ${uid} in the store`);
    return uid;
  }

  before(async () => {
    provider = await startAiProvider({ apiKey: API_KEY });
    orthanc = await startOrthanc({
      readingRoom: {
        ...(WEBAPP_DIR ? { WebAppDirectory: WEBAPP_DIR } : {}),
        AI: { Provider: 'openai', BaseUrl: provider.url, Model: 'stand-in', ApiKey: API_KEY, Concurrency: 1 },
      },
    });
    const probe = await orthanc.api('/api/reports/templates');
    if (probe.status === 404) throw new Error('PENDING: the reports routes are not in this plugin build (GET /api/reports/templates answered 404)');
    assert.equal(probe.status, 200, probe.text);
    await orthanc.createUser(RAD);
    studies.chest = await upload('ct_chest_lung_30', 30);
    studies.abdomen = await upload('ct_abdomen_pancreas_134', 1);

    // a key image of the chest CT (its 15th slice in the API's display order)
    const detail = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.chest)}`);
    const series = detail.series.find((s) => s.instances.length > 10);
    const inst = series.instances[14];
    keyImage = { sop: inst.sopInstanceUid, series: series.seriesInstanceUid };
    const k = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(studies.chest)}/key-images/${encodeURIComponent(keyImage.sop)}/frames/1`, { method: 'PUT', body: { seriesInstanceUid: keyImage.series } });
    assert.ok(k.status === 200 || k.status === 201, `key image: HTTP ${k.status} ${k.text}`);

    // an AI analysis of it, confirmed by review (only reviewed findings can be inserted)
    provider.reset();
    provider.script({ type: 'success' });
    const a = await orthanc.api(`/api/ai/analyze/${encodeURIComponent(studies.chest)}`, { method: 'POST', body: {} });
    assert.ok(a.status === 202 || a.status === 200, `analyze: HTTP ${a.status} ${a.text}`);
    await waitFor(async () => (await orthanc.json(`/api/ai/analysis/${a.json.id}`)).status === 'completed', 90_000, 250, 'the AI analysis');
    const rv = await orthanc.api(`/api/ai/analysis/${a.json.id}/review`, { method: 'PUT', body: { reviewStatus: 'confirmed', radiologistNotes: '' } });
    assert.equal(rv.status, 200, rv.text);

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(await orthanc.browserCookies(RAD.username, RAD.password));
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    await provider?.close();
  });

  const report = () => page.locator('[data-rr-report]');
  const saveState = () => report().locator('.report-save-status').getAttribute('data-save-state');

  async function openReportTab(uid) {
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`);
    await page.locator('[data-side-tab="report"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-side-tab="report"]').click();
    await waitFor(async () => (await report().getAttribute('data-state')) !== 'loading', 30_000, 100, 'the report tab');
  }

  it('starts a report with the suggested template, types, and finds the text after a reload', async () => {
    await openReportTab(studies.chest);
    assert.equal(await report().getAttribute('data-state'), 'start');
    const template = report().locator('[data-rr-template]');
    assert.equal(await template.inputValue(), 'ct-chest', 'the CT chest template is suggested for the chest CT');
    await report().locator('[data-action="report-start"]').click();
    await waitFor(async () => (await report().getAttribute('data-state')) === 'draft', 15_000, 100, 'the draft');
    const impression = report().locator('textarea[data-field="impression"]');
    await impression.fill(IMPRESSION);
    await waitFor(async () => (await saveState()) === 'saved', 15_000, 100, '"Saved"');
    assert.equal(await report().locator('.report-save-status').textContent(), 'Saved');

    await page.reload();
    await page.locator('[data-side-tab="report"][aria-selected="true"]').waitFor({ timeout: 30_000 }); // the tab is remembered
    await waitFor(async () => (await report().getAttribute('data-state')) === 'draft', 30_000, 100, 'the draft after the reload');
    assert.equal(await report().locator('textarea[data-field="impression"]').inputValue(), IMPRESSION);
    assert.equal(await report().locator('b').count(), 0, 'markup typed stays text');

    const [open] = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.chest)}/reports`)).data;
    assert.equal(open.state, 'draft');
    assert.equal(open.versions.at(-1).fields.impression, IMPRESSION);

    // typed and reloaded at once (before the autosave's pause is over): kept in the browser, sent after the reload
    const more = `${IMPRESSION} Typed just before a reload.`;
    await report().locator('textarea[data-field="impression"]').fill(more);
    await page.reload();
    await waitFor(async () => (await report().getAttribute('data-state')) === 'draft', 30_000, 100, 'the draft after the second reload');
    assert.equal(await report().locator('textarea[data-field="impression"]').inputValue(), more);
    await waitFor(async () => (await saveState()) === 'saved', 15_000, 100, '"Saved" after the replay');
    const [again] = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.chest)}/reports`)).data;
    assert.equal(again.versions.at(-1).fields.impression, more);
  });

  it('inserts a key image and the reviewed AI finding; screenshot of the draft', async () => {
    const keyBtn = report().locator('[data-group="keyImages"] button[data-action="insert-add"]');
    await keyBtn.first().waitFor({ timeout: 15_000 });
    await keyBtn.first().click();
    const aiBtn = report().locator('[data-group="aiFindings"] button[data-action="insert-add"]:not([disabled])');
    await aiBtn.first().waitFor({ timeout: 15_000 });
    await aiBtn.first().click();
    await waitFor(async () => (await report().locator('.inserted .insert-item').count()) === 2, 5_000, 100, 'two inserted items');
    assert.equal(await report().locator('.inserted [data-kind="aiFindings"] .ai-assisted-badge').textContent(), 'AI-assisted');
    await waitFor(async () => (await saveState()) === 'saved', 15_000, 100, '"Saved"');
    const [open] = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.chest)}/reports`)).data;
    const ins = open.versions.at(-1).inserts;
    assert.deepEqual(ins.keyImages, [{ sopInstanceUid: keyImage.sop, frame: 1 }]);
    assert.equal(ins.aiFindings.length, 1);
    await page.screenshot({ path: path.join(SHOTS, 'rr-report-draft.png') });
  });

  it('signs preliminary after a wrong password, then final; the PDF link answers application/pdf', async () => {
    await report().locator('[data-action="report-sign"]').click();
    const dlg = page.locator('dialog.report-sign-dialog');
    await dlg.waitFor({ timeout: 5_000 });
    assert.match(await dlg.locator('.sign-warning').textContent(), /Indication/, 'the expected empty field is listed');
    await dlg.locator('[data-sign-status="preliminary"]').check();
    await dlg.locator('[data-sign="password"]').fill('not-my-password');
    await dlg.locator('button[type="submit"]').click();
    await dlg.locator('.dialog-error:not([hidden])').waitFor({ timeout: 15_000 });
    assert.match(await dlg.locator('.dialog-error').textContent(), /^Wrong password/);
    await dlg.locator('[data-sign="password"]').fill(RAD.password);
    await dlg.locator('button[type="submit"]').click();
    await dlg.waitFor({ state: 'detached', timeout: 30_000 });
    await waitFor(async () => (await report().locator('.report-state-badge').first().textContent()) === 'Preliminary', 15_000, 100, 'the preliminary badge');

    await report().locator('[data-action="report-sign"]').click();
    await dlg.waitFor({ timeout: 5_000 });
    assert.equal(await dlg.locator('[data-sign-status="preliminary"]').isDisabled(), true);
    await dlg.locator('[data-sign="password"]').fill(RAD.password);
    await dlg.locator('button[type="submit"]').click();
    await dlg.waitFor({ state: 'detached', timeout: 30_000 });
    await waitFor(async () => (await report().getAttribute('data-state')) === 'signed', 30_000, 100, 'the signed view');
    assert.equal(await report().locator('.report-state-badge').first().textContent(), 'Final');
    assert.match(await report().locator('.report-signature').textContent(), new RegExp(`Signed by .*${RAD.username}`));
    assert.match(await report().locator('.report-ro-field[data-field-id="impression"] dd').textContent(), /Small nodule/);

    const href = await report().locator('[data-action="report-pdf"]').getAttribute('href');
    const got = await page.evaluate(async (u) => {
      const r = await fetch(u, { credentials: 'same-origin' });
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), magic: String.fromCharCode(...b.slice(0, 5)) };
    }, href);
    assert.equal(got.status, 200);
    assert.match(got.type, /^application\/pdf/);
    assert.equal(got.magic, '%PDF-');
    assert.ok((await report().locator('.report-version .version-pdf').count()) >= 2, 'each signed version has its PDF');
    await page.screenshot({ path: path.join(SHOTS, 'rr-report-signed.png') });
    // the copies in the archive: their state is followed until the Encapsulated PDF is there
    const pdfOut = report().locator('.report-output[data-kind="pdf"]');
    await waitFor(async () => (await pdfOut.count()) === 1 && (await pdfOut.getAttribute('data-state')) === 'done', 60_000, 250, 'the Encapsulated PDF in the archive');
    assert.match(await pdfOut.textContent(), /Encapsulated PDF.*In the archive/);
    assert.ok((await report().locator('.report-output[data-kind="sr"]').count()) === 1, 'the SR is listed too');
  });

  it('adds an addendum with the password', async () => {
    await report().locator('[data-action="report-addendum"]').click();
    const dlg = page.locator('dialog.report-addendum-dialog');
    await dlg.waitFor({ timeout: 5_000 });
    await dlg.locator('[data-sign="addendum"]').fill('Addendum: the nodule was present in 2024 as well.');
    await dlg.locator('[data-sign="password"]').fill(RAD.password);
    await dlg.locator('button[type="submit"]').click();
    await dlg.waitFor({ state: 'detached', timeout: 30_000 });
    await waitFor(async () => (await report().locator('.report-addendum .addendum-text').count()) === 1, 15_000, 100, 'the addendum');
    assert.equal(await report().locator('.report-addendum .addendum-text').textContent(), 'Addendum: the nodule was present in 2024 as well.');
    assert.equal(await report().locator('.report-state-badge').first().textContent(), 'Final · addendum');
    await page.screenshot({ path: path.join(SHOTS, 'rr-report-addendum.png') });
  });

  it('Next opens the next unreported study without going back to the list', async () => {
    await report().locator('[data-action="report-next"]').click();
    await page.waitForURL((u) => u.hash === `#/studies/${encodeURIComponent(studies.abdomen)}`, { timeout: 15_000 });
    await waitFor(async () => (await report().getAttribute('data-state')) === 'start', 30_000, 100, 'the next study\'s report tab');
  });

  it('raised no dialog nor page error', () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
