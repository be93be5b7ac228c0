//! Tests of the codec plan: what an offer keeps, adds and refuses.
use super::*;

fn offer(list: &[(&str, &str)]) -> Vec<Format> {
    list.iter().map(|(pt, e)| Format::new(pt, e)).collect()
}

fn names(fs: &[Format]) -> Vec<&str> {
    fs.iter().map(Format::name).collect()
}

fn ops(f: impl FnOnce(&mut CodecOps)) -> CodecOps {
    let mut o = CodecOps::default();
    f(&mut o);
    o
}

const A: &[(&str, &str)] = &[
    ("9", "G722/8000"),
    ("0", "PCMU/8000"),
    ("8", "PCMA/8000"),
    ("101", "telephone-event/8000"),
];

#[test]
fn other_codecs_are_kept_and_only_cn_or_unknown_ones_removed() {
    let p = plan(&offer(A), &CodecOps::default(), false).unwrap();
    assert_eq!(
        names(&p.outgoing),
        ["G722", "PCMU", "PCMA", "TELEPHONE-EVENT"]
    );
    assert!(p.removed.is_empty());
    assert_eq!(
        p.caller_first(),
        Some(Codec::PCMU),
        "G.711 first for the leg"
    );
    let odd = offer(&[
        ("9", "G722/8000"),
        ("13", "CN/8000"),
        ("97", "PT97"),
        ("111", "opus/48000/2"),
    ]);
    let p = plan(&odd, &CodecOps::default(), false).unwrap();
    assert_eq!(names(&p.outgoing), ["G722", "OPUS"]);
    assert_eq!(p.removed, ["CN/8000", "PT97"]);
    assert_eq!(p.caller_first(), Some(Codec::passthrough(9, 8000)));
    let opus = &p.outgoing[1];
    assert_eq!(opus.codec(), Some(Codec::passthrough(111, 48_000)));
    let only_cn = offer(&[("13", "CN/8000")]);
    let e = plan(&only_cn, &CodecOps::default(), false).unwrap_err();
    assert!(e.contains("CN/8000"), "{e}");
}

#[test]
fn strip_mask_offer_except_transcode() {
    let a = offer(A);
    let p = plan(&a, &ops(|o| o.strip = vec!["PCMU".into()]), false).unwrap();
    assert_eq!(names(&p.outgoing), ["G722", "PCMA", "TELEPHONE-EVENT"]);
    assert_eq!(
        names(&p.caller),
        ["G722", "PCMU", "PCMA", "TELEPHONE-EVENT"]
    );
    let p = plan(&a, &ops(|o| o.offer = vec!["pcma".into()]), false).unwrap();
    assert_eq!(
        names(&p.outgoing),
        ["PCMA", "G722", "PCMU", "TELEPHONE-EVENT"]
    );
    let p = plan(
        &a,
        &ops(|o| {
            o.strip = vec!["all".into()];
            o.except = vec!["PCMA".into()];
        }),
        false,
    )
    .unwrap();
    assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
    let mu = offer(&[("0", "PCMU/8000"), ("101", "telephone-event/8000")]);
    let p = plan(
        &mu,
        &ops(|o| {
            o.mask = vec!["PCMU".into()];
            o.transcode = vec!["PCMA".into()];
        }),
        false,
    )
    .unwrap();
    assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
    assert_eq!(p.outgoing[0].pt, "8");
    assert_eq!(
        names(&p.caller),
        ["PCMU", "TELEPHONE-EVENT"],
        "masked: still the caller's"
    );
    // Stripping everything keeps the offer, unless empty media is allowed.
    let p = plan(&mu, &ops(|o| o.strip = vec!["PCMU".into()]), false).unwrap();
    assert_eq!(names(&p.outgoing), ["PCMU", "TELEPHONE-EVENT"]);
    let p = plan(&mu, &ops(|o| o.strip = vec!["PCMU".into()]), true).unwrap();
    assert!(p.reject && p.outgoing.is_empty());
}

