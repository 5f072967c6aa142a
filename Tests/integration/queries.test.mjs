// Worklist query arguments, sorting, paging and argument validation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startOrthanc, testData, uploadFile, dcmdumpTags, waitFor, waitIngestIdle } from '../lib/orthanc.mjs';
import { makeDicom, tempDir, encode } from '../lib/dicom.mjs';

const BASE = path.join(testData, 'ts_mr_small', 'MR_small.dcm');

// Synthetic studies. D has two series (CT + SR). C is Latin-1 encoded.
const STUDIES = {
  A: { PatientName: 'SMITH^JOHN', PatientID: 'PID-001', AccessionNumber: 'ACC1001', Modality: 'MR', StudyDate: '20230115', StudyTime: '101500',
    StudyDescription: 'Brain MRI with contrast', ReferringPhysicianName: 'HOUSE^GREGORY', InstitutionName: 'General Hospital' },
  B: { PatientName: 'SMITHERS^WAYLON', PatientID: 'PID-002', AccessionNumber: 'ACC1002', Modality: 'CT', StudyDate: '20230220', StudyTime: '090000',
    StudyDescription: 'CT Abdomen', ReferringPhysicianName: 'WILSON^JAMES', InstitutionName: 'Springfield Clinic' },
  C: { PatientName: 'Müller^Renée', PatientID: 'PID-003', AccessionNumber: 'X-77', Modality: 'MR', StudyDate: '20221231', StudyTime: '235959',
    StudyDescription: 'Knee MRI', ReferringPhysicianName: '', InstitutionName: 'Klinikum Süd', latin1: true },
  D: { PatientName: 'DOE^JANE', PatientID: 'ABC123', AccessionNumber: 'ACC2001', Modality: 'CT', StudyDate: '20240301', StudyTime: '120000',
    StudyDescription: 'Chest CT and report', ReferringPhysicianName: 'CAMERON^ALLISON', InstitutionName: 'General Hospital', secondSeriesModality: 'SR' },
  E: { PatientName: "O'BRIEN^PAT", PatientID: 'PID-005', AccessionNumber: '', Modality: 'US', StudyDate: '', StudyTime: '',
    StudyDescription: 'Ultrasound', ReferringPhysicianName: '', InstitutionName: '' },
  F: { PatientName: 'JOHNSON^SMITH', PatientID: 'Z-006', AccessionNumber: 'B-9', Modality: 'MR', StudyDate: '20230115', StudyTime: '080000',
    StudyDescription: 'Follow up brain', ReferringPhysicianName: 'HOUSE^GREGORY', InstitutionName: 'General Hospital' },
};
const TAGS = { PatientName: '0010,0010', PatientID: '0010,0020', AccessionNumber: '0008,0050', Modality: '0008,0060', StudyDate: '0008,0020',
  StudyTime: '0008,0030', StudyDescription: '0008,1030', ReferringPhysicianName: '0008,0090', InstitutionName: '0008,0080' };

let orthanc;
const uidOf = {}; // key -> StudyInstanceUID
const keyOf = {}; // StudyInstanceUID -> key

async function build(dir) {
  const files = [];
  for (const [key, s] of Object.entries(STUDIES)) {
    const set = {};
    for (const [name, tag] of Object.entries(TAGS)) {
      set[tag] = s.latin1 && /[^\x00-\x7f]/.test(s[name]) ? encode(s[name], 'latin1') : s[name];
    }
    if (s.latin1) set['0008,0005'] = 'ISO_IR 100';
    const f1 = await makeDicom(BASE, path.join(dir, `${key}-1.dcm`), { set, genStudy: true, genSeries: true, genInstance: true });
    const uid = (await dcmdumpTags(f1, ['StudyInstanceUID'])).StudyInstanceUID;
    uidOf[key] = uid;
    keyOf[uid] = key;
    files.push(f1);
    if (s.secondSeriesModality) {
      files.push(await makeDicom(BASE, path.join(dir, `${key}-2.dcm`), {
        set: { ...set, '0008,0060': s.secondSeriesModality, '0020,000d': uid, '0020,0011': '2' }, genSeries: true, genInstance: true,
      }));
    }
  }
  return files;
}

/** GET /api/dicom/studies?query -> {status, json, keys: ['A', ...] in answer order} */
async function q(query) {
  const r = await orthanc.api(`/api/dicom/studies${query ? '?' + query : ''}`);
  const keys = r.status === 200 ? r.json.data.map((s) => keyOf[s.studyInstanceUid] || s.studyInstanceUid) : null;
  return { ...r, keys };
}
const enc = encodeURIComponent;
const sorted = (a) => [...a].sort();

