// Off-site backup (Plugin/backup/backup_queue.c, backup_restore.c, api/backup_api.c) against a real Orthanc
// with the plugin and the S3 and Cloudinary stand-ins (Tests/lib/*-standin.mjs: they verify every request's
// signature; failNext plays an outage). C-STORE'd instances appear in the bucket sealed (RRB1
// envelope, no 'DICM' preamble, no plain bytes of the file) with their day marker, and so is an object
// created in a study through /tools/create-dicom as the report outputs worker creates report objects; an outage makes the
// copies retry with back-off and end as dead letters (health degraded, the last error says 500), a re-drive
// after the target recovers copies them, nothing lost; kill -9 of Orthanc with items queued: after the
// restart every one is copied; restore into an EMPTY second Orthanc (its own store, nothing shared but the
// bucket) by study and since a date gives back every file byte for byte; a tampered object is refused with
// the reason and not imported, the rest of its study is; a third Orthanc with another key imports nothing;
// the routes are the administrators'; the command Resources/scripts/rr-backup-restore.
// Cloudinary: one instance copied and restored (a round trip through the signed upload, Admin API list and
// signed download).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startS3Standin } from '../lib/s3-standin.mjs';
import { startCloudinaryStandin } from '../lib/cloudinary-standin.mjs';
import { startOrthanc, storescu, testData, waitFor, httpRequest, repoRoot, ADMIN_PASSWORD } from '../lib/orthanc.mjs';

const CT = path.join(testData, 'ct_chest_lung_30');
const CR = path.join(testData, 'cr_chest_mono1');
const KEY = crypto.randomBytes(32).toString('base64');
const OTHER_KEY = crypto.randomBytes(32).toString('base64');
const BUCKET = 'rr-backup';

// ------------------------------------------------------------ stand-ins (they verify every signature)

let s3;
let cld;
let endpoint;
const objects = { get: (k) => s3.objects().get(k), has: (k) => s3.objects().has(k), keys: () => s3.objects().keys() };
const failures500 = () => s3.requests.filter((r) => r.status === 500).length;

// ------------------------------------------------------------ helpers

const backupConfig = (key, extra = {}) => ({
  Backup: {
    Enabled: true, Target: 's3', Key: key, MaxAttempts: 3, Workers: 2,
    S3: { Endpoint: endpoint, Region: 'us-east-1', Bucket: BUCKET, AccessKeyId: 'AKIASTANDIN', SecretAccessKey: 'standin-secret', PathStyle: true },
    ...extra,
  },
});

let A; // the Orthanc that is backed up
const originals = new Map(); // SOP Instance UID -> { file, bytes, study }

async function instanceOf(orthanc, id) {
  const tags = await orthanc.json(`/instances/${id}/simplified-tags`);
  return { sop: tags.SOPInstanceUID, study: tags.StudyInstanceUID };
}

/** C-STORE files into A and remember them by SOP Instance UID (read back from Orthanc). */
async function storeAndRemember(files) {
  const before = new Set(await A.json('/instances'));
  await storescu(A, files);
  const ids = (await A.json('/instances')).filter((id) => !before.has(id));
  for (const id of ids) {
    const { sop, study } = await instanceOf(A, id);
    const r = await httpRequest(`${A.baseUrl}/instances/${id}/file`, { headers: A.authHeaders() });
    originals.set(sop, { bytes: r.body, study });
  }
  return ids.length;
}

