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
    fn excerpt_cuts_on_characters() {
        assert_eq!(excerpt("éééé", 3), "éé…");
        assert_eq!(excerpt("abc", 3), "abc");
    }
}
