// Report templates (report/template.c, api/templates_api.c) against a real Orthanc with the plugin: the
// built-ins, the template suggested for a real CT chest and MR brain, administrators' add / edit / retire /
// restore / reset to the shipped version with revisions (412 on a stale one), refusals (bad JSON 400, non-admin writes 403, physicians read
// nothing), a retired template still readable by id, a restart, and the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOrthanc, uploadFile, dicomFilesOf, waitIngestIdle } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
let orthanc;
const tokens = {};
const studies = {};

const as = (who, p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(opts.headers || {}), Authorization: `Bearer ${tokens[who]}` } });
const T = '/api/reports/templates';

const thyroid = (extra = {}) => ({
  id: 'us-thyroid',
  title: 'US Thyroid',
  match: { modalities: ['US'], keywords: ['thyroid'] },
  sections: [
    { id: 'comparison', title: 'Comparison', code: '18834-2', meaning: 'Radiology Comparison study (narrative)',
      fields: [{ id: 'comparison', label: 'Comparison', type: 'longtext' }] },
    { id: 'findings', title: 'Findings', code: '59776-5', meaning: 'Procedure Findings',
      fields: [
        { id: 'right_lobe', label: 'Right lobe volume', type: 'number', unit: 'mL', min: 0, max: 200 },
        { id: 'tirads', label: 'TI-RADS', type: 'choice', options: ['TR1', 'TR2', 'TR3', 'TR4', 'TR5'], required: 'warn' },
      ] },
    { id: 'impression', title: 'Impression', code: '19005-8', meaning: 'Impressions',
      fields: [{ id: 'impression', label: 'Impression', type: 'longtext', required: 'block' }] },
  ],
  ...extra,
});

before(async () => {
  orthanc = await startOrthanc();
  for (const [role, name] of [['radiologist', 'rad'], ['physician', 'doc'], ['technician', 'tech'], ['admin', 'boss']]) {
    await orthanc.createUser({ username: name, password: PASSWORD, role, displayName: `Test ${name}` });
    const l = await orthanc.login(name, PASSWORD);
    assert.equal(l.status, 200, `login ${name}: ${l.text}`);
    tokens[name] = l.token;
  }
  for (const folder of ['ct_chest_lung_30', 'mr_brain_t1post_24']) {
    const [file] = await dicomFilesOf(folder);
    const up = await uploadFile(orthanc, file);
    assert.equal(up.status, 200);
    const tags = await orthanc.json(`/instances/${up.json.ID}/simplified-tags`);
    studies[folder] = tags.StudyInstanceUID;
  }
  await waitIngestIdle(orthanc);
});
after(async () => { await orthanc?.stop(); });

test('the six built-ins are listed for radiologists, with the RadReport outline', async () => {
  const r = await as('rad', T);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.suggested, null);
  const ids = r.json.data.map((t) => t.id).sort();
  assert.deepEqual(ids, ['chest-xray', 'ct-abdomen-pelvis', 'ct-chest', 'ct-head', 'generic', 'mr-brain']);
  for (const t of r.json.data) {
    assert.equal(t.builtin, true);
    assert.equal(t.retired, false);
    assert.equal(t.revision, 1);
    assert.deepEqual(t.sections.map((s) => s.code), ['55752-0', '55111-9', '18834-2', '59776-5', '19005-8', '18783-1']);
    const fields = t.sections.flatMap((s) => s.fields);
    assert.equal(fields.find((f) => f.id === 'comparison')?.type, 'longtext', `${t.id} has a comparison field`);
    assert.equal(fields.find((f) => f.id === 'impression')?.required, 'block');
  }
  const chest = await as('rad', `${T}/ct-chest`);
  assert.equal(chest.status, 200);
  assert.equal(chest.headers.etag, '"1"');
  assert.equal(chest.json.title, 'CT Chest');
  assert.equal(chest.json.sections[1].fields.find((f) => f.id === 'ctdi_vol').unit, 'mGy');
  assert.equal((await as('rad', `${T}/nope`)).status, 404);
  assert.equal((await as('rad', `${T}/..%2Fetc`)).status, 404);
});

