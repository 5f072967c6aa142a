// The measurement panel: a collapsible side panel inside the viewer area listing the study's annotations
// (label, value with unit, "Se n, Im i", author; others' read-only), the key images, and the save state
// ("Saved", "Saving…", "Not saved — retrying"). Rows are given as plain data by viewer-measure.ts; a click on a
// row calls onShow, the own rows have Label (inline edit) and Delete. DICOM and user strings are text only.
// Hooks for tests: .viewer-measure-panel[data-rr-save-state], rows li[data-rr-annotation-uid] with
// data-rr-readonly, li[data-rr-key-image] for key images.

import { h } from './dom';
import type { SaveState } from './viewer-annotations-queue';

export interface PanelRow {
  uid: string;
  tool: string;
  label: string;
  value: string;
  where: string;
  author: string;
  readOnly: boolean;
  /** Why it is read-only ("by another user", "from a DICOM SR"), shown on hover. */
  why: string;
}

export interface KeyRow {
  id: string;
  where: string;
  author: string;
}

export interface PanelCallbacks {
  onShow(uid: string): void;
  onShowKey(id: string): void;
  onRelabel(uid: string, label: string): void;
  onDelete(uid: string): void;
  onClose(): void;
}

export interface MeasurePanel {
  element: HTMLElement;
  /** The save state for the toolbar (visible while the panel is closed). */
  chip: HTMLElement;
  hidden: boolean;
  setHidden(hidden: boolean): void;
  render(rows: PanelRow[], keys: KeyRow[]): void;
  setSaveState(state: SaveState, detail: string): void;
  /** A message under the save state (conflicts, refusals, load errors); "" clears it. */
  notice(text: string): void;
}

const SAVE_TEXT: Record<SaveState, string> = { saved: 'Saved', saving: 'Saving…', retrying: 'Not saved — retrying' };

export function createMeasurePanel(cb: PanelCallbacks): MeasurePanel {
  const state = h('span', { class: 'measure-save', attrs: { role: 'status', 'aria-live': 'off' }, text: SAVE_TEXT.saved });
  const chip = h('span', { class: 'measure-save-chip muted', attrs: { role: 'status', 'data-rr-save-state': 'saved' }, text: SAVE_TEXT.saved });
  const note = h('div', { class: 'measure-notice muted', attrs: { role: 'alert', hidden: '' } });
  const close = h('button', { class: 'viewer-tool', text: '×', attrs: { type: 'button', title: 'Close the measurement panel', 'aria-label': 'Close' } });
  close.addEventListener('click', () => cb.onClose());
  const list = h('ul', { class: 'measure-list', attrs: { 'aria-label': 'Measurements' } });
  const keyList = h('ul', { class: 'measure-keys', attrs: { 'aria-label': 'Key images' } });
  const element = h(
    'aside',
    { class: 'viewer-measure-panel', attrs: { 'aria-label': 'Measurements', hidden: '', 'data-rr-save-state': 'saved' } },
    h('div', { class: 'measure-head' }, h('strong', { text: 'Measurements' }), state, close),
    note,
    list,
    h('div', { class: 'measure-head' }, h('strong', { text: 'Key images' })),
    keyList,
  );

  const editLabel = (row: PanelRow, labelEl: HTMLElement): void => {
    const input = h('input', { class: 'measure-label-input', attrs: { type: 'text', maxlength: '256', value: row.label, 'aria-label': 'Label' } });
    let done = false;
    const finish = (save: boolean): void => {
      if (done) return;
      done = true;
      const changed = save && input.value !== row.label;
      if (changed) labelEl.textContent = input.value || row.tool;
      input.replaceWith(labelEl);
      if (changed) cb.onRelabel(row.uid, input.value);
    };
    input.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Enter') finish(true);
      else if (e.key === 'Escape') finish(false);
    });
    input.addEventListener('blur', () => finish(true));
    input.addEventListener('click', (e) => e.stopPropagation());
    labelEl.replaceWith(input);
    input.focus();
    input.select();
  };

  const rowOf = (r: PanelRow): HTMLLIElement => {
    const labelEl = h('span', { class: 'measure-label', text: r.label || r.tool });
    const main = h(
      'button',
      { class: 'measure-item', attrs: { type: 'button', title: `Show it (${r.where})` } },
      h('span', { class: 'measure-line' }, labelEl, h('span', { class: 'measure-tool muted', text: r.label ? r.tool : '' })),
      h('span', { class: 'measure-value', text: r.value }),
      h('span', { class: 'measure-where muted', text: [r.where, r.author].filter(Boolean).join(' · ') }),
    );
    main.addEventListener('click', () => cb.onShow(r.uid));
    const li = h('li', { attrs: { 'data-rr-annotation-uid': r.uid, 'data-rr-readonly': r.readOnly ? 'true' : 'false', title: r.readOnly ? r.why : null } }, main);
    if (!r.readOnly) {
      const rename = h('button', { class: 'measure-act', text: 'Label', attrs: { type: 'button', 'data-rr-act': 'label', title: 'Change the label' } });
      const del = h('button', { class: 'measure-act', text: 'Delete', attrs: { type: 'button', 'data-rr-act': 'delete', title: 'Delete (Ctrl+Z undoes)' } });
      rename.addEventListener('click', () => editLabel(r, labelEl));
      del.addEventListener('click', () => cb.onDelete(r.uid));
      li.appendChild(h('span', { class: 'measure-acts' }, rename, del));
    }
    return li;
  };

  const panel: MeasurePanel = {
    element,
    chip,
    hidden: true,
    setHidden(hidden: boolean): void {
      panel.hidden = hidden;
      element.hidden = hidden;
    },
    render(rows: PanelRow[], keys: KeyRow[]): void {
      // an open label editor is not thrown away by a re-render
      if (list.querySelector('input.measure-label-input')) return;
      list.replaceChildren(...(rows.length ? rows.map(rowOf) : [h('li', { class: 'muted measure-empty', text: 'No measurements' })]));
      keyList.replaceChildren(
        ...(keys.length
          ? keys.map((k) => {
              const b = h('button', { class: 'measure-item', attrs: { type: 'button' } }, h('span', { class: 'measure-line', text: `★ ${k.where}` }), h('span', { class: 'measure-where muted', text: k.author }));
              b.addEventListener('click', () => cb.onShowKey(k.id));
              return h('li', { attrs: { 'data-rr-key-image': k.id } }, b);
            })
          : [h('li', { class: 'muted measure-empty', text: 'No key images (K marks the shown image)' })]),
      );
    },
    setSaveState(s: SaveState, detail: string): void {
      state.textContent = SAVE_TEXT[s];
      state.title = detail;
      element.setAttribute('data-rr-save-state', s);
      chip.textContent = SAVE_TEXT[s];
      chip.title = detail;
      chip.setAttribute('data-rr-save-state', s);
      chip.classList.toggle('failing', s === 'retrying');
    },
    notice(text: string): void {
      note.textContent = text;
      note.hidden = text === '';
    },
  };
  return panel;
}
