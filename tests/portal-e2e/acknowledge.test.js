// Issue 10 in the portal: the client sees, live and without reloading, who took their urgent
// intervention and when ("Pris en charge par {prénom} à {heure}", Dakar time = UTC, 24 h),
// then when the technician went en route — on the card and in the detail.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, launchBrowser } from './lib/harness.js';

const WAIT = { timeout: 10000 };
const CLIENT = { email: 'khadija@example.sn', name: 'Khadija Fall', password: 'Portail-Ack-2025' };

/** "2026-12-01T09:05:41.123456789Z" → "09:05" (UTC is Dakar's time). */
const hhmm = (rfc3339) => rfc3339.slice(11, 16);

describe('portal: who took an intervention', () => {
  let server;
  let browser;
  let page;
  let client;
  let admin;
  let tech;
  let ticket;

  before(async () => {
    server = await TestServer.start();
    client = await server.addUser('client', CLIENT.email, CLIENT.name, CLIENT.password);
    admin = await server.addUser('admin', 'admin.ack@itvision.sn', 'Fatou Admin', 'Admin-Ack-2025');
    tech = await server.addUser('technician', 'tech.ack@itvision.sn', 'Ibrahima Sarr', 'Tech-Ack-2025');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'fr-FR', timezoneId: 'Africa/Dakar' });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const card = () => page.locator(`[data-id="${ticket._id}"]`);
  const dialog = () => page.getByRole('dialog');

  it('shows an urgent intervention waiting to be taken', async () => {
    const created = await server.call(client, 'POST', '/api/client/requests/intervention', {
      type: 'urgent',
      title: 'Caméras du parking hors ligne',
      description: "Plus aucune image depuis 8 h, l'enregistreur ne répond plus.",
      site: 'Entrepôt de Mbao',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ticket = created.body.ticket;
    await page.goto(`${server.url}/client-portal`);
    await page.getByLabel('Email').fill(CLIENT.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(CLIENT.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.locator('#live[data-state="live"]').waitFor(WAIT);
    await page.locator('#tab-intervention').click();
    await card().waitFor(WAIT);
    assert.equal(await card().locator('[data-testid="ownership"]').count(), 0, 'nobody has taken it yet');
    await page.evaluate(() => {
      window.__sameDocument = 'oui';
    });
  });

  it('a client cannot take it', async () => {
    const res = await server.call(client, 'POST', `/api/requests/${ticket._id}/ack`, {});
    assert.equal(res.status, 403, JSON.stringify(res.body));
  });

  it('says live who took it, by first name, at what time', async () => {
    const res = await server.call(tech, 'POST', `/api/requests/${ticket._id}/ack`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const at = res.body.request.acknowledgedAt;
    assert.ok(at, 'acknowledgedAt set');
    const expected = `Pris en charge par Ibrahima à ${hhmm(at)}`;
    await card().locator('[data-testid="ownership"]', { hasText: expected }).waitFor(WAIT);
    await page.locator('.toast', { hasText: expected }).waitFor(WAIT);
    assert.doesNotMatch(await card().textContent(), /Sarr/, 'the client sees the first name only');
    assert.equal(await page.evaluate(() => window.__sameDocument), 'oui', 'no page reload');
  });

  it('adds the time the technician went en route, on the card and in the detail', async () => {
    const assigned = await server.call(admin, 'POST', `/api/requests/${ticket._id}/assign`, { technicianId: tech._id });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    const moved = await server.call(tech, 'POST', `/api/requests/${ticket._id}/status`, { status: 'en_route' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const enRouteAt = moved.body.request.enRouteAt;
    assert.ok(enRouteAt, 'enRouteAt set');
    const taken = `Pris en charge par Ibrahima à ${hhmm(moved.body.request.acknowledgedAt)}`;
    const left = `Technicien en route à ${hhmm(enRouteAt)}`;
    await card().locator('[data-testid="ownership"]', { hasText: left }).waitFor(WAIT);
    assert.match(await card().locator('[data-testid="ownership"]').textContent(), new RegExp(`^${taken} · ${left}$`));

    await card().getByRole('button', { name: 'Détails et discussion' }).click();
    const facts = dialog().locator('.facts');
    await facts.waitFor(WAIT);
    const pairs = await facts.evaluate((dl) => {
      const out = {};
      for (const dt of dl.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling?.textContent;
      return out;
    });
    assert.equal(pairs['Prise en charge'], taken);
    assert.equal(pairs['Départ du technicien'], left);
    await page.keyboard.press('Escape');
  });
});
