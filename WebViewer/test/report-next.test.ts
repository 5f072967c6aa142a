import { describe, expect, it } from 'vitest';
import { Api, studyQueryString } from '../src/api';
import { chooseNext, findNextStudy, nextStudyQuery } from '../src/report-next';
import { FakeServer, json, studyBody } from './fake-server';

describe('Next study after signing', () => {
  it('keeps the worklist filter and sort, from the first page, plus report=unreported', () => {
    const q = nextStudyQuery('#/?mod=CT,MR&from=2026-01-01&sort=receivedAt&order=asc&page=4&size=100&name=DOE');
    expect(q).toMatchObject({ modality: 'CT,MR', studyDateFrom: '2026-01-01', patientName: 'DOE', sort: 'receivedAt', order: 'asc', offset: 0, limit: 5, report: 'unreported' });
    expect(studyQueryString(q)).toContain('report=unreported');
    expect(nextStudyQuery('#/')).toMatchObject({ sort: 'studyDate', order: 'desc', report: 'unreported' });
  });

  it('chooses the first study that is not the current one', () => {
    expect(chooseNext([{ studyInstanceUid: '1' }, { studyInstanceUid: '2' }], '1')).toBe('2');
    expect(chooseNext([{ studyInstanceUid: '2' }, { studyInstanceUid: '1' }], '1')).toBe('2');
    expect(chooseNext([{ studyInstanceUid: '1' }], '1')).toBeNull();
    expect(chooseNext([], '1')).toBeNull();
  });

  it('asks the worklist API with the filter', async () => {
    const server = new FakeServer().on('GET dicom/studies', () => json(200, { data: [studyBody({ studyInstanceUid: '1.2.3' }), studyBody({ studyInstanceUid: '9.9' })], total: 2 }));
    const uid = await findNextStudy(new Api('/api/', server.fetch), '1.2.3', '#/?mod=CT');
    expect(uid).toBe('9.9');
    const url = server.calls[0]!.url;
    expect(url).toContain('modality=CT');
    expect(url).toContain('report=unreported');
    expect(url).toContain('offset=0');
  });
});
