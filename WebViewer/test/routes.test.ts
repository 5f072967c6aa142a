import { describe, expect, it } from 'vitest';
import { auditHash, localToIso, outcomeKind, parseAuditFilters, toAuditQuery } from '../src/audit';
import { auditQueryString } from '../src/admin-api';
import { parseHash } from '../src/router';

describe('routes of the access-control pages', () => {
  it('parses the new routes', () => {
    expect(parseHash('#/upload')).toEqual({ name: 'upload' });
    expect(parseHash('#/users/')).toEqual({ name: 'users' });
    expect(parseHash('#/audit?user=bob')).toEqual({ name: 'audit', query: 'user=bob' });
    expect(parseHash('#/auditx')).toEqual({ name: 'notFound', path: '/auditx' });
  });
});

describe('audit filters', () => {
  it('round-trip through the hash and build the API query', () => {
    const f = parseAuditFilters('user=bob%20b&action=login&from=2026-11-24T08:00&junk=1');
    expect(f).toEqual({ user: 'bob b', action: 'login', resource: '', from: '2026-11-24T08:00', to: '' });
    expect(auditHash(f)).toBe('#/audit?user=bob+b&action=login&from=2026-11-24T08%3A00');
    expect(parseAuditFilters(auditHash(f).split('?')[1] ?? '')).toEqual(f);
    expect(auditHash(parseAuditFilters(''))).toBe('#/audit');
  });

  it('sends from / to as ISO instants, skips empty values, pages with before', () => {
    const q = toAuditQuery({ user: 'bob', action: '', resource: 'study/1.2', from: '2026-11-24T08:00', to: '' }, 42, 100);
    // vitest runs with TZ=UTC
    expect(auditQueryString(q)).toBe('user=bob&resource=study/1.2&from=2026-11-24T08:00:00.000Z&before=42&limit=100');
    expect(localToIso('not a date')).toBe('');
    expect(auditQueryString(toAuditQuery(parseAuditFilters(''), null))).toBe('limit=100');
  });

  it('classifies outcomes', () => {
    expect(outcomeKind('success')).toBe('ok');
    expect(outcomeKind('denied')).toBe('fail');
    expect(outcomeKind('FAILURE')).toBe('fail');
    expect(outcomeKind('queued')).toBe('other');
  });
});
