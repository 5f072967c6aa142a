// The panel over the viewer's grid that shows a series which is not an image stack (issue 10): a DICOM SR
// as a readable document (viewer-objects.ts srDocument, from Orthanc's GET /instances/{id}/tags?short),
// an Encapsulated PDF inline (an <iframe> of Orthanc's GET /instances/{id}/pdf, same origin: the app's CSP
// default-src 'self' allows it) with a download, and for everything else a line saying what it is and that
// the viewer cannot display it, with the DICOM files to download (GET /instances/{id}/file). Those routes are
// in the role matrix for administrators, radiologists and referring physicians (the access hook decides the
// physician's studies). Every DICOM string goes into the DOM as text.
//
// Contract: objectPanel() returns the element (hidden) and show(series)/hide(); show() replaces what was
// shown and ignores a fetch that finishes after another show(). Hooks for tests: data-rr-object-kind on the
// panel, .sr-line elements with data-depth, .object-download links.

import type { Series } from './api';
import { h } from './dom';
import { cannotShowLine, objectDetail, outlineList, seriesKind, srDocument, srLineText, type SeriesKind, type SrDocument } from './viewer-objects';

export interface ObjectPanel {
  element: HTMLDivElement;
  /**
   * Shows a series. `overlaid`: a SEG or RT structure set the viewer draws on an image series of the study
   * (viewer-seg-view.ts, viewer-rt-view.ts): its line says so, with a button that shows those images.
   */
  show(series: Series, overlaid?: Overlaid): void;
  hide(): void;
  readonly shown: Series | null;
}

/** Most DICOM files offered one by one; a larger series says how many more there are. */
const MAX_FILE_LINKS = 20;

function fileName(base: string, ext: string): string {
  const safe = base.replace(/[^0-9A-Za-z._-]/g, '_').slice(0, 80) || 'object';
  return `${safe}.${ext}`;
}

/** Where a referenced instance is in the study ("series #2 CT, image 5 of 30"), or null. */
export type Locate = (sopInstanceUid: string) => string | null;

function srView(doc: SrDocument, locate: Locate): HTMLElement {
  const meta = [
    doc.completion ? `Completion: ${doc.completion}` : '',
    doc.verification ? `Verification: ${doc.verification}` : '',
    doc.contentDateTime ? `Content date: ${doc.contentDateTime}` : '',
  ].filter(Boolean);
  const lines = doc.lines.map((l) =>
    h(
      'div',
      { class: `sr-line${l.heading ? ' sr-heading' : ''}`, attrs: { 'data-depth': String(l.depth), style: `padding-left: ${Math.min(l.depth, 20) * 16}px` } },
      l.relation ? h('span', { class: 'sr-relation muted', text: `${l.relation.toLowerCase()} · ` }) : null,
      h('span', { text: srLineText(l) }),
      l.reference ? h('span', { class: 'sr-where muted', text: ` (${locate(l.reference) ?? 'not in this study'})` }) : null,
    ),
  );
  return h(
    'div',
    { class: 'sr-document' },
    h('h3', { class: 'sr-title', text: doc.title }),
    meta.length ? h('div', { class: 'sr-meta muted', text: meta.join(' · ') }) : null,
    ...doc.observers.map((o) => h('div', { class: 'sr-meta muted', text: o })),
    doc.lines.length ? null : h('div', { class: 'muted', text: 'The report has no content items.' }),
    ...lines,
    doc.truncated ? h('div', { class: 'muted', text: 'The report is longer than the viewer shows; download the file for the rest.' }) : null,
  );
}

/** A SEG or structure set drawn on images: the line to show and what "Show on the images" does. */
export interface Overlaid {
  line: string;
  open(): void;
}

