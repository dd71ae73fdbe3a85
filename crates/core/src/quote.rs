//! Quote arithmetic and validation: the one place where a quote's lines, discount,
//! VAT 18 % and totals are checked and computed, in whole XOF francs, without I/O.
//!
//! Rounding rule (the only one): every amount is an integer number of francs.
//! Line totals, the subtotal, the discount and the taxable base are exact integers;
//! the VAT is `taxable × 18 / 100` rounded **half up** to the franc
//! (`(taxable × 18 + 50) / 100` in integer arithmetic), and the total TTC is
//! `taxable + VAT`. The figures are therefore reproducible by anyone with a pencil.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fields::FieldErrors;
use crate::text::{clean_label, clean_multiline};

/// VAT rate applied in Senegal, in percent.
pub const VAT_RATE_PERCENT: u64 = 18;
/// Most lines one quote may hold.
pub const MAX_LINES: usize = 100;
/// Longest designation, in characters.
pub const MAX_DESIGNATION_CHARS: usize = 200;
/// Longest notes text, in characters.
pub const MAX_NOTES_CHARS: usize = 2000;
/// Largest quantity on one line.
pub const MAX_QUANTITY: u64 = 1_000_000;
/// Largest unit price, in francs (one billion).
pub const MAX_UNIT_PRICE: u64 = 1_000_000_000;

/// One priced line of a quote, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub designation: String,
    pub quantity: u64,
    /// Unit price excluding VAT, whole francs.
    pub unit_price: u64,
    /// `quantity × unit_price`, whole francs.
    pub line_total: u64,
}

/// A validated quote with its computed totals (all whole XOF francs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    pub lines: Vec<QuoteLine>,
    /// Sum of the line totals.
    pub subtotal: u64,
    /// Commercial discount, at most the subtotal.
    pub discount: u64,
    /// `subtotal − discount`, the VAT base.
    pub taxable_amount: u64,
    /// Always [`VAT_RATE_PERCENT`].
    pub vat_rate: u64,
    /// VAT on the taxable amount, rounded half up to the franc.
    pub vat_amount: u64,
    /// Total including VAT (TTC).
    pub total: u64,
    pub valid_until: NaiveDate,
    pub notes: String,
}

/// The totals of a quote, computed from its lines and discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteTotals {
    pub subtotal: u64,
    pub discount: u64,
    pub taxable_amount: u64,
    pub vat_amount: u64,
    pub total: u64,
}

/// Arithmetic failure: the amounts do not fit in the integer range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Montant trop élevé")]
pub struct AmountOverflow;

/// VAT on `taxable` francs at [`VAT_RATE_PERCENT`], rounded half up to the franc.
pub fn vat_of(taxable: u64) -> Result<u64, AmountOverflow> {
    let scaled = u128::from(taxable) * u128::from(VAT_RATE_PERCENT) + 50;
    u64::try_from(scaled / 100).map_err(|_| AmountOverflow)
}

/// Totals of `lines` (`(quantity, unit_price)` pairs) less `discount`.
/// Fails if the discount exceeds the subtotal or an amount overflows.
pub fn compute_totals(lines: &[(u64, u64)], discount: u64) -> Result<QuoteTotals, TotalsError> {
    let mut subtotal: u64 = 0;
    for &(quantity, unit_price) in lines {
        let line = quantity
            .checked_mul(unit_price)
            .ok_or(TotalsError::Overflow)?;
        subtotal = subtotal.checked_add(line).ok_or(TotalsError::Overflow)?;
    }
    let taxable_amount = subtotal
        .checked_sub(discount)
        .ok_or(TotalsError::DiscountAboveSubtotal)?;
    let vat_amount = vat_of(taxable_amount).map_err(|_| TotalsError::Overflow)?;
    let total = taxable_amount
        .checked_add(vat_amount)
        .ok_or(TotalsError::Overflow)?;
    Ok(QuoteTotals {
        subtotal,
        discount,
        taxable_amount,
        vat_amount,
        total,
    })
}

/// Why [`compute_totals`] could not compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("La remise ne peut pas dépasser le sous-total")]
    DiscountAboveSubtotal,
    #[error("Montant trop élevé")]
    Overflow,
}

