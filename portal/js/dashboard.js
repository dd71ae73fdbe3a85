// The client's dashboard: the seed's three action buttons, the tabs listing the
// client's projects, interventions and quotes, kept live by the feed, and the
// detail view of a request (history, quote, chat).

import { api } from './api.js';
import { chatPanel } from './chat.js';
import { h, replaceChildren } from './dom.js';
import { Feed } from './feed.js';
import {
  CATEGORY_LABELS,
  INTERVENTION_TYPE_LABELS,
  KIND_LABELS,
  PRIORITY_LABELS,
  SERVICE_LABELS,
  URGENCY_LABELS,
  day,
  enRouteLine,
  stamp,
  statusLabel,
  takenLine,
  xof,
} from './format.js';
import { openRequestForm } from './forms.js';
import { openModal } from './modal.js';
import { hasQuoteDocument, quoteSection } from './quote.js';
import * as session from './session.js';
import { toast } from './toast.js';

const TABS = [
  { kind: 'project', label: 'Projets', path: '/api/client/requests/project', key: 'projects' },
  { kind: 'intervention', label: 'Interventions', path: '/api/client/requests/intervention', key: 'tickets' },
  { kind: 'quote', label: 'Devis', path: '/api/client/requests/quote', key: 'tickets' },
];

const ACTIONS = [
  { kind: 'project', icon: '🏗️', label: 'Nouveau Projet', sub: 'Demandez un projet' },
  { kind: 'intervention', icon: '🔧', label: 'Intervention', sub: 'Support technique' },
  { kind: 'quote', icon: '💰', label: 'Devis', sub: 'Estimation' },
];

const CANCELLABLE = ['open', 'assigned', 'en_route', 'on_site'];

/** Status changes worth a toast, with their wording for the client. */
const STATUS_TOASTS = {
  assigned: { icon: '👷', kind: 'info' },
  en_route: { icon: '🚗', kind: 'info' },
  on_site: { icon: '📍', kind: 'info' },
  resolved: { icon: '✅', kind: 'success' },
  active: { icon: '✅', kind: 'success' },
  rejected: { icon: '⛔', kind: 'warning' },
  completed: { icon: '🏁', kind: 'success' },
  in_progress: { icon: '📝', kind: 'info' },
  sent: { icon: '💰', kind: 'success' },
};

/**
 * Renders the dashboard of `user` into `main`; returns a function that stops its
 * live feed. `onLive(boolean)` reports the feed's state; `onRejected(message)`
 * is called when the feed refuses the session (expired or revoked token).
 */
