// Worklist page (route "#/"): searchable, filterable, sortable, paginated list of studies.
import { ApiError, type Api, type SortKey, type Study, type StudyList } from './api';
import { reviewBadge, statusBadge } from './ai-view';
import { append, h, hIn, type Child } from './dom';
import {
  formatBirthSex,
  formatCounts,
  formatDateTime,
  formatInstant,
  formatPersonName,
} from './format';
import {
  AI_FILTERS,
  DATE_PRESETS,
  MODALITIES,
  REVIEW_FILTERS,
  PAGE_SIZES,
  activePreset,
  defaultOrder,
  defaultState,
  hasFilters,
  parseState,
  presetRange,
  toApiQuery,
  worklistHash,
  type PageSize,
  type WorklistState,
} from './query';
import { rememberWorklistHash, replaceHash, studyHash, type Page } from './router';

export interface Column {
  id: string;
  label: string;
  sort?: SortKey;
  /** Cell content (plain text or nodes built with textContent). */
  cell(doc: Document, study: Study): Child;
  /** Tooltip text for truncated cells. */
  title?(study: Study): string;
}

export const BASE_COLUMNS: readonly Column[] = [
  {
    id: 'patientName',
    label: 'Patient name',
    sort: 'patientName',
    cell: (_d, s) => formatPersonName(s.patientName),
    title: (s) => formatPersonName(s.patientName),
  },
  { id: 'patientId', label: 'Patient ID', cell: (_d, s) => s.patientId, title: (s) => s.patientId },
  { id: 'birth', label: 'Birth / Sex', cell: (_d, s) => formatBirthSex(s.patientBirthDate, s.patientSex) },
  { id: 'studyDate', label: 'Study date', sort: 'studyDate', cell: (_d, s) => formatDateTime(s.studyDate, s.studyTime) },
  {
    id: 'modalities',
    label: 'Mod.',
    cell: (doc, s) => {
      const frag = doc.createDocumentFragment();
      for (const m of s.modalities ?? []) append(frag, hIn(doc, 'span', { class: 'mod', attrs: { 'data-mod': m }, text: m }));
      return frag;
    },
    title: (s) => (s.modalities ?? []).join(', '),
  },
  { id: 'description', label: 'Description', cell: (_d, s) => s.studyDescription, title: (s) => s.studyDescription },
  { id: 'accession', label: 'Accession', cell: (_d, s) => s.accessionNumber, title: (s) => s.accessionNumber },
  { id: 'counts', label: 'Ser / Img', cell: (_d, s) => formatCounts(s.seriesCount, s.instanceCount) },
  { id: 'received', label: 'Received', sort: 'receivedAt', cell: (_d, s) => formatInstant(s.receivedAt) },
];

/** State of the study's latest AI analysis and the review of its latest completed one (shown with the "ai" capability). */
export const AI_COLUMNS: readonly Column[] = [
  {
    id: 'ai',
    label: 'AI',
    cell: (doc, s) => (s.aiStatus ? statusBadge(doc, s.aiStatus) : null),
    title: (s) => (s.aiStatus ? `AI analysis: ${s.aiStatus}` : 'No AI analysis'),
  },
  {
    id: 'review',
    label: 'Review',
    cell: (doc, s) => (s.reviewStatus ? reviewBadge(doc, s.reviewStatus, true) : null),
    title: (s) => (s.reviewStatus ? `Review: ${s.reviewStatus}` : ''),
  },
];

/** Every column (what renderStudyRow shows by default). */
export const COLUMNS: readonly Column[] = [...BASE_COLUMNS, ...AI_COLUMNS];

/** The columns of a role: the AI ones only for those who may use AI. */
export function columnsFor(showAi: boolean): readonly Column[] {
  return showAi ? COLUMNS : BASE_COLUMNS;
}

/** One worklist row. Every DICOM value goes through textContent / setAttribute only. */
export function renderStudyRow(doc: Document, study: Study, columns: readonly Column[] = COLUMNS): HTMLTableRowElement {
  const tr = hIn(doc, 'tr', {
    class: 'study-row',
    attrs: { tabindex: -1, 'data-uid': study.studyInstanceUid, 'aria-selected': 'false' },
  });
  for (const col of columns) {
    const title = col.title?.(study);
    tr.appendChild(hIn(doc, 'td', { class: `c-${col.id}`, attrs: { title: title || null } }, col.cell(doc, study)));
  }
  return tr;
}

