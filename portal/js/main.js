// Entry point: shows the sign-in screen or the dashboard, handles sign-out (the server
// ends the session, then the tab forgets the token) and the password change.

import { api, setUnauthorizedHandler } from './api.js';
import { showDashboard } from './dashboard.js';
import { showLogin } from './login.js';
import { openPasswordDialog } from './password.js';
import * as session from './session.js';

const main = document.getElementById('main');
const bar = document.getElementById('session');
let stopDashboard = () => {};

function signedIn(user) {
  bar.hidden = false;
  document.getElementById('user-name').textContent = user.name;
  stopDashboard = showDashboard(main, user, {
    onLive: (live) => {
      const el = document.getElementById('live');
      el.dataset.state = live ? 'live' : 'offline';
      el.textContent = live ? 'En direct' : 'Hors ligne';
    },
    onRejected: (message) => signedOut(message || EXPIRED),
  });
}

function signedOut(message) {
  stopDashboard();
  stopDashboard = () => {};
  session.clear();
  bar.hidden = true;
  for (const overlay of document.querySelectorAll('.overlay')) overlay.remove();
  showLogin(main, signedIn, message);
}

const EXPIRED = 'Votre session a expiré, reconnectez-vous.';

/** Ends the session on the server (so the token is dead everywhere), then forgets it here;
 *  offline, it is forgotten here all the same and the message says so. */
async function signOut() {
  const button = document.getElementById('logout');
  button.disabled = true;
  let message = 'Vous êtes déconnecté.';
  try {
    const res = await api('/api/auth/logout', { method: 'POST', body: {} });
    if (res?.message) message = `${res.message}.`;
  } catch (err) {
    if (err.status === 401) return; // already ended there: the handler showed the sign-in
    if (err.status === 0) message = 'Déconnecté de cet onglet ; le serveur n’a pas pu être prévenu.';
  } finally {
    button.disabled = false;
  }
  signedOut(message);
}

document.getElementById('logout').addEventListener('click', () => void signOut());
document.getElementById('password').addEventListener('click', () => openPasswordDialog());
setUnauthorizedHandler((message) => signedOut(message || EXPIRED));

const user = session.user();
if (session.token() && user) {
  signedIn(user);
} else {
  signedOut();
}
