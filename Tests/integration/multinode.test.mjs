// Two Orthanc nodes, one PostgreSQL: Orthanc's own index in PostgreSQL
// (Debian orthanc-postgresql, "Lock": false on both), one storage folder,
// and the plugin's store on PostgreSQL. What one node learns or changes, the
// other honours: a C-STORE to A is in B's worklist; a deletion on B leaves
// A's worklist (OnChange fires only on B, which applies it to the shared
// store); a C-STORE to the node that does not follow the change log is in
// both worklists within seconds although both poll the log only every 60 s
// (that node signals the follower); a user disabled on A is refused by B within a second (a signal
// between the nodes, not a cache expiring); AI analyses submitted on both
// nodes each run once; kill -9 of the node running an analysis: the other
// node requeues it (its periodic sweep) and completes it, one result, one
// more provider call; a node whose running analysis another node took over
// meanwhile drops its own result; kill -9 of the node that follows the change log in
// the middle of a C-STORE: the other takes the lease over, and its worklist
// equals Orthanc's index; the audit chain, written by both, verifies.
//
// Server: RR_TEST_PG_CONNINFO (Tests/run-all.sh starts one), else a private
// cluster (Tests/lib/pg-cluster.sh). Skipped, with the reason, without
// PostgreSQL's server binaries or the orthanc-postgresql plugin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startOrthanc, storescu, uploadFile, dicomFilesOf, waitFor, worklistAll, repoRoot, testData, execFile, pluginPath,
  gdcmPluginPath,
} from '../lib/orthanc.mjs';

const CLUSTER = path.join(repoRoot, 'Tests', 'lib', 'pg-cluster.sh');
const PG_INDEX = '/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so';
const hasServer = fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').length > 0;
const skip = !hasServer ? 'PostgreSQL server binaries not installed (Debian package postgresql)'
  : !fs.existsSync(PG_INDEX) ? 'the orthanc-postgresql plugin is not installed (Debian package orthanc-postgresql)' : false;

const KEY = 'multinode-test-key';
let clusterDir = '';
let conninfo = process.env.RR_TEST_PG_CONNINFO || '';
let A;
let B;
let provider;
let storage;
let dbInfo = ''; // the conninfo of the test's database

async function psql(info, sql) {
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  const { stdout } = await execFile('psql', [info, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 60000, env });
  return stdout.trim();
}

function conninfoField(info, key) {
  const m = new RegExp(`(?:^|\\s)${key}=(\\S+)`).exec(info);
  return m ? m[1] : '';
}

/** A node: Orthanc's index in database `db`, the plugin's store in schema `schema` of the same database. */
function nodeOptions(db, schema) {
  const host = conninfoField(conninfo, 'host') || '127.0.0.1';
  const port = Number(conninfoField(conninfo, 'port') || 5432);
  const user = conninfoField(conninfo, 'user') || 'postgres';
  const base = conninfo.replace(/(^|\s)dbname=\S+/, '').trim();
  return {
    readingRoom: {
      Store: {
        Backend: 'postgresql',
        PostgreSQL: { ConnectionString: `${base} dbname=${db} options='-c search_path=${schema}'`, PoolSize: 4, ConnectTimeoutSeconds: 3 },
      },
      Ingest: { PollIntervalMs: 500 },
      AI: { Provider: 'gemini', BaseUrl: provider.url, ApiKey: KEY, AllowCloud: true, Concurrency: 2, TimeoutSeconds: 10 },
    },
    config: {
      Plugins: [pluginPath, gdcmPluginPath, PG_INDEX].filter((p) => fs.existsSync(p)),
      StorageDirectory: storage,
      PostgreSQL: {
        EnableIndex: true, EnableStorage: false, Host: host, Port: port, Database: db, Username: user, Password: '',
        Lock: false, MaximumConnectionRetries: 10,
      },
    },
  };
}

async function leader(node) {
  const r = await node.api('/api/admin/ingest');
  return r.status === 200 && r.json.leader === true;
}

