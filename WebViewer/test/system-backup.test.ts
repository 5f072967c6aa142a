// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import {
  describeRestore,
  formatRestoreSummary,
  formatLocation,
  formatTarget,
  formatWaitingAge,
  parseBackupStatus,
  parseRestoreResult,
  restoreRequestOf,
} from '../src/system-backup-api';
import { backupBadge, renderBackupStatus, renderRestoreResult } from '../src/system-backup';
import { healthProblems, parseHealth, parseIngest } from '../src/system-api';

const STATUS = {
  enabled: true, target: 's3', endpoint: 'http://minio:9000', bucket: 'rr', running: true, workers: 2, queued: 3, inProgress: 1, done: 1234, failed: 1,
  oldestWaitingSeconds: 125, copiedLastHour: 7, lastCopiedAt: '2026-12-04T10:00:00Z', lastError: 'HTTP 500 InternalError',
  lastErrorAt: '2026-12-04T10:01:00Z', copiedSinceStart: 9, bytesSinceStart: 99,
  deadLetters: [{ id: 17, objectKey: 'studies/1.2.3/1.2.3.4.rrb', kind: 'instance', studyInstanceUid: '1.2.3<img src=x onerror=alert(1)>',
    sopInstanceUid: '1.2.3.4', orthancId: 'abc', day: '2026-12-04', state: 'failed', attempts: 3, lastError: 'HTTP 500', updatedAt: '2026-12-04T10:01:00Z' }],
};

describe('backup status parsing', () => {
  it('keeps the fields and types; a disabled backup is {"enabled": false}', () => {
    const s = parseBackupStatus(STATUS);
    expect(s).toMatchObject({ enabled: true, target: 's3', queued: 3, inProgress: 1, done: 1234, failed: 1, oldestWaitingSeconds: 125 });
    expect(s.deadLetters).toHaveLength(1);
    expect(s.deadLetters[0]).toMatchObject({ id: 17, attempts: 3, objectKey: 'studies/1.2.3/1.2.3.4.rrb' });
    const off = parseBackupStatus({ enabled: false });
    expect(off.enabled).toBe(false);
    expect(off.deadLetters).toEqual([]);
    expect(parseBackupStatus(null).enabled).toBe(false);
  });

  it('a dead letter without a usable id cannot be re-driven (id 0); bad entries are skipped', () => {
    const s = parseBackupStatus({ enabled: true, deadLetters: [{ id: -4 }, { id: 1.5 }, 'x', null] });
    expect(s.deadLetters.map((d) => d.id)).toEqual([0, 0]);
  });

  it('reads the restore result', () => {
    const r = parseRestoreResult({ complete: false, studies: 1, objects: 5, restored: 3, alreadyStored: 1, refused: 1, failed: 0, bytes: 10, errors: [{ objectKey: 'k', message: 'tampered' }, 3] });
    expect(r.errors).toEqual([{ objectKey: 'k', message: 'tampered' }]);
    expect(r.complete).toBe(false);
  });
});

