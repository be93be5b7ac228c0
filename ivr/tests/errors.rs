//! A refused flow names the file, the line and the node, and says what is wrong.

use tandem_ivr::{Flow, FlowError, MAX_FLOW_BYTES, MAX_NODES};

fn err(text: &str) -> FlowError {
    match Flow::from_toml(text, "lines.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// A flow whose node `bad` (from line 7) is `body`.
fn with_bad(body: &str) -> String {
    format!(
        "name = \"t\"\nstart = \"m\"\n\n[nodes.m]\nkind = \"goto\"\nnext = \"bad\"\n[nodes.bad]\n{body}\n\n[nodes.end]\nkind = \"hangup\"\n"
    )
}

#[track_caller]
fn expect(e: &FlowError, line: u32, node: Option<&str>, words: &str) {
    assert_eq!(e.file, "lines.toml", "{e}");
    assert_eq!(e.line, Some(line), "{e}");
    assert_eq!(e.node.as_deref(), node, "{e}");
    assert!(e.message.contains(words), "{e} lacks {words:?}");
    let shown = e.to_string();
    assert!(shown.starts_with(&format!("lines.toml:{line}")), "{shown}");
    if let Some(n) = node {
        assert!(shown.contains(&format!("node `{n}`")), "{shown}");
    }
}

#[test]
fn each_problem_is_located() {
    let cases: &[(&str, u32, &str)] = &[
        // The body's lines are 8, 9, 10 … (line 7 is `[nodes.bad]`).
        (
            "kind = \"menu\"\nchoices = { \"1\" = \"end\" }\nbogus = 3",
            10,
            "unknown field `bogus`",
        ),
        ("kind = \"menu\"\ntimeout_ms = \"soon\"", 9, "invalid type"),
        ("kind = \"menu\"\nretries = 300", 9, "invalid value"),
        ("kind = \"carousel\"", 8, "unknown kind `carousel`"),
        (
            "kind = \"play\"\nprompts = [\"a\"]\nchoices = { \"1\" = \"end\" }",
            10,
            "not used by a `play` node",
        ),
        (
            "kind = \"play\"\nprompts = [\"a\"]\nnext = \"nowhere\"",
            10,
            "no node named `nowhere`",
        ),
        (
            "kind = \"menu\"\nchoices = { \"1\" = \"end\" }\ntimeout_ms = 5",
            10,
            "must be 100–600000 ms",
        ),
        (
            "kind = \"menu\"\nchoices = { \"12\" = \"end\" }",
            9,
            "is not a key",
        ),
        (
            "kind = \"menu\"\nprompts = [\"a\"]",
            7,
            "a menu needs choices",
        ),
        (
            "kind = \"collect\"\nvar = \"x\"\nmin_digits = 9\nmax_digits = 4",
            10,
            "min_digits",
        ),
        (
            "kind = \"queue\"\nqueue = \"q\"\ncallback_key = \"1\"",
            10,
            "go together",
        ),
        (
            "kind = \"branch\"\nrules = [\n  { dnis = [\"1\"], next = \"end\" },\n  { time = \"9am\", next = \"end\" },\n]\nelse = \"end\"",
            11,
            "not a range",
        ),
        (
            "kind = \"branch\"\nrules = [{ holiday = \"xmas\", next = \"end\" }]\nelse = \"end\"",
            9,
            "no holiday calendar",
        ),
        (
            "kind = \"set\"\nvar = \"x\"\nvalue = \"1\"\nfrom = \"ani\"\nnext = \"end\"",
            10,
            "exactly one",
        ),
        (
            "kind = \"survey\"\nsurvey = \"s\"\nmax = 12",
            10,
            "1 ≤ min ≤ max ≤ 9",
        ),
        ("kind = \"voicemail\"", 7, "key `mailbox`: required"),
        ("kind = \"transfer\"\ntarget = \"\"", 9, "1–128 bytes"),
    ];
    for (body, line, words) in cases {
        let e = err(&with_bad(body));
        expect(&e, *line, Some("bad"), words);
    }
}

#[test]
fn a_loop_without_input_is_refused_naming_it() {
    let text = r#"name = "t"
start = "a"
[nodes.a]
kind = "play"
prompts = ["x"]
next = "b"
[nodes.b]
kind = "menu"
choices = { "1" = "a" }
on_no_input = "c"
[nodes.c]
kind = "goto"
next = "a"
"#;
    let e = err(text);
    expect(&e, 3, Some("a"), "loop without caller input: a → b → c → a");
    // The same loop broken by a key is fine.
    let ok = text.replace("on_no_input = \"c\"", "on_no_match = \"c\"");
    Flow::from_toml(&ok, "ok.toml").unwrap();
}

#[test]
fn syntax_and_top_level_problems() {
    let e = err("name = \"t\"\nstart = \"m\"\n[nodes.m]\nkind = \"hangup\"\nprompts = [\"a\",\n");
    assert_eq!(e.line, Some(5), "{e}");
    assert_eq!(e.node.as_deref(), Some("m"), "{e}");
    let e = err("name = \"t\"\nstart = \"nope\"\n[nodes.m]\nkind = \"hangup\"\n");
    expect(&e, 2, None, "no node named `nope`");
    let e =
        err("name = \"t\"\nstart = \"m\"\nutc_offset = \"CET\"\n[nodes.m]\nkind = \"hangup\"\n");
    expect(&e, 3, None, "not an offset");
    let e = err(
        "name = \"t\"\nstart = \"m\"\n[holidays]\nnational = [\"2025-02-30\"]\n[nodes.m]\nkind = \"hangup\"\n",
    );
    expect(&e, 4, None, "not a date");
    let e = err("name = \"t\"\nstart = \"m\"\nextra = 1\n[nodes.m]\nkind = \"hangup\"\n");
    expect(&e, 3, None, "unknown field `extra`");
    let e = err("start = \"m\"\n[nodes.m]\nkind = \"hangup\"\n");
    assert!(e.message.contains("missing field `name`"), "{e}");
    let e = err(
        "name = \"t\"\nstart = \"m\"\nnodes.m = { kind = \"menu\", choices = { \"1\" = \"x\" } }\n",
    );
    expect(&e, 3, Some("m"), "no node named `x`");
}

#[test]
fn bounds() {
    let big = format!("name = \"t\"\n# {}\n", "x".repeat(MAX_FLOW_BYTES));
    assert!(err(&big).message.contains("larger than"));
    let mut many = String::from("name = \"t\"\nstart = \"n0\"\n");
    for i in 0..=MAX_NODES {
        many.push_str(&format!("[nodes.n{i}]\nkind = \"hangup\"\n"));
    }
    assert!(err(&many).message.contains("more than 1000 nodes"));
    let mut prompts = with_bad("kind = \"hangup\"\nprompts = [");
    prompts = prompts.replace(
        "prompts = [",
        &format!("prompts = [{}]", vec!["\"p\""; 33].join(",")),
    );
    expect(&err(&prompts), 9, Some("bad"), "more than 32 prompts");
    let e = err(&with_bad(&format!(
        "kind = \"hangup\"\nprompts = [\"{}\"]",
        "p".repeat(129)
    )));
    expect(&e, 9, Some("bad"), "names are 1–128 bytes");
}

#[test]
fn files_are_named_by_their_path() {
    let dir = std::env::temp_dir().join(format!("tandem-ivr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "name = \"t\"\nstart = \"m\"\n[nodes.m]\nkind = \"menu\"\n",
    )
    .unwrap();
    let e = Flow::load(&path).unwrap_err();
    assert_eq!(e.file, path.display().to_string());
    assert_eq!((e.line, e.node.as_deref()), (Some(3), Some("m")));
    let e = Flow::load(&dir.join("missing.toml")).unwrap_err();
    assert!(e.file.ends_with("missing.toml") && e.line.is_none());
    std::fs::write(&path, [0xff, 0xfe]).unwrap();
    assert!(Flow::load(&path).unwrap_err().message.contains("UTF-8"));
    std::fs::remove_dir_all(&dir).unwrap();
}
