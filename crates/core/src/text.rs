//! Text as typed: trimmed, control characters removed, never interpreted.
//!
//! Escaping belongs to whoever renders the text (the portal and the desktop app
//! insert it as text nodes), so nothing here touches `<`, `&` or quotes.

/// A single-line field (title, site…): every control character goes, newlines included.
pub fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// Invisible characters that change how text reads without being seen: the
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// the direction marks (U+200E, U+200F, U+061C), and the zero-width characters
/// (U+200B–U+200D, U+2060, U+FEFF). A title holding U+202E can display as another
/// ticket's name; a name holding U+200B looks like an existing one.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200D}'
            | '\u{2060}'
            | '\u{FEFF}'
    )
}

/// A title or a name (request title, project name, user name, item name): a single
/// line without the invisible formatting characters of [`is_invisible_format`].
pub fn clean_label(s: &str) -> String {
    let visible: String = s.chars().filter(|c| !is_invisible_format(*c)).collect();
    clean_line(&visible)
}

/// A multi-line field (description, chat message): keeps line breaks and tabs,
/// normalises `\r\n` to `\n`, drops other control characters.
pub fn clean_multiline(s: &str) -> String {
    s.replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .collect::<String>()
        .trim()
        .to_string()
}

/// At most `max` characters, cut on a character boundary, with an ellipsis.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_controls_but_keeps_markup_as_typed() {
        assert_eq!(
            clean_line("  <b>Caméra</b>\u{0007}\n entrée "),
            "<b>Caméra</b>  entrée"
        );
        assert_eq!(clean_multiline("a\r\nb\u{0000}\tc  "), "a\nb\tc");
    }

    #[test]
    fn labels_lose_bidi_controls_and_zero_width_characters() {
        // U+202E then "gpj.exe" renders as "exe.jpg"; every listed character goes.
        assert_eq!(clean_label("\u{202E}gpj.exe"), "gpj.exe");
        let all = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\
                   \u{200E}\u{200F}\u{061C}\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}";
        assert_eq!(clean_label(&format!(" Ca{all}méra{all} ")), "Caméra");
        // Only invisible padding around the text: trimmed to nothing.
        assert_eq!(clean_label("\u{200B} \u{FEFF}"), "");
        // Visible text, including Arabic and markup, is kept as typed.
        assert_eq!(clean_label("Dakar دكار <b>"), "Dakar دكار <b>");
    }

    #[test]
    fn excerpt_cuts_on_characters() {
        assert_eq!(excerpt("éééé", 3), "éé…");
        assert_eq!(excerpt("abc", 3), "abc");
    }
}
