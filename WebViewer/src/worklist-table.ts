// The worklist's table: sortable header, study rows (selection, keyboard, opening a study) and the state
// rows shown instead of studies (loading, empty, error).
import type { Study } from './api';
import { h, type Child } from './dom';
import { defaultOrder } from './query';
import { renderStudyRow, type Column } from './worklist-columns';
import type { WorklistControl } from './worklist-filters';

export interface StudyTableOptions {
  ctl: Pick<WorklistControl, 'state' | 'update'>;
  columns: readonly Column[];
  /** The table has the AI / Review columns (a class for the layout). */
  withAi: boolean;
  /** Opens a study (absent: rows do not open). */
  open?(uid: string): void;
  /** ArrowUp on the first row (back to the search box). */
  leaveTop(): void;
}

export interface StudyTable {
  /** The scrolling box around the table. */
  el: HTMLElement;
  /** Redraws the header after a change of sort. */
  renderHead(): void;
  /** Shows the rows, keeping the focused (else selected) row when it is still listed. */
  showStudies(studies: readonly Study[]): void;
  /** One full-width row instead of studies (loading, empty list, error). */
  showState(...children: Child[]): void;
  /** Selects and focuses a row (clamped to the rows shown). */
  focusRow(index: number): void;
}

/** Keys that move the selection, from row i of n (pageStep rows per screen). */
function moveTarget(key: string, i: number, n: number, pageStep: number): number | undefined {
  const moves: Record<string, number> = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: n - 1, PageDown: i + pageStep, PageUp: i - pageStep };
  return moves[key];
}

interface RowActions {
  open(row: HTMLTableRowElement): void;
  focusRow(index: number): void;
  leaveTop(): void;
}

/** Keyboard on a row: Enter / Space open it, arrows, Home / End and Page Up / Down move the selection. */
function onRowKey(e: KeyboardEvent, row: HTMLTableRowElement, all: HTMLTableRowElement[], scroller: HTMLElement, act: RowActions): void {
  const i = all.indexOf(row);
  const pageStep = Math.max(1, Math.floor(scroller.clientHeight / Math.max(1, row.offsetHeight)) - 1);
  const target = moveTarget(e.key, i, all.length, pageStep);
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    act.open(row);
  } else if (target !== undefined) {
    e.preventDefault();
    if (e.key === 'ArrowUp' && i === 0) act.leaveTop();
    else act.focusRow(target);
  }
}

/** A header cell: the label, or a sort button when the column sorts. */
function headerCell(col: Column, ctl: StudyTableOptions['ctl']): HTMLTableCellElement {
  const th = h('th', { class: `c-${col.id}`, attrs: { scope: 'col' } });
  if (!col.sort) {
    th.textContent = col.label;
    return th;
  }
  const sortKey = col.sort;
  const state = ctl.state();
  const active = state.sort === sortKey;
  th.setAttribute('aria-sort', active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none');
  const click = (): void => {
    const now = ctl.state();
    const order = active ? (now.order === 'asc' ? 'desc' : 'asc') : defaultOrder(sortKey);
    ctl.update({ sort: sortKey, order });
  };
  th.appendChild(
    h(
      'button',
      { class: `sort${active ? ' active' : ''}`, attrs: { type: 'button', 'data-sort': sortKey, title: `Sort by ${col.label.toLowerCase()}` }, on: { click } },
      col.label,
      h('span', { class: 'sort-icon', attrs: { 'aria-hidden': 'true' }, text: active ? (state.order === 'asc' ? '▲' : '▼') : '↕' }),
    ),
  );
  return th;
}

export function createStudyTable(opts: StudyTableOptions): StudyTable {
  const doc = document;
  const headRow = h('tr');
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: `worklist${opts.withAi ? ' with-ai' : ''}`, attrs: { role: 'grid', 'aria-readonly': 'true', 'aria-label': 'Studies' } },
    h('thead', {}, headRow),
    tbody,
  );
  const scroller = h('div', { class: 'table-scroll' }, table);
  let selectedUid: string | null = null;

  const rows = (): HTMLTableRowElement[] => Array.from(tbody.querySelectorAll<HTMLTableRowElement>('tr.study-row'));
  const rowOf = (e: Event): HTMLTableRowElement | null => (e.target as Element).closest<HTMLTableRowElement>('tr.study-row');

  function select(row: HTMLTableRowElement | undefined, focus: boolean): void {
    if (!row) return;
    for (const r of rows()) {
      const on = r === row;
      r.setAttribute('aria-selected', on ? 'true' : 'false');
      r.tabIndex = on ? 0 : -1;
    }
    selectedUid = row.dataset.uid ?? null;
    if (focus) row.focus();
  }

  function focusRow(index: number): void {
    const all = rows();
    if (all.length === 0) return;
    select(all[Math.max(0, Math.min(all.length - 1, index))], true);
  }

  function open(row: HTMLTableRowElement): void {
    const uid = row.dataset.uid;
    if (uid && opts.open) opts.open(uid);
  }

  tbody.addEventListener('click', (e) => {
    const row = rowOf(e);
    if (row) {
      select(row, false);
      open(row);
    }
  });
  tbody.addEventListener('keydown', (e) => {
    const row = rowOf(e);
    if (row) onRowKey(e, row, rows(), scroller, { open, focusRow, leaveTop: () => opts.leaveTop() });
  });
  tbody.addEventListener('focusin', (e) => {
    const row = rowOf(e);
    if (row) select(row, false);
  });

  return {
    el: scroller,
    focusRow,
    renderHead(): void {
      headRow.replaceChildren(...opts.columns.map((col) => headerCell(col, opts.ctl)));
    },
    showState(...children: Child[]): void {
      tbody.replaceChildren(
        h('tr', { class: 'state-row' }, h('td', { attrs: { colspan: opts.columns.length } }, h('div', { class: 'state' }, ...children))),
      );
    },
    showStudies(studies: readonly Study[]): void {
      const focused = tbody.contains(doc.activeElement) ? (doc.activeElement as HTMLElement).dataset.uid ?? null : null;
      const newRows = studies.map((s) => renderStudyRow(doc, s, opts.columns));
      tbody.replaceChildren(...newRows);
      const keep = newRows.find((r) => r.dataset.uid === (focused ?? selectedUid)) ?? newRows[0];
      if (!keep) return;
      for (const r of newRows) r.tabIndex = r === keep ? 0 : -1;
      if (keep.dataset.uid === selectedUid) keep.setAttribute('aria-selected', 'true');
      if (focused && keep.dataset.uid === focused) keep.focus({ preventScroll: true });
    },
  };
}
