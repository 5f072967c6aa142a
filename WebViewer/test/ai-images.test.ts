// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api, type Instance, type Series } from '../src/api';
import { findingOrder, confidenceRank } from '../src/ai-format';
import { findingImageNumbers, renderSentImages, sentImageLabel, sentImages } from '../src/ai-images';
import { mountAiPanel, type AiPanel } from '../src/ai-panel';
import { NOT_A_DIAGNOSIS, renderFindingsTable } from '../src/ai-view';
import { analysis, analysisBody, XSS } from './ai-fixtures';
import { FakeServer, json } from './fake-server';

const f = (severity: string, confidence = 'medium', description = `${severity} ${confidence}`) => ({ category: 'abnormality', description, location: '', confidence, severity });

describe('findingOrder: most severe first, then most confident, then the model order', () => {
  it('critical first, normal last, unknown severities after normal', () => {
    const findings = [f('mild'), f('critical'), f('normal'), f('huge'), f('severe'), f('moderate')];
    expect(findingOrder(findings)).toEqual([1, 4, 5, 0, 2, 3]);
  });
  it('equal severity: high confidence first; equal both: the model order', () => {
    const findings = [f('severe', 'low'), f('severe', 'high'), f('severe', 'medium'), f('severe', 'high'), f('critical', 'low')];
    expect(findingOrder(findings)).toEqual([4, 1, 3, 2, 0]);
    expect(confidenceRank('high')).toBe(2);
    expect(confidenceRank('?')).toBe(-1);
  });
  it('no findings: nothing', () => expect(findingOrder([])).toEqual([]));
});

describe('findingImageNumbers: the images a finding names', () => {
  const refs = (location: string, description = '', count = 8) => findingImageNumbers({ location, description }, count);
  it('"image 3", "images 2 and 5", ranges, "img 4", "image #6", in the description too', () => {
    expect(refs('right lower lobe (image 3)')).toEqual([3]);
    expect(refs('liver (images 2 and 5)')).toEqual([2, 5]);
    expect(refs('(images 4-6)')).toEqual([4, 5, 6]);
    expect(refs('(images 1, 3 & 7)')).toEqual([1, 3, 7]);
    expect(refs('Image #6, apex')).toEqual([6]);
    expect(refs('', 'Nodule seen on img 4 and image 2')).toEqual([2, 4]);
    expect(refs('Images 2 to 3')).toEqual([2, 3]);
  });
  it('numbers of images that were not sent, and other numbers, are not images', () => {
    expect(refs('segment 6, 12 mm', 'T12 fracture, 3 images')).toEqual([]);
    expect(refs('(image 9)')).toEqual([]);
    expect(refs('(image 0)')).toEqual([]);
    expect(refs('(images 7-900)')).toEqual([7, 8]);
    expect(refs('', '', 0)).toEqual([]);
  });
});

const CT = '1.2.840.10008.5.1.4.1.1.2';
const inst = (uid: string, orthancId: string, frames = 1): Instance => ({
  sopInstanceUid: uid, orthancId, sopClassUid: CT, instanceNumber: null, numberOfFrames: frames, imagePositionPatient: null, imageOrientationPatient: null, transferSyntaxUid: '',
});
const study: { series: Series[] } = {
  series: [
    { seriesInstanceUid: 's1', orthancId: 'os1', seriesNumber: 2, modality: 'CT', seriesDescription: 'Chest <b>1 mm</b>', bodyPartExamined: '', instanceCount: 2, instances: [inst('1.2.3.4.1', 'o-41'), inst('1.2.3.4.2', 'o-42')] },
    { seriesInstanceUid: 's2', orthancId: 'os2', seriesNumber: null, modality: 'XA', seriesDescription: '', bodyPartExamined: '', instanceCount: 1, instances: [inst('1.2.3.9', 'o-9', 30)] },
  ],
};

