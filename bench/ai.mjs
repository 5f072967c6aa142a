// AI analysis overhead: from POST /api/ai/analyze to the stored result of an
// 8-image CT analysis, excluding the model's own latency. A minimal provider
// in this file answers every generateContent call at once with a canned,
// valid Gemini answer (the wire format itself is checked by the integration
// tests' stand-in, whose PNG checks would dominate the timing here).
// Baseline in the same run: rendering the same 8 frames through the PNG route
// one after the other (what the pipeline cannot avoid).
import http from 'node:http';
import path from 'node:path';
import { startOrthanc, uploadFile, dicomFilesOf, testData, waitIngestIdle } from '../Tests/lib/orthanc.mjs';
import { get, percentile, median } from './lib.mjs';

const RUNS = Number(process.env.AI_RUNS || 30);
const answer = JSON.stringify({
  candidates: [{
    content: { role: 'model', parts: [{ text: JSON.stringify({
      summary: 'No acute abnormality.', findings: [{ category: 'incidental', description: 'Small cyst.', location: 'left kidney',
        confidence: 'medium', severity: 'mild' }], recommendations: [], ai_confidence: 'high',
    }) }] },
    finishReason: 'STOP', index: 0,
  }],
  usageMetadata: { promptTokenCount: 2200, candidatesTokenCount: 60, totalTokenCount: 2260 },
  modelVersion: 'bench-instant',
});
let providerMs = 0;
const server = http.createServer((req, res) => {
  const t = process.hrtime.bigint();
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(answer);
    providerMs += Number(process.hrtime.bigint() - t) / 1e6;
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const orthanc = await startOrthanc({
  readingRoom: { AI: { Provider: 'gemini', BaseUrl: base, ApiKey: 'bench', AllowCloud: true, Concurrency: 1 } },
});
const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));
for (const f of files) await uploadFile(orthanc, f);
await waitIngestIdle(orthanc);
const study = (await orthanc.json('/api/dicom/studies?modality=CT')).data[0];
const headers = { ...orthanc.authHeaders(), 'content-type': 'application/json' };

function post(p) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: orthanc.httpPort, path: p, method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end('{"force":true}');
  });
}

async function once() {
  const t = process.hrtime.bigint();
  const r = await post(`/api/ai/analyze/${study.studyInstanceUid}`);
  if (r.status !== 202) throw new Error(`analyze: ${r.status} ${r.body}`);
  const id = JSON.parse(r.body).id;
  for (;;) {
    const a = JSON.parse((await get(orthanc.httpPort, `/api/ai/analysis/${id}`, orthanc.authHeaders())).body);
    if (a.status !== 'queued' && a.status !== 'running') {
      if (a.status !== 'completed') throw new Error(`analysis ${a.status}: ${a.error}`);
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, images: a.images };
    }
    await new Promise((res) => setTimeout(res, 2));
  }
}

for (let i = 0; i < 3; i++) await once(); // warm-up
const times = [];
let images = [];
providerMs = 0;
for (let i = 0; i < RUNS; i++) {
  const r = await once();
  times.push(r.ms);
  images = r.images;
}
const provider = providerMs / RUNS;

// baseline: the same frames through the PNG route, sequentially
const ids = {};
for (const s of (await orthanc.json(`/api/dicom/studies/${study.studyInstanceUid}`)).series) {
  for (const inst of s.instances) ids[inst.sopInstanceUid] = inst.orthancId;
}
const render = [];
for (let i = 0; i < RUNS; i++) {
  const t = process.hrtime.bigint();
  for (const img of images) {
    const r = await get(orthanc.httpPort, `/api/dicom/instances/${ids[img.sopInstanceUid]}/frames/${img.frame}/png`, orthanc.authHeaders());
    if (r.status !== 200) throw new Error(`png: ${r.status}`);
  }
  render.push(Number(process.hrtime.bigint() - t) / 1e6);
}
await orthanc.stop();
server.close();

times.sort((a, b) => a - b);
render.sort((a, b) => a - b);
console.log(`ai: ${images.length}-image analysis of a ${files.length}-slice CT, instant provider, ${RUNS} runs, sequential`);
console.log(`  POST -> stored result         median ${median(times).toFixed(1).padStart(7)} ms  p95 ${percentile(times, 95).toFixed(1).padStart(7)} ms (goal: < 150 ms)`);
console.log(`  of which the provider         mean   ${provider.toFixed(1).padStart(7)} ms (request received -> answer sent)`);
console.log(`  baseline: ${images.length} PNGs via the route  median ${median(render).toFixed(1).padStart(7)} ms  p95 ${percentile(render, 95).toFixed(1).padStart(7)} ms`);
console.log(`  analysis / rendering alone    ${(median(times) / median(render)).toFixed(2)}x`);
