// Ingestion on several nodes: the 134-slice CT sent to ONE Orthanc node and to TWO
// nodes sharing one PostgreSQL (Orthanc's index through Debian orthanc-postgresql,
// "Lock": false, one storage folder; the plugin's store on PostgreSQL in a schema
// of the same database), with and without the plugin, alternating, ROUNDS times
// each (default 3). In every setup the series goes out as two halves on two
// concurrent storescu associations: to the one node, or one half to each node.
// Each round starts from an empty database and storage folder.
// Printed: the median wall time from the start of the associations to the last
// instance stored, instances/s, the ratio two nodes / one node, the plugin's
// ratio against stock for each, how long after the last instance the study is
// complete (134 instances) in the worklist of every node, and the Orthanc CPU
// time per node and PostgreSQL's.
// This machine has 2 cores: a second node adds no CPU here, so the figure shows
// what sharing one index costs and whether the plugin keeps up on both nodes,
// not how several machines scale.
// Server: RR_TEST_PG_CONNINFO, else a throwaway cluster (Tests/lib/pg-cluster.sh)
// started and removed here. Needs PostgreSQL's server binaries and the
// orthanc-postgresql plugin; without them it says so and exits 0.
import { startOrthanc, storescu, dicomFilesOf, testData, repoRoot, execFile, pluginPath, gdcmPluginPath } from '../Tests/lib/orthanc.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get, median } from './lib.mjs';

const ROUNDS = Number(process.env.ROUNDS || 3);
// ReadingRoom.Ingest.PollIntervalMs of the nodes (NODES_POLL_MS; default: as shipped)
const POLL_MS = Number(process.env.NODES_POLL_MS || 2000);
const CLUSTER = path.join(repoRoot, 'Tests', 'lib', 'pg-cluster.sh');
const PG_INDEX = '/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so';
const hasServer = fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').length > 0;
if (!hasServer || !fs.existsSync(PG_INDEX)) {
  console.log(`ingest on several nodes: skipped (${!hasServer ? 'PostgreSQL server binaries not installed (Debian package postgresql)' : 'the orthanc-postgresql plugin is not installed (Debian package orthanc-postgresql)'})`);
  process.exit(0);
}

const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));
const halves = [files.filter((_, i) => i % 2 === 0), files.filter((_, i) => i % 2 === 1)];
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// CPU seconds (user + system) a process has used so far (0 when gone).
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

// The CPU seconds of every postgres process on the machine (the cluster and its backends; another
// cluster running at the same time would be counted too).
function postgresCpu() {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm !== 'postgres') continue;
      total += cpuSeconds(Number(pid));
    } catch { /* gone */ }
  }
  return total;
}

async function psql(info, sql) {
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  const { stdout } = await execFile('psql', [info, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 60000, env });
  return stdout.trim();
}

const field = (info, key) => (new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(info) || [])[1] || '';

let clusterDir = '';
let conninfo = process.env.RR_TEST_PG_CONNINFO || '';
if (!conninfo) {
  clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-pg-bench-nodes-'));
  conninfo = (await execFile(CLUSTER, ['start', clusterDir], { timeout: 120000 })).stdout.trim();
}

// The options of a node on database `db` (its storage folder shared), with or without the plugin.
function nodeOptions(db, storage, plugin) {
  const base = conninfo.replace(/(^|\s)dbname=\S+/, '').trim();
  return {
    plugin,
    readingRoom: plugin ? {
      Store: { Backend: 'postgresql', PostgreSQL: { ConnectionString: `${base} dbname=${db} options='-c search_path=rr'`, PoolSize: 4 } },
      Ingest: { PollIntervalMs: POLL_MS },
    } : {},
    config: {
      Plugins: [plugin ? pluginPath : null, gdcmPluginPath, PG_INDEX].filter((p) => p && fs.existsSync(p)),
      StorageDirectory: storage,
      PostgreSQL: {
        EnableIndex: true, EnableStorage: false, Host: field(conninfo, 'host') || '127.0.0.1', Port: Number(field(conninfo, 'port') || 5432),
        Database: db, Username: field(conninfo, 'user') || 'postgres', Password: '', Lock: false, MaximumConnectionRetries: 10,
      },
    },
  };
}

// The study complete (every instance) in the worklist of each node: ms after `t1` (hrtime).
async function visibleEverywhere(nodes, t1) {
  for (const node of nodes) {
    for (let waited = 0; ; waited += 5) {
      const r = await get(node.httpPort, '/api/dicom/studies?limit=1', node.authHeaders());
      const row = r.status === 200 ? JSON.parse(r.body).data[0] : null;
      if (row && row.instanceCount === files.length) break;
      if (waited > 60000) throw new Error(`the study is not complete in a node's worklist after 60 s: ${r.status} ${r.body.slice(0, 200)}`);
      await sleep(5);
    }
  }
  return Number(process.hrtime.bigint() - t1) / 1e6;
}

