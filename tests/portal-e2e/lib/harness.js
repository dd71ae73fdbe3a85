// Starts the real itv-server binary on a free port with a temporary data dir,
// creates accounts through its CLI, and offers small helpers for the tests:
// API calls as a given user, a headless Chromium, and PDF text via pdftotext.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(repoRoot, process.env.CARGO_TARGET_DIR) : join(repoRoot, 'target');
export const serverBin = process.env.ITV_SERVER_BIN ?? join(targetDir, 'debug', 'itv-server');

/** A TCP port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

export class TestServer {
  /**
   * Starts the binary. Options: `dataDir` and `port` to restart on existing data at
   * the same address, `args` for more command-line flags.
   */
  static async start({ dataDir = null, port = null, args = [] } = {}) {
    dataDir ??= mkdtempSync(join(tmpdir(), 'itv-portal-e2e-'));
    port ??= await freePort();
    const child = spawn(serverBin, ['serve', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    const server = new TestServer(child, dataDir, `http://127.0.0.1:${port}`);
    server.port = port;
    server.log = () => log;
    const deadline = Date.now() + 20000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`itv-server exited early:\n${log}`);
      try {
        const res = await fetch(`${server.url}/api/health`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`itv-server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  constructor(child, dataDir, url) {
    this.child = child;
    this.dataDir = dataDir;
    this.url = url;
  }

  /** Creates an account with the CLI (password on stdin) and signs it in. */
  async addUser(role, email, name, password) {
    const out = spawnSync(serverBin, ['user', 'add', '--data-dir', this.dataDir, '--role', role, '--email', email, '--name', name], {
      input: `${password}\n`,
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`user add failed: ${out.stderr}${out.stdout}`);
    const res = await this.call(null, 'POST', '/api/auth/login', { email, password });
    if (res.status !== 200) throw new Error(`login of ${email} failed: ${JSON.stringify(res.body)}`);
    return { ...res.body.user, token: res.body.token, email, password };
  }

  /** An API call as `user` (or anonymous); resolves to {status, body}. */
  async call(user, method, path, body) {
    const headers = { Accept: 'application/json' };
    if (user) headers.Authorization = `Bearer ${user.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /** Stops the server; its data dir is removed unless `keepData`. */
  async stop({ keepData = false } = {}) {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          this.child.kill('SIGKILL');
          r();
        }, 5000);
        this.child.once('exit', () => {
          clearTimeout(t);
          r();
        });
      });
    }
    if (!keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The text of a PDF as `pdftotext -layout` gives it, with exotic spaces made plain. */
export function pdfText(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'itv-pdf-'));
  try {
    const file = join(dir, 'doc.pdf');
    writeFileSync(file, bytes);
    return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' }).replace(/[\u00a0\u202f]/g, ' ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
