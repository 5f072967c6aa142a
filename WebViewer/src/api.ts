// Fetch wrapper and types mirroring Tests/CONTRACT.md (REST API of the plugin).

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
  sort?: SortKey;
  order?: SortOrder;
  limit?: number;
  offset?: number;
}

/** Error answered by the API ({"error":{"code","message"}}) or a transport failure (status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorFromBody(status: number, statusText: string, body: unknown): ApiError {
  if (isRecord(body) && isRecord(body.error)) {
    const code = typeof body.error.code === 'string' ? body.error.code : 'error';
    const message = typeof body.error.message === 'string' ? body.error.message : `HTTP ${status}`;
    return new ApiError(status, code, message);
  }
  return new ApiError(status, 'http', `HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  readonly root: string;
  private readonly fetchFn: FetchLike;

  constructor(root: string = apiRoot(), fetchFn: FetchLike = (input, init) => fetch(input, init)) {
    this.root = root.endsWith('/') ? root : `${root}/`;
    this.fetchFn = fetchFn;
  }

  /** GET a JSON document below the API root; rejects with ApiError. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchFn(this.root + path, {
        headers: { Accept: 'application/json' },
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new ApiError(0, 'network', `Network error: ${detail}`);
    }
    let body: unknown = null;
    try {
      body = (await response.json()) as unknown;
    } catch {
      body = null;
    }
    if (!response.ok) throw errorFromBody(response.status, response.statusText, body);
    if (!isRecord(body)) throw new ApiError(response.status, 'bad_response', 'Unexpected answer from the server');
    return body as T;
  }

  listStudies(query: StudyQuery, signal?: AbortSignal): Promise<StudyList> {
    const qs = studyQueryString(query);
    return this.getJson<StudyList>(`dicom/studies${qs ? `?${qs}` : ''}`, signal);
  }

  getStudy(studyInstanceUid: string, signal?: AbortSignal): Promise<StudyDetail> {
    return this.getJson<StudyDetail>(`dicom/studies/${encodeURIComponent(studyInstanceUid)}`, signal);
  }
}
