// Review controls of a completed analysis: Accept / Reject / Edit per finding (in the findings table), the
// radiologist's notes and the Confirm / Save as modified / Reject decisions. The rule is in ai-review.ts.
import type { Analysis, FindingVerdict, ReviewDecision, ReviewPayload } from './ai-api';
import { DESCRIPTION_MAX, NOTES_MAX_BYTES, ReviewError, allowedDecisions, buildReviewPayload, effectiveVerdict, hasChanges, initialChoices, type FindingChoice } from './ai-review';
import type { FindingDecorator } from './ai-view';
import { labelled } from './dialog';
import { clearDraft, loadDraft, saveDraft } from './drafts';
import { hIn } from './dom';
import { messageOf } from './failure';

export interface ReviewFormOptions {
  analysis: Analysis;
  /** Sends the review; rejects with an Error whose message is shown under the buttons. */
  submit(payload: ReviewPayload): Promise<void>;
}

export interface ReviewForm {
  /** Goes into renderResult(): verdict buttons and description editors under each finding. */
  decorator: FindingDecorator;
  /** Notes, decision buttons and messages. */
  el: HTMLElement;
  /** Current choices (tests, debugging). */
  choices(): readonly FindingChoice[];
}

const VERDICT_BUTTONS: readonly { verdict: FindingVerdict; label: string }[] = [
  { verdict: 'accepted', label: 'Accept' },
  { verdict: 'rejected', label: 'Reject' },
  { verdict: 'edited', label: 'Edit' },
];

const DECISIONS: readonly { decision: ReviewDecision; label: string; cls: string }[] = [
  { decision: 'confirmed', label: 'Confirm', cls: 'btn btn-primary' },
  { decision: 'modified', label: 'Save as modified', cls: 'btn btn-primary' },
  { decision: 'rejected', label: 'Reject analysis', cls: 'btn btn-danger' },
];

/** What the decision buttons will do, in words. */
function reviewHint(choices: readonly FindingChoice[], findings: Analysis['findings']): string {
  if (hasChanges(choices, findings)) return 'Some findings were rejected or edited: save the review as modified, or reject the analysis.';
  return findings.length
    ? 'Confirm accepts every finding as it stands; reject or edit a finding to save a modified review.'
    : 'Confirm agrees that there is nothing to report; reject if the model missed something (say what in the notes).';
}

/** Accept / Reject / Edit of finding `index`. */
function verdictButtons(doc: Document, index: number, choose: (verdict: FindingVerdict) => void): HTMLButtonElement[] {
  return VERDICT_BUTTONS.map(({ verdict, label }) =>
    hIn(doc, 'button', {
      class: 'verdict-btn',
      attrs: { type: 'button', 'data-verdict': verdict, 'aria-pressed': 'false', title: `${label} finding ${index + 1}` },
      text: label,
      on: { click: () => choose(verdict) },
    }),
  );
}

/** The edited description of finding `index` (hidden until "Edit"); `changed` gets each new text. */
function findingEditor(doc: Document, index: number, text: string, changed: (text: string) => void): { box: HTMLDivElement; input: HTMLTextAreaElement } {
  const input = hIn(doc, 'textarea', {
    class: 'text-input finding-edit',
    attrs: { rows: 3, maxlength: DESCRIPTION_MAX, 'aria-label': `Edited description of finding ${index + 1}` },
  });
  input.value = text;
  input.addEventListener('input', () => changed(input.value));
  const box = hIn(doc, 'div', { class: 'finding-editor', attrs: { hidden: true } }, input);
  return { box, input };
}

function notesInput(doc: Document, value: string): HTMLTextAreaElement {
  const notes = hIn(doc, 'textarea', {
    class: 'text-input ai-notes',
    attrs: { name: 'radiologistNotes', rows: 3, maxlength: NOTES_MAX_BYTES, spellcheck: 'true', placeholder: 'Your assessment, corrections, missed findings…' },
  });
  notes.value = value;
  return notes;
}

