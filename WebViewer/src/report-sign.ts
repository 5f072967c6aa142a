// The signature dialogs: sign (preliminary or final) re-asking the password (a signature is an act of the
// person, not of the session; the password is sent once and never kept), the critical result's communication
// for a critical final report (recipient, method, time), the template's expected ("warn") fields still empty
// listed as a warning before signing; addendum and correction (each a small form + password). The server's
// answers are shown clearly: 403 wrong_password, 422 incomplete (the listed fields highlighted in the form).
import { ApiError } from './api';
import { labelled, openFormDialog, passwordInput } from './dialog';
import { hIn } from './dom';
import { messageOf } from './failure';
import { createReportForm, type ReportForm } from './report-form';
import { incompleteFields, type FieldValues, type SignBody, type Template, type TemplateField } from './report-api';

export const COMMUNICATION_METHODS: readonly { value: string; label: string }[] = [
  { value: 'phone', label: 'Phone' },
  { value: 'in person', label: 'In person' },
  { value: 'secure message', label: 'Secure message' },
  { value: 'pager', label: 'Pager' },
  { value: 'other', label: 'Other' },
];

/** What to tell the radiologist of a failed signature (ApiError codes of the reports API). */
export function signErrorText(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'wrong_password' || (err.status === 403 && err.code !== 'forbidden' && err.code !== 'session_ended' && /password/i.test(err.message)))
      return 'Wrong password: the report was not signed. Repeated wrong passwords lock the account like failed logins.';
    if (err.status === 412 || err.code === 'version_mismatch') return 'The report was changed elsewhere since it was loaded: it was not signed. Reload it and check before signing.';
    if (err.status === 422) return `Cannot sign: ${err.message}`;
    if (err.status === 429 || err.code === 'locked') return `Not signed: ${err.message}`;
  }
  return `Not signed: ${messageOf(err)}`;
}