before(async () => {
  if (skip) return;
  if (!conninfo) {
    clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-pg-multinode-'));
    conninfo = (await execFile(CLUSTER, ['start', clusterDir], { timeout: 120000 })).stdout.trim();
  }
  const db = `rr_mn_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await psql(conninfo, `CREATE DATABASE ${db}`);
  dbInfo = conninfo.replace(/(^|\s)dbname=\S+/, `$1dbname=${db}`);
  await psql(dbInfo, 'CREATE SCHEMA rr');
  storage = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-multinode-storage-'));
  const { startAiProvider } = await import('../lib/ai-provider.mjs');
  provider = await startAiProvider({ apiKey: KEY });
  A = await startOrthanc(nodeOptions(db, 'rr'));
  B = await startOrthanc(nodeOptions(db, 'rr'));
});

after(async () => {
  await A?.stop();
  await B?.stop();
  await provider?.close();
  if (clusterDir) {
    await execFile(CLUSTER, ['stop', clusterDir], { timeout: 60000 }).catch(() => {});
    fs.rmSync(clusterDir, { recursive: true, force: true });
  }
  if (storage) fs.rmSync(storage, { recursive: true, force: true });
});

test('exactly one node follows the change log', { skip }, async () => {
  await waitFor(async () => (await leader(A)) !== (await leader(B)), 15000, 200, 'one leader');
});

test('a C-STORE to A is in B\'s worklist; a deletion on B leaves A\'s worklist', { skip }, async () => {
  const files = (await dicomFilesOf(path.join(testData, 'mr_brain_t1post_24'))).slice(0, 5);
  await storescu(A, files);
  await waitFor(async () => (await worklistAll(B))[0]?.instanceCount === 5, 30000, 200, 'the study in B\'s worklist');
  const [study] = await worklistAll(B);
  const id = (await B.json('/studies'))[0];
  assert.ok(id, 'Orthanc B sees the study in the shared index');
  assert.equal((await B.api(`/studies/${id}`, { method: 'DELETE' })).status, 200);
  await waitFor(async () => (await worklistAll(A)).length === 0, 15000, 200, 'the deletion in A\'s worklist');
  assert.equal(study.instanceCount, 5);
});

test('a C-STORE to the node that does not follow the change log reaches both worklists at once, not at the next poll', { skip, timeout: 120000 }, async () => {
  // both nodes poll the change log only every 60 s: the follower must learn of B's instances from B's signal
  const slow = (node) => node.restart({ readingRoom: { ...node.opts.readingRoom, Ingest: { PollIntervalMs: 60000 } } });
  const fast = (node) => node.restart({ readingRoom: { ...node.opts.readingRoom, Ingest: { PollIntervalMs: 500 } } });
  await slow(A);
  await slow(B);
  try {
    await waitFor(async () => (await leader(A)) !== (await leader(B)), 15000, 200, 'one leader');
    const standby = (await leader(A)) ? B : A;
    const files = (await dicomFilesOf(path.join(testData, 'ct_chest_lung_30'))).slice(0, 3);
    const t0 = Date.now();
    await storescu(standby, files);
    const stored = Date.now();
    for (const node of [A, B]) {
      await waitFor(async () => (await worklistAll(node)).some((s) => s.instanceCount === 3), 10000, 50,
        'the study complete in both worklists');
    }
    const lag = Date.now() - stored;
    assert.ok(lag < 5000, `visible ${lag} ms after the C-STORE (${stored - t0} ms) ended; the poll interval is 60 s`);
    const id = (await A.json('/studies'))[0];
    assert.equal((await A.api(`/studies/${id}`, { method: 'DELETE' })).status, 200);
    await waitFor(async () => (await worklistAll(B)).length === 0, 15000, 200, 'the deletion in B\'s worklist');
  } finally {
    await fast(A);
    await fast(B);
  }
});

test('a user disabled on A is refused by B within a second', { skip }, async () => {
  const user = { username: 'rad.nodes', password: 'Rad-Nodes-Password-2026!', role: 'radiologist', displayName: 'Dr Nodes' };
  await A.createUser(user);
  const login = await B.login(user.username, user.password);
  assert.equal(login.status, 200, login.text);
  const headers = { Authorization: `Bearer ${login.token}` };
  assert.equal((await B.api('/api/dicom/studies', { auth: false, headers })).status, 200); // cached on B now
  const r = await A.api(`/api/users/${user.username}`, { method: 'PUT', body: { enabled: false } });
  assert.ok(r.status === 200 || r.status === 204, r.text);
  const t0 = Date.now();
  await waitFor(async () => (await B.api('/api/dicom/studies', { auth: false, headers })).status === 403, 1000, 20,
    'B refusing the disabled user');
  assert.ok(Date.now() - t0 <= 1000);

  const again = await A.login('admin', A.adminPassword);
  const revoked = { Authorization: `Bearer ${again.token}` };
  assert.equal((await B.api('/api/dicom/studies', { auth: false, headers: revoked })).status, 200);
  assert.equal((await A.api('/api/auth/logout', { method: 'POST', auth: false, headers: revoked })).status < 300, true);
  await waitFor(async () => (await B.api('/api/dicom/studies', { auth: false, headers: revoked })).status === 403, 1000, 20,
    'B refusing the token revoked on A');
});

test('AI analyses submitted on both nodes each run once', { skip }, async () => {
  const files = await dicomFilesOf(path.join(testData, 'ct_chest_lung_30'));
  for (const f of files.slice(0, 3)) assert.equal((await uploadFile(A, f)).status, 200);
  await waitFor(async () => (await worklistAll(B))[0]?.instanceCount === 3, 30000, 200, 'the CT study');
  const [study] = await worklistAll(B);
  const uid = study.studyInstanceUid;
  provider.reset();
  const ids = [];
  for (let i = 0; i < 10; i++) {
    const node = i % 2 ? B : A;
    const r = await node.api(`/api/ai/analyze/${encodeURIComponent(uid)}`, { method: 'POST', body: { force: true } });
    assert.ok(r.status === 202 || r.status === 200 || r.status === 201, r.text);
    ids.push(r.json.id || r.json.analysisId);
  }
  assert.equal(new Set(ids).size, 10);
  await waitFor(async () => {
    for (const id of ids) if ((await A.json(`/api/ai/analysis/${encodeURIComponent(id)}`)).status !== 'completed') return false;
    return true;
  }, 60000, 250, 'ten completed analyses');
  assert.equal(provider.requests.length, 10, 'one provider call per analysis: none ran twice');
});

/** The Orthanc process whose TCP connection has local port `port` (ss -tnp lists our own processes' sockets). */
async function processWithPort(port) {
  const { stdout } = await execFile('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], { timeout: 10000 });
  const m = /pid=(\d+)/.exec(stdout);
  return m ? Number(m[1]) : 0;
}

test('kill -9 of the node running an analysis: the other node completes it, once', { skip, timeout: 120000 }, async () => {
  const [study] = await worklistAll(B);
  assert.ok(study, 'the CT study of the previous test');
  const uid = encodeURIComponent(study.studyInstanceUid);
  provider.reset();
  provider.script({ type: 'success', delayMs: 20000 }); // the first call is slow: time to kill its node
  const r = await A.api(`/api/ai/analyze/${uid}`, { method: 'POST', body: { force: true } });
  assert.ok(r.status === 202 || r.status === 200 || r.status === 201, r.text);
  const id = encodeURIComponent(r.json.id || r.json.analysisId);
  await waitFor(() => provider.requests.length === 1, 30000, 50, 'the analysis reaching the provider');
  const pid = await processWithPort(provider.requests[0].remotePort);
  const runner = [A, B].find((n) => n.pid === pid);
  assert.ok(runner, `the provider's caller (pid ${pid}) is one of the nodes (${A.pid}, ${B.pid})`);
  const survivor = runner === A ? B : A;
  assert.equal((await survivor.json(`/api/ai/analysis/${id}`)).status, 'running');
  const t0 = Date.now();
  await runner.kill9();
  await waitFor(async () => (await survivor.json(`/api/ai/analysis/${id}`)).status === 'completed', 50000, 250,
    'the analysis completed by the surviving node');
  const took = Date.now() - t0;
  assert.ok(took < 45000, `completed ${took} ms after the kill`);
  const done = await survivor.json(`/api/ai/analysis/${id}`);
  assert.equal(done.attempts, 2, 'claimed by the dead node, then once by the survivor');
  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(provider.requests.length, 2, 'one call from the dead node, one from the survivor: none ran twice');
  const list = await survivor.json(`/api/ai/studies/${uid}/analyses`);
  const items = Array.isArray(list) ? list : (list.analyses || list.items || []);
  assert.equal(items.filter((a) => encodeURIComponent(a.id) === id).length, 1, 'one analysis, one result');
  await runner.restart(); // the next tests use both nodes
  await waitFor(async () => (await runner.api('/api/admin/ingest')).status === 200, 30000, 200, 'the node back');
});

