// "Off-site backup" card of the System page (administrators): whether the backup is on, its target, the queue
// (queued, running, done, dead letters), the oldest waiting item's age and the last error; the dead letters
// (object, study UID, attempts, last error, when) with "Re-drive" each and "Re-drive all"; and the restore form
// (by Study Instance UID or since a date) behind a confirmation, with its result (imported, refused with the
// reasons). API and formatting: system-backup-api.ts.
//
// The card owns its request (GET admin/backup), so a failure here leaves the other cards alone; the page calls
// refresh() on its own schedule. Everything from the API is untrusted: text goes through textContent only.
import type { Api } from './api';
import { groupDigits } from './ai-format';
import { labelled, openFormDialog } from './dialog';
import { hIn } from './dom';
import { messageOf, statusNote } from './failure';
import { formatInstantSeconds } from './format';
import {
  describeRestore,
  formatRestoreSummary,
  formatLocation,
  formatTarget,
  formatWaitingAge,
  getBackupStatus,
  redriveBackup,
  restoreBackup,
  restoreRequestOf,
  type BackupStatus,
  type DeadLetter,
  type RestoreResult,
} from './system-backup-api';

const count = (n: number | null): string => (n === null ? '—' : groupDigits(n));

function fact(doc: Document, field: string, label: string, value: string): HTMLElement {
  return hIn(doc, 'div', { class: 'fact', attrs: { 'data-field': field } }, hIn(doc, 'dt', { text: label }), hIn(doc, 'dd', { text: value }));
}

function message(doc: Document, kind: 'ok' | 'error' | 'info', text: string, field: string): HTMLElement {
  return hIn(doc, 'div', { class: `sys-message${kind === 'error' ? ' error' : ''}`, attrs: { role: kind === 'error' ? 'alert' : 'status', 'data-kind': kind, 'data-field': field }, text });
}

/** Badge: "off", "ok", "dead letters" (degraded) or "waiting" (items queued). */
export function backupBadge(doc: Document, s: BackupStatus): HTMLElement {
  let text = 'ok';
  let status = 'ok';
  if (!s.enabled) {
    text = 'off';
    status = 'off';
  } else if ((s.failed ?? 0) > 0) {
    text = 'dead letters';
    status = 'degraded';
  }
  return hIn(doc, 'span', { class: 'health-badge', attrs: { 'data-status': status }, text });
}

interface Actions {
  busy: boolean;
  onRedrive(id: number): void;
}

function deadLetterRow(doc: Document, d: DeadLetter, a: Actions): HTMLElement {
  return hIn(
    doc,
    'tr',
    { attrs: { 'data-dead-letter': String(d.id) } },
    hIn(doc, 'td', { class: 'mono', attrs: { title: d.objectKey }, text: d.objectKey }),
    hIn(doc, 'td', { class: 'mono', attrs: { title: d.studyInstanceUid }, text: d.studyInstanceUid || '—' }),
    hIn(doc, 'td', { text: count(d.attempts) }),
    hIn(doc, 'td', { class: 'error-message', attrs: { title: d.lastError }, text: d.lastError || '—' }),
    hIn(doc, 'td', { text: d.updatedAt ? formatInstantSeconds(d.updatedAt) : '—' }),
    hIn(
      doc,
      'td',
      {},
      hIn(doc, 'button', {
        class: 'btn btn-small',
        attrs: { type: 'button', 'data-action': 'redrive-one', disabled: a.busy || d.id === 0, 'aria-label': `Re-drive ${d.objectKey}` },
        text: 'Re-drive',
        on: { click: () => a.onRedrive(d.id) },
      }),
    ),
  );
}

function deadLetters(doc: Document, s: BackupStatus, a: Actions): HTMLElement[] {
  const redriveAll = hIn(doc, 'button', {
    class: 'btn',
    attrs: { type: 'button', 'data-action': 'redrive-all', disabled: a.busy || s.deadLetters.length === 0 },
    text: 'Re-drive all',
    on: { click: () => a.onRedrive(0) },
  });
  const out: HTMLElement[] = [hIn(doc, 'div', { class: 'sys-subhead' }, hIn(doc, 'h3', { class: 'sys-subtitle', text: 'Dead letters' }), redriveAll)];
  if (s.deadLetters.length === 0) {
    out.push(hIn(doc, 'p', { class: 'muted sys-none', attrs: { 'data-field': 'noDeadLetters' }, text: 'None: every copy succeeded or is still being tried.' }));
    return out;
  }
  out.push(
    hIn(
      doc,
      'div',
      { class: 'backup-dead-wrap' },
      hIn(
        doc,
        'table',
        { class: 'backup-dead', attrs: { 'aria-label': 'Dead letters' } },
        hIn(doc, 'thead', {}, hIn(doc, 'tr', {}, ...['Object', 'Study Instance UID', 'Attempts', 'Last error', 'When', ''].map((t) => hIn(doc, 'th', { text: t })))),
        hIn(doc, 'tbody', {}, ...s.deadLetters.map((d) => deadLetterRow(doc, d, a))),
      ),
    ),
  );
  if ((s.failed ?? 0) > s.deadLetters.length) out.push(hIn(doc, 'p', { class: 'muted small', text: `The first ${s.deadLetters.length} of ${count(s.failed)} are listed; "Re-drive all" queues every one.` }));
  return out;
}

