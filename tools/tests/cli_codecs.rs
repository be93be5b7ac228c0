//! `tandem convert` and `tandem dtmf` on the real binary.

mod common;

use std::path::Path;

use tandem_codecs::g711::Law;
use tandem_codecs::tone::dtmf_sequence;
use tandem_codecs::wav::{Encoding, Wav, WavFormat, WavWriter};

use common::tandem;

fn write_wav(path: &Path, enc: Encoding, samples: &[i16]) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = WavWriter::new(f, WavFormat::telephony(enc)).unwrap();
    w.write_samples(samples).unwrap();
    w.finalize().unwrap();
}

fn convert(src: &Path, dst: &Path, to: &str) -> std::process::Output {
    tandem()
        .arg("convert")
        .arg(src)
        .arg(dst)
        .args(["--to", to])
        .output()
        .unwrap()
}

#[test]
fn convert_between_all_three_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("in.wav");
    let pcm: Vec<i16> = (0..800)
        .map(|i| ((i * 37) % 20000 - 10000) as i16)
        .collect();
    write_wav(&src, Encoding::Pcm16, &pcm);

    let ulaw = dir.path().join("u.wav");
    assert!(convert(&src, &ulaw, "pcmu").status.success());
    let u = Wav::parse(&std::fs::read(&ulaw).unwrap()).unwrap();
    assert_eq!(u.format.encoding, Encoding::Ulaw);
    let expected: Vec<u8> = pcm.iter().map(|&s| Law::Ulaw.encode(s)).collect();
    assert_eq!(u.data, expected);

    let alaw = dir.path().join("a.wav");
    assert!(convert(&ulaw, &alaw, "pcma").status.success());
    let a = Wav::parse(&std::fs::read(&alaw).unwrap()).unwrap();
    assert_eq!(a.format.encoding, Encoding::Alaw);
    let expected: Vec<u8> = u.samples().iter().map(|&s| Law::Alaw.encode(s)).collect();
    assert_eq!(a.data, expected);

    let back = dir.path().join("p.wav");
    assert!(convert(&alaw, &back, "pcm16").status.success());
    let p = Wav::parse(&std::fs::read(&back).unwrap()).unwrap();
    assert_eq!(p.format.encoding, Encoding::Pcm16);
    assert_eq!(p.samples(), a.samples());
}

#[test]
fn convert_reports_malformed_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"this is not audio").unwrap();
    let out = dir.path().join("out.wav");
    let o = convert(&bad, &out, "pcmu");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.wav") && err.contains("not a WAV file"),
        "{err}"
    );
    assert!(!out.exists(), "no output on failure");

    let o = convert(&dir.path().join("missing.wav"), &out, "pcmu");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn dtmf_prints_digits_with_start_times() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("digits.wav");
    let mut pcm = vec![0i16; 800]; // 100 ms of silence first
    pcm.extend(dtmf_sequence("4#9", 80, 70, -10.0));
    write_wav(&src, Encoding::Alaw, &pcm);
    let o = tandem().arg("dtmf").arg(&src).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<(f64, String)> = text
        .lines()
        .map(|l| {
            let (t, k) = l.split_once(' ').unwrap();
            (t.trim_end_matches('s').parse().unwrap(), k.to_string())
        })
        .collect();
    let keys: Vec<&str> = lines.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(keys, ["4", "#", "9"]);
    for (i, (t, _)) in lines.iter().enumerate() {
        let expected = 0.1 + i as f64 * 0.15;
        assert!((t - expected).abs() < 0.015, "digit {i} at {t}");
    }
}

#[test]
fn dtmf_rejects_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("x.wav");
    std::fs::write(&bad, b"RIFF\x04\x00\x00\x00WAVE").unwrap();
    let o = tandem().arg("dtmf").arg(&bad).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.wav"));
}

