// Browser test of AI on the images (issue 10, "AI on the images"): real Orthanc + plugin, the stand-in AI
// provider (Tests/lib/ai-provider.mjs, OpenAI dialect), Debian's chromium with software WebGL. "Analyze with AI"
// sits at the top right of the viewer and the AI panel right of it; the findings come most severe first,
// colour-coded with their severity in words; the images sent to the model are thumbnails, and clicking one, or
// a finding that names one, shows that instance in the viewport (data-rr-image-index and the SOP Instance UID
// at that index of the study's display order are the analysis' image); the "not a diagnosis" notice stays until
// a radiologist has reviewed the analysis, also after a reload, and is gone after the review.
// Run: cd Tests && npm ci && node --test browser/ai-images.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dcmdumpTags, dicomFilesOf, startOrthanc, storescu, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';
import { startAiProvider } from '../lib/ai-provider.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const CT_FOLDER = 'ct_chest_lung_30';
// one multi-frame instance (13 frames): the analysis sends frames of it, a click shows that frame
const NM_FILE = path.join(testData, 'nm_multiframe', 'NM-MONO2-16-13x-heart.dcm');
const API_KEY = 'test-ai-key';
const RAD = { username: 'rad.images', password: 'Rad-Images-Password-2026!', role: 'radiologist', displayName: 'Dr Images' };
const NOTICE = 'AI output — not a diagnosis; must be reviewed by a radiologist';

// the model's order is not the severity order; two findings name images sent (prompt-3 numbers them from 1)
const FINDINGS = {
  summary: 'Stand-in: a critical finding on image 4.',
  findings: [
    { category: 'incidental', description: 'Small granuloma.', location: 'left upper lobe', confidence: 'high', severity: 'mild' },
    { category: 'artifact', description: 'Breathing artifact.', location: 'lung bases', confidence: 'medium', severity: 'normal' },
    { category: 'abnormality', description: 'Large pneumothorax.', location: 'right hemithorax (image 4)', confidence: 'high', severity: 'critical' },
    { category: 'lesion', description: 'Spiculated mass.', location: 'right lower lobe (images 6 and 7)', confidence: 'medium', severity: 'severe' },
  ],
  recommendations: ['Urgent clinical correlation.'],
  ai_confidence: 'medium',
};
const ORDER = ['critical', 'severe', 'mild', 'normal'];

