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
