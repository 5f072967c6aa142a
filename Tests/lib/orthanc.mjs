// Shared test harness: starts throw-away Orthanc instances (optionally with the
// Reading Room plugin), talks to their REST API and sends DICOM with DCMTK.
//
// Only Node built-ins are used. Every Orthanc started here is SIGKILLed when the
// test process exits (and, should the test process itself be killed, by a tiny
// watchdog shell loop); temp dirs are removed at exit unless KEEP_TEST_DIRS=1.
//
// Environment: READING_ROOM_PLUGIN (default <repo>/build/libOrthancReadingRoom.so),
// READING_ROOM_TEST_DATA (default <repo>/../shared/dicom), ORTHANC_BINARY, KEEP_TEST_DIRS=1.
// Integration suites: node --test --test-concurrency=1 Tests/integration/

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const repoRoot = path.resolve(here, '..', '..');
export const testData = path.resolve(process.env.READING_ROOM_TEST_DATA || path.resolve(repoRoot, '../shared/dicom'));
export const pluginPath = path.resolve(process.env.READING_ROOM_PLUGIN || path.join(repoRoot, 'build', 'libOrthancReadingRoom.so'));
export const orthancBinary = process.env.ORTHANC_BINARY || '/usr/sbin/Orthanc';
export const gdcmPluginPath = process.env.ORTHANC_GDCM_PLUGIN || '/usr/share/orthanc/plugins/libOrthancGdcm.so';
export const AET = 'READINGROOM';
/** Password of the first administrator ('admin') of every test Orthanc. */
export const ADMIN_PASSWORD = process.env.READING_ROOM_TEST_ADMIN_PASSWORD || 'Test-Admin-Password-2026';

const START_TIMEOUT_MS = Number(process.env.READING_ROOM_TEST_START_TIMEOUT_MS || 30000);
const STOP_GRACE_MS = Number(process.env.READING_ROOM_TEST_STOP_GRACE_MS || 20000);
const keepDirs = process.env.KEEP_TEST_DIRS === '1';

/** true when the plugin shared object has been built */
export function pluginAvailable() {
  return fs.existsSync(pluginPath);
}

// ---------------------------------------------------------------------------
// process-exit cleanup

const liveChildren = new Set(); // ChildProcess objects of running Orthancs
const createdDirs = new Set(); // temp dirs created by startOrthanc()

