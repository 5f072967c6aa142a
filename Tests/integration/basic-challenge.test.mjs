// Issue 14: HTTP Basic clients that send credentials only after a 401 with
// `WWW-Authenticate: Basic` (Python httplib2, .NET HttpClient, Java's
// Authenticator, curl --anyauth), against a real Orthanc 1.10.1 with the
// plugin: the plugin's own routes challenge; the web app's requests never do
// (a challenge makes browsers show their own login dialog); wrong passwords
// are challenged again and audited; an administrator gets Orthanc's own 404
// for a route that does not exist. Orthanc's own routes cannot challenge on
// 1.10.1 (the filter can only answer 403): asserted here as the documented
// limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startOrthanc, waitFor, ADMIN_PASSWORD } from '../lib/orthanc.mjs';

const PASSWORD = 'Correct-Horse-Battery-9';
let orthanc;

const run = (cmd, args, input) => new Promise((resolve) => {
  const child = execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  if (input !== undefined) child.stdin.end(input);
});

// Debian's python3-httplib2: the client Orthanc's own integration suite uses
const HTTPLIB2 = `
import json, sys, httplib2
url, user, password = sys.argv[1:4]
h = httplib2.Http()
h.follow_redirects = False
if user:
    h.add_credentials(user, password)
resp, body = h.request(url, 'GET')
print(json.dumps({'status': resp.status, 'challenge': resp.get('www-authenticate'), 'body': body.decode('utf-8', 'replace')}))
`;
async function httplib2(p, user = 'admin', password = ADMIN_PASSWORD) {
  const r = await run('/usr/bin/python3', ['-c', HTTPLIB2, orthanc.baseUrl + p, user, password]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function refusedAudits() {
  await waitFor(async () => (await orthanc.json('/api/health')).audit.queued === 0, 10_000);
  return (await orthanc.json('/api/audit?action=auth.refused&limit=1000')).data;
}

before(async () => {
  orthanc = await startOrthanc();
  await orthanc.createUser({ username: 'rad', password: PASSWORD, role: 'radiologist', displayName: 'Dr Rad' });
});
after(async () => { await orthanc?.stop(); });

test('a plugin route answers a request without credentials with 401 and a Basic challenge', async () => {
  const r = await orthanc.api('/api/dicom/studies', { auth: false, webApp: false });
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Basic realm="Orthanc Reading Room"');
  assert.equal(r.text, '', 'nothing of the route is sent');
  // every route under the API root, the unknown ones included
  for (const p of ['/api/health', '/api/users', '/api/auth/me', '/api/ai/status', '/api/nothing/here']) {
    const x = await orthanc.api(p, { auth: false, webApp: false });
    assert.equal(x.status, 401, p);
    assert.match(x.headers['www-authenticate'] ?? '', /^Basic realm=/, p);
  }
  // the public ones stay public
  const login = await orthanc.api('/api/auth/login', { method: 'POST', auth: false, webApp: false,
    body: { username: 'admin', password: ADMIN_PASSWORD } });
  assert.equal(login.status, 200);
});

test('curl --anyauth -u sends its credentials after the challenge and succeeds', async () => {
  const r = await run('curl', ['-sS', '--anyauth', '-u', `admin:${ADMIN_PASSWORD}`, '-o', '-', '-w', '\n%{http_code}',
    `${orthanc.baseUrl}/api/dicom/studies`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '200');
  assert.ok(Array.isArray(JSON.parse(lines.slice(0, -1).join('\n')).data));
  const me = await run('curl', ['-sS', '--anyauth', '-u', `rad:${PASSWORD}`, `${orthanc.baseUrl}/api/auth/me`]);
  assert.equal(JSON.parse(me.stdout).user.username, 'rad');
});

test('python3-httplib2 with add_credentials succeeds on the plugin routes', async () => {
  const studies = await httplib2('/api/dicom/studies');
  assert.equal(studies.status, 200, studies.body);
  assert.ok(Array.isArray(JSON.parse(studies.body).data));
  const health = await httplib2('/api/health', 'rad', PASSWORD);
  assert.equal(health.status, 200, health.body);
  // the role matrix still decides: a radiologist is refused the users' list (403, no challenge)
  const users = await httplib2('/api/users', 'rad', PASSWORD);
  assert.equal(users.status, 403);
  // Orthanc's own routes cannot challenge on Orthanc 1.10.1: httplib2 never sends its credentials there
  const system = await httplib2('/system');
  assert.equal(system.status, 403);
});

test('requests from the web app are never challenged', async () => {
  // its fetches (X-Requested-With), and a browser holding its cookies even after the session ended
  const fetchLike = await orthanc.api('/api/dicom/studies', { auth: false });
  assert.equal(fetchLike.status, 403);
  assert.equal(fetchLike.headers['www-authenticate'], undefined);
  const stale = await orthanc.api('/api/dicom/instances/0a/frames/0/png', { auth: false, webApp: false,
    headers: { Cookie: 'rr_session=stale.token.here; rr_csrf=abc' } });
  assert.equal(stale.status, 403);
  assert.equal(stale.headers['www-authenticate'], undefined);
  // any page's fetch, XHR or image (browsers send Sec-Fetch-Mode): 403, no dialog
  for (const mode of ['cors', 'no-cors', 'same-origin']) {
    const page = await orthanc.api('/api/dicom/studies', { auth: false, webApp: false, headers: { 'Sec-Fetch-Mode': mode } });
    assert.equal(page.status, 403, mode);
    assert.equal(page.headers['www-authenticate'], undefined, mode);
  }
  // typed into the address bar: the browser may ask for credentials
  const nav = await orthanc.api('/api/dicom/studies', { auth: false, webApp: false, headers: { 'Sec-Fetch-Mode': 'navigate' } });
  assert.equal(nav.status, 401);
  const wrong = await orthanc.api('/api/dicom/studies', { headers: {
    Authorization: `Basic ${Buffer.from('admin:not-the-password').toString('base64')}` } });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.headers['www-authenticate'], undefined);
});

test('a wrong password is challenged again and audited like any refused credentials', async () => {
  const before = (await refusedAudits()).length;
  const r = await orthanc.api('/api/dicom/studies', { webApp: false, headers: {
    Authorization: `Basic ${Buffer.from('rad:not-the-password').toString('base64')}` } });
  assert.equal(r.status, 401);
  assert.equal(r.headers['www-authenticate'], 'Basic realm="Orthanc Reading Room"');
  const c = await run('curl', ['-sS', '--anyauth', '-u', 'rad:still-not-it', '-o', '/dev/null', '-w', '%{http_code}',
    `${orthanc.baseUrl}/api/dicom/studies`]);
  assert.equal(c.stdout, '401');
  const h = await httplib2('/api/dicom/studies', 'rad', 'wrong-again');
  assert.equal(h.status, 401);
  const after = await refusedAudits();
  assert.ok(after.length >= before + 3, `${after.length - before} new auth.refused records`);
  const mine = after.filter((a) => a.resource === '/api/dicom/studies' && a.outcome === 'denied');
  assert.ok(mine.length >= 3);
  assert.ok(!JSON.stringify(after).includes('not-the-password'), 'no password in the audit trail');
  // the right password still works (3 failures are below the lock-out)
  assert.equal((await httplib2('/api/health', 'rad', PASSWORD)).status, 200);
});

test("an administrator gets Orthanc's own 404 for a route that does not exist; other roles are unchanged", async () => {
  const admin = await orthanc.api('/no-such-route/at-all');
  assert.equal(admin.status, 404);
  const adminPlugin = await orthanc.api('/api/no-such-route');
  assert.equal(adminPlugin.status, 404);
  const rad = await orthanc.api('/no-such-route/at-all', { headers: {
    Authorization: `Basic ${Buffer.from(`rad:${PASSWORD}`).toString('base64')}` } });
  assert.equal(rad.status, 403);
  const anon = await orthanc.api('/no-such-route/at-all', { auth: false });
  assert.equal(anon.status, 403);
  // a known route with a method no rule lists stays refused, administrators included
  const del = await orthanc.api('/api/audit/verify', { method: 'DELETE' });
  assert.equal(del.status, 403);
});
