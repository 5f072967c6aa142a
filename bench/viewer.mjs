// Viewer benchmark: this web app's viewer against OHIF v3 (the prebuilt @ohif/app, pinned below), same
// machine, same run, same Orthanc, same 134-slice CT, in Debian's headless chromium with software WebGL
// (Tests/lib/browser.mjs). One Orthanc runs our plugin and Debian's orthanc-dicomweb; each viewer is
// reached through a small server in this script on its own loopback origin:
//   ours: every request passed through to Orthanc (/reading-room/, /api/, /instances/.../file),
//         the session cookies of a login set on that origin;
//   OHIF: OHIF's dist/ served statically with a generated app-config.js pointing at /dicom-web/ on the
//         same origin, passed through to Orthanc. OHIF authenticates itself: it takes the session's
//         Bearer token from its own `?token=` URL parameter (userAuthenticationService) and sends it on
//         every DICOMweb request. Same origin, so no CORS (Orthanc cannot answer preflights).
// Both viewers therefore pay the same pass-through hop. Each measurement gets a fresh browser (and so a
// fresh context, empty HTTP cache and clean process memory), navigated once the browser's own start-up is
// over (browserSettled: a new window's preloaded WebUI otherwise shares the cores with the viewer's load);
// repetitions alternate the viewers.
// Measured in the page on the page's clock (performance.now(), 0 = navigation start), by listeners
// installed before any script of the page runs (capture phase on document, so the non-bubbling
// cornerstone events of both viewers are seen):
//   first image: the first CORNERSTONE_IMAGE_RENDERED whose viewport canvas is not blank (for ours that is
//     the first data-rr-renders increment);
//   series cached: ours: data-rr-cached == data-rr-total on the viewport when the web app sets them,
//     else (and for OHIF, and printed for both) when the last of the series' images has been received
//     (Resource Timing responseEnd of the image requests, one per instance);
//   navigation: ArrowDown (both viewers: next image) pressed STEPS times, each after the previous image
//     was drawn: keydown -> CORNERSTONE_IMAGE_RENDERED of the new image (CORNERSTONE_STACK_NEW_IMAGE);
//   scrolling: BURST key presses sent at KEY_HZ (a key held down with a fast auto-repeat) on the cached
//     series: renders per second (and images advanced per second) from the first keydown to the render
//     of the last image;
//   memory after loading: the page's JS heap (CDP Performance.getMetrics; web workers not included)
//     and the PSS of every chromium process of that browser (/proc/*/smaps_rollup).
// Nothing passes or fails: the figures and the issue's goals (met / not met) are printed.
// Env: READING_ROOM_PLUGIN, READING_ROOM_TEST_DATA (like the other benchmarks), VIEWER_REPS (default 5),
// ORTHANC_DICOMWEB_PLUGIN (default Debian's), OHIF_DIST (a dist/ folder to use instead of the pinned one),
// VIEWER_PART=volume (only the MPR/3D measurement of issue 11, below; VOLUME_TIMEOUT=<s> per measurement,
// default 300; VOLUME_CLICK=cached clicks once the series is cached in 2D; VIEWER_SHOTS=<dir> saves a
// screenshot of each layout once ready), VIEWER_HTTP_COMPRESSION=0|1 (Orthanc's HttpCompressionEnabled; default:
// the value orthanc.json.example ships, the recommended configuration), VIEWER_WINDOW=<w>x<h> (default 1440x900),
// VIEWER_CPU=cpu|gpu (ours' 2D stack viewports forced to cornerstone's CPU or WebGL pipeline through the web
// app's localStorage override rr.stackRendering; default: the app's own choice, printed),
// VIEWER_CPU=ab (only ours, CPU and WebGL pipelines alternating in the same run, VIEWER_REPS each; no OHIF),
// VIEWER_COMPOSITING=software|gpu (default software: the page composited in software and WebGL through
// SwiftShader, which is what Chrome does on a machine without a usable GPU; gpu: the page composited through
// SwiftShader too, which no Chrome does by itself: the configuration of the figures taken before 2026-12-06).
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dicomFilesOf, gdcmPluginPath, pluginPath, startOrthanc, storescu, waitFor, waitIngestIdle,
} from '../Tests/lib/orthanc.mjs';
import { median, percentile } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPS = Number(process.env.VIEWER_REPS || 5);
const STEPS = 30;
const BURST = 60;
const KEY_HZ = 60;
const [winW, winH] = (process.env.VIEWER_WINDOW || '1440x900').split('x').map(Number);
const WINDOW = { width: winW, height: winH };
const CT_FOLDER = 'ct_abdomen_pancreas_134';
const OHIF_VERSION = '3.13.2';
// the registry's dist.integrity of @ohif/app@3.13.2 (checked against the downloaded tarball)
const OHIF_INTEGRITY = 'sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==';
const DICOMWEB = process.env.ORTHANC_DICOMWEB_PLUGIN || '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
// Orthanc's HTTP compression as orthanc.json.example ships it, unless VIEWER_HTTP_COMPRESSION says otherwise
const SHIPPED_COMPRESSION = /"HttpCompressionEnabled"\s*:\s*true/.test(fs.readFileSync(path.join(here, '..', 'orthanc.json.example'), 'utf8'));
const HTTP_COMPRESSION = process.env.VIEWER_HTTP_COMPRESSION ? process.env.VIEWER_HTTP_COMPRESSION !== '0' : SHIPPED_COMPRESSION;
const COMPRESSION_LABEL = `Orthanc HTTP compression ${HTTP_COMPRESSION ? 'on' : 'off'} (${process.env.VIEWER_HTTP_COMPRESSION ? 'VIEWER_HTTP_COMPRESSION' : 'as orthanc.json.example'})`;
const VIEWER_CPU = process.env.VIEWER_CPU || '';
if (!['', 'cpu', 'gpu', 'ab'].includes(VIEWER_CPU)) skip(`VIEWER_CPU=${VIEWER_CPU}: cpu, gpu or ab`);
const COMPOSITING = process.env.VIEWER_COMPOSITING || 'software';
if (!['software', 'gpu'].includes(COMPOSITING)) skip(`VIEWER_COMPOSITING=${COMPOSITING}: software or gpu`);
const BROWSER_LABEL = `headless chromium (SwiftShader WebGL, page composited ${COMPOSITING === 'gpu' ? 'through SwiftShader (VIEWER_COMPOSITING=gpu)' : 'in software, as Chrome without a GPU'})`;
const launchBrowser = () => launchChromium({ webgl: true, gpuCompositing: COMPOSITING === 'gpu' });

function skip(why) {
  console.log(`viewer: skipped: ${why}`);
  process.exit(0);
}

// --- what the benchmark needs, installed when missing ------------------------------------------

if (!fs.existsSync(DICOMWEB)) {
  if (process.getuid?.() !== 0) skip(`needs Debian's orthanc-dicomweb (run as root, or: sudo apt-get install orthanc-dicomweb)`);
  console.log('viewer: installing orthanc-dicomweb');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'orthanc-dicomweb'], { stdio: 'inherit', env });
  if (r.status !== 0 || !fs.existsSync(DICOMWEB)) skip('apt-get install orthanc-dicomweb failed');
}

