// The signed-in session: the JWT and the user, kept in sessionStorage so they
// die with the tab, plus the last feed sequence number seen.

const TOKEN = 'itv.token';
const USER = 'itv.user';
const SEQ = 'itv.lastSeq';

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function user() {
  try {
    return JSON.parse(sessionStorage.getItem(USER) ?? 'null');
  } catch {
    return null;
  }
}

export function save(newToken, newUser) {
  sessionStorage.setItem(TOKEN, newToken);
  sessionStorage.setItem(USER, JSON.stringify(newUser));
}

export function clear() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(USER);
  sessionStorage.removeItem(SEQ);
}

export function lastSeq() {
  const n = Number.parseInt(sessionStorage.getItem(SEQ) ?? '', 10);
  return Number.isFinite(n) ? n : null;
}

export function setLastSeq(seq) {
  sessionStorage.setItem(SEQ, String(seq));
}
