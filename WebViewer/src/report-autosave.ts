// Autosave of a report draft: the newest state of the form (fields, inserts, critical flag) is sent ~1 s after
// the last edit, one request at a time, with If-Match = the report's etag (the answer's etag is the next one).
// A request that may succeed later (network, 5xx, 429, a session to renew) is retried with the back-off of the
// annotations' save queue (viewer-annotations-queue.ts DEFAULT_DELAYS); 412/409 stops saving and hands the
// unsent change to the caller, which reloads the server's version and says so (nothing is silently
// overwritten); other refusals (400) keep the change and wait for the next edit. The unsent change is kept in
// localStorage per user and report until the server confirms it, so a reload (or a crash) replays it.
// No DOM: the transport, the storage and the timers are given (Vitest drives them).
import { ApiError, isSessionEnded } from './api';
import { DEFAULT_DELAYS, type Outcome } from './viewer-annotations-queue';
import type { DraftBody, Report } from './report-api';

export type AutosaveState = 'saved' | 'pending' | 'saving' | 'retrying' | 'conflict' | 'refused';

/** What the transport made of one save: Outcome of the annotations queue, plus the report on success. */
export type SaveOutcome = { ok: true; report: Report } | Exclude<Outcome, { ok: true }>;

/** What is kept in storage: the change and the etag it was made on. */
export interface StoredDraft {
  etag: string;
  change: DraftBody;
  at: string;
}

export type StorageLike = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface AutosaveOptions {
  send(change: DraftBody, etag: string): Promise<SaveOutcome>;
  storage: StorageLike | null;
  key: string;
  etag: string;
  debounceMs?: number;
  delays?: readonly number[];
  onState?(state: AutosaveState, detail: string): void;
  /** A save was answered with the report: the caller keeps it (new etag, server's values). */
  onSaved?(report: Report): void;
  /** 409/412: saving stopped; `unsent` is what the server did not take. */
  onConflict?(unsent: DraftBody, message: string): void;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
  now?(): Date;
}

export const DEBOUNCE_MS = 1000;

/** The outcome of a failed PUT draft: transient failures retry, 409/412 conflict, the rest is refused. */
export function failureOutcome(err: unknown): Exclude<SaveOutcome, { ok: true }> {
  const message = err instanceof Error ? err.message : String(err);
  if (!(err instanceof ApiError)) return { ok: false, retry: true, message };
  if (err.status === 0 || err.status >= 500 || err.status === 429 || err.status === 408 || isSessionEnded(err)) return { ok: false, retry: true, message };
  if (err.status === 412 || err.status === 409 || err.status === 428) return { ok: false, conflict: true, message };
  return { ok: false, retry: false, message };
}

/** localStorage key of the unsent draft of a user's report. */
export function draftKey(user: string | null, reportId: string): string {
  return `rr.report.draft.${encodeURIComponent(user ?? 'open')}.${encodeURIComponent(reportId)}`;
}

/** The change kept under `key` (null when none or unreadable). */
export function loadStoredDraft(storage: Pick<Storage, 'getItem'> | null, key: string): StoredDraft | null {
  try {
    const text = storage?.getItem(key);
    const v: unknown = text ? JSON.parse(text) : null;
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (typeof o.etag !== 'string' || typeof o.change !== 'object' || o.change === null) return null;
    return { etag: o.etag, change: o.change as DraftBody, at: typeof o.at === 'string' ? o.at : '' };
  } catch {
    return null;
  }
}

/** b over a: each member b gives replaces a's (fields are sent whole, so no deeper merge). */
export function mergeChange(a: DraftBody | null, b: DraftBody | null): DraftBody | null {
  if (!a) return b ? { ...b } : null;
  if (!b) return { ...a };
  return { ...a, ...b };
}

export class DraftAutosave {
  private readonly o: AutosaveOptions;
  private etag: string;
  /** Edited, not yet sent. */
  private pending: DraftBody | null = null;
  /** On the wire. */
  private inFlight: DraftBody | null = null;
  private timer: unknown = null;
  private failures = 0;
  private stopped = false;
  private st: AutosaveState = 'saved';
  private detail = '';
  private waiters: ((ok: boolean) => void)[] = [];

  constructor(opts: AutosaveOptions, replay: DraftBody | null = null) {
    this.o = opts;
    this.etag = opts.etag;
    if (replay) {
      this.pending = { ...replay };
      this.persist();
      this.set('pending', '');
      this.schedule(0);
    }
  }

  state(): AutosaveState {
    return this.st;
  }

  currentEtag(): string {
    return this.etag;
  }

  /** What the server has not confirmed yet (the change on the wire under the newer edits). */
  unsent(): DraftBody | null {
    return mergeChange(this.inFlight, this.pending);
  }

