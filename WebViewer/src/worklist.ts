// Worklist page (route "#/"): searchable, filterable, sortable, paginated list of studies. The page owns the
// state (query.ts) and puts together its pieces: filters (worklist-filters.ts), the table with its rows and
// keyboard (worklist-table.ts), the pager (worklist-pager.ts) and loading / polling (worklist-loader.ts).
import type { Api, StudyList } from './api';
import { h } from './dom';
import { defaultState, hasFilters, parseState, toApiQuery, worklistHash, type WorklistState } from './query';
import { rememberStudyBack, rememberWorklistHash, replaceHash, studyHash, type Page } from './router';
import { columnsFor } from './worklist-columns';
import { createFilters, type WorklistControl } from './worklist-filters';
import { WorklistLoader } from './worklist-loader';
import { createPager, type WorklistPager } from './worklist-pager';
import { createStudyTable, type StudyTable } from './worklist-table';
import { errorAlert, messageOf, retryButton, statusNote } from './failure';

export { AI_COLUMNS, BASE_COLUMNS, COLUMNS, columnsFor, renderStudyRow, type Column } from './worklist-columns';

export interface WorklistOptions {
  api: Api;
  /** Query part of the hash ("q=..&page=2"). */
  query: string;
  navigate(hash: string): void;
  /** Rows open the study page (default true; false for those who may not use the study page). */
  openStudies?: boolean;
  /** AI / Review columns and filters (the "ai" capability, capabilities.ts; default false). */
  showAi?: boolean;
  /** Report column and filter (the "report" capability; default false). */
  showReport?: boolean;
  refreshMs?: number;
  debounceMs?: number;
}

/**
 * The page's state and how it changes: every change goes to the hash (bookmarks, "back to worklist"), then
 * hooks.changed() redraws and reloads; clearing the filters first resets the controls (hooks.reset()).
 */
function createControl(
  initial: WorklistState,
  debounceMs: number,
  hooks: { changed(): void; reset(): void },
): WorklistControl & { cancelDebounce(): void } {
  let state = initial;
  let debounceTimer: number | undefined;
  const ctl = {
    state: () => state,
    update(patch: Partial<WorklistState>, resetPage = true): void {
      state = { ...state, ...patch };
      if (resetPage && patch.page === undefined) state.page = 1;
      if (state.page < 1) state.page = 1;
      const hash = worklistHash(state);
      rememberWorklistHash(hash);
      replaceHash(hash);
      hooks.changed();
    },
    clearFilters(): void {
      state = { ...defaultState(), sort: state.sort, order: state.order, pageSize: state.pageSize };
      hooks.reset();
      ctl.update({});
    },
    debounced(fn: () => void): void {
      window.clearTimeout(debounceTimer);
      debounceTimer = window.setTimeout(fn, debounceMs);
    },
    cancelDebounce: (): void => window.clearTimeout(debounceTimer),
  };
  return ctl;
}

/** The search box of the top bar ("/" anywhere focuses it, ArrowDown goes to the rows). */
function createSearch(ctl: WorklistControl, table: () => StudyTable, cancelDebounce: () => void): HTMLInputElement {
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
  search.addEventListener('input', () => ctl.debounced(() => search.value !== ctl.state().q && ctl.update({ q: search.value })));
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      cancelDebounce();
      if (search.value !== ctl.state().q) ctl.update({ q: search.value });
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      table().focusRow(0);
    }
  });
  return search;
}

/** The "/" shortcut: focuses the search box unless the user is typing in a field. */
function slashToSearch(search: HTMLInputElement): (e: KeyboardEvent) => void {
  return (e) => {
    const t = e.target as Element | null;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      search.focus();
      search.select();
    }
  };
}

/** The parts of the page that show a list or an error. */
interface ListView {
  table: StudyTable;
  pager: WorklistPager;
  summary: HTMLElement;
  updated: HTMLElement;
}

