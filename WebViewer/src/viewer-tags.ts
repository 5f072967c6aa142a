// The tag browser's model (no DOM): reads Orthanc's GET /instances/{id}/tags answer (the full format:
// {"gggg,eeee": {Name, Type, Value}}, sequences as arrays of such objects) into a tree, formats values for
// display (long and binary values summarised) and filters the tree by a search (tag number, keyword or
// value; a match inside a sequence keeps its parents). Values stay plain strings: the panel
// (viewer-tags-panel.ts) puts them into the DOM as text only.

export type TagKind = 'string' | 'sequence' | 'empty' | 'binary' | 'too-long' | 'other';

export interface TagNode {
  /** "gggg,eeee", lower-case hex as Orthanc writes it. */
  readonly tag: string;
  /** Orthanc's name (the dictionary keyword), "Unknown Tag & Data" for private ones. */
  readonly name: string;
  readonly kind: TagKind;
  /** The value as Orthanc gives it (strings), '' otherwise. */
  readonly value: string;
  /** Items of a sequence, each a list of elements. */
  readonly items: readonly (readonly TagNode[])[];
}

/** At most this many characters of a value are shown; the rest is summarised. */
export const MAX_VALUE_CHARS = 256;

const TAG_RE = /^[0-9a-f]{4},[0-9a-f]{4}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(type: unknown): TagKind {
  switch (type) {
    case 'String':
      return 'string';
    case 'Sequence':
      return 'sequence';
    case 'Null':
      return 'empty';
    case 'Binary':
      return 'binary';
    case 'TooLong':
      return 'too-long';
    default:
      return 'other';
  }
}

/**
 * The tree of an Orthanc full-format tags answer, in tag order. Entries that are not of that shape are
 * skipped (a malformed answer gives fewer rows, never an exception); nesting deeper than `depth` is cut.
 */
export function parseTags(body: unknown, depth = 32): TagNode[] {
  if (!isRecord(body) || depth <= 0) return [];
  const out: TagNode[] = [];
  for (const [key, raw] of Object.entries(body)) {
    const tag = key.toLowerCase();
    if (!TAG_RE.test(tag) || !isRecord(raw)) continue;
    const kind = kindOf(raw.Type);
    const name = typeof raw.Name === 'string' ? raw.Name : '';
    let value = '';
    let items: TagNode[][] = [];
    if (kind === 'sequence' && Array.isArray(raw.Value)) items = raw.Value.map((item) => parseTags(item, depth - 1));
    else if (typeof raw.Value === 'string') value = raw.Value;
    out.push({ tag, name, kind, value, items });
  }
  return out.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

/** "(0010,0010)" with upper-case hex, as dcmdump and the standard write it. */
export function tagLabel(tag: string): string {
  return `(${tag.toUpperCase()})`;
}

/** Bytes of a base64 payload (Orthanc's "data:…;base64," form of binary values), or null. */
function base64Bytes(v: string): number | null {
  const m = /^data:[^,]*;base64,([A-Za-z0-9+/=]*)$/.exec(v);
  if (!m) return null;
  const b64 = m[1]!;
  const pad = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.max(0, (b64.length / 4) * 3 - pad);
}

/** The value column's text: the string (cut at MAX_VALUE_CHARS, saying how long it was), or a summary. */
export function valueText(node: TagNode): string {
  switch (node.kind) {
    case 'sequence':
      return `sequence, ${node.items.length} item${node.items.length === 1 ? '' : 's'}`;
    case 'empty':
      return '(empty)';
    case 'too-long':
      return '(value too long for the tags answer; not shown)';
    case 'binary': {
      const bytes = base64Bytes(node.value);
      return bytes === null ? 'binary value' : `binary, ${bytes} bytes`;
    }
    default:
      if (node.value === '') return '(empty)';
      if (node.value.length > MAX_VALUE_CHARS) return `${node.value.slice(0, MAX_VALUE_CHARS)}… (${node.value.length} characters)`;
      return node.value;
  }
}

/** The search as compared: lower case, trimmed; a tag typed as (0010,0010), 0010,0010 or 00100010 matches. */
export function normaliseQuery(q: string): string {
  return q.trim().toLowerCase();
}

function tagMatches(tag: string, q: string): boolean {
  const bare = q.replace(/[()\s]/g, '');
  if (bare === '') return false;
  return tag.includes(bare) || tag.replace(',', '').includes(bare.replace(',', ''));
}

/** Whether the element itself (not its items) matches a normalised, non-empty query. */
export function nodeMatches(node: TagNode, q: string): boolean {
  if (q === '') return true;
  if (tagMatches(node.tag, q)) return true;
  if (node.name.toLowerCase().includes(q)) return true;
  return node.kind === 'string' && node.value.toLowerCase().includes(q);
}

export interface FilteredNode {
  readonly node: TagNode;
  /** The element itself matches (the panel marks it). */
  readonly match: boolean;
  /** Items kept: for each item index, its kept elements (items without a match are left out). */
  readonly items: readonly { readonly index: number; readonly nodes: readonly FilteredNode[] }[];
}

/**
 * The elements that match a normalised query, or that contain a match in one of their items (kept as its
 * parents, with only the items and elements on the way to a match). An empty query keeps nothing here:
 * the panel shows the whole tree lazily instead.
 */
export function filterTags(nodes: readonly TagNode[], q: string): FilteredNode[] {
  if (q === '') return [];
  const out: FilteredNode[] = [];
  for (const node of nodes) {
    const match = nodeMatches(node, q);
    const items: { index: number; nodes: FilteredNode[] }[] = [];
    node.items.forEach((item, index) => {
      const kept = filterTags(item, q);
      if (kept.length > 0) items.push({ index, nodes: kept });
    });
    if (match || items.length > 0) out.push({ node, match, items });
  }
  return out;
}

/** Number of elements in the tree, items' elements included. */
export function countTags(nodes: readonly TagNode[]): number {
  let n = 0;
  for (const node of nodes) {
    n += 1;
    for (const item of node.items) n += countTags(item);
  }
  return n;
}