/** The status part of the card (without the restore form). */
export function renderBackupStatus(doc: Document, s: BackupStatus, a: Actions): HTMLElement[] {
  if (!s.enabled) {
    return [hIn(doc, 'p', { class: 'muted sys-none', attrs: { 'data-field': 'disabled' }, text: 'Off-site backup is not enabled on this server (ReadingRoom.Backup.Enabled).' })];
  }
  const out: HTMLElement[] = [
    hIn(
      doc,
      'dl',
      { class: 'facts sys-facts', attrs: { 'aria-label': 'Off-site backup' } },
      fact(doc, 'enabled', 'Backup', s.running === false ? 'Enabled, workers stopped' : `Enabled${s.workers !== null ? ` (${s.workers} ${s.workers === 1 ? 'worker' : 'workers'})` : ''}`),
      fact(doc, 'target', 'Target', formatTarget(s.target)),
      fact(doc, 'location', 'Where', formatLocation(s.target, s.endpoint, s.bucket) || '—'),
      fact(doc, 'queued', 'Queued', count(s.queued)),
      fact(doc, 'inProgress', 'Running', count(s.inProgress)),
      fact(doc, 'done', 'Done', count(s.done)),
      fact(doc, 'failed', 'Dead letters', count(s.failed)),
      fact(doc, 'oldestWaiting', 'Oldest waiting', formatWaitingAge(s.oldestWaitingSeconds, (s.queued ?? 0) + (s.inProgress ?? 0))),
      fact(doc, 'copiedLastHour', 'Copied in the last hour', count(s.copiedLastHour)),
      fact(doc, 'lastCopiedAt', 'Last copy', s.lastCopiedAt ? formatInstantSeconds(s.lastCopiedAt) : '—'),
    ),
  ];
  if (s.lastError) {
    out.push(
      hIn(
        doc,
        'p',
        { class: 'sys-last-error', attrs: { 'data-field': 'backupLastError' } },
        hIn(doc, 'strong', { text: `Last error${s.lastErrorAt ? ` (${formatInstantSeconds(s.lastErrorAt)})` : ''}: ` }),
        hIn(doc, 'span', { class: 'error-message', text: s.lastError }),
      ),
    );
  }
  out.push(...deadLetters(doc, s, a));
  return out;
}

/** The restore's result: the summary, then each refused or failed object with its reason. */
export function renderRestoreResult(doc: Document, r: RestoreResult): HTMLElement {
  const box = hIn(doc, 'div', { class: 'backup-restore-result', attrs: { 'data-field': 'restoreResult', 'data-complete': String(r.complete) } });
  box.append(message(doc, r.complete ? 'ok' : 'error', formatRestoreSummary(r), 'restoreSummary'));
  if (r.errors.length > 0) {
    box.append(
      hIn(
        doc,
        'ul',
        { class: 'backup-restore-errors', attrs: { 'aria-label': 'Objects not restored' } },
        ...r.errors.map((e) => hIn(doc, 'li', {}, hIn(doc, 'span', { class: 'mono', text: e.objectKey }), ': ', hIn(doc, 'span', { class: 'error-message', text: e.message }))),
      ),
    );
  }
  return box;
}

/** The card: head (title, badge) and body; refresh() loads and renders it. */
export class BackupCard {
  readonly el: HTMLElement;
  private readonly doc: Document;
  private readonly api: Api;
  private readonly head: HTMLElement;
  private readonly body: HTMLElement;
  private readonly studyInput: HTMLInputElement;
  private readonly sinceInput: HTMLInputElement;
  private readonly restoreForm: HTMLElement;
  private data: BackupStatus | null = null;
  private error: unknown = null;
  private busy = false;
  /** The outcome of the last re-drive or restore asked for here. */
  private outcome: HTMLElement | null = null;
  private restoreResult: RestoreResult | null = null;
  private destroyed = false;
  private ctrl: AbortController | null = null;

