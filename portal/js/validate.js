// Client-side checks that mirror the server's (crates/core/src/validation.rs), with
// the same French messages, so most mistakes are caught before sending. The server
// stays the authority: its 400 `errors` are shown the same way.

export const MSG_REQUIRED = 'Ce champ est obligatoire';
export const MSG_DATE = 'Date invalide (format attendu : AAAA-MM-JJ)';
export const MSG_BUDGET = 'Le budget doit être un nombre entier de francs CFA, positif ou nul';
export const MSG_QUANTITY = 'La quantité doit être un nombre entier supérieur à 0';
export const MSG_CHOICE = 'Valeur invalide : choisissez parmi ';

export const MAX_AMOUNT = 1_000_000_000_000;
export const MAX_QUANTITY = 1_000_000;
export const MAX_ITEMS = 100;

/** The rules of each form, field by field (lengths in characters, after trimming). */
export const RULES = {
  project: {
    name: { required: true, min: 3, max: 200 },
    serviceType: { required: true, oneOf: ['surveillance', 'access_control', 'network', 'other'] },
    description: { required: true, min: 10, max: 5000 },
    address: { required: true, min: 3, max: 300 },
    estimatedBudget: { money: true },
    preferredStartDate: { date: true },
    urgency: { oneOf: ['normal', 'high', 'urgent'] },
  },
  intervention: {
    type: { required: true, oneOf: ['planned', 'urgent'] },
    title: { required: true, min: 3, max: 200 },
    description: { required: true, min: 10, max: 5000 },
    site: { required: true, min: 3, max: 300 },
    preferredDate: { date: true },
    projectId: { max: 100 },
  },
  quote: {
    title: { required: true, min: 3, max: 200 },
    category: { required: true, oneOf: ['equipment', 'service', 'maintenance', 'other'] },
    description: { required: true, min: 10, max: 5000 },
    estimatedBudget: { money: true },
    deadline: { min: 1, max: 100 },
  },
  item: {
    name: { required: true, min: 1, max: 200 },
    quantity: { quantity: true },
    specifications: { max: 1000 },
  },
};

/** `YYYY-MM-DD` naming a real calendar day. */
export function isIsoDate(s) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** "2 500 000" or "2500000" → 2500000; anything else (decimals, signs, letters) → NaN. */
export function parseWhole(s) {
  const compact = String(s).replace(/[\s\u00a0\u202f]/g, '');
  return /^\d+$/.test(compact) ? Number(compact) : Number.NaN;
}

/** The message for one value against one rule, or null when it is fine. */
export function check(rule, value) {
  const blank = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  if (blank) return rule.required || rule.quantity ? MSG_REQUIRED : null;
  if (rule.money) {
    return Number.isInteger(value) && value >= 0 && value <= MAX_AMOUNT ? null : MSG_BUDGET;
  }
  if (rule.quantity) {
    return Number.isInteger(value) && value >= 1 && value <= MAX_QUANTITY ? null : MSG_QUANTITY;
  }
  const text = String(value).trim();
  if (rule.date) return isIsoDate(text) ? null : MSG_DATE;
  if (rule.oneOf) return rule.oneOf.includes(text) ? null : MSG_CHOICE + rule.oneOf.join(', ');
  const n = [...text].length;
  if (rule.min && n < rule.min) return `Doit contenir au moins ${rule.min} caractères`;
  if (rule.max && n > rule.max) return `Doit contenir au plus ${rule.max} caractères`;
  return null;
}

/**
 * Checks a request body as it will be sent; returns `{field: message}` with nested
 * names like `items[0].quantity`, empty when everything is fine.
 */
export function validate(kind, body) {
  const errors = {};
  for (const [field, rule] of Object.entries(RULES[kind])) {
    const msg = check(rule, body[field]);
    if (msg) errors[field] = msg;
  }
  if (kind === 'quote' && Array.isArray(body.items)) {
    if (body.items.length > MAX_ITEMS) errors.items = `Au plus ${MAX_ITEMS} articles par demande`;
    body.items.forEach((item, i) => {
      for (const [field, rule] of Object.entries(RULES.item)) {
        const msg = check(rule, item[field]);
        if (msg) errors[`items[${i}].${field}`] = msg;
      }
    });
  }
  return errors;
}
