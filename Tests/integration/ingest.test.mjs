// Ingest: C-STORE of real series -> worklist + study detail; idempotent
// re-send; deletes through Orthanc's REST API; restart persistence; health,
// /api/admin/ingest and resync.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startOrthanc, storescu, dicomFilesOf, dcmdumpTags, waitFor, waitIngestIdle, worklistAll, orthancStudyId,
} from '../lib/orthanc.mjs';
import { makeDicom, newUid, tempDir } from '../lib/dicom.mjs';

const CT = 'ct_abdomen_pancreas_134';
const MR = 'mr_brain_t1post_24';
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

let orthanc;
let ctFiles;
let mrFiles;
let ct; // facts read from the CT files with dcmdump
let mr;
let extraSeriesFiles; // 3 extra series-2 files added to the MR study

const STUDY_TAGS = ['StudyInstanceUID', 'PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime',
  'StudyDescription', 'AccessionNumber', 'ReferringPhysicianName', 'InstitutionName', 'Modality'];
const INSTANCE_TAGS = ['SOPInstanceUID', 'SOPClassUID', 'InstanceNumber', 'ImagePositionPatient', 'ImageOrientationPatient',
  'SeriesInstanceUID', 'SeriesNumber', 'SeriesDescription', 'BodyPartExamined', 'NumberOfFrames', 'TransferSyntaxUID'];

async function readSeriesFacts(files) {
  const study = await dcmdumpTags(files[0], STUDY_TAGS);
  const instances = [];
  // dcmdump in small parallel batches
  for (let i = 0; i < files.length; i += 8) {
    const part = await Promise.all(files.slice(i, i + 8).map((f) => dcmdumpTags(f, INSTANCE_TAGS)));
    instances.push(...part);
  }
  const bySop = new Map(instances.map((x) => [x.SOPInstanceUID, x]));
  return { study, instances, bySop, uid: study.StudyInstanceUID };
}

const nums = (s) => (s === null || s === '' ? null : s.split('\\').map(Number));
const v = (x) => (x === null ? '' : x); // dcmdump: absent -> null; API: ''

function expectStudyFields(api, facts, label) {
  const s = facts.study;
  assert.equal(api.studyInstanceUid, facts.uid, `${label} studyInstanceUid`);
  assert.equal(api.patientName, v(s.PatientName), `${label} patientName`);
  assert.equal(api.patientId, v(s.PatientID), `${label} patientId`);
  assert.equal(api.patientBirthDate, v(s.PatientBirthDate), `${label} patientBirthDate`);
  assert.equal(api.patientSex, v(s.PatientSex), `${label} patientSex`);
  assert.equal(api.studyDate, v(s.StudyDate), `${label} studyDate`);
  assert.equal(typeof api.studyTime, 'string', `${label} studyTime type`);
  assert.ok(api.studyTime.replace(/:/g, '').startsWith(v(s.StudyTime).slice(0, 6)),
    `${label} studyTime ${JSON.stringify(api.studyTime)} vs DICOM ${s.StudyTime}`);
  assert.equal(api.studyDescription, v(s.StudyDescription), `${label} studyDescription`);
  assert.equal(api.accessionNumber, v(s.AccessionNumber), `${label} accessionNumber`);
  assert.equal(api.referringPhysicianName, v(s.ReferringPhysicianName), `${label} referringPhysicianName`);
  assert.equal(api.institutionName, v(s.InstitutionName), `${label} institutionName`);
  assert.match(api.receivedAt, ISO_Z, `${label} receivedAt format`);
  assert.match(api.updatedAt, ISO_Z, `${label} updatedAt format`);
  assert.equal(api.aiStatus, null, `${label} aiStatus`);
  assert.equal(api.reviewStatus, null, `${label} reviewStatus`);
  assert.equal(api.reportStatus, null, `${label} reportStatus`);
}

