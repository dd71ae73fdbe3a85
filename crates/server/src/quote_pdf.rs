//! Renders a prepared quote as the PDF a client downloads: IT Vision's header, the
//! client, the `DEV-` ticket, the priced lines, discount, VAT 18 % and total TTC.
//!
//! Pure rendering: amounts come already computed by `itv_core::quote`; this module
//! only lays them out. Text uses DejaVu Sans (embedded, with a Unicode map) so that
//! accents survive both display and text extraction.

use chrono::{Datelike, NaiveDate};
use itv_core::quote::{Quote, format_xof};
use printpdf::{
    Color, IndirectFontRef, Line, Mm, PdfDocument, PdfDocumentReference, PdfLayerReference, Point,
    Rect, Rgb, path::PaintMode,
};

/// Everything the PDF shows, in plain values.
#[derive(Debug, Clone)]
pub struct QuotePdfInput {
    /// `DEV-YYYYMM-NNNN`.
    pub ticket_number: String,
    /// The quote request's title, shown as the subject.
    pub title: String,
    pub client_name: String,
    /// Date printed as the quote's date.
    pub issued_on: NaiveDate,
    /// Lines and totals as computed by `itv_core::quote::parse_quote`.
    pub quote: Quote,
}

#[derive(Debug, thiserror::Error)]
pub enum QuotePdfError {
    #[error("police de caractères illisible : {0}")]
    Font(String),
    #[error("génération du PDF impossible : {0}")]
    Pdf(String),
}

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
const BOTTOM: f32 = 28.0;
const PT_TO_MM: f32 = 25.4 / 72.0;

/// Right edges of the numeric columns and the width of the designation column.
const COL_QTY_RIGHT: f32 = 118.0;
const COL_UNIT_RIGHT: f32 = 155.0;
const COL_TOTAL_RIGHT: f32 = PAGE_W - MARGIN;
const DESIGNATION_WIDTH: f32 = 80.0;

const BRAND: (f32, f32, f32) = (0.09, 0.27, 0.55);
const GREY: (f32, f32, f32) = (0.35, 0.35, 0.38);
const BLACK: (f32, f32, f32) = (0.0, 0.0, 0.0);

/// Renders `input` into the bytes of a PDF document (A4, one page or more).
pub fn render_quote_pdf(input: &QuotePdfInput) -> Result<Vec<u8>, QuotePdfError> {
    let mut w = Writer::new(&format!("Devis {}", input.ticket_number))?;
    header(&mut w, input);
    table(&mut w, &input.quote);
    totals(&mut w, &input.quote);
    notes(&mut w, &input.quote);
    w.finish()
}

fn header(w: &mut Writer, input: &QuotePdfInput) {
    let top = PAGE_H - MARGIN;
    w.text_at("IT Vision", 22.0, MARGIN, top - 6.0, Style::Bold, BRAND);
    w.text_at(
        "Vidéosurveillance · Contrôle d'accès · Réseaux",
        9.0,
        MARGIN,
        top - 12.0,
        Style::Regular,
        GREY,
    );
    w.text_at(
        "Dakar, Sénégal",
        9.0,
        MARGIN,
        top - 16.5,
        Style::Regular,
        GREY,
    );

    let right = PAGE_W - MARGIN;
    w.text_right("DEVIS", 20.0, right, top - 6.0, Style::Bold, BRAND);
    w.text_right(
        &format!("N° {}", input.ticket_number),
        10.0,
        right,
        top - 12.0,
        Style::Bold,
        BLACK,
    );
    w.text_right(
        &format!("Date : {}", french_date(input.issued_on)),
        9.0,
        right,
        top - 16.5,
        Style::Regular,
        BLACK,
    );
    w.text_right(
        &format!(
            "Valable jusqu'au : {}",
            french_date(input.quote.valid_until)
        ),
        9.0,
        right,
        top - 21.0,
        Style::Regular,
        BLACK,
    );

    w.rule(top - 26.0, BRAND, 0.8);
    w.y = top - 34.0;
    w.labelled("Client : ", &input.client_name);
    w.labelled("Objet : ", &input.title);
    w.y -= 4.0;
}

