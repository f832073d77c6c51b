//! voipdiag: a VoIP/NAT diagnostic toolkit. See DESIGN in README.md for the layout:
//! protocol modules without I/O (`stun`), the tokio layer (`net`), one driver per
//! subcommand (`commands`) and the report layer (`report`).

pub mod stun;
