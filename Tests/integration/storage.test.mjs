// The System page's storage figures from a real Orthanc: its disk use
// (/statistics), the free space of its storage and index folders (checked
// against statvfs computed here), today's sample of the daily history, the
// Prometheus gauges, and the warning threshold (health degraded with the
// reason when the free space is below it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startOrthanc, uploadFile, dicomFilesOf, waitIngestIdle } from '../lib/orthanc.mjs';

let orthanc;
after(async () => { await orthanc?.stop(); });

const freeOf = (dir) => { const s = fs.statfsSync(dir); return { free: s.bavail * s.bsize, total: s.blocks * s.bsize }; };
const today = () => new Date().toISOString().slice(0, 10);

test('admin/storage: Orthanc disk use, free space of its folders, today\'s sample; health ok; metrics', async () => {
  orthanc = await startOrthanc();
  for (const f of (await dicomFilesOf('mr_brain_t1post_24')).slice(0, 3)) assert.equal((await uploadFile(orthanc, f)).status, 200);
  await waitIngestIdle(orthanc);
  const stats = await orthanc.json('/statistics');
  const s = await orthanc.json('/api/admin/storage');
  assert.equal(s.orthancDiskBytes, Number(stats.TotalDiskSize));
  assert.ok(s.orthancDiskBytes > 500_000, 'three MR slices take room');
  const storageDir = path.join(orthanc.dir, 'storage');
  assert.equal(s.storageFolder.path, storageDir);
  assert.equal(s.indexFolder.path, storageDir);
  assert.equal(s.sameFileSystem, true);
  const fsNow = freeOf(storageDir);
  assert.equal(s.storageFolder.totalBytes, fsNow.total);
  assert.ok(Math.abs(s.storageFolder.freeBytes - fsNow.free) < 64 * 1024 * 1024, `free ${s.storageFolder.freeBytes} vs statvfs ${fsNow.free}`);
  assert.ok(Math.abs(s.storageFolder.freePercent - (fsNow.free / fsNow.total) * 100) < 1);
  assert.equal(s.status, 'ok');
  assert.equal(s.warnFreePercent, 10);
  assert.equal(s.warnFreeGigabytes, 0);
  const last = s.days.at(-1);
  assert.equal(last.date, today());
  assert.equal(last.diskBytes, s.orthancDiskBytes, 'today\'s sample is the current disk use');

  const h = await orthanc.json('/api/health');
  assert.equal(h.storage.status, 'ok');
  assert.equal(h.status, 'ok');
  assert.equal(h.storage.storageFolder.path, undefined, 'health (open to every user) names no folder');
  assert.equal(h.storage.indexFolder.path, undefined);
  const metrics = (await orthanc.api('/tools/metrics-prometheus')).text;
  assert.match(metrics, /^reading_room_storage_free_bytes \d/m);
  assert.match(metrics, /^reading_room_storage_orthanc_disk_bytes \d/m);
  assert.match(metrics, /^reading_room_storage_low 0/m);
});

test('below Storage.WarnFreeGigabytes: health degraded with the reason, admin/storage "low", metric 1', async () => {
  const freeGb = Math.ceil(freeOf(path.join(orthanc.dir, 'storage')).free / 1e9);
  await orthanc.restart({ readingRoom: { Storage: { WarnFreeGigabytes: freeGb + 10 } } });
  const h = await orthanc.json('/api/health');
  assert.equal(h.status, 'degraded');
  assert.equal(h.storage.status, 'low');
  assert.match(h.storage.warning, new RegExp(`storage folder has [0-9.]+ GB free, below Storage.WarnFreeGigabytes \\(${freeGb + 10} GB\\)`));
  const s = await orthanc.json('/api/admin/storage');
  assert.equal(s.status, 'low');
  const metrics = (await orthanc.api('/tools/metrics-prometheus')).text;
  assert.match(metrics, /^reading_room_storage_low 1/m);
});
