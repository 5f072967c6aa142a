// Ingestion overhead: the same C-STORE of the 134-slice CT into stock Orthanc
// and into Orthanc with the plugin, alternating, ROUNDS times each; prints the
// medians, the throughput ratio (plugin / stock) and how long after the last
// instance the study shows complete in the worklist.
import { startOrthanc, storescu, dicomFilesOf, testData } from '../Tests/lib/orthanc.mjs';
import path from 'node:path';
import { get, median } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));

async function round(plugin) {
  const orthanc = await startOrthanc({ plugin, readingRoom: {} });
  try {
    const t0 = process.hrtime.bigint();
    await storescu(orthanc, files);
    const t1 = process.hrtime.bigint();
    let visible = null;
    if (plugin) {
      for (;;) {
        const r = await get(orthanc.httpPort, '/api/dicom/studies?limit=1');
        const row = JSON.parse(r.body).data[0];
        if (row && row.instanceCount === files.length) break;
        await new Promise((res) => setTimeout(res, 5));
      }
      visible = Number(process.hrtime.bigint() - t1) / 1e6;
    }
    return { seconds: Number(t1 - t0) / 1e9, visible };
  } finally {
    await orthanc.stop();
  }
}

const stock = [];
const withPlugin = [];
const visible = [];
for (let i = 0; i < ROUNDS; i++) {
  stock.push((await round(false)).seconds);
  const r = await round(true);
  withPlugin.push(r.seconds);
  visible.push(r.visible);
}
const s = median(stock);
const p = median(withPlugin);
console.log(`ingest: C-STORE of ${files.length} CT slices (one association), median of ${ROUNDS} alternating rounds`);
console.log(`  stock Orthanc          ${s.toFixed(2)} s  (${(files.length / s).toFixed(1)} instances/s)  runs: ${stock.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  with Reading Room      ${p.toFixed(2)} s  (${(files.length / p).toFixed(1)} instances/s)  runs: ${withPlugin.map((x) => x.toFixed(2)).join(' ')}`);
console.log(`  throughput ratio       ${(s / p).toFixed(3)}  (goal >= 0.95)`);
console.log(`  complete in worklist   ${median(visible).toFixed(0)} ms after the last instance (goal < 1000)  runs: ${visible.map((x) => x.toFixed(0)).join(' ')}`);
