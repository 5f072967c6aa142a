// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { statusMessage, statusTitle } from '../src/ai-format';
import { NOT_A_DIAGNOSIS, renderAnalysesList, renderHistory, renderProvenance, renderResult, renderReviewNotice, renderStatusBlock, severityBadge } from '../src/ai-view';
import { FAILURES, XSS, analysis } from './ai-fixtures';

function allTags(root: Element): string[] {
  return [root, ...Array.from(root.querySelectorAll('*'))].map((e) => e.tagName.toLowerCase());
}

function noHandlers(root: Element): void {
  for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
    for (const attr of Array.from(el.attributes)) expect(attr.name.startsWith('on')).toBe(false);
  }
}

describe('status of an analysis', () => {
  it('queued and running: progress with a Cancel button, no result', () => {
    for (const status of ['queued', 'running']) {
      let cancelled = 0;
      const block = renderStatusBlock(document, analysis({ status, findings: [], summary: '' }), { onCancel: () => (cancelled += 1) });
      expect(block).not.toBeNull();
      if (!block) return;
      expect(block.dataset.kind).toBe('progress');
      expect(block.getAttribute('role')).toBe('status');
      expect(block.querySelector('.spinner')).not.toBeNull();
      expect(block.textContent).toContain(statusTitle(status));
      const cancel = block.querySelector<HTMLButtonElement>('[data-action="ai-cancel"]');
      expect(cancel?.textContent).toBe('Cancel');
      cancel?.click();
      expect(cancelled).toBe(1);
    }
    const cancelling = renderStatusBlock(document, analysis({ status: 'running' }), { onCancel: () => undefined, cancelling: true });
    expect(cancelling?.querySelector<HTMLButtonElement>('[data-action="ai-cancel"]')?.disabled).toBe(true);
  });

  it('completed: no status block', () => {
    expect(renderStatusBlock(document, analysis())).toBeNull();
  });

  for (const [status, error] of Object.entries(FAILURES)) {
    it(`${status}: its own message and the error text, never "no findings"`, () => {
      const block = renderStatusBlock(document, analysis({ status, error, findings: [], summary: '' }), { onCancel: () => undefined });
      expect(block).not.toBeNull();
      if (!block) return;
      expect(block.getAttribute('role')).toBe('alert');
      expect(block.dataset.status).toBe(status);
      expect(block.querySelector('.ai-status-title')?.textContent).toBe(statusTitle(status));
      expect(block.querySelector('.ai-status-message')?.textContent).toBe(statusMessage(status));
      expect(block.querySelector('.ai-error-text')?.textContent).toBe(error);
      expect(block.querySelector('[data-action="ai-cancel"]')).toBeNull(); // final: nothing to cancel
      expect(block.textContent).not.toMatch(/no findings\b(?! were produced)/i);
      expect(block.textContent).toContain('does not mean the study is normal');
    });
  }

  it('each failure state has a message of its own', () => {
    const titles = new Set(Object.keys(FAILURES).map(statusTitle));
    const messages = new Set(Object.keys(FAILURES).map(statusMessage));
    expect(titles.size).toBe(Object.keys(FAILURES).length);
    expect(messages.size).toBe(Object.keys(FAILURES).length);
  });

  it('invalid: keeps the raw answer, as text', () => {
    const raw = `{"summary": "x", "findings": "${XSS}"}<script>window.__raw=1</script>`;
    const block = renderStatusBlock(document, analysis({ status: 'invalid', error: 'bad', rawText: raw }));
    expect(block?.querySelector('.ai-raw-text')?.textContent).toBe(raw);
    expect(block?.querySelectorAll('img, script').length).toBe(0);
  });

  it('an unknown status is named, not shown as a result', () => {
    const block = renderStatusBlock(document, analysis({ status: 'exploded<b>', error: '' }));
    expect(block?.dataset.kind).toBe('unknown');
    expect(block?.textContent).toContain('exploded<b>');
    expect(block?.querySelectorAll('b').length).toBe(0);
  });
});