function rangeText(list: StudyList): string {
  if (list.total === 0 || list.data.length === 0) return `0 of ${list.total}`;
  return `${list.offset + 1}–${list.offset + list.data.length} of ${list.total}`;
}

export interface WorklistOptions {
  api: Api;
  /** Query part of the hash ("q=..&page=2"). */
  query: string;
  navigate(hash: string): void;
  /** Rows open the study page (default true; false for roles without study pages). */
  openStudies?: boolean;
  /** AI / Review columns and filters (the "ai" capability, capabilities.ts; default false). */
  showAi?: boolean;
  refreshMs?: number;
  debounceMs?: number;
}

export function mountWorklist(opts: WorklistOptions): Page {
  const doc = document;
  const refreshMs = opts.refreshMs ?? 10_000;
  const debounceMs = opts.debounceMs ?? 300;
  const canOpen = opts.openStudies !== false;
  const showAi = opts.showAi === true;
  const columns = columnsFor(showAi);

  let state: WorklistState = parseState(opts.query);
  // a bookmark with AI filters opened by a role without AI columns: no invisible filter
  if (!showAi) state = { ...state, ai: [], review: [] };
  let list: StudyList | null = null;
  let signature = '';
  let controller: AbortController | null = null;
  let selectedUid: string | null = null;
  let debounceTimer: number | undefined;
  let destroyed = false;

  // ---- toolbar -----------------------------------------------------------
  const search = h('input', {
    class: 'search',
    attrs: {
      type: 'search',
      placeholder: 'Search patient, ID, accession, description…  ( / )',
      'aria-label': 'Search studies',
      autocomplete: 'off',
      spellcheck: 'false',
    },
  });
  const summary = h('span', { class: 'summary', attrs: { 'aria-live': 'polite' } });
  const updated = h('span', { class: 'updated' });
  const refreshBtn = h('button', {
    class: 'btn',
    attrs: { type: 'button', title: 'Refresh now' },
    text: 'Refresh',
    on: { click: () => void load(false) },
  });

  // ---- filters -----------------------------------------------------------
  const inputs: Partial<Record<'patientName' | 'patientId' | 'accession', HTMLInputElement>> = {};
  const textFilter = (label: string, key: 'patientName' | 'patientId' | 'accession', width: string): HTMLLabelElement => {
    const input = h('input', {
      class: `filter-input ${width}`,
      attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-filter': key },
    });
    input.value = state[key];
    input.addEventListener('input', () => debounced(() => input.value !== state[key] && update({ [key]: input.value })));
    inputs[key] = input;
    return h('label', { class: 'field' }, h('span', { class: 'field-label', text: label }), input);
  };

  const modalityGroup = h('div', { class: 'chips', attrs: { role: 'group', 'aria-label': 'Modality' } });
  const renderModalityChips = (): void => {
    const all = [...MODALITIES, ...state.modalities.filter((m) => !(MODALITIES as readonly string[]).includes(m))];
    modalityGroup.replaceChildren(
      ...all.map((m) => {
        const on = state.modalities.includes(m);
        return h('button', {
          class: 'chip',
          attrs: { type: 'button', 'aria-pressed': on ? 'true' : 'false', 'data-mod': m },
          text: m,
          on: {
            click: () => {
              const mods = on ? state.modalities.filter((x) => x !== m) : [...state.modalities, m];
              update({ modalities: mods });
              renderModalityChips();
              modalityGroup.querySelector<HTMLButtonElement>(`button[data-mod="${CSS.escape(m)}"]`)?.focus();
            },
          },
        });
      }),
    );
  };

  // AI / review chips: toggles of the ids in state.ai / state.review
  const aiGroup = h('div', { class: 'chips', attrs: { role: 'group', 'aria-label': 'AI analysis' } });
  const reviewGroup = h('div', { class: 'chips', attrs: { role: 'group', 'aria-label': 'Review' } });
  const renderStatusChips = (): void => {
    aiGroup.replaceChildren(
      ...AI_FILTERS.map((f) => {
        const on = state.ai.includes(f.id);
        return h('button', {
          class: 'chip',
          attrs: { type: 'button', 'aria-pressed': on ? 'true' : 'false', 'data-ai-filter': f.id, title: f.statuses.join(', ') },
          text: f.label,
          on: {
            click: () => {
              update({ ai: on ? state.ai.filter((x) => x !== f.id) : [...state.ai, f.id] });
              renderStatusChips();
              aiGroup.querySelector<HTMLButtonElement>(`button[data-ai-filter="${f.id}"]`)?.focus();
            },
          },
        });
      }),
    );
    reviewGroup.replaceChildren(
      ...REVIEW_FILTERS.map((f) => {
        const on = state.review.includes(f.id);
        return h('button', {
          class: 'chip',
          attrs: { type: 'button', 'aria-pressed': on ? 'true' : 'false', 'data-review-filter': f.id },
          text: f.label,
          on: {
            click: () => {
              update({ review: on ? state.review.filter((x) => x !== f.id) : [...state.review, f.id] });
              renderStatusChips();
              reviewGroup.querySelector<HTMLButtonElement>(`button[data-review-filter="${f.id}"]`)?.focus();
            },
          },
        });
      }),
    );
  };

  const dateFrom = h('input', { class: 'filter-input date', attrs: { type: 'date', 'aria-label': 'Study date from' } });
  const dateTo = h('input', { class: 'filter-input date', attrs: { type: 'date', 'aria-label': 'Study date to' } });
  dateFrom.addEventListener('change', () => update({ dateFrom: dateFrom.value }));
  dateTo.addEventListener('change', () => update({ dateTo: dateTo.value }));
  const presetGroup = h('div', { class: 'chips presets', attrs: { role: 'group', 'aria-label': 'Date presets' } });
  const renderPresets = (): void => {
    const active = activePreset(state);
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
              update(r);
            },
          },
        }),
      ),
    );
  };
  const clearBtn = h('button', {
    class: 'btn btn-ghost',
    attrs: { type: 'button' },
    text: 'Clear filters',
    on: { click: () => clearFilters() },
  });

  // ---- table -------------------------------------------------------------
  const headRow = h('tr');
  const thead = h('thead', {}, headRow);
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: `worklist${showAi ? ' with-ai' : ''}`, attrs: { role: 'grid', 'aria-readonly': 'true', 'aria-label': 'Studies' } },
    thead,
    tbody,
  );
  const scroller = h('div', { class: 'table-scroll' }, table);
  const progress = h('div', { class: 'progress', attrs: { hidden: true } });

  const renderHead = (): void => {
    headRow.replaceChildren(
      ...columns.map((col) => {
        const th = h('th', { class: `c-${col.id}`, attrs: { scope: 'col' } });
        if (!col.sort) {
          th.textContent = col.label;
          return th;
        }
        const sortKey = col.sort;
        const active = state.sort === sortKey;
        th.setAttribute('aria-sort', active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none');
        th.appendChild(
          h(
            'button',
            {
              class: `sort${active ? ' active' : ''}`,
              attrs: { type: 'button', 'data-sort': sortKey, title: `Sort by ${col.label.toLowerCase()}` },
              on: {
                click: () => {
                  const order = active ? (state.order === 'asc' ? 'desc' : 'asc') : defaultOrder(sortKey);
                  update({ sort: sortKey, order });
                },
              },
            },
            col.label,
            h('span', { class: 'sort-icon', attrs: { 'aria-hidden': 'true' }, text: active ? (state.order === 'asc' ? '▲' : '▼') : '↕' }),
          ),
        );
        return th;
      }),
    );
  };

  // ---- pagination --------------------------------------------------------
  const pageSize = h('select', { class: 'filter-input', attrs: { 'aria-label': 'Rows per page' } });
  for (const n of PAGE_SIZES) pageSize.appendChild(h('option', { attrs: { value: n }, text: String(n) }));
  pageSize.addEventListener('change', () => update({ pageSize: Number(pageSize.value) as PageSize }));
  const range = h('span', { class: 'range' });
  const prevBtn = h('button', {
    class: 'btn',
    attrs: { type: 'button', 'aria-label': 'Previous page' },
    text: '‹ Prev',
    on: { click: () => update({ page: state.page - 1 }, false) },
  });
  const nextBtn = h('button', {
    class: 'btn',
    attrs: { type: 'button', 'aria-label': 'Next page' },
    text: 'Next ›',
    on: { click: () => update({ page: state.page + 1 }, false) },
  });

  const el = h(
    'div',
    { class: `page worklist-page${canOpen ? '' : ' no-open'}` },
    h(
      'header',
      { class: 'topbar' },
      search,
      h('div', { class: 'topbar-right' }, summary, updated, refreshBtn),
    ),
    h(
      'section',
      { class: 'filters', attrs: { 'aria-label': 'Filters' } },
      textFilter('Patient name', 'patientName', 'w-lg'),
      textFilter('Patient ID', 'patientId', 'w-md'),
      textFilter('Accession', 'accession', 'w-md'),
      h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Modality' }), modalityGroup),
      h(
        'div',
        { class: 'field' },
        h('span', { class: 'field-label', text: 'Study date' }),
        h('div', { class: 'date-range' }, dateFrom, h('span', { class: 'muted', text: '–' }), dateTo, presetGroup),
      ),
      showAi ? h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'AI' }), aiGroup) : null,
      showAi ? h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Review' }), reviewGroup) : null,
      clearBtn,
    ),
    progress,
    scroller,
    h(
      'footer',
      { class: 'pager' },
      h('label', { class: 'pager-size' }, h('span', { class: 'muted', text: 'Rows per page' }), pageSize),
      range,
      prevBtn,
      nextBtn,
    ),
  );

  // ---- state -------------------------------------------------------------
  const syncControls = (): void => {
    search.value = state.q;
    for (const key of ['patientName', 'patientId', 'accession'] as const) {
      const input = inputs[key];
      if (input && input.value !== state[key]) input.value = state[key];
    }
    dateFrom.value = state.dateFrom;
    dateTo.value = state.dateTo;
    pageSize.value = String(state.pageSize);
    renderModalityChips();
    renderStatusChips();
    renderPresets();
    renderHead();
    clearBtn.disabled = !hasFilters(state);
  };

  function debounced(fn: () => void): void {
    window.clearTimeout(debounceTimer);
    debounceTimer = window.setTimeout(fn, debounceMs);
  }

  function update(patch: Partial<WorklistState>, resetPage = true): void {
    state = { ...state, ...patch };
    if (resetPage && patch.page === undefined) state.page = 1;
    if (state.page < 1) state.page = 1;
    const hash = worklistHash(state);
    rememberWorklistHash(hash);
    replaceHash(hash);
    renderPresets();
    renderHead();
    clearBtn.disabled = !hasFilters(state);
    void load(false);
  }

  function clearFilters(): void {
    const d = defaultState();
    state = { ...d, sort: state.sort, order: state.order, pageSize: state.pageSize };
    syncControls();
    update({});
  }

  search.addEventListener('input', () => debounced(() => search.value !== state.q && update({ q: search.value })));
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      window.clearTimeout(debounceTimer);
      if (search.value !== state.q) update({ q: search.value });
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      focusRow(0);
    }
  });

  // ---- rows / keyboard -----------------------------------------------------
  const rows = (): HTMLTableRowElement[] => Array.from(tbody.querySelectorAll<HTMLTableRowElement>('tr.study-row'));

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
    if (!canOpen) return;
    const uid = row.dataset.uid;
    if (uid) opts.navigate(studyHash(uid));
  }

  tbody.addEventListener('click', (e) => {
    const row = (e.target as Element).closest<HTMLTableRowElement>('tr.study-row');
    if (row) {
      select(row, false);
      open(row);
    }
  });
  tbody.addEventListener('keydown', (e) => {
    const row = (e.target as Element).closest<HTMLTableRowElement>('tr.study-row');
    if (!row) return;
    const all = rows();
    const i = all.indexOf(row);
    const pageStep = Math.max(1, Math.floor(scroller.clientHeight / Math.max(1, row.offsetHeight)) - 1);
    const moves: Record<string, number> = {
      ArrowDown: i + 1,
      ArrowUp: i - 1,
      Home: 0,
      End: all.length - 1,
      PageDown: i + pageStep,
      PageUp: i - pageStep,
    };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      open(row);
    } else if (e.key in moves) {
      e.preventDefault();
      if (e.key === 'ArrowUp' && i === 0) search.focus();
      else focusRow(moves[e.key] ?? i);
    }
  });
  tbody.addEventListener('focusin', (e) => {
    const row = (e.target as Element).closest<HTMLTableRowElement>('tr.study-row');
    if (row) select(row, false);
  });

  const onGlobalKey = (e: KeyboardEvent): void => {
    const t = e.target as Element | null;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      search.focus();
      search.select();
    }
  };
  doc.addEventListener('keydown', onGlobalKey);

  // ---- rendering -----------------------------------------------------------
  const stateRow = (...children: Child[]): HTMLTableRowElement =>
    h('tr', { class: 'state-row' }, h('td', { attrs: { colspan: columns.length } }, h('div', { class: 'state' }, ...children)));

  function renderList(data: StudyList): void {
    const hadFocus = tbody.contains(doc.activeElement);
    const focusedUid = hadFocus ? (doc.activeElement as HTMLElement).dataset.uid ?? null : null;
    if (data.data.length === 0) {
      tbody.replaceChildren(
        hasFilters(state)
          ? stateRow(h('strong', { text: 'No studies match the current filters.' }), ' ',
              h('button', { class: 'btn btn-link', attrs: { type: 'button' }, text: 'Clear filters', on: { click: () => clearFilters() } }))
          : stateRow(h('strong', { text: 'No studies yet.' }), ' Send images to Orthanc (DICOM C-STORE) or upload them; they will appear here.'),
      );
    } else {
      const newRows = data.data.map((s) => renderStudyRow(doc, s, columns));
      tbody.replaceChildren(...newRows);
      const keep = newRows.find((r) => r.dataset.uid === (focusedUid ?? selectedUid)) ?? newRows[0];
      if (keep) {
        for (const r of newRows) r.tabIndex = r === keep ? 0 : -1;
        if (keep.dataset.uid === selectedUid) keep.setAttribute('aria-selected', 'true');
        if (focusedUid && keep.dataset.uid === focusedUid) keep.focus({ preventScroll: true });
      }
    }
    range.textContent = rangeText(data);
    summary.textContent = `${data.total} ${data.total === 1 ? 'study' : 'studies'}`;
    prevBtn.disabled = state.page <= 1;
    nextBtn.disabled = data.offset + data.data.length >= data.total;
  }

  function renderError(err: unknown, silent: boolean): void {
    const message = err instanceof Error ? err.message : String(err);
    if (silent && list) {
      updated.textContent = `Refresh failed: ${message}`;
      updated.classList.add('error');
      return;
    }
    list = null;
    signature = '';
    const status = err instanceof ApiError && err.status ? ` (HTTP ${err.status})` : '';
    tbody.replaceChildren(
      stateRow(
        h('div', { class: 'error', attrs: { role: 'alert' } },
          h('strong', { text: `Could not load studies${status}: ` }), h('span', { class: 'error-message', text: message })),
        h('button', { class: 'btn', attrs: { type: 'button' }, text: 'Retry', on: { click: () => void load(false) } }),
      ),
    );
    range.textContent = '';
    summary.textContent = '';
    prevBtn.disabled = state.page <= 1;
    nextBtn.disabled = true;
  }

  async function load(silent: boolean): Promise<void> {
    if (silent && controller) return; // a load is already running
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    if (!silent) {
      progress.hidden = false;
      el.classList.add('busy');
      if (!list) tbody.replaceChildren(stateRow(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading studies…'));
    }
    try {
      const data = await opts.api.listStudies(toApiQuery(state), ctrl.signal);
      if (ctrl.signal.aborted || destroyed) return;
      if (data.data.length === 0 && data.total > 0 && state.page > 1) {
        controller = null;
        update({ page: Math.max(1, Math.ceil(data.total / state.pageSize)) }, false);
        return;
      }
      updated.classList.remove('error');
      updated.textContent = `Updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
      const sig = JSON.stringify(data);
      if (sig !== signature || !list) {
        signature = sig;
        list = data;
        renderList(data);
      }
    } catch (err) {
      if (ctrl.signal.aborted || destroyed) return;
      renderError(err, silent);
    } finally {
      if (controller === ctrl) {
        controller = null;
        progress.hidden = true;
        el.classList.remove('busy');
      }
    }
  }

  const timer = window.setInterval(() => {
    if (!doc.hidden) void load(true);
  }, refreshMs);

  syncControls();
  rememberWorklistHash(worklistHash(state));
  document.title = 'Worklist · Reading Room';
  void load(false);
  queueMicrotask(() => {
    if (!destroyed && !state.q && doc.activeElement === doc.body) search.focus({ preventScroll: true });
  });

  return {
    el,
    destroy(): void {
      destroyed = true;
      window.clearInterval(timer);
      window.clearTimeout(debounceTimer);
      doc.removeEventListener('keydown', onGlobalKey);
      controller?.abort();
    },
  };
}
