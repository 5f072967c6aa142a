// Macros: the radiologist's own reusable snippets (GET/PUT/DELETE {api}reports/macros). A bar above the form:
// pick a macro and insert it at the cursor of the text field last focused (replacing the selection), save the
// selection (or the whole field) as a macro under a name, delete one. Text only.
import type { Api } from './api';
import { labelled, openFormDialog } from './dialog';
import { hIn } from './dom';
import { messageOf } from './failure';
import { deleteMacro, listMacros, putMacro, type Macro } from './report-api';

export type TextControl = HTMLInputElement | HTMLTextAreaElement;

/** Inserts `text` at the control's cursor (replacing its selection) and fires "input" so that autosave sees it. */
export function insertAtCursor(control: TextControl, text: string): void {
  const start = control.selectionStart ?? control.value.length;
  const end = control.selectionEnd ?? start;
  control.setRangeText(text, start, end, 'end');
  control.dispatchEvent(new Event('input', { bubbles: true }));
  control.focus();
}

/** The text a new macro starts from: the selection in the control, else its whole value. */
export function macroSource(control: TextControl | null): string {
  if (!control) return '';
  const start = control.selectionStart ?? 0;
  const end = control.selectionEnd ?? 0;
  return end > start ? control.value.slice(start, end) : control.value;
}

/** A macro name as the server keeps it: trimmed, 1–64 characters, no slash. */
export function validMacroName(name: string): string | null {
  const n = name.trim();
  if (n === '' || n.length > 64) return 'A macro name has 1 to 64 characters.';
  if (n.includes('/')) return 'A macro name cannot contain "/".';
  return null;
}

export interface MacroBar {
  el: HTMLElement;
  /** The form's text controls report focus here (the last one focused is where a macro goes). */
  track(controls: readonly TextControl[]): void;
  destroy(): void;
}

export function createMacroBar(doc: Document, api: Api): MacroBar {
  let macros: Macro[] = [];
  let target: TextControl | null = null;
  const life = new AbortController();
  const select = hIn(doc, 'select', { class: 'text-input macro-select', attrs: { 'aria-label': 'Macro', 'data-rr-macros': 'loading' } });
  const status = hIn(doc, 'span', { class: 'small muted macro-status', attrs: { role: 'status' } });
  const insert = hIn(doc, 'button', { class: 'btn btn-small', attrs: { type: 'button', 'data-action': 'macro-insert', title: 'Insert at the cursor of the last text field' }, text: 'Insert' });
  const save = hIn(doc, 'button', { class: 'btn btn-small btn-ghost', attrs: { type: 'button', 'data-action': 'macro-save', title: 'Save the selection (or the whole field) as a macro' }, text: 'Save as macro…' });
  const del = hIn(doc, 'button', { class: 'btn btn-small btn-ghost', attrs: { type: 'button', 'data-action': 'macro-delete' }, text: 'Delete' });

  const render = (): void => {
    const keep = select.value;
    select.replaceChildren(hIn(doc, 'option', { attrs: { value: '' }, text: macros.length ? 'Macros…' : 'No macros yet' }), ...macros.map((m) => hIn(doc, 'option', { attrs: { value: m.name, title: m.text }, text: m.name })));
    select.value = macros.some((m) => m.name === keep) ? keep : '';
    const none = select.value === '';
    insert.disabled = none;
    del.disabled = none;
  };
  const load = async (): Promise<void> => {
    try {
      macros = await listMacros(api, life.signal);
      select.setAttribute('data-rr-macros', 'ready');
      status.textContent = '';
    } catch (err) {
      if (life.signal.aborted) return;
      select.setAttribute('data-rr-macros', 'error');
      status.textContent = `Macros unavailable: ${messageOf(err)}`;
    }
    render();
  };
  select.addEventListener('change', render);
  insert.addEventListener('click', () => {
    const m = macros.find((x) => x.name === select.value);
    if (!m) return;
    if (!target || !target.isConnected || target.disabled) {
      status.textContent = 'Click into a text field first.';
      return;
    }
    insertAtCursor(target, m.text);
    status.textContent = '';
  });
  save.addEventListener('click', () => {
    const name = hIn(doc, 'input', { class: 'text-input', attrs: { type: 'text', name: 'name', required: true, maxlength: 64, autocomplete: 'off' } });
    const text = hIn(doc, 'textarea', { class: 'text-input', attrs: { name: 'text', rows: 5, required: true } });
    text.value = macroSource(target);
    openFormDialog(doc, {
      title: 'Save as macro',
      description: 'Your macros are yours only. A macro with the same name is replaced.',
      fields: [labelled(doc, 'Name', name), labelled(doc, 'Text', text)],
      submitLabel: 'Save macro',
      pendingLabel: 'Saving…',
      onSubmit: async () => {
        const problem = validMacroName(name.value);
        if (problem) throw new Error(problem);
        if (text.value.trim() === '') throw new Error('The macro has no text.');
        await putMacro(api, name.value.trim(), text.value);
        await load();
        select.value = name.value.trim();
        render();
      },
    });
  });
  del.addEventListener('click', () => {
    const m = select.value;
    if (!m) return;
    openFormDialog(doc, {
      title: 'Delete macro',
      description: `Delete the macro "${m}"?`,
      fields: [],
      submitLabel: 'Delete',
      onSubmit: async () => {
        await deleteMacro(api, m);
        await load();
      },
    });
  });

  render();
  void load();
  return {
    el: hIn(doc, 'div', { class: 'macro-bar', attrs: { role: 'group', 'aria-label': 'Macros' } }, select, insert, save, del, status),
    track(controls) {
      for (const c of controls) c.addEventListener('focus', () => (target = c));
      if (!target || !target.isConnected) target = controls.find((c) => c.tagName === 'TEXTAREA') ?? controls[0] ?? null;
    },
    destroy: () => life.abort(),
  };
}
