// Tiny DOM helpers. Text is always set through text nodes / textContent, never parsed as HTML.

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attributes set with setAttribute (values may be untrusted; names must not be event handlers). */
  attrs?: Record<string, string | number | boolean | null | undefined>;
  /** Event listeners. */
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
  text?: string;
}

function setAttr(el: Element, name: string, value: string | number | boolean | null | undefined): void {
  const isUrl = /^(src|href|srcdoc|action|formaction|xlink:href)$/i.test(name);
  if (/^on/i.test(name) || (isUrl && typeof value === 'string' && /^\s*javascript:/i.test(value))) {
    throw new Error(`refusing to set attribute ${name}`);
  }
  if (value === null || value === undefined || value === false) el.removeAttribute(name);
  else el.setAttribute(name, value === true ? '' : String(value));
}

/** Appends children: strings and numbers become text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  const doc = parent.ownerDocument ?? (parent as Document);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : doc.createTextNode(String(child)));
  }
}

/** Creates an element in `doc` (default: the global document). */
export function hIn<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = doc.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.attrs) for (const [name, value] of Object.entries(props.attrs)) setAttr(el, name, value);
  if (props.on) {
    for (const [type, listener] of Object.entries(props.on)) {
      if (listener) el.addEventListener(type, listener as EventListener);
    }
  }
  if (props.text !== undefined) el.textContent = props.text;
  append(el, ...children);
  return el;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return hIn(document, tag, props, ...children);
}

/** Removes all children of an element. */
export function clear(el: Element): void {
  el.replaceChildren();
}
