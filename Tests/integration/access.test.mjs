// Access control against a real Orthanc with the plugin: the role matrix for
// every role (and for no token, an expired token, a disabled user), token
// attacks, CSRF, brute force, revocation, and the audit trail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, uploadFile, dicomFilesOf, waitFor, waitIngestIdle, httpRequest } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
let orthanc;
const tokens = {};      // role -> token
const loginCapabilities = {}; // role -> "capabilities" of the login answer
const ids = {};         // study/series/instance ids

const b64url = (buf) => Buffer.from(buf).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const secret = () => Buffer.from(fs.readFileSync(path.join(orthanc.dir, 'storage', 'reading-room-jwt.key'), 'utf8').trim(), 'hex');
function sign(header, payload, key = secret()) {
  const h = b64url(JSON.stringify(header));
  const p = b64url(JSON.stringify(payload));
  const s = b64url(crypto.createHmac('sha256', key).update(`${h}.${p}`).digest());
  return `${h}.${p}.${s}`;
}
function claims(extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'orthanc-reading-room', aud: 'reading-room', sub: 'admin', role: 'admin', iat: now, nbf: now,
    exp: now + 600, jti: crypto.randomBytes(16).toString('hex'), ...extra };
}
const as = (token, p, opts = {}) => orthanc.api(p, { ...opts, headers: { ...(opts.headers || {}), Authorization: `Bearer ${token}` } });
const anon = (p, opts = {}) => orthanc.api(p, { ...opts, auth: false });

before(async () => {
  orthanc = await startOrthanc();
  for (const [role, name] of [['radiologist', 'rad'], ['technician', 'tech'], ['physician', 'doc'], ['admin', 'admin2']]) {
    await orthanc.createUser({ username: name, password: PASSWORD, role, displayName: `Test ${role}` });
    const l = await orthanc.login(name, PASSWORD);
    assert.equal(l.status, 200, `login ${name}: ${l.text}`);
    tokens[role === 'admin' ? 'admin2' : role] = l.token;
    loginCapabilities[role] = l.json.capabilities;
  }
  tokens.admin = orthanc.adminToken;
  const [file] = (await dicomFilesOf('mr_brain_t1post_24')).slice(0, 1);
  const up = await uploadFile(orthanc, file);
  assert.equal(up.status, 200);
  ids.instance = up.json.ID;
  ids.series = up.json.ParentSeries;
  ids.study = up.json.ParentStudy;
  await waitIngestIdle(orthanc);
  ids.uid = (await orthanc.json('/api/dicom/studies')).data[0].studyInstanceUid;
});
after(async () => { await orthanc?.stop(); });

// [method, path, roles allowed] — everything else must be refused (403)
const MATRIX = () => [
  ['GET', '/system', ['admin']],
  ['GET', '/statistics', ['admin']],
  ['GET', '/app/explorer.html', ['admin']],
  ['GET', '/modalities', ['admin']],
  ['GET', '/peers', ['admin']],
  ['GET', '/jobs', ['admin']],
  ['GET', '/changes', ['admin']],
  ['GET', '/plugins', ['admin']],
  ['DELETE', '/studies/00000000-00000000-00000000-00000000-00000000', ['admin']],
  ['GET', '/studies', ['admin', 'radiologist', 'technician']],
  ['GET', `/studies/${ids.study}`, ['admin', 'radiologist', 'technician']],
  ['GET', `/instances/${ids.instance}/file`, ['admin', 'radiologist']],
  ['GET', `/instances/${ids.instance}/preview`, ['admin', 'radiologist']],
  ['GET', `/instances/${ids.instance}/frames/0/rendered`, ['admin', 'radiologist']],
  ['GET', `/api/dicom/instances/${ids.instance}/transcoded`, ['admin', 'radiologist']], // physicians: final reports only
  ['GET', '/api/dicom/studies', ['admin', 'radiologist', 'technician', 'physician']],
  ['GET', `/api/dicom/studies/${ids.uid}`, ['admin', 'radiologist', 'technician']],
  ['POST', `/api/dicom/studies/${ids.uid}/captures`, ['admin', 'radiologist']], // physician: the study check (no final report)
  ['GET', '/api/health', ['admin', 'radiologist', 'technician', 'physician']],
  ['GET', '/api/auth/me', ['admin', 'radiologist', 'technician', 'physician']],
  ['GET', '/api/users', ['admin']],
  ['GET', '/api/audit', ['admin']],
  ['GET', '/api/audit/verify', ['admin']],
  ['GET', '/api/admin/ingest', ['admin']],
  ['GET', '/api/admin/storage', ['admin']],
  ['GET', '/api/admin/reports/1/outputs', ['admin']],
  ['GET', '/reading-room/index.html', ['admin', 'radiologist', 'technician', 'physician', 'anonymous']],
  ['GET', '/no/such/route', ['admin']], // issue 14: administrators get Orthanc's own 404, others 403
];

