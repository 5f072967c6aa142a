// Browser test of the Reading Room's access control: login page, what each role sees, wrong password,
// logout, technician upload. Real Orthanc + plugin with access control (shared harness), Debian's chromium
// driven by playwright-core. Run: cd Tests && npm ci && node --test browser/auth.test.mjs
//
// Harness (Tests/lib/orthanc.mjs): startOrthanc() runs the plugin with access control on; the user
// 'admin' has the password orthanc.adminPassword; orthanc.login(username, password) -> {status, token,
// csrfToken, ...}; orthanc.createUser({ username, password, role, displayName }).
// Optional: READING_ROOM_WEBAPP_DIR serves a freshly built WebViewer/dist instead of the embedded app.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { dcmdumpTags, dicomFilesOf, startOrthanc, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const WEBAPP_DIR = process.env.READING_ROOM_WEBAPP_DIR ? path.resolve(process.env.READING_ROOM_WEBAPP_DIR) : null;
const UPLOAD_FOLDER = 'mr_brain_t1post_24';

// Display names carry markup: they must show as text.
const USERS = {
  rad: { username: 'rad.one', password: 'Rad-Password-2026!', role: 'radiologist', displayName: 'Dr Rad <img src=x onerror=alert(1)>' },
  tech: { username: 'tech.one', password: 'Tech-Password-2026!', role: 'technician', displayName: 'Tech <script>alert(2)</script>' },
  phys: { username: 'phys.one', password: 'Phys-Password-2026!', role: 'physician', displayName: 'Physician One' },
};

