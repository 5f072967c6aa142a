// Audit page (route "#/audit", admins): filtered audit trail, "load more" paging, chain verification.
import type { Api } from './api';
import { listAudit, verifyAudit, type AuditQuery, type AuditRecord, type AuditVerification } from './admin-api';
import { h, hIn } from './dom';
import { formatInstantSeconds } from './format';
import { replaceHash, type Page } from './router';
import { errorAlert, messageOf, retryButton, statusNote } from './failure';

export const AUDIT_PAGE_SIZE = 100;

/** Filters as kept in the hash ("#/audit?user=..&from=2026-11-24T08:00"); from / to are datetime-local values. */
export interface AuditFilters {
  user: string;
  action: string;
  resource: string;
  from: string;
  to: string;
}

const FILTER_KEYS: readonly (keyof AuditFilters)[] = ['user', 'action', 'resource', 'from', 'to'];

export function parseAuditFilters(query: string): AuditFilters {
  const params = new URLSearchParams(query);
  const f: AuditFilters = { user: '', action: '', resource: '', from: '', to: '' };
  for (const key of FILTER_KEYS) f[key] = params.get(key)?.trim() ?? '';
  return f;
}

export function auditHash(f: AuditFilters): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) if (f[key].trim()) params.set(key, f[key].trim());
  const qs = params.toString();
  return qs ? `#/audit?${qs}` : '#/audit';
}

/** datetime-local value (local time) -> ISO 8601 instant; "" when empty or invalid. */
export function localToIso(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export function toAuditQuery(f: AuditFilters, before: number | null, limit = AUDIT_PAGE_SIZE): AuditQuery {
  return { user: f.user, action: f.action, resource: f.resource, from: localToIso(f.from), to: localToIso(f.to), before, limit };
}

/** "ok" (green), "fail" (red) or "other" for an outcome string. */
export function outcomeKind(outcome: string): 'ok' | 'fail' | 'other' {
  const o = outcome.toLowerCase();
  if (/^(ok|success|succeeded|allowed|allow|granted|done)$/.test(o)) return 'ok';
  if (/(denied|deny|forbidden|fail|error|invalid|locked|refused|rejected)/.test(o)) return 'fail';
  return 'other';
}

export const AUDIT_COLUMNS: readonly { cls: string; label: string }[] = [
  { cls: 'c-seq', label: 'Seq' },
  { cls: 'c-at', label: 'Time' },
  { cls: 'c-user', label: 'User' },
  { cls: 'c-role', label: 'Role' },
  { cls: 'c-source', label: 'Source' },
  { cls: 'c-action', label: 'Action' },
  { cls: 'c-resource', label: 'Resource' },
  { cls: 'c-outcome', label: 'Outcome' },
  { cls: 'c-detail', label: 'Detail' },
];

/** One audit row; every field through textContent / setAttribute. */
export function renderAuditRow(doc: Document, r: AuditRecord): HTMLTableRowElement {
  const text = (cls: string, value: unknown, title = true): HTMLTableCellElement => {
    const s = value === null || value === undefined ? '' : String(value);
    return hIn(doc, 'td', { class: cls, attrs: { title: title && s ? s : null }, text: s });
  };
  const outcome = String(r.outcome ?? '');
  return hIn(
    doc,
    'tr',
    { class: 'audit-row', attrs: { 'data-seq': r.seq } },
    text('c-seq', r.seq, false),
    hIn(doc, 'td', { class: 'c-at', attrs: { title: r.at || null }, text: formatInstantSeconds(r.at) }),
    text('c-user', r.username),
    text('c-role', r.role),
    text('c-source', r.source),
    text('c-action', r.action),
    text('c-resource', r.resource),
    hIn(doc, 'td', { class: 'c-outcome' }, outcome ? hIn(doc, 'span', { class: 'outcome', attrs: { 'data-kind': outcomeKind(outcome) }, text: outcome }) : null),
    text('c-detail', r.detail),
  );
}

/** The verification banner: green when the chain is intact, red with the first broken record otherwise. */
export function renderVerification(doc: Document, v: AuditVerification): HTMLElement {
  const records = `${v.records} ${v.records === 1 ? 'record' : 'records'}`;
  if (v.intact) {
    return hIn(
      doc,
      'div',
      { class: 'verify-result', attrs: { 'data-intact': 'true', role: 'status' } },
      hIn(doc, 'span', { class: 'verify-icon', attrs: { 'aria-hidden': 'true' }, text: '✔' }),
      hIn(doc, 'strong', { text: 'Audit chain intact' }),
      hIn(doc, 'span', { text: ` — ${records} verified.` }),
    );
  }
  return hIn(
    doc,
    'div',
    { class: 'verify-result', attrs: { 'data-intact': 'false', role: 'alert' } },
    hIn(doc, 'span', { class: 'verify-icon', attrs: { 'aria-hidden': 'true' }, text: '✖' }),
    hIn(doc, 'strong', { text: 'Audit chain BROKEN' }),
    hIn(doc, 'span', { text: v.firstBroken !== null ? ` at record #${v.firstBroken}` : '' }),
    hIn(doc, 'span', { text: v.reason ? `: ${v.reason}` : '' }),
    hIn(doc, 'span', { class: 'muted', text: ` (${records} checked)` }),
  );
}

export interface AuditOptions {
  api: Api;
  query: string;
}

/** A row across the table instead of records (loading, none, error). */
function stateRow(...children: (Node | string)[]): HTMLTableRowElement {
  return h('tr', { class: 'state-row' }, h('td', { attrs: { colspan: AUDIT_COLUMNS.length } }, h('div', { class: 'state' }, ...children)));
}

/** A failed load, with Retry. */
function errorRow(err: unknown, retry: () => void): HTMLTableRowElement {
  return stateRow(errorAlert(document, `Could not load the audit trail${statusNote(err)}`, err), retryButton(document, retry));
}

/** The records' table (header of AUDIT_COLUMNS) around its body. */
function auditTable(tbody: HTMLElement): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'audit', attrs: { 'aria-label': 'Audit records' } },
      h('thead', {}, h('tr', {}, ...AUDIT_COLUMNS.map((c) => h('th', { class: c.cls, attrs: { scope: 'col' }, text: c.label })))),
      tbody,
    ),
  );
}