describe('sentImages and their thumbnails', () => {
  it('numbers the images in the order sent and finds their Orthanc IDs in the study', () => {
    const list = sentImages(
      [
        { sopInstanceUid: '1.2.3.4.2', frame: 0, sha256: 'a' },
        { sopInstanceUid: '1.2.3.9', frame: 14, sha256: 'b' },
        { sopInstanceUid: '7.7.7', frame: 0, sha256: 'c' },
      ],
      study,
    );
    expect(list.map((i) => [i.n, i.orthancId, i.frame])).toEqual([[1, 'o-42', 0], [2, 'o-9', 14], [3, null, 0]]);
    expect(list[0]!.seriesText).toBe('#2 · CT · Chest <b>1 mm</b>');
    expect(sentImageLabel(list[0]!)).toBe('Image 1');
    expect(sentImageLabel(list[1]!)).toBe('Image 2 · frame 15');
  });

  it('thumbnails are the plugin rendered frames; a click shows the image; one not in the study is disabled', async () => {
    const list = sentImages([{ sopInstanceUid: '1.2.3.9', frame: 14, sha256: 'b' }, { sopInstanceUid: '7.7.7', frame: 0, sha256: 'c' }], study);
    const shown: number[] = [];
    const el = renderSentImages(document, list, '/api/', async (img) => (shown.push(img.n), img.n === 1));
    const buttons = el.querySelectorAll<HTMLButtonElement>('button.ai-image');
    expect(buttons.length).toBe(2);
    expect(buttons[0]!.querySelector('img')?.getAttribute('src')).toBe('/api/dicom/instances/o-9/frames/14/png?size=96');
    expect(buttons[0]!.dataset.sopInstanceUid).toBe('1.2.3.9');
    expect(buttons[0]!.dataset.frame).toBe('14');
    expect(buttons[1]!.disabled).toBe(true);
    expect(buttons[1]!.querySelector('img')).toBeNull();
    expect(buttons[1]!.title).toContain('no longer in this study');
    buttons[0]!.click();
    await vi.waitFor(() => expect(shown).toEqual([1]));
    expect(buttons[0]!.hasAttribute('data-rr-failed')).toBe(false);
    // the viewer could not show it: said on the button
    const failing = renderSentImages(document, list, '/api/', async () => false).querySelector<HTMLButtonElement>('button.ai-image')!;
    failing.click();
    await vi.waitFor(() => expect(failing.hasAttribute('data-rr-failed')).toBe(true));
    expect(failing.title).toBe('Image 1 · frame 15: the viewer could not show this image');
    expect(el.querySelector('b')).toBeNull(); // series descriptions as text
  });
});

describe('findings table: severity order, colour with words, images named', () => {
  it('rows most severe first; data-index and "#" keep the model numbering; severity badge says it in words', () => {
    const a = analysis({ findings: [f('mild'), f('critical', 'low', 'Tension pneumothorax'), f('moderate')] });
    const el = renderFindingsTable(document, a.findings);
    const rows = [...el.querySelectorAll<HTMLTableRowElement>('tr.finding-row')];
    expect(rows.map((r) => r.dataset.index)).toEqual(['1', '2', '0']);
    expect(rows.map((r) => r.dataset.severity)).toEqual(['critical', 'moderate', 'mild']);
    expect(rows[0]!.querySelector('.c-idx')?.textContent).toBe('2');
    expect(rows[0]!.querySelector('.sev-label')?.textContent).toBe('Critical');
  });

  it('a finding naming an image gets an "Image n" button and a clickable row; others none', () => {
    const findings = [
      { category: 'lesion', description: 'Nodule', location: 'right upper lobe (image 2)', confidence: 'high', severity: 'moderate' },
      { category: 'artifact', description: 'Motion', location: 'whole study', confidence: 'low', severity: 'normal' },
    ];
    const shown: number[] = [];
    const el = renderFindingsTable(document, findings, undefined, { numbers: (x) => findingImageNumbers(x, 3), show: (n) => shown.push(n) });
    const row = el.querySelector<HTMLTableRowElement>('tr.finding-row[data-index="0"]')!;
    expect(row.dataset.rrImage).toBe('2');
    expect(row.querySelector('.finding-loc')?.textContent).toBe('right upper lobe (image 2)');
    row.querySelector<HTMLButtonElement>('button.finding-image')!.click();
    row.querySelector<HTMLElement>('.finding-text')!.click();
    expect(shown).toEqual([2, 2]);
    const other = el.querySelector<HTMLTableRowElement>('tr.finding-row[data-index="1"]')!;
    expect(other.hasAttribute('data-rr-image')).toBe(false);
    expect(other.querySelector('button')).toBeNull();
  });
});