test('a node whose analysis another node took over meanwhile drops its own result', { skip, timeout: 120000 }, async () => {
  const [study] = await worklistAll(A);
  assert.ok(study, 'the CT study of an earlier test');
  const uid = encodeURIComponent(study.studyInstanceUid);
  provider.reset();
  provider.script({ type: 'success', delayMs: 3000 });
  const r = await A.api(`/api/ai/analyze/${uid}`, { method: 'POST', body: { force: true } });
  assert.ok(r.status === 202 || r.status === 200 || r.status === 201, r.text);
  const id = r.json.id || r.json.analysisId;
  assert.match(id, /^[0-9a-f]+$/);
  await waitFor(() => provider.requests.length === 1, 30000, 50, 'the analysis reaching the provider');
  // what a sweep and a claim elsewhere leave while the runner's lease was lost: a newer attempt of a node (now gone)
  await psql(dbInfo, `UPDATE rr.ai_analyses SET attempts = attempts + 1, claimed_by = '00000000000000ff' WHERE id = '${id}'`);
  await waitFor(async () => (await A.json(`/api/ai/analysis/${id}`)).status === 'completed', 50000, 250,
    'the analysis completed after the sweep requeued it');
  const done = await A.json(`/api/ai/analysis/${id}`);
  assert.equal(done.attempts, 3, 'the first runner wrote nothing; the analysis ran again');
  assert.equal(provider.requests.length, 2);
});

