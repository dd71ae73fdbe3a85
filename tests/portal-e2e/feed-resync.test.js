// When the portal comes back after the server pruned the events it missed, the
// server says `resync_required`; the portal must reload its lists over HTTP and
// resume the feed from the head, without a page reload.

import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { TestServer, launchBrowser } from './lib/harness.js';

const WAIT = { timeout: 20000 };
const CLIENT = { email: 'khady@example.sn', name: 'Khady Ndiaye', password: 'Resync-Client-2025' };

let server;
let browser;

before(async () => {
  server = await TestServer.start();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

it('resynchronises over HTTP when the log no longer holds its point', async () => {
  const client = await server.addUser('client', CLIENT.email, CLIENT.name, CLIENT.password);
  const admin = await server.addUser('admin', 'admin2@itvision.sn', 'Admin Deux', 'Admin-Deux-2025');
  const tech = await server.addUser('technician', 'tech2@itvision.sn', 'Tech Deux', 'Tech-Deux-2025');

  const page = await (await browser.newContext({ locale: 'fr-FR' })).newPage();
  let blocked = false;
  const sockets = [];
  const fromServer = [];
  await page.routeWebSocket(/\/api\/feed/, (ws) => {
    sockets.push(ws);
    if (blocked) {
      ws.close({ code: 1013, reason: 'test: offline' });
      return;
    }
    const upstream = ws.connectToServer();
    upstream.onMessage((m) => {
      fromServer.push(String(m));
      ws.send(m);
    });
    ws.onMessage((m) => upstream.send(m));
  });

  await page.goto(`${server.url}/client-portal/`);
  await page.getByLabel('Email').fill(CLIENT.email);
  await page.getByLabel('Mot de passe').fill(CLIENT.password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.locator('#live[data-state="live"]').waitFor(WAIT);
  await page.evaluate(() => {
    window.__sameDocument = 'oui';
  });

  const created = await server.call(client, 'POST', '/api/client/requests/intervention', {
    type: 'planned',
    title: 'Maintenance caméras',
    description: 'Maintenance annuelle des caméras du dépôt',
    site: 'Dépôt de Rufisque',
  });
  assert.equal(created.status, 201);
  const id = created.body.ticket._id;
  await page.locator('#tab-intervention').click();
  const badge = (text) => page.locator(`[data-id="${id}"] .badge`, { hasText: text });
  await badge('Ouvert').waitFor(WAIT);
  const lastSeen = Number(await page.evaluate(() => sessionStorage.getItem('itv.lastSeq')));

  // The portal loses the feed; meanwhile the request moves on twice.
  blocked = true;
  await sockets.at(-1).close();
  await page.locator('#live[data-state="offline"]').waitFor(WAIT);
  assert.equal((await server.call(admin, 'POST', `/api/requests/${id}/assign`, { technicianId: tech._id })).status, 200);
  assert.equal((await server.call(tech, 'POST', `/api/requests/${id}/status`, { status: 'en_route' })).status, 200);

  // The server restarts keeping a single event: what the portal missed is gone.
  const { dataDir, port } = server;
  await server.stop({ keepData: true });
  server = await TestServer.start({ dataDir, port, args: ['--event-log-keep', '1'] });
  blocked = false;

  await badge('Technicien en route').waitFor(WAIT);
  await page.locator('#live[data-state="live"]').waitFor(WAIT);
  const resync = fromServer.map((f) => JSON.parse(f)).find((f) => f.type === 'resync_required');
  assert.ok(resync, 'the server asked for a resync');
  assert.ok(resync.oldestSeq > lastSeen + 1, 'the missed events were pruned');
  const resumed = sockets.filter((s) => new URL(s.url()).searchParams.get('since') === String(resync.headSeq));
  assert.ok(resumed.length > 0, `the portal resumed from the head (${resync.headSeq})`);
  assert.equal(await page.evaluate(() => window.__sameDocument), 'oui', 'no page reload');
});
