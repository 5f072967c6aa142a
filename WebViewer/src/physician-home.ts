// The physicians' home (route "#/reports", issue 12 "Referring physicians"): the finalized reports the caller
// may see (GET {api}reports; the server keeps drafts and preliminary reports away from physicians), critical
// results not yet acknowledged by the caller on top and flagged, then newest first; searchable by patient
// (name or ID, debounced), paged. A row opens the report ("#/reports/{id}"). Every string is shown as text.
import type { Api } from './api';
import { h, type Child } from './dom';
import { errorAlert, retryButton, statusNote } from './failure';
import { formatDate, formatInstant, formatPersonName } from './format';
import { listReports } from './physician-api';
import { HOME_PAGE_SIZE, homeHash, homeQuery, imagingFirst, needsAcknowledgement, orderRows, parseHomeState, stateLabel, type HomeState, type ReportList, type ReportRow } from './physician-wire';
import { rememberReportsHash, replaceHash, reportHash, type Page } from './router';
import { criticalFlag } from './worklist-report';

export interface ReportsHomeOptions {
  api: Api;
  /** Query part of the hash ("q=..&page=2"). */
  query: string;
  navigate(hash: string): void;
  debounceMs?: number;
  /** Background refresh (critical results arrive while the page is open); default 30 s. */
  refreshMs?: number;
}

const COLUMNS = ['Patient', 'Patient ID', 'Birth date', 'Study date', 'Description', 'Mod.', 'State', 'Signed by', 'Signed'] as const;

/** One report row; every value through textContent. */
export function renderReportRow(doc: Document, row: ReportRow): HTMLTableRowElement {
  const flagged = needsAcknowledgement(row);
  const name = formatPersonName(row.patientName) || 'Unnamed patient';
  const cell = (cls: string, ...children: Child[]): HTMLTableCellElement => {
    const td = doc.createElement('td');
    td.className = cls;
    for (const c of children) if (c !== null && c !== undefined && c !== false) td.append(typeof c === 'object' ? c : String(c));
    const text = td.textContent ?? '';
    if (text) td.title = text;
    return td;
  };
  const link = doc.createElement('a');
  link.className = 'report-link';
  link.href = reportHash(row.reportId);
  link.textContent = name;
  const mods = doc.createDocumentFragment();
  for (const m of imagingFirst(row.modalities)) {
    const s = doc.createElement('span');
    s.className = 'mod';
    s.setAttribute('data-mod', m);
    s.textContent = m;
    mods.append(s);
  }
  const state = doc.createElement('span');
  state.className = 'report-badge';
  state.setAttribute('data-report', row.state);
  state.textContent = stateLabel(row.state);
  const tr = doc.createElement('tr');
  tr.className = `report-row${flagged ? ' critical' : ''}`;
  tr.setAttribute('data-report-id', row.reportId);
  tr.setAttribute('data-critical', flagged ? 'true' : 'false');
  tr.append(
    cell('c-flag', flagged ? criticalFlag(doc) : row.critical ? ackNote(doc) : null),
    cell('c-patient', link),
    cell('c-pid', row.patientId),
    cell('c-birth', formatDate(row.patientBirthDate)),
    cell('c-date', formatDate(row.studyDate)),
    cell('c-desc', row.studyDescription),
    cell('c-mod', mods),
    cell('c-state', state),
    cell('c-signer', row.signedByName || row.signedBy),
    cell('c-signed', formatInstant(row.signedAt)),
  );
  return tr;
}

/** A critical result already acknowledged: a quiet mark. */
function ackNote(doc: Document): HTMLElement {
  const s = doc.createElement('span');
  s.className = 'critical-acked';
  s.title = 'Critical result, acknowledged';
  s.textContent = 'Critical ✓';
  return s;
}

function rangeText(list: ReportList, state: HomeState, pageSize: number): string {
  if (list.total === 0 || list.data.length === 0) return `0 of ${list.total}`;
  const from = (state.page - 1) * pageSize + 1;
  return `${from}–${from + list.data.length - 1} of ${list.total}`;
}

