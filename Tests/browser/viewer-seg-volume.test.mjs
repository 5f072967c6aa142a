// Browser test of SEG labelmaps in the volume layouts (issue 11, "a SEG shown as a labelmap in the MPR planes and
// as a surface or overlay in 3D"): real Orthanc + plugin, Debian's chromium with software WebGL. ../shared/dicom
// has no SEG over its CT (PROVENANCE.md), so Tests/lib/make_seg.py writes one over the 134-slice CT: segment 1
// (red, from its Recommended Display CIELab) a rectangle on four middle slices, segment 2 (palette colour) one
// on the middle slice, placed by its Plane Position only. In MPR, the three planes through the centre of the
// volume show red pixels where segment 1 lies (their world position from the plane's camera falls inside the
// segment's box), none with "Show" off, segment 1 off or opacity 0; in the 3D four-up, the 3D view's pixels
// change when the SEG is shown. One Orthanc, one login, one page load.
// Run: cd Tests && npm ci && node --test browser/viewer-seg-volume.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dicomFilesOf, execFile, repoRoot, startOrthanc, storescu, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const PYTHON = process.env.READING_ROOM_PYTHON || '/usr/bin/python3';
const PLANES = ['axial', 'sagittal', 'coronal'];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

describe('Reading Room viewer: SEG labelmaps in MPR and 3D (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let tmp;
  let study;
  let made; // make_seg.py's answer
  let box; // segment 1's world box (mm): [min, max] per axis
  const pageErrors = [];

  const plane = (name) => page.locator(`.viewer-mpr-viewport[data-rr-mpr-plane="${name}"]`);
  const renders = async (sel) => Number((await page.locator(sel).getAttribute('data-rr-renders')) ?? 0);
  const planeSel = (name) => `.viewer-mpr-viewport[data-rr-mpr-plane="${name}"]`;
  /** Runs `act`, then waits for a new render of every viewport in `sels`. */
  const afterRender = async (sels, act) => {
    const before = await Promise.all(sels.map(renders));
    await act();
    for (const [i, s] of sels.entries()) await waitFor(async () => (await renders(s)) > before[i], 20_000, 50, `a render of ${s}`);
    await page.waitForTimeout(300);
  };

  /** The red pixels of a plane's canvas: their count and their centroid in CSS pixels. */
  const redOf = (name) =>
    page.evaluate((sel) => {
      const canvas = document.querySelector(`${sel} canvas`);
      const data = canvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, canvas.width, canvas.height).data;
      const ratio = canvas.width / canvas.clientWidth;
      let n = 0;
      let sx = 0;
      let sy = 0;
      for (let y = 0; y < canvas.height; y++) {
        for (let x = 0; x < canvas.width; x++) {
          const i = (y * canvas.width + x) * 4;
          if (data[i] - Math.max(data[i + 1], data[i + 2]) > 40) {
            n++;
            sx += x;
            sy += y;
          }
        }
      }
      return { n, cx: n ? sx / n / ratio : 0, cy: n ? sy / n / ratio : 0 };
    }, planeSel(name));

  /** The patient point (mm) under a CSS pixel of a plane (from its camera). */
  const worldOf = async (name, cx, cy) => {
    const cam = JSON.parse(await plane(name).getAttribute('data-rr-camera'));
    const right = cross(cam.viewUp, cam.viewPlaneNormal);
    const s = (2 * cam.parallelScale) / cam.height;
    return cam.focalPoint.map((f, i) => f + right[i] * (cx - cam.width / 2) * s - cam.viewUp[i] * (cy - cam.height / 2) * s);
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = await dicomFilesOf('ct_abdomen_pancreas_134');
    await storescu(orthanc, files);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'rr-segvol-'));
    const segFile = path.join(tmp, 'seg.dcm');
    const { stdout } = await execFile(PYTHON, [path.join(repoRoot, 'Tests', 'lib', 'make_seg.py'), segFile, ...files]);
    made = JSON.parse(stdout);
    assert.equal((await uploadFile(orthanc, segFile)).status, 200);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 && l.data[0].instanceCount === files.length + 1 ? l : false;
    }, 60_000, 200, 'the CT study with its SEG');
    study = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data[0].studyInstanceUid)}`);
    // segment 1's box in patient coordinates, from its slices' positions and the CT's pixel spacing
    const ct = study.series.find((s) => s.modality === 'CT');
    const slices = ct.instances.filter((i) => made.segments['1'].sops.includes(i.sopInstanceUid));
    assert.equal(slices.length, 4);
    const tags = await orthanc.json(`/instances/${slices[0].orthancId}/simplified-tags`);
    const [rowMm, colMm] = tags.PixelSpacing.split('\\').map(Number);
    const iop = slices[0].imageOrientationPatient;
    assert.deepEqual(iop.map(Math.round), [1, 0, 0, 0, 1, 0], 'an axial CT');
    const [r0, r1, c0, c1] = made.segments['1'].rect;
    const ipp = slices[0].imagePositionPatient;
    const zs = slices.map((i) => i.imagePositionPatient[2]);
    box = [
      [ipp[0] + c0 * colMm, ipp[0] + (c1 + 1) * colMm],
      [ipp[1] + r0 * rowMm, ipp[1] + (r1 + 1) * rowMm],
      [Math.min(...zs) - 2, Math.max(...zs) + 2],
    ];
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('console', (m) => { if (process.env.RR_DEBUG) console.log('# console', m.type(), m.text().slice(0, 300)); });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('MPR: the segments as a labelmap on the three planes, where the SEG puts them, with the 2D controls', async () => {
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(study.studyInstanceUid)}`);
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport="0"]').getAttribute('data-rr-image-index')) !== null, 60_000, 100, 'the first image');
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await page.locator('.viewer-volume-area').getAttribute('data-rr-volume-state')) === 'shown', 120_000, 100, 'the MPR layout');
    const panel = page.locator('.viewer-seg-volume-panel');
    await waitFor(async () => (await panel.getAttribute('data-rr-seg-volume-state')) === 'shown', 60_000, 100, 'the SEG labelmap');
    const section = panel.locator(`section[data-rr-seg-series="${made.seriesInstanceUid}"]`);
    assert.deepEqual(await section.locator('.viewer-seg-list li').allTextContents(), ['1 Lesion', '2 Oedema']);
    const swatch = (await section.locator('.viewer-seg-swatch').first().evaluate((e) => getComputedStyle(e).backgroundColor)).match(/\d+/g).map(Number);
    assert.ok(swatch[0] - Math.max(swatch[1], swatch[2]) > 100, `segment 1 red from its CIELab value: ${swatch}`);
    // the planes through the centre of the volume: segment 1 spans it
    await afterRender(PLANES.map(planeSel), () => page.locator('[data-rr-mpr-tool="reset"]').click());
    await page.screenshot({ path: process.env.RR_SEG_VOLUME_SCREENSHOT || '/tmp/rr-viewer-seg-volume.png' });
    for (const name of PLANES) {
      const red = await redOf(name);
      if (process.env.RR_DEBUG) console.log('#', name, JSON.stringify(red), await plane(name).getAttribute('data-rr-seg-volume-on'));
      assert.ok(red.n > 100, `${name}: segment 1 drawn in red (${red.n} pixels)`);
      const w = await worldOf(name, red.cx, red.cy);
      w.forEach((v, i) => assert.ok(v >= box[i][0] - 3 && v <= box[i][1] + 3, `${name}: the red is where segment 1 is (axis ${i}: ${v.toFixed(1)} in ${box[i].map((x) => x.toFixed(1))})`));
    }

    // the segmentation state redraws the planes on its own schedule: wait for the red to go or come
    const redBecomes = async (name, wanted, what) => {
      let last = null;
      await waitFor(async () => {
        last = (await redOf(name)).n;
        return wanted ? last > 100 : last < 5;
      }, 15_000, 200, `${name}: ${what} (red pixels: ${last})`);
    };
    await section.locator('input[data-rr-seg-show]').uncheck();
    for (const name of PLANES) await redBecomes(name, false, '"Show" off, no red');
    await section.locator('input[data-rr-seg-show]').check();
    await redBecomes('axial', true, '"Show" on again');
    await section.locator('input[data-rr-segment="1"]').uncheck();
    for (const name of PLANES) await redBecomes(name, false, 'segment 1 off, no red');
    assert.equal(await plane('axial').getAttribute('data-rr-seg-volume-on'), '1', 'segment 2 still on');
    await section.locator('input[data-rr-segment="1"]').check();
    await redBecomes('coronal', true, 'segment 1 on again');
    await section.locator('input[data-rr-seg-opacity]').fill('0');
    await redBecomes('sagittal', false, 'opacity 0, no red');
    await section.locator('input[data-rr-seg-opacity]').fill('50');
    await redBecomes('sagittal', true, 'opacity 50 %, red again');
  });

  it('3D four-up: the 3D view changes when the SEG is shown', async () => {
    const t0 = Date.now();
    await page.locator('.viewer-tool[data-rr-volume-layout="3d"]').click();
    await waitFor(async () => (await page.locator('.viewer-volume-area').getAttribute('data-rr-volume-state')) === 'shown' && (await page.locator('[data-rr-3d-viewport]').count()) === 1, 120_000, 100, 'the 3D four-up');
    const panel = page.locator('.viewer-seg-volume-panel');
    await waitFor(async () => (await panel.getAttribute('data-rr-seg-volume-state')) === 'shown', 60_000, 100, 'the SEG labelmap in the four-up');
    const view = '[data-rr-3d-viewport]';
    await waitFor(async () => (await page.locator(view).getAttribute('data-rr-seg-volume-on')) === '1', 20_000, 100, 'the labelmap on the 3D view');
    if (process.env.RR_DEBUG) console.log('# 3D shown after', Date.now() - t0, 'ms');
    await page.waitForTimeout(500);
    // the 3D canvas kept in the page ("on"), then compared there (no megabytes through the protocol)
    const grab = (key) =>
      page.evaluate(({ sel, key }) => {
        const c = document.querySelector(`${sel} canvas`);
        window[key] = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
      }, { sel: view, key });
    await grab('__rrSegOn');
    // a DOM click, allowed to wait: with software WebGL a render of the 3D view with the label volume can keep
    // the page busy for seconds
    const toggleShow = () => panel.locator('input[data-rr-seg-show]').evaluate((e) => e.click(), undefined, { timeout: 120_000 });
    await toggleShow();
    await waitFor(async () => (await page.locator(view).getAttribute('data-rr-seg-volume-on')) === '0', 60_000, 100, 'the labelmap off in 3D');
    await page.waitForTimeout(1500);
    assert.equal(await page.locator(view).getAttribute('data-rr-seg-volume-on'), '0');
    await grab('__rrSegOff');
    const { drawn, changed } = await page.evaluate(() => {
      const on = window.__rrSegOn;
      const off = window.__rrSegOff;
      let c = 0;
      let d = 0;
      for (let i = 0; i < on.length; i += 4) {
        if (off[i] + off[i + 1] + off[i + 2] > 30) d++;
        if (Math.abs(on[i] - off[i]) + Math.abs(on[i + 1] - off[i + 1]) + Math.abs(on[i + 2] - off[i + 2]) > 30) c++;
      }
      return { drawn: d, changed: c };
    });
    if (process.env.RR_DEBUG) console.log('# 3D', drawn, changed);
    assert.ok(drawn > 1000, `the volume rendering is drawn (${drawn} pixels)`);
    assert.ok(changed > 50, `the SEG changes the 3D view (${changed} pixels)`);
    await toggleShow();
    // a segment that cannot be shown would be listed with its reason; here both are shown
    assert.equal(await panel.locator('.viewer-seg-problem').count(), 0);
    assert.deepEqual(pageErrors, []);
  });
});
