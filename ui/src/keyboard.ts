//! Keyboard map: a key press (and where it happened) becomes one UI command; listed in the ? overlay.
import type { MessageKey } from "./i18n";

export type Command =
  | { type: "next" }
  | { type: "prev" }
  | { type: "first" }
  | { type: "last" }
  | { type: "open" }
  | { type: "search" }
  | { type: "escape" }
  | { type: "help" }
  | { type: "screen"; screen: "inbox" | "mine" | "settings" | "accounts" | "dashboard" }
  | { type: "toggleUnread" }
  | { type: "chat" }
  | { type: "action"; index: number };

export interface KeyInput {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The key went to a text field (input, textarea, select): plain letters are typing there. */
  inField: boolean;
}

export function commandFor(k: KeyInput): Command | null {
  const mod = k.ctrlKey || k.metaKey;
  if (mod && !k.altKey && k.key.toLowerCase() === "k") return { type: "search" };
  if (k.key === "Escape") return { type: "escape" };
  if (k.inField || mod || k.altKey) return null;
  switch (k.key) {
    case "j":
    case "ArrowDown":
      return { type: "next" };
    case "k":
    case "ArrowUp":
      return { type: "prev" };
    case "Home":
    case "g":
      return { type: "first" };
    case "End":
    case "G":
      return { type: "last" };
    case "Enter":
    case "o":
      return { type: "open" };
    case "/":
      return { type: "search" };
    case "?":
      return { type: "help" };
    case "i":
      return { type: "screen", screen: "inbox" };
    case "m":
      return { type: "screen", screen: "mine" };
    case ",":
      return { type: "screen", screen: "settings" };
    case "a":
      return { type: "screen", screen: "accounts" };
    case "t":
      return { type: "screen", screen: "dashboard" };
    case "u":
      return { type: "toggleUnread" };
    case "c":
      return { type: "chat" };
  }
  if (/^[1-9]$/.test(k.key)) return { type: "action", index: Number(k.key) - 1 };
  return null;
}

/** The selection after a move, kept inside [0, total). -1 means nothing selected. */
export function moveSelection(index: number, cmd: Command, total: number): number {
  if (total <= 0) return -1;
  switch (cmd.type) {
    case "next":
      return index < 0 ? 0 : Math.min(total - 1, index + 1);
    case "prev":
      return index < 0 ? 0 : Math.max(0, index - 1);
    case "first":
      return 0;
    case "last":
      return total - 1;
    default:
      return Math.min(index, total - 1);
  }
}

/** The shortcuts shown by the ? overlay: keys, then what they do. */
export const SHORTCUTS: Array<[string, MessageKey]> = [
  ["j / ↓", "key.next"],
  ["k / ↑", "key.prev"],
  ["g / G", "key.first"],
  ["Entrée / o", "key.open"],
  ["/ · Ctrl+K", "key.search"],
  ["1 … 9", "key.action"],
  ["c", "key.chat"],
  ["u", "key.unread"],
  ["i", "key.inbox"],
  ["m", "key.mine"],
  [",", "key.settings"],
  ["a", "key.accounts"],
  ["t", "key.dashboard"],
  ["Échap", "key.escape"],
  ["?", "key.help"],
];

/** True when an element takes typed text, so plain-letter shortcuts must not fire there. */
export function isTextField(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (el as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit"].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}
