// Rendered frames: the plugin's PNG route against the original design's
// Python rendering (bench/png_reference.py: pydicom + numpy + Pillow), same
// files, same window, same output size, in one run.
//
// Ours: GET /api/dicom/instances/{id}/frames/0/png on a real Orthanc with the
// plugin (keep-alive, sequential, warm-up first), so every figure includes
// Orthanc's HTTP server and the access filter: conservative. The reference
// runs in-process (no HTTP), while that Orthanc is idle. Both PNGs are
// decoded and compared pixel by pixel, so the work is the same. Downscaled,
// they differ at sharp edges: Pillow's BOX filter weighs whole source
// pixels, the plugin exact area coverage; so the reference also computes
// the exact area average of its windowed image (outside the timing), which
// ours must match.
//
// Environment: ITERATIONS_CT (default 200), ITERATIONS_MG (default 20),
// WARMUP (default 3), PYTHON (default /usr/bin/python3, Debian's, which has
// python3-pydicom, -numpy, -pil, -gdcm).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOrthanc, uploadFile, testData, waitIngestIdle } from '../Tests/lib/orthanc.mjs';
import { decodePng } from '../Tests/lib/png.mjs';
import { percentile } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const IT_CT = Number(process.env.ITERATIONS_CT || 200);
const IT_MG = Number(process.env.ITERATIONS_MG || 20);
const WARMUP = Number(process.env.WARMUP || 3);

const CT = 'ct_abdomen_pancreas_134/1-067.dcm';
const MG = 'mg_mammo/GH133.dcm';
// The mammogram's first window (2653/900, VOILUTFunction SIGMOID) is given
// explicitly: pydicom would prefer the file's VOI LUT Sequence, the plugin
// the window; with the window named both do the same thing.
const CASES = [
  { label: 'CT 512x512, window 40/400, full size', file: CT, window: '40,400', size: 2048, n: IT_CT },
  { label: 'MG 3062x2394, window 2653/900, max side 1024', file: MG, window: '2653,900', size: 1024, n: IT_MG },
  { label: 'MG 3062x2394, window 2653/900, max side 2048', file: MG, window: '2653,900', size: 2048, n: IT_MG },
];

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function getBinary(port, p, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), timing: res.headers['server-timing'] }));
    });
    req.on('error', reject);
  });
}

