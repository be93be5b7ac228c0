//! The ITU-T G.107 E-model: a transmission rating R and an estimated MOS for a call, from
//! its one-way delay and packet loss.
//!
//! [`Params`] holds every input of G.107 (06/2015) §7 with the defaults of its Table 3, so
//! [`rate`] with `Params::default()` gives the reference rating R ≈ 93.2. [`Params::g711`]
//! sets what a G.711 call measures: the one-way mouth-to-ear delay `Ta` (with the echo
//! path `T = Ta` and the listener-echo round trip `Tr = 2·Ta`, the usual assumption when only
//! the one-way delay is known), the packet-loss percentage `Ppl` and the burst ratio
//! `BurstR`, with G.711's equipment impairment `Ie = 0` and its packet-loss robustness `Bpl`
//! from G.113 Appendix I (Table I.3): 4.3 without packet-loss concealment, 25.1 with it.
//!
//! R is `Ro − Is − Id − Ie,eff + A`:
//! - `Ro`, the basic signal-to-noise ratio, and `Is`, the simultaneous impairments (loudness,
//!   sidetone, quantisation), depend only on the terminal and circuit defaults here;
//! - `Id` sums talker echo (`Idte`), listener echo (`Idle`) and pure delay (`Idd`);
//! - `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)`.
//!
//! [`mos_from_r`] is the conversion of G.107 Annex B.

/// The inputs of the E-model, named as in G.107. Levels in dB, delays in milliseconds,
/// packet loss in percent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Send loudness rating SLR.
    pub slr: f64,
    /// Receive loudness rating RLR.
    pub rlr: f64,
    /// Sidetone masking rating STMR.
    pub stmr: f64,
    /// Listener sidetone rating LSTR.
    pub lstr: f64,
    /// D-value of the telephone, send side.
    pub ds: f64,
    /// D-value of the telephone, receive side.
    pub dr: f64,
    /// Talker echo loudness rating TELR.
    pub telr: f64,
    /// Weighted echo path loss WEPL.
    pub wepl: f64,
    /// Mean one-way delay of the echo path T, ms.
    pub t_ms: f64,
    /// Round-trip delay in a 4-wire loop Tr, ms.
    pub tr_ms: f64,
    /// Absolute (mouth-to-ear) one-way delay Ta, ms.
    pub ta_ms: f64,
    /// Quantisation distortion units qdu.
    pub qdu: f64,
    /// Equipment impairment factor Ie of the codec.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl of the codec.
    pub bpl: f64,
    /// Random packet-loss probability Ppl, percent.
    pub ppl: f64,
    /// Burst ratio BurstR (1 for random loss, above 1 for bursty loss).
    pub burst_r: f64,
    /// Circuit noise referred to the 0 dBr point Nc, dBm0p.
    pub nc: f64,
    /// Noise floor at the receive side Nfor, dBmp.
    pub nfor: f64,
    /// Room noise at the send side Ps, dB(A).
    pub ps: f64,
    /// Room noise at the receive side Pr, dB(A).
    pub pr: f64,
    /// Advantage factor A.
    pub a: f64,
    /// Delay sensitivity sT (1 for the default sensitivity class).
    pub s_t: f64,
    /// Minimum perceivable delay mT, ms (100 for the default class).
    pub m_t: f64,
}

impl Default for Params {
    /// The default values of G.107 Table 3, which give R ≈ 93.2.
    fn default() -> Params {
        Params {
            slr: 8.0,
            rlr: 2.0,
            stmr: 15.0,
            lstr: 18.0,
            ds: 3.0,
            dr: 3.0,
            telr: 65.0,
            wepl: 110.0,
            t_ms: 0.0,
            tr_ms: 0.0,
            ta_ms: 0.0,
            qdu: 1.0,
            ie: 0.0,
            bpl: BPL_G711,
            ppl: 0.0,
            burst_r: 1.0,
            nc: -70.0,
            nfor: -64.0,
            ps: 35.0,
            pr: 35.0,
            a: 0.0,
            s_t: 1.0,
            m_t: 100.0,
        }
    }
}

/// Packet-loss robustness of G.711 without packet-loss concealment (G.113 App. I, Table I.3).
pub const BPL_G711: f64 = 4.3;
/// Packet-loss robustness of G.711 with Appendix I packet-loss concealment (G.113 App. I).
pub const BPL_G711_PLC: f64 = 25.1;