// Debian's chromium, and playwright-core of Tests/package.json (npm ci there when it is missing)
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!fs.existsSync(CHROMIUM)) {
  if (process.getuid?.() !== 0) skip(`needs Debian's chromium at ${CHROMIUM} (run as root, or: sudo apt-get install chromium)`);
  console.log('viewer: installing chromium');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0 || !fs.existsSync(CHROMIUM)) skip('apt-get install chromium failed');
}
const testsDir = path.join(here, '..', 'Tests');
if (!fs.existsSync(path.join(testsDir, 'node_modules', 'playwright-core'))) {
  console.log('viewer: npm ci in Tests/ (playwright-core)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: testsDir, stdio: 'inherit' });
  if (r.status !== 0) skip('npm ci in Tests/ failed');
}
const { launchChromium } = await import('../Tests/lib/browser.mjs');

/** OHIF's prebuilt dist/ folder: `npm pack @ohif/app@<pinned>` (npm's own client), the tarball checked
 *  against the pinned integrity, only package/dist extracted. @ohif/app's own dependency tree cannot be
 *  installed (it names @ohif/i18n 3.13.2, which the registry does not have), and the dist needs none of it. */
function ohifDist() {
  if (process.env.OHIF_DIST) return path.resolve(process.env.OHIF_DIST);
  const dir = path.join(here, 'ohif');
  const dist = path.join(dir, `dist-${OHIF_VERSION}`);
  if (fs.existsSync(path.join(dist, 'index.html'))) return dist;
  const tgz = path.join(dir, `ohif-app-${OHIF_VERSION}.tgz`);
  if (!fs.existsSync(tgz)) {
    console.log(`viewer: fetching @ohif/app@${OHIF_VERSION} (npm pack)`);
    const r = spawnSync('npm', ['pack', `@ohif/app@${OHIF_VERSION}`, '--silent'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0 || !fs.existsSync(tgz)) skip(`npm pack @ohif/app@${OHIF_VERSION} failed: ${(r.stderr || '').trim().slice(0, 300)}`);
  }
  const sum = 'sha512-' + crypto.createHash('sha512').update(fs.readFileSync(tgz)).digest('base64');
  if (sum !== OHIF_INTEGRITY) {
    fs.rmSync(tgz);
    skip(`${tgz}: integrity ${sum} is not the pinned ${OHIF_INTEGRITY}`);
  }
  const tmp = `${dist}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['xzf', tgz, '-C', tmp, '--strip-components=2', 'package/dist']);
  fs.renameSync(tmp, dist);
  return dist;
}
const DIST = ohifDist();

// --- Orthanc with both plugins, the CT uploaded ------------------------------------------------

const orthanc = await startOrthanc({
  config: {
    Plugins: [pluginPath, ...(fs.existsSync(gdcmPluginPath) ? [gdcmPluginPath] : []), DICOMWEB],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true },
    // Orthanc gzips answers on the fly when this is on (Orthanc's default; orthanc.json.example turns it off)
    HttpCompressionEnabled: HTTP_COMPRESSION,
  },
});
const files = await dicomFilesOf(CT_FOLDER);
await storescu(orthanc, files);
await waitIngestIdle(orthanc, 60_000);
const study = await waitFor(async () => {
  const l = await orthanc.json('/api/dicom/studies?modality=CT');
  const s = l.data.find((x) => x.instanceCount === files.length);
  return s ? orthanc.json(`/api/dicom/studies/${encodeURIComponent(s.studyInstanceUid)}`) : false;
}, 60_000, 200, `the ${files.length}-instance CT in the worklist`);
const series = study.series[0];
const TOTAL = series.instances.length;

// --- the two origins ---------------------------------------------------------------------------

const upstream = new http.Agent({ keepAlive: true });
function pass(req, res) {
  const p = http.request({
    host: '127.0.0.1', port: orthanc.httpPort, method: req.method, path: req.url, agent: upstream,
    headers: { ...req.headers, host: `127.0.0.1:${orthanc.httpPort}` },
  }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  p.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(p);
}
const listen = (handler) => new Promise((resolve) => {
  const s = http.createServer(handler);
  s.keepAliveTimeout = 60_000;
  s.listen(0, '127.0.0.1', () => resolve(s));
});

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.txt': 'text/plain',
  '.map': 'application/json', '.xml': 'application/xml', '.onnx': 'application/octet-stream',
};
let ohifOrigin = '';
/** OHIF's configuration: its default app-config's viewer settings, one DICOMweb source for this Orthanc
 *  (the settings of OHIF's own platform/app/public/config/local_orthanc.js). */
const appConfig = () => `window.config = ${JSON.stringify({
  routerBasename: '/',
  extensions: [],
  modes: [],
  customizationService: {},
  showStudyList: true,
  maxNumberOfWebWorkers: 3,
  showWarningMessageForCrossOrigin: false,
  showCPUFallbackMessage: false,
  showLoadingIndicator: true,
  strictZSpacingForVolumeViewport: true,
  maxNumRequests: { interaction: 100, thumbnail: 5, prefetch: 25 },
  // OHIF's whole-study prefetcher (off in its default config): on, so OHIF caches the series like ours does
  studyPrefetcher: { enabled: true, displaySetsCount: 2, maxNumPrefetchRequests: 10, order: 'closest' },
  defaultDataSourceName: 'orthanc',
  dataSources: [{
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
    sourceName: 'orthanc',
    configuration: {
      friendlyName: 'Orthanc (bench)', name: 'orthanc',
      wadoUriRoot: `${ohifOrigin}/wado`, qidoRoot: `${ohifOrigin}/dicom-web`, wadoRoot: `${ohifOrigin}/dicom-web`,
      qidoSupportsIncludeField: false, supportsReject: false, dicomUploadEnabled: false,
      imageRendering: 'wadors', thumbnailRendering: 'wadors', enableStudyLazyLoad: true,
      supportsFuzzyMatching: false, supportsWildcard: true, staticWado: false,
      bulkDataURI: { enabled: true }, omitQuotationForMultipartRequest: true,
    },
  }],
}, null, 1)};\n`;
const ohifServer = await listen((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname.startsWith('/dicom-web/') || u.pathname.startsWith('/wado')) return pass(req, res);
  if (u.pathname === '/app-config.js') {
    res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
    return res.end(appConfig());
  }
  let file = path.join(DIST, path.normalize(decodeURIComponent(u.pathname)).replace(/^([/\\])+/, ''));
  if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(DIST, 'index.html');
  res.writeHead(200, { 'content-type': MIME[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
ohifOrigin = `http://127.0.0.1:${ohifServer.address().port}`;
const oursServer = await listen(pass);
const oursOrigin = `http://127.0.0.1:${oursServer.address().port}`;

/** OHIF opened as by a returning user: its onboarding tour marked as seen and its "investigational use" banner
 *  hidden for the session (its own storage keys, as its "Skip all" and "Confirm and hide" buttons leave them),
 *  so that neither covers the page or delays a click after the first image. */
const OHIF_RETURNING_USER = () => {
  try {
    localStorage.setItem('shownTours', JSON.stringify(['basicViewerTour']));
    sessionStorage.setItem('investigationalUseDialog', 'hidden');
  } catch {
    /* not the viewer's origin */
  }
};

// --- one measurement ---------------------------------------------------------------------------

// Installed before any script of the page: records renders, new images, key presses, the prefetch
// attributes of our viewport, on the page's clock.
const INSTRUMENT = () => {
  const b = { first: null, renders: [], newImage: [], keys: [], attrCached: null, attrSeen: false };
  window.__bench = b;
  try { performance.setResourceTimingBufferSize(100000); } catch { /* older engines */ }
  const blank = (el) => {
    const c = el?.querySelector?.('canvas');
    if (!c || !c.width || !c.height) return true;
    const ctx = c.getContext('2d');
    if (!ctx) return false; // not a 2D canvas: trust the event
    const w = Math.min(64, c.width), h = Math.min(64, c.height);
    const d = ctx.getImageData((c.width - w) >> 1, (c.height - h) >> 1, w, h).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] | d[i + 1] | d[i + 2]) return false;
    return true;
  };
  document.addEventListener('CORNERSTONE_IMAGE_RENDERED', (e) => {
    const t = performance.now();
    b.renders.push(t);
    if (b.first === null && !blank(e.target)) b.first = t;
  }, true);
  document.addEventListener('CORNERSTONE_STACK_NEW_IMAGE', (e) => b.newImage.push([performance.now(), e.detail?.imageIdIndex]), true);
  document.addEventListener('keydown', () => b.keys.push(performance.now()), true);
  new MutationObserver(() => {
    if (b.attrCached !== null) return;
    const v = document.querySelector('.viewer-viewport[data-rr-total]');
    if (!v) return;
    b.attrSeen = true;
    const total = Number(v.getAttribute('data-rr-total'));
    if (total > 0 && Number(v.getAttribute('data-rr-cached')) === total) b.attrCached = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-rr-cached', 'data-rr-total'] });
};

/** Time at which `total` distinct instances had their image received (Resource Timing), or null. */
const IMAGES_RECEIVED = ({ total, pattern }) => {
  const re = new RegExp(pattern);
  const first = new Map();
  for (const e of performance.getEntriesByType('resource')) {
    const m = re.exec(e.name);
    if (!m || !(e.responseEnd > 0)) continue;
    if (!first.has(m[1]) || first.get(m[1]) > e.responseEnd) first.set(m[1], e.responseEnd);
  }
  const ends = [...first.values()].sort((a, b) => a - b);
  const all = performance.getEntriesByType('resource');
  const nav = performance.getEntriesByType('navigation')[0];
  const bytes = all.reduce((sum, e) => sum + (e.transferSize || 0), nav?.transferSize || 0);
  return { count: ends.length, at: ends.length >= total ? ends[total - 1] : null, requests: all.length + 1, bytes };
};

/** The pids of the chromium processes below this Node process (the one browser running). */
function chromiumPids() {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const below = (pid) => {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) if (p === process.pid) return true;
    return false;
  };
  const pids = [];
  for (const pid of parent.keys()) {
    if (pid === process.pid || !below(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('chrom')) pids.push(pid);
    } catch { /* gone */ }
  }
  return pids;
}

/** PSS (or another smaps_rollup field, e.g. 'Rss') in MiB summed over every chromium process of the browser. */
function chromiumPssMiB(field = 'Pss') {
  let kib = 0;
  for (const pid of chromiumPids()) {
    try {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch { /* gone */ }
  }
  return kib / 1024;
}

/** CPU seconds (user + system) used so far by the browser's processes. */
function chromiumCpuSeconds() {
  let ticks = 0;
  for (const pid of chromiumPids()) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* gone */ }
  }
  return ticks / 100;
}

/**
 * Waits until the freshly launched browser has finished its own start-up (at most 10 s): its processes used
 * under 20 ms of CPU in the last 250 ms. A new Chromium window preloads its own pages (the omnibox popup's WebUI:
 * about 1.3 s of CPU in a trace) for about a second after launch; navigating at once made each viewer's load
 * share the 2 cores with that, which a radiologist's browser, already open when a study is opened, does not do.
 * Both viewers wait the same way. Returns the milliseconds waited.
 */
async function browserSettled() {
  const start = Date.now();
  let before = chromiumCpuSeconds();
  while (Date.now() - start < 10_000) {
    await new Promise((res) => setTimeout(res, 250));
    const now = chromiumCpuSeconds();
    if (now - before < 0.02) break;
    before = now;
  }
  return Date.now() - start;
}

const VIEWERS = {
  ours: {
    label: 'Reading Room',
    url: () => `${oursOrigin}/reading-room/#/studies/${encodeURIComponent(study.studyInstanceUid)}`,
    pattern: '/instances/([0-9a-f-]+)/(?:file|frames/)',
    viewport: '.viewer-viewport[data-rr-viewport]',
  },
  ohif: {
    label: `OHIF ${OHIF_VERSION}`,
    url: (token) => `${ohifOrigin}/viewer?StudyInstanceUIDs=${encodeURIComponent(study.studyInstanceUid)}&token=${encodeURIComponent(token)}`,
    pattern: '/instances/([0-9.]+)/frames/',
    viewport: '.cornerstone-viewport-element, [data-viewportid] canvas, canvas.cornerstone-canvas',
  },
};

async function measure(name, rendering = '') {
  const v = VIEWERS[name];
  const login = await orthanc.login('admin', orthanc.adminPassword);
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const browser = await launchBrowser();
  const errors = [];
  try {
    const context = await browser.newContext({ viewport: WINDOW, serviceWorkers: 'block' });
    if (name === 'ours') {
      await context.addCookies([
        { name: 'rr_session', value: login.token, url: oursOrigin, httpOnly: true, sameSite: 'Strict' },
        { name: 'rr_csrf', value: login.csrfToken, url: oursOrigin, sameSite: 'Strict' },
      ]);
    }
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e?.message ?? e)));
    if (name === 'ours' && rendering) await page.addInitScript((r) => localStorage.setItem('rr.stackRendering', r), rendering);
    if (name === 'ohif') await page.addInitScript(OHIF_RETURNING_USER);
    await page.addInitScript(INSTRUMENT);
    const settled = await browserSettled();
    await page.goto(v.url(login.token), { waitUntil: 'commit' });
    const state = () => page.evaluate(() => window.__bench);
    const first = await waitFor(async () => (await state())?.first, 90_000, 20, `${v.label}: first image drawn`);
    // whole series: prefer our viewport's prefetch attributes, else every image received
    // (the attributes are given 30 s more than the last image's arrival; never reaching equality is reported)
    let received = null;
    let attr = null;
    let receivedSeenAt = 0;
    await waitFor(async () => {
      received = await page.evaluate(IMAGES_RECEIVED, { total: TOTAL, pattern: v.pattern });
      const s = await state();
      attr = s.attrSeen ? s.attrCached : undefined;
      if (received.at !== null && !receivedSeenAt) receivedSeenAt = Date.now();
      if (attr === null && receivedSeenAt && Date.now() - receivedSeenAt > 30_000) {
        errors.push(`data-rr-cached never reached data-rr-total within 30 s of the last image received`);
        attr = undefined;
      }
      return received.at !== null && (attr === undefined || attr !== null);
    }, 180_000, 100, `${v.label}: the ${TOTAL} images of the series (received ${received?.count})`);
    const cached = attr ?? received.at;
    // memory after loading
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const pss = chromiumPssMiB();

    // navigation: one key at a time, each after the previous image was drawn
    const box = await page.locator(v.viewport).first().boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    if (name === 'ours') await page.locator(v.viewport).first().focus();
    const s0 = await state();
    const at0 = s0.newImage.length ? s0.newImage[s0.newImage.length - 1][1] : 0;
    const key = at0 + STEPS + BURST < TOTAL ? 'ArrowDown' : 'ArrowUp';
    const dir = key === 'ArrowDown' ? 1 : -1;
    const drawnIndex = async (want) => {
      const s = await state();
      const ni = s.newImage.filter((x) => x[1] === want).pop();
      return ni && s.renders.some((t) => t >= ni[0]) ? s : null;
    };
    const steps = [];
    for (let i = 1; i <= STEPS; i++) {
      await page.keyboard.press(key);
      const s = await waitFor(() => drawnIndex(at0 + dir * i), 10_000, 5, `${v.label}: image ${at0 + dir * i} after ${key}`);
      const k = s.keys[s.keys.length - 1];
      const ni = s.newImage.filter((x) => x[1] === at0 + dir * i).pop();
      steps.push(s.renders.find((t) => t >= ni[0]) - k);
    }
    // scrolling: BURST presses at KEY_HZ, like a key held down with a fast auto-repeat
    const before = await state();
    const tStart = Date.now();
    for (let i = 0; i < BURST; i++) {
      const wait = tStart + (i * 1000) / KEY_HZ - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      await page.keyboard.press(key);
    }
    const last = at0 + dir * (STEPS + BURST);
    const s = await waitFor(() => drawnIndex(last), 30_000, 20, `${v.label}: image ${last} after ${BURST} key presses`);
    const t0 = s.keys[before.keys.length];
    const ni = s.newImage.filter((x) => x[1] === last).pop();
    const tEnd = s.renders.find((t) => t >= ni[0]);
    const frames = s.renders.filter((t) => t > t0 && t <= tEnd).length;
    const images = new Set(s.newImage.filter((x) => x[0] > t0 && x[0] <= tEnd).map((x) => x[1])).size;
    const pipeline = name === 'ours' ? await page.evaluate(() => document.querySelector('[data-rr-rendering]')?.getAttribute('data-rr-rendering') ?? '?') : '';
    // the size of the viewport's canvas (device pixels), for the browser's ceiling measured after the runs
    const canvas = await page.evaluate(() => {
      const c = [...document.querySelectorAll('canvas')].sort((x, y) => y.width * y.height - x.width * x.height)[0];
      return c ? [c.width, c.height] : null;
    });
    return {
      pipeline, canvas, settled, first, cached, received: received.at, attr: attr ?? null, steps,
      fps: (frames * 1000) / (tEnd - t0), ips: (images * 1000) / (tEnd - t0),
      heap: metrics.JSHeapUsedSize / 2 ** 20, pss, requests: received.requests, mib: received.bytes / 2 ** 20, errors,
    };
  } finally {
    await browser.close().catch(() => {});
  }
}