// Over ~80 lines (about 110): one form whose controls (per-finding verdicts, notes, decision buttons)
// enable each other through shared state in this closure; the rules are in ai-review.ts, the controls'
// elements in the functions above.
export function createReviewForm(doc: Document, opts: ReviewFormOptions): ReviewForm {
  const findings = opts.analysis.findings;
  const choices: FindingChoice[] = initialChoices(opts.analysis);
  // what the user typed before an automatic log-off (drafts.ts), restored when it still fits the analysis
  const draftKey = `ai-review.${opts.analysis.id}`;
  const draft = loadDraft<{ notes?: unknown; choices?: unknown }>(draftKey);
  if (draft && Array.isArray(draft.choices) && draft.choices.length === choices.length) {
    draft.choices.forEach((c: unknown, i) => {
      const target = choices[i];
      if (!target || typeof c !== 'object' || c === null) return;
      const { verdict, text } = c as { verdict?: unknown; text?: unknown };
      if (verdict === null || verdict === 'accepted' || verdict === 'rejected' || verdict === 'edited') target.verdict = verdict;
      if (typeof text === 'string') target.text = text;
    });
  }
  const rows = new Map<number, HTMLTableRowElement>();
  const buttonGroups = new Map<number, HTMLButtonElement[]>();
  const editors = new Map<number, { box: HTMLDivElement; input: HTMLTextAreaElement }>();
  let pending = false;

  const notes = notesInput(doc, draft && typeof draft.notes === 'string' ? draft.notes : opts.analysis.radiologistNotes);
  const keepDraft = (): void => saveDraft(draftKey, { notes: notes.value, choices });
  notes.addEventListener('input', keepDraft);
  const hint = hIn(doc, 'p', { class: 'ai-review-hint small muted', attrs: { 'aria-live': 'polite' } });
  const error = hIn(doc, 'div', { class: 'error ai-review-error', attrs: { role: 'alert', hidden: true } });
  const decisionButtons = DECISIONS.map(({ decision, label, cls }) =>
    hIn(doc, 'button', {
      class: cls,
      attrs: { type: 'button', 'data-decision': decision },
      text: label,
      on: { click: () => void decide(decision) },
    }),
  );

  function refresh(): void {
    findings.forEach((f, i) => {
      const choice = choices[i];
      const effective = effectiveVerdict(choice, f);
      const row = rows.get(i);
      row?.setAttribute('data-verdict', effective ?? 'undecided');
      row?.nextElementSibling?.setAttribute('data-verdict', effective ?? 'undecided');
      for (const b of buttonGroups.get(i) ?? []) b.setAttribute('aria-pressed', b.dataset.verdict === choice?.verdict ? 'true' : 'false');
      const editor = editors.get(i);
      if (editor) editor.box.hidden = choice?.verdict !== 'edited';
    });
    const allowed = allowedDecisions(choices, findings);
    for (const b of decisionButtons) b.disabled = pending || !allowed[b.dataset.decision as ReviewDecision];
    hint.textContent = reviewHint(choices, findings);
  }

  function changed(): void {
    keepDraft();
    refresh();
  }

  function choose(index: number, verdict: FindingVerdict): void {
    const choice = choices[index];
    const finding = findings[index];
    if (!choice || !finding) return;
    choice.verdict = choice.verdict === verdict ? null : verdict; // a second click undoes the choice
    if (choice.verdict === 'edited') {
      const editor = editors.get(index);
      changed();
      editor?.input.focus();
      return;
    }
    changed();
  }

  const decorator: FindingDecorator = {
    controls(index) {
      const buttons = verdictButtons(doc, index, (verdict) => choose(index, verdict));
      buttonGroups.set(index, buttons);
      return hIn(doc, 'div', { class: 'verdicts', attrs: { role: 'group', 'aria-label': `Review of finding ${index + 1}` } }, ...buttons);
    },
    editor(index) {
      const editor = findingEditor(doc, index, choices[index]?.text ?? '', (text) => {
        const choice = choices[index];
        if (choice) choice.text = text;
        changed();
      });
      editors.set(index, editor);
      return editor.box;
    },
    row(index, tr) {
      rows.set(index, tr);
      refresh();
    },
  };

  async function decide(decision: ReviewDecision): Promise<void> {
    if (pending) return;
    error.hidden = true;
    let payload: ReviewPayload;
    try {
      payload = buildReviewPayload(decision, choices, findings, notes.value);
    } catch (err) {
      error.textContent = err instanceof ReviewError ? err.message : String(err);
      error.hidden = false;
      return;
    }
    pending = true;
    refresh();
    try {
      await opts.submit(payload);
      clearDraft(draftKey);
    } catch (err) {
      error.textContent = messageOf(err);
      error.hidden = false;
    } finally {
      pending = false;
      refresh();
    }
  }

  const el = hIn(
    doc,
    'section',
    { class: 'ai-review-form', attrs: { 'aria-label': 'Review' } },
    hIn(doc, 'h3', { class: 'ai-subtitle', text: opts.analysis.reviewStatus === 'pending' ? 'Your review' : 'Review again' }),
    labelled(doc, 'Radiologist notes', notes),
    hint,
    error,
    hIn(doc, 'div', { class: 'ai-decisions' }, ...decisionButtons),
  );
  refresh();
  return { decorator, el, choices: () => choices };
}
