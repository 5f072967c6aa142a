// Templates and reports as the reports API answers them (issue 12 wire contract), for the report tab's tests.
export const XSS = '<img src=x onerror=window.__xss=1>';

export function templateBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ct-chest',
    title: 'CT chest',
    revision: 1,
    builtin: true,
    retired: false,
    match: { modalities: ['CT'] },
    sections: [
      {
        id: 'clinical',
        title: 'Clinical information',
        code: '55752-0',
        meaning: 'Clinical information',
        fields: [{ id: 'indication', label: 'Indication', type: 'text', required: 'warn', placeholder: 'Why the study was done' }],
      },
      { id: 'comparison', title: 'Comparison', code: '18834-2', fields: [{ id: 'comparison', label: 'Comparison', type: 'text', required: 'none' }] },
      {
        id: 'findings',
        title: 'Findings',
        code: '59776-5',
        fields: [
          { id: 'findings', label: 'Findings', type: 'longtext', required: 'block', default: 'Lungs: clear.' },
          { id: 'nodule', label: 'Largest nodule', type: 'number', unit: 'mm', min: 0, max: 300, required: 'none' },
          { id: 'contrast', label: 'Contrast', type: 'choice', options: ['none', 'iv'], required: 'none', default: 'none' },
          { id: 'lobes', label: 'Lobes', type: 'multichoice', options: [{ value: 'rul', label: 'Right upper' }, { value: 'lll', label: 'Left lower' }], required: 'none' },
          { id: 'priorDate', label: 'Prior date', type: 'date', required: 'none' },
        ],
      },
      { id: 'impression', title: 'Impression', code: '19005-8', fields: [{ id: 'impression', label: 'Impression', type: 'longtext', required: 'block' }] },
    ],
    ...overrides,
  };
}

export function versionBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    kind: 'original',
    status: 'draft',
    fields: { findings: 'Lungs: clear.', contrast: 'none', lobes: [] },
    inserts: { aiFindings: [], measurements: [], keyImages: [] },
    text: null,
    author: 'rad',
    updatedBy: 'rad',
    createdAt: '2026-12-04T10:00:00Z',
    updatedAt: '2026-12-04T10:00:00Z',
    revision: 1,
    signedBy: null,
    signedByName: null,
    signedAt: null,
    pdfSha256: null,
    pdf: null,
    ...overrides,
  };
}

export function reportBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    reportId: '12',
    studyInstanceUid: '1.2.3',
    state: 'draft',
    stateReason: null,
    template: templateBody(),
    critical: false,
    criticalCommunication: null,
    acknowledgements: [],
    createdBy: 'rad',
    createdAt: '2026-12-04T10:00:00Z',
    updatedAt: '2026-12-04T10:00:00Z',
    prevailingVersion: null,
    etag: '"1.1"',
    versions: [versionBody()],
    outputs: [],
    ...overrides,
  };
}

/** A signed final report (version 1 final, with its PDF). */
export function finalReportBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return reportBody({
    state: 'final',
    prevailingVersion: 1,
    etag: '"1.3"',
    versions: [
      versionBody({
        status: 'final',
        revision: 3,
        fields: { findings: 'Nodule 6 mm.', impression: 'Nodule.', contrast: 'iv', lobes: ['rul'], nodule: 6 },
        signedBy: 'rad',
        signedByName: 'Dr Rad',
        signedAt: '2026-12-04T10:05:00Z',
        pdfSha256: 'ab',
        pdf: '/api/reports/12/pdf?version=1',
      }),
    ],
    outputs: [
      { version: 1, kind: 'pdf', state: 'done', attempts: 1, lastError: '', orthancId: 'o1', sopInstanceUid: '1.9', updatedAt: '2026-12-04T10:05:02Z' },
      { version: 1, kind: 'sr', state: 'failed', attempts: 5, lastError: 'Orthanc said 500', orthancId: '', sopInstanceUid: '', updatedAt: null },
    ],
    ...overrides,
  });
}
