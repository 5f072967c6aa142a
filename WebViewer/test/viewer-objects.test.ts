import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import {
  cannotShowLine,
  classifyInstance,
  formatDateTime,
  formatPersonName,
  MAX_SR_DEPTH,
  objectDetail,
  outlineList,
  seriesKind,
  srDocument,
  srLineText,
  whereInStudy,
} from '../src/viewer-objects';

function series(sopClassUid: string, modality: string, n = 1, transferSyntaxUid = '1.2.840.10008.1.2.1'): Series {
  return {
    seriesInstanceUid: '1.2.3',
    orthancId: 's',
    seriesNumber: 5,
    modality,
    seriesDescription: 'd',
    bodyPartExamined: '',
    instanceCount: n,
    instances: Array.from({ length: n }, (_, i) => ({
      sopInstanceUid: `1.2.3.${i}`,
      orthancId: `i${i}`,
      sopClassUid,
      instanceNumber: i + 1,
      numberOfFrames: 1,
      imagePositionPatient: null,
      imageOrientationPatient: null,
      transferSyntaxUid,
    })),
  };
}

describe('series kind', () => {
  it('classifies the SOP classes of ../shared/dicom', () => {
    const cases: Array<[string, string, string, string]> = [
      ['1.2.840.10008.5.1.4.1.1.2', 'CT', 'image', 'image'],
      ['1.2.840.10008.5.1.4.1.1.88.33', 'SR', 'sr', 'structured report'], // sr/test-SR.dcm
      ['1.2.840.10008.5.1.4.1.1.88.34', 'SR', 'sr', 'structured report'], // TID 1500 (Comprehensive 3D)
      ['1.2.840.10008.5.1.4.1.1.88.11', 'SR', 'sr', 'structured report'],
      ['1.2.840.10008.5.1.4.1.1.88.59', 'KO', 'sr', 'key object selection'],
      ['1.2.840.10008.5.1.4.1.1.104.1', 'OT', 'pdf', 'PDF document'], // pdf/sample-pdf.dcm
      ['1.2.840.10008.5.1.4.1.1.66.4', 'SEG', 'seg', 'segmentation'],
      ['1.2.840.10008.5.1.4.1.1.66.7', 'SEG', 'seg', 'segmentation'],
      ['1.2.840.10008.5.1.4.1.1.481.3', 'RTSTRUCT', 'rtstruct', 'RT structure set'],
      ['1.2.840.10008.5.1.4.1.1.481.5', 'RTPLAN', 'rt', 'RT plan'],
      ['1.2.840.10008.5.1.4.1.1.481.2', 'RTDOSE', 'rt', 'RT dose'],
      ['1.2.840.10008.5.1.4.1.1.481.1', 'RTIMAGE', 'image', 'RT image'],
      ['1.2.840.10008.5.1.4.1.1.9.1.1', 'ECG', 'waveform', 'ECG waveform'], // waveform_ecg
      ['1.2.840.10008.5.1.4.1.1.9.4.1', 'AU', 'waveform', 'audio waveform'],
      ['1.2.840.10008.5.1.4.1.1.66', 'OT', 'other', 'raw data'],
      ['1.2.840.10008.5.1.4.1.1.11.1', 'PR', 'other', 'presentation state'],
      ['1.2.840.10008.5.1.4.1.1.77.1.1.1', 'ES', 'video', 'video'],
      ['1.2.840.10008.5.1.4.1.1.67', 'RWV', 'image', 'image'], // not a non-image prefix of viewer-model: the loader decides
    ];
    for (const [uid, modality, kind, label] of cases) expect(classifyInstance(uid, modality), uid).toEqual({ kind, label });
  });

  it('treats an MPEG-4 image series as video and falls back on the modality without a SOP class', () => {
    expect(classifyInstance('1.2.840.10008.5.1.4.1.1.77.1.4', 'XC', '1.2.840.10008.1.2.4.102').kind).toBe('video');
    expect(classifyInstance('', 'SR').kind).toBe('sr');
    expect(classifyInstance('', 'ECG').label).toBe('ECG waveform');
    expect(classifyInstance('', 'CT').kind).toBe('image');
  });

  it('labels a series by its first instance and says what the viewer cannot show', () => {
    const ecg = series('1.2.840.10008.5.1.4.1.1.9.1.1', 'ECG');
    expect(seriesKind(ecg).kind).toBe('waveform');
    expect(objectDetail(ecg)).toBe('#5 · ECG · ECG waveform · 1 instance');
    expect(cannotShowLine(ecg)).toBe('This series holds an ECG waveform (1 instance): the viewer cannot display it.');
    expect(cannotShowLine(series('1.2.840.10008.5.1.4.1.1.66', 'OT', 3))).toBe('This series holds raw data (3 instances): the viewer cannot display it.');
    expect(seriesKind({ modality: 'SR', instances: [] }).kind).toBe('sr');
  });
});

