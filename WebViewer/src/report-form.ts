// The report's form: a template's sections and fields (text, long text, number with unit, date, single and
// multiple choice), its values read and set, the fields a signature needs highlighted, and the read-only view
// of a signed version. Values follow report-api.ts FieldValue; strings go into the DOM as text only.
import { hIn } from './dom';
import { uid } from './dialog';
import { readFieldValue, type FieldValue, type FieldValues, type Template, type TemplateField } from './report-api';

/** True when a value counts as empty for the completion rules (blank text, no number, no choice). */
export function isEmptyValue(v: FieldValue | undefined): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  return !Number.isFinite(v);
}

/** The fields of `t` with completion rule `level` that are empty in `values`, in template order. */
export function emptyFields(t: Template, values: FieldValues, level: 'warn' | 'block'): TemplateField[] {
  return t.sections.flatMap((s) => s.fields).filter((f) => f.required === level && isEmptyValue(values[f.id]));
}

/** The value of a field's control as typed: '' → null for numbers and dates; a number outside min/max stays (the server says). */
export function parseInput(field: TemplateField, raw: string | string[]): FieldValue {
  if (field.type === 'multichoice') return Array.isArray(raw) ? raw : raw ? [raw] : [];
  const text = Array.isArray(raw) ? (raw[0] ?? '') : raw;
  if (field.type === 'number') {
    const t = text.trim().replace(',', '.');
    return t === '' || !Number.isFinite(Number(t)) ? null : Number(t);
  }
  if (field.type === 'date' || field.type === 'choice') return text === '' ? null : text;
  return text;
}

/** How a value reads in the signed view and the inserts ("12.5 mm", "a, b", "—" for empty). */
export function valueText(field: TemplateField, v: FieldValue | undefined): string {
  if (isEmptyValue(v)) return '—';
  const label = (x: string): string => field.options.find((o) => o.value === x)?.label ?? x;
  if (Array.isArray(v)) return v.map(label).join(', ');
  if (field.type === 'number') return field.unit ? `${String(v)} ${field.unit}` : String(v);
  if (field.type === 'choice' && typeof v === 'string') return label(v);
  return String(v);
}

/** Values equal for saving (arrays by content). */
export function sameValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
  return (a ?? null) === (b ?? null);
}

export interface ReportForm {
  el: HTMLElement;
  values(): FieldValues;
  setValues(values: FieldValues): void;
  /** Marks the listed fields (a 422 incomplete), focusing the first; [] clears the marks. */
  highlight(ids: readonly string[]): void;
  /** The text controls (input text / textarea) of the form, for macros. */
  textControls(): (HTMLInputElement | HTMLTextAreaElement)[];
  setDisabled(disabled: boolean): void;
}

export interface FormOptions {
  /** Called after every edit of a control (input and change events). */
  onChange?(values: FieldValues): void;
  /** The root element: a <form> (default) or a <div> (inside another form, e.g. the correction dialog). */
  root?: 'form' | 'div';
}

interface Control {
  field: TemplateField;
  wrap: HTMLElement;
  read(): FieldValue;
  write(v: FieldValue): void;
  focus(): void;
  disable(d: boolean): void;
}

function requiredMark(doc: Document, f: TemplateField): HTMLElement | null {
  if (f.required === 'block') return hIn(doc, 'span', { class: 'req req-block', attrs: { title: 'Required to sign' }, text: ' *' });
  if (f.required === 'warn') return hIn(doc, 'span', { class: 'req req-warn', attrs: { title: 'Expected: a warning is shown when empty at signing' }, text: ' (expected)' });
  return null;
}

function choiceControl(doc: Document, f: TemplateField, id: string): Omit<Control, 'field' | 'wrap'> & { el: HTMLElement } {
  if (f.type === 'choice') {
    const select = hIn(doc, 'select', { class: 'text-input', attrs: { id, 'data-field': f.id } }, hIn(doc, 'option', { attrs: { value: '' }, text: '—' }));
    for (const o of f.options) select.appendChild(hIn(doc, 'option', { attrs: { value: o.value }, text: o.label }));
    return {
      el: select,
      read: () => parseInput(f, select.value),
      write: (v) => {
        const s = typeof v === 'string' ? v : '';
        if (s && !f.options.some((o) => o.value === s)) select.appendChild(hIn(doc, 'option', { attrs: { value: s }, text: s }));
        select.value = s;
      },
      focus: () => select.focus(),
      disable: (d) => (select.disabled = d),
    };
  }
  const boxes = f.options.map((o) =>
    hIn(doc, 'input', { attrs: { type: 'checkbox', value: o.value, 'data-option': o.value } }),
  );
  const group = hIn(
    doc,
    'div',
    { class: 'report-choices', attrs: { id, role: 'group', 'data-field': f.id } },
    ...boxes.map((b, i) => hIn(doc, 'label', { class: 'report-choice' }, b, ` ${f.options[i]?.label ?? ''}`)),
  );
  return {
    el: group,
    read: () => parseInput(f, boxes.filter((b) => b.checked).map((b) => b.value)),
    write: (v) => {
      const on = Array.isArray(v) ? v : [];
      for (const b of boxes) b.checked = on.includes(b.value);
    },
    focus: () => boxes[0]?.focus(),
    disable: (d) => boxes.forEach((b) => (b.disabled = d)),
  };
}

