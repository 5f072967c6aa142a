// Browser test of progressive volume viewing (issue 11): the MPR planes are mounted and drawn with the slices
// read so far, before the volume is complete (the slice files are delayed here with page.route), the layout
// says so (data-rr-volume-state "loading", data-rr-volume-progress "n/total"), and it completes ("shown",
// 134/134) once they arrive; leaving the layout mid-load frees the volume (cornerstone's cache volume count,
// data-rr-volumes, back to 0) without a page error. The pixel checks of the complete volume are in
// viewer-mpr.test.mjs and viewer-3d.test.mjs. While it fills, each slice goes into the volume's 3D texture about
// once (WebGL texSubImage3D calls counted in the page), not the whole volume first and each slice again when read.
// Once the series is cached in 2D, its volume is built ahead (viewer-volume-ahead.ts): MPR then reads no slice
// and shows the same planes as the volume read slice by slice.
// One Orthanc, one login, one page load.
// Run: cd Tests && npm ci && node --test browser/viewer-volume-stream.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dicomFilesOf, storescu, startOrthanc, waitFor } from '../lib/orthanc.mjs';
import { greySpread, launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const DELAY_MS = 2500;

describe('Reading Room progressive volume (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let study;
  const pageErrors = [];
  let delaying = false;
  // the plugin's values route (what the volume reads its slices from): the slices asked for, counted once each
  // (the values worker's requests reach page.route twice: Playwright intercepts a dedicated worker's request
  // for the page and for the worker; one reaches the server); refused while `refuseValues`
  const valuesAsked = new Set();
  let refuseValues = false;

  const area = () => page.locator('.viewer-volume-area');
  const state = () => area().getAttribute('data-rr-volume-state');
  const progress = async () => {
    const p = (await area().getAttribute('data-rr-volume-progress')) ?? '0/0';
    const [done, total] = p.split('/').map(Number);
    return { done, total };
  };
  // the slice files asked for (the 2D loader and cornerstone's image loader)
  const filesAsked = new Set();
  /** Each plane's canvas as grey levels, every 5th pixel of every 5th row (after a short settle). */
  const planes = async () => {
    await page.waitForTimeout(1000);
    return page.evaluate(() => {
      const out = {};
      for (const name of ['axial', 'sagittal', 'coronal']) {
        const c = document.querySelector(`.viewer-mpr-viewport[data-rr-mpr-plane="${name}"] canvas`);
        const d = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
        const g = [];
        for (let y = 0; y < c.height; y += 5) for (let x = 0; x < c.width; x += 5) g.push(d[(y * c.width + x) * 4]);
        out[name] = g;
      }
      return out;
    });
  };
  let planesBefore = null;
  /** The grey spread of a plane's canvas (0: flat). */
  const spread = (name) => greySpread(page, `.viewer-mpr-viewport[data-rr-mpr-plane="${name}"] canvas`);

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    await storescu(orthanc, await dicomFilesOf('ct_abdomen_pancreas_134'));
    const studies = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 ? l : false;
    }, 60_000, 200, 'the study');
    study = studies.data[0];
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    // the slice uploads into 3D textures (the z offset of each one-slice texSubImage3D)
    await page.addInitScript(() => {
      window.__rrSliceUploads = [];
      const upload = WebGL2RenderingContext.prototype.texSubImage3D;
      WebGL2RenderingContext.prototype.texSubImage3D = function (...args) {
        if (args[7] === 1) window.__rrSliceUploads.push(args[4]);
        return upload.apply(this, args);
      };
    });
    // the slice files and values, delayed while `delaying` (the other requests go through at once)
    await page.route(/\/instances\/[^/]+\/(file|frames\/\d+\/values)/, async (route) => {
      const values = /\/values$/.test(new URL(route.request().url()).pathname);
      if (values) valuesAsked.add(route.request().url());
      else filesAsked.add(route.request().url());
      if (delaying) await new Promise((r) => setTimeout(r, DELAY_MS));
      if (values && refuseValues) await route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no such route"}}' });
      else await route.continue();
    });
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(study.studyInstanceUid)}`);
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport="0"]').getAttribute('data-rr-image-index')) !== null, 60_000, 100, 'the first image');
    delaying = true; // from now on: the 2D prefetch and the volume wait for each file
  });

  after(async () => {
    await browser?.close();
    await orthanc?.stop();
  });

  it('leaving MPR while its volume is read frees the volume', async () => {
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volume-layout')) === 'mpr', 60_000, 100, 'the MPR layout mounted');
    assert.equal(await state(), 'loading', 'mounted before the volume is complete');
    assert.equal(await area().getAttribute('data-rr-volumes'), '1', 'one volume in the cache');
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '0', 10_000, 50, 'the volume freed');
    assert.equal(await area().isVisible(), false, 'the 2D grid back');
    await page.waitForTimeout(DELAY_MS * 2); // slices still arriving for the left volume change nothing
    assert.equal(await area().getAttribute('data-rr-volumes'), '0', 'still no volume');
    assert.equal(await area().getAttribute('data-rr-volume-state'), null);
    assert.deepEqual(pageErrors, []);
  });

  it('MPR planes are drawn before the volume is complete, then completed', async () => {
    await page.evaluate(() => {
      window.__rrSliceUploads = [];
    });
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volume-layout')) === 'mpr', 60_000, 100, 'the MPR layout mounted');
    // drawn (not flat) while the volume is still partial
    await waitFor(async () => (await spread('sagittal')) > 40 && (await spread('axial')) > 40, 30_000, 200, 'the planes drawn with the slices read so far');
    const partial = await progress();
    assert.equal(await state(), 'loading', `still loading (${partial.done}/${partial.total})`);
    assert.ok(partial.total === 134 && partial.done < partial.total, `a partial volume: ${partial.done}/${partial.total}`);
    assert.match((await page.locator('.viewer-volume-message').textContent()) ?? '', /\d+\/134 slices/, 'the progress is shown');
    delaying = false;
    await waitFor(async () => (await state()) === 'shown', 120_000, 100, 'the complete volume');
    assert.deepEqual(await progress(), { done: 134, total: 134 });
    assert.ok(valuesAsked.size > 0, 'slices read from the plugin\'s values route');
    assert.equal(await page.locator('.viewer-volume-message').isHidden(), true, 'no progress message once complete');
    assert.equal(await area().getAttribute('data-rr-volumes'), '1');
    for (const p of ['axial', 'sagittal', 'coronal']) assert.ok((await spread(p)) > 60, `${p} drawn`);
    const uploads = await page.evaluate(() => window.__rrSliceUploads);
    assert.equal(new Set(uploads).size, 134, 'every slice uploaded into the texture');
    // cornerstone re-uploads the slices read before the texture's creation (a handful here); before each slice
    // was uploaded once and the whole volume once more at the first drawing (267 here)
    assert.ok(uploads.length < 134 * 1.5, `each slice uploaded once while the volume filled, not the whole volume first as well: ${uploads.length} slice uploads`);
    // back to 2D and in again: one volume at a time, nothing thrown
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '0', 10_000, 50, 'the volume freed');
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await state()) === 'shown', 120_000, 100, 'MPR again (all slices cached)');
    assert.equal(await area().getAttribute('data-rr-volumes'), '1');
    assert.deepEqual(pageErrors, []);
  });

  it('without the values route (an older plugin), the slices are read from the files and the volume completes', async () => {
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '0', 10_000, 50, 'the volume freed');
    // a fresh page: nothing in cornerstone's cache, so that every slice needs a source
    await page.reload();
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport="0"]').getAttribute('data-rr-image-index')) !== null, 60_000, 100, 'the first image');
    refuseValues = true;
    valuesAsked.clear();
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await state()) === 'shown', 120_000, 100, 'the complete volume from the files');
    assert.deepEqual(await progress(), { done: 134, total: 134 });
    assert.ok(valuesAsked.size >= 1 && valuesAsked.size <= 8, `the values route tried, then left (${valuesAsked.size} slices asked for)`);
    for (const p of ['axial', 'sagittal', 'coronal']) assert.ok((await spread(p)) > 60, `${p} drawn`);
    refuseValues = false;
    planesBefore = await planes();
    assert.deepEqual(pageErrors, []);
  });

  it('once the series is cached in 2D its volume is built ahead: MPR then reads nothing and shows the same planes', async () => {
    // the MPR above read every slice through cornerstone's image loader: the whole series is in the 2D cache now
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    const vp = page.locator('.viewer-viewport[data-rr-viewport="0"]');
    await waitFor(async () => (await vp.getAttribute('data-rr-cached')) === '134' && (await vp.getAttribute('data-rr-total')) === '134', 60_000, 100, 'the series cached in 2D');
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '1', 30_000, 100, 'the volume built ahead, in 2D');
    assert.equal(await area().isVisible(), false, 'still in 2D');
    valuesAsked.clear();
    filesAsked.clear();
    await page.evaluate(() => {
      window.__rrSliceUploads = [];
    });
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await state()) === 'shown', 60_000, 50, 'MPR shown');
    const steps = await page.evaluate(() => performance.getEntriesByType('measure').map((m) => m.name));
    assert.ok(steps.includes('rr-vol-ahead'), `the volume built ahead taken: ${steps.join(', ')}`);
    assert.ok(!steps.includes('rr-vol-created'), 'no volume built after the click');
    assert.deepEqual(await progress(), { done: 134, total: 134 });
    assert.equal(await area().getAttribute('data-rr-volumes'), '1', 'the volume built ahead is the one shown (no second one)');
    assert.equal(valuesAsked.size + filesAsked.size, 0, 'no slice read after the click');
    await waitFor(async () => (await spread('sagittal')) > 60 && (await spread('coronal')) > 60 && (await spread('axial')) > 60, 30_000, 100, 'the planes drawn');
    const uploads = await page.evaluate(() => window.__rrSliceUploads);
    assert.equal(new Set(uploads).size, 134, 'every slice uploaded into the texture');
    assert.ok(uploads.length < 134 * 1.5, `each slice uploaded about once: ${uploads.length}`);
    // the same volume as the one read slice by slice above: the same planes (same series, window and position)
    const now = await planes();
    for (const p of Object.keys(now)) {
      assert.equal(now[p].length, planesBefore[p].length, `${p}: same size`);
      let diff = 0;
      for (let i = 0; i < now[p].length; i++) diff += Math.abs(now[p][i] - planesBefore[p][i]);
      assert.ok(diff / now[p].length < 1, `${p}: the same picture as the volume read slice by slice (mean difference ${(diff / now[p].length).toFixed(2)} grey levels)`);
    }
    // back to 2D: that volume is freed, and the series' volume built ahead again
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '0', 10_000, 20, 'the shown volume freed');
    await waitFor(async () => (await area().getAttribute('data-rr-volumes')) === '1', 30_000, 100, 'built ahead again');
    assert.deepEqual(pageErrors, []);
  });
});
