// Fetch wrapper of the plugin's REST API (documented in README.md, section "REST API"), the worklist's types and their decoders.
import { DecodeError, arrayOf, bool, fields, id, isRecord, num, object, optArrayOf, str, strOrNull, strings, type JsonObject } from './decode';

export type SortKey = 'studyDate' | 'patientName' | 'receivedAt';
export type SortOrder = 'asc' | 'desc';

/** One study as listed by GET /api/dicom/studies. All strings are untrusted. */
export interface Study {
  studyInstanceUid: string;
  orthancId: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accessionNumber: string;
  referringPhysicianName: string;
  institutionName: string;
  modalities: string[];
  seriesCount: number;
  instanceCount: number;
  receivedAt: string;
  updatedAt: string;
  aiStatus: string | null;
  reviewStatus: string | null;
  reportStatus: string | null;
  /** The study's report id (string of digits), null without a report. */
  reportId?: string | null;
  /** Critical and not yet acknowledged (for a physician: not by them). */
  reportCritical?: boolean;
}

export interface StudyList {
  data: Study[];
  total: number;
  limit: number;
  offset: number;
}

export interface Instance {
  sopInstanceUid: string;
  orthancId: string;
  sopClassUid: string;
  instanceNumber: number | null;
  numberOfFrames: number;
  imagePositionPatient: [number, number, number] | null;
  imageOrientationPatient: number[] | null;
  transferSyntaxUid: string;
}

export interface Series {
  seriesInstanceUid: string;
  orthancId: string;
  seriesNumber: number | null;
  modality: string;
  seriesDescription: string;
  bodyPartExamined: string;
  instanceCount: number;
  instances: Instance[];
}

export interface StudyDetail extends Study {
  series: Series[];
}

/** Query arguments of GET /api/dicom/studies (all optional). */
export interface StudyQuery {
  patientName?: string;
  patientId?: string;
  accessionNumber?: string;
  modality?: string;
  studyDateFrom?: string;
  studyDateTo?: string;
  description?: string;
  q?: string;
  /** Status of the latest AI analysis, comma list; "none" = no analysis. */
  aiStatus?: string;
  /** Review status of the latest completed analysis, comma list. */
  reviewStatus?: string;
  /** Report filter: unreported | mine | preliminary | final | critical. */
  report?: string;
  sort?: SortKey;
  order?: SortOrder;
  limit?: number;
  offset?: number;
}

/** Error answered by the API ({"error":{"code","message"}}) or a transport failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /**
   * The parsed JSON body of the answer (null when none): some error answers carry a document (the 503 of
   * GET health). Not enumerable, so errors still compare by status, code and message.
   */
  declare readonly body: unknown;

  constructor(status: number, code: string, message: string, body: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    Object.defineProperty(this, 'body', { value: body, enumerable: false });
  }
}

const DEFAULT_ROOT = '/api/';

/** API root from <meta name="rr-api-root">, "/api/" when absent; always ends with "/". */
export function apiRoot(doc: Document | undefined = globalThis.document): string {
  const value = doc?.querySelector('meta[name="rr-api-root"]')?.getAttribute('content')?.trim();
  const root = value ? value : DEFAULT_ROOT;
  return root.endsWith('/') ? root : `${root}/`;
}

/**
 * Encodes a query-string component (form style: space -> "+"), leaving unescaped the characters
 * that are legal as-is in a URL query (",", "*", "?", ":", "/", "@", "$", ";"): modality lists
 * ("CT,MR") and DICOM wildcards reach the server verbatim even if it does not percent-decode.
 */
export function encodeQueryComponent(value: string): string {
  return encodeURIComponent(value)
    .replace(/%20/g, '+')
    .replace(/%(2C|3F|3A|2F|40|24|3B)/gi, (m) => decodeURIComponent(m));
}

/** Orthanc's own root (for /instances, /app/explorer.html) from <meta name="rr-orthanc-root">, "/" when absent. */
export function orthancRoot(doc: Document | undefined = globalThis.document): string {
  const value = doc?.querySelector('meta[name="rr-orthanc-root"]')?.getAttribute('content')?.trim();
  const root = value ? value : '/';
  return root.endsWith('/') ? root : `${root}/`;
}

/** Builds the query string of a StudyQuery, skipping empty values. */
export function studyQueryString(query: StudyQuery): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query) as [string, string | number | undefined][]) {
    if (value === undefined) continue;
    const text = typeof value === 'number' ? String(value) : value.trim();
    if (text !== '') parts.push(`${encodeQueryComponent(key)}=${encodeQueryComponent(text)}`);
  }
  return parts.join('&');
}

/** Error code of a status when the body names none ({"error": "sentence"}). */
function codeOfStatus(status: number): string {
  const codes: Record<number, string> = { 400: 'invalid_argument', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 503: 'unavailable' };
  return codes[status] ?? 'error';
}