describe('AI on the images (browser)', { timeout: 300_000 }, () => {
  let provider;
  let orthanc;
  let browser;
  let context;
  let page;
  let study; // GET /api/dicom/studies/{uid}
  let nmUid; // StudyInstanceUID of the multi-frame study
  let analysis; // GET /api/ai/analysis/{id}
  const dialogs = [];
  const pageErrors = [];

  const viewport = () => page.locator('.viewer-viewport[data-rr-viewport="0"]');
  const box = async (sel) => {
    const b = await page.locator(sel).first().boundingBox();
    assert.ok(b, `${sel} is laid out`);
    return b;
  };
  /** The stack index (display order) of a SOP instance of the study's first series. */
  const indexOf = (sop) => study.series[0].instances.findIndex((i) => i.sopInstanceUid === sop);
  /** Waits until the viewport shows the analysis' image n (1-based): its index and its SOP instance. */
  const assertShows = async (n, what) => {
    const img = analysis.images[n - 1];
    const want = indexOf(img.sopInstanceUid);
    assert.ok(want >= 0, `${what}: image ${n} is in the study`);
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === String(want), 30_000, 100, `${what}: image ${n} (index ${want}) drawn`);
    assert.equal(await viewport().getAttribute('data-rr-series-uid'), study.series[0].seriesInstanceUid);
    const index = Number(await viewport().getAttribute('data-rr-image-index'));
    assert.equal(study.series[0].instances[index].sopInstanceUid, img.sopInstanceUid, `${what}: the SOP instance shown is the analysis' image ${n}`);
    assert.equal(img.frame, 0);
    assert.equal(await page.locator('.viewer-overlay .ov-image').first().textContent(), `Im ${want + 1}/${study.series[0].instances.length}`);
  };

  before(async () => {
    provider = await startAiProvider({ apiKey: API_KEY });
    orthanc = await startOrthanc({
      readingRoom: {
        ...(WEBAPP_DIR ? { WebAppDirectory: WEBAPP_DIR } : {}),
        AI: { Provider: 'openai', BaseUrl: provider.url, Model: 'stand-in', ApiKey: API_KEY, ImagesPerSeries: 8 },
      },
    });
    await orthanc.createUser(RAD);
    const files = await dicomFilesOf(CT_FOLDER);
    await storescu(orthanc, files);
    const up = await uploadFile(orthanc, NM_FILE);
    assert.equal(up.status, 200, `POST /instances of the NM file: HTTP ${up.status}`);
    nmUid = (await dcmdumpTags(NM_FILE, ['StudyInstanceUID'])).StudyInstanceUID;
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      const ct = l.data.find((s) => s.studyInstanceUid !== nmUid);
      return l.total === 2 && ct?.instanceCount === files.length ? ct : false;
    }, 60_000, 200, `the ${files.length} slices and the NM file in the worklist`);
    study = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.studyInstanceUid)}`);
    assert.equal(study.series.length, 1);

    browser = await launchChromium({ webgl: true });
    context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    await context.addCookies(await orthanc.browserCookies(RAD.username, RAD.password));
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    await provider?.close();
  });

  it('"Analyze with AI" at the top right of the viewer, the AI panel right of it, the viewer with the space', async () => {
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(study.studyInstanceUid)}`);
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'the first image drawn');
    await page.locator('[data-rr-ai] .ai-detail', { hasText: 'No AI analysis of this study yet.' }).waitFor({ timeout: 15_000 });
    const button = await box('[data-action="ai-analyze"]');
    const slot = await box('[data-rr-viewer]');
    const head = await box('[data-rr-viewer-head]');
    const panel = await box('[data-rr-ai]');
    // the button: right-aligned over the viewer, above its images
    assert.ok(Math.abs(button.x + button.width - (slot.x + slot.width)) <= 16, `button right edge ${button.x + button.width} at the viewer's ${slot.x + slot.width}`);
    assert.ok(button.y >= head.y && button.y + button.height <= slot.y + 1, 'the button is in the bar on top of the viewer');
    assert.ok(button.x > slot.x + slot.width / 2, 'on the right half');
    // the panel: right of the viewer, as tall as it
    assert.ok(panel.x >= slot.x + slot.width - 1, `panel at x=${panel.x}, viewer ends at ${slot.x + slot.width}`);
    assert.ok(panel.y <= head.y + 1 && panel.y + panel.height >= slot.y + slot.height - 1, 'the panel spans the viewer column');
    // the viewer gets the space: most of the width and of the height left by the study header
    assert.ok(slot.width >= 1600 * 0.6, `viewer ${slot.width} px wide`);
    assert.ok(slot.height >= 600, `viewer ${slot.height} px high`);
    // the series table is collapsed (the viewer lists the series), its rows still in the page
    assert.equal(await page.locator('details.series-panel').evaluate((d) => d.open), false);
    assert.equal(await page.locator('tr.series-row').count(), study.series.length);
    assert.equal(await page.locator('.viewer-series .series-item').count(), study.series.length);
    await page.screenshot({ path: path.join(SHOTS, 'rr-ai-images-layout.png') });
  });

  it('findings most severe first, colour-coded with the severity in words; the notice until review', async () => {
    provider.reset();
    provider.script({ type: 'success', findings: FINDINGS });
    await page.locator('[data-action="ai-analyze"]').click();
    const rows = page.locator('tr.finding-row');
    await waitFor(async () => (await rows.count()) === FINDINGS.findings.length, 90_000, 250, 'the findings');
    const { analyses } = await orthanc.json(`/api/ai/studies/${encodeURIComponent(study.studyInstanceUid)}/analyses`);
    analysis = await orthanc.json(`/api/ai/analysis/${encodeURIComponent(analyses[0].id)}`);
    assert.equal(analysis.status, 'completed');
    assert.equal(analysis.promptVersion, 'prompt-3');
    assert.equal(analysis.images.length, 8);
    assert.deepEqual(provider.problems(), []);

    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((r) => r.getAttribute('data-severity'))), ORDER);
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((r) => r.getAttribute('data-index'))), ['2', '3', '0', '1']);
    assert.deepEqual(await rows.locator('.sev-label').allTextContents(), ['Critical', 'Severe', 'Mild', 'Normal']);
    const bar = (i) => rows.nth(i).locator('td.c-idx').evaluate((td) => getComputedStyle(td).boxShadow);
    const bars = [await bar(0), await bar(1), await bar(2)];
    assert.equal(new Set(bars).size, 3, `a colour per severity: ${bars.join(' | ')}`);
    const badges = await rows.locator('.severity-badge').evaluateAll((els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert.equal(new Set(badges).size, 4, 'the badges are coloured per severity too');

    const notice = page.locator('[data-rr-ai] .ai-notice');
    assert.equal(await notice.textContent(), NOTICE);
    assert.equal(await notice.isVisible(), true);
    await page.screenshot({ path: path.join(SHOTS, 'rr-ai-images-findings.png') });
  });

  it('the images sent are thumbnails; clicking one shows that instance in the viewport', async () => {
    const thumbs = page.locator('button.ai-image');
    assert.equal(await thumbs.count(), analysis.images.length);
    assert.deepEqual(await thumbs.evaluateAll((bs) => bs.map((b) => b.getAttribute('data-sop-instance-uid'))), analysis.images.map((i) => i.sopInstanceUid));
    const first = thumbs.first().locator('img.ai-image-thumb');
    assert.match(await first.getAttribute('src'), /\/api\/dicom\/instances\/[^/]+\/frames\/0\/png\?size=96$/);
    await waitFor(() => first.evaluate((img) => img.complete && img.naturalWidth > 0), 10_000, 100, 'the thumbnail loaded');

    for (const n of [5, 8, 1]) {
      await page.locator(`button.ai-image[data-rr-ai-image="${n}"]`).click();
      await assertShows(n, `thumbnail ${n}`);
      assert.equal(await page.locator('button.ai-image[aria-current="true"]').getAttribute('data-rr-ai-image'), String(n), 'its thumbnail is marked');
    }
  });

  it('clicking a finding that names an image shows the right slice', async () => {
    // the critical finding names image 4: a click on its row
    const critical = page.locator('tr.finding-row[data-index="2"]');
    assert.equal(await critical.getAttribute('data-rr-image'), '4');
    await critical.locator('.finding-text').click();
    await assertShows(4, 'the critical finding');
    // the severe one names images 6 and 7: its second button
    await page.locator('tr.finding-row[data-index="3"] button.finding-image[data-rr-ai-image="7"]').click();
    await assertShows(7, 'image 7 of the severe finding');
    // a finding without an image has no link
    assert.equal(await page.locator('tr.finding-row[data-index="0"] button.finding-image').count(), 0);
    await page.screenshot({ path: path.join(SHOTS, 'rr-ai-images-goto.png') });
  });

  it('the notice stays after a reload until the review, and is gone after it', async () => {
    await page.reload();
    const notice = page.locator('[data-rr-ai] .ai-notice');
    await notice.waitFor({ timeout: 30_000 });
    assert.equal(await notice.textContent(), NOTICE);
    await page.locator('[data-decision="confirmed"]').click();
    await page.locator('li.history-entry').first().waitFor({ timeout: 15_000 });
    assert.equal(await notice.count(), 0, 'reviewed: the notice is gone');
    assert.match(await page.locator('[data-rr-ai] .ai-reviewed').textContent(), /Confirmed by rad\.images/);
    await page.reload();
    await page.locator('[data-rr-ai] .ai-reviewed').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-rr-ai] .ai-notice').count(), 0, 'and stays gone');
    const stored = await orthanc.json(`/api/ai/analysis/${encodeURIComponent(analysis.id)}`);
    assert.equal(stored.reviewStatus, 'confirmed');
  });

  it('a multi-frame instance: a thumbnail and a finding show the frame that was sent', async () => {
    const nm = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(nmUid)}`);
    const inst = nm.series[0].instances[0];
    assert.equal(inst.numberOfFrames, 13);
    provider.reset();
    provider.script({
      type: 'success',
      findings: { ...FINDINGS, findings: [{ category: 'abnormality', description: 'Perfusion defect.', location: 'inferior wall (image 5)', confidence: 'low', severity: 'moderate' }] },
    });
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(nmUid)}`);
    await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === '0', 60_000, 100, 'frame 1 drawn');
    await page.locator('[data-rr-ai] .ai-detail', { hasText: 'No AI analysis of this study yet.' }).waitFor({ timeout: 15_000 });
    await page.locator('[data-action="ai-analyze"]').click();
    await page.locator('tr.finding-row').first().waitFor({ timeout: 90_000 });
    const { analyses } = await orthanc.json(`/api/ai/studies/${encodeURIComponent(nmUid)}/analyses`);
    const a = await orthanc.json(`/api/ai/analysis/${encodeURIComponent(analyses[0].id)}`);
    assert.ok(a.images.length >= 5 && a.images.every((i) => i.sopInstanceUid === inst.sopInstanceUid), 'frames of the one instance were sent');
    const frameShown = async (n, what) => {
      const want = a.images[n - 1].frame; // 0-based: the stack of one multi-frame instance is its frames
      assert.ok(want > 0, `${what}: a frame other than the first`);
      await waitFor(async () => (await viewport().getAttribute('data-rr-image-index')) === String(want), 30_000, 100, `${what}: frame ${want + 1} drawn`);
      assert.equal(await viewport().getAttribute('data-rr-series-uid'), nm.series[0].seriesInstanceUid);
      assert.equal(await page.locator('.viewer-overlay .ov-image').first().textContent(), `Im ${want + 1}/13`);
    };
    const last = a.images.length;
    const thumb = page.locator(`button.ai-image[data-rr-ai-image="${last}"]`);
    assert.equal(await thumb.getAttribute('data-frame'), String(a.images[last - 1].frame));
    assert.match(await thumb.locator('.ai-image-label').textContent(), new RegExp(`^Image ${last} · frame ${a.images[last - 1].frame + 1}$`));
    await thumb.click();
    await frameShown(last, `thumbnail ${last}`);
    await page.locator('tr.finding-row[data-index="0"] .finding-text').click();
    await frameShown(5, 'the finding naming image 5');
    await page.screenshot({ path: path.join(SHOTS, 'rr-ai-images-multiframe.png') });
  });

  it('raised no dialog nor page error', () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
