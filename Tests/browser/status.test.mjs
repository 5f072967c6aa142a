// Browser test of the administrators' System page (#/system): health of the plugin (store counts, ingestion,
// re-synchronisation behind a confirmation), storage (disk use, free space, today's sample) and the AI status
// without a provider; a radiologist gets neither
// the navigation entry nor the page. Real Orthanc + plugin (shared harness, no AI provider), Debian's chromium
// driven by playwright-core.
//
// Run: cd Tests && npm ci && node --test browser/status.test.mjs
// Optional: READING_ROOM_WEBAPP_DIR serves a freshly built WebViewer/dist instead of the embedded app
// (e.g. READING_ROOM_WEBAPP_DIR=WebViewer/dist after `cd WebViewer && npm run build`).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dicomFilesOf, startOrthanc, uploadFile, waitFor, waitIngestIdle } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;

const RAD = { username: 'rad.status', password: 'Rad-Status-Password-2026!', role: 'radiologist', displayName: 'Dr Status' };

describe('Reading Room System page (browser)', { timeout: 240_000 }, () => {
  let orthanc;
  let browser;
  const dialogs = [];
  const pageErrors = [];

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    await orthanc.createUser(RAD);
    const [file] = await dicomFilesOf('ct_chest_lung_30');
    assert.ok(file, 'a file in ct_chest_lung_30');
    const up = await uploadFile(orthanc, file);
    assert.equal(up.status, 200, `POST /instances: HTTP ${up.status} ${up.text}`);
    // Orthanc reports the series, study and patient stable StableAge (2 s) after the upload; those three
    // changes pass through the ingestion queue too: wait for them, or the page can show a backlog of 3
    await waitFor(async () => (await orthanc.json('/changes?limit=100')).Changes.some((c) => c.ChangeType === 'StablePatient'), 15_000, 100, 'the patient reported stable');
    await waitIngestIdle(orthanc);
    const health = await orthanc.json('/api/health');
    assert.equal(health.store.instances, 1, JSON.stringify(health));

    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  /** A page of a new browser context logged in as the user, on the hash. */
  async function openAs(username, password, hash) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies(username, password));
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/${hash}`);
    await page.locator('.appbar').waitFor({ timeout: 15_000 });
    return page;
  }

  const navIds = (page) => page.locator('.appbar [data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')));
  const fact = (page, section, field) => page.locator(`[data-section="${section}"] [data-field="${field}"] dd`);

  it('admin: health ok with the counts, AI not configured, re-synchronisation confirmed and followed', async () => {
    const page = await openAs('admin', orthanc.adminPassword, '#/system');
    assert.ok((await navIds(page)).includes('system'), 'administrators have the System entry');
    assert.equal(await page.locator('a[data-nav="system"]').textContent(), 'System');
    assert.equal(await page.locator('a[data-nav="system"]').getAttribute('aria-current'), 'page');

    const badge = page.locator('[data-section="health"] .health-badge');
    await badge.waitFor({ timeout: 15_000 });
    assert.equal(await badge.textContent(), 'ok');
    assert.equal(await badge.getAttribute('data-status'), 'ok');
    assert.equal(await fact(page, 'health', 'studies').textContent(), '1');
    assert.equal(await fact(page, 'health', 'series').textContent(), '1');
    assert.equal(await fact(page, 'health', 'instances').textContent(), '1');
    assert.equal(await fact(page, 'health', 'backend').textContent(), 'sqlite');
    assert.match(await fact(page, 'health', 'version').textContent(), /^\d+\.\d+\.\d+/);
    assert.match(await fact(page, 'health', 'schemaVersion').textContent(), /^\d+$/);
    assert.equal(await fact(page, 'health', 'worker').textContent(), 'Running');
    assert.equal(await fact(page, 'health', 'backlog').textContent(), '0');

    const ai = page.locator('[data-section="ai"] .ai-not-configured');
    await ai.waitFor({ timeout: 15_000 });
    assert.match(await ai.textContent(), /AI analysis is not configured\./);
    assert.match(await ai.textContent(), /ReadingRoom\.AI\.Provider/);
    assert.equal(await page.locator('[data-section="ai"] .health-badge').getAttribute('data-reachable'), 'off');
    assert.equal(await page.locator('[data-action="ai-check"]').count(), 0);
    assert.equal(await page.locator('.cloud-warning').count(), 0);
    assert.equal(await fact(page, 'ai', 'cost').textContent(), '0.0000');

    // Storage: Orthanc's disk use from /statistics, the free space of its folders, today's sample
    const stats = await orthanc.json('/statistics');
    const storageBadge = page.locator('[data-section="storage"] .health-badge');
    await storageBadge.waitFor({ timeout: 15_000 });
    assert.equal(await storageBadge.textContent(), 'ok');
    assert.match(await fact(page, 'storage', 'orthancDisk').textContent(), /^[\d.]+ (kB|MB) \(1 instance\)$/);
    assert.ok(Number(stats.TotalDiskSize) > 0);
    assert.match(await fact(page, 'storage', 'storageFree').textContent(), /^[\d.]+ [kMGT]?B free of [\d.]+ [kMGT]?B \([\d.]+ %\)$/);
    assert.equal(await fact(page, 'storage', 'threshold').textContent(), 'below 10 % free');
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(await page.locator('[data-section="storage"] table.storage-days tbody tr td').first().textContent(), today);
    assert.equal(await page.locator('[data-section="storage"] .storage-bar').count(), 1);
    await page.screenshot({ path: path.join(SHOTS, 'rr-system.png'), fullPage: true });

    // Re-synchronise: cancel first (nothing is sent), then confirm
    const before = (await orthanc.json('/api/admin/ingest')).reconciliations;
    await page.locator('[data-action="resync"]').click();
    const dialog = page.locator('dialog.dialog');
    await dialog.waitFor({ timeout: 5_000 });
    assert.match(await dialog.locator('.dialog-title').textContent(), /Re-synchronise/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 5_000 });
    await page.waitForTimeout(300);
    assert.equal((await orthanc.json('/api/admin/ingest')).reconciliations, before, 'cancel sends nothing');

    await page.locator('[data-action="resync"]').click();
    await dialog.getByRole('button', { name: 'Re-synchronise' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    const outcome = page.locator('.resync-outcome');
    await page.locator('.resync-outcome[data-phase="done"]').waitFor({ timeout: 60_000 });
    assert.match(await outcome.textContent(), /^Re-synchronisation finished at \d\d:\d\d:\d\d\.$/);
    await waitFor(async () => (await orthanc.json('/api/admin/ingest')).reconciliations > before, 10_000, 200, 'the reconciliation counted');
    assert.equal(await fact(page, 'health', 'instances').textContent(), '1');
    await page.screenshot({ path: path.join(SHOTS, 'rr-system-resync.png'), fullPage: true });

    // the refresh runs on its own (every 10 s): the "Updated" time changes
    const updated = page.locator('.system-page .updated');
    const first = await updated.textContent();
    await waitFor(async () => (await updated.textContent()) !== first, 20_000, 250, 'the periodic refresh');
    await page.close();
  });

  it('radiologist: no System entry, the route is not allowed', async () => {
    const page = await openAs(RAD.username, RAD.password, '#/');
    await page.locator('.worklist-page').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('a[data-nav="system"]').count(), 0);
    assert.ok(!(await navIds(page)).includes('system'));
    await page.evaluate(() => { location.hash = '#/system'; });
    await page.locator('.outlet', { hasText: 'not available for your role' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.system-page').count(), 0);
    const status = await page.evaluate(async () => (await fetch('/api/admin/ingest')).status);
    assert.equal(status, 403, 'the server refuses the admin routes too');
    await page.close();
  });

  it('no page errors and no browser dialogs', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(dialogs, []);
  });
});