function python(args) {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [path.join(here, 'png_reference.py'), ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`png_reference.py failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

function maxDiff(a, b) {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    return `sizes differ: ${a.width}x${a.height}x${a.channels} vs ${b.width}x${b.height}x${b.channels}`;
  }
  let m = 0;
  let sum = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    const d = Math.abs(a.pixels[i] - b.pixels[i]);
    sum += d;
    if (d > m) m = d;
  }
  return `max ${m}, mean ${(sum / a.pixels.length).toFixed(3)}`;
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-bench-png-'));
const orthanc = await startOrthanc();
const ids = {};
for (const f of [CT, MG]) {
  const r = await uploadFile(orthanc, path.join(testData, f));
  if (r.status !== 200) throw new Error(`upload ${f}: ${r.status} ${r.text}`);
  ids[f] = r.json.ID;
}
await waitIngestIdle(orthanc);
const headers = orthanc.authHeaders();

/** n sequential GETs of route after WARMUP: {p50, p95, last response}. */
async function timeRoute(route, n) {
  let last = null;
  for (let i = 0; i < WARMUP; i++) last = await getBinary(orthanc.httpPort, route, headers);
  if (last.status !== 200) throw new Error(`${route}: HTTP ${last.status} ${last.body.toString().slice(0, 300)}`);
  const times = [];
  const inside = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    last = await getBinary(orthanc.httpPort, route, headers);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (last.status !== 200) throw new Error(`${route}: HTTP ${last.status}`);
    const m = /render;dur=([0-9.]+)/.exec(last.timing || '');
    if (m) inside.push(Number(m[1]));
  }
  times.sort((a, b) => a - b);
  inside.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), in50: percentile(inside, 50), in95: percentile(inside, 95), last };
}

const results = [];
for (const c of CASES) {
  const base = `/api/dicom/instances/${ids[c.file]}/frames/0/png?window=${c.window}`;
  const full = await timeRoute(`${base}&size=${c.size}`, c.n);
  // the same work but a 64-pixel PNG: what is left when encoding costs nothing
  const tiny = await timeRoute(`${base}&size=64`, c.n);
  const out = path.join(tmp, `py-${results.length}.png`);
  const exact = path.join(tmp, `exact-${results.length}.png`);
  const py = await python([path.join(testData, c.file), '--window', c.window, '--max-side', String(c.size),
    '--iterations', String(c.n), '--warmup', String(WARMUP), '--out', out, '--out-exact', exact]);
  const ours = decodePng(full.last.body);
  results.push({
    ...c, py, ours: { ...full, bytes: full.last.body.length, w: ours.width, h: ours.height }, tiny,
    diff: maxDiff(ours, decodePng(fs.readFileSync(out))), diffExact: maxDiff(ours, decodePng(fs.readFileSync(exact))),
  });
}
await orthanc.stop();
fs.rmSync(tmp, { recursive: true, force: true });

const v = results[0].py.versions;
console.log(`png: one frame to PNG, sequential, ${WARMUP} warm-up renders, ms per image`);
console.log(`  ours: GET /api/dicom/instances/{id}/frames/0/png over HTTP, keep-alive, Bearer token; in-process time from its Server-Timing header`);
console.log(`  python: the original design in-process (pydicom ${v.pydicom}, numpy ${v.numpy}, Pillow ${v.Pillow}, gdcm ${v.gdcm}): read, pixel_array, modality LUT, window, uint8, box resize, PNG, base64`);
for (const r of results) {
  const ratio = r.py.p50 / r.ours.p50;
  console.log(`  ${r.label} (${r.n} runs each, output ${r.ours.w}x${r.ours.h})`);
  console.log(`    ours     p50 ${r.ours.p50.toFixed(1).padStart(7)} ms  p95 ${r.ours.p95.toFixed(1).padStart(7)} ms  png ${(r.ours.bytes / 1024).toFixed(0)} KiB`);
  const steps = Object.entries(r.py.steps).map(([k, t]) => `${k} ${t.toFixed(1)}`).join(', ');
  console.log(`    python   p50 ${r.py.p50.toFixed(1).padStart(7)} ms  p95 ${r.py.p95.toFixed(1).padStart(7)} ms  png ${(r.py.png_bytes / 1024).toFixed(0)} KiB  (${steps})`);
  console.log(`    ours in-process p50 ${r.ours.in50.toFixed(1).padStart(7)} ms  p95 ${r.ours.in95.toFixed(1).padStart(7)} ms  (the plugin's own time, Server-Timing: read, parse, decode, render, encode)`);
  console.log(`    ours with size=64 p50 ${r.tiny.p50.toFixed(1).padStart(7)} ms  (same route, 64-pixel PNG: the cost without PNG encoding)`);
  console.log(`    python/ours ${(r.py.p50 / r.ours.in50).toFixed(1)}x in-process, both sides (goal >= 5x); ${ratio.toFixed(1)}x with our HTTP round trip included`);
  console.log(`    grey levels, ours vs python: ${r.diff}; ours vs python's windowed image with exact area averaging: ${r.diffExact}`);
}
const met = results.every((r) => r.py.p50 / r.ours.in50 >= 5);
const metHttp = results.every((r) => r.py.p50 / r.ours.p50 >= 5);
console.log(`goal: >= 5x faster per image than the Python rendering: ${met ? 'met' : 'NOT met'} in-process (python p50 / ours p50), ${metHttp ? 'met' : 'not met'} with HTTP included`);
