// Upload every test file (incl. malformed/) with POST /instances: the plugin
// must stay up and its worklist must equal what Orthanc itself has.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startOrthanc, testData, listFiles, uploadFile, waitIngestIdle, worklistAll, orthancStudies, dcmdumpTags,
} from '../lib/orthanc.mjs';

let orthanc;
const accepted = [];
const rejected = [];

// Files that crash Orthanc 1.10.1 itself (SIGSEGV in DCMTK while parsing, with or
// without any plugin). They are uploaded separately at the end, followed by a
// restart and a consistency check.
const ORTHANC_CRASHERS = ['malformed/2026-05-06-Deeply-Nested-Sequence.dcm'];

function wanted(p) {
  const base = path.basename(p);
  if (base.toUpperCase() === 'DICOMDIR') return false;
  if (ORTHANC_CRASHERS.includes(path.relative(testData, p))) return false;
  return !/\.(txt|md)$/i.test(base);
}

before(async () => {
  orthanc = await startOrthanc();
});

after(async () => {
  await orthanc?.stop();
});

test('POST every test file to /instances; plugin stays up', async (t) => {
  const files = await listFiles(testData, { filter: wanted });
  assert.ok(files.length > 300, `found ${files.length} files under ${testData}`);
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    let r;
    try {
      r = await uploadFile(orthanc, f);
    } catch (e) {
      assert.fail(`upload of ${path.relative(testData, f)} failed at the HTTP level (Orthanc down?): ${e.message}\n${orthanc.runLog().slice(-3000)}`);
    }
    if (r.status === 200) accepted.push({ file: f, status: r.json?.Status });
    else rejected.push({ file: path.relative(testData, f), status: r.status, error: r.json?.Message || r.text.slice(0, 200) });
    if (i % 25 === 0) {
      const h = await orthanc.api('/api/health');
      assert.equal(h.status, 200, `/api/health after ${path.relative(testData, f)}`);
    }
  }
  t.diagnostic(`${files.length} files: ${accepted.length} accepted by Orthanc (${accepted.filter((a) => a.status === 'AlreadyStored').length} AlreadyStored), ${rejected.length} rejected`);
  for (const r of rejected) t.diagnostic(`rejected by Orthanc: ${r.file} -> ${r.status} ${r.error}`);
  const h = await orthanc.api('/api/health');
  assert.equal(h.status, 200);
  assert.ok(orthanc.running, 'Orthanc process still running');
});

async function checkListMatchesOrthanc() {
  const ing = await waitIngestIdle(orthanc, 60000);
  assert.equal(ing.lastError, null, `ingest.lastError: ${ing.lastError}`);
  const orth = await orthancStudies(orthanc);
  const list = await worklistAll(orthanc);
  const page = await orthanc.json('/api/dicom/studies?limit=1');
  assert.equal(page.total, Object.keys(orth).length, 'total = number of Orthanc studies');
  assert.deepEqual(new Set(list.map((s) => s.studyInstanceUid)), new Set(Object.keys(orth)), 'same study UIDs');
  const mismatches = [];
  for (const s of list) {
    const o = orth[s.studyInstanceUid];
    if (!o) continue;
    if (s.instanceCount !== o.instances.size) mismatches.push(`${s.studyInstanceUid}: instanceCount ${s.instanceCount} vs Orthanc ${o.instances.size}`);
    if (s.seriesCount !== o.seriesCount) mismatches.push(`${s.studyInstanceUid}: seriesCount ${s.seriesCount} vs Orthanc ${o.seriesCount}`);
    if (s.orthancId !== o.orthancId) mismatches.push(`${s.studyInstanceUid}: orthancId ${s.orthancId} vs Orthanc ${o.orthancId}`);
  }
  assert.deepEqual(mismatches, []);
}

// Orthanc accepts some files whose UIDs are not DICOM UIDs (malformed/bad_sequence.dcm
// has 64 hex digits); they are checked separately below.
const CONFORMANT_UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const isConformant = (uid) => uid.length <= 64 && CONFORMANT_UID.test(uid);

