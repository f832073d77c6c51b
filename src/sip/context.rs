//! The request context (RFC 3261 §8.1.1): what the requests of one exchange share — the
//! Request-URI, From with its tag, To, Call-ID, the route set — and the request built from
//! it on a flow, with a fresh branch (§8.1.1.7) from the caller's RNG.

use super::endpoint::Flow;
use super::request::{self, Method, RequestSpec, ViaSpec, random_token};

/// The fields the requests of one exchange (or, later, one dialog) share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Request-URI.
    pub request_uri: String,
    /// From URI.
    pub from: String,
    /// From tag (§8.1.1.3).
    pub from_tag: String,
    /// To URI.
    pub to: String,
    /// To tag, inside a dialog.
    pub to_tag: Option<String>,
    /// Call-ID (§8.1.1.4).
    pub call_id: String,
    /// Route set, outbound proxy first (§8.1.2).
    pub route: Vec<String>,
}

impl RequestContext {
    /// A new context with a random From tag (10 characters) and Call-ID (20 characters
    /// `@voipdiag`) drawn from `rng`.
    pub fn new(
        rng: &mut impl rand::Rng,
        request_uri: String,
        from: String,
        to: String,
        route: Vec<String>,
    ) -> Self {
        let from_tag = random_token(rng, 10);
        let call_id = format!("{}@voipdiag", random_token(rng, 20));
        RequestContext {
            request_uri,
            from,
            from_tag,
            to,
            to_tag: None,
            call_id,
            route,
        }
    }

    /// A request of `method` with `cseq` on `flow`, with a fresh branch. `sent_by` replaces
    /// the flow's address in Via (the ALG check's host name); the Via port is the flow's.
    pub fn request(
        &self,
        rng: &mut impl rand::Rng,
        method: Method,
        cseq: u32,
        flow: &Flow,
        sent_by: Option<&str>,
    ) -> RequestSpec {
        RequestSpec {
            method,
            uri: self.request_uri.clone(),
            via: ViaSpec {
                transport: flow.transport.via_token(),
                sent_by: sent_by.map_or_else(|| flow.sent_by_host(), str::to_string),
                port: Some(flow.local.port()),
                branch: request::new_branch(rng),
            },
            from: (self.from.clone(), self.from_tag.clone()),
            to: (self.to.clone(), self.to_tag.clone()),
            call_id: self.call_id.clone(),
            cseq,
            contact: None,
            expires: None,
            route: self.route.clone(),
            extra: Vec::new(),
            body: None,
        }
    }
}
