//! voipdiag: a VoIP/NAT diagnostic toolkit.
//!
//! Layout (see DESIGN.md): protocol modules without I/O (`stun`, `sip`, `sdp`, `rtp`, `dns`, `upnp`, `capture`, and `call`, which joins the INVITE dialog and the media session), the tokio layer (`net`), one
//! driver per subcommand (`commands`), the report layer (`report`) and the CLI (`cli`).
//! Data flows one way: `cli` → `commands` → protocol modules + `net` → `report`.
//!
//! Platform: Linux. Two places use what only Linux has, each behind
//! `cfg(target_os = "linux")` with a fallback: ICMP errors on unconnected UDP sockets
//! (`IP_RECVERR`, [`net::icmp`]; elsewhere waits end on their timeout) and the default
//! gateway from /proc/net/route ([`net::upnp::default_gateway`]; elsewhere `upnp-map` needs
//! `--gateway`). Other Unix systems are untested; Windows is not supported (raw file
//! descriptors in the driver).

#[cfg(not(unix))]
compile_error!(
    "voipdiag runs on Linux (other Unix systems build without ICMP error reporting, untested); Windows is not supported"
);

pub mod addr;
pub mod call;
pub mod capture;
pub mod cli;
pub mod commands;
pub mod diagnose;
pub mod dns;
#[doc(hidden)]
pub mod fuzz;
pub mod machine;
pub mod net;
pub mod report;
pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod stun;
pub mod text;
pub mod upnp;
