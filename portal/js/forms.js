// The seed's three request forms (project, intervention, quote) in modals: fields
// with their required marks, client-side checks, the server's per-field errors,
// and a toast with the server's message on success — no page reload.

import { api, ApiError } from './api.js';
import { h, uid } from './dom.js';
import { openModal } from './modal.js';
import { toast } from './toast.js';
import { parseWhole, validate } from './validate.js';

const SERVICE_TYPES = [
  ['surveillance', 'Vidéosurveillance'],
  ['access_control', "Contrôle d'accès"],
  ['network', 'Réseau'],
  ['other', 'Autre'],
];
const URGENCIES = [
  ['normal', 'Normal'],
  ['high', 'Haute'],
  ['urgent', 'Urgent'],
];
const CATEGORIES = [
  ['equipment', 'Équipement'],
  ['service', 'Service'],
  ['maintenance', 'Maintenance'],
  ['other', 'Autre'],
];
const INTERVENTION_TYPES = [
  ['planned', 'Planifiée', 'Maintenance ou installation'],
  ['urgent', 'Urgente', 'Panne ou problème critique'],
];

/** What each form holds, in the seed's order and wording. */
export const FORMS = {
  project: {
    title: '🏗️ Demande de Nouveau Projet',
    endpoint: '/api/client/requests/project',
    submit: 'Envoyer la demande de projet',
    fields: [
      { name: 'name', label: 'Nom du projet', kind: 'text', required: true, max: 200 },
      { name: 'serviceType', label: 'Type de service', kind: 'select', required: true, options: SERVICE_TYPES },
      { name: 'description', label: 'Description détaillée', kind: 'textarea', required: true, max: 5000 },
      { name: 'address', label: 'Adresse / Site', kind: 'text', required: true, max: 300 },
      { name: 'estimatedBudget', label: 'Budget estimé (FCFA)', kind: 'money', hint: 'Optionnel, en francs CFA' },
      { name: 'preferredStartDate', label: 'Date de début souhaitée', kind: 'date', hint: 'Optionnel' },
      { name: 'urgency', label: "Niveau d'urgence", kind: 'select', options: URGENCIES, value: 'normal' },
    ],
  },
  intervention: {
    title: "🔧 Demande d'Intervention",
    endpoint: '/api/client/requests/intervention',
    submit: "Envoyer la demande d'intervention",
    fields: [
      { name: 'type', label: "Type d'intervention", kind: 'radio', required: true, options: INTERVENTION_TYPES },
      { name: 'title', label: 'Titre', kind: 'text', required: true, max: 200 },
      { name: 'description', label: 'Description du problème', kind: 'textarea', required: true, max: 5000 },
      { name: 'site', label: 'Site / Localisation', kind: 'text', required: true, max: 300 },
      { name: 'preferredDate', label: 'Date souhaitée', kind: 'date', hint: 'Optionnel' },
      { name: 'projectId', label: 'Projet concerné', kind: 'project', hint: 'Optionnel' },
    ],
  },
  quote: {
    title: '💰 Demande de Devis',
    endpoint: '/api/client/requests/quote',
    submit: 'Envoyer la demande de devis',
    fields: [
      { name: 'title', label: 'Titre', kind: 'text', required: true, max: 200 },
      { name: 'category', label: 'Catégorie', kind: 'select', required: true, options: CATEGORIES },
      { name: 'description', label: 'Description détaillée', kind: 'textarea', required: true, max: 5000 },
      { name: 'estimatedBudget', label: 'Budget estimé (FCFA)', kind: 'money', hint: 'Optionnel, en francs CFA' },
      { name: 'deadline', label: 'Délai souhaité', kind: 'text', max: 100, hint: 'Optionnel, ex. « Dans 2 semaines »' },
      { name: 'items', label: 'Articles souhaités', kind: 'items', hint: 'Optionnel' },
    ],
  },
};

/**
 * Opens the form of `kind` in a modal. `projects` feeds the intervention's project
 * choice; `onCreated(request)` is called with the created request.
 */