// --- volume viewing (issue 11): MPR and 3D ------------------------------------------------------
// The same steps and the same criterion for both viewers, each (viewer, layout) in a fresh browser:
//   1. open the study in the 2D viewer (ours: the study page; OHIF: /viewer?StudyInstanceUIDs=…) and wait for
//      the first image drawn (canvas pixels); OHIF's first-visit tour and "investigational use" banner are
//      dismissed then, before anything is timed;
//   2. choose the layout as a user does: ours: the toolbar's "MPR" or "3D" button (our 3D is the four-up:
//      the three planes + the 3D view); OHIF: its toolbar's Layout menu (opened first, not timed), then
//      "MPR" (its `mpr` protocol: axial, sagittal, coronal) or "3D four up" (`fourUp`: the three planes + 3D);
//      the click's time is the page's own timestamp of the click event;
//   3. "drawn": every viewport of the layout (3 for MPR, 4 for the four-up) has a canvas with at least
//      DRAWN_FRACTION of its pixels not background (r+g+b > 24), checked in the page on every
//      CORNERSTONE_IMAGE_RENDERED of the layout (capture listener on document) and by a poll from here;
//      "ready": drawn with the whole volume. Both stream the slices into planes already shown: "first
//      drawn" can be a partial volume; "ready" is the first time every viewport is drawn after the volume
//      is complete: OHIF's cornerstone IMAGE_VOLUME_LOADING_COMPLETED (window.cornerstone.eventTarget, which
//      OHIF exposes); ours: the layout's data-rr-volume-state="shown" (its last render precedes it, so the
//      poll below sets ready right after).
//   Memory with the volume loaded (right after ready): the page's JS heap (CDP JSHeapUsedSize; the volume's
//   typed arrays outside the V8 heap and workers not counted), the PSS and the RSS summed over every
//   chromium process of that browser (RSS counts shared pages once per process, PSS divides them).
//   A measurement that does not reach ready within VOLUME_TIMEOUT s (default 300) prints "timed out after
//   N s" and the next one runs. VOLUME_CLICK=cached: the click waits until the 2D viewer has the whole series
//   (ours: data-rr-cached == data-rr-total; OHIF: every image received) and 3 s more, so the time is the
//   volume build and the first rendering without the fetch. Medians over VIEWER_REPS; in the median of "ready" a timed-out run counts as
//   longer than the timeout (the median of the finished runs is printed beside it).
const DRAWN_FRACTION = 0.01;
const VOLUME_TIMEOUT_S = Number(process.env.VOLUME_TIMEOUT || 300);
const VOLUME_CLICK_CACHED = process.env.VOLUME_CLICK === 'cached';
// VOLUME_CASES=ohif-3d,ours-mpr: only those (viewer-layout) measurements (to look at one closely)
const VOLUME_CASES = process.env.VOLUME_CASES ? process.env.VOLUME_CASES.split(',') : null;
const VOLUME_LAYOUTS = {
  mpr: { label: 'MPR: three planes drawn', ohifItem: 'MPR', oursButton: 'mpr', need: 3 },
  '3d': { label: '3D four-up: the 3D view and the three planes drawn', ohifItem: '3D four up', oursButton: '3d', need: 4 },
};
const OURS_PLANES = ['axial', 'sagittal', 'coronal'].map((p) => `[data-rr-mpr-plane="${p}"]`);

