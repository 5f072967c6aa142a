// Browser test of the viewer's layouts (issue 10): several stack viewports, the active one, a series click and
// a drag and drop, the layout remembered per user across a reload, fit (F), the magnifying glass and the "?"
// shortcut list. Real Orthanc + plugin, Debian's chromium with software WebGL, playwright-core; the 134-slice
// CT plus the 24-slice brain MR rewritten (dcmodify, copies in a temporary folder) into the CT's study, so the
// study has two image series.
// Run: cd Tests && npm ci && node --test browser/viewer-layout.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dicomFilesOf, execFile, orthancStudyId, storescu, startOrthanc, waitFor } from '../lib/orthanc.mjs';
import { greySpread, launchChromium, pageErrorText } from '../lib/browser.mjs';

const SCREENSHOT = process.env.RR_VIEWER_LAYOUT_SCREENSHOT || '/tmp/rr-viewer-layout.png';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;

describe('Reading Room viewer layouts (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let study; // study detail: the CT and the MR series
  let tmp;
  const dialogs = [];
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const vp = (i) => page.locator(`.viewer-viewport[data-rr-viewport="${i}"]`);
  const cellText = (i, cls) => page.locator(`.viewer-stage[data-rr-cell="${i}"] .viewer-overlay .${cls}`).textContent();
  const waitIndex = (i, n) =>
    waitFor(async () => (await vp(i).getAttribute('data-rr-image-index')) === String(n), 30_000, 100, `viewport ${i}: image ${n} rendered`);
  const renders = async (i) => Number(await vp(i).getAttribute('data-rr-renders'));
  const pressAndRender = async (i, key) => {
    const n = await renders(i);
    await page.keyboard.press(key);
    await waitFor(async () => (await renders(i)) > n, 10_000, 50, `a render of viewport ${i} after ${key}`);
  };
  /** 8×8 cell means of the red channel of a viewport's canvas. */
  const canvasMeans = (i) =>
    page.evaluate((i) => {
      const canvas = document.querySelector(`.viewer-viewport[data-rr-viewport="${i}"] canvas`);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const { width: w, height: hgt } = canvas;
      const data = ctx.getImageData(0, 0, w, hgt).data;
      const means = [];
      for (let gy = 0; gy < 8; gy++) {
        for (let gx = 0; gx < 8; gx++) {
          let sum = 0, n = 0;
          for (let y = Math.floor((gy * hgt) / 8); y < Math.floor(((gy + 1) * hgt) / 8); y += 2) {
            for (let x = Math.floor((gx * w) / 8); x < Math.floor(((gx + 1) * w) / 8); x += 2) { sum += data[(y * w + x) * 4]; n++; }
          }
          means.push(n ? sum / n : 0);
        }
      }
      return means;
    }, i);
  /** Grey-level spread of a viewport's canvas (max − min of the cell means): 0 for a blank canvas. */
  const canvasSpread = async (i) => {
    const means = await canvasMeans(i);
    return Math.max(...means) - Math.min(...means);
  };
  const meanDiff = (a, b) => a.reduce((sum, m, k) => sum + Math.abs(m - b[k]), 0) / a.length;

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const ctFiles = await dicomFilesOf('ct_abdomen_pancreas_134');
    await storescu(orthanc, ctFiles);
    const studies = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 && l.data[0].instanceCount === ctFiles.length ? l : false;
    }, 60_000, 200, 'the CT study');
    const ctUid = studies.data[0].studyInstanceUid;
    const ctStudy = await orthanc.json(`/studies/${await orthancStudyId(orthanc, ctUid)}`);
    // the MR series moved into the CT's study (same patient, same study UID)
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rr-layout-'));
    const mrFiles = await dicomFilesOf('mr_brain_t1post_24');
    const copies = [];
    for (const [n, f] of mrFiles.entries()) {
      const to = path.join(tmp, `mr${n}.dcm`);
      await copyFile(f, to);
      copies.push(to);
    }
    await execFile('dcmodify', [
      '-nb', '-m', `(0020,000d)=${ctUid}`,
      '-m', `(0010,0020)=${ctStudy.PatientMainDicomTags.PatientID ?? ''}`,
      '-m', `(0010,0010)=${ctStudy.PatientMainDicomTags.PatientName ?? ''}`,
      ...copies,
    ]);
    await storescu(orthanc, copies);
    study = await waitFor(async () => {
      const s = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctUid)}`);
      return s.series.length === 2 && s.series.reduce((n, x) => n + x.instances.length, 0) === ctFiles.length + mrFiles.length ? s : false;
    }, 60_000, 200, 'the study with the CT and the MR series');

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('console', (m) => { if (process.env.RR_DEBUG) console.log('# console', m.type(), m.text().slice(0, 300)); });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('opens in 1×1; 2×2 shows four viewports, the next series in the second, the rest empty', async () => {
    const [s0, s1] = study.series;
    await page.goto(studyUrl(study.studyInstanceUid));
    await waitIndex(0, 0);
    assert.equal(await page.locator('.viewer-viewport[data-rr-viewport]').count(), 1);
    assert.equal(await page.locator('.viewer-grid').getAttribute('data-rr-layout'), '1x1');
    assert.equal(await page.locator('.viewer-tool[data-rr-layout="1x1"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await vp(0).getAttribute('data-rr-series-uid'), s0.seriesInstanceUid);
    assert.equal(await vp(0).getAttribute('data-rr-active'), '');

    await page.locator('.viewer-tool[data-rr-layout="2x2"]').click();
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport]').count()) === 4, 10_000, 100, 'four viewports');
    assert.equal(await page.locator('.viewer-grid').getAttribute('data-rr-layout'), '2x2');
    await waitIndex(1, 0);
    assert.equal(await vp(0).getAttribute('data-rr-series-uid'), s0.seriesInstanceUid, 'the first viewport keeps its series');
    assert.equal(await vp(1).getAttribute('data-rr-series-uid'), s1.seriesInstanceUid, 'the next image series fills the second');
    assert.equal(await vp(2).getAttribute('data-rr-series-uid'), null);
    assert.equal(await vp(3).getAttribute('data-rr-series-uid'), null);
    assert.equal(await cellText(3, 'ov-status'), 'Click a series in the panel or drag it here');
    assert.equal(await cellText(1, 'ov-image'), `Im 1/${s1.instances.length}`);
    // four cells in a 2 × 2 grid of about equal size
    const boxes = await Promise.all([0, 1, 2, 3].map((i) => vp(i).boundingBox()));
    assert.ok(Math.abs(boxes[0].y - boxes[1].y) < 2 && Math.abs(boxes[2].y - boxes[3].y) < 2 && boxes[2].y > boxes[0].y + 100, 'two rows');
    assert.ok(Math.abs(boxes[0].x - boxes[2].x) < 2 && boxes[1].x > boxes[0].x + 100, 'two columns');
    // pixels drawn in the second viewport (not a blank canvas)
    const spread = await waitFor(async () => ((await canvasSpread(1)) > 30 ? canvasSpread(1) : false), 10_000, 200, 'pixels in viewport 1');
    assert.ok(spread > 30, `viewport 1 has contrast (${spread})`);
    assert.ok((await canvasSpread(0)) > 30, 'viewport 0 still drawn');
    await page.waitForTimeout(300);
    await page.screenshot({ path: SCREENSHOT });
    console.log(`# 2×2 screenshot: ${SCREENSHOT}`);
  });

  it('a click makes a viewport active; a series click loads into it; the keys act on it only', async () => {
    const [s0] = study.series;
    const box = await vp(2).boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    assert.equal(await vp(2).getAttribute('data-rr-active'), '');
    assert.equal(await vp(0).getAttribute('data-rr-active'), null);
    assert.ok(await page.locator('.viewer-stage[data-rr-cell="2"]').evaluate((c) => c.classList.contains('active')), 'highlighted');
    await page.locator(`.viewer-series .series-item[data-series-uid="${s0.seriesInstanceUid}"]`).click();
    await waitIndex(2, 0);
    assert.equal(await vp(2).getAttribute('data-rr-series-uid'), s0.seriesInstanceUid);
    assert.equal(await cellText(2, 'ov-status'), '');
    assert.equal(await page.locator('.viewer-series .series-item.active').getAttribute('data-series-uid'), s0.seriesInstanceUid);
    assert.ok(await vp(2).evaluate((el) => el === document.activeElement), 'the active viewport has the keyboard');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    await waitIndex(2, 3);
    assert.equal(await cellText(2, 'ov-image'), `Im 4/${s0.instances.length}`);
    assert.equal(await vp(0).getAttribute('data-rr-image-index'), '0', 'the other viewports did not scroll');
    assert.equal(await vp(1).getAttribute('data-rr-image-index'), '0');
    // W: the next viewport becomes active
    await page.keyboard.press('w');
    assert.equal(await vp(3).getAttribute('data-rr-active'), '');
  });

  it('a series dragged onto a viewport loads there and makes it active', async () => {
    const [, s1] = study.series;
    await page.dragAndDrop(`.viewer-series .series-item[data-series-uid="${s1.seriesInstanceUid}"]`, '.viewer-viewport[data-rr-viewport="3"]');
    await waitIndex(3, 0);
    assert.equal(await vp(3).getAttribute('data-rr-series-uid'), s1.seriesInstanceUid);
    assert.equal(await vp(3).getAttribute('data-rr-active'), '');
    assert.ok((await canvasSpread(3)) > 30, 'viewport 3 drawn');
  });

  it('the layout is remembered for the user and restored after a reload', async () => {
    assert.equal(await page.evaluate(() => localStorage.getItem('rr.viewer.layout.admin')), '2x2');
    await page.reload();
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport]').count()) === 4, 30_000, 100, 'four viewports after the reload');
    assert.equal(await page.locator('.viewer-grid').getAttribute('data-rr-layout'), '2x2');
    await waitIndex(0, 0);
    await waitIndex(1, 0);
    assert.equal(await vp(1).getAttribute('data-rr-series-uid'), study.series[1].seriesInstanceUid);
    assert.equal(await page.locator('.viewer-tool[data-rr-layout="2x2"]').getAttribute('aria-pressed'), 'true');
  });

  it('F fits the image (zoom and pan) and keeps the window; R resets the window too', async () => {
    await vp(0).click();
    await pressAndRender(0, '2');
    assert.equal(await cellText(0, 'ov-window'), 'W 1500 L -600');
    await page.waitForTimeout(300);
    const fitted = await canvasMeans(0);
    const box = await vp(0).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await waitFor(async () => (await cellText(0, 'ov-zoom')) === 'Zoom 121%', 10_000, 50, 'zoomed in twice');
    // pan with the middle button
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down({ button: 'middle' });
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 40, { steps: 5 });
    await page.mouse.up({ button: 'middle' });
    await page.waitForTimeout(300);
    const moved = await canvasMeans(0);
    assert.ok(meanDiff(moved, fitted) > 3, `zoom and pan changed the picture (${meanDiff(moved, fitted).toFixed(2)})`);
    await pressAndRender(0, 'f');
    assert.equal(await cellText(0, 'ov-zoom'), 'Zoom 100%');
    assert.equal(await cellText(0, 'ov-window'), 'W 1500 L -600', 'fit keeps the window');
    await page.waitForTimeout(300);
    const refitted = await canvasMeans(0);
    assert.ok(meanDiff(refitted, fitted) < 2, `F gives the fitted, centred image back (mean |Δ| ${meanDiff(refitted, fitted).toFixed(2)})`);
    await pressAndRender(0, 'r');
    assert.notEqual(await cellText(0, 'ov-window'), 'W 1500 L -600', 'reset restores the file\'s window');
    assert.equal(await cellText(0, 'ov-zoom'), 'Zoom 100%');
  });

  it('the toolbar acts on the active viewport only (rotate, reset)', async () => {
    // viewport 1 shows the axial CT: A on top; a click makes it active, the Rotate button turns it
    const marker = (i, edge) => page.locator(`.viewer-stage[data-rr-cell="${i}"] .ov-orient-${edge}`).textContent();
    const topOf0 = await marker(0, 'top');
    await vp(1).click();
    assert.equal(await vp(1).getAttribute('data-rr-active'), '');
    assert.equal(await marker(1, 'top'), 'A');
    const n = await renders(1);
    await page.locator('.viewer-tool[data-rr-tool="t"]').click();
    await waitFor(async () => (await renders(1)) > n, 10_000, 50, 'viewport 1 drawn again');
    assert.equal(await marker(1, 'top'), 'R', 'clockwise: the left edge goes to the top');
    assert.equal(await marker(0, 'top'), topOf0, 'viewport 0 not rotated');
    assert.ok(await vp(1).evaluate((el) => el === document.activeElement), 'the keys stay on the viewport');
    await page.locator('.viewer-tool[data-rr-tool="r"]').click();
    await waitFor(async () => (await marker(1, 'top')) === 'A', 10_000, 50, 'reset');
    await vp(0).click();
  });

  it('the magnifying glass shows while the left button is held (M, or the toolbar)', async () => {
    await page.keyboard.press('m');
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="magnify"]').getAttribute('aria-pressed'), 'true');
    const box = await vp(0).boundingBox();
    const loupe = page.locator('.viewer-viewport[data-rr-viewport="0"] .magnifyTool');
    const windowBefore = await cellText(0, 'ov-window');
    // cornerstone's tools take a second press within their double-click time (400 ms) after the last click for
    // a double click, which starts no drag tool: press after it
    await page.waitForTimeout(600);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 20, box.y + box.height / 2 + 10, { steps: 4 });
    await loupe.waitFor({ state: 'visible', timeout: 10_000 });
    const lb = await loupe.boundingBox();
    assert.ok(lb.width >= 150 && lb.width <= 250, `loupe ${lb.width} px`);
    // the loupe shows pixels (its own canvas, 3× the image under the cursor)
    const loupeSpread = await waitFor(async () => {
      const s = await greySpread(page, '.viewer-viewport[data-rr-viewport="0"] .magnifyTool canvas');
      return s > 20 ? s : false;
    }, 10_000, 200, 'pixels in the loupe');
    assert.ok(loupeSpread > 20);
    await page.mouse.up();
    await waitFor(async () => (await loupe.count()) === 0, 10_000, 100, 'the loupe gone after the button is released');
    assert.equal(await cellText(0, 'ov-window'), windowBefore, 'no window/level while magnifying');
    await page.locator('.viewer-tool[data-rr-tool="magnify"]').click();
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="magnify"]').getAttribute('aria-pressed'), 'false');
  });

  it('"?" lists every shortcut; Esc closes the list', async () => {
    const list = page.locator('.viewer-shortcuts');
    assert.equal(await list.isVisible(), false);
    await vp(0).focus();
    await page.keyboard.press('?');
    await list.waitFor({ state: 'visible', timeout: 5000 });
    const rows = await list.locator('tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
    assert.ok(rows.length >= 15, `${rows.length} rows`);
    assert.deepEqual(rows.find(([k]) => k === 'F'), ['F', 'fit the image to the viewport (zoom and pan only)']);
    assert.ok(rows.some(([k]) => k === '?'));
    assert.ok(rows.every(([k, a]) => !k.includes('`') && !a.includes('`')), 'plain text');
    await page.keyboard.press('Escape');
    await list.waitFor({ state: 'hidden', timeout: 5000 });
    // back to 1×1 with the toolbar: one viewport, remembered
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport]').count()) === 1, 10_000, 100, 'one viewport');
    assert.equal(await page.evaluate(() => localStorage.getItem('rr.viewer.layout.admin')), '1x1');
  });

  it('another user of the same browser keeps a layout of their own', async () => {
    await page.locator('.viewer-tool[data-rr-layout="1x2"]').click();
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport]').count()) === 2, 10_000, 100, 'two viewports');
    await orthanc.createUser({ username: 'dr.layout', password: 'Layout-Password-2026', role: 'radiologist', displayName: 'Dr Layout' });
    const context = page.context();
    await context.clearCookies();
    await context.addCookies(await orthanc.browserCookies('dr.layout', 'Layout-Password-2026'));
    await page.reload();
    await waitIndex(0, 0);
    assert.equal(await page.locator('.viewer-grid').getAttribute('data-rr-layout'), '1x1', "not the administrator's layout");
    assert.equal(await page.locator('.viewer-viewport[data-rr-viewport]').count(), 1);
    await page.locator('.viewer-tool[data-rr-layout="2x1"]').click();
    assert.equal(await page.evaluate(() => localStorage.getItem('rr.viewer.layout.dr.layout')), '2x1');
    assert.equal(await page.evaluate(() => localStorage.getItem('rr.viewer.layout.admin')), '1x2', "the administrator's stays");
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
