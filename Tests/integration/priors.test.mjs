// GET /api/dicom/studies/{uid}/priors against a real Orthanc with the plugin (issue 10, priors): studies made for
// the test (lib/priors-data.mjs: one patient with three studies, another patient), stored over C-STORE. The same
// Patient ID's other studies, newest first, with modalities, body parts and counts; never another patient's;
// 404 for an unknown study, 400 for a malformed UID, 405 for another method; the role matrix (radiologist yes,
// technician no, physician only through the study check: no final report yet, so refused) and the audit trail.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startOrthanc, storescu, waitFor } from '../lib/orthanc.mjs';
import { makePriorsData, CT_DESCRIPTION } from '../lib/priors-data.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';

describe('priors API', { timeout: 180_000 }, () => {
  let orthanc;
  let data;
  const tokens = {};
  const as = (role, p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(opts.headers || {}), Authorization: `Bearer ${tokens[role]}` } });
  const priorsOf = (uid) => `/api/dicom/studies/${encodeURIComponent(uid)}/priors`;

  before(async () => {
    orthanc = await startOrthanc();
    data = await makePriorsData();
    const all = [...data.files.current, ...data.files.prior, ...data.files.newest, ...data.files.other];
    await storescu(orthanc, all);
    await waitFor(async () => {
      const l = await orthanc.json('/api/dicom/studies?limit=10');
      return l.total === 4 && l.data.reduce((n, s) => n + s.instanceCount, 0) === all.length;
    }, 60_000, 200, 'the four studies ingested');
    for (const [role, name] of [['radiologist', 'rad'], ['technician', 'tech'], ['physician', 'doc']]) {
      await orthanc.createUser({ username: name, password: PASSWORD, role, displayName: `Test ${role}` });
      const l = await orthanc.login(name, PASSWORD);
      assert.equal(l.status, 200, `login ${name}: ${l.text}`);
      tokens[role] = l.token;
    }
  });
  after(async () => { await orthanc?.stop(); });

  it('lists the same patient\'s other studies, newest first, never another patient\'s', async () => {
    const r = await as('radiologist', priorsOf(data.uid.current));
    assert.equal(r.status, 200, r.text);
    const list = r.json.data;
    assert.deepEqual(list.map((p) => p.studyInstanceUid), [data.uid.newest, data.uid.prior], 'newest first, without the study itself');
    const [newest, prior] = list;
    assert.deepEqual(Object.keys(prior).sort(), ['bodyParts', 'instanceCount', 'modalities', 'reportCritical', 'reportId',
      'reportStatus', 'seriesCount', 'studyDate', 'studyDescription', 'studyInstanceUid', 'studyTime']);
    assert.equal(prior.reportId, null);
    assert.equal(prior.reportCritical, false);
    assert.equal(prior.studyDate, '20230101');
    assert.equal(prior.studyTime, '100000');
    assert.equal(prior.studyDescription, 'CT Thorax prior');
    assert.deepEqual([...prior.modalities].sort(), ['CT', 'MR']);
    assert.deepEqual(prior.bodyParts, ['BRAIN', 'CHEST'], 'distinct body parts in series order');
    assert.equal(prior.seriesCount, 3);
    assert.equal(prior.instanceCount, data.files.prior.length);
    assert.equal(prior.reportStatus, null);
    assert.equal(newest.studyDate, '20250101');
    assert.deepEqual(newest.modalities, ['MR']);
    assert.deepEqual(newest.bodyParts, ['HEAD']);
    // from the prior, the current and the newest are its priors
    const back = await as('radiologist', priorsOf(data.uid.prior));
    assert.deepEqual(back.json.data.map((p) => p.studyInstanceUid), [data.uid.newest, data.uid.current]);
    // the other patient has none, and never sees this patient's studies
    const other = await as('radiologist', priorsOf(data.uid.other));
    assert.equal(other.status, 200);
    assert.deepEqual(other.json.data, []);
    // the administrator too (the test client's own credentials)
    const admin = await orthanc.json(priorsOf(data.uid.current));
    assert.equal(admin.data.length, 2);
    assert.ok(!JSON.stringify(admin).includes(data.uid.other));
    assert.ok(CT_DESCRIPTION);
  });

  it('answers 404 for an unknown study, 400 for a malformed UID, 405 for another method', async () => {
    const unknown = await as('radiologist', priorsOf('1.2.3.4.5.6.7.8.9'));
    assert.equal(unknown.status, 404, unknown.text);
    assert.equal(unknown.json.error.code, 'not_found');
    const bad = await as('radiologist', `/api/dicom/studies/${encodeURIComponent('1.2;drop')}/priors`);
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.code, 'invalid_argument');
    const post = await orthanc.api(priorsOf(data.uid.current), { method: 'POST', body: '{}' });
    assert.ok(post.status === 405 || post.status === 403, `POST refused (${post.status})`);
  });

  it('follows the role matrix: technician refused, physician only through the study check (none allowed yet)', async () => {
    assert.equal((await as('technician', priorsOf(data.uid.current))).status, 403);
    assert.equal((await as('physician', priorsOf(data.uid.current))).status, 403, 'no final report: the study check refuses');
    assert.equal((await orthanc.api(priorsOf(data.uid.current), { auth: false })).status, 403, 'anonymous');
  });

  it('is audited as an access to the study (study.access)', async () => {
    const audit = await waitFor(async () => {
      const r = await orthanc.json(`/api/audit?resource=${encodeURIComponent(data.uid.current)}&limit=100`);
      const rows = (r.data ?? []).filter((a) => a.username === 'rad' && a.action === 'study.access');
      return rows.length > 0 ? rows : false;
    }, 10_000, 200, 'an audit record of the priors read');
    assert.ok(audit.every((a) => !JSON.stringify(a).includes('PRIORS^TEST')), 'no patient name in the audit trail');
  });
});