describe('completed result', () => {
  it('summary, findings table, recommendations, confidence, provenance', () => {
    const a = analysis();
    const el = renderResult(document, a);
    expect(el.querySelector('.ai-summary')?.textContent).toBe(a.summary);
    const rows = el.querySelectorAll('tr.finding-row');
    expect(rows.length).toBe(3);
    const first = rows[0] as HTMLTableRowElement;
    expect(first.querySelector('.c-cat')?.textContent).toBe('Abnormality');
    expect(first.querySelector('.c-desc')?.textContent).toBe('Nodule 6 mm');
    expect(first.querySelector('.c-loc')?.textContent).toBe('right upper lobe');
    expect(first.querySelector('.c-conf')?.textContent).toBe('Medium');
    expect(first.querySelector('.severity-badge')?.getAttribute('data-severity')).toBe('moderate');
    expect(first.querySelectorAll('.sev-pip.on').length).toBe(2);
    expect(el.querySelector('.ai-recommendations')?.textContent).toBe('CT follow-up in 6 months');
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: High');
    expect(el.querySelector('.ai-confidence .conf-badge')?.getAttribute('data-confidence')).toBe('high');
    expect(el.querySelector('.c-review')).toBeNull(); // no review controls without a decorator
    const prov = renderProvenance(document, a).textContent;
    expect(prov).toBe('stand-in-2026-01 (requested stand-in) · openai · 2 images sent · 12.3 s · 1,234 in / 567 out tokens · cost 0.0123 · prompt p-1 · schema findings-2');
  });

  it("the original design's answer: a lesion finding and a high overall confidence", () => {
    const a = analysis({
      findings: [{ category: 'lesion', description: '8 mm solid nodule', location: 'right upper lobe', confidence: 'high', severity: 'moderate' }],
      aiConfidence: 'high',
    });
    const el = renderResult(document, a);
    expect(el.querySelector('tr.finding-row .c-cat')?.textContent).toBe('Lesion');
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: High');
  });

  it('an analysis stored with a number (findings-1) shows its band and the score', () => {
    // as the server answers it after the store's migration
    let el = renderResult(document, analysis({ aiConfidence: 'high', aiConfidenceScore: 0.72, schemaVersion: 'findings-1' }));
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: High (score 72 %)');
    // as an older server answered it: the number alone
    el = renderResult(document, analysis({ aiConfidence: 0.55 }));
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: Medium (score 55 %)');
    el = renderResult(document, analysis({ aiConfidence: 'LOW' }));
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: Low');
    el = renderResult(document, analysis({ aiConfidence: null }));
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: not given');
    el = renderResult(document, analysis({ aiConfidence: 'certain' }));
    expect(el.querySelector('.ai-confidence')?.textContent).toBe('AI confidence: not given');
  });

  it('no findings is said only for a completed answer without findings', () => {
    const el = renderResult(document, analysis({ findings: [] }));
    expect(el.querySelector('.ai-no-findings')?.textContent).toBe('The model reported no findings.');
    expect(el.querySelector('table')).toBeNull();
  });

  it('XSS: model strings are text, never markup', () => {
    const a = analysis({
      summary: `<script>window.__xss=1</script>${XSS}`,
      findings: [{ category: XSS, description: XSS, location: '<svg onload=alert(2)>', confidence: '<b>hi</b>', severity: '"><img src=y onerror=alert(3)>' }],
      recommendations: ['<iframe src=javascript:alert(4)>'],
      modelVersion: '<u>model</u>',
      provider: '<i>prov</i>',
    });
    const root = document.createElement('div');
    root.append(renderResult(document, a), renderProvenance(document, a));
    document.body.replaceChildren(root);
    expect(root.querySelectorAll('script, img, svg, iframe, b, u, i').length).toBe(0);
    const desc = root.querySelector('tr.finding-row .c-desc');
    expect(desc?.textContent).toBe(XSS);
    expect(root.querySelector('.ai-summary')?.textContent).toBe(`<script>window.__xss=1</script>${XSS}`);
    expect(root.querySelector('.ai-recommendations li')?.textContent).toBe('<iframe src=javascript:alert(4)>');
    expect(root.querySelector('.severity-badge')?.getAttribute('data-severity')).toBe('"><img src=y onerror=alert(3)>');
    expect(root.textContent).toContain('<u>model</u>');
    noHandlers(root);
    expect(allTags(root).every((t) => ['div', 'h3', 'p', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'ul', 'li', 'strong'].includes(t))).toBe(true);
  });

  it('severity badge ranks', () => {
    expect(['normal', 'mild', 'moderate', 'severe', 'critical', 'weird'].map((s) => severityBadge(document, s).querySelectorAll('.sev-pip.on').length)).toEqual([0, 1, 2, 3, 4, 0]);
  });
});

