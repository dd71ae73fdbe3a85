// Accessible modal dialogs: labelled, focus moved in and trapped, Escape and the
// close button close, focus returns to what opened it.

import { h, uid } from './dom.js';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

const stack = [];

/**
 * openModal({title, body, className, onClose, returnFocus}) → {el, body, close}.
 * `body` is a Node placed under the heading. Focus goes back to the element that
 * had it, or, if that one was re-rendered meanwhile, to `returnFocus()`.
 */
export function openModal({ title, body, className = '', onClose = () => {}, returnFocus = () => null }) {
  const opener = document.activeElement;
  const titleId = uid('modal-title');
  const closeBtn = h('button', { type: 'button', class: 'modal-close', 'aria-label': 'Fermer' }, '×');
  const dialog = h(
    'div',
    { class: `modal ${className}`, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
    h('div', { class: 'modal-head' }, h('h2', { id: titleId }, title), closeBtn),
    h('div', { class: 'modal-body' }, body),
  );
  const overlay = h('div', { class: 'overlay' }, dialog);

  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    overlay.remove();
    const i = stack.indexOf(handle);
    if (i >= 0) stack.splice(i, 1);
    document.body.classList.toggle('modal-open', stack.length > 0);
    onClose();
    const target = opener instanceof HTMLElement && opener.isConnected ? opener : returnFocus();
    target?.focus();
  };

  overlay.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.stopPropagation();
      close();
    } else if (ev.key === 'Tab') {
      trap(dialog, ev);
    }
  });
  overlay.addEventListener('mousedown', (ev) => {
    if (ev.target === overlay) close();
  });
  closeBtn.addEventListener('click', close);

  const handle = { el: dialog, body: dialog.querySelector('.modal-body'), close };
  stack.push(handle);
  document.body.append(overlay);
  document.body.classList.add('modal-open');
  const first = dialog.querySelector('.modal-body ' + FOCUSABLE.split(', ').join(', .modal-body '));
  (first ?? closeBtn).focus();
  return handle;
}

function trap(dialog, ev) {
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
  if (items.length === 0) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (ev.shiftKey && document.activeElement === first) {
    ev.preventDefault();
    last.focus();
  } else if (!ev.shiftKey && document.activeElement === last) {
    ev.preventDefault();
    first.focus();
  } else if (!dialog.contains(document.activeElement)) {
    ev.preventDefault();
    first.focus();
  }
}
