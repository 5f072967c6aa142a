// Browser test of the administrators' report templates page (#/templates): the navigation entry, the list
// with the built-ins, editing a field's label in the form and saving (the server keeps it at revision 2),
// retiring a template (it stays listed as retired and readable by id), and a radiologist without the page.
// Real Orthanc + plugin, Debian's chromium driven by playwright-core. One screenshot for a human look.
//
// Run: cd Tests && npm ci && node --test browser/report-templates.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startOrthanc, waitFor } from '../lib/orthanc.mjs';
import { launchChromium } from '../lib/browser.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const RAD = { username: 'rad.templates', password: 'Rad-Templates-Password-2026!', role: 'radiologist', displayName: 'Dr Templates' };

describe('Reading Room report templates page (browser)', { timeout: 180_000 }, () => {
  let orthanc;
  let browser;
  const pageErrors = [];

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    await orthanc.createUser(RAD);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  async function openAs(username, password, hash) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addCookies(await orthanc.browserCookies(username, password));
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/${hash}`);
    await page.locator('.appbar').waitFor({ timeout: 15_000 });
    return page;
  }

  it('admin edits a field label, saves, and retires a template', async () => {
    const page = await openAs('admin', orthanc.adminPassword, '#/templates');
    assert.equal(await page.locator('a[data-nav="templates"]').getAttribute('aria-current'), 'page');
    const row = (id) => page.locator(`tr.template-row[data-template-id="${id}"]`);
    await row('ct-chest').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('tr.template-row').count(), 6);

    // edit the label of "Lungs and airways" in CT Chest, as an administrator would
    await row('ct-chest').locator('[data-action="edit"]').click();
    const label = page.locator('.tpl-field[data-field-id="lungs"] input[data-prop="label"]');
    await label.waitFor();
    assert.equal(await label.inputValue(), 'Lungs and airways');
    await label.fill('Lungs, airways and pleura');
    await page.locator('[data-action="save"]').click();
    await page.locator('.flash').filter({ hasText: 'revision 2' }).waitFor({ timeout: 15_000 });
    const saved = await orthanc.json('/api/reports/templates/ct-chest');
    assert.equal(saved.revision, 2);
    assert.equal(saved.modified, true);
    assert.equal(saved.sections.find((s) => s.id === 'findings').fields.find((f) => f.id === 'lungs').label, 'Lungs, airways and pleura');
    // the list is read again after the flash: wait for its row
    await waitFor(async () => (await row('ct-chest').locator('.c-origin').textContent()) === 'Built-in, modified', 15_000, 100, 'the row says modified');
    assert.equal(await row('ct-chest').locator('.c-origin').textContent(), 'Built-in, modified');

    // retire the head CT template: listed as retired, still readable by id
    await row('ct-head').locator('[data-action="retire"]').click();
    await page.locator('tr.template-row.is-retired[data-template-id="ct-head"]').waitFor({ timeout: 15_000 });
    assert.match(await page.locator('.flash').textContent(), /retired/);
    assert.equal(await row('ct-head').locator('[data-action="restore"]').count(), 1);
    const head = await orthanc.json('/api/reports/templates/ct-head');
    assert.equal(head.retired, true);
    const active = await orthanc.json('/api/reports/templates');
    assert.ok(!active.data.some((t) => t.id === 'ct-head'));

    // open the editor once more for the picture: the form with sections and fields
    await row('ct-chest').locator('[data-action="edit"]').click();
    await page.locator('.tpl-section[data-section-id="findings"]').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'report-templates.png'), fullPage: false });
    await page.locator('[data-action="cancel"]').click();
    await row('ct-chest').waitFor();
    assert.deepEqual(pageErrors, []);
  });

  it('a radiologist has neither the navigation entry nor the page', async () => {
    const page = await openAs(RAD.username, RAD.password, '#/templates');
    assert.equal(await page.locator('a[data-nav="templates"]').count(), 0);
    await page.getByText('This page is not available for your role.').waitFor({ timeout: 15_000 });
    assert.deepEqual(pageErrors, []);
  });
});