  constructor(doc: Document, api: Api) {
    this.doc = doc;
    this.api = api;
    this.head = hIn(doc, 'div', { class: 'sys-card-head' });
    this.body = hIn(doc, 'div', { class: 'sys-card-body' });
    this.el = hIn(doc, 'section', { class: 'sys-card sys-wide', attrs: { 'data-section': 'backup', 'aria-label': 'Off-site backup' } }, this.head, this.body);
    const input = (name: string, type: string, placeholder: string): HTMLInputElement =>
      hIn(doc, 'input', { class: 'text-input', attrs: { type, name, placeholder, spellcheck: 'false', autocomplete: 'off' } });
    this.studyInput = input('studyInstanceUid', 'text', '1.2.840.…');
    this.sinceInput = input('since', 'date', 'YYYY-MM-DD');
    this.restoreForm = hIn(
      doc,
      'form',
      { class: 'backup-restore-form', attrs: { 'aria-label': 'Restore from the backup' }, on: { submit: (e: Event) => this.askRestore(e) } },
      labelled(doc, 'Study Instance UID', this.studyInput),
      labelled(doc, 'or every study copied since', this.sinceInput),
      hIn(doc, 'button', { class: 'btn', attrs: { type: 'submit', 'data-action': 'restore' }, text: 'Restore…' }),
    );
    this.render();
  }

  destroy(): void {
    this.destroyed = true;
    this.ctrl?.abort();
  }

  /** GET admin/backup and render; a failure keeps the last answer below the error. */
  async refresh(): Promise<void> {
    if (this.destroyed) return;
    this.ctrl?.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    try {
      this.data = await getBackupStatus(this.api, ctrl.signal);
      this.error = null;
    } catch (err) {
      if (ctrl.signal.aborted) return;
      this.error = err;
    }
    if (this.destroyed || ctrl.signal.aborted) return;
    this.ctrl = null;
    this.render();
  }

  private render(): void {
    const doc = this.doc;
    this.head.replaceChildren(hIn(doc, 'h2', { class: 'sys-title', text: 'Off-site backup' }), ...(this.data ? [backupBadge(doc, this.data)] : []));
    const parts: HTMLElement[] = [];
    if (this.error) {
      const title = this.data ? 'Could not refresh the backup status (showing the last answer)' : 'Could not load the backup status';
      parts.push(message(doc, 'error', `${title}${statusNote(this.error)}: ${messageOf(this.error)}`, 'backupError'));
    }
    if (this.outcome) parts.push(this.outcome);
    if (this.data) parts.push(...renderBackupStatus(doc, this.data, { busy: this.busy, onRedrive: (id) => void this.redrive(id) }));
    else if (!this.error) parts.push(hIn(doc, 'div', { class: 'state sys-loading' }, hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading the backup status…'));
    if (this.data?.enabled) {
      parts.push(
        hIn(doc, 'h3', { class: 'sys-subtitle', text: 'Restore' }),
        hIn(doc, 'p', {
          class: 'muted small',
          text: 'An administrator action that writes into Orthanc: the objects are fetched from the backup, opened with this server\u2019s key and stored in Orthanc (instances already there are left alone; an object that cannot be opened is refused and not imported).',
        }),
        this.restoreForm,
      );
      if (this.restoreResult) parts.push(renderRestoreResult(doc, this.restoreResult));
    }
    this.body.replaceChildren(...parts);
  }

  private async redrive(id: number): Promise<void> {
    if (this.busy || this.destroyed) return;
    this.busy = true;
    this.render();
    try {
      const n = await redriveBackup(this.api, id);
      this.outcome = message(this.doc, 'ok', `${groupDigits(n)} ${n === 1 ? 'copy' : 'copies'} queued again.`, 'redriveOutcome');
    } catch (err) {
      this.outcome = message(this.doc, 'error', `Could not re-drive${statusNote(err)}: ${messageOf(err)}`, 'redriveOutcome');
    } finally {
      this.busy = false;
    }
    if (!this.destroyed) await this.refresh();
  }

  private askRestore(e: Event): void {
    e.preventDefault();
    const req = restoreRequestOf(this.studyInput.value, this.sinceInput.value);
    if (typeof req === 'string') {
      this.outcome = message(this.doc, 'error', req, 'restoreInvalid');
      this.render();
      return;
    }
    openFormDialog(this.doc, {
      title: 'Restore from the off-site backup?',
      description: [
        `This fetches ${describeRestore(req)} from the backup and writes it into Orthanc. `,
        'Instances Orthanc already has are left alone; on many studies this takes a while and loads Orthanc and the network.',
      ],
      fields: [],
      submitLabel: 'Restore into Orthanc',
      pendingLabel: 'Restoring…',
      onSubmit: async () => {
        const result = await restoreBackup(this.api, req);
        if (this.destroyed) return;
        this.restoreResult = result;
        this.outcome = null;
        this.render();
      },
    });
  }
}