/** ApiError of an error answer: {"error": {"code", "message"}} or {"error": "sentence"} (AI routes). */
export function errorFromBody(status: number, statusText: string, body: unknown): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const code = typeof body.error.code === 'string' ? body.error.code : 'error';
    const message = typeof body.error.message === 'string' ? body.error.message : `HTTP ${status}`;
    return new ApiError(status, code, message, body);
  }
  if (isRecord(body) && typeof body.error === 'string' && body.error.trim() !== '') {
    return new ApiError(status, codeOfStatus(status), body.error, body);
  }
  return new ApiError(status, 'http', `HTTP ${status}${statusText ? ` ${statusText}` : ''}`, body);
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Methods that change state: they carry the X-CSRF-Token header. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

export const CSRF_HEADER = 'X-CSRF-Token';

/** Session hooks installed by the session (see session.ts). */
export interface ApiHooks {
  /** CSRF token sent with state-changing requests (null: none known). */
  csrfToken?(): string | null;
  /**
   * A request answered 403 with an empty body: resolves true when the session is over (the app then
   * shows the login page), false when the user is logged in but not allowed this request.
   */
  onEmpty403?(): Promise<boolean>;
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /** Answer 403-with-empty-body as an ApiError without asking the session hook (auth endpoints). */
  raw403?: boolean;
  /** Accept an empty (or non-object) 2xx body: resolves null then. */
  allowEmpty?: boolean;
  /** Extra request headers (If-Match). */
  headers?: Record<string, string>;
}

/** code of the ApiError thrown when the session is over (403 with an empty body). */
export const SESSION_ENDED = 'session_ended';
/** code of the ApiError thrown for 403 with an empty body while the session is still valid. */
export const FORBIDDEN = 'forbidden';

/** code and message of the ApiError of an answer that is not what the API documents. */
export const BAD_RESPONSE = 'bad_response';
export const BAD_RESPONSE_MESSAGE = 'Unexpected answer from the server';

export function isSessionEnded(err: unknown): boolean {
  return err instanceof ApiError && err.code === SESSION_ENDED;
}

export class Api {
  readonly root: string;
  private readonly fetchFn: FetchLike;
  private hooks: ApiHooks;

  constructor(root: string = apiRoot(), fetchFn: FetchLike = (input, init) => fetch(input, init), hooks: ApiHooks = {}) {
    this.root = root.endsWith('/') ? root : `${root}/`;
    this.fetchFn = fetchFn;
    this.hooks = hooks;
  }

  setHooks(hooks: ApiHooks): void {
    this.hooks = hooks;
  }

  /**
   * Headers of a request: Accept, X-Requested-With (the plugin never answers such a request with an HTTP
   * Basic challenge, which would make the browser show its own login dialog), JSON content type, and the
   * CSRF token for state-changing methods.
   */
  headersFor(method: string, hasBody: boolean): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
    if (hasBody) headers['Content-Type'] = 'application/json';
    if (STATE_CHANGING_METHODS.has(method.toUpperCase())) {
      const token = this.hooks.csrfToken?.();
      if (token) headers[CSRF_HEADER] = token;
    }
    return headers;
  }

  /** 403 with an empty body: "not logged in / session over", unless the session says otherwise. */
  async empty403(raw = false): Promise<ApiError> {
    const ended = raw || !this.hooks.onEmpty403 ? true : await this.hooks.onEmpty403();
    return ended
      ? new ApiError(403, SESSION_ENDED, 'Your session has ended. Please log in again.')
      : new ApiError(403, FORBIDDEN, 'You are not allowed to do this.');
  }

  /**
   * Any request below the API root; JSON in and out. Resolves the answer's JSON object (null for an empty
   * or non-object answer when opts.allowEmpty). Rejects with ApiError (or AbortError).
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<JsonObject | null> {
    const hasBody = opts.body !== undefined;
    let response: Response;
    let text: string;
    try {
      response = await this.fetchFn(this.root + path, {
        method,
        headers: { ...this.headersFor(method, hasBody), ...(opts.headers ?? {}) },
        credentials: 'same-origin',
        ...(hasBody ? { body: JSON.stringify(opts.body) } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      text = await response.text();
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new ApiError(0, 'network', `Network error: ${detail}`);
    }
    let body: unknown = null;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text) as unknown;
      } catch {
        body = null;
      }
    }
    if (response.status === 403 && text.trim() === '') throw await this.empty403(opts.raw403 === true);
    if (!response.ok) throw errorFromBody(response.status, response.statusText, body);
    if (!isRecord(body)) {
      if (opts.allowEmpty) return null;
      throw new ApiError(response.status, BAD_RESPONSE, BAD_RESPONSE_MESSAGE);
    }
    return body;
  }

  /**
   * A request whose answer is read by `decode` (decode.ts readers). An answer of the wrong shape rejects
   * with ApiError 'bad_response' saying where ("Unexpected answer from the server: data: expected an array").
   */
  async decoded<T>(method: string, path: string, decode: (body: JsonObject | null) => T, opts: RequestOptions = {}): Promise<T> {
    const body = await this.request(method, path, opts);
    try {
      return decode(body);
    } catch (err) {
      if (err instanceof DecodeError) throw new ApiError(200, BAD_RESPONSE, `${BAD_RESPONSE_MESSAGE}: ${err.message}`);
      throw err;
    }
  }

  /** GET a JSON document below the API root, read by `decode`; rejects with ApiError. */
  getJson<T>(path: string, decode: (body: JsonObject | null) => T, signal?: AbortSignal): Promise<T> {
    return this.decoded('GET', path, decode, signal ? { signal } : {});
  }

  listStudies(query: StudyQuery, signal?: AbortSignal): Promise<StudyList> {
    const qs = studyQueryString(query);
    return this.getJson(`dicom/studies${qs ? `?${qs}` : ''}`, decodeStudyList, signal);
  }

  getStudy(studyInstanceUid: string, signal?: AbortSignal): Promise<StudyDetail> {
    return this.getJson(`dicom/studies/${encodeURIComponent(studyInstanceUid)}`, decodeStudyDetail, signal);
  }
}

