// Load: LOAD_USERS simulated users (default 50: radiologists and a few
// administrators), each logged in with a session of its own, working for
// LOAD_SECONDS (default 600) against one Orthanc with the plugin on loopback:
// worklist queries with varied filters, study pages (the study API, the
// series thumbnails as PNG renders, the viewer's raw instance files, one
// image rendered by Orthanc), AI panel and System page polling, and a few uploads by
// the administrators. Bounded (one request at a time per user, 50 at most in
// flight) and self-stopping (no new action after the deadline; every
// request has a timeout).
//
// Reports errors (any answer but the expected one, or no answer: must be
// none; the exit status is 1 otherwise), p50/p95/p99 per request kind,
// requests per second, and Orthanc's memory (VmRSS from /proc/<pid>/status
// every 10 s; flat when the mean of the last third of the samples is within
// LOAD_RSS_TOLERANCE of the first third's, warm-up excluded).
//
//   node bench/load.mjs            the full run (10 minutes)
//   node bench/load.mjs --short    30 s with 10 users, to try it
// Environment: LOAD_USERS, LOAD_ADMINS (of the users; default 5),
// LOAD_SECONDS, LOAD_WARMUP_SECONDS (default 60, 5 with --short),
// LOAD_THINK_MS (mean pause between a user's actions, exponential, at most
// five times the mean; default 2000),
// LOAD_STUDIES (synthetic worklist studies besides the real ones; default
// 10000), LOAD_UPLOADS (files the administrators upload; default 20),
// LOAD_RSS_TOLERANCE (default 0.10), RR_BENCH_FILL, READING_ROOM_PLUGIN.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { dicomFilesOf, repoRoot, startOrthanc, testData, uploadFile, waitIngestIdle } from '../Tests/lib/orthanc.mjs';
import { makeDicom, tempDir } from '../Tests/lib/dicom.mjs';
import { percentile, request } from './lib.mjs';

const short = process.argv.includes('--short');
const env = (name, dflt) => (process.env[name] !== undefined ? Number(process.env[name]) : dflt);
const USERS = env('LOAD_USERS', short ? 10 : 50);
const ADMINS = Math.min(USERS, env('LOAD_ADMINS', short ? 2 : 5));
const SECONDS = env('LOAD_SECONDS', short ? 30 : 600);
const WARMUP = env('LOAD_WARMUP_SECONDS', short ? 5 : 60);
const THINK_MS = env('LOAD_THINK_MS', 2000);
const STUDIES = env('LOAD_STUDIES', short ? 2000 : 10000);
const UPLOADS = env('LOAD_UPLOADS', short ? 4 : 20);
const TOLERANCE = env('LOAD_RSS_TOLERANCE', 0.10);
const TIMEOUT_MS = 30000;
const PASSWORD = 'Load-Test-Password-2026';
const REAL = ['ct_chest_lung_30', 'mr_brain_t1post_24', 'cr_chest_mono1', 'mg_mammo', 'us_multiframe', 'nm_multiframe'];
const fill = process.env.RR_BENCH_FILL || path.join(repoRoot, 'build', 'rr_bench_fill');

// ------------------------------------------------------------------ set-up
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-load-'));
const db = path.join(work, 'rr.db');
if (STUDIES > 0) execFileSync(fill, [db, String(STUDIES)], { stdio: 'ignore' });
const orthanc = await startOrthanc({
  readingRoom: { Store: { SQLite: { Path: db } }, Ingest: { ReconcileAtStartup: false } },
});
const port = orthanc.httpPort;
const admin = orthanc.authHeaders();

