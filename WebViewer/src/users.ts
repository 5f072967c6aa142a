// Users page (route "#/users", admins): list, create, enable/disable, change role, reset password.
import type { Api } from './api';
import { createUser, listUsers, resetUserPassword, updateUser, type NewUser, type UserPatch, type UserRecord } from './admin-api';
import { labelled, openFormDialog, passwordInput } from './dialog';
import { h, hIn } from './dom';
import { formatInstant } from './format';
import { openResetPasswordDialog } from './password';
import { ROLES, roleLabel } from './roles';
import type { Page } from './router';
import { errorAlert, messageOf, retryButton, statusNote } from './failure';

export interface UserRowActions {
  /** The row is the logged-in admin: role and enabled state cannot be changed here. */
  self: boolean;
  now?: number;
  onRole(role: string, select: HTMLSelectElement): void;
  onToggleEnabled(): void;
  onResetPassword(): void;
}

/** Role options: the known roles, plus the user's own when the server sent an unknown one. */
export function roleSelect(doc: Document, current: string, label: string): HTMLSelectElement {
  const select = hIn(doc, 'select', { class: 'filter-input role-select', attrs: { 'aria-label': label } });
  const roles: string[] = [...ROLES];
  if (current && !roles.includes(current)) roles.push(current);
  for (const role of roles) select.appendChild(hIn(doc, 'option', { attrs: { value: role }, text: roleLabel(role) }));
  select.value = current;
  return select;
}

function statusOf(user: UserRecord, now: number): { status: string; text: string } {
  if (!user.enabled) return { status: 'disabled', text: 'Disabled' };
  const locked = user.lockedUntil ? Date.parse(user.lockedUntil) : NaN;
  if (!Number.isNaN(locked) && locked > now) return { status: 'locked', text: `Locked until ${formatInstant(user.lockedUntil)}` };
  return { status: 'enabled', text: 'Enabled' };
}

/** One user row; every string through textContent / setAttribute. */
export function renderUserRow(doc: Document, user: UserRecord, actions: UserRowActions): HTMLTableRowElement {
  const { status, text } = statusOf(user, actions.now ?? Date.now());
  const select = roleSelect(doc, user.role, `Role of ${user.username}`);
  select.disabled = actions.self;
  if (actions.self) select.title = 'You cannot change your own role.';
  select.addEventListener('change', () => actions.onRole(select.value, select));
  const toggle = hIn(doc, 'button', {
    class: 'btn',
    attrs: {
      type: 'button',
      'data-action': 'toggle-enabled',
      disabled: actions.self,
      title: actions.self ? 'You cannot disable your own account.' : null,
    },
    text: user.enabled ? 'Disable' : 'Enable',
    on: { click: () => actions.onToggleEnabled() },
  });
  const reset = hIn(doc, 'button', {
    class: 'btn',
    attrs: {
      type: 'button',
      'data-action': 'reset-password',
      disabled: actions.self,
      title: actions.self ? 'Use "Change password" for your own account.' : null,
    },
    text: 'Reset password',
    on: { click: () => actions.onResetPassword() },
  });
  const td = (cls: string, ...children: (Node | string)[]): HTMLTableCellElement => hIn(doc, 'td', { class: cls }, ...children);
  return hIn(
    doc,
    'tr',
    { class: `user-row${user.enabled ? '' : ' is-disabled'}`, attrs: { 'data-username': user.username } },
    td('c-username', hIn(doc, 'span', { class: 'mono', attrs: { title: user.username }, text: user.username }), actions.self ? hIn(doc, 'span', { class: 'you', text: 'you' }) : ''),
    hIn(doc, 'td', { class: 'c-display', attrs: { title: user.displayName || null }, text: user.displayName }),
    td('c-role', select),
    td('c-status', hIn(doc, 'span', { class: 'status-badge', attrs: { 'data-status': status }, text })),
    td('c-lastLogin', user.lastLoginAt ? formatInstant(user.lastLoginAt) : 'Never'),
    td('c-created', formatInstant(user.createdAt)),
    td('c-actions', hIn(doc, 'div', { class: 'row-actions' }, toggle, reset)),
  );
}

export interface UsersOptions {
  api: Api;
  /** Username of the logged-in admin. */
  self: string;
}

