// The report template editor's form (templates.ts): the template's id, title and matching rules, then its
// sections and their fields (label, id, type, completion rule, options, unit, min, max, default,
// placeholder), each movable and removable. Typing changes the draft in place; adding, removing, moving a
// section or field, or changing a field's type redraws the form. DOM text only.
import { labelled } from './dialog';
import { hIn } from './dom';
import {
  FIELD_TYPES,
  FIELD_TYPE_LABELS,
  REQUIRED_LABELS,
  REQUIRED_LEVELS,
  SECTION_CODES,
  addField,
  addSection,
  defaultFromText,
  defaultToText,
  linesOf,
  listOf,
  move,
  setFieldType,
  slugId,
  uniqueId,
  allFieldIds,
  type FieldType,
  type RequiredLevel,
  type TemplateBody,
  type TemplateField,
  type TemplateSection,
} from './templates-model';

export interface TemplateFormOptions {
  /** A new template: its id can be typed (and follows the title until it is). */
  isNew: boolean;
  /** Called after every change of the draft. */
  onChange(): void;
}

type Doc = Document;

function input(doc: Doc, value: string, attrs: Record<string, string | number | boolean>, onInput: (v: string) => void): HTMLInputElement {
  const el = hIn(doc, 'input', { class: 'text-input', attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs } });
  el.value = value;
  el.addEventListener('input', () => onInput(el.value));
  return el;
}

function textarea(doc: Doc, value: string, attrs: Record<string, string | number | boolean>, onInput: (v: string) => void): HTMLTextAreaElement {
  const el = hIn(doc, 'textarea', { class: 'text-input', attrs: { rows: 2, ...attrs } });
  el.value = value;
  el.addEventListener('input', () => onInput(el.value));
  return el;
}

function select(doc: Doc, value: string, options: readonly (readonly [string, string])[], attrs: Record<string, string>, onChange: (v: string) => void): HTMLSelectElement {
  const el = hIn(doc, 'select', { class: 'text-input', attrs });
  for (const [v, label] of options) el.appendChild(hIn(doc, 'option', { attrs: { value: v }, text: label }));
  el.value = value;
  el.addEventListener('change', () => onChange(el.value));
  return el;
}

function smallButton(doc: Doc, text: string, label: string, action: string, onClick: () => void, disabled = false): HTMLButtonElement {
  return hIn(doc, 'button', {
    class: 'btn btn-small',
    attrs: { type: 'button', 'aria-label': label, title: label, 'data-action': action, disabled },
    text,
    on: { click: onClick },
  });
}

/** The number members of a number field. */
function numberInputs(doc: Doc, f: TemplateField, changed: () => void): HTMLElement[] {
  const numberInput = (prop: 'min' | 'max', label: string): HTMLElement => {
    const el = input(doc, f[prop] === undefined ? '' : String(f[prop]), { 'data-prop': prop, inputmode: 'decimal' }, (v) => {
      const n = Number(v.trim());
      if (v.trim() === '' || !Number.isFinite(n)) delete f[prop];
      else f[prop] = n;
      changed();
    });
    return labelled(doc, label, el);
  };
  const unit = input(doc, f.unit ?? '', { 'data-prop': 'unit', maxlength: 32 }, (v) => {
    if (v.trim() === '') delete f.unit;
    else f.unit = v.trim();
    changed();
  });
  return [labelled(doc, 'Unit', unit), numberInput('min', 'Min'), numberInput('max', 'Max')];
}

/** The default's control: a select for a single choice, lines for long text and multiple choice. */
function defaultInput(doc: Doc, f: TemplateField, changed: () => void): HTMLElement {
  const set = (v: string): void => {
    const d = defaultFromText(f, v);
    if (d === undefined) delete f.default;
    else f.default = d;
    changed();
  };
  if (f.type === 'choice') {
    const opts: [string, string][] = [['', '(none)'], ...(f.options ?? []).map((o): [string, string] => [o, o])];
    return labelled(doc, 'Default', select(doc, defaultToText(f), opts, { 'data-prop': 'default' }, set));
  }
  const hint = f.type === 'multichoice' ? 'One option per line' : f.type === 'date' ? 'YYYY-MM-DD' : undefined;
  const control =
    f.type === 'longtext' || f.type === 'multichoice'
      ? textarea(doc, defaultToText(f), { 'data-prop': 'default' }, set)
      : input(doc, defaultToText(f), { 'data-prop': 'default', ...(f.type === 'date' ? { placeholder: 'YYYY-MM-DD' } : {}) }, set);
  return labelled(doc, 'Default', control, hint);
}

