import { describe, expect, it } from 'vitest';
import { Api, apiRoot, encodeQueryComponent, studyQueryString } from '../src/api';
import {
  activePreset,
  defaultState,
  parseState,
  presetRange,
  serializeState,
  toApiQuery,
  worklistHash,
  type WorklistState,
} from '../src/query';
import { parseHash, studyHash } from '../src/router';

const full: WorklistState = {
  q: 'smi jo',
  patientName: 'DOE*',
  patientId: 'PID 1&2',
  accession: 'ACC?',
  modalities: ['CT', 'MR'],
  dateFrom: '2024-01-01',
  dateTo: '2024-12-31',
  ai: [],
  review: [],
  sort: 'patientName',
  order: 'desc',
  page: 3,
  pageSize: 25,
};

describe('hash <-> state', () => {
  it('default state serializes to an empty query and "#/"', () => {
    expect(serializeState(defaultState())).toBe('');
    expect(worklistHash(defaultState())).toBe('#/');
    expect(parseState('')).toEqual(defaultState());
  });

  it('round-trips every field', () => {
    const qs = serializeState(full);
    expect(qs).toBe('q=smi+jo&name=DOE*&pid=PID+1%262&acc=ACC%3F&mod=CT%2CMR&from=2024-01-01&to=2024-12-31&sort=patientName&order=desc&page=3&size=25');
    expect(parseState(qs)).toEqual(full);
    expect(parseState(`?${qs}`)).toEqual(full);
  });

  it('omits the natural sort order of the sort key', () => {
    expect(serializeState({ ...defaultState(), sort: 'patientName', order: 'asc' })).toBe('sort=patientName');
    expect(serializeState({ ...defaultState(), order: 'asc' })).toBe('order=asc');
    expect(parseState('sort=patientName').order).toBe('asc');
    expect(parseState('sort=receivedAt').order).toBe('desc');
  });

  it('ignores invalid values', () => {
    const s = parseState('sort=evil&order=up&page=-2&size=1000&from=2024-13&to=20240105&mod=ct,,MR,ct,<x>');
    expect(s.sort).toBe('studyDate');
    expect(s.order).toBe('desc');
    expect(s.page).toBe(1);
    expect(s.pageSize).toBe(50);
    expect(s.dateFrom).toBe('');
    expect(s.dateTo).toBe('2024-01-05');
    expect(s.modalities).toEqual(['CT', 'MR']);
  });
});

describe('state -> API query', () => {
  it('maps every filter, sort and paging', () => {
    const q = toApiQuery(full);
    expect(q).toEqual({
      q: 'smi jo',
      patientName: 'DOE*',
      patientId: 'PID 1&2',
      accessionNumber: 'ACC?',
      modality: 'CT,MR',
      studyDateFrom: '2024-01-01',
      studyDateTo: '2024-12-31',
      sort: 'patientName',
      order: 'desc',
      limit: 25,
      offset: 50,
    });
    expect(studyQueryString(q)).toBe(
      'q=smi+jo&patientName=DOE*&patientId=PID+1%262&accessionNumber=ACC?&modality=CT,MR' +
        '&studyDateFrom=2024-01-01&studyDateTo=2024-12-31&sort=patientName&order=desc&limit=25&offset=50',
    );
  });

  it('escapes only what must be escaped', () => {
    expect(encodeQueryComponent('CT,MR')).toBe('CT,MR');
    expect(encodeQueryComponent('DOE*^J?N')).toBe('DOE*%5EJ?N');
    expect(encodeQueryComponent('a b+c&d=e#f%2C')).toBe('a+b%2Bc%26d%3De%23f%252C');
    expect(encodeQueryComponent('MÜLLER <x>')).toBe('M%C3%9CLLER+%3Cx%3E');
    // a standard decoder gets the original text back
    const qs = studyQueryString({ q: 'a b+c&d=e#f%2C,?*', patientName: 'MÜLLER' });
    expect(new URLSearchParams(qs).get('q')).toBe('a b+c&d=e#f%2C,?*');
    expect(new URLSearchParams(qs).get('patientName')).toBe('MÜLLER');
  });

  it('leaves out empty and blank filters', () => {
    const q = toApiQuery({ ...defaultState(), q: '   ', patientName: '' });
    expect(studyQueryString(q)).toBe('sort=studyDate&order=desc&limit=50&offset=0');
  });

  it('URL hash -> API query', () => {
    const route = parseHash('#/?q=lung&mod=CT&page=2&size=100');
    expect(route).toEqual({ name: 'worklist', query: 'q=lung&mod=CT&page=2&size=100' });
    if (route.name !== 'worklist') throw new Error('unreachable');
    expect(studyQueryString(toApiQuery(parseState(route.query)))).toBe(
      'q=lung&modality=CT&sort=studyDate&order=desc&limit=100&offset=100',
    );
  });
});

