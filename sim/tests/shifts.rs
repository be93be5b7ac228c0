//! Staffing windows in a run: overlapping windows add up, as docs/scenarios.md says.

use tandem_sim::{Scenario, simulate};

#[test]
fn overlapping_windows_add_up() {
    // 30 agents all hour, 30 more from 0:20 to 0:40: 60 logged in during the overlap.
    let sc = Scenario::from_toml(
        "name = \"overlap\"\nduration_s = 3600\ninterval_s = 600\n\
         [arrivals]\nkind = \"poisson\"\nper_min = 10\n\
         [queue]\npatience = { kind = \"exponential\", mean = 60 }\n\
         [agents]\ncount = 0\ntalk = { kind = \"exponential\", mean = 60 }\n\
         shifts = [ { start_s = 0, end_s = 3600, count = 30 }, \
                    { start_s = 1200, end_s = 2400, count = 30 } ]\n",
        "overlap",
        None,
    )
    .unwrap();
    let r = simulate(&sc, 1, &|_| {}).unwrap();
    let staffed: Vec<f64> = r
        .intervals
        .iter()
        .take(6)
        .map(|i| i.agents_staffed.round())
        .collect();
    assert_eq!(staffed, [30.0, 30.0, 60.0, 60.0, 30.0, 30.0]);
}