const VOLUME_INSTRUMENT = () => {
  const b = { clicks: [], firstImage: null, armed: null, drawn: null, ready: null, volumeLoaded: null, renders: 0 };
  window.__vol = b;
  // the fraction of the canvas's pixels that are not background; 0 when those pixels are one flat colour
  // (a plane drawn flat grey is not an image: at least 3 levels of brightness, each >= 0.1 % of the pixels)
  const nonBackground = (c) => {
    if (!c || !c.width || !c.height) return 0;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    if (!ctx) return 0;
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const levels = new Array(48).fill(0);
    let n = 0;
    let t = 0;
    for (let i = 0; i < d.length; i += 16) { // every 4th pixel
      t++;
      const sum = d[i] + d[i + 1] + d[i + 2];
      if (sum > 24) {
        n++;
        levels[sum >> 4]++;
      }
    }
    return levels.filter((k) => k >= t / 1000).length >= 3 ? n / t : 0;
  };
  // armed = {selectors (one per viewport) | gridSelector + need, fraction}: the layout's viewports
  const viewports = (a) => (a.selectors
    ? a.selectors.map((sel) => document.querySelector(sel))
    : [...document.querySelectorAll(a.gridSelector)]);
  b.check = () => {
    const a = b.armed;
    if (!a) return false;
    const els = viewports(a);
    if (els.length !== a.need || els.some((e) => !e)) return false;
    return els.every((e) => nonBackground(e.querySelector('canvas')) >= a.fraction);
  };
  const onRendered = () => {
    b.renders++;
    if (b.firstImage === null) {
      const c = document.querySelector('canvas.cornerstone-canvas, .viewer-viewport canvas');
      if (c && nonBackground(c) >= 0.01) b.firstImage = performance.now();
    }
    if (!b.armed || b.ready !== null) return;
    const t = performance.now();
    if (!b.check()) return;
    if (b.drawn === null) b.drawn = t;
    if (!b.armed.streaming || b.volumeLoaded !== null) b.ready = t;
  };
  document.addEventListener('CORNERSTONE_IMAGE_RENDERED', onRendered, true);
  document.addEventListener('click', () => b.clicks.push(performance.now()), true);
  // OHIF assigns window.cornerstone (its debugging handle): listen to its volume loading events there
  let cs;
  Object.defineProperty(window, 'cornerstone', {
    configurable: true,
    get: () => cs,
    set: (v) => {
      cs = v;
      v?.eventTarget?.addEventListener?.('CORNERSTONE_IMAGE_VOLUME_LOADING_COMPLETED', () => {
        if (b.armed && b.volumeLoaded === null) b.volumeLoaded = performance.now();
      });
    },
  });
  // ours: the volume layout's area says "shown" once its volume is complete (data-rr-volume-state)
  new MutationObserver(() => {
    if (!b.armed || b.volumeLoaded !== null) return;
    if (document.querySelector('.viewer-volume-area[data-rr-volume-state="shown"]')) b.volumeLoaded = performance.now();
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-rr-volume-state'] });
};

/** Memory of the browser below this process: {pss, rss} in MiB summed over its chromium processes. */
function chromiumMemMiB() {
  return { pss: chromiumPssMiB('Pss'), rss: chromiumPssMiB('Rss') };
}

const timedOut = Symbol('timed out');
/** fn() resolved, or timedOut after ms (fn keeps running; the caller closes the browser). */
const within = (ms, fn) => Promise.race([fn(), new Promise((res) => setTimeout(() => res(timedOut), ms).unref())]);

async function measureVolume(name, layout) {
  const L = VOLUME_LAYOUTS[layout];
  const login = await orthanc.login('admin', orthanc.adminPassword);
  if (login.status !== 200) throw new Error(`login: ${login.status}`);
  const browser = await launchBrowser();
  const errors = [];
  const start = Date.now();
  let page = null;
  const shot = async (what) => {
    if (!process.env.VIEWER_SHOTS || !page) return;
    fs.mkdirSync(process.env.VIEWER_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(process.env.VIEWER_SHOTS, `${name}-${layout}-${what}-${Date.now()}.png`), timeout: 60_000 }).catch(() => {});
  };
  try {
    const context = await browser.newContext({ viewport: WINDOW, serviceWorkers: 'block' });
    if (name === 'ours') {
      await context.addCookies([
        { name: 'rr_session', value: login.token, url: oursOrigin, httpOnly: true, sameSite: 'Strict' },
        { name: 'rr_csrf', value: login.csrfToken, url: oursOrigin, sameSite: 'Strict' },
      ]);
    }
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e?.message ?? e).slice(0, 200)));
    if (name === 'ohif') await page.addInitScript(OHIF_RETURNING_USER);
    await page.addInitScript(VOLUME_INSTRUMENT);
    const state = () => page.evaluate(() => {
      const { check, ...rest } = window.__vol;
      return rest;
    });
    const r = await within(VOLUME_TIMEOUT_S * 1000, async () => {
      await browserSettled();
      await page.goto(VIEWERS[name].url(login.token), { waitUntil: 'commit' });
      const firstImage = await waitFor(async () => (await state())?.firstImage, 120_000, 50, `${name}: first 2D image`);
      if (VOLUME_CLICK_CACHED) {
        // the series in the 2D viewer's cache first: ours' data-rr-cached == data-rr-total, OHIF's every image
        // received (its prefetcher), then 3 s for the last decodes; the click then times the volume build
        // and the first rendering without the fetch
        await waitFor(async () => {
          if (name === 'ours') {
            return page.evaluate(() => {
              const v = document.querySelector('.viewer-viewport[data-rr-total]');
              return !!v && Number(v.getAttribute('data-rr-total')) > 0 && v.getAttribute('data-rr-cached') === v.getAttribute('data-rr-total');
            });
          }
          return (await page.evaluate(IMAGES_RECEIVED, { total: TOTAL, pattern: VIEWERS.ohif.pattern })).at !== null;
        }, 180_000, 200, `${name}: the series cached in 2D`);
        await page.waitForTimeout(3000);
      }
      let armed;
      if (name === 'ours') {
        armed = { selectors: layout === 'mpr' ? OURS_PLANES : [...OURS_PLANES, '.viewer-3d-viewport'], need: L.need, fraction: DRAWN_FRACTION, streaming: true };
        await page.evaluate((a) => { window.__vol.armed = a; }, armed);
        await page.locator(`.viewer-tool[data-rr-volume-layout="${L.oursButton}"]`).click();
      } else {
        // a returning user's OHIF (OHIF_RETURNING_USER): no tour or banner to dismiss; should one show anyway,
        // it is dismissed here without waiting for it (the click would otherwise come later than ours)
        for (const text of ['Skip all', 'Confirm and hide']) {
          const b = page.getByText(text, { exact: true });
          if (await b.isVisible().catch(() => false)) await b.click().catch(() => {});
        }
        await page.locator('[data-cy="Layout"]').click();
        const item = page.getByText(L.ohifItem, { exact: true });
        await item.waitFor({ state: 'visible', timeout: 10_000 });
        armed = { gridSelector: '[data-cy="viewport-grid"] [data-viewportid]', need: L.need, fraction: DRAWN_FRACTION, streaming: true };
        await page.evaluate((a) => { window.__vol.armed = a; }, armed);
        await item.click();
      }
      const clicksBefore = (await state()).clicks.length;
      // the poll catches a layout whose last render came before the check could pass (the page's own
      // check on each render is the precise one)
      await waitFor(async () => {
        const s = await state();
        if (s.ready !== null) return true;
        return page.evaluate(() => {
          const b = window.__vol;
          if (b.ready !== null || !b.check()) return b.ready !== null;
          const t = performance.now();
          if (b.drawn === null) b.drawn = t;
          if (!b.armed.streaming || b.volumeLoaded !== null) b.ready = t;
          return b.ready !== null;
        });
      }, VOLUME_TIMEOUT_S * 1000, 250, `${name}: ${layout} drawn`);
      const s = await state();
      const click = s.clicks[clicksBefore - 1];
      const cdp = await context.newCDPSession(page);
      await cdp.send('Performance.enable');
      const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
      const mem = chromiumMemMiB();
      await shot('ready');
      return {
        ready: s.ready - click, drawn: s.drawn - click, fromNav: s.ready, firstImage, clickAt: click,
        volumeLoaded: s.volumeLoaded === null ? null : s.volumeLoaded - click,
        heap: metrics.JSHeapUsedSize / 2 ** 20, pss: mem.pss, rss: mem.rss,
      };
    });
    if (r === timedOut) {
      await shot('timed-out');
      return { timedOut: VOLUME_TIMEOUT_S, errors };
    }
    return { ...r, errors };
  } catch (e) {
    await shot('failed');
    return { failed: String(e?.message ?? e).split('\n')[0].slice(0, 300), errors, seconds: (Date.now() - start) / 1000 };
  } finally {
    await browser.close().catch(() => {});
  }
}

