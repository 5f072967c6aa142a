import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api, ApiError, FORBIDDEN, SESSION_ENDED } from '../src/api';
import { Session, readCookie, type SessionState } from '../src/session';
import { FakeServer, empty403, json, meBody, sessionBody } from './fake-server';

const MIN = 60_000;
const T0 = new Date('2026-11-25T10:00:00Z');
const alice = { username: 'alice', displayName: 'Alice A.', role: 'radiologist' };
const noCookies = { cookie: '' } as unknown as Document;

function setup(server: FakeServer, doc: Document = noCookies): { session: Session; api: Api; states: SessionState[] } {
  const api = new Api('/api/', server.fetch);
  const session = new Session(api, { doc });
  const states: SessionState[] = [];
  session.subscribe((s) => states.push(s));
  return { session, api, states };
}

const at = (ms: number): Date => new Date(Date.now() + ms);

describe('session state machine', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('login -> me -> refresh timer -> logout', async () => {
    let csrf = 'csrf-1';
    const server = new FakeServer()
      .on('GET auth/me', () => empty403())
      .on('POST auth/login', () => json(200, sessionBody(alice, at(30 * MIN), csrf)))
      .on('POST auth/refresh', () => {
        csrf = `csrf-${Number(csrf.slice(5)) + 1}`;
        return json(200, sessionBody(alice, at(30 * MIN), csrf));
      })
      .on('POST auth/logout', () => json(200, {}));
    const { session, states } = setup(server);

    // nobody logged in: GET auth/me answers 403 with an empty body
    expect(await session.init()).toEqual({ status: 'anonymous', reason: 'initial' });
    expect(session.refreshScheduled).toBe(false);

    // login
    const user = await session.login('alice', 'pw');
    expect(user).toEqual(alice);
    expect(session.state).toMatchObject({ status: 'authenticated', user: alice, expiresAt: T0.getTime() + 30 * MIN });
    expect(session.csrfToken()).toBe('csrf-1');
    expect(server.callsTo('POST auth/login')[0]?.body).toEqual({ username: 'alice', password: 'pw' });
    expect(session.refreshScheduled).toBe(true);

    // refresh when less than 10 minutes remain: not at 19:59, at 20:00
    await vi.advanceTimersByTimeAsync(20 * MIN - 1000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    expect(server.callsTo('POST auth/refresh')[0]?.headers['X-CSRF-Token']).toBe('csrf-1');
    expect(session.csrfToken()).toBe('csrf-2');
    expect(session.state).toMatchObject({ status: 'authenticated', expiresAt: T0.getTime() + 50 * MIN });

    // and again 20 minutes later
    await vi.advanceTimersByTimeAsync(20 * MIN);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(2);
    expect(session.csrfToken()).toBe('csrf-3');

    // logout: POST with the CSRF token, then all state is gone and no timer runs
    await session.logout();
    expect(server.callsTo('POST auth/logout')[0]?.headers['X-CSRF-Token']).toBe('csrf-3');
    expect(session.state).toEqual({ status: 'anonymous', reason: 'logout' });
    expect(session.user).toBeNull();
    expect(session.csrfToken()).toBeNull();
    expect(session.refreshScheduled).toBe(false);
    await vi.advanceTimersByTimeAsync(120 * MIN);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(2);

    expect(states.map((s) => s.status)).toEqual(['unknown', 'anonymous', 'authenticated', 'authenticated', 'authenticated', 'anonymous']);
  });

  it('restores a session from GET auth/me and schedules its refresh', async () => {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, { user: alice, expiresAt: at(15 * MIN).toISOString(), csrfToken: 'from-me' }))
      .on('POST auth/refresh', () => json(200, sessionBody(alice, at(30 * MIN), 'renewed')));
    const { session } = setup(server);
    expect(await session.init()).toMatchObject({ status: 'authenticated', user: alice });
    expect(session.csrfToken()).toBe('from-me');
    await vi.advanceTimersByTimeAsync(5 * MIN);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    expect(session.csrfToken()).toBe('renewed');
  });

  it('a 403 with an empty body on any call ends the session (login page)', async () => {
    let loggedIn = true;
    const server = new FakeServer()
      .on('GET auth/me', () => (loggedIn ? json(200, meBody(alice, at(30 * MIN), 'c')) : empty403()))
      .on('GET dicom/studies', () => empty403());
    const { session, api, states } = setup(server);
    await session.init();
    loggedIn = false; // the server forgot the session (expired, revoked, restarted)
    await expect(api.listStudies({})).rejects.toMatchObject({ status: 403, code: SESSION_ENDED });
    expect(session.state).toEqual({ status: 'anonymous', reason: 'expired' });
    expect(session.refreshScheduled).toBe(false);
    expect(session.csrfToken()).toBeNull();
    expect(states.at(-1)).toEqual({ status: 'anonymous', reason: 'expired' });
  });

  it('a 403 with an empty body while the session is still valid is "not allowed", not a logout', async () => {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody(alice, at(30 * MIN), 'c')))
      .on('GET dicom/studies/1.2.3', () => empty403());
    const { session, api } = setup(server);
    await session.init();
    await expect(api.getStudy('1.2.3')).rejects.toMatchObject({ status: 403, code: FORBIDDEN });
    expect(session.state.status).toBe('authenticated');
  });

  it('concurrent 403s share one session check', async () => {
    let loggedIn = true;
    const server = new FakeServer()
      .on('GET auth/me', () => (loggedIn ? json(200, meBody(alice, at(30 * MIN), 'c')) : empty403()))
      .on('GET dicom/studies', () => empty403());
    const { session, api } = setup(server);
    await session.init();
    loggedIn = false;
    const results = await Promise.allSettled([api.listStudies({}), api.listStudies({}), api.listStudies({})]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(server.callsTo('GET auth/me')).toHaveLength(2); // init + one check
  });

  it('a refused refresh ends the session; a failed one is retried', async () => {
    let mode: 'network' | 'refuse' = 'network';
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody(alice, at(12 * MIN), 'c')))
      .on('POST auth/refresh', () => {
        if (mode === 'network') throw new TypeError('Failed to fetch');
        return empty403();
      });
    const { session } = setup(server);
    await session.init();
    await vi.advanceTimersByTimeAsync(2 * MIN);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    expect(session.state.status).toBe('authenticated'); // network error: retried in a minute
    mode = 'refuse';
    await vi.advanceTimersByTimeAsync(MIN);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(2);
    expect(session.state).toEqual({ status: 'anonymous', reason: 'expired' });
  });

  it('does not refresh in a tight loop when the server grants less than the margin', async () => {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody(alice, at(5 * MIN), 'c')))
      .on('POST auth/refresh', () => json(200, sessionBody(alice, at(5 * MIN), 'c')));
    const { session } = setup(server);
    await session.init();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(2);
  });

  it('failed login: the server message, no session', async () => {
    const server = new FakeServer()
      .on('GET auth/me', () => empty403())
      .on('POST auth/login', () => json(403, { error: { code: 'invalid_credentials', message: 'Invalid username or password.' } }));
    const { session } = setup(server);
    await session.init();
    await expect(session.login('bob', 'nope')).rejects.toEqual(new ApiError(403, 'invalid_credentials', 'Invalid username or password.'));
    expect(session.state).toEqual({ status: 'anonymous', reason: 'initial' });
    expect(session.refreshScheduled).toBe(false);

    server.on('POST auth/login', () => json(403, { error: { code: 'locked', message: 'Account locked. Try again later.' } }));
    await expect(session.login('bob', 'nope')).rejects.toMatchObject({ code: 'locked', message: 'Account locked. Try again later.' });
    server.on('POST auth/login', () => empty403());
    await expect(session.login('bob', 'nope')).rejects.toMatchObject({ message: 'Login failed.' });
  });

  it('capabilities: from GET auth/me, asked after a login answer without them, kept across refreshes', async () => {
    let loggedIn = false;
    const server = new FakeServer()
      .on('GET auth/me', () => (loggedIn ? json(200, meBody(alice, at(30 * MIN), 'c')) : empty403()))
      .on('POST auth/login', () => {
        loggedIn = true;
        return json(200, sessionBody(alice, at(30 * MIN), 'c'));
      })
      .on('POST auth/refresh', () => json(200, sessionBody(alice, at(30 * MIN), 'c')));
    const { session } = setup(server);
    await session.init();
    expect(session.capabilities).toEqual([]);
    await session.login('alice', 'pw');
    expect(session.capabilities).toEqual(['worklist', 'study', 'ai', 'annotate']);
    expect(session.state).toMatchObject({ status: 'authenticated', capabilities: ['worklist', 'study', 'ai', 'annotate'] });
    expect(server.callsTo('GET auth/me')).toHaveLength(2); // init + after login
    await session.refresh();
    expect(session.capabilities).toEqual(['worklist', 'study', 'ai', 'annotate']);
    expect(server.callsTo('GET auth/me')).toHaveLength(2);
    // a login answer that lists them needs no GET auth/me
    server.on('POST auth/login', () => json(200, meBody({ ...alice, role: 'technician' }, at(30 * MIN), 'c')));
    await session.login('alice', 'pw');
    expect(session.capabilities).toEqual(['worklist', 'upload']);
    expect(server.callsTo('GET auth/me')).toHaveLength(2);
    // GET auth/me failing after a login: least privilege
    server.on('POST auth/login', () => json(200, sessionBody({ ...alice, role: 'admin' }, at(30 * MIN), 'c'))).on('GET auth/me', () => json(500, {}));
    await session.login('alice', 'pw');
    expect(session.capabilities).toEqual(['worklist']);
    await session.logout();
    expect(session.capabilities).toEqual([]);
  });

  it('a server without access control (GET auth/me 404) runs in open mode', async () => {
    const { session } = setup(new FakeServer());
    expect(await session.init()).toEqual({ status: 'open' });
    expect(session.capabilities).toEqual(['worklist', 'study', 'upload', 'ai', 'annotate']);
  });

  it('an unreachable server is an error state, not the login page', async () => {
    const server = new FakeServer().on('GET auth/me', () => {
      throw new TypeError('Failed to fetch');
    });
    const { session } = setup(server);
    expect(await session.init()).toMatchObject({ status: 'error', message: 'Network error: Failed to fetch' });
  });

  it('falls back to the rr_csrf cookie for the CSRF token', async () => {
    const doc = { cookie: 'other=1; rr_csrf=cookie%2Dtoken; x=y' } as unknown as Document;
    expect(readCookie('rr_csrf', doc)).toBe('cookie-token');
    expect(readCookie('missing', doc)).toBeNull();
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, { user: alice, expiresAt: at(30 * MIN).toISOString() }))
      .on('PUT auth/password', () => json(200, {}))
      .on('POST auth/login', () => json(200, sessionBody(alice, at(30 * MIN), 'after-change')));
    const { session } = setup(server, doc);
    await session.init();
    await session.changePassword('old', 'new');
    const call = server.callsTo('PUT auth/password')[0];
    expect(call?.headers['X-CSRF-Token']).toBe('cookie-token');
    expect(call?.body).toEqual({ currentPassword: 'old', newPassword: 'new' });
    // the change revokes the session's token: logged in again with the new password
    expect(server.callsTo('POST auth/login')[0]?.body).toEqual({ username: 'alice', password: 'new' });
    expect(session.state.status).toBe('authenticated');
    expect(session.csrfToken()).toBe('after-change');

    // a server that answers the change with a new session needs no second login
    server.on('PUT auth/password', () => json(200, sessionBody(alice, at(30 * MIN), 'from-put')));
    await session.changePassword('new', 'newest');
    expect(server.callsTo('POST auth/login')).toHaveLength(1);
    expect(session.csrfToken()).toBe('from-put');
    server.on('PUT auth/password', () => json(200, {}));

    // if that login fails, the login page
    server.on('POST auth/login', () => empty403());
    await session.changePassword('new', 'newer');
    expect(session.state).toEqual({ status: 'anonymous', reason: 'expired' });
  });

  it('password policy failures reject with the server message', async () => {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody(alice, at(30 * MIN), 'c')))
      .on('PUT auth/password', () => json(400, { error: { code: 'weak_password', message: 'Too short.' } }));
    const { session } = setup(server);
    await session.init();
    await expect(session.changePassword('a', 'b')).rejects.toMatchObject({ status: 400, message: 'Too short.' });
    expect(session.state.status).toBe('authenticated');
  });
});
