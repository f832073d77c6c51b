//! TURN (RFC 8656, RFC 5766) client side, without I/O: URIs (RFC 7065), credentials
//! (long-term and TURN REST), ChannelData framing, one allocation's requests and data path,
//! and the relay test machine nat-probe's `--turn` runs.

pub mod allocation;
pub mod channel;
pub mod credential;
pub mod ice_servers;
pub mod probe;
pub mod sim;
pub mod uri;

#[cfg(test)]
mod tests;
