// The client portal end to end: the real itv-server binary, headless Chromium,
// a client using the portal while staff act through the API.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestServer, launchBrowser, pdfText, repoRoot } from './lib/harness.js';

const shots = join(repoRoot, 'docs', 'screenshots');
const CLIENT = { email: 'awa.diop@example.sn', name: 'Awa Diop', password: 'Portail-Client-2025' };
const WAIT = { timeout: 10000 };

/** Normalises the narrow and non-breaking spaces Intl puts in numbers. */
const plain = (s) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('client portal', () => {
  let server;
  let browser;
  let page;
  let client;
  let admin;
  let tech;
  const cspViolations = [];
  const feedSockets = [];
  const ids = {};

  before(async () => {
    mkdirSync(shots, { recursive: true });
    server = await TestServer.start();
    client = await server.addUser('client', CLIENT.email, CLIENT.name, CLIENT.password);
    admin = await server.addUser('admin', 'admin@itvision.sn', 'Fatou Admin', 'Fatou-Solide-2025');
    tech = await server.addUser('technician', 'tech@itvision.sn', 'Ibrahima Technicien', 'Ibrahima-Solide-2025');
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'fr-FR', acceptDownloads: true });
    page = await context.newPage();
    // Every feed connection passes through here, so a test can cut one and see
    // where the portal resumes from.
    await page.routeWebSocket(/\/api\/feed/, (ws) => {
      feedSockets.push(ws);
      ws.connectToServer();
    });
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const dialog = () => page.getByRole('dialog');
  const fieldError = (name) => dialog().locator(`[data-field="${name}"] .field-error`);
  const toast = (text) => page.locator('.toast', { hasText: text });
  const card = (id) => page.locator(`[data-id="${id}"]`);

  /** Screenshot without the toasts of earlier steps. */
  async function shoot(name) {
    await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
    await page.screenshot({ path: join(shots, name) });
  }

  async function total(kind) {
    const res = await server.call(client, 'GET', `/api/client/requests/${kind}`);
    assert.equal(res.status, 200);
    return res.body.pagination.total;
  }

  it('serves the portal with a strict Content-Security-Policy', async () => {
    const res = await page.goto(`${server.url}/client-portal`);
    assert.equal(res.status(), 200);
    const csp = res.headers()['content-security-policy'];
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await page.getByRole('heading', { name: 'Portail client' }).waitFor(WAIT);
  });

  it('refuses a wrong password, then signs the client in', async () => {
    await page.getByLabel('Email').fill(CLIENT.email);
    await page.getByLabel('Mot de passe').fill('pas-le-bon');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('alert').filter({ hasText: 'Email ou mot de passe incorrect' }).waitFor(WAIT);
    await page.screenshot({ path: join(shots, 'portal-login.png') });
    await page.getByLabel('Mot de passe').fill(CLIENT.password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: `Bonjour, ${CLIENT.name}` }).waitFor(WAIT);
    assert.ok(await page.evaluate(() => sessionStorage.getItem('itv.token')), 'token kept in sessionStorage');
    await page.locator('#live[data-state="live"]').waitFor(WAIT);
    // Any reload from here on would drop this marker.
    await page.evaluate(() => {
      window.__sameDocument = 'oui';
    });
  });

  it('shows the three action buttons of the seed with their captions', async () => {
    for (const [kind, label, sub] of [
      ['project', 'Nouveau Projet', 'Demandez un projet'],
      ['intervention', 'Intervention', 'Support technique'],
      ['quote', 'Devis', 'Estimation'],
    ]) {
      const btn = page.locator(`[data-action="${kind}"]`);
      assert.equal(await btn.locator('.action-label').textContent(), label);
      assert.equal(await btn.locator('.action-sub').textContent(), sub);
    }
    const colors = await page.evaluate(() =>
      ['project', 'intervention', 'quote'].map((k) => getComputedStyle(document.querySelector(`[data-action="${k}"]`)).backgroundImage),
    );
    assert.match(colors[0], /rgb\(21, 128, 61\)/, 'project is green');
    assert.match(colors[1], /rgb\(29, 78, 216\)/, 'intervention is blue');
    assert.match(colors[2], /rgb\(109, 40, 217\)/, 'quote is violet');
  });

  it('project form: errors first, nothing created, then created and listed', async () => {
    const opener = page.locator('[data-action="project"]');
    await opener.click();
    await dialog().getByRole('heading', { name: /Demande de Nouveau Projet/ }).waitFor(WAIT);
    assert.ok(await page.evaluate(() => !!document.activeElement.closest('[role="dialog"]')), 'focus moved into the modal');
    for (let i = 0; i < 25; i += 1) await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => !!document.activeElement.closest('[role="dialog"]')), 'focus trapped in the modal');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached', ...WAIT });
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'project', 'focus returned to the opener');

    await opener.click();
    await dialog().getByLabel('Budget estimé').fill('12,5');
    await dialog().getByRole('button', { name: 'Envoyer la demande de projet' }).click();
    await fieldError('name').filter({ hasText: 'Ce champ est obligatoire' }).waitFor(WAIT);
    assert.equal(await fieldError('serviceType').textContent(), 'Ce champ est obligatoire');
    assert.equal(await fieldError('description').textContent(), 'Ce champ est obligatoire');
    assert.equal(await fieldError('address').textContent(), 'Ce champ est obligatoire');
    assert.equal(
      await fieldError('estimatedBudget').textContent(),
      'Le budget doit être un nombre entier de francs CFA, positif ou nul',
    );
    assert.equal(await dialog().getByLabel('Nom du projet').getAttribute('aria-invalid'), 'true');
    await shoot('portal-form-project-errors.png');
    assert.equal(await total('project'), 0, 'nothing created');

    await dialog().getByLabel('Nom du projet').fill('Installation vidéosurveillance');
    assert.equal(await fieldError('name').textContent(), '', 'a corrected field loses its error');
    assert.equal(await fieldError('address').textContent(), 'Ce champ est obligatoire', 'others keep theirs');
    await dialog().getByLabel('Type de service').selectOption('surveillance');
    await dialog().getByLabel('Description détaillée').fill('Installation de 16 caméras IP sur le site de Dakar.');
    await dialog().getByLabel('Adresse / Site').fill('123 Rue de Dakar, Sénégal');
    await dialog().getByLabel('Budget estimé').fill('2 500 000');
    await dialog().getByLabel('Date de début souhaitée').fill('2030-12-01');
    await dialog().getByLabel("Niveau d'urgence").selectOption('high');
    await shoot('portal-form-project.png');
    await dialog().getByRole('button', { name: 'Envoyer la demande de projet' }).click();
    await toast('Demande de projet envoyée avec succès').waitFor(WAIT);
    await dialog().waitFor({ state: 'detached', ...WAIT });

    const list = await server.call(client, 'GET', '/api/client/requests/project');
    assert.equal(list.body.pagination.total, 1);
    const p = list.body.projects[0];
    assert.equal(p.estimatedBudget, 2500000);
    assert.equal(p.urgency, 'high');
    assert.equal(p.preferredStartDate, '2030-12-01');
    ids.project = p._id;
    await card(p._id).filter({ hasText: 'Installation vidéosurveillance' }).waitFor(WAIT);
    assert.equal(await card(p._id).locator('.badge').first().textContent(), 'En attente de validation');
  });

  it("intervention form: client errors, the server's errors per field, then created", async () => {
    await page.locator('[data-action="intervention"]').click();
    await dialog().getByRole('heading', { name: /Demande d'Intervention/ }).waitFor(WAIT);
    await dialog().getByRole('button', { name: "Envoyer la demande d'intervention" }).click();
    for (const f of ['type', 'title', 'description', 'site']) {
      await fieldError(f).filter({ hasText: 'Ce champ est obligatoire' }).waitFor(WAIT);
    }
    assert.equal(await total('intervention'), 0, 'nothing created');

    await dialog().getByLabel('Urgente').check();
    assert.equal(await fieldError('type').textContent(), '', 'choosing a type clears its error');
    assert.equal(await dialog().locator('[data-field="type"] [aria-invalid]').count(), 0);
    await dialog().getByLabel('Titre').fill('Caméra défectueuse entrée principale');
    await dialog().getByLabel('Description du problème').fill('La caméra ne fonctionne plus depuis ce matin.');
    await dialog().getByLabel('Site / Localisation').fill('Siège social - 123 Rue de Dakar');
    await dialog().getByLabel('Projet concerné').selectOption(ids.project);
    assert.ok(await dialog().locator('.form-summary').isHidden(), 'the summary goes once all is corrected');
    await shoot('portal-form-intervention.png');

    // The server is the authority: a body it refuses comes back as per-field errors.
    const endpoint = `${server.url}/api/client/requests/intervention`;
    await page.route(endpoint, (route) => {
      const body = JSON.parse(route.request().postData());
      route.continue({ postData: JSON.stringify({ ...body, description: 'court', preferredDate: '2025-02-30' }) });
    });
    await dialog().getByRole('button', { name: "Envoyer la demande d'intervention" }).click();
    await fieldError('description').filter({ hasText: 'Doit contenir au moins 10 caractères' }).waitFor(WAIT);
    assert.equal(await fieldError('preferredDate').textContent(), 'Date invalide (format attendu : AAAA-MM-JJ)');
    assert.equal(await total('intervention'), 0, 'nothing created');
    await page.unroute(endpoint);

    await dialog().getByRole('button', { name: "Envoyer la demande d'intervention" }).click();
    await toast("Demande d'intervention envoyée avec succès").waitFor(WAIT);
    const list = await server.call(client, 'GET', '/api/client/requests/intervention');
    const t = list.body.tickets[0];
    assert.match(t.ticketNumber, /^INT-\d{6}-\d{4}$/);
    assert.equal(t.priority, 'urgent');
    assert.equal(t.projectId, ids.project);
    ids.intervention = t._id;
    await card(t._id).filter({ hasText: t.ticketNumber }).waitFor(WAIT);
    assert.equal(await page.locator('#tab-intervention').getAttribute('aria-selected'), 'true');
  });

  it('quote form: item errors, nothing created, then created with its items', async () => {
    await page.locator('[data-action="quote"]').click();
    await dialog().getByRole('heading', { name: /Demande de Devis/ }).waitFor(WAIT);
    await dialog().getByLabel('Titre').fill('Devis pour 10 caméras IP 4K');
    await dialog().getByLabel('Catégorie').selectOption('equipment');
    await dialog().getByLabel('Description détaillée').fill('trop court');
    await dialog().getByRole('button', { name: '+ Ajouter un article' }).click();
    await dialog().locator('[data-item-field="name"] input').fill('Caméra IP 4K');
    await dialog().locator('[data-item-field="quantity"] input').fill('0');
    await dialog().getByRole('button', { name: 'Envoyer la demande de devis' }).click();
    await dialog()
      .locator('[data-item-field="quantity"] .field-error')
      .filter({ hasText: 'La quantité doit être un nombre entier supérieur à 0' })
      .waitFor(WAIT);
    assert.equal(await total('quote'), 0, 'nothing created');

    await dialog().getByLabel('Description détaillée').fill('Nous souhaitons installer 10 caméras au siège.');
    await dialog().locator('[data-item-field="quantity"] input').fill('10');
    await dialog().getByLabel('Spécifications').fill('Vision nocturne 30m');
    await dialog().getByLabel('Budget estimé').fill('1500000');
    await dialog().getByLabel('Délai souhaité').fill('Dans 2 semaines');
    await shoot('portal-form-quote.png');
    await dialog().getByRole('button', { name: 'Envoyer la demande de devis' }).click();
    await toast('Demande de devis envoyée avec succès').waitFor(WAIT);
    const list = await server.call(client, 'GET', '/api/client/requests/quote');
    const q = list.body.tickets[0];
    assert.match(q.ticketNumber, /^DEV-\d{6}-\d{4}$/);
    assert.deepEqual(q.items, [{ name: 'Caméra IP 4K', quantity: 10, specifications: 'Vision nocturne 30m' }]);
    ids.quote = q._id;
    ids.quoteNumber = q.ticketNumber;
    await card(q._id).waitFor(WAIT);
    await page.locator('#tab-project').click();
    await shoot('portal-dashboard.png');
  });

  it('follows an intervention live as staff move it, without reloading', async () => {
    await page.locator('#tab-intervention').click();
    const assigned = await server.call(admin, 'POST', `/api/requests/${ids.intervention}/assign`, { technicianId: tech._id });
    assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
    await card(ids.intervention).locator('.badge', { hasText: 'Technicien assigné' }).waitFor(WAIT);

    const enRoute = await server.call(tech, 'POST', `/api/requests/${ids.intervention}/status`, { status: 'en_route' });
    assert.equal(enRoute.status, 200, JSON.stringify(enRoute.body));
    await toast('Technicien en route').waitFor(WAIT);
    await card(ids.intervention).locator('.badge', { hasText: 'Technicien en route' }).waitFor(WAIT);

    await server.call(tech, 'POST', `/api/requests/${ids.intervention}/status`, { status: 'on_site' });
    await card(ids.intervention).locator('.badge', { hasText: 'Technicien sur site' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => window.__sameDocument), 'oui', 'no page reload');
  });

  it('chats on a request: text stays text, staff replies arrive live', async () => {
    const opener = card(ids.intervention).getByRole('button', { name: 'Détails et discussion' });
    await opener.click();
    await dialog().getByRole('heading', { name: 'Discussion' }).waitFor(WAIT);
    const body = 'Le portail est bloqué <b>fermé</b> & le gardien attend.';
    await dialog().getByLabel('Votre message').fill(body);
    await dialog().getByRole('button', { name: 'Envoyer', exact: true }).click();
    await dialog().locator('.chat-msg.mine .chat-body', { hasText: body }).waitFor(WAIT);
    assert.equal(await dialog().locator('.chat-body b').count(), 0, 'markup is not interpreted');
    const seen = await server.call(tech, 'GET', `/api/requests/${ids.intervention}/messages`);
    assert.ok(seen.body.messages.some((m) => m.body === body && m.authorId === client._id));

    await server.call(tech, 'POST', `/api/requests/${ids.intervention}/messages`, { body: "J'arrive dans 10 minutes." });
    await dialog().locator('.chat-msg.theirs', { hasText: "J'arrive dans 10 minutes." }).waitFor(WAIT);
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'detached', ...WAIT });
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Détails et discussion');
  });

  it('resumes the feed from the last sequence number seen after a cut', async () => {
    const last = Number(await page.evaluate(() => sessionStorage.getItem('itv.lastSeq')));
    assert.ok(last > 0, 'the portal keeps the last sequence number');
    const count = feedSockets.length;
    await feedSockets.at(-1).close();
    await page.locator('#live[data-state="offline"]').waitFor(WAIT);
    // Changed while the portal is disconnected (it waits about a second to retry).
    const res = await server.call(tech, 'POST', `/api/requests/${ids.intervention}/status`, { status: 'resolved' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await card(ids.intervention).locator('.badge', { hasText: 'Résolu' }).waitFor(WAIT);
    await page.locator('#live[data-state="live"]').waitFor(WAIT);
    assert.ok(feedSockets.length > count, 'the portal reconnected');
    assert.equal(new URL(feedSockets[count].url()).searchParams.get('since'), String(last));
    assert.equal(await page.evaluate(() => window.__sameDocument), 'oui', 'no page reload');
  });

  it('receives a quote, downloads its PDF with the right totals, and accepts it', async () => {
    await page.locator('#tab-quote').click();
    const path = `/api/requests/${ids.quote}`;
    assert.equal((await server.call(admin, 'POST', `${path}/status`, { status: 'in_progress' })).status, 200);
    await card(ids.quote).locator('.badge', { hasText: 'Devis en préparation' }).waitFor(WAIT);
    const validUntil = new Date(Date.now() + 30 * 86400000).toISOString().slice(0, 10);
    const prepared = await server.call(admin, 'PUT', `${path}/quote`, {
      lines: [
        { designation: 'Caméra IP 4K vision nocturne', quantity: 10, unitPrice: 125000 },
        { designation: 'NVR 16 canaux, disque 4 To', quantity: 1, unitPrice: 350000 },
        { designation: 'Pose et câblage (forfait)', quantity: 1, unitPrice: 99999 },
      ],
      discount: 50000,
      validUntil,
      notes: 'Garantie matériel 12 mois.',
    });
    assert.equal(prepared.status, 200, JSON.stringify(prepared.body));
    // 1 250 000 + 350 000 + 99 999 = 1 699 999 − 50 000 = 1 649 999 ;
    // TVA 18 % = 296 999.82 → 297 000 ; TTC 1 946 999.
    assert.equal(prepared.body.quote.total, 1946999);
    const sent = await server.call(admin, 'POST', `${path}/quote/send`);
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await card(ids.quote).locator('.badge', { hasText: 'Devis envoyé' }).waitFor(WAIT);
    await toast('Devis envoyé').waitFor(WAIT);

    await card(ids.quote).getByRole('button', { name: 'Détails et discussion' }).click();
    const totals = dialog().locator('.quote-totals');
    await totals.waitFor(WAIT);
    assert.match(plain(await totals.textContent()), /1 946 999/);
    await page.screenshot({ path: join(shots, 'portal-quote.png') });

    const [download] = await Promise.all([
      page.waitForEvent('download', WAIT),
      dialog().getByRole('button', { name: /Télécharger le devis/ }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${ids.quoteNumber}.pdf`);
    const text = pdfText(readFileSync(await download.path()));
    for (const expected of [
      ids.quoteNumber,
      CLIENT.name,
      'Dakar, Sénégal',
      'Caméra IP 4K vision nocturne',
      'NVR 16 canaux, disque 4 To',
      '1 250 000 FCFA',
      '1 699 999 FCFA',
      '50 000 FCFA',
      '1 649 999 FCFA',
      '297 000 FCFA',
      '1 946 999 FCFA',
      'Garantie matériel 12 mois.',
    ]) {
      assert.ok(text.includes(expected), `PDF lacks ${expected}:\n${text}`);
    }
    assert.match(text.split('\n').find((l) => l.includes('Total TTC')) ?? '', /1 946 999 FCFA/);

    await dialog().getByRole('button', { name: /Accepter le devis/ }).click();
    await toast('Statut mis à jour').waitFor(WAIT);
    await card(ids.quote).locator('.badge', { hasText: 'Devis accepté' }).waitFor(WAIT);
    const seen = await server.call(admin, 'GET', path);
    assert.equal(seen.body.request.status, 'accepted');
    assert.ok(seen.body.history.some((h) => h.toStatus === 'accepted' && h.actorId === client._id));
    await page.keyboard.press('Escape');
  });

  it('fits a phone screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'fr-FR', isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await p.goto(`${server.url}/client-portal/`);
    await p.getByLabel('Email').fill(CLIENT.email);
    await p.getByLabel('Mot de passe').fill(CLIENT.password);
    await p.getByRole('button', { name: 'Se connecter' }).click();
    await p.locator(`[data-id="${ids.project}"]`).waitFor(WAIT);
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
    await p.screenshot({ path: join(shots, 'portal-mobile.png'), fullPage: true });
    await p.locator('[data-action="quote"]').click();
    const box = await p.getByRole('dialog').boundingBox();
    assert.ok(box.width <= 390, 'modal fits the screen');
    await phone.close();
  });

  it('raised no Content-Security-Policy violation', () => {
    assert.deepEqual(cspViolations, []);
  });
});
