// Ingestion overhead: the same C-STORE of the 134-slice CT into stock Orthanc
// and into Orthanc with the plugin, alternating, ROUNDS times each; prints the
// medians, the throughput ratio (plugin / stock) and how long after the last
// instance the study shows complete in the worklist.
import { startOrthanc, storescu, dicomFilesOf, testData } from '../Tests/lib/orthanc.mjs';
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

async function round(plugin) {
  const orthanc = await startOrthanc({ plugin, readingRoom: {} });
  try {
    const cpu0 = cpuSeconds(orthanc.pid);
    const t0 = process.hrtime.bigint();
    await storescu(orthanc, files);
    const t1 = process.hrtime.bigint();
    let visible = null;
    if (plugin) {
      for (;;) {
        const r = await get(orthanc.httpPort, '/api/dicom/studies?limit=1', orthanc.authHeaders());
        const row = JSON.parse(r.body).data[0];
        if (row && row.instanceCount === files.length) break;
        await new Promise((res) => setTimeout(res, 5));
      }
      visible = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    await new Promise((res) => setTimeout(res, 300)); // let the worker finish its last batch
    return { seconds: Number(t1 - t0) / 1e9, visible, cpu: cpuSeconds(orthanc.pid) - cpu0 };
  } finally {
    await orthanc.stop();
  }
}

const stock = [];
const withPlugin = [];
const visible = [];
const cpuStock = [];
const cpuPlugin = [];
for (let i = 0; i < ROUNDS; i++) {
  const a = await round(false);
  stock.push(a.seconds);
  cpuStock.push(a.cpu);
  const r = await round(true);
  withPlugin.push(r.seconds);
  visible.push(r.visible);
  cpuPlugin.push(r.cpu);
}
const s = median(stock);
const p = median(withPlugin);
console.log(`ingest: C-STORE of ${files.length} CT slices (one association), median of ${ROUNDS} alternating rounds`);
console.log(`  stock Orthanc          ${s.toFixed(2)} s  (${(files.length / s).toFixed(1)} instances/s)  runs: ${stock.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  with Reading Room      ${p.toFixed(2)} s  (${(files.length / p).toFixed(1)} instances/s)  runs: ${withPlugin.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  throughput ratio       ${(s / p).toFixed(3)}  (goal >= 0.95)`);
console.log(`  Orthanc CPU time        stock ${median(cpuStock).toFixed(2)} s, with plugin ${median(cpuPlugin).toFixed(2)} s (ratio ${(median(cpuPlugin) / median(cpuStock)).toFixed(3)})`);
console.log(`  complete in worklist   ${median(visible).toFixed(0)} ms after the last instance (goal < 1000)  runs: ${visible.map((x) => x.toFixed(0)).join(' ')}`);
