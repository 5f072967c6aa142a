// The PostgreSQL store (ReadingRoom.Store.Backend "postgresql") in a real
// Orthanc: C-STORE and REST uploads reach the worklist from the database,
// a restart of Orthanc keeps them (they are in PostgreSQL, not in a file),
// and while the database server is down the API answers 503 with its error
// body, then catches up with what Orthanc stored meanwhile once it is back.
// The store's trigger functions keep its own tables when another session
// (an administrator's psql, another store's search_path) fires them.
//
// Server: RR_TEST_PG_CONNINFO (Tests/run-all.sh starts one) for the ingest
// test, each test file in its own schema; the outage test always starts a
// private cluster (Tests/lib/pg-cluster.sh), since it stops it. Without
// PostgreSQL's server binaries the tests are skipped, with the reason.
//
// Access control needs the identity and audit concerns of the PostgreSQL
// backend; a build whose backend lacks them cannot start with it, and the
// file then runs with ReadingRoom.Auth.Enable false (said in the output).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startOrthanc, storescu, uploadFile, dicomFilesOf, waitFor, waitIngestIdle, worklistAll, repoRoot, testData, execFile,
} from '../lib/orthanc.mjs';

const CLUSTER = path.join(repoRoot, 'Tests', 'lib', 'pg-cluster.sh');
const MR = path.join(testData, 'mr_brain_t1post_24');
const CR = path.join(testData, 'cr_chest_mono1', 'gdcm-CR-MONO1-10-chest.dcm');
const hasServer = fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').length > 0;
const skip = hasServer ? false : 'PostgreSQL server binaries not installed (Debian package postgresql)';

const clusters = []; // private clusters to stop and remove at the end
let shared = process.env.RR_TEST_PG_CONNINFO || '';

async function cluster(dir, command) {
  const { stdout } = await execFile(CLUSTER, [command, dir], { timeout: 120000 });
  return stdout.trim();
}

async function newCluster() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-pg-test-'));
  clusters.push(dir);
  return { dir, conninfo: await cluster(dir, 'start') };
}

async function psql(conninfo, sql) {
  const env = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };
  const { stdout } = await execFile('psql', [conninfo, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 60000, env });
  return stdout.trim();
}

