// Login page: shown instead of any route while nobody is logged in. The hash is left alone, so that the
// route asked for is shown after login.
import { ApiError } from './api';
import { h } from './dom';
import type { Page } from './router';
import type { LoggedOutReason } from './session';

export interface LoginOptions {
  reason: LoggedOutReason;
  login(username: string, password: string): Promise<unknown>;
}

const NOTICES: Record<LoggedOutReason, string> = {
  initial: '',
  expired: 'Your session has ended. Please log in again.',
  logout: 'You have logged out.',
  idle: 'You were logged off after a period without activity. Log in again to continue; what you were typing was kept.',
  'max-age': 'Your session reached its maximum length. Log in again to continue; what you were typing was kept.',
};

/** What a failed login says: the server's sentence, or that it cannot be reached. */
function loginFailure(err: unknown): string {
  if (err instanceof ApiError && err.status === 0) return 'The server cannot be reached. Try again in a moment.';
  return err instanceof Error && err.message ? err.message : 'Login failed.';
}

/** The page around the form: brand, subtitle and the notice of why the user is here ('' for none). */
function loginCard(notice: string, form: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'login-page' },
    h(
      'main',
      { class: 'login-card' },
      h(
        'div',
        { class: 'login-brand' },
        h('span', { class: 'brand-mark login-mark', attrs: { 'aria-hidden': 'true' } }),
        h('h1', { class: 'login-title', attrs: { id: 'rr-login-title' }, text: 'Reading Room' }),
      ),
      h('p', { class: 'login-subtitle muted', text: 'Sign in to continue' }),
      notice ? h('p', { class: 'login-notice', attrs: { role: 'status' }, text: notice }) : null,
      form,
    ),
  );
}

export function mountLogin(opts: LoginOptions): Page {
  let destroyed = false;
  const username = h('input', {
    class: 'text-input',
    attrs: {
      id: 'rr-login-username',
      name: 'username',
      type: 'text',
      autocomplete: 'username',
      autocapitalize: 'off',
      spellcheck: 'false',
      required: true,
    },
  });
  const password = h('input', {
    class: 'text-input',
    attrs: { id: 'rr-login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true },
  });
  const error = h('div', { class: 'login-error', attrs: { role: 'alert', 'aria-live': 'assertive' } });
  const submit = h('button', { class: 'btn btn-primary login-submit', attrs: { type: 'submit' }, text: 'Log in' });
  const notice = NOTICES[opts.reason];

  const form = h(
    'form',
    { class: 'login-form', attrs: { 'aria-labelledby': 'rr-login-title', method: 'post', action: '#' } },
    h('div', { class: 'login-field' }, h('label', { class: 'field-label', attrs: { for: 'rr-login-username' }, text: 'Username' }), username),
    h('div', { class: 'login-field' }, h('label', { class: 'field-label', attrs: { for: 'rr-login-password' }, text: 'Password' }), password),
    error,
    submit,
  );

  const setPending = (pending: boolean): void => {
    submit.disabled = pending;
    username.readOnly = pending;
    password.readOnly = pending;
    submit.textContent = pending ? 'Logging in…' : 'Log in';
    form.setAttribute('aria-busy', pending ? 'true' : 'false');
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    const user = username.value.trim();
    if (!user || !password.value) {
      error.textContent = 'Enter your username and password.';
      (user ? password : username).focus();
      return;
    }
    error.textContent = '';
    setPending(true);
    opts.login(user, password.value).then(
      () => undefined, // the app replaces this page
      (err: unknown) => {
        if (destroyed) return;
        setPending(false);
        error.textContent = loginFailure(err);
        password.value = '';
        password.focus();
      },
    );
  });

  const el = loginCard(notice, form);
  document.title = 'Log in · Reading Room';
  queueMicrotask(() => {
    if (!destroyed) username.focus();
  });
  return {
    el,
    destroy(): void {
      destroyed = true;
    },
  };
}
