// The DICOM objects of a signed report (Plugin/report/report_dicom.c) against a real Orthanc with the
// plugin: the bodies the archive worker posts (printed for the fixture's report — names in Japanese,
// Greek and Cyrillic — by build/Tests/unit/rr_report_outputs_print) are posted to /tools/create-dicom
// for a CT study of ../shared/dicom. Each object lands in the CT's study (no second patient or study),
// passes dciodvfy without errors, the SR's content tree (dsrdump +U8) has the 18748-4 container, the
// LOINC sections, VERIFIED with its observer and every name intact; the Encapsulated PDF gives back the
// very PDF bytes; posting again stores nothing new (deterministic UIDs); an addendum's SR names its
// predecessor; the KOS lists the key images. And the worker itself (run outside Orthanc by
// build/Tests/unit/rr_report_outputs_worker: the same queue and worker code, a store file, HTTP to this
// Orthanc) is killed with SIGKILL right after Orthanc stored its first object: the next run takes the job
// left running again, finds the object stored (same SOP Instance UID) and ends with one object per kind.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { startOrthanc, uploadFile, testData, pluginPath, waitIngestIdle, httpRequest } from '../lib/orthanc.mjs';

const PRINT = path.join(path.dirname(pluginPath), 'Tests', 'unit', 'rr_report_outputs_print');
const WORKER = path.join(path.dirname(pluginPath), 'Tests', 'unit', 'rr_report_outputs_worker');
const CT = path.join(testData, 'ct_chest_lung_30');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-report-outputs-'));
const PDF = path.join(tmp, 'report.pdf');
let orthanc;
let ct; // { study, patientId, series, sops: [..], orthancStudy }
const created = {}; // kind -> { id, file, sop }

const sql = (q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', path.join(orthanc.dir, 'storage', 'reading-room.db'), q],
  { encoding: 'utf8' }).trim();
const tag = (file, t) => /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+P', t, file], { encoding: 'latin1' }))?.[1] ?? '';

/** The create-dicom body of `kind` for the CT study, from the printer. */
function body(kind, extra = []) {
  const args = [kind, ct.study, ct.patientId, PDF, ...ct.sops.map((s) => `image=${ct.series}/${s}`), ...extra];
  return JSON.parse(execFileSync(PRINT, args, { encoding: 'utf8' }));
}

async function create(kind, extra = []) {
  const b = body(kind, extra);
  const r = await orthanc.api('/tools/create-dicom', { method: 'POST', body: b });
  assert.equal(r.status, 200, r.text);
  const file = await fetchFile(r.json.ID, path.join(tmp, `${kind}-${r.json.ID}.dcm`));
  return { id: r.json.ID, file, sop: b.Tags.SOPInstanceUID, answer: r.json };
}

async function fetchFile(id, file) {
  const r = await httpRequest(`${orthanc.baseUrl}/instances/${id}/file`, { headers: orthanc.authHeaders() });
  assert.equal(r.status, 200);
  fs.writeFileSync(file, r.body);
  return file;
}

/** dciodvfy's errors and warnings (it prints both on stderr). */
function dciodvfy(file) {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const lines = (r.stdout + r.stderr).split('\n');
  return { errors: lines.filter((l) => /^Error/.test(l)), warnings: lines.filter((l) => /^Warning/.test(l)) };
}

const dsrdump = (file) => execFileSync('dsrdump', ['+U8', '+Pc', '+Pl', file], { encoding: 'utf8' });