function cleanupSync() {
  for (const child of liveChildren) {
    try { process.kill(child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  liveChildren.clear();
  if (!keepDirs) {
    for (const dir of createdDirs) {
      try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch { /* ignore */ }
    }
  } else if (createdDirs.size) {
    process.stderr.write(`KEEP_TEST_DIRS=1: kept ${[...createdDirs].join(' ')}\n`);
  }
  createdDirs.clear();
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanupSync();
    process.exit(128 + (os.constants.signals[sig] || 1));
  });
}

// ---------------------------------------------------------------------------
// small utilities

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves with fn()'s truthy value; throws a descriptive error at timeout. */
export async function waitFor(fn, timeoutMs = 10000, intervalMs = 100, what = '') {
  const t0 = Date.now();
  let lastErr = null;
  let lastVal;
  for (;;) {
    try {
      lastVal = await fn();
      if (lastVal) return lastVal;
      lastErr = null;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() - t0 >= timeoutMs) {
      const label = what || (fn.name ? fn.name : fn.toString().slice(0, 200));
      const detail = lastErr ? `; last error: ${lastErr.stack || lastErr}` : `; last value: ${JSON.stringify(lastVal)?.slice(0, 500)}`;
      throw new Error(`waitFor timed out after ${timeoutMs} ms waiting for ${label}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** A free loopback TCP port (bind port 0, read it, close). */
/**
 * fetch() for an idempotent request (GET) to Orthanc, sent again (up to 3 times) when the connection
 * fails without an answer: Node's fetch reuses keep-alive sockets, and one that Orthanc closes as idle at
 * the moment a request is written fails with "terminated" / "other side closed" (seen once in make test).
 */
export async function fetchIdempotent(url, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, opts);
      return { res, body: Buffer.from(await res.arrayBuffer()) };
    } catch (e) {
      if (attempt >= 3 || !(e instanceof TypeError)) throw e;
      await sleep(50);
    }
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function twoFreePorts() {
  for (;;) {
    const a = await freePort();
    const b = await freePort();
    if (a !== b) return [a, b];
  }
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Raw HTTP request with a fresh connection per request (no keep-alive pool,
 *  so restarting Orthanc on the same port never hits a stale socket).
 *  https URLs (an Orthanc started with SslEnabled) are checked against `ca` (PEM) when given; without it the
 *  test certificate is accepted as is (loopback only).
 */
export function httpRequest(url, { method = 'GET', body, headers = {}, timeoutMs = 120000, ca } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const hdrs = { ...headers };
    let payload = null;
    if (body !== undefined && body !== null) {
      if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
        payload = Buffer.from(body);
        if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['Content-Type'] = 'application/octet-stream';
      } else if (typeof body === 'string') {
        payload = Buffer.from(body, 'utf8');
      } else {
        payload = Buffer.from(JSON.stringify(body), 'utf8');
        if (!Object.keys(hdrs).some((k) => k.toLowerCase() === 'content-type')) hdrs['Content-Type'] = 'application/json';
      }
      hdrs['Content-Length'] = payload.length;
    } else if (method !== 'GET' && method !== 'HEAD') {
      hdrs['Content-Length'] = 0;
    }
    const tls = u.protocol === 'https:';
    const req = (tls ? https : http).request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: hdrs, agent: false,
      ...(tls ? (ca ? { ca, servername: 'localhost' } : { rejectUnauthorized: false }) : {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP ${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

function execFileP(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, encoding: opts.encoding ?? 'utf8', ...opts }, (err, stdout, stderr) => {
      if (err) {
        err.stdout = stdout;
        err.stderr = stderr;
        err.message = `${cmd} ${args.slice(0, 12).join(' ')}${args.length > 12 ? ' ...' : ''} failed (${err.code ?? err.signal}): ${stderr || err.message}`;
        reject(err);
      } else resolve({ stdout, stderr });
    });
  });
}
export { execFileP as execFile };

// ---------------------------------------------------------------------------
// Orthanc instances

function tailLines(text, n = 80) {
  const lines = text.split('\n');
  return lines.slice(Math.max(0, lines.length - n)).join('\n');
}

function startWatchdog(orthancPid) {
  // Kills Orthanc if the test process disappears without running its exit hooks.
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${orthancPid} 2>/dev/null; do sleep 1; done; ` +
    `kill -0 ${process.pid} 2>/dev/null || kill -9 ${orthancPid} 2>/dev/null; exit 0`;
  try {
    const w = spawn('/bin/sh', ['-c', script], { stdio: 'ignore', detached: true });
    w.on('error', () => {});
    w.unref();
  } catch { /* best effort */ }
}

class OrthancInstance {
  constructor(dir, httpPort, dicomPort, opts) {
    this.dir = dir;
    this.httpPort = httpPort;
    this.dicomPort = dicomPort;
    this.aet = AET;
    // Orthanc started with "SslEnabled" (opts.config) serves HTTPS only
    this.baseUrl = `${opts.config?.SslEnabled ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
    this.configPath = path.join(dir, 'orthanc.json');
    this.logPath = path.join(dir, 'orthanc.log');
    this.opts = opts; // { plugin, readingRoom, config }
    this.child = null;
    this.exitPromise = null;
    this.exitInfo = null;
    this.runLogOffset = 0;
    this.adminPassword = ADMIN_PASSWORD;
    this.adminToken = null;
  }

  /** Whether this run has the plugin's access control in front of every route. */
  get accessControl() {
    const rr = this.opts.readingRoom || {};
    return !!this.opts.plugin && rr.Enable !== false && rr.Auth?.Enable !== false;
  }

  get running() { return !!this.child && !this.exitInfo; }
  get pid() { return this.child?.pid; }

  /** Whole log file (all runs on this dir). */
  log() {
    try { return fs.readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  /** Log of the current (or last) run only. */
  runLog() {
    try {
      const buf = fs.readFileSync(this.logPath);
      return buf.subarray(Math.min(this.runLogOffset, buf.length)).toString('utf8');
    } catch { return ''; }
  }

  writeConfig() {
    const { plugin, readingRoom, config } = this.opts;
    const plugins = [];
    if (plugin) plugins.push(pluginPath);
    if (fs.existsSync(gdcmPluginPath)) plugins.push(gdcmPluginPath);
    const storage = path.join(this.dir, 'storage');
    const cfg = {
      Name: `ReadingRoomTest-${this.httpPort}`,
      StorageDirectory: storage,
      IndexDirectory: storage,
      HttpPort: this.httpPort,
      DicomPort: this.dicomPort,
      DicomAet: AET,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: false,
      HttpDescribeErrors: true,
      DicomModalities: {},
      StableAge: 2,
      Plugins: plugins,
      ReadingRoom: { Enable: true, ...readingRoom },
      ...config,
    };
    fs.writeFileSync(this.configPath, JSON.stringify(cfg, null, 2));
    return cfg;
  }

  async launch() {
    if (this.running) throw new Error('Orthanc is already running');
    if (this.opts.plugin && !fs.existsSync(pluginPath)) {
      throw new Error(`Reading Room plugin not found at ${pluginPath} (build it with cmake -S . -B build && cmake --build build, or set READING_ROOM_PLUGIN)`);
    }
    this.writeConfig();
    try { this.runLogOffset = fs.statSync(this.logPath).size; } catch { this.runLogOffset = 0; }
    const fd = fs.openSync(this.logPath, 'a');
    fs.writeSync(fd, `\n===== harness: starting Orthanc ${new Date().toISOString()} plugin=${!!this.opts.plugin} =====\n`);
    let child;
    try {
      child = spawn(orthancBinary, ['--verbose', this.configPath], {
        // TCP_NODELAY=1: DCMTK (>= 3.6.2) leaves Nagle's algorithm on, and each C-STORE response
        // then waits ~40 ms for a delayed ACK (README, "Install on an Orthanc server"; 1,134 files took
        // 58 s instead of 11 s)
        cwd: this.dir, stdio: ['ignore', fd, fd], env: { TCP_NODELAY: '1', ...process.env, READING_ROOM_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
    } finally {
      fs.closeSync(fd);
    }
    this.child = child;
    this.exitInfo = null;
    this.adminToken = null;
    liveChildren.add(child);
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.once('error', (err) => {
        liveChildren.delete(child);
        this.exitInfo = { code: null, signal: null, error: err };
        resolve(this.exitInfo);
      });
    });
    child.unref();
    if (child.pid) startWatchdog(child.pid);

    const t0 = Date.now();
    const deadline = t0 + START_TIMEOUT_MS;
    let stage = 'GET /system';
    let lastProblem = '';
    while (Date.now() < deadline) {
      if (this.exitInfo) break;
      try {
        if (stage === 'GET /system') {
          const r = await httpRequest(`${this.baseUrl}/system`, { timeoutMs: 5000 });
          const wantHealth = this.opts.plugin && this.opts.readingRoom?.Enable !== false;
          // with access control, an anonymous /system is refused (403): Orthanc is up
          if (r.status === 200 || (r.status === 403 && this.accessControl)) {
            stage = this.accessControl ? 'login' : wantHealth ? 'GET /api/health' : 'done';
          } else lastProblem = `/system answered ${r.status}`;
        }
        if (stage === 'login') {
          const l = await this.login('admin', this.adminPassword);
          if (l.status === 200) {
            this.adminToken = l.token;
            this.keepAdminSession(l.json?.expiresInSeconds);
            stage = 'GET /api/health';
          } else lastProblem = `admin login answered ${l.status}: ${l.text.slice(0, 300)}`;
        }
        if (stage === 'GET /api/health') {
          const r = await httpRequest(`${this.baseUrl}/api/health`, { timeoutMs: 5000, headers: this.authHeaders() });
          if (r.status === 200) stage = 'done';
          else lastProblem = `/api/health answered ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`;
        }
        if (stage === 'done') {
          this.startedInMs = Date.now() - t0;
          return this;
        }
      } catch (e) {
        lastProblem = String(e.message || e);
      }
      await sleep(50);
    }
    const why = this.exitInfo
      ? `Orthanc exited early (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}${this.exitInfo.error ? ', ' + this.exitInfo.error.message : ''})`
      : `timed out after ${START_TIMEOUT_MS} ms waiting for ${stage} (${lastProblem})`;
    const logTail = tailLines(this.runLog());
    await this.kill9().catch(() => {});
    const err = new Error(`startOrthanc failed in ${this.dir}: ${why}\n----- orthanc.log (tail) -----\n${logTail}`);
    err.exitInfo = this.exitInfo;
    throw err;
  }

  /** SIGTERM, wait for exit; SIGKILL after 20 s. Resolves with {code, signal}. */
  async stop() {
    if (!this.running) return this.exitInfo;
    const child = this.child;
    child.ref(); // keep the event loop alive until the exit is seen
    try { child.kill('SIGTERM'); } catch { /* ignore */ }
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        try { child.kill('SIGKILL'); } catch { /* ignore */ }
        resolve();
      }, STOP_GRACE_MS);
    });
    await Promise.race([this.exitPromise, killed]);
    clearTimeout(timer);
    const info = await this.exitPromise;
    return info;
  }

  /** SIGKILL and wait for the process to be gone. */
  async kill9() {
    if (!this.running) return this.exitInfo;
    this.child.ref(); // keep the event loop alive until the exit is seen
    try { this.child.kill('SIGKILL'); } catch { /* ignore */ }
    return this.exitPromise;
  }

  /** Stop (if running), then start again on the same dir and ports.
   *  opts are merged over the options of the previous start. */
  async restart(opts = {}) {
    await this.stop();
    this.opts = {
      plugin: opts.plugin ?? this.opts.plugin,
      readingRoom: opts.readingRoom ?? this.opts.readingRoom,
      config: opts.config ?? this.opts.config,
    };
    // The ports are ours; wait briefly in case the kernel still holds them.
    await waitFor(async () => (await portIsFree(this.httpPort)) && (await portIsFree(this.dicomPort)), 10000, 100,
      `ports ${this.httpPort}/${this.dicomPort} to be released`);
    return this.launch();
  }

  /** REST call. body: object (sent as JSON), string or Buffer.
   *  Resolves with {status, headers, json, text} (json is null when not JSON). */
  /** Automatic log-off (Auth.IdleTimeoutSeconds) ends the harness's own administrator session too: log in
   *  again each third of a token's life, so that test files running longer than the idle time keep working
   *  (a new login, not a refresh, so tokens copied earlier stay valid for their own life). */
  keepAdminSession(expiresInSeconds) {
    clearTimeout(this.adminTimer);
    if (!(expiresInSeconds > 0) || !this.running) return;
    this.adminTimer = setTimeout(async () => {
      if (!this.running || !this.adminToken) return;
      try {
        const l = await this.login('admin', this.adminPassword);
        if (l.status === 200) {
          this.adminToken = l.token;
          this.keepAdminSession(l.json?.expiresInSeconds);
          return;
        }
      } catch { /* Orthanc restarting or stopped */ }
      this.keepAdminSession(expiresInSeconds);
    }, Math.max(500, (expiresInSeconds * 1000) / 3));
    this.adminTimer.unref?.();
  }

  /** Authorization header of the administrator's session ({} without access control). */
  authHeaders() {
    return this.adminToken ? { Authorization: `Bearer ${this.adminToken}` } : {};
  }

  /** POST /api/auth/login. Resolves with {status, token, csrfToken, user, cookies, json, text}. */
  async login(username, password) {
    const r = await httpRequest(`${this.baseUrl}/api/auth/login`, { method: 'POST', body: { username, password } });
    const text = r.body.toString('utf8');
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    const cookies = [].concat(r.headers['set-cookie'] || []);
    return { status: r.status, token: json?.token, csrfToken: json?.csrfToken, user: json?.user, cookies, json, text };
  }

  /** Log in and return the session as Playwright cookies (for context.addCookies). */
  async browserCookies(username = 'admin', password = this.adminPassword) {
    const l = await this.login(username, password);
    if (l.status !== 200) throw new Error(`login ${username}: HTTP ${l.status} ${l.text}`);
    return [
      { name: 'rr_session', value: l.token, url: this.baseUrl, httpOnly: true, sameSite: 'Strict' },
      { name: 'rr_csrf', value: l.csrfToken, url: this.baseUrl, sameSite: 'Strict' },
    ];
  }

  /** Create a user as the administrator; resolves with the API's answer. */
  async createUser({ username, password, role, displayName }) {
    const r = await this.api('/api/users', { method: 'POST', body: { username, password, role, displayName } });
    if (r.status !== 201 && r.status !== 200) throw new Error(`create user ${username}: HTTP ${r.status} ${r.text}`);
    return r.json;
  }

  /** REST call, as the administrator unless `auth: false` or an Authorization header is given.
   *  body: object (sent as JSON), string or Buffer. Resolves with {status, headers, json, text}.
   *  Sent like the web app's requests (X-Requested-With: XMLHttpRequest, which the plugin never answers
   *  with an HTTP Basic challenge, so a refusal stays the filter's 403) unless `webApp: false`. */
  async api(p, { method = 'GET', body, headers = {}, timeoutMs, auth = true, webApp = true } = {}) {
    const url = p.startsWith('http') ? p : this.baseUrl + (p.startsWith('/') ? p : '/' + p);
    const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === 'authorization');
    const base = webApp ? { 'X-Requested-With': 'XMLHttpRequest' } : {};
    const all = auth && !hasAuth ? { ...base, ...this.authHeaders(), ...headers } : { ...base, ...headers };
    const r = await httpRequest(url, { method, body, headers: all, timeoutMs });
    const text = r.body.toString('utf8');
    let json = null;
    if (text.length) {
      try { json = JSON.parse(text); } catch { json = null; }
    }
    return { status: r.status, headers: r.headers, json, text };
  }

  /** GET p, assert 2xx, return parsed JSON. */
  async json(p, opts = {}) {
    const r = await this.api(p, opts);
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`${opts.method || 'GET'} ${p} -> HTTP ${r.status}: ${r.text.slice(0, 1000)}`);
    }
    return r.json;
  }
}

/**
 * Start an Orthanc on free loopback ports.
 * @param {{plugin?: boolean, readingRoom?: object, config?: object, dir?: string}} opts
 */
export async function startOrthanc({ plugin = true, readingRoom = {}, config = {}, dir } = {}) {
  let workDir = dir;
  if (!workDir) {
    workDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'readingroom-test-'));
    createdDirs.add(workDir);
  } else {
    await fsp.mkdir(workDir, { recursive: true });
  }
  // Reusing a dir: reuse its ports too when it has a config and they are free.
  let ports = null;
  if (dir) {
    try {
      const old = JSON.parse(fs.readFileSync(path.join(workDir, 'orthanc.json'), 'utf8'));
      if (old.HttpPort && old.DicomPort && (await portIsFree(old.HttpPort)) && (await portIsFree(old.DicomPort))) {
        ports = [old.HttpPort, old.DicomPort];
      }
    } catch { /* no previous config */ }
  }
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (!ports || attempt > 0) ports = await twoFreePorts();
    const inst = new OrthancInstance(workDir, ports[0], ports[1], { plugin, readingRoom, config });
    try {
      return await inst.launch();
    } catch (e) {
      lastErr = e;
      // retry only when it looks like a port race
      if (!/address already in use|cannot bind|bind|EADDRINUSE/i.test(e.message)) throw e;
    }
  }
  throw lastErr;
}

// ---------------------------------------------------------------------------
// DICOM helpers

/**
 * C-STORE files to the instance with DCMTK storescu. Directories are expanded
 * (recursively, all regular files). Rejects on non-zero exit with stderr.
 */
export async function storescu(instance, files, { aet = 'STORESCU', chunk = 400, extraArgs = [], onSpawn } = {}) {
  const list = [];
  for (const f of Array.isArray(files) ? files : [files]) {
    const st = await fsp.stat(f);
    if (st.isDirectory()) list.push(...(await listFiles(f)));
    else list.push(f);
  }
  if (!list.length) throw new Error('storescu: no files');
  const results = [];
  for (let i = 0; i < list.length; i += chunk) {
    const part = list.slice(i, i + chunk);
    const args = ['-aet', aet, '-aec', instance.aet || AET, ...extraArgs, '127.0.0.1', String(instance.dicomPort), ...part];
    results.push(await new Promise((resolve, reject) => {
      const child = spawn('storescu', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (code === 0) resolve({ stdout: out, stderr: err, files: part.length });
        else {
          const e = new Error(`storescu exited with ${code ?? signal} (files ${i}..${i + part.length - 1} of ${list.length}): ${err || out}`);
          e.code = code;
          e.stderr = err;
          reject(e);
        }
      });
      if (onSpawn) onSpawn(child);
    }));
  }
  return results;
}

/** POST the raw bytes of a file to /instances. Resolves with {status, json, text}. */
export async function uploadFile(instance, file) {
  const data = await fsp.readFile(file);
  const r = await instance.api('/instances', { method: 'POST', body: data, headers: { 'Content-Type': 'application/dicom' } });
  return { status: r.status, json: r.json, text: r.text };
}

/** All regular files below dir (recursive), sorted. */
export async function listFiles(dir, { recursive = true, filter } = {}) {
  const out = [];
  async function walk(d) {
    const entries = await fsp.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { if (recursive) await walk(p); } else if (e.isFile()) {
        if (!filter || filter(p)) out.push(p);
      }
    }
  }
  await walk(dir);
  return out;
}

/** .dcm files of a test-data folder (e.g. 'ct_abdomen_pancreas_134'), sorted by name. */
export async function dicomFilesOf(folder) {
  return listFiles(path.isAbsolute(folder) ? folder : path.join(testData, folder), {
    recursive: false, filter: (p) => p.toLowerCase().endsWith('.dcm'),
  });
}

/**
 * Read top-level tags with dcmdump. tags: ['0010,0010', 'StudyInstanceUID', ...].
 * Returns {tag: string|null} with the raw value (backslash-separated for VM>1),
 * keyed by the requested spelling. Values are converted to UTF-8 when utf8=true.
 */
export async function dcmdumpTags(file, tags, { utf8 = false } = {}) {
  const args = ['-q', '+L', '-Un'];
  if (utf8) args.push('+U8');
  for (const t of tags) args.push('+P', t);
  args.push(file);
  const { stdout } = await execFileP('dcmdump', args, { encoding: 'buffer' });
  const text = stdout.toString(utf8 ? 'utf8' : 'latin1');
  const found = new Map(); // "gggg,eeee" and keyword -> value
  for (const line of text.split('\n')) {
    const m = /^\(([0-9a-fA-F]{4}),([0-9a-fA-F]{4})\) (\w\w) (.*?)\s+#\s*\d+,\s*\S+\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const key = `${m[1]},${m[2]}`.toLowerCase();
    let v = m[4];
    if (v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    else if (v.startsWith('(no value')) v = '';
    if (!found.has(key)) found.set(key, v);
    if (!found.has(m[5])) found.set(m[5], v);
  }
  const res = {};
  for (const t of tags) {
    const k = /^[0-9a-fA-F]{4},[0-9a-fA-F]{4}$/.test(t) ? t.toLowerCase() : t;
    res[t] = found.has(k) ? found.get(k) : null;
  }
  return res;
}

/** Orthanc's own view: {StudyInstanceUID: {orthancId, instances: Set(SOPInstanceUID)}}. */
export async function orthancStudies(instance) {
  const studies = await instance.json('/studies?expand');
  const res = {};
  for (const s of studies) {
    const uid = s.MainDicomTags.StudyInstanceUID;
    const inst = await instance.json(`/studies/${s.ID}/instances`);
    res[uid] = {
      orthancId: s.ID,
      patientName: s.PatientMainDicomTags?.PatientName,
      instances: new Set(inst.map((i) => i.MainDicomTags.SOPInstanceUID)),
      seriesCount: s.Series.length,
    };
  }
  return res;
}

/** All studies of the worklist (pages through /api/dicom/studies). */
export async function worklistAll(instance, query = '') {
  const all = [];
  let total = null;
  for (let offset = 0; ; offset += 500) {
    const sep = query ? `&${query.replace(/^[?&]/, '')}` : '';
    const page = await instance.json(`/api/dicom/studies?limit=500&offset=${offset}${sep}`);
    all.push(...page.data);
    total = page.total;
    if (page.data.length < 500 || all.length >= total) break;
  }
  return all;
}

/**
 * Wait until the plugin's ingest loop is idle: backlog 0, not reconciling, and
 * it has seen Orthanc's latest change (GET /changes?last). Returns the ingest object.
 */
export async function waitIngestIdle(instance, timeoutMs = 30000) {
  let prev = null;
  return waitFor(async () => {
    const last = (await instance.json('/changes?last')).Last;
    const ing = await instance.json('/api/admin/ingest');
    const idle = ing.backlog === 0 && ing.reconciling === false && ing.lastSeq >= last && ing.cursor >= last;
    const stable = idle && prev && prev.cursor === ing.cursor && prev.lastSeq === ing.lastSeq;
    prev = idle ? ing : null;
    return stable ? ing : false;
  }, timeoutMs, 150, 'ingest to become idle (backlog 0, not reconciling, cursor >= Orthanc /changes Last)');
}

/** Orthanc's own study id for a StudyInstanceUID (or null). */
export async function orthancStudyId(instance, studyUid) {
  const r = await instance.api('/tools/lookup', { method: 'POST', body: studyUid, headers: { 'Content-Type': 'text/plain' } });
  if (r.status !== 200 || !Array.isArray(r.json)) return null;
  const hit = r.json.find((x) => x.Type === 'Study');
  return hit ? hit.ID : null;
}

/** Hold an exclusive write transaction on the database until release() is called. */
export async function lockDatabase(file) {
  const child = spawn('sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stdin.write("PRAGMA busy_timeout=10000;\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  await waitFor(async () => out.includes('locked'), 10_000, 20, 'sqlite3 to take the write lock');
  return {
    release: () => new Promise((resolve) => {
      child.on('close', resolve);
      child.stdin.end('COMMIT;\n.quit\n');
    }),
  };
}
