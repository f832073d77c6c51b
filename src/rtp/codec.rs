//! Payload types and codecs: the static table of RFC 3551 §6 and names learned from SDP
//! `a=rtpmap` for dynamic types (96–127).

/// What a payload type stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// Encoding name as in SDP (`PCMA`, `telephone-event`, …).
    pub name: String,
    /// RTP clock rate in Hz; 0 when unknown (then no jitter can be computed).
    pub clock_rate: u32,
}

impl Codec {
    /// A codec from an encoding name and clock rate.
    pub fn new(name: impl Into<String>, clock_rate: u32) -> Self {
        Self {
            name: name.into(),
            clock_rate,
        }
    }

    /// Whether this is the RFC 4733 event payload (DTMF); its timestamps do not advance per
    /// packet, so it does not enter jitter (RFC 4733 §2.2.1).
    pub fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case("telephone-event")
    }

    /// Whether this is comfort noise (RFC 3389).
    pub fn is_comfort_noise(&self) -> bool {
        self.name.eq_ignore_ascii_case("CN")
    }
}

/// The static payload types of RFC 3551 §6 (audio and video), as (PT, name, clock rate).
const STATIC: &[(u8, &str, u32)] = &[
    (0, "PCMU", 8000),
    (3, "GSM", 8000),
    (4, "G723", 8000),
    (5, "DVI4", 8000),
    (6, "DVI4", 16000),
    (7, "LPC", 8000),
    (8, "PCMA", 8000),
    (9, "G722", 8000),
    (10, "L16", 44100),
    (11, "L16", 44100),
    (12, "QCELP", 8000),
    (13, "CN", 8000),
    (14, "MPA", 90000),
    (15, "G728", 8000),
    (16, "DVI4", 11025),
    (17, "DVI4", 22050),
    (18, "G729", 8000),
    (19, "CN", 8000),
    (25, "CelB", 90000),
    (26, "JPEG", 90000),
    (28, "nv", 90000),
    (31, "H261", 90000),
    (32, "MPV", 90000),
    (33, "MP2T", 90000),
    (34, "H263", 90000),
];

/// The codec of a static payload type (RFC 3551 §6), `None` for dynamic or unassigned ones.
pub fn static_codec(pt: u8) -> Option<Codec> {
    STATIC
        .iter()
        .find(|(p, _, _)| *p == pt)
        .map(|(_, n, r)| Codec::new(*n, *r))
}

/// Whether a payload type is one of the static comfort-noise types: 13 (RFC 3389) and the
/// old 19 (RFC 1890), which are what Wireshark leaves out of delta and jitter figures.
pub fn is_static_comfort_noise(pt: u8) -> bool {
    STATIC_CN.get(usize::from(pt)).copied().unwrap_or(false)
}

/// [`is_static_comfort_noise`] as a table built from [`STATIC`] at compile time: it is asked
/// twice per RTP packet.
const STATIC_CN: [bool; 128] = {
    let mut table = [false; 128];
    let mut i = 0;
    while i < STATIC.len() {
        let (pt, name, _) = STATIC[i];
        let n = name.as_bytes();
        if n.len() == 2 && n[0] == b'C' && n[1] == b'N' {
            table[pt as usize] = true;
        }
        i += 1;
    }
    table
};

/// Clock rate (Hz) for a dynamic payload known only by its encoding name, when `a=rtpmap`
/// carried no rate we could use; 0 when unknown.
pub fn clock_rate_for_name(name: &str) -> u32 {
    let n = name.to_ascii_lowercase();
    match n.as_str() {
        "telephone-event" | "amr" | "ilbc" | "speex" | "g726-32" | "g726-16" | "g726-24"
        | "g726-40" | "g729d" | "g729e" | "gsm-efr" | "evrc" => 8000,
        "amr-wb" | "g7221" | "evs" => 16000,
        "opus" => 48000,
        "h263-1998" | "h263-2000" | "h264" | "h265" | "vp8" | "vp9" | "av1" | "mp4v-es" => 90000,
        _ => 0,
    }
}

/// A short label for tables: the codec name, with the usual ITU names for G.711.
pub fn label(codec: Option<&Codec>, pt: u8) -> String {
    match codec {
        Some(c) => match c.name.to_ascii_uppercase().as_str() {
            "PCMA" => "G.711A (PCMA)".into(),
            "PCMU" => "G.711U (PCMU)".into(),
            _ => c.name.clone(),
        },
        None => format!("PT {pt}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_table_follows_rfc_3551() {
        assert_eq!(static_codec(8), Some(Codec::new("PCMA", 8000)));
        assert_eq!(static_codec(18).unwrap().name, "G729");
        assert_eq!(static_codec(34).unwrap().clock_rate, 90000);
        assert_eq!(static_codec(96), None);
        assert_eq!(static_codec(2), None, "PT 2 was unassigned by RFC 3551");
        assert!(static_codec(13).unwrap().is_comfort_noise());
        assert!(is_static_comfort_noise(19) && !is_static_comfort_noise(8));
        assert_eq!(clock_rate_for_name("opus"), 48000);
        assert_eq!(clock_rate_for_name("x-unknown"), 0);
    }
}
