// A local stand-in for the subset of Amazon S3's REST API the Reading Room's
// backup target uses (Plugin/backup/backup_s3.c): PutObject, GetObject,
// HeadObject and ListObjectsV2 (list-type=2, prefix, continuation-token,
// max-keys), path-style (/bucket/key) and virtual-host (bucket.localhost)
// addressing. Objects live in memory.
//
// Every request's AWS Signature Version 4 is VERIFIED here with an
// independent implementation on node:crypto (canonical URI re-encoded from
// the decoded path, canonical query re-encoded and sorted, signed headers,
// x-amz-content-sha256 checked against the body), as S3 does: a wrong secret
// gets 403 SignatureDoesNotMatch, an unknown key id 403 InvalidAccessKeyId, a
// body that does not match its hash 400 XAmzContentSHA256Mismatch, a stale
// date 403 RequestTimeTooSkewed, all in S3's XML error format.
//
// API
//   const s3 = await startS3Standin({ accessKeyId, secretAccessKey, region: 'us-east-1',
//                                     bucket: 'backups', maxKeys: 1000 });
//   s3.port, s3.url ('http://127.0.0.1:PORT'), s3.virtualUrl ('http://localhost:PORT')
//   s3.objects()          Map key -> Buffer (a copy of what is stored)
//   s3.put(key, buffer)   store directly (e.g. to tamper with an object)
//   s3.failNext(n, status = 503)  the next n requests get status (500: InternalError,
//                         503: SlowDown) before anything else is done
//   s3.requests           [{ method, path, status, code }] one per request
//   await s3.stop()
import http from 'node:http';
import crypto from 'node:crypto';

const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, s) => crypto.createHmac('sha256', k).update(s).digest();

// RFC 3986 encoding as SigV4 wants it (unreserved kept, uppercase hex)
export function awsEncode(s, keepSlash) {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const xmlEscape = (s) =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

function decodeQuery(raw) {
  const pairs = [];
  if (!raw) return pairs;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, '%20'));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, '%20'));
    pairs.push([name, value]);
  }
  return pairs;
}