/** The filter form: Apply hands the trimmed values to `apply`, Clear empties them first. */
function filterForm(initial: AuditFilters, apply: (filters: AuditFilters) => void): HTMLFormElement {
  const input = (key: keyof AuditFilters, type: string, cls: string): HTMLInputElement => {
    const el = h('input', { class: `filter-input ${cls}`, attrs: { type, name: key, autocomplete: 'off', spellcheck: 'false' } });
    el.value = initial[key];
    return el;
  };
  const inputs: Record<keyof AuditFilters, HTMLInputElement> = {
    user: input('user', 'text', 'w-md'),
    action: input('action', 'text', 'w-md'),
    resource: input('resource', 'text', 'w-lg'),
    from: input('from', 'datetime-local', 'datetime'),
    to: input('to', 'datetime-local', 'datetime'),
  };
  const field = (label: string, key: keyof AuditFilters): HTMLLabelElement =>
    h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), inputs[key]);

  const clearBtn = h('button', { class: 'btn btn-ghost', attrs: { type: 'button' }, text: 'Clear' });
  const form = h(
    'form',
    { class: 'filters', attrs: { 'aria-label': 'Audit filters' } },
    field('User', 'user'),
    field('Action', 'action'),
    field('Resource', 'resource'),
    field('From', 'from'),
    field('To', 'to'),
    h('button', { class: 'btn btn-primary', attrs: { type: 'submit' }, text: 'Apply' }),
    clearBtn,
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply({
      user: inputs.user.value.trim(),
      action: inputs.action.value.trim(),
      resource: inputs.resource.value.trim(),
      from: inputs.from.value,
      to: inputs.to.value,
    });
  });
  clearBtn.addEventListener('click', () => {
    for (const key of FILTER_KEYS) inputs[key].value = '';
    apply(parseAuditFilters(''));
  });
  return form;
}

