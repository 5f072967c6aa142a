// Browser test of SEG overlays (issue 10, "SEG overlaid on the series it references"): real Orthanc + plugin,
// Debian's chromium with software WebGL, playwright-core. ../shared/dicom has no SEG whose referenced images
// are there too (PROVENANCE.md: DicomSeg.dcm's MR is not included), so the test makes one with pydicom
// (Tests/lib/make_seg.py) over the 24-slice brain MR: segment 1 (red) on four slices, referenced by SOP
// Instance UID, segment 2 (no colour: the palette's blue) on one slice, found by its Plane Position only.
// Pixels of the screen inside a segment change colour when the overlay is on and not when it is off (per
// segment and "Show"); slices without frames stay grey; clicking the SEG series says where it is drawn and
// shows those images on request;
// a SEG whose images are not in the study keeps the objects panel's line and gets no overlay.
// Run: cd Tests && npm ci && node --test browser/viewer-seg.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodePng } from '../lib/png.mjs';
import { dicomFilesOf, execFile, repoRoot, startOrthanc, storescu, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const FOLDER = 'mr_brain_t1post_24';
const PYTHON = process.env.READING_ROOM_PYTHON || '/usr/bin/python3'; // Debian's, with python3-pydicom

describe('Reading Room viewer: SEG overlays (browser)', { timeout: 240_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let study; // the MR's study, with the SEG
  let mr; // its image series
  let made; // what make_seg.py wrote
  let otherSeg; // StudyInstanceUID of DicomSeg.dcm (its MR is not stored)
  let tmp;
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport]').first();
  const index = () => viewport().getAttribute('data-rr-image-index');

  /** Shows image n (0-based, display order) with the arrow keys. */
  const goTo = async (n) => {
    await viewport().focus();
    const now = Number(await index());
    const key = n > now ? 'ArrowDown' : 'ArrowUp';
    for (let i = 0; i < Math.abs(n - now); i++) await page.keyboard.press(key);
    await waitFor(async () => (await index()) === String(n), 20_000, 100, `image ${n + 1} drawn`);
    await page.waitForTimeout(300);
  };

  /** The colour on screen at the centre of a rectangle of the image (rows, columns; fitted, centred image). */
  const screenColour = async (rect) => {
    const box = await page.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas').getBoundingClientRect();
      return { x: c.left, y: c.top, width: c.width, height: c.height };
    });
    const shot = decodePng(await page.screenshot({ clip: box }));
    const scale = Math.min(shot.width / made.columns, shot.height / made.rows);
    const x0 = (shot.width - made.columns * scale) / 2;
    const y0 = (shot.height - made.rows * scale) / 2;
    const col = (rect[2] + rect[3] + 1) / 2;
    const row = (rect[0] + rect[1] + 1) / 2;
    // mean of a 5×5 block around the centre
    const sum = [0, 0, 0];
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) {
        const x = Math.round(x0 + col * scale) + dx;
        const y = Math.round(y0 + row * scale) + dy;
        const i = (y * shot.width + x) * shot.channels;
        for (let c = 0; c < 3; c++) sum[c] += shot.pixels[i + c];
      }
    }
    return sum.map((v) => v / 25);
  };
  const isGrey = ([r, g, b]) => Math.abs(r - g) < 10 && Math.abs(g - b) < 10;
  const isRed = ([r, g, b]) => r - Math.max(g, b) > 40;
  const isBlue = ([r, , b]) => b - r > 40;

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = await dicomFilesOf(FOLDER);
    await storescu(orthanc, files);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-seg-'));
    const segFile = path.join(tmp, 'seg.dcm');
    const { stdout } = await execFile(PYTHON, [path.join(repoRoot, 'Tests', 'lib', 'make_seg.py'), segFile, ...files]);
    made = JSON.parse(stdout);
    assert.equal((await uploadFile(orthanc, segFile)).status, 200);
    const up = await uploadFile(orthanc, path.join(testData, 'seg', 'DicomSeg.dcm'));
    assert.equal(up.status, 200);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 2 && l.data.some((s) => s.instanceCount === files.length + 1) ? l : false;
    }, 60_000, 200, 'the MR study with its SEG, and the other SEG');
    const uid = list.data.find((s) => s.instanceCount === files.length + 1).studyInstanceUid;
    otherSeg = list.data.find((s) => s.studyInstanceUid !== uid).studyInstanceUid;
    study = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(uid)}`);
    mr = study.series.find((s) => s.modality === 'MR');
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('lists the segments with their colours when the referenced series is shown', async () => {
    await page.goto(studyUrl(study.studyInstanceUid));
    await waitFor(async () => (await index()) === '0', 60_000, 100, 'image 1 drawn');
    const panel = page.locator(`.viewer-seg-panel:not([hidden]) section[data-rr-seg-series="${made.seriesInstanceUid}"]:not([hidden])`);
    await panel.waitFor({ timeout: 30_000 });
    const labels = await panel.locator('.viewer-seg-list li').allTextContents();
    assert.deepEqual(labels, ['1 Lesion', '2 Oedema']);
    const swatches = await panel.locator('.viewer-seg-swatch').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    const rgb = swatches.map((s) => s.match(/\d+/g).map(Number));
    assert.ok(isRed(rgb[0]), `segment 1 is red (its CIELab value): ${swatches[0]}`);
    assert.ok(isBlue(rgb[1]), `segment 2 has a palette colour: ${swatches[1]}`);
  });

  it('paints the pixels inside a segment when on, not when off', async () => {
    const rect1 = made.segments['1'].rect;
    const rect2 = made.segments['2'].rect;
    const slice = mr.instances.findIndex((i) => i.sopInstanceUid === made.segments['2'].sops[0]);
    assert.ok(slice > 0, 'the slice with both segments is in the series');
    // a slice without frames: grey where segment 1 would be
    await goTo(0);
    assert.ok(isGrey(await screenColour(rect1)), 'slice 1 has no segment');

    await goTo(slice);
    await waitFor(async () => Number(await page.locator('canvas.viewer-seg-layer').first().getAttribute('data-rr-seg-drawn')) === 2, 10_000, 100, 'two frames painted');
    const on1 = await screenColour(rect1);
    const on2 = await screenColour(rect2);
    assert.ok(isRed(on1), `segment 1 on: red (${on1})`);
    assert.ok(isBlue(on2), `segment 2 on (matched by position): blue (${on2})`);
    await page.screenshot({ path: process.env.RR_SEG_SCREENSHOT || '/tmp/rr-viewer-seg.png' });

    await page.locator('input[data-rr-segment="1"]').uncheck();
    const off1 = await screenColour(rect1);
    assert.ok(isGrey(off1), `segment 1 off: grey (${off1})`);
    assert.ok(isBlue(await screenColour(rect2)), 'segment 2 stays on');

    await page.locator('input[data-rr-segment="1"]').check();
    await page.locator('input[data-rr-seg-show]').uncheck();
    assert.ok(isGrey(await screenColour(rect1)) && isGrey(await screenColour(rect2)), '"Show" off: no segment');
    await page.locator('input[data-rr-seg-show]').check();
    assert.ok(isRed(await screenColour(rect1)), '"Show" on again');

    // opacity: the red gets weaker, then disappears
    const strong = await screenColour(rect1);
    await page.locator('input[data-rr-seg-opacity]').fill('20');
    const weak = await screenColour(rect1);
    assert.ok(weak[0] - weak[1] < strong[0] - strong[1], `opacity 20 %: ${weak} vs ${strong}`);
    await page.locator('input[data-rr-seg-opacity]').fill('0');
    assert.ok(isGrey(await screenColour(rect1)), 'opacity 0: no colour');
    await page.locator('input[data-rr-seg-opacity]').fill('50');

    // Fit redraws the viewport: the layer is painted again at the same place
    await page.locator('[data-rr-tool="fit"]').click();
    await page.waitForTimeout(300);
    assert.ok(isRed(await screenColour(rect1)), 'after Fit');
  });

  it('a click on the SEG series lists its segments, says where it is drawn and shows those images', async () => {
    await page.locator(`.viewer-series .series-item[data-series-uid="${made.seriesInstanceUid}"]`).click();
    const objectPanel = page.locator('.viewer-object[data-rr-object-kind="seg"]:not([hidden])');
    await objectPanel.waitFor({ timeout: 10_000 });
    const line = objectPanel.locator('.object-overlaid');
    assert.match(await line.textContent(), new RegExp(`^Drawn on the images of series #${mr.seriesNumber} MR`));
    assert.equal(await objectPanel.locator('.object-cannot').count(), 0);
    await objectPanel.locator('.object-outline').first().waitFor({ timeout: 10_000 });
    assert.equal(await objectPanel.locator('.object-outline').count(), 2);
    await line.locator('[data-rr-object-open]').click();
    assert.equal(await page.locator('.viewer-object:not([hidden])').count(), 0, 'the images again');
    await waitFor(async () => (await viewport().getAttribute('data-rr-series-uid')) === mr.seriesInstanceUid, 10_000, 100, 'the MR series');
    assert.ok(isRed(await screenColour(made.segments['1'].rect)), 'the overlay is still there');
  });

  it('a SEG whose images are not in the study keeps its line and gets no overlay', async () => {
    await page.goto(studyUrl(otherSeg));
    const line = page.locator('.viewer-object[data-rr-object-kind="seg"]:not([hidden]) .object-cannot');
    await line.waitFor({ timeout: 30_000 });
    assert.match(await line.textContent(), /the viewer cannot display it/);
    assert.equal(await page.locator('.viewer-seg-panel:not([hidden])').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
