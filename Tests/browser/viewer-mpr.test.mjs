// Browser test of the MPR layout (issue 11): the volume built from the plugin's answer, checked by its PIXELS
// against a reference reformat computed here, independently of the viewer (Tests/lib/mpr-reference.py: pydicom
// decodes the slices, numpy interpolates), at sampled canvas points mapped to patient coordinates from the
// plane's camera; the orientation labels; the crosshairs; a MIP slab; back to 2D with the position and window.
// Then the series made from real files (Tests/lib/make-volume-series.py, Tests/lib/make-mpr-series.py): a
// gantry-tilted acquisition is resampled (its sagittal plane equals the untilted anatomy's, not the sheared one),
// an enhanced CT is reconstructed from its per-frame functional groups (frames stored out of order), a sagittal
// MR gives true axial and coronal planes with their labels, and a series with missing slices or an irregular
// spacing is refused with the plugin's reason while the 2D images stay. One Orthanc, one login, two page loads.
// Run: cd Tests && npm ci && node --test browser/viewer-mpr.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dicomFilesOf, execFile, repoRoot, storescu, startOrthanc, testData, waitFor } from '../lib/orthanc.mjs';
import { greySpread, launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const PYTHON = '/usr/bin/python3';
const SCREENSHOT = process.env.RR_VIEWER_MPR_SCREENSHOT || '/tmp/rr-viewer-mpr.png';

/** The reference values (modality units, null outside) of patient points, from the files' decoded pixels. */
function reference(files, points, ignoreShift = false) {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [path.join(repoRoot, 'Tests/lib/mpr-reference.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out).values) : reject(new Error(`mpr-reference.py: ${err}`))));
    child.stdin.end(JSON.stringify({ files, points, ignoreShift }));
  });
}

const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const near = (a, b, eps = 1e-3) => a.every((x, i) => Math.abs(x - b[i]) < eps);
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** The screen conventions of the three planes (README "Volumes"): normal, up, and the four edge labels. */
const CONVENTIONS = {
  axial: { normal: [0, 0, -1], up: [0, -1, 0], labels: { top: 'A', bottom: 'P', left: 'R', right: 'L' } },
  sagittal: { normal: [1, 0, 0], up: [0, 0, 1], labels: { top: 'H', bottom: 'F', left: 'A', right: 'P' } },
  coronal: { normal: [0, -1, 0], up: [0, 0, 1], labels: { top: 'H', bottom: 'F', left: 'R', right: 'L' } },
};

describe('Reading Room MPR (browser)', { timeout: 600_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let tmp;
  let ctStudy; // the 134-slice CT
  let ctFiles;
  let made; // make-volume-series.py's answer
  let mine; // make-mpr-series.py's answer
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const plane = (name) => page.locator(`.viewer-mpr-viewport[data-rr-mpr-plane="${name}"]`);
  const attr = (name, a) => plane(name).getAttribute(a);
  const labels = (name) =>
    page.evaluate((name) => {
      const cell = document.querySelector(`[data-rr-mpr-cell="${name}"]`);
      const t = (e) => cell.querySelector(`.ov-orient-${e}`).textContent;
      return { top: t('top'), bottom: t('bottom'), left: t('left'), right: t('right') };
    }, name);
  const renders = async (name) => Number((await attr(name, 'data-rr-renders')) ?? 0);
  const settle = async (name, since) => {
    await waitFor(async () => (await renders(name)) > since, 20_000, 50, `a render of the ${name} plane`);
    await page.waitForTimeout(300);
  };

  const openStudy = async (uid) => {
    await page.goto(studyUrl(uid));
    await waitFor(async () => (await page.locator('.viewer-viewport[data-rr-viewport="0"]').getAttribute('data-rr-image-index')) !== null, 60_000, 100, 'the first image');
  };
  const showSeries = async (uid) => {
    await page.locator(`.viewer-series .series-item[data-series-uid="${uid}"]`).click();
    await waitFor(async () => {
      const vp = page.locator('.viewer-viewport[data-rr-viewport="0"]');
      return (await vp.getAttribute('data-rr-series-uid')) === uid && (await vp.getAttribute('data-rr-image-index')) !== null;
    }, 60_000, 100, `series ${uid} in the viewport`);
  };
  /** Chooses MPR; resolves when the three planes are drawn. */
  const enterMpr = async () => {
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    await waitFor(async () => (await page.locator('.viewer-volume-area').getAttribute('data-rr-volume-state')) === 'shown', 120_000, 100, 'the MPR layout');
    for (const p of ['axial', 'sagittal', 'coronal']) await waitFor(async () => (await renders(p)) > 0 && (await attr(p, 'data-rr-camera')) !== null, 30_000, 100, `the ${p} plane drawn`);
    await page.waitForTimeout(500);
  };
  /** Chooses MPR on a series the plugin refuses: the message, the 2D grid still shown. */
  const refusedMpr = async () => {
    await page.locator('.viewer-tool[data-rr-volume-layout="mpr"]').click();
    const msg = page.locator('.viewer-volume-message[data-rr-volume-refused]');
    await waitFor(async () => (await msg.count()) > 0 && !(await msg.isHidden()), 30_000, 100, 'the refusal');
    assert.equal(await page.locator('.viewer-grid').isVisible(), true, 'the 2D images stay');
    assert.equal(await page.locator('.viewer-volume-area').isVisible(), false);
    return msg.textContent();
  };

  /**
   * Samples a plane's canvas on a grid and compares it with the reference reformat of `files` along the same
   * plane (patient points from the plane's camera; grey from the plane's window): the differences in grey levels.
   */
  const comparePlane = async (name, files, { ignoreShift = false, grid = 18 } = {}) => {
    const cam = JSON.parse(await attr(name, 'data-rr-camera'));
    const [w, l] = (await attr(name, 'data-rr-window')).split(' ').map(Number);
    const right = cross(cam.viewUp, cam.viewPlaneNormal);
    const down = cam.viewUp.map((x) => -x);
    const s = (2 * cam.parallelScale) / cam.height; // mm per CSS pixel
    const samples = await page.evaluate(({ name, grid }) => {
      const canvas = document.querySelector(`.viewer-mpr-viewport[data-rr-mpr-plane="${name}"] canvas`);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const ratio = canvas.width / canvas.clientWidth;
      const out = [];
      for (let gy = 1; gy < grid; gy++) {
        for (let gx = 1; gx < grid; gx++) {
          const cx = Math.floor((gx * canvas.clientWidth) / grid) + 0.5;
          const cy = Math.floor((gy * canvas.clientHeight) / grid) + 0.5;
          const px = Math.floor(cx * ratio);
          const py = Math.floor(cy * ratio);
          out.push({ cx, cy, grey: data[(py * canvas.width + px) * 4] });
        }
      }
      return out;
    }, { name, grid });
    const points = samples.map(({ cx, cy }) =>
      cam.focalPoint.map((f, i) => f + right[i] * (cx - cam.width / 2) * s + down[i] * (cy - cam.height / 2) * s));
    const values = await reference(files, points, ignoreShift);
    const lower = l - 0.5 - (w - 1) / 2;
    const upper = l - 0.5 + (w - 1) / 2;
    const diffs = [];
    values.forEach((v, k) => {
      if (v === null) return;
      const expected = Math.max(0, Math.min(255, ((v - lower) / (upper - lower)) * 255));
      diffs.push(Math.abs(expected - samples[k].grey));
    });
    return { n: diffs.length, median: quantile(diffs, 0.5), p90: quantile(diffs, 0.9), spread: Math.max(...samples.map((x) => x.grey)) - Math.min(...samples.map((x) => x.grey)), camera: cam, slice: await attr(name, 'data-rr-slice-index') };
  };
  const assertMatches = (what, r, { median = 6, p90 = 24 } = {}) => {
    if (process.env.RR_DEBUG) console.log('#', what, JSON.stringify(r));
    assert.ok(r.n >= 40, `${what}: ${r.n} sampled points inside the volume (slice ${r.slice}, camera ${JSON.stringify(r.camera)})`);
    assert.ok(r.spread > 60, `${what}: the plane is drawn (grey spread ${r.spread})`);
    assert.ok(r.median <= median && r.p90 <= p90, `${what}: grey differences from the reference, median ${r.median.toFixed(1)}, 90th percentile ${r.p90.toFixed(1)}`);
  };
  const assertConventions = async (name) => {
    const cam = JSON.parse(await attr(name, 'data-rr-camera'));
    assert.ok(near(cam.viewPlaneNormal, CONVENTIONS[name].normal) && near(cam.viewUp, CONVENTIONS[name].up), `${name}: a true ${name} plane (${JSON.stringify(cam)})`);
    assert.deepEqual(await labels(name), CONVENTIONS[name].labels, `${name}: orientation labels`);
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    ctFiles = await dicomFilesOf('ct_abdomen_pancreas_134');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'rr-mpr-'));
    const { stdout } = await execFile(PYTHON, [path.join(repoRoot, 'Tests/lib/make-volume-series.py'), path.join(tmp, 'v'),
      path.join(testData, 'ct_abdomen_pancreas_134'), path.join(testData, 'enhanced_mr/emri_small.dcm')], { maxBuffer: 1 << 24 });
    made = JSON.parse(stdout);
    const second = await execFile(PYTHON, [path.join(repoRoot, 'Tests/lib/make-mpr-series.py'), path.join(tmp, 'm'),
      path.join(testData, 'ct_abdomen_pancreas_134'), made.study], { maxBuffer: 1 << 24 });
    mine = JSON.parse(second.stdout);
    await storescu(orthanc, [...ctFiles, path.join(tmp, 'v'), path.join(tmp, 'm')]);
    const studies = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 2 ? l : false;
    }, 60_000, 200, 'the two studies');
    ctStudy = studies.data.find((s) => s.studyInstanceUid !== made.study);
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1500, height: 950 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('console', (m) => { if (process.env.RR_DEBUG) console.log('# console', m.type(), m.text().slice(0, 300)); });
  });

  after(async () => {
    if (page && process.env.RR_VIEWER_MPR_SCREENSHOT) await page.screenshot({ path: SCREENSHOT }).catch(() => {});
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the 134-slice CT: sagittal and coronal planes through the centre match the reference reformat, with their labels', async () => {
    await openStudy(ctStudy.studyInstanceUid);
    await enterMpr();
    for (const name of ['axial', 'sagittal', 'coronal']) await assertConventions(name);
    for (const name of ['sagittal', 'coronal', 'axial']) assertMatches(`CT ${name}`, await comparePlane(name, ctFiles));
    // a flipped or mislabelled reformat would not match: the same samples against the plane mirrored
    assert.equal(await plane('sagittal').getAttribute('data-rr-slices'), '512');
  });

  it('crosshairs: a click in the axial plane moves the sagittal and coronal planes', async () => {
    const before = { sag: await attr('sagittal', 'data-rr-slice-index'), cor: await attr('coronal', 'data-rr-slice-index'), ax: await attr('axial', 'data-rr-slice-index') };
    const box = await plane('axial').boundingBox();
    const n = { sag: await renders('sagittal'), cor: await renders('coronal') };
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.65);
    await settle('sagittal', n.sag);
    await settle('coronal', n.cor);
    const after1 = { sag: await attr('sagittal', 'data-rr-slice-index'), cor: await attr('coronal', 'data-rr-slice-index'), ax: await attr('axial', 'data-rr-slice-index') };
    assert.notEqual(after1.sag, before.sag, 'the sagittal plane moved');
    assert.notEqual(after1.cor, before.cor, 'the coronal plane moved');
    assert.equal(after1.ax, before.ax, 'the axial plane stays');
    // the moved planes still match the reference
    assertMatches('CT sagittal after the crosshairs moved', await comparePlane('sagittal', ctFiles));
  });

  it('a length drawn in the sagittal plane is saved with world coordinates under the nearest slice', async () => {
    const cam = JSON.parse(await attr('sagittal', 'data-rr-camera'));
    const box = await plane('sagittal').boundingBox();
    const at = [[0.35, 0.4], [0.6, 0.7]].map(([fx, fy]) => ({ x: box.x + box.width * fx, y: box.y + box.height * fy }));
    const right = cross(cam.viewUp, cam.viewPlaneNormal);
    const s = (2 * cam.parallelScale) / cam.height;
    const world = at.map(({ x, y }) => cam.focalPoint.map((f, i) => f + right[i] * (x - box.x - cam.width / 2) * s - cam.viewUp[i] * (y - box.y - cam.height / 2) * s));
    await page.locator('[data-rr-mpr-tool="length"]').click();
    await page.mouse.move(at[0].x, at[0].y);
    await page.mouse.down();
    await page.mouse.move((at[0].x + at[1].x) / 2, (at[0].y + at[1].y) / 2, { steps: 4 });
    await page.mouse.move(at[1].x, at[1].y, { steps: 4 });
    await page.mouse.up();
    const path = `/api/dicom/studies/${encodeURIComponent(ctStudy.studyInstanceUid)}/annotations`;
    const stored = await waitFor(async () => {
      const l = await orthanc.json(path);
      return l.data.length === 1 ? l.data[0] : false;
    }, 20_000, 200, 'the length saved');
    await page.locator('[data-rr-mpr-tool="crosshairs"]').click();
    assert.equal(stored.tool, 'Length');
    assert.ok(near(stored.data.viewPlaneNormal, [1, 0, 0]), `the sagittal plane's normal: ${JSON.stringify(stored.data.viewPlaneNormal)}`);
    stored.data.points.forEach((p, i) => assert.ok(near(p, world[i], 1.5), `point ${i}: ${JSON.stringify(p)} vs ${JSON.stringify(world[i])}`));
    const mm = Math.hypot(...world[0].map((x, i) => x - world[1][i]));
    assert.ok(Math.abs(stored.data.stats.length - mm) < 1.5, `length ${stored.data.stats.length} vs ${mm}`);
    assert.equal(stored.data.stats.unit, 'mm');
    // stored under the CT slice nearest the first point
    const series = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctStudy.studyInstanceUid)}`)).series[0];
    const nearest = series.instances.reduce((b, inst) => (Math.abs(inst.imagePositionPatient[2] - stored.data.points[0][2]) < Math.abs(b.imagePositionPatient[2] - stored.data.points[0][2]) ? inst : b));
    assert.equal(stored.sopInstanceUid, nearest.sopInstanceUid);
    assert.equal(stored.seriesInstanceUid, series.seriesInstanceUid);
  });

  it('slab MIP of the contrast-filled vessels and bone is brighter than a single slice', async () => {
    const mean = (name) =>
      page.evaluate((name) => {
        const c = document.querySelector(`.viewer-mpr-viewport[data-rr-mpr-plane="${name}"] canvas`);
        const d = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
        let s = 0;
        let bright = 0;
        for (let i = 0; i < d.length; i += 4) { s += d[i]; if (d[i] >= 250) bright++; }
        return { mean: s / (d.length / 4), bright };
      }, name);
    const single = await mean('coronal');
    let n = await renders('coronal');
    await page.locator('[data-rr-mpr-slab-mm]').fill('30');
    await page.locator('[data-rr-mpr-slab]').selectOption('mip');
    await settle('coronal', n);
    assert.equal(await attr('coronal', 'data-rr-slab'), 'mip 30');
    const mip = await mean('coronal');
    assert.ok(mip.mean > single.mean + 5 && mip.bright > single.bright * 1.5, `MIP ${JSON.stringify(mip)} vs slice ${JSON.stringify(single)}`);
    n = await renders('coronal');
    await page.locator('[data-rr-mpr-slab]').selectOption('minip');
    await settle('coronal', n);
    const minip = await mean('coronal');
    assert.ok(minip.mean < single.mean - 5, `MinIP ${JSON.stringify(minip)} vs slice ${JSON.stringify(single)}`);
    n = await renders('coronal');
    await page.locator('[data-rr-mpr-slab]').selectOption('none');
    await settle('coronal', n);
  });

  it('oblique MPR: turning the sagittal line in the axial plane turns the sagittal and coronal planes together; still the reference', async () => {
    const box = await plane('axial').boundingBox();
    const c = { x: box.x + box.width * 0.35, y: box.y + box.height * 0.62 };
    let n = await renders('sagittal');
    await page.mouse.click(c.x, c.y); // the centre here
    await settle('sagittal', n);
    await page.mouse.move(c.x, c.y + 90, { steps: 3 }); // on the sagittal plane's line: its handles appear
    const handle = await waitFor(async () => {
      const circles = await page.evaluate(() => [...document.querySelectorAll('[data-rr-mpr-cell="axial"] svg circle')].map((e) => {
        const b = e.getBoundingClientRect();
        return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
      }));
      return circles.filter((h) => Math.abs(h.x - c.x) < 4 && h.y > c.y + 20).sort((a, b) => b.y - a.y)[0] ?? false;
    }, 10_000, 100, 'the rotation handle of the sagittal line');
    n = await renders('sagittal');
    const nc = await renders('coronal');
    await page.mouse.move(handle.x, handle.y, { steps: 2 });
    await page.mouse.down();
    await page.mouse.move(handle.x + 40, handle.y, { steps: 5 });
    await page.mouse.move(handle.x + 70, handle.y - 5, { steps: 5 });
    await page.mouse.up();
    await settle('sagittal', n);
    await settle('coronal', nc);
    await page.waitForTimeout(500);
    const sag = JSON.parse(await attr('sagittal', 'data-rr-camera'));
    const cor = JSON.parse(await attr('coronal', 'data-rr-camera'));
    const deg = (Math.acos(Math.min(1, Math.abs(sag.viewPlaneNormal[0]))) * 180) / Math.PI;
    assert.ok(deg > 10 && deg < 80 && Math.abs(sag.viewPlaneNormal[2]) < 1e-3, `the sagittal plane turned about the z axis: ${JSON.stringify(sag.viewPlaneNormal)}`);
    const dot = sag.viewPlaneNormal.reduce((sum, x, i) => sum + x * cor.viewPlaneNormal[i], 0);
    assert.ok(Math.abs(dot) < 1e-3, 'the coronal plane turned with it (still perpendicular)');
    assert.match(await page.locator('[data-rr-mpr-cell="sagittal"] .ov-image').textContent(), /oblique \d+\.\d°/);
    const l = await labels('sagittal');
    assert.equal(l.top, 'H');
    assert.ok(l.left.length === 2 && l.right.length === 2, `oblique labels ${JSON.stringify(l)}`);
    // oblique planes match less closely than the true ones (median ≈ 2–5 grey levels, a tenth of the points up
    // to ≈ 55 on edges: cornerstone's sampling between the 3-mm slices along an oblique plane differs from the
    // reference's trilinear one); the plane it would be without the rotation is much further off
    const loose = { median: 8, p90: 64 };
    assertMatches('CT oblique sagittal', await comparePlane('sagittal', ctFiles), loose);
    const oblique = await comparePlane('coronal', ctFiles);
    assertMatches('CT oblique coronal', oblique, loose);
    const straight = JSON.parse(await attr('coronal', 'data-rr-camera'));
    // the same samples read as a true coronal plane through the same point
    const unrotated = await (async () => {
      const el = plane('coronal');
      const saved = await el.getAttribute('data-rr-camera');
      await el.evaluate((e, cam) => e.setAttribute('data-rr-camera', cam), JSON.stringify({ ...straight, viewPlaneNormal: [0, -1, 0] }));
      const r = await comparePlane('coronal', ctFiles);
      await el.evaluate((e, cam) => e.setAttribute('data-rr-camera', cam), saved);
      return r;
    })();
    assert.ok(unrotated.median > oblique.median * 3, `the rotation is in the pixels (unrotated median ${unrotated.median} vs ${oblique.median})`);
    // Reset: true planes again
    n = await renders('sagittal');
    await page.locator('[data-rr-mpr-tool="reset"]').click();
    await settle('sagittal', n);
    await assertConventions('sagittal');
  });

  it('arrow keys step the active plane along its normal and stop inside the volume at its last slice', async () => {
    await plane('axial').focus(); // the active plane since the crosshairs click
    const z = async () => JSON.parse(await attr('axial', 'data-rr-camera')).focalPoint[2];
    const series = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctStudy.studyInstanceUid)}`)).series[0];
    const zs = series.instances.map((i) => i.imagePositionPatient[2]);
    const [lo, hi] = [Math.min(...zs), Math.max(...zs)];
    const press = async (key, times) => {
      const n = await renders('axial');
      for (let i = 0; i < times; i++) await page.keyboard.press(key);
      await settle('axial', n);
    };
    const z0 = await z();
    await press('ArrowDown', 1);
    const step = (await z()) - z0;
    assert.ok(Math.abs(step) > 0.1 && Math.abs(step) <= 5, `one press moves the plane by a voxel along its normal (${step} mm)`);
    // towards the nearer end of the volume, and 20 presses past it
    const key = (step > 0) === (hi - z0 < z0 - lo) ? 'ArrowDown' : 'ArrowUp';
    const edge = (step > 0) === (key === 'ArrowDown') ? hi : lo;
    await press(key, Math.ceil(Math.abs(edge - (await z())) / Math.abs(step)) + 20);
    const end = await z();
    assert.ok(end >= lo && end <= hi, `the plane stays inside the volume (z ${end}, slices ${lo}..${hi})`);
    assert.ok(Math.abs(end - edge) < 0.2, `and reaches its last slice (z ${end}, edge ${edge})`);
    const spread = await greySpread(page, '.viewer-mpr-viewport[data-rr-mpr-plane="axial"] canvas');
    assert.ok(spread > 60, `the edge slice is drawn, not a flat grey plane (grey spread ${spread})`);
  });

  it('back to 2D keeps the series, the window and the position', async () => {
    // a window of the axial plane's own (the active plane: the crosshairs click above), then the 2D layout
    await plane('axial').focus(); // the keys reach the viewer (not the slab control)
    await page.keyboard.press('3'); // bone 1800/400
    await waitFor(async () => (await attr('axial', 'data-rr-window')) === '1800 400', 10_000, 50, 'the bone window in the axial plane');
    const cam = JSON.parse(await attr('axial', 'data-rr-camera'));
    const cacheBytes = async () => Number(await page.locator('.viewer-grid').getAttribute('data-rr-cache-bytes'));
    const withVolume = await cacheBytes();
    await page.locator('.viewer-tool[data-rr-layout="1x1"]').click();
    const vp = page.locator('.viewer-viewport[data-rr-viewport="0"]');
    await waitFor(async () => await page.locator('.viewer-grid').isVisible(), 10_000, 50, 'the 2D grid');
    assert.equal(await page.locator('.viewer-volume-area').isVisible(), false);
    // the image nearest the axial plane's z (display order: the API's slices along the normal)
    const series = (await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctStudy.studyInstanceUid)}`)).series[0];
    const zs = series.instances.map((i) => i.imagePositionPatient[2]);
    const want = zs.reduce((best, z, i) => (Math.abs(z - cam.focalPoint[2]) < Math.abs(zs[best] - cam.focalPoint[2]) ? i : best), 0);
    await waitFor(async () => (await vp.getAttribute('data-rr-image-index')) === String(want), 20_000, 100, `2D image ${want}`);
    assert.equal(await vp.getAttribute('data-rr-series-uid'), series.seriesInstanceUid);
    const text = await page.locator('.viewer-stage[data-rr-cell="0"] .ov-window').textContent();
    assert.equal(text, 'W 1800 L 400');
    // the volume (512 × 512 × 134 int16, 70 MB) left cornerstone's cache with the layout
    await waitFor(async () => withVolume - (await cacheBytes()) >= 60e6, 10_000, 100, `the volume freed (${withVolume} bytes in the cache with it)`);
  });

  it('the volume checks: a tilted series resampled, never sheared; the enhanced CT; a sagittal MR; refusals with the reason', async () => {
    await openStudy(made.study);
    // gantry tilt: the anatomy of the untilted slices, not the sheared stack
    await showSeries(mine.series['tilt-shifted']);
    await enterMpr();
    const right = await comparePlane('sagittal', mine.files.original, { grid: 32 });
    assertMatches('tilted CT sagittal vs the untilted anatomy', right);
    const sheared = await comparePlane('sagittal', mine.files['tilt-shifted'], { ignoreShift: true, grid: 32 });
    assert.ok(sheared.median > right.median * 2 + 4, `a sheared reformat would differ (median ${sheared.median} vs ${right.median})`);
    // the enhanced CT (frames stored out of order) from its functional groups: the same anatomy
    await showSeries(mine.series['enhanced-ct']);
    await enterMpr();
    assertMatches('enhanced CT sagittal', await comparePlane('sagittal', mine.files.original, { grid: 32 }));
    assertMatches('enhanced CT coronal', await comparePlane('coronal', mine.files.original, { grid: 32 }));
    // a sagittal MR: true axial and coronal planes with their labels, drawn from its frames
    await showSeries(made.series['enhanced-mr']);
    await enterMpr();
    for (const name of ['axial', 'sagittal', 'coronal']) await assertConventions(name);
    const mr = await comparePlane('axial', made.files['enhanced-mr'], { grid: 24 });
    assert.ok(mr.n >= 10 && mr.median <= 8, `sagittal MR, axial plane vs reference: ${JSON.stringify(mr)}`);
    // refused with the plugin's reason; the 2D images stay
    await showSeries(made.series.missing);
    assert.match(await refusedMpr(), /MPR is not available for this series: 3 slices missing/);
    await showSeries(made.series.irregular);
    assert.match(await refusedMpr(), /slice spacing varies between 1\.0 and 5\.0 mm/);
    assert.deepEqual(pageErrors, []);
  });
});
