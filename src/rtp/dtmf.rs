//! RFC 4733 telephone events (DTMF digits in RTP).

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0–9 digits, 10 `*`, 11 `#`, 12–15 `A`–`D`, others per the registry.
    pub event: u8,
    /// End bit.
    pub end: bool,
    /// Volume in −dBm0 (0–63).
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Decodes the 4-byte event payload; `None` when shorter.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let b = payload.get(..4)?;
        Some(Self {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The DTMF symbol of events 0–15, `None` for other events.
    pub fn symbol(&self) -> Option<char> {
        "0123456789*#ABCD".chars().nth(usize::from(self.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_with_end_bit() {
        // Event 1, E=1, volume 10, duration 1280 (RFC 4733 §2.3 layout).
        let e = TelephoneEvent::parse(&[1, 0x8a, 0x05, 0x00]).unwrap();
        assert_eq!(e.symbol(), Some('1'));
        assert!(e.end);
        assert_eq!((e.volume, e.duration), (10, 1280));
        assert_eq!(
            TelephoneEvent::parse(&[11, 0, 0, 0]).unwrap().symbol(),
            Some('#')
        );
        assert_eq!(TelephoneEvent::parse(&[1, 2]), None);
        assert_eq!(
            TelephoneEvent::parse(&[40, 0, 0, 0]).unwrap().symbol(),
            None
        );
    }
}
