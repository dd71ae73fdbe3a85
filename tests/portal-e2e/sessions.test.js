// Accounts and sessions in the portal (issue 9): the client changes their password in a
// modal (French errors beside each field; the other sessions end), signs out for real (the
// server ends the session, the tab forgets the token), and is sent back to the sign-in
// screen with the server's reason when the session ends elsewhere (feed `session_ended`)
// or an API call answers 401.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestServer, launchBrowser } from './lib/harness.js';

const WAIT = { timeout: 10000 };
const CLIENT = { email: 'mariama@example.sn', name: 'Mariama Sow', password: 'Portail-Sessions-2025' };
const NEW_PASSWORD = 'Nouveau-Portail-2026';

describe('portal sessions', () => {
  let server;
  let browser;
  let context;
  let admin;

  before(async () => {
    server = await TestServer.start();
    admin = await server.addUser('admin', 'admin.sessions@itvision.sn', 'Admin Sessions', 'Admin-Sessions-2025');
    await server.addUser('client', CLIENT.email, CLIENT.name, CLIENT.password);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'fr-FR' });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function signIn(page, password) {
    await page.goto(`${server.url}/client-portal`);
    await page.getByLabel('Email').fill(CLIENT.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: `Bonjour, ${CLIENT.name}` }).waitFor(WAIT);
    await page.locator('#live[data-state="live"]').waitFor(WAIT);
  }

  /** Another session of the client, opened over the API. */
  async function otherSession(password) {
    const res = await server.call(null, 'POST', '/api/auth/login', { email: CLIENT.email, password, device: 'Test · autre appareil' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return { token: res.body.token, sessionId: res.body.session._id };
  }

  const dialog = (page) => page.getByRole('dialog');
  const fieldError = (page, name) => dialog(page).locator(`[data-field="${name}"] .field-error`);

  it('changes the password: errors per field in French, then the other sessions end', async () => {
    const page = await context.newPage();
    await signIn(page, CLIENT.password);
    const other = await otherSession(CLIENT.password);

    await page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    await dialog(page).waitFor(WAIT);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'currentPassword', 'focus in the first field');
    // Nothing typed: refused here, each field named.
    await dialog(page).getByRole('button', { name: 'Changer le mot de passe' }).click();
    assert.equal(await fieldError(page, 'currentPassword').textContent(), 'Saisissez votre mot de passe actuel');
    // A wrong current password: the server's message beside that field.
    await dialog(page).getByLabel('Mot de passe actuel').fill('pas-le-bon-1');
    await dialog(page).getByRole('textbox', { name: 'Nouveau mot de passe', exact: true }).fill(NEW_PASSWORD);
    await dialog(page).getByLabel('Confirmez le nouveau mot de passe').fill(NEW_PASSWORD);
    await dialog(page).getByRole('button', { name: 'Changer le mot de passe' }).click();
    await fieldError(page, 'currentPassword').filter({ hasText: 'Le mot de passe actuel est incorrect' }).waitFor(WAIT);
    assert.equal(await dialog(page).getByLabel('Mot de passe actuel').getAttribute('aria-invalid'), 'true');
    // A weak new one: the server's rule beside the new password.
    await dialog(page).getByLabel('Mot de passe actuel').fill(CLIENT.password);
    await dialog(page).getByRole('textbox', { name: 'Nouveau mot de passe', exact: true }).fill('court');
    await dialog(page).getByLabel('Confirmez le nouveau mot de passe').fill('court');
    await dialog(page).getByRole('button', { name: 'Changer le mot de passe' }).click();
    await fieldError(page, 'newPassword').filter({ hasText: '8 caractères' }).waitFor(WAIT);
    assert.equal(await fieldError(page, 'currentPassword').textContent(), '');
    // Escape closes; the change is then made for real.
    await page.keyboard.press('Escape');
    await dialog(page).waitFor({ state: 'detached', ...WAIT });
    await page.getByRole('button', { name: 'Changer le mot de passe' }).click();
    await dialog(page).getByLabel('Mot de passe actuel').fill(CLIENT.password);
    await dialog(page).getByRole('textbox', { name: 'Nouveau mot de passe', exact: true }).fill(NEW_PASSWORD);
    await dialog(page).getByLabel('Confirmez le nouveau mot de passe').fill(NEW_PASSWORD);
    await page.keyboard.press('Enter');
    await dialog(page).waitFor({ state: 'detached', ...WAIT });
    await page.locator('.toast', { hasText: 'autres sessions' }).waitFor(WAIT);

    // This tab goes on; the other session is over, for the reason the server gives.
    const me = await server.call({ token: await page.evaluate(() => sessionStorage.getItem('itv.token')) }, 'GET', '/api/auth/me');
    assert.equal(me.status, 200);
    const gone = await server.call(other, 'GET', '/api/auth/me');
    assert.equal(gone.status, 401);
    assert.equal(gone.body.code, 'session_ended');
    assert.equal(gone.body.reason, 'password_changed');
    await page.close();
  });

  it('signs out for real: the server ends the session and the tab forgets the token', async () => {
    const page = await context.newPage();
    await signIn(page, NEW_PASSWORD);
    const token = await page.evaluate(() => sessionStorage.getItem('itv.token'));
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('heading', { name: 'Portail client' }).waitFor(WAIT);
    await page.getByTestId('login-notice').filter({ hasText: 'Vous êtes déconnecté' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('itv.token')), null, 'token forgotten');
    const after = await server.call({ token }, 'GET', '/api/auth/me');
    assert.equal(after.status, 401, 'the token is dead on the server');
    assert.equal(after.body.reason, 'signed_out');
    await page.close();
  });

  it('returns to the sign-in screen with the reason when the session is closed elsewhere (feed)', async () => {
    const page = await context.newPage();
    await signIn(page, NEW_PASSWORD);
    const other = await otherSession(NEW_PASSWORD);
    const list = await server.call(other, 'GET', '/api/auth/sessions');
    const portal = list.body.sessions.find((s) => !s.current);
    assert.ok(portal, JSON.stringify(list.body));
    assert.match(portal.device, /Chrome/, 'the portal session is named after the browser');
    const t0 = Date.now();
    const del = await server.call(other, 'DELETE', `/api/auth/sessions/${portal._id}`);
    assert.equal(del.status, 200);
    await page.getByTestId('login-notice').filter({ hasText: 'Cette session a été fermée depuis un autre appareil' }).waitFor(WAIT);
    const took = Date.now() - t0;
    assert.equal(await page.evaluate(() => sessionStorage.getItem('itv.token')), null);
    assert.ok(await page.getByLabel('Email').isVisible());
    console.log(`# closed elsewhere → sign-in screen in ${took} ms`);
    await page.close();
  });

  it('returns to the sign-in screen with the reason when an API call answers 401', async () => {
    const page = await context.newPage();
    // The feed is kept away from the server, so only the API can tell.
    await page.routeWebSocket(/\/api\/feed/, () => {});
    await page.goto(`${server.url}/client-portal`);
    await page.getByLabel('Email').fill(CLIENT.email);
    await page.getByLabel('Mot de passe', { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { name: `Bonjour, ${CLIENT.name}` }).waitFor(WAIT);
    const users = await server.call(admin, 'GET', '/api/staff/users');
    const me = users.body.users.find((u) => u.email === CLIENT.email);
    const off = await server.call(admin, 'PATCH', `/api/staff/users/${me._id}`, { active: false });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    // The next call the portal's own API module makes meets the 401.
    await page.evaluate(() => import('/client-portal/js/api.js').then((m) => m.api('/api/client/requests/project').catch(() => null)));
    await page.getByTestId('login-notice').filter({ hasText: 'Votre compte a été désactivé par un administrateur' }).waitFor(WAIT);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('itv.token')), null);
    await page.close();
  });
});