/** "Verify chain": the button and where its result is shown (GET audit/verify). */
function createVerifier(api: Api, doc: Document): { button: HTMLButtonElement; area: HTMLElement; destroy(): void } {
  let destroyed = false;
  let verifyCtrl: AbortController | null = null;
  const verifyBtn = h('button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'verify' }, text: 'Verify chain' });
  const verifyArea = h('div', { class: 'verify-area', attrs: { 'aria-live': 'polite' } });

  async function verify(): Promise<void> {
    verifyCtrl?.abort();
    const ctrl = new AbortController();
    verifyCtrl = ctrl;
    verifyBtn.disabled = true;
    verifyBtn.textContent = 'Verifying…';
    verifyArea.replaceChildren(h('div', { class: 'verify-result', attrs: { 'data-intact': 'pending' } }, h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Verifying the audit chain…'));
    try {
      const v = await verifyAudit(api, ctrl.signal);
      if (!ctrl.signal.aborted && !destroyed) verifyArea.replaceChildren(renderVerification(doc, v));
    } catch (err) {
      if (ctrl.signal.aborted || destroyed) return;
      const message = messageOf(err);
      verifyArea.replaceChildren(
        h('div', { class: 'verify-result', attrs: { 'data-intact': 'unknown', role: 'alert' } }, h('strong', { text: 'Verification failed: ' }), h('span', { text: message })),
      );
    } finally {
      if (verifyCtrl === ctrl) {
        verifyCtrl = null;
        verifyBtn.disabled = false;
        verifyBtn.textContent = 'Verify chain';
      }
    }
  }

  verifyBtn.addEventListener('click', () => void verify());
  return {
    button: verifyBtn,
    area: verifyArea,
    destroy(): void {
      destroyed = true;
      verifyCtrl?.abort();
    },
  };
}

export function mountAudit(opts: AuditOptions): Page {
  const doc = document;
  let filters = parseAuditFilters(opts.query);
  let nextBefore: number | null = null;
  let shown = 0;
  let controller: AbortController | null = null;
  let destroyed = false;

  const form = filterForm(filters, (next) => {
    filters = next;
    replaceHash(auditHash(filters));
    void load(false);
  });

  const tbody = h('tbody');
  const progress = h('div', { class: 'progress', attrs: { hidden: true } });
  const count = h('span', { class: 'range' });
  const more = h('button', { class: 'btn', attrs: { type: 'button', 'data-action': 'load-more', disabled: true }, text: 'Load more' });
  const verifier = createVerifier(opts.api, doc);

  async function load(append: boolean): Promise<void> {
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    progress.hidden = false;
    more.disabled = true;
    if (!append) {
      shown = 0;
      tbody.replaceChildren(stateRow(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading audit records…'));
    }
    try {
      const page = await listAudit(opts.api, toAuditQuery(filters, append ? nextBefore : null), ctrl.signal);
      if (ctrl.signal.aborted || destroyed) return;
      const rows = page.data.map((r) => renderAuditRow(doc, r));
      if (append) tbody.append(...rows);
      else tbody.replaceChildren(...rows);
      shown += rows.length;
      if (shown === 0) tbody.replaceChildren(stateRow(h('strong', { text: 'No audit records match.' })));
      nextBefore = page.nextBefore;
      more.disabled = nextBefore === null;
      count.textContent = `${shown} ${shown === 1 ? 'record' : 'records'} shown${nextBefore === null ? '' : ' · more available'}`;
    } catch (err) {
      if (ctrl.signal.aborted || destroyed) return;
      const row = errorRow(err, () => void load(append));
      if (append) tbody.append(row);
      else tbody.replaceChildren(row);
      more.disabled = true;
    } finally {
      if (controller === ctrl) {
        controller = null;
        progress.hidden = true;
      }
    }
  }

  more.addEventListener('click', () => void load(true));

  const el = h(
    'div',
    { class: 'page admin-page audit-page' },
    h('header', { class: 'topbar' }, h('h1', { class: 'page-title', text: 'Audit trail' }), h('div', { class: 'topbar-right' }, verifier.button)),
    verifier.area,
    form,
    progress,
    auditTable(tbody),
    h('footer', { class: 'pager' }, count, more),
  );
  document.title = 'Audit · Reading Room';
  void load(false);
  return {
    el,
    destroy(): void {
      destroyed = true;
      controller?.abort();
      verifier.destroy();
    },
  };
}
