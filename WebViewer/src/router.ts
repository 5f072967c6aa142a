// Hash router: "#/" (worklist, optional "?query"), "#/studies/<StudyInstanceUID>", "#/upload", "#/users",
// "#/audit" (optional "?query"), "#/system", "#/templates", "#/reports" (optional "?query"), "#/reports/<reportId>".

export type Route =
  | { name: 'worklist'; query: string }
  | { name: 'study'; uid: string }
  | { name: 'upload' }
  | { name: 'users' }
  | { name: 'audit'; query: string }
  | { name: 'system' }
  | { name: 'templates' }
  | { name: 'reports'; query: string }
  | { name: 'reportView'; id: string }
  | { name: 'notFound'; path: string };

export function parseHash(hash: string): Route {
  const raw = hash.startsWith('#') ? hash.slice(1) : hash;
  const q = raw.indexOf('?');
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = q >= 0 ? raw.slice(q + 1) : '';
  if (path === '' || path === '/') return { name: 'worklist', query };
  const page = path.replace(/\/+$/, '');
  if (page === '/upload') return { name: 'upload' };
  if (page === '/users') return { name: 'users' };
  if (page === '/audit') return { name: 'audit', query };
  if (page === '/system') return { name: 'system' };
  if (page === '/templates') return { name: 'templates' };
  if (page === '/reports') return { name: 'reports', query };
  const r = /^\/reports\/(\d{1,19})$/.exec(page);
  if (r?.[1]) return { name: 'reportView', id: r[1] };
  const m = /^\/studies\/([^/]+)\/?$/.exec(path);
  if (m?.[1]) {
    try {
      return { name: 'study', uid: decodeURIComponent(m[1]) };
    } catch {
      return { name: 'notFound', path };
    }
  }
  return { name: 'notFound', path };
}

export function studyHash(uid: string): string {
  return `#/studies/${encodeURIComponent(uid)}`;
}

/** A mounted page: its root element and a cleanup function (timers, requests). */
export interface Page {
  el: HTMLElement;
  destroy(): void;
}

let lastWorklist = '#/';
let lastReports = '#/reports';

/** Remembers the worklist hash (filters, page) so that "back to worklist" restores it. */
export function rememberWorklistHash(hash: string): void {
  lastWorklist = hash;
}

export function lastWorklistHash(): string {
  return lastWorklist;
}

/** Remembers the reports list hash (search, page) so that "back to reports" restores it. */
export function rememberReportsHash(hash: string): void {
  lastReports = hash;
}

export function lastReportsHash(): string {
  return lastReports;
}

/** Where the study page's back link goes when the study was opened from a report page or the reports list. */
export interface BackLink {
  href: string;
  /** "Worklist", "Reports", "Report": the link reads "← Worklist", "Back to worklist". */
  label: string;
}

let studyBack: BackLink | null = null;

/** The page that opens a study sets where "back" goes (null: the worklist). */
export function rememberStudyBack(back: BackLink | null): void {
  studyBack = back;
}

/** The study page's back link: the page the study was opened from, else the worklist. */
export function studyBackLink(): BackLink {
  return studyBack ?? { href: lastWorklist, label: 'Worklist' };
}

export function reportHash(reportId: string): string {
  return `#/reports/${encodeURIComponent(reportId)}`;
}

/** Forgets navigation state (logout). */
export function resetNavigation(): void {
  lastWorklist = '#/';
  lastReports = '#/reports';
  studyBack = null;
}

/** Replaces the current hash without adding a history entry nor firing hashchange. */
export function replaceHash(hash: string): void {
  const url = `${location.pathname}${location.search}${hash}`;
  history.replaceState(history.state, '', url);
}

export function startRouter(root: HTMLElement, mount: (route: Route) => Page): () => void {
  let current: Page | null = null;
  const render = (): void => {
    current?.destroy();
    const route = parseHash(location.hash);
    current = mount(route);
    root.replaceChildren(current.el);
  };
  window.addEventListener('hashchange', render);
  render();
  return () => {
    window.removeEventListener('hashchange', render);
    current?.destroy();
  };
}