const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`;
function volumeLine(name, layout, m, r) {
  const who = `${name === 'ours' ? 'ours' : `OHIF ${OHIF_VERSION}`}`;
  const head = `viewer volume: run ${r + 1}/${REPS} ${layout === 'mpr' ? 'MPR' : '3D four-up'} ${who}:`;
  if (m.timedOut) return `${head} timed out after ${m.timedOut} s`;
  if (m.failed) return `${head} failed after ${m.seconds.toFixed(0)} s: ${m.failed}`;
  return `${head} ready ${fmtS(m.ready)} after the click (first drawn ${fmtS(m.drawn)}` +
    (m.volumeLoaded !== null ? `, volume loaded ${fmtS(m.volumeLoaded)}` : '') +
    `), ${fmtS(m.fromNav)} from navigation (2D first image ${fmtS(m.firstImage)}, click ${fmtS(m.clickAt)}); ` +
    `JS heap ${m.heap.toFixed(0)} MiB, browser PSS ${m.pss.toFixed(0)} MiB, RSS ${m.rss.toFixed(0)} MiB` +
    (m.errors.length ? `; page errors: ${m.errors.slice(0, 2).join(' | ')}` : '');
}

if (process.env.VIEWER_PART === 'volume') {
  const os = await import('node:os');
  const tStart = Date.now();
  const load0 = os.loadavg()[0];
  console.log(`viewer volume: CT series of ${TOTAL} slices (${CT_FOLDER}), ${BROWSER_LABEL}, window ${WINDOW.width}×${WINDOW.height}, ` +
    `fresh browser per measurement, ${REPS} runs alternating, timeout ${VOLUME_TIMEOUT_S} s, ` +
    `${VOLUME_CLICK_CACHED ? 'click once the series is cached in 2D (VOLUME_CLICK=cached)' : 'click right after the 2D first image'}; ${os.cpus().length} cores, load average (1 min) ${load0.toFixed(2)}`);
  const vol = { ours: { mpr: [], '3d': [] }, ohif: { mpr: [], '3d': [] } };
  for (let r = 0; r < REPS; r++) {
    for (const layout of ['mpr', '3d']) {
      for (const name of r % 2 ? ['ohif', 'ours'] : ['ours', 'ohif']) {
        if (VOLUME_CASES && !VOLUME_CASES.includes(`${name}-${layout}`)) continue;
        const m = await measureVolume(name, layout);
        vol[name][layout].push(m);
        console.log(volumeLine(name, layout, m, r));
      }
    }
  }
  await orthanc.stop();
  ohifServer.close();
  oursServer.close();
  const ok = (name, layout) => vol[name][layout].filter((m) => m.ready !== undefined);
  const med = (name, layout, f) => {
    const l = ok(name, layout).map((m) => m[f]).filter((x) => x !== null && x !== undefined);
    return l.length ? median(l) : NaN;
  };
  // ready: a timed-out run counts as longer than the timeout (Infinity), so it moves the median up
  // instead of leaving the faster runs alone; a run that failed otherwise is left out
  const medReady = (name, layout) => {
    const l = vol[name][layout].filter((m) => !m.failed).map((m) => (m.timedOut ? Infinity : m.ready));
    return l.length ? median(l) : NaN;
  };
  const ratio = (o, h) => (Number.isFinite(o / h) ? (o / h).toFixed(2) : '—');
  const s = (ms) => (Number.isNaN(ms) ? '—' : ms === Infinity ? `> ${VOLUME_TIMEOUT_S} s` : fmtS(ms));
  const mib = (x) => (Number.isNaN(x) ? '—' : `${x.toFixed(0)} MiB`);
  console.log(`viewer volume: medians (runs that reached ready: ours MPR ${ok('ours', 'mpr').length}/${REPS}, 3D ${ok('ours', '3d').length}/${REPS}; ` +
    `OHIF MPR ${ok('ohif', 'mpr').length}/${REPS}, 3D ${ok('ohif', '3d').length}/${REPS}); load average (1 min) ${load0.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} at the end; ` +
    `${((Date.now() - tStart) / 60000).toFixed(1)} min`);
  for (const layout of ['mpr', '3d']) {
    const o = medReady('ours', layout), h = medReady('ohif', layout);
    const timeouts = (name) => vol[name][layout].filter((m) => m.timedOut).length;
    console.log(`  ${VOLUME_LAYOUTS[layout].label}, click -> ready: ours ${s(o)}, OHIF ${s(h)} (OHIF first drawn ${s(med('ohif', layout, 'drawn'))}, volume loaded ${s(med('ohif', layout, 'volumeLoaded'))}); ours/OHIF ${ratio(o, h)}` +
      (timeouts('ours') + timeouts('ohif') ? `; timed-out runs counted as > ${VOLUME_TIMEOUT_S} s (ours ${timeouts('ours')}, OHIF ${timeouts('ohif')}); median of the finished runs: ours ${s(med('ours', layout, 'ready'))}, OHIF ${s(med('ohif', layout, 'ready'))}` : ''));
    const navO = med('ours', layout, 'fromNav'), navH = med('ohif', layout, 'fromNav');
    console.log(`    from navigation (2D first image, click, ready): ours ${s(navO)} (click at ${s(med('ours', layout, 'clickAt'))}), OHIF ${s(navH)} (click at ${s(med('ohif', layout, 'clickAt'))}); ours/OHIF ${ratio(navO, navH)}`);
    console.log(`    with the volume loaded: JS heap ours ${mib(med('ours', layout, 'heap'))}, OHIF ${mib(med('ohif', layout, 'heap'))}; ` +
      `browser PSS ours ${mib(med('ours', layout, 'pss'))}, OHIF ${mib(med('ohif', layout, 'pss'))}; RSS ours ${mib(med('ours', layout, 'rss'))}, OHIF ${mib(med('ohif', layout, 'rss'))}`);
    const met = o <= h / 2 && o <= 5000;
    console.log(`    goal (<= half of OHIF's and within 2-5 s): ${Number.isNaN(o) || Number.isNaN(h) ? 'not measured' : met ? 'met' : 'NOT met'} ` +
      `(ours/OHIF ${ratio(o, h)}, ours ${s(o)})`);
  }
  process.exit(0);
}

