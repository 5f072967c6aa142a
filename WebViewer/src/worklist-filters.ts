// Filter section of the worklist: patient name / ID / accession fields, modality, AI and review chips, study
// date range with presets, "Clear filters". It reads and changes the page's state through WorklistControl.
import { h } from './dom';
import { AI_FILTERS, DATE_PRESETS, MODALITIES, REVIEW_FILTERS, activePreset, hasFilters, presetRange, type WorklistState } from './query';
import { REPORT_FILTERS, type ReportFilter } from './worklist-report';

/** The worklist page's state, as its controls see it. */
export interface WorklistControl {
  state(): WorklistState;
  /** Applies a change (back to page 1 unless resetPage is false or the patch sets the page) and reloads. */
  update(patch: Partial<WorklistState>, resetPage?: boolean): void;
  /** Drops every filter (sort, order and page size kept). */
  clearFilters(): void;
  /** Runs fn after the typing pause (a newer call replaces it). */
  debounced(fn: () => void): void;
}

export interface WorklistFilters {
  el: HTMLElement;
  /** Sets every control from the state (initial state, cleared filters). */
  sync(): void;
  /** After any change: date presets and the "Clear filters" button follow the state. */
  refresh(): void;
}

interface ChipItem<T extends string = string> {
  id: T;
  label: string;
  title?: string;
}

/**
 * A group of toggle chips (aria-pressed) for a list of ids in the state; `dataAttr` names each chip by id.
 * `items` is read at each render (the modality list grows with the modalities of a bookmark).
 */
function toggleChips<T extends string>(
  ariaLabel: string,
  dataAttr: string,
  items: () => readonly ChipItem<T>[],
  selected: () => readonly T[],
  set: (ids: T[]) => void,
): { el: HTMLElement; render(): void } {
  const el = h('div', { class: 'chips', attrs: { role: 'group', 'aria-label': ariaLabel } });
  const render = (): void => {
    el.replaceChildren(
      ...items().map((item) => {
        const on = selected().includes(item.id);
        return h('button', {
          class: 'chip',
          attrs: { type: 'button', 'aria-pressed': on ? 'true' : 'false', [dataAttr]: item.id, title: item.title },
          text: item.label,
          on: {
            click: () => {
              set(on ? selected().filter((x) => x !== item.id) : [...selected(), item.id]);
              render();
              el.querySelector<HTMLButtonElement>(`button[${dataAttr}="${CSS.escape(item.id)}"]`)?.focus();
            },
          },
        });
      }),
    );
  };
  return { el, render };
}

type TextKey = 'patientName' | 'patientId' | 'accession';

const field = (label: string, ...controls: HTMLElement[]): HTMLElement =>
  h('div', { class: 'field' }, h('span', { class: 'field-label', text: label }), ...controls);

/** The filter section; the AI and review chips only when showAi, the report chips (one at a time) when showReport. */
export function createFilters(ctl: WorklistControl, showAi: boolean, showReport = false): WorklistFilters {
  const inputs: Partial<Record<TextKey, HTMLInputElement>> = {};
  const textFilter = (label: string, key: TextKey, width: string): HTMLLabelElement => {
    const input = h('input', {
      class: `filter-input ${width}`,
      attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-filter': key },
    });
    input.value = ctl.state()[key];
    input.addEventListener('input', () => ctl.debounced(() => input.value !== ctl.state()[key] && ctl.update({ [key]: input.value })));
    inputs[key] = input;
    return h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), input);
  };

  const modalityItems = (): ChipItem[] => {
    const extra = ctl.state().modalities.filter((m) => !(MODALITIES as readonly string[]).includes(m));
    return [...MODALITIES, ...extra].map((m) => ({ id: m, label: m }));
  };
  const modalities = toggleChips('Modality', 'data-mod', modalityItems, () => ctl.state().modalities, (ids) => ctl.update({ modalities: ids }));
  const aiItems = AI_FILTERS.map((f) => ({ id: f.id, label: f.label, title: f.statuses.join(', ') }));
  const ai = toggleChips('AI analysis', 'data-ai-filter', () => aiItems, () => ctl.state().ai, (ids) => ctl.update({ ai: ids }));
  const review = toggleChips('Review', 'data-review-filter', () => REVIEW_FILTERS, () => ctl.state().review, (ids) => ctl.update({ review: ids }));
  // one report filter at a time (the API takes one value): pressing a chip replaces the other
  const reportChips = toggleChips<ReportFilter>(
    'Report',
    'data-report-filter',
    () => REPORT_FILTERS,
    () => (ctl.state().report ? [ctl.state().report as ReportFilter] : []),
    (ids) => ctl.update({ report: ids[ids.length - 1] ?? '' }),
  );

  const dateFrom = h('input', { class: 'filter-input date', attrs: { type: 'date', 'aria-label': 'Study date from' } });
  const dateTo = h('input', { class: 'filter-input date', attrs: { type: 'date', 'aria-label': 'Study date to' } });
  dateFrom.addEventListener('change', () => ctl.update({ dateFrom: dateFrom.value }));
  dateTo.addEventListener('change', () => ctl.update({ dateTo: dateTo.value }));
  const presetGroup = h('div', { class: 'chips presets', attrs: { role: 'group', 'aria-label': 'Date presets' } });
  const renderPresets = (): void => {
    const active = activePreset(ctl.state());
    presetGroup.replaceChildren(
      ...DATE_PRESETS.map((p) =>
        h('button', {
          class: 'chip',
          attrs: { type: 'button', 'aria-pressed': active === p.id ? 'true' : 'false', 'data-preset': p.id },
          text: p.label,
          on: {
            click: () => {
              const r = presetRange(p.id);
              dateFrom.value = r.dateFrom;
              dateTo.value = r.dateTo;
              ctl.update(r);
            },
          },
        }),
      ),
    );
  };
  const clearBtn = h('button', { class: 'btn btn-ghost', attrs: { type: 'button' }, text: 'Clear filters', on: { click: () => ctl.clearFilters() } });

  const el = h(
    'section',
    { class: 'filters', attrs: { 'aria-label': 'Filters' } },
    textFilter('Patient name', 'patientName', 'w-lg'),
    textFilter('Patient ID', 'patientId', 'w-md'),
    textFilter('Accession', 'accession', 'w-md'),
    field('Modality', modalities.el),
    field('Study date', h('div', { class: 'date-range' }, dateFrom, h('span', { class: 'muted', text: '–' }), dateTo, presetGroup)),
    showAi ? field('AI', ai.el) : null,
    showAi ? field('Review', review.el) : null,
    showReport ? field('Report', reportChips.el) : null,
    clearBtn,
  );

  const refresh = (): void => {
    renderPresets();
    clearBtn.disabled = !hasFilters(ctl.state());
  };
  const sync = (): void => {
    const state = ctl.state();
    for (const key of ['patientName', 'patientId', 'accession'] as const) {
      const input = inputs[key];
      if (input && input.value !== state[key]) input.value = state[key];
    }
    dateFrom.value = state.dateFrom;
    dateTo.value = state.dateTo;
    modalities.render();
    ai.render();
    review.render();
    reportChips.render();
    refresh();
  };
  return { el, sync, refresh };
}
