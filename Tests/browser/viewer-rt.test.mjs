// Browser test of RT Structure Set contours (issue 10, "RT Structure Set contours on their images where
// feasible"): real Orthanc + plugin, Debian's chromium with software WebGL, playwright-core. The sample of
// ../shared/dicom/rt_breast_dicompyler has the structure set (10 ROIs) and one CT slice of the same study,
// on which the BODY outline has four contours: the screen's pixels on those contour points are BODY's
// colour (ROI Display Color 154\155\100) when the contours are shown, and grey when its toggle or "Show" is
// off; the panel lists only the ROIs drawn on an image of the study and says how many contours are not.
// Run: cd Tests && npm ci && node --test browser/viewer-rt.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { decodePng } from '../lib/png.mjs';
import { startOrthanc, testData, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const DIR = path.join(testData, 'rt_breast_dicompyler');
const BODY = [154, 155, 100];

describe('Reading Room viewer: RT structure set contours (browser)', { timeout: 200_000 }, () => {
  let orthanc;
  let browser;
  let page;
  let study;
  let rtSeries;
  let ct; // { ipp, spacing, rows, columns, sop }
  let points; // BODY contour points on the CT slice, [x, y] mm
  const pageErrors = [];

  /** Colours on screen at the contour points (the image fitted and centred, axial, as opened). */
  const colours = async () => {
    const box = await page.evaluate(() => {
      const c = document.querySelector('.viewer-viewport canvas').getBoundingClientRect();
      return { x: c.left, y: c.top, width: c.width, height: c.height };
    });
    const shot = decodePng(await page.screenshot({ clip: box }));
    const scale = Math.min(shot.width / ct.columns, shot.height / ct.rows);
    const x0 = (shot.width - ct.columns * scale) / 2;
    const y0 = (shot.height - ct.rows * scale) / 2;
    return points.map(([x, y]) => {
      const col = (x - ct.ipp[0]) / ct.spacing[1] + 0.5;
      const row = (y - ct.ipp[1]) / ct.spacing[0] + 0.5;
      const px = Math.round(x0 + col * scale - 0.5);
      const py = Math.round(y0 + row * scale - 0.5);
      const i = (py * shot.width + px) * shot.channels;
      return [shot.pixels[i], shot.pixels[i + 1], shot.pixels[i + 2]];
    });
  };
  const bodyShare = (cs) => cs.filter(([r, g, b]) => Math.abs(r - BODY[0]) < 40 && Math.abs(g - BODY[1]) < 40 && r - b > 25).length / cs.length;
  const greyShare = (cs) => cs.filter(([r, g, b]) => Math.abs(r - g) < 6 && Math.abs(g - b) < 6).length / cs.length;

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    const ctUp = await uploadFile(orthanc, path.join(DIR, 'ct.0.dcm'));
    assert.equal(ctUp.status, 200);
    const rtUp = await uploadFile(orthanc, path.join(DIR, 'rtss.dcm'));
    assert.equal(rtUp.status, 200);
    const list = await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 1 && l.data[0].instanceCount === 2 ? l : false;
    }, 60_000, 200, 'the study with the CT slice and the structure set');
    study = await orthanc.json(`/api/dicom/studies/${encodeURIComponent(list.data[0].studyInstanceUid)}`);
    rtSeries = study.series.find((s) => s.modality === 'RTSTRUCT');
    const tags = await orthanc.json(`/instances/${ctUp.json.ID}/simplified-tags`);
    ct = {
      ipp: tags.ImagePositionPatient.split('\\').map(Number),
      spacing: tags.PixelSpacing.split('\\').map(Number),
      rows: Number(tags.Rows),
      columns: Number(tags.Columns),
      sop: tags.SOPInstanceUID,
    };
    // BODY's contours on the slice's plane, from Orthanc (independent of the viewer's reading)
    const rt = await orthanc.json(`/instances/${rtUp.json.ID}/tags?short&ignore-length=3006-0050`);
    const body = rt['3006,0039'].find((rc) => rc['3006,0084'] === '1');
    points = [];
    for (const c of body['3006,0040']) {
      const v = c['3006,0050'].split('\\').map(Number);
      if (Math.abs(v[2] - ct.ipp[2]) > 0.01) continue;
      // every 25th point, away from the image's edges
      for (let i = 0; i < v.length; i += 75) points.push([v[i], v[i + 1]]);
    }
    assert.ok(points.length >= 10, `BODY has points on the slice (${points.length})`);
    browser = await launchChromium({ webgl: true });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addCookies(await orthanc.browserCookies());
    page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  it('draws BODY on the CT slice and lists the ROIs drawn here', async () => {
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(study.studyInstanceUid)}`);
    const section = page.locator(`.viewer-rt-panel:not([hidden]) section[data-rr-rt-series="${rtSeries.seriesInstanceUid}"]:not([hidden])`);
    await section.waitFor({ timeout: 60_000 });
    assert.deepEqual(await section.locator('.viewer-seg-list li').allTextContents(), ['1 BODY']);
    assert.match(await section.textContent(), /\d+ contours lie on images not in this study/);
    await waitFor(async () => (await page.locator('canvas.viewer-rt-layer').getAttribute('data-rr-rt-drawn')) === '4', 20_000, 100, 'four contours drawn');
    await page.waitForTimeout(300);
    const on = await colours();
    assert.ok(bodyShare(on) > 0.8, `contour points in BODY's colour: ${(bodyShare(on) * 100).toFixed(0)} % (${JSON.stringify(on.slice(0, 5))})`);
    await page.screenshot({ path: process.env.RR_RT_SCREENSHOT || '/tmp/rr-viewer-rt.png' });
  });

  it('the ROI toggle and "Show" take the contours away', async () => {
    await page.locator('input[data-rr-roi="1"]').uncheck();
    const off = await colours();
    assert.equal(greyShare(off), 1, `ROI off: grey (${JSON.stringify(off.slice(0, 5))})`);
    await page.locator('input[data-rr-roi="1"]').check();
    assert.ok(bodyShare(await colours()) > 0.8, 'ROI on again');
    await page.locator('input[data-rr-rt-show]').uncheck();
    assert.equal(greyShare(await colours()), 1, '"Show" off: grey');
    await page.locator('input[data-rr-rt-show]').check();
    assert.ok(bodyShare(await colours()) > 0.8, '"Show" on again');
    // the series panel's RTSTRUCT: its ROIs, where it is drawn, and back to the images
    await page.locator(`.viewer-series .series-item[data-series-uid="${rtSeries.seriesInstanceUid}"]`).click();
    const objectPanel = page.locator('.viewer-object[data-rr-object-kind="rtstruct"]:not([hidden])');
    await objectPanel.waitFor({ timeout: 10_000 });
    assert.match(await objectPanel.locator('.object-overlaid').textContent(), /^Drawn on the images of series #\d+ CT/);
    await objectPanel.locator('[data-rr-object-open]').click();
    await waitFor(async () => (await page.locator('.viewer-object:not([hidden])').count()) === 0, 10_000, 100, 'the images again');
    await page.waitForTimeout(500);
    assert.ok(bodyShare(await colours()) > 0.8, 'the contours are still drawn');
    // the CT loaded again (a click on its series): drawn on its first render
    const ctSeries = study.series.find((x) => x.modality === 'CT');
    const renders = Number(await page.locator('.viewer-viewport').getAttribute('data-rr-renders'));
    await page.locator(`.viewer-series .series-item[data-series-uid="${ctSeries.seriesInstanceUid}"]`).click();
    await waitFor(async () => Number(await page.locator('.viewer-viewport').getAttribute('data-rr-renders')) > renders, 20_000, 100, 'the CT drawn again');
    await page.waitForTimeout(300);
    assert.ok(bodyShare(await colours()) > 0.8, 'the contours are drawn on the reloaded series');
    assert.deepEqual(pageErrors, []);
  });
});
