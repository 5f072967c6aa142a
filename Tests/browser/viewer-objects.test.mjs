// Browser test of the viewer's other objects (issue 10, "shown for what they are"): real Orthanc + plugin,
// Debian's chromium, playwright-core. The series panel says what each series holds; an SR (DCMTK's sample,
// dcmqi's TID 1500) shows as a readable document, an Encapsulated PDF inline with a download, an ECG waveform
// as a line saying the viewer cannot display it with a working download (a SEG and an RT structure set also
// list their segments and ROIs); an SR whose strings are markup
// (made here with Orthanc's /tools/create-dicom, in the study of an MR image) shows them as text and runs
// nothing, and the panel gives way to the images when the image series is clicked.
// Run: cd Tests && npm ci && node --test browser/viewer-objects.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startOrthanc, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SHOTS = process.env.RR_OBJECTS_SCREENSHOT_PREFIX || '/tmp/rr-viewer-objects';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const FILES = {
  sr: path.join(testData, 'sr', 'test-SR.dcm'),
  tid1500: path.join(testData, 'sr_tid1500_dcmqi', 'sr.dcm'),
  pdf: path.join(testData, 'pdf', 'sample-pdf.dcm'),
  ecg: path.join(testData, 'waveform_ecg', 'waveform_ecg.dcm'),
  seg: path.join(testData, 'seg', 'DicomSeg.dcm'),
  rtss: path.join(testData, 'rt_breast_dicompyler', 'rtss.dcm'),
  rtct: path.join(testData, 'rt_breast_dicompyler', 'ct.0.dcm'), // the CT slice of the same case
  mr: path.join(testData, 'ts_mr_small', 'MR_small.dcm'), // the image series of the study the markup SR joins
};
const XSS = '<img src=x onerror="window.__rrXss=1">';
const XSS_TITLE = '<script>window.__rrXss=2</script>';