impl Params {
    /// A G.711 call (Ie = 0) with `one_way_ms` mouth-to-ear delay, `loss_pct` packet loss
    /// and burst ratio `burst_r`, with or without packet-loss concealment; every other
    /// input at its default. The echo path is taken as the one-way delay (`T = Ta`) and the
    /// listener-echo loop as the round trip (`Tr = 2·Ta`).
    pub fn g711(one_way_ms: f64, loss_pct: f64, burst_r: f64, plc: bool) -> Params {
        Params {
            t_ms: one_way_ms,
            tr_ms: 2.0 * one_way_ms,
            ta_ms: one_way_ms,
            ie: 0.0,
            bpl: if plc { BPL_G711_PLC } else { BPL_G711 },
            ppl: loss_pct,
            burst_r: if burst_r > 0.0 { burst_r } else { 1.0 },
            ..Params::default()
        }
    }
}

/// The rating and its parts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rating {
    /// Transmission rating R.
    pub r: f64,
    /// Estimated mean opinion score (G.107 Annex B).
    pub mos: f64,
    /// Basic signal-to-noise ratio Ro.
    pub ro: f64,
    /// Simultaneous impairment factor Is.
    pub is: f64,
    /// Delay impairment factor Id (= Idte + Idle + Idd).
    pub id: f64,
    /// Effective equipment impairment factor Ie,eff.
    pub ie_eff: f64,
}

fn lg(x: f64) -> f64 {
    x.log10()
}

/// Total noise power No (dBm0p) and the basic signal-to-noise ratio Ro.
fn noise_and_ro(p: &Params) -> (f64, f64) {
    let olr = p.slr + p.rlr;
    let nos = p.ps - p.slr - p.ds - 100.0 + 0.004 * (p.ps - olr - p.ds - 14.0).powi(2);
    let pre = p.pr + 10.0 * lg(1.0 + 10f64.powf((10.0 - p.lstr) / 10.0));
    let nor = p.rlr - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
    let nfo = p.nfor + p.rlr;
    let no = 10.0
        * lg(10f64.powf(p.nc / 10.0)
            + 10f64.powf(nos / 10.0)
            + 10f64.powf(nor / 10.0)
            + 10f64.powf(nfo / 10.0));
    (no, 15.0 - 1.5 * (p.slr + no))
}

/// Simultaneous impairment factor Is = Iolr + Ist + Iq.
fn simultaneous(p: &Params, no: f64, ro: f64) -> f64 {
    let olr = p.slr + p.rlr;
    let xolr = olr + 0.2 * (64.0 + no - p.rlr);
    let iolr = 20.0 * ((1.0 + (xolr / 8.0).powi(8)).powf(1.0 / 8.0) - xolr / 8.0);
    let stmro =
        -10.0 * lg(10f64.powf(-p.stmr / 10.0) + (-p.t_ms / 4.0).exp() * 10f64.powf(-p.telr / 10.0));
    let ist = 12.0 * (1.0 + ((stmro - 13.0) / 6.0).powi(8)).powf(1.0 / 8.0)
        - 28.0 * (1.0 + ((stmro + 1.0) / 19.4).powi(35)).powf(1.0 / 35.0)
        - 13.0 * (1.0 + ((stmro - 3.0) / 33.0).powi(13)).powf(1.0 / 13.0)
        + 29.0;
    let q = 37.0 - 15.0 * lg(p.qdu);
    let g = 1.07 + 0.258 * q + 0.0602 * q * q;
    let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
    let z = 46.0 / 30.0 - g / 40.0;
    let iq = 15.0 * lg(1.0 + 10f64.powf(y) + 10f64.powf(z));
    iolr + ist + iq
}

/// Talker-echo impairment Idte for the echo path delay `T` and TELR.
pub fn idte(p: &Params, no: f64) -> f64 {
    let t = p.t_ms;
    let terv =
        p.telr - 40.0 * lg((1.0 + t / 10.0) / (1.0 + t / 150.0)) + 6.0 * (-0.3 * t * t).exp();
    let roe = -1.5 * (no - p.rlr);
    let re = 80.0 + 2.5 * (terv - 14.0);
    let d = roe - re;
    (d / 2.0 + (d * d / 4.0 + 100.0).sqrt() - 1.0) * (1.0 - (-t).exp())
}

