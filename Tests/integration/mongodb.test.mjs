// The MongoDB store (ReadingRoom.Store.Backend "mongodb", a plugin built with
// -DENABLE_MONGODB=ON) in a real Orthanc: the plugin loads with
// mongo-c-driver linked, C-STORE and REST uploads reach the worklist from
// the database, a restart keeps them, a report goes through its lifecycle
// (draft, stale save refused, final signature with its PDF, addendum) and
// survives a restart, and an unreachable server stops the start with a
// reason that never shows the URI's password.
//
// Server: READING_ROOM_TEST_MONGODB_URI (a real MongoDB) or
// RR_TEST_MONGODB_URI (the CongoDB test server Tests/run-all.sh starts);
// without either this file starts its own CongoDB (Tests/lib/congodb.sh).
// Each test uses a fresh database. A plugin built without MongoDB skips the
// file, with the reason.
//
// Access control needs the identity and audit concerns of the MongoDB
// backend; a build whose backend lacks them cannot start with it, and the
// file then runs with ReadingRoom.Auth.Enable false (said in the output).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startOrthanc, storescu, uploadFile, dicomFilesOf, waitIngestIdle, worklistAll, repoRoot, testData, execFile, pluginPath,
  httpRequest,
} from '../lib/orthanc.mjs';

const CONGODB = path.join(repoRoot, 'Tests', 'lib', 'congodb.sh');
const MR = path.join(testData, 'mr_brain_t1post_24');
const CR = path.join(testData, 'cr_chest_mono1', 'gdcm-CR-MONO1-10-chest.dcm');

async function pluginHasMongo() {
  if (!fs.existsSync(pluginPath)) return false;
  const { stdout } = await execFile('ldd', [pluginPath]);
  return /libmongoc-1\.0/.test(stdout);
}
const skip = (await pluginHasMongo()) ? false : 'the plugin was built without -DENABLE_MONGODB=ON';

let serverDir = '';
let uri = process.env.READING_ROOM_TEST_MONGODB_URI || process.env.RR_TEST_MONGODB_URI || '';

before(async () => {
  if (skip || uri) return;
  serverDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-congodb-test-'));
  const { stdout } = await execFile(CONGODB, ['start', serverDir], { timeout: 300000 });
  uri = stdout.trim();
});

after(async () => {
  if (!serverDir) return;
  await execFile(CONGODB, ['stop', serverDir]).catch(() => {});
  fs.rmSync(serverDir, { recursive: true, force: true });
});

async function startOnMongo(t, database, extra = {}) {
  const store = { Backend: 'mongodb', MongoDB: { Uri: uri, Database: database, PoolSize: 4 } };
  try {
    return await startOrthanc({ readingRoom: { Store: store, ...extra } });
  } catch (e) {
    if (!/the mongodb store does not implement/.test(e.message)) throw e;
    t.diagnostic('this build\'s MongoDB backend lacks identity/audit: running with Auth.Enable false');
    return startOrthanc({ readingRoom: { Store: store, Auth: { Enable: false }, ...extra } });
  }
}

