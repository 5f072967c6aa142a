// Report templates page (route "#/templates", administrators): every template with its state (built-in,
// modified, custom; active or retired), add, edit as a form or as JSON, retire and restore. An edit names
// the revision it started from: when someone else saved first (412), the page says so and offers their
// version or saving this one over it; nothing typed is lost until the administrator chooses.
import { ApiError, type Api } from './api';
import { hIn } from './dom';
import { errorAlert, messageOf, retryButton, statusNote } from './failure';
import { formatInstant } from './format';
import type { Page } from './router';
import { createTemplate, getTemplate, listTemplates, resetTemplate, setTemplateRetired, updateTemplate, type TemplatePayload } from './templates-api';
import { openFormDialog } from './dialog';
import { renderTemplateForm } from './templates-form';
import { cloneBody, fieldCount, fromJsonText, newTemplate, templateOrigin, templateProblems, toJsonText, type ReportTemplate, type TemplateBody } from './templates-model';
import './templates.css';

/** The template of studies no other suits (report/template.h RR_TEMPLATE_FALLBACK): never retired. */
export const FALLBACK_TEMPLATE = 'generic';

export interface TemplatesOptions {
  api: Api;
  doc?: Document;
}

/** The sentence of a 412: who saved first and when. */
export function conflictMessage(latest: Pick<ReportTemplate, 'revision' | 'updatedBy' | 'updatedAt'> | null): string {
  if (!latest) return 'Someone else changed this template while you were editing it. Your changes are not saved yet.';
  const who = latest.updatedBy ? ` by ${latest.updatedBy}` : '';
  const when = latest.updatedAt ? ` on ${formatInstant(latest.updatedAt)}` : '';
  return `This template was changed${who}${when} (now revision ${latest.revision}) while you were editing it. Your changes are not saved yet.`;
}

/** Retired last, then by title. */
export function sortTemplates(list: readonly ReportTemplate[]): ReportTemplate[] {
  return [...list].sort((a, b) => Number(a.retired) - Number(b.retired) || a.title.localeCompare(b.title) || a.id.localeCompare(b.id));
}

interface RowActions {
  onEdit(): void;
  onRetire(retire: boolean): void;
  /** Back to the shipped version (built-ins an administrator changed). */
  onReset(): void;
}