/// Listener-echo impairment Idle for the loop delay `Tr` and WEPL.
pub fn idle(p: &Params, ro: f64) -> f64 {
    let rle = 10.5 * (p.wepl + 7.0) * (p.tr_ms + 1.0).powf(-0.25);
    let d = ro - rle;
    d / 2.0 + (d * d / 4.0 + 169.0).sqrt()
}

/// Pure-delay impairment Idd for the absolute delay `ta_ms` (0 up to `m_t`).
pub fn idd(ta_ms: f64, s_t: f64, m_t: f64) -> f64 {
    if ta_ms <= m_t {
        return 0.0;
    }
    let x = lg(ta_ms / m_t) / lg(2.0);
    let k = 6.0 * s_t;
    25.0 * ((1.0 + x.powf(k)).powf(1.0 / k) - 3.0 * (1.0 + (x / 3.0).powf(k)).powf(1.0 / k) + 2.0)
}

/// Effective equipment impairment Ie,eff for `ppl` percent loss with burst ratio `burst_r`.
pub fn ie_eff(ie: f64, bpl: f64, ppl: f64, burst_r: f64) -> f64 {
    let ppl = ppl.clamp(0.0, 100.0);
    let burst_r = if burst_r > 0.0 { burst_r } else { 1.0 };
    ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl)
}

/// Rates a connection.
pub fn rate(p: &Params) -> Rating {
    let (no, ro) = noise_and_ro(p);
    let is = simultaneous(p, no, ro);
    let id = idte(p, no) + idle(p, ro) + idd(p.ta_ms, p.s_t, p.m_t);
    let ie_eff = ie_eff(p.ie, p.bpl, p.ppl, p.burst_r);
    let r = ro - is - id - ie_eff + p.a;
    Rating {
        r,
        mos: mos_from_r(r),
        ro,
        is,
        id,
        ie_eff,
    }
}

/// The estimated MOS (conversational quality) of a rating R, G.107 Annex B (clamped to 1
/// where its polynomial dips below 1, for R < 6.5).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        // The polynomial dips just below 1 for R < 6.5; MOS is defined on [1, 4.5].
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6).max(1.0)
    }
}

/// The burst ratio of a loss pattern from its two-state Markov transitions (G.107 §7.2.4):
/// `p` = P(lost | previous received), `q` = P(received | previous lost), BurstR = 1/(p + q).
/// `received` is the pattern in sending order (true = arrived). A pattern without loss, or
/// with nothing but loss, is random by convention (1).
pub fn burst_ratio(received: impl IntoIterator<Item = bool>) -> f64 {
    let (mut from_rx, mut rx_to_lost, mut from_lost, mut lost_to_rx) = (0u64, 0u64, 0u64, 0u64);
    let mut prev: Option<bool> = None;
    for r in received {
        match prev {
            Some(true) => {
                from_rx += 1;
                rx_to_lost += u64::from(!r);
            }
            Some(false) => {
                from_lost += 1;
                lost_to_rx += u64::from(r);
            }
            None => {}
        }
        prev = Some(r);
    }
    burst_ratio_from_counts(from_rx, rx_to_lost, from_lost, lost_to_rx)
}

