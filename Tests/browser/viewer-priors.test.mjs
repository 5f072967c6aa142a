// Browser test of priors, linked scrolling and reference lines (issue 10): real Orthanc + plugin, Debian's
// chromium with software WebGL, playwright-core; the studies of lib/priors-data.mjs (one patient with a current
// CT study — a 30-slice axial series, every second slice of it, a coronal localizer, one Frame of Reference —,
// a prior with MR, "Lung 1mm" and the same CT series in another Frame of Reference, a newer MR study; another
// patient). A prior opens beside the study on the matching series and closes back to the previous layout;
// linked scrolling moves a series of the same Frame of Reference to the slice at the same position and a prior
// only once linked (by the offset at that moment); Y and Q unlink; reference lines appear on the
// perpendicular localizer where the active axial slice lies, and J hides them.
// Run: cd Tests && npm ci && node --test browser/viewer-priors.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startOrthanc, storescu, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';
import { makePriorsData } from '../lib/priors-data.mjs';

const SCREENSHOT = process.env.RR_VIEWER_PRIORS_SCREENSHOT || '/tmp/rr-viewer-priors.png';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;

/** Position of an instance along the axial normal (z), as the viewer's display order has it. */
const z = (inst) => inst.imagePositionPatient[2];

describe('Reading Room viewer priors, linked scrolling, reference lines (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let data;
  let current; // study detail of the current study
  const pageErrors = [];

  const vp = (i) => page.locator(`.viewer-viewport[data-rr-viewport="${i}"]`);
  const cellText = (i, cls) => page.locator(`.viewer-stage[data-rr-cell="${i}"] .viewer-overlay .${cls}`).textContent();
  const index = async (i) => Number(await vp(i).getAttribute('data-rr-image-index'));
  const waitIndex = (i, n) =>
    waitFor(async () => (await vp(i).getAttribute('data-rr-image-index')) === String(n), 30_000, 100, `viewport ${i}: image ${n} rendered`);
  const waitSeries = (i, uid) =>
    waitFor(async () => (await vp(i).getAttribute('data-rr-series-uid')) === uid && (await vp(i).getAttribute('data-rr-image-index')) !== null,
      30_000, 100, `viewport ${i}: series ${uid}`);
  const clickViewport = async (i) => {
    const box = await vp(i).boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    assert.equal(await vp(i).getAttribute('data-rr-active'), '');
  };
  /** n × ArrowDown on the active viewport, waiting for each image. */
  const down = async (i, n) => {
    for (let k = 0; k < n; k++) {
      const at = await index(i);
      await page.keyboard.press('ArrowDown');
      await waitIndex(i, at + 1);
    }
  };
  const series = (uid) => current.series.find((s) => s.seriesInstanceUid === uid);
  const refLine = (cell) => page.locator(`.viewer-stage[data-rr-cell="${cell}"] svg.viewer-reflines line[data-rr-refline]`);

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    data = await makePriorsData();
    const all = [...data.files.current, ...data.files.prior, ...data.files.newest, ...data.files.other];
    await storescu(orthanc, all);
    await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 4 && l.data.reduce((n, s) => n + s.instanceCount, 0) === all.length;
    }, 60_000, 200, 'the four studies ingested');
    current = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(data.uid.current)}`);
    assert.deepEqual(current.series.map((s) => s.seriesInstanceUid), [data.uid.ctFull, data.uid.ctHalf, data.uid.localizer]);

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator
    page = await context.newPage();
    page.on('dialog', (d) => d.dismiss().catch(() => {}));
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('console', (m) => { if (process.env.RR_DEBUG) console.log('# console', m.type(), m.text().slice(0, 300)); });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('lists the priors and opens one beside the study on the matching series', async () => {
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(data.uid.current)}`);
    await waitSeries(0, data.uid.ctFull);
    await page.locator('.viewer-priors[data-rr-priors="ready"]').waitFor({ timeout: 30_000 });
    const items = page.locator('.viewer-priors .prior-item');
    assert.deepEqual(await items.evaluateAll((b) => b.map((x) => x.getAttribute('data-prior-uid'))), [data.uid.newest, data.uid.prior], 'newest first');
    assert.match(await items.nth(0).textContent(), /2025-01-01 · MR.*MR Brain/);
    assert.match(await items.nth(1).textContent(), /2023-01-01 · .*CT Thorax prior/);
    assert.ok(!(await page.locator('.viewer-priors').textContent()).includes('CT other patient'), 'never another patient');
    assert.equal(await page.locator('.viewer-grid').getAttribute('data-rr-layout'), '1x1');

    await items.nth(1).click();
    await waitFor(async () => (await page.locator('.viewer-grid').getAttribute('data-rr-layout')) === '1x2', 30_000, 100, 'layout 1×2');
    await waitSeries(1, data.uid.priorCt);
    assert.equal(await vp(1).getAttribute('data-rr-study-uid'), data.uid.prior, 'the prior on the right');
    assert.equal(await vp(0).getAttribute('data-rr-series-uid'), data.uid.ctFull, 'the current series on the left');
    assert.equal(await vp(0).getAttribute('data-rr-study-uid'), data.uid.current);
    assert.match(await cellText(1, 'ov-date'), /2023-01-01/, 'the prior\'s overlay shows its own date');
    assert.match(await cellText(0, 'ov-date'), /2024-03-01/);
    assert.equal(await items.nth(1).getAttribute('aria-expanded'), 'true');
    const priorSeries = page.locator('.viewer-priors .prior-series');
    assert.deepEqual(await priorSeries.evaluateAll((b) => b.map((x) => x.getAttribute('data-series-uid'))), [data.uid.priorMr, data.uid.priorLung, data.uid.priorCt]);
    assert.equal(await page.evaluate(() => localStorage.getItem('rr.viewer.layout.admin')), null, 'not remembered as the user\'s layout');
    // the prior's own series: the MR, then back to the CT
    await priorSeries.nth(0).click();
    await waitSeries(1, data.uid.priorMr);
    await priorSeries.nth(2).click();
    await waitSeries(1, data.uid.priorCt);
    await page.screenshot({ path: SCREENSHOT });
    console.log(`# side-by-side screenshot: ${SCREENSHOT}`);
  });

  it('links a prior only on request, by the offset at that moment; Q unlinks', async () => {
    await clickViewport(0);
    await down(0, 10);
    await page.waitForTimeout(400);
    assert.equal(await index(1), 0, 'another frame of reference: the prior does not follow before it is linked');
    await clickViewport(1);
    await down(1, 14);
    await page.keyboard.press('q');
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="link-prior"]').getAttribute('aria-pressed'), 'true');
    await clickViewport(0);
    await down(0, 3);
    await waitIndex(1, 17); // three slices on in both
    await clickViewport(1);
    await down(1, 2);
    await waitIndex(0, 15); // either way
    await page.keyboard.press('q');
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="link-prior"]').getAttribute('aria-pressed'), 'false');
    await clickViewport(0);
    await down(0, 1);
    await page.waitForTimeout(400);
    assert.equal(await index(1), 19, 'unlinked: the prior stays');
  });

  it('scrolls a series of the same frame of reference to the slice at the same position; Y unlinks', async () => {
    const full = series(data.uid.ctFull);
    const half = series(data.uid.ctHalf);
    await clickViewport(1);
    await page.locator(`.viewer-series .series-item[data-series-uid="${data.uid.ctHalf}"]`).click();
    await waitSeries(1, data.uid.ctHalf);
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="link"]').getAttribute('aria-pressed'), 'true', 'on by default');
    await clickViewport(0);
    const start = await index(0);
    // to an image whose position the half series has too, then to one between two of its slices
    const target = full.instances.findIndex((inst, k) => k > start && half.instances.some((h) => z(h) === z(inst)));
    await down(0, target - start);
    const want = half.instances.findIndex((h) => z(h) === z(full.instances[target]));
    await waitIndex(1, want);
    assert.equal(await cellText(1, 'ov-position').then((t) => t.split(' · ')[0]), await cellText(0, 'ov-position').then((t) => t.split(' · ')[0]), 'the same slice location');
    await down(0, 1);
    const pos = z(full.instances[target + 1]);
    const nearest = half.instances.reduce((b, h, k) => (Math.abs(z(h) - pos) < Math.abs(z(half.instances[b]) - pos) - 1e-6 ? k : b), 0);
    await waitIndex(1, nearest);
    // Y: unlinked, the other viewport stays
    await page.keyboard.press('y');
    assert.equal(await page.locator('.viewer-tool[data-rr-tool="link"]').getAttribute('aria-pressed'), 'false');
    await down(0, 2);
    await page.waitForTimeout(400);
    assert.equal(await index(1), nearest, 'unlinked: no longer follows');
    await page.keyboard.press('y');
    await down(0, 1);
    const again = z(full.instances[target + 4]);
    const nearestTo = (p) => half.instances.reduce((b, h, k) => (Math.abs(z(h) - p) < Math.abs(z(half.instances[b]) - p) - 1e-6 ? k : b), 0);
    await waitIndex(1, nearestTo(again));
    // the wheel over the inactive viewport drives the other one too (the viewport under the wheel leads)
    await clickViewport(1);
    const from = await index(0);
    const box = await vp(0).boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 120);
    const to = await waitFor(async () => { const i = await index(0); return i !== from ? i : false; }, 10_000, 100, 'the wheel scrolls viewport 0');
    await waitFor(async () => (await index(1)) === nearestTo(z(full.instances[to])) && (await index(0)) === to, 10_000, 100, 'viewport 1 follows the wheel');
    assert.equal(await vp(1).getAttribute('data-rr-active'), '', 'the active viewport is unchanged');
  });

  it('draws the active axial slice as a line on the perpendicular localizer; J hides it', async () => {
    const full = series(data.uid.ctFull);
    await clickViewport(1);
    await page.locator(`.viewer-series .series-item[data-series-uid="${data.uid.localizer}"]`).click();
    await waitSeries(1, data.uid.localizer);
    await clickViewport(0);
    const line = refLine(1);
    await line.waitFor({ state: 'attached', timeout: 10_000 }); // a horizontal line has an empty box: never 'visible' to playwright
    assert.equal(await line.getAttribute('data-rr-refline'), '0', 'drawn from the active viewport');
    assert.equal(await refLine(0).count(), 0, 'no line on the active viewport itself');
    const read = async () => {
      const [x1, y1, x2, y2] = await Promise.all(['x1', 'y1', 'x2', 'y2'].map(async (a) => Number(await line.getAttribute(a))));
      return { x1, y1, x2, y2 };
    };
    const a = await read();
    if (process.env.RR_DEBUG) await page.screenshot({ path: '/tmp/rr-viewer-priors-lines.png' });
    console.log(`# reference line ${JSON.stringify(a)}, viewport ${JSON.stringify(await vp(1).boundingBox())}`);
    assert.ok(Math.abs(a.y1 - a.y2) < 1, `horizontal on the coronal image (${JSON.stringify(a)})`);
    const width = Math.abs(a.x2 - a.x1);
    assert.ok(width > 100, `across the image (${width} px)`);
    const pxPerMm = width / (511 * 0.646484375); // the axial slice crosses the localizer from edge to edge
    // where the line lies: the localizer's top row is z = 330, rows go to the feet
    const box = await vp(1).boundingBox();
    const at = await index(0);
    const row0 = a.y1 - (330 - z(full.instances[at])) * pxPerMm;
    assert.ok(row0 > -2 && row0 < box.height, `the image's top edge is inside the viewport (${row0})`);
    await down(0, 3);
    const b = await waitFor(async () => { const r = await read(); return Math.abs(r.y1 - a.y1) > 1 ? r : false; }, 10_000, 100, 'the line moves with the slice');
    const expected = (z(full.instances[at]) - z(full.instances[at + 3])) * pxPerMm;
    assert.ok(Math.abs((b.y1 - a.y1) - expected) < 2, `moved by ${b.y1 - a.y1} px, expected ${expected}`);
    await page.keyboard.press('j');
    await waitFor(async () => (await refLine(1).count()) === 0, 10_000, 100, 'J hides the reference lines');
    await page.keyboard.press('j');
    await refLine(1).waitFor({ state: 'attached', timeout: 10_000 });
  });

  it('closing the prior returns to the previous layout and series', async () => {
    await page.locator('.viewer-priors .prior-close').click();
    await waitFor(async () => (await page.locator('.viewer-grid').getAttribute('data-rr-layout')) === '1x1', 30_000, 100, 'back to 1×1');
    assert.equal(await page.locator('.viewer-viewport[data-rr-viewport]').count(), 1);
    assert.equal(await vp(0).getAttribute('data-rr-series-uid'), data.uid.ctFull);
    assert.equal(await page.locator('.viewer-priors .prior-item[aria-expanded="true"]').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