export function openRequestForm(kind, { projects = [], onCreated = () => {} } = {}) {
  const def = FORMS[kind];
  const form = h('form', { class: `request-form form-${kind}`, novalidate: true, dataset: { kind } });
  const summary = h('div', { class: 'form-summary', role: 'alert', hidden: true });
  const ctx = { form, kind, items: null };
  form.append(
    h('p', { class: 'required-note' }, 'Les champs marqués ', h('span', { class: 'req', 'aria-hidden': 'true' }, '*'), ' sont obligatoires.'),
    summary,
    ...def.fields.map((f) => field(ctx, f, projects)),
  );
  const submit = h('button', { type: 'submit', class: `btn btn-${kind}` }, def.submit);
  const modal = openModal({ title: def.title, body: form, className: `modal-${kind}` });
  form.append(
    h(
      'div',
      { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => modal.close() }, 'Annuler'),
      submit,
    ),
  );

  // A field being corrected loses its stale error.
  form.addEventListener('input', (ev) => {
    const box = ev.target.closest('.field');
    if (!box) return;
    const error = box.querySelector('.field-error');
    if (error) error.textContent = '';
    for (const c of box.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    const left = [...form.querySelectorAll('.field-error')].filter((e) => e.textContent !== '').length;
    if (left === 0) summary.hidden = true;
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = collect(ctx);
    const errors = validate(kind, body);
    showErrors(ctx, summary, errors);
    if (Object.keys(errors).length > 0) return;
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    try {
      const res = await api(def.endpoint, { method: 'POST', body });
      modal.close();
      toast(res.message, { kind: 'success' });
      onCreated(res.project ?? res.ticket);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'validation') {
        showErrors(ctx, summary, err.errors, err.message);
      } else {
        showErrors(ctx, summary, {}, err.message);
        toast(err.message, { kind: 'error' });
      }
    } finally {
      submit.disabled = false;
      submit.removeAttribute('aria-busy');
    }
  });
  return modal;
}

function field(ctx, f, projects) {
  const id = uid(`f-${ctx.kind}-${f.name}`);
  const errId = `${id}-error`;
  const hintId = f.hint ? `${id}-hint` : null;
  const describedBy = [hintId, errId].filter(Boolean).join(' ');
  const labelText = [f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null];
  const common = { id, name: f.name, 'aria-describedby': describedBy, required: f.required ?? false };
  const error = h('p', { class: 'field-error', id: errId, dataset: { errorFor: f.name } });
  const hint = hintId ? h('p', { class: 'hint', id: hintId }, f.hint) : null;

  if (f.kind === 'radio') {
    const choices = f.options.map(([value, label, sub]) => {
      const rid = uid(`${id}-${value}`);
      return h(
        'div',
        { class: `choice choice-${value}` },
        h('input', { type: 'radio', id: rid, name: f.name, value, required: true, 'aria-describedby': errId }),
        h('label', { for: rid }, h('strong', {}, label), h('span', {}, ` — ${sub}`)),
      );
    });
    return h(
      'fieldset',
      { class: 'field', dataset: { field: f.name }, 'aria-describedby': errId },
      h('legend', {}, ...labelText),
      ...choices,
      error,
    );
  }
  if (f.kind === 'items') {
    ctx.items = h('div', { class: 'items' });
    const add = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, '+ Ajouter un article');
    add.addEventListener('click', () => addItem(ctx));
    return h(
      'fieldset',
      { class: 'field', dataset: { field: f.name } },
      h('legend', {}, f.label),
      hint,
      ctx.items,
      add,
      error,
    );
  }

  let control;
  if (f.kind === 'textarea') {
    control = h('textarea', { ...common, rows: 4, maxlength: f.max });
  } else if (f.kind === 'select') {
    control = h(
      'select',
      common,
      f.value ? null : h('option', { value: '' }, '— Choisir —'),
      ...f.options.map(([value, label]) => h('option', { value, selected: value === f.value }, label)),
    );
  } else if (f.kind === 'project') {
    control = h(
      'select',
      common,
      h('option', { value: '' }, 'Aucun'),
      ...projects.map((p) => h('option', { value: p._id }, p.name ?? p.title)),
    );
  } else if (f.kind === 'money') {
    control = h('input', { ...common, type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: 'ex. 2 500 000' });
  } else if (f.kind === 'date') {
    control = h('input', { ...common, type: 'date' });
  } else {
    control = h('input', { ...common, type: 'text', maxlength: f.max });
  }
  return h('div', { class: 'field', dataset: { field: f.name } }, h('label', { for: id }, ...labelText), hint, control, error);
}

