//! DNS rules for SIP and ENUM, without I/O: RFC 3263 server location (NAPTR → SRV → A/AAAA)
//! in [`rfc3263`], ENUM (RFC 6116 on DDDS) in `enum` (the module `dns::r#enum`). The
//! hickory-resolver client that runs the queries and records the trail is `crate::net::dns`;
//! `enum-lookup` reuses both.

pub mod r#enum;
pub mod resolution;
pub mod rfc3263;

/// A NAPTR record (RFC 3403 §4.1), text fields decoded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Naptr {
    /// Lower is tried first.
    pub order: u16,
    /// Among equal order, lower is tried first.
    pub preference: u16,
    /// `s`, `a`, `u`, `p` or empty.
    pub flags: String,
    /// e.g. `SIP+D2U`.
    pub services: String,
    /// Substitution expression (ENUM).
    pub regexp: String,
    /// Next domain name, `.` when none.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Srv {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative share among equal priority.
    pub weight: u16,
    /// Port.
    pub port: u16,
    /// Target host, without the trailing dot.
    pub target: String,
}

impl Naptr {
    /// The record in zone-file presentation form (RFC 3403 §4.1), as `dig` shows it:
    /// `100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .` — `"` and `\` in the
    /// character-strings escaped with `\`.
    pub fn presentation(&self) -> String {
        fn quoted(s: &str) -> String {
            let mut out = String::with_capacity(s.len() + 2);
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
            out
        }
        let replacement = if self.replacement.is_empty() {
            "."
        } else {
            &self.replacement
        };
        format!(
            "{} {} {} {} {} {}",
            self.order,
            self.preference,
            quoted(&self.flags),
            quoted(&self.services),
            quoted(&self.regexp),
            replacement
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naptr_presentation_escapes() {
        let n = Naptr {
            order: 100,
            preference: 10,
            flags: "u".into(),
            services: "E2U+sip".into(),
            regexp: r#"!^\+4319(.*)$!sip:\1@"x"!"#.into(),
            replacement: ".".into(),
        };
        assert_eq!(
            n.presentation(),
            r#"100 10 "u" "E2U+sip" "!^\\+4319(.*)$!sip:\\1@\"x\"!" ."#
        );
    }
}
