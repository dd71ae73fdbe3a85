// "Changer le mot de passe": a modal with the current and the new password, the rules
// shown, the server's French errors beside each field (`currentPassword`, `newPassword`).
// The server ends every other session of the client; this one goes on.

import { api, ApiError } from './api.js';
import { h, uid } from './dom.js';
import { openModal } from './modal.js';
import { toast } from './toast.js';

const RULES =
  '8 à 128 caractères, des lettres et au moins un chiffre ou un symbole ; ni un mot de passe courant, ni votre adresse e-mail.';

function passwordField(name, label, autocomplete, hint = null) {
  const id = uid(`pw-${name}`);
  const errId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id,
    name,
    type: 'password',
    autocomplete,
    required: true,
    'aria-describedby': [hintId, errId].filter(Boolean).join(' '),
  });
  return h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId }),
  );
}

/** Shows `errors` beside their fields (a summary on top); focuses the first one. */
function showErrors(form, summary, errors, message = null) {
  let first = null;
  for (const box of form.querySelectorAll('[data-field]')) {
    const msg = errors[box.dataset.field] ?? '';
    box.querySelector('.field-error').textContent = msg;
    const input = box.querySelector('input');
    if (msg) {
      input.setAttribute('aria-invalid', 'true');
      first ??= input;
    } else {
      input.removeAttribute('aria-invalid');
    }
  }
  const count = Object.keys(errors).length;
  summary.hidden = !(count > 0 || message);
  summary.replaceChildren(count > 0 || message ? h('strong', {}, message ?? 'Le formulaire contient des erreurs') : '');
  first?.focus();
}

/** Opens the dialog; resolves nothing, the toast says it is done. */
export function openPasswordDialog() {
  const form = h('form', { class: 'password-form', novalidate: true });
  const summary = h('div', { class: 'form-summary', role: 'alert', hidden: true });
  const current = passwordField('currentPassword', 'Mot de passe actuel', 'current-password');
  const next = passwordField('newPassword', 'Nouveau mot de passe', 'new-password', RULES);
  const again = passwordField('newPasswordAgain', 'Confirmez le nouveau mot de passe', 'new-password');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Changer le mot de passe');
  form.append(summary, current, next, again);
  const modal = openModal({ title: 'Changer le mot de passe', body: form, className: 'modal-password' });
  form.append(
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => modal.close() }, 'Annuler'),
      submit,
    ),
  );
  const value = (box) => box.querySelector('input').value;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const errors = {};
    if (!value(current)) errors.currentPassword = 'Saisissez votre mot de passe actuel';
    if (!value(next)) errors.newPassword = 'Saisissez le nouveau mot de passe';
    else if (value(next) !== value(again)) errors.newPasswordAgain = 'Les deux mots de passe ne correspondent pas';
    showErrors(form, summary, errors);
    if (Object.keys(errors).length > 0) return;
    submit.disabled = true;
    try {
      const res = await api('/api/auth/password', {
        method: 'POST',
        body: { currentPassword: value(current), newPassword: value(next) },
      });
      modal.close();
      toast(res.message || 'Mot de passe modifié', { kind: 'success' });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'validation') showErrors(form, summary, err.errors, err.message);
      else showErrors(form, summary, {}, err.message);
    } finally {
      submit.disabled = false;
    }
  });
  return modal;
}
