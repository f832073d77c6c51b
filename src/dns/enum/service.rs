//! Enumservices (RFC 6116 §3.4): `E2U+type:subtype` parsing, and the `--service` filter.

/// One enumservice (RFC 6116): a type and its subtypes, e.g. `voice:tel` → type
/// `voice`, subtypes `["tel"]`. Compared case-insensitively; kept lower-case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Enumservice {
    /// e.g. `sip`, `voice`, `mailto`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// e.g. `["tel"]`.
    pub subtypes: Vec<String>,
}

impl std::fmt::Display for Enumservice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.service_type)?;
        for s in &self.subtypes {
            write!(f, ":{s}")?;
        }
        Ok(())
    }
}

fn token_ok(t: &str) -> bool {
    (1..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn parse_enumservice(spec: &str) -> Option<Enumservice> {
    let mut parts = spec.split(':');
    let service_type = parts.next()?.to_ascii_lowercase();
    let subtypes: Vec<String> = parts.map(str::to_ascii_lowercase).collect();
    (token_ok(&service_type) && subtypes.iter().all(|s| token_ok(s))).then_some(Enumservice {
        service_type,
        subtypes,
    })
}

/// Parses a NAPTR services field as ENUM (RFC 6116):
/// `"E2U" 1*("+" type *(":" subtype))`. An empty field (and a bare `E2U`, seen on
/// non-terminal records) gives no enumservice.
///
/// # Errors
/// A field that is not an ENUM service (e.g. `SIP+D2U`) or breaks the syntax.
pub fn parse_services(field: &str) -> Result<Vec<Enumservice>, String> {
    if field.is_empty() {
        return Ok(Vec::new());
    }
    let mut specs = field.split('+');
    let head = specs.next().unwrap_or("");
    if !head.eq_ignore_ascii_case("E2U") {
        return Err(format!(
            "\"{field}\" is not an ENUM service (E2U+type[:subtype])"
        ));
    }
    specs
        .map(|spec| {
            parse_enumservice(spec)
                .ok_or_else(|| format!("\"{field}\": malformed enumservice \"{spec}\""))
        })
        .collect()
}

/// The `--service` filter: an enumservice, with or without the `E2U+` prefix
/// (`E2U+sip`, `sip`, `voice:tel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFilter(Enumservice);

impl std::str::FromStr for ServiceFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let spec = if s.len() > 4 && s[..4].eq_ignore_ascii_case("E2U+") {
            &s[4..]
        } else {
            s
        };
        parse_enumservice(spec)
            .map(ServiceFilter)
            .ok_or_else(|| format!("'{s}' is not an enumservice (e.g. E2U+sip, voice:tel)"))
    }
}

impl std::fmt::Display for ServiceFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "E2U+{}", self.0)
    }
}

impl ServiceFilter {
    /// Whether a record offering `services` matches: same type, and every subtype the filter
    /// names is among the record's.
    pub fn matches(&self, services: &[Enumservice]) -> bool {
        services.iter().any(|s| {
            s.service_type == self.0.service_type
                && self.0.subtypes.iter().all(|want| s.subtypes.contains(want))
        })
    }
}