describe('Reading Room viewer: other objects (browser)', { timeout: 240_000 }, () => {
  let orthanc;
  let browser;
  let page;
  const study = {}; // name -> StudyInstanceUID
  const pageErrors = [];
  const dialogs = [];

  const studyUrl = (uid) => `${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`;
  const panel = () => page.locator('.viewer-object');
  const studyOf = async (res) => {
    assert.equal(res.status, 200, res.text);
    const s = await orthanc.json(`/studies/${res.json.ParentStudy}`);
    return s.MainDicomTags.StudyInstanceUID;
  };
  /** Opens a study and waits for its object panel (the study has no image series: it opens by itself). */
  const open = async (uid, kind) => {
    await page.goto(studyUrl(uid));
    await page.locator(`.viewer-object[data-rr-object-kind="${kind}"]:not([hidden])`).waitFor({ timeout: 30_000 });
  };
  /** Fetches a URL inside the page (the user's session cookie): status, type, first bytes, length. */
  const fetchInPage = (url) =>
    page.evaluate(async (u) => {
      const r = await fetch(u, { credentials: 'same-origin' });
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type') ?? '', head: String.fromCharCode(...b.slice(0, 5)), length: b.length };
    }, url);

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    for (const [name, file] of Object.entries(FILES)) study[name] = await studyOf(await uploadFile(orthanc, file));
    // a Basic Text SR whose title and text are markup, in the MR's study
    const mrStudy = (await orthanc.json('/studies?expand')).find((s) => s.MainDicomTags.StudyInstanceUID === study.mr);
    const [mrInstance] = await orthanc.json(`/studies/${mrStudy.ID}/instances`);
    const mrTags = await orthanc.json(`/instances/${mrInstance.ID}/simplified-tags`);
    const mrImage = { sopClassUid: mrTags.SOPClassUID, sopInstanceUid: mrTags.SOPInstanceUID };
    const made = await orthanc.api('/tools/create-dicom', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        Parent: mrStudy.ID,
        Tags: {
          SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11',
          Modality: 'SR',
          SeriesDescription: XSS,
          ValueType: 'CONTAINER',
          ContinuityOfContent: 'SEPARATE',
          CompletionFlag: 'PARTIAL',
          VerificationFlag: 'UNVERIFIED',
          ConceptNameCodeSequence: [{ CodeValue: '18748-4', CodingSchemeDesignator: 'LN', CodeMeaning: XSS_TITLE }],
          ContentSequence: [
            {
              RelationshipType: 'CONTAINS',
              ValueType: 'TEXT',
              ConceptNameCodeSequence: [{ CodeValue: '121071', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Finding' }],
              TextValue: XSS,
            },
            {
              RelationshipType: 'CONTAINS',
              ValueType: 'IMAGE',
              ConceptNameCodeSequence: [{ CodeValue: '121112', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source of Measurement' }],
              ReferencedSOPSequence: [{ ReferencedSOPClassUID: mrImage.sopClassUid, ReferencedSOPInstanceUID: mrImage.sopInstanceUid }],
            },
          ],
        },
      }),
    });
    assert.equal(made.status, 200, made.text);
    const inst = await orthanc.json(`/instances/${made.json.ID}`);
    const series = await orthanc.json(`/series/${inst.ParentSeries}`);
    study.xss = (await orthanc.json(`/studies/${series.ParentStudy}`)).MainDicomTags.StudyInstanceUID;
    // the plugin's index has every study and series (it indexes in the background)
    const want = { [study.rtss]: 2, [study.mr]: 2 };
    for (const uid of new Set(Object.values(study))) {
      await waitFor(async () => {
        const r = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}`);
        return r.status === 200 && r.json.series.length === (want[uid] ?? 1);
      }, 60_000, 200, `study ${uid} indexed`);
    }

    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('the API gives each series its SOP class, and the panel says what it holds', async () => {
    const detail = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(study.ecg)}`);
    assert.equal(detail.series[0].instances[0].sopClassUid, '1.2.840.10008.5.1.4.1.1.9.1.1');
    await open(study.ecg, 'waveform');
    assert.match(await page.locator('.viewer-series .series-item .series-detail').first().textContent(), /ECG · ECG waveform · 1 instance/);
  });

  it('an ECG waveform: a clear line and a working download of the DICOM file', async () => {
    assert.equal(
      await panel().locator('.object-cannot').textContent(),
      'This series holds an ECG waveform (1 instance): the viewer cannot display it.',
    );
    const link = panel().locator('a.object-download').first();
    const href = await link.getAttribute('href');
    assert.match(href, /\/instances\/[^/]+\/file$/);
    const got = await fetchInPage(href);
    assert.equal(got.status, 200);
    assert.ok(got.length > 100_000, `DICOM file of ${got.length} bytes`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    assert.match(download.suggestedFilename(), /\.dcm$/);
    assert.equal(await download.failure(), null);
    await page.screenshot({ path: `${SHOTS}-ecg.png` });
  });

  it('an SR shows as a readable document: title, flags, observer, nested content with values', async () => {
    await open(study.sr, 'sr');
    const doc = panel().locator('.sr-document');
    await doc.waitFor({ timeout: 15_000 });
    assert.equal(await doc.locator('.sr-title').textContent(), 'Diagnosis');
    const text = await doc.textContent();
    assert.match(text, /Completion: COMPLETE · Verification: VERIFIED/);
    assert.match(text, /Verified by Observer, Verifying/);
    const lines = await doc.locator('.sr-line').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-depth')), e.textContent]));
    assert.ok(lines.some(([d, t]) => d >= 1 && /Text Code: A mass of/.test(t)), JSON.stringify(lines.slice(0, 12)));
    assert.ok(lines.some(([, t]) => /Diameter: 3 /.test(t)), 'the NUM with its unit');
    assert.ok(lines.some(([, t]) => /Sample Code 1/.test(t)), 'the CODE');
    assert.ok(lines.some(([d]) => d >= 2), 'nested items are indented');
    // its IMAGE items reference images this study does not hold, and say so
    assert.match(await doc.locator('.sr-where').first().textContent(), /^ \(not in this study\)$/);
    await page.screenshot({ path: `${SHOTS}-sr.png` });
  });

  it('a TID 1500 measurement report (dcmqi) shows its measurements and references', async () => {
    await open(study.tid1500, 'sr');
    const doc = panel().locator('.sr-document');
    await doc.waitFor({ timeout: 15_000 });
    assert.equal(await doc.locator('.sr-title').textContent(), 'Imaging Measurement Report');
    const text = await doc.textContent();
    assert.match(text, /Imaging Measurements/);
    assert.match(text, /object 1\.[0-9.]+/, 'the referenced SEG');
    assert.match(text, /: [0-9.]+ [a-zA-Z[\]/]+/, 'a measurement with its unit');
    await page.screenshot({ path: `${SHOTS}-tid1500.png` });
  });

  it('a SEG lists its segments and an RT structure set its ROIs, each saying the viewer cannot display it', async () => {
    await open(study.seg, 'seg');
    assert.match(await panel().locator('.object-cannot').textContent(), /^This series holds a segmentation \(1 instance\): the viewer cannot display it\.$/);
    await panel().locator('.object-outline').first().waitFor({ timeout: 15_000 });
    const segments = await panel().locator('.object-outline').allTextContents();
    assert.equal(segments.length, 3);
    assert.match(segments[0], /^1 Necrosis: .*automatic$/);
    assert.equal(study.rtss, study.rtct, 'the RT structure set and its CT share a study');
    await page.goto(studyUrl(study.rtss));
    await page.locator('.viewer-series .series-item.series-object').click();
    await page.locator('.viewer-object[data-rr-object-kind="rtstruct"]:not([hidden])').waitFor({ timeout: 30_000 });
    await panel().locator('.object-outline').first().waitFor({ timeout: 30_000 });
    const rois = await panel().locator('.object-outline').allTextContents();
    assert.equal(rois.length, 10);
    assert.ok(rois.includes('1 BODY (EXTERNAL)') || rois.some((r) => /^\d+ BODY \(EXTERNAL\)$/.test(r)), JSON.stringify(rois));
    assert.ok(rois.some((r) => /^\d+ Heart \(ORGAN\)$/.test(r)), JSON.stringify(rois));
    await page.screenshot({ path: `${SHOTS}-rtstruct.png` });
  });

  it('an Encapsulated PDF displays inline and downloads as application/pdf', async () => {
    await open(study.pdf, 'pdf');
    const frame = panel().locator('iframe.object-pdf');
    assert.equal(await frame.getAttribute('data-rr-type'), 'application/pdf');
    const src = await frame.getAttribute('src');
    assert.match(src, /\/instances\/[^/]+\/pdf$/);
    const shown = await fetchInPage(src);
    assert.equal(shown.status, 200);
    assert.match(shown.type, /^application\/pdf/);
    assert.equal(shown.head, '%PDF-');
    assert.ok(shown.length > 1000);
    const href = await panel().locator('a.object-download').getAttribute('href');
    const dl = await fetchInPage(href);
    assert.equal(dl.status, 200);
    assert.match(dl.type, /^application\/pdf/);
    await page.waitForTimeout(1500); // the PDF viewer draws
    await page.screenshot({ path: `${SHOTS}-pdf.png` });
  });

  it('an SR whose strings are markup shows them as text and runs nothing; the images come back on their series', async () => {
    assert.equal(study.xss, study.mr);
    await page.goto(studyUrl(study.mr));
    // the study opens on its image series, the panel hidden
    const vp = page.locator('.viewer-viewport[data-rr-viewport="0"]');
    await page.waitForFunction(() => document.querySelector('.viewer-viewport[data-rr-viewport="0"]')?.getAttribute('data-rr-image-index') === '0', null, { timeout: 60_000 });
    assert.equal(await panel().isHidden(), true);
    const items = page.locator('.viewer-series .series-item');
    assert.equal(await items.count(), 2);
    const srItem = page.locator('.viewer-series .series-item.series-object');
    assert.match(await srItem.locator('.series-detail').textContent(), /SR · structured report · 1 instance/);
    await srItem.click();
    await page.locator('.viewer-object[data-rr-object-kind="sr"]:not([hidden])').waitFor({ timeout: 10_000 });
    const doc = panel().locator('.sr-document');
    await doc.waitFor({ timeout: 15_000 });
    assert.equal(await doc.locator('.sr-title').textContent(), XSS_TITLE);
    assert.match(await doc.textContent(), /Finding: <img src=x onerror="window.__rrXss=1">/);
    assert.equal(await panel().locator('.object-title').textContent(), XSS);
    // the IMAGE item names the MR image of this study
    assert.equal(await doc.locator('.sr-where').textContent(), ' (series #1 MR, image 1 of 1)');
    assert.equal(await page.locator('.viewer-object img, .viewer-object script').count(), 0);
    assert.equal(await page.evaluate(() => window.__rrXss ?? null), null);
    await page.screenshot({ path: `${SHOTS}-xss.png` });
    // the image series brings the images back
    await page.locator('.viewer-series .series-item:not(.series-object)').click();
    assert.equal(await panel().isHidden(), true);
    assert.equal(await vp.getAttribute('data-rr-image-index'), '0');
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
