// The message thread of one request (client ↔ staff), kept in step by the feed.

import { api } from './api.js';
import { h, uid } from './dom.js';
import { stamp } from './format.js';
import { toast } from './toast.js';

const ROLE_LABELS = { ADMIN: 'IT Vision', TECHNICIAN: 'Technicien', CLIENT: 'Vous' };

/** Builds the chat panel of `requestId`; returns {el, add(message)}. */
export function chatPanel(requestId, me) {
  const list = h('ol', { class: 'chat-list', 'aria-live': 'polite', 'aria-label': 'Messages' });
  const seen = new Set();
  const add = (m) => {
    if (seen.has(m._id)) return;
    seen.add(m._id);
    const mine = m.authorId === me?._id;
    list.append(
      h(
        'li',
        { class: `chat-msg ${mine ? 'mine' : 'theirs'}` },
        h(
          'div',
          { class: 'chat-meta' },
          h('strong', {}, mine ? 'Vous' : `${m.authorName} (${ROLE_LABELS[m.authorRole] ?? m.authorRole})`),
          ' · ',
          h('time', { datetime: m.createdAt }, stamp(m.createdAt)),
        ),
        h('p', { class: 'chat-body' }, m.body),
      ),
    );
    list.lastElementChild.scrollIntoView?.({ block: 'nearest' });
  };

  const inputId = uid('chat-input');
  const input = h('textarea', { id: inputId, name: 'body', rows: 2, maxlength: 5000, required: true });
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Envoyer');
  const form = h(
    'form',
    { class: 'chat-form', novalidate: true },
    h('label', { for: inputId }, 'Votre message'),
    input,
    send,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = input.value.trim();
    if (!body) {
      toast('Écrivez un message avant de l’envoyer.', { kind: 'warning' });
      input.focus();
      return;
    }
    send.disabled = true;
    try {
      const res = await api(`/api/requests/${encodeURIComponent(requestId)}/messages`, { method: 'POST', body: { body } });
      add(res.chatMessage);
      input.value = '';
    } catch (err) {
      toast(err.message, { kind: 'error' });
    } finally {
      send.disabled = false;
      input.focus();
    }
  });

  const el = h('section', { class: 'chat', 'aria-label': 'Discussion' }, h('h3', {}, 'Discussion'), list, form);
  api(`/api/requests/${encodeURIComponent(requestId)}/messages`)
    .then((res) => {
      if (res.messages.length === 0 && seen.size === 0) {
        list.append(h('li', { class: 'chat-empty' }, 'Aucun message pour le moment.'));
      }
      for (const m of res.messages) add(m);
    })
    .catch((err) => toast(err.message, { kind: 'error' }));
  return {
    el,
    add: (m) => {
      list.querySelector('.chat-empty')?.remove();
      add(m);
    },
  };
}
