// Ingestion with two Orthanc nodes against one, same run: the 134-slice CT
// (ct_abdomen_pancreas_134) sent by C-STORE into Orthanc with the Reading Room
// on the several-node set-up (Orthanc's index on PostgreSQL through Debian's
// orthanc-postgresql, "Lock": false; one shared storage folder; the plugin's
// store on PostgreSQL in a schema of the same database). Four kinds of
// round, alternating, ROUNDS times each (default 3: about 3 minutes), each on
// a fresh database, schema and storage folder:
//   one    one node receives the whole series: two concurrent storescu
//          associations to it, half the files each;
//   two    two nodes, each receiving one half concurrently (one association
//          each);
//   stock1, stock2  the same one node and two nodes without the plugin
//          (Orthanc + orthanc-postgresql only): the plugin's overhead on two
//          nodes, and what sharing the index costs Orthanc alone.
// Measured: wall time from the start of the first association to the end of
// the last one (every instance stored), instances/s, the ratios two/one
// (with and without the plugin) and plugin/stock; how long after the last instance the study shows complete
// (instanceCount == 134) in GET /api/dicom/studies of every running node
// (polled every 5 ms); Orthanc's CPU time per node and PostgreSQL's CPU time
// (every process of the server, private cluster only), from the first
// association to 300 ms after the study is complete; failed C-STOREs (a
// serialization failure between the nodes is answered with a failure status;
// storescu logs it and sends the next file): their files are sent again after
// the timing, so every round ends with the complete study. The load average is printed
// before and after.
//
// On a 2-core machine two nodes add no CPU: the figure is the cost (or
// benefit) of sharing one index between two processes and whether the plugin
// keeps its worklist current on both, not a scaling figure.
//
// Server: RR_TEST_PG_CONNINFO (a server whose user may CREATE DATABASE), else
// a private cluster of Tests/lib/pg-cluster.sh, stopped and removed at the end.
// Exits 0 with the reason, measuring nothing, without PostgreSQL's server
// binaries or the orthanc-postgresql plugin.
import { startOrthanc, storescu, dicomFilesOf, testData, repoRoot, execFile, pluginPath, gdcmPluginPath } from '../Tests/lib/orthanc.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { get, median } from './lib.mjs';

const CLUSTER = path.join(repoRoot, 'Tests', 'lib', 'pg-cluster.sh');
const PG_INDEX = '/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so';
const ROUNDS = Number(process.env.ROUNDS || 3);
const KINDS = ['one', 'two', 'stock1', 'stock2'];

const hasServer = fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').length > 0;
const skip = !fs.existsSync(PG_INDEX) ? 'the orthanc-postgresql plugin is not installed (Debian package orthanc-postgresql)'
  : !process.env.RR_TEST_PG_CONNINFO && !hasServer ? 'PostgreSQL server binaries not installed (Debian package postgresql)'
 : '';
if (skip) {
  console.log(`ingest_nodes: skipped: ${skip}`);
  process.exit(0);
}

const files = await dicomFilesOf(path.join(testData, 'ct_abdomen_pancreas_134'));
const halves = [files.slice(0, files.length >> 1), files.slice(files.length >> 1)];
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// CPU seconds (user + system) a process has used so far; with children: plus
// its waited-for children's (the postmaster reaps its exited backends).
function cpuSeconds(pid, children = false) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
  return ticks / 100; // clock ticks (USER_HZ = 100)
}

// PostgreSQL's CPU seconds: the postmaster with its reaped backends, plus
// every live child (backends, checkpointer, WAL writer…). NaN when the server
// is not a private cluster of this script.
function pgCpuSeconds() {
  if (!clusterDir) return NaN;
  const master = Number(fs.readFileSync(path.join(clusterDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuSeconds(master, true);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[1]) === master) total += cpuSeconds(Number(d), true);
    } catch { /* gone meanwhile */ }
  }
  return total;
}

let clusterDir = '';
let conninfo = process.env.RR_TEST_PG_CONNINFO || '';

async function psql(info, sql) {
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  const { stdout } = await execFile('psql', [info, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 60000, env });
  return stdout.trim();
}

function conninfoField(info, key) {
  const m = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(info);
  return m ? m[1] : '';
}

