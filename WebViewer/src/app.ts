// The application: session state -> login page, or the shell with the pages the user may use (the
// capabilities the server lists, capabilities.ts).
import { orthancRoot, type Api } from './api';
import { mountAudit } from './audit';
import { OPEN_CAPABILITIES, OPEN_MODE, homeHashOf, type Capability, type Section } from './capabilities';
import { h } from './dom';
import { IdleGuard } from './idle';
import { mountLogin } from './login';
import { mountReportsHome } from './physician-home';
import { mountReportPage } from './physician-report';
import { openChangePasswordDialog } from './password';
import { rememberStudyBack, replaceHash, resetNavigation, startRouter, type Page, type Route } from './router';
import type { Session, SessionState, User } from './session';
import { createShell, type Shell } from './shell';
import { mountStudy } from './study';
import { viewerMode } from './viewer-mode';
import { mountSystem } from './system';
import { mountTemplates } from './templates';
import { mountUpload } from './upload';
import { UploadQueue, xhrSender } from './upload-queue';
import { mountUsers } from './users';
import { mountWorklist } from './worklist';
import { errorAlert, retryButton } from './failure';

export interface AppOptions {
  api: Api;
  session: Session;
  /** Orthanc's root ("/"): /instances for uploads, /app/explorer.html. */
  orthancRoot?: string;
  /** Creates the upload queue of a session (tests replace the sender). */
  uploadQueue?(): UploadQueue;
}

function sectionOf(route: Route): Section | null {
  if (route.name === 'reportView') return 'reports';
  return route.name === 'notFound' ? null : route.name;
}

/** "#/" of a role whose home is the reports list (referring physicians) is that list (capabilities.ts). */
function homeRoute(route: Route, capabilities: readonly Capability[]): Route {
  if (route.name !== 'worklist' || homeHashOf(capabilities) === '#/') return route;
  replaceHash('#/reports');
  return { name: 'reports', query: '' };
}

function statePage(...children: (Node | string)[]): Page {
  return { el: h('div', { class: 'page' }, h('div', { class: 'state' }, ...children)), destroy: () => undefined };
}

function notFound(path: string): Page {
  return statePage(h('strong', { text: 'Page not found: ' }), h('code', { text: path }), ' ', h('a', { class: 'btn', attrs: { href: '#/' }, text: 'Worklist' }));
}

function notAllowed(): Page {
  return statePage(h('strong', { text: 'This page is not available for your role.' }), ' ', h('a', { class: 'btn', attrs: { href: '#/' }, text: 'Worklist' }));
}

/** Removes dialogs left open (a session that ends while one is shown). */
function closeDialogs(doc: Document): void {
  for (const d of Array.from(doc.querySelectorAll('dialog.dialog'))) d.remove();
}

interface RouteContext {
  api: Api;
  capabilities: readonly Capability[];
  user: User | null;
  uploadQueue(): UploadQueue;
}

/** The page of a route, or "not available" when its section is not among the user's capabilities. */
function routePage(route: Route, ctx: RouteContext): Page {
  const { api } = ctx;
  const can = (c: Capability): boolean => ctx.capabilities.includes(c);
  const section = sectionOf(route);
  if (section && !can(section)) return notAllowed();
  switch (route.name) {
    case 'worklist':
      return mountWorklist({ api, query: route.query, navigate: (hash) => (location.hash = hash), openStudies: can('study'), showAi: can('ai'), showReport: can('report') });
    case 'study':
      return mountStudy({ api, uid: route.uid, ai: can('ai'), viewer: can('study'), annotate: viewerMode(ctx.capabilities).canAnnotate, report: can('report'), user: ctx.user?.username ?? null });
    case 'upload':
      return mountUpload({ queue: ctx.uploadQueue() });
    case 'users':
      return mountUsers({ api, self: ctx.user?.username ?? '' });
    case 'audit':
      return mountAudit({ api, query: route.query });
    case 'system':
      return mountSystem({ api, turnaround: can('reports') });
    case 'reports':
      return mountReportsHome({ api, query: route.query, navigate: (hash) => (location.hash = hash) });
    case 'reportView':
      return mountReportPage({ api, reportId: route.id, username: ctx.user?.username ?? '', viewImages: can('study') });
    case 'templates':
      return mountTemplates({ api });
    case 'notFound':
      return notFound(route.path);
  }
}

/** The page shown when the server cannot be reached, with Retry. */
function errorPage(message: string, retry: () => void): Page {
  return statePage(errorAlert(document, 'Cannot reach the Reading Room', message), retryButton(document, retry));
}

/** The upload queue of the user logged in (uploads go on across pages): a new one when the user changes. */
class QueueKeeper {
  private queue: UploadQueue | null = null;
  private owner = '';
  private readonly create: () => UploadQueue;

  constructor(create: () => UploadQueue) {
    this.create = create;
  }

