//! STUN in a capture (RFC 8489/5389, RFC 3489 without the cookie, STUN over TCP): one record
//! per message with what its header and attributes say.

use std::net::SocketAddr;

use super::{Analysis, Class, MAX_STUN, endpoint, flow_key};
use crate::capture::reader::Frame;
use crate::diagnose::capture::StunRecord;
use crate::stun::message as stunmsg;

impl StunRecord {
    /// A record with what the header gives: class and method from the message type, the
    /// transaction ID in hex; the attributes are filled in by the caller.
    fn header(
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        message_type: u16,
        transaction_id: &[u8],
    ) -> Self {
        let (class, method) = stunmsg::message_type(message_type);
        Self {
            frame: f.number,
            time_ns: f.time_ns,
            src: endpoint(&src),
            dst: endpoint(&dst),
            transport,
            class: class.as_str().into(),
            method: stunmsg::method_name(method),
            transaction_id: hex::encode(transaction_id),
            classic: false,
            xor_mapped_address: None,
            mapped_address: None,
            other_address: None,
            response_origin: None,
            change_request: None,
            error: None,
            software: None,
        }
    }
}

impl Analysis {
    /// RFC 3489 STUN (no magic cookie) on the STUN ports: type, length that matches.
    pub(super) fn classic_stun(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        p: &[u8],
    ) -> Option<Class> {
        let on_port = [3478, 3479].contains(&src.port()) || [3478, 3479].contains(&dst.port());
        if p.len() < 20 || !on_port {
            return None;
        }
        let kind = u16::from_be_bytes([p[0], p[1]]);
        let len = usize::from(u16::from_be_bytes([p[2], p[3]]));
        if ![0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112].contains(&kind) || len + 20 != p.len()
        {
            return None;
        }
        self.stun_flows.insert(flow_key(src, dst), ());
        // RFC 3489's transaction ID is the 128 bits after the length.
        let mut record = StunRecord::header(f, src, dst, "UDP", kind, &p[4..20]);
        record.classic = true;
        self.push_stun(record);
        Some(Class::Decoded)
    }

    pub(super) fn stun_message(
        &mut self,
        f: &Frame<'_>,
        src: SocketAddr,
        dst: SocketAddr,
        transport: &'static str,
        p: &[u8],
    ) -> Class {
        // The caller checked the header, so the type and transaction ID are there.
        let mut record = StunRecord::header(
            f,
            src,
            dst,
            transport,
            u16::from_be_bytes([p[0], p[1]]),
            &p[8..20],
        );
        let class = match stunmsg::decode(p) {
            Ok(m) => {
                record.xor_mapped_address = m.xor_mapped_address.map(|a| a.to_string());
                record.mapped_address = m.mapped_address.map(|a| a.to_string());
                record.other_address = m.other_address.map(|a| a.to_string());
                record.response_origin = m.response_origin.map(|a| a.to_string());
                record.change_request = m.change_request.map(|c| {
                    match (c.change_ip, c.change_port) {
                        (true, true) => "ip+port",
                        (true, false) => "ip",
                        (false, true) => "port",
                        (false, false) => "none",
                    }
                    .to_string()
                });
                record.error = m.error_code.map(|(c, r)| format!("{c} {r}"));
                record.software = m.software;
                Class::Decoded
            }
            Err(e) => {
                // The attributes are not decodable: keep what the header says.
                record.error = Some(format!("undecodable: {e}"));
                self.malformed(format!("STUN: {e}"))
            }
        };
        self.push_stun(record);
        class
    }

    fn push_stun(&mut self, record: StunRecord) {
        self.stun_messages += 1;
        if self.stun.len() < MAX_STUN {
            self.stun.push(record);
        }
    }
}
