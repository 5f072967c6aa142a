// Browser test of "Save to archive" and SR loading (issue 10): real Orthanc + plugin, Debian's chromium with
// software WebGL. Measurements are put into the plugin's annotation store through its REST API (the wire
// format of the contract: world points in LPS mm), "Save to archive" writes them as a DICOM SR
// TID 1500 into the same study, which dciodvfy (dicom3tools) finds without errors and dsrdump (DCMTK) shows
// with the values; reopening the study shows the SR's measurements on the right images once the store's are
// deleted (as repeats of the store's before); dcmqi's TID 1500 sample (volumetric measurements of a SEG, no
// image coordinates) says why it shows nothing.
// Run: cd Tests && npm ci && node --test browser/viewer-sr.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { dicomFilesOf, startOrthanc, storescu, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const CT_FOLDER = 'ct_chest_lung_30';
const DCMQI = ['sr.dcm', 'seg.dcm', 'rwvm.dcm'].map((f) => path.join(testData, 'sr_tid1500_dcmqi', f));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-viewer-sr-'));

/** dciodvfy's verdict: its error lines (it exits 0 with errors too). */
function dciodvfy(file) {
  let out;
  try {
    out = execFileSync('dciodvfy', [file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  return out;
}

describe('Save to archive as DICOM SR TID 1500, and SRs loaded as measurements (browser)', { timeout: 300_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let ct; // study detail
  let dcmqiUid;
  let measurements; // what was put into the store: [{ body, index }]
  let savedSeriesUid;
  const pageErrors = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const status = () => page.locator('.viewer-sr-status');
  const state = () => status().getAttribute('data-rr-sr-state');
  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport="0"]');
  const waitState = (states, what) => waitFor(async () => states.includes(await state()), 90_000, 100, what);
  const annotationsUrl = (uid) => `/api/dicom/studies/${encodeURIComponent(uid)}/annotations`;

  /** World point (LPS mm) of the centre of pixel (column c, row r) of an instance. */
  function world(inst, spacing, c, r) {
    const p = inst.imagePositionPatient;
    const o = inst.imageOrientationPatient;
    return [0, 1, 2].map((k) => p[k] + c * spacing[1] * o[k] + r * spacing[0] * o[3 + k]);
  }

  /** Shows image `index` of the series in viewport 0 (arrow keys), waiting until it is drawn. */
  async function showImage(index) {
    await page.locator('.viewer-viewport').first().click({ position: { x: 5, y: 5 } });
    for (let i = 0; i < 60; i++) {
      const now = Number(await viewport().getAttribute('data-rr-image-index'));
      if (now === index) return;
      await page.keyboard.press(now < index ? 'ArrowDown' : 'ArrowUp');
      await page.waitForTimeout(30);
    }
    await waitFor(async () => Number(await viewport().getAttribute('data-rr-image-index')) === index, 20_000, 100, `image ${index}`);
  }

  /** The annotation drawings cornerstone put into viewport 0's SVG layer. */
  const drawn = () => viewport().locator('svg.svg-layer line, svg.svg-layer ellipse, svg.svg-layer path, svg.svg-layer polyline').count();

  before(async () => {
    orthanc = await startOrthanc();
    const files = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, files);
    for (const f of DCMQI) {
      const up = await uploadFile(orthanc, f);
      assert.equal(up.status, 200, `${path.basename(f)}: ${up.text}`);
    }
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      const n = l.data.reduce((sum, s) => sum + s.instanceCount, 0);
      return l.total === 2 && n === files.length + DCMQI.length ? l : false;
    }, 60_000, 200, `2 studies / ${files.length + DCMQI.length} instances`);
    const ctUid = list.data.find((s) => s.instanceCount === files.length).studyInstanceUid;
    dcmqiUid = list.data.find((s) => s.studyInstanceUid !== ctUid).studyInstanceUid;
    ct = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(ctUid)}`);

    // three measurements in the store, on two images, as the viewer stores them
    const s = ct.series[0];
    const at = (index) => s.instances[index];
    const spacing = (await orthanc.json(`/instances/${at(10).orthancId}/tags?short`))['0028,0030'].split('\\').map(Number);
    const forUid = (await orthanc.json(`/instances/${at(10).orthancId}/tags?short`))['0020,0052'];
    const len = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const base = (index, tool, label, points, stats) => ({
      index,
      body: {
        annotationUid: `sr-test-${tool.toLowerCase()}-${index}`,
        seriesInstanceUid: s.seriesInstanceUid,
        sopInstanceUid: at(index).sopInstanceUid,
        frame: 1,
        tool,
        label,
        data: { points, frameOfReferenceUID: forUid, viewPlaneNormal: [0, 0, 1], viewUp: [0, -1, 0], unitSource: 'PixelSpacing', stats },
      },
    });
    const l0 = world(at(10), spacing, 100, 100);
    const l1 = world(at(10), spacing, 200, 100);
    const units = { unit: 'mm', areaUnit: 'mm²', valueUnit: 'HU', unitSource: 'PixelSpacing' };
    measurements = [
      base(10, 'Length', 'lesion 1', [l0, l1], { length: len(l0, l1), ...units }),
      base(10, 'EllipticalROI', 'nodule', [world(at(10), spacing, 300, 220), world(at(10), spacing, 300, 280), world(at(10), spacing, 270, 250), world(at(10), spacing, 330, 250)],
        { area: 1234.5, mean: -812.25, sd: 17.5, min: -950, max: -640, ...units }),
      base(20, 'Angle', 'carina', [world(at(20), spacing, 250, 150), world(at(20), spacing, 256, 256), world(at(20), spacing, 350, 300)], { angle: 118.5, ...units }),
    ];
    for (const m of measurements) {
      const r = await orthanc.api(`${annotationsUrl(ct.studyInstanceUid)}/${m.body.annotationUid}`, { method: 'PUT', body: m.body });
      assert.equal(r.status, 201, `PUT ${m.body.tool}: ${r.status} ${r.text}`);
    }

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies()); // the administrator: may annotate
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('"Save to archive" writes the measurements as a valid SR TID 1500 into the same study and says so', async () => {
    await page.goto(studyUrl(ct.studyInstanceUid));
    const save = page.locator('[data-rr-tool="save-sr"]');
    await save.waitFor({ timeout: 60_000 });
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'first image drawn');
    await save.click();
    await waitState(['saved', 'failed', 'empty'], 'the save to finish');
    const text = await status().textContent();
    assert.equal(await state(), 'saved', text);
    assert.equal(text, 'Saved 3 measurements to the archive as series 9001 "Reading Room measurements".');
    const orthancId = await status().getAttribute('data-rr-sr-orthanc-id');
    savedSeriesUid = await status().getAttribute('data-rr-sr-series');

    // Orthanc has it in the same study
    const inst = await orthanc.json(`/instances/${orthancId}`);
    const series = await orthanc.json(`/series/${inst.ParentSeries}`);
    const studyId = (await orthanc.json(`/series/${ct.series[0].orthancId}`)).ParentStudy;
    assert.equal(series.ParentStudy, studyId, 'stored in the measured study');
    assert.equal(series.MainDicomTags.SeriesDescription, 'Reading Room measurements');
    assert.equal(series.MainDicomTags.Modality, 'SR');
    assert.equal(series.MainDicomTags.SeriesNumber, '9001');
    assert.equal(series.MainDicomTags.SeriesInstanceUID, savedSeriesUid);

    const file = path.join(tmp, 'saved-sr.dcm');
    const res = await fetch(`${orthanc.baseUrl}/instances/${orthancId}/file`, { headers: orthanc.authHeaders() });
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const verdict = dciodvfy(file);
    assert.ok(!/^Error/m.test(verdict), `dciodvfy reports errors:\n${verdict}`);

    // the TID 1500 tree with the values, the observer and the patient of the images
    const tree = execFileSync('dsrdump', ['+U8', file], { encoding: 'utf8' });
    assert.match(tree, /<CONTAINER:\(,,"Imaging Measurement Report"\)=SEPARATE>/);
    assert.match(tree, /PNAME:\(,,"Person Observer Name"\)="admin"/);
    assert.equal((tree.match(/CONTAINER:\(,,"Measurement Group"\)/g) ?? []).length, 3);
    const num = (name) => Number(new RegExp(`NUM:\\(,,"${name}"\\)="(-?[\\d.]+)"`).exec(tree)?.[1]);
    assert.ok(Math.abs(num('Length') - measurements[0].body.data.stats.length) < 1e-3, tree);
    assert.equal(num('Mean'), -812.25);
    assert.equal(num('Standard Deviation'), 17.5);
    assert.equal(num('Area'), 1234.5);
    assert.match(tree, /NUM:\(,,"Length"\)="[\d.]+" \(mm,UCUM/);
    assert.match(tree, /"Hounsfield unit"/);
    assert.match(tree, /TEXT:\(,,"Comment"\)="lesion 1"/);
    const dump = execFileSync('dcmdump', ['+P', '0010,0020', '+P', '0020,000d', '+P', '0040,db00', '+P', '0008,1155', file], { encoding: 'latin1' });
    const ctFile = (await dicomFilesOf(CT_FOLDER))[0];
    const ctPatient = /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', '0010,0020', ctFile], { encoding: 'latin1' }))[1];
    assert.match(dump, new RegExp(`\\(0010,0020\\) LO \\[${ctPatient.replace(/[.^$*+?()[\]{}|\\]/g, '\\$&')}\\]`));
    assert.match(dump, new RegExp(`\\(0020,000d\\) UI \\[${ct.studyInstanceUid.replace(/\./g, '\\.')}\\]`));
    assert.match(dump, /\(0040,db00\) CS \[1500\]/);
    for (const m of measurements) assert.ok(dump.includes(m.body.sopInstanceUid), `references ${m.body.sopInstanceUid}`);
    assert.deepEqual(pageErrors, []);
  });

  it('reopened, the SR repeats the store: its measurements are shown once, as the editable ones', async () => {
    await page.goto('about:blank');
    await page.goto(studyUrl(ct.studyInstanceUid));
    await waitState(['loaded', 'none'], 'the archive to be read');
    assert.equal(await state(), 'none', await status().textContent());
    assert.match(await status().textContent(), /3 already in the Reading Room/);
  });

  it('with the store emptied, reopening shows the SR measurements on their images, read-only', async () => {
    for (const m of measurements) {
      const r = await orthanc.api(`${annotationsUrl(ct.studyInstanceUid)}/${m.body.annotationUid}`, { method: 'DELETE' });
      assert.equal(r.status, 204, r.text);
    }
    await page.goto('about:blank');
    await page.goto(studyUrl(ct.studyInstanceUid));
    await waitState(['loaded', 'none', 'failed'], 'the archive to be read');
    assert.equal(await state(), 'loaded', await status().textContent());
    assert.equal(await status().textContent(), '3 measurements from the archive shown (read-only).');
    const items = await page.locator('.viewer-sr-items li').evaluateAll((els) => els.map((e) => ({ sop: e.dataset.sop, frame: e.dataset.frame, tool: e.dataset.tool, text: e.textContent })));
    const want = measurements.map((m) => ({ sop: m.body.sopInstanceUid, frame: '1', tool: m.body.tool })).sort((a, b) => a.tool.localeCompare(b.tool));
    assert.deepEqual(items.map(({ sop, frame, tool }) => ({ sop, frame, tool })).sort((a, b) => a.tool.localeCompare(b.tool)), want);
    assert.ok(items.some((i) => i.text === 'Length "lesion 1"'), JSON.stringify(items));
    // drawn on the measured images, not on the others
    await showImage(0);
    assert.equal(await drawn(), 0, 'nothing on image 1');
    await showImage(10);
    await waitFor(async () => (await drawn()) >= 2, 20_000, 100, 'the length and the ellipse drawn on image 11');
    await showImage(20);
    await waitFor(async () => (await drawn()) >= 2, 20_000, 100, 'the angle drawn on image 21');
    // nothing went into the store
    const stored = await orthanc.json(annotationsUrl(ct.studyInstanceUid));
    assert.deepEqual(stored.data, []);
    assert.deepEqual(pageErrors, []);
  });

  it("dcmqi's TID 1500 sample says why it shows no measurement: they are measured on a segmentation, not drawn on images", async () => {
    await page.goto('about:blank');
    await page.goto(studyUrl(dcmqiUid));
    await waitState(['loaded', 'none', 'failed'], 'the archive to be read');
    const text = await status().textContent();
    assert.equal(await state(), 'none', text);
    assert.match(text, /tumor measurements.*not shown: its measurements are not drawn on images \(volumetric or segmentation measurements\)/);
  });
});
