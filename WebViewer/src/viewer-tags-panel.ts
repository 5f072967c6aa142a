// The tag browser panel of the viewer (key G, toolbar "Tags"): every data element of the active
// viewport's current instance from Orthanc's GET /instances/{id}/tags, sequences as <details> whose items
// are built only when first opened (fast on big headers), and a search box (viewer-tags.ts filterTags) that
// shows the matches with their parents opened. Every DICOM string goes into the DOM as text.
// Hooks for tests: data-rr-tag on each element's row ("gggg,eeee"), data-rr-instance on the panel.

import { Api, ApiError, type FetchLike } from './api';
import { h } from './dom';
import { countTags, filterTags, normaliseQuery, parseTags, tagLabel, valueText, type FilteredNode, type TagNode } from './viewer-tags';

export interface TagPanel {
  readonly element: HTMLElement;
  /** Shows the tags of an instance (refetched only when it changes); null clears the panel. */
  show(image: { orthancId: string; frame: number; frames: number } | null): void;
  readonly hidden: boolean;
  setHidden(hidden: boolean): void;
  destroy(): void;
}

/** At most this many rows are built for one search (the count says how many matched). */
const MAX_SEARCH_ROWS = 2000;

function row(node: TagNode, match: boolean): HTMLElement {
  return h(
    'span',
    { class: `tag-row${match ? ' tag-match' : ''}`, attrs: { 'data-rr-tag': node.tag } },
    h('span', { class: 'tag-id', text: tagLabel(node.tag) }),
    h('span', { class: 'tag-name', text: node.name || '(unnamed)', attrs: { title: node.name } }),
    h('span', { class: `tag-value tag-${node.kind}`, text: valueText(node) }),
  );
}

/** One element; a sequence's items are built on first opening (or at once from a search's `kept`). */
function element(node: TagNode, kept: FilteredNode | null): HTMLElement {
  if (node.kind !== 'sequence' || node.items.length === 0) return h('li', {}, row(node, kept?.match ?? false));
  const details = h('details', {}, h('summary', {}, row(node, kept?.match ?? false)));
  const fill = (): void => {
    const list = h('ol', { class: 'tag-items' });
    const add = (index: number, children: HTMLElement[]): void => {
      list.appendChild(h('li', { class: 'tag-item' }, h('div', { class: 'tag-item-label muted', text: `Item ${index + 1}` }), h('ul', { class: 'tag-list' }, ...children)));
    };
    if (kept) for (const it of kept.items) add(it.index, it.nodes.map((f) => element(f.node, f)));
    else node.items.forEach((item, index) => add(index, item.map((n) => element(n, null))));
    details.appendChild(list);
  };
  if (kept) {
    fill();
    details.open = kept.items.length > 0;
  } else {
    let filled = false;
    details.addEventListener('toggle', () => {
      if (details.open && !filled) {
        filled = true;
        fill();
      }
    });
  }
  return h('li', {}, details);
}

/** `fetchFn` is for tests (default: the browser's fetch). */
export function createTagPanel(orthancRoot: string, onClose: () => void, fetchFn?: FetchLike): TagPanel {
  const api = fetchFn ? new Api(orthancRoot, fetchFn) : new Api(orthancRoot);
  const search = h('input', { class: 'tags-search', attrs: { type: 'search', placeholder: 'Search tag, keyword or value', 'aria-label': 'Search tags' } });
  const close = h('button', { class: 'viewer-tool', text: '×', attrs: { type: 'button', title: 'Close the tag browser (G)', 'aria-label': 'Close the tag browser' } });
  const title = h('div', { class: 'tags-title', text: 'Tags' });
  const status = h('div', { class: 'tags-status muted', attrs: { role: 'status' } });
  const tree = h('ul', { class: 'tag-list tags-tree' });
  const panel = h(
    'aside',
    { class: 'viewer-tags', attrs: { 'aria-label': 'DICOM tags', hidden: '' } },
    h('div', { class: 'tags-head' }, title, close),
    search,
    status,
    tree,
  );

  let nodes: TagNode[] = [];
  let shownId: string | null = null;
  let want: { orthancId: string; frame: number; frames: number } | null = null;
  let abort: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const render = (): void => {
    const q = normaliseQuery(search.value);
    const total = countTags(nodes);
    if (q === '') {
      tree.replaceChildren(...nodes.map((n) => element(n, null)));
      status.textContent = shownId ? `${total} elements` : status.textContent;
      return;
    }
    const kept = filterTags(nodes, q);
    const shown = kept.slice(0, MAX_SEARCH_ROWS);
    tree.replaceChildren(...shown.map((f) => element(f.node, f)));
    status.textContent = kept.length === 0 ? 'No element matches.' : `${kept.length} top-level element${kept.length === 1 ? '' : 's'} match or contain a match`;
  };

  const load = async (): Promise<void> => {
    const target = want;
    if (panel.hidden || !target || target.orthancId === shownId) return;
    abort?.abort();
    const ctl = new AbortController();
    abort = ctl;
    status.textContent = 'Loading tags…';
    try {
      const body = await api.request('GET', `instances/${encodeURIComponent(target.orthancId)}/tags`, { signal: ctl.signal });
      if (ctl.signal.aborted) return;
      nodes = parseTags(body);
      shownId = target.orthancId;
      panel.setAttribute('data-rr-instance', target.orthancId);
      render();
    } catch (err) {
      if (ctl.signal.aborted) return;
      nodes = [];
      shownId = null;
      tree.replaceChildren();
      status.textContent = err instanceof ApiError ? `Tags could not be read: ${err.message}` : 'Tags could not be read.';
    }
  };

  const setTitle = (): void => {
    title.textContent = want && want.frames > 1 ? `Tags (frame ${want.frame + 1} of ${want.frames}: see its per-frame functional groups item)` : 'Tags';
  };

  search.addEventListener('input', () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      render();
    }, 150);
  });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
    }
  });
  close.addEventListener('click', onClose);

  return {
    element: panel,
    show(image) {
      want = image;
      setTitle();
      if (!image) {
        nodes = [];
        shownId = null;
        tree.replaceChildren();
        status.textContent = 'No image in the active viewport.';
        return;
      }
      void load();
    },
    get hidden() {
      return panel.hidden;
    },
    setHidden(hidden) {
      panel.hidden = hidden;
      if (!hidden) void load();
    },
    destroy() {
      abort?.abort();
      if (timer !== null) clearTimeout(timer);
    },
  };
}
