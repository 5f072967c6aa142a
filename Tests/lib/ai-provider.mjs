// A local stand-in for the two AI wire formats the Reading Room plugin speaks:
//
//   * Google Gemini        POST /{v1beta|v1}/models/{model}:generateContent
//   * OpenAI-compatible    POST /v1/chat/completions   (vLLM, Ollama, llama.cpp server, ...)
//
// Integration tests point the plugin at it, script what the "model" answers
// (success, errors, blocked prompts, truncated answers, resets, slow or huge
// bodies, hangs) and afterwards inspect exactly what the plugin sent. Every
// generate/chat request is checked against the wire format documented in
// /work/shared/NOTES.md ("AI providers"); each failed check is recorded in
// `problems` and answered with HTTP 400 in the dialect's error format, as the
// real service would do (transport-level steps - reset, hang, drip, oversized -
// still behave as scripted, so the test sees the failure it asked for and can
// look at `problems` afterwards).
//
// Only Node built-ins are used (plus ./png.mjs).
//
// API
//   const provider = await startAiProvider({
//     apiKey: 'test-ai-key',        // expected key (x-goog-api-key / Authorization: Bearer);
//                                   //   '' = OpenAI requests need no Authorization
//     forbidden: ['DOE^JOHN'],      // strings that must not appear in a request body
//                                   //   (case-insensitive; base64 image payloads are not
//                                   //   searched, but PNG text chunks are)
//     model: 'gemini-2.5-flash-stand-in', // modelVersion / model reported in answers
//   });
//   provider.url             'http://127.0.0.1:PORT'
//   provider.model           the model name reported in answers
//   provider.script(...steps) append steps to a FIFO; each generate/chat request consumes
//                            one (when its body has been read); when empty, defaultStep is used
//   provider.defaultStep     settable; initially { type: 'success' }
//   provider.requests        one entry per generate/chat request, in order:
//                              { dialect: 'gemini'|'openai', path, method, remotePort, headers, json,
//                                bodyText, images: [{ mime, bytes, width, height, sha256 }],
//                                problems: string[], step, at }
//   provider.otherRequests   every other request (model metadata, unknown routes):
//                              { path, method, headers, at, status }
//   provider.problems()      all problems of all requests, each prefixed '#<index>: '
//   provider.reset()         clear requests, otherRequests, script queue; defaultStep = success;
//                            maxConcurrent = concurrent
//   provider.concurrent      generate/chat requests in flight now
//   provider.maxConcurrent   maximum in flight since start / reset
//   provider.close()         promise; destroys open sockets (hanging requests) too
//
// Steps (any step may carry delayMs: wait that long before answering):
//   { type: 'success', findings?, thought?, splitParts? }  200 with findings JSON as the
//        model's text (default DEFAULT_FINDINGS). Gemini extras: thought (string) adds a
//        leading { text, thought: true } part; splitParts: n splits the text over n parts.
//   { type: 'text', text }           200 with exactly this text as the model's answer
//   { type: 'schemaBreak' }          200 with valid JSON that breaks the findings schema
//   { type: 'status', status, retryDelay?, retryAfter?, perDay?, message?, flat? }
//        error answer; Gemini {error:{code,message,status,details}} (429 carries QuotaFailure,
//        Help and, with retryDelay e.g. '1s', RetryInfo); OpenAI {error:{message,type,param,code}}
//        (flat: true gives vLLM's {object:'error', message, type, param, code}).
//        retryAfter (seconds) sets a Retry-After header.
//   { type: 'reset' }                read the body, then reset the connection without answering
//   { type: 'drip', totalMs = 10000 } 200 headers (with Content-Length), then a success body
//        one byte at a time, spread over totalMs
//   { type: 'blocked', reason = 'SAFETY' }  Gemini: 200 with promptFeedback.blockReason and no
//        candidates; OpenAI: 400 content_filter error
//   { type: 'finish', reason, text? } Gemini: candidate with that finishReason (SAFETY etc.: no
//        content, safetyRatings blocked; MAX_TOKENS: truncated JSON). OpenAI: finish_reason
//        'length' (truncated JSON) or 'content_filter' (empty content). Gemini and OpenAI reason
//        names are mapped onto each other (MAX_TOKENS <-> length, SAFETY <-> content_filter).
//   { type: 'refusal', text? }       OpenAI: content null, refusal text; Gemini: a text answer
//   { type: 'oversized', bytes = 12 MiB, contentLength = false }  200 whose body is that big
//        (JSON-looking), streamed in 64 KiB chunks (chunked unless contentLength: true)
//   { type: 'hang' }                 never answer (until the client gives up or close())

import crypto from 'node:crypto';
import http from 'node:http';
import { decodePng } from './png.mjs';

/** Requests must stay under this (Gemini's inline-data request limit). */
export const MAX_REQUEST_BYTES = 20 * 1024 * 1024;
/** Largest image side the plugin may send. */
export const MAX_IMAGE_SIDE = 2048;
/** Bodies are kept in memory up to this size; beyond it they are only counted. */
const STORE_LIMIT = 64 * 1024 * 1024;
const TOKENS_PER_IMAGE = 258;
const DEFAULT_API_KEY = 'test-ai-key';
const DEFAULT_MODEL = 'gemini-2.5-flash-stand-in';

