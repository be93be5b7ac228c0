//! `Flow::prompts` lists every prompt a flow can play, once each.

use tandem_ivr::Flow;

#[test]
fn the_bank_flow_lists_each_prompt_once() {
    let flow = Flow::from_toml(include_str!("../flows/bank.toml"), "bank.toml").unwrap();
    let prompts = flow.prompts();
    // From the menu announcement, a retry list, a survey's thanks and a hang-up node.
    for p in [
        "bank/welcome",
        "common/no-input",
        "survey/thank-you",
        "common/goodbye",
    ] {
        assert!(
            prompts.iter().any(|x| &**x == p),
            "{p} missing: {prompts:?}"
        );
    }
    let mut sorted = prompts.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, prompts);
    // "bank/lost-card-press-1" is both a menu prompt and its no-input prompt.
    assert_eq!(
        prompts
            .iter()
            .filter(|x| &***x == "bank/lost-card-press-1")
            .count(),
        1
    );
}