fn table(w: &mut Writer, quote: &Quote) {
    table_head(w);
    for line in &quote.lines {
        let wrapped = w.wrap(&line.designation, 9.5, DESIGNATION_WIDTH, Style::Regular);
        let height = 5.0 * wrapped.len() as f32 + 2.0;
        if w.y - height < BOTTOM {
            w.new_page();
            table_head(w);
        }
        let first = w.y;
        for (i, part) in wrapped.iter().enumerate() {
            w.text_at(
                part,
                9.5,
                MARGIN + 1.0,
                first - 5.0 * i as f32,
                Style::Regular,
                BLACK,
            );
        }
        let amounts = [
            (line.quantity.to_string(), COL_QTY_RIGHT),
            (format_xof(line.unit_price), COL_UNIT_RIGHT),
            (format_xof(line.line_total), COL_TOTAL_RIGHT - 1.0),
        ];
        for (text, right) in amounts {
            w.text_right(&text, 9.5, right, first, Style::Regular, BLACK);
        }
        w.y -= height;
        w.rule(w.y + 3.0, (0.85, 0.85, 0.88), 0.3);
    }
    w.y -= 3.0;
}

fn table_head(w: &mut Writer) {
    let band_top = w.y + 2.0;
    w.fill_rect(MARGIN, band_top - 7.0, PAGE_W - MARGIN, band_top, BRAND);
    let white = (1.0, 1.0, 1.0);
    let y = band_top - 5.0;
    w.text_at("Désignation", 9.5, MARGIN + 1.0, y, Style::Bold, white);
    w.text_right("Qté", 9.5, COL_QTY_RIGHT, y, Style::Bold, white);
    w.text_right(
        "Prix unitaire HT",
        9.5,
        COL_UNIT_RIGHT,
        y,
        Style::Bold,
        white,
    );
    w.text_right(
        "Total HT",
        9.5,
        COL_TOTAL_RIGHT - 1.0,
        y,
        Style::Bold,
        white,
    );
    w.y = band_top - 13.0;
}

fn totals(w: &mut Writer, quote: &Quote) {
    let mut rows: Vec<(String, u64, Style)> =
        vec![("Sous-total HT".into(), quote.subtotal, Style::Regular)];
    if quote.discount > 0 {
        rows.push(("Remise".into(), quote.discount, Style::Regular));
        rows.push((
            "Montant HT après remise".into(),
            quote.taxable_amount,
            Style::Regular,
        ));
    }
    rows.push((
        format!("TVA {} %", quote.vat_rate),
        quote.vat_amount,
        Style::Regular,
    ));
    rows.push(("Total TTC".into(), quote.total, Style::Bold));
    if w.y - 7.0 * rows.len() as f32 - 4.0 < BOTTOM {
        w.new_page();
    }
    let label_right = COL_UNIT_RIGHT - 12.0;
    for (label, amount, style) in rows {
        let size = if style == Style::Bold { 11.5 } else { 10.0 };
        if style == Style::Bold {
            w.rule(w.y + 4.5, BRAND, 0.6);
        }
        let amount = if label == "Remise" {
            format!("− {}", format_xof(amount))
        } else {
            format_xof(amount)
        };
        w.text_right(&label, size, label_right, w.y, style, BLACK);
        w.text_right(&amount, size, COL_TOTAL_RIGHT - 1.0, w.y, style, BLACK);
        w.y -= 7.0;
    }
    w.y -= 2.0;
    w.text_at(
        "Montants en francs CFA (XOF). TVA 18 % calculée sur le montant après remise, arrondie au franc.",
        8.0,
        MARGIN,
        w.y,
        Style::Regular,
        GREY,
    );
    w.y -= 9.0;
}

fn notes(w: &mut Writer, quote: &Quote) {
    if quote.notes.trim().is_empty() {
        return;
    }
    if w.y - 12.0 < BOTTOM {
        w.new_page();
    }
    w.text_at("Notes", 10.5, MARGIN, w.y, Style::Bold, BRAND);
    w.y -= 6.0;
    for paragraph in quote.notes.lines() {
        for part in w.wrap(paragraph, 9.5, PAGE_W - 2.0 * MARGIN, Style::Regular) {
            if w.y < BOTTOM {
                w.new_page();
            }
            w.text_at(&part, 9.5, MARGIN, w.y, Style::Regular, BLACK);
            w.y -= 5.0;
        }
    }
}

/// `2025-11-19` → `19 novembre 2025`.
fn french_date(d: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Regular,
    Bold,
}

/// A font embedded in the document, plus its metrics to measure text.
struct Font {
    reference: IndirectFontRef,
    face: ttf_parser::Face<'static>,
}

impl Font {
    fn load(doc: &PdfDocumentReference, bytes: &'static [u8]) -> Result<Font, QuotePdfError> {
        let face =
            ttf_parser::Face::parse(bytes, 0).map_err(|e| QuotePdfError::Font(e.to_string()))?;
        let reference = doc
            .add_external_font(bytes)
            .map_err(|e| QuotePdfError::Font(e.to_string()))?;
        Ok(Font { reference, face })
    }

    /// Width of `text` at `size` points, in millimetres.
    fn width(&self, text: &str, size: f32) -> f32 {
        let units = f32::from(self.face.units_per_em());
        let advance: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map_or(units / 2.0, f32::from)
            })
            .sum();
        advance / units * size * PT_TO_MM
    }
}