async function call(method, p, headers, body) {
  const r = await request(port, { method, path: p, headers, body, agent: false, timeoutMs: TIMEOUT_MS });
  if (r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
  return r.body.length ? JSON.parse(r.body.toString('utf8')) : null;
}

for (const d of REAL) {
  for (const file of await dicomFilesOf(path.join(testData, d))) {
    const r = await uploadFile(orthanc, file);
    if (r.status !== 200) throw new Error(`upload ${file}: HTTP ${r.status} ${r.text}`);
  }
}
await waitIngestIdle(orthanc, 120000);
const studies = [];
for (const id of await call('GET', '/studies', admin)) {
  const uid = (await call('GET', `/studies/${id}`, admin)).MainDicomTags.StudyInstanceUID;
  const s = await call('GET', `/api/dicom/studies/${encodeURIComponent(uid)}`, admin);
  const series = s.series.filter((x) => x.instances.length > 0).map((x) => ({
    uid: x.seriesInstanceUid, instances: x.instances.map((i) => ({ id: i.orthancId, sop: i.sopInstanceUid })),
  }));
  studies.push({ uid, series });
}

// uploads: one new study each (new UIDs), from a small radiograph
const uploadDir = await tempDir('rr-load-upload-');
const uploadSource = (await dicomFilesOf(path.join(testData, 'cr_chest_mono1')))[0];
const uploads = [];
for (let i = 0; i < UPLOADS; i++) {
  const f = path.join(uploadDir, `u${i}.dcm`);
  await makeDicom(uploadSource, f, { genStudy: true, genSeries: true, genInstance: true });
  uploads.push(fs.readFileSync(f));
}

// users: ADMINS administrators, the others radiologists, one session each
const users = [];
for (let i = 0; i < USERS; i++) {
  const role = i < ADMINS ? 'admin' : 'radiologist';
  const username = `load-${role}-${String(i).padStart(2, '0')}`;
  await orthanc.createUser({ username, password: PASSWORD, role, displayName: `Load ${i}` });
  const l = await orthanc.login(username, PASSWORD);
  if (l.status !== 200) throw new Error(`login ${username}: HTTP ${l.status} ${l.text}`);
  users.push({ role, headers: { Authorization: `Bearer ${l.token}` }, agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
}

// ------------------------------------------------------------ measurements
const stats = new Map(); // kind -> {times: [], errors: 0, samples: []}
let measuring = false;
function record(kind, ms, error) {
  if (!stats.has(kind)) stats.set(kind, { times: [], errors: 0, early: 0, samples: [] });
  const s = stats.get(kind);
  if (error) {
    s.errors++; // errors count during the warm-up too
    if (s.samples.length < 3) s.samples.push(error);
  } else if (measuring) s.times.push(ms);
  else s.early++;
}

async function hit(u, kind, p, { method = 'GET', body, headers = {}, expect = 200 } = {}) {
  const t = process.hrtime.bigint();
  try {
    const r = await request(port, { method, path: p, body, agent: u.agent, timeoutMs: TIMEOUT_MS, headers: { ...u.headers, ...headers } });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== expect) record(kind, ms, `${method} ${p}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 200)}`);
    else record(kind, ms, null);
    return r;
  } catch (e) {
    record(kind, 0, `${method} ${p}: ${e.message}`);
    return null;
  }
}

const rssSamples = []; // [seconds since the start, MiB]
function rssMiB() {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${orthanc.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

// -------------------------------------------------------------- the users
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const FAMILY = ['SMITH', 'MULLER', 'GARC', 'NGUYEN', 'IVANOV', 'YAMADA', 'OKAFOR', 'ROSSI', 'KIM', 'COHEN'];
const MODALITY = ['CT', 'MR', 'CR', 'DX', 'US', 'MG', 'PT', 'NM'];
const WORKLIST = [
  () => '/api/dicom/studies',
  () => `/api/dicom/studies?patientName=${pick(FAMILY).slice(0, 3 + Math.floor(Math.random() * 3)).toLowerCase()}`,
  () => `/api/dicom/studies?patientName=${pick(FAMILY)}*`,
  () => `/api/dicom/studies?modality=${pick(MODALITY)}&limit=${pick([25, 50, 100])}`,
  () => { const y = 2000 + Math.floor(Math.random() * 24); return `/api/dicom/studies?studyDateFrom=${y}0101&studyDateTo=${y + 1}1231&modality=${pick(MODALITY)}`; },
  () => `/api/dicom/studies?q=${encodeURIComponent(pick(['chest', 'kim taro', 'brain', 'mr knee', 'abdomen']))}`,
  () => `/api/dicom/studies?sort=patientName&order=${pick(['asc', 'desc'])}&offset=${50 * Math.floor(Math.random() * 100)}`,
  () => `/api/dicom/studies?sort=receivedAt&aiStatus=none&reviewStatus=${pick(['pending', 'confirmed'])}`,
];

async function studyPage(u) {
  const s = pick(studies);
  const uid = encodeURIComponent(s.uid);
  await hit(u, 'study', `/api/dicom/studies/${uid}`);
  await hit(u, 'ai-poll', `/api/ai/studies/${uid}/analyses`);
  for (const series of s.series.slice(0, 4)) { // thumbnails: the middle image of each series
    const mid = series.instances[Math.floor(series.instances.length / 2)];
    await hit(u, 'png', `/api/dicom/instances/${mid.id}/frames/0/png?size=64`);
  }
  const series = pick(s.series);
  const from = Math.floor(Math.random() * series.instances.length);
  for (const inst of series.instances.slice(from, from + 8)) await hit(u, 'file', `/instances/${inst.id}/file`);
  // Orthanc's own rendering (what Orthanc Explorer and WADO-URI clients get;
  // /wado itself needs the DICOMweb plugin, not installed here)
  await hit(u, 'rendered', `/instances/${series.instances[from].id}/frames/0/rendered`);
}

async function action(u) {
  const r = Math.random();
  if (u.role === 'admin') {
    if (r < 0.35) return hit(u, 'worklist', pick(WORKLIST)());
    if (r < 0.55) return studyPage(u);
    if (r < 0.75) return hit(u, 'ai-status', '/api/ai/status');
    if (r < 0.90) return hit(u, 'health', '/api/health');
    const body = uploads.pop();
    if (body) return hit(u, 'upload', '/instances', { method: 'POST', body, headers: { 'Content-Type': 'application/dicom' } });
    return hit(u, 'worklist', pick(WORKLIST)());
  }
  if (r < 0.45) return hit(u, 'worklist', pick(WORKLIST)());
  if (r < 0.75) return studyPage(u);
  return hit(u, 'ai-poll', `/api/ai/studies/${encodeURIComponent(pick(studies).uid)}/analyses`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const think = () => Math.min(5 * THINK_MS, Math.max(50, -THINK_MS * Math.log(1 - Math.random())));
const loadBefore = os.loadavg()[0];
const t0 = Date.now();
const deadline = t0 + SECONDS * 1000;
const warmupEnd = t0 + WARMUP * 1000;
const loadSamples = [];
const sampler = setInterval(() => {
  rssSamples.push([(Date.now() - t0) / 1000, rssMiB()]);
  loadSamples.push(os.loadavg()[0]);
}, 10000);
const warm = setTimeout(() => { measuring = true; }, WARMUP * 1000);
rssSamples.push([0, rssMiB()]);
await Promise.all(users.map(async (u, i) => {
  await sleep((i * THINK_MS) / USERS); // staggered start
  while (Date.now() < deadline) {
    await action(u);
    await sleep(think());
  }
}));
const elapsed = (Date.now() - t0) / 1000;
const loadAfter = os.loadavg()[0];
const measured = (Date.now() - Math.max(warmupEnd, t0)) / 1000;
clearInterval(sampler);
clearTimeout(warm);
rssSamples.push([elapsed, rssMiB()]);
await orthanc.stop();
fs.rmSync(work, { recursive: true, force: true });
fs.rmSync(uploadDir, { recursive: true, force: true });

// ------------------------------------------------------------------ report
const f = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-').padStart(7);
console.log(`load: ${USERS} users (${USERS - ADMINS} radiologists, ${ADMINS} administrators), ${elapsed.toFixed(0)} s on loopback, ` +
  `warm-up ${WARMUP} s excluded from the timings; think time mean ${THINK_MS} ms; store: ${STUDIES} synthetic + ${REAL.length} real studies; ` +
  `${UPLOADS - uploads.length} uploads; ${os.cpus().length} cores, load average (1 min) ${loadBefore.toFixed(2)} before, ${(loadSamples.reduce((a, b) => a + b, 0) / Math.max(1, loadSamples.length)).toFixed(2)} mean during the run (this script and Orthanc included), ${loadAfter.toFixed(2)} at the end`);
console.log(`  ${'kind'.padEnd(10)} ${'requests'.padStart(8)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'max ms'.padStart(7)}  errors`);
let total = 0;
let errors = 0;
for (const [kind, s] of [...stats].sort()) {
  s.times.sort((a, b) => a - b);
  total += s.times.length;
  errors += s.errors;
  console.log(`  ${kind.padEnd(10)} ${String(s.times.length).padStart(8)} ${f(s.times.length / measured)} ${f(percentile(s.times, 50))} ` +
    `${f(percentile(s.times, 95))} ${f(percentile(s.times, 99))} ${f(s.times[s.times.length - 1])}  ${s.errors}`);
  for (const e of s.samples) console.log(`    error: ${e}`);
}
console.log(`  ${'all'.padEnd(10)} ${String(total).padStart(8)} ${f(total / measured)}`);
const wl = stats.get('worklist')?.times ?? [];
console.log(`  worklist p95 ${percentile(wl, 95).toFixed(1)} ms (goal: under 50 ms); errors: ${errors} (goal: none)`);
const after = rssSamples.filter(([t]) => t >= WARMUP);
const third = Math.max(1, Math.floor(after.length / 3));
const mean = (a) => a.reduce((x, [, v]) => x + v, 0) / a.length;
const first = mean(after.slice(0, third));
const last = mean(after.slice(-third));
const growth = (last - first) / first;
console.log(`  Orthanc RSS (MiB, every 10 s): ${rssSamples.map(([, v]) => v.toFixed(0)).join(' ')}`);
console.log(`  RSS after warm-up: first third ${first.toFixed(1)} MiB, last third ${last.toFixed(1)} MiB (${(100 * growth).toFixed(1)}%): ` +
  `${growth <= TOLERANCE ? 'flat' : 'GROWING'} (tolerance ${(100 * TOLERANCE).toFixed(0)}%)`);
process.exit(errors > 0 ? 1 : 0);
