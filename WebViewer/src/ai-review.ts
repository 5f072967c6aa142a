// The review of a completed analysis: per-finding choices -> the PUT ai/analysis/{id}/review body.
//
// Rule of the three decisions (what a radiologist means by them):
//   - Confirm   "the AI output is right as it stands": only possible while no finding is rejected or edited.
//               Every finding is sent as accepted (a finding left undecided is accepted by confirming the whole).
//   - Save as modified  "right after my corrections": REQUIRED as soon as one finding is rejected or edited
//               (Confirm is then disabled), and only possible then (with nothing changed it would be a Confirm).
//               Findings left undecided are sent as accepted: they stay in the corrected result.
//   - Reject    "the AI output as a whole is not usable": always possible. Explicit verdicts are kept for the
//               record, findings left undecided are sent as rejected.
// An edit whose text is the original description (ignoring surrounding white space) counts as accepted, so
// opening the editor and closing it unchanged does not force "modified". An edit may not be empty.
import type { Analysis, Finding, FindingVerdict, Review, ReviewDecision, ReviewPayload } from './ai-api';

/** A reviewer's choice for one finding; verdict null = not decided yet. text: the edited description. */
export interface FindingChoice {
  verdict: FindingVerdict | null;
  text: string;
}

export const DESCRIPTION_MAX = 2000;
/** The server's limit of the radiologist's notes, in UTF-8 bytes. */
export const NOTES_MAX_BYTES = 8000;

const utf8Length = (text: string): number => new TextEncoder().encode(text).length;

/** The newest review of an analysis (by time; the last one sent when times are equal or missing). */
export function latestReview(reviews: readonly Review[] | null): Review | null {
  if (!reviews || reviews.length === 0) return null;
  let best: Review | null = null;
  let bestAt = -Infinity;
  for (const r of reviews) {
    const at = Date.parse(r.at);
    const t = Number.isNaN(at) ? -Infinity : at;
    if (best === null || t >= bestAt) {
      best = r;
      bestAt = t;
    }
  }
  return best;
}

/** Choices to start from: the latest review's verdicts (to amend it), else all undecided. */
export function initialChoices(analysis: Pick<Analysis, 'findings' | 'reviews'>): FindingChoice[] {
  const review = latestReview(analysis.reviews);
  return analysis.findings.map((f, index) => {
    const reviewed = review?.findings.find((r) => r.index === index);
    const verdict = reviewed && ['accepted', 'rejected', 'edited'].includes(reviewed.verdict) ? (reviewed.verdict as FindingVerdict) : null;
    return { verdict, text: verdict === 'edited' && reviewed?.text ? reviewed.text : f.description };
  });
}

/** The verdict that counts: an edit that changes nothing is an acceptance. */
export function effectiveVerdict(choice: FindingChoice | undefined, finding: Finding): FindingVerdict | null {
  if (!choice) return null;
  if (choice.verdict === 'edited' && choice.text.trim() === finding.description.trim()) return 'accepted';
  return choice.verdict;
}

/** true when a finding is rejected or edited: the review must then be "modified" (or "rejected"). */
export function hasChanges(choices: readonly FindingChoice[], findings: readonly Finding[]): boolean {
  return findings.some((f, i) => {
    const v = effectiveVerdict(choices[i], f);
    return v === 'rejected' || v === 'edited';
  });
}

/** Which decisions the current choices allow (see the rule at the top). */
export function allowedDecisions(choices: readonly FindingChoice[], findings: readonly Finding[]): Record<ReviewDecision, boolean> {
  const changed = hasChanges(choices, findings);
  return { confirmed: !changed, modified: changed, rejected: true };
}

/** Problems that prevent saving ("Finding 2: the edited description is empty."). */
export function validateChoices(choices: readonly FindingChoice[], findings: readonly Finding[]): string[] {
  const problems: string[] = [];
  findings.forEach((f, i) => {
    const c = choices[i];
    if (effectiveVerdict(c, f) !== 'edited' || !c) return;
    const text = c.text.trim();
    if (text === '') problems.push(`Finding ${i + 1}: the edited description is empty.`);
    else if (text.length > DESCRIPTION_MAX) problems.push(`Finding ${i + 1}: the edited description is longer than ${DESCRIPTION_MAX} characters.`);
  });
  return problems;
}

export class ReviewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReviewError';
  }
}

/** The PUT body for a decision; throws ReviewError when the rule or the edits do not allow it. Never names the reviewer. */
export function buildReviewPayload(
  decision: ReviewDecision,
  choices: readonly FindingChoice[],
  findings: readonly Finding[],
  notes: string,
): ReviewPayload {
  const allowed = allowedDecisions(choices, findings);
  if (!allowed[decision]) {
    throw new ReviewError(
      decision === 'confirmed'
        ? 'Some findings were rejected or edited: save the review as modified (or reject the analysis).'
        : 'No finding was rejected or edited: confirm the analysis instead.',
    );
  }
  const problems = validateChoices(choices, findings);
  if (utf8Length(notes.trim()) > NOTES_MAX_BYTES) problems.push(`The notes are longer than the ${NOTES_MAX_BYTES} bytes the server keeps.`);
  if (problems.length) throw new ReviewError(problems.join(' '));
  const undecided: FindingVerdict = decision === 'rejected' ? 'rejected' : 'accepted';
  return {
    reviewStatus: decision,
    radiologistNotes: notes.trim(),
    findings: findings.map((f, index) => {
      const verdict = decision === 'confirmed' ? 'accepted' : (effectiveVerdict(choices[index], f) ?? undecided);
      return verdict === 'edited' ? { index, verdict, text: (choices[index]?.text ?? '').trim() } : { index, verdict };
    }),
  };
}

/** "2 accepted · 1 rejected · 1 edited" for a review history entry ("" without per-finding verdicts). */
export function verdictSummary(review: Pick<Review, 'findings'>): string {
  const counts = new Map<string, number>();
  for (const f of review.findings) counts.set(f.verdict, (counts.get(f.verdict) ?? 0) + 1);
  return ['accepted', 'rejected', 'edited', ...[...counts.keys()].filter((k) => !['accepted', 'rejected', 'edited'].includes(k))]
    .filter((k) => counts.has(k))
    .map((k) => `${counts.get(k)} ${k}`)
    .join(' · ');
}
