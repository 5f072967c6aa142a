// Rendered frames (PNG) against an independent reference: DCMTK's dcm2pnm
// with the same window must give the same grey levels within ±1, lossless
// transfer syntaxes of one image must give identical PNGs, and bad requests
// get clear errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, testData, waitIngestIdle, httpRequest } from '../lib/orthanc.mjs';
import { decodePng } from '../lib/png.mjs';

let orthanc;
const ids = {};
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-render-'));
const FILES = {
  ct: 'ts_ct_matrix/CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm',
  ctImplicit: 'ts_ct_matrix/CTImage.dcm_LittleEndianImplicitTransferSyntax_1.2.840.10008.1.2.dcm',
  ctRle: 'ts_ct_matrix/CTImage.dcm_RLELosslessTransferSyntax_1.2.840.10008.1.2.5.dcm',
  ctJpegLs: 'ts_ct_matrix/CTImage.dcm_JPEGLSLosslessTransferSyntax_1.2.840.10008.1.2.4.80.dcm',
  cr: 'cr_chest_mono1/gdcm-CR-MONO1-10-chest.dcm',
  signed: 'bitdepth_signed/SignedCT.dcm',
};

before(async () => {
  orthanc = await startOrthanc();
  for (const [k, f] of Object.entries(FILES)) {
    const r = await uploadFile(orthanc, path.join(testData, f));
    assert.equal(r.status, 200, `${f}: ${r.text}`);
    ids[k] = r.json.ID;
  }
  await waitIngestIdle(orthanc);
});
after(async () => { await orthanc?.stop(); fs.rmSync(tmp, { recursive: true, force: true }); });

async function pngBytes(p) {
  return httpRequest(`${orthanc.baseUrl}${p}`, { headers: orthanc.authHeaders() });
}

function dcm2pnm(file, center, width) {
  const out = path.join(tmp, `${path.basename(file)}-${center}-${width}.png`);
  execFileSync('dcm2pnm', ['--write-png', '--nointerlace', '+Ww', String(center), String(width), path.join(testData, file), out]);
  return decodePng(fs.readFileSync(out));
}

function maxDiff(a, b) {
  assert.equal(a.width, b.width);
  assert.equal(a.height, b.height);
  assert.equal(a.channels, b.channels);
  let m = 0;
  for (let i = 0; i < a.pixels.length; i++) m = Math.max(m, Math.abs(a.pixels[i] - b.pixels[i]));
  return m;
}

for (const [name, center, width] of [['ct', 40, 400], ['ct', -600, 1500], ['cr', 512, 1024], ['signed', 40, 400]]) {
  test(`${name} with window ${center}/${width} matches dcm2pnm within one grey level`, async () => {
    const r = await pngBytes(`/api/dicom/instances/${ids[name]}/frames/0/png?window=${center},${width}&size=2048`);
    assert.equal(r.status, 200, r.body.toString().slice(0, 200));
    const ours = decodePng(r.body);
    const ref = dcm2pnm(FILES[name], center, width);
    const d = maxDiff(ours, ref);
    assert.ok(d <= 1, `max difference ${d} grey levels`);
  });
}

test('lossless transfer syntaxes of one image give identical PNGs', async () => {
  const pngs = [];
  for (const k of ['ct', 'ctImplicit', 'ctRle', 'ctJpegLs']) {
    const r = await pngBytes(`/api/dicom/instances/${ids[k]}/frames/0/png?preset=lung`);
    assert.equal(r.status, 200, `${k}: ${r.body.toString().slice(0, 200)}`);
    pngs.push(r.body);
  }
  for (let i = 1; i < pngs.length; i++) assert.ok(pngs[i].equals(pngs[0]), `syntax ${i} differs`);
});

test('size bounds the longest side; the study route gives the n-th image', async () => {
  const small = decodePng((await pngBytes(`/api/dicom/instances/${ids.ct}/frames/0/png?size=128`)).body);
  assert.equal(Math.max(small.width, small.height), 128);
  const def = decodePng((await pngBytes(`/api/dicom/instances/${ids.cr}/frames/0/png`)).body);
  assert.ok(Math.max(def.width, def.height) <= 1024);
  const study = (await orthanc.json('/api/dicom/studies?limit=100')).data.find((s) => s.instanceCount === 1 && s.modalities.includes('CR'));
  const r = await pngBytes(`/api/dicom/studies/${study.studyInstanceUid}/frames/0?size=256`);
  assert.equal(r.status, 200);
  assert.equal((await pngBytes(`/api/dicom/studies/${study.studyInstanceUid}/frames/1`)).status, 404);
});

test('bad requests get clear errors', async () => {
  for (const [p, status] of [
    [`/api/dicom/instances/${ids.ct}/frames/0/png?window=abc`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?window=40,0`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?preset=liver`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?size=5000`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/0/png?bogus=1`, 400],
    [`/api/dicom/instances/${ids.ct}/frames/7/png`, 404],
    ['/api/dicom/instances/ffffffff-ffffffff-ffffffff-ffffffff-ffffffff/frames/0/png', 404],
  ]) {
    const r = await orthanc.api(p);
    assert.equal(r.status, status, `${p}: ${r.status} ${r.text.slice(0, 200)}`);
  }
  assert.equal((await orthanc.api('/system')).status, 200);
});