#[test]
fn transcoding_other_codecs_is_refused_naming_them() {
    let a = offer(A);
    for (o, name) in [
        (ops(|o| o.transcode = vec!["opus".into()]), "opus"),
        (ops(|o| o.set = vec!["opus/48000/2/32000".into()]), "opus"),
        (ops(|o| o.accept = vec!["G722".into()]), "G722"),
    ] {
        let e = plan(&a, &o, false).unwrap_err();
        assert!(e.contains("not supported") && e.contains(name), "{e}");
    }
    let g722 = offer(&[("9", "G722/8000")]);
    let e = plan(&g722, &ops(|o| o.transcode = vec!["PCMU".into()]), false).unwrap_err();
    assert!(e.contains("no PCMU or PCMA to transcode from"), "{e}");
    // Other codecs take part in the other operations.
    let p = plan(&a, &ops(|o| o.offer = vec!["G722".into()]), false).unwrap();
    assert_eq!(names(&p.outgoing)[0], "G722");
    let p = plan(&a, &ops(|o| o.strip = vec!["G722".into()]), false).unwrap();
    assert_eq!(names(&p.outgoing), ["PCMU", "PCMA", "TELEPHONE-EVENT"]);
    let p = plan(
        &a,
        &ops(|o| {
            o.strip = vec!["all".into()];
            o.except = vec!["G722".into()];
        }),
        false,
    )
    .unwrap();
    assert_eq!(names(&p.outgoing), ["G722", "TELEPHONE-EVENT"]);
}

#[test]
fn transcoding_telephone_event_offers_it_and_asks_for_conversion() {
    let no_te = offer(&[("8", "PCMA/8000")]);
    let p = plan(
        &no_te,
        &ops(|o| o.transcode = vec!["telephone-event".into()]),
        false,
    )
    .unwrap();
    assert!(p.convert_dtmf);
    assert_eq!(p.caller_te(), None);
    assert_eq!(p.outgoing_te(), Some(101));
    assert_eq!(names(&p.outgoing), ["PCMA", "TELEPHONE-EVENT"]);
    // A payload type the offer already uses is not taken.
    let taken = offer(&[("8", "PCMA/8000"), ("101", "PCMU/8000")]);
    let o = ops(|o| o.transcode = vec!["telephone-event/8000".into()]);
    let p = plan(&taken, &o, false).unwrap();
    assert_ne!(p.outgoing_te(), Some(101));
    assert!(p.outgoing_te().is_some());
    assert!(
        !plan(&taken, &CodecOps::default(), false)
            .unwrap()
            .convert_dtmf
    );
}

#[test]
fn the_caller_keeps_its_law_or_an_accepted_one() {
    let mu = Format::new("0", "PCMU/8000");
    let codec_for = |p: &CodecPlan, f: &Format| p.caller_codec_for(f).map(|(c, _)| c);
    let both = offer(&[("8", "PCMA/8000"), ("0", "PCMU/8000")]);
    let p = plan(&both, &CodecOps::default(), false).unwrap();
    assert_eq!(codec_for(&p, &mu), Some(Codec::PCMU));
    let a_only = offer(&[("8", "PCMA/8000")]);
    let p = plan(&a_only, &CodecOps::default(), false).unwrap();
    assert_eq!(codec_for(&p, &mu), Some(Codec::PCMA), "transcoded");
    let p = plan(&both, &ops(|o| o.ignore = vec!["PCMU".into()]), false).unwrap();
    assert_eq!(codec_for(&p, &mu), Some(Codec::PCMA), "ignored");
    assert!(Format::new("98", "opus/48000/2").matches("OPUS/48000/2"));
    assert!(!Format::new("98", "opus/48000/2").matches("opus/48000/1"));
    assert!(Format::new("0", "PCMU/8000").matches("PCMU/8000/1"));
}

#[test]
fn a_pass_through_codec_reaches_the_caller_only_as_itself() {
    let p = plan(
        &offer(&[("0", "PCMU/8000"), ("111", "opus/48000/2")]),
        &CodecOps::default(),
        false,
    )
    .unwrap();
    // The callee answers opus on another payload type: the caller keeps its own.
    let (c, f) = p
        .caller_codec_for(&Format::new("96", "OPUS/48000/2"))
        .unwrap();
    assert_eq!((c, f.pt.as_str()), (Codec::passthrough(111, 48_000), "111"));
    assert_eq!(
        p.caller_codec_for(&Format::new("96", "opus/48000/1")),
        None,
        "mono opus is another encoding"
    );
    assert_eq!(
        p.caller_codec_for(&Format::new("9", "G722/8000")),
        None,
        "not offered: no transcoding"
    );
    let g722 = plan(&offer(&[("9", "G722/8000")]), &CodecOps::default(), false).unwrap();
    assert_eq!(g722.caller_codec_for(&Format::new("0", "PCMU/8000")), None);
}
