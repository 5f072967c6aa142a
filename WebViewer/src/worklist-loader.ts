// Loading and polling of the worklist: one request at a time (a new load aborts the running one, a
// background refresh skips while one runs), a refresh every refreshMs while the tab is visible, and the
// page told only when the list changed.
import type { StudyList } from './api';

export interface LoaderHooks {
  fetch(signal: AbortSignal): Promise<StudyList>;
  /** A visible load starts (shown: a list is on screen) / ends. */
  busy(on: boolean, shown: boolean): void;
  /** The answer is a page past the end (rows deleted meanwhile): the page asks for another one instead. */
  pastEnd(list: StudyList): boolean;
  gotoPage(list: StudyList): void;
  /** Any answer arrived (changed or not). */
  answered(): void;
  /** A list different from the one shown (or the first one). */
  changed(list: StudyList): void;
  /** A load failed; shown: a list stays on screen (background refresh), else it is replaced by the error. */
  failed(err: unknown, shown: boolean): void;
}

export class WorklistLoader {
  private readonly hooks: LoaderHooks;
  private controller: AbortController | null = null;
  /** JSON of the list shown ('' when none). */
  private signature = '';
  private shown = false;
  private destroyed = false;
  private readonly timer: number;

  constructor(hooks: LoaderHooks, refreshMs: number, doc: Document = document) {
    this.hooks = hooks;
    this.timer = window.setInterval(() => {
      if (!doc.hidden) void this.load(true);
    }, refreshMs);
  }

  /** silent: a background refresh (no progress bar, errors keep the list shown). */
  async load(silent: boolean): Promise<void> {
    if (silent && this.controller) return; // a load is already running
    this.controller?.abort();
    const ctrl = new AbortController();
    this.controller = ctrl;
    if (!silent) this.hooks.busy(true, this.shown);
    try {
      const data = await this.hooks.fetch(ctrl.signal);
      if (ctrl.signal.aborted || this.destroyed) return;
      if (this.hooks.pastEnd(data)) {
        this.controller = null;
        this.hooks.gotoPage(data);
        return;
      }
      this.hooks.answered();
      const sig = JSON.stringify(data);
      if (sig !== this.signature || !this.shown) {
        this.signature = sig;
        this.shown = true;
        this.hooks.changed(data);
      }
    } catch (err) {
      if (ctrl.signal.aborted || this.destroyed) return;
      const keep = silent && this.shown;
      if (!keep) {
        this.shown = false;
        this.signature = '';
      }
      this.hooks.failed(err, keep);
    } finally {
      if (this.controller === ctrl) {
        this.controller = null;
        this.hooks.busy(false, this.shown);
      }
    }
  }

  destroy(): void {
    this.destroyed = true;
    window.clearInterval(this.timer);
    this.controller?.abort();
  }
}
