//! Seeded mutation fuzzing under stable `cargo test`: every cargo-fuzz target
//! (`voipdiag::fuzz`, also built in `fuzz/` for libFuzzer) runs on thousands of deterministic
//! mutants of its seeds — bytes flipped, lengths and counters set to edge values, ranges cut,
//! repeated or spliced from another seed. A failure prints the target, the case number and
//! the input in hex, which `cargo +nightly fuzz run TARGET FILE` reproduces.

use voipdiag::fuzz;

/// Mutants per target. Debug build: under 15 s for all of them.
const CASES: u64 = 4000;

struct Mutator {
    state: u64,
}

impl Mutator {
    fn new(seed: u64) -> Self {
        Mutator { state: seed | 1 }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// One to four stacked mutations of `input`; `other` is another seed to splice from.
    fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        const INTERESTING: [u8; 12] = [
            0, 1, 0x7f, 0x80, 0xff, b'\r', b'\n', b' ', b':', b';', b'<', 0x1b,
        ];
        const WIDE: [u32; 8] = [
            0,
            1,
            0xff,
            0xffff,
            0x7fff_ffff,
            0xffff_ffff,
            0x8000,
            65_535 + 1,
        ];
        let mut b = input.to_vec();
        for _ in 0..=self.below(4) {
            let len = b.len();
            match self.below(9) {
                0 if len > 0 => {
                    let at = self.below(len);
                    b[at] ^= 1 << self.below(8);
                }
                1 if len > 0 => {
                    let at = self.below(len);
                    b[at] = INTERESTING[self.below(INTERESTING.len())];
                }
                2 if len >= 4 => {
                    // A length or count field set to an edge value, either byte order.
                    let at = self.below(len - 3);
                    let v = WIDE[self.below(WIDE.len())];
                    let bytes = if self.below(2) == 0 {
                        v.to_be_bytes()
                    } else {
                        v.to_le_bytes()
                    };
                    let width = [1, 2, 4][self.below(3)];
                    b[at..at + width].copy_from_slice(&bytes[4 - width..]);
                }
                3 => b.truncate(self.below(len + 1)),
                4 if len > 0 => {
                    let from = self.below(len);
                    let to = (from + 1 + self.below(64)).min(len);
                    b.drain(from..to);
                }
                5 if len > 0 => {
                    // A range repeated: long headers, deep nesting, many records.
                    let from = self.below(len);
                    let to = (from + 1 + self.below(32)).min(len);
                    let piece = b[from..to].to_vec();
                    let most = if self.below(8) == 0 { 2000 } else { 8 };
                    let times = 1 + self.below(most);
                    let at = self.below(len + 1);
                    let repeated: Vec<u8> = piece
                        .iter()
                        .copied()
                        .cycle()
                        .take(piece.len() * times)
                        .collect();
                    b.splice(at..at, repeated.into_iter().take(64 * 1024));
                }
                6 if !other.is_empty() => {
                    let from = self.below(other.len());
                    let to = (from + 1 + self.below(256)).min(other.len());
                    let at = self.below(len + 1);
                    b.splice(at..at, other[from..to].iter().copied());
                }
                7 => {
                    let at = self.below(len + 1);
                    let n = 1 + self.below(16);
                    let random: Vec<u8> = (0..n).map(|_| self.next() as u8).collect();
                    b.splice(at..at, random);
                }
                _ if len > 1 => {
                    let i = self.below(len);
                    let j = self.below(len);
                    b.swap(i, j);
                }
                _ => {}
            }
        }
        b
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Runs `target` on its seeds and `cases` mutants; a panic names the input.
fn fuzz_target(target: &str, cases: u64) {
    let seeds = fuzz::seeds::of(target);
    assert!(!seeds.is_empty(), "{target} has no seeds");
    for s in &seeds {
        fuzz::run(target, s);
    }
    let mut m = Mutator::new(target.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }));
    // Mutants of mutants too: a pool seeded with the seeds, refreshed with what was made.
    let mut pool = seeds.clone();
    for case in 0..cases {
        let base = pool[m.below(pool.len())].clone();
        let other = seeds[m.below(seeds.len())].clone();
        let input = m.mutate(&base, &other);
        let outcome = std::panic::catch_unwind(|| fuzz::run(target, &input));
        if let Err(e) = outcome {
            let why = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "{target}: case {case} broke an invariant ({why}); input {}",
                hex(&input)
            );
        }
        if pool.len() < 64 {
            pool.push(input);
        } else {
            let slot = m.below(pool.len());
            pool[slot] = input;
        }
    }
}

#[test]
fn sip_message() {
    // The seeds are what the parser accepts (sanity of the harness).
    for s in fuzz::seeds::of("sip_message") {
        assert!(voipdiag::sip::message::Message::parse(&s).is_ok());
    }
    fuzz_target("sip_message", CASES);
}

#[test]
fn stun_message() {
    for s in fuzz::seeds::of("stun_message") {
        assert!(voipdiag::stun::message::decode(&s).is_ok());
    }
    assert_eq!(
        fuzz::seeds::of("stun_message").len(),
        3,
        "request, response, TURN"
    );
    fuzz_target("stun_message", CASES);
}

#[test]
fn sdp() {
    for s in fuzz::seeds::of("sdp") {
        assert_eq!(voipdiag::sdp::parse(&s).unwrap().media.len(), 2);
    }
    fuzz_target("sdp", CASES);
}

#[test]
fn rtp_rtcp() {
    let seeds = fuzz::seeds::of("rtp_rtcp");
    assert!(voipdiag::rtp::header::parse(&seeds[0]).is_ok());
    assert!(voipdiag::rtp::rtcp::parse(&seeds[1]).is_ok());
    fuzz_target("rtp_rtcp", CASES);
}

#[test]
fn enum_naptr() {
    fuzz_target("enum_naptr", CASES);
}

#[test]
fn upnp_xml() {
    let seeds = fuzz::seeds::of("upnp_xml");
    let desc = String::from_utf8(seeds[0].clone()).unwrap();
    assert!(voipdiag::upnp::igd::parse_description(&desc).is_ok());
    fuzz_target("upnp_xml", CASES);
}

#[test]
fn pcap_decode() {
    // Each case reads a capture and feeds 8 link types: fewer cases, same seconds.
    fuzz_target("pcap_decode", CASES / 4);
}

#[test]
fn call() {
    // Each case runs a whole call in simulated time: fewer cases.
    fuzz_target("call", CASES / 8);
}

#[test]
fn turn() {
    // Each case runs a whole TURN test in simulated time: fewer cases.
    fuzz_target("turn", CASES / 8);
}

/// Every target in `voipdiag::fuzz::TARGETS` has a test here and a binary in fuzz/.
#[test]
fn every_target_is_covered() {
    let here = include_str!("mutation.rs");
    let manifest = include_str!("../fuzz/Cargo.toml");
    for t in fuzz::TARGETS {
        assert!(here.contains(&format!("fn {t}()")), "no test for {t}");
        assert!(
            manifest.contains(&format!("name = \"{t}\"")),
            "no fuzz binary for {t}"
        );
    }
}
