// How the pages show a failure: the error's sentence, "(HTTP n)" when the server answered, and the
// alert block with a Retry button that every page uses. Text only.
import { ApiError } from './api';
import { hIn } from './dom';

/** The error's sentence (the server's message for an ApiError). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** " (HTTP 503)" for an error the server answered, '' otherwise (network failures, other errors). */
export function statusNote(err: unknown): string {
  return err instanceof ApiError && err.status ? ` (HTTP ${err.status})` : '';
}

/** "<title>: <message>" as an alert (class error); the message in .error-message. */
export function errorAlert(doc: Document, title: string, err: unknown): HTMLElement {
  return hIn(
    doc,
    'div',
    { class: 'error', attrs: { role: 'alert' } },
    hIn(doc, 'strong', { text: `${title}: ` }),
    hIn(doc, 'span', { class: 'error-message', text: messageOf(err) }),
  );
}

export function retryButton(doc: Document, retry: () => void): HTMLButtonElement {
  return hIn(doc, 'button', { class: 'btn', attrs: { type: 'button' }, text: 'Retry', on: { click: retry } });
}
