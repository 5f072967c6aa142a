// Modal form dialogs (<dialog>): change password, reset password, new user.
import { hIn, type Child } from './dom';
import { messageOf } from './failure';

let nextId = 0;

/** A unique element id ("rr-<prefix>-<n>"). */
export function uid(prefix: string): string {
  nextId += 1;
  return `rr-${prefix}-${nextId}`;
}

/** A labelled form field: <div class="field"><label for=…>label</label>control</div> (accessible name = label). */
export function labelled(doc: Document, label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (!control.id) control.id = uid('field');
  return hIn(
    doc,
    'div',
    { class: 'field' },
    hIn(doc, 'label', { class: 'field-label', attrs: { for: control.id }, text: label }),
    control,
    hint ? hIn(doc, 'span', { class: 'field-hint', text: hint }) : null,
  );
}

export interface FormDialogOptions {
  title: string;
  description?: Child | Child[];
  fields: Child[];
  submitLabel: string;
  /** Label while the submission runs ("Saving…"). */
  pendingLabel?: string;
  /** Resolves when done (the dialog closes); rejects with an Error whose message is shown (it stays open). */
  onSubmit(form: HTMLFormElement): Promise<void>;
  onClose?(): void;
}

export interface FormDialog {
  dialog: HTMLDialogElement;
  form: HTMLFormElement;
  close(): void;
}

/** Opens a modal form dialog appended to doc.body; removed from the document when closed. */
export function openFormDialog(doc: Document, opts: FormDialogOptions): FormDialog {
  const titleId = uid('dialog-title');
  const error = hIn(doc, 'div', { class: 'dialog-error error', attrs: { role: 'alert', hidden: true } });
  const submit = hIn(doc, 'button', { class: 'btn btn-primary', attrs: { type: 'submit' }, text: opts.submitLabel });
  const cancel = hIn(doc, 'button', { class: 'btn btn-ghost', attrs: { type: 'button', value: 'cancel' }, text: 'Cancel' });
  const form = hIn(
    doc,
    'form',
    { class: 'dialog-form' },
    hIn(doc, 'h2', { class: 'dialog-title', attrs: { id: titleId }, text: opts.title }),
    opts.description ? hIn(doc, 'p', { class: 'dialog-text' }, ...(Array.isArray(opts.description) ? opts.description : [opts.description])) : null,
    ...opts.fields,
    error,
    hIn(doc, 'div', { class: 'dialog-actions' }, cancel, submit),
  );
  const dialog = hIn(doc, 'dialog', { class: 'dialog', attrs: { 'aria-labelledby': titleId } }, form);
  let closed = false;
  let pending = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    if (dialog.open && typeof dialog.close === 'function') dialog.close();
    dialog.remove();
    opts.onClose?.();
  };

  cancel.addEventListener('click', close);
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault();
    if (!pending) close();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (pending) return;
    if (typeof form.reportValidity === 'function' && !form.reportValidity()) return;
    pending = true;
    submit.disabled = true;
    submit.textContent = opts.pendingLabel ?? `${opts.submitLabel}…`;
    error.hidden = true;
    opts
      .onSubmit(form)
      .then(close, (err: unknown) => {
        error.textContent = messageOf(err);
        error.hidden = false;
      })
      .finally(() => {
        pending = false;
        submit.disabled = false;
        submit.textContent = opts.submitLabel;
      });
  });

  doc.body.appendChild(dialog);
  if (typeof dialog.showModal === 'function') dialog.showModal();
  else dialog.setAttribute('open', '');
  form.querySelector<HTMLInputElement>('input:not([type="hidden"]):not([hidden]), select')?.focus();
  return { dialog, form, close };
}

/** A password input with the given autocomplete hint ("current-password" or "new-password"). */
export function passwordInput(doc: Document, name: string, autocomplete: 'current-password' | 'new-password'): HTMLInputElement {
  return hIn(doc, 'input', {
    class: 'text-input',
    attrs: { type: 'password', name, autocomplete, required: true, spellcheck: 'false', autocapitalize: 'off' },
  });
}
