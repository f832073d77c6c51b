//! One module per subcommand: arguments in, protocol machines driven over `net`, report out.

pub mod enum_lookup;
pub mod generate;
pub mod nat_probe;
pub mod pcap_decode;
pub mod register;
pub mod sip_common;
pub mod sip_options;
pub mod upnp_map;

/// Why a command could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad input found after parsing (exit 2).
    #[error("{0}")]
    Usage(String),
    /// A bug or an environment failure (exit 4).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