describe('AI panel on the study page: images and findings show their image in the viewer', () => {
  let panel: AiPanel | null = null;
  afterEach(() => {
    panel?.destroy();
    panel = null;
    document.body.replaceChildren();
  });

  it('thumbnail and finding clicks call showImage(sopInstanceUid, frame 1-based); notice until reviewed', async () => {
    const body = analysisBody({
      images: [
        { sopInstanceUid: '1.2.3.4.1', frame: 0, sha256: 'ab' },
        { sopInstanceUid: '1.2.3.9', frame: 14, sha256: 'cd' },
      ],
      findings: [
        { category: 'incidental', description: 'Small cyst', location: 'kidney', confidence: 'high', severity: 'mild' },
        { category: 'hemorrhage', description: XSS, location: 'left frontal (image 2)', confidence: 'medium', severity: 'critical' },
      ],
    });
    const server = new FakeServer()
      .on('GET ai/status', () => json(200, { provider: { configured: true, name: 'openai', model: 'm' }, queue: {} }))
      .on('GET ai/studies/1.2.3/analyses', () => json(200, { analyses: [body] }))
      .on('GET ai/analysis/a1', () => json(200, body));
    const calls: [string, number][] = [];
    const api = new Api('/api/', server.fetch);
    panel = mountAiPanel({ api, studyInstanceUid: '1.2.3', doc: document, study, apiRoot: '/api/', showImage: async (sop, frame) => (calls.push([sop, frame]), true) });
    document.body.appendChild(panel.el);
    const root = panel.el;
    await vi.waitFor(() => expect(root.querySelectorAll('button.ai-image').length).toBe(2));
    expect(root.querySelector('.ai-notice')?.textContent).toBe(NOT_A_DIAGNOSIS);
    expect(root.querySelector('tr.finding-row')?.getAttribute('data-severity')).toBe('critical'); // first row
    expect(panel.analyzeButton.textContent).toBe('Analyze with AI');
    root.querySelector<HTMLButtonElement>('button.ai-image[data-rr-ai-image="1"]')!.click();
    root.querySelector<HTMLButtonElement>('tr.finding-row[data-index="1"] button.finding-image')!.click();
    await vi.waitFor(() => expect(calls).toEqual([['1.2.3.4.1', 1], ['1.2.3.9', 15]]));
    // the thumbnail of the image shown is marked
    await vi.waitFor(() => expect(root.querySelector('button.ai-image[aria-current="true"]')?.getAttribute('data-rr-ai-image')).toBe('2'));
    expect(root.querySelectorAll('button.ai-image[aria-current]').length).toBe(1);
    expect(root.querySelector('img[src="/api/dicom/instances/o-9/frames/14/png?size=96"]')).not.toBeNull();
  });

  it('without a viewer the images are listed but do nothing', async () => {
    const body = analysisBody();
    const server = new FakeServer()
      .on('GET ai/status', () => json(200, { provider: { configured: true, name: 'openai', model: 'm' }, queue: {} }))
      .on('GET ai/studies/1.2.3/analyses', () => json(200, { analyses: [body] }))
      .on('GET ai/analysis/a1', () => json(200, body));
    panel = mountAiPanel({ api: new Api('/api/', server.fetch), studyInstanceUid: '1.2.3', doc: document, study, apiRoot: '/api/' });
    document.body.appendChild(panel.el);
    await vi.waitFor(() => expect(panel!.el.querySelectorAll('button.ai-image').length).toBe(2));
    expect([...panel.el.querySelectorAll<HTMLButtonElement>('button.ai-image')].every((b) => b.disabled)).toBe(true);
    expect(panel.el.querySelector('button.finding-image')).toBeNull();
  });
});
