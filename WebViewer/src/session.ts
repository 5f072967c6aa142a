// Session state machine (cookie-based login of the plugin's access control).
//
//   unknown --init()--> authenticated | anonymous | open (server without access control) | error
//   anonymous --login()--> authenticated --refresh timer--> authenticated (renewed)
//   authenticated --logout()--> anonymous('logout');  any 403 with an empty body --> anonymous('expired')
//   authenticated --autoLogout(reason)--> anonymous('idle' | 'max-age')   (idle.ts: automatic log-off)
//
// Automatic log-off (server: Auth.IdleTimeoutSeconds, Auth.MaxSessionSeconds): with an idle time-out the
// server's tokens live that long, and a refresh is the session's user-activity mark. The session then never
// refreshes on its own (background polling must not keep it alive): only activity() refreshes, at most once
// per activity interval (activity within the interval: one refresh at its end). The deadline (local clock)
// comes from the answers' expiresInSeconds.
//
// The session token lives in an HttpOnly cookie the app never sees. The CSRF token is kept in memory
// (answer of login / me / refresh), with the readable rr_csrf cookie as fallback.
// What the user may use (capabilities.ts) comes with the answers of login, refresh, password change and
// GET auth/me; an answer without it is followed by GET auth/me.
import { ApiError, BAD_RESPONSE, BAD_RESPONSE_MESSAGE, SESSION_ENDED, type Api } from './api';
import { LEAST_PRIVILEGE, OPEN_CAPABILITIES, parseCapabilities, type Capability } from './capabilities';
import { isRecord, str } from './decode';
import { setDraftUser } from './drafts';

/** The logged-in user (strings untrusted: display with textContent only). */
export interface User {
  username: string;
  displayName: string;
  role: string;
}

/** Answer of POST auth/login, POST auth/refresh and GET auth/me. */
export interface SessionInfo {
  user: User;
  expiresAt: string;
  csrfToken: string;
  /** What the user may use; null when the answer has no "capabilities" field. */
  capabilities: readonly Capability[] | null;
  /** Seconds the token has left when answered (null: not given); 0 idle time-out / max session: none. */
  expiresInSeconds: number | null;
  idleTimeoutSeconds: number;
  maxSessionSeconds: number;
  /** When the session ends whatever the activity (ISO 8601), null: never. */
  sessionEndsAt: string | null;
}

export type LoggedOutReason = 'initial' | 'expired' | 'logout' | 'idle' | 'max-age';

/** Why the session's current deadline would end it. */
export type SessionEnd = 'idle' | 'max-age';

/** Automatic log-off figures of an authenticated session. */
export interface SessionLimits {
  /** When the token expires, on this browser's clock (ms); NaN when unknown. */
  deadline: number;
  /** The server's idle time-out in ms (0: none: the session refreshes itself on a timer). */
  idleTimeoutMs: number;
  /** What the deadline is: the idle time running out, or the session's maximum age. */
  endsBy: SessionEnd;
}

export type SessionState =
  | { status: 'unknown' }
  | { status: 'anonymous'; reason: LoggedOutReason }
  | { status: 'authenticated'; user: User; expiresAt: number; capabilities: readonly Capability[]; limits: SessionLimits }
  | { status: 'open' }
  | { status: 'error'; message: string };

export const CSRF_COOKIE = 'rr_csrf';

/** Value of a cookie readable by scripts, null when absent. */
export function readCookie(name: string, doc: Document | undefined = globalThis.document): string | null {
  const all = doc?.cookie ?? '';
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return null;
}

function parseUser(value: unknown): User | null {
  if (!isRecord(value) || typeof value.username !== 'string' || typeof value.role !== 'string') return null;
  return {
    username: value.username,
    displayName: str(value.displayName),
    role: value.role,
  };
}

/** Validates a login / me / refresh answer. */
export function parseSessionInfo(body: unknown): SessionInfo | null {
  if (!isRecord(body)) return null;
  const user = parseUser(body.user);
  if (!user) return null;
  return {
    user,
    expiresAt: str(body.expiresAt),
    csrfToken: str(body.csrfToken),
    capabilities: body.capabilities === undefined ? null : parseCapabilities(body.capabilities),
    expiresInSeconds: typeof body.expiresInSeconds === 'number' && body.expiresInSeconds >= 0 ? body.expiresInSeconds : null,
    idleTimeoutSeconds: typeof body.idleTimeoutSeconds === 'number' && body.idleTimeoutSeconds > 0 ? body.idleTimeoutSeconds : 0,
    maxSessionSeconds: typeof body.maxSessionSeconds === 'number' && body.maxSessionSeconds > 0 ? body.maxSessionSeconds : 0,
    sessionEndsAt: typeof body.sessionEndsAt === 'string' ? body.sessionEndsAt : null,
  };
}

export interface SessionOptions {
  /** Renew when less than this remains (default 10 minutes). */
  refreshMarginMs?: number;
  /** Never renew more often than this (default 30 s): guards against short server session lengths. */
  minRefreshIntervalMs?: number;
  /** Retry delay of a refresh that failed for another reason than the session being over (default 60 s). */
  retryMs?: number;
  /** With an idle time-out: refresh on activity at most this often (default min(60 s, idle time / 4)). */
  activityIntervalMs?: number;
  now?: () => number;
  doc?: Document;
}

