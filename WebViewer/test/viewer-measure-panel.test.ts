// @vitest-environment happy-dom
// The measurement panel: rows as text (hostile labels stay text), own rows editable, others' read-only, the
// inline label editor, key images, and the save state in the panel and the toolbar chip.
import { describe, expect, it } from 'vitest';
import { createMeasurePanel, type PanelRow } from '../src/viewer-measure-panel';

const row = (over: Partial<PanelRow> = {}): PanelRow => ({
  uid: 'u1', tool: 'Length', label: '', value: '12.3 mm', where: 'Se 2, Im 5', author: 'rad1', readOnly: false, why: '', ...over,
});

function rig() {
  const calls: string[] = [];
  const p = createMeasurePanel({
    onShow: (uid) => calls.push(`show ${uid}`),
    onShowKey: (id) => calls.push(`key ${id}`),
    onRelabel: (uid, label) => calls.push(`label ${uid} ${label}`),
    onDelete: (uid) => calls.push(`delete ${uid}`),
    onClose: () => calls.push('close'),
  });
  document.body.replaceChildren(p.element, p.chip);
  p.setHidden(false);
  return { p, calls };
}

describe('measurement panel', () => {
  it('lists rows as text; own rows have Label and Delete, read-only ones none', () => {
    const { p, calls } = rig();
    p.render([row({ label: '<img src=x onerror=alert(1)>' }), row({ uid: 'u2', readOnly: true, why: 'By another user: read-only', author: 'rad2' })], []);
    const items = p.element.querySelectorAll('li[data-rr-annotation-uid]');
    expect(items).toHaveLength(2);
    expect(p.element.querySelector('img')).toBeNull();
    expect(items[0]!.querySelector('.measure-label')!.textContent).toBe('<img src=x onerror=alert(1)>');
    expect(items[0]!.querySelector('.measure-where')!.textContent).toBe('Se 2, Im 5 · rad1');
    expect(items[0]!.querySelectorAll('button[data-rr-act]')).toHaveLength(2);
    expect(items[1]!.getAttribute('data-rr-readonly')).toBe('true');
    expect(items[1]!.querySelectorAll('button[data-rr-act]')).toHaveLength(0);
    (items[1]!.querySelector('button.measure-item') as HTMLButtonElement).click();
    (items[0]!.querySelector('button[data-rr-act="delete"]') as HTMLButtonElement).click();
    expect(calls).toEqual(['show u2', 'delete u1']);
  });

  it('relabels inline: Enter saves, Escape keeps the old label', () => {
    const { p, calls } = rig();
    p.render([row()], []);
    (p.element.querySelector('button[data-rr-act="label"]') as HTMLButtonElement).click();
    const input = p.element.querySelector('input.measure-label-input') as HTMLInputElement;
    expect(input).not.toBeNull();
    // a re-render while editing keeps the editor
    p.render([row()], []);
    expect(p.element.querySelector('input.measure-label-input')).toBe(input);
    input.value = 'aorta';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(calls).toEqual(['label u1 aorta']);
    p.render([row({ label: 'aorta' })], []);
    (p.element.querySelector('button[data-rr-act="label"]') as HTMLButtonElement).click();
    const again = p.element.querySelector('input.measure-label-input') as HTMLInputElement;
    again.value = 'other';
    again.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    expect(calls).toEqual(['label u1 aorta']);
    expect(p.element.querySelector('.measure-label')!.textContent).toBe('aorta');
  });

  it('key images and the empty states', () => {
    const { p, calls } = rig();
    p.render([], []);
    expect(p.element.textContent).toContain('No measurements');
    expect(p.element.textContent).toContain('No key images');
    p.render([], [{ id: '1.2.3:1', where: 'Se 2, Im 1', author: 'rad1' }]);
    (p.element.querySelector('li[data-rr-key-image="1.2.3:1"] button') as HTMLButtonElement).click();
    expect(calls).toEqual(['key 1.2.3:1']);
  });

  it('shows the save state in the panel and on the toolbar chip', () => {
    const { p } = rig();
    expect(p.chip.textContent).toBe('Saved');
    p.setSaveState('retrying', 'Network error');
    expect(p.chip.textContent).toBe('Not saved — retrying');
    expect(p.chip.getAttribute('data-rr-save-state')).toBe('retrying');
    expect(p.chip.title).toBe('Network error');
    expect(p.element.getAttribute('data-rr-save-state')).toBe('retrying');
    p.setSaveState('saving', '');
    expect(p.chip.textContent).toBe('Saving…');
    p.notice('Changed elsewhere');
    expect(p.element.querySelector('.measure-notice')!.textContent).toBe('Changed elsewhere');
  });
});
