// The sign-in screen: email and password, POST /api/auth/login, token kept for the tab.

import { api } from './api.js';
import { h, uid } from './dom.js';
import * as session from './session.js';

/**
 * Shows the sign-in form in `main`; resolves `onSignedIn(user)` once signed in. `notice`
 * says why the previous session ended (signed out, closed elsewhere, deactivated...).
 */
export function showLogin(main, onSignedIn, notice = null) {
  const emailId = uid('login-email');
  const passId = uid('login-password');
  const error = h('p', { class: 'form-summary', role: 'alert', hidden: true });
  const email = h('input', { id: emailId, name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    id: passId,
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Se connecter');
  const form = h(
    'form',
    { class: 'card login', novalidate: true },
    h('h1', {}, 'Portail client'),
    h('p', { class: 'muted' }, 'Connectez-vous pour suivre vos projets, interventions et devis.'),
    notice ? h('p', { class: 'form-notice', role: 'status', 'data-testid': 'login-notice' }, notice) : null,
    error,
    h('div', { class: 'field' }, h('label', { for: emailId }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: passId }, 'Mot de passe'), password),
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!email.value.trim() || !password.value) {
      error.hidden = false;
      error.textContent = 'Saisissez votre email et votre mot de passe.';
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    try {
      const res = await api('/api/auth/login', {
        method: 'POST',
        body: { email: email.value.trim(), password: password.value },
      });
      session.save(res.token, res.user);
      form.querySelector('.form-notice')?.remove();
      onSignedIn(res.user);
    } catch (err) {
      error.hidden = false;
      error.textContent = err.message;
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(form);
  email.focus();
}
