// Browser test of the viewer's tag browser (issue 10: "A tag browser shows every tag of the current image,
// sequences expandable, with search"): real Orthanc + plugin, Debian's chromium (software WebGL), driven by
// playwright-core. The panel's values are checked against dcmdump's reading of the same file; the XSS file's
// payloads must appear as text, and nothing of them may run or become an element.
// Run: cd Tests && npm ci && node --test browser/viewer-tags.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dcmdumpTags, dicomFilesOf, storescu, startOrthanc, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SCREENSHOT = process.env.RR_TAGS_SCREENSHOT || '/tmp/rr-viewer-tags.png';
const CT_FOLDER = 'ct_abdomen_pancreas_134';
const XSS_FILE = path.join(testData, 'malformed', 'xss-tags.dcm');
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;

describe('Reading Room viewer tag browser (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let ct;
  let xss;
  let ctFirstFile; // the file of the CT's first image in display order
  const dialogs = [];
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport]').first();
  const panel = () => page.locator('aside.viewer-tags');
  const value = (tag) => panel().locator(`[data-rr-tag="${tag}"] .tag-value`).first();
  const openAt = async (uid) => {
    await page.goto(studyUrl(uid));
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'first image drawn');
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, files);
    const up = await uploadFile(orthanc, XSS_FILE);
    assert.equal(up.status, 200, `POST /instances of xss-tags.dcm: HTTP ${up.status}`);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      const n = l.data.reduce((sum, s) => sum + s.instanceCount, 0);
      return l.total === 2 && n === files.length + 1 ? l : false;
    }, 60_000, 200, `2 studies / ${files.length + 1} instances`);
    ct = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data.find((s) => s.instanceCount === files.length).studyInstanceUid)}`);
    xss = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data.find((s) => s.patientName.includes('<script>')).studyInstanceUid)}`);
    const firstUid = ct.series[0].instances[0].sopInstanceUid;
    for (const f of files) {
      if ((await dcmdumpTags(f, ['0008,0018']))['0008,0018'] === firstUid) {
        ctFirstFile = f;
        break;
      }
    }
    assert.ok(ctFirstFile, 'the file of the first image');

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('G opens the panel on the CT with the values dcmdump reads from the same file', async () => {
    await openAt(ct.studyInstanceUid);
    assert.equal(await panel().isHidden(), true);
    await viewport().focus();
    await page.keyboard.press('g');
    await waitFor(async () => (await panel().getAttribute('data-rr-instance')) === ct.series[0].instances[0].orthancId, 20_000, 100, 'tags of image 1');
    assert.equal(await page.locator('[data-rr-tool="tags"]').getAttribute('aria-pressed'), 'true');
    const want = await dcmdumpTags(ctFirstFile, ['0010,0010', '0028,0030']);
    assert.equal(await value('0010,0010').textContent(), want['0010,0010']);
    assert.equal(await value('0028,0030').textContent(), want['0028,0030']);
    assert.equal(await panel().locator('[data-rr-tag="0010,0010"] .tag-id').textContent(), '(0010,0010)');
    assert.equal(await panel().locator('[data-rr-tag="0028,0030"] .tag-name').textContent(), 'PixelSpacing');
    assert.match(await panel().locator('.tags-status').textContent(), /^\d+ elements$/);
  });

  it('opens a sequence to its numbered items, built when opened', async () => {
    const seq = panel().locator('[data-rr-tag="0012,0064"]');
    assert.match(await seq.locator('.tag-value').textContent(), /^sequence, \d+ items?$/);
    const details = panel().locator('details', { has: page.locator('summary [data-rr-tag="0012,0064"]') });
    assert.equal(await details.locator('.tag-item').count(), 0, 'items not built before opening');
    await seq.click();
    await waitFor(async () => (await details.locator('.tag-item').count()) > 0, 5000, 50, 'items built');
    assert.equal(await details.locator('.tag-item-label').first().textContent(), 'Item 1');
    assert.equal(await details.locator('[data-rr-tag="0008,0104"] .tag-value').first().textContent(), 'Basic Application Confidentiality Profile');
  });

  it('searches by tag number, keyword and value; a match inside a sequence keeps its parent', async () => {
    const search = panel().locator('input.tags-search');
    await search.fill('(0028,0030)');
    await waitFor(async () => (await panel().locator('.tag-match[data-rr-tag="0028,0030"]').count()) === 1, 5000, 50, 'match by tag');
    assert.equal(await panel().locator('.tag-match').count(), 1);
    await search.fill('patientname');
    await waitFor(async () => (await panel().locator('.tag-match[data-rr-tag="0010,0010"]').count()) === 1, 5000, 50, 'match by keyword');
    assert.equal(await panel().locator('[data-rr-tag="0028,0030"]').count(), 0, 'the rest filtered out');
    await search.fill('clean pixel');
    await waitFor(async () => (await panel().locator('.tag-match[data-rr-tag="0008,0104"]').count()) === 1, 5000, 50, 'match by value in a sequence');
    assert.equal(await panel().locator('.tag-match').count(), 1);
    assert.equal(await panel().locator('summary [data-rr-tag="0012,0064"]').count(), 1, 'the parent sequence shown');
    assert.equal(await panel().locator('details[open]').count(), 1, 'and opened');
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-search.png') });
    await search.fill('');
    await waitFor(async () => (await panel().locator('[data-rr-tag="0028,0030"]').count()) === 1, 5000, 50, 'all again');
  });

  it('follows the active viewport to the next image', async () => {
    await viewport().focus();
    await page.keyboard.press('ArrowDown');
    await waitFor(async () => (await panel().getAttribute('data-rr-instance')) === ct.series[0].instances[1].orthancId, 20_000, 100, 'tags of image 2');
    await page.keyboard.press('Escape');
    await waitFor(() => panel().isHidden(), 5000, 50, 'Esc closes the panel');
  });

  it("shows the XSS file's payloads as text and runs nothing", async () => {
    await openAt(xss.studyInstanceUid);
    await page.locator('[data-rr-tool="tags"]').click();
    await waitFor(async () => (await panel().getAttribute('data-rr-instance')) === xss.series[0].instances[0].orthancId, 20_000, 100, 'tags of the XSS file');
    const want = await dcmdumpTags(XSS_FILE, ['0010,0010', '0010,0020', '0008,0090', '0008,1030', '0008,103e', '0008,0050']);
    for (const [tag, v] of Object.entries(want)) {
      assert.ok(v && /[<>]/.test(v), `${tag} carries a payload`);
      assert.equal(await value(tag).textContent(), v, `${tag} as text`);
    }
    assert.equal(await panel().locator('script, svg, iframe, img, b').count(), 0, 'no element from a value');
    await page.screenshot({ path: SCREENSHOT });
    assert.deepEqual(dialogs, [], 'no alert ran');
    assert.deepEqual(pageErrors, []);
  });
});
