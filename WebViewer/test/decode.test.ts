// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeAuditPage, decodeAuditVerification, decodeUserList } from '../src/admin-api';
import { Api, ApiError, decodeStudyDetail, decodeStudyList } from '../src/api';
import { parseAnalysisList } from '../src/ai-api';
import {
  DecodeError,
  arrayOf,
  bool,
  fields,
  id,
  isRecord,
  list,
  nullable,
  num,
  object,
  optArrayOf,
  requiredBool,
  requiredStr,
  str,
  strOrNull,
  strings,
} from '../src/decode';
import { mountWorklist } from '../src/worklist';
import { FakeServer, json, studyBody } from './fake-server';

describe('field readers: neutral values for missing or mistyped fields', () => {
  it('scalars', () => {
    expect([str('a'), str(1), str(null), str(undefined)]).toEqual(['a', '', '', '']);
    expect([strOrNull('a'), strOrNull(''), strOrNull(3)]).toEqual(['a', null, null]);
    expect([num(2.5), num(Infinity), num(NaN), num('3')]).toEqual([2.5, null, null, null]);
    expect([bool(true), bool(false), bool('true'), bool(0)]).toEqual([true, false, null, null]);
    expect([id(12), id('a-1'), id(Infinity), id({})]).toEqual(['12', 'a-1', '', '']);
  });

  it('containers', () => {
    expect(list([1, 'x'])).toEqual([1, 'x']);
    expect(list({ 0: 1 })).toEqual([]);
    expect(strings(['a', 2, null, 'b'])).toEqual(['a', 'b']);
    expect(strings('ab')).toEqual([]);
    expect(fields({ a: 1 })).toEqual({ a: 1 });
    expect([fields(null), fields([1]), fields('x')]).toEqual([{}, {}, {}]);
    expect([isRecord({}), isRecord([]), isRecord(null), isRecord('x')]).toEqual([true, false, false, false]);
    expect([nullable(undefined, str), nullable(null, str), nullable(5, str), nullable('x', str)]).toEqual([null, null, '', 'x']);
  });
});

describe('structure readers: DecodeError naming where', () => {
  it('object, arrayOf, optArrayOf, required fields', () => {
    expect(object({ a: 1 }, 'x')).toEqual({ a: 1 });
    expect(() => object([], 'answer')).toThrow(new DecodeError('answer', 'an object'));
    expect(arrayOf([1, 2], 'data', (v) => num(v))).toEqual([1, 2]);
    expect(() => arrayOf({}, 'data', (v) => v)).toThrow('data: expected an array');
    expect(() => arrayOf([{}, 3], 'data', object)).toThrow('data[1]: expected an object');
    expect(optArrayOf(undefined, 'series', object)).toEqual([]);
    expect(optArrayOf(null, 'series', object)).toEqual([]);
    expect(() => optArrayOf('x', 'series', object)).toThrow('series: expected an array');
    expect(requiredStr('bob', 'data[0].username')).toBe('bob');
    expect(() => requiredStr(undefined, 'data[0].username')).toThrow('data[0].username: expected a string');
    expect(requiredBool(false, 'intact')).toBe(false);
    expect(() => requiredBool('yes', 'intact')).toThrow('intact: expected a boolean');
  });
});