export function showDashboard(main, user, { onLive = () => {}, onRejected = () => {} } = {}) {
  const requests = new Map();
  let activeTab = 'project';
  let detail = null; // {id, refresh(request), chat}

  const lists = Object.fromEntries(
    TABS.map((t) => [t.kind, h('ul', { class: 'request-list', 'aria-live': 'polite' })]),
  );
  const tabButtons = {};
  const panels = {};
  for (const t of TABS) {
    tabButtons[t.kind] = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${t.kind}`,
        'aria-controls': `panel-${t.kind}`,
        class: 'tab',
        dataset: { kind: t.kind },
      },
      t.label,
      ' ',
      h('span', { class: 'count' }, '0'),
    );
    panels[t.kind] = h(
      'div',
      { role: 'tabpanel', id: `panel-${t.kind}`, 'aria-labelledby': `tab-${t.kind}`, class: 'panel', tabindex: '0' },
      lists[t.kind],
    );
  }
  const tablist = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Mes demandes' }, Object.values(tabButtons));
  tablist.addEventListener('click', (ev) => {
    const btn = ev.target.closest('[role="tab"]');
    if (btn) selectTab(btn.dataset.kind);
  });
  tablist.addEventListener('keydown', (ev) => {
    const order = TABS.map((t) => t.kind);
    const i = order.indexOf(activeTab);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: order.length - 1 }[ev.key];
    if (next === undefined) return;
    ev.preventDefault();
    selectTab(order[(next + order.length) % order.length]);
    tabButtons[activeTab].focus();
  });

  function selectTab(kind) {
    activeTab = kind;
    for (const t of TABS) {
      const on = t.kind === kind;
      tabButtons[t.kind].setAttribute('aria-selected', String(on));
      tabButtons[t.kind].tabIndex = on ? 0 : -1;
      panels[t.kind].hidden = !on;
    }
  }

  const actions = h(
    'section',
    { class: 'actions', 'aria-label': 'Nouvelle demande' },
    ACTIONS.map((a) =>
      h(
        'button',
        { type: 'button', class: `action action-${a.kind}`, dataset: { action: a.kind } },
        h('span', { class: 'action-icon', 'aria-hidden': 'true' }, a.icon),
        h('span', { class: 'action-label' }, a.label),
        h('span', { class: 'action-sub' }, a.sub),
      ),
    ),
  );
  actions.addEventListener('click', (ev) => {
    const btn = ev.target.closest('[data-action]');
    if (!btn) return;
    const kind = btn.dataset.action;
    const projects = [...requests.values()].filter((r) => r.kind === 'project' && r.status !== 'rejected');
    openRequestForm(kind, {
      projects,
      onCreated: (request) => {
        if (request) upsert(request);
        selectTab(kind);
      },
    });
  });

  replaceChildren(
    main,
    h('h1', { class: 'welcome' }, `Bonjour, ${user.name}`),
    actions,
    h('section', { class: 'requests', 'aria-label': 'Mes demandes' }, h('h2', {}, 'Mes demandes'), tablist, Object.values(panels)),
  );
  selectTab('project');

  function upsert(request) {
    const before = requests.get(request._id);
    if (before && (before.version ?? 0) >= (request.version ?? 0)) return before;
    requests.set(request._id, request);
    renderCard(request);
    if (detail?.id === request._id) detail.refresh(request);
    return before;
  }

  function renderCard(r) {
    const list = lists[r.kind];
    if (!list) return;
    const card = card_(r);
    const old = list.querySelector(`[data-id="${CSS.escape(r._id)}"]`);
    const hadFocus = old?.contains(document.activeElement);
    if (old) {
      old.replaceWith(card);
    } else {
      // Newest first.
      const after = [...list.children].find((li) => (li.dataset.created ?? '') < (r.createdAt ?? ''));
      list.insertBefore(card, after ?? null);
    }
    list.querySelector('.empty')?.remove();
    if (hadFocus) card.querySelector('button')?.focus();
    updateCounts();
  }

  function card_(r) {
    const open = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Détails et discussion');
    open.addEventListener('click', () => openDetail(r._id));
    return h(
      'li',
      { class: `request-card kind-${r.kind}`, dataset: { id: r._id, created: r.createdAt ?? '', status: r.status } },
      h(
        'div',
        { class: 'card-head' },
        h('span', { class: 'ticket' }, r.ticketNumber ?? KIND_LABELS[r.kind]),
        h('span', { class: `badge status-${r.status}` }, statusLabel(r.status)),
      ),
      h('h3', { class: 'card-title' }, r.title ?? r.name),
      h(
        'p',
        { class: 'card-meta' },
        r.site ? `${r.site} · ` : '',
        `Créée le ${stamp(r.createdAt)}`,
        r.priority === 'urgent' ? h('span', { class: 'badge urgent' }, '🚨 Urgent') : null,
      ),
      ownership(r),
      h('div', { class: 'card-actions' }, open),
    );
  }

  function updateCounts() {
    for (const t of TABS) {
      const n = [...requests.values()].filter((r) => r.kind === t.kind).length;
      tabButtons[t.kind].querySelector('.count').textContent = String(n);
      const list = lists[t.kind];
      if (n === 0 && !list.querySelector('.empty')) {
        list.append(h('li', { class: 'empty' }, `Aucune demande pour le moment.`));
      }
    }
  }

  async function openDetail(id) {
    let data;
    try {
      data = await api(`/api/requests/${encodeURIComponent(id)}`);
    } catch (err) {
      toast(err.message, { kind: 'error' });
      return;
    }
    const info = h('div', { class: 'detail-info' });
    const chat = chatPanel(id, user);
    let quote = data.quote;
    const render = (r) => {
      replaceChildren(info, detailInfo(r, data.history), quoteSection(r, quote, (after) => upsert(after)), cancelButton(r));
    };
    const modal = openModal({
      title: data.request.ticketNumber ? `${data.request.ticketNumber} — ${data.request.title}` : data.request.title,
      body: h('div', { class: 'detail' }, info, chat.el),
      className: 'modal-detail',
      returnFocus: () => lists[data.request.kind]?.querySelector(`[data-id="${CSS.escape(id)}"] button`),
      onClose: () => {
        if (detail?.id === id) detail = null;
      },
    });
    detail = {
      id,
      chat,
      modal,
      refresh: async (r) => {
        if (hasQuoteDocument(r) && !quote) {
          quote = (await api(`/api/requests/${encodeURIComponent(id)}`).catch(() => ({}))).quote ?? null;
        }
        render(r);
      },
    };
    upsert(data.request);
    render(requests.get(id) ?? data.request);
  }

  function cancelButton(r) {
    if (r.kind !== 'intervention' || !CANCELLABLE.includes(r.status)) return null;
    const btn = h('button', { type: 'button', class: 'btn btn-danger btn-small' }, 'Annuler la demande');
    btn.addEventListener('click', async () => {
      if (!window.confirm('Annuler cette demande d’intervention ?')) return;
      btn.disabled = true;
      try {
        const res = await api(`/api/requests/${encodeURIComponent(r._id)}/status`, {
          method: 'POST',
          body: { status: 'cancelled' },
        });
        toast(res.message, { kind: 'info' });
        upsert(res.request);
      } catch (err) {
        toast(err.message, { kind: 'error' });
        btn.disabled = false;
      }
    });
    return h('div', { class: 'detail-actions' }, btn);
  }

  function onEvent(ev) {
    const before = ev.request ? upsert(ev.request) : null;
    if (ev.type === 'message.created' && ev.chatMessage) {
      if (detail?.id === ev._id) {
        detail.chat.add(ev.chatMessage);
      } else if (ev.chatMessage.authorId !== user._id) {
        toast(ev.chatMessage.body, { title: `💬 Nouveau message — ${ev.ticketNumber ?? ev.request?.title ?? ''}` });
      }
      return;
    }
    const r = ev.request;
    if (r && ev.type === 'request.acknowledged' && !before?.acknowledgedAt && takenLine(r)) {
      toast(takenLine(r), { kind: 'info', title: `👷 ${r.ticketNumber ?? r.title}` });
      return;
    }
    if (!r || ev.type === 'request.created' || (before && before.status === r.status)) return;
    const style = STATUS_TOASTS[r.status];
    if (!style) return;
    toast(r.ticketNumber ? `${r.ticketNumber} — ${r.title}` : r.title, {
      kind: style.kind,
      title: `${style.icon} ${statusLabel(r.status)}`,
    });
  }

  async function loadAll() {
    const results = await Promise.all(
      TABS.map((t) => api(`${t.path}?page=1&limit=100`).then((res) => res[t.key] ?? [])),
    );
    for (const list of results) for (const r of list) upsert(r);
    updateCounts();
  }

  const feed = new Feed({
    onEvent,
    onLive,
    onResync: () => loadAll().catch((err) => toast(err.message, { kind: 'error' })),
    onRejected,
  });

  (async () => {
    try {
      // Resume point first, then the lists: nothing that happens in between is lost.
      const since = session.lastSeq() ?? (await api('/api/feed/head')).seq;
      await loadAll();
      feed.start(since);
    } catch (err) {
      toast(err.message, { kind: 'error' });
    }
  })();

  return () => feed.stop();
}

const FINAL = ['resolved', 'closed', 'cancelled'];

/** On an intervention's card: who took it and when, when the technician left. */
function ownership(r) {
  if (r.kind !== 'intervention') return null;
  const lines = [takenLine(r), enRouteLine(r)].filter(Boolean);
  if (!lines.length) return null;
  return h('p', { class: 'card-ack', dataset: { testid: 'ownership' } }, lines.join(' · '));
}

function detailInfo(r, history = []) {
  const rows = [
    ['Statut', h('span', { class: `badge status-${r.status}` }, statusLabel(r.status))],
    ['Type', KIND_LABELS[r.kind]],
    r.ticketNumber ? ['Ticket', r.ticketNumber] : null,
    ['Priorité', PRIORITY_LABELS[r.priority] ?? r.priority],
  ];
  if (r.kind === 'project') {
    rows.push(
      ['Type de service', SERVICE_LABELS[r.serviceType] ?? r.serviceType],
      ['Adresse / Site', r.address],
      ['Budget estimé', r.estimatedBudget == null ? '—' : xof(r.estimatedBudget)],
      ['Début souhaité', day(r.preferredStartDate)],
      ["Niveau d'urgence", URGENCY_LABELS[r.urgency] ?? r.urgency],
    );
    if (r.rejectionReason) rows.push(['Motif du refus', r.rejectionReason]);
  } else if (r.kind === 'intervention') {
    rows.push(
      ["Type d'intervention", INTERVENTION_TYPE_LABELS[r.type] ?? r.type],
      ['Site / Localisation', r.site],
      ['Date souhaitée', day(r.preferredDate)],
      ['Technicien', r.assigneeName ?? 'Pas encore assigné'],
      ['Prise en charge', takenLine(r) ?? (FINAL.includes(r.status) ? '—' : 'En attente de prise en charge')],
    );
    if (r.enRouteAt) rows.push(['Départ du technicien', enRouteLine(r)]);
  } else {
    rows.push(
      ['Catégorie', CATEGORY_LABELS[r.category] ?? r.category],
      ['Budget estimé', r.estimatedBudget == null ? '—' : xof(r.estimatedBudget)],
      ['Délai souhaité', r.deadline ?? '—'],
    );
  }
  const items =
    r.kind === 'quote' && r.items?.length
      ? h(
          'ul',
          { class: 'items-list' },
          r.items.map((i) => h('li', {}, `${i.quantity} × ${i.name}`, i.specifications ? ` — ${i.specifications}` : '')),
        )
      : null;
  return h(
    'div',
    {},
    h('dl', { class: 'facts' }, rows.filter(Boolean).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'Description'),
    h('p', { class: 'description' }, r.description),
    items,
    history.length
      ? h(
          'details',
          { class: 'history' },
          h('summary', {}, 'Historique'),
          h(
            'ol',
            {},
            history.map((e) =>
              h(
                'li',
                {},
                h('time', { datetime: e.at }, stamp(e.at)),
                ` — ${e.actorName} : `,
                e.toStatus ? statusLabel(e.toStatus) : e.action,
                e.note ? ` (${e.note})` : '',
              ),
            ),
          ),
        )
      : null,
  );
}
