// Structured reports end to end: a real Orthanc with the plugin, a real CT
// uploaded, the AI stand-in of ai.test.mjs for an analysis to review and
// insert. Covers the whole lifecycle (draft -> preliminary -> final ->
// addendum -> correction), every refused transition (409), If-Match (412
// precondition_required when missing, version_mismatch when stale), the signature's password (403 wrong_password, audited,
// counted toward the lock-out), block fields (422 incomplete with their ids),
// inserts (a reviewed AI finding, an unreviewed one 409 not_reviewed, the
// study's measurements and key images only), the PDF kept at signing (its
// SHA-256 = the version's pdfSha256; pdftotext shows the patient and the
// addendum), FHIR, the physicians' view (final reports and versions only;
// the study's images only once a report is final), the critical result and
// its acknowledgement, entered-in-error and cancel, macros per user, the
// worklist's report columns and filters, and the turnaround figures.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, dicomFilesOf, testData, waitFor, waitIngestIdle, worklistAll, httpRequest } from '../lib/orthanc.mjs';
import { startAiProvider } from '../lib/ai-provider.mjs';

const KEY = 'test-ai-key';
const PASSWORD = 'Report-Signer-Password-2026';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-reports-'));

let provider;
let orthanc;
let ctUid;
let crUid;
let ctStudy; // GET /api/dicom/studies/{ctUid} as the radiologist saw it
let rad; // { username, headers }
let rad2;
let phys;
let reportId;

function dump(file, tag) {
  const out = execFileSync('dcmdump', ['+P', tag, file], { encoding: 'latin1' });
  const m = /\[([^\]]*)\]/.exec(out);
  return m ? m[1] : '';
}

async function user(role, displayName) {
  const username = `${role}-${crypto.randomBytes(3).toString('hex')}`;
  await orthanc.createUser({ username, password: PASSWORD, role, displayName });
  const l = await orthanc.login(username, PASSWORD);
  assert.equal(l.status, 200, l.text);
  return { username, headers: { Authorization: `Bearer ${l.token}` } };
}

const api = (who, p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(who ? who.headers : {}), ...(opts.headers || {}) } });
const etagOf = (r) => r.headers.etag;
const latest = (report) => report.versions[report.versions.length - 1];

async function getReport(who = rad) {
  const r = await api(who, `/api/reports/${reportId}`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.etag, r.json.etag, 'the ETag header is the report etag');
  return r.json;
}

async function draft(body, who = rad, etag) {
  const ifMatch = etag ?? (await getReport(who)).etag;
  return api(who, `/api/reports/${reportId}/draft`, { method: 'PUT', body, headers: { 'If-Match': ifMatch } });
}

async function sign(body, who = rad, etag) {
  const ifMatch = etag ?? (await getReport(who)).etag;
  return api(who, `/api/reports/${reportId}/sign`, { method: 'POST', body, headers: { 'If-Match': ifMatch } });
}

/** The audit records of an action; waits (the trail is written asynchronously) until `want` holds. */
async function audit(action, want = (rows) => rows.length > 0) {
  let rows = [];
  await waitFor(async () => {
    const r = await orthanc.api(`/api/audit?action=${encodeURIComponent(action)}&limit=50`);
    assert.equal(r.status, 200, r.text);
    rows = r.json.data;
    return want(rows);
  }, 10000, 100, `audit records of ${action}`);
  return rows;
}

async function pdfOf(who, version) {
  const r = await orthanc.api(`/api/reports/${reportId}/pdf${version ? `?version=${version}` : ''}`, { headers: who.headers });
  return r;
}

function pdftotext(buf) {
  const f = path.join(tmp, `r-${crypto.randomBytes(4).toString('hex')}.pdf`);
  fs.writeFileSync(f, buf);
  return execFileSync('pdftotext', ['-enc', 'UTF-8', f, '-'], { encoding: 'utf8' });
}

