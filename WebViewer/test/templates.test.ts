// @vitest-environment happy-dom
// The report templates page (templates.ts, templates-form.ts, templates-model.ts, templates-api.ts): the
// editor's model (ids, type changes, the server's checks, the JSON view), the requests (If-Match), and the
// page: list with retired ones, edit a label and save, 412 handled, retire, JSON view errors.
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api';
import { parseHash } from '../src/router';
import { listTemplates, updateTemplate } from '../src/templates-api';
import { conflictMessage, mountTemplates, sortTemplates } from '../src/templates';
import {
  addField,
  decodeTemplate,
  decodeTemplateList,
  defaultFromText,
  fromJsonText,
  move,
  newTemplate,
  setFieldType,
  slugId,
  templateBody,
  templateProblems,
  toJsonText,
  uniqueId,
  type ReportTemplate,
  type TemplateField,
} from '../src/templates-model';
import { FakeServer, json } from './fake-server';

function chest(overrides: Partial<ReportTemplate> = {}): Record<string, unknown> {
  return {
    id: 'ct-chest',
    title: 'CT Chest',
    revision: 1,
    builtin: true,
    modified: false,
    retired: false,
    updatedBy: null,
    updatedAt: null,
    match: { modalities: ['CT'], bodyParts: ['CHEST'] },
    sections: [
      { id: 'comparison', title: 'Comparison', code: '18834-2', meaning: 'Comparison', fields: [{ id: 'comparison', label: 'Comparison', type: 'longtext' }] },
      {
        id: 'findings',
        title: 'Findings',
        code: '59776-5',
        meaning: 'Procedure Findings',
        fields: [
          { id: 'lungs', label: 'Lungs', type: 'longtext', default: 'Clear.', required: 'warn' },
          { id: 'nodule', label: 'Largest nodule', type: 'number', unit: 'mm', min: 0, max: 300 },
          { id: 'views', label: 'Views', type: 'multichoice', options: ['PA', 'Lateral'], default: ['PA'] },
        ],
      },
      { id: 'impression', title: 'Impression', code: '19005-8', fields: [{ id: 'impression', label: 'Impression', type: 'longtext', required: 'block' }] },
    ],
    ...overrides,
  };
}

