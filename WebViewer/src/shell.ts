// Application bar (brand, navigation of what the user may use, user, change password, log out) around the
// routed page.
import { homeHashOf, type Capability, type Section } from './capabilities';
import { hIn } from './dom';
import { roleLabel } from './roles';
import type { User } from './session';

export interface ShellOptions {
  /** The logged-in user; null on a server without access control. */
  user: User | null;
  /** What the user may use (capabilities.ts): the navigation entries and the Orthanc Explorer link. */
  capabilities: readonly Capability[];
  /** URL of Orthanc Explorer (shown with the "explorer" capability). */
  explorerHref: string;
  onChangePassword(): void;
  onLogout(): void;
}

export interface Shell {
  el: HTMLElement;
  /** Where the routed page is mounted. */
  outlet: HTMLElement;
  /** Marks the navigation entry of the current section. */
  setActive(section: Section | null): void;
}

export interface NavItem {
  id: Section;
  label: string;
  href: string;
}

const NAV: readonly NavItem[] = [
  { id: 'worklist', label: 'Worklist', href: '#/' },
  { id: 'reports', label: 'Reports', href: '#/reports' },
  { id: 'upload', label: 'Upload', href: '#/upload' },
  { id: 'users', label: 'Users', href: '#/users' },
  { id: 'templates', label: 'Templates', href: '#/templates' },
  { id: 'audit', label: 'Audit', href: '#/audit' },
  { id: 'system', label: 'System', href: '#/system' },
];

/**
 * Main navigation of what the user may use (the study page has no entry of its own). The reports list is the
 * home of those who read reports without writing them (referring physicians): they get it instead of the
 * worklist ("#/" takes them there). Those who write reports work from the worklist (its Report column and
 * filter); "#/reports" stays open to them by link.
 */
export function navFor(capabilities: readonly Capability[]): NavItem[] {
  const reportsHome = homeHashOf(capabilities) === '#/reports';
  return NAV.filter((item) => capabilities.includes(item.id) && (item.id === 'worklist' ? !reportsHome : item.id === 'reports' ? reportsHome : true));
}

/** The user's name for display: display name, else username. */
export function displayName(user: User): string {
  return user.displayName.trim() || user.username;
}

export function renderUserArea(doc: Document, user: User, opts: Pick<ShellOptions, 'onChangePassword' | 'onLogout'>): HTMLElement {
  return hIn(
    doc,
    'div',
    { class: 'user-area' },
    hIn(
      doc,
      'span',
      { class: 'user', attrs: { title: user.username } },
      hIn(doc, 'span', { class: 'user-name', text: displayName(user) }),
      hIn(doc, 'span', { class: 'role-badge', attrs: { 'data-role': user.role }, text: roleLabel(user.role) }),
    ),
    hIn(doc, 'button', {
      class: 'btn btn-ghost',
      attrs: { type: 'button', 'data-action': 'change-password' },
      text: 'Change password',
      on: { click: () => opts.onChangePassword() },
    }),
    hIn(doc, 'button', {
      class: 'btn btn-ghost',
      attrs: { type: 'button', 'data-action': 'logout' },
      text: 'Log out',
      on: { click: () => opts.onLogout() },
    }),
  );
}

export function createShell(doc: Document, opts: ShellOptions): Shell {
  const links = navFor(opts.capabilities).map((item) =>
    hIn(doc, 'a', { class: 'nav-link', attrs: { href: item.href, 'data-nav': item.id }, text: item.label }),
  );
  const right = hIn(doc, 'div', { class: 'appbar-right' });
  if (opts.capabilities.includes('explorer')) {
    right.appendChild(
      hIn(doc, 'a', {
        class: 'nav-link external',
        attrs: { href: opts.explorerHref, target: '_blank', rel: 'noopener noreferrer', 'data-nav': 'explorer' },
        text: 'Orthanc Explorer ↗',
      }),
    );
  }
  if (opts.user) right.appendChild(renderUserArea(doc, opts.user, opts));

  const outlet = hIn(doc, 'div', { class: 'outlet' });
  const el = hIn(
    doc,
    'div',
    { class: 'shell' },
    hIn(
      doc,
      'header',
      { class: 'appbar' },
      hIn(doc, 'a', { class: 'brand', attrs: { href: homeHashOf(opts.capabilities) } }, hIn(doc, 'span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' } }), 'Reading Room'),
      links.length > 1 ? hIn(doc, 'nav', { class: 'nav', attrs: { 'aria-label': 'Main' } }, ...links) : null,
      right,
    ),
    outlet,
  );
  return {
    el,
    outlet,
    setActive(section: Section | null): void {
      const current = section === 'study' ? (homeHashOf(opts.capabilities) === '#/reports' ? 'reports' : 'worklist') : section;
      for (const link of links) {
        if (link.dataset.nav === current) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
  };
}