function addItem(ctx) {
  const row = h('div', { class: 'item-row' });
  const make = (name, label, attrs) => {
    const id = uid(`item-${name}`);
    const errId = `${id}-error`;
    const mark = attrs.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
    return h(
      'div',
      { class: `field item-${name}`, dataset: { itemField: name } },
      h('label', { for: id }, label, mark),
      h('input', { id, name, 'aria-describedby': errId, ...attrs }),
      h('p', { class: 'field-error', id: errId }),
    );
  };
  const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small item-remove' }, 'Retirer');
  remove.addEventListener('click', () => {
    row.remove();
    ctx.items.querySelector('input')?.focus();
  });
  row.append(
    make('name', 'Article', { type: 'text', maxlength: 200, required: true }),
    make('quantity', 'Quantité', { type: 'text', inputmode: 'numeric', required: true, value: '1' }),
    make('specifications', 'Spécifications', { type: 'text', maxlength: 1000 }),
    remove,
  );
  ctx.items.append(row);
  row.querySelector('input').focus();
}

/** The JSON body of the form: trimmed text, numbers parsed, blank optionals left out. */
function collect(ctx) {
  const data = new FormData(ctx.form);
  const body = {};
  for (const f of FORMS[ctx.kind].fields) {
    if (f.kind === 'items') continue;
    const raw = String(data.get(f.name) ?? '').trim();
    if (raw === '') continue;
    body[f.name] = f.kind === 'money' ? parseWhole(raw) : raw;
  }
  if (ctx.items) {
    const rows = [...ctx.items.querySelectorAll('.item-row')];
    if (rows.length > 0) {
      body.items = rows.map((row) => {
        const value = (name) => row.querySelector(`[name="${name}"]`).value.trim();
        const q = value('quantity');
        return { name: value('name'), quantity: q === '' ? undefined : parseWhole(q), specifications: value('specifications') };
      });
    }
  }
  return body;
}

/** Shows `errors` ({field: message}) next to their fields and a summary at the top. */
function showErrors(ctx, summary, errors, message = null) {
  for (const el of ctx.form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of ctx.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const unplaced = [];
  let firstInvalid = null;
  for (const [name, msg] of Object.entries(errors)) {
    const target = locate(ctx, name);
    if (!target) {
      unplaced.push(`${name} : ${msg}`);
      continue;
    }
    target.error.textContent = msg;
    for (const c of target.controls) c.setAttribute('aria-invalid', 'true');
    firstInvalid ??= target.controls[0];
  }
  const count = Object.keys(errors).length;
  if (count > 0 || message) {
    summary.hidden = false;
    summary.replaceChildren(
      h('strong', {}, message ?? 'Le formulaire contient des erreurs'),
      count > 0 ? h('span', {}, ` — ${count} champ${count > 1 ? 's' : ''} à corriger.`) : null,
      ...unplaced.map((u) => h('div', {}, u)),
    );
  } else {
    summary.hidden = true;
    summary.replaceChildren();
  }
  firstInvalid?.focus();
}

/** Finds the error slot and controls of `name` (`title`, `items[1].quantity`, …). */
function locate(ctx, name) {
  const nested = /^items\[(\d+)\]\.(\w+)$/.exec(name);
  let box;
  if (nested) {
    const row = ctx.items?.querySelectorAll('.item-row')[Number(nested[1])];
    box = row?.querySelector(`[data-item-field="${nested[2]}"]`);
  } else {
    box = ctx.form.querySelector(`[data-field="${CSS.escape(name)}"]`);
  }
  if (!box) return null;
  const error = box.querySelector('.field-error');
  const controls = [...box.querySelectorAll('input, select, textarea')];
  return error ? { error, controls } : null;
}
