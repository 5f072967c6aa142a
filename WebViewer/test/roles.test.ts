// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../src/api';
import { startApp } from '../src/app';
import { OPEN_MODE, parseCapabilities, type Section } from '../src/capabilities';
import { Session } from '../src/session';
import { navFor } from '../src/shell';
import { UploadQueue } from '../src/upload-queue';
import { FakeServer, capabilitiesOf, json, meBody, studyBody } from './fake-server';

const study = studyBody();

describe('roles -> sections and navigation (capabilities from GET auth/me)', () => {
  const table: Record<string, { nav: string[]; study: boolean; explorer: boolean }> = {
    admin: { nav: ['worklist', 'upload', 'users', 'templates', 'audit', 'system'], study: true, explorer: true },
    radiologist: { nav: ['worklist'], study: true, explorer: false },
    technician: { nav: ['worklist', 'upload'], study: false, explorer: false },
    physician: { nav: ['worklist'], study: true, explorer: false },
    [OPEN_MODE]: { nav: ['worklist', 'upload'], study: true, explorer: false },
    'future-role': { nav: ['worklist'], study: false, explorer: false },
  };
  for (const [role, want] of Object.entries(table)) {
    it(role, async () => {
      const caps = await capabilitiesOf(role);
      expect(navFor(caps).map((n) => n.id)).toEqual(want.nav);
      expect(caps.includes('study')).toBe(want.study);
      expect(caps.includes('explorer')).toBe(want.explorer);
      for (const s of ['users', 'audit', 'system'] as Section[]) expect(caps.includes(s)).toBe(role === 'admin');
    });
  }

  it('unknown names are ignored, the order is the server\'s table order', async () => {
    expect(await capabilitiesOf('auditor', ['billing', 'audit', 'worklist', 'audit'])).toEqual(['worklist', 'audit']);
    expect(parseCapabilities(['explorer', 'ai', 'worklist'])).toEqual(['worklist', 'ai', 'explorer']);
  });

  it('a missing or malformed list means the worklist only', async () => {
    for (const list of [null, 'admin', { worklist: true }, ['worklist', 'study', 3]]) {
      expect(await capabilitiesOf('admin', list)).toEqual(['worklist']);
    }
    expect(await capabilitiesOf('future-role')).toEqual(['worklist']); // field left out
    expect(parseCapabilities(undefined)).toEqual(['worklist']);
  });
});

describe('the app shows what the role may use', () => {
  let root: HTMLElement;
  let stop: (() => void) | null = null;

  beforeEach(() => {
    history.replaceState(null, '', '/reading-room/#/');
    root = document.createElement('div');
    document.body.replaceChildren(root);
  });
  afterEach(() => {
    stop?.();
    stop = null;
  });

  function boot(role: string, displayName = 'Some One', capabilities?: string[]): FakeServer {
    const server = new FakeServer()
      .on('GET auth/me', () => json(200, meBody({ username: `u-${role}`, displayName, role }, new Date(Date.now() + 3600_000), 'c', capabilities)))
      .on('GET dicom/studies', () => json(200, { data: [study], total: 1, limit: 50, offset: 0 }))
      .on('GET dicom/studies/1.2.3', () => json(200, { ...study, series: [] }))
      .on('GET users', () => json(200, { data: [] }))
      .on('GET audit', () => json(200, { data: [], nextBefore: null }));
    const api = new Api('/api/', server.fetch);
    const session = new Session(api, { doc: { cookie: '' } as unknown as Document });
    stop = startApp(root, { api, session, orthancRoot: '/', uploadQueue: () => new UploadQueue(async () => ({ status: 200, body: '{}' })) });
    return server;
  }

  const navIds = (): string[] => Array.from(root.querySelectorAll<HTMLElement>('.appbar [data-nav]')).map((a) => a.dataset.nav ?? '');
  const go = async (hash: string): Promise<void> => {
    location.hash = hash;
    window.dispatchEvent(new HashChangeEvent('hashchange'));
    await Promise.resolve();
  };

  it('admin: all sections, Orthanc Explorer link, user and role badge', async () => {
    boot('admin', 'Ada Admin');
    await vi.waitFor(() => expect(root.querySelector('.appbar')).not.toBeNull());
    expect(navIds()).toEqual(['worklist', 'upload', 'users', 'templates', 'audit', 'system', 'explorer']);
    expect(root.querySelector('a[data-nav="explorer"]')?.getAttribute('href')).toBe('/app/explorer.html');
    expect(root.querySelector('.user-name')?.textContent).toBe('Ada Admin');
    expect(root.querySelector('.role-badge')?.textContent).toBe('Admin');
    expect(root.querySelector('[data-action="logout"]')).not.toBeNull();
    expect(root.querySelector('[data-action="change-password"]')).not.toBeNull();
    await go('#/users');
    await vi.waitFor(() => expect(root.querySelector('.users-page')).not.toBeNull());
    expect(root.querySelector('a[data-nav="users"]')?.getAttribute('aria-current')).toBe('page');
    await go('#/audit');
    await vi.waitFor(() => expect(root.querySelector('.audit-page [data-action="verify"]')).not.toBeNull());
  });

  it('radiologist: worklist and study page, no upload / admin / explorer', async () => {
    boot('radiologist');
    await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
    expect(navIds()).toEqual([]); // a single section needs no navigation
    expect(root.querySelector('.role-badge')?.textContent).toBe('Radiologist');
    root.querySelector<HTMLElement>('tr.study-row td')?.click();
    expect(location.hash).toBe('#/studies/1.2.3');
    for (const hash of ['#/upload', '#/users', '#/audit', '#/system']) {
      await go(hash);
      expect(root.querySelector('.outlet')?.textContent).toContain('not available for your role');
    }
  });

  it('technician: upload and worklist, rows do not open the study page', async () => {
    boot('technician');
    await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
    expect(navIds()).toEqual(['worklist', 'upload']);
    expect(root.querySelector('.worklist-page.no-open')).not.toBeNull();
    root.querySelector<HTMLElement>('tr.study-row td')?.click();
    root.querySelector<HTMLElement>('tr.study-row')?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(location.hash).toBe('#/');
    await go('#/studies/1.2.3');
    expect(root.querySelector('.outlet')?.textContent).toContain('not available for your role');
    expect(root.querySelector('[data-rr-viewer]')).toBeNull();
    await go('#/upload');
    expect(root.querySelector('input[type="file"][data-upload="files"]')).not.toBeNull();
    expect(root.querySelector('input[type="file"][data-upload="folder"]')).not.toBeNull();
  });

  it('physician: worklist and study page only', async () => {
    boot('physician');
    await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
    expect(navIds()).toEqual([]);
    expect(root.querySelector('.worklist-page.no-open')).toBeNull();
    for (const hash of ['#/upload', '#/users', '#/audit', '#/system']) {
      await go(hash);
      expect(root.querySelector('.outlet')?.textContent).toContain('not available for your role');
    }
  });

  it('follows the server\'s list, not the role name', async () => {
    boot('physician', 'Some One', ['worklist', 'upload', 'ai', 'explorer']);
    await vi.waitFor(() => expect(root.querySelector('tr.study-row')).not.toBeNull());
    expect(navIds()).toEqual(['worklist', 'upload', 'explorer']);
    expect(root.querySelector('th.c-ai')).not.toBeNull();
    expect(root.querySelector('.worklist-page.no-open')).not.toBeNull(); // no "study" capability
    expect(root.querySelector('.role-badge')?.textContent).toBe('Physician');
  });
});