/** A <input type="datetime-local"> value of a date, local time, minutes. */
export function localDateTimeValue(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The body of POST sign from the dialog's values (communication only for a critical final report). */
export function signBody(password: string, status: 'preliminary' | 'final', critical: boolean, comm: { recipient: string; method: string; at: string }): SignBody {
  const body: SignBody = { password, status };
  if (critical && status === 'final') {
    const at = comm.at ? new Date(comm.at) : null;
    body.communication = { recipient: comm.recipient.trim(), method: comm.method, ...(at && !Number.isNaN(at.getTime()) ? { communicatedAt: at.toISOString() } : {}) };
  }
  return body;
}

export interface SignDialogOptions {
  /** The report is flagged critical: a final signature records the communication. */
  critical: boolean;
  /** Expected ("warn") fields still empty. */
  warnings: readonly TemplateField[];
  /** false once the report is preliminary (it can only be signed final then). */
  allowPreliminary: boolean;
  sign(body: SignBody): Promise<void>;
  /** 422 incomplete: the dialog closes and the form shows the fields. */
  onIncomplete(fieldIds: string[], message: string): void;
  now?: Date;
}

export function openSignDialog(doc: Document, o: SignDialogOptions): void {
  const statusName = 'report-sign-status';
  const radio = (value: 'preliminary' | 'final', label: string, hint: string, checked: boolean, disabled = false): HTMLElement =>
    hIn(
      doc,
      'label',
      { class: 'sign-status-option' },
      hIn(doc, 'input', { attrs: { type: 'radio', name: statusName, value, checked, disabled, 'data-sign-status': value } }),
      hIn(doc, 'strong', { text: ` ${label}` }),
      hIn(doc, 'span', { class: 'small muted', text: ` — ${hint}` }),
    );
  const status = hIn(
    doc,
    'fieldset',
    { class: 'sign-status' },
    hIn(doc, 'legend', { class: 'field-label', text: 'Sign as' }),
    radio('preliminary', 'Preliminary', 'visible to radiologists, can still be edited and signed final', false, !o.allowPreliminary),
    radio('final', 'Final', 'cannot change any more; addenda and corrections are new versions', true),
  );
  const recipient = hIn(doc, 'input', { class: 'text-input', attrs: { type: 'text', name: 'recipient', autocomplete: 'off', 'data-sign': 'recipient' } });
  const method = hIn(doc, 'select', { class: 'text-input', attrs: { name: 'method', 'data-sign': 'method' } }, ...COMMUNICATION_METHODS.map((m) => hIn(doc, 'option', { attrs: { value: m.value }, text: m.label })));
  const at = hIn(doc, 'input', { class: 'text-input', attrs: { type: 'datetime-local', name: 'communicatedAt', 'data-sign': 'communicatedAt' } });
  at.value = localDateTimeValue(o.now ?? new Date());
  const comm = o.critical
    ? hIn(
        doc,
        'fieldset',
        { class: 'sign-communication' },
        hIn(doc, 'legend', { class: 'field-label', text: 'Critical result communicated to' }),
        labelled(doc, 'Recipient', recipient, 'Who was told (name, role)'),
        labelled(doc, 'Method', method),
        labelled(doc, 'When', at),
      )
    : null;
  const password = passwordInput(doc, 'password', 'current-password');
  password.setAttribute('data-sign', 'password');
  const warn = o.warnings.length
    ? hIn(
        doc,
        'div',
        { class: 'sign-warning', attrs: { role: 'note' } },
        hIn(doc, 'strong', { text: 'Expected fields are empty: ' }),
        o.warnings.map((f) => f.label).join(', '),
      )
    : null;
  const chosen = (): 'preliminary' | 'final' => (status.querySelector<HTMLInputElement>('input:checked')?.value === 'preliminary' ? 'preliminary' : 'final');
  const syncComm = (): void => {
    if (!comm) return;
    const need = chosen() === 'final';
    comm.hidden = !need;
    recipient.required = need;
  };
  status.addEventListener('change', syncComm);
  syncComm();
  const d = openFormDialog(doc, {
    title: 'Sign report',
    description: 'Signing records your name and the time. Enter your password to sign.',
    fields: [status, warn, comm, labelled(doc, 'Your password', password)],
    submitLabel: 'Sign',
    pendingLabel: 'Signing…',
    onSubmit: async () => {
      const body = signBody(password.value, chosen(), o.critical, { recipient: recipient.value, method: method.value, at: at.value });
      password.value = '';
      try {
        await o.sign(body);
      } catch (err) {
        if (err instanceof ApiError && err.status === 422) {
          o.onIncomplete(incompleteFields(err.body), signErrorText(err));
          return;
        }
        password.focus();
        throw new Error(signErrorText(err));
      }
    },
  });
  d.dialog.classList.add('report-sign-dialog');
}

export interface AddendumDialogOptions {
  submit(password: string, text: string): Promise<void>;
}

export function openAddendumDialog(doc: Document, o: AddendumDialogOptions): void {
  const text = hIn(doc, 'textarea', { class: 'text-input', attrs: { name: 'text', rows: 6, required: true, 'data-sign': 'addendum' } });
  const password = passwordInput(doc, 'password', 'current-password');
  password.setAttribute('data-sign', 'password');
  const d = openFormDialog(doc, {
    title: 'Add addendum',
    description: 'An addendum is a new signed version added after the final report; the report itself does not change.',
    fields: [labelled(doc, 'Addendum', text), labelled(doc, 'Your password', password)],
    submitLabel: 'Sign addendum',
    pendingLabel: 'Signing…',
    onSubmit: async () => {
      if (text.value.trim() === '') throw new Error('The addendum has no text.');
      const pw = password.value;
      password.value = '';
      try {
        await o.submit(pw, text.value);
      } catch (err) {
        throw new Error(signErrorText(err));
      }
    },
  });
  d.dialog.classList.add('report-addendum-dialog');
  text.focus();
}

export interface CorrectionDialogOptions {
  template: Template;
  values: FieldValues;
  submit(password: string, values: FieldValues, reason: string): Promise<void>;
}

export function openCorrectionDialog(doc: Document, o: CorrectionDialogOptions): ReportForm {
  const form = createReportForm(doc, o.template, o.values, { root: 'div' });
  const reason = hIn(doc, 'input', { class: 'text-input', attrs: { type: 'text', name: 'reason', required: true, autocomplete: 'off', 'data-sign': 'reason' } });
  const password = passwordInput(doc, 'password', 'current-password');
  password.setAttribute('data-sign', 'password');
  const d = openFormDialog(doc, {
    title: 'Correct the report',
    description: 'A correction is a new signed version that replaces the final report for its readers; the earlier version is kept.',
    fields: [hIn(doc, 'div', { class: 'correction-form' }, form.el), labelled(doc, 'Reason for the correction', reason), labelled(doc, 'Your password', password)],
    submitLabel: 'Sign correction',
    pendingLabel: 'Signing…',
    onSubmit: async () => {
      if (reason.value.trim() === '') throw new Error('Give the reason for the correction.');
      const pw = password.value;
      password.value = '';
      try {
        await o.submit(pw, form.values(), reason.value.trim());
      } catch (err) {
        if (err instanceof ApiError && err.status === 422) form.highlight(incompleteFields(err.body));
        throw new Error(signErrorText(err));
      }
    },
  });
  d.dialog.classList.add('report-correction-dialog');
  return form;
}
