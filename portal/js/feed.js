// The live feed over WebSocket: authenticates with the first frame, resumes from
// the last sequence number seen, reconnects with backoff, and asks for a full
// reload when the server says the log no longer holds that point.

import { api } from './api.js';
import * as session from './session.js';

export class Feed {
  /**
   * handlers: onEvent(event), onLive(boolean), onResync(), onRejected(message)
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.ws = null;
    this.stopped = false;
    this.retry = 0;
    this.timer = null;
  }

  /** Starts from `since` (null: live events only). */
  start(since) {
    if (since !== null && since !== undefined) session.setLastSeq(since);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
  }

  connect() {
    if (this.stopped) return;
    const since = session.lastSeq();
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const query = since === null ? '' : `?since=${since}`;
    const ws = new WebSocket(`${proto}//${location.host}/api/feed${query}`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token: session.token() }));
    });
    ws.addEventListener('message', (msg) => this.receive(msg.data));
    ws.addEventListener('close', () => {
      if (this.ws !== ws) return;
      this.handlers.onLive?.(false);
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const delay = Math.min(15000, 1000 * 2 ** this.retry) + Math.floor(Math.random() * 400);
    this.retry = Math.min(this.retry + 1, 4);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  async receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame.seq === 'number' && frame.type !== 'ready') {
      const last = session.lastSeq();
      if (last !== null && frame.seq <= last) return; // already applied
      session.setLastSeq(frame.seq);
      this.handlers.onEvent?.(frame);
      return;
    }
    switch (frame.type) {
      case 'ready':
        this.retry = 0;
        if (session.lastSeq() === null || frame.seq > session.lastSeq()) session.setLastSeq(frame.seq);
        this.handlers.onLive?.(true);
        break;
      case 'resync_required': {
        // Start again from the head: reload everything over HTTP, then resume there.
        const head = await api('/api/feed/head').catch(() => ({ seq: frame.headSeq }));
        session.setLastSeq(head.seq);
        this.handlers.onResync?.();
        this.ws?.close();
        break;
      }
      case 'error':
        // The session ended on the server (signed out elsewhere, deactivated, password
        // changed...) or the token is refused: back to the sign-in screen with the reason.
        if (frame.code === 'unauthorized' || frame.code === 'session_ended') {
          this.stopped = true;
          this.handlers.onRejected?.(frame.message);
        }
        break;
      default:
        break;
    }
  }
}
