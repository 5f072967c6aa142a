// Browser test of the automatic log-off, against the real plugin with a short idle time set in the configuration
// (Auth.IdleTimeoutSeconds 20): a radiologist types review notes on a study page whose AI panel keeps polling,
// then does nothing: the warning "You will be logged off in N s" appears, the log-off happens at the deadline
// (the polling does not keep the session), the login page says why, and after logging in again the typed notes
// are back in the review form. The audit trail records the automatic log-off with its reason. Orthanc Explorer
// renews the session on the user's clicks too (Resources/OrthancExplorer.js).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dcmdumpTags, dicomFilesOf, startOrthanc, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const PROVIDER_LIB = fileURLToPath(new URL('../lib/ai-provider.mjs', import.meta.url));
const HAVE_PROVIDER = fs.existsSync(PROVIDER_LIB);
const API_KEY = 'test-ai-key';
const IDLE = 20;
const RAD = { username: 'rad.idle', password: 'Rad-Idle-Password-2026!', role: 'radiologist', displayName: 'Dr Idle' };
const NOTES = 'Draft typed before the automatic log-off: nodule right upper lobe, compare with prior.';

describe('automatic log-off (browser)', { timeout: 240_000, skip: HAVE_PROVIDER ? false : 'Tests/lib/ai-provider.mjs does not exist' }, () => {
  let provider;
  let orthanc;
  let browser;
  let uid;
  const pageErrors = [];

  before(async () => {
    const { startAiProvider } = await import(PROVIDER_LIB);
    provider = await startAiProvider({ apiKey: API_KEY });
    orthanc = await startOrthanc({
      readingRoom: {
        ...(WEBAPP_DIR ? { WebAppDirectory: WEBAPP_DIR } : {}),
        Auth: { IdleTimeoutSeconds: IDLE, MaxSessionSeconds: 3600 },
        AI: { Provider: 'openai', BaseUrl: provider.url, Model: 'stand-in', ApiKey: API_KEY, Concurrency: 1 },
      },
    });
    await orthanc.createUser(RAD);
    const [file] = await dicomFilesOf(path.join(process.env.READING_ROOM_TEST_DATA || path.resolve('..', 'shared', 'dicom'), 'ct_chest_lung_30'));
    assert.ok(file, 'a CT slice');
    const up = await uploadFile(orthanc, file);
    assert.equal(up.status, 200, up.text);
    uid = (await dcmdumpTags(file, ['StudyInstanceUID'])).StudyInstanceUID;
    await waitFor(async () => (await orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}`)).status === 200, 30_000, 200, 'the study');
    const started = await orthanc.api(`/api/ai/analyze/${encodeURIComponent(uid)}`, { method: 'POST', body: {} });
    assert.ok(started.status === 202 || started.status === 200, started.text);
    await waitFor(async () => (await orthanc.json(`/api/ai/analysis/${encodeURIComponent(started.json.id)}`)).status === 'completed',
      90_000, 250, 'the analysis to complete');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    await provider?.close();
  });

  async function logIn(page) {
    await page.getByLabel('Username').fill(RAD.username);
    await page.getByLabel('Password').fill(RAD.password);
    await page.getByLabel('Password').press('Enter');
  }

  it('warns, logs off at the deadline despite the polling, and keeps the typed notes for the next login', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/#/studies/${encodeURIComponent(uid)}`);
    await logIn(page);
    const notes = page.getByLabel('Radiologist notes');
    await notes.waitFor({ timeout: 30_000 });
    // the session refreshes on activity at most once per activity interval (a quarter of the idle time,
    // session.ts; the login counts as one); activity within an interval is marked by a refresh at its end.
    // The page can be ready within the login's interval: the idle time then counts from that refresh.
    await notes.click(); // activity: the idle time starts again from here (or the end of its interval)
    await notes.fill(NOTES); // typed, never saved
    const typedAt = Date.now();

    const warning = page.locator('dialog.idle-warning');
    await warning.waitFor({ state: 'visible', timeout: (IDLE + IDLE / 4) * 1000 });
    assert.match(await warning.textContent(), /You will be logged off in \d+ s/);
    assert.equal(await warning.locator('button').textContent(), 'Stay logged in');
    assert.ok(Date.now() - typedAt >= (IDLE / 2 - 3) * 1000, 'the warning comes near the end of the idle time, not at once');

    const notice = page.locator('.login-page', { hasText: 'logged off after a period without activity' });
    await notice.waitFor({ timeout: (IDLE + IDLE / 4 + 5) * 1000 });
    const loggedOffAfter = Date.now() - typedAt;
    // never sooner than the idle time after the typing; at most an activity interval (IDLE / 4) later
    assert.ok(loggedOffAfter >= (IDLE - 4) * 1000 && loggedOffAfter <= (IDLE + IDLE / 4 + 5) * 1000, `logged off after ${loggedOffAfter} ms`);
    assert.equal(await page.locator('dialog.idle-warning').count(), 0);

    // the server refused the session too, and recorded why
    const audit = await orthanc.json(`/api/audit?user=${RAD.username}&action=logout`);
    assert.ok(audit.data.some((r) => r.detail === 'automatic: idle'), JSON.stringify(audit.data));

    await logIn(page);
    const again = page.getByLabel('Radiologist notes');
    await again.waitFor({ timeout: 30_000 });
    assert.equal(await again.inputValue(), NOTES, 'the draft is back after the login');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('Orthanc Explorer: the user\'s clicks keep the session, doing nothing ends it', async () => {
    const context = await browser.newContext();
    await context.addCookies(await orthanc.browserCookies()); // Orthanc Explorer is for administrators
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/app/explorer.html`);
    await page.locator('#lookup').waitFor({ timeout: 15_000 });
    const system = () => page.evaluate(async () => (await fetch('../system', { credentials: 'same-origin' })).status);
    const t0 = Date.now();
    while (Date.now() - t0 < (IDLE + 8) * 1000) { // past the idle time of the login, with a click every 3 s
      await page.mouse.click(5, 5);
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(await system(), 200, `still logged in after ${Date.now() - t0} ms of activity`);
    }
    await new Promise((r) => setTimeout(r, (IDLE + 2) * 1000)); // nothing
    assert.equal(await system(), 403, 'the idle Explorer session has ended');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