/// Reads and validates a quote body as sent by staff
/// (`{lines: [{designation, quantity, unitPrice}], discount, validUntil, notes}`),
/// then computes its totals. `today` is the date the validity may not precede.
pub fn parse_quote(body: &Value, today: NaiveDate) -> Result<Quote, FieldErrors> {
    let mut errors = BTreeMap::new();
    let Some(obj) = body.as_object() else {
        errors.insert("body".into(), "Le corps doit être un objet JSON".into());
        return Err(FieldErrors(errors));
    };

    let mut lines = Vec::new();
    match obj.get("lines") {
        Some(Value::Array(items)) if items.is_empty() => {
            errors.insert("lines".into(), "Au moins une ligne est requise".into());
        }
        Some(Value::Array(items)) if items.len() > MAX_LINES => {
            errors.insert(
                "lines".into(),
                format!("Un devis compte au plus {MAX_LINES} lignes"),
            );
        }
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(line) = parse_line(i, item, &mut errors) {
                    lines.push(line);
                }
            }
        }
        None | Some(Value::Null) => {
            errors.insert("lines".into(), "Au moins une ligne est requise".into());
        }
        Some(_) => {
            errors.insert("lines".into(), "Les lignes doivent être une liste".into());
        }
    }

    let discount = match obj.get("discount") {
        None | Some(Value::Null) => Some(0),
        Some(v) => match whole_number(v) {
            Some(d) => Some(d),
            None => {
                errors.insert(
                    "discount".into(),
                    "La remise doit être un montant entier positif ou nul (FCFA)".into(),
                );
                None
            }
        },
    };

    let valid_until = match obj.get("validUntil") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) if d < today => {
                    errors.insert(
                        "validUntil".into(),
                        "La date de validité ne peut pas être dans le passé".into(),
                    );
                    None
                }
                Ok(d) if s.trim().len() == 10 => Some(d),
                _ => {
                    errors.insert(
                        "validUntil".into(),
                        "Date invalide (format AAAA-MM-JJ)".into(),
                    );
                    None
                }
            }
        }
        Some(Value::String(_)) | None | Some(Value::Null) => {
            errors.insert(
                "validUntil".into(),
                "La date de validité est requise".into(),
            );
            None
        }
        Some(_) => {
            errors.insert(
                "validUntil".into(),
                "Date invalide (format AAAA-MM-JJ)".into(),
            );
            None
        }
    };

    let notes = match obj.get("notes") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if s.trim().chars().count() > MAX_NOTES_CHARS => {
            errors.insert(
                "notes".into(),
                format!("Les notes font au plus {MAX_NOTES_CHARS} caractères"),
            );
            String::new()
        }
        Some(Value::String(s)) => clean_multiline(s),
        Some(_) => {
            errors.insert("notes".into(), "Les notes doivent être du texte".into());
            String::new()
        }
    };

    if !errors.is_empty() {
        return Err(FieldErrors(errors));
    }
    let (Some(discount), Some(valid_until)) = (discount, valid_until) else {
        unreachable!("every missing value recorded an error");
    };
    let pairs: Vec<(u64, u64)> = lines.iter().map(|l| (l.quantity, l.unit_price)).collect();
    let totals = compute_totals(&pairs, discount).map_err(|e| {
        let field = match e {
            TotalsError::DiscountAboveSubtotal => "discount",
            TotalsError::Overflow => "lines",
        };
        FieldErrors::single(field, e.to_string())
    })?;
    Ok(Quote {
        lines,
        subtotal: totals.subtotal,
        discount: totals.discount,
        taxable_amount: totals.taxable_amount,
        vat_rate: VAT_RATE_PERCENT,
        vat_amount: totals.vat_amount,
        total: totals.total,
        valid_until,
        notes,
    })
}

fn parse_line(i: usize, item: &Value, errors: &mut BTreeMap<String, String>) -> Option<QuoteLine> {
    let key = |f: &str| format!("lines[{i}].{f}");
    let Some(obj) = item.as_object() else {
        errors.insert(format!("lines[{i}]"), "Ligne invalide".into());
        return None;
    };
    let designation = match obj.get("designation") {
        Some(Value::String(s)) => {
            let d = clean_label(s);
            if d.is_empty() {
                errors.insert(key("designation"), "La désignation est requise".into());
                None
            } else if d.chars().count() > MAX_DESIGNATION_CHARS {
                errors.insert(
                    key("designation"),
                    format!("La désignation fait au plus {MAX_DESIGNATION_CHARS} caractères"),
                );
                None
            } else {
                Some(d)
            }
        }
        _ => {
            errors.insert(key("designation"), "La désignation est requise".into());
            None
        }
    };
    let quantity = match obj.get("quantity").and_then(whole_number) {
        Some(q) if q > 0 && q <= MAX_QUANTITY => Some(q),
        Some(q) if q > MAX_QUANTITY => {
            errors.insert(
                key("quantity"),
                format!("La quantité est au plus {MAX_QUANTITY}"),
            );
            None
        }
        _ => {
            errors.insert(
                key("quantity"),
                "La quantité doit être un nombre entier supérieur à 0".into(),
            );
            None
        }
    };
    let unit_price = match obj.get("unitPrice").and_then(whole_number) {
        Some(p) if p <= MAX_UNIT_PRICE => Some(p),
        Some(_) => {
            errors.insert(
                key("unitPrice"),
                "Le prix unitaire est au plus 1 000 000 000 FCFA".into(),
            );
            None
        }
        None => {
            errors.insert(
                key("unitPrice"),
                "Le prix unitaire doit être un montant entier positif ou nul (FCFA)".into(),
            );
            None
        }
    };
    let (designation, quantity, unit_price) = (designation?, quantity?, unit_price?);
    Some(QuoteLine {
        designation,
        quantity,
        unit_price,
        line_total: quantity * unit_price,
    })
}