/// The page being drawn and the vertical position of the next line.
struct Writer {
    doc: PdfDocumentReference,
    layer: PdfLayerReference,
    regular: Font,
    bold: Font,
    y: f32,
    pages: usize,
}

impl Writer {
    fn new(title: &str) -> Result<Writer, QuotePdfError> {
        let (doc, page, layer) = PdfDocument::new(title, Mm(PAGE_W), Mm(PAGE_H), "Devis");
        let regular = Font::load(&doc, dejavu::sans::regular())?;
        let bold = Font::load(&doc, dejavu::sans::bold())?;
        let layer = doc.get_page(page).get_layer(layer);
        let w = Writer {
            doc,
            layer,
            regular,
            bold,
            y: PAGE_H - MARGIN,
            pages: 1,
        };
        w.footer();
        Ok(w)
    }

    fn font(&self, style: Style) -> &Font {
        match style {
            Style::Regular => &self.regular,
            Style::Bold => &self.bold,
        }
    }

    fn new_page(&mut self) {
        let (page, layer) = self.doc.add_page(Mm(PAGE_W), Mm(PAGE_H), "Devis");
        self.layer = self.doc.get_page(page).get_layer(layer);
        self.pages += 1;
        self.y = PAGE_H - MARGIN - 4.0;
        self.footer();
    }

    fn footer(&self) {
        self.rule(BOTTOM - 8.0, (0.8, 0.8, 0.82), 0.3);
        self.text_at(
            "IT Vision — Dakar, Sénégal — Vidéosurveillance, contrôle d'accès, réseaux",
            7.5,
            MARGIN,
            BOTTOM - 12.0,
            Style::Regular,
            GREY,
        );
        self.text_right(
            &format!("Page {}", self.pages),
            7.5,
            PAGE_W - MARGIN,
            BOTTOM - 12.0,
            Style::Regular,
            GREY,
        );
    }

    fn text_at(&self, text: &str, size: f32, x: f32, y: f32, style: Style, rgb: (f32, f32, f32)) {
        self.layer.set_fill_color(color(rgb));
        self.layer
            .use_text(text, size, Mm(x), Mm(y), &self.font(style).reference);
    }

    fn text_right(
        &self,
        text: &str,
        size: f32,
        right: f32,
        y: f32,
        style: Style,
        rgb: (f32, f32, f32),
    ) {
        let x = right - self.font(style).width(text, size);
        self.text_at(text, size, x, y, style, rgb);
    }

    /// `Label : value` on one line, the value wrapped if long.
    fn labelled(&mut self, label: &str, value: &str) {
        let size = 10.5;
        self.text_at(label, size, MARGIN, self.y, Style::Bold, BLACK);
        let x = MARGIN + self.bold.width(label, size);
        let parts = self.wrap(value, size, PAGE_W - MARGIN - x, Style::Regular);
        for part in parts {
            self.text_at(&part, size, x, self.y, Style::Regular, BLACK);
            self.y -= 5.5;
        }
    }

    /// Splits `text` into lines no wider than `max` millimetres, on spaces; a word
    /// longer than a line is cut by characters. Never returns an empty list.
    fn wrap(&self, text: &str, size: f32, max: f32, style: Style) -> Vec<String> {
        let font = self.font(style);
        let mut lines = Vec::new();
        let mut current = String::new();
        for word in text.split_whitespace() {
            let candidate = if current.is_empty() {
                word.to_string()
            } else {
                format!("{current} {word}")
            };
            if font.width(&candidate, size) <= max {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            for c in word.chars() {
                current.push(c);
                if font.width(&current, size) > max {
                    current.pop();
                    lines.push(std::mem::take(&mut current));
                    current.push(c);
                }
            }
        }
        if !current.is_empty() || lines.is_empty() {
            lines.push(current);
        }
        lines
    }

    fn rule(&self, y: f32, rgb: (f32, f32, f32), thickness: f32) {
        self.layer.set_outline_color(color(rgb));
        self.layer.set_outline_thickness(thickness);
        self.layer.add_line(Line {
            points: vec![
                (Point::new(Mm(MARGIN), Mm(y)), false),
                (Point::new(Mm(PAGE_W - MARGIN), Mm(y)), false),
            ],
            is_closed: false,
        });
    }

    fn fill_rect(&self, x0: f32, y0: f32, x1: f32, y1: f32, rgb: (f32, f32, f32)) {
        self.layer.set_fill_color(color(rgb));
        self.layer
            .add_rect(Rect::new(Mm(x0), Mm(y0), Mm(x1), Mm(y1)).with_mode(PaintMode::Fill));
    }

    fn finish(self) -> Result<Vec<u8>, QuotePdfError> {
        self.doc
            .save_to_bytes()
            .map_err(|e| QuotePdfError::Pdf(e.to_string()))
    }
}

fn color((r, g, b): (f32, f32, f32)) -> Color {
    Color::Rgb(Rgb::new(r, g, b, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use itv_core::quote::parse_quote;
    use serde_json::json;
    use std::process::Command;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 11, 19).unwrap()
    }

    fn input(quote: Quote) -> QuotePdfInput {
        QuotePdfInput {
            ticket_number: "DEV-202511-0007".into(),
            title: "Devis pour 10 caméras IP 4K".into(),
            client_name: "Société Générale de Thiès".into(),
            issued_on: today(),
            quote,
        }
    }

    /// The text `pdftotext -layout` recovers from `pdf`, spaces normalised.
    fn pdf_text(pdf: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devis.pdf");
        std::fs::write(&path, pdf).unwrap();
        let out = Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils) must be installed");
        assert!(out.status.success(), "pdftotext failed on the PDF");
        let text = String::from_utf8(out.stdout).unwrap();
        text.replace(['\u{a0}', '\u{202f}'], " ")
    }