/** A fresh schema on the server and the conninfo whose search_path is it. */
async function freshSchema(conninfo) {
  const schema = `rr_it_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  await psql(conninfo, `CREATE SCHEMA ${schema}`);
  return { schema, conninfo: `${conninfo} options='-c search_path=${schema}'` };
}

/** Orthanc with the plugin on the PostgreSQL store; access control on when
 *  this build's PostgreSQL backend has it (see the header). */
async function startOnPg(t, conninfo, extra = {}) {
  const store = { Backend: 'postgresql', PostgreSQL: { ConnectionString: conninfo, PoolSize: 4, ConnectTimeoutSeconds: 3 } };
  try {
    return await startOrthanc({ readingRoom: { Store: store, ...extra } });
  } catch (e) {
    if (!/the postgresql store does not implement/.test(e.message)) throw e;
    t.diagnostic('this build\'s PostgreSQL backend lacks identity/audit: running with Auth.Enable false');
    return startOrthanc({ readingRoom: { Store: store, Auth: { Enable: false }, ...extra } });
  }
}

before(async () => {
  if (skip) return;
  if (!shared) shared = (await newCluster()).conninfo;
});

after(async () => {
  for (const dir of clusters) {
    await cluster(dir, 'stop').catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('C-STORE and REST uploads reach the worklist from PostgreSQL, and a restart keeps them', { skip, timeout: 240000 }, async (t) => {
  const { schema, conninfo } = await freshSchema(shared);
  const orthanc = await startOnPg(t, conninfo);
  try {
    const mrFiles = await dicomFilesOf(MR);
    await storescu(orthanc, mrFiles);
    assert.equal((await uploadFile(orthanc, CR)).status, 200);
    await waitIngestIdle(orthanc, 60000);
    const rows = await worklistAll(orthanc);
    assert.equal(rows.length, 2, JSON.stringify(rows.map((r) => r.studyInstanceUid)));
    const mr = rows.find((r) => r.modalities.includes('MR'));
    assert.ok(mr, 'the MR study is listed');
    assert.equal(mr.instanceCount, mrFiles.length);
    assert.ok(rows.some((r) => r.modalities.includes('CR')), 'the CR study is listed');
    // the rows are in the database, in this file's schema
    assert.equal(await psql(shared, `SELECT count(*) FROM ${schema}.studies`), '2');
    assert.equal(await psql(shared, `SELECT count(*) FROM ${schema}.instances`), String(mrFiles.length + 1));
    assert.equal(await psql(shared, `SELECT sum(instance_count) FROM ${schema}.studies`), String(mrFiles.length + 1));
    // filters and the study page read it too
    const byModality = await orthanc.json('/api/dicom/studies?modality=MR');
    assert.deepEqual(byModality.data.map((r) => r.studyInstanceUid), [mr.studyInstanceUid]);
    const detail = await orthanc.json(`/api/dicom/studies/${mr.studyInstanceUid}`);
    assert.equal(detail.series.reduce((n, s) => n + s.instances.length, 0), mrFiles.length);
    const health = await orthanc.json('/api/health');
    assert.equal(health.store.backend, 'postgresql', JSON.stringify(health.store));
    assert.equal(health.store.status, 'ok', JSON.stringify(health.store));
    assert.equal(health.store.studies, 2);

    await orthanc.restart();
    const again = await worklistAll(orthanc);
    assert.deepEqual(again.map((r) => r.studyInstanceUid).sort(), rows.map((r) => r.studyInstanceUid).sort());
    assert.equal(again.find((r) => r.studyInstanceUid === mr.studyInstanceUid).instanceCount, mrFiles.length);
  } finally {
    await orthanc.stop();
    await psql(shared, `DROP SCHEMA ${schema} CASCADE`).catch(() => {});
  }
});

test('the trigger functions act on the store\'s own tables whatever the search_path of the session that fires them', { skip, timeout: 240000 }, async (t) => {
  const { schema, conninfo } = await freshSchema(shared);
  // another schema with tables of the same names (another store in the same database), empty
  const other = `${schema}_other`;
  await psql(shared, `CREATE SCHEMA ${other}; CREATE TABLE ${other}.study_count_deltas (n BIGINT NOT NULL);`
    + ` CREATE TABLE ${other}.study_terms (study_id BIGINT, study_date TEXT, study_time TEXT, received_at BIGINT, patient_name_norm TEXT, mod_mask BIGINT)`);
  const orthanc = await startOnPg(t, conninfo);
  try {
    const mrFiles = await dicomFilesOf(MR);
    await storescu(orthanc, mrFiles.slice(0, 3));
    assert.equal((await uploadFile(orthanc, CR)).status, 200);
    await waitIngestIdle(orthanc, 60000);
    const rows = await worklistAll(orthanc);
    assert.equal(rows.length, 2);
    const cr = rows.find((r) => r.modalities.includes('CR'));
    // every function of the store carries its own search_path (a function added later without one fails here)
    const unpinned = await psql(shared, `SELECT string_agg(proname, ',') FROM pg_proc WHERE pronamespace = '${schema}'::regnamespace`
      + ` AND NOT COALESCE('search_path=${schema}, pg_temp' = ANY (proconfig), false)`);
    assert.equal(unpinned, '', `functions without the store's search_path: ${unpinned}`);
    // an administrator's session whose search_path starts with the other schema changes and deletes a study
    // of this store: the triggers keep this store's search keys and study count, and never touch the other's
    const admin = `${shared} options='-c search_path=${other},public'`;
    await psql(admin, `UPDATE ${schema}.studies SET study_date = '19990102' WHERE study_uid = '${cr.studyInstanceUid}'`);
    assert.equal(await psql(shared, `SELECT DISTINCT t.study_date FROM ${schema}.study_terms t JOIN ${schema}.studies s ON s.id = t.study_id`
      + ` WHERE s.study_uid = '${cr.studyInstanceUid}'`), '19990102', 'the study\'s search terms took its new date');
    await psql(admin, `DELETE FROM ${schema}.studies WHERE study_uid = '${cr.studyInstanceUid}'`);
    assert.equal(await psql(shared, `SELECT sum(n) FROM ${schema}.study_count_deltas`), '1');
    assert.equal(await psql(shared, `SELECT count(*) FROM ${other}.study_count_deltas`), '0');
    assert.equal(await psql(shared, `SELECT count(*) FROM ${other}.study_terms`), '0');
    const list = await orthanc.json('/api/dicom/studies');
    assert.equal(list.total, 1, JSON.stringify(list));
    assert.deepEqual(list.data.map((r) => r.studyInstanceUid), rows.filter((r) => r !== cr).map((r) => r.studyInstanceUid));
    // the plain default search_path (no store tables on it) works too
    await psql(shared, `DELETE FROM ${schema}.studies`);
    assert.equal((await orthanc.json('/api/dicom/studies')).total, 0);
  } finally {
    await orthanc.stop();
    await psql(shared, `DROP SCHEMA ${schema} CASCADE; DROP SCHEMA ${other} CASCADE`).catch(() => {});
  }
});

