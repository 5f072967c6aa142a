// POST /api/dicom/studies/{uid}/measurement-reports against a real Orthanc with the plugin: a TID 1500 SR
// (dwv's ruler report, re-filed into the test study with DCMTK's dcmodify) is stored into the study, and
// every bad input is refused with 400/404/409 and a sentence, with nothing stored: not DICOM, not Part 10,
// not an SR, another study, another patient, too large, an unknown study, the same SOP Instance UID twice;
// technicians and physicians are refused by the role matrix; the stored report is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, testData, waitFor, waitIngestIdle } from '../lib/orthanc.mjs';

const PASSWORD = 'Measurement-Reports-2026';
const MR = path.join(testData, 'ts_mr_small', 'MR_small.dcm');
const RULER = path.join(testData, 'sr', 'tid1500-sr-ruler.dcm');
const CT = path.join(testData, 'ct_chest_lung_30');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-srapi-'));
const tokens = {};
let orthanc;
let study; // { uid, patientId, orthancId }

const tag = (file, t) => /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', t, file], { encoding: 'latin1' }))?.[1] ?? '';

/** A copy of `src` with the given tags changed (dcmodify; new series and SOP Instance UIDs unless kept). */
function refiled(src, name, tags, { newUids = true } = {}) {
  const out = path.join(tmp, name);
  fs.copyFileSync(src, out);
  const args = ['-nb'];
  if (newUids) args.push('-gse', '-gin');
  for (const [k, v] of Object.entries(tags)) args.push('-m', `(${k})=${v}`);
  execFileSync('dcmodify', [...args, out]);
  return out;
}

const post = (uid, body, { token = tokens.admin, type = 'application/dicom' } = {}) =>
  orthanc.api(`/api/dicom/studies/${uid}/measurement-reports`, {
    method: 'POST',
    body,
    headers: { Authorization: `Bearer ${token}`, ...(type ? { 'Content-Type': type } : {}) },
  });

const instanceCount = async () => (await orthanc.json('/statistics')).CountInstances;

before(async () => {
  orthanc = await startOrthanc();
  for (const role of ['radiologist', 'technician', 'physician']) {
    await orthanc.createUser({ username: role, password: PASSWORD, role, displayName: `Test ${role}` });
    const l = await orthanc.login(role, PASSWORD);
    assert.equal(l.status, 200, l.text);
    tokens[role] = l.token;
  }
  tokens.admin = orthanc.adminToken;
  const up = await uploadFile(orthanc, MR);
  assert.equal(up.status, 200, up.text);
  await waitIngestIdle(orthanc);
  study = { uid: tag(MR, '0020,000d'), patientId: tag(MR, '0010,0020'), orthancId: up.json.ParentStudy };
});
after(async () => {
  await orthanc?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a TID 1500 SR of the study is stored into it: 201 with its identifiers, in the same study, audited', async () => {
  const file = refiled(RULER, 'good.dcm', { '0020,000D': study.uid, '0010,0020': study.patientId });
  const sop = tag(file, '0008,0018');
  const series = tag(file, '0020,000e');
  const before = await instanceCount();
  const r = await post(study.uid, fs.readFileSync(file), { token: tokens.radiologist });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.sopInstanceUid, sop);
  assert.equal(r.json.seriesInstanceUid, series);
  assert.equal(r.json.templateIdentifier, '1500');
  assert.equal(r.json.sopClass, 'Comprehensive 3D SR');
  assert.equal(await instanceCount(), before + 1);
  const inst = await orthanc.json(`/instances/${r.json.orthancId}`);
  assert.equal(inst.MainDicomTags.SOPInstanceUID, sop);
  const parentSeries = await orthanc.json(`/series/${inst.ParentSeries}`);
  assert.equal(parentSeries.ParentStudy, study.orthancId, 'filed under the same study (same patient)');
  assert.equal((await orthanc.json('/patients')).length, 1, 'no second patient');
  // the plugin's own index sees it too
  await waitIngestIdle(orthanc);
  const detail = await orthanc.json(`/api/dicom/studies/${study.uid}`);
  assert.ok(detail.series.some((s) => s.seriesInstanceUid === series && s.modality === 'SR'));
  // audited, without patient data
  await waitFor(async () => (await orthanc.json('/api/health')).audit.queued === 0, 10_000);
  const audit = (await orthanc.json('/api/audit?action=measurements.archive')).data;
  const rec = audit.find((a) => a.detail === sop);
  assert.ok(rec, JSON.stringify(audit));
  assert.equal(rec.username, 'radiologist');
  assert.equal(rec.resource, study.uid);
  assert.equal(rec.outcome, 'success');

  // the same SOP Instance UID again: 409, nothing changed
  const again = await post(study.uid, fs.readFileSync(file));
  assert.equal(again.status, 409, again.text);
  assert.equal(again.json.error.code, 'conflict');
  assert.match(again.json.error.message, /already/);
  assert.equal(await instanceCount(), before + 1);
});