describe('templates model', () => {
  it('decodes the API answer and strips the bookkeeping from what is sent', () => {
    const list = decodeTemplateList({ data: [chest(), chest({ id: 'old', title: 'Old', retired: true })], suggested: 'ct-chest' });
    expect(list.suggested).toBe('ct-chest');
    expect(list.data[1]?.retired).toBe(true);
    const t = list.data[0]!;
    expect(t.sections[1]?.fields[1]).toEqual({ id: 'nodule', label: 'Largest nodule', type: 'number', unit: 'mm', min: 0, max: 300 });
    const body = templateBody(t) as unknown as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['id', 'match', 'sections', 'title']);
    expect(() => decodeTemplate({ id: 'x', sections: [{ id: 's', fields: [{ id: 'f', type: 'blob' }] }] })).toThrow(/type/);
  });

  it('makes ids from labels, unique in the template', () => {
    expect(slugId('Right lobe (mL)')).toBe('right_lobe_ml');
    expect(slugId('Ödème cérébral')).toBe('odeme_cerebral');
    expect(slugId('***')).toBe('field');
    expect(uniqueId('lungs', ['lungs', 'lungs_2'])).toBe('lungs_3');
    const t = decodeTemplate(chest());
    const f = addField(t, t.sections[1]!, 'Lungs');
    expect(f.id).toBe('lungs_2');
    expect(t.sections[1]?.fields.at(-1)).toBe(f);
  });

  it('changes a field type and drops what the new type has not', () => {
    const f: TemplateField = { id: 'n', label: 'N', type: 'number', unit: 'mm', min: 1, max: 2, default: 1 };
    setFieldType(f, 'choice');
    expect(f).toEqual({ id: 'n', label: 'N', type: 'choice', options: [] });
    setFieldType(f, 'text');
    expect(f).toEqual({ id: 'n', label: 'N', type: 'text' });
    expect(defaultFromText({ id: 'a', label: 'A', type: 'number' }, ' 12.5 ')).toBe(12.5);
    expect(defaultFromText({ id: 'a', label: 'A', type: 'multichoice' }, 'PA\n\nLateral ')).toEqual(['PA', 'Lateral']);
    expect(defaultFromText({ id: 'a', label: 'A', type: 'text' }, '  ')).toBeUndefined();
    const arr = [1, 2, 3];
    expect(move(arr, 0, -1)).toBe(false);
    expect(move(arr, 0, 1)).toBe(true);
    expect(arr).toEqual([2, 1, 3]);
  });

  it('finds what the server would refuse', () => {
    const t = templateBody(decodeTemplate(chest()));
    expect(templateProblems(t)).toEqual([]);
    const bad = JSON.parse(JSON.stringify(t)) as typeof t;
    bad.id = 'a b';
    bad.sections[1]!.fields[1]!.min = 5;
    bad.sections[1]!.fields[1]!.max = 1;
    bad.sections[1]!.fields[2]!.default = ['Oblique'];
    bad.sections[1]!.fields.push({ id: 'lungs', label: 'Again', type: 'text' });
    bad.sections[1]!.fields.push({ id: 'c', label: 'Choice', type: 'choice', options: [] });
    const problems = templateProblems(bad).join('\n');
    expect(problems).toMatch(/template id/);
    expect(problems).toMatch(/min is greater than max/);
    expect(problems).toMatch(/some of the options/);
    expect(problems).toMatch(/"lungs" is used twice/);
    expect(problems).toMatch(/a choice needs options/);
    expect(templateProblems({ ...t, sections: [] })).toContain('The template needs at least one section.');
  });

  it('a new template follows the RadReport outline with comparison and a blocking impression', () => {
    const t = newTemplate();
    expect(t.sections.map((s) => s.code)).toEqual(['55752-0', '55111-9', '18834-2', '59776-5', '19005-8', '18783-1']);
    expect(t.sections.flatMap((s) => s.fields).find((f) => f.id === 'comparison')?.type).toBe('longtext');
    expect(t.sections.flatMap((s) => s.fields).find((f) => f.id === 'impression')?.required).toBe('block');
    expect(templateProblems({ ...t, id: 'x', title: 'X' })).toEqual([]);
  });

  it('JSON view round trip and its errors', () => {
    const t = templateBody(decodeTemplate(chest()));
    const back = fromJsonText(toJsonText(t));
    expect('body' in back && back.body).toEqual(t);
    expect(fromJsonText('{"id": ')).toMatchObject({ error: expect.stringMatching(/Not valid JSON/) });
    expect(fromJsonText('[1]')).toEqual({ error: 'The template must be a JSON object.' });
    const typed = fromJsonText('{"id":"x","title":"X","colour":"red","sections":[]}');
    expect('raw' in typed && typed.raw.colour).toBe('red'); // sent as typed: the server names the unknown member
  });

  it('sorts retired last and says who changed a template first', () => {
    const list = decodeTemplateList({ data: [chest({ id: 'b', title: 'B', retired: true }), chest({ id: 'z', title: 'Z' }), chest({ id: 'a', title: 'A' })] }).data;
    expect(sortTemplates(list).map((t) => t.id)).toEqual(['a', 'z', 'b']);
    expect(conflictMessage({ revision: 3, updatedBy: 'boss', updatedAt: '2026-12-04T10:00:00Z' })).toMatch(/changed by boss on .* \(now revision 3\)/);
    expect(conflictMessage(null)).toMatch(/Someone else/);
    expect(parseHash('#/templates')).toEqual({ name: 'templates' });
  });
});

describe('templates API', () => {
  it('lists with all and the study, and edits with If-Match', async () => {
    const server = new FakeServer()
      .on('GET reports/templates?all=true&studyInstanceUid=1.2.3', () => json(200, { data: [chest()], suggested: 'ct-chest' }))
      .on('PUT reports/templates/ct-chest', () => json(200, chest({ revision: 2, modified: true })));
    const api = new Api('/api/', server.fetch);
    const list = await listTemplates(api, { all: true, studyUid: '1.2.3' });
    expect(list.suggested).toBe('ct-chest');
    const saved = await updateTemplate(api, 'ct-chest', { form: templateBody(list.data[0]!) }, 1);
    expect(saved.revision).toBe(2);
    const put = server.callsTo('PUT reports/templates/ct-chest')[0]!;
    expect(put.headers['If-Match']).toBe('"1"');
    expect(put.body).not.toHaveProperty('revision');
  });
});