/// [`burst_ratio`] from transition counts: transitions out of "received", of which to
/// "lost", and out of "lost", of which to "received".
pub fn burst_ratio_from_counts(
    from_rx: u64,
    rx_to_lost: u64,
    from_lost: u64,
    lost_to_rx: u64,
) -> f64 {
    if rx_to_lost == 0 || from_rx == 0 || from_lost == 0 {
        return 1.0;
    }
    let p = rx_to_lost as f64 / from_rx as f64;
    let q = lost_to_rx as f64 / from_lost as f64;
    if p + q <= 0.0 { 1.0 } else { 1.0 / (p + q) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// G.107 §7.7: the default values give R = 93.2 (Ro ≈ 94.77, Is ≈ 1.41); Annex B then
    /// gives MOS ≈ 4.41.
    #[test]
    fn defaults_give_the_reference_rating() {
        let r = rate(&Params::default());
        assert!(close(r.r, 93.2, 0.05), "{r:?}");
        assert!(close(r.ro, 94.77, 0.02), "{r:?}");
        assert!(close(r.is, 1.41, 0.02), "{r:?}");
        assert!(close(r.mos, 4.41, 0.005), "{r:?}");
    }

    /// Annex B worked by hand: 1 + 0.035·50 + 50·(−10)·50·7e-6 = 2.575.
    #[test]
    fn mos_conversion_reference_points() {
        assert!(close(mos_from_r(50.0), 2.575, 1e-9));
        assert!(close(mos_from_r(93.2), 4.409, 0.001));
        assert_eq!(mos_from_r(-3.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        // Monotone over the range.
        let mut last = 0.0;
        for r in 0..=100 {
            let m = mos_from_r(f64::from(r));
            assert!(m >= last, "R {r}");
            last = m;
        }
    }

    /// G.711 with PLC (Bpl = 25.1, G.113 App. I Table I.3) under random loss. The expected
    /// values use the equation rearranged for Ie = 0, BurstR = 1: 95·P / (P + 25.1); and are
    /// cross-checked against Cole & Rosenbluth's least-squares fit to the G.113 data for G.711
    /// with PLC, Ie = 30·ln(1 + 15·e) (e the loss fraction), within about one R point.
    #[test]
    fn ie_eff_for_g711_with_plc() {
        for (pct, want) in [(0.0, 0.0), (1.0, 3.6398), (2.0, 7.0111), (5.0, 15.7807)] {
            let got = ie_eff(0.0, BPL_G711_PLC, pct, 1.0);
            assert!(close(got, want, 0.001), "{pct}%: {got}");
            let cole = 30.0 * (1.0 + 15.0 * pct / 100.0_f64).ln();
            assert!(close(got, cole, 1.1), "{pct}%: {got} vs fit {cole}");
        }
        // Without PLC the same loss hurts far more: 95·2/(2 + 4.3) = 30.16.
        assert!(close(ie_eff(0.0, BPL_G711, 2.0, 1.0), 30.159, 0.001));
        // Bursty loss hurts more than random loss at the same rate.
        assert!(ie_eff(0.0, BPL_G711_PLC, 2.0, 2.0) > ie_eff(0.0, BPL_G711_PLC, 2.0, 1.0));
    }

    /// The pure-delay term, evaluated by hand from the G.107 equation with X = log2(Ta/100):
    /// Ta = 150 ms: X = 0.585, 25·(1.006558 − 3.0000274 + 2) = 0.163;
    /// Ta = 300 ms: X = 1.585, X⁶ = 15.853, (X/3)⁶ = 0.021746, 25·(1.60120 − 3.01078 + 2) =
    /// 14.76.
    #[test]
    fn pure_delay_impairment_by_hand() {
        assert_eq!(idd(100.0, 1.0, 100.0), 0.0);
        assert!(close(idd(150.0, 1.0, 100.0), 0.163, 0.003));
        assert!(close(idd(300.0, 1.0, 100.0), 14.76, 0.01));
    }

    /// The whole delay impairment (talker echo with TELR 65, listener echo, pure delay)
    /// against Cole & Rosenbluth's published simplification of G.107 for the default
    /// values, Id ≈ 0.024·d + 0.11·(d − 177.3)·H(d − 177.3): 3.60 at 150 ms, 20.70 at 300 ms.
    #[test]
    fn delay_impairment_against_the_published_simplification() {
        for (d, want) in [(150.0, 3.60), (300.0, 20.70)] {
            let r = rate(&Params::g711(d, 0.0, 1.0, true));
            assert!(close(r.id, want, 0.5), "Ta {d}: Id {}", r.id);
        }
        // R falls with delay: about 89.4 at 150 ms, 72.5 at 300 ms.
        let r150 = rate(&Params::g711(150.0, 0.0, 1.0, true)).r;
        let r300 = rate(&Params::g711(300.0, 0.0, 1.0, true)).r;
        assert!(r150 > 88.5 && r150 < 90.0, "{r150}");
        assert!(r300 > 71.5 && r300 < 73.5, "{r300}");
    }

    #[test]
    fn burst_ratio_of_patterns() {
        // No loss, or random-looking isolated losses in a long run: about 1.
        assert_eq!(burst_ratio([true; 100]), 1.0);
        let isolated: Vec<bool> = (0..1000).map(|i| i % 50 != 0).collect();
        assert!(close(burst_ratio(isolated), 1.0, 0.03));
        // Losses in runs of 5 every 250 packets (2% loss): p = 1/245, q = 1/5, so BurstR =
        // 1/(1/245 + 1/5) ≈ 4.9.
        let bursty: Vec<bool> = (0..10_000).map(|i| i % 250 >= 5).collect();
        let b = burst_ratio(bursty);
        assert!(close(b, 4.9, 0.05), "{b}");
    }
}
