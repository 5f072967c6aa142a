// Application bar (brand, navigation of the role, user, change password, log out) around the routed page.
import { hIn } from './dom';
import { navFor, roleLabel, showsExplorer, type Section } from './roles';
import type { User } from './session';

export interface ShellOptions {
  /** The logged-in user; null on a server without access control. */
  user: User | null;
  /** The role deciding the navigation ("open" without access control). */
  role: string;
  /** URL of Orthanc Explorer (shown to admins). */
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
  const links = navFor(opts.role).map((item) =>
    hIn(doc, 'a', { class: 'nav-link', attrs: { href: item.href, 'data-nav': item.id }, text: item.label }),
  );
  const right = hIn(doc, 'div', { class: 'appbar-right' });
  if (showsExplorer(opts.role)) {
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
      hIn(doc, 'a', { class: 'brand', attrs: { href: '#/' } }, hIn(doc, 'span', { class: 'brand-mark', attrs: { 'aria-hidden': 'true' } }), 'Reading Room'),
      links.length > 1 ? hIn(doc, 'nav', { class: 'nav', attrs: { 'aria-label': 'Main' } }, ...links) : null,
      right,
    ),
    outlet,
  );
  return {
    el,
    outlet,
    setActive(section: Section | null): void {
      const current = section === 'study' ? 'worklist' : section;
      for (const link of links) {
        if (link.dataset.nav === current) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
  };
}