async function studyByUid(uid) {
  const all = await worklistAll(orthanc);
  return all.find((s) => s.studyInstanceUid === uid) || null;
}

async function waitCounts(uid, instanceCount, seriesCount, timeoutMs = 15000) {
  return waitFor(async () => {
    const s = await studyByUid(uid);
    return s && s.instanceCount === instanceCount && s.seriesCount === seriesCount ? s : false;
  }, timeoutMs, 150, `study ${uid} to show ${instanceCount} instances / ${seriesCount} series in /api/dicom/studies`);
}

/** Normal of an ImageOrientationPatient (row x col). */
function normalOf(iop) {
  const [a, b, c, d, e, f] = iop;
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

before(async () => {
  ctFiles = await dicomFilesOf(CT);
  mrFiles = await dicomFilesOf(MR);
  assert.equal(ctFiles.length, 134, 'test data: CT has 134 .dcm files');
  assert.equal(mrFiles.length, 24, 'test data: MR has 24 .dcm files');
  [ct, mr] = await Promise.all([readSeriesFacts(ctFiles), readSeriesFacts(mrFiles)]);
  orthanc = await startOrthanc();
});

after(async () => {
  await orthanc?.stop();
});

test('health answers before anything is stored', async () => {
  const r = await orthanc.api('/api/health');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /application\/json/);
  const h = r.json;
  assert.ok(h.status === 'ok' || h.status === 'degraded', `status ${h.status}`);
  assert.match(h.version, /^\d+\.\d+\.\d+/);
  assert.equal(h.store.backend, 'sqlite');
  assert.equal(h.store.status, 'ok');
  assert.ok(Number.isInteger(h.store.schemaVersion) && h.store.schemaVersion >= 1, `schemaVersion ${h.store.schemaVersion}`);
  for (const k of ['running', 'cursor', 'lastSeq', 'backlog', 'lastError', 'reconciling', 'instancesIngested']) {
    assert.ok(k in h.ingest, `health.ingest.${k} present`);
  }
  const w = await orthanc.json('/api/dicom/studies');
  assert.deepEqual(w, { data: [], total: 0, limit: 50, offset: 0 });
});

