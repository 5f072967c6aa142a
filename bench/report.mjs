// Report benchmark (issue 12): from signing to the report's objects in the archive.
// One Orthanc with the plugin, the 134-slice CT, four key images marked through the API, a CT report
// whose fields fill about three pages. Measured over HTTP, sequentially, after a warm-up:
//   sign:     POST /api/reports/{id}/sign (final) and then each POST …/addenda: the request itself
//             (composition, key images rendered, the PDF rendered with Cairo/Pango, stored with its SHA-256);
//   archive:  from the answer of that request to every output of the new version being "done" in
//             GET /api/reports/{id} (Encapsulated PDF, TID 2000 SR, Key Object Selection created in the
//             study through Orthanc by the plugin's output worker), polled every 5 ms;
//   baseline: the bench itself POSTs the same PDF to Orthanc's /tools/create-dicom as an Encapsulated PDF
//             (what Orthanc alone takes for one of the three objects), same run.
// Nothing passes or fails: the figures and the goal (in the archive within 2 s of signing) are printed.
// Env: READING_ROOM_PLUGIN, READING_ROOM_TEST_DATA, REPORT_RUNS (default 10).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dicomFilesOf, httpRequest, startOrthanc, testData, uploadFile, waitIngestIdle, ADMIN_PASSWORD } from '../Tests/lib/orthanc.mjs';
import { median, percentile } from './lib.mjs';

const RUNS = Number(process.env.REPORT_RUNS || 10);
const PARAGRAPH =
  'No focal consolidation, pleural effusion or pneumothorax. The central airways are patent. ' +
  'Mediastinal and hilar lymph nodes are not enlarged by size criteria. The heart is normal in size; ' +
  'no pericardial effusion. Visualised upper abdominal organs are unremarkable for a non-dedicated study. ';

const orthanc = await startOrthanc({ readingRoom: {} });
const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));
for (const f of files) await uploadFile(orthanc, f);
await waitIngestIdle(orthanc);
const study = (await orthanc.json('/api/dicom/studies?modality=CT')).data[0];
const uid = study.studyInstanceUid;
const detail = await orthanc.json(`/api/dicom/studies/${uid}`);
const instances = detail.series.flatMap((s) => s.instances.map((i) => ({ ...i, seriesInstanceUid: s.seriesInstanceUid })));

async function call(p, method, body, headers = {}) {
  const r = await orthanc.api(p, { method, body, headers: { 'Content-Type': 'application/json', ...headers } });
  if (r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}
const json = (r) => JSON.parse(r.text);

// four key images spread over the series
for (let k = 0; k < 4; k++) {
  const inst = instances[Math.floor(((k + 1) * instances.length) / 5)];
  await call(`/api/dicom/studies/${uid}/key-images/${inst.sopInstanceUid}/frames/1`, 'PUT', { seriesInstanceUid: inst.seriesInstanceUid });
}
const keyImages = json(await call(`/api/dicom/studies/${uid}/annotations`, 'GET')).keyImages;

// a report whose every text field holds a few paragraphs (about three pages)
let report = json(await call('/api/reports', 'POST', { studyInstanceUid: uid, templateId: 'ct-chest' }));
const fields = {};
for (const section of report.template.sections) {
  for (const f of section.fields) {
    if (f.type === 'longtext') fields[f.id] = `${PARAGRAPH}${PARAGRAPH}`;
    else if (f.type === 'text') fields[f.id] = 'Routine';
    else if (f.type === 'choice' && f.options?.length) fields[f.id] = f.options[0];
  }
}
const inserts = { keyImages: keyImages.map((k) => ({ sopInstanceUid: k.sopInstanceUid, frame: k.frame })) };
report = json(await call(`/api/reports/${report.reportId}/draft`, 'PUT', { fields, inserts }, { 'If-Match': report.etag }));
const id = report.reportId;

async function archived(version, since) {
  for (;;) {
    const r = json(await call(`/api/reports/${id}`, 'GET'));
    const outs = r.outputs.filter((o) => o.version === version);
    const failed = outs.find((o) => o.state === 'failed');
    if (failed) throw new Error(`output ${failed.kind} of version ${version} failed: ${failed.lastError}`);
    if (outs.length >= 2 && outs.every((o) => o.state === 'done')) return { ms: performance.now() - since, kinds: outs.map((o) => o.kind) };
    await new Promise((res) => setTimeout(res, 5));
  }
}

const sign = [];
const archive = [];
let kinds = [];
// the first final signature, then addenda: each is a new signed version with its own outputs
for (let i = 0; i < RUNS + 1; i++) {
  const t = performance.now();
  const r = i === 0
    ? await call(`/api/reports/${id}/sign`, 'POST', { password: ADMIN_PASSWORD, status: 'final' }, { 'If-Match': report.etag })
    : await call(`/api/reports/${id}/addenda`, 'POST', { password: ADMIN_PASSWORD, text: `Addendum ${i}: ${PARAGRAPH}` });
  const answered = performance.now();
  const version = json(r).prevailingVersion;
  const a = await archived(version, answered);
  if (i === 0) continue; // warm-up (first use of fonts, first create-dicom)
  sign.push(answered - t);
  archive.push(a.ms);
  kinds = a.kinds;
}

// the PDF of the last version: its pages, and the baseline (Orthanc alone creating one Encapsulated PDF)
const pdf = (await httpRequest(`${orthanc.baseUrl}/api/reports/${id}/pdf`, { headers: orthanc.authHeaders() })).body;
const tmp = path.join(os.tmpdir(), `rr-bench-report-${process.pid}.pdf`);
fs.writeFileSync(tmp, pdf);
let pages = '?';
try {
  pages = /Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [tmp], { encoding: 'utf8' }))?.[1] ?? '?';
} catch { /* poppler-utils missing */ }
fs.rmSync(tmp, { force: true });
const orthancStudy = (await orthanc.json(`/api/dicom/studies/${uid}`)).orthancId;
const base = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await call('/tools/create-dicom', 'POST', {
    Parent: orthancStudy,
    Tags: { Modality: 'DOC', SeriesDescription: 'bench baseline', SOPClassUID: '1.2.840.10008.5.1.4.1.1.104.1' },
    Content: `data:application/pdf;base64,${Buffer.from(pdf).toString('base64')}`,
  });
  base.push(performance.now() - t);
}
await orthanc.stop();

const fmt = (v) => v.toFixed(1).padStart(7);
for (const l of [sign, archive, base]) l.sort((a, b) => a - b);
console.log(`report: CT report of ${pages} pages with ${keyImages.length} key images, ${RUNS} signed versions (final + addenda), sequential`);
console.log(`  sign request (compose, PDF, store)   median ${fmt(median(sign))} ms  p95 ${fmt(percentile(sign, 95))} ms`);
console.log(`  answer -> ${kinds.join(' + ')} done   median ${fmt(median(archive))} ms  p95 ${fmt(percentile(archive, 95))} ms (goal: in the archive within 2000 ms of signing: ${percentile(archive, 95) + percentile(sign, 95) < 2000 ? 'met' : 'not met'})`);
console.log(`  baseline: one create-dicom (PDF)     median ${fmt(median(base))} ms  p95 ${fmt(percentile(base, 95))} ms`);
console.log(`  archive / one create-dicom           ${(median(archive) / median(base)).toFixed(2)}x`);