describe('backup formatting', () => {
  it('names the target', () => {
    expect(formatTarget('s3')).toBe('S3-compatible object store (s3)');
    expect(formatTarget('cloudinary')).toBe('Cloudinary (cloudinary)');
    expect(formatTarget('ftp')).toBe('ftp');
    expect(formatTarget('')).toBe('—');
    expect(formatLocation('s3', 'http://minio:9000', 'rr/pre')).toBe('http://minio:9000, bucket rr/pre');
    expect(formatLocation('cloudinary', 'https://api.cloudinary.com', 'demo/rr')).toBe('https://api.cloudinary.com, cloud/folder demo/rr');
    expect(formatLocation('s3', '', '')).toBe('');
  });

  it('says the oldest waiting item\'s age in words', () => {
    expect(formatWaitingAge(0, 0)).toBe('none waiting');
    expect(formatWaitingAge(0, 2)).toBe('0 s');
    expect(formatWaitingAge(42)).toBe('42 s');
    expect(formatWaitingAge(120)).toBe('2 min');
    expect(formatWaitingAge(125)).toBe('2 min 5 s');
    expect(formatWaitingAge(7260)).toBe('2 h 1 min');
    expect(formatWaitingAge(90_000)).toBe('1 d 1 h');
    expect(formatWaitingAge(null)).toBe('—');
    expect(formatWaitingAge(-1)).toBe('—');
  });

  it('summarises a restore', () => {
    expect(formatRestoreSummary(parseRestoreResult({ complete: true, studies: 2, objects: 1, restored: 1, alreadyStored: 0, refused: 0, failed: 0 })))
      .toBe('Restore complete: 1 object of 2 studies found in the backup; 1 object restored into Orthanc (0 of them already there), 0 refused, 0 failed.');
    expect(formatRestoreSummary(parseRestoreResult({ complete: false, studies: 1, objects: 1200, restored: 1198, alreadyStored: 0, refused: 2, failed: 0 })))
      .toBe('Restore incomplete: 1,200 objects of 1 study found in the backup; 1,198 objects restored into Orthanc (0 of them already there), 2 refused, 0 failed.');
  });

  it('builds the restore request from the form, or says what is wrong', () => {
    expect(restoreRequestOf(' 1.2.840.113619.2 ', '')).toEqual({ studyInstanceUid: '1.2.840.113619.2' });
    expect(restoreRequestOf('', '2026-12-01')).toEqual({ since: '2026-12-01' });
    expect(restoreRequestOf('1.2', '2026-12-01')).toMatch(/not both/);
    expect(restoreRequestOf('', '')).toMatch(/Give a Study Instance UID or a date/);
    expect(restoreRequestOf('1.2.abc', '')).toMatch(/digits separated by dots/);
    expect(restoreRequestOf(`1.${'2'.repeat(70)}`, '')).toMatch(/64/);
    expect(restoreRequestOf('', '01/12/2026')).toMatch(/YYYY-MM-DD/);
    expect(describeRestore({ studyInstanceUid: '1.2' })).toBe('the study 1.2');
    expect(describeRestore({ since: '2026-12-01' })).toBe('every study copied since 2026-12-01');
  });
});

describe('backup rendering', () => {
  it('shows the counts and the dead letters as text, with a re-drive button each', () => {
    const ids: number[] = [];
    const els = renderBackupStatus(document, parseBackupStatus(STATUS), { busy: false, onRedrive: (id) => ids.push(id) });
    const root = document.createElement('div');
    root.append(...els);
    const dd = (f: string): string | null | undefined => root.querySelector(`[data-field="${f}"] dd`)?.textContent;
    expect(dd('location')).toBe('http://minio:9000, bucket rr');
    expect(dd('queued')).toBe('3');
    expect(dd('done')).toBe('1,234');
    expect(dd('failed')).toBe('1');
    expect(dd('oldestWaiting')).toBe('2 min 5 s');
    expect(root.querySelector('img')).toBeNull();
    const row = root.querySelector('[data-dead-letter="17"]');
    expect(row?.textContent).toContain('1.2.3<img src=x onerror=alert(1)>');
    row?.querySelector<HTMLButtonElement>('[data-action="redrive-one"]')?.click();
    root.querySelector<HTMLButtonElement>('[data-action="redrive-all"]')?.click();
    expect(ids).toEqual([17, 0]);
    expect(backupBadge(document, parseBackupStatus(STATUS)).textContent).toBe('dead letters');
  });

  it('says when the backup is off', () => {
    const els = renderBackupStatus(document, parseBackupStatus({ enabled: false }), { busy: false, onRedrive: () => {} });
    expect(els.map((e) => e.textContent).join(' ')).toMatch(/not enabled/);
    expect(backupBadge(document, parseBackupStatus({ enabled: false })).textContent).toBe('off');
  });

  it('lists the refused objects with their reasons', () => {
    const el = renderRestoreResult(document, parseRestoreResult({ complete: false, refused: 1, errors: [{ objectKey: 'studies/1/2.rrb', message: 'authentication failed' }] }));
    expect(el.getAttribute('data-complete')).toBe('false');
    expect(el.querySelector('li')?.textContent).toBe('studies/1/2.rrb: authentication failed');
  });
});

describe('health: backup and the ingestion leader', () => {
  it('reads leader and names dead letters among the problems', () => {
    expect(parseIngest({ leader: false }).leader).toBe(false);
    expect(parseIngest({}).leader).toBeNull();
    const h = parseHealth({ status: 'degraded', store: { status: 'ok' }, backup: { enabled: true, failed: 2 } });
    expect(h.backup?.failed).toBe(2);
    expect(healthProblems(h)).toContain('2 off-site backup copies are dead letters (see "Off-site backup").');
    expect(parseHealth({ status: 'ok', store: { status: 'ok' } }).backup).toBeNull();
  });
});
