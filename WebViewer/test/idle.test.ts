// @vitest-environment happy-dom
// Automatic log-off in the browser: only user activity refreshes an idle-limited session, the warning comes a
// minute before the deadline, the log-off at the deadline sends its reason; drafts survive it per user.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../src/api';
import { clearDraft, loadDraft, saveDraft, setDraftUser } from '../src/drafts';
import { IdleGuard } from '../src/idle';
import { Session } from '../src/session';
import { FakeServer, json } from './fake-server';

const alice = { username: 'alice', displayName: 'Alice', role: 'radiologist' };
const IDLE_S = 300;

/** A login / refresh / me answer of a server with a 300 s idle time-out and a 12 h maximum. */
function body(expiresIn = IDLE_S, endsIn = 43_200): unknown {
  const now = Date.now();
  return {
    token: 't', csrfToken: 'c', user: alice, capabilities: ['worklist', 'study', 'ai'],
    expiresAt: new Date(now + expiresIn * 1000).toISOString(), expiresInSeconds: expiresIn,
    idleTimeoutSeconds: IDLE_S, maxSessionSeconds: 43_200, sessionEndsAt: new Date(now + endsIn * 1000).toISOString(),
  };
}

let guard: IdleGuard | null = null;
let deadlineAt = 0;

function setup(): { server: FakeServer; session: Session } {
  const server = new FakeServer()
    .on('POST auth/login', () => {
      deadlineAt = Date.now() + IDLE_S * 1000;
      return json(200, body());
    })
    .on('POST auth/refresh', () => {
      deadlineAt = Date.now() + IDLE_S * 1000;
      return json(200, body());
    })
    .on('GET auth/me', () => json(200, body(Math.floor((deadlineAt - Date.now()) / 1000))))
    .on('POST auth/logout', () => json(200, {}));
  const session = new Session(new Api('/api/', server.fetch), { doc: document });
  guard = new IdleGuard(session, document);
  return { server, session };
}

describe('automatic log-off', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-04T10:00:00Z'));
  });
  afterEach(() => {
    guard?.destroy();
    guard = null;
    document.body.replaceChildren();
    vi.useRealTimers();
  });

  it('background time does not refresh; the warning comes a minute before; the log-off sends "idle"', async () => {
    const { server, session } = setup();
    await session.login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(200_000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(0); // no timer refresh with an idle time-out
    expect(guard?.warning).toBe(false);
    await vi.advanceTimersByTimeAsync(40_000); // 240 s: 60 s (and the 1.5 s margin) before the deadline
    expect(guard?.warning).toBe(true);
    const dialog = document.querySelector('dialog.idle-warning');
    expect(dialog?.textContent).toMatch(/logged off in \d+ s/);
    expect(dialog?.querySelector('button')?.textContent).toBe('Stay logged in');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.state).toMatchObject({ status: 'anonymous', reason: 'idle' });
    expect(server.callsTo('POST auth/logout')[0]?.body).toEqual({ reason: 'idle' });
    expect(document.querySelector('dialog.idle-warning')).toBeNull();
  });

  it('activity refreshes (at most once per interval), and "Stay logged in" keeps the session', async () => {
    const { server, session } = setup();
    await session.login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(70_000);
    document.dispatchEvent(new Event('pointerdown'));
    document.dispatchEvent(new Event('keydown'));
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1); // both in one interval: one refresh
    await vi.advanceTimersByTimeAsync(IDLE_S * 1000 - 60_000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1);
    expect(guard?.warning).toBe(true);
    (document.querySelector('dialog.idle-warning button') as HTMLButtonElement).click();
    await vi.advanceTimersByTimeAsync(0);
    expect(guard?.warning).toBe(false);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(session.state.status).toBe('authenticated');
  });

  it('activity within the interval after the login is marked at its end: no log-off sooner than the idle time after it', async () => {
    const { server, session } = setup();
    await session.login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(10_000);
    document.dispatchEvent(new Event('keydown')); // the last activity, 10 s after the login
    await vi.advanceTimersByTimeAsync(0);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(0); // within the activity interval of the login
    document.dispatchEvent(new Event('pointerdown'));
    await vi.advanceTimersByTimeAsync(49_000);
    expect(server.callsTo('POST auth/refresh')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000); // 60 s: the interval's end
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1); // once for both
    // the old deadline (login + 300 s) passes; the session lasts until 300 s after the refresh
    await vi.advanceTimersByTimeAsync(IDLE_S * 1000 - 60_000 + 5_000);
    expect(session.state.status).toBe('authenticated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(session.state).toMatchObject({ status: 'anonymous', reason: 'idle' });
    expect(server.callsTo('POST auth/refresh')).toHaveLength(1); // no refresh without activity
  });

  it('another tab\'s activity (a later deadline on GET auth/me) cancels the warning', async () => {
    const { server, session } = setup();
    await session.login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(100_000);
    deadlineAt = Date.now() + IDLE_S * 1000; // the other tab refreshed
    await vi.advanceTimersByTimeAsync(140_000);
    expect(server.callsTo('GET auth/me').length).toBeGreaterThan(0);
    expect(guard?.warning).toBe(false);
    expect(session.state.status).toBe('authenticated');
  });

  it('at the maximum age: no refresh on activity, the log-off says "max-age"', async () => {
    const server = new FakeServer()
      .on('POST auth/login', () => json(200, body(100, 100)))
      .on('GET auth/me', () => {
        const left = Math.max(0, Math.floor((deadlineAt - Date.now()) / 1000));
        return json(200, body(left, left));
      })
      .on('POST auth/logout', () => json(200, {}));
    deadlineAt = Date.now() + 100_000;
    const session = new Session(new Api('/api/', server.fetch), { doc: document });
    guard = new IdleGuard(session, document);
    await session.login('alice', 'pw');
    await vi.advanceTimersByTimeAsync(80_000);
    document.dispatchEvent(new Event('keydown'));
    expect(server.callsTo('POST auth/refresh')).toHaveLength(0);
    expect(document.querySelector('dialog.idle-warning button')?.textContent).toBe('OK');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(session.state).toMatchObject({ status: 'anonymous', reason: 'max-age' });
    expect(server.callsTo('POST auth/logout')[0]?.body).toEqual({ reason: 'max-age' });
  });
});

describe('drafts', () => {
  it('are kept per user in the tab and dropped once saved', () => {
    setDraftUser('alice');
    saveDraft('ai-review.a1', { notes: 'hyperdense lesion segment 7' });
    setDraftUser(null);
    expect(loadDraft('ai-review.a1')).toBeNull();
    setDraftUser('bob');
    expect(loadDraft('ai-review.a1')).toBeNull();
    setDraftUser('alice');
    expect(loadDraft('ai-review.a1')).toEqual({ notes: 'hyperdense lesion segment 7' });
    clearDraft('ai-review.a1');
    expect(loadDraft('ai-review.a1')).toBeNull();
    setDraftUser(null);
  });
});