// The page: state (search, page) in the hash, one request at a time (a newer one aborts the older), a quiet
// refresh every refreshMs while the tab is visible. ~90 lines kept whole: it only wires the pieces together.
export function mountReportsHome(opts: ReportsHomeOptions): Page {
  let state = parseHomeState(opts.query);
  let ctrl: AbortController | null = null;
  let debounce: number | undefined;
  let shown = false;
  /** The answer shown (a refresh with the same answer leaves the rows, the focus and the scroll alone). */
  let signature = '';
  const search = h('input', {
    class: 'search',
    attrs: { type: 'search', placeholder: 'Search patient name or ID…', 'aria-label': 'Search reports by patient', autocomplete: 'off', spellcheck: 'false' },
  });
  search.value = state.q;
  const summary = h('span', { class: 'summary', attrs: { 'aria-live': 'polite' } });
  const refreshBtn = h('button', { class: 'btn', attrs: { type: 'button' }, text: 'Refresh', on: { click: () => void load(false) } });
  const head = h('tr', {}, h('th', { class: 'c-flag', attrs: { scope: 'col', 'aria-label': 'Critical' } }), ...COLUMNS.map((c) => h('th', { attrs: { scope: 'col' }, text: c })));
  const body = h('tbody');
  const range = h('span', { class: 'range' });
  const prev = h('button', { class: 'btn', attrs: { type: 'button', 'aria-label': 'Previous page' }, text: '‹ Prev', on: { click: () => go({ page: state.page - 1 }) } });
  const next = h('button', { class: 'btn', attrs: { type: 'button', 'aria-label': 'Next page' }, text: 'Next ›', on: { click: () => go({ page: state.page + 1 }) } });
  const el = h(
    'div',
    { class: 'page reports-page' },
    h('header', { class: 'topbar' }, h('h1', { class: 'page-title', text: 'Reports' }), search, h('div', { class: 'topbar-right' }, summary, refreshBtn)),
    h('div', { class: 'table-scroll' }, h('table', { class: 'reports' }, h('thead', {}, head), body)),
    h('footer', { class: 'pager' }, range, prev, next),
  );

  const showState = (...children: Child[]): void => {
    body.replaceChildren(h('tr', { class: 'state-row' }, h('td', { attrs: { colspan: COLUMNS.length + 1 } }, h('div', { class: 'state' }, ...children))));
  };
  const show = (list: ReportList): void => {
    const sig = JSON.stringify([state, list]);
    if (shown && sig === signature) return;
    signature = sig;
    shown = true;
    if (list.data.length) body.replaceChildren(...orderRows(list.data).map((r) => renderReportRow(document, r)));
    else if (state.q.trim()) showState(h('strong', { text: 'No finalized reports match ' }), h('q', { text: state.q.trim() }), '.');
    else showState(h('strong', { text: 'No finalized reports yet.' }), ' Reports appear here once a radiologist has signed them.');
    const critical = list.data.filter(needsAcknowledgement).length;
    summary.textContent = `${list.total} ${list.total === 1 ? 'report' : 'reports'}${critical ? ` · ${critical} critical to acknowledge` : ''}`;
    range.textContent = rangeText(list, state, HOME_PAGE_SIZE);
    prev.disabled = state.page <= 1;
    next.disabled = (state.page - 1) * HOME_PAGE_SIZE + list.data.length >= list.total;
  };
  async function load(silent: boolean): Promise<void> {
    if (silent && ctrl) return;
    ctrl?.abort();
    const c = new AbortController();
    ctrl = c;
    if (!silent && !shown) showState(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading reports…');
    el.classList.add('busy');
    try {
      const list = await listReports(opts.api, homeQuery(state), c.signal);
      if (c.signal.aborted) return;
      if (list.data.length === 0 && list.total > 0 && state.page > 1) return go({ page: Math.ceil(list.total / HOME_PAGE_SIZE) });
      show(list);
    } catch (err) {
      if (c.signal.aborted) return;
      if (!silent || !shown) {
        shown = false;
        signature = '';
        showState(errorAlert(document, `Could not load the reports${statusNote(err)}`, err), retryButton(document, () => void load(false)));
      }
    } finally {
      if (ctrl === c) ctrl = null;
      el.classList.remove('busy');
    }
  }
  function go(patch: Partial<HomeState>): void {
    state = { ...state, ...patch };
    if (state.page < 1) state.page = 1;
    const hash = homeHash(state);
    rememberReportsHash(hash);
    replaceHash(hash);
    void load(false);
  }

  search.addEventListener('input', () => {
    window.clearTimeout(debounce);
    debounce = window.setTimeout(() => search.value !== state.q && go({ q: search.value, page: 1 }), opts.debounceMs ?? 300);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    window.clearTimeout(debounce);
    if (search.value !== state.q) go({ q: search.value, page: 1 });
  });
  body.addEventListener('click', (e) => {
    const t = e.target as Element;
    if (t.closest('a')) return; // the link navigates itself
    const id = t.closest('tr.report-row')?.getAttribute('data-report-id');
    if (id) opts.navigate(reportHash(id));
  });
  const timer = window.setInterval(() => {
    if (!document.hidden) void load(true);
  }, opts.refreshMs ?? 30_000);

  rememberReportsHash(homeHash(state));
  document.title = 'Reports · Reading Room';
  void load(false);
  queueMicrotask(() => {
    if (document.activeElement === document.body) search.focus({ preventScroll: true });
  });
  return {
    el,
    destroy(): void {
      window.clearInterval(timer);
      window.clearTimeout(debounce);
      ctrl?.abort();
    },
  };
}
