// Talks to the server: JSON in and out, the bearer token on every call, and the
// server's error body ({code, message, errors, currentStatus}) turned into ApiError.

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `Erreur ${status}`);
    this.status = status;
    this.code = body?.code ?? 'unknown';
    this.errors = body?.errors ?? {};
    this.currentStatus = body?.currentStatus ?? null;
  }
}

/** Called when the server no longer accepts the token, with its French message (a
 *  `session_ended` answer says why: signed out elsewhere, deactivated, password changed...). */
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

async function send(path, { method = 'GET', body, accept = 'application/json' } = {}) {
  const headers = { Accept: accept };
  const tok = session.token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: 'network', message: 'Serveur injoignable. Vérifiez votre connexion.' });
  }
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    if (res.status === 401 && tok && session.token() === tok) onUnauthorized(data?.message ?? null);
    throw new ApiError(res.status, data);
  }
  return res;
}

/** A JSON call; resolves to the parsed body of a success. */
export async function api(path, options) {
  const res = await send(path, options);
  return res.json();
}

/** A binary download (e.g. a quote PDF) as a Blob. */
export async function download(path) {
  const res = await send(path, { accept: 'application/pdf' });
  return res.blob();
}
