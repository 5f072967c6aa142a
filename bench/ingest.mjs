// Ingestion overhead: the same C-STORE of the 134-slice CT into stock Orthanc,
// into Orthanc with the plugin, and into Orthanc with the plugin and its
// off-site backup on (an S3 stand-in started here on the loopback, objects
// sealed with AES-256-GCM), alternating, ROUNDS times each; prints the medians,
// the throughput ratios against stock, Orthanc's CPU time, how long after the
// last instance the study shows complete in the worklist, and how long after
// it the backup queue is drained, with the backup workers' objects/s (while
// instances arrive, and with a backlog of all 134 queued at once).
import { startOrthanc, storescu, dicomFilesOf, testData } from '../Tests/lib/orthanc.mjs';
import { startS3Standin } from '../Tests/lib/s3-standin.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get, median } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS || 5);
const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));
const BUCKET = 'rr-bench-backup';
const S3_ID = 'AKIABENCH';
const S3_SECRET = 'bench-secret';

// CPU seconds (user + system) the Orthanc process has used so far.
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// The ReadingRoom.Backup section of a round with backup: the stand-in's
// endpoint, a fresh 32-byte key, the default two workers.
const backupConfig = (endpoint) => ({
  Backup: {
    Enabled: true, Target: 's3', Key: crypto.randomBytes(32).toString('base64'), Workers: 2,
    S3: { Endpoint: endpoint, Region: 'us-east-1', Bucket: BUCKET, AccessKeyId: S3_ID, SecretAccessKey: S3_SECRET, PathStyle: true },
  },
});

// Poll GET /api/admin/backup until every instance is copied and nothing is
// queued or running; a dead letter ends the round with an error.
async function waitDrained(orthanc) {
  for (;;) {
    const r = await get(orthanc.httpPort, '/api/admin/backup', orthanc.authHeaders());
    if (r.status !== 200) throw new Error(`GET /api/admin/backup answered ${r.status}: ${r.body.slice(0, 300)}`);
    const st = JSON.parse(r.body);
    if (st.failed > 0) throw new Error(`backup: ${st.failed} dead letter(s), last error: ${st.lastError}`);
    if (st.queued === 0 && st.inProgress === 0 && st.done >= files.length) return st;
    await sleep(10);
  }
}

// An S3 stand-in whose sealed objects' PUTs are time-stamped into puts
// (hrtime, ns): it logs one entry per request once answered.
async function standin(puts) {
  const s3 = await startS3Standin({ accessKeyId: S3_ID, secretAccessKey: S3_SECRET, bucket: BUCKET });
  const push = s3.requests.push.bind(s3.requests);
  s3.requests.push = (...entries) => {
    for (const e of entries) if (e.method === 'PUT' && e.status === 200 && e.path.endsWith('.rrb')) puts.push(process.hrtime.bigint());
    return push(...entries);
  };
  return s3;
}

// copies per second from the first copy stored to the last
const rate = (puts) => (puts.length > 1 ? (puts.length - 1) / (Number(puts[puts.length - 1] - puts[0]) / 1e9) : NaN);

// The backup workers' capacity with a backlog: the Orthanc of a round without
// backup, restarted with it on; a full re-synchronisation enqueues its 134
// instances at once; copies per second from the first to the last, and the
// time from the resync's answer until the queue is drained.
async function backlog(orthanc) {
  const puts = [];
  const s3 = await standin(puts);
  try {
    await orthanc.restart({ readingRoom: backupConfig(s3.url) });
    const t0 = process.hrtime.bigint();
    const r = await orthanc.api('/api/admin/ingest/resync', { method: 'POST' });
    if (r.status !== 202) throw new Error(`POST /api/admin/ingest/resync answered ${r.status}: ${r.text.slice(0, 300)}`);
    await waitDrained(orthanc);
    return { backlogDrained: Number(process.hrtime.bigint() - t0) / 1e6, backlogRate: rate(puts) };
  } finally {
    await s3.stop();
  }
}