test('the suggested template follows the study: a real CT chest and an MR brain', async () => {
  let r = await as('rad', `${T}?studyInstanceUid=${studies.ct_chest_lung_30}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.suggested, 'ct-chest');
  r = await as('rad', `${T}?studyInstanceUid=${studies.mr_brain_t1post_24}`);
  assert.equal(r.json.suggested, 'mr-brain');
  r = await as('rad', `${T}?studyInstanceUid=1.2.3.4.5.6.7.8.9`);
  assert.equal(r.status, 404, r.text);
  r = await as('rad', `${T}?studyInstanceUid=bad'uid`);
  assert.equal(r.status, 400);
  r = await as('rad', `${T}?all=maybe`);
  assert.equal(r.status, 400);
});

test('administrators add, edit (If-Match, 412 when stale), retire and restore; a retired template stays readable', async () => {
  let r = await orthanc.api(T, { method: 'POST', body: thyroid() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.revision, 1);
  assert.equal(r.json.builtin, false);
  assert.equal(r.json.updatedBy, 'admin');
  assert.match(r.json.updatedAt, /^\d{4}-\d\d-\d\dT/);
  r = await orthanc.api(T, { method: 'POST', body: thyroid() });
  assert.equal(r.status, 409, r.text);
  assert.equal(r.json.error.code, 'already_exists');

  // edit: the revision named in If-Match must be the current one
  const edited = thyroid({ title: 'US Thyroid and neck' });
  r = await orthanc.api(`${T}/us-thyroid`, { method: 'PUT', body: edited });
  assert.equal(r.status, 400, r.text);
  assert.match(r.json.error.message, /If-Match/);
  r = await orthanc.api(`${T}/us-thyroid`, { method: 'PUT', body: edited, headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revision, 2);
  assert.equal(r.headers.etag, '"2"');
  assert.equal(r.json.title, 'US Thyroid and neck');
  r = await orthanc.api(`${T}/us-thyroid`, { method: 'PUT', body: thyroid({ title: 'lost' }), headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 412, r.text);
  assert.equal(r.json.error.code, 'version_mismatch');
  r = await orthanc.api(`${T}/us-thyroid`, { method: 'PUT', body: thyroid({ id: 'other' }), headers: { 'If-Match': '"2"' } });
  assert.equal(r.status, 400, r.text);

  // a built-in: the administrator's version overrides it
  const chest = (await orthanc.api(`${T}/ct-chest`)).json;
  chest.sections[3].fields[0].label = 'Lungs, airways and pleura';
  r = await orthanc.api(`${T}/ct-chest`, { method: 'PUT', body: chest, headers: { 'If-Match': '"1"' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revision, 2);
  assert.equal(r.json.builtin, true);
  assert.equal(r.json.modified, true);
  assert.equal((await as('rad', `${T}/ct-chest`)).json.sections[3].fields[0].label, 'Lungs, airways and pleura');

  // retire: gone from the list and from the suggestion, still readable by id; restore
  r = await orthanc.api(`${T}/ct-chest/retire`, { method: 'POST' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.retired, true);
  r = await as('rad', `${T}?studyInstanceUid=${studies.ct_chest_lung_30}`);
  assert.ok(!r.json.data.some((t) => t.id === 'ct-chest'));
  assert.equal(r.json.suggested, 'generic');
  r = await as('rad', `${T}?all=true`);
  assert.equal(r.json.data.find((t) => t.id === 'ct-chest').retired, true);
  r = await as('rad', `${T}/ct-chest`);
  assert.equal(r.status, 200);
  assert.equal(r.json.retired, true);
  assert.equal(r.json.sections[3].fields[0].label, 'Lungs, airways and pleura');
  r = await orthanc.api(`${T}/ct-chest/restore`, { method: 'POST' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.retired, false);
  assert.equal(r.json.revision, 4);
  r = await as('rad', `${T}?studyInstanceUid=${studies.ct_chest_lung_30}`);
  assert.equal(r.json.suggested, 'ct-chest');
  assert.equal((await orthanc.api(`${T}/nope/retire`, { method: 'POST' })).status, 404);
  r = await orthanc.api(`${T}/generic/retire`, { method: 'POST' });
  assert.equal(r.status, 409, r.text);
  assert.match(r.json.error.message, /cannot be retired/);

  // back to the shipped version of a built-in; a custom template has none
  r = await orthanc.api(`${T}/ct-chest/reset`, { method: 'POST' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revision, 5);
  assert.equal(r.json.modified, false);
  assert.equal(r.json.sections[3].fields[0].label, 'Lungs and airways');
  r = await orthanc.api(`${T}/us-thyroid/reset`, { method: 'POST' });
  assert.equal(r.status, 409, r.text);
});

test('bad templates are refused with the reason, and nothing is stored', async () => {
  const cases = [
    ['not JSON', '{"id": ', /JSON/],
    ['not an object', '[1]', /object/],
    ['bad id', thyroid({ id: 'a b' }), /id/],
    ['no sections', thyroid({ id: 'x1', sections: [] }), /sections/],
    ['unknown type', thyroid({ id: 'x2', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'blob' }] }] }), /type/],
    ['choice without options', thyroid({ id: 'x3', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'choice' }] }] }), /options/],
    ['default not an option', thyroid({ id: 'x4', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'choice', options: ['a'], default: 'b' }] }] }), /default/],
    ['min above max', thyroid({ id: 'x5', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'number', min: 3, max: 1 }] }] }), /min/],
    ['duplicate field', thyroid({ id: 'x6', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'text' }, { id: 'f', label: 'G', type: 'text' }] }] }), /twice/],
    ['bad required', thyroid({ id: 'x7', sections: [{ id: 's', title: 'S', fields: [{ id: 'f', label: 'F', type: 'text', required: 'yes' }] }] }), /required/],
  ];
  for (const [what, body, re] of cases) {
    const r = await orthanc.api(T, { method: 'POST', body });
    assert.equal(r.status, 400, `${what}: ${r.text}`);
    assert.equal(r.json.error.code, 'invalid_argument', what);
    assert.match(r.json.error.message, re, what);
  }
  const all = await orthanc.api(`${T}?all=true`);
  assert.ok(!all.json.data.some((t) => /^x\d$/.test(t.id)), 'nothing stored');
});

