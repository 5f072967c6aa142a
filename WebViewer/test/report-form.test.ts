// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { readTemplate } from '../src/report-api';
import { createReportForm, emptyFields, isEmptyValue, parseInput, renderReadOnly, valueText } from '../src/report-form';
import { XSS, templateBody } from './report-fixtures';

const t = readTemplate(templateBody());
const field = (id: string) => t.sections.flatMap((s) => s.fields).find((f) => f.id === id)!;

afterEach(() => document.body.replaceChildren());

describe('report form values per type', () => {
  it('parses what is typed per type', () => {
    expect(parseInput(field('nodule'), '6,5')).toBe(6.5);
    expect(parseInput(field('nodule'), '')).toBeNull();
    expect(parseInput(field('nodule'), 'abc')).toBeNull();
    expect(parseInput(field('priorDate'), '')).toBeNull();
    expect(parseInput(field('priorDate'), '2026-01-02')).toBe('2026-01-02');
    expect(parseInput(field('contrast'), '')).toBeNull();
    expect(parseInput(field('lobes'), ['rul', 'lll'])).toEqual(['rul', 'lll']);
    expect(parseInput(field('findings'), '  spaces kept ')).toBe('  spaces kept ');
  });

  it('empty values and the fields that warn or block', () => {
    expect([null, '', '  ', [], undefined].every((v) => isEmptyValue(v as never))).toBe(true);
    expect([0, 'x', ['a']].some((v) => isEmptyValue(v))).toBe(false);
    const values = { indication: '', findings: 'x', impression: ' ' };
    expect(emptyFields(t, values, 'block').map((f) => f.id)).toEqual(['impression']);
    expect(emptyFields(t, values, 'warn').map((f) => f.id)).toEqual(['indication']);
  });

  it('value text: unit, option labels, empty', () => {
    expect(valueText(field('nodule'), 6)).toBe('6 mm');
    expect(valueText(field('lobes'), ['rul', 'lll'])).toBe('Right upper, Left lower');
    expect(valueText(field('contrast'), 'iv')).toBe('iv');
    expect(valueText(field('impression'), '')).toBe('—');
  });

  it('the form shows each type, reads and sets values, reports edits, highlights fields', () => {
    const changes: unknown[] = [];
    const form = createReportForm(document, t, { findings: 'Lungs: clear.', nodule: 6, contrast: 'iv', lobes: ['lll'], priorDate: '2025-01-01' }, { onChange: (v) => changes.push(v) });
    document.body.append(form.el);
    expect(form.el.querySelector('textarea[data-field="findings"]')).not.toBeNull();
    expect(form.el.querySelector<HTMLInputElement>('input[data-field="nodule"]')?.type).toBe('number');
    expect(form.el.querySelector('.report-unit')?.textContent).toBe('mm');
    expect(form.el.querySelector<HTMLInputElement>('input[data-field="priorDate"]')?.type).toBe('date');
    expect(form.el.querySelectorAll('select[data-field="contrast"] option').length).toBe(3);
    expect(form.el.querySelectorAll('[data-field="lobes"] input[type="checkbox"]').length).toBe(2);
    expect(form.el.querySelector('[data-field-id="findings"] .req-block')).not.toBeNull();
    expect(form.el.querySelector('[data-field-id="indication"] .req-warn')).not.toBeNull();
    expect(form.values()).toEqual({ indication: '', comparison: '', findings: 'Lungs: clear.', nodule: 6, contrast: 'iv', lobes: ['lll'], priorDate: '2025-01-01', impression: '' });

    const nodule = form.el.querySelector<HTMLInputElement>('input[data-field="nodule"]')!;
    nodule.value = '7';
    nodule.dispatchEvent(new Event('input', { bubbles: true }));
    const rul = form.el.querySelector<HTMLInputElement>('[data-option="rul"]')!;
    rul.checked = true;
    rul.dispatchEvent(new Event('change', { bubbles: true }));
    expect(changes.at(-1)).toMatchObject({ nodule: 7, lobes: ['rul', 'lll'] });

    form.setValues({ contrast: 'other-value', nodule: null });
    expect(form.values().contrast).toBe('other-value');
    expect(form.values().nodule).toBeNull();
    expect(form.values().findings).toBe('Lungs: clear.'); // missing: the default

    form.highlight(['impression']);
    const wrap = form.el.querySelector('[data-field-id="impression"]')!;
    expect(wrap.classList.contains('field-missing')).toBe(true);
    expect(wrap.querySelector('textarea')?.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(wrap.querySelector('textarea'));
    wrap.querySelector('textarea')!.dispatchEvent(new Event('input', { bubbles: true }));
    expect(wrap.classList.contains('field-missing')).toBe(false);
    expect(form.textControls().map((c) => c.getAttribute('data-field'))).toEqual(['indication', 'comparison', 'findings', 'impression']);
  });

  it('labels and values from the server are text, never markup', () => {
    const x = readTemplate(templateBody({ title: XSS, sections: [{ id: 's', title: XSS, fields: [{ id: 'f', label: XSS, type: 'choice', options: [XSS] }] }] }));
    const form = createReportForm(document, x, { f: XSS });
    expect(form.el.querySelector('img')).toBeNull();
    expect(form.el.querySelector('legend')?.textContent).toBe(XSS);
    const ro = renderReadOnly(document, x, { f: XSS });
    expect(ro.querySelector('img')).toBeNull();
    expect(ro.querySelector('dd')?.textContent).toBe(XSS);
  });

  it('the read-only view lists non-empty fields by section', () => {
    const ro = renderReadOnly(document, t, { findings: 'Nodule.', nodule: 6, impression: '' });
    expect([...ro.querySelectorAll('h3')].map((h) => h.textContent)).toEqual(['Findings']);
    expect([...ro.querySelectorAll('dd')].map((d) => d.textContent)).toEqual(['Nodule.', '6 mm']);
  });
});
