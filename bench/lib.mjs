// Shared helpers of the benchmarks: timing statistics and a keep-alive GET.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

export function get(port, path, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
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
