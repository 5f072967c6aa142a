// A local stand-in for the part of Cloudinary's API the Reading Room's
// backup target uses (Plugin/backup/backup_cloudinary.c):
//
//   POST /v1_1/{cloud}/raw/upload                      Upload API, multipart/form-data, signed
//   GET  /v1_1/{cloud}/raw/download?public_id=&type=&timestamp=&api_key=&signature=
//                                                      signed private download
//   GET  /v1_1/{cloud}/resources/raw/authenticated/{public_id}   Admin API, basic auth
//   GET  /v1_1/{cloud}/resources/raw/authenticated?prefix=&max_results=&next_cursor=
//
// Signatures are VERIFIED with an independent implementation on node:crypto
// as Cloudinary documents them (every parameter except file, api_key,
// resource_type, cloud_name and signature; sorted by name; "k=v" joined by
// "&"; the API secret appended; SHA-1 hex, or SHA-256 when the account is
// set so). A wrong signature or key gets 401 with Cloudinary's JSON error
// ({"error":{"message":...}}), a stale timestamp (over an hour) 401 "Stale
// request", a wrong basic auth 401. Only type "authenticated" raw resources
// are kept (in memory).
//
// API
//   const c = await startCloudinaryStandin({ cloudName: 'demo', apiKey: '1234', apiSecret: 's',
//                                            signatureAlgorithm: 'sha1' | 'sha256', pageSize: 500 });
//   c.port, c.url, c.objects() (Map public_id -> Buffer), c.put(id, buf), c.failNext(n, status = 503),
//   c.requests [{ method, path, status }], await c.stop()
import http from 'node:http';
import crypto from 'node:crypto';

const UNSIGNED = new Set(['file', 'api_key', 'resource_type', 'cloud_name', 'signature']);

export function cloudinarySignature(params, secret, algorithm = 'sha1') {
  const text = Object.keys(params)
    .filter((k) => !UNSIGNED.has(k) && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return { text, signature: crypto.createHash(algorithm).update(text + secret).digest('hex') };
}

// multipart/form-data → { fields: {name: string}, files: {name: Buffer} }
function parseMultipart(body, contentType) {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType || '');
  if (!m) return null;
  const delim = Buffer.from('--' + m[2]);
  const out = { fields: {}, files: {} };
  let pos = body.indexOf(delim);
  if (pos < 0) return null;
  for (;;) {
    pos += delim.length;
    if (body.slice(pos, pos + 2).toString() === '--') return out;
    pos += 2; // CRLF
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return null;
    const head = body.slice(pos, headEnd).toString('utf8');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return null;
    const content = body.slice(headEnd + 4, next);
    const name = /name="([^"]*)"/.exec(head)?.[1];
    if (name === undefined) return null;
    if (/filename="/.test(head)) out.files[name] = Buffer.from(content);
    else out.fields[name] = content.toString('utf8');
    pos = next + 2;
  }
}