let dbCounter = 0;
// kind: {nodes: 1 | 2, plugin: bool}
async function round({ nodes: count, plugin }) {
  const db = `rr_bn_${process.pid}_${++dbCounter}`;
  await psql(conninfo, `CREATE DATABASE ${db}`);
  const info = conninfo.replace(/(^|\s)dbname=\S+/, `$1dbname=${db}`);
  await psql(info, 'CREATE SCHEMA rr');
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-bench-nodes-storage-'));
  const nodes = [];
  try {
    for (let i = 0; i < count; i++) nodes.push(await startOrthanc(nodeOptions(db, storage, plugin)));
    await sleep(500);
    const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
    const pg0 = postgresCpu();
    const t0 = process.hrtime.bigint();
    await Promise.all(halves.map((half, i) => storescu(nodes[i % count], half, { aet: `STORESCU${i}` })));
    const t1 = process.hrtime.bigint();
    const visible = plugin ? await visibleEverywhere(nodes, t1) : null;
    await sleep(300);
    const cpu = nodes.map((n, i) => cpuSeconds(n.pid) - cpu0[i]);
    return { seconds: Number(t1 - t0) / 1e9, visible, cpu: cpu.reduce((a, b) => a + b, 0), cpuNodes: cpu, pg: postgresCpu() - pg0 };
  } finally {
    for (const n of nodes) await n.stop();
    fs.rmSync(storage, { recursive: true, force: true });
    await psql(conninfo, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => {});
  }
}

const kinds = {
  'stock, one node': { nodes: 1, plugin: false },
  'stock, two nodes': { nodes: 2, plugin: false },
  'Reading Room, one node': { nodes: 1, plugin: true },
  'Reading Room, two nodes': { nodes: 2, plugin: true },
};
const runs = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
const load0 = loadavg();
const started = Date.now();
try {
  for (let i = 0; i < ROUNDS; i++) {
    // alternate the order so that a drift in the machine's load does not favour one setup
    const order = i % 2 === 0 ? Object.keys(kinds) : Object.keys(kinds).reverse();
    for (const k of order) runs[k].push(await round(kinds[k]));
  }
} finally {
  if (clusterDir) {
    await execFile(CLUSTER, ['stop', clusterDir], { timeout: 60000 }).catch(() => {});
    fs.rmSync(clusterDir, { recursive: true, force: true });
  }
}
const load1 = loadavg();

const med = (k, f) => median(runs[k].map((r) => r[f]));
const list = (k, f, d) => runs[k].map((r) => r[f].toFixed(d)).join(' ');
console.log(`ingest on several nodes: C-STORE of ${files.length} CT slices as two halves on two concurrent associations, Orthanc's index and the plugin's store on one PostgreSQL; median of ${ROUNDS} alternating rounds`);
console.log(`  load average (1, 5, 15 min)    before ${load0}, after ${load1}; ${((Date.now() - started) / 1000).toFixed(0)} s in all; ${os.cpus().length} cores`);
for (const k of Object.keys(kinds)) {
  const s = med(k, 'seconds');
  console.log(`  ${k.padEnd(30)} ${s.toFixed(2)} s  (${(files.length / s).toFixed(1)} instances/s)  runs: ${list(k, 'seconds', 2)}; Orthanc CPU ${med(k, 'cpu').toFixed(2)} s (all nodes), PostgreSQL CPU ${med(k, 'pg').toFixed(2)} s`);
}
const r = (a, b) => (med(b, 'seconds') / med(a, 'seconds')).toFixed(3);
console.log(`  throughput, two nodes / one     stock ${r('stock, two nodes', 'stock, one node')}, Reading Room ${r('Reading Room, two nodes', 'Reading Room, one node')}`);
console.log(`  throughput, plugin / stock      one node ${r('Reading Room, one node', 'stock, one node')}, two nodes ${r('Reading Room, two nodes', 'stock, two nodes')}  (goal >= 0.95)`);
console.log(`  (a node learns of what another node stored from Orthanc's change log, read by the node that follows it at least every Ingest.PollIntervalMs, ${POLL_MS} ms here)`);
console.log(`  complete in every node's worklist  one node ${med('Reading Room, one node', 'visible').toFixed(0)} ms, two nodes ${med('Reading Room, two nodes', 'visible').toFixed(0)} ms after the last instance  runs: ${list('Reading Room, two nodes', 'visible', 0)}`);
console.log(`  Orthanc CPU per node, two nodes with the plugin: ${runs['Reading Room, two nodes'].map((x) => x.cpuNodes.map((c) => c.toFixed(2)).join(' + ')).join('; ')} s`);