  of(user: User | null): UploadQueue {
    const owner = user?.username ?? OPEN_MODE;
    if (!this.queue || this.owner !== owner) {
      this.queue?.cancel();
      this.queue = this.create();
      this.owner = owner;
    }
    return this.queue;
  }

  /** Cancels the queue's uploads and forgets it (logout, app stopped). */
  drop(): void {
    this.queue?.cancel();
    this.queue = null;
    this.owner = '';
  }
}

/** The app bar of a session: navigation, Orthanc Explorer link, change password, log out. */
function shellOf(doc: Document, session: Session, user: User | null, capabilities: readonly Capability[], explorerHref: string): Shell {
  const s = createShell(doc, {
    user,
    capabilities,
    explorerHref,
    onChangePassword: () => {
      if (!user) return;
      openChangePasswordDialog(doc, {
        username: user.username,
        change: (current, next) => session.changePassword(current, next),
        done: () => flash(s, 'Password changed.'),
      });
    },
    onLogout: () => void session.logout(),
  });
  return s;
}

// The app's session state machine (boot, error, login page, shell, logout) keeps the shell, router, upload
// queue and page of one session in this closure; pages are routePage, the app bar shellOf.
export function startApp(root: HTMLElement, opts: AppOptions): () => void {
  const { api, session } = opts;
  const doc = root.ownerDocument;
  const base = opts.orthancRoot ?? orthancRoot(doc);
  const newQueue =
    opts.uploadQueue ??
    ((): UploadQueue => new UploadQueue(xhrSender(`${base}instances`, () => session.csrfToken()), { onEmpty403: () => session.confirmEnded() }));

  let page: Page | null = null; // login / boot pages
  let stopRouter: (() => void) | null = null;
  let shell: Shell | null = null;
  /** Who the shell was built for ("open" or "username role"). */
  let shellKey = '';
  // an upload the user started keeps the session while it runs (automatic log-off: it is the user's work,
  // not background polling); the session refreshes at most once per activity interval
  const queues = new QueueKeeper(() => {
    const q = newQueue();
    q.subscribe(() => session.activity());
    return q;
  });

  const unmountAll = (): void => {
    stopRouter?.();
    stopRouter = null;
    shell = null;
    shellKey = '';
    page?.destroy();
    page = null;
    closeDialogs(doc);
  };

  const show = (p: Page): void => {
    unmountAll();
    page = p;
    root.replaceChildren(p.el);
  };

  const mountRoute = (asked: Route, capabilities: readonly Capability[], user: User | null): Page => {
    const route = homeRoute(asked, capabilities);
    shell?.setActive(sectionOf(route));
    return routePage(route, { api, capabilities, user, uploadQueue: () => queues.of(user) });
  };

  const showApp = (user: User | null, capabilities: readonly Capability[]): void => {
    const key = user ? `${user.username}\n${user.role}\n${user.displayName}\n${capabilities.join(',')}` : OPEN_MODE;
    if (shell && key === shellKey) return; // a refresh of the same session
    unmountAll();
    shellKey = key;
    const s = shellOf(doc, session, user, capabilities, `${base}app/explorer.html`);
    shell = s;
    // a study page opened without going through a report goes back to the home of a reports-home role
    if (homeHashOf(capabilities) === '#/reports') rememberStudyBack({ href: '#/reports', label: 'Reports' });
    root.replaceChildren(s.el);
    stopRouter = startRouter(s.outlet, (route) => mountRoute(route, capabilities, user));
  };

  const render = (state: SessionState): void => {
    switch (state.status) {
      case 'unknown':
        if (!shell) show(statePage(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading…'));
        return;
      case 'error':
        show(errorPage(state.message, () => void session.init()));
        return;
      case 'anonymous':
        if (state.reason === 'logout') {
          // explicit logout: forget everything of the previous user, including the route
          queues.drop();
          resetNavigation();
          if (location.hash && location.hash !== '#/') replaceHash('#/');
        }
        show(mountLogin({ reason: state.reason, login: (u, p) => session.login(u, p) }));
        return;
      case 'authenticated':
        showApp(state.user, state.capabilities);
        return;
      case 'open':
        showApp(null, OPEN_CAPABILITIES);
        return;
    }
  };

  const unsubscribe = session.subscribe(render);
  const idle = new IdleGuard(session, doc); // automatic log-off (idle.ts)
  render(session.state);
  if (session.state.status === 'unknown') void session.init();
  return () => {
    unsubscribe();
    idle.destroy();
    unmountAll();
    queues.drop();
  };
}

/** A short confirmation under the app bar. */
function flash(shell: Shell, text: string): void {
  const note = h('div', { class: 'flash', attrs: { role: 'status', 'data-kind': 'ok' }, text });
  shell.el.insertBefore(note, shell.outlet);
  setTimeout(() => note.remove(), 4000);
}