test('an unreachable server at start: Orthanc refuses to start and the log says why, without the password', { skip, timeout: 120000 }, async () => {
  // port 1 on loopback: nothing listens there; the password comes from the environment Orthanc inherits
  process.env.RR_IT_PG_PASSWORD = 'S3cret-Integration-Pw';
  const store = {
    Backend: 'postgresql',
    PostgreSQL: { ConnectionString: 'host=127.0.0.1 port=1 dbname=readingroom user=orthanc', PasswordEnvironmentVariable: 'RR_IT_PG_PASSWORD', ConnectTimeoutSeconds: 2 },
  };
  await assert.rejects(startOrthanc({ readingRoom: { Store: store } }), (e) => {
    assert.match(e.message, /cannot open the store: postgresql: cannot connect to the server: .*(refused|connect)/);
    assert.ok(!e.message.includes('S3cret-Integration-Pw'), 'the password never reaches the log');
    return true;
  });
});

test('the database server stopped: 503 with the error body, nothing lost once it is back', { skip, timeout: 240000 }, async (t) => {
  const { dir, conninfo } = await newCluster();
  const orthanc = await startOnPg(t, conninfo, { Ingest: { PollIntervalMs: 300 } });
  try {
    const mrFiles = await dicomFilesOf(MR);
    await storescu(orthanc, mrFiles.slice(0, 5));
    await waitIngestIdle(orthanc, 60000);
    assert.equal((await worklistAll(orthanc)).length, 1);

    await cluster(dir, 'stop');
    const down = await orthanc.api('/api/dicom/studies');
    assert.equal(down.status, 503, down.text);
    assert.match(down.text, /store is unavailable/);
    const health = await orthanc.api('/api/health');
    assert.equal(health.status, 503, health.text);
    assert.equal(health.json.store.status, 'unavailable');
    assert.match(health.json.store.error, /postgresql: cannot connect to the server/);
    // Orthanc itself keeps storing; the plugin cannot index meanwhile
    assert.equal((await uploadFile(orthanc, CR)).status, 200);
    await storescu(orthanc, mrFiles.slice(5, 10));
    const stillDown = await orthanc.api('/api/dicom/studies');
    assert.equal(stillDown.status, 503, stillDown.text);

    await cluster(dir, 'start');
    const rows = await waitFor(async () => {
      const r = await orthanc.api('/api/dicom/studies');
      if (r.status !== 200 || r.json.total !== 2) return false;
      const mr = r.json.data.find((x) => x.modalities.includes('MR'));
      return mr && mr.instanceCount === 10 ? r.json.data : false;
    }, 90000, 300, 'the worklist to catch up after the database came back');
    assert.equal(rows.length, 2);
    assert.equal(await psql(conninfo, 'SELECT count(*) FROM instances'), '11');
  } finally {
    await orthanc.stop();
  }
});
