// Undo/redo of the user's own annotation changes (add, move, relabel, delete), as states before and after:
// a change is one annotation going from `before` to `after` (null: absent). Undo gives the change to apply
// backwards, redo forwards; a new change clears what could be redone. Pure: the caller applies the states.

import type { WireBody } from './viewer-annotations-wire';

export interface Change {
  uid: string;
  before: WireBody | null;
  after: WireBody | null;
}

export const MAX_HISTORY = 200;

export class History {
  private done: Change[] = [];
  private undone: Change[] = [];

  record(c: Change): void {
    this.done.push(c);
    if (this.done.length > MAX_HISTORY) this.done.shift();
    this.undone = [];
  }

  canUndo(): boolean {
    return this.done.length > 0;
  }

  canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** The last change reversed ({uid, before: its after, after: its before}), or null. */
  undo(): Change | null {
    const c = this.done.pop();
    if (!c) return null;
    this.undone.push(c);
    return { uid: c.uid, before: c.after, after: c.before };
  }

  /** The last undone change, to apply again, or null. */
  redo(): Change | null {
    const c = this.undone.pop();
    if (!c) return null;
    this.done.push(c);
    return c;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }
}
