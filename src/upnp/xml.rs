//! The gate every UPnP XML document passes before a parser sees it. xml-rs/xmltree build the
//! tree recursively and expand internal entities, so a hostile gateway (or any LAN host that
//! answers SSDP first) could overflow the stack with deep nesting or eat memory and CPU with
//! nested entities ("billion laughs"). The UPnP device architecture uses neither DTDs nor
//! entity declarations, so they are refused outright; nesting and size are bounded. One
//! linear scan, no allocation.

/// Largest UPnP XML document accepted (bytes).
pub const MAX_SIZE: usize = 256 * 1024;

/// Deepest element nesting accepted (a real description nests about 8 levels).
pub const MAX_DEPTH: usize = 64;

/// Checks `text` before parsing: at most [`MAX_SIZE`] bytes, no DTD or other `<!…>`
/// declaration (comments and CDATA are fine), nesting at most [`MAX_DEPTH`].
///
/// # Errors
/// Which rule the document breaks, in words.
pub fn check(text: &str) -> Result<(), String> {
    if text.len() > MAX_SIZE {
        return Err(format!(
            "the document is {} bytes, over the {} KiB accepted",
            text.len(),
            MAX_SIZE / 1024
        ));
    }
    let b = text.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while let Some(lt) = find(b, i, b"<") {
        let rest = b.get(lt..).unwrap_or_default();
        let skip_to = |end: &[u8], what: &str| {
            find(b, lt, end)
                .map(|e| e + end.len())
                .ok_or_else(|| format!("unterminated {what}"))
        };
        i = if rest.starts_with(b"<!--") {
            skip_to(b"-->", "comment")?
        } else if rest.starts_with(b"<![CDATA[") {
            skip_to(b"]]>", "CDATA section")?
        } else if rest.starts_with(b"<?") {
            skip_to(b"?>", "processing instruction")?
        } else if rest.starts_with(b"<!") {
            return Err(
                "a DTD or entity declaration (<!…>): UPnP documents have none, and entities \
                 could expand without bound"
                    .into(),
            );
        } else {
            let end = tag_end(b, lt).ok_or("a malformed or unterminated tag")?;
            let tag = b.get(lt..end).unwrap_or_default();
            if tag.starts_with(b"</") {
                depth = depth.saturating_sub(1);
            } else if !tag.ends_with(b"/>") {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "elements nested more than {MAX_DEPTH} deep (a real description nests \
                         about 8)"
                    ));
                }
            }
            end
        };
    }
    Ok(())
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The index just past the `>` that closes the tag starting at `lt`, skipping quoted
/// attribute values; `None` when unterminated or holding another `<` (XML allows none in a
/// tag, not even in a quoted value).
fn tag_end(b: &[u8], lt: usize) -> Option<usize> {
    let mut quote = None;
    for (k, c) in b.get(lt..)?.iter().enumerate() {
        match (quote, c) {
            (Some(q), _) if *c == q => quote = None,
            // Nor inside an attribute value (XML 1.0 §3.1, AttValue).
            (Some(_), b'<') => return None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(*c),
            (None, b'>') => return Some(lt + k + 1),
            // `<` cannot appear in a tag (XML 1.0 §3.1).
            (None, b'<') if k > 0 => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_cannot_hide_a_declaration() {
        assert!(check("<<!>").is_err());
        assert!(check("<<!DOCTYPE r [<!ENTITY a \"b\">]><r>&a;</r>").is_err());
        assert!(check("<r a='<<!x>'/>").is_err(), "not in a value either");
        assert!(check("<r a='x>y'/>").is_ok());
    }

    #[test]
    fn real_documents_pass() {
        let doc = r#"<?xml version="1.0"?>
<!-- a comment with <tags> -->
<root xmlns="urn:schemas-upnp-org:device-1-0" a='x>y'>
  <device><deviceType>urn:x</deviceType><empty/><![CDATA[<not><a><tag>]]></device>
</root>"#;
        assert_eq!(check(doc), Ok(()));
    }

    #[test]
    fn hostile_documents_are_refused() {
        let deep = "<a>".repeat(20_000) + &"</a>".repeat(20_000);
        assert!(check(&deep).unwrap_err().contains("nested"));
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
            <!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
        assert!(check(laughs).unwrap_err().contains("DTD"));
        assert!(
            check(&"x".repeat(MAX_SIZE + 1))
                .unwrap_err()
                .contains("KiB")
        );
        assert!(check("<a><!-- open").is_err());
        assert!(check("<a b=\"never closed>").is_err());
        // At the limit and over it.
        let at = "<a>".repeat(MAX_DEPTH) + &"</a>".repeat(MAX_DEPTH);
        assert_eq!(check(&at), Ok(()));
        let over = "<a>".repeat(MAX_DEPTH + 1);
        assert!(check(&over).is_err());
    }
}
