// Orthanc Explorer gains links to the Reading Room: a worklist button on its
// home page and "Open in Reading Room" on a study, which opens the study page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dicomFilesOf, startOrthanc, storescu, waitFor } from '../lib/orthanc.mjs';
import { launchChromium } from '../lib/browser.mjs';


describe('Orthanc Explorer integration (browser)', { timeout: 120_000 }, () => {
  let orthanc;
  let browser;
  let page;
  const errors = [];

  before(async () => {
    orthanc = await startOrthanc();
    await storescu(orthanc, await dicomFilesOf('ct_chest_lung_30'));
    await waitFor(async () => (await orthanc.json('/api/dicom/studies')).total === 1, 30_000, 100, 'the study in the worklist');
    browser = await launchChromium();
    const context = await browser.newContext();
    await context.addCookies(await orthanc.browserCookies()); // Orthanc Explorer is for administrators
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
  });

  after(async () => {
    await browser?.close();
    await orthanc?.stop();
  });

  it('shows a worklist link on the home page', async () => {
    await page.goto(`${orthanc.baseUrl}/app/explorer.html`);
    const link = page.locator('a', { hasText: 'Reading Room worklist' });
    await link.waitFor();
    assert.match(await link.getAttribute('href'), /\/reading-room\/index\.html$/);
  });

  it('opens a study from its Orthanc Explorer page', async () => {
    const [orthancStudyId] = await orthanc.json('/studies');
    // the popup shares the session cookie
    const { data: [study] } = await orthanc.json('/api/dicom/studies');
    await page.goto(`${orthanc.baseUrl}/app/explorer.html#study?uuid=${orthancStudyId}`);
    const button = page.locator('#reading-room-open').first();
    await button.waitFor();
    const [popup] = await Promise.all([page.waitForEvent('popup'), button.click()]);
    await popup.waitForLoadState();
    assert.equal(new URL(popup.url()).hash, `#/studies/${study.studyInstanceUid}`);
    await popup.locator('text=ThoraxRoutine').first().waitFor();
    assert.deepEqual(errors, []);
  });
});
