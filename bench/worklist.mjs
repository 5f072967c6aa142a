// Worklist latency through HTTP with 10,000 and 100,000 synthetic studies
// written straight into the store (bench/fill_store.c). Baseline in the same
// run: Orthanc's own GET /system on the same connection (the HTTP floor).
// Requests carry the administrator's Bearer token (access control is on).
// BACKEND=postgresql: the same on the PostgreSQL store, in a fresh schema of
// RR_TEST_PG_CONNINFO's server (else a throwaway cluster of
// Tests/lib/pg-cluster.sh), analysed after the fill as autovacuum would.
import { startOrthanc, repoRoot } from '../Tests/lib/orthanc.mjs';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get, percentile } from './lib.mjs';

const SIZES = (process.env.SIZES || '10000,100000').split(',').map(Number);
const N = Number(process.env.REQUESTS || 300);
const fill = process.env.RR_BENCH_FILL || path.join(repoRoot, 'build', 'rr_bench_fill');
const BACKEND = process.env.BACKEND || 'sqlite';
const CLUSTER = path.join(repoRoot, 'Tests', 'lib', 'pg-cluster.sh');

let pgBase = process.env.RR_TEST_PG_CONNINFO || '';
let pgDir = null;
if (BACKEND === 'postgresql' && !pgBase) {
  pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-bench-pg-'));
  pgBase = execFileSync(CLUSTER, ['start', pgDir]).toString().trim();
}
const quiet = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
const psql = (sql) => execFileSync('psql', [pgBase, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { env: quiet }).toString().trim();

/** Fill a store of `size` studies; returns the ReadingRoom.Store options and a cleanup. */
function fillStore(dir, size) {
  if (BACKEND === 'postgresql' && process.env.PG_SCHEMA) {
    // a schema filled before (fill_store --pg) and kept: PG_SCHEMA=name SIZES=<its size>
    const conninfo = `${pgBase} options='-c search_path=${process.env.PG_SCHEMA}'`;
    return { store: { Backend: 'postgresql', PostgreSQL: { ConnectionString: conninfo } }, cleanup: () => {} };
  }
  if (BACKEND === 'postgresql') {
    const schema = `rr_bench_${size}_${process.pid}`;
    psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    const conninfo = `${pgBase} options='-c search_path=${schema}'`;
    execFileSync(fill, ['--pg', conninfo, String(size)], { stdio: 'inherit' });
    psql('VACUUM ANALYZE');
    return {
      store: { Backend: 'postgresql', PostgreSQL: { ConnectionString: conninfo } },
      cleanup: () => psql(`DROP SCHEMA ${schema} CASCADE`),
    };
  }
  const db = path.join(dir, 'rr.db');
  execFileSync(fill, [db, String(size)], { stdio: 'inherit' });
  return { store: { SQLite: { Path: db } }, cleanup: () => {} };
}

/** Orthanc on the store; access control off only when this build's
 *  PostgreSQL backend cannot hold users yet (said in the output). */
async function start(store) {
  const readingRoom = { Store: store, Ingest: { ReconcileAtStartup: false } };
  try {
    return await startOrthanc({ readingRoom });
  } catch (e) {
    if (!/does not implement/.test(e.message)) throw e;
    console.log('  (this build\'s PostgreSQL backend has no users yet: access control off)');
    return startOrthanc({ readingRoom: { ...readingRoom, Auth: { Enable: false } } });
  }
}

const QUERIES = [
  ['GET /system (baseline)', '/system'],
  ['default page (50, by date)', '/api/dicom/studies'],
  ['name search "mull"', '/api/dicom/studies?patientName=mull'],
  ['name wildcard "GARC*"', '/api/dicom/studies?patientName=GARC*'],
  ['date range + modality', '/api/dicom/studies?studyDateFrom=20100101&studyDateTo=20151231&modality=CT'],
  ['free text "kim taro"', '/api/dicom/studies?q=kim%20taro'],
  ['sort by name, page 100', '/api/dicom/studies?sort=patientName&offset=5000'],
];

for (const size of SIZES) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-bench-'));
  const t0 = Date.now();
  const filled = fillStore(dir, size);
  const fillSeconds = (Date.now() - t0) / 1000;
  const orthanc = await start(filled.store);
  // a kept schema may just have been upgraded by the plugin's migrations
  // (tables rebuilt): analysed and vacuumed as autovacuum would, before timing
  if (BACKEND === 'postgresql' && process.env.PG_SCHEMA) psql('VACUUM ANALYZE');
  try {
    console.log(`worklist (${BACKEND}): ${size} studies (filled in ${fillSeconds.toFixed(1)} s), ${N} sequential requests per query, keep-alive`);
    let floor = null;
    for (const [label, url] of QUERIES) {
      const auth = orthanc.authHeaders();
      for (let i = 0; i < 20; i++) await get(orthanc.httpPort, url, auth);
      const times = [];
      let total = null;
      for (let i = 0; i < N; i++) {
        const t = process.hrtime.bigint();
        const r = await get(orthanc.httpPort, url, auth);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${r.body}`);
        if (i === 0 && url.startsWith('/api/')) total = JSON.parse(r.body).total;
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const p95 = percentile(times, 95);
      if (floor === null) floor = p50;
      const extra = total === null ? '' : `  matches ${total}`;
      console.log(`  ${label.padEnd(28)} p50 ${p50.toFixed(2).padStart(6)} ms  p95 ${p95.toFixed(2).padStart(6)} ms  p50/baseline ${(p50 / floor).toFixed(1)}x${extra}`);
    }
  } finally {
    await orthanc.stop();
    filled.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
if (pgDir) {
  execFileSync(CLUSTER, ['stop', pgDir]);
  fs.rmSync(pgDir, { recursive: true, force: true });
}
console.log('goal: p95 under 20 ms at 100,000 studies');
