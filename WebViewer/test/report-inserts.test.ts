// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { parseAnalysis } from '../src/ai-api';
import { emptyInserts } from '../src/report-api';
import { aiCandidates, hasInsert, imageLabel, insertedItems, keyImageCandidates, measurementCandidates, renderInserts, toggleInsert } from '../src/report-inserts';
import { readStudyAnnotations } from '../src/viewer-annotations-wire';
import { analysisBody } from './ai-fixtures';
import { XSS } from './report-fixtures';

const study = {
  series: [
    {
      seriesInstanceUid: '1.2.3.1', orthancId: 's', seriesNumber: 3, modality: 'CT', seriesDescription: 'CHEST', bodyPartExamined: '', instanceCount: 1,
      instances: [{ sopInstanceUid: '1.2.3.4.1', orthancId: 'i', sopClassUid: '', instanceNumber: 45, numberOfFrames: 1, imagePositionPatient: null, imageOrientationPatient: null, transferSyntaxUid: '' }],
    },
  ],
};

const reviewed = (status: string, findings: unknown[] = []) =>
  parseAnalysis(analysisBody({ id: 'a'.repeat(32), reviewStatus: status, reviews: [{ at: '2026-12-04T10:00:00Z', reviewer: 'rad', reviewStatus: status, notes: '', findings }] }));

describe('report inserts', () => {
  it('toggling adds at the end and removes; keys per kind', () => {
    let i = emptyInserts();
    i = toggleInsert(i, 'keyImages', { sopInstanceUid: '1.2', frame: 1 });
    i = toggleInsert(i, 'aiFindings', { analysisId: 'a', index: 0 });
    i = toggleInsert(i, 'keyImages', { sopInstanceUid: '1.2', frame: 2 });
    expect(i.keyImages).toEqual([{ sopInstanceUid: '1.2', frame: 1 }, { sopInstanceUid: '1.2', frame: 2 }]);
    expect(hasInsert(i, 'aiFindings', { analysisId: 'a', index: 0 })).toBe(true);
    i = toggleInsert(i, 'keyImages', { sopInstanceUid: '1.2', frame: 1 });
    expect(i.keyImages).toEqual([{ sopInstanceUid: '1.2', frame: 2 }]);
    i = toggleInsert(i, 'aiFindings', { analysisId: 'a', index: 0 });
    expect(i.aiFindings).toEqual([]);
  });

  it('AI findings: confirmed/modified insertable in the reviewed wording, rejected ones left out, unreviewed disabled', () => {
    const mod = aiCandidates([reviewed('modified', [{ index: 0, verdict: 'edited', text: 'Nodule 7 mm (edited)' }, { index: 1, verdict: 'rejected' }, { index: 2, verdict: 'accepted' }])]);
    expect(mod.map((c) => c.title)).toEqual(['Nodule 7 mm (edited)', 'Motion artifact']);
    expect(mod.every((c) => c.disabledReason === null)).toBe(true);
    expect(mod[0]?.detail).toMatch(/^right upper lobe · AI analysis aaaaaaaa/);
    expect(mod[0]?.ref).toEqual({ analysisId: 'a'.repeat(32), index: 0 });
    const pending = aiCandidates([parseAnalysis(analysisBody({ reviewStatus: 'pending' }))]);
    expect(pending.length).toBe(3);
    expect(pending.every((c) => c.disabledReason?.startsWith('Review the AI analysis first'))).toBe(true);
    expect(aiCandidates([reviewed('rejected')])).toEqual([]);
    expect(aiCandidates([parseAnalysis(analysisBody({ status: 'failed' }))])).toEqual([]);
  });

  it('measurements and key images with their image; inserted items that left the study still listed', () => {
    const ann = readStudyAnnotations({
      data: [{ annotationUid: 'm-1', seriesInstanceUid: '1.2.3.1', sopInstanceUid: '1.2.3.4.1', frame: 1, tool: 'Length', label: 'RUL nodule', data: { points: [[0, 0, 0], [1, 0, 0]], frameOfReferenceUID: '', stats: { length: 6.2, unit: 'mm', areaUnit: 'mm²', valueUnit: 'HU', unitSource: 'PixelSpacing' } } }],
      keyImages: [{ sopInstanceUid: '1.2.3.4.1', seriesInstanceUid: '1.2.3.1', frame: 1, author: 'rad' }],
    });
    const m = measurementCandidates(ann.data, study);
    expect(m[0]).toMatchObject({ title: 'RUL nodule: 6.2 mm', detail: 'Series 3 CHEST · image 45', image: { sopInstanceUid: '1.2.3.4.1', frame: 1 } });
    const k = keyImageCandidates(ann.keyImages, study);
    expect(k[0]?.title).toBe('Key image: Series 3 CHEST · image 45');
    expect(imageLabel(study, '9.9.9.9', 2)).toBe('Image …9.9.9.9, frame 2');
    let inserts = toggleInsert(emptyInserts(), 'measurements', { annotationUid: 'm-1' });
    inserts = toggleInsert(inserts, 'measurements', { annotationUid: 'gone' });
    const items = insertedItems(inserts, [...m, ...k], study);
    expect(items.map((c) => c.title)).toEqual(['RUL nodule: 6.2 mm', 'Measurement']);
    expect(items[1]?.detail).toBe('no longer listed in the study');
  });

  it('renders inserted and available items as text; unreviewed findings disabled with "Review first"', () => {
    const cands = [...aiCandidates([parseAnalysis(analysisBody({ findings: [{ description: XSS, location: XSS }] }))])];
    const toggles: unknown[] = [];
    const el = renderInserts(document, { inserts: emptyInserts(), candidates: cands, study, readOnly: false, onToggle: (k, r) => toggles.push([k, r]) });
    expect(el.querySelector('img')).toBeNull();
    const btn = el.querySelector<HTMLButtonElement>('[data-group="aiFindings"] button[data-action="insert-add"]')!;
    expect(btn.disabled).toBe(true);
    expect(btn.textContent).toBe('Review first');
    expect(el.querySelector('[data-group="aiFindings"] .insert-title')?.textContent).toBe(XSS);
    expect(el.querySelector('[data-group="measurements"]')?.textContent).toContain('No measurements in this study.');
    const ro = renderInserts(document, { inserts: emptyInserts(), candidates: cands, study, readOnly: true });
    expect(ro.querySelector('button')).toBeNull();
  });
});
