// The worklist's footer: rows per page, "1–50 of 120", previous / next page.
import type { StudyList } from './api';
import { h } from './dom';
import { PAGE_SIZES, type PageSize } from './query';
import type { WorklistControl } from './worklist-filters';

export interface WorklistPager {
  el: HTMLElement;
  /** Sets the page size control from the state. */
  sync(): void;
  /** Range and buttons for a list shown. */
  showList(list: StudyList): void;
  /** No list (error): no range, no next page. */
  showNone(): void;
}

export function rangeText(list: StudyList): string {
  if (list.total === 0 || list.data.length === 0) return `0 of ${list.total}`;
  return `${list.offset + 1}–${list.offset + list.data.length} of ${list.total}`;
}

export function createPager(ctl: Pick<WorklistControl, 'state' | 'update'>): WorklistPager {
  const pageSize = h('select', { class: 'filter-input', attrs: { 'aria-label': 'Rows per page' } });
  for (const n of PAGE_SIZES) pageSize.appendChild(h('option', { attrs: { value: n }, text: String(n) }));
  pageSize.addEventListener('change', () => ctl.update({ pageSize: Number(pageSize.value) as PageSize }));
  const range = h('span', { class: 'range' });
  const pageButton = (label: string, text: string, step: number): HTMLButtonElement =>
    h('button', { class: 'btn', attrs: { type: 'button', 'aria-label': label }, text, on: { click: () => ctl.update({ page: ctl.state().page + step }, false) } });
  const prevBtn = pageButton('Previous page', '‹ Prev', -1);
  const nextBtn = pageButton('Next page', 'Next ›', 1);
  const el = h(
    'footer',
    { class: 'pager' },
    h('label', { class: 'pager-size' }, h('span', { class: 'muted', text: 'Rows per page' }), pageSize),
    range,
    prevBtn,
    nextBtn,
  );
  return {
    el,
    sync(): void {
      pageSize.value = String(ctl.state().pageSize);
    },
    showList(list: StudyList): void {
      range.textContent = rangeText(list);
      prevBtn.disabled = ctl.state().page <= 1;
      nextBtn.disabled = list.offset + list.data.length >= list.total;
    },
    showNone(): void {
      range.textContent = '';
      prevBtn.disabled = ctl.state().page <= 1;
      nextBtn.disabled = true;
    },
  };
}
