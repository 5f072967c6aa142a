// The plugin's store becomes unavailable (another process holds SQLite's
// write lock) while instances arrive: Orthanc keeps storing, the plugin
// reports the failure in /api/health, retries, and loses nothing once the
// store is back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startOrthanc, storescu, dicomFilesOf, waitFor, waitIngestIdle, worklistAll, lockDatabase } from '../lib/orthanc.mjs';

let orthanc;
after(async () => { await orthanc?.stop(); });

test('store locked by another process during a C-STORE: error reported, nothing lost', async () => {
  orthanc = await startOrthanc({ readingRoom: { Store: { SQLite: { BusyTimeoutMs: 200 } } } });
  const db = path.join(orthanc.dir, 'storage', 'reading-room.db');
  await waitIngestIdle(orthanc);

  const lock = await lockDatabase(db);
  const files = await dicomFilesOf('mr_brain_t1post_24');
  await storescu(orthanc, files); // Orthanc itself is not affected

  const degraded = await waitFor(async () => {
    const h = await orthanc.api('/api/health');
    return h.json?.status === 'degraded' && h.json.ingest.lastError ? h.json : false;
  }, 20_000, 100, '/api/health to report the failing store');
  assert.match(degraded.ingest.lastError, /store/i);
  assert.ok(degraded.ingest.errors >= 1);
  assert.ok(degraded.ingest.backlog > 0, 'the changes wait in the backlog');
  const during = await orthanc.json('/api/dicom/studies');
  assert.equal(during.total, 0, 'nothing half-written is visible');

  await lock.release();
  await waitIngestIdle(orthanc, 60_000);
  const list = await worklistAll(orthanc);
  assert.equal(list.length, 1);
  assert.equal(list[0].instanceCount, files.length);
  const health = await orthanc.json('/api/health');
  assert.equal(health.status, 'ok');
  assert.equal(health.ingest.lastError, null);
});
