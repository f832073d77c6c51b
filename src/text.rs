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

/// `n` with its noun in the right number: `count(1, "call")` is `1 call`, `count(2,
/// "call")` is `2 calls` (the plural adds `s`, or `es` after s/x/ch/sh).
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else if ["s", "x", "ch", "sh"].iter().any(|e| noun.ends_with(e)) {
        format!("{n} {noun}es")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_TEXT, clip, count};

    #[test]
    fn counts_in_the_right_number() {
        assert_eq!(count(1u32, "call"), "1 call");
        assert_eq!(count(0u32, "call"), "0 calls");
        assert_eq!(count(2u64, "RTP stream"), "2 RTP streams");
        assert_eq!(count(3u32, "match"), "3 matches");
    }

    #[test]
    fn cuts_on_characters_not_bytes() {
        let fits = "é".repeat(MAX_TEXT);
        assert_eq!(clip(fits.clone()), (fits, false));
        let (cut, was) = clip("é".repeat(MAX_TEXT + 1));
        assert!(was);
        assert_eq!(cut, format!("{}…", "é".repeat(MAX_TEXT)));
    }
}
