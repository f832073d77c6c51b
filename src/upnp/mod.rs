//! Asking the gateway for a port, without I/O: NAT-PMP (RFC 6886) and PCP (RFC 6887) wire
//! formats in [`natpmp`]; the UPnP IGD facts igd-next leaves to us (device description,
//! status actions, error names, the default gateway) in [`igd`]. Discovery (SSDP) and the
//! port-mapping SOAP actions are igd-next's, driven from `crate::net::portmap`.

pub mod igd;
pub mod natpmp;
