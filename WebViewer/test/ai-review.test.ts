import { describe, expect, it } from 'vitest';
import { ReviewError, allowedDecisions, buildReviewPayload, initialChoices, latestReview, validateChoices, verdictSummary, type FindingChoice } from '../src/ai-review';
import { analysis } from './ai-fixtures';

const a = analysis();
const findings = a.findings;
const undecided = (): FindingChoice[] => findings.map((f) => ({ verdict: null, text: f.description }));

describe('review payload from the per-finding choices', () => {
  it('confirm: every finding accepted; notes trimmed; no reviewer field', () => {
    const choices = undecided();
    choices[0] = { verdict: 'accepted', text: findings[0]?.description ?? '' };
    const payload = buildReviewPayload('confirmed', choices, findings, '  agree  ');
    expect(payload).toEqual({
      reviewStatus: 'confirmed',
      radiologistNotes: 'agree',
      findings: [
        { index: 0, verdict: 'accepted' },
        { index: 1, verdict: 'accepted' },
        { index: 2, verdict: 'accepted' },
      ],
    });
    expect(Object.keys(payload)).not.toContain('reviewedBy');
  });

  it('modified: rejected and edited kept, edited text sent, undecided accepted', () => {
    const choices = undecided();
    choices[0] = { verdict: 'rejected', text: 'Nodule 6 mm' };
    choices[1] = { verdict: 'edited', text: '  Large hiatal hernia  ' };
    expect(allowedDecisions(choices, findings)).toEqual({ confirmed: false, modified: true, rejected: true });
    expect(buildReviewPayload('modified', choices, findings, 'see notes')).toEqual({
      reviewStatus: 'modified',
      radiologistNotes: 'see notes',
      findings: [
        { index: 0, verdict: 'rejected' },
        { index: 1, verdict: 'edited', text: 'Large hiatal hernia' },
        { index: 2, verdict: 'accepted' },
      ],
    });
  });

  it('confirm is refused once a finding is rejected or edited; modified is refused without changes', () => {
    const changed = undecided();
    changed[2] = { verdict: 'rejected', text: '' };
    expect(() => buildReviewPayload('confirmed', changed, findings, '')).toThrow(ReviewError);
    expect(() => buildReviewPayload('modified', undecided(), findings, '')).toThrow(/confirm/);
    expect(allowedDecisions(undecided(), findings)).toEqual({ confirmed: true, modified: false, rejected: true });
  });

  it('reject: always allowed; explicit verdicts kept, undecided findings rejected', () => {
    const choices = undecided();
    choices[1] = { verdict: 'accepted', text: '' };
    expect(buildReviewPayload('rejected', choices, findings, 'wrong study').findings).toEqual([
      { index: 0, verdict: 'rejected' },
      { index: 1, verdict: 'accepted' },
      { index: 2, verdict: 'rejected' },
    ]);
    expect(buildReviewPayload('rejected', [], [], '')).toEqual({ reviewStatus: 'rejected', radiologistNotes: '', findings: [] });
  });

  it('an edit that changes nothing is an acceptance; an empty edit is refused', () => {
    const same = undecided();
    same[0] = { verdict: 'edited', text: ` ${findings[0]?.description} ` };
    expect(allowedDecisions(same, findings).confirmed).toBe(true);
    expect(buildReviewPayload('confirmed', same, findings, '').findings[0]).toEqual({ index: 0, verdict: 'accepted' });

    const empty = undecided();
    empty[1] = { verdict: 'edited', text: '   ' };
    expect(validateChoices(empty, findings)).toEqual(['Finding 2: the edited description is empty.']);
    expect(() => buildReviewPayload('modified', empty, findings, '')).toThrow('Finding 2: the edited description is empty.');
  });

  it('notes over the server\'s 8000 bytes are refused before sending', () => {
    expect(() => buildReviewPayload('confirmed', undecided(), findings, 'é'.repeat(4001))).toThrow(/8000 bytes/);
    expect(buildReviewPayload('confirmed', undecided(), findings, 'é'.repeat(4000)).radiologistNotes).toHaveLength(4000);
  });

  it('an analysis without findings can be confirmed or rejected', () => {
    expect(allowedDecisions([], [])).toEqual({ confirmed: true, modified: false, rejected: true });
    expect(buildReviewPayload('confirmed', [], [], '').findings).toEqual([]);
  });
});

describe('starting point and history', () => {
  it('starts undecided, or from the latest review', () => {
    expect(initialChoices(a).map((c) => c.verdict)).toEqual([null, null, null]);
    const reviewed = analysis({
      reviews: [
        { at: '2026-11-24T12:00:00Z', reviewer: 'r2', reviewStatus: 'modified', notes: '', findings: [{ index: 1, verdict: 'edited', text: 'Edited hernia' }, { index: 0, verdict: 'rejected' }] },
        { at: '2026-11-24T11:00:00Z', reviewer: 'r1', reviewStatus: 'confirmed', notes: '', findings: [{ index: 0, verdict: 'accepted' }] },
      ],
    });
    expect(latestReview(reviewed.reviews)?.reviewer).toBe('r2');
    expect(initialChoices(reviewed)).toEqual([
      { verdict: 'rejected', text: 'Nodule 6 mm' },
      { verdict: 'edited', text: 'Edited hernia' },
      { verdict: null, text: 'Motion artifact' },
    ]);
  });

  it('summarises verdicts', () => {
    expect(verdictSummary({ findings: [] })).toBe('');
    expect(
      verdictSummary({
        findings: [
          { index: 0, verdict: 'edited', text: 'x' },
          { index: 1, verdict: 'accepted', text: '' },
          { index: 2, verdict: 'accepted', text: '' },
        ],
      }),
    ).toBe('2 accepted · 1 edited');
  });
});
