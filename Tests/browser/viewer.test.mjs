// Browser test of the study page's image viewer (cornerstone3D, issue 10): real Orthanc + plugin, Debian's
// chromium with software WebGL (SwiftShader), driven by playwright-core. Two independent rendering paths
// check each other: the viewport canvas (cornerstone3D decoding the raw DICOM file in the browser) against
// the plugin's PNG route (Orthanc's decoder, Plugin/image) at the same window and size.
// The 2D pipeline is the page's own choice (on SwiftShader: cornerstone's CPU pipeline, viewer-stack-rendering.ts);
// RR_STACK_RENDERING=gpu|cpu forces one through the app's localStorage override (viewer-webgl.test.mjs runs
// this file with the WebGL pipeline, the one a real GPU gets).
// Run: cd Tests && npm ci && node --test browser/viewer.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decodePng } from '../lib/png.mjs';
import { dicomFilesOf, storescu, startOrthanc, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SCREENSHOT = process.env.RR_VIEWER_SCREENSHOT || '/tmp/rr-viewer.png';
const CT_FOLDER = 'ct_abdomen_pancreas_134';
const XSS_FILE = path.join(testData, 'malformed', 'xss-tags.dcm');
// decoded in the browser by a web worker with the CharLS WASM codec: workers, WASM, MIME types and CSP
const JPEG_LS_FILE = path.join(testData, 'ts_ct_matrix', 'CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm');
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const GRID = 16; // cells per side for the mean comparison
const SOFT_TISSUE = { key: '1', center: 40, width: 400 };
const FORCED_PIPELINE = ['cpu', 'gpu'].includes(process.env.RR_STACK_RENDERING) ? process.env.RR_STACK_RENDERING : null;

describe(`Reading Room image viewer (browser${FORCED_PIPELINE ? `, ${FORCED_PIPELINE} pipeline forced` : ''})`, { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let ct; // study detail
  let xss; // study detail
  let jls; // study detail
  const assetTypes = new Map(); // /reading-room/assets/* answered: path -> Content-Type
  const dialogs = [];
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport]');
  const renderedIndex = () => viewport().getAttribute('data-rr-image-index');
  const renders = async () => Number(await viewport().getAttribute('data-rr-renders'));
  /** Presses a key and waits until the viewport has drawn again. */
  const pressAndRender = async (key) => {
    const n = await renders();
    await page.keyboard.press(key);
    await waitFor(async () => (await renders()) > n, 10_000, 50, `a render after ${key}`);
  };
  const waitIndex = (n) => waitFor(async () => (await renderedIndex()) === String(n), 30_000, 100, `image ${n} rendered`);

  /** Grid means (GRID×GRID) of the image region of the viewport canvas: the image is fitted and centred. */
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
          // inner part of each cell (skip a border of 15 %: sub-pixel placement differences)
          const ax = Math.ceil(x0 + ((gx + 0.15) * w) / grid), bx = Math.floor(x0 + ((gx + 0.85) * w) / grid);
          const ay = Math.ceil(y0 + ((gy + 0.15) * hgt) / grid), by = Math.floor(y0 + ((gy + 0.85) * hgt) / grid);
          let sum = 0, n = 0;
          for (let y = ay; y < by; y++) for (let x = ax; x < bx; x++) { sum += data[(y * cw + x) * 4]; n++; }
          out.push(sum / n);
        }
      }
      return { means: out, cw, ch };
    }, { imgW, imgH, grid: GRID });

  /** The same grid over the plugin's PNG. */
  const pngGrid = (png) => {
    const out = [];
    const { width: w, height: hgt, channels, pixels } = png;
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

  const pngBytes = async (orthancId, { center, width }, size) => {
    const res = await fetch(`${orthanc.baseUrl}/api/dicom/instances/${orthancId}/frames/0/png?window=${center},${width}&size=${size}`, {
      headers: orthanc.authHeaders(),
    });
    assert.equal(res.status, 200);
    return decodePng(Buffer.from(await res.arrayBuffer()));
  };

  /**
   * Compares the canvas with the plugin's PNG of the same instance at the same window and size. Polls for up
   * to 5 s: a layout change (the AI panel arriving) resizes the canvas, which clears it until the next render.
   */
  const assertSameImage = async (orthancId, what) => {
    const png = await pngBytes(orthancId, SOFT_TISSUE, 512);
    const expected = pngGrid(png);
    const spread = Math.max(...expected) - Math.min(...expected);
    assert.ok(spread > 40, `${what}: the reference image has contrast (${spread})`);
    let last;
    const deadline = Date.now() + 5000;
    for (;;) {
      const { means, cw, ch } = await canvasGrid(png.width, png.height);
      const diffs = means.map((m, i) => Math.abs(m - expected[i]));
      const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
      const max = Math.max(...diffs);
      last = { mean, max, cw, ch };
      if ((mean < 3 && max < 12) || Date.now() > deadline) break;
      await page.waitForTimeout(100);
    }
    const { mean, max, cw, ch } = last;
    assert.ok(mean < 3 && max < 12, `${what}: canvas ${cw}×${ch} vs PNG ${png.width}×${png.height}: mean |Δ| ${mean.toFixed(2)}, max ${max.toFixed(1)} grey levels`);
    return { mean, max };
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, files);
    const up = await uploadFile(orthanc, XSS_FILE);
    assert.equal(up.status, 200, `POST /instances of xss-tags.dcm: HTTP ${up.status}`);
    const up2 = await uploadFile(orthanc, JPEG_LS_FILE);
    assert.equal(up2.status, 200, `POST /instances of the JPEG-LS file: HTTP ${up2.status}`);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      const n = l.data.reduce((sum, s) => sum + s.instanceCount, 0);
      return l.total === 3 && n === files.length + 2 ? l : false;
    }, 60_000, 200, `3 studies / ${files.length + 2} instances`);
    const ctUid = list.data.find((s) => s.instanceCount === files.length).studyInstanceUid;
    const xssUid = list.data.find((s) => s.patientName.includes('<script>')).studyInstanceUid;
    const jlsUid = list.data.find((s) => s.studyInstanceUid !== ctUid && s.studyInstanceUid !== xssUid).studyInstanceUid;
    jls = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(jlsUid)}`);
    ct = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctUid)}`);
    xss = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(xssUid)}`);

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator
    if (FORCED_PIPELINE) await context.addInitScript((r) => localStorage.setItem('rr.stackRendering', r), FORCED_PIPELINE);
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('response', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/reading-room/assets/')) assetTypes.set(u.pathname, r.headers()['content-type'] ?? '');
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('opens the CT on its first image series without a click, drawn like the plugin draws it', async () => {
    const t0 = Date.now();
    await page.goto(studyUrl(ct.studyInstanceUid));
    await waitIndex(0);
    const firstImageMs = Date.now() - t0;
    const total = ct.series[0].instances.length;
    assert.equal(total, 134);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), `Im 1/${total}`);
    assert.equal(await viewport().getAttribute('data-rr-series-uid'), ct.series[0].seriesInstanceUid);
    // series panel: one button per series, the shown one active, with a thumbnail from the PNG route
    assert.equal(await page.locator('.viewer-series .series-item').count(), ct.series.length);
    assert.equal(await page.locator('.viewer-series .series-item.active').getAttribute('data-series-uid'), ct.series[0].seriesInstanceUid);
    const thumb = page.locator('.viewer-series .series-item.active img.series-thumb');
    assert.match(await thumb.getAttribute('src'), /\/api\/dicom\/instances\/[^/]+\/frames\/0\/png\?size=64$/);
    await waitFor(() => thumb.evaluate((img) => img.complete && img.naturalWidth === 64), 10_000, 100, 'thumbnail loaded');
    assert.match(await page.locator('.viewer-series .series-item.active .series-detail').textContent(), /134 images/);

    // soft-tissue preset (key 1), then the canvas against the plugin's PNG at 40/400, 512 px
    await viewport().focus();
    await pressAndRender(SOFT_TISSUE.key);
    assert.equal(await page.locator('.viewer-overlay .ov-window').textContent(), 'W 400 L 40');
    const r = await assertSameImage(ct.series[0].instances[0].orthancId, 'image 1');
    console.log(`# first image drawn ${firstImageMs} ms after navigation; canvas vs PNG: mean ${r.mean.toFixed(2)}, max ${r.max.toFixed(1)}`);
    // WebGL here is SwiftShader (software): the stack viewport draws with cornerstone's CPU pipeline
    // (viewer-stack-rendering.ts) unless forced, and the page says which pipeline it used
    const renderer = await page.evaluate(() => {
      const gl = document.createElement('canvas').getContext('webgl2');
      const info = gl?.getExtension('WEBGL_debug_renderer_info');
      const name = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : null;
      gl?.getExtension('WEBGL_lose_context')?.loseContext();
      return name;
    });
    assert.match(String(renderer), /SwiftShader/i, 'the browser tests run on software WebGL');
    assert.equal(await viewport().getAttribute('data-rr-rendering'), FORCED_PIPELINE ?? 'cpu');
    await page.screenshot({ path: FORCED_PIPELINE ? SCREENSHOT.replace(/(\.png)?$/, `-${FORCED_PIPELINE}.png`) : SCREENSHOT });
  });

  it('scrolls with the arrow keys to the 67th image, which is the 67th of the API order', async () => {
    const before = await canvasGrid(512, 512);
    for (let i = 0; i < 66; i++) await page.keyboard.press('ArrowDown');
    await waitIndex(66);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), 'Im 67/134');
    await page.waitForTimeout(300);
    const after67 = await canvasGrid(512, 512);
    assert.notDeepEqual(after67.means, before.means, 'the canvas changed');
    await assertSameImage(ct.series[0].instances[66].orthancId, 'image 67');
    // the window is kept while scrolling
    assert.equal(await page.locator('.viewer-overlay .ov-window').textContent(), 'W 400 L 40');
    // slice position: Image Position (Patient) along the slice normal, from the API's instance
    const { imagePositionPatient: p, imageOrientationPatient: o } = ct.series[0].instances[66];
    const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
    const loc = (p[0] * n[0] + p[1] * n[1] + p[2] * n[2]) / Math.hypot(...n);
    const position = await page.locator('.viewer-overlay .ov-position').textContent();
    assert.match(position, /^Loc -?\d+\.\d mm · Thk \d+\.\d mm$/);
    assert.ok(position.startsWith(`Loc ${loc.toFixed(1)} mm`), `${position} vs ${loc}`);
    assert.equal(await page.locator('.viewer-overlay .ov-zoom').textContent(), 'Zoom 100%');
  });

  it('scrolls with the mouse wheel, PgUp/PgDn, End and the scrollbar; a series click loads it', async () => {
    const box = await viewport().boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 100);
    await waitFor(async () => Number(await renderedIndex()) !== 66, 10_000, 100, 'wheel scroll');
    const afterWheel = Number(await renderedIndex());
    assert.ok(afterWheel === 67 || afterWheel === 65, `one image on from 66: ${afterWheel}`);
    await page.keyboard.press('PageUp');
    await waitIndex(afterWheel - 10);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), `Im ${afterWheel - 9}/134`);
    await page.keyboard.press('End');
    await waitIndex(133);
    // the scrollbar follows the keys, and moves the stack
    const bar = page.locator('.viewer-stage input.viewer-scroll[type="range"]');
    assert.equal(await bar.inputValue(), '133');
    assert.equal(await bar.getAttribute('max'), '133');
    await bar.fill('100');
    await waitIndex(100);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), 'Im 101/134');
    // a click on a series in the panel loads it from its first image
    await page.locator(`.viewer-series .series-item[data-series-uid="${ct.series[0].seriesInstanceUid}"]`).click();
    await waitIndex(0);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), 'Im 1/134');
    assert.ok(await viewport().evaluate((el) => el === document.activeElement), 'the viewport has the keyboard after the click');
    await page.waitForTimeout(300);
  });

  it('window presets, invert and reset', async () => {
    await pressAndRender('2');
    assert.equal(await page.locator('.viewer-overlay .ov-window').textContent(), 'W 1500 L -600');
    const lung = await canvasGrid(512, 512);
    await pressAndRender('i');
    const inverted = await canvasGrid(512, 512);
    const sumInv = lung.means.reduce((a, m, i) => a + Math.abs(255 - m - inverted.means[i]), 0) / lung.means.length;
    assert.ok(sumInv < 3, `inverted image is 255 − image (mean |Δ| ${sumInv.toFixed(2)})`);
    const cell = (g, x, y) => g.means[y * GRID + x];
    const meanDiff = (g, f) => {
      let sum = 0;
      for (let y = 0; y < GRID; y++) for (let x = 0; x < GRID; x++) sum += Math.abs(cell(g, x, y) - f(x, y));
      return sum / (GRID * GRID);
    };
    await pressAndRender('h');
    const flipped = await canvasGrid(512, 512);
    const dFlip = meanDiff(flipped, (x, y) => cell(inverted, GRID - 1 - x, y));
    assert.ok(dFlip < 3, `H mirrors left-right (mean |Δ| ${dFlip.toFixed(2)})`);
    await pressAndRender('h');
    await pressAndRender('v');
    const flippedV = await canvasGrid(512, 512);
    const dFlipV = meanDiff(flippedV, (x, y) => cell(inverted, x, GRID - 1 - y));
    assert.ok(dFlipV < 3, `V mirrors top-bottom (mean |Δ| ${dFlipV.toFixed(2)})`);
    await pressAndRender('v');
    await pressAndRender('t');
    const rotated = await canvasGrid(512, 512);
    // clockwise: what was on the left is now at the top
    const dRot = meanDiff(rotated, (x, y) => cell(inverted, y, GRID - 1 - x));
    assert.ok(dRot < 3, `T rotates by 90° clockwise (mean |Δ| ${dRot.toFixed(2)})`);
    await pressAndRender('r');
    await pressAndRender(SOFT_TISSUE.key);
    assert.equal(await page.locator('.viewer-overlay .ov-window').textContent(), 'W 400 L 40');
    await assertSameImage(ct.series[0].instances[0].orthancId, 'after reset');
  });

  it('orientation markers from Image Orientation (Patient), following rotation and flips', async () => {
    // the CT is axial (row along +x, column along +y): radiological convention, patient right on the screen's left, anterior on top
    assert.deepEqual(ct.series[0].instances[0].imageOrientationPatient, [1, 0, 0, 0, 1, 0]);
    const markers = () => page.evaluate(() => Object.fromEntries(['top', 'bottom', 'left', 'right'].map((e) =>
      [e, document.querySelector(`.viewer-overlay .ov-orient-${e}`)?.textContent ?? null])));
    assert.deepEqual(await markers(), { top: 'A', bottom: 'P', left: 'R', right: 'L' });
    // where the labels are drawn: each near its edge of the viewport
    const box = await viewport().boundingBox();
    const at = async (e) => page.locator(`.viewer-overlay .ov-orient-${e}`).boundingBox();
    assert.ok((await at('left')).x < box.x + box.width / 4 && (await at('right')).x > box.x + (3 * box.width) / 4, 'left/right edges');
    assert.ok((await at('top')).y < box.y + box.height / 4 && (await at('bottom')).y > box.y + (3 * box.height) / 4, 'top/bottom edges');
    await pressAndRender('t'); // clockwise: the left edge goes to the top
    assert.deepEqual(await markers(), { top: 'R', bottom: 'L', left: 'P', right: 'A' });
    await pressAndRender('r');
    assert.deepEqual(await markers(), { top: 'A', bottom: 'P', left: 'R', right: 'L' });
    await pressAndRender('h');
    assert.deepEqual(await markers(), { top: 'A', bottom: 'P', left: 'L', right: 'R' });
    await pressAndRender('v');
    assert.deepEqual(await markers(), { top: 'P', bottom: 'A', left: 'L', right: 'R' });
    await pressAndRender('r');
    assert.deepEqual(await markers(), { top: 'A', bottom: 'P', left: 'R', right: 'L' });
  });

  it('cine: Space plays the stack at the fps control\'s rate (10 without a rate in the file), Space pauses', async () => {
    const fps = page.locator('.viewer-cine input.viewer-fps[type="number"]');
    assert.equal(await fps.inputValue(), '10');
    await viewport().focus();
    const start = Number(await renderedIndex());
    await page.keyboard.press('Space');
    assert.equal(await viewport().getAttribute('data-rr-cine'), 'playing');
    await waitFor(async () => Number(await renderedIndex()) >= start + 3, 10_000, 50, 'cine advanced three images');
    assert.equal(await page.locator('.viewer-overlay .ov-cine').textContent(), 'Cine 10 fps');
    await page.keyboard.press('Space');
    assert.equal(await viewport().getAttribute('data-rr-cine'), null);
    await page.waitForTimeout(300); // a frame asked for before the pause may still be drawn
    const paused = await renderedIndex();
    await page.waitForTimeout(800);
    assert.equal(await renderedIndex(), paused, 'the index stays after the pause');
    assert.equal(await page.locator('.viewer-overlay .ov-cine').textContent(), '');
    // loops from the last image back to the first
    await page.keyboard.press('End');
    await waitIndex(133);
    await page.keyboard.press('Space');
    await waitFor(async () => Number(await renderedIndex()) < 133, 10_000, 50, 'cine looped to the start');
    await page.keyboard.press('Space');
    await page.keyboard.press('Home');
    await waitIndex(0);
  });

  it('scale bar in mm from Pixel Spacing, following zoom', async () => {
    // the CT: Pixel Spacing 1.07421875 mm, 512 × 512, fitted into the viewport's shorter side
    const SPACING = 1.07421875;
    const bar = page.locator('.viewer-overlay .ov-scale');
    const read = async () => {
      const mm = Number(await bar.getAttribute('data-rr-mm'));
      const px = (await page.locator('.viewer-overlay .ov-scale-bar').boundingBox()).width;
      return { mm, px, label: await page.locator('.viewer-overlay .ov-scale-label').textContent() };
    };
    const fit = await viewport().evaluate((el) => Math.min(el.clientWidth, el.clientHeight));
    const a = await read();
    assert.equal(a.label, `${a.mm} mm`);
    const expected = (512 * SPACING) / fit; // mm per screen pixel at 100 %
    assert.ok(Math.abs(a.mm / a.px - expected) / expected < 0.03, `${a.mm} mm over ${a.px} px vs ${expected} mm/px`);
    // Ctrl+wheel zooms in by 1.1: a screen pixel now stands for 1/1.1 of the mm
    const box = await viewport().boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const n = await renders();
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await waitFor(async () => (await renders()) > n, 10_000, 50, 'a render after zooming');
    assert.equal(await page.locator('.viewer-overlay .ov-zoom').textContent(), 'Zoom 110%');
    const b = await read();
    assert.ok(Math.abs(b.mm / b.px - expected / 1.1) / expected < 0.03, `zoomed: ${b.mm} mm over ${b.px} px`);
    await pressAndRender('r');
  });

  it('shows the XSS file\'s payloads as text in the overlay and runs nothing', async () => {
    await page.goto(studyUrl(xss.studyInstanceUid));
    await waitIndex(0);
    const patient = await page.locator('.viewer-overlay .ov-patient').textContent();
    const series = await page.locator('.viewer-overlay .ov-series').textContent();
    assert.ok(patient.includes('<script>alert("xss-patient")</script>'), patient);
    assert.ok(series.includes('<svg onload=alert("xss-series")>'), series);
    assert.ok((await page.locator('.viewer-series .series-title').first().textContent()).includes('<svg'));
    // nothing of the payloads became markup (cornerstone's own SVG annotation layer has no children)
    assert.equal(await page.locator('.viewer-overlay *:not(div), .viewer-series svg, .viewer script, svg[onload], svg svg').count(), 0);
    assert.equal(await page.locator('.viewer-overlay .ov-image').textContent(), 'Im 1/1');
  });

  it('decodes a JPEG-LS file in a web worker with the WASM codec, like the plugin', async () => {
    assert.equal(jls.series[0].instances[0].transferSyntaxUid, '1.2.840.10008.1.2.4.80');
    await page.goto(studyUrl(jls.studyInstanceUid));
    await waitIndex(0);
    await viewport().focus();
    await pressAndRender(SOFT_TISSUE.key);
    await assertSameImage(jls.series[0].instances[0].orthancId, 'JPEG-LS');
    const wasm = [...assetTypes].filter(([p]) => p.endsWith('.wasm'));
    const workers = [...assetTypes].filter(([p]) => /decodeImageFrameWorker-[^/]+\.js$/.test(p));
    assert.ok(wasm.length >= 1, `a WASM codec was fetched: ${[...assetTypes.keys()].join(', ')}`);
    assert.ok(workers.length >= 1, 'the decode worker was fetched');
    for (const [p, type] of wasm) assert.equal(type, 'application/wasm', p);
    for (const [p, type] of workers) assert.match(type, /^text\/javascript/, p);
  });

  it('leaves the page cleanly: the viewer is torn down, no dialog, no page error', async () => {
    await page.locator('a.back').click();
    await page.locator('tbody tr.study-row').first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.viewer-viewport').count(), 0);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