/// A sent quote past its validity: it can no longer be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Ce devis a expiré le {} ; demandez un nouveau devis", .valid_until.format("%d/%m/%Y"))]
pub struct QuoteExpired {
    pub valid_until: NaiveDate,
}

/// Whether a quote valid until `valid_until` (inclusive) may still be accepted on
/// `today` (the server's date: UTC, which is Dakar's time).
pub fn check_acceptable(valid_until: NaiveDate, today: NaiveDate) -> Result<(), QuoteExpired> {
    if today > valid_until {
        Err(QuoteExpired { valid_until })
    } else {
        Ok(())
    }
}

/// A JSON value that is a whole number ≥ 0 (`3` or `3.0`, not `3.5`, `-1` or `"3"`).
fn whole_number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= 9.0e15)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// `1500000` → `"1 500 000 FCFA"`: an XOF amount as written in Senegal
/// (groups of three digits separated by spaces, no decimals).
pub fn format_xof(amount: u64) -> String {
    format!("{} FCFA", group_thousands(amount))
}

/// `1500000` → `"1 500 000"`.
pub fn group_thousands(amount: u64) -> String {
    let digits = amount.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    let first_group = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    for (i, c) in digits.chars().enumerate() {
        if i >= first_group && (i - first_group) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 19).unwrap()
    }

    #[test]
    fn vat_rounds_half_up_to_the_franc() {
        // 18 % of 25 = 4.5 → 5 ; of 24 = 4.32 → 4 ; of 36 = 6.48 → 6 ; of 3 = 0.54 → 1.
        assert_eq!(vat_of(25).unwrap(), 5);
        assert_eq!(vat_of(24).unwrap(), 4);
        assert_eq!(vat_of(36).unwrap(), 6);
        assert_eq!(vat_of(3).unwrap(), 1);
        assert_eq!(vat_of(2).unwrap(), 0); // 0.36 → 0
        assert_eq!(vat_of(0).unwrap(), 0);
        assert_eq!(vat_of(1_000_000).unwrap(), 180_000);
    }

    #[test]
    fn totals_apply_discount_before_vat() {
        // 10 × 125 000 + 1 × 350 000 = 1 600 000 ; − 100 000 = 1 500 000 ;
        // VAT 270 000 ; TTC 1 770 000.
        let t = compute_totals(&[(10, 125_000), (1, 350_000)], 100_000).unwrap();
        assert_eq!(t.subtotal, 1_600_000);
        assert_eq!(t.taxable_amount, 1_500_000);
        assert_eq!(t.vat_amount, 270_000);
        assert_eq!(t.total, 1_770_000);
    }

    #[test]
    fn discount_may_equal_but_not_exceed_subtotal() {
        let t = compute_totals(&[(2, 500)], 1000).unwrap();
        assert_eq!((t.taxable_amount, t.vat_amount, t.total), (0, 0, 0));
        assert_eq!(
            compute_totals(&[(2, 500)], 1001),
            Err(TotalsError::DiscountAboveSubtotal)
        );
    }

    #[test]
    fn a_quote_is_acceptable_up_to_its_last_valid_day() {
        let until = today();
        assert_eq!(check_acceptable(until, today()), Ok(()));
        assert_eq!(check_acceptable(until, today().pred_opt().unwrap()), Ok(()));
        let e = check_acceptable(until, today().succ_opt().unwrap()).unwrap_err();
        assert_eq!(e.valid_until, until);
        assert_eq!(
            e.to_string(),
            "Ce devis a expiré le 19/11/2025 ; demandez un nouveau devis"
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(
            compute_totals(&[(u64::MAX, 2)], 0),
            Err(TotalsError::Overflow)
        );
    }

    #[test]
    fn parse_computes_a_full_quote() {
        let q = parse_quote(
            &json!({
                "lines": [
                    {"designation": "Caméra IP 4K", "quantity": 3, "unitPrice": 33_333},
                    {"designation": " Pose et\ncâblage ", "quantity": 1, "unitPrice": 1}
                ],
                "discount": 0,
                "validUntil": "2025-12-19",
                "notes": "Délai : 2 semaines"
            }),
            today(),
        )
        .unwrap();
        assert_eq!(q.lines[0].line_total, 99_999);
        assert_eq!(q.lines[1].designation, "Pose et câblage");
        assert_eq!(q.subtotal, 100_000);
        // 18 000 exactly.
        assert_eq!(q.vat_amount, 18_000);
        assert_eq!(q.total, 118_000);
        assert_eq!(q.vat_rate, 18);
        assert_eq!(
            q.valid_until,
            NaiveDate::from_ymd_opt(2025, 12, 19).unwrap()
        );
        let json = serde_json::to_value(&q).unwrap();
        assert_eq!(json["validUntil"], "2025-12-19");
        assert_eq!(json["lines"][0]["unitPrice"], 33_333);
        assert_eq!(json["vatAmount"], 18_000);
    }

    #[test]
    fn parse_rounds_vat_half_up_on_discounted_base() {
        // subtotal 1 025, discount 1000 → base 25 → VAT 4.5 → 5 → TTC 30.
        let q = parse_quote(
            &json!({
                "lines": [{"designation": "Vis", "quantity": 41, "unitPrice": 25}],
                "discount": 1000,
                "validUntil": "2025-11-19"
            }),
            today(),
        )
        .unwrap();
        assert_eq!((q.taxable_amount, q.vat_amount, q.total), (25, 5, 30));
        assert_eq!(q.notes, "");
    }

    #[test]
    fn parse_reports_each_bad_field_in_french() {
        let err = parse_quote(
            &json!({
                "lines": [
                    {"designation": "", "quantity": 0, "unitPrice": -5},
                    {"designation": "Câble", "quantity": 2.5, "unitPrice": "100"}
                ],
                "discount": -1,
                "validUntil": "19/12/2025",
                "notes": 12
            }),
            today(),
        )
        .unwrap_err();
        let e = &err.0;
        assert_eq!(e["lines[0].designation"], "La désignation est requise");
        assert!(e["lines[0].quantity"].contains("supérieur à 0"));
        assert!(e["lines[0].unitPrice"].contains("entier"));
        assert!(e["lines[1].quantity"].contains("entier"));
        assert!(e.contains_key("lines[1].unitPrice"));
        assert!(!e.contains_key("lines[1].designation"));
        assert!(e["discount"].contains("remise"));
        assert!(e["validUntil"].contains("AAAA-MM-JJ"));
        assert!(e.contains_key("notes"));
    }

    #[test]
    fn parse_requires_lines_and_validity_and_refuses_past_dates() {
        let err = parse_quote(&json!({}), today()).unwrap_err();
        assert_eq!(err.0["lines"], "Au moins une ligne est requise");
        assert_eq!(err.0["validUntil"], "La date de validité est requise");
        let err =
            parse_quote(&json!({"lines": [], "validUntil": "2025-11-18"}), today()).unwrap_err();
        assert!(err.0["validUntil"].contains("passé"));
        assert!(parse_quote(&json!([1]), today()).is_err());
        let err = parse_quote(
            &json!({"lines": [{"designation": "x", "quantity": 1, "unitPrice": 1}],
                    "validUntil": "2025-2-3"}),
            today(),
        )
        .unwrap_err();
        assert!(err.0.contains_key("validUntil"));
    }

    #[test]
    fn control_characters_never_reach_the_pdf() {
        let err = parse_quote(
            &json!({"lines": [{"designation": "\u{7}\t", "quantity": 1, "unitPrice": 1}],
                    "validUntil": "2025-12-01"}),
            today(),
        )
        .unwrap_err();
        assert_eq!(err.0["lines[0].designation"], "La désignation est requise");
        let q = parse_quote(
            &json!({"lines": [{"designation": "NVR\r\n4 To", "quantity": 1, "unitPrice": 1}],
                    "validUntil": "2025-12-01", "notes": "Ligne 1\r\nLigne 2\u{1b}"}),
            today(),
        )
        .unwrap();
        assert_eq!(q.lines[0].designation, "NVR  4 To");
        assert_eq!(q.notes, "Ligne 1\nLigne 2");
    }

    #[test]
    fn parse_refuses_discount_above_subtotal() {
        let err = parse_quote(
            &json!({
                "lines": [{"designation": "NVR", "quantity": 1, "unitPrice": 100}],
                "discount": 101,
                "validUntil": "2026-01-01"
            }),
            today(),
        )
        .unwrap_err();
        assert_eq!(
            err.0["discount"],
            "La remise ne peut pas dépasser le sous-total"
        );
    }

    #[test]
    fn xof_is_grouped_by_thousands() {
        assert_eq!(format_xof(1_500_000), "1 500 000 FCFA");
        assert_eq!(format_xof(0), "0 FCFA");
        assert_eq!(format_xof(999), "999 FCFA");
        assert_eq!(format_xof(1000), "1 000 FCFA");
        assert_eq!(group_thousands(12_345_678), "12 345 678");
    }
}