function inputControl(doc: Document, f: TemplateField, id: string): Omit<Control, 'field' | 'wrap'> & { el: HTMLElement } {
  if (f.type === 'choice' || f.type === 'multichoice') return choiceControl(doc, f, id);
  let input: HTMLInputElement | HTMLTextAreaElement;
  if (f.type === 'longtext') {
    input = hIn(doc, 'textarea', { class: 'text-input report-longtext', attrs: { id, rows: 4, 'data-field': f.id, spellcheck: 'true' } });
  } else {
    const type = f.type === 'number' ? 'number' : f.type === 'date' ? 'date' : 'text';
    input = hIn(doc, 'input', {
      class: `text-input report-${f.type}`,
      attrs: { id, type, 'data-field': f.id, step: f.type === 'number' ? 'any' : null, min: f.min, max: f.max, inputmode: f.type === 'number' ? 'decimal' : null },
    });
  }
  if (f.placeholder) input.placeholder = f.placeholder;
  const el = f.type === 'number' && f.unit ? hIn(doc, 'span', { class: 'report-number' }, input, hIn(doc, 'span', { class: 'report-unit', text: f.unit })) : input;
  return {
    el,
    read: () => parseInput(f, input.value),
    write: (v) => {
      input.value = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(', ') : String(v);
    },
    focus: () => input.focus(),
    disable: (d) => (input.disabled = d),
  };
}

/** The editable form of a template; `values` fill it (missing ones: the template's default). */
export function createReportForm(doc: Document, t: Template, values: FieldValues, opts: FormOptions = {}): ReportForm {
  const controls: Control[] = [];
  const sections = t.sections.map((s) =>
    hIn(
      doc,
      'fieldset',
      { class: 'report-section', attrs: { 'data-section': s.id, title: s.meaning || null } },
      hIn(doc, 'legend', { class: 'report-section-title', text: s.title || s.meaning || s.id }),
      ...s.fields.map((f) => {
        const id = uid('report-field');
        const c = inputControl(doc, f, id);
        const labelEl = f.type === 'multichoice'
          ? hIn(doc, 'span', { class: 'field-label', attrs: { id: `${id}-label` }, text: f.label }, requiredMark(doc, f))
          : hIn(doc, 'label', { class: 'field-label', attrs: { for: id }, text: f.label }, requiredMark(doc, f));
        if (f.type === 'multichoice') c.el.setAttribute('aria-labelledby', `${id}-label`);
        const wrap = hIn(doc, 'div', { class: `field report-field report-field-${f.type}`, attrs: { 'data-field-id': f.id } }, labelEl, c.el);
        controls.push({ field: f, wrap, read: c.read, write: c.write, focus: c.focus, disable: c.disable });
        return wrap;
      }),
    ),
  );
  const el: HTMLElement = opts.root === 'div'
    ? hIn(doc, 'div', { class: 'report-form', attrs: { role: 'group', 'aria-label': t.title } }, ...sections)
    : hIn(doc, 'form', { class: 'report-form', attrs: { novalidate: true, 'aria-label': t.title } }, ...sections);
  el.addEventListener('submit', (e) => e.preventDefault());

  const read = (): FieldValues => {
    const out: FieldValues = {};
    for (const c of controls) out[c.field.id] = c.read();
    return out;
  };
  const setValues = (v: FieldValues): void => {
    for (const c of controls) c.write(c.field.id in v ? readFieldValue(c.field.type, v[c.field.id]) : c.field.default);
  };
  setValues(values);
  const changed = (e: Event): void => {
    const wrap = (e.target as Element | null)?.closest?.('.report-field');
    if (wrap?.classList.contains('field-missing')) {
      wrap.classList.remove('field-missing');
      wrap.querySelector('[aria-invalid]')?.removeAttribute('aria-invalid');
    }
    opts.onChange?.(read());
  };
  el.addEventListener('input', changed);
  el.addEventListener('change', changed);

  return {
    el,
    values: read,
    setValues,
    highlight(ids) {
      let first: Control | null = null;
      for (const c of controls) {
        const on = ids.includes(c.field.id);
        c.wrap.classList.toggle('field-missing', on);
        const ctl = c.wrap.querySelector('[data-field]');
        if (on) ctl?.setAttribute('aria-invalid', 'true');
        else ctl?.removeAttribute('aria-invalid');
        if (on && !first) first = c;
      }
      (first as Control | null)?.focus();
    },
    textControls: () => Array.from(el.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('textarea[data-field], input[type="text"][data-field]')),
    setDisabled(d) {
      for (const c of controls) c.disable(d);
    },
  };
}

/** A signed version read-only: each section with its non-empty fields ("Findings" → label: value). */
export function renderReadOnly(doc: Document, t: Template, values: FieldValues): HTMLElement {
  const sections = t.sections.map((s) => {
    const rows = s.fields
      .filter((f) => !isEmptyValue(values[f.id]))
      .map((f) =>
        hIn(
          doc,
          'div',
          { class: `report-ro-field report-ro-${f.type}`, attrs: { 'data-field-id': f.id } },
          // a section of one field named like it ("Impression / Impression") shows the name once
          s.fields.length === 1 && f.label.trim().toLowerCase() === (s.title || '').trim().toLowerCase() ? null : hIn(doc, 'dt', { text: f.label }),
          hIn(doc, 'dd', { text: valueText(f, values[f.id]) }),
        ),
      );
    if (rows.length === 0) return null;
    return hIn(doc, 'section', { class: 'report-ro-section', attrs: { 'data-section': s.id } }, hIn(doc, 'h3', { text: s.title || s.id }), hIn(doc, 'dl', {}, ...rows));
  });
  const present = sections.filter((x): x is HTMLElement => x !== null);
  return hIn(doc, 'div', { class: 'report-readonly' }, ...(present.length ? present : [hIn(doc, 'p', { class: 'muted', text: 'No content.' })]));
}
