// Automatic log-off in the browser (the server enforces it; see session.ts and the README's "Automatic
// log-off"). The guard
//  - reports user activity (keys, clicks, the wheel, touches) to the session, which refreshes its token at most
//    once per activity interval: only activity extends an idle session, never background polling;
//  - a minute before the deadline (half the idle time when that is shorter) first asks the server whether
//    another tab of the same session was active (GET auth/me does not extend it), then warns in a dialog
//    "You will be logged off in 60 s" with "Stay logged in" (or, at the session's maximum age, "OK");
//  - shortly before the deadline (so that the reason reaches the server's audit trail) logs off with the
//    reason; drafts (drafts.ts) are already stored as they are typed, and the login page says why.
import { hIn } from './dom';
import type { Session, SessionLimits, SessionState } from './session';

export interface IdleGuardOptions {
  /** Warn this long before the deadline (default 60 s; at most half the idle time). */
  warnMs?: number;
  /** Log off this long before the token's expiry (default 1.5 s), so that the logout is still accepted. */
  marginMs?: number;
  now?: () => number;
}

const ACTIVITY_EVENTS = ['keydown', 'pointerdown', 'wheel', 'touchstart'] as const;
const MAX_TIMEOUT = 2_147_483_647;

export class IdleGuard {
  private readonly session: Session;
  private readonly doc: Document;
  private readonly warnMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;
  private warnTimer: ReturnType<typeof setTimeout> | undefined;
  private logoffTimer: ReturnType<typeof setTimeout> | undefined;
  private tick: ReturnType<typeof setInterval> | undefined;
  private dialog: HTMLDialogElement | null = null;
  /** The deadline the timers are set for (null: none). */
  private scheduled: number | null = null;
  private readonly unsubscribe: () => void;
  private readonly onActivity = (event: Event): void => {
    // a click in the warning's own button is handled by the button
    if (this.dialog && event.target instanceof Node && this.dialog.contains(event.target)) return;
    this.session.activity();
  };

  constructor(session: Session, doc: Document, opts: IdleGuardOptions = {}) {
    this.session = session;
    this.doc = doc;
    this.warnMs = opts.warnMs ?? 60_000;
    this.marginMs = opts.marginMs ?? 1_500;
    this.now = opts.now ?? (() => Date.now());
    for (const type of ACTIVITY_EVENTS) doc.addEventListener(type, this.onActivity, { capture: true, passive: true });
    this.unsubscribe = session.subscribe((state) => this.follow(state));
    this.follow(session.state);
  }

  /** Removes the listeners, timers and dialog. */
  destroy(): void {
    this.unsubscribe();
    for (const type of ACTIVITY_EVENTS) this.doc.removeEventListener(type, this.onActivity, { capture: true });
    this.clear();
  }

  /** Whether the warning is shown (tests). */
  get warning(): boolean {
    return this.dialog !== null;
  }

  private clear(): void {
    clearTimeout(this.warnTimer);
    clearTimeout(this.logoffTimer);
    clearInterval(this.tick);
    this.warnTimer = this.logoffTimer = this.tick = undefined;
    this.scheduled = null;
    this.dialog?.remove();
    this.dialog = null;
  }

  /** Every session state: (re)schedule the warning and the log-off of an authenticated session. */
  private follow(state: SessionState): void {
    // the same deadline again (GET auth/me answers in whole seconds): keep the timers and the warning
    if (state.status === 'authenticated' && this.scheduled !== null && Math.abs(state.limits.deadline - this.scheduled) < 2_000) return;
    this.clear();
    if (state.status !== 'authenticated') return;
    const { limits } = state;
    if (Number.isNaN(limits.deadline)) return;
    if (limits.idleTimeoutMs <= 0 && limits.endsBy !== 'max-age') return; // no automatic log-off: the session renews itself
    const logoffAt = limits.deadline - this.marginMs;
    const warnFor = Math.min(this.warnMs, (limits.idleTimeoutMs || this.warnMs * 2) / 2);
    const wait = (at: number): number => Math.min(Math.max(at - this.now(), 0), MAX_TIMEOUT);
    this.warnTimer = setTimeout(() => void this.warn(limits), wait(logoffAt - warnFor));
    this.logoffTimer = setTimeout(() => void this.logoff(limits), wait(logoffAt));
    this.scheduled = limits.deadline;
  }

  private async warn(limits: SessionLimits): Promise<void> {
    await this.session.recheck(); // another tab may have been active: a new deadline reschedules everything
    if (this.session.state.status !== 'authenticated' || this.scheduled !== limits.deadline || this.dialog) return;
    this.showWarning(limits);
  }

  private async logoff(limits: SessionLimits): Promise<void> {
    await this.session.recheck();
    if (this.session.state.status !== 'authenticated' || this.scheduled !== limits.deadline) return;
    this.clear();
    await this.session.autoLogout(limits.endsBy);
  }

  private showWarning(limits: SessionLimits): void {
    const idle = limits.endsBy === 'idle';
    const text = hIn(this.doc, 'p', { class: 'dialog-text', attrs: { id: 'idle-warning-text' } });
    const button = hIn(this.doc, 'button', {
      class: 'btn btn-primary',
      attrs: { type: 'button', 'data-action': idle ? 'stay' : 'ok' },
      text: idle ? 'Stay logged in' : 'OK',
      on: {
        click: () => {
          if (idle) void this.session.refresh();
          else {
            this.dialog?.remove();
            this.dialog = null;
          }
        },
      },
    });
    const update = (): void => {
      const left = Math.max(0, Math.ceil((limits.deadline - this.marginMs - this.now()) / 1000));
      text.textContent = idle
        ? `You will be logged off in ${left} s because of inactivity. What you are typing is kept.`
        : `Your session reaches its maximum length: you will be logged off in ${left} s. What you are typing is kept; log in again to continue.`;
    };
    update();
    const dialog = hIn(
      this.doc,
      'dialog',
      { class: 'dialog idle-warning', attrs: { role: 'alertdialog', 'aria-labelledby': 'idle-warning-title', 'aria-describedby': 'idle-warning-text' } },
      hIn(this.doc, 'div', { class: 'dialog-form' },
        hIn(this.doc, 'h2', { class: 'dialog-title', attrs: { id: 'idle-warning-title' }, text: idle ? 'Still there?' : 'Session ending' }),
        text,
        hIn(this.doc, 'div', { class: 'dialog-actions' }, button)),
    );
    this.doc.body.append(dialog);
    this.dialog = dialog;
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    button.focus();
    this.tick = setInterval(update, 1000);
  }
}
