// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord, UserRecord } from '../src/admin-api';
import { AUDIT_COLUMNS, renderAuditRow, renderVerification } from '../src/audit';
import { openResetPasswordDialog } from '../src/password';
import { createShell } from '../src/shell';
import { renderUploadRow } from '../src/upload';
import { renderUserRow } from '../src/users';

const P = {
  script: '<script>alert("xss")</script>',
  img: '<img src=x onerror=alert(1)>',
  svg: '"><svg onload=alert(2)>',
  iframe: '<iframe src="javascript:alert(3)"></iframe>',
  b: '<b>bold</b>',
};
const FOREIGN = 'script, img, svg, iframe, b, object, embed';

function noHandlers(root: Element): void {
  for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
    for (const attr of Array.from(el.attributes)) expect(attr.name.startsWith('on')).toBe(false);
  }
}

afterEach(() => document.body.replaceChildren());

describe('XSS: user and audit strings are rendered as text', () => {
  it('header: display name and role of the logged-in user', () => {
    const shell = createShell(document, {
      user: { username: `u${P.svg}`, displayName: `Dr ${P.img} ${P.script}`, role: `admin${P.b}` },
      capabilities: ['worklist', 'study', 'upload', 'users', 'audit', 'system', 'ai', 'explorer'],
      explorerHref: '/app/explorer.html',
      onChangePassword: () => undefined,
      onLogout: () => undefined,
    });
    document.body.appendChild(shell.el);
    expect(shell.el.querySelectorAll(FOREIGN)).toHaveLength(0);
    expect(shell.el.querySelector('.user-name')?.textContent).toBe(`Dr ${P.img} ${P.script}`);
    expect(shell.el.querySelector('.role-badge')?.textContent).toBe(`admin${P.b}`);
    expect(shell.el.querySelector('.user')?.getAttribute('title')).toBe(`u${P.svg}`);
    noHandlers(shell.el);
  });

  it('users table row and reset-password dialog', () => {
    const user: UserRecord = {
      username: `eve${P.svg}`,
      displayName: `Eve ${P.img}${P.iframe}`,
      role: `root${P.script}`,
      enabled: true,
      createdAt: P.b,
      lastLoginAt: P.script,
      lockedUntil: null,
    };
    const table = document.createElement('table');
    const tbody = document.createElement('tbody');
    table.appendChild(tbody);
    document.body.appendChild(table);
    const row = renderUserRow(document, user, { self: false, onRole: () => undefined, onToggleEnabled: () => undefined, onResetPassword: () => undefined });
    tbody.appendChild(row);
    expect(row.querySelectorAll(FOREIGN)).toHaveLength(0);
    expect(row.getAttribute('data-username')).toBe(user.username);
    expect(row.querySelector('td.c-username')?.textContent).toBe(user.username);
    expect(row.querySelector('td.c-display')?.textContent).toBe(user.displayName);
    expect(row.querySelector('td.c-display')?.getAttribute('title')).toBe(user.displayName);
    expect(row.querySelector('td.c-created')?.textContent).toBe(P.b); // unparseable time shown as received
    expect(row.querySelector('td.c-lastLogin')?.textContent).toBe(P.script);
    const select = row.querySelector('select');
    expect(select?.value).toBe(user.role);
    expect(Array.from(select?.options ?? []).map((o) => o.textContent)).toContain(user.role);
    expect(select?.getAttribute('aria-label')).toBe(`Role of ${user.username}`);
    noHandlers(row);

    const dialog = openResetPasswordDialog(document, { username: user.username, displayName: user.displayName, reset: async () => undefined, done: () => undefined });
    expect(dialog.dialog.querySelectorAll(FOREIGN)).toHaveLength(0);
    expect(dialog.dialog.querySelector('.dialog-text strong')?.textContent).toBe(`${user.displayName} (${user.username})`);
    noHandlers(dialog.dialog);
    dialog.close();
    expect(document.querySelector('dialog')).toBeNull();
  });

  it('audit row: every field literal', () => {
    const record: AuditRecord = {
      seq: 7,
      at: P.script,
      username: `mallory${P.img}`,
      role: P.b,
      source: P.svg,
      action: `login${P.iframe}`,
      resource: `study/${P.script}`,
      outcome: `denied${P.img}`,
      detail: `GET /x?q=${P.svg}${P.script}`,
    };
    const table = document.createElement('table');
    table.appendChild(document.createElement('tbody')).appendChild(renderAuditRow(document, record));
    document.body.appendChild(table);
    const row = table.querySelector('tr')!;
    expect(row.querySelectorAll('td')).toHaveLength(AUDIT_COLUMNS.length);
    expect(table.querySelectorAll(FOREIGN)).toHaveLength(0);
    const cell = (c: string): string | null | undefined => row.querySelector(`td.${c}`)?.textContent;
    expect(cell('c-seq')).toBe('7');
    expect(cell('c-at')).toBe(P.script);
    expect(cell('c-user')).toBe(record.username);
    expect(cell('c-role')).toBe(P.b);
    expect(cell('c-source')).toBe(P.svg);
    expect(cell('c-action')).toBe(record.action);
    expect(cell('c-resource')).toBe(record.resource);
    expect(cell('c-outcome')).toBe(record.outcome);
    expect(row.querySelector('.outcome')?.getAttribute('data-kind')).toBe('fail');
    expect(cell('c-detail')).toBe(record.detail);
    expect(row.querySelector('td.c-detail')?.getAttribute('title')).toBe(record.detail);
    noHandlers(row);
  });

  it('verification banner: green when intact, red with the reason (as text) when broken', () => {
    const ok = renderVerification(document, { intact: true, records: 12, firstBroken: null, reason: null });
    expect(ok.dataset.intact).toBe('true');
    expect(ok.textContent).toContain('12 records verified');
    const bad = renderVerification(document, { intact: false, records: 12, firstBroken: 5, reason: `hash mismatch ${P.img}` });
    expect(bad.dataset.intact).toBe('false');
    expect(bad.getAttribute('role')).toBe('alert');
    expect(bad.textContent).toContain(`record #5: hash mismatch ${P.img}`);
    expect(bad.querySelectorAll(FOREIGN)).toHaveLength(0);
  });

  it('upload row: file names from the user\'s disk are text', () => {
    const row = renderUploadRow(document, { id: 1, file: new Blob(['x']), name: `dir/${P.img}.dcm`, size: 1, status: 'failed', loaded: 1, message: `HTTP 500: ${P.script}` });
    expect(row.querySelectorAll('script, img, svg, iframe, b')).toHaveLength(0);
    expect(row.querySelector('td.c-name')?.textContent).toBe(`dir/${P.img}.dcm`);
    expect(row.querySelector('.upload-status')?.textContent).toBe(`Failed: HTTP 500: ${P.script}`);
    noHandlers(row);
  });
});