const code = (meaning: string): Record<string, unknown> => ({ '0008,0100': 'X', '0008,0102': 'DCM', '0008,0104': meaning });
const item = (type: string, name: string, extra: Record<string, unknown> = {}, rel = 'CONTAINS'): Record<string, unknown> => ({
  '0040,a010': rel,
  '0040,a040': type,
  '0040,a043': [code(name)],
  ...extra,
});

describe('SR document', () => {
  const tags = {
    '0040,a040': 'CONTAINER',
    '0040,a043': [code('Imaging Measurement Report')],
    '0040,a491': 'COMPLETE',
    '0040,a493': 'VERIFIED',
    '0008,0023': '20240301',
    '0008,0033': '102200',
    '0040,a073': [{ '0040,a075': 'Observer^Verifying', '0040,a027': 'Hospital', '0040,a030': '20240301103000' }],
    '0040,a730': [
      item('PNAME', 'Person Observer Name', { '0040,a123': 'Doe^Jane' }, 'HAS OBS CONTEXT'),
      item('CONTAINER', 'Findings', {
        '0040,a730': [
          item('TEXT', 'Finding', { '0040,a160': '<img src=x onerror=alert(1)>' }),
          item('CODE', 'Finding site', { '0040,a168': [code('Liver')] }, 'HAS CONCEPT MOD'),
          item('NUM', 'Length', { '0040,a300': [{ '0040,a30a': '12.5', '0040,08ea': [{ '0008,0100': 'mm', '0008,0102': 'UCUM', '0008,0104': 'millimeter' }] }] }),
          item('NUM', 'Ratio', { '0040,a300': [{ '0040,a30a': '2', '0040,08ea': [{ '0008,0100': '1', '0008,0102': 'UCUM', '0008,0104': 'no units' }] }] }),
          item('NUM', 'Volume', { '0040,a301': [code('Not a number')] }),
          item('DATE', 'Study date', { '0040,a121': '20240229' }),
          item('UIDREF', 'Tracking UID', { '0040,a124': '1.2.3.4' }),
          item('IMAGE', 'Source image', { '0008,1199': [{ '0008,1150': '1.2.840.10008.5.1.4.1.1.2', '0008,1155': '1.2.3.9', '0008,1160': '2\\3' }] }, 'SELECTED FROM'),
          item('SCOORD', 'Outline', { '0070,0023': 'POLYLINE', '0070,0022': '1\\2\\3\\4\\5\\6' }),
        ],
      }),
    ],
  };

  it('gives title, flags, date, observers and one line per content item with its depth', () => {
    const doc = srDocument(tags);
    expect(doc.title).toBe('Imaging Measurement Report');
    expect(doc.completion).toBe('COMPLETE');
    expect(doc.verification).toBe('VERIFIED');
    expect(doc.contentDateTime).toBe('2024-03-01 10:22:00');
    expect(doc.observers).toEqual(['Verified by Observer, Verifying (Hospital) on 2024-03-01 10:30:00']);
    expect(doc.lines.map((l) => [l.depth, srLineText(l)])).toEqual([
      [0, 'Person Observer Name: Doe, Jane'],
      [0, 'Findings'],
      [1, 'Finding: <img src=x onerror=alert(1)>'],
      [1, 'Finding site: Liver'],
      [1, 'Length: 12.5 mm'],
      [1, 'Ratio: 2'],
      [1, 'Volume: (no value: Not a number)'],
      [1, 'Study date: 2024-02-29'],
      [1, 'Tracking UID: 1.2.3.4'],
      [1, 'Source image: image 1.2.3.9, frame 2, 3'],
      [1, 'Outline: POLYLINE, 3 points'],
    ]);
    expect(doc.lines[1]!.heading).toBe(true);
    expect(doc.lines[0]!.relation).toBe('HAS OBS CONTEXT');
    expect(doc.lines[3]!.relation).toBe('HAS CONCEPT MOD');
    expect(doc.lines[4]!.relation).toBe('');
    expect(doc.truncated).toBe(false);
  });

  it('survives anything: not an object, missing sequences, null values, a tree deeper than the limit', () => {
    expect(srDocument(null).lines).toEqual([]);
    expect(srDocument([1, 2]).title).toBe('Structured report');
    expect(srDocument({ '0040,a730': [null, 'x', { '0040,a040': 'TEXT', '0040,a160': null }] }).lines).toEqual([
      { depth: 0, heading: false, label: '', value: '', relation: '' },
    ]);
    let deep: Record<string, unknown> = item('TEXT', 'leaf', { '0040,a160': 'bottom' });
    for (let i = 0; i < MAX_SR_DEPTH + 5; i++) deep = item('CONTAINER', `level ${i}`, { '0040,a730': [deep] });
    const doc = srDocument({ '0040,a730': [deep] });
    expect(doc.truncated).toBe(true);
    expect(doc.lines.length).toBe(MAX_SR_DEPTH + 1);
  });

  it('formats DICOM dates and names', () => {
    expect(formatDateTime('20240301103000.5+0100')).toBe('2024-03-01 10:30:00 +0100');
    expect(formatPersonName('Doe^John^^Dr')).toBe('Doe, Dr John');
    expect(formatPersonName('Yamada^Tarou=山田^太郎')).toBe('Yamada, Tarou');
    expect(formatPersonName('')).toBe('');
  });
});

