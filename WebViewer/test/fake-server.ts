// A scripted fetch for unit tests: routes "METHOD path" (path below /api/, query string included) to handlers.
import { Api, type FetchLike, type Study } from '../src/api';
import { OPEN_MODE, type Capability } from '../src/capabilities';
import { Session } from '../src/session';

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

/** Answer of POST auth/login and auth/refresh (no "capabilities": the session then asks GET auth/me). */
export function sessionBody(user: { username: string; displayName?: string; role: string }, expiresAt: Date, csrfToken: string): unknown {
  return { token: 'secret-token', expiresAt: expiresAt.toISOString(), csrfToken, user: { displayName: '', ...user } };
}

/** What the plugin's role matrix lets each role use, as GET auth/me lists it ("capabilities"). */
export const ROLE_CAPABILITIES: Record<string, readonly string[]> = {
  admin: ['worklist', 'study', 'upload', 'users', 'audit', 'system', 'ai', 'explorer', 'annotate', 'templates'],
  radiologist: ['worklist', 'study', 'ai', 'annotate'],
  technician: ['worklist', 'upload'],
  physician: ['worklist', 'study'],
};

/**
 * Answer of GET auth/me: the session answer plus the role's "capabilities" (left out for a role the table
 * does not know; `capabilities` overrides the list, e.g. with unknown or malformed values).
 */
export function meBody(
  user: { username: string; displayName?: string; role: string },
  expiresAt: Date,
  csrfToken: string,
  capabilities: unknown = ROLE_CAPABILITIES[user.role],
): unknown {
  const { token: _token, ...body } = sessionBody(user, expiresAt, csrfToken) as Record<string, unknown>;
  return capabilities === undefined ? body : { ...body, capabilities };
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
    reportId: null,
    reportCritical: false,
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

/**
 * What the app lets a role use: the session's capabilities after GET auth/me answered meBody (with `list`
 * as its "capabilities" when given), or 404 for the open mode.
 */
export async function capabilitiesOf(role: string, list?: unknown): Promise<readonly Capability[]> {
  const server = new FakeServer();
  if (role !== OPEN_MODE) server.on('GET auth/me', () => json(200, meBody({ username: 'u', role }, new Date(Date.now() + 3600_000), 'c', list)));
  const session = new Session(new Api('/api/', server.fetch), { doc: { cookie: '' } as unknown as Document });
  await session.init();
  return session.capabilities;
}