export function renderTemplateRow(doc: Document, t: ReportTemplate, actions: RowActions): HTMLTableRowElement {
  const td = (cls: string, ...children: (Node | string)[]): HTMLTableCellElement => hIn(doc, 'td', { class: cls }, ...children);
  const button = (text: string, action: string, onClick: () => void): HTMLButtonElement =>
    hIn(doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': action, 'aria-label': `${text} ${t.title}` }, text, on: { click: onClick } });
  const retireButton = (): HTMLButtonElement => {
    const b = button('Retire', 'retire', () => actions.onRetire(true));
    if (t.id === FALLBACK_TEMPLATE) {
      b.disabled = true;
      b.title = 'The template of studies no other template suits: it can be changed, not retired.';
    }
    return b;
  };
  return hIn(
    doc,
    'tr',
    { class: `template-row${t.retired ? ' is-retired' : ''}`, attrs: { 'data-template-id': t.id } },
    td('c-title', hIn(doc, 'strong', { text: t.title })),
    td('c-id', hIn(doc, 'span', { class: 'mono', text: t.id })),
    td('c-origin', templateOrigin(t)),
    td('c-status', hIn(doc, 'span', { class: 'status-badge', attrs: { 'data-status': t.retired ? 'disabled' : 'enabled' }, text: t.retired ? 'Retired' : 'Active' })),
    td('c-fields', `${t.sections.length} sections, ${fieldCount(t)} fields`),
    td('c-revision', String(t.revision)),
    td('c-updated', t.updatedAt ? `${formatInstant(t.updatedAt)}${t.updatedBy ? ` · ${t.updatedBy}` : ''}` : '—'),
    td(
      'c-actions',
      hIn(
        doc,
        'div',
        { class: 'row-actions' },
        button('Edit', 'edit', actions.onEdit),
        t.retired ? button('Restore', 'restore', () => actions.onRetire(false)) : retireButton(),
        t.builtin && t.modified ? button('Reset', 'reset', actions.onReset) : null,
      ),
    ),
  );
}

function tableHead(doc: Document): HTMLTableRowElement {
  const cols = [
    ['c-title', 'Title'],
    ['c-id', 'Id'],
    ['c-origin', 'Origin'],
    ['c-status', 'Status'],
    ['c-fields', 'Content'],
    ['c-revision', 'Revision'],
    ['c-updated', 'Changed'],
    ['c-actions', 'Actions'],
  ] as const;
  return hIn(doc, 'tr', {}, ...cols.map(([cls, label]) => hIn(doc, 'th', { class: cls, attrs: { scope: 'col' }, text: label })));
}

interface EditorHost {
  api: Api;
  doc: Document;
  /** Back to the list, with a message (null: none). */
  close(message: string | null): void;
}

// The editor's draft, its two views (form, JSON), its problems and the conflict box share state in this
// closure; the form itself is templates-form.ts.
function mountEditor(host: EditorHost, base: ReportTemplate | null): HTMLElement {
  const { doc, api } = host;
  let draft: TemplateBody = base ? cloneBody(base) : newTemplate();
  let revision = base?.revision ?? 0;
  let view: 'form' | 'json' = 'form';
  let saving = false;

  const problems = hIn(doc, 'div', { class: 'tpl-problems', attrs: { role: 'alert', hidden: true } });
  const conflict = hIn(doc, 'div', { class: 'tpl-conflict', attrs: { role: 'alert', hidden: true } });
  const body = hIn(doc, 'div', { class: 'tpl-body' });
  const jsonText = hIn(doc, 'textarea', { class: 'text-input tpl-json mono', attrs: { spellcheck: 'false', 'aria-label': 'Template JSON', rows: 30 } });
  const formTab = hIn(doc, 'button', { class: 'btn tab', attrs: { type: 'button', 'data-view': 'form', 'aria-pressed': 'true' }, text: 'Form' });
  const jsonTab = hIn(doc, 'button', { class: 'btn tab', attrs: { type: 'button', 'data-view': 'json', 'aria-pressed': 'false' }, text: 'JSON' });
  const save = hIn(doc, 'button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'save' }, text: base ? 'Save' : 'Create template' });
  const heading = hIn(doc, 'h1', { class: 'page-title', text: base ? `Edit template: ${base.title}` : 'New template' });

  const showProblems = (list: string[]): void => {
    problems.replaceChildren(...(list.length ? [hIn(doc, 'strong', { text: 'Not saved:' }), hIn(doc, 'ul', {}, ...list.map((p) => hIn(doc, 'li', { text: p })))] : []));
    problems.hidden = list.length === 0;
  };
  const showForm = (): void => {
    body.replaceChildren(renderTemplateForm(doc, draft, { isNew: base === null, onChange: () => showProblems([]) }));
  };
  const setView = (next: 'form' | 'json'): void => {
    if (next === view) return;
    if (next === 'json') jsonText.value = toJsonText(draft);
    else {
      const parsed = fromJsonText(jsonText.value);
      if ('error' in parsed) return showProblems([parsed.error]);
      draft = parsed.body;
    }
    view = next;
    formTab.setAttribute('aria-pressed', String(view === 'form'));
    jsonTab.setAttribute('aria-pressed', String(view === 'json'));
    showProblems([]);
    if (view === 'form') showForm();
    else body.replaceChildren(jsonText);
  };

  /** What Save sends, or the problems that keep it from being sent. */
  const payload = (): TemplatePayload | null => {
    if (view === 'json') {
      const parsed = fromJsonText(jsonText.value);
      if ('error' in parsed) return showProblems([parsed.error]), null;
      draft = parsed.body;
      const p = templateProblems(draft);
      return p.length ? (showProblems(p), null) : { raw: parsed.raw };
    }
    const p = templateProblems(draft);
    return p.length ? (showProblems(p), null) : { form: draft };
  };

  async function showConflict(sent: TemplatePayload): Promise<void> {
    let latest: ReportTemplate | null = null;
    try {
      latest = base ? await getTemplate(api, base.id) : null;
    } catch {
      latest = null;
    }
    const theirs = hIn(doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': 'load-theirs' }, text: 'Discard mine, load theirs' });
    const mine = hIn(doc, 'button', { class: 'btn btn-danger', attrs: { type: 'button', 'data-action': 'overwrite' }, text: 'Save mine over theirs' });
    theirs.addEventListener('click', () => {
      if (!latest) return;
      draft = cloneBody(latest);
      revision = latest.revision;
      conflict.hidden = true;
      if (view === 'json') jsonText.value = toJsonText(draft);
      else showForm();
    });
    mine.addEventListener('click', () => {
      if (!latest) return;
      revision = latest.revision;
      conflict.hidden = true;
      void submit(sent);
    });
    theirs.disabled = mine.disabled = latest === null;
    conflict.replaceChildren(hIn(doc, 'p', { text: conflictMessage(latest) }), hIn(doc, 'div', { class: 'row-actions' }, theirs, mine));
    conflict.hidden = false;
  }

  async function submit(sent: TemplatePayload): Promise<void> {
    saving = true;
    save.disabled = true;
    try {
      const saved = base ? await updateTemplate(api, base.id, sent, revision) : await createTemplate(api, sent);
      host.close(`Template "${saved.title}" saved (revision ${saved.revision}).`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) await showConflict(sent);
      else showProblems([`${messageOf(err)}${statusNote(err)}`]);
    } finally {
      saving = false;
      save.disabled = false;
    }
  }

  formTab.addEventListener('click', () => setView('form'));
  jsonTab.addEventListener('click', () => setView('json'));
  save.addEventListener('click', () => {
    if (saving) return;
    const sent = payload();
    if (sent) void submit(sent);
  });
  const cancel = hIn(doc, 'button', { class: 'btn', attrs: { type: 'button', 'data-action': 'cancel' }, text: 'Cancel', on: { click: () => host.close(null) } });
  showForm();
  return hIn(
    doc,
    'div',
    { class: 'tpl-editor' },
    hIn(doc, 'header', { class: 'topbar' }, heading, hIn(doc, 'div', { class: 'tabs', attrs: { role: 'group', 'aria-label': 'View' } }, formTab, jsonTab), hIn(doc, 'div', { class: 'topbar-right' }, cancel, save)),
    conflict,
    problems,
    body,
  );
}

// The list, the editor in its place, and the messages share state in this closure.
export function mountTemplates(opts: TemplatesOptions): Page {
  const doc = opts.doc ?? document;
  let controller: AbortController | null = null;
  let destroyed = false;
  const tbody = hIn(doc, 'tbody');
  const summary = hIn(doc, 'span', { class: 'summary' });
  const status = hIn(doc, 'div', { class: 'flash', attrs: { role: 'status', 'aria-live': 'polite', hidden: true } });
  const flash = (text: string, kind: 'ok' | 'error'): void => {
    status.textContent = text;
    status.dataset.kind = kind;
    status.hidden = false;
  };
  const stateRow = (...children: (Node | string)[]): HTMLTableRowElement =>
    hIn(doc, 'tr', { class: 'state-row' }, hIn(doc, 'td', { attrs: { colspan: 8 } }, hIn(doc, 'div', { class: 'state' }, ...children)));

  const listView = hIn(
    doc,
    'div',
    { class: 'tpl-list' },
    hIn(
      doc,
      'header',
      { class: 'topbar' },
      hIn(doc, 'h1', { class: 'page-title', text: 'Report templates' }),
      summary,
      hIn(
        doc,
        'div',
        { class: 'topbar-right' },
        hIn(doc, 'button', { class: 'btn', attrs: { type: 'button' }, text: 'Refresh', on: { click: () => void load() } }),
        hIn(doc, 'button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'new-template' }, text: 'New template', on: { click: () => openEditor(null) } }),
      ),
    ),
    status,
    hIn(doc, 'div', { class: 'table-scroll' }, hIn(doc, 'table', { class: 'templates', attrs: { 'aria-label': 'Report templates' } }, hIn(doc, 'thead', {}, tableHead(doc)), tbody)),
  );
  const el = hIn(doc, 'div', { class: 'page admin-page templates-page' }, listView);

  function openEditor(t: ReportTemplate | null): void {
    const editor = mountEditor(
      {
        api: opts.api,
        doc,
        close: (message) => {
          el.replaceChildren(listView);
          if (message) flash(message, 'ok');
          void load();
        },
      },
      t,
    );
    el.replaceChildren(editor);
  }

  async function retire(t: ReportTemplate, retired: boolean): Promise<void> {
    try {
      await setTemplateRetired(opts.api, t.id, retired);
      flash(retired ? `Template "${t.title}" retired: new reports cannot use it; reports that used it keep it.` : `Template "${t.title}" restored.`, 'ok');
    } catch (err) {
      flash(`Could not ${retired ? 'retire' : 'restore'} "${t.title}": ${messageOf(err)}`, 'error');
    }
    void load();
  }

  const confirmReset = (t: ReportTemplate): void =>
    void openFormDialog(doc, {
      title: `Reset "${t.title}"?`,
      description: 'The template goes back to the version shipped with the Reading Room; the changes made here are dropped. Reports already written keep the template they were written in.',
      fields: [],
      submitLabel: 'Reset to shipped version',
      pendingLabel: 'Resetting…',
      async onSubmit() {
        await resetTemplate(opts.api, t.id);
        flash(`Template "${t.title}" is the shipped version again.`, 'ok');
        void load();
      },
    });

  function render(list: ReportTemplate[]): void {
    const active = list.filter((t) => !t.retired).length;
    summary.textContent = `${active} active, ${list.length - active} retired`;
    if (list.length === 0) return void tbody.replaceChildren(stateRow(hIn(doc, 'strong', { text: 'No templates.' })));
    tbody.replaceChildren(...sortTemplates(list).map((t) => renderTemplateRow(doc, t, { onEdit: () => openEditor(t), onRetire: (r) => void retire(t, r), onReset: () => confirmReset(t) })));
  }

  async function load(): Promise<void> {
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    if (!tbody.querySelector('tr.template-row')) tbody.replaceChildren(stateRow(hIn(doc, 'span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading templates…'));
    try {
      const list = await listTemplates(opts.api, { all: true }, ctrl.signal);
      if (!ctrl.signal.aborted && !destroyed) render(list.data);
    } catch (err) {
      if (ctrl.signal.aborted || destroyed) return;
      tbody.replaceChildren(stateRow(errorAlert(doc, `Could not load the templates${statusNote(err)}`, err), retryButton(doc, () => void load())));
    } finally {
      if (controller === ctrl) controller = null;
    }
  }

  doc.title = 'Report templates · Reading Room';
  void load();
  return {
    el,
    destroy(): void {
      destroyed = true;
      controller?.abort();
    },
  };
}