// --- VIEWER_CPU=ab: ours with cornerstone's CPU pipeline against its WebGL one, same run ---------
// REPS pairs, the order alternating; the same figures as the main table, medians; then exits.
async function pipelineAB() {
  const ab = { cpu: [], gpu: [] };
  for (let r = 0; r < REPS; r++) {
    for (const mode of r % 2 ? ['gpu', 'cpu'] : ['cpu', 'gpu']) {
      const m = await measure('ours', mode);
      if (m.pipeline !== mode) throw new Error(`asked for the ${mode} pipeline, the viewport says ${m.pipeline}`);
      ab[mode].push(m);
      console.error(`viewer ab: run ${r + 1}/${REPS} ${mode}: cached ${m.cached.toFixed(0)} ms, step p50 ${median(m.steps).toFixed(1)} ms, ` +
        `p95 ${percentile([...m.steps].sort((x, y) => x - y), 95).toFixed(1)} ms, ${m.fps.toFixed(1)} renders/s` + (m.errors.length ? `, page errors: ${m.errors.slice(0, 3).join(' | ')}` : ''));
    }
  }
  const abCanvas = [...ab.cpu, ...ab.gpu].map((m) => m.canvas).find(Boolean) ?? [800, 480];
  const abRoof = await ceiling(abCanvas);
  await orthanc.stop();
  ohifServer.close();
  oursServer.close();
  const os = await import('node:os');
  const f = (mode, fn) => fn(ab[mode]);
  const steps = (mode) => ab[mode].flatMap((m) => m.steps).sort((x, y) => x - y);
  console.log(`viewer ab: ours' 2D stack viewports, cornerstone's CPU pipeline vs WebGL, ${BROWSER_LABEL}, window ${WINDOW.width}×${WINDOW.height}, ${COMPRESSION_LABEL}, ` +
    `${REPS} runs each alternating; load average (1 min) ${load0.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} at the end`);
  const rows = [
    ['open -> first image drawn (ms)', (l) => median(l.map((m) => m.first))],
    ['open -> whole series cached (ms)', (l) => median(l.map((m) => m.cached))],
    ['next image p50 (ms)', (l, mode) => percentile(steps(mode), 50)],
    ['next image p95 (ms)', (l, mode) => percentile(steps(mode), 95)],
    [`scrolling renders/s (median)`, (l) => median(l.map((m) => m.fps))],
    ['scrolling renders/s (each run)', (l) => l.map((m) => m.fps.toFixed(1)).join(' ')],
  ];
  console.log(`  ${''.padEnd(34)} ${'CPU'.padStart(26)} ${'WebGL'.padStart(26)}`);
  for (const [label, fn] of rows) {
    const c = fn(ab.cpu, 'cpu'), g = fn(ab.gpu, 'gpu');
    const fmt = (x) => String(typeof x === 'number' ? x.toFixed(1) : x).padStart(26);
    console.log(`  ${label.padEnd(34)} ${fmt(c)} ${fmt(g)}`);
  }
  console.log(`  browser ceiling, bare page, ${abCanvas[0]}×${abCanvas[1]} canvas: WebGL then copied ${abRoof.webgl.toFixed(1)} frames/s, canvas 2D ${abRoof.canvas2d.toFixed(1)} frames/s`);
  process.exit(0);
}

