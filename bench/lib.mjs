// Shared helpers of the benchmarks: timing statistics, a keep-alive GET and
// requests through a caller's own agent.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One HTTP request on loopback: {status, body (Buffer)}. `agent` defaults to
 *  the shared keep-alive agent of one socket; give each simulated client its
 *  own (bench/load.mjs). A request taking over timeoutMs (0 = none) fails. */
export function request(port, { method = 'GET', path, headers = {}, body, agent: via = agent, timeoutMs = 0 }) {
  return new Promise((resolve, reject) => {
    const h = body === undefined ? headers : { ...headers, 'Content-Length': body.length };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: via, headers: h }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.end(body);
  });
}

export function get(port, path, headers = {}) {
  return request(port, { path, headers }).then((r) => ({ status: r.status, body: r.body.toString('utf8') }));
}

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const ms = (ns) => Number(ns) / 1e6;

/** p50/p95 of `n` sequential GETs (after `warmup`), in ms. */
export async function latency(port, path, headers = {}, n = 300, warmup = 20) {
  for (let i = 0; i < warmup; i++) await get(port, path, headers);
  const times = [];
  let status = 0;
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await get(port, path, headers);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    status = r.status;
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), status };
}
