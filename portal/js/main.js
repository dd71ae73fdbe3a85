// Entry point: shows the sign-in screen or the dashboard, and handles sign-out.

import { setUnauthorizedHandler } from './api.js';
import { showDashboard } from './dashboard.js';
import { showLogin } from './login.js';
import * as session from './session.js';
import { toast } from './toast.js';

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
    onRejected: (message) => signedOut(message || 'Votre session a expiré, reconnectez-vous.'),
  });
}

function signedOut(message) {
  stopDashboard();
  stopDashboard = () => {};
  session.clear();
  bar.hidden = true;
  for (const overlay of document.querySelectorAll('.overlay')) overlay.remove();
  showLogin(main, signedIn);
  if (message) toast(message, { kind: 'warning' });
}

document.getElementById('logout').addEventListener('click', () => signedOut('Vous êtes déconnecté.'));
setUnauthorizedHandler(() => signedOut('Votre session a expiré, reconnectez-vous.'));

const user = session.user();
if (session.token() && user) {
  signedIn(user);
} else {
  signedOut();
}