describe('review notice and history', () => {
  it('shows the not-a-diagnosis notice while the review is pending', () => {
    expect(renderReviewNotice(document, analysis())?.textContent).toBe(NOT_A_DIAGNOSIS);
    expect(renderReviewNotice(document, analysis({ status: 'failed' }))).toBeNull();
    const reviewed = renderReviewNotice(document, analysis({ reviewStatus: 'modified', reviewedBy: 'rad<b>x</b>', reviewedAt: '2026-11-24T11:00:00Z' }));
    expect(reviewed?.textContent).toContain('Modified by rad<b>x</b>');
    expect(reviewed?.textContent).not.toContain(NOT_A_DIAGNOSIS);
  });

  it('lists reviews newest first with who, when, status, verdicts and notes (as text)', () => {
    const el = renderHistory(document, [
      { at: '2026-11-24T10:05:00Z', reviewer: 'rad.one', reviewStatus: 'confirmed', notes: 'agree', findings: [{ index: 0, verdict: 'accepted', text: '' }] },
      {
        at: '2026-11-24T11:00:00Z',
        reviewer: 'rad.two',
        reviewStatus: 'modified',
        notes: `second look ${XSS}`,
        findings: [
          { index: 0, verdict: 'rejected', text: '' },
          { index: 1, verdict: 'edited', text: `Hernia ${XSS}` },
          { index: 2, verdict: 'accepted', text: '' },
        ],
      },
    ]);
    const entries = el.querySelectorAll('li.history-entry');
    expect(entries.length).toBe(2);
    const newest = entries[0] as HTMLElement;
    expect(newest.dataset.review).toBe('modified');
    expect(newest.classList.contains('latest')).toBe(true);
    expect(newest.querySelector('.history-reviewer')?.textContent).toBe('rad.two');
    expect(newest.querySelector('.history-at')?.textContent).toBe('2026-11-24 11:00');
    expect(newest.querySelector('.review-badge')?.textContent).toBe('Modified');
    expect(newest.querySelector('.history-verdicts')?.textContent).toBe('1 accepted · 1 rejected · 1 edited');
    expect(newest.querySelector('.history-edits')?.textContent).toBe(`#2 Edited: Hernia ${XSS}`);
    expect(newest.querySelector('.history-notes')?.textContent).toBe(`second look ${XSS}`);
    expect(el.querySelectorAll('img').length).toBe(0);
    expect(renderHistory(document, []).textContent).toContain('Not reviewed yet');
    expect(renderHistory(document, null).textContent).toContain('Not reviewed yet');
  });

  it('list of analyses: selected one marked, click selects', () => {
    const picked: string[] = [];
    const el = renderAnalysesList(document, [analysis({ id: 'b', status: 'running' }), analysis({ id: 'a' })], 'a', (id) => picked.push(id));
    const buttons = el.querySelectorAll<HTMLButtonElement>('button.ai-run');
    expect(buttons.length).toBe(2);
    expect(buttons[0]?.getAttribute('aria-current')).toBeNull();
    expect(buttons[1]?.getAttribute('aria-current')).toBe('true');
    expect(buttons[0]?.querySelector('.ai-badge')?.textContent).toBe('Running');
    expect(buttons[0]?.querySelector('.review-badge')).toBeNull();
    expect(buttons[1]?.querySelector('.review-badge')?.textContent).toBe('Pending review');
    buttons[0]?.click();
    expect(picked).toEqual(['b']);
  });
});