describe('date presets', () => {
  const now = new Date(2026, 10, 24, 15, 30); // 2026-11-24 local
  it('computes inclusive ranges', () => {
    expect(presetRange('today', now)).toEqual({ dateFrom: '2026-11-24', dateTo: '2026-11-24' });
    expect(presetRange('7d', now)).toEqual({ dateFrom: '2026-11-18', dateTo: '2026-11-24' });
    expect(presetRange('30d', now)).toEqual({ dateFrom: '2026-10-26', dateTo: '2026-11-24' });
    expect(presetRange('all', now)).toEqual({ dateFrom: '', dateTo: '' });
  });
  it('detects the active preset', () => {
    expect(activePreset({ ...defaultState(), ...presetRange('7d', now) }, now)).toBe('7d');
    expect(activePreset(defaultState(), now)).toBe('all');
    expect(activePreset({ ...defaultState(), dateFrom: '2020-01-01' }, now)).toBeNull();
  });
});

describe('router', () => {
  it('parses routes', () => {
    expect(parseHash('')).toEqual({ name: 'worklist', query: '' });
    expect(parseHash('#/')).toEqual({ name: 'worklist', query: '' });
    expect(parseHash('#/studies/1.2.3')).toEqual({ name: 'study', uid: '1.2.3' });
    expect(parseHash(studyHash('1.2.840.113619.2'))).toEqual({ name: 'study', uid: '1.2.840.113619.2' });
    expect(parseHash('#/nope')).toEqual({ name: 'notFound', path: '/nope' });
    expect(parseHash('#/studies/%E0%A4%A')).toEqual({ name: 'notFound', path: '/studies/%E0%A4%A' });
  });
});

describe('api', () => {
  it('reads the API root from the meta tag', () => {
    const doc = {
      querySelector: (sel: string) =>
        sel === 'meta[name="rr-api-root"]' ? { getAttribute: (n: string) => (n === 'content' ? '/custom/api' : null) } : null,
    } as unknown as Document;
    expect(apiRoot(doc)).toBe('/custom/api/');
    expect(apiRoot({ querySelector: () => null } as unknown as Document)).toBe('/api/');
    expect(apiRoot(undefined)).toBe('/api/');
  });

  const json = (status: number, body: unknown): Response =>
    new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

  it('requests studies below the root and returns the body', async () => {
    const urls: string[] = [];
    const api = new Api('/api/', async (url) => {
      urls.push(url);
      return json(200, { data: [], total: 0, limit: 50, offset: 0 });
    });
    const list = await api.listStudies({ q: 'x', limit: 50 });
    expect(list.total).toBe(0);
    await api.getStudy('1.2.3');
    expect(urls).toEqual(['/api/dicom/studies?q=x&limit=50', '/api/dicom/studies/1.2.3']);
  });

  it('turns contract errors into ApiError with the server message', async () => {
    const api = new Api('/api/', async () =>
      json(400, { error: { code: 'invalid_argument', message: 'studyDateFrom is not a valid date' } }),
    );
    await expect(api.listStudies({})).rejects.toMatchObject({
      name: 'ApiError',
      status: 400,
      code: 'invalid_argument',
      message: 'studyDateFrom is not a valid date',
    });
  });

  it('handles non-JSON errors and network failures', async () => {
    const html = new Api('/api/', async () => new Response('<h1>bad</h1>', { status: 502, statusText: 'Bad Gateway' }));
    await expect(html.listStudies({})).rejects.toMatchObject({ status: 502, message: 'HTTP 502 Bad Gateway' });
    const down = new Api('/api/', async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(down.listStudies({})).rejects.toMatchObject({ status: 0, code: 'network', message: 'Network error: Failed to fetch' });
  });
});
