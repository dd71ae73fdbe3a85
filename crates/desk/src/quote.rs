//! Quotes as the desk handles them: the document the server stores (lines and
//! totals), the draft an admin edits, and the live totals of that draft, computed
//! by `itv_core::quote` so the desk and the server can never disagree on a franc.

use itv_core::quote::{TotalsError, VAT_RATE_PERCENT, compute_totals};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One priced line of a stored quote (whole XOF francs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub designation: String,
    #[ts(type = "number")]
    pub quantity: u64,
    #[ts(type = "number")]
    pub unit_price: u64,
    #[ts(type = "number")]
    pub line_total: u64,
}

/// A quote as the server stored it, with its totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuoteDoc {
    pub lines: Vec<QuoteLine>,
    #[ts(type = "number")]
    pub subtotal: u64,
    #[ts(type = "number")]
    pub discount: u64,
    #[ts(type = "number")]
    pub taxable_amount: u64,
    #[ts(type = "number")]
    pub vat_rate: u64,
    #[ts(type = "number")]
    pub vat_amount: u64,
    #[ts(type = "number")]
    pub total: u64,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    #[serde(default)]
    pub notes: String,
    /// `YYYY-MM-DD`, the day it was last prepared.
    #[serde(default)]
    pub issued_on: Option<String>,
}

/// One line as an admin types it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLineDraft {
    pub designation: String,
    #[ts(type = "number")]
    pub quantity: u64,
    #[ts(type = "number")]
    pub unit_price: u64,
}

/// The body of `PUT /api/requests/{id}/quote`; the server validates every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuoteDraft {
    pub lines: Vec<QuoteLineDraft>,
    #[ts(type = "number")]
    pub discount: u64,
    /// `YYYY-MM-DD`.
    pub valid_until: String,
    pub notes: String,
}

impl QuoteDraft {
    /// The draft a stored quote is edited from.
    pub fn from_doc(doc: &QuoteDoc) -> QuoteDraft {
        QuoteDraft {
            lines: doc
                .lines
                .iter()
                .map(|l| QuoteLineDraft {
                    designation: l.designation.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                })
                .collect(),
            discount: doc.discount,
            valid_until: doc.valid_until.clone(),
            notes: doc.notes.clone(),
        }
    }
}

/// The totals of a draft as it is typed, or why they cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct QuotePreview {
    /// `quantity × unitPrice` per line, in the draft's order (0 when it overflows).
    #[ts(type = "Array<number>")]
    pub line_totals: Vec<u64>,
    #[ts(type = "number")]
    pub subtotal: u64,
    #[ts(type = "number")]
    pub taxable_amount: u64,
    #[ts(type = "number")]
    pub vat_rate: u64,
    #[ts(type = "number")]
    pub vat_amount: u64,
    #[ts(type = "number")]
    pub total: u64,
    /// French message when the totals cannot be computed (discount above the subtotal...).
    pub problem: Option<String>,
}

/// Computes the totals of `lines` less `discount` with the server's own arithmetic.
pub fn preview(lines: &[QuoteLineDraft], discount: u64) -> QuotePreview {
    let pairs: Vec<(u64, u64)> = lines.iter().map(|l| (l.quantity, l.unit_price)).collect();
    let line_totals = pairs
        .iter()
        .map(|&(q, p)| q.checked_mul(p).unwrap_or(0))
        .collect();
    match compute_totals(&pairs, discount) {
        Ok(t) => QuotePreview {
            line_totals,
            subtotal: t.subtotal,
            taxable_amount: t.taxable_amount,
            vat_rate: VAT_RATE_PERCENT,
            vat_amount: t.vat_amount,
            total: t.total,
            problem: None,
        },
        Err(e) => {
            let subtotal = match e {
                TotalsError::DiscountAboveSubtotal => {
                    compute_totals(&pairs, 0).map(|t| t.subtotal).unwrap_or(0)
                }
                TotalsError::Overflow => 0,
            };
            QuotePreview {
                line_totals,
                subtotal,
                taxable_amount: 0,
                vat_rate: VAT_RATE_PERCENT,
                vat_amount: 0,
                total: 0,
                problem: Some(e.to_string()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: u64, unit_price: u64) -> QuoteLineDraft {
        QuoteLineDraft {
            designation: "Caméra IP 4K".into(),
            quantity,
            unit_price,
        }
    }

    #[test]
    fn totals_are_the_servers_vat_18_half_up() {
        let p = preview(&[line(4, 85_000), line(1, 250_001)], 10_000);
        assert_eq!(p.line_totals, vec![340_000, 250_001]);
        assert_eq!(p.subtotal, 590_001);
        assert_eq!(p.taxable_amount, 580_001);
        // 580 001 × 0.18 = 104 400.18 → 104 400
        assert_eq!(p.vat_amount, 104_400);
        assert_eq!(p.total, 684_401);
        assert_eq!(p.problem, None);
        // x.5 rounds up: 25 × 18 / 100 = 4.5 → 5.
        assert_eq!(preview(&[line(1, 25)], 0).vat_amount, 5);
    }

    #[test]
    fn a_discount_above_the_subtotal_is_explained() {
        let p = preview(&[line(2, 1_000)], 5_000);
        assert_eq!(p.subtotal, 2_000);
        assert_eq!(p.total, 0);
        assert_eq!(
            p.problem.as_deref(),
            Some("La remise ne peut pas dépasser le sous-total")
        );
        assert_eq!(
            preview(&[line(u64::MAX, 2)], 0).problem.as_deref(),
            Some("Montant trop élevé")
        );
    }

    #[test]
    fn a_stored_quote_becomes_an_editable_draft() {
        let doc: QuoteDoc = serde_json::from_value(serde_json::json!({
            "lines": [{"designation": "NVR 16 voies", "quantity": 1, "unitPrice": 450000, "lineTotal": 450000}],
            "subtotal": 450000, "discount": 0, "taxableAmount": 450000, "vatRate": 18,
            "vatAmount": 81000, "total": 531000, "validUntil": "2026-12-31", "notes": "",
            "issuedOn": "2026-11-26"
        }))
        .unwrap();
        let d = QuoteDraft::from_doc(&doc);
        assert_eq!(d.lines[0].unit_price, 450_000);
        assert_eq!(d.valid_until, "2026-12-31");
        let body = serde_json::to_value(&d).unwrap();
        assert_eq!(body["lines"][0]["unitPrice"], 450_000);
    }
}
