// Hash router: "#/" (worklist, optional "?query"), "#/studies/<StudyInstanceUID>", "#/upload", "#/users",
// "#/audit" (optional "?query"), "#/system", "#/templates".

export type Route =
  | { name: 'worklist'; query: string }
  | { name: 'study'; uid: string }
  | { name: 'upload' }
  | { name: 'users' }
  | { name: 'audit'; query: string }
  | { name: 'system' }
  | { name: 'templates' }
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

/** Remembers the worklist hash (filters, page) so that "back to worklist" restores it. */
export function rememberWorklistHash(hash: string): void {
  lastWorklist = hash;
}

export function lastWorklistHash(): string {
  return lastWorklist;
}

/** Forgets navigation state (logout). */
export function resetNavigation(): void {
  lastWorklist = '#/';
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
