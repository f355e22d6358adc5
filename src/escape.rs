//! Showing outside text (stream names from the catalog, keys from a state file, values from the
//! config) in messages without letting it act on the reader's terminal.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with control characters (C0, DEL, C1: escape sequences, line breaks, bells) and
/// invisible formatting characters (zero-width spaces and joiners, bidirectional overrides, the
/// byte-order mark, soft hyphens, line and paragraph separators) written as escapes: `\n`, `\r`,
/// `\t`, and `\u{1b}` for the others, as Rust's `{:?}` shows them. Everything else, backslashes
/// included, is kept as it is, so an ordinary name reads exactly as the user typed it.
pub(crate) fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on_or_hide() {
        assert_eq!(printable("chats\u{1b}[2J\u{7}"), "chats\\u{1b}[2J\\u{7}");
        assert_eq!(printable("a\nb\r\tc\u{0}"), "a\\nb\\r\\tc\\u{0}");
        assert_eq!(printable("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(printable("chats\u{200b}"), "chats\\u{200b}");
        assert_eq!(printable("\u{202e}stats\u{2066}"), "\\u{202e}stats\\u{2066}");
        assert_eq!(printable("\u{feff}x\u{2028}"), "\\u{feff}x\\u{2028}");
    }

    #[test]
    fn leaves_ordinary_names_alone() {
        for name in ["chats", "ｃｈａｔｓ", "mensajes_ñ", "C:\\path", "emoji 🔑", "\"quoted\""] {
            assert!(matches!(printable(name), Cow::Borrowed(n) if n == name), "{name}");
        }
    }
}
