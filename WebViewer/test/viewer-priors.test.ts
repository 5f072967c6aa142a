// Priors: reading the API's answer, the list text, and the choice of the prior's series that matches the current one.
import { describe, expect, it } from 'vitest';
import type { Series } from '../src/api';
import { DecodeError } from '../src/decode';
import { bestMatchingSeries, decodePriors, descriptionSimilarity, descriptionWords, matchScore, priorText } from '../src/viewer-priors-model';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const SR = '1.2.840.10008.5.1.4.1.1.88.22';

function series(uid: string, modality: string, description: string, bodyPart: string, images: number, sopClassUid = CT): Series {
  return {
    seriesInstanceUid: uid,
    orthancId: `o-${uid}`,
    seriesNumber: null,
    modality,
    seriesDescription: description,
    bodyPartExamined: bodyPart,
    instanceCount: images,
    instances: Array.from({ length: images }, (_, i) => ({
      sopInstanceUid: `${uid}.${i}`,
      orthancId: `i-${uid}-${i}`,
      sopClassUid,
      instanceNumber: i + 1,
      numberOfFrames: 1,
      imagePositionPatient: [0, 0, i] as [number, number, number],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      transferSyntaxUid: '1.2.840.10008.1.2.1',
    })),
  };
}

describe('decodePriors', () => {
  it('reads the contract fields, with neutral values for odd ones', () => {
    const list = decodePriors({
      data: [
        { studyInstanceUid: '1.2', studyDate: '20230101', studyTime: '100000', studyDescription: 'CT Thorax', modalities: ['CT', 3], bodyParts: ['CHEST'], seriesCount: 2, instanceCount: 60, reportStatus: null },
        { studyInstanceUid: '1.3', modalities: 'CT', seriesCount: 'x' },
        { studyDescription: 'no uid: dropped' },
      ],
    });
    expect(list).toEqual([
      { studyInstanceUid: '1.2', studyDate: '20230101', studyTime: '100000', studyDescription: 'CT Thorax', modalities: ['CT'], bodyParts: ['CHEST'], seriesCount: 2, instanceCount: 60, reportStatus: null },
      { studyInstanceUid: '1.3', studyDate: '', studyTime: '', studyDescription: '', modalities: [], bodyParts: [], seriesCount: 0, instanceCount: 0, reportStatus: null },
    ]);
  });
  it('refuses an answer without a data array', () => {
    expect(() => decodePriors({ data: {} })).toThrow(DecodeError);
    expect(() => decodePriors(null)).toThrow(DecodeError);
  });
  it('gives the text of a prior, the report status when there is one', () => {
    const p = decodePriors({ data: [{ studyInstanceUid: '1', studyDate: '20230101', studyDescription: '<b>CT</b>', modalities: ['CT', 'SR'], reportStatus: 'final' }] })[0]!;
    expect(priorText(p)).toEqual({ title: '2023-01-01 · CT, SR', detail: '<b>CT</b>', report: 'Report: final' });
    expect(priorText({ ...p, studyDate: '', modalities: [], studyDescription: '', reportStatus: null })).toEqual({ title: 'No date', detail: '(no description)', report: '' });
  });
});

describe('description similarity', () => {
  it('folds case and accents and splits on punctuation', () => {
    expect(descriptionWords('ThoraxRoutine  8.0.0  B40f')).toEqual(['thoraxroutine', '8', '0', '0', 'b40f']);
    expect(descriptionWords('Tête/Cou')).toEqual(['tete', 'cou']);
  });
  it('is 1 for equal texts, 0 for disjoint ones, in between otherwise', () => {
    expect(descriptionSimilarity('CT Thorax', 'ct thorax')).toBe(1);
    expect(descriptionSimilarity('Lung 1mm', 'Bone')).toBe(0);
    expect(descriptionSimilarity('Thorax 5mm', 'Thorax 1mm')).toBeCloseTo(1 / 3);
    expect(descriptionSimilarity('', '')).toBe(1);
    expect(descriptionSimilarity('', 'x')).toBe(0);
  });
});

describe('bestMatchingSeries', () => {
  const current = { modality: 'CT', seriesDescription: 'ThoraxRoutine 8.0.0 B40f', bodyPartExamined: 'CHEST' };
  const prior = [
    series('mr', 'MR', 'ThoraxRoutine 8.0.0 B40f', 'CHEST', 30), // same description, other modality
    series('lung', 'CT', 'Lung 1mm', 'CHEST', 3),
    series('thorax', 'CT', 'ThoraxRoutine 8.0.0 B40f', 'CHEST', 30),
    series('sr', 'SR', 'ThoraxRoutine 8.0.0 B40f', 'CHEST', 1, SR),
  ];
  it('prefers the same modality over everything, then the closest description', () => {
    expect(bestMatchingSeries(current, prior)?.seriesInstanceUid).toBe('thorax');
    expect(matchScore(current, prior[0]!)).toBeLessThan(matchScore(current, prior[1]!));
  });
  it('uses the body part when descriptions say nothing', () => {
    const c = { modality: 'CT', seriesDescription: '', bodyPartExamined: 'ABDOMEN' };
    const list = [series('chest', 'CT', 'Axial', 'CHEST', 40), series('abd', 'CT', 'Axial', 'abdomen', 10)];
    expect(bestMatchingSeries(c, list)?.seriesInstanceUid).toBe('abd');
  });
  it('on a tie takes the series with more images, then the first', () => {
    const list = [series('a', 'CT', 'Axial', 'CHEST', 10), series('b', 'CT', 'Axial', 'CHEST', 20), series('c', 'CT', 'Axial', 'CHEST', 20)];
    expect(bestMatchingSeries({ modality: 'CT', seriesDescription: 'Axial', bodyPartExamined: 'CHEST' }, list)?.seriesInstanceUid).toBe('b');
  });
  it('falls back to the first image series; null without any', () => {
    expect(bestMatchingSeries(null, prior)?.seriesInstanceUid).toBe('mr'); // the most images, the first of them
    expect(bestMatchingSeries(current, [series('mr2', 'MR', 'T1', 'BRAIN', 3)])?.seriesInstanceUid).toBe('mr2');
    expect(bestMatchingSeries(current, [prior[3]!])).toBeNull();
    expect(bestMatchingSeries(current, [])).toBeNull();
  });
});