/** Run the restore command (asynchronously: the S3 stand-in lives in this process). */
function restoreCommand(url, args) {
  return new Promise((resolve) => {
    const child = spawn(path.join(repoRoot, 'Resources', 'scripts', 'rr-backup-restore'), ['--url', url, ...args],
      { env: { ...process.env, RR_PASSWORD: ADMIN_PASSWORD } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const status = async (o = A) => (await o.api('/api/admin/backup')).json;
const rrbKeys = () => [...s3.objects().keys()].filter((k) => k.endsWith('.rrb'));

before(async () => {
  s3 = await startS3Standin({ accessKeyId: 'AKIASTANDIN', secretAccessKey: 'standin-secret', bucket: BUCKET });
  cld = await startCloudinaryStandin({ cloudName: 'rr-test', apiKey: '424242', apiSecret: 'cloudinary-standin-secret' });
  endpoint = s3.url;
  A = await startOrthanc({ readingRoom: backupConfig(KEY) });
});

after(async () => {
  await A?.stop();
  await s3?.stop();
  await cld?.stop();
});

test('stored instances are copied sealed, with their day markers', async () => {
  const files = fs.readdirSync(CT).filter((f) => f.endsWith('.dcm')).sort().slice(0, 6).map((f) => path.join(CT, f));
  const n = await storeAndRemember(files);
  assert.equal(n, 6);
  await waitFor(async () => (await status()).done >= 6, 30000, 250, 'six copies');
  const st = await status();
  assert.equal(st.enabled, true);
  assert.equal(st.target, 's3');
  assert.equal(st.endpoint, endpoint, 'where the copies go, for the System page');
  assert.equal(st.bucket, BUCKET);
  assert.doesNotMatch(JSON.stringify(st), /standin-secret/);
  assert.equal(st.failed, 0);
  assert.equal(st.queued, 0);
  assert.equal(rrbKeys().length, 6);
  const today = new Date().toISOString().slice(0, 10);
  for (const [sop, o] of originals) {
    const key = `studies/${o.study}/${sop}.rrb`;
    const sealed = objects.get(key);
    assert.ok(sealed, `${key} in the bucket`);
    assert.equal(sealed.subarray(0, 4).toString('latin1'), 'RRB1');
    assert.equal(sealed.indexOf('DICM'), -1, 'no DICOM preamble in the sealed object');
    assert.equal(sealed.indexOf(o.bytes.subarray(200, 264)), -1, 'no plain bytes of the file');
    assert.ok(objects.has(`days/${today}/${o.study}`), 'the day marker');
  }
  const health = (await A.api('/api/health')).json;
  assert.equal(health.backup.done, 6);
  assert.equal(health.backup.failed, 0);
});

test('a report object (created in the study as the report outputs worker creates it) is copied too', async () => {
  const [ctStudyId] = await A.json('/studies');
  const pdf = Buffer.from('%PDF-1.4\n% Reading Room backup test report\n%%EOF\n');
  const r = await A.api('/tools/create-dicom', { method: 'POST', body: {
    Parent: ctStudyId,
    Tags: { Modality: 'DOC', SeriesDescription: 'Report', DocumentTitle: 'Report', SOPClassUID: '1.2.840.10008.5.1.4.1.1.104.1' },
    Content: `data:application/pdf;base64,${pdf.toString('base64')}`,
  } });
  assert.equal(r.status, 200, r.text);
  const { sop, study } = await instanceOf(A, r.json.ID);
  const f = await httpRequest(`${A.baseUrl}/instances/${r.json.ID}/file`, { headers: A.authHeaders() });
  originals.set(sop, { bytes: f.body, study });
  await waitFor(async () => (await status()).done >= originals.size, 30000, 250, 'the report object copied');
  assert.ok(objects.has(`studies/${study}/${sop}.rrb`));
});

test('an outage: retries with back-off, dead letters, re-drive after recovery, nothing lost', async () => {
  const failedBefore = failures500();
  s3.failNext(3, 500); // the three tries of the next item
  const n = await storeAndRemember([CR]);
  assert.equal(n, 1);
  // MaxAttempts 3: tries at 0, +2 s, +4 s, then a dead letter
  await waitFor(async () => (await status()).failed >= 1, 30000, 250, 'a dead letter');
  const st = await status();
  assert.equal(failures500() - failedBefore, 3, 'three tries reached the target');
  assert.equal(st.deadLetters.length, 1);
  const dead = st.deadLetters[0];
  assert.equal(dead.attempts, 3);
  assert.match(dead.lastError, /500/);
  assert.match(dead.objectKey, /^studies\/[0-9.]+\/[0-9.]+\.rrb$/);
  const health = (await A.api('/api/health')).json;
  assert.equal(health.status, 'degraded');
  assert.equal(health.backup.failed, 1);
  // the target answers again: re-drive
  const r = await A.api(`/api/admin/backup/${dead.id}/redrive`, { method: 'POST', body: {} });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.redriven, 1);
  assert.equal((await A.api(`/api/admin/backup/${dead.id}/redrive`, { method: 'POST', body: {} })).status, 409);
  assert.equal((await A.api('/api/admin/backup/999999/redrive', { method: 'POST', body: {} })).status, 404);
  await waitFor(async () => { const s = await status(); return s.failed === 0 && s.done >= originals.size; }, 30000, 250, 'the re-drive');
  assert.equal(rrbKeys().length, originals.size);
});

test('kill -9 of Orthanc with items queued: copied after the restart', async () => {
  s3.failNext(4, 500); // the first tries fail: the items wait in the queue
  const files = fs.readdirSync(CT).filter((f) => f.endsWith('.dcm')).sort().slice(6, 10).map((f) => path.join(CT, f));
  assert.equal(await storeAndRemember(files), 4);
  await waitFor(async () => { const s = await status(); return s.queued + s.inProgress >= 4; }, 30000, 100, 'four items queued');
  await A.kill9();
  await A.restart();
  await waitFor(async () => { const s = await status(); return s.done >= originals.size && s.queued === 0 && s.inProgress === 0; },
    60000, 250, 'every item copied after the restart');
  assert.equal(rrbKeys().length, originals.size);
  assert.equal((await status()).failed, 0);
});

test('restore into an empty Orthanc: byte for byte, by study and since a date', async () => {
  const B = await startOrthanc({ readingRoom: backupConfig(KEY) });
  try {
    assert.deepEqual(await B.json('/instances'), []);
    const counts = new Map();
    for (const o of originals.values()) counts.set(o.study, (counts.get(o.study) || 0) + 1);
    const ctStudy = [...counts].find(([, n]) => n > 1)[0]; // the CT (the CR is one instance)
    let r = await B.api('/api/admin/backup/restore', { method: 'POST', body: { studyInstanceUid: ctStudy } });
    assert.equal(r.status, 200, r.text);
    const inStudy = [...originals.values()].filter((o) => o.study === ctStudy).length;
    assert.equal(r.json.complete, true);
    assert.equal(r.json.restored, inStudy);
    assert.equal(r.json.refused, 0);
    // everything since today: the other study too (the CT's files are there already)
    const today = new Date().toISOString().slice(0, 10);
    r = await B.api('/api/admin/backup/restore', { method: 'POST', body: { since: today } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.restored, originals.size);
    assert.equal(r.json.alreadyStored, inStudy);
    const ids = await B.json('/instances');
    assert.equal(ids.length, originals.size);
    for (const id of ids) {
      const { sop } = await instanceOf(B, id);
      const f = await httpRequest(`${B.baseUrl}/instances/${id}/file`, { headers: B.authHeaders() });
      assert.ok(originals.has(sop), `${sop} was backed up`);
      assert.ok(f.body.equals(originals.get(sop).bytes), `${sop}: the restored file is the original, byte for byte`);
    }
    // the command: a study Orthanc has whole already, exit 0
    const cmd = await restoreCommand(B.baseUrl, ['--study', ctStudy]);
    assert.equal(cmd.status, 0, cmd.stderr + cmd.stdout);
    assert.match(cmd.stdout, new RegExp(`restored ${inStudy} \\(already in Orthanc ${inStudy}\\), refused 0, failed 0`));
    // bad requests
    assert.equal((await B.api('/api/admin/backup/restore', { method: 'POST', body: {} })).status, 400);
    assert.equal((await B.api('/api/admin/backup/restore', { method: 'POST', body: { since: 'yesterday' } })).status, 400);

    // a tampered object: refused with the reason, not imported; the rest of its study is
    const [victimSop] = [...originals].find(([, o]) => o.study === ctStudy);
    const victimKey = `studies/${ctStudy}/${victimSop}.rrb`;
    const good = objects.get(victimKey);
    const bad = Buffer.from(good);
    bad[bad.length - 40] ^= 0x01;
    s3.put(victimKey, bad);
    for (const id of await B.json('/instances')) {
      if ((await instanceOf(B, id)).sop === victimSop) await B.api(`/instances/${id}`, { method: 'DELETE' });
    }
    r = await B.api('/api/admin/backup/restore', { method: 'POST', body: { studyInstanceUid: ctStudy } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.complete, false);
    assert.equal(r.json.refused, 1);
    assert.equal(r.json.errors[0].objectKey, victimKey);
    assert.match(r.json.errors[0].message, /tamper|authentic|wrong key|does not open|refused/i);
    const sops = await Promise.all((await B.json('/instances')).map(async (id) => (await instanceOf(B, id)).sop));
    assert.ok(!sops.includes(victimSop), 'nothing imported from the tampered object');
    assert.equal(sops.length, originals.size - 1);
    s3.put(victimKey, good);
  } finally {
    await B.stop();
  }
});

test('another key: every object refused, nothing imported; admin routes only', async () => {
  const C = await startOrthanc({ readingRoom: backupConfig(OTHER_KEY) });
  try {
    const today = new Date().toISOString().slice(0, 10);
    const r = await C.api('/api/admin/backup/restore', { method: 'POST', body: { since: today } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.restored, 0);
    assert.equal(r.json.refused, originals.size);
    assert.deepEqual(await C.json('/instances'), []);
    // the command says the same and exits 1
    const cmd = await restoreCommand(C.baseUrl, ['--since', today]);
    assert.equal(cmd.status, 1, cmd.stderr);
    assert.match(cmd.stdout, new RegExp(`restored 0 .*refused ${originals.size}`));
    assert.match(cmd.stdout, /does not authenticate|another key/);
    assert.deepEqual(await C.json('/instances'), []);
    await C.createUser({ username: 'rad', password: 'Radiologist-Pass-2026', role: 'radiologist', displayName: 'Rad' });
    const login = await C.login('rad', 'Radiologist-Pass-2026');
    const h = { Authorization: `Bearer ${login.token}` };
    assert.equal((await C.api('/api/admin/backup', { headers: h })).status, 403);
    assert.equal((await C.api('/api/admin/backup/restore', { method: 'POST', body: { since: today }, headers: h })).status, 403);
  } finally {
    await C.stop();
  }
});

test('Cloudinary target: a round trip', async () => {
  const D = await startOrthanc({ readingRoom: { Backup: {
    Enabled: true, Target: 'cloudinary', Key: KEY, MaxAttempts: 3, Workers: 1,
    Cloudinary: { ApiBase: cld.url, CloudName: 'rr-test', ApiKey: '424242', ApiSecret: 'cloudinary-standin-secret', Folder: 'rr' },
  } } });
  try {
    await storescu(D, [CR]);
    await waitFor(async () => (await status(D)).done >= 1, 30000, 250, 'the Cloudinary copy');
    const [id] = await D.json('/instances');
    const { sop, study } = await instanceOf(D, id);
    const original = (await httpRequest(`${D.baseUrl}/instances/${id}/file`, { headers: D.authHeaders() })).body;
    const sealed = cld.objects().get(`rr/studies/${study}/${sop}.rrb`);
    assert.ok(sealed, `rr/studies/${study}/${sop}.rrb in Cloudinary (${[...cld.objects().keys()].join(', ')})`);
    assert.equal(sealed.subarray(0, 4).toString('latin1'), 'RRB1');
    assert.equal(sealed.indexOf('DICM'), -1);
    assert.equal((await D.api(`/instances/${id}`, { method: 'DELETE' })).status, 200);
    const r = await D.api('/api/admin/backup/restore', { method: 'POST', body: { studyInstanceUid: study } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.restored, 1);
    assert.equal(r.json.complete, true);
    const [id2] = await D.json('/instances');
    const back = (await httpRequest(`${D.baseUrl}/instances/${id2}/file`, { headers: D.authHeaders() })).body;
    assert.ok(back.equals(original), 'the restored file is the original, byte for byte');
  } finally {
    await D.stop();
  }
});
