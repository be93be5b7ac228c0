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
