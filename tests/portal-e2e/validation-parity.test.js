// The portal's client-side checks (portal/js/validate.js) must say what the server
// says: the same bodies go to both, and the per-field messages must be identical.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RULES, isIsoDate, parseWhole, validate } from '../../portal/js/validate.js';
import { TestServer } from './lib/harness.js';

const long = (n) => 'x'.repeat(n);

const CASES = {
  project: [
    {},
    { name: '   ', serviceType: ' ', description: '\t', address: '' },
    {
      name: 'ab',
      serviceType: 'boat',
      description: 'court',
      address: 'x',
      estimatedBudget: -5,
      preferredStartDate: '2025-02-30',
      urgency: 'extreme',
    },
    { name: long(201), serviceType: 'network', description: long(5001), address: long(301), estimatedBudget: 2.5 },
    { name: 'Caméras', serviceType: 'other', description: 'Dix caractères', address: 'Thiès', estimatedBudget: 1e13 },
    {
      name: 'Installation vidéosurveillance',
      serviceType: 'surveillance',
      description: 'Installation de 16 caméras IP',
      address: '123 Rue de Dakar, Sénégal',
      estimatedBudget: 2500000,
      preferredStartDate: '2030-12-01',
      urgency: 'urgent',
    },
  ],
  intervention: [
    {},
    { type: 'emergency', title: 'ok', description: 'trop court', site: 'ab', preferredDate: '01/12/2025' },
    { type: 'planned', title: long(201), description: long(10), site: long(300), preferredDate: '2031-02-29' },
    { type: 'urgent', title: 'Caméra en panne', description: 'Ne fonctionne plus depuis ce matin', site: 'Siège', preferredDate: '2030-01-15' },
  ],
  quote: [
    {},
    { title: 'Devis', category: 'food', description: 'court', deadline: long(101), estimatedBudget: -1 },
    {
      title: 'Devis caméras',
      category: 'equipment',
      description: 'Dix caméras IP 4K',
      items: [
        { name: '', quantity: 0, specifications: long(1001) },
        { name: 'NVR', quantity: 1.5, specifications: '' },
        { name: long(201), quantity: 2000000, specifications: 'ok' },
        { name: 'Disque', specifications: '' },
      ],
    },
    {
      title: 'Devis pour 10 caméras IP 4K',
      category: 'equipment',
      description: 'Nous souhaitons installer 10 caméras',
      estimatedBudget: 1500000,
      deadline: 'Dans 2 semaines',
      items: [{ name: 'Caméra IP 4K', quantity: 10, specifications: 'Vision nocturne 30m' }],
    },
  ],
};

describe('client-side validation matches the server', () => {
  let server;
  let client;

  before(async () => {
    server = await TestServer.start();
    client = await server.addUser('client', 'parite@example.sn', 'Client Parité', 'Solide-Client-2025');
  });

  after(async () => {
    await server?.stop();
  });

  for (const [kind, bodies] of Object.entries(CASES)) {
    bodies.forEach((body, i) => {
      it(`${kind} #${i}`, async () => {
        const mine = validate(kind, body);
        const res = await server.call(client, 'POST', `/api/client/requests/${kind}`, body);
        if (Object.keys(mine).length === 0) {
          assert.equal(res.status, 201, `the portal accepts it, the server says ${JSON.stringify(res.body)}`);
        } else {
          assert.equal(res.status, 400, `the portal refuses it (${JSON.stringify(mine)}), the server says ${res.status}`);
          assert.equal(res.body.code, 'validation');
          assert.deepEqual(mine, res.body.errors);
        }
      });
    });
  }
});

describe('validate.js helpers', () => {
  it('reads whole francs with or without spaces, nothing else', () => {
    assert.equal(parseWhole('2 500 000'), 2500000);
    assert.equal(parseWhole('2\u202f500\u00a0000'), 2500000);
    assert.equal(parseWhole('0'), 0);
    for (const bad of ['12,5', '12.5', '-3', '1e6', 'abc', '']) assert.ok(Number.isNaN(parseWhole(bad)), bad);
  });

  it('knows real calendar days', () => {
    assert.ok(isIsoDate('2028-02-29'));
    assert.ok(!isIsoDate('2027-02-29'));
    assert.ok(!isIsoDate('2025-2-3'));
    assert.ok(!isIsoDate('19/11/2025'));
  });

  it('covers every field of the three forms', () => {
    assert.deepEqual(Object.keys(RULES.project), [
      'name',
      'serviceType',
      'description',
      'address',
      'estimatedBudget',
      'preferredStartDate',
      'urgency',
    ]);
    assert.deepEqual(Object.keys(RULES.intervention), ['type', 'title', 'description', 'site', 'preferredDate', 'projectId']);
    assert.deepEqual(Object.keys(RULES.quote), ['title', 'category', 'description', 'estimatedBudget', 'deadline']);
  });
});
