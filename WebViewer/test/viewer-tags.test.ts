// @vitest-environment happy-dom
// The tag browser: tree building from Orthanc's full tags format, value formatting, search (matches inside
// sequences keep their parents), lazy items, and DICOM strings rendered as text only.
import { describe, expect, it } from 'vitest';
import { countTags, filterTags, MAX_VALUE_CHARS, nodeMatches, normaliseQuery, parseTags, tagLabel, valueText } from '../src/viewer-tags';
import { createTagPanel } from '../src/viewer-tags-panel';

const XSS_NAME = 'Xss^Patient<script>alert("xss-patient")</script>';
const XSS_SERIES = 'Series"><svg onload=alert("xss-series")>';

// the shape of GET /instances/{id}/tags (Orthanc 1.10.1, full format)
const TAGS = {
  '0028,0030': { Name: 'PixelSpacing', Type: 'String', Value: '0.661468\\0.661468' },
  '0010,0010': { Name: 'PatientName', Type: 'String', Value: XSS_NAME },
  '0008,103e': { Name: 'SeriesDescription', Type: 'String', Value: XSS_SERIES },
  '0008,0021': { Name: 'SeriesDate', Type: 'Null', Value: null },
  '0029,1010': { Name: 'Unknown Tag & Data', Type: 'Binary', Value: 'data:application/octet-stream;base64,AAECAwQ=' },
  '0029,1020': { Name: 'Unknown Tag & Data', Type: 'TooLong', Value: null },
  '0008,1140': {
    Name: 'ReferencedImageSequence',
    Type: 'Sequence',
    Value: [
      { '0008,1150': { Name: 'ReferencedSOPClassUID', Type: 'String', Value: '1.2.840.10008.5.1.4.1.1.2' } },
      {
        '0008,1155': { Name: 'ReferencedSOPInstanceUID', Type: 'String', Value: '1.2.3.4.5.needle' },
        '0008,9215': { Name: 'DerivationCodeSequence', Type: 'Sequence', Value: [{ '0008,0104': { Name: 'CodeMeaning', Type: 'String', Value: 'deep' } }] },
      },
    ],
  },
  'bogus': { Name: 'x', Type: 'String', Value: 'skipped' },
  '0008,0060': 'not an object',
};

describe('parseTags', () => {
  const nodes = parseTags(TAGS);
  it('keeps well-formed elements, sorted by tag, with nested items', () => {
    expect(nodes.map((n) => n.tag)).toEqual(['0008,0021', '0008,103e', '0008,1140', '0010,0010', '0028,0030', '0029,1010', '0029,1020']);
    const seq = nodes.find((n) => n.tag === '0008,1140')!;
    expect(seq.kind).toBe('sequence');
    expect(seq.items).toHaveLength(2);
    expect(seq.items[1]!.map((n) => n.name)).toEqual(['ReferencedSOPInstanceUID', 'DerivationCodeSequence']);
    expect(countTags(nodes)).toBe(11);
  });
  it('gives nothing for answers of the wrong shape', () => {
    expect(parseTags(null)).toEqual([]);
    expect(parseTags([1, 2])).toEqual([]);
    expect(parseTags({ '0008,1140': { Type: 'Sequence', Value: 'x' } })[0]!.items).toEqual([]);
  });
  it('cuts nesting at the depth limit', () => {
    let deep: Record<string, unknown> = { '0008,0104': { Name: 'CodeMeaning', Type: 'String', Value: 'bottom' } };
    for (let i = 0; i < 50; i++) deep = { '0008,9215': { Name: 'DerivationCodeSequence', Type: 'Sequence', Value: [deep] } };
    expect(countTags(parseTags(deep))).toBe(32);
  });
});

describe('formatting', () => {
  const nodes = parseTags(TAGS);
  const at = (tag: string) => nodes.find((n) => n.tag === tag)!;
  it('labels tags as dcmdump does', () => {
    expect(tagLabel('0008,103e')).toBe('(0008,103E)');
  });
  it('summarises sequences, empty, binary and too-long values', () => {
    expect(valueText(at('0008,1140'))).toBe('sequence, 2 items');
    expect(valueText(at('0008,0021'))).toBe('(empty)');
    expect(valueText(parseTags({ '0008,0022': { Name: 'AcquisitionDate', Type: 'String', Value: '' } })[0]!)).toBe('(empty)');
    expect(valueText(at('0029,1010'))).toBe('binary, 5 bytes');
    expect(valueText(at('0029,1020'))).toMatch(/too long/);
    expect(valueText(at('0010,0010'))).toBe(XSS_NAME);
  });
  it('cuts long strings and says how long they were', () => {
    const [n] = parseTags({ '0020,4000': { Name: 'ImageComments', Type: 'String', Value: 'a'.repeat(1000) } });
    expect(valueText(n!)).toBe(`${'a'.repeat(MAX_VALUE_CHARS)}… (1000 characters)`);
  });
});