/** The error of a session answer without a valid user. */
const badAnswer = (): ApiError => new ApiError(200, BAD_RESPONSE, `${BAD_RESPONSE_MESSAGE}: user: expected an object with a username and a role`);

const MAX_TIMEOUT = 2_147_483_647;

export class Session {
  private readonly api: Api;
  private readonly margin: number;
  private readonly minInterval: number;
  private readonly retryMs: number;
  private readonly activityIntervalMs: number | undefined;
  private refreshing: Promise<void> | null = null;
  private readonly now: () => number;
  private readonly doc: Document | undefined;
  private current: SessionState = { status: 'unknown' };
  private csrf: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRefresh = -Infinity;
  private checking: Promise<boolean> | null = null;
  private readonly listeners = new Set<(state: SessionState) => void>();

  constructor(api: Api, opts: SessionOptions = {}) {
    this.api = api;
    this.margin = opts.refreshMarginMs ?? 10 * 60_000;
    this.minInterval = opts.minRefreshIntervalMs ?? 30_000;
    this.retryMs = opts.retryMs ?? 60_000;
    this.activityIntervalMs = opts.activityIntervalMs;
    this.now = opts.now ?? (() => Date.now());
    this.doc = opts.doc ?? globalThis.document;
    api.setHooks({ csrfToken: () => this.csrfToken(), onEmpty403: () => this.confirmEnded() });
  }

  get state(): SessionState {
    return this.current;
  }

  /** The logged-in user, null when not logged in (or in open mode). */
  get user(): User | null {
    return this.current.status === 'authenticated' ? this.current.user : null;
  }

  /** What the user may use: the server's list when logged in, everything of the open mode, else nothing. */
  get capabilities(): readonly Capability[] {
    if (this.current.status === 'authenticated') return this.current.capabilities;
    return this.current.status === 'open' ? OPEN_CAPABILITIES : [];
  }

  /** CSRF token for state-changing requests: from the last session answer, else the rr_csrf cookie. */
  csrfToken(): string | null {
    return this.csrf || readCookie(CSRF_COOKIE, this.doc);
  }

  /** true while a refresh is scheduled. */
  get refreshScheduled(): boolean {
    return this.timer !== undefined;
  }