#[test]
fn demo_runs_without_setup_and_finds_every_digit_on_a_clean_link() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("leg.wav");
    let o = tandem()
        .args(["demo", "--loss-percent", "0", "--digits", "147*"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let detected = text.lines().find(|l| l.contains("DTMF detected")).unwrap();
    let keys: String = detected
        .split_whitespace()
        .skip(2)
        .map(|t| t.split('@').next().unwrap())
        .collect();
    assert_eq!(keys, "147*");
    let wav = Wav::parse(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(wav.format.encoding, Encoding::Alaw);
    assert!(wav.repaired.is_empty());
    assert!(wav.duration_secs() > 2.0);
}

/// DTMF at any sample rate, synthesised here: each key's row and column tones at -10 dBm0
/// each for `on_ms`, then `off_ms` of silence.
fn dtmf_at(rate: u32, keys: &str, on_ms: u32, off_ms: u32) -> Vec<i16> {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const PAD: [&str; 4] = ["123A", "456B", "789C", "*0#D"];
    // -10 dBm0 is 3.16 dB under the 0 dBm0 sine of amplitude 5,689 (G.711 μ-law).
    let amp = 5689.0 * 10f64.powf(-10.0 / 20.0);
    let mut out = Vec::new();
    for k in keys.chars() {
        let r = PAD.iter().position(|row| row.contains(k)).unwrap();
        let c = PAD[r].find(k).unwrap();
        let n = (rate * on_ms / 1000) as usize;
        for i in 0..n {
            let t = i as f64 / f64::from(rate);
            let v = (std::f64::consts::TAU * ROWS[r] * t).sin()
                + (std::f64::consts::TAU * COLS[c] * t).sin();
            out.push((amp * v) as i16);
        }
        out.extend(std::iter::repeat_n(0, (rate * off_ms / 1000) as usize));
    }
    out
}

fn digits(out: &std::process::Output) -> Vec<(f64, String)> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (t, k) = l.split_once(' ').unwrap();
            (t.trim_end_matches('s').parse().unwrap(), k.to_string())
        })
        .collect()
}

#[test]
fn convert_resamples_and_dtmf_reads_any_rate() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("wide.wav");
    let mut pcm = vec![0i16; 1600]; // 100 ms of silence at 16 kHz
    pcm.extend(dtmf_at(16_000, "2580#", 80, 80));
    let f = std::fs::File::create(&src).unwrap();
    let fmt = WavFormat {
        encoding: Encoding::Pcm16,
        channels: 1,
        sample_rate: 16_000,
    };
    let mut w = WavWriter::new(f, fmt).unwrap();
    w.write_samples(&pcm).unwrap();
    w.finalize().unwrap();

    // dtmf resamples by itself, and says so.
    let direct = tandem().arg("dtmf").arg(&src).output().unwrap();
    assert!(String::from_utf8_lossy(&direct.stderr).contains("resampled to 8000 Hz"));
    let direct = digits(&direct);
    let keys: String = direct.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(keys, "2580#");
    for (i, (t, _)) in direct.iter().enumerate() {
        let expected = 0.1 + i as f64 * 0.16;
        assert!((t - expected).abs() < 0.015, "digit {i} at {t}");
    }

    // convert --rate 8000 gives an 8 kHz μ-law file of half the frames, with the same
    // digits at the same times.
    let narrow = dir.path().join("narrow.wav");
    let o = tandem()
        .arg("convert")
        .arg(&src)
        .arg(&narrow)
        .args(["--to", "pcmu", "--rate", "8000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let w = Wav::parse(&std::fs::read(&narrow).unwrap()).unwrap();
    assert_eq!(w.format.sample_rate, 8000);
    assert_eq!(w.format.encoding, Encoding::Ulaw);
    assert_eq!(w.frames(), pcm.len() / 2);
    let after = digits(&tandem().arg("dtmf").arg(&narrow).output().unwrap());
    assert_eq!(after.len(), direct.len());
    for ((a, ka), (b, kb)) in after.iter().zip(&direct) {
        assert_eq!(ka, kb);
        assert!((a - b).abs() < 0.006, "{a} vs {b}");
    }

    let o = tandem()
        .arg("convert")
        .arg(&src)
        .arg(dir.path().join("x.wav"))
        .args(["--to", "pcm16", "--rate", "10"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--rate 10"));
}

#[test]
fn demo_explains_every_digit_packet_loss_took() {
    let dir = tempfile::tempdir().unwrap();
    let o = tandem()
        .arg("demo")
        .arg("--out")
        .arg(dir.path().join("leg.wav"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .map(|l| l.trim_start()[name.len()..].trim().to_string())
            .unwrap_or_default()
    };
    let pressed = field("DTMF pressed");
    let detected: String = field("DTMF detected")
        .split_whitespace()
        .map(|t| t.split('@').next().unwrap())
        .collect();
    let explained: Vec<&str> = text.lines().filter(|l| l.contains("digit lost")).collect();
    assert_eq!(
        explained.len(),
        pressed.len() - detected.len(),
        "{pressed} vs {detected}:\n{text}"
    );
    // The default 5% loss takes a digit with the default seed: it is named, with the
    // packets that took it, and the way to keep it.
    assert!(!explained.is_empty(), "{text}");
    assert!(
        explained[0].contains("packet") && text.contains("--loss-percent 0"),
        "{text}"
    );
}