describe('search', () => {
  const nodes = parseTags(TAGS);
  it('matches tag numbers in any usual spelling, keywords and values, case-insensitively', () => {
    const pn = nodes.find((n) => n.tag === '0010,0010')!;
    for (const q of ['(0010,0010)', '0010,0010', '00100010', 'patientname', 'XSS^PATIENT']) expect(nodeMatches(pn, normaliseQuery(q))).toBe(true);
    expect(nodeMatches(pn, 'spacing')).toBe(false);
  });
  it('keeps the parents of a match inside a sequence, and only the items on the way', () => {
    const kept = filterTags(nodes, 'needle');
    expect(kept.map((k) => k.node.tag)).toEqual(['0008,1140']);
    expect(kept[0]!.match).toBe(false);
    expect(kept[0]!.items.map((i) => i.index)).toEqual([1]);
    expect(kept[0]!.items[0]!.nodes.map((k) => [k.node.tag, k.match])).toEqual([['0008,1155', true]]);
    const deep = filterTags(nodes, 'deep');
    expect(deep[0]!.items[0]!.nodes[0]!.node.tag).toBe('0008,9215');
    expect(deep[0]!.items[0]!.nodes[0]!.items[0]!.nodes[0]!.node.value).toBe('deep');
  });
  it('an empty query or no match keeps nothing', () => {
    expect(filterTags(nodes, '')).toEqual([]);
    expect(filterTags(nodes, 'nothing-like-this')).toEqual([]);
  });
});

describe('panel', () => {
  const calls: string[] = [];
  const fetchFn = async (url: string): Promise<Response> => {
    calls.push(url);
    return new Response(JSON.stringify(TAGS), { status: 200, headers: { 'Content-Type': 'application/json' } });
  };
  const open = async () => {
    const panel = createTagPanel('/orthanc/', () => {}, fetchFn);
    document.body.replaceChildren(panel.element);
    panel.setHidden(false);
    panel.show({ orthancId: 'abc', frame: 0, frames: 1 });
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    return panel;
  };
  it('reads GET instances/{id}/tags once per instance', async () => {
    calls.length = 0;
    const panel = await open();
    panel.show({ orthancId: 'abc', frame: 0, frames: 1 });
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['/orthanc/instances/abc/tags']);
    expect(panel.element.getAttribute('data-rr-instance')).toBe('abc');
  });
  it('renders DICOM strings as text: no element comes from a value', async () => {
    const panel = await open();
    const row = panel.element.querySelector('[data-rr-tag="0010,0010"] .tag-value')!;
    expect(row.textContent).toBe(XSS_NAME);
    expect(panel.element.querySelector('[data-rr-tag="0008,103e"] .tag-value')!.textContent).toBe(XSS_SERIES);
    expect(panel.element.querySelectorAll('script, svg, iframe, img').length).toBe(0);
  });
  it('builds a sequence item only when it is opened', async () => {
    const panel = await open();
    const details = panel.element.querySelector('[data-rr-tag="0008,1140"]')!.closest('details')!;
    expect(details.querySelector('[data-rr-tag="0008,1155"]')).toBeNull();
    details.open = true;
    details.dispatchEvent(new Event('toggle'));
    expect(details.querySelector('[data-rr-tag="0008,1155"] .tag-value')!.textContent).toBe('1.2.3.4.5.needle');
    expect([...details.querySelectorAll('.tag-item-label')].map((e) => e.textContent)).toEqual(['Item 1', 'Item 2']);
  });
  it('search shows the match with its parents opened', async () => {
    const panel = await open();
    const input = panel.element.querySelector('input')!;
    input.value = 'needle';
    input.dispatchEvent(new Event('input'));
    await new Promise((r) => setTimeout(r, 200));
    const match = panel.element.querySelector('.tag-match')!;
    expect(match.getAttribute('data-rr-tag')).toBe('0008,1155');
    expect(match.closest('details')!.open).toBe(true);
    expect(panel.element.querySelector('[data-rr-tag="0010,0010"]')).toBeNull();
  });
});
