//! Tests for the SBPL checker in tests/support/sbpl.rs, and a check of the
//! constant Seatbelt fragments under seatbelt/.

#[path = "support/sbpl.rs"]
mod sbpl;

use sbpl::{Action, Regex, Sexp, allows, lint, parse};

const BASE: &str = include_str!("../seatbelt/base.sb");
const NETWORK: &str = include_str!("../seatbelt/network.sb");
const MINIMAL_READ: &str = include_str!("../seatbelt/minimal_read.sb");
const FINAL: &str = include_str!("../seatbelt/final.sb");

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Lints `body` after a `(version 1) (deny default)` header; panics with the
/// errors on failure.
fn profile(body: &str, params: &[(String, String)]) -> sbpl::Profile {
    let src = format!("(version 1)\n(deny default)\n{body}\n");
    lint(&src, params).unwrap_or_else(|e| panic!("lint failed:\n{}\n---\n{src}", e.join("\n")))
}

/// Lints `src` and returns its errors; panics if it passes.
fn errors(src: &str, params: &[(String, String)]) -> Vec<String> {
    match lint(src, params) {
        Ok(_) => panic!("lint unexpectedly passed:\n{src}"),
        Err(e) => e,
    }
}

fn assert_error(errs: &[String], needle: &str) {
    assert!(
        errs.iter().any(|e| e.contains(needle)),
        "no error containing {needle:?} in {errs:#?}"
    );
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

#[test]
fn parses_lists_symbols_numbers_and_strings() {
    let forms = parse("(allow file-read* (literal \"/x\")) (version 1) #t #f -3").unwrap();
    assert_eq!(forms.len(), 5);
    let items = forms[0].as_list().unwrap();
    assert_eq!(items[0].as_symbol(), Some("allow"));
    assert_eq!(items[1].as_symbol(), Some("file-read*"));
    assert_eq!(items[2].head(), Some("literal"));
    assert_eq!(items[2].as_list().unwrap()[1].as_str(), Some("/x"));
    assert!(matches!(forms[1].as_list().unwrap()[1], Sexp::Number(1, _)));
    assert_eq!(forms[2].as_symbol(), Some("#t"));
    assert_eq!(forms[3].as_symbol(), Some("#f"));
    assert!(matches!(forms[4], Sexp::Number(-3, _)));
}

#[test]
fn string_escapes_are_processed() {
    let forms = parse(r#""a \"b\" \\c" "x\ny\tz\r" "\x41\101\0""#).unwrap();
    assert_eq!(forms[0].as_str(), Some(r#"a "b" \c"#));
    assert_eq!(forms[1].as_str(), Some("x\ny\tz\r"));
    assert_eq!(forms[2].as_str(), Some("AA\0"));
    assert!(matches!(forms[0], Sexp::Str(..)));
}

#[test]
fn unknown_string_escape_is_an_error() {
    let e = parse("(x \"a\\qb\")").unwrap_err();
    assert_eq!((e.line, e.col), (1, 6));
    assert!(e.message.contains("\\q"), "{e}");
    let e = parse(r#""\x4""#).unwrap_err();
    assert!(e.message.contains("hex"), "{e}");
}

#[test]
fn raw_strings_keep_backslashes() {
    let forms = parse(r#"#"^/dev/ttys[0-9]+$" #"\.git" #"a\"b" #"x\\" "after""#).unwrap();
    assert_eq!(forms[0].as_str(), Some("^/dev/ttys[0-9]+$"));
    assert!(matches!(forms[0], Sexp::RawStr(..)));
    assert_eq!(forms[1].as_str(), Some(r"\.git"));
    // `\"` does not end a raw string and is kept verbatim.
    assert_eq!(forms[2].as_str(), Some(r#"a\"b"#));
    // `\\` is a pair, so the following quote ends the string.
    assert_eq!(forms[3].as_str(), Some(r"x\\"));
    assert_eq!(forms[4].as_str(), Some("after"));
    // As a regex, a\"b matches a"b.
    assert!(Regex::new(r#"a\"b"#).unwrap().is_match(r#"a"b"#));
}

#[test]
fn comments_are_skipped() {
    let src = "; line comment (allow\n(a ; trailing )\n b) #| block ( \n still |# (c) \
               #| outer #| nested |# still outer ) |# (d)";
    let forms = parse(src).unwrap();
    let heads: Vec<_> = forms.iter().map(|f| f.head().unwrap()).collect();
    assert_eq!(heads, ["a", "c", "d"]);
    assert_eq!(forms[0].as_list().unwrap().len(), 2);
    // A `;` inside a string is not a comment.
    let forms = parse("(a \"x;y\")").unwrap();
    assert_eq!(forms[0].as_list().unwrap()[1].as_str(), Some("x;y"));
}

#[test]
fn parse_errors_carry_line_and_column() {
    let e = parse("(version 1)\n(allow file-read*\n  (literal \"/x\")\n").unwrap_err();
    assert_eq!((e.line, e.col), (2, 1), "{e}");
    assert!(e.message.contains("unbalanced `(`"), "{e}");

    let e = parse("(a)\n  (b))").unwrap_err();
    assert_eq!((e.line, e.col), (2, 6), "{e}");
    assert!(e.message.contains("unbalanced `)`"), "{e}");

    let e = parse("(a \"open").unwrap_err();
    assert_eq!((e.line, e.col), (1, 4), "{e}");
    assert!(e.message.contains("unterminated string"), "{e}");

    let e = parse("(a)\n #| never closed").unwrap_err();
    assert_eq!((e.line, e.col), (2, 2), "{e}");

    let e = parse("(a #\"open)").unwrap_err();
    assert!(e.message.contains("raw string"), "{e}");

    let e = parse("'(a)").unwrap_err();
    assert!(e.message.contains("quote"), "{e}");
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = parse("(\"é\" ))").unwrap_err();
    assert_eq!((e.line, e.col), (1, 7), "{e}");
}

// ---------------------------------------------------------------------------
// Lint
// ---------------------------------------------------------------------------

#[test]
fn minimal_profile_passes() {
    let prof = profile("(allow file-read* (subpath \"/usr\"))", &[]);
    assert_eq!(prof.rules.len(), 2);
    assert_eq!(prof.rules[0].action, Action::Deny);
    assert_eq!(prof.rules[0].ops, ["default"]);
    assert_eq!(prof.rules[1].action, Action::Allow);
}

#[test]
fn unbalanced_parens_are_reported() {
    let errs = errors("(version 1)\n(deny default\n", &[]);
    assert_error(&errs, "line 2, column 1: unbalanced `(`");
    let errs = errors("(version 1)\n(deny default))\n", &[]);
    assert_error(&errs, "line 2, column 15: unbalanced `)`");
}

#[test]
fn version_must_come_first() {
    assert_error(
        &errors("(deny default)\n(version 1)", &[]),
        "first form must be (version 1)",
    );
    assert_error(
        &errors("(version 2)\n(deny default)", &[]),
        "first form must be (version 1)",
    );
    assert_error(
        &errors("(version 1)\n(version 1)", &[]),
        "may only appear once",
    );
    assert_error(&errors("", &[]), "profile is empty");
    assert_error(&errors("; only a comment\n", &[]), "profile is empty");
    // Comments before the version form are fine.
    lint("; header\n#| block |#\n(version 1)\n(deny default)", &[]).unwrap();
}

#[test]
fn only_version_allow_deny_at_top_level() {
    let errs = errors("(version 1)\n(import \"system.sb\")", &[]);
    assert_error(&errs, "line 2, column 1: `import` is not allowed");
    let errs = errors("(version 1)\n(define x \"/y\")\n(debug deny)\nfoo", &[]);
    assert_error(&errs, "unsupported top-level form `define`");
    assert_error(&errs, "unsupported top-level form `debug`");
    assert_error(&errs, "line 4, column 1: top-level forms must be lists");
}

#[test]
fn unknown_operation_is_reported() {
    let errs = errors("(version 1)\n(allow file-write-everything)", &[]);
    assert_error(
        &errs,
        "line 2, column 8: unknown operation `file-write-everything`",
    );
    let errs = errors(
        "(version 1)\n(allow file-read* file-wirte* (subpath \"/x\"))",
        &[],
    );
    assert_error(&errs, "unknown operation `file-wirte*`");
    let errs = errors("(version 1)\n(allow (subpath \"/x\"))", &[]);
    assert_error(&errs, "rule names no operation");
    let errs = errors("(version 1)\n(allow (subpath \"/x\") file-read*)", &[]);
    assert_error(&errs, "operation `file-read*` after a filter");
    let errs = errors("(version 1)\n(allow \"file-read*\")", &[]);
    assert_error(&errs, "expected an operation name");
}

#[test]
fn every_listed_operation_is_accepted() {
    for op in sbpl::KNOWN_OPERATIONS {
        lint(&format!("(version 1)\n(deny {op})"), &[]).unwrap_or_else(|e| panic!("{op}: {e:?}"));
    }
}

#[test]
fn unknown_filter_is_reported() {
    let errs = errors("(version 1)\n(allow file-read* (subpaths \"/x\"))", &[]);
    assert_error(&errs, "line 2, column 19: unknown filter `subpaths`");
    let errs = errors(
        "(version 1)\n(allow file-read* (require-all (literal \"/x\") (globbing \"*\")))",
        &[],
    );
    assert_error(&errs, "unknown filter `globbing`");
    let errs = errors("(version 1)\n(allow file-read* \"/x\")", &[]);
    assert_error(&errs, "expected an operation name or a filter list");
    let errs = errors(
        "(version 1)\n(allow file-read* (param \"X\"))",
        &p(&[("X", "/x")]),
    );
    assert_error(&errs, "string expression, not a filter");
}

#[test]
fn malformed_filters_are_reported() {
    let cases = [
        (
            "(allow file-read* (literal \"/a\" \"/b\"))",
            "takes exactly one argument",
        ),
        ("(allow file-read* (subpath))", "takes exactly one argument"),
        (
            "(allow file-read* (subpath sym))",
            "expected a string expression",
        ),
        (
            "(allow file-read* (require-not))",
            "`require-not` takes exactly one filter",
        ),
        (
            "(allow file-read* (require-all))",
            "needs at least one filter",
        ),
        ("(allow signal (target everyone))", "`target` takes one of"),
        (
            "(allow file-read* (vnode-type WEIRD))",
            "unknown vnode type",
        ),
        (
            "(allow network-outbound (remote carrier-pigeon \"*:*\"))",
            "must start with one of",
        ),
        (
            "(deny file-ioctl (ioctl-command \"TIOCSTI\"))",
            "non-negative decimal",
        ),
        (
            "(allow file-read* (with no-sandbox))",
            "unknown or missing `with` modifier",
        ),
        ("(allow file-read* (regex #\"\\d+\"))", "not supported"),
        ("(allow file-read* (regex #\"(a\"))", "unclosed `(`"),
        (
            "(allow file-read* (literal \"relative/path\"))",
            "is not absolute",
        ),
        ("(allow file-read* (subpath \"/repo/\"))", "ends with `/`"),
        (
            "(allow file-read* (subpath \"/repo/../etc\"))",
            "not canonical",
        ),
        ("(allow file-read* (literal \"/a//b\"))", "not canonical"),
    ];
    for (rule, needle) in cases {
        let errs = errors(&format!("(version 1)\n{rule}"), &[]);
        assert_error(&errs, needle);
    }
    // Accepted forms of the same filters.
    profile(
        "(allow signal (target same-sandbox))\n\
         (allow network-outbound (remote ip \"localhost:*\"))\n\
         (allow network-outbound (remote unix-socket (path-literal \"/private/var/run/mDNSResponder\")))\n\
         (deny file-ioctl (ioctl-command 2147578994))\n\
         (allow file-read* (subpath \"/\"))\n\
         (allow file-read* (prefix \"/tmp/cordon-\"))\n\
         (deny file-write* (subpath \"/x\") (with no-report))\n\
         (allow file-write-data (require-all (literal \"/dev/null\") (vnode-type CHARACTER-DEVICE)))",
        &[],
    );
}

#[test]
fn params_must_be_defined_and_used() {
    let src = "(version 1)\n(allow file-write* (subpath (param \"ROOT\")))";
    let errs = errors(src, &[]);
    assert_error(
        &errs,
        "line 2, column 29: (param \"ROOT\") has no matching -D ROOT=VALUE",
    );

    let errs = errors(src, &p(&[("ROOT", "/r"), ("EXTRA", "/e")]));
    assert_error(
        &errs,
        "-D EXTRA=... is defined but no (param \"EXTRA\") uses it",
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");

    let prof = lint(src, &p(&[("ROOT", "/r")])).unwrap();
    assert_eq!(prof.params_used.iter().collect::<Vec<_>>(), ["ROOT"]);

    // Parameters used only inside string-append and require-not count too.
    lint(
        "(version 1)\n(allow file-read* (require-not (literal (string-append (param \"A\") \"/x\"))))",
        &p(&[("A", "/a")]),
    )
    .unwrap();
}

#[test]
fn malformed_params_are_reported() {
    let src = "(version 1)\n(allow file-write* (subpath (param \"ROOT\")))";
    assert_error(
        &errors(src, &p(&[("ROOT", "/a"), ("ROOT", "/b")])),
        "defined more than once",
    );
    assert_error(
        &errors(src, &p(&[("ROOT", "/a"), ("BAD=KEY", "/b")])),
        "parameter names must match",
    );
    assert_error(&errors(src, &p(&[("ROOT", "/a\0b")])), "NUL");
    assert_error(
        &errors("(version 1)\n(allow file-read* (literal (param 7)))", &[]),
        "`param` name must be a string literal",
    );
    // A -D value is checked like a path when it is used as one.
    assert_error(&errors(src, &p(&[("ROOT", "relative")])), "is not absolute");
}

#[test]
fn control_characters_are_rejected() {
    for (lit, code) in [
        ("\"/a\\nb\"", "U+000A"),
        ("\"/a\\tb\"", "U+0009"),
        ("\"/a\\x1bb\"", "U+001B"),
        ("\"/a\\177b\"", "U+007F"),
        ("\"/a\nb\"", "U+000A"),
        ("#\"^/a\tb\"", "U+0009"),
    ] {
        let errs = errors(
            &format!("(version 1)\n(allow file-read* (literal {lit}))"),
            &[],
        );
        assert_error(
            &errs,
            &format!("line 2, column 28: string contains control character {code}"),
        );
    }
    // Control characters in comments are not string literals.
    lint("(version 1)\n; tab\there\n(deny default)", &[]).unwrap();
}

#[test]
fn long_strings_are_rejected() {
    let ok = format!("/{}", "a".repeat(899));
    assert_eq!(ok.len(), 900);
    profile(&format!("(allow file-read* (literal \"{ok}\"))"), &[]);

    let long = format!("/{}", "a".repeat(900));
    let errs = errors(
        &format!("(version 1)\n(allow file-read* (literal \"{long}\"))"),
        &[],
    );
    assert_error(&errs, "string is 901 bytes long; the limit is 900");

    // Multi-byte characters count as bytes.
    let wide = format!("/{}", "é".repeat(450));
    assert_eq!(wide.len(), 901);
    assert_error(
        &errors(
            &format!("(version 1)\n(allow file-read* (literal \"{wide}\"))"),
            &[],
        ),
        "901 bytes",
    );

    // So do -D values.
    let errs = errors(
        "(version 1)\n(allow file-read* (subpath (param \"R\")))",
        &p(&[("R", &long)]),
    );
    assert_error(&errs, "-D R: value is 901 bytes long");
}

#[test]
fn lint_reports_several_errors_at_once() {
    let errs = errors(
        "(version 1)\n(allow bogus-op)\n(allow file-read* (bogus-filter \"x\"))\n(import \"x\")",
        &[],
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
}

// ---------------------------------------------------------------------------
// Evaluator
// ---------------------------------------------------------------------------

#[test]
fn deny_default_denies_everything() {
    let prof = profile("", &[]);
    for op in [
        "file-read-data",
        "file-write*",
        "network-outbound",
        "process-exec",
    ] {
        assert!(!allows(&prof, &[], op, "/anything"), "{op}");
    }
    // Without any rule at all, the evaluator still starts from deny.
    let empty = lint("(version 1)", &[]).unwrap();
    assert!(!allows(&empty, &[], "file-read-data", "/x"));
}

#[test]
fn last_match_wins() {
    let prof = profile(
        "(allow file-write* (subpath \"/r\"))\n\
         (deny file-write* (subpath \"/r/locked\"))\n\
         (allow file-write* (literal \"/r/locked/ok\"))",
        &[],
    );
    assert!(allows(&prof, &[], "file-write-data", "/r/a"));
    assert!(!allows(&prof, &[], "file-write-data", "/r/locked"));
    assert!(!allows(&prof, &[], "file-write-data", "/r/locked/x"));
    assert!(allows(&prof, &[], "file-write-data", "/r/locked/ok"));
    assert!(!allows(&prof, &[], "file-write-data", "/s"));
    assert_eq!(
        sbpl::deciding_rule(&prof, &[], "file-write-data", "/r/locked/x"),
        Some(2)
    );
    assert_eq!(
        sbpl::deciding_rule(&prof, &[], "file-write-data", "/s"),
        Some(0)
    );

    // A later broad deny overrides an earlier specific allow.
    let prof = profile(
        "(allow file-read* (literal \"/etc/hosts\"))\n(deny file*)",
        &[],
    );
    assert!(!allows(&prof, &[], "file-read-data", "/etc/hosts"));

    // `(allow default)` after the deny flips everything.
    let prof = profile("(allow default)\n(deny network*)", &[]);
    assert!(allows(&prof, &[], "file-write-data", "/x"));
    assert!(!allows(&prof, &[], "network-outbound", ""));
}

#[test]
fn operation_wildcards() {
    let prof = profile(
        "(allow file-write* (subpath \"/w\"))\n\
         (allow file-read-data (subpath \"/d\"))\n\
         (allow file* (subpath \"/all\"))",
        &[],
    );
    for op in [
        "file-write*",
        "file-write-data",
        "file-write-create",
        "file-write-unlink",
        "file-write-mode",
        "file-write-xattr",
    ] {
        assert!(allows(&prof, &[], op, "/w/x"), "{op}");
    }
    assert!(!allows(&prof, &[], "file-read-data", "/w/x"));
    assert!(allows(&prof, &[], "file-read-data", "/d/x"));
    assert!(!allows(&prof, &[], "file-read-metadata", "/d/x"));
    // A rule for one member does not grant the whole family.
    assert!(!allows(&prof, &[], "file-read*", "/d/x"));
    for op in [
        "file-read*",
        "file-read-metadata",
        "file-write*",
        "file-ioctl",
        "file-map-executable",
    ] {
        assert!(allows(&prof, &[], op, "/all/x"), "{op}");
    }
    assert!(!allows(&prof, &[], "process-exec", "/all/x"));
    assert!(sbpl::op_covers("default", "mach-lookup"));
    assert!(sbpl::op_covers("process-exec*", "process-exec"));
    assert!(!sbpl::op_covers("file-write-data", "file-write-create"));
}

#[test]
#[should_panic(expected = "unknown operation \"file-writ-data\"")]
fn evaluating_an_unknown_operation_panics() {
    let prof = profile("", &[]);
    allows(&prof, &[], "file-writ-data", "/x");
}

#[test]
fn subpath_is_not_a_string_prefix() {
    let prof = profile("(allow file-write* (subpath \"/repo\"))", &[]);
    assert!(allows(&prof, &[], "file-write-data", "/repo"));
    assert!(allows(&prof, &[], "file-write-data", "/repo/a"));
    assert!(allows(&prof, &[], "file-write-data", "/repo/a/b/c"));
    assert!(!allows(&prof, &[], "file-write-data", "/repo2"));
    assert!(!allows(&prof, &[], "file-write-data", "/repo2/a"));
    assert!(!allows(&prof, &[], "file-write-data", "/rep"));
    assert!(!allows(&prof, &[], "file-write-data", "/"));

    let prof = profile("(allow file-write* (prefix \"/repo\"))", &[]);
    assert!(allows(&prof, &[], "file-write-data", "/repo2"));
    assert!(allows(&prof, &[], "file-write-data", "/repo/a"));
    assert!(!allows(&prof, &[], "file-write-data", "/rep"));

    let prof = profile("(allow file-write* (subpath \"/\"))", &[]);
    assert!(allows(&prof, &[], "file-write-data", "/"));
    assert!(allows(&prof, &[], "file-write-data", "/anything/at/all"));

    let prof = profile("(allow file-write* (literal \"/repo\"))", &[]);
    assert!(allows(&prof, &[], "file-write-data", "/repo"));
    assert!(!allows(&prof, &[], "file-write-data", "/repo/a"));
}

#[test]
fn several_filters_in_a_rule_are_alternatives() {
    let prof = profile(
        "(allow file-read* (literal \"/a\") (subpath \"/b\") (regex #\"^/c[0-9]$\"))",
        &[],
    );
    for yes in ["/a", "/b", "/b/x", "/c1"] {
        assert!(allows(&prof, &[], "file-read-data", yes), "{yes}");
    }
    for no in ["/a/x", "/bb", "/c", "/c12", "/d"] {
        assert!(!allows(&prof, &[], "file-read-data", no), "{no}");
    }
}

#[test]
fn require_not_carves_git_out_of_a_root() {
    let params = p(&[("ROOT", "/work/root")]);
    let prof = profile(
        "(allow file-write*\n\
           (require-all\n\
             (subpath (param \"ROOT\"))\n\
             (require-not (literal (string-append (param \"ROOT\") \"/.git\")))\n\
             (require-not (subpath (string-append (param \"ROOT\") \"/.git\")))))",
        &params,
    );
    let w = |path: &str| allows(&prof, &params, "file-write-data", path);
    assert!(w("/work/root"));
    assert!(w("/work/root/a"));
    assert!(w("/work/root/src/main.rs"));
    assert!(!w("/work/root/.git"));
    assert!(!w("/work/root/.git/config"));
    assert!(!w("/work/root/.git/objects/ab/cdef"));
    assert!(w("/work/root/.gitignore"));
    assert!(w("/work/root/.github/workflows/ci.yml"));
    assert!(
        w("/work/root/sub/.git/config"),
        "only the root's .git is carved out"
    );
    assert!(!w("/work/root2"));
    assert!(!w("/work"));
}

#[test]
fn require_any_and_nested_combinators() {
    let prof = profile(
        "(allow file-read*\n\
           (require-all\n\
             (require-any (subpath \"/a\") (subpath \"/b\"))\n\
             (require-not (require-any (regex #\"\\.key$\") (literal \"/b/secret\")))))",
        &[],
    );
    let r = |path: &str| allows(&prof, &[], "file-read-data", path);
    assert!(r("/a/x"));
    assert!(r("/b/x"));
    assert!(!r("/c/x"));
    assert!(!r("/a/id.key"));
    assert!(!r("/b/secret"));
    assert!(r("/b/secret/inner"));
    assert!(r("/a/key"));
}

#[test]
fn literal_escapes_reach_the_evaluator() {
    let prof = profile(r#"(allow file-read* (literal "/tmp/a \"b\" \\c"))"#, &[]);
    assert!(allows(&prof, &[], "file-read-data", r#"/tmp/a "b" \c"#));
    assert!(!allows(&prof, &[], "file-read-data", r#"/tmp/a \"b\" \\c"#));

    // quote() produces a literal that round-trips.
    let weird = r#"/tmp/q"uo\te d/x"#;
    let prof = profile(
        &format!("(allow file-read* (literal {}))", sbpl::quote(weird)),
        &[],
    );
    assert!(allows(&prof, &[], "file-read-data", weird));
}

#[test]
fn param_values_with_quotes_backslashes_and_spaces() {
    let root = r#"/Users/me/My Projects/a "b" \c"#;
    let params = p(&[("ROOT", root)]);
    let prof = profile(
        "(allow file-write* (subpath (param \"ROOT\")))\n\
         (deny file-write* (literal (string-append (param \"ROOT\") \"/locked file\")))",
        &params,
    );
    let w = |path: &str| allows(&prof, &params, "file-write-data", path);
    assert!(w(root));
    assert!(w(&format!("{root}/x y")));
    assert!(!w(&format!("{root}/locked file")));
    assert!(!w(r#"/Users/me/My Projects/a "b" \c2"#));
    assert!(!w(r#"/Users/me/My Projects/a \"b\" \\c/x"#));
    // The same profile evaluated with another value follows the new value.
    let other = p(&[("ROOT", "/elsewhere")]);
    assert!(allows(&prof, &other, "file-write-data", "/elsewhere/x"));
    assert!(!allows(
        &prof,
        &other,
        "file-write-data",
        &format!("{root}/x")
    ));
}

#[test]
#[should_panic(expected = "parameter \"ROOT\" has no -D definition")]
fn evaluating_without_a_needed_param_panics() {
    let params = p(&[("ROOT", "/r")]);
    let prof = profile("(allow file-write* (subpath (param \"ROOT\")))", &params);
    allows(&prof, &[], "file-write-data", "/r/x");
}

#[test]
fn non_path_filters_never_match_paths() {
    let prof = profile(
        "(allow file-read* (sysctl-name \"/x\") (global-name \"/x\") (target self)\n\
           (extension \"com.apple.app-sandbox.read\"))\n\
         (allow sysctl-read (sysctl-name \"hw.ncpu\"))\n\
         (allow network-outbound)",
        &[],
    );
    assert!(!allows(&prof, &[], "file-read-data", "/x"));
    assert!(!allows(&prof, &[], "sysctl-read", "hw.ncpu"));
    assert!(allows(&prof, &[], "network-outbound", ""));
    // require-not of a non-path filter matches every path.
    let prof = profile("(allow file-read* (require-not (global-name \"x\")))", &[]);
    assert!(allows(&prof, &[], "file-read-data", "/anything"));
}

#[test]
#[should_panic(expected = "vnode-type")]
fn evaluating_vnode_type_panics() {
    let prof = profile(
        "(allow file-write-data (require-all (literal \"/dev/null\") (vnode-type CHARACTER-DEVICE)))",
        &[],
    );
    allows(&prof, &[], "file-write-data", "/dev/null");
}

#[test]
fn vnode_type_is_not_consulted_when_not_needed() {
    let prof = profile(
        "(allow file-write-data (require-all (literal \"/dev/null\") (vnode-type CHARACTER-DEVICE)))",
        &[],
    );
    // `require-all` stops at the first false filter, and other operations
    // never reach the rule's filters.
    assert!(!allows(&prof, &[], "file-write-data", "/dev/zero"));
    assert!(!allows(&prof, &[], "file-read-data", "/dev/null"));
}

// ---------------------------------------------------------------------------
// Regex engine
// ---------------------------------------------------------------------------

#[test]
fn regex_engine() {
    let cases: &[(&str, &str, bool)] = &[
        ("^/dev/ttys[0-9]+$", "/dev/ttys003", true),
        ("^/dev/ttys[0-9]+$", "/dev/ttys", false),
        ("^/dev/ttys[0-9]+$", "/dev/ttys003x", false),
        ("^/dev/ttys[0-9]+", "/dev/ttys003x", true),
        ("/\\.git$", "/a/b/.git", true),
        ("/\\.git$", "/a/b/xgit", false),
        ("/\\.git$", "/a/.git/x", false),
        ("\\.env", "/x/.env.local", true),
        ("^/a.c$", "/abc", true),
        ("^/a.c$", "/ac", false),
        ("^/ab?c$", "/ac", true),
        ("^/ab?c$", "/abbc", false),
        ("^/ab*c$", "/abbbc", true),
        ("^/ab+c$", "/ac", false),
        ("^/(foo|bar)/x$", "/bar/x", true),
        ("^/(foo|bar)/x$", "/baz/x", false),
        ("^/(a|ab)(c|bcd)$", "/abcd", true),
        ("^/[^/]*$", "/file", true),
        ("^/[^/]*$", "/dir/file", false),
        ("^/[]a]+$", "/]a]", true),
        ("^/[a\\-z]$", "/-", true),
        ("^/[a-]$", "/-", true),
        ("^/x{2}$", "/xx", true),
        ("^/x{2}$", "/xxx", false),
        ("^/x{2,}$", "/xxxx", true),
        ("^/x{1,2}$", "/xxx", false),
        ("^/(a*)*$", "/aaab", false),
        ("^/(a*)*b$", "/aaab", true),
        ("^$", "", true),
        ("", "/anything", true),
        ("a|^/b", "/bc", true),
        ("^/é+$", "/éé", true),
    ];
    for &(pat, input, want) in cases {
        let re = Regex::new(pat).unwrap_or_else(|e| panic!("{pat}: {e}"));
        assert_eq!(re.is_match(input), want, "{pat:?} on {input:?}");
    }
    for bad in [
        "(a",
        "a)",
        "[a",
        "*a",
        "a{2",
        "a{3,1}",
        "\\d",
        "(?:a)",
        "[[:alpha:]]",
        "a\\",
        "^*",
    ] {
        assert!(Regex::new(bad).is_err(), "{bad:?} should be rejected");
    }
}

// ---------------------------------------------------------------------------
// The Seatbelt fragments
// ---------------------------------------------------------------------------

fn fragments() -> String {
    format!("{BASE}\n{NETWORK}\n{MINIMAL_READ}\n{FINAL}")
}

#[test]
fn fragments_lint_cleanly() {
    let all = lint(&fragments(), &[]).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    assert!(all.params_used.is_empty());
    // Each combination the generator can emit lints on its own too.
    for combo in [
        BASE.to_string(),
        format!("{BASE}\n{NETWORK}"),
        format!("{BASE}\n{MINIMAL_READ}"),
    ] {
        lint(&combo, &[]).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    }
}

#[test]
fn fragments_are_shaped_for_concatenation() {
    assert!(BASE.starts_with("(version 1)\n"));
    let base = parse(BASE).unwrap();
    assert_eq!(base[1].head(), Some("deny"));
    assert_eq!(base[1].as_list().unwrap()[1].as_symbol(), Some("default"));
    for (name, text) in [
        ("network.sb", NETWORK),
        ("minimal_read.sb", MINIMAL_READ),
        ("final.sb", FINAL),
    ] {
        for form in parse(text).unwrap() {
            assert!(
                matches!(form.head(), Some("allow" | "deny")),
                "{name}: top-level form at {} is not allow/deny",
                form.pos()
            );
        }
    }
    // Fragments name no user path: no (param ...), which lint would also
    // reject without a matching -D.
    for (name, text) in [
        ("base.sb", BASE.to_string()),
        ("network.sb", format!("(version 1)\n{NETWORK}")),
        ("minimal_read.sb", format!("(version 1)\n{MINIMAL_READ}")),
        ("final.sb", format!("(version 1)\n{FINAL}")),
    ] {
        let prof = lint(&text, &[]).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(
            prof.params_used.is_empty(),
            "{name} must not reference params"
        );
    }
}

/// Every path the fragments name is a fixed system path.
#[test]
fn fragments_name_only_system_paths() {
    fn walk(e: &Sexp, out: &mut Vec<String>) {
        if let Some(items) = e.as_list() {
            if matches!(e.head(), Some("literal" | "subpath" | "prefix" | "path")) {
                out.push(items[1].as_str().unwrap().to_owned());
            }
            items.iter().for_each(|i| walk(i, out));
        }
    }
    let mut paths = Vec::new();
    for form in parse(&fragments()).unwrap() {
        walk(&form, &mut paths);
    }
    assert!(paths.len() > 40);
    let system_roots = [
        "/System",
        "/usr",
        "/bin",
        "/sbin",
        "/dev",
        "/private/etc",
        "/private/var/db",
        "/private/var/run",
        "/private/var/select",
        "/Library/Apple",
        "/Library/Developer/CommandLineTools",
        "/Library/Preferences/Logging",
    ];
    let ancestors = [
        "/",
        "/etc",
        "/var",
        "/tmp",
        "/private",
        "/private/var",
        "/Library",
        "/Library/Developer",
        "/Library/Preferences",
    ];
    for path in &paths {
        let under_root = system_roots
            .iter()
            .any(|r| path == r || path.starts_with(&format!("{r}/")));
        assert!(
            under_root || ancestors.contains(&path.as_str()),
            "unexpected path in a fragment: {path}"
        );
        for forbidden in [
            "/Users",
            "/Volumes",
            "/private/var/folders",
            "/private/tmp",
            "/opt",
            "/usr/local",
        ] {
            assert!(
                path != forbidden && !path.starts_with(&format!("{forbidden}/")),
                "{path} reaches user data ({forbidden})"
            );
        }
    }
}

#[test]
fn base_fragment_semantics() {
    let base = lint(BASE, &[]).unwrap();
    let a = |op: &str, path: &str| allows(&base, &[], op, path);

    assert!(a("process-exec", "/bin/sh"));
    assert!(a("process-fork", ""));
    assert!(!a("network-outbound", ""));
    assert!(!a("user-preference-read", ""));
    assert!(!a("mach-register", ""));
    assert!(!a("sysctl-write", ""));
    // The one sysctl "write" is Java's read of kern.grade_cputype (issue 17).
    // (The evaluator matches no sysctl names, so the text is checked.)
    assert_eq!(BASE.matches("(allow sysctl-write").count(), 1);
    assert!(BASE.contains("(allow sysctl-write\n  (sysctl-name \"kern.grade_cputype\"))"));
    // mach-host* for os.cpus(); the host-priv port its set operations need
    // stays denied.
    assert!(a("mach-host*", ""));
    assert!(!a("mach-priv-host-port", ""));
    assert!(!a("mach-priv-task-port", ""));
    // No reads or writes of ordinary files: those come from the generator.
    for path in [
        "/",
        "/etc/passwd",
        "/private/etc/passwd",
        "/usr/lib/libSystem.B.dylib",
        "/Users/me/x",
    ] {
        assert!(!a("file-read-data", path), "{path}");
        assert!(!a("file-read-metadata", path), "{path}");
        assert!(!a("file-write-data", path), "{path}");
    }
    // Devices.
    for dev in [
        "/dev/null",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/dev/tty",
        "/dev/fd/3",
    ] {
        assert!(a("file-read-data", dev), "{dev}");
        assert!(a("file-write-data", dev), "{dev}");
        assert!(!a("file-write-unlink", dev), "{dev}");
    }
    assert!(a("file-write-data", "/dev/fd"));
    assert!(!a("file-write-data", "/dev/fdx"));
    assert!(!a("file-write-data", "/dev/disk0"));
    assert!(!a("file-read-data", "/dev/bpf0"));
    // Terminals.
    assert!(a("pseudo-tty", ""));
    for tty in ["/dev/ptmx", "/dev/ttys000", "/dev/ttys123"] {
        assert!(a("file-read-data", tty), "{tty}");
        assert!(a("file-write-data", tty), "{tty}");
        assert!(a("file-ioctl", tty), "{tty}");
    }
    assert!(!a("file-write-data", "/dev/ttys"));
    assert!(!a("file-write-data", "/dev/ttys1/x"));
    assert!(!a("file-write-data", "/dev/ttyp0"));
    // Unfiltered allows that base must not contain.
    for op in [
        "file-read-metadata",
        "file-read*",
        "user-preference-read",
        "mach-lookup",
        "sysctl-read",
    ] {
        assert!(
            base.rules.iter().all(|r| !(r.action == Action::Allow
                && r.filters.is_empty()
                && r.ops.iter().any(|o| o == op))),
            "base.sb has an unfiltered (allow {op})"
        );
    }
    assert!(base.rules_naming("user-preference-read").is_empty());
    assert!(base.rules_naming("file-read-metadata").is_empty());
    assert_eq!(base.rules_naming("ipc-posix-sem").len(), 1);
    assert_eq!(base.rules_naming("ipc-posix-shm*").len(), 1);
    // TIOCSTI is denied by final.sb, after the terminal ioctl allows.
    assert!(
        base.rules_naming("file-ioctl")
            .iter()
            .all(|r| r.action == Action::Allow)
    );
    let with_final = lint(&format!("{BASE}\n{FINAL}"), &[]).unwrap();
    let ioctl_rules: Vec<_> = with_final
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.ops.iter().any(|o| o == "file-ioctl"))
        .collect();
    let (last_idx, last) = ioctl_rules.last().unwrap();
    assert_eq!(last.action, Action::Deny);
    assert!(
        ioctl_rules
            .iter()
            .all(|(i, r)| r.action == Action::Deny || i < last_idx)
    );
}

#[test]
fn base_sysctls_and_mach_services() {
    let forms = parse(BASE).unwrap();
    let mut names = Vec::new();
    let mut prefixes = Vec::new();
    let mut services = Vec::new();
    for form in &forms {
        for item in form.as_list().unwrap() {
            match item.head() {
                Some("sysctl-name") => names.push(item.as_list().unwrap()[1].as_str().unwrap()),
                Some("sysctl-name-prefix") => {
                    prefixes.push(item.as_list().unwrap()[1].as_str().unwrap())
                }
                Some("global-name") => services.push(item.as_list().unwrap()[1].as_str().unwrap()),
                _ => {}
            }
        }
    }
    for want in [
        "hw.ncpu",
        "hw.activecpu",
        "hw.logicalcpu",
        "hw.physicalcpu",
        "hw.memsize",
        "hw.pagesize",
        "hw.cachelinesize",
        "hw.machine",
        "hw.model",
        "machdep.cpu.brand_string",
        "kern.ostype",
        "kern.osrelease",
        "kern.osversion",
        "kern.osproductversion",
        "kern.version",
        "kern.hostname",
        "kern.maxfilesperproc",
        "kern.argmax",
        "kern.boottime",
        "kern.usrstack64",
        "sysctl.proc_translated",
    ] {
        assert!(names.contains(&want), "missing sysctl {want}");
    }
    for want in ["hw.optional.", "machdep.cpu.", "kern.proc.pid."] {
        assert!(prefixes.contains(&want), "missing sysctl prefix {want}");
    }
    assert!(services.contains(&"com.apple.system.opendirectoryd.libinfo"));
    assert!(
        services.len() <= 4,
        "base mach-lookup list grew: {services:?}"
    );
}

#[test]
fn network_fragment_semantics() {
    let base = lint(BASE, &[]).unwrap();
    let net = lint(&format!("{BASE}\n{NETWORK}"), &[]).unwrap();
    for op in [
        "network-outbound",
        "network-inbound",
        "network-bind",
        "system-socket",
    ] {
        assert!(!allows(&base, &[], op, ""), "{op} without network.sb");
        assert!(allows(&net, &[], op, ""), "{op} with network.sb");
    }
    // Outbound to the mDNSResponder socket, by path.
    assert!(allows(
        &net,
        &[],
        "network-outbound",
        "/private/var/run/mDNSResponder"
    ));
    for file in [
        "/private/var/run/resolv.conf",
        "/private/etc/hosts",
        "/private/etc/ssl/cert.pem",
        "/private/etc/ssl/openssl.cnf",
    ] {
        assert!(allows(&net, &[], "file-read-data", file), "{file}");
        assert!(!allows(&net, &[], "file-write-data", file), "{file}");
    }
    assert!(allows(&net, &[], "file-read-metadata", "/etc"));
    assert!(!allows(
        &net,
        &[],
        "file-read-data",
        "/private/etc/master.passwd"
    ));
    assert!(!allows(
        &net,
        &[],
        "file-read-data",
        "/private/etc/ssh/ssh_host_ed25519_key"
    ));
    let services: Vec<String> = parse(NETWORK)
        .unwrap()
        .iter()
        .flat_map(|f| f.as_list().unwrap().to_vec())
        .filter(|i| i.head() == Some("global-name"))
        .map(|i| i.as_list().unwrap()[1].as_str().unwrap().to_owned())
        .collect();
    for want in [
        "com.apple.dnssd.service",
        "com.apple.trustd.agent",
        "com.apple.SystemConfiguration.configd",
    ] {
        assert!(services.iter().any(|s| s == want), "missing {want}");
    }
    for never in [
        "com.apple.SecurityServer",
        "com.apple.securityd.xpc",
        "com.apple.nsurlsessiond",
    ] {
        assert!(
            !services.iter().any(|s| s == never),
            "{never} must not be reachable"
        );
    }
}

#[test]
fn minimal_read_fragment_semantics() {
    let prof = lint(&format!("{BASE}\n{MINIMAL_READ}"), &[]).unwrap();
    let r = |path: &str| allows(&prof, &[], "file-read-data", path);
    let m = |path: &str| allows(&prof, &[], "file-read-metadata", path);

    for yes in [
        "/System/Library/Frameworks/Foundation.framework/Foundation",
        "/System/Library/dyld/dyld_shared_cache_arm64e",
        "/System/Cryptexes/OS",
        "/System/Volumes/Preboot/Cryptexes/OS/System/Library/dyld/dyld_shared_cache_arm64e",
        "/usr/lib/libSystem.B.dylib",
        "/usr/bin/env",
        "/bin/sh",
        "/bin/zsh",
        "/usr/sbin/sysctl",
        "/sbin/ping",
        "/usr/libexec/path_helper",
        "/usr/share/terminfo/78/xterm-256color",
        "/Library/Apple/usr/libexec/oah/libRosettaRuntime",
        "/Library/Developer/CommandLineTools/usr/bin/git",
        "/Library/Preferences/Logging/com.apple.diagnosticd.filter.plist",
        "/private/etc/passwd",
        "/private/etc/localtime",
        "/private/etc/zshrc",
        "/private/etc/zshrc_Apple_Terminal",
        "/private/etc/paths.d/10-cryptex",
        "/private/var/db/timezone/zoneinfo/Europe/Paris",
        "/private/var/db/dyld/dyld_shared_cache_x86_64h",
        "/private/var/db/xcode_select_link",
        "/private/var/select/sh",
        "/dev/null",
        "/",
    ] {
        assert!(r(yes), "should read {yes}");
    }
    for no in [
        "/Users/me/.ssh/id_ed25519",
        "/System/Volumes/Data/Users/me/.ssh/id_ed25519",
        "/System/Volumes/Data/private/var/folders/xy/T/secret",
        "/System/Volumes/Preboot/other",
        "/Volumes/USB/file",
        "/Applications/Xcode.app/Contents/Info.plist",
        "/Library/Keychains/System.keychain",
        "/Library/Preferences/com.apple.loginwindow.plist",
        "/opt/homebrew/bin/python3",
        "/usr/local/bin/node",
        "/private/var/folders/xy/T/x",
        "/private/tmp/x",
        "/private/etc/master.passwd",
        "/private/etc/sudoers",
        "/private/etc/zshrc_evil",
        "/private/var/db/sudo/ts/me",
        "/private/var/root/.ssh/id_rsa",
        "/etc/passwd",
        "/dev/disk0",
    ] {
        assert!(!r(no), "should not read {no}");
    }
    // Ancestors: metadata only, and no blanket metadata.
    for anc in [
        "/",
        "/private",
        "/private/var",
        "/etc",
        "/var",
        "/tmp",
        "/usr",
        "/Library",
        "/System/Volumes",
    ] {
        assert!(m(anc), "metadata of {anc}");
    }
    assert!(!r("/private"));
    assert!(!r("/Library"));
    assert!(!m("/Users"));
    assert!(!m("/Users/me/.ssh/id_ed25519"));
    assert!(!m("/System/Volumes/Data/Users"));
    for dev in [
        "/dev",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/tty",
        "/dev/ttys004",
    ] {
        assert!(m(dev), "metadata of {dev}");
    }
    assert!(!m("/dev/disk0"));
    // Nothing here grants writes.
    for path in ["/usr/lib/x", "/private/etc/passwd", "/System/x", "/"] {
        assert!(!allows(&prof, &[], "file-write-data", path), "{path}");
        assert!(!allows(&prof, &[], "file-write-create", path), "{path}");
    }
    // Executable mapping of system libraries, not of user files.
    assert!(allows(
        &prof,
        &[],
        "file-map-executable",
        "/usr/lib/libobjc.A.dylib"
    ));
    assert!(allows(
        &prof,
        &[],
        "file-map-executable",
        "/System/Library/Frameworks/Security.framework/Security"
    ));
    assert!(!allows(
        &prof,
        &[],
        "file-map-executable",
        "/System/Volumes/Data/Users/me/evil.dylib"
    ));
    assert!(!allows(
        &prof,
        &[],
        "file-map-executable",
        "/Users/me/evil.dylib"
    ));
}

/// What the generator will do on top of the fragments: a writable root with
/// its .git carved out, reads restricted to the minimal set, network on.
#[test]
fn fragments_compose_with_generated_rules() {
    let root = "/Users/me/src/my repo";
    let params = p(&[("WRITABLE_ROOT_0", root)]);
    let generated = "(allow file-read* file-write*\n\
                       (require-all\n\
                         (subpath (param \"WRITABLE_ROOT_0\"))\n\
                         (require-not (subpath (string-append (param \"WRITABLE_ROOT_0\") \"/.git\")))))\n\
                     (allow file-read* (subpath (string-append (param \"WRITABLE_ROOT_0\") \"/.git\")))";
    let src = format!("{}\n{generated}\n", fragments());
    let prof = lint(&src, &params).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    let a = |op: &str, path: &str| allows(&prof, &params, op, path);
    assert!(a("file-write-create", &format!("{root}/new.txt")));
    assert!(a("file-read-data", &format!("{root}/.git/HEAD")));
    assert!(!a("file-write-data", &format!("{root}/.git/HEAD")));
    assert!(a("file-write-data", &format!("{root}/.gitignore")));
    assert!(!a("file-read-data", "/Users/me/src/other/x"));
    assert!(a("file-read-data", "/usr/lib/libSystem.B.dylib"));
    assert!(a("network-outbound", ""));
    // An unused or missing parameter is caught on the combined profile.
    assert!(lint(&src, &[]).is_err());
    assert!(
        lint(
            &src,
            &p(&[("WRITABLE_ROOT_0", root), ("WRITABLE_ROOT_1", "/x")])
        )
        .is_err()
    );
}