/** A node's options: Orthanc's index in database `db`, storage in `storage`, with the plugin's store in schema rr of `db`. */
function nodeOptions(db, storage, plugin) {
  const host = conninfoField(conninfo, 'host') || '127.0.0.1';
  const port = Number(conninfoField(conninfo, 'port') || 5432);
  const user = conninfoField(conninfo, 'user') || 'postgres';
  const base = conninfo.replace(/(^|\s)dbname=\S+/, '').trim();
  return {
    plugin,
    readingRoom: {
      Store: {
        Backend: 'postgresql',
        PostgreSQL: { ConnectionString: `${base} dbname=${db} options='-c search_path=rr'`, PoolSize: 4, ConnectTimeoutSeconds: 3 },
      },
    },
    config: {
      Plugins: [plugin ? pluginPath : '', gdcmPluginPath, PG_INDEX].filter((p) => p && fs.existsSync(p)),
      StorageDirectory: storage,
      PostgreSQL: {
        EnableIndex: true, EnableStorage: false, Host: host, Port: port, Database: db, Username: user, Password: '',
        Lock: false, MaximumConnectionRetries: 10,
      },
    },
  };
}

// One association sending `part` to `node` (storescu -v -nh: it logs each
// file and its response on stderr, and goes on after a refused C-STORE). The
// files not answered Success or Warning, from its log (all of them when
// storescu failed before sending).
async function send(node, part, aet) {
  let log = '';
  try {
    for (const r of await storescu(node, part, { aet, extraArgs: ['-v', '-nh'] })) log += r.stderr;
  } catch (e) {
    log += e.stderr || '';
  }
  const stored = new Set();
  let current = '';
  for (const l of log.split('\n')) {
    const sending = /Sending file: (\S+)/.exec(l);
    if (sending) current = sending[1];
    else if (/Received Store Response \((Success|Warning)/.test(l) && current) stored.add(current);
  }
  return part.filter((f) => !stored.has(f));
}

// ms until every node's worklist lists the study with all instances, per node
async function visibleOn(nodes, t1) {
  return Promise.all(nodes.map(async (node) => {
    for (;;) {
      const r = await get(node.httpPort, '/api/dicom/studies?limit=1', node.authHeaders());
      if (r.status !== 200) throw new Error(`GET /api/dicom/studies answered ${r.status}: ${r.body.slice(0, 300)}`);
      const row = JSON.parse(r.body).data[0];
      if (row && row.instanceCount === files.length) return Number(process.hrtime.bigint() - t1) / 1e6;
      await sleep(5);
    }
  }));
}

async function storedCount(node) {
  const r = await get(node.httpPort, '/statistics', node.authHeaders());
  return JSON.parse(r.body).CountInstances;
}

let serial = 0;
async function round(kind) {
  const plugin = !kind.startsWith('stock');
  const db = `rr_bench_nodes_${process.pid}_${serial++}`;
  await psql(conninfo, `CREATE DATABASE ${db}`);
  const dbInfo = conninfo.replace(/(^|\s)dbname=\S+/, `$1dbname=${db}`);
  await psql(dbInfo, 'CREATE SCHEMA rr');
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-bench-nodes-storage-'));
  const nodes = [];
  try {
    // one at a time: the first creates Orthanc's tables and the plugin's
    nodes.push(await startOrthanc(nodeOptions(db, storage, plugin)));
    if (kind === 'two' || kind === 'stock2') nodes.push(await startOrthanc(nodeOptions(db, storage, plugin)));
    await sleep(500); // let start-up work (reconciliation, the lease) settle
    const cpu0 = nodes.map((n) => cpuSeconds(n.pid));
    const pg0 = pgCpuSeconds();
    const t0 = process.hrtime.bigint();
    const targets = nodes.length === 1 ? [nodes[0], nodes[0]] : nodes;
    const failed = (await Promise.all(halves.map((half, i) => send(targets[i], half, `STORESCU${i}`)))).flat();
    const t1 = process.hrtime.bigint();
    let visible = null;
    if (failed.length) await storescu(nodes[0], failed, { extraArgs: ['-nh'] }); // not timed: completes the study
    if (plugin) visible = await visibleOn(nodes, t1);
    await sleep(300);
    const cpu = nodes.map((n, i) => cpuSeconds(n.pid) - cpu0[i]);
    const pg = pgCpuSeconds() - pg0;
    const stored = await storedCount(nodes[0]);
    if (stored !== files.length) throw new Error(`${kind}: ${stored} instances in Orthanc's index, expected ${files.length}`);
    return { seconds: Number(t1 - t0) / 1e9, visible, cpu, pg, failed: failed.length };
  } finally {
    for (const n of nodes) await n.stop();
    fs.rmSync(storage, { recursive: true, force: true });
    await psql(conninfo, `DROP DATABASE IF EXISTS ${db}`).catch(() => {});
  }
}

const load0 = loadavg();
const started = Date.now();
const runs = { one: [], two: [], stock1: [], stock2: [] };
try {
  if (!conninfo) {
    clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-pg-bench-nodes-'));
    conninfo = (await execFile(CLUSTER, ['start', clusterDir], { timeout: 120000 })).stdout.trim();
  }
  for (let i = 0; i < ROUNDS; i++) {
    for (const kind of KINDS) runs[kind].push(await round(kind));
  }
} finally {
  if (clusterDir) {
    await execFile(CLUSTER, ['stop', clusterDir], { timeout: 60000 }).catch(() => {});
    fs.rmSync(clusterDir, { recursive: true, force: true });
  }
}
const load1 = loadavg();

const med = (kind, fn) => median(runs[kind].map(fn));
const list = (kind, fn, digits) => runs[kind].map((r) => fn(r).toFixed(digits)).join(' ');
const secs = (kind) => med(kind, (r) => r.seconds);
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const line = (label, kind) =>
  `  ${label.padEnd(38)}${secs(kind).toFixed(2)} s  (${(files.length / secs(kind)).toFixed(1)} instances/s)  runs: ${list(kind, (r) => r.seconds, 2)}`;
const cpuLine = (kind) => {
  const nodes = runs[kind][0].cpu.length;
  const per = [...Array(nodes).keys()].map((i) => med(kind, (r) => r.cpu[i]).toFixed(2)).join(' + ');
  const pg = med(kind, (r) => r.pg);
  return `${per} s (sum ${med(kind, (r) => sum(r.cpu)).toFixed(2)} s), PostgreSQL ${Number.isNaN(pg) ? 'n/a (not a private cluster)' : `${pg.toFixed(2)} s`}`;
};
console.log(`ingest_nodes: C-STORE of ${files.length} CT slices, Orthanc's index and the plugin's store on one PostgreSQL, median of ${ROUNDS} alternating rounds, a fresh database each`);
console.log(`  machine                               ${os.cpus().length} cores: two nodes share them, so they add no CPU (the figure is the cost of the shared index, not scaling)`);
console.log(`  load average (1, 5, 15 min)           before ${load0}, after ${load1}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
console.log(line('one node, 2 associations x 67', 'one'));
console.log(line('two nodes, 1 association x 67 each', 'two'));
console.log(line('one stock node (no plugin), same', 'stock1'));
console.log(line('two stock nodes (no plugin), same', 'stock2'));
console.log(`  throughput ratio                      two nodes / one node: with plugin ${(secs('one') / secs('two')).toFixed(3)}, stock ${(secs('stock1') / secs('stock2')).toFixed(3)}`);
console.log(`                                        with plugin / stock: one node ${(secs('stock1') / secs('one')).toFixed(3)}, two nodes ${(secs('stock2') / secs('two')).toFixed(3)}`);
console.log(`  Orthanc CPU time (to +300 ms)         one node ${cpuLine('one')}`);
console.log(`                                        two nodes ${cpuLine('two')}`);
console.log(`                                        one stock node ${cpuLine('stock1')}`);
console.log(`                                        two stock nodes ${cpuLine('stock2')}`);
console.log(`  complete in worklist                  one node ${med('one', (r) => r.visible[0]).toFixed(0)} ms after the last instance  runs: ${list('one', (r) => r.visible[0], 0)}`);
console.log(`                                        two nodes, both ${med('two', (r) => Math.max(...r.visible)).toFixed(0)} ms  runs (node A/node B): ${runs.two.map((r) => r.visible.map((v) => v.toFixed(0)).join('/')).join(' ')}`);
console.log(`  failed C-STOREs (sent again, untimed) one node ${list('one', (r) => r.failed, 0)}; two nodes ${list('two', (r) => r.failed, 0)}; one stock node ${list('stock1', (r) => r.failed, 0)}; two stock nodes ${list('stock2', (r) => r.failed, 0)}`);
