//! SIP signalling core (RFC 3261), without I/O: message parsing and building, digest
//! authentication, targets, the request context, client and server transactions, the
//! endpoint that routes messages to them, and the machines built on it — REGISTER and
//! OPTIONS, and both sides of `call`: the UAC INVITE dialog and the answering UAS. Bytes and time go in; bytes and events come out.

pub mod answer;
pub mod auth;
pub mod context;
pub mod dialog;
pub mod digest;
pub mod endpoint;
pub mod invite;
pub mod message;
pub mod options;
pub mod reflexive;
pub mod register;
pub mod request;
pub mod response;
pub mod target;
pub mod transaction;