// One function on purpose: show(), the fetches and hide() share the panel's elements and its generation counter.
export function objectPanel(orthancRoot: string, locate: Locate = () => null): ObjectPanel {
  const base = orthancRoot.endsWith('/') ? orthancRoot : `${orthancRoot}/`;
  const title = h('span', { class: 'object-title' });
  const detail = h('span', { class: 'object-detail muted' });
  const actions = h('span', { class: 'object-actions' });
  const close = h('button', { class: 'viewer-tool', text: 'Close', attrs: { type: 'button', title: 'Back to the images' } });
  const body = h('div', { class: 'object-body' });
  const element = h(
    'div',
    { class: 'viewer-object', attrs: { hidden: '', role: 'region', 'aria-label': 'Series content' } },
    h('div', { class: 'object-head' }, title, detail, actions, close),
    body,
  );
  let shown: Series | null = null;
  let generation = 0;

  const instanceUrl = (orthancId: string, what: string): string => `${base}instances/${encodeURIComponent(orthancId)}/${what}`;
  const link = (href: string, text: string, download: string): HTMLAnchorElement =>
    h('a', { class: 'object-download', text, attrs: { href, download, 'data-rr-download': '' } });

  const fileLinks = (s: Series): HTMLElement => {
    const list = s.instances.slice(0, MAX_FILE_LINKS).map((inst, i) =>
      h('li', {}, link(instanceUrl(inst.orthancId, 'file'), `Download DICOM file ${i + 1}${inst.instanceNumber === null ? '' : ` (instance ${inst.instanceNumber})`}`, fileName(inst.sopInstanceUid, 'dcm'))),
    );
    const more = s.instances.length - list.length;
    return h('div', {}, h('ul', { class: 'object-files' }, ...list), more > 0 ? h('div', { class: 'muted', text: `and ${more} more (the series archive holds them all)` }) : null);
  };

  const showSr = async (s: Series, gen: number): Promise<void> => {
    for (const [i, inst] of s.instances.entries()) {
      const section = h('div', { class: 'sr-instance' }, h('div', { class: 'muted', text: 'Loading the report…' }));
      body.appendChild(section);
      if (i > 0) section.prepend(h('hr'));
      try {
        const res = await fetch(instanceUrl(inst.orthancId, 'tags?short'), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
        if (!res.ok) throw new Error(`the server answered ${res.status}`);
        const doc = srDocument(await res.json());
        if (gen !== generation) return;
        section.replaceChildren(...(i > 0 ? [h('hr')] : []), srView(doc, locate));
      } catch (err) {
        if (gen !== generation) return;
        section.replaceChildren(h('div', { class: 'object-error', text: `The report could not be read: ${err instanceof Error ? err.message : String(err)}` }));
      }
      if (i + 1 >= MAX_FILE_LINKS) break;
    }
  };

  /** A SEG's segments or an RT structure set's ROIs under the "cannot display" line. */
  const showOutlines = async (kind: SeriesKind, orthancId: string, gen: number): Promise<void> => {
    const box = h('div', { class: 'object-outlines' }, h('div', { class: 'muted', text: 'Loading the list…' }));
    body.appendChild(box);
    try {
      const res = await fetch(instanceUrl(orthancId, 'tags?short'), { credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      const items = outlineList(kind, await res.json());
      if (gen !== generation) return;
      box.replaceChildren(
        h('div', { class: 'sr-heading', text: kind === 'seg' ? `Segments (${items.length})` : `Regions of interest (${items.length})` }),
        h('ul', {}, ...items.map((t) => h('li', { class: 'object-outline', text: t }))),
      );
    } catch (err) {
      if (gen !== generation) return;
      box.replaceChildren(h('div', { class: 'object-error', text: `The list could not be read: ${err instanceof Error ? err.message : String(err)}` }));
    }
  };

  const show = (s: Series, overlaid?: Overlaid): void => {
    const gen = ++generation;
    shown = s;
    const kind = seriesKind(s);
    element.setAttribute('data-rr-object-kind', kind.kind);
    element.setAttribute('data-series-uid', s.seriesInstanceUid);
    title.textContent = s.seriesDescription || '(no description)';
    detail.textContent = objectDetail(s);
    actions.replaceChildren();
    body.replaceChildren();
    element.hidden = false;
    const first = s.instances[0];
    if (kind.kind === 'sr' && first) {
      void showSr(s, gen);
      if (first) actions.append(link(instanceUrl(first.orthancId, 'file'), 'Download DICOM', fileName(first.sopInstanceUid, 'dcm')));
    } else if (kind.kind === 'pdf' && first) {
      const pdf = instanceUrl(first.orthancId, 'pdf');
      actions.append(link(pdf, 'Download PDF', fileName(s.seriesDescription || first.sopInstanceUid, 'pdf')));
      body.appendChild(h('iframe', { class: 'object-pdf', attrs: { src: pdf, title: 'PDF document', 'data-rr-type': 'application/pdf' } }));
      if (s.instances.length > 1) body.appendChild(h('div', { class: 'muted', text: `This series holds ${s.instances.length} PDF documents; the first is shown.` }));
    } else {
      if (overlaid) {
        const open = h('button', { class: 'viewer-tool', text: 'Show on the images', attrs: { type: 'button', 'data-rr-object-open': '' } });
        open.addEventListener('click', () => overlaid.open());
        body.append(h('p', { class: 'object-overlaid', text: overlaid.line }, ' ', open), fileLinks(s));
      } else {
        body.append(h('p', { class: 'object-cannot', text: cannotShowLine(s) }), fileLinks(s));
      }
      if ((kind.kind === 'seg' || kind.kind === 'rtstruct') && first) void showOutlines(kind.kind, first.orthancId, gen);
    }
  };

  const hide = (): void => {
    generation++;
    shown = null;
    element.hidden = true;
    body.replaceChildren();
  };
  close.addEventListener('click', hide);

  return {
    element,
    show,
    hide,
    get shown() {
      return shown;
    },
  };
}