interface Ctx {
  doc: Doc;
  draft: TemplateBody;
  changed(): void;
  redraw(): void;
}

function fieldEditor(ctx: Ctx, section: TemplateSection, f: TemplateField, index: number): HTMLElement {
  const { doc, changed, redraw } = ctx;
  const typeOptions = FIELD_TYPES.map((t): [string, string] => [t, FIELD_TYPE_LABELS[t]]);
  const reqOptions = REQUIRED_LEVELS.map((r): [string, string] => [r, REQUIRED_LABELS[r]]);
  const label = input(doc, f.label, { 'data-prop': 'label', maxlength: 200, 'aria-label': 'Field label' }, (v) => {
    f.label = v;
    changed();
  });
  const id = input(doc, f.id, { 'data-prop': 'id', maxlength: 64, class: 'text-input mono', 'aria-label': 'Field id' }, (v) => {
    f.id = v.trim();
    changed();
  });
  const type = select(doc, f.type, typeOptions, { 'data-prop': 'type' }, (v) => {
    setFieldType(f, v as FieldType);
    redraw();
  });
  const required = select(doc, f.required ?? 'none', reqOptions, { 'data-prop': 'required' }, (v) => {
    if (v === 'none') delete f.required;
    else f.required = v as RequiredLevel;
    changed();
  });
  const placeholder = input(doc, f.placeholder ?? '', { 'data-prop': 'placeholder', maxlength: 500 }, (v) => {
    if (v === '') delete f.placeholder;
    else f.placeholder = v;
    changed();
  });
  const extra: HTMLElement[] = [];
  if (f.type === 'choice' || f.type === 'multichoice') {
    const options = textarea(doc, (f.options ?? []).join('\n'), { 'data-prop': 'options', rows: 3 }, (v) => {
      f.options = linesOf(v);
      changed();
    });
    options.addEventListener('change', redraw); // the default's choices follow
    extra.push(labelled(doc, 'Options', options, 'One per line'));
  }
  if (f.type === 'number') extra.push(...numberInputs(doc, f, changed));
  const n = section.fields.length;
  return hIn(
    doc,
    'div',
    { class: 'tpl-field', attrs: { 'data-field-id': f.id } },
    hIn(doc, 'div', { class: 'tpl-row' }, labelled(doc, 'Label', label), labelled(doc, 'Id', id), labelled(doc, 'Type', type), labelled(doc, 'Completion', required)),
    hIn(doc, 'div', { class: 'tpl-row' }, ...extra, defaultInput(doc, f, changed), labelled(doc, 'Placeholder', placeholder)),
    hIn(
      doc,
      'div',
      { class: 'tpl-item-actions' },
      smallButton(doc, '↑', `Move ${f.label || f.id} up`, 'field-up', () => move(section.fields, index, -1) && redraw(), index === 0),
      smallButton(doc, '↓', `Move ${f.label || f.id} down`, 'field-down', () => move(section.fields, index, 1) && redraw(), index === n - 1),
      smallButton(doc, 'Remove', `Remove field ${f.label || f.id}`, 'field-remove', () => {
        section.fields.splice(index, 1);
        redraw();
      }),
    ),
  );
}

function sectionCodeSelect(ctx: Ctx, s: TemplateSection): HTMLSelectElement {
  const options: [string, string][] = [['', '(no code)'], ...SECTION_CODES.map((c): [string, string] => [c.code, `${c.code} ${c.meaning}`])];
  if (s.code && !SECTION_CODES.some((c) => c.code === s.code)) options.push([s.code, `${s.code} ${s.meaning ?? ''}`]);
  return select(ctx.doc, s.code ?? '', options, { 'data-prop': 'code' }, (v) => {
    const known = SECTION_CODES.find((c) => c.code === v);
    if (v === '') {
      delete s.code;
      delete s.meaning;
    } else {
      s.code = v;
      if (known) s.meaning = known.meaning;
    }
    ctx.changed();
  });
}