describe('SEG segments and RT structure set ROIs', () => {
  it('lists segments with label, category, type and algorithm', () => {
    const seg = {
      '0062,0002': [
        {
          '0062,0004': '1',
          '0062,0005': 'Necrosis',
          '0062,0003': [code('Morphologically Altered Structure')],
          '0062,000f': [code('Necrosis')],
          '0062,0008': 'AUTOMATIC',
        },
        { '0062,0004': '2', '0062,0005': '<b>x</b>' },
      ],
    };
    expect(outlineList('seg', seg)).toEqual(['1 Necrosis: Morphologically Altered Structure, Necrosis; automatic', '2 <b>x</b>']);
  });

  it('lists RT ROIs with their interpreted type, and nothing for other kinds or bad input', () => {
    const rt = {
      '3006,0020': [{ '3006,0022': '1', '3006,0026': 'BODY' }, { '3006,0022': '2', '3006,0026': 'Heart' }, { '3006,0022': '3' }],
      '3006,0080': [{ '3006,0084': '1', '3006,00a4': 'EXTERNAL' }, { '3006,0084': '2', '3006,00a4': 'ORGAN' }],
    };
    expect(outlineList('rtstruct', rt)).toEqual(['1 BODY (EXTERNAL)', '2 Heart (ORGAN)', '3 (no name)']);
    expect(outlineList('waveform', rt)).toEqual([]);
    expect(outlineList('seg', null)).toEqual([]);
    expect(outlineList('rtstruct', { '3006,0020': 'x' })).toEqual([]);
  });
});

describe('SR references in the study', () => {
  it('finds an image by its stack position (frames counted) and another object by its series', () => {
    const ct = series('1.2.840.10008.5.1.4.1.1.2', 'CT', 3);
    ct.seriesNumber = 2;
    ct.seriesDescription = 'Chest';
    ct.instances[0]!.numberOfFrames = 4;
    const seg = series('1.2.840.10008.5.1.4.1.1.66.4', 'SEG', 1);
    seg.seriesNumber = null;
    seg.seriesDescription = '';
    seg.instances[0]!.sopInstanceUid = '9.9';
    const study = { series: [ct, seg] };
    expect(whereInStudy(study, '1.2.3.1')).toBe('series #2 CT Chest, image 5 of 6');
    expect(whereInStudy(study, '9.9')).toBe('series SEG');
    expect(whereInStudy(study, '7.7')).toBeNull();
    const doc = srDocument({ '0040,a730': [item('IMAGE', 'Source', { '0008,1199': [{ '0008,1155': '1.2.3.1' }] })] });
    expect(doc.lines[0]!.reference).toBe('1.2.3.1');
    expect(srDocument({ '0040,a730': [item('TEXT', 'x', { '0040,a160': 'y' })] }).lines[0]!.reference).toBeUndefined();
  });
});
