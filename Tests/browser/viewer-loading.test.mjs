// Browser test of the viewer's loading (issue 10): the shown slice first then outwards, the per-viewport
// progress (data-rr-cached / data-rr-total, "n/N cached"), the cache budget (ReadingRoom.Viewer.CacheMegabytes)
// on a synthetic 1,000-image series, every transfer syntax of ts_ct_matrix drawn like the plugin's PNG route
// draws it (16/16), and the transcoding fallback (GET /api/dicom/instances/{id}/transcoded).
// Real Orthanc + plugin, Debian's chromium with software WebGL. Run alone: ~1–2 min.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodePng } from '../lib/png.mjs';
import { dicomFilesOf, execFile, fetchIdempotent, repoRoot, storescu, startOrthanc, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const CT_FOLDER = 'ct_abdomen_pancreas_134';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const PYTHON = '/usr/bin/python3'; // Debian's, with python3-pydicom and python3-numpy
const BUDGET_MB = 128;
const THOUSAND = 1000;
const GRID = 16;
const JPEG_LS = '1.2.840.10008.1.2.4.80';
const FORCE_KEY = 'rr.viewer.transcode';

describe('Reading Room viewer: loading, cache budget, transfer syntaxes (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let tmp;
  let ct, big, matrix, mammo; // study details
  const requests = []; // pathnames of /instances/*/file and /api/dicom/instances/*/transcoded, in order
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const vp = () => page.locator('.viewer-viewport[data-rr-viewport="0"]');
  const attr = (name) => vp().getAttribute(name);
  const fileOf = (p) => p.match(/\/instances\/([^/]+)\/(file|transcoded)$/)?.[1] ?? null;

  const canvasGrid = (imgW, imgH) =>
    page.evaluate(({ imgW, imgH, grid }) => {
      const canvas = document.querySelector('.viewer-viewport canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const { width: cw, height: ch } = canvas;
      const scale = Math.min(cw / imgW, ch / imgH);
      const w = imgW * scale, hgt = imgH * scale;
      const x0 = (cw - w) / 2, y0 = (ch - hgt) / 2;
      const data = ctx.getImageData(0, 0, cw, ch).data;
      const out = [];
      for (let gy = 0; gy < grid; gy++) {
        for (let gx = 0; gx < grid; gx++) {
          const ax = Math.ceil(x0 + ((gx + 0.15) * w) / grid), bx = Math.floor(x0 + ((gx + 0.85) * w) / grid);
          const ay = Math.ceil(y0 + ((gy + 0.15) * hgt) / grid), by = Math.floor(y0 + ((gy + 0.85) * hgt) / grid);
          let sum = 0, n = 0;
          for (let y = ay; y < by; y++) for (let x = ax; x < bx; x++) { sum += data[(y * cw + x) * 4]; n++; }
          out.push(sum / n);
        }
      }
      return out;
    }, { imgW, imgH, grid: GRID });

  const pngGrid = ({ width: w, height: hgt, channels, pixels }) => {
    const out = [];
    for (let gy = 0; gy < GRID; gy++) {
      for (let gx = 0; gx < GRID; gx++) {
        const ax = Math.ceil(((gx + 0.15) * w) / GRID), bx = Math.floor(((gx + 0.85) * w) / GRID);
        const ay = Math.ceil(((gy + 0.15) * hgt) / GRID), by = Math.floor(((gy + 0.85) * hgt) / GRID);
        let sum = 0, n = 0;
        for (let y = ay; y < by; y++) for (let x = ax; x < bx; x++) { sum += pixels[(y * w + x) * channels]; n++; }
        out.push(sum / n);
      }
    }
    return out;
  };

  /** The canvas against the plugin's PNG of the instance, at W 400 L 40 (the CT files' own window) or, with
   * `ownWindow`, at the file's own window and VOI LUT Function. */
  const compareWithPlugin = async (orthancId, { ownWindow = false } = {}) => {
    const query = ownWindow ? 'size=512' : 'window=40,400&size=512';
    const { res, body } = await fetchIdempotent(`${orthanc.baseUrl}/api/dicom/instances/${orthancId}/frames/0/png?${query}`, { headers: orthanc.authHeaders() });
    assert.equal(res.status, 200);
    const png = decodePng(body);
    const expected = pngGrid(png);
    let last;
    const deadline = Date.now() + 5000;
    for (;;) {
      const means = await canvasGrid(png.width, png.height);
      const diffs = means.map((m, i) => Math.abs(m - expected[i]));
      last = { mean: diffs.reduce((a, b) => a + b, 0) / diffs.length, max: Math.max(...diffs) };
      if ((last.mean < 3 && last.max < 12) || Date.now() > deadline) return last;
      await page.waitForTimeout(100);
    }
  };

  /** Clicks a series in the panel and waits until its first image is drawn in viewport 0. */
  const showSeries = async (uid) => {
    await page.locator(`.viewer-series .series-item[data-series-uid="${uid}"]`).click();
    await waitFor(async () => (await attr('data-rr-series-uid')) === uid && (await attr('data-rr-image-index')) === '0', 30_000, 50, `series ${uid} drawn`);
    await page.waitForTimeout(150); // the render after the camera reset
  };

  const studyWith = async (predicate, what) => {
    const list = await orthanc.json('/api/dicom/studies?limit=10');
    const s = list.data.find(predicate);
    assert.ok(s, what);
    return orthanc.json(`/api/dicom/studies/${encodeURIComponent(s.studyInstanceUid)}`);
  };

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-loading-'));
    // the 16 files share their UIDs: new ones, one series per file (Tests/lib/ts-matrix-uids.py)
    await execFile(PYTHON, [path.join(repoRoot, 'Tests/lib/ts-matrix-uids.py'), path.join(testData, 'ts_ct_matrix'), path.join(tmp, 'ts')]);
    await execFile(PYTHON, [path.join(repoRoot, 'Tests/lib/make-ct-series.py'), path.join(tmp, 'big'), String(THOUSAND), '256']);
    orthanc = await startOrthanc({ readingRoom: { ...(WEBAPP_DIR ? { WebAppDirectory: WEBAPP_DIR } : {}), Viewer: { CacheMegabytes: BUDGET_MB } } });
    const ctFiles = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, [...ctFiles, path.join(tmp, 'big')]);
    // compressed syntaxes by HTTP (storescu would have to negotiate each one)
    for (const f of fs.readdirSync(path.join(tmp, 'ts'))) {
      const up = await uploadFile(orthanc, path.join(tmp, 'ts', f));
      assert.equal(up.status, 200, `POST /instances ${f}: HTTP ${up.status}`);
    }
    // the mammogram: VOI LUT Function SIGMOID, JPEG Lossless, 3062 × 2394
    for (const f of await dicomFilesOf(path.join(testData, 'mg_mammo'))) {
      const up = await uploadFile(orthanc, f);
      assert.equal(up.status, 200, `POST /instances ${f}: HTTP ${up.status}`);
    }
    const total = ctFiles.length + 16 + THOUSAND + 1;
    await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 4 && l.data.reduce((n, s) => n + s.instanceCount, 0) === total;
    }, 120_000, 250, `4 studies / ${total} instances`);
    ct = await studyWith((s) => s.instanceCount === ctFiles.length, 'the CT');
    big = await studyWith((s) => s.instanceCount === THOUSAND, 'the 1,000-image series');
    matrix = await studyWith((s) => s.instanceCount === 16, 'the transfer syntax matrix');
    mammo = await studyWith((s) => s.modalities?.includes('MG'), 'the mammogram');

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname;
      if (fileOf(p)) requests.push(p);
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('GET /api/auth/me delivers the budget; the transcoding route answers Explicit VR Little Endian', async () => {
    const me = await orthanc.json('/api/auth/me');
    assert.deepEqual(me.viewer, { cacheMegabytes: BUDGET_MB });
    const jls = matrix.series.find((s) => s.instances[0].transferSyntaxUid === JPEG_LS).instances[0];
    const { res, body: bytes } = await fetchIdempotent(`${orthanc.baseUrl}/api/dicom/instances/${jls.orthancId}/transcoded`, { headers: orthanc.authHeaders() });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/dicom');
    assert.equal(bytes.toString('latin1', 128, 132), 'DICM');
    assert.ok(bytes.includes(Buffer.from('1.2.840.10008.1.2.1\0')), 'Explicit VR Little Endian in the meta header');
    assert.ok(bytes.length > 512 * 512 * 2, `uncompressed pixels (${bytes.length} bytes)`);
    assert.equal((await fetchIdempotent(`${orthanc.baseUrl}/api/dicom/instances/00000000-00000000-00000000-00000000-00000000/transcoded`, { headers: orthanc.authHeaders() })).res.status, 404);
    assert.equal((await fetchIdempotent(`${orthanc.baseUrl}/api/dicom/instances/BAD!/transcoded`, { headers: orthanc.authHeaders() })).res.status, 400);
  });

  it('loads the shown slice first, then outwards, and reaches 134/134 cached on the CT', async () => {
    const t0 = Date.now();
    await page.goto(studyUrl(ct.studyInstanceUid));
    await waitFor(async () => (await attr('data-rr-image-index')) === '0', 30_000, 50, 'first image');
    const ids = ct.series[0].instances.map((i) => i.orthancId);
    assert.equal(ids.length, 134);
    await waitFor(async () => (await attr('data-rr-cached')) === '134', 90_000, 100, '134/134 cached');
    const fullMs = Date.now() - t0;
    await page.screenshot({ path: process.env.RR_LOADING_SCREENSHOT || '/tmp/rr-viewer-loading.png' });
    assert.equal(await attr('data-rr-total'), '134');
    assert.equal(await page.locator('.viewer-stage .viewer-progress-label').first().textContent(), '134/134 cached');
    const order = requests.map(fileOf).map((id) => ids.indexOf(id)).filter((i) => i >= 0);
    assert.equal(order[0], 0, 'the shown slice is requested first');
    assert.deepEqual(order.slice(1, 21), Array.from({ length: 20 }, (_, i) => i + 1), 'then the nearest ones');
    assert.equal(new Set(order).size, 134, 'each file once');
    console.log(`# CT: fully cached ${fullMs} ms after navigation`);

    // scrolling re-centres: from the middle, the next requests are the middle's neighbours
    // (a fresh series is needed to see requests: the CT is all cached) — see the 1,000-image test
  });

  it('keeps a 1,000-image series within the budget, re-centres on scrolling and shows the last image', async () => {
    requests.length = 0;
    await page.goto(studyUrl(big.studyInstanceUid));
    await waitFor(async () => (await attr('data-rr-image-index')) === '0', 30_000, 50, 'first image');
    const grid = page.locator('.viewer-grid');
    const max = Number(await grid.getAttribute('data-rr-cache-max'));
    assert.equal(max, BUDGET_MB * 1024 * 1024);
    const ids = big.series[0].instances.map((i) => i.orthancId);
    // 256×256×2 bytes per image: about 90 % of the budget fits, the rest stays on the server
    const limit = Math.floor((max * 0.9) / (256 * 256 * 2));
    let peak = 0;
    await waitFor(async () => {
      peak = Math.max(peak, Number(await grid.getAttribute('data-rr-cache-bytes')));
      return Number(await attr('data-rr-cached')) >= limit;
    }, 120_000, 200, `${limit} images cached`);
    assert.equal(await attr('data-rr-total'), String(THOUSAND));
    assert.ok(peak <= max, `cache ${peak} ≤ budget ${max}`);
    assert.equal(Number(await attr('data-rr-cached')), limit, 'no more than the budget allows');
    const before = requests.length;
    // End: the last image, then the prefetch window moves there (nearest first, going down)
    await vp().focus();
    await page.keyboard.press('End');
    await waitFor(async () => (await attr('data-rr-image-index')) === String(THOUSAND - 1), 30_000, 50, 'the last image');
    assert.equal(await page.locator('.viewer-overlay .ov-image').first().textContent(), `Im ${THOUSAND}/${THOUSAND}`);
    await waitFor(async () => requests.length >= before + 12, 30_000, 100, 'prefetch near the end');
    const after = requests.slice(before, before + 12).map(fileOf).map((id) => ids.indexOf(id));
    assert.equal(after[0], THOUSAND - 1, 'the shown image first');
    for (let i = 1; i < after.length; i++) assert.ok(after[i] >= THOUSAND - 1 - limit, `request ${i} (${after[i]}) near the end`);
    assert.deepEqual(after.slice(1).filter((i) => i < THOUSAND - 1), [...after.slice(1).filter((i) => i < THOUSAND - 1)].sort((a, b) => b - a), 'nearest first');
    await waitFor(async () => (await attr('data-rr-cached')) === String(limit), 120_000, 200, 'the window refilled');
    const bytes = Number(await grid.getAttribute('data-rr-cache-bytes'));
    assert.ok(bytes <= max, `cache ${bytes} ≤ budget ${max}`);
    // back to the first image: it had left the window and been evicted, so it is fetched again
    const beforeHome = requests.length;
    await page.keyboard.press('Home');
    await waitFor(async () => (await attr('data-rr-image-index')) === '0', 30_000, 50, 'the first image again');
    assert.ok(requests.slice(beforeHome).map(fileOf).includes(ids[0]), 'image 1 fetched again after its eviction');
    assert.equal(await page.locator('.viewer-overlay .ov-status').first().textContent(), '');
    assert.equal(await page.evaluate(() => 1 + 1), 2, 'the page is alive');
    assert.deepEqual(pageErrors, []);
  });

  it('draws every transfer syntax of ts_ct_matrix like the plugin (16/16), the ones without a browser decoder transcoded', async () => {
    requests.length = 0;
    await page.goto(studyUrl(matrix.studyInstanceUid));
    await waitFor(async () => (await attr('data-rr-image-index')) === '0', 30_000, 50, 'first image');
    const results = [];
    for (const s of matrix.series) {
      const inst = s.instances[0];
      await showSeries(s.seriesInstanceUid);
      const r = await compareWithPlugin(inst.orthancId);
      const via = requests.some((p) => p.endsWith(`/${inst.orthancId}/transcoded`)) ? 'transcoded' : 'browser';
      results.push({ ts: inst.transferSyntaxUid, via, ...r });
      // drawn, not the previous image left on the canvas (the 16 files hold the same slice)
      assert.equal(await page.locator('.viewer-overlay .ov-status').first().textContent(), '', `${inst.transferSyntaxUid}: no error`);
      assert.deepEqual(pageErrors, [], `${inst.transferSyntaxUid}: no page error`);
    }
    for (const r of results) console.log(`# ${r.ts.padEnd(24)} ${r.via.padEnd(10)} mean |Δ| ${r.mean.toFixed(2)} max ${r.max.toFixed(1)}`);
    const bad = results.filter((r) => !(r.mean < 3 && r.max < 12));
    assert.deepEqual(bad.map((r) => r.ts), [], 'every syntax drawn like the plugin');
    assert.equal(results.length, 16);
    assert.deepEqual(pageErrors, []);
  });

  it('falls back to the transcoding route for a syntax the browser is told not to decode, without the user noticing', async () => {
    const s = matrix.series.find((x) => x.instances[0].transferSyntaxUid === JPEG_LS);
    const id = s.instances[0].orthancId;
    await page.evaluate(([k, v]) => localStorage.setItem(k, v), [FORCE_KEY, JPEG_LS]);
    requests.length = 0;
    await page.reload();
    await waitFor(async () => (await attr('data-rr-image-index')) === '0', 30_000, 50, 'first image');
    await showSeries(s.seriesInstanceUid);
    assert.ok(requests.some((p) => p.endsWith(`/api/dicom/instances/${id}/transcoded`)), 'read through the transcoding route');
    assert.ok(!requests.some((p) => p === `/instances/${id}/file`), 'not from the raw file');
    const r = await compareWithPlugin(id);
    assert.ok(r.mean < 3 && r.max < 12, `drawn like the plugin: mean ${r.mean.toFixed(2)}, max ${r.max.toFixed(1)}`);
    assert.equal(await page.locator('.viewer-overlay .ov-status').first().textContent(), '');
    await page.evaluate((k) => localStorage.removeItem(k), FORCE_KEY);
  });

  it('draws the mammogram\'s SIGMOID VOI LUT Function like the plugin, at the file\'s own window, in both 2D pipelines', async () => {
    const inst = mammo.series[0].instances[0];
    // the page's own pipeline (the CPU one on this software WebGL), then WebGL through the override
    for (const forced of [null, 'gpu']) {
      if (forced) await page.evaluate((r) => localStorage.setItem('rr.stackRendering', r), forced);
      await page.goto(studyUrl(mammo.studyInstanceUid));
      if (forced) await page.reload(); // the pipeline is chosen once per page
      await waitFor(async () => (await attr('data-rr-image-index')) === '0', 60_000, 100, 'the mammogram drawn');
      const pipeline = await attr('data-rr-rendering');
      assert.equal(pipeline, forced ?? 'cpu');
      // the file's first window (W 900 L 2653), not a window cornerstone computed
      await waitFor(async () => (await page.locator('.viewer-overlay .ov-window').first().textContent()) === 'W 900 L 2653', 10_000, 100, `${pipeline}: the file's window`);
      const r = await compareWithPlugin(inst.orthancId, { ownWindow: true });
      console.log(`# mammogram (SIGMOID), ${pipeline} pipeline: mean |Δ| ${r.mean.toFixed(2)} max ${r.max.toFixed(1)}`);
      assert.ok(r.mean < 3 && r.max < 12, `${pipeline}: drawn like the plugin (mean |Δ| ${r.mean.toFixed(2)}, max ${r.max.toFixed(1)})`);
    }
    await page.evaluate(() => localStorage.removeItem('rr.stackRendering'));
    assert.deepEqual(pageErrors, []);
  });
});
