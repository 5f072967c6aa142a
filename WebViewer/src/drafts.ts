// Unsaved drafts that survive an automatic log-off: what the user typed is kept in the tab's sessionStorage
// under the user's name, restored after the same user logs in again in this tab, and dropped once saved.
// sessionStorage, not localStorage: it dies with the tab, and another user of the workstation never sees it
// (keys carry the user name; a different user's drafts are not read).
//
// Kept today: the AI review form (radiologist notes, per-finding verdicts and edited descriptions), per
// analysis. The upload queue is not kept (files cannot be re-read from storage).

const PREFIX = 'rr.draft.';

let currentUser: string | null = null;

/** The logged-in user whose drafts are read and written (the session sets it; null: none kept). */
export function setDraftUser(username: string | null): void {
  currentUser = username;
}

/** The logged-in user the session set (null: none, or open mode); the viewer keys its remembered layout by it. */
export function draftUser(): string | null {
  return currentUser;
}

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage disabled
  }
}

function keyOf(key: string): string | null {
  return currentUser ? `${PREFIX}${encodeURIComponent(currentUser)}.${key}` : null;
}

/** The saved draft of `key` for the current user, null when there is none or it cannot be read. */
export function loadDraft<T>(key: string): T | null {
  const k = keyOf(key);
  const text = k ? storage()?.getItem(k) : null;
  if (!text) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** Keeps `value` (JSON) as the draft of `key`; silently does nothing when storage is full or off. */
export function saveDraft(key: string, value: unknown): void {
  const k = keyOf(key);
  if (!k) return;
  try {
    storage()?.setItem(k, JSON.stringify(value));
  } catch {
    // quota exceeded or storage off: the draft is only lost on a log-off, as before
  }
}

/** Drops the draft of `key` (after it was saved on the server). */
export function clearDraft(key: string): void {
  const k = keyOf(key);
  if (k) storage()?.removeItem(k);
}
