import { describe, expect, it } from 'vitest';
import { Api, ApiError } from '../src/api';
import {
  decodeMacros,
  decodeReport,
  decodeReportList,
  decodeTemplateList,
  incompleteFields,
  isEditable,
  isSignedFinal,
  openReportOf,
  pdfUrl,
  prevailingVersion,
  putDraft,
  readFieldValue,
  readReport,
  templateDefaults,
} from '../src/report-api';
import { FakeServer, json } from './fake-server';
import { finalReportBody, reportBody, templateBody, versionBody } from './report-fixtures';

describe('report wire parsing', () => {
  it('reads a report with its template, versions (oldest first) and outputs', () => {
    const r = decodeReport(finalReportBody({ versions: [versionBody({ version: 2, kind: 'addendum', status: 'final', text: 'Add.' }), versionBody({ status: 'final' })] }) as never);
    expect(r.reportId).toBe('12');
    expect(r.etag).toBe('"1.3"');
    expect(r.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(r.versions[1]?.text).toBe('Add.');
    expect(r.template?.sections.map((s) => s.id)).toEqual(['clinical', 'comparison', 'findings', 'impression']);
    const f = r.template!.sections[2]!.fields;
    expect(f.map((x) => x.type)).toEqual(['longtext', 'number', 'choice', 'multichoice', 'date']);
    expect(f[1]).toMatchObject({ unit: 'mm', min: 0, max: 300, required: 'none', default: null });
    expect(f[2]?.options).toEqual([{ value: 'none', label: 'none' }, { value: 'iv', label: 'iv' }]);
    expect(f[3]?.options[0]).toEqual({ value: 'rul', label: 'Right upper' });
    expect(r.outputs.map((o) => `${o.kind}:${o.state}`)).toEqual(['pdf:done', 'sr:failed']);
  });

  it('numeric report ids become strings; a non-digit id, a missing etag or versions are errors', () => {
    expect(readReport(reportBody({ reportId: 7 })).reportId).toBe('7');
    expect(() => readReport(reportBody({ reportId: 'x1' }))).toThrow(/reportId/);
    expect(() => readReport(reportBody({ etag: undefined }))).toThrow(/etag/);
    expect(() => readReport(reportBody({ versions: 'no' }))).toThrow(/versions/);
    expect(() => readReport(reportBody({ template: templateBody({ sections: [{ id: 's', fields: [{ label: 'no id' }] }] }) }))).toThrow(/fields\[0\]\.id/);
  });

  it('unknown field types read as text, unknown completion rules as none; inserts drop malformed items', () => {
    const r = readReport(
      reportBody({
        template: templateBody({ sections: [{ id: 's', fields: [{ id: 'a', type: 'weird', required: 'maybe' }] }] }),
        versions: [versionBody({ inserts: { aiFindings: [{ analysisId: 'a', index: 1 }, { analysisId: '', index: 0 }, { index: 2 }], measurements: [{ annotationUid: 'm' }, {}], keyImages: [{ sopInstanceUid: '1.2', frame: 3 }, 'x'] } })],
      }),
    );
    expect(r.template?.sections[0]?.fields[0]).toMatchObject({ type: 'text', required: 'none', label: 'a' });
    expect(r.versions[0]?.inserts).toEqual({ aiFindings: [{ analysisId: 'a', index: 1 }], measurements: [{ annotationUid: 'm' }], keyImages: [{ sopInstanceUid: '1.2', frame: 3 }] });
  });

  it('field values per type', () => {
    expect(readFieldValue('number', 5)).toBe(5);
    expect(readFieldValue('number', '7.5')).toBe(7.5);
    expect(readFieldValue('number', 'x')).toBeNull();
    expect(readFieldValue('multichoice', ['a', 1, 'b'])).toEqual(['a', 'b']);
    expect(readFieldValue('multichoice', 'a')).toEqual([]);
    expect(readFieldValue('text', 3)).toBe('3');
    expect(readFieldValue('date', {})).toBeNull();
  });

  it('the open report is the newest neither cancelled nor entered in error', () => {
    const list = decodeReportList({ data: [reportBody({ reportId: '3', state: 'cancelled' }), reportBody({ reportId: '2', state: 'entered-in-error' }), reportBody({ reportId: '1', state: 'final' })] });
    expect(openReportOf(list)?.reportId).toBe('1');
    expect(openReportOf(list.slice(0, 2))).toBeNull();
  });

  it('states: editable, signed final; prevailing version; template defaults', () => {
    const r = readReport(finalReportBody());
    expect(isEditable(r)).toBe(false);
    expect(isSignedFinal(r)).toBe(true);
    expect(isEditable(readReport(reportBody({ state: 'preliminary' })))).toBe(true);
    expect(prevailingVersion(r)?.version).toBe(1);
    expect(templateDefaults(r.template!)).toEqual({ indication: null, comparison: null, findings: 'Lungs: clear.', nodule: null, contrast: 'none', lobes: [], priorDate: null, impression: null });
  });

  it('templates with the suggested one; macros sorted; the 422 field list; PDF urls', () => {
    const t = decodeTemplateList({ data: [templateBody(), templateBody({ id: 'generic', title: 'Generic' })], suggested: 'ct-chest' });
    expect(t.suggested).toBe('ct-chest');
    expect(() => decodeTemplateList({ data: {} })).toThrow(/data/);
    expect(decodeMacros({ data: [{ name: 'b', text: 'B' }, { name: 'a', text: 'A' }, { text: 'no name' }] }).map((m) => m.name)).toEqual(['a', 'b']);
    expect(incompleteFields({ error: { code: 'incomplete', message: 'x', fields: ['impression', 3] } })).toEqual(['impression']);
    expect(pdfUrl('/api/', '12')).toBe('/api/reports/12/pdf');
    expect(pdfUrl('/api/', '12', 2)).toBe('/api/reports/12/pdf?version=2');
  });

  it('PUT draft sends If-Match, the CSRF token and the body; errors keep their body', async () => {
    const server = new FakeServer()
      .on('PUT reports/12/draft', (c) => (c.headers['If-Match'] === '"1.1"' ? json(200, reportBody({ etag: '"1.2"' })) : json(412, { error: { code: 'version_mismatch', message: 'stale' } })));
    const api = new Api('/api/', server.fetch);
    api.setHooks({ csrfToken: () => 'csrf' });
    const r = await putDraft(api, '12', '"1.1"', { fields: { findings: 'x' } });
    expect(r.etag).toBe('"1.2"');
    expect(server.calls[0]?.headers['X-CSRF-Token']).toBe('csrf');
    expect(server.calls[0]?.body).toEqual({ fields: { findings: 'x' } });
    const err = await putDraft(api, '12', '"1.0"', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(412);
    expect((err as ApiError).code).toBe('version_mismatch');
  });
});