/** The findings every success step answers unless it brings its own (a valid object of the schema). */
export const DEFAULT_FINDINGS = Object.freeze({
  summary: 'Stand-in analysis: no acute abnormality; one incidental finding and one minor artifact.',
  findings: [
    {
      category: 'incidental',
      description: 'Small well-circumscribed hypodense lesion, most likely a simple cyst.',
      location: 'Liver, segment VI',
      confidence: 'medium',
      severity: 'mild',
    },
    {
      category: 'artifact',
      description: 'Mild streak artifact from dense material.',
      location: 'Upper abdomen',
      confidence: 'high',
      severity: 'normal',
    },
  ],
  recommendations: ['Correlate with prior imaging if available.', 'Consider follow-up ultrasound of the liver lesion.'],
  ai_confidence: 'high',
});

// Transport-level steps: they run as scripted even when the request had problems.
const TRANSPORT_STEPS = new Set(['reset', 'hang', 'drip', 'oversized']);

const GOOGLE_STATUS = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND',
  409: 'ABORTED', 429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};
const GOOGLE_MESSAGES = {
  400: 'Request contains an invalid argument.',
  403: 'The caller does not have permission',
  404: 'models/unknown is not found for API version v1beta, or is not supported for generateContent.',
  429: 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

// Gemini's responseSchema is the OpenAPI 3.0 subset of its Schema proto; proto JSON
// accepts lowerCamel and snake_case field names, anything else is "Unknown name".
const GEMINI_SCHEMA_KEYS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'max_items', 'minItems', 'min_items',
  'properties', 'required', 'minProperties', 'min_properties', 'maxProperties', 'max_properties',
  'minLength', 'min_length', 'maxLength', 'max_length', 'pattern', 'example', 'anyOf', 'any_of',
  'propertyOrdering', 'property_ordering', 'default', 'items', 'minimum', 'maximum',
]);
const GEMINI_FORBIDDEN_SCHEMA_KEYS = new Set(['$schema', 'additionalProperties', 'additional_properties', '$ref', '$defs']);
const GEMINI_TYPES = new Set(['OBJECT', 'ARRAY', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN']);
const OPENAI_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
const OPENAI_ROLES = new Set(['system', 'user', 'assistant']);

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
/** value of the first of `names` present in obj (Gemini accepts camelCase and snake_case) */
const pick = (obj, ...names) => {
  if (!isObj(obj)) return undefined;
  for (const n of names) if (obj[n] !== undefined) return obj[n];
  return undefined;
};
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

export async function startAiProvider(opts = {}) {
  const apiKey = opts.apiKey ?? DEFAULT_API_KEY;
  const forbidden = (opts.forbidden ?? []).filter((s) => typeof s === 'string' && s.length > 0);
  const model = opts.model ?? DEFAULT_MODEL;

  const queue = [];
  const sockets = new Set();
  const timers = new Set();
  let closed = false;

  // --- small helpers bound to this instance ------------------------------------------------

  /** setTimeout that close() cancels (so a closed provider keeps nothing alive) */
  function later(fn, ms) {
    const t = setTimeout(() => { timers.delete(t); if (!closed) fn(); }, Math.max(0, ms));
    timers.add(t);
    return t;
  }
  const sleep = (ms) => new Promise((resolve) => later(resolve, ms));

  function sendJson(res, status, obj, headers = {}) {
    if (res.destroyed || res.headersSent) return;
    const body = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': body.length, ...headers });
    res.end(body);
  }

  function geminiError(status, message, details) {
    const error = { code: status, message, status: GOOGLE_STATUS[status] ?? 'UNKNOWN' };
    if (details && details.length) error.details = details;
    return { error };
  }

  function openAiError(status, message, code, flat = false) {
    const type = status === 429 ? 'rate_limit_exceeded'
      : status >= 500 ? 'server_error'
      : status === 401 ? 'invalid_request_error'
      : status === 403 ? 'permission_error'
      : 'invalid_request_error';
    if (flat) return { object: 'error', message, type, param: null, code: status };
    return { error: { message, type, param: null, code: code ?? null } };
  }

  // --- the server ----------------------------------------------------------------------------

  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 5000 }, (req, res) => {
    handle(req, res).catch((err) => {
      // A bug in the stand-in itself: make it visible rather than hang the test.
      try { sendJson(res, 500, { error: { code: 500, message: `stand-in internal error: ${err.message}`, status: 'INTERNAL' } }); } catch { /* ignore */ }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err, socket) => { socket.destroy(); });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
  });

  const provider = {
    url: `http://127.0.0.1:${server.address().port}`,
    model,
    requests: [],
    otherRequests: [],
    defaultStep: { type: 'success' },
    concurrent: 0,
    maxConcurrent: 0,
    script(...steps) {
      for (const s of steps.flat()) queue.push(s);
      return provider;
    },
    problems() {
      return provider.requests.flatMap((r, i) => r.problems.map((p) => `#${i}: ${p}`));
    },
    reset() {
      provider.requests.length = 0;
      provider.otherRequests.length = 0;
      queue.length = 0;
      provider.defaultStep = { type: 'success' };
      provider.maxConcurrent = provider.concurrent;
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
      });
    },
  };

  // --- routing -------------------------------------------------------------------------------

  async function handle(req, res) {
    const url = new URL(req.url, 'http://stand-in');
    let pathname = url.pathname;
    try { pathname = decodeURIComponent(pathname); } catch { /* keep raw */ }
    const method = req.method;

    let m;
    if (method === 'POST' && (m = /^\/(v1beta|v1)\/models\/([^/:]+):generateContent$/.exec(pathname))) {
      return generate(req, res, url, 'gemini', m[2]);
    }
    if (method === 'POST' && pathname === '/v1/chat/completions') {
      return generate(req, res, url, 'openai', null);
    }

    // Everything else is recorded in otherRequests and answered without reading the body.
    req.resume();
    const other = { path: req.url, method, headers: { ...req.headers }, at: Date.now(), status: 0 };
    provider.otherRequests.push(other);
    const answer = (status, obj) => { other.status = status; sendJson(res, status, obj); };
    const hasGoogKey = req.headers['x-goog-api-key'] !== undefined;
    const hasBearer = /^bearer /i.test(req.headers.authorization ?? '');
    const bearerOk = !apiKey || req.headers.authorization === `Bearer ${apiKey}`;
    const geminiLike = hasGoogKey || pathname.startsWith('/v1beta') || pathname.includes(':');

    if (method === 'GET' && pathname === '/v1/models' && !hasGoogKey) {
      if (!bearerOk) return answer(401, openAiError(401, 'Incorrect API key provided.', 'invalid_api_key'));
      return answer(200, { object: 'list', data: [{ id: model, object: 'model', created: 1735689600, owned_by: 'stand-in' }] });
    }
    if (method === 'GET' && (m = /^\/(v1beta|v1)\/models\/([^/:]+)$/.exec(pathname))) {
      const name = m[2];
      if (m[1] === 'v1' && hasBearer && !hasGoogKey) { // OpenAI "retrieve model"
        if (!bearerOk) return answer(401, openAiError(401, 'Incorrect API key provided.', 'invalid_api_key'));
        return answer(200, { id: name, object: 'model', created: 1735689600, owned_by: 'stand-in' });
      }
      if ((req.headers['x-goog-api-key'] ?? '') !== apiKey || url.searchParams.has('key')) {
        return answer(403, geminiError(403, 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.'));
      }
      return answer(200, {
        name: `models/${name}`,
        version: '001',
        displayName: `${name} (stand-in)`,
        description: 'Local stand-in for integration tests',
        inputTokenLimit: 1048576,
        outputTokenLimit: 65536,
        supportedGenerationMethods: ['generateContent'],
      });
    }
    if (geminiLike) return answer(404, geminiError(404, `Method or model not found: ${method} ${pathname}`));
    return answer(404, openAiError(404, `Unknown route: ${method} ${pathname}`, 'not_found'));
  }

  // --- generate / chat -----------------------------------------------------------------------

  async function generate(req, res, url, dialect, pathModel) {
    const at = Date.now();
    provider.concurrent++;
    provider.maxConcurrent = Math.max(provider.maxConcurrent, provider.concurrent);
    let done = false;
    res.once('close', () => { if (!done) { done = true; provider.concurrent--; } });

    // Read the whole body (kept up to STORE_LIMIT, counted beyond).
    const chunks = [];
    let size = 0;
    const complete = await new Promise((resolve) => {
      req.on('data', (c) => { size += c.length; if (size <= STORE_LIMIT) chunks.push(c); });
      req.on('end', () => resolve(true));
      req.on('aborted', () => resolve(false));
      req.on('error', () => resolve(false));
      req.on('close', () => resolve(false)); // no-op if 'end' came first
    });
    if (!complete || closed) return; // client went away mid-body: nothing to record or answer

    const step = queue.length ? queue.shift() : provider.defaultStep;
    const body = Buffer.concat(chunks);
    const entry = {
      dialect,
      path: req.url,
      method: req.method,
      remotePort: req.socket.remotePort, // the client's port: which process sent it (ss -tnp)
      headers: { ...req.headers },
      json: null,
      bodyText: body.toString('utf8'),
      images: [],
      problems: [],
      step,
      at,
    };
    const publicProblems = []; // what the 400 answer says (forbidden strings are not echoed)
    const problem = (msg, pub = msg) => { entry.problems.push(msg); publicProblems.push(pub); };
    const ctx = { entry, problem, textChars: 0, imagePayloads: [], pngText: [], maxOutputTokens: null, model: pathModel };

    if (size >= MAX_REQUEST_BYTES) problem(`request body is ${size} bytes, not under the ${MAX_REQUEST_BYTES}-byte (20 MB) limit`);
    if (size > STORE_LIMIT) problem('request body too large to inspect');
    else if (dialect === 'gemini') checkGemini(req, url, ctx);
    else checkOpenAi(req, ctx);
    checkForbidden(ctx);
    provider.requests.push(entry);

    if (step?.delayMs > 0) {
      await sleep(step.delayMs);
      if (res.destroyed) return;
    }

    const type = step?.type ?? 'success';
    if (entry.problems.length && !TRANSPORT_STEPS.has(type)) {
      const msg = `Stand-in rejected the request: ${publicProblems.join('; ')}`.slice(0, 4000);
      if (dialect === 'gemini') {
        return sendJson(res, 400, geminiError(400, msg, [{
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: publicProblems.slice(0, 20).map((description) => ({ description })),
        }]));
      }
      return sendJson(res, 400, openAiError(400, msg, 'invalid_request'));
    }
    return answer(req, res, dialect, step ?? {}, ctx);
  }

  // --- checks ---------------------------------------------------------------------------------

  function parseJsonBody(req, ctx) {
    const { entry, problem } = ctx;
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      problem(`content-type is ${JSON.stringify(req.headers['content-type'] ?? null)}, not application/json`);
    }
    try {
      entry.json = JSON.parse(entry.bodyText);
    } catch (err) {
      problem(`body is not valid JSON: ${err.message}`);
      return null;
    }
    if (!isObj(entry.json)) { problem('body is not a JSON object'); return null; }
    return entry.json;
  }

  /**
   * Inspect one base64 image payload: raw base64 of a PNG that decodePng reads, largest
   * side <= MAX_IMAGE_SIDE. Records it in entry.images.
   */
  function inspectImage(b64, mime, where, ctx) {
    const { entry, problem } = ctx;
    if (typeof b64 !== 'string' || b64.length === 0) { problem(`${where}: image data missing`); return; }
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) {
      problem(`${where}: image data is not plain base64 (no whitespace, no URL-safe alphabet, padded)`);
      return;
    }
    ctx.imagePayloads.push(b64);
    const bytes = Buffer.from(b64, 'base64');
    const image = { mime, bytes, width: null, height: null, sha256: sha256(bytes) };
    entry.images.push(image);
    if (mime !== 'image/png') problem(`${where}: mime type is ${JSON.stringify(mime)}, expected image/png`);

    // Look at the chunks first: size from IHDR (before decoding anything big), text chunks for PHI.
    const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    if (bytes.length < 33 || !bytes.subarray(0, 8).equals(sig) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
      problem(`${where}: image data is not a PNG`);
      return;
    }
    const width = bytes.readUInt32BE(16), height = bytes.readUInt32BE(20);
    image.width = width; image.height = height;
    for (let pos = 8; pos + 8 <= bytes.length;) {
      const len = bytes.readUInt32BE(pos);
      const kind = bytes.toString('latin1', pos + 4, pos + 8);
      if (kind !== 'IDAT' && kind !== 'IHDR' && kind !== 'IEND' && kind !== 'PLTE') {
        ctx.pngText.push(bytes.toString('latin1', pos + 8, Math.min(bytes.length, pos + 8 + len)));
      }
      if (kind === 'IEND') break;
      pos += 12 + len;
    }
    if (width === 0 || height === 0) { problem(`${where}: PNG is ${width}x${height}`); return; }
    if (Math.max(width, height) > MAX_IMAGE_SIDE) {
      problem(`${where}: PNG is ${width}x${height}, largest side over ${MAX_IMAGE_SIDE} px`);
      return;
    }
    try {
      const png = decodePng(bytes);
      const expected = png.width * png.height * png.channels;
      if (png.pixels.length !== expected) throw new Error('pixel data size mismatch');
    } catch (err) {
      problem(`${where}: PNG does not decode (8-bit grey/RGB, not interlaced): ${err.message}`);
    }
  }

  function checkGemini(req, url, ctx) {
    const { problem } = ctx;
    const key = req.headers['x-goog-api-key'];
    if (key === undefined) problem('x-goog-api-key header missing');
    else if (key !== apiKey) problem('x-goog-api-key header does not match the expected API key');
    if (url.searchParams.has('key') || /[?&]key=/i.test(url.search)) {
      problem('API key passed in the URL query (key=): it leaks into logs; use the x-goog-api-key header');
    }
    const json = parseJsonBody(req, ctx);
    if (!json) return;

    // contents
    const contents = json.contents;
    if (!Array.isArray(contents) || contents.length === 0) problem('contents must be a non-empty array');
    else {
      contents.forEach((c, i) => {
        const where = `contents[${i}]`;
        if (!isObj(c)) { problem(`${where} is not an object`); return; }
        if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') problem(`${where}.role ${JSON.stringify(c.role)} is not user/model`);
        checkGeminiParts(c.parts, `${where}.parts`, ctx, true);
      });
    }

    // system instruction
    const sys = pick(json, 'system_instruction', 'systemInstruction');
    if (!isObj(sys)) problem('system_instruction missing');
    else {
      checkGeminiParts(sys.parts, 'system_instruction.parts', ctx, false);
      if (!Array.isArray(sys.parts) || !sys.parts.some((p) => typeof p?.text === 'string' && p.text.trim())) {
        problem('system_instruction has no text part');
      }
    }

    // generation config
    const gc = pick(json, 'generationConfig', 'generation_config');
    if (!isObj(gc)) { problem('generationConfig missing'); return; }
    const mime = pick(gc, 'responseMimeType', 'response_mime_type');
    if (mime !== 'application/json') problem(`generationConfig.responseMimeType is ${JSON.stringify(mime ?? null)}, not application/json`);
    const max = pick(gc, 'maxOutputTokens', 'max_output_tokens');
    if (Number.isInteger(max)) ctx.maxOutputTokens = max;
    const schema = pick(gc, 'responseSchema', 'response_schema');
    if (schema === undefined) problem('generationConfig.responseSchema missing');
    else walkGeminiSchema(schema, 'responseSchema', problem);
  }

  function checkGeminiParts(parts, where, ctx, imagesAllowed) {
    const { problem } = ctx;
    if (!Array.isArray(parts) || parts.length === 0) { problem(`${where} must be a non-empty array`); return; }
    parts.forEach((p, j) => {
      const w = `${where}[${j}]`;
      if (!isObj(p)) { problem(`${w} is not an object`); return; }
      const inline = pick(p, 'inline_data', 'inlineData');
      const hasText = p.text !== undefined;
      if (hasText && inline !== undefined) { problem(`${w} has both text and inline_data`); }
      if (hasText) {
        if (typeof p.text !== 'string') problem(`${w}.text is not a string`);
        else ctx.textChars += p.text.length;
      } else if (inline !== undefined) {
        if (!imagesAllowed) problem(`${w}: inline_data is not allowed here`);
        if (!isObj(inline)) { problem(`${w}.inline_data is not an object`); return; }
        const mime = pick(inline, 'mime_type', 'mimeType');
        let data = inline.data;
        if (typeof data === 'string' && /^data:/i.test(data)) {
          problem(`${w}.inline_data.data starts with a data: URL prefix; Gemini wants raw base64`);
          data = data.slice(data.indexOf(',') + 1); // still inspect the image for the record
        }
        inspectImage(data, mime, `${w}.inline_data`, ctx);
      } else {
        problem(`${w} has neither text nor inline_data (keys: ${Object.keys(p).join(', ') || 'none'})`);
      }
    });
  }

  function walkGeminiSchema(s, where, problem) {
    if (!isObj(s)) { problem(`${where} is not an object`); return; }
    for (const k of Object.keys(s)) {
      if (GEMINI_FORBIDDEN_SCHEMA_KEYS.has(k)) problem(`${where} has "${k}", which Gemini's responseSchema rejects`);
      else if (!GEMINI_SCHEMA_KEYS.has(k)) problem(`${where} has unknown key "${k}" (not a Gemini Schema field)`);
    }
    const anyOf = pick(s, 'anyOf', 'any_of');
    if (s.type === undefined) {
      if (anyOf === undefined) problem(`${where} has no type`);
    } else if (typeof s.type !== 'string' || !GEMINI_TYPES.has(s.type)) {
      problem(`${where}.type ${JSON.stringify(s.type)} is not an upper-case Gemini type (OBJECT, ARRAY, STRING, NUMBER, INTEGER, BOOLEAN)`);
    }
    if (s.properties !== undefined) {
      if (!isObj(s.properties)) problem(`${where}.properties is not an object`);
      else for (const [k, v] of Object.entries(s.properties)) walkGeminiSchema(v, `${where}.properties.${k}`, problem);
    }
    if (s.type === 'OBJECT' && (!isObj(s.properties) || Object.keys(s.properties).length === 0)) {
      problem(`${where}.properties should be non-empty for OBJECT type`);
    }
    if (s.required !== undefined) {
      if (!Array.isArray(s.required) || !s.required.every((k) => typeof k === 'string')) problem(`${where}.required is not an array of strings`);
      else for (const k of s.required) if (!isObj(s.properties) || !(k in s.properties)) problem(`${where}.required names "${k}", which is not in properties`);
    }
    if (s.enum !== undefined && (!Array.isArray(s.enum) || !s.enum.every((v) => typeof v === 'string'))) {
      problem(`${where}.enum is not an array of strings`);
    }
    if (s.type === 'ARRAY' && s.items === undefined) problem(`${where}.items missing for ARRAY type`);
    if (s.items !== undefined) walkGeminiSchema(s.items, `${where}.items`, problem);
    if (anyOf !== undefined) {
      if (!Array.isArray(anyOf)) problem(`${where}.anyOf is not an array`);
      else anyOf.forEach((v, i) => walkGeminiSchema(v, `${where}.anyOf[${i}]`, problem));
    }
  }

  function checkOpenAi(req, ctx) {
    const { problem } = ctx;
    if (apiKey) {
      const auth = req.headers.authorization;
      if (auth === undefined) problem('authorization header missing');
      else if (auth !== `Bearer ${apiKey}`) problem('authorization header is not "Bearer <expected API key>"');
    }
    const json = parseJsonBody(req, ctx);
    if (!json) return;
    if (typeof json.model !== 'string' || !json.model) problem('model must be a non-empty string');
    else ctx.model = json.model;
    if (json.stream === true) problem('stream: true is not supported (the plugin must ask for a whole answer)');
    const max = json.max_completion_tokens ?? json.max_tokens;
    if (Number.isInteger(max)) ctx.maxOutputTokens = max;

    const messages = json.messages;
    if (!Array.isArray(messages) || messages.length === 0) problem('messages must be a non-empty array');
    else {
      messages.forEach((msg, i) => {
        const where = `messages[${i}]`;
        if (!isObj(msg)) { problem(`${where} is not an object`); return; }
        if (!OPENAI_ROLES.has(msg.role)) problem(`${where}.role ${JSON.stringify(msg.role)} is not system/user/assistant`);
        const content = msg.content;
        if (typeof content === 'string') { ctx.textChars += content.length; return; }
        if (!Array.isArray(content) || content.length === 0) { problem(`${where}.content must be a string or a non-empty array of parts`); return; }
        content.forEach((part, j) => {
          const w = `${where}.content[${j}]`;
          if (!isObj(part)) { problem(`${w} is not an object`); return; }
          if (part.type === 'text') {
            if (typeof part.text !== 'string') problem(`${w}.text is not a string`);
            else ctx.textChars += part.text.length;
          } else if (part.type === 'image_url') {
            if (msg.role !== 'user') problem(`${w}: image parts are only allowed in user messages`);
            const url = part.image_url?.url;
            const m = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
            if (!m) { problem(`${w}.image_url.url is not a data:image/png;base64,... URL`); return; }
            inspectImage(m[2], m[1], `${w}.image_url`, ctx);
          } else {
            problem(`${w}.type ${JSON.stringify(part.type)} is not text/image_url`);
          }
        });
      });
    }

    const rf = json.response_format;
    if (!isObj(rf)) { problem('response_format missing'); return; }
    if (rf.type !== 'json_schema') problem(`response_format.type is ${JSON.stringify(rf.type ?? null)}, not json_schema`);
    const js = rf.json_schema;
    if (!isObj(js)) { problem('response_format.json_schema missing'); return; }
    if (typeof js.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(js.name)) problem('response_format.json_schema.name must match ^[a-zA-Z0-9_-]{1,64}$');
    if (js.strict !== true) problem('response_format.json_schema.strict is not true');
    if (js.schema === undefined) problem('response_format.json_schema.schema missing');
    else walkOpenAiSchema(js.schema, 'json_schema.schema', problem, true);
  }

  function walkOpenAiSchema(s, where, problem, root = false) {
    if (!isObj(s)) { problem(`${where} is not an object`); return; }
    const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
    for (const t of types) if (!OPENAI_TYPES.has(t)) problem(`${where}.type ${JSON.stringify(t)} is not a (lower-case) JSON Schema type`);
    if (root && !types.includes('object')) problem(`${where}: the root schema must be of type object`);
    if (types.includes('object') || s.properties !== undefined) {
      if (s.additionalProperties !== false) problem(`${where} must have additionalProperties: false (strict mode)`);
      const keys = isObj(s.properties) ? Object.keys(s.properties) : [];
      if (s.properties !== undefined && !isObj(s.properties)) problem(`${where}.properties is not an object`);
      if (!Array.isArray(s.required)) {
        if (keys.length) problem(`${where} has no required array (strict mode needs every property required)`);
      } else {
        const missing = keys.filter((k) => !s.required.includes(k));
        if (missing.length) problem(`${where}.required lacks ${missing.join(', ')} (strict mode needs every property required)`);
        const extra = s.required.filter((k) => !keys.includes(k));
        if (extra.length) problem(`${where}.required names ${extra.join(', ')}, which are not in properties`);
      }
      for (const k of keys) walkOpenAiSchema(s.properties[k], `${where}.properties.${k}`, problem);
    }
    if (s.items !== undefined) {
      if (Array.isArray(s.items)) s.items.forEach((v, i) => walkOpenAiSchema(v, `${where}.items[${i}]`, problem));
      else walkOpenAiSchema(s.items, `${where}.items`, problem);
    }
    for (const k of ['anyOf', 'allOf', 'oneOf']) {
      if (Array.isArray(s[k])) s[k].forEach((v, i) => walkOpenAiSchema(v, `${where}.${k}[${i}]`, problem));
    }
    for (const k of ['$defs', 'definitions']) {
      if (isObj(s[k])) for (const [n, v] of Object.entries(s[k])) walkOpenAiSchema(v, `${where}.${k}.${n}`, problem);
    }
  }

  /**
   * No forbidden string (PHI) anywhere in the request, case-insensitively. The base64
   * image payloads are blanked first (random base64 would match short strings by chance);
   * text chunks inside the PNGs are searched instead.
   */
  function checkForbidden(ctx) {
    if (!forbidden.length) return;
    let text = ctx.entry.bodyText;
    for (const p of ctx.imagePayloads) if (p.length >= 64) text = text.split(p).join('<image>');
    const lower = text.toLowerCase();
    const pngLower = ctx.pngText.join('\n').toLowerCase();
    forbidden.forEach((s, i) => {
      const needle = s.toLowerCase();
      if (lower.includes(needle)) {
        ctx.problem(`request contains a forbidden string: ${s}`, `request contains forbidden string #${i} (not repeated here)`);
      } else if (pngLower.includes(needle)) {
        ctx.problem(`request contains a forbidden string: ${s} (in a PNG text chunk)`, `request contains forbidden string #${i} in a PNG text chunk (not repeated here)`);
      }
    });
  }

  // --- answers --------------------------------------------------------------------------------

  const tokens = (chars) => Math.ceil(chars / 4);

  function usage(ctx, outChars) {
    const imageTokens = TOKENS_PER_IMAGE * ctx.entry.images.length;
    const textTokens = tokens(ctx.textChars);
    const prompt = imageTokens + textTokens;
    const out = tokens(outChars);
    return { prompt, out, imageTokens, textTokens };
  }

  function geminiUsage(ctx, outChars, thoughtChars = 0) {
    const u = usage(ctx, outChars);
    const meta = {
      promptTokenCount: u.prompt,
      candidatesTokenCount: u.out,
      totalTokenCount: u.prompt + u.out,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.textTokens }],
    };
    if (u.imageTokens) meta.promptTokensDetails.push({ modality: 'IMAGE', tokenCount: u.imageTokens });
    if (thoughtChars) {
      meta.thoughtsTokenCount = tokens(thoughtChars);
      meta.totalTokenCount += meta.thoughtsTokenCount;
    }
    return meta;
  }

  const responseId = () => crypto.randomBytes(12).toString('base64url');

  /** Gemini 200 body; text null = candidate without content */
  function geminiBody(ctx, text, finishReason = 'STOP', { thought, splitParts, safetyBlocked } = {}) {
    const candidate = {};
    if (text !== null) {
      const parts = [];
      if (thought) parts.push({ text: thought, thought: true });
      const n = Math.max(1, Math.min(Number(splitParts) || 1, text.length || 1));
      const size = Math.ceil(text.length / n) || 0;
      if (n === 1) parts.push({ text });
      else for (let i = 0; i < text.length; i += size) parts.push({ text: text.slice(i, i + size) });
      candidate.content = { parts, role: 'model' };
    }
    candidate.finishReason = finishReason;
    candidate.index = 0;
    if (safetyBlocked) candidate.safetyRatings = safetyRatings(true);
    return {
      candidates: [candidate],
      usageMetadata: geminiUsage(ctx, text?.length ?? 0, thought?.length ?? 0),
      modelVersion: model,
      responseId: responseId(),
    };
  }

  function safetyRatings(blocked) {
    return [
      { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
      { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
      { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
      blocked
        ? { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }
        : { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
    ];
  }

  /** OpenAI 200 body; content may be null (refusal) */
  function openAiBody(ctx, content, finishReason = 'stop', refusal = null) {
    const u = usage(ctx, (content ?? refusal ?? '').length);
    return {
      id: `chatcmpl-${crypto.randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: 'fp_stand_in',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal }, logprobs: null, finish_reason: finishReason }],
      usage: { prompt_tokens: u.prompt, completion_tokens: u.out, total_tokens: u.prompt + u.out },
    };
  }

  const findingsText = (findings) => (typeof findings === 'string' ? findings : JSON.stringify(findings ?? DEFAULT_FINDINGS, null, 2));
  const truncatedText = () => { const full = findingsText(); return full.slice(0, Math.floor(full.length * 0.6)); };
  const successBody = (dialect, ctx, text, step = {}) => (dialect === 'gemini'
    ? geminiBody(ctx, text, 'STOP', { thought: step.thought, splitParts: step.splitParts })
    : openAiBody(ctx, text));

  function answer(req, res, dialect, step, ctx) {
    const gemini = dialect === 'gemini';
    switch (step.type ?? 'success') {
      case 'success':
        return sendJson(res, 200, successBody(dialect, ctx, findingsText(step.findings), step));

      case 'text':
        return sendJson(res, 200, successBody(dialect, ctx, String(step.text ?? ''), step));

      case 'schemaBreak': {
        const broken = JSON.parse(JSON.stringify(DEFAULT_FINDINGS));
        broken.findings[0].severity = 'huge';
        delete broken.ai_confidence;
        return sendJson(res, 200, successBody(dialect, ctx, JSON.stringify(broken, null, 2), step));
      }

      case 'status': {
        const status = Number(step.status) || 500;
        const headers = step.retryAfter !== undefined ? { 'retry-after': String(step.retryAfter) } : {};
        if (gemini) {
          const details = [];
          if (status === 429) {
            details.push({
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [{
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId: step.perDay ? 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' : 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                quotaDimensions: { location: 'global', model: ctx.model ?? model },
                quotaValue: step.perDay ? '250' : '10',
              }],
            });
            details.push({
              '@type': 'type.googleapis.com/google.rpc.Help',
              links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
            });
            if (step.retryDelay !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: step.retryDelay });
          }
          const message = step.message ?? GOOGLE_MESSAGES[status] ?? `Stand-in error ${status}`;
          return sendJson(res, status, geminiError(status, message, details), headers);
        }
        const code = status === 429 ? (step.perDay ? 'insufficient_quota' : 'rate_limit_exceeded')
          : status === 401 ? 'invalid_api_key' : status === 404 ? 'model_not_found' : null;
        const message = step.message ?? (status === 429
          ? (step.perDay ? 'You exceeded your current quota, please check your plan and billing details.' : `Rate limit reached for ${ctx.model ?? model}. Please try again later.`)
          : status >= 500 ? 'The server had an error while processing your request. Sorry about that!'
          : `Stand-in error ${status}`);
        return sendJson(res, status, openAiError(status, message, code, step.flat), headers);
      }

      case 'reset': {
        const socket = req.socket;
        if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
        else socket.destroy();
        return;
      }

      case 'hang':
        return; // the socket stays open until the client gives up or close() destroys it

      case 'drip': {
        const buf = Buffer.from(JSON.stringify(successBody(dialect, ctx, findingsText(step.findings), step)));
        const totalMs = Number(step.totalMs) > 0 ? Number(step.totalMs) : 10000;
        res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': buf.length });
        res.flushHeaders();
        const start = Date.now();
        const interval = Math.max(1, totalMs / buf.length);
        let sent = 0;
        const tick = () => {
          if (res.destroyed) return;
          // one byte per interval, catching up if the timers run late
          const due = Math.min(buf.length, Math.max(sent + 1, Math.floor(((Date.now() - start) / totalMs) * buf.length)));
          res.write(buf.subarray(sent, due));
          sent = due;
          if (sent >= buf.length) res.end();
          else later(tick, interval);
        };
        later(tick, interval);
        return;
      }

      case 'blocked': {
        const reason = step.reason ?? 'SAFETY';
        if (gemini) {
          const u = usage(ctx, 0);
          const feedback = { blockReason: reason };
          if (reason === 'SAFETY') feedback.safetyRatings = safetyRatings(true);
          return sendJson(res, 200, {
            promptFeedback: feedback,
            usageMetadata: { promptTokenCount: u.prompt, totalTokenCount: u.prompt },
            modelVersion: model,
            responseId: responseId(),
          });
        }
        return sendJson(res, 400, {
          error: {
            message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
            type: 'invalid_request_error',
            param: 'prompt',
            code: 'content_filter',
          },
        });
      }

      case 'finish': {
        let reason = step.reason ?? (gemini ? 'MAX_TOKENS' : 'length');
        if (gemini) {
          reason = { length: 'MAX_TOKENS', content_filter: 'SAFETY', stop: 'STOP' }[reason] ?? reason;
          let text;
          if ('text' in step) text = step.text;
          else if (reason === 'STOP') text = findingsText();
          else if (reason === 'MAX_TOKENS') text = truncatedText();
          else text = null; // SAFETY, RECITATION, OTHER, ...: no content
          const body = geminiBody(ctx, text, reason, { safetyBlocked: reason === 'SAFETY' });
          if (reason === 'MAX_TOKENS' && ctx.maxOutputTokens) {
            body.usageMetadata.totalTokenCount += ctx.maxOutputTokens - body.usageMetadata.candidatesTokenCount;
            body.usageMetadata.candidatesTokenCount = ctx.maxOutputTokens;
          }
          return sendJson(res, 200, body);
        }
        reason = { MAX_TOKENS: 'length', SAFETY: 'content_filter', STOP: 'stop' }[reason] ?? reason;
        const content = 'text' in step ? step.text
          : reason === 'length' ? truncatedText()
          : reason === 'content_filter' ? ''
          : findingsText();
        return sendJson(res, 200, openAiBody(ctx, content, reason));
      }

      case 'refusal': {
        const text = step.text ?? "I'm sorry, but I can't help with interpreting medical images.";
        if (gemini) return sendJson(res, 200, geminiBody(ctx, text));
        return sendJson(res, 200, openAiBody(ctx, null, 'stop', text));
      }

      case 'oversized':
        return streamOversized(res, gemini, step);

      default: {
        ctx.entry.problems.push(`stand-in: unknown step type ${JSON.stringify(step.type)}`);
        return sendJson(res, 500, gemini
          ? geminiError(500, `stand-in: unknown step type ${step.type}`)
          : openAiError(500, `stand-in: unknown step type ${step.type}`));
      }
    }
  }

  /** a 200 answer of exactly `bytes` bytes, JSON-looking, written in 64 KiB chunks with back-pressure */
  async function streamOversized(res, gemini, step) {
    const bytes = Number(step.bytes) > 0 ? Math.floor(Number(step.bytes)) : 12 * 1024 * 1024;
    const prefix = gemini
      ? '{"candidates":[{"content":{"parts":[{"text":"'
      : `{"id":"chatcmpl-oversized","object":"chat.completion","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"choices":[{"index":0,"message":{"role":"assistant","content":"`;
    const suffix = gemini
      ? `"}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":${JSON.stringify(model)}}`
      : '","refusal":null},"finish_reason":"stop"}]}';
    const headers = { 'content-type': 'application/json; charset=UTF-8' };
    if (step.contentLength) headers['content-length'] = bytes;
    res.writeHead(200, headers);
    const head = Buffer.from(prefix);
    const tail = Buffer.from(suffix);
    const fitsTail = bytes >= head.length + tail.length;
    let padding = Math.max(0, bytes - head.length - (fitsTail ? tail.length : 0));
    const chunk = Buffer.alloc(64 * 1024, 'A');
    const write = async (buf) => {
      if (res.destroyed) return false;
      if (!res.write(buf)) {
        await new Promise((resolve) => {
          const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      return !res.destroyed;
    };
    if (!(await write(head.subarray(0, Math.min(head.length, bytes))))) return;
    while (padding > 0) {
      const n = Math.min(padding, chunk.length);
      if (!(await write(chunk.subarray(0, n)))) return;
      padding -= n;
    }
    if (fitsTail && !(await write(tail))) return;
    res.end();
  }

  return provider;
}