function sectionEditor(ctx: Ctx, s: TemplateSection, index: number): HTMLElement {
  const { doc, draft, changed, redraw } = ctx;
  const title = input(doc, s.title, { 'data-prop': 'title', maxlength: 200, 'aria-label': 'Section title' }, (v) => {
    s.title = v;
    changed();
  });
  const id = input(doc, s.id, { 'data-prop': 'id', maxlength: 64, class: 'text-input mono', 'aria-label': 'Section id' }, (v) => {
    s.id = v.trim();
    changed();
  });
  const n = draft.sections.length;
  return hIn(
    doc,
    'section',
    { class: 'tpl-section', attrs: { 'data-section-id': s.id } },
    hIn(
      doc,
      'div',
      { class: 'tpl-section-head' },
      labelled(doc, 'Section', title),
      labelled(doc, 'Id', id),
      labelled(doc, 'LOINC code', sectionCodeSelect(ctx, s)),
      hIn(
        doc,
        'div',
        { class: 'tpl-item-actions' },
        smallButton(doc, '↑', `Move section ${s.title} up`, 'section-up', () => move(draft.sections, index, -1) && redraw(), index === 0),
        smallButton(doc, '↓', `Move section ${s.title} down`, 'section-down', () => move(draft.sections, index, 1) && redraw(), index === n - 1),
        smallButton(doc, 'Remove section', `Remove section ${s.title}`, 'section-remove', () => {
          draft.sections.splice(index, 1);
          redraw();
        }),
      ),
    ),
    hIn(doc, 'div', { class: 'tpl-fields' }, ...s.fields.map((f, i) => fieldEditor(ctx, s, f, i))),
    hIn(doc, 'button', {
      class: 'btn',
      attrs: { type: 'button', 'data-action': 'add-field' },
      text: 'Add field',
      on: {
        click: () => {
          addField(draft, s);
          redraw();
        },
      },
    }),
  );
}

function matchInput(ctx: Ctx, key: 'modalities' | 'bodyParts' | 'keywords', label: string, hint: string): HTMLElement {
  const el = input(ctx.doc, (ctx.draft.match[key] ?? []).join(', '), { 'data-prop': key }, (v) => {
    ctx.draft.match[key] = listOf(v);
    ctx.changed();
  });
  return labelled(ctx.doc, label, el, hint);
}

function metaEditor(ctx: Ctx, isNew: boolean): HTMLElement {
  const { doc, draft, changed } = ctx;
  let idTyped = !isNew || draft.id !== '';
  const id = input(doc, draft.id, { 'data-prop': 'template-id', maxlength: 64, class: 'text-input mono', disabled: !isNew }, (v) => {
    draft.id = v.trim();
    idTyped = v.trim() !== '';
    changed();
  });
  const title = input(doc, draft.title, { 'data-prop': 'template-title', maxlength: 200 }, (v) => {
    draft.title = v;
    if (isNew && !idTyped) {
      draft.id = v.trim() === '' ? '' : slugId(v, 'template').replace(/_/g, '-');
      id.value = draft.id;
    }
    changed();
  });
  const description = textarea(doc, draft.description ?? '', { 'data-prop': 'description' }, (v) => {
    draft.description = v;
    changed();
  });
  return hIn(
    doc,
    'div',
    { class: 'tpl-meta' },
    hIn(doc, 'div', { class: 'tpl-row' }, labelled(doc, 'Title', title), labelled(doc, 'Id', id, isNew ? 'Letters, digits, ".", "_", "-"; cannot change later' : undefined)),
    hIn(
      doc,
      'div',
      { class: 'tpl-row' },
      matchInput(ctx, 'modalities', 'Modalities', 'e.g. CT, MR'),
      matchInput(ctx, 'bodyParts', 'Body parts', 'e.g. CHEST'),
      matchInput(ctx, 'keywords', 'Keywords', 'words of the study description'),
    ),
    labelled(doc, 'Description', description),
  );
}

/** The form of a draft template (changed in place). */
export function renderTemplateForm(doc: Document, draft: TemplateBody, opts: TemplateFormOptions): HTMLElement {
  const root = hIn(doc, 'div', { class: 'tpl-form' });
  const ctx: Ctx = {
    doc,
    draft,
    changed: () => opts.onChange(),
    redraw: () => {
      draw();
      opts.onChange();
    },
  };
  function draw(): void {
    root.replaceChildren(
      metaEditor(ctx, opts.isNew),
      ...draft.sections.map((s, i) => sectionEditor(ctx, s, i)),
      hIn(doc, 'button', {
        class: 'btn',
        attrs: { type: 'button', 'data-action': 'add-section' },
        text: 'Add section',
        on: {
          click: () => {
            addSection(draft);
            ctx.redraw();
          },
        },
      }),
    );
  }
  draw();
  return root;
}

/** Exported for tests: a unique id for a field labelled `label` in the draft. */
export function fieldIdFor(draft: TemplateBody, label: string): string {
  return uniqueId(slugId(label), allFieldIds(draft));
}
