//! An estimated listening-quality MOS from the ITU-T G.107 E-model, simplified for what a
//! capture shows: codec impairment and packet-loss robustness from ITU-T G.113 Appendix I,
//! random loss, and a mouth-to-ear delay estimated from packetisation and a jitter buffer.
//! It is an estimate: echo, noise and real end-to-end delay are not visible in a capture.

/// Equipment impairment `Ie` and packet-loss robustness `Bpl` of a codec (G.113 App. I),
/// by SDP encoding name; G.711 assumes packet loss concealment.
pub fn impairment(codec_name: &str) -> (f64, f64) {
    match codec_name.to_ascii_uppercase().as_str() {
        "PCMA" | "PCMU" => (0.0, 25.1),
        "G729" | "G729A" | "G729AB" => (11.0, 19.0),
        "G723" => (15.0, 16.1),
        "GSM" => (20.0, 10.0),
        "ILBC" => (10.0, 32.0),
        "G726-32" => (7.0, 10.0),
        "AMR" => (5.0, 10.0),
        // Wideband and modern codecs have no narrowband Ie; treat as transparent.
        _ => (0.0, 20.0),
    }
}

/// The E-model rating factor R (0–100) for a codec, a packet-loss share in percent, and a
/// one-way delay in ms (G.107 §7: R = R0 − Is − Id − Ie,eff + A with the default R0 − Is = 93.2).
pub fn r_factor(codec_name: &str, loss_percent: f64, delay_ms: f64) -> f64 {
    let (ie, bpl) = impairment(codec_name);
    let ppl = loss_percent.clamp(0.0, 100.0);
    let ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
    let d = delay_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    (93.2 - id - ie_eff).clamp(0.0, 100.0)
}

/// MOS (1.0–4.5) from R (G.107 Annex B). The polynomial dips just below 1 for R under about
/// 6.5; the scale ends at 1, so the result is clamped (and a NaN R counts as 0).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).clamp(1.0, 4.5)
    }
}

/// Estimated MOS of a stream: `codec_name` from SDP or the static table, `loss_percent`
/// (negative values, from duplicates, count as 0), mean jitter in ms and packet time in ms.
/// The delay is packetisation + a jitter buffer of twice the mean jitter + 10 ms processing.
pub fn estimate(codec_name: &str, loss_percent: f64, jitter_ms: f64, ptime_ms: f64) -> f64 {
    let delay = ptime_ms + 2.0 * jitter_ms + 10.0;
    let mos = mos_from_r(r_factor(codec_name, loss_percent.max(0.0), delay));
    (mos * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_without_impairment_is_near_the_narrowband_ceiling() {
        let m = estimate("PCMA", 0.0, 0.0, 20.0);
        assert!((4.35..=4.45).contains(&m), "{m}");
    }

    #[test]
    fn loss_and_codec_lower_the_score_monotonically() {
        let clean = estimate("PCMU", 0.0, 1.0, 20.0);
        let lossy = estimate("PCMU", 5.0, 1.0, 20.0);
        let very = estimate("PCMU", 20.0, 1.0, 20.0);
        assert!(clean > lossy && lossy > very, "{clean} {lossy} {very}");
        assert!(estimate("G729", 0.0, 1.0, 20.0) < clean);
        // G.107 Annex B anchors.
        assert!((mos_from_r(93.2) - 4.41).abs() < 0.01);
        assert_eq!(mos_from_r(0.0), 1.0);
        // Found by the fuzzer: below R 6.5 the polynomial is under 1; NaN is not a score.
        assert_eq!(mos_from_r(5.0), 1.0);
        assert_eq!(mos_from_r(f64::NAN), 1.0);
        assert!((mos_from_r(50.0) - 2.58).abs() < 0.01);
    }
}