  /** An edit: kept at once (storage), sent after the pause. */
  change(patch: DraftBody): void {
    if (this.stopped) return;
    this.pending = mergeChange(this.pending, patch);
    this.persist();
    if (this.st !== 'retrying' && this.st !== 'saving') this.set('pending', '');
    if (this.st === 'retrying') return; // the back-off timer sends it
    this.schedule(this.o.debounceMs ?? DEBOUNCE_MS);
  }

  /**
   * Sends what is waiting now and resolves true once the server has everything (false when saving failed,
   * conflicted or stopped). Signing waits on it so that the signature covers what is on the screen.
   */
  flush(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    if (!this.pending && !this.inFlight) return Promise.resolve(this.st === 'saved');
    const p = new Promise<boolean>((resolve) => this.waiters.push(resolve));
    if (!this.inFlight) {
      this.clear();
      void this.sendNow();
    }
    return p;
  }

  /** Sends now instead of waiting for the back-off (the browser is online again). */
  retryNow(): void {
    if (this.stopped || this.st !== 'retrying' || this.inFlight) return;
    this.clear();
    void this.sendNow();
  }

  /** Stops for good (page left, conflict handled by a new instance); what is unsent stays in storage. */
  stop(): void {
    this.stopped = true;
    this.clear();
    this.settle(false);
  }

  /** Forgets the stored change (the caller discarded it). */
  discard(): void {
    this.pending = null;
    this.persist();
  }

  private set(state: AutosaveState, detail: string): void {
    this.st = state;
    this.detail = detail;
    this.o.onState?.(state, detail);
  }

  private clear(): void {
    if (this.timer !== null) (this.o.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private schedule(ms: number): void {
    this.clear();
    this.timer = (this.o.setTimer ?? setTimeout)(() => {
      this.timer = null;
      void this.sendNow();
    }, ms);
  }

  private persist(): void {
    const change = this.unsent();
    try {
      if (!change) this.o.storage?.removeItem(this.o.key);
      else this.o.storage?.setItem(this.o.key, JSON.stringify({ etag: this.etag, change, at: (this.o.now?.() ?? new Date()).toISOString() }));
    } catch {
      /* storage full or off: memory only */
    }
  }

  private settle(ok: boolean): void {
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve(ok);
  }

  private async sendNow(): Promise<void> {
    if (this.stopped || this.inFlight || !this.pending) return;
    this.inFlight = this.pending;
    this.pending = null;
    if (this.st !== 'retrying') this.set('saving', '');
    let outcome: SaveOutcome;
    try {
      outcome = await this.o.send(this.inFlight, this.etag);
    } catch (err) {
      outcome = { ok: false, retry: true, message: err instanceof Error ? err.message : String(err) };
    }
    const sent = this.inFlight;
    this.inFlight = null;
    if (this.stopped) {
      this.pending = mergeChange(sent, this.pending);
      return;
    }
    if (outcome.ok) {
      this.failures = 0;
      this.etag = outcome.report.etag;
      this.persist();
      this.o.onSaved?.(outcome.report);
      if (this.pending) {
        this.set('pending', '');
        if (this.waiters.length) void this.sendNow();
        else this.schedule(this.o.debounceMs ?? DEBOUNCE_MS);
      } else {
        this.set('saved', '');
        this.settle(true);
      }
      return;
    }
    this.pending = mergeChange(sent, this.pending); // newer edits win over what was on the wire
    this.persist();
    if ('conflict' in outcome) {
      this.stopped = true;
      this.set('conflict', outcome.message);
      this.settle(false);
      this.o.onConflict?.(this.pending ?? {}, outcome.message);
      return;
    }
    if (outcome.retry) {
      this.failures++;
      const delays = this.o.delays ?? DEFAULT_DELAYS;
      this.set('retrying', outcome.message);
      this.schedule(delays[Math.min(this.failures, delays.length) - 1] ?? 1000);
      return;
    }
    this.failures = 0;
    this.set('refused', outcome.message);
    this.settle(false);
  }

  /** The status line of a state ("Saved", "Saving…", "Not saved — retrying: …"). */
  static label(state: AutosaveState, detail: string): string {
    switch (state) {
      case 'saved':
        return 'Saved';
      case 'pending':
      case 'saving':
        return 'Saving…';
      case 'retrying':
        return `Not saved — retrying${detail ? ` (${detail})` : ''}`;
      case 'conflict':
        return 'Not saved — changed elsewhere';
      case 'refused':
        return `Not saved: ${detail}`;
    }
  }

  lastDetail(): string {
    return this.detail;
  }
}
