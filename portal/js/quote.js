// A sent quote as the client sees it: its totals, the PDF download (fetched with
// the bearer token, saved from a Blob) and the accept / decline decision.

import { api, download } from './api.js';
import { h } from './dom.js';
import { day, xof } from './format.js';
import { toast } from './toast.js';

/** Whether the client can see a quote document for `request`. */
export function hasQuoteDocument(request) {
  return request.kind === 'quote' && ['sent', 'accepted', 'declined'].includes(request.status);
}

/** Saves the PDF of `request` under its ticket number. */
export async function downloadQuotePdf(request) {
  const blob = await download(`/api/requests/${encodeURIComponent(request._id)}/quote.pdf`);
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${request.ticketNumber ?? 'devis'}.pdf`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * The quote section of a detail view. `onDecided(request)` is called with the
 * request after the client accepted or declined.
 */
export function quoteSection(request, quote, onDecided) {
  if (!hasQuoteDocument(request)) return null;
  const pdf = h('button', { type: 'button', class: 'btn btn-quote' }, '📄 Télécharger le devis (PDF)');
  pdf.addEventListener('click', async () => {
    pdf.disabled = true;
    try {
      await downloadQuotePdf(request);
    } catch (err) {
      toast(err.message, { kind: 'error' });
    } finally {
      pdf.disabled = false;
    }
  });
  const rows = quote
    ? h(
        'dl',
        { class: 'quote-totals' },
        h('dt', {}, 'Sous-total HT'),
        h('dd', {}, xof(quote.subtotal)),
        quote.discount > 0 ? [h('dt', {}, 'Remise'), h('dd', {}, `− ${xof(quote.discount)}`)] : null,
        h('dt', {}, `TVA ${quote.vatRate ?? 18} %`),
        h('dd', {}, xof(quote.vatAmount)),
        h('dt', { class: 'total' }, 'Total TTC'),
        h('dd', { class: 'total' }, xof(quote.total)),
        h('dt', {}, "Valable jusqu'au"),
        h('dd', {}, day(quote.validUntil)),
      )
    : null;
  const actions = h('div', { class: 'quote-actions' }, pdf);
  if (request.status === 'sent') {
    const decide = (status) => async () => {
      for (const b of actions.querySelectorAll('button')) b.disabled = true;
      try {
        const res = await api(`/api/requests/${encodeURIComponent(request._id)}/status`, {
          method: 'POST',
          body: { status },
        });
        toast(res.message, { kind: status === 'accepted' ? 'success' : 'info' });
        onDecided(res.request);
      } catch (err) {
        toast(err.message, { kind: 'error' });
        for (const b of actions.querySelectorAll('button')) b.disabled = false;
      }
    };
    actions.append(
      h('button', { type: 'button', class: 'btn btn-project', onclick: decide('accepted') }, '✅ Accepter le devis'),
      h('button', { type: 'button', class: 'btn btn-danger', onclick: decide('declined') }, 'Refuser le devis'),
    );
  }
  return h('section', { class: 'quote-doc', 'aria-label': 'Devis' }, h('h3', {}, 'Votre devis'), rows, actions);
}
