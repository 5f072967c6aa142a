// The viewer's transcoding route under repetition: every compressed syntax of ts_ct_matrix transcoded
// 25 times through GET /api/dicom/instances/{id}/transcoded, one after the other, then 7 at once.
// Before the transcoder ran on a large stack of the plugin's own (util/big_stack.h), Orthanc died
// (SIGSEGV in libgdcmMSFF on a civetweb worker's stack) after 0 to 14 requests of JPEG-LS, JPEG 2000
// or 12-bit JPEG instances: the viewer's fallback took the whole PACS down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, testData, httpRequest, repoRoot } from '../lib/orthanc.mjs';

const ROUNDS = 25;
let orthanc;
let tmp;
const compressed = []; // [transfer syntax, Orthanc id]

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-transcode-'));
  // the 16 files share their UIDs: new ones per file
  execFileSync('/usr/bin/python3', [path.join(repoRoot, 'Tests/lib/ts-matrix-uids.py'), path.join(testData, 'ts_ct_matrix'), tmp]);
  orthanc = await startOrthanc({});
  for (const f of fs.readdirSync(tmp)) {
    const r = await uploadFile(orthanc, path.join(tmp, f));
    assert.equal(r.status, 200, `POST /instances ${f}`);
  }
  for (const id of (await orthanc.json('/instances'))) {
    const ts = (await orthanc.api(`/instances/${id}/metadata/TransferSyntax`)).text;
    if (/^1\.2\.840\.10008\.1\.2\.4\./.test(ts)) compressed.push([ts, id]);
  }
});

after(async () => {
  await orthanc?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function transcoded(id) {
  const r = await httpRequest(`${orthanc.baseUrl}/api/dicom/instances/${id}/transcoded`, { headers: orthanc.authHeaders() });
  assert.equal(r.status, 200, r.body.toString('utf8', 0, 300));
  assert.equal(r.body.toString('latin1', 128, 132), 'DICM');
  return r.body.length;
}

test(`every compressed syntax transcoded ${ROUNDS} times in a row, then all at once: Orthanc stays up`, async () => {
  assert.ok(compressed.length >= 10, `compressed syntaxes found: ${compressed.map(([ts]) => ts).join(' ')}`);
  for (const [ts, id] of compressed) {
    for (let i = 0; i < ROUNDS; i++) {
      try {
        await transcoded(id);
      } catch (e) {
        assert.fail(`${ts}, request ${i + 1}: ${e.message}`);
      }
    }
  }
  for (let i = 0; i < 3; i++) await Promise.all(compressed.map(([, id]) => transcoded(id)));
  const health = await orthanc.api('/api/health');
  assert.equal(health.status, 200);
});