test('C-STORE and REST uploads reach the worklist from MongoDB, and a restart keeps them', { skip, timeout: 240000 }, async (t) => {
  const database = `rr_it_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const orthanc = await startOnMongo(t, database);
  try {
    const mrFiles = await dicomFilesOf(MR);
    await storescu(orthanc, mrFiles);
    assert.equal((await uploadFile(orthanc, CR)).status, 200);
    await waitIngestIdle(orthanc, 60000);
    const rows = await worklistAll(orthanc);
    assert.equal(rows.length, 2, JSON.stringify(rows.map((r) => r.studyInstanceUid)));
    const mr = rows.find((r) => r.modalities.includes('MR'));
    assert.ok(mr, 'the MR study is listed');
    assert.equal(mr.instanceCount, mrFiles.length);
    assert.ok(rows.some((r) => r.modalities.includes('CR')), 'the CR study is listed');
    const byModality = await orthanc.json('/api/dicom/studies?modality=MR');
    assert.deepEqual(byModality.data.map((r) => r.studyInstanceUid), [mr.studyInstanceUid]);
    const detail = await orthanc.json(`/api/dicom/studies/${mr.studyInstanceUid}`);
    assert.equal(detail.series.reduce((n, s) => n + s.instances.length, 0), mrFiles.length);
    const health = await orthanc.json('/api/health');
    assert.equal(health.store.backend, 'mongodb', JSON.stringify(health.store));
    assert.equal(health.store.studies, 2);
    assert.equal(health.store.instances, mrFiles.length + 1);

    await orthanc.restart();
    const again = await worklistAll(orthanc);
    assert.deepEqual(again.map((r) => r.studyInstanceUid).sort(), rows.map((r) => r.studyInstanceUid).sort());
    assert.equal(again.find((r) => r.studyInstanceUid === mr.studyInstanceUid).instanceCount, mrFiles.length);
  } finally {
    await orthanc.stop();
  }
});

test('an unreachable server at start: Orthanc refuses to start and the log says why, without the password', { skip, timeout: 120000 }, async () => {
  // port 1 on loopback: nothing listens there
  const store = {
    Backend: 'mongodb',
    MongoDB: { Uri: 'mongodb://orthanc:S3cret-Integration-Pw@127.0.0.1:1/?serverSelectionTimeoutMS=500', Database: 'rr' },
  };
  await assert.rejects(startOrthanc({ readingRoom: { Store: store } }), (e) => {
    assert.match(e.message, /cannot open the store: mongodb: cannot reach the server/);
    assert.ok(!e.message.includes('S3cret-Integration-Pw'), 'the password never reaches the log');
    return true;
  });
});

test('a report on MongoDB: draft, stale save refused, final signature with its PDF, addendum, worklist state, restart', { skip, timeout: 240000 }, async (t) => {
  const database = `rr_it_rep_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const orthanc = await startOnMongo(t, database);
  const call = async (p, method = 'GET', body, headers = {}) => {
    const r = await orthanc.api(p, { method, body, headers });
    assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
    return r;
  };
  try {
    assert.equal((await uploadFile(orthanc, CR)).status, 200);
    await waitIngestIdle(orthanc, 60000);
    const [row] = await worklistAll(orthanc);
    const uid = row.studyInstanceUid;
    let r = await call('/api/reports', 'POST', { studyInstanceUid: uid, templateId: 'chest-xray' });
    const reportId = r.json.reportId;
    const second = await orthanc.api('/api/reports', { method: 'POST', body: { studyInstanceUid: uid, templateId: 'chest-xray' } });
    assert.equal(second.status, 409, second.text);
    const first = r.json.etag;
    r = await call(`/api/reports/${reportId}/draft`, 'PUT', { fields: { impression: 'Clear lungs. 日本語 ✓' } }, { 'If-Match': first });
    const stale = await orthanc.api(`/api/reports/${reportId}/draft`, { method: 'PUT', body: { fields: { impression: 'lost' } }, headers: { 'If-Match': first } });
    assert.equal(stale.status, 412, stale.text);
    r = await call(`/api/reports/${reportId}/sign`, 'POST', { password: orthanc.adminPassword, status: 'final' }, { 'If-Match': r.json.etag });
    let report = (await call(`/api/reports/${reportId}`)).json;
    assert.equal(report.state, 'final');
    const v1 = report.versions.find((v) => v.version === 1);
    assert.equal(v1.status, 'final');
    assert.equal(v1.fields.impression, 'Clear lungs. 日本語 ✓');
    assert.match(v1.pdfSha256, /^[0-9a-f]{64}$/);
    const pdf = await httpRequest(`${orthanc.baseUrl}/api/reports/${reportId}/pdf?version=1`, {
      headers: { ...orthanc.authHeaders(), 'X-Requested-With': 'XMLHttpRequest' },
    });
    assert.equal(pdf.status, 200);
    assert.equal(pdf.body.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.equal(crypto.createHash('sha256').update(pdf.body).digest('hex'), v1.pdfSha256);
    await call(`/api/reports/${reportId}/addenda`, 'POST', { password: orthanc.adminPassword, text: 'Addendum on MongoDB.' });
    report = (await call(`/api/reports/${reportId}`)).json;
    assert.equal(report.state, 'appended');
    assert.deepEqual(report.versions.map((v) => [v.version, v.kind, v.status]), [[1, 'original', 'final'], [2, 'addendum', 'final']]);
    const finals = (await call('/api/dicom/studies?report=final')).json.data.map((x) => x.studyInstanceUid);
    assert.deepEqual(finals, [uid]);
    await orthanc.restart();
    const again = (await call(`/api/reports/${reportId}`)).json;
    assert.deepEqual(again.versions.map((v) => v.pdfSha256), report.versions.map((v) => v.pdfSha256));
    const list = (await call('/api/reports?limit=10')).json;
    assert.deepEqual(list.data.map((x) => x.reportId), [reportId], JSON.stringify(list));
  } finally {
    await orthanc.stop();
  }
});