describe('templates page', () => {
  let page: { el: HTMLElement; destroy(): void } | null = null;
  afterEach(() => {
    page?.destroy();
    page?.el.remove();
    page = null;
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
  };
  const mount = (server: FakeServer): HTMLElement => {
    page = mountTemplates({ api: new Api('/api/', server.fetch) });
    document.body.appendChild(page.el);
    return page.el;
  };

  it('lists templates with the retired ones, edits a label and saves with the revision', async () => {
    let stored = chest();
    const server = new FakeServer()
      .on('GET reports/templates?all=true', () => json(200, { data: [stored, chest({ id: 'old', title: 'Old chest', retired: true })], suggested: null }))
      .on('PUT reports/templates/ct-chest', (call) => {
        stored = { ...(call.body as Record<string, unknown>), revision: 2, builtin: true, modified: true, retired: false };
        return json(200, stored);
      });
    const el = mount(server);
    await settle();
    const rows = Array.from(el.querySelectorAll<HTMLElement>('tr.template-row'));
    expect(rows.map((r) => r.dataset.templateId)).toEqual(['ct-chest', 'old']);
    expect(rows[1]?.classList.contains('is-retired')).toBe(true);
    expect(rows[1]?.querySelector('[data-action="restore"]')).not.toBeNull();
    expect(el.querySelector('.summary')?.textContent).toBe('1 active, 1 retired');

    rows[0]!.querySelector<HTMLButtonElement>('[data-action="edit"]')!.click();
    const label = el.querySelector<HTMLInputElement>('.tpl-field[data-field-id="lungs"] input[data-prop="label"]')!;
    label.value = 'Lungs and airways';
    label.dispatchEvent(new Event('input'));
    el.querySelector<HTMLButtonElement>('[data-action="save"]')!.click();
    await settle();
    const put = server.callsTo('PUT reports/templates/ct-chest')[0]!;
    expect(put.headers['If-Match']).toBe('"1"');
    const body = put.body as ReportTemplate;
    expect(body.sections[1]?.fields[0]?.label).toBe('Lungs and airways');
    expect(el.querySelector('.flash')?.textContent).toBe('Template "CT Chest" saved (revision 2).');
    expect(el.querySelector('tr.template-row')).not.toBeNull(); // back to the list
  });

  it('a 412 shows who changed it first; "save mine over theirs" sends the latest revision', async () => {
    const server = new FakeServer()
      .on('GET reports/templates?all=true', () => json(200, { data: [chest()], suggested: null }))
      .on('GET reports/templates/ct-chest', () => json(200, chest({ revision: 3, updatedBy: 'boss', updatedAt: '2026-12-04T10:00:00Z' })))
      .on('PUT reports/templates/ct-chest', (call) =>
        call.headers['If-Match'] === '"3"' ? json(200, chest({ revision: 4 })) : json(412, { error: { code: 'version_mismatch', message: 'the template is at revision 3, not 1' } }),
      );
    const el = mount(server);
    await settle();
    el.querySelector<HTMLButtonElement>('[data-action="edit"]')!.click();
    el.querySelector<HTMLButtonElement>('[data-action="save"]')!.click();
    await settle();
    const conflict = el.querySelector<HTMLElement>('.tpl-conflict')!;
    expect(conflict.hidden).toBe(false);
    expect(conflict.textContent).toMatch(/changed by boss .* revision 3/);
    el.querySelector<HTMLButtonElement>('[data-action="overwrite"]')!.click();
    await settle();
    expect(server.callsTo('PUT reports/templates/ct-chest').map((c) => c.headers['If-Match'])).toEqual(['"1"', '"3"']);
    expect(el.querySelector('.flash')?.textContent).toMatch(/revision 4/);
  });

  it('refuses to send what the server would refuse, and shows the server\'s reason', async () => {
    const server = new FakeServer()
      .on('GET reports/templates?all=true', () => json(200, { data: [], suggested: null }))
      .on('POST reports/templates', () => json(400, { error: { code: 'invalid_argument', message: 'template: unknown member "colour"' } }));
    const el = mount(server);
    await settle();
    expect(el.querySelector('.state')?.textContent).toBe('No templates.');
    el.querySelector<HTMLButtonElement>('[data-action="new-template"]')!.click();
    el.querySelector<HTMLButtonElement>('[data-action="save"]')!.click();
    await settle();
    expect(el.querySelector('.tpl-problems')?.textContent).toMatch(/needs a title/);
    expect(server.callsTo('POST reports/templates')).toHaveLength(0);
    // JSON view: what is typed is sent as it is, the server's reason shown
    el.querySelector<HTMLButtonElement>('[data-view="json"]')!.click();
    const text = el.querySelector<HTMLTextAreaElement>('.tpl-json')!;
    text.value = '{"id": "x",';
    el.querySelector<HTMLButtonElement>('[data-view="form"]')!.click();
    expect(el.querySelector('.tpl-problems')?.textContent).toMatch(/Not valid JSON/);
    text.value = JSON.stringify({ ...templateBody(newTemplate()), id: 'x', title: 'X', colour: 'red' });
    el.querySelector<HTMLButtonElement>('[data-action="save"]')!.click();
    await settle();
    expect((server.callsTo('POST reports/templates')[0]?.body as Record<string, unknown>).colour).toBe('red');
    expect(el.querySelector('.tpl-problems')?.textContent).toMatch(/unknown member "colour" \(HTTP 400\)/);
  });

  it('retires and restores', async () => {
    let retired = false;
    const server = new FakeServer()
      .on('GET reports/templates?all=true', () => json(200, { data: [chest({ retired })], suggested: null }))
      .on('POST reports/templates/ct-chest/retire', () => ((retired = true), json(200, chest({ retired: true, revision: 2 }))))
      .on('POST reports/templates/ct-chest/restore', () => ((retired = false), json(200, chest({ revision: 3 }))));
    const el = mount(server);
    await settle();
    el.querySelector<HTMLButtonElement>('[data-action="retire"]')!.click();
    await settle();
    expect(el.querySelector('.flash')?.textContent).toMatch(/retired/);
    expect(el.querySelector('tr.template-row.is-retired')).not.toBeNull();
    el.querySelector<HTMLButtonElement>('[data-action="restore"]')!.click();
    await settle();
    expect(el.querySelector('tr.template-row.is-retired')).toBeNull();
  });

  it('a changed built-in can go back to its shipped version, after a confirmation', async () => {
    let modified = true;
    const server = new FakeServer()
      .on('GET reports/templates?all=true', () => json(200, { data: [chest({ modified }), chest({ id: 'mine', title: 'Mine', builtin: false })], suggested: null }))
      .on('POST reports/templates/ct-chest/reset', () => ((modified = false), json(200, chest({ revision: 3 }))));
    const el = mount(server);
    await settle();
    expect(el.querySelector('tr[data-template-id="mine"] [data-action="reset"]')).toBeNull();
    el.querySelector<HTMLButtonElement>('tr[data-template-id="ct-chest"] [data-action="reset"]')!.click();
    const dialog = document.querySelector<HTMLDialogElement>('dialog.dialog')!;
    expect(dialog.textContent).toMatch(/shipped/);
    expect(server.callsTo('POST reports/templates/ct-chest/reset')).toHaveLength(0);
    dialog.querySelector<HTMLFormElement>('form')!.requestSubmit();
    await settle();
    expect(server.callsTo('POST reports/templates/ct-chest/reset')).toHaveLength(1);
    expect(el.querySelector('.flash')?.textContent).toMatch(/shipped version again/);
    expect(el.querySelector('tr[data-template-id="ct-chest"] [data-action="reset"]')).toBeNull();
  });

  it('the fallback template cannot be retired from the page', async () => {
    const server = new FakeServer().on('GET reports/templates?all=true', () => json(200, { data: [chest({ id: 'generic', title: 'General' })], suggested: null }));
    const el = mount(server);
    await settle();
    const retire = el.querySelector<HTMLButtonElement>('tr[data-template-id="generic"] [data-action="retire"]')!;
    expect(retire.disabled).toBe(true);
    expect(retire.title).toMatch(/not retired/);
  });
});
