// Browser test of the viewer's measurements, annotations and key images (issue 10; WebViewer/src/viewer-measure*.ts,
// viewer-annotations*.ts): real Orthanc + plugin (the annotation store and its REST routes), Debian's chromium
// with software WebGL. A length drawn with the mouse across a known number of image pixels reads that many times
// the file's Pixel Spacing; a rectangle ROI reads the HU statistics computed here from Orthanc's raw pixels; undo
// and redo; key images; a save that fails shows "Not saved — retrying", survives a reload while failing and is
// saved once the server is reachable again; everything survives a reload and a restart of Orthanc; another
// radiologist sees it read-only.
// Run: cd Tests && npm ci && node --test browser/viewer-measure.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dicomFilesOf, fetchIdempotent, storescu, startOrthanc, waitFor } from '../lib/orthanc.mjs';
import { launchChromium } from '../lib/browser.mjs';

const CT_FOLDER = 'ct_abdomen_pancreas_134';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const RAD2 = { username: 'rad.second', password: 'Rad-Second-Password-2026!', role: 'radiologist', displayName: 'Dr Second' };
const SIZE = 512; // the CT's rows and columns

describe('Reading Room viewer measurements (browser)', { timeout: 420_000 }, () => {
  let orthanc;
  let browser;
  let context;
  let page;
  let ct; // study detail
  let spacing; // [row, column] mm
  let plane; // the first image's position and orientation
  const pageErrors = [];

  const studyUrl = () => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(ct.studyInstanceUid)}`;
  const viewport = (p = page) => p.locator('.viewer-viewport[data-rr-viewport]').first();
  const chip = (p = page) => p.locator('.measure-save-chip');
  const rows = (p = page) => p.locator('.viewer-measure-panel li[data-rr-annotation-uid]');
  const stored = () => orthanc.json(`/api/dicom/studies/${encodeURIComponent(ct.studyInstanceUid)}/annotations`);
  const waitSaved = (p = page, ms = 20_000) => waitFor(async () => (await chip(p).getAttribute('data-rr-save-state')) === 'saved', ms, 100, '"Saved"');
  /** After a change: the viewer records it once the mouse has been still for 400 ms, then saves it. */
  const settle = async (p = page) => {
    await p.waitForTimeout(700);
    await waitSaved(p);
  };

  /** Opens the study and waits for its first image; the viewer fits the 512² image into the canvas. */
  const open = async (p = page) => {
    await p.goto(studyUrl());
    await waitFor(async () => (await viewport(p).getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'first image drawn');
  };

  /** Screen position of an image coordinate (pixel (i, j) spans [i, i+1) × [j, j+1)) in the fitted, centred image. */
  const screenOf = async (ix, iy, p = page) => {
    const box = await viewport(p).boundingBox();
    const { cw, ch } = await p.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas');
      return { cw: c.clientWidth, ch: c.clientHeight };
    });
    const scale = Math.min(cw / SIZE, ch / SIZE);
    return { x: box.x + (cw - SIZE * scale) / 2 + ix * scale, y: box.y + (ch - SIZE * scale) / 2 + iy * scale, scale };
  };

  const drag = async (from, to) => {
    const a = await screenOf(...from);
    const b = await screenOf(...to);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 4 });
    await page.mouse.move(b.x, b.y, { steps: 4 });
    await page.mouse.up();
  };

  const setPanel = async (open, p = page) => {
    const panel = p.locator('.viewer-measure-panel');
    if ((await panel.isVisible()) !== open) await p.locator('button[data-rr-tool="measure-panel"]').click();
    await waitFor(async () => (await panel.isVisible()) === open, 5000, 50, `panel ${open ? 'open' : 'closed'}`);
  };

  /** The raw stored values of the first CT image (Orthanc's frames/0/raw: uncompressed 16-bit little endian). */
  const hounsfield = async () => {
    const { res, body: buf } = await fetchIdempotent(`${orthanc.baseUrl}/instances/${ct.series[0].instances[0].orthancId}/frames/0/raw`, { headers: orthanc.authHeaders() });
    assert.equal(res.status, 200);
    assert.equal(buf.length, SIZE * SIZE * 2);
    const tags = await orthanc.json(`/instances/${ct.series[0].instances[0].orthancId}/simplified-tags`);
    const slope = Number(tags.RescaleSlope ?? 1);
    const intercept = Number(tags.RescaleIntercept ?? 0);
    const signed = String(tags.PixelRepresentation) === '1';
    return (i, j) => (signed ? buf.readInt16LE((j * SIZE + i) * 2) : buf.readUInt16LE((j * SIZE + i) * 2)) * slope + intercept;
  };

  /**
   * Image coordinates of a world point (LPS mm) on the first image, computed here from the file's Image
   * Position/Orientation (Patient) and Pixel Spacing: x along a row, the centre of pixel i at i + 0.5.
   */
  const imageOf = (p) => {
    const d = [0, 1, 2].map((k) => p[k] - plane.ipp[k]);
    const dot = (a, o) => a[0] * o[0] + a[1] * o[1] + a[2] * o[2];
    return [dot(d, plane.iop.slice(0, 3)) / spacing[1] + 0.5, dot(d, plane.iop.slice(3, 6)) / spacing[0] + 0.5];
  };

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const files = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, files);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 && l.data[0].instanceCount === files.length ? l : false;
    }, 60_000, 200, 'the CT stored');
    ct = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data[0].studyInstanceUid)}`);
    const tags = await orthanc.json(`/instances/${ct.series[0].instances[0].orthancId}/simplified-tags`);
    spacing = String(tags.PixelSpacing).split('\\').map(Number);
    assert.equal(spacing.length, 2);
    const nums = (v) => String(v).split('\\').map(Number);
    plane = { ipp: nums(tags.ImagePositionPatient), iop: nums(tags.ImageOrientationPatient) };
    await orthanc.createUser(RAD2);

    browser = await launchChromium({ webgl: true });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator: "annotate"
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${e?.name}: ${e?.message}\n${e?.stack ?? ''}`));
    page.on('dialog', (d) => d.dismiss().catch(() => {}));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('a length drawn across 200 image pixels reads 200 × the Pixel Spacing in mm, and is saved', async () => {
    await open();
    assert.equal(await stored().then((s) => s.data.length), 0);
    await viewport().focus();
    await page.keyboard.press('d');
    assert.equal(await page.locator('button[data-rr-tool="Length"]').getAttribute('aria-pressed'), 'true');
    await drag([100.25, 256.5], [300.25, 256.5]);
    await settle();
    const want = 200 * spacing[1];
    const s = await stored();
    assert.equal(s.data.length, 1);
    const a = s.data[0];
    assert.equal(a.tool, 'Length');
    assert.equal(a.sopInstanceUid, ct.series[0].instances[0].sopInstanceUid);
    assert.equal(a.seriesInstanceUid, ct.series[0].seriesInstanceUid);
    assert.equal(a.frame, 1);
    assert.equal(a.author, 'admin');
    assert.equal(a.data.unitSource, 'PixelSpacing');
    assert.equal(a.data.points.length, 2);
    const { scale } = await screenOf(0, 0);
    const tolerance = (1 / scale) * spacing[1] + 0.05; // one screen pixel of mouse placement
    // the stored world points are the length's ends: their distance (LPS mm) is the value
    const [p, q] = a.data.points;
    assert.ok(Math.abs(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) - a.data.stats.length) < 0.01);
    const [ip, iq] = [imageOf(p), imageOf(q)];
    assert.ok(Math.abs(ip[0] - 100.25) < 1 / scale + 0.01 && Math.abs(iq[0] - 300.25) < 1 / scale + 0.01, `ends at x ${ip[0]}, ${iq[0]}`);
    assert.ok(Math.abs(a.data.stats.length - want) < tolerance, `stored ${a.data.stats.length} mm vs ${want} mm`);
    await setPanel(true);
    assert.equal(await rows().count(), 1);
    const shown = await rows().first().locator('.measure-value').textContent();
    const mm = Number(/^([\d.]+) mm$/.exec(shown)?.[1]);
    assert.ok(Math.abs(mm - want) < tolerance + 0.05, `panel "${shown}" vs ${want.toFixed(1)} mm`);
    assert.equal(await rows().first().locator('.measure-where').textContent(), `Se ${ct.series[0].seriesNumber}, Im 1 · admin`);
    await setPanel(false);
  });

  it('a rectangle ROI reads the HU statistics of the decoded pixels', async () => {
    const hu = await hounsfield();
    await viewport().focus();
    await page.keyboard.press('x');
    // corners a quarter pixel into pixels 200 and 240 (x), 180 and 210 (y): pixels 200…239 × 180…209 inside
    await drag([200.25, 180.25], [240.25, 210.25]);
    await settle();
    const s = await stored();
    const roi = s.data.find((x) => x.tool === 'RectangleROI');
    assert.ok(roi, 'the ROI is stored');
    // where the corners landed (within a screen pixel of the mouse), then the statistics of exactly the
    // pixels whose centres lie inside them, from Orthanc's raw pixels and the file's rescale
    const corners = roi.data.points.map(imageOf);
    const xs = corners.map((c) => c[0]);
    const ys = corners.map((c) => c[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const { scale } = await screenOf(0, 0);
    for (const [got, want] of [[x0, 200.25], [x1, 240.25], [y0, 180.25], [y1, 210.25]]) assert.ok(Math.abs(got - want) < 1 / scale + 0.01, `corner at ${got} vs ${want}`);
    const values = [];
    for (let j = 0; j < SIZE; j++) for (let i = 0; i < SIZE; i++) if (i + 0.5 > x0 && i + 0.5 < x1 && j + 0.5 > y0 && j + 0.5 < y1) values.push(hu(i, j));
    assert.ok(values.length > 900, `${values.length} pixels`);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    const st = roi.data.stats;
    assert.equal(st.valueUnit, 'HU');
    assert.ok(Math.abs(st.mean - mean) < 0.05, `mean ${st.mean} vs ${mean} HU`);
    assert.ok(Math.abs(st.sd - sd) < 0.05, `SD ${st.sd} vs ${sd} HU`);
    assert.equal(st.min, Math.min(...values));
    assert.equal(st.max, Math.max(...values));
    const area = (x1 - x0) * spacing[1] * (y1 - y0) * spacing[0];
    assert.ok(Math.abs(st.area - area) < 0.01 * area, `area ${st.area} vs ${area} mm²`);
    await setPanel(true);
    const text = await page.locator(`li[data-rr-annotation-uid="${roi.annotationUid}"] .measure-value`).textContent();
    assert.match(text, /Area [\d.]+ mm² · Mean -?[\d.]+ HU · SD [\d.]+ HU · Min -?\d+ HU · Max -?\d+ HU/);
    const shownMean = Number(/Mean (-?[\d.]+) HU/.exec(text)[1]);
    assert.ok(Math.abs(shownMean - mean) < 1.5, `panel mean ${shownMean} vs ${mean}`);
    console.log(`# ROI 40×30 px: mean ${mean.toFixed(2)} HU (viewer ${st.mean.toFixed(2)}), SD ${sd.toFixed(2)} (viewer ${st.sd.toFixed(2)})`);
  });

  it('undo and redo: add, relabel, delete (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y, the panel)', async () => {
    const roiUid = (await stored()).data.find((x) => x.tool === 'RectangleROI').annotationUid;
    await viewport().focus();
    await page.keyboard.press('Control+z'); // the ROI's addition undone
    await waitFor(async () => (await rows().count()) === 1, 5000, 50, 'ROI gone from the panel');
    await settle();
    assert.deepEqual((await stored()).data.map((x) => x.tool), ['Length']);
    await page.keyboard.press('Control+Shift+z');
    await waitFor(async () => (await rows().count()) === 2, 5000, 50, 'ROI back');
    await settle();
    assert.equal((await stored()).data.length, 2);

    // relabel in the panel, then undo/redo it
    const row = page.locator(`li[data-rr-annotation-uid="${roiUid}"]`);
    await row.locator('button[data-rr-act="label"]').click();
    await page.locator('input.measure-label-input').fill('liver ROI');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await row.locator('.measure-label').textContent()) === 'liver ROI', 5000, 50, 'new label');
    await settle();
    assert.equal((await stored()).data.find((x) => x.annotationUid === roiUid).label, 'liver ROI');
    await viewport().focus();
    await page.keyboard.press('Control+z');
    await settle();
    await waitFor(async () => (await stored()).data.find((x) => x.annotationUid === roiUid).label === '', 10_000, 100, 'label undone on the server');
    await page.keyboard.press('Control+y');
    await settle();
    await waitFor(async () => (await stored()).data.find((x) => x.annotationUid === roiUid).label === 'liver ROI', 10_000, 100, 'label redone');

    // delete in the panel; undo brings it back with the same UID
    await row.locator('button[data-rr-act="delete"]').click();
    await waitFor(async () => (await rows().count()) === 1, 5000, 50, 'deleted');
    await settle();
    assert.equal((await stored()).data.length, 1);
    await viewport().focus();
    await page.keyboard.press('Control+z');
    await settle();
    await waitFor(async () => (await stored()).data.some((x) => x.annotationUid === roiUid && x.label === 'liver ROI'), 10_000, 100, 'restored');
    assert.equal(await rows().count(), 2);
  });

  it('K marks and unmarks the shown image as a key image', async () => {
    await viewport().focus();
    await page.keyboard.press('Escape'); // back to window/level
    assert.equal(await page.locator('button[data-rr-tool="wl"]').getAttribute('aria-pressed'), 'true');
    await viewport().focus();
    await page.keyboard.press('k');
    await waitFor(() => page.locator('.ov-key-image').first().isVisible(), 5000, 50, 'star shown');
    await settle();
    let s = await stored();
    assert.deepEqual(s.keyImages.map((k) => [k.sopInstanceUid, k.frame]), [[ct.series[0].instances[0].sopInstanceUid, 1]]);
    assert.equal(await page.locator('.viewer-measure-panel li[data-rr-key-image]').count(), 1);
    await page.keyboard.press('k');
    await waitFor(async () => !(await page.locator('.ov-key-image').first().isVisible()), 5000, 50, 'star gone');
    await settle();
    s = await stored();
    assert.equal(s.keyImages.length, 0);
    // the 3rd image marked; the panel's row shows it
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '2', 10_000, 50, 'image 3');
    await page.keyboard.press('k');
    await settle();
    assert.deepEqual((await stored()).keyImages.map((k) => k.sopInstanceUid), [ct.series[0].instances[2].sopInstanceUid]);
    await page.keyboard.press('Home');
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 10_000, 50, 'image 1');
    assert.equal(await page.locator('.ov-key-image').first().isVisible(), false);
    await page.locator('.viewer-measure-panel li[data-rr-key-image] button').click();
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '2', 10_000, 50, 'the key image shown from the panel');
    await waitFor(() => page.locator('.ov-key-image').first().isVisible(), 5000, 50, 'its star');
  });

  it('a failed save shows "Not saved — retrying", survives a reload while failing, and is saved when the server answers again', async () => {
    const block = (route) => (route.request().method() === 'GET' ? route.continue() : route.abort('connectionrefused'));
    await page.route('**/api/dicom/studies/*/annotations/*', block);
    await viewport().focus();
    await page.keyboard.press('Home'); // the first image (the key-image test left the third shown)
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 10_000, 50, 'image 1');
    await page.keyboard.press('p'); // probe
    const at = await screenOf(256.5, 320.5); // off the length (y 256.5) and the ROI
    await page.mouse.click(at.x, at.y);
    await waitFor(async () => (await chip().textContent()) === 'Not saved — retrying', 15_000, 100, '"Not saved — retrying"');
    assert.equal(await chip().getAttribute('data-rr-save-state'), 'retrying');
    assert.equal((await stored()).data.length, 2, 'nothing reached the server');
    const kept = await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('rr.annotations.pending.')));
    assert.equal(kept.length, 1, 'the pending change is kept in localStorage');

    // a reload while the server is still unreachable keeps the probe (replayed from localStorage)
    await open();
    await setPanel(true);
    await waitFor(async () => (await rows().count()) === 3, 10_000, 100, 'the unsaved probe is still listed after a reload');
    await waitFor(async () => (await chip().textContent()) === 'Not saved — retrying', 15_000, 100, 'still retrying after the reload');

    await page.unroute('**/api/dicom/studies/*/annotations/*', block);
    await waitSaved(page, 40_000);
    const s = await stored();
    assert.deepEqual(s.data.map((x) => x.tool).sort(), ['Length', 'Probe', 'RectangleROI']);
    const probe = s.data.find((x) => x.tool === 'Probe');
    assert.equal(probe.sopInstanceUid, ct.series[0].instances[0].sopInstanceUid);
    const hu = await hounsfield();
    const [px, py] = imageOf(probe.data.points[0]);
    assert.equal(probe.data.stats.value, hu(Math.floor(px), Math.floor(py)), `the probe reads the pixel under it (${px}, ${py})`);
    assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('rr.annotations.pending.')).length), 0);
  });

  it('measurements and key images survive a reload and a restart of Orthanc', async () => {
    const before = await stored();
    await orthanc.restart();
    const afterRestart = await stored();
    assert.deepEqual(afterRestart, before);
    await open();
    await setPanel(true);
    await waitFor(async () => (await rows().count()) === 3, 15_000, 100, 'three measurements listed');
    const values = await rows().locator('.measure-value').allTextContents();
    assert.ok(values.some((v) => /^[\d.]+ mm$/.test(v)), values.join(' | '));
    assert.ok(values.some((v) => /Mean -?[\d.]+ HU/.test(v)), values.join(' | '));
    assert.ok(await page.locator('li[data-rr-annotation-uid] .measure-label', { hasText: 'liver ROI' }).count() === 1);
    assert.equal(await page.locator('.viewer-measure-panel li[data-rr-key-image]').count(), 1);
    assert.equal(await rows().first().getAttribute('data-rr-readonly'), 'false', 'own measurements stay editable');
    assert.equal(await chip().getAttribute('data-rr-save-state'), 'saved');
  });

  it('a change made elsewhere meanwhile (412) shows the stored version and says so', async () => {
    const length = (await stored()).data.find((x) => x.tool === 'Length');
    const { annotationUid, seriesInstanceUid, sopInstanceUid, frame, tool, data } = length;
    const put = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(ct.studyInstanceUid)}/annotations/${annotationUid}`, {
      method: 'PUT',
      body: { annotationUid, seriesInstanceUid, sopInstanceUid, frame, tool, label: 'changed elsewhere', data },
    });
    assert.equal(put.status, 200, put.text);
    // this page still holds the older version: its edit is refused (If-Match) and the stored one comes back
    const row = page.locator(`li[data-rr-annotation-uid="${annotationUid}"]`);
    await row.locator('button[data-rr-act="label"]').click();
    await page.locator('input.measure-label-input').fill('mine');
    await page.keyboard.press('Enter');
    await waitFor(async () => /Changed elsewhere/.test(await page.locator('.measure-notice').textContent()), 15_000, 100, 'the conflict said');
    await waitFor(async () => (await row.locator('.measure-label').textContent()) === 'changed elsewhere', 10_000, 100, 'the stored label shown');
    await settle();
    assert.equal((await stored()).data.find((x) => x.annotationUid === annotationUid).label, 'changed elsewhere');
  });

  it('another radiologist sees them read-only', async () => {
    const other = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      await other.addCookies(await orthanc.browserCookies(RAD2.username, RAD2.password));
      const p2 = await other.newPage();
      p2.on('pageerror', (e) => pageErrors.push(`rad2: ${e?.name}: ${e?.message}\n${e?.stack ?? ''}`));
      await open(p2);
      await setPanel(true, p2);
      await waitFor(async () => (await rows(p2).count()) === 3, 15_000, 100, 'three measurements listed for the other radiologist');
      for (const ro of await rows(p2).evaluateAll((els) => els.map((e) => e.getAttribute('data-rr-readonly')))) assert.equal(ro, 'true');
      assert.equal(await p2.locator('.viewer-measure-panel button[data-rr-act]').count(), 0, 'no Label or Delete');
      assert.match(await rows(p2).first().locator('.measure-where').textContent(), /admin$/);
      // they may still draw their own: the tools are there
      assert.equal(await p2.locator('button[data-rr-tool="Length"]').count(), 1);
      // a drag on the end of someone else's length does not move it (locked)
      const length = (await stored()).data.find((x) => x.tool === 'Length');
      const end = imageOf(length.data.points[1]);
      const from = await screenOf(end[0], end[1], p2);
      await p2.mouse.move(from.x, from.y);
      await p2.mouse.down();
      await p2.mouse.move(from.x + 30, from.y + 30, { steps: 5 });
      await p2.mouse.up();
      await p2.waitForTimeout(800);
      assert.deepEqual((await stored()).data.find((x) => x.tool === 'Length').data.points, length.data.points);
      // and Delete on a selected annotation of someone else changes nothing
      await viewport(p2).focus();
      await p2.keyboard.press('Delete');
      await p2.waitForTimeout(600);
      assert.equal((await stored()).data.length, 3);
    } finally {
      await other.close();
    }
    // cornerstone's image loader rejects with its XMLHttpRequest when a download fails (Orthanc restarting, a
    // reload cancelling the prefetch): not an error of the measurement code
    assert.deepEqual(pageErrors.filter((e) => !/XMLHttpRequest/.test(e)), []);
  });
});