// The expected signature of a request, or an S3 error code.
export function verifySigV4(req, rawPath, rawQuery, body, { accessKeyId, secretAccessKey, region, now = Date.now() }) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return { code: 'AccessDenied', status: 403, message: 'Missing or malformed Authorization header (AWS4-HMAC-SHA256 expected)' };
  const [, keyId, day, reg, service, signedHeaders, signature] = m;
  if (keyId !== accessKeyId) return { code: 'InvalidAccessKeyId', status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' };
  if (reg !== region || service !== 's3')
    return { code: 'AuthorizationHeaderMalformed', status: 400, message: `the region '${reg}' is wrong; expecting '${region}'` };
  const amzDate = req.headers['x-amz-date'] || '';
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm || amzDate.slice(0, 8) !== day) return { code: 'AccessDenied', status: 403, message: 'x-amz-date is missing or does not match the credential scope' };
  const at = Date.UTC(+dm[1], +dm[2] - 1, +dm[3], +dm[4], +dm[5], +dm[6]);
  if (Math.abs(now - at) > 15 * 60 * 1000)
    return { code: 'RequestTimeTooSkewed', status: 403, message: 'The difference between the request time and the current time is too large.' };
  const names = signedHeaders.split(';');
  for (const needed of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!names.includes(needed)) return { code: 'AccessDenied', status: 403, message: `${needed} must be signed` };
  const payloadHash = req.headers['x-amz-content-sha256'];
  if (payloadHash !== 'UNSIGNED-PAYLOAD' && payloadHash !== sha256hex(body))
    return { code: 'XAmzContentSHA256Mismatch', status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
  let canonicalUri;
  try {
    canonicalUri = rawPath.split('/').map((seg) => awsEncode(decodeURIComponent(seg), false)).join('/');
  } catch {
    return { code: 'InvalidURI', status: 400, message: "Couldn't parse the specified URI." };
  }
  const canonicalQuery = decodeQuery(rawQuery)
    .map(([n, v]) => [awsEncode(n, false), awsEncode(v, false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
  const canonicalHeaders = names
    .map((n) => {
      const v = req.headers[n];
      if (v === undefined) return null;
      return `${n}:${String(v).trim().replace(/\s+/g, ' ')}\n`;
    });
  if (canonicalHeaders.includes(null)) return { code: 'AccessDenied', status: 403, message: 'a signed header is missing' };
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders.join(''), signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${day}/${reg}/s3/aws4_request`, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secretAccessKey, day), reg), 's3'), 'aws4_request');
  const expected = hmac(key, stringToSign).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature)))
    return {
      code: 'SignatureDoesNotMatch',
      status: 403,
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      stringToSign,
      canonicalRequest,
    };
  return null;
}

export async function startS3Standin(options = {}) {
  const cfg = {
    accessKeyId: options.accessKeyId ?? 'AKIASTANDIN',
    secretAccessKey: options.secretAccessKey ?? 'standin-secret',
    region: options.region ?? 'us-east-1',
    bucket: options.bucket ?? 'backups',
    maxKeys: options.maxKeys ?? 1000,
  };
  const store = new Map();
  const requests = [];
  let failures = [];
  let seq = 0;

  const sendError = (res, req, status, code, message, extra = {}) => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>` +
      (extra.stringToSign ? `<StringToSign>${xmlEscape(extra.stringToSign)}</StringToSign>` : '') +
      `<RequestId>${++seq}</RequestId></Error>`;
    res.writeHead(status, { 'Content-Type': 'application/xml' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return { status, code };
  };

  const list = (res, query) => {
    const params = new Map(decodeQuery(query));
    if (params.get('list-type') !== '2') return null;
    const prefix = params.get('prefix') ?? '';
    const max = Math.min(cfg.maxKeys, +(params.get('max-keys') ?? 1000) || 1000);
    const keys = [...store.keys()].filter((k) => k.startsWith(prefix)).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1));
    let start = 0;
    const token = params.get('continuation-token');
    if (token !== undefined) {
      const after = Buffer.from(token, 'base64').toString('utf8');
      start = keys.findIndex((k) => k > after);
      if (start < 0) start = keys.length;
    }
    const page = keys.slice(start, start + max);
    const truncated = start + max < keys.length;
    let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>${cfg.bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>` +
      `<IsTruncated>${truncated}</IsTruncated>`;
    if (token !== undefined) xml += `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>`;
    for (const k of page)
      xml += `<Contents><Key>${xmlEscape(k)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>` +
        `<ETag>&quot;${crypto.createHash('md5').update(store.get(k)).digest('hex')}&quot;</ETag><Size>${store.get(k).length}</Size>` +
        `<StorageClass>STANDARD</StorageClass></Contents>`;
    if (truncated) xml += `<NextContinuationToken>${Buffer.from(page[page.length - 1]).toString('base64')}</NextContinuationToken>`;
    xml += '</ListBucketResult>';
    res.writeHead(200, { 'Content-Type': 'application/xml' });
    res.end(xml);
    return { status: 200, code: 'OK' };
  };

  const handle = (req, res, body) => {
    const url = req.url;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    if (failures.length > 0) {
      const status = failures.shift();
      return sendError(res, req, status, status === 503 ? 'SlowDown' : 'InternalError',
        status === 503 ? 'Please reduce your request rate.' : 'We encountered an internal error. Please try again.');
    }
    const host = String(req.headers.host || '');
    let bucket;
    let key;
    if (host.startsWith(cfg.bucket + '.')) {
      bucket = cfg.bucket;
      key = rawPath.slice(1);
    } else {
      const parts = rawPath.slice(1).split('/');
      bucket = parts.shift();
      key = parts.join('/');
    }
    const bad = verifySigV4(req, rawPath, rawQuery, body, cfg);
    if (bad) return sendError(res, req, bad.status, bad.code, bad.message, bad);
    if (bucket !== cfg.bucket) return sendError(res, req, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    try {
      key = decodeURIComponent(key);
    } catch {
      return sendError(res, req, 400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
    if (key === '') {
      if (req.method === 'GET') {
        const r = list(res, rawQuery);
        if (r) return r;
      }
      return sendError(res, req, 400, 'InvalidRequest', 'This stand-in lists with list-type=2 only');
    }
    if (req.method === 'PUT') {
      store.set(key, Buffer.from(body));
      res.writeHead(200, { ETag: `"${crypto.createHash('md5').update(body).digest('hex')}"` });
      res.end();
      return { status: 200, code: 'OK' };
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const obj = store.get(key);
      if (!obj) return sendError(res, req, 404, 'NoSuchKey', 'The specified key does not exist.');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': obj.length });
      res.end(req.method === 'HEAD' ? undefined : obj);
      return { status: 200, code: 'OK' };
    }
    return sendError(res, req, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  };

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const r = handle(req, res, Buffer.concat(chunks));
      requests.push({ method: req.method, path: req.url, ...r });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    virtualUrl: `http://localhost:${port}`,
    config: cfg,
    requests,
    objects: () => new Map([...store].map(([k, v]) => [k, Buffer.from(v)])),
    put: (key, buf) => store.set(key, Buffer.from(buf)),
    failNext(n, status = 503) {
      failures = failures.concat(Array(n).fill(status));
    },
    stop: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