/** The worklist rows (GET /api/dicom/studies) the caller sees with `query`. */
async function worklist(who, query = '') {
  const r = await api(who, `/api/dicom/studies?limit=500${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

/** The raw bytes of a PDF answer (orthanc.api decodes bodies as text). */
async function pdfBytes(who, version) {
  const r = await httpRequest(`${orthanc.baseUrl}/api/reports/${reportId}/pdf?version=${version}`, {
    headers: { ...who.headers, 'X-Requested-With': 'XMLHttpRequest' },
  });
  return r;
}

before(async () => {
  const files = await dicomFilesOf(path.join(testData, 'ct_chest_lung_30'));
  const crFiles = await dicomFilesOf(path.join(testData, 'cr_chest_mono1'));
  provider = await startAiProvider({ apiKey: KEY });
  orthanc = await startOrthanc({
    readingRoom: {
      AI: { Provider: 'gemini', BaseUrl: provider.url, ApiKey: KEY, AllowCloud: true },
      Auth: { Lockout: { MaxFailures: 3, MaxFailuresPerAddress: 10000 } },
    },
  });
  for (const f of [...files, ...crFiles]) assert.equal((await uploadFile(orthanc, f)).status, 200);
  ctUid = dump(files[0], '0020,000d');
  crUid = dump(crFiles[0], '0020,000d');
  await waitIngestIdle(orthanc);
  rad = await user('radiologist', 'Jane Signer');
  rad2 = await user('radiologist', 'Other Reader');
  phys = await user('physician', 'John Referrer');
});

after(async () => {
  await orthanc?.stop();
  await provider?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('create: 201 with the template defaults; a second report of the study is 409 naming the open one', async () => {
  const opened = await api(rad, `/api/dicom/studies/${ctUid}`);
  assert.equal(opened.status, 200);
  ctStudy = opened.json;
  const r = await api(rad, '/api/reports', { method: 'POST', body: { studyInstanceUid: ctUid, templateId: 'ct-chest' } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.reportId, /^[0-9]+$/);
  reportId = r.json.reportId;
  assert.equal(r.json.state, 'draft');
  assert.equal(r.json.studyInstanceUid, ctUid);
  assert.equal(r.json.template.id, 'ct-chest');
  assert.equal(r.json.createdBy, rad.username);
  assert.equal(r.json.critical, false);
  assert.deepEqual(r.json.outputs, []);
  const v = latest(r.json);
  assert.equal(v.status, 'draft');
  assert.equal(v.kind, 'original');
  assert.equal(v.fields.nodules, 'None', 'template defaults');
  assert.match(v.fields.lungs, /lungs are clear/);
  assert.equal(v.pdf, null);
  assert.equal(r.headers.etag, r.json.etag);
  const again = await api(rad2, '/api/reports', { method: 'POST', body: { studyInstanceUid: ctUid } });
  assert.equal(again.status, 409, again.text);
  assert.equal(again.json.error.code, 'already_exists');
  assert.ok(again.json.error.message.includes(reportId), 'the open report is named');
  // unknown study, unknown template, bad body
  assert.equal((await api(rad, '/api/reports', { method: 'POST', body: { studyInstanceUid: '1.2.3.4.5' } })).status, 404);
  assert.equal((await api(rad, '/api/reports', { method: 'POST', body: { studyInstanceUid: crUid, templateId: 'nope' } })).status, 400);
  assert.equal((await api(rad, '/api/reports', { method: 'POST', body: { study: ctUid } })).status, 400);
  // physicians write nothing
  assert.equal((await api(phys, '/api/reports', { method: 'POST', body: { studyInstanceUid: crUid } })).status, 403);
  // the worklist: the report's state and id, and the filters
  const row = (await worklist(rad)).find((x) => x.studyInstanceUid === ctUid);
  assert.equal(row.reportStatus, 'draft');
  assert.equal(row.reportId, reportId);
  assert.equal(row.reportCritical, false);
  assert.equal((await worklist(rad)).find((x) => x.studyInstanceUid === crUid).reportStatus, null);
  const uids = async (who, f) => (await worklist(who, `&report=${f}`)).map((x) => x.studyInstanceUid);
  assert.ok((await uids(rad, 'mine')).includes(ctUid), 'my drafts');
  assert.ok(!(await uids(rad2, 'mine')).includes(ctUid), 'not the drafts of others');
  assert.ok((await uids(rad, 'unreported')).includes(ctUid), 'a draft is unreported');
  assert.ok((await uids(rad, 'unreported')).includes(crUid), 'no report: unreported');
  assert.ok(!(await uids(rad, 'final')).includes(ctUid));
  assert.equal((await api(rad, '/api/dicom/studies?report=bogus')).status, 400);
  await audit('report.create', (rows) => rows.some((a) => a.resource === `report ${reportId}` && a.username === rad.username));
});

test('draft: If-Match required (412 precondition_required), stale (412 version_mismatch), fields checked against the template (400)', async () => {
  const report = await getReport();
  const none = await api(rad, `/api/reports/${reportId}/draft`, { method: 'PUT', body: { fields: { indication: 'x' } } });
  assert.equal(none.status, 412, none.text); // 428 in RFC 6585; Orthanc 1.10.1 knows no 428
  assert.equal(none.json.error.code, 'precondition_required');
  const ok = await draft({ fields: { ...latest(report).fields, indication: 'Cough for three weeks.' } }, rad, report.etag);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(latest(ok.json).fields.indication, 'Cough for three weeks.');
  assert.equal(latest(ok.json).revision, latest(report).revision + 1);
  assert.notEqual(ok.json.etag, report.etag);
  const stale = await draft({ fields: { indication: 'lost' } }, rad, report.etag);
  assert.equal(stale.status, 412, stale.text);
  assert.equal(stale.json.error.code, 'version_mismatch');
  assert.equal(latest(await getReport()).fields.indication, 'Cough for three weeks.', 'nothing overwritten');
  const bad = await draft({ fields: { nodules: 'Purple' } });
  assert.equal(bad.status, 400, bad.text);
  const unknown = await draft({ fields: { no_such_field: 'x' } });
  assert.equal(unknown.status, 400, unknown.text);
  await audit('report.draft', (rows) => rows.some((a) => a.resource === `report ${reportId}`));
  for (const a of await audit('report.draft')) assert.ok(!a.detail.includes('Cough'), 'no field contents in the audit trail');
});

test('inserts: a reviewed AI finding, the study measurements and key images; unreviewed AI 409 not_reviewed', async () => {
  const an = await api(rad, `/api/ai/analyze/${ctUid}`, { method: 'POST', body: { force: true } });
  assert.ok(an.status === 202 || an.status === 200, an.text);
  const aid = an.json.id;
  await waitFor(async () => (await api(rad, `/api/ai/analysis/${aid}`)).json?.status === 'completed', 30000, 100, 'analysis');
  const unreviewed = await draft({ inserts: { aiFindings: [{ analysisId: aid, index: 0 }] } });
  assert.equal(unreviewed.status, 409, unreviewed.text);
  assert.equal(unreviewed.json.error.code, 'not_reviewed');
  const review = await api(rad, `/api/ai/analysis/${aid}/review`, {
    method: 'PUT',
    body: { reviewStatus: 'modified', findings: [{ index: 0, verdict: 'edited', text: 'Simple hepatic cyst, 8 mm.' }, { index: 1, verdict: 'rejected' }] },
  });
  assert.equal(review.status, 200, review.text);
  const rejected = await draft({ inserts: { aiFindings: [{ analysisId: aid, index: 1 }] } });
  assert.equal(rejected.status, 409, 'a finding the review rejected cannot be inserted');
  // a measurement and a key image of the study
  const series = ctStudy.series[0];
  const inst = series.instances[3];
  const put = await api(rad, `/api/dicom/studies/${ctUid}/annotations/m-report-1`, {
    method: 'PUT',
    body: {
      seriesInstanceUid: series.seriesInstanceUid, sopInstanceUid: inst.sopInstanceUid, frame: 1, tool: 'Length', label: 'Nodule RUL',
      data: { points: [[0, 0, 0], [12.3, 0, 0]], frameOfReferenceUID: '', viewPlaneNormal: null, viewUp: null, unitSource: 'mm',
        stats: { length: 12.3, unit: 'mm', areaUnit: 'mm²', valueUnit: '', unitSource: 'mm' } },
    },
  });
  assert.ok(put.status === 201 || put.status === 200, put.text);
  const badMeasurement = await draft({ inserts: { measurements: [{ annotationUid: 'not-there' }] } });
  assert.equal(badMeasurement.status, 400, badMeasurement.text);
  const badImage = await draft({ inserts: { keyImages: [{ sopInstanceUid: '1.2.3.999', frame: 1 }] } });
  assert.equal(badImage.status, 400, badImage.text);
  const ok = await draft({
    inserts: {
      aiFindings: [{ analysisId: aid, index: 0 }],
      measurements: [{ annotationUid: 'm-report-1' }],
      keyImages: [{ sopInstanceUid: inst.sopInstanceUid, frame: 1 }],
    },
  });
  assert.equal(ok.status, 200, ok.text);
  const ins = latest(ok.json).inserts;
  assert.equal(ins.aiFindings.length, 1);
  assert.equal(ins.measurements[0].annotationUid, 'm-report-1');
  assert.equal(ins.keyImages[0].sopInstanceUid, inst.sopInstanceUid);
});

test('sign: wrong password 403 (audited, counted), empty block field 422 with its id', async () => {
  const wrong = await sign({ password: 'not-the-password', status: 'preliminary' });
  assert.equal(wrong.status, 403, wrong.text);
  assert.equal(wrong.json.error.code, 'wrong_password');
  const refused = await audit('report.sign.refused', (rows) => rows.some((a) => a.username === rad.username && a.resource === `report ${reportId}` && a.outcome === 'denied'));
  assert.ok(refused.every((a) => !a.detail.includes('not-the-password')));
  // failures count toward the account's lock-out like failed logins (Auth.Lockout.MaxFailures: 3 here)
  const rad3 = await user('radiologist', 'Locked Out');
  for (let i = 0; i < 3; i++) {
    const w = await sign({ password: `wrong-${i}-password`, status: 'preliminary' }, rad3);
    assert.ok(w.status === 403, w.text);
  }
  const locked = await orthanc.login(rad3.username, PASSWORD);
  assert.equal(locked.status, 403, 'the account is locked after three wrong signatures');
  await audit('account.lock', (rows) => rows.some((a) => a.resource === rad3.username));
  const noIfMatch = await api(rad, `/api/reports/${reportId}/sign`, { method: 'POST', body: { password: PASSWORD, status: 'final' } });
  assert.equal(noIfMatch.status, 412);
  assert.equal(noIfMatch.json.error.code, 'precondition_required');
  const incomplete = await sign({ password: PASSWORD, status: 'preliminary' });
  assert.equal(incomplete.status, 422, incomplete.text);
  assert.equal(incomplete.json.error.code, 'incomplete');
  assert.deepEqual(incomplete.json.error.fields, ['impression']);
  assert.match(incomplete.json.error.message, /Impression/);
  assert.equal((await getReport()).state, 'draft', 'nothing signed');
});

test('preliminary: signed with its PDF; physicians see neither the report nor the images', async () => {
  const filled = await draft({ fields: { ...latest(await getReport()).fields, impression: 'Simple hepatic cyst. No acute finding.' } });
  assert.equal(filled.status, 200, filled.text);
  const r = await sign({ password: PASSWORD, status: 'preliminary' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'preliminary');
  const v = latest(r.json);
  assert.equal(v.status, 'preliminary');
  assert.equal(v.signedBy, rad.username);
  assert.equal(v.signedByName, 'Jane Signer');
  assert.match(v.pdfSha256, /^[0-9a-f]{64}$/);
  assert.equal(v.pdf, `/api/reports/${reportId}/pdf?version=${v.version}`);
  const pdf = await pdfBytes(rad, v.version);
  assert.equal(pdf.status, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.equal(crypto.createHash('sha256').update(pdf.body).digest('hex'), v.pdfSha256, 'the bytes kept at signing');
  assert.equal(pdf.headers.etag, `"${v.pdfSha256}"`);
  assert.match(pdf.headers['content-disposition'], new RegExp(`report-${reportId}-v${v.version}\\.pdf`));
  const text = pdftotext(pdf.body);
  assert.match(text, /PRELIMINARY/i);
  assert.match(text, /Lung_Dx-A0002/);
  assert.match(text, /Simple hepatic cyst, 8 mm/, 'the reviewed (edited) AI finding');
  assert.match(text, /AI analysis/);
  assert.match(text, /Nodule RUL/, 'the inserted measurement');
  // the key image, rendered at signing, is in the PDF
  const f = path.join(tmp, 'prelim.pdf');
  fs.writeFileSync(f, pdf.body);
  const images = execFileSync('pdfimages', ['-list', f], { encoding: 'utf8' }).trim().split('\n').slice(2);
  assert.ok(images.length >= 1, `key image in the PDF: ${images.length}`);
  // physicians: nothing yet
  const list = await api(phys, `/api/dicom/studies/${ctUid}/reports`);
  assert.equal(list.status, 403, 'no final report: the study is not theirs to see');
  assert.equal((await api(phys, `/api/reports/${reportId}`)).status, 404);
  assert.equal((await pdfBytes(phys, v.version)).status, 404);
  const file = await api(phys, `/instances/${ctStudy.series[0].instances[0].orthancId}/file`);
  assert.equal(file.status, 403, 'no images before a final report');
  const wlPhys = (await worklist(phys)).find((x) => x.studyInstanceUid === ctUid);
  assert.equal(wlPhys.reportStatus, null, 'a preliminary report is not shown to physicians');
  assert.equal((await worklist(rad)).find((x) => x.studyInstanceUid === ctUid).reportStatus, 'preliminary');
  assert.ok((await worklist(rad, '&report=preliminary')).some((x) => x.studyInstanceUid === ctUid));
  const mine = await api(phys, '/api/reports?state=preliminary,draft');
  assert.equal(mine.status, 200);
  assert.equal(mine.json.data.length, 0);
  // without a `state` argument every state is listed (the list once parsed an unwritten buffer as states: 400s)
  for (let i = 0; i < 5; i++) {
    const all = await api(rad, `/api/reports?limit=${10 + i}`);
    assert.equal(all.status, 200, all.text);
    assert.ok(all.json.data.some((x) => x.reportId === reportId && x.state === 'preliminary'), all.text);
  }
});

test('critical result: finalizing needs the communication (422), then physicians see it until they acknowledge', async () => {
  const flagged = await draft({ critical: true });
  assert.equal(flagged.status, 200, flagged.text);
  assert.equal(flagged.json.critical, true);
  const noComm = await sign({ password: PASSWORD, status: 'final' });
  assert.equal(noComm.status, 422, noComm.text);
  assert.equal(noComm.json.error.code, 'incomplete');
  const r = await sign({ password: PASSWORD, status: 'final', communication: { recipient: 'Dr John Referrer', method: 'phone', communicatedAt: '2026-12-04T10:15:00Z' } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'final');
  assert.equal(r.json.criticalCommunication.recipient, 'Dr John Referrer');
  assert.equal(r.json.criticalCommunication.method, 'phone');
  assert.equal(r.json.criticalCommunication.communicatedAt, '2026-12-04T10:15:00Z');
  assert.equal(r.json.criticalCommunication.recordedBy, rad.username);
  assert.equal(r.json.prevailingVersion, latest(r.json).version);
  // the final version goes back into the study: PDF, SR and (key images) KOS, through the composer's loader
  const finalVersion = r.json.prevailingVersion;
  let outputs = [];
  await waitFor(async () => {
    outputs = (await getReport()).outputs.filter((o) => o.version === finalVersion);
    return outputs.length === 3 && outputs.every((o) => o.state === 'done' || o.state === 'failed');
  }, 60000, 250, 'the archive outputs of the final version');
  assert.deepEqual(outputs.map((o) => o.kind).sort(), ['kos', 'pdf', 'sr']);
  for (const o of outputs) assert.equal(o.state, 'done', `${o.kind}: ${o.lastError}`);
  const pdfObject = outputs.find((o) => o.kind === 'pdf');
  const archived = await httpRequest(`${orthanc.baseUrl}/instances/${pdfObject.orthancId}/pdf`, { headers: orthanc.authHeaders() });
  assert.equal(archived.status, 200);
  assert.equal(crypto.createHash('sha256').update(archived.body).digest('hex'), latest(r.json).pdfSha256,
    'the archived Encapsulated PDF holds the bytes kept at signing');
  // the physician now sees the report, its final version only, and the images
  const seen = await api(phys, `/api/reports/${reportId}`);
  assert.equal(seen.status, 200, seen.text);
  assert.ok(seen.json.versions.every((v) => v.status === 'final'), 'no preliminary version for a physician');
  assert.equal(seen.json.versions.length, 1);
  const study = await api(phys, `/api/dicom/studies/${ctUid}/reports`);
  assert.equal(study.status, 200, study.text);
  assert.equal(study.json.data.length, 1);
  const file = await api(phys, `/instances/${ctStudy.series[0].instances[0].orthancId}/file`);
  assert.equal(file.status, 200, 'the images of a study with a final report');
  const prelim = r.json.versions.find((v) => v.status === 'preliminary');
  assert.equal((await pdfBytes(phys, prelim.version)).status, 404, 'a preliminary PDF is not for physicians');
  const finalPdf = await pdfBytes(phys, r.json.prevailingVersion);
  assert.equal(finalPdf.status, 200);
  const list = await api(phys, '/api/reports');
  assert.equal(list.status, 200, list.text);
  const row = list.json.data.find((x) => x.reportId === reportId);
  assert.ok(row && row.critical && !row.acknowledged, 'critical, not acknowledged yet');
  assert.equal(list.json.data[0].reportId, reportId, 'critical and unacknowledged first');
  const uids = async (who, f) => (await worklist(who, `&report=${f}`)).map((x) => x.studyInstanceUid);
  assert.ok((await uids(rad, 'critical')).includes(ctUid), 'critical, acknowledged by no one');
  assert.ok((await uids(rad, 'final')).includes(ctUid));
  assert.ok(!(await uids(rad, 'unreported')).includes(ctUid));
  // another reader acknowledges first: no longer critical for the radiologists, still for the physician
  const ack2 = await api(rad2, `/api/reports/${reportId}/acknowledge`, { method: 'POST', body: {} });
  assert.equal(ack2.status, 200, ack2.text);
  assert.ok(!(await uids(rad, 'critical')).includes(ctUid), 'acknowledged by someone');
  const wl = (await worklist(phys)).find((x) => x.studyInstanceUid === ctUid);
  assert.equal(wl.reportStatus, 'final');
  assert.equal(wl.reportCritical, true, 'not acknowledged by this physician yet');
  assert.ok((await uids(phys, 'critical')).includes(ctUid));
  const ack = await api(phys, `/api/reports/${reportId}/acknowledge`, { method: 'POST', body: {} });
  assert.equal(ack.status, 200, ack.text);
  assert.ok(ack.json.acknowledgements.some((a) => a.username === phys.username));
  assert.equal((await worklist(phys)).find((x) => x.studyInstanceUid === ctUid).reportCritical, false, 'acknowledged by this physician');
  assert.ok(!(await uids(phys, 'critical')).includes(ctUid));
  const after = await api(phys, '/api/reports');
  assert.equal(after.json.data.find((x) => x.reportId === reportId).acknowledged, true);
  for (const action of ['report.read', 'report.pdf', 'report.acknowledge', 'report.sign']) await audit(action);
});

test('refused transitions: a final report is not signed, drafted or cancelled again (409)', async () => {
  const again = await sign({ password: PASSWORD, status: 'final' });
  assert.equal(again.status, 409, again.text);
  const d = await draft({ fields: { impression: 'changed' } });
  assert.equal(d.status, 409, d.text);
  const c = await api(rad, `/api/reports/${reportId}/cancel`, { method: 'POST', body: { reason: 'no' } });
  assert.equal(c.status, 409, c.text);
  assert.equal((await getReport()).state, 'final');
});

test('addendum and correction: new signed versions; the PDF shows the addendum; FHIR follows', async () => {
  const noText = await api(rad, `/api/reports/${reportId}/addenda`, { method: 'POST', body: { password: PASSWORD, text: '' } });
  assert.equal(noText.status, 400);
  const wrong = await api(rad, `/api/reports/${reportId}/addenda`, { method: 'POST', body: { password: 'nope-nope', text: 'Addendum text' } });
  assert.equal(wrong.status, 403);
  const a = await api(rad2, `/api/reports/${reportId}/addenda`, {
    method: 'POST', body: { password: PASSWORD, text: 'Addendum: the cyst was stable on the 2019 ultrasound.' },
  });
  assert.equal(a.status, 201, a.text);
  assert.equal(a.json.state, 'appended');
  const av = latest(a.json);
  assert.equal(av.kind, 'addendum');
  assert.equal(av.status, 'final');
  assert.equal(av.signedBy, rad2.username);
  const pdf = await pdfBytes(rad, av.version);
  assert.equal(pdf.status, 200);
  assert.equal(crypto.createHash('sha256').update(pdf.body).digest('hex'), av.pdfSha256);
  const text = pdftotext(pdf.body);
  assert.match(text, /stable on the 2019 ultrasound/);
  assert.match(text, /Lung_Dx-A0002/);
  assert.doesNotMatch(text, /PRELIMINARY/);
  const fields = { ...latest(a.json).fields, impression: 'Simple hepatic cyst (corrected). No acute finding.' };
  const noReason = await api(rad, `/api/reports/${reportId}/corrections`, { method: 'POST', body: { password: PASSWORD, fields } });
  assert.equal(noReason.status, 400);
  const c = await api(rad, `/api/reports/${reportId}/corrections`, {
    method: 'POST', body: { password: PASSWORD, fields, reason: 'Impression wording.' },
  });
  assert.equal(c.status, 201, c.text);
  assert.equal(c.json.state, 'corrected');
  assert.equal(latest(c.json).kind, 'correction');
  assert.equal(latest(c.json).text, 'Impression wording.');
  assert.equal(c.json.prevailingVersion, latest(c.json).version);
  const f = await api(rad, `/api/reports/${reportId}/fhir`);
  assert.equal(f.status, 200, f.text);
  assert.match(f.headers['content-type'], /application\/fhir\+json/);
  const fhir = JSON.parse(f.text);
  assert.equal(fhir.resourceType, 'DiagnosticReport');
  assert.equal(fhir.status, 'corrected');
  assert.ok(JSON.stringify(fhir.code).includes('18748-4'));
  assert.ok(JSON.stringify(fhir.imagingStudy).includes(ctUid));
  assert.match(fhir.conclusion, /corrected/);
  assert.equal(fhir.presentedForm[0].contentType, 'application/pdf');
  for (const action of ['report.fhir', 'report.addendum', 'report.correction']) await audit(action);
});

test('entered-in-error: administrators only, with a reason; nothing is done on such a report afterwards', async () => {
  const byRad = await api(rad, `/api/reports/${reportId}/entered-in-error`, { method: 'POST', body: { reason: 'wrong patient' } });
  assert.equal(byRad.status, 403);
  const noReason = await orthanc.api(`/api/reports/${reportId}/entered-in-error`, { method: 'POST', body: {} });
  assert.equal(noReason.status, 400);
  const ok = await orthanc.api(`/api/reports/${reportId}/entered-in-error`, { method: 'POST', body: { reason: 'Wrong patient.' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.state, 'entered-in-error');
  assert.equal(ok.json.stateReason, 'Wrong patient.');
  const add = await api(rad, `/api/reports/${reportId}/addenda`, { method: 'POST', body: { password: PASSWORD, text: 'x' } });
  assert.equal(add.status, 409, add.text);
  assert.equal((await api(phys, `/api/reports/${reportId}`)).status, 404, 'no longer a final report for physicians');
});

test('cancel: a draft report is cancelled with a reason; it cannot be signed afterwards', async () => {
  const r = await api(rad, '/api/reports', { method: 'POST', body: { studyInstanceUid: crUid } });
  assert.equal(r.status, 201, r.text);
  assert.ok(r.json.template.id.length > 0, 'a template chosen for the study');
  const id = r.json.reportId;
  const noReason = await api(rad, `/api/reports/${id}/cancel`, { method: 'POST', body: {} });
  assert.equal(noReason.status, 400);
  const c = await api(rad, `/api/reports/${id}/cancel`, { method: 'POST', body: { reason: 'Requested by mistake.' } });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.state, 'cancelled');
  const s = await api(rad, `/api/reports/${id}/sign`, { method: 'POST', body: { password: PASSWORD, status: 'final' }, headers: { 'If-Match': c.json.etag } });
  assert.equal(s.status, 409, s.text);
  await audit('report.cancel');
});

test('macros: each user has their own', async () => {
  const put = await api(rad, '/api/reports/macros/normal%20chest', { method: 'PUT', body: { text: 'No acute cardiopulmonary abnormality.' } });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.data[0].name, 'normal chest');
  assert.equal((await api(rad2, '/api/reports/macros')).json.data.length, 0, 'not shared');
  assert.equal((await api(rad, '/api/reports/macros')).json.data[0].text, 'No acute cardiopulmonary abnormality.');
  assert.equal((await api(rad, '/api/reports/macros/x', { method: 'PUT', body: { text: '' } })).status, 400);
  assert.equal((await api(phys, '/api/reports/macros')).status, 403);
  assert.equal((await api(rad2, '/api/reports/macros/normal%20chest', { method: 'DELETE' })).status, 404);
  const del = await api(rad, '/api/reports/macros/normal%20chest', { method: 'DELETE' });
  assert.equal(del.status, 200, del.text);
  assert.equal(del.json.data.length, 0);
  await audit('macro.put');
});

test('turnaround: received, opened, preliminary and final per modality (median and p90 in seconds)', async () => {
  const r = await orthanc.api('/api/admin/reports/turnaround?days=30');
  assert.equal(r.status, 200, r.text);
  const ct = r.json.data.find((x) => x.modality === 'CT');
  assert.ok(ct, r.text);
  assert.ok(ct.studies >= 1);
  for (const k of ['receivedToOpened', 'openedToPreliminary', 'openedToFinal', 'receivedToFinal']) {
    assert.equal(typeof ct[k].median, 'number', k);
    assert.ok(ct[k].median >= 0 && ct[k].p90 >= ct[k].median, k);
  }
  assert.equal((await api(rad, '/api/admin/reports/turnaround')).status, 403);
  assert.equal((await orthanc.api('/api/admin/reports/turnaround?days=0')).status, 400);
});
