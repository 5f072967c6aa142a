// The viewer's measurements and key images kept in the plugin's store (api/annotations_api.c), against a
// real Orthanc with the plugin: versions and If-Match, authors, roles, bad bodies, unknown studies, key
// images, a restart of Orthanc, and the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOrthanc, uploadFile, dicomFilesOf, waitIngestIdle } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
let orthanc;
const tokens = {};
let uid, sop, series;

const as = (who, p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(opts.headers || {}), Authorization: `Bearer ${tokens[who]}` } });
const base = () => `/api/dicom/studies/${uid}`;
const length = (extra = {}) => ({
  seriesInstanceUid: series,
  sopInstanceUid: sop,
  frame: 1,
  tool: 'Length',
  label: 'lesion',
  data: { handles: { points: [[-10.5, 3.25, 40], [12, 3.25, 40]] }, frameOfReferenceUID: '1.2.3', stats: { length: 22.5, unit: 'mm' } },
  ...extra,
});

before(async () => {
  orthanc = await startOrthanc();
  for (const [role, name] of [['radiologist', 'rad'], ['radiologist', 'rad2'], ['technician', 'tech'], ['physician', 'doc']]) {
    await orthanc.createUser({ username: name, password: PASSWORD, role, displayName: `Test ${name}` });
    const l = await orthanc.login(name, PASSWORD);
    assert.equal(l.status, 200, `login ${name}: ${l.text}`);
    tokens[name] = l.token;
  }
  const [file] = (await dicomFilesOf('mr_brain_t1post_24')).slice(0, 1);
  const up = await uploadFile(orthanc, file);
  assert.equal(up.status, 200);
  await waitIngestIdle(orthanc);
  const study = await orthanc.json('/api/dicom/studies');
  uid = study.data[0].studyInstanceUid;
  const detail = await orthanc.json(`/api/dicom/studies/${uid}`);
  series = detail.series[0].seriesInstanceUid;
  const tags = await orthanc.json(`/instances/${up.json.ID}/simplified-tags`);
  sop = tags.SOPInstanceUID;
});
after(async () => { await orthanc?.stop(); });