test('kill -9 of the node following the change log during a C-STORE: the other takes over', { skip, timeout: 120000 }, async () => {
  const holder = (await leader(A)) ? A : B;
  const other = holder === A ? B : A;
  const files = await dicomFilesOf(path.join(testData, 'ct_chest_lung_30'));
  const sending = storescu(holder, files, { chunk: 1 }).catch((e) => e);
  await waitFor(async () => (await holder.json('/instances')).length >= 8, 30000, 50, 'some instances stored');
  await holder.kill9();
  await sending;
  await waitFor(() => leader(other), 10000, 200, 'the other node taking the lease over');
  const index = async () => {
    const counts = {};
    for (const id of await other.json('/studies')) {
      const s = await other.json(`/studies/${id}`);
      counts[s.MainDicomTags.StudyInstanceUID] = (await other.json(`/studies/${id}/instances`)).length;
    }
    return counts;
  };
  await waitFor(async () => {
    const want = await index();
    const got = {};
    for (const s of await worklistAll(other)) {
      got[s.studyInstanceUid] = s.instanceCount;
    }
    return JSON.stringify(Object.entries(want).sort()) === JSON.stringify(Object.entries(got).sort());
  }, 30000, 500, 'the worklist equal to Orthanc\'s index');
});

test('the audit chain written by both nodes verifies', { skip }, async () => {
  const node = A.running ? A : B;
  const r = await node.json('/api/audit/verify');
  assert.equal(r.intact, true, JSON.stringify(r));
  assert.ok(r.records > 5);
});
