// Store faults (beside store-failure.test.mjs, the store locked by another
// process): the plugin's database on a full disk (a small tmpfs filled up)
// and the database file made unwritable (chattr +i, the way an immutable or
// wrongly owned file behaves even for root). In both cases Orthanc keeps
// storing (real C-STORE), /api/health says "degraded" with the store's
// state and the reason, ingestion keeps its place (the change-log cursor
// does not move past unstored instances), and once the fault is gone it
// catches up until the worklist equals Orthanc's index.
// Needs root (mount, chattr); skipped otherwise.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, storescu, dicomFilesOf, waitFor, waitIngestIdle, worklistAll, orthancStudies } from '../lib/orthanc.mjs';

const root = typeof process.getuid === 'function' && process.getuid() === 0;
let orthanc;
const mounts = [];
const immutable = [];
after(async () => {
  for (const f of immutable) try { execFileSync('chattr', ['-i', f]); } catch { /* gone */ }
  await orthanc?.stop();
  for (const m of mounts) try { execFileSync('umount', [m]); fs.rmSync(m, { recursive: true, force: true }); } catch { /* ignore */ }
});

/** The worklist holds exactly Orthanc's studies and instances. */
async function assertWorklistEqualsOrthanc(o) {
  const truth = await orthancStudies(o);
  const list = await worklistAll(o);
  assert.deepEqual(list.map((s) => s.studyInstanceUid).sort(), Object.keys(truth).sort());
  for (const s of list) assert.equal(s.instanceCount, truth[s.studyInstanceUid].instances.size, s.studyInstanceUid);
}

async function degradedStore(o, kind) {
  return waitFor(async () => {
    const h = await o.api('/api/health');
    return h.json?.status === 'degraded' && h.json.store?.status === kind ? h.json : false;
  }, 30_000, 100, `/api/health to report the store ${kind}`);
}

test('disk full under the store: health says "full", ingestion waits, catches up when space is back', { skip: !root && 'needs root' }, async () => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'rr-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]);
  mounts.push(mnt);
  orthanc = await startOrthanc({ readingRoom: { Store: { SQLite: { Path: path.join(mnt, 'reading-room.db') } } } });
  await waitIngestIdle(orthanc);
  const cursorBefore = (await orthanc.json('/api/admin/ingest')).cursor;

  // fill the file system to the last block
  const filler = path.join(mnt, 'filler');
  try { execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=64k'], { stdio: 'ignore' }); } catch { /* ENOSPC: full */ }
  const files = await dicomFilesOf('ct_chest_lung_30');
  await storescu(orthanc, files); // Orthanc's own storage is elsewhere: it keeps working

  const h = await degradedStore(orthanc, 'full');
  assert.match(h.store.error, /space|full/i);
  const ing = await waitFor(async () => {
    const i = await orthanc.json('/api/admin/ingest');
    return i.errors >= 1 && i.lastError ? i : false;
  }, 30_000, 100, 'the ingestion step to fail');
  assert.match(ing.lastError, /full/i);
  assert.equal(ing.cursor, cursorBefore, 'the cursor stays before the unstored instances');
  assert.ok(ing.backlog > 0);
  assert.equal((await orthanc.json('/api/dicom/studies')).total, 0, 'nothing half-written is visible');

  fs.rmSync(filler);
  await waitIngestIdle(orthanc, 60_000);
  await assertWorklistEqualsOrthanc(orthanc);
  const ok = await waitFor(async () => {
    const x = await orthanc.json('/api/health');
    return x.status === 'ok' ? x : false;
  }, 20_000, 100, 'health ok again');
  assert.equal(ok.store.status, 'ok');
  await orthanc.stop();
  orthanc = null;
});

test('database file not writable: health says "read-only" with the reason, ingestion waits, catches up', { skip: !root && 'needs root' }, async () => {
  orthanc = await startOrthanc();
  await waitIngestIdle(orthanc);
  const db = path.join(orthanc.dir, 'storage', 'reading-room.db');
  const cursorBefore = (await orthanc.json('/api/admin/ingest')).cursor;
  // the database and its WAL; never the -shm file, which SQLite maps in memory (SIGBUS)
  for (const f of [db, `${db}-wal`]) {
    execFileSync('chattr', ['+i', f]);
    immutable.push(f);
  }
  const files = await dicomFilesOf('mr_brain_t1post_24');
  await storescu(orthanc, files);

  const h = await degradedStore(orthanc, 'read-only');
  assert.match(h.store.error, /not writable/);
  const ing = await waitFor(async () => {
    const i = await orthanc.json('/api/admin/ingest');
    return i.errors >= 1 && i.lastError ? i : false;
  }, 30_000, 100, 'the ingestion step to fail');
  assert.equal(ing.cursor, cursorBefore, 'the cursor stays before the unstored instances');
  assert.ok(ing.backlog > 0);
  assert.equal((await orthanc.json('/api/dicom/studies')).total, 0);

  for (const f of immutable.splice(0)) execFileSync('chattr', ['-i', f]);
  await waitIngestIdle(orthanc, 60_000);
  await assertWorklistEqualsOrthanc(orthanc);
  const ok = await waitFor(async () => {
    const x = await orthanc.json('/api/health');
    return x.status === 'ok' ? x : false;
  }, 20_000, 100, 'health ok again');
  assert.equal(ok.store.status, 'ok');
});
