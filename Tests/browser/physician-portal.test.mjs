// Browser test of the referring physicians' portal (issue 12) and of issue 10's physician basic viewer: real
// Orthanc + plugin, real DICOM (a CT, the XSS file, a brain MR), Debian's chromium with software WebGL.
// - Through the REST API a radiologist finalizes a report of the CT with a critical result and its
//   communication, a report of the XSS study, and leaves a draft on the MR.
// - The physician lands on the reports list (#/reports): the CT on top, flagged critical; the XSS study's
//   strings as text, nothing run; the MR draft not listed. The report page shows the sections, the critical
//   result and its communication; the PDF downloads as application/pdf; "Acknowledge critical result" clears
//   the flag (page and list); "View images" opens the study in the basic viewer with pixels drawn.
// - The radiologist's worklist shows the Report column and its filter; the administrator's System page the
//   report turnaround.
// Screenshots for a look: RR_SHOT_DIR=/tmp.
// Run: cd Tests && npm ci && node --test browser/physician-portal.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { dicomFilesOf, startOrthanc, storescu, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const CT_FOLDER = 'ct_chest_lung_30';
const MR_FOLDER = 'mr_brain_t1post_24';
const XSS_FILE = path.join(testData, 'malformed', 'xss-tags.dcm');
const USERS = {
  rad: { username: 'rad.portal', password: 'Rad-Portal-2026!x', role: 'radiologist', displayName: 'Rita Radiologist' },
  phys: { username: 'phys.portal', password: 'Phys-Portal-2026!x', role: 'physician', displayName: 'Paul Physician' },
};

/** A value for every field of a template (what a radiologist would type), so that no "block" field is empty. */
function fillTemplate(template) {
  const fields = {};
  for (const s of template?.sections ?? []) {
    for (const f of s.fields ?? []) {
      const options = (f.options ?? []).map((o) => (typeof o === 'string' ? o : o.value ?? o.label));
      switch (f.type) {
        case 'number':
          fields[f.id] = typeof f.min === 'number' ? f.min : 12;
          break;
        case 'date':
          fields[f.id] = '2026-12-01';
          break;
        case 'choice':
          fields[f.id] = options[0] ?? 'yes';
          break;
        case 'multichoice':
          fields[f.id] = options.slice(0, 1);
          break;
        default:
          fields[f.id] = /impression/i.test(`${s.id} ${f.id}`)
            ? 'Acute pulmonary embolism, right lower lobe artery.'
            : `${f.label || f.id}: unremarkable.`;
      }
    }
  }
  return fields;
}