test('the role matrix, for every role and for no token', async () => {
  const failures = [];
  for (const [method, p, allowed] of MATRIX()) {
    for (const who of ['admin', 'radiologist', 'technician', 'physician', 'anonymous']) {
      const r = who === 'anonymous' ? await anon(p, { method }) : await as(tokens[who], p, { method });
      const ok = allowed.includes(who) ? r.status !== 403 : r.status === 403;
      if (!ok) failures.push(`${who} ${method} ${p}: HTTP ${r.status} (expected ${allowed.includes(who) ? 'allowed' : '403'})`);
    }
  }
  assert.deepEqual(failures, []);
});

test('GET /api/auth/me and the login answer list what the role may use, from the role matrix', async () => {
  const want = {
    admin: ['worklist', 'study', 'upload', 'users', 'audit', 'system', 'ai', 'explorer', 'annotate', 'templates', 'report', 'reports'],
    radiologist: ['worklist', 'study', 'ai', 'annotate', 'report', 'reports'],
    technician: ['worklist', 'upload'],
    physician: ['worklist', 'study', 'reports'],
  };
  for (const [role, caps] of Object.entries(want)) {
    const r = await as(tokens[role], '/api/auth/me');
    assert.equal(r.status, 200, `${role}: ${r.text}`);
    assert.deepEqual(r.json.capabilities, caps, role);
    assert.deepEqual(loginCapabilities[role], caps, `${role}: login answer`);
  }
});

test('uploads: technician and admin may POST /instances, radiologist and physician may not', async () => {
  const [file] = (await dicomFilesOf('mr_brain_t1post_24')).slice(1, 2);
  const data = fs.readFileSync(file);
  for (const [who, expected] of [['technician', 200], ['admin', 200], ['radiologist', 403], ['physician', 403]]) {
    const r = await as(tokens[who], '/instances', { method: 'POST', body: data, headers: { 'Content-Type': 'application/dicom' } });
    assert.equal(r.status, expected, `${who}: ${r.status}`);
  }
});

