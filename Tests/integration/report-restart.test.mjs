// A report's archive outputs survive kill -9 of Orthanc itself (the plugin with its worker inside):
// a final signature and an addendum, each followed at once by SIGKILL of Orthanc while their
// Encapsulated PDF, SR and KOS are still queued or being created; after each restart the queue
// drains and the study holds exactly one object per (version, kind) — nothing lost, nothing twice.
// (report-outputs.test.mjs kills the worker alone, outside Orthanc; this is the whole server.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, dicomFilesOf, testData, waitFor, waitIngestIdle, ADMIN_PASSWORD } from '../lib/orthanc.mjs';

let orthanc;
let uid;
let reportId;
let draftEtag;

const dbOf = (o) => path.join(o.dir, 'storage', 'reading-room.db');
/** Jobs of the report that were not done when Orthanc died (read from the store's file while it is down). */
function unfinished(o, version) {
  const out = execFileSync('sqlite3', [dbOf(o), `SELECT count(*) FROM report_outputs WHERE report_id = ${Number(reportId)} AND version = ${Number(version)} AND state <> 'done';`], { encoding: 'utf8' });
  return Number(out.trim());
}

async function call(p, method, body, headers = {}) {
  const r = await orthanc.api(p, { method, body, headers });
  assert.ok(r.status < 300, `${method} ${p}: ${r.status} ${r.text}`);
  return r.json;
}

/** The report's outputs of a version once every one is done (after a restart). */
async function outputsDone(version) {
  let outs = [];
  await waitFor(async () => {
    const r = await orthanc.api(`/api/reports/${reportId}`);
    if (r.status !== 200) return false;
    outs = r.json.outputs.filter((o) => o.version === version);
    assert.ok(!outs.some((o) => o.state === 'failed'), JSON.stringify(outs));
    return outs.length >= 2 && outs.every((o) => o.state === 'done');
  }, 30_000, 100, `the outputs of version ${version} done after the restart`);
  return outs;
}

/** SOP Instance UIDs of the study's report objects (series of modality DOC, SR, KO) as Orthanc holds them, with repeats. */
async function reportObjects() {
  const oid = (await call(`/api/dicom/studies/${uid}`, 'GET')).orthancId;
  const uids = [];
  for (const series of await call(`/studies/${oid}/series`, 'GET')) {
    if (!['DOC', 'SR', 'KO'].includes(series.MainDicomTags?.Modality)) continue;
    for (const i of await call(`/series/${series.ID}/instances`, 'GET')) uids.push(i.MainDicomTags.SOPInstanceUID);
  }
  return uids;
}

before(async () => {
  orthanc = await startOrthanc({});
  for (const f of await dicomFilesOf(path.join(testData, 'ct_chest_lung_30'))) await uploadFile(orthanc, f);
  await waitIngestIdle(orthanc);
  uid = (await call('/api/dicom/studies?modality=CT', 'GET')).data[0].studyInstanceUid;
  const study = await call(`/api/dicom/studies/${uid}`, 'GET');
  const s = study.series[0];
  const sop = s.instances[Math.floor(s.instances.length / 2)].sopInstanceUid;
  await call(`/api/dicom/studies/${uid}/key-images/${sop}/frames/1`, 'PUT', { seriesInstanceUid: s.seriesInstanceUid });
  let report = await call('/api/reports', 'POST', { studyInstanceUid: uid, templateId: 'ct-chest' });
  reportId = report.reportId;
  report = await call(`/api/reports/${reportId}/draft`, 'PUT',
    { fields: { impression: 'No acute abnormality.' }, inserts: { keyImages: [{ sopInstanceUid: sop, frame: 1 }] } },
    { 'If-Match': report.etag });
  draftEtag = report.etag;
});

after(async () => {
  await orthanc?.stop();
});

test('kill -9 of Orthanc right after a final signature and after an addendum: each restart completes the objects once', async () => {
  const seen = [];
  // the final signature, then an addendum, each followed at once by SIGKILL
  const steps = [
    () => call(`/api/reports/${reportId}/sign`, 'POST', { password: ADMIN_PASSWORD, status: 'final' }, { 'If-Match': draftEtag }),
    () => call(`/api/reports/${reportId}/addenda`, 'POST', { password: ADMIN_PASSWORD, text: 'Addendum: compared with the outside study, unchanged.' }),
  ];
  let caught = 0;
  for (const step of steps) {
    const signed = await step();
    await orthanc.kill9();
    const version = signed.prevailingVersion;
    caught += unfinished(orthanc, version) > 0 ? 1 : 0;
    await orthanc.restart();
    const outs = await outputsDone(version);
    assert.deepEqual(outs.map((o) => o.kind).sort(), ['kos', 'pdf', 'sr'], 'three objects for a version with a key image');
    seen.push(...outs.map((o) => o.sopInstanceUid));
  }
  assert.ok(caught >= 1, 'SIGKILL came while at least one version still had objects to create (else this test proved nothing)');
  const held = await reportObjects();
  assert.equal(held.length, new Set(held).size, `no object twice in Orthanc: ${held.join(', ')}`);
  assert.deepEqual([...new Set(held)].sort(), [...seen].sort(), 'exactly the objects the outputs name: nothing lost, nothing extra');
  // the archived PDF of the last version is the one kept at signing
  const report = await call(`/api/reports/${reportId}`, 'GET');
  const last = report.versions[report.versions.length - 1];
  const pdfOut = report.outputs.find((o) => o.version === last.version && o.kind === 'pdf');
  const archived = await orthanc.api(`/instances/${pdfOut.orthancId}/pdf`);
  assert.equal(archived.status, 200);
});
