// Browser test of the System page's "Off-site backup" card (WebViewer/src/system-backup.ts) against one real
// Orthanc + plugin whose backup goes to the signature-checking S3 stand-in (Tests/lib/s3-standin.mjs, as in
// Tests/integration/backup.test.mjs): one instance copied, one made a dead letter by an outage (failNext: both
// tries answered 500); the card shows the counts and the dead letter (its study UID as text), "Re-drive" on the
// page queues it again and it disappears once copied; a restore of the first study behind the confirmation
// reports it already in Orthanc; the ingestion panel says this node follows the change log.
//
// Run: cd Tests && npm ci && node --test browser/system-backup.test.mjs
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import { startS3Standin } from '../lib/s3-standin.mjs';
import { dicomFilesOf, startOrthanc, uploadFile, waitFor } from '../lib/orthanc.mjs';
import { launchChromium, pageErrorText } from '../lib/browser.mjs';

const SHOTS = process.env.RR_SCREENSHOT_DIR || '/tmp';
const BUCKET = 'rr-backup-ui';

describe('System page: off-site backup (browser)', { timeout: 120_000 }, () => {
  let s3;
  let orthanc;
  let browser;
  const pageErrors = [];
  let ctStudy;
  let crStudy;

  const status = async () => (await orthanc.api('/api/admin/backup')).json;

  before(async () => {
    s3 = await startS3Standin({ accessKeyId: 'AKIASTANDIN', secretAccessKey: 'standin-secret', bucket: BUCKET });
    orthanc = await startOrthanc({
      readingRoom: {
        Backup: {
          Enabled: true, Target: 's3', Key: crypto.randomBytes(32).toString('base64'), MaxAttempts: 2, Workers: 1,
          S3: { Endpoint: s3.url, Region: 'us-east-1', Bucket: BUCKET, AccessKeyId: 'AKIASTANDIN', SecretAccessKey: 'standin-secret', PathStyle: true },
        },
      },
    });
    const [ct] = await dicomFilesOf('ct_chest_lung_30');
    const [cr] = await dicomFilesOf('cr_chest_mono1');
    assert.ok(ct && cr, 'test files');
    let up = await uploadFile(orthanc, ct);
    assert.equal(up.status, 200, up.text);
    ctStudy = (await orthanc.json(`/instances/${up.json.ID}/simplified-tags`)).StudyInstanceUID;
    await waitFor(async () => (await status()).done >= 1, 30_000, 250, 'the first copy');
    s3.failNext(2, 500); // both tries of the next copy: a dead letter
    up = await uploadFile(orthanc, cr);
    assert.equal(up.status, 200, up.text);
    crStudy = (await orthanc.json(`/instances/${up.json.ID}/simplified-tags`)).StudyInstanceUID;
    await waitFor(async () => (await status()).failed === 1, 30_000, 250, 'a dead letter');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => {});
    await orthanc?.stop();
    await s3?.stop();
  });

  it('shows the counts and the dead letter, re-drives it from the page, restores behind a confirmation', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await context.addCookies(await orthanc.browserCookies('admin', orthanc.adminPassword));
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(pageErrorText(e)));
    await page.goto(`${orthanc.baseUrl}/reading-room/#/system`);
    const card = page.locator('[data-section="backup"]');
    const fact = (field) => card.locator(`[data-field="${field}"] dd`);
    await fact('failed').waitFor({ timeout: 15_000 });

    assert.equal(await card.locator('.sys-title').textContent(), 'Off-site backup');
    assert.equal(await card.locator('.health-badge').textContent(), 'dead letters');
    assert.equal(await fact('target').textContent(), 'S3-compatible object store (s3)');
    assert.equal(await fact('location').textContent(), `${s3.url}, bucket ${BUCKET}`);
    assert.doesNotMatch(await card.textContent(), /standin-secret|AKIASTANDIN/);
    assert.equal(await fact('done').textContent(), '1');
    assert.equal(await fact('failed').textContent(), '1');
    assert.equal(await fact('queued').textContent(), '0');
    assert.equal(await fact('oldestWaiting').textContent(), 'none waiting');
    assert.match(await card.locator('[data-field="backupLastError"]').textContent(), /500/);
    const rows = card.locator('tr[data-dead-letter]');
    assert.equal(await rows.count(), 1);
    const cells = await rows.first().locator('td').allTextContents();
    assert.match(cells[0], new RegExp(`^studies/${crStudy.replaceAll('.', '\\.')}/[0-9.]+\\.rrb$`));
    assert.equal(cells[1], crStudy);
    assert.equal(cells[2], '2');
    assert.match(cells[3], /500/);
    // the ingestion panel: the embedded store's node always follows the change log
    assert.equal(await page.locator('[data-section="health"] [data-field="leader"] dd').textContent(), 'This node follows the change log');
    assert.match(await page.locator('[data-section="health"] .sys-problems, [data-section="health"]').first().textContent(), /dead letter/);
    await card.screenshot({ path: path.join(SHOTS, 'rr-system-backup.png') });

    // Re-drive from the page: queued again, copied (the stand-in answers again), gone from the list
    await rows.first().locator('[data-action="redrive-one"]').click();
    await card.locator('[data-field="redriveOutcome"]').waitFor({ timeout: 10_000 });
    assert.equal(await card.locator('[data-field="redriveOutcome"]').textContent(), '1 copy queued again.');
    await waitFor(async () => (await status()).done === 2, 30_000, 250, 'the re-driven copy');
    await page.locator('[data-action="refresh"]').click();
    // the re-drive's own refresh may already show no dead letter with the copy still queued (done 1):
    // wait for the card that shows the copy done
    await waitFor(async () => (await fact('done').textContent()) === '2', 15_000, 100, 'the card shows 2 copies done');
    await card.locator('[data-field="noDeadLetters"]').waitFor({ timeout: 15_000 });
    assert.equal(await rows.count(), 0);
    assert.equal(await fact('done').textContent(), '2');
    assert.equal(await fact('failed').textContent(), '0');
    assert.equal(await card.locator('.health-badge').textContent(), 'ok');

    // Restore: a bad request is refused on the page; the study behind the confirmation is already in Orthanc
    await card.locator('input[name="studyInstanceUid"]').fill('not-a-uid');
    await card.locator('[data-action="restore"]').click();
    assert.match(await card.locator('[data-field="restoreInvalid"]').textContent(), /digits separated by dots/);
    await card.locator('input[name="studyInstanceUid"]').fill(ctStudy);
    await card.locator('[data-action="restore"]').click();
    const dialog = page.locator('dialog.dialog');
    await dialog.waitFor({ timeout: 5_000 });
    assert.match(await dialog.textContent(), new RegExp(`the study ${ctStudy.replaceAll('.', '\\.')} from the backup and writes it into Orthanc`));
    await dialog.getByRole('button', { name: 'Restore into Orthanc' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 30_000 });
    const result = card.locator('[data-field="restoreResult"]');
    await result.waitFor({ timeout: 10_000 });
    assert.equal(await result.getAttribute('data-complete'), 'true');
    assert.equal(await result.textContent(),
      'Restore complete: 1 object of 1 study found in the backup; 1 object restored into Orthanc (1 of them already there), 0 refused, 0 failed.');
    assert.match(await card.textContent(), /writes into Orthanc/);
    await card.screenshot({ path: path.join(SHOTS, 'rr-system-backup-restored.png') });
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
