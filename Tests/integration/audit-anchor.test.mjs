// The audit trail's head is anchored apart from the chain (a file beside the
// store, exported by /api/health): deleting the newest records — which leaves
// a shorter chain that is still intact — is reported by /api/audit/verify,
// whether it happens while Orthanc is stopped or running. An untouched trail
// verifies across restarts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, waitFor } from '../lib/orthanc.mjs';

let orthanc;
after(async () => { await orthanc?.stop(); });

const dbOf = (o) => path.join(o.dir, 'storage', 'reading-room.db');
const anchorOf = (o) => `${dbOf(o)}.audit-head`;
const sql = (o, q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', dbOf(o), q], { encoding: 'utf8' }).trim();

async function settled(o) {
  return waitFor(async () => {
    const h = await o.json('/api/health');
    return h.audit.queued === 0 ? h : false;
  }, 10_000, 50, 'the audit queue to empty');
}

/** A few audited actions (failed logins are recorded). */
async function someRecords(o, n) {
  for (let i = 0; i < n; i++) await o.login('nobody', `wrong-password-${i}`);
  await settled(o);
}

test('untouched trail: verify is intact, the anchor follows the head and is in /api/health; restart keeps it valid', async () => {
  orthanc = await startOrthanc();
  await someRecords(orthanc, 3);
  const v = await orthanc.json('/api/audit/verify');
  assert.equal(v.intact, true, JSON.stringify(v));
  const h = await settled(orthanc);
  assert.ok(h.audit.anchor, 'health exports the anchor');
  const head = JSON.parse(sql(orthanc, "SELECT json_object('seq', seq, 'hash', hash) FROM audit ORDER BY seq DESC LIMIT 1"));
  assert.equal(h.audit.anchor.records, head.seq, 'the anchor names the newest record');
  assert.equal(h.audit.anchor.headHash, head.hash);
  assert.equal(h.status, 'ok');
  const file = fs.readFileSync(anchorOf(orthanc), 'utf8');
  assert.match(file, /^rr-audit-anchor-v1 \d+ [0-9a-f]{64}\n$/);
  assert.equal(v.anchor.records >= v.records - 1, true, 'verify names the anchor too');

  await orthanc.restart();
  await someRecords(orthanc, 2);
  const again = await orthanc.json('/api/audit/verify');
  assert.equal(again.intact, true, JSON.stringify(again));
  const h2 = await settled(orthanc);
  assert.ok(h2.audit.anchor.records > h.audit.anchor.records, 'the anchor moved on after the restart');
  assert.equal(h2.status, 'ok');
});

test('newest records deleted while Orthanc is stopped: verify says how many after which, health is degraded', async () => {
  await someRecords(orthanc, 4);
  await orthanc.stop();
  const maxSeq = Number(sql(orthanc, 'SELECT max(seq) FROM audit'));
  assert.equal(fs.readFileSync(anchorOf(orthanc), 'utf8').split(' ')[1], String(maxSeq), 'anchored up to the end');
  sql(orthanc, `DELETE FROM audit WHERE seq > ${maxSeq - 3}`);
  // the shorter chain is still a valid chain: only the anchor can tell
  await orthanc.restart();
  const v = await orthanc.json('/api/audit/verify');
  assert.equal(v.intact, false, JSON.stringify(v));
  assert.match(v.reason, new RegExp(`head missing: 3 records deleted after #${maxSeq - 3}`));
  const h = await orthanc.json('/api/health');
  assert.equal(h.status, 'degraded');
  assert.match(h.audit.anchor.problem, /head missing: 3 records deleted/);
  assert.equal(h.audit.anchor.records, maxSeq, 'the anchor is kept as evidence');
  // new records do not move the anchor over the gap
  await someRecords(orthanc, 5);
  const later = await orthanc.json('/api/audit/verify');
  assert.equal(later.intact, false);
  assert.match(later.reason, /head missing: 3 records deleted/);
  assert.equal(fs.readFileSync(anchorOf(orthanc), 'utf8').split(' ')[1], String(maxSeq));
});

test('newest records deleted while Orthanc runs: the next append and verify report it', async () => {
  await orthanc.stop();
  fs.renameSync(anchorOf(orthanc), `${anchorOf(orthanc)}.evidence`); // the documented way to start a new anchor
  await orthanc.restart();
  await someRecords(orthanc, 3);
  assert.equal((await orthanc.json('/api/audit/verify')).intact, true, 'a new anchor, an intact trail');
  await settled(orthanc);
  const maxSeq = Number(sql(orthanc, 'SELECT max(seq) FROM audit'));
  sql(orthanc, `DELETE FROM audit WHERE seq > ${maxSeq - 2}`);
  const v = await orthanc.json('/api/audit/verify');
  assert.equal(v.intact, false, JSON.stringify(v));
  assert.match(v.reason, /head missing: 2 records deleted after #/);
});