async function checkDetailsMatchOrthanc() {
  const orth = await orthancStudies(orthanc);
  const problems = [];
  for (const [uid, o] of Object.entries(orth)) {
    if (!isConformant(uid)) continue;
    const r = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(uid)}`);
    if (r.status !== 200) { problems.push(`${uid}: detail HTTP ${r.status} ${r.text.slice(0, 200)}`); continue; }
    const d = r.json;
    const sops = new Set(d.series.flatMap((s) => s.instances.map((i) => i.sopInstanceUid)));
    const missing = [...o.instances].filter((x) => !sops.has(x));
    const extra = [...sops].filter((x) => !o.instances.has(x));
    if (missing.length || extra.length) problems.push(`${uid}: missing ${missing.length} extra ${extra.length}`);
    const sum = d.series.reduce((a, s) => a + s.instanceCount, 0);
    if (sum !== d.instanceCount) problems.push(`${uid}: sum of series instanceCount ${sum} != study instanceCount ${d.instanceCount}`);
    for (const s of d.series) {
      if (s.instanceCount !== s.instances.length) problems.push(`${uid}/${s.seriesInstanceUid}: instanceCount ${s.instanceCount} vs ${s.instances.length} listed`);
    }
    const nums = d.series.map((s) => s.seriesNumber).filter((n) => n !== null);
    if (nums.some((n, k) => k > 0 && n < nums[k - 1])) problems.push(`${uid}: series not sorted by number: ${nums}`);
    const orthSeries = await orthanc.json(`/studies/${o.orthancId}/series`);
    const mods = new Set(orthSeries.map((s) => s.MainDicomTags.Modality).filter(Boolean));
    if (JSON.stringify([...new Set(d.modalities)].sort()) !== JSON.stringify([...mods].sort())) {
      problems.push(`${uid}: modalities ${JSON.stringify(d.modalities)} vs Orthanc ${JSON.stringify([...mods])}`);
    }
  }
  assert.deepEqual(problems, []);
}

test('worklist == Orthanc: same StudyInstanceUIDs, instance and series counts, orthancIds', checkListMatchesOrthanc);

test('every study detail lists exactly the SOP instances Orthanc has, modalities = Orthanc series modalities', checkDetailsMatchOrthanc);

test('a listed study whose StudyInstanceUID is not a conformant UID can still be opened (malformed/bad_sequence.dcm)', async () => {
  const list = await worklistAll(orthanc);
  const odd = list.filter((s) => !isConformant(s.studyInstanceUid));
  assert.ok(odd.length >= 1, 'bad_sequence.dcm (hex UIDs) is accepted by Orthanc and listed');
  for (const s of odd) {
    const r = await orthanc.api(`/api/dicom/studies/${encodeURIComponent(s.studyInstanceUid)}`);
    assert.equal(r.status, 200, `study ${s.studyInstanceUid} is in the list but its detail answers ${r.status} ${r.text.slice(0, 200)}`);
    assert.equal(r.json.instanceCount, s.instanceCount);
  }
});

test('a study with a non-conformant StudyInstanceUID that opens can also be analysed: the AI routes take the same UID rule', async () => {
  const list = await worklistAll(orthanc);
  const odd = list.filter((s) => !isConformant(s.studyInstanceUid));
  assert.ok(odd.length >= 1);
  for (const s of odd) {
    const uid = encodeURIComponent(s.studyInstanceUid);
    const analyses = await orthanc.api(`/api/ai/studies/${uid}/analyses`);
    assert.equal(analyses.status, 200, `analyses of ${s.studyInstanceUid}: ${analyses.status} ${analyses.text.slice(0, 200)}`);
    assert.deepEqual(analyses.json.analyses, []);
    // no provider is configured here: refused for that reason (503), never as a bad identifier (400)
    const r = await orthanc.api(`/api/ai/analyze/${uid}`, { method: 'POST', body: '{}' });
    assert.notEqual(r.status, 400, `analyze ${s.studyInstanceUid}: ${r.text.slice(0, 200)}`);
    assert.equal(r.json?.error?.code, 'not_configured', r.text.slice(0, 200));
  }
});

test('untrusted strings are returned verbatim (XSS payload file)', async () => {
  const f = path.join(testData, 'malformed', 'xss-tags.dcm');
  const tags = await dcmdumpTags(f, ['StudyInstanceUID', 'PatientName', 'StudyDescription', 'SeriesDescription'], { utf8: true });
  const d = await orthanc.json(`/api/dicom/studies/${tags.StudyInstanceUID}`);
  assert.equal(d.patientName, tags.PatientName);
  assert.equal(d.studyDescription, tags.StudyDescription);
  assert.equal(d.series[0].seriesDescription, tags.SeriesDescription);
  const r = await orthanc.api('/api/dicom/studies?patientName=xss*');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /application\/json/);
});

test('a file that crashes Orthanc 1.10.1 itself: after a restart the worklist is still consistent', async (t) => {
  for (const rel of ORTHANC_CRASHERS) {
    let outcome;
    try {
      const r = await uploadFile(orthanc, path.join(testData, rel));
      outcome = `HTTP ${r.status}`;
    } catch (e) {
      outcome = `connection error (${e.code || e.message})`;
    }
    await new Promise((r) => setTimeout(r, 300));
    t.diagnostic(`${rel}: ${outcome}; Orthanc ${orthanc.running ? 'still running' : `died (${JSON.stringify(orthanc.exitInfo)})`}`);
    if (!orthanc.running) await orthanc.restart();
  }
  await checkListMatchesOrthanc();
  await checkDetailsMatchOrthanc();
});

test('Orthanc and plugin still healthy at the end', async () => {
  const sys = await orthanc.api('/system');
  assert.equal(sys.status, 200);
  const h = await orthanc.json('/api/health');
  assert.equal(h.store.status, 'ok');
  assert.equal(h.ingest.running, true);
});
