//! Bounds on text a peer wrote, kept in results: names, descriptions, URIs, summaries.

/// Characters kept of one free-text string a peer sent (a gateway's names and mapping
/// descriptions, a capture's URIs, Call-IDs and message summaries); a longer one is cut and
/// ends with `…`.
pub const MAX_TEXT: usize = 256;

/// `text` cut to [`MAX_TEXT`] characters (`…` appended) and whether it was cut.
pub fn clip(text: String) -> (String, bool) {
    match text.char_indices().nth(MAX_TEXT) {
        None => (text, false),
        Some((at, _)) => {
            let mut cut = text;
            cut.truncate(at);
            cut.push('…');
            (cut, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_TEXT, clip};

    #[test]
    fn cuts_on_characters_not_bytes() {
        let fits = "é".repeat(MAX_TEXT);
        assert_eq!(clip(fits.clone()), (fits, false));
        let (cut, was) = clip("é".repeat(MAX_TEXT + 1));
        assert!(was);
        assert_eq!(cut, format!("{}…", "é".repeat(MAX_TEXT)));
    }
}