test('create, change with If-Match, a stale version refused with 412, delete', async () => {
  let r = await as('rad', `${base()}/annotations/a-1`, { method: 'PUT', body: length() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.version, 1);
  assert.equal(r.json.author, 'rad');
  assert.equal(r.json.annotationUid, 'a-1');
  assert.deepEqual(r.json.data, length().data);
  assert.match(r.json.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  r = await as('rad', `${base()}/annotations/a-1`, { method: 'PUT', body: length({ label: 'lesion 2' }), headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 2);
  assert.equal(r.json.label, 'lesion 2');

  r = await as('rad', `${base()}/annotations/a-1`, { method: 'PUT', body: length({ label: 'lost' }), headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 412, r.text);
  assert.equal(r.json.error.code, 'version_mismatch');
  r = await as('rad', `${base()}/annotations/a-1`, { method: 'PUT', body: length({ frame: 2 }) });
  assert.equal(r.status, 409, r.text);
  r = await as('rad', `${base()}/annotations/a-1`, { method: 'PUT', body: length(), headers: { 'If-Match': 'banana' } });
  assert.equal(r.status, 400, r.text);

  const list = await as('rad', `${base()}/annotations`);
  assert.equal(list.status, 200);
  const a1 = list.json.data.find((a) => a.annotationUid === 'a-1');
  assert.equal(a1.label, 'lesion 2');
  assert.equal(a1.version, 2);

  r = await as('rad', `${base()}/annotations/a-1`, { method: 'DELETE', headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 412);
  r = await as('rad', `${base()}/annotations/a-1`, { method: 'DELETE', headers: { 'If-Match': '"2"' } });
  assert.equal(r.status, 204, r.text);
  r = await as('rad', `${base()}/annotations/a-1`, { method: 'DELETE' });
  assert.equal(r.status, 404);
});

test('another radiologist sees an annotation but may not change or delete it; roles', async () => {
  let r = await as('rad', `${base()}/annotations/b-1`, { method: 'PUT', body: length() });
  assert.equal(r.status, 201, r.text);
  r = await as('rad2', `${base()}/annotations`);
  assert.ok(r.json.data.some((a) => a.annotationUid === 'b-1' && a.author === 'rad'));
  r = await as('rad2', `${base()}/annotations/b-1`, { method: 'PUT', body: length({ label: 'mine now' }) });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.error.code, 'not_author');
  r = await as('rad2', `${base()}/annotations/b-1`, { method: 'DELETE' });
  assert.equal(r.status, 403);
  // physicians: no writes; their reads go through the study check (no final report here: refused)
  r = await as('doc', `${base()}/annotations/c-1`, { method: 'PUT', body: length() });
  assert.equal(r.status, 403);
  r = await as('doc', `${base()}/annotations`);
  assert.equal(r.status, 403);
  // technicians: nothing
  r = await as('tech', `${base()}/annotations`);
  assert.equal(r.status, 403);
  r = await as('tech', `${base()}/key-images/${sop}`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 403);
  r = await as('rad', `${base()}/annotations`);
  assert.equal(r.json.data.find((a) => a.annotationUid === 'b-1').label, 'lesion');
});

test('bad bodies are refused with the member named, and nothing is stored', async () => {
  const cases = [
    ['not json', '{"frame": ', /JSON/i],
    ['missing series', (() => { const b = length(); delete b.seriesInstanceUid; return b; })(), /seriesInstanceUid/],
    ['frame 0', length({ frame: 0 }), /frame/],
    ['frame text', length({ frame: '1' }), /frame/],
    ['unknown tool', length({ tool: 'Scalpel' }), /tool/],
    ['label too long', length({ label: 'x'.repeat(257) }), /label/],
    ['data not an object', length({ data: [1, 2] }), /data/],
    ['data too large', length({ data: { points: 'x'.repeat(70000) } }), /data|large|body/i],
    ['uid in body differs', length({ annotationUid: 'other' }), /annotationUid/],
    ['bad SOP uid', length({ sopInstanceUid: '1.2.<script>' }), /sopInstanceUid/],
  ];
  for (const [what, body, re] of cases) {
    const r = await as('rad', `${base()}/annotations/bad-1`, { method: 'PUT', body });
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`);
    assert.match(r.json?.error?.message ?? r.text, re, what);
  }
  let r = await as('rad', `${base()}/annotations/bad uid!`, { method: 'PUT', body: length() });
  assert.equal(r.status, 400);
  r = await as('rad', `${base()}/annotations/${'u'.repeat(65)}`, { method: 'PUT', body: length() });
  assert.equal(r.status, 400);
  r = await as('rad', `${base()}/annotations`);
  assert.ok(!r.json.data.some((a) => a.annotationUid === 'bad-1'));
  // an unknown study: 404 for every route
  r = await as('rad', '/api/dicom/studies/1.2.3.4.5.6.7/annotations');
  assert.equal(r.status, 404);
  r = await as('rad', '/api/dicom/studies/1.2.3.4.5.6.7/annotations/x-1', { method: 'PUT', body: length() });
  assert.equal(r.status, 404);
  r = await as('rad', `/api/dicom/studies/1.2.3.4.5.6.7/key-images/${sop}`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 404);
});

test('key images: marked once, unmarked, 404 when not marked', async () => {
  let r = await as('rad', `${base()}/key-images/${sop}/frames/1`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 201, r.text);
  r = await as('rad2', `${base()}/key-images/${sop}/frames/1`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.author, 'rad'); // the first mark is kept
  r = await as('rad', `${base()}/key-images/${sop}/frames/0`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 400);
  r = await as('rad', `${base()}/annotations`);
  assert.deepEqual(r.json.keyImages.map((k) => [k.sopInstanceUid, k.frame, k.seriesInstanceUid]), [[sop, 1, series]]);
  r = await as('rad2', `${base()}/key-images/${sop}/frames/1`, { method: 'DELETE' });
  assert.equal(r.status, 204);
  r = await as('rad2', `${base()}/key-images/${sop}/frames/1`, { method: 'DELETE' });
  assert.equal(r.status, 404);
  r = await as('rad', `${base()}/key-images/${sop}`, { method: 'PUT', body: { seriesInstanceUid: series } });
  assert.equal(r.status, 201); // frame 1 when not given
});

test('annotations and key images survive a restart of Orthanc; writes are audited', async () => {
  let r = await as('rad', `${base()}/annotations/keep-1`, { method: 'PUT', body: length({ tool: 'EllipticalROI', label: 'ROI' }) });
  assert.equal(r.status, 201, r.text);
  await orthanc.restart();
  const l = await orthanc.login('rad', PASSWORD);
  tokens.rad = l.token;
  r = await as('rad', `${base()}/annotations`);
  assert.equal(r.status, 200);
  const kept = r.json.data.find((a) => a.annotationUid === 'keep-1');
  assert.equal(kept.tool, 'EllipticalROI');
  assert.deepEqual(kept.data, length().data);
  assert.ok(r.json.keyImages.some((k) => k.sopInstanceUid === sop));
  const audit = await orthanc.json(`/api/audit?resource=${uid}&limit=200`);
  const actions = new Set(audit.data.map((e) => e.action));
  for (const a of ['annotation.create', 'annotation.update', 'annotation.delete', 'keyimage.mark', 'keyimage.unmark'])
    assert.ok(actions.has(a), `${a} audited: ${[...actions].join(', ')}`);
  assert.ok(!JSON.stringify(audit.data).includes('lesion'), 'labels are not written to the audit trail');
});
