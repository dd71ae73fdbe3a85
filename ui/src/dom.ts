//! A small DOM builder: every string becomes a text node, so request text is never parsed as HTML.
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  id?: string;
  title?: string;
  type?: string;
  value?: string;
  placeholder?: string;
  disabled?: boolean;
  checked?: boolean;
  tabIndex?: number;
  attrs?: Record<string, string>;
  on?: Partial<{ [E in keyof HTMLElementEventMap]: (ev: HTMLElementEventMap[E]) => void }>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) {
    if (props.class) el.className = props.class;
    if (props.id) el.id = props.id;
    if (props.title) el.title = props.title;
    if (props.tabIndex !== undefined) el.tabIndex = props.tabIndex;
    const anyEl = el as unknown as Record<string, unknown>;
    if (props.type !== undefined) anyEl.type = props.type;
    if (props.value !== undefined) anyEl.value = props.value;
    if (props.placeholder !== undefined) anyEl.placeholder = props.placeholder;
    if (props.disabled !== undefined) anyEl.disabled = props.disabled;
    if (props.checked !== undefined) anyEl.checked = props.checked;
    for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
    for (const [name, handler] of Object.entries(props.on ?? {})) {
      el.addEventListener(name, handler as EventListener);
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces all children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}
