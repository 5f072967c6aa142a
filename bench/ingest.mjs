// Ingestion overhead: the same C-STORE of the 134-slice CT into stock Orthanc,
// into Orthanc with the plugin, and into Orthanc with the plugin and its
// off-site backup on (the signature-checking S3 stand-in, Tests/lib/
// s3-standin.mjs, as the target; objects sealed with AES-256-GCM), in
// alternating rounds, ROUNDS times each; prints the medians, the throughput
// ratios (plugin / stock, backup on / backup off), how long after the last
// instance the study shows complete in the worklist, and how long after the
// last instance the backup queue is drained (every instance copied).
import { startOrthanc, storescu, dicomFilesOf, testData } from '../Tests/lib/orthanc.mjs';
import { startS3Standin } from '../Tests/lib/s3-standin.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { get, median } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS || 5);
const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));

// CPU seconds (user + system) the Orthanc process has used so far.
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const BUCKET = 'rr-bench';
const s3 = await startS3Standin({ accessKeyId: 'AKIABENCH', secretAccessKey: 'bench-secret', bucket: BUCKET });
const backup = {
  Backup: {
    Enabled: true, Target: 's3', Key: crypto.randomBytes(32).toString('base64'), Workers: 2,
    S3: { Endpoint: s3.url, Region: 'us-east-1', Bucket: BUCKET, AccessKeyId: 'AKIABENCH', SecretAccessKey: 'bench-secret', PathStyle: true },
  },
};

async function json(orthanc, url) {
  const r = await get(orthanc.httpPort, url, orthanc.authHeaders());
  return JSON.parse(r.body);
}

// mode: 'stock', 'plugin' or 'backup' (the plugin with the backup on)
async function round(mode) {
  const plugin = mode !== 'stock';
  const orthanc = await startOrthanc({ plugin, readingRoom: mode === 'backup' ? backup : {} });
  try {
    const cpu0 = cpuSeconds(orthanc.pid);
    const t0 = process.hrtime.bigint();
    await storescu(orthanc, files);
    const t1 = process.hrtime.bigint();
    let visible = null;
    let drained = null;
    if (plugin) {
      for (;;) {
        const row = (await json(orthanc, '/api/dicom/studies?limit=1')).data[0];
        if (row && row.instanceCount === files.length) break;
        await new Promise((res) => setTimeout(res, 5));
      }
      visible = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    if (mode === 'backup') {
      for (;;) {
        const st = await json(orthanc, '/api/admin/backup');
        if (st.failed > 0) throw new Error(`backup: ${st.failed} dead letters (${st.lastError})`);
        if (st.done >= files.length && st.queued === 0 && st.inProgress === 0) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      drained = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    await new Promise((res) => setTimeout(res, 300)); // let the worker finish its last batch
    return { seconds: Number(t1 - t0) / 1e9, visible, drained, cpu: cpuSeconds(orthanc.pid) - cpu0 };
  } finally {
    await orthanc.stop();
  }
}

const modes = ['stock', 'plugin', 'backup'];
const runs = Object.fromEntries(modes.map((m) => [m, []]));
for (let i = 0; i < ROUNDS; i++) for (const m of modes) runs[m].push(await round(m));
await s3.stop();

const seconds = (m) => runs[m].map((r) => r.seconds);
const med = (m, key) => median(runs[m].map((r) => r[key]));
const line = (label, m) => {
  const t = median(seconds(m));
  console.log(`  ${label.padEnd(22)} ${t.toFixed(2)} s  (${(files.length / t).toFixed(1)} instances/s)  runs: ${seconds(m).map((x) => x.toFixed(2)).join(' ')}`);
};
console.log(`ingest: C-STORE of ${files.length} CT slices (one association), median of ${ROUNDS} alternating rounds`);
line('stock Orthanc', 'stock');
line('with Reading Room', 'plugin');
line('with backup on (S3)', 'backup');
console.log(`  throughput ratio       ${(med('stock', 'seconds') / med('plugin', 'seconds')).toFixed(3)} plugin / stock (goal >= 0.95)`);
console.log(`  backup on / off        ${(med('plugin', 'seconds') / med('backup', 'seconds')).toFixed(3)} (goal >= 0.95)`);
console.log(`  Orthanc CPU time        stock ${med('stock', 'cpu').toFixed(2)} s, with plugin ${med('plugin', 'cpu').toFixed(2)} s (ratio ${(med('plugin', 'cpu') / med('stock', 'cpu')).toFixed(3)}), backup on ${med('backup', 'cpu').toFixed(2)} s`);
for (const m of ['plugin', 'backup']) {
  const v = runs[m].map((r) => r.visible);
  console.log(`  complete in worklist   ${median(v).toFixed(0)} ms after the last instance, ${m === 'plugin' ? 'backup off' : 'backup on '} (goal < 1000)  runs: ${v.map((x) => x.toFixed(0)).join(' ')}`);
}
const d = runs.backup.map((r) => r.drained);
console.log(`  backup queue drained   ${median(d).toFixed(0)} ms after the last instance  runs: ${d.map((x) => x.toFixed(0)).join(' ')}`);