// --- the browser's ceiling: frames per second of a bare page, same browser flags, same canvas size ----
// What any 2D viewer can reach here, measured in the same run as the viewers: a 512×512 16-bit frame (a CT
// slice's size), changed at every animation frame for 3 s, windowed and drawn into a canvas of the size of
// ours' viewport canvas, two ways:
//   "WebGL, then copied": uploaded as a float texture, drawn by a windowing shader into an off-screen WebGL
//     canvas, then copied to the visible 2D canvas (drawImage): cornerstone's WebGL pipeline does this;
//   "canvas 2D": windowed through a lookup table into an ImageData, put into a 512×512 canvas and drawn scaled
//     into the visible canvas: cornerstone's CPU pipeline does this.
const CEILING_PAGE = `<!doctype html><html><body style="margin:0;background:#000"><canvas id=c></canvas></body></html>`;
async function ceiling([w, h]) {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: WINDOW });
    await page.setContent(CEILING_PAGE);
    const out = {};
    for (const mode of ['webgl', 'canvas2d']) {
      out[mode] = await page.evaluate(async ({ mode, w, h }) => {
        const visible = document.getElementById('c');
        visible.width = w;
        visible.height = h;
        const ctx = visible.getContext('2d');
        const N = 512;
        const frame = new Int16Array(N * N);
        const fill = (k) => { for (let i = 0; i < frame.length; i++) frame[i] = ((i + k * 7) & 1023) - 500; };
        let draw;
        if (mode === 'webgl') {
          const off = document.createElement('canvas');
          off.width = w;
          off.height = h;
          const gl = off.getContext('webgl2');
          const shader = (type, src) => { const sh = gl.createShader(type); gl.shaderSource(sh, src); gl.compileShader(sh); return sh; };
          const prog = gl.createProgram();
          gl.attachShader(prog, shader(gl.VERTEX_SHADER, '#version 300 es\nin vec2 p; out vec2 uv; void main(){uv=p*0.5+0.5; gl_Position=vec4(p,0,1);}'));
          gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, '#version 300 es\nprecision highp float; uniform sampler2D s; in vec2 uv; out vec4 o; void main(){float v=clamp((texture(s,uv).r+160.0)/400.0,0.0,1.0); o=vec4(v,v,v,1);}'));
          gl.linkProgram(prog);
          gl.useProgram(prog);
          gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
          gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
          gl.enableVertexAttribArray(0);
          gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
          gl.bindTexture(gl.TEXTURE_2D, gl.createTexture());
          gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
          gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
          const texels = new Float32Array(N * N);
          draw = (k) => {
            fill(k);
            for (let i = 0; i < texels.length; i++) texels[i] = frame[i];
            gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, N, N, 0, gl.RED, gl.FLOAT, texels);
            gl.viewport(0, 0, w, h);
            gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
            ctx.drawImage(off, 0, 0);
          };
        } else {
          const small = document.createElement('canvas');
          small.width = N;
          small.height = N;
          const sctx = small.getContext('2d');
          const img = sctx.createImageData(N, N);
          const lut = new Uint8ClampedArray(65536);
          for (let v = -32768; v < 32768; v++) lut[v + 32768] = ((v + 160) / 400) * 255;
          const side = Math.min(w, h);
          draw = (k) => {
            fill(k);
            const d = img.data;
            for (let i = 0, j = 0; i < frame.length; i++, j += 4) { const g = lut[frame[i] + 32768]; d[j] = g; d[j + 1] = g; d[j + 2] = g; d[j + 3] = 255; }
            sctx.putImageData(img, 0, 0);
            ctx.fillRect(0, 0, w, h);
            ctx.drawImage(small, (w - side) / 2, (h - side) / 2, side, side);
          };
        }
        let n = 0;
        const t0 = performance.now();
        await new Promise((done) => {
          const step = () => { draw(n++); if (performance.now() - t0 < 3000) requestAnimationFrame(step); else done(); };
          requestAnimationFrame(step);
        });
        return (n * 1000) / (performance.now() - t0);
      }, { mode, w, h });
    }
    return out;
  } finally {
    await browser.close().catch(() => {});
  }
}

