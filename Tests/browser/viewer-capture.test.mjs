// Browser test of the viewer's "Capture" and of who gets a viewer (issue 10, "Roles"): real Orthanc + plugin,
// Debian's chromium with software WebGL, playwright-core.
// - The PNG saved by "Capture" (playwright's download event) has the size of the viewport's canvas and its
//   pixels (sampled); by default it carries no overlay text, "with overlays" (Shift+S) draws the texts, so the
//   PNG differs where they are and nowhere else; each capture is on the audit trail (viewer.capture, SOP
//   Instance UID, frame, burnedIn) before the file is saved; a capture the server cannot record (its store is
//   locked) saves no file and says so.
// - The capture route checks its body and the image; technicians may not call it.
// - A referring physician is refused a study (no final report yet, issue 12): the page shows the refusal
//   and no viewer, and Orthanc's /instances and /wado refuse the images. A technician gets no study page.
// Run: cd Tests && npm ci && node --test browser/viewer-capture.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodePng } from '../lib/png.mjs';
import { dicomFilesOf, lockDatabase, startOrthanc, storescu, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const FOLDER = 'mr_brain_t1post_24';
const USERS = {
  phys: { username: 'phys.capture', password: 'Phys-Capture-2026!', role: 'physician', displayName: 'Physician' },
  tech: { username: 'tech.capture', password: 'Tech-Capture-2026!', role: 'technician', displayName: 'Technician' },
};

describe('Reading Room viewer: capture and roles (browser)', { timeout: 240_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let study; // study detail
  let plain; // the PNG without overlays: { png, name }
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport]');
  const captures = async () => (await orthanc.json('/api/audit?action=viewer.capture&limit=100')).data;

  /** Every pixel of the viewport's canvas, as RGBA, with its size. */
  const canvasPixels = () =>
    page.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas');
      const d = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, c.width, c.height).data;
      return { width: c.width, height: c.height, data: Array.from(d) };
    });

  /** Clicks or presses, waits for the download, returns the decoded PNG and the file name. */
  const download = async (act) => {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), act()]);
    const file = await dl.path();
    // kept for a look when asked: RR_CAPTURE_DIR=/tmp
    if (process.env.RR_CAPTURE_DIR) await dl.saveAs(path.join(process.env.RR_CAPTURE_DIR, `rr-${dl.suggestedFilename()}`));
    return { png: decodePng(await fs.readFile(file)), name: dl.suggestedFilename() };
  };

  before(async () => {
    orthanc = await startOrthanc({
      readingRoom: { ...(WEBAPP_DIR ? { WebAppDirectory: WEBAPP_DIR } : {}), Store: { SQLite: { BusyTimeoutMs: 200 } } },
    });
    for (const u of Object.values(USERS)) await orthanc.createUser(u);
    const files = await dicomFilesOf(FOLDER);
    await storescu(orthanc, files);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 && l.data[0].instanceCount === files.length ? l : false;
    }, 60_000, 200, `the study with ${files.length} instances`);
    study = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data[0].studyInstanceUid)}`);
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    await context.addCookies(await orthanc.browserCookies()); // the administrator
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('saves the image only, with the canvas size and pixels, after the audit record', async () => {
    await page.goto(studyUrl(study.studyInstanceUid));
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'image 1 drawn');
    await viewport().focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '4', 20_000, 100, 'image 5 drawn');
    await page.waitForTimeout(500); // the background prefetch does not redraw the shown image
    // full viewer exactly when the server lists "annotate" for the administrator (viewer-mode.ts)
    const caps = await page.evaluate(async () => (await (await fetch('/api/auth/me', { headers: { 'X-Requested-With': 'XMLHttpRequest' } })).json()).capabilities);
    assert.equal(await page.locator('.viewer').getAttribute('data-rr-mode'), caps.includes('annotate') ? 'full' : 'basic', JSON.stringify(caps));
    const canvas = await canvasPixels();
    assert.ok(canvas.width > 100 && canvas.height > 100, `canvas ${canvas.width}×${canvas.height}`);

    const before = (await captures()).length;
    plain = await download(() => page.locator('[data-rr-tool="capture"]').click());
    // the record is there when the file arrives: the server answered only after writing it
    const records = await captures();
    assert.equal(records.length, before + 1);
    const sop = study.series[0].instances[4].sopInstanceUid;
    assert.equal(records[0].resource, study.studyInstanceUid);
    assert.equal(records[0].detail, `sop=${sop} frame=1 burnedIn=false`);
    assert.equal(records[0].username, 'admin');
    assert.equal(records[0].outcome, 'success');
    assert.equal(plain.name, `capture-series${study.series[0].seriesNumber ?? 'x'}-image5.png`);

    const { png } = plain;
    assert.equal(png.width, canvas.width);
    assert.equal(png.height, canvas.height);
    assert.equal(png.channels, 4);
    let checked = 0;
    let bright = 0;
    for (let y = 3; y < png.height; y += 17) {
      for (let x = 5; x < png.width; x += 13) {
        const i = (y * png.width + x) * 4;
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(png.pixels[i + c] - canvas.data[i + c]) <= 1, `pixel ${x},${y} channel ${c}`);
        if (canvas.data[i] > 60) bright++;
        checked++;
      }
    }
    assert.ok(bright > checked / 20, `the image is drawn (${bright} of ${checked} samples bright)`);
    assert.match(await page.locator('.viewer-capture-msg').textContent(), /^Saved capture-series.*\(image only\)\.$/);
  });

  it('with overlays (Shift+S) draws the texts: the PNG differs where they are, and nowhere else', async () => {
    // the image as it is drawn now, once the canvas holds still (two reads 300 ms apart alike: a redraw between
    // the two captures would show as a difference in the middle), captured without and with the texts
    const sameCanvas = (a, b) => a.width === b.width && a.height === b.height && a.data.every((v, i) => v === b.data[i]);
    let last = await canvasPixels();
    for (let t0 = Date.now(); Date.now() - t0 < 10_000;) {
      await page.waitForTimeout(300);
      const now = await canvasPixels();
      if (sameCanvas(now, last)) break;
      last = now;
    }
    plain = await download(() => page.locator('[data-rr-tool="capture"]').click());
    const withText = await download(() => page.keyboard.press('Shift+S'));
    assert.match(withText.name, /-overlays\.png$/);
    const [record] = await captures();
    assert.match(record.detail, / burnedIn=true$/);
    const { png } = withText;
    assert.equal(png.width, plain.png.width);
    assert.equal(png.height, plain.png.height);
    // the patient line's box (top left), in canvas pixels
    const box = await page.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas').getBoundingClientRect();
      const el = document.querySelector('.viewer-overlay .ov-patient');
      const r = document.createRange();
      r.selectNodeContents(el);
      const t = r.getBoundingClientRect();
      const s = document.querySelector('.viewer-viewport canvas').width / c.width;
      return { x0: (t.left - c.left) * s, y0: (t.top - c.top) * s, x1: (t.right - c.left) * s, y1: (t.bottom - c.top) * s, text: el.textContent };
    });
    assert.ok(box.text.length > 0 && box.x1 - box.x0 > 10, `the patient line is shown (${JSON.stringify(box)})`);
    const differs = (x0, y0, x1, y1) => {
      let n = 0;
      for (let y = Math.max(0, Math.floor(y0)); y < Math.min(png.height, Math.ceil(y1)); y++) {
        for (let x = Math.max(0, Math.floor(x0)); x < Math.min(png.width, Math.ceil(x1)); x++) {
          const i = (y * png.width + x) * 4;
          if (Math.abs(png.pixels[i] - plain.png.pixels[i]) + Math.abs(png.pixels[i + 1] - plain.png.pixels[i + 1]) > 30) n++;
        }
      }
      return n;
    };
    const inText = differs(box.x0, box.y0, box.x1, box.y1);
    assert.ok(inText > 30, `${inText} pixels changed in the patient line`);
    // the middle of the image carries no text
    const cx = png.width / 2, cy = png.height / 2;
    const centre = await page.evaluate(() => document.querySelector('.viewer-overlay .ov-c')?.textContent ?? '');
    assert.equal(differs(cx - 40, cy - 40, cx + 40, cy + 40), 0, `no change in the middle of the image (its status line: "${centre}")`);
  });

  it('a capture the server cannot record saves no file and says so', async () => {
    const before = (await captures()).length;
    const db = path.join(orthanc.dir, 'storage', 'reading-room.db');
    const lock = await lockDatabase(db);
    let downloads = 0;
    const count = () => downloads++;
    page.on('download', count);
    try {
      await page.locator('[data-rr-tool="capture"]').click();
      const msg = page.locator('.viewer-capture-msg[data-rr-capture="failed"]');
      await msg.waitFor({ timeout: 30_000 });
      assert.match(await msg.textContent(), /^Not saved: the capture could not be recorded in the audit trail \(.+\)\.$/);
    } finally {
      await lock.release();
    }
    await page.waitForTimeout(1000);
    page.off('download', count);
    assert.equal(downloads, 0, 'no file');
    // the record queued during the failure reaches the trail later (the writer retries): an attempt, no file
    await waitFor(async () => (await captures()).length === before + 1, 20_000, 200, 'the queued record written');
  });

  it('the capture route checks its body and the image', async () => {
    const post = (uid, body) =>
      orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}/captures`, { method: 'POST', body });
    const sop = study.series[0].instances[0].sopInstanceUid;
    const uid = study.studyInstanceUid;
    assert.equal((await post(uid, { sopInstanceUid: sop, frame: 1, burnedIn: false })).status, 204);
    for (const [body, member] of [
      [{ frame: 1, burnedIn: false }, 'sopInstanceUid'],
      [{ sopInstanceUid: sop, frame: 0, burnedIn: false }, 'frame'],
      [{ sopInstanceUid: sop, frame: '1', burnedIn: false }, 'frame'],
      [{ sopInstanceUid: sop, frame: 1 }, 'burnedIn'],
      [{ sopInstanceUid: sop, frame: 1, burnedIn: 'yes' }, 'burnedIn'],
    ]) {
      const r = await post(uid, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error.message, new RegExp(`'${member}'`));
    }
    assert.equal((await post(uid, { sopInstanceUid: '1.2.3.4', frame: 1, burnedIn: false })).status, 404, 'not an image of the study');
    assert.equal((await post(uid, { sopInstanceUid: sop, frame: 2, burnedIn: false })).status, 404, 'no such frame');
    assert.equal((await post('1.2.3.999', { sopInstanceUid: sop, frame: 1, burnedIn: false })).status, 404, 'unknown study');
    const get = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}/captures`);
    assert.equal(get.status, 403, 'GET is not in the role matrix');
    // a technician has no viewer and may not record captures
    const tech = await orthanc.login(USERS.tech.username, USERS.tech.password);
    const r = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}/captures`, {
      method: 'POST',
      body: { sopInstanceUid: sop, frame: 1, burnedIn: false },
      headers: { Authorization: `Bearer ${tech.token}` },
    });
    assert.equal(r.status, 403);
  });

  it('a physician is refused the study: the refusal, no viewer, no images, no capture', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addCookies(await orthanc.browserCookies(USERS.phys.username, USERS.phys.password));
    const phys = await context.newPage();
    phys.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await phys.goto(studyUrl(study.studyInstanceUid));
    // the state element shows "Loading study…" first: wait for the answer, not for the element
    const refusal = phys.locator('.study-content .state').filter({ hasText: /Could not load the study|not found/i });
    await refusal.waitFor({ timeout: 20_000 });
    assert.match(await refusal.textContent(), /Could not load the study/);
    assert.equal(await phys.locator('.viewer, .viewer-slot, .viewer-viewport').count(), 0, 'no viewer');
    const inst = study.series[0].instances[0];
    const status = (u, init) => phys.evaluate(async ([url, i]) => (await fetch(url, i)).status, [u, init ?? {}]);
    assert.equal(await status(`/instances/${inst.orthancId}/file`), 403);
    assert.equal(await status(`/instances/${inst.orthancId}/frames/0/rendered`), 403);
    const wado = `/wado?requestType=WADO&studyUID=${study.studyInstanceUid}&seriesUID=${study.series[0].seriesInstanceUid}&objectUID=${inst.sopInstanceUid}&contentType=application%2Fdicom`;
    assert.equal(await status(wado), 403);
    assert.equal(await status(`/api/dicom/studies/${encodeURIComponent(study.studyInstanceUid)}`), 403);
    assert.equal(await status(`/api/dicom/instances/${inst.orthancId}/frames/0/png`), 403);
    const csrf = (await context.cookies()).find((c) => c.name === 'rr_csrf')?.value;
    const capture = await status(`/api/dicom/studies/${encodeURIComponent(study.studyInstanceUid)}/captures`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, 'X-Requested-With': 'XMLHttpRequest' },
      body: JSON.stringify({ sopInstanceUid: inst.sopInstanceUid, frame: 1, burnedIn: false }),
    });
    assert.equal(capture, 403);
    await context.close();
  });

  it('a technician gets no study page and no viewer', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.addCookies(await orthanc.browserCookies(USERS.tech.username, USERS.tech.password));
    const tech = await context.newPage();
    await tech.goto(studyUrl(study.studyInstanceUid));
    await tech.locator('.outlet', { hasText: 'not available for your role' }).waitFor({ timeout: 20_000 });
    assert.equal(await tech.locator('.viewer, .viewer-viewport').count(), 0);
    await context.close();
    assert.deepEqual(pageErrors, []);
  });
});