describe('Reading Room physicians\' portal (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let phys; // the physician's page
  let rad; // the radiologist's page
  let radToken;
  const studies = {}; // ct, xss, mr: study UIDs
  const reports = {}; // ct, xss, mr: report ids
  const pageErrors = [];
  const dialogs = [];
  const shots = process.env.RR_SHOT_DIR;

  const asRad = (p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(opts.headers || {}), Authorization: `Bearer ${radToken}` } });
  const expectStatus = (r, status, what) => assert.equal(r.status, status, `${what}: HTTP ${r.status} ${r.text.slice(0, 600)}`);

  /** Creates a report of a study as the radiologist, fills every field; final signs it (critical: with the communication). */
  async function writeReport(uid, { final = true, critical = false, keyImage = null } = {}) {
    const created = await asRad('/api/reports', { method: 'POST', body: { studyInstanceUid: uid } });
    expectStatus(created, 201, `POST /api/reports ${uid}`);
    const id = created.json.reportId;
    assert.match(id, /^\d+$/);
    const draft = await asRad(`/api/reports/${id}/draft`, {
      method: 'PUT',
      headers: { 'If-Match': created.headers.etag ?? created.json.etag },
      body: { fields: fillTemplate(created.json.template), critical, ...(keyImage ? { inserts: { keyImages: [{ sopInstanceUid: keyImage, frame: 1 }] } } : {}) },
    });
    expectStatus(draft, 200, `PUT draft of ${id}`);
    if (!final) return id;
    const sign = await asRad(`/api/reports/${id}/sign`, {
      method: 'POST',
      headers: { 'If-Match': draft.headers.etag ?? draft.json.etag },
      body: {
        password: USERS.rad.password,
        status: 'final',
        ...(critical ? { communication: { recipient: 'Dr Grey, emergency department', method: 'phone', communicatedAt: new Date().toISOString() } } : {}),
      },
    });
    expectStatus(sign, 200, `sign ${id}`);
    assert.equal(sign.json.state, 'final');
    return id;
  }

  /** Every pixel of the first viewport's canvas: how many are not black. */
  const litPixels = (page) =>
    page.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas');
      if (!c || !c.width) return { lit: 0, total: 0 };
      const ctx = c.getContext('2d', { willReadFrequently: true });
      if (!ctx) return { lit: -1, total: 0 };
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let lit = 0;
      for (let i = 0; i < d.length; i += 16) if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
      return { lit, total: d.length / 16 };
    });

  const shot = async (page, name) => {
    if (shots) await page.screenshot({ path: path.join(shots, `rr-${name}.png`), fullPage: false });
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    for (const u of Object.values(USERS)) await orthanc.createUser(u);
    const ct = await dicomFilesOf(CT_FOLDER);
    const mr = await dicomFilesOf(MR_FOLDER);
    await storescu(orthanc, [...ct, ...mr]);
    const up = await uploadFile(orthanc, XSS_FILE);
    assert.equal(up.status, 200, `POST /instances of xss-tags.dcm: HTTP ${up.status}`);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      const n = l.data.reduce((sum, s) => sum + s.instanceCount, 0);
      return l.total === 3 && n === ct.length + mr.length + 1 ? l : false;
    }, 90_000, 200, '3 studies');
    studies.ct = list.data.find((s) => s.instanceCount === ct.length).studyInstanceUid;
    studies.mr = list.data.find((s) => s.instanceCount === mr.length).studyInstanceUid;
    studies.xss = list.data.find((s) => s.patientName.includes('<script>')).studyInstanceUid;

    const l = await orthanc.login(USERS.rad.username, USERS.rad.password);
    assert.equal(l.status, 200, l.text);
    radToken = l.token;
    // a key image of the CT, marked in the viewer's store, goes into its report
    const ctDetail = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.ct)}`);
    const keySeries = ctDetail.series.find((s) => s.instances.length > 10);
    const keySop = keySeries.instances[Math.floor(keySeries.instances.length / 2)].sopInstanceUid;
    const mark = await asRad(`/api/dicom/studies/${encodeURIComponent(studies.ct)}/key-images/${encodeURIComponent(keySop)}/frames/1`, {
      method: 'PUT',
      body: { seriesInstanceUid: keySeries.seriesInstanceUid },
    });
    assert.ok(mark.status === 201 || mark.status === 200, `key image: HTTP ${mark.status} ${mark.text}`);
    reports.ct = await writeReport(studies.ct, { critical: true, keyImage: keySop });
    reports.xss = await writeReport(studies.xss);
    reports.mr = await writeReport(studies.mr, { final: false });

    browser = await launchChromium({ webgl: true });
    const pc = await browser.newContext({ viewport: { width: 1366, height: 860 }, acceptDownloads: true });
    await pc.addCookies(await orthanc.browserCookies(USERS.phys.username, USERS.phys.password));
    phys = await pc.newPage();
    phys.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    phys.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const rc = await browser.newContext({ viewport: { width: 1366, height: 860 } });
    await rc.addCookies(await orthanc.browserCookies(USERS.rad.username, USERS.rad.password));
    rad = await rc.newPage();
    rad.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('the physician lands on the finalized reports: the critical one on top and flagged, the draft not listed, strings as text', async () => {
    await phys.goto(`${orthanc.baseUrl}/reading-room/`);
    await phys.waitForSelector('tr.report-row', { timeout: 30_000 });
    assert.equal(new URL(phys.url()).hash, '#/reports');
    const rows = await phys.$$eval('tr.report-row', (trs) =>
      trs.map((tr) => ({ id: tr.getAttribute('data-report-id'), critical: tr.getAttribute('data-critical'), text: tr.textContent, flag: !!tr.querySelector('.critical-flag') })),
    );
    assert.deepEqual(rows.map((r) => r.id), [reports.ct, reports.xss], JSON.stringify(rows));
    assert.equal(rows[0].critical, 'true');
    assert.ok(rows[0].flag, 'the critical flag is shown');
    assert.equal(rows[1].critical, 'false');
    assert.ok(rows[1].text.includes('<script>'), `the XSS patient name as text: ${rows[1].text}`);
    assert.ok(rows.every((r) => r.text.includes('Final')), 'state column');
    assert.equal(await phys.locator('tr.report-row script, tr.report-row img, tr.report-row svg, tr.report-row iframe').count(), 0);
    // home: the brand leads to the reports; no worklist entry (one section: no navigation bar)
    assert.equal(await phys.locator('.appbar a.brand').getAttribute('href'), '#/reports');
    assert.equal(await phys.locator('.appbar [data-nav="worklist"]').count(), 0);
    // search by patient (debounced): the XSS patient's ID does not match the CT's
    const ctRow = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(studies.ct)}`);
    await phys.fill('.reports-page input.search', ctRow.patientId);
    await waitFor(async () => (await phys.locator('tr.report-row').count()) === 1, 10_000, 100, 'one row after the search');
    assert.equal(await phys.locator('tr.report-row').first().getAttribute('data-report-id'), reports.ct);
    assert.match(new URL(phys.url()).hash, /^#\/reports\?q=/);
    await phys.fill('.reports-page input.search', '');
    await waitFor(async () => (await phys.locator('tr.report-row').count()) === 2, 10_000, 100, 'both rows again');
    await shot(phys, 'physician-home');
    // the draft is not readable either
    const draft = await phys.evaluate(async (id) => (await fetch(`/api/reports/${id}`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })).status, reports.mr);
    assert.ok(draft === 403 || draft === 404, `a physician GET of a draft: HTTP ${draft}`);
  });

  it('reads the report, downloads its PDF, acknowledges the critical result', async () => {
    await phys.locator(`tr.report-row[data-report-id="${reports.ct}"] a.report-link`).click();
    await phys.waitForSelector('.rp-doc', { timeout: 20_000 });
    assert.equal(new URL(phys.url()).hash, `#/reports/${reports.ct}`);
    const doc = await phys.locator('.rp-doc').textContent();
    assert.match(doc, /Acute pulmonary embolism/);
    assert.match(doc, /Electronically signed by Rita Radiologist/);
    assert.ok((await phys.locator('.rp-doc .rp-section').count()) >= 2, 'sections shown');
    // the key image: a thumbnail rendered by the plugin for the physician
    const key = await waitFor(async () => {
      const k = await phys.$$eval('.rp-key-img', (imgs) => imgs.map((i) => ({ done: i.complete, w: i.naturalWidth })));
      return k.length && k.every((x) => x.done) ? k : false;
    }, 20_000, 200, 'the key image');
    assert.equal(key.length, 1);
    assert.ok(key[0].w > 0, 'the key image is drawn');
    const critical = phys.locator('.rp-critical');
    assert.equal(await critical.getAttribute('data-acknowledged'), 'false');
    assert.match(await critical.textContent(), /Dr Grey, emergency department by phone/);
    await shot(phys, 'physician-report');
    if (shots) {
      await phys.waitForSelector('.rp-history table', { timeout: 10_000 }).catch(() => {});
      await phys.evaluate(() => { const el = document.querySelector('.rp-scroll'); el.scrollTop = el.scrollHeight; });
      await shot(phys, 'physician-report-end');
      await phys.evaluate(() => { document.querySelector('.rp-scroll').scrollTop = 0; });
    }

    const [dl] = await Promise.all([phys.waitForEvent('download', { timeout: 30_000 }), phys.locator('[data-action="pdf"]').click()]);
    const bytes = await fs.readFile(await dl.path());
    assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
    const type = await phys.evaluate(async (href) => (await fetch(href)).headers.get('content-type'), await phys.locator('[data-action="pdf"]').getAttribute('href'));
    assert.match(type, /^application\/pdf/);

    await phys.locator('[data-action="acknowledge"]').click();
    await waitFor(async () => (await critical.getAttribute('data-acknowledged')) === 'true', 10_000, 100, 'acknowledged');
    assert.equal(await phys.locator('[data-action="acknowledge"]').count(), 0);
    const report = await phys.evaluate(async (id) => (await fetch(`/api/reports/${id}`, { headers: { 'X-Requested-With': 'XMLHttpRequest' } })).json(), reports.ct);
    assert.ok(report.acknowledgements.some((a) => a.username === USERS.phys.username), JSON.stringify(report.acknowledgements));

    await phys.locator('.report-page a.back').click();
    await phys.waitForSelector('tr.report-row');
    await waitFor(async () => (await phys.locator(`tr.report-row[data-report-id="${reports.ct}"]`).getAttribute('data-critical')) === 'false', 10_000, 100, 'the flag gone from the list');
    assert.equal(await phys.locator('tr.report-row .critical-flag').count(), 0);
  });

  it('"View images" opens the study in the basic viewer, with pixels drawn (issue 10: the physician basic viewer)', async () => {
    await phys.locator(`tr.report-row[data-report-id="${reports.ct}"] a.report-link`).click();
    await phys.waitForSelector('[data-action="view-images"]', { timeout: 20_000 });
    await phys.locator('[data-action="view-images"]').click();
    const viewport = phys.locator('.viewer-viewport[data-rr-viewport]').first();
    await waitFor(async () => (await viewport.getAttribute('data-rr-image-index').catch(() => null)) === '0', 60_000, 100, 'image 1 drawn');
    assert.equal(await phys.locator('.viewer').getAttribute('data-rr-mode'), 'basic');
    assert.equal(await phys.locator('[data-rr-tool="Length"], [data-rr-tool="save-sr"]').count(), 0, 'no tools that write');
    const px = await waitFor(async () => {
      const p = await litPixels(phys);
      return p.lit > p.total / 50 ? p : false;
    }, 20_000, 200, 'non-blank pixels');
    assert.ok(px.lit > 0);
    // the series thumbnails (the plugin's PNG route, checked per study for a physician) load too
    const thumbs = await waitFor(async () => {
      const t = await phys.$$eval('img.series-thumb', (imgs) => imgs.map((i) => ({ done: i.complete, w: i.naturalWidth, src: i.getAttribute('src') })));
      return t.length && t.every((x) => x.done) ? t : false;
    }, 20_000, 200, 'the thumbnails');
    const answers = await phys.evaluate(async (srcs) => Promise.all(srcs.map(async (u) => { const r = await fetch(u); return `${r.status} ${(await r.text()).slice(0, 200)}`; })), thumbs.map((t) => t.src));
    assert.ok(thumbs.every((x) => x.w > 0), `thumbnails drawn: ${JSON.stringify(thumbs)} ${JSON.stringify(answers)}`);
    assert.match(await phys.locator('.study-page a.back').textContent(), /Report/);
    await shot(phys, 'physician-viewer');
  });

  it('the radiologist\'s worklist: Report column and filter', async () => {
    await rad.goto(`${orthanc.baseUrl}/reading-room/#/`);
    await rad.waitForSelector('tr.study-row td.c-report', { timeout: 30_000 });
    const cell = (uid) => rad.locator(`tr.study-row[data-uid="${uid}"] td.c-report`);
    await waitFor(async () => (await cell(studies.ct).textContent()).includes('Final'), 10_000, 100, 'CT final');
    assert.match(await cell(studies.mr).textContent(), /Draft/);
    assert.equal(await cell(studies.ct).locator('.critical-flag').count(), 0, 'acknowledged by the physician: no flag');
    await rad.locator('[data-report-filter="mine"]').click();
    await waitFor(async () => (await rad.locator('tr.study-row').count()) === 1, 10_000, 100, 'my drafts: one study');
    assert.equal(await rad.locator('tr.study-row').first().getAttribute('data-uid'), studies.mr);
    assert.match(new URL(rad.url()).hash, /report=mine/);
    await rad.locator('[data-report-filter="final"]').click();
    await waitFor(async () => (await rad.locator('tr.study-row').count()) === 2, 10_000, 100, 'final: two studies');
    await rad.locator('[data-report-filter="unreported"]').click();
    await waitFor(async () => (await rad.locator('tr.study-row').count()) === 1, 10_000, 100, 'unreported: the MR with its draft');
    await shot(rad, 'radiologist-worklist');
  });

  it('the administrator\'s System page shows the report turnaround', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await ctx.addCookies(await orthanc.browserCookies());
    const page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/#/system`);
    const card = page.locator('[data-section="turnaround"]');
    await waitFor(async () => (await card.locator('table.turnaround tr[data-modality]').count()) > 0, 30_000, 200, 'the turnaround table');
    const ct = await card.locator('tr[data-modality="CT"] td').allTextContents();
    assert.equal(ct[1], '1', JSON.stringify(ct));
    assert.doesNotMatch(ct[5], /^— \/ —$/, `received → final of the CT: ${ct[5]}`);
    await shot(page, 'system-turnaround');
    await ctx.close();
  });

  it('ran no script of the DICOM strings and threw nothing', () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
