//! The HTML reports' contents, read from the file (the browser check in html_browser.rs
//! renders them): every chart has its axis titles, tick labels and legend in its SVG, the
//! report shows the KPIs planners look for, and intervals without calls leave gaps.

mod common;

use common::{stdout_ok, tandem, write_file};

/// The texts of `<text>` elements in `svg`, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

/// Each chart figure: (data-title, data-x-label, data-y-label, its SVG).
fn figures(page: &str) -> Vec<(String, String, String, String)> {
    let attr = |tag: &str, name: &str| {
        let k = format!("{name}=\"");
        let a = tag.find(&k).map(|i| i + k.len())?;
        Some(tag[a..a + tag[a..].find('"')?].to_string())
    };
    page.split("<figure class=\"chart\"")
        .skip(1)
        .map(|f| {
            let f = &f[..f.find("</figure>").unwrap()];
            let tag = &f[..f.find('>').unwrap()];
            (
                attr(tag, "data-title").unwrap(),
                attr(tag, "data-x-label").unwrap(),
                attr(tag, "data-y-label").unwrap(),
                f.to_string(),
            )
        })
        .collect()
}

fn page(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.html");
    let out = tandem()
        .args(args)
        .arg("--html")
        .arg(&path)
        .output()
        .unwrap();
    stdout_ok(&out);
    std::fs::read_to_string(&path).unwrap()
}

#[test]
fn every_chart_has_axes_ticks_and_a_legend() {
    let p = page(&["sim", "--quiet", "--replications", "2"]);
    let figs = figures(&p);
    let titles: Vec<&str> = figs.iter().map(|f| f.0.as_str()).collect();
    for want in [
        "Calls offered and answered",
        "Calls lost, by stage",
        "Service level (answered within 20 s)",
        "Trunk channels in use",
        "IVR ports in use",
        "Agents",
        "Wait of answered calls",
    ] {
        assert!(titles.contains(&want), "{want} missing from {titles:?}");
    }
    for (title, x, y, svg) in &figs {
        let t = texts(svg);
        assert!(t.contains(title), "{title}: title");
        assert!(
            t.contains(x) && t.contains(y),
            "{title}: axis titles {x} / {y}"
        );
        let numeric = t.iter().filter(|s| s.parse::<f64>().is_ok()).count();
        let clock = t.iter().filter(|s| s.contains(':') && s.len() <= 5).count();
        assert!(numeric + clock >= 6, "{title}: ticks {t:?}");
    }
    let all: Vec<String> = figs.iter().flat_map(|f| texts(&f.3)).collect();
    // Minute ticks on the 20-minute burst, units on the axes, and the legends.
    for want in [
        "0:05",
        "0:10",
        "0:20",
        "time since the start (h:mm)",
        "calls per 1 min interval",
        "first attempts",
        "redials",
        "1 trunk (all lines busy)",
        "of which redial attempts",
        "target 80%",
        "capacity 180 channels",
        "all lines busy (darker: longer)",
        "required (Erlang C)",
        "after arrivals stop (draining)",
        "T = 20 s",
    ] {
        assert!(all.iter().any(|t| t == want), "{want} missing");
    }
    // The KPIs planners look for, above the charts.
    for want in [
        "human answer rate",
        "peak queue",
        "all four losses",
        "4 ring loss",
    ] {
        assert!(p.contains(want), "{want}");
    }
}

#[test]
fn a_day_is_labelled_every_hour() {
    let p = page(&["sim", "--quiet", "--scenario", "day-700"]);
    let figs = figures(&p);
    let t = texts(&figs[0].3);
    for h in 0..=24 {
        assert!(t.contains(&format!("{h}:00")), "{h}:00 missing: {t:?}");
    }
    assert!(t.contains(&"calls per 15 min interval".to_string()));
}

#[test]
fn intervals_without_calls_are_gaps_not_zeros() {
    // Calls for 20 minutes, none for half an hour, then calls again: the service level
    // has no value in the empty intervals, so its line is drawn in two pieces and never at 0.
    let dir = tempfile::tempdir().unwrap();
    let sc = write_file(
        dir.path(),
        "gap.toml",
        "name = \"gap\"\nduration_s = 4200\ninterval_s = 600\nreplications = 2\n\
         [arrivals]\nkind = \"profile\"\nrates = [[0, 60], [1200, 0], [3000, 60]]\n\
         [queue]\npatience = { kind = \"exponential\", mean = 120 }\n\
         [agents]\ncount = 200\ntalk = { kind = \"exponential\", mean = 60 }\n",
    );
    let p = page(&["sim", "--quiet", "--scenario", sc.to_str().unwrap()]);
    let (_, _, _, svg) = figures(&p)
        .into_iter()
        .find(|f| f.0.starts_with("Service level"))
        .unwrap();
    // The service-level series is green (#009E73); the legend's swatch sits above the plot
    // (y < 60), the line's pieces below.
    let pieces = svg
        .split("<polyline")
        .skip(1)
        .filter(|l| l.contains("stroke=\"#009E73\""))
        .filter(|l| {
            let pts = &l[l.find("points=\"").unwrap() + 8..];
            let y: f64 = pts.split([',', ' ']).nth(1).unwrap().parse().unwrap();
            y > 60.0
        })
        .count();
    assert_eq!(pieces, 2, "{svg}");
    let json = common::json(
        &tandem()
            .args([
                "sim",
                "--quiet",
                "--json",
                "--scenario",
                sc.to_str().unwrap(),
            ])
            .output()
            .unwrap(),
    );
    let empty = json["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["service_level"].is_null())
        .count();
    assert!(empty >= 2, "{empty}");
}

#[test]
fn comparison_and_plan_pages_have_their_charts() {
    let p = page(&[
        "sim",
        "--quiet",
        "--replications",
        "2",
        "--compare",
        "tv-burst",
        "tv-burst-rebuilt",
    ]);
    let figs = figures(&p);
    assert!(figs.iter().any(|f| f.0 == "Losses by stage"));
    let texts_all: Vec<String> = figs.iter().flat_map(|f| texts(&f.3)).collect();
    assert!(texts_all.iter().any(|t| t == "tv-burst-rebuilt"));
    let p = page(&["staff", "--quiet", "--scenario", "tv-burst"]);
    let figs = figures(&p);
    assert!(figs.iter().any(|f| f.0 == "Agents required and planned"));
    for (title, x, y, svg) in &figs {
        let t = texts(svg);
        assert!(t.contains(x) && t.contains(y), "{title}");
    }
}