test('bad input: 400 with a sentence and nothing stored', async () => {
  const before = await instanceCount();
  const otherStudy = refiled(RULER, 'other-study.dcm', { '0010,0020': study.patientId }); // its own study UID
  const otherPatient = refiled(RULER, 'other-patient.dcm', { '0020,000D': study.uid, '0010,0020': 'SOMEONE-ELSE' });
  const ct = fs.readdirSync(CT).map((f) => path.join(CT, f)).find((f) => f.endsWith('.dcm')) ?? path.join(CT, fs.readdirSync(CT)[0]);
  const notSr = refiled(ct, 'not-sr.dcm', { '0020,000D': study.uid, '0010,0020': study.patientId });
  const noPreamble = fs.readFileSync(refiled(RULER, 'raw.dcm', { '0020,000D': study.uid, '0010,0020': study.patientId })).subarray(132);
  const huge = Buffer.alloc(16 * 1024 * 1024 + 1);
  huge.write('DICM', 128, 'latin1');
  const garbage = Buffer.alloc(4096, 0x41);
  garbage.write('DICM', 128, 'latin1');
  const cases = [
    ['JSON, not DICOM', Buffer.from('{"measurements": []}'), /not a DICOM Part 10 file/, 'application/dicom'],
    ['empty body', Buffer.alloc(0), /not a DICOM Part 10 file/, 'application/dicom'],
    ['a data set without the Part 10 header', noPreamble, /not a DICOM Part 10 file/, 'application/dicom'],
    ['"DICM" and garbage', garbage, /not a DICOM file Orthanc can read|missing/, 'application/dicom'],
    ['a CT image, not an SR', fs.readFileSync(notSr), /not a Structured Report/, 'application/dicom'],
    ['an SR of another study', fs.readFileSync(otherStudy), /another study/, 'application/dicom'],
    ['an SR of another patient', fs.readFileSync(otherPatient), /Patient ID/, 'application/dicom'],
    ['larger than 16 MiB', huge, /larger than 16 MiB/, 'application/dicom'],
    ['a JSON content type', fs.readFileSync(otherStudy), /application\/dicom/, 'application/json'],
  ];
  for (const [what, body, message, type] of cases) {
    const r = await post(study.uid, body, { type });
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    assert.equal(r.json.error.code, 'invalid_argument', what);
    assert.match(r.json.error.message, message, what);
    assert.ok(!r.json.error.message.includes('SOMEONE'), `${what}: no patient data in the message`);
  }
  // an unknown study, and a malformed study identifier
  const unknown = await post('1.2.3.4.5.6.7.8.9', fs.readFileSync(otherStudy));
  assert.equal(unknown.status, 404, unknown.text);
  const malformed = await post('not;a-uid', fs.readFileSync(otherStudy));
  assert.equal(malformed.status, 400, malformed.text);
  const get = await orthanc.api(`/api/dicom/studies/${study.uid}/measurement-reports`);
  assert.equal(get.status, 403, 'no rule for GET: refused'); // the matrix lists POST only
  assert.equal(await instanceCount(), before, 'nothing stored');
  assert.equal((await orthanc.json('/patients')).length, 1, 'no patient created');
});

test('technicians and physicians are refused by the role matrix; nothing stored', async () => {
  const file = fs.readFileSync(refiled(RULER, 'roles.dcm', { '0020,000D': study.uid, '0010,0020': study.patientId }));
  const before = await instanceCount();
  for (const role of ['technician', 'physician']) {
    const r = await post(study.uid, file, { token: tokens[role] });
    assert.equal(r.status, 403, `${role}: ${r.status} ${r.text}`);
  }
  const anonymous = await orthanc.api(`/api/dicom/studies/${study.uid}/measurement-reports`, {
    method: 'POST', body: file, auth: false, headers: { 'Content-Type': 'application/dicom' },
  });
  assert.ok(anonymous.status === 401 || anonymous.status === 403, String(anonymous.status));
  assert.equal(await instanceCount(), before);
  const admin = await post(study.uid, file, { token: tokens.admin });
  assert.equal(admin.status, 201, admin.text);
});