    #[test]
    fn pdf_holds_header_lines_and_right_totals() {
        let quote = parse_quote(
            &json!({
                "lines": [
                    {"designation": "Caméra IP 4K vision nocturne", "quantity": 10, "unitPrice": 125_000},
                    {"designation": "NVR 16 canaux, disque 4 To", "quantity": 1, "unitPrice": 350_000},
                    {"designation": "Main-d'œuvre : pose et câblage", "quantity": 3, "unitPrice": 33_333}
                ],
                "discount": 100_000,
                "validUntil": "2025-12-19",
                "notes": "Délai d'installation : 2 semaines après acceptation.\nGarantie matériel 12 mois."
            }),
            today(),
        )
        .unwrap();
        // 1 250 000 + 350 000 + 99 999 = 1 699 999 ; − 100 000 = 1 599 999 ;
        // VAT 287 999.82 → 288 000 ; TTC 1 887 999.
        let pdf = render_quote_pdf(&input(quote)).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = pdf_text(&pdf);
        for expected in [
            "IT Vision",
            "Dakar, Sénégal",
            "DEV-202511-0007",
            "Société Générale de Thiès",
            "Devis pour 10 caméras IP 4K",
            "19 novembre 2025",
            "19 décembre 2025",
            "Caméra IP 4K vision nocturne",
            "NVR 16 canaux, disque 4 To",
            "Main-d'œuvre : pose et câblage",
            "125 000 FCFA",
            "1 250 000 FCFA",
            "33 333 FCFA",
            "99 999 FCFA",
            "1 699 999 FCFA",
            "− 100 000 FCFA",
            "1 599 999 FCFA",
            "288 000 FCFA",
            "1 887 999 FCFA",
            "Délai d'installation : 2 semaines",
            "Garantie matériel 12 mois.",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        let total_line = text.lines().find(|l| l.contains("Total TTC")).unwrap();
        assert!(total_line.contains("1 887 999 FCFA"), "{total_line}");
        let vat_line = text.lines().find(|l| l.contains("TVA 18 %")).unwrap();
        assert!(vat_line.contains("288 000 FCFA"), "{vat_line}");
    }

    #[test]
    fn long_quotes_flow_onto_more_pages_and_skip_empty_sections() {
        let lines: Vec<_> = (1..=60)
            .map(|i| json!({"designation": format!("Article numéro {i} avec une désignation assez longue pour passer à la ligne dans la colonne"), "quantity": i, "unitPrice": 1000}))
            .collect();
        let quote = parse_quote(
            &json!({"lines": lines, "validUntil": "2026-01-31"}),
            today(),
        )
        .unwrap();
        // Σ i × 1000 for i = 1..60 = 1 830 000 ; VAT 329 400 ; TTC 2 159 400.
        assert_eq!(quote.total, 2_159_400);
        let text = pdf_text(&render_quote_pdf(&input(quote)).unwrap());
        assert!(text.contains("Page 2"), "expected a second page");
        assert!(text.contains("Article numéro 60"));
        assert!(text.contains("2 159 400 FCFA"));
        assert!(
            !text.contains("Remise"),
            "no discount line without discount"
        );
        assert!(!text.contains("Notes"), "no notes heading without notes");
    }

    #[test]
    fn french_dates() {
        assert_eq!(french_date(today()), "19 novembre 2025");
        assert_eq!(
            french_date(NaiveDate::from_ymd_opt(2026, 8, 1).unwrap()),
            "1 août 2026"
        );
    }
}