/** The "New user" dialog; `create` sends the user (its failure is shown in the dialog). */
function openCreateUserDialog(doc: Document, create: (user: NewUser) => Promise<void>): void {
  const username = h('input', {
    class: 'text-input',
    attrs: { type: 'text', name: 'new-username', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', required: true, maxlength: 64 },
  });
  const name = h('input', { class: 'text-input', attrs: { type: 'text', name: 'displayName', autocomplete: 'off', maxlength: 128 } });
  const role = h('select', { class: 'text-input', attrs: { name: 'role', required: true } }, h('option', { attrs: { value: '' }, text: 'Choose a role…' }));
  for (const r of ROLES) role.appendChild(h('option', { attrs: { value: r }, text: roleLabel(r) }));
  const password = passwordInput(doc, 'password', 'new-password');
  const confirm = passwordInput(doc, 'confirmPassword', 'new-password');
  openFormDialog(doc, {
    title: 'New user',
    fields: [
      labelled(doc, 'Username', username),
      labelled(doc, 'Display name', name),
      labelled(doc, 'Role', role),
      labelled(doc, 'Password', password),
      labelled(doc, 'Repeat password', confirm),
    ],
    submitLabel: 'Create user',
    pendingLabel: 'Creating…',
    async onSubmit() {
      if (password.value !== confirm.value) {
        confirm.focus();
        throw new Error('The two passwords differ.');
      }
      const newUser = { username: username.value.trim(), displayName: name.value.trim(), role: role.value, password: password.value };
      await create(newUser);
    },
  });
}

/** The table's header row. */
function usersHead(): HTMLTableRowElement {
  return h(
    'tr',
    {},
    ...([
      ['c-username', 'Username'],
      ['c-display', 'Display name'],
      ['c-role', 'Role'],
      ['c-status', 'Status'],
      ['c-lastLogin', 'Last login'],
      ['c-created', 'Created'],
      ['c-actions', 'Actions'],
    ] as const).map(([cls, label]) => h('th', { class: cls, attrs: { scope: 'col' }, text: label })),
  );
}

/** Title, count of users, Refresh and New user. */
function usersTopbar(summary: HTMLElement, refresh: () => void, create: () => void): HTMLElement {
  return h(
    'header',
    { class: 'topbar' },
    h('h1', { class: 'page-title', text: 'Users' }),
    summary,
    h(
      'div',
      { class: 'topbar-right' },
      h('button', { class: 'btn', attrs: { type: 'button' }, text: 'Refresh', on: { click: refresh } }),
      h('button', { class: 'btn btn-primary', attrs: { type: 'button', 'data-action': 'new-user' }, text: 'New user', on: { click: create } }),
    ),
  );
}

/** A row across the table instead of users (loading, none, error). */
function stateRow(...children: (Node | string)[]): HTMLTableRowElement {
  return h('tr', { class: 'state-row' }, h('td', { attrs: { colspan: 7 } }, h('div', { class: 'state' }, ...children)));
}

type Change = (user: UserRecord, patch: UserPatch, done: string) => Promise<boolean>;

/** What a row's controls do: change the role (back to the old one if refused), enable / disable, reset the password. */
function rowActions(
  doc: Document,
  user: UserRecord,
  change: Change,
  reset: (password: string) => Promise<void>,
  done: () => void,
): Pick<UserRowActions, 'onRole' | 'onToggleEnabled' | 'onResetPassword'> {
  return {
    onRole: (role, select) => {
      select.disabled = true;
      void change(user, { role }, `${user.username} is now ${roleLabel(role)}.`).then((ok) => {
        if (!ok) select.value = user.role;
        select.disabled = false;
      });
    },
    onToggleEnabled: () => void change(user, { enabled: !user.enabled }, `${user.username} ${user.enabled ? 'disabled' : 'enabled'}.`),
    onResetPassword: () => openResetPasswordDialog(doc, { username: user.username, displayName: user.displayName, reset, done }),
  };
}

// The page's list, its reload after each change and its messages share state in this closure; rows,
// their actions and the dialogs are apart (renderUserRow, rowActions, openCreateUserDialog).
export function mountUsers(opts: UsersOptions): Page {
  const doc = document;
  let controller: AbortController | null = null;
  let destroyed = false;

  const tbody = h('tbody');
  const summary = h('span', { class: 'summary' });
  const status = h('div', { class: 'flash', attrs: { role: 'status', 'aria-live': 'polite', hidden: true } });
  const flash = (text: string, kind: 'ok' | 'error'): void => {
    status.textContent = text;
    status.dataset.kind = kind;
    status.hidden = false;
  };

  async function change(user: UserRecord, patch: UserPatch, done: string): Promise<boolean> {
    try {
      await updateUser(opts.api, user.username, patch);
      flash(done, 'ok');
      void load();
      return true;
    } catch (err) {
      flash(`Could not update ${user.username}: ${messageOf(err)}`, 'error');
      return false;
    }
  }

  function render(users: UserRecord[]): void {
    summary.textContent = `${users.length} ${users.length === 1 ? 'user' : 'users'}`;
    if (users.length === 0) {
      tbody.replaceChildren(stateRow(h('strong', { text: 'No users.' })));
      return;
    }
    tbody.replaceChildren(
      ...users.map((user) =>
        renderUserRow(doc, user, {
          self: user.username.toLowerCase() === opts.self.toLowerCase(),
          ...rowActions(doc, user, change, async (password) => {
            await resetUserPassword(opts.api, user.username, password);
          }, () => flash(`Password of ${user.username} set.`, 'ok')),
        }),
      ),
    );
  }

  async function load(): Promise<void> {
    controller?.abort();
    const ctrl = new AbortController();
    controller = ctrl;
    if (!tbody.querySelector('tr.user-row')) {
      tbody.replaceChildren(stateRow(h('span', { class: 'spinner', attrs: { 'aria-hidden': 'true' } }), 'Loading users…'));
    }
    try {
      const users = await listUsers(opts.api, ctrl.signal);
      if (!ctrl.signal.aborted && !destroyed) render(users);
    } catch (err) {
      if (ctrl.signal.aborted || destroyed) return;
      tbody.replaceChildren(stateRow(errorAlert(doc, `Could not load users${statusNote(err)}`, err), retryButton(doc, () => void load())));
    } finally {
      if (controller === ctrl) controller = null;
    }
  }

  const openCreate = (): void =>
    openCreateUserDialog(doc, async (newUser) => {
      await createUser(opts.api, newUser);
      flash(`User ${newUser.username} created.`, 'ok');
      void load();
    });

  const el = h(
    'div',
    { class: 'page admin-page users-page' },
    usersTopbar(summary, () => void load(), openCreate),
    status,
    h('div', { class: 'table-scroll' }, h('table', { class: 'users', attrs: { 'aria-label': 'Users' } }, h('thead', {}, usersHead()), tbody)),
  );
  document.title = 'Users · Reading Room';
  void load();
  return {
    el,
    destroy(): void {
      destroyed = true;
      controller?.abort();
    },
  };
}