describe('answer decoders', () => {
  it('study list: typed rows, neutral values for odd fields, errors for a wrong shape', () => {
    const list = decodeStudyList({ data: [{ ...studyBody(), seriesCount: 'two', modalities: ['CT', 5], aiStatus: 3 }], total: 1 });
    expect(list.total).toBe(1);
    expect(list.data[0]).toEqual(studyBody({ seriesCount: 0, modalities: ['CT'] }));
    expect(() => decodeStudyList({ data: 'rows' })).toThrow('data: expected an array');
    expect(() => decodeStudyList({ data: [null] })).toThrow('data[0]: expected an object');
    expect(() => decodeStudyList(null)).toThrow('answer: expected an object');
  });

  it('study detail: series and instances', () => {
    const detail = decodeStudyDetail({
      ...studyBody(),
      series: [{ seriesInstanceUid: '1.2.3.4', seriesNumber: 2, modality: 'CT', instanceCount: 1, instances: [{ sopInstanceUid: '5', imagePositionPatient: [1, 2, 3], imageOrientationPatient: [1, 0, 0, 0, 1, 0] }] }],
    });
    expect(detail.series[0]).toMatchObject({ seriesInstanceUid: '1.2.3.4', seriesNumber: 2, seriesDescription: '', instanceCount: 1 });
    expect(detail.series[0]?.instances[0]).toMatchObject({ sopInstanceUid: '5', instanceNumber: null, imagePositionPatient: [1, 2, 3], imageOrientationPatient: [1, 0, 0, 0, 1, 0] });
    expect(decodeStudyDetail({ ...studyBody(), series: [{ instances: [{ imagePositionPatient: [1, 'x', 3] }] }] }).series[0]?.instances[0]?.imagePositionPatient).toBeNull();
    expect(decodeStudyDetail({ ...studyBody() }).series).toEqual([]);
    expect(() => decodeStudyDetail({ series: {} })).toThrow('series: expected an array');
    expect(() => decodeStudyDetail({ series: [{ instances: [7] }] })).toThrow('series[0].instances[0]: expected an object');
  });

  it('users, audit, verification, analyses', () => {
    expect(decodeUserList({ data: [{ username: 'bob', role: 'admin', enabled: true, lockedUntil: '' }] })).toEqual([
      { username: 'bob', displayName: '', role: 'admin', enabled: true, createdAt: null, lastLoginAt: null, lockedUntil: null },
    ]);
    expect(() => decodeUserList({ data: [{ role: 'admin' }] })).toThrow('data[0].username: expected a string');
    expect(() => decodeUserList({})).toThrow('data: expected an array');
    expect(decodeAuditPage({ data: [{ seq: 4, action: 'login' }], nextBefore: 4 })).toEqual({
      data: [{ seq: 4, at: '', username: '', role: '', source: '', action: 'login', resource: '', outcome: '', detail: '' }],
      nextBefore: 4,
    });
    expect(decodeAuditPage({ data: [], nextBefore: null }).nextBefore).toBeNull();
    expect(decodeAuditVerification({ intact: false, records: 3, firstBroken: 2, reason: 'hash' })).toEqual({ intact: false, records: 3, firstBroken: 2, reason: 'hash' });
    expect(() => decodeAuditVerification({ records: 3 })).toThrow('intact: expected a boolean');
    expect(parseAnalysisList({ analyses: [{ id: 7 }, { status: 'x' }] }).map((a) => a.id)).toEqual(['7']);
    expect(parseAnalysisList({})).toEqual([]);
    expect(() => parseAnalysisList({ analyses: 'none' })).toThrow('analyses: expected an array');
  });
});

describe('a malformed answer is an ApiError the page shows', () => {
  afterEach(() => document.body.replaceChildren());

  it('Api.getJson turns a DecodeError into bad_response', async () => {
    const api = new Api('/api/', new FakeServer().on('GET dicom/studies', () => json(200, { data: {} })).fetch);
    await expect(api.listStudies({})).rejects.toEqual(new ApiError(200, 'bad_response', 'Unexpected answer from the server: data: expected an array'));
    const other = new Api('/api/', new FakeServer().on('GET x', () => json(200, {})).fetch);
    await expect(other.getJson('x', () => { throw new TypeError('bug'); })).rejects.toBeInstanceOf(TypeError);
  });

  it('the worklist shows the message instead of breaking', async () => {
    const server = new FakeServer().on('GET dicom/studies', () => json(200, { data: [{ ...studyBody() }, 'not a study'], total: 2 }));
    const page = mountWorklist({ api: new Api('/api/', server.fetch), query: '', navigate: () => undefined, openStudies: true });
    document.body.appendChild(page.el);
    await vi.waitFor(() => expect(page.el.querySelector('.error-message')?.textContent).toBe('Unexpected answer from the server: data[1]: expected an object'));
    expect(page.el.querySelector('tr.study-row')).toBeNull();
    page.destroy();
  });
});
