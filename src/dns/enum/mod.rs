//! ENUM (RFC 6116) on the Dynamic Delegation Discovery System (RFC 3402, DNS database
//! RFC 3403), without I/O: an E.164 number to its domain, enumservices, the substitution
//! expression, and the walk over fetched NAPTR sets that turns them into URIs.
//!
//! The driver (`commands::enum_lookup`) fetches the NAPTR set of the number's domain and of
//! every domain a non-terminal record points to ([`chain_targets`], bounded by
//! [`MAX_HOPS`] and [`MAX_DOMAINS`]), then [`walk`] applies the rules to what was fetched.

mod service;
mod subst;
mod walk;

pub use service::{Enumservice, ServiceFilter, parse_services};
pub use subst::SubstExpr;
pub use walk::{
    Disposition, Fetched, Plan, RecordOutcome, UriOutcome, Walk, chain_targets, next_domain, walk,
};

/// The public ENUM tree (RFC 6116).
pub const DEFAULT_SUFFIX: &str = "e164.arpa";

/// Most digits an E.164 number has (ITU-T E.164 §6).
pub const MAX_DIGITS: usize = 15;

/// Longest chain of non-terminal records followed (RFC 3402 §3.2 asks clients to bound it;
/// RFC 6116 gives no number, 5 is what ENUM resolvers commonly use).
pub const MAX_HOPS: usize = 5;

/// Most NAPTR sets fetched for one number: the walk's work bound against hostile zones.
pub const MAX_DOMAINS: usize = 16;

/// Why a dialled string is not an E.164 number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing left after removing separators.
    #[error("no digits in the number")]
    Empty,
    /// A character that is neither a digit nor a visual separator.
    #[error("'{0}' is not a digit (separators allowed: space - . ( ) /)")]
    InvalidChar(char),
    /// A national number (one leading 0): ENUM needs the country code.
    #[error("{0} looks like a national number; give it in international form, e.g. +43 1 …")]
    National(String),
    /// More than [`MAX_DIGITS`] digits.
    #[error("{0} digits: an E.164 number has at most 15")]
    TooLong(usize),
}

/// An E.164 number in the form ENUM needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// The digits, country code first, no `+` (e.g. `4319793321`).
    pub digits: String,
    /// True when the input had neither `+` nor `00` and was taken as international anyway.
    pub assumed_international: bool,
}

impl Number {
    /// The Application Unique String of RFC 6116: `+` and the digits.
    pub fn aus(&self) -> String {
        format!("+{}", self.digits)
    }

    /// The domain to query under `suffix` (RFC 6116): the digits reversed, dot
    /// separated, e.g. `1.2.3.3.9.7.9.1.3.4.e164.arpa`.
    pub fn domain(&self, suffix: &str) -> String {
        let mut out = String::with_capacity(self.digits.len() * 2 + suffix.len());
        for d in self.digits.chars().rev() {
            out.push(d);
            out.push('.');
        }
        out.push_str(suffix.trim_matches('.'));
        out
    }
}