  subscribe(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(state: SessionState): void {
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  /** Asks the server who is logged in (GET auth/me). */
  async init(): Promise<SessionState> {
    this.set({ status: 'unknown' });
    try {
      const body = await this.api.request('GET', 'auth/me', { raw403: true });
      const info = parseSessionInfo(body);
      if (!info) throw badAnswer();
      this.apply(info, info.capabilities ?? LEAST_PRIVILEGE);
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) this.end('initial');
      else if (err instanceof ApiError && err.status === 404) this.set({ status: 'open' });
      else this.set({ status: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    return this.current;
  }

  /** POST auth/login. Rejects with ApiError (message from the server) on failure. */
  async login(username: string, password: string): Promise<User> {
    let body: unknown = null;
    try {
      body = await this.api.request('POST', 'auth/login', { body: { username, password }, raw403: true });
    } catch (err) {
      // 403 without a body: no message to show
      if (err instanceof ApiError && err.code === SESSION_ENDED) throw new ApiError(403, 'login_failed', 'Login failed.');
      throw err;
    }
    const info = parseSessionInfo(body);
    if (!info) throw badAnswer();
    this.apply(info, await this.capabilitiesOf(info));
    return info.user;
  }

  /**
   * The user did something (a key, a click, the wheel, a touch: idle.ts). With an idle time-out this is what
   * keeps the session: a refresh when the last one (or the login) is older than the activity interval, else
   * one refresh at the end of the interval, so that the session still ends no sooner than the idle time after
   * the user's last activity. Background requests never call it.
   */
  activity(): void {
    const cur = this.current;
    if (cur.status !== 'authenticated' || cur.limits.idleTimeoutMs <= 0 || cur.limits.endsBy === 'max-age') return;
    const interval = this.activityIntervalMs ?? Math.min(60_000, cur.limits.idleTimeoutMs / 4);
    if (this.refreshing) return; // under way: it marks this activity too
    const since = this.now() - this.lastRefresh;
    if (since >= interval) void this.refresh();
    else if (this.timer === undefined) this.schedule(interval - since); // once, at the end of the interval
  }

  /** Asks the server for the session's figures (GET auth/me: does not extend it); ends it when it is over. */
  async recheck(): Promise<void> {
    await this.confirmEnded();
  }

  /** The automatic log-off: POST auth/logout with the reason (audited), then the login page says why. */
  async autoLogout(reason: SessionEnd): Promise<void> {
    if (this.current.status !== 'authenticated') return;
    this.clearTimer();
    try {
      await this.api.request('POST', 'auth/logout', { body: { reason }, raw403: true, allowEmpty: true });
    } catch {
      // the token is ending anyway: the server refuses it at its deadline
    }
    this.end(reason);
  }

  /** POST auth/refresh; a refresh the server refuses ends the session. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (this.current.status !== 'authenticated') return;
    this.clearTimer();
    this.lastRefresh = this.now();
    try {
      const info = parseSessionInfo(await this.api.request('POST', 'auth/refresh', { raw403: true }));
      if (!info) throw badAnswer();
      const capabilities = await this.capabilitiesOf(info);
      if (this.current.status === 'authenticated') this.apply(info, capabilities);
    } catch (err) {
      if (this.current.status !== 'authenticated') return;
      if (err instanceof ApiError && (err.status === 403 || err.status === 401)) this.end('expired');
      else this.schedule(this.retryMs);
    }
  }

  /** POST auth/logout, then forget everything (even when the server could not be reached). */
  async logout(): Promise<void> {
    this.clearTimer();
    try {
      await this.api.request('POST', 'auth/logout', { raw403: true, allowEmpty: true });
    } catch {
      // the local state is cleared anyway
    }
    this.end('logout');
  }

  /**
   * PUT auth/password. Rejects with ApiError (policy failures: 400 with a message). The server revokes the
   * tokens issued before the change, this session's included: log in again with the new password (kept
   * only for this call), or show the login page if that fails.
   */
  async changePassword(currentPassword: string, newPassword: string): Promise<void> {
    const body = await this.api.request('PUT', 'auth/password', { body: { currentPassword, newPassword }, allowEmpty: true });
    const renewed = parseSessionInfo(body);
    if (renewed) {
      this.apply(renewed, await this.capabilitiesOf(renewed)); // the server answered with a new session (as login does)
      return;
    }
    const username = this.user?.username;
    if (!username) return;
    try {
      await this.login(username, newPassword);
    } catch {
      this.end('expired');
    }
  }

  /**
   * Hook for a 403 with an empty body on any other request: asks GET auth/me whether the session is still
   * valid. Resolves true (and shows the login page) when it is over. Concurrent calls share one check.
   */
  confirmEnded(): Promise<boolean> {
    if (this.current.status !== 'authenticated') return Promise.resolve(this.current.status !== 'open');
    this.checking ??= (async () => {
      try {
        const info = parseSessionInfo(await this.api.request('GET', 'auth/me', { raw403: true }));
        if (info && this.current.status === 'authenticated') this.apply(info, info.capabilities ?? LEAST_PRIVILEGE);
        return false;
      } catch (err) {
        if (err instanceof ApiError && err.status === 403) {
          this.end('expired');
          return true;
        }
        return false;
      } finally {
        this.checking = null;
      }
    })();
    return this.checking;
  }

  /**
   * The capabilities of a login / refresh / password answer: its own list, else those already known for the
   * same user and role, else the list of GET auth/me (least privilege when that fails).
   */
  private async capabilitiesOf(info: SessionInfo): Promise<readonly Capability[]> {
    if (info.capabilities) return info.capabilities;
    const cur = this.current;
    if (cur.status === 'authenticated' && cur.user.username === info.user.username && cur.user.role === info.user.role) return cur.capabilities;
    try {
      const me = parseSessionInfo(await this.api.request('GET', 'auth/me', { raw403: true }));
      return me?.capabilities ?? LEAST_PRIVILEGE;
    } catch {
      return LEAST_PRIVILEGE;
    }
  }

  private apply(info: SessionInfo, capabilities: readonly Capability[]): void {
    this.csrf = info.csrfToken || null;
    const expiresAt = Date.parse(info.expiresAt);
    const deadline = info.expiresInSeconds !== null ? this.now() + info.expiresInSeconds * 1000 : expiresAt - Date.now() + this.now();
    const endsAt = info.sessionEndsAt ? Date.parse(info.sessionEndsAt) : NaN;
    const limits: SessionLimits = {
      deadline,
      idleTimeoutMs: info.idleTimeoutSeconds * 1000,
      endsBy: !Number.isNaN(endsAt) && endsAt <= expiresAt ? 'max-age' : 'idle',
    };
    if (limits.idleTimeoutMs > 0 && this.lastRefresh === -Infinity) this.lastRefresh = this.now(); // a login counts as activity
    setDraftUser(info.user.username);
    this.set({ status: 'authenticated', user: info.user, expiresAt, capabilities, limits });
    this.clearTimer();
    if (Number.isNaN(expiresAt) || limits.idleTimeoutMs > 0) return; // with an idle time-out only activity refreshes
    const due = expiresAt - this.margin - this.now();
    const sinceLast = this.now() - this.lastRefresh;
    this.schedule(Math.max(due, this.minInterval - sinceLast, 0));
  }

  private schedule(delay: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, Math.min(delay, MAX_TIMEOUT));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Forgets the session (timer, CSRF token, user) and shows the login page. */
  private end(reason: LoggedOutReason): void {
    this.clearTimer();
    this.csrf = null;
    this.lastRefresh = -Infinity;
    setDraftUser(null); // the drafts stay stored for this user's next login in this tab
    this.set({ status: 'anonymous', reason });
  }
}
