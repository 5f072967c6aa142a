// The whole role matrix, replayed against a real Orthanc with the plugin:
// for every rule of the table (Plugin/auth/matrix.c, read through the
// rr_role_matrix tool) and every identity — each role, no token, an expired
// token, the token of a disabled user — the filter must allow or refuse as
// the table says. State-changing methods are only sent where the table
// refuses them (a refusal happens before anything runs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startOrthanc, pluginPath } from '../lib/orthanc.mjs';

const TOOL = process.env.RR_ROLE_MATRIX || path.join(path.dirname(pluginPath), 'rr_role_matrix');
const ROLES = { admin: 1, radiologist: 2, technician: 4, physician: 8, anonymous: 16 };
const METHODS = { GET: 1, POST: 2, PUT: 4, DELETE: 8 };
const STUDY_IMAGES = 1;
const PASSWORD = 'Matrix-Test-Password-1';

let orthanc;
let rules;
const tokens = {};

const expand = (pattern) => pattern.replace('{api}', '/api/').replace('{web}', '/reading-room/');
const instantiate = (pattern) => expand(pattern).replace(/\{id\}/g, '0000aaaa').replace(/\*$/, 'x');

/** Does a rule's template match a concrete path? {id}: one segment; trailing *: the rest. */
function matches(pattern, p) {
  const t = expand(pattern).split('/').filter(Boolean);
  const s = p.split('/').filter(Boolean);
  for (let i = 0; i < t.length; i++) {
    if (t[i] === '*' && i === t.length - 1) return true;
    if (i >= s.length) return false;
    if (t[i] === '{id}') continue;
    if (t[i] !== s[i]) return false;
  }
  return t.length === s.length;
}

function expected(method, p, role) {
  const rule = rules.find((r) => (r.methods & METHODS[method]) && matches(r.pattern, p));
  if (!rule || !(rule.roles & ROLES[role])) return false;
  if (role === 'physician' && (rule.flags & STUDY_IMAGES)) return false; // no finalized reports yet
  return true;
}

const b64url = (b) => Buffer.from(b).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

before(async () => {
  rules = JSON.parse(execFileSync(TOOL, ['--json'], { encoding: 'utf8' }));
  assert.ok(rules.length > 200, `${rules.length} rules`);
  orthanc = await startOrthanc();
  tokens.admin = orthanc.adminToken;
  for (const role of ['radiologist', 'technician', 'physician']) {
    await orthanc.createUser({ username: `m-${role}`, password: PASSWORD, role });
    tokens[role] = (await orthanc.login(`m-${role}`, PASSWORD)).token;
  }
  await orthanc.createUser({ username: 'm-disabled', password: PASSWORD, role: 'radiologist' });
  tokens.disabled = (await orthanc.login('m-disabled', PASSWORD)).token;
  assert.equal((await orthanc.api('/api/users/m-disabled', { method: 'PUT', body: { enabled: false } })).status, 200);
  const secret = Buffer.from(fs.readFileSync(path.join(orthanc.dir, 'storage', 'reading-room-jwt.key'), 'utf8').trim(), 'hex');
  const now = Math.floor(Date.now() / 1000);
  const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const p = b64url(JSON.stringify({ iss: 'orthanc-reading-room', aud: 'reading-room', sub: 'admin', role: 'admin',
    iat: now - 7200, nbf: now - 7200, exp: now - 3600, jti: 'e'.repeat(32) }));
  tokens.expired = `${h}.${p}.${b64url(crypto.createHmac('sha256', secret).update(`${h}.${p}`).digest())}`;
});
after(async () => { await orthanc?.stop(); });

test('every rule, every role: the filter decides as the table says', async () => {
  const failures = [];
  let requests = 0;
  for (const rule of rules) {
    const p = instantiate(rule.pattern);
    for (const [method, bit] of Object.entries(METHODS)) {
      if (!(rule.methods & bit)) continue;
      for (const role of Object.keys(ROLES)) {
        const allow = expected(method, p, role);
        if (method !== 'GET' && allow) continue; // never run a state change for real
        const headers = role === 'anonymous' ? {} : { Authorization: `Bearer ${tokens[role]}` };
        const r = await orthanc.api(p, { method, headers, auth: false, body: method === 'GET' ? undefined : '' });
        requests++;
        const ok = allow ? r.status !== 403 : r.status === 403;
        if (!ok) failures.push(`${role} ${method} ${p}: HTTP ${r.status}, table says ${allow ? 'allow' : 'refuse'}`);
      }
    }
  }
  assert.deepEqual(failures.slice(0, 30), [], `${failures.length} mismatches of ${requests} requests`);
  assert.ok(requests > 500, `${requests} requests`);
});

test('an expired token and a disabled user are refused on every rule', async () => {
  const failures = [];
  for (const rule of rules) {
    if (!(rule.methods & METHODS.GET)) continue;
    const p = instantiate(rule.pattern);
    for (const who of ['expired', 'disabled']) {
      const r = await orthanc.api(p, { headers: { Authorization: `Bearer ${tokens[who]}` }, auth: false });
      if (r.status !== 403) failures.push(`${who} GET ${p}: HTTP ${r.status}`);
    }
  }
  assert.deepEqual(failures.slice(0, 30), []);
  assert.equal((await orthanc.api('/system')).status, 200, 'Orthanc is still up');
});

test('report routes: each role as the table says, on a report that does not exist (nothing changes)', async () => {
  // a state change is safe here: the report does not exist, so an allowed request answers 404
  const routes = [
    ['GET', '/api/reports'], ['GET', '/api/reports/999999'], ['GET', '/api/reports/999999/pdf'],
    ['GET', '/api/reports/999999/fhir'], ['PUT', '/api/reports/999999/draft'], ['POST', '/api/reports/999999/sign'],
    ['POST', '/api/reports/999999/addenda'], ['POST', '/api/reports/999999/corrections'],
    ['POST', '/api/reports/999999/cancel'], ['POST', '/api/reports/999999/entered-in-error'],
    ['POST', '/api/reports/999999/acknowledge'], ['GET', '/api/reports/macros'], ['DELETE', '/api/reports/macros/none'],
    ['GET', '/api/admin/reports/turnaround'], ['GET', '/api/dicom/studies/1.2.999/reports'],
  ];
  const failures = [];
  for (const [method, p] of routes) {
    for (const role of Object.keys(ROLES)) {
      const allow = expected(method, p, role);
      const headers = role === 'anonymous' ? {} : { Authorization: `Bearer ${tokens[role]}` };
      const r = await orthanc.api(p, { method, headers, auth: false, body: method === 'GET' || method === 'DELETE' ? undefined : {} });
      const ok = allow ? r.status !== 403 && r.status < 500 : r.status === 403;
      if (!ok) failures.push(`${role} ${method} ${p}: HTTP ${r.status}, table says ${allow ? 'allow' : 'refuse'}`);
      if (allow && method !== 'GET' && ![400, 404, 412].includes(r.status)) failures.push(`${role} ${method} ${p}: changed something? HTTP ${r.status}`);
    }
  }
  assert.deepEqual(failures, []);
  // the rules the reports need exist, before the general ones
  for (const pattern of ['{api}reports/{id}/acknowledge', '{api}reports/{id}/entered-in-error', '{api}reports/macros/*',
    '{api}dicom/studies/{id}/reports']) {
    const i = rules.findIndex((r) => r.pattern === pattern);
    assert.ok(i >= 0 && i < rules.findIndex((r) => r.pattern === '{api}reports/*'), pattern);
  }
});
