// Password dialogs: a user changes their own password; an admin sets another user's password.
import { hIn } from './dom';
import { labelled, openFormDialog, passwordInput, type FormDialog } from './dialog';

/** New password + confirmation; check() throws when they differ. */
function newPasswordFields(doc: Document): { fields: HTMLElement[]; value(): string; check(): void } {
  const next = passwordInput(doc, 'newPassword', 'new-password');
  const confirm = passwordInput(doc, 'confirmPassword', 'new-password');
  return {
    fields: [labelled(doc, 'New password', next), labelled(doc, 'Repeat new password', confirm)],
    value: () => next.value,
    check(): void {
      if (next.value !== confirm.value) {
        confirm.focus();
        throw new Error('The two new passwords differ.');
      }
    },
  };
}

/**
 * Hidden username field so that password managers file the new password under the right account
 * (and browsers do not complain about a password form without one).
 */
function hiddenUsername(doc: Document, username: string): HTMLInputElement {
  const input = hIn(doc, 'input', {
    class: 'visually-hidden',
    attrs: { type: 'text', name: 'username', autocomplete: 'username', tabindex: -1, 'aria-hidden': 'true', readonly: true },
  });
  input.value = username;
  return input;
}

export interface ChangePasswordOptions {
  username: string;
  change(currentPassword: string, newPassword: string): Promise<void>;
  /** Called after the server accepted the change. */
  done(): void;
}

export function openChangePasswordDialog(doc: Document, opts: ChangePasswordOptions): FormDialog {
  const current = passwordInput(doc, 'currentPassword', 'current-password');
  const next = newPasswordFields(doc);
  return openFormDialog(doc, {
    title: 'Change password',
    fields: [hiddenUsername(doc, opts.username), labelled(doc, 'Current password', current), ...next.fields],
    submitLabel: 'Change password',
    pendingLabel: 'Changing…',
    async onSubmit() {
      next.check();
      await opts.change(current.value, next.value());
      opts.done();
    },
  });
}

export interface ResetPasswordOptions {
  username: string;
  displayName: string;
  reset(password: string): Promise<void>;
  done(): void;
}

/** Admin: set the password of another user. */
export function openResetPasswordDialog(doc: Document, opts: ResetPasswordOptions): FormDialog {
  const next = newPasswordFields(doc);
  const who = opts.displayName ? `${opts.displayName} (${opts.username})` : opts.username;
  return openFormDialog(doc, {
    title: 'Reset password',
    description: ['Set a new password for ', hIn(doc, 'strong', { text: who }), '. Tell it to the user through a safe channel.'],
    fields: next.fields,
    submitLabel: 'Set password',
    pendingLabel: 'Saving…',
    async onSubmit() {
      next.check();
      await opts.reset(next.value());
      opts.done();
    },
  });
}
