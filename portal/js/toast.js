// Short-lived notices in the corner (and read by screen readers via aria-live).

import { h } from './dom.js';

/**
 * toast('Demande envoyée', {kind: 'success'}); kinds: success, info, warning, error.
 * Returns the toast element (tests look for it by its text).
 */
export function toast(message, { kind = 'info', title = null, timeout = 7000 } = {}) {
  const box = document.getElementById('toasts');
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Fermer la notification' }, '×');
  const el = h(
    'div',
    { class: `toast toast-${kind}`, dataset: { kind } },
    h('div', { class: 'toast-body' }, title ? h('strong', {}, title) : null, h('span', {}, message)),
    close,
  );
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  box.append(el);
  if (timeout > 0) setTimeout(remove, timeout);
  return el;
}