function stampUpdated(updated: HTMLElement): void {
  updated.classList.remove('error');
  updated.textContent = `Updated ${new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
}

/** A list answered; clearFilters: filters are set (an empty list then offers to clear them). */
function showList(v: ListView, data: StudyList, clearFilters: (() => void) | null): void {
  if (data.data.length > 0) v.table.showStudies(data.data);
  else if (clearFilters) {
    v.table.showState(
      h('strong', { text: 'No studies match the current filters.' }),
      ' ',
      h('button', { class: 'btn btn-link', attrs: { type: 'button' }, text: 'Clear filters', on: { click: clearFilters } }),
    );
  } else v.table.showState(h('strong', { text: 'No studies yet.' }), ' Send images to Orthanc (DICOM C-STORE) or upload them; they will appear here.');
  v.summary.textContent = `${data.total} ${data.total === 1 ? 'study' : 'studies'}`;
  v.pager.showList(data);
}

/** A load failed: a note beside the list still shown (background refresh), else the error with Retry. */
function showError(v: ListView, err: unknown, listShown: boolean, retry: () => void): void {
  if (listShown) {
    v.updated.textContent = `Refresh failed: ${messageOf(err)}`;
    v.updated.classList.add('error');
    return;
  }
  v.table.showState(errorAlert(document, `Could not load studies${statusNote(err)}`, err), retryButton(document, retry));
  v.summary.textContent = '';
  v.pager.showNone();
}

// Composition of the page (~85 lines, kept whole: it only wires the pieces together, one closure over the
// state keeps the pieces' callbacks simple); the pieces themselves live in the worklist-* modules.
export function mountWorklist(opts: WorklistOptions): Page {
  const doc = document;
  const canOpen = opts.openStudies !== false;
  const showAi = opts.showAi === true;
  const showReport = opts.showReport === true;
  const columns = columnsFor(showAi, showReport);
  const initial = parseState(opts.query);
  // a bookmark with AI filters opened by a role without AI columns: no invisible filter
  const ctl = createControl({ ...(showAi ? initial : { ...initial, ai: [], review: [] }), ...(showReport ? {} : { report: '' as const }) }, opts.debounceMs ?? 300, {
    changed() {
      filters.refresh();
      table.renderHead();
      void loader.load(false);
    },
    reset: () => syncControls(),
  });
  let destroyed = false;

  const search = createSearch(ctl, () => table, () => ctl.cancelDebounce());
  const summary = h('span', { class: 'summary', attrs: { 'aria-live': 'polite' } });
  const updated = h('span', { class: 'updated' });
  const refreshBtn = h('button', { class: 'btn', attrs: { type: 'button', title: 'Refresh now' }, text: 'Refresh', on: { click: () => void loader.load(false) } });
  const filters = createFilters(ctl, showAi, showReport);
  const table = createStudyTable({
    ctl,
    columns,
    withAi: showAi,
    ...(canOpen ? { open: (uid: string) => opts.navigate(studyHash(uid)) } : {}),
    leaveTop: () => search.focus(),
  });
  const pager = createPager(ctl);
  const view: ListView = { table, pager, summary, updated };
  const progress = h('div', { class: 'progress', attrs: { hidden: true } });
  const el = h(
    'div',
    { class: `page worklist-page${canOpen ? '' : ' no-open'}` },
    h('header', { class: 'topbar' }, search, h('div', { class: 'topbar-right' }, summary, updated, refreshBtn)),
    filters.el,
    progress,
    table.el,
    pager.el,
  );

  function syncControls(): void {
    search.value = ctl.state().q;
    pager.sync();
    filters.sync();
    table.renderHead();
  }

  const loader = new WorklistLoader(
    {
      fetch: (signal) => opts.api.listStudies(toApiQuery(ctl.state()), signal),
      busy(on, shown) {
        progress.hidden = !on;
        el.classList.toggle('busy', on);
        if (on && !shown) table.showState(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading studies…');
      },
      pastEnd: (data) => data.data.length === 0 && data.total > 0 && ctl.state().page > 1,
      gotoPage: (data) => ctl.update({ page: Math.max(1, Math.ceil(data.total / ctl.state().pageSize)) }, false),
      answered: () => stampUpdated(view.updated),
      changed: (data) => showList(view, data, hasFilters(ctl.state()) ? () => ctl.clearFilters() : null),
      failed: (err, shown) => showError(view, err, shown, () => void loader.load(false)),
    },
    opts.refreshMs ?? 10_000,
    doc,
  );

  const onGlobalKey = slashToSearch(search);
  doc.addEventListener('keydown', onGlobalKey);
  syncControls();
  rememberWorklistHash(worklistHash(ctl.state()));
  rememberStudyBack(null); // a study opened from here goes back here
  document.title = 'Worklist · Reading Room';
  void loader.load(false);
  queueMicrotask(() => {
    if (!destroyed && !ctl.state().q && doc.activeElement === doc.body) search.focus({ preventScroll: true });
  });

  return {
    el,
    destroy(): void {
      destroyed = true;
      loader.destroy();
      ctl.cancelDebounce();
      doc.removeEventListener('keydown', onGlobalKey);
    },
  };
}