test('C-STORE of CT (134) and MR (24): both studies appear within a few seconds', async () => {
  // poll the worklist while the C-STORE runs: always 200, counts never go down
  let polling = true;
  const seen = [];
  const poller = (async () => {
    while (polling) {
      const r = await orthanc.api('/api/dicom/studies?limit=500');
      seen.push({ status: r.status, count: r.json?.data?.reduce((a, s) => a + s.instanceCount, 0) ?? null, text: r.status === 200 ? '' : r.text.slice(0, 200) });
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  try {
    await storescu(orthanc, ctFiles);
    await storescu(orthanc, mrFiles);
  } finally {
    polling = false;
    await poller;
  }
  const bad = seen.filter((x) => x.status !== 200);
  assert.deepEqual(bad, [], 'worklist queries during ingest answer 200');
  assert.ok(seen.every((x, i) => i === 0 || x.count >= seen[i - 1].count), `instance totals never decrease while ingesting: ${seen.map((x) => x.count)}`);
  const t0 = Date.now();
  const [sCt, sMr] = await Promise.all([waitCounts(ct.uid, 134, 1, 10000), waitCounts(mr.uid, 24, 1, 10000)]);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < 10000, `worklist caught up ${elapsed} ms after storescu finished`);
  expectStudyFields(sCt, ct, 'CT');
  expectStudyFields(sMr, mr, 'MR');
  assert.deepEqual(sCt.modalities, ['CT']);
  assert.deepEqual(sMr.modalities, ['MR']);
  assert.equal(sCt.orthancId, await orthancStudyId(orthanc, ct.uid), 'CT orthancId = Orthanc study id');
  assert.equal(sMr.orthancId, await orthancStudyId(orthanc, mr.uid), 'MR orthancId = Orthanc study id');
  const page = await orthanc.json('/api/dicom/studies');
  assert.equal(page.total, 2);
  assert.equal(page.data.length, 2);
  // default sort: studyDate desc -> CT (2012) before MR (1992)
  assert.deepEqual(page.data.map((s) => s.studyInstanceUid), [ct.uid, mr.uid]);
});

test('health after ingest: schemaVersion, backlog 0, instancesIngested; /api/admin/ingest == health.ingest', async () => {
  const ing = await waitIngestIdle(orthanc);
  const h = await orthanc.json('/api/health');
  assert.equal(h.status, 'ok');
  assert.ok(Number.isInteger(h.store.schemaVersion) && h.store.schemaVersion >= 1);
  assert.equal(h.ingest.backlog, 0);
  assert.equal(h.ingest.running, true);
  assert.equal(h.ingest.lastError, null);
  assert.equal(h.ingest.reconciling, false);
  assert.ok(h.ingest.instancesIngested >= 158, `instancesIngested ${h.ingest.instancesIngested} >= 158`);
  assert.deepEqual(h.ingest, ing, '/api/admin/ingest equals health.ingest while idle');
});

test('study detail: CT series, 134 instances in display order, ids known to Orthanc', async () => {
  const r = await orthanc.api(`/api/dicom/studies/${ct.uid}`);
  assert.equal(r.status, 200);
  const d = r.json;
  expectStudyFields(d, ct, 'CT detail');
  assert.equal(d.instanceCount, 134);
  assert.equal(d.seriesCount, 1);
  assert.equal(d.series.length, 1);
  const s = d.series[0];
  const f0 = ct.instances[0];
  assert.equal(s.seriesInstanceUid, f0.SeriesInstanceUID);
  assert.equal(s.seriesNumber, Number(f0.SeriesNumber));
  assert.equal(s.modality, 'CT');
  assert.equal(s.seriesDescription, v(f0.SeriesDescription));
  assert.equal(s.bodyPartExamined, v(f0.BodyPartExamined));
  assert.equal(s.instanceCount, 134);
  assert.equal(s.instances.length, 134);
  const orthSeries = await orthanc.json(`/series/${s.orthancId}`);
  assert.equal(orthSeries.MainDicomTags.SeriesInstanceUID, s.seriesInstanceUid, 'series orthancId known to Orthanc');

  // same set of SOP instance UIDs as the files
  assert.deepEqual(new Set(s.instances.map((i) => i.sopInstanceUid)), new Set(ct.bySop.keys()));
  // display order: monotonic along the slice normal
  const n = normalOf(s.instances[0].imageOrientationPatient);
  const proj = s.instances.map((i) => i.imagePositionPatient[0] * n[0] + i.imagePositionPatient[1] * n[1] + i.imagePositionPatient[2] * n[2]);
  const inc = proj.every((p, k) => k === 0 || p > proj[k - 1]);
  const dec = proj.every((p, k) => k === 0 || p < proj[k - 1]);
  assert.ok(inc || dec, `instances not monotonic along the slice normal: ${proj.slice(0, 10).join(', ')} ...`);

  for (const i of s.instances) {
    const f = ct.bySop.get(i.sopInstanceUid);
    assert.equal(i.sopClassUid, f.SOPClassUID);
    assert.equal(i.instanceNumber, f.InstanceNumber === null ? null : Number(f.InstanceNumber));
    assert.equal(i.numberOfFrames, 1);
    const ipp = nums(f.ImagePositionPatient);
    assert.equal(i.imagePositionPatient.length, 3);
    i.imagePositionPatient.forEach((x, k) => assert.ok(Math.abs(x - ipp[k]) < 1e-6, `ipp ${i.imagePositionPatient} vs ${ipp}`));
    const iop = nums(f.ImageOrientationPatient);
    assert.equal(i.imageOrientationPatient.length, 6);
    i.imageOrientationPatient.forEach((x, k) => assert.ok(Math.abs(x - iop[k]) < 1e-6, `iop ${i.imageOrientationPatient} vs ${iop}`));
    assert.equal(i.transferSyntaxUid, '1.2.840.10008.1.2', 'CT files are Implicit VR LE');
  }
  // orthancId of every instance is known by Orthanc and is the same SOP instance
  for (let k = 0; k < s.instances.length; k += 16) {
    await Promise.all(s.instances.slice(k, k + 16).map(async (i) => {
      const o = await orthanc.api(`/instances/${i.orthancId}`);
      assert.equal(o.status, 200, `Orthanc knows instance ${i.orthancId}`);
      assert.equal(o.json.MainDicomTags.SOPInstanceUID, i.sopInstanceUid);
      assert.equal(o.json.ParentSeries, s.orthancId);
    }));
  }
});

test('study detail: MR (oblique) instances sorted along the normal, transfer syntax from Orthanc', async () => {
  const d = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  expectStudyFields(d, mr, 'MR detail');
  const s = d.series[0];
  assert.equal(s.instances.length, 24);
  const n = normalOf(s.instances[0].imageOrientationPatient);
  const proj = s.instances.map((i) => i.imagePositionPatient.reduce((acc, x, k) => acc + x * n[k], 0));
  const inc = proj.every((p, k) => k === 0 || p > proj[k - 1]);
  const dec = proj.every((p, k) => k === 0 || p < proj[k - 1]);
  assert.ok(inc || dec, `MR instances not monotonic along the slice normal: ${proj.join(', ')}`);
  const ts = await orthanc.api(`/instances/${s.instances[0].orthancId}/metadata/TransferSyntax`);
  assert.equal(s.instances[0].transferSyntaxUid, ts.text.trim());
});

test('re-sending the same series is idempotent', async () => {
  const before1 = await worklistAll(orthanc);
  await storescu(orthanc, ctFiles.slice(0, 20));
  await storescu(orthanc, mrFiles);
  await waitIngestIdle(orthanc);
  const after1 = await worklistAll(orthanc);
  const pick = (l) => l.map((s) => [s.studyInstanceUid, s.instanceCount, s.seriesCount]).sort();
  assert.deepEqual(pick(after1), pick(before1));
  const d = await orthanc.json(`/api/dicom/studies/${ct.uid}`);
  assert.equal(d.series[0].instances.length, 134);
});

test('series sorted by number (numeric, not lexical); modalities of all series', async () => {
  // add a series #2 (modality OT, 3 instances) to the MR study (series #11)
  const dir = await tempDir();
  extraSeriesFiles = [];
  const seriesUid = newUid();
  for (let k = 0; k < 3; k++) {
    extraSeriesFiles.push(await makeDicom(mrFiles[k], path.join(dir, `s2-${k}.dcm`), {
      set: { '0020,000e': seriesUid, '0020,0011': '2', '0008,0060': 'OT', '0008,103e': 'Extra series' },
    }));
  }
  await storescu(orthanc, extraSeriesFiles);
  const s = await waitCounts(mr.uid, 27, 2);
  assert.deepEqual([...s.modalities].sort(), ['MR', 'OT']);
  const d = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  assert.deepEqual(d.series.map((x) => x.seriesNumber), [2, 11]);
  assert.deepEqual(d.series.map((x) => x.instanceCount), [3, 24]);
  assert.equal(d.series[0].modality, 'OT');
  assert.equal(d.series[0].seriesDescription, 'Extra series');
});

test('DELETE /instances/{id} through Orthanc: the worklist follows', async () => {
  const d = await orthanc.json(`/api/dicom/studies/${ct.uid}`);
  const victim = d.series[0].instances[50];
  const r = await orthanc.api(`/instances/${victim.orthancId}`, { method: 'DELETE' });
  assert.equal(r.status, 200);
  await waitCounts(ct.uid, 133, 1);
  const d2 = await orthanc.json(`/api/dicom/studies/${ct.uid}`);
  assert.equal(d2.series[0].instanceCount, 133);
  assert.equal(d2.series[0].instances.length, 133);
  assert.ok(!d2.series[0].instances.some((i) => i.sopInstanceUid === victim.sopInstanceUid), 'deleted instance gone from detail');
});

test('DELETE /series/{id} through Orthanc: series count, instance count and modalities follow', async () => {
  const d = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  const extra = d.series.find((x) => x.seriesNumber === 2);
  const r = await orthanc.api(`/series/${extra.orthancId}`, { method: 'DELETE' });
  assert.equal(r.status, 200);
  const s = await waitCounts(mr.uid, 24, 1);
  assert.deepEqual(s.modalities, ['MR']);
  const d2 = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  assert.deepEqual(d2.series.map((x) => x.seriesNumber), [11]);
});

test('DELETE /studies/{id} through Orthanc: study disappears (list and detail 404)', async () => {
  // store a third study and delete it
  const chest = await dicomFilesOf('ct_chest_lung_30');
  const chestUid = (await dcmdumpTags(chest[0], ['StudyInstanceUID'])).StudyInstanceUID;
  await storescu(orthanc, chest.slice(0, 5));
  const s = await waitCounts(chestUid, 5, 1);
  const r = await orthanc.api(`/studies/${s.orthancId}`, { method: 'DELETE' });
  assert.equal(r.status, 200);
  await waitFor(async () => !(await studyByUid(chestUid)), 15000, 150, 'deleted study to leave the worklist');
  const det = await orthanc.api(`/api/dicom/studies/${chestUid}`);
  assert.equal(det.status, 404);
  assert.equal(det.json?.error?.code, 'not_found');
  const page = await orthanc.json('/api/dicom/studies');
  assert.equal(page.total, 2);
});

test('restart on the same storage: store intact', async () => {
  await waitIngestIdle(orthanc);
  const before1 = await worklistAll(orthanc);
  const detailBefore = await orthanc.json(`/api/dicom/studies/${ct.uid}`);
  await orthanc.restart();
  const after1 = await worklistAll(orthanc);
  const strip = (l) => l.map(({ updatedAt, ...rest }) => rest).sort((a, b) => a.studyInstanceUid.localeCompare(b.studyInstanceUid));
  assert.deepEqual(strip(after1), strip(before1));
  const detailAfter = await orthanc.json(`/api/dicom/studies/${ct.uid}`);
  assert.deepEqual(detailAfter.series, detailBefore.series);
  await waitIngestIdle(orthanc);
  const after2 = await worklistAll(orthanc);
  assert.deepEqual(strip(after2), strip(before1), 'still the same once the startup reconciliation is done');
});

test('POST /api/admin/ingest/resync: 202 {accepted:true}, afterwards the same content', async () => {
  const before1 = await worklistAll(orthanc);
  const detailBefore = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  const r = await orthanc.api('/api/admin/ingest/resync', { method: 'POST' });
  assert.equal(r.status, 202);
  assert.deepEqual(r.json, { accepted: true });
  await waitIngestIdle(orthanc, 60000);
  const after1 = await worklistAll(orthanc);
  const strip = (l) => l.map(({ updatedAt, ...rest }) => rest).sort((a, b) => a.studyInstanceUid.localeCompare(b.studyInstanceUid));
  assert.deepEqual(strip(after1), strip(before1));
  const detailAfter = await orthanc.json(`/api/dicom/studies/${mr.uid}`);
  assert.deepEqual(detailAfter.series, detailBefore.series);
  const h = await orthanc.json('/api/health');
  assert.equal(h.status, 'ok');
  assert.equal(h.ingest.lastError, null);
  assert.equal(h.ingest.backlog, 0);
});