export async function startCloudinaryStandin(options = {}) {
  const cfg = {
    cloudName: options.cloudName ?? 'demo',
    apiKey: options.apiKey ?? '123456789012345',
    apiSecret: options.apiSecret ?? 'standin-api-secret',
    signatureAlgorithm: options.signatureAlgorithm ?? 'sha1',
    pageSize: options.pageSize ?? 500,
  };
  const store = new Map();
  const requests = [];
  let failures = [];

  const json = (res, status, obj) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(obj));
    return status;
  };
  const error = (res, status, message) => json(res, status, { error: { message } });

  const checkSigned = (params) => {
    if (params.api_key !== cfg.apiKey) return `Unknown API key ${params.api_key ?? ''}`;
    const ts = Number(params.timestamp);
    if (!Number.isInteger(ts)) return 'Missing required parameter - timestamp';
    if (Math.abs(Date.now() / 1000 - ts) > 3600) return `Stale request - reported time is ${ts} which is more than 1 hour ago`;
    const { text, signature } = cloudinarySignature(params, cfg.apiSecret, cfg.signatureAlgorithm);
    if (params.signature !== signature) return `Invalid Signature ${params.signature}. String to sign - '${text}'.`;
    return null;
  };
  const checkBasic = (req) => {
    const m = /^Basic (.+)$/.exec(req.headers.authorization || '');
    if (!m) return 'Missing API key or secret';
    const [k, ...rest] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
    if (k !== cfg.apiKey) return `Unknown API key ${k}`;
    if (rest.join(':') !== cfg.apiSecret) return 'Invalid Signature';
    return null;
  };

  const handle = (req, res, body) => {
    if (failures.length > 0) {
      const status = failures.shift();
      return error(res, status, status === 503 ? 'Service temporarily unavailable' : 'General Error');
    }
    const url = new URL(req.url, 'http://standin');
    const base = `/v1_1/${cfg.cloudName}`;
    if (!url.pathname.startsWith(base + '/')) return error(res, 404, 'Unknown cloud');
    const rest = url.pathname.slice(base.length);
    if (req.method === 'POST' && rest === '/raw/upload') {
      const form = parseMultipart(body, req.headers['content-type']);
      if (!form || !form.files.file) return error(res, 400, 'Missing required parameter - file');
      const bad = checkSigned(form.fields);
      if (bad) return error(res, 401, bad);
      if (form.fields.type !== 'authenticated') return error(res, 400, 'this stand-in keeps type=authenticated only');
      const id = form.fields.public_id;
      if (!id) return error(res, 400, 'Missing required parameter - public_id');
      if (store.has(id) && form.fields.overwrite !== 'true' && form.fields.overwrite !== '1')
        return json(res, 200, { public_id: id, existing: true, resource_type: 'raw', type: 'authenticated', bytes: store.get(id).length });
      store.set(id, form.files.file);
      return json(res, 200, { public_id: id, version: Math.floor(Date.now() / 1000), resource_type: 'raw', type: 'authenticated', bytes: form.files.file.length });
    }
    if (req.method === 'GET' && rest === '/raw/download') {
      const params = Object.fromEntries(url.searchParams);
      const bad = checkSigned(params);
      if (bad) return error(res, 401, bad);
      const obj = params.type === 'authenticated' ? store.get(params.public_id) : undefined;
      if (!obj) return error(res, 404, `Resource not found - ${params.public_id}`);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': obj.length });
      res.end(obj);
      return 200;
    }
    const listBase = '/resources/raw/authenticated';
    if (req.method === 'GET' && (rest === listBase || rest.startsWith(listBase + '/'))) {
      const bad = checkBasic(req);
      if (bad) return error(res, 401, bad);
      if (rest.startsWith(listBase + '/')) {
        const id = decodeURIComponent(rest.slice(listBase.length + 1));
        const obj = store.get(id);
        if (!obj) return error(res, 404, `Resource not found - ${id}`);
        return json(res, 200, { public_id: id, resource_type: 'raw', type: 'authenticated', bytes: obj.length });
      }
      const prefix = url.searchParams.get('prefix') ?? '';
      const max = Math.min(cfg.pageSize, Number(url.searchParams.get('max_results') ?? 10) || 10);
      const ids = [...store.keys()].filter((k) => k.startsWith(prefix)).sort().reverse(); // newest-first order is not sorted: the target sorts
      const start = url.searchParams.get('next_cursor') ? Number(Buffer.from(url.searchParams.get('next_cursor'), 'base64').toString()) : 0;
      const page = ids.slice(start, start + max);
      const out = { resources: page.map((id) => ({ public_id: id, resource_type: 'raw', type: 'authenticated', bytes: store.get(id).length })) };
      if (start + max < ids.length) out.next_cursor = Buffer.from(String(start + max)).toString('base64');
      return json(res, 200, out);
    }
    return error(res, 404, 'Not found');
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const status = handle(req, res, Buffer.concat(chunks));
      requests.push({ method: req.method, path: req.url.replace(/signature=[0-9a-f]+/, 'signature=…'), status });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    config: cfg,
    requests,
    objects: () => new Map([...store].map(([k, v]) => [k, Buffer.from(v)])),
    put: (id, buf) => store.set(id, Buffer.from(buf)),
    failNext(n, status = 503) {
      failures = failures.concat(Array(n).fill(status));
    },
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
