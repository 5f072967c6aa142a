// Browser test of the Reading Room web app: real Orthanc + plugin (shared harness), Debian's chromium
// driven by playwright-core. Run: cd Tests && npm ci && node --test browser/
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dicomFilesOf, startOrthanc, storescu, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SCREENSHOT = process.env.RR_SCREENSHOT || '/tmp/rr-worklist.png';
const XSS_FILE = path.join(testData, 'malformed', 'xss-tags.dcm');
// Optional: serve a freshly built WebViewer/dist from disk instead of the app embedded in the plugin.
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;

describe('Reading Room worklist (browser)', { timeout: 180_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let studies; // GET /api/dicom/studies data
  let xssStudy;
  let expectedInstances = 0;
  const dialogs = [];
  const consoleErrors = [];
  const pageErrors = [];

  const apiList = async (query = '') => {
    const r = await orthanc.json(`/api/dicom/studies?limit=100${query ? `&${query}` : ''}`);
    return r;
  };
  const rowUids = () => page.locator('tbody tr.study-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-uid')));

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = [...(await dicomFilesOf('ct_chest_lung_30')), ...(await dicomFilesOf('mr_brain_t1post_24'))];
    expectedInstances = files.length + 1;
    await storescu(orthanc, files);
    const up = await uploadFile(orthanc, XSS_FILE);
    assert.equal(up.status, 200, `POST /instances of xss-tags.dcm: HTTP ${up.status} ${up.text}`);

    const list = await waitFor(async () => {
      const l = await apiList();
      const n = l.data.reduce((sum, s) => sum + s.instanceCount, 0);
      return l.total === 3 && n === expectedInstances ? l : false;
    }, 60_000, 200, `3 studies / ${expectedInstances} instances in GET /api/dicom/studies`);
    studies = list.data;
    xssStudy = studies.find((s) => s.patientName.includes('<script>'));
    assert.ok(xssStudy, 'the XSS study is listed by the API');

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // logged in as the administrator
    // Window properties before any app code runs, to detect injected globals later.
    await context.addInitScript(() => {
      Object.defineProperty(window, '__rrBaseline', { value: Object.getOwnPropertyNames(window), enumerable: false });
    });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} @ ${m.location()?.url ?? ''}`);
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('lists the 3 studies', async () => {
    await page.goto(`${orthanc.baseUrl}/reading-room/`);
    await page.locator('tbody tr.study-row').nth(2).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('tbody tr.study-row').count(), 3);
    assert.deepEqual(new Set(await rowUids()), new Set(studies.map((s) => s.studyInstanceUid)));
    assert.match(await page.locator('.range').textContent(), /1–3 of 3/);
    await page.screenshot({ path: SCREENSHOT });
  });

  it('shows DICOM payloads as literal text', async () => {
    const row = page.locator(`tbody tr.study-row[data-uid="${xssStudy.studyInstanceUid}"]`);
    const name = await row.locator('td.c-patientName').textContent();
    assert.ok(name.includes('<script>'), `patient name cell shows the payload: ${name}`);
    assert.equal(await row.locator('td.c-patientId').textContent(), xssStudy.patientId);
    assert.equal(await row.locator('td.c-description').textContent(), xssStudy.studyDescription);
    assert.equal(await row.locator('td.c-accession').textContent(), xssStudy.accessionNumber);
    const injected = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      foreign: document.querySelectorAll('img, iframe, svg, object, embed, b, i').length,
      handlers: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
    }));
    assert.deepEqual(injected, { scripts: 1, foreign: 0, handlers: [] });
  });

  it('filters with the search box and keeps the filter in the URL', async () => {
    // Pick a search term from the data: a prefix of a (non-XSS) patient name matching 1 or 2 of the 3 studies.
    let term = null;
    let expected = null;
    for (const s of studies.filter((x) => x !== xssStudy)) {
      const word = s.patientName.split(/[\^\s]+/).find((w) => /^[A-Za-z0-9]{3}/.test(w));
      if (!word) continue;
      const candidate = word.slice(0, 4);
      const l = await apiList(`q=${encodeURIComponent(candidate)}`);
      if (l.total >= 1 && l.total < 3) {
        term = candidate;
        expected = l.data.map((x) => x.studyInstanceUid);
        break;
      }
    }
    assert.ok(term, `no search term found in patient names ${JSON.stringify(studies.map((s) => s.patientName))}`);

    await page.locator('input.search').fill(term);
    await waitFor(async () => (await rowUids()).length === expected.length, 10_000, 100, `${expected.length} rows for q=${term}`);
    assert.deepEqual(await rowUids(), expected);
    assert.ok(new URL(page.url()).hash.includes(`q=${encodeURIComponent(term)}`), `hash has q: ${page.url()}`);

    await page.reload();
    await waitFor(async () => (await rowUids()).length === expected.length, 10_000, 100, 'filtered rows after reload');
    assert.equal(await page.locator('input.search').inputValue(), term);

    await page.locator('input.search').fill('');
    await waitFor(async () => (await rowUids()).length === 3, 10_000, 100, '3 rows after clearing the search');
  });

  it('filters by modality (single and multiple)', async () => {
    const ct = (await apiList('modality=CT')).data.map((s) => s.studyInstanceUid);
    const ctMr = (await apiList('modality=CT,MR')).data.map((s) => s.studyInstanceUid);
    assert.equal(ct.length, 1);
    assert.equal(ctMr.length, 3);
    await page.locator('button.chip[data-mod="CT"]').click();
    await waitFor(async () => JSON.stringify(await rowUids()) === JSON.stringify(ct), 10_000, 100, 'rows for modality CT');
    await page.locator('button.chip[data-mod="MR"]').click();
    await waitFor(async () => (await rowUids()).length === 3, 10_000, 100, 'rows for modality CT,MR');
    assert.ok(page.url().includes('mod=CT%2CMR'), page.url());
    await page.locator('button.chip[data-mod="CT"]').click();
    await page.locator('button.chip[data-mod="MR"]').click();
    await waitFor(async () => !page.url().includes('mod='), 5_000, 50, 'modality filter cleared');
    assert.equal(await page.locator('.state .error').count(), 0);
  });

  it('sorts by patient name when the header is clicked', async () => {
    await page.locator('th button[data-sort="patientName"]').click();
    const expected = (await apiList('sort=patientName&order=asc')).data.map((s) => s.studyInstanceUid);
    await waitFor(async () => page.url().includes('sort=patientName'), 5_000, 50, 'sort in hash');
    await waitFor(async () => JSON.stringify(await rowUids()) === JSON.stringify(expected), 10_000, 100, 'rows sorted by name');
    assert.equal(await page.locator('th.c-patientName').getAttribute('aria-sort'), 'ascending');
  });

  it('opens the study page with its series on click', async () => {
    const detail = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(xssStudy.studyInstanceUid)}`);
    await page.locator(`tbody tr.study-row[data-uid="${xssStudy.studyInstanceUid}"] td.c-patientName`).click();
    await page.locator('tr.series-row').first().waitFor({ state: 'attached', timeout: 10_000 }); // in the collapsed series table
    assert.ok(page.url().endsWith(`#/studies/${encodeURIComponent(xssStudy.studyInstanceUid)}`), page.url());
    assert.equal(await page.locator('tr.series-row').count(), detail.series.length);
    assert.equal(await page.locator('tr.series-row .c-desc').first().textContent(), detail.series[0].seriesDescription);
    assert.ok((await page.locator('h1.patient-name').textContent()).includes('<script>'));
    assert.equal(await page.locator('[data-rr-viewer]').count(), 1);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-study.png') });

    await page.locator('a.back').click();
    await page.locator('tbody tr.study-row').nth(2).waitFor({ timeout: 10_000 });
    assert.ok(page.url().includes('sort=patientName'), `worklist state restored: ${page.url()}`);
  });

  it('opens a study with the keyboard (Enter)', async () => {
    const first = page.locator('tbody tr.study-row').first();
    const uid = await first.getAttribute('data-uid');
    await first.focus();
    await page.keyboard.press('Enter');
    await page.locator('tr.series-row').first().waitFor({ state: 'attached', timeout: 10_000 }); // in the collapsed series table
    assert.ok(page.url().endsWith(`#/studies/${encodeURIComponent(uid)}`), page.url());
  });

  it('raised no dialog, console error, page error or global', async () => {
    const globals = await page.evaluate(() => {
      const base = new Set(window.__rrBaseline);
      return Object.getOwnPropertyNames(window).filter((n) => !base.has(n) && n !== '__rrBaseline');
    });
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(globals, []);
  });
});