test('tokens: none, forged, tampered, expired, not yet valid, garbage and oversized are refused', async () => {
  const good = sign({ alg: 'HS256', typ: 'JWT' }, claims());
  assert.equal((await as(good, '/system')).status, 200, 'a token made with the installation secret works (control)');
  const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}.`;
  const [h, , s] = tokens.physician.split('.');
  const tampered = `${h}.${b64url(JSON.stringify(claims({ sub: 'doc', role: 'admin' })))}.${s}`;
  const cases = {
    none,
    tampered,
    otherKey: sign({ alg: 'HS256', typ: 'JWT' }, claims(), crypto.randomBytes(32)),
    expired: sign({ alg: 'HS256', typ: 'JWT' }, claims({ iat: 1000, nbf: 1000, exp: Math.floor(Date.now() / 1000) - 120 })),
    notYet: sign({ alg: 'HS256', typ: 'JWT' }, claims({ nbf: Math.floor(Date.now() / 1000) + 3600 })),
    wrongIssuer: sign({ alg: 'HS256', typ: 'JWT' }, claims({ iss: 'evil' })),
    wrongAudience: sign({ alg: 'HS256', typ: 'JWT' }, claims({ aud: 'other' })),
    unknownUser: sign({ alg: 'HS256', typ: 'JWT' }, claims({ sub: 'mallory' })),
    roleNotHeld: sign({ alg: 'HS256', typ: 'JWT' }, claims({ sub: 'doc', role: 'admin' })),
    garbage: 'not.a.token',
    empty: '',
    oversized: 'a'.repeat(20000),
  };
  for (const [name, token] of Object.entries(cases)) {
    const r = await as(token, '/api/auth/me');
    // a 20 KB header is refused by Orthanc's HTTP server itself (400) before any filter runs
    const refused = name === 'oversized' ? [400, 403, 431] : [403];
    assert.ok(refused.includes(r.status), `${name}: HTTP ${r.status}`);
  }
  for (const header of ['Bearer', 'Basic !!!', 'Basic ' + Buffer.from('admin:wrong').toString('base64'), 'Digest x', 'x'.repeat(7000)]) {
    const r = await orthanc.api('/system', { headers: { Authorization: header } });
    // Orthanc's HTTP server itself answers 400 to some malformed Basic headers before any filter runs
    assert.ok([400, 403].includes(r.status), `Authorization: ${header.slice(0, 20)}: HTTP ${r.status}`);
  }
  assert.equal((await orthanc.api('/system')).status, 200, 'Orthanc is still up');
});

test('HTTP Basic with the same users works for scripts', async () => {
  const r = await orthanc.api('/api/dicom/studies', { headers: { Authorization: 'Basic ' + Buffer.from(`rad:${PASSWORD}`).toString('base64') } });
  assert.equal(r.status, 200);
});

test('cookie sessions: state-changing requests need the CSRF token or a same-origin Origin', async () => {
  const l = await orthanc.login('rad', PASSWORD);
  const cookie = l.cookies.map((c) => c.split(';')[0]).join('; ');
  assert.match(l.cookies.join('\n'), /rr_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
  const get = await orthanc.api('/api/auth/me', { auth: false, headers: { Cookie: cookie } });
  assert.equal(get.status, 200, 'GET with the cookie');
  const noCsrf = await orthanc.api('/api/auth/refresh', { method: 'POST', auth: false, headers: { Cookie: cookie } });
  assert.equal(noCsrf.status, 403, 'POST with the cookie and no CSRF token');
  const badCsrf = await orthanc.api('/api/auth/refresh', { method: 'POST', auth: false, headers: { Cookie: cookie, 'X-CSRF-Token': 'f'.repeat(64) } });
  assert.equal(badCsrf.status, 403, 'POST with a wrong CSRF token');
  const crossSite = await orthanc.api('/api/auth/refresh', { method: 'POST', auth: false, headers: { Cookie: cookie, Origin: 'http://evil.example' } });
  assert.equal(crossSite.status, 403, 'POST from another origin');
  const withCsrf = await orthanc.api('/api/auth/refresh', { method: 'POST', auth: false, headers: { Cookie: cookie, 'X-CSRF-Token': l.csrfToken } });
  assert.equal(withCsrf.status, 200, `POST with the CSRF token: ${withCsrf.text}`);
});

test('Orthanc Explorer: an administrator with the session cookie, nobody else', async () => {
  for (const [who, pass, expected] of [['admin2', PASSWORD, 200], ['rad', PASSWORD, 403], ['tech', PASSWORD, 403], ['doc', PASSWORD, 403]]) {
    const l = await orthanc.login(who, pass);
    const cookie = l.cookies.map((c) => c.split(';')[0]).join('; ');
    const r = await orthanc.api('/app/explorer.html', { auth: false, headers: { Cookie: cookie } });
    assert.equal(r.status, expected, `${who}: HTTP ${r.status}`);
    // the Explorer's own calls (same origin, no CSRF header)
    const post = await orthanc.api('/tools/find', { method: 'POST', auth: false, body: { Level: 'Study', Query: {} },
      headers: { Cookie: cookie, Origin: orthanc.baseUrl.replace('127.0.0.1', '127.0.0.1'), Host: `127.0.0.1:${orthanc.httpPort}` } });
    if (who === 'admin2') assert.equal(post.status, 200, `admin POST /tools/find from the Explorer: ${post.status}`);
  }
});

test('a disabled user, a changed role and a logout stop live tokens at once; revocation survives a restart', async () => {
  await orthanc.createUser({ username: 'temp', password: PASSWORD, role: 'radiologist' });
  let t = (await orthanc.login('temp', PASSWORD)).token;
  assert.equal((await as(t, '/api/auth/me')).status, 200);
  assert.equal((await orthanc.api('/api/users/temp', { method: 'PUT', body: { enabled: false } })).status, 200);
  assert.equal((await as(t, '/api/auth/me')).status, 403, 'disabled');
  assert.equal((await orthanc.login('temp', PASSWORD)).status, 403, 'a disabled user cannot log in');
  assert.equal((await orthanc.api('/api/users/temp', { method: 'PUT', body: { enabled: true } })).status, 200);
  t = (await orthanc.login('temp', PASSWORD)).token;
  assert.equal((await orthanc.api('/api/users/temp', { method: 'PUT', body: { role: 'technician' } })).status, 200);
  assert.equal((await as(t, '/api/auth/me')).status, 403, 'role changed');
  t = (await orthanc.login('temp', PASSWORD)).token;
  assert.equal((await as(t, '/api/auth/logout', { method: 'POST' })).status, 200);
  assert.equal((await as(t, '/api/auth/me')).status, 403, 'logged out');
  await orthanc.restart();
  assert.equal((await as(t, '/api/auth/me')).status, 403, 'still revoked after a restart');
  assert.equal((await as(tokens.radiologist, '/api/auth/me')).status, 200, 'other tokens survive a restart');
});

test('a stale session cookie does not lock its browser out of the login page', async () => {
  const l = await orthanc.login('rad', PASSWORD);
  const cookie = l.cookies.map((c) => c.split(';')[0]).join('; ');
  const out = await orthanc.api('/api/auth/logout', { method: 'POST', auth: false, headers: { Cookie: cookie, 'X-CSRF-Token': l.csrfToken } });
  assert.equal(out.status, 200);
  assert.match([].concat(out.headers['set-cookie']).join('\n'), /rr_session=; .*Max-Age=0/, 'logout clears the cookie');
  // the browser may still send the revoked cookie
  const page = await orthanc.api('/reading-room/index.html', { auth: false, headers: { Cookie: cookie } });
  assert.notEqual(page.status, 403, 'the app still loads');
  assert.equal((await orthanc.api('/api/dicom/studies', { auth: false, headers: { Cookie: cookie } })).status, 403, 'but no data');
  const again = await httpRequest(`${orthanc.baseUrl}/api/auth/login`, { method: 'POST', body: { username: 'rad', password: PASSWORD }, headers: { Cookie: cookie } });
  assert.equal(again.status, 200, 'login works with the stale cookie');
});

test('changing one\'s own password answers a new session; the old token stops working', async () => {
  await orthanc.createUser({ username: 'changer', password: PASSWORD, role: 'radiologist' });
  const old = (await orthanc.login('changer', PASSWORD)).token;
  await new Promise((r) => setTimeout(r, 1100)); // tokens carry whole seconds
  const r = await as(old, '/api/auth/password', { method: 'PUT', body: { currentPassword: PASSWORD, newPassword: 'Another-Good-Pass-77' } });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.token, 'a new token');
  assert.equal((await as(r.json.token, '/api/auth/me')).status, 200);
  assert.equal((await as(old, '/api/auth/me')).status, 403);
  const wrong = await as(r.json.token, '/api/auth/password', { method: 'PUT', body: { currentPassword: 'nope', newPassword: 'Yet-Another-Pass-88' } });
  assert.equal(wrong.status, 400);
});

test('brute force: the account locks; the answer never tells whether a user exists', async () => {
  await orthanc.createUser({ username: 'victim', password: PASSWORD, role: 'physician' });
  const unknown = await orthanc.login('nobody-here', 'wrong-password-1');
  const wrong = await orthanc.login('victim', 'wrong-password-1');
  assert.equal(unknown.status, 403);
  assert.equal(wrong.status, 403);
  assert.deepEqual(unknown.json, wrong.json, 'same answer for an unknown user and a wrong password');
  // timing: one Argon2 verification either way
  const time = async (u) => { const t0 = process.hrtime.bigint(); await orthanc.login(u, 'Wrong-Password-xyz'); return Number(process.hrtime.bigint() - t0) / 1e6; };
  // Medians of interleaved samples over several names (one wrong attempt each,
  // so no account locks): one sample per side was at the mercy of a loaded machine.
  for (const u of ['timing-a', 'timing-b']) await orthanc.createUser({ username: u, password: PASSWORD, role: 'physician' });
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const us = [], ws = [];
  for (const [unknownName, user] of [['nobody-else', 'victim'], ['nobody-2', 'timing-a'], ['nobody-3', 'timing-b']]) {
    us.push(await time(unknownName));
    ws.push(await time(user));
  }
  const tu = median(us), tw = median(ws);
  assert.ok(tu > tw / 3 && tu < tw * 3, `similar times: unknown ${tu.toFixed(0)} ms, wrong password ${tw.toFixed(0)} ms (medians of ${us.map(Math.round)} and ${ws.map(Math.round)})`);
  for (let i = 0; i < 5; i++) await orthanc.login('victim', `wrong-${i}`);
  const locked = await orthanc.login('victim', PASSWORD);
  assert.equal(locked.status, 403, 'the right password is refused while locked');
  assert.equal(locked.json.error.code, 'locked');
  const lockedUnknown = await (async () => { let r; for (let i = 0; i < 6; i++) r = await orthanc.login('ghost', `wrong-${i}`); return r; })();
  assert.equal(lockedUnknown.json.error.code, 'locked', 'unknown names lock the same way');
});

test('audit: logins, refusals and user changes are recorded; editing a record breaks the chain', async () => {
  await waitFor(async () => (await orthanc.json('/api/health')).audit.queued === 0, 10_000);
  const all = (await orthanc.json('/api/audit?limit=1000')).data;
  const actions = new Set(all.map((r) => `${r.action}:${r.outcome}`));
  for (const a of ['login:success', 'login:failure', 'logout:success', 'user.create:success', 'user.update:success', 'auth.refused:denied', 'access.denied:denied', 'upload:success']) {
    assert.ok(actions.has(a), `audit has ${a}`);
  }
  assert.ok(!JSON.stringify(all).includes(PASSWORD), 'no password in the audit trail');
  assert.ok(!JSON.stringify(all).includes(tokens.radiologist), 'no token in the audit trail');
  const filtered = (await orthanc.json('/api/audit?user=victim&action=login')).data;
  assert.ok(filtered.length >= 6 && filtered.every((r) => r.username === 'victim' && r.action === 'login'));
  assert.equal((await orthanc.json('/api/audit/verify')).intact, true);
  const db = path.join(orthanc.dir, 'storage', 'reading-room.db');
  const seq = filtered[filtered.length - 1].seq;
  execFileSync('sqlite3', [db, `PRAGMA busy_timeout=5000; UPDATE audit SET outcome='success' WHERE seq=${seq}`]);
  const v = await orthanc.json('/api/audit/verify');
  assert.equal(v.intact, false);
  assert.equal(v.firstBroken, seq);
});

test('audit filters take ISO 8601 dates and times, with milliseconds as browsers write them', async () => {
  const since = new Date(Date.now() - 3600e3);
  for (const from of [since.toISOString(), since.toISOString().slice(0, 19) + 'Z', since.toISOString().slice(0, 10)]) {
    const r = await orthanc.api(`/api/audit?from=${encodeURIComponent(from)}&limit=5`);
    assert.equal(r.status, 200, `from=${from}: ${r.text.slice(0, 200)}`);
    assert.ok(r.json.data.length > 0, `from=${from}`);
  }
  const future = await orthanc.api(`/api/audit?from=${encodeURIComponent(new Date(Date.now() + 3600e3).toISOString())}`);
  assert.equal(future.status, 200);
  assert.deepEqual(future.json.data, []);
  for (const bad of ['2024-13-01', '2024-01-02T3:04:05', '2024-01-02T03:04:05+01:00', 'yesterday']) {
    const r = await orthanc.api(`/api/audit?to=${encodeURIComponent(bad)}`);
    assert.equal(r.status, 400, `to=${bad}`);
    assert.equal(r.json.error.code, 'invalid_argument');
  }
});

test('users: policy and validation errors are clear', async () => {
  const bad = async (body, code) => {
    const r = await orthanc.api('/api/users', { method: 'POST', body });
    assert.equal(r.status, code, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
    return r.json;
  };
  assert.match((await bad({ username: 'shorty', role: 'radiologist', password: 'short' }, 400)).error.message, /at least/);
  assert.match((await bad({ username: 'samename1234', role: 'radiologist', password: 'SameName1234' }, 400)).error.message, /user name/);
  await bad({ username: 'bad name', role: 'radiologist', password: PASSWORD }, 400);
  await bad({ username: 'x', role: 'superuser', password: PASSWORD }, 400);
  await bad({ username: 'RAD', role: 'radiologist', password: PASSWORD }, 409);
  const r = await orthanc.api('/api/users', { method: 'POST', body: 'not json' });
  assert.equal(r.status, 400);
  const last = await orthanc.api('/api/users/admin', { method: 'PUT', body: { enabled: false } });
  assert.equal(last.status, 200, 'admin2 remains, so admin may be disabled');
  const me = await as(tokens.admin2, '/api/users/admin2', { method: 'PUT', body: { role: 'radiologist' } });
  assert.equal(me.status, 400, 'the last enabled administrator cannot be demoted');
});

test('the plugin refuses to start where access control would be ineffective or unreachable', async () => {
  for (const [config, readingRoom, message] of [
    [{ AuthenticationEnabled: true }, {}, /"AuthenticationEnabled" is true/],
    [{ RemoteAccessAllowed: true, AuthenticationEnabled: undefined }, {}, /"AuthenticationEnabled" is not set/],
    [{ RemoteAccessAllowed: true }, { Auth: { Enable: false } }, /every study would be open to the network/],
  ]) {
    await assert.rejects(startOrthanc({ config, readingRoom }), (e) => {
      assert.match(e.message, message);
      return true;
    });
  }
});