test('radiologists, physicians and technicians may not write; physicians and technicians read nothing', async () => {
  for (const who of ['rad', 'doc', 'tech']) {
    let r = await as(who, T, { method: 'POST', body: thyroid({ id: `by-${who}` }) });
    assert.equal(r.status, 403, `${who} POST`);
    r = await as(who, `${T}/generic`, { method: 'PUT', body: {}, headers: { 'If-Match': '"1"' } });
    assert.equal(r.status, 403, `${who} PUT`);
    r = await as(who, `${T}/generic/retire`, { method: 'POST' });
    assert.equal(r.status, 403, `${who} retire`);
  }
  assert.equal((await as('doc', T)).status, 403);
  assert.equal((await as('tech', `${T}/generic`)).status, 403);
  assert.equal((await as('boss', T)).status, 200);
  const me = await as('boss', '/api/auth/me');
  assert.ok(me.json.capabilities.includes('templates'));
  const radMe = await as('rad', '/api/auth/me');
  assert.ok(!radMe.json.capabilities.includes('templates'));
});

test('templates survive a restart; writes are audited', async () => {
  await orthanc.restart();
  const l = await orthanc.login('rad', PASSWORD);
  tokens.rad = l.token;
  let r = await as('rad', `${T}/us-thyroid`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.revision, 2);
  r = await as('rad', `${T}/ct-chest`);
  assert.equal(r.json.revision, 5);
  assert.equal(r.json.modified, false);
  assert.equal(r.json.updatedBy, 'admin');
  const audit = await orthanc.json('/api/audit?limit=500');
  const rows = audit.data.filter((e) => e.action.startsWith('template.'));
  for (const a of ['template.create', 'template.update', 'template.retire', 'template.restore', 'template.reset'])
    assert.ok(rows.some((e) => e.action === a), `${a} audited: ${rows.map((e) => e.action).join(', ')}`);
  assert.ok(rows.some((e) => e.action === 'template.update' && e.resource === 'ct-chest' && e.username === 'admin'));
});
