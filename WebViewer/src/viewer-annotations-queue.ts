// The save queue of the viewer's annotations and key images: every change becomes an operation, kept in memory
// and in localStorage (per user + study, so a reload while the server is unreachable keeps them) and sent in
// order, one at a time. A failed request that may succeed later (network error, 5xx, 429, a session that has
// to be renewed) is retried with back-off; one the server refuses for good (400, 403 with a reason) is
// dropped and reported; a conflict (409, 412) is reported so the caller refetches. A later PUT of the same
// annotation replaces one still waiting (the newest state wins, its place in the order kept).
// No DOM, no cornerstone: the transport, the storage and the timers are given (Vitest drives them).

import type { WireBody } from './viewer-annotations-wire';

export type Op =
  | { kind: 'put'; uid: string; body: WireBody }
  | { kind: 'delete'; uid: string }
  | { kind: 'mark'; sopInstanceUid: string; seriesInstanceUid: string; frame: number }
  | { kind: 'unmark'; sopInstanceUid: string; frame: number };

/** What the transport made of one operation. */
export type Outcome =
  | { ok: true }
  /** Try again later (the operation stays first in the queue). */
  | { ok: false; retry: true; message: string }
  /** The server holds another version (409/412): the operation is dropped, the caller refetches. */
  | { ok: false; conflict: true; message: string }
  /** Refused for good (the operation is dropped). */
  | { ok: false; retry: false; message: string };

export type SaveState = 'saved' | 'saving' | 'retrying';

export interface QueueOptions {
  send(op: Op): Promise<Outcome>;
  /** Where pending operations are kept across reloads (null: memory only). */
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  key: string;
  /** Back-off delays in ms after the 1st, 2nd, … failure (the last one repeats). */
  delays?: readonly number[];
  onState?(state: SaveState, detail: string): void;
  onConflict?(op: Op, message: string): void;
  onRefused?(op: Op, message: string): void;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export const DEFAULT_DELAYS: readonly number[] = [1000, 2000, 4000, 8000, 15000];

/** localStorage key of the pending operations of a user's study. */
export function pendingKey(user: string | null, studyInstanceUid: string): string {
  return `rr.annotations.pending.${encodeURIComponent(user ?? 'open')}.${encodeURIComponent(studyInstanceUid)}`;
}

function isOp(v: unknown): v is Op {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (o.kind === 'put') return typeof o.uid === 'string' && typeof o.body === 'object' && o.body !== null;
  if (o.kind === 'delete') return typeof o.uid === 'string';
  if (o.kind === 'mark') return typeof o.sopInstanceUid === 'string' && typeof o.frame === 'number';
  if (o.kind === 'unmark') return typeof o.sopInstanceUid === 'string' && typeof o.frame === 'number';
  return false;
}

/** The operations kept under `key` (malformed entries and unreadable storage give none). */
export function loadPending(storage: Pick<Storage, 'getItem'> | null, key: string): Op[] {
  try {
    const text = storage?.getItem(key);
    const v: unknown = text ? JSON.parse(text) : [];
    return Array.isArray(v) ? v.filter(isOp) : [];
  } catch {
    return [];
  }
}

export class SaveQueue {
  private readonly opts: QueueOptions;
  private readonly ops: Op[];
  private busy = false;
  private failures = 0;
  private timer: unknown = null;
  private stopped = false;
  private lastError = '';

  constructor(opts: QueueOptions, initial: Op[] = []) {
    this.opts = opts;
    this.ops = [...initial];
    this.persist();
  }

  /** The operations not yet confirmed by the server, oldest first (the one being sent included). */
  pending(): readonly Op[] {
    return this.ops;
  }

  state(): SaveState {
    if (this.ops.length === 0) return 'saved';
    return this.failures > 0 ? 'retrying' : 'saving';
  }

  push(op: Op): void {
    if (this.stopped) return;
    // the newest state of an annotation replaces a PUT still waiting (not the one on the wire)
    const from = this.busy ? 1 : 0;
    const i = op.kind === 'put' ? this.ops.findIndex((o, n) => n >= from && o.kind === 'put' && o.uid === op.uid) : -1;
    if (i >= 0) this.ops[i] = op;
    else this.ops.push(op);
    this.persist();
    this.report();
    this.kick();
  }

  /** Sends now (after a failure: without waiting for the back-off), e.g. when the browser is online again. */
  retryNow(): void {
    if (this.timer !== null) {
      (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
      this.timer = null;
    }
    this.kick();
  }

  /** Stops sending (the pending operations stay in storage for the next time the study is opened). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private persist(): void {
    try {
      if (this.ops.length === 0) this.opts.storage?.removeItem(this.opts.key);
      else this.opts.storage?.setItem(this.opts.key, JSON.stringify(this.ops));
    } catch {
      /* storage full or off: kept in memory only */
    }
  }

  private report(): void {
    const s = this.state();
    this.opts.onState?.(s, s === 'retrying' ? this.lastError : '');
  }

  private kick(): void {
    if (this.busy || this.stopped || this.timer !== null || this.ops.length === 0) return;
    void this.sendFirst();
  }

  private async sendFirst(): Promise<void> {
    const op = this.ops[0]!;
    this.busy = true;
    let outcome: Outcome;
    try {
      outcome = await this.opts.send(op);
    } catch (err) {
      outcome = { ok: false, retry: true, message: err instanceof Error ? err.message : String(err) };
    }
    this.busy = false;
    if (this.stopped) return;
    if (!outcome.ok && 'retry' in outcome && outcome.retry) {
      this.failures++;
      this.lastError = outcome.message;
      const delays = this.opts.delays ?? DEFAULT_DELAYS;
      const ms = delays[Math.min(this.failures, delays.length) - 1] ?? 1000;
      this.report();
      this.timer = (this.opts.setTimer ?? setTimeout)(() => {
        this.timer = null;
        this.kick();
      }, ms);
      return;
    }
    this.ops.shift();
    this.failures = 0;
    this.lastError = '';
    this.persist();
    if (!outcome.ok && 'conflict' in outcome) this.opts.onConflict?.(op, outcome.message);
    else if (!outcome.ok) this.opts.onRefused?.(op, outcome.message);
    this.report();
    this.kick();
  }
}