before(async () => {
  assert.ok(fs.existsSync(PRINT), `${PRINT} is built with RR_BUILD_TESTS`);
  // a small PDF of our own (the objects must carry it byte for byte)
  fs.writeFileSync(PDF, Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n' +
    '2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n', 'latin1'));
  orthanc = await startOrthanc();
  const files = fs.readdirSync(CT).filter((f) => f.endsWith('.dcm')).sort().slice(0, 3).map((f) => path.join(CT, f));
  let up;
  for (const f of files) {
    up = await uploadFile(orthanc, f);
    assert.equal(up.status, 200, up.text);
  }
  await waitIngestIdle(orthanc);
  ct = {
    study: tag(files[0], '0020,000d'),
    patientId: tag(files[0], '0010,0020'),
    series: tag(files[0], '0020,000e'),
    sops: files.slice(0, 2).map((f) => tag(f, '0008,0018')),
    orthancStudy: up.json.ParentStudy,
  };
});
after(async () => {
  await orthanc?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('the three objects are created in the CT study, no second patient or study', async () => {
  const before = await orthanc.json('/statistics');
  for (const kind of ['pdf', 'sr', 'kos']) {
    created[kind] = await create(kind);
    assert.equal(created[kind].answer.ParentStudy, ct.orthancStudy, `${kind} in the CT's study`);
  }
  const after = await orthanc.json('/statistics');
  assert.equal(after.CountInstances, before.CountInstances + 3);
  assert.equal(after.CountStudies, before.CountStudies);
  assert.equal(after.CountPatients, before.CountPatients);
  const series = await orthanc.json(`/studies/${ct.orthancStudy}/series`);
  const modalities = series.map((s) => s.MainDicomTags.Modality).sort();
  assert.deepEqual(modalities, ['CT', 'DOC', 'KO', 'SR']);
});

test('every object passes dciodvfy without errors (warnings listed)', () => {
  for (const kind of ['pdf', 'sr', 'kos']) {
    const v = dciodvfy(created[kind].file);
    if (v.warnings.length) console.log(`dciodvfy ${kind} warnings:\n  ${v.warnings.join('\n  ')}`);
    assert.deepEqual(v.errors, [], `${kind}: ${v.errors.join('\n')}`);
  }
});

test('the Encapsulated PDF gives back the very PDF bytes, titled and coded 18748-4', async () => {
  const r = await httpRequest(`${orthanc.baseUrl}/instances/${created.pdf.id}/pdf`, { headers: orthanc.authHeaders() });
  assert.equal(r.status, 200);
  assert.ok(Buffer.compare(r.body, fs.readFileSync(PDF)) === 0, 'byte-identical PDF');
  const f = created.pdf.file;
  assert.equal(tag(f, '0008,0060'), 'DOC');
  assert.equal(tag(f, '0042,0010'), 'CT Chest');
  assert.equal(tag(f, '0008,0100'), '18748-4');
  assert.equal(tag(f, '0008,0018'), created.pdf.sop);
});

test('the SR content tree: 18748-4, LOINC sections, VERIFIED by its observer, every script intact', () => {
  const d = dsrdump(created.sr.file);
  assert.match(d, /Enhanced SR Document/);
  assert.match(d, /Completion Flag\s*: COMPLETE/);
  assert.match(d, /Verification Flag\s*: VERIFIED/);
  assert.match(d, /Verifying Observers\s*: .*Петрова\^Мария, Πανεπιστημιακό Νοσοκομείο/);
  assert.match(d, /Patient\s*: Yamada\^Tarou=山田\^太郎=やまだ\^たろう/);
  assert.match(d, /Referring Physician\s*: Иванов\^Иван/);
  assert.match(d, /<CONTAINER:\(18748-4,LN,"Diagnostic imaging report"\)=SEPARATE>/);
  for (const code of ['55752-0,LN,"Clinical information"', '59776-5,LN,"Findings"', '19005-8,LN,"Impressions"', '121180,DCM,"Key Images"']) {
    assert.ok(d.includes(`<contains CONTAINER:(${code})=SEPARATE>`), `section ${code}\n${d}`);
  }
  assert.match(d, /<contains TEXT:\(121071,DCM,"Finding"\)="Lungs: Ground-glass opacity, right lower lobe\./);
  assert.match(d, /<contains TEXT:\(121071,DCM,"Finding"\)="AI-assisted: Nodule 6 mm/);
  assert.match(d, /<contains TEXT:\(121073,DCM,"Impression"\)="Pneumonia\. 肺炎の疑い。">/);
  assert.match(d, /<contains TEXT:\(11329-0,LN,"History"\)="Indication: Кашель, лихорадка/);
  assert.match(d, /<has obs context PNAME:\(121008,DCM,"Person Observer Name"\)="Петрова\^Мария">/);
  assert.equal((d.match(/<contains IMAGE:/g) || []).length, 2);
});

test('the KOS lists the key images under "Of Interest"', () => {
  const d = dsrdump(created.kos.file);
  assert.match(d, /Key Object Selection Document/);
  assert.match(d, /<CONTAINER:\(113000,DCM,"Of Interest"\)=SEPARATE>/);
  assert.match(d, /<contains TEXT:\(113012,DCM,"Key Object Description"\)="Key images of report 12/);
  assert.equal((d.match(/<contains IMAGE:/g) || []).length, 2);
  for (const sop of ct.sops) assert.ok(execFileSync('dcmdump', [created.kos.file], { encoding: 'utf8' }).includes(sop));
});

test('posting the same object again stores nothing new (deterministic UIDs)', async () => {
  const before = await orthanc.json('/statistics');
  const r = await orthanc.api('/tools/create-dicom', { method: 'POST', body: body('sr') });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.ID, created.sr.id);
  assert.equal((await orthanc.json('/statistics')).CountInstances, before.CountInstances);
});

test("an addendum's SR is version 2 in the same series and names version 1's SR as its predecessor", async () => {
  const series1 = tag(created.sr.file, '0020,000e');
  const v2 = await create('sr', ['version=2', 'kind=addendum', `predecessor=${series1}/${created.sr.sop}`]);
  assert.notEqual(v2.sop, created.sr.sop);
  assert.equal(tag(v2.file, '0020,000e'), series1);
  assert.equal(tag(v2.file, '0020,0013'), '2');
  const dump = execFileSync('dcmdump', [v2.file], { encoding: 'utf8' });
  assert.match(dump, /PredecessorDocumentsSequence/);
  assert.ok(dump.includes(created.sr.sop));
  assert.deepEqual(dciodvfy(v2.file).errors, []);
});

test('a preliminary SR is UNVERIFIED with PreliminaryFlag and still valid', async () => {
  const p = await create('sr', ['version=3', 'status=preliminary']);
  const d = dsrdump(p.file);
  assert.match(d, /Verification Flag\s*: UNVERIFIED/);
  assert.match(d, /Preliminary Flag\s*: PRELIMINARY/);
  assert.deepEqual(dciodvfy(p.file).errors, []);
});

test('the queue survives kill -9 of its worker: the interrupted job is redone once, no duplicate object', async () => {
  const db = path.join(tmp, 'outputs.db');
  const args = (pause) => [db, orthanc.baseUrl, orthanc.authHeaders().Authorization, ct.study, ct.patientId, PDF, '77',
    ...(pause ? [String(pause)] : [])];
  const before = (await orthanc.json('/statistics')).CountInstances;
  // first run: killed while it holds the PDF job, after Orthanc stored the object
  const child = spawn(WORKER, args(60000), { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('posted ')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`worker exited ${code} before posting: ${out}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  assert.equal((await orthanc.json('/statistics')).CountInstances, before + 1, 'the PDF object was stored');
  // second run: the job left running is taken again and both objects end done
  const r = spawnSync(WORKER, args(0), { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  const outputs = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepEqual(outputs.map((o) => [o.kind, o.state]), [['pdf', 'done'], ['sr', 'done']]);
  assert.equal(outputs[0].attempts, 2, 'the interrupted try counts');
  assert.equal(outputs[1].attempts, 1);
  assert.ok(outputs.every((o) => o.orthancId && o.sopInstanceUid && o.doneAt));
  assert.equal((await orthanc.json('/statistics')).CountInstances, before + 2, 'one object per kind, no duplicate');
  const pdf = await orthanc.json(`/instances/${outputs[0].orthancId}`);
  assert.equal(pdf.MainDicomTags.SOPInstanceUID, outputs[0].sopInstanceUid);
});

test('/api/health counts the report outputs queue', async () => {
  const h = await orthanc.json('/api/health');
  assert.deepEqual(Object.keys(h.reportOutputs).sort(), ['done', 'failed', 'oldestWaitingSince', 'queued', 'running']);
  assert.equal(h.reportOutputs.failed, 0);
  assert.equal(h.reportOutputs.queued, 0);
  assert.equal(h.reportOutputs.oldestWaitingSince, null);
  const metrics = (await orthanc.api('/tools/metrics-prometheus')).text;
  assert.match(metrics, /^reading_room_report_outputs_failed 0\b/m);
  assert.match(metrics, /^reading_room_report_outputs_queued 0\b/m);
});

test('administrators see a report\'s outputs and re-drive a failed one; others are refused', async () => {
  // a failed object as the worker leaves it after its last try
  sql("INSERT INTO report_outputs(report_id, version, kind, state, attempts, last_error, next_attempt_at, created_at," +
    " updated_at) VALUES (41, 1, 'sr', 'failed', 8, 'Orthanc answered error 500', 1, 1, 2)");
  let r = await orthanc.api('/api/admin/reports/41/outputs');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.data.map((o) => [o.version, o.kind, o.state, o.attempts, o.lastError]),
    [[1, 'sr', 'failed', 8, 'Orthanc answered error 500']]);
  assert.equal((await orthanc.json('/api/health')).status, 'degraded', 'a failed object degrades health');
  r = await orthanc.api('/api/admin/reports/41/outputs/retry', { method: 'POST', body: { version: 1, kind: 'sr' } });
  assert.equal(r.status, 200, r.text);
  // re-driven: its tries start again (the worker, which has the reports' loader, may already have taken it:
  // report 41 does not exist, so that try fails and the job waits for its back-off)
  assert.ok(['queued', 'running'].includes(r.json.data[0].state) || r.json.data[0].attempts <= 1, r.text);
  assert.ok(r.json.data[0].attempts <= 1, `attempts start again: ${r.text}`);
  // only a failed object can be re-driven: one that is done answers 409
  sql("INSERT INTO report_outputs(report_id, version, kind, state, attempts, next_attempt_at, created_at, updated_at)" +
    " VALUES (41, 1, 'kos', 'done', 1, 1, 1, 2)");
  r = await orthanc.api('/api/admin/reports/41/outputs/retry', { method: 'POST', body: { version: 1, kind: 'kos' } });
  assert.equal(r.status, 409, r.text);
  r = await orthanc.api('/api/admin/reports/41/outputs/retry', { method: 'POST', body: { version: 1, kind: 'pdf' } });
  assert.equal(r.status, 404, r.text);
  for (const bad of [{ version: 1, kind: 'png' }, { version: 0, kind: 'sr' }, { kind: 'sr' }, { version: '1', kind: 'sr' }]) {
    r = await orthanc.api('/api/admin/reports/41/outputs/retry', { method: 'POST', body: bad });
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.equal(r.json.error.code, 'invalid_argument');
  }
  assert.deepEqual((await orthanc.json('/api/admin/reports/42/outputs')).data, []);
  await orthanc.createUser({ username: 'rad', password: 'Report-Outputs-2026', role: 'radiologist', displayName: 'Rad' });
  const l = await orthanc.login('rad', 'Report-Outputs-2026');
  r = await orthanc.api('/api/admin/reports/41/outputs', { headers: { Authorization: `Bearer ${l.token}` } });
  assert.equal(r.status, 403);
  const audit = await orthanc.json('/api/audit?action=report.outputs.retry');
  assert.ok(JSON.stringify(audit).includes('report.outputs.retry'));
  sql('DELETE FROM report_outputs WHERE report_id=41');
});
