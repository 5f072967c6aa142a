// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../src/api';
import { startApp } from '../src/app';
import { Session } from '../src/session';
import { FakeServer, empty403, json, meBody, sessionBody } from './fake-server';

const admin = { username: 'admin', displayName: 'Ada', role: 'admin' };

describe('app: login page, session end, logout', () => {
  let root: HTMLElement;
  let stop: (() => void) | null = null;
  let loggedIn = false;
  let server: FakeServer;

  beforeEach(() => {
    loggedIn = false;
    root = document.createElement('div');
    document.body.replaceChildren(root);
    server = new FakeServer()
      .on('GET auth/me', () => (loggedIn ? json(200, meBody(admin, new Date(Date.now() + 3600_000), 'c1')) : empty403()))
      .on('POST auth/login', (call) => {
        const { password } = call.body as { password: string };
        if (password !== 'right') return json(403, { error: { code: 'invalid_credentials', message: 'Invalid username or password.' } });
        loggedIn = true;
        return json(200, sessionBody(admin, new Date(Date.now() + 3600_000), 'c1'));
      })
      .on('POST auth/logout', () => {
        loggedIn = false;
        return json(200, {});
      })
      .on('GET audit', () => (loggedIn ? json(200, { data: [], nextBefore: null }) : empty403()))
      .on('GET dicom/studies', () => (loggedIn ? json(200, { data: [], total: 0, limit: 50, offset: 0 }) : empty403()));
  });
  afterEach(() => {
    stop?.();
    stop = null;
  });

  const start = (): void => {
    const api = new Api('/api/', server.fetch);
    stop = startApp(root, { api, session: new Session(api, { doc: { cookie: '' } as unknown as Document }), orthancRoot: '/' });
  };
  const loginWith = (username: string, password: string): void => {
    root.querySelector<HTMLInputElement>('#rr-login-username')!.value = username;
    root.querySelector<HTMLInputElement>('#rr-login-password')!.value = password;
    root.querySelector('form')!.dispatchEvent(new Event('submit', { cancelable: true, bubbles: true }));
  };

  it('shows the login page, keeps the route, returns to it after login', async () => {
    history.replaceState(null, '', '/reading-room/#/audit?user=bob');
    start();
    await vi.waitFor(() => expect(root.querySelector('.login-card')).not.toBeNull());
    expect(location.hash).toBe('#/audit?user=bob');
    expect(root.querySelector('label[for="rr-login-username"]')?.textContent).toBe('Username');
    expect(root.querySelector('#rr-login-password')?.getAttribute('autocomplete')).toBe('current-password');
    expect(root.querySelector('#rr-login-username')?.getAttribute('autocomplete')).toBe('username');

    loginWith('admin', 'wrong');
    expect(root.querySelector<HTMLButtonElement>('button[type="submit"]')?.disabled).toBe(true); // pending
    await vi.waitFor(() => expect(root.querySelector('.login-error')?.textContent).toBe('Invalid username or password.'));
    expect(root.querySelector<HTMLButtonElement>('button[type="submit"]')?.disabled).toBe(false);
    expect(root.querySelector<HTMLInputElement>('#rr-login-password')?.value).toBe('');

    loginWith('admin', 'right');
    await vi.waitFor(() => expect(root.querySelector('.audit-page')).not.toBeNull());
    expect(root.querySelector<HTMLInputElement>('input[name="user"]')?.value).toBe('bob');
    expect(server.callsTo('GET audit')[0]?.url).toContain('user=bob');
  });

  it('a 403 with an empty body shows the login page with a notice, then returns to the same route', async () => {
    loggedIn = true;
    history.replaceState(null, '', '/reading-room/#/?q=doe');
    start();
    await vi.waitFor(() => expect(root.querySelector('.worklist-page')).not.toBeNull());
    loggedIn = false; // session expired on the server
    root.querySelector<HTMLButtonElement>('.worklist-page .topbar-right .btn')?.click(); // Refresh
    await vi.waitFor(() => expect(root.querySelector('.login-card')).not.toBeNull());
    expect(root.querySelector('.login-notice')?.textContent).toBe('Your session has ended. Please log in again.');
    expect(location.hash).toBe('#/?q=doe');
    loginWith('admin', 'right');
    await vi.waitFor(() => expect(root.querySelector<HTMLInputElement>('input.search')?.value).toBe('doe'));
  });

  it('logout ends the session and clears the state', async () => {
    loggedIn = true;
    history.replaceState(null, '', '/reading-room/#/audit?user=carol');
    start();
    await vi.waitFor(() => expect(root.querySelector('.audit-page')).not.toBeNull());
    root.querySelector<HTMLButtonElement>('[data-action="logout"]')?.click();
    await vi.waitFor(() => expect(root.querySelector('.login-card')).not.toBeNull());
    expect(server.callsTo('POST auth/logout')[0]?.headers['X-CSRF-Token']).toBe('c1');
    expect(root.querySelector('.login-notice')?.textContent).toBe('You have logged out.');
    expect(location.hash).toBe('#/');
    expect(root.querySelector('.appbar')).toBeNull();
    expect(root.textContent).not.toContain('Ada');
  });
});
