// Automatic log-off enforced by the server (HIPAA 164.312(a)(2)(iii)), with short limits set in the
// configuration (Auth.IdleTimeoutSeconds 2, Auth.MaxSessionSeconds 8): a session that only polls is refused
// after the idle time, one whose user acts (a refresh: the web app's activity mark) lives on, and no
// refresh carries a session past its maximum age. Each automatic log-off is audited once, with its reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOrthanc, sleep } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
const IDLE = 2;
const MAX = 8;
let orthanc;

const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const poll = (token) => orthanc.api('/api/dicom/studies?limit=1', { auth: false, headers: bearer(token) });
const refresh = (token) => orthanc.api('/api/auth/refresh', { method: 'POST', auth: false, headers: bearer(token) });

/** Audit records of `user` with this action (newest first), read with a fresh administrator login. */
async function auditOf(user, action) {
  const l = await orthanc.login('admin', orthanc.adminPassword);
  const r = await orthanc.api(`/api/audit?user=${user}&action=${action}&limit=100`, { auth: false, headers: bearer(l.token) });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

before(async () => {
  orthanc = await startOrthanc({ readingRoom: { Auth: { IdleTimeoutSeconds: IDLE, MaxSessionSeconds: MAX } } });
  for (const name of ['poller', 'worker', 'marathon']) {
    await orthanc.createUser({ username: name, password: PASSWORD, role: 'radiologist', displayName: name });
  }
});

after(async () => {
  await orthanc?.stop();
});

test('the session answers state the limits', async () => {
  const l = await orthanc.login('poller', PASSWORD);
  assert.equal(l.status, 200, l.text);
  assert.equal(l.json.idleTimeoutSeconds, IDLE);
  assert.equal(l.json.maxSessionSeconds, MAX);
  assert.ok(l.json.expiresInSeconds >= IDLE - 1 && l.json.expiresInSeconds <= IDLE, `expiresInSeconds ${l.json.expiresInSeconds}`);
  const ends = Date.parse(l.json.sessionEndsAt);
  assert.ok(Math.abs(ends - (Date.now() + MAX * 1000)) < 2500, `sessionEndsAt ${l.json.sessionEndsAt}`);
  const me = await orthanc.api('/api/auth/me', { auth: false, headers: bearer(l.token) });
  assert.equal(me.status, 200);
  assert.equal(me.json.idleTimeoutSeconds, IDLE);
  assert.equal(me.json.sessionEndsAt, l.json.sessionEndsAt);
  // the cookie does not outlive the token
  const cookie = l.cookies.find((c) => c.startsWith('rr_session='));
  assert.match(cookie, new RegExp(`Max-Age=[0-${IDLE}];`.replace(';', '')));
});

test('a session that only polls is refused after the idle time', async () => {
  const l = await orthanc.login('poller', PASSWORD);
  assert.equal(l.status, 200, l.text);
  const t0 = Date.now();
  let refusedAt = 0;
  while (Date.now() - t0 < (IDLE + 3) * 1000) {
    const r = await poll(l.token);
    if (r.status !== 200) {
      assert.equal(r.status, 403);
      refusedAt = Date.now() - t0;
      break;
    }
    await sleep(250);
  }
  assert.ok(refusedAt > 0, 'the polling session was never refused');
  assert.ok(refusedAt >= (IDLE - 1) * 1000, `refused too early (${refusedAt} ms)`);
  // polling did not extend it, and a refresh cannot bring it back
  assert.equal((await refresh(l.token)).status, 403);
  await sleep(300);
  const records = (await auditOf('poller', 'logout')).filter((r) => r.detail === 'automatic: idle');
  assert.equal(records.length, 1, `one automatic log-off recorded: ${JSON.stringify(records)}`);
});

test('a session with user activity (refreshes) outlives the idle time', async () => {
  const l = await orthanc.login('worker', PASSWORD);
  assert.equal(l.status, 200, l.text);
  let token = l.token;
  const t0 = Date.now();
  while (Date.now() - t0 < (IDLE * 2 + 1) * 1000) {
    await sleep(800);
    const r = await refresh(token);
    assert.equal(r.status, 200, `refresh after ${Date.now() - t0} ms: ${r.text}`);
    token = r.json.token;
    assert.equal((await poll(token)).status, 200);
  }
  assert.ok(Date.now() - t0 > IDLE * 1000 * 2);
});

test('no refresh carries a session past its maximum age', async () => {
  const l = await orthanc.login('marathon', PASSWORD);
  assert.equal(l.status, 200, l.text);
  const t0 = Date.now();
  let token = l.token;
  let refused = null;
  while (Date.now() - t0 < (MAX + 3) * 1000) {
    await sleep(700);
    const r = await refresh(token);
    if (r.status !== 200) {
      refused = { at: Date.now() - t0, status: r.status };
      break;
    }
    token = r.json.token;
    assert.ok(Date.parse(r.json.expiresAt) <= Date.parse(l.json.sessionEndsAt), 'a token never outlives the session');
  }
  assert.ok(refused, 'refresh was never refused');
  assert.equal(refused.status, 403);
  assert.ok(refused.at >= (MAX - 1) * 1000, `refused at ${refused.at} ms, before the maximum age`);
  assert.equal((await poll(token)).status, 403);
  await sleep(300);
  const records = (await auditOf('marathon', 'logout')).filter((r) => r.detail === 'automatic: max-age');
  assert.equal(records.length, 1, JSON.stringify(records));
  // logging in again starts a new session
  const again = await orthanc.login('marathon', PASSWORD);
  assert.equal(again.status, 200);
  assert.equal((await poll(again.token)).status, 200);
});

test('the web app\'s own log-off is audited with its reason; other reasons are refused', async () => {
  const l = await orthanc.login('worker', PASSWORD);
  const bad = await orthanc.api('/api/auth/logout', { method: 'POST', auth: false, headers: bearer(l.token), body: { reason: 'bored' } });
  assert.equal(bad.status, 400, bad.text);
  const ok = await orthanc.api('/api/auth/logout', { method: 'POST', auth: false, headers: bearer(l.token), body: { reason: 'idle' } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await poll(l.token)).status, 403);
  await sleep(300);
  const records = (await auditOf('worker', 'logout')).filter((r) => r.detail === 'automatic: idle' && r.outcome === 'success');
  assert.equal(records.length, 1, JSON.stringify(records));
});