async function expectKeys(query, expected) {
  const r = await q(query);
  assert.equal(r.status, 200, `${query}: ${r.text}`);
  assert.deepEqual(sorted(r.keys), sorted(expected), `?${query}`);
  assert.equal(r.json.total, expected.length, `?${query}: total`);
}

/** Run checks, collect every failure, then fail once with all of them. */
async function allOf(checks) {
  const failures = [];
  for (const c of checks) {
    try { await c(); } catch (e) { failures.push(e.message.split('\n')[0]); }
  }
  assert.deepEqual(failures, []);
}

async function expectBad(query, { status = 400, code = 'invalid_argument', path: p = '/api/dicom/studies', method = 'GET' } = {}) {
  const url = query === null ? p : `${p}?${query}`;
  const r = await orthanc.api(url, { method });
  assert.equal(r.status, status, `${method} ${url}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json && r.json.error, `${method} ${url}: JSON error body expected, got ${JSON.stringify(r.text.slice(0, 300))}`);
  assert.equal(r.json.error.code, code, `${method} ${url}: error.code`);
  assert.equal(typeof r.json.error.message, 'string', `${method} ${url}: error.message`);
  assert.ok(r.json.error.message.length > 0);
  assert.match(String(r.headers['content-type']), /application\/json/, `${method} ${url}: content-type`);
}

before(async () => {
  const dir = await tempDir();
  const files = await build(dir);
  orthanc = await startOrthanc();
  for (const f of files) {
    const r = await uploadFile(orthanc, f);
    assert.equal(r.status, 200, r.text);
  }
  await waitFor(async () => {
    const r = await orthanc.json('/api/dicom/studies?limit=500');
    return r.total === 6 && r.data.find((s) => s.studyInstanceUid === uidOf.D)?.seriesCount === 2;
  }, 15000, 100, 'the 6 synthetic studies in the worklist');
  await waitIngestIdle(orthanc);
});

after(async () => {
  await orthanc?.stop();
});

test('fields of the synthetic studies', async () => {
  const r = await orthanc.json('/api/dicom/studies?limit=500');
  assert.equal(r.total, 6);
  for (const s of r.data) {
    const e = STUDIES[keyOf[s.studyInstanceUid]];
    assert.equal(s.patientName, e.PatientName);
    assert.equal(s.patientId, e.PatientID);
    assert.equal(s.accessionNumber, e.AccessionNumber);
    assert.equal(s.studyDate, e.StudyDate);
    assert.equal(s.studyDescription, e.StudyDescription);
    assert.equal(s.referringPhysicianName, e.ReferringPhysicianName);
    assert.equal(s.institutionName, e.InstitutionName);
  }
  const d = r.data.find((s) => s.studyInstanceUid === uidOf.D);
  assert.deepEqual(sorted(d.modalities), ['CT', 'SR']);
  assert.equal(d.instanceCount, 2);
});

test('patientName: word-prefix match, case-insensitive', async () => {
  await expectKeys('patientName=smith', ['A', 'B', 'F']);
  await expectKeys('patientName=SMI', ['A', 'B', 'F']);
  await expectKeys(`patientName=${enc('smi jo')}`, ['A', 'F']);
  await expectKeys(`patientName=${enc('jo smi')}`, ['A', 'F']);
  await expectKeys('patientName=john', ['A', 'F']);
  await expectKeys('patientName=waylon', ['B']);
  await expectKeys('patientName=mith', []);
  await expectKeys(`patientName=${enc('smith xyz')}`, []);
  await expectKeys(`patientName=${enc("o'brien")}`, ['E']);
});

test('patientName: accent-insensitive', async () => {
  await expectKeys('patientName=muller', ['C']);
  await expectKeys(`patientName=${enc('MÜLLER')}`, ['C']);
  await expectKeys(`patientName=${enc('renée')}`, ['C']);
  await expectKeys('patientName=RENEE', ['C']);
});

test('patientName: DICOM wildcards on the whole name (^ counts as space)', async () => {
  await expectKeys(`patientName=${enc('SMITH*')}`, ['A', 'B']);
  await expectKeys(`patientName=${enc('smith*')}`, ['A', 'B']);
  await expectKeys(`patientName=${enc('*SMITH')}`, ['F']);
  await expectKeys(`patientName=${enc('*smith*')}`, ['A', 'B', 'F']);
  await expectKeys(`patientName=${enc('smith?john')}`, ['A']);
  await expectKeys(`patientName=${enc('smith john*')}`, ['A']);
  await expectKeys(`patientName=${enc('m?ller*')}`, ['C']);
  await expectKeys(`patientName=${enc('SMITH')}`, ['A', 'B', 'F']); // no wildcard: word prefix
  await expectKeys(`patientName=${enc('D?E*')}`, ['D']);
  await expectKeys(`patientName=${enc('*')}`, ['A', 'B', 'C', 'D', 'E', 'F']);
});

test('patientId: exact, wildcards allowed', async () => {
  await expectKeys('patientId=PID-001', ['A']);
  await expectKeys('patientId=PID-00', []);
  await expectKeys('patientId=ID-001', []);
  await expectKeys(`patientId=${enc('PID-00*')}`, ['A', 'B', 'C', 'E']);
  await expectKeys(`patientId=${enc('PID-00?')}`, ['A', 'B', 'C', 'E']);
  await expectKeys(`patientId=${enc('*123')}`, ['D']);
});

test('accessionNumber: exact, wildcards allowed', async () => {
  await expectKeys('accessionNumber=ACC1001', ['A']);
  await expectKeys('accessionNumber=ACC100', []);
  await expectKeys(`accessionNumber=${enc('ACC*')}`, ['A', 'B', 'D']);
  await expectKeys(`accessionNumber=${enc('ACC100?')}`, ['A', 'B']);
  await expectKeys('accessionNumber=X-77', ['C']);
});

test('modality list', async () => {
  await expectKeys('modality=CT', ['B', 'D']);
  await expectKeys('modality=SR', ['D']);
  await expectKeys('modality=US', ['E']);
  await expectKeys(`modality=${enc('CT,MR')}`, ['A', 'B', 'C', 'D', 'F']);
  await expectKeys(`modality=${enc('SR,US')}`, ['D', 'E']);
  await expectKeys('modality=XA', []);
});

test('study date range (inclusive, YYYYMMDD or YYYY-MM-DD)', async () => {
  await expectKeys('studyDateFrom=20230101&studyDateTo=20231231', ['A', 'B', 'F']);
  await expectKeys('studyDateFrom=2023-01-15&studyDateTo=2023-01-15', ['A', 'F']);
  await expectKeys('studyDateFrom=20230115&studyDateTo=20230115', ['A', 'F']);
  await expectKeys('studyDateTo=20221231', ['C']);
  await expectKeys('studyDateFrom=20240301', ['D']);
  await expectKeys('studyDateFrom=20240302', []);
  await expectKeys('studyDateFrom=2023-02-20&studyDateTo=2024-03-01', ['B', 'D']);
  await expectKeys('studyDateFrom=2024-02-29&studyDateTo=2024-03-01', ['D']); // leap day is a valid date
});

test('description: like patientName, on the study description', async () => {
  await expectKeys('description=brain', ['A', 'F']);
  await expectKeys('description=BRA', ['A', 'F']);
  await expectKeys(`description=${enc('mri brain')}`, ['A']);
  await expectKeys('description=mri', ['A', 'C']);
  await expectKeys(`description=${enc('*mri*')}`, ['A', 'C']);
  await expectKeys(`description=${enc('ct abd')}`, ['B']);
  await expectKeys(`description=${enc('follow*')}`, ['F']);
});

test('q: free text over name, id, accession, description, referring physician, institution', async () => {
  await expectKeys('q=smith', ['A', 'B', 'F']);
  await expectKeys('q=springfield', ['B']);
  await expectKeys('q=wilson', ['B']);
  await expectKeys('q=acc2001', ['D']);
  await expectKeys('q=abc123', ['D']);
  await expectKeys('q=klinikum', ['C']);
  await expectKeys(`q=${enc('house brain')}`, ['A', 'F']);
  await expectKeys(`q=${enc('house contrast')}`, ['A']);
  await expectKeys(`q=${enc('general chest')}`, ['D']);
  await expectKeys('q=ultrasound', ['E']);
  await expectKeys('q=nothingmatches', []);
});

test('combined filters are ANDed', async () => {
  await expectKeys('patientName=smi&modality=CT', ['B']);
  await expectKeys('q=general&modality=MR&studyDateFrom=20230101', ['A', 'F']);
  await expectKeys('description=brain&studyDateTo=2023-01-15&patientId=Z-006', ['F']);
});

test('sort and order', async () => {
  const dflt = await q('');
  const explicit = await q('sort=studyDate&order=desc');
  assert.deepEqual(dflt.keys, explicit.keys, 'default = sort=studyDate&order=desc');
  const dated = (keys) => keys.filter((k) => k !== 'E'); // E has no date: position unspecified
  assert.deepEqual(dated(explicit.keys), ['D', 'B', 'A', 'F', 'C'], 'studyDate desc (date then time)');
  const asc = await q('sort=studyDate&order=asc');
  assert.deepEqual(dated(asc.keys), ['C', 'F', 'A', 'B', 'D'], 'studyDate asc (date then time)');

  const byName = await q('sort=patientName&order=asc');
  // SMITH^JOHN vs SMITHERS^WAYLON depends on how ^ collates: only check the rest
  const nameOrder = byName.keys.map((k) => (k === 'A' || k === 'B' ? 'S' : k));
  assert.deepEqual(nameOrder, ['D', 'F', 'C', 'E', 'S', 'S'], `patientName asc: ${byName.keys}`);
  const byNameDesc = await q('sort=patientName&order=desc');
  assert.deepEqual(byNameDesc.keys, [...byName.keys].reverse(), 'patientName desc = reverse of asc');

  const recvAsc = await q('sort=receivedAt&order=asc');
  const t = recvAsc.json.data.map((s) => s.receivedAt);
  assert.ok(t.every((x, i) => i === 0 || x >= t[i - 1]), `receivedAt asc: ${t}`);
  const recvDesc = await q('sort=receivedAt&order=desc');
  const t2 = recvDesc.json.data.map((s) => s.receivedAt);
  assert.ok(t2.every((x, i) => i === 0 || x <= t2[i - 1]), `receivedAt desc: ${t2}`);
});

test('limit / offset / total', async () => {
  const all = await q('sort=studyDate&order=desc');
  assert.equal(all.json.limit, 50);
  assert.equal(all.json.offset, 0);
  const p1 = await q('sort=studyDate&order=desc&limit=2');
  assert.deepEqual(p1.keys, all.keys.slice(0, 2));
  assert.equal(p1.json.total, 6);
  assert.equal(p1.json.limit, 2);
  assert.equal(p1.json.offset, 0);
  const p2 = await q('sort=studyDate&order=desc&limit=2&offset=2');
  assert.deepEqual(p2.keys, all.keys.slice(2, 4));
  assert.equal(p2.json.offset, 2);
  const p3 = await q('sort=studyDate&order=desc&limit=2&offset=4');
  assert.deepEqual(p3.keys, all.keys.slice(4, 6));
  const past = await q('offset=100');
  assert.deepEqual(past.keys, []);
  assert.equal(past.json.total, 6);
  assert.equal(past.json.offset, 100);
  const one = await q('limit=1');
  assert.equal(one.keys.length, 1);
  const max = await q('limit=500&offset=1000000');
  assert.equal(max.status, 200);
  assert.deepEqual(max.keys, []);
  const filtered = await q('modality=MR&limit=1');
  assert.equal(filtered.json.total, 3, 'total counts all matches, not the page');
  assert.equal(filtered.keys.length, 1);
});

test('invalid arguments -> 400 invalid_argument', async () => {
  await allOf([
    'studyDateFrom=20231301', 'studyDateTo=2023-02-30', 'studyDateFrom=20230229', 'studyDateFrom=2023-13-01',
    'studyDateFrom=20230132', 'studyDateFrom=abc', 'studyDateTo=2023011', 'studyDateFrom=2023-1-15',
    'limit=-1', 'limit=0', 'limit=501', 'limit=100000', 'limit=abc', 'limit=1.5',
    'offset=-5', 'offset=1000001', 'offset=abc',
    'sort=bogus', `sort=${enc('studyDate;DROP TABLE studies')}`, 'order=sideways',
  ].map((bad) => () => expectBad(bad)));
});

test('study detail: unknown -> 404, malformed UID -> 400', async () => {
  // Non-conformant but Orthanc-accepted identifiers (e.g. hex UIDs, see upload-all) must stay
  // openable, so only identifiers that are malformed under any UID-like grammar are listed here.
  // ('1.2.' is not: Orthanc 1.10.1 drops a trailing '.' of a URI segment before routing.)
  await allOf([
    () => expectBad(null, { status: 404, code: 'not_found', path: '/api/dicom/studies/1.2.3.4.5.999' }),
    ...['abc;DROP TABLE studies', `1.${'2'.repeat(70)}`, '1'.repeat(65), '1..2', '.1.2', "1.2' OR '1'='1", '1.2.3 4']
      .map((uid) => () => expectBad(null, { path: `/api/dicom/studies/${enc(uid)}` })),
  ]);
});

test('SQL injection / LIKE metacharacters in text filters: 200, no results, table intact', async () => {
  // SQL syntax: must match nothing whatever the tokenizer does
  const sql = ["' OR '1'='1", "x'; DROP TABLE studies; --", '" OR 1=1 --', "*' OR 1=1 --", "'; SELECT * FROM sqlite_master; --",
    ') OR (1=1', "') OR 1=1 --", 'NULL', "1' UNION SELECT name FROM sqlite_master --"];
  // LIKE metacharacters placed so that a naive LIKE would match, any word tokenizer would not
  const like = {
    patientName: ['SM_TH', 'S%N'],
    patientId: ['PID%', 'PID_001', '%', '_%'],
    accessionNumber: ['ACC%', 'ACC100_', '%'],
    description: ['BR_IN', 'BR%N'],
    q: ['SPRINGF_ELD', 'SPR%LD'],
  };
  for (const param of Object.keys(like)) {
    for (const p of [...sql, ...like[param]]) {
      const r = await q(`${param}=${enc(p)}`);
      assert.equal(r.status, 200, `${param}=${p}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      assert.deepEqual(r.keys, [], `${param}=${JSON.stringify(p)} must match nothing`);
      assert.equal(r.json.total, 0);
    }
    // pure punctuation: only "answers 200" is required (zero words may match everything)
    for (const p of ['%', '%%', '_', '\\', "'", '"', ';']) {
      const r = await q(`${param}=${enc(p)}`);
      assert.equal(r.status, 200, `${param}=${p}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    }
  }
  for (const p of ["' OR '1'='1", "CT') OR ('1'='1", '%', '_T']) {
    const r = await q(`modality=${enc(p)}`);
    assert.ok(r.status === 200 || r.status === 400, `modality=${p}: HTTP ${r.status}`);
    if (r.status === 200) assert.deepEqual(r.keys, [], `modality=${p} must match nothing`);
    else assert.equal(r.json?.error?.code, 'invalid_argument');
  }
  const all = await q('limit=500');
  assert.equal(all.json.total, 6, 'table intact');
  const d = await orthanc.api(`/api/dicom/studies/${uidOf.D}`);
  assert.equal(d.status, 200);
  assert.equal(d.json.series.length, 2);
});

// Orthanc 1.10.1's plugin SDK cannot send a body with a 405 (HttpOutput::SendStatus refuses
// 301/401/405; OrthancPluginSendMethodNotAllowed sends "Allow" and an empty body). So: 405 +
// Allow header is required; a body, if any, must be the contract's JSON error.
// With access control on (the default), a method the role matrix does not
// grant is refused by the HTTP filter (403, no body) before the route sees
// it; a granted method the route does not implement answers 405.
async function expect405(method, p, allow) {
  const r = await orthanc.api(p, { method });
  if (r.status === 403) {
    assert.equal(r.text, '', `${method} ${p}: a refusal of the filter has no body`);
    return;
  }
  assert.equal(r.status, 405, `${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  assert.equal(String(r.headers.allow || '').toUpperCase().split(/\s*,\s*/).includes(allow), true,
    `${method} ${p}: Allow header ${JSON.stringify(r.headers.allow)} should list ${allow}`);
  if (r.text.length) {
    assert.equal(r.json?.error?.code, 'method_not_allowed', `${method} ${p}: body ${r.text.slice(0, 200)}`);
  }
}

test('wrong methods -> 405 (Allow header; JSON error body when there is a body), or 403 from the role matrix', async () => {
  await allOf([
    () => expect405('DELETE', '/api/dicom/studies', 'GET'),
    () => expect405('POST', '/api/dicom/studies', 'GET'),
    () => expect405('PUT', '/api/dicom/studies', 'GET'),
    () => expect405('PUT', `/api/dicom/studies/${uidOf.A}`, 'GET'),
    () => expect405('DELETE', `/api/dicom/studies/${uidOf.A}`, 'GET'),
    () => expect405('POST', '/api/health', 'GET'),
    () => expect405('DELETE', '/api/admin/ingest', 'GET'),
    () => expect405('GET', '/api/admin/ingest/resync', 'POST'),
  ]);
  // the administrator's matrix grants any method under {api}admin/: the route answers 405
  const r = await orthanc.api('/api/admin/ingest/resync', { method: 'GET' });
  assert.equal(r.status, 405);
  const still = await q('');
  assert.equal(still.json.total, 6, 'DELETE did not delete anything');
  const d = await orthanc.api(`/api/dicom/studies/${uidOf.A}`);
  assert.equal(d.status, 200, 'DELETE on the detail did not delete the study');
});

test('Orthanc and the plugin are still up', async () => {
  assert.equal((await orthanc.api('/system')).status, 200);
  const h = await orthanc.json('/api/health');
  assert.equal(h.status, 'ok');
  assert.equal(h.store.status, 'ok');
  assert.ok(orthanc.running);
});
