//! The HTML reports in a real browser: headless Chromium renders each page, a script
//! injected into a copy measures every chart's text (axis titles, tick labels, legend,
//! title: present, laid out, inside the chart, not overlapping), and a screenshot of each
//! page is kept under `target/ci-artifacts/` for people to look at.
//!
//! Needs Chromium (`chromium` on the PATH, or `TANDEM_CHROMIUM`); without it the test says
//! so and passes, unless `TANDEM_REQUIRE_BROWSER=1` (CI sets it after installing Chromium).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{stdout_ok, tandem};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TANDEM_CHROMIUM") {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Chromium, headless, with a fresh profile and nothing running in the background.
fn browser(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ci-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Renders `page` with the check script and returns its findings.
fn check(bin: &Path, dir: &Path, page: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let script = include_str!("browser/check.js");
    let copy = dir.join("check.html");
    std::fs::write(
        &copy,
        html.replace("</body>", &format!("<script>{script}</script></body>")),
    )
    .unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = browser(bin, profile.path())
        .args([
            "--window-size=1280,900",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", copy.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.rfind("<pre id=\"browser-check\">").unwrap_or_else(|| {
        panic!(
            "no check output; stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }) + "<pre id=\"browser-check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let json = dom[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

fn screenshot(bin: &Path, page: &Path, height: u64, name: &str) {
    let profile = tempfile::tempdir().unwrap();
    let png = artifacts().join(name);
    let out = browser(bin, profile.path())
        .arg(format!("--window-size=1280,{}", height.clamp(600, 16_000)))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        png.metadata().is_ok_and(|m| m.len() > 10_000),
        "no screenshot {}: {}",
        png.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_readable(found: &serde_json::Value, page: &str, min_charts: usize) {
    let charts = found["charts"].as_array().unwrap();
    assert!(
        charts.len() >= min_charts,
        "{page}: {} charts",
        charts.len()
    );
    for c in charts {
        let what = format!("{page} / {}", c["title"]);
        assert_eq!(c["svg"], true, "{what}");
        assert!(c["width"].as_f64().unwrap() > 900.0, "{what}: {c}");
        assert_eq!(c["title_shown"], true, "{what}: no title");
        assert_eq!(c["x_label"], true, "{what}: no x axis title");
        assert_eq!(c["y_label"], true, "{what}: no y axis title");
        assert!(
            c["x_ticks"].as_array().unwrap().len() >= 3,
            "{what}: x ticks {}",
            c["x_ticks"]
        );
        assert!(
            c["y_ticks"].as_array().unwrap().len() >= 3,
            "{what}: y ticks {}",
            c["y_ticks"]
        );
        assert!(
            c["overlaps"].as_array().unwrap().is_empty(),
            "{what}: overlapping text {}",
            c["overlaps"]
        );
        assert!(
            c["outside"].as_array().unwrap().is_empty(),
            "{what}: text outside {}",
            c["outside"]
        );
        assert_eq!(c["hidden"], 0, "{what}: text not laid out");
    }
}

fn run(args: &[&str], page: &Path) {
    let out = tandem()
        .args(args)
        .arg("--html")
        .arg(page)
        .output()
        .unwrap();
    stdout_ok(&out);
}

#[test]
fn reports_render_with_readable_charts_in_chromium() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("TANDEM_REQUIRE_BROWSER").is_none(),
            "TANDEM_REQUIRE_BROWSER is set but no Chromium was found"
        );
        eprintln!("skipped: no Chromium on the PATH (set TANDEM_CHROMIUM)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pages: [(&str, Vec<&str>, usize, &str); 4] = [
        (
            "sim-tv-burst.png",
            vec!["sim", "--quiet", "--replications", "2"],
            9,
            "0:10",
        ),
        (
            "sim-day-700.png",
            vec!["sim", "--quiet", "--scenario", "day-700"],
            9,
            "12:00",
        ),
        (
            "compare-tv-burst.png",
            vec![
                "sim",
                "--quiet",
                "--replications",
                "2",
                "--compare",
                "tv-burst-compare",
            ],
            6,
            "0:10",
        ),
        (
            "staff-tv-burst.png",
            vec!["staff", "--quiet", "--scenario", "tv-burst"],
            2,
            "0:10",
        ),
    ];
    for (name, args, min_charts, tick) in pages {
        let page = dir.path().join(name.replace(".png", ".html"));
        run(&args, &page);
        let found = check(&bin, dir.path(), &page);
        assert_readable(&found, name, min_charts);
        // Time axes are labelled in clock time: the expected tick is on some chart.
        assert!(
            found["charts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["x_ticks"].as_array().unwrap().iter().any(|t| t == tick)),
            "{name}: no x tick {tick}"
        );
        screenshot(&bin, &page, found["height"].as_u64().unwrap_or(4000), name);
    }
}

#[test]
fn the_check_catches_overlapping_labels_and_a_missing_axis_title() {
    let Some(bin) = chromium() else {
        assert!(std::env::var_os("TANDEM_REQUIRE_BROWSER").is_none());
        eprintln!("skipped: no Chromium on the PATH (set TANDEM_CHROMIUM)");
        return;
    };
    // A chart drawn badly on purpose: x tick labels on top of each other, no y title.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        "<!doctype html><html><body><figure class=\"chart\" id=\"chart-1\" data-title=\"T\" \
         data-x-label=\"time\" data-y-label=\"calls\"><svg width=\"600\" height=\"200\" \
         viewBox=\"0 0 600 200\"><text x=\"10\" y=\"10\">T</text>\
         <text x=\"100\" y=\"180\" text-anchor=\"middle\">10:00</text>\
         <text x=\"110\" y=\"180\" text-anchor=\"middle\">11:00</text>\
         <text x=\"120\" y=\"180\" text-anchor=\"middle\">12:00</text>\
         <text x=\"300\" y=\"195\" text-anchor=\"middle\">time</text>\
         <text x=\"700\" y=\"100\" text-anchor=\"end\">0</text></svg></figure></body></html>",
    )
    .unwrap();
    let found = check(&bin, dir.path(), &page);
    let c = &found["charts"][0];
    assert!(!c["overlaps"].as_array().unwrap().is_empty(), "{c}");
    assert_eq!(c["y_label"], false);
    assert_eq!(c["x_label"], true);
    assert!(
        c["outside"].as_array().unwrap().iter().any(|t| t == "0"),
        "{c}"
    );
}
