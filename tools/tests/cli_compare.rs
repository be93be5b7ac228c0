//! `tandem sim --compare` on the real binary: the shape of the comparison, zero differences
//! between identical scenarios, and the case's trunk question answered with an interval.

mod common;

use common::{json, stdout_ok, tandem};

fn compare(args: &[&str]) -> serde_json::Value {
    json(
        &tandem()
            .args(["sim", "--quiet", "--json", "--compare"])
            .args(args)
            .output()
            .unwrap(),
    )
}

fn kpi<'a>(v: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    v["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == key)
        .unwrap_or_else(|| panic!("no KPI {key}"))
}

#[test]
fn a_built_in_set_expands_and_every_kpi_has_a_value_and_a_difference() {
    let v = compare(&["tv-burst-compare", "--replications", "2"]);
    let names: Vec<&str> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "tv-burst",
            "tv-burst-9e1-400",
            "tv-burst-6e1-700",
            "tv-burst-rebuilt",
            "tv-burst-callback"
        ]
    );
    assert_eq!(v["replications"], 2);
    assert_eq!(v["reports"].as_array().unwrap().len(), 5);
    for key in [
        "offered",
        "trunk_loss_share",
        "ivr_loss_share",
        "queue_loss_share",
        "ring_loss_share",
        "total_loss_share",
        "answered",
        "service_level",
        "asa_s",
        "abandon_rate",
        "human_answer_rate",
        "occupancy",
        "trunk_occupancy",
        "queue_peak",
    ] {
        let k = kpi(&v, key);
        assert_eq!(k["values"].as_array().unwrap().len(), 5, "{key}");
        let d = k["differences"].as_array().unwrap();
        assert!(d[0].is_null(), "{key}: the baseline has no difference");
        for x in &d[1..] {
            assert!(
                x["mean"].is_number() && x["half_width"].is_number(),
                "{key}: {x}"
            );
        }
    }
}

#[test]
fn identical_scenarios_differ_by_exactly_zero() {
    let v = compare(&["tv-burst", "tv-burst", "--replications", "3"]);
    for k in v["kpis"].as_array().unwrap() {
        let d = &k["differences"][1];
        assert_eq!(d["mean"], 0.0, "{}", k["key"]);
        assert_eq!(d["half_width"], 0.0, "{}", k["key"]);
        assert_eq!(d["significant"], false, "{}", k["key"]);
    }
}

#[test]
fn nine_e1_lose_fewer_calls_at_the_trunk_than_six() {
    let v = compare(&["tv-burst", "tv-burst-9e1-400", "--replications", "5"]);
    let d = &kpi(&v, "trunk_loss_share")["differences"][1];
    let (mean, hw) = (
        d["mean"].as_f64().unwrap(),
        d["half_width"].as_f64().unwrap(),
    );
    assert!(mean < 0.0 && mean + hw < 0.0, "{mean} ± {hw}");
    assert_eq!(d["significant"], true);
    // Erlang B at the peak (777 calls/min, 55 s holding) puts 9 E1 about 15 points under
    // 6 E1; the simulated drop is of that order.
    assert!((-0.30..-0.05).contains(&mean), "{mean}");
    // Common random numbers: both scenarios see the same first attempts, so the offered
    // calls differ by the redials alone.
    let offered = kpi(&v, "offered")["differences"][1]["mean"]
        .as_f64()
        .unwrap();
    let redials = kpi(&v, "redials")["differences"][1]["mean"]
        .as_f64()
        .unwrap();
    assert!((offered - redials).abs() < 1e-6, "{offered} vs {redials}");
}

#[test]
fn text_and_html_show_the_differences() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("cmp.html");
    let out = tandem()
        .args([
            "sim",
            "--quiet",
            "--compare",
            "tv-burst",
            "tv-burst-rebuilt",
        ])
        .args(["--replications", "3", "--html"])
        .arg(&html)
        .output()
        .unwrap();
    let t = stdout_ok(&out);
    assert!(
        t.contains("A  tv-burst (baseline)") && t.contains("B  tv-burst-rebuilt"),
        "{t}"
    );
    assert!(
        t.contains("B − A") && t.contains("common random numbers"),
        "{t}"
    );
    let trunk = t
        .lines()
        .filter(|l| l.trim_start().starts_with("1 trunk loss"))
        .nth(1)
        .expect("difference row");
    assert!(trunk.contains('*') && trunk.contains("± "), "{trunk}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("tv-burst-rebuilt − tv-burst"),
        "difference column"
    );
    assert!(page.matches("<figure class=\"chart\"").count() >= 5);

    let out = tandem()
        .args(["sim", "--compare", "tv-burst"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "one scenario is no comparison");
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least two"));
}