// ---- decoders of the worklist's answers ----------------------------------------------------

/** Study fields as GET dicom/studies lists them; missing or mistyped fields get neutral values. */
export function decodeStudy(v: unknown, path = 'study'): Study {
  const r = object(v, path);
  return {
    studyInstanceUid: str(r.studyInstanceUid),
    orthancId: str(r.orthancId),
    patientName: str(r.patientName),
    patientId: str(r.patientId),
    patientBirthDate: str(r.patientBirthDate),
    patientSex: str(r.patientSex),
    studyDate: str(r.studyDate),
    studyTime: str(r.studyTime),
    studyDescription: str(r.studyDescription),
    accessionNumber: str(r.accessionNumber),
    referringPhysicianName: str(r.referringPhysicianName),
    institutionName: str(r.institutionName),
    modalities: strings(r.modalities),
    seriesCount: num(r.seriesCount) ?? 0,
    instanceCount: num(r.instanceCount) ?? 0,
    receivedAt: str(r.receivedAt),
    updatedAt: str(r.updatedAt),
    aiStatus: strOrNull(r.aiStatus),
    reviewStatus: strOrNull(r.reviewStatus),
    reportStatus: strOrNull(r.reportStatus),
    reportId: r.reportId === null || r.reportId === undefined ? null : id(r.reportId) || null,
    reportCritical: bool(r.reportCritical) === true,
  };
}

/** Answer of GET dicom/studies: "data" must be an array of objects. */
export function decodeStudyList(body: JsonObject | null): StudyList {
  const r = object(body, 'answer');
  const data = arrayOf(r.data, 'data', decodeStudy);
  return { data, total: num(r.total) ?? data.length, limit: num(r.limit) ?? 0, offset: num(r.offset) ?? 0 };
}

/** [x, y, z] when v is an array of three numbers, null otherwise. */
function point(v: unknown): [number, number, number] | null {
  if (!Array.isArray(v) || v.length !== 3) return null;
  const [x, y, z] = v.map(num);
  return x != null && y != null && z != null ? [x, y, z] : null;
}

function numbers(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  const out = v.map(num);
  return out.every((x): x is number => x !== null) ? out : null;
}

function decodeInstance(v: unknown, path: string): Instance {
  const r = object(v, path);
  return {
    sopInstanceUid: str(r.sopInstanceUid),
    orthancId: str(r.orthancId),
    sopClassUid: str(r.sopClassUid),
    instanceNumber: num(r.instanceNumber),
    numberOfFrames: num(r.numberOfFrames) ?? 1,
    imagePositionPatient: point(r.imagePositionPatient),
    imageOrientationPatient: numbers(r.imageOrientationPatient),
    transferSyntaxUid: str(r.transferSyntaxUid),
  };
}

function decodeSeries(v: unknown, path: string): Series {
  const r = object(v, path);
  return {
    seriesInstanceUid: str(r.seriesInstanceUid),
    orthancId: str(r.orthancId),
    seriesNumber: num(r.seriesNumber),
    modality: str(r.modality),
    seriesDescription: str(r.seriesDescription),
    bodyPartExamined: str(r.bodyPartExamined),
    instanceCount: num(r.instanceCount) ?? 0,
    instances: optArrayOf(r.instances, `${path}.instances`, decodeInstance),
  };
}

/** Answer of GET dicom/studies/{uid}: the study's fields and its series (absent: none). */
export function decodeStudyDetail(body: JsonObject | null): StudyDetail {
  const r = fields(body);
  return { ...decodeStudy(r), series: optArrayOf(r.series, 'series', decodeSeries) };
}