// kind: 'stock' (no plugin), 'rr' (plugin; then the backlog measurement),
// 'backup' (plugin + off-site backup)
async function round(kind) {
  const plugin = kind !== 'stock';
  const puts = [];
  const s3 = kind === 'backup' ? await standin(puts) : null;
  const orthanc = await startOrthanc({ plugin, readingRoom: kind === 'backup' ? backupConfig(s3.url) : {} });
  try {
    const cpu0 = cpuSeconds(orthanc.pid);
    const own0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await storescu(orthanc, files);
    const t1 = process.hrtime.bigint();
    const own = process.cpuUsage(own0); // this process (the S3 stand-in's work included) during the C-STORE
    let visible = null;
    if (plugin) {
      for (;;) {
        const r = await get(orthanc.httpPort, '/api/dicom/studies?limit=1', orthanc.authHeaders());
        const row = JSON.parse(r.body).data[0];
        if (row && row.instanceCount === files.length) break;
        await sleep(5);
      }
      visible = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    await sleep(300); // let the worker finish its last batch
    const cpu = cpuSeconds(orthanc.pid) - cpu0;
    const out = { seconds: Number(t1 - t0) / 1e9, visible, cpu, benchCpu: (own.user + own.system) / 1e6 };
    if (kind === 'backup') {
      await waitDrained(orthanc); // confirms every copy done, nothing queued, no dead letter
      // drained: the last sealed object stored (its item is marked done just after)
      out.drained = Number(puts[puts.length - 1] - t1) / 1e6;
      out.polledEmpty = Number(process.hrtime.bigint() - t1) / 1e6;
      out.cpuDrained = cpuSeconds(orthanc.pid) - cpu0;
      out.objectsPerSecond = rate(puts);
      out.copyingAtLastInstance = puts.filter((t) => t <= t1).length;
    }
    if (kind === 'rr') Object.assign(out, await backlog(orthanc));
    return out;
  } finally {
    await orthanc.stop();
    await s3?.stop();
  }
}

const load0 = loadavg();
const started = Date.now();
const runs = { stock: [], rr: [], backup: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const kind of ['stock', 'rr', 'backup']) runs[kind].push(await round(kind));
}
const load1 = loadavg();

const med = (kind, field) => median(runs[kind].map((r) => r[field]));
const list = (kind, field, digits) => runs[kind].map((r) => r[field].toFixed(digits)).join(' ');
const s = med('stock', 'seconds');
const p = med('rr', 'seconds');
const b = med('backup', 'seconds');
const line = (label, kind, secs) =>
  `  ${label.padEnd(31)}${secs.toFixed(2)} s  (${(files.length / secs).toFixed(1)} instances/s)  runs: ${list(kind, 'seconds', 2)}`;
console.log(`ingest: C-STORE of ${files.length} CT slices (one association), median of ${ROUNDS} alternating rounds`);
console.log(`  load average (1, 5, 15 min)    before ${load0}, after ${load1}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
console.log(line('stock Orthanc', 'stock', s));
console.log(line('with Reading Room', 'rr', p));
console.log(line('with Reading Room + backup', 'backup', b));
console.log(`  throughput ratio               Reading Room ${(s / p).toFixed(3)}, + backup ${(s / b).toFixed(3)}  (goal >= 0.95 for both)`);
console.log(`  Orthanc CPU time (to +300 ms)  stock ${med('stock', 'cpu').toFixed(2)} s, with plugin ${med('rr', 'cpu').toFixed(2)} s (ratio ${(med('rr', 'cpu') / med('stock', 'cpu')).toFixed(3)}), + backup ${med('backup', 'cpu').toFixed(2)} s (ratio ${(med('backup', 'cpu') / med('stock', 'cpu')).toFixed(3)})`);
console.log(`  this script's CPU during the C-STORE (the S3 stand-in runs in it, on the same cores)  stock ${med('stock', 'benchCpu').toFixed(2)} s, with plugin ${med('rr', 'benchCpu').toFixed(2)} s, + backup ${med('backup', 'benchCpu').toFixed(2)} s`);
console.log(`  Orthanc CPU time, + backup, until the queue is drained  ${med('backup', 'cpuDrained').toFixed(2)} s  runs: ${list('backup', 'cpuDrained', 2)}`);
console.log(`  complete in worklist           ${med('rr', 'visible').toFixed(0)} ms after the last instance (goal < 1000)  runs: ${list('rr', 'visible', 0)}; + backup ${med('backup', 'visible').toFixed(0)} ms  runs: ${list('backup', 'visible', 0)}`);
console.log(`  backup queue drained           ${med('backup', 'drained').toFixed(0)} ms after the last instance (its last copy stored)  runs: ${list('backup', 'drained', 0)}; seen empty by polling GET /api/admin/backup (after the 300 ms pause): ${list('backup', 'polledEmpty', 0)}`);
console.log(`  backup copies                  ${med('backup', 'objectsPerSecond').toFixed(1)} objects/s (first to last copy stored, 2 workers)  runs: ${list('backup', 'objectsPerSecond', 1)}; copied before the last instance arrived: ${list('backup', 'copyingAtLastInstance', 0)} of ${files.length}`);
console.log(`  backup workers with a backlog  ${med('rr', 'backlogRate').toFixed(1)} objects/s (${files.length} queued at once by a resync, 2 workers)  runs: ${list('rr', 'backlogRate', 1)}; drained ${med('rr', 'backlogDrained').toFixed(0)} ms after the resync  runs: ${list('rr', 'backlogDrained', 0)}`);