describe('Reading Room access control (browser)', { timeout: 240_000 }, () => {
  let orthanc;
  let browser;
  let uploadFiles;
  let uploadStudyUid;
  const contexts = [];
  const dialogs = [];
  const pageErrors = [];

  before(async () => {
    orthanc = await startOrthanc(WEBAPP_DIR ? { readingRoom: { WebAppDirectory: WEBAPP_DIR } } : {});
    for (const u of Object.values(USERS)) await orthanc.createUser(u);

    uploadFiles = (await dicomFilesOf(UPLOAD_FOLDER)).slice(0, 3);
    assert.equal(uploadFiles.length, 3);
    uploadStudyUid = (await dcmdumpTags(uploadFiles[0], ['StudyInstanceUID'])).StudyInstanceUID;
    assert.ok(uploadStudyUid);

    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
  });

  /** A fresh browser context (own cookies) on the app; not logged in. */
  async function openApp(hash = '') {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/${hash}`);
    return page;
  }

  async function submitLogin(page, username, password) {
    await page.locator('.login-card').waitFor({ timeout: 15_000 });
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Password').press('Enter');
  }

  /** Submits a login that must fail; resolves with the error shown. */
  async function failedLogin(page, username, password) {
    await submitLogin(page, username, password);
    const error = page.locator('.login-error');
    return waitFor(async () => {
      const text = ((await error.textContent()) || '').trim();
      return !(await page.locator('.login-submit').isDisabled()) && text;
    }, 10_000, 100, 'the login error');
  }

  async function loginAs(user, hash = '') {
    const page = await openApp(hash);
    await submitLogin(page, user.username, user.password);
    await page.locator('.appbar').waitFor({ timeout: 15_000 });
    return page;
  }

  const navIds = (page) => page.locator('.appbar [data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')));
  const apiStatus = (page, p) => page.evaluate(async (url) => (await fetch(url)).status, p);
  const notAllowed = (page) => page.locator('.outlet', { hasText: 'not available for your role' }).waitFor({ timeout: 10_000 });

  async function goHash(page, hash) {
    await page.evaluate((h) => { location.hash = h; }, hash);
  }

  async function logout(page) {
    await page.locator('[data-action="logout"]').click();
    await page.locator('.login-card').waitFor({ timeout: 10_000 });
  }

  it('shows the login page to a visitor', async () => {
    const page = await openApp();
    await page.locator('.login-card').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.login-title').textContent(), 'Reading Room');
    assert.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username');
    assert.equal(await page.getByLabel('Password').getAttribute('autocomplete'), 'current-password');
    assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');
    assert.equal(await page.locator('.appbar').count(), 0);
    assert.equal(await apiStatus(page, '/api/dicom/studies'), 403);
    await page.screenshot({ path: path.join(SHOTS, 'rr-auth-login.png') });
  });

  it('a wrong password shows the error and gives no session; an unknown user gets the same answer', async () => {
    const page = await openApp();
    const wrongPassword = await failedLogin(page, USERS.phys.username, 'not-the-password');
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    assert.equal(await page.locator('.appbar').count(), 0);
    assert.equal(await apiStatus(page, '/api/auth/me'), 403);
    await page.screenshot({ path: path.join(SHOTS, 'rr-auth-login-error.png') });

    const unknownUser = await failedLogin(page, 'no-such-user-xyz', 'not-the-password');
    assert.equal(unknownUser, wrongPassword, 'the message does not tell whether the user exists');
  });

  it('technician: uploads files, sees them arrive in the worklist, cannot open studies', async () => {
    const page = await loginAs(USERS.tech);
    assert.deepEqual(await navIds(page), ['worklist', 'upload']);
    assert.equal(await page.locator('.role-badge').textContent(), 'Technician');
    assert.equal(await page.locator('.user-name').textContent(), USERS.tech.displayName);

    await page.locator('a[data-nav="upload"]').click();
    await page.locator('input[type="file"][data-upload="files"]').setInputFiles(uploadFiles);
    await page.locator('.upload-summary[data-state="done"]').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('tr.upload-row').count(), 3);
    assert.equal(await page.locator('tr.upload-row[data-status="stored"]').count(), 3);
    assert.match(await page.locator('.upload-summary-text').textContent(), /3 of 3 files done · 3 stored · 0 already stored · 0 failed/);
    await page.screenshot({ path: path.join(SHOTS, 'rr-auth-upload.png') });

    await page.locator('a[data-nav="worklist"]').click();
    const row = page.locator(`tbody tr.study-row[data-uid="${uploadStudyUid}"]`);
    await waitFor(async () => {
      if (await row.count()) return true;
      await page.locator('.worklist-page .topbar-right .btn', { hasText: 'Refresh' }).click();
      return false;
    }, 60_000, 1000, 'the uploaded study in the worklist');
    assert.match(await row.locator('td.c-counts').textContent(), /1 \/ 3/);
    await row.locator('td.c-patientName').click();
    await page.waitForTimeout(300);
    assert.equal(new URL(page.url()).hash, '#/', 'a technician stays on the worklist');
    assert.equal(await page.locator('[data-rr-viewer]').count(), 0);
    await goHash(page, `#/studies/${encodeURIComponent(uploadStudyUid)}`);
    await notAllowed(page);
    await logout(page);
  });

  it('radiologist: worklist and study page, no upload or admin pages', async () => {
    const page = await loginAs(USERS.rad);
    assert.deepEqual(await navIds(page), []);
    assert.equal(await page.locator('.user-name').textContent(), USERS.rad.displayName);
    assert.equal(await page.locator('.role-badge').textContent(), 'Radiologist');
    assert.equal(await page.locator('img, script:not([src])').count(), 0, 'the display name is not parsed as markup');
    const row = page.locator(`tbody tr.study-row[data-uid="${uploadStudyUid}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.locator('td.c-patientName').click();
    await page.locator('tr.series-row').first().waitFor({ state: 'attached', timeout: 10_000 }); // in the collapsed series table
    assert.equal(await page.locator('[data-rr-viewer]').count(), 1);
    for (const hash of ['#/upload', '#/users', '#/audit']) {
      await goHash(page, hash);
      await notAllowed(page);
    }
    assert.equal(await apiStatus(page, '/api/users'), 403, 'the server refuses admin routes too');
    await logout(page);
  });

  it('physician: the reports list as home (issue 12), no upload or admin pages', async () => {
    const page = await loginAs(USERS.phys);
    assert.deepEqual(await navIds(page), []);
    assert.equal(await page.locator('.role-badge').textContent(), 'Physician');
    // "#/" is the physicians' home, the reports list (their studies open from their reports)
    await page.locator('.reports-page').waitFor();
    assert.equal(new URL(page.url()).hash, '#/reports');
    assert.equal(await page.locator('.worklist-page').count(), 0);
    for (const hash of ['#/upload', '#/users', '#/audit']) {
      await goHash(page, hash);
      await notAllowed(page);
    }
    await logout(page);
  });

  it('changing one\'s password keeps the session; a session revoked by an admin shows the login page', async () => {
    const page = await loginAs(USERS.phys);
    const newPassword = 'Phys-Changed-2026!';
    await page.locator('[data-action="change-password"]').click();
    const dialog = page.locator('dialog.dialog');
    await dialog.getByLabel('Current password').fill(USERS.phys.password);
    await dialog.getByLabel('New password', { exact: true }).fill('short');
    await dialog.getByLabel('Repeat new password').fill('short');
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await waitFor(async () => ((await dialog.locator('.dialog-error').textContent()) || '').trim(), 10_000, 100, 'the policy message');
    await dialog.getByLabel('New password', { exact: true }).fill(newPassword);
    await dialog.getByLabel('Repeat new password').fill(newPassword);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    const changed = page.locator('.flash', { hasText: 'Password changed' });
    await waitFor(async () => (await changed.count()) || (await page.locator('.login-card').count()), 10_000, 100, 'the change to finish');
    assert.equal(await changed.count(), 1,
      'after the change the app logs in again with the new password; a login page here means the server refused ' +
      'POST /api/auth/login because the browser still sends the revoked rr_session cookie');
    assert.equal(await dialog.count(), 0);
    assert.equal(await apiStatus(page, '/api/auth/me'), 200, 'still logged in after the change');
    USERS.phys.password = newPassword;

    // an administrator resets the password: the user's tokens stop working
    await goHash(page, '#/reports?q=zzz');
    await page.locator('.reports-page').waitFor();
    const reset = await orthanc.api(`/api/users/${USERS.phys.username}/password`, { method: 'POST', body: { password: 'Phys-Reset-2026!!' } });
    assert.equal(reset.status, 200, reset.text);
    USERS.phys.password = 'Phys-Reset-2026!!';
    await page.locator('.reports-page .topbar-right .btn', { hasText: 'Refresh' }).click();
    await page.locator('.login-notice', { hasText: 'session has ended' }).waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, '#/reports?q=zzz', 'the route is kept for after the login');
    await submitLogin(page, USERS.phys.username, USERS.phys.password);
    await page.locator('.reports-page').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('input.search').inputValue(), 'zzz');
    await logout(page);
  });

  it('admin: users, audit with an intact chain, Orthanc Explorer link', async () => {
    const page = await loginAs({ username: 'admin', password: orthanc.adminPassword });
    assert.deepEqual(await navIds(page), ['worklist', 'upload', 'users', 'templates', 'audit', 'system', 'explorer']);
    assert.match(await page.locator('a[data-nav="explorer"]').getAttribute('href'), /\/app\/explorer\.html$/);

    await page.locator('a[data-nav="users"]').click();
    for (const u of Object.values(USERS)) {
      const row = page.locator(`tr.user-row[data-username="${u.username}"]`);
      await row.waitFor({ timeout: 10_000 });
      assert.equal(await row.locator('td.c-display').textContent(), u.displayName);
      assert.equal(await row.locator('select').inputValue(), u.role);
    }
    assert.equal(await page.locator('img, script:not([src])').count(), 0);
    await page.screenshot({ path: path.join(SHOTS, 'rr-auth-users.png') });

    await page.locator('a[data-nav="audit"]').click();
    await page.locator('tr.audit-row').first().waitFor({ timeout: 10_000 });
    await page.locator('[data-action="verify"]').click();
    await page.locator('.verify-result[data-intact="true"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: path.join(SHOTS, 'rr-auth-audit.png') });
    await logout(page);
  });

  it('logout ends the session: a reload shows the login page, the API refuses', async () => {
    const page = await loginAs({ username: 'admin', password: orthanc.adminPassword }, '#/users');
    await page.locator('.users-page').waitFor({ timeout: 10_000 }); // the route asked for before login
    assert.equal(await apiStatus(page, '/api/auth/me'), 200);
    await logout(page);
    assert.equal(new URL(page.url()).hash, '#/');
    await page.reload();
    await page.locator('.login-card').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('.appbar').count(), 0);
    assert.equal(await apiStatus(page, '/api/auth/me'), 403);
  });

  it('raised no dialog nor page error', () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
  });
});
