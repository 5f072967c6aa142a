// Access control: the HTTP filter's added latency per request, and login
// throughput. Two Orthancs run side by side, one without the plugin's access
// control (baseline) and one with it; GET /system goes to each in turn
// (interleaved, keep-alive), so both see the same machine conditions. The
// same is done for one of the plugin's own routes (GET /api/ai/status), where
// the route itself also learns who is calling.
import { startOrthanc } from '../Tests/lib/orthanc.mjs';
import { get, percentile } from './lib.mjs';

const N = Number(process.env.REQUESTS || 3000);
const LOGINS = Number(process.env.LOGINS || 20);

const off = await startOrthanc({ readingRoom: { Auth: { Enable: false } } });
const on = await startOrthanc();
const kinds = [
  ['access control off (baseline)', off.httpPort, {}],
  ['Bearer token (cached)', on.httpPort, on.authHeaders()],
  ['HTTP Basic (cached)', on.httpPort, { Authorization: 'Basic ' + Buffer.from(`admin:${on.adminPassword}`).toString('base64') }],
  ['no credentials (refused, 403)', on.httpPort, {}],
];
const pluginKinds = [
  ['access control off (baseline)', off.httpPort, {}],
  ['Bearer token (cached)', on.httpPort, on.authHeaders()],
];

/* p50/p95 per kind of N interleaved requests to `path` after 200 warm-up rounds */
async function measure(path, list) {
  const times = list.map(() => []);
  for (let i = 0; i < N + 200; i++) {
    for (let k = 0; k < list.length; k++) {
      const [, port, headers] = list[k];
      const t = process.hrtime.bigint();
      const r = await get(port, path, headers);
      if (i === 0 && k === 1 && r.status !== 200) throw new Error(`${path}: ${r.status}`);
      if (i >= 200) times[k].push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return times.map((t) => { t.sort((a, b) => a - b); return { p50: percentile(t, 50), p95: percentile(t, 95) }; });
}
const stats = await measure('/system', kinds);
const pluginStats = await measure('/api/ai/status', pluginKinds);
const t0 = process.hrtime.bigint();
for (let i = 0; i < LOGINS; i++) {
  const l = await on.login('admin', on.adminPassword);
  if (l.status !== 200) throw new Error(`login: ${l.status}`);
}
const loginSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
await on.stop();
await off.stop();

const line = ([label], s) => console.log(`  ${label.padEnd(32)} p50 ${s.p50.toFixed(3).padStart(7)} ms  p95 ${s.p95.toFixed(3).padStart(7)} ms`);
const added = (s) => `p50 ${(s[1].p50 - s[0].p50).toFixed(3)} ms, p95 ${(s[1].p95 - s[0].p95).toFixed(3)} ms`;
console.log(`access: GET /system, ${N} requests of each kind, interleaved, keep-alive`);
kinds.forEach((k, i) => line(k, stats[i]));
console.log(`  added by the filter (cached Bearer): ${added(stats)} (goal: < 0.2 ms at p95)`);
console.log(`access: GET /api/ai/status (a plugin route), ${N} requests of each kind, interleaved, keep-alive`);
pluginKinds.forEach((k, i) => line(k, pluginStats[i]));
console.log(`  added by access control (cached Bearer): ${added(pluginStats)}`);
console.log(`  logins: ${(LOGINS / loginSeconds).toFixed(1)} per second, sequential (${(1000 * loginSeconds / LOGINS).toFixed(0)} ms each; Argon2id m=19 MiB, t=2 by design)`);
