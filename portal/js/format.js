// French (Senegal) wording and formatting: statuses, kinds, XOF amounts, dates.

const money = new Intl.NumberFormat('fr-SN', { style: 'currency', currency: 'XOF', maximumFractionDigits: 0 });
const longDate = new Intl.DateTimeFormat('fr-SN', { dateStyle: 'long', timeZone: 'UTC' });
const dateTime = new Intl.DateTimeFormat('fr-SN', { dateStyle: 'medium', timeStyle: 'short' });

/** 1500000 → "1 500 000 F CFA" (as Intl writes it for fr-SN). */
export function xof(amount) {
  return amount === null || amount === undefined ? '—' : money.format(amount);
}

/** "2025-12-01" → "1 décembre 2025". */
export function day(isoDate) {
  if (!isoDate) return '—';
  const d = new Date(`${isoDate}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? isoDate : longDate.format(d);
}

/** An RFC 3339 timestamp in local time. */
export function stamp(rfc3339) {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

export const STATUS_LABELS = {
  pending: 'En attente de validation',
  active: 'Actif',
  rejected: 'Refusé',
  completed: 'Terminé',
  open: 'Ouvert',
  assigned: 'Technicien assigné',
  en_route: 'Technicien en route',
  on_site: 'Technicien sur site',
  resolved: 'Résolu',
  closed: 'Clôturé',
  cancelled: 'Annulé',
  in_progress: 'Devis en préparation',
  sent: 'Devis envoyé',
  accepted: 'Devis accepté',
  declined: 'Devis refusé',
};

export function statusLabel(status) {
  return STATUS_LABELS[status] ?? status;
}

export const KIND_LABELS = { project: 'Projet', intervention: 'Intervention', quote: 'Devis' };

export const SERVICE_LABELS = {
  surveillance: 'Vidéosurveillance',
  access_control: "Contrôle d'accès",
  network: 'Réseau',
  other: 'Autre',
};

export const CATEGORY_LABELS = { equipment: 'Équipement', service: 'Service', maintenance: 'Maintenance', other: 'Autre' };

export const URGENCY_LABELS = { normal: 'Normal', high: 'Haute', urgent: 'Urgent' };

export const INTERVENTION_TYPE_LABELS = { planned: 'Planifiée', urgent: 'Urgente' };

export const PRIORITY_LABELS = { low: 'Basse', medium: 'Moyenne', high: 'Haute', urgent: 'Urgente' };

// Who took an intervention and when the technician left (issue 10). Times are Dakar's (UTC),
// 24 h, as the client reads them on a wall clock.
const clockFormat = new Intl.DateTimeFormat('fr-SN', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Africa/Dakar' });
const dayFormat = new Intl.DateTimeFormat('fr-SN', { day: 'numeric', month: 'long', timeZone: 'Africa/Dakar' });
const dakarDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'Africa/Dakar' });

/** "2026-12-01T10:05:09Z" → "10:05". */
export function clock(rfc3339) {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? '' : clockFormat.format(d);
}

/** "à 10:05" the same day in Dakar, "le 30 novembre à 10:05" another day. */
export function atTime(rfc3339, now = new Date()) {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return '';
  const sameDay = dakarDay.format(d) === dakarDay.format(now);
  return sameDay ? `à ${clock(rfc3339)}` : `le ${dayFormat.format(d)} à ${clock(rfc3339)}`;
}

/** "Awa Ndiaye" → "Awa": staff are named to clients by their first name. */
export function firstName(name) {
  return String(name ?? '').trim().split(/\s+/)[0] ?? '';
}

/** "Pris en charge par Awa à 10:05", or null until someone has taken it. */
export function takenLine(r, now = new Date()) {
  if (!r.acknowledgedBy || !r.acknowledgedAt) return null;
  return `Pris en charge par ${firstName(r.acknowledgedBy.name)} ${atTime(r.acknowledgedAt, now)}`;
}

/** "Technicien en route à 10:40", or null until a technician left. */
export function enRouteLine(r, now = new Date()) {
  return r.enRouteAt ? `Technicien en route ${atTime(r.enRouteAt, now)}` : null;
}