// --- runs --------------------------------------------------------------------------------------

const load0 = (await import('node:os')).loadavg()[0];
if (VIEWER_CPU === 'ab') await pipelineAB();
const results = { ours: [], ohif: [] };
for (let r = 0; r < REPS; r++) {
  for (const name of r % 2 ? ['ohif', 'ours'] : ['ours', 'ohif']) {
    const m = await measure(name, VIEWER_CPU);
    results[name].push(m);
    console.error(`viewer: run ${r + 1}/${REPS} ${name}${m.pipeline ? ` (${m.pipeline})` : ''}: browser settled in ${m.settled} ms, first ${m.first.toFixed(0)} ms, cached ${m.cached.toFixed(0)} ms, ` +
      `step p50 ${median(m.steps).toFixed(1)} ms, ${m.fps.toFixed(1)} fps, heap ${m.heap.toFixed(0)} MiB, pss ${m.pss.toFixed(0)} MiB` +
      (m.errors.length ? `, page errors: ${m.errors.slice(0, 3).join(' | ')}` : ''));
  }
}
const oursCanvas = results.ours.map((m) => m.canvas).find(Boolean) ?? [800, 480];
const roof = await ceiling(oursCanvas);
await orthanc.stop();
ohifServer.close();
oursServer.close();

const agg = (name) => {
  const l = results[name];
  const steps = l.flatMap((m) => m.steps).sort((a, b) => a - b);
  return {
    first: median(l.map((m) => m.first)), cached: median(l.map((m) => m.cached)),
    received: median(l.map((m) => m.received)), attr: l.every((m) => m.attr !== null) ? median(l.map((m) => m.attr)) : null,
    step50: percentile(steps, 50), step95: percentile(steps, 95),
    fps: median(l.map((m) => m.fps)), ips: median(l.map((m) => m.ips)),
    heap: median(l.map((m) => m.heap)), pss: median(l.map((m) => m.pss)), requests: median(l.map((m) => m.requests)),
    mib: median(l.map((m) => m.mib)),
  };
};
const a = { ours: agg('ours'), ohif: agg('ohif') };
const os = await import('node:os');
const cpus = os.cpus();
const ratio = (o, h) => (Number.isFinite(o / h) ? (o / h).toFixed(2) : '—');
const line = (label, f, unit, digits = 0) => {
  const o = a.ours[f], h = a.ohif[f];
  console.log(`  ${label.padEnd(34)} ${o.toFixed(digits).padStart(8)} ${unit.padEnd(4)} ${h.toFixed(digits).padStart(8)} ${unit.padEnd(4)} ${ratio(o, h).padStart(6)}`);
};
console.log(`viewer: CT series of ${TOTAL} slices (${CT_FOLDER}), ` +
  `${BROWSER_LABEL}, window ${WINDOW.width}×${WINDOW.height}, ${COMPRESSION_LABEL}, ours' stack pipeline ${[...new Set(results.ours.map((m) => m.pipeline))].join('/')}${VIEWER_CPU ? ' (VIEWER_CPU)' : ''}, fresh browser per run (navigated once its own start-up is over), median of ${REPS} runs each, alternating; ${cpus.length} cores, load average (1 min) ${load0.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} at the end`);
console.log(`  ${''.padEnd(34)} ${'ours'.padStart(13)} ${('OHIF ' + OHIF_VERSION).padStart(13)} ${'ours/OHIF'.padStart(6)}`);
line('open -> first image drawn', 'first', 'ms');
line(`open -> whole series cached`, 'cached', 'ms');
line(`open -> all ${TOTAL} images received`, 'received', 'ms');
line('next image (key -> drawn) p50', 'step50', 'ms', 1);
line('next image (key -> drawn) p95', 'step95', 'ms', 1);
line(`scrolling, ${BURST} keys at ${KEY_HZ}/s: renders/s`, 'fps', 'fps', 1);
line('  images advanced per second', 'ips', '/s', 1);
line('JS heap after loading (page)', 'heap', 'MiB');
line('browser memory (PSS, all processes)', 'pss', 'MiB');
line('HTTP requests until series cached', 'requests', '');
line('  bytes received (transferSize)', 'mib', 'MiB', 1);
console.log(`  browser ceiling, bare page, ${oursCanvas[0]}×${oursCanvas[1]} canvas: WebGL then copied ${roof.webgl.toFixed(1)} frames/s, canvas 2D ${roof.canvas2d.toFixed(1)} frames/s (ours' renders/s ${(a.ours.fps / roof.canvas2d).toFixed(2)} of the canvas 2D figure)`);
console.log(`  ours "whole series cached": ${a.ours.attr !== null ? 'the viewport\'s data-rr-cached == data-rr-total' : 'all images received (the web app sets no data-rr-cached yet)'}; OHIF: all images received`);
const met = (ok) => (ok ? 'met' : 'NOT met');
console.log('goals (issue 10):');
console.log(`  first image <= half of OHIF's       ${(a.ours.first / a.ohif.first).toFixed(2)}  ${met(a.ours.first <= a.ohif.first / 2)}`);
console.log(`  whole series <= half of OHIF's      ${(a.ours.cached / a.ohif.cached).toFixed(2)}  ${met(a.ours.cached <= a.ohif.cached / 2)}`);
console.log(`  >= 30 fps scrolling, cached         ${a.ours.fps.toFixed(1)} fps  ${met(a.ours.fps >= 30)}`);
console.log(`  study load 1-3 s (first image)      ${(a.ours.first / 1000).toFixed(2)} s  ${met(a.ours.first <= 3000)}; whole series ${(a.ours.cached / 1000).toFixed(2)} s  ${met(a.ours.cached <= 3000)}`);
console.log(`  frame navigation < 100 ms (p95)     ${a.ours.step95.toFixed(1)} ms  ${met(a.ours.step95 < 100)}`);