/// Parses a dialled number: any spacing, dashes, dots, parentheses and slashes; a leading
/// `+` or `00` (the international prefix); an optional `tel:` scheme (RFC 3966, parameters
/// after `;` dropped). Digits without a prefix are taken as international (and flagged).
///
/// # Errors
/// See [`NumberError`].
pub fn parse_number(input: &str) -> Result<Number, NumberError> {
    let mut s = input.trim();
    if s.len() >= 4 && s[..4].eq_ignore_ascii_case("tel:") {
        s = &s[4..];
        s = s.split(';').next().unwrap_or("");
    }
    let mut digits = String::new();
    let mut plus = false;
    for (i, c) in s.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '\t' | '-' | '.' | '(' | ')' | '/' => {}
            other => return Err(NumberError::InvalidChar(other)),
        }
    }
    let (digits, assumed) = if plus {
        (digits, false)
    } else if let Some(rest) = digits.strip_prefix("00") {
        (rest.to_string(), false)
    } else if digits.starts_with('0') {
        return Err(NumberError::National(s.to_string()));
    } else {
        (digits, true)
    };
    if digits.is_empty() {
        return Err(NumberError::Empty);
    }
    if digits.len() > MAX_DIGITS {
        return Err(NumberError::TooLong(digits.len()));
    }
    Ok(Number {
        digits,
        assumed_international: assumed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::Naptr;
    use std::collections::HashMap;

    fn naptr(order: u16, pref: u16, flags: &str, services: &str, regexp: &str) -> Naptr {
        Naptr {
            order,
            preference: pref,
            flags: flags.into(),
            services: services.into(),
            regexp: regexp.into(),
            replacement: ".".into(),
        }
    }

    #[test]
    fn numbers_normalise() {
        for input in [
            "+43 1 979 3321",
            "+43-1-979-3321",
            "0043 1 9793321",
            "+43 (1) 979.33.21",
            "tel:+43-1-979-3321;phone-context=x",
            "  +4319793321 ",
        ] {
            let n = parse_number(input).unwrap();
            assert_eq!(n.digits, "4319793321", "{input}");
            assert!(!n.assumed_international, "{input}");
        }
        let n = parse_number("43 1 979 3321").unwrap();
        assert!(n.assumed_international);
        assert_eq!(n.aus(), "+4319793321");
        // A UK number (the Ofcom drama range).
        let n = parse_number("+44-20-7946-0148").unwrap();
        assert_eq!(n.domain("e164.arpa"), "8.4.1.0.6.4.9.7.0.2.4.4.e164.arpa");
        assert_eq!(
            parse_number("+43 1 979 3321")
                .unwrap()
                .domain(".e164.arpa."),
            "1.2.3.3.9.7.9.1.3.4.e164.arpa"
        );
        assert_eq!(
            parse_number("01 979 3321"),
            Err(NumberError::National("01 979 3321".into()))
        );
        assert_eq!(
            parse_number("+43 1 97x"),
            Err(NumberError::InvalidChar('x'))
        );
        assert_eq!(parse_number("+"), Err(NumberError::Empty));
        assert_eq!(
            parse_number("+1234567890123456"),
            Err(NumberError::TooLong(16))
        );
        assert_eq!(parse_number("+43+1"), Err(NumberError::InvalidChar('+')));
    }

    #[test]
    fn services_parse_and_filter() {
        let s = parse_services("E2U+sip").unwrap();
        assert_eq!(s[0].service_type, "sip");
        let s = parse_services("e2u+voice:tel+sms:TEL").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].to_string(), "voice:tel");
        assert_eq!(s[1].subtypes, ["tel"]);
        assert!(parse_services("SIP+D2U").is_err());
        assert!(parse_services("E2U+").is_err());
        assert!(parse_services("E2U+si p").is_err());
        assert!(parse_services("").unwrap().is_empty());

        let f: ServiceFilter = "E2U+sip".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+SIP").unwrap()));
        assert!(!f.matches(&parse_services("E2U+sips").unwrap()));
        let f: ServiceFilter = "voice:tel".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+voice:tel").unwrap()));
        assert!(!f.matches(&parse_services("E2U+voice").unwrap()));
        let f: ServiceFilter = "voice".parse().unwrap();
        assert!(f.matches(&parse_services("E2U+voice:tel").unwrap()));
        assert!("E2U+".parse::<ServiceFilter>().is_err());
    }

    /// The example of RFC 6116 (number +44 1632 960083): three terminal records of one
    /// order, taken by preference.
    #[test]
    fn rfc6116_example() {
        let n = parse_number("+44 1632 960083").unwrap();
        let d = n.domain(DEFAULT_SUFFIX);
        assert_eq!(d, "3.8.0.0.6.9.2.3.6.1.4.4.e164.arpa");
        let s = sets(vec![(
            d.as_str(),
            Fetched::Records(vec![
                naptr(
                    10,
                    102,
                    "u",
                    "E2U+email:mailto",
                    "!^.*$!mailto:info@example.com!",
                ),
                naptr(10, 100, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
                naptr(10, 101, "u", "E2U+h323", "!^.*$!h323:info@example.com!"),
            ]),
        )]);
        let w = walk(&d, &s, &n.aus(), None);
        let uris: Vec<&str> = w.uris.iter().map(|u| u.uri.as_str()).collect();
        assert_eq!(
            uris,
            [
                "sip:info@example.com",
                "h323:info@example.com",
                "mailto:info@example.com"
            ]
        );
        assert_eq!(w.uris[2].enumservices[0].to_string(), "email:mailto");
    }

    /// Substitution expressions as ENUM zones write them (RFC 3402 §3.2 syntax).
    #[test]
    fn substitution_rfc_examples() {
        let aus = "+4319793321";
        let e = SubstExpr::parse("!^.*$!sip:info@example.com!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:info@example.com");
        // A back-reference.
        let e = SubstExpr::parse(r"!^\+4319(.*)$!sip:\1@example.com!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:793321@example.com");
        // A tel URI from two groups.
        let e = SubstExpr::parse(r"!^\+(43)(.*)$!tel:+\1-\2!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "tel:+43-19793321");
        // The delimiter can be another character, escaped where it appears.
        let e = SubstExpr::parse(r"#^\+43(1)#sip:a\#\1@x#").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:a#1@x");
        let e = SubstExpr::parse(r"/^\+43(.*)$/sip:\1@x\/y/").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:19793321@x/y");
        // The i flag.
        let e = SubstExpr::parse("!^\\+43(.*)$!MAILTO:\\1@EXAMPLE.COM!i").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "MAILTO:19793321@EXAMPLE.COM");
        let e = SubstExpr::parse("!^x(.*)$!\\1!i").unwrap();
        assert_eq!(e.apply("X42").unwrap(), "42");
        assert!(
            SubstExpr::parse("!^x(.*)$!\\1!")
                .unwrap()
                .apply("X42")
                .is_none()
        );
        // POSIX classes.
        let e = SubstExpr::parse("!^\\+([[:digit:]]{2})!sip:\\1@cc!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), "sip:43@cc");
        // No match.
        assert!(
            SubstExpr::parse("!^\\+44!x:y!")
                .unwrap()
                .apply(aus)
                .is_none()
        );
        // RFC 3403 §6.1: a CID URN rewritten to the domain to look in next (non-terminal).
        let e = SubstExpr::parse(r"/urn:cid:.+@([^\.]+\.)(.*)$/\2/i").unwrap();
        assert_eq!(
            e.apply("urn:cid:39CB83F7.A8450130@fake.gatech.edu")
                .unwrap(),
            "gatech.edu"
        );
        // A backslash in the output.
        let e = SubstExpr::parse(r"!^.*$!x:a\\b!").unwrap();
        assert_eq!(e.apply(aus).unwrap(), r"x:a\b");
    }

    #[test]
    fn substitution_errors() {
        for (bad, why) in [
            ("", "empty"),
            ("!^.*$!sip:x", "delimiters"),
            ("!^.*$!sip:x!!", "delimiters"),
            ("!^(.*$!sip:x!", "ERE"),
            ("!^.*$!sip:\\1!", "group"),
            ("!^.*$!sip:x!g", "flags"),
            ("1^.*1x1", "delimiter"),
            ("!!x!", "empty regular"),
            ("!^.*$!!", "empty replacement"),
            ("!a{1000}{1000}!x!", "ERE"),
        ] {
            let e = SubstExpr::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    fn sets(entries: Vec<(&str, Fetched)>) -> HashMap<String, Fetched> {
        entries
            .into_iter()
            .map(|(d, f)| (d.to_string(), f))
            .collect()
    }

    #[test]
    fn walk_orders_filters_and_stops_at_first_order() {
        let aus = "+4319793321";
        let records = vec![
            naptr(200, 10, "u", "E2U+mailto", "!^.*$!mailto:info@example.com!"),
            naptr(100, 20, "u", "E2U+tel", r"!^\+(.*)$!tel:+\1!"),
            naptr(100, 10, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
            naptr(100, 5, "u", "E2U+sip", "!^(.*$!sip:broken!"),
            naptr(100, 30, "u", "foo+bar", "!^.*$!x:y!"),
        ];
        let d = "1.2.3.3.9.7.9.1.3.4.e164.arpa";
        let s = sets(vec![(d, Fetched::Records(records))]);
        let w = walk(d, &s, aus, None);
        let uris: Vec<&str> = w.uris.iter().map(|u| u.uri.as_str()).collect();
        assert_eq!(uris, ["sip:info@example.com", "tel:+4319793321"]);
        let disp: Vec<(u16, Disposition)> = w
            .records
            .iter()
            .map(|r| (r.naptr.preference, r.disposition))
            .collect();
        assert_eq!(
            disp,
            [
                (5, Disposition::MalformedRegexp),
                (10, Disposition::Uri),
                (20, Disposition::Uri),
                (30, Disposition::UnknownService),
                (10, Disposition::NotConsidered),
            ]
        );
        assert_eq!(w.records[1].received_index, 2);

        // --service mailto: the order-100 records are filtered, so order 200 is used.
        let f: ServiceFilter = "E2U+mailto".parse().unwrap();
        let w = walk(d, &s, aus, Some(&f));
        assert_eq!(w.uris.len(), 1);
        assert_eq!(w.uris[0].uri, "mailto:info@example.com");
    }

    #[test]
    fn walk_follows_chains_and_cuts_loops() {
        let aus = "+4319793321";
        let mut chain = naptr(10, 10, "", "", "");
        chain.replacement = "next.example.".into();
        let mut back = naptr(10, 10, "", "", "");
        back.replacement = "start.example.".into();
        let mut by_regexp = naptr(20, 10, "", "E2U+sip", r"!^\+43(.*)$!\1.tree.example!");
        by_regexp.replacement = ".".into();
        let s = sets(vec![
            (
                "start.example",
                Fetched::Records(vec![chain.clone(), by_regexp]),
            ),
            (
                "next.example",
                Fetched::Records(vec![
                    back,
                    naptr(20, 10, "u", "E2U+sip", "!^.*$!sip:chained@example.com!"),
                ]),
            ),
            ("19793321.tree.example", Fetched::NoEntry("NXDOMAIN".into())),
        ]);
        let w = walk("start.example", &s, aus, None);
        assert_eq!(w.uris.len(), 1);
        assert_eq!(w.uris[0].uri, "sip:chained@example.com");
        assert_eq!(w.uris[0].domain, "next.example");
        let loops: Vec<_> = w
            .records
            .iter()
            .filter(|r| r.disposition == Disposition::Loop)
            .collect();
        assert_eq!(loops.len(), 1);
        assert_eq!(loops[0].depth, 1);
        // Order 10 gave a URI through the chain, so the order-20 record is not considered.
        assert_eq!(
            w.records.last().unwrap().disposition,
            Disposition::NotConsidered
        );

        // The fetch plan: next.example and the regexp target, each once; the loop back to
        // start.example is not queued again.
        let mut plan = Plan::new("start.example", aus);
        let mut visited = Vec::new();
        while let Some((d, depth)) = plan.next_query() {
            visited.push(d.clone());
            let r = s
                .get(&d)
                .cloned()
                .unwrap_or(Fetched::NoEntry("NXDOMAIN".into()));
            plan.fetched(d, depth, r);
        }
        assert_eq!(
            visited,
            ["start.example", "next.example", "19793321.tree.example"]
        );
    }

    #[test]
    fn walk_bounds_long_chains() {
        let aus = "+1";
        let mut s = HashMap::new();
        for i in 0..20 {
            let mut n = naptr(10, 10, "", "", "");
            n.replacement = format!("d{}.example", i + 1);
            s.insert(format!("d{i}.example"), Fetched::Records(vec![n]));
        }
        let mut plan = Plan::new("d0.example", aus);
        let mut fetched = 0;
        while let Some((d, depth)) = plan.next_query() {
            fetched += 1;
            let r = s.get(&d).cloned().unwrap();
            plan.fetched(d, depth, r);
        }
        assert_eq!(fetched, MAX_HOPS + 1);
        let w = walk("d0.example", &plan.sets, aus, None);
        assert!(w.uris.is_empty());
        assert_eq!(w.records.last().unwrap().disposition, Disposition::TooDeep);
        assert_eq!(w.records.len(), MAX_HOPS + 1);
    }

    #[test]
    fn walk_rejects_bad_records() {
        let aus = "+4319793321";
        let mut both = naptr(10, 1, "u", "E2U+sip", "!^.*$!sip:a@b!");
        both.replacement = "x.example".into();
        let s = sets(vec![(
            "d",
            Fetched::Records(vec![
                both,
                naptr(10, 2, "s", "E2U+sip", "!^.*$!sip:a@b!"),
                naptr(10, 3, "u", "E2U+sip", "!^.*$!not a uri!"),
                naptr(10, 4, "u", "E2U+sip", "!^\\+44!sip:a@b!"),
            ]),
        )]);
        let w = walk("d", &s, aus, None);
        assert!(w.uris.is_empty());
        let disp: Vec<Disposition> = w.records.iter().map(|r| r.disposition).collect();
        assert_eq!(
            disp,
            [
                Disposition::Malformed,
                Disposition::UnsupportedFlags,
                Disposition::Malformed,
                Disposition::NoMatch
            ]
        );
    }
}
