import { describe, expect, it } from 'vitest';
import { Api, CSRF_HEADER } from '../src/api';
import { createUser, listAudit, listUsers, resetUserPassword, updateUser, verifyAudit } from '../src/admin-api';
import { xhrSender } from '../src/upload-queue';
import { FakeServer, json } from './fake-server';

function api(server: FakeServer, token: string | null = 'tok-123'): Api {
  const a = new Api('/api/', server.fetch);
  a.setHooks({ csrfToken: () => token });
  return a;
}

describe('CSRF header', () => {
  it('is sent with POST, PUT and DELETE only', async () => {
    const server = new FakeServer();
    for (const route of ['GET x', 'POST x', 'PUT x', 'DELETE x', 'PATCH x', 'HEAD x']) server.on(route, () => json(200, {}));
    const a = api(server);
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']) await a.request(method, 'x', { allowEmpty: true });
    const sent = Object.fromEntries(server.calls.map((c) => [c.method, c.headers[CSRF_HEADER] ?? null]));
    expect(sent).toEqual({ GET: null, HEAD: null, POST: 'tok-123', PUT: 'tok-123', DELETE: 'tok-123', PATCH: 'tok-123' });
  });

  it('is left out when no token is known', async () => {
    const server = new FakeServer().on('POST auth/login', () => json(200, {}));
    await api(server, null).request('POST', 'auth/login', { body: { username: 'a', password: 'b' } });
    expect(server.calls[0]?.headers).toEqual({
      Accept: 'application/json',
      'X-Requested-With': 'XMLHttpRequest',
      'Content-Type': 'application/json',
    });
  });

  it('every API request says it comes from the web app, so the plugin never answers it with a Basic challenge', async () => {
    const server = new FakeServer();
    for (const route of ['GET x', 'POST x', 'PUT x', 'DELETE x']) server.on(route, () => json(200, {}));
    const a = api(server);
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) await a.request(method, 'x', { allowEmpty: true });
    expect(server.calls.map((c) => c.headers['X-Requested-With'])).toEqual(Array(4).fill('XMLHttpRequest'));
  });

  it('reaches every state-changing admin call, and no read', async () => {
    const server = new FakeServer()
      .on('GET users', () => json(200, { data: [] }))
      .on('POST users', () => json(201, { username: 'n' }))
      .on('PUT users/a%20b', () => json(200, {}))
      .on('POST users/a%20b/password', () => json(200, {}))
      .on('GET audit', () => json(200, { data: [], nextBefore: null }))
      .on('GET audit/verify', () => json(200, { intact: true, records: 0, firstBroken: null, reason: null }));
    const a = api(server);
    await listUsers(a);
    await createUser(a, { username: 'n', displayName: '', role: 'technician', password: 'p' });
    await updateUser(a, 'a b', { enabled: false });
    await resetUserPassword(a, 'a b', 'pw');
    await listAudit(a, { user: 'x', before: 10, limit: 5 });
    await verifyAudit(a);
    expect(server.calls.map((c) => `${c.method} ${c.url} ${c.headers[CSRF_HEADER] ?? '-'}`)).toEqual([
      'GET /api/users -',
      'POST /api/users tok-123',
      'PUT /api/users/a%20b tok-123',
      'POST /api/users/a%20b/password tok-123',
      'GET /api/audit?user=x&before=10&limit=5 -',
      'GET /api/audit/verify -',
    ]);
    expect(server.calls[2]?.body).toEqual({ enabled: false });
    expect(server.calls[3]?.body).toEqual({ password: 'pw' });
  });

  it('is sent with uploads (POST /instances) together with the DICOM content type', async () => {
    const sent: { method: string; url: string; headers: Record<string, string>; body: unknown }[] = [];
    class FakeXhr {
      status = 200;
      responseText = '{"ID":"x","Status":"Success"}';
      upload = { addEventListener: (_t: string, fn: (e: { loaded: number }) => void) => (this.onProgress = fn) };
      private onProgress: ((e: { loaded: number }) => void) | null = null;
      private listeners: Record<string, () => void> = {};
      private req = { method: '', url: '', headers: {} as Record<string, string>, body: null as unknown };
      open(method: string, url: string): void {
        this.req.method = method;
        this.req.url = url;
      }
      setRequestHeader(k: string, v: string): void {
        this.req.headers[k] = v;
      }
      addEventListener(type: string, fn: () => void): void {
        this.listeners[type] = fn;
      }
      abort(): void {}
      send(body: unknown): void {
        this.req.body = body;
        sent.push(this.req);
        this.onProgress?.({ loaded: 3 });
        this.listeners.load?.();
      }
    }
    const original = globalThis.XMLHttpRequest;
    globalThis.XMLHttpRequest = FakeXhr as unknown as typeof XMLHttpRequest;
    try {
      const progress: number[] = [];
      const res = await xhrSender('/instances', () => 'tok-9')(new Blob(['abc']), (n) => progress.push(n), new AbortController().signal);
      expect(res).toEqual({ status: 200, body: '{"ID":"x","Status":"Success"}' });
      expect(progress).toEqual([3]);
      expect(sent[0]).toMatchObject({
        method: 'POST',
        url: '/instances',
        headers: { 'Content-Type': 'application/dicom', Accept: 'application/json', [CSRF_HEADER]: 'tok-9' },
      });
    } finally {
      globalThis.XMLHttpRequest = original;
    }
  });
});
