//! voipdiag: a VoIP/NAT diagnostic toolkit.
//!
//! Layout (see DESIGN.md): protocol modules without I/O (`stun`, `sip`, `sdp`, `rtp`, `dns`, `upnp`, `capture`, and `call`, which joins the INVITE dialog and the media session), the tokio layer (`net`), one
//! driver per subcommand (`commands`), the report layer (`report`) and the CLI (`cli`).
//! Data flows one way: `cli` → `commands` → protocol modules + `net` → `report`.

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
