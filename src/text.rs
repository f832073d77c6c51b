//! Bounds on text a peer wrote, kept in results: names, descriptions, URIs.

/// `text` cut to `max_chars` characters (`…` appended) and whether it was cut.
pub fn clip(text: String, max_chars: usize) -> (String, bool) {
    match text.char_indices().nth(max_chars) {
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
    use super::clip;

    #[test]
    fn cuts_on_characters_not_bytes() {
        assert_eq!(clip("abc".into(), 3), ("abc".into(), false));
        assert_eq!(clip("abcd".into(), 3), ("abc…".into(), true));
        assert_eq!(clip("ééé".into(), 2), ("éé…".into(), true));
    }
}
