// A scripted fetch for unit tests: routes "METHOD path" (path below /api/, query string included) to handlers.
import type { FetchLike, Study } from '../src/api';

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export type Handler = (call: Call) => Response | Promise<Response>;

export const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** 403 with an empty body: "not logged in". */
export const empty403 = (): Response => new Response(null, { status: 403 });

export function sessionBody(user: { username: string; displayName?: string; role: string }, expiresAt: Date, csrfToken: string): unknown {
  return { token: 'secret-token', expiresAt: expiresAt.toISOString(), csrfToken, user: { displayName: '', ...user } };
}

/** One worklist row as the API answers it (study 1.2.3, no AI analysis). */
export function studyBody(overrides: Partial<Study> = {}): Study {
  return {
    studyInstanceUid: '1.2.3',
    orthancId: 'o',
    patientName: 'DOE^JANE',
    patientId: 'P1',
    patientBirthDate: '',
    patientSex: 'F',
    studyDate: '20260101',
    studyTime: '',
    studyDescription: 'CT',
    accessionNumber: 'A1',
    referringPhysicianName: '',
    institutionName: '',
    modalities: ['CT'],
    seriesCount: 1,
    instanceCount: 1,
    receivedAt: '2026-11-24T10:00:00Z',
    updatedAt: '2026-11-24T10:00:00Z',
    aiStatus: null,
    reviewStatus: null,
    reportStatus: null,
    ...overrides,
  };
}

export class FakeServer {
  readonly calls: Call[] = [];
  private readonly routes = new Map<string, Handler>();

  on(route: string, handler: Handler): this {
    this.routes.set(route, handler);
    return this;
  }

  readonly fetch: FetchLike = async (url, init) => {
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>)) headers[k] = v;
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const call: Call = { method, url, headers, body };
    this.calls.push(call);
    const path = url.replace(/^\/api\//, '');
    const handler = this.routes.get(`${method} ${path}`) ?? this.routes.get(`${method} ${path.split('?')[0]}`);
    if (!handler) return json(404, { error: { code: 'not_found', message: `no route ${method} ${path}` } });
    return handler(call);
  };

  /** Calls of one route ("POST auth/refresh"). */
  callsTo(route: string): Call[] {
    const [method, path] = route.split(' ');
    return this.calls.filter((c) => c.method === method && c.url.replace(/^\/api\//, '').split('?')[0] === path);
  }
}
